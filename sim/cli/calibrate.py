"""``ceasefire calibrate``: calibrate an experiment's parameters to what happened (its
``observed`` block) by rejection ABC in waves, then check the calibrated model against the
observation; the method is ``sim.sweep.calibrate``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import note, progress_stream


def register(sub: Any) -> None:
    """Add the ``calibrate`` subcommand."""
    p = sub.add_parser("calibrate", help="calibrate an experiment's parameters to what was observed (ABC in waves)")
    p.add_argument("experiment", help="an experiment file with an 'observed:' block")
    p.add_argument("--out", required=True, help="folder for the waves, the posterior, corner.png and the check")
    p.add_argument(
        "--workers", type=int, help="local worker processes (default: this process for small waves, else the machine's cores)"
    )
    p.add_argument("--scheduler", help="a dask.distributed scheduler address")
    p.add_argument("--check-replicas", type=int, default=500, help="replicas of the re-run under the posterior (default 500)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=guarded_calibrate)


def guarded_calibrate(args: argparse.Namespace) -> int:
    """``cmd_calibrate``, with a write that fails (a full disk) told as what to do, exit 1:
    the waves finished so far stay in the folder and the same command goes on from them."""
    from sim.sweep.run import SweepAbortedError

    go_on = f"the waves finished so far are kept in {args.out}: run the same command again to go on"
    try:
        return cmd_calibrate(args)
    except SweepAbortedError as exc:
        what = str(exc).split("; finished chunks", 1)[0]
        print(f"ceasefire calibrate: {what}; {go_on}", file=sys.stderr)
    except OSError as exc:  # the posterior, its chart or the check written after the waves
        where = f" {exc.filename}" if exc.filename else ""
        print(f"ceasefire calibrate: could not write{where} ({exc.strerror or exc}); {go_on}", file=sys.stderr)
    return 1


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run the waves, write the posterior and its chart, re-run the calibrated model."""
    from sim.charts.calibration import corner_chart
    from sim.inputs.calibration import is_multi_case
    from sim.inputs.experiment import load_experiment
    from sim.results import write_json
    from sim.sweep.calibrate import acceptance_summary, calibrate, load_posterior, run_posterior

    if is_multi_case(args.experiment):
        return cmd_calibrate_cases(args)
    loaded = load_experiment(args.experiment)
    out = Path(args.out)
    report = calibrate(loaded, out, workers=args.workers, scheduler=args.scheduler, progress=progress_stream(args))
    posterior, _ = load_posterior(out)
    exp = loaded.experiment
    labels = {name: p.label or name for name, p in exp.parameters.items()}
    corner_chart(
        posterior,
        report.table,
        labels,
        out / "corner.png",
        title=f"Calibrated to what happened: {exp.name} ({report.waves[-1]['points']} points, "
        f"effective sample size {report.ess:.0f})",
    )
    model = run_posterior(loaded.base, out, replicas=args.check_replicas, seed=exp.seed)
    observed = exp.observed or {}
    predictive, matched = check_model(model, observed, args.check_replicas)
    write_json(out / "predictive.json", predictive)
    data = {"waves": report.waves, "posterior": json.loads(report.table.to_json(orient="index")), "check": predictive}
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    seen = ", ".join(f"{g}: {'agreed' if o.agreed else 'no deal'}" for g, o in observed.items())
    print(f"Calibration of {exp.name} to what happened ({seen})")
    print(acceptance_summary(report))
    print("\nposterior (prior range; median and 90% interval):")
    for name, row in report.table.iterrows():
        print(_posterior_line(labels[str(name)], row))
    print(f"\nre-run under the posterior ({args.check_replicas} replicas): {100 * matched:.1f}% of runs match what happened")
    _print_groups(predictive, "  ")
    note(args, f"wrote posterior.parquet, posterior.csv, calibration.json, corner.png and predictive.json to {out}")
    return 0


def _posterior_line(label: str, row: Any) -> str:
    """One calibrated number as the posterior table prints it: prior range, median, 90% interval."""
    return (f"  {label}: [{row['prior_low']:g}, {row['prior_high']:g}] -> {row['median']:.4g} "
            f"({row['q05']:.4g} to {row['q95']:.4g})")


def check_model(model: Any, observed: dict[str, Any], replicas: int) -> tuple[dict[str, Any], float]:
    """The re-run of a calibrated model against what was observed: per group the agreement
    rate and mean terms, and the share of its runs matching every observed group."""
    import pandas as pd

    from sim.results import replica_table, summary
    from sim.sweep.calibrate import matches

    check = summary(model)
    table = replica_table(model)
    wide = {}
    for group in observed:
        part = table[table["group"] == group].reset_index(drop=True)
        wide[f"agreed.{group}"] = part["agreed"].to_numpy()
        wide[f"round.{group}"] = part["round"].fillna(0).to_numpy()
        for issue in observed[group].terms:
            wide[f"outcome.{group}.{issue}"] = part[issue].to_numpy()
    matched = float(matches(pd.DataFrame(wide), observed).mean())
    return {
        "replicas": replicas,
        "matched": round(matched, 6),
        "groups": {
            g: {
                "observed_agreed": observed[g].agreed,
                "agreement_rate": check["groups"][g]["agreement_rate"],
                "agreement_rate_ci95": check["groups"][g]["agreement_rate_ci95"],
                "mean_outcome": check["groups"][g]["mean_outcome"],
            }
            for g in observed
        },
    }, matched


def _print_groups(predictive: dict[str, Any], indent: str) -> None:
    for g, entry in predictive["groups"].items():
        lo, hi = entry["agreement_rate_ci95"]
        print(
            f"{indent}{g}: agreed in {100 * entry['agreement_rate']:.1f}% (95% CI {100 * lo:.1f}-{100 * hi:.1f}%); "
            f"observed: {'agreed' if entry['observed_agreed'] else 'no deal'}"
        )


def cmd_calibrate_cases(args: argparse.Namespace) -> int:
    """A multi-case file: the waves over every case, the posterior, its chart, and each case re-run."""
    from sim.charts.calibration import CASES_CAPTION, corner_chart
    from sim.inputs.calibration import load_cases
    from sim.results import write_json
    from sim.sweep.calibrate import load_posterior, run_posterior
    from sim.sweep.calibrate_cases import CASES, acceptance_lines, calibrate_cases

    loaded = load_cases(args.experiment)
    out = Path(args.out)
    report = calibrate_cases(loaded, out, workers=args.workers, scheduler=args.scheduler, progress=progress_stream(args))
    posterior, _ = load_posterior(out)
    exp = loaded.experiment
    labels = {name: p.label or name for name, p in exp.parameters.items()}
    corner_chart(
        posterior,
        report.table,
        labels,
        out / "corner.png",
        title=f"Calibrated to what happened in {len(exp.cases)} cases ({', '.join(exp.cases)}): {exp.name} "
        f"({report.waves[-1]['points']} points, effective sample size {report.ess:.0f})",
        caption=CASES_CAPTION,
    )
    per_case = {}
    joint = 1.0  # independent runs of the cases: the chance one run of each matches its case
    for case, one in loaded.cases.items():
        model = run_posterior(one.base, out / CASES / case, replicas=args.check_replicas, seed=one.experiment.seed)
        per_case[case], rate = check_model(model, exp.cases[case].observed, args.check_replicas)
        joint *= rate
    predictive = {"replicas": args.check_replicas, "matched_every_case": round(joint, 6), "cases": per_case}
    write_json(out / "predictive.json", predictive)
    data = {"waves": report.waves, "posterior": json.loads(report.table.to_json(orient="index")), "check": predictive}
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    print(f"Calibration of {exp.name} to what happened in {len(exp.cases)} cases at once")
    for case, spec in exp.cases.items():
        seen = ", ".join(f"{g}: {'agreed' if o.agreed else 'no deal'}" for g, o in spec.observed.items())
        print(f"  {case} ({spec.scenario}): {seen}")
    print(acceptance_lines(report))
    print("\nposterior (prior range; median and 90% interval):")
    for name, row in report.table.iterrows():
        param = exp.parameters[str(name)]
        scope = "shared by every case" if param.cases is None else "in " + ", ".join(param.cases)
        print(_posterior_line(f"{labels[str(name)]} ({scope}{', a scale' if param.scale else ''})", row))
    print(f"\nre-run under the posterior ({args.check_replicas} replicas per case):")
    for case, entry in per_case.items():
        print(f"  {case}: {100 * entry['matched']:.1f}% of runs match what happened")
        _print_groups(entry, "    ")
    print(f"  every case at once (one run of each): {100 * joint:.1f}%")
    note(args, f"wrote posterior.parquet, posterior.csv, calibration.json, corner.png, predictive.json and {CASES}/ to {out}")
    return 0
