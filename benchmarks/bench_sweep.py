"""Sweep benchmark: runs per second and peak memory of `ceasefire sweep` as sweeps grow.

Runs the installed `ceasefire sweep` command on generated grid experiments of 10,000,
100,000 and 1,000,000 runs (500 replicas per point over sanctions credibility and Russia's
war cost per round, on the sanctions_credible scenario) with 1 and 2 local workers, each
in a fresh folder. Peak memory is the largest sum of resident set sizes over the command
and all its worker processes, sampled every 0.1 s from /proc (Linux).

    python benchmarks/bench_sweep.py                 # all sizes, 1 and 2 workers
    python benchmarks/bench_sweep.py --runs 100000 --workers 2
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPLICAS = 500
GRIDS = {10_000: (4, 5), 100_000: (10, 20), 1_000_000: (40, 50)}


def experiment(folder: Path, runs: int) -> Path:
    """A grid experiment of ``runs`` runs."""
    a, b = GRIDS[runs]
    path = folder / f"bench_{runs}.yaml"
    path.write_text(
        f"""name: bench_{runs}
question: How fast do sweeps run, and does memory stay flat as they grow?
scenario: {ROOT / "scenarios" / "sanctions_credible.yaml"}
parameters:
  events.sanctions.credibility: {{range: [0.0, 1.0], levels: {a}}}
  parties.russia.war.cost_per_round: {{range: [0.0, 0.02], levels: {b}}}
design: grid
replicas: {REPLICAS}
seed: 1
metrics: [agreement, round, outcome]
""",
        encoding="utf-8",
    )
    return path


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    kids = [int(p) for p in text.split()]
    return kids + [g for k in kids for g in _children(k)]


def _rss(pid: int) -> int:
    """Resident set size in bytes of ``pid`` (0 if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def measure(exe: str, exp: Path, out: Path, workers: int) -> tuple[float, int]:
    """Seconds and peak tree RSS (bytes) of one `ceasefire sweep`."""
    started = time.perf_counter()
    proc = subprocess.Popen([exe, "sweep", str(exp), "--out", str(out), "--workers", str(workers)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, sum(_rss(p) for p in [proc.pid, *_children(proc.pid)]))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"sweep failed ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
    return seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, nargs="*", default=sorted(GRIDS), choices=sorted(GRIDS))
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    args = parser.parse_args()
    exe = shutil.which("ceasefire", path=str(Path(sys.executable).parent)) or shutil.which("ceasefire")
    if exe is None:
        raise SystemExit("install the project first: pip install -e .")
    print(f"{'runs':>10} {'workers':>7} {'seconds':>8} {'runs/s':>8} {'peak RSS':>9}  (whole process tree)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for runs in args.runs:
            exp = experiment(folder, runs)
            for workers in args.workers:
                out = folder / f"out_{runs}_{workers}"
                seconds, peak = measure(exe, exp, out, workers)
                print(f"{runs:>10,} {workers:>7} {seconds:>8.1f} {runs / seconds:>8,.0f} {peak / 2**30:>8.2f}G", flush=True)
                shutil.rmtree(out)


if __name__ == "__main__":
    main()
