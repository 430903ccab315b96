"""Verification by simulation: the physics engine is the reasoner's tool.

:func:`layout_report` inspects a spec without simulating (overlaps, support).
:func:`settle` runs a world with no input for two seconds and reports what a person
would call broken: bodies that interpenetrate, fall through the floor, leave the world,
explode, or drift/topple although nothing touched them (stacks must stand). Entities a
design expects to move (pendulums, floaters) are exempt from the drift check.
:func:`prove` plays a :class:`~reasoner.builder.Proof` script and evaluates its check.
:func:`verify_and_repair` does both for any spec (also one from a language model) and
repairs what it can by lifting and separating bodies, recording each repair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pybullet as p

from physics.check import check_world
from physics.simulation import Simulation
from reasoner.base import ReasonerError
from reasoner.builder import Proof
from reasoner.trace import ReasoningTrace
from worldgen import expr as _expr
from worldgen.spec import WorldSpec

__all__ = ["SettleReport", "layout_report", "prove", "settle", "verify_and_repair"]

SETTLE_SECONDS = 2.0
DRIFT_M = 0.05  #: a resting body that moves further than this while settling has drifted
TILT_DEG = 20.0  #: ... or tips further than this
OVERLAP_M = 0.005  #: interpenetration deeper than this at the start is a layout error


@dataclass
class SettleReport:
    """What :func:`settle` found. ``ok`` when there are no errors."""

    errors: list[str] = field(default_factory=list)
    overlaps: list[tuple[str, str, float]] = field(default_factory=list)  # (a, b, depth m) at the start
    drifted: list[tuple[str, float, float]] = field(default_factory=list)  # (name, moved m, tilted deg)
    fell: list[str] = field(default_factory=list)  # through the floor / out of the world
    notes: list[str] = field(default_factory=list)
    ticks: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def layout_report(spec: WorldSpec) -> list[str]:
    """Static checks in words: body counts, dynamic bodies without support below them."""
    bodies = [e for e in spec.entities if not e.sensor]
    dyn = [e for e in bodies if not e.static]
    zones, joints = sum(e.sensor for e in spec.entities), len(spec.joints)
    lines = [f"{len(bodies)} bodies ({len(dyn)} dynamic, {len(bodies) - len(dyn)} static)"
             + (f", {zones} sensor zone(s)" if zones else "") + (f", {joints} joint(s)" if joints else "")]
    gz = spec.physics.gravity[2]
    jointed = {j.child for j in spec.joints} | {j.parent for j in spec.joints}
    if gz < -0.1:
        unsupported = [e.name for e in dyn if e.name not in jointed and e.velocity == (0.0, 0.0, 0.0)
                       and not _supported(e, bodies)]
        if unsupported:
            lines.append(f"start in the air and will fall: {', '.join(unsupported[:8])}"
                         + (" …" if len(unsupported) > 8 else ""))
        else:
            lines.append("support: every free dynamic body rests on the ground or on another body")
    return lines


def _aabb(e) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    s = e.shape
    if s.type == "box":
        h = [v / 2 for v in s.size]
    elif s.type == "sphere":
        h = [s.radius] * 3
    elif s.type == "cylinder":
        h = [s.radius, s.radius, s.height / 2]
    elif s.type == "capsule":
        h = [s.radius, s.radius, s.height / 2 + s.radius]
    else:
        return ((-1e9, -1e9, -1e9), (1e9, 1e9, e.position[2]))
    if any(abs(a) > 1e-6 for a in e.rotation):  # rotated: the bounding sphere's box
        r = math.sqrt(sum(v * v for v in h))
        h = [r, r, r]
    return tuple(c - v for c, v in zip(e.position, h)), tuple(c + v for c, v in zip(e.position, h))


def _supported(e, bodies) -> bool:
    lo, hi = _aabb(e)
    for o in bodies:
        if o is e:
            continue
        olo, ohi = _aabb(o)
        if olo[0] <= hi[0] and ohi[0] >= lo[0] and olo[1] <= hi[1] and ohi[1] >= lo[1] \
                and abs(ohi[2] - lo[2]) < 0.02 + (0.3 if any(e.rotation) or any(o.rotation) else 0):
            return True
        if o.shape.type == "plane" and lo[2] - o.position[2] < 0.02:
            return True
    return False


def settle(spec: WorldSpec, movers: set[str] | frozenset[str] = frozenset(), seconds: float = SETTLE_SECONDS,
           seed: int | None = None) -> SettleReport:
    """Runs ``spec`` for ``seconds`` with no input and reports layout problems (see the module docstring)."""
    rep = SettleReport()
    sim = Simulation(spec, seed)
    try:
        cl = sim.client
        p.performCollisionDetection(physicsClientId=cl)
        seen: dict[tuple[str, str], float] = {}
        jointed = {(j.parent, j.child) for j in spec.joints} | {(j.child, j.parent) for j in spec.joints}
        for c in p.getContactPoints(physicsClientId=cl):
            if c[8] < -OVERLAP_M:
                a, b = sim._by_body.get(c[1], "?"), sim._by_body.get(c[2], "?")
                if (a, b) in jointed:
                    continue
                key = tuple(sorted((a, b)))
                seen[key] = max(seen.get(key, 0.0), -c[8])
        rep.overlaps = [(a, b, d) for (a, b), d in sorted(seen.items())]
        for a, b, d in rep.overlaps:
            rep.errors.append(f"{a} and {b} start interpenetrating by {d * 100:.1f} cm")
        start = {n: sim.pose(n) for n in sim.entity_names if not sim.live(n).spec.static}
        ticks = max(1, round(seconds / spec.physics.timestep))
        for _ in range(ticks):
            sim.step(None)
            rep.ticks += 1
            if sim.episode > 0 or sim.terminated:
                rep.notes.append(f"the game ended by itself after {rep.ticks} ticks with no input "
                                 f"({sim.outcome or 'reset'})")
                if sim.terminated:
                    rep.errors.append(f"the game ends on its own ({sim.outcome}) before anyone plays")
                break
        gravity_down = spec.physics.gravity[2] < -0.1 and abs(spec.physics.gravity[0]) < 0.1 \
            and abs(spec.physics.gravity[1]) < 0.1
        floor_z = max((e.position[2] for e in spec.entities if e.shape.type == "plane"), default=None)
        lo, hi = spec.physics.bounds
        for name, (pos0, orn0) in start.items():
            if name not in sim.entity_names:
                continue
            pos, orn = sim.pose(name)
            if not all(math.isfinite(v) for v in (*pos, *orn)):
                rep.errors.append(f"{name}: state is not finite")
                continue
            if floor_z is not None and pos0[2] > floor_z and pos[2] < floor_z - 0.5:
                rep.fell.append(name)
                rep.errors.append(f"{name} fell through the floor")
                continue
            if any(c < a or c > b for c, a, b in zip(pos, lo, hi)):
                rep.fell.append(name)
                rep.errors.append(f"{name} left the world while settling")
                continue
            if name in movers or not gravity_down:
                continue
            moved = math.dist(pos, pos0)
            tilt = _angle_between(orn0, orn)
            if moved > DRIFT_M or tilt > TILT_DEG:
                rep.drifted.append((name, moved, tilt))
        if rep.drifted:
            worst = sorted(rep.drifted, key=lambda d: -d[1])[:4]
            rep.errors.append("with no input, " + ", ".join(
                f"{n} moved {m * 100:.0f} cm" + (f" and tipped {t:.0f}°" if t > TILT_DEG else "") for n, m, t in worst)
                + (f" (and {len(rep.drifted) - 4} more)" if len(rep.drifted) > 4 else ""))
    finally:
        sim.close()
    return rep


def _angle_between(q0, q1) -> float:
    dot = abs(sum(a * b for a, b in zip(q0, q1)))
    return math.degrees(2 * math.acos(min(1.0, dot)))


def prove(spec: WorldSpec, proof: Proof, seed: int | None = None) -> tuple[bool, str]:
    """Plays ``proof.script`` for ``proof.ticks`` ticks and evaluates ``proof.check``; returns (ok, what happened)."""
    sim = Simulation(spec, seed)
    try:
        check = _expr.parse(proof.check, variables=set(spec.variables),
                            tags={t for e in (*spec.entities, *spec.templates) for t in e.tags},
                            entities={e.name for e in (*spec.entities, *spec.templates)})
        for t in range(proof.ticks):
            sim.step(proof.script.get(t))
            if check(sim):
                return True, f"{proof.what}: `{proof.check}` held after {t + 1} ticks ({(t + 1) / 60:.1f} s)"
        state = ", ".join(f"{k} = {v:g}" for k, v in sorted(sim.variables.items()))
        return False, f"{proof.what}: `{proof.check}` did not hold within {proof.ticks} ticks ({state})"
    finally:
        sim.close()


def verify_and_repair(spec: WorldSpec, trace: ReasoningTrace, proof: Proof | None = None,
                      movers: set[str] | frozenset[str] = frozenset(), max_repairs: int = 3) -> WorldSpec:
    """Settles ``spec`` (and plays ``proof``); lifts and separates bodies until it holds.

    Repairs, each recorded in ``trace``: bodies starting inside each other or in the ground
    are moved apart (the lighter one up by the overlap); bodies that fell through the
    floor are raised above it. Returns the (possibly repaired) spec; raises
    :class:`ReasonerError` naming the unmet requirement when repairs run out.
    """
    for line in layout_report(spec):
        trace.add("layout", line)
    for attempt in range(max_repairs + 1):
        rep = settle(spec, movers)
        if rep.ok:
            trace.add("verification", f"settled {rep.ticks / 60:.1f} s with no input: nothing interpenetrates, "
                                      "falls through the floor, leaves the world or drifts", ticks=rep.ticks)
            break
        trace.add("verification", "settling failed: " + "; ".join(rep.errors[:4]), errors=rep.errors[:10])
        if attempt == max_repairs:
            raise ReasonerError("the world does not hold together when left alone: " + "; ".join(rep.errors[:3]),
                                requirement="verify.settle", trace=trace)
        spec = _lift_apart(spec, rep, trace)
    if proof is not None:
        ok, text = prove(spec, proof)
        trace.add("verification", ("proof passed: " if ok else "proof failed: ") + text, passed=ok)
        if not ok:
            raise ReasonerError(f"the mechanic does not work: {text}", requirement="verify.mechanic", trace=trace)
    return spec


def _lift_apart(spec: WorldSpec, rep: SettleReport, trace: ReasoningTrace) -> WorldSpec:
    ents = {e.name: e for e in spec.entities}
    moved: dict[str, float] = {}
    for a, b, depth in rep.overlaps:
        ea, eb = ents.get(a), ents.get(b)
        if ea is None or eb is None:
            continue
        target = eb if (ea.static or (not eb.static and eb.position[2] >= ea.position[2])) else ea
        if target.static:
            continue
        moved[target.name] = max(moved.get(target.name, 0.0), depth + 0.005)
    for name in rep.fell:
        if name in ents and not ents[name].static:
            moved[name] = max(moved.get(name, 0.0), 0.05)
    if not moved:
        raise ReasonerError("the world does not hold together and no repair applies: " + "; ".join(rep.errors[:3]),
                            requirement="verify.settle", trace=trace)
    out = []
    for e in spec.entities:
        if e.name in moved:
            x, y, z = e.position
            e = e.model_copy(update={"position": (x, y, z + moved[e.name])})
        out.append(e)
    trace.add("repair", "lifted " + ", ".join(f"{n} by {d * 100:.1f} cm" for n, d in sorted(moved.items())[:6])
              + " out of what it was stuck in, then re-verified", lifted=sorted(moved))
    return spec.model_copy(update={"entities": out})
