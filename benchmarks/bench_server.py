"""Multiplayer server load: N players + M spectators on localhost WebSockets at 30 Hz.

Starts ``worldgen serve`` in a subprocess, makes a room with an 8-player world (push_crate
with eight robots), connects scripted clients (players send an input change ~10 times a
second, everyone receives state + a JPEG per frame, 160×120 unless ``--size``) and reports, over the measured
window:

- tick time p50/p99 (``world.step`` only) and the largest lag of the fixed 60 Hz schedule,
  with ticks skipped (0 means the tick never fell behind);
- frame work p50/p99 (state message + render + JPEG, once per distinct view);
- frame latency p50/p99: server send time (in the state message) → the JPEG arriving at
  a client;
- frames per second received per client.

Baseline measured in the same run: the same room with one spectator, so the cost of the
crowd shows as a ratio. Medians over ``--runs`` runs.

    python benchmarks/bench_server.py --players 8 --spectators 20 --seconds 10 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.server.conftest import Server  # noqa: E402  (the same launcher the tests use)


def eight_player_spec(players: int) -> dict:
    import worldgen

    spec = worldgen.example("push_crate").spec.model_dump(mode="json")
    robot = next(e for e in spec["entities"] if e["name"] == "robot")
    p1 = spec["players"][0]
    for i in range(2, players + 1):
        r = json.loads(json.dumps(robot))
        r["name"] = f"robot_{i}"
        r["position"] = [-2.4 + 0.6 * ((i - 1) % 4), -2.4 + 0.8 * ((i - 1) // 4), robot["position"][2]]
        spec["entities"].append(r)
        pl = json.loads(json.dumps(p1))
        pl["name"] = f"p{i}"
        for c in pl["controls"]:
            c["target"] = r["name"]
        spec["players"].append(pl)
    spec["metadata"]["title"] = f"{players} robots"
    return spec


async def client(url: str, role: str, seconds: float, results: list, view_size: tuple[int, int]) -> None:
    lat, frames, sent_at = [], 0, None
    rng = random.Random(hash(url) & 0xFFFF)
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(json.dumps({"type": "view", "view": "albedo", "size": list(view_size)}))
        t_end = time.monotonic() + seconds
        next_input = time.monotonic()
        player = None
        while time.monotonic() < t_end:
            if player and time.monotonic() >= next_input:
                await ws.send(json.dumps({"type": "input", "controls": {
                    "move_x": rng.choice([-1, 0, 1]), "move_y": rng.choice([-1, 0, 1])}}))
                next_input += 0.1
            try:
                m = await asyncio.wait_for(ws.recv(), timeout=0.05)
            except asyncio.TimeoutError:
                continue
            if isinstance(m, bytes):
                if sent_at is not None:
                    lat.append(time.time() - sent_at)
                    frames += 1
                    sent_at = None
            else:
                d = json.loads(m)
                if d["type"] == "hello":
                    player = d["player"]
                elif d["type"] == "state":
                    sent_at = d["t"]
    results.append({"role": role, "player": player, "latency": lat, "frames": frames, "seconds": seconds})


async def crowd(srv: Server, rid: str, invites: dict, players: int, spectators: int, seconds: float,
                size: tuple[int, int]) -> list:
    results: list = []
    tasks = [client(srv.ws_url(rid, invites["player"]), "player", seconds, results, size) for _ in range(players)]
    tasks += [client(srv.ws_url(rid, invites["spectator"]), "spectator", seconds, results, size)
              for _ in range(spectators)]
    await asyncio.gather(*tasks)
    return results


def one_run(srv: Server, players: int, spectators: int, seconds: float, size: tuple[int, int]) -> dict:
    room = srv.create(spec=eight_player_spec(8), seed=0)
    rid, owner = room["room_id"], room["token"]
    srv.ok("POST", f"/api/rooms/{rid}/control", {"action": "play"}, owner)
    time.sleep(0.5)
    results = asyncio.run(crowd(srv, rid, room["invites"], players, spectators, seconds, size))
    stats = srv.ok("GET", f"/api/rooms/{rid}/stats", token=owner)
    lat = sorted(x for r in results for x in r["latency"])
    assigned = sum(1 for r in results if r["role"] == "player" and r["player"])
    fps = [r["frames"] / r["seconds"] for r in results]
    srv.ok("POST", f"/api/rooms/{rid}/control", {"action": "pause"}, owner)
    return {
        "clients": len(results), "players_assigned": assigned,
        "tick_p50_ms": stats["tick_p50_ms"], "tick_p99_ms": stats["tick_p99_ms"],
        "max_lag_ms": stats["max_lag_ms"], "skipped_ticks": stats["skipped_ticks"],
        "frame_work_p50_ms": stats["frame_p50_ms"], "frame_work_p99_ms": stats["frame_p99_ms"],
        "latency_p50_ms": round(1e3 * lat[len(lat) // 2], 2) if lat else None,
        "latency_p99_ms": round(1e3 * lat[int(len(lat) * 0.99)], 2) if lat else None,
        "fps_per_client_median": round(statistics.median(fps), 1) if fps else 0.0,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--players", type=int, default=8)
    ap.add_argument("--spectators", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="160x120", help="frame size every client asks for (default 160x120)")
    a = ap.parse_args(argv)
    size = tuple(int(v) for v in a.size.lower().split("x"))
    keys = ["tick_p50_ms", "tick_p99_ms", "max_lag_ms", "skipped_ticks", "frame_work_p50_ms", "frame_work_p99_ms",
            "latency_p50_ms", "latency_p99_ms", "fps_per_client_median"]
    with tempfile.TemporaryDirectory() as tmp, Server(Path(tmp) / "bench.sqlite") as srv:
        rows = {"baseline (1 spectator)": [], f"{a.players} players + {a.spectators} spectators": []}
        for i in range(a.runs):
            rows["baseline (1 spectator)"].append(one_run(srv, 0, 1, a.seconds, size))
            r = one_run(srv, a.players, a.spectators, a.seconds, size)
            rows[f"{a.players} players + {a.spectators} spectators"].append(r)
            print(f"run {i + 1}/{a.runs}: {r}", file=sys.stderr)
    print("| setup | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, runs in rows.items():
        med = {k: statistics.median(r[k] for r in runs if r[k] is not None) for k in keys}
        print(f"| {name} | " + " | ".join(f"{med[k]:g}" for k in keys) + " |")
    crowd_rows = rows[f"{a.players} players + {a.spectators} spectators"]
    print(f"\nplayers assigned: {crowd_rows[0]['players_assigned']} of {a.players}; "
          f"clients connected: {crowd_rows[0]['clients']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
