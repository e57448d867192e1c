"""Benchmark of ``sim.theory.pareto_mask`` on 100,000 outcomes x 3 parties.

Usage: ``python benchmarks/bench_pareto.py [--outcomes K] [--parties P] [--repeats N]``.
Prints the median and minimum wall time over the repeats for random uniform utilities
(seed 0) and the size of the frontier found. The target (issue 3) is under one second.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from sim.theory import pareto_mask


def main() -> None:
    """Time pareto_mask and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=100_000)
    parser.add_argument("--parties", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    utilities = np.random.default_rng(0).random((args.outcomes, args.parties))
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        mask = pareto_mask(utilities)
        times.append(time.perf_counter() - started)
    print(
        f"pareto_mask on {args.outcomes:,} outcomes x {args.parties} parties: "
        f"median {statistics.median(times):.3f} s, min {min(times):.3f} s over {args.repeats} runs; "
        f"{int(mask.sum())} Pareto-optimal"
    )


if __name__ == "__main__":
    main()
