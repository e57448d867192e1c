"""Strategy meta-games (sim.sweep.equilibria): payoffs of a purpose-built game worked out by
hand from the rules, its equilibrium found by brute force, nashpy and replicator dynamics."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from sim.inputs import load_scenario
from sim.inputs.schema import Strategy
from sim.sweep.equilibria import meta_game, parse_strategy
from sim.sweep.tournament import tournament

pytest.importorskip("nashpy", reason="the games extra (nashpy) is not installed")

GAME = Path(__file__).parent / "data" / "games" / "chicken.yaml"
DELTA = 0.85  # both parties' patience in the file


def pure_equilibria(a: np.ndarray, b: np.ndarray) -> list[tuple[int, int]]:
    """Brute force: profiles where neither party gains by deviating alone."""
    return [
        (i, j)
        for i, j in itertools.product(range(a.shape[0]), range(a.shape[1]))
        if a[i, j] >= a[:, j].max() and b[i, j] >= b[i, :].max()
    ]


@pytest.fixture(scope="module")
def game():
    """Hardliner (e = 0) and a fast Conceder (e = 20) for both parties of the split-a-unit game."""
    return meta_game(load_scenario(GAME), ["hardliner", "conceder:20"], replicas=20)


def test_payoffs_by_hand(game) -> None:
    """Six rounds (t = round / 5), linear values on 11 levels, war worth 0.05, patience 0.85.

    Each side's reservation is its Rubinstein value on the grid, x = 0.5: it leaves the other
    0.5 >= 0.05 + 0.85 x (0.5 - 0.05) = 0.4325. A responder never counts on less than its
    reservation, so A takes only x >= 0.4325 (0.5 on the grid) and B only x <= 0.5. A
    Conceder (e = 20) drops toward its reservation but stays above it until t = 1:
    0.5 + 0.5 (1 - t^(1/20)) is 0.539, 0.522, 0.513, 0.506 at t = 0.2 .. 0.8, so its offers
    leave the other side 0.4 until the last round, which is B's (B proposes in rounds 2, 4, 6).
    - B a Hardliner: it offers x = 0 throughout and A's offers leave it 0.4 < 0.4325: war at
      the deadline, 0.05 x 0.85^5 each, whatever A plays;
    - B a Conceder: in the last round it offers x = 0.5, which A takes whatever it plays
      (a Hardliner too: B would accept no more from it): 0.5 x 0.85^5 each.
    """
    assert game.labels[0] == ["hardliner", "conceder:20 (documented)"]
    war, deal = 0.05 * DELTA**5, 0.5 * DELTA**5
    expected = np.array([[war, deal], [war, deal]])
    np.testing.assert_allclose(game.payoff[0], expected, rtol=1e-5)
    np.testing.assert_allclose(game.payoff[1], expected, rtol=1e-5)
    np.testing.assert_array_equal(game.agreement[..., 0], [[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(game.error, 0.0, atol=1e-12)  # no per-replica randomness in this game


def test_equilibrium_found_three_ways(game) -> None:
    """B's Conceder strictly dominates and A is indifferent: the pure equilibria are
    (Hardliner, Conceder) and (Conceder, Conceder), found by brute force and by nashpy; under
    replicator dynamics B's population concedes."""
    assert pure_equilibria(game.payoff[0], game.payoff[1]) == [(0, 1), (1, 1)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = game.equilibria()
    assert len(found) == 2
    for (x, y), (i, j) in zip(found, [(0, 1), (1, 1)], strict=True):
        np.testing.assert_allclose(x, np.eye(2)[i])
        np.testing.assert_allclose(y, np.eye(2)[j])
    _, y = game.replicator()
    assert y[1] > 0.99
    assert game.best_response(1, 0) == 1 and game.best_response(1, 1) == 1
    assert game.documented == (1, 1) and game.deviation_gain_within_error(1, 1)


def test_strategy_names() -> None:
    """Short names map to the documented tactics, keeping the base patience."""
    base = Strategy(patience=0.7, assumption="a test")
    assert parse_strategy("hardliner", base).e == 0.0 and parse_strategy("hardliner", base).patience == 0.7
    assert parse_strategy("conceder", base).e == 2.0 and parse_strategy("linear", base).e == 1.0
    assert parse_strategy("zeuthen:0.1", base).step == 0.1
    with pytest.raises(ValueError, match="strategy name"):
        parse_strategy("bold!", base)


def test_tournament_ranks_every_strategy(game) -> None:
    """The round robin reports each strategy once, over both seats, with its mean payoff."""
    table = tournament([load_scenario(GAME)], ["hardliner", "conceder:20"], replicas=5)
    assert set(table.index) == {"hardliner", "conceder:20"}
    expected = np.mean([game.payoff[0][0].mean(), game.payoff[1][:, 0].mean()])
    assert table.loc["hardliner", "payoff"] == pytest.approx(expected, rel=1e-6)


def test_equilibria_command(ceasefire_exe: str, tmp_path: Path) -> None:
    """`ceasefire equilibria` prints JSON with the equilibrium and writes the payoff chart and table."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    done = subprocess.run(
        [
            ceasefire_exe,
            "equilibria",
            str(GAME),
            "--strategies",
            "hardliner,conceder:20",
            "--replicas",
            "5",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    conceder = "conceder:20 (documented)"
    assert [e["strategies"] for e in data["equilibria"]] == [
        {"a": {"hardliner": 1.0}, "b": {conceder: 1.0}},
        {"a": {conceder: 1.0}, "b": {conceder: 1.0}},
    ]
    assert data["documented"]["is_equilibrium"] is True
    assert {p.name for p in tmp_path.iterdir()} == {"payoffs.png", "payoffs.csv"}
    bad = subprocess.run(
        [ceasefire_exe, "equilibria", str(GAME), "--strategies", "bold!"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_replicas_and_strategy_names_are_checked_before_any_work(cli) -> None:
    """Too many or too few replicas per profile, and an unknown strategy: exit 2, one clear
    message each (no allocation of 10^11 replicas' payoffs, no doubled 'found')."""
    for args, words in (
        (["equilibria", "istanbul_2025", "--replicas", "100000000000"], "expected 2 to 1,000,000 replicas per profile"),
        (["equilibria", "istanbul_2025", "--replicas", "1"], "expected 2 to"),
        (["tournament", "--replicas", "100000000000"], "replicas per profile of"),
        (["tournament", "--strategies", "bogus"], "found 'bogus'"),
    ):
        proc = cli(*args)
        assert proc.returncode == 2 and words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.count("found") == 1, proc.stderr
