"""renderer.video: a world's run as MP4 (+ AAC), GIF or PNG frames (+ WAV); small sizes to stay fast."""

from __future__ import annotations

import math
import os
import sys
import wave

import numpy as np
import pytest

av = pytest.importorskip("av")
Image = pytest.importorskip("PIL.Image")

import worldgen  # noqa: E402
from renderer.video import read_video_info, render_video  # noqa: E402

SIZE = (160, 96)
THROW = {0: {"p1": {"throw": 1}}}


class Beep:
    """Stand-in for renderer.audio.AudioMixer: a sine beep every tick, left louder than right."""

    def __init__(self, sample_rate: int = 44100) -> None:
        self.sample_rate = sample_rate
        self.ticks = 0
        self.done = 0

    def mix(self, sim, events) -> np.ndarray:
        self.ticks += 1
        end = round(self.ticks * self.sample_rate * sim.spec.physics.timestep)
        t = np.arange(self.done, end) / self.sample_rate
        self.done = end
        s = 0.25 * np.sin(2 * np.pi * 440 * t)
        return np.stack([s, 0.5 * s], axis=1).astype(np.float32)


def bowling():
    return worldgen.example("bowling")


def png_frames(directory) -> list[np.ndarray]:
    names = sorted(n for n in os.listdir(directory) if n.endswith(".png"))
    return [np.asarray(Image.open(os.path.join(directory, n)).convert("RGB")) for n in names]


def test_mp4_decodes_with_frames_size_and_sound(tmp_path):
    path = tmp_path / "clip.mp4"
    out = render_video(bowling(), path, 2, size=SIZE, fps=30, actions=THROW, mixer=Beep(), progress=False)
    assert out["frames"] == 60 and out["seconds"] == 2.0 and out["fps"] == 30 and out["size"] == SIZE
    assert out["audio"] is True and out["ticks"] == 120 and out["format"] == "mp4" and out["notes"] == []
    assert os.listdir(tmp_path) == ["clip.mp4"]  # no temporary file left beside it

    info = read_video_info(path)
    assert info["frames"] == 60 and (info["width"], info["height"]) == SIZE
    assert info["fps"] == pytest.approx(30) and info["duration"] == pytest.approx(2.0, abs=0.05)
    assert info["has_audio"] and info["audio_rate"] == 44100 and info["audio_channels"] == 2
    assert info["audio_seconds"] == pytest.approx(2.0, abs=0.05)

    with av.open(str(path)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.pix_fmt == "yuv420p"
        pcm = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)  # fltp: (channels, n)
    assert pcm.shape[0] == 2 and pcm.shape[1] / 44100 == pytest.approx(2.0, abs=0.1)
    rms = np.sqrt((pcm[:, 4096:-4096] ** 2).mean(axis=1))
    assert rms[0] == pytest.approx(0.25 / math.sqrt(2), rel=0.1) and rms[1] == pytest.approx(rms[0] / 2, rel=0.1)


def test_gif_keeps_every_frame_and_has_no_sound(tmp_path):
    path = tmp_path / "clip.gif"
    out = render_video(bowling(), path, 1, size=SIZE, fps=20, mixer=Beep())  # a still scene: 19 repeated frames
    assert out["frames"] == 20 and out["audio"] is False and any("GIF" in n for n in out["notes"])
    with Image.open(path) as im:
        assert im.n_frames == 20 and im.size == SIZE
        durations = []
        for k in range(im.n_frames):
            im.seek(k)
            durations.append(im.info["duration"])
    assert sum(durations) == 1000
    assert read_video_info(path)["frames"] == 20

    moving = render_video(bowling(), tmp_path / "moving.gif", 1, size=SIZE, fps=20, actions=THROW, progress=False)
    render_video(bowling(), f"{tmp_path}/png/", 1, size=SIZE, fps=20, actions=THROW, audio=False, progress=False)
    with Image.open(tmp_path / "moving.gif") as im:  # ≤ 256 colours a frame: the GIF is exact
        gif = []
        for k in range(im.n_frames):
            im.seek(k)
            gif.append(np.asarray(im.convert("RGB")))
    png = png_frames(tmp_path / "png")
    assert moving["frames"] == len(gif) == 20 and all(np.array_equal(g, p) for g, p in zip(gif, png))

    capped = render_video(bowling(), tmp_path / "fast.gif", 0.2, size=SIZE, fps=60, progress=False)
    assert capped["fps"] == 50 and capped["frames"] == 10 and any("capped at 50" in n for n in capped["notes"])
    with Image.open(tmp_path / "fast.gif") as im:
        assert im.n_frames == 10


def test_png_sequence_has_n_files_and_audio_wav(tmp_path):
    out = render_video(bowling(), f"{tmp_path}/frames/", 0.5, size=SIZE, fps=30, mixer=Beep(), progress=False)
    files = sorted(os.listdir(tmp_path / "frames"))
    assert files == ["audio.wav"] + [f"frame_{k:05d}.png" for k in range(15)]
    assert out["audio_path"] == os.path.join(f"{tmp_path}/frames/", "audio.wav")
    with wave.open(str(tmp_path / "frames" / "audio.wav")) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (2, 2, 44100, 22050)
    assert png_frames(tmp_path / "frames")[0].shape == (SIZE[1], SIZE[0], 3)

    render_video(bowling(), tmp_path / "pat" / "f_%04d.png", 0.2, size=SIZE, audio=False, progress=False)
    assert sorted(os.listdir(tmp_path / "pat")) == [f"f_{k:04d}.png" for k in range(6)]
    os.mkdir(tmp_path / "existing")
    render_video(bowling(), tmp_path / "existing", 0.1, size=SIZE, mixer=Beep(), progress=False)
    render_video(bowling(), str(tmp_path / "braces" / "{frame:03d}.png"), 0.1, size=SIZE, audio=False,
                 progress=False)
    assert sorted(os.listdir(tmp_path / "existing")) == ["audio.wav", "frame_00000.png", "frame_00001.png",
                                                         "frame_00002.png"]
    assert sorted(os.listdir(tmp_path / "braces")) == ["000.png", "001.png", "002.png"]


def test_actions_change_the_video_and_runs_are_deterministic(tmp_path):
    runs = {}
    for name, actions in (("a", THROW), ("b", THROW), ("none", None)):
        out = render_video(bowling(), f"{tmp_path / name}/", 2, size=SIZE, actions=actions, mixer=Beep(),
                           progress=False)
        runs[name] = (out, png_frames(tmp_path / name), (tmp_path / name / "audio.wav").read_bytes())
    (a, fa, wa), (b, fb, wb), (n, fn, _) = runs["a"], runs["b"], runs["none"]
    assert len(fa) == len(fb) == len(fn) == 60
    assert a["state_hash"] == b["state_hash"] != n["state_hash"]
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb)) and wa == wb
    assert np.array_equal(fa[0], fn[0])  # frame 0 is the state before the first tick
    assert not np.array_equal(fa[-1], fn[-1])  # the thrown ball has moved
    assert np.array_equal(fn[1], fn[-1])  # without input nothing moves (after the first tick's settling)


def test_frames_per_tick_need_not_be_whole(tmp_path):
    world = bowling()
    out = render_video(world, f"{tmp_path}/f/", 1, size=SIZE, fps=25, mixer=Beep(), progress=False)
    assert out["frames"] == 25 and out["ticks"] == 60 and world.tick == 60
    with wave.open(str(tmp_path / "f" / "audio.wav")) as w:
        assert w.getnframes() == 44100
    out = render_video(bowling(), f"{tmp_path}/g/", 0.1, size=SIZE, fps=120, audio=False, progress=False)
    assert out["frames"] == 12 and out["ticks"] == 6  # two frames per tick
    frames = png_frames(tmp_path / "g")
    assert np.array_equal(frames[2], frames[3])


def test_real_audio_mixer(tmp_path):
    audio = pytest.importorskip("renderer.audio")
    out = render_video(bowling(), tmp_path / "real.mp4", 3, size=SIZE, actions=THROW, progress=False)
    assert out["audio"] is True and out["notes"] == []
    info = read_video_info(tmp_path / "real.mp4")
    assert info["has_audio"] and info["audio_rate"] == audio.SAMPLE_RATE and info["audio_channels"] == 2
    assert info["audio_seconds"] == pytest.approx(3.0, abs=0.05) and info["frames"] == 90
    with av.open(str(tmp_path / "real.mp4")) as c:
        pcm = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    assert np.abs(pcm).max() > 0.01  # the ball striking the pins is heard


def test_without_an_audio_module_the_clip_is_silent_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "renderer.audio", None)  # as if renderer/audio.py did not exist
    out = render_video(bowling(), tmp_path / "quiet.mp4", 0.5, size=SIZE, progress=False)
    assert out["audio"] is False and any("renderer.audio" in n for n in out["notes"])
    assert read_video_info(tmp_path / "quiet.mp4")["has_audio"] is False
    out = render_video(bowling(), tmp_path / "none.mp4", 0.5, size=SIZE, audio=False, progress=False)
    assert out["audio"] is False and out["notes"] == []


@pytest.mark.parametrize("kwargs, match", [
    ({"seconds": 0}, r"seconds must be a number in \(0, 3600\]"),
    ({"seconds": -1}, r"seconds must be a number in \(0, 3600\]"),
    ({"seconds": 3601}, r"seconds must be a number in \(0, 3600\]"),
    ({"seconds": float("nan")}, r"seconds must be"),
    ({"seconds": "5"}, r"seconds must be"),
    ({"fps": 0}, r"fps must be an integer in \[1, 120\]"),
    ({"fps": 121}, r"fps must be an integer in \[1, 120\]"),
    ({"fps": 29.97}, r"fps must be an integer in \[1, 120\]"),
    ({"size": (15, 96)}, r"size must be \(width, height\), each an integer in \[16, 2048\]"),
    ({"size": (160, 2049)}, r"size must be .*\[16, 2048\]"),
    ({"size": (160,)}, r"size must be"),
    ({"size": "160x96"}, r"size must be"),
    ({"size": (160.0, 96)}, r"size must be"),
    ({"size": (161, 96)}, r"size must be even .* for \.mp4.*161×96; e\.g\. 160×96"),
    ({"crf": 52}, r"crf must be an integer in \[0, 51\]"),
    ({"path": "clip.avi"}, r"unsupported output '\.avi'; supported: \.mp4 .*\.gif .*PNG"),
    ({"path": "clip"}, r"unsupported output .*supported: \.mp4"),
    ({"path": "missing/clip.mp4"}, r"not writable: directory .*missing' does not exist"),
    ({"path": "afile/clip.mp4"}, r"not writable: directory .*afile' is not a directory"),
    ({"path": "afile/frames/"}, r"not writable: .*afile' is not a directory"),
    ({"path": "f%d/x.png"}, r"frame number .* must be in the file name"),
    ({"path": "f_%d.jpg"}, r"must name \.png files"),
    ({"style": "zzqx"}, r"unknown style 'zzqx'; styles: albedo"),  # words map to styles; gibberish does not
    ({"camera": "nope"}, r"no camera 'nope'; cameras: main, pins"),
    ({"actions": {-1: {"p1": {"throw": 1}}}}, r"actions keys must be tick offsets .*integers ≥ 0"),
    ({"actions": {"0": {"p1": {"throw": 1}}}}, r"actions keys must be tick offsets"),
    ({"actions": {3: {"p9": {"throw": 1}}}}, r"actions\[3\]: unknown player 'p9'"),
    ({"actions": [1, 2]}, r"actions must be \{tick offset"),
    ({"mixer": object()}, r"mixer must have a mix\(sim, events\) method"),
])
def test_invalid_arguments_are_refused_before_anything_moves(tmp_path, monkeypatch, kwargs, match):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("not a directory")
    world = bowling()
    before = world.state_hash()
    args = {"path": "clip.mp4", "seconds": 1, "size": SIZE, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=match):
        render_video(world, args.pop("path"), args.pop("seconds"), **args)
    assert world.tick == 0 and world.state_hash() == before
    assert sorted(os.listdir(tmp_path)) == ["afile"]


class Broken(Beep):
    def mix(self, sim, events):
        if self.ticks == 30:
            raise RuntimeError("mixer broke")
        return super().mix(sim, events)


@pytest.mark.parametrize("path", ["clip.mp4", "new/frames/", "pattern/%03d.png"])
def test_an_error_midway_leaves_no_file(tmp_path, path):
    with pytest.raises(RuntimeError, match="mixer broke"):
        render_video(bowling(), f"{tmp_path}/{path}", 1, size=SIZE, mixer=Broken(), progress=False)
    assert os.listdir(tmp_path) == []  # neither a partial file nor the directories it made


def test_gif_error_midway_leaves_no_file(tmp_path):
    class Exploding:
        def __init__(self):
            self.world, self.n = bowling(), 0

        def __getattr__(self, name):
            return getattr(self.world, name)

        def render(self, **kw):
            self.n += 1
            if self.n == 5:
                raise KeyboardInterrupt
            return self.world.render(**kw)

    with pytest.raises(KeyboardInterrupt):
        render_video(Exploding(), tmp_path / "clip.gif", 1, size=SIZE, progress=False)
    assert os.listdir(tmp_path) == []


def test_read_video_info_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no video file"):
        read_video_info(tmp_path / "nothing.mp4")
