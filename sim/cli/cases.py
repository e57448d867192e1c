"""``ceasefire cases``: run the real cases (and the baseline), print per case what happened,
what the model says and the verdict on each criterion; ``--json``, ``--markdown``, or
``--readme FILE`` to rewrite the README's table. The judging is ``sim.cases``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import EXIT_INPUT
from sim.errors import InputError, Problem


def register(sub: Any) -> None:
    """Add the ``cases`` subcommand to the CLI's subparsers."""
    cases = sub.add_parser("cases", help="run the real negotiation cases and judge the model against what happened")
    cases.add_argument("cases", nargs="*", help="case files or bundled case names (default: every bundled case)")
    cases.add_argument("--replicas", type=int, help="replicas per case (default: each scenario's)")
    out = cases.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--markdown", action="store_true", help="print the README's table")
    out.add_argument("--readme", metavar="FILE", help="rewrite the table between the cases-table markers of FILE")
    cases.set_defaults(func=cmd_cases)


def print_report(report: dict[str, Any]) -> None:
    """The human-readable report: per case and group, what happened, the model, the verdicts."""
    from sim.cases import happened_text, model_text

    for r in report["cases"]:
        print(f"{r['title']} ({r['case']}, {r['date']}): {r['replicas']} replicas, seed {r['seed']}, {r['rounds']} rounds")
        for name, group in r["groups"].items():
            print(f"  {name} ({', '.join(group['issues'])})")
            print(f"    happened: {happened_text(group['happened'])}")
            print(f"    model:    agreed in {model_text(group)}")
        for v in r["criteria"]:
            print(f"  {'right' if v['right'] else 'WRONG'}  {v['text']}")
        print(f"  {r['right']} of {r['right'] + r['wrong']} criteria right")
        if r["wrong"] and r["needs"]:
            print("  what the model would need: " + " ".join(r["needs"]))
        print()
    total = report["right"] + report["wrong"]
    cases = f"{report['cases_all_right']} of {len(report['cases'])} cases"
    print(f"{report['right']} of {total} criteria right; {cases} right on every criterion")


def cmd_cases(args: argparse.Namespace) -> int:
    """``ceasefire cases``: run every case (or those named) and report."""
    from sim._version import __version__
    from sim.cases import markdown, replace_table, run_cases
    from sim.inputs.case import bundled_cases, load_case  # here: `--help` and `list` stay light

    names = args.cases or list(bundled_cases().values())
    if not names:
        print("no cases found (looked in ./cases and the source tree)", file=sys.stderr)
        return EXIT_INPUT
    problems: list[Problem] = []
    loaded = []
    for name in names:
        try:
            loaded.append(load_case(name))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    readme = Path(args.readme) if args.readme else None
    if readme is not None and not readme.is_file():
        raise InputError([Problem(str(readme), None, "--readme", "an existing file with the table markers", "no such file")])
    report = run_cases(loaded, replicas=args.replicas)
    report["version"] = __version__
    if args.json:
        print(json.dumps(report, sort_keys=True))
    elif args.markdown:
        print(markdown(report), end="")
    elif readme is not None:
        try:
            text = replace_table(readme.read_text(encoding="utf-8"), markdown(report))
        except ValueError as err:
            raise InputError([Problem(str(readme), None, "--readme", str(err), "no such markers")]) from None
        readme.write_text(text, encoding="utf-8")
        print(f"wrote the cases table ({report['right']} of {report['right'] + report['wrong']} criteria right) to {readme}")
    else:
        print_report(report)
    return 0
