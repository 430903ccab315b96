"""A room: one world, stepped by the server, edited by its owner, played and watched by clients.

Contract:

- Only the room's thread steps the world: :data:`TICK_HZ` ticks per second on a fixed
  schedule (catching up at most :data:`MAX_CATCHUP` ticks at once, so a slow frame never
  makes the simulation spiral), and a ``state`` message plus one JPEG per distinct
  (view, size) to the connected clients :data:`FRAME_HZ` times per second.
- Every :data:`SNAPSHOT_EVERY` ticks (and on pause, edit, load) the exact state and the new
  events go to the store in one transaction, so a killed server loses at most that much
  play. Snapshots are taken at ticks that are multiples of :data:`SNAPSHOT_EVERY`, which
  makes a resumed room continue exactly as the uninterrupted one would have.
- Edits build the new world outside the lock (validation and reasoning can be slow), then
  swap it in: the world restarts at tick 0, paused; the edit joins the history.
- Inputs only reach the sender's own player; values are checked against the control's
  type and range. A button pressed and released between two ticks is pressed for one tick.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from worldgen.server.protocol import (MAX_FRAME_SIDE, MIN_FRAME_SIDE, RESTYLED_VIEWS, encode_jpeg, entity_positions,
                                      event_json, render_view, restyler_ready, views_for)
from worldgen.server.store import Store, event_rows

__all__ = ["Client", "Room", "build_world", "FRAME_HZ", "SNAPSHOT_EVERY", "TICK_HZ"]

TICK_HZ = 60
FRAME_HZ = 30
SNAPSHOT_EVERY = 30  # ticks: half a second of play at most is lost when the server is killed
MAX_CATCHUP = 8
HISTORY_EVERY = 600  # ticks between the world's own rewind snapshots (a multiple of SNAPSHOT_EVERY)
KEYFRAME_EVERY = 30  # frames between state messages that carry every entity's position
EVENTS_KEPT_IN_SNAPSHOT = 1000
INPUT_RATE, INPUT_BURST = 60.0, 120.0  # messages per second per connection, token bucket
MAX_STRIKES = 3000  # messages dropped by the rate limit before the connection is closed


def build_world(spec: Any, seed: int, state: dict[str, Any] | None = None):
    """A server-side :class:`~worldgen.World` for ``spec``, at ``state`` (a snapshot dict) if given."""
    from worldgen.io import snapshot_from_dict
    from worldgen.world import World

    world = World(spec, seed, history_every=HISTORY_EVERY, history_len=12)
    if state is not None:
        world.restore(snapshot_from_dict(spec, state))
    return world


def state_dict(world: Any) -> dict[str, Any]:
    from worldgen.io import snapshot_to_dict

    state = snapshot_to_dict(world.snapshot())
    state["events"] = state["events"][-EVENTS_KEPT_IN_SNAPSHOT:]
    return state


@dataclass
class Client:
    """One WebSocket connection as the room sees it. Delivery runs on the connection's event loop."""

    role: str
    loop: asyncio.AbstractEventLoop
    player: str | None = None
    view: str = "albedo"
    size: tuple[int, int] = (320, 240)
    id: int = 0
    texts: deque = field(default_factory=lambda: deque(maxlen=240))
    frame: bytes | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    tokens: float = INPUT_BURST
    last_refill: float = field(default_factory=time.monotonic)
    strikes: int = 0
    last_notice: float = 0.0

    def deliver(self, text: str | None, frame: bytes | None = None) -> None:
        """From any thread: queue a text message and/or replace the pending frame."""
        self.loop.call_soon_threadsafe(self._deliver, text, frame)

    def _deliver(self, text: str | None, frame: bytes | None) -> None:
        if text is not None:
            self.texts.append(text)
        if frame is not None:
            self.frame = frame  # only the newest frame matters to a slow client
        self.wake.set()

    def allow(self) -> bool:
        """Token bucket: True if one more input message is within the rate limit."""
        now = time.monotonic()
        self.tokens = min(INPUT_BURST, self.tokens + (now - self.last_refill) * INPUT_RATE)
        self.last_refill = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        self.strikes += 1
        return False


class Room:
    """See the module docstring. All public methods are thread-safe."""

    def __init__(self, store: Store, room_id: str, title: str, seed: int, world: Any, edit_seq: int,
                 labels: list[str], trace: str | None, *, running: bool = False,
                 resumed: dict[str, Any] | None = None) -> None:
        self.store, self.id, self.title, self.seed = store, room_id, title, seed
        self.world, self.edit_seq, self.labels, self.trace = world, edit_seq, labels, trace
        self.running, self.resumed = running, resumed
        self.lock = threading.RLock()  # the world and the clients
        self.edit_lock = threading.Lock()  # the history: one edit at a time
        self.clients: dict[int, Client] = {}
        self._next_client = 1
        self.assigned: dict[str, int] = {}  # player name -> client id
        self.inputs: dict[str, dict[str, float]] = {}
        self.pressed: dict[str, dict[str, float]] = {}
        self.tick_times: deque[float] = deque(maxlen=20_000)
        self.frame_times: deque[float] = deque(maxlen=5_000)
        self.max_lag = 0.0
        self.skipped_ticks = 0
        self._last_positions: dict[str, list[float]] = {}
        self._frames = 0
        self._last_event_id = self._newest_event_id()
        self._unsaved_events: list[Any] = []  # not yet in the store
        self._pending_events: list[Any] = []  # not yet sent to clients
        self._persist_pool: ThreadPoolExecutor | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # something for an idle loop to do
        self._dirty = True  # clients need a frame even though the world is paused
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self, persist_pool: ThreadPoolExecutor) -> None:
        self._persist_pool = persist_pool
        self._thread = threading.Thread(target=self._run, name=f"room-{self.id}", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Something changed that clients should see (a join, a view, an edit, a control)."""
        self._dirty = True
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            self.world.close()

    # ------------------------------------------------------------ the loop
    def _run(self) -> None:
        period, fperiod = 1.0 / TICK_HZ, 1.0 / FRAME_HZ
        next_tick = next_frame = time.monotonic()
        while not self._stop.is_set():
            now = time.monotonic()
            with self.lock:
                if self.running:
                    lag = now - next_tick
                    self.max_lag = max(self.max_lag, lag)
                    n = 0
                    while next_tick <= now and n < MAX_CATCHUP and self.running:
                        self._tick()
                        next_tick += period
                        n += 1
                    if now - next_tick > 0.25:  # far behind (a long edit, a stall): skip, never spiral
                        self.skipped_ticks += int((now - next_tick) / period)
                        next_tick = now
                else:
                    next_tick = now + period
                if now >= next_frame:
                    # a paused world only needs a frame when something changed (a join, a view, an edit)
                    send = self.clients and (self.running or self._dirty)
                    work = self._broadcast_frame() if send else 0.0
                    self._dirty = False
                    # frames take at most half the wall time, so ticks, joins and edits always get the lock
                    next_frame = max(next_frame + fperiod, now + 2.0 * work)
            if not self.running and not self._dirty:
                if self._wake.wait(0.5):  # idle: sleep until a join, a view change, an edit or play
                    self._dirty = True
                self._wake.clear()
                next_frame = time.monotonic()
                continue
            wait = min(next_tick, next_frame) - time.monotonic()
            if wait > 0:
                self._stop.wait(wait)

    def _tick(self) -> None:
        actions = self._actions()
        t0 = time.perf_counter()
        self.world.step(actions or None)
        self.tick_times.append(time.perf_counter() - t0)
        self._collect_events()
        if self.world.terminated or self.world.truncated:
            self.running = False
            self._persist()
        elif self.world.tick % SNAPSHOT_EVERY == 0:
            self._persist()

    def _actions(self) -> dict[str, dict[str, float]]:
        out: dict[str, dict[str, float]] = {}
        for player, values in self.inputs.items():
            merged = dict(values)
            for name, v in self.pressed.pop(player, {}).items():
                merged[name] = v  # pressed and released since the last tick: pressed for this one
            live = {k: v for k, v in merged.items() if v != 0.0}
            if live:
                out[player] = live
        self.pressed.clear()
        return out

    def _newest_event_id(self) -> int:
        evs = self.world.events
        return evs[-1].id if evs else -1

    def _collect_events(self) -> None:
        """Queues the events since the last call for the store and for the clients."""
        evs = self.world.events
        new = []
        for ev in reversed(evs):
            if ev.id <= self._last_event_id:
                break
            new.append(ev)
        new.reverse()
        if new:
            self._last_event_id = new[-1].id
            self._unsaved_events.extend(new)
            self._pending_events.extend(new)

    def _persist(self, wait: bool = False) -> None:
        """Snapshot now (room thread or under the lock); the write happens on the persist thread, in order.
        ``wait``: return only once it (and every write queued before it) is in the store — for what a user
        asked for (pause, step, rewind, reset, an edit), which must survive a crash right after the reply."""
        state = state_dict(self.world)
        args = (self.id, self.edit_seq, self.world.tick, self.world.state_hash(), state,
                event_rows(self._unsaved_events, self.world.episode), self.running)
        self._unsaved_events = []
        if self._persist_pool is None:
            self.store.write_snapshot(*args)
        else:
            done = self._persist_pool.submit(self.store.write_snapshot, *args)
            if wait:
                done.result()

    # ------------------------------------------------------------ frames
    def _state_message(self) -> str:
        w = self.world
        positions = entity_positions(w)
        self._frames += 1
        if self._frames % KEYFRAME_EVERY == 1:
            delta = positions
        else:
            delta = {k: v for k, v in positions.items() if self._last_positions.get(k) != v}
        self._last_positions = positions
        events = [event_json(e) for e in self._pending_events[-100:]]
        self._pending_events.clear()
        return json.dumps({"type": "state", "tick": w.tick, "time": round(w.time, 4), "running": self.running,
                           "hash": w.state_hash(), "t": time.time(), "variables": _finite(w.variables),
                           "entities": delta, "events": events, "outcome": w.outcome,
                           "terminated": w.terminated, "truncated": w.truncated,
                           "episode": w.episode}, separators=(",", ":"))

    def _broadcast_frame(self) -> float:
        """Sends the state message and each client's frame; returns the seconds it took."""
        t0 = time.perf_counter()
        text = self._state_message()
        frames: dict[tuple[str, tuple[int, int]], bytes | str] = {}  # a frame, or why the view failed
        allowed = set(views_for(self.world))
        for c in list(self.clients.values()):
            view = c.view if c.view in allowed else "albedo"
            if view in RESTYLED_VIEWS and not restyler_ready():
                view = "albedo"  # until the weights are loaded (in the background)
            key = (view, c.size)
            if key not in frames:
                try:
                    frames[key] = encode_jpeg(render_view(self.world, view, c.size))
                except Exception as exc:  # e.g. missing restyler weights: say so, fall back to albedo
                    frames[key] = json.dumps({"type": "error", "message": f"view {view!r} unavailable: {exc}"[:500]})
            frame = frames[key]
            if isinstance(frame, str):  # every client of a failed view hears why and falls back
                c.view = "albedo"
                c.deliver(frame)
                frame = None
            c.deliver(text, frame)
        work = time.perf_counter() - t0
        self.frame_times.append(work)
        return work

    # ------------------------------------------------------------ clients
    def join(self, role: str, loop: asyncio.AbstractEventLoop) -> Client:
        with self.lock:
            client = Client(role=role, loop=loop, id=self._next_client)
            self._next_client += 1
            self.clients[client.id] = client
            client.player = self._assign(client)
            client.deliver(json.dumps({"type": "hello", "role": role, "player": client.player,
                                       "room": self.info(role, client.player),
                                       "events": self._recent_events(),
                                       "controls": self._controls(client.player)}))
            self._announce_members()
            self.poke()
            return client

    def leave(self, client: Client) -> None:
        with self.lock:
            client.closed = True
            self.clients.pop(client.id, None)
            if client.player is not None and self.assigned.get(client.player) == client.id:
                del self.assigned[client.player]
                self.inputs.pop(client.player, None)
                self.pressed.pop(client.player, None)
            self._announce_members()

    def _player_names(self) -> list[str]:
        return [p.name for p in self.world.spec.players]

    def _assign(self, client: Client) -> str | None:
        if client.role == "spectator":
            return None
        names = self._player_names()
        order = names if client.role == "owner" else names[1:] + names[:1]
        for name in order:
            if name not in self.assigned:
                self.assigned[name] = client.id
                return name
        return None

    def _reassign_all(self) -> None:
        """After an edit: keep assignments whose player still exists, give others a free one."""
        names = set(self._player_names())
        self.assigned = {p: cid for p, cid in self.assigned.items() if p in names and cid in self.clients}
        self.inputs.clear()
        self.pressed.clear()
        for c in self.clients.values():
            if c.player not in names or self.assigned.get(c.player) != c.id:
                c.player = self._assign(c)

    def _announce_members(self) -> None:
        msg = json.dumps({"type": "members", "members": [{"role": c.role, "player": c.player}
                                                          for c in self.clients.values()]})
        for c in self.clients.values():
            c.deliver(msg)

    def _controls(self, player: str | None) -> dict[str, Any]:
        if player is None:
            return {}
        ctrls = self.world.controls.get(player, {})
        return {name: {"type": c.type, "range": list(c.range), "keys": list(c.keys)} for name, c in ctrls.items()}

    def _recent_events(self) -> list[dict[str, Any]]:
        return [event_json(e) for e in self.world.events[-200:]]

    def input(self, client: Client, controls: Any) -> str | None:
        """Applies a client's control values; returns an error message or None."""
        if client.player is None:
            return "spectators have no controls"
        if not isinstance(controls, dict) or len(controls) > 32:
            return "controls must be an object {control: number}"
        with self.lock:
            mine = self.world.controls.get(client.player, {})
            for name, value in controls.items():  # all checked before any applies: a bad message changes nothing
                if name not in mine:
                    return f"unknown control {str(name)[:40]!r} for {client.player}; controls: {', '.join(mine)}"
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    return f"control {name!r} needs a number"
            held = self.inputs.setdefault(client.player, {})
            pressed = self.pressed.setdefault(client.player, {})
            for name, value in controls.items():
                ctrl = mine[name]
                lo, hi = ctrl.range
                v = float(min(max(value, lo), hi))
                held[name] = v
                if ctrl.type == "button" and v != 0.0:
                    pressed[name] = v
        return None

    def set_view(self, client: Client, view: Any, size: Any) -> str | None:
        allowed = views_for(self.world)
        if view not in allowed:
            return f"unknown view {str(view)[:40]!r}; views: {', '.join(allowed)}"
        if size is not None:
            if (not isinstance(size, list) or len(size) != 2
                    or not all(isinstance(s, int) and MIN_FRAME_SIDE <= s <= MAX_FRAME_SIDE for s in size)):
                return f"size must be [width, height] with sides {MIN_FRAME_SIDE}..{MAX_FRAME_SIDE}"
            client.size = (size[0], size[1])
        client.view = view
        self.poke()
        return None

    # ------------------------------------------------------------ what the API returns
    def info(self, role: str, player: str | None = None) -> dict[str, Any]:
        with self.lock:
            w = self.world
            positions = entity_positions(w)
            return {
                "room_id": self.id, "title": self.title, "role": role, "player": player,
                "seed": self.seed, "spec": w.spec.model_dump(mode="json"), "trace": self.trace,
                "tick": w.tick, "time": round(w.time, 4), "running": self.running, "hash": w.state_hash(),
                "episode": w.episode, "outcome": w.outcome, "terminated": w.terminated, "truncated": w.truncated,
                "variables": _finite(w.variables),
                "entities": {name: {"kind": v.kind, "position": positions[name]} for name, v in w.entities.items()},
                "history": {"position": self.edit_seq, "length": len(self.labels),
                            "can_undo": self.edit_seq > 0, "can_redo": self.edit_seq < len(self.labels) - 1,
                            "labels": list(self.labels)},
                "players": {p: self.clients[cid].role if (cid := self.assigned.get(p)) in self.clients else None
                            for p in self._player_names()},
                "controls": self._controls(player),
                "views": views_for(w),
                "resumed": self.resumed,
            }

    def _announce_spec(self) -> None:
        for c in self.clients.values():
            c.deliver(json.dumps({"type": "spec", "room": self.info(c.role, c.player),
                                  "controls": self._controls(c.player), "events": self._recent_events()}))

    # ------------------------------------------------------------ owner actions
    def replace_world(self, world: Any, edit_seq: int, labels: list[str], trace: str | None) -> None:
        """Swaps in ``world`` (already built) as history entry ``edit_seq``; paused."""
        with self.lock:
            old = self.world
            self.world, self.edit_seq, self.labels, self.trace = world, edit_seq, labels, trace
            self.running = False
            self.resumed = None
            self._last_event_id = -1
            self._pending_events.clear()
            self._unsaved_events = []
            self._collect_events()
            self._last_positions = {}
            self._frames = 0
            self._reassign_all()
            self._persist(wait=True)
            self._announce_spec()
            self.poke()
        old.close()

    def control(self, action: str, ticks: int = 1) -> None:
        with self.lock:
            w = self.world
            if action == "play":
                if w.terminated or w.truncated:
                    w.reset()
                    self._collect_events()
                self.running = True
                self.store.set_running(self.id, True)
            elif action == "pause":
                self.running = False
                self._persist(wait=True)
            elif action == "step":
                self.running = False
                for _ in range(ticks):
                    if w.terminated or w.truncated:
                        break
                    self._tick()
                self._persist(wait=True)
            elif action == "rewind":
                self.running = False
                w.rewind(ticks)
                self._last_event_id = self._newest_event_id()
                self._persist(wait=True)
            elif action == "reset":
                self.running = False
                w.reset()
                self._collect_events()
                self._persist(wait=True)
            else:  # the API validates actions; this is a programming error
                raise ValueError(f"unknown action {action!r}")
            self._announce_spec()
            self.poke()

    def why(self, event_id: int) -> list[dict[str, Any]] | None:
        with self.lock:
            try:
                chain = self.world.why(event_id)
            except (KeyError, IndexError, ValueError):
                return None
            return [event_json(e) for e in chain] or None  # None: not in the log

    def pick(self, x: float, y: float, size: tuple[int, int]) -> str | None:
        with self.lock:
            g = self.world.gbuffer(size)
        seg, names = g["segmentation"], g["entity_names"]
        h, w = seg.shape
        i, j = min(int(y * h), h - 1), min(int(x * w), w - 1)
        sid = int(seg[i, j])
        return str(names[sid]) if 0 <= sid < len(names) else None

    def exported(self) -> dict[str, Any]:
        from worldgen.io import saved_world_doc

        with self.lock:
            return saved_world_doc(self.world.spec, state_dict(self.world))

    def stats(self) -> dict[str, Any]:
        with self.lock:
            ticks = sorted(self.tick_times)
            frames = sorted(self.frame_times)
        return {"ticks": len(ticks), "tick_p50_ms": _pct(ticks, 50), "tick_p99_ms": _pct(ticks, 99),
                "frame_p50_ms": _pct(frames, 50), "frame_p99_ms": _pct(frames, 99),
                "frame_max_ms": round(frames[-1] * 1e3, 2) if frames else None,
                "max_lag_ms": round(self.max_lag * 1e3, 2), "skipped_ticks": self.skipped_ticks,
                "clients": len(self.clients)}


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    return round(xs[min(len(xs) - 1, int(len(xs) * q / 100))] * 1e3, 3)


def _finite(variables: dict[str, float]) -> dict[str, float | None]:
    return {k: (v if math.isfinite(v) else None) for k, v in variables.items()}
