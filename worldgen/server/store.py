"""SQLite persistence for rooms: specs, edit history, snapshots, saves and the event log.

Contract:

- One file (``path``), WAL journal, ``synchronous=NORMAL``: a committed transaction survives
  the server process being killed at any moment (``kill -9``); every multi-row change is one
  transaction, so a crash never leaves a half-written record.
- Tokens are stored as SHA-256 hashes, never in clear.
- The store is used from several threads; one connection per thread, short transactions.
- Snapshots are the room's exact state (:func:`worldgen.io.snapshot_to_dict`, zlib-compressed
  JSON); the newest :data:`SNAPSHOTS_KEPT` per room are kept.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["RoomRecord", "Store", "hash_token"]

SNAPSHOTS_KEPT = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    seed INTEGER NOT NULL,
    created REAL NOT NULL,
    owner_hash TEXT NOT NULL,
    player_hash TEXT NOT NULL,
    spectator_hash TEXT NOT NULL,
    history_pos INTEGER NOT NULL,
    running INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS edits (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    label TEXT NOT NULL,
    spec TEXT NOT NULL,
    trace TEXT,
    state BLOB,
    created REAL NOT NULL,
    PRIMARY KEY (room_id, seq)
);
CREATE TABLE IF NOT EXISTS snapshots (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    edit_seq INTEGER NOT NULL,
    tick INTEGER NOT NULL,
    hash TEXT NOT NULL,
    state BLOB NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (room_id, created)
);
CREATE TABLE IF NOT EXISTS saves (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    tick INTEGER NOT NULL,
    state BLOB NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    room_id TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
    edit_seq INTEGER NOT NULL,
    episode INTEGER NOT NULL,
    id INTEGER NOT NULL,
    tick INTEGER NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (room_id, edit_seq, episode, id)
);
"""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pack_state(state: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(state, separators=(",", ":")).encode(), 3)


def unpack_state(blob: bytes) -> dict[str, Any]:
    return json.loads(zlib.decompress(blob))


@dataclass(frozen=True)
class RoomRecord:
    """A room as stored: identity, token hashes and where its history stands."""

    id: str
    title: str
    seed: int
    created: float
    owner_hash: str
    player_hash: str
    spectator_hash: str
    history_pos: int
    running: bool


@dataclass(frozen=True)
class Edit:
    seq: int
    label: str
    spec: str  # JSON text
    trace: str | None
    state: dict[str, Any] | None  # exact state the edit starts from (imports, loads), else a fresh world


class Store:
    """The server's database. Safe to share between threads."""

    def __init__(self, path: str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._db().executescript(_SCHEMA)  # (executescript manages its own transaction)

    # ------------------------------------------------------------ plumbing
    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=True)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            self._local.db = db
        return db

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type, exc, tb) -> None:
            self.db.execute("ROLLBACK" if exc_type else "COMMIT")

    def _tx(self) -> Store._Tx:
        return Store._Tx(self._db())

    # ------------------------------------------------------------ rooms
    def create_room(self, room_id: str, title: str, seed: int, token_hashes: tuple[str, str, str],
                    label: str, spec_json: str, trace: str | None, state: dict[str, Any] | None) -> None:
        now = time.time()
        with self._tx() as db:
            db.execute("INSERT INTO rooms VALUES (?,?,?,?,?,?,?,?,0)", (room_id, title, seed, now, *token_hashes, 0))
            db.execute("INSERT INTO edits VALUES (?,?,?,?,?,?,?)",
                       (room_id, 0, label, spec_json, trace, pack_state(state) if state else None, now))

    def rooms(self) -> list[RoomRecord]:
        rows = self._db().execute("SELECT * FROM rooms ORDER BY created").fetchall()
        return [RoomRecord(*r[:8], bool(r[8])) for r in rows]

    def room(self, room_id: str) -> RoomRecord | None:
        r = self._db().execute("SELECT * FROM rooms WHERE id=?", (room_id,)).fetchone()
        return RoomRecord(*r[:8], bool(r[8])) if r else None

    def set_running(self, room_id: str, running: bool) -> None:
        with self._tx() as db:
            db.execute("UPDATE rooms SET running=? WHERE id=?", (int(running), room_id))

    # ------------------------------------------------------------ history
    def edits(self, room_id: str) -> list[Edit]:
        rows = self._db().execute("SELECT seq, label, spec, trace, state FROM edits WHERE room_id=? ORDER BY seq",
                                  (room_id,)).fetchall()
        return [Edit(s, lab, sp, tr, unpack_state(st) if st else None) for s, lab, sp, tr, st in rows]

    def push_edit(self, room_id: str, label: str, spec_json: str, trace: str | None,
                  state: dict[str, Any] | None) -> int:
        """Appends an edit after the current position (dropping any redo branch); returns its seq."""
        with self._tx() as db:
            (pos,) = db.execute("SELECT history_pos FROM rooms WHERE id=?", (room_id,)).fetchone()
            db.execute("DELETE FROM edits WHERE room_id=? AND seq>?", (room_id, pos))
            db.execute("DELETE FROM snapshots WHERE room_id=? AND edit_seq>?", (room_id, pos))
            db.execute("DELETE FROM events WHERE room_id=? AND edit_seq>=?", (room_id, pos + 1))
            seq = pos + 1
            db.execute("INSERT INTO edits VALUES (?,?,?,?,?,?,?)",
                       (room_id, seq, label[:200], spec_json, trace, pack_state(state) if state else None,
                        time.time()))
            db.execute("UPDATE rooms SET history_pos=?, running=0 WHERE id=?", (seq, room_id))
            db.execute("DELETE FROM snapshots WHERE room_id=?", (room_id,))
        return seq

    def move_history(self, room_id: str, seq: int) -> None:
        """Undo/redo: the current edit becomes ``seq``; the world restarts from it."""
        with self._tx() as db:
            db.execute("UPDATE rooms SET history_pos=?, running=0 WHERE id=?", (seq, room_id))
            db.execute("DELETE FROM snapshots WHERE room_id=?", (room_id,))

    # ------------------------------------------------------------ play state
    def write_snapshot(self, room_id: str, edit_seq: int, tick: int, state_hash: str, state: dict[str, Any],
                       events: Iterable[tuple[int, int, int, str, str]] = (), running: bool | None = None) -> None:
        """One transaction: the snapshot, the events since the last one, the running flag."""
        blob = pack_state(state)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO snapshots VALUES (?,?,?,?,?,?)",
                       (room_id, edit_seq, tick, state_hash, blob, time.time()))
            db.execute("DELETE FROM snapshots WHERE room_id=? AND created NOT IN "
                       "(SELECT created FROM snapshots WHERE room_id=? ORDER BY created DESC LIMIT ?)",
                       (room_id, room_id, SNAPSHOTS_KEPT))
            db.executemany("INSERT OR REPLACE INTO events VALUES (?,?,?,?,?,?,?)",
                           [(room_id, edit_seq, *e) for e in events])
            if running is not None:
                db.execute("UPDATE rooms SET running=? WHERE id=?", (int(running), room_id))

    def last_snapshot(self, room_id: str, edit_seq: int) -> tuple[int, str, dict[str, Any]] | None:
        r = self._db().execute("SELECT tick, hash, state FROM snapshots WHERE room_id=? AND edit_seq=? "
                               "ORDER BY created DESC LIMIT 1", (room_id, edit_seq)).fetchone()
        return (r[0], r[1], unpack_state(r[2])) if r else None

    def events(self, room_id: str, edit_seq: int, limit: int = 200) -> list[dict[str, Any]]:
        rows = self._db().execute("SELECT body FROM events WHERE room_id=? AND edit_seq=? "
                                  "ORDER BY episode DESC, id DESC LIMIT ?", (room_id, edit_seq, limit)).fetchall()
        return [json.loads(b) for (b,) in reversed(rows)]

    # ------------------------------------------------------------ saves
    def add_save(self, room_id: str, name: str, spec_json: str, tick: int, state: dict[str, Any]) -> int:
        with self._tx() as db:
            cur = db.execute("INSERT INTO saves (room_id, name, spec, tick, state, created) VALUES (?,?,?,?,?,?)",
                             (room_id, name[:100], spec_json, tick, pack_state(state), time.time()))
            return int(cur.lastrowid)

    def saves(self, room_id: str) -> list[dict[str, Any]]:
        rows = self._db().execute("SELECT id, name, tick, created FROM saves WHERE room_id=? ORDER BY id",
                                  (room_id,)).fetchall()
        return [{"id": i, "name": n, "tick": t, "created": c} for i, n, t, c in rows]

    def save_state(self, room_id: str, save_id: int) -> tuple[str, str, dict[str, Any]] | None:
        """(name, spec JSON, state) of a save, or None."""
        r = self._db().execute("SELECT name, spec, state FROM saves WHERE room_id=? AND id=?",
                               (room_id, save_id)).fetchone()
        return (r[0], r[1], unpack_state(r[2])) if r else None

    def integrity(self) -> str:
        return self._db().execute("PRAGMA integrity_check").fetchone()[0]

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


def event_rows(events: Sequence[Any], episode: int) -> list[tuple[int, int, int, str, str]]:
    """Rows for :meth:`Store.write_snapshot` from engine events."""
    from worldgen.server.protocol import event_json

    return [(episode, e.id, e.tick, e.kind, json.dumps(event_json(e))) for e in events]
