"""``ceasefire sweep``, ``ceasefire sweep analyze`` and ``ceasefire plot``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import MEMORY_BUDGET_HELP, add_verbosity, detail, note, progress_stream
from sim.errors import InputError, Problem


def register(sub: Any) -> None:
    """Add the sweep and plot commands to the ``ceasefire`` subparsers."""
    sweep = sub.add_parser(
        "sweep",
        help="run a parameter sweep of an experiment file (or `sweep analyze DIR` for sensitivity indices)",
        description="Run an experiment's design points on local processes or a dask cluster. "
        "Re-running into the same DIR (or --resume DIR) computes only what is missing. "
        "`ceasefire sweep analyze DIR` prints the sensitivity indices of a Sobol' or Morris sweep.",
    )
    sweep.add_argument("experiment", nargs="?", help="an experiment file (experiments/*.yaml)")
    sweep.add_argument("--out", help="the sweep folder (manifest, design, shards)")
    sweep.add_argument("--resume", metavar="DIR", help="go on with the unfinished sweep in DIR")
    sweep.add_argument("--workers", type=int, help="local worker processes (default: the machine's cores; 1: in this process)")
    sweep.add_argument("--scheduler", help="a dask.distributed scheduler address (default: $DASK_SCHEDULER_ADDRESS)")
    sweep.add_argument("--chunk", type=int, help="runs (point, replica pairs) per task (default: the experiment's)")
    sweep.add_argument("--memory-budget", metavar="SIZE", help=MEMORY_BUDGET_HELP + ", per task")
    sweep.set_defaults(func=cmd_sweep)

    plot = sub.add_parser("plot", help="charts of a sweep: heatmap, lines with bands, convergence of chosen points")
    plot.add_argument("dir", help="a sweep folder")
    plot.add_argument("--group", help="agenda group whose agreement rate is drawn (default: the experiment's)")
    plot.add_argument("--x", help="parameter on the x axis (default: the experiment's, else the first)")
    plot.add_argument("--y", help="parameter on the y axis of the heatmap and the lines' legend (default: the second)")
    plot.add_argument(
        "--points",
        help="comma-separated design points for convergence charts (default: the lowest and highest value of the metric)",
    )
    plot.add_argument(
        "--metric",
        help="result column to draw (default: agreed.GROUP; e.g. round.security, outcome.humanitarian.prisoner_exchange)",
    )
    plot.add_argument("--out", help="folder for the PNGs (default: DIR/plots)")
    plot.set_defaults(func=cmd_plot)


def analyze_parser() -> argparse.ArgumentParser:
    """The parser of ``ceasefire sweep analyze``."""
    parser = argparse.ArgumentParser(
        prog="ceasefire sweep analyze", description="Sensitivity indices of a finished sweep (SALib)."
    )
    parser.add_argument("dir", help="a sweep folder")
    parser.add_argument(
        "--method", choices=["sobol", "morris"], help="sobol or morris (default: the sweep's own design, from its manifest)"
    )
    parser.add_argument("--metric", help="result column (default: the agreement rate of the experiment's plot group)")
    parser.add_argument("--out", help="folder for sensitivity.png and sensitivity.csv (default: DIR)")
    add_verbosity(parser)
    parser.set_defaults(func=cmd_analyze)
    return parser


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run or resume a sweep and summarise it."""
    from sim.cli.common import memory_budget_option
    from sim.sweep.run import SweepAbortedError, run_sweep
    from sim.sweep.store import read_sweep_manifest

    if args.resume:
        if args.experiment or (args.out and Path(args.out) != Path(args.resume)):
            raise InputError(
                [
                    Problem(
                        "command line",
                        None,
                        "--resume",
                        "DIR alone (the experiment is in its manifest)",
                        "an experiment or --out as well",
                    )
                ]
            )
        out = Path(args.resume)
        experiment: str | Path = read_sweep_manifest(out)["experiment"]["file"]
        if not Path(experiment).is_file():
            raise InputError(
                [
                    Problem(
                        str(out / "manifest.json"),
                        None,
                        "experiment.file",
                        "the experiment file, still there",
                        f"{experiment!r} is gone",
                    )
                ]
            )
    else:
        if not args.experiment or not args.out:
            raise InputError(
                [
                    Problem(
                        "command line",
                        None,
                        "sweep",
                        "EXPERIMENT --out DIR, or --resume DIR",
                        "missing " + ("EXPERIMENT" if not args.experiment else "--out DIR"),
                    )
                ]
            )
        out, experiment = Path(args.out), args.experiment
    scheduler = args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    budget = memory_budget_option(args.memory_budget)
    try:
        report = run_sweep(
            experiment,
            out,
            workers=args.workers,
            scheduler=scheduler,
            chunk=args.chunk,
            memory_budget=budget,
            progress=progress_stream(args),
        )
    except SweepAbortedError as exc:
        print(f"ceasefire sweep: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"ceasefire sweep: interrupted; finished chunks are saved in {out}: run the same command again, "
            f"or `ceasefire sweep --resume {out}`, to go on",
            file=sys.stderr,
        )
        return 130
    rate = report.runs_now / report.seconds if report.seconds > 0 else 0.0
    manifest = read_sweep_manifest(out)
    detail(args, f"{manifest['design']['method']} design; {manifest['chunks']} chunks of up to {manifest['chunk']:,} runs "
           f"({'--chunk' if args.chunk else 'the experiment'}); {'dask at ' + scheduler if scheduler else 'local processes'}")
    note(args, f"{report.points} design points x {report.runs // max(1, report.points)} replicas = {report.runs:,} runs in {out}")
    note(args, f"this time: {report.runs_now:,} runs in {report.seconds:.1f} s ({rate:,.0f} runs/s)")
    if report.failed:
        print(f"{len(report.failed)} design point(s) failed; their errors are in load_results(DIR)['error']:", file=sys.stderr)
        for point, message in list(report.failed.items())[:10]:
            print(f"  point {point}: {message}", file=sys.stderr)
        return 1
    note(args, "read it with: python -c \"from sim.sweep import load_results; print(load_results('" + str(out) + "'))\"")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Print sensitivity indices and write their bar chart."""
    from sim.charts.sweep import sensitivity_chart
    from sim.cli.common import prepare_out
    from sim.sweep.sensitivity import analyze
    from sim.sweep.store import read_sweep_manifest

    table = analyze(args.dir, args.method, args.metric)
    manifest = read_sweep_manifest(Path(args.dir))
    given = "--method" if args.method else "the sweep's own design"
    detail(args, f"method: {table.attrs['method']} ({given}); metric: {table.attrs['metric']}")
    out = prepare_out(args.out or args.dir)
    assert out is not None
    print(
        f"{table.attrs['method']} indices of {table.attrs['metric']} over {table.attrs['points']} design points "
        "(95% bootstrap intervals):"
    )
    print(table.round(4).to_string())
    table.to_csv(out / "sensitivity.csv")
    sensitivity_chart(table, manifest, out / "sensitivity.png")
    note(args, f"wrote sensitivity.csv and sensitivity.png to {out}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    """Heatmap, lines with bands and convergence charts of a sweep."""
    from sim.charts.sweep import heatmap, lines
    from sim.cli.common import claim_out
    from sim.sweep.results import check_metric, default_group, load_results

    frame = load_results(args.dir)
    manifest = frame.attrs["manifest"]
    names: list[str] = frame.attrs["parameters"]
    spec = manifest["experiment"]["definition"].get("plot", {})
    groups = list(manifest["groups"])
    group = args.group or default_group(manifest)
    where = str(args.dir)
    if group not in groups:
        raise InputError([Problem(where, None, "--group", f"an agenda group ({', '.join(groups)})", repr(group))])
    x = args.x or spec.get("x") or names[0]
    y = args.y or spec.get("y") or next((n for n in names if n != x), None)
    for flag, value in (("--x", x), ("--y", y)):
        if value is not None and value not in names:
            raise InputError([Problem(where, None, flag, f"a swept parameter ({', '.join(names)})", repr(value))])
    metric = args.metric or f"agreed.{group}"
    check_metric(frame, metric, where)  # says so when every point failed
    points = _chosen_points(args.points, frame, metric, where)
    detail(args, f"group {group}, x {x}, y {y}, metric {metric}, convergence charts of points {points or 'none'}")
    loaded = _swept_experiment(manifest) if points else None
    folder = claim_out(args.out or str(Path(args.dir) / "plots"), "plot")
    assert folder is not None
    out = folder.path
    written = [*(["heatmap.png"] if y is not None and y != x else []), "lines.png"]
    written += [f"convergence_point{point}.png" for point in points]
    folder.writing(written)
    if y is not None and y != x:
        heatmap(frame, x, y, metric, out / "heatmap.png")
    lines(frame, x, y if y != x else None, metric, out / "lines.png")
    for point in points:
        _convergence(loaded, frame, point, out / f"convergence_point{point}.png")
    folder.written(written)
    note(args, f"wrote {', '.join(written)} to {out}")
    return 0


def _chosen_points(text: str | None, frame: Any, metric: str, where: str) -> list[int]:
    valid = frame.dropna(subset=[metric])
    if text is None:
        if valid.empty:
            return []
        ordered = valid.sort_values([metric, "point"])
        return sorted({int(ordered["point"].iloc[0]), int(ordered["point"].iloc[-1])})
    try:
        points = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise InputError([Problem(where, None, "--points", "comma-separated point numbers", repr(text))]) from None
    bad = [p for p in points if p not in set(frame["point"])]
    if bad:
        raise InputError([Problem(where, None, "--points", f"points 0..{len(frame) - 1}", ", ".join(map(str, bad)))])
    return points


def _convergence(loaded: Any, frame: Any, point: int, path: Path) -> None:
    """Re-run one design point (deterministic: same seed, same replicas) and draw its convergence chart."""
    from sim.charts.negotiation import convergence_chart
    from sim.results import run_outcome

    row = frame.loc[frame["point"] == point].iloc[0]
    names: list[str] = frame.attrs["parameters"]
    outcome = run_outcome(loaded.point_scenario(point, {name: float(row[name]) for name in names}))
    params = ", ".join(f"{name.split('.')[-1]} {row[name]:.3g}" for name in names)
    convergence_chart(outcome, path, title=f"{loaded.experiment.name}, design point {point} ({params})")


def _swept_experiment(manifest: dict[str, Any]) -> Any:
    """The experiment a sweep ran, loaded again and checked unchanged (to re-run its points)."""
    from sim.inputs.experiment import load_experiment

    loaded = load_experiment(manifest["experiment"]["file"])
    if loaded.sha256 != manifest["experiment"]["sha256"] or loaded.base.sha256 != manifest["scenario"]["sha256"]:
        raise InputError(
            [
                Problem(
                    manifest["experiment"]["file"],
                    None,
                    "sha256",
                    "the experiment and scenario the sweep ran (needed to re-run a point for its convergence chart)",
                    "files changed since",
                )
            ]
        )
    return loaded
