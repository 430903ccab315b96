"""``check_world``: does a world hold together when left alone for a while?

Simulates the world with no input and reports what a person would call broken:
non-finite state, bodies that fall through the floor or leave the world, bodies that
explode, and bodies still interpenetrating at the end. Motion itself is not an error
(a pendulum should swing); bodies still moving fast are reported as notes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pybullet as p

from physics.simulation import Simulation
from worldgen.spec import WorldSpec

MAX_SPEED = 100.0  # m/s: faster than this after settling is an explosion
PENETRATION = 0.02  # m: deeper overlap at the end is an error


@dataclass
class CheckReport:
    """Problems found by :func:`check_world`; ``ok`` when there are no errors."""

    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ticks: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        head = "ok" if self.ok else f"{len(self.errors)} problem(s)"
        lines = [f"{head} after {self.ticks} ticks"]
        lines += [f"  error: {e}" for e in self.errors]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def check_world(spec: WorldSpec, seconds: float = 2.0, seed: int | None = None) -> CheckReport:
    """Settles ``spec`` for ``seconds`` with no input and reports what broke."""
    report = CheckReport()
    sim = Simulation(spec, seed)
    try:
        floor_z = _floor_height(spec)
        start_z = {n: sim.pose(n)[0][2] for n in sim.entity_names}
        ticks = max(1, round(seconds / spec.physics.timestep))
        for _ in range(ticks):
            sim.step(None)
            report.ticks += 1
            if sim.episode > 0:  # a rule reset the world: fine, it starts over
                break
        lo, hi = spec.physics.bounds
        for name in sim.entity_names:
            lv = sim.live(name)
            if lv.spec.static or lv.body is None:
                continue
            pos, orn = sim.pose(name)
            lin, ang = sim.velocity(name)
            values = (*pos, *orn, *lin, *ang)
            if not all(math.isfinite(v) for v in values):
                report.errors.append(f"{name}: state is not finite")
                continue
            speed = math.sqrt(sum(v * v for v in lin))
            if speed > MAX_SPEED:
                report.errors.append(f"{name}: moving at {speed:.0f} m/s after settling (exploded?)")
            if floor_z is not None and start_z.get(name, pos[2]) > floor_z and pos[2] < floor_z - 0.5:
                report.errors.append(f"{name}: fell through the floor (z = {pos[2]:.2f} m)")
            elif any(c < a or c > b for c, a, b in zip(pos, lo, hi)):
                report.notes.append(f"{name}: left the world bounds at {tuple(round(c, 2) for c in pos)}")
            elif speed > 0.5:
                report.notes.append(f"{name}: still moving at {speed:.2f} m/s")
        deepest: dict[tuple[str, str], float] = {}
        for c in p.getContactPoints(physicsClientId=sim._client):
            if c[8] < -PENETRATION:
                pair = (sim._by_body.get(c[1], "?"), sim._by_body.get(c[2], "?"))
                deepest[pair] = max(deepest.get(pair, 0.0), -c[8])
        for (a, b), depth in deepest.items():
            report.errors.append(f"{a} and {b} overlap by {depth * 100:.1f} cm")
    finally:
        sim.close()
    return report


def _floor_height(spec: WorldSpec) -> float | None:
    planes = [e.position[2] for e in spec.entities if e.shape.type == "plane" and e.rotation == (0.0, 0.0, 0.0)]
    return max(planes) if planes else None
