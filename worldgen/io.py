"""Reading and writing worlds: untrusted input in, clear errors out.

A world file is JSON: ``{"format": "worldgen.world", "version": 1, "spec": {...},
"state": {...}}`` (a saved world, restored exactly) or a bare WorldSpec (a design,
started fresh). Both are size-capped and validated before anything runs.

Hostile input is bounded before it is parsed: a JSON text may hold at most
:data:`MAX_JSON_VALUES` values (counted with a cheap scan, so ``[{}, {}, ...]`` with
ten million items is refused without building ten million objects), and the engine
blob of a saved world is parsed only in a throwaway child process, which hands back
the blob the engine re-saved there (see :func:`_sanitize_blob`), so a corrupt blob that
would crash the physics engine is reported as a :class:`SpecError` instead.
"""

from __future__ import annotations

import base64
import dataclasses
import difflib
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
import types
import typing
from typing import Annotated, Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from worldgen.spec import MAX_CONTROLS, MAX_JOINTS, MAX_PLAYERS, MAX_RULES, MAX_VARIABLES, Entity, Joint, WorldSpec

MAX_FILE_BYTES = 64 * 1024 * 1024
#: Values (objects, arrays, numbers, strings, ...) a JSON text may hold. The largest valid
#: saved world holds about 1.5 million; parsing 3 million takes a few hundred MB at most.
MAX_JSON_VALUES = 3_000_000
MAX_REPORTED = 100  # errors kept in SpecError.errors (the message shows the first 10)
RESTORE_TIMEOUT = 60.0  # seconds the child that checks a saved engine blob may take
FORMAT = "worldgen.world"


class SpecError(ValueError):
    """A world failed validation. ``errors`` lists ``(location, message)`` pairs.

    ``total`` counts every error found (``errors`` keeps at most :data:`MAX_REPORTED`).
    """

    def __init__(self, errors: list[tuple[str, str]], source: str = "world", total: int | None = None) -> None:
        self.errors = errors
        self.total = max(total or 0, len(errors))
        lines = [f"{loc}: {msg}" if loc else msg for loc, msg in errors[:10]]
        more = f"\n  ... and {self.total - 10} more" if self.total > 10 else ""
        super().__init__(f"{source} is invalid:\n  " + "\n  ".join(lines) + more)


def validate_spec(data: Any, source: str = "world") -> WorldSpec:
    """A :class:`WorldSpec` from a dict, JSON text or spec; raises :class:`SpecError` naming each bad field."""
    if isinstance(data, WorldSpec):
        return data
    try:
        if isinstance(data, (str, bytes)):
            if len(data) > MAX_FILE_BYTES:
                raise SpecError([("", f"{len(data)} bytes is over the {MAX_FILE_BYTES} byte cap")], source)
            _check_json_values(data, source)
            return WorldSpec.model_validate_json(data)
        if not isinstance(data, Mapping):
            raise SpecError([("", f"expected a JSON object, got {type(data).__name__}")], source)
        return WorldSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(_describe(err, data, model=WorldSpec), source, err.error_count()) from None
    except RecursionError:
        raise SpecError([("", "nesting is too deep")], source) from None


# A JSON string, matched possessively so that the scan is linear even for unterminated
# strings (a failed match could otherwise be retried from every later quote).
_JSON_STRING = {bytes: re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S),
                str: re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)}


def _check_json_values(text: str | bytes, source: str) -> None:
    """Refuses a JSON text holding more than :data:`MAX_JSON_VALUES` values, before parsing it.

    An array or object of n items holds n - 1 commas, so the commas, ``[`` and ``{`` outside
    strings (plus one) bound the number of values. Counting is a few ``bytes.count`` calls;
    strings are stripped first only when the raw count is already over the cap.
    """
    marks = (",", "[", "{") if isinstance(text, str) else (b",", b"[", b"{")

    def count(t: str | bytes) -> int:
        return sum(t.count(m) for m in marks)  # type: ignore[arg-type]

    n = count(text)
    if n > MAX_JSON_VALUES:
        stripped = _JSON_STRING[type(text)].sub('""' if isinstance(text, str) else b'""', text)  # type: ignore
        n = count(stripped)
    if n > MAX_JSON_VALUES:
        raise SpecError([("", f"holds about {n} JSON values, over the cap of {MAX_JSON_VALUES}; a world has at "
                              "most 2000 entities, 500 rules and 1000 joints")], source)


_UNKNOWN = object()  # a part of the input that _describe could not follow
_UNION_TAGS = ("type", "event", "do")  # discriminator fields of Shape, Trigger and Effect


def _describe(err: ValidationError, data: Any, prefix: str = "", model: type[BaseModel] | None = None,
              ) -> list[tuple[str, str]]:
    """Turns pydantic errors into ``entities.3 ('pin_4').mass: must be > 0`` lines.

    Union bookkeeping pydantic puts in locations (``shape.sphere.radius``,
    ``value.constrained-float``) is dropped, and the alternatives of one union are merged
    into one line, so each location reads like the path in the file. An unknown field is
    answered with the valid fields of ``model`` at that place (and a close match, if any).
    """
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except (ValueError, RecursionError):
            data = _UNKNOWN
    merged: dict[str, list[str]] = {}
    for e in err.errors(include_url=False)[:MAX_REPORTED]:
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = _unknown_field(model, e["loc"])
        msgs = merged.setdefault(prefix + _location(e["loc"], data), [])
        if msg not in msgs:
            msgs.append(msg)
    return [(loc, "; or: ".join(msgs)) for loc, msgs in merged.items()]


def _unknown_field(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> str:
    name = str(loc[-1]) if loc else ""
    fields = _fields_at(model, loc[:-1]) if model is not None else None
    if not fields:
        return "unknown field (remove it; see `worldgen schema` for the valid fields)"
    close = difflib.get_close_matches(name[:64], fields, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field {name[:40]!r}; {hint}valid fields: {', '.join(fields)}"


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """Field names of the model reached from ``model`` along pydantic location ``loc``, if any."""
    tp: Any = model
    for key in loc:
        tp = _step_type(tp, key)
        if tp is None:
            return None
    tp = _step_type(tp, None)  # unwrap Optional / Annotated at the end
    return list(tp.model_fields) if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _step_type(tp: Any, key: Any) -> Any:
    """The type inside ``tp`` at location part ``key`` (None: only unwrap)."""
    while True:
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin is Annotated:
            tp = args[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in args if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            if isinstance(key, str) and models:  # a discriminated union: the tag value is in loc
                for m in models:
                    tag = next((f for f in _UNION_TAGS if f in m.model_fields), None)
                    if tag and key in (typing.get_args(m.model_fields[tag].annotation) or ()):
                        return m
            if len(members) != 1:
                return None
            tp = members[0]
        else:
            break
    if key is None:
        return tp
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(key) if isinstance(key, str) else None
        return field.annotation if field is not None else None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is list and args:
        return args[0]
    if origin is tuple and args and isinstance(key, int):
        return args[0] if len(args) == 2 and args[1] is Ellipsis else (args[key] if key < len(args) else None)
    if origin is dict and len(args) == 2:
        return args[1]
    return None


def _location(loc: tuple[Any, ...], data: Any) -> str:
    """``loc`` as a dotted path through ``data``, list items labelled with their ``name``."""
    parts, node, tagged = [], data, False
    for i, key in enumerate(loc):
        if isinstance(key, str) and node is not _UNKNOWN:
            if not isinstance(node, Mapping):
                continue  # a union member's label (``constrained-str``), not a field
            if (key not in node and not tagged and i < len(loc) - 1
                    and any(node.get(t) == key for t in _UNION_TAGS)):
                tagged = True
                continue  # the discriminator's value (``sphere`` in shape.sphere.radius)
        label = str(key) if len(str(key)) <= 40 else str(key)[:40] + "..."
        tagged = False
        if isinstance(node, Mapping):
            node = node.get(key, _UNKNOWN)
        elif isinstance(node, (list, tuple)) and isinstance(key, int) and 0 <= key < len(node):
            node = node[key]
            if isinstance(node, Mapping) and isinstance(node.get("name"), str):
                label += f" ({node['name'][:40]!r})"
        else:
            node = _UNKNOWN
        parts.append(label)
    return ".".join(parts)


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parses a JSON file of at most :data:`MAX_FILE_BYTES` and :data:`MAX_JSON_VALUES` values."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise SpecError([("", f"file is {size} bytes, over the {MAX_FILE_BYTES} byte cap")], str(path))
    with open(path, "rb") as f:
        text = f.read(MAX_FILE_BYTES + 1)
    if len(text) > MAX_FILE_BYTES:  # grew since it was measured (or is not a regular file)
        raise SpecError([("", f"file is over the {MAX_FILE_BYTES} byte cap")], str(path))
    _check_json_values(text, str(path))
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SpecError([("", f"not valid JSON: {str(e)[:200]}")], str(path)) from None


# ---------------------------------------------------------------- saved state


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# Counters and ids: bounded so that arithmetic on them (``tick * timestep``) stays in float range.
_Count = Annotated[int, Field(ge=0, lt=2**53)]
_Cause = Annotated[int, Field(ge=-1, lt=2**53)]
_Gravity = Annotated[float, Field(ge=-1e4, le=1e4)]


class SavedEntity(_Strict):
    spec: Entity
    serial: _Count
    cause: _Cause
    pose: tuple[tuple[float, float, float], tuple[float, float, float, float]]


class SavedState(_Strict):
    """The dynamic state of a world, as stored in a file (validated: files are untrusted)."""

    tick: _Count
    episode: _Count
    blob: str = Field(max_length=MAX_FILE_BYTES, description="base64 of the engine's state")
    slots: list[tuple[Entity, str | None]] = Field(max_length=4000)
    entities: list[SavedEntity] = Field(max_length=4000)
    creation_order: list[str] = Field(max_length=4000)
    joints: list[tuple[Joint, Annotated[int, Field(ge=0, lt=2)]]] = Field(max_length=2 * MAX_JOINTS)
    gravity: tuple[_Gravity, _Gravity, _Gravity]
    variables: list[tuple[str, float]] = Field(max_length=MAX_VARIABLES)
    rng_state: dict[str, Any]
    controls: list[tuple[tuple[str, str], float, _Cause]] = Field(max_length=MAX_PLAYERS * MAX_CONTROLS)
    last_fired: list[tuple[str, _Count]] = Field(max_length=MAX_RULES)
    flags: list[list[Any]]
    touching: list[tuple[str, str, float, int]]
    counters: tuple[_Count, _Count, _Count]
    wake: tuple[bool, list[str]]
    ended: tuple[bool, bool, str | None]
    next_event_id: _Count
    events: list[dict[str, Any]] = Field(max_length=20_000)


def snapshot_to_dict(snap) -> dict[str, Any]:
    return {
        "tick": snap.tick, "episode": snap.episode, "blob": base64.b64encode(snap.blob).decode(),
        "slots": [[e.model_dump(mode="json"), occupant] for e, occupant in snap.slots],
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

    if not isinstance(data, Mapping):
        raise SpecError([("state", f"expected a JSON object, got {type(data).__name__}")], "saved state")
    try:
        st = SavedState.model_validate(data)
    except ValidationError as err:
        raise SpecError(_describe(err, data, "state.", SavedState), "saved state", err.error_count()) from None
    names = [e.spec.name for e in st.entities]
    if sorted(names) != sorted(st.creation_order) or len(set(names)) != len(names):
        raise SpecError([("state.creation_order", "does not match the names in state.entities")], "saved state")
    saved_vars, spec_vars = {k for k, _ in st.variables}, set(spec.variables)
    if saved_vars != spec_vars or len(st.variables) != len(saved_vars):
        raise SpecError([("state.variables", f"names {sorted(saved_vars)[:20]} do not match the spec's "
                                             f"variables {sorted(spec_vars)[:20]}")], "saved state")
    try:
        blob = base64.b64decode(st.blob, validate=True)
    except ValueError as e:
        raise SpecError([("state.blob", f"is not valid base64: {str(e)[:200]}")], "saved state") from None
    try:
        events = tuple(Event.from_dict(d) for d in st.events)
    except (ValueError, KeyError, TypeError, OverflowError) as e:
        raise SpecError([("state.events", f"corrupt: {type(e).__name__}: {str(e)[:200]}")], "saved state") from None
    if not blob.startswith(b"BULLET"):
        raise SpecError([("state.blob", "is not a Bullet state")], "saved state")
    return Snapshot(
        spec=spec, tick=st.tick, episode=st.episode, blob=blob,
        slots=tuple((e, occupant) for e, occupant in st.slots),
        entities=tuple((e.spec, e.serial, e.cause, (tuple(e.pose[0]), tuple(e.pose[1]))) for e in st.entities),
        creation_order=tuple(st.creation_order), joints=tuple((j, part) for j, part in st.joints),
        gravity=tuple(st.gravity), variables=tuple((k, v) for k, v in st.variables), rng_state=st.rng_state,
        controls=tuple((tuple(k), v, c) for k, v, c in st.controls), last_fired=tuple(st.last_fired),
        flags=tuple(tuple(f) for f in st.flags), touching=tuple(tuple(t) for t in st.touching),
        counters=tuple(st.counters), wake=(st.wake[0], tuple(st.wake[1])), ended=tuple(st.ended),
        next_event_id=st.next_event_id, events=events,
    )


def saved_world_doc(spec: WorldSpec, state: dict[str, Any]) -> dict[str, Any]:
    """The saved-world document (what :func:`load_world` reads) for ``spec`` at ``state``
    (:func:`snapshot_to_dict`)."""
    return {"format": FORMAT, "version": 1, "spec": spec.model_dump(mode="json"), "state": state}


def save_world(world, path: str | os.PathLike[str]) -> None:
    doc = saved_world_doc(world.spec, snapshot_to_dict(world.snapshot()))
    tmp = f"{path}.tmp"
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)  # never leave a half-written world behind
    finally:
        if os.path.exists(tmp):  # the dump failed: keep the old file, drop the partial one
            os.unlink(tmp)


_ENVELOPE = ("format", "version", "spec", "state")


def load_world(path: str | os.PathLike[str], seed: int | None = None):
    """A :class:`~worldgen.World` from a saved world (exact state) or a bare spec (fresh start).

    The engine blob of a saved world is only ever parsed in a throwaway child process
    (see :func:`_sanitize_blob`); this process restores the blob the engine wrote back
    there. A corrupt or hostile blob raises :class:`SpecError` instead of crashing.
    """
    from worldgen.world import World

    source = str(path)
    data = read_json(path)
    if not isinstance(data, Mapping):  # (validate_spec would read a str as JSON text again)
        raise SpecError([("", f"expected a JSON object, got {type(data).__name__}")], source)
    if data.get("format") != FORMAT:
        return World(validate_spec(data, source), seed)
    errors = [(str(k)[:40], f"unknown field (a saved world holds {', '.join(_ENVELOPE)})")
              for k in data if k not in _ENVELOPE]
    version = data.get("version")
    if type(version) is not int or version != 1:
        errors.append(("version", f"unsupported version {repr(version)[:20]}; this build reads version 1"))
    errors += [(k, "missing") for k in ("spec", "state") if k not in data]
    if errors:
        raise SpecError(errors, source)
    spec = validate_spec(data["spec"], source)
    snap = snapshot_from_dict(spec, data["state"])
    clean = _sanitize_blob(spec, snap, seed, path)
    if isinstance(clean, str):
        raise SpecError([("state", clean)], source)
    world = World(spec, seed)
    try:
        world.restore(dataclasses.replace(snap, blob=clean))
    except Exception as e:  # the child restored this very blob, so this is not expected; still, no half world
        world.close()
        raise SpecError([("state", f"cannot be restored: {type(e).__name__}: {str(e)[:200]}")], source) from None
    return world


def _sanitize_blob(spec: WorldSpec, snap, seed: int | None, path: str | os.PathLike[str]) -> bytes | str:
    """The engine blob of ``snap`` as Bullet itself writes it back, or what went wrong (a str).

    Bullet's C++ loader trusts its input: a corrupt blob can segfault or abort the whole
    interpreter, and no check of its bytes short of a full parser rules that out. Worse,
    a blob that reads out of bounds may pass in one process and crash in another, so
    merely trying it first is not enough. Hence the file's blob is parsed only in a
    child process, which restores it into a scratch world, checks the poses are finite,
    saves the engine state again, and proves that re-saved blob by restoring it into a
    second scratch world and stepping twice. This process then loads only bytes that
    Bullet's own serializer wrote. With ``os.fork`` the child shares everything already
    imported and built (a few ms); without it, or if a forked child hangs (a lock some
    other thread held at the fork), a fresh interpreter loads the file again.
    """
    fd, out = tempfile.mkstemp(suffix=".bullet", prefix="worldgen-trial-")
    os.close(fd)
    try:
        problem = _trial_fork(spec, snap, seed, out) if hasattr(os, "fork") else _TIMED_OUT
        if problem is _TIMED_OUT:
            problem = _trial_spawn(path, seed, out)
        if problem is not None:
            return problem
        with open(out, "rb") as f:
            return f.read()
    finally:
        os.unlink(out)


_TIMED_OUT = "timed out"
_SAID = "worldgen-trial: "  # marks the child's verdict among whatever Bullet prints


def _trial_spawn(path: str | os.PathLike[str], seed: int | None, out: str) -> str | None:
    import subprocess

    code = "import sys, worldgen.io as m; m._trial_child(*sys.argv[1:])"
    try:
        r = subprocess.run([sys.executable, "-c", code, str(path), "-" if seed is None else str(seed), out],
                           capture_output=True, timeout=RESTORE_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f"restoring it did not finish within {RESTORE_TIMEOUT:g} s"
    said = [ln[len(_SAID):] for ln in r.stdout.decode(errors="replace").splitlines() if ln.startswith(_SAID)]
    return None if r.returncode == 0 else _trial_verdict(r.returncode, "".join(said[-1:]))


def _trial_child(path: str, seed: str, out: str) -> None:
    """Entry point of the trial in a fresh interpreter (see :func:`_trial_spawn`)."""
    try:
        data = read_json(path)
        spec = validate_spec(data["spec"], path)
        problem = _clean_blob(spec, snapshot_from_dict(spec, data["state"]), None if seed == "-" else int(seed), out)
    except Exception as e:  # noqa: BLE001 - everything is a verdict here
        problem = f"{type(e).__name__}: {e}"
    if problem:
        print(_SAID + " ".join(problem.split())[:1000], flush=True)
        sys.exit(1)


def _trial_fork(spec: WorldSpec, snap, seed: int | None, out: str) -> str | None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe and the exit status, never return
        status = 3
        try:
            os.close(read)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)  # Bullet prints its complaints on stdout and stderr
            os.dup2(null, 2)
            try:
                import resource

                resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash here is expected: no core file
            except (ImportError, ValueError, OSError):
                pass
            problem = _clean_blob(spec, snap, seed, out)
            status = 0 if problem is None else 1
            if problem:
                os.write(write, problem.encode()[:1000])
        except BaseException as e:  # noqa: BLE001 - everything is a verdict here
            try:
                os.write(write, f"{type(e).__name__}: {e}".encode()[:1000])
                status = 1
            except BaseException:  # noqa: BLE001
                pass
        finally:
            os._exit(status)
    os.close(write)
    try:
        deadline = time.monotonic() + RESTORE_TIMEOUT
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return _TIMED_OUT
            time.sleep(0.002)
        with os.fdopen(read, "rb", closefd=False) as f:
            message = f.read(2000).decode(errors="replace")
    finally:
        os.close(read)
    if os.WIFSIGNALED(status):
        return _trial_verdict(-os.WTERMSIG(status), message)
    return None if os.WEXITSTATUS(status) == 0 else _trial_verdict(os.WEXITSTATUS(status), message)


def _trial_verdict(code: int, message: str) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"is corrupt: restoring it crashed the physics engine ({name})"
    return f"cannot be restored: {message.strip()[:300] or f'exit status {code}'}"


def _clean_blob(spec: WorldSpec, snap, seed: int | None, out: str) -> str | None:
    """The child's work (see :func:`_sanitize_blob`): writes the re-saved blob to ``out``, or says what is wrong."""
    from worldgen.world import World

    clean = b""
    for attempt in ("file", "re-saved"):
        world = World(spec, seed)
        try:
            world.restore(snap if attempt == "file" else dataclasses.replace(snap, blob=clean))
            for name, e in world.entities.items():
                if not all(math.isfinite(v) for v in (*e.position, *e.orientation, *e.velocity, *e.angular_velocity)):
                    return f"state.blob gives entity {name[:40]!r} a non-finite pose or velocity"
            if attempt == "file":
                clean = world.snapshot().blob
            else:
                world.step(ticks=2)
        finally:
            world.close()
    with open(out, "wb") as f:
        f.write(clean)
    return None
