"""RL throughput: env steps/s (state and 64×64 rgb) vs raw pybullet, and Ray rollouts 2 workers vs 1.

    python benchmarks/bench_rl.py [--world bowling ...] [--steps 250] [--runs 5] [--json]

(a) ``make_env(world, obs="state", frame_skip=4)`` on one core against raw pybullet
    stepping of the same world: both start from the example's scripted lead-in (e.g. the
    bowling throw); the env then takes ``--steps`` no-op steps, raw pybullet makes the same
    number of ``frame_skip × substeps`` bare ``stepSimulation`` calls on the same bodies
    (timing stops when the episode ends — an ended env steps one tick per step — and raw
    stepping is timed over the same number of steps, so both simulate the same motion).
    Goal: ≥ 0.5×. Random-action env steps/s (reset when an episode ends) are shown too:
    different dynamics, so no ratio.
(b) the same env with ``obs="rgb"`` at 64×64 (flat-colour rasteriser).
(c) :func:`worldgen.scale.rollouts` throughput (env steps/s over all jobs) with 2 Ray
    workers vs 1, on one local Ray with 2 CPUs, after a warm-up that starts the workers.

Medians of ``--runs`` alternating runs in one process; (a) and (b) are pinned to one core.
If :mod:`worldgen.envs` is missing, (a) and (b) step the World API directly (said in the table).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import pybullet as p

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from physics.simulation import Simulation  # noqa: E402
from worldgen.example_worlds import example_script, example_spec, examples  # noqa: E402

FRAME_SKIP = 4


def _lead_in(name: str) -> list:
    script = example_script(name)
    first = min(script, default=0)
    return [script.get(t) for t in range(first + 1)]


def raw_steps_per_s(name: str, steps: int) -> float:
    """Bare ``stepSimulation`` calls, ``frame_skip × substeps`` per env step, after the lead-in."""
    sim = Simulation(example_spec(name))
    for actions in _lead_in(name):
        sim.step(actions)
    client, calls = sim._client, FRAME_SKIP * sim.spec.physics.substeps
    t = time.perf_counter()
    for _ in range(steps):
        for _ in range(calls):
            p.stepSimulation(physicsClientId=client)
    dt = time.perf_counter() - t
    sim.close()
    return steps / dt


class _WorldApiEnv:
    """Fallback when worldgen.envs is absent: World.step + a state vector, like WorldEnv does."""

    def __init__(self, name: str, obs: str) -> None:
        from worldgen.scale import _StateReader
        from worldgen.world import World

        self.world = World(example_spec(name), history_every=0)
        self.obs = obs
        self.read = _StateReader(self.world.spec)

    def step_actions(self, actions) -> None:
        for _ in range(FRAME_SKIP):
            self.world.step(actions)
        return self.read(self.world) if self.obs == "state" else self.world.render((64, 64))

    def close(self) -> None:
        self.world.close()


def _make(name: str, obs: str):
    try:
        from worldgen.envs import make_env
    except ImportError:
        return _WorldApiEnv(name, obs), False
    return make_env(name, obs=obs, frame_skip=FRAME_SKIP, size=(64, 64), reward=None), True


def env_steps_per_s(name: str, steps: int, obs: str, policy: str = "noop") -> tuple[float, int]:
    """(env steps/s, steps timed) after the lead-in (applied tick by tick on the env's world, as raw does).

    With no-op actions the timing stops when the episode ends (an ended env steps one tick
    per step), and raw stepping is then timed over as many steps; random actions reset.
    """
    env, gym = _make(name, obs)
    try:
        world = env.world
        if gym:
            env.reset(seed=0)
            world = env.world
        for actions in _lead_in(name):  # the same first ticks as the raw side
            world.step(actions)
        done = 0
        if gym:
            rng = np.random.default_rng(0)
            noop = np.zeros(env.action_space.shape, env.action_space.dtype)
            lo, hi = env.action_space.low, env.action_space.high
            acts = [noop if policy == "noop" else rng.uniform(lo, hi).astype(np.float32) for _ in range(steps)]
            t = time.perf_counter()
            for a in acts:
                _, _, term, trunc, _ = env.step(a)
                done += 1
                if term or trunc:
                    if policy == "noop":
                        break
                    env.reset()
            dt = time.perf_counter() - t
        else:
            t = time.perf_counter()
            for _ in range(steps):
                env.step_actions(None)
                done += 1
                if world.terminated or world.truncated:
                    break
            dt = time.perf_counter() - t
        return done / dt, done
    finally:
        env.close()


def bench_env(worlds: list[str], steps: int, runs: int) -> tuple[list[dict], bool]:
    from tqdm import tqdm

    _, gym = _make(worlds[0], "state")
    rows = []
    for name in tqdm(worlds, desc="env", unit="world", disable=None):
        raw, state, rand, rgb = [], [], [], []
        for _ in range(runs):
            rate, timed = env_steps_per_s(name, steps, "state")
            state.append(rate)
            raw.append(raw_steps_per_s(name, timed))
            rand.append(env_steps_per_s(name, steps, "state", policy="random")[0])
            rgb.append(env_steps_per_s(name, max(steps // 4, 20), "rgb")[0])
        timed_steps = timed
        rows.append({"world": name, "steps_timed": timed_steps, "raw_steps_per_s": statistics.median(raw),
                     "state_steps_per_s": statistics.median(state),
                     "ratio": statistics.median(s / r for s, r in zip(state, raw)),
                     "random_state_steps_per_s": statistics.median(rand),
                     "rgb64_steps_per_s": statistics.median(rgb)})
    return rows, gym


def bench_ray(runs: int, jobs_per_design: int, steps: int) -> dict:
    """Env steps/s of rollouts with 1 and 2 workers on one Ray with 2 CPUs (alternating runs)."""
    import ray

    from worldgen.scale import rollouts, run_job

    designs = ["bowling", "push_crate"]
    seeds = list(range(jobs_per_design))
    total = len(designs) * len(seeds) * steps
    t = time.perf_counter()
    for d in designs:
        for s in seeds[:2]:
            run_job(d, s, steps)
    serial = 4 * steps / (time.perf_counter() - t)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        rollouts(designs, [0, 1], 20, num_workers=2)  # start and warm both workers
        one, two = [], []
        for _ in range(runs):
            for n, out in ((1, one), (2, two)):
                t = time.perf_counter()
                rollouts(designs, seeds, steps, num_workers=n)
                out.append(total / (time.perf_counter() - t))
    finally:
        ray.shutdown()
    return {"jobs": len(designs) * len(seeds), "steps_per_job": steps, "in_process_steps_per_s": serial,
            "one_worker_steps_per_s": statistics.median(one), "two_workers_steps_per_s": statistics.median(two),
            "ratio": statistics.median(b / a for a, b in zip(one, two))}


def table(rows: list[dict], gym: bool, ray_row: dict | None) -> str:
    api = "`make_env`" if gym else "World API (worldgen.envs missing)"
    out = [f"Env: {api}, frame_skip={FRAME_SKIP}, one core; medians.", "",
           "| world | steps timed | raw pybullet steps/s | state env steps/s | ratio | state, random actions "
           "| rgb 64×64 steps/s |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['world']} | {r['steps_timed']} | {r['raw_steps_per_s']:.0f} | {r['state_steps_per_s']:.0f} | "
                   f"{r['ratio']:.2f}× | {r['random_state_steps_per_s']:.0f} | {r['rgb64_steps_per_s']:.0f} |")
    if ray_row:
        r = ray_row
        out += ["", f"Ray rollouts: {r['jobs']} jobs (bowling, push_crate) × {r['steps_per_job']} steps, random "
                    "policy, frame_skip 4; env steps/s over all jobs.", "",
                "| in-process, serial | Ray, 1 worker | Ray, 2 workers | 2 workers / 1 |", "|---|---|---|---|",
                f"| {r['in_process_steps_per_s']:.0f} | {r['one_worker_steps_per_s']:.0f} | "
                f"{r['two_workers_steps_per_s']:.0f} | {r['ratio']:.2f}× |"]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--world", action="append", help="example world (repeatable; default: all)")
    ap.add_argument("--steps", type=int, default=250, help="env steps per timed run (state)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--ray-jobs", type=int, default=6, help="jobs per design in the Ray part")
    ap.add_argument("--ray-steps", type=int, default=250)
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if cpus:
        os.sched_setaffinity(0, {min(cpus)})  # (a), (b): one core
    rows, gym = bench_env(args.world or examples(), args.steps, args.runs)
    if cpus:
        os.sched_setaffinity(0, cpus)  # Ray's workers inherit the affinity: give them every core back
    ray_row = None if args.no_ray else bench_ray(args.runs, args.ray_jobs, args.ray_steps)
    if args.json:
        print(json.dumps({"env": rows, "make_env": gym, "ray": ray_row}, indent=2))
    else:
        print(table(rows, gym, ray_row))


if __name__ == "__main__":
    main()
