"""The scoring core: value functions, utilities and war payoffs against hand calculations."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim.api import set_values
from sim.core.scoring import commitment_penalty, group_utilities, ideal_point_value, red_line_crossed, war_lottery
from sim.engine import compile_batch
from sim.theory import fearon_range

unit = st.floats(0.0, 1.0, allow_nan=False)


def test_linear_value_by_hand():
    """Risk-neutral value falls linearly from 1 at the ideal to 0 at the far end."""
    got = ideal_point_value(np.array([0.0, 0.25, 0.5, 1.0]), np.array(0.25), np.array(1.0))
    np.testing.assert_allclose(got, [1 - 0.25 / 0.75, 1.0, 1 - 0.25 / 0.75, 0.0])


def test_risk_averse_lottery_is_worth_less_than_its_mean():
    """With exponent 2, a 50:50 lottery of ideal and far end is worth less than the midpoint."""
    v = ideal_point_value(np.array([0.0, 0.5, 1.0]), np.array(0.0), np.array(2.0))
    assert 0.5 * v[0] + 0.5 * v[2] < v[1]


def test_war_lottery_matches_fearon():
    """One issue decided by war, risk-neutral: war is worth p to A and 1 - p to B (Fearon 1995)."""
    p = 0.6
    ideal = np.array([[[1.0], [0.0]]])
    weights = np.ones((1, 2, 1))
    war = war_lottery(np.array([[p, 1 - p]]), ideal, weights, np.ones(2), np.array([0.0]), np.array([True]))
    cost_a, cost_b = 0.1, 0.15
    # A's utility is the share x; B's is 1 - x. Deals both prefer: x >= p - c_A and 1 - x >= 1 - p - c_B.
    low, high = war[0, 0] - cost_a, 1 - (war[0, 1] - cost_b)
    assert (low, high) == pytest.approx(fearon_range(p, cost_a, cost_b))
    assert (low, high) == pytest.approx((0.5, 0.75))


def test_war_lottery_keeps_the_status_quo_where_war_decides_nothing():
    """On an issue war does not decide, the war payoff is the status quo's value."""
    ideal = np.array([[[1.0], [0.0]]])
    war = war_lottery(np.array([[0.9, 0.9]]), ideal, np.ones((1, 2, 1)), np.ones(2), np.array([0.25]), np.array([False]))
    np.testing.assert_allclose(war, [[0.25, 0.75]])


def test_red_line_and_commitment_by_hand():
    """Red lines bite beyond the limit away from the ideal; commitment costs fade with relief."""
    assert red_line_crossed(np.array([0.4, 0.6]), 0.5, 1.0).tolist() == [True, False]
    # a limit at an ideal of 1 ("nothing less"): crossed below it, never above the range
    assert red_line_crossed(np.array([0.0, 0.99, 1.0]), 1.0, 1.0).tolist() == [True, True, False]
    assert red_line_crossed(np.array([0.0, 0.01]), 0.0, 0.0).tolist() == [False, True]
    np.testing.assert_allclose(commitment_penalty(np.array([0.5]), np.array([0.375]), 0.4, 0.75), [0.1])


def test_red_line_at_the_ideal_is_crossed_on_the_side_with_room():
    """"Not one step": a red line drawn at the ideal is crossed above it, and at the top of the
    scale (ideal = limit = 1) by every position below it; it used to be crossed by none there."""
    positions = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    assert red_line_crossed(positions, 1.0, 1.0).tolist() == [True, True, True, True, False]
    assert red_line_crossed(positions, 0.0, 0.0).tolist() == [False, True, True, True, True]
    assert red_line_crossed(positions, 0.5, 0.5).tolist() == [False, False, False, True, True]


def test_red_line_at_the_top_costs_the_party_in_its_utilities():
    """Compiled, A's red line at its ideal 1 (audience cost 0.2) lowers its utility of every
    candidate below 1 by 0.2 and leaves the top one alone."""
    path = Path(__file__).resolve().parent / "data" / "statics" / "fearon.yaml"
    loaded = set_values(path, {"parties.a.red_lines.0.limit": 1.0, "uncertainty.win_probability_noise": 0.0})
    u = compile_batch(loaded.scenario, 0, 1).utilities[0][0, 0]  # A's utilities (K,) of x = 0, 0.01, ..., 1
    x = np.linspace(0.0, 1.0, 101)
    np.testing.assert_allclose(u, np.where(x < 1.0, x - 0.2, 1.0), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(
    ideal=arrays(np.float64, (3, 2, 2), elements=unit),
    weights=arrays(np.float64, (3, 2, 2), elements=st.floats(0.01, 10.0)),
    rho=arrays(np.float64, (2,), elements=st.floats(0.2, 4.0)),
    penalty=arrays(np.float64, (2, 9), elements=st.floats(0.0, 1.0)),
)
def test_property_utilities_within_bounds(ideal, weights, rho, penalty):
    """Utilities lie in [-max penalty, 1] for any ideals, saliences and risk attitudes."""
    levels = [np.linspace(0, 1, 3), np.linspace(0, 1, 3)]
    level_index = np.array([(a, b) for a in range(3) for b in range(3)])
    u = group_utilities(level_index, levels, ideal, weights, rho, penalty, dtype=np.float64)
    assert u.shape == (3, 2, 9)
    assert np.all(u <= 1.0 + 1e-12)
    assert np.all(u >= -penalty.max(axis=1)[None, :, None] - 1e-12)


def test_utility_is_one_at_the_ideal_grid_point():
    """A party whose ideal is a candidate gets utility 1 there (no penalty)."""
    levels = [np.linspace(0, 1, 5)]
    level_index = np.arange(5)[:, None]
    u = group_utilities(
        level_index, levels, np.array([[[0.25]]]), np.ones((1, 1, 1)), np.ones(1), np.zeros((1, 5)), dtype=np.float64
    )
    assert u[0, 0, 1] == pytest.approx(1.0)
    assert u[0, 0].argmax() == 1


def test_war_lottery_two_sides_is_the_two_party_formula_bit_for_bit() -> None:
    """Each party its own side: ``p + (1 - p) v(opponent's ideal)``, exactly, as before sides."""
    rng = np.random.default_rng(3)
    ideal = rng.random((6, 2, 3))
    weights = rng.random((6, 2, 3)) + 0.1
    win = rng.random((6, 2))
    rho = np.array([1.0, 1.5])
    sq = rng.random(3)
    decides = np.array([True, False, True])
    got = war_lottery(win, ideal, weights, rho, sq, decides, np.array([0, 1]), rng.random((6, 2)) + 0.5)
    r = rho[None, :, None]
    fought = win[:, :, None] + (1.0 - win[:, :, None]) * ideal_point_value(ideal[:, ::-1, :], ideal, r)
    kept = ideal_point_value(np.broadcast_to(sq, (6, 3))[:, None, :], ideal, r)
    value = np.where(decides[None, None, :], fought, kept)
    expected = (weights / weights.sum(axis=2, keepdims=True) * value).sum(axis=2)
    assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("side", [np.array([0, 1]), np.array([1, 0])])
def test_war_values_of_two_sides_are_the_sides_sum_bit_for_bit(side: np.ndarray) -> None:
    """The two-sides shortcut (own ideal, the other's ideal) gives the general sum's bits:
    sides' positions by capability shares, every side's value, the loser's split."""
    from sim.core.scoring import war_values
    from sim.core.sides import loser_split, side_positions, side_shares

    rng = np.random.default_rng(11)
    ideal = rng.random((64, 2, 4))
    ideal[:5] = rng.integers(0, 2, (5, 2, 4))  # ideals at the ends of the range
    capability = rng.random((64, 2)) * 3
    capability[:8] = 0.0  # a side with no capability splits equally
    rho = np.broadcast_to(np.array([1.0, 1.7]), (64, 2))[:, :, None]
    winning, losing = war_values(ideal, rho, side, capability)
    shares, split = side_shares(side, capability), loser_split(side, capability)
    values = ideal_point_value(side_positions(ideal, shares)[:, None], ideal[:, :, None], rho[:, :, :, None])
    assert winning.tobytes() == values[:, np.arange(2), side].tobytes()
    assert losing.tobytes() == np.einsum("rps,rpsj->rpj", split, values).tobytes()
    assert np.all(winning == 1.0)


def test_war_lottery_coalition_members_share_the_fate_but_not_the_value() -> None:
    """A (ideal 1) against B (0) and C (0.5), capabilities 1 and 1: hand values 0.625, 0.375, 0.25."""
    got = war_lottery(np.full((1, 3), 0.5), np.array([[[1.0], [0.0], [0.5]]]), np.ones((1, 3, 1)), np.ones(3),
                      np.zeros(1), np.array([True]), side=np.array([0, 1, 1]))
    # side 1 imposes 0.25; A: 0.5 + 0.5 * 0.25; B: 0.5 * 0.75; C: 0.5 * (1 - 0.25 / 0.5)
    assert got[0].tolist() == [0.625, 0.375, 0.25]


def test_a_group_without_weight_is_worth_nothing_not_nan():
    """A replica whose salience draws left a party no weight on a group (a tiny Dirichlet
    share drawn as 0) values every candidate at 0 less its penalty, and fighting at 0."""
    levels = [np.linspace(0, 1, 3)]
    level_index = np.arange(3)[:, None]
    weights = np.array([[[0.0], [2.0]]])  # party 0: no weight; party 1: all of it
    ideal = np.array([[[0.0], [1.0]]])
    penalty = np.array([[0.0, 0.1, 0.3], [0.0, 0.0, 0.0]])
    with np.errstate(all="raise"):
        u = group_utilities(level_index, levels, ideal, weights, np.ones(2), penalty, dtype=np.float64)
        war = war_lottery(np.array([[0.5, 0.5]]), ideal, weights, np.ones(2), np.zeros(1), np.array([True]))
    np.testing.assert_array_equal(u[0, 0], [0.0, -0.1, -0.3])
    np.testing.assert_allclose(u[0, 1], [0.0, 0.5, 1.0])
    assert war[0, 0] == 0.0 and war[0, 1] == pytest.approx(0.5)  # p + (1 - p) * 0 for party 1


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 6), min_size=1, max_size=4))
def test_property_product_grid_outer_sum_equals_gather(seed, levels):
    """Utilities of the full grid by outer sums equal, bit for bit, those gathered per candidate."""
    import itertools

    rng = np.random.default_rng(seed)
    r, p, j = 5, 2, len(levels)
    grid_index = np.array(list(itertools.product(*[range(n) for n in levels])))
    positions = [np.linspace(0.0, 1.0, n) for n in levels]
    ideal, weights = rng.random((r, p, j)), rng.random((r, p, j)) + 0.01
    risk, penalty = rng.random(p) + 0.5, rng.random((p, len(grid_index)))
    fast = group_utilities(grid_index, positions, ideal, weights, risk, penalty)
    order = rng.permutation(len(grid_index))  # not the grid in C order: the gathering road
    slow = group_utilities(grid_index[order], positions, ideal, weights, risk, penalty[:, order])
    assert fast[:, :, order].tobytes() == slow.tobytes()


@pytest.mark.parametrize("seed", range(12))
def test_outer_sums_broadcast_or_looped_give_the_same_bits(seed, monkeypatch):
    """The outer sum's two roads (a loop over the last issue's levels, or one broadcast) give the same utilities."""
    import itertools

    import sim.core.scoring as scoring

    rng = np.random.default_rng(seed)
    levels = [int(n) for n in rng.integers(1, 9, size=int(rng.integers(1, 5)))]
    grid_index = np.array(list(itertools.product(*[range(n) for n in levels])))
    positions = [np.linspace(0.0, 1.0, n) for n in levels]
    ideal, weights = rng.random((4, 2, len(levels))), rng.random((4, 2, len(levels))) + 0.01
    risk, penalty = rng.random(2) + 0.5, rng.random((2, len(grid_index)))
    looped = group_utilities(grid_index, positions, ideal, weights, risk, penalty)
    monkeypatch.setattr(scoring, "OUTER_BROADCAST_CELLS", 1)
    broadcast = group_utilities(grid_index, positions, ideal, weights, risk, penalty)
    assert looped.tobytes() == broadcast.tobytes()


@pytest.mark.parametrize(
    "rho",
    [
        np.array([1.0, 1.5, 1.0])[None, :, None, None],  # risk-neutral parties beside a risk-averse one
        np.where(np.random.default_rng(1).random((40, 3, 1, 1)) < 0.5, 1.0, 2.3),  # mixed within a party
        np.array(1.0),
        np.array(0.7),
        np.random.default_rng(2).random((40, 3, 4, 6)) + 0.5,
    ],
)
def test_ideal_point_value_is_pow_bit_for_bit(rho: np.ndarray) -> None:
    # the values skip pow where the exponent is 1: each element must be the one pow gives
    rng = np.random.default_rng(0)
    position = np.concatenate([rng.random(4), [0.0, 1.0]])
    ideal = np.concatenate([rng.random((37, 3, 4, 1)), np.full((3, 3, 4, 1), 0.5)])
    reference = 1.0 - np.power(np.abs(position - ideal) / np.maximum(ideal, 1.0 - ideal), rho)
    assert np.array_equal(ideal_point_value(position, ideal, rho), reference)
