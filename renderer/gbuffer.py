"""Complete G-buffers of a simulation: albedo, depth, normals, segmentation, world positions, exact motion.

Contract:

- :func:`gbuffer` ``(sim, size, camera, prev_poses) -> GBuffer`` casts one ray per pixel centre against the
  world's analytic primitives (plane, box, sphere, cylinder, capsule; sensors and entities with
  ``appearance.visible == False`` are skipped; planes are infinite). Every buffer is exact for the shapes
  the physics engine simulates — no tessellation, no depth-buffer quantisation. Same state ⇒ same bytes.
- Conventions. World frame: metres, +z up. Pixel ``(row, col)`` covers ``[col, col + 1) × [row, row + 1)``
  in continuous image coordinates ``(x right, y down)``; its ray goes through the centre ``(col + .5, row + .5)``.
  The camera is pybullet's (``computeViewMatrix`` / ``computeProjectionMatrixFOV``, vertical ``fov_deg``,
  up +z, or +y for ``top_down`` cameras), placed as :func:`renderer.raster.camera_pose` places it. (TinyRenderer,
  measured, samples each pixel at its lower-left corner ``(col, row + 1)``, so :class:`renderer.raster.Frame`
  edges sit up to a pixel from these.)
- ``depth``: metres along the camera's forward axis (view-space z, as :mod:`renderer.raster` gives);
  ``FAR`` (100 m) where no surface is hit, and hits beyond ``FAR`` count as background.
- ``normal``: world-space unit outward normals of the analytic surface; 0 on background.
- ``motion``: image-space displacement in pixels of the surface point now seen at a pixel, from where
  that same material point was seen in the previous frame to where it is now: ``motion = (x, y)_now -
  (x, y)_prev``, so the previous position of pixel ``(row, col)`` is ``(col + .5, row + .5) - motion``.
  It is exact: the hit point is taken into the entity's body frame with the current pose and back out with
  the previous pose (``prev_poses``), and projected with the previous camera (for a ``follow`` camera the
  previous pose of the followed entity moves the camera too). 0 on background, for entities missing from
  ``prev_poses`` (new ones) and everywhere when ``prev_poses`` is None.
- ``albedo``: each entity's flat ``appearance.color`` (no lighting, no texture), the spec's
  ``style.background`` on background. ``segmentation``: index into ``names`` (``sim.entity_names``,
  sensors included, so indices match :class:`renderer.raster.Frame`), -1 on background.
  ``looks[i]``: ``appearance.look`` of ``names[i]``.
- ``coarse=c`` (interactive rendering uses 2) casts one ray per c×c pixels, then every pixel whose
  interpolation taps straddle a change of primitive or a crease, the outer ring, and the screen rectangle
  of every primitive the coarse rays missed or that is under 2c+2 pixels across; elsewhere buffers are
  interpolated inside one smooth convex surface (depth and positions perspective-correctly). Ids, albedo
  and lines are then the exact cast's; depth, normals and motion match it to interpolation error.
- :class:`Scene` is the ray-castable snapshot of the world's visible primitives (also used by
  :mod:`renderer.teachers` for shadow, occlusion and reflection rays); ``GBuffer.scene`` is the one the
  buffer was cast against.

The ray caster was chosen over TinyRenderer + depth-derived normals by measurement (numbers in
docs/rendering.md and ``benchmarks/bench_gbuffer.py``); ``method="hybrid"`` keeps the alternative
(TinyRenderer depth + segmentation, world positions unprojected from depth, analytic normals and motion
from each entity's pose) for comparison.
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from renderer.raster import FAR, NEAR, check_size, find_camera, place_camera
from worldgen.spec import Camera

Pose = tuple[tuple[float, float, float], tuple[float, float, float, float]]

PLANE, BOX, SPHERE, CYLINDER, CAPSULE = range(5)  #: shape kinds in Scene.kind
#: the 12 edges of a box as pairs of corner indices (corner 4·ix + 2·iy + iz has signs (±x, ±y, ±z))
_BOX_EDGES = np.array([(i, i | bit) for bit in (1, 2, 4) for i in range(8) if not i & bit])
_KINDS = {"plane": PLANE, "box": BOX, "sphere": SPHERE, "cylinder": CYLINDER, "capsule": CAPSULE}
METHODS = ("raycast", "hybrid")  #: gbuffer(method=...): see the module docstring
PACKET = 32  # rays per culling packet in Scene.intersect
BATCH_AREA = 2048  # Scene.cast batches primitives covering at most this many pixels
_RASTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # sim → its Rasterizer (method="hybrid")


# ---------------------------------------------------------------- geometry helpers


def _mat(v: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``v @ m`` for points (..., 3) and a small matrix, without BLAS: OpenBLAS threads these skinny products
    and its threads stall (milliseconds each) on a busy machine."""
    return np.einsum("...i,ij->...j", v, m)


def _dot(v: np.ndarray, a) -> np.ndarray:
    """``v @ a`` for vectors (..., 3) and one 3-vector, without BLAS (see :func:`_mat`)."""
    return np.einsum("...i,i->...", v, np.asarray(a, dtype=np.float64))


def _cross(a, b) -> tuple[float, float, float]:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _unit(v) -> tuple[float, float, float]:
    n = math.sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2])
    return (v[0] / n, v[1] / n, v[2] / n)


def quat_matrix(q) -> np.ndarray:
    """3×3 rotation matrix (float64) of a quaternion ``(x, y, z, w)``."""
    x, y, z, w = (float(v) for v in q)
    n = x * x + y * y + z * z + w * w
    s = 2.0 / n if n > 0 else 0.0
    return np.array([
        [1 - s * (y * y + z * z), s * (x * y - z * w), s * (x * z + y * w)],
        [s * (x * y + z * w), 1 - s * (x * x + z * z), s * (y * z - x * w)],
        [s * (x * z - y * w), s * (y * z + x * w), 1 - s * (x * x + y * y)],
    ])


@dataclass(frozen=True)
class View:
    """A pinhole camera: ``eye``, ``target``, ``up`` (world), vertical ``fov_deg``, image ``size`` (w, h)."""

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    up: tuple[float, float, float]
    fov_deg: float
    size: tuple[int, int]

    def basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(forward, right, up) unit vectors, as pybullet's ``computeViewMatrix`` builds them."""
        f = _unit(tuple(t - e for t, e in zip(self.target, self.eye)))
        s = _unit(_cross(f, self.up))
        return np.array(f), np.array(s), np.array(_cross(s, f))

    def rays(self, pixels: np.ndarray | None = None) -> np.ndarray:
        """Unit directions (h, w, 3) float64 of the rays through the pixel centres (read-only: shared by
        every caller with the same view, since fixed cameras ask for the same rays every frame); with
        ``pixels`` (flat row-major indices), (len(pixels), 3) for those pixels only."""
        grid = _ray_grid(self)
        return grid if pixels is None else grid.reshape(-1, 3)[pixels]

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Continuous image coordinates (N, 2) ``(x right, y down)`` of world points (N, 3), and their
        view-space depth (N,) (≤ 0: behind the camera)."""
        w, h = self.size
        f, s, u = self.basis()
        v = points - np.asarray(self.eye, dtype=np.float64)
        z = _dot(v, f)
        ty = math.tan(math.radians(self.fov_deg) / 2)
        tx = ty * w / h
        safe = np.where(np.abs(z) > 1e-12, z, 1e-12)
        xn = _dot(v, s) / (safe * tx)
        yn = _dot(v, u) / (safe * ty)
        return np.stack([(xn + 1) * 0.5 * w, (1 - yn) * 0.5 * h], axis=-1), z




@functools.lru_cache(maxsize=8)
def _ray_grid(view: View) -> np.ndarray:
    w, h = view.size
    f, s, u = view.basis()
    ty = math.tan(math.radians(view.fov_deg) / 2)
    tx = ty * w / h
    x = (2 * (np.arange(w) + 0.5) / w - 1) * tx
    y = (1 - 2 * (np.arange(h) + 0.5) / h) * ty
    d = f + x[None, :, None] * s + y[:, None, None] * u
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    d.setflags(write=False)
    return d


def camera_view(camera: Camera, size: tuple[int, int], pose_of: Callable[[str], Pose | None]) -> View:
    """The :class:`View` of ``camera``; ``pose_of(name)`` gives the followed entity's pose (None: don't follow).

    Placed by :func:`renderer.raster.place_camera`, as the rasteriser places it.
    """
    pose = pose_of(camera.follow) if camera.follow is not None else None
    eye, target = place_camera(camera, pose[0] if pose is not None else None)
    up = (0.0, 1.0, 0.0) if camera.mode == "top_down" else (0.0, 0.0, 1.0)
    return View(eye, target, up, float(camera.fov_deg), size)


# ---------------------------------------------------------------- the scene


@dataclass(frozen=True)
class Scene:
    """The visible primitives of a world at one instant, ready for ray casting.

    Per primitive ``k``: ``index[k]`` (into the world's entity names), ``kind[k]`` (PLANE, BOX, SPHERE,
    CYLINDER, CAPSULE), ``params[k]`` (box half extents; sphere (r, 0, 0); cylinder and capsule
    (r, half height, 0); plane zeros), ``rot[k]`` (3×3 body-to-world), ``pos[k]`` (body origin),
    ``bound[k]`` (bounding-sphere radius about ``pos``, inf for planes). Cylinders and capsules run
    along their local z, a plane is local z = 0 with normal +z (pybullet's conventions). ``names``,
    ``looks`` and ``colors`` (float32 RGB 0..1) are per entity index, invisible ones included.
    """

    index: np.ndarray
    kind: np.ndarray
    params: np.ndarray
    rot: np.ndarray
    pos: np.ndarray
    bound: np.ndarray
    names: tuple[str, ...]
    looks: tuple[str, ...]
    colors: np.ndarray  # (len(names), 3) float32 appearance colours, 0..1

    @classmethod
    def from_sim(cls, sim) -> Scene:
        """Snapshot of the visible, non-sensor entities of ``sim`` at its current poses."""
        names = tuple(sim.entity_names)
        index, kind, params, rot, pos, bound = [], [], [], [], [], []
        looks, colors = [], []
        for i, name in enumerate(names):
            lv = sim.live(name)
            a = lv.spec.appearance
            looks.append(a.look)
            colors.append(a.color)
            if lv.body is None or not a.visible:
                continue
            s = lv.spec.shape
            k = _KINDS[s.type]
            if k == BOX:
                prm, b = [v / 2 for v in s.size], math.dist((0, 0, 0), [v / 2 for v in s.size])
            elif k == SPHERE:
                prm, b = [s.radius, 0.0, 0.0], s.radius
            elif k == CYLINDER:
                prm, b = [s.radius, s.height / 2, 0.0], math.hypot(s.radius, s.height / 2)
            elif k == CAPSULE:
                prm, b = [s.radius, s.height / 2, 0.0], s.radius + s.height / 2
            else:
                prm, b = [0.0, 0.0, 0.0], math.inf
            p, q = sim.pose(name)
            index.append(i)
            kind.append(k)
            params.append(prm)
            rot.append(quat_matrix(q))
            pos.append(p)
            bound.append(b)
        f64 = np.float64
        return cls(np.asarray(index, dtype=np.int32), np.asarray(kind, dtype=np.int32),
                   np.asarray(params, dtype=f64).reshape(-1, 3), np.asarray(rot, dtype=f64).reshape(-1, 3, 3),
                   np.asarray(pos, dtype=f64).reshape(-1, 3), np.asarray(bound, dtype=f64),
                   names, tuple(looks), np.asarray(colors, dtype=np.float32).reshape(-1, 3))

    def __len__(self) -> int:
        return len(self.kind)

    def intersect(self, origins: np.ndarray, dirs: np.ndarray, tmin: float = 0.0, tmax=np.inf,
                  any_hit: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Nearest hits of rays from ``origins`` (N, 3) along unit ``dirs`` (N, 3) within ``(tmin, tmax)``
        (``tmax`` scalar or (N,)).

        Returns ``t`` (N,) float64 (inf on a miss), the hit primitive ``prim`` (N,) int (-1 on a miss,
        else an index into this scene; ``self.index[prim]`` is the entity) and world ``normal`` (N, 3).
        ``any_hit``: stop looking along a ray at its first hit (shadow rays; ``t`` is then some hit).

        Culling: rays are sorted along a Morton curve of their origins and cut into packets of
        :data:`PACKET` rays; a packet (a ball of origins, a cone of directions, its longest reach) is
        tested against each primitive's bounding sphere before any ray of it is. The surviving (ray,
        primitive) pairs are intersected in one batch per shape kind.
        """
        n = len(dirs)
        acc = _Hits(n, tmax)
        if n == 0 or len(self) == 0:
            return acc.result()
        everything = np.arange(n)
        for k in np.flatnonzero(~np.isfinite(self.bound)):  # planes: every ray
            sel = everything[acc.prim < 0] if any_hit else everything
            self._accumulate(k, origins[sel], dirs[sel], sel, acc, tmin)
        bounded = np.flatnonzero(np.isfinite(self.bound))
        if len(bounded) == 0:
            return acc.result()
        order = _morton_order(origins)
        starts = np.arange(0, n, PACKET)
        counts = np.diff(np.append(starts, n))
        o_s, d_s = origins[order], dirs[order]
        centre = np.add.reduceat(o_s, starts) / counts[:, None]
        rho = np.maximum.reduceat(np.linalg.norm(o_s - np.repeat(centre, counts, 0), axis=1), starts)
        axis = np.add.reduceat(d_s, starts)
        alen = np.linalg.norm(axis, axis=1, keepdims=True)
        axis = np.where(alen > 1e-9, axis / np.maximum(alen, 1e-300), np.array([0.0, 0.0, 1.0]))
        cos_spread = np.minimum.reduceat((d_s * np.repeat(axis, counts, 0)).sum(1), starts)
        spread = np.where(alen[:, 0] > 1e-9, np.arccos(np.clip(cos_spread, -1, 1)), math.pi)
        reach_t = np.maximum.reduceat(acc.best[order], starts)
        w = self.pos[bounded][None] - centre[:, None]  # (P, M, 3) packet centre → primitive
        dist = np.linalg.norm(w, axis=2)
        reach = self.bound[bounded][None] + rho[:, None]
        inside = dist <= reach
        ang = np.arccos(np.clip((w * axis[:, None]).sum(2) / np.maximum(dist, 1e-300), -1, 1))
        cone = ang <= spread[:, None] + np.arcsin(np.clip(reach / np.maximum(dist, 1e-300), 0, 1)) + 1e-9
        ok = (dist - reach <= reach_t[:, None]) & (inside | cone)
        lane = np.arange(PACKET)
        rays, prims = [], []
        for j, k in enumerate(bounded):
            packets = np.flatnonzero(ok[:, j])
            if len(packets) == 0:
                continue
            idx = (starts[packets][:, None] + lane).ravel()
            sel = order[idx[idx < n]]
            if any_hit:
                sel = sel[acc.prim[sel] < 0]
            rays.append(sel)
            prims.append(np.full(len(sel), k))
        if rays:
            self._batch(origins, dirs, np.concatenate(rays), np.concatenate(prims), tmin, acc)
        return acc.result()

    def cast(self, view: View, dirs: np.ndarray | None = None,
             pixels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`intersect` for the rays through the pixel centres of ``view`` (``dirs``: ``view.rays()``
        if already at hand), flattened row-major (H·W); with ``pixels`` (flat indices) for those pixels
        only, in that order (``dirs`` then holds their rays). Hits nearer than the near plane are clipped,
        as a rasteriser clips them.

        Planes are cast first; then each bounded primitive's screen rectangle gives its candidate rays
        (minus those already stopped nearer than it can be): primitives big on screen are intersected one
        by one, near to far, the small ones (up to :data:`BATCH_AREA` pixels) in one batch per shape kind."""
        w, h = view.size
        if dirs is None:
            dirs = view.rays(pixels)
        dirs = dirs.reshape(-1, 3)
        slot = None  # flat pixel index -> its ray (-1: not cast)
        if pixels is not None:
            slot = np.full(w * h, -1, dtype=np.int64)
            slot[pixels] = np.arange(len(pixels))
        eye = np.asarray(view.eye, dtype=np.float64)
        near = NEAR / np.maximum(_dot(dirs, view.basis()[0]), 1e-12)
        acc = _Hits(len(dirs), np.inf)
        bounded = np.isfinite(self.bound)
        for k in np.flatnonzero(~bounded):
            self._accumulate(k, eye, dirs, np.arange(len(dirs)), acc, near)
        dist = np.linalg.norm(self.pos - eye, axis=1) - self.bound
        rects = self._screen_rects(view)
        area = (rects[:, 1] - rects[:, 0]).clip(0) * (rects[:, 3] - rects[:, 2]).clip(0)
        rays, prims = [], []
        for k in np.argsort(np.where(bounded, dist, np.inf), kind="stable")[:int(bounded.sum())]:  # near to far
            if area[k] == 0:
                continue
            c0, c1, r0, r1 = rects[k]
            sel = (np.arange(r0, r1)[:, None] * w + np.arange(c0, c1)[None, :]).ravel()
            if slot is not None:
                sel = slot[sel]
                sel = sel[sel >= 0]
            sel = sel[acc.best[sel] > dist[k]]  # already hit nearer than this primitive can be
            if area[k] > BATCH_AREA:  # big on screen: on its own, so it can hide what lies behind it
                self._accumulate(k, eye, dirs[sel], sel, acc, near[sel])
            else:
                rays.append(sel)
                prims.append(np.full(len(sel), k))
        if rays:
            self._batch(eye, dirs, np.concatenate(rays), np.concatenate(prims), near, acc)
        return acc.result()

    def _batch(self, origins: np.ndarray, dirs: np.ndarray, ray: np.ndarray, prim: np.ndarray, tmin,
               acc: _Hits) -> None:
        """Intersects candidate pairs (``ray[i]``, ``prim[i]``), one batch per shape kind, and keeps each
        ray's nearest hit if nearer than found so far. ``origins``: (N, 3) per ray, or one shared (3,);
        ``tmin``: scalar or (N,) per ray."""
        ts, normals = np.full(len(ray), np.inf), np.zeros((len(ray), 3))
        kinds = self.kind[prim]
        for kind in np.unique(kinds):
            m = np.flatnonzero(kinds == kind)
            pk, rk = prim[m], ray[m]
            R = self.rot[pk]
            o = origins if origins.ndim == 1 else origins[rk]
            ol = np.einsum("ni,nij->nj", o - self.pos[pk], R)
            dl = np.einsum("ni,nij->nj", dirs[rk], R)
            t, nl = _HIT[int(kind)](ol, dl, self.params[pk], tmin if np.ndim(tmin) == 0 else tmin[rk])
            ts[m] = t
            normals[m] = np.einsum("nij,nj->ni", R, nl)
        good = np.flatnonzero(ts < acc.best[ray])
        if len(good) == 0:
            return
        good = good[np.lexsort((ts[good], ray[good]))]  # per ray, nearest first
        first = good[np.r_[True, ray[good][1:] != ray[good][:-1]]]
        r = ray[first]
        acc.best[r], acc.prim[r], acc.normal[r] = ts[first], prim[first], normals[first]

    def _screen_rects(self, view: View) -> np.ndarray:
        """(M, 4) pixel rectangles (col0, col1, row0, row1) covering each primitive's local bounding box (empty
        when off screen; the whole image for planes). A box reaching behind the near plane is clipped there:
        its part in front is the hull of its corners in front and its edges' crossings of the plane."""
        w, h = view.size
        m = len(self)
        ext = np.zeros((m, 3))
        prm = self.params
        for kind, e in ((BOX, prm), (SPHERE, prm[:, [0, 0, 0]]), (CYLINDER, prm[:, [0, 0, 1]]),
                        (CAPSULE, np.stack([prm[:, 0], prm[:, 0], prm[:, 1] + prm[:, 0]], 1))):
            ext = np.where((self.kind == kind)[:, None], e, ext)
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
        corners = np.einsum("mij,mcj->mci", self.rot, signs[None] * ext[:, None]) + self.pos[:, None]
        xy, z = view.project(corners.reshape(-1, 3))
        xy, z = xy.reshape(m, 8, 2), z.reshape(m, 8)

        def covering(pts: np.ndarray) -> np.ndarray:
            """The on-screen pixel rectangle(s) (..., 4) around image points (..., N, 2)."""
            lo = np.floor(pts.min(-2) - 0.5).astype(np.int64)
            hi = np.ceil(pts.max(-2) + 0.5).astype(np.int64)
            return np.stack([np.clip(lo[..., 0], 0, w), np.clip(hi[..., 0], 0, w), np.clip(lo[..., 1], 0, h),
                             np.clip(hi[..., 1], 0, h)], -1)

        rects = covering(xy)
        rects[~np.isfinite(self.bound)] = (0, w, 0, h)
        behind = z <= NEAR
        rects[np.isfinite(self.bound) & behind.all(1)] = (0, 0, 0, 0)
        a, b = _BOX_EDGES[:, 0], _BOX_EDGES[:, 1]
        nudge = 1e-9 * np.asarray(view.basis()[0])  # just in front of the plane: the projection stays finite
        for k in np.flatnonzero(np.isfinite(self.bound) & behind.any(1) & ~behind.all(1)):
            cross = behind[k, a] != behind[k, b]
            t = (NEAR - z[k, a[cross]]) / (z[k, b[cross]] - z[k, a[cross]])
            pts = corners[k, a[cross]] + t[:, None] * (corners[k, b[cross]] - corners[k, a[cross]])
            pts_xy, _ = view.project(pts + nudge)
            rects[k] = covering(np.concatenate([xy[k][~behind[k]], pts_xy]))
        return rects

    def _accumulate(self, k: int, o: np.ndarray, d: np.ndarray, sel: np.ndarray, acc: _Hits, tmin) -> None:
        """Intersects rays ``sel`` (origins ``o`` (N, 3), or one shared origin (3,); dirs ``d``) with primitive
        ``k`` and keeps the hits nearer than those found so far."""
        R = self.rot[k]
        ol = _mat(o - self.pos[k], R)
        if ol.ndim == 1:
            ol = np.broadcast_to(ol, d.shape)
        t, nl = _HIT[int(self.kind[k])](ol, _mat(d, R), self.params[k], tmin)
        better = t < acc.best[sel]
        if better.any():
            idx = sel[better]
            acc.best[idx] = t[better]
            acc.prim[idx] = k
            acc.normal[idx] = _mat(nl[better], R.T)

    def occlusion(self, origins: np.ndarray, dirs: np.ndarray, tmax=np.inf, tmin: float = 0.0) -> np.ndarray:
        """True where a ray (N,) hits anything within ``(tmin, tmax)``."""
        return self.intersect(origins, dirs, tmin, tmax, any_hit=True)[1] >= 0

    def local_points(self, points: np.ndarray, entity: np.ndarray) -> np.ndarray:
        """World points (N, 3) in the body frame of their entity (N,) (an index into ``names``;
        -1 or invisible: the world frame)."""
        lut = np.full(len(self.names) + 1, -1, dtype=np.int64)
        lut[self.index] = np.arange(len(self))
        k = lut[np.where(entity >= 0, entity, len(self.names))]
        out = np.asarray(points, dtype=np.float64).copy()
        has = k >= 0
        if has.any():
            kk = k[has]
            out[has] = np.einsum("nj,nji->ni", out[has] - self.pos[kk], self.rot[kk])
        return out


def _morton_order(points: np.ndarray) -> np.ndarray:
    """Indices sorting points (N, 3) along a Z-order curve of a 1024³ grid over their bounding box."""
    lo = points.min(0)
    ext = float((points.max(0) - lo).max())
    q = ((points - lo) * (1023.0 / max(ext, 1e-12))).astype(np.uint64)

    def spread(x: np.ndarray) -> np.ndarray:
        x = (x | (x << np.uint64(16))) & np.uint64(0x030000FF)
        x = (x | (x << np.uint64(8))) & np.uint64(0x0300F00F)
        x = (x | (x << np.uint64(4))) & np.uint64(0x030C30C3)
        return (x | (x << np.uint64(2))) & np.uint64(0x09249249)

    code = spread(q[:, 0]) | (spread(q[:, 1]) << np.uint64(1)) | (spread(q[:, 2]) << np.uint64(2))
    return np.argsort(code, kind="stable")


class _Hits:
    """Nearest hits found so far for N rays."""

    def __init__(self, n: int, tmax) -> None:
        self.best = np.broadcast_to(np.asarray(tmax, dtype=np.float64), (n,)).copy()
        self.prim = np.full(n, -1, dtype=np.int64)
        self.normal = np.zeros((n, 3), dtype=np.float64)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return np.where(self.prim >= 0, self.best, np.inf), self.prim, self.normal


def _pick(t: np.ndarray, tmin: float) -> np.ndarray:
    return np.where(t > tmin, t, np.inf)


# Hit tests in a primitive's body frame: rays o + t·d (N, 3); prm (3,) or per ray (N, 3) (see Scene); hits
# with t > tmin (scalar or (N,)). Each returns t (N,) (inf: miss) and local outward normals (N, 3).


def _hit_plane(o, d, prm, tmin):
    dz = d[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dz != 0, -o[:, 2] / np.where(dz != 0, dz, 1.0), np.inf)
    t = _pick(t, tmin)
    nl = np.zeros_like(o)
    nl[:, 2] = 1.0
    return t, nl


def _sphere_t(o, d, r, tmin):
    b = (o * d).sum(1)
    c = (o * o).sum(1) - r * r
    disc = b * b - c
    ok = disc >= 0
    root = np.sqrt(np.where(ok, disc, 0.0))
    t0, t1 = -b - root, -b + root
    t = np.where(t0 > tmin, t0, np.where(t1 > tmin, t1, np.inf))
    return np.where(ok, t, np.inf)


def _hit_sphere(o, d, prm, tmin):
    r = prm[..., 0]
    t = _sphere_t(o, d, r, tmin)
    fin = np.isfinite(t)
    nl = o + np.where(fin, t, 0.0)[:, None] * d
    nl /= np.maximum(np.linalg.norm(nl, axis=1, keepdims=True), 1e-300)
    return t, nl


def _hit_box(o, d, prm, tmin):
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = [], []
        for a in range(3):
            da = d[:, a]
            inv = 1.0 / np.where(da == 0, 1e-300, da)
            t1 = (-prm[..., a] - o[:, a]) * inv
            t2 = (prm[..., a] - o[:, a]) * inv
            lo.append(np.minimum(t1, t2))
            hi.append(np.maximum(t1, t2))
    tnear = np.maximum(np.maximum(lo[0], lo[1]), lo[2])
    tfar = np.minimum(np.minimum(hi[0], hi[1]), hi[2])
    ok = (tnear <= tfar) & (tfar > tmin)
    entering = tnear > tmin
    t = np.where(ok, np.where(entering, tnear, tfar), np.inf)
    # the face: the slab that set tnear (entering) or tfar (leaving)
    axis = np.where(entering, np.where(lo[0] == tnear, 0, np.where(lo[1] == tnear, 1, 2)),
                    np.where(hi[0] == tfar, 0, np.where(hi[1] == tfar, 1, 2)))
    rows = np.arange(len(o))
    da = d[rows, axis]
    sign = np.where(entering, -np.sign(da), np.sign(da))
    nl = np.zeros_like(o)
    nl[rows, axis] = np.where(sign == 0, 1.0, sign)
    return t, nl


def _side_t(o, d, r, hz, tmin):
    """Nearest hit with the side of a z-axis cylinder of radius r, |z| ≤ hz."""
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = o[:, 0] * d[:, 0] + o[:, 1] * d[:, 1]
    c = o[:, 0] ** 2 + o[:, 1] ** 2 - r * r
    disc = b * b - a * c
    ok = (disc >= 0) & (a > 1e-300)
    root = np.sqrt(np.where(ok, disc, 0.0))
    sa = np.where(ok, a, 1.0)
    out = np.full(len(o), np.inf)
    for t in ((-b - root) / sa, (-b + root) / sa):
        z = o[:, 2] + t * d[:, 2]
        good = ok & (t > tmin) & (np.abs(z) <= hz) & (t < out)
        out = np.where(good, t, out)
    return out


def _hit_cylinder(o, d, prm, tmin):
    r, hz = prm[..., 0], prm[..., 1]
    ts = _side_t(o, d, r, hz, tmin)
    tc = np.full(len(o), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for zc in (-hz, hz):
            t = np.where(d[:, 2] != 0, (zc - o[:, 2]) / np.where(d[:, 2] != 0, d[:, 2], 1.0), np.inf)
            x = o[:, 0] + t * d[:, 0]
            y = o[:, 1] + t * d[:, 1]
            good = (t > tmin) & (x * x + y * y <= r * r) & (t < tc)
            tc = np.where(good, t, tc)
    t = np.minimum(ts, tc)
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    side = ts <= tc
    nl = np.zeros_like(o)
    rr = np.maximum(np.hypot(p[:, 0], p[:, 1]), 1e-300)
    nl[:, 0] = np.where(side, p[:, 0] / rr, 0.0)
    nl[:, 1] = np.where(side, p[:, 1] / rr, 0.0)
    nl[:, 2] = np.where(side, 0.0, np.sign(p[:, 2]) + (p[:, 2] == 0))
    return t, nl


def _hit_capsule(o, d, prm, tmin):
    r, hz = prm[..., 0], prm[..., 1]
    t = _side_t(o, d, r, hz, tmin)
    for zc in (-hz, hz):
        oc = o.copy()
        oc[:, 2] -= zc
        t = np.minimum(t, _sphere_t(oc, d, r, tmin))
    p = o + np.where(np.isfinite(t), t, 0.0)[:, None] * d
    axis_pt = np.zeros_like(p)
    axis_pt[:, 2] = np.clip(p[:, 2], -hz, hz)
    nl = p - axis_pt
    nl /= np.maximum(np.linalg.norm(nl, axis=1, keepdims=True), 1e-300)
    return t, nl


_HIT = {PLANE: _hit_plane, BOX: _hit_box, SPHERE: _hit_sphere, CYLINDER: _hit_cylinder, CAPSULE: _hit_capsule}


def _local_normals(scene: Scene, prim: np.ndarray, world: np.ndarray) -> np.ndarray:
    """Analytic world normals at points (N, 3) on (or, for tessellated renders, next to) primitives (N,)."""
    n = np.zeros_like(world)
    for k in np.unique(prim):
        sel = np.flatnonzero(prim == k)
        R, kind, prm = scene.rot[k], int(scene.kind[k]), scene.params[k]
        pl = _mat(world[sel] - scene.pos[k], R)
        if kind == PLANE:
            nl = np.tile([0.0, 0.0, 1.0], (len(sel), 1))
        elif kind == SPHERE:
            nl = pl
        elif kind == BOX:
            axis = np.abs(pl / prm).argmax(1)
            nl = np.zeros_like(pl)
            nl[np.arange(len(sel)), axis] = np.sign(pl[np.arange(len(sel)), axis])
        elif kind == CYLINDER:
            radial = np.hypot(pl[:, 0], pl[:, 1]) / prm[0]
            cap = np.abs(pl[:, 2]) / prm[1] > radial
            nl = np.where(cap[:, None], np.stack([0 * pl[:, 0], 0 * pl[:, 0], np.sign(pl[:, 2])], 1),
                          np.stack([pl[:, 0], pl[:, 1], 0 * pl[:, 0]], 1))
        else:
            axis_pt = np.zeros_like(pl)
            axis_pt[:, 2] = np.clip(pl[:, 2], -prm[1], prm[1])
            nl = pl - axis_pt
        nl /= np.maximum(np.linalg.norm(nl, axis=1, keepdims=True), 1e-300)
        n[sel] = _mat(nl, R.T)
    return n


# ---------------------------------------------------------------- G-buffers


@dataclass(frozen=True)
class GBuffer:
    """One view of a world, every buffer per pixel (see the module docstring for conventions).

    ``albedo`` uint8 (H, W, 3); ``depth`` float32 (H, W) metres along the camera's forward axis, ``FAR``
    on background; ``normal`` float32 (H, W, 3) world-space unit normals, 0 on background;
    ``segmentation`` int32 (H, W) index into ``names``, -1 on background; ``motion`` float32 (H, W, 2)
    pixels ``(dx right, dy down)`` = position now − position in the previous frame, 0 where unknown;
    ``world_pos`` float32 (H, W, 3) metres (0 on background); ``looks`` per entity index;
    ``eye``/``target``/``up``/``fov_deg`` the camera; ``background`` the sky colour (0..1);
    ``scene`` the primitives the rays were cast against (for shadow rays in teachers); ``recast_fraction``
    the share of pixels that got their own ray (1.0 unless a coarse cast was refined, see :func:`gbuffer`).
    """

    albedo: np.ndarray
    depth: np.ndarray
    normal: np.ndarray
    segmentation: np.ndarray
    motion: np.ndarray
    names: tuple[str, ...]
    looks: tuple[str, ...]
    world_pos: np.ndarray
    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    fov_deg: float
    up: tuple[float, float, float] = (0.0, 0.0, 1.0)
    background: tuple[float, float, float] = (0.55, 0.7, 0.9)
    scene: Scene | None = field(default=None, repr=False, compare=False)
    recast_fraction: float = field(default=1.0, compare=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return self.albedo.shape[1], self.albedo.shape[0]

    @property
    def view(self) -> View:
        """The camera as a :class:`View`."""
        return View(self.eye, self.target, self.up, self.fov_deg, self.size)


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``a`` moved by (dy, dx) with edge replication: out[r, c] = a[r - dy, c - dx] (clamped)."""
    h, w = a.shape[:2]
    rows = np.clip(np.arange(h) - dy, 0, h - 1)
    cols = np.clip(np.arange(w) - dx, 0, w - 1)
    return a[rows][:, cols]


def geometry_edges(segmentation: np.ndarray, depth: np.ndarray, normal: np.ndarray, *, crease_deg: float = 50.0,
                   depth_tol: float = 0.08, ink_far: float = 40.0, both_sides: bool = False,
                   horizon: np.ndarray | None = None) -> np.ndarray:
    """Line-art mask (H, W) bool of a G-buffer: silhouettes, depth steps and creases.

    Silhouettes (segmentation changes) and depth steps (the Laplacian of inverse depth, zero on planes)
    are marked on the farther pixel, so lines sit outside the nearer shape and thin things keep their
    colour (``both_sides``: on the nearer pixel too, for 2-pixel lines); nothing is drawn around
    surfaces farther than ``ink_far`` metres. Normal creases sharper than ``crease_deg`` inside a
    surface are marked on one side. ``horizon`` (lookup by ``segmentation + 1``) marks ids whose
    meetings get no ink (the background and infinite planes).
    """
    seg = segmentation
    n = [np.ascontiguousarray(normal[..., i], dtype=np.float64) for i in range(3)]
    h, w = seg.shape
    hit = seg >= 0
    z = np.where(hit, depth, np.inf)
    inv = np.where(hit, 1.0 / np.maximum(depth, 1e-6), 0.0)

    def shifts(a: np.ndarray):
        """(dy, dx) → ``a`` moved by one pixel, edge-replicated: views into one padded copy."""
        p = np.pad(a, ((1, 1), (1, 1)) + ((0, 0),) * (a.ndim - 2), mode="edge")
        return lambda dy, dx: p[1 - dy:1 - dy + h, 1 - dx:1 - dx + w]

    inv_s = shifts(inv)
    lap = (inv_s(0, 1) + inv_s(0, -1) + inv_s(1, 0) + inv_s(-1, 0) - 4 * inv)
    step = hit & (np.abs(lap) > depth_tol * inv)
    seg_s, z_s, step_s = shifts(seg), shifts(z), shifts(step)
    n_s = [shifts(c) for c in n]
    edge = np.zeros(seg.shape, dtype=bool)
    cos_c = math.cos(math.radians(crease_deg))
    if horizon is None:
        horizon = np.zeros(int(seg.max(initial=-1)) + 2, dtype=bool)
        horizon[0] = True
    flat = horizon[seg + 1]
    flat_s = shifts(flat)
    near_z = z < ink_far
    for dy, dx in ((0, 1), (1, 0), (0, -1), (-1, 0)):
        other, oz = seg_s(dy, dx), z_s(dy, dx)
        near = (near_z | (oz < ink_far)) & ~(flat & flat_s(dy, dx))
        boundary = ((other != seg) | step | step_s(dy, dx)) & near
        edge |= boundary & (z > oz)
        if both_sides:
            edge |= boundary & (z < oz) & (other != seg)
        if (dy, dx) in ((0, 1), (1, 0)):
            cos = n_s[0](dy, dx) * n[0] + n_s[1](dy, dx) * n[1] + n_s[2](dy, dx) * n[2]
            edge |= hit & (other == seg) & (cos < cos_c) & near_z
    return edge


def poses(sim) -> dict[str, Pose]:
    """Poses ``{name: (position, quaternion xyzw)}`` of every live entity now: pass as the next
    frame's ``prev_poses``."""
    return {name: tuple(tuple(float(v) for v in part) for part in sim.pose(name)) for name in sim.entity_names}


def gbuffer(sim, size: tuple[int, int] = (256, 256), camera: str | Camera | None = None,
            prev_poses: Mapping[str, Pose] | None = None, method: str = "raycast", coarse: int = 1) -> GBuffer:
    """The :class:`GBuffer` of ``sim`` seen from ``camera`` (a spec camera name, a Camera, None: the first).

    ``prev_poses`` (from :func:`poses` one frame earlier) gives motion vectors; None gives zero motion.
    ``method``: ``"raycast"`` (exact analytic surfaces, the default) or ``"hybrid"`` (TinyRenderer
    depth and segmentation + analytic normals and motion; kept for comparison, see docs/rendering.md).

    ``coarse`` = c > 1 (raycast only) casts one ray per c×c pixels first, then casts at full resolution
    every pixel near a change of primitive or a crease in that coarse image, and the whole screen
    rectangle of every primitive the coarse rays missed or that is under 2c+2 pixels across. The other
    pixels lie inside one smooth surface: their depth, normals, positions and motion are interpolated,
    their ids copied. Ids, albedo and every line a toon style draws are then the exact cast's
    (tests/renderer/test_gbuffer.py), for a fraction of the rays (``GBuffer.recast_fraction``).
    """
    w, h = check_size(size)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; methods: {', '.join(METHODS)}")
    if not isinstance(coarse, int) or isinstance(coarse, bool) or not 1 <= coarse <= 8:
        raise ValueError(f"coarse must be an integer in 1..8, got {coarse!r}")
    if coarse > 1 and method != "raycast":
        raise ValueError("coarse > 1 needs method='raycast'")
    cam = find_camera(sim, camera)
    names_now = set(sim.entity_names)

    def view_at(size_, poses_=None) -> View:
        return camera_view(cam, size_, lambda n: (poses_.get(n) if poses_ is not None else None)
                           or (sim.pose(n) if n in names_now else None))

    view = view_at((w, h))
    prev_view = view_at((w, h), prev_poses) if prev_poses is not None else None
    scene = Scene.from_sim(sim)
    low = (max(1, round(w / coarse)), max(1, round(h / coarse)))
    buffers, fraction = None, 1.0
    if coarse > 1 and low[0] >= 2 and low[1] >= 2:
        buffers, fraction = _refined(scene, view, low, prev_poses, prev_view,
                                     view_at(low, prev_poses) if prev_poses is not None else None)
    if buffers is None:  # every ray
        if method == "raycast":
            px = _cast_pixels(scene, view, None, prev_poses, prev_view)
        else:
            px = _hybrid_pixels(sim, scene, view, prev_poses, prev_view)
        buffers = [a.reshape((h, w) + a.shape[1:]) for a in px[:5]]
    depth, normal, seg, world, motion = buffers
    bg = tuple(float(c) for c in sim.spec.style.background)
    lut = np.vstack([np.clip(np.round(scene.colors * 255), 0, 255), np.round(np.asarray(bg) * 255)]).astype(np.uint8)
    return GBuffer(
        albedo=lut[np.where(seg >= 0, seg, len(scene.names))],
        depth=depth.astype(np.float32),
        normal=normal.astype(np.float32),
        segmentation=seg.astype(np.int32),
        motion=motion.astype(np.float32),
        names=scene.names,
        looks=scene.looks,
        world_pos=world.astype(np.float32),
        eye=tuple(float(v) for v in view.eye),
        target=tuple(float(v) for v in view.target),
        fov_deg=float(view.fov_deg),
        up=view.up,
        background=bg,
        scene=scene,
        recast_fraction=fraction,
    )


CREASE_REFINE_DEG = 15.0  # gbuffer(coarse=...): coarse neighbours whose normals differ more are re-cast
REFINE_AT_MOST = 0.6  # ... and when more than this share of pixels would be re-cast, every ray is (cheaper)


def _cast_pixels(scene: Scene, view: View, pixels: np.ndarray | None, prev_poses, prev_view: View | None):
    """Flat per-pixel buffers (depth, normal, segmentation, world position, motion, primitive) for ``pixels``
    of ``view`` (flat indices; None: all), cast against ``scene``."""
    dirs = view.rays(pixels).reshape(-1, 3)
    fwd = view.basis()[0]
    eye = np.asarray(view.eye, dtype=np.float64)
    t, prim, normal = scene.cast(view, dirs, pixels)
    zf = t * _dot(dirs, fwd)
    hit = (prim >= 0) & (zf <= FAR)
    prim = np.where(hit, prim, -1)
    world = eye + np.where(hit, t, 0.0)[:, None] * dirs
    return _pixel_buffers(scene, view, pixels, world, np.where(hit, zf, FAR), prim, normal, prev_poses, prev_view)


def _pixel_buffers(scene: Scene, view: View, pixels, world, depth, prim, normal, prev_poses, prev_view):
    hit = prim >= 0
    seg = np.where(hit, scene.index[np.maximum(prim, 0)] if len(scene) else -1, -1).astype(np.int32)
    world = np.where(hit[:, None], world, 0.0)
    normal = np.where(hit[:, None], normal, 0.0)
    motion = np.zeros((len(prim), 2), dtype=np.float64)
    if prev_view is not None and hit.any():
        pix = np.arange(len(prim)) if pixels is None else np.asarray(pixels)
        motion = _motion(scene, prim, world, hit, prev_poses, prev_view, pix, view.size[0])
    return depth, normal, seg, world, motion, prim


def _refined(scene: Scene, view: View, low: tuple[int, int], prev_poses, prev_view, prev_low):
    """The buffers of ``view`` (as (h, w, ...) images) from a coarse cast at ``low`` = (w, h) refined where
    it is unsure (see :func:`gbuffer`), and the share of pixels re-cast; (None, 1.0) when so much would be
    re-cast that every ray is cheaper."""
    w, h = view.size
    lw, lh = low
    low_view = View(view.eye, view.target, view.up, view.fov_deg, low)
    depth, normal, seg, world, motion, prim = (
        a.reshape((lh, lw) + a.shape[1:]) for a in _cast_pixels(scene, low_view, None, prev_poses, prev_low))
    # coarse pixels differing from a 4-neighbour (another primitive, or a crease). A fine pixel whose four
    # interpolation taps are all unmarked lies inside one convex primitive's smooth patch (their 4-connected
    # square is one primitive, whose projection is convex), so only pixels with a marked tap are re-cast.
    marked = np.zeros((lh, lw), dtype=bool)
    cos_c = math.cos(math.radians(CREASE_REFINE_DEG))
    for a, b in (((slice(None), slice(1, None)), (slice(None), slice(None, -1))),  # right / left neighbours
                 ((slice(1, None), slice(None)), (slice(None, -1), slice(None)))):  # below / above
        diff = (prim[a] != prim[b]) | ((np.einsum("ijk,ijk->ij", normal[a], normal[b]) < cos_c) & (prim[a] >= 0))
        marked[a] |= diff
        marked[b] |= diff
    r0, r1 = _taps(lh, h)
    c0, c1 = _taps(lw, w)
    fine = marked[r0][:, c0] | marked[r0][:, c1] | marked[r1][:, c0] | marked[r1][:, c1]
    rows, cols = _nearest_index(lh, h), _nearest_index(lw, w)
    # the outer ring lies beyond the outermost coarse rays (nothing to interpolate between)
    ring = int(math.ceil(max(w / lw, h / lh) / 2))
    fine[:ring] = fine[-ring:] = True
    fine[:, :ring] = fine[:, -ring:] = True
    # primitives the coarse rays may have missed or cut: their whole rectangle
    rects = scene._screen_rects(view)
    seen = np.zeros(len(scene), dtype=bool)
    seen[prim[prim >= 0]] = True
    small = np.minimum(rects[:, 1] - rects[:, 0], rects[:, 3] - rects[:, 2]) < 2 * max(w / lw, h / lh) + 2
    for x0, x1, y0, y1 in rects[np.isfinite(scene.bound) & (small | ~seen)]:
        fine[y0:y1, x0:x1] = True
    if fine.mean() > REFINE_AT_MOST:
        return None, 1.0
    # depth and positions interpolated perspective-correctly (1/depth is linear across a plane on screen)
    inv = 1.0 / depth
    planes = np.concatenate([inv[None], normal.transpose(2, 0, 1), (world * inv[..., None]).transpose(2, 0, 1),
                             motion.transpose(2, 0, 1)])
    up = _resize_bilinear(planes, (h, w))
    inv, normal = up[0], up[1:4].transpose(1, 2, 0)
    n = np.sqrt(np.einsum("ijk,ijk->ij", normal, normal))[..., None]
    out = [1.0 / inv, np.where(n > 1e-6, normal / np.maximum(n, 1e-6), 0.0), seg[rows][:, cols],
           up[4:7].transpose(1, 2, 0) / inv[..., None], up[7:9].transpose(1, 2, 0) * np.array([w / lw, h / lh])]
    pixels = np.flatnonzero(fine)
    if len(pixels):
        rr, cc = np.divmod(pixels, w)
        for img, vals in zip(out, _cast_pixels(scene, view, pixels, prev_poses, prev_view)):
            img[rr, cc] = vals
    return out, len(pixels) / (w * h)


def _nearest_index(n_from: int, n_to: int) -> np.ndarray:
    """Source index of each of ``n_to`` pixels when ``n_from`` pixels are stretched over them (nearest)."""
    return np.minimum((np.arange(n_to) + 0.5) * n_from / n_to, n_from - 1).astype(np.intp)


def _taps(n_from: int, n_to: int) -> tuple[np.ndarray, np.ndarray]:
    """The two source pixels each of ``n_to`` pixels interpolates between when ``n_from`` pixels are
    stretched over them bilinearly (centres aligned, edges clamped), as :func:`_resize_bilinear` does."""
    x = np.clip((np.arange(n_to) + 0.5) * n_from / n_to - 0.5, 0, n_from - 1)
    i0 = np.floor(x).astype(np.intp)
    return i0, np.minimum(i0 + 1, n_from - 1)


def _resize_bilinear(planes: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """``planes`` (c, h, w) resampled to ``size_hw`` bilinearly (centres aligned, edges clamped); float32."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(np.ascontiguousarray(planes, dtype=np.float32))[None]
    return F.interpolate(t, size=size_hw, mode="bilinear", align_corners=False)[0].numpy()


def _motion(scene: Scene, prim: np.ndarray, world: np.ndarray, hit: np.ndarray, prev_poses, prev_view: View,
            pixels: np.ndarray, w: int) -> np.ndarray:
    """Motion (N, 2) of hit points ``world`` on primitives ``prim`` seen at flat ``pixels`` of a ``w``-wide
    image: each point taken into its body frame now and out with the body's previous pose, then projected
    with ``prev_view``."""
    m = len(scene)
    A = np.zeros((m + 1, 3, 3))  # per primitive: previous = A·now + b (the last row: unknown)
    b = np.zeros((m + 1, 3))
    known = np.zeros(m + 1, dtype=bool)
    for k in np.flatnonzero(np.bincount(prim[hit], minlength=m)):
        pose = prev_poses.get(scene.names[scene.index[k]])
        if pose is None:
            continue
        A[k] = quat_matrix(pose[1]) @ scene.rot[k].T
        b[k] = np.asarray(pose[0], dtype=np.float64) - A[k] @ scene.pos[k]
        known[k] = True
    k = np.where(hit, prim, m)
    x, y, z = world[:, 0], world[:, 1], world[:, 2]
    prev_world = np.stack([A[k, i, 0] * x + A[k, i, 1] * y + A[k, i, 2] * z + b[k, i] for i in range(3)], axis=1)
    xy_prev, z_prev = prev_view.project(prev_world)
    rows, cols = np.divmod(pixels, w)
    now = np.stack([cols + 0.5, rows + 0.5], axis=1)
    good = known[k] & (z_prev > 1e-9)
    return np.where(good[:, None], now - xy_prev, 0.0)


def _hybrid_pixels(sim, scene: Scene, view: View, prev_poses, prev_view: View | None):
    world, depth, prim, normal = _hybrid(sim, scene, view, view.rays().reshape(-1, 3), view.basis()[0])
    return _pixel_buffers(scene, view, None, world, depth, prim, normal, prev_poses, prev_view)


def _hybrid(sim, scene: Scene, view: View, dirs: np.ndarray, fwd: np.ndarray):
    """TinyRenderer depth + segmentation, world points unprojected from depth, analytic normals."""
    from renderer.raster import Rasterizer

    r = _RASTERS.get(sim)
    if r is None:
        r = _RASTERS[sim] = Rasterizer(sim)
    mode = "fixed" if view.up == (0.0, 0.0, 1.0) else "top_down"  # top_down: camera_pose rebuilds the same eye
    cam = Camera(name="gbuffer", mode=mode, position=view.eye, target=view.target, fov_deg=view.fov_deg)
    f = r.render(view.size, cam)
    depth = f.depth.reshape(-1).astype(np.float64)
    seg = f.segmentation.reshape(-1)
    lut = np.full(len(scene.names) + 1, -1, dtype=np.int64)
    lut[scene.index] = np.arange(len(scene))
    prim = np.where(seg >= 0, lut[np.where(seg >= 0, seg, len(scene.names))], -1)
    prim = np.where(depth < FAR * 0.999, prim, -1)
    eye = np.asarray(view.eye, dtype=np.float64)
    world = eye + (depth / _dot(dirs, fwd))[:, None] * dirs
    normal = np.zeros_like(world)
    hit = prim >= 0
    if hit.any():
        normal[hit] = _local_normals(scene, prim[hit], world[hit])
    return world, np.where(hit, depth, FAR), prim, normal
