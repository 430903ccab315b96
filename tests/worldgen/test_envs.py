"""RL environments: gymnasium ``WorldEnv`` / ``make_env`` and the PettingZoo parallel env."""

from __future__ import annotations

import functools
import json
import pickle
import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from worldgen.envs import ENV_ID, WorldEnv, make_env, register_envs
from worldgen.example_worlds import example_script, example_spec, examples
from worldgen.multiagent import WorldParallelEnv, make_parallel_env

NAMES = examples()
FAST = {"frame_skip": 60, "size": (32, 32)}  # one second a step: checks stay quick


def _no_controls_spec() -> dict:
    return {
        "metadata": {"title": "nothing to do"},
        "entities": [
            {"name": "ground", "kind": "floor", "shape": {"type": "plane"}, "static": True},
            {"name": "ball", "kind": "ball", "shape": {"type": "sphere", "radius": 0.1}, "position": [0, 0, 1]},
        ],
        "variables": {"score": {"value": 0}},
    }


def _rollout(env: WorldEnv, seed: int, steps: int) -> tuple[list[np.ndarray], list[float]]:
    """Observations and rewards over ``steps`` random actions (resetting at episode ends)."""
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    observations, rewards = [obs], []
    for _ in range(steps):
        obs, r, terminated, truncated, _ = env.step(env.action_space.sample())
        observations.append(obs)
        rewards.append(r)
        if terminated or truncated:
            obs, _ = env.reset()
            observations.append(obs)
    return observations, rewards


# ---------------------------------------------------------------- API checkers


@pytest.mark.parametrize("obs", ["state", "rgb"])
@pytest.mark.parametrize("name", NAMES)
def test_checkers_pass_for_every_example(name, obs):
    env = make_env(name, obs=obs, reward=None, render_mode="rgb_array", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # infinite state bounds, 32² images: advice, not errors
        gym_check_env(env)
        sb3_check_env(env)
    env.close()


def test_gbuffer_observation_passes_checker():
    env = make_env("air_hockey", obs="gbuffer", **FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check_env(env)
    obs, _ = env.reset(seed=0)
    assert set(obs) == {"albedo", "depth", "segmentation"}
    assert obs["albedo"].shape == (32, 32, 3) and obs["albedo"].dtype == np.uint8
    assert obs["depth"].shape == (32, 32) and obs["depth"].dtype == np.float32
    seg = obs["segmentation"]
    assert seg.dtype == np.int32 and seg.min() >= -1
    assert env.segmentation_names[int(seg.max())] in {e.name for e in env.world.spec.entities}
    assert env.observation_space.contains(obs)


def test_discrete_actions_pass_checkers():
    env = make_env("bowling", action="discrete", **FAST)
    assert env.action_space == gymnasium.spaces.Discrete(1 + 1 + 2)  # no-op, throw, aim at -1 and +1
    assert env.action_names == ["noop", "p1.throw=press", "p1.aim=-1", "p1.aim=1"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check_env(env)
        sb3_check_env(env)


# ---------------------------------------------------------------- spaces, observations, actions


def test_state_layout_matches_the_observation():
    env = make_env("bowling")
    obs, info = env.reset(seed=0)
    layout = env.observation_layout
    assert obs.shape == (len(layout),) and obs.dtype == np.float32
    assert layout[:14] == [f"ball.{f}" for f in ("x", "y", "z", "qx", "qy", "qz", "qw", "vx", "vy", "vz",
                                                 "wx", "wy", "wz", "exists")]
    assert layout[-3:] == ["score", "throws", "time"]
    assert "floor.x" not in layout and "pit.x" not in layout  # static and sensor entities are left out
    ball = env.world.entities["ball"]
    assert obs[layout.index("ball.x"):layout.index("ball.x") + 3] == pytest.approx(ball.position, abs=1e-6)
    assert obs[layout.index("ball.exists")] == 1.0
    assert info == {"variables": {"score": 0.0, "throws": 0.0}, "tick": 0, "outcome": None}


def test_box_action_presses_buttons_above_half_and_moves_the_ball():
    env = make_env("bowling", frame_skip=30)
    env.reset(seed=0)
    env.step(np.array([0.4, 0.0], dtype=np.float32))  # not pressed
    assert env.world.variables["throws"] == 0
    obs, *_ = env.step(np.array([0.6, 0.0], dtype=np.float32))
    assert env.world.variables["throws"] == 1
    assert obs[env.observation_layout.index("ball.vx")] > 3.0
    assert env.world.tick == 60


def test_discrete_action_table():
    env = make_env("bowling", action="discrete", frame_skip=10)
    env.reset(seed=0)
    env.step(3)  # aim at +1: the ball rolls sideways at 0.5 m/s
    assert env.world.entities["ball"].velocity[1] == pytest.approx(0.5, abs=0.05)
    env.step(1)  # throw
    assert env.world.variables["throws"] == 1


def test_action_outside_the_space_is_a_clear_error_before_anything_moves():
    env = make_env("bowling")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action\[1\] \(p1\.aim, axis\) = 1\.5 is outside its range \[-1, 1\]"):
        env.step(np.array([0.0, 1.5], dtype=np.float32))
    with pytest.raises(ValueError, match=r"action\[0\] \(p1\.throw, button\) = -0\.2 is outside its range \[0, 1\]"):
        env.step([-0.2, 0.0])
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        env.step(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match="outside"):
        env.step([float("nan"), 0.0])
    assert env.world.tick == 0
    denv = make_env("bowling", action="discrete")
    denv.reset(seed=0)
    with pytest.raises(ValueError, match=r"valid actions are 0\.\.3"):
        denv.step(7)
    assert denv.world.tick == 0


def test_world_without_controls_is_an_error():
    with pytest.raises(ValueError, match="nothing to control"):
        make_env(_no_controls_spec())
    with pytest.raises(ValueError, match="nothing to control"):
        make_parallel_env(_no_controls_spec())


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="no variable 'points'; variables: score, throws"):
        make_env("bowling", reward="points")
    with pytest.raises(ValueError, match="variables: toppled"):
        make_env("dominoes")  # no 'score': say what there is
    with pytest.raises(ValueError, match="styles: realistic, toon"):
        make_env("bowling", obs="restyled:vaporwave")
    with pytest.raises(ValueError, match="observation modes"):
        make_env("bowling", obs="pixels")
    with pytest.raises(ValueError, match="no player 'p9'; players: p1, p2"):
        make_env("air_hockey", player="p9")
    with pytest.raises(ValueError, match="no camera 'nope'; cameras: main, pins"):
        make_env("bowling", obs="rgb", camera="nope")
    with pytest.raises(ValueError, match="no example 'bowlin'"):
        make_env("bowlin")
    with pytest.raises(ValueError, match="reward 'expr:score >'"):
        make_env("bowling", reward="expr:score >")
    from reasoner import ReasonerError

    with pytest.raises(ReasonerError, match="fluids"):
        make_env(prompt="simulate the ocean's waves")


def test_a_prompt_is_an_environment():
    env = make_env("a robot pushes a crate onto a target", obs="state")
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert {"move_x", "move_y"} <= set(env.world.controls["p1"])
    env.close()


def test_world_inputs_spec_dict_file_and_world(tmp_path):
    spec = example_spec("push_crate")
    path = tmp_path / "crate.json"
    path.write_text(spec.model_dump_json())
    for world in (spec, json.loads(spec.model_dump_json()), str(path), path):
        env = make_env(world)
        assert env.world.spec == spec
    import worldgen

    w = worldgen.example("push_crate")
    w.save(str(tmp_path / "saved.json"))  # a saved world: the env starts from its spec
    assert make_env(str(tmp_path / "saved.json")).world.spec == spec
    with pytest.raises(FileNotFoundError):
        make_env(str(tmp_path / "missing.json"))


def test_rewards_variable_change_and_expression():
    env = make_env("bowling", frame_skip=120)
    env.reset(seed=0)
    _, r, *_ = env.step(np.array([1.0, 0.1], dtype=np.float32))
    total = r
    for _ in range(3):
        _, r, *_ = env.step(np.zeros(2, dtype=np.float32))
        total += r
    assert total == env.world.variables["score"] > 0  # the change of score, step by step
    expr = make_env("bowling", reward="expr:2 * count(tag=pin, fallen) + x(ball)")
    expr.reset(seed=0)
    _, r, *_ = expr.step(np.zeros(2, dtype=np.float32))
    assert r == pytest.approx(0.0, abs=1e-3)  # nothing fallen, the ball at x = 0
    hockey = make_env("air_hockey")  # no 'score': the controlled player's own score
    assert hockey._reward.name == "p1_score"
    assert make_env("dominoes", reward=None).reset(seed=0)[0].shape == (20 * 14 + 2,)


def test_terminated_by_goal_truncated_by_time_limit_and_max_steps():
    env = make_env("bowling", frame_skip=60, max_episode_steps=3)
    env.reset(seed=0)
    flags = [env.step(np.zeros(2, dtype=np.float32))[2:4] for _ in range(3)]
    assert flags == [(False, False), (False, False), (False, True)]
    env = make_env("bowling", frame_skip=300)  # 20 s time limit: 4 steps
    env.reset(seed=0)
    flags = [env.step(np.zeros(2, dtype=np.float32))[2:4] for _ in range(4)]
    assert flags[-1] == (False, True) and env.world.truncated
    env = make_env("push_crate", frame_skip=1, reward="score")
    env.reset(seed=0)
    script = example_script("push_crate")
    terminated = False
    ret = 0.0
    for t in range(600):
        a = script.get(t, {}).get("p1", {})
        _, r, terminated, truncated, info = env.step(np.array([a.get("move_x", 0), a.get("move_y", 0)], np.float32))
        ret += r
        if terminated:
            break
    assert terminated and info["outcome"] == "win" and ret == 1.0


def test_render_modes():
    env = make_env("bowling", render_mode="rgb_array", size=(48, 32))
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (32, 48, 3) and frame.dtype == np.uint8
    human = make_env("bowling", render_mode="human")
    human.reset(seed=0)
    with pytest.warns(UserWarning, match="opens no window"):
        assert human.render() is None
    with pytest.raises(ValueError, match="render_mode"):
        make_env("bowling", render_mode="window")


# ---------------------------------------------------------------- determinism


def test_same_seed_same_observations_and_rewards_over_500_steps():
    runs = [_rollout(make_env("bowling", frame_skip=4), seed=7, steps=500) for _ in range(2)]
    (obs_a, rew_a), (obs_b, rew_b) = runs
    assert len(obs_a) == len(obs_b) > 500
    assert all(np.array_equal(a, b) for a, b in zip(obs_a, obs_b))
    assert rew_a == rew_b and sum(rew_a) > 0
    obs_c, _ = _rollout(make_env("bowling", frame_skip=4), seed=8, steps=50)
    assert not all(np.array_equal(a, c) for a, c in zip(obs_a, obs_c))


def test_reset_reuses_the_world_and_repeats_exactly():
    env = make_env("air_hockey", seed=3)
    world = env.world
    first, _ = env.reset()  # the constructor's seed
    for _ in range(20):
        env.step(env.action_space.sample())
    again, _ = env.reset(seed=3)
    assert env.world is world and np.array_equal(first, again) and env.world.tick == 0


# ---------------------------------------------------------------- spawned entities


def test_spawned_copies_fill_their_template_slot():
    """Air hockey destroys the puck on a goal and spawns a serve: the state follows it."""
    env = make_parallel_env("air_hockey", frame_skip=1)
    obs, _ = env.reset(seed=0)
    layout = env.observation_layout
    script = example_script("air_hockey")
    assert obs["p1"][layout.index("puck.exists")] == 1.0
    assert obs["p1"][layout.index("serve_p2.exists")] == 0.0
    for t in range(100):
        step = script.get(t, {})
        actions = {a: np.array([step.get(a, {}).get("move_x", 0), step.get(a, {}).get("move_y", 0)], np.float32)
                   for a in env.agents}
        obs, rewards, *_ = env.step(actions)
        if rewards["p1"]:
            break
    assert rewards == {"p1": 1.0, "p2": 0.0}
    state = obs["p2"]
    assert state[layout.index("puck.exists")] == 0.0 and state[layout.index("puck.x")] == 0.0
    assert state[layout.index("serve_p2.exists")] == 1.0
    assert state[layout.index("serve_p2.vx")] == pytest.approx(0.4, abs=0.05)


# ---------------------------------------------------------------- multi-agent


def test_pettingzoo_parallel_api_and_seed_tests():
    from pettingzoo.test import parallel_api_test, parallel_seed_test

    env = make_parallel_env("air_hockey", frame_skip=30)
    assert env.possible_agents == ["p1", "p2"]
    assert env.action_space("p2") == gymnasium.spaces.Box(-1, 1, (2,), np.float32)
    parallel_api_test(env, num_cycles=400)
    parallel_seed_test(functools.partial(make_parallel_env, "air_hockey", frame_skip=30))


def test_parallel_env_rewards_and_errors():
    env = make_parallel_env("air_hockey", rewards={"p2": "expr:p2_score - p1_score"})
    assert env._rewards["p1"].name == "p1_score"
    with pytest.raises(ValueError, match="unknown agents"):
        make_parallel_env("air_hockey", rewards={"p3": "score"})
    with pytest.raises(ValueError, match="neither 'p1_score' nor 'score'"):
        make_parallel_env("dominoes")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"agent 'p2': action\[0\] \(p2\.move_x, axis\)"):
        env.step({"p1": np.zeros(2, np.float32), "p2": np.array([2.0, 0.0], np.float32)})
    assert env.world.tick == 0
    assert env.state().shape == env.state_space.shape
    assert isinstance(env, WorldParallelEnv)


# ---------------------------------------------------------------- vector envs, registration, pickling


def test_factories_pickle():
    f = functools.partial(make_env, "bowling", obs="rgb", size=(32, 32))
    env = pickle.loads(pickle.dumps(f))()
    assert env.observation_space.shape == (32, 32, 3)


@pytest.mark.parametrize("vector", [gymnasium.vector.SyncVectorEnv, gymnasium.vector.AsyncVectorEnv])
def test_gymnasium_vector_envs_step(vector):
    f = functools.partial(make_env, "bowling", frame_skip=60)
    venv = vector([f, f])
    try:
        obs, info = venv.reset(seed=0)
        assert obs.shape == (2, len(make_env("bowling").observation_layout))
        for _ in range(5):
            obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
        assert rew.shape == (2,) and "variables" in info
    finally:
        venv.close()


def test_sb3_subproc_vec_env_steps():
    from stable_baselines3.common.vec_env import SubprocVecEnv

    f = functools.partial(make_env, "push_crate", frame_skip=30)
    venv = SubprocVecEnv([f, f])
    try:
        obs = venv.reset()
        for _ in range(5):
            obs, rew, done, info = venv.step(np.stack([venv.action_space.sample() for _ in range(2)]))
        assert obs.shape == (2, 31) and rew.shape == (2,)
    finally:
        venv.close()


def test_gymnasium_make():
    register_envs()
    register_envs()  # idempotent
    env = gymnasium.make(ENV_ID, world="bowling", obs="rgb", render_mode="rgb_array", size=(32, 32))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (32, 32, 3) and env.render().shape == (32, 32, 3)
    assert isinstance(env.unwrapped, WorldEnv)
    env = gymnasium.make(ENV_ID, world="push_crate", max_episode_steps=2)
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert env.step(env.action_space.sample())[3]  # gymnasium's TimeLimit


def test_registration_is_light_and_works_in_a_fresh_process():
    code = (
        "import sys, gymnasium\n"
        "import worldgen.envs\n"
        "assert 'pybullet' not in sys.modules and 'torch' not in sys.modules, 'heavy import'\n"
        "env = gymnasium.make('worldgen.envs:worldgen/World-v0', world='push_crate')\n"
        "print(env.reset(seed=0)[0].shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("(31,)")


def test_env_over_a_distribution_draws_levels_on_reset():
    """Procgen-style: each reset plays a level of the distribution, with one observation layout."""
    from worldgen.distribution import WorldDistribution

    dist = WorldDistribution("push_crate", num_levels=50, start_level=0)
    env = make_env(dist, obs="state", frame_skip=10)
    levels, starts = [], []
    for seed in range(6):
        obs, info = env.reset(seed=seed)
        assert env.observation_space.contains(obs)
        levels.append(info["level"])
        starts.append(tuple(np.round(obs[:3], 6)))  # the first body's position differs between levels
        env.step(env.action_space.sample())
    assert all(0 <= lv < 50 for lv in levels)
    assert len(set(levels)) > 1 and len(set(starts)) > 1
    again = make_env(dist, obs="state", frame_skip=10)
    assert again.reset(seed=3)[1]["level"] == levels[3]
    env.close()
    again.close()


def test_restyled_observations():
    env = make_env("bowling", obs="restyled:pixel", size=(64, 48))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (48, 64, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    obs2, *_ = env.step(env.action_space.sample())
    assert obs2.std() > 3
    env.close()
