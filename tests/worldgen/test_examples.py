"""Tests for :mod:`worldgen.example_worlds`: every shipped example checks, runs, works and repeats.

Each example carries a script (tick → actions) that shows its mechanic; the tests run
that script and hold each example to an explicit expectation in :data:`MECHANICS`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from physics.check import check_world
from worldgen.example_worlds import example, example_script, example_spec, examples
from worldgen.spec import OnTilt
from worldgen.world import World

NAMES = examples()


def run_script(world: World, name: str, ticks: int) -> dict[str, float]:
    """Steps ``world`` for ``ticks`` ticks with the example's script (a tick without an entry sends no input).

    Returns, per entity present at the start, the largest distance (m) its x coordinate
    moved from where it started.
    """
    script = example_script(name)
    start_x = {n: e.position[0] for n, e in world.entities.items()}
    moved_x = dict.fromkeys(start_x, 0.0)
    for t in range(ticks):
        world.step(script.get(t))
        for n, e in world.entities.items():
            if n in start_x:
                moved_x[n] = max(moved_x[n], abs(e.position[0] - start_x[n]))
    return moved_x


@dataclass(frozen=True)
class Mechanic:
    """What an example's script must achieve within ``ticks`` ticks (1/60 s each)."""

    ticks: int
    expect: str  # the expectation in words, shown when it fails
    holds: Callable[[World, dict[str, float]], bool]
    key: str  # the variable the mechanic changes; its first change must trace back to a player action


MECHANICS: dict[str, Mechanic] = {
    "bowling": Mechanic(300, "the thrown ball knocks down at least one pin (score > 0)",
                        lambda w, m: w.variables["score"] > 0, key="score"),
    "dominoes": Mechanic(240, "one push topples at least 15 of the 20 dominoes",
                         lambda w, m: w.variables["toppled"] >= 15, key="toppled"),
    "billiards": Mechanic(240, "the break pots at least one ball and the cue ball stays up (score >= 1, lives 3)",
                          lambda w, m: w.variables["score"] >= 1 and w.variables["lives"] == 3, key="score"),
    "tower": Mechanic(300, "the poked block is pushed off the table while the top block stays up",
                      lambda w, m: (w.variables["dropped"] >= 1 and w.entities["block_2_1"].position[2] < 0.5
                                    and m["block_2_1"] > 0.3 and w.entities["top"].position[2] > 1.1
                                    and w.outcome != "lose"), key="dropped"),
    "cradle": Mechanic(240, "the balls click (clicks > 0) and the knock reaches the last ball (it swings > 1 cm)",
                       lambda w, m: w.variables["clicks"] > 0 and m["ball_5"] > 0.01, key="clicks"),
    "push_crate": Mechanic(360, "the robot pushes the crate onto the target: the episode ends in a win",
                           lambda w, m: w.terminated and w.outcome == "win" and w.variables["score"] == 1, key="score"),
    "air_hockey": Mechanic(360, "p1's drive scores a goal (p1_score >= 1)",
                           lambda w, m: w.variables["p1_score"] >= 1, key="p1_score"),
}


def test_every_example_has_a_mechanic_check():
    assert set(MECHANICS) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_is_described(name):
    spec = example_spec(name)
    md = spec.metadata
    assert md.title and md.description and md.prompt
    assert any(c.mode == "fixed" for c in spec.cameras), "needs a fixed camera looking at the action"
    assert example_script(name), "needs a script that shows the mechanic"
    assert sum(1 for e in spec.entities if not e.sensor) < 60, "keep the body count moderate"


@pytest.mark.parametrize("name", NAMES)
def test_check_world(name):
    report = check_world(example_spec(name))
    assert report.ok, str(report)


@pytest.mark.parametrize("name", NAMES)
def test_mechanic(name):
    m = MECHANICS[name]
    world = example(name)
    moved = run_script(world, name, m.ticks)
    assert m.holds(world, moved), (f"{name}: expected {m.expect}; after {world.tick} ticks: "
                                   f"variables {world.variables}, outcome {world.outcome}")


@pytest.mark.parametrize("name", NAMES)
def test_key_event_traces_back_to_a_player(name):
    m = MECHANICS[name]
    world = example(name)
    run_script(world, name, m.ticks)
    changes = [e for e in world.events if e.kind == "variable" and e.data["var"] == m.key]
    assert changes, f"{name}: {m.key} never changed"
    chain = world.why(changes[0])
    assert chain[-1].kind == "action", f"{name}: the first change of {m.key} does not reach a player:\n{chain}"


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_and_script_repeat_exactly(name):
    ticks = MECHANICS[name].ticks
    hashes = []
    for _ in range(2):
        world = example(name, seed=7)
        run_script(world, name, ticks)
        hashes.append(world.state_hash())
        world.close()
    assert hashes[0] == hashes[1]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_one_minute_stays_finite(name):
    world = example(name)
    script = example_script(name)
    assert world.spec.physics.timestep == pytest.approx(1 / 60)
    for t in range(3600):
        world.step(script.get(t))
        if t % 60 == 59:
            for n, e in world.entities.items():
                values = (*e.position, *e.velocity, *e.angular_velocity, *e.orientation)
                assert all(math.isfinite(v) for v in values), f"{name}: {n} is not finite at tick {world.tick}"


def test_air_hockey_has_two_players_on_separate_keys():
    world = example("air_hockey")
    assert set(world.controls) == {"p1", "p2"}
    keys = {p: {k for c in cs.values() for k in c.keys} for p, cs in world.controls.items()}
    assert keys["p1"] and keys["p2"] and not keys["p1"] & keys["p2"]


def test_examples_together_cover_the_engine():
    specs = [example_spec(n) for n in NAMES]
    joints = {j.type for s in specs for j in s.joints}
    assert {"hinge", "point", "fixed"} <= joints
    triggers = {r.on.event for s in specs for r in s.rules}
    assert {"timer", "enter", "leave", "collision", "control", "variable", "start", "out_of_bounds"} <= triggers
    assert {"tilted", "fallen"} & triggers
    assert any(isinstance(r.on, OnTilt) for s in specs for r in s.rules)
    assert any(e.sensor for s in specs for e in s.entities)
    assert any(s.templates for s in specs), "some example spawns from a template"
    assert all(s.variables and s.goals and s.players for s in specs)
    assert any(v.rate for s in specs for v in s.variables.values()), "some example keeps a countdown"
    assert any(len(s.players) == 2 for s in specs)
