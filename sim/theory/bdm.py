"""The Bueno de Mesquita expected-utility model as a Mesa model over one issue.

Every party with a position on the issue is an agent; each step is one round of
challenges and offers (``sim.theory.bdm_expected_utility``, after Scholz, Calbert &
Smith 2011), so the multilateral forecast runs on any scenario with several parties.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim.errors import InputError, Problem
from sim.inputs import Scenario
from sim.theory import bdm_expected_utility, weighted_median
from sim.theory import mesa_core as mesa  # Mesa's own classes, without running mesa/__init__ (start-up)


class Actor(mesa.Agent):
    """A party on one issue: its position on [0, 1], capability and salience in [0, 1]."""

    def __init__(self, model: ExpectedUtilityModel, name: str, position: float, capability: float, salience: float) -> None:
        super().__init__(model)
        self.name = name
        self.position = position
        self.capability = capability
        self.salience = salience


class ExpectedUtilityModel(mesa.Model):
    """Rounds of the expected-utility model among every party holding a position on ``issue``.

    Saliences are the scenario's weights divided by the largest, so the most salient
    actor has salience 1 (the model reads salience as a probability of resisting).

    Examples
    --------
    >>> from sim.inputs import load_scenario
    >>> model = ExpectedUtilityModel(load_scenario("istanbul_2025").scenario, "ceasefire", rounds=3)
    >>> model.run_model()
    >>> len(model.datacollector.get_model_vars_dataframe())
    4
    """

    def __init__(
        self, scenario: Scenario, issue: str, *, rounds: int = 10, risk: Literal["endogenous", "neutral"] = "endogenous"
    ) -> None:
        super().__init__(rng=scenario.seed)
        if issue not in scenario.issues:
            raise InputError([Problem(scenario.name, None, "issue", f"one of {', '.join(scenario.issues)}", repr(issue))])
        holders = [(name, party) for name, party in scenario.parties.items() if issue in party.positions]
        if len(holders) < 2:
            raise InputError(
                [Problem(scenario.name, None, "issue", "an issue on which at least two parties hold positions", repr(issue))]
            )
        low, high = scenario.issues[issue].range
        self.issue, self.low, self.high = issue, low, high
        self.rounds, self.risk = rounds, risk
        weights = np.array([scenario.salience_weight(party.positions[issue].salience) for _, party in holders])
        self.actors = [
            Actor(self, name, (party.positions[issue].ideal - low) / (high - low), party.capability, float(w / weights.max()))
            for (name, party), w in zip(holders, weights, strict=True)
        ]
        self.datacollector = mesa.DataCollector(
            model_reporters={"forecast": lambda m: m.forecast()}, agent_reporters={"position": lambda a: a.position}
        )
        self.datacollector.collect(self)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions, capabilities and saliences of the actors, each (N,)."""
        return (
            np.array([a.position for a in self.actors]),
            np.array([a.capability for a in self.actors]),
            np.array([a.salience for a in self.actors]),
        )

    def forecast(self) -> float:
        """The capability-and-salience weighted median of current positions, in natural units."""
        x, c, s = self.arrays()
        return self.low + (self.high - self.low) * weighted_median(x, c * s)

    def step(self) -> None:
        """One round: every actor challenges, offers are made and the least-moving accepted."""
        x, c, s = self.arrays()
        moved = bdm_expected_utility(x, c, s, rounds=1, risk=self.risk).positions[1]
        for actor, position in zip(self.actors, moved, strict=True):
            actor.position = float(position)
        self.datacollector.collect(self)
        if self.steps >= self.rounds:  # Mesa counts the step before calling it
            self.running = False
