"""``World``: the public face of a running world (see ``shared/API.md``).

A World owns one :class:`physics.Simulation` and adds what users of the scripting API
expect on top: entity views, a ring of snapshots for ``rewind``, ``predict`` on a
forked copy, in-process callbacks, validated editing, save and load.

>>> import worldgen
>>> world = worldgen.example("bowling")
>>> result = world.step({"p1": {"throw": 1}}, ticks=240)
>>> world.variables["score"] >= 0
True
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from physics.events import Event, format_chain
from physics.simulation import Actions, Simulation, Snapshot
from worldgen.spec import Control, Entity, Joint, Rule, WorldSpec


@dataclass(frozen=True)
class StepResult:
    """What one call to :meth:`World.step` produced."""

    events: list[Event]
    variables: dict[str, float]
    terminated: bool
    truncated: bool
    outcome: str | None
    tick: int


@dataclass(frozen=True)
class Rollout:
    """A predicted future: per-tick positions (m) of every entity, variables, events."""

    positions: dict[str, np.ndarray]  # name -> (ticks, 3)
    variables: list[dict[str, float]]
    events: list[Event]
    state_hash: str
    terminated: bool
    outcome: str | None


class Chain(list):
    """The causes of an event, newest first; ``str()`` reads top-down."""

    def __str__(self) -> str:
        return format_chain(list(self))


@dataclass(frozen=True)
class EntityView:
    """A read-only live view of one entity (values read when accessed)."""

    _world: World = field(repr=False)
    name: str

    @property
    def spec(self) -> Entity:
        return self._world._sim.live(self.name).spec

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.spec.tags)

    @property
    def position(self) -> tuple[float, float, float]:
        return tuple(self._world._sim.pose(self.name)[0])

    @property
    def orientation(self) -> tuple[float, float, float, float]:
        """Quaternion (x, y, z, w)."""
        return tuple(self._world._sim.pose(self.name)[1])

    @property
    def velocity(self) -> tuple[float, float, float]:
        return tuple(self._world._sim.velocity(self.name)[0])

    @property
    def angular_velocity(self) -> tuple[float, float, float]:
        return tuple(self._world._sim.velocity(self.name)[1])

    @property
    def tilt(self) -> float:
        """Degrees between the entity's up axis and the world's."""
        return self._world._sim.entity(self.name, "tilt")


class World:
    """A world you can step, query, edit, rewind, predict and save.

    Args:
        spec: the world's design.
        seed: seeds the world's one random generator (default ``spec.metadata.seed``).
        trace: the reasoning trace that produced ``spec``, if any.
        history_every: ticks between the snapshots kept for :meth:`rewind` (0: no history,
            rewind unavailable). A snapshot costs a few milliseconds (see
            :meth:`physics.Simulation.snapshot`); rewinding replays at most this many ticks.
        history_len: snapshots kept (``history_every × history_len`` ticks of rewind).
    """

    def __init__(self, spec: WorldSpec, seed: int | None = None, trace: Any = None, *,
                 history_every: int = 600, history_len: int = 60) -> None:
        self._sim = Simulation(spec, seed)
        self.trace = trace
        self._history_every = history_every
        self._history: deque[tuple[int, Snapshot]] = deque(maxlen=history_len)
        self._actions: dict[int, Actions] = {}
        self._steps = 0  # ticks stepped since construction, across episodes
        self._callbacks: list[tuple[str, tuple[str, ...], Callable[[Event], Any]]] = []
        self._fork: Simulation | None = None
        self._remember()

    @classmethod
    def from_spec(cls, spec: WorldSpec | Mapping[str, Any], seed: int | None = None, **kw: Any) -> World:
        """A world from a spec object or a plain dict (validated)."""
        if not isinstance(spec, WorldSpec):
            from worldgen.io import validate_spec

            spec = validate_spec(spec)
        return cls(spec, seed, **kw)

    # ------------------------------------------------------------------ state

    @property
    def spec(self) -> WorldSpec:
        return self._sim.spec

    @property
    def seed(self) -> int:
        return self._sim.seed

    @property
    def tick(self) -> int:
        return self._sim.tick

    @property
    def time(self) -> float:
        """Seconds since the episode started."""
        return self._sim.time

    @property
    def episode(self) -> int:
        return self._sim.episode

    @property
    def terminated(self) -> bool:
        return self._sim.terminated

    @property
    def truncated(self) -> bool:
        return self._sim.truncated

    @property
    def outcome(self) -> str | None:
        return self._sim.outcome

    @property
    def gravity(self) -> tuple[float, float, float]:
        return tuple(self._sim.gravity)

    @property
    def entities(self) -> dict[str, EntityView]:
        return {n: EntityView(self, n) for n in self._sim.entity_names}

    @property
    def variables(self) -> dict[str, float]:
        return dict(self._sim.variables)

    @property
    def controls(self) -> dict[str, dict[str, Control]]:
        return {pl.name: {c.name: c for c in pl.controls} for pl in self.spec.players}

    @property
    def events(self) -> list[Event]:
        """The causal event log (the newest events; old ones are forgotten past a cap)."""
        return list(self._sim.log)

    @property
    def simulation(self) -> Simulation:
        """The underlying simulation (for renderers and tools inside this project)."""
        return self._sim

    def state_hash(self) -> str:
        return self._sim.state_hash()

    def why(self, event: Event | int) -> Chain:
        """The chain of causes from ``event`` back to its root (a player action or the start)."""
        return Chain(self._sim.log.why(event))

    # ------------------------------------------------------------------ stepping

    def step(self, actions: Actions = None, ticks: int = 1) -> StepResult:
        """Advances ``ticks`` ticks applying ``actions`` (``{player: {control: value}}``) on each."""
        if ticks < 0:
            raise ValueError(f"ticks must be ≥ 0, got {ticks}")
        values = self._sim.read_actions(actions)  # validate once, before anything moves
        events: list[Event] = []
        for _ in range(ticks):
            events.extend(self._advance(actions, notify=True, values=values))
        s = self._sim
        return StepResult(events, dict(s.variables), s.terminated, s.truncated, s.outcome, s.tick)

    def _advance(self, actions: Actions, notify: bool, values=None) -> list[Event]:
        if actions and self._history_every:  # kept only for rewind's replay
            self._actions[self._steps] = actions
        if getattr(self, "_prev_poses", None) is not None:  # motion vectors were asked for: keep last tick's poses
            from renderer.gbuffer import poses

            self._prev_poses, self._prev_tick = poses(self._sim), self._sim.tick
        evs = self._sim.step(actions, values=values)
        self._steps += 1
        if self._history_every and self._sim.tick % self._history_every == 0:  # by tick: survives restore
            self._remember()
        if notify and self._callbacks:
            for ev in evs:
                self._notify(ev)
        return evs

    def reset(self, seed: int | None = None) -> Event:
        """Starts a new episode from the spec's initial state; returns its start event."""
        start = self._sim.reset(seed)
        self._forget_history()
        return start

    # ------------------------------------------------------------------ time

    def edit(self, prompt: str):
        """Changes the world's design by prompt ("make the ball bouncier and add two more pins").

        The edited spec is verified by simulation, then the world restarts from it (tick 0;
        callbacks stay). Returns the trace of what changed, also kept as ``world.trace``.
        Raises ``reasoner.ReasonerError`` (the world unchanged) when the edit cannot be made.
        """
        from reasoner.edit import edit_spec

        spec, trace = edit_spec(self.spec, prompt, self.seed)
        old, fork = self._sim, self._fork
        self._sim = Simulation(spec, self.seed)
        old.close()
        if fork is not None:
            fork.close()
        self._fork = None
        self._forget_history()
        self.trace = trace
        return trace

    def snapshot(self) -> Snapshot:
        return self._sim.snapshot()

    def restore(self, snapshot: Snapshot) -> None:
        """Returns to ``snapshot`` exactly (rewind history restarts there)."""
        self._sim.restore(snapshot)
        self._forget_history()

    def rewind(self, ticks: int) -> int:
        """Goes back ``ticks`` ticks (as far as the history reaches); returns how far it went.

        Restores the newest kept snapshot at or before the target and replays the recorded
        actions up to it, so the result equals the state the world had then.
        """
        if ticks < 0:
            raise ValueError(f"ticks must be ≥ 0, got {ticks}")
        if not self._history:
            raise RuntimeError("this world keeps no history (history_every=0); rewind is unavailable")
        target = max(self._steps - ticks, self._history[0][0])
        while self._history and self._history[-1][0] > target:
            self._history.pop()
        at, snap = self._history[-1]
        self._sim.restore(snap)
        went = self._steps - target
        self._steps = at
        self._actions = {k: v for k, v in self._actions.items() if k < target}
        kept = dict(self._actions)
        while self._steps < target:
            self._advance(kept.get(self._steps), notify=False)
        return went

    def predict(self, actions: Actions | Sequence[Actions] = None, ticks: int = 60) -> Rollout:
        """Rolls out ``ticks`` ticks on a fork; the live world is untouched.

        ``actions`` is one action dict applied on every tick, or a sequence of per-tick
        action dicts (shorter sequences are padded with no input).
        """
        per_tick = list(actions) if isinstance(actions, (list, tuple)) else [actions] * ticks
        for a in per_tick:
            self._sim.read_actions(a)
        if self._fork is None:
            self._fork = Simulation(self.spec, self.seed)
        fork = self._fork
        fork.restore(self._sim.snapshot())
        names = fork.entity_names
        pos = {n: np.zeros((ticks, 3)) for n in names}
        variables, events = [], []
        for t in range(ticks):
            events.extend(fork.step(per_tick[t] if t < len(per_tick) else None))
            for n in names:
                if n in fork._live:
                    pos[n][t] = fork.pose(n)[0]
            variables.append(dict(fork.variables))
        return Rollout(pos, variables, events, fork.state_hash(), fork.terminated, fork.outcome)

    def _remember(self) -> None:
        if not self._history_every:
            return
        self._history.append((self._steps, self._sim.snapshot()))
        if self._history:
            oldest = self._history[0][0]
            if len(self._actions) > 4 * (self._history.maxlen or 1) * self._history_every:
                self._actions = {k: v for k, v in self._actions.items() if k >= oldest}

    def _forget_history(self) -> None:
        self._history.clear()
        self._actions.clear()
        self._remember()

    # ------------------------------------------------------------------ scripting

    def on(self, kind: str, fn: Callable[[Event], Any], tags: Iterable[str] = ()) -> Callable[[Event], Any]:
        """Calls ``fn(event)`` after each tick for events of ``kind`` whose subjects carry ``tags``.

        ``"collision"`` is an alias of ``"contact"``; with ``tags=("ball", "pin")`` the
        first subject must carry one tag and the second the other. Callbacks are trusted
        user code of this process and are not saved with the world (saved behaviour is rules).
        Returns ``fn`` (pass it to :meth:`off`).
        """
        from physics.events import EVENT_KINDS

        kind = "contact" if kind == "collision" else kind
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; kinds: collision, {', '.join(EVENT_KINDS)}")
        self._callbacks.append((kind, tuple(tags), fn))
        return fn

    def off(self, fn: Callable[[Event], Any]) -> None:
        self._callbacks = [c for c in self._callbacks if c[2] is not fn]

    def _notify(self, ev: Event) -> None:
        sim = self._sim
        for kind, tags, fn in self._callbacks:
            if kind != ev.kind:
                continue
            if tags:
                subj = [set(sim._tags_of(s)) for s in ev.subjects]
                if len(tags) == 1:
                    if not any(tags[0] in s for s in subj):
                        continue
                elif len(subj) < 2 or not ((tags[0] in subj[0] and tags[1] in subj[1]) or
                                           (tags[1] in subj[0] and tags[0] in subj[1])):
                    continue
            fn(ev)

    def add_entity(self, entity: Entity | Mapping[str, Any] | None = None, **fields: Any) -> EntityView:
        """Adds an entity to the spec and to the running world, validated like a loaded spec."""
        data = dict(entity.model_dump() if isinstance(entity, Entity) else entity or {}, **fields)
        spec = self._edited(entities=[*self._dump("entities"), data])
        e = spec.entities[-1]
        self._sim.set_spec(spec)
        self._sim.add_entity(e)
        return EntityView(self, e.name)

    def add_joint(self, joint: Joint | Mapping[str, Any] | None = None, **fields: Any) -> None:
        data = dict(joint.model_dump() if isinstance(joint, Joint) else joint or {}, **fields)
        spec = self._edited(joints=[*self._dump("joints"), data])
        self._sim.set_spec(spec)
        self._sim.add_joint(spec.joints[-1])

    def add_rule(self, rule: Rule | Mapping[str, Any] | None = None, **fields: Any) -> Rule:
        """Adds a rule (validated and compiled; it acts from the next tick)."""
        data = dict(rule.model_dump() if isinstance(rule, Rule) else rule or {}, **fields)
        spec = self._edited(rules=[*self._dump("rules"), data])
        self._sim.set_spec(spec)
        return spec.rules[-1]

    def add_variable(self, name: str, value: float = 0.0, **fields: Any) -> None:
        variables = {k: v.model_dump() for k, v in self.spec.variables.items()}
        variables[name] = {"value": value, **fields}
        self._sim.set_spec(self._edited(variables=variables))

    def remove(self, name: str) -> None:
        """Removes an entity (with its joints), a rule, a joint or a goal by name."""
        spec = self.spec
        if name in self._sim.entity_names or any(e.name == name for e in spec.entities):
            joints = [j for j in self._dump("joints") if name not in (j["parent"], j["child"])]
            new = self._edited(entities=[e for e in self._dump("entities") if e["name"] != name], joints=joints)
            if name in self._sim.entity_names:
                self._sim.remove_entity(name)
            self._sim.set_spec(new)
            return
        for section in ("rules", "joints", "goals"):
            items = self._dump(section)
            if any(i["name"] == name for i in items):
                self._sim.set_spec(self._edited(**{section: [i for i in items if i["name"] != name]}))
                return
        raise KeyError(f"nothing named {name!r} to remove (entities, rules, joints and goals were searched)")

    def _dump(self, section: str) -> list[dict[str, Any]]:
        return [x.model_dump() for x in getattr(self.spec, section)]

    def _edited(self, **sections: Any) -> WorldSpec:
        from worldgen.io import validate_spec

        return validate_spec({**self.spec.model_dump(), **sections})

    # ------------------------------------------------------------------ views

    #: Styles :meth:`render` draws: the flat albedo view, and the teacher styles (renderer/teachers.py).
    STYLES = ("albedo", "realistic", "toon", "pixel", "painterly", "palette")

    def render(self, size: tuple[int, int] = (256, 256), style: str = "albedo",
               camera: str | None = None, *, steps: int = 1, teacher: bool = False,
               temporal: bool = True) -> np.ndarray:
        """The world seen from ``camera`` as a uint8 (H, W, 3) image.

        ``albedo`` is each entity's flat colour from its appearance (exact, ≈1 ms at 64²).
        ``realistic``, ``toon``, ``pixel`` and ``painterly`` are drawn by the trained restyler
        (weights/restyler: ~35 ms at 256² including the G-buffer, whose rays are cast coarsely and refined
        at every edge; ``steps`` diffusion steps). With ``temporal`` (the default) a frame rendered within 4 ticks of
        the previous one in the same style, size and camera blends in that frame, warped by the exact motion
        vectors and clamped to the new frame's local colours (less flicker, no ghost trails);
        ``temporal=False`` draws every frame on its own. ``teacher=True`` draws them
        with the slow teacher renderers instead (renderer/teachers.py; ``realistic`` ~3 s at 256²);
        ``pixel`` uses the spec's ``style.palette`` when it has one (PICO-8's otherwise), ``palette`` (the
        spec's ``style.palette`` by luminance and hue) is teacher-only. Any other text is mapped to the
        nearest style by meaning ("cartoon with ink outlines" → toon; renderer/styles.py).
        """
        if style not in self.STYLES:  # words ("cartoon with ink outlines") → the nearest style, or a clear error
            from renderer.styles import resolve_style

            style, _ = resolve_style(style, self.STYLES)
        if style == "albedo":
            return self._raster().render(size, camera).albedo
        if style == "palette" or teacher:
            from renderer.teachers import teach

            palette = self.spec.style.palette or None
            if style == "palette" and not palette:
                raise ValueError("style 'palette' needs spec.style.palette (e.g. from a reference image); this world "
                                 "has none")
            return teach(self._gbuffer(size, camera), style, palette=palette, seed=self.seed)
        from renderer.stream import Renderer

        key = (style, tuple(size), camera, steps, temporal, self.seed)
        last = getattr(self, "_renderer", None)  # (key, Renderer) of the last restyled view: it keeps the history
        if last is None or last[0] != key:
            last = self._renderer = (key, Renderer(self, size, style, camera=camera, steps=steps,
                                                   seed=self.seed % 2**63, temporal=temporal))
        return last[1].render().image

    def gbuffer(self, size: tuple[int, int] = (256, 256), camera: str | None = None) -> dict[str, np.ndarray]:
        """Per-pixel buffers from an exact ray cast of the world's primitives (renderer/gbuffer.py).

        ``albedo`` uint8 (H, W, 3) flat colours; ``depth`` float32 metres along the view axis (100
        on background); ``normal`` float32 (H, W, 3) world-space; ``segmentation`` int32 (index
        into ``entity_names``, -1 background); ``motion`` float32 (H, W, 2) pixels each surface
        point moved since the previous tick (zero until a tick has passed since the first call);
        ``world_pos`` float32 (H, W, 3).
        """
        gb = self._gbuffer(size, camera)
        return {"albedo": gb.albedo, "depth": gb.depth, "normal": gb.normal, "segmentation": gb.segmentation,
                "motion": gb.motion, "world_pos": gb.world_pos, "entity_names": np.asarray(gb.names)}

    def _gbuffer(self, size, camera):
        from renderer.gbuffer import gbuffer, poses

        if getattr(self, "_prev_poses", None) is None:  # start tracking motion from now on
            self._prev_poses = poses(self._sim)
            self._prev_tick = self._sim.tick
        prev = self._prev_poses if self._prev_tick == self._sim.tick - 1 else None
        return gbuffer(self._sim, size, camera, prev_poses=prev)

    def _raster(self):
        if getattr(self, "_rasterizer", None) is None:
            from renderer.raster import Rasterizer

            self._rasterizer = Rasterizer(self._sim)
        return self._rasterizer

    # ------------------------------------------------------------------ files

    def audio(self, seconds: float, actions: Mapping[int, Actions] | None = None, **mixer_options: Any) -> np.ndarray:
        """Plays the world forward ``seconds`` and returns the sound of it: stereo float32 (N, 2) at 44.1 kHz.

        Sounds come from the ticks' events (impacts by material and impulse, rule sound cues), placed
        relative to the first camera (or ``camera=``). This advances the world, as :meth:`step` does;
        ``actions`` maps a tick offset from now to actions. See docs/audio.md.
        """
        from renderer.audio import render_audio

        return render_audio(self, seconds, actions, **mixer_options)

    def save(self, path: str) -> None:
        """Writes spec + full state to a JSON file that :func:`worldgen.load` restores exactly."""
        from worldgen.io import save_world

        save_world(self, path)

    def close(self) -> None:
        self._sim.close()
        if self._fork is not None:
            self._fork.close()

    def __repr__(self) -> str:
        return (f"World({self.spec.metadata.title!r}, tick={self.tick}, entities={len(self._sim.entity_names)}, "
                f"variables={self.variables})")
