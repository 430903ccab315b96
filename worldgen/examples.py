"""Hand-written example worlds shipped with worldgen.

Each example is a function returning a :class:`WorldSpec`, written the way a user of
the Python API would write one. Together they exercise joints, rules, timers, zones
and players; ``tests/worldgen/test_examples.py`` checks and simulates every one.

>>> import worldgen
>>> "bowling" in worldgen.examples()
True
"""

from __future__ import annotations

import math
from collections.abc import Callable

from worldgen.spec import (
    Appearance, Box, Camera, Capsule, Control, Cylinder, Entity, Goal, Joint, Material, Metadata, PhysicsSettings,
    Plane, Player, Rule, Sphere, Style, Variable, WorldSpec,
)

_REGISTRY: dict[str, Callable[[], WorldSpec]] = {}
_SCRIPTS: dict[str, dict[int, dict]] = {}

WOOD = Material(name="wood", friction=0.4, restitution=0.4)
RUBBER = Material(name="rubber", friction=0.9, restitution=0.7, rolling_friction=0.001)
FELT = Material(name="felt", friction=0.3, restitution=0.5)
STONE = Material(name="stone", friction=0.7, restitution=0.05)
METAL = Material(name="metal", friction=0.2, restitution=0.9, linear_damping=0.0, angular_damping=0.0)
ICE = Material(name="ice", friction=0.02, restitution=0.1, linear_damping=0.01)


def _example(script: dict[int, dict] | None = None):
    """Registers an example; ``script`` maps tick → actions that show its mechanic working."""

    def register(fn: Callable[[], WorldSpec]) -> Callable[[], WorldSpec]:
        _REGISTRY[fn.__name__] = fn
        _SCRIPTS[fn.__name__] = dict(script or {})
        return fn

    return register


def examples() -> list[str]:
    """Names of the shipped example worlds."""
    return sorted(_REGISTRY)


def example_spec(name: str) -> WorldSpec:
    """The :class:`WorldSpec` of example ``name``."""
    if name not in _REGISTRY:
        raise KeyError(f"no example {name!r}; examples: {', '.join(examples())}")
    return _REGISTRY[name]()


def example_script(name: str) -> dict[int, dict]:
    """Scripted actions (tick → ``{player: {control: value}}``) that demonstrate example ``name``."""
    example_spec(name)
    return dict(_SCRIPTS[name])


def example(name: str, seed: int | None = None):
    """A :class:`~worldgen.World` built from example ``name``."""
    from worldgen.world import World

    return World(example_spec(name), seed)


def _floor(material: Material = WOOD, color=(0.55, 0.45, 0.35)) -> Entity:
    return Entity(name="floor", kind="floor", tags=["ground"], shape=Plane(), static=True, material=material,
                  appearance=Appearance(color=color, look=material.name))


def _wall(name: str, center, size, color=(0.35, 0.3, 0.3), material: Material = WOOD, tags=("wall",)) -> Entity:
    return Entity(name=name, kind="wall", tags=list(tags), shape=Box(size=size), position=center, static=True,
                  material=material, appearance=Appearance(color=color, look=material.name))


# ---------------------------------------------------------------- bowling


@_example(script={0: {"p1": {"throw": 1, "aim": 0.1}}})
def bowling() -> WorldSpec:
    """Ten pins at the end of a lane; the score counts fallen pins. Aim, then throw."""
    lane_len, pin_x = 12.0, 11.0
    ents = [
        _floor(),
        _wall("gutter_left", (lane_len / 2, 0.62, 0.1), (lane_len + 2, 0.1, 0.2)),
        _wall("gutter_right", (lane_len / 2, -0.62, 0.1), (lane_len + 2, 0.1, 0.2)),
        _wall("kickback_left", (pin_x, 0.75, 0.4), (2.0, 0.1, 0.8)),
        _wall("kickback_right", (pin_x, -0.75, 0.4), (2.0, 0.1, 0.8)),
        _wall("cushion", (lane_len + 1.0, 0.0, 0.5), (0.2, 1.6, 1.0), color=(0.1, 0.1, 0.1)),
        Entity(name="pit", kind="pit", tags=["pit"], shape=Box(size=(1.0, 1.4, 1.0)), position=(lane_len + 0.4, 0, 0.5),
               sensor=True, static=True, appearance=Appearance(color=(0.1, 0.1, 0.1), visible=False)),
        Entity(name="ball", kind="ball", tags=["ball"], shape=Sphere(radius=0.108), position=(0.0, 0.0, 0.108),
               mass=7.0, material=RUBBER.model_copy(update={"restitution": 0.2}),
               appearance=Appearance(color="#1f3fbf", look="plastic")),
    ]
    spacing = 0.3048  # 12 inches between pin centres
    n = 0
    for row in range(4):
        for k in range(row + 1):
            n += 1
            y = (k - row / 2) * spacing
            x = pin_x + row * spacing * math.sqrt(3) / 2
            ents.append(Entity(name=f"pin_{n}", kind="pin", tags=["pin"], shape=Cylinder(radius=0.06, height=0.38),
                               position=(x, y, 0.19), mass=1.5, material=WOOD,
                               appearance=Appearance(color="#f4f1ea", look="wood")))
    for i in range(3):  # spare balls on the return rack
        ents.append(Entity(name=f"spare_ball_{i}", kind="ball", tags=["spare"], shape=Sphere(radius=0.108),
                           position=(-0.6 - 0.25 * i, 1.2, 0.108), mass=7.0, material=RUBBER,
                           appearance=Appearance(color=("#bf1f1f", "#1fbf3f", "#bfbf1f")[i], look="plastic")))
    ents += [_wall("rack_front", (-0.85, 1.05, 0.05), (1.0, 0.05, 0.1)),
             _wall("rack_back", (-0.85, 1.35, 0.05), (1.0, 0.05, 0.1))]
    return WorldSpec(
        metadata=Metadata(title="Bowling", description="Ten pins; the score counts fallen pins.",
                          prompt="a bowling alley with ten pins; the score counts fallen pins"),
        physics=PhysicsSettings(time_limit=20.0),
        cameras=[Camera(name="main", position=(-2.0, 0.0, 1.5), target=(pin_x, 0.0, 0.2), fov_deg=40),
                 Camera(name="pins", mode="follow", follow="ball", position=(-1.5, 0.0, 0.8), target=(0, 0, 0))],
        entities=ents,
        players=[Player(name="p1", controls=[
            Control(name="throw", type="button", target="ball", apply="impulse", direction=(1, 0, 0), strength=70.0,
                    keys=["space"]),
            Control(name="aim", type="axis", range=(-1, 1), target="ball", apply="velocity", direction=(0, 1, 0),
                    strength=0.5, keys=["left", "right"]),
        ])],
        variables={"score": Variable(value=0, min=0, max=10), "throws": Variable(value=0)},
        rules=[
            Rule(name="pin_falls", on={"event": "fallen", "tag": "pin"},
                 do=[{"do": "add", "var": "score", "value": 1}, {"do": "sound", "sound": "pin_down"}]),
            Rule(name="count_throw", on={"event": "control", "player": "p1", "control": "throw"},
                 do=[{"do": "add", "var": "throws", "value": 1}]),
            Rule(name="strike", on={"event": "variable", "name": "score"}, when="score >= 10 and throws <= 1",
                 once=True, do=[{"do": "message", "text": "Strike!"}, {"do": "sound", "sound": "fanfare"}]),
            Rule(name="ball_in_pit", on={"event": "enter", "zone": "pit", "tag": "ball"},
                 do=[{"do": "message", "text": "Ball in the pit"}]),
            Rule(name="last_call", on={"event": "timer", "at": 15.0},
                 do=[{"do": "message", "text": "5 seconds left"}]),
        ],
        goals=[Goal(name="all_down", when="count(tag=pin, fallen) == 10", outcome="win")],
        style=Style(name="default", prompt="a polished wooden bowling lane under warm lights"),
    )
