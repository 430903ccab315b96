"""The symbolic game state: ``WorldSpec``, one versioned, JSON-serialisable schema.

A world is plain data. Entities separate *shape + pose* (what collides), *material*
(how it moves when it does) and *appearance* (how it looks). Players own named controls
bound to keys. Rules are data — ``on`` an event, ``when`` a condition written in the
expression language of :mod:`worldgen.expr`, ``do`` a list of effects from a fixed
menu — never code. Goals end an episode.

Every model forbids unknown fields and non-finite numbers; the cross-references
(rule → tag, control → entity, joint → entity, expression → variable) are checked
when a :class:`WorldSpec` is validated, and errors name the entity, rule or field.

Units: metres, kilograms, seconds, newtons; angles in degrees in the spec.

This module is a leaf: it imports nothing from ``physics``, ``renderer`` or
``reasoner`` (only :mod:`worldgen.expr`, itself a leaf), so ``import worldgen.spec``
stays light.

>>> spec = WorldSpec(metadata=Metadata(title="drop"), entities=[
...     Entity(name="ground", kind="floor", shape=Plane(), static=True),
...     Entity(name="ball", kind="ball", shape=Sphere(radius=0.1), position=(0, 0, 1))])
>>> spec.entity("ball").mass
1.0
"""

from __future__ import annotations

import difflib
import json
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from worldgen import expr as _expr

SCHEMA_VERSION = 1

# Caps that keep a hostile world from exhausting memory or time. A world that needs
# more is not a world this engine promises to run interactively.
MAX_ENTITIES = 2000
MAX_RULES = 500
MAX_EFFECTS_PER_RULE = 32
MAX_JOINTS = 1000
MAX_PLAYERS = 8
MAX_CONTROLS = 32
MAX_VARIABLES = 256
MAX_TAGS = 16
MAX_TEXT = 2000
MAX_COORD = 1e4  # metres from the origin
MAX_SPEED = 1e3  # m/s, initial velocities and velocity controls
MAX_MASS = 1e5  # kg
MAX_FORCE = 1e6  # N, or N·s for impulses

_IDENT = r"^[A-Za-z][A-Za-z0-9_]{0,63}$"
_KIND = r"^[a-z][a-z ]{0,39}$"

Name = Annotated[str, Field(pattern=_IDENT, description="identifier: a letter, then letters, digits or _ (≤ 64)")]
Tag = Annotated[str, Field(pattern=_IDENT, description="a label rules and counts refer to")]
Coord = Annotated[float, Field(ge=-MAX_COORD, le=MAX_COORD)]
Vec3 = tuple[Coord, Coord, Coord]
Angle = Annotated[float, Field(ge=-3600, le=3600)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Number = Annotated[float, Field(ge=-1e12, le=1e12)]
# A value that may be a number or an expression string (see worldgen.expr).
ExprValue = Union[Number, Annotated[str, Field(min_length=1, max_length=_expr.MAX_LENGTH)]]

#: Key names accepted in control bindings (pygame's ``key.key_code`` spelling).
KEY_NAMES: tuple[str, ...] = tuple(
    sorted(
        [chr(c) for c in range(ord("a"), ord("z") + 1)]
        + [str(d) for d in range(10)]
        + [f"f{i}" for i in range(1, 13)]
        + ["space", "return", "tab", "escape", "backspace", "left", "right", "up", "down",
           "left shift", "right shift", "left ctrl", "right ctrl", "left alt", "right alt",
           ",", ".", "/", ";", "'", "[", "]", "-", "=",
           "mouse left", "mouse right", "mouse middle"]
    )
)


class SpecModel(BaseModel):
    """Base of every spec model: unknown fields and NaN/inf are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_assignment=True)


# ---------------------------------------------------------------- metadata, physics, camera


class Metadata(SpecModel):
    title: Text = "untitled world"
    description: Text = ""
    prompt: Annotated[str, Field(max_length=100_000)] = ""
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    schema_version: Literal[1] = SCHEMA_VERSION


class PhysicsSettings(SpecModel):
    """Engine settings. One *tick* lasts ``timestep`` seconds and runs ``substeps`` solver steps."""

    gravity: Vec3 = (0.0, 0.0, -9.81)
    timestep: Annotated[float, Field(gt=1e-4, le=0.1, description="seconds per tick")] = 1 / 60
    substeps: Annotated[int, Field(ge=1, le=32)] = 4
    solver_iterations: Annotated[int, Field(ge=1, le=500)] = 50
    bounds: tuple[Vec3, Vec3] = Field(
        ((-50.0, -50.0, -20.0), (50.0, 50.0, 50.0)),
        description="axis-aligned box (min, max); leaving it raises out_of_bounds",
    )
    contact_impulse: Annotated[float, Field(ge=0, le=MAX_FORCE)] = Field(
        0.02, description="N·s; weaker contacts are not logged as events"
    )
    time_limit: Annotated[float, Field(gt=0, le=1e7)] | None = Field(
        None, description="seconds; the episode is truncated after it"
    )

    @model_validator(mode="after")
    def _bounds_ordered(self) -> PhysicsSettings:
        lo, hi = self.bounds
        if any(a >= b for a, b in zip(lo, hi)):
            raise ValueError(f"bounds: each min must be below its max, got {lo} and {hi}")
        return self


class Camera(SpecModel):
    name: Name = "main"
    mode: Literal["fixed", "follow", "top_down", "side"] = "fixed"
    position: Vec3 = (-4.0, -4.0, 3.0)
    target: Vec3 = (0.0, 0.0, 0.0)
    follow: Name | None = Field(None, description="entity a follow camera tracks")
    fov_deg: Annotated[float, Field(gt=5, lt=170)] = 60.0


# ---------------------------------------------------------------- entities


class Box(SpecModel):
    type: Literal["box"] = "box"
    size: tuple[
        Annotated[float, Field(gt=0, le=MAX_COORD)],
        Annotated[float, Field(gt=0, le=MAX_COORD)],
        Annotated[float, Field(gt=0, le=MAX_COORD)],
    ] = Field((1.0, 1.0, 1.0), description="full extents along x, y, z (m)")


class Sphere(SpecModel):
    type: Literal["sphere"] = "sphere"
    radius: Annotated[float, Field(gt=0, le=MAX_COORD)] = 0.5


class Cylinder(SpecModel):
    type: Literal["cylinder"] = "cylinder"
    radius: Annotated[float, Field(gt=0, le=MAX_COORD)] = 0.5
    height: Annotated[float, Field(gt=0, le=MAX_COORD)] = 1.0


class Capsule(SpecModel):
    type: Literal["capsule"] = "capsule"
    radius: Annotated[float, Field(gt=0, le=MAX_COORD)] = 0.25
    height: Annotated[float, Field(gt=0, le=MAX_COORD)] = Field(1.0, description="length of the straight part")


class Plane(SpecModel):
    """An infinite ground plane through the entity's position, normal along its local +z."""

    type: Literal["plane"] = "plane"


Shape = Annotated[Union[Box, Sphere, Cylinder, Capsule, Plane], Field(discriminator="type")]


class Material(SpecModel):
    """How a body responds to contact. Names the physical stuff; the look is in Appearance."""

    name: Annotated[str, Field(max_length=40)] = "default"
    friction: Annotated[float, Field(ge=0, le=10)] = 0.5
    restitution: Annotated[float, Field(ge=0, le=1.2)] = 0.1
    rolling_friction: Annotated[float, Field(ge=0, le=10)] = 0.0
    spinning_friction: Annotated[float, Field(ge=0, le=10)] = 0.0
    linear_damping: Annotated[float, Field(ge=0, le=10)] = 0.04
    angular_damping: Annotated[float, Field(ge=0, le=10)] = 0.04


Color = tuple[
    Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)], Annotated[float, Field(ge=0, le=1)]
]


class Appearance(SpecModel):
    """How an entity looks. Read by the renderer only; rules may change it."""

    color: Color = (0.7, 0.7, 0.7)
    look: Annotated[str, Field(max_length=40)] = Field("plain", description="material look: wood, metal, felt, ...")
    style_prompt: Annotated[str, Field(max_length=200)] = ""
    visible: bool = True

    @field_validator("color", mode="before")
    @classmethod
    def _hex_color(cls, v: Any) -> Any:
        if isinstance(v, str):
            m = re.fullmatch(r"#?([0-9a-fA-F]{6})", v.strip())
            if not m:
                raise ValueError(f"color {v[:20]!r}: use '#rrggbb' or three numbers in 0..1")
            h = m.group(1)
            return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
        return v


class Entity(SpecModel):
    """One thing in the world.

    ``static`` bodies never move (floors, walls, posts); ``sensor`` entities have no
    body at all and only detect what is inside them (zones, targets, goals).
    """

    name: Name
    kind: Annotated[str, Field(pattern=_KIND, description="a plain lowercase English noun: pin, ball, crate")]
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    shape: Shape = Field(default_factory=Box)
    position: Vec3 = (0.0, 0.0, 0.0)
    rotation: tuple[Angle, Angle, Angle] = Field((0.0, 0.0, 0.0), description="roll, pitch, yaw in degrees")
    velocity: tuple[
        Annotated[float, Field(ge=-MAX_SPEED, le=MAX_SPEED)],
        Annotated[float, Field(ge=-MAX_SPEED, le=MAX_SPEED)],
        Annotated[float, Field(ge=-MAX_SPEED, le=MAX_SPEED)],
    ] = (0.0, 0.0, 0.0)
    angular_velocity: Vec3 = (0.0, 0.0, 0.0)
    static: bool = False
    sensor: bool = False
    mass: Annotated[float, Field(gt=0, le=MAX_MASS)] = 1.0
    material: Material = Field(default_factory=Material)
    appearance: Appearance = Field(default_factory=Appearance)

    @model_validator(mode="after")
    def _consistent(self) -> Entity:
        if self.shape.type == "plane" and not self.static:
            raise ValueError("a plane must be static (set static: true)")
        if self.sensor and self.shape.type == "plane":
            raise ValueError("a sensor needs a bounded shape (box, sphere, cylinder or capsule)")
        if len(set(self.tags)) != len(self.tags):
            raise ValueError(f"tags repeat: {self.tags}")
        return self


# ---------------------------------------------------------------- joints


class Joint(SpecModel):
    """A constraint between two entities, or between an entity and the fixed world.

    ``hinge`` turns about ``axis`` (doors, seesaws, pendulums in a plane), ``point``
    is a ball joint (chains, free pendulums), ``fixed`` welds, ``slider`` moves
    along ``axis``. Anchors are in each body's local frame (metres).
    """

    name: Name
    type: Literal["hinge", "point", "fixed", "slider"]
    parent: Name | Literal["world"] = "world"
    child: Name
    parent_anchor: Vec3 = (0.0, 0.0, 0.0)
    child_anchor: Vec3 = (0.0, 0.0, 0.0)
    axis: Vec3 = (0.0, 1.0, 0.0)
    max_force: Annotated[float, Field(gt=0, le=1e9)] = 1e6

    @model_validator(mode="after")
    def _axis_nonzero(self) -> Joint:
        if sum(a * a for a in self.axis) < 1e-12:
            raise ValueError("axis must be a non-zero vector")
        if self.parent == self.child:
            raise ValueError("parent and child must differ")
        return self


# ---------------------------------------------------------------- players and controls


class Control(SpecModel):
    """A named input of a player and what it does to the world.

    ``type`` is the value a player sends: ``button`` (0 or 1) or ``axis`` (a number in
    ``range``). ``apply`` says how the value acts on ``target`` along ``direction``:

    - ``impulse``: once when the value changes from 0 to non-zero, ``value × strength`` N·s
    - ``force``: every substep while non-zero, ``value × strength`` N
    - ``torque``: like force, about ``direction``
    - ``velocity``: sets the velocity component along ``direction`` to ``value × strength`` m/s
    - ``move``: moves the target kinematically, ``value × strength`` m/s (static targets too)
    - ``none``: only raises a control event for rules
    """

    name: Name
    type: Literal["button", "axis"] = "button"
    range: tuple[Number, Number] = (0.0, 1.0)
    target: Name | None = None
    apply: Literal["impulse", "force", "torque", "velocity", "move", "none"] = "none"
    direction: Vec3 = (1.0, 0.0, 0.0)
    strength: Annotated[float, Field(ge=0, le=MAX_FORCE)] = 1.0
    keys: Annotated[list[str], Field(max_length=4)] = Field(
        [], description="button: keys that press it; axis: [negative key, positive key]"
    )

    @field_validator("keys")
    @classmethod
    def _known_keys(cls, keys: list[str]) -> list[str]:
        for k in keys:
            if k not in KEY_NAMES:
                close = difflib.get_close_matches(k[:20], KEY_NAMES, n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise ValueError(f"unknown key {k[:20]!r}; {hint}valid keys: {', '.join(KEY_NAMES)}")
        return keys

    @model_validator(mode="after")
    def _consistent(self) -> Control:
        lo, hi = self.range
        if lo > hi:
            raise ValueError(f"range must be (low, high), got {self.range}")
        if self.apply != "none" and self.target is None:
            raise ValueError(f"apply={self.apply!r} needs a target entity")
        if self.apply in ("impulse", "force", "torque", "velocity", "move") and sum(d * d for d in self.direction) < 1e-12:
            raise ValueError("direction must be a non-zero vector")
        return self


class Player(SpecModel):
    name: Name
    controls: Annotated[list[Control], Field(max_length=MAX_CONTROLS)] = []

    @model_validator(mode="after")
    def _unique_controls(self) -> Player:
        _check_unique([c.name for c in self.controls], "control", "controls")
        return self


# ---------------------------------------------------------------- variables


class Variable(SpecModel):
    """A number the world keeps: score, lives, a countdown (``rate=-1``), anything."""

    value: Number = 0.0
    min: Number | None = None
    max: Number | None = None
    rate: Annotated[float, Field(ge=-1e6, le=1e6, description="change per second (timers)")] = 0.0

    @model_validator(mode="after")
    def _ordered(self) -> Variable:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


# ---------------------------------------------------------------- rules: triggers


class OnStart(SpecModel):
    """Fires once when the episode starts (and after each reset)."""

    event: Literal["start"] = "start"


class OnCollision(SpecModel):
    """Fires when an entity tagged ``a`` starts touching one tagged ``b`` with at least ``min_impulse`` N·s.

    The rule's ``$subject`` is the ``a`` entity, ``$other`` the ``b`` one.
    """

    event: Literal["collision"] = "collision"
    a: Tag
    b: Tag
    min_impulse: Annotated[float, Field(ge=0, le=MAX_FORCE)] = 0.0


class OnZone(SpecModel):
    """Fires when an entity tagged ``tag`` enters (or leaves) the sensor entity ``zone``."""

    event: Literal["enter", "leave"]
    zone: Name
    tag: Tag


class OnTilt(SpecModel):
    """Fires when an entity tagged ``tag`` tilts past ``angle`` degrees from upright.

    ``fallen`` is the same test with a default of 60°. Fires once per entity until it
    stands again (below half the angle).
    """

    event: Literal["tilted", "fallen"]
    tag: Tag
    angle: Annotated[float, Field(gt=0, lt=180)] | None = None


class OnOutOfBounds(SpecModel):
    """Fires when an entity tagged ``tag`` leaves the world's ``physics.bounds``."""

    event: Literal["out_of_bounds"] = "out_of_bounds"
    tag: Tag


class OnTimer(SpecModel):
    """Fires ``every`` seconds (first at ``every``), or once ``at`` a time since start."""

    event: Literal["timer"] = "timer"
    every: Annotated[float, Field(gt=0, le=1e7)] | None = None
    at: Annotated[float, Field(ge=0, le=1e7)] | None = None

    @model_validator(mode="after")
    def _one(self) -> OnTimer:
        if (self.every is None) == (self.at is None):
            raise ValueError("a timer needs exactly one of 'every' or 'at' (seconds)")
        return self


class OnControl(SpecModel):
    """Fires when ``player`` presses ``control`` (its value turns non-zero)."""

    event: Literal["control"] = "control"
    player: Name
    control: Name


class OnVariable(SpecModel):
    """Fires when variable ``name`` changes."""

    event: Literal["variable"] = "variable"
    name: Name


Trigger = Annotated[
    Union[OnStart, OnCollision, OnZone, OnTilt, OnOutOfBounds, OnTimer, OnControl, OnVariable],
    Field(discriminator="event"),
]

# ---------------------------------------------------------------- rules: effects

#: ``target`` of an effect: an entity name, ``tag:NAME`` for every entity with that tag,
#: ``$subject`` / ``$other`` for the entities of the triggering event.
Target = Annotated[str, Field(pattern=r"^(\$subject|\$other|tag:[A-Za-z][A-Za-z0-9_]{0,63}|[A-Za-z][A-Za-z0-9_]{0,63})$")]


class AddVar(SpecModel):
    do: Literal["add"] = "add"
    var: Name
    value: ExprValue = 1.0


class SetVar(SpecModel):
    do: Literal["set"] = "set"
    var: Name
    value: ExprValue


class Spawn(SpecModel):
    """Creates a copy of template entity ``template`` (see ``WorldSpec.templates``)."""

    do: Literal["spawn"] = "spawn"
    template: Name
    position: Vec3 | None = Field(None, description="default: the template's position")
    at_subject: bool = Field(False, description="place at the triggering entity (plus position as offset)")


class Destroy(SpecModel):
    do: Literal["destroy"] = "destroy"
    target: Target = "$subject"


class Impulse(SpecModel):
    do: Literal["impulse"] = "impulse"
    target: Target = "$subject"
    impulse: Annotated[tuple[float, float, float], Field()] = (0.0, 0.0, 1.0)

    @field_validator("impulse")
    @classmethod
    def _capped(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(abs(c) > MAX_FORCE for c in v):
            raise ValueError(f"impulse components must be within ±{MAX_FORCE:g} N·s")
        return v


PHYSICAL_PROPERTIES = ("mass", "friction", "restitution", "linear_damping", "angular_damping")
VISUAL_PROPERTIES = ("color", "look", "style_prompt", "visible")


class SetProperty(SpecModel):
    """Sets a physical (mass, friction, ...) or visual (color, look, ...) property."""

    do: Literal["set_property"] = "set_property"
    target: Target = "$subject"
    property: Literal["mass", "friction", "restitution", "linear_damping", "angular_damping",
                      "color", "look", "style_prompt", "visible"]
    value: Union[Number, bool, Color, Annotated[str, Field(max_length=200)]]

    @model_validator(mode="after")
    def _typed(self) -> SetProperty:
        p, v = self.property, self.value
        if p in PHYSICAL_PROPERTIES and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise ValueError(f"{p} takes a number, got {v!r}")
        if p == "mass" and not 0 < v <= MAX_MASS:  # type: ignore[operator]
            raise ValueError(f"mass must be in (0, {MAX_MASS:g}] kg")
        if p in ("friction", "restitution", "linear_damping", "angular_damping") and not 0 <= v <= 10:  # type: ignore[operator]
            raise ValueError(f"{p} must be in [0, 10]")
        if p == "color":
            self.__dict__["value"] = Appearance(color=v).color  # accepts '#rrggbb' too
        if p == "visible" and not isinstance(v, bool):
            raise ValueError("visible takes true or false")
        if p in ("look", "style_prompt") and not isinstance(v, str):
            raise ValueError(f"{p} takes text")
        return self


class SetGravity(SpecModel):
    do: Literal["set_gravity"] = "set_gravity"
    gravity: tuple[
        Annotated[float, Field(ge=-1000, le=1000)],
        Annotated[float, Field(ge=-1000, le=1000)],
        Annotated[float, Field(ge=-1000, le=1000)],
    ]


class PlaySound(SpecModel):
    do: Literal["sound"] = "sound"
    sound: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = "chime"
    volume: Annotated[float, Field(ge=0, le=1)] = 1.0


class Message(SpecModel):
    do: Literal["message"] = "message"
    text: Annotated[str, Field(min_length=1, max_length=200)]


class Reset(SpecModel):
    """Restores the world to its initial state (variables too) and starts a new episode."""

    do: Literal["reset"] = "reset"


class End(SpecModel):
    do: Literal["end"] = "end"
    outcome: Literal["win", "lose", "draw", "done"] = "done"


Effect = Annotated[
    Union[AddVar, SetVar, Spawn, Destroy, Impulse, SetProperty, SetGravity, PlaySound, Message, Reset, End],
    Field(discriminator="do"),
]


class Rule(SpecModel):
    """``on`` an event, ``when`` a condition holds, ``do`` the effects, in order."""

    name: Name
    on: Trigger
    when: Annotated[str, Field(max_length=_expr.MAX_LENGTH)] | None = None
    do: Annotated[list[Effect], Field(min_length=1, max_length=MAX_EFFECTS_PER_RULE)]
    once: bool = Field(False, description="fire at most once per episode")
    cooldown: Annotated[float, Field(ge=0, le=1e6)] = Field(0.0, description="seconds before it may fire again")


class Goal(SpecModel):
    """Ends the episode with ``outcome`` as soon as ``when`` holds (checked every tick)."""

    name: Name
    when: Annotated[str, Field(min_length=1, max_length=_expr.MAX_LENGTH)]
    outcome: Literal["win", "lose", "draw", "done"] = "win"


class Style(SpecModel):
    """Render hints for the renderer: a named style, a palette, a text prompt."""

    name: Annotated[str, Field(max_length=40)] = "default"
    prompt: Annotated[str, Field(max_length=500)] = ""
    palette: Annotated[list[Color], Field(max_length=16)] = []
    background: Color = (0.55, 0.7, 0.9)


# ---------------------------------------------------------------- the world


class WorldSpec(SpecModel):
    """A whole world: everything needed to rebuild and rerun it exactly.

    Cross-references are checked here, so an error points at what is wrong, e.g.
    ``rules.3 (name 'pin_falls').on.tag: no entity has tag 'pins'; tags: ball, pin``.
    """

    metadata: Metadata = Field(default_factory=Metadata)
    physics: PhysicsSettings = Field(default_factory=PhysicsSettings)
    cameras: Annotated[list[Camera], Field(max_length=8)] = Field(default_factory=lambda: [Camera()])
    entities: Annotated[list[Entity], Field(max_length=MAX_ENTITIES)] = []
    templates: Annotated[list[Entity], Field(max_length=64, description="entities that spawn effects copy")] = []
    joints: Annotated[list[Joint], Field(max_length=MAX_JOINTS)] = []
    players: Annotated[list[Player], Field(max_length=MAX_PLAYERS)] = []
    variables: Annotated[dict[Name, Variable], Field(max_length=MAX_VARIABLES)] = {}
    rules: Annotated[list[Rule], Field(max_length=MAX_RULES)] = []
    goals: Annotated[list[Goal], Field(max_length=64)] = []
    style: Style = Field(default_factory=Style)

    # --------------------------------------------------------- lookups

    def entity(self, name: str) -> Entity:
        """The entity called ``name`` (KeyError listing the names if absent)."""
        for e in self.entities:
            if e.name == name:
                return e
        raise KeyError(f"no entity {name!r}; entities: {', '.join(e.name for e in self.entities)[:400]}")

    def tags(self) -> set[str]:
        """Every tag an entity or template carries."""
        return {t for e in (*self.entities, *self.templates) for t in e.tags}

    def to_json(self, **kw: Any) -> str:
        return self.model_dump_json(**kw)

    @classmethod
    def from_json(cls, text: str | bytes) -> WorldSpec:
        """Parses JSON text with the caps and error messages of :func:`worldgen.io.validate_spec`.

        Raises :class:`worldgen.io.SpecError` (a ValueError) naming each bad field.
        """
        from worldgen.io import validate_spec  # io imports this module; import late

        return validate_spec(text)

    # --------------------------------------------------------- cross-reference checks

    @model_validator(mode="after")
    def _cross_references(self) -> WorldSpec:
        names = [e.name for e in self.entities]
        _check_unique(names, "entity", "entities")
        _check_unique([t.name for t in self.templates], "template", "templates")
        for i, t in enumerate(self.templates):
            if t.name in names:
                raise ValueError(f"templates.{i} ({t.name!r}).name: an entity is also called {t.name!r}; "
                                 "templates and entities need different names")
        _check_unique([j.name for j in self.joints], "joint", "joints")
        _check_unique([p.name for p in self.players], "player", "players")
        _check_unique([r.name for r in self.rules], "rule", "rules")
        _check_unique([g.name for g in self.goals], "goal", "goals")
        _check_unique([c.name for c in self.cameras], "camera", "cameras")
        reserved = {"time", "tick"} & set(self.variables)
        if reserved:
            raise ValueError(f"variables: {sorted(reserved)} are built-in names; choose another name")

        by_name = {e.name: e for e in self.entities}
        everything = set(names) | {t.name for t in self.templates}
        tags = self.tags()
        sensors = {e.name for e in (*self.entities, *self.templates) if e.sensor}
        variables = set(self.variables)
        templates = {t.name for t in self.templates}

        def need(kind: str, value: str, valid: set[str], where: str) -> None:
            if value not in valid:
                shown = ", ".join(sorted(valid)[:30]) or "(none)"
                close = difflib.get_close_matches(value, sorted(valid), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                plural = kind[:-1] + "ies" if kind.endswith("y") else kind + "s"
                raise ValueError(f"{where}: no {kind} {value!r}; {hint}{plural}: {shown}")

        for i, c in enumerate(self.cameras):
            if c.follow is not None:
                need("entity", c.follow, set(names), f"cameras.{i} ({c.name!r}).follow")
        for i, j in enumerate(self.joints):
            where = f"joints.{i} ({j.name!r})"
            need("entity", j.child, set(names), f"{where}.child")
            if j.parent != "world":
                need("entity", j.parent, set(names), f"{where}.parent")
            for end in (j.child, j.parent):
                if end in by_name and (by_name[end].sensor or by_name[end].shape.type == "plane"):
                    raise ValueError(f"{where}: {end!r} is a sensor or plane and cannot be jointed")
            if by_name[j.child].static and (j.parent == "world" or by_name[j.parent].static):
                raise ValueError(f"{where}: both ends are static, the joint would do nothing")
        for pi, p in enumerate(self.players):
            for ci, c in enumerate(p.controls):
                if c.target is not None:
                    where = f"players.{pi} ({p.name!r}).controls.{ci} ({c.name!r}).target"
                    need("entity", c.target, set(names), where)
                    t = by_name[c.target]
                    if t.sensor and c.apply != "move":
                        raise ValueError(f"{where}: {c.target!r} is a sensor; only apply='move' can act on it")
                    if t.static and c.apply in ("impulse", "force", "torque", "velocity"):
                        raise ValueError(
                            f"{where}: {c.target!r} is static; {c.apply!r} needs a dynamic body (use apply='move')"
                        )
        controls = {(p.name, c.name) for p in self.players for c in p.controls}

        def check_expr(text: str | float, where: str) -> None:
            if isinstance(text, str):
                try:
                    _expr.parse(text, variables=variables, tags=tags, entities=everything)
                except _expr.ExprError as e:
                    raise ValueError(f"{where}: {e}") from None

        for i, r in enumerate(self.rules):
            where = f"rules.{i} ({r.name!r})"
            on = r.on
            if isinstance(on, OnCollision):
                need("tag", on.a, tags, f"{where}.on.a")
                need("tag", on.b, tags, f"{where}.on.b")
            elif isinstance(on, (OnTilt, OnOutOfBounds)):
                need("tag", on.tag, tags, f"{where}.on.tag")
            elif isinstance(on, OnZone):
                need("tag", on.tag, tags, f"{where}.on.tag")
                need("sensor entity", on.zone, sensors, f"{where}.on.zone")
            elif isinstance(on, OnControl):
                if (on.player, on.control) not in controls:
                    shown = ", ".join(f"{a}.{b}" for a, b in sorted(controls)) or "(none)"
                    raise ValueError(f"{where}.on: no control {on.player}.{on.control}; controls: {shown}")
            elif isinstance(on, OnVariable):
                need("variable", on.name, variables, f"{where}.on.name")
            if r.when is not None:
                check_expr(r.when, f"{where}.when")
            for k, eff in enumerate(r.do):
                ew = f"{where}.do.{k}"
                if isinstance(eff, (AddVar, SetVar)):
                    need("variable", eff.var, variables, f"{ew}.var")
                    check_expr(eff.value, f"{ew}.value")
                elif isinstance(eff, Spawn):
                    need("template", eff.template, templates, f"{ew}.template")
                elif isinstance(eff, (Destroy, Impulse, SetProperty)):
                    tgt = eff.target
                    if tgt.startswith("tag:"):
                        need("tag", tgt[4:], tags, f"{ew}.target")
                    elif not tgt.startswith("$"):
                        need("entity", tgt, everything, f"{ew}.target")
        for i, g in enumerate(self.goals):
            check_expr(g.when, f"goals.{i} ({g.name!r}).when")
        return self


def _check_unique(names: list[str], what: str, section: str) -> None:
    """Raises naming the second use, e.g. ``entities.4 ('ball').name: ... also entities.1``."""
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            raise ValueError(f"{section}.{i} ({n!r}).name: {what} name {n!r} is used twice "
                             f"(also {section}.{seen[n]}); names must be unique")
        seen[n] = i


def json_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`WorldSpec` (for editors and constrained decoding)."""
    return WorldSpec.model_json_schema()


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True)
