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


BOWLING_PROMPT = "a bowling alley with ten pins; the score counts fallen pins"


def test_bowling_trace_doc_is_what_the_reasoner_prints():
    """docs/bowling-trace.md shows the current trace; regenerate with WORLDGEN_UPDATE_GOLDEN=1."""
    import os

    from reasoner import BuiltinReasoner

    _, trace = BuiltinReasoner().reason(BOWLING_PROMPT, seed=0)
    path = DOCS / "bowling-trace.md"
    if os.environ.get("WORLDGEN_UPDATE_GOLDEN"):
        head = path.read_text().split("```text")[0] if path.exists() else "# The bowling prompt's trace\n\n"
        path.write_text(f"{head}```text\n{trace}\n```\n")
    block = re.search(r"```text\n(.*?)\n```", path.read_text(), re.S).group(1)
    assert block == str(trace)


def test_reasoner_doc_example_runs():
    text = (DOCS / "reasoner.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "docs/reasoner.md", "exec"), scope)  # our own documentation, not user input
    world = scope["world"]
    assert sum(e.kind == "pin" for e in world.spec.entities) == 12
    assert "Edit" in str(world.trace)
    world.close()
