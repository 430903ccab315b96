"""Training data for the restyler: G-buffers and teacher frames of short clips of real worlds.

:func:`generate` renders ``n_frames`` frames as clips of :data:`CLIP` consecutive frames, :data:`STRIDE`
physics ticks apart. Each clip picks a world (the example worlds and a few reasoner-built ones), a random
camera (the world's first camera with its eye swung around the target, moved in and out and up and down,
the target jittered — all seeded), optionally (``recolor`` = the share of clips, 0 by default) random
colours for every entity and the sky (:func:`recolor`: the styles seen over the whole colour space, not only
the worlds' own colours) and a random moment (the world is stepped with its scripted actions for
up to :data:`MAX_START` ticks first). Per frame it stores the G-buffer inputs (albedo, normal, depth,
segmentation, per-pixel material class (:func:`renderer.teachers.material_classes`), motion from the
previous frame of the clip, the camera as ``view`` = eye, target, up, vertical fov), one teacher frame
per style (:func:`renderer.teachers.teach`, seed 0) and, with the pixel style, its colours before the
palette (``pixel_base``, :func:`renderer.teachers.pixel_base`: what the restyler learns for pixel art)
and its inked blocks (``pixel_outline``, per pixel, :func:`renderer.teachers.pixel_outlines`: the
restyler takes those from the G-buffer);
``prev`` gives the index of the previous frame of the same clip (-1 for a clip's first frame), so a
training sample is (G-buffer at t, G-buffer and teacher frame at t−1, teacher frame at t).

Shards are ``shard_XXXX.npz`` files in ``out_dir`` plus ``meta.json``. Same arguments ⇒ same data.

Command line: ``python -m renderer.dataset OUT_DIR --frames 384 --size 64 [--seed 0] [--workers 2] [--recolor 0.5]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np

CLIP = 4          # frames per clip
STRIDE = 2        # physics ticks between frames (30 fps at the default 60 Hz physics)
MAX_START = 240   # latest tick a clip starts at
CLIPS_PER_SHARD = 8
PROMPTS = (
    "a cannon firing at a pyramid of cans",
    "a line of 30 dominoes",
    "a plinko board with ten balls",
    "a pendulum swinging into a stack of blocks",
    "a mini golf hole with a ramp",
)


def _worlds() -> list[tuple[str, str]]:
    from worldgen.example_worlds import examples

    return [("example", n) for n in examples()] + [("prompt", p) for p in PROMPTS]


_SPEC_CACHE: dict = {}


def _spec_and_script(kind: str, name: str):
    if (kind, name) not in _SPEC_CACHE:
        if kind == "example":
            from worldgen.example_worlds import example_script, example_spec

            _SPEC_CACHE[kind, name] = (example_spec(name), example_script(name))
        else:
            from reasoner import BuiltinReasoner

            spec = BuiltinReasoner(grounding=False).reason(name, seed=0)[0]
            _SPEC_CACHE[kind, name] = (spec, {})
    return _SPEC_CACHE[kind, name]


def random_camera(cam, rng: np.random.Generator):
    """``cam`` (a spec Camera) with its eye swung ±35° about the target, 0.75–1.3× as far, ±25% higher or
    lower, and the target moved by up to 8% of the distance."""
    eye, target = np.asarray(cam.position, float), np.asarray(cam.target, float)
    off = eye - target
    dist = float(np.linalg.norm(off)) or 5.0
    a = math.radians(rng.uniform(-35, 35))
    c, s = math.cos(a), math.sin(a)
    off = np.array([c * off[0] - s * off[1], s * off[0] + c * off[1], off[2]])
    off *= rng.uniform(0.75, 1.3)
    off[2] += rng.uniform(-0.25, 0.25) * dist
    if np.hypot(off[0], off[1]) < 1e-3 and cam.mode not in ("top_down",):
        off[0] += 0.1 * dist
    target = target + rng.uniform(-0.08, 0.08, 3) * dist
    eye = target + off
    if eye[2] < 0.05:
        eye[2] = 0.05 + abs(rng.normal(0, 0.2))
    mode = cam.mode if cam.mode != "follow" else "fixed"
    return cam.model_copy(update={"position": tuple(map(float, eye)), "target": tuple(map(float, target)),
                                  "mode": mode, "follow": cam.follow})


def _random_color(rng: np.random.Generator, min_value: float = 0.1) -> tuple[float, float, float]:
    """A colour with uniform hue, saturation uniform in 0..1 and value uniform in ``min_value``..1."""
    import colorsys

    return tuple(float(c) for c in colorsys.hsv_to_rgb(rng.random(), rng.random(), rng.uniform(min_value, 1)))


def recolor(spec, rng: np.random.Generator):
    """``spec`` with a random colour (:func:`_random_color`) for every entity and template — one per entity,
    or, half the time, one per kind, so a row of pins can share a colour — and a random sky (value ≥ 0.3).
    Only appearance changes: looks, shapes and physics stay as they were."""
    per_kind = rng.random() < 0.5
    colors: dict[str, tuple[float, float, float]] = {}

    def paint(e):
        key = e.kind if per_kind else e.name
        if key not in colors:
            colors[key] = _random_color(rng)
        return e.model_copy(update={"appearance": e.appearance.model_copy(update={"color": colors[key]})})

    style = spec.style.model_copy(update={"background": _random_color(rng, 0.3)})
    return spec.model_copy(update={"entities": [paint(e) for e in spec.entities],
                                   "templates": [paint(e) for e in spec.templates], "style": style})


def render_clip(args) -> dict[str, np.ndarray]:
    """One clip (see the module docstring): ``args`` = (seed, clip index, size, styles, recolor share)."""
    seed, index, size, styles, recolor_share = args
    from physics.simulation import Simulation
    from renderer.gbuffer import gbuffer, poses
    from renderer.teachers import PIXEL_BLOCK, material_classes, pixel_base, pixel_outlines, teach, to_uint8
    from worldgen.spec import Camera

    rng = np.random.default_rng([seed, index])
    worlds = _worlds()
    kind, name = worlds[int(rng.integers(len(worlds)))]
    spec, script = _spec_and_script(kind, name)
    if recolor_share and rng.random() < recolor_share:  # no draw when off: the same data as before recolouring
        spec = recolor(spec, rng)
    cam = random_camera(spec.cameras[0] if spec.cameras else Camera(), rng)
    sim = Simulation(spec, seed=int(rng.integers(1 << 30)))
    start = int(rng.integers(0, MAX_START))
    for _ in range(start):
        sim.step(script.get(sim.tick))
    keys = ["albedo", "normal", "depth", "segmentation", "material", "motion", "view", "target"]
    out = {k: [] for k in keys + (["pixel_base", "pixel_outline"] if "pixel" in styles else [])}
    prev = None
    for f in range(CLIP):
        if f:
            for _ in range(STRIDE):
                sim.step(script.get(sim.tick))
        gb = gbuffer(sim, size, camera=cam, prev_poses=prev)
        prev = poses(sim)
        out["albedo"].append(gb.albedo)
        out["normal"].append(gb.normal.astype(np.float16))
        out["depth"].append(gb.depth)
        out["segmentation"].append(gb.segmentation)
        out["material"].append(material_classes(gb).astype(np.int8))
        out["motion"].append(gb.motion)
        out["view"].append(np.array([*gb.eye, *gb.target, *gb.up, gb.fov_deg], dtype=np.float64))
        out["target"].append(np.stack([teach(gb, s, seed=0) for s in styles]))
        if "pixel" in styles:
            out["pixel_base"].append(to_uint8(pixel_base(gb)))
            ink = pixel_outlines(gb).repeat(PIXEL_BLOCK, 0).repeat(PIXEL_BLOCK, 1)
            out["pixel_outline"].append(ink[:size[1], :size[0]])
    res = {k: np.stack(v) for k, v in out.items()}
    res["prev"] = np.arange(CLIP) - 1
    res["world"] = np.array([f"{kind}:{name}"] * CLIP)
    return res


def generate(out_dir, n_frames: int, size: tuple[int, int] = (64, 64), styles: Sequence[str] | None = None,
             seed: int = 0, progress: bool = True, workers: int = 1, recolor: float = 0.0) -> Path:
    """Writes ``ceil(n_frames / CLIP)`` clips as npz shards + meta.json into ``out_dir``; returns it.
    ``recolor``: the share of clips drawn with random colours (:func:`recolor`)."""
    from tqdm import tqdm

    from renderer.teachers import STYLES

    styles = tuple(styles or STYLES)
    if not 0 <= recolor <= 1:
        raise ValueError(f"recolor is a share of clips in 0..1, got {recolor!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_clips = max(1, math.ceil(n_frames / CLIP))
    jobs = [(seed, i, tuple(size), styles, float(recolor)) for i in range(n_clips)]
    bar = tqdm(total=n_clips * CLIP, desc="teacher frames", unit="frame", disable=not progress)
    buf: list[dict] = []
    shard = 0

    def flush():
        nonlocal shard, buf
        if not buf:
            return
        merged = {}
        for k in buf[0]:
            merged[k] = np.concatenate([b[k] for b in buf])
        off = 0
        prevs = []
        for b in buf:
            prevs.append(np.where(b["prev"] >= 0, b["prev"] + off, -1))
            off += len(b["prev"])
        merged["prev"] = np.concatenate(prevs)
        np.savez_compressed(out / f"shard_{shard:04d}.npz", **merged)
        shard += 1
        buf = []

    if workers > 1:
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        with ctx.Pool(workers) as pool:
            for clip in pool.imap(render_clip, jobs):
                buf.append(clip)
                bar.update(CLIP)
                if len(buf) == CLIPS_PER_SHARD:
                    flush()
    else:
        for job in jobs:
            buf.append(render_clip(job))
            bar.update(CLIP)
            if len(buf) == CLIPS_PER_SHARD:
                flush()
    flush()
    bar.close()
    (out / "meta.json").write_text(json.dumps({
        "frames": n_clips * CLIP, "clips": n_clips, "clip": CLIP, "stride_ticks": STRIDE, "size": list(size),
        "styles": list(styles), "seed": seed, "recolor": recolor, "worlds": [f"{k}:{n}" for k, n in _worlds()]}, indent=2))
    return out


def views(data: dict, i: int):
    """The camera of frame ``i`` of loaded ``data`` as a :class:`renderer.gbuffer.View`."""
    from renderer.gbuffer import View

    if "view" not in data:
        raise ValueError("these frames predate stored cameras (no 'view'); regenerate them with "
                         "python -m renderer.dataset")
    v = data["view"][i]
    h, w = data["albedo"].shape[1:3]
    return View(tuple(v[0:3]), tuple(v[3:6]), tuple(v[6:9]), float(v[9]), (w, h))


def load(data_dir) -> dict[str, np.ndarray]:
    """All shards of ``data_dir`` concatenated (``prev`` re-indexed), plus ``styles``."""
    d = Path(data_dir)
    files = sorted(d.glob("shard_*.npz"))
    if not files:
        raise FileNotFoundError(f"no shard_*.npz in {d}; make data with: python -m renderer.dataset {d} --frames 384")
    parts = [dict(np.load(f)) for f in files]
    out = {}
    for k in parts[0]:
        out[k] = np.concatenate([p[k] for p in parts])
    off, prevs = 0, []
    for p in parts:
        prevs.append(np.where(p["prev"] >= 0, p["prev"] + off, -1))
        off += len(p["prev"])
    out["prev"] = np.concatenate(prevs)
    meta = json.loads((d / "meta.json").read_text()) if (d / "meta.json").exists() else {}
    out["styles"] = np.array(meta.get("styles", ["realistic", "toon", "pixel", "painterly"]))
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Generate restyler training data (G-buffers + teacher frames).")
    ap.add_argument("out_dir")
    ap.add_argument("--frames", type=int, default=384)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--recolor", type=float, default=0.0,
                    help="share of clips drawn with random entity and sky colours (0..1; default 0)")
    a = ap.parse_args(argv)
    generate(a.out_dir, a.frames, (a.size, a.size), seed=a.seed, workers=a.workers, recolor=a.recolor)


if __name__ == "__main__":
    main()
