"""Patience as bargaining power: Stahl demands and asymmetric Nash demands against brute force."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.patience import nash_demands, nash_weights, rubinstein_shares, rubinstein_values, stahl_demands


def brute_stahl(u: list[list[float]], war: list[float], d: list[float], proposer: int, n: int) -> list[float]:
    """The stage values of Stahl's game on a candidate list, by plain backward induction.

    ``u[p][k]``: party p's utility of candidate k. Returns ``values[s]`` for s = 0..n: the
    demand of the party proposing at stage s (stage n is now), ``values[0]`` unused.
    """
    zone = [k for k in range(len(u[0])) if u[0][k] >= war[0] and u[1][k] >= war[1]]
    values: list[float] = [0.0] * (n + 1)
    for s in range(1, n + 1):
        mover = proposer if (n - s) % 2 == 0 else 1 - proposer
        other = 1 - mover
        before = values[s - 1] if s > 1 else war[other]
        need = war[other] + d[other] * (before - war[other])
        ok = [k for k in zone if u[other][k] >= need - 1e-9]
        values[s] = max(u[mover][k] for k in ok)
    return values


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=12),
    st.tuples(st.sampled_from([0.3, 0.5, 0.8, 0.95, 1.0]), st.sampled_from([0.3, 0.5, 0.8, 0.95, 1.0])),
    st.integers(0, 1),
    st.integers(1, 9),
)
def test_property_stahl_demands_match_backward_induction(points, d, proposer, n):
    """On any small candidate set, the demands are the stage values of plain backward induction."""
    u = [[a / 20 for a, _ in points], [b / 20 for _, b in points]]
    war = [min(u[0]), min(u[1])]  # the zone holds every candidate
    now, nxt = stahl_demands(np.array([u]), np.array([war]), np.array([d]), proposer, n)
    values = brute_stahl(u, war, list(d), proposer, n)
    a, b = proposer, 1 - proposer

    def stage(s: int, party: int) -> float:
        return war[party] if s <= 0 else values[s]

    assert now[0, a] == pytest.approx(stage(n, a), abs=1e-12)
    assert now[0, b] == pytest.approx(stage(n - 1, b), abs=1e-12)
    assert nxt[0, b] == pytest.approx(stage(n - 1, b), abs=1e-12)
    assert nxt[0, a] == pytest.approx(stage(n - 2, a), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=12),
    st.tuples(st.sampled_from([0.3, 0.5, 0.8, 0.95, 1.0]), st.sampled_from([0.3, 0.5, 0.8, 0.95, 1.0])),
    st.integers(0, 1),
)
def test_property_rubinstein_values_are_a_stationary_equilibrium(points, d, first):
    """Each value is the most its party gets from candidates the other accepts given the
    other's value: V_a = max u_a over the zone with u_b >= w_b + d_b (V_b - w_b), both ways."""
    u = [[a / 20 for a, _ in points], [b / 20 for _, b in points]]
    war = [min(u[0]), min(u[1])]
    value = rubinstein_values(np.array([u]), np.array([war]), np.array([d]), first)[0]
    for a in (0, 1):
        b = 1 - a
        need = war[b] + d[b] * (value[b] - war[b])
        assert value[a] == pytest.approx(max(u[a][k] for k in range(len(points)) if u[b][k] >= need - 1e-9), abs=1e-12)


def test_rubinstein_values_on_a_pie_by_hand():
    """A pie in tenths, war 0, patience 0.5 each: from the continuous 2/3, B (the responder) keeps
    the most that leaves A 0.5 x 0.667, i.e. 0.6; then A the most that leaves B 0.5 x 0.6 = 0.3,
    i.e. 0.7; then B 0.6 again (A needs 0.35): A 0.7, B 0.6 (continuous: 0.667 each)."""
    x = np.linspace(0.0, 1.0, 11)
    value = rubinstein_values(np.stack([x, 1 - x])[None], np.zeros((1, 2)), np.full((1, 2), 0.5))
    np.testing.assert_allclose(value, [[0.7, 0.6]], atol=1e-12)
    np.testing.assert_allclose(rubinstein_shares(np.full((1, 2), 0.5)), [[2 / 3, 2 / 3]])


def test_rubinstein_values_rise_with_own_patience_and_fall_with_the_others():
    """On a pie of 101 slices the first proposer's value is monotone in both discount factors."""
    x = np.linspace(0.0, 1.0, 101)
    u = np.stack([x, 1 - x])[None]
    grid = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
    value = {(d1, d2): rubinstein_values(u, np.zeros((1, 2)), np.array([[d1, d2]]))[0, 0]
             for d1, d2 in itertools.product(grid, grid)}
    for d1, d2 in itertools.product(grid, grid):
        for e in grid:
            if e > d1:
                assert value[(e, d2)] >= value[(d1, d2)] - 1e-12
            if e > d2:
                assert value[(d1, e)] <= value[(d1, d2)] + 1e-12


def test_rubinstein_values_without_a_zone_are_nan():
    """Where no candidate beats war for both, there is no reservation to hold."""
    u = np.array([[[0.2, 0.9], [0.9, 0.2]]])
    assert np.isnan(rubinstein_values(u, np.array([[0.5, 0.5]]), np.full((1, 2), 0.9))).all()


def test_stahl_on_a_pie_by_hand():
    """Three rounds of a pie in tenths, discount 0.5 each: stage 1 the last proposer keeps 1,
    stage 2 keeps 1 - 0.5, stage 3 keeps 1 - 0.5 * 0.5 rounded down to the grid (0.7)."""
    x = np.linspace(0.0, 1.0, 11)
    u = np.stack([x, 1 - x])[None]
    now, nxt = stahl_demands(u, np.zeros((1, 2)), np.full((1, 2), 0.5), proposer=0, rounds_left=3)
    # the responder needs 0.5 * 0.5 = 0.25, so gets 0.3 on the grid; the proposer keeps 0.7
    np.testing.assert_allclose(now, [[0.7, 0.5]], atol=1e-12)
    np.testing.assert_allclose(nxt, [[1.0, 0.5]], atol=1e-12)


def test_stahl_without_a_zone_is_nan():
    """Where no candidate beats war for both, there is nothing to demand."""
    u = np.array([[[0.2, 0.9], [0.9, 0.2]]])
    now, nxt = stahl_demands(u, np.array([[0.5, 0.5]]), np.full((1, 2), 0.9), proposer=0, rounds_left=4)
    assert np.isnan(now).all() and np.isnan(nxt).all()


def test_stahl_demand_rises_with_own_patience_and_falls_with_the_others():
    """On a pie of 101 slices and 12 rounds the first proposer's demand is monotone in both discount factors."""
    x = np.linspace(0.0, 1.0, 101)
    u = np.stack([x, 1 - x])[None]
    grid = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
    demand = {(d1, d2): stahl_demands(u, np.zeros((1, 2)), np.array([[d1, d2]]), 0, 12)[0][0, 0]
              for d1, d2 in itertools.product(grid, grid)}
    for d1, d2 in itertools.product(grid, grid):
        for e in grid:
            if e > d1:
                assert demand[(e, d2)] >= demand[(d1, d2)] - 1e-12
            if e > d2:
                assert demand[(d1, e)] <= demand[(d1, d2)] + 1e-12


def test_nash_weights_follow_binmore_rubinstein_wolinsky():
    """alpha_1 = r2 / (r1 + r2) with d_i = exp(-r_i): rates 1 and 2 give 2/3 and 1/3."""
    w = nash_weights(np.array([[np.exp(-1.0), np.exp(-2.0)]]))
    np.testing.assert_allclose(w, [[2 / 3, 1 / 3]], atol=1e-12)


def test_nash_demands_maximise_the_weighted_product_by_brute_force():
    """The demanded candidate maximises sum alpha_i log(u_i - w_i) over the zone, checked candidate by candidate."""
    rng = np.random.default_rng(3)
    u = rng.uniform(0.0, 1.0, (50, 2, 9))
    war = rng.uniform(0.0, 0.4, (50, 2))
    d = rng.uniform(0.5, 0.99, (50, 2))
    got = nash_demands(u, war, d)
    alpha = nash_weights(d)
    for r in range(50):
        zone = [k for k in range(9) if (u[r, :, k] >= war[r]).all()]
        if not zone:
            assert np.isnan(got[r]).all()
            continue
        score = {k: sum(alpha[r, p] * np.log(max(u[r, p, k] - war[r, p], 1e-12)) for p in range(2)) for k in zone}
        best = max(zone, key=lambda k: score[k])
        assert got[r].tolist() == pytest.approx(u[r, :, best].tolist())


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 40), st.integers(0, 1), st.integers(1, 6))
def test_property_demands_on_the_frontier_equal_the_scan(seed, r, k, proposer, rounds_left):
    """Rubinstein values and Stahl demands looked up on the offer frontiers equal the scan's bit for bit (tie-heavy float32)."""
    from sim.core.frontier import offer_frontiers

    rng = np.random.default_rng(seed)
    u = rng.integers(-1, 4, size=(r, 2, k)).astype(np.float32) / np.float32(3.0)
    war = rng.choice(np.concatenate([u.ravel().astype(float), [-1.0, 2.0]]), size=(r, 2))
    d = rng.choice([0.5, 0.9, 1.0], size=(r, 2))
    frontiers = offer_frontiers(u[:, 0], u[:, 1])
    scan = rubinstein_values(u, war, d, proposer)
    fast = rubinstein_values(u, war, d, proposer, frontiers)
    assert scan.tobytes() == fast.tobytes()
    for scanned, looked_up in zip(stahl_demands(u, war, d, proposer, rounds_left),
                                  stahl_demands(u, war, d, proposer, rounds_left, frontiers), strict=True):
        assert scanned.tobytes() == looked_up.tobytes()


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 8), st.integers(1, 30), st.integers(0, 1))
def test_property_rubinstein_values_row_by_row_and_on_rows(seed, r, k, first):
    """Each replica's values are its own: solving one row at a time, solving a batch, and solving chosen
    rows of a batch in place (``rows``) give the same bits, on frontiers and by the scan."""
    from sim.core.frontier import offer_frontiers

    rng = np.random.default_rng(seed)
    u = rng.integers(-1, 4, size=(r, 2, k)).astype(np.float32) / np.float32(3.0)
    war = rng.choice(np.concatenate([u.ravel().astype(float), [-1.0, 2.0]]), size=(r, 2))
    d = rng.choice([0.3, 0.5, 0.9, 0.99, 1.0], size=(r, 2))
    frontiers = offer_frontiers(u[:, 0], u[:, 1])
    batch = rubinstein_values(u, war, d, first, frontiers)
    alone = np.concatenate([rubinstein_values(u[i : i + 1], war[i : i + 1], d[i : i + 1], first) for i in range(r)])
    assert batch.tobytes() == alone.tobytes()
    rows = rng.permutation(r)[: max(1, r // 2)]
    on_rows = rubinstein_values(u, war[rows], d[rows], first, frontiers, rows)
    assert on_rows.tobytes() == batch[rows].tobytes()
    assert rubinstein_values(u, war[rows], d[rows], first, None, rows).tobytes() == batch[rows].tobytes()


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 30))
def test_property_has_zone_on_frontiers_and_on_rows_is_the_brute_force(seed, r, k):
    """Whether some candidate beats war for both, by look-ups on the frontiers or a scan, of
    every replica or of chosen ones in place (``rows``): each the brute-force answer (a
    candidate worth at least each party's war payoff, compared in float64)."""
    from sim.core.frontier import offer_frontiers
    from sim.core.patience import has_zone

    rng = np.random.default_rng(seed)
    u = rng.integers(-1, 4, size=(r, 2, k)).astype(np.float32) / np.float32(3.0)
    war = rng.choice(np.concatenate([u.ravel().astype(float), [-1.0, 2.0]]), size=(r, 2))
    war[::3] += 1e-9  # just above a utility: no longer met
    brute = np.array([any(all(float(u[i, p, c]) >= war[i, p] for p in range(2)) for c in range(k)) for i in range(r)])
    frontiers = offer_frontiers(u[:, 0], u[:, 1])
    rows = rng.permutation(r)[: max(1, r // 2)]
    assert np.array_equal(has_zone(u, war), brute)
    assert np.array_equal(has_zone(u, war, frontiers), brute)
    assert np.array_equal(has_zone(u, war[rows], frontiers, rows), brute[rows])
    assert np.array_equal(has_zone(u, war[rows], None, rows), brute[rows])
