"""Images given with a prompt: reference images become style hints, layout sketches become placements.

Two kinds of image are understood (:func:`read_image` tells them apart with :func:`is_sketch`):

- A **reference image** (a photo, concept art): :func:`read_reference` returns :class:`ImageHints` — a
  palette of 3..8 dominant colours (most frequent first), the background (the dominant colour of the
  image border), mean brightness and saturation, RMS contrast and a few style words for the renderer.
- A **top-down layout sketch**: coloured filled shapes (circles, rectangles, thick strokes) on a light,
  uniform background, drawn in any paint program. :func:`read_sketch` returns a :class:`Sketch` whose
  :class:`SketchShape` items say what was drawn where, in world units.

Conventions (see ``docs/sketches.md`` for the newcomer's version and the colour legend):

- The sketch is a top-down view: image right = world **+x**, image up = world **+y**.
- The image's longer side spans ``extent`` metres (default 10) and the image centre is the world
  origin, so a 800x400 px sketch covers x in [-5, 5], y in [-2.5, 2.5].
- ``center`` is the blob's centroid; ``size`` is (length along the main axis, width) — (diameter,
  diameter) for a circle; ``angle_deg`` is the main axis' direction, counter-clockwise from +x, in
  [0, 180) (0 for circles; for near-squares, sides within 5 %, reduced to [0, 90)).
- ``shape`` is ``"line"`` when length / width >= 4, ``"circle"`` when the blob fills about pi/4 of its
  minimal bounding box and is round, otherwise ``"rectangle"`` (its oriented box).
- A hollow rectangular outline (four walls drawn as one closed frame) becomes its four sides; a shape
  partly covered by another colour is measured as if whole (its holes are filled).

Guarantees: inputs are never modified; the same image always gives identical output; every float is
rounded (4 decimals; angles 2); at most :data:`MAX_SHAPES` shapes (the largest). :func:`load_image`
validates input and raises :class:`ValueError` naming the problem (missing file, not an image, too
large: more than :data:`MAX_SIDE` px a side or :data:`MAX_FILE_BYTES` bytes, too small: fewer than
:data:`MIN_SIDE` px a side, wrong array shape or dtype). Images with transparency are composited over
white. Nothing here prints or uses a model; numpy, scipy and Pillow only.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from scipy import ndimage
from scipy.spatial import ConvexHull, QhullError

__all__ = [
    "MAX_FILE_BYTES", "MAX_SHAPES", "MAX_SIDE", "MIN_SIDE", "RGB", "ImageHints", "Sketch", "SketchShape",
    "color_name", "is_sketch", "load_image", "read_image", "read_reference", "read_sketch",
]

RGB = tuple[float, float, float]

#: Largest accepted width or height in pixels.
MAX_SIDE = 4096
#: Smallest accepted width or height in pixels.
MIN_SIDE = 16
#: Largest accepted image file, in bytes (20 MB).
MAX_FILE_BYTES = 20 * 1024 * 1024
#: At most this many shapes are read from a sketch (the largest by pixel area).
MAX_SHAPES = 200

# --- sketch segmentation tuning (colours in 0..1 RGB, Euclidean distances) ---
_FG_TOL = 0.10          # a pixel this far from the background colour is ink
_UNIFORM_TOL = 30       # max channel spread (0..255) over a pixel and its 4 neighbours for a "core" pixel
_MERGE_TOL = 0.20       # core colours closer than this are one colour
_SEED_TOL = 0.25        # a core pixel seeds its nearest palette colour if within this
_MAX_COLORS = 32        # distinct ink colours considered
_GROW_RADIUS = 3.0      # anti-aliased edge pixels within this many px of a core are attached to it
_RESID_TOL = 0.30       # ... if they lie near the background→colour blend line
_CIRCLE_FILL = (0.70, 0.88)  # convex-hull area / minimal box area of a circle (pi/4 = 0.785)
_CIRCLE_ASPECT = 1.25
_LINE_ASPECT = 4.0
_SQUARE_ASPECT = 1.05

_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)


@dataclass(frozen=True)
class ImageHints:
    """What a reference image says about the look of a world (renderer hints).

    ``palette``: 3..8 dominant colours (k-means, deterministic), most frequent first; an image with
    fewer distinct colours is padded with lighter/darker shades of its main colour. ``background``:
    the dominant colour of the image border (sky, wall, paper). ``brightness``: mean luminance 0..1.
    ``saturation``: mean HSV saturation 0..1. ``contrast``: RMS contrast, the standard deviation of
    luminance (0..0.5). ``style_words``: words derived from those numbers, in this order: "dark" or
    "bright"; "monochrome", "muted", "pastel" and/or "saturated"; "high contrast" or "low contrast";
    "warm" or "cool". ``source``: the file name, or "array".
    """

    palette: tuple[RGB, ...]
    background: RGB
    brightness: float
    saturation: float
    contrast: float
    style_words: tuple[str, ...]
    source: str


@dataclass(frozen=True)
class SketchShape:
    """One shape of a layout sketch, in the sketch's world frame (see the module docstring).

    ``color``: mean colour of the blob's interior (anti-aliased edges excluded). ``color_name``: see
    :func:`color_name`. ``shape``: "circle", "rectangle" or "line" (length / width >= 4). ``center``:
    centroid in world units. ``size``: (length along the main axis, width); (diameter, diameter) for a
    circle. ``angle_deg``: main axis direction CCW from +x in [0, 180); 0 for circles. ``area_px``:
    pixels of the blob's colour.
    """

    color: RGB
    color_name: str
    shape: str
    center: tuple[float, float]
    size: tuple[float, float]
    angle_deg: float
    area_px: int


@dataclass(frozen=True)
class Sketch:
    """A top-down layout sketch read into shapes.

    ``shapes`` are sorted by colour name, then x, then y. ``extent`` is the (width, height) covered in
    world units: the longer side equals the ``extent`` given to :func:`read_sketch`.
    """

    shapes: tuple[SketchShape, ...]
    width_px: int
    height_px: int
    extent: tuple[float, float]


# ----------------------------------------------------------------------------------------------------
# loading and validation


def _check_dims(width: int, height: int, name: str) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise ValueError(f"image too large: {name} is {width}x{height} px; the limit is {MAX_SIDE}x{MAX_SIDE}")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ValueError(f"image too small: {name} is {width}x{height} px; at least {MIN_SIDE}x{MIN_SIDE} needed")


def _composite_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``rgb`` (float 0..255) over a white background with ``alpha`` (float 0..1) → uint8."""
    out = rgb * alpha[..., None] + 255.0 * (1.0 - alpha[..., None])
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _from_pil(im: Image.Image, name: str) -> np.ndarray:
    _check_dims(im.width, im.height, name)
    im = ImageOps.exif_transpose(im)
    _check_dims(im.width, im.height, name)
    mode = im.mode
    if mode.startswith("I") or mode == "F":  # 16/32-bit integer or float grey
        a = np.asarray(im, dtype=np.float64)
        if mode.startswith("I;16") or (mode == "I" and a.size and a.max() > 255):
            a = a / 257.0
        elif mode == "F" and a.size and a.max() <= 1.0:
            a = a * 255.0
        g = np.clip(np.rint(a), 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info:
        rgba = np.asarray(im.convert("RGBA"), dtype=np.float32)
        return _composite_white(rgba[..., :3], rgba[..., 3] / 255.0)
    return np.array(im.convert("RGB"), dtype=np.uint8)


def _load_path(path: Path) -> np.ndarray:
    if not path.exists():
        raise ValueError(f"image file not found: {path}")
    if not path.is_file():
        raise ValueError(f"image path is not a file: {path}")
    nbytes = path.stat().st_size
    if nbytes > MAX_FILE_BYTES:
        raise ValueError(f"image file too large: {path.name} is {nbytes / 1e6:.1f} MB; "
                         f"the limit is {MAX_FILE_BYTES / 1e6:.1f} MB")
    if nbytes == 0:
        raise ValueError(f"not an image: {path.name} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                _check_dims(im.width, im.height, path.name)
                return _from_pil(im, path.name)
    except UnidentifiedImageError:
        raise ValueError(f"not an image: {path.name} is not in a format Pillow can read (PNG, JPEG, ...)") from None
    except Image.DecompressionBombError:
        raise ValueError(f"image too large: {path.name}; the limit is {MAX_SIDE}x{MAX_SIDE} px") from None
    except OSError as exc:
        raise ValueError(f"not an image: {path.name} could not be decoded ({exc})") from None


def _from_array(a: np.ndarray) -> np.ndarray:
    floating = np.issubdtype(a.dtype, np.floating)
    if not (a.dtype == np.uint8 or floating):
        raise ValueError(f"image array dtype {a.dtype} is not supported: use uint8 (0..255) or float (0..1)")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"image array must have shape (H, W, 3) or (H, W, 4) (or (H, W) grey); got {a.shape}")
    _check_dims(a.shape[1], a.shape[0], "the array")
    if floating:
        if not np.isfinite(a).all():
            raise ValueError("image array contains NaN or infinite values")
        lo, hi = float(a.min()), float(a.max())
        if lo < -1e-3 or hi > 1.0 + 1e-3:
            raise ValueError(f"float image values must lie in 0..1; got {lo:.4g}..{hi:.4g} (uint8 arrays take 0..255)")
        f = np.clip(a.astype(np.float32), 0.0, 1.0) * 255.0
    else:
        f = None
    if a.ndim == 2:
        g = np.clip(np.rint(f), 0, 255).astype(np.uint8) if floating else a
        return np.repeat(g[..., None], 3, axis=2)  # always a new array
    if a.shape[2] == 4:
        rgba = f if floating else a.astype(np.float32)
        alpha = rgba[..., 3] / 255.0
        return _composite_white(rgba[..., :3], alpha)
    if floating:
        return np.clip(np.rint(f), 0, 255).astype(np.uint8)
    return np.array(a, dtype=np.uint8, copy=True, order="C")


def load_image(image: Any) -> np.ndarray:
    """Loads and validates an image: a path (str / Path), a PIL image or a numpy array → (H, W, 3) uint8.

    Arrays may be (H, W, 3|4) or (H, W) grey, uint8 (0..255) or float (0..1). Alpha is composited over
    white; EXIF orientation is applied. The result is always a new array (the input is never modified).
    Raises :class:`ValueError` naming the problem: missing file, not an image, too large (more than
    :data:`MAX_SIDE` px a side or :data:`MAX_FILE_BYTES` bytes), too small (under :data:`MIN_SIDE` px a
    side), wrong shape, dtype or value range.
    """
    if isinstance(image, (str, os.PathLike)):
        return _load_path(Path(image))
    if isinstance(image, Image.Image):
        return _from_pil(image, Path(getattr(image, "filename", "") or "the PIL image").name)
    if isinstance(image, np.ndarray):
        return _from_array(image)
    raise ValueError(f"image must be a file path, a PIL image or a numpy array; got {type(image).__name__}")


def _source_name(image: Any) -> str:
    if isinstance(image, (str, os.PathLike)):
        return Path(image).name
    if isinstance(image, Image.Image) and getattr(image, "filename", ""):
        return Path(image.filename).name
    return "array"


# ----------------------------------------------------------------------------------------------------
# colours


def color_name(rgb: RGB) -> str:
    """The nearest plain colour name of ``rgb`` (0..1), by hue, saturation and value.

    One of: red, orange, yellow, green, cyan, blue, purple, magenta, pink, brown, black, grey, white
    (all keys of :data:`reasoner.knowledge.COLORS`).
    """
    r, g, b = (min(1.0, max(0.0, float(c))) for c in rgb)
    v, lo = max(r, g, b), min(r, g, b)
    c = v - lo
    if v < 0.18:
        return "black"
    if c < 0.1 or (c / v) < 0.12:
        return "white" if v > 0.88 else ("black" if v < 0.28 else "grey")
    s = c / v
    if v == r:
        h = (60.0 * (g - b) / c) % 360.0
    elif v == g:
        h = 60.0 * (b - r) / c + 120.0
    else:
        h = 60.0 * (r - g) / c + 240.0
    if h >= 345.0 or h < 15.0:
        if v < 0.75 and s < 0.85:
            return "brown"
        return "pink" if (s < 0.5 and v > 0.75) else "red"
    if h < 45.0:
        return "brown" if v < 0.75 else "orange"
    if h < 70.0:
        if v < 0.6:
            return "brown" if h < 55.0 else "green"
        return "yellow"
    if h < 165.0:
        return "green"
    if h < 200.0:
        return "cyan"
    if h < 260.0:
        return "blue"
    if h < 290.0:
        return "purple"
    if v < 0.65:
        return "purple"
    return "magenta" if h < 315.0 else "pink"


def _quantise(px: np.ndarray, bits: int) -> np.ndarray:
    """uint8 (N, 3) → bin index with ``bits`` bits per channel."""
    q = (px >> (8 - bits)).astype(np.int64)
    return (q[:, 0] << (2 * bits)) | (q[:, 1] << bits) | q[:, 2]


def _border(img: np.ndarray, frac: float) -> np.ndarray:
    """Pixels of the outer frame of ``img`` (``frac`` of the shorter side thick) as (N, 3) uint8."""
    h, w = img.shape[:2]
    t = max(1, int(round(min(h, w) * frac)))
    parts = [img[:t].reshape(-1, 3), img[h - t:].reshape(-1, 3),
             img[t:h - t, :t].reshape(-1, 3), img[t:h - t, w - t:].reshape(-1, 3)]
    return np.concatenate(parts)


def _background(img: np.ndarray) -> np.ndarray:
    """The most common border colour (median of the border's modal 4-bit bin) as float64 0..1."""
    px = _border(img, 0.02)
    q = _quantise(px, 4)
    mode = int(np.bincount(q, minlength=4096).argmax())
    return np.median(px[q == mode].astype(np.float64), axis=0) / 255.0


# ----------------------------------------------------------------------------------------------------
# sketch / reference detection


def is_sketch(img: Any) -> bool:
    """True if ``img`` looks like a layout sketch rather than a photo.

    A sketch has a light (near-white) uniform background covering at least 55 % of the pixels and few
    distinct colours (24 coarse colour bins cover 90 % of the image). Accepts anything
    :func:`load_image` does.
    """
    a = load_image(img)
    bg = _background(a)
    if float(bg @ _LUMA.astype(np.float64)) < 0.7 or float(bg.max() - bg.min()) > 0.2:
        return False
    near = (np.abs(a.astype(np.int16) - np.rint(bg * 255).astype(np.int16)).max(axis=2) <= 30)
    if near.mean() < 0.55:
        return False
    counts = np.sort(np.bincount(_quantise(a.reshape(-1, 3), 3), minlength=512))[::-1]
    return bool(counts[:24].sum() >= 0.9 * a.shape[0] * a.shape[1])


# ----------------------------------------------------------------------------------------------------
# sketches


def _sketch_palette(core: np.ndarray, min_count: int) -> np.ndarray:
    """Distinct ink colours among core pixels (uint8 (N, 3)) as float (K, 3) 0..1, most common first."""
    if core.shape[0] == 0:
        return np.zeros((0, 3))
    q = _quantise(core, 4)
    counts = np.bincount(q, minlength=4096)
    sums = np.stack([np.bincount(q, weights=core[:, c].astype(np.float64), minlength=4096) for c in range(3)], 1)
    palette: list[np.ndarray] = []
    for b in np.argsort(-counts, kind="stable"):
        if counts[b] < min_count or len(palette) >= _MAX_COLORS:
            break
        mean = sums[b] / counts[b] / 255.0
        if all(np.linalg.norm(mean - p) >= _MERGE_TOL for p in palette):
            palette.append(mean)
    return np.array(palette).reshape(-1, 3)


def _nearest(px: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest of ``centers`` for each row of ``px`` (both float)."""
    d2 = np.zeros((px.shape[0], centers.shape[0]), dtype=np.float64)
    for c in range(3):  # per channel: avoids an (N, K, 3) temporary and a slow reduction over a tiny axis
        d2 += (px[:, c, None] - centers[None, :, c]) ** 2
    idx = d2.argmin(axis=1)
    return idx, np.sqrt(d2[np.arange(px.shape[0]), idx])


def _segment(img: np.ndarray, min_area_px: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Labels blobs: returns (labels (H, W) int32, blob colours (n+1, 3), ink mask, core labels)."""
    f = img.astype(np.float32) / 255.0
    bg = _background(img).astype(np.float32)
    diff = f - bg
    ink = np.einsum("ijk,ijk->ij", diff, diff) > _FG_TOL ** 2
    cross = ndimage.generate_binary_structure(2, 1)
    spread = np.zeros(img.shape[:2], dtype=np.int16)
    for c in range(3):
        ch = img[..., c]
        spread = np.maximum(spread, ndimage.maximum_filter(ch, footprint=cross).astype(np.int16)
                            - ndimage.minimum_filter(ch, footprint=cross).astype(np.int16))
    core = ink & (spread <= _UNIFORM_TOL)
    cy, cx = np.nonzero(core)
    empty = np.zeros(img.shape[:2], dtype=np.int32)
    palette = _sketch_palette(img[cy, cx], max(4, min_area_px // 10))
    if palette.shape[0] == 0:
        return empty, np.zeros((1, 3)), ink, empty
    cpx = f[cy, cx].astype(np.float64)
    idx, _ = _nearest(cpx, palette)
    for k in range(palette.shape[0]):  # one refinement step: palette = mean of its core pixels
        sel = idx == k
        if sel.any():
            palette[k] = cpx[sel].mean(axis=0)
    idx, dist = _nearest(cpx, palette)
    keep = dist <= _SEED_TOL
    cy, cx, idx = cy[keep], cx[keep], idx[keep]
    colour_map = np.full(img.shape[:2], -1, dtype=np.int32)
    colour_map[cy, cx] = idx
    seeds = np.zeros(img.shape[:2], dtype=np.int32)
    eight = np.ones((3, 3), dtype=bool)
    n = 0
    for k in range(palette.shape[0]):
        ys, xs = cy[idx == k], cx[idx == k]
        if ys.size == 0:
            continue
        r0, r1, c0, c1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
        lab, m = ndimage.label(colour_map[r0:r1, c0:c1] == k, structure=eight)
        if m == 0:
            continue
        sub = seeds[r0:r1, c0:c1]
        sub[lab > 0] = lab[lab > 0] + n
        n += m
    if n == 0:
        return empty, np.zeros((1, 3)), ink, empty
    # blob colour = mean of its core pixels
    flat = seeds.ravel()
    cnt = np.bincount(flat, minlength=n + 1).astype(np.float64)
    colours = np.stack([np.bincount(flat, weights=f[..., c].ravel(), minlength=n + 1) for c in range(3)], 1)
    colours = colours / np.maximum(cnt, 1.0)[:, None]
    # attach anti-aliased edge pixels to the nearest core when they are at least half that colour
    edt, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
    gy, gx = np.nonzero((seeds == 0) & ink & (edt <= _GROW_RADIUS))
    labels = seeds.copy()
    if gy.size:
        nid = seeds[iy[gy, gx], ix[gy, gx]]
        v = colours[nid].astype(np.float32) - bg
        w = f[gy, gx] - bg
        vv = np.maximum((v * v).sum(axis=1), 1e-6)
        alpha = (w * v).sum(axis=1) / vv
        resid = np.sqrt(((w - alpha[:, None] * v) ** 2).sum(axis=1))
        ok = (alpha >= 0.5) & (resid <= _RESID_TOL)
        labels[gy[ok], gx[ok]] = nid[ok]
    return labels, colours, ink, seeds


def _min_rect_angle(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float]:
    """(angle in radians in [0, pi/2), hull area / minimal box area) of the pixel centres given."""
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    pts = pts - pts.mean(axis=0)
    try:
        hull = ConvexHull(pts)
    except (QhullError, ValueError):  # collinear: a 1-pixel line
        return 0.0, 1.0
    hp = pts[hull.vertices]
    edges = np.roll(hp, -1, axis=0) - hp
    angles = np.unique(np.round(np.arctan2(edges[:, 1], edges[:, 0]) % (np.pi / 2), 12))
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    u = hp[None, :, 0] * cos + hp[None, :, 1] * sin
    v = -hp[None, :, 0] * sin + hp[None, :, 1] * cos
    areas = (u.max(axis=1) - u.min(axis=1)) * (v.max(axis=1) - v.min(axis=1))
    best = int(np.argmin(np.round(areas, 9)))
    return float(angles[best]), float(hull.volume / max(areas[best], 1e-9))


def _measure(g: np.ndarray) -> dict:
    """Geometry of a filled blob mask: pixel units, origin at its bounding box's top-left corner, y up."""
    rows, cols = np.nonzero(g)
    xs = cols + 0.5
    ys = -(rows + 0.5)  # y up
    mx, my = float(xs.mean()), float(ys.mean())
    dx, dy = xs - mx, ys - my
    cxx, cyy, cxy = float((dx * dx).mean()) + 1 / 12, float((dy * dy).mean()) + 1 / 12, float((dx * dy).mean())
    tr, det = cxx + cyy, cxx * cyy - cxy * cxy
    disc = math.sqrt(max(tr * tr / 4 - det, 0.0))
    lam1, lam2 = tr / 2 + disc, max(tr / 2 - disc, 1e-12)
    edge = g & ~ndimage.binary_erosion(g, border_value=0)
    er, ec = np.nonzero(edge)
    rect_angle, fill = _min_rect_angle(ec + 0.5, -(er + 0.5))
    if lam1 / lam2 >= 1.3:  # clearly elongated: principal axis
        angle = 0.5 * math.atan2(2 * cxy, cxx - cyy)
    else:  # near-square: PCA is degenerate, use the minimal box
        angle = rect_angle
    ca, sa = math.cos(angle), math.sin(angle)
    var_u = float(((dx * ca + dy * sa) ** 2).mean()) + 1 / 12
    var_v = float(((-dx * sa + dy * ca) ** 2).mean()) + 1 / 12
    length, width = math.sqrt(12 * var_u), math.sqrt(12 * var_v)
    if width > length:
        length, width, angle = width, length, angle + math.pi / 2
    return {"cx": mx, "cy": my, "length": length, "width": width, "angle": angle, "fill": fill,
            "elong": math.sqrt(lam1 / lam2), "area": int(rows.size)}


def _classify(geo: dict) -> str:
    if geo["elong"] >= _LINE_ASPECT or geo["length"] >= _LINE_ASPECT * geo["width"]:
        return "line"
    if _CIRCLE_FILL[0] <= geo["fill"] < _CIRCLE_FILL[1] and geo["elong"] < _CIRCLE_ASPECT:
        return "circle"
    return "rectangle"


def _part(shape: str, cx: float, cy: float, length: float, width: float, angle: float, area: int) -> dict:
    if shape == "circle":
        return {"shape": shape, "cx": cx, "cy": cy, "size": (length, length), "angle": 0.0, "area": area}
    deg = math.degrees(angle) % 180.0
    if length < _SQUARE_ASPECT * width:
        deg %= 90.0
    return {"shape": shape, "cx": cx, "cy": cy, "size": (length, width), "angle": deg, "area": area}


def _analyse(m: np.ndarray, ink: np.ndarray) -> list[dict]:
    """One blob mask (its bounding box) → shape parts in bbox pixel coords (x right, y up from the top)."""
    area = int(m.sum())
    filled = ndimage.binary_fill_holes(m)
    holes = filled & ~m
    n_holes = int(holes.sum())
    hollow = n_holes > 0 and (holes & ~ink).sum() > 0.5 * n_holes and n_holes >= 0.05 * filled.sum()
    geo = _measure(filled)
    shape = _classify(geo)
    if hollow and shape == "rectangle" and geo["fill"] >= _CIRCLE_FILL[1]:
        length, width, a = geo["length"], geo["width"], geo["angle"]
        s = length + width
        t = (s - math.sqrt(max(s * s - 4 * area, 0.0))) / 4
        if 0 < t < width / 2:
            ux, uy, vx, vy = math.cos(a), math.sin(a), -math.sin(a), math.cos(a)
            sides = [(geo["cx"] + k * (width - t) / 2 * vx, geo["cy"] + k * (width - t) / 2 * vy, length, a)
                     for k in (1, -1)]
            sides += [(geo["cx"] + k * (length - t) / 2 * ux, geo["cy"] + k * (length - t) / 2 * uy,
                       width - 2 * t, a + math.pi / 2) for k in (1, -1)]
            total = sum(side[2] for side in sides)
            parts = []
            for cx, cy, ln, ang in sides:
                lw = (ln, t) if ln >= t else (t, ln)
                kind = "line" if lw[0] >= _LINE_ASPECT * lw[1] else "rectangle"
                parts.append(_part(kind, cx, cy, lw[0], lw[1], ang if ln >= t else ang + math.pi / 2,
                                   int(round(area * ln / total))))
            return parts
    if shape == "circle":
        return [_part("circle", geo["cx"], geo["cy"], 2 * math.sqrt(geo["area"] / math.pi), 0.0, 0.0, area)]
    return [_part(shape, geo["cx"], geo["cy"], geo["length"], geo["width"], geo["angle"], area)]


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd) + 0.0  # + 0.0 turns -0.0 into 0.0


def read_sketch(image: Any, *, extent: float = 10.0, min_area_frac: float = 0.0005) -> Sketch:
    """Reads a top-down layout sketch into shapes placed in world units.

    ``extent``: metres spanned by the image's longer side (the image centre is the world origin;
    image right = +x, image up = +y). Blobs smaller than ``min_area_frac`` of the image (and than
    4 px) are ignored; at most :data:`MAX_SHAPES` (the largest) are kept. Anti-aliased edges are
    attached to the shape they border, so they never become blobs of their own. Same-coloured shapes
    that touch are one blob. Strokes should be at least ~5 px wide. Accepts anything :func:`load_image`
    does.
    """
    if not (isinstance(extent, numbers.Real) and not isinstance(extent, bool) and math.isfinite(extent) and extent > 0):
        raise ValueError(f"extent must be a positive number of metres; got {extent!r}")
    if not (isinstance(min_area_frac, numbers.Real) and not isinstance(min_area_frac, bool) and 0 <= min_area_frac < 1):
        raise ValueError(f"min_area_frac must be in [0, 1); got {min_area_frac!r}")
    img = load_image(image)
    h, w = img.shape[:2]
    min_area_px = max(4, int(math.ceil(min_area_frac * h * w)))
    labels, colours, ink, seeds = _segment(img, min_area_px)
    areas = np.bincount(labels.ravel(), minlength=colours.shape[0])
    big = np.flatnonzero(areas >= min_area_px)
    big = big[big > 0]
    remap = np.zeros(colours.shape[0], dtype=np.int32)  # drop small blobs before find_objects (noise: many)
    remap[big] = np.arange(1, big.size + 1, dtype=np.int32)
    labels = remap[labels]
    colours = colours[np.concatenate([[0], big])]
    raw: list[dict] = []
    for lab, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        m = labels[sl] == lab
        r0, c0 = sl[0].start, sl[1].start
        rgb = tuple(_r(c) for c in colours[lab])
        name = color_name(rgb)
        for p in _analyse(m, ink[sl]):
            p["x_px"], p["y_px"] = c0 + p["cx"], (h - r0) + p["cy"]  # y up, from the bottom edge
            p["rgb"], p["name"] = rgb, name
            raw.append(p)
    raw.sort(key=lambda p: (-p["area"], p["x_px"], p["y_px"]))
    raw = raw[:MAX_SHAPES]
    scale = float(extent) / max(h, w)
    shapes = []
    for p in raw:
        shapes.append(SketchShape(
            color=p["rgb"], color_name=p["name"], shape=p["shape"],
            center=(_r((p["x_px"] - w / 2) * scale), _r((p["y_px"] - h / 2) * scale)),
            size=(_r(p["size"][0] * scale), _r(p["size"][1] * scale)),
            angle_deg=round(round(p["angle"], 2) % 180.0, 2) + 0.0, area_px=int(p["area"])))
    shapes.sort(key=lambda s: (s.color_name, s.center[0], s.center[1], s.shape, s.size, s.angle_deg, s.color))
    return Sketch(shapes=tuple(shapes), width_px=w, height_px=h, extent=(_r(w * scale), _r(h * scale)))


# ----------------------------------------------------------------------------------------------------
# reference images


def _kmeans_palette(px: np.ndarray, k: int = 8, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means of float (N, 3) colours → (centres (K, 3), counts (K,)), most frequent first."""
    u8 = np.clip(np.rint(px * 255), 0, 255).astype(np.uint8)
    q = _quantise(u8, 4)
    counts = np.bincount(q, minlength=4096)
    sums = np.stack([np.bincount(q, weights=px[:, c], minlength=4096) for c in range(3)], 1)
    centres: list[np.ndarray] = []
    for b in np.argsort(-counts, kind="stable"):
        if counts[b] == 0 or len(centres) >= k:
            break
        mean = sums[b] / counts[b]
        if all(np.linalg.norm(mean - c) >= 0.12 for c in centres):
            centres.append(mean)
    cen = np.array(centres)
    for _ in range(iters):
        lab, _ = _nearest(px, cen)
        n = np.bincount(lab, minlength=cen.shape[0]).astype(np.float64)
        new = np.stack([np.bincount(lab, weights=px[:, c], minlength=cen.shape[0]) for c in range(3)], 1)
        new = np.where(n[:, None] > 0, new / np.maximum(n, 1)[:, None], cen)
        done = np.abs(new - cen).max() < 1e-7
        cen = new
        if done:
            break
    lab, _ = _nearest(px, cen)
    n = np.bincount(lab, minlength=cen.shape[0])
    order = sorted(range(cen.shape[0]), key=lambda i: (-n[i], tuple(cen[i])))
    # merge near-duplicates into the more frequent one
    kept_c: list[np.ndarray] = []
    kept_n: list[int] = []
    for i in order:
        if n[i] == 0:
            continue
        for j, c in enumerate(kept_c):
            if np.linalg.norm(c - cen[i]) < 0.08:
                kept_c[j] = (c * kept_n[j] + cen[i] * n[i]) / (kept_n[j] + n[i])
                kept_n[j] += int(n[i])
                break
        else:
            kept_c.append(cen[i].copy())
            kept_n.append(int(n[i]))
    return np.array(kept_c), np.array(kept_n)


def _style_words(brightness: float, saturation: float, contrast: float, warmth: float) -> tuple[str, ...]:
    words = []
    if brightness < 0.3:
        words.append("dark")
    elif brightness > 0.65:
        words.append("bright")
    if saturation < 0.08:
        words.append("monochrome")
    elif saturation < 0.25:
        words.append("muted")
    if brightness > 0.65 and 0.1 <= saturation < 0.45:
        words.append("pastel")
    if saturation >= 0.5:
        words.append("saturated")
    if contrast >= 0.28:
        words.append("high contrast")
    elif contrast <= 0.06:
        words.append("low contrast")
    if saturation >= 0.15 and warmth >= 0.1:
        words.append("warm")
    elif saturation >= 0.15 and warmth <= -0.1:
        words.append("cool")
    return tuple(words)


def read_reference(image: Any) -> ImageHints:
    """Reads a reference image (photo, concept art) into :class:`ImageHints` for the renderer.

    The palette comes from a deterministic k-means (k = 8, initialised from the most populated colour
    bins) on at most ~16k evenly strided pixels; clusters closer than 0.08 merge, clusters under 0.5 %
    of the pixels are dropped unless needed to reach 3 colours. Accepts anything :func:`load_image` does.
    """
    img = load_image(image)
    h, w = img.shape[:2]
    f = img.astype(np.float32) / 255.0
    lum = f @ _LUMA
    mx, mn = f.max(axis=2), f.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    brightness = float(lum.mean(dtype=np.float64))
    saturation = float(sat.mean(dtype=np.float64))
    contrast = float(lum.std(dtype=np.float64))
    warmth = float((f[..., 0] - f[..., 2]).mean(dtype=np.float64))
    step = max(1, int(math.ceil(math.sqrt(h * w / 16384))))
    sample = f[::step, ::step].reshape(-1, 3).astype(np.float64)
    cen, n = _kmeans_palette(sample)
    share = n / n.sum()
    keep = [i for i in range(len(n)) if share[i] >= 0.005 or i < 3][:8]
    cols = [cen[i] for i in keep]
    base = cols[0]
    for shade in (base + (1 - base) * 0.5, base * 0.5, base + (1 - base) * 0.8, base * 0.2):
        if len(cols) >= 3:
            break
        if all(np.linalg.norm(shade - c) >= 0.02 for c in cols):
            cols.append(shade)
    while len(cols) < 3:  # pure white/black: shades coincide
        cols.append(base.copy())
    palette = tuple(tuple(_r(x) for x in c) for c in cols)
    border = _border(img, 0.05).astype(np.float64) / 255.0
    pal = np.array(cols)
    bidx, _ = _nearest(border, pal)
    top = int(np.bincount(bidx, minlength=len(pal)).argmax())
    background = tuple(_r(x) for x in border[bidx == top].mean(axis=0))
    return ImageHints(palette=palette, background=background, brightness=_r(brightness),
                      saturation=_r(saturation), contrast=_r(contrast),
                      style_words=_style_words(brightness, saturation, contrast, warmth),
                      source=_source_name(image))


def read_image(image: Any) -> ImageHints | Sketch:
    """Reads ``image`` as a :class:`Sketch` if :func:`is_sketch` says so, else as :class:`ImageHints`."""
    img = load_image(image)
    if is_sketch(img):
        return read_sketch(img)
    hints = read_reference(img)
    name = _source_name(image)
    return hints if hints.source == name else dataclasses.replace(hints, source=name)
