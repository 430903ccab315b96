"""Prompt understanding: a prompt becomes a plain :class:`Intent`.

:func:`parse` reads a prompt with rules and the tables of :mod:`reasoner.knowledge`
(no model) and returns what it understood: the objects mentioned (with counts, colours,
materials, sizes), gravity, bounciness, friction, a time limit, the number of players,
timed and conditional twists, style words and evidence for each game mechanic of
:data:`MECHANICS`. Every decision is written to ``Intent.notes`` in plain English.

Conventions:

- Gravity is a vector in m/s²; ``None`` means "not said" (Earth, 9.81 down). "Sideways"
  is **+x** (the long axis of most worlds: lanes, tables, fields); "left"/"right" are
  +y/−y and "forward"/"backward" +x/−x, for a viewer looking along +x; "reversed" and
  "upside down" point up (+z). Strength words: moon 1.62, mars 3.71, jupiter 24.79,
  "low" 3, "high"/"heavy" 20, "N times gravity" N × 9.81, zero-g 0.
- A count is an ``int`` (``None``: a plural without a number, "some pins"). Counts are
  capped at :data:`MAX_COUNT`, players at :data:`MAX_PLAYERS`.
- Contradictions ("no gravity with heavy gravity") keep the first mention and say so.
- Only the first :data:`MAX_CHARS` characters are read. :func:`parse` never raises.

>>> it = parse("a bowling alley with ten pins on the moon; gravity reverses every 5 seconds")
>>> it.counts, it.gravity, it.top_mechanic
({'lane': 1, 'pin': 10}, (0.0, 0.0, -1.62), 'bowling')
>>> it.twists[0].every_s, it.twists[0].action.what
(5.0, 'reverse_gravity')
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Union

from reasoner import knowledge as kb

__all__ = [
    "CHANGES", "MAX_CHARS", "MAX_COUNT", "MAX_PLAYERS", "MECHANICS", "AfterCountTwist", "AtTimeTwist", "Change",
    "EveryTwist", "Intent", "ObjectMention", "Twist", "WhenTwist", "mechanic_hints", "parse",
]

MAX_CHARS = 2000  #: characters of a prompt that are read
MAX_COUNT = 500  #: the largest count of one kind of object
MAX_PLAYERS = 4
EARTH_G = 9.81

#: The game mechanics the reasoner knows, each with what it means.
MECHANICS: tuple[str, ...] = (
    "bowling",      # roll a ball at standing pins/skittles; count the fallen
    "billiards",    # pool/snooker: strike a cue ball into others, pot them in pockets
    "dominoes",     # a chain of standing tiles; one push topples them all
    "stacking",     # build or dismantle towers (Jenga), keep them standing
    "projectile",   # throw, shoot or launch (slingshot, cannon, catapult) at targets
    "goal_sport",   # soccer, hockey, basketball, air hockey: get a ball/puck into a goal
    "putting",      # mini golf: putt a ball into a hole
    "ramp",         # ramps, inclines and marble runs
    "plinko",       # drop a ball through pegs (plinko, pachinko, Galton board)
    "pendulum",     # pendulums, Newton's cradle, wrecking balls
    "lever",        # seesaws and levers on a fulcrum
    "sliding",      # slide a stone or puck to a target (curling, shuffleboard)
    "tilt_maze",    # tilt a board to roll a marble through a maze
    "slope",        # slide or roll down a hill (sleds, skis, boulders)
    "push",         # push an object onto a target zone (sokoban, robot and crate)
    "zero_g",       # floating bodies without gravity
)

#: What a twist can change (``Change.what``).
CHANGES: tuple[str, ...] = (
    "reverse_gravity",  # gravity flips sign
    "set_gravity",      # value: the new gravity vector
    "scale_gravity",    # value: factor
    "rotate_gravity",   # gravity turns sideways (by 90°)
    "look_like",        # target's appearance becomes value (a kind name or noun)
    "color",            # value: RGB
    "material",         # value: a material name
    "grow", "shrink",   # value: size factor
    "speed_up", "slow_down",  # value: speed factor
    "spawn",            # value: how many of target appear
    "destroy",          # target disappears
    "hide", "show",     # target becomes invisible / visible
    "set_restitution",  # value: restitution
    "set_friction",     # value: friction
    "scale_mass",       # value: factor
    "score",            # value: points
    "add_time",         # value: seconds (negative: lose time)
    "lose_life",
    "end",              # value: "win", "lose" or "done"
    "message",          # value: the text
    "other",            # not understood; see ``text``
)


# ---------------------------------------------------------------- result types


@dataclass(frozen=True)
class ObjectMention:
    """One mention of a thing in the prompt.

    Attributes:
        noun: the head noun as written (normalised), e.g. ``"bowling pins"``.
        kind: the knowledge-base kind it names, or None if unknown.
        count: how many (None: a plural without a number).
        plural: whether the noun was plural.
        color, color_name: RGB (0..1) and the colour word, if one was given.
        material: a :data:`reasoner.knowledge.MATERIALS` name, if one was given.
        scale: size factor from words like "tiny" (0.25) or "giant" (4), or a measured size.
        size_m: a measured size ("a 2 m ramp") in metres, if given.
        adjectives: other modifiers as written ("shiny", "bouncy").
        arrangement: "pyramid", "row", "tower", ... if the prompt arranges them.
        restitution, friction: physical values implied by adjectives ("bouncy", "slippery").
        in_twist: the mention is part of a twist ("after 10 apples ...") rather than the scene.
        text: the whole mention as written; span: its character offsets in ``Intent.text``.
    """

    noun: str
    kind: str | None
    count: int | None = 1
    plural: bool = False
    color: tuple[float, float, float] | None = None
    color_name: str | None = None
    material: str | None = None
    scale: float = 1.0
    size_m: float | None = None
    adjectives: tuple[str, ...] = ()
    arrangement: str | None = None
    restitution: float | None = None
    friction: float | None = None
    in_twist: bool = False
    text: str = ""
    span: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Change:
    """What a twist does: ``what`` (one of :data:`CHANGES`) to ``target`` with ``value``.

    ``target`` is a kind name, another noun, ``"it"`` (the thing in the condition),
    ``"all"``, ``"gravity"`` or None; ``text`` is the clause it was read from.
    """

    what: str
    target: str | None = None
    value: Any = None
    text: str = ""


@dataclass(frozen=True)
class EveryTwist:
    """Something that happens every ``every_s`` seconds ("gravity reverses every 5 seconds")."""

    every_s: float
    action: Change
    text: str = ""


@dataclass(frozen=True)
class AtTimeTwist:
    """Something that happens once, ``at_s`` seconds in ("after 30 seconds the lights go out")."""

    at_s: float
    change: Change
    text: str = ""


@dataclass(frozen=True)
class AfterCountTwist:
    """A change after ``count`` of ``what_counted`` ("after 10 apples the bullets look like apples").

    ``what_counted`` is a kind name or a singular noun ("point", "hit"); ``event`` what
    happens to them, if said ("collected", "hit", "fallen", "scored", "destroyed", "sunk");
    ``repeat`` is True for "every 10 apples".
    """

    count: int
    what_counted: str
    change: Change
    repeat: bool = False
    event: str | None = None
    text: str = ""


@dataclass(frozen=True)
class WhenTwist:
    """A change when a condition holds ("when the ball hits the wall, it turns red")."""

    condition: str
    change: Change
    text: str = ""


Twist = Union[EveryTwist, AtTimeTwist, AfterCountTwist, WhenTwist]


@dataclass
class Intent:
    """Everything :func:`parse` understood from a prompt (see the module docstring)."""

    prompt: str
    text: str = ""
    objects: list[ObjectMention] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    gravity: tuple[float, float, float] | None = None
    gravity_note: str = "earth default (9.81 m/s² down)"
    restitution: float | None = None
    friction: float | None = None
    time_limit: float | None = None
    players: int = 1
    win_score: int | None = None
    twists: list[Twist] = field(default_factory=list)
    style_words: list[str] = field(default_factory=list)
    mechanic_hints: list[tuple[str, float]] = field(default_factory=list)
    unknown_nouns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    truncated: bool = False

    @property
    def top_mechanic(self) -> str | None:
        """The best-supported mechanic, or None when nothing pointed at one."""
        return self.mechanic_hints[0][0] if self.mechanic_hints else None

    @property
    def kinds(self) -> list[str]:
        """Known kinds mentioned in the scene (not only in twists), in order of first mention."""
        return list(dict.fromkeys(o.kind for o in self.objects if o.kind and not o.in_twist))

    def __str__(self) -> str:
        return "\n".join(self.notes)


# ---------------------------------------------------------------- numbers

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_NUMWORDS = sorted([*_UNITS, *_TENS, "hundred", "thousand", "dozen"], key=len, reverse=True)
_NUMW = "(?:" + "|".join(_NUMWORDS) + ")"
_NUM = rf"(?:\d+(?:,\d{{3}})*(?:\.\d+)?|{_NUMW}(?: (?:and )?{_NUMW}){{0,5}})"
_DIGITS = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _read_number(w: list[str], i: int) -> tuple[float, int] | None:
    """The number phrase starting at word ``i``: (value, index after it), or None.

    Digits ("40", "1,000", "2.5"), words ("twenty five", "one hundred and ten"), "a dozen",
    "two dozen", "half a dozen", "a couple of", "a pair of", "a few", "a handful of".
    """
    n = len(w)
    if i >= n:
        return None
    t = w[i]
    if w[i:i + 3] == ["half", "a", "dozen"]:
        v, j = 6.0, i + 3
    elif t in ("a", "an"):
        nxt = w[i + 1] if i + 1 < n else ""
        table = {"dozen": 12.0, "couple": 2.0, "pair": 2.0, "few": 3.0, "handful": 5.0, "hundred": 100.0,
                 "thousand": 1000.0}
        if nxt not in table:
            return None
        v, j = table[nxt], i + 2
    elif _DIGITS.fullmatch(t):
        v, j = float(t.replace(",", "")), i + 1
        if j < n and w[j] in ("hundred", "thousand", "dozen"):
            v *= {"hundred": 100, "thousand": 1000, "dozen": 12}[w[j]]
            j += 1
    elif t in _UNITS or t in _TENS or t in ("hundred", "thousand"):
        total, cur, j = 0, 0, i
        while j < n:
            x = w[j]
            if x in _UNITS and (cur == 0 or cur % 100 == 0 or (cur % 10 == 0 and cur % 100 >= 20 and _UNITS[x] < 10)) \
                    and not (cur == 0 and j > i and total == 0):
                cur += _UNITS[x]
            elif x in _TENS and cur % 100 == 0:
                cur += _TENS[x]
            elif x == "hundred" and cur < 100:
                cur = (cur or 1) * 100
            elif x == "thousand" and total == 0:
                total, cur = (cur or 1) * 1000, 0
            elif x == "and" and j + 1 < n and (w[j + 1] in _UNITS or w[j + 1] in _TENS) and (cur >= 100 or total):
                pass
            else:
                break
            j += 1
        if j == i:
            return None
        v = float(total + cur)
        if j < n and w[j] == "dozen":
            v, j = v * 12, j + 1
    else:
        return None
    if j < n and w[j] == "of" and (w[j - 1] in ("couple", "pair", "handful", "dozen")):
        j += 1
    return v, j


def _number_value(text: str) -> float | None:
    """The value of a whole number phrase ("twenty five", "2.5", "a dozen"), or None."""
    words = text.split()
    if words[:2] in (["a"], ["an"]) or words in (["a"], ["an"]):
        return 1.0
    if words[:2] == ["half", "a"] or words[:2] == ["half", "an"]:
        return 0.5
    r = _read_number(words, 0)
    return r[0] if r else None


def _fmt(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------- vocabulary

_SIZE_WORDS = {
    "tiny": 0.25, "teeny": 0.25, "miniature": 0.3, "mini": 0.5, "small": 0.5, "little": 0.6, "smaller": 0.7,
    "medium": 1.0, "normal": 1.0, "regular": 1.0, "standard": 1.0, "bigger": 1.5, "larger": 1.5, "big": 2.0,
    "large": 2.0, "oversized": 2.0, "jumbo": 2.5, "huge": 3.0, "giant": 4.0, "enormous": 4.0, "massive": 4.0,
    "gigantic": 6.0, "colossal": 8.0, "humongous": 8.0, "mega": 3.0,
}
_LENGTH_UNITS = {"m": 1.0, "metre": 1.0, "metres": 1.0, "meter": 1.0, "meters": 1.0, "cm": 0.01,
                 "centimetre": 0.01, "centimetres": 0.01, "centimeter": 0.01, "centimeters": 0.01, "mm": 0.001,
                 "millimetre": 0.001, "millimetres": 0.001, "millimeter": 0.001, "millimeters": 0.001,
                 "inch": 0.0254, "inches": 0.0254, "foot": 0.3048, "feet": 0.3048, "ft": 0.3048, "km": 1000.0}
_TIME_UNITS = {"second": 1.0, "seconds": 1.0, "sec": 1.0, "secs": 1.0, "s": 1.0, "minute": 60.0, "minutes": 60.0,
               "min": 60.0, "mins": 60.0, "hour": 3600.0, "hours": 3600.0, "hr": 3600.0, "hrs": 3600.0}
_DIM_WORDS = {"wide", "long", "tall", "high", "deep", "thick", "across", "diameter", "radius", "sized", "size"}
_INTENSIFIERS = {"very", "super", "extra", "really", "so", "quite", "ultra", "extremely", "slightly", "somewhat",
                 "incredibly", "insanely", "crazy", "mega", "too", "bit"}
_PHYS_ADJ = {
    "bouncy": ("restitution", 0.8), "bouncier": ("restitution", 0.9), "springy": ("restitution", 0.8),
    "elastic": ("restitution", 0.9), "dead": ("restitution", 0.05), "slippery": ("friction", 0.1),
    "slick": ("friction", 0.1), "frictionless": ("friction", 0.0), "sticky": ("friction", 1.2),
    "grippy": ("friction", 1.2), "rough": ("friction", 0.9), "smooth": ("friction", 0.2),
}
_ADJECTIVES = set(_PHYS_ADJ) | {
    "heavy", "heavier", "light", "lighter", "shiny", "glowing", "glossy", "matte", "sparkly", "sparkling",
    "glittery", "striped", "spotted", "dotted", "checkered", "old", "new", "ancient", "magic", "magical", "toy",
    "fancy", "plain", "tall", "short", "long", "wide", "thin", "thick", "fat", "round", "square", "flat",
    "hollow", "solid", "fragile", "soft", "hard", "cute", "angry", "happy", "evil", "friendly", "spinning",
    "rolling", "bouncing", "falling", "flying", "floating", "moving", "wobbly", "pretty", "beautiful", "ugly",
    "identical", "standing", "upright", "stacked", "lined", "rusty", "dirty", "clean", "wet", "dry", "hot",
    "cold", "burning", "flaming", "fiery", "electric", "explosive", "invisible", "transparent", "translucent",
    "colorful", "colourful", "multicolored", "multicoloured", "bright", "dark", "pale", "neon", "pastel",
    "metallic", "inflatable", "empty", "full", "broken", "spiky", "fluffy", "fuzzy", "furry", "slimy",
    "giant", "mini", "loose", "tight", "tilted", "tilting", "moving", "rotating", "swinging", "hanging",
    "free", "static", "fixed", "movable", "extra", "other", "same", "different", "first", "last", "next",
    "single", "only", "whole", "entire", "remaining", "white", "glass", "numbered", "lucky", "golden", "silver",
    "cozy", "cosy", "windy", "sunny", "rainy", "snowy", "dark", "tiny", "busy", "quiet", "noisy", "crowded",
}
_ARTICLES = {"a", "an", "the", "this", "that", "these", "those", "my", "your", "our", "their", "his", "her",
             "its", "each", "every", "another", "any", "all", "both", "no", "one"}
_QUANT = {"some", "several", "many", "multiple", "numerous", "various", "lots", "plenty", "loads", "tons",
          "bunch", "dozens", "hundreds", "thousands", "countless", "few", "more", "lot", "heaps", "piles"}
_ARRANGEMENTS = {"pyramid", "tower", "stack", "row", "line", "chain", "circle", "ring", "triangle", "grid",
                 "pile", "wall", "spiral", "column", "heap", "cluster", "square", "arc", "curve", "rack",
                 "field", "set", "group", "formation", "cross", "diamond", "zigzag", "wave", "heart", "star"}
_STOPWORDS = set("""
a an the and or but if then else when whenever while once after before until as at by for from in into onto on
off of to with without within under over above below between through across along around about against toward
towards up down out near behind beside inside outside upon via per than so that which who whom whose what where
why how this these those there here it its it's they them their theirs he she him her his hers we us our you
your yours i me my mine is are was were be been being am has have had having do does did doing can could will
would should shall may might must not no nor only just also too very really quite all any both each every few
more most other some such own same again further once ever never always sometimes often now later soon still
get gets got getting make makes made making let lets go goes went going gone put puts take takes took keep
keeps kept use uses used try tries tried want wants like likes see sees watch watches play plays playing
played start starts started stop stops stopped set sets setting give gives gave come comes came become becomes
became turn turns turned look looks looked appear appears seem seems stand stands stood sit sits lie lies lay
falls fall fell fallen hit hits roll rolls rolled rolling push pushes pushed pushing throw throws threw thrown
knock knocks knocked count counts counted score scores scored win wins won lose loses lost need needs needed
must able using let's lets whose whatever whichever everything everyone everybody something someone somebody
anything anyone nothing nobody none thing things stuff way ways lot lots kind kinds sort type types bit
""".split())
_NON_OBJECT = set("""
score scores point points game games world worlds level levels round rounds turn turns time times timer timers
second seconds minute minutes hour hours sec secs gravity player players friend friends team teams opponent
opponents win wins way lot bit bunch couple pair few dozen kind type set row line chain circle pyramid stack
tower pile group grid triangle formation side sides end ends edge edges top bottom middle center centre left
right front back start finish place places spot direction speed force physics room scene setting version style
look world environment landscape mode rule rules limit countdown clock life lives chance try tries attempt
attempts shot shots throw throws hit hits strike strikes spare spares combo bonus reward penalty moon mars
jupiter earth space planet sun universe computer cpu bot user camera sky air background number amount height
distance length width weight size color colour winner loser rest moment challenge puzzle goal's objective aim
task mission job idea sequence series pattern reaction bounce bounces friction restitution bounciness
elasticity effect effects sound sounds music light lights shadow shadows lighting view theme art mood vibe day
night morning evening afternoon sunset sunrise weather rain snowfall wind storm fog world's fun match matches
tournament session period half heat lap laps race races run runs course player's everything everyone
something anything nothing first second third last next other same whole entire rest half quarter minute's
control controls key keys button buttons mouse screen display exit entrance fair carnival party beach park garden yard
backyard kitchen office street city town village forest jungle desert island ocean sea lake river cave dungeon
castle_ground space_ship room hall stadium gym playground school classroom bedroom attic basement factory
warehouse farm volcano
""".split())
_SPORT_WORDS = {"basketball", "football", "jenga", "pinball", "shuffleboard", "dodgeball", "kickball", "netball",
                "futbol", "footy", "soccer ball"}
_VERBISH = {"can", "pitch", "block", "box", "rock", "net", "target", "cue", "club", "bat", "cart", "flag", "floor",
            "wall", "ground", "post", "pad", "paddle", "figure", "man", "stick", "bar", "bolt", "sling", "drum",
            "link", "cable", "string", "bin", "course", "house", "tank", "plane", "jump", "dummy", "zone", "chest",
            "board", "beam", "log", "rail", "bank", "gun", "shelf", "table", "counter", "pocket", "field", "court",
            "slot", "hole", "peg", "nail", "stone", "fence", "lever", "pivot", "bounce", "spring", "track", "finish",
            "pin", "ring", "goal", "drop", "launch", "ramp", "roll", "kick", "bowl", "puck", "hoop", "chain"}
_WIN_WORDS = {"to", "score", "scores", "scoring", "reach", "reaches", "first", "win", "wins", "scored"}
_FUNCTION_WORDS = set("""a an the and or but if then when while once after before as at by for from in into onto
on off of to with without within under over above below between through across along around about against up down
out near this these those there here it its they them their he she him her his we us our you your i me my is are was
were be been am has have had do does did can could will would should may might must not no so that which who what
""".split())
_IRREGULAR_PLURALS = {"people", "dice", "men", "women", "children", "geese", "mice", "feet", "teeth", "knives"}
_COUNT_VERBS = {
    "collect": "collected", "collected": "collected", "collecting": "collected", "gather": "collected",
    "gathered": "collected", "grab": "collected", "grabbed": "collected", "eat": "collected", "eaten": "collected",
    "eating": "collected", "catch": "collected", "caught": "collected", "pick": "collected", "picked": "collected",
    "hit": "hit", "hitting": "hit", "shoot": "hit", "shot": "hit", "shooting": "hit", "strike": "hit",
    "struck": "hit", "touch": "hit", "touched": "hit", "knock": "fallen", "knocked": "fallen",
    "knocking": "fallen", "topple": "fallen", "toppled": "fallen", "fall": "fallen", "fallen": "fallen",
    "fell": "fallen", "fall down": "fallen", "score": "scored", "scored": "scored", "scoring": "scored",
    "make": "scored", "made": "scored", "land": "scored", "landed": "scored", "destroy": "destroyed",
    "destroyed": "destroyed", "pop": "destroyed", "popped": "destroyed", "break": "destroyed",
    "broken": "destroyed", "smash": "destroyed", "smashed": "destroyed", "kill": "destroyed",
    "killed": "destroyed", "sink": "sunk", "sank": "sunk", "sunk": "sunk", "pot": "sunk", "potted": "sunk",
    "throw": "thrown", "threw": "thrown", "thrown": "thrown", "get": None, "got": None, "getting": None,
    "reach": None, "reaching": None, "reached": None, "earn": "scored", "earned": "scored",
}
_PARTICLES = {"down", "over", "in", "out", "off", "up", "into", "away"}
_SUBJECT_WORDS = {"you", "youve", "have", "has", "ve", "the", "player", "players", "we", "i", "someone", "they",
                  "total", "of", "a", "them", "all", "every", "least", "at"}
_AUX = {"are", "is", "have", "has", "been", "were", "was", "get", "got", "gets", "being", "had", "all"}

_KNOWN: set[str] = (
    _STOPWORDS | _NON_OBJECT | set(_SIZE_WORDS) | set(_LENGTH_UNITS) | set(_TIME_UNITS) | _DIM_WORDS
    | _INTENSIFIERS | _ADJECTIVES | _ARTICLES | _QUANT | _ARRANGEMENTS | set(_COUNT_VERBS) | _PARTICLES
    | set(_UNITS) | set(_TENS) | {"hundred", "thousand", "dozen", "half"}
    | {w for c in kb.COLORS for w in c.split()}
    | {w for k in kb.KINDS.values() for a in (k.name, *k.aliases) for w in kb.normalize(a).split()}
    | {w for m in kb.MATERIALS.values() for a in (m.name, *m.aliases) for w in kb.normalize(a).split()}
    | set("""bowling skittles billiards pool snooker dominoes jenga slingshot soccer hockey basketball golf putt
    putting plinko pachinko pendulum cradle newton newtons seesaw curling shuffleboard labyrinth maze sled
    sledding sokoban zero weightless floating float floats moon lunar mars martian jupiter venus mercury saturn
    uranus neptune pluto versus vs multiplayer solo bouncy slippery icy sticky frictionless toon cartoon pixel
    realistic neon retro reversed upside sideways inverted flipped timer timed reverses reverse flips flip
    inverts strong weak low high heavy light double triple twice rube goldberg machine""".split())
)


# ---------------------------------------------------------------- text → tokens


def _normalise(prompt: Any) -> tuple[str, str, int, int]:
    """(raw prompt as str, normalised text, characters read, raw length)."""
    if prompt is None:
        raw = ""
    elif isinstance(prompt, bytes):
        raw = prompt[: MAX_CHARS * 4].decode("utf-8", errors="replace")
    elif isinstance(prompt, str):
        raw = prompt
    else:
        raw = str(prompt)
    n = len(raw)
    truncated = n > MAX_CHARS
    s = raw[:MAX_CHARS]
    if truncated and raw[MAX_CHARS:MAX_CHARS + 1].isalnum() and " " in s[-60:]:
        s = s[: s.rfind(" ")]  # don't read half a word
    read = len(s)
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("×", " x ")
    s = re.sub(r"[\u2010-\u2015\u2212]", "-", s)
    s = "".join(ch if (ch.isprintable() or ch in "\n\t") else " " for ch in s)
    s = s.lower()
    s = re.sub(r"(?<=\w)'(?=\w)", "", s)  # newton's → newtons, don't → dont
    s = s.replace("'", " ")
    s = re.sub(r"(?<=\w)-(?=\w)", " ", s)  # twenty-five, 2-player, zero-g, ping-pong
    s = re.sub(r"\s+-+\s+|--+", " , ", s)
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "\x00", s)  # keep 1,000 together
    s = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", s)  # 30s → 30 s, 1v1 → 1 v 1
    s = re.sub(r"\.(?!\d)|(?<!\d)\.", " . ", s)
    s = re.sub(r"([^\w\s.\x00])", r" \1 ", s)
    s = s.replace("\x00", ",")
    s = re.sub(r"[\n\r]+", " . ", s)
    s = " ".join(s.split())
    return raw, s, read, n


@dataclass(frozen=True)
class _Tok:
    text: str
    start: int
    end: int


def _tokenise(text: str) -> list[_Tok]:
    return [_Tok(m.group(), m.start(), m.end()) for m in re.finditer(r"\S+", text)]


_SENT_END = {".", "!", "?", ";"}


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with each span replaced by ``|`` (same length, so offsets still hold)."""
    chars = list(text)
    for a, b in spans:
        for i in range(max(a, 0), min(b, len(chars))):
            chars[i] = "|"
    return "".join(chars)


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


# ---------------------------------------------------------------- objects


def _kind_at(w: list[str], i: int, limit: int) -> tuple[kb.Kind, int] | None:
    """The longest kind alias starting at word ``i`` (up to 4 words, not past ``limit``)."""
    for size in (4, 3, 2, 1):
        j = i + size
        if j > limit:
            continue
        words = w[i:j]
        if not all(re.fullmatch(r"[a-z0-9]+", x) for x in words) or words[0].isdigit():
            continue
        k = kb.lookup_exact(" ".join(words))
        if k is not None:
            return k, j
    return None


def _is_modifier_word(x: str) -> bool:
    return x in kb.COLORS or kb.find_material(x) is not None or x in _SIZE_WORDS


def _find_mentions(toks: list[_Tok], notes: list[str]) -> tuple[list[ObjectMention], list[tuple[int, int]]]:
    """Object mentions (known kinds and unknown nouns) and the word spans they cover."""
    w = [t.text for t in toks]
    n = len(w)
    num_end: dict[int, tuple[int, float]] = {}
    i = 0
    while i < n:
        r = _read_number(w, i)
        if r and r[1] > i:
            num_end[r[1] - 1] = (i, r[0])
            i = r[1]
        else:
            i += 1
    num_start = {st for st, _ in num_end.values()}
    # pass 1: kind matches
    matches: list[tuple[int, int, kb.Kind]] = []
    i = 0
    while i < n:
        m = _kind_at(w, i, n)
        if m is None:
            i += 1
            continue
        k, j = m
        matches.append((i, j, k))
        i = j
    keep: list[tuple[int, int, kb.Kind]] = []
    for idx, (s, e, k) in enumerate(matches):
        nxt = matches[idx + 1] if idx + 1 < len(matches) else None
        phrase = w[s:e]
        if nxt is not None and nxt[0] == e and all(_is_modifier_word(x) for x in phrase):
            continue  # "stone wall", "marble floor": a material before a kind
        if k.name == "goal" and w[e:e + 1] in (["is"], ["of"], ["was"]):
            continue  # "the goal is to ..."
        if e - s == 1 and phrase[0] in _ARRANGEMENTS and w[e:e + 1] == ["of"]:
            continue  # "a wall of bricks", "a ring of dominoes"
        keep.append((s, e, k))

    mentions: list[ObjectMention] = []
    covered: list[tuple[int, int]] = []
    used: set[int] = set()
    for s, e, k in keep:
        men, a, b = _describe(w, toks, s, e, k.name, num_end, used)
        if men.text == men.noun and (men.noun in _SPORT_WORDS or men.noun in _VERBISH):
            used.update(range(a, b))
            continue  # "play basketball": the game, not a ball
        if "goal" in k.affordances and a >= 1 and w[a - 1] in _WIN_WORDS and men.count is not None:
            notes.append(f"not an object: '{w[a - 1]} {men.text}' reads as a win condition")
            used.update(range(a, b))
            continue  # "first to 7 goals"
        mentions.append(men)
        covered.append((a, b))
        used.update(range(a, b))
    # pass 2: unknown nouns after a number or a determiner
    for i in range(n):
        if i in used:
            continue
        start = None
        if i in num_end and (i + 1 >= n or w[i + 1] not in _TIME_UNITS and w[i + 1] not in _LENGTH_UNITS
                             and w[i + 1] not in ("times", "x", "g", "percent", "%", "players", "player", "p")):
            start = i + 1
        elif w[i] in ("a", "an", "some", "several", "many", "another", "the") and (i + 1 not in used):
            start = i + 1
        if start is None:
            continue
        j = start
        while j < n and j not in used and (w[j] in _SIZE_WORDS or w[j] in kb.COLORS or w[j] in _INTENSIFIERS
                                           or (w[j] in _ADJECTIVES and w[j] not in _NON_OBJECT)
                                           or kb.find_material(w[j]) is not None):
            j += 1
        run: list[int] = []
        while j < n and j not in used and len(run) < 3 and _unknown_word(w[j]):
            run.append(j)
            j += 1
        if not run or (j < n and j in used and w[j] not in _ARTICLES and w[j] not in _FUNCTION_WORDS
                       and w[j] not in _QUANT and j not in num_start):
            continue  # "ten glittery pins": adjectives of a known kind
        if j < n and (_is_modifier_word(w[j]) or w[j] in _ADJECTIVES or w[j] in _NON_OBJECT):
            continue  # "a cozy wooden world": the phrase goes on, these were adjectives
        if len(run) == 2 and w[run[1]].endswith("s") and not w[run[0]].endswith("s"):
            run = run[:1]  # "a dragon guards ...": noun, then a verb
        head = w[run[-1]]
        if head.endswith(("ing", "ly")):
            continue
        men, a, b = _describe(w, toks, run[-1], run[-1] + 1, None, num_end, used, noun_words=run)
        mentions.append(men)
        covered.append((a, b))
        used.update(range(a, b))
    mentions.sort(key=lambda m: m.span)
    return mentions, covered


def _unknown_word(x: str) -> bool:
    return (len(x) >= 3 and x not in _KNOWN and bool(re.fullmatch(r"[^\W\d_]+", x))
            and kb.find_material(x) is None and x not in kb.COLORS)


def _describe(w: list[str], toks: list[_Tok], s: int, e: int, kind_name: str | None,
              num_end: dict[int, tuple[int, float]], used: set[int],
              noun_words: list[int] | None = None) -> tuple[ObjectMention, int, int]:
    """Builds the mention of the noun at words [s, e): modifiers before it, a few after."""
    if noun_words:
        s = noun_words[0]
    colors: list[str] = []
    material: str | None = None
    scale = 1.0
    size_m: float | None = None
    adjs: list[str] = []
    count: float | None = None
    det: str | None = None
    arrangement: str | None = None
    tentative: list[int] = []
    j = s - 1
    first = s
    while j >= 0 and j >= s - 10 and j not in used:
        t = w[j]
        if j in num_end and not (j + 1 < len(w) and w[j + 1] in _LENGTH_UNITS and j + 1 < s):
            st, val = num_end[j]
            count, first, j = val, st, st - 1
            break
        two = f"{w[j - 1]} {t}" if j >= 1 else ""
        if two and two in kb.COLORS:
            colors.insert(0, two)
            first, j = j - 1, j - 2
            continue
        if two and kb.find_material(two) is not None and " " in kb.normalize(two):
            material = material or kb.find_material(two).name
            first, j = j - 1, j - 2
            continue
        if t in _LENGTH_UNITS and j - 1 in num_end:
            st, val = num_end[j - 1]
            size_m = val * _LENGTH_UNITS[t]
            first, j = st, st - 1
            continue
        if t in kb.COLORS:
            colors.insert(0, t)
        elif t in _SIZE_WORDS:
            scale *= _SIZE_WORDS[t]
            adjs.insert(0, t)
        elif kb.find_material(t) is not None:
            material = material or kb.find_material(t).name
        elif t in _ADJECTIVES or t in _INTENSIFIERS or t in _DIM_WORDS:
            adjs.insert(0, t)
        elif t == "of":
            if j >= 1 and w[j - 1] in _ARRANGEMENTS:
                break  # "a pyramid of cans": the arrangement is read below
            if j >= 1 and w[j - 1] in _QUANT:
                det, first, j = w[j - 1], j - 1, j - 2
                continue
            break
        elif t in _QUANT:
            det = det or t
        elif t in _ARTICLES:
            det = t
            first = j
            j -= 1
            break
        elif t.isalpha() and t not in _STOPWORDS and t not in _NON_OBJECT and len(tentative) < 2 \
                and kind_name is not None:
            tentative.append(j)
            j -= 1
            continue
        else:
            break
        if tentative:  # a known modifier beyond unknown words: they were adjectives
            adjs[0:0] = [w[x] for x in sorted(tentative)]
            tentative.clear()
        first = j
        j -= 1
    if tentative:
        if count is not None or det is not None:
            adjs[0:0] = [w[x] for x in sorted(tentative)]
            first = min(first, min(tentative))
        else:
            first = max(first, max(tentative) + 1)
    # "a pyramid of ten cans"
    if first >= 2 and w[first - 1] == "of" and w[first - 2] in _ARRANGEMENTS:
        arrangement = w[first - 2]
    # after the noun: "made of glass", "in red", "in a row", "tower" (a jenga tower)
    last = e
    rest = w[e:e + 6]
    if rest[:1] and rest[0] in _ARRANGEMENTS and kind_name is not None and kb.lookup_exact(rest[0]) is None:
        arrangement, last = rest[0], e + 1
        if det in ("a", "an", "the", "one"):
            det = None
    else:
        m_of = 2 if rest[:2] == ["made", "of"] else 3 if rest[:3] == ["made", "out", "of"] else \
            1 if rest[:1] == ["of"] else 0
        if m_of and len(rest) > m_of:
            two_mat = kb.find_material(" ".join(rest[m_of:m_of + 2])) if len(rest) > m_of + 1 else None
            mat = two_mat or kb.find_material(rest[m_of])
            if mat is not None:
                material = mat.name
                last = e + m_of + (2 if two_mat else 1)
        elif rest[:1] in (["in"], ["painted"], ["coloured"], ["colored"]) and len(rest) > 1:
            two = " ".join(rest[1:3])
            if two in kb.COLORS:
                colors.append(two)
                last = e + 3
            elif rest[1] in kb.COLORS:
                colors.append(rest[1])
                last = e + 2
            elif rest[1] in ("a", "an") and len(rest) > 2 and rest[2] in _ARRANGEMENTS:
                arrangement, last = rest[2], e + 3
        elif rest[:1] == ["stacked"]:
            arrangement, last = "stack", e + 1
        elif rest[:2] == ["lined", "up"]:
            arrangement, last = "line", e + 2
    noun_toks = w[s:e] if not noun_words else [w[x] for x in noun_words]
    head = noun_toks[-1]
    phrase = kb.normalize(" ".join(noun_toks))
    if head in _IRREGULAR_PLURALS:
        plural = True
    elif kind_name is not None:
        names = {kb.normalize(a) for a in (kind_name, *kb.kind(kind_name).aliases)}
        plural = phrase not in names and phrase.replace(" ", "") not in {x.replace(" ", "") for x in names}
    else:
        plural = kb.singular_forms(head)[0] != head
    if count is not None:
        c: int | None = int(round(count))
    elif det == "no":
        c = 0
    elif plural or det in _QUANT:
        c = None
    elif arrangement is not None and det is None and rest[:1] and rest[0] == arrangement:
        c = None
    else:
        c = 1
    rgb = kb.COLORS[colors[-1]] if colors else None
    phys = {}
    for a in [*adjs, *noun_toks]:
        if a in _PHYS_ADJ:
            prop, v = _PHYS_ADJ[a]
            if prop == "restitution" and v >= 0.8 and any(x in _INTENSIFIERS and x not in ("slightly", "somewhat",
                                                                                          "bit") for x in adjs):
                v = 0.95
            phys[prop] = v
    if size_m is not None and kind_name is not None:
        scale = size_m / max(kb.extent(kind_name), 1e-6)
    a_char, b_char = toks[first].start, toks[last - 1].end
    noun_text = " ".join(noun_toks) if not noun_words else " ".join(w[x] for x in noun_words)
    return ObjectMention(
        noun=noun_text, kind=kind_name if kind_name else None, count=c, plural=plural, color=rgb,
        color_name=colors[-1] if colors else None, material=material, scale=round(scale, 6), size_m=size_m,
        adjectives=tuple(adjs), arrangement=arrangement, restitution=phys.get("restitution"),
        friction=phys.get("friction"), text=" ".join(w[first:last]), span=(a_char, b_char),
    ), first, last


# ---------------------------------------------------------------- gravity, bounciness, friction, time, players

_PLANETS = {"moon": 1.62, "lunar": 1.62, "mars": 3.71, "martian": 3.71, "jupiter": 24.79, "jovian": 24.79,
            "venus": 8.87, "mercury": 3.7, "saturn": 10.44, "uranus": 8.69, "neptune": 11.15, "pluto": 0.62,
            "earth": 9.81, "sun": 274.0}
_PLANET_RE = "|".join(sorted(_PLANETS, key=len, reverse=True))
_FRACTIONS = {"half": 0.5, "double": 2.0, "twice": 2.0, "triple": 3.0, "thrice": 3.0, "quadruple": 4.0,
              "a third": 1 / 3, "one third": 1 / 3, "a quarter": 0.25, "one quarter": 0.25, "a tenth": 0.1,
              "one tenth": 0.1, "a sixth": 1 / 6, "one sixth": 1 / 6, "a fifth": 0.2, "one fifth": 0.2}
_FRAC_RE = "|".join(sorted(_FRACTIONS, key=len, reverse=True))
_DIRS = {"left": (0.0, 1.0, 0.0), "right": (0.0, -1.0, 0.0), "forward": (1.0, 0.0, 0.0),
         "forwards": (1.0, 0.0, 0.0), "backward": (-1.0, 0.0, 0.0), "backwards": (-1.0, 0.0, 0.0),
         "east": (1.0, 0.0, 0.0), "west": (-1.0, 0.0, 0.0), "north": (0.0, 1.0, 0.0), "south": (0.0, -1.0, 0.0),
         "up": (0.0, 0.0, 1.0), "upward": (0.0, 0.0, 1.0), "upwards": (0.0, 0.0, 1.0), "down": (0.0, 0.0, -1.0),
         "downward": (0.0, 0.0, -1.0), "downwards": (0.0, 0.0, -1.0), "sideways": (1.0, 0.0, 0.0)}
_MS2 = r"(?: ?(?:m / s 2|m / s \^ 2|m s 2|ms 2|m / s / s|(?:meters?|metres?) per second (?:squared|per second)))"

# (regex, kind, value): kind "mag" values are m/s² (callables get the match), "dir" unit vectors
_GRAVITY_RULES: list[tuple[re.Pattern, str, Any]] = [
    (re.compile(rf"\bgravity (?:of |is |= |: |at |set to |to |equal to |equals )?(?P<n>{_NUM})(?P<g> g\b|{_MS2})?"),
     "mag", lambda m: _num_g(m)),
    (re.compile(rf"\b(?P<n>{_NUM}){_MS2} (?:of )?(?:gravity|gravitational)"), "mag", lambda m: _num_g(m)),
    (re.compile(rf"\bgravity (?:is )?(?P<n>{_NUM}) times (?P<d>stronger|weaker|higher|lower|heavier|lighter|"
                r"as strong|the normal|normal|earth s|earths)"), "mag", lambda m: _times(m)),
    (re.compile(rf"\b(?P<n>{_NUM}) ?(?:times|x) (?:the |as much |as strong |normal |earths? |regular |standard "
                r"|usual |the normal |the earths? )*(?:gravity|g)\b"), "mag", lambda m: _times(m)),
    (re.compile(rf"\b(?P<f>{_FRAC_RE})(?: the| of| of the)? (?:normal |earths? |regular |usual )?gravity\b"), "mag",
     lambda m: _FRACTIONS[m.group("f")] * EARTH_G),
    (re.compile(r"\b(?:zero ?g|zero gravity|0 g|no gravity|without gravity|gravity (?:is |turned |switched )?off|"
                r"gravity free|weightless\w*|micro ?gravity|(?:in|into|through|to) (?:outer |deep |open )?space|"
                r"outer space|deep space|space station|spacewalk|float(?:s|ing)? (?:around|freely|about|"
                r"everywhere|in the air|in mid air|in midair)|everything floats|floating|no weight)\b"), "mag", 0.0),
    (re.compile(r"\b(?:very|super|extremely|really|ultra) (?:low|light|weak|little) gravity\b"), "mag", 1.5),
    (re.compile(r"\b(?:low|light|weak|reduced|lower|gentle|little|small|mild|feeble|soft|less) gravity\b|"
                r"\bgravity (?:is )?(?:low|weak|light|reduced)\b|\blow ?g\b"), "mag", 3.0),
    (re.compile(r"\b(?:very|super|extremely|really|ultra|insanely) (?:high|heavy|strong) gravity\b"), "mag", 30.0),
    (re.compile(r"\b(?:high|heavy|strong|intense|extreme|crushing|huge|massive|stronger|increased|higher|big|more) "
                r"gravity\b|\bgravity (?:is )?(?:high|strong|heavy|increased)\b|\bhigh ?g\b"), "mag", 20.0),
    (re.compile(rf"\b(?:on|like|from|at) (?:the )?(?P<p>{_PLANET_RE})\b|\b(?P<q>{_PLANET_RE}) ?s? gravity\b|"
                r"\b(?P<r>lunar|martian|jovian|moon|mars|jupiter)\b"), "mag",
     lambda m: _PLANETS[m.group("p") or m.group("q") or m.group("r")]),
    (re.compile(r"\b(?:reversed|reverse|inverted|inverse|flipped|negative|anti|upside down|upward|upwards) "
                r"gravity\b|\bgravity (?:is |gets |has been )?(?:reversed|inverted|flipped|upside down|pulls? "
                r"up(?:wards?)?|points? up(?:wards?)?|goes up)\b|\bantigravity\b|\bfall(?:s|ing)? "
                r"up(?:wards?)?\b|\bupside down\b"), "dir", (0.0, 0.0, 1.0)),
    (re.compile(r"\bsideways (?:gravity|pull)\b|\bgravity (?:is |pulls? |points? |acts |goes |works )?"
                r"(?:\w+ )?sideways\b|\bfall(?:s|ing)? sideways\b|\bhorizontal gravity\b|\bgravity (?:is )?"
                r"horizontal\b"), "dir", (1.0, 0.0, 0.0)),
    (re.compile(r"\bgravity (?:pulls?|points?|goes|is|acts|works)(?: to| towards?)?(?: the)? (?P<d>left|right|"
                r"forwards?|backwards?|north|south|east|west)\b|\b(?P<e>left|right|forward|backward)(?:s|ward|"
                r"wards)? gravity\b|\b(?:pulls?|falls?|falling) (?:everything |things |objects |you )?(?:to|towards) "
                r"the (?P<f>left|right)\b"), "dir", lambda m: _DIRS[m.group("d") or m.group("e") or m.group("f")]),
]


def _num_g(m: re.Match) -> float | None:
    v = _number_value(m.group("n"))
    if v is None:
        return None
    return v * EARTH_G if (m.groupdict().get("g") or "").strip() == "g" else v


def _times(m: re.Match) -> float | None:
    v = _number_value(m.group("n"))
    if v is None:
        return None
    d = m.groupdict().get("d") or ""
    if d in ("weaker", "lower", "lighter"):
        return EARTH_G / v if v > 0 else None
    return v * EARTH_G


_RESTITUTION_RULES: list[tuple[re.Pattern, float | None]] = [
    (re.compile(r"\b(?:restitution|bounciness|bounce|elasticity)(?: coefficient)? (?:of |is |= |: |set to |to )?"
                r"(?P<n>\d+(?:\.\d+)?)\b"), None),
    (re.compile(r"\b(?:perfectly|fully|totally|completely|100 %) (?:elastic|bouncy)\b"), 1.0),
    (re.compile(r"\b(?:not|non|never|isnt|arent|dont|doesnt|no|without|un|zero|little|barely) ?(?:very )?"
                r"(?:bouncy|bounce|bouncing|bounces|bounciness|elastic|springy)\b|\binelastic\b|\bdead balls?\b|"
                r"\bthud\w*\b"), 0.05),
    (re.compile(r"\b(?:slightly|a bit|a little|somewhat|mildly|kind of|fairly|moderately) (?:bouncy|springy)\b"), 0.5),
    (re.compile(r"\b(?:super|extremely|very|ultra|crazy|insanely|really|mega|hyper|incredibly) ?(?:bouncy|"
                r"springy)\b|\bbounce forever\b|\bbouncy as\b"), 0.95),
    (re.compile(r"\b(?:bouncy|bouncier|springy|elastic|boingy|bounces? a lot|lots of bounce|bouncing everywhere)\b"),
     0.8),
]
_FRICTION_RULES: list[tuple[re.Pattern, float | None]] = [
    (re.compile(r"\bfriction(?: coefficient)? (?:of |is |= |: |set to |to )?(?P<n>\d+(?:\.\d+)?)\b"), None),
    (re.compile(r"\b(?:frictionless|no friction|zero friction|without friction|friction ?free|0 friction)\b"), 0.0),
    (re.compile(r"\b(?:not|non|isnt|arent) ?(?:very )?(?:slippery|slick)\b"), 0.8),
    (re.compile(r"\b(?:super|extremely|very|ultra|really|incredibly) (?:slippery|slick|icy)\b|\bslippery as ice\b|"
                r"\blike ice\b|\bicy\b|\bon (?:the )?ice\b|\bice ?skating\b"), 0.03),
    (re.compile(r"\b(?:slippery|slick|greasy|oily|slidey|slidy|low friction|little friction|buttery)\b"), 0.1),
    (re.compile(r"\b(?:super|extremely|very|really) (?:sticky|grippy|rough)\b"), 1.5),
    (re.compile(r"\b(?:sticky|grippy|high friction|lots of friction|gluey|tacky|non ?slip)\b"), 1.2),
    (re.compile(r"\b(?:rough|sandpaper|gritty|coarse)\b"), 0.9),
]
_DURATION = re.compile(
    rf"\b(?P<n>{_NUM}(?: and a half)?|an?|half an?|an? half|one and a half) ?(?P<u>seconds?|secs?|s|minutes?|mins?|"
    r"hours?|hrs?)\b")
_LIMIT_BEFORE = re.compile(
    r"(?:\bin|\bwithin|\bunder|\bbefore|\binside|\blimit(?: of)?|\btimer(?: of| for)?|\bcountdown(?: of| from)?|"
    r"\bhave|\bhas|\bget|\blasts?|\blasting|\bfor|\bonly|\bjust|\bless than|\bat most|\bmax(?:imum)?|\bclock(?: of)?|"
    r"\bbeat|\bwith)(?: only| just)?(?: [:=])? $")
_LIMIT_AFTER = re.compile(
    r"^ (?:timer|time limit|limit|countdown|clock|rounds?|game|match|challenge|run|level|session|deadline|time|heat|"
    r"periods?|halves|long|to|left|on the clock|or less|max|maximum)\b")
_PLAYER_RULES: list[tuple[re.Pattern, Any, int]] = [  # (regex, players or callable, priority: lower wins)
    (re.compile(r"\b(?P<a>\d) ?(?:v|vs|versus) ?(?P<b>\d)\b"), lambda m: int(m.group("a")) + int(m.group("b")), 0),
    (re.compile(rf"\b(?P<n>{_NUM}) ?(?:players?|p|player game|people game)\b"), lambda m: _number_value(m.group("n")),
     0),
    (re.compile(rf"\b(?P<a>{_NUM}) teams of (?P<b>{_NUM})\b"),
     lambda m: (_number_value(m.group("a")) or 0) * (_number_value(m.group("b")) or 0) or None, 0),
    (re.compile(rf"\b(?P<n>{_NUM}) (?:friends|kids|siblings|children|humans) (?:play|take|compete|race|battle|"
                r"against|versus|vs|try|each|who)\b"), lambda m: _number_value(m.group("n")), 0),
    (re.compile(rf"\bfor (?P<n>{_NUM}) (?:people|persons|humans|friends|players)\b"),
     lambda m: _number_value(m.group("n")), 0),
    (re.compile(rf"\bwith (?P<n>{_NUM}) (?:friends|others|other players)\b"),
     lambda m: (_number_value(m.group("n")) or 0) + 1, 0),
    (re.compile(r"\b(?:against|versus|vs|vs \.) (?:the |a )?(?:computer|ai|cpu|bot|robot opponent|machine)\b"), 1, 1),
    (re.compile(r"\b(?:single ?player|solo|by (?:myself|yourself|themselves)|alone)\b"), 1, 1),
    (re.compile(r"\b(?:multiplayer|multi player|co op|coop|cooperative|split screen|hot ?seat|head to head|pvp|"
                r"local multiplayer|couch|take turns|taking turns|turn based)\b"), 2, 1),
    (re.compile(r"\b(?:against|versus|vs) (?:a|my|your|one|another|each) ?(?:friend|other|opponent|rival|partner|"
                r"buddy|pal|mate|sibling|brother|sister|person|player|human)?\b|\bwith (?:a|my|your) (?:friend|partner|"
                r"buddy|pal)\b|\bagainst each other\b|\bversus\b|\bvs\b|\btwo teams\b"), 2, 1),
]

_STYLES: list[tuple[str, re.Pattern]] = [
    ("toon", re.compile(r"\b(?:toon|toons|cartoon\w*|cel shad\w*|cell shad\w*|comic(?: book)?|anime|manga)\b")),
    ("pixel art", re.compile(r"\b(?:pixel(?: art|ated)?|8 bit|16 bit|sprite\w*)\b")),
    ("realistic", re.compile(r"\b(?:realistic|photo ?real\w*|lifelike|true to life|hyper ?real\w*)\b")),
    ("neon", re.compile(r"\bneon\b(?! (?:green|pink|blue))|\bglow(?:ing|s)? in the dark\b|\bsynthwave\b")),
    ("cyberpunk", re.compile(r"\bcyberpunk\b")),
    ("retro", re.compile(r"\b(?:retro|vintage|old school|arcade style)\b")),
    ("watercolor", re.compile(r"\b(?:watercolou?r|painterly|oil paint\w*|impressionist\w*|painted style)\b")),
    ("low poly", re.compile(r"\blow ?poly\b")),
    ("claymation", re.compile(r"\b(?:claymation|clay style|plasticine|stop motion)\b")),
    ("sketch", re.compile(r"\b(?:sketch\w*|pencil|hand drawn|doodle\w*|crayon)\b")),
    ("noir", re.compile(r"\b(?:noir|black and white|monochrome|grayscale|greyscale)\b")),
    ("pastel", re.compile(r"\bpastel\b")),
    ("steampunk", re.compile(r"\bsteampunk\b")),
    ("vaporwave", re.compile(r"\bvaporwave\b")),
    ("voxel", re.compile(r"\b(?:voxel\w*|minecraft\w*|blocky)\b")),
    ("lego", re.compile(r"\blego\b")),
    ("minimalist", re.compile(r"\b(?:minimal\w*|flat design|clean and simple)\b")),
    ("spooky", re.compile(r"\b(?:spooky|haunted|halloween|horror|creepy)\b")),
    ("wooden", re.compile(r"\bwooden\b|\bmade (?:entirely )?of wood\b|\bwood (?:style|theme|look)\b")),
    ("dreamy", re.compile(r"\b(?:dreamy|dreamlike|surreal|whimsical|fairy ?tale)\b")),
]

# ---------------------------------------------------------------- mechanics evidence

_PUSH_TO = (r"\b(?:push|pushes|pushing|shove|shoves|shoving|nudge|nudges|move|moves|moving|drive|drives|carry|"
            r"carries|deliver|delivers|bring|brings|get|gets|herd|herds|steer|steers|guide|guides)\b(?: [^\W\d_]+){0,5}"
            r" (?:to|onto|into|towards?|on to|in to|over to|inside|on) (?:the |a |an |its |their )?(?:[^\W\d_]+ ){0,2}?"
            r"(?:target|goal|zone|pad|area|spot|mark|marker|square|circle|corner|destination|platform|x|finish|exit|"
            r"base|hole|pit)s?\b")
_MECHANIC_RULES: list[tuple[re.Pattern, str, float]] = [(re.compile(p), m, wt) for p, m, wt in [
    (r"\bbowling\b", "bowling", 3), (r"\bskittles?\b", "bowling", 3), (r"\btenpins?\b|\bten pins?\b", "bowling", 2),
    (r"\bstrikes?\b", "bowling", 1), (r"\bspares?\b", "bowling", 1), (r"🎳", "bowling", 3),
    (r"\bbilliards?\b", "billiards", 3.5), (r"\bsnooker\b", "billiards", 3.5),
    (r"(?<!swimming )(?<!paddling )(?<!wading )\bpool\b(?! of| party| float| noodle| water)", "billiards", 2.5),
    (r"\bcue\b", "billiards", 2), (r"\b(?:eight|8) ball\b", "billiards", 3), (r"\bpot(?:s|ted)?\b|\bpockets?\b",
                                                                            "billiards", 1),
    (r"🎱", "billiards", 3),
    (r"\bdomino(?:e?s)?\b", "dominoes", 3.5), (r"\bchain reaction\b", "dominoes", 2),
    (r"\brube goldberg\b", "dominoes", 1.5), (r"\btopple\b", "dominoes", 0.5),
    (r"\bjenga\b", "stacking", 4), (r"\btowers?\b", "stacking", 1.5), (r"\bstack(?:s|ed|ing)?\b", "stacking", 2),
    (r"\bpiles?\b|\bbalanc(?:e|ing|ed)\b", "stacking", 1),
    (r"\bbuild(?:ing|s)? (?:a |the )?(?:tall |high |big )?(?:tower|stack|pile|pyramid)\b", "stacking", 2),
    (r"\bsling ?shots?\b", "projectile", 3.5), (r"\bcannons?\b", "projectile", 3),
    (r"\bcatapults?\b", "projectile", 2.5),
    (r"\btrebuchets?\b|\bangry birds\b", "projectile", 3.5),
    (r"\b(?:throw|toss|hurl|fling|lob|shoot|fire|launch)(?:s|ing|ed)?\b(?: [^\s,.;]+){0,4}? (?:at|toward|towards)\b",
     "projectile", 3),
    (r"\b(?:shoot|shooting|shoots|fire|firing|launch|launching|launches|throw|throwing|throws|toss|tossing|hurl)\b",
     "projectile", 1),
    (r"\bknock(?:s|ing|ed)? (?:down|over|off)\b", "projectile", 1.5), (r"\btargets?\b", "projectile", 1),
    (r"\bbullets?\b|\bguns?\b|\bbow and arrows?\b|\barchery\b|\bdarts?\b|\bcoconut shy\b", "projectile", 2),
    (r"\bsoccer\b|\bfootball\b|\bbasketball\b|\bhockey\b|\bfoosball\b|\bfutsal\b", "goal_sport", 3.5),
    (r"\bair hockey\b", "goal_sport", 2), (r"\bscor(?:e|es|ing) (?:a |the )?goals?\b", "goal_sport", 2),
    (r"\bgoals?\b", "goal_sport", 1), (r"\bhoops?\b|\bdunk\w*\b|\bfree throws?\b", "goal_sport", 2),
    (r"\bpucks?\b", "goal_sport", 1.5), (r"\bpenalt(?:y|ies)\b", "goal_sport", 2),
    (r"\bhandball\b|\bwater polo\b|\bpolo\b|\bnetball\b|\brugby\b|\blacrosse\b", "goal_sport", 3),
    (r"⚽|🏀|🏒|🥅", "goal_sport", 3), (r"\bkick(?:s|ing|ed)?\b", "goal_sport", 1),
    (r"\bmini ?golf\b|\bcrazy golf\b|\bputt putt\b|\bminiature golf\b", "putting", 4),
    (r"\bputt(?:s|ing|er|ed)?\b", "putting", 3), (r"\bgolf\b", "putting", 2), (r"\bhole in one\b", "putting", 2),
    (r"⛳", "putting", 3),
    (r"\bramps?\b", "ramp", 2.5), (r"\bmarble runs?\b|\bmarble tracks?\b|\bball runs?\b", "ramp", 4),
    (r"\binclines?\b|\binclined planes?\b", "ramp", 2), (r"\bchutes?\b", "ramp", 1.5),
    (r"\broll(?:s|ing)? down\b", "ramp", 1), (r"\btracks?\b", "ramp", 0.5), (r"\bmarbles?\b", "ramp", 1),
    (r"\bloop the loop\b|\bloops?\b", "ramp", 1), (r"\bhot wheels\b", "ramp", 1.5),
    (r"\bplinko\b|\bpachinko\b|\bgalton board\b|\bbean machine\b", "plinko", 4.5), (r"\bpegs?\b", "plinko", 2),
    (r"\bpeg ?boards?\b", "plinko", 2), (r"\bpinball\b", "plinko", 1.5), (r"\bbumpers?\b", "plinko", 1),
    (r"\bpendul(?:um|ums|a)\b", "pendulum", 4), (r"\bnewtons? cradle\b|\bcradle\b", "pendulum", 4),
    (r"\bwrecking ball\b", "pendulum", 2.5), (r"\bswing(?:s|ing)?\b", "pendulum", 1),
    (r"\bhang(?:s|ing)? from\b", "pendulum", 1),
    (r"\bsee ?saws?\b|\bteeter ?totters?\b", "lever", 4), (r"\blevers?\b", "lever", 3.5),
    (r"\bfulcrum\b", "lever", 3), (r"\bcatapult arm\b", "lever", 2), (r"\bbalance beam\b", "lever", 1.5),
    (r"\bcurling\b", "sliding", 4.5), (r"\bshuffle ?board\b|\bshuffle ?puck\b", "sliding", 4.5),
    (r"\bslid(?:e|es|ing)\b(?: [^\W\d_]+){0,4}? (?:across|along|over)\b", "sliding", 1.5),
    (r"\bbocce\b|\bboules\b|\bpetanque\b", "sliding", 2), (r"\bice\b", "sliding", 0.5),
    (r"\btilt(?:ing)? mazes?\b|\blabyrinths?\b|\bmarble mazes?\b|\bball mazes?\b", "tilt_maze", 4.5),
    (r"\bmazes?\b", "tilt_maze", 2),
    (r"\btilt(?:s|ing)? (?:the )?(?:board|table|maze|platform|floor|world|level|tray)\b", "tilt_maze", 3),
    (r"\btilt\b", "tilt_maze", 1),
    (r"\bsled(?:s|ding|ge|ges)?\b|\btoboggan\w*\b|\bsleighs?\b|\bbobsle\w*\b", "slope", 4),
    (r"\bski(?:s|ing|er|ers)?\b|\bsnowboard\w*\b", "slope", 2.5), (r"\bslopes?\b", "slope", 2.5),
    (r"\bhills?\b|\bhillside\b|\bmountain\w*\b", "slope", 1.5), (r"\bdownhill\b", "slope", 2),
    (_PUSH_TO, "push", 3.5), (r"\bsokoban\b", "push", 4.5),
    (r"\bpush(?:es|ing|ed)?\b|\bshov(?:e|es|ing)\b", "push", 1.5),
    (r"\bbulldoz\w*\b|\bsumo\b", "push", 1.5),
    (r"\bzero ?g(?:ravity)?\b|\bno gravity\b|\bweightless\w*\b|\bmicro ?gravity\b", "zero_g", 4),
    (r"\b(?:in|into|through) (?:outer |deep )?space\b|\bouter space\b|\bspace station\b|\bspacewalk\b|"
     r"\bastronauts?\b", "zero_g", 3),
    (r"\bfloat(?:s|ing)?\b", "zero_g", 1.5), (r"\basteroids?\b|\bspaceships?\b|\bsatellites?\b|\borbit\w*\b",
                                              "zero_g", 1.5),
]]

_KIND_MECHANICS: dict[str, dict[str, float]] = {
    "pin": {"bowling": 1.5}, "bowling ball": {"bowling": 2}, "lane": {"bowling": 1.5},
    "billiard ball": {"billiards": 2}, "cue ball": {"billiards": 2}, "cue": {"billiards": 2},
    "pool table": {"billiards": 2.5}, "pocket": {"billiards": 1.5}, "rail": {"billiards": 0.5},
    "domino": {"dominoes": 2.5}, "jenga block": {"stacking": 2.5}, "block": {"stacking": 1},
    "brick": {"stacking": 0.5}, "crate": {"push": 1, "stacking": 0.5}, "box": {"push": 0.5, "stacking": 0.5},
    "book": {"stacking": 0.5}, "can": {"projectile": 1}, "bottle": {"projectile": 1}, "target": {"projectile": 1.5},
    "slingshot": {"projectile": 2.5}, "cannon": {"projectile": 2.5}, "catapult": {"projectile": 2},
    "cannonball": {"projectile": 2}, "bullet": {"projectile": 2}, "arrow": {"projectile": 2},
    "dart": {"projectile": 2}, "launcher": {"projectile": 1.5}, "snowball": {"projectile": 1},
    "soccer ball": {"goal_sport": 2}, "basketball": {"goal_sport": 2}, "hoop": {"goal_sport": 2},
    "goal": {"goal_sport": 1.5}, "hockey goal": {"goal_sport": 2}, "puck": {"goal_sport": 1.5, "sliding": 0.5},
    "air hockey puck": {"goal_sport": 2}, "air hockey table": {"goal_sport": 2.5}, "paddle": {"goal_sport": 1},
    "hockey stick": {"goal_sport": 1.5}, "field": {"goal_sport": 1}, "court": {"goal_sport": 1},
    "golf ball": {"putting": 2}, "golf club": {"putting": 2}, "hole": {"putting": 1.5},
    "putting green": {"putting": 2.5}, "flag": {"putting": 0.5}, "ramp": {"ramp": 2}, "track": {"ramp": 1.5},
    "marble": {"ramp": 1, "tilt_maze": 0.5}, "toy car": {"ramp": 1}, "peg": {"plinko": 2},
    "peg board": {"plinko": 2.5}, "slot": {"plinko": 1}, "bumper": {"plinko": 1},
    "pendulum bob": {"pendulum": 2.5}, "steel ball": {"pendulum": 1}, "wrecking ball": {"pendulum": 2},
    "rope link": {"pendulum": 1}, "chain link": {"pendulum": 1}, "rod": {"pendulum": 0.5},
    "seesaw": {"lever": 2.5}, "fulcrum": {"lever": 2.5}, "curling stone": {"sliding": 3},
    "shuffleboard puck": {"sliding": 3}, "rink": {"sliding": 1, "goal_sport": 0.5}, "ice cube": {"sliding": 0.5},
    "maze board": {"tilt_maze": 2.5}, "maze wall": {"tilt_maze": 2}, "sled": {"slope": 2.5},
    "slope": {"slope": 2}, "boulder": {"slope": 0.5}, "robot": {"push": 1.5}, "cart": {"push": 1},
    "target zone": {"push": 1}, "asteroid": {"zero_g": 1.5}, "balloon": {"zero_g": 0.5},
}


def mechanic_hints(text: str, mentions: list[ObjectMention], gravity: tuple[float, float, float] | None
                   ) -> list[tuple[str, float]]:
    """Evidence for each mechanic from ``text`` and ``mentions`` (see ``Intent.mechanic_hints``).

    Public so a caller that learns more about the mentions (kinds grounded by embeddings) can
    score them again with the same rules.
    """
    return _mechanics(text, mentions, gravity)


def _mechanics(text: str, mentions: list[ObjectMention], gravity: tuple[float, float, float] | None
               ) -> list[tuple[str, float]]:
    """Evidence for each mechanic, normalised to sum to 1, best first.

    A keyword counts its weight once; inside an object's name ("bowling balls" in a
    Newton's cradle) it counts half, since the kind itself already adds its own evidence.
    """
    score = dict.fromkeys(MECHANICS, 0.0)
    spans = [m.span for m in mentions]
    for rx, mech, wt in _MECHANIC_RULES:
        hits = list(rx.finditer(text))
        if hits:
            inside = all(any(a <= h.start() and h.end() <= b for a, b in spans) for h in hits)
            score[mech] += wt / 2 if inside else wt
    for k in dict.fromkeys(m.kind for m in mentions if m.kind and not m.in_twist):
        for mech, wt in _KIND_MECHANICS.get(k, {}).items():
            score[mech] += wt
    if gravity == (0.0, 0.0, 0.0) and score["zero_g"] == 0:
        score["zero_g"] += 3.0
    total = sum(score.values())
    if total <= 0:
        return []
    ranked = sorted(((m, v / total) for m, v in score.items() if v > 0),
                    key=lambda mv: (-mv[1], MECHANICS.index(mv[0])))
    return [(m, round(v, 3)) for m, v in ranked]


# ---------------------------------------------------------------- twists

_LOOK_VERBS = (r"look like|looks like|looking like|look as|appear as|appears as|are drawn as|is drawn as|get drawn as|"
               r"are rendered as|is rendered as|are skinned as|is skinned as|are shown as|is shown as|turn into|"
               r"turns into|become|becomes|change into|changes into|transform into|transforms into|morph into|"
               r"morphs into|turn to|turns to|change to|changes to|are replaced by|is replaced by|are replaced with|"
               r"is replaced with|get replaced by|get replaced with|are now|is now|get|gets|go|goes|turn|turns|"
               r"grow|grows|get to be")
_LOOK_RE = re.compile(rf"^(?P<t>.*?)\b(?P<v>{_LOOK_VERBS})\b (?P<x>.+)$")
_TRUE_LOOK = re.compile(r"^(?:look|appear|are drawn|is drawn|get drawn|are rendered|is rendered|are skinned|"
                        r"is skinned|are shown|is shown|turn into|turns into|become|becomes|change into|changes into|"
                        r"transform|morph|turn to|turns to|change to|changes to|are replaced|is replaced|"
                        r"get replaced|are now|is now)")
_CHANGE_START = re.compile(
    r"\b(?:it|they|everything|gravity|you|all|we|i|the player|the ball|the screen|the world|the floor|the lights?)"
    r" (?:turns?|becomes?|looks?|grows?|shrinks?|disappears?|vanish(?:es)?|explodes?|speeds? up|slows? down|"
    r"reverses?|flips?|inverts?|wins?|lose|loses|scores?|gets?|changes?|appears?|spawns?|bounces?|falls? up|"
    r"go(?:es)?|is|are|will)\b|\b(?:a|an|another) (?:new )?[^\W\d_]+ (?:appears|spawns|drops|falls)\b|"
    r"\bthe [^\W\d_]+ (?:turns?|becomes?|looks?|grows?|shrinks?|disappears?|vanish(?:es)?|explodes?|speeds? up|"
    r"slows? down|changes?|bounces?|gets?)\b|\bgame over\b|\bthe game ends\b")


def _target(text: str) -> str | None:
    t = re.sub(r"\b(?:the|a|an|all|every|each|of|then|and|so|,|all the|new)\b", " ", text).strip(" ,")
    t = " ".join(t.split()[-4:])
    if not t:
        return None
    if t in ("it", "they", "them", "that", "this", "he", "she"):
        return "it"
    if t in ("everything", "everyone", "all objects", "all things", "things", "objects", "world", "the world"):
        return "all"
    if t in ("you", "player", "players", "i", "we"):
        return "player"
    if "gravity" in t:
        return "gravity"
    k = kb.find_kind(t)
    if k is not None:
        return k.name
    last = t.split()[-1]
    return kb.singular(last) if re.fullmatch(r"[^\W\d_]+", last) else None


def _value_noun(text: str) -> str | None:
    t = re.sub(r"^(?:like |as |into |to )?(?:an? |the |some )?", "", text.strip(" ,.")).strip()
    t = re.split(r" (?:and|but|while|when|if|for|until|from|in|on|at|with|,|\.)\b| ,", t)[0].strip()
    if not t:
        return None
    k = kb.find_kind(t)
    if k is not None:
        return k.name
    words = [x for x in t.split() if re.fullmatch(r"[^\W\d_]+", x) and x not in _FUNCTION_WORDS][:3]
    return kb.singular(words[-1]) if words else None


def _parse_change(text: str) -> Change:
    """What a twist clause does (see :data:`CHANGES`); ``what='other'`` if not understood."""
    t = re.sub(r"^(?:then|and|so|,|\|)+ ", "", text.strip(" ,|")).strip()
    t = re.sub(r"\s*\|+\s*", " ", t)
    raw = t
    if not t:
        return Change("other", text=raw)
    # gravity
    m = re.search(rf"\bgravity (?:becomes|switches to|changes to|turns to|is now|goes to)(?: like)?(?: that of)?"
                  rf"(?: the)? (?P<p>{_PLANET_RE})\b", t)
    if m:
        return Change("set_gravity", "gravity", (0.0, 0.0, -_PLANETS[m.group("p")]), raw)
    if re.search(r"\bgravity (?:reverses|reverse|flips|flip|inverts|invert|switches direction|changes direction|"
                 r"is reversed|gets reversed|is flipped|gets flipped|is inverted|turns upside down|goes upside down|"
                 r"switches|toggles)\b|\b(?:reverse|reverses|reversing|flip|flips|flipping|invert|inverts)(?: the)? "
                 r"gravity\b|\bfalls? up\b|\bupside down\b|\bgravity goes up\b", t):
        return Change("reverse_gravity", "gravity", None, raw)
    if re.search(r"\bgravity (?:turns off|switches off|is turned off|goes away|disappears|stops|vanishes|is off|"
                 r"turns to zero|becomes zero|is gone)\b|\bno gravity\b|\bzero ?g(?:ravity)?\b|\bweightless\b|"
                 r"\beverything floats\b|\bturn(?:s)? off (?:the )?gravity\b", t):
        return Change("set_gravity", "gravity", (0.0, 0.0, 0.0), raw)
    if re.search(r"\bgravity (?:turns|switches|comes) (?:back )?on\b|\bgravity returns\b|\bgravity is restored\b", t):
        return Change("set_gravity", "gravity", (0.0, 0.0, -EARTH_G), raw)
    m = re.search(rf"\bgravity (?:becomes|switches to|changes to|turns to|is now|goes to)(?: like)?(?: that of)?"
                  rf"(?: the)? (?P<p>{_PLANET_RE})\b", t)
    if m:
        return Change("set_gravity", "gravity", (0.0, 0.0, -_PLANETS[m.group("p")]), raw)
    if re.search(r"\bgravity (?:doubles|gets stronger|increases|gets heavier|grows|intensifies)\b|"
                 r"\bdoubles? (?:the )?gravity\b", t):
        return Change("scale_gravity", "gravity", 2.0, raw)
    if re.search(r"\bgravity (?:halves|gets weaker|decreases|weakens|gets lighter|drops)\b|"
                 r"\bhalves? (?:the )?gravity\b", t):
        return Change("scale_gravity", "gravity", 0.5, raw)
    if re.search(r"\bgravity (?:rotates|shifts|turns sideways|changes|goes sideways|points sideways|moves)\b|"
                 r"\bsideways gravity\b|\brotate(?:s)? (?:the )?gravity\b", t):
        return Change("rotate_gravity", "gravity", 90.0, raw)
    # time, messages, lives, winning, losing
    m = re.search(rf"\b(?P<s>add|adds|gain|gains|get|gets|bonus|extra|plus|\+|lose|loses|minus|-)(?: an?)? "
                  rf"(?P<n>{_NUM}) (?:more |extra |bonus )?(?P<u>seconds?|secs?|s|minutes?|mins?)\b", t)
    if m:
        v = (_number_value(m.group("n")) or 0) * _TIME_UNITS[m.group("u")]
        return Change("add_time", None, -v if m.group("s") in ("lose", "loses", "minus", "-") else v, raw)
    m = re.search(r"\b(?:show|shows|display|displays|say|says|print|prints|flash|flashes)(?: a| the)?"
                  r"(?: message| text| sign| banner)? \" (?P<m>[^\"]{1,100}?) \"", t)
    if m:
        return Change("message", None, m.group("m").strip(), raw)
    if re.search(r"\blose (?:a|one) li(?:fe|ves)\b|\blife is lost\b|\blose a heart\b", t):
        return Change("lose_life", "player", 1, raw)
    if re.search(r"\b(?:you|player|players|i|we|they) (?:win|won|wins)\b|\bwin the game\b|\bvictory\b|"
                 r"\blevel complete\b|\byou beat the level\b", t):
        return Change("end", "player", "win", raw)
    if re.search(r"\b(?:you|player|i|we|they) (?:lose|lost|loses|die|dies)\b|\bgame over\b|\bdefeat\b", t):
        return Change("end", "player", "lose", raw)
    if re.search(r"\b(?:the )?(?:game|round|level|match) (?:ends|is over|finishes|stops)\b|\bend the game\b", t):
        return Change("end", None, "done", raw)
    # spawning (verb first)
    m = re.search(rf"\b(?:spawn|spawns|add|adds|drop|drops|release|releases|launch|launches|fire|fires)(?: in)? "
                  rf"(?P<n>{_NUM}|an?|another|more|some)? ?(?:new |more |extra )?"
                  r"(?!(?:from|the|in|on|at|to|into|down|up|out|of|off|away|back|it|them)\b)"
                  r"(?P<x>[^\W\d_]+(?: [^\W\d_]+)?)", t)
    if m and _value_noun(m.group("x")) and not re.match(r"(?:points?|score|gravity|seconds?)\b", m.group("x")):
        n = m.group("n")
        count = _number_value(n) if n and n not in ("another", "more", "some") else 1.0
        return Change("spawn", _value_noun(m.group("x")), int(count or 1), raw)
    # speed and size
    m = re.search(r"^(?P<t>.*?)\b(?:speeds? up|gets? faster|go(?:es)? faster|moves? faster|accelerates?|"
                  r"doubles? (?:its |their |in )?speed|move twice as fast)\b", t)
    if m:
        return Change("speed_up", _target(m.group("t")), 2.0 if "double" in t or "twice" in t else 1.5, raw)
    m = re.search(r"^(?P<t>.*?)\b(?:slows? down|gets? slower|go(?:es)? slower|moves? slower|decelerates?|"
                  r"halves? (?:its |their )?speed)\b", t)
    if m:
        return Change("slow_down", _target(m.group("t")), 0.5 if "halve" in t else 0.67, raw)
    m = re.search(r"^(?P<t>.*?)\b(?:grows?|gets? (?:bigger|larger)|doubles? in size|expands?|swells?|gets? huge)\b", t)
    if m and "gravity" not in m.group("t"):
        return Change("grow", _target(m.group("t")), 2.0 if "double" in t else 1.5, raw)
    m = re.search(r"^(?P<t>.*?)\b(?:shrinks?|gets? (?:smaller|tiny)|halves? in size|contracts?)\b", t)
    if m:
        return Change("shrink", _target(m.group("t")), 0.5 if "halve" in t else 0.67, raw)
    # destroy / hide
    m = re.search(r"^(?P<t>.*?)\b(?:disappears?|vanish(?:es)?|explodes?|breaks?|shatters?|(?:is|are|gets?) "
                  r"(?:destroyed|removed|deleted)|dies|pops?|melts?|blows? up)\b", t)
    if m and m.group("t").strip():
        return Change("destroy", _target(m.group("t")), None, raw)
    m = re.search(r"\b(?:remove|removes|destroy|destroys|delete|deletes|explode|pop|pops)(?P<t> .+)$", t)
    if m:
        return Change("destroy", _target(m.group("t")), None, raw)
    # becoming / looking like
    m = _LOOK_RE.search(t)
    if m:
        tgt, verb, x = _target(m.group("t")), m.group("v"), m.group("x").strip()
        x0 = re.sub(r"^(?:like |as |into |to )?(?:an? |the |all |completely |totally |very |super |more |much )*", "",
                    x).strip()
        first = x0.split()[0] if x0.split() else ""
        two = " ".join(x0.split()[:2])
        if two in kb.COLORS or first in kb.COLORS:
            name = two if two in kb.COLORS else first
            return Change("color", tgt, kb.COLORS[name], raw)
        if first in ("invisible", "transparent", "hidden"):
            return Change("hide", tgt, None, raw)
        if first in ("visible",):
            return Change("show", tgt, None, raw)
        if first in ("bigger", "larger", "huge", "giant", "enormous", "massive"):
            return Change("grow", tgt, 2.0 if first in ("huge", "giant", "enormous", "massive") else 1.5, raw)
        if first in ("smaller", "tiny", "little"):
            return Change("shrink", tgt, 0.5 if first == "tiny" else 0.67, raw)
        if first in ("faster", "quicker"):
            return Change("speed_up", tgt, 1.5, raw)
        if first in ("slower",):
            return Change("slow_down", tgt, 0.67, raw)
        if first in ("bouncy", "bouncier", "springy", "elastic"):
            return Change("set_restitution", tgt, 0.9, raw)
        if first in ("slippery", "slick", "icy", "frictionless"):
            return Change("set_friction", tgt, 0.0 if first == "frictionless" else 0.05, raw)
        if first in ("sticky", "grippy", "rough"):
            return Change("set_friction", tgt, 1.2, raw)
        if first in ("heavy", "heavier"):
            return Change("scale_mass", tgt, 2.0, raw)
        if first in ("light", "lighter", "weightless"):
            return Change("scale_mass", tgt, 0.5, raw)
        mat = kb.find_material(two) or kb.find_material(first)
        if mat is not None and kb.lookup_exact(first) is None:
            return Change("material", tgt, mat.name, raw)
        if _TRUE_LOOK.match(verb):
            v = _value_noun(x0)
            if v:
                return Change("look_like", tgt, v, raw)
    # scoring
    m = re.search(rf"\b(?:score|scores|get|gets|earn|earns|gain|gains|win|wins|award|awards|add|adds|worth|plus|\+)"
                  rf" (?P<n>{_NUM}|an?|one|double|bonus|extra) ?(?:extra |bonus )?points?\b", t)
    if m:
        n = m.group("n")
        v = 2.0 if n == "double" else 1.0 if n in ("a", "an", "bonus", "extra") else _number_value(n) or 1.0
        return Change("score", "player", v, raw)
    if re.search(r"\b(?:scores?|a point|counts?|points?)\b", t):
        return Change("score", "player", 1.0, raw)
    # spawning (noun first)
    m = re.search(rf"(?:(?P<n>{_NUM}|an?|another|more|some) )?(?:new |more |extra )?(?P<x>[^\W\d_]+(?: [^\W\d_]+)?) "
                  r"(?:appears?|spawns?|drops? (?:in|down|from)|falls? from|rains? (?:down|from)|(?:is|are) added|"
                  r"pops? up|shows? up|arrives?|comes? in)\b", t)
    if m and _value_noun(m.group("x")):
        n = m.group("n")
        count = _number_value(n) if n and n not in ("another", "more", "some") else 1.0
        return Change("spawn", _value_noun(m.group("x")), int(count or 1), raw)
    return Change("other", None, None, raw)


_EVERY_TIME = re.compile(rf"\b(?:every|each) (?:(?P<other>other) |(?P<n>{_NUM}|few|couple of|several|a few) )?"
                         r"(?P<u>seconds?|secs?|s|minutes?|mins?|hours?)\b")
_CLAUSE_SPLIT = re.compile(r" (?:,|;|and then|then|and|but|while|so that|so|where|in which|whereby) ")
_TRIGGER = re.compile(r"\b(?:after|(?<!at )(?<!all at )once|when|whenever|if|as soon as|each time|every time|every|"
                      r"each)\b")


def _clause_spans(text: str, a: int, b: int) -> list[tuple[int, int]]:
    spans, cur = [], a
    for m in _CLAUSE_SPLIT.finditer(text, a, b):
        spans.append((cur, m.start()))
        cur = m.end()
    spans.append((cur, b))
    return [(x, y) for x, y in spans if y > x]


def _clause_start(text: str, a: int, pos: int) -> int:
    """Start of the clause that ends at ``pos`` (clauses split at commas, "and", "then", ...)."""
    spans = _clause_spans(text, a, pos)
    return spans[-1][0] if spans else a


def _meaningful(t: str) -> bool:
    return any(w not in _STOPWORDS and re.fullmatch(r"[^\W\d_]+", w) for w in t.split())


def _find_twists(text: str, sentences: list[tuple[int, int]], notes: list[str]
                 ) -> tuple[list[tuple[int, Twist]], list[tuple[int, int]]]:
    """Twists found in ``text`` with their positions, and the character spans they use."""
    twists: list[tuple[int, Twist]] = []
    used: list[tuple[int, int]] = []

    def sentence_of(pos: int) -> tuple[int, int]:
        for a, b in sentences:
            if a <= pos < b:
                return a, b
        return 0, len(text)

    # "every 5 seconds ..."
    for m in _EVERY_TIME.finditer(text):
        if _overlaps(m.span(), used):
            continue
        if m.group("other"):
            n = 2.0
        elif m.group("n"):
            n = 3.0 if m.group("n") in ("few", "a few", "several") else 2.0 if m.group("n") == "couple of" \
                else _number_value(m.group("n"))
        else:
            n = 1.0
        if m.group("u") == "s" and not (m.group("n") or "0")[0].isdigit():
            continue
        if not n or n <= 0:
            continue
        every = n * _TIME_UNITS[m.group("u")]
        sa, sb = sentence_of(m.start())
        clauses = _clause_spans(text, sa, sb)
        ci = next((i for i, (x, y) in enumerate(clauses) if x <= m.start() < y), 0)
        ca, cb = clauses[ci]
        if _meaningful(text[ca:m.start()]):  # "gravity reverses every 5 s [in a room ...]"
            action, span = text[ca:m.start()].strip(), (ca, m.end())
        else:
            action, span = text[m.end():cb].strip(), (ca, cb)
        if not _meaningful(action):
            alt = ci + 1 if ci + 1 < len(clauses) else ci - 1
            if 0 <= alt < len(clauses):
                xa, xb = clauses[alt]
                action = text[xa:xb]
                span = (min(ca, xa), max(cb, xb))
        ch = _parse_change(action)
        tw = EveryTwist(every_s=round(every, 6), action=ch, text=text[span[0]:span[1]].strip())
        twists.append((span[0], tw))
        used.append(span)
        notes.append(f"twist: '{tw.text}' → every {_fmt(every)} s: {_change_str(ch)}")

    # "after 10 apples ...", "after 30 seconds ...", "when X, Y"
    for m in _TRIGGER.finditer(text):
        if _overlaps(m.span(), used):
            continue
        trig = m.group()
        sa, sb = sentence_of(m.start())
        toks = _tokenise(text[m.end():sb])
        base = m.end()
        w = [t.text for t in toks]
        i, verbs = 0, []
        while i < len(w) and i < 6 and (w[i] in _SUBJECT_WORDS or w[i] in _COUNT_VERBS or w[i] in _PARTICLES):
            if w[i] in ("a", "an") and i + 1 < len(w) and w[i + 1] in _TIME_UNITS:
                break
            if w[i] in _COUNT_VERBS:
                verbs.append(w[i])
            if _read_number(w, i) is not None:
                break
            i += 1
        num = _read_number(w, i)
        if num is None and i < len(w) and w[i] in ("a", "an") and i + 1 < len(w) and w[i + 1] in _TIME_UNITS:
            num = (1.0, i + 1)
        if num is not None:
            val, j = num
            if j < len(w) and w[j] in _TIME_UNITS and trig in ("after", "once", "when", "if", "as soon as"):
                at = val * _TIME_UNITS[w[j]]
                rest_start = base + (toks[j].end if j < len(toks) else 0)
                rest = text[rest_start:sb]
                rest = re.sub(r"^(?: *(?:,|then|have passed|has passed|pass|passed|elapse|elapsed)\b)+", "", rest)
                ch = _parse_change(rest)
                if not _meaningful(rest):
                    ca = _clause_start(text, sa, m.start())
                    ch = _parse_change(text[ca:m.start()])
                    span = (ca, sb)
                else:
                    span = (m.start(), sb)
                tw: Twist = AtTimeTwist(at_s=round(at, 6), change=ch, text=text[span[0]:span[1]].strip())
                twists.append((span[0], tw))
                used.append(span)
                notes.append(f"twist: '{tw.text}' → at {_fmt(at)} s: {_change_str(ch)}")
                continue
            if j < len(w) and (w[j] in _TIME_UNITS or w[j] in ("times", "x", "%")):
                continue
            km = _kind_at(w, j, len(w)) if j < len(w) else None
            if km is not None:
                what, k2 = km[0].name, km[1]
            elif j < len(w) and re.fullmatch(r"[^\W\d_]+", w[j]) and w[j] not in _FUNCTION_WORDS:
                what, k2 = kb.singular(w[j]), j + 1
            else:
                continue
            while k2 < len(w) and (w[k2] in _AUX or w[k2] in _COUNT_VERBS or w[k2] in _PARTICLES
                                   or w[k2] in ("fall", "falls", "fallen", "drop", "dropped", "land", "landed",
                                                "enter", "entered", "pass", "passed")):
                verbs.append(w[k2])
                k2 += 1
            while k2 < len(w) and w[k2] in (",", "then"):
                k2 += 1
            rest_start = base + toks[k2].start if k2 < len(toks) else sb
            rest = text[rest_start:sb]
            if _meaningful(rest):
                ch = _parse_change(rest)
                span = (m.start(), sb)
            else:
                ca = _clause_start(text, sa, m.start())
                ch = _parse_change(text[ca:m.start()])
                span = (ca, sb)
            event = next((_COUNT_VERBS.get(v) for v in verbs if _COUNT_VERBS.get(v)), None)
            if event is None and any(v in ("fall", "falls", "fallen") for v in verbs):
                event = "fallen"
            count = int(round(min(val, MAX_COUNT)))
            tw = AfterCountTwist(count=count, what_counted=what, change=ch, repeat=trig in ("every", "each"),
                                 event=event, text=text[span[0]:span[1]].strip())
            twists.append((span[0], tw))
            used.append(span)
            notes.append(f"twist: '{tw.text}' → {'every' if tw.repeat else 'after'} {count} {what}"
                         f"{' ' + event if event else ''}: {_change_str(ch)}")
            continue
        if trig in ("every", "each", "after"):
            continue
        # a condition
        rest_a = m.end()
        rest = text[rest_a:sb]
        split = re.search(r" , | then ", rest)
        cond = chg = None
        span = (m.start(), sb)
        if split:
            cond, chg = rest[:split.start()], rest[split.end():]
            nxt = re.search(r" , ", chg)  # only the next clause is the change
            if nxt:
                chg = chg[:nxt.start()]
                span = (m.start(), rest_a + split.end() + nxt.start())
        else:
            cm = next((c for c in _CHANGE_START.finditer(rest) if _meaningful(rest[:c.start()])), None)
            if cm is not None:
                cond, chg = rest[:cm.start()], rest[cm.start():]
            else:
                before_clauses = _clause_spans(text, sa, m.start())
                if before_clauses:
                    ba, bb = before_clauses[-1]
                    starts = list(_CHANGE_START.finditer(text, ba, bb))
                    if starts:  # "a lane where [you win] when all pins fall": the change starts at its subject
                        ba = starts[-1].start()
                    if _parse_change(text[ba:bb]).what != "other":
                        cond, chg = rest, text[ba:bb]
                        span = (ba, sb)
        if cond is None or chg is None or not _meaningful(cond):
            if trig in ("when", "whenever", "once", "as soon as", "each time", "every time") and _meaningful(rest):
                notes.append(f"conditional not understood: '{text[m.start():sb].strip()[:80]}'")
            continue
        ch = _parse_change(chg)
        if ch.what == "other" and not split:
            notes.append(f"conditional not understood: '{text[m.start():sb].strip()[:80]}'")
            continue
        tw = WhenTwist(condition=cond.strip(" ,"), change=ch, text=text[span[0]:span[1]].strip())
        twists.append((span[0], tw))
        used.append(span)
        notes.append(f"twist: '{tw.text}' → when '{tw.condition}': {_change_str(ch)}")
    twists.sort(key=lambda pt: pt[0])
    return twists, used


def _change_str(c: Change) -> str:
    parts = [c.what]
    if c.target and c.target != "gravity":
        parts.append(f"of {c.target}")
    if c.value is not None:
        v = c.value
        parts.append(f"→ {tuple(round(x, 3) for x in v) if isinstance(v, tuple) else v}")
    return " ".join(parts)


# ---------------------------------------------------------------- parse


def parse(prompt: str) -> Intent:
    """Reads ``prompt`` and returns what it asks for. Never raises; see ``Intent.notes``."""
    raw, text, read, n = "", "", 0, 0
    try:
        raw, text, read, n = _normalise(prompt)
        truncated = read < n
    except Exception as e:  # pragma: no cover - defensive
        return Intent(prompt="", notes=[f"parser error ({type(e).__name__}): the prompt could not be read"])
    intent = Intent(prompt=raw, text=text, truncated=truncated)
    notes = intent.notes
    if truncated:
        notes.append(f"truncated: the prompt has {n} characters; read the first {read} (limit {MAX_CHARS})")
    try:
        _parse_into(intent)
    except Exception as e:  # never raise on a prompt; keep what was understood
        notes.append(f"parser error ({type(e).__name__}: {str(e)[:80]}); the result is partial")
    if not text.strip():
        notes.append("empty prompt: nothing to understand; defaults apply")
    elif not (intent.objects or intent.mechanic_hints or intent.twists or intent.style_words or intent.players > 1
              or any(x is not None for x in (intent.gravity, intent.time_limit, intent.restitution, intent.friction))):
        notes.append("nothing recognised: no known objects, mechanics or physics words")
    _tidy_notes(notes)
    return intent


MAX_NOTES = 80


def _tidy_notes(notes: list[str]) -> None:
    """Drops repeated notes and keeps at most :data:`MAX_NOTES` (saying how many were left out)."""
    kept = list(dict.fromkeys(notes))
    if len(kept) > MAX_NOTES:
        extra = len(kept) - MAX_NOTES + 1
        kept = kept[:MAX_NOTES - 1] + [f"... and {extra} more notes"]
    notes[:] = kept


def _parse_into(intent: Intent) -> None:
    text, notes = intent.text, intent.notes
    toks = _tokenise(text)
    sentences: list[tuple[int, int]] = []
    start, quoted = 0, False
    for t in toks:
        if t.text == '"':
            quoted = not quoted  # a quoted message is one piece of text
        if t.text in _SENT_END and not quoted:
            if t.start > start:
                sentences.append((start, t.start))
            start = t.end
    if start < len(text):
        sentences.append((start, len(text)))

    # twists first: what they say must not set the scene's gravity, time limit or counts
    twists, twist_spans = _find_twists(text, sentences, notes)
    intent.twists = [t for _, t in twists]

    mentions, covered = _find_mentions(toks, notes)
    mention_spans = [(toks[a].start, toks[b - 1].end) for a, b in covered]
    objects = []
    for men in mentions:
        in_twist = _overlaps(men.span, twist_spans)
        if in_twist:
            men = dataclasses.replace(men, in_twist=True)
        if men.count is not None and men.count > MAX_COUNT:
            notes.append(f"count capped: '{men.text}' asks for {men.count}; using {MAX_COUNT}")
            men = dataclasses.replace(men, count=MAX_COUNT)
        objects.append(men)
    intent.objects = objects
    for men in objects:
        what = men.kind or men.noun
        extra = []
        if men.color_name:
            extra.append(men.color_name)
        if men.material:
            extra.append(men.material)
        if men.scale != 1.0:
            extra.append(f"scale {_fmt(men.scale)}")
        if men.arrangement:
            extra.append(f"in a {men.arrangement}")
        desc = f" ({', '.join(extra)})" if extra else ""
        where = " [in a twist]" if men.in_twist else ""
        if men.kind is None:
            notes.append(f"unknown object: '{men.text}' → '{men.noun}' is not in the knowledge base{where}")
        elif men.count is None:
            notes.append(f"object: '{men.text}' → {what}, count unspecified{desc}{where}")
        else:
            notes.append(f"count: '{men.text}' → {men.count} {what}{desc}{where}")
    # counts: same description → the largest count; different descriptions add up
    groups: dict[str, dict[tuple, int]] = {}
    for men in objects:
        if men.in_twist or men.count is None:
            continue
        key = men.kind or kb.singular(men.noun.split()[-1])
        sig = (men.color_name, men.material, men.scale, men.arrangement)
        g = groups.setdefault(key, {})
        g[sig] = max(g.get(sig, 0), men.count)
    intent.counts = {k: min(sum(g.values()), MAX_COUNT) for k, g in groups.items()}
    intent.unknown_nouns = list(dict.fromkeys(kb.singular(m.noun.split()[-1]) for m in objects if m.kind is None))

    scene = _mask(text, twist_spans)
    _gravity(intent, scene)
    loose = _mask(scene, mention_spans)  # adjectives on objects are theirs, not the world's
    intent.restitution = _first_value(loose, _RESTITUTION_RULES, "bounciness", (0.0, 1.2), notes)
    if intent.restitution is None:  # "super bouncy balls": contacts need both sides bouncy, so the world is
        bouncy = [m for m in objects if m.restitution is not None and not m.in_twist]
        if bouncy:
            intent.restitution = bouncy[0].restitution
            notes.append(f"bounciness: '{bouncy[0].text}' → {_fmt(bouncy[0].restitution)} (from the objects)")
    intent.friction = _first_value(loose, _FRICTION_RULES, "friction", (0.0, 10.0), notes)
    if intent.friction is None:  # "a frictionless table", "an icy floor": the surface sets the world's friction
        for men in objects:
            k = kb.find_kind(men.kind) if men.kind else None
            surface_friction = men.friction if men.friction is not None else (
                kb.MATERIALS[men.material].friction if men.material and men.material in ("ice", "teflon") else None)
            if k is not None and "support" in k.affordances and surface_friction is not None and not men.in_twist:
                intent.friction = surface_friction
                notes.append(f"friction: '{men.text}' → {_fmt(surface_friction)} (the surface)")
                break
    _time_limit(intent, scene)
    _players(intent, scene)
    _win_score(intent, scene)
    for name, rx in _STYLES:
        src = loose if name == "wooden" else scene
        if rx.search(src):
            intent.style_words.append(name)
    if intent.style_words:
        notes.append(f"style: {', '.join(intent.style_words)}")
    intent.mechanic_hints = _mechanics(text, objects, intent.gravity)
    if intent.mechanic_hints:
        notes.append("mechanics: " + ", ".join(f"{m} {s:.2f}" for m, s in intent.mechanic_hints[:4]))


def _collect(text: str, rules: list[tuple[re.Pattern, str, Any]]) -> list[tuple[int, int, str, Any, str]]:
    """(start, end, kind, value, phrase) of every non-overlapping rule match, in text order."""
    found: list[tuple[int, int, str, Any, str]] = []
    for rx, kind_, val in rules:
        for m in rx.finditer(text):
            if _overlaps(m.span(), [(a, b) for a, b, *_ in found]):
                continue
            v = val(m) if callable(val) else val
            if v is None:
                continue
            found.append((m.start(), m.end(), kind_, v, m.group().strip()))
    found.sort(key=lambda f: f[0])
    return found


def _gravity(intent: Intent, text: str) -> None:
    notes = intent.notes
    found = _collect(text, _GRAVITY_RULES)
    mags = [f for f in found if f[2] == "mag"]
    dirs = [f for f in found if f[2] == "dir"]
    if not mags and not dirs:
        return
    mag = mags[0][3] if mags else EARTH_G
    mag = float(min(max(mag, 0.0), 1000.0))
    d = dirs[0][3] if dirs else (0.0, 0.0, -1.0)
    g = tuple(round(c * mag, 6) + 0.0 for c in d)
    intent.gravity = g  # type: ignore[assignment]
    phrases = " + ".join(f"'{f[4]}'" for f in (mags[:1] + dirs[:1]))
    if mag == 0:
        intent.gravity_note = f"zero-g: {phrases} → no gravity"
    else:
        dn = "down" if d == (0.0, 0.0, -1.0) else "up" if d == (0.0, 0.0, 1.0) else f"along {d}"
        intent.gravity_note = f"{phrases} → {_fmt(round(mag, 3))} m/s² {dn}"
    notes.append(f"gravity: {intent.gravity_note}")
    for group, what in ((mags, "strength"), (dirs, "direction")):
        others = [f for f in group[1:] if f[3] != group[0][3]]
        if others:
            o = others[0]
            notes.append(f"contradiction: gravity {what} '{group[0][4]}' vs '{o[4]}'; kept the first ('{group[0][4]}')")


def _first_value(text: str, rules: list[tuple[re.Pattern, float | None]], what: str, rng: tuple[float, float],
                 notes: list[str]) -> float | None:
    found = _collect(text, [(rx, "v", (lambda m: float(m.group("n"))) if v is None else v) for rx, v in rules])
    if not found:
        return None
    v = float(min(max(found[0][3], rng[0]), rng[1]))
    notes.append(f"{what}: '{found[0][4]}' → {_fmt(v)}")
    others = [f for f in found[1:] if f[3] != found[0][3]]
    if others:
        notes.append(f"contradiction: {what} '{found[0][4]}' vs '{others[0][4]}'; kept the first ('{found[0][4]}')")
    return v


def _time_limit(intent: Intent, text: str) -> None:
    notes = intent.notes
    cands: list[tuple[float, str]] = []
    bare: list[tuple[float, str]] = []
    for m in _DURATION.finditer(text):
        n = m.group("n")
        if m.group("u") == "s" and not n[0].isdigit():
            continue
        before = text[max(0, m.start() - 30):m.start()]
        if re.search(r"\b(?:every|each|after|per|once)(?: other)? $", before):
            continue
        if n in ("a", "an"):
            v = 1.0
        elif n.startswith("half") or n in ("a half", "an half"):
            v = 0.5
        elif n == "one and a half":
            v = 1.5
        else:
            v = _number_value(n.replace(" and a half", ""))
            if v is not None and n.endswith("and a half"):
                v += 0.5
        if not v or v <= 0:
            continue
        secs = v * _TIME_UNITS[m.group("u")]
        after = text[m.end():m.end() + 30]
        if _LIMIT_BEFORE.search(before) or _LIMIT_AFTER.search(after):
            cands.append((secs, m.group()))
        else:
            bare.append((secs, m.group()))
    if not cands and bare and re.search(r"\b(?:timer|time limit|countdown|against the clock|timed|clock)\b", text):
        cands = bare[:1]
    if cands:
        secs = float(min(cands[0][0], 1e6))
        intent.time_limit = secs
        notes.append(f"time limit: '{cands[0][1]}' → {_fmt(secs)} s")
        others = [c for c in cands[1:] if c[0] != cands[0][0]]
        if others:
            notes.append(f"contradiction: time limit '{cands[0][1]}' vs '{others[0][1]}'; kept the first")
    elif re.search(r"\b(?:timer|time limit|countdown|against the clock|timed|speedrun|race against time)\b", text):
        notes.append("time limit: a timer is asked for without a duration; the template decides")


def _players(intent: Intent, text: str) -> None:
    notes = intent.notes
    found: list[tuple[int, int, int, str, int]] = []  # priority, start, players, phrase, end
    spans: list[tuple[int, int]] = []
    for rx, val, prio in _PLAYER_RULES:
        for m in rx.finditer(text):
            if _overlaps(m.span(), spans):
                continue
            v = val(m) if callable(val) else val
            if v is None:
                continue
            spans.append(m.span())
            found.append((prio, m.start(), int(v), m.group().strip(), m.end()))
    if not found:
        return
    found.sort()
    best = found[0]
    p = best[2]
    if p > MAX_PLAYERS:
        notes.append(f"players capped: '{best[3]}' asks for {p}; using {MAX_PLAYERS}")
    if p < 1:
        p = 1
    intent.players = min(p, MAX_PLAYERS)
    notes.append(f"players: '{best[3]}' → {intent.players}")
    if re.search(r"\b(?:computer|ai|cpu|bot)\b", best[3]):
        notes.append("opponent: the computer (one human player)")
    others = [f for f in found[1:] if f[2] != best[2] and f[0] == best[0]]
    if others:
        notes.append(f"contradiction: players '{best[3]}' vs '{others[0][3]}'; kept the first")


_WIN_SCORE = [re.compile(p) for p in (
    rf"\bfirst (?:one |player |team )?to (?:score |reach |get )?(?P<n>{_NUM})\b",
    rf"\b(?:score|get|reach|make|collect|earn|sink|pot) (?P<n>{_NUM}) (?:\w+ )?(?:to win|wins)\b",
    rf"\b(?P<n>{_NUM}) (?:goals|points|baskets|pins|wins) (?:to )?wins?\b",
    rf"\b(?:to|up to|race to|play to|win at|win with) (?P<n>{_NUM}) (?:points|goals)\b",
)]


def _win_score(intent: Intent, text: str) -> None:
    for rx in _WIN_SCORE:
        m = rx.search(text)
        if m:
            v = _number_value(m.group("n"))
            if v is not None and 0 < v <= 1e6:
                intent.win_score = int(round(v))
                intent.notes.append(f"win score: '{m.group().strip()}' → {intent.win_score}")
                return
