"""The examples in the docs work as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import worldgen

DOCS = Path(__file__).parent.parent / "docs"


def test_world_format_example_plays():
    text = (DOCS / "world-format.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    world = worldgen.World.from_spec(json.loads(block))
    assert worldgen.check_world(world.spec).ok
    world.step({"p1": {"toss": 1}})
    world.step(ticks=90)
    assert world.variables["score"] == 1
    enter = next(e for e in world.events if e.kind == "enter")
    assert enter.subjects == ("ball", "bin")
    assert world.why(enter)[-1].data["control"] == "toss"


def test_readme_python_example_runs(tmp_path):
    import subprocess
    import sys

    text = (DOCS.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    script = tmp_path / "readme_example.py"
    script.write_text(code + "\nassert world.variables['score'] > 0\nassert 'crate' in world.entities\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(DOCS.parent), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "bowling.json").exists()
    assert "variable score" in out.stdout and "action ball p1.throw" in out.stdout
