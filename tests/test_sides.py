"""The other-side rule and side positions: two parties reduce to the other party, coalitions to hand sums."""

from __future__ import annotations

import numpy as np

from sim.core.sides import loser_split, other_weights, others_mean, others_min, side_positions, side_shares, weighted_others


def test_two_parties_see_exactly_the_other_party() -> None:
    """With two parties every 'others' function returns the other party's own numbers."""
    rng = np.random.default_rng(1)
    u = rng.random((5, 2, 7)).astype(np.float32)
    v = rng.random((5, 2))
    for p in (0, 1):
        assert weighted_others(u, p).tobytes() == u[:, 1 - p].tobytes()
        assert others_mean(v, p).tobytes() == v[:, 1 - p].tobytes()
        assert others_min(v, p).tobytes() == v[:, 1 - p].tobytes()


def test_many_parties_sum_mean_and_min_over_the_others() -> None:
    """With four parties: sum, mean and min over the three others, by hand."""
    v = np.array([[1.0, 2.0, 4.0, 8.0]])
    assert other_weights(4)[2].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert weighted_others(v, 2).tolist() == [11.0]
    assert others_mean(v, 0).tolist() == [14.0 / 3.0]
    assert others_min(v, 0).tolist() == [2.0]


def test_side_positions_are_capability_weighted_means() -> None:
    """Side 1 of capabilities 3 and 1 at ideals 0 and 0.8 sits at 0.2; a side of one at its ideal."""
    shares = side_shares(np.array([0, 1, 1]), np.array([[2.0, 3.0, 1.0]]))
    pos = side_positions(np.array([[[0.9], [0.0], [0.8]]]), shares)
    assert pos[0, :, 0].tolist() == [0.9, 0.2]


def test_three_sides_split_the_loss_by_capability_and_two_sides_take_it_all() -> None:
    """If my side loses, other sides win in proportion to capability; of two sides the other wins surely."""
    split = loser_split(np.array([0, 1, 2, 1]), np.array([[1.0, 1.0, 2.0, 1.0]]))
    assert split[0, 0].tolist() == [0.0, 0.5, 0.5]
    assert split[0, 2].tolist() == [1.0 / 3.0, 2.0 / 3.0, 0.0]
    assert loser_split(np.array([0, 1]), np.array([[0.3, 7.0]]))[0].tolist() == [[0.0, 1.0], [1.0, 0.0]]
