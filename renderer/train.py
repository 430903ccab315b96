"""Training and evaluating the restyler (:mod:`renderer.restyler`) on data from :mod:`renderer.dataset`.

:func:`train` fits :class:`renderer.restyler.RestylerNet` with the flow-matching / x0 objective: per sample
a random frame and style (pixel art drawn most often, :data:`STYLE_WEIGHTS`), from one or more datasets
taken in turn (larger frames cropped to the smallest size at multiples of 8 pixels), the teacher frame
``x0`` noised to ``x_σ = (1-σ)·x0 + σ·ε`` with σ = 1 for half the samples (the one-step mode) and
σ ~ U(0, 1) otherwise; loss ``MSE + 0.5·L1`` on the x0 estimate. The per-pixel material classes feed the
appearance codes. For a network with ``history_input`` (not the
default: the shipped restyler only blends the warped history into its output), the previous teacher
frame, backward-warped with the exact motion and masked by occlusion, is the temporal conditioning
(dropped for 30% of samples, and jittered with noise).
AdamW, cosine learning-rate decay over the budget (``minutes`` of wall time or ``steps``), checkpoints
(``checkpoint.pt``) every minute; ``resume=True`` continues from one. The result is ``model.safetensors`` +
``config.json`` (diffusers ``save_pretrained``) and ``metrics.json`` in ``out_dir``.

Command line: ``python -m renderer.train DATA_DIR [DATA_DIR ...] OUT_DIR --minutes 30 [--eval-dir HELD_OUT_DIR]``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from renderer import dataset as ds
from renderer.restyler import (EDGE_CHANNELS, STYLES, Restyler, RestylerNet, background_rays, base_condition,
                               warp_previous)
from renderer.teachers import N_MATERIALS, PIXEL_BLOCK

P_ONE_STEP = 0.5
P_DROP_PREV = 0.3
#: how often each style is drawn: pixel art, the hardest to match (discrete palette, 4×4 blocks), most
STYLE_WEIGHTS = {"realistic": 0.25, "toon": 0.2, "pixel": 0.35, "painterly": 0.2}


def frame_condition(data: dict, i: int, edges: str, sky_rays: bool) -> np.ndarray:
    """:func:`base_condition` of frame ``i`` of loaded ``data`` (with the sky's view rays if ``sky_rays``)."""
    seg = data["segmentation"][i]
    rays = background_rays(ds.views(data, i), seg) if sky_rays else None
    return base_condition(data["albedo"][i], data["normal"][i].astype(np.float32), data["depth"][i], seg, edges,
                          rays)


def prepare(data: dict, edges: str = "segmentation", sky_rays: bool = False,
            pixel_snap: bool = False) -> dict[str, torch.Tensor]:
    """Tensors for training/evaluation: ``cond`` (N, 8, H, W), ``target`` (N, S, 3, H, W) in [-1, 1] (with
    ``pixel_snap``, the pixel style's target is its colours before the palette, ``pixel_base``),
    ``warped`` (N, S, 3, H, W) previous teacher frame warped into frame t, ``valid`` (N, 1, H, W),
    ``material`` (N, H, W) per-pixel material ids (all background when the data predates them)."""
    n = len(data["albedo"])
    cond = np.stack([frame_condition(data, i, edges, sky_rays) for i in range(n)])
    target = torch.from_numpy(data["target"].astype(np.float32) / 127.5 - 1).permute(0, 1, 4, 2, 3).contiguous()
    s = target.shape[1]
    warped = torch.zeros_like(target)
    valid = torch.zeros(n, 1, *target.shape[-2:])
    prev = data["prev"]
    has = np.flatnonzero(prev >= 0)
    if len(has):
        pi = prev[has]
        seg = torch.from_numpy(data["segmentation"][has]).long()
        pseg = torch.from_numpy(data["segmentation"][pi]).long()
        dep = torch.from_numpy(data["depth"][has])
        pdep = torch.from_numpy(data["depth"][pi])
        mot = torch.from_numpy(data["motion"][has])
        img = target[pi].reshape(len(has), s * 3, *target.shape[-2:])
        w, v = warp_previous(img, mot, seg, pseg, dep, pdep)
        warped[has] = w.reshape(len(has), s, 3, *target.shape[-2:])
        valid[has] = v
    if pixel_snap:
        if "pixel_base" not in data:
            raise ValueError("these frames predate pixel_base (pixel art before its palette), which a restyler "
                             "with pixel_snap learns; regenerate them with python -m renderer.dataset")
        si = [str(x) for x in data["styles"]].index("pixel")
        target[:, si] = torch.from_numpy(data["pixel_base"].astype(np.float32) / 127.5 - 1).permute(0, 3, 1, 2)
    material = data.get("material")
    material = (torch.from_numpy(material.astype(np.int64)) if material is not None
                else torch.full(data["segmentation"].shape, N_MATERIALS, dtype=torch.long))
    return {"cond": torch.from_numpy(cond).permute(0, 3, 1, 2).contiguous(), "target": target,
            "warped": warped, "valid": valid, "material": material}


def _crop(a: torch.Tensor, ys: torch.Tensor, xs: torch.Tensor, size: int) -> torch.Tensor:
    """``a[i, ..., ys[i]:ys[i]+size, xs[i]:xs[i]+size]`` stacked over the batch."""
    return torch.stack([a[i, ..., y:y + size, x:x + size] for i, (y, x) in enumerate(zip(ys.tolist(), xs.tolist()))])


def _batch(t: dict, idx: torch.Tensor, style: torch.Tensor, gen: torch.Generator, train: bool = True,
           crop: int | None = None, history: bool = True):
    """(x0, cond, material) for frames ``idx`` in styles ``style``; ``crop`` takes a random crop of that
    side from each frame, at a multiple of 8 pixels (so the pixel style's 4×4 blocks stay aligned);
    ``history=False`` marks the warped previous frame invalid everywhere (a network that never sees it)."""
    x0 = t["target"][idx, style]
    warped = t["warped"][idx, style]
    valid = t["valid"][idx].clone()
    base, material = t["cond"][idx], t["material"][idx]
    h, w = x0.shape[-2:]
    if crop is not None and (crop < h or crop < w):
        ys = torch.randint((h - crop) // 8 + 1, (len(idx),), generator=gen) * 8
        xs = torch.randint((w - crop) // 8 + 1, (len(idx),), generator=gen) * 8
        x0, warped, valid, base, material = (_crop(a, ys, xs, crop) for a in (x0, warped, valid, base, material))
    if not history:
        valid.zero_()
    elif train:
        drop = torch.rand(len(idx), generator=gen) < P_DROP_PREV
        valid[drop] = 0
        warped = (warped + 0.03 * torch.randn(warped.shape, generator=gen)).clamp(-1, 1)
    cond = torch.cat([base, warped * valid, valid * 2 - 1], dim=1)
    return x0, cond, material


def _lr(base: float, frac: float) -> float:
    warm = min(1.0, frac / 0.03) if frac < 0.03 else 1.0
    return base * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0))))


def train(data_dir, out_dir, minutes: float | None = 20.0, steps: int | None = None, resume: bool = True,
          seed: int = 0, progress: bool = True, batch_size: int = 32, lr: float = 2e-3,
          eval_dir=None, threads: int | None = None, net_config: dict | None = None) -> dict:
    """Trains the restyler on ``data_dir`` into ``out_dir`` for ``minutes`` of wall time in total or
    ``steps`` optimiser steps (whichever comes first; either may be None, not both). Returns the metrics.

    ``data_dir`` may be a list of datasets, at different frame sizes: each step draws its batch from one
    of them in turn, cropping larger frames to the smallest size (so the network learns how things look
    at the larger sizes it is used at, for the cost of the small ones)."""
    from tqdm import tqdm

    if minutes is None and steps is None:
        raise ValueError("give minutes or steps")
    if threads:
        torch.set_num_threads(threads)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dirs = [data_dir] if isinstance(data_dir, (str, Path)) else list(data_dir)
    torch.manual_seed(seed)
    # defaults of new weights: appearance codes on; the sky's view rays in; the warped history only blended
    # in, never an input; pixel art learnt before its palette and snapped after
    net = RestylerNet(**{"materials": N_MATERIALS + 1, "history_input": False, "sky_rays": True,
                         "pixel_snap": True, **(net_config or {})})
    sets = []
    for d in dirs:
        data = ds.load(d)
        styles = tuple(str(s) for s in data["styles"])
        if styles != STYLES:
            raise ValueError(f"data styles {styles} of {d} differ from the restyler's {STYLES}")
        sets.append(prepare(data, net.config.edges, net.config.sky_rays, net.config.pixel_snap))
    crop = min(min(t["target"].shape[-2:]) for t in sets)
    style_p = torch.tensor([STYLE_WEIGHTS[s] for s in STYLES])
    crop -= crop % net.factor
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    step, elapsed, losses = 0, 0.0, []
    ckpt = out / "checkpoint.pt"
    if resume and ckpt.exists():
        st = torch.load(ckpt, weights_only=False)
        net.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        gen.set_state(st["gen"])
        step, elapsed, losses = st["step"], st["elapsed"], st["losses"]
    budget_s = minutes * 60 if minutes is not None else math.inf
    net.train()
    bar = tqdm(total=steps, initial=step, desc="restyler", unit="step", disable=not progress)
    t0, last_ckpt = time.time() - elapsed, time.time()

    def save_ckpt():
        torch.save({"model": net.state_dict(), "opt": opt.state_dict(), "gen": gen.get_state(), "step": step,
                    "elapsed": time.time() - t0, "losses": losses}, ckpt)

    while True:
        elapsed = time.time() - t0
        if (steps is not None and step >= steps) or elapsed >= budget_s:
            break
        frac = max(step / steps if steps else 0.0, elapsed / budget_s if budget_s < math.inf else 0.0)
        for g in opt.param_groups:
            g["lr"] = _lr(lr, frac)
        t = sets[step % len(sets)]
        idx = torch.randint(len(t["target"]), (batch_size,), generator=gen)
        style = torch.multinomial(style_p, batch_size, replacement=True, generator=gen)
        x0, cond, material = _batch(t, idx, style, gen, crop=crop, history=net.config.history_input)
        sigma = torch.where(torch.rand(batch_size, generator=gen) < P_ONE_STEP, torch.ones(batch_size),
                            torch.rand(batch_size, generator=gen))
        noise = torch.randn(x0.shape, generator=gen)
        xt = (1 - sigma)[:, None, None, None] * x0 + sigma[:, None, None, None] * noise
        pred = net(xt, cond, sigma, style, material)
        loss = F.mse_loss(pred, x0) + 0.5 * F.l1_loss(pred, x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        bar.update(1)
        if step % 20 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-50:]):.4f}", lr=f"{opt.param_groups[0]['lr']:.1e}")
        if time.time() - last_ckpt > 60:
            save_ckpt()
            last_ckpt = time.time()
    bar.close()
    save_ckpt()
    net.eval()
    net.save(out)
    metrics = {"steps": step, "train_minutes": round((time.time() - t0) / 60, 2),
               "frames": int(sum(len(t["target"]) for t in sets)), "crop": crop,
               "batch_size": batch_size, "lr": lr, "seed": seed,
               "data_dir": str(dirs[0]) if len(dirs) == 1 else [str(d) for d in dirs],
               "final_loss": float(np.mean(losses[-100:])) if losses else None,
               "params": sum(p.numel() for p in net.parameters())}
    if eval_dir is not None:
        metrics["held_out"] = evaluate(Restyler(net), eval_dir)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


# ---------------------------------------------------------------- evaluation


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM of two uint8 (H, W, 3) images (Gaussian window σ = 1.5, per channel)."""
    x = torch.from_numpy(a.astype(np.float32)).permute(2, 0, 1)[None]
    y = torch.from_numpy(b.astype(np.float32)).permute(2, 0, 1)[None]
    k = torch.exp(-(torch.arange(11) - 5.0) ** 2 / (2 * 1.5 ** 2))
    k = (k / k.sum())
    w = (k[:, None] * k[None, :]).expand(3, 1, 11, 11)

    def f(z):
        return F.conv2d(z, w, padding=5, groups=3)

    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    m = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(m.mean())


def evaluate(restyler: Restyler, data_dir, steps_list=(1, 2, 4), max_frames: int | None = None,
             seed: int = 0) -> dict:
    """PSNR/SSIM of restyled vs teacher frames of ``data_dir`` per style and step count (no previous frame),
    ``{style: {"1": {"psnr": .., "ssim": ..}, ...}}``."""
    data = ds.load(data_dir)
    n = len(data["albedo"]) if max_frames is None else min(max_frames, len(data["albedo"]))
    styles = [str(s) for s in data["styles"]]
    res: dict = {}
    for si, style in enumerate(styles):
        res[style] = {}
        for k in steps_list:
            ps, ss = [], []
            for i in range(n):
                cond = frame_condition(data, i, restyler.edges, restyler.sky_rays)
                mat = data["material"][i] if "material" in data else None
                ink = data["pixel_outline"][i][::PIXEL_BLOCK, ::PIXEL_BLOCK] if "pixel_outline" in data else None
                img = restyler.restyle_arrays(cond, style, steps=k, seed=seed, material=mat, outline=ink)
                ps.append(psnr(img, data["target"][i, si]))
                ss.append(ssim(img, data["target"][i, si]))
            res[style][str(k)] = {"psnr": round(float(np.mean(ps)), 2), "ssim": round(float(np.mean(ss)), 4)}
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Train the restyler.")
    ap.add_argument("data_dir", nargs="+", help="one or more datasets (python -m renderer.dataset)")
    ap.add_argument("out_dir")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--eval-dir", default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--edges", choices=EDGE_CHANNELS, default="geometry", help="the edge channel (default geometry)")
    ap.add_argument("--history-input", action="store_true",
                    help="also feed the network the warped previous frame (default: it is only blended in)")
    a = ap.parse_args(argv)
    m = train(a.data_dir, a.out_dir, minutes=a.minutes, steps=a.steps, resume=not a.no_resume, seed=a.seed,
              batch_size=a.batch_size, lr=a.lr, eval_dir=a.eval_dir, threads=a.threads,
              net_config={"edges": a.edges, "history_input": a.history_input})
    print(json.dumps(m, indent=2))


if __name__ == "__main__":
    main()
