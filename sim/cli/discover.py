"""``ceasefire discover``: PRIM scenario discovery on a finished sweep's results: the box
of parameter values where an outcome holds, its limits with their significance, and the
peeling trajectory chart.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sim.cli.common import note, prepare_out


def register(sub: Any) -> None:
    """Add the ``discover`` subcommand."""
    p = sub.add_parser("discover", help="find the box of parameter values where an outcome holds (PRIM) in a sweep")
    p.add_argument("sweep", help="a sweep folder (from `ceasefire sweep`)")
    p.add_argument("--metric", default=None, help="a result column (default: agreed.<the sweep's group>)")
    level = p.add_mutually_exclusive_group(required=True)
    level.add_argument("--above", type=float, help="cases of interest: points whose metric is above this")
    level.add_argument("--below", type=float, help="cases of interest: points whose metric is below this")
    p.add_argument(
        "--min-density",
        type=float,
        default=0.8,
        help="report the box of largest coverage among peeling steps at least this dense (default 0.8)",
    )
    p.add_argument("--out", help="folder for trajectory.png, box.csv and trajectory.csv")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_discover)


def cmd_discover(args: argparse.Namespace) -> int:
    """Run PRIM and report the box."""
    from sim.results import write_table
    from sim.sweep.discovery import discover
    from sim.sweep.results import default_group, load_results

    out = prepare_out(args.out)
    frame = load_results(args.sweep)
    metric = args.metric or f"agreed.{default_group(frame.attrs['manifest'])}"
    found = discover(frame, metric, above=args.above, below=args.below, min_density=args.min_density)
    if out is not None:
        from sim.charts.discovery import trajectory_chart

        name = frame.attrs["manifest"]["experiment"]["name"]
        trajectory_chart(found, out / "trajectory.png", title=f"Where {found.rule}: PRIM peeling trajectory ({name})")
        write_table(out / "box.csv", found.limits.reset_index())
        write_table(out / "trajectory.csv", found.trajectory)
    data = {
        "rule": found.rule,
        "cases": found.cases,
        "points": found.points,
        "coverage": round(found.coverage, 6),
        "density": round(found.density, 6),
        "restricted": found.restricted,
        "min_density_reached": found.density >= args.min_density,
        "limits": {name: {k: float(v) for k, v in row.items()} for name, row in found.limits.iterrows()},
    }
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    print(f"Cases of interest: {found.rule}, {found.cases} of {found.points} design points")
    print(
        f"Box: coverage {found.coverage:.2f} (share of the cases inside it), density {found.density:.2f} "
        f"(share of its points that are cases), {found.restricted} parameter(s) restricted"
    )
    if found.density < args.min_density:
        print(f"  no peeling step reaches density {args.min_density:g}: this is the densest one "
              "(lower --min-density to trade density for coverage)")
    if found.limits.empty:
        print("  no parameter restricted: at this density the whole design space qualifies (raise --min-density)")
    for name, row in found.limits.iterrows():
        print(f"  {name}: {row['min']:.4g} to {row['max']:.4g} (quasi-p-value {row['qp']:.2g})")
    if out is not None:
        note(args, f"wrote trajectory.png, box.csv and trajectory.csv to {Path(args.out)}")
    return 0
