"""Soak: an hour of simulated time with periodic resets stays sound and bounded."""

from __future__ import annotations

import math
import os

import pytest

import worldgen
from worldgen.example_worlds import example_script

HOUR_TICKS = 60 * 60 * 60  # one hour at 60 ticks/s
EPISODE_TICKS = 20 * 60


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _check_invariants(world, n_entities: int) -> list[str]:
    bad = []
    if len(world.entities) != n_entities:
        bad.append(f"tick {world.tick}: {len(world.entities)} entities, expected {n_entities}")
    for name, view in world.entities.items():
        if not all(math.isfinite(c) for c in (*view.position, *view.velocity, *view.orientation)):
            bad.append(f"tick {world.tick}: {name} not finite")
    for name, var in world.spec.variables.items():
        v = world.variables[name]
        if (var.min is not None and v < var.min) or (var.max is not None and v > var.max) or not math.isfinite(v):
            bad.append(f"tick {world.tick}: variable {name} = {v} outside [{var.min}, {var.max}]")
    ids = [e.id for e in world.events]
    if ids != sorted(ids) or len(ids) > 2 * world.simulation.log.capacity:
        bad.append(f"tick {world.tick}: event log out of order or unbounded ({len(ids)} held)")
    return bad


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bowling", "dominoes"])
def test_one_hour_with_resets(name):
    world = worldgen.example(name)
    script = example_script(name)
    n_entities = len(world.entities)
    violations: list[str] = []
    baseline = None
    steps = 0
    while steps < HOUR_TICKS:
        world.reset()
        for t in range(EPISODE_TICKS):
            world.step(script.get(t))
        steps += EPISODE_TICKS
        violations += _check_invariants(world, n_entities)
        if steps == 10 * EPISODE_TICKS:  # warmed up: allocator pools and caches have settled
            baseline = _rss_bytes()
    growth = (_rss_bytes() - baseline) / baseline
    assert not violations, violations[:10]
    assert growth < 0.05, f"memory grew {growth:.1%} over the hour"
