"""``NegotiationModel``: the one engine, a Mesa model over a batch of replicas.

Each step is one round: dynamics move the war payoffs, the protocol runs in every open
agenda group, agreements are recorded, and the trace and DataCollector are updated.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.agents import Mediator, Party, ThirdParty
from sim.dynamics import war_payoffs
from sim.problem import Problem, compile_problem, required
from sim.protocols import RoundResult, alternating_offers, single_text
from sim.scenario import Scenario
from sim.strategies import make_strategy, risk_limit


@dataclass(frozen=True)
class Trace:
    """Per-round arrays, each (G, T, R, P), NaN where a group had already agreed.

    ``own``: each party's utility of its own offer; ``answered``: its utility of the offer
    it answered (the other side's or the mediator's text); ``war``: its war payoff;
    ``table`` (G, T, R): the candidate on the table, -1 once the group had agreed.
    """

    own: np.ndarray
    answered: np.ndarray
    war: np.ndarray
    table: np.ndarray


class NegotiationModel(mesa.Model):
    """A negotiation of one scenario for global replicas ``start .. stop-1``.

    Parameters
    ----------
    scenario : Scenario
        A validated scenario (see ``sim.scenario.load_scenario``).
    start, stop : int
        Global replica indices this model holds; replica r's result depends only on the
        scenario and r, never on the batch.

    Examples
    --------
    >>> from sim.scenario import load_scenario
    >>> model = NegotiationModel(load_scenario("scenarios/istanbul_2025.yaml").scenario, stop=4)
    >>> model.run()
    >>> model.agreed_round.shape
    (2, 4)
    """

    def __init__(self, scenario: Scenario, *, start: int = 0, stop: int | None = None, problem: Problem | None = None) -> None:
        super().__init__(rng=scenario.seed)
        self.problem: Problem = compile_problem(scenario, start, stop) if problem is None else problem
        p = self.problem
        self.rounds = scenario.protocol.rounds
        self.round = 0
        self.parties = [
            Party(self, name, i, make_strategy(required(scenario.parties[name].strategy, f"{name}'s strategy")))
            for i, name in enumerate(p.parties)
        ]
        self.mediators = {
            name: Mediator(self, name, scenario.protocol.step)
            for name, party in scenario.parties.items()
            if party.role == "mediator"
        }
        self.third_parties = [ThirdParty(self, name) for name, party in scenario.parties.items() if party.role == "third_party"]
        n_groups, n_parties = len(p.groups), len(p.parties)
        self.proposer0 = p.parties.index(scenario.protocol.first_proposer) if scenario.protocol.first_proposer else 0
        self.agreed_round = np.full((n_groups, p.replicas), -1, dtype=np.int64)
        self.agreement = np.full((n_groups, p.replicas), -1, dtype=np.int64)
        self.agreement_war = np.full((n_groups, p.replicas, n_parties), np.nan)
        shape = (n_groups, self.rounds, p.replicas, n_parties)
        self.trace = Trace(
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape[:3], -1, np.int32),
        )
        self._best = [u.max(axis=2) for u in p.utilities]
        self._worst = [u.min(axis=2) for u in p.utilities]
        reporters = {f"agreed_{g.name}": (lambda m, i=i: float((m.agreed_round[i] >= 0).mean())) for i, g in enumerate(p.groups)}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def proposer_at(self, round_: int) -> int:
        """Whose offer is on the table in round ``round_`` (from 0): a belligerent's index,
        or -1 under the single-text protocol, where the mediator writes the text."""
        if self.problem.scenario.protocol.type == "single_text":
            return -1
        return (self.proposer0 + round_) % len(self.parties)

    def _round(self, g: int, war: np.ndarray) -> RoundResult:
        """Run the protocol for group ``g`` this round."""
        p = self.problem
        t = self.round / (self.rounds - 1)
        t_next = (self.round + 1) / (self.rounds - 1)
        p_max = self._best[g]
        p_min = np.clip(war, self._worst[g], p_max)
        targets = np.empty_like(war)
        next_targets = np.empty_like(war)
        for party in self.parties:
            i = party.index
            targets[:, i], next_targets[:, i] = party.targets(g, t, t_next, p_min[:, i], p_max[:, i])
        protocol = p.scenario.protocol
        if protocol.type == "single_text":
            mediator = self.mediators[str(protocol.mediator)]
            result = single_text(p.utilities[g], mediator.text_weights[g], targets, next_targets, war, p.patience)
            mediator.revise(g, result, targets)
        else:
            result = alternating_offers(p.utilities[g], targets, next_targets, war, p.patience, self.proposer_at(self.round))
        risks = risk_limit(result.own, result.answered, war)
        for party in self.parties:
            party.remember(g, result, risks)
        return result

    def step(self) -> None:
        """One round in every open agenda group."""
        wars = war_payoffs(self.problem, self.round)
        for g, war in enumerate(wars):
            open_ = self.agreed_round[g] < 0
            if not open_.any():
                continue
            result = self._round(g, war)
            self.trace.own[g, self.round][open_] = result.own[open_]
            self.trace.answered[g, self.round][open_] = result.answered[open_]
            self.trace.war[g, self.round][open_] = war[open_]
            self.trace.table[g, self.round][open_] = result.table[open_]
            new = open_ & result.accepted
            self.agreed_round[g, new] = self.round
            self.agreement[g, new] = result.table[new]
            self.agreement_war[g, new] = war[new]
        self.datacollector.collect(self)
        self.round += 1
        if self.round >= self.rounds or (self.agreed_round >= 0).all():
            self.running = False

    def run(self) -> None:
        """Step until the deadline or until every group agreed in every replica."""
        while self.running:
            self.step()


def run_scenario(scenario: Scenario, *, start: int = 0, stop: int | None = None) -> NegotiationModel:
    """Build and run a model; the finished model holds the results."""
    model = NegotiationModel(scenario, start=start, stop=stop)
    model.run()
    return model
