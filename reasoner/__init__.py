"""reasoner: prompt (+ images) → a verified :class:`~worldgen.spec.WorldSpec` + a :class:`ReasoningTrace`.

>>> import reasoner
>>> spec, trace = reasoner.BuiltinReasoner().reason("a bowling alley with ten pins", seed=0)
>>> sum(e.kind == "pin" for e in spec.entities)
10

:func:`create_world` is what :func:`worldgen.create` calls; ``reasoner=`` takes a name
(``"builtin"``) or any :class:`Reasoner` instance (e.g. :class:`reasoner.lm.LMReasoner`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reasoner.base import Reasoner, ReasonerError, get_reasoner, register_reasoner
from reasoner.builtin import BuiltinReasoner
from reasoner.trace import ReasoningTrace, TraceStep

__all__ = ["BuiltinReasoner", "Reasoner", "ReasonerError", "ReasoningTrace", "TraceStep", "create_world",
           "get_reasoner", "register_reasoner"]

register_reasoner("builtin", BuiltinReasoner)


def create_world(prompt: str, seed: int = 0, images: Sequence[Any] = (), reasoner: str | Reasoner = "builtin"):
    """A :class:`worldgen.World` for ``prompt``: reasoned, verified by simulation, with ``world.trace`` set."""
    from worldgen.world import World

    spec, trace = get_reasoner(reasoner).reason(prompt, images=images, seed=seed)
    return World(spec, seed, trace=trace)
