"""A pygame window to play any world: keyboard + mouse, a HUD, pause, rewind, replays and sound.

:class:`Player` binds the keyboard to the controls the world declares (``Control.keys`` in
the spec), so every world is playable as designed, two players on one keyboard included.
It keeps a fixed-tick simulation decoupled from the display: real time is accumulated and
the world is stepped once per ``spec.physics.timestep`` (at most ``max_catchup`` ticks per
display frame, so a slow frame never snowballs), while frames are drawn at the display rate
paced by ``pygame.time.Clock``. With ``realtime=False`` every frame steps exactly one tick
and nothing sleeps, which makes runs reproducible (tests, benchmarks).

Contract:

- Controls. A ``button`` is its range's maximum while any of its keys is held and 0 (or
  the range's minimum, if 0 is outside it) otherwise. An ``axis`` lists keys in pairs
  ``[negative, positive, ...]``: a negative key gives the range's minimum, a positive one
  its maximum, neither (or both) gives 0 clamped into the range. Key names are pygame's
  (:data:`worldgen.spec.KEY_NAMES`), ``mouse left/right/middle`` included.
- Mouse. Unless a control binds ``mouse left`` itself, the left button presses the first
  player's first button control. The first player's first axis follows the mouse wheel
  (each notch holds it at ±1 for :data:`WHEEL_TICKS` ticks, up/away is +) and a drag with
  the right button held (unless ``mouse right`` is bound): ``dx / DRAG_PIXELS`` clamped to
  ±1. Keys win over the mouse on the same control.
- The player's own keys (:data:`PLAYER_KEYS`): Esc quits, F1 toggles the key overlay,
  P pauses (the tick stops), ``.`` steps one tick while paused, R held rewinds
  (``rewind_speed`` ticks per frame, never before the start of the session, stopping with
  a message where the world's history ends), Backspace restarts (``world.reset()``), C
  cycles the spec's cameras, 1–9 pick a style among those ``world.render`` accepts. Esc
  and F1 are reserved; for the others, a key a control of the world uses goes to the
  control and the function stays on its F-key (F2–F6).
- HUD: variables, tick and time, the outcome, the latest rule messages (events of kind
  ``message``; they fade after :data:`MESSAGE_SECONDS`), frames/s, the style and camera.
  A world without controls plays as a spectator and says so. :meth:`Player.hud_text`
  returns what the HUD shows.
- Replays: every session is recorded (:class:`worldgen.replay.Recorder`: the actions of
  each tick, truncated on rewind, restarted on reset); ``record=PATH`` writes it when
  :meth:`Player.run` returns, :meth:`Player.save_replay` at any time. Played back with
  :func:`worldgen.replay.play_back` it ends in the same ``state_hash()``.
- Sound: if ``renderer.audio`` imports, an ``AudioMixer(spec, sample_rate)`` mixes each
  tick's events (``mix(sim, events) -> (n, 2) float32``) and the frames' samples are queued
  on a ``pygame.mixer.Channel``. Without that module there is no sound; without an audio
  device a warning is issued once (and shown in the HUD) and the world plays silently.
- Rendering: ``world.render(render_size, style=..., camera=...)`` at most once per display
  frame (only when the state or the view changed), scaled to fit the window. In real time the
  restyled styles are pipelined (``pipelined``): each frame's restyle runs on a worker thread
  while the next frame's physics and G-buffer cast run, and is shown one frame late. In real time,
  frames slower than ``1 / min_fps`` lower the render resolution (to 40 % at least) until
  the frame rate holds, and it grows back when there is room.

Headless use: set ``SDL_VIDEODRIVER=dummy`` (and ``SDL_AUDIODRIVER=dummy``), drive frames
with :meth:`Player.step_frame` or ``run(events=...)`` and synthetic ``pygame.event.Event``s.

>>> import os; os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # doctest: +ELLIPSIS
'...'
>>> import pygame, worldgen
>>> player = Player(worldgen.example("push_crate"), realtime=False, audio=False, render_size=(64, 64))
>>> x0 = player.world.entities["robot"].position[0]
>>> player.run(max_frames=30, events=[[pygame.event.Event(pygame.KEYDOWN, key=pygame.K_d)]] + [[]] * 29)
>>> player.world.entities["robot"].position[0] > x0 + 0.1
True
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402

from worldgen.replay import Recorder  # noqa: E402
from worldgen.spec import KEY_NAMES, Control  # noqa: E402

#: Snapshot cadence (ticks) and count of worlds :func:`open_world` builds: rewinding replays
#: at most this many ticks per frame, and 300 snapshots keep five minutes of history.
PLAY_HISTORY_EVERY = 60
PLAY_HISTORY_LEN = 300
MESSAGE_SECONDS = 3.0  # a rule message is shown this long (fading over its last second)
WHEEL_TICKS = 6  # ticks one mouse-wheel notch holds the mouse axis at ±1
DRAG_PIXELS = 120.0  # right-drag distance (px) that moves the mouse axis to ±1
#: Styles tried on start; those ``world.render`` accepts are offered on keys 1–9.
CANDIDATE_STYLES = ("albedo", "toon", "pixel", "painterly", "photo")

#: The player's own functions and their keys (pygame names). Esc and F1 are reserved; the
#: others fall back to their F-key when a control of the world uses the first key.
PLAYER_KEYS: dict[str, tuple[str, ...]] = {
    "quit": ("escape",),
    "help": ("f1",),
    "pause": ("p", "f2"),
    "step": (".", "f3"),
    "rewind": ("r", "f4"),
    "restart": ("backspace", "f5"),
    "camera": ("c", "f6"),
    **{f"style{d}": (str(d),) for d in range(1, 10)},
}
_RESERVED = ("escape", "f1")
_MOUSE_BUTTONS = {1: "mouse left", 2: "mouse middle", 3: "mouse right"}
_BG = (24, 24, 28)


@dataclass(frozen=True)
class Binding:
    """One control of the world and what drives it: ``keys`` (pygame names) and, in words, the ``mouse``."""

    player: str
    control: Control
    keys: tuple[str, ...]
    mouse: str = ""

    def describe(self) -> str:
        """Keys as people read them: ``"a / d"`` for an axis (negative / positive), ``"space"`` for a button."""
        if self.control.type == "axis":
            neg, pos = self.keys[0::2], self.keys[1::2]
            text = f"{', '.join(neg) or '-'} / {', '.join(pos) or '-'}" if self.keys else ""
        else:
            text = ", ".join(self.keys)
        extra = f"{'; ' if text else ''}{self.mouse}" if self.mouse else ""
        return (text + extra) or "(no keys)"


def _scaled(control: Control, u: float) -> float:
    """Maps ``u`` in [-1, 1] onto the control's range: -1 → min, 0 → 0 (clamped into the range), +1 → max."""
    lo, hi = control.range
    zero = min(max(0.0, lo), hi)
    if u > 0:
        return zero + min(u, 1.0) * (hi - zero)
    if u < 0:
        return zero + max(u, -1.0) * (zero - lo)
    return zero


class _Sound:
    """Mixes each tick's events with ``renderer.audio.AudioMixer`` and queues them on a pygame channel."""

    MAX_LATENCY = 0.25  # seconds of samples kept waiting; older ones are dropped

    def __init__(self, spec, notify, camera: str | None = None) -> None:
        self.ok = False
        self.status = "sound: off"
        self.queued = 0  # sounds handed to the channel
        self._pending: list[np.ndarray] = []
        try:
            from renderer.audio import AudioMixer
        except Exception:  # without the audio module (a partial install) the player is silent
            self.status = "sound: off (renderer.audio is not available)"
            return
        try:
            pygame.mixer.init(frequency=44100, size=-16, channels=2, buffer=1024)
            init = pygame.mixer.get_init()
            if not init:
                raise pygame.error("the mixer did not initialise")
            self.rate, self.size, self.channels = init
            if self.size not in (-16, 32):
                raise pygame.error(f"unsupported sample format {self.size}")
            pygame.mixer.set_num_channels(max(pygame.mixer.get_num_channels(), 1))
            self.channel = pygame.mixer.Channel(0)
        except Exception as e:  # no device, no driver: play silently
            self._fail(f"no audio device ({e}); playing silently", notify)
            return
        self._make = AudioMixer
        self._spec = spec
        try:
            self.mixer = self._new_mixer(camera)
        except Exception as e:
            self._fail(f"the audio mixer failed to start ({type(e).__name__}: {e}); playing silently", notify)
            return
        self.ok = True
        self.status = f"sound: on ({self.rate} Hz)"

    def _new_mixer(self, camera: str | None):
        try:
            return self._make(self._spec, sample_rate=self.rate, camera=camera)  # hear from the camera shown
        except TypeError:  # a mixer without a listener camera
            return self._make(self._spec, sample_rate=self.rate)

    def listen_from(self, camera: str | None, notify) -> None:
        """Moves the listener to ``camera`` (a new mixer: sounds already playing are cut)."""
        if not self.ok:
            return
        try:
            self.mixer = self._new_mixer(camera)
            self._pending = []
        except Exception as e:
            self._fail(f"the audio mixer failed ({type(e).__name__}: {e}); playing silently", notify)

    def _fail(self, text: str, notify) -> None:
        warnings.warn(f"worldgen player: {text}", RuntimeWarning, stacklevel=3)
        notify(text)
        self.ok = False
        self.status = "sound: off (" + text.split(";")[0] + ")"
        self._pending = []

    def mix(self, sim, events, notify) -> None:
        if not self.ok:
            return
        try:
            chunk = np.asarray(self.mixer.mix(sim, events), dtype=np.float32)
            if chunk.ndim != 2 or chunk.shape[1] != 2:
                raise ValueError(f"mix returned shape {chunk.shape}, expected (n, 2)")
        except Exception as e:
            self._fail(f"the audio mixer failed ({type(e).__name__}: {e}); playing silently", notify)
            return
        if len(chunk):
            self._pending.append(chunk)

    def flush(self, notify) -> None:
        """Queues the samples mixed since the last flush (called once per display frame)."""
        if not self.ok or not self._pending:
            return
        buf = np.concatenate(self._pending)
        self._pending = []
        keep = int(self.MAX_LATENCY * self.rate)
        if len(buf) > keep:
            buf = buf[-keep:]
        try:
            busy = self.channel.get_busy()
            if not busy and not np.any(buf):
                return  # silence, and nothing playing
            if busy and self.channel.get_queue() is not None:
                self._pending = [buf]  # the channel holds one queued sound; wait for it
                return
            sound = pygame.sndarray.make_sound(self._samples(buf))
            if busy:
                self.channel.queue(sound)
            else:
                self.channel.play(sound)
            self.queued += 1
        except Exception as e:
            self._fail(f"audio output failed ({type(e).__name__}: {e}); playing silently", notify)

    def _samples(self, buf: np.ndarray) -> np.ndarray:
        buf = np.clip(buf, -1.0, 1.0)
        if self.channels == 1:
            buf = buf.mean(axis=1)
        elif self.channels > 2:
            buf = np.concatenate([buf, np.zeros((len(buf), self.channels - 2), np.float32)], axis=1)
        if self.size == -16:
            return np.ascontiguousarray((buf * 32767).astype(np.int16))
        return np.ascontiguousarray(buf.astype(np.float32))

    def reset(self) -> None:
        """Drops what is queued (after a rewind or restart) and resets the mixer if it can."""
        self._pending = []
        if not self.ok:
            return
        try:
            self.channel.stop()
            if hasattr(self.mixer, "reset"):
                self.mixer.reset()
        except Exception:  # pragma: no cover - best effort
            pass

    def close(self) -> None:
        if self.ok:
            self.ok = False
            try:
                pygame.mixer.quit()
            except Exception:  # pragma: no cover
                pass


class Player:
    """Plays ``world`` in a pygame window (see the module docstring for the whole contract).

    Args:
        world: the :class:`worldgen.World` to play (stepped in place).
        size: window size in pixels (the window is resizable).
        render_size: (width, height) of the rendered view, scaled to fit the window.
        style: the initial render style (``"albedo"``: flat colours; the restyler adds more).
        fps: display frames per second to pace at (``realtime=True``).
        record: a path to write the session's replay to when :meth:`run` returns.
        audio: play sound if ``renderer.audio`` and an audio device are available.
        hud: draw the heads-up display.
        realtime: step by real elapsed time; ``False``: exactly one tick per frame, no sleeping.
        max_catchup: most ticks stepped in one frame (real time beyond it is dropped).
        rewind_speed: ticks rewound per frame while R is held.
        min_fps: with ``realtime``, the frame rate to hold by lowering the render resolution (down to
            40 % of ``render_size``, back up when there is room); ``None`` keeps the size fixed.
        pipelined: restyle each frame on a worker thread while the next frame's physics and G-buffer
            run, showing it one frame late (:class:`renderer.Renderer`); default: with ``realtime``.
    """

    def __init__(self, world, *, size: tuple[int, int] = (960, 540), render_size: tuple[int, int] = (320, 180),
                 style: str = "albedo", fps: int = 60, record: str | os.PathLike[str] | None = None,
                 audio: bool = True, hud: bool = True, realtime: bool = True, max_catchup: int = 5,
                 rewind_speed: int = 3, min_fps: float | None = 24.0, pipelined: bool | None = None) -> None:
        self.world = world
        self.render_size = (int(render_size[0]), int(render_size[1]))
        self.fps = max(1, int(fps))
        self.record = record
        self.hud = hud
        self.realtime = realtime
        self.max_catchup = max(1, int(max_catchup))
        self.rewind_speed = max(1, int(rewind_speed))
        self.min_fps = min_fps
        self.render_scale = 1.0  #: fraction of render_size drawn now (below 1 when frames ran slow)
        self._work_ema: float | None = None
        self._slow = self._fast = 0
        self.running = True
        self.paused = False
        self.show_help = False
        self.frames = 0  #: display frames drawn
        self.steps = 0  #: ticks stepped since the session started (the replay's tick)
        self.messages: list[tuple[str, float]] = []  #: (text, time shown) of recent messages
        self.recorder = Recorder(world)
        self._closed = False

        try:
            pygame.display.init()
            pygame.font.init()
            self._screen = pygame.display.set_mode(tuple(size), pygame.RESIZABLE)
        except pygame.error as e:
            raise RuntimeError(f"cannot open a window ({e}); headless, set SDL_VIDEODRIVER=dummy") from None
        pygame.display.set_caption(f"worldgen — {world.spec.metadata.title}")
        self._font = pygame.font.Font(None, 22)
        self._small = pygame.font.Font(None, 19)
        self._text_cache: dict[tuple[str, tuple[int, int, int], bool], pygame.Surface] = {}
        self._panels: dict[tuple[int, int], pygame.Surface] = {}
        self._clock = pygame.time.Clock()
        self._now = 0.0  # the player's clock (s): real time, or 1/fps per frame when not realtime
        self._last: float | None = None  # perf_counter() at the previous frame
        self._frame_times: deque[float] = deque(maxlen=31)
        self._acc = 0.0
        self._step_requests = 0
        self._rewind_note = False

        # view
        self.cameras = [c.name for c in world.spec.cameras] or [None]
        self.camera = self.cameras[0]
        self.styles = self._probe_styles(style)
        self.style = style if style in self.styles else self.styles[0]
        if style not in self.styles:
            self.notify(f"style {style!r} is not available; showing {self.style}")
        self._image: pygame.Surface | None = None
        self._scaled_img: pygame.Surface | None = None
        self._image_key: Any = None
        self._scaled_for: tuple[int, int] | None = None
        self._version = 0  # bumped whenever the world's state changes
        self.pipelined = realtime if pipelined is None else bool(pipelined)
        self._renderer = None  # (view, renderer.Renderer) drawing restyled views when pipelined
        self._in_flight = None  # (view, Future) of the frame being restyled, not yet shown

        # input
        self._code_to_name = {pygame.key.key_code(n): n for n in KEY_NAMES if not n.startswith("mouse")}
        self._held: set[str] = set()
        self._drag_from: float | None = None
        self._drag = 0.0
        self._wheel = 0
        self.bindings = self._bind()
        used = {k for b in self.bindings for k in b.keys}
        self.player_keys = {a: tuple(k for k in keys if k in _RESERVED or k not in used)
                            for a, keys in PLAYER_KEYS.items()}
        self._key_action = {k: a for a, keys in self.player_keys.items() for k in keys}
        self.spectator = not self.bindings  #: the world has no controls: watch only

        self._sound = _Sound(world.spec, self.notify, self.camera) if audio else None

    # ------------------------------------------------------------------ setup

    def _probe_styles(self, wanted: str) -> list[str]:
        names = list(dict.fromkeys([*getattr(type(self.world), "STYLES", CANDIDATE_STYLES), wanted]))
        ok = []
        for s in names:
            try:
                self.world.render((8, 8), style=s, camera=self.camera)
                ok.append(s)
            except Exception:  # a style the renderer does not offer
                continue
        return ok[:9] or ["albedo"]

    def _bind(self) -> list[Binding]:
        players = self.world.spec.players
        bindings: list[Binding] = []
        bound = {k for pl in players for c in pl.controls for k in c.keys}
        first = players[0] if players else None
        self._mouse_button = self._mouse_axis = None
        if first is not None:
            if "mouse left" not in bound:
                self._mouse_button = next((c.name for c in first.controls if c.type == "button"), None)
            self._mouse_axis = next((c.name for c in first.controls if c.type == "axis"), None)
        for pl in players:
            for c in pl.controls:
                mouse = ""
                if pl is first and c.name == self._mouse_button:
                    mouse = "mouse: left button"
                elif pl is first and c.name == self._mouse_axis:
                    mouse = "mouse: wheel" + ("" if "mouse right" in bound else ", right-drag x")
                keys = tuple(k for k in c.keys if k not in _RESERVED)
                bindings.append(Binding(pl.name, c, keys, mouse))
        return bindings

    # ------------------------------------------------------------------ the loop

    def run(self, max_frames: int | None = None, events: Iterable[list[pygame.event.Event]] | None = None) -> None:
        """Plays until Esc / the window closes (or ``max_frames`` frames, or ``events`` runs out).

        ``events`` replaces ``pygame.event.get()``: one list of events per frame (tests,
        scripted demos). On return the replay is written if ``record`` was given, and the
        window closes; the world stays usable.
        """
        it = iter(events) if events is not None else None
        try:
            while self.running and (max_frames is None or self.frames < max_frames):
                if it is not None:
                    try:
                        pg_events = next(it)
                    except StopIteration:
                        break
                else:
                    pg_events = pygame.event.get()
                self.step_frame(pg_events)
                if self.realtime:
                    self._clock.tick(self.fps)
        finally:
            if self.record:
                self.save_replay(self.record)
            self.close()

    def step_frame(self, pg_events: Sequence[pygame.event.Event]) -> None:
        """One display frame: handle ``pg_events``, advance the simulation by the frame's time, draw."""
        if self._closed:
            raise RuntimeError("this player is closed")
        t = started = time.perf_counter()
        if not self.realtime:
            dt = 1.0 / self.fps
        else:  # the first frame steps nothing; a stall counts as a quarter second at most
            dt = 0.0 if self._last is None else min(max(t - self._last, 0.0), 0.25)
        self._last = t
        self._now += dt
        for ev in pg_events:
            self._handle(ev)
        if not self.running:
            return
        ts = self.world.spec.physics.timestep
        if self._rewinding():
            self._acc = 0.0
            self._rewind(self.rewind_speed)
        else:
            self._rewind_note = False
            if self.paused:
                self._acc = 0.0
                for _ in range(self._step_requests):
                    self._advance()
            elif self.realtime:
                self._acc += dt
                n = int(self._acc / ts + 1e-9)
                if n > self.max_catchup:
                    n, self._acc = self.max_catchup, 0.0  # drop the backlog rather than spiral
                else:
                    self._acc -= n * ts
                for _ in range(n):
                    self._advance()
            else:
                self._advance()
        self._step_requests = 0
        if self._sound is not None:
            self._sound.flush(self.notify)
        self._draw()
        self.frames += 1
        done = time.perf_counter()
        self._frame_times.append(done)
        if self.realtime and self.min_fps:
            self._adapt(done - started)

    # ------------------------------------------------------------------ input

    def _handle(self, ev: pygame.event.Event) -> None:
        if ev.type == pygame.QUIT:
            self.running = False
        elif ev.type == pygame.KEYDOWN:
            name = self._code_to_name.get(ev.key)
            if name is None:
                return
            self._held.add(name)
            action = self._key_action.get(name)
            if action is not None:
                self._do(action)
        elif ev.type == pygame.KEYUP:
            self._held.discard(self._code_to_name.get(ev.key, ""))
        elif ev.type == pygame.MOUSEBUTTONDOWN and ev.button in _MOUSE_BUTTONS:
            self._held.add(_MOUSE_BUTTONS[ev.button])
            if ev.button == 3:
                self._drag_from, self._drag = float(ev.pos[0]), 0.0
        elif ev.type == pygame.MOUSEBUTTONUP and ev.button in _MOUSE_BUTTONS:
            self._held.discard(_MOUSE_BUTTONS[ev.button])
            if ev.button == 3:
                self._drag_from, self._drag = None, 0.0
        elif ev.type == pygame.MOUSEMOTION and self._drag_from is not None:
            self._drag = max(-1.0, min(1.0, (ev.pos[0] - self._drag_from) / DRAG_PIXELS))
        elif ev.type == pygame.MOUSEWHEEL:
            y = int(getattr(ev, "y", 0))
            if y:
                same = (self._wheel > 0) == (y > 0)
                self._wheel = (self._wheel if same else 0) + y * WHEEL_TICKS
        elif ev.type in (getattr(pygame, "WINDOWFOCUSLOST", -1),):
            self._held.clear()  # key-up events are lost while another window has the focus
            self._drag_from, self._drag = None, 0.0

    def _do(self, action: str) -> None:
        if action == "quit":
            self.running = False
        elif action == "help":
            self.show_help = not self.show_help
        elif action == "pause":
            self.paused = not self.paused
            self._acc = 0.0
            self.notify("paused: . steps one tick, P resumes" if self.paused else "resumed")
        elif action == "step":
            if self.paused:
                self._step_requests += 1
        elif action == "restart":
            self.restart()
        elif action == "camera":
            self.cycle_camera()
        elif action.startswith("style"):
            self.select_style(int(action[5:]))

    def _rewinding(self) -> bool:
        return any(k in self._held for k in self.player_keys["rewind"])

    def actions(self) -> dict[str, dict[str, float]] | None:
        """The actions the current input gives (``None`` for no input); the mouse wheel's pulse is not consumed."""
        return self._actions(consume=False)

    def _actions(self, consume: bool = True) -> dict[str, dict[str, float]] | None:
        held = self._held
        wheel = (1.0 if self._wheel > 0 else -1.0) if self._wheel else 0.0
        if consume and self._wheel:
            self._wheel -= 1 if self._wheel > 0 else -1
        first = self.world.spec.players[0].name if self.world.spec.players else None
        out: dict[str, dict[str, float]] = {}
        for b in self.bindings:
            c = b.control
            if c.type == "button":
                pressed = any(k in held for k in b.keys)
                if b.player == first and c.name == self._mouse_button and "mouse left" in held:
                    pressed = True
                u = 1.0 if pressed else 0.0
            else:
                u = float(any(k in held for k in b.keys[1::2])) - float(any(k in held for k in b.keys[0::2]))
                if u == 0.0 and b.player == first and c.name == self._mouse_axis:
                    u = self._drag if self._drag_from is not None and self._drag else wheel
            v = _scaled(c, u)
            if v != 0.0:
                out.setdefault(b.player, {})[c.name] = v
        return out or None

    # ------------------------------------------------------------------ time

    def _advance(self) -> None:
        actions = self._actions()
        result = self.world.step(actions)
        self.recorder.record(self.steps, actions)
        self.steps += 1
        self._version += 1
        for ev in result.events:
            if ev.kind == "message":
                self.notify(str(ev.data.get("text", "")))
        if self._sound is not None:
            self._sound.mix(self.world.simulation, result.events, self.notify)

    def _rewind(self, ticks: int) -> None:
        want = min(ticks, self.steps)
        went = 0
        if want > 0:
            try:
                went = self.world.rewind(want)
            except RuntimeError as e:  # a world built with history_every=0
                self._note_rewind(f"rewind unavailable: {e}")
                return
        if went:
            self.steps -= went
            self.recorder.truncate(self.steps)
            self._version += 1
            if self._sound is not None:
                self._sound.reset()
        if went < ticks:
            where = "the start of the session" if self.steps == 0 else "the oldest kept snapshot"
            self._note_rewind(f"rewind limit: back at {where}")

    def _note_rewind(self, text: str) -> None:
        if not self._rewind_note:  # once per press
            self._rewind_note = True
            self.notify(text)

    def restart(self) -> None:
        """Restarts the world from its initial state (``world.reset()``); the replay starts over too."""
        self.world.reset()
        self.recorder.restart()
        self.steps = 0
        self._acc = 0.0
        self._version += 1
        self.messages = []
        if self._sound is not None:
            self._sound.reset()
        self.notify("restarted")

    def cycle_camera(self) -> str | None:
        """Switches to the spec's next camera; returns its name."""
        i = self.cameras.index(self.camera)
        self.camera = self.cameras[(i + 1) % len(self.cameras)]
        self.notify(f"camera: {self.camera or 'default'}")
        if self._sound is not None:
            self._sound.listen_from(self.camera, self.notify)
        return self.camera

    def select_style(self, number: int) -> bool:
        """Switches to style ``number`` (1-based, as on the keys 1–9); False if there is no such style."""
        if 1 <= number <= len(self.styles):
            self.style = self.styles[number - 1]
            self.notify(f"style: {self.style}")
            return True
        offered = ", ".join(f"{i} {s}" for i, s in enumerate(self.styles, 1))
        self.notify(f"no style {number}: styles are {offered}")
        return False

    def notify(self, text: str) -> None:
        """Shows ``text`` in the HUD's message area (it fades after :data:`MESSAGE_SECONDS`)."""
        self.messages.append((text[:200], self._now))
        del self.messages[:-6]

    def save_replay(self, path: str | os.PathLike[str]) -> None:
        """Writes the session so far as a replay (see :mod:`worldgen.replay`)."""
        self.recorder.save(path, self.world, end_tick=self.steps)

    # ------------------------------------------------------------------ drawing

    @property
    def current_render_size(self) -> tuple[int, int]:
        """The size rendered now: ``render_size`` × :attr:`render_scale`."""
        k = self.render_scale
        return max(16, round(self.render_size[0] * k)), max(16, round(self.render_size[1] * k))

    def _adapt(self, work: float) -> None:
        """Dynamic resolution: shrinks the render when frames take longer than 1/min_fps, grows it back."""
        ema = self._work_ema = work if self._work_ema is None else 0.9 * self._work_ema + 0.1 * work
        budget = 1.0 / self.min_fps
        self._slow = self._slow + 1 if ema > budget else 0
        self._fast = self._fast + 1 if ema < 0.6 * budget and self.render_scale < 1.0 else 0
        if self._slow >= 15 and self.render_scale > 0.4:
            self.render_scale = max(0.4, self.render_scale * 0.85)
            self._slow, self._work_ema = 0, None
        elif self._fast >= 60:
            self.render_scale = min(1.0, self.render_scale / 0.85)
            self._fast, self._work_ema = 0, None

    @property
    def fps_measured(self) -> float:
        """Display frames per second over the last 30 frames (0 before two frames)."""
        ft = self._frame_times
        return (len(ft) - 1) / (ft[-1] - ft[0]) if len(ft) > 1 and ft[-1] > ft[0] else 0.0

    def style_label(self) -> str:
        if self.style == "albedo":
            return "albedo view (restyler not available yet)" if self.styles == ["albedo"] else "albedo view"
        return f"style: {self.style}"

    def hud_text(self) -> dict[str, list[str]]:
        """What the HUD shows now, by area: ``status``, ``view``, ``messages``, ``notice`` and ``help``."""
        w = self.world
        variables = "   ".join(f"{k} {_num(v)}" for k, v in w.variables.items())
        state = "PAUSED" if self.paused else "REWIND" if self._rewinding() else ""
        status = [w.spec.metadata.title, *( [variables] if variables else []),
                  f"tick {w.tick}   t {w.time:.2f} s   {state}".rstrip()]
        if w.terminated or w.truncated:
            why = w.outcome or ("time up" if w.truncated else "over")
            status.append(f"{why.upper()}: Backspace plays again")
        w, h = self.current_render_size
        view = [f"{self.fps_measured:.0f} fps   {w}×{h}", self.style_label(), f"camera: {self.camera or 'default'}",
                "F1: keys"]
        msgs = [t for t, at in self.messages if self._now - at < MESSAGE_SECONDS]
        notice = ["spectator: this world has no controls"] if self.spectator else []
        return {"status": status, "view": view, "messages": msgs, "notice": notice,
                "help": self.help_lines() if self.show_help else []}

    def help_lines(self) -> list[str]:
        """The F1 overlay: every binding (player, control, keys) and the player's own keys."""
        lines = ["world controls:"]
        if not self.bindings:
            lines.append("  (none: spectator)")
        for b in self.bindings:
            lines.append(f"  {b.player}  {b.control.name} ({b.control.type})  {b.describe()}")
            dropped = [k for k in b.control.keys if k in _RESERVED]
            if dropped:
                lines[-1] += f"  [{', '.join(dropped)} reserved by the player]"
        names = {"quit": "quit", "help": "this overlay", "pause": "pause / resume", "step": "one tick (paused)",
                 "rewind": "rewind (hold)", "restart": "restart", "camera": "next camera"}
        lines.append("player keys:")
        for action, label in names.items():
            keys = self.player_keys[action]
            lines.append(f"  {', '.join(keys) if keys else '(taken by the world)'}  {label}")
        digits = [k for d in range(1, 10) for k in self.player_keys[f"style{d}"]]
        lines.append(f"  {digits[0]}-{digits[-1] if digits else ''}  style ({', '.join(self.styles)})" if digits
                     else "  (digits taken by the world)  style")
        if self._sound is not None:
            lines.append(self._sound.status)
        return lines

    def _draw(self) -> None:
        screen = pygame.display.get_surface() or self._screen
        size = screen.get_size()
        key = (self._version, self.camera, self.style, self.current_render_size)
        img = None
        if key != self._image_key or self._image is None:
            img = self._render_view(key)
            self._image_key = key
        elif self._in_flight is not None and self._in_flight[0] == key[1:]:  # nothing new: show the frame in flight
            img = self._in_flight[1].result().image
            self._in_flight = None
        if img is not None:
            h, w = img.shape[:2]
            self._image = pygame.image.frombuffer(np.ascontiguousarray(img).tobytes(), (w, h), "RGB")
            self._scaled_img = None
        if self._scaled_img is None or self._scaled_for != size:
            iw, ih = self._image.get_size()
            k = min(size[0] / iw, size[1] / ih)
            self._scaled_img = pygame.transform.scale(self._image, (max(1, int(iw * k)), max(1, int(ih * k))))
            self._scaled_for = size
        screen.fill(_BG)
        sw, sh = self._scaled_img.get_size()
        screen.blit(self._scaled_img, ((size[0] - sw) // 2, (size[1] - sh) // 2))
        if self.hud:
            self._draw_hud(screen)
        pygame.display.flip()

    def _render_view(self, key) -> np.ndarray:
        """The image to show for state-and-view ``key``. Restyled views in real time are pipelined
        (:class:`renderer.Renderer`): this state's G-buffer is cast now and restyled on a worker thread while
        the next frame's physics runs, and the frame shown is the previous state's (one frame late) when it
        had the same view."""
        _, camera, style, render_size = key
        from renderer.teachers import STYLES as restyled  # the trained restyler's styles

        if not (self.pipelined and style in restyled):
            self._close_renderer()
            return self.world.render(render_size, style=style, camera=camera)
        view = key[1:]
        if self._renderer is None or self._renderer[0] != view:
            self._close_renderer()
            from renderer import Renderer

            self._renderer = (view, Renderer(self.world, render_size, style, camera=camera,
                                             seed=self.world.seed % 2**63))
        submitted = self._renderer[1].submit()
        before, self._in_flight = self._in_flight, (view, submitted)
        # a new view waits for its first frame (shown again next frame, when the pipeline has filled)
        return (before[1] if before is not None and before[0] == view else submitted).result().image

    def _close_renderer(self) -> None:
        if self._renderer is not None:
            self._renderer[1].close()
        self._renderer, self._in_flight = None, None

    def _text(self, text: str, color=(240, 240, 240), small: bool = False) -> pygame.Surface:
        key = (text, color, small)
        surf = self._text_cache.get(key)
        if surf is None:
            if len(self._text_cache) > 512:
                self._text_cache.clear()
            surf = (self._small if small else self._font).render(text, True, color)
            self._text_cache[key] = surf
        return surf

    def _panel(self, screen: pygame.Surface, x: int, y: int, surfs: list[pygame.Surface], pad: int = 6) -> None:
        if not surfs:
            return
        w = max(s.get_width() for s in surfs) + 2 * pad
        h = sum(s.get_height() for s in surfs) + 2 * pad
        x = min(max(0, x), max(0, screen.get_width() - w))
        key = (w, h)
        panel = self._panels.get(key)
        if panel is None:
            if len(self._panels) > 64:
                self._panels.clear()
            panel = pygame.Surface(key, pygame.SRCALPHA)
            panel.fill((0, 0, 0, 150))
            self._panels[key] = panel
        screen.blit(panel, (x, y))
        yy = y + pad
        for s in surfs:
            screen.blit(s, (x + pad, yy))
            yy += s.get_height()

    def _draw_hud(self, screen: pygame.Surface) -> None:
        hud = self.hud_text()
        W, H = screen.get_size()
        self._panel(screen, 8, 8, [self._text(t) for t in hud["status"]])
        view = [self._text(t, (200, 220, 255), small=True) for t in hud["view"]]
        self._panel(screen, W - 8 - max(s.get_width() for s in view) - 12, 8, view)
        msgs = []
        for text, at in self.messages:
            age = self._now - at
            if age < MESSAGE_SECONDS:
                s = self._text(text, (255, 235, 160)).copy()
                s.set_alpha(int(255 * min(1.0, MESSAGE_SECONDS - age)))
                msgs.append(s)
        notice = [self._text(t, (255, 190, 120)) for t in hud["notice"]]
        bottom = msgs + notice
        if bottom:
            h = sum(s.get_height() for s in bottom) + 12
            self._panel(screen, 8, H - 8 - h, bottom)
        if hud["help"]:
            lines = [self._text(t, small=True) for t in hud["help"]]
            w = max(s.get_width() for s in lines) + 12
            h = sum(s.get_height() for s in lines) + 12
            self._panel(screen, (W - w) // 2, max(8, (H - h) // 2), lines)

    def close(self) -> None:
        """Closes the window and the audio device (the world stays open and usable)."""
        if self._closed:
            return
        self._closed = True
        self._close_renderer()
        if self._sound is not None:
            self._sound.close()
        pygame.display.quit()


def _num(v: float) -> str:
    if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.2f}"


def open_world(ref, seed: int | None = None):
    """A World to play from ``ref``: a World, a world file, an example name or a prompt.

    Bare specs, examples and prompts are built with :data:`PLAY_HISTORY_EVERY` so rewinding
    is smooth; a saved world (spec + state) resumes exactly with the default history.
    """
    from worldgen.world import World

    if isinstance(ref, World):
        return ref
    ref = os.fspath(ref)
    kw = {"history_every": PLAY_HISTORY_EVERY, "history_len": PLAY_HISTORY_LEN}
    if os.path.exists(ref):
        from worldgen.io import FORMAT, load_world, read_json, validate_spec

        data = read_json(ref)
        if isinstance(data, dict) and data.get("format") == FORMAT:
            return load_world(ref, seed)
        return World(validate_spec(data, ref), seed, **kw)
    from worldgen.example_worlds import example_spec, examples

    if ref in examples():
        return World(example_spec(ref), seed, **kw)
    if ref.endswith((".json", ".jsonl")) or (os.sep in ref and " " not in ref.strip()):
        raise FileNotFoundError(f"no world file {ref!r} (and no example of that name; examples: "
                                f"{', '.join(examples())})")
    import worldgen

    made = worldgen.create(ref, seed=0 if seed is None else seed)
    world = World(made.spec, made.seed, trace=made.trace, **kw)
    made.close()
    return world


def play(world_or_path_or_prompt, *, seed: int | None = None, max_frames: int | None = None,
         events: Iterable[list[pygame.event.Event]] | None = None, **kw: Any) -> None:
    """Opens a window and plays: a World, a world file, an example name, or a prompt (``worldgen.create``).

    ``seed`` applies to files, examples and prompts; other keywords go to :class:`Player`
    (``record="session.jsonl"`` writes a replay on quit). What ``worldgen play`` calls.
    """
    world = open_world(world_or_path_or_prompt, seed)
    Player(world, **kw).run(max_frames=max_frames, events=events)
