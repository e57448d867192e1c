"""Engine benchmark over the number of belligerents: negotiations per second at P = 2, 3, 4, 6.

The baseline ``istanbul_2025`` with extra belligerents copied from Ukraine and Russia and put
on their sides (alternately), R replicas, alternating offers (the proposer rotates over all
P). Reports the median wall clock of ``run_scenario`` over the repeats, after one warm-up.

Usage::

    python benchmarks/bench_parties.py                  # P = 2, 3, 4, 6 at R = 2000
    python benchmarks/bench_parties.py --replicas 500 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

from sim.engine.model import run_scenario
from sim.inputs import load_scenario
from sim.inputs.schema import Scenario


def with_parties(scenario: Scenario, n: int, replicas: int) -> Scenario:
    """The scenario with ``n`` belligerents: copies of the two, alternately on their sides."""
    parties = dict(scenario.parties)
    base = ["ukraine", "russia"]
    for i in range(2, n):
        source = base[i % 2]
        parties[f"{source}_{i}"] = parties[source].model_copy(update={"side": source, "name": f"{source} {i}"})
    return scenario.model_copy(update={"parties": parties, "replicas": replicas})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parties", default="2,3,4,6")
    parser.add_argument("--replicas", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    base = load_scenario("istanbul_2025").scenario
    print(f"{'P':>3} {'R':>7} {'median s':>9} {'negotiations/s':>15}")
    for n in (int(x) for x in args.parties.split(",")):
        scenario = with_parties(base, n, args.replicas)
        run_scenario(scenario)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run_scenario(scenario)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"{n:>3} {args.replicas:>7} {median:>9.3f} {args.replicas / median:>15,.0f}")


if __name__ == "__main__":
    main()
