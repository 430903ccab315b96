"""Scale-out: many (design, seed) rollouts as Ray tasks, written to Parquet or ``.npz``.

Ray and pyarrow are optional (``pip install worldgen[scale]``); they are imported inside
the functions that need them, so ``import worldgen.scale`` stays light.

>>> from worldgen.scale import run_job
>>> t = run_job("bowling", seed=0, steps=5)
>>> t.states.shape[0], t.actions.shape
(5, (5, 2))

One job is one :class:`~worldgen.World` stepped ``steps`` times, each step holding one
action for ``frame_skip`` ticks; an episode that ends (goal, ``end`` effect or time
limit) is reset with the job's seed and the job goes on. :func:`run_job` runs a job in
this process; :func:`rollouts` runs many as Ray tasks (one task per job, at most
``num_workers`` at a time) and returns exactly what :func:`run_job` returns for each, in
job order. :func:`write_dataset` stores trajectories (one Parquet row per step);
:func:`generate_dataset` does both with a progress bar. See ``docs/scale.md``.

State vectors use the layout of :class:`worldgen.envs.WorldEnv` with ``obs="state"``:
14 numbers per tracked body (``x y z qx qy qz qw vx vy vz wx wy wz exists``; each
non-static, non-sensor entity, then each such template, whose slot holds its newest
spawned copy), then every variable, then ``time``. Actions are one number per control
of every player (``player.control``, spec order; 0 is no input).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

__all__ = ["Trajectory", "run_job", "rollouts", "write_dataset", "read_dataset", "generate_dataset",
           "ensure_ray", "state_layout", "action_layout"]

BUTTON_PRESS_P = 0.1  # the random policy presses each button on this share of steps
FORMAT = "worldgen.trajectories/1"

Policy = str | Callable[..., Any]


@dataclass(eq=False)
class Trajectory:
    """One job's rollout: ``T = steps`` rows of arrays, plus what made them.

    ``states[t]`` is the state before step ``t`` and ``next_states[t]`` the state after it
    (the final state of an episode when ``terminated[t] or truncated[t]``; the world was
    then reset, so ``states[t + 1]`` is a fresh start).
    """

    design: str  # the example name, or the design's title
    design_hash: str  # sha256 of the spec JSON that ran
    seed: int
    policy: str
    frame_skip: int
    reward_variable: str | None
    state_names: list[str]
    action_names: list[str]
    states: np.ndarray  # (T, D) float32
    next_states: np.ndarray  # (T, D) float32
    actions: np.ndarray  # (T, A) float32, the input held during the step
    rewards: np.ndarray  # (T,) float32: change of the reward variable over the step
    events: np.ndarray  # (T,) int32: events logged during the step
    event_kinds: np.ndarray  # (T, K) int32: the same by kind (physics.events.EVENT_KINDS)
    terminated: np.ndarray  # (T,) bool: a goal or an ``end`` effect ended the episode
    truncated: np.ndarray  # (T,) bool: the spec's time limit ended the episode
    ticks: np.ndarray  # (T,) int64: the world's tick after the step
    episodes: np.ndarray  # (T,) int32: episode number of the step (counts resets within the job)
    seconds: float = field(default=0.0)  # wall time of the job (not part of equality)

    ARRAYS = ("states", "next_states", "actions", "rewards", "events", "event_kinds", "terminated", "truncated",
              "ticks", "episodes")

    def __len__(self) -> int:
        return int(self.rewards.shape[0])

    def same_as(self, other: Trajectory) -> bool:
        """True when both hold the same rollout (every array bit for bit; ``seconds`` ignored)."""
        meta = [f.name for f in fields(self) if f.name not in self.ARRAYS and f.name != "seconds"]
        return (all(getattr(self, k) == getattr(other, k) for k in meta)
                and all(np.array_equal(getattr(self, k), getattr(other, k)) for k in self.ARRAYS))

    def metadata(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.ARRAYS}

    def __repr__(self) -> str:
        return (f"Trajectory({self.design!r}, seed={self.seed}, policy={self.policy!r}, steps={len(self)}, "
                f"return={float(self.rewards.sum()):g}, episodes={int(self.episodes[-1]) + 1 if len(self) else 0})")


# ---------------------------------------------------------------------------- designs


def _design(design: Any, seed: int) -> tuple[Any, Any, str, str | None]:
    """(spec, layout spec, label, example name or None) of ``design`` for ``seed``.

    A :class:`~worldgen.distribution.WorldDistribution` gives its level ``seed``; its state
    vectors keep the layout of the distribution's design, so every level has the same one
    (an entity a level left out reads as ``exists = 0``).
    """
    from worldgen.distribution import WorldDistribution, _resolve_design

    if isinstance(design, WorldDistribution):
        if seed not in design:
            raise ValueError(f"seed {seed} is not a level of {design!r}; with a distribution, seeds are level ids")
        label = design.name or design.design.metadata.title
        return design.level(seed), design.design, label, design.name
    spec, name = _resolve_design(design)
    return spec, spec, name or spec.metadata.title, name


def state_layout(spec: Any) -> list[str]:
    """Names of the state vector's entries (``ball.x`` ... ``score`` ... ``time``), as in ``WorldEnv``."""
    from worldgen.envs import StateReader

    return StateReader(spec).layout


def action_layout(spec: Any) -> list[tuple[str, str]]:
    """(player, control) of each entry of the action vector."""
    return [(pl.name, c.name) for pl in spec.players for c in pl.controls]


# ---------------------------------------------------------------------------- policies


def _random_policy(spec: Any, rng: np.random.Generator) -> Callable[[Any, np.ndarray, int], dict | None]:
    controls = [(pl.name, c) for pl in spec.players for c in pl.controls]

    def act(world: Any, state: np.ndarray, step: int) -> dict | None:
        out: dict[str, dict[str, float]] = {}
        for player, c in controls:
            if c.type == "button":
                v = float(c.range[1]) if rng.random() < BUTTON_PRESS_P else 0.0
            else:
                v = float(rng.uniform(c.range[0], c.range[1]))
            if v != 0.0:
                out.setdefault(player, {})[c.name] = v
        return out or None

    return act


def _policy_name(policy: Policy) -> str:
    if isinstance(policy, str):
        return policy
    return getattr(policy, "__qualname__", None) or type(policy).__name__


# ---------------------------------------------------------------------------- one job


def run_job(design: Any, seed: int, steps: int, policy: Policy = "random", frame_skip: int = 4,
            reward: str | None = None) -> Trajectory:
    """One rollout in this process (what each Ray task of :func:`rollouts` runs).

    Args:
        design: a WorldSpec, spec dict, example name, or a
            :class:`~worldgen.distribution.WorldDistribution` (``seed`` is then the level id).
        seed: seeds the world (``World(spec, seed)``, and every reset) and the random policy.
        steps: env steps; each holds one action for ``frame_skip`` ticks.
        policy: ``"random"`` (axes uniform in their range, buttons pressed on
            :data:`BUTTON_PRESS_P` of the steps), ``"script"`` (the example's scripted
            actions by tick, from each episode's start), or a callable
            ``policy(world, state, step) -> {player: {control: value}} | None``.
        reward: the variable whose change is the reward (default ``score`` if the world has
            one, else its first variable; no variables: 0).
    """
    from physics.events import EVENT_KINDS
    from worldgen.world import World

    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be an int ≥ 0, got {steps!r}")
    if isinstance(frame_skip, bool) or int(frame_skip) != frame_skip or frame_skip < 1:
        raise ValueError(f"frame_skip must be an int ≥ 1, got {frame_skip!r}")
    steps, frame_skip, seed = int(steps), int(frame_skip), int(seed)
    t0 = time.perf_counter()
    spec, layout_spec, label, example = _design(design, seed)
    if reward is None:
        reward = "score" if "score" in spec.variables else next(iter(spec.variables), None)
    elif reward not in spec.variables:
        raise ValueError(f"reward {reward!r}: no such variable; variables: {', '.join(spec.variables) or '(none)'}")
    script: dict[int, Any] | None = None
    if policy == "random":
        act = _random_policy(spec, np.random.default_rng([seed, 0x5CA1E]))
    elif policy == "script":
        if example is None:
            raise ValueError("policy='script' needs an example design (its script); pass a callable policy instead")
        from worldgen.example_worlds import example_script

        script = example_script(example)
        act = None
    elif callable(policy):
        act = policy
    else:
        raise ValueError(f"policy must be 'random', 'script' or a callable, got {policy!r}")
    controls = action_layout(spec)
    kind_index = {k: i for i, k in enumerate(EVENT_KINDS)}
    from worldgen.envs import StateReader

    reader = StateReader(layout_spec)

    def read(world: Any) -> np.ndarray:
        return reader(world.simulation)

    world = World(spec, seed, history_every=0)
    try:
        D, A = len(reader.layout), len(controls)
        states = np.zeros((steps, D), np.float32)
        next_states = np.zeros((steps, D), np.float32)
        actions = np.zeros((steps, A), np.float32)
        rewards = np.zeros(steps, np.float32)
        events = np.zeros(steps, np.int32)
        kinds = np.zeros((steps, len(EVENT_KINDS)), np.int32)
        terminated = np.zeros(steps, bool)
        truncated = np.zeros(steps, bool)
        ticks = np.zeros(steps, np.int64)
        episodes = np.zeros(steps, np.int32)
        episode = 0
        state = read(world)
        for t in range(steps):
            states[t] = state
            before = world.simulation.variables.get(reward, 0.0) if reward else 0.0
            held = script.get(world.tick) if script is not None else act(world, state, t)
            for k, (pl, c) in enumerate(controls):
                if held and pl in held and c in held[pl]:
                    actions[t, k] = held[pl][c]
            for tick in range(frame_skip):
                a = script.get(world.tick) if script is not None and tick else held
                for ev in world.step(a).events:
                    kinds[t, kind_index[ev.kind]] += 1
                if world.terminated or world.truncated:
                    break
            state = read(world)
            next_states[t] = state
            rewards[t] = (world.simulation.variables.get(reward, 0.0) - before) if reward else 0.0
            events[t] = kinds[t].sum()
            terminated[t], truncated[t] = world.terminated, world.truncated and not world.terminated
            ticks[t], episodes[t] = world.tick, episode
            if world.terminated or world.truncated:
                world.reset(seed)
                episode += 1
                state = read(world)
    finally:
        world.close()
    return Trajectory(
        design=label, design_hash=hashlib.sha256(spec.model_dump_json().encode()).hexdigest(), seed=seed,
        policy=_policy_name(policy), frame_skip=frame_skip, reward_variable=reward,
        state_names=state_layout(layout_spec),
        action_names=[f"{p}.{c}" for p, c in controls], states=states, next_states=next_states, actions=actions,
        rewards=rewards, events=events, event_kinds=kinds, terminated=terminated, truncated=truncated, ticks=ticks,
        episodes=episodes, seconds=time.perf_counter() - t0)


# ---------------------------------------------------------------------------- Ray


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("worldgen.scale needs Ray: pip install 'worldgen[scale]' (or pip install ray)") from None
    return ray


def ensure_ray(num_workers: int | None = None):
    """The ``ray`` module, initialised on this machine with ``num_workers or 2`` CPUs unless it already is."""
    ray = _import_ray()
    if not ray.is_initialized():
        ray.init(num_cpus=num_workers or 2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    return ray


_REMOTE = None


def _remote_job():
    global _REMOTE
    if _REMOTE is None:
        ray = _import_ray()
        _REMOTE = ray.remote(num_cpus=1, max_retries=0)(run_job)
    return _REMOTE


def _jobs(designs: Any, seeds: Iterable[int]) -> list[tuple[Any, int]]:
    from worldgen.distribution import WorldDistribution
    from worldgen.spec import WorldSpec

    if isinstance(designs, (str, bytes, dict, WorldSpec, WorldDistribution)):
        designs = [designs]
    seeds = [int(s) for s in seeds]
    return [(d, s) for d in designs for s in seeds]


def rollouts(designs: Any, seeds: Iterable[int], steps: int, policy: Policy = "random",
             num_workers: int | None = None, frame_skip: int = 4, reward: str | None = None,
             progress: bool = False) -> list[Trajectory]:
    """Runs every (design, seed) pair as a Ray task; returns their trajectories in job order.

    ``designs`` is one design or a list (see :func:`run_job`); jobs are designs × seeds.
    At most ``num_workers`` tasks run at once (default: the CPUs Ray has). Ray is started
    with ``num_workers or 2`` CPUs if it is not running yet; it is left running (call
    ``ray.shutdown()`` when done). Each trajectory equals :func:`run_job` of the same job.
    """
    jobs = _jobs(designs, seeds)
    if not jobs:
        return []
    ray = ensure_ray(num_workers)
    remote = _remote_job()
    limit = num_workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="rollouts", unit="job")
    results: list[Trajectory | None] = [None] * len(jobs)
    pending: dict[Any, int] = {}
    nxt = 0
    try:
        while nxt < len(jobs) or pending:
            while nxt < len(jobs) and len(pending) < limit:
                design, seed = jobs[nxt]
                pending[remote.remote(design, seed, steps, policy, frame_skip, reward)] = nxt
                nxt += 1
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                i = pending.pop(ref)
                try:
                    results[i] = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - name the job that failed
                    design, seed = jobs[i]
                    label = design if isinstance(design, str) else type(design).__name__
                    raise RuntimeError(f"rollout job {i} (design {label!r}, seed {seed}) failed: {e}") from e
                if bar is not None:
                    bar.update(1)
    finally:
        for ref in pending:
            ray.cancel(ref, force=True)
        if bar is not None:
            bar.close()
    return results  # type: ignore[return-value]


# ---------------------------------------------------------------------------- datasets


def write_dataset(trajectories: Sequence[Trajectory], path: str | os.PathLike[str]) -> str:
    """Writes ``trajectories`` to ``path``: ``.parquet`` (one row per step) or ``.npz``.

    Parquet columns: ``trajectory design design_hash seed policy step tick episode state
    next_state action reward events event_kinds terminated truncated``; the schema metadata
    (key ``worldgen``) holds each trajectory's metadata (state and action names, ...)
    and the event kind names. Returns the path written.
    """
    from physics.events import EVENT_KINDS

    path = os.fspath(path)
    meta = {"format": FORMAT, "event_kinds": list(EVENT_KINDS),
            "trajectories": [t.metadata() for t in trajectories]}
    tmp = f"{path}.tmp"
    try:
        if path.endswith(".npz"):
            arrays = {f"t{i}.{k}": getattr(t, k) for i, t in enumerate(trajectories) for k in Trajectory.ARRAYS}
            with open(tmp, "wb") as f:
                np.savez_compressed(f, __meta__=np.array(json.dumps(meta)), **arrays)
        elif path.endswith(".parquet"):
            _write_parquet(list(trajectories), meta, tmp)
        else:
            raise ValueError(f"unknown dataset format for {path!r}: use a .parquet or .npz path")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _write_parquet(ts: list[Trajectory], meta: dict[str, Any], path: str, chunk: int = 64) -> None:
    """Writes ``chunk`` trajectories per row group, so memory stays bounded by a chunk."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("Parquet output needs pyarrow: pip install 'worldgen[scale]' (or write a .npz)") from None
    schema = pa.schema([
        ("trajectory", pa.int32()), ("design", pa.string()), ("design_hash", pa.string()), ("seed", pa.int64()),
        ("policy", pa.string()), ("step", pa.int32()), ("tick", pa.int64()), ("episode", pa.int32()),
        ("state", pa.list_(pa.float32())), ("next_state", pa.list_(pa.float32())), ("action", pa.list_(pa.float32())),
        ("reward", pa.float32()), ("events", pa.int32()), ("event_kinds", pa.list_(pa.int32())),
        ("terminated", pa.bool_()), ("truncated", pa.bool_()),
    ], metadata={"worldgen": json.dumps(meta)})

    def lists(arrays: list[np.ndarray], typ: Any) -> Any:
        rows = [a.reshape(len(a), -1) for a in arrays if len(a)]
        widths = np.concatenate([np.full(len(r), r.shape[1], np.int64) for r in rows])
        offsets = np.concatenate([[0], np.cumsum(widths)]).astype(np.int32)
        values = np.concatenate([r.ravel() for r in rows])
        return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, typ))

    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for first in range(0, len(ts), chunk):
            part = ts[first:first + chunk]
            index = [first + k for k, t in enumerate(part) if len(t)]
            part = [t for t in part if len(t)]
            n = [len(t) for t in part]
            if not part:
                continue

            def rep(values: list[Any], typ: Any) -> Any:
                return pa.array([v for v, k in zip(values, n) for _ in range(k)], typ)

            def cat(key: str, typ: Any) -> Any:
                return pa.array(np.concatenate([getattr(t, key) for t in part]), typ)

            cols = [
                rep(index, pa.int32()), rep([t.design for t in part], pa.string()),
                rep([t.design_hash for t in part], pa.string()), rep([t.seed for t in part], pa.int64()),
                rep([t.policy for t in part], pa.string()),
                pa.array(np.concatenate([np.arange(k, dtype=np.int32) for k in n]), pa.int32()),
                cat("ticks", pa.int64()), cat("episodes", pa.int32()),
                lists([t.states for t in part], pa.float32()), lists([t.next_states for t in part], pa.float32()),
                lists([t.actions for t in part], pa.float32()), cat("rewards", pa.float32()),
                cat("events", pa.int32()), lists([t.event_kinds for t in part], pa.int32()),
                cat("terminated", pa.bool_()), cat("truncated", pa.bool_()),
            ]
            writer.write_table(pa.Table.from_arrays(cols, schema=schema))


def read_dataset(path: str | os.PathLike[str]) -> list[Trajectory]:
    """The trajectories :func:`write_dataset` wrote to ``path`` (``.parquet`` or ``.npz``)."""
    path = os.fspath(path)
    if path.endswith(".npz"):
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            return [Trajectory(**m, **{k: z[f"t{i}.{k}"] for k in Trajectory.ARRAYS})
                    for i, m in enumerate(meta["trajectories"])]
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[b"worldgen"])
    traj = table.column("trajectory").to_numpy()  # written in trajectory order
    bounds = np.searchsorted(traj, np.arange(len(meta["trajectories"]) + 1))
    out = []
    for i, m in enumerate(meta["trajectories"]):
        rows = table.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))

        def mat(col: str, width: int, dtype) -> np.ndarray:
            flat = rows.column(col).combine_chunks().flatten().to_numpy(zero_copy_only=False)
            return flat.astype(dtype).reshape(rows.num_rows, width)

        D, A, K = len(m["state_names"]), len(m["action_names"]), len(meta["event_kinds"])
        vec = lambda col, dtype: rows.column(col).to_numpy(zero_copy_only=False).astype(dtype)  # noqa: E731
        out.append(Trajectory(
            **m, states=mat("state", D, np.float32), next_states=mat("next_state", D, np.float32),
            actions=mat("action", A, np.float32), rewards=vec("reward", np.float32), events=vec("events", np.int32),
            event_kinds=mat("event_kinds", K, np.int32), terminated=vec("terminated", bool),
            truncated=vec("truncated", bool), ticks=vec("tick", np.int64), episodes=vec("episode", np.int32)))
    return out


def generate_dataset(designs: Any, seeds: Iterable[int], steps: int, path: str | os.PathLike[str],
                     num_workers: int | None = None, policy: Policy = "random", frame_skip: int = 4,
                     reward: str | None = None) -> list[Trajectory]:
    """:func:`rollouts` with a progress bar over finished jobs, then :func:`write_dataset` to ``path``."""
    trajectories = rollouts(designs, seeds, steps, policy=policy, num_workers=num_workers, frame_skip=frame_skip,
                            reward=reward, progress=True)
    write_dataset(trajectories, path)
    return trajectories
