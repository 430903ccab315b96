"""Spatial audio synthesised from a world's causal events: a pin falling on the left is heard on the left.

Contract:

- :class:`AudioMixer` turns the events of each tick into stereo samples. Call
  :meth:`AudioMixer.mix` once after every ``sim.step()`` with the events that step returned;
  it returns that tick's ``(n, 2)`` float32 block in [-1, 1] (left, right), including the
  tails of sounds started earlier. ``n`` follows a drift-free accumulator, so ``k`` ticks
  always give ``round(k * sample_rate * timestep)`` samples in all.
- What makes sound: ``contact`` events above :data:`IMPACT_THRESHOLD` N·s (modal synthesis
  from both bodies' material family and size, loudness from the impulse) and ``sound``
  events from rules (a table of synthesised cues; unknown names get a blip derived from the
  name). Every other kind of event is silent: a world's rules decide what else is heard.
- Where: the listener is a camera of the world (the first, or ``camera=``), posed by
  :func:`renderer.raster.camera_pose`, so follow cameras move the listener. Sources are
  panned with equal power by their azimuth in the camera frame (``sin`` of the angle from the
  look direction in the plane of the camera's right and forward axes) and attenuated by
  ``ref / (ref + distance)`` (:data:`REF_DISTANCE`); Doppler is optional. A sound follows
  the moving bodies that made it; a destroyed one is heard where it was last seen.
- Deterministic: no global random state; the attack noise of an event is seeded by
  ``crc32(seed, event id)`` and every other buffer is a pure function of its cache key,
  so the same world and actions give bit-identical samples. No events, no voices: the
  output is exactly 0.0.
- Pure numpy, procedural, no sample files and no sound device. Reads the simulation only
  through ``spec``, ``entity_names``, ``pose``, ``live(name).spec`` and ``log.get``.
"""

from __future__ import annotations

import math
import struct
import wave
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Mapping

import numpy as np

from renderer.raster import camera_pose
from worldgen.spec import Camera, Entity, WorldSpec

__all__ = ["SAMPLE_RATE", "AudioMixer", "material_family", "render_audio", "write_wav"]

#: Samples per second of everything this module makes.
SAMPLE_RATE = 44100
#: Metres at which distance attenuation ``ref / (ref + d)`` halves a sound.
REF_DISTANCE = 2.0
#: N·s; weaker contacts are silent.
IMPACT_THRESHOLD = 0.01
#: m/s, for Doppler.
SPEED_OF_SOUND = 343.0
#: Longest tail of any one sound, in seconds.
MAX_TAIL = 2.5
#: Gain of rule cues relative to impacts at full strength.
CUE_GAIN = 0.5
#: Output level below which the limiter is exactly linear.
LIMIT_KNEE = 0.6

_REF_SIZE = 0.2  # metres: a family's f0 and decays are for a body this big
_BLOCK = 512  # samples per block of a buffer's coarse envelope (voice culling)
_CACHE_BYTES = 64 << 20
_SQRT_HALF = math.sqrt(0.5)
_HARD_MIN, _HARD_MAX = -4, 10


# ---------------------------------------------------------------- materials


@dataclass(frozen=True)
class _Family:
    """Modes of a family of materials for a body :data:`_REF_SIZE` across."""

    f0: float  # Hz of the lowest mode
    ratios: tuple[float, ...]  # mode frequencies / f0
    weights: tuple[float, ...]
    decays: tuple[float, ...]  # seconds (1/e) of each mode
    noise: float  # level of the attack noise burst relative to the modes
    noise_ms: float  # its length
    smooth: int  # box-filter length applied to it (bigger: duller)


FAMILIES: Mapping[str, _Family] = {
    "wood": _Family(560.0, (1.0, 1.58, 2.37, 3.62), (1.0, 0.65, 0.45, 0.25), (0.07, 0.045, 0.03, 0.018), 0.35, 6, 3),
    "metal": _Family(950.0, (1.0, 1.012, 2.756, 5.404, 8.933), (1.0, 0.6, 0.7, 0.45, 0.25),
                     (0.9, 0.85, 0.55, 0.3, 0.16), 0.2, 3, 1),
    "glass": _Family(2100.0, (1.0, 2.32, 4.25, 6.63), (1.0, 0.6, 0.35, 0.2), (0.45, 0.25, 0.14, 0.08), 0.15, 2, 1),
    "stone": _Family(330.0, (1.0, 1.83, 2.9, 4.1), (1.0, 0.6, 0.4, 0.25), (0.028, 0.02, 0.014, 0.01), 0.6, 8, 2),
    "ice": _Family(2600.0, (1.0, 1.93, 3.27), (1.0, 0.5, 0.3), (0.03, 0.018, 0.01), 0.5, 3, 1),
    "plastic": _Family(1150.0, (1.0, 2.13, 3.71), (1.0, 0.5, 0.3), (0.05, 0.032, 0.02), 0.3, 4, 2),
    "rubber": _Family(150.0, (1.0, 1.52, 2.23), (1.0, 0.45, 0.2), (0.05, 0.03, 0.02), 0.35, 10, 12),
    "soft": _Family(110.0, (1.0, 1.71), (1.0, 0.35), (0.03, 0.02), 0.6, 14, 24),
    "thud": _Family(170.0, (1.0, 1.93, 2.81), (1.0, 0.4, 0.2), (0.05, 0.03, 0.02), 0.4, 8, 6),
}
"""Sound families: the modal character of wood, metal, glass, stone, ice, plastic, rubber, soft stuff, and a
generic thud for anything unknown."""

# A material's typical contact sound (reasoner.knowledge.MATERIALS[...].sound) → family.
_SOUND_FAMILY = {
    "wood_knock": "wood", "metal_clink": "metal", "metal_clang": "metal", "glass_clink": "glass",
    "stone_knock": "stone", "ice_clack": "ice", "plastic_tap": "plastic", "ball_click": "plastic",
    "rubber_bounce": "rubber", "soft_thud": "soft", "leather_thump": "soft", "paper_rustle": "soft",
    "paper_thud": "soft", "grass_thud": "soft", "snow_crunch": "soft",
}
# Words the material table does not know (example worlds, looks) → family.
_WORD_FAMILY = {
    "puck": "plastic", "cushion": "rubber", "felt": "soft", "steel": "metal", "brass": "metal", "iron": "metal",
    "chrome": "metal", "skin": "soft", "organic": "soft", "paint": "wood", "crystal": "glass", "porcelain": "glass",
    "bone": "stone", "brick": "stone", "tile": "ceramic", "ceramic": "glass", "rock": "stone", "carpet": "soft",
}
_FAMILY_MEMO: dict[tuple[str, str], str] = {}


def material_family(material: str, look: str = "plain") -> str:
    """The sound family (a key of :data:`FAMILIES`) of a material name, else of a look, else ``"thud"``.

    Material names and their aliases are resolved through :data:`reasoner.knowledge.MATERIALS`
    ("wooden" → wood → ``wood_knock`` → ``"wood"``); names it does not know ("puck", "cushion")
    and looks ("brass", "felt") go through a small table of their own.
    """
    key = (str(material).lower(), str(look).lower())
    fam = _FAMILY_MEMO.get(key)
    if fam is None:
        fam = _word_family(key[0]) or _word_family(key[1]) or "thud"
        if len(_FAMILY_MEMO) < 4096:
            _FAMILY_MEMO[key] = fam
    return fam


def _word_family(word: str) -> str | None:
    if not word or word in ("default", "plain", "none"):
        return None
    if word in FAMILIES:
        return word
    mapped = _WORD_FAMILY.get(word)
    if mapped is not None:
        return mapped if mapped in FAMILIES else _word_family(mapped)
    from reasoner.knowledge import find_material  # lazy: the reasoner package takes a while to import

    m = find_material(word.replace("_", " "))
    if m is None and "_" in word:  # "rubber_soft", "steel_ball": try the parts
        for part in word.split("_"):
            fam = _word_family(part)
            if fam is not None:
                return fam
    return _SOUND_FAMILY.get(m.sound) if m is not None else None


def _entity_size(e: Entity) -> float:
    """A body's characteristic size in metres (geometric mean of its extents), planes count as 2 m."""
    s = e.shape
    if s.type == "sphere":
        size = 2.0 * s.radius
    elif s.type == "box":
        size = (s.size[0] * s.size[1] * s.size[2]) ** (1.0 / 3.0)
    elif s.type == "cylinder":
        size = (4.0 * s.radius * s.radius * s.height) ** (1.0 / 3.0)
    elif s.type == "capsule":
        size = (4.0 * s.radius * s.radius * (s.height + 2.0 * s.radius)) ** (1.0 / 3.0)
    else:
        size = 2.0
    return min(size, 2.0)  # a floor or wall resonates locally, like a panel


def _size_bucket(size: float) -> int:
    return min(4, max(-28, round(4.0 * math.log2(max(size, 1e-3)))))  # quarter octaves, 8 mm .. 2 m


def _impact_gain(impulse: float) -> float:
    """Amplitude in 0..1 for an impulse in N·s: log-compressed, 10 N·s and more is full scale."""
    return min(1.0, math.log1p(max(impulse, 0.0) / 0.1) / math.log1p(100.0))


def _hard_bucket(impulse: float) -> int:
    return min(_HARD_MAX, max(_HARD_MIN, round(2.0 * math.log2(max(impulse, 1e-6) / 0.1))))


# ---------------------------------------------------------------- buffers


@dataclass(frozen=True)
class _Buffer:
    """A read-only mono sound, peak ≈ 0.9, with a coarse envelope (peak per :data:`_BLOCK` samples)."""

    samples: np.ndarray
    env: np.ndarray


class _ByteLRU:
    """A least-recently-used cache bounded by the bytes of the buffers it holds."""

    def __init__(self, budget: int) -> None:
        self.budget, self.used = budget, 0
        self._d: OrderedDict[tuple, _Buffer] = OrderedDict()

    def get(self, key: tuple, make) -> _Buffer:
        buf = self._d.get(key)
        if buf is not None:
            self._d.move_to_end(key)
            return buf
        buf = make()
        self._d[key] = buf
        self.used += buf.samples.nbytes
        while self.used > self.budget and len(self._d) > 1:
            _, old = self._d.popitem(last=False)
            self.used -= old.samples.nbytes
        return buf


_CACHE = _ByteLRU(_CACHE_BYTES)


def _finish(y: np.ndarray, sr: int, peak: float = 0.9) -> _Buffer:
    """Normalises to ``peak``, fades the last 30 ms to exactly zero, adds the envelope."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) == 0:
        y = np.zeros(1)
    fade = min(len(y), int(0.03 * sr))
    if fade > 1:
        y[-fade:] *= 0.5 + 0.5 * np.cos(np.linspace(0.0, math.pi, fade))
    y[-1] = 0.0
    m = float(np.max(np.abs(y)))
    if m > 0:
        y *= peak / m
    out = y.astype(np.float32)
    out.setflags(write=False)
    pad = (-len(out)) % _BLOCK
    env = np.abs(np.concatenate([out, np.zeros(pad, np.float32)])).reshape(-1, _BLOCK).max(axis=1)
    env.setflags(write=False)
    return _Buffer(out, env)


def _modes(freqs, weights, decays, sr: int, length: float | None = None) -> np.ndarray:
    """Sum of damped sines starting at phase 0 (so the sound starts from silence)."""
    freqs, weights, decays = (np.asarray(v, dtype=np.float64) for v in (freqs, weights, decays))
    keep = freqs < 0.45 * sr
    keep[0] = True
    freqs, weights, decays = freqs[keep], weights[keep], decays[keep]
    if length is None:
        length = float(np.max(decays)) * math.log(1e4)  # to -80 dB
    n = max(2, int(min(length, MAX_TAIL) * sr))
    y = np.zeros(n)
    for f, w, d in zip(freqs, weights, decays):
        m = min(n, int(d * math.log(1e5) * sr) + 1)  # each mode only until it is inaudible (-100 dB)
        y[:m] += w * _damped_sine(min(f, 0.45 * sr) / sr, 1.0 / (d * sr), m)
    return y


def _damped_sine(cycles: float, damping: float, n: int) -> np.ndarray:
    """``exp(-damping·i) · sin(2π·cycles·i)`` for i < n, as the outer product of two short complex
    exponentials (a few multiplies per sample instead of a sin and an exp)."""
    a = complex(-damping, 2.0 * math.pi * cycles)
    width = 1024
    rows = -(-n // width)
    z = np.outer(np.exp(a * width * np.arange(rows)), np.exp(a * np.arange(width)))
    return z.ravel()[:n].imag


def _modal_raw(family: str, size_bucket: int, hard_bucket: int, sr: int) -> np.ndarray:
    fam = FAMILIES[family]
    size = 2.0 ** (size_bucket / 4.0)
    scale = (_REF_SIZE / size) ** 0.8
    dscale = float(np.clip((size / _REF_SIZE) ** 0.5, 0.4, 2.5))
    hardness = (hard_bucket - _HARD_MIN) / (_HARD_MAX - _HARD_MIN)
    tilt = 0.35 + 0.65 * hardness  # harder hits excite the upper modes more
    freqs = np.maximum(30.0, fam.f0 * scale * np.asarray(fam.ratios))
    weights = np.asarray(fam.weights) * tilt ** np.log2(np.asarray(fam.ratios))  # per octave above the first
    return _modes(freqs, weights, np.asarray(fam.decays) * dscale, sr)


def _impact_buffer(fa: str, sa: int, fb: str, sb: int, hb: int, sr: int) -> _Buffer:
    """Both bodies' modes, equally weighted; cached by (families, size buckets, impulse bucket)."""
    if (fb, sb) < (fa, sa):
        fa, sa, fb, sb = fb, sb, fa, sa

    def make() -> _Buffer:
        a, b = _modal_raw(fa, sa, hb, sr), _modal_raw(fb, sb, hb, sr)
        a, b = a / (np.max(np.abs(a)) or 1.0), b / (np.max(np.abs(b)) or 1.0)
        y = np.zeros(max(len(a), len(b)))
        y[: len(a)] += a
        y[: len(b)] += b
        return _finish(y, sr)

    return _CACHE.get(("impact", fa, sa, fb, sb, hb, sr), make)


def _attack_noise(families: Iterable[str], rng: np.random.Generator, sr: int) -> np.ndarray:
    """The short noise burst of an impact's attack (per event, seeded), peak about 0.9 × the families' level."""
    n, kernel, env = _attack_shape(tuple(families), sr)
    x = rng.standard_normal(n + len(kernel) - 1)
    if len(kernel) > 1:
        x = np.convolve(x, kernel, mode="valid")
    return (x * env).astype(np.float32)


_SHAPES: dict[tuple, tuple[int, np.ndarray, np.ndarray]] = {}


def _attack_shape(families: tuple[str, ...], sr: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(length, smoothing kernel, gain envelope) of the attack noise of these families."""
    key = (families, sr)
    shape = _SHAPES.get(key)
    if shape is None:
        fams = [FAMILIES[f] for f in families]
        n = max(8, int(max(f.noise_ms for f in fams) * 1e-3 * sr))
        level = sum(f.noise for f in fams) / len(fams)
        k = max(1, round(sum(f.smooth for f in fams) / len(fams)))
        kernel = np.full(k, 1.0 / math.sqrt(k))  # keeps unit variance
        env = np.exp(-np.arange(n) / (n / 5.0)) * (0.9 * level / 3.0)  # a unit normal's peak is about 3
        shape = _SHAPES[key] = (n, kernel, env)
    return shape


# ---------------------------------------------------------------- rule cues


def _t(dur: float, sr: int) -> np.ndarray:
    return np.arange(max(2, int(dur * sr))) / sr


def _env(t: np.ndarray, attack: float = 0.005, release: float = 0.03) -> np.ndarray:
    dur = t[-1] if len(t) else 0.0
    e = np.minimum(1.0, t / max(attack, 1e-6))
    return e * np.clip((dur - t) / max(release, 1e-6), 0.0, 1.0)


def _tone(freq: float, dur: float, sr: int, harmonics=((1, 1.0),), decay: float | None = None,
          glide_to: float | None = None, vibrato: tuple[float, float] = (0.0, 0.0), attack: float = 0.005,
          release: float = 0.03) -> np.ndarray:
    """A note: harmonics of an (optionally gliding, vibrato) fundamental under an envelope."""
    t = _t(dur, sr)
    f = np.full_like(t, freq) if glide_to is None else freq * (glide_to / freq) ** (t / t[-1])
    if vibrato[1]:
        f = f * (1.0 + vibrato[1] * np.sin(2.0 * math.pi * vibrato[0] * t))
    phase = 2.0 * math.pi * np.cumsum(f) / sr
    y = np.zeros_like(t)
    for k, w in harmonics:
        if k * float(np.max(f)) < 0.45 * sr:
            y += w * np.sin(k * phase)
    y *= _env(t, attack, release)
    if decay is not None:
        y *= np.exp(-t / decay)
    return y


def _bell(freq: float, dur: float, sr: int) -> np.ndarray:
    return _modes((freq, 2.0 * freq, 2.76 * freq, 5.4 * freq), (1.0, 0.3, 0.35, 0.12),
                  (dur / 3.0, dur / 5.0, dur / 6.0, dur / 12.0), sr, length=dur)


def _noise(dur: float, sr: int, rng: np.random.Generator, smooth: int = 1, highpass: int = 0) -> np.ndarray:
    n = max(2, int(dur * sr))
    x = rng.standard_normal(n + smooth + highpass)
    if smooth > 1:
        x = np.convolve(x, np.full(smooth, 1.0 / smooth), mode="same")
    if highpass > 1:
        x = x - np.convolve(x, np.full(highpass, 1.0 / highpass), mode="same")
    x = x[:n]
    return x / (float(np.max(np.abs(x))) or 1.0)


def _place(parts: Iterable[tuple[float, float, np.ndarray]], sr: int) -> np.ndarray:
    """Mixes (start seconds, gain, samples) parts into one buffer."""
    parts = list(parts)
    n = max(int(s * sr) + len(y) for s, _, y in parts)
    out = np.zeros(n)
    for s, g, y in parts:
        i = int(s * sr)
        out[i: i + len(y)] += g * y
    return out


def _norm(y: np.ndarray) -> np.ndarray:
    return y / (float(np.max(np.abs(y))) or 1.0)


def _modal_unit(family: str, size: float, impulse: float, sr: int) -> np.ndarray:
    return _norm(_modal_raw(family, _size_bucket(size), _hard_bucket(impulse), sr))


def _cue_raw(name: str, sr: int) -> np.ndarray:  # noqa: C901 - a table written as code
    rng = np.random.default_rng(zlib.crc32(b"cue:" + name.encode()))
    if name == "chime":
        return _place([(0.0, 1.0, _bell(1046.5, 1.2, sr)), (0.09, 0.8, _bell(1568.0, 1.1, sr))], sr)
    if name == "ding":
        return _bell(1760.0, 0.8, sr)
    if name == "fanfare":
        brass = ((1, 1.0), (2, 0.5), (3, 0.33), (4, 0.2), (5, 0.12))
        notes = [(0.0, 523.25, 0.14), (0.12, 659.25, 0.14), (0.24, 783.99, 0.14), (0.36, 1046.5, 0.55)]
        return _place([(s, 1.0, _tone(f, d, sr, brass, attack=0.01, release=0.05)) for s, f, d in notes], sr)
    if name == "horn":
        saw = tuple((k, 1.0 / k) for k in range(1, 11))
        return (_tone(220.0, 0.9, sr, saw, vibrato=(5.0, 0.004), attack=0.03, release=0.12)
                + 0.8 * _tone(277.2, 0.9, sr, saw, vibrato=(5.5, 0.004), attack=0.03, release=0.12))
    if name in ("click", "tick", "tap"):
        f, d, nz = {"click": (3200.0, 0.004, 0.5), "tick": (5000.0, 0.002, 0.4), "tap": (1600.0, 0.006, 0.3)}[name]
        ping = _modes((f, 1.7 * f), (1.0, 0.4), (d, d / 2), sr, length=12 * d)
        burst = _noise(0.002, sr, rng, highpass=4) * np.exp(-_t(0.002, sr) / 0.0006)
        return _place([(0.0, 1.0, ping), (0.0, nz, burst)], sr)
    if name in ("knock", "wood_knock"):
        return _modal_unit("wood", 0.12, 1.0, sr)
    if name == "pin_down":
        return _place([(0.0, 1.0, _modal_unit("wood", 0.18, 1.5, sr)), (0.05, 0.6, _modal_unit("wood", 0.14, 0.6, sr)),
                       (0.11, 0.4, _modal_unit("wood", 0.25, 0.4, sr))], sr)
    if name == "pocket":
        thud = _modes((110.0, 190.0), (1.0, 0.4), (0.06, 0.03), sr, length=0.4)
        rattle = [(s, g, _modal_unit("plastic", 0.05, 0.3, sr)) for s, g in ((0.04, 0.35), (0.075, 0.25), (0.1, 0.15))]
        return _place([(0.0, 1.0, thud), *rattle], sr)
    if name == "swish":
        t = _t(0.35, sr)
        return _noise(0.35, sr, rng, smooth=3, highpass=24) * np.sin(math.pi * t / t[-1]) ** 2
    if name == "boing":
        return _tone(180.0, 0.6, sr, ((1, 1.0), (2, 0.2)), decay=0.25, glide_to=360.0, vibrato=(12.0, 0.08))
    if name == "thud":
        body = _modes((80.0, 130.0), (1.0, 0.5), (0.06, 0.03), sr, length=0.4)
        t = _t(0.03, sr)
        return _place([(0.0, 1.0, body), (0.0, 0.4, _noise(0.03, sr, rng, smooth=24) * np.exp(-t / 0.008))], sr)
    if name == "clack":
        c = _modal_unit("plastic", 0.05, 3.0, sr)
        return _place([(0.0, 1.0, c), (0.035, 0.6, c)], sr)
    if name == "launch":
        t = _t(0.45, sr)
        whoosh = _noise(0.45, sr, rng, smooth=6) * np.minimum(1.0, t / 0.02) * np.exp(-t / 0.15)
        return _place([(0.0, 0.7, whoosh), (0.0, 1.0, _tone(500.0, 0.45, sr, decay=0.2, glide_to=120.0))], sr)
    if name == "cup":
        c = _modal_unit("glass", 0.08, 0.5, sr)
        hits = [(0.0, 1.0), (0.07, 0.7), (0.12, 0.5), (0.155, 0.35), (0.18, 0.25), (0.195, 0.15)]
        return _place([(s, g, c) for s, g in hits] + [(0.0, 0.5, _modes((220.0,), (1.0,), (0.08,), sr))], sr)
    if name == "bonk":
        return _tone(320.0, 0.25, sr, ((1, 1.0), (2, 0.3)), decay=0.06, glide_to=200.0, attack=0.001)
    if name == "stone_slide":
        t = _t(0.7, sr)
        rumble = _noise(0.7, sr, rng, smooth=48) * np.minimum(1.0, t / 0.05) * np.clip((0.7 - t) / 0.3, 0.0, 1.0)
        return rumble * (1.0 + 0.3 * np.sin(2.0 * math.pi * 7.0 * t))
    if name in ("paper_rustle", "snow_crunch"):
        t = _t(0.25, sr)
        grains = _noise(0.25, sr, rng, smooth=2 if name == "paper_rustle" else 6, highpass=16)
        return grains * (0.5 + 0.5 * rng.random(len(t)) ** 4) * np.sin(math.pi * t / t[-1])
    family = _SOUND_FAMILY.get(name)
    if family is not None:  # a material's contact sound by its name (metal_clink, glass_clink, ...)
        size = {"metal_clink": 0.08, "metal_clang": 0.4, "glass_clink": 0.08, "ball_click": 0.06}.get(name, 0.15)
        return _modal_unit(family, size, 2.0, sr)
    return _blip(name, sr)


def _blip(name: str, sr: int) -> np.ndarray:
    """A deterministic blip for a cue nobody designed: pitch, length, timbre and glide from crc32(name)."""
    h = zlib.crc32(name.encode())
    freq = 300.0 + h % 1200
    dur = 0.06 + ((h >> 12) % 8) * 0.02
    harmonics = ((1, 1.0), (2, 0.5), (3, 0.25))[: 1 + (h >> 20) % 3]
    glide = freq * (1.0 + (((h >> 24) % 5) - 2) * 0.15)
    return _tone(freq, dur, sr, harmonics, glide_to=glide, attack=0.003, release=0.02)


def _cue_buffer(name: str, sr: int) -> _Buffer:
    return _CACHE.get(("cue", name, sr), lambda: _finish(_cue_raw(name, sr), sr))


#: Rule cues with a designed sound; any other name plays a blip derived from the name.
CUES = ("chime", "ding", "fanfare", "horn", "click", "tick", "tap", "knock", "wood_knock", "pin_down", "pocket",
        "swish", "boing", "thud", "clack", "launch", "cup", "bonk", "stone_slide", "paper_rustle", "snow_crunch",
        *sorted(_SOUND_FAMILY))


# ---------------------------------------------------------------- mixer


class _Voice:
    __slots__ = ("buf", "env", "attack", "pos", "age", "amp", "track", "where", "gains", "dist", "serial")

    def __init__(self, buf: _Buffer, attack: np.ndarray | None, amp: float, track: tuple[str, ...],
                 where: tuple[float, float, float] | None, serial: int) -> None:
        self.buf, self.env = buf.samples, buf.env
        self.attack = attack
        self.pos = 0.0  # read position in buf (fractional with Doppler)
        self.age = 0  # samples played (the attack burst is never resampled)
        self.amp = amp
        self.track = track  # bodies whose mean position the sound follows
        self.where = where  # None: non-spatial (centred, no attenuation)
        self.gains: list[float] | None = None  # (left, right) at the end of the previous tick
        self.dist: float | None = None
        self.serial = serial

    def done(self) -> bool:
        return self.pos >= len(self.buf) and (self.attack is None or self.age >= len(self.attack))


class AudioMixer:
    """Turns a simulation's events into stereo samples, one tick at a time (see the module docstring).

    Args:
        spec: the world's spec (timestep, cameras).
        sample_rate: samples per second.
        camera: the listening camera's name (default: the first camera, else a default :class:`Camera`).
        max_voices: sounds playing at once; past it the quietest are dropped.
        seed: varies the attack noise of impacts (the same seed gives the same samples).
        doppler: shift pitch by how fast each source approaches or recedes from the listener.

    Attributes:
        samples_per_tick: ``round(sample_rate * timestep)``; a tick's block may differ by one sample so
            that ``k`` ticks always make ``round(k * sample_rate * timestep)`` samples.
    """

    def __init__(self, spec: WorldSpec, *, sample_rate: int = SAMPLE_RATE, camera: str | None = None,
                 max_voices: int = 64, seed: int = 0, doppler: bool = False) -> None:
        if not isinstance(sample_rate, (int, np.integer)) or not 8000 <= sample_rate <= 192_000:
            raise ValueError(f"sample_rate must be an integer in 8000..192000, got {sample_rate!r}")
        if int(max_voices) < 1:
            raise ValueError(f"max_voices must be at least 1, got {max_voices!r}")
        self.spec = spec
        self.sample_rate = int(sample_rate)
        self.camera = camera
        self.max_voices = int(max_voices)
        self.seed = int(seed)
        self.doppler = bool(doppler)
        self._camera = self._find_camera(spec, camera, strict=True)
        for e in (*spec.entities, *spec.templates):  # resolve families now, not mid-run
            material_family(e.material.name, e.appearance.look)
        dt = spec.physics.timestep
        self.samples_per_tick = round(self.sample_rate * dt)
        self._per_tick = Fraction(dt).limit_denominator(1_000_000) * self.sample_rate
        self.reset()

    def reset(self) -> None:
        """Silences every voice and restarts the sample count (call after a restore, rewind or seek)."""
        self._voices: list[_Voice] = []
        self._ticks = 0
        self._serial = 0
        self._last_pos: dict[str, tuple[float, float, float]] = {}
        self._ramps: dict[int, np.ndarray] = {}

    @property
    def active_voices(self) -> int:
        """Sounds still playing."""
        return len(self._voices)

    def samples_for(self, ticks: int) -> int:
        """Total samples of the first ``ticks`` ticks after a reset."""
        num, den = self._per_tick.numerator, self._per_tick.denominator
        return (2 * ticks * num + den) // (2 * den)  # round half up, exact

    # -------------------------------------------------------------- per tick

    def mix(self, sim, events: Iterable[Any]) -> np.ndarray:
        """This tick's ``(n, 2)`` float32 samples in [-1, 1]; call once after each ``sim.step()`` with its events.

        ``sim`` is the :class:`physics.Simulation` (``world.simulation``); ``events`` the list that
        ``sim.step()`` returned (a :class:`worldgen.world.StepResult` of one tick works too). Sounds
        start at the beginning of the block of the tick whose events started them.
        """
        events = getattr(events, "events", events)
        n = self.samples_for(self._ticks + 1) - self.samples_for(self._ticks)
        self._ticks += 1
        starts = self._starts(events)
        if not starts and not self._voices:
            return np.zeros((n, 2), dtype=np.float32)
        eye, right, fwd = self._listener(sim)
        alive = set(sim.entity_names)
        for item in starts:
            self._start(sim, alive, *item)
        self._follow(sim, alive)
        voices = self._voices
        count = len(voices)
        amp = np.fromiter((v.amp for v in voices), np.float64, count)
        spatial = np.fromiter((v.where is not None for v in voices), bool, count)
        rel = np.array([v.where or eye for v in voices], dtype=np.float64) - np.asarray(eye)
        dist = np.sqrt(np.einsum("ij,ij->i", rel, rel))
        side, ahead = rel @ right, rel @ fwd
        pan = np.clip(side / np.maximum(np.sqrt(side * side + ahead * ahead), 1e-6), -1.0, 1.0)  # sin(azimuth)
        phi = (pan + 1.0) * (math.pi / 4.0)
        gains = np.empty((count, 2))
        gains[:, 0] = np.where(spatial, np.cos(phi), _SQRT_HALF)
        gains[:, 1] = np.where(spatial, np.sin(phi), _SQRT_HALF)
        gains *= (amp * np.where(spatial, REF_DISTANCE / (REF_DISTANCE + dist), 1.0))[:, None]
        if count > self.max_voices:
            keep = self._loudest(gains)
            voices = self._voices = [voices[i] for i in keep]
            gains, dist, spatial = gains[keep], dist[keep], spatial[keep]
            count = len(voices)
        start = gains.copy()  # gains glide from last tick's values over this tick's block
        fresh = [v.gains is None for v in voices]
        if not all(fresh):
            old = [i for i, f in enumerate(fresh) if not f]
            start[old] = [voices[i].gains for i in old]
        rates = [1.0] * count
        if self.doppler:
            dt = self.spec.physics.timestep
            for i, (v, d) in enumerate(zip(voices, dist.tolist())):
                if spatial[i]:
                    if v.dist is not None:
                        radial = (d - v.dist) / dt  # > 0: receding
                        rates[i] = min(2.0, max(0.5, SPEED_OF_SOUND / (SPEED_OF_SOUND + radial)))
                    v.dist = d
        block = np.zeros((count, n), dtype=np.float32)
        shifted = []
        for i, (v, g, row, rate) in enumerate(zip(voices, gains.tolist(), block, rates)):
            v.gains = g
            if rate == 1.0 and v.pos == int(v.pos):
                j = int(v.pos)
                k = max(0, min(n, len(v.buf) - j))
                row[:k] = v.buf[j: j + k]
                v.pos = float(j + n)
            else:
                shifted.append(i)
            if v.attack is not None and v.age < len(v.attack):  # the attack burst is never resampled
                a = v.attack[v.age: v.age + n]
                row[: len(a)] += a
            v.age += n
        if shifted:
            block[shifted] += _resample([voices[i] for i in shifted], [rates[i] for i in shifted], n)
        mixm = np.concatenate([start, gains - start], axis=1).T.astype(np.float32)  # (4, V): start L/R, change L/R
        y = mixm @ block
        out = y[:2] + y[2:] * self._ramp(n)
        self._voices = [v for v in voices if not v.done()]
        return np.ascontiguousarray(_limit(out).T)

    def _ramp(self, n: int) -> np.ndarray:
        r = self._ramps.get(n)
        if r is None:
            r = self._ramps[n] = np.arange(1, n + 1, dtype=np.float32) / np.float32(n)
        return r

    def _starts(self, events: Iterable[Any]) -> list[tuple]:
        """(kind, event, amplitude) for the events that make sound, at most ``max_voices`` impacts."""
        impacts, cues = [], []
        for ev in events:
            if ev.kind == "contact":
                imp = float(ev.data.get("impulse", 0.0) or 0.0)
                if imp >= IMPACT_THRESHOLD and math.isfinite(imp) and len(ev.subjects) >= 2:
                    impacts.append(("contact", ev, _impact_gain(imp)))
            elif ev.kind == "sound":
                vol = float(ev.data.get("volume", 1.0))
                if vol > 0.0 and math.isfinite(vol):
                    cues.append(("sound", ev, CUE_GAIN * min(vol, 1.0)))
        if len(impacts) > self.max_voices:  # synthesise only what could be heard
            impacts = sorted(impacts, key=lambda s: (-s[2], s[1].id))[: self.max_voices]
            impacts.sort(key=lambda s: s[1].id)
        return cues + impacts

    def _start(self, sim, alive: set[str], kind: str, ev, amp: float) -> None:
        sr = self.sample_rate
        if kind == "sound":
            buf = _cue_buffer(str(ev.data.get("sound", "chime")), sr)
            track, where = self._locate(sim, alive, ev)
            self._add(_Voice(buf, None, amp, track, where, self._next_serial()))
            return
        names = [s for s in ev.subjects[:2] if s in alive]
        if not names:
            return
        bodies = [sim.live(s).spec for s in names]
        fams = [material_family(b.material.name, b.appearance.look) for b in bodies]
        sizes = [_size_bucket(_entity_size(b)) for b in bodies]
        if len(bodies) == 1:
            fams, sizes = fams * 2, sizes * 2
        imp = float(ev.data.get("impulse", 0.0))
        buf = _impact_buffer(fams[0], sizes[0], fams[1], sizes[1], _hard_bucket(imp), sr)
        rng = np.random.default_rng(zlib.crc32(struct.pack("<qq", self.seed, int(ev.id))))
        attack = _attack_noise(fams, rng, sr)
        track = tuple(n for n, b in zip(names, bodies) if not b.static) or (names[-1],)
        where = self._mean_pos(sim, alive, track)
        self._add(_Voice(buf, attack, amp, track, where, self._next_serial()))

    def _add(self, v: _Voice) -> None:
        self._voices.append(v)

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _locate(self, sim, alive: set[str], ev) -> tuple[tuple[str, ...], tuple[float, float, float] | None]:
        """Where a rule's sound comes from: its subject, where that was last heard, or a cause's subject."""
        if ev.subjects:
            name = ev.subjects[0]
            if name in alive:
                return (name,), self._mean_pos(sim, alive, (name,))
            if name in self._last_pos:
                return (), self._last_pos[name]
            log = getattr(sim, "log", None)
            cause, hops = ev.cause, 0
            while log is not None and cause is not None and hops < 4:  # e.g. sound ← rule ← enter (ball, pocket)
                up = log.get(cause)
                if up is None:
                    break
                for s in up.subjects:
                    if s in alive and sim.live(s).spec.shape.type != "plane":
                        return (), self._mean_pos(sim, alive, (s,))
                cause, hops = up.cause, hops + 1
        return (), None

    def _mean_pos(self, sim, alive: set[str], names: tuple[str, ...]) -> tuple[float, float, float] | None:
        pts = [tuple(sim.pose(n)[0]) for n in names if n in alive]
        for n, p in zip((n for n in names if n in alive), pts):
            self._last_pos[n] = p
        return _mean(pts)

    def _follow(self, sim, live: set[str]) -> None:
        """Moves each voice to the current mean position of the bodies it follows."""
        seen: dict[str, tuple[float, float, float]] = {}
        for v in self._voices:
            if not v.track:
                continue
            pts = []
            for name in v.track:
                p = seen.get(name)
                if p is None and name in live:
                    p = seen[name] = tuple(sim.pose(name)[0])
                if p is not None:
                    pts.append(p)
            if pts:
                v.where = _mean(pts)
        self._last_pos.update(seen)
        if len(self._last_pos) > 4096:
            self._last_pos = dict(seen)

    def _loudest(self, gains: np.ndarray) -> list[int]:
        """Indices of the ``max_voices`` loudest voices now (level × envelope), in their original order."""
        level = []
        for i, v in enumerate(self._voices):
            b = min(int(v.pos) // _BLOCK, len(v.env) - 1)
            env = float(v.env[b]) if v.pos < len(v.buf) else 0.0
            if v.attack is not None and v.age < len(v.attack):
                env = max(env, 0.9)
            level.append((-(float(gains[i].max()) * env), v.serial, i))
        return sorted(i for _, _, i in sorted(level)[: self.max_voices])

    # -------------------------------------------------------------- listener

    @staticmethod
    def _find_camera(spec: WorldSpec, name: str | None, strict: bool = False) -> Camera | None:
        cams = spec.cameras
        if name is None:
            return cams[0] if cams else Camera()
        for c in cams:
            if c.name == name:
                return c
        if strict:
            raise ValueError(f"no camera {name!r}; cameras: {', '.join(c.name for c in cams) or '(none)'}")
        return None

    def _listener(self, sim) -> tuple[tuple[float, float, float], np.ndarray, np.ndarray]:
        """(eye position, unit right vector, unit look direction) of the listening camera now."""
        cam = self._find_camera(sim.spec, self.camera) or self._camera  # the sim's spec wins after an edit
        eye, target = camera_pose(sim, cam)
        fx, fy, fz = (t - e for t, e in zip(target, eye))
        norm = math.sqrt(fx * fx + fy * fy + fz * fz)
        fx, fy, fz = (fx / norm, fy / norm, fz / norm) if norm > 1e-9 else (1.0, 0.0, 0.0)
        ups = ((0.0, 1.0, 0.0),) if cam.mode == "top_down" else ((0.0, 0.0, 1.0), (0.0, 1.0, 0.0))
        for ux, uy, uz in (*ups, (1.0, 0.0, 0.0)):  # looking straight down: the image's up is +y, as in raster
            right = (fy * uz - fz * uy, fz * ux - fx * uz, fx * uy - fy * ux)  # forward × up
            r = math.sqrt(sum(c * c for c in right))
            if r > 1e-3:
                return tuple(float(c) for c in eye), np.array(right) / r, np.array([fx, fy, fz])
        return tuple(float(c) for c in eye), np.array([0.0, -1.0, 0.0]), np.array([fx, fy, fz])


def _resample(voices: list[_Voice], rates: list[float], n: int) -> np.ndarray:
    """The next ``n`` samples of each voice read at its rate (linear interpolation); advances them."""
    width = int(2.0 * n) + 4  # rates are at most 2
    win = np.zeros((len(voices), width), dtype=np.float32)
    frac = np.empty(len(voices))
    for k, v in enumerate(voices):
        j = int(v.pos)
        seg = v.buf[j: j + width]
        win[k, : len(seg)] = seg
        frac[k] = v.pos - j
        v.pos += rates[k] * n
    x = frac[:, None] + np.asarray(rates)[:, None] * np.arange(n, dtype=np.float64)
    i = x.astype(np.intp)
    f = (x - i).astype(np.float32)
    i += np.arange(0, len(voices) * width, width)[:, None]  # into the flattened windows
    flat = win.ravel()
    a = np.take(flat, i)
    return a + (np.take(flat, i + 1) - a) * f


def _mean(pts: list) -> tuple[float, float, float] | None:
    if not pts:
        return None
    if len(pts) == 1:
        return pts[0]
    k = len(pts)
    return (sum(p[0] for p in pts) / k, sum(p[1] for p in pts) / k, sum(p[2] for p in pts) / k)


def _limit(x: np.ndarray) -> np.ndarray:
    """Soft limiter: linear up to :data:`LIMIT_KNEE`, then a tanh knee towards ±1."""
    a = np.abs(x)
    if not len(a) or float(a.max()) <= LIMIT_KNEE:
        return x.astype(np.float32, copy=False)
    head = 1.0 - LIMIT_KNEE
    soft = np.sign(x) * (LIMIT_KNEE + head * np.tanh((a - LIMIT_KNEE) / head))
    return np.clip(np.where(a > LIMIT_KNEE, soft, x), -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------- whole runs


def render_audio(world, seconds: float, actions: Mapping[int, Any] | None = None, **options: Any) -> np.ndarray:
    """Steps ``world`` for ``seconds`` and returns what its camera heard: float32 ``(N, 2)`` in [-1, 1].

    This advances the world (``world.step`` once per tick, so callbacks and rewind history
    work as usual). ``actions`` maps a tick offset from now (0 = the first step) to
    ``{player: {control: value}}``. ``N = round(ticks * sample_rate * timestep)`` with
    ``ticks = round(seconds / timestep)``. ``options`` go to :class:`AudioMixer`
    (``camera``, ``sample_rate``, ``max_voices``, ``seed``, ``doppler``).
    """
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number ≥ 0, got {seconds!r}")
    sim = world.simulation
    mixer = AudioMixer(sim.spec, **options)
    ticks = round(seconds / sim.spec.physics.timestep)
    out = np.zeros((mixer.samples_for(ticks), 2), dtype=np.float32)
    at = 0
    for t in range(ticks):
        result = world.step(actions.get(t) if actions else None)
        block = mixer.mix(world.simulation, result.events)
        out[at: at + len(block)] = block
        at += len(block)
    return out


def write_wav(path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Writes float samples in [-1, 1] — ``(N,)`` mono or ``(N, channels)`` — as 16-bit PCM WAV (clipped)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or not 1 <= x.shape[1] <= 8:
        raise ValueError(f"samples must be (N,) or (N, channels), got shape {np.shape(samples)}")
    pcm = np.round(np.clip(np.nan_to_num(x), -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x.shape[1])
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(pcm.tobytes())
