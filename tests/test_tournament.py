"""The resumable tournament (sim.sweep.tournament): its rows equal the meta-games', it
resumes after a SIGKILL computing only what is missing, and gives the same bytes for one or
two worker processes, any chunk size and a real dask cluster; a changed tournament is refused."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from sim.inputs import load_scenario
from sim.results import write_table
from sim.sweep.equilibria import meta_game
from sim.sweep.store import SHARDS
from sim.sweep.tournament import run_tournament

pytest.importorskip("nashpy", reason="the games extra (nashpy) is not installed")

# Istanbul's documented strategies (Ukraine linear, Russia Boulware 0.2) are in the set, so
# the meta-game's strategy sets are the tournament's.
STRATEGIES = ["hardliner", "linear", "boulware:0.2"]
ARGS = ["istanbul_2025", "--strategies", ",".join(STRATEGIES), "--replicas", "40", "--chunk", "4"]  # 9 cells, 90 chunks


def _quiet(**kwargs):
    return run_tournament([load_scenario("istanbul_2025")], STRATEGIES, replicas=40, progress=io.StringIO(), **kwargs)


def _bytes(report, folder: Path) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    write_table(folder / "t.csv", report.table.reset_index())
    write_table(folder / "r.csv", report.rows)
    return (folder / "t.csv").read_bytes() + (folder / "r.csv").read_bytes()


def test_rows_equal_the_meta_game() -> None:
    """Each row is its seat's payoff averaged over the opponent's strategies, computed from the
    meta-game's table (a separate road: one model per profile, no shards)."""
    report = _quiet(chunk=7)
    game = meta_game(load_scenario("istanbul_2025"), STRATEGIES, replicas=40)
    assert [x.removesuffix(" (documented)") for x in game.labels[0]] == STRATEGIES
    rows = report.rows.set_index(["seat", "strategy"])
    for seat, party in enumerate(game.parties):
        for s, name in enumerate(STRATEGIES):
            table = game.payoff[seat] if seat == 0 else game.payoff[seat].T
            assert rows.loc[(party, name), "payoff"] == pytest.approx(table[s].mean(), rel=1e-12)
            agree = game.agreement[s] if seat == 0 else game.agreement[:, s]
            assert rows.loc[(party, name), "agreement"] == pytest.approx(agree.mean(), rel=1e-12)
    assert set(report.rows["case"]) == {"istanbul_2025"}  # the baseline is a case file's scenario
    assert report.table["games"].tolist() == [2, 2, 2]


def test_same_bytes_for_workers_and_chunks(tmp_path: Path) -> None:
    """One worker, two worker processes and another chunk size give the same table bytes."""
    one = _bytes(_quiet(out=tmp_path / "one", workers=1), tmp_path / "a")
    two = _bytes(_quiet(out=tmp_path / "two", workers=2), tmp_path / "b")
    other = _bytes(_quiet(workers=1, chunk=13), tmp_path / "c")
    assert one == two == other


def test_sigkill_then_rerun_equals_a_straight_run(ceasefire_exe: str, cli, tmp_path: Path) -> None:
    """Kill a tournament with SIGKILL part-way; the same command again computes only the
    missing chunks and writes the same bytes as a run straight through."""
    killed = tmp_path / "killed"
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    proc = subprocess.Popen(
        [ceasefire_exe, "tournament", *ARGS, "--out", str(killed), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    deadline = time.monotonic() + 120  # a watchdog, not a timing
    while time.monotonic() < deadline and len(list((killed / SHARDS).glob("*.parquet"))) < 5:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    partial = len(list((killed / SHARDS).glob("*.parquet")))
    assert 5 <= partial < 90, "the tournament was not killed part-way"
    assert not (killed / "tournament.csv").exists()

    again = cli("tournament", *ARGS, "--out", str(killed), "--json")
    assert again.returncode == 0, again.stderr
    straight = cli("tournament", *ARGS, "--out", str(tmp_path / "straight"), "--workers", "2", "--json")
    assert straight.returncode == 0, straight.stderr
    assert again.stdout == straight.stdout
    for name in ("tournament.csv", "games.csv"):
        assert (killed / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()
    noted = cli("tournament", *ARGS, "--out", str(killed))
    assert noted.returncode == 0 and "this time: 0 of 360 runs" in noted.stdout
    data = json.loads(again.stdout)
    assert {row["strategy"] for row in data["table"]} == set(STRATEGIES)
    assert {row["scenario"] for row in data["rows"]} == {"istanbul_2025"}
    assert not list((killed / SHARDS).glob(".*.tmp"))


def test_changed_arguments_are_refused(cli, tmp_path: Path) -> None:
    """Other strategies, replicas or seed against an existing folder: exit 2, naming each field."""
    out = str(tmp_path / "t")
    first = cli("tournament", "istanbul_2025", "--strategies", "hardliner,linear", "--replicas", "4", "--out", out)
    assert first.returncode == 0, first.stderr
    for extra, field in (
        (["--strategies", "hardliner,zeuthen", "--replicas", "4"], "strategies: expected the same strategies"),
        (["--strategies", "hardliner,linear", "--replicas", "5"], "replicas: expected the same replicas"),
        (["--strategies", "hardliner,linear", "--replicas", "4", "--seed", "9"], "seed: expected the same seed"),
    ):
        proc = cli("tournament", "istanbul_2025", *extra, "--out", out)
        assert proc.returncode == 2 and field in proc.stderr and "use a new --out" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr


def test_sweep_commands_refuse_a_tournament_folder(cli, tmp_path: Path) -> None:
    """`sweep --resume`, `sweep analyze` and `plot` on a tournament's folder: exit 2, saying what it is."""
    out = str(tmp_path / "t")
    assert cli("tournament", "istanbul_2025", "--strategies", "hardliner,linear", "--replicas", "4", "--out", out).returncode == 0
    for args in (["sweep", "--resume", out], ["sweep", "analyze", out], ["plot", out]):
        proc = cli(*args)
        assert proc.returncode == 2 and "a tournament folder" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A real dask.distributed LocalCluster: 2 worker processes on loopback."""
    from distributed import LocalCluster

    http = {"dashboard_address": "127.0.0.1:0"}  # not 8787, which another cluster may hold
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      scheduler_kwargs=http) as c:
        yield str(c.scheduler_address)


def test_dask_cluster_gives_the_same_table(cluster: str, tmp_path: Path) -> None:
    """The tournament on a LocalCluster (2 workers) writes the bytes of the local run."""
    local = _bytes(_quiet(workers=1), tmp_path / "local")
    remote = _bytes(_quiet(out=tmp_path / "dask", scheduler=cluster), tmp_path / "remote")
    assert local == remote
    assert np.isfinite(_quiet(workers=1).table["payoff"]).all()


def test_a_full_disk_says_how_each_kind_of_folder_goes_on(tmp_path: Path) -> None:
    """Out of space in a sweep folder: resume it with `sweep --resume`; in a tournament's: run
    the same command again (sweep --resume refuses a tournament folder)."""
    import errno

    from sim.sweep.run import _write_failed
    from sim.sweep.store import MANIFEST, WriteError

    full = OSError(errno.ENOSPC, "No space left on device")
    for kind, words in ((None, "`ceasefire sweep --resume"), ("tournament", "run the same command again")):
        folder = tmp_path / str(kind)
        folder.mkdir()
        (folder / MANIFEST).write_text(json.dumps({"format": 1} | ({"kind": kind} if kind else {})), encoding="utf-8")
        message = str(_write_failed(folder, WriteError(folder / "shards" / "x.parquet", full)))
        assert "ran out of disk space" in message and words in message, message
