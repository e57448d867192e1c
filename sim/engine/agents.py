"""The Mesa agents: belligerent parties and mediators.

Every agent's state is an array over the replica axis R. Parties hold their strategy and
per-group memory; the mediator holds its single-text weights. The rules themselves are
pure functions in ``sim.core.strategies`` and ``sim.core.protocols``. Third parties act
through the scenario's events, compiled into the batch; they have no agent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.protocols import RoundResult, revise_text_weights
from sim.core.sides import others_min
from sim.core.strategies import Concession, Memory, Time
from sim.theory import mesa_core as mesa  # Mesa's own classes, without running mesa/__init__ (start-up)

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel

Bounds = tuple[np.ndarray, np.ndarray]
"""A party's ``(p_min, p_max)`` in one round, each (R,)."""


class Party(mesa.Agent):
    """A belligerent: its concession strategy and memory of each agenda group (its patience,
    per replica, is ``model.batch.patience[:, index]``)."""

    def __init__(self, model: NegotiationModel, name: str, index: int, strategy: Concession) -> None:
        super().__init__(model)
        self.name = name
        self.index = index
        self.strategy = strategy
        r = model.batch.replicas
        self.memory = [
            Memory(
                target=np.full(r, np.inf),
                other_utility=np.full(r, -np.inf),
                other_utility_before=np.full(r, -np.inf),
                own_risk=np.ones(r),
                other_risk=np.ones(r),
            )
            for _ in model.batch.groups
        ]

    def targets(
        self, group: int, t: Time, t_next: Time, bounds: Bounds, bounds_next: Bounds, keep: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """This round's and next round's target utility (R,) in one group, within this
        round's and next round's ``(p_min, p_max)`` (each (R,)): its war payoff and the
        opening demand its patience gives it (``sim.core.patience``). ``keep``: remember this
        round's target (``memory.target``); a lean round keeps none (its strategy reads none)."""
        memory = self.memory[group]
        now = self.strategy.target(t, *bounds, memory)
        if keep:
            memory.target = now
        return now, self.strategy.next_target(t_next, *bounds_next, memory)

    def remember(self, group: int, result: RoundResult, risks: np.ndarray) -> None:
        """Store the other side's offer (the others' mean, with more than two) and the round's
        Zeuthen risk limits ``risks (R, P)``: the smallest of the others' is the one to beat."""
        memory = self.memory[group]
        p = self.index
        memory.other_utility_before = memory.other_utility
        memory.other_utility = result.answered[:, p]
        memory.own_risk = risks[:, p]
        memory.other_risk = others_min(risks, p)


class Mediator(mesa.Agent):
    """A mediator; under the single-text protocol it writes and revises the text."""

    def __init__(self, model: NegotiationModel, name: str, step: float) -> None:
        super().__init__(model)
        self.name = name
        self.step = step
        r, p = model.batch.replicas, len(model.batch.parties)
        self.text_weights = [np.full((r, p), 1.0 / p) for _ in model.batch.groups]

    def revise(self, group: int, result: RoundResult, targets: np.ndarray) -> None:
        """Move the text toward the parties it leaves short of their targets."""
        self.text_weights[group] = revise_text_weights(self.text_weights[group], targets - result.table_value, self.step)
