"""Replays: the exact inputs of a play session, so anyone can reproduce it bit for bit.

A world is deterministic (same spec + seed + actions ⇒ the same ``state_hash()``), so a
session is fully described by the world it started from and the actions applied on each
tick. :class:`Recorder` keeps those actions while someone plays (following rewinds with
:meth:`Recorder.truncate` and restarts with :meth:`Recorder.restart`), :meth:`Recorder.save`
writes them, :func:`load_replay` reads and validates a file, and :func:`play_back` rebuilds
the world and steps it through the session; comparing ``world.state_hash()`` with
:attr:`Replay.state_hash` proves the replay exact.

The file is JSON Lines::

    {"format": "worldgen.replay", "version": 1, "seed": 0, "spec": {...}, "meta": {...}}
    {"tick": 0, "actions": {"p1": {"move_x": 1.0}}}
    {"tick": 1, "actions": {"p1": {"move_x": 1.0}}}
    ...
    {"end_tick": 600, "state_hash": "3fc57da5b7e23c6c"}

``tick`` counts the ticks stepped since the session started (0 is the first tick stepped;
it equals ``world.tick`` unless a rule restarted the episode), and only ticks with input
have a line; ``"hold": N`` (as in ``worldgen run --actions``) repeats a line's actions for
N ticks. ``meta.history_every`` is the world's snapshot cadence, which the play-back world
must share: a snapshot re-seats the engine on its own state blob, which changes the last
bits of the trajectory (see docs/concepts.md, "Time"). A session that did not start from
the world's initial state carries that state in the header (``"state"``, as in a saved
world file); its engine blob is checked in a throwaway process before it is loaded, like
:func:`worldgen.io.load_world` does.

Files are untrusted: the size is capped, the header, spec and every line are validated,
and actions are checked by the world's own ``read_actions`` before anything is stepped.
Errors are :class:`ReplayError` (a ValueError) naming the file and line.

>>> import worldgen, tempfile, os
>>> world = worldgen.example("push_crate")
>>> rec = Recorder(world)
>>> for t in range(30):
...     rec.record(t, {"p1": {"move_x": 1.0}})
...     _ = world.step({"p1": {"move_x": 1.0}})
>>> path = os.path.join(tempfile.mkdtemp(), "session.jsonl")
>>> rec.save(path, world)
>>> play_back(load_replay(path)).state_hash() == world.state_hash()
True
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from worldgen.spec import WorldSpec

FORMAT = "worldgen.replay"
VERSION = 1
#: Largest replay file read (bytes): a spec, an optional start state and an hour of input fit easily.
MAX_BYTES = 64 * 1024 * 1024
#: Largest action line (bytes); eight players × 32 controls need a few KB.
MAX_LINE_BYTES = 64 * 1024
#: Most ticks a replay may span (a week of play at 60 ticks/s).
MAX_TICKS = 60 * 60 * 60 * 24 * 7
_DEFAULT_HISTORY_EVERY = 600  # World's default snapshot cadence


class ReplayError(ValueError):
    """A replay file is invalid; the message names the file, the line and the problem."""


@dataclass
class Replay:
    """A recorded session: where it started and which actions were applied on which tick.

    Attributes:
        spec: the world's design.
        seed: the world's seed.
        actions: tick (0-based count of ticks stepped since the start; the tick about to be
            stepped) → ``{player: {control: value}}``; ticks without input are absent.
        end_tick: ticks the session stepped in all.
        state_hash: ``world.state_hash()`` at the end of the session (``None`` if unknown).
        meta: free-form details; ``history_every`` (the world's snapshot cadence, needed for
            a bit-exact play-back) and, for a session that did not start from the initial
            state, ``state`` (the start state, as in a saved world file).
    """

    spec: WorldSpec
    seed: int
    actions: dict[int, dict]
    end_tick: int
    state_hash: str | None
    meta: dict = field(default_factory=dict)


def _history_every(world) -> int:
    return int(getattr(world, "_history_every", _DEFAULT_HISTORY_EVERY))


class Recorder:
    """Records which actions a world was stepped with, from its current (start) state.

    Call :meth:`record` with every tick's actions (before or after stepping it),
    :meth:`truncate` after ``world.rewind`` with the tick the session is back at,
    :meth:`restart` after ``world.reset()``, and :meth:`save` at the end.

    If the world is not at its initial state when recording starts (it was loaded from a
    saved file or already stepped), the start state is captured with ``world.snapshot()``
    so the replay can begin there. Taking that snapshot re-seats the engine (see
    :meth:`physics.Simulation.snapshot`), which the play-back reproduces.
    """

    def __init__(self, world) -> None:
        self.spec: WorldSpec = world.spec
        self.seed: int = world.seed
        self.history_every = _history_every(world)
        self.actions: dict[int, dict] = {}
        self.end_tick = 0  #: ticks the session has stepped (one past the last recorded tick)
        self.start_state: dict[str, Any] | None = None
        self._begin(world)

    def _begin(self, world) -> None:
        self.spec, self.seed, self.actions, self.end_tick = world.spec, world.seed, {}, 0
        self.start_state = None
        if not _at_initial_state(world, self.history_every):
            from worldgen.io import snapshot_to_dict

            self.start_state = snapshot_to_dict(world.snapshot())

    def record(self, tick: int, actions: Mapping[str, Mapping[str, float]] | None) -> None:
        """Remembers that ``actions`` were applied on ``tick`` (ticks since the start); empty input is skipped."""
        if tick < 0:
            raise ValueError(f"tick must be ≥ 0, got {tick}")
        kept = {p: {c: float(v) for c, v in cs.items()} for p, cs in (actions or {}).items() if cs}
        self.end_tick = max(self.end_tick, tick + 1)
        if kept:
            self.actions[tick] = kept
        else:
            self.actions.pop(tick, None)

    def truncate(self, tick: int) -> None:
        """Forgets the actions of ticks ≥ ``tick`` (the session was rewound to ``tick``)."""
        self.actions = {t: a for t, a in self.actions.items() if t < tick}
        self.end_tick = min(self.end_tick, max(tick, 0))

    def restart(self, world=None) -> None:
        """The world was reset (``world.reset()``): the session starts over from its initial state.

        Pass ``world`` if its spec or seed may have changed since recording started.
        """
        if world is not None:
            self._begin(world)
        else:
            self.actions, self.start_state, self.end_tick = {}, None, 0

    def replay(self, world, end_tick: int | None = None) -> Replay:
        """The session so far as a :class:`Replay` with ``world``'s current hash.

        ``end_tick`` defaults to :attr:`end_tick` (record every tick stepped, with or without input).
        """
        end_tick = self.end_tick if end_tick is None else end_tick
        meta: dict[str, Any] = {"history_every": self.history_every}
        if self.start_state is not None:
            meta["state"] = self.start_state
        actions = {t: a for t, a in self.actions.items() if t < end_tick}
        return Replay(self.spec, self.seed, copy.deepcopy(actions), end_tick, world.state_hash(), meta)

    def save(self, path: str | os.PathLike[str], world, end_tick: int | None = None) -> None:
        """Writes the replay to ``path`` (JSON Lines; written to a temporary file, then moved into place).

        ``end_tick`` is the number of ticks the session stepped (default :attr:`end_tick`).
        """
        save_replay(self.replay(world, end_tick), path)


def _at_initial_state(world, history_every: int) -> bool:
    """Whether ``world`` is exactly where a fresh ``World(spec, seed)`` starts."""
    if world.tick != 0 or world.episode != 0:
        return False
    from worldgen.world import World

    fresh = World(world.spec, world.seed, history_every=history_every)
    try:
        return fresh.state_hash() == world.state_hash()
    finally:
        fresh.close()


def save_replay(replay: Replay, path: str | os.PathLike[str]) -> None:
    """Writes ``replay`` as JSON Lines (see the module docstring)."""
    meta = {k: v for k, v in replay.meta.items() if k != "state"}
    header: dict[str, Any] = {"format": FORMAT, "version": VERSION, "seed": replay.seed,
                              "spec": replay.spec.model_dump(mode="json"), "meta": meta}
    if replay.meta.get("state") is not None:
        header["state"] = replay.meta["state"]
    path = os.fspath(path)
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as f:
            f.write(json.dumps(header) + "\n")
            for t in sorted(replay.actions):
                f.write(json.dumps({"tick": t, "actions": replay.actions[t]}) + "\n")
            f.write(json.dumps({"end_tick": replay.end_tick, "state_hash": replay.state_hash}) + "\n")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


_HEADER_KEYS = ("format", "version", "seed", "spec", "meta", "state")


def load_replay(path: str | os.PathLike[str]) -> Replay:
    """Reads and validates a replay file; raises :class:`ReplayError` naming the line and the problem."""
    from worldgen.io import SpecError, _check_json_values, snapshot_from_dict, validate_spec

    src = os.fspath(path)
    try:
        size = os.path.getsize(src)
    except OSError as e:
        raise ReplayError(f"{src}: cannot read: {e.strerror or e}") from None
    if size > MAX_BYTES:
        raise ReplayError(f"{src}: file is {size} bytes, over the {MAX_BYTES} byte cap for replays")
    with open(src, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ReplayError(f"{src}: file is over the {MAX_BYTES} byte cap for replays")
    lines = [(n, ln) for n, ln in enumerate(data.split(b"\n"), 1) if ln.strip()]
    if not lines:
        raise ReplayError(f"{src}: empty file; a replay starts with a header line "
                          f'{{"format": "{FORMAT}", "version": 1, "seed": ..., "spec": {{...}}}}')

    def parse(n: int, raw: bytes, what: str) -> Any:
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as e:
            raise ReplayError(f"{src}:{n}: {what} is not valid JSON ({str(e)[:120]})") from None

    # ---- header
    n, raw = lines[0]
    try:
        _check_json_values(raw, f"{src}:{n}")
    except SpecError as e:
        raise ReplayError(str(e)) from None
    head = parse(n, raw, "the header")
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        got = head.get("format") if isinstance(head, dict) else type(head).__name__
        raise ReplayError(f"{src}:{n}: not a replay header: expected \"format\": \"{FORMAT}\", got {str(got)[:40]!r}")
    unknown = [str(k)[:40] for k in head if k not in _HEADER_KEYS]
    if unknown:
        raise ReplayError(f"{src}:{n}: unknown header field(s) {', '.join(unknown)}; "
                          f"a header holds {', '.join(_HEADER_KEYS)}")
    version = head.get("version")
    if type(version) is not int or version != VERSION:
        raise ReplayError(f"{src}:{n}: unsupported version {repr(version)[:20]}; this build reads version {VERSION}")
    seed = head.get("seed")
    if type(seed) is not int or not 0 <= seed < 2**63:
        raise ReplayError(f"{src}:{n}: seed must be an integer in [0, 2**63), got {repr(seed)[:30]}")
    if "spec" not in head:
        raise ReplayError(f"{src}:{n}: the header has no \"spec\"")
    try:
        spec = validate_spec(head["spec"], f"{src}:{n} spec")
    except SpecError as e:
        raise ReplayError(str(e)) from None
    meta = head.get("meta", {})
    if not isinstance(meta, dict):
        raise ReplayError(f"{src}:{n}: meta must be an object")
    history_every = meta.get("history_every", _DEFAULT_HISTORY_EVERY)
    if type(history_every) is not int or not 0 <= history_every <= 10**7:
        raise ReplayError(f"{src}:{n}: meta.history_every must be an integer in [0, 10**7], got "
                          f"{repr(history_every)[:20]}")
    meta = dict(meta)
    if head.get("state") is not None:
        try:
            snapshot_from_dict(spec, head["state"])  # validated here; its blob is checked on play-back
        except SpecError as e:
            raise ReplayError(f"{src}:{n}: the start state is invalid: {e}") from None
        meta["state"] = head["state"]

    # ---- actions and the end line
    from worldgen.world import World

    checker = World(spec, seed, history_every=0)  # its read_actions checks players, controls and ranges
    try:
        actions: dict[int, dict] = {}
        end: dict | None = None
        for n, raw in lines[1:]:
            if end is not None:
                raise ReplayError(f"{src}:{n}: a line after the end line {{\"end_tick\": ...}}")
            if len(raw) > MAX_LINE_BYTES:
                raise ReplayError(f"{src}:{n}: line is {len(raw)} bytes, over the {MAX_LINE_BYTES} byte cap")
            row = parse(n, raw, "the line")
            if isinstance(row, dict) and "end_tick" in row:
                end = _end_line(src, n, row)
                continue
            tick, acts, hold = _action_line(src, n, row)
            try:
                checker.simulation.read_actions(acts)
            except ValueError as e:
                raise ReplayError(f"{src}:{n}: {e}") from None
            for t in range(tick, tick + hold):
                if t in actions:
                    raise ReplayError(f"{src}:{n}: tick {t} has actions on an earlier line too")
                actions[t] = acts
        if end is None:
            raise ReplayError(f"{src}: no end line {{\"end_tick\": N, \"state_hash\": ...}} (the file is cut short?)")
    finally:
        checker.close()
    end_tick = end["end_tick"]
    if actions and max(actions) >= end_tick:
        raise ReplayError(f"{src}: actions at tick {max(actions)} but the replay ends at tick {end_tick}")
    meta["history_every"] = history_every
    return Replay(spec, seed, actions, end_tick, end.get("state_hash"), meta)


def _action_line(src: str, n: int, row: Any) -> tuple[int, dict, int]:
    shape = '{"tick": T, "actions": {player: {control: value}}} or the end line {"end_tick": N, "state_hash": H}'
    if not isinstance(row, dict):
        raise ReplayError(f"{src}:{n}: expected {shape}, got {type(row).__name__}")
    unknown = [str(k)[:40] for k in row if k not in ("tick", "actions", "hold")]
    if unknown or "tick" not in row or "actions" not in row:
        what = f"unknown field(s) {', '.join(unknown)}" if unknown else "missing \"tick\" or \"actions\""
        raise ReplayError(f"{src}:{n}: {what}; expected {shape}")
    tick, hold, acts = row["tick"], row.get("hold", 1), row["actions"]
    if type(tick) is not int or not 0 <= tick < MAX_TICKS:
        raise ReplayError(f"{src}:{n}: tick must be an integer in [0, {MAX_TICKS}), got {repr(tick)[:30]}")
    if type(hold) is not int or not 1 <= hold <= MAX_TICKS - tick:
        raise ReplayError(f"{src}:{n}: hold must be a positive integer, got {repr(hold)[:30]}")
    if not isinstance(acts, dict) or not all(isinstance(c, dict) for c in acts.values()):
        raise ReplayError(f"{src}:{n}: actions must be {{player: {{control: value}}}}, got {repr(acts)[:60]}")
    for p, cs in acts.items():
        for c, v in cs.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ReplayError(f"{src}:{n}: {p}.{c}: value must be a finite number, got {repr(v)[:30]}")
    return tick, {p: {c: float(v) for c, v in cs.items()} for p, cs in acts.items() if cs}, hold


def _end_line(src: str, n: int, row: dict) -> dict:
    unknown = [str(k)[:40] for k in row if k not in ("end_tick", "state_hash")]
    if unknown:
        raise ReplayError(f"{src}:{n}: unknown field(s) {', '.join(unknown)} in the end line; "
                          'expected {"end_tick": N, "state_hash": H}')
    end_tick, h = row["end_tick"], row.get("state_hash")
    if type(end_tick) is not int or not 0 <= end_tick <= MAX_TICKS:
        raise ReplayError(f"{src}:{n}: end_tick must be an integer in [0, {MAX_TICKS}], got {repr(end_tick)[:30]}")
    if h is not None and (not isinstance(h, str) or len(h) > 64):
        raise ReplayError(f"{src}:{n}: state_hash must be a short string or null, got {repr(h)[:30]}")
    return {"end_tick": end_tick, "state_hash": h}


def replay_world(replay: Replay):
    """A fresh World where ``replay`` starts: its spec and seed, its snapshot cadence, its start state.

    Step it with ``replay.actions`` for ``replay.end_tick`` ticks (or let :func:`play_back` or
    ``renderer.video.render_video`` do it) to reproduce the session bit-exactly.
    """
    from worldgen.world import World

    world = World(replay.spec, replay.seed,
                  history_every=int(replay.meta.get("history_every", _DEFAULT_HISTORY_EVERY)))
    state = replay.meta.get("state")
    if state is not None:
        try:
            world.restore(_start_snapshot(replay, state))
        except BaseException:
            world.close()
            raise
    return world


def play_back(replay: Replay, world=None):
    """Rebuilds the session's world and steps it through ``replay.end_tick`` ticks; returns the World.

    ``world`` (optional) is a world of the same spec to play into; it is reset first (or
    restored to the start state). For a bit-exact result it must keep snapshots at the
    replay's cadence (``meta["history_every"]``); by default a fresh world is built with
    it. Compare ``world.state_hash()`` with ``replay.state_hash`` to check the replay.
    """
    fresh = world is None
    if not fresh and world.spec != replay.spec:
        raise ValueError("play_back: the world's spec differs from the replay's; pass world=None to build one")
    if fresh:
        world = replay_world(replay)
    try:
        state = replay.meta.get("state")
        if not fresh and state is not None:
            world.restore(_start_snapshot(replay, state))
        elif not fresh:
            world.reset(seed=replay.seed)
        actions = replay.actions
        for t in range(replay.end_tick):
            world.step(actions.get(t))
    except BaseException:
        if fresh:
            world.close()
        raise
    return world


def _start_snapshot(replay: Replay, state: dict):
    """The replay's start state as a Snapshot whose engine blob was proven in a throwaway process."""
    import dataclasses

    from worldgen.io import FORMAT as WORLD_FORMAT
    from worldgen.io import _sanitize_blob, snapshot_from_dict

    snap = snapshot_from_dict(replay.spec, state)
    fd, tmp = tempfile.mkstemp(suffix=".json", prefix="worldgen-replay-start-")
    try:  # a world file of the start state: what the checker reloads if it cannot fork
        with os.fdopen(fd, "w") as f:
            json.dump({"format": WORLD_FORMAT, "version": 1, "spec": replay.spec.model_dump(mode="json"),
                       "state": state}, f)
        clean = _sanitize_blob(replay.spec, snap, replay.seed, tmp)
    finally:
        os.unlink(tmp)
    if isinstance(clean, str):
        raise ReplayError(f"the replay's start state cannot be restored: {clean}")
    return dataclasses.replace(snap, blob=clean)
