"""Milliseconds per G-buffer (ray caster vs TinyRenderer hybrid vs plain raster) and seconds per teacher style.

    python benchmarks/bench_gbuffer.py [--worlds bowling billiards dominoes] [--sizes 128 256] [--runs 7]
                                       [--styles realistic toon ...] [--style-size 256] [--style-runs 3]
                                       [--sheet docs/styles.png] [--json]
    python benchmarks/bench_gbuffer.py --coarse 256 [--worlds ...] [--runs 7]   # every ray vs coarse cast

Each example world runs its scripted lead-in (60 ticks: the bowling throw, the dominoes push, the
billiards break) so bodies are mid-motion, then each method renders the world's first camera, with
``prev_poses`` from the tick before (motion vectors included). Per run the methods alternate —
``raster.Rasterizer.render`` (the baseline: TinyRenderer albedo, depth and segmentation only),
``gbuffer(method="raycast")``, ``gbuffer(method="hybrid")`` — so all see the same machine load;
figures are medians of ``--runs`` runs of process CPU time (wall time on a shared machine swings by
2×). Exactness columns compare with the ray caster on pixels where both see the same entity: the
raster frame's segmentation agreement, the hybrid's normals more than 5° off and its motion error,
and normals derived from the raster depth with ``np.gradient``. Teacher styles are timed on bowling's
``pins`` camera at ``--style-size``². ``--sheet PATH`` also writes the contact sheet of
docs/rendering.md (albedo + every style, labelled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from physics.simulation import Simulation
from renderer.gbuffer import gbuffer, poses
from renderer.raster import Rasterizer
from renderer.teachers import STYLES, teach
from worldgen.example_worlds import example_script, example_spec
from worldgen.spec import Camera

LEAD_IN = 60
#: The ``palette`` style's palette in the benchmark and contact sheet: a dusk palette (dark to light).
DUSK = [(0.11, 0.09, 0.17), (0.29, 0.18, 0.33), (0.55, 0.27, 0.36), (0.85, 0.45, 0.35), (0.96, 0.76, 0.5),
        (0.99, 0.95, 0.8), (0.36, 0.55, 0.66)]


def _world(name: str, ticks: int = LEAD_IN) -> tuple[Simulation, dict]:
    """The example mid-motion: its script for ``ticks`` ticks; returns the sim and the poses one tick earlier."""
    sim = Simulation(example_spec(name))
    script = example_script(name)
    prev = poses(sim)
    for t in range(ticks):
        prev = poses(sim)
        sim.step(script.get(t))
    return sim, prev


def _timed(fn) -> float:
    """Milliseconds of this process's CPU time (steadier than wall time on a shared machine; every method
    measured is single-threaded)."""
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) * 1e3


def bench_gbuffers(worlds: list[str], sizes: list[int], runs: int) -> list[dict]:
    rows = []
    for name in worlds:
        sim, prev = _world(name)
        raster = Rasterizer(sim)
        for n in sizes:
            size = (n, n)
            raster.render(size)
            gbuffer(sim, size, prev_poses=prev)
            gbuffer(sim, size, prev_poses=prev, method="hybrid")
            base, ray, hyb = [], [], []
            for _ in range(runs):
                base.append(_timed(lambda: raster.render(size)))
                ray.append(_timed(lambda: gbuffer(sim, size, prev_poses=prev)))
                hyb.append(_timed(lambda: gbuffer(sim, size, prev_poses=prev, method="hybrid")))
            f = raster.render(size)
            a = gbuffer(sim, size, prev_poses=prev)
            b = gbuffer(sim, size, prev_poses=prev, method="hybrid")
            both = (a.segmentation == b.segmentation) & (a.segmentation >= 0)
            ang = _angle(a.normal[both], b.normal[both])
            grad = _depth_gradient_normals(f.depth, a)
            same = (f.segmentation == a.segmentation) & (a.segmentation >= 0)
            gang = _angle(a.normal[same], grad[same])
            dm = np.linalg.norm(a.motion[both] - b.motion[both], axis=-1)
            rows.append({
                "world": name, "size": n, "bodies": len(a.scene), "raster_ms": statistics.median(base),
                "raycast_ms": statistics.median(ray), "hybrid_ms": statistics.median(hyb),
                "seg_agreement_raster": float((f.segmentation == a.segmentation).mean()),
                "hybrid_normal_err_p50": float(np.median(ang)), "hybrid_normal_err_p99": float(np.percentile(ang, 99)),
                "hybrid_normal_err_gt5deg": float((ang > 5).mean()),
                "hybrid_motion_err_p99_px": float(np.percentile(dm, 99)), "hybrid_motion_err_max_px": float(dm.max()),
                "gradient_normal_err_p50": float(np.median(gang)),
                "gradient_normal_err_gt5deg": float((gang > 5).mean()),
            })
        sim.close()
    return rows


def bench_coarse(worlds: list[str], size: int, runs: int, coarse: int = 2) -> list[dict]:
    """Every ray vs the coarse cast (``gbuffer(coarse=)``, what interactive restyling uses) on each
    world's cameras: ms (process CPU, medians of alternating runs), share of pixels re-cast at full
    resolution, and exactness (ids and toon lines equal; depth, normal and motion differences)."""
    import torch

    import renderer.gbuffer as G

    torch.set_num_threads(1)  # the coarse cast's interpolation; process CPU time then equals wall time
    rows = []
    for name in worlds:
        sim, prev = _world(name)
        for cam in [c.name for c in sim.spec.cameras]:
            sz = (size, size)
            exact, fast = gbuffer(sim, sz, cam, prev_poses=prev), gbuffer(sim, sz, cam, prev_poses=prev, coarse=coarse)
            refined = fast.recast_fraction
            t_exact, t_fast = [], []
            for _ in range(runs):
                t_exact.append(_timed(lambda: gbuffer(sim, sz, cam, prev_poses=prev)))
                t_fast.append(_timed(lambda: gbuffer(sim, sz, cam, prev_poses=prev, coarse=coarse)))
            hit = exact.segmentation >= 0
            lines = [G.geometry_edges(g.segmentation, g.depth, g.normal) for g in (exact, fast)]
            rows.append({
                "world": name, "camera": cam, "size": size, "every_ray_ms": statistics.median(t_exact),
                "coarse_ms": statistics.median(t_fast), "refined_share": refined,
                "ids_equal": bool(np.array_equal(exact.segmentation, fast.segmentation)),
                "lines_equal": bool(np.array_equal(*lines)),
                "depth_err_max_rel": float((np.abs(fast.depth - exact.depth) / exact.depth)[hit].max()) if hit.any() else 0.0,
                "normal_err_max_deg": float(_angle(exact.normal[hit], fast.normal[hit]).max()) if hit.any() else 0.0,
                "motion_err_max_px": float(np.abs(fast.motion - exact.motion).max())})
        sim.close()
    return rows


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip((a * b).sum(-1), -1, 1)))


def _depth_gradient_normals(depth: np.ndarray, g) -> np.ndarray:
    """Normals derived from a depth map the usual way: world points from depth, np.gradient, a cross product."""
    view = g.view
    dirs = view.rays()
    fwd = view.basis()[0]
    pts = np.asarray(g.eye) + (depth / np.einsum("...i,i->...", dirs, fwd))[..., None] * dirs
    n = np.cross(np.gradient(pts, axis=1), np.gradient(pts, axis=0))
    n /= np.maximum(np.linalg.norm(n, axis=-1, keepdims=True), 1e-12)
    return np.where(((n * dirs).sum(-1) > 0)[..., None], -n, n)  # facing the camera


def bench_styles(styles: list[str], size: int, runs: int) -> list[dict]:
    sim, prev = _world("bowling", 100)
    g = gbuffer(sim, (size, size), "pins", prev_poses=prev)
    sim.close()
    rows = []
    for style in styles:
        pal = DUSK if style == "palette" else None
        spent = [_timed(lambda: teach(g, style, palette=pal)) / 1e3 for _ in range(runs)]
        rows.append({"style": style, "size": size, "seconds": statistics.median(spent)})
    return rows


def contact_sheet(path: str, panel: int = 224) -> None:
    """Writes the labelled contact sheet: rows of example frames, columns albedo + every style."""
    from PIL import Image, ImageDraw

    scenes = [  # (label, world, ticks of its script, camera)
        ("bowling: the throw, 1.7 s", "bowling", 100, "pins"),
        ("bowling: pins flying, 3.3 s", "bowling", 200, "pins"),
        ("dominoes: toppling, 1.2 s", "dominoes", 72,
         Camera(name="close", position=(0.35, -0.85, 0.45), target=(0.95, 0.12, 0.06), fov_deg=50)),
        ("billiards: the break", "billiards", 40, "cue_cam"),
    ]
    styles = ["albedo", *STYLES, "palette"]
    head, label_h = 18, 16
    sheet = Image.new("RGB", (panel * len(styles), head + (panel + label_h) * len(scenes)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    for j, style in enumerate(styles):
        draw.text((j * panel + 6, 3), style if style != "palette" else "palette (dusk)", fill=(235, 235, 235))
    for i, (label, world, ticks, cam) in enumerate(scenes):
        sim, prev = _world(world, ticks)
        g = gbuffer(sim, (panel, panel), cam, prev_poses=prev)
        sim.close()
        y = head + i * (panel + label_h)
        draw.text((6, y + 2), label, fill=(200, 200, 200))
        for j, style in enumerate(styles):
            img = g.albedo if style == "albedo" else teach(g, style, palette=DUSK if style == "palette" else None)
            sheet.paste(Image.fromarray(img), (j * panel, y + label_h))
    x0 = (len(styles) - 1) * panel + 110
    for k, c in enumerate(DUSK):  # the palette's swatches in its column header
        draw.rectangle([x0 + 14 * k, 4, x0 + 14 * k + 11, 14], fill=tuple(int(v * 255) for v in c))
    sheet.save(path)


def _table(gb_rows: list[dict], style_rows: list[dict]) -> str:
    out = ["| world | bodies | size | raster (baseline) ms | raycast ms | hybrid ms | raster seg = raycast |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for r in gb_rows:
        out.append(f"| {r['world']} | {r['bodies']} | {r['size']}² | {r['raster_ms']:.1f} | {r['raycast_ms']:.1f} | "
                   f"{r['hybrid_ms']:.1f} | {100 * r['seg_agreement_raster']:.1f} % |")
    out += ["", "| world | size | hybrid normals > 5° off | hybrid motion err p99 / max px | "
            "depth-gradient normals: median err, > 5° off |", "|---|---:|---:|---:|---:|"]
    for r in gb_rows:
        out.append(f"| {r['world']} | {r['size']}² | {100 * r['hybrid_normal_err_gt5deg']:.2f} % | "
                   f"{r['hybrid_motion_err_p99_px']:.2f} / {r['hybrid_motion_err_max_px']:.1f} | "
                   f"{r['gradient_normal_err_p50']:.1f}°, {100 * r['gradient_normal_err_gt5deg']:.1f} % |")
    if style_rows:
        out += ["", "| style | size | seconds per frame |", "|---|---:|---:|"]
        out += [f"| {r['style']} | {r['size']}² | {r['seconds']:.2f} |" for r in style_rows]
    return "\n".join(out)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", nargs="+", default=["bowling", "billiards", "dominoes"])
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--styles", nargs="*", default=[*STYLES, "palette"], help="teacher styles to time (none: skip)")
    ap.add_argument("--style-size", type=int, default=256)
    ap.add_argument("--style-runs", type=int, default=3)
    ap.add_argument("--sheet", help="also write the contact sheet PNG here (e.g. docs/styles.png)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of markdown tables")
    ap.add_argument("--coarse", type=int, default=None, metavar="SIZE",
                    help="instead: every ray vs the coarse cast at SIZE² on every camera of --worlds")
    a = ap.parse_args()
    if a.coarse:
        rows = bench_coarse(a.worlds, a.coarse, a.runs)
        if a.json:
            print(json.dumps(rows, indent=2))
        else:
            print("| world | camera | every ray ms | coarse ms | re-cast | ids, lines equal | depth err max | "
                  "normal err max | motion err max |\n|---|---|---:|---:|---:|---|---:|---:|---:|")
            for r in rows:
                print(f"| {r['world']} | {r['camera']} | {r['every_ray_ms']:.1f} | {r['coarse_ms']:.1f} | "
                      f"{100 * r['refined_share']:.0f} % | {'yes' if r['ids_equal'] and r['lines_equal'] else 'NO'} | "
                      f"{100 * r['depth_err_max_rel']:.2f} % | {r['normal_err_max_deg']:.2f}° | "
                      f"{r['motion_err_max_px']:.3f} px |")
        raise SystemExit(0)
    if a.runs < 1 or a.style_runs < 1 or not all(8 <= s <= 2048 for s in [*a.sizes, a.style_size]):
        ap.error("runs must be ≥ 1 and sizes in 8..2048")
    gb_rows = bench_gbuffers(a.worlds, a.sizes, a.runs)
    style_rows = bench_styles(a.styles, a.style_size, a.style_runs)
    if a.sheet:
        contact_sheet(a.sheet)
    print(json.dumps({"gbuffer": gb_rows, "styles": style_rows}, indent=2) if a.json else _table(gb_rows, style_rows))
