"""A tiny, safe expression language for rule conditions and numeric values.

World files are untrusted, so expressions are never handed to ``eval``/``exec``/
``compile`` or the :mod:`ast` module. :func:`parse` tokenizes the text by hand, builds
a small tree with a recursive-descent parser (nesting capped at :data:`MAX_DEPTH`
before Python's own recursion limit can matter), checks every name against the world's
declared variables, tags and entities, and compiles the tree once into nested closures
with pure-literal subtrees folded to constants. The language has no loops, no
assignment and no user functions; evaluation always terminates in time linear in the
source and never raises for any numeric input.

Grammar, lowest precedence first::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?    # no chaining
    sum     := term (("+" | "-") term)*
    term    := unary (("*" | "/" | "%") unary)*
    unary   := ("-" | "+") unary | atom
    atom    := NUMBER | "true" | "false" | NAME | "(" expr ")"
             | FUNC "(" [expr ("," expr)*] ")"                   # abs ceil clamp floor
                                                                 # max min round sqrt
             | "random" "(" ")"
             | ATTR "(" ENTITY ")"       # x y z vx vy vz speed tilt exists
             | "distance" "(" ENTITY "," ENTITY ")"
             | "count" "(" "tag" "=" TAG ["," (PREDICATE | "in" "=" ENTITY)] ")"

``NAME`` is a declared variable or the clock builtins ``time`` (seconds) and ``tick``;
names starting with ``_`` and the reserved words ``and or not true false`` are not
names. Numbers are decimal (``3``, ``2.5``, ``1e3``, ``.5``) with magnitude ≤ 1e12.
Results are ``float`` or ``bool``; booleans count as 1/0 in arithmetic, ``and``/``or``
short-circuit and return booleans, and ``x / 0`` and ``x % 0`` are ``0.0``.

>>> e = parse("score >= 10 and lives > 0", variables={"score", "lives"})
>>> sorted(e.variables)
['lives', 'score']
>>> parse("min(2, 3) * 4")(None)
8.0
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, NamedTuple, Protocol

__all__ = ["MAX_LENGTH", "MAX_DEPTH", "MAX_TOKENS", "FUNCTIONS", "PREDICATES", "ExprError",
           "StateView", "Expression", "parse"]

MAX_LENGTH = 1000  # characters of source
MAX_DEPTH = 32  # nested parentheses, unary operators and calls
MAX_TOKENS = 256
_MAX_LITERAL = 1e12
_MAX_ARGS = 16
_MAX_SHOWN = 20  # valid names listed in an error message

_MATH = {"abs": (1, 1), "ceil": (1, 1), "clamp": (3, 3), "floor": (1, 1),
         "max": (1, _MAX_ARGS), "min": (1, _MAX_ARGS), "round": (1, 1), "sqrt": (1, 1)}
_ATTRS = ("x", "y", "z", "vx", "vy", "vz", "speed", "tilt", "exists")
FUNCTIONS: tuple[str, ...] = tuple(sorted([*_MATH, *_ATTRS, "count", "distance", "random"]))
PREDICATES: tuple[str, ...] = ("fallen", "moving", "resting", "tilted")
"""Predicates for ``count(tag=T, P)``; ``count(tag=T, in=ZONE)`` is also accepted."""

_RESERVED = frozenset({"and", "or", "not", "true", "false"})
_CLOCKS = ("time", "tick")
_USAGE = {**{f: f"{f}(x)" for f in ("abs", "ceil", "floor", "round", "sqrt")},
          **{a: f"{a}(entity)" for a in _ATTRS},
          "clamp": "clamp(x, lo, hi)", "max": "max(a, b, ...)", "min": "min(a, b, ...)",
          "random": "random()", "distance": "distance(entity1, entity2)",
          "count": "count(tag=T) or count(tag=T, P) with P one of "
                   + ", ".join(PREDICATES) + " or in=ZONE"}
_EXPECT_VALUE = "expected a number, a name, true/false, '(' or a function call"


class ExprError(ValueError):
    """An expression that cannot be parsed; the message says what is wrong and what is valid.

    Attributes:
        source: The expression text (or a repr of a non-text value).
        position: 0-based character index of the problem, or None.
        message: The message without the echoed source.
    """

    def __init__(self, message: str, source: str = "", position: int | None = None):
        self.message, self.source, self.position = message, source, position
        super().__init__(f"{message} (in {_excerpt(source, position)!r})" if source else message)


def _excerpt(source: str, position: int | None, width: int = 60) -> str:
    """At most ``width`` characters of ``source`` around ``position``, marked when cut."""
    if len(source) <= width:
        return source
    start = max(0, min((position or 0) - width // 2, len(source) - width))
    end = start + width
    return ("..." if start else "") + source[start:end] + ("..." if end < len(source) else "")


def _q(text: str, width: int = 24) -> str:
    """Quote a token for a message, shortened so an error never echoes a huge token."""
    return repr(text if len(text) <= width else text[:width] + "...")


def _options(label: str, allowed: Collection[str], name: str) -> str:
    """``label: a, b, c`` (sorted, capped), preceded by a close-match hint if there is one."""
    names = sorted(allowed)
    shown = ", ".join(names[:_MAX_SHOWN]) or "(none)"
    if len(names) > _MAX_SHOWN:
        shown += f", ... ({len(names) - _MAX_SHOWN} more)"
    close = difflib.get_close_matches(name[:64], names, n=1)
    return (f"did you mean {close[0]!r}? " if close else "") + f"{label}: {shown}"


class StateView(Protocol):
    """Read-only state an expression may look at (implemented by the physics simulation)."""

    time: float
    tick: int

    def var(self, name: str) -> float:
        """The current value of a declared variable."""

    def count(self, tag: str, predicate: str | None, zone: str | None) -> int:
        """How many entities tagged ``tag`` satisfy ``predicate`` (one of PREDICATES), or
        are inside sensor entity ``zone``; both None counts every entity with the tag."""

    def entity(self, name: str, attr: str) -> float:
        """``attr`` (x y z vx vy vz speed tilt exists) of an entity; exists is 1.0/0.0."""

    def distance(self, a: str, b: str) -> float:
        """Distance in metres between two entities."""

    def random(self) -> float:
        """A float in [0, 1) from the simulation's seeded generator."""


@dataclass(frozen=True)
class Expression:
    """A parsed, compiled expression; call it with a :class:`StateView` to evaluate.

    Attributes:
        source: The expression text.
        variables: Variable names it reads.
        tags: Tags it counts.
        entities: Entity names it reads, including ``in=`` zones.
        uses_random: Whether it calls ``random()`` (so it is not deterministic per state).
    """

    source: str
    variables: frozenset[str]
    tags: frozenset[str]
    entities: frozenset[str]
    uses_random: bool
    _fn: Callable[[Any], float | bool] = field(repr=False, compare=False)

    def __call__(self, view: StateView) -> float | bool:
        """Evaluate against ``view``; returns a float or a bool and never raises itself."""
        return self._fn(view)

    def __str__(self) -> str:
        return self.source


# ---------------------------------------------------------------------------- tokens

class _Tok(NamedTuple):
    kind: str  # "num", "name", "op" or "end"
    text: str
    pos: int
    value: float = 0.0


_NUMBER = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = "0123456789"
_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_" + _DIGITS)
_OPS2 = ("==", "!=", "<=", ">=")
_OPS1 = "+-*/%<>()=,"
_BAD2 = {"**": "'**' (power) is not supported; multiply instead",
         "//": "'//' is not supported; use floor(a / b)",
         "&&": "use 'and'", "||": "use 'or'"}
_BAD1 = {"'": "strings are not supported", '"': "strings are not supported",
         "[": "subscripts are not supported", "]": "subscripts are not supported",
         ".": "attribute access is not supported", "!": "use 'not' to negate",
         "&": "use 'and'", "|": "use 'or'"}


def _tokenize(src: str) -> list[_Tok]:
    """Split ``src`` into tokens, ending with an ``end`` token; raise ExprError on bad input."""
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if len(toks) >= MAX_TOKENS:
            raise ExprError(f"expression too long: more than {MAX_TOKENS} tokens", src, i)
        if ch in _DIGITS or (ch == "." and i + 1 < n and src[i + 1] in _DIGITS):
            m = _NUMBER.match(src, i)
            end = m.end()
            if end < n and (src[end] in _WORD or src[end] == "."):
                raise ExprError(f"malformed number {_q(src[i:end + 1])} at {i}; write numbers "
                                "like 3, 2.5, .5 or 1e3", src, i)
            value = float(m.group())
            if not value <= _MAX_LITERAL:  # also catches inf
                raise ExprError(f"number {_q(m.group())} at {i} is too large; numbers must be "
                                "at most 1e12 in magnitude", src, i)
            toks.append(_Tok("num", m.group(), i, value))
        elif ch in _WORD:
            m = _NAME.match(src, i)
            end = m.end()
            if ch == "_":
                raise ExprError(f"name {_q(m.group())} at {i} starts with '_'; names may not "
                                "start with '_'", src, i)
            toks.append(_Tok("name", m.group(), i))
        elif src[i:i + 2] in _BAD2:
            raise ExprError(f"unexpected {_q(src[i:i + 2])} at {i}; {_BAD2[src[i:i + 2]]}", src, i)
        elif src[i:i + 2] in _OPS2 or ch in _OPS1:
            end = i + (2 if src[i:i + 2] in _OPS2 else 1)
            toks.append(_Tok("op", src[i:end], i))
        else:
            hint = _BAD1.get(ch, "expressions use numbers, names, + - * / %, comparisons "
                                 "(== != < <= > >=), and/or/not, parentheses and function calls")
            raise ExprError(f"unexpected {_q(ch)} at {i}; {hint}", src, i)
        i = end
    toks.append(_Tok("end", "", n))
    return toks


# ---------------------------------------------------------------------------- parser

class _Parser:
    """Recursive-descent parser producing a tuple tree, e.g. ``("arith", "+", a, b)``."""

    def __init__(self, src: str, variables: Collection[str] | None,
                 tags: Collection[str] | None, entities: Collection[str] | None):
        self.src, self.toks, self.i, self.depth = src, _tokenize(src), 0, 0
        self.allowed = {"variable": variables, "tag": tags, "entity": entities}
        self.used: dict[str, set[str]] = {"variable": set(), "tag": set(), "entity": set()}
        self.uses_random = False

    def error(self, message: str, pos: int | None) -> ExprError:
        return ExprError(message, self.src, pos)

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        if tok.kind != "end":
            self.i += 1
        return tok

    def at(self, text: str) -> bool:
        tok = self.toks[self.i]
        return tok.text == text and tok.kind in ("op", "name")

    def unexpected(self, tok: _Tok, expected: str) -> ExprError:
        if tok.kind == "end":
            return self.error(f"unexpected end of expression; {expected}", tok.pos)
        if tok.text == "=":
            expected = "use '==' to compare"
        return self.error(f"unexpected {_q(tok.text)} at {tok.pos}; {expected}", tok.pos)

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"expression nested too deeply at {tok.pos} (max depth "
                             f"{MAX_DEPTH}); simplify it", tok.pos)

    def parse(self) -> tuple:
        if self.peek().kind == "end":
            raise self.error("empty expression; expected e.g. 'score >= 10'", None)
        node = self.or_()
        tok = self.peek()
        if tok.kind != "end":
            if tok.text == ")":
                raise self.error(f"unmatched ')' at {tok.pos}", tok.pos)
            raise self.unexpected(tok, "expected an operator or the end of the expression")
        return node

    def or_(self) -> tuple:
        node = self.and_()
        while self.at("or"):
            self.take()
            node = ("or", node, self.and_())
        return node

    def and_(self) -> tuple:
        node = self.not_()
        while self.at("and"):
            self.take()
            node = ("and", node, self.not_())
        return node

    def not_(self) -> tuple:
        if not self.at("not"):
            return self.compare()
        self.enter(self.take())
        node = ("not", self.not_())
        self.depth -= 1
        return node

    def compare(self) -> tuple:
        node = self.sum()
        tok = self.peek()
        if tok.kind == "op" and tok.text in _CMP:
            self.take()
            node = ("cmp", tok.text, node, self.sum())
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text in _CMP:
                raise self.error(f"comparisons cannot be chained ({_q(nxt.text)} at {nxt.pos}); "
                                 "write 'a < b and b < c'", nxt.pos)
        return node

    def sum(self) -> tuple:
        node = self.term()
        while self.at("+") or self.at("-"):
            node = ("arith", self.take().text, node, self.term())
        return node

    def term(self) -> tuple:
        node = self.unary()
        while self.at("*") or self.at("/") or self.at("%"):
            node = ("arith", self.take().text, node, self.unary())
        return node

    def unary(self) -> tuple:
        if not (self.at("-") or self.at("+")):
            return self.atom()
        tok = self.take()
        self.enter(tok)
        node = ("neg" if tok.text == "-" else "pos", self.unary())
        self.depth -= 1
        return node

    def atom(self) -> tuple:
        tok = self.take()
        if tok.kind == "num":
            return ("const", tok.value)
        if tok.kind == "name" and tok.text not in _RESERVED:
            if self.at("("):
                return self.call(tok)
            if self.at("="):
                raise self.error(f"unexpected '=' at {self.peek().pos}; use '==' to compare; "
                                 "keyword arguments (tag=, in=) are only allowed in count()",
                                 self.peek().pos)
            if tok.text in _CLOCKS:
                return ("clock", tok.text)
            return ("var", self.known("variable", tok, "declared variables"))
        if tok.text in ("true", "false"):
            return ("const", tok.text == "true")
        if tok.text == "(":
            self.enter(tok)
            node = self.or_()
            self.close(tok, "expected ')' or an operator")
            self.depth -= 1
            return node
        raise self.unexpected(tok, _EXPECT_VALUE)

    def close(self, opener: _Tok, expected: str) -> None:
        tok = self.take()
        if tok.text != ")":
            if tok.kind == "end":
                raise self.error(f"missing ')' for {_q(opener.text)} at {opener.pos}", opener.pos)
            raise self.unexpected(tok, expected)

    def known(self, kind: str, tok: _Tok, label: str) -> str:
        """Check a name of ``kind`` against the declared ones (if any) and record it."""
        allowed = self.allowed[kind]
        if allowed is not None and tok.text not in allowed:
            raise self.error(f"unknown {kind} {_q(tok.text)} at {tok.pos}; "
                             + _options(label, allowed, tok.text), tok.pos)
        self.used[kind].add(tok.text)
        return tok.text

    def name_arg(self, kind: str, fn: str) -> str:
        tok = self.take()
        if tok.kind != "name" or tok.text in _RESERVED:
            raise self.unexpected(tok, f"expected {'an' if kind == 'entity' else 'a'} {kind} "
                                       f"name; usage: {_USAGE[fn]}")
        return self.known(kind, tok, "entities" if kind == "entity" else "tags")

    def expect(self, text: str, fn: str) -> None:
        if not self.at(text):
            raise self.unexpected(self.peek(), f"expected {text!r}; usage: {_USAGE[fn]}")
        self.take()

    def call(self, tok: _Tok) -> tuple:
        fn = tok.text
        if fn not in FUNCTIONS:
            hint = f"{_q(fn)} is a variable, not a function; " \
                if fn in (self.allowed["variable"] or ()) else ""
            raise self.error(f"unknown function {_q(fn)} at {tok.pos}; {hint}"
                             + _options("functions", FUNCTIONS, fn), tok.pos)
        self.take()  # "("
        self.enter(tok)
        if fn in _ATTRS:
            node = ("entity", fn, self.name_arg("entity", fn))
        elif fn == "distance":
            a = self.name_arg("entity", fn)
            self.expect(",", fn)
            node = ("distance", a, self.name_arg("entity", fn))
        elif fn == "random":
            self.uses_random, node = True, ("random",)
        elif fn == "count":
            node = self.count()
        else:
            args = [] if self.at(")") else [self.or_()]
            while args and self.at(","):
                self.take()
                args.append(self.or_())
            lo, hi = _MATH[fn]
            if not lo <= len(args) <= hi:
                want = str(lo) if lo == hi else f"{lo} to {hi}"
                raise self.error(f"{fn}() takes {want} argument{'s' * (hi > 1)}, got {len(args)}"
                                 f"; usage: {_USAGE[fn]}", tok.pos)
            node = ("call", fn, tuple(args))
        if self.at(","):
            raise self.error(f"too many arguments to {fn}() at {self.peek().pos}; "
                             f"usage: {_USAGE[fn]}", self.peek().pos)
        self.close(tok, f"expected ')'; usage: {_USAGE[fn]}")
        self.depth -= 1
        return node

    def count(self) -> tuple:
        if not self.at("tag"):
            raise self.unexpected(self.peek(), f"expected 'tag='; usage: {_USAGE['count']}")
        self.take()
        self.expect("=", "count")
        tag, predicate, zone = self.name_arg("tag", "count"), None, None
        if self.at(","):
            self.take()
            tok = self.peek()
            if tok.text == "in" and tok.kind == "name":
                self.take()
                self.expect("=", "count")
                zone = self.name_arg("entity", "count")
            elif tok.kind == "name" and tok.text in PREDICATES:
                predicate = self.take().text
            else:
                raise self.unexpected(tok, "expected a count predicate: "
                                           + ", ".join(PREDICATES) + " or in=ZONE")
        return ("count", tag, predicate, zone)


# ---------------------------------------------------------------------------- compiler

_VARIES = object()  # marks a subtree whose value depends on the view


class _Code(NamedTuple):
    fn: Callable[[Any], Any]
    boolean: bool
    const: Any = _VARIES


def _div(a: float, b: float) -> float:
    return a / b if b else 0.0


def _mod(a: float, b: float) -> float:
    return a % b if b else 0.0


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _round(x: float) -> float:
    """Round half away from zero (2.5 → 3, -2.5 → -3); inf and nan pass through."""
    if not math.isfinite(x):
        return x
    r = math.floor(x)
    diff = x - r  # exact for floats
    return float(r + 1 if diff > 0.5 or (diff == 0.5 and x > 0) else r)


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x > 0 else 0.0


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": _div, "%": _mod}
_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
        ">": operator.gt, ">=": operator.ge}
_UNARY = {"abs": abs, "floor": _floor, "ceil": _ceil, "round": _round, "sqrt": _sqrt}


def _const(value: float | bool) -> _Code:
    return _Code(lambda v: value, isinstance(value, bool), value)


def _fold(fn: Callable[[Any], Any], boolean: bool, *kids: _Code) -> _Code:
    """Evaluate ``fn`` now when every child is constant (pure nodes never touch the view)."""
    if all(k.const is not _VARIES for k in kids):
        return _const(fn(None))
    return _Code(fn, boolean)


def _num(code: _Code) -> Callable[[Any], float]:
    """A function giving the child's value as a float (booleans become 1.0/0.0)."""
    if not code.boolean:
        return code.fn
    if code.const is not _VARIES:
        return _const(float(code.const)).fn
    f = code.fn
    return lambda v: 1.0 if f(v) else 0.0


def _truth(code: _Code) -> Callable[[Any], bool]:
    f = code.fn
    return f if code.boolean else (lambda v: bool(f(v)))


def _binary(f: Callable[[Any, Any], Any], ca: _Code, cb: _Code, boolean: bool,
            convert: Callable[[_Code], Callable]) -> _Code:
    a, b = convert(ca), convert(cb)
    if cb.const is not _VARIES:
        c = b(None)
        return _fold(lambda v: f(a(v), c), boolean, ca, cb)
    return _fold(lambda v: f(a(v), b(v)), boolean, ca, cb)


def _call(name: str, kids: list[_Code]) -> _Code:
    args = [_num(k) for k in kids]
    if name in _UNARY:
        f, a = _UNARY[name], args[0]
        return _fold(lambda v: f(a(v)), False, *kids)
    if name == "clamp":
        x, lo, hi = args
        return _fold(lambda v: min(max(x(v), lo(v)), hi(v)), False, *kids)
    f = min if name == "min" else max
    if len(args) == 1:
        return _fold(args[0], False, *kids)
    if len(args) == 2:
        a, b = args
        return _fold(lambda v: f(a(v), b(v)), False, *kids)
    return _fold(lambda v: f([g(v) for g in args]), False, *kids)


def _compile(node: tuple) -> _Code:
    """Compile a tree from :class:`_Parser` into a closure taking a StateView."""
    kind = node[0]
    if kind == "const":
        return _const(node[1])
    if kind == "var":
        name = node[1]
        return _Code(lambda v: float(v.var(name)), False)
    if kind == "clock":
        return _Code((lambda v: float(v.time)) if node[1] == "time" else (lambda v: float(v.tick)), False)
    if kind == "random":
        return _Code(lambda v: float(v.random()), False)
    if kind == "entity":
        attr, name = node[1], node[2]
        if attr == "exists":
            return _Code(lambda v: bool(v.entity(name, "exists")), True)
        return _Code(lambda v: float(v.entity(name, attr)), False)
    if kind == "distance":
        a, b = node[1], node[2]
        return _Code(lambda v: float(v.distance(a, b)), False)
    if kind == "count":
        tag, predicate, zone = node[1:]
        return _Code(lambda v: float(v.count(tag, predicate, zone)), False)
    if kind == "call":
        return _call(node[1], [_compile(k) for k in node[2]])
    if kind in ("neg", "pos", "not"):
        ca = _compile(node[1])
        if kind == "not":
            t = _truth(ca)
            return _fold(lambda v: not t(v), True, ca)
        a = _num(ca)
        return _fold((lambda v: -a(v)) if kind == "neg" else a, False, ca)
    if kind in ("and", "or"):
        ca, cb = _compile(node[1]), _compile(node[2])
        a, b = _truth(ca), _truth(cb)
        fn = (lambda v: a(v) and b(v)) if kind == "and" else (lambda v: a(v) or b(v))
        return _fold(fn, True, ca, cb)
    if kind == "cmp":
        return _binary(_CMP[node[1]], _compile(node[2]), _compile(node[3]), True, lambda c: c.fn)
    return _binary(_ARITH[node[1]], _compile(node[2]), _compile(node[3]), False, _num)


# ---------------------------------------------------------------------------- API

def parse(text: str | float, *, variables: Collection[str] | None = None,
          tags: Collection[str] | None = None,
          entities: Collection[str] | None = None) -> Expression:
    """Parse and compile an expression.

    Args:
        text: The expression source, or an int/float/bool for a constant expression.
        variables: Declared variable names; None skips checking variable names.
        tags: Declared tags usable in ``count(tag=...)``; None skips checking.
        entities: Entity names (including zones); None skips checking.

    Returns:
        The compiled :class:`Expression`.

    Raises:
        ExprError: The text is not a valid expression, is too long or too deep, or names
            something undeclared. The message says what is wrong and what is valid.
    """
    if isinstance(text, bool):
        return Expression("true" if text else "false", frozenset(), frozenset(), frozenset(),
                          False, _const(text).fn)
    if isinstance(text, (int, float)):
        if not (isinstance(text, int) or math.isfinite(text)) or abs(text) > _MAX_LITERAL:
            raise ExprError(f"number {text!r} must be finite and at most 1e12 in magnitude")
        return Expression(repr(text), frozenset(), frozenset(), frozenset(), False,
                          _const(float(text)).fn)
    if not isinstance(text, str):
        raise ExprError(f"expected an expression string or a number, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"expression too long: {len(text)} characters (max {MAX_LENGTH})",
                        text, None)
    p = _Parser(text, *(None if c is None else frozenset(c) for c in (variables, tags, entities)))
    code = _compile(p.parse())
    return Expression(text, frozenset(p.used["variable"]), frozenset(p.used["tag"]),
                      frozenset(p.used["entity"]), p.uses_random, code.fn)
