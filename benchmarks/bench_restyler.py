"""Restyler benchmark: speed, quality against the teachers, and temporal stability.

Measures, in one run, on this machine (``torch.set_num_threads(2)``):

1. 1-step restyle fps at 256² (network + conditioning + warp), and the network alone.
2. End-to-end fps at 256²: physics tick + G-buffer + 1-step restyle with the previous frame warped in,
   with the G-buffer's coarse cast (every 2nd ray a side, refined where unsure: the interactive default)
   and, as the baseline, every ray; and the PSNR against the teacher at 256² with each. Also pipelined
   (:class:`renderer.Renderer`'s ``submit``: each frame's restyle on a worker thread while the next tick
   and G-buffer cast run; frames delivered per second, each one frame late).
3. PSNR / SSIM vs the teacher per style at 1/2/4 steps on held-out frames (``--heldout DIR`` from
   ``python -m renderer.dataset DIR --frames 32 --seed 1``), with the flat albedo as the baseline.
4. Warping error (Lai et al. 2018): frame t−1's output warped by the exact motion, masked by occlusion,
   mean squared difference to frame t's output (0..1 RGB), on a 256² clip of bowling (the ball rolling
   into the pins, 30 fps), at 1 and 4 steps — with reprojection (previous output warped in and blended,
   its noise carried along the motion) vs without (each frame restyled on its own with fresh noise, seed =
   frame index); the teacher's own warping error
   is the reference; and the PSNR against the teacher with and without reprojection (its cost in fidelity).
5. PSNR vs the teacher at 256² on worlds the reasoner builds from prompts the training data never used
   (their layouts and colours are new: :data:`UNSEEN_PROMPTS`).

``python benchmarks/bench_restyler.py [--heldout DIR ...] [--compare OLD_WEIGHTS] [--frames 24] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer import restyler as rs  # noqa: E402
from renderer.gbuffer import gbuffer, poses  # noqa: E402
from renderer.stream import Renderer  # noqa: E402


def _fps(fn, n: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - t)


def speed(r: rs.Restyler, n: int = 20) -> dict:
    from physics.simulation import Simulation
    from worldgen.example_worlds import example_script, example_spec

    spec, script = example_spec("bowling"), example_script("bowling")
    sim = Simulation(spec, seed=0)
    for _ in range(140):
        sim.step(script.get(sim.tick))
    gb = gbuffer(sim, (256, 256))
    cond = r.condition(gb)
    x = torch.zeros(1, 3, 256, 256)
    c = torch.zeros(1, rs.COND_CHANNELS, 256, 256)
    s, st = torch.ones(1), torch.zeros(1, dtype=torch.long)
    mat = r.materials(gb)
    mat_t = torch.from_numpy(mat)[None] if mat is not None else None
    with torch.no_grad():
        net_fps = _fps(lambda: r.net(x, c, s, st, mat_t), n)
    restyle_fps = _fps(lambda: r.restyle_arrays(cond, "realistic", material=mat), n)
    def end_to_end(coarse: int, n: int) -> float:
        """fps of tick + G-buffer (``coarse`` ray spacing) + restyle with the previous frame warped in."""
        state = {"prev": rs.restyle_world(sim, (256, 256), "realistic", restyler=r, coarse=coarse)}

        def tick():
            sim.step(script.get(sim.tick))
            state["prev"] = rs.restyle_world(sim, (256, 256), "realistic", prev=state["prev"], restyler=r,
                                             coarse=coarse)

        return _fps(tick, n)

    def pipelined(n: int) -> float:
        """The same, with each frame's restyle on renderer.Renderer's worker thread while the next tick and
        G-buffer cast run: frames per second delivered, each one frame late."""
        with Renderer(sim, (256, 256), "realistic", restyler=r) as rd:
            state = {"pending": rd.submit()}

            def tick():
                sim.step(script.get(sim.tick))
                following = rd.submit()
                state["pending"].result()
                state["pending"] = following

            fps = _fps(tick, n)
            state["pending"].result()
        return fps

    e2e_exact, e2e_coarse, e2e_piped = [], [], []
    for _ in range(3):  # alternate, medians: the machine is shared
        e2e_exact.append(end_to_end(1, n))
        e2e_coarse.append(end_to_end(rs.COARSE, n))
        e2e_piped.append(pipelined(n))
    before = poses(sim)
    sim.step(script.get(sim.tick))
    gb_ms = {}
    for coarse in (1, rs.COARSE, 1, rs.COARSE, 1, rs.COARSE):
        t = time.perf_counter()
        for _ in range(n):
            gb = gbuffer(sim, (256, 256), prev_poses=before, coarse=coarse)
        gb_ms.setdefault(coarse, []).append((time.perf_counter() - t) / n * 1000)
    return {"net_fps_256": round(net_fps, 1), "restyle_1step_fps_256": round(restyle_fps, 1),
            "end_to_end_fps_256": round(float(np.median(e2e_coarse)), 1),
            "end_to_end_fps_256_every_ray": round(float(np.median(e2e_exact)), 1),
            "end_to_end_fps_256_pipelined": round(float(np.median(e2e_piped)), 1),
            "gbuffer_ms_256_every_ray": round(float(np.median(gb_ms[1])), 1),
            "gbuffer_ms_256_coarse": round(float(np.median(gb_ms[rs.COARSE])), 1),
            "coarse_refined_fraction": round(gb.recast_fraction, 3)}


def coarse_quality(r: rs.Restyler, frames: int = 4) -> dict:
    """PSNR vs the teacher at 256² on bowling frames: G-buffer cast with every ray vs coarse + refined."""
    from physics.simulation import Simulation
    from renderer.teachers import teach
    from renderer.train import psnr
    from worldgen.example_worlds import example_script, example_spec

    spec, script = example_spec("bowling"), example_script("bowling")
    sim = Simulation(spec, seed=0)
    out: dict = {}
    for f in range(frames):
        for _ in range(40 if f else 120):
            sim.step(script.get(sim.tick))
        gb = gbuffer(sim, (256, 256))
        for style in rs.STYLES:
            target = teach(gb, style, seed=0)
            row = out.setdefault(style, {"every_ray": [], "coarse": []})
            for key, coarse in (("every_ray", 1), ("coarse", rs.COARSE)):
                img = rs.restyle_world(sim, (256, 256), style, restyler=r, coarse=coarse).image
                row[key].append(psnr(img, target))
    return {s: {k: round(float(np.mean(v)), 2) for k, v in row.items()} for s, row in out.items()}


#: worlds none of the training data came from (their colours too): the reasoner builds them from prompts
UNSEEN_PROMPTS = ("a bowling alley with ten pins; the score counts fallen pins",
                  "a wrecking ball swinging into a tower of crates",
                  "a marble run with three ramps")


def unseen_worlds(r: rs.Restyler, size=(256, 256), frames: int = 2) -> dict:
    """PSNR vs the teacher per style on worlds the reasoner builds from :data:`UNSEEN_PROMPTS` (as a user
    gets them: ``worldgen.create``, default camera, coarse G-buffer), ``frames`` moments 60 ticks apart;
    mean over prompts and moments, and per prompt."""
    import worldgen
    from renderer.teachers import teach
    from renderer.train import psnr

    out: dict = {}
    for prompt in UNSEEN_PROMPTS:
        world = worldgen.create(prompt, seed=0)
        for _ in range(frames):
            world.step(ticks=60)
            gb = gbuffer(world.simulation, size)
            for style in rs.STYLES:
                img = rs.restyle_world(world, size, style, restyler=r).image
                out.setdefault(style, {}).setdefault(prompt, []).append(psnr(img, teach(gb, style, seed=0)))
    return {style: {"mean": round(float(np.mean(sum(per.values(), []))), 2),
                    **{p: round(float(np.mean(v)), 2) for p, v in per.items()}} for style, per in out.items()}


def quality(r: rs.Restyler, heldout: str, max_frames: int | None) -> dict:
    from renderer import dataset as ds
    from renderer.train import evaluate, psnr, ssim

    res = evaluate(r, heldout, (1, 2, 4), max_frames=max_frames)
    data = ds.load(heldout)
    n = len(data["albedo"]) if max_frames is None else min(max_frames, len(data["albedo"]))
    for si, style in enumerate(str(s) for s in data["styles"]):
        res[style]["albedo_baseline"] = {
            "psnr": round(float(np.mean([psnr(data["albedo"][i], data["target"][i, si]) for i in range(n)])), 2),
            "ssim": round(float(np.mean([ssim(data["albedo"][i], data["target"][i, si]) for i in range(n)])), 4)}
    return res


def warping_error(r: rs.Restyler, frames: int, size=(256, 256), style: str = "realistic", steps: int = 1,
                  teacher_frames: list | None = None) -> dict:
    """Warping error of ``style`` on the bowling clip with reprojection, without, and of the teacher itself,
    plus each mode's mean PSNR against the teacher frames (what reprojection costs in fidelity).
    ``teacher_frames`` reuses the teacher's clip from an earlier call."""
    from physics.simulation import Simulation
    from renderer.teachers import teach
    from renderer.train import psnr
    from worldgen.example_worlds import example_script, example_spec

    spec, script = example_spec("bowling"), example_script("bowling")
    out: dict = {}
    teacher_frames = teacher_frames if teacher_frames is not None else []
    for mode in ("teacher", "with_reprojection", "without_reprojection"):
        sim = Simulation(spec, seed=0)
        for _ in range(136):
            sim.step(script.get(sim.tick))
        prev = None
        errs, ps = [], []
        for f in range(frames):
            if f:
                for _ in range(2):
                    sim.step(script.get(sim.tick))
            gb = gbuffer(sim, size, prev_poses=prev.poses if prev is not None else None)
            if mode == "teacher":
                if len(teacher_frames) <= f:
                    teacher_frames.append(teach(gb, style, seed=0))
                img = teacher_frames[f]
            else:
                # without: every frame on its own, fresh noise (seed = frame index); with: the previous output
                # warped in and its noise carried along the motion (fresh only where disoccluded)
                frame = r.restyle_frame(gb, style, prev=prev if mode == "with_reprojection" else None, steps=steps,
                                        seed=f)
                img, noise = frame.image, frame.noise
                ps.append(psnr(img, teacher_frames[f]))
            if prev is not None:
                warped, valid = rs.prepare_prev(prev, gb)
                m = valid[..., None].astype(bool)
                d = ((warped.astype(np.float64) - img.astype(np.float64)) / 255.0) ** 2
                errs.append(float((d * m).sum() / max(1, m.sum() * 3)))
            prev = rs.Restyled(img, gb, poses(sim), noise if mode == "with_reprojection" else None)
        out[mode] = round(float(np.mean(errs)), 6)
        if ps:
            out[f"psnr_{mode}"] = round(float(np.mean(ps)), 2)
    out["ratio"] = round(out["with_reprojection"] / out["without_reprojection"], 3)
    out["psnr_loss_db"] = round(out["psnr_without_reprojection"] - out["psnr_with_reprojection"], 2)
    return out


def restyled_sheet(r: rs.Restyler, path: str, panel: int = 256) -> None:
    """A labelled PNG: one bowling frame (pins flying) in every style, the teacher above, the restyler
    (1 step, coarse G-buffer cast: what play shows) below."""
    from PIL import Image, ImageDraw

    from physics.simulation import Simulation
    from renderer.teachers import material_classes, teach
    from worldgen.example_worlds import example_script, example_spec

    spec, script = example_spec("bowling"), example_script("bowling")
    sim = Simulation(spec, seed=0)
    for _ in range(170):
        sim.step(script.get(sim.tick))
    cam = next((c for c in spec.cameras if c.name == "pins"), None)
    gb = gbuffer(sim, (panel, panel), camera=cam)
    label = 16
    sheet = Image.new("RGB", (panel * (1 + len(rs.STYLES)), label + 2 * (panel + label)), (24, 24, 28))
    draw = ImageDraw.Draw(sheet)
    sheet.paste(Image.fromarray(gb.albedo), (0, 2 * label))
    draw.text((6, 2), "albedo (input)", fill=(235, 235, 235))
    material = material_classes(gb)  # the appearance codes' ids, one colour per material class
    lut = (np.array([[0.55, 0.55, 0.55], [0.6, 0.4, 0.2], [0.75, 0.8, 0.9], [0.9, 0.3, 0.3], [0.25, 0.25, 0.3],
                     [0.3, 0.6, 0.3], [0.5, 0.45, 0.4], [0.6, 0.9, 1.0], [1.0, 0.9, 0.3], [0.1, 0.1, 0.15]]) * 255)
    sheet.paste(Image.fromarray(lut[material].astype(np.uint8)), (0, 3 * label + panel))
    draw.text((6, label + panel + 2 + label), "material per entity (input)", fill=(235, 235, 235))
    for j, style in enumerate(rs.STYLES, start=1):
        draw.text((j * panel + 6, 2), f"{style}: teacher", fill=(235, 235, 235))
        draw.text((j * panel + 6, label + panel + 2 + label), f"{style}: restyler, 1 step", fill=(235, 235, 235))
        sheet.paste(Image.fromarray(teach(gb, style, seed=0)), (j * panel, 2 * label))
        img = rs.restyle_world(sim, (panel, panel), style, camera=cam, restyler=r).image
        sheet.paste(Image.fromarray(img), (j * panel, 3 * label + panel))
    sheet.save(path)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=None)
    ap.add_argument("--heldout", nargs="*", default=[],
                    help="held-out dataset dirs (renderer.dataset, other seeds; e.g. one at 64², one at 128²)")
    ap.add_argument("--compare", default=None,
                    help="other weights (e.g. the previous ones) scored on the same held-out frames in this run")
    ap.add_argument("--max-frames", type=int, default=None)
    ap.add_argument("--frames", type=int, default=16, help="clip length for the warping error")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--sheet", default=None, help="also write the teacher-vs-restyler sheet here (docs/restyled.png)")
    a = ap.parse_args(argv)
    torch.set_num_threads(2)
    r = rs.Restyler.from_pretrained(a.weights)
    if a.sheet:
        restyled_sheet(r, a.sheet)
    res: dict = {}
    if not a.skip_speed:
        res["speed"] = speed(r)
        print(json.dumps(res["speed"]), flush=True)
    res["bowling_psnr_256_by_gbuffer_cast"] = coarse_quality(r)
    print(json.dumps(res["bowling_psnr_256_by_gbuffer_cast"]), flush=True)
    others = {"compare": rs.Restyler.from_pretrained(a.compare)} if a.compare else {}
    res["unseen_worlds_psnr_256"] = unseen_worlds(r)
    for name, other in others.items():
        res[f"unseen_worlds_psnr_256_{name}"] = unseen_worlds(other)
    print(json.dumps({k: v for k, v in res.items() if k.startswith("unseen")}, indent=1), flush=True)
    for d in a.heldout:
        res.setdefault("quality", {})[d] = quality(r, d, a.max_frames)
        for name, other in others.items():
            res.setdefault(f"quality_{name}", {})[d] = quality(other, d, a.max_frames)
    if a.heldout:
        print(json.dumps({k: v for k, v in res.items() if k.startswith("quality")}, indent=1), flush=True)
    res["warping_error"] = {}
    for style in ("realistic", "toon", "pixel"):
        clip: list = []
        for k in (1, 4):
            res["warping_error"][f"{style}@{k}step"] = warping_error(r, a.frames, style=style, steps=k,
                                                                      teacher_frames=clip)
    print(json.dumps(res["warping_error"]), flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    return res


if __name__ == "__main__":
    main()
