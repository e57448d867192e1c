"""Experiment files in bounded time and memory: finite parameters within the bounds, the
number of design points and of runs counted from the definition before any point is drawn,
tasks a model can hold, CSV files read like scenario files (regular, at most 2 MiB)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sim.errors import InputError
from sim.inputs import load_experiment
from sim.inputs.experiment import MAX_POINTS, MAX_RUNS, count_points
from sim.sweep.design import design_points

CREDIBILITY = "events.sanctions.credibility"


@pytest.fixture(autouse=True)
def _no_hang(watchdog: Callable[..., contextlib.AbstractContextManager[None]]) -> Iterator[None]:
    """Every test here runs under the watchdog: a hang fails it instead of stalling the suite."""
    with watchdog():
        yield


def _experiment(tmp_path: Path, parameters: str, design: str = "grid", extra: str = "replicas: 2\n") -> Path:
    path = tmp_path / "e.yaml"
    path.write_text(
        f"name: t\nquestion: q\nscenario: istanbul_2025\nparameters:\n{parameters}design: {design}\nseed: 5\n{extra}",
        encoding="utf-8",
    )
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(InputError) as info:
        load_experiment(path)
    return [str(p).split(": ", 1)[1] for p in info.value.problems]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ("{range: [0.0, .inf], levels: 3}", f"parameters.{CREDIBILITY}.range[1]"),
        ("{values: [0.5, .nan]}", f"parameters.{CREDIBILITY}.values[1]"),
        ("{range: [0.0, 1.0], distribution: normal, mean: .nan, sd: 0.1}", f"parameters.{CREDIBILITY}.mean"),
        ("{range: [0.0, 1.0], distribution: triangular, mode: -.inf}", f"parameters.{CREDIBILITY}.mode"),
    ],
)
def test_non_finite_parameter_numbers_are_refused(tmp_path: Path, spec: str, field: str) -> None:
    """.inf and .nan are refused wherever a parameter takes a number."""
    problems = _problems(_experiment(tmp_path, f"  {CREDIBILITY}: {spec}\n"))
    assert any(p.startswith(f"{field}: expected a finite number, found ") for p in problems), problems


def test_ten_thousand_values_load_and_their_extremes_are_checked(tmp_path: Path) -> None:
    """10,000 values (9.7 s before: each was applied to the scenario) load under the watchdog;
    a value the scenario refuses, wherever it stands in the list, is reported."""
    values = [i / 10_000 for i in range(10_000)]
    good = _experiment(tmp_path, f"  {CREDIBILITY}: {{values: {values}}}\n")
    loaded = load_experiment(good)
    assert len(design_points(loaded)) == 10_000
    values[4_321] = 1.5  # credibility above 1: the largest value
    problems = _problems(_experiment(tmp_path, f"  {CREDIBILITY}: {{values: {values}}}\n"))
    assert problems == [
        f"parameters.{CREDIBILITY}: expected values the scenario accepts, found 1.5 "
        "(events[0].credibility: expected a number <= 1.0)"
    ]


def test_points_are_counted_before_any_is_drawn(tmp_path: Path) -> None:
    """Three parameters of 10,000 levels (10**12 points) are refused from their definition."""
    params = "".join(
        f"  {path}: {{range: [0.0, 0.5], levels: 10000}}\n"
        for path in (CREDIBILITY, "parties.russia.war.cost", "parties.ukraine.war.cost")
    )
    problems = _problems(_experiment(tmp_path, params))
    assert problems == [f"design: expected a design of at most {MAX_POINTS:,} points, found more: {MAX_POINTS + 1:,}"]


def test_runs_are_bounded(tmp_path: Path) -> None:
    """Points x replicas beyond MAX_RUNS is refused at replicas, naming both factors."""
    path = _experiment(tmp_path, f"  {CREDIBILITY}: {{range: [0.0, 1.0], levels: 1000}}\n", extra="replicas: 10000000\n")
    assert _problems(path) == [
        f"replicas: expected at most {MAX_RUNS:,} runs (design points x replicas), found 1,000 points x 10,000,000 replicas"
    ]


def test_replicas_and_chunk_bounds(tmp_path: Path, repo_root: Path) -> None:
    """replicas above 10,000,000 and a chunk above 1,000,000 are schema errors; a chunk larger
    than one model of the scenario holds is refused too."""
    param = f"  {CREDIBILITY}: {{values: [0.5]}}\n"
    assert _problems(_experiment(tmp_path, param, extra="replicas: 1000000000000\n")) == [
        "replicas: expected a number <= 10,000,000, found 1000000000000"
    ]
    assert _problems(_experiment(tmp_path, param, extra="replicas: 2\nchunk: 1000001\n")) == [
        "chunk: expected a number <= 1,000,000, found 1000001"
    ]
    # 101 prisoner levels: 101 + 225 candidates, so one model holds 250,000,000 // 326 = 766,871 runs
    base = (repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8")
    base = base.replace("../seeds/", f"{repo_root / 'seeds'}/").replace("levels: 21", "levels: 101")
    (tmp_path / "wide.yaml").write_text(base, encoding="utf-8")
    path = _experiment(tmp_path, param, extra="replicas: 2\nchunk: 1000000\n")
    path.write_text(path.read_text(encoding="utf-8").replace("scenario: istanbul_2025", "scenario: wide.yaml"), encoding="utf-8")
    expected = "chunk: expected at most 766,871 runs per task for this scenario (one model holds them), found 1,000,000"
    assert _problems(path) == [expected]


@pytest.mark.parametrize(
    ("design", "points"),
    [("{method: lhs, samples: 7}", 7), ("{method: sobol, samples: 8}", 8 * (2 + 2)), ("{method: morris, samples: 5}", 5 * 3)],
)
def test_count_points_matches_the_design(tmp_path: Path, design: str, points: int) -> None:
    """The count made before drawing is the number of points the design then draws (two parameters)."""
    params = f"  {CREDIBILITY}: {{range: [0.0, 1.0]}}\n  parties.russia.war.cost: {{range: [0.0, 0.2]}}\n"
    loaded = load_experiment(_experiment(tmp_path, params, design=design))
    assert count_points(loaded.experiment, None) == points == len(design_points(loaded))


def test_csv_cells_beyond_the_magnitude_bound(tmp_path: Path) -> None:
    """A CSV cell of 1e300 is refused like a non-finite one, on its row."""
    (tmp_path / "p.csv").write_text(f"{CREDIBILITY}\n0.5\n1e300\n", encoding="utf-8")
    problems = _problems(_experiment(tmp_path, f"  {CREDIBILITY}: {{}}\n", design="{method: csv, file: p.csv}"))
    assert any(":3: " in p or p.startswith(f"{CREDIBILITY}: expected a finite number from -1e+12 to 1e+12") for p in problems)


def test_csv_that_is_a_named_pipe(tmp_path: Path) -> None:
    """A CSV path that is a FIFO is refused at once, not read for ever."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "p.csv")
    problems = _problems(_experiment(tmp_path, f"  {CREDIBILITY}: {{}}\n", design="{method: csv, file: p.csv}"))
    assert problems == ["design.file: expected a CSV file relative to the experiment file, found 'p.csv'"]
