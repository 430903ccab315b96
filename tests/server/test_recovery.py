"""Kill -9 the server mid-game and start it again: the room comes back within 1 s of play, exactly."""

from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
import websockets

import worldgen
from tests.server.conftest import Server, collect
from worldgen.server.room import SNAPSHOT_EVERY, TICK_HZ, build_world, state_dict


def rolling_bowling() -> dict:
    """Bowling with the ball already rolling at the pins: things happen with no input."""
    spec = worldgen.example("bowling").spec.model_dump(mode="json")
    ball = next(e for e in spec["entities"] if e["name"] == "ball")
    ball["velocity"] = [12.0, 0.1, 0.0]
    return spec


def expected_hash(spec: dict, seed: int, tick: int) -> str:
    """The state hash an uninterrupted room reaches at ``tick`` with no input.

    The room snapshots at creation and at every multiple of SNAPSHOT_EVERY ticks, and a
    snapshot re-seats the engine on its own state, so the reference run does the same.
    """
    world = build_world(worldgen.World.from_spec(spec).spec, seed)
    state_dict(world)
    while world.tick < tick:
        world.step()
        if world.tick % SNAPSHOT_EVERY == 0:
            state_dict(world)
    return world.state_hash()


async def watch_then_kill(srv: Server, room_id: str, token: str, seconds: float) -> dict[int, str]:
    """tick → hash seen on the live stream; the server is killed right after the last message."""
    seen: dict[int, str] = {}
    async with websockets.connect(srv.ws_url(room_id, token), max_size=None) as ws:
        texts, _ = await collect(ws, seconds)
        for m in texts:
            if m["type"] == "state":
                seen[m["tick"]] = m["hash"]
        srv.kill()
    return seen


@pytest.mark.slow
def test_kill_9_mid_game_resumes_within_one_second_of_play(tmp_path):
    db = tmp_path / "worlds.sqlite"
    with Server(db) as srv:
        spec = rolling_bowling()
        room = srv.create(spec=spec, seed=3)
        rid, token = room["room_id"], room["token"]
        srv.ok("POST", f"/api/rooms/{rid}/control", {"action": "play"}, token)
        seen = asyncio.run(watch_then_kill(srv, rid, token, 2.5))
    last = max(seen)
    assert last > 2 * SNAPSHOT_EVERY, f"the room hardly ran before the kill (tick {last})"

    # no half-written records: the database is consistent after the kill
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

    with Server(db) as srv2:
        status, info = srv2.request("GET", f"/api/rooms/{rid}", token=token)
        assert status == 200, info
        resumed = info["resumed"]
        assert resumed is not None, "a restarted room says where it resumed"
        assert resumed["tick"] % SNAPSHOT_EVERY == 0
        assert last - TICK_HZ <= resumed["tick"] <= last + SNAPSHOT_EVERY, (resumed, last)
        # exactly where the uninterrupted game was at that tick
        assert resumed["hash"] == expected_hash(spec, 3, resumed["tick"])
        if resumed["tick"] in seen:
            assert resumed["hash"] == seen[resumed["tick"]]
        # it was playing, so it plays on
        assert info["running"] is True
        assert info["spec"]["entities"] == worldgen.World.from_spec(spec).spec.model_dump(mode="json")["entities"]
        # and keeps its old tokens and the event log
        ev = srv2.ok("GET", f"/api/rooms/{rid}/why/0", token=token)
        assert ev["chain"][0]["kind"] == "start"


def test_edits_and_history_survive_a_kill(tmp_path):
    db = tmp_path / "worlds.sqlite"
    with Server(db) as srv:
        room = srv.create(example="push_crate")
        rid, token = room["room_id"], room["token"]
        spec = room["room"]["spec"]
        crate = next(i for i, e in enumerate(spec["entities"]) if e["name"] == "crate")
        old_mass = spec["entities"][crate]["mass"]
        spec["entities"][crate]["mass"] = old_mass * 3
        after = srv.ok("PUT", f"/api/rooms/{rid}/spec", {"spec": spec, "label": "crate heavier"}, token)
        assert after["history"]["length"] == 2
        srv.ok("POST", f"/api/rooms/{rid}/control", {"action": "step", "ticks": 45}, token)
        srv.kill()
    with Server(db) as srv2:
        info = srv2.ok("GET", f"/api/rooms/{rid}", token=token)
        assert info["spec"]["entities"][crate]["mass"] == pytest.approx(old_mass * 3)
        assert info["history"]["labels"][-1] == "crate heavier"
        assert info["tick"] == 45, "a pause/step writes its snapshot at once"
        assert info["running"] is False
        undone = srv2.ok("POST", f"/api/rooms/{rid}/undo", token=token)
        assert undone["spec"]["entities"][crate]["mass"] == pytest.approx(old_mass)
        assert undone["history"]["can_redo"] is True


def test_a_restart_keeps_tokens_secret_in_the_database(tmp_path):
    db = tmp_path / "worlds.sqlite"
    with Server(db) as srv:
        room = srv.create(example="air_hockey")
    raw = db.read_bytes() + (db.with_name(db.name + "-wal").read_bytes()
                             if db.with_name(db.name + "-wal").exists() else b"")
    for token in (room["token"], *room["invites"].values()):
        assert token.encode() not in raw
    assert json.dumps(room["room_id"]).strip('"').encode() in raw
