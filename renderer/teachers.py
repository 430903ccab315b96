"""Teacher renderers: slow, offline, high-quality styles computed from a :class:`renderer.gbuffer.GBuffer`.

They define what each style looks like; the restyler learns to reproduce them from cheap G-buffers.

Contract:

- :func:`teach` ``(gb, style, *, palette, light_dir, seed, scene) -> uint8 (H, W, 3)``. ``style`` is one of
  :data:`STYLES` or ``"palette"`` (with ``palette=[(r, g, b), ...]``, floats 0..1, e.g.
  ``reasoner.images.read_reference(img).palette``) or ``"palette:#rrggbb,#rrggbb,..."``.
- Deterministic: the same G-buffer, style, palette, light and seed give identical pixels. Nothing is
  global; random sample patterns come from ``numpy.random.default_rng(seed)`` and per-pixel hashes.
- Rays (shadows, ambient occlusion, reflections) are cast against ``scene`` (default ``gb.scene``, the
  :class:`renderer.gbuffer.Scene` the G-buffer was cast against). ``realistic`` needs one; the other styles
  use hard or soft shadows when one is available and plain lighting otherwise.
- ``light_dir`` points from the scene towards the sun (world frame, normalised here).
- Cost grows with pixels: ``realistic`` takes one to two CPU seconds at 256², ``painterly`` about one, the
  others a fraction of a second (docs/rendering.md). Unknown styles raise ValueError listing the styles.

Styles:

- ``realistic``: linear-light shading — Lambert sun with soft shadows (an area sun, stratified shadow
  rays), hemisphere sky light with ray-traced ambient occlusion, Blinn-Phong highlights with Schlick
  Fresnel, one traced mirror bounce for glossy looks, procedural materials by ``looks`` (wood rings and
  planks, brushed metal, felt/grass/cloth fibre noise, stone, ice/glass tint and rim), sky gradient with a
  sun glow, aerial haze, a filmic tone curve and sRGB gamma, edge anti-aliasing.
- ``toon``: cel shading in three light bands (plus a highlight band on glossy looks, hard cast shadows)
  and ink outlines from segmentation, depth (second derivative of inverse depth, so planes give none)
  and normal creases.
- ``pixel``: the G-buffer point-sampled at 1/4 resolution, three light bands (hard shadows, glints),
  quantised in OKLab to a 16-colour palette (PICO-8's, or ``palette``), dark outlines just outside
  silhouettes, nearest upscale: every aligned 4×4 block is one colour.
- ``painterly``: warm-light / cool-shadow soft shading, a Kuwahara filter, then oriented brush strokes
  (seeded) following the image's edges, mostly within each shape, on a canvas weave.
- ``palette``: soft lighting mapped onto the given palette by luminance and hue (each palette colour
  sits at its luminance in a gradient; pixels pick the nearest colour with ordered dithering), with
  outlines in the darkest colour: every pixel is a palette colour.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from renderer.gbuffer import BOX as _BOX_KIND, PLANE as _PLANE_KIND, GBuffer, Scene, _dot, _mat, _shift, geometry_edges

#: The named styles; ``"palette"`` / ``"palette:#rrggbb,..."`` come on top.
STYLES = ("realistic", "toon", "pixel", "painterly")
#: Towards the sun, world frame: high, from behind-left of a camera looking down +x.
DEFAULT_LIGHT = (-0.4, -0.3, 0.85)

#: the ``pixel`` style's block side: every aligned block of this many pixels a side is one colour
PIXEL_BLOCK = 4
#: PICO-8's 16 colours (0..1 RGB), the ``pixel`` style's default palette.
PICO8 = tuple(tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)) for h in (
    "000000", "1d2b53", "7e2553", "008751", "ab5236", "5f574f", "c2c3c7", "fff1e8",
    "ff004d", "ffa300", "ffec27", "00e436", "29adff", "83769c", "ff77a8", "ffccaa"))

_LUMA = np.array([0.2126, 0.7152, 0.0722])
_OKLAB_M1 = np.array([[0.4122214708, 0.5363325363, 0.0514459929], [0.2119034982, 0.6806995451, 0.1073969566],
                      [0.0883024619, 0.2817188376, 0.6299787005]])
_OKLAB_M2 = np.array([[0.2104542553, 0.7936177850, -0.0040720468], [1.9779984951, -2.4285922050, 0.4505937099],
                      [0.0259040371, 0.7827717662, -0.8086757660]])
_BAYER4 = (np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) + 0.5) / 16 - 0.5

# material classes by look (appearance.look); anything else is PLAIN
PLAIN, WOOD, METAL, PLASTIC, RUBBER, CLOTH, STONE, GLASS, GLOW = range(9)
_LOOK_CLASS = {
    "wood": WOOD, "metal": METAL, "gold": METAL, "brass": METAL, "steel": METAL, "chrome": METAL,
    "plastic": PLASTIC, "ceramic": PLASTIC, "paint": PLASTIC, "marble": STONE,
    "rubber": RUBBER, "foam": RUBBER, "leather": RUBBER, "skin": RUBBER, "organic": RUBBER,
    "felt": CLOTH, "cloth": CLOTH, "grass": CLOTH, "cushion": CLOTH, "carpet": CLOTH, "paper": CLOTH,
    "cardboard": CLOTH, "snow": CLOTH,
    "stone": STONE, "concrete": STONE, "clay": STONE,
    "ice": GLASS, "glass": GLASS, "glow": GLOW,
}
# per class: specular F0 (dielectrics), shininess, mirror-reflection weight, metallic
_MAT = {
    PLAIN: (0.04, 40.0, 0.0, 0.0), WOOD: (0.04, 60.0, 0.15, 0.0), METAL: (0.9, 300.0, 1.0, 1.0),
    PLASTIC: (0.05, 250.0, 0.8, 0.0), RUBBER: (0.03, 12.0, 0.0, 0.0), CLOTH: (0.0, 4.0, 0.0, 0.0),
    STONE: (0.04, 30.0, 0.0, 0.0), GLASS: (0.06, 500.0, 1.0, 0.0), GLOW: (0.0, 4.0, 0.0, 0.0),
}

#: number of material classes (the background of :func:`material_classes` is this value by default)
N_MATERIALS = len(_MAT)


def material_classes(gb: GBuffer, background: int = N_MATERIALS) -> np.ndarray:
    """Per-pixel material class (H, W) int64 of ``gb``: each entity's ``appearance.look`` mapped to a class
    (:data:`PLAIN` … :data:`GLOW`, unknown looks are PLAIN) through the segmentation map; ``background``
    where no entity was hit."""
    lut = np.array([_LOOK_CLASS.get(look.lower(), PLAIN) for look in gb.looks] + [background], dtype=np.int64)
    seg = gb.segmentation
    return lut[np.where(seg >= 0, seg, len(gb.looks))]


def teach(gb: GBuffer, style: str, *, palette: Sequence[Sequence[float]] | None = None,
          light_dir: Sequence[float] = DEFAULT_LIGHT, seed: int = 0, scene: Scene | None = None) -> np.ndarray:
    """``gb`` rendered in ``style`` as uint8 (H, W, 3). See the module docstring for styles and guarantees."""
    if not isinstance(style, str):
        raise ValueError(f"style must be a string; styles: {_style_list()}")
    name, _, arg = style.partition(":")
    if name == "palette":
        pal = _parse_palette(arg) if arg else palette
        if pal is None:
            raise ValueError("the palette style needs palette=[(r, g, b), ...] or 'palette:#rrggbb,#rrggbb,...'")
        palette = pal
    elif name not in STYLES or arg:
        raise ValueError(f"unknown style {style!r}; styles: {_style_list()}")
    pal_arr = None if palette is None else _check_palette(palette)
    light = np.asarray(light_dir, dtype=np.float64)
    if light.shape != (3,) or not np.isfinite(light).all() or np.linalg.norm(light) == 0:
        raise ValueError(f"light_dir must be three finite numbers, not all zero; got {light_dir!r}")
    ctx = _Context(gb, scene if scene is not None else gb.scene, light / np.linalg.norm(light), int(seed))
    if name == "realistic":
        out = _realistic(ctx)
    elif name == "toon":
        out = _toon(ctx)
    elif name == "pixel":
        out = _pixel(ctx, pal_arr if pal_arr is not None else np.asarray(PICO8))
    elif name == "painterly":
        out = _painterly(ctx)
    else:
        out = _palette_map(ctx, pal_arr)
    return np.ascontiguousarray(to_uint8(out))


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Colours in 0..1 → uint8 0..255 (rounded, clipped)."""
    return np.clip(np.round(img * 255), 0, 255).astype(np.uint8)


def _style_list() -> str:
    return ", ".join(STYLES) + ", palette (with palette=...) or palette:#rrggbb,..."


def _parse_palette(text: str) -> list[tuple[float, float, float]]:
    cols = []
    for part in text.split(","):
        h = part.strip().lstrip("#")
        if len(h) != 6 or any(c not in "0123456789abcdefABCDEF" for c in h):
            raise ValueError(f"palette colour {part.strip()!r}: use #rrggbb")
        cols.append(tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)))
    return cols


def _check_palette(palette) -> np.ndarray:
    try:
        pal = np.asarray(palette, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("palette must be a list of (r, g, b) colours in 0..1") from None
    if pal.ndim != 2 or pal.shape[1] != 3 or not 1 <= len(pal) <= 64 or not np.isfinite(pal).all():
        raise ValueError(f"palette must be 1..64 (r, g, b) colours in 0..1; got shape {pal.shape}")
    if pal.min() < 0 or pal.max() > 1:
        raise ValueError("palette colours must be in 0..1 (RGB floats)")
    return pal


# ---------------------------------------------------------------- shared machinery


class _Context:
    """Per-call derived buffers (float64, flattened where handy)."""

    def __init__(self, gb: GBuffer, scene: Scene | None, light: np.ndarray, seed: int) -> None:
        self.gb, self.scene, self.light, self.seed = gb, scene, light, seed
        self.h, self.w = gb.segmentation.shape
        self.seg = gb.segmentation
        self.hit = self.seg >= 0
        self.normal = gb.normal.astype(np.float64)
        self.pos = gb.world_pos.astype(np.float64)
        self.depth = gb.depth.astype(np.float64)
        self.albedo = gb.albedo.astype(np.float64) / 255
        self.rays = gb.view.rays()
        eye = np.asarray(gb.eye, dtype=np.float64)
        v = eye - self.pos
        v /= np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
        self.view = np.where(self.hit[..., None], v, -self.rays)
        self.cls = material_classes(gb, background=PLAIN)
        self.ndl = np.clip((self.normal * light).sum(-1), 0, None)
        self.bg = np.asarray(gb.background, dtype=np.float64)
        self.rng = np.random.default_rng(seed)
        self.footprint = self.depth * 2 * math.tan(math.radians(gb.fov_deg) / 2) / self.h  # metres per pixel

    def local(self) -> np.ndarray:
        """Hit points in their entity's body frame (so textures move with the body)."""
        if self.scene is None:
            return self.pos
        flat = self.scene.local_points(self.pos.reshape(-1, 3), self.seg.reshape(-1))
        return flat.reshape(self.pos.shape)

    def pixel_noise(self, salt: int) -> np.ndarray:
        """Per-pixel uniform [0, 1) from a hash of (row, col, seed, salt)."""
        r, c = np.indices((self.h, self.w), dtype=np.uint64)
        return _hash_u01(r, c, np.uint64(self.seed & 0xFFFFFFFF), np.uint64(salt))


def _hash_u01(a, b, c, d) -> np.ndarray:
    """A well-mixed uint64 hash of four integer arrays, as floats in [0, 1)."""
    with np.errstate(over="ignore"):
        h = (np.asarray(a, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
             ^ np.asarray(b, dtype=np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
             ^ np.asarray(c, dtype=np.uint64) * np.uint64(0x165667B19E3779F9)
             ^ np.asarray(d, dtype=np.uint64) * np.uint64(0x27D4EB2F165667C5))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
        h ^= h >> np.uint64(33)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def value_noise(p: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth 3-D value noise in [0, 1) at points (..., 3), deterministic in ``seed``."""
    p = np.asarray(p, dtype=np.float64)
    i = np.floor(p)
    f = p - i
    f = f * f * (3 - 2 * f)
    i = i.astype(np.int64)
    out = np.zeros(p.shape[:-1])
    s = np.uint64(seed & 0xFFFFFFFF)
    for dx in (0, 1):
        wx = f[..., 0] if dx else 1 - f[..., 0]
        for dy in (0, 1):
            wy = f[..., 1] if dy else 1 - f[..., 1]
            for dz in (0, 1):
                wz = f[..., 2] if dz else 1 - f[..., 2]
                v = _hash_u01((i[..., 0] + dx).astype(np.uint64), (i[..., 1] + dy).astype(np.uint64),
                              (i[..., 2] + dz).astype(np.uint64), s)
                out += wx * wy * wz * v
    return out


def fbm(p: np.ndarray, octaves: int = 4, seed: int = 0, footprint: np.ndarray | float = 0.0) -> np.ndarray:
    """Fractal value noise in about [-0.5, 0.5] (unit base frequency); octaves finer than ~2 ``footprint``
    (the same units as ``p`` per pixel) fade out instead of aliasing."""
    out = np.zeros(np.shape(p)[:-1])
    amp, freq = 0.5, 1.0
    for o in range(octaves):
        fade = np.clip(1.0 / (2.5 * np.maximum(np.asarray(footprint) * freq, 1e-12)) - 1.0, 0.0, 1.0)
        out += amp * fade * (value_noise(np.asarray(p) * freq, seed + 101 * o) - 0.5)
        amp, freq = amp * 0.5, freq * 2.0
    return out


def _to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0, 1)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def _luma(c: np.ndarray) -> np.ndarray:
    return _dot(c, _LUMA)


def _smoothstep(a: float, b: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - a) / (b - a), 0, 1)
    return t * t * (3 - 2 * t)


def _disk_samples(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` stratified points (n, 2) on the unit disk (concentric rings, jittered)."""
    k = np.arange(n)
    r = np.sqrt((k + rng.random(n)) / n)
    a = k * 2.399963229728653 + rng.random() * 2 * math.pi  # golden angle
    return np.stack([r * np.cos(a), r * np.sin(a)], -1)


def _basis(n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit tangents (N, 3) perpendicular to unit vectors ``n`` (N, 3)."""
    a = np.where(np.abs(n[:, 2:3]) < 0.9, np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    t = np.cross(a, n)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    return t, np.cross(n, t)


def _soft_shadow(ctx: _Context, samples: int, radius_deg: float) -> np.ndarray:
    """Fraction (H, W) of the sun's disk visible from each hit pixel; 1 where no scene or no hit."""
    vis = np.ones((ctx.h, ctx.w))
    if ctx.scene is None or not ctx.hit.any():
        return vis
    lit = ctx.hit & (ctx.ndl > 0)
    idx = np.flatnonzero(lit.ravel())
    if len(idx) == 0:
        return vis
    o = (ctx.pos.reshape(-1, 3)[idx] + ctx.normal.reshape(-1, 3)[idx]
         * (5e-4 + 2e-5 * ctx.depth.ravel()[idx])[:, None])
    t1, t2 = _basis(np.broadcast_to(ctx.light, (1, 3)).copy())
    spin = ctx.pixel_noise(11).ravel()[idx] * 2 * math.pi
    cs, sn = np.cos(spin), np.sin(spin)
    tan_r = math.tan(math.radians(radius_deg))
    seen = np.zeros(len(idx))
    for u, v in _disk_samples(samples, ctx.rng):
        ru, rv = u * cs - v * sn, u * sn + v * cs  # the pattern rotated per pixel: noise, not banding
        d = ctx.light + tan_r * (ru[:, None] * t1 + rv[:, None] * t2)
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        seen += ~ctx.scene.occlusion(o, d)
    vis.ravel()[idx] = seen / samples
    return vis


def _ambient_occlusion(ctx: _Context, samples: int, radius: float | np.ndarray,
                       bounce: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Unoccluded fraction (H, W) of the cosine-weighted hemisphere within ``radius`` metres (distance-
    weighted: near blockers count fully, those near ``radius`` hardly), and (``bounce``) the mean linear
    colour (H, W, 3) the blocked rays see: the blockers' albedo under the sun, one bounce of light."""
    ao = np.ones((ctx.h, ctx.w))
    indirect = np.zeros((ctx.h, ctx.w, 3))
    if ctx.scene is None or not ctx.hit.any():
        return ao, indirect
    idx = np.flatnonzero(ctx.hit.ravel())
    n = ctx.normal.reshape(-1, 3)[idx]
    o = ctx.pos.reshape(-1, 3)[idx] + n * (5e-4 + 2e-5 * ctx.depth.ravel()[idx])[:, None]
    t1, t2 = _basis(n)
    spin = ctx.pixel_noise(23).ravel()[idx] * 2 * math.pi
    cs, sn = np.cos(spin), np.sin(spin)
    rad = np.broadcast_to(np.asarray(radius, dtype=np.float64), (ctx.h, ctx.w)).ravel()[idx]
    occ = np.zeros(len(idx))
    glow = np.zeros((len(idx), 3))
    colors = _to_linear(ctx.scene.colors.astype(np.float64))
    for u, v in _disk_samples(samples, ctx.rng):
        ru, rv = u * cs - v * sn, u * sn + v * cs
        up = np.sqrt(np.clip(1 - ru * ru - rv * rv, 0, 1))
        d = ru[:, None] * t1 + rv[:, None] * t2 + up[:, None] * n
        t, prim, hn = ctx.scene.intersect(o, d, 0.0, rad * (4.0 if bounce else 1.0))
        near = (prim >= 0) & (t < rad)
        occ += np.where(near, 1 - (t / rad) ** 2, 0.0)
        if bounce:
            got = prim >= 0
            ndl = np.clip(_dot(hn[got], ctx.light), 0, None) + 0.15
            glow[got] += colors[ctx.scene.index[prim[got]]] * ndl[:, None]
    ao.ravel()[idx] = 1 - occ / samples
    indirect.reshape(-1, 3)[idx] = glow / samples
    return ao, indirect


def _hard_shadow(ctx: _Context) -> np.ndarray:
    return _soft_shadow(ctx, 1, 0.0) if ctx.scene is not None else np.ones((ctx.h, ctx.w))


def _denoise(ctx: _Context, x: np.ndarray, radius: int = 2, sigma: float = 1.5) -> np.ndarray:
    """Cross-bilateral blur of a (H, W) or (H, W, C) buffer guided by segmentation, depth and normals."""
    num = np.zeros_like(x)
    den = np.zeros((ctx.h, ctx.w))
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            w = math.exp(-(dy * dy + dx * dx) / (2 * sigma * sigma))
            same = _shift(ctx.seg, dy, dx) == ctx.seg
            dz = np.abs(_shift(ctx.depth, dy, dx) - ctx.depth) / np.maximum(ctx.depth, 1e-6)
            nn = (_shift(ctx.normal, dy, dx) * ctx.normal).sum(-1)
            wt = w * same * np.exp(-(dz / 0.02) ** 2) * np.clip(nn, 0, 1) ** 8
            num += (wt if x.ndim == 2 else wt[..., None]) * _shift(x, dy, dx)
            den += wt
    den = den if x.ndim == 2 else den[..., None]
    return np.where(den > 0, num / np.maximum(den, 1e-12), x)


def _edges(ctx: _Context, crease_deg: float = 50.0, depth_tol: float = 0.08, ink_far: float = 40.0,
           both_sides: bool = False) -> np.ndarray:
    """Ink mask (H, W) for outlines: :func:`renderer.gbuffer.geometry_edges` of the context's buffers, with
    no ink where the background meets an infinite plane (the horizon)."""
    return geometry_edges(ctx.seg, ctx.depth, ctx.normal, crease_deg=crease_deg, depth_tol=depth_tol,
                          ink_far=ink_far, both_sides=both_sides, horizon=_horizon_ids(ctx))


def _horizon_ids(ctx: _Context) -> np.ndarray:
    """Lookup by ``segmentation + 1``: True for the background and infinite planes, whose meeting (the
    horizon) gets no ink."""
    return _horizon_lookup(len(ctx.gb.names), ctx.scene)


def _horizon_lookup(n_names: int, scene: Scene | None) -> np.ndarray:
    out = np.zeros(n_names + 1, dtype=bool)
    out[0] = True
    if scene is not None:
        out[scene.index[scene.kind == _PLANE_KIND] + 1] = True
    return out


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            if (dy or dx) and dy * dy + dx * dx <= r * r + r:
                out |= _shift(mask, dy, dx)
    return out


def _sky(ctx: _Context, dirs: np.ndarray, sun: bool = True) -> np.ndarray:
    """Linear sky radiance for unit directions (..., 3): the background colour overhead, paler at the
    horizon, a hazy ground below it and a glow around the sun."""
    zen = _to_linear(ctx.bg) * 0.85
    hor = _to_linear(0.55 * ctx.bg + 0.45 * np.array([0.93, 0.94, 0.96]))
    e = dirs[..., 2:3]
    up = np.clip(e, 0, 1) ** 0.45
    col = hor + (zen - hor) * up
    col = np.where(e < 0, hor * (0.85 + 0.15 * np.exp(8 * e)), col)
    if sun:
        c = np.clip((dirs * ctx.light).sum(-1, keepdims=True), 0, 1)
        col = col + np.array([1.0, 0.85, 0.6]) * (0.35 * c ** 24 + 4.0 * c ** 2000)
    return col


# ---------------------------------------------------------------- realistic


def _materials(ctx: _Context) -> np.ndarray:
    """Linear albedo (H, W, 3) with procedural textures by look."""
    base = _to_linear(ctx.albedo)
    out = base.copy()
    if not ctx.hit.any():
        return out
    q = ctx.local()
    grazing = np.clip(np.abs((ctx.normal * ctx.view).sum(-1)), 0.15, 1)
    fp = ctx.footprint / grazing  # metres per pixel on the surface
    seed = ctx.seed
    m = ctx.hit & (ctx.cls == WOOD)
    if m.any():
        p, f, b = q[m], fp[m], base[m]
        is_plane = _horizon_ids(ctx)[ctx.seg[m] + 1]
        # the grain runs along the body's longest local axis (x on floors: planks; z on pins), rings around it
        along = np.take_along_axis(p, np.array([[1, 2, 0], [2, 0, 1], [0, 1, 2]])[_grain_axis(ctx)[ctx.seg[m]]], 1)
        warp = fbm(along * np.array([3.0, 3.0, 0.6]), 3, seed + 1, f * 3) * 0.9
        centre = _hash_u01(ctx.seg[m].astype(np.uint64), np.uint64(1), np.uint64(seed), np.uint64(9)) * 0.5 - 0.6
        ring_r = np.hypot(along[:, 0] + centre, along[:, 1] + 0.21) * 18 + warp * 2.5
        fade = np.clip(1 / (np.maximum(f, 1e-9) * 18 * 3) - 0.5, 0, 1)
        rings = 0.5 + 0.5 * np.sin(ring_r * 2 * math.pi)
        fibre = fbm(along * np.array([40.0, 40.0, 2.0]), 3, seed + 2, f * 40)  # streaks along the grain
        tone = 1 + fade * (0.22 * (rings - 0.5)) + 0.12 * fibre
        # planks on planes: 0.2 m wide along y, joints staggered every 2.4 m along x, dark seams
        plank = np.floor(p[:, 1] / 0.2)
        jitter = _hash_u01(plank.astype(np.int64).astype(np.uint64), np.uint64(3), np.uint64(seed), np.uint64(5))
        xs = p[:, 0] / 2.4 + jitter
        seam_y = np.abs(p[:, 1] / 0.2 - np.round(p[:, 1] / 0.2)) * 0.2
        seam_x = np.abs(xs - np.round(xs)) * 2.4
        seam_w = np.maximum(0.004, 0.6 * f)
        seam = np.clip(1 - np.minimum(seam_y, seam_x) / seam_w, 0, 1) * np.clip(0.01 / np.maximum(f, 1e-9), 0, 1)
        plank_tone = 1 + 0.12 * (_hash_u01(plank.astype(np.int64).astype(np.uint64),
                                           np.floor(xs).astype(np.int64).astype(np.uint64),
                                           np.uint64(seed), np.uint64(7)) - 0.5)
        tone = np.where(is_plane, tone * plank_tone * (1 - 0.55 * seam), tone)
        out[m] = b * tone[:, None]
    m = ctx.hit & (ctx.cls == METAL)
    if m.any():
        p, f = q[m], fp[m]
        brushed = fbm(p * np.array([400.0, 4.0, 4.0]), 2, seed + 3, f * 400)
        out[m] = base[m] * (1 + 0.08 * brushed)[:, None]
    m = ctx.hit & (ctx.cls == CLOTH)
    if m.any():
        p, f = q[m], fp[m]
        n1 = fbm(p * 60, 3, seed + 4, f * 60)
        n2 = fbm(p * 7, 3, seed + 5, f * 7)
        out[m] = base[m] * (1 + 0.25 * n1 + 0.18 * n2)[:, None]
    m = ctx.hit & (ctx.cls == STONE)
    if m.any():
        p, f = q[m], fp[m]
        n = fbm(p * 6, 4, seed + 6, f * 6)
        veins = np.abs(np.sin((p[:, 0] + p[:, 1] + 2.5 * fbm(p * 2, 3, seed + 7, f * 2)) * 9))
        is_marble = np.array([look.lower() == "marble" for look in ctx.gb.looks], dtype=bool)[ctx.seg[m]]
        tone = 1 + 0.3 * n - np.where(is_marble, 0.35 * (1 - veins) ** 8, 0)
        out[m] = base[m] * tone[:, None]
    m = ctx.hit & ((ctx.cls == RUBBER) | (ctx.cls == PLASTIC) | (ctx.cls == PLAIN))
    if m.any():
        p, f = q[m], fp[m]
        out[m] = base[m] * (1 + 0.05 * fbm(p * 25, 2, seed + 8, f * 25))[:, None]
    m = ctx.hit & (ctx.cls == GLASS)
    if m.any():
        out[m] = 0.55 * base[m] + 0.45 * _to_linear(np.array([0.78, 0.9, 1.0])) * base[m].mean(-1, keepdims=True)
    return np.clip(out, 0, 1)


def _grain_axis(ctx: _Context) -> np.ndarray:
    """Per entity index: the local axis (0, 1, 2) wood grain runs along — a box's longest side, x for
    planes, z for cylinders, capsules, spheres (and without a scene)."""
    out = np.full(len(ctx.gb.names), 2, dtype=np.int64)
    if ctx.scene is not None:
        sc = ctx.scene
        for k in range(len(sc)):
            kind = int(sc.kind[k])
            out[sc.index[k]] = int(np.argmax(sc.params[k])) if kind == _BOX_KIND else 0 if kind == _PLANE_KIND else 2
    return out


def _shade_simple(ctx: _Context, prim: np.ndarray, pos: np.ndarray, normal: np.ndarray, dirs: np.ndarray):
    """Linear colour of secondary hits: flat albedo under sun (with a hard shadow) and sky light."""
    scene = ctx.scene
    col = _sky(ctx, dirs)
    hit = prim >= 0
    if hit.any():
        ent = scene.index[prim[hit]]
        alb = _to_linear(scene.colors[ent].astype(np.float64))
        n = normal[hit]
        ndl = np.clip(_dot(n, ctx.light), 0, None)
        o = pos[hit] + n * 1e-3
        shadow = ~scene.occlusion(o, np.broadcast_to(ctx.light, o.shape).copy())
        sky = _to_linear(ctx.bg) * (0.55 + 0.45 * n[:, 2:3])
        col[hit] = alb * (np.array([1.0, 0.95, 0.85]) * 2.6 * (ndl * shadow)[:, None] + sky * 0.8)
    return col


def _realistic(ctx: _Context) -> np.ndarray:
    if ctx.scene is None:
        raise ValueError("the realistic style casts shadow rays: pass scene= (renderer.gbuffer.Scene.from_sim(sim)) "
                         "or a GBuffer from renderer.gbuffer.gbuffer()")
    hit, n, v, L = ctx.hit, ctx.normal, ctx.view, ctx.light
    albedo = _materials(ctx)
    table = np.array([_MAT[c] for c in range(len(_MAT))])[ctx.cls]  # (H, W, 4) per-pixel material numbers
    f0, shin, refl, metal = table[..., 0:1], table[..., 1], table[..., 2], table[..., 3:4]
    f0 = np.where(metal > 0, albedo, f0)

    samples = 16
    vis = _denoise(ctx, _soft_shadow(ctx, samples, 2.5), 2, 1.5)
    scale = np.clip(ctx.depth * 0.04, 0.08, 0.6)  # AO reach grows a little with distance
    ao, bounce = _ambient_occlusion(ctx, 12, scale, bounce=True)
    ao = _denoise(ctx, ao, 2, 1.5)
    bounce = _denoise(ctx, bounce, 2, 1.5)

    sun = np.array([1.0, 0.93, 0.82]) * 2.6
    ndl = ctx.ndl[..., None]
    ndv = np.clip((n * v).sum(-1), 1e-4, 1)[..., None]
    hv = L + v
    hv /= np.maximum(np.linalg.norm(hv, axis=-1, keepdims=True), 1e-12)
    ndh = np.clip((n * hv).sum(-1), 0, 1)
    vdh = np.clip((v * hv).sum(-1), 0, 1)[..., None]
    fres_l = f0 + (1 - f0) * (1 - vdh) ** 5
    spec = fres_l * ((shin + 8) / 8 * ndh ** shin)[..., None] * ndl * sun * vis[..., None]

    sky_up = _to_linear(ctx.bg)
    ground = _to_linear(np.array([0.45, 0.4, 0.35]))
    hemi = sky_up * (0.5 + 0.5 * n[..., 2:3]) + ground * 0.35 * (0.5 - 0.5 * n[..., 2:3])
    ambient = hemi * 0.9 * ao[..., None] + bounce * sun * 0.35  # sky light + one bounce off nearby surfaces

    wrap = ndl
    glass = (ctx.cls == GLASS)[..., None]
    cloth = (ctx.cls == CLOTH)[..., None]
    wrap = np.where(glass, np.clip(((n * L).sum(-1, keepdims=True) + 0.4) / 1.4, 0, 1), wrap)
    diffuse = albedo * (sun * wrap * vis[..., None] + ambient) * (1 - metal)
    # cloth sheen: a soft rim towards grazing angles
    diffuse = diffuse + np.where(cloth, albedo * ambient * 0.5 * (1 - ndv) ** 3, 0)

    fres_v = f0 + (1 - f0) * (1 - ndv) ** 5
    col = diffuse * (1 - fres_v * (refl[..., None] > 0)) + spec
    # mirror bounce for glossy looks
    glossy = hit & (refl > 0)
    if glossy.any():
        gi = np.flatnonzero(glossy.ravel())
        nn = n.reshape(-1, 3)[gi]
        vv = v.reshape(-1, 3)[gi]
        r = 2 * (nn * vv).sum(1, keepdims=True) * nn - vv
        r /= np.linalg.norm(r, axis=1, keepdims=True)
        o = ctx.pos.reshape(-1, 3)[gi] + nn * (5e-4 + 2e-5 * ctx.depth.ravel()[gi])[:, None]
        t, prim, rn = ctx.scene.intersect(o, r)
        env = _shade_simple(ctx, prim, o + np.where(np.isfinite(t), t, 0)[:, None] * r, rn, r)
        w = (fres_v.reshape(-1, 3)[gi] * refl.ravel()[gi][:, None]
             * np.where(prim >= 0, 1.0, ao.ravel()[gi] ** 0.5)[:, None])
        add = np.zeros((ctx.h * ctx.w, 3))
        add[gi] = w * env
        col = col + add.reshape(col.shape)
    glow = (ctx.cls == GLOW)[..., None]
    col = np.where(glow, albedo * 1.5, col)
    # glass / ice: a bright fresnel rim and a little of the sky seen through
    col = np.where(glass, col + _sky(ctx, -v, sun=False) * 0.6 * (1 - ndv) ** 2, col)
    sky = _sky(ctx, ctx.rays)
    col = np.where(hit[..., None], col, sky)
    haze = 1 - np.exp(-(np.where(hit, ctx.depth, 0) / 60.0) ** 2)  # aerial perspective, full at the horizon
    col = col * (1 - haze[..., None]) + _sky(ctx, ctx.rays, sun=False) * haze[..., None]
    x = col * 0.62  # exposure, then the ACES fit (Narkowicz 2015)
    mapped = np.clip((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0, 1)
    out = _to_srgb(mapped)
    return _antialias(ctx, out)


def _antialias(ctx: _Context, img: np.ndarray) -> np.ndarray:
    """Softens the one-sample-per-pixel stair steps: pixels on either side of a segmentation edge take a
    weighted mean of their 3×3 neighbourhood."""
    edge = np.zeros((ctx.h, ctx.w), dtype=bool)
    for dy, dx in ((0, 1), (1, 0)):
        e = _shift(ctx.seg, dy, dx) != ctx.seg
        edge |= e | _shift(e, -dy, -dx)
    acc = img * 4.0
    wsum = 4.0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                wt = 2.0 if dy == 0 or dx == 0 else 1.0
                acc = acc + wt * _shift(img, dy, dx)
                wsum += wt
    return np.where(edge[..., None], acc / wsum, img)


# ---------------------------------------------------------------- toon


def _toon(ctx: _Context) -> np.ndarray:
    base = ctx.albedo
    grey = _luma(base)[..., None]
    base = np.clip(grey + (base - grey) * 1.25, 0, 1)  # a little more saturated
    shadow = _hard_shadow(ctx)
    light = ctx.ndl * shadow
    band = np.where(light > 0.55, 1.15, np.where(light > 0.18, 0.85, 0.55))
    col = np.clip(base * band[..., None], 0, 1)
    shadow_tint = np.array([0.86, 0.88, 1.0])  # cool shade
    col = np.where((band < 0.7)[..., None], col * shadow_tint, col)
    hv = ctx.light + ctx.view
    hv /= np.maximum(np.linalg.norm(hv, axis=-1, keepdims=True), 1e-12)
    glossy = np.isin(ctx.cls, [METAL, PLASTIC, GLASS])
    hi = glossy & ((ctx.normal * hv).sum(-1) > 0.985) & (shadow > 0.5) & ctx.hit
    col = np.where(hi[..., None], 0.25 * col + 0.75, col)
    up = np.clip(ctx.rays[..., 2], 0, 1)
    sky = np.where((up > 0.25)[..., None], ctx.bg * 0.9, np.clip(ctx.bg * 1.08 + 0.06, 0, 1))
    col = np.where(ctx.hit[..., None], col, sky)
    ink = _edges(ctx, both_sides=ctx.w >= 200)
    if ctx.w >= 480:
        ink = _dilate(ink, round(ctx.w / 480))
    return np.where(ink[..., None], np.array([0.08, 0.07, 0.1]), col)


# ---------------------------------------------------------------- pixel


def _sub(ctx: _Context, k: int) -> tuple[_Context, tuple[np.ndarray, np.ndarray]]:
    """A context point-sampled at the centre of every k×k block (a 1/k resolution G-buffer)."""
    rows, cols = _block_centres(ctx.h, ctx.w, k)
    small = _Context.__new__(_Context)
    for name in ("gb", "scene", "light", "seed", "bg"):
        setattr(small, name, getattr(ctx, name))
    for name in ("seg", "hit", "normal", "pos", "depth", "albedo", "rays", "view", "cls", "ndl", "footprint"):
        setattr(small, name, getattr(ctx, name)[rows][:, cols])
    small.h, small.w = len(rows), len(cols)
    small.rng = np.random.default_rng(ctx.seed)
    return small, (rows, cols)


def _block_centres(h: int, w: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of the centre of every aligned k×k block (partial blocks: their last pixel)."""
    return np.minimum(np.arange(0, h, k) + k // 2, h - 1), np.minimum(np.arange(0, w, k) + k // 2, w - 1)


def _oklab(c: np.ndarray) -> np.ndarray:
    """sRGB (..., 3) in 0..1 → OKLab (Ottosson 2020)."""
    lin = _to_linear(np.clip(c, 0, 1))
    lms = np.cbrt(_mat(lin, _OKLAB_M1.T))
    return _mat(lms, _OKLAB_M2.T)


def _nearest_colour(c: np.ndarray, pal: np.ndarray, chroma_weight: float = 2.0) -> np.ndarray:
    """Index of the nearest palette colour for colours (..., 3) in OKLab, hue and chroma weighted up so
    a brown stays brown rather than becoming the grey of the same lightness."""
    a, b = _oklab(c), _oklab(pal)
    wgt = np.array([1.0, chroma_weight, chroma_weight])
    d = ((a[..., None, :] - b) * wgt) ** 2
    return d.sum(-1).argmin(-1)


def pixel_base(gb: GBuffer, *, palette: Sequence[Sequence[float]] | None = None,
               light_dir: Sequence[float] = DEFAULT_LIGHT, scene: Scene | None = None) -> np.ndarray:
    """The ``pixel`` style before its palette: float (H, W, 3) in 0..1, one colour per aligned 4×4 block
    (shaded, saturated; outline blocks already the palette's darkest colour), such that
    ``snap_to_palette(pixel_base(gb), pal)`` is ``teach(gb, "pixel", palette=pal)`` (before rounding to
    uint8). It is what the restyler learns for pixel art: smooth in the colours, where the palette's
    choice is not."""
    pal = _check_palette(palette) if palette is not None else np.asarray(PICO8)
    light = np.asarray(light_dir, dtype=np.float64)
    ctx = _Context(gb, scene if scene is not None else gb.scene, light / np.linalg.norm(light), 0)
    return _blocks(_pixel_base_blocks(ctx, pal), PIXEL_BLOCK, ctx.h, ctx.w)


def snap_to_palette(img: np.ndarray, palette: Sequence[Sequence[float]] | None = None, block: int = PIXEL_BLOCK,
                    outline: np.ndarray | None = None) -> np.ndarray:
    """Pixel art from colours ``img`` (H, W, 3) in 0..1: each aligned ``block``×``block`` block (partial at
    the right and bottom edges) takes its mean colour's nearest palette colour (OKLab, hue and chroma
    weighted, :func:`_nearest_colour`; default palette PICO-8), or the palette's darkest colour where
    ``outline`` (bool, one per block: :func:`pixel_outlines`) is set. Returns float (H, W, 3) palette
    colours."""
    pal = _check_palette(palette) if palette is not None else np.asarray(PICO8)
    h, w = img.shape[:2]
    ph, pw = (-h) % block, (-w) % block
    padded = np.pad(np.asarray(img, dtype=np.float64), ((0, ph), (0, pw), (0, 0)), mode="edge")
    means = padded.reshape((h + ph) // block, block, (w + pw) // block, block, 3).mean(axis=(1, 3))
    small = pal[_nearest_colour(means, pal)]
    if outline is not None:
        if np.shape(outline) != means.shape[:2]:
            raise ValueError(f"outline has shape {np.shape(outline)}, expected one flag per block {means.shape[:2]}")
        small = np.where(np.asarray(outline, dtype=bool)[..., None], _darkest(pal), small)
    return _blocks(small, block, h, w)


def _blocks(small: np.ndarray, k: int, h: int, w: int) -> np.ndarray:
    """Nearest upscale of per-block values ``small`` by ``k``, cropped to (h, w)."""
    return np.repeat(np.repeat(small, k, axis=0), k, axis=1)[:h, :w]


def _pixel_base_blocks(ctx: _Context, pal: np.ndarray) -> np.ndarray:
    """:func:`pixel_base`, one colour per block: (⌈H/4⌉, ⌈W/4⌉, 3)."""
    s, _ = _sub(ctx, PIXEL_BLOCK)
    shadow = _hard_shadow(s)
    light = s.ndl * shadow
    level = np.where(light > 0.5, 1.0, np.where(light > 0.15, 0.8, 0.6))  # three bands
    col = np.clip(s.albedo * level[..., None], 0, 1)
    hv = s.light + s.view
    hv /= np.maximum(np.linalg.norm(hv, axis=-1, keepdims=True), 1e-12)
    glint = s.hit & np.isin(s.cls, [METAL, PLASTIC, GLASS]) & ((s.normal * hv).sum(-1) > 0.96) & (shadow > 0.5)
    col = np.where(glint[..., None], 0.3 * col + 0.7, col)
    up = np.clip(s.rays[..., 2], 0, 1)
    sky = np.where((up > 0.3)[..., None], s.bg * 0.85, s.bg)
    col = np.where(s.hit[..., None], col, sky)
    grey = _luma(col)[..., None]
    col = np.clip(grey + (col - grey) * 1.5, 0, 1)  # pixel art is saturated: pull towards vivid entries
    return np.where(_outline_blocks(s.seg, s.depth, _horizon_ids(s))[..., None], _darkest(pal), col)


def _darkest(pal: np.ndarray) -> np.ndarray:
    return pal[int(np.argmin(_dot(pal, _LUMA)))]


def _outline_blocks(seg: np.ndarray, depth: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """Pixel art's outlines from block-centre samples: a block is inked when a 4-neighbour block shows a
    different, nearer surface (so lines sit just outside silhouettes and thin things keep their colour),
    within 40 m, except where background and infinite planes meet (``horizon``, by ``seg + 1``)."""
    edge = np.zeros(seg.shape, dtype=bool)
    z = np.where(seg >= 0, depth, np.inf)
    for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        other_seg, oz = _shift(seg, dy, dx), _shift(z, dy, dx)
        edge |= (other_seg != seg) & (oz < z * 0.97) & (oz < 40.0) & ~(horizon[seg + 1] & horizon[other_seg + 1])
    return edge


def pixel_outlines(gb: GBuffer, scene: Scene | None = None) -> np.ndarray:
    """The aligned 4×4 blocks the ``pixel`` style inks in its palette's darkest colour: bool
    (⌈H/4⌉, ⌈W/4⌉), exactly as the teacher decides them (from the segmentation and depth at each block's
    centre). The restyler takes them from here rather than from its network: they are exact in the
    G-buffer, and a line a block wide is where a regressor's blur costs most."""
    rows, cols = _block_centres(*gb.segmentation.shape, PIXEL_BLOCK)
    seg = gb.segmentation[rows][:, cols]
    depth = gb.depth[rows][:, cols].astype(np.float64)
    return _outline_blocks(seg, depth, _horizon_lookup(len(gb.names), scene if scene is not None else gb.scene))


def _pixel(ctx: _Context, pal: np.ndarray) -> np.ndarray:
    return _blocks(pal[_nearest_colour(_pixel_base_blocks(ctx, pal), pal)], PIXEL_BLOCK, ctx.h, ctx.w)


# ---------------------------------------------------------------- painterly


def _box_mean(a: np.ndarray, r: int) -> np.ndarray:
    """Mean over the (2r+1)² window at each pixel (edge-replicated), for (H, W[, C]) arrays."""
    pad = [(r + 1, r)] + [(r + 1, r)] + [(0, 0)] * (a.ndim - 2)
    c = np.pad(a, pad, mode="edge").cumsum(0).cumsum(1)
    n = 2 * r + 1
    s = c[n:, n:] - c[:-n, n:] - c[n:, :-n] + c[:-n, :-n]
    return s / (n * n)


def _kuwahara(img: np.ndarray, r: int) -> np.ndarray:
    """Classic 4-sector Kuwahara filter: each pixel takes the mean of the least varied of the four
    (r+1)² quadrants around it."""
    h, w = img.shape[:2]
    lum = _dot(img, _LUMA)
    best_mean = np.zeros_like(img)
    best_var = np.full((h, w), np.inf)
    m = _box_mean(img, r // 2)
    m2 = _box_mean(lum ** 2, r // 2)
    ml = _box_mean(lum, r // 2)
    half = r // 2 + (r % 2)
    for dy in (-half, half):
        for dx in (-half, half):
            mean = _shift(m, -dy, -dx)
            var = _shift(m2, -dy, -dx) - _shift(ml, -dy, -dx) ** 2
            better = var < best_var
            best_var = np.where(better, var, best_var)
            best_mean = np.where(better[..., None], mean, best_mean)
    return best_mean


def _soft_light(ctx: _Context, samples: int = 6) -> np.ndarray:
    """Soft sRGB shading used by painterly and palette: wrapped Lambert, soft shadows, warm light,
    cool shade."""
    shadow = _denoise(ctx, _soft_shadow(ctx, samples, 4.0), 2, 2.0) if ctx.scene is not None else 1.0
    wrap = np.clip(((ctx.normal * ctx.light).sum(-1) + 0.3) / 1.3, 0, 1) * shadow
    warm, cool = np.array([1.08, 1.0, 0.86]), np.array([0.62, 0.66, 0.86])
    light = cool + (warm - cool) * wrap[..., None]
    return np.clip(ctx.albedo * light, 0, 1)


def _painterly(ctx: _Context) -> np.ndarray:
    col = _soft_light(ctx)
    grey = _luma(col)[..., None]
    col = np.clip(grey + (col - grey) * 1.2 + 0.03, 0, 1)
    # sky with soft clouds
    d = ctx.rays
    up = np.clip(d[..., 2], 0, 1)
    clouds = value_noise(np.stack([d[..., 0] / (d[..., 2] + 0.25) * 3, d[..., 1] / (d[..., 2] + 0.25) * 3,
                                   np.zeros_like(up)], -1), ctx.seed + 9)
    sky = ctx.bg * (1.05 - 0.25 * up[..., None]) + 0.18 * _smoothstep(0.55, 0.8, clouds)[..., None]
    col = np.where(ctx.hit[..., None], col, np.clip(sky, 0, 1))
    yy, xx = np.mgrid[0:ctx.h, 0:ctx.w]
    wash = np.stack([xx / ctx.w * 3, yy / ctx.h * 3, np.zeros_like(xx, dtype=float)], -1)
    tint = np.stack([value_noise(wash, ctx.seed + 30 + c) for c in range(3)], -1) - 0.5  # an uneven underpainting
    col = np.clip(col * (1 + 0.12 * tint), 0, 1)
    r = max(2, round(ctx.w / 80))
    base = _kuwahara(col, r)
    area = np.bincount(ctx.seg.ravel() + 1, minlength=len(ctx.gb.names) + 1)[ctx.seg + 1]
    base = np.where((area < 6 * (2 * r + 1) ** 2)[..., None] & ctx.hit[..., None], col, base)  # small things survive
    # stroke direction: along edges, from the smoothed structure tensor of the base image
    lum = _dot(base, _LUMA)
    gx = (_shift(lum, 0, -1) - _shift(lum, 0, 1)) / 2
    gy = (_shift(lum, -1, 0) - _shift(lum, 1, 0)) / 2
    sr = max(2, r)
    jxx, jyy, jxy = _box_mean(gx * gx, sr), _box_mean(gy * gy, sr), _box_mean(gx * gy, sr)
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy) + math.pi / 2
    # detail: how busy the segmentation is nearby; small strokes go there in a second pass
    busy = _box_mean((_edges(ctx, ink_far=np.inf)).astype(np.float64), max(2, round(ctx.w / 64)))
    out = base.copy()
    rng = np.random.default_rng(ctx.seed)
    for scale, where in ((1.0, None), (0.45, busy > 0.04)):
        length = max(3.0, ctx.w / 26) * scale
        width = max(1.0, ctx.w / 100) * scale ** 0.5
        spacing = max(1, round(width * 1.5))
        ys, xs = np.mgrid[0:ctx.h:spacing, 0:ctx.w:spacing]
        ys = (ys + rng.random(ys.shape) * spacing).ravel()
        xs = (xs + rng.random(xs.shape) * spacing).ravel()
        iy, ix = np.minimum(ys.astype(int), ctx.h - 1), np.minimum(xs.astype(int), ctx.w - 1)
        keep = np.ones(len(ys), dtype=bool) if where is None else where[iy, ix]
        n = len(ys)
        order = rng.permutation(n)
        jitter = rng.normal(0, 0.018, (n, 3))
        tilt = rng.normal(0, 0.12, n)
        size = 0.7 + 0.6 * rng.random(n)
        phase = rng.random(n) * 6.3
        pad = int(math.ceil(length + width)) + 1
        for k in order:
            if not keep[k]:
                continue
            cy, cx, py, px = ys[k], xs[k], iy[k], ix[k]
            a = angle[py, px] + tilt[k]
            ln = length * size[k]
            y0, y1 = max(0, py - pad), min(ctx.h, py + pad + 1)
            x0, x1 = max(0, px - pad), min(ctx.w, px + pad + 1)
            py_, px_ = np.mgrid[y0:y1, x0:x1]
            dy, dx = py_ + 0.5 - cy, px_ + 0.5 - cx
            along = dx * math.cos(a) + dy * math.sin(a)
            across = -dx * math.sin(a) + dy * math.cos(a)
            dist = np.hypot(along - np.clip(along, -ln / 2, ln / 2), across)
            alpha = np.clip(width - dist + 0.5, 0, 1) * (0.8 + 0.2 * np.sin(across * 5.0 + phase[k]))
            alpha *= np.where(ctx.seg[y0:y1, x0:x1] == ctx.seg[py, px], 0.85, 0.06)  # mostly within a shape
            c = np.clip(base[py, px] + jitter[k], 0, 1)
            region = out[y0:y1, x0:x1]
            region += (c - region) * alpha[..., None]
    weave = 0.5 + 0.25 * (np.sin(xx * 1.9) + np.sin(yy * 1.9))
    grain = value_noise(np.stack([xx * 0.35, yy * 0.35, np.zeros_like(xx, dtype=float)], -1), ctx.seed + 13)
    out = out * (0.96 + 0.04 * weave[..., None]) * (0.97 + 0.06 * grain[..., None])
    return np.clip(out, 0, 1)


# ---------------------------------------------------------------- palette


def _palette_map(ctx: _Context, pal: np.ndarray) -> np.ndarray:
    col = _soft_light(ctx, samples=4)
    up = np.clip(ctx.rays[..., 2], 0, 1)
    col = np.where(ctx.hit[..., None], col, ctx.bg * (1.05 - 0.2 * up[..., None]))
    lum = _luma(col)
    pl = _dot(pal, _LUMA)
    # stretch the image's tones over the palette's (2nd..98th percentile → darkest..lightest)
    lo, hi = np.percentile(lum, [2, 98]) if lum.size else (0.0, 1.0)
    t = np.clip((lum - lo) / max(hi - lo, 1e-6), 0, 1)
    target = pl.min() + t * (pl.max() - pl.min())
    target = target + 0.6 * (pl.max() - pl.min()) / max(len(pal), 2) * _BAYER4[np.arange(ctx.h)[:, None] % 4,
                                                                          np.arange(ctx.w)[None, :] % 4]
    # cost: tone first, hue second (chroma in a centred RGB space)
    chroma = col - lum[..., None]
    pchroma = pal - pl[:, None]
    tone_cost = (target[..., None] - pl) ** 2
    hue_cost = ((chroma[..., None, :] - pchroma) ** 2).sum(-1)
    idx = (tone_cost * 4 + hue_cost).argmin(-1)
    edge = _edges(ctx)
    idx = np.where(edge & ctx.hit, int(np.argmin(pl)), idx)
    return pal[idx]
