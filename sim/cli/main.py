"""The ``ceasefire`` command line: the parser, and the scenario commands (run, analyze,
validate, list); sweeps are ``sim.cli.sweep``, the page ``sim.cli.app``
and the real cases ``sim.cli.cases``.

Bad input prints the problems (file:line: field: expected ..., found ...) on stderr and
exits 2, without a traceback; nothing is written before the input is known to be good.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.common import EXIT_INPUT, MEMORY_BUDGET_HELP, memory_budget_option, prepare_out
from sim.errors import InputError

if TYPE_CHECKING:  # each command imports what it uses when it runs: `--help` and `list` stay light
    from sim.inputs.schema import Scenario


def print_summary(data: dict[str, Any]) -> None:
    """The human-readable run summary."""
    from sim.results import format_number

    print(f"{data['title']}")
    print(f"Question: {data['question']}")
    print(f"{data['replicas']} replicas, seed {data['seed']}, {data['protocol'].replace('_', ' ')} over {data['rounds']} rounds")
    for name, group in data["groups"].items():
        lo, hi = group["agreement_rate_ci95"]
        print()
        print(f"{name} ({', '.join(group['issues'])})")
        line = f"  agreed in {100 * group['agreement_rate']:.1f}% of replicas (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"
        if group["mean_round"] is not None:
            line += f", mean round {group['mean_round']:.1f}"
        print(line)
        if group["agreed"]:
            for issue, value in group["mean_outcome"].items():
                low, high = group["outcome_interval90"][issue]
                units = group["units"][issue]
                spread = f"90% of agreements {format_number(low)} to {format_number(high)}"
                print(f"  {issue}: {format_number(value)} {units} ({spread})")
            payoffs = ", ".join(
                f"{party} {u:.2f} vs war {group['mean_war_payoff'][party]:.2f}" for party, u in group["mean_utility"].items()
            )
            print(f"  mean utility of the agreement: {payoffs}")
        else:
            print("  no agreement in any replica")
        if "nash" in group:
            nash = group["nash"]
            if nash.get("outcome"):
                terms = ", ".join(f"{k} {format_number(v)}" for k, v in nash["outcome"].items())
                print(f"  Nash bargaining solution (documented positions): {terms}")
            else:
                print("  Nash bargaining solution (documented positions): none - no outcome beats war for both")


def cmd_run(args: argparse.Namespace) -> int:
    """``ceasefire run``: simulate a scenario and report."""
    from sim.inputs.scenario import load_scenario, with_overrides
    from sim.results import replica_table, run_outcome, summary, trace_quantiles, trace_replicas, write_json, write_table

    loaded = load_scenario(args.scenario)
    scenario = with_overrides(loaded, replicas=args.replicas, seed=args.seed, rounds=args.rounds)
    budget = memory_budget_option(args.memory_budget)
    prepare_out(args.out)
    started = time.perf_counter()
    if args.posterior is not None:  # one stacked model over every replica, as calibrate runs it
        from sim.sweep.calibrate import run_posterior

        model = run_posterior(loaded.model_copy(update={"scenario": scenario}), args.posterior)
    else:
        model = run_outcome(scenario, budget=budget, trace=args.out is not None)  # the trace only feeds --out files
    elapsed = time.perf_counter() - started
    data = summary(model)
    _add_theory(data, scenario)
    if args.posterior is not None:
        data["posterior"] = str(Path(args.posterior).resolve())
    data["scenario_sha256"] = loaded.sha256
    data["version"] = _version()
    if args.out is not None:
        out = Path(args.out)
        write_json(out / "summary.json", data)
        trace = trace_quantiles(model)
        write_table(out / "trace.csv", trace)
        write_table(out / "trace.parquet", trace)
        agreements = replica_table(model)
        write_table(out / "replicas.csv", agreements)
        if args.full_trace:
            write_table(out / "trace_replicas.parquet", trace_replicas(model))
        from sim.charts.negotiation import convergence_chart

        convergence_chart(model, out / "convergence.png", trace=trace, agreement=agreements)
    if args.json:
        print(json.dumps(data, sort_keys=True))
    else:
        print_summary(data)
        print(f"\n({scenario.replicas} negotiations in {elapsed:.2f} s)")
        if args.out is not None:
            print(f"wrote summary.json, trace.csv, trace.parquet, replicas.csv and convergence.png to {args.out}")
    return 0


def _add_theory(data: dict[str, Any], scenario: Scenario) -> None:
    """Put each group's Nash bargaining solution beside the simulated agreement."""
    from sim.analysis import nash_by_group

    for name, nash in nash_by_group(scenario).items():
        data["groups"][name]["nash"] = nash


def cmd_analyze(args: argparse.Namespace) -> int:
    """``ceasefire analyze``: zones of agreement, bargaining solutions, spatial forecasts."""
    from sim.analysis import SOLUTIONS, analyze, simulated_distances
    from sim.engine.blocks import run_blocks
    from sim.inputs.scenario import load_scenario, with_overrides
    from sim.results import format_number

    loaded = load_scenario(args.scenario)
    scenario = with_overrides(loaded, replicas=args.replicas, seed=args.seed)
    budget = memory_budget_option(args.memory_budget)
    prepare_out(args.out)
    data = analyze(scenario)
    if args.simulate:
        data["simulated"] = simulated_distances(run_blocks(scenario, budget=budget))
        data["replicas"] = scenario.replicas
    if args.out is not None:
        _utility_space(scenario, Path(args.out))
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    print(f"{data['title']}")
    print(f"Question: {data['question']}")
    print("At the documented positions (no per-replica uncertainty), round 1's war payoffs:")
    for name, group in data["groups"].items():
        print()
        wars = ", ".join(f"{p} {v:.2f}" for p, v in group["war_payoff"].items())
        print(f"{name}: war payoffs {wars}")
        if group["zopa_exists"]:
            print(
                f"  zone of agreement: {group['zopa_size']} of {group['candidates']} candidates "
                f"({100 * group['zopa_share']:.1f}%)"
            )
        else:
            print(f"  no zone of agreement: none of {group['candidates']} candidates beats war for every belligerent")
        for solution in SOLUTIONS:
            found = group[solution]
            if found is None:
                print(f"  {solution}: none")
                continue
            terms = ", ".join(f"{k} {format_number(v)}" for k, v in found["outcome"].items())
            utils = ", ".join(f"{p} {v:.2f}" for p, v in found["utility"].items())
            print(f"  {solution}: {terms} (utility {utils})")
        if "simulated" in data:
            sim = data["simulated"][name]
            if sim["agreed"]:
                print(
                    f"  simulated ({sim['agreed']} of {data['replicas']} replicas agreed): distance to the Pareto frontier "
                    f"mean {sim['mean_distance_to_pareto']:.3f} ({100 * sim['share_pareto_optimal']:.0f}% Pareto-optimal), "
                    f"to the Nash solution mean {sim['mean_distance_to_nash']:.3f} ({100 * sim['share_at_nash']:.0f}% at it)"
                )
            else:
                print(f"  simulated: no agreement in {data['replicas']} replicas")
    print()
    print("Spatial forecasts over all parties with a position (natural units):")
    for issue, f in data["issues"].items():
        forecasts = f"compromise {format_number(f['compromise'])}, weighted median {format_number(f['weighted_median'])}"
        print(f"  {issue}: {forecasts}, BDM {format_number(f['bdm_forecast'])}")
    if args.out is not None:
        print(f"\nwrote utility_space.png to {args.out}")
    return 0


def _utility_space(scenario: Scenario, out: Path) -> None:
    """Draw the utility space of the documented scenario with its offer paths."""
    from sim.analysis import documented
    from sim.charts.negotiation import utility_space_chart
    from sim.engine.model import run_scenario

    utility_space_chart(run_scenario(documented(scenario)), out / "utility_space.png")


def cmd_validate(args: argparse.Namespace) -> int:
    """``ceasefire validate``: check scenario files, report every problem."""
    from sim.inputs.scenario import load_scenario

    status = 0
    for name in args.files:
        try:
            loaded = load_scenario(name)
        except InputError as err:
            print(err, file=sys.stderr)
            status = EXIT_INPUT
            continue
        print(
            f"{name}: ok ({loaded.scenario.name}: {len(loaded.scenario.parties)} parties, {len(loaded.scenario.issues)} issues)"
        )
    return status


def cmd_list(args: argparse.Namespace) -> int:
    """``ceasefire list``: the bundled scenarios and their questions."""
    from sim.inputs.catalogue import bundled_scenarios
    from sim.inputs.scenario import load_scenario

    found = bundled_scenarios()
    for name, path in found.items():
        try:
            question = load_scenario(path).scenario.question
        except InputError as err:
            question = f"(invalid: {err.problems[0]})"
        print(f"{name:28s} {question}")
    if not found:
        print("no scenarios found (looked in ./scenarios and $CEASEFIRE_SCENARIOS)", file=sys.stderr)
        return EXIT_INPUT
    return 0


def _version() -> str:
    """The installed version (read from the package metadata only when asked)."""
    from sim._version import __version__

    return __version__


class _VersionAction(argparse.Action):
    """``--version``: print the version and exit, reading it only then."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        parser.exit(message=f"ceasefire-sim {_version()}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="ceasefire", description="Simulate and analyse ceasefire negotiations.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and summarise the agreements")
    run.add_argument("scenario", help="a scenario file or a bundled scenario name (see `ceasefire list`)")
    run.add_argument("--replicas", type=int, help="number of replicas R (default: the scenario's)")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    run.add_argument("--rounds", type=int, help="rounds before the deadline (default: the scenario's)")
    run.add_argument("--out", help="folder for summary.json, trace.csv/.parquet, replicas.csv, convergence.png")
    run.add_argument("--full-trace", action="store_true", help="with --out, also write every replica's trace rows")
    run.add_argument("--posterior", help="a `ceasefire calibrate` folder: each replica draws the calibrated numbers from it")
    run.add_argument("--json", action="store_true", help="print one JSON object instead of the summary")
    run.add_argument("--memory-budget", metavar="SIZE", help=MEMORY_BUDGET_HELP)
    run.set_defaults(func=cmd_run)

    analysis = sub.add_parser("analyze", help="zones of agreement, bargaining solutions and spatial forecasts")
    analysis.add_argument("scenario", help="a scenario file or a bundled scenario name")
    analysis.add_argument("--simulate", action="store_true", help="also run the scenario and measure distances to theory")
    analysis.add_argument("--replicas", type=int, help="replicas for --simulate (default: the scenario's)")
    analysis.add_argument("--seed", type=int, help="root seed for --simulate (default: the scenario's)")
    analysis.add_argument("--out", help="folder for utility_space.png")
    analysis.add_argument("--json", action="store_true", help="print one JSON object")
    analysis.add_argument("--memory-budget", metavar="SIZE", help=MEMORY_BUDGET_HELP + " (with --simulate)")
    analysis.set_defaults(func=cmd_analyze)

    validate = sub.add_parser("validate", help="check scenario files and report every problem")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(func=cmd_validate)

    listing = sub.add_parser("list", help="list the bundled scenarios with their questions")
    listing.set_defaults(func=cmd_list)

    from sim.cli.sweep import register as register_sweep

    register_sweep(sub)

    from sim.cli.calibrate import register as register_calibrate

    register_calibrate(sub)

    from sim.cli.games import register as register_games

    register_games(sub)

    from sim.cli.discover import register as register_discover

    register_discover(sub)

    from sim.cli.app import register as register_app  # imports no solara: the app extra is checked when run

    register_app(sub)

    from sim.cli.cases import register as register_cases

    register_cases(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ceasefire`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:2] == ["sweep", "analyze"]:
        from sim.cli.sweep import analyze_parser

        args = analyze_parser().parse_args(argv[2:])
    else:
        args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as err:
        print(err, file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
