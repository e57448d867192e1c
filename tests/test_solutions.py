"""Expected values, brute-force comparisons and validation errors for sim.theory."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sim.core.strategies import time_dependent_schedule
from sim.theory import (
    bdm_expected_utility,
    compromise,
    egalitarian,
    fearon_range,
    individually_rational,
    kalai_smorodinsky,
    nash_bargaining,
    pareto_mask,
    rubinstein_share,
    time_dependent_target,
    utilitarian,
    weighted_median,
    zeuthen,
)
from sim.theory.spatial import _bdm_win_probabilities

GRID = np.arange(101) / 100.0  # 0.00, 0.01, ..., 1.00 with 0.5 exact


def split_utilities(u1, u2):
    """Utilities of splitting 1 on GRID, x being party 1's share."""
    return np.column_stack([u1(GRID), u2(GRID)])


# ---------------------------------------------------------------------------
# independent brute-force references (plain Python loops)
# ---------------------------------------------------------------------------


def brute_nash(u, d, w=None):
    """Index maximising prod (u_i - d_i)^w_i over IR outcomes, first maximiser wins."""
    w = [1.0] * len(d) if w is None else list(w)
    best, best_val = None, -1.0
    for k, row in enumerate(u):
        if all(ui >= di for ui, di in zip(row, d, strict=True)):
            val = math.prod((ui - di) ** wi for ui, di, wi in zip(row, d, w, strict=True))
            if val > best_val:
                best, best_val = k, val
    return best


def brute_ks(u, d):
    """Discrete Kalai-Smorodinsky by explicit loops (no ties expected)."""
    ir = [k for k, row in enumerate(u) if all(ui >= di for ui, di in zip(row, d, strict=True))]
    if not ir:
        return None
    ideal = [max(u[k][i] for k in ir) for i in range(len(d))]

    def dominated(k):
        return any(all(u[j][i] >= u[k][i] for i in range(len(d)))
                   and any(u[j][i] > u[k][i] for i in range(len(d))) for j in ir)

    best, best_val = None, -math.inf
    for k in ir:
        if dominated(k):
            continue
        val = min((u[k][i] - d[i]) / (ideal[i] - d[i]) for i in range(len(d)))
        if val > best_val:
            best, best_val = k, val
    return best


def brute_egalitarian(u, d):
    best, best_val = None, -math.inf
    for k, row in enumerate(u):
        gains = [ui - di for ui, di in zip(row, d, strict=True)]
        if min(gains) >= 0 and min(gains) > best_val:
            best, best_val = k, min(gains)
    return best


def brute_utilitarian(u, d=None):
    best, best_val = None, -math.inf
    for k, row in enumerate(u):
        if d is not None and any(ui < di for ui, di in zip(row, d, strict=True)):
            continue
        if sum(row) > best_val:
            best, best_val = k, sum(row)
    return best


def brute_pareto(u):
    k_count = len(u)
    return [not any(all(u[j][i] >= u[k][i] for i in range(len(u[k])))
                    and any(u[j][i] > u[k][i] for i in range(len(u[k])))
                    for j in range(k_count)) for k in range(k_count)]


def stahl_by_hand(d1, d2, horizon):
    """Backward induction written out: value to the proposer of round t."""
    value = {horizon: 1.0}
    for t in range(horizon - 1, 0, -1):
        responder_discount = d2 if t % 2 == 1 else d1  # P1 proposes in odd rounds
        value[t] = 1.0 - responder_discount * value[t + 1]
    return value[1]


def bdm_reference_round(x, c, s, risk, q=1.0, t=1.0):
    """One round of the documented BDM model, written with scalar loops."""
    n = len(x)
    w = [c[i] * s[i] for i in range(n)]
    order = sorted(range(n), key=lambda i: x[i])
    total, cum, mu = sum(w), 0.0, None
    for i in order:
        cum += w[i]
        if cum >= 0.5 * total - 1e-12 * total:
            mu = x[i]
            break

    def prob(i, j):
        votes = [w[k] * (abs(x[k] - x[j]) - abs(x[k] - x[i])) for k in range(n)]
        tot = sum(abs(v) for v in votes)
        return 0.5 if tot == 0 else sum(v for v in votes if v > 0) / tot

    def eu(i, j, r):
        dist = abs(x[i] - x[j])
        far = (abs(x[i] - mu) + dist) / 4
        us = 2 - 4 * (0.5 - 0.5 * dist) ** r
        uf = 2 - 4 * (0.5 + 0.5 * dist) ** r
        ub = 2 - 4 * (0.5 - far) ** r
        uw = 2 - 4 * (0.5 + far) ** r
        usq = 2 - 4 * 0.5 ** r
        p = prob(i, j)
        return (s[j] * (p * us + (1 - p) * uf) + (1 - s[j]) * us
                - (q * usq + (1 - q) * (t * ub + (1 - t) * uw)))

    r = [1.0] * n
    if risk == "endogenous":
        danger = [sum(eu(j, i, 1.0) for j in range(n) if j != i) for i in range(n)]
        hi, lo = max(danger), min(danger)
        if hi - lo > 1e-12 * max(1.0, abs(hi)):
            big = [(2 * dg - hi - lo) / (hi - lo) for dg in danger]
            r = [(1 - b / 3) / (1 + b / 3) for b in big]
    new = list(x)
    for i in range(n):
        best_move = math.inf
        for j in range(n):
            if j == i or x[j] == x[i]:
                continue
            a, b = eu(i, j, r[i]), eu(j, i, r[i])
            if b > a > 0:
                target = x[j]
            elif a < 0 < b and b > -a:
                target = x[i] + (x[j] - x[i]) * (-a / b)
            elif a < 0 < b:
                target = x[j]
            else:
                continue
            if abs(target - x[i]) < best_move:
                best_move, new[i] = abs(target - x[i]), target
    return new


# ---------------------------------------------------------------------------
# splitting 1: every solution gives 0.5
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("solution", [nash_bargaining, kalai_smorodinsky, egalitarian,
                                      utilitarian, zeuthen])
def test_split_one_linear_gives_half(solution):
    """Splitting 1 with u1 = x, u2 = 1 - x, d = 0: the solution is x = 0.5."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    k = solution(u, np.zeros(2))
    assert k is not None
    assert GRID[k] == 0.5


def test_split_one_utilitarian_without_disagreement():
    """Utilitarian without a disagreement point also picks the even split."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    assert GRID[utilitarian(u)] == 0.5


def test_split_one_nash_concave():
    """Nash with u1 = sqrt(x), u2 = 1 - x maximises sqrt(x)(1-x): x = 1/3 -> grid 0.33."""
    u = split_utilities(np.sqrt, lambda x: 1 - x)
    assert GRID[nash_bargaining(u, [0, 0])] == pytest.approx(0.33)


def test_split_one_asymmetric_nash_weights():
    """Weights (w1, w2) on a linear split give x = w1 / (w1 + w2)."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    assert GRID[nash_bargaining(u, [0, 0], weights=[3, 1])] == pytest.approx(0.75)
    assert GRID[nash_bargaining(u, [0, 0], weights=[1, 4])] == pytest.approx(0.2)


def test_split_one_kalai_smorodinsky_with_disagreement():
    """KS with d = (0.2, 0): ideal (1, 1); equal normalised gains at x = 0.6."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    # (x - 0.2) / 0.8 = 1 - x  ->  x = 0.6
    assert GRID[kalai_smorodinsky(u, [0.2, 0.0])] == pytest.approx(0.6)


def test_split_one_egalitarian_with_disagreement():
    """Egalitarian with d = (0.2, 0): equal gains x - 0.2 = 1 - x at x = 0.6."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    assert GRID[egalitarian(u, [0.2, 0.0])] == pytest.approx(0.6)


# ---------------------------------------------------------------------------
# Zeuthen vs Nash (Harsanyi)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("u1, u2", [
    (np.sqrt, lambda x: 1 - x),
    (lambda x: x, np.sqrt),
    (lambda x: x ** 0.3, lambda x: (1 - x) ** 0.7),
    (lambda x: 1 - (1 - x) ** 2, lambda x: 1 - x),
])
def test_zeuthen_matches_nash_on_grid(u1, u2):
    """Zeuthen's agreement equals (or neighbours) the Nash solution on a 101-point split."""
    u = split_utilities(u1, u2)
    z, n = zeuthen(u, [0, 0]), nash_bargaining(u, [0, 0])
    assert z is not None and n is not None
    assert abs(z - n) <= 1


def test_zeuthen_matches_nash_random_sets():
    """On random two-party sets Zeuthen reaches the maximal Nash product."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        u = rng.random((int(rng.integers(1, 40)), 2))
        d = rng.random(2) * 0.4
        z, n = zeuthen(u, d), nash_bargaining(u, d)
        assert (z is None) == (n is None)
        if z is not None:
            assert np.prod(u[z] - d) == pytest.approx(np.prod(u[n] - d), rel=1e-12)


def test_zeuthen_max_steps_stops_early():
    """With too few steps allowed there is no agreement (None)."""
    u = split_utilities(lambda x: x, lambda x: 1 - x)
    assert zeuthen(u, [0, 0], max_steps=3) is None
    assert GRID[zeuthen(u, [0, 0], max_steps=100)] == 0.5


def test_zeuthen_no_rational_outcome():
    """No individually rational outcome gives None."""
    assert zeuthen([[0.1, 0.1]], [0.5, 0.5]) is None


# ---------------------------------------------------------------------------
# brute-force comparisons on small random sets
# ---------------------------------------------------------------------------


def test_nash_matches_brute_force():
    """Nash (with and without weights) equals an explicit loop over outcomes."""
    rng = np.random.default_rng(0)
    for _ in range(300):
        k, p = int(rng.integers(1, 12)), int(rng.integers(1, 5))
        u = rng.random((k, p))
        d = rng.random(p) * 0.5
        w = rng.random(p) + 0.1 if rng.random() < 0.5 else None
        assert nash_bargaining(u, d, weights=w) == brute_nash(u.tolist(), d.tolist(), w)


def test_ks_egalitarian_utilitarian_match_brute_force():
    """KS, egalitarian and utilitarian equal explicit loops on random sets."""
    rng = np.random.default_rng(1)
    for _ in range(300):
        k, p = int(rng.integers(1, 12)), int(rng.integers(1, 5))
        u = rng.random((k, p))
        d = rng.random(p) * 0.4
        assert kalai_smorodinsky(u, d) == brute_ks(u.tolist(), d.tolist())
        assert egalitarian(u, d) == brute_egalitarian(u.tolist(), d.tolist())
        assert utilitarian(u, d) == brute_utilitarian(u.tolist(), d.tolist())
        assert utilitarian(u) == brute_utilitarian(u.tolist())


def test_pareto_mask_matches_brute_force_with_duplicates():
    """pareto_mask equals the O(K^2) definition on integer sets full of ties."""
    rng = np.random.default_rng(2)
    for _ in range(200):
        k, p = int(rng.integers(1, 40)), int(rng.integers(1, 5))
        u = rng.integers(0, 4, (k, p)).astype(float)
        assert pareto_mask(u).tolist() == brute_pareto(u.tolist())


def test_pareto_mask_large_blocks_match_brute_force():
    """Sets larger than one block (P = 3) still match the brute force."""
    rng = np.random.default_rng(3)
    u = rng.random((1500, 3))
    u[:, 2] = 1.5 - u[:, 0] - u[:, 1] + 0.05 * u[:, 2]  # many non-dominated rows
    u = np.vstack([u, u[:40]])  # duplicates
    # O(K^2) definition, in numpy because pure Python would be slow at this size
    ge = np.all(u[:, None, :] >= u[None, :, :], axis=2)
    gt = np.any(u[:, None, :] > u[None, :, :], axis=2)
    expected = ~np.any(ge & gt, axis=0)
    assert np.array_equal(pareto_mask(u), expected)


def test_pareto_mask_duplicates_and_signed_zero():
    """Identical rows (including -0.0 vs 0.0) are all Pareto-optimal."""
    u = np.array([[0.0, 1.0], [-0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.5, 0.25]])
    assert pareto_mask(u).tolist() == [True, True, True, True, False]


def test_pareto_mask_one_party():
    """With one party only the maximal outcomes are Pareto-optimal."""
    assert pareto_mask([[1.0], [3.0], [3.0], [2.0]]).tolist() == [False, True, True, False]


def test_individually_rational_boundary():
    """u == d counts as individually rational."""
    mask = individually_rational([[0.3, 0.3], [0.3, 0.29], [1.0, 0.5]], [0.3, 0.3])
    assert mask.tolist() == [True, False, True]


def test_nash_zero_gains_only():
    """With no all-positive outcome, Nash picks the first undominated IR outcome."""
    u = [[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]]
    assert nash_bargaining(u, [0, 0]) == 1


def test_egalitarian_not_scale_invariant_but_nash_is():
    """Rescaling party 2 changes the egalitarian choice but not Nash's."""
    u = np.array([[1.0, 1.0], [3.0, 0.5]])
    scaled = u * [1.0, 10.0]
    assert egalitarian(u, [0, 0]) == 0 and egalitarian(scaled, [0, 0]) == 1
    assert nash_bargaining(u, [0, 0]) == nash_bargaining(scaled, [0, 0]) == 1


def test_ties_go_to_lowest_index():
    """Identical best outcomes: the lowest index wins."""
    u = [[0.2, 0.2], [0.5, 0.5], [0.5, 0.5]]
    for solution in (nash_bargaining, kalai_smorodinsky, egalitarian, utilitarian, zeuthen):
        assert solution(u, [0, 0]) == 1


# ---------------------------------------------------------------------------
# alternating offers
# ---------------------------------------------------------------------------


def test_rubinstein_infinite_horizon():
    """d1 = d2 = 0.9 gives 1 / 1.9 = 0.526316."""
    assert rubinstein_share(0.9, 0.9) == pytest.approx(0.526316, abs=5e-7)
    assert rubinstein_share(0.9, 0.9) == pytest.approx(1 / 1.9)
    assert rubinstein_share(0.5, 0.8) == pytest.approx(0.2 / 0.6)
    assert rubinstein_share(0.0, 0.0) == 1.0


@pytest.mark.parametrize("d1, d2, expected", [
    (0.9, 0.9, {1: 1.0, 2: 0.1, 3: 0.91}),
    (0.8, 0.6, {1: 1.0, 2: 0.4, 3: 0.88, 4: 0.592}),
])
def test_stahl_finite_horizon_hand_values(d1, d2, expected):
    """T = 1, 2, 3 (and 4) against backward induction done by hand."""
    # d1 = 0.8, d2 = 0.6, T = 4: s4 = 1 (P2), s3 = 1 - 0.6 = 0.4, s2 = 1 - 0.8 * 0.4 = 0.68,
    # s1 = 1 - 0.6 * 0.68 = 0.592.
    for horizon, share in expected.items():
        assert rubinstein_share(d1, d2, horizon=horizon) == pytest.approx(share)
        assert stahl_by_hand(d1, d2, horizon) == pytest.approx(share)


def test_stahl_converges_to_rubinstein():
    """The finite-horizon share tends to the infinite-horizon one."""
    limit = rubinstein_share(0.9, 0.8)
    errors = [abs(rubinstein_share(0.9, 0.8, horizon=t) - limit) for t in (5, 21, 101, 401)]
    assert errors == sorted(errors, reverse=True)
    assert errors[-1] < 1e-12


def test_stahl_without_discounting():
    """With delta = 1 the last proposer takes all: 1 for odd T, 0 for even T."""
    assert rubinstein_share(1.0, 1.0, horizon=7) == 1.0
    assert rubinstein_share(1.0, 1.0, horizon=8) == 0.0


def test_rubinstein_short_periods_tend_to_asymmetric_nash():
    """d_i = exp(-r_i dt), dt -> 0: share -> r2 / (r1 + r2) (Binmore et al. 1986)."""
    dt = 1e-7
    share = rubinstein_share(math.exp(-1.0 * dt), math.exp(-3.0 * dt))
    assert share == pytest.approx(0.75, abs=1e-6)


# ---------------------------------------------------------------------------
# Fearon
# ---------------------------------------------------------------------------


def test_fearon_common_beliefs():
    """p = 0.6, c = (0.1, 0.15) gives [0.5, 0.75]."""
    assert fearon_range(0.6, 0.1, 0.15) == pytest.approx((0.5, 0.75))


def test_fearon_optimistic_beliefs_empty():
    """A believes p = 0.8, B believes 0.3: [0.7, 0.45] is empty."""
    assert fearon_range(0.8, 0.1, 0.15, p_b=0.3) is None


def test_fearon_beliefs_with_overlap_and_clipping():
    """Mildly different beliefs leave a range; it is clipped to [0, 1]."""
    assert fearon_range(0.6, 0.1, 0.15, p_b=0.5) == pytest.approx((0.5, 0.65))
    assert fearon_range(0.05, 0.1, 0.2) == pytest.approx((0.0, 0.25))
    assert fearon_range(0.95, 0.1, 0.2) == pytest.approx((0.85, 1.0))
    assert fearon_range(0.5, 0.0, 0.0) == (0.5, 0.5)


# ---------------------------------------------------------------------------
# time-dependent concession
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("e, expected", [
    (0.2, 0.5 + 0.5 * (1 - 0.5 ** 5)),   # Boulware: 0.984375
    (1.0, 0.75),                        # linear
    (2.0, 0.5 + 0.5 * (1 - 0.5 ** 0.5)),  # Conceder: 0.646447
    (0.0, 1.0),                         # Hardliner
])
def test_time_dependent_target_at_half_time(e, expected):
    """Pmin = 0.5, Pmax = 1, k = 0, t = 0.5 for the four standard tactics."""
    value = time_dependent_target(0.5, p_min=0.5, p_max=1.0, e=e)
    assert isinstance(value, float)
    assert value == pytest.approx(expected, abs=1e-12)


def test_time_dependent_target_hand_points():
    """More hand-computed points, including k > 0 and the end points."""
    # e = 0.2, t = 0.8: f = 0.8^5 = 0.32768 -> 0.5 + 0.5 * 0.67232 = 0.83616
    assert time_dependent_target(0.8, p_min=0.5, p_max=1.0, e=0.2) == pytest.approx(0.83616)
    # k = 0.1, t = 0: f = 0.1 -> 0.5 + 0.5 * 0.9 = 0.95
    assert time_dependent_target(0.0, p_min=0.5, p_max=1.0, e=1.0, k=0.1) == pytest.approx(0.95)
    # k = 0.1, e = 1, t = 0.5: f = 0.1 + 0.9 * 0.5 = 0.55 -> 0.5 + 0.5 * 0.45 = 0.725
    assert time_dependent_target(0.5, p_min=0.5, p_max=1.0, e=1.0, k=0.1) == pytest.approx(0.725)
    assert time_dependent_target(1.0, p_min=0.5, p_max=1.0, e=2.0) == pytest.approx(0.5)
    # Hardliner keeps its demand at the end too
    assert time_dependent_target(1.0, p_min=0.5, p_max=1.0, e=0.0) == 1.0
    assert time_dependent_target(1.0, p_min=0.5, p_max=1.0, e=0.0, k=0.2) == pytest.approx(0.9)


def test_time_dependent_target_broadcasts():
    """Arrays of t and e broadcast; each cell equals the scalar call."""
    t = np.linspace(0, 1, 7)
    e = np.array([0.0, 0.2, 1.0, 2.0])[:, None]
    out = time_dependent_target(t, p_min=0.2, p_max=0.9, e=e, k=0.05)
    assert out.shape == (4, 7)
    for i, j in itertools.product(range(4), range(7)):
        scalar = time_dependent_target(float(t[j]), p_min=0.2, p_max=0.9, e=float(e[i, 0]), k=0.05)
        assert out[i, j] == pytest.approx(scalar)


def test_time_dependent_target_tiny_e_no_warning():
    """A tiny positive e behaves like a hardliner before the end without warnings."""
    out = time_dependent_target(np.array([0.0, 0.5, 1.0]), p_min=0.0, p_max=1.0, e=1e-320)
    assert out.tolist() == [1.0, 1.0, 0.0]


# ---------------------------------------------------------------------------
# spatial models
# ---------------------------------------------------------------------------


def test_compromise_by_hand():
    """(1*1*0 + 2*0.5*0.4 + 1*1*1) / (1 + 1 + 1) = 1.4 / 3."""
    assert compromise([0.0, 0.4, 1.0], [1.0, 2.0, 1.0], [1.0, 0.5, 1.0]) == pytest.approx(1.4 / 3)


def test_weighted_median_by_hand():
    """Cumulative weight first reaching half the total decides."""
    # sorted positions 0.1, 0.2, 0.7, 0.9 with weights 1, 2, 3, 4: half = 5, cum 1, 3, 6
    assert weighted_median([0.9, 0.2, 0.7, 0.1], [4, 2, 3, 1]) == 0.7
    # exactly half at the first position
    assert weighted_median([0.3, 0.6], [1.0, 1.0]) == 0.3
    # rounding: 0.1 + 0.2 is not exactly 0.3 but still reaches half of 0.6
    assert weighted_median([0.0, 0.5, 1.0], [0.1, 0.2, 0.3]) == 0.5
    # zero weights are skipped
    assert weighted_median([0.0, 0.5, 1.0], [0.0, 1.0, 0.0]) == 0.5


def test_bdm_hand_example_risk_neutral():
    """x = (0, .6, 1), c = 1, s = .5, r = 1: both flanks lose a conflict to 0.6."""
    # P(0 beats .6) = .6 / 1.8 = 1/3, so EU_0(0 -> .6) = .5 (1.2/3 - 2.4/3) + .6 = .4
    # and EU_.6(.6 -> 0) = .8 > .4 > 0: actor 0 moves to .6; likewise actor 2.
    prob = _bdm_win_probabilities(np.array([0.0, 0.6, 1.0]), np.full(3, 0.5))
    assert prob[0, 1] == pytest.approx(1 / 3)
    assert prob[0, 2] == pytest.approx(1 / 2.2)
    assert prob[1, 2] == pytest.approx(2 / 3)
    assert np.allclose(prob + prob.T, 1.0)
    res = bdm_expected_utility([0.0, 0.6, 1.0], [1, 1, 1], [0.5, 0.5, 0.5], rounds=1,
                               risk="neutral")
    assert res.positions.tolist() == [[0.0, 0.6, 1.0], [0.6, 0.6, 0.6]]
    assert res.forecast == 0.6


@pytest.mark.parametrize("risk", ["neutral", "endogenous"])
@pytest.mark.parametrize("q, t", [(1.0, 1.0), (0.6, 0.3)])
def test_bdm_matches_scalar_reference(risk, q, t):
    """Vectorised rounds equal a scalar loop implementation of the documented model."""
    rng = np.random.default_rng(11)
    for _ in range(15):
        n = int(rng.integers(2, 9))
        x = rng.random(n)
        c = rng.random(n) + 0.05
        s = rng.random(n)
        res = bdm_expected_utility(x, c, s, rounds=3, risk=risk, q=q, t=t)
        current = x.tolist()
        for rnd in range(1, 4):
            current = bdm_reference_round(current, c.tolist(), s.tolist(), risk, q, t)
            assert np.allclose(res.positions[rnd], current, atol=1e-12)
        assert res.forecast == weighted_median(res.positions[-1], c * s)


def test_bdm_zero_rounds_and_consensus():
    """rounds = 0 returns the input; a consensus never moves."""
    res = bdm_expected_utility([0.2, 0.8], [1, 2], [0.5, 0.5], rounds=0)
    assert res.positions.shape == (1, 2)
    assert res.forecast == 0.8
    same = bdm_expected_utility([0.4, 0.4, 0.4], [1, 2, 3], [0.5, 0.9, 0.1], rounds=4)
    assert np.all(same.positions == 0.4)


def test_bdm_is_deterministic():
    """Two runs give identical histories."""
    args = ([0.0, 0.3, 0.5, 0.9, 1.0], [0.5, 1.0, 0.7, 0.2, 0.9], [0.9, 0.4, 0.6, 0.8, 0.3])
    a = bdm_expected_utility(*args, rounds=6)
    b = bdm_expected_utility(*args, rounds=6)
    assert np.array_equal(a.positions, b.positions) and a.forecast == b.forecast


# ---------------------------------------------------------------------------
# validation errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: pareto_mask([1.0, 2.0]), "utilities must be a 2-D array of shape (K, P)"),
    (lambda: pareto_mask(np.empty((0, 2))), "at least one outcome"),
    (lambda: pareto_mask([[1.0, np.nan]]), "utilities must not contain NaN; found 1 NaN value(s), "
                                           "the first at index [0, 1]"),
    (lambda: pareto_mask([[1.0, np.inf]]), "utilities must be finite; found inf at index [0, 1]"),
    (lambda: pareto_mask([["a", "b"]]), "utilities must be numeric"),
    (lambda: nash_bargaining([[1, 2]], [0, 0, 0]),
     "disagreement must have shape (P,) = (2,) to match utilities with P=2 parties; got shape (3,)"),
    (lambda: nash_bargaining([[1, 2]], [0, np.nan]), "disagreement must not contain NaN"),
    (lambda: nash_bargaining([[1, 2]], [0, 0], weights=[1, -1]),
     "weights must be > 0; found weights[1] = -1.0"),
    (lambda: nash_bargaining([[1, 2]], [0, 0], weights=[1]), "weights must have shape (P,) = (2,)"),
    (lambda: zeuthen([[1, 2, 3]], [0, 0, 0]), "zeuthen needs exactly two parties"),
    (lambda: zeuthen([[1, 2]], [0, 0], max_steps=0), "max_steps must be an integer >= 1; got 0"),
    (lambda: rubinstein_share(1.0, 0.5), "delta1 must lie in [0, 1); got 1.0"),
    (lambda: rubinstein_share(0.5, -0.1, horizon=3), "delta2 must lie in [0, 1]; got -0.1"),
    (lambda: rubinstein_share(0.5, 0.5, horizon=0), "horizon must be an integer >= 1; got 0"),
    (lambda: rubinstein_share(0.5, 0.5, horizon=2.5),  # type: ignore[arg-type]
     "horizon must be an integer >= 1; got float"),
    (lambda: rubinstein_share(float("nan"), 0.5), "delta1 must not be NaN"),
    (lambda: fearon_range(1.5, 0.1, 0.1), "p must lie in [0, 1]; got 1.5"),
    (lambda: fearon_range(0.5, -0.1, 0.1), "cost_a must lie in [0, inf); got -0.1"),
    (lambda: fearon_range(0.5, 0.1, 0.1, p_b=-1), "p_b must lie in [0, 1]; got -1.0"),
    (lambda: time_dependent_target(1.2, p_min=0, p_max=1, e=1), "t must lie in [0, 1]; found 1.2"),
    (lambda: time_dependent_target(0.5, p_min=0, p_max=1, e=-1), "e must be >= 0; found -1.0"),
    (lambda: time_dependent_target(0.5, p_min=0, p_max=1, e=1, k=2), "k must lie in [0, 1]"),
    (lambda: time_dependent_target(0.5, p_min=0.9, p_max=0.1, e=1),
     "p_min must be <= p_max; found p_min = 0.9 > p_max = 0.1"),
    (lambda: time_dependent_target(np.nan, p_min=0, p_max=1, e=1), "t must not contain NaN"),
    (lambda: time_dependent_target([0.1, 0.2], p_min=0, p_max=1, e=[1, 2, 3]),
     "must broadcast together"),
    (lambda: compromise([0, 1], [1, 1, 1], [1, 1]),
     "capabilities must have the same length as positions (2); got length 3"),
    (lambda: compromise([0, 1], [1, 1], [0, 0]), "capabilities * saliences must have a positive sum"),
    (lambda: compromise([0, 1], [1, -2], [1, 1]), "capabilities must be >= 0; found capabilities[1] = -2.0"),
    (lambda: weighted_median([0, 1], [0, 0]), "weights must have a positive sum"),
    (lambda: weighted_median([], []), "positions must not be empty"),
    (lambda: weighted_median([[0, 1]], [1, 1]), "positions must be a 1-D array"),
    (lambda: bdm_expected_utility([0, 1.5], [1, 1], [1, 1]),
     "positions must lie in [0, 1]; found positions[1] = 1.5"),
    (lambda: bdm_expected_utility([0, 1], [1, 1], [1, 1.2]), "saliences must lie in [0, 1]"),
    (lambda: bdm_expected_utility([0, 1], [1, 1], [1, 1], risk="bold"),
     "risk must be 'endogenous' or 'neutral'; got 'bold'"),
    (lambda: bdm_expected_utility([0, 1], [1, 1], [1, 1], rounds=-1),
     "rounds must be an integer >= 0; got -1"),
    (lambda: bdm_expected_utility([0, 1], [1, 1], [1, 1], q=2), "q must lie in [0, 1]; got 2.0"),
])
def test_validation_errors(call, message):
    """Bad input raises ValueError naming the argument, expectation and finding."""
    with pytest.raises(ValueError) as info:
        call()
    assert message in str(info.value)


@pytest.mark.parametrize("e", [0.0, 0.2, 1.0, 3.0])
@pytest.mark.parametrize("k", [0.0, 0.1])
def test_engine_schedule_equals_the_checked_target(e, k):
    """The engine's unvalidated schedule is the same arithmetic as time_dependent_target, bit for bit."""
    lo, hi = np.linspace(-0.5, 0.5, 7), np.linspace(0.5, 1.0, 7)
    for t in np.linspace(0.0, 1.0, 12):
        np.testing.assert_array_equal(
            time_dependent_schedule(float(t), lo, hi, e, k), time_dependent_target(float(t), p_min=lo, p_max=hi, e=e, k=k)
        )
