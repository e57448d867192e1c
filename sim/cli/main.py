"""The ``ceasefire`` command line: the parser, and the scenario commands (run, analyze,
validate, list); sweeps are ``sim.cli.sweep``, the page ``sim.cli.app``
and the real cases ``sim.cli.cases``.

Bad input prints the problems (file:line: field: expected ..., found ...) on stderr and
exits 2, without a traceback; nothing is written before the input is known to be good.
"""

from __future__ import annotations

import argparse
import errno
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.cli.check import register as register_check
from sim.cli.common import (
    EXIT_INPUT,
    MEMORY_BUDGET_HELP,
    add_verbosity,
    claim_out,
    detail,
    memory_budget_option,
    note,
    prepare_out,
)
from sim.errors import InputError, Problem, printable

if TYPE_CHECKING:  # each command imports what it uses when it runs: `--help` and `list` stay light
    from sim.inputs.scenario import LoadedScenario
    from sim.inputs.schema import Scenario

NO_EVIDENCE = "none traceable (no seed document or evidence file: every number is an assumption)"
"""What ``run`` and ``validate`` say of a scenario without evidence (key ``evidence`` of the run's JSON)."""
RUN_FILES = ("summary.json", "trace.csv", "trace.parquet", "replicas.csv", "convergence.png")
"""What ``ceasefire run --out DIR`` writes (and ``trace_replicas.parquet`` with ``--full-trace``)."""


def shown(value: Any) -> Any:
    """``value`` (a summary, an analysis) with every text in it, keys too, safe to print on a
    terminal (``sim.errors.printable``: control and bidi characters from a file escaped)."""
    if isinstance(value, str):
        return printable(value, keep="\n\t")
    if isinstance(value, dict):
        return {shown(k): shown(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown(v) for v in value]
    return value


def print_summary(data: dict[str, Any]) -> None:
    """The human-readable run summary (texts from the file escaped, ``shown``)."""
    from sim.results import format_number

    data = shown(data)
    print(f"{data['title']}")
    print(f"Question: {data['question']}")
    if "evidence" in data:
        print(f"Evidence: {data['evidence']}")
    print(f"{data['replicas']} replicas, seed {data['seed']}, {data['protocol'].replace('_', ' ')} over {data['rounds']} rounds")
    for name, group in data["groups"].items():
        lo, hi = group["agreement_rate_ci95"]
        print()
        print(f"{name} ({', '.join(group['issues'])})")
        line = f"  agreed in {100 * group['agreement_rate']:.1f}% of replicas (95% CI {100 * lo:.1f}-{100 * hi:.1f}%)"
        if group["mean_round"] is not None:
            line += f", mean round {group['mean_round']:.1f}"
        print(line)
        if "opens_after" in group:
            print(f"  opens after {', '.join(group['opens_after'])}: never opened in {100 * group['never_opened_rate']:.1f}%")
        if group.get("truce") and group["truce"]["mean_days"] is not None:
            truce = group["truce"]
            broke = f"broke in {100 * truce['broken_rate']:.1f}% of agreed truces"
            print(f"  truce of {truce['mean_days']:.1f} days on average; {broke}")
        for issue, text in group.get("exchange", {}).items():
            if text is not None:
                print(f"  {issue}: {text} (exchange)")
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
    from sim.results import (
        json_text,
        replica_table,
        run_outcome,
        summary,
        trace_quantiles,
        trace_replicas,
        write_json,
        write_table,
    )

    if args.full_trace and args.out is None:
        problem = Problem("command line", None, "--full-trace", "--out DIR as well (the trace is written there)", "no --out")
        raise InputError([problem])
    started = time.perf_counter()
    loaded = load_scenario(args.scenario)
    scenario = with_overrides(loaded, replicas=args.replicas, seed=args.seed, rounds=args.rounds)
    detail(args, f"loaded {loaded.path} in {time.perf_counter() - started:.2f} s: {_chosen(args, scenario)}")
    budget = memory_budget_option(args.memory_budget)
    folder = claim_out(args.out, "run")
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
    if not loaded.traceable:
        data["evidence"] = NO_EVIDENCE
    data["version"] = _version()
    written: list[str] = []
    if folder is not None:
        writing = time.perf_counter()
        out = folder.path
        names = [*RUN_FILES, *(["trace_replicas.parquet"] if args.full_trace else [])]
        folder.writing(names)
        write_json(out / "summary.json", data)
        trace = trace_quantiles(model)
        write_table(out / "trace.csv", trace)
        write_table(out / "trace.parquet", trace)
        agreements = replica_table(model)
        write_table(out / "replicas.csv", agreements)
        written = ["summary.json", "trace.csv", "trace.parquet", "replicas.csv"]
        if args.full_trace:
            write_table(out / "trace_replicas.parquet", trace_replicas(model))
            written.append("trace_replicas.parquet")
        from sim.charts.negotiation import convergence_chart

        convergence_chart(model, out / "convergence.png", trace=trace, agreement=agreements)
        written.append("convergence.png")
        folder.written(names)
        detail(args, f"wrote {len(written)} files in {time.perf_counter() - writing:.2f} s")
    if args.json:
        print(json_text(data))
    else:
        print_summary(data)
        note(args, f"\n({scenario.replicas} negotiations in {elapsed:.2f} s)")
        if written:
            note(args, f"wrote {', '.join(written[:-1])} and {written[-1]} to {args.out}")
    _say_warnings(args, loaded)
    return 0


def _say_warnings(args: argparse.Namespace, loaded: LoadedScenario) -> None:
    """One line on stderr, unless ``--quiet``, when the scenario drew warnings (evidence
    cited for another party or issue): how many, and the command that lists them."""
    count = len(loaded.warnings)
    if count and not getattr(args, "quiet", False):
        print(f"warning: {loaded.path}: {count} warning{'s' if count > 1 else ''} on its evidence; "
              f"`ceasefire validate {args.scenario}` lists them", file=sys.stderr)


def _chosen(args: argparse.Namespace, scenario: Scenario) -> str:
    """The run's replicas, seed and rounds, each with where it came from."""
    given = {"replicas": args.replicas, "seed": args.seed, "rounds": args.rounds}
    values = {"replicas": scenario.replicas, "seed": scenario.seed, "rounds": scenario.protocol.rounds}
    return ", ".join(
        f"{name} {value} ({'--' + name if given.get(name) is not None else 'the scenario'})" for name, value in values.items()
    )


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
    from sim.results import format_number, json_text

    loaded = load_scenario(args.scenario)
    scenario = with_overrides(loaded, replicas=args.replicas, seed=args.seed)
    budget = memory_budget_option(args.memory_budget)
    prepare_out(args.out)
    started = time.perf_counter()
    data = analyze(scenario)
    detail(args, f"analysed the documented positions in {time.perf_counter() - started:.2f} s")
    if args.simulate:
        started = time.perf_counter()
        data["simulated"] = simulated_distances(run_blocks(scenario, budget=budget))
        data["replicas"] = scenario.replicas
        detail(args, f"simulated {scenario.replicas} replicas (seed {scenario.seed}) in {time.perf_counter() - started:.2f} s")
    if args.out is not None:
        started = time.perf_counter()
        _utility_space(scenario, Path(args.out))
        detail(args, f"drew utility_space.png in {time.perf_counter() - started:.2f} s")
    if args.json:
        print(json_text(data))
        return 0
    data = shown(data)
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
            _print_simulated(data["simulated"][name], data["replicas"], documented_nash=group["nash"] is not None)
    print()
    print("Spatial forecasts over all parties with a position (natural units):")
    for issue, f in data["issues"].items():
        forecasts = f"compromise {format_number(f['compromise'])}, weighted median {format_number(f['weighted_median'])}"
        print(f"  {issue}: {forecasts}, BDM {format_number(f['bdm_forecast'])}")
    if args.out is not None:
        note(args, f"\nwrote utility_space.png to {args.out}")
    return 0


def _print_simulated(sim: dict[str, Any], replicas: int, *, documented_nash: bool) -> None:
    """The simulated agreements against theory. Each is measured in its own replica's
    utility space: the Nash solution there is that replica's own (its utilities and its war
    payoffs in the round it agreed), not the documented one above."""
    if not sim["agreed"]:
        print(f"  simulated: no agreement in {replicas} replicas")
        return
    print(f"  simulated ({sim['agreed']} of {replicas} replicas agreed), each agreement in its own replica:")
    print(
        f"    distance to the replica's Pareto frontier: mean {sim['mean_distance_to_pareto']:.3f} "
        f"({100 * sim['share_pareto_optimal']:.0f}% Pareto-optimal)"
    )
    if sim["mean_distance_to_nash"] is not None:
        own = "" if documented_nash else " (the documented positions have none; a replica's drawn numbers can)"
        print(
            f"    distance to the replica's own Nash solution, from its war payoffs when it agreed{own}: "
            f"mean {sim['mean_distance_to_nash']:.3f} ({100 * sim['share_at_nash']:.0f}% of agreements at it)"
        )


def _utility_space(scenario: Scenario, out: Path) -> None:
    """Draw the utility space of the documented scenario with its offer paths."""
    from sim.analysis import documented
    from sim.charts.utility_space import utility_space_chart
    from sim.engine.model import run_scenario

    utility_space_chart(run_scenario(documented(scenario)), out / "utility_space.png")


def cmd_validate(args: argparse.Namespace) -> int:
    """``ceasefire validate``: check scenario files, report every problem (``--json``: one
    object, each file with its problems and warnings as file/line/field/expected/found)."""
    from sim.inputs.scenario import load_scenario
    from sim.results import json_text

    status = 0
    report = []
    for name in args.files:
        entry: dict[str, Any] = {"file": name, "ok": False, "problems": [], "warnings": []}
        report.append(entry)
        try:
            loaded = load_scenario(name)
        except InputError as err:
            entry["problems"] = [_problem(p) for p in err.problems]
            if not args.json:
                print(err, file=sys.stderr)
            status = EXIT_INPUT
            continue
        entry.update(ok=True, warnings=[_problem(w) for w in loaded.warnings], traceable=loaded.traceable)
        if args.json:
            continue
        for warning in loaded.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        s = loaded.scenario
        untraced = "" if loaded.traceable else f"; {NO_EVIDENCE}"
        note(args, printable(f"{name}: ok ({s.name}: {len(s.parties)} parties, {len(s.issues)} issues{untraced})"))
    if args.json:
        print(json_text({"files": report}))
    return status


def _problem(problem: Problem) -> dict[str, Any]:
    """A problem (or warning) as JSON: its file, line, field, what was expected and what was found."""
    return {k: getattr(problem, k) for k in ("file", "line", "field", "expected", "found")}


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
        print(printable(f"{name:28s} {question}", keep="\n"))
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
        print(f"ceasefire-sim {_version()}")  # on stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand."""
    parser = argparse.ArgumentParser(prog="ceasefire", description="Simulate and analyse ceasefire negotiations.")
    parser.add_argument("--version", action=_VersionAction)
    add_verbosity(parser)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="simulate a scenario and summarise the agreements")
    run.add_argument("scenario", help="a scenario file or a bundled scenario name (see `ceasefire list`)")
    run.add_argument("--replicas", type=int, help="number of replicas R (default: the scenario's)")
    run.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    run.add_argument("--rounds", type=int, help="rounds before the deadline (default: the scenario's)")
    run.add_argument("--out", help="folder for summary.json, trace.csv/.parquet, replicas.csv, convergence.png")
    run.add_argument("--full-trace", action="store_true", help="with --out: also write every replica's trace rows")
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
    validate.add_argument("--json", action="store_true", help="print one JSON object: each file's problems and warnings")
    validate.set_defaults(func=cmd_validate)

    listing = sub.add_parser("list", help="list the bundled scenarios with their questions")
    listing.set_defaults(func=cmd_list)

    from sim.cli.sweep import register as register_sweep

    register_sweep(sub)
    register_check(sub)

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
    for command in sub.choices.values():
        add_verbosity(command, given_before=True)
    return parser


VERBOSITY_FLAGS = ("-q", "--quiet", "-v", "--verbose")


EXIT_WRITE = 1
"""Exit status when an output could not be written (the inputs were fine)."""


def write_failure(exc: OSError, out: str | None = None) -> str:
    """What to tell a person whose output could not be written: the file, the reason and
    what to do (``main`` prints it instead of a traceback)."""
    where = f" {exc.filename}" if exc.filename else (f" into {out}" if out else "")
    reason = exc.strerror or str(exc)
    full = exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
    fix = "free space on that disk" if full else "make the folder writable or choose another --out"
    return f"could not write{where} ({reason}): {fix}, then run the command again"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ceasefire`` command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    before = next((i for i, arg in enumerate(argv) if arg not in VERBOSITY_FLAGS), len(argv))  # -q/-v before the command
    if argv[before : before + 2] == ["sweep", "analyze"]:
        from sim.cli.sweep import analyze_parser

        args = analyze_parser().parse_args(argv[:before] + argv[before + 2 :])
    else:
        args = build_parser().parse_args(argv)
    if args.quiet and args.verbose:
        print("ceasefire: --quiet and --verbose cannot be given together", file=sys.stderr)
        return EXIT_INPUT
    try:
        return int(args.func(args))
    except InputError as err:
        print(err, file=sys.stderr)
        return EXIT_INPUT
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
    except OSError as exc:  # a write the machine refused (a full disk, a read-only folder): no traceback
        print(f"ceasefire {args.command}: {write_failure(exc, getattr(args, 'out', None))}", file=sys.stderr)
        return EXIT_WRITE


if __name__ == "__main__":
    sys.exit(main())
