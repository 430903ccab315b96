"""The fast restyler: a small conditional diffusion model from G-buffers to styled frames.

A world's exact G-buffer (:mod:`renderer.gbuffer`) goes in; a frame in one of the teacher styles
(:data:`STYLES`, targets from :mod:`renderer.teachers`) comes out, at any size (the network is fully
convolutional; it was trained at 64², see docs/restyler.md).

- Network (:class:`RestylerNet`, a diffusers ``ModelMixin``/``ConfigMixin``): pixel-unshuffle ×8 →
  1×1 conv stem → residual blocks with FiLM from a learned per-style embedding and the noise level →
  pixel-shuffle ×8, joined with the full-resolution inputs by a per-pixel (1×1) head. Inputs per pixel:
  the noisy image (3) and the conditioning (12): albedo (3), world normal (3), log depth (1),
  edges (1), the previous output warped by the motion vectors (3) and its validity mask (1); and, for
  weights with ``materials`` > 0, a per-entity appearance code (``appearance_dim`` channels): a learned
  code per material class of the entity's ``appearance.look`` (wood, metal, cloth, glass, …; see
  :func:`renderer.teachers.material_classes`), painted through the segmentation map — so a rule that
  turns a pin to gold changes that pin's material in the very next frame, not only its colour.
- Objective: flow matching (``x_σ = (1-σ)·x0 + σ·ε``) with an **x0-prediction** parameterisation. The
  stock diffusers ``FlowMatchEulerDiscreteScheduler`` samples with ``steps > 1`` (the x0 estimate is turned
  into the velocity ``(x_σ - x0)/σ`` it expects). ``steps == 1`` evaluates the network once at σ = 1 and
  returns its x0 estimate directly: the distilled 1-step mode (training puts half its samples at σ = 1).
- Temporal consistency: the previous output is backward-warped with the exact motion vectors
  (``torch.nn.functional.grid_sample``), masked where the surface was occluded or off screen (segmentation
  mismatch, depth mismatch, outside the image), clamped to the new frame's local colour range
  (:func:`clamp_to_neighbourhood`: no ghost trails) and blended into the result (:data:`BLEND`); weights
  with ``history_input`` also take it as a network input (the shipped ones do not).
  Noise comes from a seeded ``torch.Generator``: same inputs + seed ⇒ same bytes.
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from renderer.teachers import pixel_outlines, snap_to_palette, to_uint8

try:
    from diffusers import FlowMatchEulerDiscreteScheduler
    from diffusers.configuration_utils import ConfigMixin, register_to_config
    from diffusers.models.modeling_utils import ModelMixin
except ImportError as exc:  # pragma: no cover - diffusers is a declared dependency
    raise ImportError("renderer.restyler needs diffusers: pip install 'diffusers>=0.30'") from exc

STYLES = ("realistic", "toon", "pixel", "painterly")
WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights" / "restyler"
RETRAIN = "worldgen train-restyler"
FAR, NEAR = 100.0, 0.05
MIN_SIZE, MAX_SIZE = 8, 2048
COND_CHANNELS = 12
WEIGHTS_NAME = "model.safetensors"
BLEND = 0.5  # weight of the warped previous output (clamped, see clamp_to_neighbourhood) where it is valid


class WeightsError(RuntimeError):
    """Restyler weights are missing or unreadable."""


def _retrain_hint(path) -> str:
    return (f"restyler weights missing or corrupted at {path}; retrain them with:\n  {RETRAIN}\n"
            f"(~60 min on 2 CPU cores: python -m renderer.dataset renders 64², 128² and 256² teacher frames, "
            f"python -m renderer.train fits the network; exact commands in weights/restyler/README.md)")


# ---------------------------------------------------------------- network


class _Block(nn.Module):
    def __init__(self, ch: int, emb: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.film = nn.Linear(emb, 2 * ch)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(e)[:, :, None, None].chunk(2, dim=1)
        h = F.silu(self.conv1(x))
        h = h * (1 + scale) + shift
        return x + self.conv2(h)


class RestylerNet(ModelMixin, ConfigMixin):
    """x0-predicting conditional denoiser (see the module docstring). 0.33 M parameters by default (0.35 M with appearance codes, as shipped)."""

    @register_to_config
    def __init__(self, cond_channels: int = COND_CHANNELS, image_channels: int = 3, channels: int = 64,
                 blocks: int = 3, down: int = 8, head_channels: int = 16, num_styles: int = len(STYLES),
                 emb_dim: int = 32, styles: tuple = STYLES, up_channels: int = 8, edges: str = "segmentation",
                 materials: int = 0, appearance_dim: int = 4, history_input: bool = True,
                 sky_rays: bool = False, pixel_snap: bool = False):
        super().__init__()
        if edges not in EDGE_CHANNELS:
            raise ValueError(f"unknown edge channel {edges!r}; channels: {', '.join(EDGE_CHANNELS)}")
        cin = cond_channels + image_channels + (appearance_dim if materials else 0)
        self.factor = down
        # per-entity appearance codes: a learned code per material class, painted through the segmentation map
        self.appearance = nn.Embedding(materials, appearance_dim) if materials else None
        self.stem = nn.Conv2d(cin * down * down, channels, 1)
        self.style_emb = nn.Embedding(num_styles, emb_dim)
        self.sigma_mlp = nn.Sequential(nn.Linear(16, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.res = nn.ModuleList([_Block(channels, emb_dim) for _ in range(blocks)])
        self.up = nn.Conv2d(channels, up_channels * down * down, 1)
        self.head1 = nn.Conv2d(up_channels + cin, head_channels, 1)
        self.head_film = nn.Linear(emb_dim, head_channels)
        self.head2 = nn.Conv2d(head_channels, image_channels, 1)

    def _sigma_features(self, sigma: torch.Tensor) -> torch.Tensor:
        freqs = torch.arange(8, device=sigma.device, dtype=torch.float32)
        ang = sigma.float()[:, None] * math.pi * (2.0 ** freqs)[None] / 4
        return torch.cat([ang.sin(), ang.cos()], dim=1)

    def appearance_map(self, material: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
        """The appearance-code channels (B, appearance_dim, H, W) for per-pixel material ids ``material``
        (B, H, W) long, or None for a network without codes."""
        if self.appearance is None:
            return None
        if material is None:
            raise ValueError("this restyler is conditioned on per-entity appearance codes: pass material= "
                             "(per-pixel material ids, renderer.teachers.material_classes)")
        return self.appearance(material.long()).permute(0, 3, 1, 2).to(like.dtype)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, sigma: torch.Tensor, style: torch.Tensor,
                material: torch.Tensor | None = None) -> torch.Tensor:
        """x0 estimate (B, 3, H, W) in [-1, 1] from the noisy image ``x`` (B, 3, H, W), conditioning
        ``cond`` (B, 12, H, W), noise level ``sigma`` (B,) in [0, 1], style ids (B,) and, for a network with
        appearance codes, per-pixel material ids ``material`` (B, H, W). H and W must be multiples of
        ``down`` (callers pad)."""
        app = self.appearance_map(material, x)
        # Written without full-resolution concatenations or pixel (un)shuffles: "pixel-unshuffle ×r then
        # 1×1 conv" is the same map as an r×r conv of stride r, and "1×1 conv then pixel-shuffle" is an r×r
        # transposed conv of stride r plus a tiled bias; the weights are stored in the 1×1 layout.
        r, nx = self.factor, x.shape[1]
        c = self.stem.out_channels
        e = self.style_emb(style) + self.sigma_mlp(self._sigma_features(sigma).to(x.dtype))
        ws = self.stem.weight.view(c, -1, r, r)
        nc = nx + cond.shape[1]
        h = F.conv2d(x, ws[:, :nx], self.stem.bias, stride=r) + F.conv2d(cond, ws[:, nx:nc], stride=r)
        if app is not None:
            h = h + F.conv2d(app, ws[:, nc:], stride=r)
        for b in self.res:
            h = b(F.silu(h), e)
        h = F.silu(h)
        u = self.up.out_channels // (r * r)
        wu = self.up.weight.view(u, r, r, c).permute(3, 0, 1, 2)
        h = F.conv_transpose2d(h, wu, stride=r) + self.up.bias.view(1, u, r, r).repeat(1, 1, h.shape[2], h.shape[3])
        w1 = self.head1.weight
        bias = self.head1.bias[None, :] + self.head_film(e)
        h = F.conv2d(h, w1[:, :u]) + F.conv2d(x, w1[:, u:u + nx]) + F.conv2d(cond, w1[:, u + nx:u + nc])
        if app is not None:
            h = h + F.conv2d(app, w1[:, u + nc:])
        return self.head2(F.relu(h + bias[:, :, None, None]))

    def forward_reference(self, x: torch.Tensor, cond: torch.Tensor, sigma: torch.Tensor, style: torch.Tensor,
                          material: torch.Tensor | None = None) -> torch.Tensor:
        """:meth:`forward` spelt with concatenations and pixel (un)shuffles (the same function; for tests)."""
        app = self.appearance_map(material, x)
        inp = torch.cat([x, cond] + ([app] if app is not None else []), dim=1)
        e = self.style_emb(style) + self.sigma_mlp(self._sigma_features(sigma).to(x.dtype))
        h = self.stem(F.pixel_unshuffle(inp, self.factor))
        for b in self.res:
            h = b(F.silu(h), e)
        h = F.pixel_shuffle(self.up(F.silu(h)), self.factor)
        h = F.relu(self.head1(torch.cat([h, inp], dim=1)) + self.head_film(e)[:, :, None, None])
        return self.head2(h)

    def save(self, path) -> None:
        """``config.json`` + ``model.safetensors`` in ``path`` (diffusers' ``save_pretrained``, the weights
        file renamed to the project's name)."""
        path = Path(path)
        self.save_pretrained(str(path))
        (path / "diffusion_pytorch_model.safetensors").replace(path / WEIGHTS_NAME)

    @classmethod
    def load(cls, path) -> RestylerNet:
        """Inverse of :meth:`save` (also reads a plain diffusers folder)."""
        path = Path(path)
        if (path / "diffusion_pytorch_model.safetensors").exists():
            return cls.from_pretrained(str(path))
        from safetensors.torch import load_file

        net = cls.from_config(cls.load_config(str(path)))
        net.load_state_dict(load_file(str(path / WEIGHTS_NAME)), strict=True)
        return net.eval()


# ---------------------------------------------------------------- conditioning


def seg_edges(seg: np.ndarray) -> np.ndarray:
    """1.0 where a pixel's segment differs from a 4-neighbour's, else 0 (float32 (H, W))."""
    e = np.zeros(seg.shape, dtype=bool)
    d = seg[1:, :] != seg[:-1, :]
    e[1:, :] |= d
    e[:-1, :] |= d
    d = seg[:, 1:] != seg[:, :-1]
    e[:, 1:] |= d
    e[:, :-1] |= d
    return e.astype(np.float32)


def norm_depth(depth: np.ndarray) -> np.ndarray:
    """Log depth mapped to [-1, 1] (NEAR → -1, FAR/background → 1)."""
    d = np.clip(depth.astype(np.float32), NEAR, FAR)
    return (np.log(d / NEAR) / math.log(FAR / NEAR) * 2 - 1).astype(np.float32)


EDGE_CHANNELS = ("segmentation", "geometry")


def edge_channel(segmentation, depth, normal, edges: str = "segmentation") -> np.ndarray:
    """The edge channel (H, W) float32 0/1: ``segmentation`` (object boundaries, both sides) or
    ``geometry`` (:func:`renderer.gbuffer.geometry_edges`: silhouettes, depth steps and creases, the
    lines a draughtsman would ink)."""
    if edges == "segmentation":
        return seg_edges(segmentation)
    if edges == "geometry":
        from renderer.gbuffer import geometry_edges

        w = segmentation.shape[1]
        return geometry_edges(segmentation, depth, normal, both_sides=w >= 200).astype(np.float32)
    raise ValueError(f"unknown edge channel {edges!r}; channels: {', '.join(EDGE_CHANNELS)}")


def base_condition(albedo, normal, depth, segmentation, edges: str = "segmentation",
                   rays: np.ndarray | None = None) -> np.ndarray:
    """The 8 G-buffer channels (H, W, 8) float32: albedo, normal, log depth, edges (:func:`edge_channel`).

    ``rays`` (H, W, 3): unit view rays (:func:`background_rays`); where given, the normal channel of the
    background carries the ray instead of 0 — every teacher's sky depends on the direction looked in."""
    edge_map = edge_channel(segmentation, depth, normal, edges)
    normal = normal.astype(np.float32)
    if rays is not None:
        normal = np.where((segmentation < 0)[..., None], rays.astype(np.float32), normal)
    return np.concatenate([
        albedo.astype(np.float32) / 127.5 - 1, normal,
        norm_depth(depth)[..., None], np.asarray(edge_map, dtype=np.float32)[..., None] * 2 - 1], axis=-1)


def background_rays(view, segmentation: np.ndarray) -> np.ndarray:
    """(H, W, 3) float32: the unit world-space ray of ``view`` (a :class:`renderer.gbuffer.View`) through
    each background pixel (``segmentation < 0``), 0 elsewhere."""
    out = np.zeros(segmentation.shape + (3,), dtype=np.float32)
    bg = np.flatnonzero(segmentation.ravel() < 0)
    if len(bg):
        out.reshape(-1, 3)[bg] = view.rays(bg)
    return out


def warp_previous(prev_img: torch.Tensor, motion: torch.Tensor, seg: torch.Tensor | None = None,
                  prev_seg: torch.Tensor | None = None, depth: torch.Tensor | None = None,
                  prev_depth: torch.Tensor | None = None, depth_tol: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """Backward-warps ``prev_img`` (B, C, H, W) to the current frame with ``motion`` (B, H, W, 2) pixels
    (``now - prev``): pixel centre ``p`` samples the previous image at ``p - motion``.

    Returns (warped (B, C, H, W), valid (B, 1, H, W) float 0/1). A pixel is invalid when its previous
    position is off screen, when the previous segmentation there (nearest) is another entity (``seg``,
    ``prev_seg`` (B, H, W) long) — disocclusion — or when the previous depth there differs by more than
    ``depth_tol`` relatively (``depth``, ``prev_depth`` (B, H, W)).
    """
    b, _, h, w = prev_img.shape
    px, py, grid = _previous_positions(motion, h, w)
    warped = F.grid_sample(prev_img.float(), grid, mode="bilinear", padding_mode="border", align_corners=False)
    valid = (px >= 0) & (px <= w) & (py >= 0) & (py <= h)
    if seg is not None and prev_seg is not None:
        ps = F.grid_sample(prev_seg[:, None].float(), grid, mode="nearest", padding_mode="border", align_corners=False)[:, 0]
        valid &= ps.round().long() == seg.long()
    if depth is not None and prev_depth is not None:
        pd = F.grid_sample(prev_depth[:, None].float(), grid, mode="nearest", padding_mode="border", align_corners=False)[:, 0]
        valid &= (pd - depth.float()).abs() <= depth_tol * depth.float().clamp_min(1e-3)
    return warped.to(prev_img.dtype), valid[:, None].to(prev_img.dtype)


def _previous_positions(motion: torch.Tensor, h: int, w: int):
    """Where each pixel centre of the current frame was in the previous one (``motion`` (B, H, W, 2)
    pixels, now − prev): x (B, H, W), y (B, H, W) and the same as a ``grid_sample`` grid."""
    ys, xs = _pixel_centres(h, w, motion.device)
    px = xs[None] - motion[..., 0].float()
    py = ys[None] - motion[..., 1].float()
    return px, py, torch.stack([px / w * 2 - 1, py / h * 2 - 1], dim=-1)


@functools.lru_cache(maxsize=8)
def _pixel_centres(h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """(y, x) of every pixel centre, (H, W) each; cached and never written to (frames keep their size)."""
    return torch.meshgrid(torch.arange(h, device=device, dtype=torch.float32) + 0.5,
                          torch.arange(w, device=device, dtype=torch.float32) + 0.5, indexing="ij")


def initial_noise(h: int, w: int, seed: int) -> np.ndarray:
    """The sampler's starting noise (H, W, 3) float32 for ``seed``: standard normal, deterministic."""
    return _noise(h, w, int(seed)).copy()


@functools.lru_cache(maxsize=4)
def _noise(h: int, w: int, seed: int) -> np.ndarray:  # a world renders with one seed frame after frame
    gen = torch.Generator(device="cpu").manual_seed(seed)
    return torch.randn(1, 3, h, w, generator=gen)[0].permute(1, 2, 0).contiguous().numpy()


def carry_noise(prev_noise: np.ndarray, motion: np.ndarray, valid: np.ndarray, seed: int) -> np.ndarray:
    """This frame's starting noise: the previous frame's noise moved with the surfaces (each pixel takes
    the noise of the pixel its surface point came from, nearest — still one standard normal per pixel),
    fresh :func:`initial_noise` where ``valid`` (H, W) is 0 (disoccluded or new on screen). A surface
    keeps its noise while it moves, so the sampler draws it the same way frame after frame."""
    h, w = valid.shape
    fresh = initial_noise(h, w, seed)
    *_, grid = _previous_positions(torch.from_numpy(np.asarray(motion, dtype=np.float32))[None], h, w)
    t = torch.from_numpy(np.ascontiguousarray(prev_noise, dtype=np.float32)).permute(2, 0, 1)[None]
    moved = F.grid_sample(t, grid, mode="nearest", padding_mode="border", align_corners=False)[0].permute(1, 2, 0)
    return np.where(np.asarray(valid)[..., None] > 0, moved.numpy(), fresh)


def clamp_to_neighbourhood(history: torch.Tensor, current: torch.Tensor, radius: int = 1) -> torch.Tensor:
    """``history`` (B, C, H, W) clamped per channel to the min..max of ``current`` over each pixel's
    (2·radius+1)² neighbourhood — the history rejection of temporal anti-aliasing: where the new frame has
    no such colour nearby (a ghost of something that moved away, a stale highlight) the history cannot
    bring it back, while small differences (flicker) still blend away."""
    # separable running max/min over shifted views (max_pool2d with stride 1 is ~10× slower on CPU)
    h, w = current.shape[-2:]
    pad = F.pad(current, (radius, radius, radius, radius), mode="replicate")
    rows_hi = rows_lo = pad[..., :, 0:w]
    for d in range(1, 2 * radius + 1):
        rows_hi = torch.maximum(rows_hi, pad[..., :, d:d + w])
        rows_lo = torch.minimum(rows_lo, pad[..., :, d:d + w])
    hi, lo = rows_hi[..., 0:h, :], rows_lo[..., 0:h, :]
    for d in range(1, 2 * radius + 1):
        hi = torch.maximum(hi, rows_hi[..., d:d + h, :])
        lo = torch.minimum(lo, rows_lo[..., d:d + h, :])
    return torch.maximum(torch.minimum(history, hi), lo)


# ---------------------------------------------------------------- the restyler


@dataclass(frozen=True)
class Restyled:
    """A restyled frame and what the next frame needs to stay consistent with it.

    ``image`` uint8 (H, W, 3); ``gbuffer`` the G-buffer it was made from; ``poses`` the world's poses then
    (pass this object as ``prev=`` next frame); ``noise`` the sampler's starting noise (moved with the
    surfaces into the next frame, :func:`carry_noise`). ``np.asarray(r)`` is the image.
    """

    image: np.ndarray
    gbuffer: Any
    poses: dict | None = None
    noise: np.ndarray | None = None  #: the sampler's starting noise (H, W, 3), carried to the next frame

    def __array__(self, dtype=None, copy=None):
        return self.image if dtype is None else self.image.astype(dtype)


def check_style(style: str) -> int:
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; styles: {', '.join(STYLES)}")
    return STYLES.index(style)


def _check_steps(steps) -> None:
    if not isinstance(steps, int) or not (1 <= steps <= 1000):
        raise ValueError(f"steps must be an integer in 1..1000, got {steps!r}")


def _check_shape(h: int, w: int) -> None:
    if not (MIN_SIZE <= h <= MAX_SIZE and MIN_SIZE <= w <= MAX_SIZE):
        raise ValueError(f"restyler frame size must be within {MIN_SIZE}..{MAX_SIZE} pixels a side, got {w}×{h}")


class Restyler:
    """Loads the trained :class:`RestylerNet` and restyles G-buffers (see the module docstring)."""

    def __init__(self, net: RestylerNet, device: str | torch.device = "cpu", config: dict | None = None):
        self.device = torch.device(device)
        self.net = net.to(self.device).eval()
        self.half = self.device.type == "cuda"  # fp16 + channels_last on CUDA (written, untested here)
        if self.half:
            self.net = self.net.half().to(memory_format=torch.channels_last)
        self.config = dict(config or {})
        #: weight of the warped previous output in the final blend, where it is valid
        self.blend = float(self.config.get("blend", BLEND))
        #: clamp the warped history to the colours around each pixel of the new frame before blending
        self.clamp_history = bool(self.config.get("clamp_history", True))
        #: feed the warped history to the network too (weights trained that way), else only blend it in
        self.condition_on_history = bool(getattr(net.config, "history_input", True))
        self.styles = tuple(net.config.styles) if getattr(net.config, "styles", None) else STYLES
        self.edges = getattr(net.config, "edges", "segmentation")  # which edge channel it was trained on
        #: whether the network takes per-entity appearance codes (material ids through the segmentation map)
        self.uses_materials = bool(getattr(net.config, "materials", 0))
        #: whether the background's normal channel carries the view ray (:func:`base_condition`)
        self.sky_rays = bool(getattr(net.config, "sky_rays", False))
        #: whether pixel art comes out before its palette (trained on ``pixel_base``) and is snapped here
        self.pixel_snap = bool(getattr(net.config, "pixel_snap", False))

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, device: str = "cpu") -> Restyler:
        """Loads ``model.safetensors`` + ``config.json`` from ``path`` (default: the shipped weights/restyler).

        Raises :class:`WeightsError` (saying how to retrain) when they are missing or corrupted."""
        path = Path(path) if path is not None else WEIGHTS_DIR
        has = (path / WEIGHTS_NAME).is_file() or (path / "diffusion_pytorch_model.safetensors").is_file()
        if not has or not (path / "config.json").is_file():
            raise WeightsError(_retrain_hint(path))
        try:
            net = RestylerNet.load(path)
        except Exception as exc:
            raise WeightsError(_retrain_hint(path) + f"\n(loading failed: {type(exc).__name__}: {exc})") from exc
        return cls(net, device)

    # -------------------------------------------------------------- core

    @torch.no_grad()
    def restyle_arrays(self, cond: np.ndarray, style: str, steps: int = 1, seed: int = 0,
                       prev_warped: np.ndarray | None = None, prev_valid: np.ndarray | None = None,
                       material: np.ndarray | None = None, noise: np.ndarray | None = None,
                       palette=None, outline: np.ndarray | None = None) -> np.ndarray:
        """Restyles precomputed G-buffer channels ``cond`` (H, W, 8) (see :func:`base_condition`);
        ``prev_warped`` (H, W, 3) uint8 and ``prev_valid`` (H, W) the warped previous output; ``material``
        (H, W) per-pixel material ids (:func:`renderer.teachers.material_classes`), needed when the network
        has appearance codes (:attr:`uses_materials`); ``noise`` (H, W, 3) the sampler's starting noise
        (default :func:`initial_noise` of ``seed``); ``palette`` pixel art's colours (default PICO-8) and
        ``outline`` its inked blocks (:func:`renderer.teachers.pixel_outlines`), both used by weights with
        :attr:`pixel_snap`, as the teacher uses them. Returns uint8."""
        sid = check_style(style)
        h, w = cond.shape[:2]
        _check_shape(h, w)
        _check_steps(steps)
        if prev_warped is None:
            prev_t = torch.zeros(1, 3, h, w)
            valid_t = torch.zeros(1, 1, h, w)
        else:
            prev_t = torch.from_numpy(prev_warped.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
            valid_t = torch.from_numpy(np.asarray(prev_valid, dtype=np.float32))[None, None]
        c = torch.from_numpy(np.ascontiguousarray(cond, dtype=np.float32)).permute(2, 0, 1)[None]
        mat = None
        if self.uses_materials:
            if material is None or np.shape(material) != (h, w):
                raise ValueError(f"this restyler needs material= per-pixel material ids of shape {(h, w)}")
            mat = torch.from_numpy(np.asarray(material, dtype=np.int64))[None]
        seen = valid_t if self.condition_on_history else torch.zeros_like(valid_t)
        if noise is None:
            noise = initial_noise(h, w, seed)
        elif np.shape(noise) != (h, w, 3):
            raise ValueError(f"noise has shape {np.shape(noise)}, expected {(h, w, 3)}")
        x = torch.from_numpy(np.ascontiguousarray(noise, dtype=np.float32)).permute(2, 0, 1)[None]
        out = self._sample(torch.cat([c, prev_t * seen, seen * 2 - 1], dim=1), sid, steps, x, mat)
        if self.clamp_history:
            prev_t = clamp_to_neighbourhood(prev_t, out)
        out = out * (1 - self.blend * valid_t) + prev_t * (self.blend * valid_t)
        if self.pixel_snap and STYLES[sid] == "pixel":
            return to_uint8(snap_to_palette((out[0].permute(1, 2, 0).numpy() + 1) / 2, palette, outline=outline))
        return ((out[0].permute(1, 2, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()

    def _sample(self, cond: torch.Tensor, sid: int, steps: int, x: torch.Tensor,
                material: torch.Tensor | None = None) -> torch.Tensor:
        """The sampler from starting noise ``x`` (B, 3, H, W) under ``cond``."""
        _check_steps(steps)
        _, _, h, w = cond.shape
        d = self.net.factor
        ph, pw = (-h) % d, (-w) % d
        if ph or pw:
            cond = F.pad(cond, (0, pw, 0, ph), mode="replicate")
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
            if material is not None:
                material = F.pad(material[:, None].float(), (0, pw, 0, ph), mode="replicate")[:, 0].long()
        if material is not None:
            material = material.to(self.device)
        dtype = torch.float16 if self.half else torch.float32
        cond = cond.to(self.device, dtype)
        x = x.to(self.device, dtype)
        if self.half:
            cond = cond.contiguous(memory_format=torch.channels_last)
        style = torch.full((cond.shape[0],), sid, dtype=torch.long, device=self.device)

        def x0_at(xt, sigma):
            s = torch.full((cond.shape[0],), float(sigma), device=self.device)
            return self.net(xt, cond, s, style, material).float()

        if steps == 1:
            out = x0_at(x, 1.0)
        else:
            sched = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=1.0)
            sched.set_timesteps(steps, device=self.device)
            xt = x.float()
            for t in sched.timesteps:
                sigma = float(t) / 1000.0
                x0 = x0_at(xt.to(dtype), sigma)
                v = (xt - x0) / max(sigma, 1e-4)
                xt = sched.step(v, t, xt, return_dict=False)[0]
            out = xt
        return out[:, :, :h, :w].cpu().float()

    def restyle(self, gb, style: str, prev=None, steps: int = 1, seed: int = 0,
                device: str | None = None, palette=None) -> np.ndarray:
        """A uint8 (H, W, 3) frame of G-buffer ``gb`` in ``style`` (:meth:`restyle_frame`'s image)."""
        return self.restyle_frame(gb, style, prev, steps, seed, device, palette).image

    def restyle_frame(self, gb, style: str, prev=None, steps: int = 1, seed: int = 0,
                      device: str | None = None, palette=None, inputs: tuple | None = None) -> Restyled:
        """G-buffer ``gb`` in ``style``, as a :class:`Restyled` (``poses`` None) to pass as the next ``prev``.

        ``prev``: the previous frame for temporal consistency — a :class:`Restyled` (its image is warped in
        and its noise carried along, :func:`carry_noise`), an ``(image, GBuffer)`` pair (occlusion from
        their segmentation and depth) or a bare uint8 image (occlusion unknown: only off-screen pixels are
        masked). ``gb.motion`` must be relative to that frame. ``steps``: 1 for the distilled one-step mode,
        more for the flow-matching sampler. ``seed``: the noise where none is carried. ``device`` moves the
        model first. ``palette``: pixel art's colours ((r, g, b) floats 0..1; default PICO-8). ``inputs``:
        ``self.inputs(gb)`` when already computed (e.g. on another thread).
        """
        if device is not None and torch.device(device) != self.device:
            self.__init__(self.net.float().to(memory_format=torch.contiguous_format), device, self.config)
        check_style(style)
        h, w = gb.albedo.shape[:2]
        _check_shape(h, w)
        cond, material = inputs if inputs is not None else self.inputs(gb)
        warped = valid = noise = None
        if prev is not None:
            warped, valid = prepare_prev(prev, gb)
            prev_noise = getattr(prev, "noise", None)
            if prev_noise is not None and np.shape(prev_noise) == (h, w, 3):
                noise = carry_noise(prev_noise, gb.motion, valid, seed)
        if noise is None:
            noise = initial_noise(h, w, seed)
        outline = pixel_outlines(gb) if self.pixel_snap and style == "pixel" else None
        img = self.restyle_arrays(cond, style, steps, seed, warped, valid, material, noise, palette, outline)
        return Restyled(img, gb, None, noise)

    def inputs(self, gb) -> tuple[np.ndarray, np.ndarray | None]:
        """What the network sees of ``gb`` besides the history: ``(condition(gb), materials(gb))``."""
        return self.condition(gb), self.materials(gb)

    def condition(self, gb) -> np.ndarray:
        """The G-buffer channels (H, W, 8) this network was trained on (:func:`base_condition`)."""
        rays = background_rays(gb.view, gb.segmentation) if self.sky_rays else None
        return base_condition(gb.albedo, gb.normal, gb.depth, gb.segmentation, self.edges, rays)

    def materials(self, gb) -> np.ndarray | None:
        """Per-pixel material ids of ``gb`` when the network uses appearance codes, else None."""
        if not self.uses_materials:
            return None
        from renderer.teachers import material_classes

        return material_classes(gb)


def prepare_prev(prev, gb) -> tuple[np.ndarray, np.ndarray]:
    """(warped uint8 (H, W, 3), valid float32 (H, W)) of a previous frame into ``gb``'s frame."""
    prev_gb = None
    if isinstance(prev, Restyled):
        img, prev_gb = prev.image, prev.gbuffer
    elif isinstance(prev, (tuple, list)) and len(prev) == 2:
        img, prev_gb = prev
    else:
        img = prev
    img = np.asarray(img)
    h, w = gb.albedo.shape[:2]
    if img.shape != (h, w, 3):
        raise ValueError(f"prev frame has shape {img.shape}, expected {(h, w, 3)}")
    t = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None]
    kw = {}
    if prev_gb is not None:
        kw = dict(seg=torch.from_numpy(gb.segmentation)[None], prev_seg=torch.from_numpy(prev_gb.segmentation)[None],
                  depth=torch.from_numpy(gb.depth)[None], prev_depth=torch.from_numpy(prev_gb.depth)[None])
    warped, valid = warp_previous(t, torch.from_numpy(gb.motion)[None], **kw)
    return warped[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy(), valid[0, 0].numpy()


_CACHE: dict[tuple, Restyler] = {}


def load(path=None, device: str = "cpu") -> Restyler:
    """The shipped (or ``path``) restyler, loaded once per process and device."""
    key = (str(path or WEIGHTS_DIR), str(device))
    if key not in _CACHE:
        _CACHE[key] = Restyler.from_pretrained(path, device)
    return _CACHE[key]


COARSE = 2  # interactive restyling casts every 2nd ray a side, then refines (renderer.gbuffer.gbuffer(coarse=))
COARSE_MIN_SIDE = 128  # ... in frames at least this big a side; smaller ones cast every ray


def restyle_world(world, size=(256, 256), style: str = "realistic", steps: int = 1, prev: Restyled | None = None,
                  camera=None, seed: int = 0, restyler: Restyler | None = None,
                  coarse: int | None = None) -> Restyled:
    """Restyles a :class:`worldgen.World` (or a bare :class:`physics.Simulation`) as it is now.

    Pass the returned :class:`Restyled` as ``prev`` next frame: motion vectors then come from its poses and
    the previous output is warped in. ``np.asarray(result)`` / ``result.image`` is the uint8 frame.
    ``coarse``: the G-buffer's coarse ray spacing (:func:`renderer.gbuffer.gbuffer`; ids, albedo and lines
    are exact at any spacing); None: :data:`COARSE` for frames of :data:`COARSE_MIN_SIDE` px a side and
    more, else 1 (every ray). Pixel art uses the world's palette (``spec.style.palette``, e.g. from a
    reference image) when it has one, as the teacher does. :class:`renderer.Renderer` keeps ``prev``
    itself and can overlap the restyle with the physics.
    """
    check_style(style)
    r = restyler or load()
    gb, now, palette = cast_world(world, size, camera, prev.poses if prev is not None else None, coarse)
    out = r.restyle_frame(gb, style, prev=prev, steps=steps, seed=seed, palette=palette)
    return replace(out, poses=now)


def cast_world(world, size=(256, 256), camera=None, prev_poses: dict | None = None, coarse: int | None = None):
    """What restyling ``world`` as it is now starts from: ``(gbuffer, poses, palette)`` — its G-buffer
    (motion from ``prev_poses``; ``coarse`` as in :func:`restyle_world`), its poses now (the next frame's
    ``prev_poses``) and pixel art's palette (the spec's ``style.palette``, or None for PICO-8)."""
    from renderer.gbuffer import gbuffer, poses
    from renderer.raster import check_size

    w, h = check_size(size)
    if coarse is None:
        coarse = COARSE if min(w, h) >= COARSE_MIN_SIDE else 1
    sim = simulation_of(world)
    gb = gbuffer(sim, (w, h), camera=camera, prev_poses=prev_poses, coarse=coarse)
    palette = getattr(getattr(getattr(sim, "spec", None), "style", None), "palette", None) or None
    return gb, poses(sim), palette


def simulation_of(world):
    """The :class:`physics.Simulation` behind a :class:`worldgen.World` (or the simulation itself)."""
    sim = getattr(world, "simulation", world)
    return sim() if callable(sim) else sim


def save_config(path: Path, extra: dict) -> None:
    """Merges ``extra`` into ``path``/config.json (training metadata next to the model config)."""
    cfg = json.loads((path / "config.json").read_text())
    cfg.update(extra)
    (path / "config.json").write_text(json.dumps(cfg, indent=2))
