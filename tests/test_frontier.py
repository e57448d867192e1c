"""Offer and single-text frontiers: the same index as the scan over all candidates, ties included."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.frontier import dtype_ceiling, frontier_offer, frontier_text, offer_frontier, offer_frontiers, text_frontier
from sim.core.protocols import _scanned_text
from sim.core.strategies import offer_for_target, offer_threshold


@st.composite
def tie_heavy_tables(draw, parties=2):
    """Integer-valued float32 utilities (R, P, K) from few levels (so ties abound), as the engine holds them."""
    r = draw(st.integers(1, 6))
    k = draw(st.integers(1, 40))
    levels = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    values = rng.integers(-2, levels, size=(r, parties, k)).astype(np.float32)
    if draw(st.booleans()):  # halves and negative zeros too: -0.0 and 0.0 must tie
        values = values / np.float32(2)
        values[values == 0] = np.float32(-0.0) * rng.integers(0, 2, size=(values == 0).sum())
    return values, rng


def brute_offer(own, other, threshold):
    """The rule by hand: best for the other among own >= threshold, first index; else first best own."""
    out = []
    for r in range(own.shape[0]):
        meets = [k for k in range(own.shape[1]) if own[r, k] >= threshold[r]]
        if meets:
            best = max(other[r, k] for k in meets)
            out.append(min(k for k in meets if other[r, k] == best))
        else:
            out.append(min(k for k in range(own.shape[1]) if own[r, k] == own[r].max()))
    return out


def test_offer_frontier_example():
    """Four candidates on a line: each is the answer for the thresholds just above the one before it."""
    own = np.array([[1.0, 0.7, 0.4, 0.0]], dtype=np.float32)
    frontier = offer_frontier(own, 1 - own)
    for target, expected in ((-1.0, 3), (0.0, 3), (0.1, 2), (0.4, 2), (0.5, 1), (1.0, 0), (2.0, 0)):
        threshold = np.array([target], dtype=np.float32)
        assert frontier_offer(frontier, threshold)[0].tolist() == [expected]


def test_offer_frontier_ties_pick_the_first_index():
    """Equal utilities for the other side: the lowest index meeting the threshold, as argmax gives."""
    own = np.array([[0.2, 0.5, 0.5, 0.9]], dtype=np.float32)
    other = np.array([[0.8, 0.8, 0.8, 0.1]], dtype=np.float32)
    answers = [frontier_offer(offer_frontier(own, other), np.array([t], dtype=np.float32))[0][0] for t in (0.1, 0.3, 0.9)]
    assert answers == [0, 1, 3]


def test_offer_frontier_stuck_falls_back_to_first_best():
    """A target above every candidate (or NaN) gives the proposer's best, first index among equals."""
    own = np.array([[0.3, 0.9, 0.9]], dtype=np.float32)
    other = np.array([[0.1, 0.2, 0.5]], dtype=np.float32)
    frontier = offer_frontier(own, other)
    for t in (1.0, np.inf, np.nan):
        index, value = frontier_offer(frontier, np.array([t], dtype=np.float32))
        assert (index.tolist(), value.tolist()) == ([1], [np.float32(0.9)])


@settings(max_examples=300, deadline=None)
@given(tie_heavy_tables())
def test_property_offer_frontier_equals_scan(table):
    """On tie-heavy tables the frontier's offer and own value equal the scan's and the rule by hand."""
    values, rng = table
    own, other = values[:, 0], values[:, 1]
    frontier = offer_frontier(own, other)
    picks = np.concatenate([own.ravel(), [-np.inf, np.inf, np.nan]])
    for _ in range(8):
        target = rng.choice(picks, size=own.shape[0]).astype(float) + rng.choice([0.0, 1e-9, -1e-9, 0.25], size=own.shape[0])
        scan = offer_for_target(own, other, target)
        threshold = offer_threshold(target, own.dtype)
        index, value = frontier_offer(frontier, threshold)
        assert index.tolist() == scan.tolist() == brute_offer(own, other, threshold)
        assert np.array_equal(value, own[np.arange(own.shape[0]), scan])


def test_offer_frontier_float64_matches_scan():
    """Utilities in float64 take the lexsort road to the same answers."""
    rng = np.random.default_rng(3)
    values = rng.integers(0, 4, size=(50, 2, 30)).astype(float)
    frontier = offer_frontier(values[:, 0], values[:, 1])
    for t in range(-1, 5):
        target = np.full(50, float(t))
        index, _ = frontier_offer(frontier, offer_threshold(target, values.dtype))
        assert index.tolist() == offer_for_target(values[:, 0], values[:, 1], target).tolist()


@settings(max_examples=300, deadline=None)
@given(tie_heavy_tables(), st.sampled_from(["even", "random", "extreme", "zero"]))
def test_property_text_frontier_equals_scan(table, kind):
    """The mediator's text from the frontier (with its scan where rounding could tie) equals the full scan."""
    values, rng = table
    r = values.shape[0]
    frontier = text_frontier(values, offer_frontier(values[:, 0], values[:, 1]))
    weights = {
        "even": np.full((r, 2), 0.5),
        "random": rng.dirichlet([1.0, 1.0], size=r),
        "extreme": np.stack([np.full(r, 1.0), np.full(r, 1e-300)], axis=1)[:, rng.permutation(2)],
        "zero": np.stack([np.ones(r), np.zeros(r)], axis=1),
    }[kind]
    war = rng.choice(np.concatenate([values.ravel(), [-np.inf, np.inf]]), size=(r, 2)).astype(float)
    text, certain = frontier_text(frontier, weights, war)
    scan = _scanned_text(values, weights, war)
    assert text[certain].tolist() == scan[certain].tolist()
    # with a floor each party must also reach (the acceptable pool first, as the protocol asks)
    floor = rng.choice(np.concatenate([values.ravel(), [-np.inf, np.inf]]), size=(r, 2)).astype(values.dtype)
    text, certain_floor = frontier_text(frontier, weights, war, floor)
    scan = _scanned_text(values, weights, war, floor)
    assert text[certain_floor].tolist() == scan[certain_floor].tolist()
    if kind in ("even", "random"):  # integer gaps: rounding cannot hide a dominated candidate's loss
        assert certain.all()


def test_text_frontier_rounding_tie_is_flagged():
    """A dominated candidate at a lower index that ties after rounding is the scan's text; the frontier says it is unsure."""
    values = np.array([[[0.5, 0.5], [0.25, 0.25 + 2**-20]]], dtype=np.float32)  # candidate 1 dominates candidate 0
    weights = np.array([[1.0, 1e-300]])
    war = np.array([[-1.0, -1.0]])
    frontier = text_frontier(values, offer_frontier(values[:, 0], values[:, 1]))
    text, certain = frontier_text(frontier, weights, war)
    assert _scanned_text(values, weights, war).tolist() == [0]
    assert text.tolist() == [1] and certain.tolist() == [False]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 300), st.booleans())
def test_property_both_proposers_equal_scan(seed, r, k, ties):
    """offer_frontiers reads the second proposer's frontier off the first's where no utility ties; both equal the scan."""
    rng = np.random.default_rng(seed)
    values = rng.random((r, 2, k)).astype(np.float32)
    if ties:  # some rows tie, the others take the mirrored road
        values[::2] = np.round(values[::2] * 3)
    frontiers = offer_frontiers(values[:, 0], values[:, 1])
    for p in (0, 1):
        own, other = values[:, p], values[:, 1 - p]
        for _ in range(5):
            target = rng.choice(np.concatenate([own.ravel(), [-np.inf, np.inf]]), size=r).astype(float)
            index, value = frontier_offer(frontiers[p], offer_threshold(target, own.dtype))
            scan = offer_for_target(own, other, target)
            assert index.tolist() == scan.tolist()
            assert np.array_equal(value, own[np.arange(r), scan])


def test_frontiers_built_in_chunks_equal_one_build(monkeypatch):
    """Rows built a few at a time (chunks of different widths) give the same offers as one build."""
    import sim.core.frontier as frontier

    rng = np.random.default_rng(11)
    values = rng.random((37, 2, 50)).astype(np.float32)
    values[::3] = np.round(values[::3] * 4)
    whole = offer_frontiers(values[:, 0], values[:, 1])
    monkeypatch.setattr(frontier, "CHUNK_CELLS", 50 * 4)  # four rows per chunk
    chunked = offer_frontiers(values[:, 0], values[:, 1])
    for p in (0, 1):
        for t in np.linspace(-0.1, 1.1, 13):
            threshold = np.full(37, t, dtype=np.float32)
            assert all(np.array_equal(a, b) for a, b in
                       zip(frontier_offer(whole[p], threshold), frontier_offer(chunked[p], threshold), strict=True))


def _same_frontiers(one, two):
    """Two pairs of offer frontiers hold the same entries (levels with their NaN padding, the
    candidates of the entries, sizes, fallbacks and bests): every look-up gives the same."""
    def entries(f):
        return np.where(np.arange(f.entries) < f.size[:, None], f.index, -1)

    return all(
        np.array_equal(a.level, b.level, equal_nan=True) and np.array_equal(entries(a), entries(b))
        and all(np.array_equal(getattr(a, name), getattr(b, name)) for name in ("size", "fallback", "best"))
        for a, b in zip(one, two, strict=True)
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 400), st.sampled_from(["ties", "opposed", "random"]))
def test_property_pruned_frontiers_equal_unpruned(seed, r, k, kind):
    """Setting aside candidates a sample's frontier strictly dominates changes no entry, ties included."""
    import sim.core.frontier as frontier

    rng = np.random.default_rng(seed)
    first = rng.random((r, k)).astype(np.float32)
    second = rng.random((r, k)).astype(np.float32)
    if kind == "ties":
        first, second = np.round(first * 4), np.round(second * 3)
    elif kind == "opposed":  # near a frontier everywhere: little to prune
        second = (1 - first + 0.01 * second).astype(np.float32)
    original = (frontier.MIRROR_MAX, frontier.PRUNE_MIN, frontier.PRUNE_SAMPLE, frontier.PRUNE_BINS)
    try:
        frontier.MIRROR_MAX = 0  # each proposer's frontier built on its own, as with many candidates
        plain = frontier._offer_frontiers(first, second)  # below PRUNE_MIN: no pruning
        frontier.PRUNE_MIN, frontier.PRUNE_SAMPLE, frontier.PRUNE_BINS = 1, 3, 8
        pruned = frontier._offer_frontiers(first, second)
    finally:
        frontier.MIRROR_MAX, frontier.PRUNE_MIN, frontier.PRUNE_SAMPLE, frontier.PRUNE_BINS = original
    assert _same_frontiers(pruned, plain)


def test_pruning_sets_most_candidates_aside_on_a_big_product_space():
    """On 5 issues x 11 levels of additive utilities most candidates are strictly dominated by the sample's frontier,
    none of them an entry: the pruned build equals the full one."""
    import itertools

    import sim.core.frontier as frontier

    rng = np.random.default_rng(3)
    levels = np.linspace(0, 1, 11)
    grid = np.array(list(itertools.product(range(11), repeat=5)))  # 161,051 candidates
    weights = rng.dirichlet(np.ones(5), size=2)
    first = (levels[grid] @ weights[0]).astype(np.float32)[None]
    second = ((1 - levels[grid]) @ weights[1]).astype(np.float32)[None]
    kept = frontier._undominated(first, second)
    assert kept.mean() < 0.1
    whole = frontier._offer_frontiers(first, second)
    original = frontier.PRUNE_MIN
    try:
        frontier.PRUNE_MIN = 10**9
        assert _same_frontiers(whole, frontier._offer_frontiers(first, second))
    finally:
        frontier.PRUNE_MIN = original
    entries = whole[0].index[0, : whole[0].size[0]]
    assert kept[0, entries].all()


def test_frontier_offer_on_rows_equals_the_rows_frontier():
    """A look-up on some rows of a frontier, read in place, equals the look-up on a copy of those rows."""
    from sim.core.frontier import frontier_rows

    rng = np.random.default_rng(5)
    values = np.round(rng.random((30, 2, 60)) * 5).astype(np.float32)
    front = offer_frontiers(values[:, 0], values[:, 1])[0]
    rows = np.array([29, 3, 3, 0, 17])
    threshold = rng.choice(values[:, 0].ravel(), size=rows.size).astype(np.float32)
    threshold[1] = np.nan
    in_place = frontier_offer(front, threshold, rows)
    copied = frontier_offer(frontier_rows(front, rows), threshold)
    assert all(np.array_equal(a, b) for a, b in zip(in_place, copied, strict=True))


@settings(max_examples=200, deadline=None)
@given(tie_heavy_tables(), st.booleans())
def test_property_counting_look_up_equals_binary_search(table, on_rows):
    """The counting look-up (frontiers up to ``COUNT_MAX`` wide) and the binary search find
    the same entry for every threshold, NaN and infinities included, on all rows or on some."""
    import sim.core.frontier as frontier

    values, rng = table
    front = offer_frontier(values[:, 0], values[:, 1])
    picks = np.concatenate([values[:, 0].ravel(), [-np.inf, np.inf, np.nan]])
    rows = rng.integers(0, values.shape[0], size=rng.integers(0, 8)) if on_rows else None
    n = values.shape[0] if rows is None else rows.size
    threshold = (rng.choice(picks, size=n) + rng.choice([0.0, 0.25, -0.25], size=n)).astype(np.float32)
    counted = frontier_offer(front, threshold, rows)
    original = frontier.COUNT_MAX
    frontier.COUNT_MAX = 0
    try:
        searched = frontier_offer(front, threshold, rows)
    finally:
        frontier.COUNT_MAX = original
    assert all(np.array_equal(a, b) for a, b in zip(counted, searched, strict=True))


def test_wide_frontier_takes_the_binary_search_to_the_rule_by_hand():
    """A frontier of 300 entries (wider than ``COUNT_MAX``) is searched, with the rule's answers."""
    from sim.core.frontier import COUNT_MAX

    x = np.linspace(0.0, 1.0, 300, dtype=np.float32)[None]
    own = np.concatenate([x, x[:, ::-1]])
    front = offer_frontier(own, 1 - own)
    assert front.entries > COUNT_MAX and front.size.tolist() == [300, 300]
    threshold = np.array([0.5, 0.999], dtype=np.float32)
    index, value = frontier_offer(front, threshold)
    assert index.tolist() == brute_offer(own, 1 - own, threshold)
    assert value.tolist() == own[[0, 1], index].tolist()


@settings(max_examples=200, deadline=None)
@given(tie_heavy_tables(), st.sampled_from([1, 3, 64]))
def test_property_pair_frontiers_equal_offer_frontiers_and_the_extremes(table, cells):
    """``pair_frontiers`` in chunks of rows gives ``offer_frontiers``' look-ups and each party's
    best and worst utility bit for bit (the sign of a zero included)."""
    import sim.core.frontier as frontier

    values, rng = table
    original = frontier.CHUNK_CELLS
    frontier.CHUNK_CELLS = cells * values.shape[2]  # chunks of 1, 3 or 64 rows
    try:
        pair, best, worst = frontier.pair_frontiers(values)
    finally:
        frontier.CHUNK_CELLS = original
    assert np.array_equal(best.view(np.uint32), values.max(axis=2).view(np.uint32))
    assert np.array_equal(worst.view(np.uint32), values.min(axis=2).view(np.uint32))
    whole = offer_frontiers(values[:, 0], values[:, 1])
    threshold = rng.choice(np.concatenate([values.ravel(), [np.nan]]), size=values.shape[0]).astype(np.float32)
    for p in (0, 1):
        assert all(np.array_equal(a, b) for a, b in
                   zip(frontier_offer(pair[p], threshold), frontier_offer(whole[p], threshold), strict=True))


def test_dtype_ceiling_gives_the_same_comparisons():
    """``u >= bound`` and ``u >= dtype_ceiling(bound)`` agree for every float32 ``u``: bounds
    drawn at random, float32 values themselves, their neighbours, the range's ends, NaN."""
    rng = np.random.default_rng(3)
    near = rng.random(500).astype(np.float32)
    top = np.finfo(np.float32).max
    bounds = np.concatenate([
        rng.normal(size=4000), rng.random(4000), near.astype(float),
        np.nextafter(near.astype(float), 2.0), np.nextafter(near.astype(float), -2.0),
        [np.nan, np.inf, -np.inf, float(top), 3.5e38, -3.5e38, 0.0, -0.0, 1e-46, -1e-46],
    ])
    ceiling = dtype_ceiling(bounds, np.float32)
    assert ceiling.dtype == np.float32
    values = np.concatenate([rng.random(2000).astype(np.float32), near, np.nextafter(near, np.float32(2)),
                             np.array([0.0, -0.0, top, -top, 1e-45, np.inf, -np.inf], np.float32)])
    assert np.array_equal(values[None, :] >= bounds[:, None], values[None, :] >= ceiling[:, None])
    assert np.array_equal(dtype_ceiling(bounds, np.float64), bounds, equal_nan=True)


@pytest.mark.parametrize("shape", [(7,), (7, 2), (7, 2, 5), (7, 1, 3, 2)])
def test_rows_of_is_fancy_indexing_bit_for_bit(shape):
    """A take along the first axis gives exactly ``values[rows]``: repeated, unsorted, empty
    and negative positions, contiguous, transposed and broadcast arrays, float and int."""
    from sim.core.frontier import rows_of

    rng = np.random.default_rng(2)
    base = rng.random(shape)
    arrays = [base, base.astype(np.float32), (base * 100).astype(np.int64), np.asfortranarray(base),
              np.broadcast_to(base[:1], shape)]
    for rows in (np.array([3, 0, 3, 6]), np.array([], dtype=np.intp), np.array([-1, 2]), np.arange(7)):
        for values in arrays:
            got = rows_of(values, rows)
            assert got.dtype == values[rows].dtype and got.shape == values[rows].shape
            assert got.tobytes() == np.ascontiguousarray(values[rows]).tobytes()
