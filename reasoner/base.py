"""The reasoner interface: a prompt (+ images) becomes a :class:`WorldSpec` and a trace.

Every reasoner implements :meth:`Reasoner.reason`; it must be deterministic for a given
prompt, images and seed. :func:`get_reasoner` turns the ``reasoner=`` argument of
:func:`worldgen.create` (a name or an instance) into a reasoner.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from reasoner.trace import ReasoningTrace
from worldgen.spec import WorldSpec

__all__ = ["Reasoner", "ReasonerError", "get_reasoner", "register_reasoner"]


class ReasonerError(ValueError):
    """A prompt could not become a working world.

    The message says what was wrong, what is supported and the closest thing that can be
    built; ``requirement`` names the unmet requirement (e.g. ``"verify.settle"``),
    ``suggestion`` is a prompt that would work (or None) and ``trace`` holds the
    reasoning so far.
    """

    def __init__(self, message: str, *, requirement: str = "prompt", suggestion: str | None = None,
                 trace: ReasoningTrace | None = None):
        super().__init__(message)
        self.requirement = requirement
        self.suggestion = suggestion
        self.trace = trace


class Reasoner(ABC):
    """Turns a prompt (and optional reference images) into a verified world."""

    name: str = "reasoner"

    @abstractmethod
    def reason(self, prompt: str, images: Sequence[Any] = (), seed: int = 0) -> tuple[WorldSpec, ReasoningTrace]:
        """The world for ``prompt`` and the trace of how it was made.

        ``images`` are paths or arrays (H, W, 3): reference images (palette, style) or
        top-down layout sketches (docs/sketches.md). Raises :class:`ReasonerError` with a
        readable message when no working world can be made.
        """


_FACTORIES: dict[str, Any] = {}


def register_reasoner(name: str, factory: Any) -> None:
    """Makes ``reasoner=name`` available to :func:`worldgen.create` (``factory()`` → Reasoner)."""
    _FACTORIES[name] = factory


def get_reasoner(reasoner: str | Reasoner) -> Reasoner:
    """The reasoner ``reasoner`` names (``"builtin"``, ...) or ``reasoner`` itself."""
    if isinstance(reasoner, Reasoner):
        return reasoner
    if not isinstance(reasoner, str) or reasoner not in _FACTORIES:
        raise ValueError(f"unknown reasoner {reasoner!r}; available: {', '.join(sorted(_FACTORIES))} "
                         "or a reasoner.Reasoner instance (e.g. reasoner.LMReasoner)")
    return _FACTORIES[reasoner]()
