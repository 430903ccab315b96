"""The builder mechanic templates write a world into.

A :class:`Builder` holds one world under construction: entities made from knowledge-base
kinds (with the prompt's colours, materials and sizes applied), controls, variables,
rules, goals and cameras, plus what verification needs — the :class:`Proof` that shows
the mechanic working and the entities allowed to move while the world settles. Templates
are composable: several can write into one builder (a bowling lane and a crate pusher),
each inside its own region (:meth:`Builder.region`).

Repairs re-run the templates with changed :class:`Params` (more spacing, more clearance,
stronger controls), so every repair is one clear mechanism, never an ad-hoc patch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reasoner import knowledge as kb
from reasoner.intent import Intent, ObjectMention
from reasoner.trace import ReasoningTrace
from worldgen import spec as S

__all__ = ["Builder", "Params", "Proof"]


@dataclass(frozen=True)
class Params:
    """Knobs repairs turn: gaps between objects, clearance above supports, control strength."""

    spacing: float = 1.0
    clearance: float = 0.0
    strength: float = 1.0
    attempt: int = 0


@dataclass
class Proof:
    """How to show a mechanic works: play ``script`` for ``ticks`` ticks, then ``check`` must hold.

    ``check`` is an expression of the world's own language (worldgen.expr) over variables,
    counts and entity attributes, e.g. ``"score > 0"``; ``what`` says it in words.
    """

    what: str
    check: str
    ticks: int = 300
    script: dict[int, dict[str, dict[str, float]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form: ``{"what", "check", "ticks", "script": [[tick, actions], ...]}``."""
        return {"what": self.what, "check": self.check, "ticks": self.ticks,
                "script": [[t, a] for t, a in sorted(self.script.items())]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Proof:
        return cls(d["what"], d["check"], int(d["ticks"]), {int(t): a for t, a in d.get("script", [])})


_NAME_RE = re.compile(r"[^a-z0-9_]+")


def ident(text: str) -> str:
    """A valid spec identifier from a phrase ("bowling ball" → "bowling_ball")."""
    s = _NAME_RE.sub("_", text.lower()).strip("_") or "thing"
    if not s[0].isalpha():
        s = "x_" + s
    return s[:40]


class Builder:
    """One world under construction; see the module docstring."""

    def __init__(self, intent: Intent, seed: int, trace: ReasoningTrace, params: Params = Params(),
                 grounded: dict[str, str] | None = None):
        self.intent = intent
        self.seed = seed
        self.trace = trace
        self.params = params
        self.rng = np.random.default_rng(seed)
        #: unknown noun → kind it was grounded to (open vocabulary)
        self.grounded = dict(grounded or {})
        self.entities: list[S.Entity] = []
        self.templates: list[S.Entity] = []
        self.joints: list[S.Joint] = []
        self.controls: dict[str, list[S.Control]] = {}
        self.variables: dict[str, S.Variable] = {}
        self.rules: list[S.Rule] = []
        self.goals: list[S.Goal] = []
        self.cameras: list[S.Camera] = []
        self.physics: dict[str, Any] = {}
        self.style: dict[str, Any] = {}
        self.proofs: list[Proof] = []
        self.movers: set[str] = set()  #: entities expected to move while settling (pendulums, floaters)
        self.roles: dict[str, list[str]] = {}  #: role → entity names ("projectile", "target", ...)
        self.used_kinds: set[str] = set()
        self.offset = (0.0, 0.0)  # region origin
        self.floor_material = "wood"
        self._names: set[str] = set()

    # ------------------------------------------------------------------ prompt lookups

    def mention(self, kind: str) -> ObjectMention | None:
        """The first scene mention of ``kind`` (or of a noun grounded to it)."""
        for o in self.intent.objects:
            if o.in_twist:
                continue
            if o.kind == kind or (o.kind is None and self.grounded.get(o.noun) == kind):
                return o
        return None

    def mentioned(self, *kinds: str) -> str | None:
        """The first of ``kinds`` the prompt mentions, or None."""
        for o in self.intent.objects:
            if o.in_twist:
                continue
            k = o.kind or self.grounded.get(o.noun)
            if k in kinds:
                return k
        return None

    def pick(self, default: str, *, affordance: str | None = None, among: Sequence[str] = ()) -> str:
        """The kind to use for a role: a mentioned kind from ``among`` or with ``affordance``, else ``default``."""
        for o in self.intent.objects:
            if o.in_twist:
                continue
            k = o.kind or self.grounded.get(o.noun)
            if k is None or k in self.used_kinds:
                continue
            if k in among or (affordance and affordance in kb.KINDS[k].affordances and not kb.KINDS[k].static):
                return k
        return default

    def count(self, kind: str, default: int, lo: int = 1, hi: int = 60) -> int:
        """How many of ``kind`` the prompt asks for (clamped to ``lo..hi``, noted), else ``default``."""
        n = self.intent.counts.get(kind)
        if n is None:
            for noun, k in self.grounded.items():
                key = kb.singular(noun.split()[-1])
                if k == kind and key in self.intent.counts:
                    n = self.intent.counts[key]
        if n is None:
            # "after 10 apples ..." needs at least 10 apples to exist
            from reasoner.intent import AfterCountTwist

            need = [tw.count for tw in self.intent.twists if isinstance(tw, AfterCountTwist)
                    and kb.find_kind(tw.what_counted) is not None and kb.find_kind(tw.what_counted).name == kind]
            if need and max(need) >= default:
                n = min(max(need) + 2, hi)  # a few more, so the twist comes before the game is won
                self.trace.add("inventory", f"{n} {kind}s: a twist counts {max(need)} of them, and the game should "
                                            "go on after it", kind=kind, count=n)
                return n
            return default
        if not lo <= n <= hi:
            c = min(max(n, lo), hi)
            self.trace.add("inventory", f"{n} {kind}s asked for; this layout holds {lo}–{hi}, so it has {c}",
                           kind=kind, asked=n, used=c)
            return c
        return n

    def noun_for(self, kind: str) -> str:
        """What to call entities of ``kind``: the prompt's own word when it was grounded ("skittle")."""
        m = self.mention(kind)
        if m is not None and m.kind is None:
            return kb.singular(m.noun.split()[-1])
        return kind

    def jitter(self, amount: float) -> float:
        """A seeded variation in ``[-amount, amount]`` (different seeds → varied layouts)."""
        return float(self.rng.uniform(-amount, amount))

    # ------------------------------------------------------------------ construction

    def unique(self, name: str) -> str:
        base = ident(name)
        n, i = base, 2
        while n in self._names:
            n = f"{base}_{i}"
            i += 1
        self._names.add(n)
        return n

    def at(self, x: float, y: float, z: float) -> tuple[float, float, float]:
        return (x + self.offset[0], y + self.offset[1], z)

    def make(self, kind: str, name: str | None = None, pos: Sequence[float] = (0, 0, 0), *, role: str | None = None,
             tags: Sequence[str] = (), scale: float | None = None, material: str | None = None,
             color: Any = None, static: bool | None = None, rotation: Sequence[float] = (0, 0, 0),
             mass: float | None = None, on_ground: bool = True, template: bool = False,
             sensor: bool | None = None) -> S.Entity:
        """Adds an entity of ``kind`` at ``pos`` (x, y in the current region; z of its base when ``on_ground``).

        The prompt's words for this kind win over defaults: its colour, material, size
        words and bounciness/friction adjectives. Returns the entity.
        """
        m = self.mention(kind)
        if scale is None:
            scale = m.scale if m is not None else 1.0
        if material is None and m is not None and m.material:
            material = m.material
        if color is None and m is not None and m.color is not None:
            color = m.color
        noun = self.noun_for(kind)
        k = kb.KINDS[kind]
        extra_tags = list(tags)
        if noun != kind:
            extra_tags.append(ident(noun))
        if role:
            extra_tags.append(role)
        z = pos[2] + (kb.rest_height(kind, scale) + self.params.clearance if on_ground else 0.0)
        ent = kb.make_entity(kind, self.unique(name or noun) if not template else ident(name or noun),
                             self.at(pos[0], pos[1], z), scale=scale, material=material, color=color,
                             static=static, sensor=sensor, tags=extra_tags, rotation=rotation, mass=mass)
        if noun != kind and re.fullmatch(r"[a-z]+( [a-z]+)*", noun):
            ent = ent.model_copy(update={"kind": noun})
        if m is not None and (m.restitution is not None or m.friction is not None):
            mat = ent.material.model_copy(update={
                k2: v for k2, v in (("restitution", m.restitution), ("friction", m.friction)) if v is not None})
            ent = ent.model_copy(update={"material": mat})
        if template:
            self.templates.append(ent)
        else:
            self.entities.append(ent)
            if role:
                self.roles.setdefault(role, []).append(ent.name)
        self.used_kinds.add(k.name)
        return ent

    def box(self, name: str, center: Sequence[float], size: Sequence[float], *, kind: str = "wall",
            material: str = "wood", color: Any = None, tags: Sequence[str] = ("wall",), sensor: bool = False,
            rotation: Sequence[float] = (0, 0, 0), visible: bool = True) -> S.Entity:
        """A static box (wall, rail, ramp, zone when ``sensor``) with its centre at ``center``."""
        mat = kb.material(material)
        rgb = kb.color(color) if color is not None else mat.color
        ent = S.Entity(name=self.unique(name), kind=kind, tags=[ident(t) for t in tags], shape=S.Box(size=tuple(size)),
                       position=self.at(*center), rotation=tuple(rotation), static=True, sensor=sensor,
                       material=mat.to_spec(), appearance=S.Appearance(color=rgb, look=mat.look, visible=visible))
        self.entities.append(ent)
        return ent

    def zone(self, name: str, center: Sequence[float], size: Sequence[float], *, kind: str = "target zone",
             color: Any = (0.2, 0.8, 0.3), tags: Sequence[str] = ("zone",)) -> S.Entity:
        """A sensor region (goal mouth, target pad, pocket) that ``enter``/``leave`` rules watch."""
        return self.box(name, center, size, kind=kind, color=color, tags=tags, sensor=True)

    def floor(self, material: str | None = None, color: Any = None, kind: str = "floor") -> S.Entity:
        """The ground plane (once per world)."""
        if any(e.shape.type == "plane" for e in self.entities):
            return next(e for e in self.entities if e.shape.type == "plane")
        mat = kb.material(material or self.floor_material)
        ent = S.Entity(name=self.unique("floor"), kind=kind, tags=["ground"], shape=S.Plane(), static=True,
                       material=mat.to_spec(),
                       appearance=S.Appearance(color=kb.color(color) if color is not None else mat.color,
                                               look=mat.look))
        self.entities.insert(0, ent)
        return ent

    def walls(self, cx: float, cy: float, length: float, width: float, height: float = 0.3, thick: float = 0.1,
              material: str = "wood", color: Any = (0.35, 0.3, 0.3), gaps: Sequence[str] = ()) -> list[S.Entity]:
        """Four walls around a ``length`` × ``width`` rectangle centred at (cx, cy); ``gaps`` skips sides."""
        out = []
        sides = {"north": ((cx, cy + width / 2 + thick / 2, height / 2), (length + 2 * thick, thick, height)),
                 "south": ((cx, cy - width / 2 - thick / 2, height / 2), (length + 2 * thick, thick, height)),
                 "east": ((cx + length / 2 + thick / 2, cy, height / 2), (thick, width, height)),
                 "west": ((cx - length / 2 - thick / 2, cy, height / 2), (thick, width, height))}
        for side, (c, s) in sides.items():
            if side not in gaps:
                out.append(self.box(f"wall_{side}", c, s, material=material, color=color))
        return out

    def control(self, player: str, name: str, **kw: Any) -> S.Control:
        """Adds control ``name`` to ``player`` (strength × ``params.strength``)."""
        if "strength" in kw:
            kw["strength"] = min(kw["strength"] * self.params.strength, S.MAX_FORCE)
        c = S.Control(name=name, **kw)
        self.controls.setdefault(player, []).append(c)
        return c

    def var(self, name: str, value: float = 0.0, **kw: Any) -> None:
        if name not in self.variables:
            self.variables[name] = S.Variable(value=value, **kw)

    def rule(self, name: str, on: dict, do: Sequence[dict], when: str | None = None, once: bool = False,
             cooldown: float = 0.0) -> S.Rule:
        r = S.Rule.model_validate({"name": self.unique_rule(name), "on": on, "do": list(do), "when": when,
                                   "once": once, "cooldown": cooldown})
        self.rules.append(r)
        return r

    def unique_rule(self, name: str) -> str:
        return _fresh(ident(name), {r.name for r in self.rules})

    def goal(self, name: str, when: str, outcome: str = "win") -> None:
        self.goals.append(S.Goal(name=_fresh(ident(name), {g.name for g in self.goals}), when=when, outcome=outcome))

    def camera(self, position: Sequence[float], target: Sequence[float], fov: float = 50.0, name: str = "main",
               **kw: Any) -> None:
        """Adds a camera; a second template's cameras get fresh names (``main_2``), the first stays ``main``."""
        if len(self.cameras) >= 8:
            return
        name = _fresh(name, {c.name for c in self.cameras})
        self.cameras.append(S.Camera(name=name, position=self.at(*position), target=self.at(*target), fov_deg=fov,
                                     **kw))

    def prove(self, what: str, check: str, ticks: int = 300, script: dict | None = None) -> None:
        self.proofs.append(Proof(what, check, ticks, dict(script or {})))

    def note(self, stage: str, text: str, **data: Any) -> None:
        self.trace.add(stage, text, **data)

    # ------------------------------------------------------------------ result

    def spec(self, title: str, description: str) -> S.WorldSpec:
        """The finished :class:`WorldSpec` (pydantic validates it)."""
        players = [S.Player(name=p, controls=cs) for p, cs in self.controls.items()]
        return S.WorldSpec(
            metadata=S.Metadata(title=title[:200], description=description[:2000], prompt=self.intent.prompt[:100_000],
                                seed=self.seed),
            physics=S.PhysicsSettings(**self.physics),
            cameras=self.cameras or [S.Camera()],
            entities=self.entities, templates=self.templates, joints=self.joints, players=players,
            variables=self.variables, rules=self.rules, goals=self.goals, style=S.Style(**self.style),
        )


def _fresh(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``, ... whichever is not taken."""
    n, i = name, 2
    while n in taken:
        n, i = f"{name}_{i}", i + 1
    return n


def spread(n: int, width: float) -> list[float]:
    """``n`` evenly spaced offsets across ``width`` centred on 0."""
    if n <= 1:
        return [0.0]
    return [(i / (n - 1) - 0.5) * width for i in range(n)]


def triangle(n: int, spacing: float) -> list[tuple[float, float]]:
    """Offsets (x back, y across) of ``n`` objects in a bowling-style triangle, apex at (0, 0)."""
    out: list[tuple[float, float]] = []
    row = 0
    while len(out) < n:
        for k in range(row + 1):
            if len(out) < n:
                out.append((row * spacing * math.sqrt(3) / 2, (k - row / 2) * spacing))
        row += 1
    return out
