"""Sweeps in-process: stacking equals separate models, independence of chunking and worker
count, failing points, resume, designs and sensitivity indices against exact values."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.engine.model import run_scenario
from sim.errors import InputError
from sim.inputs.experiment import Parameter
from sim.inputs.paths import apply_values
from sim.sweep import load_experiment, load_results, load_runs, run_sweep
from sim.sweep.design import design_points, to_values
from sim.sweep.store import SHARDS, done_chunks

DATA = Path(__file__).parent / "data" / "sweeps"


def _quiet_sweep(experiment, out, **kwargs):
    import io

    return run_sweep(experiment, out, progress=io.StringIO(), **kwargs)


def _direct(loaded, point: dict[str, float]):
    """The point run as its own model, from scratch, outside the sweep machinery."""
    exp = loaded.experiment
    values = {path: value for name, value in point.items() for path in exp.parameters[name].targets(name)}
    scenario = apply_values(loaded.base, values, "test")
    return run_scenario(scenario.model_copy(update={"seed": exp.seed, "replicas": exp.replicas}))


def test_stacked_batches_equal_each_points_own_model(tmp_path: Path) -> None:
    """Points differing in every per-replica number (and one in rounds) share batches whose
    chunks cut through points; each run equals the run of the point's own model."""
    loaded = load_experiment(DATA / "kinds.yaml")
    _quiet_sweep(loaded, tmp_path / "s", workers=1)
    runs = load_runs(tmp_path / "s")
    design = design_points(loaded).points
    assert len(runs) == len(design) * 30
    for p, row in design.iterrows():
        model = _direct(loaded, row.to_dict())
        mine = runs[runs["point"] == p].sort_values("replica")
        for g, group in enumerate(model.batch.groups):
            np.testing.assert_array_equal(mine[f"agreed.{group.name}"].to_numpy(), model.agreed_round[g] >= 0)
            rounds = np.where(model.agreed_round[g] >= 0, model.agreed_round[g] + 1, 0)
            np.testing.assert_array_equal(mine[f"round.{group.name}"].to_numpy(), rounds)
    # the points really differ: not every point gives the same security rate
    rates = load_results(tmp_path / "s")["agreed.security"]
    assert rates.nunique() > 1


def test_results_independent_of_chunk_size_and_workers(tmp_path: Path) -> None:
    """Same runs, value for value, with chunks of 7 or 1,000 and with 1 or 2 worker processes."""
    exp = DATA / "small_grid.yaml"
    _quiet_sweep(exp, tmp_path / "a", workers=1, chunk=7)
    _quiet_sweep(exp, tmp_path / "b", workers=2, chunk=25)
    _quiet_sweep(exp, tmp_path / "c", workers=1, chunk=1000)
    a, b, c = (load_results(tmp_path / x) for x in "abc")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    pd.testing.assert_frame_equal(load_runs(tmp_path / "a"), load_runs(tmp_path / "b"))


def test_load_results_aggregates_runs(tmp_path: Path) -> None:
    """Rates, Wilson intervals and mean rounds recomputed by hand from the per-run table."""
    from sim.results import wilson_interval

    _quiet_sweep(DATA / "small_grid.yaml", tmp_path / "s", workers=1)
    frame = load_results(tmp_path / "s")
    runs = load_runs(tmp_path / "s")
    assert len(frame) == 8 and (frame["replicas"] == 40).all() and frame.attrs["complete"]
    assert frame["error"].isna().all()
    for _, row in frame.iterrows():
        mine = runs[runs["point"] == row["point"]]
        k = int(mine["agreed.security"].sum())
        assert row["agreed.security"] == pytest.approx(k / 40)
        lo, hi = wilson_interval(k, 40)
        assert row["agreed.security.lo"] == pytest.approx(lo) and row["agreed.security.hi"] == pytest.approx(hi)
        if k:
            assert row["round.security"] == pytest.approx(mine.loc[mine["agreed.security"], "round.security"].mean())
    # more credible sanctions never lower the rate along the grid (common random numbers)
    for cost, rows in frame.groupby("parties.ukraine.war.cost_per_round"):
        rates = rows.sort_values("events.sanctions.credibility")["agreed.security"].to_numpy()
        assert np.all(np.diff(rates) >= 0), cost


def test_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    report = _quiet_sweep(DATA / "failing.yaml", tmp_path / "s", workers=1)
    assert sorted(report.failed) == [1, 3]
    frame = load_results(tmp_path / "s")
    assert frame.loc[1, "error"].startswith("design point 1: events[0].credibility: expected a number <= 1")
    assert "from_round" in frame.loc[3, "error"]
    assert list(frame["replicas"]) == [20, 0, 20, 0]
    assert frame.loc[[0, 2], "error"].isna().all()
    assert np.isnan(frame.loc[1, "agreed.security"])
    assert frame.attrs["complete"]


def test_resume_computes_only_missing_chunks(tmp_path: Path) -> None:
    """Deleting shards (a crash) and running again recomputes exactly those, identically."""
    exp = DATA / "small_grid.yaml"
    _quiet_sweep(exp, tmp_path / "straight", workers=1)
    shutil.copytree(tmp_path / "straight", tmp_path / "resumed")
    shards = sorted((tmp_path / "resumed" / SHARDS).glob("*.parquet"))
    for shard in shards[1::3]:
        shard.unlink()
    missing = len(shards[1::3])
    assert not load_results(tmp_path / "resumed").attrs["complete"]
    report = _quiet_sweep(exp, tmp_path / "resumed", workers=1)
    assert report.runs_now == sum(min(25, 320 - c * 25) for c in range(len(shards)) if c % 3 == 1)
    assert missing > 0 and len(done_chunks(tmp_path / "resumed")) == len(shards)
    pd.testing.assert_frame_equal(load_results(tmp_path / "straight"), load_results(tmp_path / "resumed"))
    again = _quiet_sweep(exp, tmp_path / "resumed", workers=1)
    assert again.runs_now == 0


def test_resume_refuses_another_experiment(tmp_path: Path) -> None:
    _quiet_sweep(DATA / "failing.yaml", tmp_path / "s", workers=1)
    with pytest.raises(InputError, match=r"experiment.sha256: expected the same experiment file"):
        _quiet_sweep(DATA / "small_grid.yaml", tmp_path / "s", workers=1)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="a new or empty folder"):
        _quiet_sweep(DATA / "small_grid.yaml", tmp_path / "other", workers=1)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"
    with pytest.raises(InputError, match="found an existing file"):
        _quiet_sweep(DATA / "small_grid.yaml", tmp_path / "other" / "notes.txt", workers=1)
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


# ---------------------------------------------------------------------------- designs


def _experiment(tmp_path: Path, design: str, parameters: str, extra: str = "") -> Path:
    path = tmp_path / "e.yaml"
    path.write_text(
        f"name: t\nquestion: q\nscenario: istanbul_2025\nparameters:\n{parameters}\ndesign: {design}\n"
        f"replicas: 2\nseed: 5\n{extra}",
        encoding="utf-8",
    )
    return path


TWO = "  events.sanctions.credibility: {range: [0.0, 1.0], levels: 3}\n  parties.russia.war.cost: {values: [0.0, 0.1]}\n"


def test_grid_is_the_product_in_file_order(tmp_path: Path) -> None:
    points = design_points(load_experiment(_experiment(tmp_path, "grid", TWO))).points
    assert points.to_numpy().tolist() == [[0.0, 0.0], [0.0, 0.1], [0.5, 0.0], [0.5, 0.1], [1.0, 0.0], [1.0, 0.1]]


def test_lhs_puts_one_point_in_each_stratum(tmp_path: Path) -> None:
    params = "  events.sanctions.credibility: {range: [0.0, 1.0]}\n  parties.russia.war.cost: {range: [0.0, 0.5]}\n"
    points = design_points(load_experiment(_experiment(tmp_path, "{method: lhs, samples: 10}", params))).points
    for column, high in (("events.sanctions.credibility", 1.0), ("parties.russia.war.cost", 0.5)):
        strata = np.floor(points[column].to_numpy() / high * 10).astype(int)
        assert sorted(strata) == list(range(10))


def test_sobol_and_morris_sizes_match_salib(tmp_path: Path) -> None:
    params = "  events.sanctions.credibility: {range: [0.0, 1.0]}\n  parties.russia.war.cost: {range: [0.0, 0.5]}\n"
    sobol = design_points(load_experiment(_experiment(tmp_path, "{method: sobol, samples: 16}", params)))
    assert len(sobol) == 16 * (2 + 2)  # N (d + 2) without second-order indices
    morris = design_points(load_experiment(_experiment(tmp_path, "{method: morris, samples: 5, levels: 4}", params)))
    assert len(morris) == 5 * (2 + 1)  # r trajectories of d + 1 points
    assert morris.unit is not None
    np.testing.assert_allclose(np.unique(morris.unit.round(12)), [0.0, 1 / 3, 2 / 3, 1.0])


def test_integer_fields_take_whole_numbers(tmp_path: Path) -> None:
    params = "  events.sanctions.from_round: {range: [1, 9], levels: 4}\n"
    points = design_points(load_experiment(_experiment(tmp_path, "grid", params))).points
    assert points["events.sanctions.from_round"].tolist() == [1.0, 4.0, 6.0, 9.0]  # 3.67 -> 4, 6.33 -> 6


def test_distributions_map_the_unit_interval() -> None:
    """Closed forms: a symmetric triangular's median is its mode; a normal truncated
    symmetrically about its mean has its median at the mean."""
    tri = Parameter(range=(0.0, 2.0), distribution="triangular", mode=1.0)
    assert to_values(tri, np.array([0.5]))[0] == pytest.approx(1.0)
    assert to_values(tri, np.array([0.125]))[0] == pytest.approx(0.5)  # F(x) = x^2 / 2 on [0, 1]
    normal = Parameter(range=(0.0, 1.0), distribution="normal", mean=0.5, sd=0.1)
    assert to_values(normal, np.array([0.5]))[0] == pytest.approx(0.5)


# ---------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("parameters", "design", "needle"),
    [
        ("  events.sanction.credibility: {range: [0, 1], levels: 2}\n", "grid", "did you mean 'sanctions'?"),
        ("  parties.russia.war.cost: {range: [-1, 0.5], levels: 2}\n", "grid", "values the scenario accepts"),
        ("  events.sanctions.credibility: {range: [0, 1.5], levels: 2}\n", "grid", "expected a number <= 1"),
        ("  events.sanctions.credibility: {range: [0, 1]}\n", "grid", "'levels' with a range in a grid design"),
        ("  events.sanctions.credibility: {range: [0, 1]}\n", "{method: sobol, samples: 10}", "a power of 2"),
        ("  events.sanctions.credibility: {values: [0, 1]}\n", "{method: lhs, samples: 4}", "a 'range' for a lhs design"),
        ("  parties.russia.name: {values: [1]}\n", "grid", "a path to a number"),
        ("  events.sanctions.credibility: {range: [1, 0], levels: 2}\n", "grid", "low < high"),
    ],
)
def test_experiment_errors_name_file_line_field(tmp_path: Path, parameters: str, design: str, needle: str) -> None:
    path = _experiment(tmp_path, design, parameters)
    with pytest.raises(InputError) as info:
        load_experiment(path)
    text = str(info.value)
    assert needle in text
    assert re.match(rf"{re.escape(str(path))}:\d+: (parameters|design)\.", text), text


def test_csv_header_must_name_the_parameters(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("events.sanctions.credibility,typo\n0.5,1\n", encoding="utf-8")
    path = _experiment(tmp_path, "{method: csv, file: p.csv}", "  events.sanctions.credibility: {}\n")
    with pytest.raises(InputError, match=r"p.csv:1: header: expected exactly the parameters' paths"):
        load_experiment(path)


# ---------------------------------------------------------------------------- sensitivity


def test_sensitivity_of_a_dummy_parameter_is_exactly_zero(tmp_path: Path) -> None:
    """Turkey's capability is not read by the negotiation engine: with common random numbers
    its elementary effects are exactly 0 (Morris mu* = sigma = 0) and its Sobol' total index
    (Jansen's estimator, a mean of squared differences) is exactly 0; sanctions credibility
    moves the security rate."""
    from sim.sweep.sensitivity import analyze

    params = (
        "  events.sanctions.credibility: {range: [0.0, 1.0]}\n"
        "  parties.turkey.capability: {range: [0.5, 2.0]}\n"
    )
    for design, method in (("{method: morris, samples: 6, levels: 4}", "morris"), ("{method: sobol, samples: 8}", "sobol")):
        folder = tmp_path / method
        folder.mkdir()
        exp = _experiment(folder, design, params, "plot: {group: security}\n").read_text()
        exp = exp.replace("istanbul_2025", "sanctions_credible").replace("replicas: 2", "replicas: 60")
        (folder / "e.yaml").write_text(exp)
        _quiet_sweep(folder / "e.yaml", folder / "out", workers=1)
        table = analyze(folder / "out", method)
        pd.testing.assert_frame_equal(table, analyze(folder / "out", method))  # bootstrap intervals are seeded
        if method == "morris":
            assert table.loc["parties.turkey.capability", "mu_star"] == 0.0
            assert table.loc["parties.turkey.capability", "sigma"] == 0.0
            assert table.loc["events.sanctions.credibility", "mu_star"] > 0.1
        else:
            assert table.loc["parties.turkey.capability", "ST"] == 0.0
            assert table.loc["events.sanctions.credibility", "ST"] > 0.5
    with pytest.raises(InputError, match="the sweep's own design"):
        analyze(tmp_path / "sobol" / "out", "morris")


def test_progress_bar_on_a_terminal_shows_rate_and_eta(tmp_path: Path) -> None:
    """On a terminal the sweep draws a tqdm bar with runs done, rate and time left."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    run_sweep(DATA / "small_grid.yaml", tmp_path / "s", workers=1, progress=screen)
    text = screen.getvalue()
    assert "small_grid" in text and "320/320" in text
    assert re.search(r"\d+(\.\d+)?k?run/s", text), text[-300:]
    assert re.search(r"<\d\d:\d\d", text)  # tqdm's time left
    assert "sweep small_grid:" not in text  # no log lines on a terminal


@pytest.mark.parametrize(
    ("parameters", "needle"),
    [
        ("  seed: {values: [1, 2]}\n", "other than seed (the experiment's own 'seed' sets it"),
        ("  replicas: {values: [5, 50]}\n", "a parameter name that is not a result column"),
        ("  x: {paths: [replicas], values: [5, 50]}\n", "other than replicas"),
        (
            "  events.sanctions.credibility: {values: [0, 1]}\n  again: {paths: [events.sanctions.credibility], values: [0.5]}\n",
            "each scenario path set by one parameter (events.sanctions.credibility is set by 'events.sanctions.credibility')",
        ),
        ("  mixed: {paths: [events.sanctions.from_round, events.sanctions.credibility], values: [1]}\n", "a mix of both"),
    ],
)
def test_parameters_that_would_do_nothing_or_collide_are_errors(tmp_path: Path, parameters: str, needle: str) -> None:
    with pytest.raises(InputError, match=re.escape(needle)):
        load_experiment(_experiment(tmp_path, "grid", parameters))


def test_metrics_must_keep_something_and_outcome_alone_aggregates(tmp_path: Path) -> None:
    params = "  events.sanctions.credibility: {values: [0.0, 1.0]}\n"
    with pytest.raises(InputError, match="metrics"):
        load_experiment(_experiment(tmp_path, "grid", params, "metrics: []\n"))
    exp = _experiment(tmp_path, "grid", params, "metrics: [outcome]\n")
    _quiet_sweep(exp, tmp_path / "s", workers=1)
    frame = load_results(tmp_path / "s")
    runs = load_runs(tmp_path / "s")
    assert "agreed.security" not in runs and "outcome.security.ceasefire" in frame
    expected = runs.groupby("point")["outcome.humanitarian.prisoner_exchange"].mean().to_numpy()
    np.testing.assert_allclose(frame["outcome.humanitarian.prisoner_exchange"], expected)
    assert (frame["agreed.humanitarian"] == runs.groupby("point")["outcome.humanitarian.prisoner_exchange"].count() / 2).all()


def test_csv_rejects_non_finite_cells_and_reads_a_byte_order_mark(tmp_path: Path) -> None:
    param = "  events.sanctions.credibility: {}\n"
    (tmp_path / "p.csv").write_text("events.sanctions.credibility\nnan\n0.5\ninf\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_experiment(_experiment(tmp_path, "{method: csv, file: p.csv}", param))
    assert "p.csv:2: events.sanctions.credibility: expected a finite number from -1e+12 to 1e+12, found 'nan'" in str(info.value)
    assert "p.csv:4:" in str(info.value)
    (tmp_path / "p.csv").write_text("events.sanctions.credibility\n0.5\n", encoding="utf-8-sig")  # as spreadsheets save it
    assert load_experiment(tmp_path / "e.yaml").csv_points == [{"events.sanctions.credibility": 0.5}]


def test_scenario_paths_are_relative_to_the_experiment_file(tmp_path: Path, repo_root: Path, monkeypatch) -> None:
    """Not to the current folder: a sweep must resume from anywhere."""
    monkeypatch.chdir(repo_root)  # scenarios/istanbul_2025.yaml exists relative to here, not to the experiment
    path = _experiment(tmp_path, "grid", "  events.sanctions.credibility: {values: [0.5]}\n")
    path.write_text(path.read_text().replace("scenario: istanbul_2025", "scenario: scenarios/istanbul_2025.yaml"))
    with pytest.raises(InputError, match=re.escape(str(tmp_path / "scenarios" / "istanbul_2025.yaml"))):
        load_experiment(path)


def test_resume_after_a_kill_between_manifest_and_design(tmp_path: Path) -> None:
    exp = DATA / "small_grid.yaml"
    _quiet_sweep(exp, tmp_path / "straight", workers=1)
    shutil.copytree(tmp_path / "straight", tmp_path / "early")
    (tmp_path / "early" / "design.parquet").unlink()
    shutil.rmtree(tmp_path / "early" / SHARDS)
    report = _quiet_sweep(exp, tmp_path / "early", workers=1)
    assert report.runs_now == 320
    pd.testing.assert_frame_equal(load_results(tmp_path / "straight"), load_results(tmp_path / "early"))


def test_independent_points_on_request_still_independent_of_chunking(tmp_path: Path) -> None:
    """With common_random_numbers: false each point draws from its own seed (so two points
    with equal parameters differ), and the result still does not depend on chunking; each
    point equals its own model run with that seed."""
    params = "  parties.turkey.capability: {values: [1.0, 1.0]}\n"  # two identical points
    exp = _experiment(tmp_path, "grid", params, "common_random_numbers: false\n")
    exp.write_text(exp.read_text().replace("replicas: 2", "replicas: 300").replace("istanbul_2025", "sanctions_credible"))
    _quiet_sweep(exp, tmp_path / "a", workers=1, chunk=7)
    _quiet_sweep(exp, tmp_path / "b", workers=1, chunk=1000)
    a = load_runs(tmp_path / "a")
    pd.testing.assert_frame_equal(a, load_runs(tmp_path / "b"))
    first, second = (a[a["point"] == p]["agreed.security"].to_numpy() for p in (0, 1))
    assert not np.array_equal(first, second)
    loaded = load_experiment(exp)
    scenario = loaded.base.scenario.model_copy(update={"seed": loaded.experiment.point_seed(1), "replicas": 300})
    model = run_scenario(scenario)
    np.testing.assert_array_equal(second, model.agreed_round[1] >= 0)


def test_choose_workers_runs_small_sweeps_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below IN_PROCESS_BELOW runs: this process unless asked; from it: the cores, never more processes than chunks."""
    from sim.sweep import run

    monkeypatch.setattr(run, "default_workers", lambda: 2)
    below = run.IN_PROCESS_BELOW - 1
    expected = f"running in this process: {below:,} runs is below {run.IN_PROCESS_BELOW:,}"
    assert run.choose_workers(None, below, 100) == (1, expected)
    assert run.choose_workers(None, run.IN_PROCESS_BELOW, 100)[0] == 2
    assert run.choose_workers(None, run.IN_PROCESS_BELOW, 1)[0] == 1  # one chunk: one process
    assert run.choose_workers(2, 10, 5) == (2, "2 worker processes (--workers 2)")
    assert run.choose_workers(4, 10, 3) == (3, "3 worker processes (--workers 4, one per chunk left)")
    assert run.choose_workers(1, 10**9, 10**6) == (1, "running in this process (--workers 1)")
