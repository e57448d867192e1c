"""Running a sweep: tasks over (point, replica) pairs on local processes or a dask
cluster, bounded in flight, each result written as a shard by this process (workers need
no shared disk), with progress on a terminal or in log lines.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import InputError, Problem
from sim.inputs.experiment import LoadedExperiment, load_experiment
from sim.sweep.design import DesignPoints
from sim.sweep.store import MANIFEST, WriteError, prepare, scan_shards, shard_chunk, sweep_lock, write_shard
from sim.sweep.task import ChunkResult, Task, die_with_parent, run_chunk

SCHEDULER_TIMEOUT = 10.0  # seconds to reach a dask scheduler and complete its handshake


class SweepAbortedError(RuntimeError):
    """The sweep stopped before its end (a worker died, the disk filled); what finished is on disk."""


def _is_sweep(out: Path) -> bool:
    """Whether ``out`` holds a sweep's manifest (not another kind's, such as a tournament's,
    which goes on by running its own command again)."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") is None


def _write_failed(out: Path, err: WriteError) -> SweepAbortedError:
    """The message of a write into the sweep folder that failed: what, where, how to go on."""
    again = f"run `ceasefire sweep --resume {out}`" if _is_sweep(out) else "run the same command again"
    if err.full:
        return SweepAbortedError(
            f"ran out of disk space writing {err.path} ({err.reason}); finished chunks are saved in {out}: "
            f"free space on the disk holding {out}, then {again} to go on"
        )
    return SweepAbortedError(
        f"could not write {err.path} ({err.reason}); finished chunks are saved in {out}: "
        f"once {out} can be written again, {again} to go on"
    )


def tasks(
    loaded: LoadedExperiment, design: DesignPoints, chunk: int, skip: set[int], memory_budget: int | None = None
) -> Iterator[Task]:
    """The sweep's tasks in order, leaving out the chunks in ``skip``; each runs its pairs in
    blocks within ``memory_budget`` bytes (default: ``sim.engine.blocks.memory_budget()``)."""
    exp = loaded.experiment
    r = exp.replicas
    runs = len(design) * r
    values = design.points.to_dict(orient="index")
    for c in range(math.ceil(runs / chunk)):
        if c in skip:
            continue
        start, stop = c * chunk, min((c + 1) * chunk, runs)
        points = {p: {str(k): float(v) for k, v in values[p].items()} for p in range(start // r, (stop - 1) // r + 1)}
        yield Task(c, start, stop, loaded, points, memory_budget)


# ---------------------------------------------------------------------------- progress


class Progress:
    """A bar with rate and ETA on a terminal (tqdm); plain log lines every 10 s otherwise."""

    def __init__(self, name: str, total: int, done: int, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.done, self.name = total, done, name
        self.started = time.monotonic()
        self.first = done
        self.last_log = 0.0
        self.bar: Any = None
        if getattr(self.stream, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, unit="run", desc=name, file=self.stream, unit_scale=True)
        else:
            self.log(force=True)

    def log(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_log < 10.0 and self.done < self.total:
            return
        self.last_log = now
        elapsed = now - self.started
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        eta = f", ETA {(self.total - self.done) / rate:,.0f} s" if rate > 0 and self.done < self.total else ""
        share = 100.0 * self.done / self.total if self.total else 100.0
        print(
            f"sweep {self.name}: {self.done:,}/{self.total:,} runs ({share:.0f}%), {rate:,.0f} runs/s{eta}",
            file=self.stream,
            flush=True,
        )

    def update(self, runs: int) -> None:
        self.done += runs
        if self.bar is not None:
            self.bar.update(runs)
        elif self.done < self.total:
            self.log()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        else:
            self.log(force=True)


# ---------------------------------------------------------------------------- executors


def _bounded(
    submit: Callable[[Task], Any], wait_one: Callable[[set[Any]], tuple[Any, set[Any]]], pending_tasks: Iterator[Task], limit: int
) -> Iterator[Any]:
    """Keep at most ``limit`` tasks in flight; yield each finished future."""
    in_flight: set[Any] = set()
    for task in pending_tasks:
        in_flight.add(submit(task))
        if len(in_flight) >= limit:
            done, in_flight = wait_one(in_flight)
            yield done
    while in_flight:
        done, in_flight = wait_one(in_flight)
        yield done


def _local(
    pending: Iterator[Any], workers: int, on_result: Callable[[ChunkResult], None], work: Callable[[Any], ChunkResult] = run_chunk
) -> None:
    if workers == 1:
        for task in pending:
            on_result(work(task))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    def wait_one(in_flight: set[Any]) -> tuple[Any, set[Any]]:
        done, rest = wait(in_flight, return_when=FIRST_COMPLETED)
        first = next(iter(done))
        return first, (rest | done) - {first}

    context = multiprocessing.get_context("spawn")  # Mesa sets spawn anyway; say so explicitly
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )  # workers end with this process, even when it is killed
    try:
        for future in _bounded(lambda t: pool.submit(work, t), wait_one, pending, 2 * workers):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise SweepAbortedError(
                    "a worker process died (out of memory or killed); finished chunks are saved: "
                    "run the same command again, or `ceasefire sweep --resume DIR`, to go on"
                ) from None
            on_result(result)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)  # stopping: start no queued task
        raise
    pool.shutdown(wait=True)


def _check_scheduler(address: str, timeout: float) -> None:
    """Connect to ``address`` and complete dask's handshake within ``timeout`` seconds, or
    raise an InputError. ``Client(timeout=...)`` bounds the connection but not the handshake
    (dask/distributed#8071): a port that accepts and never answers (a web server, the
    dashboard) would hang it forever."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:
        comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
        await comm.close()

    def problem(found: str) -> InputError:
        return InputError([Problem("--scheduler", None, "scheduler", "the address of a running dask scheduler", found)])

    with ThreadPoolExecutor(1) as thread:  # its own event loop, even if the caller runs one (Jupyter)
        try:
            thread.submit(asyncio.run, asyncio.wait_for(probe(), timeout)).result()
        except TimeoutError:  # asyncio.TimeoutError is TimeoutError from 3.11
            raise problem(f"{address} (no dask scheduler answered within {timeout:g} s: is it the scheduler's port?)") from None
        except Exception as exc:  # refused, unreachable, a malformed address, not dask's protocol
            raise problem(f"{address} ({exc or type(exc).__name__})") from None


def _dask(
    pending: Iterator[Any], address: str, on_result: Callable[[ChunkResult], None], work: Callable[[Any], ChunkResult] = run_chunk
) -> None:
    try:
        from distributed import Client, wait
    except ImportError:
        raise InputError(
            [
                Problem(
                    "--scheduler",
                    None,
                    "scheduler",
                    "dask.distributed installed (pip install 'ceasefire-sim[distributed]')",
                    "it is not installed",
                )
            ]
        ) from None
    _check_scheduler(address, SCHEDULER_TIMEOUT)
    try:
        client = Client(address, timeout=SCHEDULER_TIMEOUT, set_as_default=False)
    except OSError as exc:
        raise InputError(
            [Problem("--scheduler", None, "scheduler", "the address of a running dask scheduler", f"{address} ({exc})")]
        ) from None
    with client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))

        def wait_one(in_flight: set[Any]) -> tuple[Any, set[Any]]:
            with client.as_current():  # the sweep's own client, never set as the default
                done, _ = wait(in_flight, return_when="FIRST_COMPLETED")
            first = next(iter(done))
            return first, in_flight - {first}

        # the same bounded loop as local processes: memory stays flat however many tasks
        for future in _bounded(lambda t: client.submit(work, t, pure=False), wait_one, pending, 2 * workers):
            result = future.result()
            future.release()
            on_result(result)


@dataclass
class SweepReport:
    """What a finished (or resumed) sweep did."""

    out: Path
    points: int
    runs: int
    runs_now: int
    seconds: float
    failed: dict[int, str]


def default_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _set_aside(path: Path, reason: str, chunks: int) -> None:
    """Move a file that is not a whole shard out of the shards' name space, saying so on stderr."""
    aside = path.with_name(path.name + ".rejected")
    try:
        os.replace(path, aside)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    chunk = shard_chunk(path.name)
    then = f"chunk {chunk} will be computed again" if chunk is not None and chunk < chunks else "it is not counted"
    print(f"ceasefire sweep: warning: {path}: {reason}; moved to {aside.name}, {then}", file=sys.stderr, flush=True)

IN_PROCESS_BELOW = 200_000
"""Sweeps with fewer runs left than this run in this process unless ``workers`` says
otherwise: below it, starting worker processes (each imports the package afresh: 2 s on a
quiet 2-core machine, up to 14 s on a busy one) costs about what they save, or more
(measured break-even: about 100,000 runs on a quiet machine, 200,000 on a busy one;
``benchmarks/README.md``)."""


def choose_workers(workers: int | None, runs: int, chunks: int) -> tuple[int, str]:
    """The number of local processes for ``runs`` runs left in ``chunks`` chunks, and why.

    Examples
    --------
    >>> choose_workers(None, 13_000, 4)
    (1, 'running in this process: 13,000 runs is below 200,000')
    >>> choose_workers(3, 13_000, 2)
    (2, '2 worker processes (--workers 3, one per chunk left)')
    """
    if workers is None and runs < IN_PROCESS_BELOW:
        return 1, f"running in this process: {runs:,} runs is below {IN_PROCESS_BELOW:,}"
    asked = workers or default_workers()
    count = max(1, min(asked, chunks))  # no idle processes
    if count == 1:
        return 1, "running in this process" + (" (--workers 1)" if workers == 1 else f" ({chunks} chunk left)")
    given = f"--workers {workers}" if workers else f"{asked} cores, {runs:,} runs"
    return count, f"{count} worker processes ({given}{', one per chunk left' if count < asked else ''})"


def run_sweep(
    experiment: str | Path | LoadedExperiment,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk: int | None = None,
    progress: Any = None,
    memory_budget: int | None = None,
) -> SweepReport:
    """Run (or resume) a sweep into ``out``: only chunks without a whole shard are computed.

    ``scheduler``: a dask.distributed scheduler address; otherwise local processes
    (``workers``; 1 runs in this process; by default ``choose_workers`` picks this process
    for small sweeps, else the machine's cores, and says why on the progress stream).
    Each task runs its pairs in blocks within ``memory_budget`` bytes (default:
    $CEASEFIRE_MEMORY_BUDGET as this process reads it, else 512 MiB), with the same shards
    for every budget. The folder is locked for the sweep's life: a second sweep on it
    raises an InputError. A file in ``shards/`` that is not a whole shard of this sweep is
    moved aside (``.rejected``) with a warning on stderr and its chunk computed again. A
    write that fails (disk full) raises SweepAbortedError saying how to go on.
    """
    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    out = Path(out)
    if workers is not None and workers < 1:
        raise InputError([Problem("--workers", None, "workers", "a number of workers >= 1", str(workers))])
    if chunk is not None and chunk < 1:
        raise InputError([Problem("--chunk", None, "chunk", "a number of runs per task >= 1", str(chunk))])
    with sweep_lock(out):
        try:
            return _run_locked(loaded, out, workers, scheduler, chunk, progress, memory_budget)
        except WriteError as err:
            raise _write_failed(out, err) from None


def _run_locked(
    loaded: LoadedExperiment,
    out: Path,
    workers: int | None,
    scheduler: str | None,
    chunk: int | None,
    progress: Any,
    memory_budget: int | None,
) -> SweepReport:
    manifest, design = prepare(loaded, out, chunk)
    size = int(manifest["chunk"])
    shards, bad = scan_shards(out, manifest)
    for path, reason in bad:
        _set_aside(path, reason, int(manifest["chunks"]))
    skip = set(shards)
    failed: dict[int, str] = {}
    for c in sorted(shards):
        for point, message in shards[c].errors:
            failed.setdefault(point, message)
    r = loaded.experiment.replicas
    total = len(design) * r
    done_runs = sum(min((c + 1) * size, total) - c * size for c in skip)
    if not scheduler:
        count, why = choose_workers(workers, total - done_runs, int(manifest["chunks"]) - len(skip))
        print(why, file=progress or sys.stderr, flush=True)
    bar = Progress(loaded.experiment.name, total, done_runs, stream=progress)
    started = time.perf_counter()

    def on_result(result: ChunkResult) -> None:
        write_shard(out, result)
        for point, message in result.errors:
            failed.setdefault(point, message)
        bar.update(result.runs)

    if memory_budget is None:
        from sim.engine.blocks import memory_budget as default_budget

        memory_budget = default_budget()  # read here, so every worker uses the driver's
    pending = tasks(loaded, design, size, skip, memory_budget)
    try:
        if scheduler:
            _dask(pending, scheduler, on_result)
        else:
            _local(pending, count, on_result)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    return SweepReport(out, len(design), total, total - done_runs, seconds, dict(sorted(failed.items())))
