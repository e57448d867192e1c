"""Strategy target curves against THEORY.md, and one contract every strategy must meet."""

import numpy as np
import pytest

from sim.core.strategies import Memory, TimeDependent, TitForTat, Zeuthen, accepts, offer_for_target, risk_limit


def fresh_memory(r: int, target: float = np.inf) -> Memory:
    """A memory as a party holds it before the first round."""
    return Memory(
        target=np.full(r, target),
        other_utility=np.full(r, -np.inf),
        other_utility_before=np.full(r, -np.inf),
        own_risk=np.ones(r),
        other_risk=np.ones(r),
    )


@pytest.mark.parametrize(
    ("e", "expected"),
    [
        (1.0, 0.75),  # THEORY.md: Pmin 0.5, Pmax 1, k 0, t 0.5, Linear
        (0.2, 0.5 + 0.5 * (1 - 0.5**5)),  # Boulware: f = t^(1/e) = 0.5^5
        (2.0, 0.5 + 0.5 * (1 - 0.5**0.5)),  # Conceder
        (0.0, 1.0),  # Hardliner never concedes
    ],
)
def test_time_dependent_target_at_half_time(e, expected):
    """P(0.5) for Boulware, Linear, Conceder and Hardliner matches the closed form."""
    got = TimeDependent(e=e).target(0.5, np.array([0.5]), np.array([1.0]), fresh_memory(1))
    assert got[0] == pytest.approx(expected, abs=1e-12)


def test_time_dependent_ends_at_reservation():
    """A conceding strategy reaches Pmin at the deadline and starts at Pmax."""
    s = TimeDependent(e=0.2)
    assert s.target(0.0, np.array([0.3]), np.array([0.9]), fresh_memory(1))[0] == pytest.approx(0.9)
    assert s.target(1.0, np.array([0.3]), np.array([0.9]), fresh_memory(1))[0] == pytest.approx(0.3)


def test_time_dependent_with_k_starts_below_max():
    """With k > 0 the first offer already concedes k of the range (f(0) = k)."""
    got = TimeDependent(e=1.0, k=0.2).target(0.0, np.array([0.0]), np.array([1.0]), fresh_memory(1))
    assert got[0] == pytest.approx(0.8)


def test_strategy_names_follow_the_exponent():
    """The GENIUS names: Hardliner, Boulware, Linear, Conceder."""
    assert [TimeDependent(e=e).name for e in (0.0, 0.2, 1.0, 2.0)] == [
        "Hardliner",
        "Boulware (e=0.2)",
        "Linear",
        "Conceder (e=2)",
    ]


def test_tit_for_tat_mirrors_the_other_sides_concession():
    """Tit-for-tat concedes, in own utility, exactly what the other side conceded."""
    s = TitForTat(initial_concession=0.1)
    memory = fresh_memory(2, target=0.8)
    memory.other_utility_before = np.array([0.2, 0.3])
    memory.other_utility = np.array([0.25, 0.3])  # the other side conceded 0.05, then nothing
    got = s.target(0.5, np.zeros(2), np.ones(2), memory)
    np.testing.assert_allclose(got, [0.75, 0.8])


def test_tit_for_tat_opens_with_its_initial_concession():
    """With no history yet, tit-for-tat concedes its initial share of the range."""
    memory = fresh_memory(1, target=1.0)
    got = TitForTat(initial_concession=0.1).target(0.1, np.array([0.2]), np.array([1.0]), memory)
    assert got[0] == pytest.approx(1.0 - 0.1 * 0.8)


def test_zeuthen_concedes_only_with_the_smaller_risk():
    """Zeuthen: the side with the smaller risk limit concedes; both on a tie."""
    s = Zeuthen(step=0.1)
    memory = fresh_memory(3, target=1.0)
    memory.own_risk = np.array([0.2, 0.5, 0.4])
    memory.other_risk = np.array([0.3, 0.4, 0.4])
    got = s.target(0.5, np.zeros(3), np.ones(3), memory)
    np.testing.assert_allclose(got, [0.9, 1.0, 0.9])


def test_risk_limit_by_hand():
    """Risk limit (u(own) - u(other)) / (u(own) - d) on hand-computed points."""
    got = risk_limit(np.array([0.8, 0.8]), np.array([0.5, 0.2]), np.array([0.2, 0.2]))
    np.testing.assert_allclose(got, [0.5, 1.0])


@pytest.mark.parametrize("strategy", [TimeDependent(e=0.2), TimeDependent(e=1.0), TimeDependent(e=2.0), TitForTat(), Zeuthen()])
def test_strategy_contract(strategy):
    """Every strategy: targets stay within [Pmin, Pmax] and never rise against a conceding opponent."""
    rng = np.random.default_rng(5)
    r = 64
    p_min = rng.uniform(0.0, 0.5, r)
    p_max = rng.uniform(0.6, 1.0, r)
    memory = fresh_memory(r)
    previous = np.full(r, np.inf)
    offered = rng.uniform(0.0, 0.2, r)
    for step in range(11):
        t = step / 10
        memory.target = np.minimum(memory.target, p_max)
        target = strategy.target(t, p_min, p_max, memory)
        memory.target = target
        assert np.all(target >= p_min - 1e-12) and np.all(target <= p_max + 1e-12)
        assert np.all(target <= previous + 1e-12)
        nxt = strategy.next_target(t + 0.1, p_min, p_max, memory)
        assert np.all(nxt >= p_min - 1e-12) and np.all(nxt <= p_max + 1e-12)
        previous = target
        memory.other_utility_before = memory.other_utility
        offered = offered + 0.03  # the opponent concedes steadily
        memory.other_utility = offered
        memory.own_risk, memory.other_risk = rng.uniform(0, 1, r), rng.uniform(0, 1, r)


def test_offer_maximises_the_other_side_among_acceptable():
    """The offer is the best for the other side among candidates meeting the target."""
    own = np.array([[0.9, 0.8, 0.75, 0.3], [0.9, 0.8, 0.75, 0.3]])
    other = np.array([[0.1, 0.5, 0.4, 0.9], [0.1, 0.5, 0.4, 0.9]])
    assert offer_for_target(own, other, np.array([0.7, 0.95])).tolist() == [1, 0]


def test_accepts_needs_both_ac_next_and_the_war_payoff():
    """AC_next alone is not enough: an offer below the war payoff is refused."""
    # thresholds 0.1 + 0.9 (next - 0.1): 0.37, 0.505 (above 0.5: refused), 0.42 (but war 0.6)
    got = accepts(np.array([0.5, 0.5, 0.5]), np.array([0.4, 0.55, 0.4]), 0.9, np.array([0.1, 0.1, 0.6]))
    assert got.tolist() == [True, False, False]


def test_accepts_discounts_the_gain_over_war():
    """The responder discounts its gain over war, not its whole utility: with war worth -1,
    a half-patient party accepts anything above the midpoint of war and its next offer."""
    value = np.array([-0.26, -0.24, 0.1])
    # threshold -1 + 0.5 * (0.5 - (-1)) = -0.25
    assert accepts(value, np.full(3, 0.5), 0.5, np.full(3, -1.0)).tolist() == [False, True, True]


def test_offer_scan_in_chunks_of_rows_equals_the_rule_by_hand(monkeypatch):
    """The scan, a few rows at a time (``SCAN_CELLS``), makes the rule's offers: best for the
    other among those meeting the target, first index on ties, the proposer's best when none does."""
    import sim.core.strategies as strategies

    rng = np.random.default_rng(11)
    own = rng.integers(0, 4, size=(37, 9)).astype(np.float32)
    other = rng.integers(0, 4, size=(37, 9)).astype(np.float32)
    target = rng.choice([0.0, 1.0, 2.5, 3.0, 9.0], size=37)
    monkeypatch.setattr(strategies, "SCAN_CELLS", 3 * 9)  # chunks of 3 rows, the last of 1
    chosen = strategies.offer_for_target(own, other, target).tolist()
    expected = []
    for r in range(37):
        meets = [k for k in range(9) if own[r, k] >= np.float32(target[r] - 4 * np.finfo(np.float32).eps)]
        if meets:
            best = max(other[r, k] for k in meets)
            expected.append(min(k for k in meets if other[r, k] == best))
        else:
            expected.append(int(np.argmax(own[r])))
    assert chosen == expected
