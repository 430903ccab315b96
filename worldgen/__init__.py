"""worldgen: a causal, interactive world-model engine.

Prompts become explicit symbolic worlds (:class:`WorldSpec`) that run on pybullet with
rules, causes and exact snapshots. Names are exported lazily, so ``import worldgen``
and ``import worldgen.spec`` pull in neither pybullet nor torch.

>>> import worldgen
>>> world = worldgen.example("bowling")
>>> world.step({"p1": {"throw": 1}}, ticks=300).variables["score"] > 0
True
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "WorldSpec": "worldgen.spec",
    "Entity": "worldgen.spec",
    "Rule": "worldgen.spec",
    "Joint": "worldgen.spec",
    "World": "worldgen.world",
    "StepResult": "worldgen.world",
    "Rollout": "worldgen.world",
    "SpecError": "worldgen.io",
    "validate_spec": "worldgen.io",
    "examples": "worldgen.example_worlds",
    "example": "worldgen.example_worlds",
    "example_spec": "worldgen.example_worlds",
    "check_world": "physics.check",
    "Event": "physics.events",
    "Snapshot": "physics.simulation",
    "make_env": "worldgen.envs",
    "WorldEnv": "worldgen.envs",
    "make_parallel_env": "worldgen.multiagent",
    "WorldParallelEnv": "worldgen.multiagent",
    "register_envs": "worldgen.envs",
    "WorldDistribution": "worldgen.distribution",
}

__all__ = [*_EXPORTS, "load", "create", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'worldgen' has no attribute {name!r}")


def load(path: str, seed: int | None = None):
    """A World from a file: a saved world resumes exactly; a bare spec starts fresh."""
    from worldgen.io import load_world

    return load_world(path, seed)


def create(prompt: str, seed: int = 0, images=(), reasoner: Any = "builtin"):
    """A :class:`World` reasoned from ``prompt`` (+ ``images``), verified by simulating it; ``world.trace`` says how.

    ``reasoner`` is ``"builtin"`` (offline, CPU) or any ``reasoner.Reasoner`` instance (e.g. a
    language model, ``reasoner.lm.LMReasoner``). Same prompt, images and seed → the same world.
    Raises ``reasoner.ReasonerError`` (a ``ValueError``) with what is supported when a prompt
    cannot become a working world. See docs/reasoner.md.
    """
    from reasoner import create_world

    return create_world(prompt, seed=seed, images=images, reasoner=reasoner)


def __dir__() -> list[str]:
    return sorted(__all__)
