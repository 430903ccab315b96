"""``Simulation``: a WorldSpec running on its own pybullet client, with rules and causes.

Contract:

- ``Simulation(spec, seed)`` builds the world; ``step(actions)`` advances one tick
  (``spec.physics.timestep`` seconds, ``substeps`` solver steps) and returns the events
  of that tick, in the order they happened.
- Same spec + seed + actions ⇒ bit-identical state (:meth:`state_hash`), on the same
  machine and build. :meth:`snapshot` / :meth:`restore` capture *everything* (engine
  state blob, variables, timers, rule state, RNG, event ids), so restoring and
  continuing equals never having stopped.
- Every event names its cause (see :mod:`physics.events`).
- Spec text is never executed: conditions are compiled by :mod:`worldgen.expr`.
- Caps: effects per tick, rule cascade depth and live entities are bounded, so a
  hostile world runs (degraded, with a ``limit`` event) instead of exhausting memory.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pybullet as p

from physics import bridge
from physics.events import Event, EventLog
from physics.rules import CompiledRule, RuleBook
from worldgen.spec import (
    MAX_ENTITIES, AddVar, Control, Destroy, End, Entity, Impulse, Joint, Message, PlaySound, Reset,
    SetGravity, SetProperty, SetVar, Spawn, WorldSpec,
)

MAX_EFFECTS_PER_TICK = 256  # an effect on tag:X counts once per entity it touches
MAX_WORK_PER_TICK = 100_000  # entity visits by conditions and goals (count() visits every tagged entity)
MAX_CASCADE_DEPTH = 8
MAX_LIVE_ENTITIES = MAX_ENTITIES
MOVING_SPEED = 0.05  # m/s: faster is "moving", slower "resting"
WAKE_SPEED = 0.02  # m/s and rad/s below which a body is treated as at rest by the detectors
WAKE_SPIN = 0.2
RESTORES_PER_CLIENT = 64
GLOBAL_QUERY_AT = 6  # bodies in motion from which one query of every contact beats one query each
KNOCK_RATIO = 4.0  # a touching pair whose impulse jumps by more than this is a new contact

Actions = Mapping[str, Mapping[str, float]] | None


@dataclass
class Live:
    """A live entity: its current spec (properties change at run time) and engine handle."""

    spec: Entity
    serial: int  # creation order, stable across rebuilds
    body: int | None  # pybullet id; None for sensors
    cause: int  # id of the latest event that set it in motion (-1: static)
    pose: tuple[tuple[float, float, float], tuple[float, float, float, float]]  # sensors only


@dataclass(frozen=True)
class Snapshot:
    """Everything needed to continue a simulation exactly. Plain, immutable data."""

    spec: WorldSpec
    tick: int
    episode: int
    blob: bytes
    slots: tuple[tuple[Entity, str | None], ...]  # engine bodies in order: (physics spec, occupant or None)
    entities: tuple[tuple[Entity, int, int, tuple], ...]  # live (spec, serial, cause, sensor pose), creation order
    creation_order: tuple[str, ...]
    joints: tuple[tuple[Joint, int], ...]  # (joint, part) in engine constraint order
    gravity: tuple[float, float, float]
    variables: tuple[tuple[str, float], ...]
    rng_state: Mapping[str, Any]
    controls: tuple[tuple[tuple[str, str], float, int], ...]  # ((player, control), value, press event id)
    last_fired: tuple[tuple[str, int], ...]
    flags: tuple[tuple[Any, ...], ...]  # tilt / zone / bounds states
    touching: tuple[tuple[str, str, float, int], ...]  # pairs in contact: (a, b, impulse, tick last seen)
    counters: tuple[int, int, int]  # serial, spawn, start event id
    wake: tuple[bool, tuple[str, ...]]  # detectors: look at everything next tick?, names to look at
    ended: tuple[bool, bool, str | None]  # terminated, truncated, outcome
    next_event_id: int
    events: tuple[Event, ...] = field(repr=False, default=())


class Simulation:
    """A running world. See the module docstring for the contract."""

    def __init__(self, spec: WorldSpec, seed: int | None = None, event_capacity: int = 10_000) -> None:
        self.spec = spec
        self.log = EventLog(event_capacity)
        self._client = bridge.connect()
        self._restores = 0  # file restores on this client (see _rebuild_engine)
        self.engine_generation = 0  # counts engine rebuilds (snapshot, restore)
        self._book = RuleBook.compile(spec)
        self._controls = {(pl.name, c.name): c for pl in spec.players for c in pl.controls}
        self.reset(seed)

    # ------------------------------------------------------------------ lifecycle

    def reset(self, seed: int | None = None, *, keep_log: bool = False, cause: int | None = None) -> Event:
        """Rebuilds the initial state of ``spec``; returns the new episode's ``start`` event.

        ``keep_log`` continues the event log (a rule's ``reset`` effect, whose event is
        ``cause``); otherwise the log starts afresh, as for a new episode from the API.
        """
        if seed is not None:
            self.seed = seed
        elif not hasattr(self, "seed"):
            self.seed = self.spec.metadata.seed
        if not keep_log:
            self.log = EventLog(self.log.capacity)
        self.episode = getattr(self, "episode", -1) + 1 if keep_log else 0
        self.rng = np.random.Generator(np.random.PCG64(self.seed + self.episode))
        self.tick = 0
        #: how often the state jumped (reset or restored), so whoever keeps consecutive frames (a
        #: renderer's history) can tell a jump from time passing
        self.jumps = getattr(self, "jumps", -1) + 1
        self.gravity = tuple(self.spec.physics.gravity)
        self.variables = {k: v.value for k, v in self.spec.variables.items()}
        self.terminated = self.truncated = False
        self.outcome: str | None = None
        self._prev_controls: dict[tuple[str, str], float] = {}
        self._press_cause: dict[tuple[str, str], int] = {}
        self._last_fired: dict[str, int] = {}
        self._flags: set[tuple[Any, ...]] = set()
        self._touching: dict[tuple[int, int], tuple[float, int]] = {}  # body ids → (impulse N·s, tick seen)
        self._serial = 0
        self._spawned = 0
        self._pending_reset: int | None = None
        self._work = 0  # condition work this tick (see MAX_WORK_PER_TICK)
        self._wake_all = True  # detectors look at every entity on the next tick
        self._wake: set[str] = set()  # ... or at these (spawned, moved, edited)
        self._touched: set[int] = set()
        p.resetSimulation(physicsClientId=self._client)
        bridge.configure(self._client, self.spec.physics, self.gravity)
        self._live: dict[str, Live] = {}
        self._slots: list[list] = []  # [body id, physics spec, occupant name or None, physics key], engine order
        self._joint_order: list[tuple[Joint, int]] = []
        self._constraints: dict[tuple[str, int], int] = {}
        start = self.log.record(0, "start", (), cause, episode=self.episode)
        self._start_event = start.id
        for e in self.spec.entities:
            self._add_live(e, cause=start.id)
        for j in self.spec.joints:
            self._add_joint(j)
        self._refresh_indices()
        self._run_rules(start.id)  # start rules
        return start

    def close(self) -> None:
        if self._client is not None:
            bridge.disconnect(self._client)
            self._client = None  # type: ignore[assignment]

    def __del__(self) -> None:  # worlds are often dropped without close()
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ views

    @property
    def time(self) -> float:
        """Seconds since the episode started."""
        return self.tick * self.spec.physics.timestep

    @property
    def client(self) -> int:
        """The pybullet client id (changes when a snapshot or restore rebuilds the engine)."""
        return self._client

    @property
    def entity_names(self) -> list[str]:
        return list(self._live)

    def live(self, name: str) -> Live:
        try:
            return self._live[name]
        except KeyError:
            raise KeyError(f"no entity {name!r}; entities: {', '.join(self._live)[:400]}") from None

    def pose(self, name: str) -> tuple[tuple[float, float, float], tuple[float, float, float, float]]:
        """(position in m, orientation quaternion x y z w) of a live entity."""
        cached = self._poses.get(name)
        if cached is not None:
            return cached
        lv = self.live(name)
        if lv.body is None:
            return lv.pose
        pose = self._poses[name] = p.getBasePositionAndOrientation(lv.body, physicsClientId=self._client)
        return pose

    def velocity(self, name: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """(linear m/s, angular rad/s) of a live entity (zero for sensors)."""
        lv = self.live(name)
        if lv.body is None:
            return (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)
        return p.getBaseVelocity(lv.body, physicsClientId=self._client)

    # StateView for expressions ------------------------------------------------

    def var(self, name: str) -> float:
        return self.variables[name]

    def entity(self, name: str, attr: str) -> float:
        if name not in self._live:
            return 0.0
        if attr == "exists":
            return 1.0
        if attr in ("x", "y", "z"):
            return self.pose(name)[0]["xyz".index(attr)]
        if attr == "tilt":
            return bridge.tilt_deg(self.pose(name)[1])
        v = self.velocity(name)[0]
        if attr == "speed":
            return math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
        return v["xyz".index(attr[1])]

    def distance(self, a: str, b: str) -> float:
        if a not in self._live or b not in self._live:
            return 0.0
        pa, pb = self.pose(a)[0], self.pose(b)[0]
        return math.dist(pa, pb)

    def count(self, tag: str, predicate: str | None, zone: str | None) -> int:
        self._work += len(self._by_tag.get(tag, ())) + 1
        n = 0
        for name in self._by_tag.get(tag, ()):
            if predicate is None and zone is None:
                n += 1
            elif zone is not None:
                if zone in self._live and self._inside(zone, name):
                    n += 1
            elif predicate in ("fallen", "tilted"):
                if bridge.tilt_deg(self.pose(name)[1]) > (60.0 if predicate == "fallen" else 30.0):
                    n += 1
            else:
                moving = self.entity(name, "speed") > MOVING_SPEED
                n += moving if predicate == "moving" else not moving
        return n

    def random(self) -> float:
        return float(self.rng.random())

    # ------------------------------------------------------------------ stepping

    def step(self, actions: Actions = None, *, values: dict[tuple[str, str], float] | None = None) -> list[Event]:
        """Advances one tick; returns the events that happened during it.

        ``values`` is ``read_actions(actions)`` when the caller validated already (it then wins).
        """
        first = self.log.next_id
        self.tick += 1
        self._work = 0
        forces = self._apply_controls(values if values is not None else self.read_actions(actions))
        ph = self.spec.physics
        moving = self._moving_bodies() if self._dynamic_bodies else []
        for _ in range(ph.substeps):
            for body, kind, vec in forces:
                if kind == "force":
                    p.applyExternalForce(body, -1, vec, (0, 0, 0), p.WORLD_FRAME,
                                         physicsClientId=self._client)
                else:
                    p.applyExternalTorque(body, -1, vec, p.WORLD_FRAME, physicsClientId=self._client)
            p.stepSimulation(physicsClientId=self._client)
            if moving:
                self._detect_contacts(moving)
        self._poses.clear()
        if not self.terminated:  # once an episode has ended, the world moves on but the game is over
            self._advance_variables()
            self._detect_timers()
            self._detect_watches(moving)
            self._run_rules(first)
            self._check_goals(first)
        if ph.time_limit is not None and self.time >= ph.time_limit - 1e-9 and not self.truncated:
            self.truncated = True
        if self._pending_reset is not None:
            self.reset(keep_log=True, cause=self._pending_reset)
        return self.log.since(first)

    def read_actions(self, actions: Actions) -> dict[tuple[str, str], float]:
        """Validates ``{player: {control: value}}``; raises ValueError naming what is wrong."""
        out: dict[tuple[str, str], float] = {}
        if not actions:
            return out
        if not isinstance(actions, Mapping):
            raise ValueError(f"actions must be {{player: {{control: value}}}}, got {type(actions).__name__}")
        players = {pl.name for pl in self.spec.players}
        for pname, controls in actions.items():
            if pname not in players:
                raise ValueError(f"unknown player {pname!r}; players: {', '.join(sorted(players)) or '(none)'}")
            if not controls:
                continue
            if not isinstance(controls, Mapping):
                raise ValueError(f"actions[{pname!r}] must map control names to values")
            for cname, value in controls.items():
                c = self._controls.get((pname, cname))
                if c is None:
                    valid = ", ".join(sorted(k[1] for k in self._controls if k[0] == pname))
                    raise ValueError(f"player {pname!r} has no control {cname!r}; controls: {valid}")
                try:
                    v = float(value)
                except (TypeError, ValueError):
                    raise ValueError(f"{pname}.{cname}: value must be a number, got {value!r}") from None
                lo, hi = c.range
                if not (math.isfinite(v) and lo - 1e-9 <= v <= hi + 1e-9):
                    raise ValueError(f"{pname}.{cname}: value {v} outside its range [{lo}, {hi}]")
                if c.type == "button" and v not in (0.0, 1.0) and (lo, hi) == (0.0, 1.0):
                    raise ValueError(f"{pname}.{cname} is a button: send 0 or 1, got {v}")
                out[(pname, cname)] = v
        return out

    def _apply_controls(self, values: dict[tuple[str, str], float]) -> list[tuple[int, str, tuple]]:
        """Applies control values; returns the forces/torques to apply on every substep.

        A body pushed by several controls in one tick takes as its cause the press of the
        control that changed its momentum most (a throw, not the aim held beside it).
        """
        forces = []
        prev = self._prev_controls
        pushes: dict[str, tuple[float, int]] = {}  # target → (momentum change, cause)
        dt = self.spec.physics.timestep
        for key, c in self._controls.items():
            v = values.get(key, 0.0)
            was = prev.get(key, 0.0)
            if v != 0.0 and was == 0.0:
                ev = self.log.record(self.tick, "action", (c.target,) if c.target else (), None,
                                     player=key[0], control=key[1], value=v)
                self._press_cause[key] = ev.id
            if v == 0.0 or c.apply == "none" or c.target not in self._live:
                continue
            lv = self._live[c.target]
            dynamic = lv.body is not None and not lv.spec.static
            d = _unit(c.direction)
            amount = v * c.strength
            push = 0.0
            if c.apply == "impulse":
                if was == 0.0 and dynamic:
                    self._impulse(lv, tuple(amount * x for x in d))
                    push = abs(amount)
            elif c.apply in ("force", "torque"):
                if dynamic:
                    forces.append((lv.body, c.apply, tuple(amount * x for x in d)))
                    push = abs(amount) * dt
            elif c.apply == "velocity":
                if dynamic:
                    lin, ang = p.getBaseVelocity(lv.body, physicsClientId=self._client)
                    along = sum(a * b for a, b in zip(lin, d))
                    new = tuple(a + (amount - along) * b for a, b in zip(lin, d))
                    p.resetBaseVelocity(lv.body, new, ang, physicsClientId=self._client)
                    push = lv.spec.mass * abs(amount - along)
            elif c.apply == "move":
                pos, orn = self.pose(c.target)
                new_pos = tuple(a + amount * dt * b for a, b in zip(pos, d))
                if lv.body is None:
                    lv.pose = (new_pos, orn)
                else:
                    p.resetBasePositionAndOrientation(lv.body, new_pos, orn, physicsClientId=self._client)
                self._poses.pop(c.target, None)
                self._wake.add(c.target)
                push = abs(amount) * dt
            if push > pushes.get(c.target, (-1.0, 0))[0]:
                pushes[c.target] = (push, self._press_cause.get(key, self._start_event))
        for name, (_, cause) in pushes.items():
            lv = self._live[name]
            lv.cause = max(lv.cause, cause)
        self._prev_controls = {k: values.get(k, 0.0) for k in self._controls if values.get(k, 0.0) != 0.0}
        return forces

    def _impulse(self, lv: Live, j: tuple[float, float, float], cause: int | None = None) -> None:
        """Adds impulse ``j`` (N·s) at the centre of mass; ``cause`` becomes the body's cause."""
        if lv.body is None or lv.spec.static:
            return
        lin, ang = p.getBaseVelocity(lv.body, physicsClientId=self._client)
        m = lv.spec.mass
        p.resetBaseVelocity(lv.body, [a + b / m for a, b in zip(lin, j)], ang, physicsClientId=self._client)
        if cause is not None:
            lv.cause = max(lv.cause, cause)

    def _moving_bodies(self) -> list[int]:
        """Bodies fast enough to start a contact worth an event, in engine order.

        A body slower than :data:`WAKE_SPEED` cannot deliver an impulse above the
        resting-weight floor of :meth:`_detect_contacts`; anything it touches first is
        found from the faster body's side, so querying only these loses no event.
        Bodies just created, moved or edited are queried once whatever their speed.
        """
        if self._wake_all:  # first tick of an episode, or after an edit: every body
            return list(self._dynamic_bodies) + list(self._kinematic_bodies)
        client, out = self._client, []
        v2, w2 = WAKE_SPEED ** 2, WAKE_SPIN ** 2
        woken = {self._live[n].body for n in self._wake if n in self._live}
        for body in self._dynamic_bodies:
            if body in woken:
                out.append(body)
                continue
            (vx, vy, vz), (wx, wy, wz) = p.getBaseVelocity(body, physicsClientId=client)
            if vx * vx + vy * vy + vz * vz > v2 or wx * wx + wy * wy + wz * wz > w2:
                out.append(body)
        return out + [b for b in self._kinematic_bodies if b not in out]

    def _detect_contacts(self, moving: list[int]) -> None:
        """Logs contacts of the last solver step: pairs that start touching, and knocks.

        A *knock* is a pair already touching whose impulse jumps to over
        :data:`KNOCK_RATIO` times what it was (a cradle ball struck through its neighbour).
        With few bodies in motion only those are queried, and a body struck in this step is
        queried in the same step and the rest of the tick, so a blow passed along a row of
        resting bodies keeps its causes; with many in motion one query reads every contact.
        A pair counts as touching until it has been apart for a whole tick, so a body
        pressed against a wall does not log a contact on every bounce.
        """
        client, tick = self._client, self.tick
        old = self._touching
        sub_dt = self.spec.physics.timestep / self.spec.physics.substeps
        hits: list = []
        forces: dict[tuple[int, int], float] = {}
        if len(moving) >= GLOBAL_QUERY_AT:
            live_bodies = self._by_body
            for c in p.getContactPoints(physicsClientId=client):
                f = c[9]
                if f > 0.0:
                    a, b = c[1], c[2]
                    if a in live_bodies and b in live_bodies:  # not parked bodies
                        key = (a, b) if a < b else (b, a)
                        forces[key] = forces.get(key, 0.0) + f
            last = tick - 1
            for key, f in forces.items():
                before = old.get(key)
                if before is None or before[1] < last or f * sub_dt > KNOCK_RATIO * before[0]:
                    self._judge(key, f * sub_dt, old, hits)
            queried = None
        else:
            queue, queued, done = list(moving), set(moving), set()
            i = 0
            while i < len(queue):
                body = queue[i]
                i += 1
                mine: dict[tuple[int, int], float] = {}
                for c in p.getContactPoints(bodyA=body, physicsClientId=client):
                    other, f = c[2], c[9]
                    if f <= 0.0 or other in done:
                        continue  # no push, or already counted from the other body's side
                    key = (body, other) if body < other else (other, body)
                    mine[key] = mine.get(key, 0.0) + f
                for key, f in mine.items():
                    forces[key] = f
                    if self._judge(key, f * sub_dt, old, hits):
                        other = key[1] if key[0] == body else key[0]
                        if other not in queued and other in self._dynamic_set:
                            queue.append(other)
                            queued.add(other)
                done.add(body)
            moving.extend(queue[len(moving):])  # struck bodies stay queried for the rest of the tick
            queried = queued
        now = {k: (f * sub_dt, tick) for k, f in forces.items()}
        for k, v in old.items():
            if k not in now and (v[1] >= tick - 1 or (queried is not None and k[0] not in queried
                                                       and k[1] not in queried)):
                now[k] = v
        self._touching = now
        if not hits:
            return
        hits.sort(key=lambda h: (h[0], h[1]))
        for _, _, la, lb, impulse in hits:
            self._touched.add(la.body)
            self._touched.add(lb.body)
            striker, struck = (la, lb) if la.cause >= lb.cause else (lb, la)
            ev = self.log.record(tick, "contact", (striker.spec.name, struck.spec.name), striker.cause,
                                 impulse=impulse)
            if not struck.spec.static and struck.cause < striker.cause:
                struck.cause = ev.id

    def _judge(self, key: tuple[int, int], impulse: float, old: dict, hits: list) -> bool:
        """Whether a pair's contact this step is an event (new or a knock); appends it to ``hits``."""
        before = old.get(key)
        if before is not None and before[1] >= self.tick - 1 and impulse <= KNOCK_RATIO * before[0]:
            return False  # still touching, no knock
        a, b = self._by_body.get(key[0]), self._by_body.get(key[1])
        if a is None or b is None:
            return False
        la, lb = self._live[a], self._live[b]
        # Twice the impulse of resting weight: a body merely settling is not an event.
        sub_dt = self.spec.physics.timestep / self.spec.physics.substeps
        g = math.sqrt(self.gravity[0] ** 2 + self.gravity[1] ** 2 + self.gravity[2] ** 2)
        m = min((lv.spec.mass for lv in (la, lb) if not lv.spec.static), default=0.0)
        if impulse < max(self.spec.physics.contact_impulse, 2.0 * m * g * sub_dt) and not self._rule_pair(a, b, impulse):
            return False
        if la.serial > lb.serial:
            la, lb = lb, la
        hits.append((la.serial, lb.serial, la, lb, impulse))
        return True

    def _rule_pair(self, a: str, b: str, impulse: float) -> bool:
        ta, tb = self._live[a].spec.tags, self._live[b].spec.tags
        for (x, y), m in self._book.collision_pairs.items():
            if impulse >= m and ((x in ta and y in tb) or (x in tb and y in ta)):
                return True
        return False

    def _advance_variables(self) -> None:
        dt = self.spec.physics.timestep
        for name, v in self.spec.variables.items():
            if v.rate:
                self.variables[name] = _clamp(self.variables[name] + v.rate * dt, v.min, v.max)

    def _detect_timers(self) -> None:
        dt = self.spec.physics.timestep
        t1, t0 = self.tick * dt, (self.tick - 1) * dt
        for cr in self._book.timers:
            on = cr.rule.on
            if on.every is not None:
                hit = math.floor(t1 / on.every + 1e-9) > math.floor(t0 / on.every + 1e-9)
            else:
                hit = t0 < on.at <= t1 + 1e-9 or (on.at == 0 and self.tick == 1)
            if hit:
                self.log.record(self.tick, "timer", (), self._start_event, rule=cr.name)

    def _detect_watches(self, moving: list[int]) -> None:
        """Tilt, zone and bounds detectors, for the entities that moved (all, when ``_wake_all``)."""
        book = self._book
        if self._wake_all:
            awake = None
        else:
            awake = {self._by_body[b] for b in (*moving, *self._touched) if b in self._by_body}
            awake.update(self._wake)
        self._wake_all = False
        self._wake = set()
        self._touched = set()
        if not (book.tilt_watch or book.zone_watch or book.bounds_watch):
            return
        flags = self._flags
        for kind, tag, angle in sorted(book.tilt_watch):
            for name in self._by_tag.get(tag, ()):
                lv = self._live[name]
                if lv.body is None or lv.spec.static or (awake is not None and name not in awake):
                    continue
                tilt = bridge.tilt_deg(self.pose(name)[1])
                key = (kind, tag, angle, name)
                if key not in flags and tilt > angle:
                    flags.add(key)
                    self.log.record(self.tick, kind, (name,), lv.cause, watch=(kind, tag, angle),
                                    tilt=round(tilt, 3))
                elif key in flags and tilt < angle / 2:
                    flags.discard(key)
        for zone, tag in sorted(book.zone_watch):
            if zone not in self._live:
                continue
            zl = self._live[zone]
            for name in self._by_tag.get(tag, ()):
                if name == zone or (awake is not None and name not in awake and zone not in awake):
                    continue
                key = ("zone", zone, tag, name)
                now_in = self._inside(zone, name)
                if now_in and key not in flags:
                    flags.add(key)
                    self.log.record(self.tick, "enter", (name, zone), max(self._live[name].cause, zl.cause),
                                    zone=zone)
                elif not now_in and key in flags:
                    flags.discard(key)
                    self.log.record(self.tick, "leave", (name, zone), self._live[name].cause, zone=zone)
        lo, hi = self.spec.physics.bounds
        for tag in sorted(book.bounds_watch):
            for name in self._by_tag.get(tag, ()):
                if awake is not None and name not in awake:
                    continue
                pos = self.pose(name)[0]
                out = any(c < a or c > b for c, a, b in zip(pos, lo, hi))
                key = ("bounds", tag, name)
                if out and key not in flags:
                    flags.add(key)
                    self.log.record(self.tick, "out_of_bounds", (name,), self._live[name].cause)
                elif not out and key in flags:
                    flags.discard(key)

    def _inside(self, zone: str, name: str) -> bool:
        zpos, zorn = self.pose(zone)
        pos = self.pose(name)[0]
        r = self._reach.get(zone)
        if r is None:
            r = self._reach[zone] = bridge.reach(self._live[zone].spec.shape)
        dx, dy, dz = pos[0] - zpos[0], pos[1] - zpos[1], pos[2] - zpos[2]
        if dx * dx + dy * dy + dz * dz > r * r:  # outside the zone's bounding sphere
            return False
        return bridge.inside(self._live[zone].spec.shape, zpos, zorn, pos)

    # ------------------------------------------------------------------ rules

    def _run_rules(self, first: int) -> None:
        """Feeds every event since ``first`` (and those the rules cause) through the rules, in id order."""
        if not self._book.rules:
            return
        depth: dict[int, int] = {}
        effects = 0
        limited = False
        i = first
        while i < self.log.next_id:
            ev = self.log.get(i)
            i += 1
            if ev is None or ev.kind in ("rule", "limit"):
                continue
            d = depth.get(ev.cause, 0) + 1 if ev.cause in depth else 0
            depth[ev.id] = d
            listeners = self._book.by_event.get(_trigger_kind(ev), ())
            if not listeners:
                continue
            if d > MAX_CASCADE_DEPTH or effects >= MAX_EFFECTS_PER_TICK:
                if not limited:
                    limited = True
                    self.log.record(self.tick, "limit", ev.subjects, ev.id,
                                    reason="cascade depth" if d > MAX_CASCADE_DEPTH else "effects per tick")
                continue
            for cr in listeners:
                subjects = self._book.matches(cr, ev.kind, ev.subjects, ev.data, self._tags_of)
                if subjects is None or not self._may_fire(cr):
                    continue
                if self._work > MAX_WORK_PER_TICK:
                    self.log.record(self.tick, "limit", ev.subjects, ev.id, reason="condition work per tick")
                    return
                if cr.condition is not None and not cr.condition(self):
                    continue
                self._last_fired[cr.name] = self.tick
                fired = self.log.record(self.tick, "rule", subjects, ev.id, rule=cr.name)
                depth[fired.id] = d
                for k, eff in enumerate(cr.rule.do):
                    effects += max(1, self._apply_effect(eff, cr.values[k], subjects, fired.id,
                                                         MAX_EFFECTS_PER_TICK - effects))
                    if effects >= MAX_EFFECTS_PER_TICK:
                        break
                if effects >= MAX_EFFECTS_PER_TICK:
                    break

    def _may_fire(self, cr: CompiledRule) -> bool:
        last = self._last_fired.get(cr.name)
        if last is None:
            return True
        if cr.rule.once:
            return False
        return (self.tick - last) * self.spec.physics.timestep >= cr.rule.cooldown - 1e-9

    def _tags_of(self, name: str) -> list[str]:
        lv = self._live.get(name)
        return lv.spec.tags if lv is not None else []

    def _targets(self, target: str, subjects: tuple[str, ...]) -> list[Live]:
        if target == "$subject":
            names = subjects[:1]
        elif target == "$other":
            names = subjects[1:2]
        elif target.startswith("tag:"):
            names = tuple(self._by_tag.get(target[4:], ()))
        else:
            names = (target,)
        return [self._live[n] for n in names if n in self._live]

    def _apply_effect(self, eff, value, subjects: tuple[str, ...], cause: int, budget: int) -> int:
        """Applies one effect to at most ``budget`` entities; returns how many it touched."""
        tick = self.tick
        if isinstance(eff, (AddVar, SetVar)):
            spec_var = self.spec.variables[eff.var]
            x = float(value(self))
            if not math.isfinite(x):
                x = 0.0
            old = self.variables[eff.var]
            new = _clamp(old + x if isinstance(eff, AddVar) else x, spec_var.min, spec_var.max)
            new = max(-1e15, min(1e15, new))
            if new != old:
                self.variables[eff.var] = new
                self.log.record(tick, "variable", (), cause, var=eff.var, old=old, new=new)
        elif isinstance(eff, Spawn):
            if len(self._live) >= MAX_LIVE_ENTITIES:
                self.log.record(tick, "limit", (), cause, reason="live entities")
                return 1
            tpl = next(t for t in self.spec.templates if t.name == eff.template)
            pos = eff.position if eff.position is not None else tpl.position
            if eff.at_subject and subjects and subjects[0] in self._live:
                base = self.pose(subjects[0])[0]
                off = eff.position or (0.0, 0.0, 0.0)
                pos = tuple(a + b for a, b in zip(base, off))
            name = f"{tpl.name}_{self._spawned}"
            self._spawned += 1
            ev = self.log.record(tick, "spawn", (name,), cause, template=tpl.name)
            self._add_live(tpl.model_copy(update={"name": name, "position": tuple(pos)}), cause=ev.id)
            self._wake.add(name)
            self._refresh_indices()
        elif isinstance(eff, (Destroy, Impulse, SetProperty)):
            targets = self._targets(eff.target, subjects)[:budget]
            for lv in targets:
                name = lv.spec.name
                if isinstance(eff, Destroy):
                    self.log.record(tick, "destroy", (name,), cause)
                    self._remove_live(name)
                elif isinstance(eff, Impulse):
                    ev = self.log.record(tick, "impulse", (name,), cause, impulse=list(eff.impulse))
                    self._impulse(lv, eff.impulse, ev.id)
                else:
                    self._set_property(lv, eff.property, eff.value)
                    self.log.record(tick, "property", (name,), cause, property=eff.property,
                                    value=list(eff.value) if isinstance(eff.value, tuple) else eff.value)
            return len(targets)
        elif isinstance(eff, SetGravity):
            self.gravity = tuple(eff.gravity)
            p.setGravity(*self.gravity, physicsClientId=self._client)
            self.log.record(tick, "gravity", (), cause, gravity=list(self.gravity))
        elif isinstance(eff, PlaySound):
            self.log.record(tick, "sound", subjects[:1], cause, sound=eff.sound, volume=eff.volume)
        elif isinstance(eff, Message):
            self.log.record(tick, "message", (), cause, text=eff.text)
        elif isinstance(eff, Reset):
            ev = self.log.record(tick, "reset", (), cause)
            self._pending_reset = ev.id
        elif isinstance(eff, End):
            if not self.terminated:
                self.terminated = True
                self.outcome = eff.outcome
                self.log.record(tick, "end", (), cause, outcome=eff.outcome)
        return 1

    def _set_property(self, lv: Live, prop: str, value: Any) -> None:
        spec = lv.spec
        if prop in ("color", "look", "style_prompt", "visible"):
            lv.spec = spec.model_copy(update={"appearance": spec.appearance.model_copy(update={prop: value})})
            return
        if prop == "mass":
            if spec.static:
                return
            lv.spec = spec.model_copy(update={"mass": float(value)})
            if lv.body is not None:
                p.changeDynamics(lv.body, -1, mass=float(value), physicsClientId=self._client)
        else:
            lv.spec = spec.model_copy(update={"material": spec.material.model_copy(update={prop: float(value)})})
            if lv.body is not None:
                key = {"friction": "lateralFriction", "restitution": "restitution",
                       "linear_damping": "linearDamping", "angular_damping": "angularDamping"}[prop]
                p.changeDynamics(lv.body, -1, physicsClientId=self._client, **{key: float(value)})
        for slot in self._slots:  # a restore rebuilds this body with its new physics
            if slot[0] == lv.body:
                slot[1], slot[3] = lv.spec, _physics_key(lv.spec)

    def _check_goals(self, first: int) -> None:
        if self.terminated or not self._book.goals:
            return
        for name, outcome, cond in self._book.goals:
            if self._work > MAX_WORK_PER_TICK:
                self.log.record(self.tick, "limit", (), None, reason="condition work per tick")
                return
            if cond(self):
                cause = None
                for ev in reversed(self.log.since(first)):
                    if ev.kind == "variable" and ev.data.get("var") in cond.variables:
                        cause = ev.id
                        break
                self.terminated = True
                self.outcome = outcome
                self.log.record(self.tick, "end", (), cause, outcome=outcome, goal=name)
                return

    # ------------------------------------------------------------------ building

    def _add_live(self, e: Entity, cause: int, pose=None, body: int | None = None) -> Live:
        """Makes ``e`` live: a sensor pose, a parked body of the same physics reused, or a new body."""
        sensor_pose = ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 1.0))
        if e.sensor:
            sensor_pose = pose or (tuple(e.position), bridge.quaternion(e.rotation))
        elif body is None:
            body = self._occupy_slot(e)
        lv = Live(e, self._serial, body, -1 if e.static else cause, sensor_pose)
        self._serial += 1
        self._live[e.name] = lv
        return lv

    def _occupy_slot(self, e: Entity) -> int:
        """A body for ``e``: a parked one with identical physics if any, else a new one.

        Bodies are never removed from the engine: Bullet's removal reorders its arrays and
        its broadphase ids, which a rebuilt world could not reproduce, so a restore would no
        longer continue bit-exactly. Destroyed entities park their body instead (far away,
        asleep), and a later spawn of the same physics reuses it, which bounds the count.
        """
        key = _physics_key(e)
        for slot in self._slots:
            if slot[2] is None and slot[3] == key:
                body = slot[0]
                slot[1], slot[2] = e, e.name
                p.resetBasePositionAndOrientation(body, list(e.position), bridge.quaternion(e.rotation),
                                                  physicsClientId=self._client)
                p.resetBaseVelocity(body, list(e.velocity), [math.radians(w) for w in e.angular_velocity],
                                    physicsClientId=self._client)
                p.changeDynamics(body, -1, physicsClientId=self._client,
                                 activationState=p.ACTIVATION_STATE_DISABLE_SLEEPING | p.ACTIVATION_STATE_WAKE_UP)
                return body
        body = bridge.create_body(self._client, e)[0]
        self._slots.append([body, e, e.name, key])
        return body

    def _park(self, slot_index: int) -> None:
        slot = self._slots[slot_index]
        slot[2] = None
        bridge.park(self._client, slot[0], slot_index)

    def _add_joint(self, j: Joint) -> None:
        for part in range(bridge.joint_parts(j)):
            self._add_joint_part(j, part)

    def _add_joint_part(self, j: Joint, part: int, bodies: Mapping[str, int] | None = None) -> None:
        if bodies is None:
            bodies = {n: lv.body for n, lv in self._live.items()}
        parent = -1 if j.parent == "world" else bodies[j.parent]
        self._constraints[(j.name, part)] = bridge.create_joint_part(self._client, j, part, parent, bodies[j.child])
        self._joint_order.append((j, part))

    def _remove_live(self, name: str) -> None:
        lv = self._live.pop(name)
        for j, part in [jp for jp in self._joint_order if name in (jp[0].parent, jp[0].child)]:
            p.removeConstraint(self._constraints.pop((j.name, part)), physicsClientId=self._client)
            _swap_remove(self._joint_order, (j, part))
        if lv.body is not None:
            self._park(next(i for i, s in enumerate(self._slots) if s[0] == lv.body))
            self._touching = {t: v for t, v in self._touching.items() if lv.body not in t}
        self._flags = {f for f in self._flags if f[-1] != name}
        self._refresh_indices()

    def _refresh_indices(self) -> None:
        self._by_body = {lv.body: n for n, lv in self._live.items() if lv.body is not None}
        by_tag: dict[str, list[str]] = {}
        for n, lv in self._live.items():
            for t in lv.spec.tags:
                by_tag.setdefault(t, []).append(n)
        self._by_tag = by_tag
        self._dynamic_bodies = [s[0] for s in self._slots if s[2] is not None and not s[1].static]
        self._dynamic_set = set(self._dynamic_bodies)
        self._reach: dict[str, float] = {}  # zone name → bounding-sphere radius (m)
        moved = {c.target for c in self._controls.values() if c.apply == "move"}
        self._kinematic_bodies = [lv.body for n, lv in self._live.items()
                                  if n in moved and lv.body is not None and lv.spec.static]
        self._poses: dict[str, tuple] = {}

    # ------------------------------------------------------------------ editing (scripting API)

    def add_entity(self, e: Entity, cause: int | None = None) -> None:
        """Adds a live entity now (the caller validates it against the spec)."""
        if e.name in self._live:
            raise ValueError(f"entity {e.name!r} already exists")
        ev = self.log.record(self.tick, "edit", (e.name,), cause, op="add")
        self._add_live(e, cause=ev.id)
        self._wake.add(e.name)
        self._refresh_indices()

    def add_joint(self, j: Joint) -> None:
        self._add_joint(j)

    def remove_entity(self, name: str) -> None:
        self.live(name)
        self.log.record(self.tick, "edit", (name,), None, op="remove")
        self._remove_live(name)

    def set_spec(self, spec: WorldSpec) -> None:
        """Switches to an edited spec (rules, templates, variables) without touching live bodies."""
        self.spec = spec
        self._book = RuleBook.compile(spec)
        self._controls = {(pl.name, c.name): c for pl in spec.players for c in pl.controls}
        for k, v in spec.variables.items():
            self.variables.setdefault(k, v.value)
        self._wake_all = True
        self._refresh_indices()

    # ------------------------------------------------------------------ time

    def snapshot(self) -> Snapshot:
        """Captures the complete state (≈1–3 ms for a few dozen bodies).

        Bullet keeps internal orderings (contact manifolds, solver rows) that its state
        blob does not record, so a world rebuilt from a blob continues slightly
        differently from the world that wrote it. To make restore exact, the live world
        reloads its own blob here: from now on it *is* a world rebuilt from this
        snapshot, and every later :meth:`restore` of it continues identically.
        """
        snap = self._capture()
        self._rebuild_engine(snap)
        return snap

    def _capture(self) -> Snapshot:
        return Snapshot(
            spec=self.spec,
            tick=self.tick,
            episode=self.episode,
            blob=bridge.save_blob(self._client),
            slots=tuple((s[1], s[2]) for s in self._slots),
            entities=tuple((lv.spec, lv.serial, lv.cause, lv.pose) for lv in self._live.values()),
            creation_order=tuple(self._live),
            joints=tuple(self._joint_order),
            gravity=tuple(self.gravity),
            variables=tuple(self.variables.items()),
            rng_state=self.rng.bit_generator.state,
            controls=tuple((k, v, self._press_cause.get(k, -1)) for k, v in self._prev_controls.items())
            + tuple((k, 0.0, c) for k, c in self._press_cause.items() if k not in self._prev_controls),
            last_fired=tuple(self._last_fired.items()),
            flags=tuple(sorted(self._flags, key=repr)),
            touching=tuple(sorted((self._by_body[a], self._by_body[b], *v) for (a, b), v in self._touching.items())),
            counters=(self._serial, self._spawned, self._start_event),
            wake=(self._wake_all, tuple(sorted(self._wake))),
            ended=(self.terminated, self.truncated, self.outcome),
            next_event_id=self.log.next_id,
            events=self.log.held(),
        )

    def restore(self, snap: Snapshot) -> None:
        """Returns to ``snap`` exactly: rebuilds the bodies in engine order, then the engine state."""
        if snap.spec is not self.spec:
            self.set_spec(snap.spec)
        self._live = {}
        bodies = self._rebuild_engine(snap)
        for spec, serial, cause, pose in snap.entities:  # creation order
            lv = self._add_live(spec, cause, pose=pose, body=bodies.get(spec.name))
            lv.serial, lv.cause = serial, cause
        self.tick, self.episode = snap.tick, snap.episode
        self.jumps = getattr(self, "jumps", 0) + 1
        self.variables = dict(snap.variables)
        self.rng = np.random.Generator(np.random.PCG64())
        self.rng.bit_generator.state = dict(snap.rng_state)
        self._prev_controls = {k: v for k, v, _ in snap.controls if v != 0.0}
        self._press_cause = {k: c for k, _, c in snap.controls if c >= 0}
        self._last_fired = dict(snap.last_fired)
        self._flags = set(snap.flags)
        ids = {n: lv.body for n, lv in self._live.items()}
        self._touching = {(min(ids[a], ids[b]), max(ids[a], ids[b])): (imp, seen) for a, b, imp, seen in snap.touching}
        self._serial, self._spawned, self._start_event = snap.counters
        self._wake_all, self._wake, self._touched = snap.wake[0], set(snap.wake[1]), set()
        self.terminated, self.truncated, self.outcome = snap.ended
        self._pending_reset = None
        self._refresh_indices()
        self.log = EventLog(self.log.capacity, snap.next_event_id, snap.events)

    def _rebuild_engine(self, snap: Snapshot) -> dict[str, int]:
        """Recreates every body and constraint in engine order and loads the blob; name → body id.

        Live entity records keep their Python state; only their body ids are updated.
        """
        self._restores += 1
        self.engine_generation += 1  # bodies are new: per-body engine state (colours) must be set again
        if self._restores >= RESTORES_PER_CLIENT:
            # pybullet keeps ~30 KB per file restore until its client goes away: move to a
            # fresh client now and then, so memory stays bounded however long a world runs.
            bridge.disconnect(self._client)
            self._client = bridge.connect()
            self._restores = 0
        else:
            p.resetSimulation(physicsClientId=self._client)
        self.gravity = tuple(snap.gravity)
        bridge.configure(self._client, self.spec.physics, self.gravity)
        self._slots, self._joint_order, self._constraints = [], [], {}
        bodies = {}
        keys = [_physics_key(spec) for spec, _ in snap.slots]
        i = 0
        while i < len(keys):  # engine order; runs of identical physics are made in one call
            run = 1
            while i + run < len(keys) and keys[i + run] == keys[i]:
                run += 1
            for k, body in enumerate(bridge.create_body(self._client, snap.slots[i][0], batch=run)):
                spec, occupant = snap.slots[i + k]
                self._slots.append([body, spec, occupant, keys[i + k]])
                if occupant is None:
                    bridge.park(self._client, body, i + k)
                else:
                    bodies[occupant] = body
            i += run
        for name, lv in self._live.items():
            if lv.body is not None:
                lv.body = bodies[name]
        for j, part in snap.joints:
            self._add_joint_part(j, part, bodies)
        bridge.restore_blob(self._client, snap.blob)
        p.setGravity(*self.gravity, physicsClientId=self._client)
        if self._live:
            old = self._by_body  # body id → name, as before the rebuild
            self._touching = {tuple(sorted((bodies[old[a]], bodies[old[b]]))): v for (a, b), v in self._touching.items()}
            self._touched = set()
            self._refresh_indices()
        return bodies

    def state_hash(self) -> str:
        """SHA-256 (hex, 16 chars) of the full dynamic state; equal states give equal hashes."""
        h = hashlib.sha256()
        h.update(struct.pack("<qq", self.tick, self.episode))
        for name, lv in self._live.items():
            h.update(name.encode())
            pos, orn = self.pose(name)
            lin, ang = self.velocity(name)
            h.update(struct.pack("<13d", *pos, *orn, *lin, *ang))
        for k in sorted(self.variables):
            h.update(k.encode() + struct.pack("<d", self.variables[k]))
        h.update(struct.pack("<3d", *self.gravity))
        h.update(repr(self.rng.bit_generator.state["state"]).encode())
        h.update(repr((self.terminated, self.truncated, self.outcome, self.log.next_id)).encode())
        return h.hexdigest()[:16]


def _trigger_kind(ev: Event) -> str:
    return _TRIGGER_OF.get(ev.kind, ev.kind)


_TRIGGER_OF = {"contact": "collision", "action": "control"}


def _physics_key(e: Entity) -> str:
    """What a body's engine object depends on; bodies with equal keys are interchangeable."""
    return e.model_dump_json(include={"shape", "static", "mass", "material"})


def _swap_remove(seq: list, item: Any) -> None:
    i = seq.index(item)
    seq[i] = seq[-1]
    seq.pop()


def _unit(v: tuple[float, float, float]) -> tuple[float, float, float]:
    n = math.sqrt(v[0] ** 2 + v[1] ** 2 + v[2] ** 2)
    return (v[0] / n, v[1] / n, v[2] / n)


def _clamp(x: float, lo: float | None, hi: float | None) -> float:
    if lo is not None and x < lo:
        return lo
    if hi is not None and x > hi:
        return hi
    return x
