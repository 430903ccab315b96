"""Gymnasium environments over worlds: ``make_env`` and ``WorldEnv`` (see ``docs/rl.md``).

A :class:`WorldEnv` runs one :class:`~worldgen.World` for one player. Its action space
comes from that player's controls, its observation is the world's state vector or an
image, its reward is the change of a variable (``score`` by default) or the value of an
expression in the rule language.

>>> from worldgen.envs import make_env
>>> env = make_env("bowling", frame_skip=40)
>>> obs, info = env.reset(seed=0)
>>> env.action_names
['p1.throw', 'p1.aim']
>>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Importing this module is light: it imports neither pybullet nor torch (gymnasium and
numpy only); the world is built when an environment is created. Importing it also
registers ``worldgen/World-v0`` with gymnasium (:func:`register_envs`).

Observation layout of ``obs="state"`` (float32, names in :attr:`WorldEnv.observation_layout`):

1. For every *tracked body* — each non-static, non-sensor entity of ``spec.entities`` in
   spec order, then each non-static, non-sensor template of ``spec.templates`` (its slot
   holds the newest live copy a ``spawn`` effect made of it) — 14 numbers:
   position ``x y z`` (m), orientation quaternion ``qx qy qz qw``, linear velocity
   ``vx vy vz`` (m/s), angular velocity ``wx wy wz`` (rad/s), ``exists`` (1 live, 0 gone;
   the other 13 are 0 when gone).
2. Every variable, in spec order.
3. ``time``: seconds since the episode started.
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np
from gymnasium import spaces

if TYPE_CHECKING:  # the heavy imports happen when an environment is built
    from worldgen.spec import Control, WorldSpec
    from worldgen.world import World

__all__ = ["WorldEnv", "make_env", "register_envs", "resolve_spec", "ENV_ID", "OBS_MODES", "ACTION_MODES"]

ENV_ID = "worldgen/World-v0"
OBS_MODES = ("state", "rgb", "gbuffer", "restyled")
ACTION_MODES = ("box", "discrete")
BODY_FIELDS = ("x", "y", "z", "qx", "qy", "qz", "qw", "vx", "vy", "vz", "wx", "wy", "wz", "exists")
DEPTH_FAR = 100.0  # metres: the rasteriser's far plane (renderer.raster.FAR), depth of the background


# ---------------------------------------------------------------------------- registration


def register_envs() -> None:
    """Registers ``worldgen/World-v0`` with gymnasium (idempotent, light: no pybullet, no torch).

    After it, ``gymnasium.make("worldgen/World-v0", world="bowling", obs="rgb")`` builds a
    :class:`WorldEnv`; every keyword of :func:`make_env` may be passed. Importing
    :mod:`worldgen.envs` calls it, so ``gymnasium.make("worldgen.envs:worldgen/World-v0", ...)``
    works in a fresh process too.
    """
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="worldgen.envs:WorldEnv")


# ---------------------------------------------------------------------------- world resolution


def resolve_spec(world: Any = None, prompt: str | None = None) -> WorldSpec:
    """The :class:`WorldSpec` meant by ``world``.

    ``world`` may be a :class:`WorldSpec`, a dict (validated), a :class:`~worldgen.World`
    (its spec), the name of a shipped example (``"bowling"``), or the path of a world file
    (a bare spec or a saved world; the environment always starts from the spec's initial
    state). Any other text, or ``prompt=``, is a prompt for :func:`worldgen.create`.
    """
    from worldgen.io import FORMAT, read_json, validate_spec
    from worldgen.spec import WorldSpec

    if world is None and prompt is None:
        raise ValueError("make_env needs a world: a WorldSpec, a dict, a world file, an example name or a prompt")
    if world is not None and prompt is not None:
        raise ValueError("pass either world= or prompt=, not both")
    if prompt is not None:
        return _from_prompt(prompt)
    if isinstance(world, WorldSpec):
        return world
    if isinstance(world, Mapping):
        return validate_spec(world)
    if hasattr(world, "spec") and isinstance(getattr(world, "spec", None), WorldSpec):
        return world.spec  # a World
    if isinstance(world, os.PathLike) or isinstance(world, str):
        text = os.fspath(world)
        from worldgen.example_worlds import example_spec, examples

        if isinstance(world, str) and text in examples():
            return example_spec(text)
        if os.path.isfile(text):
            data = read_json(text)
            if isinstance(data, Mapping) and data.get("format") == FORMAT:
                return validate_spec(data.get("spec"), text)
            return validate_spec(data, text)
        if isinstance(world, os.PathLike) or text.endswith(".json"):
            raise FileNotFoundError(f"no world file {text!r}")
        if re.fullmatch(r"[a-z_]{1,40}", text):  # looks like an example name, not a prompt
            raise ValueError(f"no example {text!r}; examples: {', '.join(examples())}")
        return _from_prompt(text)
    raise TypeError(f"world must be a WorldSpec, dict, World, example name, file path or prompt; "
                    f"got {type(world).__name__}")


def _from_prompt(prompt: str) -> WorldSpec:
    import worldgen

    return worldgen.create(prompt).spec  # reasoner.ReasonerError if the prompt cannot become a world


# ---------------------------------------------------------------------------- the shared core


@dataclass(frozen=True)
class ActionMap:
    """Turns one player's gymnasium actions into ``{player: {control: value}}``.

    ``box``: one float32 dimension per control, in declared order; an axis spans its
    range, a button spans [0, 1] and is pressed when above 0.5 (it then sends the top of
    its range). ``discrete``: 0 is no input, then one action per button (pressed), then
    two per axis (its minimum, its maximum).
    """

    player: str
    controls: tuple[Control, ...]
    mode: str

    @property
    def names(self) -> list[str]:
        """``player.control`` for each box dimension, or a label for each discrete action."""
        if self.mode == "box":
            return [f"{self.player}.{c.name}" for c in self.controls]
        out = ["noop"]
        out += [f"{self.player}.{c.name}=press" for c in self.controls if c.type == "button"]
        for c in self.controls:
            if c.type == "axis":
                out += [f"{self.player}.{c.name}={c.range[0]:g}", f"{self.player}.{c.name}={c.range[1]:g}"]
        return out

    def space(self) -> spaces.Space:
        if self.mode == "box":
            lo = np.array([c.range[0] if c.type == "axis" else 0.0 for c in self.controls], dtype=np.float32)
            hi = np.array([c.range[1] if c.type == "axis" else 1.0 for c in self.controls], dtype=np.float32)
            return spaces.Box(lo, hi, dtype=np.float32)
        return spaces.Discrete(len(self.names))

    def _discrete_table(self) -> list[dict[str, float]]:
        table: list[dict[str, float]] = [{}]
        table += [{c.name: float(c.range[1])} for c in self.controls if c.type == "button"]
        for c in self.controls:
            if c.type == "axis":
                table += [{c.name: float(c.range[0])}, {c.name: float(c.range[1])}]
        return table

    def convert(self, action: Any) -> dict[str, float]:
        """``{control: value}`` for ``action``; ValueError naming the dimension and its range."""
        if self.mode == "discrete":
            table = self._discrete_table()
            a = np.asarray(action)
            if a.shape not in ((), (1,)) or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"action must be one integer in [0, {len(table) - 1}] "
                                 f"(a Discrete({len(table)}) action), got {action!r}")
            i = int(a.reshape(()))
            if not 0 <= i < len(table):
                raise ValueError(f"action {i} is outside the action space: valid actions are 0..{len(table) - 1} "
                                 f"({', '.join(f'{k}={n}' for k, n in enumerate(self.names))})")
            return {k: v for k, v in table[i].items() if v != 0.0}
        try:
            a = np.asarray(action, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"action must be an array of {len(self.controls)} numbers "
                             f"({', '.join(self.names)}), got {action!r}") from None
        if a.shape != (len(self.controls),):
            raise ValueError(f"action must have shape ({len(self.controls)},) — one value per control "
                             f"({', '.join(self.names)}) — got shape {a.shape}")
        out: dict[str, float] = {}
        for i, (c, v) in enumerate(zip(self.controls, a)):
            lo, hi = (c.range if c.type == "axis" else (0.0, 1.0))
            lo32, hi32 = float(np.float32(lo)), float(np.float32(hi))  # the space's own (float32) bounds
            if not (math.isfinite(v) and min(lo, lo32) <= v <= max(hi, hi32)):
                raise ValueError(f"action[{i}] ({self.player}.{c.name}, {c.type}) = {v:g} is outside "
                                 f"its range [{lo:g}, {hi:g}]")
            if c.type == "button":
                if v > 0.5:
                    out[c.name] = float(c.range[1])
            else:
                v = min(max(float(v), c.range[0]), c.range[1])
                if v != 0.0:
                    out[c.name] = v
        return out


def player_controls(spec: WorldSpec, player: str | None) -> tuple[str, tuple[Control, ...]]:
    """(player name, its controls): ``player``, or the first player that has controls."""
    players = {pl.name: pl for pl in spec.players}
    if player is not None:
        if player not in players:
            raise ValueError(f"no player {player!r}; players: {', '.join(players) or '(none)'}")
        if not players[player].controls:
            raise ValueError(f"player {player!r} has no controls: the world has nothing to control for it")
        return player, tuple(players[player].controls)
    for pl in spec.players:
        if pl.controls:
            return pl.name, tuple(pl.controls)
    raise ValueError(f"world {spec.metadata.title!r}: the world has nothing to control "
                     f"(no player has a control); add a player with controls to its spec")


class StateReader:
    """Reads the ``state`` observation of a world: the one layout envs and datasets share.

    For every non-static, non-sensor entity of the spec (then every template, standing for
    its newest spawned copy): position (3), orientation quaternion (4), linear velocity (3),
    angular velocity (3), exists flag (1); then every variable; then time. ``layout`` names
    each entry (``ball.x`` ... ``score`` ... ``time``).
    """

    def __init__(self, spec: WorldSpec) -> None:
        self.variable_names = list(spec.variables)
        self.bodies = [e.name for e in spec.entities if not e.static and not e.sensor]
        self.template_bodies = [t.name for t in spec.templates if not t.static and not t.sensor]
        self._spawn_re = (re.compile(r"^(" + "|".join(map(re.escape, self.template_bodies)) + r")_\d+$")
                          if self.template_bodies else None)
        self._spec_names = {e.name for e in spec.entities}
        self.layout = [f"{n}.{f}" for n in (*self.bodies, *self.template_bodies) for f in BODY_FIELDS]
        self.layout += [*self.variable_names, "time"]

    def __call__(self, sim) -> np.ndarray:
        live = sim.entity_names
        live_set = set(live)
        newest: dict[str, str] = {}
        if self._spawn_re is not None:
            for name in live:  # creation order: the last match is the newest copy
                m = self._spawn_re.match(name)
                if m and name not in self._spec_names:
                    newest[m.group(1)] = name
        out = np.zeros(len(self.layout), dtype=np.float64)
        k = 0
        for name in (*self.bodies, *(newest.get(t) for t in self.template_bodies)):
            if name is not None and name in live_set:
                pos, orn = sim.pose(name)
                lin, ang = sim.velocity(name)
                out[k:k + 13] = (*pos, *orn, *lin, *ang)
                out[k + 13] = 1.0
            k += 14
        variables = sim.variables
        for name in self.variable_names:
            out[k] = variables.get(name, 0.0)
            k += 1
        out[k] = sim.time
        return out.astype(np.float32)


class WorldCore:
    """What the single- and multi-agent environments share: the world, its observations, rewards."""

    def __init__(self, spec: WorldSpec, obs: str, frame_skip: int, camera: str | None,
                 size: tuple[int, int], layout_spec: WorldSpec | None = None) -> None:
        obs, _, style = str(obs).partition(":")  # "restyled:pixel" picks the restyler's style
        if obs not in OBS_MODES or (style and obs != "restyled"):
            raise ValueError(f"unknown obs {obs + (':' + style if style else '')!r}; observation modes: "
                             f"{', '.join(OBS_MODES)} (restyled takes a style: 'restyled:toon')")
        self.style = style or "toon"
        if obs == "restyled":
            from renderer.restyler import STYLES as RESTYLED

            if self.style not in RESTYLED:
                raise ValueError(f"unknown restyled style {self.style!r}; styles: {', '.join(RESTYLED)}")
        if isinstance(frame_skip, bool) or not isinstance(frame_skip, (int, np.integer)) or frame_skip < 1:
            raise ValueError(f"frame_skip must be an integer ≥ 1 (ticks per env step), got {frame_skip!r}")
        from renderer.raster import check_size
        from worldgen.world import World

        self.spec = spec
        self.obs_mode = obs
        self.frame_skip = int(frame_skip)
        self.camera = camera
        self.size = check_size(size)
        if camera is not None and camera not in {c.name for c in spec.cameras}:
            raise ValueError(f"no camera {camera!r}; cameras: {', '.join(c.name for c in spec.cameras) or '(none)'}")
        self._reader = StateReader(layout_spec or spec)  # levels of a distribution share the design's layout
        self.variable_names = self._reader.variable_names
        self.bodies, self.template_bodies = self._reader.bodies, self._reader.template_bodies
        self.layout = self._reader.layout
        # stable ids for obs="gbuffer" segmentation: spec entities, then templates (their copies)
        self.segmentation_names = [e.name for e in spec.entities] + [t.name for t in spec.templates]
        self._seg_id = {n: i for i, n in enumerate(self.segmentation_names)}
        self._spec_names = {e.name for e in spec.entities}
        self.world: World = World(spec, seed=spec.metadata.seed, history_every=0)

    # ------------------------------------------------------------------ spaces

    def observation_space(self) -> spaces.Space:
        w, h = self.size
        if self.obs_mode == "state":
            return spaces.Box(-np.inf, np.inf, shape=(len(self.layout),), dtype=np.float32)
        if self.obs_mode in ("rgb", "restyled"):
            return spaces.Box(0, 255, shape=(h, w, 3), dtype=np.uint8)
        return spaces.Dict({
            "albedo": spaces.Box(0, 255, shape=(h, w, 3), dtype=np.uint8),
            "depth": spaces.Box(0.0, DEPTH_FAR, shape=(h, w), dtype=np.float32),
            "segmentation": spaces.Box(-1, max(len(self.segmentation_names) - 1, 0), shape=(h, w), dtype=np.int32),
        })

    # ------------------------------------------------------------------ observations

    def observe(self) -> Any:
        if self.obs_mode == "state":
            return self.state()
        if self.obs_mode == "rgb":
            return self.world.render(self.size, camera=self.camera)
        if self.obs_mode == "restyled":
            return self.world.render(self.size, style=self.style, camera=self.camera)
        return self.gbuffer()

    def state(self) -> np.ndarray:
        return self._reader(self.world.simulation)

    def gbuffer(self) -> dict[str, np.ndarray]:
        g = self.world.gbuffer(self.size, camera=self.camera)
        names = [str(n) for n in g["entity_names"]]
        lut = np.array([self._stable_id(n) for n in names] + [-1], dtype=np.int32)
        seg = g["segmentation"]
        seg = lut[np.where(seg >= 0, seg, len(names))]
        depth = np.clip(g["depth"], 0.0, DEPTH_FAR).astype(np.float32)
        return {"albedo": g["albedo"], "depth": depth, "segmentation": seg.astype(np.int32)}

    def _stable_id(self, name: str) -> int:
        if name in self._seg_id:
            return self._seg_id[name]
        m = re.match(r"^(.*)_\d+$", name)  # a spawned copy: its template's id
        return self._seg_id.get(m.group(1), -1) if m else -1

    # ------------------------------------------------------------------ rewards

    def reward_fn(self, reward: Any, default_player: str | None = None):
        """A callable ``() -> float`` giving the reward of the step just taken (see :class:`WorldEnv`).

        Variable rewards are deltas: call :meth:`mark` before each step.
        """
        if reward is None:
            return _Constant(0.0)
        if isinstance(reward, (int, float)) and not isinstance(reward, bool):
            return _Constant(float(reward))
        if not isinstance(reward, str):
            raise ValueError(f"reward must be a variable name, 'expr:...', 'delta:...' or None, got {reward!r}")
        for prefix, kind in (("expr:", _Expr), ("delta:", _ExprDelta)):
            if reward.startswith(prefix):
                from worldgen import expr as _expr

                spec = self.spec
                try:
                    e = _expr.parse(reward[len(prefix):].strip(), variables=set(spec.variables), tags=spec.tags(),
                                    entities={x.name for x in (*spec.entities, *spec.templates)})
                except _expr.ExprError as err:
                    raise ValueError(f"reward {reward!r}: {err}") from None
                return kind(self, e)
        name = reward
        if name == "score" and "score" not in self.spec.variables and default_player is not None \
                and f"{default_player}_score" in self.spec.variables:
            name = f"{default_player}_score"
        if name not in self.spec.variables:
            shown = ", ".join(self.variable_names) or "(none)"
            raise ValueError(f"reward {reward!r}: the world has no variable {name!r}; variables: {shown}. "
                             "Pass reward='<variable>' (its change per step is the reward), "
                             "reward='expr:<expression>', reward='delta:<expression>' or reward=None (always 0)")
        return _Delta(self, name)

    def close(self) -> None:
        world = getattr(self, "world", None)
        if world is not None:
            world.close()
            self.world = None  # type: ignore[assignment]


class _Constant:
    def __init__(self, value: float) -> None:
        self.value = value

    def mark(self) -> None:
        pass

    def __call__(self) -> float:
        return self.value


class _Delta:
    """The change of one variable since :meth:`mark`."""

    def __init__(self, core: WorldCore, name: str) -> None:
        self.core, self.name, self.before = core, name, 0.0

    def mark(self) -> None:
        self.before = self.core.world.simulation.variables.get(self.name, 0.0)

    def __call__(self) -> float:
        return float(self.core.world.simulation.variables.get(self.name, 0.0) - self.before)


class _Expr:
    """The value of an expression after the step."""

    def __init__(self, core: WorldCore, e: Any) -> None:
        self.core, self.e = core, e

    def mark(self) -> None:
        pass

    def __call__(self) -> float:
        return float(self.e(self.core.world.simulation))


class _ExprDelta(_Expr):
    """The change of an expression's value over the step (potential-based shaping)."""

    before = 0.0

    def mark(self) -> None:
        self.before = float(self.e(self.core.world.simulation))

    def __call__(self) -> float:
        return float(self.e(self.core.world.simulation)) - self.before


# ---------------------------------------------------------------------------- the environment


class WorldEnv(gymnasium.Env):
    """A world as a single-agent gymnasium environment. Build it with :func:`make_env`.

    Args:
        world: a WorldSpec, dict, World, world file path, example name, or a prompt.
        obs: ``"state"`` (float32 vector, see the module docstring and
            :attr:`observation_layout`), ``"rgb"`` (uint8 (H, W, 3) flat-colour image),
            ``"gbuffer"`` (Dict: ``albedo`` uint8 (H, W, 3), ``depth`` float32 (H, W) metres
            clipped to [0, 100], ``segmentation`` int32 (H, W): index into
            :attr:`segmentation_names`, -1 background), ``"restyled"`` / ``"restyled:STYLE"`` (uint8
            (H, W, 3) drawn by the trained restyler; default style toon).
        frame_skip: ticks each env step applies the action for (one tick is
            ``spec.physics.timestep`` seconds, 1/60 s by default).
        reward: a variable name — the reward is its change over the step (``"score"``
            falls back to ``"<player>_score"``); ``"expr:<expression>"`` — the value of an
            expression of the rule language after the step; ``"delta:<expression>"`` — the
            change of that value over the step (potential-based shaping); ``None`` — always 0.
        action: ``"box"`` or ``"discrete"`` (see :class:`ActionMap`).
        render_mode: ``"rgb_array"`` (``render()`` returns the camera image) or ``"human"``
            (opens no window: ``render()`` warns and returns None; use ``worldgen play``).
        max_episode_steps: truncates the episode after this many env steps (the spec's
            ``physics.time_limit`` also truncates).
        camera: name of the spec camera for images (default: the first).
        size: (width, height) of images.
        seed: seed of the first ``reset()`` that is given none.
        player: the player the agent acts as (default: the first player with controls);
            other players send no input.
        prompt: a prompt (instead of ``world``) for :func:`worldgen.create`.
    """

    metadata = {"render_modes": ["rgb_array", "human"], "render_fps": 15}

    def __init__(self, world: Any = None, obs: str = "state", frame_skip: int = 4, reward: Any = "score",
                 action: str = "box", render_mode: str | None = None, max_episode_steps: int | None = None,
                 camera: str | None = None, size: tuple[int, int] = (64, 64), seed: int | None = None,
                 player: str | None = None, prompt: str | None = None) -> None:
        super().__init__()
        from worldgen.distribution import WorldDistribution

        self._dist = world if isinstance(world, WorldDistribution) else None
        if self._dist is not None:  # Procgen-style: every reset draws a level of the distribution
            self._level = next(iter(self._dist.levels))
            spec = self._dist.level(self._level)
        else:
            spec = resolve_spec(world, prompt)
        if action not in ACTION_MODES:
            raise ValueError(f"unknown action {action!r}; action modes: {', '.join(ACTION_MODES)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; render modes: "
                             f"{', '.join(self.metadata['render_modes'])} or None")
        if max_episode_steps is not None and (isinstance(max_episode_steps, bool) or int(max_episode_steps) < 1):
            raise ValueError(f"max_episode_steps must be ≥ 1 or None, got {max_episode_steps!r}")
        name, controls = player_controls(spec, player)
        self._actions = ActionMap(name, controls, action)
        self._core_args = (obs, frame_skip, camera, size)
        self._reward_arg = reward
        self._core = WorldCore(spec, *self._core_args, layout_spec=self._dist.design if self._dist else None)
        self._reward = self._core.reward_fn(reward, default_player=name)
        self.player = name
        self.render_mode = render_mode
        self.max_episode_steps = None if max_episode_steps is None else int(max_episode_steps)
        self.action_space = self._actions.space()
        self.observation_space = self._core.observation_space()
        fps = 1.0 / (spec.physics.timestep * self._core.frame_skip)
        self.metadata = {**type(self).metadata, "render_fps": fps}
        self._seed = seed
        self._steps = 0
        if seed is not None:
            self.action_space.seed(seed)

    # ------------------------------------------------------------------ views

    @property
    def world(self) -> World:
        """The running :class:`~worldgen.World` (rebuilt in place by :meth:`reset`)."""
        return self._core.world

    @property
    def observation_layout(self) -> list[str]:
        """Names of the ``obs="state"`` vector's entries: ``ball.x`` ... ``score`` ... ``time``."""
        return list(self._core.layout)

    @property
    def action_names(self) -> list[str]:
        """``player.control`` per box dimension, or a label per discrete action."""
        return self._actions.names

    @property
    def segmentation_names(self) -> list[str]:
        """What each ``obs="gbuffer"`` segmentation id means (spec entities, then templates)."""
        return list(self._core.segmentation_names)

    @property
    def frame_skip(self) -> int:
        return self._core.frame_skip

    # ------------------------------------------------------------------ gymnasium API

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        if seed is None and self._seed is not None:
            seed, self._seed = self._seed, None
        super().reset(seed=seed)
        if self._dist is not None:
            level = self._dist.sample_level(self.np_random)
            if level != self._level:
                self._core.close()
                self._core = WorldCore(self._dist.level(level), *self._core_args, layout_spec=self._dist.design)
                self._reward = self._core.reward_fn(self._reward_arg, default_player=self.player)
                self._level = level
        world_seed = int(self.np_random.integers(0, 2**31 - 1))
        self._core.world.reset(world_seed)
        self._steps = 0
        return self._core.observe(), self._info()

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        controls = self._actions.convert(action)  # validates before anything moves
        actions = {self.player: controls} if controls else None
        world = self._core.world
        self._reward.mark()
        for _ in range(self._core.frame_skip):
            world.step(actions)
            if world.terminated or world.truncated:
                break
        self._steps += 1
        terminated = bool(world.terminated)
        truncated = bool(world.truncated) or (self.max_episode_steps is not None and
                                              self._steps >= self.max_episode_steps)
        return self._core.observe(), self._reward(), terminated, truncated and not terminated, self._info()

    def render(self) -> np.ndarray | None:
        if self.render_mode == "rgb_array":
            return self._core.world.render(self._core.size, camera=self._core.camera)
        if self.render_mode == "human":
            warnings.warn("WorldEnv opens no window (render_mode='human' renders nothing); use "
                          "render_mode='rgb_array', or `worldgen play` to watch a world", stacklevel=2)
            return None
        warnings.warn("render() called without a render_mode; make the env with render_mode='rgb_array'",
                      stacklevel=2)
        return None

    def close(self) -> None:
        self._core.close()

    def _info(self) -> dict[str, Any]:
        w = self._core.world
        info = {"variables": dict(w.simulation.variables), "tick": w.tick, "outcome": w.outcome}
        if self._dist is not None:
            info["level"] = self._level
        return info

    def __repr__(self) -> str:
        return (f"WorldEnv({self._core.spec.metadata.title!r}, obs={self._core.obs_mode!r}, "
                f"player={self.player!r}, frame_skip={self._core.frame_skip})")


def make_env(world: Any = None, obs: str = "state", frame_skip: int = 4, reward: Any = "score",
             action: str = "box", render_mode: str | None = None, max_episode_steps: int | None = None,
             camera: str | None = None, size: tuple[int, int] = (64, 64), seed: int | None = None,
             player: str | None = None, prompt: str | None = None) -> WorldEnv:
    """A :class:`WorldEnv` (a ``gymnasium.Env``) for ``world``; see :class:`WorldEnv` for the arguments.

    ``functools.partial(make_env, "bowling", obs="state")`` pickles, so it serves as the
    factory of ``gymnasium.vector.AsyncVectorEnv`` and SB3's ``SubprocVecEnv``.
    """
    return WorldEnv(world, obs=obs, frame_skip=frame_skip, reward=reward, action=action, render_mode=render_mode,
                    max_episode_steps=max_episode_steps, camera=camera, size=size, seed=seed, player=player,
                    prompt=prompt)


register_envs()
