"""Reference images and layout sketches: loading, validation, sketch shapes in world units, palettes, style."""

from __future__ import annotations

import io
import math
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from reasoner import images as im
from reasoner.images import ImageHints, Sketch, SketchShape

SS = 4  # supersampling factor: draw at 4x, downsample with LANCZOS = anti-aliased edges


class Canvas:
    """Draws in final-image pixel coordinates on a 4x canvas; ``finish`` downsamples (anti-aliasing)."""

    def __init__(self, w: int, h: int, bg=(255, 255, 255)):
        self.w, self.h = w, h
        self.img = Image.new("RGB", (w * SS, h * SS), bg)
        self.d = ImageDraw.Draw(self.img)

    def circle(self, cx, cy, r, fill):
        self.d.ellipse([(cx - r) * SS, (cy - r) * SS, (cx + r) * SS, (cy + r) * SS], fill=fill)

    def rect(self, x0, y0, x1, y1, fill=None, outline=None, width=1):
        self.d.rectangle([x0 * SS, y0 * SS, x1 * SS - 1, y1 * SS - 1], fill=fill, outline=outline, width=width * SS)

    def rotated_rect(self, cx, cy, length, width, angle_deg, fill):
        """A rectangle whose long side points ``angle_deg`` CCW from image-right (as seen on screen)."""
        a = math.radians(angle_deg)
        u = (math.cos(a), -math.sin(a))     # screen y grows downwards
        v = (-math.sin(a), -math.cos(a))
        pts = [((cx + su * length / 2 * u[0] + sv * width / 2 * v[0]) * SS,
                (cy + su * length / 2 * u[1] + sv * width / 2 * v[1]) * SS)
               for su, sv in ((1, 1), (1, -1), (-1, -1), (-1, 1))]
        self.d.polygon(pts, fill=fill)

    def line(self, p0, p1, width, fill):
        self.d.line([(p0[0] * SS, p0[1] * SS), (p1[0] * SS, p1[1] * SS)], fill=fill, width=width * SS)

    def finish(self) -> Image.Image:
        return self.img.resize((self.w, self.h), Image.LANCZOS)

    def save(self, path, fmt="PNG", **kw):
        self.finish().save(path, fmt, **kw)
        return path


def world(px, py, w, h, extent=10.0):
    """Image pixel coordinates (y down) → world coordinates (y up, origin at the image centre)."""
    s = extent / max(w, h)
    return ((px - w / 2) * s, (h / 2 - py) * s)


def close(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def angle_diff(a, b, period=180.0):
    d = (a - b) % period
    return min(d, period - d)


def photo_like(w=256, h=256, seed=0) -> np.ndarray:
    """A random smooth gradient plus noise: no flat background, many colours."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(w, h)
    base = []
    for _ in range(3):
        a, b, c, d = rng.uniform(0.5, 4, 4)
        base.append(0.5 + 0.25 * np.sin(a * xx + b) + 0.2 * np.cos(c * yy + d))
    arr = np.stack(base, axis=-1) + rng.normal(0, 0.06, (h, w, 3))
    return np.clip(arr * 255, 0, 255).astype(np.uint8)


RED, BLUE, GREEN, BLACK, YELLOW = (220, 30, 30), (30, 80, 220), (30, 170, 60), (20, 20, 20), (245, 210, 0)
ORANGE, BROWN, GREY, PURPLE = (255, 140, 0), (120, 70, 20), (128, 128, 128), (130, 40, 160)


# ----------------------------------------------------------------------------------------------------
# sketches


def test_axis_convention_circle_top_right_is_plus_x_plus_y(tmp_path):
    c = Canvas(400, 300)
    c.circle(320, 60, 25, BLUE)
    sk = im.read_sketch(c.save(tmp_path / "s.png"))
    assert isinstance(sk, Sketch)
    assert (sk.width_px, sk.height_px) == (400, 300)
    assert sk.extent == (10.0, 7.5)  # the longer side spans ``extent``
    (s,) = sk.shapes
    assert isinstance(s, SketchShape)
    assert s.shape == "circle" and s.color_name == "blue" and s.angle_deg == 0.0
    assert s.center[0] > 0 and s.center[1] > 0
    assert close(s.center, (3.0, 2.25), 0.03)
    assert close(s.size, (1.25, 1.25), 0.04)
    assert abs(s.area_px - math.pi * 25 ** 2) < 0.05 * math.pi * 25 ** 2
    assert close(s.color, (30 / 255, 80 / 255, 220 / 255), 0.03)


def test_extent_scales_and_origin_is_the_image_centre(tmp_path):
    c = Canvas(300, 500)  # portrait: height is the longer side
    c.circle(150, 250, 20, RED)
    c.circle(50, 450, 20, BLUE)
    sk = im.read_sketch(c.save(tmp_path / "s.png"), extent=20.0)
    assert sk.extent == (12.0, 20.0)
    red = next(s for s in sk.shapes if s.color_name == "red")
    blue = next(s for s in sk.shapes if s.color_name == "blue")
    assert close(red.center, (0.0, 0.0), 0.03)
    assert close(blue.center, world(50, 450, 300, 500, 20.0), 0.05)
    assert close(blue.center, (-4.0, -8.0), 0.05)
    assert close(red.size, (1.6, 1.6), 0.06)


def layout_canvas() -> Canvas:
    c = Canvas(512, 384)
    c.circle(100, 300, 20, BLUE)                    # ball
    for x in (330, 370, 410):                        # three pins
        c.circle(x, 80, 10, RED)
    c.rect(40, 140, 200, 190, fill=BLACK)            # wall 160 x 50 (aspect < 4: a rectangle)
    c.rect(300, 200, 380, 280, fill=GREEN)           # goal zone 80 x 80
    c.circle(250, 330, 9, YELLOW)                    # coin
    c.rotated_rect(420, 320, 100, 40, 30, ORANGE)    # ramp
    c.line((60, 40), (220, 100), 10, BROWN)          # thick stroke
    return c


def test_layout_sketch_counts_shapes_colours_positions(tmp_path):
    c = layout_canvas()
    w, h = 512, 384
    sk = im.read_sketch(c.save(tmp_path / "layout.png"))
    names = [s.color_name for s in sk.shapes]
    assert names == ["black", "blue", "brown", "green", "orange", "red", "red", "red", "yellow"]
    by = {}
    for s in sk.shapes:
        by.setdefault(s.color_name, []).append(s)
    scale = 10.0 / 512
    tol = 3 * scale

    (ball,) = by["blue"]
    assert ball.shape == "circle" and close(ball.center, world(100, 300, w, h), tol)
    assert close(ball.size, (40 * scale, 40 * scale), tol)

    pins = by["red"]
    assert [p.shape for p in pins] == ["circle"] * 3
    assert [p.center[0] for p in pins] == sorted(p.center[0] for p in pins)   # sorted by x
    for p, x in zip(pins, (330, 370, 410)):
        assert close(p.center, world(x, 80, w, h), tol)
        assert abs(p.size[0] - 20 * scale) < tol

    (wall,) = by["black"]
    assert wall.shape == "rectangle" and angle_diff(wall.angle_deg, 0) < 1
    assert close(wall.center, world(120, 165, w, h), tol)
    assert close(wall.size, (160 * scale, 50 * scale), tol)

    (zone,) = by["green"]
    assert zone.shape == "rectangle" and close(zone.size, (80 * scale, 80 * scale), tol)
    assert close(zone.center, world(340, 240, w, h), tol)

    (coin,) = by["yellow"]
    assert coin.shape == "circle" and close(coin.center, world(250, 330, w, h), tol)

    (ramp,) = by["orange"]
    assert ramp.shape == "rectangle"
    assert angle_diff(ramp.angle_deg, 30) < 1.5
    assert close(ramp.size, (100 * scale, 40 * scale), tol)
    assert close(ramp.center, world(420, 320, w, h), tol)

    (stroke,) = by["brown"]
    assert stroke.shape == "line"
    length = math.hypot(160, 60)
    assert close(stroke.size, (length * scale, 10 * scale), tol)
    assert stroke.size[0] >= 4 * stroke.size[1]
    # goes right and *down* on screen: the world angle is negative, i.e. 180 - 20.6
    assert angle_diff(stroke.angle_deg, 180 - math.degrees(math.atan2(60, 160))) < 1.5
    assert close(stroke.center, world(140, 70, w, h), tol)


@pytest.mark.parametrize("angle", [0, 15, 30, 60, 90, 120, 150, 200, 315])
def test_rotated_rectangle_angle_mod_180(tmp_path, angle):
    c = Canvas(256, 256)
    c.rotated_rect(128, 128, 120, 40, angle, RED)
    (s,) = im.read_sketch(c.save(tmp_path / "r.png")).shapes
    assert s.shape == "rectangle"
    assert 0 <= s.angle_deg < 180
    assert angle_diff(s.angle_deg, angle % 180) < 1.0
    scale = 10 / 256
    assert close(s.size, (120 * scale, 40 * scale), 2 * scale)
    assert close(s.center, (0.0, 0.0), 1.5 * scale)


@pytest.mark.parametrize("angle", [0, 20, 45, 70])
def test_rotated_square_is_a_rectangle_with_angle_mod_90(tmp_path, angle):
    c = Canvas(256, 256)
    c.rotated_rect(128, 128, 60, 60, angle, GREEN)
    (s,) = im.read_sketch(c.save(tmp_path / "sq.png")).shapes
    assert s.shape == "rectangle"
    assert 0 <= s.angle_deg < 90
    assert angle_diff(s.angle_deg, angle % 90, period=90) < 1.5
    assert abs(s.size[0] - 60 * 10 / 256) < 0.08 and abs(s.size[1] - 60 * 10 / 256) < 0.08


@pytest.mark.parametrize("p0,p1", [((30, 128), (226, 128)), ((128, 30), (128, 226)), ((40, 200), (200, 60))])
def test_thick_line(tmp_path, p0, p1):
    c = Canvas(256, 256)
    c.line(p0, p1, 12, BLACK)
    (s,) = im.read_sketch(c.save(tmp_path / "l.png")).shapes
    assert s.shape == "line" and s.color_name == "black"
    scale = 10 / 256
    dx, dy = p1[0] - p0[0], p0[1] - p1[1]  # world y is up
    assert abs(s.size[0] - math.hypot(dx, dy) * scale) < 3 * scale
    assert abs(s.size[1] - 12 * scale) < 2 * scale
    assert angle_diff(s.angle_deg, math.degrees(math.atan2(dy, dx)) % 180) < 1.0
    mid = world((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2, 256, 256)
    assert close(s.center, mid, 2 * scale)


def test_antialiased_edges_make_no_extra_blobs(tmp_path):
    c = Canvas(384, 384)
    c.rect(40, 40, 180, 120, fill=GREY)       # grey touching black: edge pixels are grey-ish blends
    c.rect(40, 120, 180, 140, fill=BLACK)
    c.rect(220, 40, 340, 120, fill=RED)       # red touching blue
    c.rect(220, 120, 340, 180, fill=BLUE)
    c.circle(100, 260, 50, BLACK)             # large black circle: its grey rim must not be a grey blob
    c.circle(280, 280, 40, PURPLE)
    sk = im.read_sketch(c.save(tmp_path / "aa.png"))
    assert sorted((s.color_name, s.shape) for s in sk.shapes) == [
        ("black", "circle"), ("black", "line"), ("blue", "rectangle"), ("grey", "rectangle"),
        ("purple", "circle"), ("red", "rectangle")]
    grey = next(s for s in sk.shapes if s.color_name == "grey")
    assert close(grey.size, (140 * 10 / 384, 80 * 10 / 384), 0.06)


def test_jpeg_sketch_reads_the_same_shapes(tmp_path):
    c = layout_canvas()
    png = im.read_sketch(c.save(tmp_path / "layout.png"))
    jpg = im.read_sketch(c.save(tmp_path / "layout.jpg", "JPEG", quality=80))
    assert [(s.color_name, s.shape) for s in jpg.shapes] == [(s.color_name, s.shape) for s in png.shapes]
    for a, b in zip(jpg.shapes, png.shapes):
        assert close(a.center, b.center, 0.05)


def test_hollow_rectangle_outline_becomes_four_walls(tmp_path):
    c = Canvas(400, 300)
    c.rect(20, 20, 380, 280, outline=BLACK, width=10)   # arena walls, 10 px thick
    c.circle(200, 150, 15, BLUE)                         # a ball inside
    sk = im.read_sketch(c.save(tmp_path / "arena.png"))
    walls = [s for s in sk.shapes if s.color_name == "black"]
    assert len(walls) == 4 and all(s.shape == "line" for s in walls)
    scale = 10 / 400
    horizontal = sorted((s for s in walls if angle_diff(s.angle_deg, 0) < 1), key=lambda s: s.center[1])
    vertical = sorted((s for s in walls if angle_diff(s.angle_deg, 90) < 1), key=lambda s: s.center[0])
    assert len(horizontal) == 2 and len(vertical) == 2
    assert close(horizontal[0].center, world(200, 275, 400, 300), 2 * scale)
    assert close(vertical[1].center, world(375, 150, 400, 300), 2 * scale)
    assert close(horizontal[0].size, (360 * scale, 10 * scale), 2 * scale)
    assert close(vertical[0].size, (240 * scale, 10 * scale), 2 * scale)
    assert [s.color_name for s in sk.shapes].count("blue") == 1


def test_zone_partly_covered_by_other_shapes_is_measured_whole(tmp_path):
    c = Canvas(300, 300)
    c.rect(50, 50, 250, 250, fill=GREEN)
    for x in (100, 150, 200):
        c.circle(x, 150, 15, RED)
    sk = im.read_sketch(c.save(tmp_path / "zone.png"))
    (zone,) = [s for s in sk.shapes if s.color_name == "green"]
    assert zone.shape == "rectangle"
    assert close(zone.size, (200 * 10 / 300, 200 * 10 / 300), 0.07)
    assert close(zone.center, (0, 0), 0.05)
    assert zone.area_px < 200 * 200  # only the green pixels are counted
    assert [s.shape for s in sk.shapes if s.color_name == "red"] == ["circle"] * 3


def test_colour_legend_names(tmp_path):
    colours = {"red": RED, "blue": BLUE, "green": GREEN, "black": BLACK, "yellow": YELLOW, "orange": ORANGE,
               "brown": BROWN, "grey": GREY, "purple": PURPLE, "pink": (255, 170, 200), "cyan": (0, 200, 220)}
    c = Canvas(480, 160)
    for i, rgb in enumerate(colours.values()):
        c.circle(25 + 43 * i, 80, 16, rgb)
    sk = im.read_sketch(c.save(tmp_path / "legend.png"))
    got = sorted(sk.shapes, key=lambda s: s.center[0])
    assert [s.color_name for s in got] == list(colours)
    assert all(s.shape == "circle" for s in got)


@pytest.mark.parametrize("rgb,name", [
    ((1, 0, 0), "red"), ((0, 0.5, 0), "green"), ((0, 0, 1), "blue"), ((1, 1, 0), "yellow"),
    ((1, 0.65, 0), "orange"), ((0.5, 0, 0.5), "purple"), ((1, 0.75, 0.8), "pink"), ((1, 0, 1), "magenta"),
    ((0.65, 0.16, 0.16), "brown"), ((0.55, 0.27, 0.07), "brown"), ((0, 0, 0), "black"), ((0.5, 0.5, 0.5), "grey"),
    ((0, 1, 1), "cyan"), ((1, 1, 1), "white"), ((0.85, 0.12, 0.1), "red"), ((0.12, 0.3, 0.85), "blue"),
])
def test_color_name(rgb, name):
    assert im.color_name(rgb) == name


def test_small_blobs_are_ignored_and_min_area_frac_is_respected(tmp_path):
    c = Canvas(400, 400)
    c.circle(100, 100, 40, BLUE)
    c.circle(300, 300, 4, RED)   # ~50 px = 0.0003 of the image
    path = c.save(tmp_path / "small.png")
    assert [s.color_name for s in im.read_sketch(path).shapes] == ["blue"]
    assert [s.color_name for s in im.read_sketch(path, min_area_frac=0.0001).shapes] == ["blue", "red"]
    assert im.read_sketch(path, min_area_frac=0.05).shapes == ()


def test_blank_sketch_has_no_shapes():
    sk = im.read_sketch(np.full((64, 64, 3), 255, np.uint8))
    assert sk.shapes == () and sk.extent == (10.0, 10.0)


def test_shape_cap_keeps_the_largest(tmp_path):
    img = Image.new("RGB", (420, 420), "white")
    d = ImageDraw.Draw(img)
    for i in range(15):
        for j in range(15):
            side = 11 if (i, j) == (0, 0) else 10
            d.rectangle([10 + 27 * i, 10 + 27 * j, 10 + 27 * i + side, 10 + 27 * j + side], fill=RED)
    sk = im.read_sketch(np.asarray(img), min_area_frac=0.0001)
    assert len(sk.shapes) == im.MAX_SHAPES == 200
    assert max(s.area_px for s in sk.shapes) == 144  # the one bigger square survives the cut


def test_sketch_is_deterministic_and_path_equals_array(tmp_path):
    c = layout_canvas()
    path = c.save(tmp_path / "layout.png")
    a = im.read_sketch(path)
    assert im.read_sketch(path) == a
    assert im.read_sketch(str(path)) == a
    assert im.read_sketch(np.asarray(Image.open(path))) == a
    assert im.read_sketch(Image.open(path)) == a
    assert repr(im.read_sketch(path)) == repr(a)


def test_sketch_argument_validation(tmp_path):
    arr = np.full((32, 32, 3), 255, np.uint8)
    for bad in (0, -1, float("nan"), float("inf"), "10"):
        with pytest.raises(ValueError, match="extent"):
            im.read_sketch(arr, extent=bad)
    for bad in (-0.1, 1.0, "x"):
        with pytest.raises(ValueError, match="min_area_frac"):
            im.read_sketch(arr, min_area_frac=bad)


def test_docs_example(tmp_path):
    """The example drawing of docs/sketches.md gives the table printed there."""
    c = Canvas(800, 600)
    c.rect(10, 10, 790, 590, outline=(0, 0, 0), width=10)
    c.rect(560, 60, 760, 180, fill=(40, 170, 60))
    for x in (600, 660, 720):
        c.circle(x, 120, 12, (220, 30, 30))
    c.circle(100, 500, 20, (30, 80, 220))
    c.line((300, 150), (300, 450), 12, (20, 20, 20))
    for x in (420, 470):
        c.circle(x, 480, 10, (245, 210, 0))
    c.rotated_rect(180, 200, 120, 50, 20, (255, 140, 0))
    sk = im.read_sketch(c.save(tmp_path / "example.png"))
    assert sk.extent == (10.0, 7.5)
    doc = (Path(__file__).parents[2] / "docs" / "sketches.md").read_text()
    table = doc.split("`read_sketch` gives:")[1].split("\n\n")[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    assert len(rows) == len(sk.shapes) == 13
    for s, (name, shape, center, size, angle) in zip(sk.shapes, rows):
        assert (s.color_name, s.shape) == (name, shape)
        assert close(s.center, [float(v) for v in center.strip("()").split(",")], 0.011)
        assert close(s.size, [float(v) for v in size.strip("()").split(",")], 0.011)
        assert angle_diff(s.angle_deg, float(angle)) < 0.6


# ----------------------------------------------------------------------------------------------------
# is_sketch / read_image


def test_is_sketch_true_for_sketches(tmp_path):
    c = layout_canvas()
    assert im.is_sketch(np.asarray(c.finish()))
    assert im.is_sketch(c.save(tmp_path / "l.jpg", "JPEG", quality=75))
    c2 = Canvas(200, 200, bg=(250, 246, 235))  # cream paper
    c2.circle(100, 100, 30, RED)
    assert im.is_sketch(np.asarray(c2.finish()))


def test_is_sketch_false_for_photos_and_dark_images():
    assert not im.is_sketch(photo_like())
    assert not im.is_sketch(photo_like(seed=3))
    dark = np.full((100, 100, 3), 30, np.uint8)
    dark[30:60, 30:60] = (200, 0, 0)
    assert not im.is_sketch(dark)
    # light but noisy: many colours everywhere
    rng = np.random.default_rng(1)
    noisy = np.clip(200 + rng.normal(0, 40, (128, 128, 3)), 0, 255).astype(np.uint8)
    assert not im.is_sketch(noisy)


def test_read_image_dispatches(tmp_path):
    sketch = layout_canvas().save(tmp_path / "layout.png")
    out = im.read_image(sketch)
    assert isinstance(out, Sketch) and out == im.read_sketch(sketch)
    photo = tmp_path / "photo.png"
    Image.fromarray(photo_like()).save(photo)
    hints = im.read_image(photo)
    assert isinstance(hints, ImageHints) and hints.source == "photo.png"
    assert hints == im.read_reference(photo)
    assert im.read_image(photo_like()).source == "array"


# ----------------------------------------------------------------------------------------------------
# reference images


def bands(colours, widths, h=120) -> np.ndarray:
    """Vertical colour bands, left to right, ``widths`` in px."""
    return np.concatenate([np.tile(np.array(c, np.uint8), (h, w, 1)) for c, w in zip(colours, widths)], axis=1)


def test_palette_of_three_bands_in_frequency_order(tmp_path):
    cols = [(40, 90, 200), (230, 200, 40), (200, 40, 60)]
    arr = bands([cols[1], cols[0], cols[2]], [60, 100, 40])   # frequencies: blue 100, yellow 60, red 40
    path = tmp_path / "bands.png"
    Image.fromarray(arr).save(path)
    h = im.read_reference(path)
    assert isinstance(h, ImageHints) and h.source == "bands.png"
    assert 3 <= len(h.palette) <= 8
    for got, want in zip(h.palette[:3], cols):
        assert close(got, [c / 255 for c in want], 0.02), (got, want)
    assert h.palette[0] != h.palette[1] != h.palette[2]


def test_palette_survives_antialiasing_and_jpeg(tmp_path):
    cols = [(40, 90, 200), (230, 200, 40), (200, 40, 60)]
    arr = bands([cols[0], cols[1], cols[2]], [110, 70, 40])
    big = Image.fromarray(arr).resize((440, 240), Image.LANCZOS).rotate(3, expand=False, fillcolor=cols[0])
    path = tmp_path / "b.jpg"
    big.save(path, "JPEG", quality=85)
    h = im.read_reference(path)
    for got, want in zip(h.palette[:3], cols):
        assert close(got, [c / 255 for c in want], 0.05), (h.palette, want)


def test_background_is_the_border_colour():
    arr = np.zeros((200, 300, 3), np.uint8)
    arr[:] = (120, 180, 240)                # sky
    arr[40:190, 30:270] = (90, 60, 30)       # a big brown thing covering most of the image
    h = im.read_reference(arr)
    assert close(h.background, (120 / 255, 180 / 255, 240 / 255), 0.01)
    assert close(h.palette[0], (90 / 255, 60 / 255, 30 / 255), 0.01)   # most frequent first


def test_stats_and_style_words():
    dark = bands([(20, 20, 40), (50, 30, 30), (10, 10, 10)], [40, 40, 40])
    h = im.read_reference(dark)
    assert h.brightness < 0.2 and "dark" in h.style_words and "bright" not in h.style_words

    pastel = bands([(250, 210, 220), (210, 235, 250), (240, 250, 210)], [40, 40, 40])
    h = im.read_reference(pastel)
    assert h.brightness > 0.8 and "bright" in h.style_words and "pastel" in h.style_words

    vivid = bands([(255, 0, 0), (0, 200, 0), (0, 0, 255)], [40, 40, 40])
    h = im.read_reference(vivid)
    assert h.saturation > 0.9 and "saturated" in h.style_words

    grey = np.repeat(np.tile(np.linspace(60, 200, 128).astype(np.uint8), (64, 1))[..., None], 3, axis=2)
    h = im.read_reference(grey)
    assert h.saturation == 0.0 and "monochrome" in h.style_words

    checker = ((np.indices((64, 64)).sum(axis=0) // 8) % 2 * 255).astype(np.uint8)
    h = im.read_reference(np.repeat(checker[..., None], 3, axis=2))
    assert h.contrast > 0.45 and "high contrast" in h.style_words and "monochrome" in h.style_words

    flat = np.full((32, 32, 3), (100, 120, 110), np.uint8)
    h = im.read_reference(flat)
    assert h.contrast == 0.0 and "low contrast" in h.style_words

    warm = bands([(230, 120, 40), (200, 80, 30), (240, 170, 60)], [40, 40, 40])
    cool = bands([(40, 120, 230), (30, 80, 200), (60, 170, 240)], [40, 40, 40])
    assert "warm" in im.read_reference(warm).style_words
    assert "cool" in im.read_reference(cool).style_words


def test_palette_always_has_3_to_8_colours():
    for arr in (np.full((32, 32, 3), 255, np.uint8), np.zeros((32, 32, 3), np.uint8),
                np.full((32, 32, 3), (10, 200, 90), np.uint8), bands([(0, 0, 0), (255, 255, 255)], [20, 20]),
                photo_like(), photo_like(seed=5)):
        h = im.read_reference(arr)
        assert 3 <= len(h.palette) <= 8
        assert all(len(c) == 3 and all(0 <= x <= 1 for x in c) for c in h.palette)
        assert 0 <= h.brightness <= 1 and 0 <= h.saturation <= 1 and 0 <= h.contrast <= 0.5


def test_reference_is_deterministic():
    a = photo_like(seed=7)
    h = im.read_reference(a)
    assert im.read_reference(a) == h and im.read_reference(a.copy()) == h
    assert h.style_words == im.read_reference(a).style_words


# ----------------------------------------------------------------------------------------------------
# loading and validation


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        im.load_image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match="not found"):
        im.read_sketch(str(tmp_path / "nope.png"))
    with pytest.raises(ValueError, match="not a file"):
        im.load_image(tmp_path)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.png"
    p.write_bytes(b"this is not a picture\n" * 10)
    with pytest.raises(ValueError, match="not an image"):
        im.load_image(p)
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="not an image"):
        im.read_reference(empty)
    truncated = tmp_path / "trunc.png"
    buf = io.BytesIO()
    Image.fromarray(photo_like()).save(buf, "PNG")
    truncated.write_bytes(buf.getvalue()[:2000])
    with pytest.raises(ValueError, match="not an image"):
        im.load_image(truncated)


def test_file_too_large(tmp_path, monkeypatch):
    p = tmp_path / "photo.png"
    Image.fromarray(photo_like()).save(p)
    assert im.MAX_FILE_BYTES == 20 * 1024 * 1024
    monkeypatch.setattr(im, "MAX_FILE_BYTES", 1000)
    with pytest.raises(ValueError, match="too large.*MB"):
        im.load_image(p)


def test_dimensions_too_large(tmp_path, monkeypatch):
    assert im.MAX_SIDE == 4096
    with pytest.raises(ValueError, match="too large.*4097x16"):
        im.load_image(np.zeros((16, 4097, 3), np.uint8))   # a real over-size array
    monkeypatch.setattr(im, "MAX_SIDE", 100)
    p = tmp_path / "wide.png"
    Image.new("RGB", (101, 50), "white").save(p)
    with pytest.raises(ValueError, match="too large.*101x50"):
        im.load_image(p)
    with pytest.raises(ValueError, match="too large"):
        im.read_sketch(np.zeros((120, 20, 3), np.uint8))
    assert im.load_image(np.zeros((100, 100, 3), np.uint8)).shape == (100, 100, 3)


def test_dimensions_too_small(tmp_path):
    with pytest.raises(ValueError, match="too small.*15x40"):
        im.load_image(np.zeros((40, 15, 3), np.uint8))
    p = tmp_path / "tiny.png"
    Image.new("RGB", (8, 8), "white").save(p)
    with pytest.raises(ValueError, match="too small"):
        im.read_reference(p)


@pytest.mark.parametrize("arr", [
    np.zeros((32, 32, 3), np.int64), np.zeros((32, 32, 3), np.uint16), np.zeros((32, 32, 3), bool),
    np.zeros((32, 32, 3), np.complex64),
])
def test_wrong_dtype(arr):
    with pytest.raises(ValueError, match="dtype"):
        im.load_image(arr)


@pytest.mark.parametrize("shape", [(32, 32, 2), (32, 32, 5), (32,), (2, 32, 32, 3), (32, 32, 3, 1)])
def test_wrong_shape(shape):
    with pytest.raises(ValueError, match="shape"):
        im.load_image(np.zeros(shape, np.uint8))


def test_bad_float_values_and_types():
    with pytest.raises(ValueError, match="0..1"):
        im.load_image(np.full((32, 32, 3), 255.0))
    with pytest.raises(ValueError, match="NaN"):
        im.load_image(np.full((32, 32, 3), np.nan))
    with pytest.raises(ValueError, match="path, a PIL image or a numpy array"):
        im.load_image([[0, 0, 0]] * 32)
    with pytest.raises(ValueError, match="numpy array"):
        im.read_image(b"\x89PNG")


def test_load_image_conversions(tmp_path):
    f = np.zeros((20, 30, 3))
    f[..., 0] = 1.0
    out = im.load_image(f)
    assert out.dtype == np.uint8 and out.shape == (20, 30, 3) and (out[..., 0] == 255).all()
    grey = np.full((20, 30), 7, np.uint8)
    assert (im.load_image(grey) == 7).all() and im.load_image(grey).shape == (20, 30, 3)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:10, :, 3] = 255                    # top half opaque red, bottom half transparent
    out = im.load_image(rgba)
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[-1, -1]) == (255, 255, 255)
    p = tmp_path / "t.png"
    Image.fromarray(rgba).save(p)
    assert (im.load_image(p) == out).all()
    p16 = tmp_path / "g16.png"
    Image.fromarray(np.full((20, 30), 65535, np.uint16)).save(p16)
    assert (im.load_image(p16) == 255).all()
    pal = Image.fromarray(out).convert("P")
    assert (im.load_image(pal) == out).all()


def test_transparent_sketch_is_read_over_white(tmp_path):
    img = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    ImageDraw.Draw(img).ellipse([40, 40, 100, 100], fill=(220, 30, 30, 255))
    p = tmp_path / "transparent.png"
    img.save(p)
    assert im.is_sketch(p)
    (s,) = im.read_sketch(p).shapes
    assert s.color_name == "red" and s.shape == "circle"


def test_inputs_are_not_modified():
    sk = np.asarray(layout_canvas().finish()).copy()
    rgba = np.dstack([sk, np.full(sk.shape[:2], 200, np.uint8)])
    flt = photo_like().astype(np.float32) / 255
    for arr in (sk, rgba, flt, photo_like()):
        before = arr.copy()
        flags = (arr.flags.writeable, arr.dtype, arr.shape)
        out = im.load_image(arr)
        assert not np.shares_memory(out, arr)
        im.is_sketch(arr)
        im.read_sketch(arr)
        im.read_reference(arr)
        im.read_image(arr)
        assert np.array_equal(arr, before) and (arr.flags.writeable, arr.dtype, arr.shape) == flags
    ro = sk.copy()
    ro.flags.writeable = False
    assert im.read_sketch(ro) == im.read_sketch(sk)     # read-only arrays work too


def test_speed_512():
    c = Canvas(512, 512)
    for i in range(6):
        c.circle(60 + 70 * i, 80, 20, RED)
        c.rotated_rect(60 + 70 * i, 300, 50, 20, 15 * i, BLUE)
    c.rect(20, 450, 490, 470, fill=BLACK)
    sketch = np.asarray(c.finish())
    photo = photo_like(512, 512)
    im.read_sketch(sketch), im.read_reference(photo)  # warm up
    for fn, arr in ((im.read_sketch, sketch), (im.read_reference, photo), (im.read_reference, sketch)):
        best = min(_timed(fn, arr) for _ in range(3))
        assert best < 1.0, (fn.__name__, best)   # ~50-100 ms on 2 cores; generous for loaded CI machines


def _timed(fn, arr) -> float:
    t = time.process_time()
    fn(arr)
    return time.process_time() - t
