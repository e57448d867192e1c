"""``NegotiationModel``: the one engine, a Mesa model over a compiled batch of replicas.

Each Mesa step is one round: dynamics move the war payoffs, the protocol runs in every open
agenda group, agreements are recorded, and the trace and DataCollector are updated. The
model reads only its ``Batch``; the scenario it came from is never read back.
"""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from sim.core.batch import Batch
from sim.core.dynamics import WarPayoffs
from sim.core.protocols import RoundResult, alternating_offers, group_frontiers, single_text
from sim.core.strategies import risk_limit
from sim.engine.agents import Mediator, Party
from sim.engine.compile import compile_batch
from sim.inputs.schema import Scenario


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
    """A negotiation over one compiled batch of replicas.

    Parameters
    ----------
    batch : Batch
        From ``sim.engine.compile_batch(scenario, start, stop)`` (or several stacked).

    Notes
    -----
    Randomness has one road: every per-replica draw (saliences, ideals, beliefs, whether a
    threat is carried out, battlefield shocks) was made when the batch was compiled, from
    streams keyed by (scenario seed, stream, global replica index) (``sim.core.streams``).
    Mesa's own generator, seeded with the scenario seed, draws nothing: a step is
    deterministic given the batch.

    Rounds are Mesa's ``steps``: during a step the round being played is ``steps - 1``
    (from 0); ``run_model()`` plays until the deadline or until every group agreed.

    Examples
    --------
    >>> from sim.inputs import load_scenario
    >>> from sim.engine import compile_batch
    >>> model = NegotiationModel(compile_batch(load_scenario("istanbul_2025").scenario, stop=4))
    >>> model.run_model()
    >>> model.agreed_round.shape
    (2, 4)
    """

    def __init__(self, batch: Batch) -> None:
        super().__init__(rng=batch.labels.seed)
        self.batch = batch
        self.rounds = batch.rounds
        self.parties = [Party(self, name, i, batch.strategies[i]) for i, name in enumerate(batch.parties)]
        self.mediators = {name: Mediator(self, name, batch.mediator_step) for name in batch.mediators}
        n_groups, n_parties = len(batch.groups), len(batch.parties)
        self.agreed_round = np.full((n_groups, batch.replicas), -1, dtype=np.int64)
        self.agreement = np.full((n_groups, batch.replicas), -1, dtype=np.int64)
        self.agreement_war = np.full((n_groups, batch.replicas, n_parties), np.nan)
        # each party's acceptance of the agreement, or of the last table while none was reached
        self.accepted_by = np.zeros((n_groups, batch.replicas, n_parties), dtype=bool)
        shape = (n_groups, self.rounds, batch.replicas, n_parties)
        self.trace = Trace(
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape[:3], -1, np.int32),
        )
        self._best = [u.max(axis=2) for u in batch.utilities]
        self._worst = [u.min(axis=2) for u in batch.utilities]
        # offers come from each replica's frontier, built once: utilities do not change while running
        self.frontiers = [group_frontiers(u, batch.protocol == "single_text") for u in batch.utilities]
        self.war_payoffs = WarPayoffs(batch)
        reporters = {
            f"agreed_{g.name}": (lambda m, i=i: float((m.agreed_round[i] >= 0).mean())) for i, g in enumerate(batch.groups)
        }
        self.datacollector = mesa.DataCollector(model_reporters=reporters)

    def proposer_at(self, round_: int) -> int:
        """Whose offer is on the table in round ``round_`` (from 0): a belligerent's index,
        or -1 under the single-text protocol, where the mediator writes the text."""
        if self.batch.protocol == "single_text":
            return -1
        return (self.batch.first_proposer + round_) % len(self.parties)

    def _round(self, g: int, t_round: int, war: np.ndarray) -> RoundResult:
        """Run the protocol for group ``g`` in round ``t_round`` (from 0)."""
        b = self.batch
        t = t_round / (self.rounds - 1)
        t_next = (t_round + 1) / (self.rounds - 1)
        p_max = self._best[g]
        p_min = np.clip(war, self._worst[g], p_max)
        targets = np.empty_like(war)
        next_targets = np.empty_like(war)
        for party in self.parties:
            i = party.index
            targets[:, i], next_targets[:, i] = party.targets(g, t, t_next, p_min[:, i], p_max[:, i])
        if b.protocol == "single_text":
            mediator = self.mediators[str(b.text_mediator)]
            result = single_text(
                b.utilities[g], mediator.text_weights[g], targets, next_targets, war, b.patience, self.frontiers[g]
            )
            mediator.revise(g, result, targets)
        else:
            result = alternating_offers(
                b.utilities[g], targets, next_targets, war, b.patience, self.proposer_at(t_round), self.frontiers[g]
            )
        risks = risk_limit(result.own, result.answered, war)
        for party in self.parties:
            party.remember(g, result, risks)
        return result

    def step(self) -> None:
        """One round in every open agenda group (Mesa has counted it in ``steps`` already)."""
        t_round = self.steps - 1
        wars = self.war_payoffs(t_round)
        for g, war in enumerate(wars):
            open_ = self.agreed_round[g] < 0
            if not open_.any():
                continue
            result = self._round(g, t_round, war)
            # masked copies in place: no compacted temporaries per round
            each = open_[:, None]
            np.copyto(self.trace.own[g, t_round], result.own, where=each)
            np.copyto(self.trace.answered[g, t_round], result.answered, where=each)
            np.copyto(self.trace.war[g, t_round], war, where=each)
            np.copyto(self.trace.table[g, t_round], result.table, where=open_)
            np.copyto(self.accepted_by[g], result.accepted_by, where=each)
            new = open_ & result.accepted
            np.copyto(self.agreed_round[g], t_round, where=new)
            np.copyto(self.agreement[g], result.table, where=new)
            np.copyto(self.agreement_war[g], war, where=new[:, None])
        self.datacollector.collect(self)
        if self.steps >= self.rounds or (self.agreed_round >= 0).all():
            self.running = False


def run_scenario(scenario: Scenario, *, start: int = 0, stop: int | None = None) -> NegotiationModel:
    """Compile, build and run a model of global replicas ``start .. stop-1``; the finished
    model holds the results."""
    model = NegotiationModel(compile_batch(scenario, start, stop))
    model.run_model()
    return model
