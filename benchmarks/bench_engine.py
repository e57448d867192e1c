"""Engine benchmark: model time, negotiations per second and peak memory on one core.

Runs the bundled baseline scenario ``scenarios/istanbul_2025.yaml`` (or, with
``--big-group``, the same parties over one agenda group of its five issues at 11 levels
each: 161,051 candidates) at several replica counts R. Each size runs in a fresh child
process (``--one R``) so that its peak RSS is its own; the child environment sets
OMP_NUM_THREADS=OPENBLAS_NUM_THREADS=MKL_NUM_THREADS=1 and, where the OS allows, pins the
child to a single CPU.

Usage::

    python benchmarks/bench_engine.py                       # R = 1, 1000, 100000
    python benchmarks/bench_engine.py --sizes 1000000 --repeats 1
    python benchmarks/bench_engine.py --big-group --sizes 1000 --repeats 1
    python benchmarks/bench_engine.py --engine single       # one model over all R, as before blocks
    python benchmarks/bench_engine.py --json                # one JSON object on stdout

Measured per size:

* model time per run: wall clock (``time.perf_counter``) of the run ``ceasefire run``
  makes: ``sim.results.run_outcome`` (replicas in blocks sized from the memory budget, each
  compiled into a ``NegotiationModel`` and run to the end, gathered into one outcome;
  ``--keep-trace`` also keeps the per-round trace, as ``--out`` does), or with ``--engine
  single`` ``sim.engine.model.run_scenario`` (one model over all R), excluding imports,
  scenario loading and setting the replica count. CPU time (user + sys) is reported
  beside it: on a shared machine it is the steadier figure. The median over
  the repeats is reported (default 50 repeats for R <= 10, 5 up to 10,000, 3 above,
  after one untimed warm-up run up to R = 10,000), with the minimum and the cold time
  (the first run in the process).
* negotiations per second: R / median model time (every replica is one negotiation run
  to agreement or to the deadline).
* peak RSS: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end of a fresh child
  that runs the model exactly once (KiB on Linux), next to the peak RSS right after
  imports, so that the model's own increment is visible. (A separate child, because
  finished models are not freed within a process: see ``measure``.)

Targets (from the issues): R = 1 in under 50 ms of model time; at least 100,000
negotiations per second on one core at R = 100,000 within 1 GB peak RSS; R = 1,000,000
within 1 GB; 161,051 candidates in one group at >= 500 negotiations per second at
R = 1,000 within 2 GB.
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
TARGET_RATE = 100_000.0
TARGET_PEAK_BYTES = 2**30
TARGET_MILLION_PEAK_BYTES = 2**30
TARGET_BIG_R = 1_000
TARGET_BIG_RATE = 500.0
TARGET_BIG_PEAK_BYTES = 2 * 2**30


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


def big_group(r: int):
    """The baseline's parties over one agenda group of all five issues at 11 levels each
    (11^5 = 161,051 candidates), checked as a file is."""
    from sim.inputs import load_scenario
    from sim.inputs.scenario import check_scenario

    data = load_scenario(SCENARIO).scenario.model_dump(mode="python")
    for issue in data["issues"].values():
        issue["levels"] = 11
    data["agenda"] = {"security": list(data["issues"])}  # the events name the security group
    data["replicas"] = r
    return check_scenario(data, "big group")


def run_one(r: int, repeats: int, warmup: int, engine: str = "blocks", keep_trace: bool = False,
            big: bool = False) -> dict:
    """Child side: measure one size and return a result dict (printed as one JSON line)."""
    cpu = _pin_one_cpu()
    rss_start = _maxrss_kib()
    t0 = time.perf_counter()
    import numpy as np

    from sim.engine.blocks import block_size
    from sim.engine.model import run_scenario
    from sim.inputs import load_scenario, with_overrides
    from sim.results import run_outcome

    import_s = time.perf_counter() - t0
    rss_imports = _maxrss_kib()

    scenario = big_group(r) if big else with_overrides(load_scenario(SCENARIO), replicas=r)
    assert scenario.replicas == r
    rss_loaded = _maxrss_kib()

    def run() -> object:
        if engine == "single":
            return run_scenario(scenario)
        return run_outcome(scenario, trace=keep_trace)

    import resource

    times: list[float] = []
    cpu_user = cpu_sys = 0.0
    minor_faults = 0
    cold_s = None
    rounds_run = agreed_any = None
    for i in range(warmup + repeats):
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        model = run()
        dt = time.perf_counter() - t
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        if cold_s is None:
            cold_s = dt  # first run in this process, warm-up or not
        if i >= warmup:
            times.append(dt)
            cpu_user += ru1.ru_utime - ru0.ru_utime
            cpu_sys += ru1.ru_stime - ru0.ru_stime
            minor_faults += ru1.ru_minflt - ru0.ru_minflt
        rounds_run = int(model.steps) if hasattr(model, "steps") else None
        # share of replicas in which at least one agenda group agreed (a sanity figure)
        agreed_any = float((model.agreed_round >= 0).any(axis=0).mean())  # type: ignore[attr-defined]
        n_replicas = int(model.agreed_round.shape[1])  # type: ignore[attr-defined]
        assert n_replicas == r, (n_replicas, r)
        del model
        gc.collect()  # Mesa models hold reference cycles: free this one before the next run (untimed)

    times_sorted = sorted(times)
    median = float(np.median(times))
    return {
        "replicas": r,
        "engine": engine,
        "keep_trace": keep_trace,
        "big_group": big,
        "block": min(block_size(scenario, trace=keep_trace), r) if engine == "blocks" else r,
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


def run_child(r: int, repeats: int | None, warmup: int | None, flags: list[str]) -> dict:
    """Run ``--one R`` in a fresh single-core child process and return its result."""
    env = dict(os.environ)
    env.update({k: "1" for k in THREAD_VARS})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--one", str(r), *flags]
    if repeats is not None:
        cmd += ["--repeats", str(repeats)]
    if warmup is not None:
        cmd += ["--warmup", str(warmup)]
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"child for R={r} failed with exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(r: int, repeats: int | None, warmup: int | None, flags: list[str]) -> dict:
    """Timing child (the repeats), then, if it ran more than once, a one-run memory child.

    Finished models are not freed inside one process (Mesa 3.3's class-level
    ``Agent._ids`` keeps a reference to every model), so a child that runs several times
    accumulates them; the peak RSS reported is therefore that of a fresh process doing
    exactly one run.
    """
    timing = run_child(r, repeats, warmup, flags)
    memory = timing if timing["repeats"] + timing["warmup"] == 1 else run_child(r, 1, 0, flags)
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
    by_r = {res["replicas"]: res for res in results if not res.get("big_group")}
    big = {res["replicas"]: res for res in results if res.get("big_group")}
    out = []
    if 1 in by_r:
        ms = by_r[1]["median_s"] * 1e3
        out.append({"target": f"R=1 model time < {TARGET_R1_MS:g} ms", "measured": f"{ms:.2f} ms", "met": ms < TARGET_R1_MS})
    if TARGET_RATE_R in by_r:
        res = by_r[TARGET_RATE_R]
        rate = res["negotiations_per_s"]
        cpu_rate = TARGET_RATE_R / (res["cpu_user_s_per_run"] + res["cpu_sys_s_per_run"])
        peak = res["rss_peak_kib"] * 1024
        out.append(
            {
                "target": f"R={TARGET_RATE_R:,} >= {TARGET_RATE:,.0f} negotiations/s (one core)",
                "measured": f"{rate:,.0f} /s wall, {cpu_rate:,.0f} /s of CPU time",
                "met": rate >= TARGET_RATE,
            }
        )
        out.append({"target": f"R={TARGET_RATE_R:,} peak RSS <= 1 GiB", "measured": f"{peak / 2**20:,.0f} MiB",
                    "met": peak <= TARGET_PEAK_BYTES})
    if 1_000_000 in by_r:
        peak = by_r[1_000_000]["rss_peak_kib"] * 1024
        out.append({"target": "R=1,000,000 peak RSS <= 1 GiB", "measured": f"{peak / 2**20:,.0f} MiB",
                    "met": peak <= TARGET_MILLION_PEAK_BYTES})
    if TARGET_BIG_R in big:
        res = big[TARGET_BIG_R]
        peak = res["rss_peak_kib"] * 1024
        out.append({"target": f"161,051 candidates, R={TARGET_BIG_R:,}: >= {TARGET_BIG_RATE:g} negotiations/s",
                    "measured": f"{res['negotiations_per_s']:,.0f} /s", "met": res["negotiations_per_s"] >= TARGET_BIG_RATE})
        out.append({"target": f"161,051 candidates, R={TARGET_BIG_R:,}: peak RSS <= 2 GiB",
                    "measured": f"{peak / 2**20:,.0f} MiB", "met": peak <= TARGET_BIG_PEAK_BYTES})
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
        f"model time = wall clock of {'run_scenario (one model)' if report['engine'] == 'single' else 'run_outcome (blocks)'}"
        f"{', trace kept' if report['keep_trace'] else ''}, excl. imports and scenario loading; CPU = user + sys of the run",
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
        ("per CPU s", 11),
        ("block", 7),
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
            f"{r['replicas'] / max(cpu, 1e-12):,.0f}",
            f"{r['block']:,}",
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
    ap.add_argument("--engine", choices=["blocks", "single"], default="blocks",
                    help="blocks: run_outcome as `ceasefire run` does (default); single: one model over all R")
    ap.add_argument("--keep-trace", action="store_true", help="keep the per-round trace (as `run --out` does)")
    ap.add_argument("--big-group", action="store_true", help="one agenda group of 161,051 candidates")
    ap.add_argument("--one", type=int, metavar="R", help=argparse.SUPPRESS)  # child mode
    args = ap.parse_args(argv)

    if args.one is not None:
        repeats = args.repeats or default_repeats(args.one)
        warmup = args.warmup if args.warmup is not None else default_warmup(args.one, repeats)
        print(json.dumps(run_one(args.one, repeats, warmup, args.engine, args.keep_trace, args.big_group)))
        return 0

    flags = ["--engine", args.engine] + (["--keep-trace"] if args.keep_trace else []) + (
        ["--big-group"] if args.big_group else [])

    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    info = machine()
    results = []
    for r in sizes:
        if not args.json:
            print(f"running R={r:,} ...", file=sys.stderr, flush=True)
        results.append(measure(r, args.repeats, args.warmup, flags))
    report = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "scenario": SCENARIO_REL + (" as one group of 161,051 candidates" if args.big_group else ""),
        "engine": args.engine,
        "keep_trace": args.keep_trace,
        "one_core": {"env": {k: "1" for k in THREAD_VARS}, "fresh_process_per_size": True},
        "machine": info,
        "results": results,
        "targets": targets(results),
    }
    print(json.dumps(report, indent=2) if args.json else table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
