"""A real ``worldgen serve`` in a subprocess per test module, and small HTTP/WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``worldgen serve`` on a free port over ``db``; ``start``/``kill``/``stop``."""

    def __init__(self, db: Path) -> None:
        self.db, self.port, self.proc = db, free_port(), None
        self.log = db.with_suffix(".log")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> Server:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "worldgen.cli", "serve", "--port", str(self.port), "--db", str(self.db)],
            cwd=ROOT, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.base + "/api/examples", timeout=2)
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.2)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    # ------------------------------------------------------------ HTTP
    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
        """(status, parsed JSON or text) — never raises for HTTP errors."""
        h = {"content-type": "application/json"} if body is not None else {}
        h.update(headers or {})
        if token:
            h["authorization"] = f"Bearer {token}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else
                                           (b"" if method in ("POST", "PUT") else None))
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text.decode(errors="replace")

    def ok(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        status, data = self.request(method, path, body, token)
        assert status in (200, 201), (status, data)
        return data

    def create(self, **body: Any) -> dict[str, Any]:
        return self.ok("POST", "/api/rooms", body)

    def ws_url(self, room_id: str, token: str) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/rooms/{room_id}?token={token}"


async def collect(ws, seconds: float, until=None) -> tuple[list[dict], list[bytes]]:
    """Messages from ``ws`` for ``seconds`` (or until ``until(msg)`` is true): (texts, frames)."""
    texts, frames = [], []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            m = await asyncio.wait_for(ws.recv(), timeout=max(0.01, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        if isinstance(m, bytes):
            frames.append(m)
        else:
            texts.append(json.loads(m))
            if until is not None and until(texts[-1]):
                break
    return texts, frames


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("server") / "worlds.sqlite") as srv:
        yield srv
