"""War payoffs by round: the constants kept once give the same bits as the formula every round."""

import numpy as np
import pytest

from sim.core.dynamics import WarPayoffs, status_quo, war_payoffs, win_beliefs
from sim.core.scoring import war_lottery
from sim.engine.compile import compile_batch
from sim.inputs import load_scenario, with_overrides


def direct(batch, t):
    """The disagreement points from the formula, nothing kept between rounds (the code before WarPayoffs)."""
    out = []
    for group in batch.groups:
        idx = group.issues
        value = war_lottery(win_beliefs(batch, t), batch.ideal[:, :, idx], batch.weights[:, :, idx], batch.risk_exponent,
                            status_quo(batch, t)[:, idx], batch.space.war_decides[idx])
        if group.ends_war:
            value = value - (batch.war_cost + t * batch.war_cost_per_round)
        shift = np.zeros((batch.replicas, len(batch.parties)))
        for e, averted_by in enumerate(batch.event_group):
            if averted_by == group.name:
                change = batch.event_change[:, e]
                anticipated = batch.event_credibility[:, e, None] * change
                applied = np.where(batch.event_carried_out[:, e, None], change, 0.0)
                shift += np.where((t < batch.event_from_round[:, e])[:, None], anticipated, applied)
        out.append(value + shift)
    return out


@pytest.mark.parametrize("name", ["istanbul_2025", "battlefield_advance", "us_deadline", "sanctions_credible"])
def test_war_payoffs_equal_the_formula_every_round(name):
    """Every round's payoffs, bit for bit, with beliefs and the status quo drifting or not."""
    batch = compile_batch(with_overrides(load_scenario(name), replicas=300))
    kept = WarPayoffs(batch)
    for t in range(batch.rounds):
        for got, want, once in zip(kept(t), direct(batch, t), war_payoffs(batch, t), strict=True):
            assert got.tobytes() == want.tobytes() == once.tobytes()


def test_static_lottery_is_computed_once():
    """Without drift of beliefs or the status quo the lottery is the same array every round."""
    still = with_overrides(load_scenario("istanbul_2025"), replicas=20).model_copy(update={"battlefield": None})
    batch = compile_batch(still)
    kept = WarPayoffs(batch)
    assert not kept.beliefs_move and not kept.status_quo_moves
    assert kept.lottery(0, 0) is kept.lottery(0, 5)
    for t in range(batch.rounds):
        assert all(a.tobytes() == b.tobytes() for a, b in zip(kept(t), direct(batch, t), strict=True))
