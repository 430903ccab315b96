"""``WorldDistribution``: one design, many varied levels (procedural generation for RL).

A distribution turns a design (a :class:`WorldSpec`, a plain dict, an example name, or
later a prompt) into *levels*: level ``i`` is the design with its dynamic entities
nudged, resized, made heavier or lighter, grippier or slicker, recoloured, the camera
moved, and optionally some tagged entities left out. A level is a pure function of the
design and ``i`` (seeded from a hash of the design's JSON and ``i``; never the global
random state), so the same ``(design, level)`` always gives the identical spec JSON.

Level ids follow Procgen: ``num_levels=0`` means unlimited (every id from
``start_level`` on); otherwise the ids are ``start_level .. start_level + num_levels - 1``.
Disjoint ranges make train and test splits::

    train = WorldDistribution("bowling", start_level=0, num_levels=500)
    test = WorldDistribution("bowling", start_level=10_000)           # unlimited, never seen

What varies, and what never does:

- positions of dynamic bodies, horizontally only (z is kept, so a body stays resting on
  whatever it rested on). Each body moves at most ``position_jitter`` metres per axis and
  never more than half its clearance to a neighbour (nor off the edge of a static body it
  stands on), so a jitter never makes bodies overlap;
- sizes, by a uniform factor from ``size_scale`` (again capped by the clearance), with z
  adjusted so the body's bottom stays where it was;
- masses, frictions (factors from ``mass_scale`` and ``friction_scale``) of dynamic bodies;
- colours of every entity (each channel moved by up to ``color_jitter``);
- camera positions (each axis moved by up to ``camera_jitter`` metres; targets kept);
- ``counts={"pin": (6, 10)}`` keeps a random number of the entities tagged ``pin``
  (only entities no rule, goal, joint, control or camera names are ever removed).

Static geometry, sensors, joints, rules, goals, players, variables, templates and every
name stay as designed. Bodies that carry other bodies, rest on a dynamic body, or are
jointed keep their pose and size (they still get mass, friction and colour variation):
moving them would break the stack or tear the joint.

Every level is validated (:func:`worldgen.io.validate_spec`) and, with ``verify=True``,
settled for one second by :func:`physics.check.check_world`; a level that fails is
redrawn from the next sub-seed, up to ``max_attempts`` times (the reasons are kept in
:attr:`WorldDistribution.rejections`), after which :class:`LevelError` is raised. With
``prove=True`` each level must also pass a *mechanic proof*: the design's script
(an example's :func:`~worldgen.example_worlds.example_script`, or ``script=``) is played
for a bounded number of ticks and the world's first variable must change.

>>> dist = WorldDistribution("bowling", num_levels=10)
>>> dist.level(3).model_dump_json() == dist.level(3).model_dump_json()
True
>>> dist.level(3) == dist.level(4)
False
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from worldgen.spec import MAX_MASS, WorldSpec

__all__ = ["WorldDistribution", "LevelError", "referenced_names"]

_MARGIN = 0.001  # m kept free between bodies after jitter and growth
_REST_TOL = 0.005  # m: a body whose bottom is this close to another's top rests on it
_CACHE = 128  # levels kept in memory per distribution
_PROOF_TAIL = 600  # ticks played after the script's last action in a mechanic proof
_MAX_PROOF_TICKS = 3000

# Sub-streams: each variation draws from its own generator, so switching one off
# leaves the others' draws unchanged.
_POSITION, _SIZE, _MASS, _FRICTION, _COLOR, _CAMERA, _COUNT = range(7)


class LevelError(RuntimeError):
    """A level could not be made: every attempt failed validation, the settle check or the proof.

    ``level`` is the level id and ``reasons`` lists one line per failed attempt.
    """

    def __init__(self, level: int, reasons: list[str], title: str) -> None:
        self.level = level
        self.reasons = reasons
        super().__init__(
            f"level {level} of {title!r}: all {len(reasons)} attempts failed:\n  " + "\n  ".join(reasons)
            + "\n(lower the variation, e.g. position_jitter or size_scale, or raise max_attempts)")


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def _resolve_design(design: Any) -> tuple[WorldSpec, str | None]:
    """The spec of ``design`` and, for an example, its name."""
    from worldgen.example_worlds import example_spec, examples
    from worldgen.io import validate_spec

    if isinstance(design, WorldSpec):
        return design, None
    if isinstance(design, Mapping):
        return validate_spec(design, "design"), None
    if isinstance(design, (str, bytes)):
        text = design.decode() if isinstance(design, bytes) else design
        if text in examples():
            return example_spec(text), text
        if text.lstrip().startswith("{"):
            return validate_spec(text, "design"), None
        from reasoner import create_world  # a prompt: reasoned and verified (ReasonerError if it cannot be)

        return create_world(text, seed=0).spec, None
    raise TypeError(f"design must be a WorldSpec, a dict, JSON text or an example name, got {type(design).__name__}")


def referenced_names(spec: WorldSpec) -> set[str]:
    """Entity names something in ``spec`` refers to: joints, controls, cameras, rules, goals."""
    from worldgen import expr as _expr
    from worldgen.spec import AddVar, Destroy, Impulse, OnZone, SetProperty, SetVar

    names: set[str] = set()
    for j in spec.joints:
        names |= {j.parent, j.child}
    for pl in spec.players:
        names |= {c.target for c in pl.controls if c.target}
    names |= {c.follow for c in spec.cameras if c.follow}

    def expr_names(text: Any) -> set[str]:
        if not isinstance(text, str):
            return set()
        try:
            return set(_expr.parse(text).entities)
        except _expr.ExprError:  # cannot happen for a validated spec; be conservative anyway
            return set(_expr._NAME.findall(text))

    for r in spec.rules:
        if isinstance(r.on, OnZone):
            names.add(r.on.zone)
        names |= expr_names(r.when)
        for eff in r.do:
            if isinstance(eff, (Destroy, Impulse, SetProperty)) and not eff.target.startswith(("$", "tag:")):
                names.add(eff.target)
            if isinstance(eff, (AddVar, SetVar)):
                names |= expr_names(eff.value)
    for g in spec.goals:
        names |= expr_names(g.when)
    names.discard("world")
    return names


def _rotation(rpy_deg: tuple[float, float, float]) -> np.ndarray:
    """pybullet's ``getQuaternionFromEuler`` convention as a matrix: R = Rz(yaw) Ry(pitch) Rx(roll)."""
    r, p, y = (math.radians(a) for a in rpy_deg)
    cr, sr, cp, sp, cy, sy = math.cos(r), math.sin(r), math.cos(p), math.sin(p), math.cos(y), math.sin(y)
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _half_extents(e) -> np.ndarray | None:
    """Half extents of the entity's world-axis-aligned bounding box (None for a plane)."""
    s = e.shape
    if s.type == "plane":
        return None
    if s.type == "box":
        local = np.array(s.size) / 2
    elif s.type == "sphere":
        return np.full(3, s.radius)
    elif s.type == "cylinder":
        local = np.array([s.radius, s.radius, s.height / 2])
    else:  # capsule: the straight part plus a cap at each end, along local z
        local = np.array([s.radius, s.radius, s.height / 2 + s.radius])
    return np.abs(_rotation(e.rotation)) @ local


def _horizontal_radius(e, half: np.ndarray) -> float:
    """Radius of a vertical cylinder around the entity's centre that holds the whole entity."""
    s = e.shape
    upright = e.rotation[0] % 360 == 0 and e.rotation[1] % 360 == 0
    if s.type == "sphere":
        return s.radius
    if upright and s.type in ("cylinder", "capsule"):
        return s.radius
    if upright and s.type == "box":
        return math.hypot(s.size[0], s.size[1]) / 2
    return float(np.linalg.norm(half))  # tilted: a bounding sphere of the bounding box


def _scaled_shape(shape: dict, s: float) -> dict:
    out = dict(shape)
    if shape["type"] == "box":
        out["size"] = [v * s for v in shape["size"]]
    elif shape["type"] in ("sphere", "cylinder", "capsule"):
        out["radius"] = shape["radius"] * s
        if "height" in shape:
            out["height"] = shape["height"] * s
    return out


def _round(x: float, digits: int = 6) -> float:
    return float(round(float(x), digits)) + 0.0  # + 0.0 turns -0.0 into 0.0


class WorldDistribution:
    """Seeds → varied worlds of the same design (see the module docstring).

    Args:
        design: a :class:`WorldSpec`, a spec dict or JSON text, or an example name.
        num_levels: how many level ids; 0 means unlimited.
        start_level: the first level id.
        position_jitter: metres each dynamic body may move along x and along y.
        size_scale: (low, high) uniform size factor of dynamic bodies.
        mass_scale, friction_scale: (low, high) factors of dynamic bodies' mass and friction.
        color_jitter: how far each colour channel (0..1) may move, for every entity.
        counts: ``{tag: (low, high)}`` (or ``{tag: n}``) keeps that many entities with ``tag``.
        camera_jitter: metres each camera's position may move along each axis.
        verify: settle every level with :func:`physics.check.check_world` (1 s).
        max_attempts: draws per level before :class:`LevelError`.
        prove: also run the mechanic proof (the script must change the first variable).
        script: tick → actions for the proof (default: the example's script).
        prove_ticks: ticks the proof may play (default: the script's last tick + 600).
    """

    def __init__(self, design: Any, *, num_levels: int = 0, start_level: int = 0, position_jitter: float = 0.05,
                 size_scale: tuple[float, float] = (0.9, 1.1), mass_scale: tuple[float, float] = (0.8, 1.25),
                 friction_scale: tuple[float, float] = (0.8, 1.25), color_jitter: float = 0.08,
                 counts: Mapping[str, int | tuple[int, int]] | None = None, camera_jitter: float = 0.2,
                 verify: bool = True, max_attempts: int = 8, prove: bool = False,
                 script: Mapping[int, Any] | None = None, prove_ticks: int | None = None) -> None:
        self.design, self.name = _resolve_design(design)
        if type(num_levels) is not int or num_levels < 0:
            raise ValueError(f"num_levels must be an int ≥ 0 (0: unlimited), got {num_levels!r}")
        if type(start_level) is not int or not 0 <= start_level < 2**62:
            raise ValueError(f"start_level must be an int in [0, 2**62), got {start_level!r}")
        if type(max_attempts) is not int or max_attempts < 1:
            raise ValueError(f"max_attempts must be an int ≥ 1, got {max_attempts!r}")
        for label, v in (("position_jitter", position_jitter), ("color_jitter", color_jitter),
                         ("camera_jitter", camera_jitter)):
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"{label} must be a finite number ≥ 0, got {v!r}")
        self.size_scale = self._range("size_scale", size_scale, upper=10.0)
        self.mass_scale = self._range("mass_scale", mass_scale, upper=100.0)
        self.friction_scale = self._range("friction_scale", friction_scale, upper=100.0)
        self.num_levels, self.start_level = num_levels, start_level
        self.position_jitter, self.color_jitter, self.camera_jitter = (
            float(position_jitter), float(color_jitter), float(camera_jitter))
        self.verify, self.max_attempts, self.prove = bool(verify), max_attempts, bool(prove)
        self.design_json = self.design.model_dump_json()
        self.design_hash = hashlib.sha256(self.design_json.encode()).hexdigest()
        self._seed_words = [int(self.design_hash[k:k + 8], 16) for k in range(0, 32, 8)]
        self._referenced = referenced_names(self.design)
        self.counts = self._check_counts(counts or {})
        self.script: dict[int, Any] | None = None
        if prove:
            if script is None:
                if self.name is None:
                    raise ValueError("prove=True needs script= (tick → actions) for a design that is not an example")
                from worldgen.example_worlds import example_script

                script = example_script(self.name)
            self.script = {int(k): v for k, v in script.items()}
            if not self.design.variables:
                raise ValueError("prove=True needs a design with at least one variable (the proof watches the first)")
            last = max(self.script, default=0)
            self.prove_ticks = min(prove_ticks or last + _PROOF_TAIL, _MAX_PROOF_TICKS)
        #: level id → why earlier attempts at it were rejected (only levels that needed a retry)
        self.rejections: dict[int, list[str]] = {}
        self._cache: OrderedDict[int, WorldSpec] = OrderedDict()

    # ------------------------------------------------------------------ levels

    @classmethod
    def split(cls, design: Any, train_levels: int = 500, test_start: int = 10_000,
              **kw: Any) -> tuple[WorldDistribution, WorldDistribution]:
        """(train, test): levels ``0 .. train_levels-1`` and every level from ``test_start`` on."""
        if test_start < train_levels:
            raise ValueError(f"test_start={test_start} overlaps the train levels 0..{train_levels - 1}")
        return (cls(design, start_level=0, num_levels=train_levels, **kw),
                cls(design, start_level=test_start, num_levels=0, **kw))

    @property
    def levels(self) -> Iterator[int]:
        """The level ids (an endless iterator when ``num_levels=0``)."""
        if self.num_levels:
            return iter(range(self.start_level, self.start_level + self.num_levels))
        return itertools.count(self.start_level)

    def __contains__(self, level: object) -> bool:
        if not isinstance(level, (int, np.integer)) or isinstance(level, bool) or level < self.start_level:
            return False
        return not self.num_levels or level < self.start_level + self.num_levels

    def __len__(self) -> int:
        if not self.num_levels:
            raise TypeError("this distribution has unlimited levels (num_levels=0)")
        return self.num_levels

    def sample_level(self, rng_or_seed: np.random.Generator | int | None = None) -> int:
        """A level id drawn uniformly (from ``[start_level, start_level + 2**31)`` when unlimited)."""
        rng = rng_or_seed if isinstance(rng_or_seed, np.random.Generator) else np.random.default_rng(rng_or_seed)
        span = self.num_levels or 2**31
        return self.start_level + int(rng.integers(span))

    def sample(self, rng_or_seed: np.random.Generator | int | None = None) -> WorldSpec:
        """The spec of a level drawn by :meth:`sample_level` (its title ends with ``(level N)``)."""
        return self.level(self.sample_level(rng_or_seed))

    def make_world(self, level: int, seed: int | None = None, **kw: Any):
        """A :class:`~worldgen.World` of level ``level``."""
        from worldgen.world import World

        return World(self.level(level), seed, **kw)

    def level(self, level: int) -> WorldSpec:
        """The spec of level ``level``: deterministic in (design, level)."""
        if level not in self:
            span = (f"{self.start_level}..{self.start_level + self.num_levels - 1}" if self.num_levels
                    else f"≥ {self.start_level}")
            raise KeyError(f"level {level!r} is not in this distribution (levels {span})")
        level = int(level)
        if level in self._cache:
            self._cache.move_to_end(level)
            return self._cache[level].model_copy(deep=True)
        reasons: list[str] = []
        for attempt in range(self.max_attempts):
            spec, problem = self._attempt(level, attempt)
            if problem is None:
                if reasons:
                    self.rejections[level] = reasons
                self._cache[level] = spec
                if len(self._cache) > _CACHE:
                    self._cache.popitem(last=False)
                return spec.model_copy(deep=True)
            reasons.append(f"attempt {attempt}: {problem}")
        self.rejections[level] = reasons
        raise LevelError(level, reasons, self.design.metadata.title)

    def __getstate__(self) -> dict[str, Any]:  # pickled for Ray tasks and subprocess vector envs: no cache
        state = dict(self.__dict__)
        state["_cache"] = OrderedDict()
        return state

    def __repr__(self) -> str:
        n = self.num_levels or "unlimited"
        return (f"WorldDistribution({self.name or self.design.metadata.title!r}, start_level={self.start_level}, "
                f"num_levels={n})")

    # ------------------------------------------------------------------ making one level

    def _rng(self, level: int, attempt: int, stream: int, key: str = "") -> np.random.Generator:
        words = [*self._seed_words, level, attempt, stream]
        if key:
            words.append(_stable_int(key))
        return np.random.default_rng(words)

    def _attempt(self, level: int, attempt: int) -> tuple[WorldSpec | None, str | None]:
        from worldgen.io import SpecError, validate_spec

        try:
            data = self.build(level, attempt)
        except (ValueError, KeyError) as e:  # a variation could not be applied
            return None, f"variation failed: {e}"
        try:
            spec = validate_spec(data, f"level {level}")
        except SpecError as e:
            return None, " ".join(str(e).split())[:500]
        if self.verify:
            from physics.check import check_world

            report = check_world(spec, seconds=1.0)
            if not report.ok:
                return None, "settle check: " + "; ".join(report.errors)[:500]
        if self.prove:
            problem = self._proof(spec)
            if problem:
                return None, problem
        return spec, None

    def _proof(self, spec: WorldSpec) -> str | None:
        """The mechanic proof: the script changes the first variable within ``prove_ticks`` ticks."""
        from worldgen.world import World

        var = next(iter(spec.variables))
        world = World(spec, history_every=0)
        try:
            start = world.variables[var]
            for t in range(self.prove_ticks):
                world.step(self.script.get(t))  # type: ignore[union-attr]
                if world.variables[var] != start:
                    return None
        finally:
            world.close()
        return f"mechanic proof: variable {var!r} did not change in {self.prove_ticks} ticks of the script"

    def build(self, level: int, attempt: int = 0) -> dict[str, Any]:
        """The unvalidated spec dict of ``(level, attempt)`` (what :meth:`level` validates and checks)."""
        data = self.design.model_dump(mode="json")
        title = f"{data['metadata']['title']} (level {level})"
        data["metadata"]["title"] = title[-2000:]
        self._apply_counts(data, level, attempt)
        self._apply_geometry(data, level, attempt)
        for e in data["entities"]:
            if not (e["static"] or e["sensor"]):
                f = self._uniform(self._rng(level, attempt, _MASS, e["name"]), self.mass_scale)
                e["mass"] = _round(min(max(e["mass"] * f, 1e-6), MAX_MASS))
                f = self._uniform(self._rng(level, attempt, _FRICTION, e["name"]), self.friction_scale)
                e["material"]["friction"] = _round(min(e["material"]["friction"] * f, 10.0))
            if self.color_jitter:
                d = self._rng(level, attempt, _COLOR, e["name"]).uniform(-1, 1, 3) * self.color_jitter
                e["appearance"]["color"] = [_round(min(max(c + dc, 0.0), 1.0), 4)
                                            for c, dc in zip(e["appearance"]["color"], d)]
        if self.camera_jitter:
            for c in data["cameras"]:
                d = self._rng(level, attempt, _CAMERA, c["name"]).uniform(-1, 1, 3) * self.camera_jitter
                pos = [_round(v + dv) for v, dv in zip(c["position"], d)]
                if math.dist(pos, c["target"]) > 0.05:  # never on top of what it looks at
                    c["position"] = pos
        return data

    @staticmethod
    def _uniform(rng: np.random.Generator, lo_hi: tuple[float, float]) -> float:
        lo, hi = lo_hi
        return float(lo + (hi - lo) * rng.random())

    @staticmethod
    def _range(label: str, v: Any, upper: float) -> tuple[float, float]:
        try:
            lo, hi = (float(x) for x in v)
        except (TypeError, ValueError):
            raise ValueError(f"{label} must be (low, high), got {v!r}") from None
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi <= upper):
            raise ValueError(f"{label} must be (low, high) with 0 < low ≤ high ≤ {upper:g}, got {v!r}")
        return lo, hi

    # counts ------------------------------------------------------------------

    def _check_counts(self, counts: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for tag, rng in counts.items():
            lo, hi = (rng, rng) if isinstance(rng, int) else tuple(rng)
            tagged = [e.name for e in self.design.entities if tag in e.tags]
            if not tagged:
                tags = sorted({t for e in self.design.entities for t in e.tags})
                raise ValueError(f"counts[{tag!r}]: no entity has tag {tag!r}; tags: {', '.join(tags)}")
            if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi):
                raise ValueError(f"counts[{tag!r}] must be n or (low, high) with 0 ≤ low ≤ high, got {rng!r}")
            if lo > len(tagged):
                raise ValueError(
                    f"counts[{tag!r}] = {rng!r}: the design has only {len(tagged)} entities tagged {tag!r}")
            fixed = [n for n in tagged if n in self._referenced]
            if lo < len(fixed):
                raise ValueError(
                    f"counts[{tag!r}] = {rng!r}: {len(fixed)} of the {len(tagged)} entities tagged {tag!r} are named "
                    f"by rules, goals, joints, controls or cameras ({', '.join(fixed[:10])}) and are never removed, "
                    f"so at least {len(fixed)} remain")
            out[tag] = (lo, min(hi, len(tagged)))
        return out

    def _apply_counts(self, data: dict[str, Any], level: int, attempt: int) -> None:
        for tag in sorted(self.counts):
            lo, hi = self.counts[tag]
            rng = self._rng(level, attempt, _COUNT, tag)
            keep = int(rng.integers(lo, hi + 1))
            tagged = [e["name"] for e in data["entities"] if tag in e["tags"]]
            removable = [n for n in tagged if n not in self._referenced]
            drop = max(0, len(tagged) - keep)
            order = rng.permutation(len(removable))
            gone = {removable[k] for k in order[:drop]}
            data["entities"] = [e for e in data["entities"] if e["name"] not in gone]

    # positions and sizes ---------------------------------------------------------

    def _apply_geometry(self, data: dict[str, Any], level: int, attempt: int) -> None:
        """Size and horizontal position variation, keeping every body clear of the others."""
        if not self.position_jitter and self.size_scale == (1.0, 1.0):
            return
        spec_by_name = {e.name: e for e in self.design.entities}
        present = [spec_by_name[e["name"]] for e in data["entities"]]
        solids = [(e, _half_extents(e)) for e in present if not e.sensor and e.shape.type != "plane"]
        if not solids:
            return
        jointed = {n for j in self.design.joints for n in (j.parent, j.child)}
        centre = np.array([e.position for e, _ in solids], dtype=float)
        half = np.array([h for _, h in solids], dtype=float)
        radius = np.array([_horizontal_radius(e, h) for e, h in solids])
        static = np.array([e.static for e, _ in solids])
        bottom, top = centre[:, 2] - half[:, 2], centre[:, 2] + half[:, 2]
        # two lower bounds of every pair's horizontal distance: boxes along their best axis, and
        # bounding circles (< 0: they may overlap)
        delta = np.abs(centre[:, None, :2] - centre[None, :, :2])
        gap_xy = delta - (half[:, None, :2] + half[None, :, :2])
        sep_box = gap_xy.max(axis=2)
        sep_circle = np.hypot(delta[..., 0], delta[..., 1]) - (radius[:, None] + radius[None, :])
        z_overlap = np.minimum(top[:, None], top[None, :]) - np.maximum(bottom[:, None], bottom[None, :])
        footprint = (gap_xy < 0).all(axis=2) & (sep_circle < 0)
        np.fill_diagonal(footprint, False)
        rests_on = footprint & (np.abs(bottom[:, None] - top[None, :]) < _REST_TOL)  # [i, j]: i rests on j
        carries = rests_on.any(axis=0)  # something rests on it
        on_dynamic = (rests_on & ~static[None, :]).any(axis=1)
        movable = np.array([not s and e.name not in jointed for (e, _), s in zip(solids, static)])
        movable &= ~carries & ~on_dynamic
        # neighbours side by side (overlapping heights); a movable neighbour may come half way
        side_by_side = z_overlap > 1e-3
        np.fill_diagonal(side_by_side, False)
        share = np.where(movable[None, :], 0.5, 1.0)
        box_room = np.where(side_by_side, sep_box * share, np.inf)
        circle_room = np.where(side_by_side, sep_circle * share, np.inf)
        # what stands on a static body keeps its centre over that body's top face
        edge = np.where(rests_on, (half[None, :, :2] - delta).min(axis=2), np.inf).min(axis=1)
        # a body growing upward must not reach one above it
        above = footprint & (bottom[None, :] >= top[:, None] - _REST_TOL)
        headroom = np.where(above, bottom[None, :] - top[:, None], np.inf).min(axis=1)
        by_name = {e["name"]: e for e in data["entities"]}
        for k, (ent, h) in enumerate(solids):
            if not movable[k]:
                continue
            d = by_name[ent.name]
            u_size = self._rng(level, attempt, _SIZE, ent.name).random()
            u_xy = self._rng(level, attempt, _POSITION, ent.name).uniform(-1, 1, 2)
            lo, hi = self.size_scale
            s = lo + (hi - lo) * u_size
            room_box, room_circle = box_room[k] - _MARGIN, circle_room[k] - _MARGIN
            reach = float(radius[k])  # growth moves the box sides by at most this much too
            if s > 1.0:  # growth eats into the room to each neighbour; cap it there and under the headroom
                room = float(np.maximum(room_box, room_circle).min())
                s = min(s, 1.0 + max(0.0, room) / reach, 1.0 + max(0.0, float(headroom[k]) - _MARGIN) / (2 * h[2]))
            grown = max(0.0, (s - 1.0) * reach)
            # each axis moves by at most amp: box gaps shrink by amp, circle gaps by amp·√2
            amp = float(np.maximum(room_box - grown, (room_circle - grown) / math.sqrt(2)).min())
            amp = max(0.0, min(self.position_jitter, amp, float(edge[k]) - _MARGIN))
            x, y, z = ent.position
            d["position"] = [_round(x + amp * u_xy[0]), _round(y + amp * u_xy[1]), _round(z + (s - 1.0) * h[2])]
            if s != 1.0:
                d["shape"] = _scaled_shape(d["shape"], s)
                for key in ("size", "radius", "height"):
                    if key in d["shape"]:
                        v = d["shape"][key]
                        d["shape"][key] = [_round(a) for a in v] if isinstance(v, list) else _round(v)
