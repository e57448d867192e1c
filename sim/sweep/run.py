"""Running a sweep: tasks over (point, replica) pairs on local processes or a dask
cluster, bounded in flight, each result written as a shard by this process (workers need
no shared disk), with progress on a terminal or in log lines.
"""

from __future__ import annotations

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
from sim.sweep.store import done_chunks, failed_points, prepare, write_shard
from sim.sweep.task import ChunkResult, Task, run_chunk


class SweepAbortedError(RuntimeError):
    """The sweep stopped before its end (a worker died); what finished is on disk."""


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


def _local(pending: Iterator[Task], workers: int, on_result: Callable[[ChunkResult], None]) -> None:
    if workers == 1:
        for task in pending:
            on_result(run_chunk(task))
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    def wait_one(in_flight: set[Any]) -> tuple[Any, set[Any]]:
        done, rest = wait(in_flight, return_when=FIRST_COMPLETED)
        first = next(iter(done))
        return first, (rest | done) - {first}

    context = multiprocessing.get_context("spawn")  # Mesa sets spawn anyway; say so explicitly
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for future in _bounded(lambda t: pool.submit(run_chunk, t), wait_one, pending, 2 * workers):
            try:
                result = future.result()
            except BrokenProcessPool:
                raise SweepAbortedError(
                    "a worker process died (out of memory or killed); finished chunks are saved: "
                    "run the same command again, or `ceasefire sweep --resume DIR`, to go on"
                ) from None
            on_result(result)


def _dask(pending: Iterator[Task], address: str, on_result: Callable[[ChunkResult], None]) -> None:
    try:
        from distributed import Client, as_completed
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
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except OSError as exc:
        raise InputError(
            [Problem("--scheduler", None, "scheduler", "the address of a running dask scheduler", f"{address} ({exc})")]
        ) from None
    with client:
        workers = max(1, len(client.scheduler_info().get("workers", {})))

        finished = as_completed(loop=client.loop)
        in_flight = 0

        def take() -> None:
            future = next(finished)
            result = future.result()
            future.release()
            on_result(result)

        for task in pending:
            finished.add(client.submit(run_chunk, task, pure=False))
            in_flight += 1
            if in_flight >= 2 * workers:  # bounded: memory stays flat however many tasks
                take()
                in_flight -= 1
        for _ in range(in_flight):
            take()


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
    """Run (or resume) a sweep into ``out``: only chunks without a shard are computed.

    ``scheduler``: a dask.distributed scheduler address; otherwise local processes
    (``workers``, default: the machine's cores; 1 runs in this process). Each task runs
    its pairs in blocks within ``memory_budget`` bytes (default: $CEASEFIRE_MEMORY_BUDGET
    as this process reads it, else 512 MiB), with the same shards for every budget.
    """
    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    out = Path(out)
    if workers is not None and workers < 1:
        raise InputError([Problem("--workers", None, "workers", "a number of workers >= 1", str(workers))])
    if chunk is not None and chunk < 1:
        raise InputError([Problem("--chunk", None, "chunk", "a number of runs per task >= 1", str(chunk))])
    manifest, design = prepare(loaded, out, chunk)
    size = int(manifest["chunk"])
    skip = done_chunks(out)
    r = loaded.experiment.replicas
    total = len(design) * r
    done_runs = sum(min((c + 1) * size, total) - c * size for c in skip)
    bar = Progress(loaded.experiment.name, total, done_runs, stream=progress)
    started = time.perf_counter()

    def on_result(result: ChunkResult) -> None:
        write_shard(out, result)
        bar.update(result.runs)

    if memory_budget is None:
        from sim.engine.blocks import memory_budget as default_budget

        memory_budget = default_budget()  # read here, so every worker uses the driver's
    pending = tasks(loaded, design, size, skip, memory_budget)
    try:
        if scheduler:
            _dask(pending, scheduler, on_result)
        else:
            left = int(manifest["chunks"]) - len(skip)
            _local(pending, max(1, min(workers or default_workers(), left)), on_result)  # no idle processes
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    return SweepReport(out, len(design), total, total - done_runs, seconds, failed_points(out))
