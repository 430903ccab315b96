"""Open-vocabulary grounding: unknown nouns reach sensible kinds, offline, deterministically, loading once."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from reasoner import grounding as gr
from reasoner import knowledge as kb

FURNITURE = {"table", "platform", "plank", "crate", "box", "block"}  # box-shaped, heavy-ish, mostly static

#: Nouns the knowledge base does not list, with the kinds that are acceptable for each.
UNKNOWN = [
    ("watermelon", {"apple", "ball", "beach ball", "boulder"}),
    ("grapefruit", {"apple", "ball"}),
    ("sofa", FURNITURE),
    ("armchair", FURNITURE),
    ("hockey biscuit", {"puck", "air hockey puck", "shuffleboard puck"}),
    ("doghouse", {"building"}),
    ("boomerang", {"frisbee"}),
    ("bicycle", {"car", "cart", "toy car"}),
    ("kettlebell", {"pendulum bob", "steel ball", "cannonball", "bowling ball"}),
    ("cobblestone", {"stone", "rock", "brick", "block"}),
]


@pytest.fixture(autouse=True)
def _embeddings_on(monkeypatch):
    monkeypatch.delenv(gr.DISABLE_ENV, raising=False)


@pytest.fixture
def fresh_state(monkeypatch):
    """A new, unloaded embedder state (the real one is restored afterwards)."""
    state = gr._EmbedderState()
    monkeypatch.setattr(gr, "_STATE", state)
    return state


class _FakeModel:
    """Deterministic stand-in for the encoder: a unit vector from a hash of each text."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.calls = 0

    def encode(self, texts, **_):
        self.calls += 1
        time.sleep(self.delay)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).normal(size=16)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32)


def _fake_loader(monkeypatch, delay: float = 0.0):
    loads = []

    def load(device):
        loads.append(device)
        time.sleep(delay)
        return _FakeModel()

    monkeypatch.setattr(gr, "_load_model", load)
    return loads


# ---------------------------------------------------------------- contract, no model needed


def test_empty_input_loads_nothing(fresh_state, monkeypatch):
    loads = _fake_loader(monkeypatch)
    assert gr.ground([]) == []
    assert gr.ground(()) == []
    assert loads == [] and not gr.embedder_info()["loaded"]


def test_known_nouns_come_from_the_knowledge_base_without_a_model(fresh_state, monkeypatch):
    loads = _fake_loader(monkeypatch)
    got = gr.ground(["Skittles", "skittle", "football", "big red bowling balls", "Ping-Pong balls"])
    assert [g.kind for g in got] == ["pin", "pin", "soccer ball", "bowling ball", "ping pong ball"]
    assert all(g.similarity == 1.0 and g.method == "lexical" and g.alternatives == () for g in got)
    assert got[0].noun == "Skittles"  # as given
    assert loads == []  # nothing needed embeddings


def test_input_limits_and_odd_nouns(fresh_state, monkeypatch):
    monkeypatch.setenv(gr.DISABLE_ENV, "1")
    got = gr.ground([f"thing{i}" for i in range(100)])
    assert len(got) == gr.MAX_NOUNS == 64
    odd = gr.ground(["", "   ", "!!!", None, 42, "x" * 500 + " crate"])
    assert [g.kind for g in odd[:5]] == [None] * 5
    assert all(g.similarity == 0.0 and g.alternatives == () for g in odd[:5])
    assert odd[3].noun == "None" and odd[4].noun == "42"
    assert odd[5].noun == "x" * 500 + " crate"  # the noun is kept as given, only 60 characters are read
    assert 0.0 <= odd[5].similarity <= 1.0
    assert [g.kind for g in gr.ground("sofa")] == [gr.ground(["sofa"])[0].kind]  # a bare string is one noun


def test_grounding_is_frozen():
    g = gr.Grounding("sofa", "crate", 0.5, (("box", 0.4),), "embedding")
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.kind = "box"


def test_lexical_fallback_when_disabled(monkeypatch, fresh_state):
    loads = _fake_loader(monkeypatch)
    monkeypatch.setenv(gr.DISABLE_ENV, "1")
    got = gr.ground(["skitle", "bowling bal", "ping pong bal", "watermelon", "qwxz"])
    assert loads == []  # disabled means not even trying
    assert all(g.method == "lexical" for g in got)
    assert [g.kind for g in got[:3]] == ["pin", "bowling ball", "ping pong ball"]
    assert got[0].similarity > 0.6 and got[1].similarity > 0.8
    assert got[4].similarity < 0.3 and got[4].kind is None  # gibberish shares no trigrams worth a kind
    assert all(0.0 <= g.similarity <= 1.0 for g in got)
    assert all(len(g.alternatives) == 3 for g in got)
    info = gr.embedder_info()
    assert info["method"] == "lexical" and info["loaded"] is False
    assert gr.load_embedder() is None and loads == []  # respects the switch too
    assert gr.ground(["skitle", "bowling bal"]) == got[:2]  # deterministic


def test_load_failure_falls_back_and_is_not_retried(monkeypatch, fresh_state):
    calls = []

    def broken(device):
        calls.append(device)
        raise RuntimeError("no model here")

    monkeypatch.setattr(gr, "_load_model", broken)
    first = gr.ground(["watermelon", "skitle"])
    second = gr.ground(["sofa"])
    assert calls == ["cpu"]  # tried once, on CPU
    assert all(g.method == "lexical" for g in first + second)
    assert first[1].kind == "pin"
    info = gr.embedder_info()
    assert info == {"loaded": False, "load_seconds": None, "method": "lexical",
                    "error": "RuntimeError: no model here"}


def test_embedding_failure_for_one_noun_does_not_raise(monkeypatch, fresh_state):
    _fake_loader(monkeypatch)
    gr.load_embedder()

    def boom(state, noun, context):
        raise ValueError("bad vector")

    monkeypatch.setattr(gr, "_embedding_scores", boom)
    got = gr.ground(["skitle"])
    assert got[0].method == "lexical" and got[0].kind == "pin"


def test_lazy_load_happens_once_across_threads(monkeypatch, fresh_state):
    loads = _fake_loader(monkeypatch, delay=0.2)
    assert not gr.embedder_info()["loaded"]
    results: list = []
    threads = [threading.Thread(target=lambda i=i: results.append(gr.ground([f"gizmo {i}", "sofa"])))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == ["cpu"]
    assert fresh_state.load_count == 1
    assert len(results) == 8 and all(g.method == "embedding" for r in results for g in r)
    assert len({r[1] for r in results}) == 1  # every thread saw the same "sofa"
    info = gr.embedder_info()
    assert info["loaded"] and info["method"] == "embedding" and info["load_seconds"] >= 0.2


def test_noun_cache_is_bounded(monkeypatch, fresh_state):
    _fake_loader(monkeypatch)
    monkeypatch.setattr(gr, "_CACHE_SIZE", 5)
    for i in range(3):
        gr.ground([f"gizmo {j}" for j in range(i * 4, i * 4 + 4)])
    assert len(fresh_state.cache) == 5


def test_module_import_stays_light():
    code = ("import sys; import reasoner.grounding as g; "
            "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules; "
            "assert g.embedder_info()['loaded'] is False")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-2000:]


# ---------------------------------------------------------------- the real MiniLM encoder


def test_model_loads_once_offline():
    gr.load_embedder()
    first = gr.ground(["watermelon", "doghouse"])
    again = gr.ground(["boomerang", "watermelon"])
    gr.load_embedder()
    assert gr._STATE.load_count == 1
    info = gr.embedder_info()
    assert info["loaded"] is True and info["method"] == "embedding" and info["error"] is None
    assert info["load_seconds"] > 0
    assert first[0] == again[1]
    assert os.environ["HF_HUB_OFFLINE"] and os.environ["TRANSFORMERS_OFFLINE"]
    assert str(gr._STATE.model.device) == "cpu"


@pytest.mark.parametrize("noun,acceptable", UNKNOWN, ids=[n for n, _ in UNKNOWN])
def test_unknown_nouns_ground_sensibly(noun, acceptable):
    assert kb.find_kind(noun) is None  # really unknown to the tables
    (g,) = gr.ground([noun])
    assert g.noun == noun and g.method == "embedding"
    assert g.kind in acceptable, (g.kind, g.similarity, g.alternatives)
    assert 0.3 <= g.similarity <= 1.0
    alts = g.alternatives
    assert len(alts) == 3 and g.kind not in {k for k, _ in alts} and len({k for k, _ in alts}) == 3
    sims = [g.similarity] + [s for _, s in alts]
    assert sims == sorted(sims, reverse=True)
    assert all(k in kb.KINDS for k, _ in alts)


def test_coconut_shy_grounds_to_a_target():
    (g,) = gr.ground(["coconut shy"])
    assert g.kind is not None and "target" in kb.KINDS[g.kind].affordances, g


def test_skittles_by_embedding_alone():
    state = gr._embedder()
    assert state is not None
    for noun, context in [("skittle", ""), ("skittles", "roll a ball down the alley to knock over the skittles")]:
        g = gr._result(noun, gr._embedding_scores(state, noun, context), 0.3, "embedding")
        assert g.kind == "pin", g


def test_context_disambiguates():
    plain = gr.ground(["shot"])[0]
    shot_put = gr.ground(["shot"], context="Shot put: throw the heavy shot as far as you can!")[0]
    assert plain.kind == "bullet"
    assert shot_put.kind == "cannonball"  # aliases include "shot put"
    assert gr.ground(["shot"])[0] == plain  # cached per (noun, context)


def test_gibberish_scores_low_and_min_similarity_rejects():
    garbage, *real = gr.ground(["qwxz", "watermelon", "doghouse", "boomerang"])
    assert garbage.method == "embedding"
    assert garbage.similarity < 0.4
    assert garbage.similarity < min(g.similarity for g in real) - 0.1
    strict = gr.ground(["qwxz", "watermelon"], min_similarity=0.4)
    assert strict[0].kind is None and strict[0].similarity == garbage.similarity
    assert len(strict[0].alternatives) == 3  # still shown
    assert strict[1].kind == "apple"
    assert gr.ground(["watermelon"], min_similarity=0.99)[0].kind is None
    assert gr.ground(["watermelon"], min_similarity=0.0)[0].kind == "apple"


def test_deterministic_regardless_of_order_batch_and_cache():
    nouns = [n for n, _ in UNKNOWN] + ["coconut shy", "qwxz", "Skittles"]
    a = gr.ground(nouns)
    b = gr.ground(list(reversed(nouns)))[::-1]
    gr._STATE.cache.clear()
    c = [gr.ground([n])[0] for n in nouns]
    assert a == b == c
    assert all(round(g.similarity, 3) == g.similarity for g in a)
