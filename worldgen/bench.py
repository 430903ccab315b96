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


def _lead_in(name: str) -> list:
    """The example's scripted actions up to and including its first one (e.g. the bowling throw)."""
    script = example_script(name)
    first = min(script, default=0)
    return [script.get(t) for t in range(first + 1)]


def raw_ticks_per_s(name: str, ticks: int) -> tuple[float, int]:
    """The same world after the same lead-in, then bare ``stepSimulation`` calls on its client."""
    sim = Simulation(example_spec(name))
    for actions in _lead_in(name):
        sim.step(actions)
    client, sub = sim._client, sim.spec.physics.substeps
    t = time.perf_counter()
    for _ in range(ticks):
        for _ in range(sub):
            p.stepSimulation(physicsClientId=client)
    dt = time.perf_counter() - t
    bodies = sum(1 for n in sim.entity_names if sim.live(n).body is not None)
    sim.close()
    return ticks / dt, bodies


def world_ticks_per_s(name: str, ticks: int) -> tuple[float, int]:
    """A World after the same lead-in: controls, contact events, detectors, rules, goals, rewind history."""
    world = example(name)
    for actions in _lead_in(name):
        world.step(actions)
    first = world.simulation.log.next_id
    t = time.perf_counter()
    world.step(None, ticks=ticks)
    dt = time.perf_counter() - t
    n = world.simulation.log.next_id - first
    world.close()
    return ticks / dt, n


def run(worlds: list[str], ticks: int, runs: int) -> list[dict]:
    rows = []
    for name in tqdm(worlds, desc="bench", unit="world", disable=None):
        raw, wld = [], []
        events = bodies = 0
        for _ in range(runs):
            r, bodies = raw_ticks_per_s(name, ticks)
            w, events = world_ticks_per_s(name, ticks)
            raw.append(r)
            wld.append(w)
        rows.append({"world": name, "bodies": bodies, "ticks": ticks, "events": events,
                     "raw_ticks_per_s": statistics.median(raw), "world_ticks_per_s": statistics.median(wld),
                     "ratio": statistics.median(w / r for w, r in zip(wld, raw))})
    return rows


def time_ops(name: str = "bowling", runs: int = 5) -> list[dict]:
    """Median milliseconds of the time-travel operations on an example mid-game."""
    import os
    import tempfile

    from worldgen.io import load_world

    world = example(name)
    for actions in _lead_in(name):
        world.step(actions)
    world.step(None, ticks=120)
    path = os.path.join(tempfile.mkdtemp(), "w.json")
    ops = {
        "snapshot()": lambda: world.snapshot(),
        "restore(snapshot)": lambda snap=world.snapshot(): world.restore(snap),
        "predict(ticks=60)": lambda: world.predict(None, ticks=60),
        "rewind(120) (replays ≤ 600 ticks)": lambda: (world.step(None, ticks=120), world.rewind(120)),
        "save(path)": lambda: world.save(path),
        "load(path) (validates the blob in a child)": lambda: load_world(path).close(),
    }
    rows = []
    for label, fn in ops.items():
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t) * 1e3)
        rows.append({"operation": label, "world": name, "median_ms": statistics.median(times)})
    world.close()
    return rows


def table(rows: list[dict]) -> str:
    out = ["| world | bodies | events logged | raw pybullet ticks/s | worldgen ticks/s | ratio |", "|---|---|---|---|---|---|"]
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
    ops = time_ops(runs=args.runs) if not args.world else []
    if args.json:
        print(json.dumps({"ticks": rows, "operations": ops}, indent=2))
        return
    print(table(rows))
    if ops:
        print("\n| operation (bowling, mid-game) | median ms |\n|---|---|")
        for r in ops:
            print(f"| {r['operation']} | {r['median_ms']:.1f} |")
