"""renderer.teachers: every style's contract on a small analytic scene (fast sizes: 96×64 and below)."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from physics.simulation import Simulation
from renderer.gbuffer import Scene, gbuffer
from renderer.teachers import (DEFAULT_LIGHT, PICO8, STYLES, pixel_base, pixel_outlines, snap_to_palette, teach,
                               to_uint8)
from worldgen.spec import Appearance, Box, Camera, Cylinder, Entity, Plane, Sphere, WorldSpec

SIZE = (96, 64)
PALETTE = [(0.08, 0.07, 0.12), (0.36, 0.2, 0.35), (0.85, 0.45, 0.3), (0.97, 0.88, 0.62), (0.35, 0.6, 0.72)]
ALL = (*STYLES, "palette")


def _spec() -> WorldSpec:
    return WorldSpec(
        entities=[
            Entity(name="floor", kind="floor", shape=Plane(), static=True,
                   appearance=Appearance(color=(0.62, 0.6, 0.55), look="plain")),
            Entity(name="ball", kind="ball", shape=Sphere(radius=0.5), position=(0, 0, 0.5), static=True,
                   appearance=Appearance(color=(0.85, 0.2, 0.15), look="plastic")),
            Entity(name="crate", kind="crate", shape=Box(size=(0.6, 0.6, 0.6)), position=(-1.4, 1.2, 0.3),
                   rotation=(0, 0, 25), static=True, appearance=Appearance(color=(0.55, 0.38, 0.2), look="wood")),
            Entity(name="post", kind="post", shape=Cylinder(radius=0.15, height=1.0), position=(-1.2, -1.0, 0.5),
                   static=True, appearance=Appearance(color=(0.7, 0.72, 0.75), look="metal")),
        ],
        cameras=[Camera(name="main", position=(2.2, -2.4, 1.9), target=(-0.3, 0.1, 0.3), fov_deg=55)],
    )


@pytest.fixture(scope="module")
def gb():
    sim = Simulation(_spec())
    g = gbuffer(sim, SIZE)
    sim.close()
    return g


@pytest.fixture(scope="module")
def images(gb):
    return {s: teach(gb, s, palette=PALETTE if s == "palette" else None) for s in ALL}


def _luma(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float64) @ [0.2126, 0.7152, 0.0722] / 255


def test_every_style_is_an_image_and_deterministic(gb, images):
    for style, img in images.items():
        assert img.shape == (64, 96, 3) and img.dtype == np.uint8, style
        again = teach(gb, style, palette=PALETTE if style == "palette" else None)
        assert np.array_equal(img, again), style
    assert not np.array_equal(teach(gb, "painterly", seed=1), images["painterly"])  # the seed places strokes


def test_styles_differ_from_albedo_and_each_other(gb, images):
    for style, img in images.items():
        diff = np.abs(img.astype(int) - gb.albedo.astype(int)).mean()
        assert diff > 8, (style, diff)
    for a, b in itertools.combinations(images, 2):
        diff = np.abs(images[a].astype(int) - images[b].astype(int)).mean()
        assert diff > 8, (a, b, diff)


def test_realistic_has_a_shadow_beside_the_ball(gb, images):
    img = _luma(images["realistic"])
    floor = gb.segmentation == gb.names.index("floor")
    q = gb.world_pos.astype(np.float64)
    light = np.asarray(DEFAULT_LIGHT) / np.linalg.norm(DEFAULT_LIGHT)
    # distance from the ball's centre to the ray from each floor point towards the sun
    c = np.array([0.0, 0.0, 0.5])
    s = (c - q) @ light
    miss = np.linalg.norm(q + s[..., None] * light - c, axis=-1)
    umbra = floor & (miss < 0.3) & (s > 0)
    near_ball = np.linalg.norm(q[..., :2], axis=-1) < 1.0
    shadow = umbra & near_ball
    objects = [np.array([0.0, 0.0]), np.array([-1.4, 1.2]), np.array([-1.2, -1.0])]
    open_floor = floor & np.all([np.linalg.norm(q[..., :2] - o, axis=-1) > 1.3 for o in objects], axis=0) \
        & (gb.depth < 6)
    assert shadow.sum() >= 5 and open_floor.sum() >= 20
    assert img[shadow].max() < 0.75 * np.median(img[open_floor])
    assert np.median(img[shadow]) < 0.6 * np.median(img[open_floor])


def test_realistic_needs_a_scene(gb):
    bare = dataclasses.replace(gb, scene=None)
    with pytest.raises(ValueError, match="scene"):
        teach(bare, "realistic")
    assert teach(bare, "toon").shape == (64, 96, 3)  # the others light without shadow rays
    sim = Simulation(_spec())
    assert np.array_equal(teach(bare, "realistic", scene=Scene.from_sim(sim)), teach(gb, "realistic"))
    sim.close()


def test_toon_outlines_the_silhouette(gb, images):
    lum = _luma(images["toon"])
    ball = gb.segmentation == gb.names.index("ball")
    pairs = 0
    inked = 0
    for a, b, la, lb in ((ball[:, :-1], ball[:, 1:], lum[:, :-1], lum[:, 1:]),
                         (ball[:-1, :], ball[1:, :], lum[:-1, :], lum[1:, :])):
        cross = a != b
        pairs += cross.sum()
        inked += (np.minimum(la, lb)[cross] < 0.15).sum()
    assert pairs > 20 and inked / pairs > 0.9
    inside = ball & np.all([np.roll(ball, s, axis=ax) for s in (-2, 2) for ax in (0, 1)], axis=0)
    assert _luma(images["toon"])[inside].mean() > 0.25  # the fill itself is not ink


def test_pixel_is_blocky_with_few_colours(images):
    img = images["pixel"]
    assert len(np.unique(img.reshape(-1, 3), axis=0)) <= 16
    blocks = img.reshape(16, 4, 24, 4, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()  # every aligned 4×4 block is one colour
    pico = np.round(np.asarray(PICO8) * 255)
    assert all((np.abs(pico - c).sum(1) == 0).any() for c in np.unique(img.reshape(-1, 3), axis=0))


def test_pixel_is_its_base_snapped_to_the_palette(gb, images):
    """Pixel art is its colours before the palette (smooth in the colours: what the restyler learns) with
    each 4×4 block snapped to its nearest palette colour — exactly, for any palette and frame size."""
    base = pixel_base(gb)
    assert base.shape == (64, 96, 3) and base.min() >= 0 and base.max() <= 1
    blocks = base.reshape(16, 4, 24, 4, 3)
    assert (blocks == blocks[:, :1, :, :1]).all()
    cols = np.unique(base.reshape(-1, 3), axis=0)
    off_palette = np.abs(cols[:, None] - np.asarray(PICO8)[None]).max(-1).min(1) > 0.02
    assert off_palette.sum() >= 3  # shaded colours, not yet the palette's
    assert np.array_equal(to_uint8(snap_to_palette(base)), images["pixel"])
    assert np.array_equal(to_uint8(snap_to_palette(pixel_base(gb, palette=PALETTE), PALETTE)),
                          teach(gb, "pixel", palette=PALETTE))
    sim = Simulation(_spec())
    odd = gbuffer(sim, (45, 30))  # partial blocks at the right and bottom edges
    sim.close()
    assert np.array_equal(to_uint8(snap_to_palette(pixel_base(odd))), teach(odd, "pixel"))


def test_pixel_outlines_are_the_teachers_inked_blocks(gb, images):
    """pixel_outlines gives, from the segmentation and depth alone, exactly the blocks the teacher inks in
    the palette's darkest colour; snapping with them changes nothing in the teacher's own colours."""
    ink = pixel_outlines(gb)
    assert ink.shape == (16, 24) and 10 < ink.sum() < ink.size // 3
    blocks = images["pixel"][::4, ::4]
    assert (blocks[ink] == 0).all()  # PICO-8's darkest is black
    base = pixel_base(gb)
    assert ((base[::4, ::4] == 0).all(-1) == ink).all()  # and only those blocks are black before the palette
    assert np.array_equal(to_uint8(snap_to_palette(base, outline=ink)), images["pixel"])
    grey = np.full_like(base, 0.5)  # whatever the colours, the inked blocks come out darkest
    out = to_uint8(snap_to_palette(grey, PALETTE, outline=ink))[::4, ::4]
    assert (out[ink] == to_uint8(np.asarray(PALETTE[0]))).all()  # its darkest
    assert not (out[~ink] == out[ink][0]).all(-1).any()
    with pytest.raises(ValueError, match="one flag per block"):
        snap_to_palette(base, outline=ink[:-1])


def test_snap_to_palette_takes_each_blocks_mean():
    pal = [(0, 0, 0), (1, 1, 1), (0.9, 0.1, 0.1)]
    img = np.zeros((6, 10, 3))
    img[0, 0] = 1.0  # one white pixel in a black block: the block stays black
    img[:4, 4:8] = (0.8, 0.15, 0.1)  # reddish → the palette's red
    img[:4, 8:] = 0.95  # a partial block (2 columns) → white
    img[4:, :] = (0.85, 0.2, 0.15)  # the partial bottom row of blocks → red
    out = snap_to_palette(img, pal)
    assert out.shape == img.shape
    assert np.array_equal(out[:4, :4], np.zeros((4, 4, 3)))
    assert np.allclose(out[:4, 4:8], pal[2]) and np.allclose(out[:4, 8:], 1.0) and np.allclose(out[4:], pal[2])
    assert np.array_equal(snap_to_palette(out, pal), out)  # palette colours stay where they are


def test_pixel_uses_a_given_palette(gb):
    img = teach(gb, "pixel", palette=PALETTE)
    cols = np.unique(img.reshape(-1, 3), axis=0)
    assert len(cols) <= len(PALETTE)


def test_palette_style_uses_only_palette_colours(gb, images):
    pal = np.round(np.asarray(PALETTE) * 255)
    cols = np.unique(images["palette"].reshape(-1, 3), axis=0)
    nearest = np.abs(cols[:, None, :] - pal[None]).max(-1).min(1)
    assert nearest.max() <= 1 and len(cols) >= 3
    spelled = teach(gb, "palette:" + ",".join("#%02x%02x%02x" % tuple(int(v) for v in c) for c in pal))
    assert np.array_equal(spelled, teach(gb, "palette", palette=pal / 255))


def test_bad_styles_and_arguments(gb):
    with pytest.raises(ValueError, match="realistic, toon, pixel, painterly"):
        teach(gb, "watercolour")
    with pytest.raises(ValueError, match="palette"):
        teach(gb, "palette")
    with pytest.raises(ValueError, match="#rrggbb"):
        teach(gb, "palette:#12345g")
    with pytest.raises(ValueError, match="0..1"):
        teach(gb, "palette", palette=[(255, 0, 0)])
    with pytest.raises(ValueError, match="light_dir"):
        teach(gb, "toon", light_dir=(0, 0, 0))


def test_example_world_in_every_style():
    from worldgen.example_worlds import example_spec

    sim = Simulation(example_spec("bowling"))
    g = gbuffer(sim, (48, 48), "pins")
    sim.close()
    for style in ALL:
        img = teach(g, style, palette=PALETTE if style == "palette" else None)
        assert img.shape == (48, 48, 3) and img.std() > 5, style


def test_material_classes_follow_each_entitys_look_through_the_segmentation(gb):
    from renderer.teachers import METAL, N_MATERIALS, PLAIN, PLASTIC, WOOD, material_classes

    cls = material_classes(gb)
    assert cls.shape == gb.segmentation.shape
    expect = {"floor": PLAIN, "ball": PLASTIC, "crate": WOOD, "post": METAL}
    for name, c in expect.items():
        mask = gb.segmentation == gb.names.index(name)
        assert mask.any() and (cls[mask] == c).all(), name
    assert (cls[gb.segmentation < 0] == N_MATERIALS).all() and (gb.segmentation < 0).any()
    # unknown looks are plain; a changed look is a changed class on that entity only
    looks = tuple("gold" if n == "ball" else ("moon rock" if n == "crate" else lk) for n, lk in zip(gb.names, gb.looks))
    cls2 = material_classes(dataclasses.replace(gb, looks=looks))
    ball, crate = gb.segmentation == gb.names.index("ball"), gb.segmentation == gb.names.index("crate")
    assert (cls2[ball] == METAL).all() and (cls2[crate] == PLAIN).all()
    assert np.array_equal(cls2[~(ball | crate)], cls[~(ball | crate)])
