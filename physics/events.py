"""The causal event log: every event names the event that caused it.

Roots are the ``start`` of an episode and player ``action`` events; everything else
(contacts, tilts, zone entries, rule firings, variable changes, ...) points at its
cause, so :meth:`EventLog.why` can walk any event back to where it came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

#: Kinds of event the simulation records.
EVENT_KINDS = (
    "start", "action", "contact", "enter", "leave", "tilted", "fallen", "out_of_bounds",
    "timer", "rule", "variable", "spawn", "destroy", "impulse", "property", "gravity",
    "sound", "message", "end", "reset", "limit", "edit",
)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at ``tick``.

    Attributes:
        id: position in the log; increases by one per event, never reused.
        tick: simulation tick at which it happened.
        kind: one of :data:`EVENT_KINDS`.
        subjects: entity names involved, most active first (for a contact: striker, struck).
        cause: id of the event that caused this one; ``None`` for roots.
        data: kind-specific details (``impulse`` in N·s, ``rule``, ``var``/``old``/``new``, ...).
    """

    id: int
    tick: int
    kind: str
    subjects: tuple[str, ...] = ()
    cause: int | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __str__(self) -> str:
        who = "→".join(self.subjects)
        d = self.data
        if self.kind == "rule":
            return f"#{self.id} tick {self.tick} rule {d.get('rule')!r}" + (f" on {who}" if who else "")
        bits = [f"#{self.id}", f"tick {self.tick}", self.kind]
        if who:
            bits.append(who)
        if self.kind == "contact":
            bits.append(f"(impulse {d.get('impulse', 0):.3g} N·s)")
        elif self.kind == "variable":
            bits.append(f"{d.get('var')} {_num(d.get('old'))} → {_num(d.get('new'))}")
        elif self.kind == "action":
            bits.append(f"{d.get('player')}.{d.get('control')} = {_num(d.get('value'))}")
        elif self.kind in ("message", "end", "sound", "property", "limit", "timer", "edit"):
            extra = ", ".join(f"{k}={v}" for k, v in d.items())
            if extra:
                bits.append(f"({extra})")
        return " ".join(bits)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "tick": self.tick, "kind": self.kind, "subjects": list(self.subjects),
                "cause": self.cause, "data": self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(int(d["id"]), int(d["tick"]), str(d["kind"]), tuple(d["subjects"]), d["cause"], dict(d["data"]))


def _num(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) else str(v)


class EventLog:
    """Append-only log with bounded memory: keeps the newest ``capacity`` events.

    Ids keep counting after old events are forgotten, so a cause may point at an event
    that is no longer held; :meth:`why` then ends the chain there.
    """

    def __init__(self, capacity: int = 10_000, next_id: int = 0, events: tuple[Event, ...] = ()) -> None:
        self.capacity = capacity
        self._events: list[Event] = list(events)
        self.next_id = next_id

    def record(self, tick: int, kind: str, subjects: tuple[str, ...] = (), cause: int | None = None,
               **data: Any) -> Event:
        ev = Event(self.next_id, tick, kind, subjects, cause, data)
        self.next_id += 1
        self._events.append(ev)
        if len(self._events) > 2 * self.capacity:  # amortised trim keeps appends O(1)
            del self._events[: len(self._events) - self.capacity]
        return ev

    def get(self, event_id: int) -> Event | None:
        """The event with ``event_id``, or None if it was forgotten or never happened."""
        if not self._events:
            return None
        i = event_id - self._events[0].id
        if 0 <= i < len(self._events):
            return self._events[i]
        return None

    def why(self, event: Event | int) -> list[Event]:
        """The chain of causes, from ``event`` back to its root (or the oldest event held)."""
        ev = self.get(event) if isinstance(event, int) else event
        chain: list[Event] = []
        seen: set[int] = set()
        while ev is not None and ev.id not in seen:
            chain.append(ev)
            seen.add(ev.id)
            ev = self.get(ev.cause) if ev.cause is not None else None
        return chain

    def since(self, event_id: int) -> list[Event]:
        """Events with id ≥ ``event_id`` still held."""
        if not self._events:
            return []
        start = max(0, event_id - self._events[0].id)
        return self._events[start:]

    def held(self, limit: int | None = None) -> tuple[Event, ...]:
        """The newest ``limit`` (default: capacity) events held, oldest first."""
        n = self.capacity if limit is None else limit
        return tuple(self._events[-n:]) if n else ()

    def truncate(self, next_id: int) -> None:
        """Forget events with id ≥ ``next_id`` (used when time goes back)."""
        while self._events and self._events[-1].id >= next_id:
            self._events.pop()
        self.next_id = next_id

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, i: int) -> Event:
        return self._events[i]


def format_chain(chain: list[Event]) -> str:
    """A readable 'why' chain: the event, then each cause on its own line below it."""
    return "\n".join((f"  ← {ev}" if i else str(ev)) for i, ev in enumerate(chain))
