"""Start-up benchmark: whole-process time of short ``ceasefire`` commands, and what
importing Mesa costs on its own.

Each command runs ``--repeats`` times (default 7) under ``/usr/bin/time -v`` with
OMP_NUM_THREADS=1; the medians of wall-clock time, CPU time (user + sys) and peak RSS are
printed. On a shared machine wall time waits for the CPU; CPU time is the steadier figure.

Usage::

    python benchmarks/bench_startup.py
    python benchmarks/bench_startup.py --repeats 15 --json

Targets (from the issue): ``ceasefire run istanbul_2025 --replicas 1 --json`` under 0.4 s
and ``ceasefire --help`` under 0.3 s, whole process.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CEASEFIRE = shutil.which("ceasefire", path=str(Path(sys.executable).parent)) or "ceasefire"
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "python -c 'import mesa'": [sys.executable, "-c", "import mesa"],
    "ceasefire --help": [CEASEFIRE, "--help"],
    "ceasefire list": [CEASEFIRE, "list"],
    "ceasefire validate scenarios/istanbul_2025.yaml": [CEASEFIRE, "validate", "scenarios/istanbul_2025.yaml"],
    "ceasefire run istanbul_2025 --replicas 1 --json": [CEASEFIRE, "run", "istanbul_2025", "--replicas", "1", "--json"],
}
TARGETS = {"ceasefire --help": 0.3, "ceasefire run istanbul_2025 --replicas 1 --json": 0.4}


def timed(cmd: list[str]) -> dict[str, float]:
    """One run under /usr/bin/time -v: wall seconds, CPU seconds, peak RSS in MiB."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    field = dict(re.findall(r"^\s*(.+?): (.+)$", done.stderr, re.MULTILINE))
    h, m, sec = ([0.0] + [float(x) for x in field["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":")])[-3:]
    return {
        "wall_s": h * 3600 + m * 60 + sec,
        "cpu_s": float(field["User time (seconds)"]) + float(field["System time (seconds)"]),
        "rss_mib": int(field["Maximum resident set size (kbytes)"]) / 1024,
    }


def mesa_import_share() -> dict[str, float]:
    """``python -X importtime -c 'import mesa'``: Mesa's cumulative import time and its
    largest direct imports, in seconds (one run)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import mesa"], capture_output=True, text=True)
    out: dict[str, float] = {}
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)$", line)
        if found and (len(found.group(2)) <= 3 or found.group(3) in ("pandas", "scipy.spatial", "networkx")):
            out[found.group(3)] = max(out.get(found.group(3), 0.0), int(found.group(1)) / 1e6)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = {}
    for name, cmd in COMMANDS.items():
        runs = [timed(cmd) for _ in range(args.repeats)]
        rows[name] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    report = {"repeats": args.repeats, "loadavg_1min": os.getloadavg()[0], "commands": rows, "mesa_import": mesa_import_share()}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"medians of {args.repeats} runs each, OMP_NUM_THREADS=1; load average {report['loadavg_1min']:.1f}")
    print(f"{'command':52s} {'wall s':>7s} {'CPU s':>7s} {'peak MiB':>9s}  target")
    for name, row in rows.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"< {target} s: {'MET' if row['wall_s'] < target else 'MISSED'} (wall)"
        print(f"{name:52s} {row['wall_s']:7.3f} {row['cpu_s']:7.3f} {row['rss_mib']:9.1f}  {verdict}")
    share = sorted(report["mesa_import"].items(), key=lambda kv: -kv[1])[:6]
    print("import mesa (-X importtime, one run): " + ", ".join(f"{k} {v:.3f} s" for k, v in share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
