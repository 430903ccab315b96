"""Milliseconds per tick of :class:`renderer.audio.AudioMixer` with 1, 10 and 50 sounding voices.

    python benchmarks/bench_audio.py [--voices 1 10 50] [--ticks 60] [--runs 7] [--json]

A world of a floor and 50 resting steel balls is stepped; on one tick every ball gets a
synthetic strong ``contact`` (a 2.5 s metal ring, so all voices sound for the whole
measurement), then ``mix`` is timed on each following tick (physics stepping is not
counted; per run the median tick). "start tick" is the tick the voices start on (buffers
already cached, attack noise made per event). The Doppler runs listen from a camera riding
a ball that rolls past at 3 m/s, so every voice is resampled. The baseline is a bare numpy
``+=`` of 50 (samples_per_tick, 2) float32 buffers, measured in the same run, alternating
with the mixer. Each figure is the median of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from physics.events import Event
from physics.simulation import Simulation
from renderer.audio import AudioMixer
from worldgen.spec import Camera, Entity, Material, Plane, Sphere, WorldSpec

N_BALLS = 50


def _world() -> WorldSpec:
    metal = Material(name="steel", restitution=0.5)
    ents = [Entity(name="floor", kind="floor", shape=Plane(), static=True, material=Material(name="wood"))]
    for i in range(N_BALLS):
        ents.append(Entity(name=f"ball_{i}", kind="ball", shape=Sphere(radius=0.1), mass=1.0, material=metal,
                           position=(1.0 + 0.5 * (i % 10), -2.5 + 0.5 * (i // 10), 0.1)))
    slick = Material(name="ice", friction=0.0, linear_damping=0.0, angular_damping=0.0)
    ents.append(Entity(name="runner", kind="ball", shape=Sphere(radius=0.1), mass=1.0, material=slick,
                       position=(-3.0, -8.0, 0.1), velocity=(0.0, 3.0, 0.0)))  # carries the Doppler listener
    return WorldSpec(cameras=[Camera(name="main", position=(-3.0, 0.0, 1.5), target=(3.0, 0.0, 0.0)),
                              Camera(name="chase", mode="follow", follow="runner", position=(0.0, 0.0, 1.5),
                                     target=(1.0, 0.0, 1.5))], entities=ents)


def _run(sim: Simulation, voices: int, ticks: int, doppler: bool, event_id: int) -> tuple[float, float, int]:
    """(ms of the start tick, median ms of the following ticks, voices still sounding at the end)."""
    mixer = AudioMixer(sim.spec, doppler=doppler, camera="chase" if doppler else "main")
    evs = [Event(event_id + i, sim.tick, "contact", (f"ball_{i}", "floor"), None, {"impulse": 5.0})
           for i in range(voices)]
    sim.step()
    t0 = time.perf_counter()
    mixer.mix(sim, evs)
    start_ms = (time.perf_counter() - t0) * 1e3
    spent = []
    for _ in range(ticks):
        got = sim.step()
        t0 = time.perf_counter()
        mixer.mix(sim, got)
        spent.append(time.perf_counter() - t0)
    return start_ms, statistics.median(spent) * 1e3, mixer.active_voices


def _baseline(n: int, buffers: int, ticks: int) -> float:
    """Median ms of summing ``buffers`` (n, 2) float32 arrays with ``+=`` into a fresh one."""
    bufs = [np.full((n, 2), 0.001 * i, dtype=np.float32) for i in range(buffers)]
    spent = []
    for _ in range(ticks):
        t0 = time.perf_counter()
        acc = np.zeros((n, 2), dtype=np.float32)
        for b in bufs:
            acc += b
        spent.append(time.perf_counter() - t0)
    return statistics.median(spent) * 1e3


def main(args: argparse.Namespace) -> dict:
    sim = Simulation(_world(), seed=0)
    for _ in range(30):  # let the balls settle
        sim.step()
    _run(sim, max(args.voices), 5, False, 10_000_000)  # warm the buffer cache
    n = AudioMixer(sim.spec).samples_per_tick
    rows, base, event_id = [], [], 20_000_000
    for v in args.voices:
        plain, doppler, starts, alive = [], [], [], []
        for _ in range(args.runs):  # alternate baseline and mixer so both see the same machine load
            base.append(_baseline(n, N_BALLS, args.ticks))
            s, ms, left = _run(sim, v, args.ticks, False, event_id)
            event_id += 1000
            starts.append(s)
            plain.append(ms)
            alive.append(left)
            doppler.append(_run(sim, v, args.ticks, True, event_id)[1])
            event_id += 1000
        rows.append({"voices": v, "ms_per_tick": statistics.median(plain), "ms_per_tick_doppler":
                     statistics.median(doppler), "start_tick_ms": statistics.median(starts),
                     "sounding_at_end": min(alive)})
    sim.close()
    return {"rows": rows, "baseline_ms": statistics.median(base), "samples_per_tick": n, "ticks": args.ticks,
            "runs": args.runs}


def _table(res: dict) -> str:
    lines = ["| voices | mix ms/tick | mix ms/tick (Doppler) | start tick ms | still sounding |",
             "|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        lines.append(f"| {r['voices']} | {r['ms_per_tick']:.3f} | {r['ms_per_tick_doppler']:.3f} | "
                     f"{r['start_tick_ms']:.3f} | {r['sounding_at_end']} |")
    lines.append(f"| baseline: numpy += of {N_BALLS} ({res['samples_per_tick']}, 2) buffers | "
                 f"{res['baseline_ms']:.3f} | | | |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--voices", type=int, nargs="+", default=[1, 10, 50], help=f"voices per case (≤ {N_BALLS})")
    ap.add_argument("--ticks", type=int, default=60, help="ticks timed per run (≤ 140: voices ring 2.5 s)")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print JSON instead of a markdown table")
    a = ap.parse_args()
    if not all(1 <= v <= N_BALLS for v in a.voices) or not 1 <= a.ticks <= 140 or a.runs < 1:
        ap.error(f"voices must be in 1..{N_BALLS}, ticks in 1..140, runs ≥ 1")
    result = main(a)
    print(json.dumps(result, indent=2) if a.json else _table(result))
