"""Sweeps under faults: pool workers outliving a killed driver; a scheduler address that is
not dask's; a sweep whose every point fails; damaged, stray and copied shards; kills at
the manifest's and a shard's fsync; two sweeps on one folder; a full disk."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.errors import InputError
from sim.sweep import load_results, load_runs, run_sweep
from sim.sweep.store import SHARDS, done_chunks, sweep_lock

DATA = Path(__file__).parent / "data" / "sweeps"
SMALL = DATA / "small_grid.yaml"  # 13 chunks of 25 runs (the last 20)
KILL = DATA / "kill.yaml"  # 160 chunks of 4 runs
REPO = Path(__file__).resolve().parent.parent


def _quiet_sweep(experiment, out, **kwargs):
    return run_sweep(experiment, out, progress=io.StringIO(), **kwargs)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    env["MPLBACKEND"] = "Agg"
    return env


def _same_results(a: Path, b: Path) -> None:
    pd.testing.assert_frame_equal(load_results(a), load_results(b))
    pd.testing.assert_frame_equal(load_runs(a), load_runs(b))


def _python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter of this venv (argv[1:] = args), under a watchdog."""
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout, check=False
    )


# ---------------------------------------------------------------------------- workers die with the driver


def _processes() -> dict[int, tuple[str, int, int]]:
    """Every process: pid -> (state, parent pid, process group), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            found[int(entry.name)] = (fields[0], int(fields[1]), int(fields[2]))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_pool_workers_die_with_their_driver(ceasefire_exe: str, tmp_path: Path, sig: signal.Signals) -> None:
    """A 2-worker sweep in its own process group; once its workers run, kill the driver
    alone: within the watchdog no process of the group is left (workers, resource tracker)."""
    out = tmp_path / "s"
    driver = subprocess.Popen(
        [ceasefire_exe, "sweep", str(KILL), "--out", str(out), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
        start_new_session=True,
    )
    group = driver.pid
    survivors: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            children = [pid for pid, (_, ppid, _) in _processes().items() if ppid == driver.pid]
            if len(children) >= 3 and len(list((out / SHARDS).glob("chunk-*.parquet"))) >= 2:
                break  # two workers and the resource tracker, and the workers have results
            assert driver.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.02)
        else:
            pytest.fail("the sweep's workers did not start")
        driver.send_signal(sig)
        driver.wait(timeout=20)
        deadline = time.monotonic() + 20  # watchdog, not a timing
        while time.monotonic() < deadline:
            survivors = [pid for pid, (state, _, pgrp) in _processes().items() if pgrp == group and state != "Z"]
            if not survivors:
                break
            time.sleep(0.1)
        assert not survivors, f"processes of the killed sweep still alive: {survivors}"
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        for pid in survivors:  # ours, started above
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---------------------------------------------------------------------------- a scheduler that is not dask


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_scheduler_address_that_is_not_dask_fails_within_the_timeout(tmp_path: Path) -> None:
    """A plain HTTP server on loopback accepts the connection and never answers dask's
    handshake: the sweep fails with a clear message (exit 2) instead of hanging; the
    subprocess's timeout is the watchdog."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    address = f"tcp://127.0.0.1:{server.server_address[1]}"
    try:
        code = (
            "import sys\nimport sim.sweep.run as run\nrun.SCHEDULER_TIMEOUT = 2.0\n"
            "from sim.cli import main\nsys.exit(main(sys.argv[1:]))\n"
        )
        proc = _python(code, "sweep", str(SMALL), "--out", str(tmp_path / "s"), "--scheduler", address, timeout=60)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert f"--scheduler: scheduler: expected the address of a running dask scheduler, found {address}" in proc.stderr
    assert "no dask scheduler answered within 2 s" in proc.stderr


# ---------------------------------------------------------------------------- every point fails


def test_plot_of_a_sweep_whose_every_point_failed_says_so_and_lists_the_errors(cli, tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("events.sanctions.credibility\n1.5\n2.0\n", encoding="utf-8")
    exp = tmp_path / "e.yaml"
    exp.write_text(
        "name: allfail\nquestion: q\nscenario: istanbul_2025\nparameters:\n  events.sanctions.credibility: {}\n"
        "design: {method: csv, file: p.csv}\nreplicas: 3\nseed: 1\n",
        encoding="utf-8",
    )
    out = tmp_path / "s"
    swept = cli("sweep", str(exp), "--out", str(out), "--workers", "1")
    assert swept.returncode == 1 and "2 design point(s) failed" in swept.stderr
    plot = cli("plot", str(out))
    assert plot.returncode == 2 and "Traceback" not in plot.stderr, plot.stderr
    assert "expected a result column of this sweep ()" not in plot.stderr
    assert f"{out}: points: expected at least one design point that ran, found every one of the 2 design points failed:" in (
        plot.stderr
    )
    assert "  point 0: design point 0: events[0].credibility: expected a number <= 1.0, found 1.5" in plot.stderr
    assert "  point 1: design point 1: events[0].credibility: expected a number <= 1.0, found 2.0" in plot.stderr
    assert json.loads((out / "manifest.json").read_text())["design"]["points"] == 2


# ---------------------------------------------------------------------------- shards


def _shard(out: Path, chunk: int) -> Path:
    return out / SHARDS / f"chunk-{chunk:06d}.parquet"


def test_damaged_shards_are_refused_and_recomputed_on_resume(tmp_path: Path, capsys) -> None:
    """A truncated shard and one whose values changed under its metadata (only the checksum
    tells) are not done: load_results refuses naming them, resume recomputes them with a
    warning on stderr, and ends with the straight run's results."""
    _quiet_sweep(SMALL, tmp_path / "straight", workers=1)
    shutil.copytree(tmp_path / "straight", tmp_path / "s")
    out = tmp_path / "s"
    truncated = _shard(out, 3)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    altered = _shard(out, 5)
    table = pq.read_table(altered)
    flipped = pa.array([not v for v in table["agreed.security"].to_pylist()])
    pq.write_table(table.set_column(table.column_names.index("agreed.security"), "agreed.security", flipped), altered)
    assert done_chunks(out) == set(range(13)) - {3, 5}
    with pytest.raises(InputError) as info:
        load_results(out)
    text = str(info.value)
    assert f"{truncated}: shard: expected a whole shard of this sweep, found unreadable" in text
    assert f"{altered}: shard: expected a whole shard of this sweep, found its columns do not match the checksum" in text
    assert f"`ceasefire sweep --resume {out}`" in text
    capsys.readouterr()
    report = _quiet_sweep(SMALL, out, workers=1)
    err = capsys.readouterr().err
    assert report.runs_now == 50
    assert f"ceasefire sweep: warning: {truncated}: unreadable" in err and "chunk 3 will be computed again" in err
    assert f"ceasefire sweep: warning: {altered}: its columns do not match the checksum" in err
    assert (out / SHARDS / "chunk-000003.parquet.rejected").is_file()  # kept for a look, out of the shards' names
    _same_results(tmp_path / "straight", out)
    assert _quiet_sweep(SMALL, out, workers=1).runs_now == 0


def test_stray_and_copied_shards_are_not_counted(tmp_path: Path, capsys) -> None:
    """A stray file named like a shard, a copy of chunk 2 under a number past the sweep's
    chunks and one under another chunk's number: none is counted (no run twice), resume
    sets them aside and recomputes the chunk whose shard was overwritten by the copy."""
    _quiet_sweep(SMALL, tmp_path / "straight", workers=1)
    shutil.copytree(tmp_path / "straight", tmp_path / "s")
    out = tmp_path / "s"
    (out / SHARDS / "chunk-foo.parquet").write_text("not a shard")
    shutil.copy(_shard(out, 2), _shard(out, 99))
    shutil.copy(_shard(out, 2), _shard(out, 4))
    assert done_chunks(out) == set(range(13)) - {4}
    with pytest.raises(InputError) as info:
        load_results(out)
    text = str(info.value)
    assert "chunk-foo.parquet: shard: expected a whole shard of this sweep, found not a shard's name" in text
    assert "chunk-000099.parquet: shard: expected a whole shard of this sweep, found chunk 99 is past" in text
    assert "chunk-000004.parquet: shard: expected a whole shard of this sweep, found its metadata does not match chunk 4" in text
    assert "(runs 100..124): chunk 2, not 4; first 50, not 100; last 74, not 124" in text
    capsys.readouterr()
    assert _quiet_sweep(SMALL, out, workers=1).runs_now == 25
    err = capsys.readouterr().err
    assert err.count("ceasefire sweep: warning: ") == 3 and "chunk 4 will be computed again" in err
    frame = load_results(out)
    assert (frame["replicas"] == 40).all() and frame.attrs["complete"]
    _same_results(tmp_path / "straight", out)


def test_resume_of_a_damaged_shard_on_the_cli(cli, tmp_path: Path) -> None:
    """What a user sees: plot refuses the folder (exit 2), resume warns and finishes (exit 0),
    no traceback either time."""
    out = tmp_path / "s"
    assert cli("sweep", str(SMALL), "--out", str(out), "--workers", "1").returncode == 0
    _shard(out, 7).write_bytes(b"PAR1")
    plot = cli("plot", str(out))
    assert plot.returncode == 2 and "Traceback" not in plot.stderr
    assert f"{_shard(out, 7)}: shard: expected a whole shard of this sweep, found unreadable" in plot.stderr
    resumed = cli("sweep", "--resume", str(out))
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    assert f"ceasefire sweep: warning: {_shard(out, 7)}: unreadable" in resumed.stderr
    assert "this time: 25 runs" in resumed.stdout


def test_shards_keep_their_columns_and_record_chunk_range_rows_and_checksum(tmp_path: Path) -> None:
    """The added metadata leaves the data columns as they were; it says which runs the shard holds."""
    _quiet_sweep(SMALL, tmp_path / "s", workers=1, chunk=30)
    meta = pq.read_schema(_shard(tmp_path / "s", 2)).metadata
    assert {k: meta[k] for k in (b"ceasefire.chunk", b"ceasefire.first", b"ceasefire.last", b"ceasefire.rows")} == {
        b"ceasefire.chunk": b"2",
        b"ceasefire.first": b"60",
        b"ceasefire.last": b"89",
        b"ceasefire.rows": b"30",
    }
    assert len(meta[b"ceasefire.sha256"]) == 64
    assert pq.read_table(_shard(tmp_path / "s", 2)).column_names[:2] == ["point", "replica"]


# ---------------------------------------------------------------------------- kills at an fsync


def _kill_at_fsync(n: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``ceasefire ARGV`` in a process that SIGKILLs itself at its n-th fsync (the
    manifest's is the first, the design's the second, then one per shard)."""
    code = (
        "import os, signal, sys\n"
        "from sim.cli import main\n"
        "calls = [0]\n"
        "real = os.fsync\n"
        "def fsync(fd):\n"
        "    calls[0] += 1\n"
        f"    if calls[0] == {n}:\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(fd)\n"
        "os.fsync = fsync\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    return _python(code, *argv)


def test_a_kill_at_the_manifests_first_fsync_leaves_a_folder_that_runs_again(cli, tmp_path: Path) -> None:
    """Killed while the manifest is being written: --resume says to run the command again
    (there is no manifest to resume), and the same command again works and leaves no temporary file."""
    out = tmp_path / "s"
    killed = _kill_at_fsync(1, "sweep", str(SMALL), "--out", str(out), "--workers", "1")
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists() and list((out / SHARDS).iterdir()) == []
    assert len(list(out.glob(".manifest.json.*.tmp"))) == 1
    resume = cli("sweep", "--resume", str(out))
    assert resume.returncode == 2 and "a sweep stopped before it began: run `ceasefire sweep EXPERIMENT --out DIR` again" in (
        resume.stderr
    )
    again = cli("sweep", str(SMALL), "--out", str(out), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert "this time: 320 runs" in again.stdout
    assert not list(out.glob(".*.tmp")) and not list((out / SHARDS).glob(".*.tmp"))
    _quiet_sweep(SMALL, tmp_path / "straight", workers=1)
    _same_results(tmp_path / "straight", out)


def test_a_kill_during_a_shard_write_leaves_a_temporary_file_that_resume_removes(cli, tmp_path: Path) -> None:
    out = tmp_path / "s"
    killed = _kill_at_fsync(5, "sweep", str(SMALL), "--out", str(out), "--workers", "1")  # at chunk 2's shard
    assert killed.returncode == -signal.SIGKILL
    left = sorted(p.name for p in (out / SHARDS).iterdir())
    assert left[1:] == ["chunk-000000.parquet", "chunk-000001.parquet"]
    assert re.fullmatch(r"\.chunk-000002\.parquet\.\d+\.tmp", left[0]), left
    resumed = cli("sweep", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert "this time: 270 runs" in resumed.stdout
    assert not list((out / SHARDS).glob(".*.tmp"))
    _quiet_sweep(SMALL, tmp_path / "straight", workers=1)
    _same_results(tmp_path / "straight", out)


# ---------------------------------------------------------------------------- one sweep per folder


def test_a_sweep_on_a_locked_folder_refuses(cli, tmp_path: Path) -> None:
    """While a sweep holds the folder (here: this test), a resume and a fresh run on it
    refuse, naming the folder, and write nothing."""
    out = tmp_path / "s"
    _quiet_sweep(SMALL, out, workers=1)
    for shard in sorted((out / SHARDS).glob("*.parquet"))[5:]:
        shard.unlink()
    before = sorted((out / SHARDS).iterdir())
    with sweep_lock(out):
        for args in (("sweep", "--resume", str(out)), ("sweep", str(SMALL), "--out", str(out))):
            proc = cli(*args)
            assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
            expected = "expected a sweep folder no other `ceasefire sweep` is writing, found one running on it"
            assert f"{out}: --out: {expected} (pid {os.getpid()})" in proc.stderr
        with pytest.raises(InputError, match="no other `ceasefire sweep` is writing"):
            _quiet_sweep(SMALL, out, workers=1)
    assert sorted((out / SHARDS).iterdir()) == before
    assert _quiet_sweep(SMALL, out, workers=1).runs_now == 320 - 125  # free again


def test_two_sweeps_at_once_one_refuses(ceasefire_exe: str, cli, tmp_path: Path) -> None:
    """A sweep stopped (SIGSTOP) part-way still holds its folder: a --resume meanwhile
    refuses; the first, continued, finishes with the straight run's results."""
    out = tmp_path / "s"
    first = subprocess.Popen(
        [ceasefire_exe, "sweep", str(KILL), "--out", str(out), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list((out / SHARDS).glob("chunk-*.parquet"))) < 2:
            time.sleep(0.005)
        first.send_signal(signal.SIGSTOP)
        partial = len(list((out / SHARDS).glob("chunk-*.parquet")))
        assert partial < 160, "the first sweep ended before it could be stopped"
        second = cli("sweep", "--resume", str(out))
        assert second.returncode == 2 and "Traceback" not in second.stderr, second.stderr
        assert f"{out}: --out: expected a sweep folder no other `ceasefire sweep` is writing" in second.stderr
        assert f"(pid {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
        assert first.wait(timeout=120) == 0
    assert cli("sweep", str(KILL), "--out", str(tmp_path / "straight"), "--workers", "1").returncode == 0
    _same_results(tmp_path / "straight", out)


# ---------------------------------------------------------------------------- full disk


def test_disk_full_mid_sweep_says_what_to_free_and_resume_is_exact(tmp_path: Path, monkeypatch, capsys) -> None:
    """ENOSPC while a shard is written (half the file there): exit 1, the folder, that it ran
    out of space, how to go on; no traceback, no temporary file; resume equals a straight run."""
    out = tmp_path / "s"
    real = pq.write_table
    shards = [0]

    def write_table(table, where, *args, **kwargs):
        if isinstance(where, (str, os.PathLike)) and Path(where).name.startswith(".chunk-"):  # a shard
            shards[0] += 1
            if shards[0] == 4:
                Path(where).write_bytes(b"PAR1 half a shard")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(pq, "write_table", write_table)
    code = main(["sweep", str(SMALL), "--out", str(out), "--workers", "1"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"ceasefire sweep: ran out of disk space writing {_shard(out, 3)} (No space left on device)" in err
    assert f"free space on the disk holding {out}, then run `ceasefire sweep --resume {out}` to go on" in err
    assert not list((out / SHARDS).glob(".*")) and done_chunks(out) == {0, 1, 2}
    monkeypatch.setattr(pq, "write_table", real)
    assert main(["sweep", "--resume", str(out), "--workers", "1"]) == 0
    _quiet_sweep(SMALL, tmp_path / "straight", workers=1)
    _same_results(tmp_path / "straight", out)


def test_disk_full_at_the_manifest_says_to_run_the_command_again(tmp_path: Path, monkeypatch, capsys) -> None:
    out = tmp_path / "s"

    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)
    assert main(["sweep", str(SMALL), "--out", str(out), "--workers", "1"]) == 1
    err = capsys.readouterr().err
    assert f"ran out of disk space writing {out / 'manifest.json'}" in err and "then run the same command again" in err
    monkeypatch.undo()
    assert main(["sweep", str(SMALL), "--out", str(out), "--workers", "1"]) == 0
    assert load_results(out).attrs["complete"]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs (the kill sweep writes ~700 KB), unmounted afterwards; skips where mounting is not allowed."""
    where = tmp_path / "disk"
    where.mkdir()
    if not sys.platform.startswith("linux") or shutil.which("mount") is None:
        pytest.skip("no mount(8) here to make a small tmpfs")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True, text=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], capture_output=True, check=False)


def test_a_real_full_disk_then_resume_after_freeing_space(cli, small_disk: Path, tmp_path: Path) -> None:
    out = small_disk / "s"
    full = cli("sweep", str(KILL), "--out", str(out), "--workers", "1")
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    assert "ceasefire sweep: ran out of disk space writing" in full.stderr
    assert f"then run `ceasefire sweep --resume {out}` to go on" in full.stderr
    assert 0 < len(done_chunks(out)) < 160
    grown = subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], capture_output=True, text=True, check=False)
    assert grown.returncode == 0, grown.stderr  # "free space"
    resumed = cli("sweep", "--resume", str(out))
    assert resumed.returncode == 0, resumed.stderr
    assert not list((out / SHARDS).glob(".*.tmp"))
    assert cli("sweep", str(KILL), "--out", str(tmp_path / "straight"), "--workers", "1").returncode == 0
    _same_results(tmp_path / "straight", out)
