"""Start-up benchmark: whole-process time of short ``ceasefire`` commands, and what
importing Mesa costs on its own.

Each command runs ``--repeats`` times (default 7) under ``/usr/bin/time -v`` with
OMP_NUM_THREADS=1; the medians of wall-clock time, CPU time (user + sys) and peak RSS are
printed. On a shared machine wall time waits for the CPU; CPU time is the steadier figure.
Each command first runs once untimed with ``PYTHONDONTWRITEBYTECODE`` removed from its
environment, so the package's bytecode is cached as in an installed copy (``--as-is``: the
environment as it is, no warm-up; where ``PYTHONDONTWRITEBYTECODE`` is set and no bytecode
was cached, every module of ``sim`` is compiled from source on every run).

Mesa's own share: the CPU time of ``import mesa`` (all of Mesa) and of ``from sim.theory
import mesa_core`` (Mesa's ``Agent``, ``Model`` and ``DataCollector`` alone, as the engine
imports them), each in a fresh interpreter that has imported numpy and ``sim.theory``
already, median of ``--repeats``; and ``-X importtime`` of ``import mesa`` for its largest
parts (one run).

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
    "python -c 'import sim.engine'": [sys.executable, "-c", "import sim.engine"],
    "ceasefire --help": [CEASEFIRE, "--help"],
    "ceasefire list": [CEASEFIRE, "list"],
    "ceasefire validate scenarios/istanbul_2025.yaml": [CEASEFIRE, "validate", "scenarios/istanbul_2025.yaml"],
    "ceasefire run istanbul_2025 --replicas 1 --json": [CEASEFIRE, "run", "istanbul_2025", "--replicas", "1", "--json"],
}
TARGETS = {"ceasefire --help": 0.3, "ceasefire run istanbul_2025 --replicas 1 --json": 0.4}


MESA_IMPORTS = {"import mesa": "import mesa", "mesa_core": "from sim.theory import mesa_core"}
"""What ``mesa_cost`` times: all of Mesa, and the engine's part of it."""


def child_env(as_is: bool) -> dict[str, str]:
    """The children's environment: one thread for numpy, and bytecode written unless ``as_is``."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if not as_is:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """One run under /usr/bin/time -v: wall seconds, CPU seconds, peak RSS in MiB."""
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


def mesa_cost(repeats: int, env: dict[str, str]) -> dict[str, float | None]:
    """CPU seconds of each of ``MESA_IMPORTS`` in a fresh interpreter that imported numpy and
    ``sim.theory`` first (median of ``repeats``; None where the import fails, as ``mesa_core``
    on a checkout from before it)."""
    out: dict[str, float | None] = {}
    for name, statement in MESA_IMPORTS.items():
        code = f"import time, numpy, sim.theory; t = time.process_time(); {statement}; print(time.process_time() - t)"
        cmd = [sys.executable, "-c", code]
        runs = [subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True) for _ in range(repeats)]
        ok = all(run.returncode == 0 for run in runs)
        out[name] = statistics.median(float(run.stdout) for run in runs) if ok else None
    return out


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
    ap.add_argument("--as-is", action="store_true", help="keep the environment's bytecode setting; no warm-up run")
    args = ap.parse_args(argv)
    env = child_env(args.as_is)
    rows = {}
    for name, cmd in COMMANDS.items():
        if not args.as_is:
            timed(cmd, env)
        runs = [timed(cmd, env) for _ in range(args.repeats)]
        rows[name] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    report = {
        "repeats": args.repeats,
        "loadavg_1min": os.getloadavg()[0],
        "bytecode": "as the environment has it" if args.as_is else "cached (warm-up run)",
        "commands": rows,
        "mesa_cpu_s": mesa_cost(args.repeats, env),
        "mesa_import": mesa_import_share(),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"medians of {args.repeats} runs each, OMP_NUM_THREADS=1, bytecode {report['bytecode']}; "
        f"load average {report['loadavg_1min']:.1f}"
    )
    print(f"{'command':52s} {'wall s':>7s} {'CPU s':>7s} {'peak MiB':>9s}  target")
    for name, row in rows.items():
        target = TARGETS.get(name)
        verdict = "" if target is None else f"< {target} s: {'MET' if row['wall_s'] < target else 'MISSED'} (wall)"
        print(f"{name:52s} {row['wall_s']:7.3f} {row['cpu_s']:7.3f} {row['rss_mib']:9.1f}  {verdict}")
    cost = report["mesa_cpu_s"]
    shown = ", ".join(f"{k} {'-' if v is None else f'{v:.3f}'}" for k, v in cost.items())
    print(f"Mesa, CPU s after numpy and sim.theory: {shown}")
    share = sorted(report["mesa_import"].items(), key=lambda kv: -kv[1])[:6]
    print("import mesa (-X importtime, one run): " + ", ".join(f"{k} {v:.3f} s" for k, v in share))
    return 0


if __name__ == "__main__":
    sys.exit(main())
