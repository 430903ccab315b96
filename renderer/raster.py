"""Rasterising a simulation's state on the CPU with pybullet's TinyRenderer.

The fast, exact view of a world: flat albedo colours from each entity's appearance, depth
in metres and an entity-id segmentation map, in one call (about 1 ms at 64², 15 ms at
256² on this machine). It is what RL observations and the player's fallback view use;
the restyler builds on it.

Reads physics state only through :class:`physics.Simulation`'s narrow interface
(``pose``, ``entity_names``, ``live(name).spec``, ``client``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet as p

from worldgen.spec import Camera

NEAR, FAR = 0.05, 100.0  # metres
MAX_SIZE = 2048


@dataclass(frozen=True)
class Frame:
    """One rasterised view: ``albedo`` uint8 (H, W, 3), ``depth`` float32 metres (H, W),
    ``segmentation`` int32 (H, W) — index into ``names``, -1 for background."""

    albedo: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray
    names: tuple[str, ...]


def check_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) validated: integers in 1..2048."""
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size must be (width, height), got {size!r}") from None
    if not (1 <= w <= MAX_SIZE and 1 <= h <= MAX_SIZE) or (w, h) != tuple(size):
        raise ValueError(f"size must be two integers in 1..{MAX_SIZE}, got {size!r}")
    return w, h


def find_camera(sim, camera: str | Camera | None) -> Camera:
    """The spec camera named ``camera`` (a :class:`Camera` passes through; None: the first, or the default)."""
    cams = sim.spec.cameras
    if isinstance(camera, Camera):
        return camera
    if camera is None:
        return cams[0] if cams else Camera()
    for c in cams:
        if c.name == camera:
            return c
    raise ValueError(f"no camera {camera!r}; cameras: {', '.join(c.name for c in cams) or '(none)'}")


def camera_pose(sim, camera: Camera) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(eye, target) in metres for a camera of the world, following its entity if it has one."""
    follow = camera.follow is not None and camera.follow in sim.entity_names
    return place_camera(camera, sim.pose(camera.follow)[0] if follow else None)


def place_camera(camera: Camera, followed_at=None) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """(eye, target) of ``camera``; ``followed_at`` is the followed entity's position (None: stay put).

    A follow camera keeps its eye-to-target offset around the entity; ``top_down`` and ``side``
    cameras look straight down / along +y from their distance to the target.
    """
    eye, target = tuple(map(float, camera.position)), tuple(map(float, camera.target))
    if followed_at is not None:
        at = tuple(float(v) for v in followed_at)
        offset = tuple(e - t for e, t in zip(eye, target))
        eye, target = tuple(a + o for a, o in zip(at, offset)), at
    if camera.mode == "top_down":
        dist = math.dist(eye, target) or 10.0
        eye = (target[0], target[1] + 1e-3, target[2] + dist)
    elif camera.mode == "side":
        dist = math.dist(eye, target) or 10.0
        eye = (target[0], target[1] - dist, target[2])
    return eye, target


class Rasterizer:
    """Renders frames of one simulation; keeps the engine's colours in sync with appearances."""

    def __init__(self, sim) -> None:
        self.sim = sim
        self._colors: dict[int, tuple] = {}
        self._client: tuple[int, int] | None = None  # (engine client, rebuild generation) of the colours

    def _sync_colors(self) -> None:
        sim = self.sim
        engine = (sim.client, getattr(sim, "engine_generation", 0))
        if self._client != engine:  # a snapshot or restore rebuilt the world's bodies (colours reset)
            self._colors, self._client = {}, engine
        for name in sim.entity_names:
            lv = sim.live(name)
            if lv.body is None:
                continue
            a = lv.spec.appearance
            rgba = (*a.color, 1.0 if a.visible else 0.0)
            if self._colors.get(lv.body) != rgba:
                p.changeVisualShape(lv.body, -1, rgbaColor=list(rgba), physicsClientId=sim.client)
                self._colors[lv.body] = rgba

    def render(self, size: tuple[int, int] = (64, 64), camera: str | Camera | None = None) -> Frame:
        """A frame from ``camera`` (a name from the spec, a Camera, or the first camera)."""
        w, h = check_size(size)
        cam = self._camera(camera)
        self._sync_colors()
        eye, target = camera_pose(self.sim, cam)
        up = (0.0, 1.0, 0.0) if cam.mode == "top_down" else (0.0, 0.0, 1.0)
        view = p.computeViewMatrix(eye, target, up)
        proj = p.computeProjectionMatrixFOV(cam.fov_deg, w / h, NEAR, FAR)
        _, _, rgba, zbuf, seg = p.getCameraImage(
            w, h, view, proj, renderer=p.ER_TINY_RENDERER, physicsClientId=self.sim.client)
        rgb = np.asarray(rgba, dtype=np.uint8).reshape(h, w, 4)[..., :3].copy()
        z = np.asarray(zbuf, dtype=np.float32).reshape(h, w)
        depth = (FAR * NEAR / (FAR - (FAR - NEAR) * z)).astype(np.float32)
        body_seg = np.asarray(seg, dtype=np.int32).reshape(h, w)
        names = tuple(self.sim.entity_names)
        index = {self.sim.live(n).body: i for i, n in enumerate(names) if self.sim.live(n).body is not None}
        lut = np.full(max(index, default=0) + 2, -1, dtype=np.int32)
        for body, i in index.items():
            lut[body] = i
        body_seg = np.where((body_seg >= 0) & (body_seg < len(lut) - 1), body_seg, -1)
        segmentation = lut[body_seg]
        background = np.asarray([int(c * 255) for c in self.sim.spec.style.background], dtype=np.uint8)
        rgb[segmentation < 0] = background
        return Frame(rgb, depth, segmentation, names)

    def _camera(self, camera: str | Camera | None) -> Camera:
        return find_camera(self.sim, camera)
