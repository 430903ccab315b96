"""The ``worldgen`` command line. ``worldgen COMMAND --help`` explains each command.

WORLD arguments accept a path to a world file (a saved world or a bare spec) or the
name of a shipped example (``worldgen examples`` lists them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

EPILOG = "examples:\n  worldgen demo\n  worldgen run bowling --seconds 5 --actions throw.jsonl\n  worldgen check world.json"


def _open_world(ref: str, seed: int | None = None):
    from worldgen.example_worlds import example, examples
    from worldgen.io import load_world

    if os.path.exists(ref):
        return load_world(ref, seed)
    if ref in examples():
        return example(ref, seed)
    raise SystemExit(f"worldgen: no file or example named {ref!r}; examples: {', '.join(examples())}")


def _spec_of(ref: str):
    from worldgen.example_worlds import example_spec, examples
    from worldgen.io import FORMAT, read_json, validate_spec

    if os.path.exists(ref):
        data = read_json(ref)
        if isinstance(data, dict) and data.get("format") == FORMAT:
            data = data.get("spec")
        return validate_spec(data, ref)
    if ref in examples():
        return example_spec(ref)
    raise SystemExit(f"worldgen: no file or example named {ref!r}; examples: {', '.join(examples())}")


def read_actions_file(path: str) -> dict[int, Any]:
    """Reads a JSONL script: each line ``{"tick": T, "actions": {player: {control: value}}, "hold": N}``.

    The actions apply from tick T (counted from the start of the run) for ``hold`` ticks (default 1).
    """
    script: dict[int, Any] = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                row = json.loads(line)
                tick, actions, hold = int(row["tick"]), row["actions"], int(row.get("hold", 1))
            except (ValueError, KeyError, TypeError) as e:
                raise SystemExit(f"worldgen: {path}:{n}: expected "
                                 f'{{"tick": T, "actions": {{...}}, "hold": N}} ({e})') from None
            if tick < 0 or hold < 1 or hold > 10_000_000:
                raise SystemExit(f"worldgen: {path}:{n}: tick must be ≥ 0 and hold ≥ 1")
            for t in range(tick, tick + hold):
                script[t] = actions
    return script


def cmd_schema(a: argparse.Namespace) -> int:
    from worldgen.spec import json_schema_text

    text = json_schema_text()
    if a.output:
        with open(a.output, "w") as f:
            f.write(text + "\n")
        print(f"wrote {a.output}")
    else:
        print(text)
    return 0


def cmd_check(a: argparse.Namespace) -> int:
    from physics.check import check_world
    from worldgen.io import SpecError

    failed = 0
    for ref in a.worlds:
        try:
            spec = _spec_of(ref)
        except SpecError as e:
            print(f"{ref}: {e}")
            failed += 1
            continue
        report = check_world(spec, seconds=a.seconds)
        print(f"{ref}: {report}")
        failed += not report.ok
    return 1 if failed else 0


def cmd_run(a: argparse.Namespace) -> int:
    world = _open_world(a.world, a.seed)
    script = read_actions_file(a.actions) if a.actions else {}
    ticks = round(a.seconds / world.spec.physics.timestep)
    for t in range(ticks):
        result = world.step(script.get(t))
        for ev in result.events:
            if a.quiet and ev.kind == "contact":
                continue
            print(json.dumps(ev.to_dict()) if a.json else ev)
        if result.terminated and not a.keep_going:
            break
    summary = {"tick": world.tick, "time": round(world.time, 4), "variables": world.variables,
               "terminated": world.terminated, "truncated": world.truncated, "outcome": world.outcome,
               "state_hash": world.state_hash()}
    print(json.dumps(summary) if a.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    if a.output:
        world.save(a.output)
        print(f"saved {a.output}")
    return 0


def cmd_play(a: argparse.Namespace) -> int:
    from worldgen.player import play

    try:
        play(a.world, seed=a.seed, record=a.record, audio=not a.no_sound, size=_size(a.window), max_frames=a.frames)
    except RuntimeError as e:  # no display
        print(f"worldgen: {e}", file=sys.stderr)
        return 2
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"worldgen: size must be WIDTHxHEIGHT, e.g. 640x360; got {text!r}") from None
    return w, h


def cmd_render(a: argparse.Namespace) -> int:
    from renderer.video import render_video

    replay = None
    if a.replay:
        from worldgen.replay import load_replay, replay_world

        replay = load_replay(a.replay)
        world = replay_world(replay)
        actions = dict(replay.actions)
        seconds = a.seconds if a.seconds is not None else replay.end_tick * replay.spec.physics.timestep
    else:
        if a.world is None:
            raise SystemExit("worldgen: render needs WORLD (a file, an example name or a prompt) or --replay FILE")
        world = _open_world_or_prompt(a.world, a.seed)
        actions = read_actions_file(a.actions) if a.actions else None
        seconds = a.seconds if a.seconds is not None else 10.0
    info = render_video(world, a.output, seconds, fps=a.fps, size=_size(a.size), style=a.style, camera=a.camera,
                        actions=actions, audio=not a.no_sound, progress=not a.quiet)
    print(f"wrote {info['path']}: {info['frames']} frames at {info['fps']} fps, {info['size'][0]}x{info['size'][1]}, "
          f"{info['seconds']:.2f} s" + (", with sound" if info["audio"] else ", silent"))
    for note in info.get("notes", []):
        print(f"  note: {note}")
    if replay is not None and replay.state_hash:
        from worldgen.replay import play_back

        check = play_back(replay)
        same = check.state_hash() == replay.state_hash
        check.close()
        print("replay check: " + ("the session's final state hash is reproduced exactly" if same else
                                  "MISMATCH: the played-back state differs from the recorded one"))
        return 0 if same else 1
    return 0


def _open_world_or_prompt(ref: str, seed: int | None):
    from worldgen.example_worlds import examples

    if os.path.exists(ref) or ref in examples():
        return _open_world(ref, seed)
    import worldgen

    return worldgen.create(ref, seed=seed or 0)


def cmd_train_restyler(a: argparse.Namespace) -> int:
    from pathlib import Path as _P

    from renderer.dataset import generate
    from renderer.train import train

    data = [(_P(a.data), a.frames, a.size, a.seed)]
    for i, item in enumerate(a.larger):  # the same worlds drawn larger, cropped in training: play sizes
        try:
            size, frames = (int(x) for x in item.split(":"))
        except ValueError:
            print(f"error: --larger takes SIZE:FRAMES items such as 128:384, got {item!r}", file=sys.stderr)
            return 2
        data.append((_P(f"{a.data}-{size}"), frames, size, a.seed + 2 * (i + 1)))
    for folder, frames, size, seed in data:
        if not any(folder.glob("shard_*.npz")):
            print(f"generating {frames} training frames at {size}² into {folder} (teacher renders; slow) ...")
            generate(folder, frames, (size, size), seed=seed, workers=a.workers, recolor=a.recolor)
    heldout = None
    if a.heldout:
        heldout = _P(a.heldout)
        if not any(heldout.glob("shard_*.npz")):
            generate(heldout, 32, (a.size, a.size), seed=a.seed + 1, workers=a.workers)
    metrics = train([d[0] for d in data], a.output, minutes=a.minutes, steps=a.steps, resume=not a.restart, seed=a.seed,
                    eval_dir=heldout, net_config={"edges": a.edges})
    print(json.dumps(metrics, indent=2, default=str)[:4000])
    print(f"weights in {a.output}")
    return 0


def cmd_demo(a: argparse.Namespace) -> int:
    from worldgen.example_worlds import example, example_script

    world = example(a.example)
    print(f"== {world.spec.metadata.title}: {world.spec.metadata.description}")
    print(f"   {len(world.entities)} entities, players: {', '.join(world.controls) or 'none'}")
    script = example_script(a.example)
    ticks = round(a.seconds / world.spec.physics.timestep)
    for t in range(ticks):
        for ev in world.step(script.get(t)).events:
            if ev.kind not in ("contact",):
                print(f"  t={ev.tick * world.spec.physics.timestep:5.2f}s  {ev}")
        if world.terminated:
            break
    print(f"== after {world.time:.2f} s: {world.variables}  outcome: {world.outcome}")
    scored = [e for e in world.events if e.kind == "variable"]
    if scored:
        print(f"== why did {scored[-1].data['var']} change last?")
        print(world.why(scored[-1]))
    print(f"== state hash {world.state_hash()}")
    return 0


def cmd_examples(a: argparse.Namespace) -> int:
    from worldgen.example_worlds import example_spec, examples

    for name in examples():
        spec = example_spec(name)
        print(f"{name:14s} {spec.metadata.description}")
        if a.export:
            os.makedirs(a.export, exist_ok=True)
            with open(os.path.join(a.export, f"{name}.json"), "w") as f:
                f.write(spec.model_dump_json(indent=2))
    return 0


def cmd_bench(a: argparse.Namespace) -> int:
    from worldgen import bench

    bench.main(a)
    return 0


def cmd_create(a: argparse.Namespace) -> int:
    import worldgen
    from reasoner import ReasonerError

    try:
        reasoner = a.reasoner
        if reasoner != "builtin":
            from reasoner.lm import from_config

            reasoner = from_config(reasoner)
        world = worldgen.create(a.prompt, seed=a.seed, images=a.images or (), reasoner=reasoner)
    except ReasonerError as e:
        print(f"worldgen: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"worldgen: {e}", file=sys.stderr)
        return 2
    if a.trace_json:
        Path(a.trace_json).write_text(world.trace.to_json())
    if not a.quiet:
        print(world.trace)
    world.save(a.output)
    print(f"saved {a.output}")
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    from worldgen.server import serve

    if a.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"worldgen: serving on {a.host}: anyone who can reach it may create rooms; room links carry "
              "their tokens", file=sys.stderr)
    print(f"worldgen editor on http://{'127.0.0.1' if a.host == 'localhost' else a.host}:{a.port}/ "
          f"(rooms in {a.db}; Ctrl+C stops)", flush=True)
    serve(a.host, a.port, a.db, log_level=a.log_level)
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="worldgen", description="Causal, interactive worlds on pybullet.",
                                 epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    s = sub.add_parser("demo", help="simulate an example world and print what happened and why")
    s.add_argument("--example", default="bowling", help="example name (default: bowling)")
    s.add_argument("--seconds", type=float, default=6.0)
    s.set_defaults(fn=cmd_demo)

    s = sub.add_parser("schema", help="print the WorldSpec JSON Schema")
    s.add_argument("-o", "--output", help="write to this file instead of stdout")
    s.set_defaults(fn=cmd_schema)

    s = sub.add_parser("check", help="validate worlds and settle each for a while with no input")
    s.add_argument("worlds", nargs="+", metavar="WORLD")
    s.add_argument("--seconds", type=float, default=2.0, help="settle time (default 2 s)")
    s.set_defaults(fn=cmd_check)

    s = sub.add_parser("run", help="simulate a world headless, printing events and final variables")
    s.add_argument("world", metavar="WORLD")
    s.add_argument("--seconds", type=float, default=10.0)
    s.add_argument("--actions", metavar="FILE.jsonl", help='lines of {"tick": T, "actions": {...}, "hold": N}')
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--json", action="store_true", help="one JSON object per line")
    s.add_argument("--quiet", action="store_true", help="do not print contact events")
    s.add_argument("--keep-going", action="store_true", help="keep simulating after the episode ends")
    s.add_argument("-o", "--output", help="save the final world (spec + state) here")
    s.set_defaults(fn=cmd_run)

    s = sub.add_parser("play", help="play a world in a pygame window (keyboard + mouse, sound)",
                       description="Play a world: a world file, an example name or a prompt. F1 shows the key map; "
                                   "P pauses, . steps, hold R to rewind, Backspace restarts, C switches camera.")
    s.add_argument("world", metavar="WORLD", help="world file, example name or prompt")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--record", metavar="FILE.jsonl", help="write a replay of the session here on quit")
    s.add_argument("--no-sound", action="store_true", help="play silently")
    s.add_argument("--window", default="960x540", help="window size WIDTHxHEIGHT (default 960x540)")
    s.add_argument("--frames", type=int, default=None, help="quit after this many frames (scripted runs)")
    s.set_defaults(fn=cmd_play)

    s = sub.add_parser("render", help="render a run to MP4 (with sound), GIF or PNG frames",
                       description="Render a world's run to a video. The format follows the output's extension: "
                                   ".mp4 (H.264 + AAC), .gif, or a directory / pattern with %%d for PNG frames.")
    s.add_argument("world", metavar="WORLD", nargs="?", help="world file, example name or prompt")
    s.add_argument("-o", "--output", default="out.mp4", help="out.mp4, out.gif or frames/ (default out.mp4)")
    s.add_argument("--seconds", type=float, default=None, help="length (default 10, or the whole replay)")
    s.add_argument("--style", default="albedo", help="render style (default albedo)")
    s.add_argument("--fps", type=int, default=30)
    s.add_argument("--size", default="640x360", help="WIDTHxHEIGHT (default 640x360; even numbers for mp4)")
    s.add_argument("--camera", default=None, help="camera name (default: the world's first)")
    s.add_argument("--actions", metavar="FILE.jsonl", help='lines of {"tick": T, "actions": {...}, "hold": N}')
    s.add_argument("--replay", metavar="FILE.jsonl", help="render a session recorded by `worldgen play --record` "
                                                          "and check it reproduces bit-exactly")
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--no-sound", action="store_true", help="no audio track")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(fn=cmd_render)

    s = sub.add_parser("train-restyler", help="generate teacher data and train the restyler (resumable)",
                       description="Render training pairs (G-buffers → teacher styles) if DATA (and DATA-128, "
                                   "DATA-256) have none, then train the restyler for --minutes of wall time, resuming from OUTPUT's "
                                   "checkpoint. The defaults reproduce the shipped weights (docs/restyler.md).")
    s.add_argument("--data", default="data/restyler", help="training data folder (generated if empty)")
    s.add_argument("--heldout", default="data/restyler-heldout", help="held-out frames for PSNR/SSIM ('' to skip)")
    s.add_argument("-o", "--output", default="weights/restyler", help="where the weights go")
    s.add_argument("--frames", type=int, default=768, help="training frames to generate")
    s.add_argument("--size", type=int, default=64, help="training resolution (square)")
    s.add_argument("--larger", nargs="*", default=["128:384", "256:192"], metavar="SIZE:FRAMES",
                   help="also generate FRAMES frames at SIZE² into DATA-SIZE (seeds seed+2, seed+4, ...), cropped "
                        "to --size in training (default 128:384 256:192; none: --larger with no items)")
    s.add_argument("--minutes", type=float, default=38.0, help="time budget in minutes (total, across resumes)")
    s.add_argument("--steps", type=int, default=None, help="stop after this many optimiser steps instead")
    s.add_argument("--restart", action="store_true", help="ignore an existing checkpoint")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--workers", type=int, default=2, help="processes rendering teacher frames")
    s.add_argument("--recolor", type=float, default=0.0, metavar="SHARE",
                   help="share of training clips drawn with random entity and sky colours (0..1; default 0)")
    s.add_argument("--edges", choices=["segmentation", "geometry"], default="geometry",
                   help="edge channel the network sees: object boundaries, or silhouettes + depth steps + "
                        "creases (default geometry)")
    s.set_defaults(fn=cmd_train_restyler)

    s = sub.add_parser("serve", help="web editor + multiplayer server on localhost (docs/server.md)",
                       description="Serve the web editor and multiplayer rooms. Only the server steps worlds; "
                                   "rooms live in an SQLite file and resume after a restart.")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--db", default="worlds.sqlite", help="SQLite file for rooms (default worlds.sqlite)")
    s.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    s.set_defaults(fn=cmd_serve)

    s = sub.add_parser("examples", help="list the shipped example worlds")
    s.add_argument("--export", metavar="DIR", help="also write each as DIR/NAME.json")
    s.set_defaults(fn=cmd_examples)

    s = sub.add_parser("bench", help="performance report (ticks/s vs raw pybullet)")
    from worldgen import bench

    bench.add_arguments(s)
    s.set_defaults(fn=cmd_bench)

    s = sub.add_parser("create", help="build a verified world from a prompt and print the reasoning trace",
                       description="Reason a prompt (and optional images) into a world, verify it by simulating it, "
                                   "print the reasoning trace and save the world.")
    s.add_argument("prompt", help='e.g. "a bowling alley with ten pins; the score counts fallen pins"')
    s.add_argument("-o", "--output", default="world.json", help="where to save the world (default: world.json)")
    s.add_argument("--seed", type=int, default=0, help="layout seed: same prompt + seed, same world")
    s.add_argument("--images", nargs="+", metavar="IMAGE",
                   help="reference images (palette, style) or top-down layout sketches (docs/sketches.md)")
    s.add_argument("--reasoner", default="builtin",
                   help='"builtin" (default), "lm:/path/to/model-folder" or "http://host:port/v1#model" '
                        "(docs/lm-backend.md)")
    s.add_argument("--trace-json", metavar="FILE", help="also write the trace as JSON")
    s.add_argument("-q", "--quiet", action="store_true", help="do not print the trace")
    s.set_defaults(fn=cmd_create)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    a = ap.parse_args(argv)
    if not getattr(a, "fn", None):
        ap.print_help()
        return 0
    from worldgen.io import SpecError

    try:
        return a.fn(a)
    except SpecError as e:
        print(f"worldgen: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
