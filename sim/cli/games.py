"""``ceasefire equilibria`` and ``ceasefire tournament``: which strategy should each side
play? The meta-game of strategy profiles, its equilibria and best responses
(``sim.sweep.equilibria``), and a resumable round-robin tournament across scenarios
(``sim.sweep.tournament``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from sim.cli.common import note, prepare_out, progress_stream


def register(sub: Any) -> None:
    """Add the ``equilibria`` and ``tournament`` subcommands."""
    eq = sub.add_parser("equilibria", help="the strategy meta-game of a scenario: payoffs, equilibria, best responses")
    eq.add_argument("scenario", help="a scenario file or a bundled scenario name")
    eq.add_argument("--strategies", help="comma-separated, e.g. hardliner,boulware:0.2,linear,conceder:2,tit_for_tat,zeuthen")
    eq.add_argument("--replicas", type=int, default=1000, help="replicas per profile (default 1000)")
    eq.add_argument("--seed", type=int, help="root seed (default: the scenario's)")
    eq.add_argument("--out", help="folder for payoffs.png and payoffs.csv")
    eq.add_argument("--json", action="store_true", help="print one JSON object")
    eq.set_defaults(func=cmd_equilibria)
    tour = sub.add_parser(
        "tournament", help="every strategy against every other across scenarios (round robin, resumable with --out)"
    )
    tour.add_argument(
        "scenarios", nargs="*", help="scenario files or bundled names (default: every bundled two-party scenario, cases included)"
    )
    tour.add_argument("--strategies", help="comma-separated strategy names (see `ceasefire equilibria --help`)")
    tour.add_argument("--replicas", type=int, default=200, help="replicas per profile (default 200)")
    tour.add_argument("--seed", type=int, help="root seed of every scenario (default: each scenario's own)")
    tour.add_argument("--out", help="folder for the shards, tournament.csv and games.csv; run again to resume")
    tour.add_argument("--workers", type=int, help="local worker processes (default: this process for small tournaments)")
    tour.add_argument("--scheduler", help="a dask.distributed scheduler address (default: $DASK_SCHEDULER_ADDRESS)")
    tour.add_argument("--chunk", type=int, help="runs (cell, replica pairs) per task (default: 16 cells)")
    tour.add_argument("--json", action="store_true", help="print the table and its rows as one JSON object")
    tour.set_defaults(func=cmd_tournament)


def _names(text: str | None) -> list[str] | None:
    return [x for x in (text or "").split(",") if x.strip()] or None


def _profile(game: Any, sigma: Any) -> dict[str, Any]:
    """A (possibly mixed) profile as each party's strategies with positive probability."""
    values, rates = game.value(sigma)
    parties = range(len(game.parties))
    return {
        "strategies": {
            game.parties[p]: {game.labels[p][k]: round(float(x), 6) for k, x in enumerate(sigma[p]) if x > 1e-9} for p in parties
        },
        "payoff": {game.parties[p]: round(values[p], 6) for p in parties},
        "agreement_rate": {g: round(float(r), 6) for g, r in zip(game.groups, rates, strict=True)},
    }


def cmd_equilibria(args: argparse.Namespace) -> int:
    """Simulate every profile, solve the meta-game and report."""
    import numpy as np

    from sim.inputs.scenario import load_scenario
    from sim.results import write_table
    from sim.sweep import nplayer
    from sim.sweep.equilibria import meta_game

    out = prepare_out(args.out)
    loaded = load_scenario(args.scenario)
    game = meta_game(loaded, _names(args.strategies), replicas=args.replicas, seed=args.seed)
    parties = range(len(game.parties))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nashpy's note on degenerate games; every equilibrium is listed
        equilibria = game.equilibria()
    doc = game.documented
    best = [game.best_response(p, doc) for p in parties]
    # an equilibrium where no side gains by deviating: a tie with the best response counts
    documented_is_eq = all(
        bool(game.payoff[p][doc] >= game.payoff[p][tuple(best[p] if q == p else k for q, k in enumerate(doc))]) for p in parties
    )
    within = game.deviation_gain_within_error(*doc)
    pure_doc = tuple(np.eye(len(game.labels[p]))[doc[p]] for p in parties)
    documented = {**_profile(game, pure_doc), "is_equilibrium": documented_is_eq, "is_equilibrium_within_error": within}
    data: dict[str, Any] = {
        "scenario": loaded.scenario.name,
        "replicas": game.replicas,
        "strategies": {game.parties[p]: game.labels[p] for p in parties},
        "payoff": {game.parties[p]: np.round(game.payoff[p], 6).tolist() for p in parties},
        "standard_error": {game.parties[p]: np.round(game.error[p], 6).tolist() for p in parties},
        "equilibria": [_profile(game, sigma) for sigma in equilibria],
        "documented": documented,
        "best_response_to_documented": {game.parties[p]: game.labels[p][best[p]] for p in parties},
    }
    settled = None
    if len(game.parties) > 2:
        rest, settled = nplayer.replicator(game.payoff)
        data["method"] = (
            "pure equilibria by enumeration (all of them); mixed ones by minimising McKelvey's Liapunov function "
            f"from {1 + 8} starts, then the support's indifference equations (a search: each has regret <= "
            f"{nplayer.TOLERANCE:g}, some may be missed)"
        )
        data["parties"] = list(game.parties)  # the payoff tensors' axis order (the JSON's keys are sorted)
        data["replicator"] = {**_profile(game, tuple(rest)), "settled": settled}
    if out is not None:
        import pandas as pd

        from sim.charts.games import payoff_chart

        rows = [
            {
                **{"strategy_" + game.parties[p]: game.labels[p][k] for p, k in enumerate(index)},
                **{f"payoff_{game.parties[p]}": float(game.payoff[p][index]) for p in parties},
                **{f"se_{game.parties[p]}": float(game.error[p][index]) for p in parties},
                **{f"agreed_{g}": float(game.agreement[index][k]) for k, g in enumerate(game.groups)},
            }
            for index in np.ndindex(*game.payoff.shape[1:])
        ]
        write_table(out / "payoffs.csv", pd.DataFrame(rows))
        payoff_chart(
            game, out / "payoffs.png", title=f"Strategy meta-game: {loaded.scenario.title} ({game.replicas} replicas per pair)"
        )
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    print(
        f"{loaded.scenario.title}: {' x '.join(str(len(x)) for x in game.labels)} strategy profiles, "
        f"{game.replicas} replicas each"
    )
    shown = data["equilibria"] if len(data["equilibria"]) <= 12 else data["equilibria"][:10]
    for entry in shown:
        mix = "; ".join(
            f"{p}: " + ", ".join(f"{k} {v:.2f}" if v < 1 else k for k, v in s.items()) for p, s in entry["strategies"].items()
        )
        rates = ", ".join(f"{g} {100 * r:.1f}%" for g, r in entry["agreement_rate"].items())
        print(f"  equilibrium: {mix} -> agreed {rates}")
    if len(shown) < len(data["equilibria"]):
        print(f"  ... and {len(data['equilibria']) - len(shown)} more equilibria (every one in --json)")
    rates = ", ".join(f"{g} {100 * r:.1f}%" for g, r in documented["agreement_rate"].items())
    verdict = "is" if documented_is_eq else "is not"
    print(f"documented profile ({' vs '.join(game.labels[p][doc[p]] for p in parties)}) {verdict} an equilibrium; agreed {rates}")
    if not documented_is_eq:
        print("  within sampling error (no deviation gains more than 2 standard errors): " + ("yes" if within else "no"))
    for p in parties:
        print(f"  {game.parties[p]}'s best response to the {'other' if len(parties) == 2 else 'others'}'"
              f"{'s' if len(parties) == 2 else ''} documented strateg{'y' if len(parties) == 2 else 'ies'}: "
              f"{game.labels[p][best[p]]}")
    if settled is not None:
        state = "settle" if settled else "have not settled by t = 400"
        print(f"  replicator dynamics from the uniform mix {state} at: "
              + "; ".join(f"{p}: " + ", ".join(f"{k} {v:.2f}" for k, v in s.items())
                          for p, s in data["replicator"]["strategies"].items()))
        print(f"  ({data['method']})")
    if out is not None:
        note(args, f"wrote payoffs.png and payoffs.csv to {args.out}")
    return 0


def cmd_tournament(args: argparse.Namespace) -> int:
    """Round robin across scenarios, resumable in ``--out``."""
    from sim.inputs.catalogue import bundled_scenarios
    from sim.inputs.scenario import load_scenario
    from sim.results import write_table
    from sim.sweep.run import SweepAbortedError
    from sim.sweep.tournament import run_tournament

    names = args.scenarios or list(bundled_scenarios())
    loaded = [load_scenario(n) for n in names]
    if not args.scenarios:  # more belligerents multiply the profiles (8^4 for Minsk's four): only when named
        loaded = [s for s in loaded if len(s.scenario.belligerents) == 2]
    scheduler = args.scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None
    try:
        report = run_tournament(
            loaded, _names(args.strategies), replicas=args.replicas, seed=args.seed, out=args.out, workers=args.workers,
            scheduler=scheduler, chunk=args.chunk, progress=progress_stream(args),
        )
    except SweepAbortedError as exc:
        print(f"ceasefire tournament: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        saved = f"finished chunks are saved in {args.out}: run the same command again to go on"
        again = saved if args.out else "nothing was saved"
        print(f"ceasefire tournament: interrupted; {again}", file=sys.stderr)
        return 130
    table = report.table.reset_index()
    if args.out is not None:
        write_table(Path(args.out) / "tournament.csv", table)
        write_table(Path(args.out) / "games.csv", report.rows)
    if args.json:
        records = {
            "table": json.loads(table.to_json(orient="records")),
            "rows": json.loads(report.rows.to_json(orient="records")),
        }
        print(json.dumps(records, sort_keys=True))
        return 0
    cases = sorted({c for c in report.rows["case"] if c})
    print(f"Round robin over {len(loaded)} scenarios ({len(cases)} of them real cases: {', '.join(cases) or 'none'}), "
          f"{args.replicas} replicas per profile, every seat:")
    print(report.table.round(4).to_string())
    if args.out is not None:
        note(args, f"wrote tournament.csv and games.csv (one row per scenario, seat and strategy) to {args.out}")
        note(args, f"this time: {report.runs_now:,} of {report.runs:,} runs in {report.seconds:.1f} s")
    return 0
