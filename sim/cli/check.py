"""``ceasefire check``: the comparative statics of THEORY.md on one scenario, each lever
moved alone on the same replicas, printed with its effect, interval and verdict.
The measuring is ``sim.statics``; this module only parses and prints.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

EXIT_VIOLATED = 1
"""Exit status when a property that applies is violated."""


def _line(f: Any) -> str:
    """One finding as a line for people."""
    if f.verdict == "not applicable":
        return f"  n/a       {f.group}: {f.lever}: {f.measure}: {f.reason}"
    lo, hi = f.interval
    if f.measure == "agreement rate" or f.measure.startswith("agreement before"):
        arms = f"{100 * f.arms['low']:.1f}% -> {100 * f.arms['high']:.1f}%"
        n = f"{f.n} paired replicas"
    elif f.measure == "agreement round":
        arms = f"round {f.arms['low']:.2f} -> {f.arms['high']:.2f}"
        n = f"{f.n} replicas agreeing in both"
    else:
        arms = f"{f.arms['low']:.3f} -> {f.arms['high']:.3f}"
        n = f"{f.n} replicas agreeing in both"
    against = f", {f.against} against" if f.against else ""
    line = (f"  {f.verdict:9s} {f.group}: {f.lever}: {f.measure} {f.expected}: {arms} "
            f"({f.effect:+.4f}, 95% CI {lo:+.4f} to {hi:+.4f}; {n}{against})")
    return line + (f"; {f.reason}" if f.reason else "")


def cmd_check(args: argparse.Namespace) -> int:
    """Run every property on the scenario; exit 1 if one that applies is violated."""
    from sim.inputs.scenario import load_scenario  # here, not at the top: `ceasefire --help` builds no schema
    from sim.statics import STATEMENTS, Statics, check

    loaded = load_scenario(args.scenario)
    findings = check(loaded, replicas=args.replicas, seed=args.seed)
    st = Statics(loaded, args.replicas, args.seed)
    counts = {v: sum(f.verdict == v for f in findings) for v in ("holds", "violated", "not applicable")}
    if args.json:
        print(json.dumps({"scenario": loaded.scenario.name, "replicas": st.replicas, "seed": st.seed,
                          "counts": counts, "findings": [f.as_dict() for f in findings]}, sort_keys=True))
    else:
        print(f"Comparative statics of {loaded.scenario.name}: {loaded.scenario.title}")
        print(f"{st.replicas} replicas, seed {st.seed}; each lever moved alone, both arms on the same replicas")
        for prop, statement in STATEMENTS.items():
            mine = [f for f in findings if f.property == prop]
            if not mine:
                continue
            print()
            print(f"{prop}: {statement}")
            for f in mine:
                print(_line(f))
        print()
        print(f"{counts['holds']} hold, {counts['violated']} violated, {counts['not applicable']} not applicable")
    return EXIT_VIOLATED if counts["violated"] else 0


def register(sub: Any) -> None:
    """Add ``check`` to the command's subparsers."""
    check = sub.add_parser(
        "check",
        help="test the comparative statics of theory on a scenario (exit 1 if one is violated)",
        description="Move each lever (patience, war costs, beliefs, threats, red lines, risk) alone, on the same "
                    "replicas, and print each property that applies with the measured effect, its 95% interval and "
                    "a verdict: holds, violated (the whole interval on the wrong side of zero) or not applicable "
                    "(with the reason). Exit status: 0 when every property that applies holds, 1 when one is "
                    "violated, 2 on bad input.",
    )
    check.add_argument("scenario", help="a scenario file or a bundled scenario name")
    check.add_argument("--replicas", type=int, help="replicas per arm (default: the scenario's)")
    check.add_argument("--seed", type=int, help="root seed of both arms (default: the scenario's)")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    check.set_defaults(func=cmd_check)
