"""Round protocols (sim.core.protocols) on a split of one unit, worked out by hand."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.core.frontier import pick
from sim.core.protocols import (
    _accepted,
    _attainable,
    _next_value,
    _offers,
    alternating_offers,
    group_frontiers,
    revise_text_weights,
    single_text,
)
from sim.core.strategies import accepts

SPLIT = np.array([0.0, 0.25, 0.5, 0.75, 1.0])  # party 0's share; party 1 gets the rest
U = np.stack([SPLIT, 1.0 - SPLIT])[None]  # (R=1, P=2, K=5)


def play(
    targets: list[float], patience: float, war: list[float], proposer: int = 0, next_targets: list[float] | None = None
) -> tuple[int, bool, list[float], list[float]]:
    """One alternating-offers round; targets are held for the next round unless ``next_targets`` say otherwise."""
    t = np.array([targets])
    nxt = t if next_targets is None else np.array([next_targets])
    r = alternating_offers(U, t, nxt, np.array([war]), np.full((1, 2), patience), proposer)
    return int(r.table[0]), bool(r.accepted[0]), r.own[0].tolist(), r.answered[0].tolist()


def test_offers_meet_own_target_and_give_the_rest_away() -> None:
    """Each offers the candidate best for the other among those meeting its own target."""
    table, _, own, answered = play([0.75, 0.5], patience=0.4, war=[0.0, 0.0])
    assert table == 3  # party 0 proposes x = 0.75
    assert own == [0.75, 0.5]  # party 1 would offer x = 0.5, worth 0.5 to itself
    assert answered == [0.5, 0.25]  # each side's value of the other's offer


def test_responder_accepts_by_ac_next() -> None:
    """Party 1 accepts 0.25 when it is at least patience x 0.5 (its next own offer) and beats war."""
    assert play([0.75, 0.5], patience=0.4, war=[0.0, 0.0])[1]  # 0.25 >= 0.4 x 0.5
    assert not play([0.75, 0.5], patience=0.4, war=[0.0, 0.3])[1]  # war is worth more than 0.25


def test_responder_discounts_only_what_it_could_get_next_round() -> None:
    """Party 1 rejects 0.25 only for a better proposal next round that party 0 would accept.

    Party 0 holding 0.75 next round accepts only x >= 0.9 x 0.75 = 0.675, so the most party 1
    could propose is x = 0.75 (0.25 for itself): it takes 0.25 now (>= 0.9 x 0.25). If party 0
    will concede to 0.25 next round, it accepts x >= 0.9 x 0.25, party 1 could get 0.75, its own
    next offer is worth 0.5, and it rejects 0.25 < 0.9 x 0.5.
    """
    assert play([0.75, 0.5], patience=0.9, war=[0.0, 0.0])[1]
    assert not play([0.75, 0.5], patience=0.9, war=[0.0, 0.0], next_targets=[0.25, 0.5])[1]


def test_responder_never_counts_on_less_than_its_reservation() -> None:
    """Party 1 would take 0.25 when party 0 accepts nothing better next round, unless its
    reservation (the value of the continuing game, 0.5) says the wait pays: 0.25 < 0.9 x 0.5."""
    t = np.array([[0.75, 0.5]])
    free = alternating_offers(U, t, t, np.zeros((1, 2)), np.full((1, 2), 0.9), 0)
    held = alternating_offers(U, t, t, np.zeros((1, 2)), np.full((1, 2), 0.9), 0, reservation=np.array([[0.75, 0.5]]))
    assert free.accepted[0] and not held.accepted[0]


def test_proposer_keeps_its_offer_only_above_war() -> None:
    """The proposer's own offer counts as accepted by it only when it beats its war payoff."""
    assert not play([0.75, 0.5], patience=0.4, war=[0.8, 0.0])[1]


def test_unreachable_target_offers_own_best() -> None:
    """A target above every candidate makes the party offer its own best candidate."""
    table, _, own, _ = play([2.0, 0.5], patience=1.0, war=[0.0, 0.0])
    assert table == 4 and own[0] == 1.0


def test_proposer_rotates_the_table() -> None:
    """With party 1 proposing, its offer is the table and party 0 answers it."""
    table, accepted, _, _ = play([0.75, 0.5], patience=0.4, war=[0.0, 0.0], proposer=1)
    assert table == 2 and accepted  # party 0 gets 0.5 >= 0.4 x 0.75 (and party 1 would accept x = 0.75 next)


def test_single_text_picks_the_best_weighted_rational_candidate() -> None:
    """The mediator's text maximises the weighted sum over candidates both prefer to war."""
    t = np.array([[0.75, 0.75]])
    r = single_text(U, np.array([[0.5, 0.5]]), t, t, np.array([[0.3, 0.3]]), np.ones((1, 2)))
    assert int(r.table[0]) == 2  # only x = 0.5 gives both at least 0.3
    assert r.table_value[0].tolist() == [0.5, 0.5]
    assert not r.accepted[0]  # each would offer itself 0.75 next round
    leaning = single_text(U, np.array([[0.9, 0.1]]), t, t, np.array([[0.0, 0.0]]), np.ones((1, 2)))
    assert int(leaning.table[0]) == 4  # weight on party 0 moves the text to its side


def test_single_text_is_one_both_would_accept_when_there_is_one() -> None:
    """Weights leaning to party 0 would write x = 1, which party 1 refuses; the mediator writes the
    only text both accept (x = 0.5: each would offer itself 0.5 next round, patience 1)."""
    t = np.array([[0.5, 0.5]])
    r = single_text(U, np.array([[0.9, 0.1]]), t, t, np.array([[0.0, 0.0]]), np.ones((1, 2)))
    assert int(r.table[0]) == 2 and r.accepted[0]


def test_single_text_without_a_zone_of_agreement_still_writes_a_text() -> None:
    """Where no candidate beats both war payoffs, the text maximises the weighted sum over all."""
    t = np.array([[0.5, 0.5]])
    r = single_text(U, np.array([[0.2, 0.8]]), t, t, np.array([[0.6, 0.6]]), np.ones((1, 2)))
    assert int(r.table[0]) == 0 and not r.accepted[0]


def test_text_weights_move_toward_the_objector_and_stay_normalised() -> None:
    """A party left short gains weight in proportion to its shortfall; weights sum to one."""
    w = revise_text_weights(np.array([[0.5, 0.5]]), np.array([[0.0, 0.4]]), 0.5)
    assert w[0, 1] > w[0, 0] and np.isclose(w.sum(), 1.0)
    np.testing.assert_allclose(w, [[0.5 / 1.1, 0.6 / 1.1]])  # 0.5 x (1 + 0.5 x 0.4) = 0.6


def _stacked(n_parties: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random utilities (R=4, P, K=9), targets and war payoffs for a stacked round."""
    rng = np.random.default_rng(seed)
    u = rng.random((4, n_parties, 9)).astype(np.float32)
    return u, rng.random((4, n_parties)) * 0.6, rng.random((4, n_parties)) * 0.3


def _reachable(u: np.ndarray, war: np.ndarray, yard: list[float], q: int) -> float:
    """With patience 1: the lesser of q's yardstick and the most q could propose (K candidates of
    ``u (P, K)``) that every other party takes, none below its yardstick or war; at least q's war."""
    others = [o for o in range(u.shape[0]) if o != q]
    ok = [c for c in range(u.shape[1]) if all(u[o, c] >= max(yard[o], war[o]) - 1e-6 for o in others)]
    return min(yard[q], max([float(war[q]), *[float(u[q, c]) for c in ok]]))


def test_stacked_offers_maximise_the_others_sum_and_need_every_party() -> None:
    """P = 3 and 4: the table is the proposer's best-for-the-others offer (brute force); agreed iff all accept."""
    for n in (3, 4):
        u, targets, war = _stacked(n, n)
        for proposer in range(n):
            r = alternating_offers(u, targets, targets, war, np.ones((4, n)), proposer)
            for i in range(4):
                meets = [k for k in range(9) if u[i, proposer, k] >= targets[i, proposer] - 1e-6]
                others = [q for q in range(n) if q != proposer]
                score = {k: float(sum(u[i, q, k] for q in others)) for k in meets}
                best = max(score.values()) if meets else None
                k = int(r.table[i])
                assert (k in meets and abs(score[k] - best) < 1e-6) if meets else k == int(np.argmax(u[i, proposer]))
                value = u[i, :, k]
                # patience 1: a responder takes what is worth its yardstick, the lesser of its own
                # offer (counted at no more than its target) and the most it could propose that
                # every other party would take; every party: war as a floor
                yard = [min(float(r.own[i, q]), float(targets[i, q])) for q in range(n)]
                expected = [bool(value[q] >= war[i, q])
                            and (q == proposer or bool(value[q] >= _reachable(u[i], war[i], yard, q) - 1e-6))
                            for q in range(n)]
                assert r.accepted_by[i].tolist() == expected
                assert bool(r.accepted[i]) == all(expected)


def test_one_party_blocks_a_stacked_round() -> None:
    """Three parties, two happy with the table; the third's war payoff above every candidate blocks it."""
    u = np.array([[[1.0, 0.5], [1.0, 0.5], [0.2, 0.4]]])  # (R=1, P=3, K=2)
    r = alternating_offers(u, np.zeros((1, 3)), np.zeros((1, 3)), np.array([[0.0, 0.0, 0.9]]), np.ones((1, 3)), 0)
    assert r.accepted_by[0].tolist() == [True, True, False]
    assert not r.accepted[0]


def test_answered_is_the_mean_of_the_other_offers_with_three_parties() -> None:
    """Tit-for-tat's view with P = 3: a party's answered value is the mean of its utility of the others' offers."""
    u, targets, war = _stacked(3, 7)
    r = alternating_offers(u, targets, targets, war, np.ones((4, 3)), 1)
    for i in range(4):
        offers = [int(alternating_offers(u, targets, targets, war, np.ones((4, 3)), q).table[i]) for q in range(3)]
        for p in range(3):
            expected = np.mean([u[i, p, offers[q]] for q in range(3) if q != p])
            assert abs(float(r.answered[i, p]) - float(expected)) < 1e-6



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
    pick = np.concatenate([utilities.ravel().astype(float), [-5.0, 5.0]])  # 5: beyond every candidate
    targets, next_targets, war, reservation = (rng.choice(pick, size=(r, 2)) for _ in range(4))
    if rng.random() < 0.5:
        next_targets = targets.copy()
    patience = rng.choice([1.0, 0.9], size=(r, 2))
    weights = rng.dirichlet([1.0, 1.0], size=r)
    frontiers = group_frontiers(utilities, single_text=True)
    for floor in (None, reservation):
        scan = alternating_offers(utilities, targets, next_targets, war, patience, proposer, floor)
        fast = alternating_offers(utilities, targets, next_targets, war, patience, proposer, floor, frontiers)
        assert same_round(scan, fast) and np.array_equal(scan.accepted_by, fast.accepted_by)
    assert same_round(
        single_text(utilities, weights, targets, next_targets, war, patience),
        single_text(utilities, weights, targets, next_targets, war, patience, frontiers=frontiers),
    )


def test_stacked_rounds_with_frontiers_equal_the_scan() -> None:
    """P = 3 and 4 on tie-heavy float32 tables: frontiers against the others' sum give the scan's arrays, accepted_by too."""
    rng = np.random.default_rng(11)
    for n in (3, 4):
        for _ in range(40):
            r, k = int(rng.integers(1, 6)), int(rng.integers(1, 25))
            utilities = rng.integers(-1, 4, size=(r, n, k)).astype(np.float32)
            pick = np.concatenate([utilities.ravel().astype(float), [-5.0, 5.0]])  # 5: beyond every candidate
            targets, next_targets, war = (rng.choice(pick, size=(r, n)) for _ in range(3))
            patience = rng.choice([1.0, 0.9], size=(r, n))
            weights = rng.dirichlet(np.ones(n), size=r)
            frontiers = group_frontiers(utilities, single_text=True)
            assert frontiers.text is None  # more than two parties: the text is scanned
            for proposer in range(n):
                scan = alternating_offers(utilities, targets, next_targets, war, patience, proposer)
                fast = alternating_offers(utilities, targets, next_targets, war, patience, proposer, frontiers=frontiers)
                assert same_round(scan, fast) and np.array_equal(scan.accepted_by, fast.accepted_by)
            scan = single_text(utilities, weights, targets, next_targets, war, patience)
            fast = single_text(utilities, weights, targets, next_targets, war, patience, frontiers=frontiers)
            assert same_round(scan, fast) and np.array_equal(scan.accepted_by, fast.accepted_by)


def test_lean_round_is_the_full_round() -> None:
    """A lean round (the proposer's offer alone) puts the same table and gets the same answers
    as the full round, with and without frontiers, on tie-heavy tables of two and three
    parties, with targets that stay put for some replicas (the AC_next look-up again)."""
    rng = np.random.default_rng(7)
    for n in (2, 3):
        utilities = (rng.integers(0, 5, size=(300, n, 12)) / 4.0).astype(np.float32)
        war = rng.random((300, n)) * 0.5
        patience = rng.uniform(0.5, 1.0, (300, n))
        targets = rng.uniform(0.3, 1.0, (300, n))
        next_targets = np.where(rng.random((300, n)) < 0.3, targets, targets - 0.1)
        reservation = war + 0.05
        for frontiers in (None, group_frontiers(utilities)):
            for proposer in range(n):
                args = (utilities, targets, next_targets, war, patience, proposer, reservation, frontiers)
                full, lean = alternating_offers(*args), alternating_offers(*args, lean=True)
                for field in ("table", "accepted", "accepted_by", "table_value"):
                    assert np.array_equal(getattr(full, field), getattr(lean, field)), (n, proposer, field)
                assert np.array_equal(full.own[:, proposer], lean.own[:, proposer])


def _accepted_everywhere(utilities, value, targets, own, next_targets, war, patience, proposer, reservation, frontiers):
    """The acceptance rule with every yardstick looked up in every replica (the rule as first
    written): the engine looks them up only where the table beats a responder's war payoff."""
    n = utilities.shape[1]
    accepted = np.ones(value.shape, dtype=bool)
    accepted[:, proposer] = value[:, proposer] >= war[:, proposer]
    yard = [_next_value(utilities, targets, own, next_targets, q, frontiers) for q in range(n)]
    for p in range(n):
        if p == proposer:
            continue
        reachable = yard[p].copy()
        rows = np.flatnonzero(value[:, p] >= war[:, p])
        if rows.size:
            frontier = None if frontiers is None or n != 2 else frontiers.offers[1 - p]
            attainable = _attainable(utilities, war[rows], patience[rows], [y[rows] for y in yard], p, frontier, rows)
            if reservation is not None:
                attainable = np.maximum(attainable, reservation[rows, p])
            reachable[rows] = np.minimum(yard[p][rows], attainable)
        accepted[:, p] = accepts(value[:, p], reachable, patience[:, p], war[:, p])
    return accepted


def test_acceptance_with_yardsticks_only_where_they_count() -> None:
    """Looking the yardsticks up only where the table beats a responder's war payoff (for
    those rows alone where they are few, for all where many) answers as the rule does with
    every yardstick looked up everywhere: two and three parties, scans and frontiers, war
    payoffs low everywhere (most tables beat them) or above every table in most replicas
    (few do), with demanding targets, so the yardsticks decide some answers (looking up
    another replica's yardstick fails this test)."""
    rng = np.random.default_rng(11)
    shares = []  # of replicas where the table beats the responder's war payoff
    for n in (2, 3):
        utilities = (rng.integers(0, 11, size=(400, n, 15)) / 10.0).astype(np.float32)
        patience = rng.uniform(0.8, 1.0, (400, n))
        targets = rng.uniform(0.7, 1.0, (400, n))  # demanding: the yardsticks decide some answers
        next_targets = np.where(rng.random((400, n)) < 0.3, targets, targets - 0.1)
        for few, reservation_gap in ((False, 0.05), (False, None), (True, None), (True, 0.05)):
            # few: in two replicas of three no table beats war (the yardsticks of the rest alone)
            war = np.where(few & (rng.random((400, 1)) < 0.65), 1.5, rng.uniform(0.0, 0.3, (400, n)))
            reservation = None if reservation_gap is None else war + reservation_gap
            for frontiers in (None, group_frontiers(utilities)):
                offers, own = _offers(utilities, targets, frontiers)
                for proposer in range(n):
                    value = np.stack([pick(utilities, q, offers[:, proposer]) for q in range(n)], axis=1)
                    shares.append(float((value[:, 1 - proposer] >= war[:, 1 - proposer]).mean()))
                    args = (utilities, value, targets, own, next_targets, war, patience, proposer, reservation, frontiers)
                    assert np.array_equal(_accepted(*args), _accepted_everywhere(*args)), (n, few, proposer)
    assert min(shares) < 0.5 < max(shares)  # both roads: the rows alone, and all
