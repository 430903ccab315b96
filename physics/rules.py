"""Rules compiled once at load: conditions and values parsed, triggers indexed by event.

A :class:`RuleBook` answers two questions fast every tick: which rules listen to an
event, and which per-entity checks (tilt, zone, bounds) the rules need at all, so a
world pays only for the detectors it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from worldgen import expr
from worldgen.spec import (
    AddVar, OnCollision, OnControl, OnOutOfBounds, OnTilt, OnTimer, OnVariable, OnZone, Rule, SetVar, WorldSpec,
)

#: Default tilt thresholds (degrees) when a rule gives none.
DEFAULT_ANGLE = {"tilted": 30.0, "fallen": 60.0}


@dataclass(frozen=True)
class CompiledRule:
    index: int
    rule: Rule
    condition: expr.Expression | None
    values: tuple[expr.Expression | None, ...]  # per effect: compiled value of add/set, else None

    @property
    def name(self) -> str:
        return self.rule.name


@dataclass
class RuleBook:
    """The rules of one spec, compiled and indexed."""

    rules: list[CompiledRule]
    by_event: dict[str, list[CompiledRule]] = field(default_factory=dict)
    collision_pairs: dict[tuple[str, str], float] = field(default_factory=dict)  # (tag a, tag b) -> min impulse
    tilt_watch: set[tuple[str, str, float]] = field(default_factory=set)  # (kind, tag, angle)
    zone_watch: set[tuple[str, str]] = field(default_factory=set)  # (zone, tag)
    bounds_watch: set[str] = field(default_factory=set)  # tags
    timers: list[CompiledRule] = field(default_factory=list)
    goals: list[tuple[str, str, expr.Expression]] = field(default_factory=list)  # (name, outcome, expr)

    @classmethod
    def compile(cls, spec: WorldSpec) -> RuleBook:
        names = dict(variables=set(spec.variables), tags=spec.tags(),
                     entities={e.name for e in (*spec.entities, *spec.templates)})
        compiled = []
        for i, r in enumerate(spec.rules):
            cond = expr.parse(r.when, **names) if r.when is not None else None
            values = tuple(expr.parse(e.value, **names) if isinstance(e, (AddVar, SetVar)) else None for e in r.do)
            compiled.append(CompiledRule(i, r, cond, values))
        book = cls(compiled)
        for cr in compiled:
            on = cr.rule.on
            book.by_event.setdefault(on.event, []).append(cr)
            if isinstance(on, OnCollision):
                key = (on.a, on.b)
                book.collision_pairs[key] = min(book.collision_pairs.get(key, on.min_impulse), on.min_impulse)
            elif isinstance(on, OnTilt):
                book.tilt_watch.add((on.event, on.tag, on.angle or DEFAULT_ANGLE[on.event]))
            elif isinstance(on, OnZone):
                book.zone_watch.add((on.zone, on.tag))
            elif isinstance(on, OnOutOfBounds):
                book.bounds_watch.add(on.tag)
            elif isinstance(on, OnTimer):
                book.timers.append(cr)
        book.goals = [(g.name, g.outcome, expr.parse(g.when, **names)) for g in spec.goals]
        return book

    def matches(self, cr: CompiledRule, kind: str, subjects: tuple[str, ...], data: dict,
                tags_of) -> tuple[str, ...] | None:
        """If rule ``cr`` listens to this event, the rule's subjects (``$subject``, ``$other``); else None."""
        on = cr.rule.on
        if isinstance(on, OnCollision):
            if len(subjects) < 2 or data.get("impulse", 0.0) < on.min_impulse:
                return None
            a, b = subjects[0], subjects[1]
            ta, tb = tags_of(a), tags_of(b)
            if on.a in ta and on.b in tb:
                return (a, b)
            if on.a in tb and on.b in ta:
                return (b, a)
            return None
        if isinstance(on, OnTilt):
            angle = on.angle or DEFAULT_ANGLE[on.event]
            return subjects if data.get("watch") == (on.event, on.tag, angle) else None
        if isinstance(on, OnZone):
            return subjects if data.get("zone") == on.zone and on.tag in tags_of(subjects[0]) else None
        if isinstance(on, OnOutOfBounds):
            return subjects if on.tag in tags_of(subjects[0]) else None
        if isinstance(on, OnControl):
            return subjects if (data.get("player"), data.get("control")) == (on.player, on.control) else None
        if isinstance(on, OnVariable):
            return subjects if data.get("var") == on.name else None
        if isinstance(on, OnTimer):
            return subjects if data.get("rule") == cr.name else None
        return subjects  # start
