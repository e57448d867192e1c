"""Replicas in blocks: budgets parsed and bounded, and every result the same for every block size."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.analysis import simulated_distances
from sim.engine.blocks import (
    BYTES_PER_CANDIDATE,
    DEFAULT_MEMORY_BUDGET,
    MAX_BLOCK,
    MAX_BLOCK_UNTRACED,
    block_size,
    memory_budget,
    parse_memory_budget,
    replica_bytes,
    run_blocks,
    spans,
)
from sim.engine.model import run_scenario
from sim.inputs import load_scenario, with_overrides
from sim.results import replica_table, run_outcome, summary, trace_quantiles, trace_replicas
from sim.sweep import load_runs, run_sweep

DATA = Path(__file__).parent / "data" / "sweeps"


def scenario(name: str, replicas: int):
    """A bundled scenario with ``replicas`` replicas."""
    return with_overrides(load_scenario(name), replicas=replicas)


def test_parse_memory_budget_units():
    """Binary and decimal units, bare numbers and plain bytes."""
    assert parse_memory_budget("512MiB") == 512 * 2**20
    assert parse_memory_budget("1GB") == 10**9
    assert parse_memory_budget("2g") == 2 * 2**30
    assert parse_memory_budget("1.5k") == 1536
    assert parse_memory_budget("4096") == 4096


@pytest.mark.parametrize("text", ["", "lots", "-5MiB", "0", "12 parsecs"])
def test_parse_memory_budget_rejects(text):
    """Anything but a positive size is a ValueError naming what was found."""
    with pytest.raises(ValueError, match="found"):
        parse_memory_budget(text)


def test_memory_budget_option_then_environment_then_default(monkeypatch):
    """The option wins over CEASEFIRE_MEMORY_BUDGET, which wins over 512 MiB."""
    monkeypatch.delenv("CEASEFIRE_MEMORY_BUDGET", raising=False)
    assert memory_budget() == DEFAULT_MEMORY_BUDGET == 512 * 2**20
    monkeypatch.setenv("CEASEFIRE_MEMORY_BUDGET", "64MiB")
    assert memory_budget() == 64 * 2**20
    assert memory_budget("1MiB") == 2**20


def test_block_size_from_budget():
    """Replica bytes follow the candidates (21 + 225 on the baseline); blocks fit the budget, within 1..MAX_BLOCK."""
    s = scenario("istanbul_2025", 10)
    per_replica = replica_bytes(s)
    assert per_replica >= 246 * BYTES_PER_CANDIDATE
    assert block_size(s, 10 * per_replica) == 10
    assert block_size(s, 1) == 1
    assert block_size(s, 2**40) == MAX_BLOCK
    assert block_size(s, 2**40, trace=False) == MAX_BLOCK_UNTRACED  # no trace: larger blocks pay
    assert block_size(s, 10 * per_replica, trace=False) == 10  # the budget still rules


def test_spans_cover_the_range_in_order():
    """Blocks of 7 over 3..20: consecutive, none longer than 7."""
    assert list(spans(3, 20, 7)) == [(3, 10), (10, 17), (17, 20)]


@pytest.mark.parametrize("name", ["istanbul_2025", "mediated_single_text", "battlefield_advance"])
def test_results_identical_for_every_block_size(name):
    """Summary, replica table, trace quantiles and every replica's trace: blocks of 1, 7, 1024 and all at once."""
    s = scenario(name, 1100)  # past a stream block (1,024 replicas)
    whole = run_scenario(s)
    expected = (summary(whole), replica_table(whole), trace_quantiles(whole), trace_replicas(whole))
    for block in (7, 1024, 1100):
        outcome = run_outcome(s, block=block)
        assert summary(outcome) == expected[0]
        for got, want in zip((replica_table(outcome), trace_quantiles(outcome), trace_replicas(outcome)), expected[1:],
                             strict=True):
            pd.testing.assert_frame_equal(got, want, check_exact=True)
    small = scenario(name, 40)
    one = run_outcome(small, block=1)
    assert summary(one) == summary(run_scenario(small))
    pd.testing.assert_frame_equal(trace_quantiles(one), trace_quantiles(run_scenario(small)), check_exact=True)


def test_outcome_without_trace_has_the_same_summary():
    """trace=False keeps no per-round arrays and changes no summary figure."""
    s = scenario("istanbul_2025", 300)
    bare = run_outcome(s, block=64, trace=False)
    assert bare.trace is None
    assert summary(bare) == summary(run_scenario(s))
    with pytest.raises(ValueError, match="no trace"):
        trace_quantiles(bare)


@pytest.mark.parametrize("name", ["istanbul_2025", "korea_1953", "pretoria_2022", "ceasefire_first", "minsk_2015"])
def test_outcome_without_trace_identical_for_every_block_size(name):
    """Without a trace (foreclosure looked for block by block, from each block's first
    replicas), every result array and the replica table are those of the traced run in one
    block, for blocks of 1, 7 and all."""
    s = scenario(name, 150)
    whole = run_outcome(s, block=150)
    for block in (1, 7, 150):
        bare = run_outcome(s, block=block, trace=False)
        for field in ("agreed_round", "agreement", "agreement_war", "accepted_by", "agreement_utility"):
            assert np.array_equal(getattr(bare, field), getattr(whole, field), equal_nan=True), (block, field)
        pd.testing.assert_frame_equal(replica_table(bare), replica_table(whole), check_exact=True)


def test_simulated_distances_identical_for_every_block_size():
    """Distances to the Pareto frontier and the Nash solution: blocks of 1, 7 and all at once."""
    s = scenario("istanbul_2025", 60)
    whole = simulated_distances(run_scenario(s))
    for block in (1, 7, 60):
        assert simulated_distances(run_blocks(s, block=block)) == whole


def test_sweep_runs_identical_for_every_memory_budget(tmp_path: Path):
    """A sweep's runs are the same with blocks of one replica and with one block per task."""
    for out, budget in (("tiny", 1), ("large", 2**30)):
        run_sweep(DATA / "small_grid.yaml", tmp_path / out, workers=1, progress=io.StringIO(), memory_budget=budget)
    pd.testing.assert_frame_equal(load_runs(tmp_path / "tiny"), load_runs(tmp_path / "large"), check_exact=True)


def test_sweep_failing_points_same_with_blocks(tmp_path: Path):
    """Failing points are recorded once and have no rows, whatever the block size."""
    for out, budget in (("tiny", 1), ("large", 2**30)):
        report = run_sweep(DATA / "failing.yaml", tmp_path / out, workers=1, progress=io.StringIO(), memory_budget=budget)
        assert sorted(report.failed) == [1, 3]
    a, b = load_runs(tmp_path / "tiny"), load_runs(tmp_path / "large")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    assert not np.isin(a["point"], [1, 3]).any()
