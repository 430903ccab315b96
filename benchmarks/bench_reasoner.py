"""Prompt → verified world: seconds per prompt over the public suite (tests/reasoner/suite_prompts.py).

    python benchmarks/bench_reasoner.py [--runs 3] [--json]

For every suite prompt, :meth:`BuiltinReasoner.reason` runs end to end — parsing,
grounding, building, settling 2 s and playing the mechanic proof — ``--runs`` times; the
table reports each prompt's median and the median over the suite (goal ≤ 1.5 s). The
embedding model is loaded first, on its own, and its load time reported separately.
A baseline measured in the same run puts the numbers in proportion: building the spec
alone (templates only, no simulation).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

from tqdm import tqdm

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests", "reasoner"))

from reasoner import BuiltinReasoner  # noqa: E402
from reasoner.builder import Builder, Params  # noqa: E402
from reasoner.builtin import _build, _choose  # noqa: E402
from reasoner.grounding import embedder_info, load_embedder  # noqa: E402
from reasoner.intent import parse  # noqa: E402
from reasoner.trace import ReasoningTrace  # noqa: E402
from suite_prompts import SUITE  # noqa: E402


def build_only(prompt: str) -> float:
    """Seconds to parse and build the spec, with no grounding and no simulation (the baseline)."""
    t = time.perf_counter()
    intent = parse(prompt)
    tr = ReasoningTrace()
    mechs = _choose(intent, {}, None, tr)
    _build(Builder(intent, 0, tr, Params()), mechs, None, None)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    a = ap.parse_args(argv)
    t = time.perf_counter()
    load_embedder()
    load_s = time.perf_counter() - t
    reasoner = BuiltinReasoner()
    rows = []
    for prompt, mech in tqdm(SUITE, desc="prompts", disable=a.json):
        full = []
        base = []
        for _ in range(a.runs):
            base.append(build_only(prompt))
            t = time.perf_counter()
            reasoner.reason(prompt, seed=0)
            full.append(time.perf_counter() - t)
        rows.append({"prompt": prompt, "mechanic": mech, "seconds": statistics.median(full),
                     "build_only_seconds": statistics.median(base)})
    med = statistics.median(r["seconds"] for r in rows)
    base_med = statistics.median(r["build_only_seconds"] for r in rows)
    out = {"prompts": len(rows), "runs": a.runs, "median_seconds": med, "max_seconds": max(r["seconds"] for r in rows),
           "p90_seconds": sorted(r["seconds"] for r in rows)[int(0.9 * (len(rows) - 1))],
           "build_only_median_seconds": base_med, "embedding_load_seconds": load_s,
           "embedding_method": embedder_info()["method"], "rows": rows}
    if a.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"\nprompt → verified world, {len(rows)} prompts × {a.runs} runs (median per prompt)\n")
    print("| prompt | mechanic | seconds | build only |")
    print("|---|---|---:|---:|")
    for r in sorted(rows, key=lambda r: -r["seconds"]):
        print(f"| {r['prompt'][:60]} | {r['mechanic']} | {r['seconds']:.3f} | {r['build_only_seconds']:.4f} |")
    print(f"\nmedian over the suite: {med:.3f} s (goal ≤ 1.5 s); p90 {out['p90_seconds']:.3f} s; "
          f"max {out['max_seconds']:.3f} s")
    print(f"baseline (build the spec only, no verification): median {base_med * 1000:.1f} ms → verification by "
          f"simulation is {med / max(base_med, 1e-9):.0f}× the build")
    print(f"embedding model load (once per process, {out['embedding_method']}): {load_s:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
