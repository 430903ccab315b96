"""The reasoning trace: what a reasoner decided, stage by stage, in plain English.

A :class:`ReasoningTrace` is a list of :class:`TraceStep` (``stage``, ``text``, ``data``).
``str(trace)`` reads as a short report grouped by stage; :meth:`ReasoningTrace.to_json`
gives the same content for tools (the editor, tests). Stages, in the order a reasoner
goes through them, are :data:`STAGES`.

>>> t = ReasoningTrace(prompt="ten pins")
>>> t.add("intent", "mechanic: bowling", mechanic="bowling")
>>> t.steps[0].stage, t.steps[0].data["mechanic"]
('intent', 'bowling')
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

__all__ = ["STAGES", "STAGE_TITLES", "ReasoningTrace", "TraceStep"]

#: Stage names with the heading ``str(trace)`` prints for each.
STAGE_TITLES: dict[str, str] = {
    "edit": "Edit",
    "intent": "Intent & mechanic",
    "model": "Language model",
    "grounding": "Open vocabulary",
    "images": "Reference images",
    "inventory": "Entities & geometry",
    "physics": "Physical properties",
    "layout": "Layout",
    "controls": "Controls & affordances",
    "rules": "Rules & causal mechanics",
    "goals": "Scoring, goals & reset",
    "appearance": "Perceptual mapping",
    "verification": "Verification by simulation",
    "repair": "Repairs",
}
STAGES: tuple[str, ...] = tuple(STAGE_TITLES)

MAX_STEPS = 2000  #: a trace never grows past this many steps (a runaway loop stays bounded)


@dataclass(frozen=True)
class TraceStep:
    """One decision: its ``stage`` (one of :data:`STAGES`), a sentence, and structured ``data``."""

    stage: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReasoningTrace:
    """The steps a reasoner took for ``prompt``; append with :meth:`add`."""

    prompt: str = ""
    steps: list[TraceStep] = field(default_factory=list)
    reasoner: str = "builtin"

    def add(self, stage: str, text: str, **data: Any) -> None:
        """Records a step. ``stage`` must be one of :data:`STAGES`; ``data`` must be JSON-able."""
        if stage not in STAGE_TITLES:
            raise ValueError(f"unknown trace stage {stage!r}; stages: {', '.join(STAGES)}")
        if len(self.steps) < MAX_STEPS:
            self.steps.append(TraceStep(stage, str(text), dict(data)))

    def stage(self, stage: str) -> list[TraceStep]:
        """The steps of one stage, in order."""
        return [s for s in self.steps if s.stage == stage]

    def extend(self, other: ReasoningTrace) -> None:
        """Appends the steps of ``other``."""
        for s in other.steps:
            if len(self.steps) < MAX_STEPS:
                self.steps.append(s)

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "reasoner": self.reasoner,
                "steps": [{"stage": s.stage, "text": s.text, "data": s.data} for s in self.steps]}

    def to_json(self, indent: int | None = 2) -> str:
        """The trace as JSON: ``{"prompt", "reasoner", "steps": [{"stage", "text", "data"}]}``."""
        return json.dumps(self.to_dict(), indent=indent, default=_jsonable)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReasoningTrace:
        t = cls(prompt=str(d.get("prompt", "")), reasoner=str(d.get("reasoner", "builtin")))
        for s in d.get("steps", [])[:MAX_STEPS]:
            t.add(s["stage"], s["text"], **dict(s.get("data") or {}))
        return t

    def __str__(self) -> str:
        lines = [f"Prompt: {self.prompt!r}" if len(self.prompt) <= 200 else f"Prompt: {self.prompt[:200]!r}…"]
        order = [s for s in STAGES if any(st.stage == s for st in self.steps)]
        for n, stage in enumerate(order, 1):
            lines.append(f"\n{n}. {STAGE_TITLES[stage]}")
            for st in self.stage(stage):
                wrapped = textwrap.wrap(st.text, 96, initial_indent="   - ", subsequent_indent="     ")
                lines.extend(wrapped or ["   -"])
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self.steps)


def _jsonable(x: Any) -> Any:
    if isinstance(x, (set, frozenset, tuple)):
        return list(x)
    if hasattr(x, "tolist"):
        return x.tolist()
    return str(x)
