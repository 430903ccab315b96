"""What goes over the wire: JSON shapes of events, entities, frames and views (docs/server.md).

Frames are JPEG. G-buffer views are drawn here as pictures: depth as grey (near = light),
normals as RGB = (n + 1) / 2, segmentation as a fixed colour per entity id, motion as
hue = direction and brightness = speed.
"""

from __future__ import annotations

import io
import math
import threading
from typing import Any

import numpy as np

__all__ = ["GBUFFER_VIEWS", "MAX_FRAME_SIDE", "MIN_FRAME_SIDE", "RESTYLED_VIEWS", "encode_jpeg", "entity_positions",
           "event_json", "render_view", "views_for"]

GBUFFER_VIEWS = ("depth", "normal", "segmentation", "motion")
RESTYLED_VIEWS = ("realistic", "toon", "pixel", "painterly")
MIN_FRAME_SIDE, MAX_FRAME_SIDE = 32, 640


def event_json(ev: Any) -> dict[str, Any]:
    d = ev.to_dict()
    d["data"] = {k: _plain(v) for k, v in d["data"].items()}
    return d


def _plain(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (str, int, bool)) or v is None:
        return v
    if isinstance(v, np.generic):
        return _plain(v.item())
    return str(v)


def entity_positions(world: Any) -> dict[str, list[float]]:
    return {name: [round(c, 4) for c in view.position] for name, view in world.entities.items()}


def views_for(world: Any) -> list[str]:
    """The views a client may pick for ``world`` (``palette`` only when the world has one)."""
    out = ["albedo", *GBUFFER_VIEWS, *RESTYLED_VIEWS]
    if world.spec.style.palette:
        out.append("palette")
    return out


_restyler_loading: threading.Thread | None = None


def restyler_ready() -> bool:
    """True once the restyler's weights are loaded; the first call starts loading them in the background,
    so a room never stalls its tick for the seconds that importing torch and reading weights take."""
    global _restyler_loading
    if _restyler_loading is None:
        def load() -> None:  # importing torch and diffusers alone takes seconds: not on the room's thread
            from renderer import restyler

            r = restyler.load()
            # torch's first call allocates and spins up its thread pool: pay that here too
            r.restyle_arrays(np.zeros((32, 32, 8), np.float32), restyler.STYLES[0])

        _restyler_loading = threading.Thread(target=load, name="restyler-load", daemon=True)
        _restyler_loading.start()
    return not _restyler_loading.is_alive()


def render_view(world: Any, view: str, size: tuple[int, int]) -> np.ndarray:
    """An (H, W, 3) uint8 picture of ``world`` in ``view`` at ``size`` = (width, height)."""
    if view in GBUFFER_VIEWS:
        g = world.gbuffer(size)
        return _picture(g, view)
    return world.render(size, view)


_SEG_COLOURS = (np.random.default_rng(7).integers(40, 256, size=(4096, 3))).astype(np.uint8)


def _picture(g: dict[str, np.ndarray], view: str) -> np.ndarray:
    if view == "depth":
        d = g["depth"].astype(np.float32)
        finite = np.isfinite(d) & (g["segmentation"] >= 0)
        if finite.any():
            lo, hi = float(d[finite].min()), float(d[finite].max())
            grey = 1.0 - (d - lo) / max(hi - lo, 1e-6)
        else:
            grey = np.zeros_like(d)
        grey = np.where(finite, 0.15 + 0.85 * grey, 0.0)
        return (np.repeat(grey[..., None], 3, axis=2) * 255).astype(np.uint8)
    if view == "normal":
        n = g["normal"].astype(np.float32)
        return ((np.clip(n, -1, 1) + 1) * 127.5).astype(np.uint8)
    if view == "segmentation":
        seg = g["segmentation"].astype(np.int64)
        out = _SEG_COLOURS[np.mod(seg, len(_SEG_COLOURS))]
        out[seg < 0] = 0
        return out
    m = g["motion"].astype(np.float32)[..., :2]
    speed = np.hypot(m[..., 0], m[..., 1])
    ang = (np.arctan2(m[..., 1], m[..., 0]) + np.pi) / (2 * np.pi)
    val = np.clip(speed / max(float(speed.max()), 1e-6), 0, 1)
    return (_hsv(ang, np.ones_like(ang), val) * 255).astype(np.uint8)


def _hsv(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    i = np.floor(h * 6).astype(int) % 6
    f = h * 6 - np.floor(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    choices = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros((*h.shape, 3), np.float32)
    for k, (r, g_, b) in enumerate(choices):
        sel = i == k
        out[sel] = np.stack([r[sel], g_[sel], b[sel]], axis=-1)
    return out


def encode_jpeg(rgb: np.ndarray, quality: int = 80) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
