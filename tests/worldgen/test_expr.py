"""Tests for :mod:`worldgen.expr`, the safe expression language of world rules."""

from __future__ import annotations

import ast
import dataclasses
import math
import pathlib
import sys

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from worldgen import expr
from worldgen.expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, MAX_TOKENS, PREDICATES, ExprError, Expression, parse

VARS = {"score": 12.0, "lives": 3.0, "zero": 0.0, "neg": -4.0}
TAGS = {"ball", "pin"}
ENTITIES = {"ball", "ground", "goal"}


class FakeView:
    """A StateView that records every call and answers from dictionaries."""

    def __init__(self, variables=None, *, time=1.5, tick=90, entities=None, counts=None,
                 distances=None, randoms=(0.25, 0.75)):
        self.variables = dict(VARS if variables is None else variables)
        self._time, self._tick = time, tick
        self.entities = entities or {}
        self.counts = counts or {}
        self.distances = distances or {}
        self.randoms = list(randoms)
        self.calls: list[tuple] = []

    @property
    def time(self):
        self.calls.append(("time",))
        return self._time

    @property
    def tick(self):
        self.calls.append(("tick",))
        return self._tick

    def var(self, name):
        self.calls.append(("var", name))
        return self.variables[name]

    def count(self, tag, predicate, zone):
        self.calls.append(("count", tag, predicate, zone))
        return self.counts.get((tag, predicate, zone), 0)

    def entity(self, name, attr):
        self.calls.append(("entity", name, attr))
        return self.entities.get((name, attr), 0.0)

    def distance(self, a, b):
        self.calls.append(("distance", a, b))
        return self.distances.get((a, b), 0.0)

    def random(self):
        self.calls.append(("random",))
        return self.randoms.pop(0)


class ForbiddenView:
    """A view that fails the test if an expression touches it."""

    def __getattr__(self, name):
        raise AssertionError(f"view accessed: {name}")


def ev(text, view=None, **names):
    """Parse with the default declarations and evaluate against ``view`` (a FakeView)."""
    names = {"variables": VARS, "tags": TAGS, "entities": ENTITIES, **names}
    return parse(text, **names)(FakeView() if view is None else view)


def fails(text, **names) -> ExprError:
    names = {"variables": VARS, "tags": TAGS, "entities": ENTITIES, **names}
    with pytest.raises(ExprError) as info:
        parse(text, **names)
    return info.value


# ----------------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("10 - 4 - 3", 3.0),
    ("10 - (4 - 3)", 9.0),
    ("24 / 4 / 2", 3.0),
    ("7 % 4", 3.0),
    ("-7 % 4", 1.0),
    ("2 * 3 % 4", 2.0),
    ("-2 * 3", -6.0),
    ("- -2", 2.0),
    ("+3", 3.0),
    ("-(1 + 2) * 2", -6.0),
    ("1 + -2", -1.0),
    ("2 - -2", 4.0),
    (".5 + 1e3", 1000.5),
    ("2.5e-1 * 4", 1.0),
    ("1e12", 1e12),
    ("score * 2 + lives", 27.0),
    ("score - lives * 2", 6.0),
    ("(score - lives) / 3", 3.0),
    ("neg * -1", 4.0),
    ("true + true", 2.0),
    ("false * 5 + 1", 1.0),
    ("(1 < 2) * 10", 10.0),
    ("-true", -1.0),
    ("1 + 2 < 4", True),
    ("1 + 2 == 3", True),
    ("2 * 3 != 6", False),
    ("score >= 12", True),
    ("score > 12", False),
    ("lives <= 3", True),
    ("lives < 3", False),
    ("not 1 > 2", True),
    ("not score > 10 or lives > 2", True),
    ("1 < 2 and 3 < 2 or true", True),
    ("1 < 2 and (3 < 2 or false)", False),
    ("not not true", True),
    ("true or false and false", True),
    ("(true or false) and false", False),
])
def test_precedence_and_arithmetic(text, expected):
    result = ev(text)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("text, expected", [
    ("abs(-3)", 3.0), ("abs(neg)", 4.0),
    ("min(3, 1, 2)", 1.0), ("max(3, 1, 2)", 3.0), ("min(5)", 5.0), ("max(score, lives)", 12.0),
    ("max(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)", 16.0),
    ("clamp(5, 0, 3)", 3.0), ("clamp(-5, 0, 3)", 0.0), ("clamp(2, 0, 3)", 2.0),
    ("floor(2.7)", 2.0), ("floor(-2.2)", -3.0), ("ceil(2.2)", 3.0), ("ceil(-2.7)", -2.0),
    ("round(2.5)", 3.0), ("round(-2.5)", -3.0), ("round(2.4)", 2.0), ("round(0.49999999999999994)", 0.0),
    ("sqrt(16)", 4.0), ("sqrt(-4)", 0.0), ("sqrt(0)", 0.0),
    ("min(true, 3)", 1.0), ("abs(min(neg, 0)) + max(1, 2) * 2", 8.0),
])
def test_math_functions(text, expected):
    result = ev(text)
    assert result == expected and type(result) is float


def test_results_are_float_even_when_view_returns_ints():
    view = FakeView({"score": 3, "lives": 1, "zero": 0, "neg": -1}, tick=7,
                    counts={("ball", None, None): 2}, entities={("ball", "x"): 1})
    for text in ("score", "tick", "count(tag=ball)", "x(ball)", "score + lives", "-score", "abs(neg)"):
        assert type(parse(text)(view)) is float, text
    assert parse("tick")(view) == 7.0
    assert parse("time")(view) == 1.5


def test_time_and_tick_are_builtins_not_variables():
    e = parse("time > 1 and tick >= 90", variables=set())
    assert e.variables == frozenset()
    assert e(FakeView()) is True


@pytest.mark.parametrize("text", ["1 / 0", "score / zero", "5 % 0", "score % zero", "-1 / 0",
                                  "1 / (lives - 3)", "1 / false"])
def test_division_and_modulo_by_zero_give_zero(text):
    result = ev(text)
    assert result == 0.0 and type(result) is float


def test_non_finite_intermediates_never_raise():
    view = FakeView({"score": math.inf, "lives": math.nan, "zero": 0.0, "neg": -math.inf})
    for text in ("floor(score)", "ceil(neg)", "round(lives)", "sqrt(score)", "sqrt(lives)",
                 "score % 2", "score / score", "abs(neg)", "clamp(lives, 0, 1)", "lives > 0"):
        parse(text)(view)  # must not raise
    assert parse("floor(score)")(view) == math.inf
    assert math.isnan(parse("round(lives)")(view))


# ----------------------------------------------------------------------- booleans

def test_booleans_and_comparisons_return_bool():
    for text, expected in [("true", True), ("false", False), ("1 < 2", True), ("not 0", True),
                           ("score and lives", True), ("zero or 0", False), ("2 and 3", True),
                           ("0 or 5", True), ("exists(ball)", True), ("true == 1", True)]:
        result = ev(text, FakeView(entities={("ball", "exists"): 1.0}))
        assert result is expected, text


def test_and_short_circuits():
    view = FakeView({"score": 0.0, "lives": 3.0})
    assert parse("score > 0 and lives > 0")(view) is False
    assert view.calls == [("var", "score")]


def test_or_short_circuits():
    view = FakeView({"score": 20.0, "lives": 3.0})
    assert parse("score > 10 or x(ball) > 0 or random() < 1")(view) is True
    assert view.calls == [("var", "score")]


def test_and_or_evaluate_right_side_when_needed():
    view = FakeView({"score": 20.0, "lives": 3.0})
    assert parse("score > 10 and lives > 5 or count(tag=ball) == 0")(view) is True
    assert view.calls == [("var", "score"), ("var", "lives"), ("count", "ball", None, None)]


def test_comparisons_do_not_chain():
    err = fails("1 < score < 20")
    assert "chained" in str(err) and "and" in str(err)
    assert err.position == 10
    assert ev("1 < score and score < 20") is True
    assert ev("(1 < score) < 20") is True  # explicit parentheses are fine


# ----------------------------------------------------------------------- queries

@pytest.mark.parametrize("predicate", PREDICATES)
def test_count_with_predicate(predicate):
    view = FakeView(counts={("ball", predicate, None): 4})
    e = parse(f"count(tag=ball, {predicate})", tags=TAGS)
    assert e(view) == 4.0
    assert view.calls == [("count", "ball", predicate, None)]
    assert e.tags == {"ball"} and e.entities == frozenset()


def test_count_all_and_in_zone():
    view = FakeView(counts={("pin", None, None): 10, ("ball", None, "goal"): 1})
    assert ev("count(tag=pin) - count( tag = ball , in = goal )", view) == 9.0
    assert view.calls == [("count", "pin", None, None), ("count", "ball", None, "goal")]
    e = parse("count(tag=ball, in=goal) > 0", tags=TAGS, entities=ENTITIES)
    assert e.tags == {"ball"} and e.entities == {"goal"}


def test_count_errors():
    assert "tags: ball, pin" in str(fails("count(tag=bal)"))
    assert "did you mean 'ball'" in str(fails("count(tag=bal)"))
    err = fails("count(tag=ball, flying)")
    assert all(p in str(err) for p in PREDICATES) and "in=ZONE" in str(err)
    assert "entities: ball, goal, ground" in str(fails("count(tag=ball, in=hole)"))
    assert "tag=" in str(fails("count(ball)"))
    assert "count()" in str(fails("score = 1")) and "'=='" in str(fails("score = 1"))
    assert "'=='" in str(fails("1 = 1"))
    assert "only allowed in count" in str(fails("abs(tag=ball)"))
    fails("count(tag=ball, fallen, moving)")
    fails("count(tag=ball, in=goal, fallen)")
    fails("count()")
    fails("count(tag=1)")
    fails("in=goal")


@pytest.mark.parametrize("attr", ["x", "y", "z", "vx", "vy", "vz", "speed", "tilt"])
def test_entity_functions(attr):
    view = FakeView(entities={("ball", attr): 2.5})
    e = parse(f"{attr}(ball) * 2", entities=ENTITIES)
    assert e(view) == 5.0
    assert view.calls == [("entity", "ball", attr)]
    assert e.entities == {"ball"}


def test_exists_and_distance():
    view = FakeView(entities={("ball", "exists"): 1.0, ("goal", "exists"): 0.0},
                    distances={("ball", "goal"): 3.0})
    assert ev("exists(ball)", view) is True
    assert ev("exists(goal)", view) is False
    assert ev("not exists(goal) and distance(ball, goal) < 5", view) is True
    assert ("distance", "ball", "goal") in view.calls
    assert parse("distance(ball, goal)").entities == {"ball", "goal"}


@pytest.mark.parametrize("text, needle", [
    ("x(bal)", "entities: ball, goal, ground"), ("x(1)", "entity name"), ("x()", "entity name"),
    ("x(ball, goal)", "too many arguments"), ("distance(ball)", "distance(entity1, entity2)"),
    ("speed(score)", "unknown entity 'score'"), ("x(ball + 1)", "expected ')'"),
])
def test_entity_function_errors(text, needle):
    assert needle in str(fails(text))


def test_random_draws_from_the_view_each_call():
    e = parse("random() * 4")
    assert e.uses_random and not parse("score + 1").uses_random
    view = FakeView(randoms=[0.25, 0.5])
    assert e(view) == 1.0
    assert e(view) == 2.0  # not constant-folded
    assert view.calls == [("random",), ("random",)]
    assert "usage: random()" in str(fails("random(1)"))


# ----------------------------------------------------------------------- names and errors

def test_unknown_variable_lists_declared_ones():
    err = fails("scor > 1", variables={"score", "lives"})
    assert str(err).startswith("unknown variable 'scor' at 0; ")
    assert "declared variables: lives, score" in str(err) and "did you mean 'score'" in str(err)
    assert err.position == 0 and err.source == "scor > 1"
    assert "(none)" in str(fails("a", variables=[]))


def test_unknown_function_lists_functions():
    err = fails("1 + eval(1)")
    assert "unknown function 'eval' at 4" in str(err)
    assert "functions: " + ", ".join(FUNCTIONS) in str(err)
    assert err.position == 4
    assert "is a variable, not a function" in str(fails("score(1)"))


def test_wrong_argument_counts():
    assert "abs() takes 1 argument, got 2" in str(fails("abs(1, 2)"))
    assert "clamp() takes 3 arguments, got 2" in str(fails("clamp(1, 2)"))
    assert "1 to 16" in str(fails("min()"))
    assert "got 17" in str(fails("max(" + ", ".join(["1"] * 17) + ")"))
    fails("sqrt()")
    fails("min(1,)")


def test_long_name_lists_are_truncated():
    names = {f"v{i:02d}" for i in range(50)}
    message = str(fails("nope", variables=names))
    assert "v19" in message and "v20" not in message and "30 more" in message


def test_names_are_not_checked_when_category_is_none():
    e = parse("a + x(b) + count(tag=c, in=d)")
    assert e.variables == {"a"} and e.tags == {"c"} and e.entities == {"b", "d"}
    # a category given as any collection is checked
    with pytest.raises(ExprError):
        parse("a", variables=("b",))
    assert parse("a", variables=["a"]).variables == {"a"}


def test_variables_may_share_function_names():
    e = parse("x + min(x, 1)", variables={"x"})
    assert e(FakeView({"x": 0.5})) == 1.0


def test_reserved_and_underscore_names():
    for word in ("and", "or", "not"):
        fails(word, variables={word})
    assert "may not start with '_'" in str(fails("_secret", variables={"_secret"}))


HOSTILE = [
    "__import__('os')", '__import__("os").system("ls")', "().__class__", "a.b", "score.real",
    "x[0]", "[1, 2]", '"str"', "'str'", "1e400", "1" + "0" * 400, "10**10", "lambda: 1",
    "", "   ", "\n\t", "(1", "1)", "((1)", "(1))", ")(", "1 2", "score lives", "1 +", "score >",
    "f(x)", "eval('1')", "exec", "{}", "a; b", "a if b else c", "1 // 2", "a && b", "a || b",
    "!a", "a ! b", "1.2.3", "3x", "0x10", "1_000", "é", "score\x00", "#", "`ls`", "$x", "a:b",
    "abs", "min(1 2)", "(", ")", ",", "=", "1 = 1", "not", "and 1", "1 and", "- ", "1e", "1e+",
    "1 < 2 < 3", "true()", "time()", "count", "count(", "x(ball", "abs(1,", "2 ^ 3", "a @ b",
    "a\\b", "\u00a01",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_inputs_raise_expr_error(text):
    err = fails(text)
    message = str(err)
    assert "\n" not in message and len(message) < 400
    assert err.position is None or 0 <= err.position <= len(text)


def test_numbers_above_limit_are_rejected():
    assert parse("1e12")(None) == 1e12
    assert "1e12" in str(fails("1000000000001"))
    assert "too large" in str(fails("2e12"))


def test_nesting_depth_limit():
    ok = "(" * MAX_DEPTH + "1" + ")" * MAX_DEPTH
    assert parse(ok)(None) == 1.0
    for deep in ("(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1),
                 "-" * (MAX_DEPTH + 1) + "1",
                 "not " * (MAX_DEPTH + 1) + "true",
                 "abs(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)):
        assert "nested too deeply" in str(fails(deep))


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_very_deep_nesting_raises_expr_error(depth):
    for text in ("(" * depth + "1" + ")" * depth, "(" * depth, "-" * depth + "1", "not " * depth):
        with pytest.raises(ExprError):
            parse(text)


def test_length_and_token_limits():
    assert "too long" in str(fails("1" + " " * 1999))
    assert len(str(fails("x" * 2000))) < 200  # the echoed source is truncated
    many = "+".join(["1"] * (MAX_TOKENS // 2 + 1))  # > MAX_TOKENS tokens, < MAX_LENGTH chars
    assert len(many) <= MAX_LENGTH
    assert "tokens" in str(fails(many))
    assert parse("+".join(["1"] * (MAX_TOKENS // 2)))(None) == MAX_TOKENS // 2


def test_error_echo_is_short_and_one_line():
    text = "score + " * 20 + "nope\n+ 1"
    err = fails(text)
    assert err.position == text.index("nope")
    assert "\n" not in str(err) and "nope" in str(err)
    assert len(str(err)) < 250


# ----------------------------------------------------------------------- Expression API

def test_expression_metadata_and_str():
    e = parse("score >= 10 and lives > 0 and x(ball) < 3 and count(tag=pin, in=goal) > 0",
              variables=VARS, tags=TAGS, entities=ENTITIES)
    assert isinstance(e, Expression)
    assert e.variables == {"score", "lives"} and e.tags == {"pin"} and e.entities == {"ball", "goal"}
    assert not e.uses_random
    assert str(e) == e.source and e.source.startswith("score >= 10")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.source = "1"
    assert parse("1+1") == parse("1+1") and hash(parse("1+1")) == hash(parse("1+1"))


def test_constant_expressions_do_not_touch_the_view():
    for text in ("1 + 2 * 3", "min(1, 2) < max(3, 4) and not false", "sqrt(16) / 0", "round(2.5)"):
        parse(text)(ForbiddenView())


@pytest.mark.parametrize("value, source, result", [
    (3, "3", 3.0), (2.5, "2.5", 2.5), (-1e-5, "-1e-05", -1e-5), (True, "true", True), (False, "false", False),
])
def test_parse_accepts_numbers(value, source, result):
    e = parse(value)
    assert str(e) == source
    assert e(ForbiddenView()) == result and type(e(None)) is type(result)
    assert parse(source)(None) == result  # the source round-trips


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 10**13, 1e13, None, [1], b"1"])
def test_parse_rejects_bad_values(value):
    with pytest.raises(ExprError):
        parse(value)


def test_public_constants():
    assert FUNCTIONS == tuple(sorted(FUNCTIONS))
    assert {"abs", "min", "max", "clamp", "floor", "ceil", "round", "sqrt", "random", "count",
            "distance", "exists", "x", "vz", "speed", "tilt"} <= set(FUNCTIONS)
    assert PREDICATES == ("fallen", "moving", "resting", "tilted")
    assert MAX_LENGTH >= 200 and MAX_DEPTH >= 8 and MAX_TOKENS >= 64
    assert issubclass(ExprError, ValueError)


def test_module_is_a_safe_leaf():
    """No eval/exec/compile/ast and nothing but the standard library is used."""
    tree = ast.parse(pathlib.Path(expr.__file__).read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    assert not names & {"eval", "exec", "compile", "__import__", "getattr", "globals"}
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert "ast" not in imported
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# ----------------------------------------------------------------------- property tests

class AnyView:
    """Answers every query with a fixed value, so any parsed expression can run."""

    time, tick = 2.0, 3

    def __init__(self, value=1.0):
        self.value = value

    def var(self, name):
        return self.value

    def count(self, tag, predicate, zone):
        return 2

    def entity(self, name, attr):
        return self.value

    def distance(self, a, b):
        return self.value

    def random(self):
        return 0.5


def _parse_and_run(text):
    try:
        e = parse(text)
    except ExprError:
        return
    assert isinstance(e, Expression)
    for value in (1.0, 0.0, -2.5, math.inf, math.nan):
        assert type(e(AnyView(value))) in (float, bool)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_is_expression_or_expr_error(text):
    _parse_and_run(text)


FRAGMENTS = ["(", ")", "+", "-", "*", "/", "%", "and", "or", "not", "<", "<=", "==", "!=", ">",
             "1", "0", "2.5", "1e3", "a", "b", "true", "false", ",", "=", "x(ball)", "count(tag=t",
             "fallen", "in=z", "min(", "max(", "clamp(", "sqrt(", "abs(", "random()", "time",
             "tick", "distance(a, b)", ".", "_", "exists(", "floor(", "round("]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_fragment_soup_is_expression_or_expr_error(parts):
    _parse_and_run(" ".join(parts))


# Random valid trees: ("lit", text, value) | ("var", name) | ("un", op, a) | ("bin", op, a, b)
PREC = {"or": 1, "and": 2, "not": 3, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4,
        "+": 5, "-": 5, "*": 6, "/": 6, "%": 6, "neg": 7}
TREE_VARS = ("a", "b", "c")

leaves = st.one_of(
    st.integers(0, 20).map(lambda n: ("lit", str(n), float(n))),
    st.sampled_from(["0.5", "2.5", "1e3", ".25"]).map(lambda s: ("lit", s, float(s))),
    st.sampled_from(["true", "false"]).map(lambda s: ("lit", s, s == "true")),
    st.sampled_from(TREE_VARS).map(lambda n: ("var", n)),
)
trees = st.recursive(leaves, lambda kids: st.one_of(
    st.tuples(st.just("un"), st.sampled_from(["neg", "not"]), kids),
    st.tuples(st.just("bin"), st.sampled_from([k for k in PREC if k not in ("not", "neg")]), kids, kids),
), max_leaves=12)


def prec(node):
    return PREC[node[1]] if node[0] in ("un", "bin") else 9


def render(node):
    """Print with the fewest parentheses the grammar allows (left-associative, no chains)."""
    if node[0] == "lit":
        return node[1]
    if node[0] == "var":
        return node[1]
    if node[0] == "un":
        child = render(node[2])
        if prec(node[2]) < prec(node):
            child = f"({child})"
        return f"- {child}" if node[1] == "neg" else f"not {child}"
    p = prec(node)
    left, right = render(node[2]), render(node[3])
    if prec(node[2]) < p or (p == 4 and prec(node[2]) == 4):
        left = f"({left})"
    if prec(node[3]) <= p:
        right = f"({right})"
    return f"{left} {node[1]} {right}"


def reference(node, env):
    """Evaluate a tree with the language's documented semantics, independently of expr.py."""
    kind = node[0]
    if kind == "lit":
        return node[2]
    if kind == "var":
        return env[node[1]]
    if kind == "un":
        x = reference(node[2], env)
        return -float(x) if node[1] == "neg" else not x
    op = node[1]
    if op == "and":
        return bool(reference(node[2], env)) and bool(reference(node[3], env))
    if op == "or":
        return bool(reference(node[2], env)) or bool(reference(node[3], env))
    a, b = float(reference(node[2], env)), float(reference(node[3], env))
    return {
        "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        "/": lambda: a / b if b != 0 else 0.0, "%": lambda: a % b if b != 0 else 0.0,
        "==": lambda: a == b, "!=": lambda: a != b, "<": lambda: a < b, "<=": lambda: a <= b,
        ">": lambda: a > b, ">=": lambda: a >= b,
    }[op]()


def height(node):
    return 1 + max((height(k) for k in node[2:] if isinstance(k, tuple)), default=0)


@settings(max_examples=1000, deadline=None)
@given(trees, st.tuples(*[st.one_of(st.integers(-5, 5).map(float),
                                    st.floats(-1e6, 1e6, allow_nan=False)) for _ in TREE_VARS]))
def test_random_trees_match_reference(tree, values):
    assume(height(tree) <= MAX_DEPTH // 2)
    env = dict(zip(TREE_VARS, values))
    text = render(tree)
    e = parse(text, variables=TREE_VARS)
    got, want = e(FakeView(env)), reference(tree, env)
    assert type(got) is type(want), text
    assert got == want or (math.isnan(got) and math.isnan(want)), text
