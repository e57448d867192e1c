"""Reproducibility: same seed, same bytes; replica r's result depends on the seed and r only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.core.streams import BLOCK
from sim.engine.model import NegotiationModel, run_scenario
from sim.inputs import LoadedScenario, Scenario, load_scenario, with_overrides
from sim.results import replica_table

BASELINE = "scenarios/istanbul_2025.yaml"


@pytest.fixture(scope="module")
def loaded(repo_root: Path) -> LoadedScenario:
    """The baseline scenario, loaded once."""
    return load_scenario(repo_root / BASELINE)


@pytest.fixture(scope="module")
def two_runs(cli, tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, Path]]:
    """Two CLI runs with the same seed: (stdout of --json, --out folder) each."""
    runs = []
    for i in range(2):
        out = tmp_path_factory.mktemp(f"same_seed_{i}")
        proc = cli("run", BASELINE, "--replicas", "30", "--seed", "7", "--json", "--out", str(out))
        assert proc.returncode == 0, proc.stderr
        runs.append((proc.stdout, out))
    return runs


def _same_results(whole: NegotiationModel, parts: list[NegotiationModel], start: int = 0) -> None:
    """Assert the parts' agreed_round and agreement, concatenated over replicas, equal the whole's from ``start``."""
    for name in ("agreed_round", "agreement"):
        joined = np.concatenate([getattr(part, name) for part in parts], axis=1)
        expected = getattr(whole, name)[:, start : start + joined.shape[1]]
        assert joined.shape == expected.shape
        assert np.array_equal(joined, expected), f"{name} depends on the batch"


def test_same_seed_same_json(two_runs: list[tuple[str, Path]]) -> None:
    """Two runs with the same seed print byte-identical summary JSON."""
    (first, _), (second, _) = two_runs
    assert first
    assert first == second


def test_same_seed_same_files(two_runs: list[tuple[str, Path]]) -> None:
    """Two runs with the same seed write byte-identical trace.csv, replicas.csv and summary.json."""
    (_, first), (_, second) = two_runs
    for name in ("trace.csv", "replicas.csv", "summary.json"):
        a, b = (first / name).read_bytes(), (second / name).read_bytes()
        assert a, f"{name} is empty"
        assert a == b, f"{name} differs between runs with the same seed"


def test_different_seed_different_replicas(loaded: LoadedScenario) -> None:
    """Different seeds give different per-replica humanitarian outcomes."""
    tables = []
    for seed in (1, 2):
        table = replica_table(run_scenario(with_overrides(loaded, replicas=50, seed=seed)))
        tables.append(table[table["group"] == "humanitarian"].reset_index(drop=True))
    a, b = tables
    assert list(a["replica"]) == list(b["replica"]) == list(range(50))
    assert not a.equals(b)
    assert not np.array_equal(a["prisoner_exchange"].to_numpy(), b["prisoner_exchange"].to_numpy(), equal_nan=True)


def test_batches_match_one_run(loaded: LoadedScenario) -> None:
    """Replicas 0..300 in one run equal runs over 0..100 and 100..300 (start/stop)."""
    scenario = with_overrides(loaded, replicas=300)
    whole = run_scenario(scenario, start=0, stop=300)
    parts = [run_scenario(scenario, start=0, stop=100), run_scenario(scenario, start=100, stop=300)]
    _same_results(whole, parts)


@pytest.fixture(scope="module")
def big(loaded: LoadedScenario) -> tuple[Scenario, NegotiationModel]:
    """A 2,000-replica run of the baseline (crosses a random-stream block boundary)."""
    scenario = with_overrides(loaded, replicas=2000)
    return scenario, run_scenario(scenario)


def test_prefix_independent_of_replica_count(loaded: LoadedScenario, big: tuple[Scenario, NegotiationModel]) -> None:
    """The first 50 replicas of a 2,000-replica run equal a 50-replica run, traces included."""
    _, whole = big
    small = run_scenario(with_overrides(loaded, replicas=50))
    assert np.array_equal(whole.agreed_round[:, :50], small.agreed_round)
    assert np.array_equal(whole.agreement[:, :50], small.agreement)
    for series in ("own", "answered", "war"):
        a, b = getattr(whole.trace, series)[:, :, :50], getattr(small.trace, series)
        assert np.array_equal(a, b, equal_nan=True), f"trace.{series} depends on R"


def test_batch_across_block_boundary(big: tuple[Scenario, NegotiationModel]) -> None:
    """Replicas around a random-stream block boundary equal those of the 2,000-replica run when split there."""
    scenario, whole = big
    assert 100 < BLOCK < 1900
    parts = [run_scenario(scenario, start=BLOCK - 50, stop=BLOCK), run_scenario(scenario, start=BLOCK, stop=BLOCK + 50)]
    _same_results(whole, parts, start=BLOCK - 50)
