"""Round protocols: the frontier path returns every array the scan over all candidates returns."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.protocols import alternating_offers, group_frontiers, single_text


def same_round(a, b):
    """Whether two RoundResults hold equal arrays of equal dtypes."""
    return all(
        np.array_equal(getattr(a, f), getattr(b, f)) and getattr(a, f).dtype == getattr(b, f).dtype
        for f in ("table", "accepted", "own", "answered", "table_value")
    )


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 5), st.integers(1, 30), st.integers(0, 1))
def test_property_rounds_equal_scan(seed, r, k, proposer):
    """Alternating offers and the single text, with and without frontiers, on tie-heavy float32 tables."""
    rng = np.random.default_rng(seed)
    utilities = rng.integers(-1, 4, size=(r, 2, k)).astype(np.float32)
    pick = np.concatenate([utilities.ravel().astype(float), [-np.inf, np.inf]])
    targets, next_targets, war = (rng.choice(pick, size=(r, 2)) for _ in range(3))
    if rng.random() < 0.5:
        next_targets = targets.copy()
    patience = rng.choice([1.0, 0.9], size=(r, 2))
    weights = rng.dirichlet([1.0, 1.0], size=r)
    frontiers = group_frontiers(utilities, single_text=True)
    assert same_round(
        alternating_offers(utilities, targets, next_targets, war, patience, proposer),
        alternating_offers(utilities, targets, next_targets, war, patience, proposer, frontiers),
    )
    assert same_round(
        single_text(utilities, weights, targets, next_targets, war, patience),
        single_text(utilities, weights, targets, next_targets, war, patience, frontiers),
    )
