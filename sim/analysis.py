"""Theory beside simulation: zones of agreement, bargaining solutions and spatial forecasts
of a scenario at its documented positions, and how far simulated deals land from them.

Pure computation on compiled arrays; printing is ``sim.cli``'s job, charts ``sim.charts.negotiation``'.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from sim.core.batch import Batch
from sim.core.dynamics import war_payoffs
from sim.engine.compile import compile_batch
from sim.engine.model import NegotiationModel
from sim.inputs import Scenario
from sim.theory import (
    compromise,
    egalitarian,
    individually_rational,
    kalai_smorodinsky,
    nash_bargaining,
    pareto_mask,
    utilitarian,
)
from sim.theory.bdm import ExpectedUtilityModel

SOLUTIONS = {
    "nash": nash_bargaining,
    "kalai_smorodinsky": kalai_smorodinsky,
    "egalitarian": egalitarian,
    "utilitarian": utilitarian,
}


def documented(scenario: Scenario) -> Scenario:
    """The scenario at its documented numbers: one replica, no per-replica uncertainty."""
    return scenario.model_copy(update={"uncertainty": None, "replicas": 1})


def documented_batch(scenario: Scenario) -> Batch:
    """Compiled arrays of the documented scenario (R = 1)."""
    return compile_batch(documented(scenario))


def _outcome(batch: Batch, g: int, k: int | None, utilities: np.ndarray) -> dict[str, Any] | None:
    """One candidate in natural units with each party's utility, or None."""
    if k is None:
        return None
    group = batch.groups[g]
    natural = batch.space.to_natural(group.candidates[k], group.issues)
    return {
        "candidate": int(k),
        "outcome": {batch.space.names[i]: round(float(v), 6) for i, v in zip(group.issues, natural, strict=True)},
        "utility": {party: round(float(utilities[k, p]), 6) for p, party in enumerate(batch.parties)},
    }


def group_analysis(batch: Batch, g: int, war: np.ndarray) -> dict[str, Any]:
    """ZOPA and bargaining solutions of group ``g`` for replica 0 with war payoffs ``war (P,)``."""
    utilities = batch.utilities[g][0].T.astype(float)  # (K, P)
    rational = individually_rational(utilities, war)
    entry: dict[str, Any] = {
        "candidates": int(utilities.shape[0]),
        "war_payoff": {party: round(float(war[p]), 6) for p, party in enumerate(batch.parties)},
        "zopa_exists": bool(rational.any()),
        "zopa_size": int(rational.sum()),
        "zopa_share": round(float(rational.mean()), 6),
        "pareto_optimal": int(pareto_mask(utilities).sum()),
    }
    for name, solve in SOLUTIONS.items():
        entry[name] = _outcome(batch, g, solve(utilities, war), utilities)
    return entry


def spatial_forecasts(scenario: Scenario) -> dict[str, dict[str, float | None]]:
    """Per issue, over every party with a position on it: Achen's compromise, the weighted
    median (Black 1948) and the Bueno de Mesquita forecast, in natural units. The actors
    (normalised positions, capabilities, saliences) are the expected-utility model's."""
    out: dict[str, dict[str, float | None]] = {}
    for issue, spec in scenario.issues.items():
        model = ExpectedUtilityModel(scenario, issue)  # the schema gives every issue two holders at least
        low, high = spec.range
        x, c, s = model.arrays()
        entry: dict[str, float | None] = {
            "compromise": round(low + (high - low) * compromise(x, c, s), 6),
            "weighted_median": round(model.forecast(), 6),  # before any round: the weighted median
        }
        model.run_model()
        entry["bdm_forecast"] = round(model.forecast(), 6)
        out[issue] = entry
    return out


def analyze(scenario: Scenario) -> dict[str, Any]:
    """The whole analysis of a scenario at its documented positions (round 1's war payoffs)."""
    batch = documented_batch(scenario)
    wars = war_payoffs(batch, 0)
    return {
        "scenario": scenario.name,
        "title": scenario.title,
        "question": scenario.question,
        "groups": {group.name: group_analysis(batch, g, wars[g][0]) for g, group in enumerate(batch.groups)},
        "issues": spatial_forecasts(scenario),
    }


def nash_by_group(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Each group's Nash bargaining solution at the documented positions (for run summaries)."""
    batch = documented_batch(scenario)
    wars = war_payoffs(batch, 0)
    out: dict[str, dict[str, Any]] = {}
    for g, group in enumerate(batch.groups):
        utilities = batch.utilities[g][0].T.astype(float)
        out[group.name] = _outcome(batch, g, nash_bargaining(utilities, wars[g][0]), utilities) or {}
    return out


def simulated_distances(models: NegotiationModel | Iterable[NegotiationModel]) -> dict[str, dict[str, Any]]:
    """How far each simulated agreement lies from the Pareto frontier and the Nash solution.

    For every agreed replica, in that replica's utility space (all belligerents), the
    Euclidean distance from the agreement's utility vector to the nearest Pareto-optimal
    candidate, and to the Nash solution computed with the war payoffs of the agreement
    round. Reported as mean and median over agreed replicas, with the share of agreements
    that are Pareto-optimal and that are the Nash solution itself. ``models`` is one
    finished model or the blocks of a run in order (``sim.engine.blocks.run_blocks``):
    each is read as it comes, and the figures are the same for every block size.
    """
    names: list[str] = []
    to_frontier: list[list[float]] = []
    to_nash: list[list[float]] = []
    is_nash: list[list[bool]] = []
    agreed_total: list[int] = []
    for model in [models] if isinstance(models, NegotiationModel) else models:
        p = model.batch
        if not names:
            names = [g.name for g in p.groups]
            to_frontier = [[] for _ in names]
            to_nash = [[] for _ in names]
            is_nash = [[] for _ in names]
            agreed_total = [0] * len(names)
        for g in range(len(p.groups)):
            agreed = np.flatnonzero(model.agreed_round[g] >= 0)
            agreed_total[g] += int(agreed.size)
            for r in agreed:  # a few hundred replicas; each Pareto mask is vectorised over K
                utilities = p.utilities[g][r].T.astype(float)
                point = utilities[model.agreement[g, r]]
                frontier = utilities[pareto_mask(utilities)]
                to_frontier[g].append(float(np.min(np.linalg.norm(frontier - point, axis=1))))
                nash = nash_bargaining(utilities, model.agreement_war[g, r])
                if nash is not None:
                    to_nash[g].append(float(np.linalg.norm(utilities[nash] - point)))
                    is_nash[g].append(nash == model.agreement[g, r])
    return {
        name: {
            "agreed": agreed_total[g],
            "mean_distance_to_pareto": _mean(to_frontier[g]),
            "median_distance_to_pareto": _median(to_frontier[g]),
            "share_pareto_optimal": _mean([float(d == 0.0) for d in to_frontier[g]]),
            "mean_distance_to_nash": _mean(to_nash[g]),
            "median_distance_to_nash": _median(to_nash[g]),
            "share_at_nash": _mean([float(x) for x in is_nash[g]]),
        }
        for g, name in enumerate(names)
    }


def _mean(values: list[float]) -> float | None:
    return round(float(np.mean(values)), 6) if values else None


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 6) if values else None
