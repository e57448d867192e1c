"""Compile a scenario into arrays over (replica R, party P, issue I) for replicas start..stop.

The documented numbers become per-replica draws (Dirichlet saliences, noisy ideals and
win beliefs, event credibility, battlefield shocks), each from its own replica-keyed
stream, so replica r gets the same numbers whatever batch it runs in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario
from sim.scoring import commitment_penalty, group_utilities, red_line_crossed
from sim.space import Group, IssueSpace, agenda_groups, grid, issue_space
from sim.streams import replica_draws

MIN_BELIEF = 0.01
"""Win beliefs are clipped to [MIN_BELIEF, 1 - MIN_BELIEF]: no side is certain of war."""


@dataclass(frozen=True)
class Problem:
    """Everything the engine needs, as arrays; belligerents only on the party axis P."""

    scenario: Scenario
    space: IssueSpace
    groups: list[Group]
    parties: tuple[str, ...]  # (P,) belligerents
    start: int
    stop: int
    ideal: np.ndarray  # (R, P, I) normalised
    weights: np.ndarray  # (R, P, I) salience weights (sum 1 over I)
    risk_exponent: np.ndarray  # (P,)
    win_probability: np.ndarray  # (R, P) own belief of winning, before dynamics
    war_cost: np.ndarray  # (P,)
    war_cost_per_round: np.ndarray  # (P,)
    patience: np.ndarray  # (P,)
    event_carried_out: np.ndarray  # (R, E) bool
    battlefield_shock: np.ndarray  # (R, T) cumulative shocks to the favoured side's belief
    utilities: list[np.ndarray]  # per group (R, P, K_g)

    @property
    def replicas(self) -> int:
        """R, the number of replicas held."""
        return self.stop - self.start


def _documented(scenario: Scenario, parties: tuple[str, ...], space: IssueSpace) -> tuple[np.ndarray, np.ndarray]:
    """Documented ideals (P, I, normalised) and salience weights (P, I, summing to 1)."""
    ideal = np.empty((len(parties), len(space.names)))
    weight = np.empty_like(ideal)
    for p, name in enumerate(parties):
        party = scenario.parties[name]
        for i, issue in enumerate(space.names):
            pos = party.positions[issue]
            ideal[p, i] = space.to_unit(pos.ideal, i)
            weight[p, i] = scenario.salience_weight(pos.salience)
    return ideal, weight / weight.sum(axis=1, keepdims=True)


def _penalties(scenario: Scenario, parties: tuple[str, ...], space: IssueSpace, group: Group, ideal: np.ndarray) -> np.ndarray:
    """Red-line and commitment costs (P, K) of each candidate of one group.

    Issues outside the group stand at their status quo.
    """
    penalty = np.zeros((len(parties), group.size))
    members = list(group.issues)
    for p, name in enumerate(parties):
        party = scenario.parties[name]
        for red in party.red_lines:
            i = space.names.index(red.issue)
            if i in members:
                x = group.candidates[:, members.index(i)]
                crossed = red_line_crossed(x, space.to_unit(red.limit, i), ideal[p, i])
                penalty[p] += red.cost * crossed
        for com in party.commitments:
            i = space.names.index(com.issue)
            if i not in members:
                continue
            relief: np.ndarray | float = 1.0
            if com.relieved_by is not None:
                j = space.names.index(com.relieved_by)
                relief = group.candidates[:, members.index(j)] if j in members else space.status_quo[j]
            penalty[p] += commitment_penalty(group.candidates[:, members.index(i)], relief, com.penalty, com.relieved_at)
    return penalty


def compile_problem(scenario: Scenario, start: int = 0, stop: int | None = None) -> Problem:
    """Arrays for global replicas ``start .. stop-1`` (default: all the scenario's replicas)."""
    stop = scenario.replicas if stop is None else stop
    space = issue_space(scenario)
    groups = agenda_groups(scenario, space)
    parties = tuple(scenario.belligerents)
    seed = scenario.seed
    n_rounds = scenario.protocol.rounds
    ideal0, weight0 = _documented(scenario, parties, space)
    unc = scenario.uncertainty
    n = stop - start

    ideal = np.broadcast_to(ideal0, (n, *ideal0.shape)).copy()
    weights = np.broadcast_to(weight0, (n, *weight0.shape)).copy()
    win0 = np.array([scenario.parties[name].war.win_probability for name in parties])  # type: ignore[union-attr]
    win = np.broadcast_to(win0, (n, len(parties))).copy()
    for p, name in enumerate(parties):
        if unc is not None and unc.salience_concentration is not None:
            alpha = unc.salience_concentration * weight0[p]

            def dirichlet(g: np.random.Generator, m: int, a: np.ndarray = alpha) -> np.ndarray:
                return g.dirichlet(a, size=m)

            weights[:, p] = replica_draws(seed, f"salience/{name}", start, stop, dirichlet)
        if unc is not None and unc.ideal_noise > 0:
            noise = replica_draws(seed, f"ideal/{name}", start, stop, lambda g, m: g.standard_normal((m, len(space.names))))
            ideal[:, p] = np.clip(ideal0[p] + unc.ideal_noise * noise, 0.0, 1.0)
        if unc is not None and unc.win_probability_noise > 0:
            noise = replica_draws(seed, f"win/{name}", start, stop, lambda g, m: g.standard_normal(m))
            win[:, p] = win0[p] + unc.win_probability_noise * noise
    win = np.clip(win, MIN_BELIEF, 1.0 - MIN_BELIEF)

    carried = np.ones((n, len(scenario.events)), dtype=bool)
    for e, event in enumerate(scenario.events):
        carried[:, e] = replica_draws(seed, f"event/{e}", start, stop, lambda g, m: g.random(m)) < event.credibility

    shock = np.zeros((n, n_rounds))
    bf = scenario.battlefield
    if bf is not None and bf.volatility > 0:
        steps = replica_draws(seed, "battlefield", start, stop, lambda g, m: g.standard_normal((m, n_rounds)))
        shock = np.cumsum(bf.volatility * steps, axis=1)
        shock[:, 0] = 0.0  # round 0 is the documented state

    risk = np.array([scenario.parties[name].risk_exponent for name in parties])
    utilities = []
    for group in groups:
        positions = [grid(space.levels[i]) for i in group.issues]
        penalty = _penalties(scenario, parties, space, group, ideal0)
        utilities.append(
            group_utilities(group.level_index, positions, ideal[:, :, group.issues], weights[:, :, group.issues], risk, penalty)
        )
    war = [scenario.parties[name].war for name in parties]
    strategies = [scenario.parties[name].strategy for name in parties]
    return Problem(
        scenario=scenario,
        space=space,
        groups=groups,
        parties=parties,
        start=start,
        stop=stop,
        ideal=ideal,
        weights=weights,
        risk_exponent=risk,
        win_probability=win,
        war_cost=np.array([w.cost for w in war if w is not None]),
        war_cost_per_round=np.array([w.cost_per_round for w in war if w is not None]),
        patience=np.array([s.patience for s in strategies if s is not None]),
        event_carried_out=carried,
        battlefield_shock=shock,
        utilities=utilities,
    )
