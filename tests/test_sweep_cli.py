"""The installed ``ceasefire sweep`` / ``sweep analyze`` / ``plot`` commands as a user runs
them: SIGKILL and resume, a real dask LocalCluster on loopback, errors, charts."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from sim.sweep import load_results, load_runs, run_sweep
from sim.sweep.store import SHARDS

DATA = Path(__file__).parent / "data" / "sweeps"
SMALL = str(DATA / "small_grid.yaml")


def _no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real dask.distributed LocalCluster: 2 worker processes on loopback."""
    from distributed import LocalCluster

    # no dashboard; the scheduler's HTTP server (which starts anyway) on a free port, not 8787,
    # which another cluster on the machine may hold (its warning would fail the run)
    http = {"dashboard_address": "127.0.0.1:0"}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs=http) as c:
        yield str(c.scheduler_address)


def test_sigkill_then_resume_equals_a_straight_run(ceasefire_exe: str, cli, tmp_path: Path) -> None:
    """Kill a sweep with SIGKILL part-way; `--resume` ends with results identical, value
    for value, to the same sweep run straight through."""
    killed = tmp_path / "killed"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [ceasefire_exe, "sweep", str(DATA / "kill.yaml"), "--out", str(killed), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list((killed / SHARDS).glob("*.parquet"))) < 5:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = len(list((killed / SHARDS).glob("*.parquet")))
    assert 5 <= partial < 160, "the sweep was not killed part-way"
    assert not load_results(killed).attrs["complete"]

    resumed = cli("sweep", "--resume", str(killed))
    assert resumed.returncode == 0, resumed.stderr
    assert f"this time: {640 - partial * 4:,} runs" in resumed.stdout
    straight = cli("sweep", str(DATA / "kill.yaml"), "--out", str(tmp_path / "straight"), "--workers", "2")
    assert straight.returncode == 0, straight.stderr
    pd.testing.assert_frame_equal(load_results(killed), load_results(tmp_path / "straight"))
    pd.testing.assert_frame_equal(load_runs(killed), load_runs(tmp_path / "straight"))
    assert not list((killed / SHARDS).glob(".*.tmp"))  # no half-written shard was left behind


def test_rerun_into_the_same_folder_computes_nothing(cli, tmp_path: Path) -> None:
    first = cli("sweep", SMALL, "--out", str(tmp_path / "s"), "--workers", "1")
    assert first.returncode == 0 and "this time: 320 runs" in first.stdout
    again = cli("sweep", SMALL, "--out", str(tmp_path / "s"), "--workers", "2")
    assert again.returncode == 0 and "this time: 0 runs" in again.stdout


def test_dask_cluster_in_process_and_through_the_cli(cluster: str, cli, tmp_path: Path) -> None:
    """The same tasks on a LocalCluster (2 workers) give the local result, value for value."""
    run_sweep(SMALL, tmp_path / "local", workers=1, progress=io.StringIO())
    run_sweep(SMALL, tmp_path / "dask", scheduler=cluster, progress=io.StringIO())
    proc = cli("sweep", SMALL, "--out", str(tmp_path / "dask_cli"), "--scheduler", cluster)
    assert proc.returncode == 0, proc.stderr
    local = load_results(tmp_path / "local")
    pd.testing.assert_frame_equal(local, load_results(tmp_path / "dask"))
    pd.testing.assert_frame_equal(local, load_results(tmp_path / "dask_cli"))


def test_failing_point_through_dask(cluster: str, tmp_path: Path) -> None:
    report = run_sweep(DATA / "failing.yaml", tmp_path / "s", scheduler=cluster, progress=io.StringIO())
    assert sorted(report.failed) == [1, 3]
    assert list(load_results(tmp_path / "s")["replicas"]) == [20, 0, 20, 0]


def test_failing_point_on_the_cli(cli, tmp_path: Path) -> None:
    proc = cli("sweep", str(DATA / "failing.yaml"), "--out", str(tmp_path / "s"), "--workers", "2")
    _no_traceback(proc)
    assert proc.returncode == 1
    assert "2 design point(s) failed" in proc.stderr
    assert "point 1: design point 1: events[0].credibility: expected a number <= 1.0, found 1.5" in proc.stderr


def test_progress_is_plain_log_lines_off_a_terminal(cli, tmp_path: Path) -> None:
    proc = cli("sweep", SMALL, "--out", str(tmp_path / "s"), "--workers", "1")
    lines = [line for line in proc.stderr.splitlines() if line.startswith("sweep small_grid:")]
    assert lines[0].startswith("sweep small_grid: 0/320 runs (0%)")
    assert lines[-1].startswith("sweep small_grid: 320/320 runs (100%)") and "runs/s" in lines[-1]
    assert "\r" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("sweep", "no_such.yaml", "--out", "x"), "no_such.yaml: (top level): expected a readable experiment file"),
        (("sweep", SMALL), "expected EXPERIMENT --out DIR, or --resume DIR"),
        (("sweep", "--resume", "nowhere"), "nowhere: manifest.json: expected a sweep folder"),
        (("sweep", SMALL, "--out", "x", "--workers", "0"), "--workers: workers: expected a number of workers >= 1"),
        (("sweep", SMALL, "--out", "x", "--scheduler", "tcp://127.0.0.1:9"), "expected the address of a running dask scheduler"),
        (("sweep", "analyze", "nowhere", "--method", "sobol"), "expected a sweep folder"),
        (("plot", "nowhere"), "expected a sweep folder"),
    ],
)
def test_bad_input_exits_2_without_traceback(cli, tmp_path: Path, args: tuple[str, ...], needle: str) -> None:
    args = tuple(str(tmp_path / a) if a in ("x", "nowhere") else a for a in args)
    proc = cli(*args)
    _no_traceback(proc)
    assert proc.returncode == 2, proc.stderr
    assert needle.replace("nowhere", str(tmp_path / "nowhere")) in proc.stderr


def test_plot_and_analyze_write_charts(cli, tmp_path: Path) -> None:
    out = tmp_path / "s"
    assert cli("sweep", SMALL, "--out", str(out), "--workers", "1").returncode == 0
    proc = cli("plot", str(out), "--points", "0,7")
    assert proc.returncode == 0, proc.stderr
    for name in ("heatmap.png", "lines.png", "convergence_point0.png", "convergence_point7.png"):
        assert (out / "plots" / name).stat().st_size > 10_000
    rounds = cli("plot", str(out), "--metric", "round.security", "--out", str(tmp_path / "rounds"), "--points", "3")
    assert rounds.returncode == 0, rounds.stderr
    assert (tmp_path / "rounds" / "heatmap.png").stat().st_size > 10_000
    unknown = cli("plot", str(out), "--metric", "round.nowhere")
    assert unknown.returncode == 2 and "--metric: expected a result column of this sweep" in unknown.stderr
    wrong = cli("sweep", "analyze", str(out), "--method", "sobol")
    assert wrong.returncode == 2
    assert "design: expected a sobol or morris design (sensitivity indices need one), found grid" in wrong.stderr
    assert cli("sweep", "analyze", str(out)).stderr == wrong.stderr  # the same without --method
    bad_point = cli("plot", str(out), "--points", "99")
    assert bad_point.returncode == 2 and "--points: expected points 0..7, found 99" in bad_point.stderr
    (tmp_path / "a_file").write_text("mine")
    for args in (("plot", str(out), "--out"), ("sweep", "analyze", str(out), "--method", "sobol", "--out")):
        proc = cli(*args, str(tmp_path / "a_file"))
        _no_traceback(proc)
        assert proc.returncode == 2
    assert (tmp_path / "a_file").read_text() == "mine"


def test_sweep_analyze_morris_prints_indices(cli, tmp_path: Path) -> None:
    exp = tmp_path / "m.yaml"
    exp.write_text(
        "name: m\nquestion: q\nscenario: sanctions_credible\nparameters:\n"
        "  events.sanctions.credibility: {range: [0.0, 1.0]}\n  parties.russia.war.cost: {range: [0.0, 0.2]}\n"
        "design: {method: morris, samples: 4, levels: 4}\nreplicas: 30\nseed: 2\n",
        encoding="utf-8",
    )
    assert cli("sweep", str(exp), "--out", str(tmp_path / "s"), "--workers", "1").returncode == 0
    proc = cli("sweep", "analyze", str(tmp_path / "s"), "--method", "morris")
    assert proc.returncode == 0, proc.stderr
    assert "mu_star" in proc.stdout and "events.sanctions.credibility" in proc.stdout
    assert (tmp_path / "s" / "sensitivity.png").stat().st_size > 10_000
    own = cli("sweep", "analyze", str(tmp_path / "s"), "--verbose")  # no --method: the folder's own design
    assert own.returncode == 0 and own.stdout == proc.stdout
    assert "method: morris (the sweep's own design)" in own.stderr
    other = cli("sweep", "analyze", str(tmp_path / "s"), "--method", "sobol")
    assert other.returncode == 2
    assert "--method: expected the sweep's own design, morris (or no --method), found sobol" in other.stderr


def test_sweep_chooses_its_workers_and_says_why(cli, tmp_path: Path) -> None:
    """A small sweep runs in this process by default and says so; --workers 2 says 2 processes; --quiet prints nothing."""
    chosen = cli("sweep", SMALL, "--out", str(tmp_path / "a"))
    assert chosen.returncode == 0, chosen.stderr
    assert chosen.stderr.splitlines()[0] == "running in this process: 320 runs is below 200,000"
    asked = cli("sweep", SMALL, "--out", str(tmp_path / "b"), "--workers", "2")
    assert asked.returncode == 0, asked.stderr
    assert asked.stderr.splitlines()[0] == "2 worker processes (--workers 2)"
    quiet = cli("sweep", SMALL, "--out", str(tmp_path / "c"), "--quiet")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
