"""Compile a scenario into arrays over (replica R, party P, issue I) for replicas start..stop.

The documented numbers become per-replica draws (Dirichlet saliences, noisy ideals and
win beliefs, event credibility, battlefield shocks), each from its own replica-keyed
stream, so replica r gets the same numbers whatever batch it runs in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from sim.scenario import Scenario
from sim.scoring import commitment_penalty, group_utilities, red_line_crossed
from sim.space import Group, IssueSpace, agenda_groups, grid, issue_space
from sim.streams import replica_draws

MIN_BELIEF = 0.01
"""Win beliefs are clipped to [MIN_BELIEF, 1 - MIN_BELIEF]: no side is certain of war."""


@dataclass(frozen=True)
class Problem:
    """Everything the engine needs, as arrays; belligerents only on the party axis P.

    Every number the engine reads while it runs is an array over the replica axis R, so
    problems of scenarios that differ only in such numbers (one point of a sweep each)
    stack into one batch (``stack_problems``); ``scenario`` then stands for all of them
    in what ``structure_key`` keeps: the shapes, protocol and strategies.
    """

    scenario: Scenario
    space: IssueSpace
    groups: list[Group]
    parties: tuple[str, ...]  # (P,) belligerents
    start: int
    stop: int
    ideal: np.ndarray  # (R, P, I) normalised
    weights: np.ndarray  # (R, P, I) salience weights (sum 1 over I)
    risk_exponent: np.ndarray  # (R, P)
    win_probability: np.ndarray  # (R, P) own belief of winning, before dynamics
    war_cost: np.ndarray  # (R, P)
    war_cost_per_round: np.ndarray  # (R, P)
    patience: np.ndarray  # (R, P)
    event_carried_out: np.ndarray  # (R, E) bool
    event_credibility: np.ndarray  # (R, E)
    event_change: np.ndarray  # (R, E, P) change of each belligerent's war payoff
    event_from_round: np.ndarray  # (R, E) int
    battlefield_drift: np.ndarray  # (R,) per round, toward the favoured side
    status_quo_drift: np.ndarray  # (R, I) per round, normalised
    battlefield_shock: np.ndarray  # (R, T) cumulative shocks to the favoured side's belief
    utilities: list[np.ndarray]  # per group (R, P, K_g)

    @property
    def replicas(self) -> int:
        """R, the number of replicas held."""
        return self.stop - self.start


T = TypeVar("T")

PER_REPLICA = (
    "ideal",
    "weights",
    "risk_exponent",
    "win_probability",
    "war_cost",
    "war_cost_per_round",
    "patience",
    "event_carried_out",
    "event_credibility",
    "event_change",
    "event_from_round",
    "battlefield_drift",
    "status_quo_drift",
    "battlefield_shock",
)
"""The fields of ``Problem`` with a leading replica axis (besides ``utilities``)."""


def take_replicas(problem: Problem, index: np.ndarray) -> Problem:
    """The problem restricted to (or reordered by) replica positions ``index``."""
    index = np.asarray(index)
    per_replica: dict[str, Any] = {name: getattr(problem, name)[index] for name in PER_REPLICA}
    return replace(problem, start=0, stop=len(index), utilities=[u[index] for u in problem.utilities], **per_replica)


def stack_problems(problems: list[Problem], *, checked: bool = False) -> Problem:
    """One batch of the problems' replicas in order: replica i of the result is the i-th overall.

    The problems must share ``structure_key``: they may differ in any number the engine
    holds per replica, never in shapes, protocol or strategies. ``checked``: the caller
    grouped them by that key already.
    """
    first = problems[0]
    if not checked and len({structure_key(p.scenario) for p in problems}) > 1:
        raise ValueError("problems differ in structure (protocol, strategies, issues or agenda) and cannot share a batch")
    if len(problems) == 1:
        return first
    per_replica: dict[str, Any] = {name: np.concatenate([getattr(p, name) for p in problems]) for name in PER_REPLICA}
    utilities = [np.concatenate([p.utilities[g] for p in problems]) for g in range(len(first.groups))]
    total = sum(p.replicas for p in problems)
    return replace(first, start=0, stop=total, utilities=utilities, **per_replica)


_PER_REPLICA_PARTY = ("positions", "risk_exponent", "war", "red_lines", "commitments", "capability")


def _plain(value: Any) -> Any:
    """A scenario as plain data without the 'evidence' and 'assumption' fields of its
    evidence-backed blocks (they compute nothing). Only those model fields are dropped:
    an issue, party or group that happens to be called "evidence" stays."""
    from sim.scenario import Basis

    if isinstance(value, BaseModel):
        skip = ("evidence", "assumption") if isinstance(value, Basis) else ()
        return {name: _plain(getattr(value, name)) for name in type(value).model_fields if name not in skip}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def structure_key(scenario: Scenario) -> str:
    """What must be equal for two scenarios to share one batch of replicas.

    Everything the engine does not hold per replica: issues, agenda, parties and roles,
    protocol, strategies (but patience), who events target and which group averts them,
    who the battlefield favours. Texts, seed, replica count and evidence are left out.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> s = load_scenario("scenarios/istanbul_2025.yaml").scenario
    >>> war = s.parties["russia"].war.model_copy(update={"cost_per_round": 0.5})
    >>> other = s.model_copy(update={"parties": {**s.parties, "russia": s.parties["russia"].model_copy(update={"war": war})}})
    >>> structure_key(other) == structure_key(s)
    True
    >>> structure_key(s.model_copy(update={"protocol": s.protocol.model_copy(update={"rounds": 5})})) == structure_key(s)
    False
    """
    data: dict[str, Any] = _plain(scenario)
    for key in ("name", "title", "question", "description", "seed_document", "evidence_file", "seed", "replicas",
                "salience_levels", "uncertainty"):
        data.pop(key, None)
    for party in data["parties"].values():
        for key in _PER_REPLICA_PARTY:
            party.pop(key, None)
        if party.get("strategy"):
            party["strategy"].pop("patience", None)
    for event in data["events"]:
        for key in ("credibility", "from_round"):
            event.pop(key, None)
        event["targets"] = sorted(event["targets"])
    if data.get("battlefield"):
        bf = data["battlefield"]
        for key in ("drift", "volatility"):
            bf.pop(key, None)
        bf["status_quo_drift"] = sorted(bf["status_quo_drift"])
    return json.dumps(data, sort_keys=True, default=str)


def required(value: T | None, what: str) -> T:
    """A block every belligerent has (the schema requires it), typed as present."""
    if value is None:
        raise ValueError(f"{what} is missing: the schema requires it of every belligerent")
    return value


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

    def per_replica(values: Any) -> np.ndarray:
        """The same values for every replica, as an array (R, ...) of its own."""
        array = np.asarray(values)
        return np.broadcast_to(array, (n, *array.shape)).copy()

    ideal = per_replica(ideal0)
    weights = per_replica(weight0)
    war = [required(scenario.parties[name].war, f"{name}'s war") for name in parties]
    win0 = np.array([w.win_probability for w in war])
    win = per_replica(win0)
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
    strategies = [required(scenario.parties[name].strategy, f"{name}'s strategy") for name in parties]
    n_events = len(scenario.events)
    change = np.zeros((n_events, len(parties)))
    for e, event in enumerate(scenario.events):
        for target, value in event.targets.items():
            change[e, parties.index(target)] = value
    sq_drift = np.zeros(len(space.names))
    if bf is not None:
        for issue, per_round in bf.status_quo_drift.items():
            i = space.names.index(issue)
            sq_drift[i] = per_round / (space.high[i] - space.low[i])

    return Problem(
        scenario=scenario,
        space=space,
        groups=groups,
        parties=parties,
        start=start,
        stop=stop,
        ideal=ideal,
        weights=weights,
        risk_exponent=per_replica(risk),
        win_probability=win,
        war_cost=per_replica([w.cost for w in war]),
        war_cost_per_round=per_replica([w.cost_per_round for w in war]),
        patience=per_replica([s.patience for s in strategies]),
        event_carried_out=carried,
        event_credibility=per_replica(np.array([event.credibility for event in scenario.events], dtype=float)),
        event_change=per_replica(change),
        event_from_round=per_replica(np.array([event.from_round for event in scenario.events], dtype=np.int64)),
        battlefield_drift=per_replica(0.0 if bf is None else bf.drift),
        status_quo_drift=per_replica(sq_drift),
        battlefield_shock=shock,
        utilities=utilities,
    )
