"""PettingZoo parallel environments over worlds: one agent per player (see ``docs/rl.md``).

>>> from worldgen.multiagent import make_parallel_env
>>> env = make_parallel_env("air_hockey")
>>> obs, infos = env.reset(seed=0)
>>> env.agents
['p1', 'p2']
>>> actions = {a: env.action_space(a).sample() for a in env.agents}
>>> obs, rewards, terminations, truncations, infos = env.step(actions)

Every agent sees the same observation (the state vector of :mod:`worldgen.envs`, or the
camera image with ``obs="rgb"``); each agent's action space comes from its own player's
controls, mapped exactly as in :class:`worldgen.envs.WorldEnv`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from worldgen.envs import ACTION_MODES, ActionMap, WorldCore, resolve_spec

__all__ = ["WorldParallelEnv", "make_parallel_env"]


class WorldParallelEnv(ParallelEnv):
    """A world as a PettingZoo ``ParallelEnv``. Build it with :func:`make_parallel_env`.

    Agents are the players that have controls, named as the players, in spec order.
    Rewards: by default each agent's reward is the change over the step of the variable
    ``<player>_score`` if the world has it, else of ``score``; ``rewards`` maps agents to
    a variable name, ``"expr:<expression>"`` or None (0) instead (agents it leaves out get
    the default). All agents terminate together when the world's goals end the episode
    and are truncated together by the spec's time limit or ``max_episode_steps``.
    """

    metadata = {"name": "worldgen_world_v0", "render_modes": ["rgb_array"], "render_fps": 15, "is_parallelizable": True}

    def __init__(self, world: Any = None, obs: str = "state", frame_skip: int = 4,
                 rewards: Mapping[str, Any] | None = None, action: str = "box", render_mode: str | None = None,
                 max_episode_steps: int | None = None, camera: str | None = None,
                 size: tuple[int, int] = (64, 64), seed: int | None = None, prompt: str | None = None) -> None:
        spec = resolve_spec(world, prompt)
        if action not in ACTION_MODES:
            raise ValueError(f"unknown action {action!r}; action modes: {', '.join(ACTION_MODES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; render modes: rgb_array or None")
        players = [pl for pl in spec.players if pl.controls]
        if not players:
            raise ValueError(f"world {spec.metadata.title!r}: the world has nothing to control "
                             "(no player has a control); add a player with controls to its spec")
        names = [pl.name for pl in players]
        rewards = dict(rewards or {})
        unknown = set(rewards) - set(names)
        if unknown:
            raise ValueError(f"rewards name unknown agents {sorted(unknown)}; agents: {', '.join(names)}")
        self._core = WorldCore(spec, obs, frame_skip, camera, size)
        self._maps = {pl.name: ActionMap(pl.name, tuple(pl.controls), action) for pl in players}
        self._rewards = {}
        for name in names:
            if name in rewards:
                self._rewards[name] = self._core.reward_fn(rewards[name])
            else:
                own = f"{name}_score"
                var = own if own in spec.variables else "score"
                try:
                    self._rewards[name] = self._core.reward_fn(var)
                except ValueError:
                    shown = ", ".join(spec.variables) or "(none)"
                    raise ValueError(f"agent {name!r}: the world has neither {own!r} nor 'score' to reward it; "
                                     f"pass rewards={{{name!r}: '<variable>' or 'expr:...'}}; variables: {shown}"
                                     ) from None
        self.possible_agents = list(names)
        self.agents: list[str] = []
        obs_space = self._core.observation_space()
        self.observation_spaces = {a: obs_space for a in names}
        self.action_spaces = {a: self._maps[a].space() for a in names}
        self.render_mode = render_mode
        self.max_episode_steps = None if max_episode_steps is None else int(max_episode_steps)
        self.metadata = {**type(self).metadata, "render_fps": 1.0 / (spec.physics.timestep * self._core.frame_skip)}
        self._seed = seed
        self._rng = np.random.default_rng(seed)
        self._steps = 0

    # ------------------------------------------------------------------ spaces and views

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    @property
    def state_space(self) -> spaces.Box:
        return spaces.Box(-np.inf, np.inf, shape=(len(self._core.layout),), dtype=np.float32)

    def state(self) -> np.ndarray:
        """The world's state vector (layout: :attr:`observation_layout`), whatever ``obs`` is."""
        return self._core.state()

    @property
    def world(self):
        return self._core.world

    @property
    def observation_layout(self) -> list[str]:
        return list(self._core.layout)

    def action_names(self, agent: str) -> list[str]:
        return self._maps[agent].names

    # ------------------------------------------------------------------ PettingZoo API

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None):
        if seed is None and self._seed is not None:
            seed, self._seed = self._seed, None
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._core.world.reset(int(self._rng.integers(0, 2**31 - 1)))
        self._steps = 0
        self.agents = list(self.possible_agents)
        obs = self._core.observe()
        info = self._info()
        return {a: _copy(obs) for a in self.agents}, {a: dict(info) for a in self.agents}

    def step(self, actions: Mapping[str, Any]):
        if not self.agents:
            raise RuntimeError("the episode is over: call reset() before step()")
        world_actions: dict[str, dict[str, float]] = {}
        for agent, action in (actions or {}).items():
            if agent not in self._maps:
                raise ValueError(f"unknown agent {agent!r}; agents: {', '.join(self.possible_agents)}")
            if agent not in self.agents:
                continue  # an agent that is done sends nothing
            try:
                controls = self._maps[agent].convert(action)
            except ValueError as e:
                raise ValueError(f"agent {agent!r}: {e}") from None
            if controls:
                world_actions[agent] = controls
        world = self._core.world
        for r in self._rewards.values():
            r.mark()
        for _ in range(self._core.frame_skip):
            world.step(world_actions or None)
            if world.terminated or world.truncated:
                break
        self._steps += 1
        terminated = bool(world.terminated)
        truncated = not terminated and (bool(world.truncated) or (
            self.max_episode_steps is not None and self._steps >= self.max_episode_steps))
        obs = self._core.observe()
        info = self._info()
        agents = self.agents
        out = ({a: _copy(obs) for a in agents}, {a: self._rewards[a]() for a in agents},
               {a: terminated for a in agents}, {a: truncated for a in agents}, {a: dict(info) for a in agents})
        if terminated or truncated:
            self.agents = []
        return out

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._core.world.render(self._core.size, camera=self._core.camera)
        warnings.warn("render() called without render_mode='rgb_array'", stacklevel=2)
        return None

    def close(self) -> None:
        self._core.close()

    def _info(self) -> dict[str, Any]:
        w = self._core.world
        return {"variables": dict(w.simulation.variables), "tick": w.tick, "outcome": w.outcome}


def _copy(obs: Any) -> Any:
    if isinstance(obs, dict):
        return {k: v.copy() for k, v in obs.items()}
    return obs.copy()


def make_parallel_env(world: Any = None, obs: str = "state", frame_skip: int = 4,
                      rewards: Mapping[str, Any] | None = None, action: str = "box",
                      render_mode: str | None = None, max_episode_steps: int | None = None,
                      camera: str | None = None, size: tuple[int, int] = (64, 64), seed: int | None = None,
                      prompt: str | None = None) -> WorldParallelEnv:
    """A :class:`WorldParallelEnv` for ``world`` (WorldSpec, dict, World, file, example name or prompt)."""
    return WorldParallelEnv(world, obs=obs, frame_skip=frame_skip, rewards=rewards, action=action,
                            render_mode=render_mode, max_episode_steps=max_episode_steps, camera=camera,
                            size=size, seed=seed, prompt=prompt)
