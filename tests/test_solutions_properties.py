"""Hypothesis property tests for sim.theory."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

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

settings.register_profile("solutions", max_examples=60, deadline=None)
settings.load_profile("solutions")

# Utilities on a grid of quarters: exact in binary, full of ties and duplicates.
QUARTERS = st.integers(0, 12).map(lambda i: i / 4.0)


@st.composite
def outcome_sets(draw, min_parties=1, max_parties=4, max_outcomes=25):
    """(utilities (K, P), disagreement (P,)) on the quarter grid."""
    p = draw(st.integers(min_parties, max_parties))
    k = draw(st.integers(1, max_outcomes))
    u = draw(arrays(np.float64, (k, p), elements=QUARTERS))
    d = draw(arrays(np.float64, (p,), elements=st.integers(0, 4).map(lambda i: i / 4.0)))
    return u, d


def nash_key(u, d):
    gains = u - d
    if np.any(gains <= 0):
        return (0.0, -math.inf)
    return (1.0, float(np.sum(np.log(gains))))


def ks_key(u, d, ideal):
    span = ideal - d
    active = span > 0
    ratio = (u[active] - d[active]) / span[active]
    return (float(ratio.min()), float(ratio.sum())) if active.any() else (0.0, 0.0)


def keys_close(a, b):
    return all(x == y or math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b, strict=True))


SOLUTIONS = {
    "nash": nash_bargaining,
    "ks": kalai_smorodinsky,
    "egalitarian": egalitarian,
    "utilitarian": utilitarian,
}


def criterion(name, u_all, d, k):
    """The lexicographic score the named solution maximises, for outcome k."""
    row = u_all[k]
    if name == "nash":
        return nash_key(row, d)
    if name == "ks":
        ideal = u_all[individually_rational(u_all, d)].max(axis=0)
        return ks_key(row, d, ideal)
    if name == "egalitarian":
        return (float((row - d).min()), float(row.sum()))
    return (float(row.sum()), float((row - d).min()))


# ---------------------------------------------------------------------------
# Pareto mask
# ---------------------------------------------------------------------------


@given(outcome_sets(max_outcomes=40))
def test_property_pareto_mask_matches_quadratic_definition(data):
    """pareto_mask equals the O(K^2) 'no weak dominator' definition."""
    u, _ = data
    ge = np.all(u[:, None, :] >= u[None, :, :], axis=2)
    gt = np.any(u[:, None, :] > u[None, :, :], axis=2)
    expected = ~np.any(ge & gt, axis=0)
    assert np.array_equal(pareto_mask(u), expected)


@given(arrays(np.float64, st.tuples(st.integers(1, 60), st.integers(1, 4)),
              elements=st.floats(-1e6, 1e6, allow_nan=False, allow_subnormal=False)))
def test_property_pareto_mask_real_values(u):
    """The same agreement with the O(K^2) definition on arbitrary finite floats."""
    ge = np.all(u[:, None, :] >= u[None, :, :], axis=2)
    gt = np.any(u[:, None, :] > u[None, :, :], axis=2)
    assert np.array_equal(pareto_mask(u), ~np.any(ge & gt, axis=0))


# ---------------------------------------------------------------------------
# axiomatic solutions
# ---------------------------------------------------------------------------


@given(outcome_sets())
def test_property_solutions_pareto_optimal_and_rational(data):
    """Nash, KS, egalitarian and utilitarian pick IR, Pareto-optimal outcomes."""
    u, d = data
    ir = individually_rational(u, d)
    for solve in SOLUTIONS.values():
        k = solve(u, d)
        if not ir.any():
            assert k is None
            continue
        assert isinstance(k, int) and ir[k]
        dominated = np.all(u >= u[k], axis=1) & np.any(u > u[k], axis=1)
        assert not dominated.any()


@given(outcome_sets(), st.randoms(use_true_random=False))
def test_property_solutions_invariant_to_permuting_outcomes(data, rnd):
    """Permuting outcomes yields the same utility vector, up to exact ties of the criterion."""
    u, d = data
    perm = np.array(rnd.sample(range(u.shape[0]), u.shape[0]))
    for name, solve in SOLUTIONS.items():
        k, kp = solve(u, d), solve(u[perm], d)
        assert (k is None) == (kp is None)
        if k is None:
            continue
        if not np.array_equal(u[k], u[perm][kp]):
            assert keys_close(criterion(name, u, d, k), criterion(name, u[perm], d, kp))


@given(outcome_sets(), st.lists(st.sampled_from([0.25, 0.5, 2.0, 3.0, 10.0]), min_size=4, max_size=4),
       st.lists(st.integers(-5, 5), min_size=4, max_size=4))
def test_property_nash_and_ks_affine_invariant(data, scales, shifts):
    """Rescaling party utilities and d by a > 0, b leaves the Nash and KS choice unchanged."""
    u, d = data
    a = np.array(scales[: u.shape[1]])
    b = np.array(shifts[: u.shape[1]], dtype=float)
    u2, d2 = u * a + b, d * a + b
    for name in ("nash", "ks"):
        k, k2 = SOLUTIONS[name](u, d), SOLUTIONS[name](u2, d2)
        assert (k is None) == (k2 is None)
        if k is not None and k != k2:
            assert keys_close(criterion(name, u, d, k), criterion(name, u, d, k2))


@given(outcome_sets(min_parties=2, max_parties=3),
       arrays(np.float64, (3,), elements=st.floats(0.1, 5.0)))
def test_property_nash_weighted_is_argmax(data, weights):
    """The weighted Nash choice attains the maximal weighted log-product."""
    u, d = data
    w = weights[: u.shape[1]]
    k = nash_bargaining(u, d, weights=w)
    gains = u - d
    ok = np.all(gains > 0, axis=1)
    if k is None:
        assert not individually_rational(u, d).any()
    elif ok.any():
        best = np.max(np.log(gains[ok]) @ w)
        assert math.isclose(float(np.log(gains[k]) @ w), float(best), rel_tol=1e-9, abs_tol=1e-12)


# ---------------------------------------------------------------------------
# Zeuthen
# ---------------------------------------------------------------------------


@given(outcome_sets(min_parties=2, max_parties=2, max_outcomes=30))
def test_property_zeuthen_reaches_nash_product(data):
    """Harsanyi: the concession process ends IR and Pareto-optimal, and at a maximal Nash
    product wherever no two offers it can make have equal Nash products (equal products
    are equal risk limits, where both concede at once: see the next test)."""
    u, d = data
    z, n = zeuthen(u, d), nash_bargaining(u, d)
    assert (z is None) == (n is None)
    if z is None:
        return
    assert individually_rational(u, d)[z] and pareto_mask(u)[z]
    chain = np.unique(u[individually_rational(u, d) & pareto_mask(u)], axis=0)
    products = np.prod(chain - d, axis=1)
    if np.unique(products).size == products.size:
        assert np.prod(u[z] - d) == np.prod(u[n] - d)


def test_zeuthen_with_equal_risk_limits_both_concede():
    """Two Nash solutions (products 1.25 x 2.25 = 2.25 x 1.25) opened by the two parties give
    equal risk limits (4/9 each), so both concede at once, to the outcome between them, whose
    Nash product (1.5 x 1.5) is lower: the discrete process meets Harsanyi's result only
    where risk limits differ."""
    u = np.array([[1.25, 3.0], [1.5, 2.25], [2.25, 2.0], [0.0, 0.0]])
    d = np.array([0.0, 0.75])
    assert (2.25 - 1.25) / (2.25 - 0.0) == (3.0 - 2.0) / (3.0 - 0.75)  # the opening risk limits tie
    assert zeuthen(u, d) == 1
    assert np.prod(u[nash_bargaining(u, d)] - d) == 2.8125


@given(outcome_sets(min_parties=2, max_parties=2), st.randoms(use_true_random=False))
def test_property_zeuthen_permutation(data, rnd):
    """Permuting outcomes gives the same agreement vector up to equal Nash products."""
    u, d = data
    perm = np.array(rnd.sample(range(u.shape[0]), u.shape[0]))
    z, zp = zeuthen(u, d), zeuthen(u[perm], d)
    assert (z is None) == (zp is None)
    if z is not None and not np.array_equal(u[z], u[perm][zp]):
        assert np.prod(u[z] - d) == np.prod(u[perm][zp] - d)


# ---------------------------------------------------------------------------
# Rubinstein / Stahl
# ---------------------------------------------------------------------------


@given(st.floats(0.0, 0.99), st.floats(0.0, 0.99), st.integers(1, 200))
def test_property_stahl_error_bound(d1, d2, horizon):
    """|s_T - s_inf| <= (d1 d2)^floor((T-1)/2), and the share lies in [0, 1]."""
    finite = rubinstein_share(d1, d2, horizon=horizon)
    infinite = rubinstein_share(d1, d2)
    assert 0.0 <= finite <= 1.0 and 0.0 <= infinite <= 1.0
    assert abs(finite - infinite) <= (d1 * d2) ** ((horizon - 1) // 2) + 1e-12


@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.integers(1, 300))
def test_property_stahl_closed_form_matches_backward_induction(d1, d2, horizon):
    """The closed form equals round-by-round backward induction for every horizon."""
    share = 1.0  # the last proposer takes the pie
    for t in range(horizon - 1, 0, -1):
        share = 1.0 - (d2 if t % 2 == 1 else d1) * share
    assert math.isclose(rubinstein_share(d1, d2, horizon=horizon), share, rel_tol=1e-9, abs_tol=1e-9)


@given(st.floats(0.0, 0.99), st.floats(0.0, 0.99), st.floats(0.0, 0.99))
def test_property_rubinstein_monotone_in_patience(d1, d2, extra):
    """A more patient player 1 (larger d1) never gets less."""
    hi = d1 + (0.99 - d1) * extra
    assert rubinstein_share(hi, d2) >= rubinstein_share(d1, d2) - 1e-12


# ---------------------------------------------------------------------------
# Fearon
# ---------------------------------------------------------------------------


@given(st.floats(0, 1), st.floats(0, 1), st.floats(0.001, 0.5), st.floats(0.001, 0.5),
       st.floats(0, 0.5))
def test_property_fearon_costs_widen_range(p, p_b, ca, cb, extra):
    """Higher costs of war (e.g. a credible sanctions threat) never narrow the range."""
    base = fearon_range(p, ca, cb, p_b=p_b)
    wider = fearon_range(p, ca + extra, cb + extra, p_b=p_b)
    if base is not None:
        assert wider is not None
        assert wider[0] <= base[0] and wider[1] >= base[1]
    if p_b >= p:  # common or pessimistic beliefs always leave room for a deal
        assert base is not None


# ---------------------------------------------------------------------------
# time-dependent concession
# ---------------------------------------------------------------------------


@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(0, 1)),
       st.floats(0, 5), st.floats(0, 1), st.floats(-1, 1), st.floats(0, 1))
def test_property_time_target_bounded_and_monotone(t, e, k, p_min, width):
    """Targets stay in [p_min, p_max] and never rise over time."""
    p_max = p_min + width
    ts = np.sort(t)
    out = time_dependent_target(ts, p_min=p_min, p_max=p_max, e=e, k=k)
    assert np.all(out >= p_min - 1e-12) and np.all(out <= p_max + 1e-12)
    assert np.all(np.diff(out) <= 1e-12)
    if e == 0:
        assert np.all(out == out[0])


# ---------------------------------------------------------------------------
# spatial models
# ---------------------------------------------------------------------------

ACTORS = st.integers(1, 12).flatmap(lambda n: st.tuples(
    arrays(np.float64, (n,), elements=st.floats(0, 1)),
    arrays(np.float64, (n,), elements=st.floats(0.01, 10)),
    arrays(np.float64, (n,), elements=st.floats(0.01, 1)),
))


@given(ACTORS)
def test_property_weighted_median_balances_weight(actors):
    """Weight strictly below the median is < half; weight at or below it is >= half."""
    x, c, s = actors
    w = c * s
    m = weighted_median(x, w)
    assert m in x
    total = w.sum()
    assert w[x < m].sum() < 0.5 * total + 1e-9 * total
    assert w[x <= m].sum() >= 0.5 * total - 1e-9 * total


@given(ACTORS)
def test_property_compromise_within_positions(actors):
    """The compromise forecast lies between the extreme positions."""
    x, c, s = actors
    assert x.min() - 1e-12 <= compromise(x, c, s) <= x.max() + 1e-12


@given(ACTORS, st.sampled_from(["endogenous", "neutral"]), st.integers(-3, 3))
def test_property_bdm_bounded_and_scale_free(actors, risk, power):
    """Positions stay in [0, 1]; scaling capabilities by 2**k changes nothing."""
    x, c, s = actors
    res = bdm_expected_utility(x, c, s, rounds=3, risk=risk)
    assert res.positions.shape == (4, x.size)
    assert np.all((res.positions >= 0) & (res.positions <= 1))
    assert res.forecast == weighted_median(res.positions[-1], c * s)
    scaled = bdm_expected_utility(x, c * 2.0 ** power, s, rounds=3, risk=risk)
    assert np.array_equal(scaled.positions, res.positions)
