"""The worldgen command line, run as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from worldgen.cli import main

ROOT = Path(__file__).parent.parent.parent


def wg(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run([sys.executable, "-m", "worldgen.cli", *args], capture_output=True, text=True, cwd=ROOT)
    if check and out.returncode != 0:
        raise AssertionError(f"worldgen {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out


def test_help_everywhere():
    assert "schema" in wg("--help").stdout
    for cmd in ("demo", "schema", "check", "run", "examples", "bench", "create", "play", "render", "train-restyler"):
        assert "usage: worldgen " + cmd in wg(cmd, "--help").stdout


def test_schema_is_json_schema(tmp_path):
    path = tmp_path / "schema.json"
    wg("schema", "-o", str(path))
    schema = json.loads(path.read_text())
    assert schema["title"] == "WorldSpec"
    assert "entities" in schema["properties"]
    assert "Entity" in schema["$defs"]


def test_check_examples_and_a_broken_world(tmp_path):
    out = wg("check", "bowling")
    assert "bowling: ok" in out.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"entities": [{"name": "ball", "kind": "ball", "mass": -1}]}))
    out = wg("check", str(bad), check=False)
    assert out.returncode == 1
    assert "entities.0 ('ball').mass" in out.stdout


def test_check_reports_overlap(tmp_path):
    spec = {"entities": [
        {"name": "ground", "kind": "floor", "shape": {"type": "plane"}, "static": True},
        {"name": "wall", "kind": "wall", "shape": {"type": "box", "size": [2, 2, 2]}, "position": [0, 0, 1],
         "static": True},
        {"name": "crate", "kind": "crate", "shape": {"type": "box", "size": [0.5, 0.5, 0.5]}, "position": [0, 0, 0.5]},
    ]}
    path = tmp_path / "w.json"
    path.write_text(json.dumps(spec))
    out = wg("check", str(path), check=False)
    assert out.returncode == 1
    assert out.stdout.count("wall and crate overlap by") == 1


def test_run_with_actions_prints_events_and_saves(tmp_path):
    actions = tmp_path / "throw.jsonl"
    actions.write_text('{"tick": 0, "actions": {"p1": {"throw": 1, "aim": 0.1}}}\n')
    saved = tmp_path / "after.json"
    out = wg("run", "bowling", "--seconds", "5", "--actions", str(actions), "--quiet", "-o", str(saved))
    assert "action ball p1.throw = 1" in out.stdout
    assert "fallen pin_" in out.stdout
    assert "contact" not in out.stdout
    assert saved.exists()
    out = wg("run", str(saved), "--seconds", "1", "--json")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["tick"] == 300 + 60 and summary["variables"]["score"] > 0


def test_run_rejects_bad_action_lines(tmp_path):
    actions = tmp_path / "bad.jsonl"
    actions.write_text("not json\n")
    out = wg("run", "bowling", "--actions", str(actions), check=False)
    assert out.returncode != 0 and "bad.jsonl:1" in out.stderr


def test_unknown_world_names_the_examples():
    out = wg("run", "nowhere", check=False)
    assert out.returncode != 0 and "examples: " in out.stderr and "bowling" in out.stderr


def test_demo_tells_what_happened_and_why():
    out = wg("demo", "--seconds", "5")
    assert "why did score change last?" in out.stdout
    assert "← " in out.stdout and "p1.throw" in out.stdout


def test_examples_export(tmp_path):
    wg("examples", "--export", str(tmp_path))
    files = sorted(p.name for p in tmp_path.glob("*.json"))
    assert "bowling.json" in files
    out = wg("check", str(tmp_path / "bowling.json"))
    assert "ok" in out.stdout


@pytest.mark.slow
def test_bench_prints_a_table():
    out = wg("bench", "--world", "bowling", "--ticks", "120", "--runs", "1")
    assert "| bowling |" in out.stdout and "×" in out.stdout


def test_play_records_a_replay_that_render_reproduces(tmp_path, capsys):
    import av

    rec = tmp_path / "session.jsonl"
    assert main(["play", "bowling", "--frames", "40", "--no-sound", "--record", str(rec), "--window", "320x180"]) == 0
    assert rec.exists()
    out = tmp_path / "session.mp4"
    assert main(["render", "--replay", str(rec), "-o", str(out), "--size", "160x96", "-q"]) == 0
    printed = capsys.readouterr().out
    assert "reproduced exactly" in printed
    with av.open(str(out)) as f:
        assert f.streams.video[0].codec_context.width == 160
        assert len(f.streams.audio) == 1


def test_render_a_prompt_to_png_frames(tmp_path):
    frames = tmp_path / "frames"
    assert main(["render", "a line of 10 dominoes", "-o", f"{frames}/", "--seconds", "1", "--fps", "10",
                 "--size", "96x64", "-q"]) == 0
    assert len(list(frames.glob("*.png"))) == 10 and (frames / "audio.wav").exists()
    with pytest.raises(SystemExit, match="WIDTHxHEIGHT"):
        main(["render", "bowling", "--size", "big"])


def test_train_restyler_makes_data_trains_and_resumes(tmp_path):
    data, out = tmp_path / "data", tmp_path / "weights"
    args = ["train-restyler", "--data", str(data), "--heldout", "", "-o", str(out), "--frames", "8", "--size", "16",
            "--larger", "24:4", "--steps", "2", "--workers", "1"]
    assert main(args) == 0
    assert any(data.glob("shard_*.npz")) and (out / "model.safetensors").exists()
    large = tmp_path / "data-24"  # the larger frames, cropped to 16² in training
    assert json.loads((large / "meta.json").read_text())["size"] == [24, 24]
    assert json.loads((large / "meta.json").read_text())["recolor"] == 0.0  # off unless asked for
    assert json.loads((out / "metrics.json").read_text())["crop"] == 16
    assert main([*args[:-4], "--steps", "3", "--workers", "1"]) == 0  # resumes from the checkpoint
    assert main([*args[:-6], "--larger", "big", "--steps", "3"]) == 2  # says what --larger takes
