"""N-player meta-games (sim.sweep.nplayer): a hand-built three-player game whose pure and
mixed equilibria are derived by hand, replicator dynamics and best responses on it, and the
meta-game of the three-sided Minsk scenario checked by brute force."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from sim.sweep import nplayer

# Three players each choose 0 or 1. All choosing 0 pays player i A[i], all choosing 1 pays
# B[i], anything else pays 0.
A, B = (6.0, 3.0, 2.0), (1.0, 1.0, 1.0)


def unanimity_game() -> np.ndarray:
    """The payoff tensor (3, 2, 2, 2) of the unanimity game."""
    payoff = np.zeros((3, 2, 2, 2))
    for p in range(3):
        payoff[p, 0, 0, 0], payoff[p, 1, 1, 1] = A[p], B[p]
    return payoff


def brute_force_pure(payoff: np.ndarray) -> list[tuple[int, ...]]:
    """Profiles where no player gains by a unilateral switch, by looping over every deviation."""
    players = payoff.shape[0]
    found = []
    for profile in itertools.product(*(range(n) for n in payoff.shape[1:])):
        stable = True
        for p in range(players):
            for k in range(payoff.shape[1 + p]):
                other = list(profile)
                other[p] = k
                stable &= payoff[p][tuple(other)] <= payoff[p][profile]
        if stable:
            found.append(profile)
    return found


def test_pure_equilibria_by_hand() -> None:
    """Unanimity on 0 and on 1 are equilibria (a lone deviator gets 0 < A_i, B_i); a split
    profile is not: a player in the minority gains by joining the other two."""
    assert nplayer.pure_equilibria(unanimity_game()) == [(0, 0, 0), (1, 1, 1)]


def test_mixed_equilibrium_by_hand() -> None:
    """With p_i = Pr(i plays 1) and odds x_i = p_i / (1 - p_i), player i is indifferent when
    A_i (1 - p_j)(1 - p_k) = B_i p_j p_k, i.e. x_j x_k = A_i / B_i = (6, 3, 2): x = (1, 2, 3),
    p = (1/2, 2/3, 3/4). No partly mixed equilibrium exists (a mixer is indifferent only if
    the other two split, and then one of them gains by joining the mixer's likelier choice),
    so the mixed equilibrium is unique."""
    found = nplayer.mixed_equilibria(unanimity_game())
    assert len(found) == 1
    expected = [np.array([1 - p, p]) for p in (1 / 2, 2 / 3, 3 / 4)]
    for got, want in zip(found[0], expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-8)
    assert nplayer.regret(unanimity_game(), expected) == pytest.approx(0.0, abs=1e-12)


def test_expected_payoffs_by_hand() -> None:
    """At the mixed equilibrium player 1 gets A_1 (1 - p_2)(1 - p_3) = 6 x 1/3 x 1/4 = 0.5 from
    either action; players 2 and 3 get 3 x 1/2 x 1/4 = 0.375 and 2 x 1/2 x 1/3 = 1/3."""
    sigma = [np.array([1 - p, p]) for p in (1 / 2, 2 / 3, 3 / 4)]
    np.testing.assert_allclose(nplayer.expected_payoffs(unanimity_game(), sigma), [0.5, 0.375, 1 / 3], rtol=1e-12)
    np.testing.assert_allclose(nplayer.deviation_payoffs(unanimity_game(), sigma)[0], [0.5, 0.5], rtol=1e-12)


def test_best_responses_and_replicator() -> None:
    """Against (1, 1) a player's best response is 1, against (0, 1) every action pays 0 (the
    first, 0, on the tie); from the uniform mix every player gains (A_i - B_i)/4 > 0 more from
    0, which only grows as the others move to 0: the dynamics settle on unanimity on 0."""
    game = unanimity_game()
    assert nplayer.best_response(game, 0, (0, 1, 1)) == 1
    assert nplayer.best_response(game, 2, (1, 1, 0)) == 1
    assert nplayer.best_response(game, 1, (0, 1, 1)) == 0
    rest, settled = nplayer.replicator(game)
    assert settled
    for mix in rest:
        np.testing.assert_allclose(mix, [1.0, 0.0], atol=1e-6)


def test_two_player_games_agree_with_nashpy() -> None:
    """On random 4 x 3 bimatrix games the enumeration finds nashpy's pure equilibria, and
    every mixed profile nashpy finds has zero regret here."""
    nashpy = pytest.importorskip("nashpy")
    draw = np.random.default_rng(7)
    for _ in range(20):
        payoff = draw.integers(0, 4, size=(2, 4, 3)).astype(float)
        assert nplayer.pure_equilibria(payoff) == brute_force_pure(payoff)
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            for a, b in nashpy.Game(payoff[0], payoff[1]).support_enumeration():
                assert nplayer.regret(payoff, [a, b]) < 1e-9


def test_random_three_player_game_against_brute_force() -> None:
    """On a random 3 x 4 x 2 game with ties the enumeration equals the loop over deviations,
    and every mixed equilibrium found has regret within the tolerance."""
    payoff = np.random.default_rng(3).integers(0, 3, size=(3, 3, 4, 2)).astype(float)
    assert nplayer.pure_equilibria(payoff) == brute_force_pure(payoff)
    for mix in nplayer.mixed_equilibria(payoff, starts=4):
        assert nplayer.regret(payoff, mix) <= 2 * nplayer.TOLERANCE


def test_minsk_three_sides_meta_game(cli) -> None:
    """`ceasefire equilibria minsk_three_sides` (four belligerents on three sides): payoff
    tensors of shape (S_0, ..., S_3) per party, and its pure equilibria are exactly the brute-force
    ones of the printed tensors."""
    proc = cli("equilibria", "minsk_three_sides", "--strategies", "hardliner,conceder:5", "--replicas", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    parties = data["parties"]  # the tensors' axis order (the JSON's keys are sorted)
    assert len(parties) == 4
    payoff = np.array([data["payoff"][p] for p in parties])
    sizes = [len(data["strategies"][p]) for p in parties]
    assert payoff.shape == (4, *sizes)
    pure = [
        tuple(data["strategies"][p].index(next(iter(e["strategies"][p]))) for p in parties)
        for e in data["equilibria"]
        if all(len(e["strategies"][p]) == 1 for p in parties)
    ]
    assert pure == brute_force_pure(payoff)  # the printed payoffs are rounded to 1e-6: no ties are made by it here
    assert set(data["replicator"]) >= {"settled", "strategies"} and "regret" in data["method"]
