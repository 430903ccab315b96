"""Reading and writing worlds: untrusted input in, clear errors out.

A world file is JSON: ``{"format": "worldgen.world", "version": 1, "spec": {...},
"state": {...}}`` (a saved world, restored exactly) or a bare WorldSpec (a design,
started fresh). Both are size-capped and validated before anything runs.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worldgen.spec import Entity, Joint, WorldSpec

MAX_FILE_BYTES = 64 * 1024 * 1024
FORMAT = "worldgen.world"


class SpecError(ValueError):
    """A world failed validation. ``errors`` lists ``(location, message)`` pairs."""

    def __init__(self, errors: list[tuple[str, str]], source: str = "world") -> None:
        self.errors = errors
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        super().__init__(f"{source} is invalid:\n  " + "\n  ".join(lines) + more)


def validate_spec(data: Any, source: str = "world") -> WorldSpec:
    """A :class:`WorldSpec` from a dict, JSON text or spec; raises :class:`SpecError` naming each bad field."""
    if isinstance(data, WorldSpec):
        return data
    try:
        if isinstance(data, (str, bytes)):
            if len(data) > MAX_FILE_BYTES:
                raise SpecError([("", f"{len(data)} bytes is over the {MAX_FILE_BYTES} byte cap")], source)
            return WorldSpec.model_validate_json(data)
        if not isinstance(data, Mapping):
            raise SpecError([("", f"expected a JSON object, got {type(data).__name__}")], source)
        return WorldSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_describe(err, data), source) from None
    except RecursionError:
        raise SpecError([("", "nesting is too deep")], source) from None


def _describe(err: ValidationError, data: Any) -> list[tuple[str, str]]:
    """Turns pydantic errors into ``entities.3 ('pin_4').mass: must be > 0`` lines."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            data = None
    out = []
    for e in err.errors(include_url=False):
        parts, node = [], data
        for key in e["loc"]:
            label = str(key)
            if isinstance(node, Mapping):
                node = node.get(key)
            elif isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
                node = node[key]
                if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                    label += f" ({node['name'][:40]!r})"
            else:
                node = None
            parts.append(label)
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown field (remove it; see `worldgen schema` for the valid fields)"
        out.append((".".join(parts), msg))
    return out


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parses a JSON file of at most :data:`MAX_FILE_BYTES`."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise SpecError([("", f"file is {size} bytes, over the {MAX_FILE_BYTES} byte cap")], str(path))
    with open(path, "rb") as f:
        text = f.read()
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SpecError([("", f"not valid JSON: {str(e)[:200]}")], str(path)) from None


# ---------------------------------------------------------------- saved state


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class SavedEntity(_Strict):
    spec: Entity
    serial: int = Field(ge=0)
    cause: int = Field(ge=-1)
    pose: tuple[tuple[float, float, float], tuple[float, float, float, float]]


class SavedState(_Strict):
    """The dynamic state of a world, as stored in a file (validated: files are untrusted)."""

    tick: int = Field(ge=0)
    episode: int = Field(ge=0)
    blob: str = Field(max_length=MAX_FILE_BYTES, description="base64 of the engine's state")
    entities: list[SavedEntity] = Field(max_length=4000)
    creation_order: list[str]
    joints: list[tuple[Joint, int]]
    gravity: tuple[float, float, float]
    variables: list[tuple[str, float]]
    rng_state: dict[str, Any]
    controls: list[tuple[tuple[str, str], float, int]]
    last_fired: list[tuple[str, int]]
    flags: list[list[Any]]
    touching: list[tuple[str, str]]
    counters: tuple[int, int, int]
    wake: tuple[bool, list[str]]
    ended: tuple[bool, bool, str | None]
    next_event_id: int = Field(ge=0)
    events: list[dict[str, Any]] = Field(max_length=20_000)


def snapshot_to_dict(snap) -> dict[str, Any]:
    return {
        "tick": snap.tick, "episode": snap.episode, "blob": base64.b64encode(snap.blob).decode(),
        "entities": [{"spec": e.model_dump(mode="json"), "serial": s, "cause": c, "pose": pose}
                     for e, s, c, pose in snap.entities],
        "creation_order": list(snap.creation_order),
        "joints": [[j.model_dump(mode="json"), part] for j, part in snap.joints],
        "gravity": list(snap.gravity), "variables": [list(v) for v in snap.variables],
        "rng_state": snap.rng_state, "controls": [[list(k), v, c] for k, v, c in snap.controls],
        "last_fired": [list(x) for x in snap.last_fired], "flags": [list(f) for f in snap.flags],
        "touching": [list(t) for t in snap.touching], "counters": list(snap.counters),
        "wake": [snap.wake[0], list(snap.wake[1])],
        "ended": list(snap.ended), "next_event_id": snap.next_event_id,
        "events": [ev.to_dict() for ev in snap.events],
    }


def snapshot_from_dict(spec: WorldSpec, data: Any):
    from physics.events import Event
    from physics.simulation import Snapshot

    try:
        st = SavedState.model_validate(data)
    except ValidationError as err:
        raise SpecError(_describe(err, data), "saved state") from None
    names = [e.spec.name for e in st.entities]
    if sorted(names) != sorted(st.creation_order) or len(set(names)) != len(names):
        raise SpecError([("state.creation_order", "does not match the saved entities")], "saved state")
    try:
        blob = base64.b64decode(st.blob, validate=True)
        events = tuple(Event.from_dict(d) for d in st.events)
    except (ValueError, KeyError, TypeError) as e:
        raise SpecError([("state", f"corrupt: {str(e)[:200]}")], "saved state") from None
    if not blob.startswith(b"BULLET"):
        raise SpecError([("state.blob", "is not a Bullet state")], "saved state")
    return Snapshot(
        spec=spec, tick=st.tick, episode=st.episode, blob=blob,
        entities=tuple((e.spec, e.serial, e.cause, (tuple(e.pose[0]), tuple(e.pose[1]))) for e in st.entities),
        creation_order=tuple(st.creation_order), joints=tuple((j, part) for j, part in st.joints),
        gravity=tuple(st.gravity), variables=tuple((k, v) for k, v in st.variables), rng_state=st.rng_state,
        controls=tuple((tuple(k), v, c) for k, v, c in st.controls), last_fired=tuple(st.last_fired),
        flags=tuple(tuple(f) for f in st.flags), touching=tuple(tuple(t) for t in st.touching),
        counters=tuple(st.counters), wake=(st.wake[0], tuple(st.wake[1])), ended=tuple(st.ended), next_event_id=st.next_event_id, events=events,
    )


def save_world(world, path: str | os.PathLike[str]) -> None:
    doc = {"format": FORMAT, "version": 1, "spec": world.spec.model_dump(mode="json"),
           "state": snapshot_to_dict(world.snapshot())}
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)  # never leave a half-written world behind


def load_world(path: str | os.PathLike[str], seed: int | None = None):
    """A :class:`~worldgen.World` from a saved world (exact state) or a bare spec (fresh start)."""
    from worldgen.world import World

    data = read_json(path)
    if isinstance(data, Mapping) and data.get("format") == FORMAT:
        spec = validate_spec(data.get("spec"), str(path))
        snap = snapshot_from_dict(spec, data.get("state"))
        world = World(spec, seed)
        world.restore(snap)
        return world
    return World(validate_spec(data, str(path)), seed)
