"""``ceasefire equilibria`` and ``ceasefire tournament``: which strategy should each side
play? The meta-game of strategy profiles, its equilibria and best responses, and a
round-robin tournament across scenarios (``sim.sweep.equilibria``).
"""

from __future__ import annotations

import argparse
import json
import warnings
from typing import Any

from sim.cli.common import note, prepare_out


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
    tour = sub.add_parser("tournament", help="every strategy against every other across scenarios (round robin)")
    tour.add_argument("scenarios", nargs="*", help="scenario files or bundled names (default: every bundled scenario)")
    tour.add_argument("--strategies", help="comma-separated strategy names (see `ceasefire equilibria --help`)")
    tour.add_argument("--replicas", type=int, default=200, help="replicas per profile (default 200)")
    tour.add_argument("--json", action="store_true", help="print the table as JSON")
    tour.set_defaults(func=cmd_tournament)


def _names(text: str | None) -> list[str] | None:
    return [x for x in (text or "").split(",") if x.strip()] or None


def _profile(game: Any, sigma: Any) -> dict[str, Any]:
    """A (possibly mixed) profile as each party's strategies with positive probability."""
    u0, u1, rates = game.value(sigma)
    return {
        "strategies": {
            game.parties[p]: {game.labels[p][k]: round(float(x), 6) for k, x in enumerate(sigma[p]) if x > 1e-9} for p in (0, 1)
        },
        "payoff": {game.parties[0]: round(u0, 6), game.parties[1]: round(u1, 6)},
        "agreement_rate": {g: round(float(r), 6) for g, r in zip(game.groups, rates, strict=True)},
    }


def cmd_equilibria(args: argparse.Namespace) -> int:
    """Simulate every profile, solve the meta-game and report."""
    import numpy as np

    from sim.inputs.scenario import load_scenario
    from sim.results import write_table
    from sim.sweep.equilibria import meta_game

    out = prepare_out(args.out)
    loaded = load_scenario(args.scenario)
    game = meta_game(loaded, _names(args.strategies), replicas=args.replicas, seed=args.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # nashpy's note on degenerate games; every equilibrium is listed
        equilibria = game.equilibria()
    d0, d1 = game.documented
    br0, br1 = game.best_response(0, d1), game.best_response(1, d0)
    # an equilibrium where neither side gains by deviating: a tie with the best response counts
    a, b = game.payoff
    documented_is_eq = bool(a[d0, d1] >= a[br0, d1] and b[d0, d1] >= b[d0, br1])
    within = game.deviation_gain_within_error(d0, d1)
    doc = (np.eye(len(game.labels[0]))[d0], np.eye(len(game.labels[1]))[d1])
    documented = {**_profile(game, doc), "is_equilibrium": documented_is_eq, "is_equilibrium_within_error": within}
    data = {
        "scenario": loaded.scenario.name,
        "replicas": game.replicas,
        "strategies": {game.parties[p]: game.labels[p] for p in (0, 1)},
        "payoff": {game.parties[p]: np.round(game.payoff[p], 6).tolist() for p in (0, 1)},
        "standard_error": {game.parties[p]: np.round(game.error[p], 6).tolist() for p in (0, 1)},
        "equilibria": [_profile(game, sigma) for sigma in equilibria],
        "documented": documented,
        "best_response_to_documented": {game.parties[0]: game.labels[0][br0], game.parties[1]: game.labels[1][br1]},
    }
    if out is not None:
        import pandas as pd

        from sim.charts.games import payoff_chart

        rows = [
            {
                "strategy_" + game.parties[0]: a,
                "strategy_" + game.parties[1]: b,
                **{f"payoff_{game.parties[p]}": float(game.payoff[p][i, j]) for p in (0, 1)},
                **{f"se_{game.parties[p]}": float(game.error[p][i, j]) for p in (0, 1)},
                **{f"agreed_{g}": float(game.agreement[i, j, k]) for k, g in enumerate(game.groups)},
            }
            for i, a in enumerate(game.labels[0])
            for j, b in enumerate(game.labels[1])
        ]
        write_table(out / "payoffs.csv", pd.DataFrame(rows))
        payoff_chart(
            game, out / "payoffs.png", title=f"Strategy meta-game: {loaded.scenario.title} ({game.replicas} replicas per pair)"
        )
    if args.json:
        print(json.dumps(data, sort_keys=True))
        return 0
    print(
        f"{loaded.scenario.title}: {len(game.labels[0])} x {len(game.labels[1])} strategy profiles, {game.replicas} replicas each"
    )
    for sigma in equilibria:
        entry = _profile(game, sigma)
        mix = "; ".join(
            f"{p}: " + ", ".join(f"{k} {v:.2f}" if v < 1 else k for k, v in s.items()) for p, s in entry["strategies"].items()
        )
        rates = ", ".join(f"{g} {100 * r:.1f}%" for g, r in entry["agreement_rate"].items())
        print(f"  equilibrium: {mix} -> agreed {rates}")
    rates = ", ".join(f"{g} {100 * r:.1f}%" for g, r in documented["agreement_rate"].items())
    verdict = "is" if documented_is_eq else "is not"
    print(f"documented profile ({game.labels[0][d0]} vs {game.labels[1][d1]}) {verdict} an equilibrium; agreed {rates}")
    if not documented_is_eq:
        print("  within sampling error (no deviation gains more than 2 standard errors): " + ("yes" if within else "no"))
    for p, label in ((game.parties[0], game.labels[0][br0]), (game.parties[1], game.labels[1][br1])):
        print(f"  {p}'s best response to the other's documented strategy: {label}")
    if out is not None:
        note(args, f"wrote payoffs.png and payoffs.csv to {args.out}")
    return 0


def cmd_tournament(args: argparse.Namespace) -> int:
    """Round robin across scenarios."""
    from sim.inputs.catalogue import bundled_scenarios
    from sim.inputs.scenario import load_scenario
    from sim.sweep.equilibria import tournament

    names = args.scenarios or list(bundled_scenarios())
    loaded = [load_scenario(n) for n in names]
    loaded = [s for s in loaded if len(s.scenario.belligerents) == 2]
    table = tournament(loaded, _names(args.strategies), replicas=args.replicas)
    if args.json:
        print(table.reset_index().to_json(orient="records"))
        return 0
    print(f"Round robin over {len(loaded)} scenarios, {args.replicas} replicas per pair, both seats:")
    print(table.round(4).to_string())
    return 0
