"""Hostile input: every malformed or malicious world ends in a clean error or a capped, running world.

The issue's list, one explicit test each: NaN and inf, negative sizes, 10⁷ entities,
unknown fields, rules naming missing tags, self-triggering rule loops, expressions with
``__import__``, attribute access and huge literals. Then hostile files (not JSON, 100 000
levels of nesting, 70 MB, corrupt saved states), the quality of error messages ("name the
field and say what would be valid"), and hypothesis property tests over the same boundary:
whatever comes in, the answer is a :class:`WorldSpec` or a :class:`SpecError`, never
another exception, a crash, a hang or a memory blow-up.

Cases that could kill the interpreter (a corrupt physics blob) run in a subprocess, so a
segfault fails one test instead of ending the test run.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import worldgen
from physics.simulation import MAX_CASCADE_DEPTH, MAX_EFFECTS_PER_TICK, MAX_LIVE_ENTITIES
from worldgen import expr, spec as specmod
from worldgen.io import MAX_REPORTED, SpecError, validate_spec
from worldgen.spec import KEY_NAMES, MAX_ENTITIES, SpecModel, WorldSpec

ROOT = Path(__file__).resolve().parents[2]
NAN, INF = float("nan"), float("inf")

GROUND = {"name": "ground", "kind": "floor", "tags": ["ground"], "shape": {"type": "plane"}, "static": True}


def ball(**kw):
    return {"name": "ball", "kind": "ball", "tags": ["ball"], "shape": {"type": "sphere", "radius": 0.1},
            "position": [0, 0, 0.1], **kw}


def world_dict(*entities, **sections):
    """A world dict: the ground plus ``entities``, and any other top-level sections."""
    return {"entities": [GROUND, *entities], **sections}


def rule(name="r", on=None, do=None, **kw):
    return {"name": name, "on": on or {"event": "start"}, "do": do or [{"do": "end"}], **kw}


def spec_error(data) -> SpecError:
    """The SpecError that validating ``data`` raises (and nothing else)."""
    with pytest.raises(SpecError) as info:
        validate_spec(data)
    assert type(info.value) is SpecError and isinstance(info.value, ValueError)
    return info.value


def assert_mentions(message: str, *fragments: str) -> None:
    missing = [f for f in fragments if f not in message]
    assert not missing, f"{missing} not in:\n{message}"


def finite_state(world) -> bool:
    """Every pose, velocity and variable of ``world`` is a finite number."""
    for e in world.entities.values():
        if not all(math.isfinite(v) for v in (*e.position, *e.orientation, *e.velocity, *e.angular_velocity)):
            return False
    return all(math.isfinite(v) for v in world.variables.values())


def run_bounded(world, ticks: int, max_events_per_tick: int) -> list[list]:
    """Steps ``ticks`` times; every tick must stay within the live-entity cap and the event bound."""
    per_tick = []
    for _ in range(ticks):
        events = world.step().events
        assert len(world.entities) <= MAX_LIVE_ENTITIES
        assert len(events) <= max_events_per_tick, f"{len(events)} events in one tick"
        per_tick.append(events)
    return per_tick


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter (a crash there fails the test, not the run)."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          cwd=ROOT, timeout=timeout, env={**os.environ, "PYTHONPATH": str(ROOT)})


# ---------------------------------------------------------------- 1. hostile values in a spec


HOSTILE_SPECS = {
    "nan position": (world_dict(ball(position=[NAN, 0, 0])), ["entities.1 ('ball').position.0", "finite"]),
    "inf mass": (world_dict(ball(mass=INF)), ["entities.1 ('ball').mass", "finite"]),
    "-inf gravity": ({"physics": {"gravity": [0, 0, -INF]}}, ["physics.gravity.2", "finite"]),
    "nan variable": ({"variables": {"score": {"value": NAN}}}, ["variables.score.value", "finite"]),
    "nan timer": (world_dict(rules=[rule("tick", on={"event": "timer", "every": NAN})]),
                  ["rules.0 ('tick').on.every", "finite"]),
    "inf impulse": (world_dict(ball(), rules=[rule("kick", do=[{"do": "impulse", "target": "ball",
                                                               "impulse": [INF, 0, 0]}])]),
                    ["rules.0 ('kick').do.0.impulse.0", "finite"]),
    "nan in expression value": (world_dict(variables={"score": {}}, rules=[rule(
        "add", do=[{"do": "add", "var": "score", "value": NAN}])]), ["rules.0 ('add').do.0.value", "finite"]),
    "negative radius": (world_dict(ball(shape={"type": "sphere", "radius": -1})),
                        ["entities.1 ('ball').shape.radius", "greater than 0"]),
    "negative box size": (world_dict(ball(shape={"type": "box", "size": [1, -0.5, 1]})),
                          ["entities.1 ('ball').shape.size.1", "greater than 0"]),
    "zero cylinder height": (world_dict(ball(shape={"type": "cylinder", "radius": 1, "height": 0})),
                             ["entities.1 ('ball').shape.height", "greater than 0"]),
    "negative mass": (world_dict(ball(mass=-3)), ["entities.1 ('ball').mass", "greater than 0"]),
    "negative timestep": ({"physics": {"timestep": -0.01}}, ["physics.timestep", "greater than 0.0001"]),
    "coordinate far away": (world_dict(ball(position=[1e9, 0, 0])),
                            ["entities.1 ('ball').position.0", "less than or equal to 10000"]),
    "huge int literal": (world_dict(ball(mass=10**400)), ["entities.1 ('ball').mass", "valid number"]),
    "huge int seed": ({"metadata": {"seed": 10**100}}, ["metadata.seed", "less than"]),
    "text for a number": (world_dict(ball(mass="heavy")), ["entities.1 ('ball').mass", "valid number"]),
    "unknown entity field": (world_dict(ball(colour="red")), ["entities.1 ('ball').colour", "unknown field"]),
    "unknown nested field": (world_dict(ball(material={"stickiness": 2})),
                             ["entities.1 ('ball').material.stickiness", "unknown field"]),
    "unknown top-level field": ({"entites": []}, ["entites", "unknown field", "did you mean 'entities'?"]),
    "rule names a missing tag": (world_dict(ball(), rules=[rule("hit", on={"event": "collision", "a": "balls",
                                                                            "b": "ground"})]),
                                 ["rules.0 ('hit').on.a", "no tag 'balls'", "did you mean 'ball'?"]),
    "effect targets a missing tag": (world_dict(ball(), rules=[rule("clear", do=[{"do": "destroy",
                                                                                 "target": "tag:pins"}])]),
                                     ["rules.0 ('clear').do.0.target", "no tag 'pins'", "tags: ball, ground"]),
    "spawn of a missing template": (world_dict(rules=[rule("make", do=[{"do": "spawn", "template": "crate"}])]),
                                    ["rules.0 ('make').do.0.template", "no template 'crate'"]),
    "__import__ in a condition": (world_dict(variables={"score": {}}, rules=[rule("r", when="__import__('os')")]),
                                  ["rules.0 ('r').when", "'__import__'", "may not start with '_'"]),
    "__import__ in a value": (world_dict(variables={"score": {}}, rules=[rule("r", do=[
        {"do": "set", "var": "score", "value": "__import__('os').system('true')"}])]),
        ["rules.0 ('r').do.0.value", "may not start with '_'"]),
    "__class__ in a goal": ({"variables": {"score": {}}, "goals": [{"name": "g", "when": "score.__class__"}]},
                            ["goals.0 ('g').when", "attribute access is not supported"]),
    "attribute access": (world_dict(ball(), rules=[rule("r", when="ball.x > 1")]),
                         ["rules.0 ('r').when", "attribute access is not supported"]),
    "eval call": (world_dict(variables={"score": {}}, rules=[rule("r", when="eval(score)")]),
                  ["rules.0 ('r').when", "unknown function 'eval'", "functions: abs"]),
    "string literal": (world_dict(rules=[rule("r", when="'a' == 'a'")]), ["strings are not supported"]),
    "subscript": (world_dict(variables={"v": {}}, rules=[rule("r", when="v[0]")]), ["subscripts are not supported"]),
    "lambda": (world_dict(rules=[rule("r", when="lambda: 1")]), ["rules.0 ('r').when", "unexpected ':'"]),
    "huge literal in expression": (world_dict(variables={"score": {}}, rules=[rule("r", when="score > " + "9" * 500)]),
                                   ["rules.0 ('r').when", "too large", "at most 1e12"]),
    "1e999 in expression": (world_dict(variables={"score": {}}, rules=[rule("r", when="score < 1e999")]),
                            ["rules.0 ('r').when", "too large"]),
    "expression too long": (world_dict(variables={"x": {}}, rules=[rule("r", when="x + " * 300 + "x")]),
                            ["rules.0 ('r').when", "at most 1000 characters"]),
    "expression too deep": (world_dict(rules=[rule("r", when="(" * 100 + "1" + ")" * 100)]),
                            ["rules.0 ('r').when", "nested too deeply"]),
    "too many tokens": (world_dict(rules=[rule("r", when="1+" * 300 + "1")]), ["more than 256 tokens"]),
}


@pytest.mark.parametrize("data, fragments", HOSTILE_SPECS.values(), ids=HOSTILE_SPECS.keys())
def test_hostile_value_gives_spec_error_naming_the_field(data, fragments):
    assert_mentions(str(spec_error(data)), *fragments)


@pytest.mark.parametrize("data, fragments", HOSTILE_SPECS.values(), ids=HOSTILE_SPECS.keys())
def test_hostile_value_as_json_text_gives_the_same_error(data, fragments):
    try:
        text = json.dumps(data)  # NaN and Infinity become the non-standard literals
    except ValueError:  # an int too long for str()
        pytest.skip("not expressible as JSON text")
    assert_mentions(str(spec_error(text)), *[f for f in fragments if "valid number" not in f])


@pytest.mark.parametrize("value", [None, [], 3, "text", b"\x00\xff", 1.5, {1, 2}])
def test_non_object_world_is_an_error(value):
    assert_mentions(str(spec_error(value)), "expected a JSON object" if not isinstance(value, (str, bytes))
                    else "Invalid JSON")


def test_cyclic_python_structures_are_errors_not_recursion():
    d: dict = {}
    d["metadata"] = d
    assert_mentions(str(spec_error(d)), "metadata.metadata", "unknown field")
    loop: list = []
    loop.append(loop)
    assert_mentions(str(spec_error({"entities": loop})), "entities.0")


# ---------------------------------------------------------------- 2. scale: 10⁷ entities and friends


def test_ten_million_entities_as_json_text_fail_fast_in_bounded_memory():
    out = run_python("""
        import json, resource, time
        from worldgen.io import SpecError, validate_spec
        text = '{"entities": [' + ','.join(['{}'] * 10**7) + ']}'
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        try:
            validate_spec(text)
            message = "accepted"
        except SpecError as e:
            message = str(e)
        seconds = time.perf_counter() - t
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(json.dumps({"seconds": seconds, "grew_mb": grew, "message": message}))
    """)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.splitlines()[-1])
    assert_mentions(r["message"], "JSON values", "over the cap")
    assert r["seconds"] < 5, r
    assert r["grew_mb"] < 300, r  # before the value cap: 1.4 GB


def test_world_spec_from_json_has_the_same_guards():
    t = time.perf_counter()
    with pytest.raises(SpecError, match="JSON values"):
        WorldSpec.from_json('{"entities": [' + ",".join(["{}"] * 10**7) + "]}")
    assert time.perf_counter() - t < 5
    with pytest.raises(SpecError, match=r"entities.1 \('ball'\).mass"):
        WorldSpec.from_json(json.dumps(world_dict(ball(mass=-1))))


def test_million_entities_as_json_text_stop_at_the_list_cap():
    text = '{"entities": [' + ",".join(["{}"] * 10**6) + "]}"  # under the JSON value cap
    t = time.perf_counter()
    err = spec_error(text)
    assert time.perf_counter() - t < 5
    assert_mentions(str(err), "entities", f"at most {MAX_ENTITIES} items")


def test_ten_million_entities_as_python_dict_stop_at_the_list_cap():
    data = {"entities": [ball()] * 10**7}  # one dict, ten million references: cheap to build
    t = time.perf_counter()
    err = spec_error(data)
    assert time.perf_counter() - t < 2
    assert_mentions(str(err), "entities", f"at most {MAX_ENTITIES} items")


@pytest.mark.parametrize("data, where", [
    ({"entities": [ball(tags=["x"] * 10**7)]}, "entities.0 ('ball').tags"),
    ({"variables": {f"v{i}": {} for i in range(10**5)}}, "variables"),
    ({"rules": [rule()] * 10**6}, "rules"),
    ({"rules": [rule(do=[{"do": "end"}] * 10**6)]}, "rules.0 ('r').do"),
    ({"templates": [ball()] * 10**6}, "templates"),
    ({"joints": [{"name": "j", "type": "point", "child": "ball"}] * 10**6}, "joints"),
    ({"style": {"palette": [[0, 0, 0]] * 10**6}}, "style.palette"),
])
def test_huge_collections_stop_at_their_caps(data, where):
    t = time.perf_counter()
    assert_mentions(str(spec_error(data)), where, "at most")
    assert time.perf_counter() - t < 2


def test_huge_strings_are_refused_without_echoing_them():
    err = spec_error(world_dict(ball(name="n" * 10**6, kind="k" * 10**6)))
    assert len(str(err)) < 2000
    err = spec_error({"x" * 10**6: 1})
    assert len(str(err)) < 2000


def test_many_errors_are_counted_but_reported_briefly():
    err = spec_error({"metadata": {f"k{i}": 1 for i in range(10**5)}})
    assert err.total == 10**5
    assert len(err.errors) <= MAX_REPORTED
    assert len(str(err).splitlines()) <= 12
    assert_mentions(str(err), "metadata.k0", f"and {10**5 - 10} more")


# ---------------------------------------------------------------- 3. runaway rules: capped, running worlds

EVERY_TICK = {"event": "timer", "every": 0.001}  # fires once per tick


def test_rule_that_triggers_itself_through_a_variable_is_cut_at_the_cascade_depth():
    w = worldgen.World.from_spec(world_dict(variables={"score": {}}, rules=[
        rule("tick", on=EVERY_TICK, do=[{"do": "add", "var": "score", "value": 1}]),
        rule("echo", on={"event": "variable", "name": "score"}, do=[{"do": "add", "var": "score", "value": 1}]),
    ]))
    for events in run_bounded(w, 60, max_events_per_tick=4 * MAX_CASCADE_DEPTH + 8):
        limits = [e for e in events if e.kind == "limit"]
        assert [e.data["reason"] for e in limits] == ["cascade depth"]
        assert sum(e.kind == "variable" for e in events) <= MAX_CASCADE_DEPTH + 2
    assert 60 <= w.variables["score"] <= 60 * (MAX_CASCADE_DEPTH + 2)
    w.close()


def test_two_rules_ping_ponging_are_cut_at_the_cascade_depth():
    w = worldgen.World.from_spec(world_dict(variables={"a": {}, "b": {}}, rules=[
        rule("kick", on=EVERY_TICK, do=[{"do": "add", "var": "a"}]),
        rule("ping", on={"event": "variable", "name": "a"}, do=[{"do": "add", "var": "b", "value": "a + 1"}]),
        rule("pong", on={"event": "variable", "name": "b"}, do=[{"do": "set", "var": "a", "value": "b * 2"}]),
    ]))
    per_tick = run_bounded(w, 120, max_events_per_tick=4 * MAX_CASCADE_DEPTH + 8)
    assert [e.data["reason"] for e in per_tick[0] if e.kind == "limit"] == ["cascade depth"]
    assert finite_state(w)  # doubling on every bounce saturates at the clamp, never inf
    assert max(w.variables.values()) <= 1e15
    w.close()


def test_timer_spawning_every_tick_stops_at_the_live_entity_cap():
    blob = {"name": "blob", "kind": "blob", "sensor": True, "static": True, "shape": {"type": "sphere", "radius": 0.1}}
    w = worldgen.World.from_spec(world_dict(templates=[blob], rules=[
        rule("spawner", on=EVERY_TICK, do=[{"do": "spawn", "template": "blob"}] * 32)]))
    per_tick = run_bounded(w, 100, max_events_per_tick=4 * MAX_EFFECTS_PER_TICK)
    assert len(w.entities) == MAX_LIVE_ENTITIES
    limits = [e for events in per_tick for e in events if e.kind == "limit"]
    assert limits and {e.data["reason"] for e in limits} == {"live entities"}
    w.close()


def test_spawn_chain_reaction_stops_at_the_live_entity_cap():
    """Every spawn enters a zone, every entry spawns two more: exponential until the cap."""
    zone = {"name": "zone", "kind": "zone", "sensor": True, "static": True,
            "shape": {"type": "box", "size": [50, 50, 50]}}
    blob = {"name": "blob", "kind": "blob", "tags": ["blob"], "static": True,
            "shape": {"type": "box", "size": [.1, .1, .1]}}
    w = worldgen.World.from_spec(world_dict(zone, templates=[blob], rules=[
        rule("seed", do=[{"do": "spawn", "template": "blob"}]),
        rule("chain", on={"event": "enter", "zone": "zone", "tag": "blob"},
             do=[{"do": "spawn", "template": "blob"}] * 2),
    ]))
    per_tick = run_bounded(w, 30, max_events_per_tick=MAX_LIVE_ENTITIES + 4 * MAX_EFFECTS_PER_TICK)
    assert len(w.entities) == MAX_LIVE_ENTITIES
    reasons = {e.data["reason"] for events in per_tick for e in events if e.kind == "limit"}
    assert reasons & {"live entities", "effects per tick"}
    assert all(sum(e.kind == "rule" for e in events) <= MAX_EFFECTS_PER_TICK for events in per_tick)
    w.close()


def test_overlapping_dynamic_spawns_stay_finite():
    """Balls spawned into each other every tick: large penetration forces, but finite and bounded."""
    tpl = ball(name="drop", tags=["drop"], position=[0, 0, 1])
    w = worldgen.World.from_spec(world_dict(templates=[tpl], rules=[
        rule("rain", on=EVERY_TICK, do=[{"do": "spawn", "template": "drop"}] * 6),
        rule("clack", on={"event": "collision", "a": "drop", "b": "drop"}, do=[{"do": "sound"}]),
    ]))
    run_bounded(w, 60, max_events_per_tick=20_000)
    assert len(w.entities) == 1 + 6 * 60
    assert finite_state(w)
    w.close()


def test_spawn_and_destroy_churn_stays_bounded():
    tpl = ball(name="drop", tags=["drop"], position=[0, 0, 1])
    w = worldgen.World.from_spec(world_dict(templates=[tpl], rules=[
        rule("sweep", on=EVERY_TICK, do=[{"do": "destroy", "target": "tag:drop"}]),
        rule("rain", on=EVERY_TICK, do=[{"do": "spawn", "template": "drop"}] * 16),
    ]))
    t = time.perf_counter()
    run_bounded(w, 300, max_events_per_tick=4 * MAX_EFFECTS_PER_TICK)
    assert len(w.entities) <= 1 + 16
    assert time.perf_counter() - t < 30
    assert finite_state(w)
    w.close()


def test_reset_on_every_start_keeps_running():
    w = worldgen.World.from_spec(world_dict(ball(), rules=[rule("again", do=[{"do": "reset"}])]))
    run_bounded(w, 30, max_events_per_tick=16)
    assert w.episode >= 29 and finite_state(w)
    w.close()


def test_huge_impulses_on_a_feather_stay_finite():
    w = worldgen.World.from_spec(world_dict(ball(mass=1e-9), rules=[
        rule("kick", on=EVERY_TICK, do=[{"do": "impulse", "target": "ball", "impulse": [1e6, -1e6, 1e6]}]),
        rule("heavy", on=EVERY_TICK, do=[{"do": "set_gravity", "gravity": [1000, -1000, 1000]}]),
    ]))
    run_bounded(w, 60, max_events_per_tick=16)
    assert finite_state(w)
    w.close()


def tick_seconds_in_subprocess(spec_code: str, timeout: float) -> float:
    """Seconds one step of the world built by ``spec_code`` (defining ``spec``) takes, or inf past ``timeout``."""
    code = ("import time, worldgen\nfrom worldgen.io import validate_spec\n" + textwrap.dedent(spec_code)
            + "\nw = worldgen.World(validate_spec(spec))\nt = time.perf_counter()\nw.step()\n"
            "print(time.perf_counter() - t)\n")
    try:
        out = run_python(code, timeout=timeout)
    except subprocess.TimeoutExpired:
        return INF
    assert out.returncode == 0, out.stderr[-2000:]
    return float(out.stdout.split()[-1])


@pytest.mark.slow
def test_expensive_conditions_cannot_stall_a_tick():
    """2000 sensors enter a zone at once; one rule listens with a condition of 27 count() calls.

    Every (event, rule) pair evaluates the condition, and every count() walks all 2000
    entities: 2000 x 27 x 2000 ≈ 10⁸ entity checks in one tick (about a minute). The
    effect and cascade caps do not apply, because a false condition fires nothing.
    """
    seconds = tick_seconds_in_subprocess("""
        blobs = [{"name": f"b{i}", "kind": "blob", "tags": ["blob"], "sensor": True, "static": True,
                  "shape": {"type": "sphere", "radius": 0.1}, "position": [i % 40 * 0.1, i // 40 * 0.1, 1]}
                 for i in range(1998)]
        zone = {"name": "zone", "kind": "zone", "sensor": True, "static": True,
                "shape": {"type": "box", "size": [20, 20, 20]}}
        spec = {"entities": [zone, *blobs], "rules": [{"name": "r", "on": {"event": "enter", "zone": "zone",
                "tag": "blob"}, "when": "+".join(["count(tag=blob,moving)"] * 27) + " < 0", "do": [{"do": "end"}]}]}
    """, timeout=5)
    assert seconds < 2, f"one tick took {seconds:.1f} s"


@pytest.mark.slow
def test_effects_fanning_out_to_every_tagged_entity_stay_cheap():
    """256 set_property effects per tick, each on tag:blob with 1000 dynamic bodies: 256 000 edits a tick."""
    seconds = tick_seconds_in_subprocess("""
        blobs = [{"name": f"b{i}", "kind": "blob", "tags": ["blob"], "shape": {"type": "sphere", "radius": 0.1},
                  "position": [i % 40, i // 40, 1]} for i in range(1000)]
        effect = {"do": "set_property", "target": "tag:blob", "property": "friction", "value": 0.5}
        spec = {"entities": blobs, "rules": [{"name": f"r{i}", "on": {"event": "timer", "every": 0.001},
                                              "do": [effect] * 32} for i in range(8)]}
    """, timeout=30)
    assert seconds < 0.25, f"one tick took {seconds:.2f} s"


@pytest.mark.parametrize("actions, fragment", [
    ({"p1": {"throw": NAN}}, "p1.throw"),
    ({"p1": {"throw": INF}}, "p1.throw"),
    ({"p1": {"aim": 1e308}}, "p1.aim"),
    ({"p1": {"throw": "yes"}}, "p1.throw"),
    ({"p1": {"throw": [1]}}, "p1.throw"),
    ({"p1": {"throw": 0.5}}, "button"),
    ({"p1": {"jump": 1}}, "controls: aim, throw"),
    ({"mallory": {"throw": 1}}, "players: p1"),
    ({"p1": [("throw", 1)]}, "p1"),
    ([("p1", {"throw": 1})], "actions must be"),
])
def test_hostile_actions_are_refused_before_anything_moves(actions, fragment):
    w = worldgen.example("bowling")
    w.step(ticks=3)
    before = w.state_hash()
    with pytest.raises(ValueError) as info:
        w.step(actions, ticks=5)
    assert fragment in str(info.value)
    assert w.state_hash() == before and w.tick == 3
    w.close()


def test_capped_hostile_world_saves_and_loads_exactly(tmp_path):
    """A world at the entity cap, with destroyed entities behind it, still round-trips through a file."""
    blob = {"name": "blob", "kind": "blob", "tags": ["blob"], "sensor": True, "static": True,
            "shape": {"type": "sphere", "radius": 0.1}}
    drop = ball(name="drop", tags=["drop"], position=[0, 0, 1])
    w = worldgen.World.from_spec(world_dict(templates=[blob, drop], rules=[
        rule("spawner", on=EVERY_TICK, do=[{"do": "spawn", "template": "blob"}] * 30
             + [{"do": "spawn", "template": "drop"}]),
        rule("sweep", on={"event": "timer", "every": 0.1}, do=[{"do": "destroy", "target": "tag:drop"}]),
    ]))
    w.step(ticks=80)
    assert len(w.entities) == MAX_LIVE_ENTITIES
    path = tmp_path / "capped.json"
    w.save(str(path))
    loaded = worldgen.load(str(path))
    w.step(ticks=20)
    loaded.step(ticks=20)
    assert loaded.state_hash() == w.state_hash()
    w.close()
    loaded.close()


# ---------------------------------------------------------------- 4. hostile files


def load_error(path) -> str:
    with pytest.raises(SpecError) as info:
        worldgen.load(str(path))
    return str(info.value)


@pytest.mark.parametrize("content, fragments", [
    (b"hello, world", ["not valid JSON"]),
    (b"", ["not valid JSON"]),
    (bytes(random.Random(7).randrange(256) for _ in range(4096)), ["not valid JSON"]),
    (b"[1, 2, 3]", ["expected a JSON object, got list"]),
    (b'"a world"', ["expected a JSON object, got str"]),
    (b"[" * 100_000 + b"]" * 100_000, ["not valid JSON"]),
    (b'{"metadata": ' * 100_000 + b"{}" + b"}" * 100_000, ["not valid JSON"]),
    (b'{"entities": [' + b",".join([b"{}"] * 10**7) + b"]}", ["JSON values", "over the cap"]),
    (b'{"physics": {"gravity": [NaN, 0, 0]}}', ["physics.gravity.0", "finite"]),
    (b'{"metadata": {"seed": 1' + b"0" * 5000 + b"}}", ["not valid JSON"]),
    (b'{"entites": []}', ["entites: unknown field 'entites'", "did you mean 'entities'?"]),
    (b'{"format": "worldgen.world", "version": true, "spec": {}, "state": {}}', ["version", "unsupported"]),
], ids=["text", "empty", "binary", "array", "string", "deep arrays", "deep objects", "ten million entities",
        "NaN literal", "5000-digit integer", "unknown top-level field", "boolean version"])
def test_hostile_file_gives_spec_error(tmp_path, content, fragments):
    path = tmp_path / "world.json"
    path.write_bytes(content)
    t = time.perf_counter()
    message = load_error(path)
    assert time.perf_counter() - t < 10
    assert_mentions(message, str(path), *fragments)
    assert path.read_bytes() == content  # a failed load changes nothing


def test_seventy_megabyte_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.truncate(70 * 1024 * 1024)  # sparse: costs no disk
    assert_mentions(load_error(path), "over the", "byte cap")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A saved bowling world, mid-roll, as the parsed JSON document."""
    path = tmp_path_factory.mktemp("saved") / "bowling.json"
    w = worldgen.example("bowling")
    w.step({"p1": {"throw": 1}}, ticks=40)
    w.save(str(path))
    w.close()
    return json.loads(path.read_text())


def write_doc(tmp_path, doc, name="world.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc))  # allow_nan: NaN/Infinity literals stay hostile
    return path


def test_saved_world_loads_and_continues(tmp_path, saved):
    w = worldgen.load(str(write_doc(tmp_path, saved)))
    assert w.tick == 40
    w.step(ticks=30)
    assert finite_state(w)
    w.close()


CORRUPT_STATES = {
    "blob not base64": (lambda d: d["state"].update(blob="*** not base64 ***"), ["state.blob", "base64"]),
    "blob base64 of garbage": (lambda d: d["state"].update(blob=base64.b64encode(b"garbage" * 100).decode()),
                               ["state.blob", "not a Bullet state"]),
    "entities disagree with creation order": (lambda d: d["state"]["creation_order"].pop(),
                                              ["state.creation_order", "does not match"]),
    "renamed in creation order": (lambda d: d["state"]["creation_order"].__setitem__(0, "ghost"),
                                  ["state.creation_order", "does not match"]),
    "unknown state field": (lambda d: d["state"].update(mood="happy"),
                            ["state.mood", "unknown field 'mood'", "valid fields: tick"]),
    "unknown top-level field": (lambda d: d.update(extra=1), ["extra: unknown field", "format, version, spec, state"]),
    "wrong version": (lambda d: d.update(version=99), ["version", "unsupported version 99"]),
    "no state": (lambda d: d.pop("state"), ["state: missing"]),
    "state not an object": (lambda d: d.update(state=[1, 2]), ["state: expected a JSON object"]),
    "bad spec": (lambda d: d["spec"]["entities"][0].update(mass=-1), ["entities.0 ('floor').mass"]),
    "negative tick": (lambda d: d["state"].update(tick=-5), ["state.tick", "greater than or equal to 0"]),
    "astronomic tick": (lambda d: d["state"].update(tick=10**30), ["state.tick", "less than"]),
    "nan gravity": (lambda d: d["state"].update(gravity=[NAN, 0, 0]), ["state.gravity.0", "finite"]),
    "infinite event id": (lambda d: d["state"]["events"][0].update(id=INF), ["state.events", "corrupt"]),
    "event without kind": (lambda d: d["state"]["events"][0].pop("kind"), ["state.events", "corrupt"]),
    "variables of another world": (lambda d: d["state"].update(variables=[["lives", 3]]),
                                   ["state.variables", "do not match"]),
    "hostile saved entity": (lambda d: d["state"]["entities"][0]["spec"].update(mass=NAN),
                             ["state.entities.0.spec.mass", "finite"]),
    "joint to a ghost": (lambda d: d["state"]["joints"].append(
        [{"name": "chain", "type": "point", "parent": "world", "child": "ghost"}, 0]),
        ["state: cannot be restored", "KeyError", "ghost"]),
}


@pytest.mark.parametrize("corrupt, fragments", CORRUPT_STATES.values(), ids=CORRUPT_STATES.keys())
def test_corrupt_saved_world_gives_spec_error(tmp_path, saved, corrupt, fragments):
    doc = copy.deepcopy(saved)
    corrupt(doc)
    path = write_doc(tmp_path, doc)
    before = path.read_bytes()
    assert_mentions(load_error(path), *fragments)
    assert path.read_bytes() == before


def test_corrupt_engine_blobs_never_crash_the_interpreter(tmp_path, saved):
    """Bullet's loader trusts its input: flipped bytes segfault it. The load must survive them all.

    Runs in a subprocess: if a blob got through to this process's engine, only that
    subprocess would die and this test would fail with its exit status.
    """
    blob = base64.b64decode(saved["state"]["blob"])
    other = worldgen.example("dominoes")
    other_blob = other.snapshot().blob
    other.close()
    rnd = random.Random(2024)
    cases = {"header only": b"BULLETd-v326", "header then garbage": b"BULLETd-v326" + rnd.randbytes(5000),
             "truncated": blob[: len(blob) // 2], "another world's blob": other_blob}
    for k in range(12):
        flipped = bytearray(blob)
        for _ in range(rnd.choice([1, 4, 16])):
            flipped[rnd.randrange(12, len(flipped))] = rnd.randrange(256)
        cases[f"flipped {k}"] = bytes(flipped)
    paths = {}
    for name, data in cases.items():
        doc = copy.deepcopy(saved)
        doc["state"]["blob"] = base64.b64encode(data).decode()
        paths[name] = str(write_doc(tmp_path, doc, f"{len(paths)}.json"))
    out = run_python(f"""
        import faulthandler, json, sys, worldgen
        from worldgen.io import SpecError
        faulthandler.enable()  # a crash shows where it happened
        results = {{}}
        for name, path in {paths!r}.items():
            print("loading", name, file=sys.stderr, flush=True)
            try:
                w = worldgen.load(path)
                w.step(ticks=10)
                results[name] = "loaded"
            except SpecError as e:
                results[name] = str(e)
        print(json.dumps(results))
    """, timeout=300)
    assert out.returncode == 0, f"the loading process died (status {out.returncode}):\n{out.stderr[-3000:]}"
    results = json.loads(out.stdout.splitlines()[-1])
    for name in ("header only", "header then garbage", "truncated", "another world's blob"):
        assert_mentions(results[name], "state: ")
    assert any("crashed the physics engine" in r for r in results.values()), results  # the guard did work


def test_without_fork_the_trial_runs_in_a_fresh_interpreter(tmp_path, saved, monkeypatch):
    """Where ``os.fork`` is missing (Windows) the trial restore spawns an interpreter instead."""
    monkeypatch.delattr(os, "fork")
    good = write_doc(tmp_path, saved, "good.json")
    w = worldgen.load(str(good))
    assert w.tick == 40
    w.close()
    bad = copy.deepcopy(saved)
    bad["state"]["joints"].append([{"name": "chain", "type": "point", "parent": "world", "child": "ghost"}, 0])
    assert_mentions(load_error(write_doc(tmp_path, bad, "bad.json")), "state: cannot be restored", "ghost")


@pytest.mark.parametrize("kind", ["point", "hinge", "fixed", "slider"])
def test_joint_to_the_world_builds_and_runs(kind):
    spec = validate_spec(world_dict({"name": "bob", "kind": "ball", "shape": {"type": "sphere", "radius": 0.1},
                                     "position": [0, 0, 1]},
                                    joints=[{"name": "rod", "type": kind, "child": "bob",
                                             "parent_anchor": [0, 0, 1.5], "child_anchor": [0, 0, 0.5]}]))
    w = worldgen.World(spec)
    w.step(ticks=30)
    assert finite_state(w)
    w.close()


def test_saved_world_with_joints_loads_and_continues_exactly(tmp_path):
    w = worldgen.example("cradle")
    w.step(ticks=30)
    path = tmp_path / "cradle.json"
    w.save(str(path))
    loaded = worldgen.load(str(path))
    w.step(ticks=60)
    loaded.step(ticks=60)
    assert loaded.state_hash() == w.state_hash()
    w.close()
    loaded.close()


def test_failed_save_keeps_the_old_file(tmp_path, monkeypatch):
    import worldgen.io as wio

    path = tmp_path / "w.json"
    w = worldgen.example("bowling")
    w.save(str(path))
    before = path.read_bytes()

    def broken_dump(doc, f):
        f.write('{"format": ')
        raise OSError("disk full")

    monkeypatch.setattr(wio.json, "dump", broken_dump)
    with pytest.raises(OSError):
        w.save(str(path))
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]
    w.close()


def test_bad_edit_loses_nothing():
    w = worldgen.example("bowling")
    w.step({"p1": {"throw": 1}}, ticks=20)
    spec, state = w.spec.model_dump_json(), w.state_hash()
    with pytest.raises(SpecError):
        w.add_entity(name="ball", kind="ball")  # name taken
    with pytest.raises(SpecError):
        w.add_entity(name="rock", kind="rock", mass=NAN)
    with pytest.raises(SpecError):
        w.add_rule(name="evil", on={"event": "start"}, when="__import__('os')", do=[{"do": "end"}])
    with pytest.raises(SpecError):
        w.add_variable("lives", value=INF)
    assert w.spec.model_dump_json() == spec and w.state_hash() == state
    w.step(ticks=5)
    w.close()


# ---------------------------------------------------------------- 5. error messages: the field, and what is valid


def message_for(data) -> str:
    return str(spec_error(data))


def test_message_unknown_field_in_an_entity_lists_the_valid_fields():
    m = message_for(world_dict(ball(mas=2)))
    assert_mentions(m, "entities.1 ('ball').mas", "unknown field 'mas'", "did you mean 'mass'?",
                    "valid fields: name, kind, tags, shape")


def test_message_wrong_shape_type_lists_the_shapes():
    m = message_for(world_dict(ball(shape={"type": "cone", "radius": 1})))
    assert_mentions(m, "entities.1 ('ball').shape", "'cone'", "'box', 'sphere', 'cylinder', 'capsule', 'plane'")


def test_message_negative_radius_names_entity_field_and_bound():
    m = message_for(world_dict(ball(shape={"type": "sphere", "radius": -0.1})))
    assert_mentions(m, "entities.1 ('ball').shape.radius", "greater than 0")
    assert ".sphere." not in m  # pydantic's union bookkeeping is not shown


def test_message_unknown_key_name_lists_the_keys():
    m = message_for(world_dict(ball(), players=[{"name": "p1", "controls": [
        {"name": "jump", "target": "ball", "apply": "impulse", "direction": [0, 0, 1], "keys": ["spacebar"]}]}]))
    assert_mentions(m, "players.0 ('p1').controls.0 ('jump').keys", "unknown key 'spacebar'",
                    "did you mean 'space'?", "valid keys:", "left shift", "f12")


def test_message_rule_naming_a_missing_tag_lists_the_tags():
    m = message_for(world_dict(ball(), rules=[rule("knock", on={"event": "fallen", "tag": "pins"})]))
    assert_mentions(m, "rules.0 ('knock').on.tag", "no tag 'pins'", "tags: ball, ground")


def test_message_condition_with_unknown_variable_lists_the_variables():
    m = message_for(world_dict(variables={"score": {}, "lives": {}}, rules=[rule("win", when="scor >= 10")]))
    assert_mentions(m, "rules.0 ('win').when", "unknown variable 'scor'", "did you mean 'score'?",
                    "declared variables: lives, score")


def test_message_condition_with_import_names_rule_and_reason():
    m = message_for(world_dict(variables={"score": {}}, rules=[rule("pwn", when="score > 1 or __import__('os')")]))
    assert_mentions(m, "rules.0 ('pwn').when", "'__import__'", "names may not start with '_'")


def test_message_duplicate_entity_name_points_at_both():
    m = message_for(world_dict(ball(), ball(position=[1, 0, 0.1])))
    assert_mentions(m, "entities.2 ('ball').name", "used twice", "also entities.1")


def test_message_unknown_rule_event_lists_the_events():
    m = message_for(world_dict(rules=[rule("r", on={"event": "explode"})]))
    assert_mentions(m, "rules.0 ('r').on", "'explode'", "'start', 'collision'")


def test_message_unknown_effect_field_lists_the_fields():
    m = message_for(world_dict(variables={"score": {}}, rules=[rule("r", do=[{"do": "add", "var": "score",
                                                                              "amount": 1}])]))
    assert_mentions(m, "rules.0 ('r').do.0.amount", "unknown field 'amount'", "valid fields: do, var, value")


def test_message_control_on_missing_entity_lists_the_entities():
    m = message_for(world_dict(ball(), players=[{"name": "p1", "controls": [
        {"name": "push", "target": "bal", "apply": "force"}]}]))
    assert_mentions(m, "players.0 ('p1').controls.0 ('push').target", "no entity 'bal'", "did you mean 'ball'?",
                    "entities: ball, ground")


# ---------------------------------------------------------------- 6. property tests


def _spec_models() -> list[type[SpecModel]]:
    return [m for m in vars(specmod).values()
            if isinstance(m, type) and issubclass(m, SpecModel) and m is not SpecModel]


FIELD_NAMES = sorted({f for m in _spec_models() for f in m.model_fields})
WORDS = sorted({*FIELD_NAMES, "sphere", "box", "plane", "cylinder", "capsule", "start", "collision", "timer",
                "variable", "enter", "leave", "fallen", "tilted", "control", "out_of_bounds", "add", "set", "spawn",
                "destroy", "impulse", "set_property", "set_gravity", "sound", "message", "reset", "end", "ball",
                "ground", "score", "pin", "tag:ball", "$subject", "$other", "world", "hinge", "point", "fixed",
                "slider", "button", "axis", "force", "velocity", "move", "space", "#ff0000", "score > 1",
                "__import__('os')", "ball.x", "1e999", "win", "follow", "mass", "color"})

hostile_numbers = st.sampled_from([NAN, INF, -INF, 1e308, -1e308, 5e-324, -0.0, 1e12, 1e13, 10**30, -(10**30),
                                   2**63, 2**64, 10**400, 0, -1, 1, 0.5])
scalars = (st.none() | st.booleans() | st.integers() | st.floats() | hostile_numbers
           | st.sampled_from(WORDS) | st.text(max_size=12))
json_like = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=5) | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=6),
                                                             kids, max_size=6),
    max_leaves=40,
)
names = st.sampled_from(["ball", "ground", "pin", "zone", "p1", "score", "a", "_x", "1bad", "x" * 70])


def _record(model, overrides: dict) -> st.SearchStrategy:
    """Dicts shaped like ``model``: a few of its fields, each set to something hostile or plain."""
    fields = sorted(model.model_fields)
    return st.fixed_dictionaries({}, optional={f: overrides.get(f, json_like) for f in fields})


entity_like = st.builds(lambda base, name, kind: {**base, "name": name, "kind": kind},
                        _record(specmod.Entity, {"shape": st.builds(dict, type=st.sampled_from(
                            ["box", "sphere", "cylinder", "capsule", "plane", "cone"]), radius=scalars)}),
                        names, st.sampled_from(["ball", "pin", "floor", "Bad Kind"]))
rule_like = st.builds(lambda base, name, on, do: {**base, "name": name, "on": on, "do": do},
                      _record(specmod.Rule, {"when": st.sampled_from(WORDS) | st.text(max_size=20)}), names,
                      st.builds(dict, event=st.sampled_from(WORDS), tag=names, every=scalars, name=names),
                      st.lists(st.builds(dict, do=st.sampled_from(WORDS), var=names, value=scalars,
                                         template=names, target=names), max_size=3))
world_like = st.fixed_dictionaries({}, optional={
    "entities": st.lists(entity_like, max_size=4), "templates": st.lists(entity_like, max_size=2),
    "rules": st.lists(rule_like, max_size=3), "variables": st.dictionaries(names, json_like, max_size=3),
    "physics": json_like, "players": json_like, "joints": json_like, "goals": json_like, "metadata": json_like,
    **{k: json_like for k in ("cameras", "style", "extra")},
})


def check_outcome(data) -> WorldSpec | None:
    """validate_spec(data) is a WorldSpec or raises SpecError; a valid one also round-trips."""
    try:
        spec = validate_spec(data)
    except SpecError as e:
        assert str(e) and len(str(e)) < 20_000
        return None
    assert isinstance(spec, WorldSpec)
    assert validate_spec(spec.model_dump(mode="json")) == spec
    return spec


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@FUZZ
@given(st.one_of(json_like, world_like, st.dictionaries(st.sampled_from(FIELD_NAMES), json_like, max_size=5)))
def test_fuzz_arbitrary_json_values_give_spec_or_spec_error(data):
    check_outcome(data)
    try:
        text = json.dumps(data)
    except ValueError:  # ints beyond str()'s digit limit
        return
    check_outcome(text)


@FUZZ
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_fuzz_arbitrary_text_gives_spec_or_spec_error(text):
    check_outcome(text)


@FUZZ
@given(world_like)
def test_fuzz_valid_results_build_and_run(data):
    spec = check_outcome(data)
    if spec is not None:
        w = worldgen.World(spec)
        w.step(ticks=5)
        assert finite_state(w)
        w.close()


BOWLING = worldgen.example_spec("bowling").model_dump(mode="json")


def _paths(node, prefix=()):
    """Every path into ``node`` (containers and leaves alike)."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


BOWLING_PATHS = [p for p in _paths(BOWLING) if p]


def hostile_like(old) -> st.SearchStrategy:
    """A replacement for ``old``: mostly of its own type (so the spec may stay valid), sometimes anything."""
    if isinstance(old, bool):
        typed = st.booleans()
    elif isinstance(old, (int, float)):
        typed = hostile_numbers | st.floats(-1e5, 1e5) | st.floats(-2, 2) | st.integers(-10, 10)
    elif isinstance(old, str):
        typed = st.sampled_from(WORDS) | st.text(max_size=12)
    elif isinstance(old, list):
        typed = st.lists(scalars, max_size=4)
    else:
        typed = json_like
    return typed | typed | typed | scalars | json_like


@st.composite
def mutated_bowling(draw):
    doc = copy.deepcopy(BOWLING)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(BOWLING_PATHS))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed it
        if not isinstance(parent, (dict, list)):
            continue  # an earlier mutation made it a string, whose characters index but cannot be set
        op = draw(st.sampled_from(["set", "set", "set", "delete", "duplicate", "unknown"]))
        if op == "set":
            parent[path[-1]] = draw(hostile_like(parent[path[-1]]))
        elif op == "delete":
            del parent[path[-1]]
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        elif op == "unknown" and isinstance(parent[path[-1]], dict):
            parent[path[-1]][draw(st.text(min_size=1, max_size=8))] = draw(scalars)
    return doc


def _mutation_run(doc):
    spec = check_outcome(doc)
    if spec is None:
        return
    w = worldgen.World(spec)
    throw = w.controls.get("p1", {}).get("throw")
    try:
        for t in range(30):
            # pressed as hard as its (possibly mutated) range allows: the press itself is valid
            w.step({"p1": {"throw": throw.range[1]}} if t == 2 and throw is not None else None)
        assert finite_state(w)
    finally:
        w.close()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_bowling())
def test_fuzz_mutated_example_gives_spec_error_or_running_world(doc):
    _mutation_run(doc)


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(mutated_bowling())
def test_fuzz_mutated_example_at_volume(doc):
    _mutation_run(doc)


@st.composite
def mutated_document(draw, doc):
    """``doc`` with one to three leaves (or containers) of its ``state`` replaced, removed or duplicated."""
    doc = copy.deepcopy(doc)
    paths = [("state", *p) for p in _paths(doc["state"]) if p and p[0] != "blob"]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            old = parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            continue
        op = draw(st.sampled_from(["set", "set", "set", "delete", "duplicate"]))
        if op == "set":
            parent[path[-1]] = draw(hostile_like(old))
        elif op == "delete":
            del parent[path[-1]]
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(old))
    return doc


def _load_run(tmp_path, doc):
    path = write_doc(tmp_path, doc, "fuzzed.json")
    try:
        w = worldgen.load(str(path))
    except SpecError as e:
        assert str(e)
        return
    try:
        w.step(ticks=10)
        assert finite_state(w)
    finally:
        w.close()


def test_fuzz_mutated_saved_state_gives_spec_error_or_running_world(tmp_path, saved):
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(mutated_document(saved))
    def run(doc):
        _load_run(tmp_path, doc)

    run()


JOINT_WORLD = world_dict(
    {"name": "a", "kind": "crate", "shape": {"type": "box", "size": [0.2, 0.2, 0.2]}, "position": [0, 0, 1]},
    {"name": "b", "kind": "crate", "shape": {"type": "box", "size": [0.2, 0.2, 0.2]}, "position": [0.5, 0, 1]},
    {"name": "c", "kind": "ball", "shape": {"type": "sphere", "radius": 0.1}, "position": [0, 0.5, 1], "mass": 1e-3},
    {"name": "post", "kind": "post", "static": True, "shape": {"type": "box", "size": [0.1, 0.1, 2]},
     "position": [0, -1, 1]},
)
joint_coord = st.floats(-2, 2) | st.sampled_from([0.0, 1e4, -1e4, 1e-300, NAN])
joints = st.lists(st.fixed_dictionaries({
    "name": st.sampled_from(["j1", "j2", "j3"]),
    "type": st.sampled_from(["hinge", "point", "fixed", "slider"]),
    "parent": st.sampled_from(["a", "b", "c", "post"]),  # "world": see test_joint_to_the_world_builds
    "child": st.sampled_from(["a", "b", "c", "post", "ground"]),
    "parent_anchor": st.tuples(joint_coord, joint_coord, joint_coord),
    "child_anchor": st.tuples(joint_coord, joint_coord, joint_coord),
    "axis": st.tuples(joint_coord, joint_coord, joint_coord),
    "max_force": st.sampled_from([1e-9, 1.0, 1e6, 1e9, 0.0, INF]),
}), min_size=1, max_size=3)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(joints)
def test_fuzz_joints_give_spec_error_or_running_world(js):
    spec = check_outcome({**JOINT_WORLD, "joints": js})
    if spec is None:
        return
    w = worldgen.World(spec)
    try:
        w.step(ticks=30)
        assert finite_state(w)
    finally:
        w.close()


EXPR_TOKENS = ["score", "lives", "time", "tick", "ball", "pin", "zone", "and", "or", "not", "true", "false", "(", ")",
               ",", "+", "-", "*", "/", "%", "**", "//", "==", "!=", "<", "<=", ">", ">=", "=", ".", "[", "]", "'",
               '"', "0", "1", "2.5", ".5", "1e3", "1e999", "9" * 40, "-1e12", "nan", "inf", "__import__",
               "__class__", "_x", "lambda", "x", "exec", "open", "count", "tag", "in", "fallen", "moving",
               *expr.FUNCTIONS]
expressions = (st.lists(st.sampled_from(EXPR_TOKENS), min_size=1, max_size=25).map(" ".join)
               | st.text(alphabet="abcdeilnorstx_()+-*/%<>=!., 0123456789'", max_size=60))
EXPR_WORLD = world_dict(
    ball(), {"name": "pin", "kind": "pin", "tags": ["pin"], "shape": {"type": "cylinder", "radius": 0.05,
                                                                      "height": 0.3}, "position": [1, 0, 0.15]},
    {"name": "zone", "kind": "zone", "sensor": True, "static": True, "shape": {"type": "box", "size": [2, 2, 2]}},
    variables={"score": {}, "lives": {"value": 3}},
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(expressions, st.sampled_from(["when", "value", "goal"]))
def test_fuzz_expressions_give_spec_error_or_running_world(source, place):
    doc = copy.deepcopy(EXPR_WORLD)
    effect = {"do": "add", "var": "score", "value": source if place == "value" else 1}
    doc["rules"] = [rule("r", on=EVERY_TICK, do=[effect], **({"when": source} if place == "when" else {}))]
    if place == "goal":
        doc["goals"] = [{"name": "g", "when": source}]
    spec = check_outcome(doc)
    if spec is None:
        return
    w = worldgen.World(spec)
    try:
        w.step(ticks=10)
        assert finite_state(w)
    finally:
        w.close()


def test_key_names_used_in_messages_are_the_accepted_ones():
    """The keys a message lists as valid are accepted (the message tells the truth)."""
    controls = [{"name": f"c{i}", "keys": [k]} for i, k in enumerate(KEY_NAMES)]
    players = [{"name": f"p{n}", "controls": controls[n * 32:(n + 1) * 32]} for n in range(len(controls) // 32 + 1)]
    validate_spec({"players": players})
