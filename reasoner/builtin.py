"""The built-in reasoner: offline, on the CPU, no model hub.

Pipeline (each stage writes to the :class:`~reasoner.trace.ReasoningTrace`):

1. **Intent** — :func:`reasoner.intent.parse` reads objects, counts, physics words,
   players and twists; nouns it does not know are grounded to the nearest kind with
   MiniLM sentence embeddings (:mod:`reasoner.grounding`); images give a palette or, for
   a layout sketch, placements (:mod:`reasoner.images`).
2. **Mechanic** — the best-supported of the 16 templates of :mod:`reasoner.mechanics`
   (or one inferred from the objects' affordances); prompts outside what rigid-body
   physics can show get a :class:`ReasonerError` naming what is supported and the closest
   thing that can be built.
3. **Build** — the template writes entities, controls, rules, goals and a proof; then
   world-wide settings (gravity, bounciness, friction, time limit, twists, extra
   objects, style) are applied.
4. **Verify** — settle 2 s with no input, then play the proof. A failure changes the
   build parameters (spacing, clearance, control strength) and rebuilds; each repair
   is recorded. Deterministic: the same prompt, images and seed give the same spec.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from reasoner import knowledge as kb
from reasoner.base import Reasoner, ReasonerError
from reasoner.builder import Builder, Params, ident
from reasoner.intent import Intent, ObjectMention, mechanic_hints, parse
from reasoner.mechanics import TEMPLATES, TITLES
from reasoner.trace import ReasoningTrace
from reasoner.twists import apply_twists
from reasoner.verify import layout_report, prove, settle
from worldgen.spec import WorldSpec

__all__ = ["BuiltinReasoner", "MAX_PROMPT_CHARS", "SUPPORTED"]

MAX_PROMPT_CHARS = 4000  #: longer prompts are refused with a message (the parser reads 2000)
MAX_IMAGES = 4
MAX_REPAIRS = 3
GROUNDING_MIN_SIMILARITY = 0.45

#: What each mechanic builds, in the words error messages use.
SUPPORTED: dict[str, str] = {
    "bowling": "bowling / skittles", "billiards": "billiards / pool", "dominoes": "domino chains",
    "stacking": "block towers (Jenga)", "projectile": "shooting at targets (cannon, catapult, slingshot, throwing)",
    "goal_sport": "goal sports (soccer, hockey, air hockey, basketball)", "putting": "mini golf",
    "ramp": "ramps and marble runs", "plinko": "plinko / pachinko", "pendulum": "pendulums and Newton's cradles",
    "lever": "seesaws and levers", "sliding": "curling and shuffleboard", "tilt_maze": "tilt mazes",
    "slope": "sleds and boulders down slopes", "push": "pushing things onto targets", "zero_g": "zero-g floating",
}

# phenomena rigid-body physics cannot show, with the closest thing that can be built
_OUT_OF_SCOPE: list[tuple[re.Pattern, str, str]] = [
    (re.compile(r"\b(oceans?|seas?|waves?|water|rivers?|lakes?|rain|liquids?|fluids?|flood\w*|splash\w*|"
                r"swim\w*|pour\w*)\b"), "fluids (water, waves)", "a beach ball rolling down a ramp into a cup"),
    (re.compile(r"\b(fire|flames?|smoke|burn\w*|explod\w*|explosions?|lava)\b"), "fire, smoke and explosions",
     "a cannon firing at a tower of blocks"),
    (re.compile(r"\b(weather|wind|storms?|tornado\w*|hurricane\w*|clouds?|snowfall)\b"), "weather and wind",
     "a sled sliding down a snowy hill"),
    (re.compile(r"\b(cloth|fabric|flags? waving|hair|jelly|soft bod\w*|rubber band)\b"), "soft and deformable bodies",
     "a Newton's cradle of five steel balls"),
    (re.compile(r"\b(economy|stock market|traffic|city|cities|crowd\w*|ecosystem|evolution|chat|conversation|"
                r"story|poem|music|song)\b"), "systems without bodies to simulate",
     "a robot pushing crates onto targets"),
]

_SKETCH_ROLES = {"blue": "player", "red": "target", "black": "wall", "grey": "wall", "gray": "wall",
                 "brown": "wall", "green": "zone", "yellow": "pickup", "orange": "ramp"}


class BuiltinReasoner(Reasoner):
    """The default reasoner (see the module docstring)."""

    name = "builtin"

    def __init__(self, *, grounding: bool = True, max_repairs: int = MAX_REPAIRS):
        self.grounding = grounding
        self.max_repairs = max_repairs

    # ------------------------------------------------------------------ entry point

    def reason(self, prompt: str, images: Sequence[Any] = (), seed: int = 0) -> tuple[WorldSpec, ReasoningTrace]:
        prompt = _check_prompt(prompt)
        seed = _check_seed(seed)
        trace = ReasoningTrace(prompt=prompt, reasoner=self.name)
        intent = parse(prompt)
        trace.add("intent", _intent_summary(intent))
        for note in intent.notes:
            # "fallen pins" after "ten pins" names the same pins again; the count already says it
            again = re.match(r"object: '.*' → (.+), count unspecified$", note)
            if not (again and again.group(1) in intent.counts):
                trace.add("intent", note)
        grounded = self._ground(intent, trace)
        if grounded:  # grounded nouns are evidence too: "12 tiles" (→ domino) make a domino chain
            objects = [replace(o, kind=grounded.get(o.noun, o.kind)) for o in intent.objects]
            intent.mechanic_hints = mechanic_hints(intent.text, objects, intent.gravity)
            trace.add("intent", "mechanics with grounded nouns: "
                      + ", ".join(f"{m} {v:.2f}" for m, v in intent.mechanic_hints[:4]))
        hints, sketch = _read_images(images, trace)
        mechanics = _choose(intent, grounded, sketch, trace)
        spec, build_trace = self._build_verified(intent, grounded, mechanics, hints, sketch, seed, trace)
        trace.extend(build_trace)
        return spec, trace

    def rebuild_with_counts(self, spec: WorldSpec, counts: dict[str, tuple[str, int]], seed: int,
                            trace: ReasoningTrace) -> WorldSpec:
        """``spec`` rebuilt from its own prompt with new object counts (``kind → (add|remove|set, n)``).

        Used by :func:`reasoner.edit.edit_spec`; the same seed keeps the rest of the layout. Raises
        :class:`ReasonerError` if the prompt no longer gives the same kind of world.
        """
        quiet = ReasoningTrace()
        intent = parse(spec.metadata.prompt)
        grounded = self._ground(intent, quiet)
        mechanics = _choose(intent, grounded, None, quiet)
        for kind, (how, n) in counts.items():
            have = sum(1 for e in spec.entities if e.kind == kind or (not e.static and ident(kind) in e.tags))
            want = {"add": have + n, "remove": max(0, have - n), "set": n}[how]
            intent.counts[kind] = want
            if kind not in intent.kinds:
                intent.objects.append(ObjectMention(noun=kind, kind=kind, count=want, plural=want != 1))
            trace.add("edit", f"{kind}: {have} → {want}", kind=kind, before=have, after=want)
        new, sub = self._build_verified(intent, grounded, mechanics, None, None, seed, trace)
        if new.metadata.title != spec.metadata.title:
            raise ReasonerError(f"the prompt now builds a {new.metadata.title}, not a {spec.metadata.title}",
                                requirement="edit.same_world")
        for st in sub.stage("verification"):
            trace.add("verification", st.text, **st.data)
        return new

    # ------------------------------------------------------------------ stages

    def _ground(self, intent: Intent, trace: ReasoningTrace) -> dict[str, str]:
        nouns = [m.noun for m in intent.objects if m.kind is None]
        nouns = list(dict.fromkeys(nouns))[:16]
        if not nouns:
            return {}
        if not self.grounding:
            trace.add("grounding", f"unknown nouns left ungrounded (grounding off): {', '.join(nouns)}")
            return {}
        from reasoner.grounding import ground

        out: dict[str, str] = {}
        for g in ground(nouns, min_similarity=GROUNDING_MIN_SIMILARITY, context=intent.text):
            alts = ", ".join(f"{k} {s:.2f}" for k, s in g.alternatives)
            if g.kind is None:
                trace.add("grounding", f"'{g.noun}' matches no kind well enough (best similarity {g.similarity:.2f} "
                                       f"< {GROUNDING_MIN_SIMILARITY}); left out", noun=g.noun,
                          similarity=g.similarity)
            else:
                out[g.noun] = g.kind
                trace.add("grounding", f"'{g.noun}' → {g.kind} (similarity {g.similarity:.2f}, {g.method}; next: "
                                       f"{alts or 'none'}): built like a {g.kind}, still called '{g.noun}'",
                          noun=g.noun, kind=g.kind, similarity=g.similarity)
        return out

    def _build_verified(self, intent: Intent, grounded: dict[str, str], mechanics: list[str], hints: Any,
                        sketch: Any, seed: int, trace: ReasoningTrace) -> tuple[WorldSpec, ReasoningTrace]:
        params = Params()
        last_error = ""
        for attempt in range(self.max_repairs + 1):
            sub = ReasoningTrace(prompt=intent.prompt)
            b = Builder(intent, seed, sub, replace(params, attempt=attempt), grounded)
            spec = _build(b, mechanics, hints, sketch)
            rep = settle(spec, b.movers)
            if not rep.ok:
                last_error = "; ".join(rep.errors[:3])
                trace.add("verification", f"attempt {attempt + 1}: settling failed: {last_error}",
                          errors=rep.errors[:10])
                params = _repair_layout(params, rep, trace)
                continue
            sub.add("verification", f"settled {rep.ticks / 60:.1f} s with no input: nothing interpenetrates, falls "
                                    "through the floor or leaves the world"
                    + (", and nothing that should rest moved" if not b.movers else
                       f"; {len(b.movers)} bodies are meant to move ({', '.join(sorted(b.movers)[:4])}"
                       + (" …" if len(b.movers) > 4 else "") + ")"), ticks=rep.ticks)
            failed = None
            for proof in b.proofs:
                ok, text = prove(spec, proof)
                sub.add("verification", ("proof passed — " if ok else "proof failed — ") + text, passed=ok,
                        proof=proof.to_dict())
                if not ok:
                    failed = text
                    break
            if failed is None:
                for line in layout_report(spec):
                    sub.add("layout", line)
                return spec, sub
            last_error = failed
            trace.add("verification", f"attempt {attempt + 1}: {failed}")
            params = replace(params, strength=params.strength * 1.35)
            trace.add("repair", f"the mechanic check failed, so controls were made {params.strength:.2f}× stronger "
                                "and the world rebuilt", strength=round(params.strength, 3))
        raise ReasonerError(
            f"could not build a working {', '.join(TITLES[m].lower() for m in mechanics)} for this prompt after "
            f"{self.max_repairs} repairs: {last_error}. Try fewer objects or a plainer setup.",
            requirement="verify", trace=trace, suggestion=None)


# ---------------------------------------------------------------- building


def _build(b: Builder, mechanics: list[str], hints: Any, sketch: Any) -> WorldSpec:
    intent = b.intent
    g = intent.gravity if intent.gravity is not None else (0.0, 0.0, -9.81)
    b.physics["gravity"] = tuple(float(c) for c in g)
    if intent.time_limit:
        b.physics["time_limit"] = float(intent.time_limit)
    main = mechanics[0]
    b.note("intent", f"mechanic: {TITLES[main]} ({main})"
           + (f", composed with {', '.join(TITLES[m] for m in mechanics[1:])}" if mechanics[1:] else ""),
           mechanic=main, mechanics=mechanics)
    for i, m in enumerate(mechanics):
        b.offset = (0.0, 14.0 * i)
        if sketch is not None and i == 0:
            _sketch_layout(b, sketch)
        else:
            TEMPLATES[m](b)
    b.offset = (0.0, 0.0)
    if "bounds" in b.physics:  # a template's bounds must hold every template's bodies
        lo, hi = b.physics["bounds"]
        pts = [e.position for e in b.entities if e.shape.type != "plane"]
        b.physics["bounds"] = (tuple(min(lo[i], *(p[i] - 5 for p in pts)) for i in range(3)),
                               tuple(max(hi[i], *(p[i] + 5 for p in pts)) for i in range(3)))
    if main == "zero_g" or b.physics.get("gravity") == (0.0, 0.0, 0.0):
        b.movers.update(e.name for e in b.entities if not e.static)
    _world_physics(b)
    _props(b)
    apply_twists(b)
    _players(b)
    _style(b, hints)
    _describe_inventory(b)
    if intent.time_limit:
        b.note("goals", f"time limit {intent.time_limit:g} s: the episode ends then")
    if intent.win_score and not any(gl.name.startswith("score_") for gl in b.goals):
        var = next((v for v in ("score", "p1_score", "toppled", "clicks", "removed") if v in b.variables), None)
        if var:
            b.goal(f"score_{intent.win_score}", f"{var} >= {intent.win_score}")
            b.note("goals", f"reaching {intent.win_score} on {var} wins (from the prompt)")
    b.note("goals", "reset: world.reset() restarts the episode from this spec's initial state")
    title = TITLES[main] if len(mechanics) == 1 else " + ".join(TITLES[m] for m in mechanics)
    return b.spec(title, intent.prompt[:300])


def _world_physics(b: Builder) -> None:
    intent = b.intent
    g = b.physics["gravity"]
    b.note("physics", f"gravity {tuple(round(c, 2) for c in g)} m/s² — {intent.gravity_note}")
    if intent.restitution is not None:
        changed = _set_material(b, "restitution", min(1.0, intent.restitution), dynamic_only=False)
        b.note("physics", f"bounciness {intent.restitution:.2f} on {changed} bodies (contacts combine both "
                          "sides, so the ground is bouncy too)")
    if intent.friction is not None:
        changed = _set_material(b, "friction", intent.friction, dynamic_only=False)
        b.note("physics", f"friction {intent.friction:.2f} on {changed} bodies")


def _set_material(b: Builder, prop: str, value: float, dynamic_only: bool) -> int:
    n = 0
    for i, e in enumerate(b.entities):
        if e.sensor or (dynamic_only and e.static):
            continue
        if b.roles.get("striker") and e.name in b.roles["striker"]:
            continue
        b.entities[i] = e.model_copy(update={"material": e.material.model_copy(update={prop: value})})
        n += 1
    return n


def _props(b: Builder) -> None:
    """Objects the prompt mentions that the template did not use stand nearby, clear of the play area."""
    xs = [e.position[0] for e in b.entities if e.shape.type != "plane"] or [0.0]
    ys = [e.position[1] for e in b.entities if e.shape.type != "plane"] or [0.0]
    y0 = max(ys) + 2.0
    x = min(xs)
    placed = 0
    for o in b.intent.objects:
        k = o.kind or b.grounded.get(o.noun)
        if o.in_twist or k is None or k in b.used_kinds:
            continue
        kind = kb.KINDS[k]
        if kind.sensor or kind.shape == "plane" or kb.extent(k, o.scale) > 8:
            b.note("inventory", f"'{o.text}' is a setting, not an object here ({k}); not added")
            b.used_kinds.add(k)
            continue
        n = min(o.count or 1, 12)
        step = kb.extent(k, o.scale) + 0.4
        for i in range(n):
            b.make(k, f"{b.noun_for(k)}_{i + 1}" if n > 1 else b.noun_for(k), (x - b.offset[0], y0 - b.offset[1], 0),
                   role="prop")
            x += step
            placed += 1
        b.note("inventory", f"{n} {b.noun_for(k)}(s) from the prompt stand beside the play area as extra objects "
                            f"(the {k} plays no part in the rules)")
        b.used_kinds.add(k)
    for o in b.intent.objects:
        if o.kind is None and o.noun not in b.grounded and not o.in_twist:
            b.note("inventory", f"'{o.text}' was not understood and is left out")


def _players(b: Builder) -> None:
    want = b.intent.players
    have = len(b.controls)
    if want > have and have >= 1:
        first = next(iter(b.controls))
        for i in range(have + 1, want + 1):
            b.controls[f"p{i}"] = [c.model_copy(update={"keys": []}) for c in b.controls[first]]
        b.note("controls", f"{want} players asked for; this game is played in turns, so players "
                           f"{', '.join(f'p{i}' for i in range(have + 1, want + 1))} share p1's controls "
                           "(no keys of their own: the editor, API or RL agents drive them)")


def _style(b: Builder, hints: Any) -> None:
    words = b.intent.style_words
    style: dict[str, Any] = {}
    if words:
        style["name"] = ident(words[0])[:40]
        style["prompt"] = ", ".join(words) + f" {TITLES.get(b.trace.steps[0].data.get('mechanic', ''), '')}".rstrip()
    if hints is not None:
        style["palette"] = [tuple(round(c, 3) for c in rgb) for rgb in hints.palette[:8]]
        style["background"] = tuple(round(c, 3) for c in hints.background)
        extra = ", ".join(hints.style_words)
        style["prompt"] = ", ".join(x for x in (style.get("prompt", ""), extra) if x)[:500]
        b.note("appearance", f"reference image ({hints.source}): palette of {len(hints.palette)} colours, "
                             f"background {tuple(round(c, 2) for c in hints.background)}, style words: "
                             f"{extra or 'none'}")
    b.style.update(style)
    looks = sorted({(e.kind, _color_name(e.appearance.color), e.appearance.look) for e in b.entities
                    if not e.sensor and e.shape.type != "plane"})
    b.note("appearance", "looks: " + ", ".join(f"{k} {c} {lk}" for k, c, lk in looks[:10])
           + (" …" if len(looks) > 10 else ""))
    if style.get("prompt"):
        b.note("appearance", f"render style: {style.get('name', 'default')} — '{style['prompt'][:120]}'")
    sounds = sorted({eff.sound for r in b.rules for eff in r.do if eff.do == "sound"})
    if sounds:
        b.note("appearance", "sound cues: " + ", ".join(sounds))


def _color_name(rgb) -> str:
    """The nearest plain colour word for an RGB triple."""
    best = min(_PLAIN_COLORS, key=lambda n: sum((a - c) ** 2 for a, c in zip(kb.color(n), rgb)))
    return best


_PLAIN_COLORS = ("red", "green", "blue", "yellow", "orange", "purple", "pink", "white", "black", "grey", "brown",
                 "cyan", "silver", "gold", "beige", "navy", "dark green", "tan")


def _describe_inventory(b: Builder) -> None:
    groups: dict[tuple[str, str], list] = {}
    for e in b.entities:
        if e.shape.type == "plane":
            continue
        groups.setdefault((e.kind, "zone" if e.sensor else ("static" if e.static else "dynamic")), []).append(e)
    for (kind, what), es in groups.items():
        e = es[0]
        s = e.shape
        geo = {"box": lambda: f"box {' × '.join(f'{v:.2f}' for v in s.size)} m",
               "sphere": lambda: f"sphere r {s.radius:.3f} m",
               "cylinder": lambda: f"cylinder r {s.radius:.3f} m, h {s.height:.2f} m",
               "capsule": lambda: f"capsule r {s.radius:.3f} m, h {s.height:.2f} m"}.get(s.type, lambda: s.type)()
        b.note("inventory", f"{len(es)} × {kind} ({what}): {geo}", kind=kind, count=len(es))
        if what == "dynamic":
            m = e.material
            b.note("physics", f"{kind}: {e.mass:.3g} kg, {m.name}, friction {m.friction:.2f}, restitution "
                              f"{m.restitution:.2f}, damping {m.linear_damping:.2f}")
    for pl, cs in b.controls.items():
        for c in cs:
            b.note("controls", f"{pl}.{c.name}: {c.type} → {c.apply} on {c.target or '(rules)'}"
                               + (f", keys {'/'.join(c.keys)}" if c.keys else ""))
    for r in b.rules:
        on = r.on.model_dump(exclude_defaults=True)
        b.note("rules", f"{r.name}: on {r.on.event} {_fmt_on(on)}" + (f" when {r.when}" if r.when else "")
               + " → " + ", ".join(eff.do for eff in r.do))
    for gl in b.goals:
        b.note("goals", f"goal {gl.name}: {gl.when} → {gl.outcome}")


def _fmt_on(on: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in on.items() if k != "event")


def _repair_layout(params: Params, rep: Any, trace: ReasoningTrace) -> Params:
    if rep.overlaps or rep.fell:
        new = replace(params, clearance=params.clearance + 0.005, spacing=params.spacing * 1.1)
        trace.add("repair", f"bodies started inside each other or fell through: added {new.clearance * 100:.1f} cm "
                            f"of clearance and spaced objects {new.spacing:.2f}× wider, then rebuilt")
    else:
        new = replace(params, spacing=params.spacing * 1.25, clearance=params.clearance + 0.001)
        names = ", ".join(n for n, *_ in rep.drifted[:4])
        trace.add("repair", f"{names} moved with no input (knocked by a neighbour or unsupported): spaced objects "
                            f"{new.spacing:.2f}× wider and rebuilt")
    return new


# ---------------------------------------------------------------- mechanic choice


def _choose(intent: Intent, grounded: dict[str, str], sketch: Any, trace: ReasoningTrace) -> list[str]:
    hints = [(m, s) for m, s in intent.mechanic_hints if m in TEMPLATES]
    text = intent.text
    scope = [(what, closest) for rx, what, closest in _OUT_OF_SCOPE if rx.search(text)]
    kinds = [*intent.kinds, *grounded.values()]
    if not hints and kinds:
        m = _from_affordances(kinds, intent)
        if m:
            hints = [(m, 1.0)]
            trace.add("intent", f"no game named; the objects' affordances ({', '.join(kinds[:5])}) suggest "
                                f"{TITLES[m].lower()}")
    if not hints and sketch is not None:
        hints = [("push", 1.0)]
    if scope and not kinds:  # "a forest fire": a game word ("fire") alone does not make it a shooting game
        hints = []
    if not hints:
        supported = "; ".join(SUPPORTED.values())
        if scope:
            what, closest = scope[0]
            raise ReasonerError(
                f"worldgen simulates rigid bodies, and this prompt asks for {what}, which it cannot simulate. "
                f"It can build: {supported}. Closest thing it can build: \"{closest}\".",
                requirement="prompt.in_scope", suggestion=closest, trace=trace)
        unknown = [m.noun for m in intent.objects if m.kind is None]
        raise ReasonerError(
            "found nothing to build in this prompt: no game, and no object worldgen knows"
            + (f" ('{', '.join(unknown[:3])}' matched no kind)" if unknown else "")
            + f". Supported: {supported}. For example: \"ten dominoes in a curve\" or "
            f"\"a cannon firing at a pyramid of cans\".", requirement="prompt.understood",
            suggestion="a bowling alley with ten pins", trace=trace)
    for what, _ in scope:
        trace.add("intent", f"{what}: not simulated (rigid bodies only); kept only as a style word")
    if hints[0][0] == "zero_g" and len(hints) > 1 and hints[1][1] >= 0.2:
        # "ten pins, zero gravity": the game is bowling; zero gravity is a setting, already in the physics
        trace.add("intent", f"zero gravity is the setting; the game is {TITLES[hints[1][0]].lower()}")
        hints = hints[1:]
    main = hints[0][0]
    chosen = [main]
    # a second, clearly requested mechanic (≥ 0.4 of the evidence) is composed beside the first (a bowling
    # lane and a domino chain); weaker evidence ("push the first one over") is a verb, not a second game
    for m, s in hints[1:]:
        if s >= 0.4 and m not in ("zero_g",) and m != main and len(chosen) < 2 and not _same_family(main, m):
            chosen.append(m)
    if not intent.mechanic_hints:
        trace.add("intent", "evidence: " + ", ".join(f"{m} {s:.2f}" for m, s in hints[:4]))
    return chosen


_FAMILIES = [{"bowling", "projectile", "pendulum"}, {"goal_sport", "putting", "sliding", "billiards"},
             {"ramp", "plinko", "slope", "tilt_maze"}, {"push", "stacking", "lever"}]


def _same_family(a: str, b: str) -> bool:
    return any(a in f and b in f for f in _FAMILIES)


def _from_affordances(kinds: list[str], intent: Intent) -> str | None:
    if intent.gravity == (0.0, 0.0, 0.0):
        return "zero_g"
    aff = [set(kb.KINDS[k].affordances) for k in kinds]
    has = lambda a: any(a in s for s in aff)  # noqa: E731
    if has("topple") and has("roll"):
        return "bowling"
    if has("projectile") and (has("target") or has("topple")):
        return "projectile"
    if has("swing"):
        return "pendulum"
    if has("slide"):
        return "sliding"
    if has("stack"):
        return "stacking"
    if has("float"):
        return "zero_g"
    if has("roll") or has("bounce"):
        return "ramp"
    if has("push") or has("obstacle") or has("topple") or has("target"):
        return "push"
    return None


def _intent_summary(intent: Intent) -> str:
    bits = []
    if intent.counts:
        bits.append("objects: " + ", ".join(f"{n} × {k}" for k, n in intent.counts.items()))
    if intent.gravity is not None:
        bits.append(f"gravity {intent.gravity}")
    if intent.players > 1:
        bits.append(f"{intent.players} players")
    if intent.twists:
        bits.append(f"{len(intent.twists)} twist(s)")
    return "read the prompt: " + ("; ".join(bits) if bits else "no counts or physics words")


# ---------------------------------------------------------------- input checks


def _check_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str):
        raise ReasonerError(f"the prompt must be text, got {type(prompt).__name__}", requirement="prompt.type")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ReasonerError(
            f"the prompt is {len(prompt):,} characters; the limit is {MAX_PROMPT_CHARS:,}. Describe the world in a "
            "few sentences (objects, counts, how it scores), e.g. \"a bowling alley with ten pins; the score counts "
            "fallen pins\".", requirement="prompt.size", suggestion="a bowling alley with ten pins")
    if not prompt.strip():
        raise ReasonerError("the prompt is empty. Describe a game or scene, e.g. \"a bowling alley with ten pins\". "
                            f"Supported: {'; '.join(SUPPORTED.values())}.", requirement="prompt.nonempty",
                            suggestion="a bowling alley with ten pins")
    return prompt


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ReasonerError(f"seed must be an integer in [0, 2**63), got {seed!r}", requirement="seed")
    return seed


def _read_images(images: Sequence[Any], trace: ReasoningTrace) -> tuple[Any, Any]:
    if images is None or (not isinstance(images, (list, tuple)) and hasattr(images, "shape")):
        images = [] if images is None else [images]
    if isinstance(images, (str, bytes)):
        images = [images]
    images = list(images)
    if not images:
        return None, None
    if len(images) > MAX_IMAGES:
        raise ReasonerError(f"{len(images)} images given; at most {MAX_IMAGES} are read", requirement="images.count")
    from reasoner import images as img

    hints = sketch = None
    for i, im in enumerate(images):
        try:
            arr = img.load_image(im)
            got = img.read_sketch(arr) if img.is_sketch(arr) else img.read_reference(arr)
        except (ValueError, OSError) as e:
            raise ReasonerError(f"image {i + 1}: {e}", requirement="images.readable") from e
        src = str(im) if isinstance(im, (str, bytes)) or hasattr(im, "__fspath__") else "array"
        if isinstance(got, img.Sketch):
            if sketch is None:
                sketch = got
                counts: dict[str, int] = {}
                for s in got.shapes:
                    counts[f"{s.color_name} {s.shape}"] = counts.get(f"{s.color_name} {s.shape}", 0) + 1
                trace.add("images", f"image {i + 1} ({src}) is a layout sketch: "
                                    + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
                                    + f"; it spans {got.extent[0]:.0f} × {got.extent[1]:.0f} m (docs/sketches.md)")
        elif hints is None:
            hints = replace(got, source=src) if hasattr(got, "__dataclass_fields__") else got
            trace.add("images", f"image {i + 1} ({src}) is a reference image: palette and style hints for the "
                                "renderer")
    return hints, sketch


# ---------------------------------------------------------------- sketches


def _sketch_layout(b: Builder, sketch: Any) -> None:
    """A world laid out from a top-down sketch (legend in docs/sketches.md): the blue shape is driven."""
    b.floor("wood")
    player = None
    zone = None
    targets = []
    n = 0
    for s in sketch.shapes:
        role = _SKETCH_ROLES.get(s.color_name)
        x, y = s.center
        length, width = max(s.size[0], 0.05), max(s.size[1], 0.05)
        n += 1
        if role == "wall":
            b.box(f"wall_{n}", (x, y, 0.3), (length, width, 0.6), rotation=(0, 0, s.angle_deg), color=s.color)
        elif role == "ramp":
            b.box(f"ramp_{n}", (x, y, 0.1), (length, width, 0.2), kind="ramp", rotation=(0, 8, s.angle_deg),
                  color=s.color, tags=("ramp",))
        elif role == "zone":
            zone = b.zone(f"zone_{n}", (x, y, 0.3), (length, width, 0.6), color=s.color, tags=("zone",))
        elif role == "player" and player is None:
            kind = b.pick("ball" if s.shape == "circle" else "robot", among=("ball", "robot", "crate", "puck"))
            player = b.make(kind, "player", (x, y, 0), role="agent", color=s.color,
                            scale=max(0.3, min(4.0, length / kb.extent(kind))))
        elif role in ("target", "pickup"):
            kind = b.pick("pin" if role == "target" else "coin", among=("pin", "can", "crate", "coin", "apple", "block"))
            e = b.make(kind, f"{role}_{n}", (x, y, 0), role=role, color=s.color)
            targets.append(e)
    b.note("layout", f"placed {n} shapes from the sketch by its colour legend (blue: the player's object, red: "
                     "targets, dark: walls, green: goal zone, yellow: pickups, orange: ramps)")
    if player is None:
        player = b.make("ball", "player", (0, 0, 0), role="agent")
        b.note("layout", "the sketch has no blue shape, so the player's ball starts at the centre")
    for axis, d, keys in (("move_x", (1, 0, 0), ["a", "d"]), ("move_y", (0, 1, 0), ["s", "w"])):
        b.control("p1", axis, type="axis", range=(-1, 1), target=player.name, apply="velocity", direction=d,
                  strength=2.0, keys=keys)
    b.var("score", 0, min=0)
    if zone is not None:
        b.rule("reach_zone", {"event": "enter", "zone": zone.name, "tag": "agent"},
               [{"do": "add", "var": "score", "value": 1}, {"do": "message", "text": "Made it!"}], once=True)
    for tag in sorted({"target" if "target" in t.tags else "pickup" for t in targets}):
        b.rule(f"touch_{tag}", {"event": "collision", "a": "agent", "b": tag},
               [{"do": "add", "var": "score", "value": 1}, {"do": "destroy", "target": "$other"}], cooldown=0.2)
    half = max(sketch.extent) / 2 + 1
    b.physics["bounds"] = ((-half - 5, -half - 5, -5), (half + 5, half + 5, 30))
    b.camera((0, -half * 1.2, half * 1.3), (0, 0, 0), 55)
    b.camera((0, 0, half * 2.2), (0, 0, 0), 60, name="top", mode="top_down")
    b.prove("the player's object moves when driven", f"abs(x(player) - {player.position[0]:.3f}) > 0.3", 120,
            {t: {"p1": {"move_x": 1 if player.position[0] < 0 else -1}} for t in range(5, 65)})

