"""The opening-positions chart: each side's best outcome, the other side's best and war,
checked against a loop over the candidates."""

from __future__ import annotations

import numpy as np

from sim.charts.opening import model_opening, opening_values
from sim.core.dynamics import war_payoffs
from sim.engine import NegotiationModel, compile_batch
from sim.inputs import load_scenario, with_overrides


def test_opening_values_of_three_parties() -> None:
    """With three parties, 'the other side's best' is the worst to a party of the others' best candidates."""
    utilities = np.array([[[1.0, 0.2, 0.4], [0.3, 1.0, 0.0], [0.5, 0.6, 0.9]]])  # (R=1, P=3, K=3)
    values = opening_values(utilities, np.zeros((1, 3)))
    # best candidates: party 0 -> 0, party 1 -> 1, party 2 -> 2
    assert values["own"].tolist() == [[1.0, 1.0, 0.9]]
    assert values["other"].tolist() == [[min(0.2, 0.4), min(0.3, 0.0), min(0.5, 0.6)]]


def test_opening_chart_plots_the_medians_of_a_loop_over_candidates() -> None:
    """Each marker sits at the median over replicas of the values found by looping over every candidate."""
    batch = compile_batch(with_overrides(load_scenario("istanbul_2025"), replicas=7))
    figure = model_opening(NegotiationModel(batch))
    assert "opening positions before round 1" in figure.get_suptitle()
    war = war_payoffs(batch, 0)
    for g, ax in enumerate(figure.axes):
        assert ax.get_title() == f"agenda group: {batch.groups[g].name}"
        u = batch.utilities[g].astype(float)
        expected = []
        for i in range(2):
            own, other = [], []
            for r in range(batch.replicas):
                best = [max(range(u.shape[2]), key=lambda k, j=j: u[r, j, k]) for j in range(2)]
                own.append(u[r, i, best[i]])
                other.append(u[r, i, best[1 - i]])
            expected += [np.median(own), np.median(other), np.median(war[g][:, i])]
        plotted = [bar.lines[0].get_ydata()[0] for bar in ax.containers]  # each errorbar: its marker line first
        np.testing.assert_allclose(plotted, expected)
