"""Ticks/s of example worlds (rules, events, history) vs raw pybullet stepping of the same bodies.

    python benchmarks/bench_physics.py [--world bowling] [--ticks 600] [--runs 5] [--json]

Same as ``worldgen bench``; the harness lives in :mod:`worldgen.bench`.
"""

import argparse

from worldgen import bench

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_arguments(ap)
    bench.main(ap.parse_args())
