"""The pygame player and replays, headless (SDL dummy drivers, synthetic events)."""

from __future__ import annotations

import json
import os
import sys
import types
import warnings

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

import worldgen  # noqa: E402
from worldgen import replay as replay_mod  # noqa: E402
from worldgen.player import PLAYER_KEYS, Player, play  # noqa: E402
from worldgen.replay import Recorder, ReplayError, load_replay, play_back  # noqa: E402
from worldgen.spec import Entity, Metadata, Plane, Sphere, WorldSpec  # noqa: E402
from worldgen.world import World  # noqa: E402

SMALL = (48, 48)


def down(name: str) -> pygame.event.Event:
    if not pygame.display.get_init():  # key_code() wants SDL's video subsystem
        pygame.display.init()
    return pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(name))


def up(name: str) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYUP, key=pygame.key.key_code(name))


def frames(player: Player, n: int, first: list | None = None) -> None:
    player.step_frame(first or [])
    for _ in range(n - 1):
        player.step_frame([])


def make_world(name: str = "push_crate", **kw) -> World:
    return World(worldgen.example_spec(name), 0, history_every=kw.pop("history_every", 60), **kw)


@pytest.fixture
def player_of():
    made: list[Player] = []

    def make(world, **kw) -> Player:
        kw = {"realtime": False, "audio": False, "render_size": SMALL, "size": (320, 180), **kw}
        p = Player(world, **kw)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


def control_keys(world: World, player: str, control: str) -> list[str]:
    return list(world.controls[player][control].keys)


def test_held_key_moves_the_bound_entity(player_of):
    world = make_world()
    neg, pos = control_keys(world, "p1", "move_x")  # push_crate: ["a", "d"] → robot velocity along x
    p = player_of(world)
    x0, y0 = world.entities["robot"].position[:2]
    frames(p, 30, [down(pos)])
    assert p.actions() == {"p1": {"move_x": 1.0}}
    x1, y1 = world.entities["robot"].position[:2]
    assert x1 > x0 + 0.2 and abs(y1 - y0) < 0.05
    p.step_frame([up(pos), down(neg)])
    assert p.actions() == {"p1": {"move_x": -1.0}}
    frames(p, 40)
    assert world.entities["robot"].position[0] < x1
    p.step_frame([up(neg)])
    assert p.actions() is None
    assert world.tick == p.steps == 72  # realtime=False: one tick per frame


def test_two_players_on_one_keyboard(player_of):
    world = make_world("air_hockey")
    p = player_of(world)
    k1 = control_keys(world, "p1", "move_x")[1]
    k2 = control_keys(world, "p2", "move_y")[0]
    p.step_frame([down(k1), down(k2)])
    assert p.actions() == {"p1": {"move_x": 1.0}, "p2": {"move_y": -1.0}}


def test_mouse_drives_p1_first_button_and_axis(player_of):
    world = make_world("bowling")
    p = player_of(world)
    p.step_frame([pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=1)])  # first axis: aim
    assert p.actions() == {"p1": {"aim": 1.0}}
    p.step_frame([pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=3, pos=(100, 50)),
                  pygame.event.Event(pygame.MOUSEMOTION, pos=(40, 50), rel=(-60, 0), buttons=(0, 0, 1))])
    assert p.actions()["p1"]["aim"] == pytest.approx(-0.5)
    p.step_frame([pygame.event.Event(pygame.MOUSEBUTTONUP, button=3, pos=(40, 50)),
                  pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=(40, 50))])
    assert p.actions()["p1"]["throw"] == 1.0  # first button: throw


def test_pause_stops_time_and_dot_steps_one_tick(player_of):
    world = make_world()
    p = player_of(world)
    frames(p, 5)
    p.step_frame([down("p"), up("p")])
    assert p.paused
    t = world.tick
    frames(p, 10)
    assert world.tick == t
    p.step_frame([down("."), up(".")])
    assert world.tick == t + 1
    frames(p, 3)
    assert world.tick == t + 1
    p.step_frame([down("p")])
    assert not p.paused and world.tick == t + 2
    assert any("paused" in m for m in p.hud_text()["messages"])


def test_holding_r_rewinds_to_an_earlier_state(player_of):
    world = make_world()
    p = player_of(world, rewind_speed=4)
    d = control_keys(world, "p1", "move_x")[1]
    hashes = {0: world.state_hash()}
    p.step_frame([down(d)])
    hashes[world.tick] = world.state_hash()
    for _ in range(89):
        p.step_frame([])
        hashes[world.tick] = world.state_hash()
    assert world.tick == 90
    p.step_frame([up(d), down("r")])
    assert "REWIND" in p.hud_text()["status"][-1]
    frames(p, 4)
    assert world.tick == 70 and p.steps == 70
    assert world.state_hash() == hashes[70]
    p.step_frame([up("r")])
    assert world.tick == 71
    # all the way back: stops at the start of the session with a message
    p.step_frame([down("r")])
    frames(p, 30)
    assert world.tick == 0 and world.state_hash() == hashes[0]
    assert any("rewind limit" in m for m in p.hud_text()["messages"])


def test_rewind_without_history_says_so(player_of):
    world = make_world(history_every=0)
    p = player_of(world)
    frames(p, 5)
    frames(p, 3, [down("r")])
    assert world.tick == 5
    assert any("rewind unavailable" in m for m in p.hud_text()["messages"])


def test_backspace_restarts(player_of):
    world = make_world()
    start = world.state_hash()
    p = player_of(world)
    frames(p, 20, [down("d")])
    p.step_frame([up("d"), down("backspace")])
    # the restart happens while handling the frame's events; the frame then steps one tick
    assert p.steps == 1 and world.tick == 1
    p.step_frame([down("p")])
    p.restart()
    assert world.tick == 0 and world.state_hash() == start


def test_help_overlay_camera_and_styles(player_of):
    world = make_world()
    p = player_of(world)
    p.step_frame([down("f1")])
    help_lines = p.hud_text()["help"]
    assert p.show_help and any("p1" in ln and "move_x" in ln and "a / d" in ln for ln in help_lines)
    assert any("rewind" in ln for ln in help_lines)
    cams = [c.name for c in world.spec.cameras]
    assert p.camera == cams[0]
    p.step_frame([down("c"), up("c")])
    assert p.camera == cams[1]
    assert f"camera: {cams[1]}" in p.hud_text()["view"]
    p.step_frame([down("f1")])
    assert not p.show_help and p.hud_text()["help"] == []
    assert p.styles[0] == "albedo" and set(p.styles) <= set(type(p.world).STYLES)
    assert any(v.startswith("albedo view") for v in p.hud_text()["view"])
    p.step_frame([down(str(len(p.styles) + 1))])
    assert p.style == "albedo"
    assert any(f"no style {len(p.styles) + 1}" in m for m in p.hud_text()["messages"])
    p.step_frame([down("3")])
    assert p.style == p.styles[2]
    pixels = pygame.surfarray.array3d(pygame.display.get_surface())
    assert pixels.std() > 5  # something was drawn


def test_rule_messages_show_and_fade(player_of):
    world = make_world()
    world.add_rule(name="hello", on={"event": "control", "player": "p1", "control": "move_x"},
                   do=[{"do": "message", "text": "go robot"}])
    p = player_of(world, fps=60)
    p.step_frame([down("d")])
    assert "go robot" in p.hud_text()["messages"]
    frames(p, 200)  # > 3 s at 60 frames/s
    assert "go robot" not in p.hud_text()["messages"]


def test_world_without_controls_is_spectated(player_of):
    spec = WorldSpec(metadata=Metadata(title="drop"), entities=[
        Entity(name="ground", kind="floor", shape=Plane(), static=True),
        Entity(name="ball", kind="ball", shape=Sphere(radius=0.2), position=(0, 0, 2))])
    world = World(spec)
    p = player_of(world)
    z0 = world.entities["ball"].position[2]
    frames(p, 20, [down("d"), down("space")])
    assert p.spectator and p.actions() is None
    assert any("spectator" in ln for ln in p.hud_text()["notice"])
    assert world.entities["ball"].position[2] < z0  # time still runs


def test_player_keys_yield_to_world_bindings(player_of):
    spec = worldgen.example_spec("push_crate").model_dump()
    spec["players"][0]["controls"][0]["keys"] = ["r", "c"]  # move_x now on r / c
    world = World(worldgen.validate_spec(spec), history_every=60)
    p = player_of(world)
    assert p.player_keys["rewind"] == ("f4",) and p.player_keys["camera"] == ("f6",)
    assert p.player_keys["quit"] == PLAYER_KEYS["quit"]
    frames(p, 10, [down("c")])
    assert p.camera == world.spec.cameras[0].name and p.actions() == {"p1": {"move_x": 1.0}}


def test_recorded_session_with_rewinds_replays_bit_exactly(player_of, tmp_path):
    world = make_world()
    path = tmp_path / "session.jsonl"
    p = player_of(world, record=str(path))
    script = ([[down("d")]] + [[]] * 40 + [[down("w")]] + [[]] * 20 + [[down("r")]] + [[]] * 5 + [[up("r")]]
              + [[up("d")]] + [[]] * 30 + [[down("p")], [down(".")], [down(".")], [down("p")]]
              + [[up("w"), down("a")]] + [[]] * 25 + [[down("r")], [], [up("r"), up("a")]] + [[]] * 10)
    p.run(events=script)
    assert path.exists()
    rp = load_replay(path)
    assert rp.end_tick == p.steps == world.tick
    assert rp.state_hash == world.state_hash()
    assert rp.meta["history_every"] == 60
    again = play_back(rp)
    assert again.state_hash() == world.state_hash()
    again.close()
    # the same session but with a restart in the middle: the replay starts at the restart
    world2 = make_world()
    p2 = player_of(world2, record=str(tmp_path / "restart.jsonl"))
    p2.run(events=[[down("s")]] + [[]] * 30 + [[up("s"), down("backspace")]] + [[down("d")]] + [[]] * 50)
    rp2 = load_replay(tmp_path / "restart.jsonl")
    assert rp2.end_tick == world2.tick and play_back(rp2).state_hash() == world2.state_hash()


def test_replay_from_a_world_not_at_its_start(tmp_path):
    world = make_world("bowling")
    world.step({"p1": {"throw": 1}})
    world.step(ticks=40)
    rec = Recorder(world)
    assert rec.start_state is not None
    for t in range(60):
        acts = {"p1": {"aim": -0.5}} if t < 20 else None
        rec.record(t, acts)
        world.step(acts)
    rec.save(tmp_path / "mid.jsonl", world)
    rp = load_replay(tmp_path / "mid.jsonl")
    assert rp.end_tick == 60 and play_back(rp).state_hash() == world.state_hash()


def _write(path, lines) -> str:
    path.write_text("".join((ln if isinstance(ln, str) else json.dumps(ln)) + "\n" for ln in lines))
    return str(path)


def test_load_replay_errors_name_the_problem(tmp_path, monkeypatch):
    spec = worldgen.example_spec("push_crate").model_dump(mode="json")
    head = {"format": "worldgen.replay", "version": 1, "seed": 0, "spec": spec}
    end = {"end_tick": 10, "state_hash": None}

    def err(lines) -> str:
        with pytest.raises(ReplayError) as e:
            load_replay(_write(tmp_path / "r.jsonl", lines))
        return str(e.value)

    assert "not a replay header" in err([{"format": "worldgen.world"}, end])
    assert "r.jsonl:1" in err(["{not json", end])
    assert "unsupported version" in err([{**head, "version": 7}, end])
    bad_spec = {**head, "spec": {**spec, "entities": [{"name": "x", "kind": "Box!"}]}}
    assert "entities.0" in err([bad_spec, end])
    assert "r.jsonl:2" in (m := err([head, "[1, 2", end])) and "not valid JSON" in m
    assert "r.jsonl:2" in (m := err([head, {"tick": "soon", "actions": {}}, end])) and "tick" in m
    m = err([head, {"tick": 1, "actions": {"p1": {"jump": 1}}}, end])
    assert "r.jsonl:2" in m and "no control 'jump'" in m
    m = err([head, {"tick": 1, "actions": {"p1": {"move_x": 5}}}, end])
    assert "outside its range" in m
    assert "no end line" in err([head, {"tick": 1, "actions": {"p1": {"move_x": 1}}}])
    assert "ends at tick 10" in err([head, {"tick": 12, "actions": {"p1": {"move_x": 1}}}, end])
    assert "after the end line" in err([head, end, {"tick": 1, "actions": {}}])
    ok = _write(tmp_path / "ok.jsonl", [head, {"tick": 2, "actions": {"p1": {"move_x": 1}}, "hold": 3}, end])
    assert sorted(load_replay(ok).actions) == [2, 3, 4]
    monkeypatch.setattr(replay_mod, "MAX_BYTES", 1000)
    assert "over the 1000 byte cap" in err([head, end])


class _FakeMixer:
    """Stands in for renderer.audio.AudioMixer: a click on every contact."""

    def __init__(self, spec, sample_rate=44100):
        self.rate = sample_rate
        self.calls = 0

    def mix(self, sim, events):
        self.calls += 1
        n = round(self.rate * sim.spec.physics.timestep)
        out = np.zeros((n, 2), np.float32)
        if any(e.kind == "contact" for e in events):
            out[: n // 4] = 0.3
        return out


@pytest.fixture
def fake_audio(monkeypatch):
    import renderer

    mod = types.ModuleType("renderer.audio")
    mod.AudioMixer = _FakeMixer
    monkeypatch.setitem(sys.modules, "renderer.audio", mod)
    monkeypatch.setattr(renderer, "audio", mod, raising=False)
    return mod


def test_sound_is_mixed_per_tick_and_queued(player_of, fake_audio):
    world = make_world("bowling")
    p = player_of(world, audio=True)
    if not p._sound.ok:
        pytest.skip(f"no mixer here: {p._sound.status}")
    frames(p, 40, [down("space")])
    assert p._sound.mixer.calls == 40
    assert "sound: on" in p._sound.status


def test_real_audio_mixer_if_present(player_of):
    pytest.importorskip("renderer.audio")
    world = make_world("bowling")
    p = player_of(world, audio=True)
    if not p._sound.ok:
        pytest.skip(f"no mixer here: {p._sound.status}")
    frames(p, 170, [down("space")])  # the ball reaches the pins after ~140 ticks
    assert p._sound.queued > 0
    p.step_frame([down("c")])  # the listener follows the camera shown
    assert p._sound.ok and getattr(p._sound.mixer, "camera", p.camera) == p.camera


def test_missing_audio_device_plays_silently_with_a_warning(player_of, fake_audio, monkeypatch):
    def no_device(*a, **k):
        raise pygame.error("no audio device")

    monkeypatch.setattr(pygame.mixer, "init", no_device)
    world = make_world()
    with pytest.warns(RuntimeWarning, match="no audio device"):
        p = player_of(world, audio=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once, not every frame
        frames(p, 10, [down("d")])
    assert world.tick == 10
    assert any("no audio device" in m for m in p.hud_text()["messages"])


def test_play_convenience_opens_examples_and_files(tmp_path):
    play("push_crate", max_frames=3, realtime=False, audio=False, render_size=SMALL, size=(160, 90))
    path = tmp_path / "w.json"
    path.write_text(worldgen.example_spec("dominoes").model_dump_json())
    rec = tmp_path / "r.jsonl"
    play(str(path), max_frames=5, realtime=False, audio=False, render_size=SMALL, size=(160, 90), record=str(rec),
         events=[[down("space")]] + [[]] * 10)
    rp = load_replay(rec)
    assert rp.end_tick == 5 and rp.actions[0] == {"p1": {"push": 1.0}}
    with pytest.raises(FileNotFoundError):
        play(str(tmp_path / "missing.json"), max_frames=1)


def test_realtime_mode_steps_by_elapsed_time(player_of, monkeypatch):
    import worldgen.player as player_mod

    world = make_world()
    p = player_of(world, realtime=True, max_catchup=5)
    now = [0.0]
    monkeypatch.setattr(player_mod.time, "perf_counter", lambda: now[0])
    p._last = 0.0
    for _ in range(10):  # each frame 50 ms later: 3 ticks at 60 ticks/s
        now[0] += 0.05
        p.step_frame([])
    assert 29 <= world.tick <= 30
    now[0] += 100.0  # a long stall: the catch-up is capped, the backlog dropped
    t = world.tick
    p.step_frame([])
    assert world.tick - t == 5
    now[0] += 0.05
    p.step_frame([])
    assert world.tick - t == 8


def test_slow_frames_lower_the_render_resolution(player_of):
    world = make_world()
    p = player_of(world, realtime=True, min_fps=2000.0, render_size=(160, 90))  # no frame is that fast
    frames(p, 40)
    assert p.render_scale < 1.0 and p.current_render_size < (160, 90)
    fixed = player_of(make_world(), realtime=False, min_fps=2000.0, render_size=(160, 90))
    frames(fixed, 40)
    assert fixed.current_render_size == (160, 90)  # deterministic mode keeps the size


def test_pipelined_restyled_view_is_the_same_frames_one_frame_late(player_of):
    """In real time a restyled view is drawn on a worker thread while the next frame runs: the frames
    shown are exactly the synchronous player's, one frame late, and a pause shows the one in flight."""
    pytest.importorskip("torch")
    shown = {}
    for piped in (False, True):
        p = player_of(make_world(), style="toon", pipelined=piped)
        images = []
        for i in range(5):
            p.step_frame([down("d")] if i == 0 else [])
            images.append(pygame.image.tobytes(p._image, "RGB"))
        p.step_frame([down("p"), up("p")])  # paused: the state stops changing
        images.append(pygame.image.tobytes(p._image, "RGB"))
        shown[piped] = images
        assert p.pipelined is piped and (p._renderer is not None) is piped
    sync, late = shown[False], shown[True]
    assert len(set(sync[:5])) == 5  # the crate moves: every frame differs
    assert late[0] == late[1] == sync[0]  # a new view waits for its first frame, then the pipeline fills
    assert late[2:5] == sync[1:4]  # one frame late
    assert late[5] == sync[4] == sync[5]  # paused: the frame in flight is shown, nothing is lost
    p.step_frame([down("p"), up("p")])  # playing again: a restyled frame is in flight
    assert p._in_flight is not None
    p.select_style(p.styles.index("albedo") + 1)
    p.step_frame([down("p"), up("p")])  # paused on the flat view
    flat = pygame.image.tobytes(p._image, "RGB")
    p.step_frame([])  # nothing changed: the flat view stays, no restyled frame from before comes back
    assert pygame.image.tobytes(p._image, "RGB") == flat != late[5]
    assert p._renderer is None and p._in_flight is None
