"""Throughput against negmas' SAO mechanism on the same utility tables and deadline.

Both engines negotiate the baseline's agenda groups (``humanitarian``, 21 candidates;
``security``, 225) for R replicas: the utility tables, reservation values (round-1 war
payoffs) and deadline (the scenario's rounds) come from this package's compiled batch.
ceasefire-sim runs them as ``ceasefire run`` does (``sim.results.run_outcome``, one core);
negmas runs one ``SAOMechanism`` per replica and group with two time-based conceding
negotiators whose utility functions map each candidate to the same table entry.

negmas (AGPL) is never a dependency of this package and none of its code is copied: this
script installs it into a virtual environment of its own (``--venv``, created on first use
with ``pip install negmas==VERSION``) and drives it from a child process that reads the
tables from a temporary ``.npz`` file. One run of each; negmas runs at most ``--negmas-max``
replicas and its rate is scaled to R (said so in the output).

Usage::

    python benchmarks/bench_vs_negmas.py                       # R = 1, 1000, 100000
    python benchmarks/bench_vs_negmas.py --sizes 1000 --negmas-max 500
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEGMAS_VERSION = "0.16.0"
DEFAULT_VENV = Path.home() / ".cache" / "ceasefire-sim" / f"negmas-{NEGMAS_VERSION}-venv"

# Runs inside the negmas virtual environment: tables in, seconds and agreements out.
CHILD = r"""
import json, sys, time, warnings
import numpy as np
warnings.filterwarnings("ignore")
from negmas import SAOMechanism, TimeBasedConcedingNegotiator
from negmas.preferences import MappingUtilityFunction

data = np.load(sys.argv[1])
groups = [k for k in data.files if k.startswith("u_")]
rounds = int(data["rounds"])
replicas = int(data["replicas"])
agreed = {g: 0 for g in groups}
started = time.perf_counter()
for r in range(replicas):
    for g in groups:
        table = data[g][r]  # (P, K)
        war = data["w_" + g[2:]][r]
        session = SAOMechanism(outcomes=table.shape[1], n_steps=rounds)
        for p in range(table.shape[0]):
            values = {(k,): float(table[p, k]) for k in range(table.shape[1])}
            ufun = MappingUtilityFunction(values, outcome_space=session.outcome_space, reserved_value=float(war[p]))
            session.add(TimeBasedConcedingNegotiator(name=f"p{p}"), preferences=ufun)
        state = session.run()
        agreed[g] += state.agreement is not None
print(json.dumps({"seconds": time.perf_counter() - started, "replicas": replicas, "agreed": agreed}))
"""


def negmas_python(venv: Path) -> Path:
    """The negmas environment's interpreter, creating the environment on first use."""
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        print(f"installing negmas {NEGMAS_VERSION} into {venv} (once) ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", f"negmas=={NEGMAS_VERSION}"], check=True)
    return python


def tables(r: int) -> tuple[object, dict]:
    """The baseline at R replicas and its tables: utilities (R, P, K) and round-1 war payoffs (R, P) per group."""
    import numpy as np

    from sim.core.dynamics import war_payoffs
    from sim.engine.compile import compile_batch
    from sim.inputs import load_scenario, with_overrides

    scenario = with_overrides(load_scenario(ROOT / "scenarios" / "istanbul_2025.yaml"), replicas=r)
    batch = compile_batch(scenario)
    wars = war_payoffs(batch, 0)
    arrays: dict = {"rounds": np.array(batch.rounds), "replicas": np.array(r)}
    for g, group in enumerate(batch.groups):
        arrays[f"u_{group.name}"] = batch.utilities[g]
        arrays[f"w_{group.name}"] = wars[g]
    return scenario, arrays


def ours(scenario: object) -> float:
    """Seconds of ceasefire-sim's run of every replica (as ``ceasefire run`` does)."""
    from sim.results import run_outcome

    started = time.perf_counter()
    run_outcome(scenario, trace=False)  # type: ignore[arg-type]
    return time.perf_counter() - started


def theirs(python: Path, arrays: dict, count: int) -> dict:
    """negmas' seconds for the first ``count`` replicas of ``arrays``."""
    import numpy as np

    picked = {k: (v[:count] if v.ndim and k.startswith(("u_", "w_")) else v) for k, v in arrays.items()}
    picked["replicas"] = np.array(count)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tables.npz"
        np.savez(path, **picked)
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        done = subprocess.run([str(python), "-c", CHILD, str(path)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"negmas child failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,1000,100000", help="replica counts R (default: 1,1000,100000)")
    ap.add_argument("--negmas-max", type=int, default=200, help="replicas negmas runs at most; its rate is scaled to R")
    ap.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"negmas' own environment (default: {DEFAULT_VENV})")
    args = ap.parse_args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    python = negmas_python(args.venv)
    print(f"ceasefire-sim vs negmas {NEGMAS_VERSION} (SAOMechanism, TimeBasedConcedingNegotiator x 2), "
          "istanbul_2025 tables: humanitarian (21 candidates) + security (225), one run each")
    print(f"{'R':>9s} {'ours s':>9s} {'ours /s':>10s} {'negmas R':>9s} {'negmas s':>9s} {'negmas /s':>10s} {'ratio':>8s}")
    for r in [int(x.replace("_", "")) for x in args.sizes.split(",") if x.strip()]:
        scenario, arrays = tables(r)
        mine = ours(scenario)
        count = min(r, args.negmas_max)
        found = theirs(python, arrays, count)
        rate_ours, rate_theirs = r / mine, count / found["seconds"]
        scaled = " (scaled)" if count < r else ""
        print(f"{r:>9,} {mine:>9.3f} {rate_ours:>10,.0f} {count:>9,} {found['seconds']:>9.3f} {rate_theirs:>10,.1f} "
              f"{rate_ours / rate_theirs:>7,.0f}x{scaled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
