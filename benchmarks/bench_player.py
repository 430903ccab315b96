"""Frames/s of the pygame player loop vs ``world.render`` alone, at 256² with the albedo view.

    SDL_VIDEODRIVER=dummy python benchmarks/bench_player.py [--worlds bowling push_crate] [--frames 120] [--runs 5]

The player runs with ``realtime=False`` (one tick per frame, no sleeping), a 960×540 window,
the HUD on and no sound, holding a key so the world changes (and is re-rendered) on every
frame. The baseline renders the same world at the same size without the player. "Pipelined" is the
player as it runs in real time with a restyled style (``pipelined=True``: each frame restyled on a
worker thread while the next one's physics and G-buffer run, shown one frame late). Each figure
is the median of ``--runs`` runs; the table is markdown. The issue's goal is ≥ 24 frames/s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from worldgen.example_worlds import example_spec  # noqa: E402
from worldgen.player import PLAY_HISTORY_EVERY, Player  # noqa: E402
from worldgen.world import World  # noqa: E402

SIZE = (256, 256)
DEFAULT_SIZE = (320, 180)  # the player's default render size (16:9, 12 % fewer pixels than 256²)
GOAL_FPS = 24.0


def _world(name: str) -> World:
    return World(example_spec(name), 0, history_every=PLAY_HISTORY_EVERY)


STYLE = ["albedo"]  # set by --style


def render_fps(name: str, frames: int) -> float:
    world = _world(name)
    world.render(SIZE, style=STYLE[0])  # warm-up: builds the rasteriser (and loads the restyler)
    t = time.perf_counter()
    for _ in range(frames):
        world.step()
        world.render(SIZE, style=STYLE[0])
    fps = frames / (time.perf_counter() - t)
    world.close()
    return fps


def player_fps(name: str, frames: int, hud: bool = True, size: tuple[int, int] = SIZE,
               pipelined: bool = False) -> tuple[float, float]:
    """(frames/s, share of the frame time spent in ``world.render``; with ``pipelined`` restyled frames are
    drawn by the player's renderer.Renderer instead, so that share is 0)."""
    world = _world(name)
    player = Player(world, render_size=size, realtime=False, audio=False, hud=hud, style=STYLE[0],
                    pipelined=pipelined)
    spent = [0.0]
    render = world.render

    def timed(*a, **k):
        t0 = time.perf_counter()
        try:
            return render(*a, **k)
        finally:
            spent[0] += time.perf_counter() - t0

    world.render = timed  # instance attribute: only this benchmark's world
    control = next((c for pl in world.spec.players for c in pl.controls if c.keys), None)
    first = []
    if control is not None:
        key = control.keys[-1]  # a button's key, an axis's positive key
        first = [pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(key))]
    player.step_frame(first)  # warm-up
    spent[0] = 0.0
    t = time.perf_counter()
    for _ in range(frames):
        player.step_frame([])
    elapsed = time.perf_counter() - t
    player.close()
    world.close()
    return frames / elapsed, spent[0] / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worlds", nargs="+", default=["bowling", "push_crate"])
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--style", default="albedo", help="albedo (flat colours) or a restyled style, e.g. toon")
    a = ap.parse_args()
    STYLE[0] = a.style
    rows = []
    for name in a.worlds:
        base, play, share, bare, default, piped = [], [], [], [], [], []
        for _ in range(a.runs):  # interleaved, so drifting machine load hits all alike
            base.append(render_fps(name, a.frames))
            fps, part = player_fps(name, a.frames)
            play.append(fps)
            share.append(part)
            bare.append(player_fps(name, a.frames, hud=False)[0])
            default.append(player_fps(name, a.frames, size=DEFAULT_SIZE)[0])
            piped.append(player_fps(name, a.frames, pipelined=True)[0])
        rows.append((name, *(statistics.median(x) for x in (base, play, share, bare, default, piped))))
    print(f"Player loop at {SIZE[0]}×{SIZE[1]}, style {STYLE[0]}, realtime=False (one tick per frame), "
          f"window 960×540; median of {a.runs} runs × {a.frames} frames\n")
    print("| world | world.render alone (fps) | player loop, HUD (fps) | ms/frame | in render | "
          "player loop, no HUD (fps) | player at 320×180 (fps) | pipelined, HUD (fps) | ≥ 24 fps at 256² |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for name, base, play, share, bare, default, piped in rows:
        ok = "yes" if max(play, piped) >= GOAL_FPS else "no"
        print(f"| {name} | {base:.1f} | {play:.1f} | {1000 / play:.1f} | {share:.0%} | {bare:.1f} | {default:.1f} "
              f"| {piped:.1f} | {ok} |")


if __name__ == "__main__":
    main()
