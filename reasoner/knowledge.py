"""What the built-in reasoner knows about things: materials, object kinds, colours.

Plain, frozen, deterministic data — no model, no I/O. Three tables:

- :data:`MATERIALS` — physical stuff (density kg/m³, friction, restitution, rolling and
  spinning friction, damping) plus how it looks and sounds.
- :data:`KINDS` — object kinds: a primitive shape with a typical size in metres, a
  material, static or dynamic, an optional typical mass, affordances (what the thing is
  *for* in a game), family tags, and one sentence of description (later embedded for
  similarity-based grounding of nouns the tables do not list).
- :data:`COLORS` — colour names → RGB in 0..1.

Sizes follow :mod:`worldgen.spec`: a box's ``size`` is its FULL extents (x, y, z); a
sphere's is ``(radius,)``; a cylinder's or capsule's is ``(radius, height)`` along the
local z axis (a capsule's height is its straight part, without the end caps); a plane
has ``()``.

Lookups are forgiving: :func:`find_kind` ignores case, hyphens, apostrophes and spacing
("Ping-Pong balls", "pingpong ball"), strips simple English plurals ("pins", "boxes",
"dominoes", "people") and, for a longer phrase, falls back to its longest known ending
("big red bowling balls" → bowling ball). :func:`make_entity` turns a kind into a valid
:class:`worldgen.spec.Entity`.

>>> kind("Skittles").name
'pin'
>>> e = make_entity("bowling ball", "ball", (0, 0, rest_height("bowling ball")))
>>> e.shape.radius, e.mass, e.appearance.look, e.tags
(0.108, 7.0, 'plastic', ['bowling_ball', 'ball'])
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping, Sequence

from worldgen import spec as _spec

__all__ = [
    "AFFORDANCES", "COLORS", "KINDS", "MATERIALS", "SHAPES", "Kind", "Material",
    "color", "extent", "find_kind", "find_material", "half_extents", "kind", "lookup_exact", "make_entity",
    "mass_of", "material", "normalize", "rest_height", "singular", "singular_forms", "volume",
]

RGB = tuple[float, float, float]

#: Shapes a kind may take (the primitive shapes of :mod:`worldgen.spec`).
SHAPES: tuple[str, ...] = ("box", "sphere", "cylinder", "capsule", "plane")

#: The affordance vocabulary: what a thing is for in a game. Templates and grounding
#: read these, so every kind uses only these words.
AFFORDANCES: Mapping[str, str] = MappingProxyType({
    "roll": "rolls freely when pushed (balls, barrels, wheels)",
    "slide": "glides across a surface without rolling (pucks, curling stones, sleds)",
    "topple": "stands upright and falls over when hit (pins, dominoes, bottles)",
    "stack": "can be piled on others of its kind (blocks, crates, cups)",
    "throw": "small and light enough to be thrown by hand",
    "kick": "meant to be kicked (footballs)",
    "strike": "used to hit other things (bats, cues, clubs)",
    "push": "moved by pushing it or pushes others (crates, robots, carts)",
    "score_zone": "a region whose entering scores (holes, pockets, goal mouths)",
    "container": "holds other things (buckets, cups, boxes)",
    "obstacle": "stands in the way (walls, trees, cones)",
    "support": "others rest or roll on it (floors, tables, ramps)",
    "swing": "hangs or pivots and swings (pendulums, seesaws, chains)",
    "bounce": "rebounds strongly or makes others rebound (rubber balls, bumpers)",
    "float": "drifts or floats (balloons, beach balls, asteroids)",
    "target": "something to hit, knock down or collect",
    "projectile": "something launched or fired at a target",
    "launcher": "launches projectiles (cannons, slingshots, catapults)",
    "paddle": "a player-driven striker or blocker (air hockey mallets, flippers)",
    "goal": "where a sport's ball or puck must go (goals, hoops)",
})


def normalize(text: str) -> str:
    """Lower-case ``text``; hyphens/underscores become spaces; apostrophes go; spaces collapse.

    >>> normalize("  Newton's  Ping-Pong_Ball ")
    'newtons ping pong ball'
    """
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"'", "", text)
    text = re.sub(r"[-_]+", " ", text)
    return " ".join(text.split())


# ---------------------------------------------------------------- plurals

_IRREGULAR: Mapping[str, str] = MappingProxyType({
    "people": "person", "men": "man", "women": "woman", "children": "child", "dice": "die",
    "geese": "goose", "mice": "mouse", "feet": "foot", "teeth": "tooth", "knives": "knife",
    "leaves": "leaf", "shelves": "shelf", "wolves": "wolf", "halves": "half", "lives": "life",
    "loaves": "loaf", "calves": "calf", "hooves": "hoof", "oxen": "ox", "cacti": "cactus",
    "fungi": "fungus", "sheep": "sheep", "fish": "fish", "deer": "deer", "series": "series",
})

_NOT_PLURAL = frozenset({"glass", "grass", "class", "moss", "gas", "bus", "chess", "dress", "cross", "boss",
                         "lens", "this", "his", "is", "was", "has", "yes", "us", "plus", "status", "canvas",
                         "billiards", "physics", "news", "tennis", "gymnastics", "athletics", "mathematics",
                         "less", "unless", "across", "always", "perhaps", "its", "thus", "does", "goes",
                         "mass", "pass", "brass", "bonus", "cactus", "octopus", "circus", "virus"})


def singular_forms(word: str) -> tuple[str, ...]:
    """Candidate singular forms of ``word``, most likely first (the word itself last).

    >>> singular_forms("boxes"), singular_forms("dominoes"), singular_forms("pins")
    (('boxe', 'box', 'boxes'), ('domino', 'dominoe', 'dominoes'), ('pin', 'pins'))
    """
    w = word.lower()
    out: list[str] = []
    if w in _IRREGULAR:
        out.append(_IRREGULAR[w])
    elif len(w) > 3 and w not in _NOT_PLURAL and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        if w.endswith("ies") and len(w) > 4:
            out += [w[:-3] + "y", w[:-1]]
        elif w.endswith("ves"):
            out += [w[:-3] + "f", w[:-3] + "fe", w[:-1]]
        elif w.endswith("oes"):
            out += [w[:-2], w[:-1]]
        elif w.endswith(("ches", "shes", "xes", "sses", "zzes", "ses", "zes")):
            out += [w[:-1], w[:-2]]
        else:
            out.append(w[:-1])
    out.append(w)
    return tuple(dict.fromkeys(out))


def singular(word: str) -> str:
    """The singular of ``word`` if it is a known kind or material word, else a best guess.

    >>> singular("boxes"), singular("dominoes"), singular("people"), singular("glass")
    ('box', 'domino', 'person', 'glass')
    """
    forms = singular_forms(word)
    for f in forms:
        if f in _WORDS:
            return f
    return forms[0]


# ---------------------------------------------------------------- materials


@dataclass(frozen=True)
class Material:
    """A physical material with typical values.

    Attributes:
        name: identifier-like name (``rubber_soft``).
        density: kg/m³ of the solid stuff (hollow kinds give their own mass).
        friction: sliding friction coefficient (pybullet multiplies the two bodies' values).
        restitution: bounciness, 0 (dead) .. 1 (perfectly elastic).
        rolling_friction, spinning_friction: pybullet's rolling / spinning resistance.
        linear_damping, angular_damping: velocity lost per second (air drag, internal losses).
        look: the renderer's material look (``Appearance.look``).
        color: typical RGB in 0..1.
        sound: the name of its typical contact sound.
        aliases: adjectives and nouns that name it in prompts ("wooden", "iron").
    """

    name: str
    density: float
    friction: float
    restitution: float
    rolling_friction: float
    spinning_friction: float
    linear_damping: float
    angular_damping: float
    look: str
    color: RGB
    sound: str
    aliases: tuple[str, ...] = ()

    def to_spec(self) -> _spec.Material:
        """The :class:`worldgen.spec.Material` with these physical values."""
        return _spec.Material(name=self.name, friction=self.friction, restitution=self.restitution,
                              rolling_friction=self.rolling_friction, spinning_friction=self.spinning_friction,
                              linear_damping=self.linear_damping, angular_damping=self.angular_damping)


def _m(name, density, friction, restitution, rolling, spinning, lin, ang, look, color, sound, aliases=()):
    return Material(name, float(density), friction, restitution, rolling, spinning, lin, ang, look,
                    tuple(float(c) for c in color), sound, tuple(aliases))


_MATERIALS: tuple[Material, ...] = (
    #   name            density  fric  rest  roll    spin    lin   ang   look       color                 sound
    _m("wood",           700,    0.45, 0.40, 0.002,  0.002,  0.04, 0.04, "wood",    (0.62, 0.45, 0.28), "wood_knock",
       ("wooden", "timber", "oak", "pine", "plywood", "bamboo")),
    _m("polished_wood",  700,    0.10, 0.35, 0.001,  0.001,  0.02, 0.02, "wood",    (0.78, 0.6, 0.4), "wood_knock",
       ("polished", "varnished", "lacquered", "oiled", "polished wood", "hardwood", "maple")),
    _m("steel",          7850,   0.30, 0.75, 0.0005, 0.0005, 0.01, 0.01, "metal",   (0.75, 0.77, 0.8), "metal_clink",
       ("steely", "chrome", "chromed", "stainless", "stainless steel")),
    _m("metal",          7800,   0.35, 0.50, 0.001,  0.001,  0.02, 0.02, "metal",   (0.55, 0.56, 0.58), "metal_clang",
       ("metallic", "iron", "cast iron", "lead", "leaden", "bronze", "copper", "brass")),
    _m("aluminium",      2700,   0.35, 0.50, 0.001,  0.001,  0.02, 0.02, "metal",   (0.82, 0.83, 0.85), "metal_clink",
       ("aluminum", "tin", "alloy")),
    _m("gold",           19300,  0.35, 0.30, 0.001,  0.001,  0.02, 0.02, "gold",    (1.0, 0.78, 0.2), "metal_clink",
       ("golden", "gilded", "gold plated")),
    _m("rubber",         1100,   0.90, 0.80, 0.003,  0.003,  0.04, 0.04, "rubber",  (0.15, 0.15, 0.15), "rubber_bounce",
       ("rubbery", "latex", "silicone")),
    _m("rubber_soft",    950,    1.00, 0.45, 0.01,   0.01,   0.10, 0.10, "rubber",  (0.85, 0.35, 0.3), "soft_thud",
       ("soft rubber", "squishy", "squashy", "gummy", "jelly", "jello")),
    _m("ice",            917,    0.03, 0.10, 0.0,    0.0,    0.01, 0.01, "ice",     (0.8, 0.92, 0.98), "ice_clack",
       ("icy", "frozen")),
    _m("snow",           300,    0.10, 0.05, 0.02,   0.02,   0.10, 0.10, "snow",    (0.95, 0.96, 0.98), "snow_crunch",
       ("snowy", "snow packed", "packed snow")),
    _m("stone",          2600,   0.60, 0.20, 0.003,  0.003,  0.04, 0.04, "stone",   (0.55, 0.53, 0.5), "stone_knock",
       ("stony", "rock", "rocky", "slate", "sandstone", "limestone", "cobblestone")),
    _m("granite",        2700,   0.50, 0.30, 0.002,  0.002,  0.02, 0.02, "stone",   (0.45, 0.45, 0.48), "stone_knock",
       ("granite",)),
    _m("marble",         2700,   0.50, 0.30, 0.002,  0.002,  0.02, 0.02, "marble",  (0.92, 0.9, 0.88), "stone_knock",
       ("marbled",)),
    _m("concrete",       2400,   0.70, 0.15, 0.004,  0.004,  0.04, 0.04, "concrete", (0.6, 0.6, 0.58), "stone_knock",
       ("cement", "asphalt", "tarmac", "paved")),
    _m("clay",           1800,   0.60, 0.20, 0.004,  0.004,  0.04, 0.04, "clay",    (0.72, 0.36, 0.24), "stone_knock",
       ("brick", "terracotta", "fired clay", "adobe", "earthenware")),
    _m("ceramic",        2400,   0.50, 0.30, 0.002,  0.002,  0.02, 0.02, "ceramic", (0.95, 0.95, 0.93), "glass_clink",
       ("porcelain", "china", "pottery")),
    _m("glass",          2500,   0.40, 0.60, 0.001,  0.001,  0.01, 0.01, "glass",   (0.8, 0.9, 0.95), "glass_clink",
       ("glassy", "crystal", "see through", "transparent")),
    _m("foam",           40,     0.80, 0.25, 0.02,   0.02,   0.30, 0.30, "foam",    (0.95, 0.85, 0.3), "soft_thud",
       ("foamy", "styrofoam", "polystyrene", "sponge", "spongy", "nerf")),
    _m("plastic",        1050,   0.35, 0.60, 0.002,  0.002,  0.04, 0.04, "plastic", (0.2, 0.5, 0.9), "plastic_tap",
       ("plasticky", "abs", "pvc", "vinyl", "acrylic", "perspex", "polymer", "lego")),
    _m("teflon",         2200,   0.04, 0.50, 0.0005, 0.0005, 0.01, 0.01, "plastic", (0.95, 0.95, 0.95), "plastic_tap",
       ("ptfe", "nonstick", "non stick")),
    _m("phenolic",       1750,   0.20, 0.93, 0.004,  0.004,  0.01, 0.01, "plastic", (0.95, 0.93, 0.85), "ball_click",
       ("resin", "phenolic resin")),
    _m("cloth",          250,    0.70, 0.05, 0.05,   0.05,   0.20, 0.20, "cloth",   (0.7, 0.3, 0.3), "soft_thud",
       ("fabric", "cotton", "canvas", "textile", "wool", "woollen", "woolen", "knitted", "denim", "silk")),
    _m("felt",           300,    0.30, 0.50, 0.005,  0.005,  0.04, 0.04, "felt",    (0.1, 0.45, 0.2), "soft_thud",
       ("baize", "felted")),
    _m("leather",        860,    0.60, 0.50, 0.003,  0.003,  0.04, 0.04, "leather", (0.5, 0.3, 0.16), "leather_thump",
       ("leathery", "suede")),
    _m("paper",          800,    0.40, 0.10, 0.01,   0.01,   0.20, 0.20, "paper",   (0.96, 0.95, 0.9), "paper_rustle",
       ("papery", "origami", "papier mache")),
    _m("cardboard",      690,    0.50, 0.10, 0.01,   0.01,   0.10, 0.10, "cardboard", (0.72, 0.58, 0.4), "paper_thud",
       ("carton", "corrugated", "paperboard")),
    _m("grass",          1200,   0.60, 0.30, 0.02,   0.02,   0.04, 0.04, "grass",   (0.25, 0.55, 0.2), "grass_thud",
       ("turf", "grassy", "lawn", "astroturf")),
    _m("fruit",          850,    0.60, 0.25, 0.005,  0.005,  0.04, 0.04, "organic", (0.8, 0.15, 0.1), "soft_thud",
       ("organic", "fleshy", "juicy")),
    _m("flesh",          985,    0.80, 0.05, 0.01,   0.01,   0.10, 0.10, "skin",    (0.87, 0.72, 0.6), "soft_thud",
       ()),
)

#: Every material by name.
MATERIALS: Mapping[str, Material] = MappingProxyType({m.name: m for m in _MATERIALS})

_MATERIAL_INDEX: dict[str, str] = {}
for _mat in _MATERIALS:
    for _a in (_mat.name, *_mat.aliases):
        _MATERIAL_INDEX.setdefault(normalize(_a), _mat.name)


def find_material(word: str) -> Material | None:
    """The material a word names ("wooden" → wood, "iron" → metal), or None."""
    if not isinstance(word, str):
        return None
    name = _MATERIAL_INDEX.get(normalize(word))
    return MATERIALS[name] if name else None


def material(name: str) -> Material:
    """The material called ``name`` (or named by an alias); KeyError listing the names if unknown."""
    m = find_material(name)
    if m is None:
        close = difflib.get_close_matches(normalize(str(name)), sorted(_MATERIAL_INDEX), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise KeyError(f"no material {name!r}; {hint}materials: {', '.join(MATERIALS)}")
    return m


# ---------------------------------------------------------------- colours

#: Colour names → RGB in 0..1 (two-word names too: "light blue").
COLORS: Mapping[str, RGB] = MappingProxyType({
    "red": (0.85, 0.12, 0.1), "green": (0.15, 0.65, 0.2), "blue": (0.12, 0.3, 0.85),
    "yellow": (0.98, 0.85, 0.1), "orange": (0.98, 0.5, 0.05), "purple": (0.5, 0.2, 0.7),
    "violet": (0.56, 0.0, 1.0), "pink": (0.98, 0.5, 0.7), "white": (0.95, 0.95, 0.95),
    "black": (0.05, 0.05, 0.05), "grey": (0.5, 0.5, 0.5), "gray": (0.5, 0.5, 0.5),
    "brown": (0.45, 0.28, 0.12), "cyan": (0.0, 0.8, 0.85), "magenta": (0.85, 0.1, 0.7),
    "teal": (0.0, 0.5, 0.5), "navy": (0.0, 0.0, 0.45), "lime": (0.55, 0.9, 0.1),
    "maroon": (0.5, 0.0, 0.05), "beige": (0.9, 0.85, 0.7), "turquoise": (0.25, 0.88, 0.82),
    "crimson": (0.86, 0.08, 0.24), "scarlet": (1.0, 0.14, 0.0), "ivory": (1.0, 1.0, 0.94),
    "tan": (0.82, 0.7, 0.55), "olive": (0.5, 0.5, 0.0), "indigo": (0.29, 0.0, 0.51),
    "silver": (0.75, 0.75, 0.78), "gold": (1.0, 0.78, 0.2), "bronze": (0.8, 0.5, 0.2),
    "cream": (1.0, 0.99, 0.82), "lavender": (0.7, 0.6, 0.9), "mint": (0.6, 0.95, 0.75),
    "amber": (1.0, 0.75, 0.0), "rainbow": (0.9, 0.5, 0.6), "khaki": (0.76, 0.69, 0.57),
    "light blue": (0.55, 0.75, 0.95), "dark blue": (0.05, 0.1, 0.45), "sky blue": (0.53, 0.81, 0.92),
    "navy blue": (0.0, 0.0, 0.45), "light green": (0.55, 0.9, 0.55), "dark green": (0.0, 0.35, 0.1),
    "lime green": (0.55, 0.9, 0.1), "dark red": (0.5, 0.0, 0.0), "hot pink": (1.0, 0.41, 0.71),
    "light grey": (0.8, 0.8, 0.8), "light gray": (0.8, 0.8, 0.8), "dark grey": (0.25, 0.25, 0.25),
    "dark gray": (0.25, 0.25, 0.25), "neon green": (0.22, 1.0, 0.08), "neon pink": (1.0, 0.08, 0.58),
    "neon blue": (0.1, 0.4, 1.0), "bright red": (1.0, 0.0, 0.0), "bright yellow": (1.0, 0.95, 0.0),
    "pale blue": (0.68, 0.85, 0.9), "baby blue": (0.54, 0.81, 0.94), "forest green": (0.13, 0.55, 0.13),
})


def color(name_or_rgb: str | Sequence[float]) -> RGB:
    """RGB in 0..1 from a colour name ("light blue"), ``'#rrggbb'`` or three numbers.

    Raises ValueError for anything else.
    """
    if isinstance(name_or_rgb, str):
        key = normalize(name_or_rgb)
        if key in COLORS:
            return COLORS[key]
        m = re.fullmatch(r"#?([0-9a-f]{6})", key)
        if m:
            h = m.group(1)
            return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]
        raise ValueError(f"unknown colour {name_or_rgb[:30]!r}; use a name ({', '.join(list(COLORS)[:12])}, ...), "
                         "'#rrggbb' or three numbers in 0..1")
    rgb = tuple(float(c) for c in name_or_rgb)
    if len(rgb) != 3 or not all(0.0 <= c <= 1.0 for c in rgb):
        raise ValueError(f"colour {rgb!r}: need three numbers in 0..1")
    return rgb  # type: ignore[return-value]


_color_lookup = color  # make_entity's ``color`` argument shadows the function


# ---------------------------------------------------------------- kinds


@dataclass(frozen=True)
class Kind:
    """A kind of object with typical geometry, material and game role.

    Attributes:
        name: a plain lowercase noun (letters and spaces), valid as ``Entity.kind``.
        aliases: other nouns for it (singular; plurals are handled by the lookup).
        shape: one of :data:`SHAPES`.
        size: box: full extents (x, y, z); sphere: (radius,); cylinder/capsule:
            (radius, height) along local z; plane: ().
        material: a key of :data:`MATERIALS`.
        static: whether it is fixed in place (floors, walls, goals).
        mass_kg: typical mass, or None for density × volume (hollow things give a mass).
        affordances: words from :data:`AFFORDANCES`.
        tags: family labels an entity of this kind also carries ("ball" on a cue ball).
        description: one sentence, used for embedding-based grounding of unknown nouns.
        sensor: an entity of this kind is a detection zone with no body (holes, goal mouths).
        color: typical RGB overriding the material's (a white cue ball), or None.
    """

    name: str
    aliases: tuple[str, ...]
    shape: str
    size: tuple[float, ...]
    material: str
    static: bool
    mass_kg: float | None
    affordances: tuple[str, ...]
    tags: tuple[str, ...]
    description: str
    sensor: bool = False
    color: RGB | None = None


_DYN, _STATIC = False, True


def _k(name, shape, size, mat, static, mass, aff, tags, desc, aliases=(), *, sensor=False, color=None):
    aff = tuple(aff.split()) if isinstance(aff, str) else tuple(aff)
    tags = tuple(tags.split()) if isinstance(tags, str) else tuple(tags)
    return Kind(name, tuple(aliases), shape, tuple(float(s) for s in size), mat, static,
                None if mass is None else float(mass), aff, tags, desc, sensor,
                None if color is None else tuple(float(c) for c in color))


_W = (0.96, 0.95, 0.92)  # off-white

_KINDS: tuple[Kind, ...] = (
    # ------------------------------------------------------------ balls and round things
    _k("ball", "sphere", (0.1,), "rubber", _DYN, 0.4, "roll throw kick bounce projectile", "ball",
       "A generic toy ball about twenty centimetres across that rolls, bounces and can be thrown or kicked.",
       ("rubber ball", "toy ball", "play ball", "dodgeball", "dodge ball", "kickball", "orb", "sphere"),
       color=(0.85, 0.2, 0.15)),
    _k("bowling ball", "sphere", (0.108,), "plastic", _DYN, 7.0, "roll throw projectile", "ball",
       "A heavy polished bowling ball rolled down a lane to knock over pins.",
       ("bowling bowl",), color=(0.1, 0.2, 0.7)),
    _k("billiard ball", "sphere", (0.028575,), "phenolic", _DYN, 0.17, "roll target", "ball",
       "A small hard resin billiard ball that rolls on felt and clicks against the others.",
       ("pool ball", "snooker ball", "object ball", "billiards ball", "striped ball", "solid ball"),
       color=(0.9, 0.75, 0.1)),
    _k("cue ball", "sphere", (0.028575,), "phenolic", _DYN, 0.17, "roll projectile", "ball",
       "The white ball struck with the cue in pool or snooker.", ("cueball",), color=_W),
    _k("soccer ball", "sphere", (0.11,), "leather", _DYN, 0.43, "roll kick bounce projectile", "ball",
       "A football kicked into a goal in soccer.", ("football", "soccerball", "futbol", "footy"),
       color=_W),
    _k("basketball", "sphere", (0.12,), "rubber", _DYN, 0.62, "roll throw bounce projectile", "ball",
       "An orange basketball bounced and thrown through a hoop.", ("basket ball", "hoops ball"),
       color=(0.9, 0.45, 0.1)),
    _k("golf ball", "sphere", (0.02135,), "plastic", _DYN, 0.0459, "roll projectile", "ball",
       "A small dimpled golf ball putted across a green into a hole.", ("golfball",), color=_W),
    _k("marble", "sphere", (0.008,), "glass", _DYN, None, "roll projectile", "ball",
       "A tiny glass marble that rolls down tracks, runs and mazes.", ("glass marble", "marble ball"),
       color=(0.3, 0.6, 0.9)),
    _k("tennis ball", "sphere", (0.0335,), "rubber_soft", _DYN, 0.058, "roll throw bounce projectile", "ball",
       "A fuzzy yellow tennis ball that bounces well.", ("tennisball",), color=(0.8, 0.95, 0.2)),
    _k("ping pong ball", "sphere", (0.02,), "plastic", _DYN, 0.0027, "bounce throw projectile", "ball",
       "A very light hollow table tennis ball.", ("table tennis ball", "pingpong ball", "pong ball"), color=_W),
    _k("beach ball", "sphere", (0.25,), "plastic", _DYN, 0.12, "bounce throw kick float", "ball",
       "A big light inflatable beach ball that floats and drifts.", ("inflatable ball", "beachball"),
       color=(0.95, 0.3, 0.3)),
    _k("bouncy ball", "sphere", (0.025,), "rubber", _DYN, None, "bounce throw roll projectile", "ball",
       "A small super bouncy rubber ball that rebounds almost to where it fell from.",
       ("super ball", "superball", "bounce ball", "high bounce ball"), color=(0.95, 0.2, 0.6)),
    _k("cannonball", "sphere", (0.06,), "metal", _DYN, None, "roll projectile", "ball",
       "A heavy iron cannonball fired from a cannon.", ("cannon ball", "iron ball", "shot put"),
       color=(0.15, 0.15, 0.15)),
    _k("steel ball", "sphere", (0.025,), "steel", _DYN, None, "roll swing projectile", "ball",
       "A shiny steel ball such as those hanging in a Newton's cradle.",
       ("ball bearing", "cradle ball", "metal ball", "chrome ball", "pinball")),
    _k("pendulum bob", "sphere", (0.08,), "metal", _DYN, 2.0, "swing strike", "pendulum",
       "The weight at the end of a pendulum that swings back and forth.",
       ("bob", "pendulum", "pendulum weight", "plumb bob")),
    _k("wrecking ball", "sphere", (0.4,), "steel", _DYN, None, "swing strike", "pendulum ball",
       "A huge steel wrecking ball swung on a chain to smash walls."),
    _k("stone", "sphere", (0.04,), "stone", _DYN, None, "throw projectile roll", "rock",
       "A small throwing stone or pebble.", ("pebble", "throwing stone")),
    _k("rock", "sphere", (0.08,), "stone", _DYN, None, "throw roll obstacle projectile", "rock",
       "A fist-sized to head-sized rough rock.", ("chunk of rock",)),
    _k("boulder", "sphere", (0.6,), "stone", _DYN, None, "roll obstacle", "rock",
       "A huge round boulder that rolls down hills and crushes what it meets.", ()),
    _k("snowball", "sphere", (0.04,), "snow", _DYN, None, "throw projectile", "ball",
       "A packed snowball thrown at targets.", ("snow ball",)),
    _k("apple", "sphere", (0.04,), "fruit", _DYN, 0.15, "throw roll target projectile", "fruit",
       "A red apple that can be thrown, collected or knocked off a target.", ("fruit", "pear", "peach"),
       color=(0.8, 0.1, 0.08)),
    _k("egg", "capsule", (0.021, 0.016), "ceramic", _DYN, 0.06, "roll throw target", "egg",
       "A fragile egg that rolls unevenly.", (), color=(0.96, 0.92, 0.82)),
    _k("balloon", "sphere", (0.15,), "rubber_soft", _DYN, 0.008, "float bounce target", "balloon",
       "A light air-filled balloon that drifts and can be popped.", ("party balloon", "water balloon"),
       color=(0.9, 0.15, 0.2)),
    _k("asteroid", "sphere", (0.5,), "stone", _DYN, None, "float obstacle target", "rock",
       "A drifting space rock floating in zero gravity.", ("meteor", "meteorite", "space rock", "comet")),
    # ------------------------------------------------------------ things that topple and stack
    _k("pin", "cylinder", (0.06, 0.38), "wood", _DYN, 1.5, "topple target", "pin",
       "A white bowling pin standing on a lane, knocked over by the ball.",
       ("bowling pin", "skittle", "tenpin", "ninepin", "kegel"), color=_W),
    _k("domino", "box", (0.02, 0.1, 0.2), "wood", _DYN, None, "topple stack push", "domino",
       "A large standing domino tile (thin along x) that topples its neighbour in a chain.",
       ("domino tile", "domino piece", "domino block"), color=(0.1, 0.1, 0.1)),
    _k("jenga block", "box", (0.075, 0.025, 0.015), "wood", _DYN, None, "stack push topple", "block",
       "A small wooden Jenga block, laid in crossed layers of three to build a tower.",
       ("jenga piece", "jenga brick", "jenga", "tower block"), color=(0.85, 0.7, 0.48)),
    _k("block", "box", (0.1, 0.1, 0.1), "wood", _DYN, None, "stack push topple", "block",
       "A ten-centimetre toy building block or cube for stacking.",
       ("toy block", "building block", "cube", "wooden block", "lego brick", "lego block"),
       color=(0.85, 0.65, 0.35)),
    _k("brick", "box", (0.215, 0.1025, 0.065), "clay", _DYN, None, "stack obstacle topple", "block",
       "A red clay brick used to build walls and towers.", ("house brick",)),
    _k("crate", "box", (0.5, 0.5, 0.5), "wood", _DYN, 15.0, "push stack container obstacle", "crate",
       "A wooden shipping crate to push around or stack.",
       ("wooden crate", "chest", "shipping crate", "supply crate", "loot box", "container")),
    _k("box", "box", (0.4, 0.3, 0.3), "cardboard", _DYN, 1.0, "push stack container topple", "crate",
       "A light cardboard box.", ("cardboard box", "parcel", "package", "carton", "moving box")),
    _k("plank", "box", (1.2, 0.2, 0.03), "wood", _DYN, None, "stack support", "plank",
       "A long flat wooden plank or board.", ("wooden board", "beam", "slat", "log")),
    _k("can", "cylinder", (0.033, 0.122), "aluminium", _DYN, 0.05, "topple stack target", "can",
       "An empty tin can, stacked into pyramids and knocked down with a ball.",
       ("tin can", "soda can", "beer can", "drink can", "soup can", "coke can")),
    _k("bottle", "cylinder", (0.035, 0.25), "glass", _DYN, 0.35, "topple target", "bottle",
       "A glass bottle standing upright as a target.", ("glass bottle", "wine bottle", "beer bottle", "flask"),
       color=(0.2, 0.55, 0.3)),
    _k("cup", "cylinder", (0.045, 0.11), "plastic", _DYN, 0.02, "container stack target topple", "cup",
       "A light plastic cup stacked in pyramids or used as a target.",
       ("plastic cup", "beer pong cup", "solo cup", "mug", "paper cup", "tumbler"), color=(0.85, 0.1, 0.1)),
    _k("cone", "cylinder", (0.12, 0.5), "plastic", _DYN, 1.0, "obstacle topple target", "cone",
       "An orange traffic cone marking a course.", ("traffic cone", "pylon", "marker cone", "witch hat"),
       color=(0.98, 0.45, 0.05)),
    _k("barrel", "cylinder", (0.29, 0.88), "wood", _DYN, 25.0, "roll obstacle topple container", "barrel",
       "A wooden barrel or drum that can stand or roll.", ("drum", "keg", "oil drum", "cask")),
    _k("tyre", "cylinder", (0.33, 0.22), "rubber", _DYN, 9.0, "roll bounce obstacle", "wheel",
       "A black rubber car tyre that rolls and bounces.", ("tire", "wheel", "car tyre", "car tire")),
    _k("coin", "cylinder", (0.012, 0.002), "metal", _DYN, 0.0075, "target slide", "coin",
       "A small metal coin or token to collect.", ("token", "penny", "collectible"),
       color=(1.0, 0.8, 0.25)),
    _k("book", "box", (0.23, 0.15, 0.03), "paper", _DYN, 0.5, "stack topple", "book",
       "A hardback book to stack or topple.", ("hardback", "textbook", "novel")),
    _k("die", "box", (0.016, 0.016, 0.016), "plastic", _DYN, None, "roll throw", "die",
       "A six-sided die that tumbles when thrown.", ("dice", "six sided die"), color=_W),
    _k("ice cube", "box", (0.03, 0.03, 0.03), "ice", _DYN, None, "slide", "ice",
       "A slippery cube of ice.", ("icecube", "ice block")),
    _k("bean bag", "box", (0.15, 0.15, 0.04), "cloth", _DYN, 0.45, "throw slide", "bag",
       "A floppy bean bag tossed onto a cornhole board.", ("beanbag", "sandbag", "sack")),
    _k("frisbee", "cylinder", (0.135, 0.03), "plastic", _DYN, 0.175, "throw float projectile", "disc",
       "A flying plastic disc.", ("flying disc", "disc", "disk")),
    _k("dart", "capsule", (0.003, 0.12), "metal", _DYN, 0.022, "throw projectile", "projectile",
       "A small pointed dart thrown at a dartboard.", ()),
    _k("arrow", "capsule", (0.004, 0.7), "wood", _DYN, 0.025, "projectile", "projectile",
       "An arrow shot from a bow at a target.", ("bolt",)),
    _k("bullet", "capsule", (0.005, 0.015), "metal", _DYN, 0.01, "projectile", "projectile",
       "A small fast bullet or pellet fired at targets.", ("pellet", "laser bolt", "projectile"),
       color=(0.8, 0.65, 0.25)),
    # ------------------------------------------------------------ targets, goals and zones
    _k("target", "box", (0.05, 0.8, 0.8), "wood", _STATIC, None, "target score_zone", "target",
       "An upright round-faced target board to hit; the bullseye scores most.",
       ("target board", "bullseye", "bulls eye", "archery target", "dartboard", "dart board"),
       color=(0.9, 0.9, 0.85)),
    _k("target zone", "box", (1.0, 1.0, 0.02), "plastic", _STATIC, None, "score_zone target", "zone",
       "A marked area on the floor; getting something into it scores.",
       ("target pad", "pad", "zone", "goal zone", "target area", "landing zone", "landing pad", "drop zone",
        "finish zone", "finish line", "scoring zone", "end zone", "destination", "curling house"),
       sensor=True, color=(0.2, 0.8, 0.3)),
    _k("hoop", "cylinder", (0.23, 0.02), "metal", _STATIC, None, "goal score_zone target", "goal",
       "A basketball hoop ring; a ball dropping through it scores.",
       ("basketball hoop", "basket", "rim", "netball hoop", "basketball ring"), sensor=True, color=(0.95, 0.35, 0.1)),
    _k("backboard", "box", (1.8, 0.05, 1.05), "glass", _STATIC, None, "support bounce", "wall",
       "The flat board behind a basketball hoop.", ("basketball backboard",)),
    _k("goal", "box", (1.0, 3.0, 2.0), "cloth", _STATIC, None, "goal score_zone", "goal",
       "A football goal mouth with a net; the ball entering it scores.",
       ("net", "goal net", "soccer goal", "football goal", "goal mouth", "goalmouth", "goal area"),
       sensor=True, color=_W),
    _k("hockey goal", "box", (1.0, 1.83, 1.22), "cloth", _STATIC, None, "goal score_zone", "goal",
       "An ice hockey net; a puck sliding into it scores.", ("hockey net", "ice hockey goal", "air hockey goal"),
       sensor=True, color=(0.85, 0.1, 0.1)),
    _k("pocket", "cylinder", (0.075, 0.12), "cloth", _STATIC, None, "score_zone container", "pocket",
       "A pocket at the edge of a pool table that swallows balls.", ("billiard pocket", "corner pocket"),
       sensor=True, color=(0.05, 0.05, 0.05)),
    _k("hole", "cylinder", (0.054, 0.1), "grass", _STATIC, None, "score_zone target", "hole",
       "The cup-sized hole on a golf green that the ball must drop into.", ("golf hole", "golf cup", "cup hole"),
       sensor=True, color=(0.05, 0.05, 0.05)),
    _k("slot", "box", (0.1, 0.1, 0.1), "wood", _STATIC, None, "score_zone container", "slot",
       "A scoring slot at the bottom of a plinko or pachinko board.",
       ("scoring slot", "plinko slot", "bin slot", "catcher"), sensor=True, color=(0.95, 0.8, 0.2)),
    _k("bucket", "cylinder", (0.15, 0.3), "plastic", _DYN, 0.5, "container target", "container",
       "A bucket or bin that things can be tossed into.",
       ("bin", "pail", "trash can", "trash bin", "waste bin", "tub", "basket bin"), color=(0.2, 0.5, 0.3)),
    _k("flag", "cylinder", (0.01, 1.5), "metal", _STATIC, None, "target", "marker",
       "A flagstick marking a hole or a checkpoint.", ("flagstick", "flag pole", "flagpole", "checkpoint")),
    # ------------------------------------------------------------ strikers, paddles and launchers
    _k("paddle", "cylinder", (0.07, 0.04), "plastic", _DYN, 0.2, "paddle push strike", "paddle",
       "A round air hockey mallet a player slides to strike the puck.",
       ("mallet", "striker", "air hockey paddle", "air hockey mallet", "pusher"),
       color=(0.85, 0.1, 0.1)),
    _k("racket", "box", (0.3, 0.17, 0.02), "wood", _DYN, 0.18, "paddle strike swing", "paddle",
       "A table tennis bat or racket for hitting a ball.",
       ("racquet", "ping pong paddle", "table tennis bat", "tennis racket", "ping pong bat")),
    _k("bat", "capsule", (0.035, 0.8), "wood", _DYN, 0.9, "strike swing", "bat",
       "A baseball or cricket bat swung to hit a ball.", ("baseball bat", "cricket bat", "club bat")),
    _k("golf club", "capsule", (0.015, 0.9), "metal", _DYN, 0.35, "strike swing", "club",
       "A golf club or putter used to strike a golf ball.", ("club", "putter", "golf putter", "iron club")),
    _k("cue", "cylinder", (0.012, 1.45), "wood", _DYN, 0.54, "strike", "cue",
       "A long wooden cue stick that strikes the cue ball.",
       ("pool cue", "cue stick", "snooker cue", "billiard cue", "pool stick")),
    _k("hockey stick", "capsule", (0.02, 1.5), "wood", _DYN, 0.5, "strike swing", "stick",
       "A hockey stick used to shoot a puck or ball.", ("stick", "field hockey stick", "ice hockey stick")),
    _k("slingshot", "box", (0.05, 0.3, 0.6), "wood", _STATIC, None, "launcher", "launcher",
       "A Y-shaped slingshot that flings stones or birds at targets.", ("sling shot", "sling", "catapult sling")),
    _k("cannon", "cylinder", (0.15, 1.5), "metal", _STATIC, None, "launcher", "launcher",
       "A heavy cannon that fires cannonballs.", ("mortar", "turret", "gun", "blaster", "tank"),
       color=(0.2, 0.2, 0.22)),
    _k("catapult", "box", (1.5, 1.0, 0.8), "wood", _STATIC, None, "launcher swing", "launcher",
       "A wooden siege catapult whose arm hurls projectiles.", ("trebuchet", "ballista", "onager")),
    _k("launcher", "box", (0.3, 0.3, 0.3), "metal", _STATIC, None, "launcher", "launcher",
       "A spring plunger or machine that launches balls.",
       ("spring launcher", "plunger", "ball launcher", "pitching machine", "ball machine")),
    _k("flipper", "box", (0.3, 0.05, 0.05), "plastic", _DYN, 0.3, "paddle strike swing", "paddle",
       "A pinball flipper that swings up to strike the ball.", ("pinball flipper",)),
    # ------------------------------------------------------------ surfaces, structures, obstacles
    _k("floor", "plane", (), "wood", _STATIC, None, "support", "ground",
       "The flat ground everything rests on.", ("ground", "plane", "terrain", "ground plane")),
    _k("table", "box", (1.6, 0.9, 0.75), "wood", _STATIC, None, "support", "table",
       "A solid table whose top is 75 centimetres above the floor.", ("desk", "tabletop", "table top", "countertop")),
    _k("pool table", "box", (2.84, 1.57, 0.8), "felt", _STATIC, None, "support", "table",
       "A billiard table covered in green felt with six pockets.",
       ("billiard table", "billiards table", "snooker table"), color=(0.1, 0.45, 0.2)),
    _k("air hockey table", "box", (2.2, 1.2, 0.8), "teflon", _STATIC, None, "support", "table",
       "A nearly frictionless air hockey table with a goal slot at each end.", ("air table",)),
    _k("lane", "box", (18.29, 1.05, 0.05), "polished_wood", _STATIC, None, "support", "ground",
       "A long oiled wooden bowling lane with pins at the far end.",
       ("bowling lane", "bowling alley", "alley", "skittle alley")),
    _k("field", "box", (40.0, 20.0, 0.1), "grass", _STATIC, None, "support", "ground",
       "A grass sports pitch with a goal at each end.",
       ("pitch", "soccer field", "football field", "football pitch", "soccer pitch", "playing field", "meadow",
        "lawn")),
    _k("court", "box", (28.0, 15.0, 0.1), "polished_wood", _STATIC, None, "support", "ground",
       "An indoor sports court such as a basketball court.",
       ("basketball court", "tennis court", "arena", "gym floor", "gymnasium")),
    _k("rink", "box", (30.0, 15.0, 0.1), "ice", _STATIC, None, "support", "ground",
       "A sheet of ice for hockey or curling.",
       ("ice rink", "hockey rink", "ice sheet", "curling sheet", "frozen lake", "frozen pond", "ice surface")),
    _k("putting green", "box", (10.0, 4.0, 0.05), "grass", _STATIC, None, "support", "ground",
       "A short-grass putting green or mini golf course with a hole.",
       ("golf green", "golf course", "mini golf course", "minigolf course", "fairway", "putting course")),
    _k("track", "box", (1.0, 0.08, 0.01), "plastic", _STATIC, None, "support roll", "track",
       "A channel segment of a marble run or toy track that balls roll along.",
       ("marble run", "marble track", "chute", "channel", "gutter", "trough", "rail track", "toy track",
        "race track", "racetrack", "road")),
    _k("ramp", "box", (2.0, 0.6, 0.05), "wood", _STATIC, None, "support roll", "ramp",
       "An inclined plank for rolling or sliding things down, tilted by the caller.",
       ("incline", "inclined plane", "ski jump", "kicker ramp", "playground slide", "skate ramp")),
    _k("slope", "box", (20.0, 5.0, 0.3), "snow", _STATIC, None, "support", "ground",
       "A long snowy hillside to sled down, tilted by the caller.",
       ("hill", "ski slope", "snow slope", "hillside", "mountain", "mountainside", "piste", "snowy hill")),
    _k("wall", "box", (4.0, 0.2, 1.0), "concrete", _STATIC, None, "obstacle support", "wall",
       "A solid wall that blocks and bounces things.",
       ("barrier", "fence", "partition", "boundary", "side wall", "border")),
    _k("maze wall", "box", (0.5, 0.02, 0.05), "wood", _STATIC, None, "obstacle", "wall",
       "A low wall segment of a tilt maze.", ("labyrinth wall",)),
    _k("maze board", "box", (0.6, 0.6, 0.02), "wood", _STATIC, None, "support", "board",
       "A tilting labyrinth board a marble rolls around on, steered by tilting it.",
       ("maze", "labyrinth", "tilt maze", "tilt board", "marble maze", "labyrinth board", "tilting table")),
    _k("platform", "box", (1.0, 1.0, 0.1), "wood", _STATIC, None, "support", "platform",
       "A raised flat platform or ledge.", ("ledge", "shelf", "pedestal", "plinth", "podium")),
    _k("pillar", "cylinder", (0.25, 1.0), "stone", _STATIC, None, "obstacle support", "pillar",
       "An upright stone pillar or post.", ("column", "post", "pole", "pier", "bollard", "goalpost")),
    _k("peg", "cylinder", (0.008, 0.04), "metal", _STATIC, None, "obstacle bounce", "peg",
       "A small round peg sticking out of a plinko board that balls bounce off.",
       ("nail", "stud", "pachinko pin", "plinko peg")),
    _k("bumper", "cylinder", (0.1, 0.1), "rubber", _STATIC, None, "bounce obstacle", "bumper",
       "A springy pinball bumper that kicks balls away.", ("pinball bumper", "pop bumper", "bouncer"),
       color=(0.95, 0.2, 0.5)),
    _k("rail", "box", (2.6, 0.05, 0.04), "rubber", _STATIC, None, "bounce obstacle", "wall",
       "A rubber cushion rail along the edge of a pool table.",
       ("cushion", "billiard cushion", "side rail", "guard rail", "railing", "bumper rail"),
       color=(0.1, 0.35, 0.15)),
    _k("peg board", "box", (1.0, 0.05, 1.5), "wood", _STATIC, None, "support", "board",
       "An upright plinko or pachinko board that pegs stick out of.",
       ("plinko board", "pachinko board", "pegboard", "galton board", "bean machine", "plinko machine",
        "pachinko machine")),
    _k("trampoline", "box", (1.5, 1.5, 0.1), "rubber", _STATIC, None, "bounce support", "bumper",
       "A springy trampoline that throws things back up.", ("springboard", "bounce pad", "jump pad"),
       color=(0.1, 0.1, 0.4)),
    _k("seesaw", "box", (3.0, 0.3, 0.05), "wood", _DYN, 20.0, "swing support launcher", "lever",
       "A long plank balanced on a fulcrum that tips from side to side.",
       ("see saw", "teeter totter", "lever", "lever arm", "seesaw plank", "balance beam", "catapult arm")),
    _k("fulcrum", "cylinder", (0.1, 0.4), "stone", _STATIC, None, "support", "pivot",
       "The pivot a lever or seesaw balances on.", ("pivot", "wedge", "pivot point")),
    _k("rope link", "capsule", (0.01, 0.05), "cloth", _DYN, 0.02, "swing", "rope",
       "One short segment of a rope, chained with joints into a hanging rope.",
       ("rope segment", "rope", "string", "cord", "cable")),
    _k("chain link", "capsule", (0.008, 0.04), "steel", _DYN, 0.05, "swing", "chain",
       "One link of a metal chain.", ("link", "metal chain", "iron chain")),
    _k("rod", "cylinder", (0.01, 0.6), "metal", _DYN, None, "swing support", "rod",
       "A thin rigid rod such as a pendulum arm.", ("bar", "pendulum rod", "pendulum arm", "shaft", "axle")),
    _k("sled", "box", (1.2, 0.5, 0.15), "plastic", _DYN, 5.0, "slide", "vehicle",
       "A sled or toboggan that slides down snowy slopes.",
       ("sledge", "toboggan", "sleigh", "snow sled", "bobsled", "bobsleigh", "snowboard", "ski")),
    _k("curling stone", "cylinder", (0.145, 0.114), "granite", _DYN, 19.96, "slide push target", "stone",
       "A heavy polished granite curling stone slid along the ice toward the house.",
       ("curling rock",)),
    _k("shuffleboard puck", "cylinder", (0.029, 0.022), "metal", _DYN, 0.35, "slide push target", "puck",
       "A weighted shuffleboard puck slid down a long table toward the scoring zones.",
       ("shuffleboard weight", "shuffleboard disc", "shuffleboard disk", "shuffle puck", "shuffleboard")),
    _k("puck", "cylinder", (0.038, 0.0254), "rubber", _DYN, 0.17, "slide strike projectile", "puck",
       "A black rubber ice hockey puck.", ("hockey puck", "ice hockey puck"), color=(0.05, 0.05, 0.05)),
    _k("air hockey puck", "cylinder", (0.04, 0.01), "plastic", _DYN, 0.02, "slide projectile", "puck",
       "A light plastic puck gliding on an air hockey table.", ("air puck",), color=(0.95, 0.8, 0.1)),
    _k("robot", "box", (0.4, 0.4, 0.3), "metal", _DYN, 20.0, "push", "agent",
       "A small wheeled robot that drives around and pushes things.",
       ("rover", "droid", "bot robot", "mobile robot", "roomba"), color=(0.3, 0.35, 0.4)),
    _k("cart", "box", (1.0, 0.6, 0.5), "metal", _DYN, 15.0, "push roll container", "vehicle",
       "A wheeled cart or trolley to push.",
       ("trolley", "wagon", "mine cart", "minecart", "shopping cart", "wheelbarrow", "buggy")),
    _k("car", "box", (4.2, 1.8, 1.4), "metal", _DYN, 1300.0, "push obstacle", "vehicle",
       "A full-size car that can be pushed around or crashed into.",
       ("automobile", "vehicle", "truck", "van", "race car", "racecar", "bus", "jeep"),
       color=(0.75, 0.1, 0.1)),
    _k("toy car", "box", (0.1, 0.05, 0.04), "metal", _DYN, 0.05, "roll push projectile", "vehicle",
       "A small die-cast toy car that rolls down tracks.",
       ("matchbox car", "hot wheels car", "model car", "toy truck")),
    _k("person", "capsule", (0.25, 1.2), "flesh", _DYN, 70.0, "obstacle push", "character",
       "A standing human figure about 1.7 metres tall.",
       ("figure", "man", "woman", "human", "character", "guy", "kid", "child", "astronaut", "goalkeeper",
        "goalie", "stickman", "stick figure", "mannequin", "dummy", "npc", "avatar", "defender", "zombie",
        "knight", "soldier", "ragdoll", "humanoid"), color=(0.87, 0.72, 0.6)),
    _k("tree", "cylinder", (0.2, 4.0), "wood", _STATIC, None, "obstacle", "plant",
       "A tree trunk standing in the way.", ("palm tree", "pine tree", "oak tree", "trunk", "tree trunk"),
       color=(0.4, 0.27, 0.15)),
    _k("building", "box", (6.0, 6.0, 6.0), "concrete", _STATIC, None, "obstacle support", "building",
       "A house or building block.", ("house", "hut", "skyscraper", "tower building", "castle", "fort", "shed")),
)

#: Every kind by name.
KINDS: Mapping[str, Kind] = MappingProxyType({k.name: k for k in _KINDS})

_INDEX: dict[str, str] = {}  # normalised alias → kind name
_COMPACT: dict[str, str] = {}  # alias without spaces → kind name
_WORDS: set[str] = set()  # every single word of every alias
for _kd in _KINDS:
    for _a in (_kd.name, *_kd.aliases):
        _n = normalize(_a)
        _INDEX.setdefault(_n, _kd.name)
        _COMPACT.setdefault(_n.replace(" ", ""), _kd.name)
        _WORDS.update(_n.split())
_WORDS.update(w for k in _MATERIAL_INDEX for w in k.split())


_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve twenty hundred".split())


def lookup_exact(phrase: str) -> Kind | None:
    """The kind a whole phrase names, allowing only a plural last word (no fallback to endings)."""
    if not isinstance(phrase, str):
        return None
    n = normalize(phrase)
    if not n or len(n) > 80:
        return None
    words = n.split()
    compact_ok = len(words) == 1 or not any(x in _NUMBER_WORDS for x in words)  # "ten pins" is not "tenpin"
    for last in singular_forms(words[-1]):
        cand = " ".join([*words[:-1], last])
        name = _INDEX.get(cand) or (_COMPACT.get(cand.replace(" ", "")) if compact_ok else None)
        if name:
            return KINDS[name]
    return None


def find_kind(noun: str) -> Kind | None:
    """The kind ``noun`` names, or None.

    Case, hyphens, apostrophes and spacing are ignored, simple plurals are stripped, and a
    phrase that is not known as a whole falls back to its longest known ending
    ("shiny red bowling balls" → bowling ball).

    >>> find_kind("Dominoes").name, find_kind("big wooden boxes").name, find_kind("dragon")
    ('domino', 'box', None)
    """
    if not isinstance(noun, str):
        return None
    words = normalize(noun).split()[-8:]
    for i in range(len(words)):
        k = lookup_exact(" ".join(words[i:]))
        if k is not None:
            return k
    return None


def kind(name: str | Kind) -> Kind:
    """The kind called ``name`` (see :func:`find_kind`); KeyError with suggestions if unknown."""
    if isinstance(name, Kind):
        return name
    k = find_kind(name)
    if k is None:
        close = difflib.get_close_matches(normalize(str(name))[:60], sorted(_INDEX), n=3)
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise KeyError(f"no kind {name!r}; {hint}{len(KINDS)} kinds, e.g. {', '.join(list(KINDS)[:10])}")
    return k


# ---------------------------------------------------------------- geometry and mass


def _scaled(k: Kind, scale: float) -> tuple[float, ...]:
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive finite number, got {scale!r}")
    return tuple(s * scale for s in k.size)


def volume(k: str | Kind, scale: float = 1.0) -> float:
    """Volume in m³ of kind ``k`` at ``scale`` (0 for a plane)."""
    k = kind(k)
    s = _scaled(k, scale)
    if k.shape == "box":
        return s[0] * s[1] * s[2]
    if k.shape == "sphere":
        return 4 / 3 * math.pi * s[0] ** 3
    if k.shape == "cylinder":
        return math.pi * s[0] ** 2 * s[1]
    if k.shape == "capsule":
        return math.pi * s[0] ** 2 * s[1] + 4 / 3 * math.pi * s[0] ** 3
    return 0.0


def half_extents(k: str | Kind, scale: float = 1.0) -> tuple[float, float, float]:
    """Half extents (x, y, z) of the upright, unrotated kind's bounding box (zeros for a plane)."""
    k = kind(k)
    s = _scaled(k, scale)
    if k.shape == "box":
        return (s[0] / 2, s[1] / 2, s[2] / 2)
    if k.shape == "sphere":
        return (s[0], s[0], s[0])
    if k.shape == "cylinder":
        return (s[0], s[0], s[1] / 2)
    if k.shape == "capsule":
        return (s[0], s[0], s[1] / 2 + s[0])
    return (0.0, 0.0, 0.0)


def extent(k: str | Kind, scale: float = 1.0) -> float:
    """The largest full dimension in metres (a sphere's diameter, a box's longest side)."""
    return 2 * max(half_extents(k, scale))


def rest_height(k: str | Kind, scale: float = 1.0) -> float:
    """Height of the centre above z=0 when the kind rests upright on the ground.

    >>> rest_height("pin"), rest_height("floor")
    (0.19, 0.0)
    """
    return half_extents(k, scale)[2]


def mass_of(k: str | Kind, scale: float = 1.0, material_name: str | Material | None = None) -> float:
    """Mass in kg, clamped to [1e-5, spec.MAX_MASS].

    The kind's typical mass (× scale³) if it gives one, else density × volume. Another
    material changes a given mass by the ratio of densities, so a hollow thing stays
    hollow (a steel basketball is a steel shell, not a solid steel sphere).
    """
    k = kind(k)
    base = MATERIALS[k.material]
    mat = base if material_name is None else (material_name if isinstance(material_name, Material)
                                              else material(material_name))
    if k.shape == "plane":
        return 1.0
    if k.mass_kg is not None:
        m = k.mass_kg * scale ** 3 * (mat.density / base.density)
    else:
        m = mat.density * volume(k, scale)
    return float(min(max(m, 1e-5), _spec.MAX_MASS))


def make_entity(
    kind_: str | Kind,
    name: str,
    position: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    scale: float = 1.0,
    material: str | Material | None = None,  # noqa: A002 - mirrors the spec's field
    color: str | Sequence[float] | None = None,
    static: bool | None = None,
    sensor: bool | None = None,
    tags: Sequence[str] = (),
    rotation: Sequence[float] = (0.0, 0.0, 0.0),
    mass: float | None = None,
) -> _spec.Entity:
    """A valid :class:`worldgen.spec.Entity` of kind ``kind_`` called ``name`` at ``position``.

    Sizes are the kind's × ``scale``; mass from :func:`mass_of` unless given; the
    material's physics, look and colour unless ``material``/``color`` override them (the
    kind's own colour beats the material's); tags are the kind's name (spaces → ``_``),
    its family tags, then ``tags``. Placing it on the ground is the caller's job: use
    ``z = rest_height(kind, scale)``.

    Raises KeyError for an unknown kind or material, ValueError for a bad scale or colour
    and pydantic's ValidationError for anything the spec rejects (a bad name).
    """
    k = kind(kind_)
    mat = MATERIALS[k.material] if material is None else (material if isinstance(material, Material)
                                                           else _material_lookup(material))
    s = _scaled(k, scale)
    if k.shape == "box":
        shape: _spec.Box | _spec.Sphere | _spec.Cylinder | _spec.Capsule | _spec.Plane = _spec.Box(size=s)
    elif k.shape == "sphere":
        shape = _spec.Sphere(radius=s[0])
    elif k.shape == "cylinder":
        shape = _spec.Cylinder(radius=s[0], height=s[1])
    elif k.shape == "capsule":
        shape = _spec.Capsule(radius=s[0], height=s[1])
    else:
        shape = _spec.Plane()
    if color is not None:
        rgb = _color_lookup(color)
    elif material is not None:
        rgb = mat.color
    else:
        rgb = k.color or mat.color
    all_tags = list(dict.fromkeys([k.name.replace(" ", "_"), *k.tags, *tags]))
    return _spec.Entity(
        name=name, kind=k.name, tags=all_tags, shape=shape, position=tuple(position), rotation=tuple(rotation),
        static=k.static if static is None else static, sensor=k.sensor if sensor is None else sensor,
        mass=mass_of(k, scale, mat) if mass is None else mass, material=mat.to_spec(),
        appearance=_spec.Appearance(color=rgb, look=mat.look),
    )


_material_lookup = material  # make_entity's ``material`` argument shadows the function
