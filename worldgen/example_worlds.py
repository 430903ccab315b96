"""Hand-written example worlds shipped with worldgen.

Each example is a function returning a :class:`WorldSpec`, written the way a user of
the Python API would write one, registered with a script (tick → actions) that shows
its mechanic working. Together they exercise joints, rules, timers, zones and players:

- ``bowling``: ten pins, ``fallen`` counts the score.
- ``dominoes``: a curving chain; one impulse topples twenty; ``every`` and ``at`` timers.
- ``billiards``: six pocket zones, ``enter`` scores and destroys; scratches cost lives.
- ``tower``: a kinematic pusher pokes a block out; ``out_of_bounds`` and ``tilted``.
- ``cradle``: hinge joints, a point joint and a weld; ball/ball collisions count clicks.
- ``push_crate``: a velocity-driven robot pushes a crate onto a target (``enter``/``leave``).
- ``air_hockey``: two players; goals destroy the puck and ``spawn`` a fresh one.

``tests/worldgen/test_examples.py`` checks and simulates every one.

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
STEEL = Material(name="steel", friction=0.1, restitution=1.0, linear_damping=0.0, angular_damping=0.0)


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


def _hold(start: int, stop: int, actions: dict) -> dict[int, dict]:
    """Script entries holding ``actions`` on every tick in ``[start, stop)``."""
    return {t: actions for t in range(start, stop)}


# ---------------------------------------------------------------- dominoes

_DOMINO = (0.02, 0.1, 0.2)  # thickness (along the chain), width, height (m)


def domino_path(n: int, spacing: float, straight: float, radius: float) -> list[tuple[float, float, float]]:
    """(x, y, heading in degrees) of ``n`` dominoes: a straight run, then a gentle left curve."""
    out = []
    for i in range(n):
        s = i * spacing
        if s <= straight:
            out.append((s, 0.0, 0.0))
        else:
            phi = (s - straight) / radius
            out.append((straight + radius * math.sin(phi), radius * (1 - math.cos(phi)), math.degrees(phi)))
    return out


@_example(script={30: {"p1": {"push": 1}}})
def dominoes() -> WorldSpec:
    """Twenty wooden dominoes along a curve; one push topples them all."""
    n = 20
    thick, width, height = _DOMINO
    path = domino_path(n, spacing=0.12, straight=0.9, radius=1.5)
    ents = [_floor(WOOD, color=(0.45, 0.5, 0.55))]
    palette = ("#c0392b", "#e67e22", "#f1c40f", "#27ae60", "#2980b9")
    for i, (x, y, yaw) in enumerate(path, 1):
        ents.append(Entity(name=f"domino_{i}", kind="domino", tags=["domino"], shape=Box(size=(thick, width, height)),
                           position=(x, y, height / 2 + 0.001), rotation=(0, 0, yaw), mass=0.25, material=WOOD,
                           appearance=Appearance(color=palette[(i - 1) % len(palette)], look="wood")))
    mid_x, mid_y = path[n // 2][0], path[n // 2][1]
    return WorldSpec(
        metadata=Metadata(title="Dominoes",
                          description="Twenty dominoes along a curve; push the first, count the fallen.",
                          prompt="a curving line of twenty wooden dominoes; push the first and watch them all fall"),
        physics=PhysicsSettings(solver_iterations=20, time_limit=30.0),  # a fallen pile solves twice as fast
        cameras=[Camera(name="main", position=(mid_x - 1.2, mid_y - 2.2, 1.4), target=(mid_x, mid_y, 0.1), fov_deg=50),
                 Camera(name="top", mode="top_down", position=(mid_x, mid_y, 4.0), target=(mid_x, mid_y, 0.0))],
        entities=ents,
        players=[Player(name="p1", controls=[
            Control(name="push", type="button", target="domino_1", apply="impulse", direction=(1, 0, 0),
                    strength=0.12, keys=["space"]),
        ])],
        variables={"toppled": Variable(value=0, min=0, max=n)},
        rules=[
            Rule(name="domino_falls", on={"event": "fallen", "tag": "domino", "angle": 45.0},
                 do=[{"do": "add", "var": "toppled", "value": 1}, {"do": "sound", "sound": "clack", "volume": 0.5}]),
            Rule(name="progress", on={"event": "timer", "every": 1.0}, when=f"toppled > 0 and toppled < {n}",
                 do=[{"do": "message", "text": "Still falling..."}]),
            Rule(name="halfway", on={"event": "variable", "name": "toppled"}, when=f"toppled >= {n // 2}", once=True,
                 do=[{"do": "message", "text": "Halfway there!"}]),
            Rule(name="too_slow", on={"event": "timer", "at": 25.0}, when=f"toppled < {n}",
                 do=[{"do": "message", "text": "The chain stopped short"}, {"do": "end", "outcome": "lose"}]),
        ],
        goals=[Goal(name="all_down", when=f"toppled >= {n}", outcome="win")],
        style=Style(name="default", prompt="bright lacquered wooden dominoes on a grey studio floor"),
    )


# ---------------------------------------------------------------- billiards

_BALL_R = 0.0286  # m, a standard pool ball
_BALL_COLORS = ("#f2c500", "#1f4fbf", "#d42a2a", "#5b2a86", "#f07f1a", "#1c7a3c", "#7a1f1f", "#111111",
                "#f2c500", "#1f4fbf", "#d42a2a", "#5b2a86", "#f07f1a", "#1c7a3c", "#7a1f1f")


@_example(script={20: {"p1": {"shoot": 1, "aim": 0.22}}})
def billiards() -> WorldSpec:
    """A pool table with six pockets and fifteen racked balls; break with the cue ball."""
    length, width, top = 2.24, 1.12, 0.78  # playing surface (m) and its height
    cw, rw, ch = 0.05, 0.08, 0.045  # cushion width, rail width, cushion height
    corner_gap, side_gap = 0.09, 0.065
    r = _BALL_R
    ball_mat = Material(name="phenolic", friction=0.2, restitution=0.95, rolling_friction=0.004,
                        linear_damping=0.15, angular_damping=0.15)
    cushion_mat = RUBBER.model_copy(update={"name": "cushion", "friction": 0.3, "restitution": 0.8})
    felt = (0.05, 0.42, 0.2)
    wood = (0.35, 0.2, 0.1)
    L2, W2 = length / 2, width / 2
    ents = [
        _floor(WOOD, color=(0.4, 0.3, 0.25)),
        Entity(name="bed", kind="table", tags=["table"], shape=Box(size=(length + 2 * (cw + rw), width + 2 * (cw + rw),
               0.1)), position=(0, 0, top - 0.05), static=True, material=FELT,
               appearance=Appearance(color=felt, look="felt")),
    ]
    zc = top + ch / 2
    run = L2 - corner_gap - side_gap  # length of a long cushion segment
    for sx in (-1, 1):
        for sy in (-1, 1):
            cx = sx * (side_gap + run / 2)
            ents.append(_wall(f"cushion_{'ns'[sy > 0]}{'wd'[sx > 0]}", (cx, sy * (W2 + cw / 2), zc), (run, cw, ch),
                              color=felt, material=cushion_mat, tags=("cushion",)))
        ents.append(_wall(f"cushion_{'wd'[sx > 0]}end", (sx * (L2 + cw / 2), 0, zc), (cw, width - 2 * corner_gap, ch),
                          color=felt, material=cushion_mat, tags=("cushion",)))
    ro = cw + rw / 2
    ents += [
        _wall("rail_north", (0, W2 + ro, top + 0.04), (length + 2 * (cw + rw), rw, 0.08), color=wood),
        _wall("rail_south", (0, -W2 - ro, top + 0.04), (length + 2 * (cw + rw), rw, 0.08), color=wood),
        _wall("rail_east", (L2 + ro, 0, top + 0.04), (rw, width + 2 * cw, 0.08), color=wood),
        _wall("rail_west", (-L2 - ro, 0, top + 0.04), (rw, width + 2 * cw, 0.08), color=wood),
    ]
    pockets = {"corner_sw": (-L2 - 0.02, -W2 - 0.02), "corner_se": (L2 + 0.02, -W2 - 0.02),
               "corner_nw": (-L2 - 0.02, W2 + 0.02), "corner_ne": (L2 + 0.02, W2 + 0.02),
               "side_s": (0.0, -W2 - 0.03), "side_n": (0.0, W2 + 0.03)}
    for name, (x, y) in pockets.items():
        ents.append(Entity(name=name, kind="pocket", tags=["pocket"], shape=Cylinder(radius=0.075, height=0.12),
                           position=(x, y, top + 0.03), sensor=True, static=True,
                           appearance=Appearance(color=(0.02, 0.02, 0.02))))
    z = top + r + 0.0005
    ents.append(Entity(name="cue", kind="ball", tags=["ball", "cue"], shape=Sphere(radius=r), position=(-L2 / 2, 0, z),
                       mass=0.17, material=ball_mat, appearance=Appearance(color="#f5f3ea", look="plastic")))
    d = 2 * r + 0.0006  # centre spacing in the rack
    n = 0
    for row in range(5):
        for k in range(row + 1):
            n += 1
            ents.append(Entity(name=f"ball_{n}", kind="ball", tags=["ball", "object"], shape=Sphere(radius=r),
                               position=(L2 / 2 + row * d * math.sqrt(3) / 2, (k - row / 2) * d, z), mass=0.17,
                               material=ball_mat, appearance=Appearance(color=_BALL_COLORS[n - 1], look="plastic")))
    rules = []
    for name in pockets:
        rules += [
            Rule(name=f"pot_{name}", on={"event": "enter", "zone": name, "tag": "object"},
                 do=[{"do": "add", "var": "score", "value": 1}, {"do": "destroy", "target": "$subject"},
                     {"do": "sound", "sound": "pocket"}]),
            Rule(name=f"scratch_{name}", on={"event": "enter", "zone": name, "tag": "cue"},
                 do=[{"do": "message", "text": "scratch"}, {"do": "add", "var": "lives", "value": -1}]),
        ]
    rules += [
        Rule(name="count_shot", on={"event": "control", "player": "p1", "control": "shoot"},
             do=[{"do": "add", "var": "shots", "value": 1}]),
        Rule(name="click", on={"event": "collision", "a": "cue", "b": "object", "min_impulse": 0.02},
             do=[{"do": "sound", "sound": "click"}]),
        Rule(name="off_table", on={"event": "out_of_bounds", "tag": "object"},
             do=[{"do": "message", "text": "ball off the table"}, {"do": "destroy", "target": "$subject"}]),
    ]
    return WorldSpec(
        metadata=Metadata(title="Billiards", description="Six pockets, fifteen balls; pot them without scratching.",
                          prompt="a green felt pool table with six pockets and fifteen racked balls; "
                                 "pot balls to score, sinking the cue ball costs a life"),
        physics=PhysicsSettings(substeps=8, time_limit=120.0, bounds=((-3, -2, top - 0.3), (3, 2, 4))),
        cameras=[Camera(name="main", position=(-2.2, -1.4, 2.1), target=(0.2, 0, top), fov_deg=45),
                 Camera(name="top", mode="top_down", position=(0, 0, 3.2), target=(0, 0, top)),
                 Camera(name="cue_cam", mode="follow", follow="cue", position=(-0.8, 0, 0.35), target=(0, 0, 0))],
        entities=ents,
        players=[Player(name="p1", controls=[
            Control(name="shoot", type="button", target="cue", apply="impulse", direction=(1, 0, 0), strength=1.3,
                    keys=["space"]),
            Control(name="aim", type="axis", range=(-1, 1), target="cue", apply="velocity", direction=(0, 1, 0),
                    strength=0.6, keys=["left", "right"]),
        ])],
        variables={"score": Variable(value=0, min=0, max=15), "lives": Variable(value=3, min=0),
                   "shots": Variable(value=0)},
        rules=rules,
        goals=[Goal(name="cleared", when="score >= 15", outcome="win"),
               Goal(name="out_of_lives", when="lives <= 0", outcome="lose")],
        style=Style(name="default", prompt="a pool hall, green felt under a low hanging lamp"),
    )


# ---------------------------------------------------------------- tower

_BLOCK = (0.3, 0.1, 0.06)  # long, wide, high (m): a Jenga block at four times scale


@_example(script={**_hold(30, 180, {"p1": {"push": 1}}), **_hold(180, 300, {"p1": {"push": -1}})})
def tower() -> WorldSpec:
    """A Jenga tower on a small table; a pusher pokes one block out; don't topple the top."""
    long_, wide, high = _BLOCK
    layers, top_z = 8, 0.75
    table = 0.5  # table top side (m): a poked block falls off its edge
    gap = 0.002
    ents = [
        _floor(STONE, color=(0.5, 0.5, 0.5)),
        Entity(name="table", kind="table", tags=["table"], shape=Box(size=(table, table, 0.05)),
               position=(0, 0, top_z - 0.025), static=True, material=WOOD,
               appearance=Appearance(color=(0.35, 0.22, 0.12), look="wood")),
        Entity(name="table_leg", kind="leg", shape=Cylinder(radius=0.05, height=top_z - 0.05),
               position=(0, 0, (top_z - 0.05) / 2), static=True, material=WOOD,
               appearance=Appearance(color=(0.3, 0.2, 0.1), look="wood")),
    ]
    block_mat = WOOD.model_copy(update={"name": "pine", "friction": 0.5, "restitution": 0.1})
    for layer in range(layers):
        z = top_z + high / 2 + layer * high  # exactly stacked: a gap would make the stack settle with a clatter
        for k in range(3):
            off = (k - 1) * (wide + gap)
            along_x = layer % 2 == 0
            name = "top" if layer == layers - 1 and k == 1 else f"block_{layer}_{k}"
            ents.append(Entity(name=name, kind="block", tags=["block"],
                               shape=Box(size=(long_, wide, high) if along_x else (wide, long_, high)),
                               position=(0, off, z) if along_x else (off, 0, z), mass=0.6, material=block_mat,
                               appearance=Appearance(color=(0.85, 0.7, 0.48) if (layer + k) % 2 else (0.8, 0.64, 0.42),
                                                     look="wood")))
    poke_z = top_z + high / 2 + 2 * high  # the middle block of layer 2 runs along x
    ents.append(Entity(name="pusher", kind="pusher", tags=["pusher"], shape=Box(size=(0.04, 0.04, 0.03)),
                       position=(-long_ / 2 - 0.04, 0, poke_z), static=True, material=METAL,
                       appearance=Appearance(color=(0.8, 0.1, 0.1), look="metal")))
    return WorldSpec(
        metadata=Metadata(title="Block tower", description="A Jenga tower: poke blocks out without toppling the top.",
                          prompt="a wooden block tower of crossed layers on a small table; push a block out "
                                 "without letting the top fall"),
        # 20 solver iterations keep a 24-block stack steady at twice the speed of the default 50
        physics=PhysicsSettings(solver_iterations=20, time_limit=60.0, bounds=((-3, -3, top_z - 0.2), (3, 3, 5))),
        cameras=[Camera(name="main", position=(1.4, -1.6, 1.5), target=(0, 0, 0.95), fov_deg=45),
                 Camera(name="side", mode="side", position=(0, -2.0, 1.0), target=(0, 0, 0.95))],
        entities=ents,
        players=[Player(name="p1", controls=[
            Control(name="push", type="axis", range=(-1, 1), target="pusher", apply="move", direction=(1, 0, 0),
                    strength=0.2, keys=["s", "w"]),
            Control(name="slide", type="axis", range=(-1, 1), target="pusher", apply="move", direction=(0, 1, 0),
                    strength=0.2, keys=["a", "d"]),
            Control(name="lift", type="axis", range=(-1, 1), target="pusher", apply="move", direction=(0, 0, 1),
                    strength=0.1, keys=["down", "up"]),
        ])],
        variables={"dropped": Variable(value=0, min=0)},
        rules=[
            Rule(name="block_drops", on={"event": "out_of_bounds", "tag": "block"},
                 do=[{"do": "add", "var": "dropped", "value": 1}, {"do": "sound", "sound": "thud"},
                     {"do": "message", "text": "A block hit the floor"}]),
            Rule(name="wobble", on={"event": "tilted", "tag": "block", "angle": 20.0}, cooldown=1.0,
                 do=[{"do": "message", "text": "A block tips!"}]),
            Rule(name="poke_touch", on={"event": "collision", "a": "pusher", "b": "block", "min_impulse": 0.0},
                 cooldown=2.0, do=[{"do": "sound", "sound": "tap", "volume": 0.3}]),
        ],
        goals=[Goal(name="toppled", when=f"z(top) < {top_z + 0.1}", outcome="lose")],
        style=Style(name="default", prompt="a wooden block tower on a cafe table, soft daylight"),
    )


# ---------------------------------------------------------------- Newton's cradle

@_example(script={30: {"p1": {"swing": 1}}, 60: {"p1": {"nudge": 1}}})
def cradle() -> WorldSpec:
    """Newton's cradle: five steel balls on hinges click in turn; a free pendulum swings beside it."""
    n, r, length, pivot_z = 5, 0.05, 0.6, 1.2  # balls, radius, string length, pivot height (m)
    chrome = Appearance(color=(0.8, 0.82, 0.85), look="metal")
    frame = (0.25, 0.25, 0.28)
    half = 0.65  # half the frame's span along x: wide enough for the end balls to swing clear
    ents = [
        _floor(WOOD, color=(0.5, 0.4, 0.3)),
        Entity(name="base", kind="base", shape=Box(size=(2 * half + 0.1, 0.5, 0.04)), position=(0, 0, 0.02),
               static=True, material=WOOD, appearance=Appearance(color=(0.15, 0.12, 0.1), look="wood")),
        Entity(name="bar", kind="bar", shape=Box(size=(2 * half, 0.04, 0.04)), position=(0, 0, pivot_z + 0.03),
               static=True, material=METAL, appearance=Appearance(color=frame, look="metal")),
    ]
    for sx in (-1, 1):
        ents.append(Entity(name=f"post_{'lr'[sx > 0]}", kind="post", shape=Box(size=(0.04, 0.04, pivot_z + 0.01)),
                           position=(sx * half, 0, 0.04 + (pivot_z + 0.01) / 2), static=True, material=METAL,
                           appearance=Appearance(color=frame, look="metal")))
    joints = []
    spacing = 2 * r + 0.002  # 2 mm apart: each knock passes ball to ball instead of all at once
    for i in range(n):
        x = (i - (n - 1) / 2) * spacing
        ents.append(Entity(name=f"ball_{i + 1}", kind="ball", tags=["ball"], shape=Sphere(radius=r),
                           position=(x, 0, pivot_z - length), mass=0.5, material=STEEL, appearance=chrome))
        joints.append(Joint(name=f"string_{i + 1}", type="hinge", parent="bar", child=f"ball_{i + 1}",
                            parent_anchor=(x, 0, -0.03), child_anchor=(0, 0, length), axis=(0, 1, 0)))
    # the free pendulum: a rod on a ball joint under a hook, with a bob welded to its end
    hook = (0.0, 0.9, 1.3)
    rod_len = 0.5
    ents += [
        Entity(name="gallows", kind="post", shape=Box(size=(0.05, 0.05, hook[2] + 0.05)),
               position=(0.45, hook[1], (hook[2] + 0.05) / 2), static=True, material=WOOD,
               appearance=Appearance(color=(0.3, 0.2, 0.12), look="wood")),
        Entity(name="hook", kind="beam", shape=Box(size=(0.5, 0.05, 0.05)), position=(0.2, hook[1], hook[2] + 0.025),
               static=True, material=WOOD, appearance=Appearance(color=(0.3, 0.2, 0.12), look="wood")),
        Entity(name="rod", kind="rod", tags=["pendulum"], shape=Cylinder(radius=0.01, height=rod_len),
               position=(hook[0], hook[1], hook[2] - 0.01 - rod_len / 2), mass=0.1, material=METAL,
               appearance=Appearance(color=frame, look="metal")),
        Entity(name="bob", kind="bob", tags=["pendulum"], shape=Sphere(radius=0.08),
               position=(hook[0], hook[1], hook[2] - 0.01 - rod_len - 0.08), mass=1.0, material=METAL,
               appearance=Appearance(color="#c9a227", look="brass")),
    ]
    joints += [
        Joint(name="pivot", type="point", parent="hook", child="rod", parent_anchor=(hook[0] - 0.2, 0, -0.025),
              child_anchor=(0, 0, rod_len / 2 + 0.01)),
        Joint(name="weld", type="fixed", parent="rod", child="bob", parent_anchor=(0, 0, -rod_len / 2),
              child_anchor=(0, 0, 0.08)),
    ]
    return WorldSpec(
        metadata=Metadata(title="Newton's cradle", description="Five steel balls on hinges pass a knock along the row.",
                          prompt="a Newton's cradle of five steel balls on a desk, with a brass pendulum beside it"),
        physics=PhysicsSettings(substeps=8, time_limit=60.0),
        cameras=[Camera(name="main", position=(0.0, -2.2, 1.0), target=(0, 0.2, 0.75), fov_deg=45),
                 Camera(name="close", position=(0.6, -0.9, 0.8), target=(0, 0, 0.6), fov_deg=40)],
        entities=ents,
        joints=joints,
        players=[Player(name="p1", controls=[
            Control(name="swing", type="button", target="ball_1", apply="impulse", direction=(-1, 0, 0), strength=0.5,
                    keys=["space"]),
            Control(name="nudge", type="button", target="bob", apply="impulse", direction=(0.6, 1, 0), strength=1.0,
                    keys=["n"]),
        ])],
        variables={"clicks": Variable(value=0, min=0), "time_left": Variable(value=45, min=0, rate=-1)},
        rules=[
            Rule(name="click", on={"event": "collision", "a": "ball", "b": "ball", "min_impulse": 0.05},
                 do=[{"do": "add", "var": "clicks", "value": 1}, {"do": "sound", "sound": "click", "volume": 0.6}]),
            Rule(name="first_click", on={"event": "variable", "name": "clicks"}, once=True,
                 do=[{"do": "message", "text": "Click!"}]),
            Rule(name="every_ten", on={"event": "timer", "every": 10.0},
                 do=[{"do": "message", "text": "Still swinging"}, {"do": "sound", "sound": "tick"}]),
        ],
        goals=[Goal(name="time_up", when="time_left <= 0", outcome="done")],
        style=Style(name="default", prompt="a chrome Newton's cradle on a dark walnut desk, studio light"),
    )


# ---------------------------------------------------------------- push the crate


@_example(script={**_hold(20, 51, {"p1": {"move_y": 1}}), **_hold(70, 420, {"p1": {"move_x": 1}})})
def push_crate() -> WorldSpec:
    """A robot pushes a crate across a walled yard onto a target pad."""
    half = 3.0  # the yard is 6 m × 6 m
    ents = [
        _floor(STONE, color=(0.55, 0.55, 0.5)),
        _wall("wall_north", (0, half + 0.1, 0.3), (2 * half + 0.4, 0.2, 0.6)),
        _wall("wall_south", (0, -half - 0.1, 0.3), (2 * half + 0.4, 0.2, 0.6)),
        _wall("wall_east", (half + 0.1, 0, 0.3), (0.2, 2 * half, 0.6)),
        _wall("wall_west", (-half - 0.1, 0, 0.3), (0.2, 2 * half, 0.6)),
        Entity(name="robot", kind="robot", tags=["robot"], shape=Box(size=(0.4, 0.4, 0.3)),
               position=(-2.0, -0.6, 0.151), mass=8.0,
               material=RUBBER.model_copy(update={"restitution": 0.1, "angular_damping": 0.9}),
               appearance=Appearance(color="#2e86de", look="plastic")),
        Entity(name="crate", kind="crate", tags=["crate"], shape=Box(size=(0.5, 0.5, 0.5)), position=(-0.8, 0.0, 0.251),
               mass=3.0, material=WOOD, appearance=Appearance(color="#b9770e", look="wood")),
        Entity(name="target", kind="pad", tags=["target"], shape=Box(size=(1.0, 1.0, 0.6)), position=(1.8, 0.0, 0.3),
               sensor=True, static=True, appearance=Appearance(color=(0.2, 0.8, 0.3), look="glow")),
        Entity(name="start_pad", kind="pad", tags=["pad"], shape=Box(size=(0.8, 0.8, 0.6)), position=(-0.8, 0.0, 0.3),
               sensor=True, static=True, appearance=Appearance(color=(0.6, 0.6, 0.6), look="paint")),
        Entity(name="pillar", kind="pillar", tags=["obstacle"], shape=Cylinder(radius=0.25, height=1.0),
               position=(0.5, 1.6, 0.5), static=True, material=STONE, appearance=Appearance(color=(0.4, 0.4, 0.45))),
    ]
    return WorldSpec(
        metadata=Metadata(title="Push the crate", description="Drive the robot; push the crate onto the green pad.",
                          prompt="a robot pushes a crate onto a target in a walled yard"),
        physics=PhysicsSettings(time_limit=60.0),
        cameras=[Camera(name="main", position=(-1.0, -6.0, 5.0), target=(0, 0, 0), fov_deg=50),
                 Camera(name="chase", mode="follow", follow="robot", position=(-2.0, 0.0, 1.5), target=(0, 0, 0)),
                 Camera(name="top", mode="top_down", position=(0, 0, 9.0), target=(0, 0, 0))],
        entities=ents,
        players=[Player(name="p1", controls=[
            Control(name="move_x", type="axis", range=(-1, 1), target="robot", apply="velocity", direction=(1, 0, 0),
                    strength=1.0, keys=["a", "d"]),
            Control(name="move_y", type="axis", range=(-1, 1), target="robot", apply="velocity", direction=(0, 1, 0),
                    strength=1.0, keys=["s", "w"]),
        ])],
        variables={"score": Variable(value=0, min=0), "bumps": Variable(value=0, min=0)},
        rules=[
            Rule(name="delivered", on={"event": "enter", "zone": "target", "tag": "crate"}, once=True,
                 do=[{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Crate delivered!"},
                     {"do": "set_property", "target": "target", "property": "color", "value": "#f1c40f"},
                     {"do": "sound", "sound": "fanfare"}, {"do": "end", "outcome": "win"}]),
            Rule(name="crate_moves", on={"event": "leave", "zone": "start_pad", "tag": "crate"}, once=True,
                 do=[{"do": "message", "text": "The crate is on its way"}]),
            Rule(name="bump", on={"event": "collision", "a": "robot", "b": "wall", "min_impulse": 1.0}, cooldown=0.5,
                 do=[{"do": "add", "var": "bumps", "value": 1}, {"do": "sound", "sound": "bonk"}]),
            Rule(name="hurry", on={"event": "timer", "at": 45.0}, do=[{"do": "message", "text": "15 seconds left"}]),
        ],
        goals=[Goal(name="out_of_time", when="time >= 59.9 and score < 1", outcome="lose")],
        style=Style(name="default", prompt="a sunny concrete yard with a small blue robot and a wooden crate"),
    )


# ---------------------------------------------------------------- air hockey (two players)


@_example(script={**_hold(0, 8, {"p2": {"move_y": 1}}),  # p2 drifts off line ...
                  **_hold(30, 70, {"p1": {"move_x": 1}}),  # ... so p1's drive goes in
                  **_hold(70, 95, {"p1": {"move_x": -1}}),
                  **_hold(110, 130, {"p2": {"move_y": -1}}),  # p2 lines up on the serve ...
                  **_hold(182, 222, {"p2": {"move_x": -1}})})  # ... and drives it home
def air_hockey() -> WorldSpec:
    """Two players, two paddles, one puck on ice; first to three goals wins."""
    top = 0.8  # table height (m)
    L2, W2, goal = 1.0, 0.5, 0.15  # half length, half width, half goal mouth
    boards = RUBBER.model_copy(update={"name": "boards", "friction": 0.1, "restitution": 0.9})
    white = (0.92, 0.94, 0.97)
    ents = [
        _floor(WOOD, color=(0.3, 0.25, 0.2)),
        Entity(name="table", kind="table", tags=["table"], shape=Box(size=(2 * L2 + 0.6, 2 * W2 + 0.2, 0.1)),
               position=(0, 0, top - 0.05), static=True, material=ICE, appearance=Appearance(color=white, look="ice")),
        _wall("board_north", (0, W2 + 0.05, top + 0.03), (2 * L2 + 0.2, 0.1, 0.06), color="#c0392b", material=boards),
        _wall("board_south", (0, -W2 - 0.05, top + 0.03), (2 * L2 + 0.2, 0.1, 0.06), color="#c0392b", material=boards),
    ]
    side = W2 - goal  # length of an end board on each side of the goal mouth
    for sx, end in ((-1, "west"), (1, "east")):
        for sy in (-1, 1):
            ents.append(_wall(f"board_{end}_{'sn'[sy > 0]}", (sx * (L2 + 0.05), sy * (goal + side / 2), top + 0.03),
                              (0.1, side, 0.06), color="#c0392b", material=boards))
        ents += [
            _wall(f"net_{end}", (sx * (L2 + 0.27), 0, top + 0.03), (0.04, 2 * goal + 0.12, 0.06), color=(0.2, 0.2, 0.2),
                  material=boards),
            _wall(f"net_{end}_n", (sx * (L2 + 0.17), goal + 0.04, top + 0.03), (0.2, 0.04, 0.06), color=(0.2, 0.2, 0.2),
                  material=boards),
            _wall(f"net_{end}_s", (sx * (L2 + 0.17), -goal - 0.04, top + 0.03), (0.2, 0.04, 0.06),
                  color=(0.2, 0.2, 0.2), material=boards),
        ]
    ents += [
        Entity(name="goal_p1", kind="goal", tags=["goal"], shape=Box(size=(0.16, 2 * goal, 0.1)),
               position=(-L2 - 0.13, 0, top + 0.05), sensor=True, static=True,
               appearance=Appearance(color="#2e86de", visible=False)),
        Entity(name="goal_p2", kind="goal", tags=["goal"], shape=Box(size=(0.16, 2 * goal, 0.1)),
               position=(L2 + 0.13, 0, top + 0.05), sensor=True, static=True,
               appearance=Appearance(color="#e74c3c", visible=False)),
    ]
    paddle_mat = Material(name="plastic", friction=0.3, restitution=0.6, linear_damping=4.0, angular_damping=4.0)
    for name, x, color in (("paddle_p1", -0.7, "#2e86de"), ("paddle_p2", 0.7, "#e74c3c")):
        ents.append(Entity(name=name, kind="paddle", tags=["paddle"], shape=Cylinder(radius=0.07, height=0.04),
                           position=(x, 0, top + 0.0201), mass=0.5, material=paddle_mat,
                           appearance=Appearance(color=color, look="plastic")))
    puck_mat = Material(name="puck", friction=0.02, restitution=0.9, linear_damping=0.05, angular_damping=0.5)

    def puck(name: str, velocity=(0.0, 0.0, 0.0)) -> Entity:
        return Entity(name=name, kind="puck", tags=["puck"], shape=Cylinder(radius=0.05, height=0.015),
                      position=(0, 0, top + 0.0076), velocity=velocity, mass=0.1, material=puck_mat,
                      appearance=Appearance(color=(0.1, 0.1, 0.1), look="plastic"))

    ents.append(puck("puck"))

    def controls(keys_x, keys_y, paddle):
        return [Control(name="move_x", type="axis", range=(-1, 1), target=paddle, apply="velocity", direction=(1, 0, 0),
                        strength=1.5, keys=keys_x),
                Control(name="move_y", type="axis", range=(-1, 1), target=paddle, apply="velocity", direction=(0, 1, 0),
                        strength=1.5, keys=keys_y)]

    def scored(goal_zone: str, scorer: str, serve: str) -> Rule:
        return Rule(name=f"{scorer}_scores", on={"event": "enter", "zone": goal_zone, "tag": "puck"},
                    do=[{"do": "add", "var": f"{scorer}_score", "value": 1},
                        {"do": "message", "text": f"Goal for {scorer}!"}, {"do": "sound", "sound": "horn"},
                        {"do": "destroy", "target": "$subject"}, {"do": "spawn", "template": serve}])

    return WorldSpec(
        metadata=Metadata(title="Air hockey", description="Two players, one puck on ice; first to three goals wins.",
                          prompt="an air hockey table for two players with a puck on ice; first to three goals wins"),
        physics=PhysicsSettings(time_limit=180.0, bounds=((-2, -1.5, top - 0.3), (2, 1.5, top + 2))),
        cameras=[Camera(name="main", position=(0, -1.9, top + 1.4), target=(0, 0, top), fov_deg=50),
                 Camera(name="top", mode="top_down", position=(0, 0, top + 2.6), target=(0, 0, top))],
        entities=ents,
        templates=[puck("serve_p1", velocity=(-0.4, 0.15, 0)), puck("serve_p2", velocity=(0.4, -0.15, 0))],
        players=[Player(name="p1", controls=controls(["a", "d"], ["s", "w"], "paddle_p1")),
                 Player(name="p2", controls=controls(["left", "right"], ["down", "up"], "paddle_p2"))],
        variables={"p1_score": Variable(value=0, min=0, max=3), "p2_score": Variable(value=0, min=0, max=3)},
        rules=[
            scored("goal_p2", "p1", serve="serve_p2"),  # the player who conceded gets the puck
            scored("goal_p1", "p2", serve="serve_p1"),
            Rule(name="off_table", on={"event": "out_of_bounds", "tag": "puck"},
                 do=[{"do": "message", "text": "Puck off the table"}, {"do": "destroy", "target": "$subject"},
                     {"do": "spawn", "template": "serve_p1", "position": (0, 0, top + 0.0076)}]),
            Rule(name="hit", on={"event": "collision", "a": "paddle", "b": "puck", "min_impulse": 0.02},
                 do=[{"do": "sound", "sound": "clack", "volume": 0.7}]),
            Rule(name="faceoff", on={"event": "start"}, do=[{"do": "message", "text": "First to 3!"}]),
        ],
        goals=[Goal(name="p1_wins", when="p1_score >= 3", outcome="win"),
               Goal(name="p2_wins", when="p2_score >= 3", outcome="lose")],
        style=Style(name="default", prompt="a neon arcade air hockey table, glossy white surface"),
    )
