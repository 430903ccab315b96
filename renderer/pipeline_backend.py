"""Optional big-model restyling: a user's local pretrained diffusers img2img pipeline, e.g. SD-Turbo (+ ControlNet).

Contract:

- :class:`PipelineBackend` loads a **local** pipeline folder (``model_index.json`` + component subfolders, as
  written by ``save_pretrained`` or downloaded earlier) with ``AutoPipelineForImage2Image`` — falling back to
  ``StableDiffusionImg2ImgPipeline`` for folders whose class AutoPipeline does not map. Given ``controlnet_path``
  (a ``ControlNetModel`` folder with ``config.json``), it builds the matching ControlNet img2img pipeline
  (``StableDiffusionControlNetImg2ImgPipeline`` for SD 1.x/2.x folders, fallback as above). Everything loads with
  ``local_files_only=True``: nothing is downloaded, no code from a folder runs, no safety checker is loaded.
  A missing folder, a folder that is not a pipeline (or ControlNet) folder, or one that fails to load raises
  ``ValueError`` naming the folder.
- :meth:`PipelineBackend.restyle` takes a rendered frame (``(H, W, 3)`` uint8, 16 ≤ H, W ≤ 1024) and a prompt and
  returns a restyled frame of exactly the same shape and dtype. Internally the frame is resized to multiples of 8
  (and of the VAE's scale factor) and the result resized back. With a ControlNet, ``depth`` is required: a
  G-buffer depth map (float metres, :mod:`renderer.gbuffer` conventions) becomes a MiDaS-style control image
  (:func:`depth_to_control_image`: near = bright, background = black); a ready-made uint8 control image
  (``(H, W)`` or ``(H, W, 3)``, e.g. a segmentation colour map for a segmentation ControlNet) is used as given.
- Noise comes from a CPU ``torch.Generator`` seeded with ``seed`` (the constructor's, or the call's): same
  backend + inputs + seed ⇒ same bytes on the same machine and device.
- Device-agnostic: ``device="cpu"`` runs float32; ``device="cuda"`` defaults to float16 and channels_last UNet /
  ControlNet (written, not tested here: these machines have no GPU). On a CPU a 512² SD-Turbo frame takes tens
  of seconds: this is an offline-quality path, not the interactive one (that is :mod:`renderer.restyler`).

Every input problem (paths, parameters, image, depth, prompt, seed) raises ``ValueError`` with a clear message.
See docs/big-model-backend.md.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

try:
    import torch
    from diffusers import (
        AutoPipelineForImage2Image,
        ControlNetModel,
        StableDiffusionControlNetImg2ImgPipeline,
        StableDiffusionImg2ImgPipeline,
    )
    from diffusers.utils import is_accelerate_available
    from PIL import Image
except ImportError as exc:  # pragma: no cover - optional dependencies
    raise ImportError("renderer.pipeline_backend needs torch, diffusers, transformers and pillow: "
                      "pip install 'worldgen[dev]'") from exc

__all__ = ["PipelineBackend", "depth_to_control_image", "MIN_SIZE", "MAX_SIZE", "MAX_PROMPT_CHARS", "MAX_STEPS"]

MIN_SIZE, MAX_SIZE = 16, 1024  # pixels, per side, of the frames restyle() accepts
MAX_PROMPT_CHARS = 1000  # CLIP reads at most 77 tokens anyway; this only rejects absurd inputs
MAX_STEPS = 50
NEAR, FAR = 0.05, 100.0  # metres: the renderer's clip planes (renderer.raster, renderer.gbuffer); FAR = background

_DTYPES = {
    "float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
    "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
    "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
}
# What a broken or foreign folder raises inside diffusers / transformers / safetensors while loading.
_LOAD_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError, ImportError, IndexError)


def depth_to_control_image(depth: np.ndarray) -> np.ndarray:
    """A depth ControlNet's input from a G-buffer depth map: ``(H, W)`` float metres → ``(H, W, 3)`` uint8.

    Like the MiDaS maps depth ControlNets were trained on: inverse depth, min–max normalised over the frame,
    nearest surface white. Background (``≥ FAR``, non-finite or ``≤ 0``) is black.
    """
    d = np.asarray(depth)
    if d.ndim == 3 and d.shape[2] == 1:
        d = d[:, :, 0]
    if d.ndim != 2 or not np.issubdtype(d.dtype, np.floating):
        raise ValueError(f"depth must be a (H, W) float array of metres, got {d.dtype} {d.shape}")
    d = d.astype(np.float64)
    fg = np.isfinite(d) & (d > 0) & (d < FAR * 0.999)
    inv = np.where(fg, 1.0 / np.clip(np.where(fg, d, FAR), NEAR, FAR), 0.0)
    lo, hi = float(inv.min()), float(inv.max())
    v = (inv - lo) / (hi - lo) if hi - lo > 1e-12 else fg.astype(np.float64)
    g = np.round(np.clip(v, 0.0, 1.0) * 255.0).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2))


def _device(device: Any) -> torch.device:
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device must be a torch device such as 'cpu' or 'cuda', got {device!r} ({e})") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for, but torch sees no CUDA GPU here")
    return dev


def _dtype(dtype: Any, device: torch.device) -> torch.dtype:
    if dtype is None:
        return torch.float16 if device.type == "cuda" else torch.float32
    if isinstance(dtype, torch.dtype) and dtype in set(_DTYPES.values()):
        return dtype
    if isinstance(dtype, str) and dtype.lower().removeprefix("torch.") in _DTYPES:
        return _DTYPES[dtype.lower().removeprefix("torch.")]
    raise ValueError(f"dtype must be None, float32, float16 or bfloat16 (a torch.dtype or its name), got {dtype!r}")


def _int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= int(value) <= hi:
        raise ValueError(f"{name} must be an int in [{lo}, {hi}], got {value!r}")
    return int(value)


def _float(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False) -> float:
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    v = float(value) if ok else math.nan
    if not (math.isfinite(v) and (v > lo if lo_open else v >= lo) and v <= hi):
        raise ValueError(f"{name} must be a number in {'(' if lo_open else '['}{lo:g}, {hi:g}], got {value!r}")
    return v


def _folder(path: Any, what: str, marker: str, hint: str) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"the {what} path must be a str or os.PathLike, got {type(path).__name__}")
    folder = Path(path).expanduser()
    if not folder.is_dir():
        raise ValueError(f"{what} folder {str(folder)!r} does not exist (or is not a folder); {hint}")
    if not (folder / marker).is_file():
        raise ValueError(f"{str(folder)!r} is not a {what} folder: it has no {marker}; {hint}")
    return folder


def _check_image(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise ValueError(f"image must be a numpy array (H, W, 3) uint8, got {type(image).__name__}")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) uint8 RGB, got {image.dtype} {image.shape}")
    h, w = image.shape[:2]
    if not (MIN_SIZE <= h <= MAX_SIZE and MIN_SIZE <= w <= MAX_SIZE):
        raise ValueError(f"image is {w}×{h}; each side must be in [{MIN_SIZE}, {MAX_SIZE}] pixels")
    return np.ascontiguousarray(image)


def _control_array(depth: Any, h: int, w: int) -> tuple[np.ndarray, bool]:
    """(control image (h, w, 3) uint8, whether it came from metric depth)."""
    if not isinstance(depth, np.ndarray):
        raise ValueError(f"depth must be a numpy array, got {type(depth).__name__}")
    if depth.shape[:2] != (h, w):
        raise ValueError(f"depth is {depth.shape[:2]} but the image is {(h, w)}; they must be the same size")
    if np.issubdtype(depth.dtype, np.floating):
        return depth_to_control_image(depth), True
    if depth.dtype == np.uint8 and depth.ndim == 2:
        return np.repeat(depth[:, :, None], 3, axis=2), False
    if depth.dtype == np.uint8 and depth.ndim == 3 and depth.shape[2] == 3:
        return np.ascontiguousarray(depth), False
    raise ValueError("depth must be (H, W) float metres, or a ready-made uint8 control image (H, W) or (H, W, 3); "
                     f"got {depth.dtype} {depth.shape}")


class PipelineBackend:
    """Restyles rendered frames with a local pretrained diffusers img2img pipeline (optionally + a ControlNet).

    ``path``: the pipeline folder (``model_index.json``), e.g. a saved ``stabilityai/sd-turbo``.
    ``controlnet_path``: a ``ControlNetModel`` folder (``config.json``), e.g. a depth ControlNet matching the base
    model; then :meth:`restyle` needs ``depth``.
    ``device``/``dtype``: where and in what precision to run (``dtype=None``: float16 on CUDA, else float32).
    ``steps``/``strength``: the img2img schedule; diffusers denoises ``int(steps * strength)`` steps
    (:attr:`denoising_steps`, which must be ≥ 1). ``guidance_scale``: ≤ 1 disables classifier-free guidance
    (right for SD-Turbo); > 1 enables it at twice the cost. ``seed``: the default noise seed.

    Attributes: ``path``, ``controlnet_path``, ``device``, ``dtype``, ``steps``, ``strength``, ``guidance_scale``,
    ``seed``, ``pipeline`` (the loaded diffusers pipeline).
    """

    def __init__(self, path: str | os.PathLike[str], *, controlnet_path: str | os.PathLike[str] | None = None,
                 device: str | torch.device = "cpu", dtype: str | torch.dtype | None = None, steps: int = 2,
                 strength: float = 0.6, guidance_scale: float = 0.0, seed: int = 0):
        self.steps = _int("steps", steps, 1, MAX_STEPS)
        self.strength = _float("strength", strength, 0.0, 1.0, lo_open=True)
        if int(self.steps * self.strength) < 1:
            raise ValueError(f"steps × strength = {self.steps} × {self.strength:g} < 1: diffusers img2img would run "
                             "no denoising step; raise steps or strength")
        self.guidance_scale = _float("guidance_scale", guidance_scale, 0.0, 100.0)
        self.seed = _int("seed", seed, 0, 2**63 - 1)
        self.device = _device(device)
        self.dtype = _dtype(dtype, self.device)
        hint = "give the path of a local diffusers pipeline folder (written by save_pretrained)"
        self.path = _folder(path, "diffusers pipeline", "model_index.json", hint)
        self.controlnet_path = None
        controlnet = None
        if controlnet_path is not None:
            self.controlnet_path = _folder(controlnet_path, "ControlNet", "config.json",
                                           "give the path of a local diffusers ControlNetModel folder")
            controlnet = self._load_controlnet()
        self.pipeline = self._load_pipeline(controlnet)
        if controlnet is not None and "control_image" not in inspect.signature(self.pipeline.__call__).parameters:
            raise ValueError(f"the pipeline loaded from {str(self.path)!r} ({type(self.pipeline).__name__}) takes no "
                             "control image; use a base model the ControlNet supports (e.g. SD 1.5 / 2.1)")
        if controlnet is not None:
            unet = getattr(self.pipeline, "unet", None)
            want = getattr(getattr(unet, "config", None), "cross_attention_dim", None)
            have = controlnet.config.cross_attention_dim
            if want is not None and want != have:
                raise ValueError(f"the ControlNet in {str(self.controlnet_path)!r} (cross_attention_dim {have}) was "
                                 f"not made for the base model in {str(self.path)!r} (cross_attention_dim {want}): "
                                 "SD 1.x ControlNets need an SD 1.x base (768), SD 2.x / SD-Turbo ones 1024")
        self.pipeline.to(self.device)
        if self.device.type == "cuda":  # GPU path: fp16 (above) + channels_last convolutions; untested here
            for name in ("unet", "controlnet"):
                module = getattr(self.pipeline, name, None)
                if isinstance(module, torch.nn.Module):
                    module.to(memory_format=torch.channels_last)
        self.pipeline.set_progress_bar_config(disable=True)
        self._multiple = max(8, int(getattr(self.pipeline, "vae_scale_factor", 8) or 8))

    @property
    def has_controlnet(self) -> bool:
        """Whether a ControlNet is loaded (then :meth:`restyle` needs ``depth``)."""
        return self.controlnet_path is not None

    @property
    def denoising_steps(self) -> int:
        """How many denoising steps one :meth:`restyle` runs: ``int(steps * strength)``."""
        return min(int(self.steps * self.strength), self.steps)

    def _load_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"local_files_only": True, "dtype": self.dtype}
        if not is_accelerate_available():
            kwargs["low_cpu_mem_usage"] = False  # what diffusers falls back to anyway, without the warning
        return kwargs

    def _load_controlnet(self) -> ControlNetModel:
        folder = self.controlnet_path
        try:
            return ControlNetModel.from_pretrained(str(folder), **self._load_kwargs())
        except _LOAD_ERRORS as e:
            raise ValueError(f"cannot load a ControlNet from {str(folder)!r}: {type(e).__name__}: "
                             f"{str(e)[:300]}") from None

    def _load_pipeline(self, controlnet: ControlNetModel | None) -> Any:
        folder = self.path
        try:
            index = json.loads((folder / "model_index.json").read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{str(folder)!r} has an unreadable model_index.json: {e}") from None
        if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
            raise ValueError(f"{str(folder)!r} is not a diffusers pipeline folder: model_index.json has no _class_name")
        kwargs = self._load_kwargs()
        if "safety_checker" in index:  # SD 1.x/2.x folders: never load the checker (it only blanks frames)
            kwargs.update(safety_checker=None, requires_safety_checker=False)
        if controlnet is not None:
            kwargs["controlnet"] = controlnet
        try:
            try:
                return AutoPipelineForImage2Image.from_pretrained(str(folder), **kwargs)
            except ValueError as e:
                if "AutoPipeline can't find" not in str(e):
                    raise
            # A class AutoPipeline does not map (a renamed or custom-saved SD folder): assume Stable Diffusion.
            fallback = StableDiffusionControlNetImg2ImgPipeline if controlnet is not None else \
                StableDiffusionImg2ImgPipeline
            return fallback.from_pretrained(str(folder), **kwargs)
        except _LOAD_ERRORS as e:
            raise ValueError(f"cannot load an img2img pipeline from {str(folder)!r}: {type(e).__name__}: "
                             f"{str(e)[:300]}") from None

    def _size(self, n: int) -> int:
        m = self._multiple
        return max(m, int(round(n / m)) * m)

    def restyle(self, image: np.ndarray, prompt: str, *, depth: np.ndarray | None = None,
                seed: int | None = None) -> np.ndarray:
        """The frame ``image`` ((H, W, 3) uint8) restyled towards ``prompt``: a new (H, W, 3) uint8 array.

        ``depth`` (required with a ControlNet, refused without one): (H, W) float metres from the G-buffer, or a
        ready-made uint8 control image (H, W) / (H, W, 3). ``seed`` overrides the constructor's seed.
        """
        img = _check_image(image)
        if not isinstance(prompt, str):
            raise ValueError(f"prompt must be a str, got {type(prompt).__name__}")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"prompt is {len(prompt)} characters; at most {MAX_PROMPT_CHARS} are accepted")
        seed = self.seed if seed is None else _int("seed", seed, 0, 2**63 - 1)
        h, w = img.shape[:2]
        th, tw = self._size(h), self._size(w)
        pil = Image.fromarray(img)
        if (th, tw) != (h, w):
            pil = pil.resize((tw, th), Image.Resampling.LANCZOS)
        kwargs: dict[str, Any] = {
            "prompt": prompt, "image": pil, "strength": self.strength, "num_inference_steps": self.steps,
            "guidance_scale": self.guidance_scale, "generator": torch.Generator("cpu").manual_seed(seed),
            "output_type": "np",
        }
        if self.has_controlnet:
            if depth is None:
                raise ValueError(f"this backend has a ControlNet ({str(self.controlnet_path)!r}): pass depth=")
            control, smooth = _control_array(depth, h, w)
            cpil = Image.fromarray(control)
            if (th, tw) != (h, w):  # nearest keeps a segmentation map's label colours exact
                cpil = cpil.resize((tw, th), Image.Resampling.BILINEAR if smooth else Image.Resampling.NEAREST)
            kwargs["control_image"] = cpil
        elif depth is not None:
            raise ValueError("depth was given but this backend has no ControlNet; pass controlnet_path= when "
                             "constructing it, or leave depth out")
        out = np.asarray(self.pipeline(**kwargs).images[0], dtype=np.float32)
        frame = np.round(np.clip(np.nan_to_num(out), 0.0, 1.0) * 255.0).astype(np.uint8)
        if frame.shape[:2] != (h, w):
            frame = np.asarray(Image.fromarray(frame).resize((w, h), Image.Resampling.LANCZOS))
        return np.ascontiguousarray(frame)

    def __repr__(self) -> str:
        cn = f", controlnet_path={str(self.controlnet_path)!r}" if self.has_controlnet else ""
        return (f"PipelineBackend({str(self.path)!r}{cn}, device={str(self.device)!r}, dtype={self.dtype}, "
                f"steps={self.steps}, strength={self.strength:g}, guidance_scale={self.guidance_scale:g})")
