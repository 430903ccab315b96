"""Style names from words: "cartoon with ink lines" → toon.

:func:`resolve_style` passes a known style name through and maps other text to the
nearest style by MiniLM sentence embeddings of short style descriptions (the offline
model of :mod:`reasoner.grounding`). Without embeddings, or when nothing is similar
enough, it raises ``ValueError`` listing the styles.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["DESCRIPTIONS", "MIN_SIMILARITY", "resolve_style"]

#: What each style looks like, in words (what free text is compared with).
DESCRIPTIONS: dict[str, str] = {
    "albedo": "flat unshaded colours, plain debug view",
    "realistic": "realistic photographic rendering with soft shadows, reflections and real materials",
    "toon": "cartoon cel shading with bold black ink outlines, comic book anime style",
    "pixel": "retro pixel art, 8-bit video game sprites with a small palette",
    "painterly": "oil painting with visible brush strokes, impressionist watercolour (watercolor) artwork",
    "palette": "colours taken from a reference picture's palette, poster colour grading",
}
MIN_SIMILARITY = 0.3


def resolve_style(text: str, styles: Sequence[str]) -> tuple[str, float]:
    """(style, similarity): ``text`` itself if it is one of ``styles`` (1.0), else the nearest by meaning."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"style must be a name or a description; styles: {', '.join(styles)}")
    t = text.strip().lower()
    if t in styles:
        return t, 1.0
    from reasoner.grounding import embed

    names = [s for s in styles if s in DESCRIPTIONS]
    vecs = embed([t[:200], *(DESCRIPTIONS[s] for s in names)])
    if vecs is not None and names:
        sims = np.asarray(vecs[1:]) @ np.asarray(vecs[0])
        best = int(np.argmax(sims))
        if sims[best] >= MIN_SIMILARITY:
            return names[best], round(float(sims[best]), 3)
    raise ValueError(f"unknown style {text!r}; styles: {', '.join(styles)} (or a description such as "
                     "'cartoon with ink outlines')")
