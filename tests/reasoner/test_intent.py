"""Prompt understanding: a table of prompts across every mechanic and twist, and hostile input."""

from __future__ import annotations

import dataclasses

import pytest

from reasoner import knowledge as kb
from reasoner.intent import (
    CHANGES, MAX_CHARS, MAX_COUNT, MECHANICS, AfterCountTwist, AtTimeTwist, EveryTwist, Intent, WhenTwist, parse,
)

G = 9.81
DOWN = (0.0, 0.0, -G)

# prompt → expected fields. counts: these entries at least; gravity None means "not said";
# twists: ("every", seconds, what) / ("at", seconds, what, target, value) / ("after", count, counted, what,
# target, value) / ("when", what, target). Fields not given are not checked.
CASES: list[tuple[str, dict]] = [
    # bowling
    ("a bowling alley with ten pins; the score counts fallen pins",
     dict(counts={"pin": 10, "lane": 1}, top="bowling", gravity=None, players=1, time=None)),
    ("Bowling: 10 skittles at the end of a lane and a heavy ball", dict(counts={"pin": 10, "ball": 1}, top="bowling")),
    ("knock down twelve bowling pins with a bowling ball in 30 seconds",
     dict(counts={"pin": 12, "bowling ball": 1}, time=30.0, top="bowling")),
    # billiards
    ("a pool table with 15 billiard balls and a cue ball; two players",
     dict(counts={"billiard ball": 15, "cue ball": 1, "pool table": 1}, players=2, top="billiards")),
    ("snooker on the moon", dict(gravity=(0.0, 0.0, -1.62), top="billiards")),
    ("play 8-ball pool against a friend", dict(players=2, top="billiards")),
    # dominoes
    ("a curving line of forty wooden dominoes", dict(counts={"domino": 40}, top="dominoes")),
    ("Set up a chain reaction of 100 dominoes!", dict(counts={"domino": 100}, top="dominoes")),
    # stacking
    ("a jenga tower of 54 blocks; don't let it fall", dict(counts={"block": 54}, top="stacking")),
    ("stack a dozen crates as high as you can in 2 minutes", dict(counts={"crate": 12}, time=120.0, top="stacking")),
    # projectile
    ("a slingshot fires stones at a pyramid of 10 cans", dict(counts={"can": 10, "slingshot": 1}, top="projectile")),
    ("shoot cannonballs from a cannon at a castle wall", dict(counts={"cannon": 1}, top="projectile")),
    ("a catapult throws rocks at targets", dict(counts={"catapult": 1}, top="projectile")),
    ("throw 5 balls at a stack of tin cans at the fair", dict(counts={"ball": 5}, top="projectile")),
    # goal sports
    ("a soccer field with two goals, 2 players versus", dict(counts={"goal": 2, "field": 1}, players=2,
                                                            top="goal_sport")),
    ("basketball: shoot hoops for 60 seconds", dict(time=60.0, top="goal_sport")),
    ("air hockey for two players, first to 7 goals wins", dict(players=2, win=7, top="goal_sport")),
    ("ice hockey on a rink with a puck, 1v1", dict(counts={"rink": 1, "puck": 1}, players=2, top="goal_sport")),
    # putting
    ("mini golf: putt the golf ball into the hole", dict(counts={"golf ball": 1, "hole": 1}, top="putting")),
    ("a putting green with 3 holes and sticky grass", dict(counts={"hole": 3}, friction=1.2, top="putting")),
    # ramps and marble runs
    ("a marble run with five ramps and 20 glass marbles", dict(counts={"ramp": 5, "marble": 20}, top="ramp")),
    ("roll a toy car down a ramp on mars", dict(gravity=(0.0, 0.0, -3.71), top="ramp")),
    # plinko
    ("plinko: drop a ball through 50 pegs into 9 slots", dict(counts={"peg": 50, "slot": 9}, top="plinko")),
    ("a pachinko machine in neon style", dict(top="plinko", style=["neon"])),
    # pendulums
    ("a newton's cradle with five steel balls", dict(counts={"steel ball": 5}, top="pendulum")),
    ("a pendulum swings and knocks over a row of 12 dominoes", dict(counts={"domino": 12}, top="pendulum")),
    # levers
    ("a seesaw on a fulcrum launches a ball into a bucket", dict(counts={"seesaw": 1, "fulcrum": 1}, top="lever")),
    # sliding
    ("curling on an ice rink with 8 curling stones, two teams", dict(counts={"curling stone": 8}, players=2,
                                                                     top="sliding")),
    ("shuffleboard: slide 4 pucks down a long table", dict(counts={"puck": 4}, top="sliding")),
    # tilt mazes
    ("a tilt maze with a marble and a hole, 90 second time limit", dict(time=90.0, top="tilt_maze")),
    ("tilt the board to roll the marble through the labyrinth", dict(top="tilt_maze")),
    # slopes
    ("sled down a snowy hill, 3 players race", dict(players=3, top="slope")),
    # push to target
    ("a robot pushes a crate onto a target", dict(counts={"robot": 1, "crate": 1}, top="push")),
    ("push the box into the goal zone within 90 seconds", dict(counts={"box": 1, "target zone": 1}, time=90.0,
                                                               top="push")),
    # zero-g
    ("astronauts floating in space with 6 asteroids", dict(counts={"asteroid": 6}, gravity=(0.0, 0.0, 0.0),
                                                           top="zero_g")),
    ("zero-g billiards with super bouncy balls", dict(gravity=(0.0, 0.0, 0.0), restitution=0.95, top="zero_g")),
    # twists
    ("a bowling alley with ten pins; gravity reverses every 5 seconds",
     dict(counts={"pin": 10}, gravity=None, twists=[("every", 5.0, "reverse_gravity")], top="bowling")),
    ("gravity flips every other second", dict(gravity=None, twists=[("every", 2.0, "reverse_gravity")])),
    ("after 10 apples the bullets look like apples",
     dict(counts={}, twists=[("after", 10, "apple", "look_like", "bullet", "apple")])),
    ("every 10 seconds a new ball drops from the sky", dict(twists=[("every", 10.0, "spawn")])),
    ("when the ball hits the wall, it turns red", dict(twists=[("when", "color", "it")])),
    ("after 30 seconds the floor becomes ice", dict(twists=[("at", 30.0, "material", "floor", "ice")])),
    ("you win when all 10 pins fall", dict(twists=[("after", 10, "pin", "end", "player", "win")])),
    ("every 3 hits the ball gets bigger", dict(twists=[("after", 3, "hit", "grow", "ball", 1.5)])),
    ("gravity flips when the ball hits the red wall", dict(gravity=None, twists=[("when", "reverse_gravity",
                                                                                  "gravity")])),
    ("after you collect 5 coins the walls disappear", dict(twists=[("after", 5, "coin", "destroy", "wall", None)])),
    ("the ball turns into an apple after 20 seconds", dict(twists=[("at", 20.0, "look_like", "ball", "apple")])),
    ("every 2 minutes gravity switches to moon gravity", dict(twists=[("every", 120.0, "set_gravity")])),
    ("if the ball falls in the hole then you get 10 points", dict(twists=[("when", "score", "player")])),
    # time limits
    ("a 30-second timer; knock over as many cans as you can", dict(time=30.0, counts={})),
    ("a one-minute timer and sideways gravity", dict(time=60.0, gravity=(G, 0.0, 0.0))),
    ("you have half a minute to sink the black ball", dict(time=30.0)),
    ("the match lasts 3 minutes", dict(time=180.0)),
    # gravity, friction, bounciness
    ("three times gravity and a frictionless floor", dict(gravity=(0.0, 0.0, -3 * G), friction=0.0)),
    ("low gravity, very slippery and not bouncy at all", dict(gravity=(0.0, 0.0, -3.0), friction=0.03,
                                                             restitution=0.05)),
    ("reversed gravity world with 20 balloons", dict(gravity=(0.0, 0.0, G), counts={"balloon": 20})),
    ("gravity of 5 m/s² and a 1.5 minute time limit", dict(gravity=(0.0, 0.0, -5.0), time=90.0)),
    ("half gravity and bouncy walls everywhere", dict(gravity=(0.0, 0.0, -G / 2))),
    ("everything is super bouncy in heavy gravity", dict(restitution=0.95, gravity=(0.0, 0.0, -20.0))),
    ("a world with no friction", dict(friction=0.0)),
    ("a level where gravity is 2g", dict(gravity=(0.0, 0.0, -2 * G))),
    # players
    ("jupiter gravity, 4 player free-for-all", dict(gravity=(0.0, 0.0, -24.79), players=4)),
    ("single player bowling versus the computer", dict(players=1, top="bowling")),
    ("a 2-player game of darts", dict(players=2, top="projectile")),
    # counts
    ("a dozen red rubber balls and half a dozen wooden crates", dict(counts={"ball": 12, "crate": 6})),
    ("a couple of seesaws and a handful of marbles", dict(counts={"seesaw": 2, "marble": 5})),
    ("twenty-five dominoes and a pair of dice", dict(counts={"domino": 25, "die": 2})),
    ("two hundred and fifty pegs", dict(counts={"peg": 250})),
    ("3 red balls and 2 blue balls", dict(counts={"ball": 5})),
]


def _twist_key(t) -> tuple:
    if isinstance(t, EveryTwist):
        return ("every", t.every_s, t.action.what)
    if isinstance(t, AtTimeTwist):
        return ("at", t.at_s, t.change.what, t.change.target, t.change.value)
    if isinstance(t, AfterCountTwist):
        return ("after", t.count, t.what_counted, t.change.what, t.change.target, t.change.value)
    assert isinstance(t, WhenTwist)
    return ("when", t.change.what, t.change.target)


def test_table_is_broad():
    assert len(CASES) >= 40
    tops = {want["top"] for _, want in CASES if "top" in want}
    assert tops == set(MECHANICS)
    kinds = {k[0] for _, want in CASES for k in want.get("twists", [])}
    assert kinds == {"every", "at", "after", "when"}


@pytest.mark.parametrize("prompt, want", CASES, ids=[c[0][:50] for c in CASES])
def test_prompt(prompt, want):
    it = parse(prompt)
    assert not [n for n in it.notes if "parser error" in n], it.notes
    if "counts" in want:
        for k, v in want["counts"].items():
            assert it.counts.get(k) == v, (k, it.counts, it.notes)
        if want["counts"] == {}:
            assert not {k: v for k, v in it.counts.items() if k in ("can", "apple", "bullet")}, it.counts
    if "gravity" in want:
        if want["gravity"] is None:
            assert it.gravity is None, it.notes
        else:
            assert it.gravity == pytest.approx(want["gravity"], abs=1e-3), it.notes
    for field, attr in (("players", "players"), ("time", "time_limit"), ("restitution", "restitution"),
                        ("friction", "friction"), ("win", "win_score")):
        if field in want:
            got = getattr(it, attr)
            assert got == (pytest.approx(want[field]) if isinstance(want[field], float) else want[field]), \
                (field, got, it.notes)
    if "top" in want:
        assert it.top_mechanic == want["top"], it.mechanic_hints
    if "style" in want:
        assert set(want["style"]) <= set(it.style_words)
    if "twists" in want:
        got = [_twist_key(t) for t in it.twists]
        assert len(got) == len(want["twists"]), (got, it.notes)
        for g, w in zip(got, want["twists"]):
            assert g[: len(w)] == tuple(w), (g, w)


def test_count_note_and_mentions():
    it = parse("ten pins and a bowling ball")
    assert "count: 'ten pins' → 10 pin" in it.notes
    pins = next(o for o in it.objects if o.kind == "pin")
    assert pins.count == 10 and pins.plural and pins.noun == "pins" and not pins.in_twist
    assert it.kinds == ["pin", "bowling ball"]


def test_gravity_note():
    it = parse("bowling on the moon")
    assert it.gravity == (0.0, 0.0, -1.62)
    assert "gravity: 'on the moon' → 1.62 m/s² down" in it.notes
    assert parse("bowling").gravity_note.startswith("earth default")


def test_mention_modifiers():
    it = parse("a giant red ball, three tiny blue cubes made of glass, a 2 m wide ramp and a 10 cm ball")
    ball, cubes, ramp, small = it.objects
    assert (ball.kind, ball.count, ball.color_name, ball.scale) == ("ball", 1, "red", 4.0)
    assert ball.color == kb.COLORS["red"]
    assert (cubes.kind, cubes.count, cubes.color_name, cubes.material, cubes.scale) == ("block", 3, "blue", "glass",
                                                                                        0.25)
    assert (ramp.kind, ramp.size_m, ramp.scale) == ("ramp", 2.0, pytest.approx(1.0))
    assert (small.kind, small.size_m, small.scale) == ("ball", 0.1, pytest.approx(0.5))
    it = parse("wooden pins, a steel bowling ball and light blue dominoes in a row")
    pins, ball, dominoes = it.objects
    assert pins.material == "wood" and ball.material == "steel"
    assert dominoes.color_name == "light blue" and dominoes.arrangement == "row"
    it = parse("a pyramid of ten cans and super bouncy balls")
    cans, balls = it.objects
    assert cans.arrangement == "pyramid" and cans.count == 10
    assert balls.count is None and balls.restitution == 0.95


def test_material_before_kind_is_a_modifier():
    it = parse("a stone wall, a marble floor and ten marbles")
    assert [(o.kind, o.material, o.count) for o in it.objects] == [("wall", "stone", 1), ("floor", "marble", 1),
                                                                   ("marble", None, 10)]


def test_unknown_nouns():
    it = parse("a purple dragon guards three unicorns near a windmill")
    assert it.unknown_nouns == ["dragon", "unicorn", "windmill"]
    dragon = it.objects[0]
    assert dragon.kind is None and dragon.color_name == "purple"
    assert it.counts["unicorn"] == 3
    assert any("not in the knowledge base" in n for n in it.notes)
    assert parse("the score counts fallen pins in the game").unknown_nouns == []


def test_twist_objects_are_not_scene_counts():
    it = parse("a shooting gallery with 20 targets; after 10 apples the bullets look like apples")
    assert it.counts.get("target") == 20 and "apple" not in it.counts and "bullet" not in it.counts
    assert {o.kind for o in it.objects if o.in_twist} == {"apple", "bullet"}
    tw = it.twists[0]
    assert isinstance(tw, AfterCountTwist) and tw.count == 10 and tw.what_counted == "apple"
    assert tw.change.what == "look_like" and tw.change.target == "bullet" and tw.change.value == "apple"


def test_twist_changes_use_the_vocabulary():
    prompts = ["every 5 seconds gravity turns off", "after 10 seconds the balls speed up", "when a pin falls you get "
               "a point", "every 20 seconds the ball shrinks", "after 3 goals, the game ends",
               "when the timer hits zero you lose", "every minute 3 crates spawn", "once 5 cans fall the floor "
               "becomes slippery", "after 2 minutes the walls turn invisible", "each time the ball hits a peg, "
               "add 5 seconds", "when the ball enters the goal, show \"GOAL!\""]
    for p in prompts:
        it = parse(p)
        assert len(it.twists) == 1, (p, it.notes)
        t = it.twists[0]
        ch = t.action if isinstance(t, EveryTwist) else t.change
        assert ch.what in CHANGES and ch.what != "other", (p, t)
    assert parse("every 5 seconds gravity turns off").twists[0].action.value == (0.0, 0.0, 0.0)
    assert parse("every minute 3 crates spawn").twists[0].action.value == 3
    assert parse("when the ball enters the goal, show \"GOAL!\"").twists[0].change.value == "goal !"


def test_twist_does_not_set_base_physics():
    it = parse("a room with 10 bouncy balls; every 5 seconds gravity reverses; after 30 seconds everything floats")
    assert it.gravity is None and it.time_limit is None
    assert [type(t) for t in it.twists] == [EveryTwist, AtTimeTwist]
    assert it.counts == {"bouncy ball": 10}


@pytest.mark.parametrize("text, value", [
    ("ten", 10), ("40", 40), ("a dozen", 12), ("a couple of", 2), ("a few", 3), ("a pair of", 2),
    ("half a dozen", 6), ("twenty-five", 25), ("one hundred", 100), ("two dozen", 24), ("1,000", MAX_COUNT),
    ("seventeen", 17), ("ninety nine", 99), ("a handful of", 5), ("three hundred and twelve", 312),
])
def test_numbers(text, value):
    it = parse(f"{text} crates")
    assert it.counts == {"crate": value}, it.notes


def test_count_cap_is_noted():
    it = parse("a world with 100000 balls")
    assert it.counts["ball"] == MAX_COUNT
    assert any("capped" in n for n in it.notes)


def test_players_cap_and_contradiction():
    it = parse("a six player game of air hockey")
    assert it.players == 4 and any("capped" in n for n in it.notes)
    it = parse("single player jenga, versus a friend")
    assert it.players == 1 and any("contradiction" in n for n in it.notes)
    assert parse("2v2 soccer").players == 4
    assert parse("pool with 3 friends").players == 4


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize("prompt", [
    "", "   ", "\n\n\t", "asdkjh qwe zxcv lorem ipsum dolor", "🎳🎳🎳", "десять кеглей и шар",
    "球と十本のピン",
    "\x00\x01\x02 binary \ufffd junk", "a" * 5000, "ten " * 3000, "after " * 3000, "when if the a , " * 1000,
    "((((((((((", "99999999999999999999999999 pins", "-5 balls", "0.5 balls", "1e309 balls", "nan pins",
    "gravity of 1e400", "every 0 seconds gravity reverses", "every 1e9 seconds gravity flips",
    "\"\"\"'''", "null", "<script>alert(1)</script> ten pins", "ten pins" + "\u202e" * 50,
])
def test_hostile_prompts_never_raise(prompt):
    it = parse(prompt)
    assert isinstance(it, Intent)
    assert it.notes and not [n for n in it.notes if "parser error" in n], it.notes
    assert all(0 <= c <= MAX_COUNT for c in it.counts.values())
    assert 1 <= it.players <= 4
    assert it.gravity is None or all(abs(c) <= 1000 for c in it.gravity)
    for t in it.twists:
        assert (t.every_s if isinstance(t, EveryTwist) else 1) > 0
    dataclasses.asdict(it)  # plain data all the way down


@pytest.mark.parametrize("prompt", [None, 42, b"ten pins", ["ten pins"]])
def test_non_string_prompts(prompt):
    it = parse(prompt)  # type: ignore[arg-type]
    assert isinstance(it, Intent)
    if prompt == b"ten pins":
        assert it.counts == {"pin": 10}


def test_empty_prompt_says_so():
    assert any("empty prompt" in n for n in parse("").notes)
    assert any("nothing recognised" in n for n in parse("asdkjh qwe zxcv").notes)


def test_huge_prompt_is_truncated_and_fast():
    import time

    prompt = "a bowling alley with ten pins and a red ball. " * 2300  # > 100 KB
    assert len(prompt) > 100_000
    t = time.perf_counter()
    it = parse(prompt)
    assert time.perf_counter() - t < 2.0
    assert it.truncated and any(n.startswith("truncated:") and str(MAX_CHARS) in n for n in it.notes)
    assert it.counts["pin"] == 10 and it.top_mechanic == "bowling"
    assert len(it.notes) <= 80
    assert it.prompt == prompt  # the original is kept


@pytest.mark.parametrize("prompt, what", [
    ("no gravity with heavy gravity", "gravity strength"),
    ("on the moon and on jupiter", "gravity strength"),
    ("gravity points sideways and upside down", "gravity direction"),
    ("slippery and sticky", "friction"),
    ("super bouncy but not bouncy", "bounciness"),
    ("a 30 second timer and a 2 minute time limit", "time limit"),
])
def test_contradictions_keep_the_first_and_say_so(prompt, what):
    it = parse(prompt)
    notes = [n for n in it.notes if n.startswith(f"contradiction: {what}")]
    assert notes, it.notes
    assert "kept the first" in notes[0]
    if prompt.startswith("no gravity"):
        assert it.gravity == (0.0, 0.0, 0.0)
    if prompt.startswith("a 30"):
        assert it.time_limit == 30.0


def test_deterministic():
    p = "a jenga tower of 54 blocks on the moon; every 5 seconds gravity reverses; two players; 90 second timer"
    a, b = parse(p), parse(p)
    assert dataclasses.asdict(a) == dataclasses.asdict(b)
    assert str(a) == "\n".join(a.notes)


def test_mechanic_hints_are_scored_and_ordered():
    it = parse("a bowling alley with ten pins")
    names = [m for m, _ in it.mechanic_hints]
    scores = [s for _, s in it.mechanic_hints]
    assert set(names) <= set(MECHANICS) and names[0] == "bowling"
    assert scores == sorted(scores, reverse=True) and abs(sum(scores) - 1.0) < 0.01
    assert parse("hello there").mechanic_hints == []
    assert parse("a swimming pool").top_mechanic != "billiards"
