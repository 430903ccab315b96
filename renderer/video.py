"""Exporting a world's run as a video with its sound.

Contract of :func:`render_video`:

- It steps ``world`` **in place** from its current state, one tick at a time, for the
  whole clip; the world is left at the end of the clip (take ``world.snapshot()`` first to
  come back). ``actions`` maps a tick offset from the start of the call to the actions of
  that one tick (``{player: {control: value}}``); hold a control by repeating it.
- Time: frame ``k`` shows the world at ``k / fps`` seconds after the start, that is after
  tick ``floor(k / (fps · timestep))`` (frame 0 is the state before any tick), so frames
  per tick need not be whole. The clip has ``max(1, round(seconds · fps))`` frames and lasts
  ``frames / fps`` seconds; the world is stepped ``ceil(duration / timestep)`` ticks so
  that the sound covers the whole clip. The same world, arguments and actions give the
  same frames, the same sound and the same final ``state_hash``.
- Sound: an audio mixer is called after every tick with that tick's events
  (``mixer.mix(sim, events)`` → ``(n, 2)`` float32 in [-1, 1]); the track is cut or padded
  with silence to exactly the clip's length. Without a ``mixer`` the project's
  ``renderer.audio.AudioMixer`` is used when that module exists; otherwise the clip is
  silent and the returned ``notes`` say so.
- Formats, chosen by ``path``: ``.mp4`` (H.264 yuv420p BT.709 + AAC stereo; even sizes
  only), ``.gif`` (no sound, at most 50 fps), or a PNG sequence (an existing directory, a
  path ending in ``/``, or a pattern with ``%d``/``%05d``/``{frame}``/``{frame:05d}`` in
  the file name), with ``audio.wav`` (16-bit PCM) beside the frames.
- Nothing half-written is ever left behind: files are written under temporary names in
  the target directory and renamed into place only when the clip is complete; on any
  error (including Ctrl-C) the temporary files are removed and the error propagates.
- Arguments are checked before the world moves; errors are ``ValueError`` naming the
  argument and what is valid (an unknown ``style`` or ``camera`` is ``world.render``'s own
  error).

:func:`read_video_info` reads back what a file holds (with PyAV).

PyAV (``av``) is needed for ``.mp4`` and :func:`read_video_info`, Pillow for ``.gif`` and
PNG; both are imported only when used.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import secrets
import shutil
import wave
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

SAMPLE_RATE = 44100  # the default sound rate (Hz) when the mixer does not say its own
MAX_SECONDS = 3600.0
MIN_FPS, MAX_FPS = 1, 120
GIF_MAX_FPS = 50  # GIF delays are whole 1/100 s and players slow down anything shorter than 2/100 s
MIN_SIZE, MAX_SIZE = 16, 2048
MAX_CRF = 51
AAC_BIT_RATE = 128_000
SUPPORTED = (".mp4 (H.264 + AAC sound), .gif (no sound), or a PNG sequence (+ audio.wav): an existing directory, "
             "a path ending in '/', or a file pattern such as 'frames/%05d.png' or 'frames/{frame}.png'")

_PLACEHOLDER = re.compile(r"%(0?\d*)d|\{frame(?::([^{}]*))?\}")


# ---------------------------------------------------------------------------- public API


def render_video(world, path, seconds: float, *, fps: int = 30, size=(640, 360), style: str = "albedo",
                 camera: str | None = None, actions: dict[int, dict] | None = None, audio: bool = True,
                 mixer=None, progress: bool = True, crf: int = 23) -> dict:
    """Runs ``world`` for ``seconds`` and writes what it looks (and sounds) like to ``path``.

    Args:
        world: a :class:`worldgen.World`; it is stepped in place from where it is.
        path: ``*.mp4``, ``*.gif``, a directory (existing, or ending in ``/``) or a file
            pattern with ``%d``/``{frame}`` for PNG frames (see the module docstring).
        seconds: clip length, in (0, 3600]; rounded to a whole number of frames.
        fps: frames per second, 1..120 (GIF: at most 50, higher is capped with a note).
        size: ``(width, height)`` in pixels, each 16..2048; even for ``.mp4``.
        style, camera: passed to ``world.render``.
        actions: ``{tick offset: {player: {control: value}}}``, each applied on that tick only.
        audio: write a sound track (not possible in a GIF).
        mixer: an object with ``mix(sim, events) -> (n, 2) float32``, called after each tick;
            default ``renderer.audio.AudioMixer(world.spec, sample_rate=44100, camera=camera)``.
        progress: show a tqdm progress bar over frames (on stderr).
        crf: H.264 quality for ``.mp4``, 0 (lossless) .. 51 (worst); 23 is x264's default.

    Returns:
        ``{"path", "format", "frames", "seconds", "fps", "size", "audio", "ticks", "state_hash",
        "notes"}`` (plus ``"audio_path"`` for a PNG sequence): ``seconds`` and ``fps`` are what
        was written, ``audio`` whether a sound track was written, ``ticks`` how many ticks the
        world advanced, ``state_hash`` the world's hash at the end, ``notes`` anything the
        caller should know (no sound and why, capped fps, actions past the end).
    """
    seconds = _check_seconds(seconds)
    fps = _check_int("fps", fps, MIN_FPS, MAX_FPS)
    crf = _check_int("crf", crf, 0, MAX_CRF, hint=" (lower is better quality; 23 is the default)")
    w, h = _check_size(size)
    target = _Target.parse(path)
    notes: list[str] = []
    if target.format == "mp4" and (w % 2 or h % 2):
        raise ValueError(f"size must be even in both dimensions for .mp4 (H.264 yuv420p), got {w}×{h}; "
                         f"e.g. {w - w % 2}×{h - h % 2}")
    if target.format == "gif" and fps > GIF_MAX_FPS:
        notes.append(f"GIF frame delays are whole 1/100 s: fps capped at {GIF_MAX_FPS} (asked {fps})")
        fps = GIF_MAX_FPS
    script = _check_actions(world, actions)
    target.check_writable()

    timestep = Fraction(float(world.spec.physics.timestep)).limit_denominator(1_000_000)
    n_frames = max(1, round(seconds * fps))
    duration = Fraction(n_frames, fps)
    n_ticks = math.ceil(duration / timestep)
    target.check_names(n_frames)
    late = sum(1 for t in script if t >= n_ticks)
    if late:
        notes.append(f"{late} scripted tick(s) at or after tick {n_ticks} (the end of the clip) were not applied")

    if audio and target.format == "gif":
        notes.append("GIF has no sound track: audio not written")
        audio = False
    if audio:
        mixer = mixer if mixer is not None else _default_mixer(world, camera, notes)
        audio = mixer is not None
        if audio and not callable(getattr(mixer, "mix", None)):
            raise ValueError(f"mixer must have a mix(sim, events) method, got {type(mixer).__name__}")
    sample_rate = int(getattr(mixer, "sample_rate", SAMPLE_RATE) or SAMPLE_RATE) if audio else 0
    n_samples = round(duration * sample_rate)

    first = _frame(world, (w, h), style, camera)  # an unknown style or camera fails here, before anything moves
    writer = target.open(fps, (w, h), crf, sample_rate if audio else None, n_frames)
    from tqdm import tqdm

    bar = tqdm(total=n_frames, unit="frame", desc=target.label, disable=not progress, leave=False)
    try:
        writer.frame(first)
        bar.update(1)
        done, samples = 1, 0
        for t in range(n_ticks):
            result = world.step(script.get(t))
            if audio:
                pcm = _pcm(mixer.mix(world.simulation, result.events))[: max(0, n_samples - samples)]
                if len(pcm):
                    writer.sound(pcm)
                    samples += len(pcm)
            while done < n_frames and math.floor(Fraction(done, fps) / timestep) <= t + 1:
                writer.frame(_frame(world, (w, h), style, camera))
                done += 1
                bar.update(1)
        if audio and samples < n_samples:
            writer.sound(np.zeros((n_samples - samples, 2), np.float32))
        extra = writer.commit()
    except BaseException:
        writer.abort()
        raise
    finally:
        bar.close()
    return {"path": target.path, "format": target.format, "frames": n_frames, "seconds": float(duration),
            "fps": fps, "size": (w, h), "audio": bool(audio), "ticks": n_ticks, "state_hash": world.state_hash(),
            "notes": notes, **extra}


def read_video_info(path) -> dict:
    """What a video file holds, read with PyAV (decodes every video frame to count them).

    Returns ``{"frames", "width", "height", "fps", "duration", "has_audio", "audio_rate",
    "audio_channels", "audio_seconds"}``: ``duration`` in seconds (the container's, else the
    video stream's), ``fps`` the video stream's average rate; the audio fields are ``None``
    without a sound track.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no video file at {path!r}")
    av = _import_av()
    with av.open(path) as container:
        if not container.streams.video:
            raise ValueError(f"{path!r} has no video stream")
        video = container.streams.video[0]
        sound = container.streams.audio[0] if container.streams.audio else None
        rate = video.average_rate or video.guessed_rate or video.base_rate
        frames, end = 0, 0.0
        for frame in container.decode(video):
            frames += 1
            if frame.time is not None:
                step = float(frame.duration * frame.time_base) if frame.duration and frame.time_base else 0.0
                end = max(end, frame.time + step)
        if container.duration is not None:
            duration = container.duration / 1_000_000
        elif video.duration is not None and video.time_base is not None:
            duration = float(video.duration * video.time_base)
        else:
            duration = end
        info = {"frames": frames, "width": video.codec_context.width, "height": video.codec_context.height,
                "fps": float(rate) if rate else None, "duration": duration, "has_audio": sound is not None,
                "audio_rate": None, "audio_channels": None, "audio_seconds": None}
        if sound is not None:
            cc = sound.codec_context
            info["audio_rate"] = cc.sample_rate
            info["audio_channels"] = cc.layout.nb_channels if cc.layout is not None else cc.channels
            if sound.duration is not None and sound.time_base is not None:
                info["audio_seconds"] = float(sound.duration * sound.time_base)
    return info


# ---------------------------------------------------------------------------- checks


def _check_seconds(seconds: Any) -> float:
    ok = isinstance(seconds, numbers.Real) and not isinstance(seconds, bool) and math.isfinite(seconds)
    if not ok or not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"seconds must be a number in (0, {MAX_SECONDS:g}], got {seconds!r}")
    return float(seconds)


def _check_int(name: str, value: Any, lo: int, hi: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in [{lo}, {hi}]{hint}, got {value!r}")
    return int(value)


def _check_size(size: Any) -> tuple[int, int]:
    try:
        w, h = size
    except (TypeError, ValueError):
        w = h = None
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and MIN_SIZE <= v <= MAX_SIZE
               for v in (w, h)):
        raise ValueError(f"size must be (width, height), each an integer in [{MIN_SIZE}, {MAX_SIZE}], got {size!r}")
    return int(w), int(h)


def _check_actions(world, actions: Any) -> dict[int, Any]:
    if actions is None:
        return {}
    if not isinstance(actions, Mapping):
        raise ValueError(f"actions must be {{tick offset: {{player: {{control: value}}}}}}, "
                         f"got {type(actions).__name__}")
    script: dict[int, Any] = {}
    for tick, acts in actions.items():
        if isinstance(tick, bool) or not isinstance(tick, numbers.Integral) or tick < 0:
            raise ValueError(f"actions keys must be tick offsets from the start of the clip (integers ≥ 0), "
                             f"got {tick!r}")
        try:
            world.simulation.read_actions(acts)
        except ValueError as e:
            raise ValueError(f"actions[{tick}]: {e}") from None
        script[int(tick)] = acts
    return script


def _default_mixer(world, camera: str | None, notes: list[str]):
    try:
        from renderer.audio import AudioMixer
    except ModuleNotFoundError as e:
        if e.name not in ("renderer.audio", "renderer"):
            raise
        notes.append("no sound track: renderer.audio is not available (pass mixer= to supply one)")
        return None
    return AudioMixer(world.spec, sample_rate=SAMPLE_RATE, camera=camera)


def _frame(world, size: tuple[int, int], style: str, camera: str | None) -> np.ndarray:
    rgb = np.asarray(world.render(size=size, style=style, camera=camera))
    if rgb.shape != (size[1], size[0], 3):
        raise ValueError(f"world.render returned an image of shape {rgb.shape}, expected {(size[1], size[0], 3)}")
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def _pcm(samples: Any) -> np.ndarray:
    a = np.asarray(samples, dtype=np.float32)
    if a.ndim == 1:
        a = np.repeat(a[:, None], 2, axis=1)
    if a.ndim != 2 or a.shape[1] != 2:
        raise ValueError(f"mixer.mix must return (n, 2) samples, got shape {a.shape}")
    return np.clip(np.nan_to_num(a), -1.0, 1.0)


def _import_av():
    try:
        import av
    except ImportError:
        raise ImportError("writing .mp4 and reading videos needs PyAV: pip install av") from None
    return av


def _import_pillow():
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("writing .gif and PNG frames needs Pillow: pip install pillow") from None
    return Image


# ---------------------------------------------------------------------------- files


def _create(path: str, mode: str = "wb"):
    """Creates ``path`` exclusively with the usual permissions (0666 less the umask)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    return os.fdopen(fd, mode)


def _temp_name(directory: str, name: str) -> str:
    return os.path.join(directory, f".{name}.{secrets.token_hex(4)}.part")


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class _Target:
    """Where the clip goes: a file (mp4, gif) or a PNG sequence in one directory."""

    def __init__(self, path: str, fmt: str, directory: str, names=None) -> None:
        self.path, self.format, self.directory, self.names = path, fmt, directory, names
        self.label = os.path.basename(path.rstrip("/" + os.sep)) or path

    @classmethod
    def parse(cls, path: Any) -> _Target:
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"path must be a file or directory path, got {type(path).__name__}; "
                             f"supported: {SUPPORTED}")
        s = os.fspath(path)
        if not isinstance(s, str) or not s:
            raise ValueError(f"path must be a non-empty str path, got {path!r}")
        if _PLACEHOLDER.search(s):
            head, tail = os.path.split(s)
            if _PLACEHOLDER.search(head):
                raise ValueError(f"path {s!r}: the frame number (%d or {{frame}}) must be in the file name, "
                                 "not in a directory")
            if not tail.lower().endswith(".png"):
                raise ValueError(f"path {s!r}: a frame pattern must name .png files (e.g. 'frames/%05d.png')")
            for m in _PLACEHOLDER.finditer(tail):
                if m.group(0).startswith("{") and m.group(2):
                    try:
                        format(0, m.group(2))
                    except ValueError:
                        raise ValueError(f"path {s!r}: bad format spec {m.group(2)!r} for {{frame}}") from None

            def names(k: int) -> str:
                def sub(m: re.Match) -> str:
                    if m.group(0).startswith("%"):
                        return format(k, f"{m.group(1)}d")
                    return format(k, m.group(2) or "d")

                return _PLACEHOLDER.sub(sub, tail)

            return cls(s, "png", head or ".", names)
        if s.endswith(("/", os.sep)) or os.path.isdir(s):
            return cls(s, "png", s, None)
        ext = os.path.splitext(s)[1].lower()
        if ext not in (".mp4", ".gif"):
            raise ValueError(f"path {s!r}: unsupported output {ext or '(no extension)'!r}; supported: {SUPPORTED}")
        return cls(s, ext[1:], os.path.dirname(s) or ".")

    def check_writable(self) -> None:
        d = self.directory
        if self.format == "png":
            probe = d
            while not os.path.exists(probe):  # the nearest existing ancestor must be a writable directory
                parent = os.path.dirname(os.path.abspath(probe))
                if parent == os.path.abspath(probe):
                    break
                probe = parent
            if not os.path.isdir(probe):
                raise ValueError(f"path {self.path!r} is not writable: {probe!r} is not a directory")
            if not os.access(probe, os.W_OK | os.X_OK):
                raise ValueError(f"path {self.path!r} is not writable: no permission to write in {probe!r}")
            return
        if not os.path.isdir(d):
            what = "is not a directory" if os.path.exists(d) else "does not exist"
            raise ValueError(f"path {self.path!r} is not writable: directory {d!r} {what}")
        if not os.access(d, os.W_OK | os.X_OK):
            raise ValueError(f"path {self.path!r} is not writable: no permission to write in {d!r}")
        if os.path.isdir(self.path):
            raise ValueError(f"path {self.path!r} is a directory")

    def check_names(self, n_frames: int) -> None:
        """A pattern must give every frame its own file name."""
        if self.names is not None and len({self.names(k) for k in range(n_frames)}) != n_frames:
            raise ValueError(f"path {self.path!r}: the pattern gives several frames the same file name")

    def open(self, fps: int, size: tuple[int, int], crf: int, sample_rate: int | None, n_frames: int):
        try:
            if self.format == "mp4":
                return _Mp4Writer(self.path, fps, size, crf, sample_rate)
            if self.format == "gif":
                return _GifWriter(self.path, fps)
            return _PngWriter(self.directory, self.names, sample_rate, n_frames)
        except OSError as e:
            raise ValueError(f"path {self.path!r} is not writable: {e}") from e


class _Mp4Writer:
    """H.264 (libx264, yuv420p, BT.709) + AAC stereo in MP4, written to a temporary name."""

    def __init__(self, path: str, fps: int, size: tuple[int, int], crf: int, sample_rate: int | None) -> None:
        av = _import_av()
        from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

        self._av, self._709 = av, Colorspace.ITU709
        self.path, self.tmp = path, _temp_name(os.path.dirname(path) or ".", os.path.basename(path))
        self.fps, self.rate, self.frames, self.samples, self.pending = fps, sample_rate, 0, 0, []
        _create(self.tmp).close()
        self.out = None
        try:
            self.out = av.open(self.tmp, "w", format="mp4", options={"movflags": "+faststart"})
            v = self.out.add_stream("libx264", rate=fps, options={"crf": str(crf)})
            v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
            cc = v.codec_context
            cc.colorspace, cc.color_primaries = Colorspace.ITU709, ColorPrimaries.BT709
            cc.color_trc, cc.color_range = ColorTrc.BT709, ColorRange.MPEG
            self.video = v
            self.audio = None
            if sample_rate:
                self.audio = self.out.add_stream("aac", rate=sample_rate, layout="stereo")
                self.audio.bit_rate = AAC_BIT_RATE
        except BaseException:
            self.abort()
            raise

    def frame(self, rgb: np.ndarray) -> None:
        f = self._av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p",
                                                                           dst_colorspace=self._709)
        f.pts, f.time_base = self.frames, Fraction(1, self.fps)
        self.frames += 1
        self.out.mux(self.video.encode(f))

    def sound(self, pcm: np.ndarray) -> None:
        self.pending.append(pcm)
        if sum(len(p) for p in self.pending) >= 8192:
            self._flush_sound()

    def _flush_sound(self) -> None:
        if not self.pending:
            return
        pcm = np.concatenate(self.pending)
        self.pending = []
        f = self._av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm.T), format="fltp", layout="stereo")
        f.sample_rate, f.pts, f.time_base = self.rate, self.samples, Fraction(1, self.rate)
        self.samples += len(pcm)
        self.out.mux(self.audio.encode(f))

    def commit(self) -> dict:
        if self.audio is not None:
            self._flush_sound()
            self.out.mux(self.audio.encode(None))
        self.out.mux(self.video.encode(None))
        self.out.close()
        self.out = None
        os.replace(self.tmp, self.path)
        return {}

    def abort(self) -> None:
        if self.out is not None:
            try:
                self.out.close()
            except Exception:  # closing a broken container must not hide the original error
                pass
            self.out = None
        _remove(self.tmp)


class _GifWriter:
    """An animated GIF streamed frame by frame (Pillow's GIF encoder), one palette per frame.

    Pillow's ``save_all`` would merge identical consecutive frames; writing frames one by
    one keeps exactly one GIF frame per video frame. Delays alternate between whole
    hundredths so that frame ``k`` starts at ``k / fps`` within 5 ms.
    """

    def __init__(self, path: str, fps: int) -> None:
        self.Image = _import_pillow()
        self.path, self.fps, self.frames = path, fps, 0
        self.tmp = _temp_name(os.path.dirname(path) or ".", os.path.basename(path))
        self.fp = _create(self.tmp)

    def _delay_ms(self, k: int) -> int:
        def at(i: int) -> int:  # hundredths of a second at which frame i starts
            return math.floor(Fraction(100 * i, self.fps) + Fraction(1, 2))

        return 10 * (at(k + 1) - at(k))

    def frame(self, rgb: np.ndarray) -> None:
        from PIL import GifImagePlugin

        Image = self.Image
        im = Image.fromarray(rgb, "RGB").quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        delay = self._delay_ms(self.frames)
        if self.frames == 0:
            header, _ = GifImagePlugin.getheader(im, None, {"loop": 0, "duration": delay})
            for chunk in header:
                self.fp.write(chunk)
            params = {"duration": delay}
        else:
            params = {"duration": delay, "include_color_table": True}
        for chunk in GifImagePlugin.getdata(im, (0, 0), **params):
            self.fp.write(chunk)
        self.frames += 1

    def sound(self, pcm: np.ndarray) -> None:  # pragma: no cover - GIFs are written without sound
        raise RuntimeError("GIF has no sound track")

    def commit(self) -> dict:
        self.fp.write(b";")
        self.fp.close()
        os.replace(self.tmp, self.path)
        return {}

    def abort(self) -> None:
        self.fp.close()
        _remove(self.tmp)


class _PngWriter:
    """PNG frames (+ ``audio.wav``) staged in a hidden directory, moved into place at the end."""

    AUDIO_NAME = "audio.wav"

    def __init__(self, directory: str, names, sample_rate: int | None, n_frames: int) -> None:
        self.Image = _import_pillow()
        self.directory = directory
        self.created: list[str] = []  # directories this call made (removed again on error)
        probe = os.path.abspath(directory)
        while not os.path.exists(probe):
            self.created.append(probe)
            probe = os.path.dirname(probe)
        os.makedirs(directory, exist_ok=True)
        self.stage = os.path.join(directory, f".worldgen-video.{secrets.token_hex(4)}.part")
        os.mkdir(self.stage)
        self.names, self.frames, self.files = names, 0, []
        self.wav = None
        self.width = max(5, len(str(n_frames - 1)))
        if sample_rate:
            self.wav = wave.open(os.path.join(self.stage, self.AUDIO_NAME), "wb")
            self.wav.setnchannels(2)
            self.wav.setsampwidth(2)
            self.wav.setframerate(sample_rate)

    def frame(self, rgb: np.ndarray) -> None:
        name = self.names(self.frames) if self.names else f"frame_{self.frames:0{self.width}d}.png"
        self.Image.fromarray(rgb, "RGB").save(os.path.join(self.stage, name), format="PNG")
        self.files.append(name)
        self.frames += 1

    def sound(self, pcm: np.ndarray) -> None:
        self.wav.writeframes(np.round(pcm * 32767).astype("<i2").tobytes())

    def commit(self) -> dict:
        if self.wav is not None:
            self.wav.close()
            self.files.append(self.AUDIO_NAME)
        for name in self.files:
            os.replace(os.path.join(self.stage, name), os.path.join(self.directory, name))
        os.rmdir(self.stage)
        audio = os.path.join(self.directory, self.AUDIO_NAME) if self.wav is not None else None
        return {"audio_path": audio}

    def abort(self) -> None:
        if self.wav is not None:
            try:
                self.wav.close()
            except Exception:  # a broken stream must not hide the original error
                pass
        shutil.rmtree(self.stage, ignore_errors=True)
        for d in self.created:  # innermost first; only if still empty
            try:
                os.rmdir(d)
            except OSError:
                break
