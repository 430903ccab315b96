"""The server's rooms: creating them from prompts, examples, specs or saved worlds; every edit;
undo/redo; saves; and bringing every room back from the store after a restart.

All world building happens outside the room's lock and validates untrusted input first:
specs through :func:`worldgen.io.validate_spec` (errors name the field), saved worlds
through :func:`worldgen.io.load_world` (the engine blob is parsed in a throwaway process),
prompts through the reasoner (a :class:`reasoner.ReasonerError` says what is supported).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from worldgen.server.room import Room, build_world, state_dict
from worldgen.server.store import Store, hash_token

__all__ = ["MAX_ROOMS", "RoomError", "Rooms"]

MAX_ROOMS = 64


class RoomError(Exception):
    """An action that cannot be done; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


_NAMED = re.compile(r" \('[^']*'\)")
_LEADING_LOCATION = re.compile(r"^([A-Za-z_]+(?:\.\d+(?: \('[^']*'\))?|\.[A-Za-z_]+)*): ")


def field_path(location: str, message: str = "") -> str:
    """``entities.3 ('pin').mass`` → ``entities[3].mass``; cross-reference errors carry it in the message."""
    if not location:
        m = _LEADING_LOCATION.match(message)
        location = m.group(1) if m else ""
    return re.sub(r"\.(\d+)", r"[\1]", _NAMED.sub("", location))


def _spec_error(exc: Exception) -> RoomError:
    from worldgen.io import SpecError

    if isinstance(exc, SpecError):
        return RoomError(422, str(exc).splitlines()[0].rstrip(":") + ": " + "; ".join(
            f"{loc}: {msg}" if loc else msg for loc, msg in exc.errors[:5]),
            [{"field": field_path(loc, msg), "location": loc, "message": msg} for loc, msg in exc.errors])
    return RoomError(422, str(exc)[:2000])


class Rooms:
    """Every room of one server, backed by one :class:`Store`."""

    def __init__(self, db_path: str, *, resume: bool = True) -> None:
        self.store = Store(db_path)
        self.rooms: dict[str, Room] = {}
        self._lock = threading.Lock()
        self.persist_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="persist")
        if resume:
            for record in self.store.rooms():
                self._resume(record)

    # ------------------------------------------------------------ building worlds
    @staticmethod
    def world_from_request(body: dict[str, Any], seed: int) -> tuple[Any, str, str | None, dict | None, str]:
        """(spec, label, trace, state or None, title) from a create/import body; validated."""
        import worldgen
        from reasoner.base import ReasonerError
        from worldgen.io import SpecError

        given = [k for k in ("prompt", "example", "spec", "world") if body.get(k) is not None]
        if len(given) != 1:
            raise RoomError(422, "give exactly one of: prompt (text), example (a name from /api/examples), "
                                 "spec (a world spec object), world (a saved world)")
        key = given[0]
        value = body[key]
        if key == "prompt":
            if not isinstance(value, str):
                raise RoomError(422, "prompt must be text", [{"field": "prompt", "message": "must be text"}])
            try:
                w = worldgen.create(value, seed=seed)
            except ReasonerError as exc:
                raise RoomError(422, str(exc)[:2000], [{"field": "prompt", "message": str(exc)[:2000]}]) from None
            try:
                return w.spec, f"prompt: {value.strip()[:80]}", str(w.trace), None, w.spec.metadata.title
            finally:
                w.close()
        if key == "example":
            from worldgen.example_worlds import example_spec

            names = worldgen.examples()
            if value not in names:
                raise RoomError(422, f"unknown example {str(value)[:40]!r}; examples: {', '.join(names)}",
                                [{"field": "example", "message": f"one of: {', '.join(names)}"}])
            spec = example_spec(value)
            return spec, f"example: {value}", None, None, spec.metadata.title or value
        if key == "spec":
            spec = _validated_spec(value)
            return spec, "spec", None, None, spec.metadata.title
        if not isinstance(value, dict):
            raise RoomError(422, "world must be a saved world object", [{"field": "world", "message": "an object"}])
        fd, tmp = tempfile.mkstemp(suffix=".json", prefix="import-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(value, f)
            try:
                w = worldgen.load(tmp, seed=seed)
            except (SpecError, ValueError) as exc:
                raise _spec_error(exc) from None
            try:
                return w.spec, "import", None, state_dict(w), w.spec.metadata.title
            finally:
                w.close()
        finally:
            os.unlink(tmp)

    # ------------------------------------------------------------ rooms
    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        seed = _seed(body.get("seed", 0))
        if len(self.rooms) >= MAX_ROOMS:
            raise RoomError(429, f"this server holds {MAX_ROOMS} rooms at most")
        spec, label, trace, state, title = self.world_from_request(body, seed)
        title = str(body.get("title") or title or "untitled")[:100]
        world = build_world(spec, seed, state)
        room_id = secrets.token_urlsafe(9)
        tokens = {"owner": secrets.token_urlsafe(24), "player": secrets.token_urlsafe(24),
                  "spectator": secrets.token_urlsafe(24)}
        self.store.create_room(room_id, title, seed, (hash_token(tokens["owner"]), hash_token(tokens["player"]),
                                                      hash_token(tokens["spectator"])),
                               label, spec.model_dump_json(), trace, state)
        room = Room(self.store, room_id, title, seed, world, 0, [label], trace)
        room._persist()
        with self._lock:
            self.rooms[room_id] = room
        room.start(self.persist_pool)
        players = [p.name for p in spec.players]
        return {"room_id": room_id, "token": tokens["owner"], "role": "owner",
                "player": players[0] if players else None,
                "invites": {"player": tokens["player"], "spectator": tokens["spectator"]},
                "room": room.info("owner", players[0] if players else None)}

    def _resume(self, record: Any) -> None:
        from worldgen.spec import WorldSpec

        edits = self.store.edits(record.id)
        current = next((e for e in edits if e.seq == record.history_pos), None)
        if current is None:
            return
        spec = WorldSpec.model_validate_json(current.spec)
        snap = self.store.last_snapshot(record.id, record.history_pos)
        world = build_world(spec, record.seed, snap[2] if snap else current.state)
        resumed = {"tick": world.tick, "hash": world.state_hash()} if snap else None
        room = Room(self.store, record.id, record.title, record.seed, world, record.history_pos,
                    [e.label for e in edits], current.trace, running=record.running, resumed=resumed)
        self.rooms[record.id] = room
        room.start(self.persist_pool)

    def get(self, room_id: str) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise RoomError(404, "no such room")
        return room

    def role(self, room_id: str, token: str | None) -> tuple[Room, str]:
        """(room, role) for a token; 404 for an unknown room, 403 for a wrong token."""
        import hmac

        room = self.get(room_id)
        record = self.store.room(room_id)
        if token and record is not None:
            h = hash_token(token)
            for role, stored in (("owner", record.owner_hash), ("player", record.player_hash),
                                 ("spectator", record.spectator_hash)):
                if hmac.compare_digest(h, stored):
                    return room, role
        raise RoomError(403, "this room needs its token (Authorization: Bearer TOKEN, or ?token= on the WebSocket)")

    # ------------------------------------------------------------ edits
    def _push(self, room: Room, label: str, spec: Any, trace: str | None, state: dict | None) -> None:
        world = build_world(spec, room.seed, state)
        with room.edit_lock:  # one edit at a time per room: history and world change together
            seq = self.store.push_edit(room.id, label, spec.model_dump_json(), trace, state)
            labels = room.labels[:seq] + [label[:200]]
            room.replace_world(world, seq, labels, trace)

    def put_spec(self, room: Room, body: dict[str, Any]) -> None:
        spec = _validated_spec(body.get("spec"))
        label = body.get("label") if isinstance(body.get("label"), str) else "edit"
        self._push(room, label[:200], spec, room.trace, None)

    def from_prompt(self, room: Room, body: dict[str, Any]) -> None:
        seed = _seed(body.get("seed", room.seed))
        spec, label, trace, state, _ = self.world_from_request({"prompt": body.get("prompt")}, seed)
        self._push(room, label, spec, trace, state)

    def edit_by_prompt(self, room: Room, body: dict[str, Any]) -> None:
        from reasoner.base import ReasonerError
        from reasoner.edit import edit_spec

        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            raise RoomError(422, "prompt must be text", [{"field": "prompt", "message": "must be text"}])
        try:
            spec, trace = edit_spec(room.world.spec, prompt, room.seed)
        except ReasonerError as exc:
            raise RoomError(422, str(exc)[:2000], [{"field": "prompt", "message": str(exc)[:2000]}]) from None
        self._push(room, f"edit: {prompt.strip()[:80]}", spec, str(trace), None)

    def import_world(self, room: Room, body: dict[str, Any]) -> None:
        payload = {k: body[k] for k in ("spec", "world") if k in body}
        spec, label, trace, state, _ = self.world_from_request(payload, room.seed)
        self._push(room, label if label != "spec" else "import", spec, trace, state)

    def style_image(self, room: Room, data: bytes) -> None:
        import io

        from PIL import Image, UnidentifiedImageError

        from reasoner.images import MAX_SIDE, read_reference

        try:
            with Image.open(io.BytesIO(data)) as im:
                if max(im.size) > MAX_SIDE:  # checked before decoding: a small file can unpack to gigabytes
                    raise ValueError(f"{im.size[0]}×{im.size[1]} px; at most {MAX_SIDE} px a side")
                im.load()
                hints = read_reference(im.convert("RGB"))
        except Image.DecompressionBombError:
            raise RoomError(422, f"picture too large: at most {MAX_SIDE} px a side",
                            [{"field": "image", "message": f"at most {MAX_SIDE} px a side"}]) from None
        except (UnidentifiedImageError, OSError, ValueError) as exc:
            raise RoomError(422, f"not a usable image: {str(exc)[:200]}",
                            [{"field": "image", "message": "a PNG, JPEG or WebP picture"}]) from None
        data_spec = room.world.spec.model_dump(mode="json")
        data_spec["style"]["palette"] = [[round(c, 3) for c in rgb] for rgb in hints.palette[:8]]
        from worldgen.io import validate_spec

        self._push(room, "style: palette from a reference image", validate_spec(data_spec), room.trace, None)

    def move_history(self, room: Room, delta: int) -> None:
        from worldgen.spec import WorldSpec

        with room.edit_lock:
            target = room.edit_seq + delta
            if not 0 <= target < len(room.labels):
                raise RoomError(409, "nothing to undo" if delta < 0 else "nothing to redo")
            edit = next(e for e in self.store.edits(room.id) if e.seq == target)
            world = build_world(WorldSpec.model_validate_json(edit.spec), room.seed, edit.state)
            self.store.move_history(room.id, target)
            room.replace_world(world, target, room.labels, edit.trace)

    def save(self, room: Room, body: dict[str, Any]) -> list[dict[str, Any]]:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise RoomError(422, "a save needs a name", [{"field": "name", "message": "non-empty text ≤ 100"}])
        with room.lock:
            state = state_dict(room.world)
            spec_json = room.world.spec.model_dump_json()
            tick = room.world.tick
        self.store.add_save(room.id, name.strip(), spec_json, tick, state)
        return self.store.saves(room.id)

    def load(self, room: Room, body: dict[str, Any]) -> None:
        from worldgen.spec import WorldSpec

        save_id = body.get("save_id")
        if type(save_id) is not int:
            raise RoomError(422, "save_id must be an integer", [{"field": "save_id", "message": "an id from saves"}])
        found = self.store.save_state(room.id, save_id)
        if found is None:
            raise RoomError(404, f"no save {save_id} in this room")
        name, spec_json, state = found
        self._push(room, f"load: {name}", WorldSpec.model_validate_json(spec_json), room.trace, state)

    def close(self) -> None:
        for room in list(self.rooms.values()):
            room.stop()
        self.persist_pool.shutdown(wait=True)
        self.store.close()


def _validated_spec(value: Any):
    from worldgen.io import SpecError, validate_spec

    if not isinstance(value, dict):
        raise RoomError(422, "spec must be a JSON object", [{"field": "spec", "message": "must be an object"}])
    try:
        return validate_spec(value, "spec")
    except SpecError as exc:
        raise _spec_error(exc) from None


def _seed(value: Any) -> int:
    if type(value) is not int or not 0 <= value < 2**63:
        raise RoomError(422, "seed must be an integer in 0..2**63-1", [{"field": "seed", "message": "an integer ≥ 0"}])
    return value
