"""Edit a world by prompt: "make the ball bouncier and add two more pins".

:func:`edit_spec` reads an edit prompt as a list of changes (:func:`parse_edit`):

- **counts** — "add two more pins", "remove 3 pins", "use 8 pins", "no pins";
- **properties** — "make the ball bouncier / heavier / lighter / bigger / smaller /
  slippery / grippy / red / metal", "make everything bouncy";
- **world** — gravity ("on the moon", "zero gravity", "gravity reversed") and time limits.

A world the built-in reasoner made is rebuilt from its own prompt with the new counts
(same seed, so everything else stays where it was) and re-verified with its mechanic
proof; any other world gets copies of an existing entity placed beside the last one.
Property and world changes are applied on top, then the world is settled again. The
returned trace lists each change and the difference between the old and new spec.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from reasoner import knowledge as kb
from reasoner.base import ReasonerError
from reasoner.intent import _number_value, parse
from reasoner.trace import ReasoningTrace
from worldgen.spec import Entity, WorldSpec

__all__ = ["EditPlan", "edit_spec", "parse_edit"]

MAX_EDIT_CHARS = 1000

_NUM = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|a couple of|another|some)"
_ADD = re.compile(rf"\b(?:add|adds|adding|put|place|include|throw in)\s+(?P<n>{_NUM})?\s*(?:more\s+|extra\s+|new\s+)?"
                  r"(?P<noun>[a-z][a-z ]*?)(?=$| and | then |,|;|\.)")
_MORE = re.compile(rf"\b(?P<n>{_NUM})\s+more\s+(?P<noun>[a-z][a-z ]*?)(?=$| and | then |,|;|\.)")
_REMOVE = re.compile(rf"\b(?:remove|removes|delete|take away|take out|drop|get rid of)\s+(?P<n>{_NUM}|the|all|all the)?"
                     r"\s*(?P<noun>[a-z][a-z ]*?)(?=$| and | then |,|;|\.)")
_SET = re.compile(r"\b(?:use|have|make it|with|want)\s+(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|"
                  r"eleven|twelve|twenty|thirty|forty|fifty)\s+(?P<noun>[a-z][a-z ]*?)(?=$| and | then |,|;|\.| instead)")
_NO = re.compile(r"\bno (?:more )?(?P<noun>[a-z]+s)\b")
_MAKE = re.compile(r"\b(?:make|makes|set|turn|let)\s+(?:the\s+|all\s+(?:the\s+)?|every\s+)?(?P<noun>[a-z][a-z ]*?)\s+"
                   r"(?:be\s+|much\s+|a lot\s+|a bit\s+|slightly\s+|more\s+|less\s+|very\s+|super\s+|extra\s+)*"
                   r"(?P<adj>[a-z]+(?: [a-z]+)?)(?=$| and | then |,|;|\.)")

#: property word → (property, how): "mul" multiplies, "set" sets.
_ADJ: dict[str, tuple[str, str, float]] = {
    "bouncier": ("restitution", "set+", 0.3), "bouncy": ("restitution", "set", 0.9),
    "super bouncy": ("restitution", "set", 1.0), "springy": ("restitution", "set", 0.85),
    "less bouncy": ("restitution", "set-", 0.3), "dead": ("restitution", "set", 0.02),
    "heavier": ("mass", "mul", 2.0), "heavy": ("mass", "mul", 3.0), "lighter": ("mass", "mul", 0.5),
    "light": ("mass", "mul", 0.33),
    "bigger": ("size", "mul", 1.5), "larger": ("size", "mul", 1.5), "huge": ("size", "mul", 2.5),
    "giant": ("size", "mul", 3.0), "smaller": ("size", "mul", 0.67), "tiny": ("size", "mul", 0.4),
    "small": ("size", "mul", 0.6), "big": ("size", "mul", 1.6),
    "slippery": ("friction", "set", 0.02), "slipperier": ("friction", "mul", 0.3), "icy": ("friction", "set", 0.02),
    "grippy": ("friction", "set", 1.2), "grippier": ("friction", "mul", 2.0), "sticky": ("friction", "set", 2.0),
    "rough": ("friction", "set", 1.0), "frictionless": ("friction", "set", 0.0),
}
_ADJ_ALIASES = {"more bouncy": "bouncier", "heavy er": "heavier", "stickier": "grippy", "rougher": "grippier",
                "lighter weight": "lighter", "bigger size": "bigger"}


@dataclass
class EditPlan:
    """What an edit prompt asks for."""

    counts: dict[str, tuple[str, int]] = field(default_factory=dict)  # kind → ("add"|"remove"|"set", n)
    props: list[tuple[str, str, str, Any]] = field(default_factory=list)  # (target noun, property, how, value)
    gravity: tuple[float, float, float] | None = None
    time_limit: float | None = None
    not_understood: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.counts or self.props or self.gravity is not None or self.time_limit is not None)


def _n(text: str | None, default: int = 1) -> int:
    if not text or text in ("a", "an", "another", "one", "the"):
        return default
    if text in ("a few", "some"):
        return 3
    if text == "a couple of":
        return 2
    v = _number_value(text)
    return int(v) if v is not None else default


def _kind_of(noun: str) -> str | None:
    k = kb.find_kind(noun.strip())
    return k.name if k else None


def parse_edit(prompt: str) -> EditPlan:
    """The changes an edit prompt asks for (see the module docstring)."""
    text = " ".join(prompt.lower().replace("’", "'").split())
    plan = EditPlan()
    used: list[tuple[int, int]] = []

    def take(m: re.Match) -> bool:
        if any(a < m.end() and m.start() < b for a, b in used):
            return False
        used.append(m.span())
        return True

    for rx, how in ((_REMOVE, "remove"), (_MORE, "add"), (_ADD, "add"), (_SET, "set"), (_NO, "none")):
        for m in rx.finditer(text):
            kind = _kind_of(m.group("noun"))
            if kind is None or not take(m):
                continue
            if how == "none":
                plan.counts[kind] = ("set", 0)
            elif how == "remove":
                nt = m.group("n")
                plan.counts[kind] = ("set", 0) if nt in ("all", "all the") else ("remove", _n(nt))
            else:
                plan.counts[kind] = (how, _n(m.group("n")))
    for m in _MAKE.finditer(text):
        adj = _ADJ_ALIASES.get(m.group("adj"), m.group("adj"))
        noun = m.group("noun")
        target = "all" if noun in ("everything", "all", "it all", "things", "everything in the world") else noun
        if adj in _ADJ:
            prop, how, val = _ADJ[adj]
        elif kb.find_material(adj.split()[-1]) is not None:
            prop, how, val = "material", "set", kb.find_material(adj.split()[-1]).name
        elif adj in kb.COLORS or adj.split()[-1] in kb.COLORS:
            prop, how, val = "color", "set", kb.color(adj if adj in kb.COLORS else adj.split()[-1])
        else:
            continue
        if take(m):
            plan.props.append((target, prop, how, val))
    it = parse(text)
    if it.gravity is not None:
        plan.gravity = it.gravity
    if it.time_limit is not None:
        plan.time_limit = it.time_limit
    leftovers = text
    for a, b in sorted(used, reverse=True):
        leftovers = leftovers[:a] + " " + leftovers[b:]
    words = [w for w in re.split(r"[ ,;.]+", leftovers) if w and w not in ("and", "then", "also", "please", "the", "a")]
    if words and plan.empty:
        plan.not_understood.append(" ".join(words[:12]))
    return plan


def _matches(e: Entity, target: str) -> bool:
    if target == "all":
        return not e.static and not e.sensor
    k = _kind_of(target)
    t = re.sub(r"[^a-z0-9]+", "_", kb.singular(target.split()[-1]))
    return e.kind == target or (k is not None and (e.kind == k or k.replace(" ", "_") in e.tags)) \
        or t in e.tags or e.name == t


def _apply_props(spec: WorldSpec, plan: EditPlan, trace: ReasoningTrace) -> WorldSpec:
    ents = list(spec.entities)
    for target, prop, how, val in plan.props:
        hit = [i for i, e in enumerate(ents) if _matches(e, target)]
        if not hit:
            trace.add("edit", f"'make the {target} …': nothing in this world is a {target}; skipped")
            continue
        for i in hit:
            e = ents[i]
            m = e.material
            if prop in ("restitution", "friction"):
                old = getattr(m, prop)
                new = {"set": val, "mul": old * val, "set+": min(1.0, max(old + val, old * 1.5)),
                       "set-": max(0.0, old - val)}[how]
                new = round(min(new, 1.0 if prop == "restitution" else 10.0), 4)
                ents[i] = e.model_copy(update={"material": m.model_copy(update={prop: new})})
            elif prop == "mass":
                ents[i] = e.model_copy(update={"mass": round(min(max(e.mass * val, 1e-4), 1e5), 6)})
            elif prop == "size":
                ents[i] = _resize(e, val)
            elif prop == "material":
                mat = kb.material(val)
                ents[i] = e.model_copy(update={"material": mat.to_spec(), "appearance": e.appearance.model_copy(
                    update={"look": mat.look, "color": mat.color})})
            elif prop == "color":
                ents[i] = e.model_copy(update={"appearance": e.appearance.model_copy(update={"color": val})})
        sample = ents[hit[0]]
        value = {"restitution": lambda: f"restitution {sample.material.restitution:.2f}",
                 "friction": lambda: f"friction {sample.material.friction:.2f}",
                 "mass": lambda: f"mass {sample.mass:.3g} kg", "size": lambda: f"size × {val:g}",
                 "material": lambda: f"material {val}", "color": lambda: f"colour {val}"}[prop]()
        trace.add("edit", f"{len(hit)} × {target}: {value}", target=target, property=prop, count=len(hit))
    return spec.model_copy(update={"entities": ents})


def _resize(e: Entity, f: float) -> Entity:
    s = e.shape
    if s.type == "plane":
        return e
    if s.type == "box":
        shape = s.model_copy(update={"size": tuple(v * f for v in s.size)})
        dz = s.size[2] * (f - 1) / 2
    elif s.type == "sphere":
        shape = s.model_copy(update={"radius": s.radius * f})
        dz = s.radius * (f - 1)
    else:
        shape = s.model_copy(update={"radius": s.radius * f, "height": s.height * f})
        dz = (s.height / 2 + (s.radius if s.type == "capsule" else 0)) * (f - 1)
    x, y, z = e.position
    mass = e.mass if e.static else min(e.mass * f ** 3, 1e5)
    return e.model_copy(update={"shape": shape, "position": (x, y, z + dz), "mass": mass})


def _clone_counts(spec: WorldSpec, plan: EditPlan, trace: ReasoningTrace) -> WorldSpec:
    ents = list(spec.entities)
    names = {e.name for e in ents}
    for kind, (how, n) in plan.counts.items():
        same = [e for e in ents if e.kind == kind or kind.replace(" ", "_") in e.tags]
        have = len(same)
        want = {"add": have + n, "remove": max(0, have - n), "set": n}[how]
        if want < have:
            drop = {e.name for e in same[want:]}
            ents = [e for e in ents if e.name not in drop]
            trace.add("edit", f"removed {have - want} {kind}(s): {', '.join(sorted(drop)[:6])}")
        elif want > have:
            if not same:
                trace.add("edit", f"no {kind} to copy in this world; add one with world.add_entity first")
                continue
            last = same[-1]
            step = 2.2 * max(_half(last))
            for i in range(want - have):
                x, y, z = last.position
                base = re.sub(r"_\d+$", "", last.name)
                k = have + i + 1
                name = f"{base}_{k}"
                while name in names:
                    k += 1
                    name = f"{base}_{k}"
                names.add(name)
                ents.append(last.model_copy(update={"name": name, "position": (x, y + step * (i + 1), z)}))
            trace.add("edit", f"added {want - have} {kind}(s) beside {last.name}")
    return spec.model_copy(update={"entities": ents})


def _half(e: Entity) -> tuple[float, float, float]:
    s = e.shape
    if s.type == "box":
        return tuple(v / 2 for v in s.size)
    if s.type == "sphere":
        return (s.radius,) * 3
    if s.type in ("cylinder", "capsule"):
        return (s.radius, s.radius, s.height / 2)
    return (0.5, 0.5, 0.5)


def edit_spec(spec: WorldSpec, prompt: str, seed: int | None = None) -> tuple[WorldSpec, ReasoningTrace]:
    """The edited spec and a trace of what changed (see the module docstring); verified by simulation.

    Raises :class:`ReasonerError` for an empty, oversized or not-understood edit, or when
    the edited world no longer holds together.
    """
    from reasoner.builtin import BuiltinReasoner
    from reasoner.verify import settle

    if not isinstance(prompt, str) or not prompt.strip():
        raise ReasonerError("the edit is empty; say what to change, e.g. \"make the ball bouncier and add two more "
                            "pins\"", requirement="edit.nonempty")
    if len(prompt) > MAX_EDIT_CHARS:
        raise ReasonerError(f"the edit is {len(prompt):,} characters; the limit is {MAX_EDIT_CHARS:,}",
                            requirement="edit.size")
    seed = spec.metadata.seed if seed is None else seed
    trace = ReasoningTrace(prompt=prompt, reasoner="edit")
    plan = parse_edit(prompt)
    if plan.empty:
        raise ReasonerError(
            f"could not find a change in \"{prompt[:120]}\". Edits can add or remove objects (\"add two more pins\"), "
            "change properties (\"make the ball bouncier / heavier / bigger / red / metal\"), gravity (\"on the "
            "moon\") or the time limit (\"a 30 second limit\").", requirement="edit.understood")
    new = spec
    rebuilt = False
    if plan.counts and spec.metadata.prompt:
        try:
            new = BuiltinReasoner().rebuild_with_counts(spec, plan.counts, seed, trace)
            rebuilt = True
        except ReasonerError as e:
            trace.add("edit", f"could not rebuild from the world's prompt ({e}); copying entities instead")
    if plan.counts and not rebuilt:
        new = _clone_counts(new, plan, trace)
    new = _apply_props(new, plan, trace)
    phys = {}
    if plan.gravity is not None:
        phys["gravity"] = plan.gravity
        trace.add("edit", f"gravity → {plan.gravity}")
    if plan.time_limit is not None:
        phys["time_limit"] = plan.time_limit
        trace.add("edit", f"time limit → {plan.time_limit:g} s")
    if phys:
        new = new.model_copy(update={"physics": new.physics.model_copy(update=phys)})
    for line in _diff(spec, new):
        trace.add("edit", line)
    from worldgen.io import validate_spec

    new = validate_spec(new.model_dump(mode="json"), source="edited world")
    down = new.physics.gravity[2] < -0.1
    rep = settle(new, movers=frozenset() if down else frozenset(e.name for e in new.entities))
    if not rep.ok:
        raise ReasonerError("the edited world does not hold together: " + "; ".join(rep.errors[:3]),
                            requirement="verify.settle", trace=trace)
    trace.add("verification", f"the edited world settled {rep.ticks / 60:.1f} s with no input without problems")
    return new, trace


def _diff(old: WorldSpec, new: WorldSpec) -> list[str]:
    a = {e.name: e for e in old.entities}
    b = {e.name: e for e in new.entities}
    out = []
    added = [n for n in b if n not in a]
    removed = [n for n in a if n not in b]
    changed = [n for n in b if n in a and b[n] != a[n]]
    moved = [n for n in changed if b[n].model_copy(update={"position": a[n].position}) == a[n]]
    if added:
        out.append(f"diff: + {len(added)} entities ({', '.join(added[:6])}{' …' if len(added) > 6 else ''})")
    if removed:
        out.append(f"diff: − {len(removed)} entities ({', '.join(removed[:6])}{' …' if len(removed) > 6 else ''})")
    if changed:
        far = [n for n in moved if math.dist(a[n].position, b[n].position) > 1e-6]
        out.append(f"diff: {len(changed)} entities changed" + (f" ({len(far)} only moved)" if far else ""))
    if old.physics != new.physics:
        out.append("diff: physics settings changed")
    if [r.name for r in old.rules] != [r.name for r in new.rules]:
        out.append(f"diff: rules {len(old.rules)} → {len(new.rules)}")
    return out or ["diff: no change"]
