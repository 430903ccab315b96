"""Shared helpers for the test suite."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")


def run_script(world, script: dict, ticks: int, start: int = 0) -> list:
    """Steps ``world`` ``ticks`` times, applying ``script[t]`` (tick → actions) when present."""
    events = []
    for t in range(start, start + ticks):
        events.extend(world.step(script.get(t)).events)
    return events
