"""The knowledge base: enough kinds and materials, sane values, forgiving lookups, valid entities."""

from __future__ import annotations

import math
import re

import pytest

from reasoner import knowledge as kb
from worldgen import spec as S

MECHANIC_KINDS = {  # at least one kind each mechanic needs
    "bowling": ["bowling ball", "pin", "lane"],
    "billiards": ["billiard ball", "cue ball", "cue", "pool table", "pocket", "rail"],
    "dominoes": ["domino"],
    "stacking": ["jenga block", "block", "brick", "crate", "box", "plank"],
    "projectile": ["slingshot", "cannon", "catapult", "cannonball", "stone", "can", "bottle", "target", "bullet"],
    "goal_sport": ["soccer ball", "basketball", "hoop", "goal", "hockey goal", "puck", "paddle", "air hockey puck",
                   "air hockey table", "hockey stick", "field"],
    "putting": ["golf ball", "golf club", "hole", "putting green"],
    "ramp": ["ramp", "track", "marble"],
    "plinko": ["peg", "peg board", "slot", "bumper"],
    "pendulum": ["pendulum bob", "steel ball", "rope link", "chain link", "rod"],
    "lever": ["seesaw", "fulcrum"],
    "sliding": ["curling stone", "shuffleboard puck", "rink"],
    "tilt_maze": ["maze board", "maze wall", "marble"],
    "slope": ["sled", "slope", "boulder"],
    "push": ["robot", "crate", "target zone", "cart"],
    "zero_g": ["asteroid", "balloon"],
}


def test_sizes_of_tables():
    assert len(kb.KINDS) >= 60
    assert len(kb.MATERIALS) >= 12
    for needed in ("wood", "steel", "metal", "rubber", "rubber_soft", "ice", "stone", "glass", "foam", "plastic",
                   "cloth", "felt", "paper", "cardboard", "concrete", "leather", "clay", "gold"):
        assert needed in kb.MATERIALS


@pytest.mark.parametrize("mechanic", sorted(MECHANIC_KINDS))
def test_every_mechanic_has_its_kinds(mechanic):
    for name in MECHANIC_KINDS[mechanic]:
        assert name in kb.KINDS, f"{mechanic} needs {name!r}"


def test_issue_kinds_are_present():
    for noun in ("bowling ball", "billiard ball", "cue ball", "soccer ball", "basketball", "golf ball", "marble",
                 "puck", "tennis ball", "ping pong ball", "beach ball", "cannonball", "stone", "pin", "skittle",
                 "domino", "block", "brick", "crate", "box", "plank", "can", "bottle", "cup", "target", "hoop",
                 "net", "goal", "paddle", "mallet", "bat", "club", "cue", "ramp", "wall", "floor", "table", "lane",
                 "field", "track", "peg", "bumper", "seesaw", "fulcrum", "pendulum bob", "rope", "chain link", "sled",
                 "curling stone", "shuffleboard puck", "maze wall", "robot", "cart", "cone", "barrel", "tyre",
                 "apple", "bullet", "coin", "car", "person", "figure", "tree", "rock"):
        assert kb.find_kind(noun) is not None, noun


@pytest.mark.parametrize("name", sorted(kb.MATERIALS))
def test_material_values_are_physical(name):
    m = kb.MATERIALS[name]
    assert m.name == name and re.fullmatch(r"[a-z][a-z_]*", name)
    assert 10 <= m.density <= 25_000
    assert 0 <= m.friction <= 2 and 0 <= m.restitution <= 1
    assert 0 <= m.rolling_friction < 0.1 and 0 <= m.spinning_friction < 0.1
    assert 0 <= m.linear_damping <= 1 and 0 <= m.angular_damping <= 1
    assert len(m.color) == 3 and all(0 <= c <= 1 for c in m.color)
    assert m.look and len(m.look) <= 40
    assert re.fullmatch(r"[a-z][a-z0-9_]{0,39}", m.sound)  # usable as a spec PlaySound name
    m.to_spec()  # valid spec material


def test_material_realism_ordering():
    d = {n: m.density for n, m in kb.MATERIALS.items()}
    assert d["foam"] < d["cloth"] < d["wood"] < d["ice"] < d["rubber"] < d["glass"] < d["stone"]
    assert d["stone"] < d["steel"] < d["gold"]
    f = {n: m.friction for n, m in kb.MATERIALS.items()}
    assert f["ice"] < f["teflon"] + 0.01 < f["plastic"] < f["rubber"]
    r = {n: m.restitution for n, m in kb.MATERIALS.items()}
    assert r["cloth"] < r["wood"] < r["rubber"] and r["snow"] < r["stone"]


@pytest.mark.parametrize("name", sorted(kb.KINDS))
def test_kind_is_consistent(name):
    k = kb.KINDS[name]
    assert re.fullmatch(r"[a-z][a-z ]{0,39}", k.name), "must be a valid Entity.kind"
    assert k.shape in kb.SHAPES
    assert len(k.size) == {"box": 3, "sphere": 1, "cylinder": 2, "capsule": 2, "plane": 0}[k.shape]
    assert all(0.001 <= s <= 50 for s in k.size), k.size
    assert k.material in kb.MATERIALS
    assert k.affordances and set(k.affordances) <= set(kb.AFFORDANCES)
    assert k.mass_kg is None or 1e-4 <= k.mass_kg <= 5000
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{0,63}", t) for t in k.tags), "tags must be spec tags"
    assert k.description.endswith(".") and 20 <= len(k.description) <= 200
    assert k.shape != "plane" or k.static
    assert not k.sensor or k.static
    assert k.color is None or all(0 <= c <= 1 for c in k.color)
    assert kb.kind(name) is k
    for a in k.aliases:
        assert kb.find_kind(a) is k, f"alias {a!r} of {name!r} resolves to {kb.find_kind(a)}"


@pytest.mark.parametrize("name", sorted(kb.KINDS))
def test_every_kind_builds_a_valid_entity(name):
    k = kb.KINDS[name]
    z = kb.rest_height(k)
    e = kb.make_entity(name, "thing_1", (0.0, 0.0, z))
    assert isinstance(e, S.Entity)
    assert e.kind == name and e.tags[0] == name.replace(" ", "_") and set(k.tags) <= set(e.tags)
    assert e.static == k.static and e.sensor == k.sensor
    assert e.mass > 0 and math.isfinite(e.mass)
    if not k.static:
        assert 1e-4 <= e.mass <= 5000, (name, e.mass)
    assert e.material.name == k.material and e.appearance.look == kb.MATERIALS[k.material].look
    assert e.shape.type == k.shape
    # a world holding it validates (planes and sensors included)
    S.WorldSpec(entities=[e])


def test_masses_are_realistic():
    def m(n):
        return kb.mass_of(n)

    assert m("bowling ball") == 7.0 and m("ping pong ball") < 0.01 < m("golf ball") < m("tennis ball") < 0.1
    assert 0.001 < m("marble") < 0.02  # density × volume of a glass marble
    assert 5 < m("cannonball") < 10
    assert 15 < m("curling stone") < 25 and m("car") > 500
    assert m("domino") == pytest.approx(700 * 0.02 * 0.1 * 0.2)


def test_geometry_helpers():
    assert kb.rest_height("pin") == pytest.approx(0.19)
    assert kb.rest_height("bowling ball") == pytest.approx(0.108)
    assert kb.rest_height("person") == pytest.approx(0.6 + 0.25)  # capsule: half the straight part + radius
    assert kb.rest_height("floor") == 0.0
    assert kb.rest_height("crate", scale=2) == pytest.approx(0.5)
    assert kb.half_extents("domino") == pytest.approx((0.01, 0.05, 0.1))
    assert kb.extent("soccer ball") == pytest.approx(0.22)
    assert kb.volume("block") == pytest.approx(0.001)
    with pytest.raises(ValueError):
        kb.volume("block", scale=0)
    with pytest.raises(ValueError):
        kb.volume("block", scale=float("nan"))


def test_make_entity_overrides():
    e = kb.make_entity("ball", "b", (1, 2, 3), scale=2.0, material="steel", color="red", tags=("player_ball",),
                       rotation=(0, 0, 90))
    assert e.shape.radius == pytest.approx(0.2)
    assert e.material.name == "steel" and e.appearance.look == "metal"
    assert e.appearance.color == kb.COLORS["red"]
    assert e.tags == ["ball", "player_ball"] and e.rotation == (0, 0, 90) and e.position == (1, 2, 3)
    # a given mass stays hollow: ×8 for scale, × density ratio for steel
    assert e.mass == pytest.approx(0.4 * 8 * 7850 / 1100)
    # density-based kinds follow the material's density
    assert kb.make_entity("block", "b", material="foam").mass == pytest.approx(40 * 0.001)
    assert kb.make_entity("block", "b", material="wooden").material.name == "wood"  # aliases work
    assert kb.make_entity("cue ball", "c").appearance.color == kb.KINDS["cue ball"].color  # the kind's colour
    assert kb.make_entity("block", "b", color="#ff0000").appearance.color == (1.0, 0.0, 0.0)
    assert kb.make_entity("crate", "c", static=True, mass=3.0).static is True
    assert kb.make_entity("goal", "g", sensor=False).sensor is False
    with pytest.raises(KeyError):
        kb.make_entity("dragon", "d")
    with pytest.raises(KeyError):
        kb.make_entity("ball", "b", material="unobtainium")
    with pytest.raises(ValueError):
        kb.make_entity("ball", "b", color="not a colour")
    with pytest.raises(ValueError):  # pydantic: not an identifier
        kb.make_entity("ball", "9 lives")


def test_huge_scale_clamps_mass():
    e = kb.make_entity("boulder", "big", scale=20.0)
    assert e.mass == S.MAX_MASS


@pytest.mark.parametrize("noun, expected", [
    ("pins", "pin"), ("Skittles", "pin"), ("bowling pins", "pin"), ("boxes", "box"), ("dominoes", "domino"),
    ("Domino", "domino"), ("people", "person"), ("dice", "die"), ("tyres", "tyre"), ("tires", "tyre"),
    ("Ping-Pong balls", "ping pong ball"), ("pingpong ball", "ping pong ball"), ("see-saw", "seesaw"),
    ("teeter-totters", "seesaw"), ("goalies", "person"), ("curling stones", "curling stone"),
    ("big red bowling balls", "bowling ball"), ("shiny wooden crates", "crate"), ("football", "soccer ball"),
    ("hockey pucks", "puck"), ("bullseye", "target"), ("plinko board", "peg board"), ("marble run", "track"),
    ("newton's cradle balls", "steel ball"), ("cannon balls", "cannonball"), ("trees", "tree"),
    ("the ice rink", "rink"), ("LABYRINTH", "maze board"), ("mallets", "paddle"), ("matches", None),
    ("dragon", None), ("", None), ("   ", None),
])
def test_find_kind(noun, expected):
    k = kb.find_kind(noun)
    assert (k.name if k else None) == expected


def test_find_kind_rejects_non_strings_and_huge_input():
    assert kb.find_kind(None) is None  # type: ignore[arg-type]
    assert kb.find_kind(42) is None  # type: ignore[arg-type]
    assert kb.find_kind("ball " * 10_000).name == "ball"


def test_kind_error_suggests():
    with pytest.raises(KeyError, match="did you mean"):
        kb.kind("skitle")


def test_singular():
    assert [kb.singular(w) for w in ("pins", "boxes", "dominoes", "glass", "buses", "leaves", "balls", "is")] == \
        ["pin", "box", "domino", "glass", "bus", "leaf", "ball", "is"]


def test_materials_lookup():
    assert kb.material("wooden").name == "wood"
    assert kb.material("Iron").name == "metal"
    assert kb.material("golden").name == "gold"
    assert kb.find_material("dragonhide") is None
    with pytest.raises(KeyError):
        kb.material("dragonhide")


def test_colors():
    assert kb.color("Light Blue") == kb.COLORS["light blue"]
    assert kb.color((0.1, 0.2, 0.3)) == (0.1, 0.2, 0.3)
    assert kb.color("#00ff00") == (0.0, 1.0, 0.0)
    for bad in ("chartreuse-ish", (1, 2, 3), (0.1, 0.2)):
        with pytest.raises(ValueError):
            kb.color(bad)


def test_aliases_are_unambiguous():
    owner: dict[str, str] = {}
    for k in kb.KINDS.values():
        for a in (k.name, *k.aliases):
            n = kb.normalize(a)
            assert owner.setdefault(n, k.name) == k.name, f"{a!r} names both {owner[n]!r} and {k.name!r}"


def test_tables_are_frozen():
    with pytest.raises(TypeError):
        kb.KINDS["x"] = kb.KINDS["ball"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        kb.KINDS["ball"].size = (1.0,)  # type: ignore[misc]
