"""WorldDistribution: deterministic, varied, verified levels of one design."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from physics.check import check_world
from worldgen.distribution import LevelError, WorldDistribution, referenced_names
from worldgen.example_worlds import example_spec
from worldgen.io import SpecError


def _hash(spec) -> str:
    return hashlib.sha256(spec.model_dump_json().encode()).hexdigest()


def test_same_level_gives_identical_spec_json():
    a = WorldDistribution("bowling", verify=False).level(7)
    b = WorldDistribution(example_spec("bowling"), verify=False).level(7)  # a fresh instance: no cache
    c = WorldDistribution(example_spec("bowling").model_dump(), verify=False).level(7)
    assert a.model_dump_json() == b.model_dump_json() == c.model_dump_json()


def test_different_levels_differ_in_the_world_itself():
    dist = WorldDistribution("bowling", verify=False)
    worlds = [dist.level(i).model_dump(include={"entities", "cameras"}) for i in range(5)]
    for i in range(5):
        for j in range(i + 1, 5):
            assert worlds[i] != worlds[j]
    design = example_spec("bowling")
    ball = [dist.level(i).entity("ball") for i in range(5)]
    assert len({b.position for b in ball}) == 5
    assert len({b.mass for b in ball}) == 5
    for lvl in range(5):  # every body stays on the floor (bottom at z = 0) whatever its size
        for e in dist.level(lvl).entities:
            if e.name.startswith("pin_"):
                assert e.position[2] - e.shape.height / 2 == pytest.approx(0.0, abs=1e-5)
            if e.shape.type == "sphere":
                assert e.position[2] - e.shape.radius == pytest.approx(0.0, abs=1e-5)
    assert dist.level(0).metadata.title == f"{design.metadata.title} (level 0)"


def test_variation_leaves_static_geometry_rules_and_names_alone():
    design = example_spec("bowling")
    level = WorldDistribution(design, verify=False).level(3)
    assert [e.name for e in level.entities] == [e.name for e in design.entities]
    for a, b in zip(design.entities, level.entities):
        if a.static or a.sensor:
            assert a.model_dump(exclude={"appearance"}) == b.model_dump(exclude={"appearance"})
    for section in ("rules", "goals", "players", "variables", "joints", "templates", "physics"):
        assert getattr(level, section) == getattr(design, section)


def test_jointed_and_stacked_bodies_keep_pose_and_size():
    for name, frozen in (("cradle", ("ball_1", "ball_5", "rod", "bob")), ("tower", ("block_0_0", "top"))):
        design = example_spec(name)
        level = WorldDistribution(design, verify=False).level(11)
        for n in frozen:
            assert level.entity(n).position == design.entity(n).position, n
            assert level.entity(n).shape == design.entity(n).shape, n


def test_train_and_test_splits_are_disjoint():
    train, test = WorldDistribution.split("push_crate", verify=False)
    assert (train.start_level, train.num_levels, test.start_level, test.num_levels) == (0, 500, 10_000, 0)
    train_ids = set(train.levels)
    assert train_ids == set(range(500)) and len(train) == 500
    rng = np.random.default_rng(0)
    test_ids = {test.sample_level(rng) for _ in range(200)}
    assert min(test_ids) >= 10_000 and not train_ids & test_ids
    assert all(train.sample_level(s) in train for s in range(50))
    assert 10_000 not in train and 499 in train and 9_999 not in test
    train_hashes = {_hash(train.level(i)) for i in range(5)}
    test_hashes = {_hash(test.level(10_000 + i)) for i in range(5)}
    assert len(train_hashes) == len(test_hashes) == 5 and not train_hashes & test_hashes
    with pytest.raises(KeyError, match="not in this distribution"):
        train.level(500)
    with pytest.raises(TypeError, match="unlimited"):
        len(test)
    with pytest.raises(ValueError, match="overlaps"):
        WorldDistribution.split("push_crate", train_levels=500, test_start=100)


def test_sample_is_deterministic_in_its_seed():
    dist = WorldDistribution("air_hockey", num_levels=20, verify=False)
    assert dist.sample(5).model_dump_json() == dist.sample(np.random.default_rng(5)).model_dump_json()
    assert {dist.sample_level(s) for s in range(100)} <= set(range(20))


@pytest.mark.parametrize("name", ["bowling", "billiards", "dominoes"])
def test_every_level_passes_the_settle_check(name):
    dist = WorldDistribution(name)
    for i in range(5):
        spec = dist.level(i)
        report = check_world(spec, seconds=1.0)
        assert report.ok, f"{name} level {i}: {report}"
    assert not any(len(r) >= dist.max_attempts for r in dist.rejections.values())


def test_counts_keep_referenced_entities():
    design = example_spec("dominoes")
    assert "domino_1" in referenced_names(design)  # the push control targets it
    dist = WorldDistribution(design, counts={"domino": (5, 12)}, verify=False)
    seen = set()
    for i in range(12):
        spec = dist.level(i)
        dominoes = [e.name for e in spec.entities if "domino" in e.tags]
        assert 5 <= len(dominoes) <= 12
        assert "domino_1" in dominoes
        assert referenced_names(spec) <= {e.name for e in spec.entities}
        seen.add(len(dominoes))
    assert len(seen) > 1
    fixed = WorldDistribution("bowling", counts={"pin": 6}, verify=False).level(0)
    assert sum("pin" in e.tags for e in fixed.entities) == 6
    with pytest.raises(ValueError, match="domino_1"):
        WorldDistribution(design, counts={"domino": (0, 3)})
    with pytest.raises(ValueError, match="no entity has tag 'dominos'"):
        WorldDistribution(design, counts={"dominos": (1, 3)})
    with pytest.raises(ValueError, match="only 20"):
        WorldDistribution(design, counts={"domino": (30, 40)})


def test_invalid_designs_raise_clear_errors():
    bad = example_spec("bowling").model_dump()
    bad["entities"][7]["mass"] = -1.0
    with pytest.raises(SpecError, match=r"entities\.7 \('ball'\)\.mass"):
        WorldDistribution(bad)
    from reasoner import ReasonerError

    with pytest.raises(ReasonerError, match="fluids"):
        WorldDistribution("simulate the ocean's waves")
    with pytest.raises(TypeError, match="design must be"):
        WorldDistribution(42)
    with pytest.raises(ValueError, match="size_scale"):
        WorldDistribution("bowling", size_scale=(1.2, 0.9))
    with pytest.raises(ValueError, match="num_levels"):
        WorldDistribution("bowling", num_levels=-1)


def test_a_level_that_never_passes_raises_with_the_reasons():
    dist = WorldDistribution("bowling", prove=True, script={}, prove_ticks=20, max_attempts=2)
    with pytest.raises(LevelError, match="all 2 attempts failed") as info:
        dist.level(0)
    assert info.value.reasons[0].startswith("attempt 0: mechanic proof: variable 'score' did not change")
    assert len(dist.rejections[0]) == 2


def test_mechanic_proof_passes_for_bowling():
    dist = WorldDistribution("bowling", prove=True)
    world = dist.make_world(2)
    try:
        assert world.spec.metadata.title.endswith("(level 2)")
    finally:
        world.close()
