"""worldgen.create with images, world.edit by prompt, grounding in worlds, and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

import worldgen
from reasoner import BuiltinReasoner, ReasonerError
from reasoner.edit import parse_edit
from worldgen.cli import main


def _sketch(path, shapes, size=400):
    img = Image.new("RGB", (size, size), (250, 250, 248))
    d = ImageDraw.Draw(img)
    for kind, color, box in shapes:
        (d.ellipse if kind == "circle" else d.rectangle)(box, fill=color)
    img.save(path)
    return path


def test_a_sketch_lays_out_the_world(tmp_path):
    # 400 px = 10 m, image centre = world origin, image up = +y
    path = _sketch(tmp_path / "sketch.png", [
        ("circle", (30, 80, 220), (80, 180, 120, 220)),     # blue circle at px (100, 200) → (-5 + 2.5, 0) = (-2.5, 0)
        ("rect", (30, 160, 60), (300, 60, 360, 120)),       # green zone, top right → (+3.25, +3.25)
        ("rect", (20, 20, 20), (190, 0, 210, 150)),         # black wall at the top middle
    ])
    world = worldgen.create("push the ball to the goal", seed=0, images=[str(path)])
    player = world.entities["player"]
    assert player.position[0] == pytest.approx(-2.5, abs=0.2) and player.position[1] == pytest.approx(0, abs=0.2)
    zones = [e for e in world.spec.entities if e.sensor]
    assert zones and zones[0].position[0] > 2.5 and zones[0].position[1] > 2.5
    walls = [e for e in world.spec.entities if e.kind == "wall"]
    assert walls and walls[0].position[1] > 1.0 and abs(walls[0].position[0]) < 0.5
    assert "layout sketch" in str(world.trace)
    before = player.position[0]
    world.step({"p1": {"move_x": 1}}, ticks=30)
    assert world.entities["player"].position[0] > before + 0.3
    world.close()


def test_a_reference_image_sets_the_palette(tmp_path):
    img = np.zeros((64, 96, 3), np.uint8)
    img[:, :32] = (200, 40, 40)
    img[:, 32:64] = (40, 160, 60)
    img[:, 64:] = (30, 60, 200)
    rng = np.random.default_rng(0)
    noisy = np.clip(img.astype(int) + rng.integers(-12, 12, img.shape), 0, 255).astype(np.uint8)
    path = tmp_path / "ref.png"
    Image.fromarray(noisy).save(path)
    spec, trace = BuiltinReasoner().reason("a bowling alley with ten pins", images=[str(path)])
    pal = spec.style.palette
    assert len(pal) >= 3
    for want in ((200, 40, 40), (40, 160, 60), (30, 60, 200)):
        assert min(math.dist([c * 255 for c in p], want) for p in pal) < 40
    assert "reference image" in str(trace)


def test_unreadable_images_are_refused_clearly(tmp_path):
    bad = tmp_path / "not_an_image.png"
    bad.write_bytes(b"hello")
    with pytest.raises(ReasonerError, match="image 1"):
        BuiltinReasoner().reason("a bowling alley with ten pins", images=[str(bad)])
    with pytest.raises(ReasonerError, match="image 1"):
        BuiltinReasoner().reason("a bowling alley with ten pins", images=[str(tmp_path / "missing.png")])


def test_unknown_nouns_are_grounded_and_named_in_the_world():
    spec, trace = BuiltinReasoner().reason("a chain of 12 tiles; push the first one over")
    assert spec.metadata.title == "Domino chain"  # grounded nouns count as evidence for the mechanic
    tiles = [e for e in spec.entities if e.kind == "tile"]
    assert len(tiles) == 12 and all("domino" in e.tags for e in tiles)
    step = next(s for s in trace.stage("grounding") if s.data.get("noun", "").startswith("tile"))
    assert step.data["kind"] == "domino" and 0.45 <= step.data["similarity"] <= 1.0


def test_edit_adds_pins_and_makes_the_ball_bouncier():
    world = worldgen.create("a bowling alley with ten pins; the score counts fallen pins", seed=0)
    ball = next(e for e in world.spec.entities if e.kind == "bowling ball")
    trace = world.edit("make the ball bouncier and add two more pins")
    pins = [e for e in world.spec.entities if e.kind == "pin"]
    assert len(pins) == 12
    new_ball = next(e for e in world.spec.entities if e.kind == "bowling ball")
    assert new_ball.material.restitution > ball.material.restitution
    text = str(trace)
    assert "pin: 10 → 12" in text and "restitution" in text and "Verification" in text
    assert world.tick == 0
    assert world.step({"p1": {"throw": 1}}, ticks=300).variables["score"] > 0
    world.close()


def test_edit_on_an_example_world_copies_entities_and_changes_gravity():
    world = worldgen.example("push_crate")
    world.edit("add another crate and put it on the moon")
    crates = [e for e in world.spec.entities if e.kind == "crate"]
    assert len(crates) == 2 and crates[1].position != crates[0].position
    assert world.spec.physics.gravity == pytest.approx((0, 0, -1.62))
    world.close()


@pytest.mark.parametrize("bad", ["", "sing me a song", "x" * 5000])
def test_bad_edits_leave_the_world_unchanged(bad):
    world = worldgen.example("bowling")
    before = world.spec.model_dump_json()
    with pytest.raises(ReasonerError):
        world.edit(bad)
    assert world.spec.model_dump_json() == before
    world.close()


def test_parse_edit_reads_counts_properties_and_world_changes():
    plan = parse_edit("make the ball heavier, remove 3 pins and use 5 crates; make everything bouncy")
    assert plan.counts == {"pin": ("remove", 3), "crate": ("set", 5)}
    assert ("ball", "mass", "mul", 2.0) in plan.props
    assert any(t == "all" and p == "restitution" for t, p, *_ in plan.props)
    assert parse_edit("zero gravity please").gravity == (0.0, 0.0, 0.0)


def test_cli_create_prints_the_trace_and_saves(tmp_path, capsys):
    out = tmp_path / "w.json"
    tj = tmp_path / "trace.json"
    assert main(["create", "a line of 12 dominoes", "-o", str(out), "--seed", "3", "--trace-json", str(tj)]) == 0
    printed = capsys.readouterr().out
    assert "Verification by simulation" in printed and "saved" in printed
    world = worldgen.load(str(out))
    assert sum(e.kind == "domino" for e in world.spec.entities) == 12
    assert json.loads(tj.read_text())["prompt"] == "a line of 12 dominoes"
    world.close()


def test_cli_create_explains_what_it_cannot_build(capsys):
    assert main(["create", "simulate the ocean's waves", "-o", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert "fluids" in err and "Closest" in err
