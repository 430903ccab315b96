"""Learning proof: SB3 PPO learns a worldgen task; the trained policy is compared with a random one.

Usage (from the repository root; about 6–8 minutes on 2 CPU cores)::

    .venv/bin/python benchmarks/learn_ppo.py                  # push_crate, the default task
    .venv/bin/python benchmarks/learn_ppo.py --task bowling   # the suggested task (see docs/rl.md: too easy for random)

It evaluates a random policy over ``--eval-episodes`` episodes with fixed seeds, trains PPO
(MlpPolicy, CPU, 2 torch threads, 2 environments in subprocesses) until ``--timesteps``
or ``--budget`` seconds, evaluates the trained policy on the same seeds, prints a JSON
summary and draws a learning curve (``--out``, default ``docs/ppo_learning.png``). The left
panel of the figure shows why bowling is a poor task for this test: a random policy
already scores more than half the pins, so no policy can score twice as much.

Exit status 0 when the trained policy's mean return is at least twice the random
policy's (or, when the random return is ≤ 0, above it by at least 2 per episode — the
shaped rewards below start every episode at 0 and a random policy stays near it).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from typing import Any

import numpy as np

from worldgen.envs import make_env

#: Task name -> make_env keywords. ``delta:`` rewards are potential-based shaping: the
#: return of an episode is Φ(end) − Φ(start), so the shaped optimum is the real one.
TASKS: dict[str, dict[str, Any]] = {
    "push_crate": dict(world="push_crate", obs="state", action="box", frame_skip=10,
                       reward="delta: 10*score - distance(crate, target) - 0.5*distance(robot, crate)"),
    "bowling": dict(world="bowling", obs="state", action="box", frame_skip=40, reward="score"),
}
SUCCESS_VARIABLE = {"push_crate": "score", "bowling": "score"}  # reported beside the return


def evaluate(env_kwargs: dict[str, Any], policy, episodes: int, seed: int) -> dict[str, Any]:
    """Mean return, episode length and success variable over ``episodes`` fixed-seed episodes."""
    env = make_env(**env_kwargs)
    env.action_space.seed(seed)
    returns, lengths, finals = [], [], []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        done, ret, n = False, 0.0, 0
        while not done:
            obs, r, terminated, truncated, info = env.step(policy(env, obs))
            ret += r
            n += 1
            done = terminated or truncated
        returns.append(ret)
        lengths.append(n)
        finals.append(info["variables"])
    env.close()
    return {"returns": returns, "mean_return": float(np.mean(returns)), "std_return": float(np.std(returns)),
            "mean_length": float(np.mean(lengths)), "final_variables": finals}


def random_policy(env, obs):
    return env.action_space.sample()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--task", choices=sorted(TASKS), default="push_crate")
    ap.add_argument("--timesteps", type=int, default=120_000, help="PPO timesteps (at most)")
    ap.add_argument("--budget", type=float, default=450.0, help="seconds of training (at most)")
    ap.add_argument("--eval-episodes", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-envs", type=int, default=2)
    ap.add_argument("--out", default="docs/ppo_learning.png", help="learning-curve PNG")
    ap.add_argument("--json", default=None, help="also write the summary here")
    ap.add_argument("--no-bowling-panel", action="store_true", help="skip the bowling random-baseline panel")
    args = ap.parse_args(argv)

    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import SubprocVecEnv, VecMonitor

    torch.set_num_threads(2)
    t_start = time.perf_counter()
    env_kwargs = TASKS[args.task]
    success_var = SUCCESS_VARIABLE[args.task]
    eval_seed = 10_000 + args.seed

    t = time.perf_counter()
    rand = evaluate(env_kwargs, random_policy, args.eval_episodes, eval_seed)
    rand["seconds"] = time.perf_counter() - t
    print(f"random policy: mean return {rand['mean_return']:.3f} ± {rand['std_return']:.3f} "
          f"over {args.eval_episodes} episodes ({rand['seconds']:.0f} s)", flush=True)

    bowling_random = None
    if args.task != "bowling" and not args.no_bowling_panel:
        t = time.perf_counter()
        bowling_random = evaluate(TASKS["bowling"], random_policy, args.eval_episodes, eval_seed)
        print(f"bowling random policy: mean score {bowling_random['mean_return']:.2f} "
              f"({time.perf_counter() - t:.0f} s)", flush=True)

    curve: list[tuple[int, float, float, float]] = []  # (timesteps, seconds, return, success)

    class Record(BaseCallback):
        def __init__(self, t0: float, budget: float) -> None:
            super().__init__()
            self.t0, self.budget = t0, budget

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                ep = info.get("episode")
                if ep is not None:
                    curve.append((self.num_timesteps, time.perf_counter() - self.t0, float(ep["r"]),
                                  float(info.get("variables", {}).get(success_var, 0.0))))
            return time.perf_counter() - self.t0 < self.budget

    factory = functools.partial(make_env, **env_kwargs)
    venv = VecMonitor(SubprocVecEnv([factory] * args.n_envs))
    model = PPO("MlpPolicy", venv, n_steps=1024, batch_size=256, n_epochs=10, learning_rate=3e-4, gamma=0.99,
                gae_lambda=0.95, seed=args.seed, device="cpu", verbose=0)
    t_train = time.perf_counter()
    model.learn(args.timesteps, callback=Record(t_train, args.budget))
    train_seconds = time.perf_counter() - t_train
    venv.close()
    print(f"trained {model.num_timesteps} timesteps in {train_seconds:.0f} s "
          f"({len(curve)} training episodes)", flush=True)

    def trained_policy(deterministic: bool):
        return lambda env, obs: model.predict(obs, deterministic=deterministic)[0]

    t = time.perf_counter()
    trained = evaluate(env_kwargs, trained_policy(True), args.eval_episodes, eval_seed)
    trained_stochastic = evaluate(env_kwargs, trained_policy(False), args.eval_episodes, eval_seed)
    print(f"trained policy: mean return {trained['mean_return']:.3f} ± {trained['std_return']:.3f} "
          f"(deterministic), {trained_stochastic['mean_return']:.3f} (sampled) "
          f"({time.perf_counter() - t:.0f} s)", flush=True)

    def success(res: dict[str, Any]) -> float:
        return float(np.mean([v.get(success_var, 0.0) for v in res["final_variables"]]))

    r_rand, r_trained = rand["mean_return"], trained["mean_return"]
    passed = r_trained >= 2 * r_rand if r_rand > 0 else r_trained >= r_rand + 2.0
    wall = time.perf_counter() - t_start
    summary = {
        "task": args.task, "env": dict(env_kwargs),
        "timesteps": int(model.num_timesteps), "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(wall, 1), "eval_episodes": args.eval_episodes,
        "eval_seeds": [eval_seed, eval_seed + args.eval_episodes - 1],
        "random_mean_return": round(r_rand, 3), "random_std_return": round(rand["std_return"], 3),
        "trained_mean_return": round(r_trained, 3), "trained_std_return": round(trained["std_return"], 3),
        "trained_sampled_mean_return": round(trained_stochastic["mean_return"], 3),
        f"random_mean_{success_var}": success(rand), f"trained_mean_{success_var}": success(trained),
        f"trained_sampled_mean_{success_var}": success(trained_stochastic),
        "random_mean_length": rand["mean_length"], "trained_mean_length": trained["mean_length"],
        "bowling_random_mean_score": None if bowling_random is None else round(bowling_random["mean_return"], 3),
        "passed": bool(passed), "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    plot(args.out, args.task, curve, summary, bowling_random, success_var)
    print(f"wrote {args.out}; {'PASSED' if passed else 'FAILED'} in {wall:.0f} s wall clock")
    return 0 if passed else 1


def plot(path: str, task: str, curve, summary: dict[str, Any], bowling_random, success_var: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 3 if bowling_random is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.2 * panels, 4.2))
    axes = list(np.atleast_1d(axes))
    if bowling_random is not None:
        ax = axes.pop(0)
        r = bowling_random["mean_return"]
        ax.bar(["random policy", "best possible\n(all 10 pins)", "2 × random"], [r, 10.0, 2 * r],
               color=["#999999", "#2e86de", "#e74c3c"])
        ax.axhline(10.0, color="#2e86de", lw=1, ls=":")
        ax.set_ylabel("episode return (pins knocked down)")
        ax.set_title(f"bowling: random already scores {r:.1f}/10,\nso 2× random is out of reach")
    steps = np.array([c[0] for c in curve])
    rets = np.array([c[2] for c in curve])
    succ = np.array([c[3] for c in curve])
    w = max(1, min(20, len(curve) // 5))
    smooth = np.convolve(rets, np.ones(w) / w, mode="valid") if len(rets) >= w else rets
    smooth_s = np.convolve(succ, np.ones(w) / w, mode="valid") if len(succ) >= w else succ
    ax = axes[0]
    ax.scatter(steps, rets, s=6, color="#9ecae1", label="training episodes")
    ax.plot(steps[w - 1:], smooth, color="#08519c", lw=2, label=f"mean of last {w}")
    ax.axhline(summary["random_mean_return"], color="#999999", ls="--",
               label=f"random policy ({summary['random_mean_return']:.2f})")
    ax.scatter([summary["timesteps"]], [summary["trained_mean_return"]], color="#e74c3c", zorder=5, s=40,
               label=f"trained, {summary['eval_episodes']} eval episodes ({summary['trained_mean_return']:.2f})")
    ax.set_xlabel("timesteps")
    ax.set_ylabel("episode return")
    ax.set_title(f"PPO on {task}: return ({summary['timesteps']} steps, {summary['train_seconds']:.0f} s)")
    ax.legend(fontsize=8, loc="center right")
    ax = axes[1]
    ax.plot(steps[w - 1:], smooth_s, color="#31a354", lw=2, label=f"training (mean of last {w})")
    ax.axhline(summary[f"random_mean_{success_var}"], color="#999999", ls="--", label="random policy")
    ax.scatter([summary["timesteps"]], [summary[f"trained_mean_{success_var}"]], color="#e74c3c", zorder=5,
               label="trained (eval)")
    ax.set_xlabel("timesteps")
    ax.set_ylabel(f"final {success_var} per episode")
    ax.set_title(f"{task}: {success_var} at episode end")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
