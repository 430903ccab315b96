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
