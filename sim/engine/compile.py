"""Compile a scenario into a ``Batch``: arrays over (replica R, party P, issue I) for
replicas start..stop, plus the rules the engine follows (protocol, strategies, events).

The documented numbers become per-replica draws (Dirichlet saliences, noisy ideals and
win beliefs, event credibility, battlefield shocks), each from its own replica-keyed
stream, so replica r gets the same numbers whatever batch it runs in. This is the one
place that reads the scenario schema on the way into the engine.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel

from sim.core.batch import MIN_BELIEF, Batch, Labels, TruceRule
from sim.core.scoring import commitment_penalty, group_utilities, red_line_crossed
from sim.core.space import Group, IssueSpace, grid
from sim.core.strategies import Concession, TimeDependent, TitForTat, Zeuthen
from sim.core.streams import replica_draws
from sim.inputs.schema import Basis, Scenario
from sim.inputs.schema import Strategy as StrategySpec

T = TypeVar("T")

_PER_REPLICA_PARTY = ("positions", "risk_exponent", "war", "red_lines", "commitments", "capability")


def _plain(value: Any) -> Any:
    """A scenario as plain data without the 'evidence' and 'assumption' fields of its
    evidence-backed blocks (they compute nothing). Only those model fields are dropped:
    an issue, party or group that happens to be called "evidence" stays."""
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
    >>> from sim.inputs import load_scenario
    >>> s = load_scenario("istanbul_2025").scenario
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
        for key in ("credibility", "from_round", "from_day"):  # from_day only dates from_round
            event.pop(key, None)
        event["targets"] = sorted(event["targets"])
    if not data["agenda_rules"]:  # keys only scenarios with phases, truces or exchanges have
        data.pop("agenda_rules")
    if data["protocol"]["round_days"] is None:
        data["protocol"].pop("round_days")
    for issue in data["issues"].values():
        if issue["exchange"] is None:
            issue.pop("exchange")
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


def compile_batch(scenario: Scenario, start: int = 0, stop: int | None = None) -> Batch:
    """The batch of global replicas ``start .. stop-1`` (default: all the scenario's replicas)."""
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

    favours = scenario.side_of(bf.favours) if bf is not None else None
    sides = np.array([scenario.sides.index(scenario.side_of(name)) for name in parties], dtype=np.int64)
    return Batch(
        labels=Labels(
            scenario=scenario.name,
            title=scenario.title,
            question=scenario.question,
            seed=seed,
            party_names=tuple(scenario.parties[name].name for name in parties),
            units={name: issue.units for name, issue in scenario.issues.items()},
            events=tuple(event.name for event in scenario.events),
            exchanges={n: (i.exchange.per, i.exchange.of) for n, i in scenario.issues.items() if i.exchange is not None},
        ),
        structure=structure_key(scenario),
        space=space,
        groups=groups,
        parties=parties,
        rounds=n_rounds,
        protocol=scenario.protocol.type,
        first_proposer=parties.index(scenario.protocol.first_proposer) if scenario.protocol.first_proposer else 0,
        after_deadline=scenario.protocol.after_deadline,
        mediators=tuple(name for name, party in scenario.parties.items() if party.role == "mediator"),
        text_mediator=scenario.protocol.mediator,
        mediator_step=scenario.protocol.step,
        strategies=tuple(make_strategy(spec) for spec in strategies),
        side=sides,
        battlefield_sign=None if favours is None else np.where(sides == scenario.sides.index(favours), 1.0, -1.0),
        event_group=tuple(event.unless_agreed for event in scenario.events),
        start=start,
        stop=stop,
        ideal=ideal,
        weights=weights,
        risk_exponent=per_replica(risk),
        capability=per_replica(np.array([scenario.parties[name].capability for name in parties], dtype=float)),
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
        **_phases_and_truces(scenario, groups, start, stop),
    )


def _phases_and_truces(scenario: Scenario, groups: list[Group], start: int, stop: int) -> dict[str, Any]:
    """The batch's fields for phased agenda groups and truces: none where the scenario has neither."""
    rules = scenario.agenda_rules
    if not rules:
        return {}
    names = [g.name for g in groups]
    opens_after = tuple(
        tuple(names.index(b) for b in rules[name].opens_after) if name in rules else () for name in names
    )
    truces = []
    for name, rule in rules.items():
        if rule.truce is not None:
            t = rule.truce
            column = scenario.agenda[name].index(t.duration_issue)
            truces.append(TruceRule(names.index(name), column, 1.0 if t.unit == "days" else 1.0 / 24.0,
                                    t.war_cost_relief, t.breaks))
    n_rounds = scenario.protocol.rounds
    draws = np.stack(
        [replica_draws(scenario.seed, f"truce/{names[t.group]}", start, stop, lambda g, m: g.random((m, n_rounds)))
         for t in truces],
        axis=1,
    ) if truces else np.zeros((stop - start, 0, n_rounds))
    return {"opens_after": opens_after, "truces": tuple(truces), "round_days": scenario.protocol.round_days,
            "truce_break_draw": draws}


def make_strategy(spec: StrategySpec) -> Concession:
    """The strategy object a scenario's ``strategy`` block names."""
    if spec.type == "time_dependent":
        return TimeDependent(e=spec.e, k=spec.k)
    if spec.type == "tit_for_tat":
        return TitForTat(initial_concession=spec.initial_concession)
    return Zeuthen(step=spec.step)


def issue_space(scenario: Scenario) -> IssueSpace:
    """The scenario's issues as arrays."""
    names = tuple(scenario.issues)
    low = np.array([scenario.issues[n].range[0] for n in names], dtype=float)
    high = np.array([scenario.issues[n].range[1] for n in names], dtype=float)
    sq = np.array([scenario.issues[n].status_quo for n in names], dtype=float)
    return IssueSpace(
        names=names,
        low=low,
        high=high,
        status_quo=(sq - low) / (high - low),
        war_decides=np.array([scenario.issues[n].war_decides for n in names], dtype=bool),
        levels=tuple(scenario.issues[n].levels for n in names),
    )


def agenda_groups(scenario: Scenario, space: IssueSpace) -> list[Group]:
    """Every agenda group with its candidate grid (the product of its issues' levels).

    A group that holds an issue marked ``ends_war`` is one whose failure means the war
    goes on, so its disagreement point carries the cost of war.
    """
    groups = []
    for name, members in scenario.agenda.items():
        idx = np.array([space.names.index(m) for m in members], dtype=int)
        axes = [np.arange(space.levels[i]) for i in idx]
        mesh = np.meshgrid(*axes, indexing="ij")
        level_index = np.stack([m.ravel() for m in mesh], axis=1)
        candidates = np.stack([grid(space.levels[i])[level_index[:, j]] for j, i in enumerate(idx)], axis=1)
        ends_war = any(scenario.issues[m].ends_war for m in members)
        groups.append(Group(name, idx, candidates, level_index, ends_war))
    return groups
