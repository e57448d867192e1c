"""``ceasefire calibrate``: calibrate an experiment's parameters to what happened (its
``observed`` block) by rejection ABC in waves, then check the calibrated model against the
observation; the method is ``sim.sweep.calibrate``.
"""

from __future__ import annotations

import argparse
import json
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
    p.set_defaults(func=cmd_calibrate)


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Run the waves, write the posterior and its chart, re-run the calibrated model."""
    from sim.charts.calibration import corner_chart
    from sim.inputs.experiment import load_experiment
    from sim.results import summary, write_json
    from sim.sweep.calibrate import acceptance_summary, calibrate, load_posterior, matches, run_posterior

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
    check = summary(model)
    observed = exp.observed or {}
    from sim.results import replica_table

    table = replica_table(model)
    wide = {}
    for group in observed:
        part = table[table["group"] == group].reset_index(drop=True)
        wide[f"agreed.{group}"] = part["agreed"].to_numpy()
        wide[f"round.{group}"] = part["round"].fillna(0).to_numpy()
        for issue in observed[group].terms:
            wide[f"outcome.{group}.{issue}"] = part[issue].to_numpy()
    import pandas as pd

    matched = float(matches(pd.DataFrame(wide), observed).mean())
    predictive = {
        "replicas": args.check_replicas,
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
    }
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
        print(
            f"  {labels[str(name)]}: [{row['prior_low']:g}, {row['prior_high']:g}] -> {row['median']:.4g} "
            f"({row['q05']:.4g} to {row['q95']:.4g})"
        )
    print(f"\nre-run under the posterior ({args.check_replicas} replicas): {100 * matched:.1f}% of runs match what happened")
    for g, entry in predictive["groups"].items():
        lo, hi = entry["agreement_rate_ci95"]
        print(
            f"  {g}: agreed in {100 * entry['agreement_rate']:.1f}% (95% CI {100 * lo:.1f}-{100 * hi:.1f}%); "
            f"observed: {'agreed' if entry['observed_agreed'] else 'no deal'}"
        )
    note(args, f"wrote posterior.parquet, posterior.csv, calibration.json, corner.png and predictive.json to {out}")
    return 0
