"""Engine benchmark: model time, negotiations per second and peak memory on one core.

Runs the bundled baseline scenario ``scenarios/istanbul_2025.yaml`` at several replica
counts R. Each size runs in a fresh child process (``--one R``) so that its peak RSS is
its own; the child environment sets OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1
and, where the OS allows, pins the child to a single CPU.

Usage::

    python benchmarks/bench_engine.py                       # R = 1, 1000, 100000
    python benchmarks/bench_engine.py --sizes 1,1000 --repeats 20
    python benchmarks/bench_engine.py --json                # one JSON object on stdout

Measured per size:

* model time per run: wall clock (``time.perf_counter``) of ``sim.engine.model.run_scenario``
  (building the ``NegotiationModel`` from the scenario plus running it to the end),
  excluding imports, scenario loading and setting the replica count. The median over
  the repeats is reported (default 50 repeats for R <= 10, 5 up to 10,000, 3 above,
  after one untimed warm-up run up to R = 10,000), with the minimum and the cold time
  (the first run in the process).
* negotiations per second: R / median model time (every replica is one negotiation run
  to agreement or to the deadline).
* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of a fresh child
  that runs the model exactly once (KiB on Linux), next to the peak RSS right after
  imports, so that the model's own increment is visible. (A separate child, because
  finished models are not freed within a process: see ``measure``.)

Targets (from the issue): R = 1 in under 50 ms of model time; at least 10,000
negotiations per second on one core at R = 100,000, within 2 GB (2e9 bytes) peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "istanbul_2025.yaml"
SCENARIO_REL = "scenarios/istanbul_2025.yaml"
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

TARGET_R1_MS = 50.0
TARGET_RATE_R = 100_000
TARGET_RATE = 10_000.0
TARGET_PEAK_BYTES = 2_000_000_000


def default_repeats(r: int) -> int:
    """Timed runs when ``--repeats`` is not given: many for tiny runs, few for big ones."""
    if r <= 10:
        return 50
    if r <= 10_000:
        return 5
    return 3


def default_warmup(r: int, repeats: int) -> int:
    """One untimed warm-up run for small sizes; none where a run takes seconds."""
    return 1 if repeats > 1 and r <= 10_000 else 0


def _maxrss_kib() -> int:
    import resource

    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kib // 1024 if sys.platform == "darwin" else kib  # macOS reports bytes


def _pin_one_cpu() -> int | None:
    """Pin this process to one CPU it may run on; return that CPU (None if unsupported)."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    return cpus[-1]


def run_one(r: int, repeats: int, warmup: int) -> dict:
    """Child side: measure one size and return a result dict (printed as one JSON line)."""
    cpu = _pin_one_cpu()
    rss_start = _maxrss_kib()
    t0 = time.perf_counter()
    import numpy as np

    from sim.engine.model import run_scenario
    from sim.inputs import load_scenario, with_overrides

    import_s = time.perf_counter() - t0
    rss_imports = _maxrss_kib()

    loaded = load_scenario(SCENARIO)
    scenario = with_overrides(loaded, replicas=r)
    assert scenario.replicas == r
    rss_loaded = _maxrss_kib()

    import resource

    times: list[float] = []
    cpu_user = cpu_sys = 0.0
    minor_faults = 0
    cold_s = None
    rounds_run = agreed_any = None
    for i in range(warmup + repeats):
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        model = run_scenario(scenario)
        dt = time.perf_counter() - t
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        if cold_s is None:
            cold_s = dt  # first run in this process, warm-up or not
        if i >= warmup:
            times.append(dt)
            cpu_user += ru1.ru_utime - ru0.ru_utime
            cpu_sys += ru1.ru_stime - ru0.ru_stime
            minor_faults += ru1.ru_minflt - ru0.ru_minflt
        rounds_run = int(model.steps)
        # share of replicas in which at least one agenda group agreed (a sanity figure)
        agreed_any = float((model.agreed_round >= 0).any(axis=0).mean())
        n_replicas = int(model.agreed_round.shape[1])
        assert n_replicas == r, (n_replicas, r)
        del model
        gc.collect()  # Mesa models hold reference cycles: free this one before the next run (untimed)

    times_sorted = sorted(times)
    median = float(np.median(times))
    return {
        "replicas": r,
        "repeats": repeats,
        "warmup": warmup,
        "median_s": median,
        "min_s": times_sorted[0],
        "max_s": times_sorted[-1],
        "cold_s": cold_s,
        "negotiations_per_s": r / median,
        "cpu_user_s_per_run": cpu_user / repeats,
        "cpu_sys_s_per_run": cpu_sys / repeats,
        "minor_page_faults_per_run": minor_faults // repeats,
        "rounds_run": rounds_run,
        "share_with_agreement": agreed_any,
        "import_s": import_s,
        "rss_start_kib": rss_start,
        "rss_after_imports_kib": rss_imports,
        "rss_after_load_kib": rss_loaded,
        "rss_peak_kib": _maxrss_kib(),
        "pinned_cpu": cpu,
        "threads_env": {k: os.environ.get(k) for k in THREAD_VARS},
    }


def run_child(r: int, repeats: int | None, warmup: int | None) -> dict:
    """Run ``--one R`` in a fresh single-core child process and return its result."""
    env = dict(os.environ)
    env.update({k: "1" for k in THREAD_VARS})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(r)]
    if repeats is not None:
        cmd += ["--repeats", str(repeats)]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child for R={r} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(r: int, repeats: int | None, warmup: int | None) -> dict:
    """Timing child (the repeats), then, if it ran more than once, a one-run memory child.

    Finished models are not freed inside one process (Mesa 3.3's class-level
    ``Agent._ids`` keeps a reference to every model), so a child that runs several times
    accumulates them; the peak RSS reported is therefore that of a fresh process doing
    exactly one run.
    """
    timing = run_child(r, repeats, warmup)
    memory = timing if timing["repeats"] + timing["warmup"] == 1 else run_child(r, 1, 0)
    result = dict(timing)
    result["rss_after_imports_kib"] = memory["rss_after_imports_kib"]
    result["rss_after_load_kib"] = memory["rss_after_load_kib"]
    result["rss_peak_kib"] = memory["rss_peak_kib"]
    result["rss_peak_one_run_s"] = memory["median_s"]
    result["rss_peak_timing_child_kib"] = timing["rss_peak_kib"]
    return result


def machine() -> dict:
    info: dict = {"nproc": os.cpu_count(), "python": platform.python_version(), "platform": platform.system()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            info["cpu"] = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), None)
    except OSError:
        info["cpu"] = platform.processor() or None
    if hasattr(os, "getloadavg"):
        info["loadavg_1min_at_start"] = round(os.getloadavg()[0], 2)
    if hasattr(os, "sched_getaffinity"):
        info["usable_cpus"] = len(os.sched_getaffinity(0))
    try:
        import numpy

        info["numpy"] = numpy.__version__
    except ImportError:
        info["numpy"] = None
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "sim"], cwd=ROOT, capture_output=True, text=True)
        info["git_head"] = head.stdout.strip() or None
        info["sim_dirty"] = bool(dirty.stdout.strip()) if dirty.returncode == 0 else None
    except OSError:
        pass
    return info


def targets(results: list[dict]) -> list[dict]:
    by_r = {res["replicas"]: res for res in results}
    out = []
    if 1 in by_r:
        ms = by_r[1]["median_s"] * 1e3
        out.append({"target": f"R=1 model time < {TARGET_R1_MS:g} ms", "measured": f"{ms:.2f} ms", "met": ms < TARGET_R1_MS})
    if TARGET_RATE_R in by_r:
        res = by_r[TARGET_RATE_R]
        rate = res["negotiations_per_s"]
        peak = res["rss_peak_kib"] * 1024
        out.append(
            {
                "target": f"R={TARGET_RATE_R:,} >= {TARGET_RATE:,.0f} negotiations/s (one core)",
                "measured": f"{rate:,.0f} /s",
                "met": rate >= TARGET_RATE,
            }
        )
        out.append(
            {
                "target": f"R={TARGET_RATE_R:,} peak RSS <= 2 GB",
                "measured": f"{peak / 2**20:,.0f} MiB",
                "met": peak <= TARGET_PEAK_BYTES,
            }
        )
    return out


def table(report: dict) -> str:
    m = report["machine"]
    git = f", git {m['git_head']}{' (sim/ modified)' if m.get('sim_dirty') else ''}" if m.get("git_head") else ""
    pinned = report["results"] and report["results"][0]["pinned_cpu"] is not None
    lines = [
        f"ceasefire-sim engine benchmark  {report['date']}",
        f"scenario: {report['scenario']}",
        f"machine: {m.get('cpu')}, nproc={m.get('nproc')}, Python {m.get('python')}, numpy {m.get('numpy')}{git}",
        "one core: each size in a fresh child process with OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1"
        + (", pinned to one CPU (sched_setaffinity)" if pinned else ""),
        f"load average (1 min) at start: {m.get('loadavg_1min_at_start')}"
        + ("  -- other processes were busy; times may be inflated" if (m.get("loadavg_1min_at_start") or 0) > 0.5 else ""),
        "model time = wall clock of run_scenario (build + run), excl. imports and scenario loading",
        "peak RSS = ru_maxrss of a fresh child process running the model once; 'RSS imports' = same child after imports",
        "sys CPU % = kernel share of the model's CPU time (page faults on large temporary arrays show up here);"
        " CPU/wall ~ 1 means the run had its core to itself",
        "",
    ]
    cols = [
        ("R", 9),
        ("repeats", 7),
        ("median ms", 11),
        ("min ms", 10),
        ("cold ms", 10),
        ("negotiations/s", 15),
        ("RSS imports MiB", 16),
        ("peak RSS MiB", 13),
        ("model +MiB", 11),
        ("sys CPU %", 10),
        ("CPU/wall", 9),
    ]
    head = " ".join(f"{name:>{width}}" for name, width in cols)
    lines += [head, "-" * len(head)]
    for r in report["results"]:
        base = r["rss_after_imports_kib"] / 1024
        peak = r["rss_peak_kib"] / 1024
        cpu_sys = r["cpu_sys_s_per_run"]
        cpu = r["cpu_user_s_per_run"] + cpu_sys
        values = [
            f"{r['replicas']:,}",
            str(r["repeats"]),
            f"{r['median_s'] * 1e3:.2f}",
            f"{r['min_s'] * 1e3:.2f}",
            f"{r['cold_s'] * 1e3:.2f}",
            f"{r['negotiations_per_s']:,.0f}",
            f"{base:.1f}",
            f"{peak:.1f}",
            f"{peak - base:.1f}",
            f"{100 * cpu_sys / max(cpu, 1e-12):.0f}",
            f"{cpu / r['median_s']:.2f}",
        ]
        lines.append(" ".join(f"{v:>{width}}" for v, (_, width) in zip(values, cols, strict=True)))
    if report["targets"]:
        lines += ["", "targets:"]
        for t in report["targets"]:
            lines.append(f"  [{'MET' if t['met'] else 'MISSED'}] {t['target']}: {t['measured']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,1000,100000", help="comma-separated replica counts (default: 1,1000,100000)")
    ap.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed runs per size (default: 50 for R<=10, 5 for R<=10000, 3 above); the median is reported",
    )
    ap.add_argument(
        "--warmup", type=int, default=None, help="untimed runs before timing (default: 1 for R<=10000 when repeats > 1, else 0)"
    )
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--one", type=int, metavar="R", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)

    if args.one is not None:
        repeats = args.repeats or default_repeats(args.one)
        warmup = args.warmup if args.warmup is not None else default_warmup(args.one, repeats)
        print(json.dumps(run_one(args.one, repeats, warmup)))
        return 0

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    info = machine()
    results = []
    for r in sizes:
        if not args.json:
            print(f"running R={r:,} ...", file=sys.stderr, flush=True)
        results.append(measure(r, args.repeats, args.warmup))
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scenario": SCENARIO_REL,
        "one_core": {"env": {k: "1" for k in THREAD_VARS}, "fresh_process_per_size": True},
        "machine": info,
        "results": results,
        "targets": targets(results),
    }
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
