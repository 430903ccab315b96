"""Performance harness: ticks/s of worlds with rules and events vs raw pybullet.

For each example world, both sides start from the same state after the same first
tick (e.g. the bowling throw); "raw" then calls only ``stepSimulation`` (``substeps``
per tick) on that client, "worldgen" calls ``World.step`` (controls, contact events,
detectors, rules, goals, rewind history). Medians of several alternating runs in one
process. Run with ``worldgen bench`` or ``python benchmarks/bench_physics.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import pybullet as p
from tqdm import tqdm

from physics.simulation import Simulation
from worldgen.example_worlds import example, example_script, example_spec, examples


def raw_ticks_per_s(name: str, ticks: int, first_action) -> tuple[float, int]:
    """The same world after the same first tick, then bare ``stepSimulation`` calls on its client."""
    sim = Simulation(example_spec(name))
    sim.step(first_action)
    client, sub = sim._client, sim.spec.physics.substeps
    t = time.perf_counter()
    for _ in range(ticks - 1):
        for _ in range(sub):
            p.stepSimulation(physicsClientId=client)
    dt = time.perf_counter() - t
    bodies = sum(1 for n in sim.entity_names if sim.live(n).body is not None)
    sim.close()
    return (ticks - 1) / dt, bodies


def world_ticks_per_s(name: str, ticks: int, first_action) -> tuple[float, int]:
    """A World: controls, contacts → events, detectors, rules, goals, rewind history."""
    world = example(name)
    world.step(first_action)
    t = time.perf_counter()
    world.step(None, ticks=ticks - 1)
    dt = time.perf_counter() - t
    n = len(world.events)
    world.close()
    return (ticks - 1) / dt, n


def run(worlds: list[str], ticks: int, runs: int) -> list[dict]:
    rows = []
    for name in tqdm(worlds, desc="bench", unit="world", disable=None):
        raw, wld = [], []
        events = bodies = 0
        for _ in range(runs):
            r, bodies = raw_ticks_per_s(name, ticks, example_script(name).get(0))
            w, events = world_ticks_per_s(name, ticks, example_script(name).get(0))
            raw.append(r)
            wld.append(w)
        rows.append({"world": name, "bodies": bodies, "ticks": ticks, "events": events,
                     "raw_ticks_per_s": statistics.median(raw), "world_ticks_per_s": statistics.median(wld),
                     "ratio": statistics.median(w / r for w, r in zip(wld, raw))})
    return rows


def table(rows: list[dict]) -> str:
    out = ["| world | bodies | events | raw pybullet ticks/s | worldgen ticks/s | ratio |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['world']} | {r['bodies']} | {r['events']} | {r['raw_ticks_per_s']:.0f} | "
                   f"{r['world_ticks_per_s']:.0f} | {r['ratio']:.2f}× |")
    return "\n".join(out)


def add_arguments(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--world", action="append", help="example world (repeatable; default: all)")
    ap.add_argument("--ticks", type=int, default=600)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")


def main(args: argparse.Namespace) -> None:
    rows = run(args.world or examples(), args.ticks, args.runs)
    print(json.dumps(rows, indent=2) if args.json else table(rows))
