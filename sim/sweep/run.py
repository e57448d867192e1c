"""Running a sweep: tasks over (point, replica) pairs, executors, shards, resume.

The sweep's runs are the pairs (point p, replica r), numbered ``i = p * replicas + r``.
A task takes a contiguous range of pairs, builds each point's scenario and compiles it
for its replicas in the range, stacks those that share a structure into one batch and
runs one ``NegotiationModel`` per batch. Replica r of every point draws from streams
keyed by (experiment seed, r): points share random numbers, and no result depends on
chunking, worker count, executor or order of completion.

Each finished task becomes one Parquet shard, written atomically by the process that
drives the sweep (workers need no shared disk); the manifest and the design are written
before any shard, so a sweep killed at any moment resumes with only what is missing.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim import __version__
from sim.errors import InputError, Problem
from sim.scenario import LoadedScenario
from sim.sweep.design import DesignPoints, design_points
from sim.sweep.experiment import LoadedExperiment, apply_values, load_experiment

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
SHARDS = "shards"
FORMAT = 1


class SweepAbortedError(RuntimeError):
    """The sweep stopped before its end (a worker died); what finished is on disk."""


@dataclass(frozen=True)
class Task:
    """Pairs ``start .. stop-1`` of a sweep and what a worker needs to run them."""

    chunk: int
    start: int
    stop: int
    replicas: int
    seed: int
    base: LoadedScenario
    points: dict[int, dict[str, float]]  # the points this task touches, by index
    paths: dict[str, list[str]]  # each parameter's scenario paths
    metrics: tuple[str, ...]


@dataclass
class ChunkResult:
    """Per-pair columns of one task and the points that raised (index, message)."""

    chunk: int
    columns: dict[str, np.ndarray]
    errors: list[tuple[int, str]]
    runs: int


def _release(model: Any) -> None:
    """Let a finished model go: Mesa 3.3 keeps every model in ``Agent._ids`` (mesa#3179)."""
    import mesa

    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def _point_problems(task: Task) -> tuple[list[tuple[int, Any]], list[tuple[int, str]]]:
    """Compiled problems (point, Problem) of the task's points, and the points that raised."""
    from sim.problem import compile_problem

    compiled: list[tuple[int, Any]] = []
    errors: list[tuple[int, str]] = []
    r = task.replicas
    for point in range(task.start // r, (task.stop - 1) // r + 1):
        lo, hi = max(task.start - point * r, 0), min(task.stop - point * r, r)
        try:
            values = {path: value for name, value in task.points[point].items() for path in task.paths[name]}
            scenario = apply_values(task.base, values, f"design point {point}")
            scenario = scenario.model_copy(update={"seed": task.seed, "replicas": r})
            compiled.append((point, compile_problem(scenario, lo, hi)))
        except Exception as exc:  # a point that raises is recorded and the sweep goes on
            errors.append((point, _message(exc)))
    return compiled, errors


def _message(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _batches(compiled: list[tuple[int, Any]]) -> Iterator[list[tuple[int, Any]]]:
    """Consecutive runs of problems sharing a structure (usually one batch per task)."""
    from sim.problem import structure_key

    batch: list[tuple[int, Any]] = []
    key = None
    for point, problem in compiled:
        this = structure_key(problem.scenario)
        if batch and this != key:
            yield batch
            batch = []
        key = this
        batch.append((point, problem))
    if batch:
        yield batch


def _columns(model: Any, batch: list[tuple[int, Any]], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-pair columns of a finished batch: point, replica and the kept metrics per group."""
    from sim.results import agreed_outcomes

    p = model.problem
    columns: dict[str, np.ndarray] = {
        "point": np.concatenate([np.full(problem.replicas, point, dtype=np.int64) for point, problem in batch]),
        "replica": np.concatenate([np.arange(problem.start, problem.stop, dtype=np.int64) for _, problem in batch]),
    }
    for g, group in enumerate(p.groups):
        agreed = model.agreed_round[g] >= 0
        if "agreement" in metrics:
            columns[f"agreed.{group.name}"] = agreed
        if "round" in metrics:
            columns[f"round.{group.name}"] = np.where(agreed, model.agreed_round[g] + 1, 0).astype(np.int16)
        if "outcome" in metrics:
            outcome = agreed_outcomes(model, g)
            for j, i in enumerate(group.issues):
                columns[f"outcome.{group.name}.{p.space.names[i]}"] = outcome[:, j]
    return columns


def _run_batch(batch: list[tuple[int, Any]]) -> Any:
    """One model over the batch's stacked problems, run to the end."""
    from sim.model import NegotiationModel
    from sim.problem import stack_problems

    problems = [problem for _, problem in batch]
    model = NegotiationModel(problems[0].scenario, problem=stack_problems(problems))
    model.run()
    return model


def run_chunk(task: Task) -> ChunkResult:
    """Run one task: one batched model per structure among its points (a top-level function,
    so process pools and dask workers can pickle it)."""
    compiled, errors = _point_problems(task)
    parts: list[dict[str, np.ndarray]] = []
    for batch in _batches(compiled):
        try:
            finished = [(batch, _run_batch(batch))]
        except Exception:  # isolate the point that raises: run the batch's points one by one
            finished = []
            for item in batch:
                try:
                    finished.append(([item], _run_batch([item])))
                except Exception as exc:
                    errors.append((item[0], _message(exc)))
        for group, model in finished:
            parts.append(_columns(model, group, task.metrics))
            _release(model)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} if parts else {}
    return ChunkResult(task.chunk, columns, sorted(errors), task.stop - task.start)


# ---------------------------------------------------------------------------- files


def atomic_bytes(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename: never half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_shard(out: Path, result: ChunkResult) -> None:
    """The task's rows as ``shards/chunk-NNNNNN.parquet``; its errors in the file's metadata."""
    table = pa.table(result.columns) if result.columns else pa.table({"point": pa.array([], pa.int64())})
    meta = {b"ceasefire.errors": json.dumps(result.errors).encode(), b"ceasefire.runs": str(result.runs).encode()}
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    atomic_bytes(out / SHARDS / f"chunk-{result.chunk:06d}.parquet", lambda tmp: pq.write_table(table, tmp))


def done_chunks(out: Path) -> set[int]:
    """Chunks whose shard is on disk (shards are whole or absent)."""
    folder = out / SHARDS
    if not folder.is_dir():
        return set()
    return {int(p.stem.split("-")[1]) for p in folder.glob("chunk-*.parquet")}


def _manifest(loaded: LoadedExperiment, design: DesignPoints, chunk: int) -> dict[str, Any]:
    exp = loaded.experiment
    runs = len(design) * exp.replicas
    problem_groups = {name: list(issues) for name, issues in loaded.base.scenario.agenda.items()}
    return {
        "format": FORMAT,
        "experiment": {
            "name": exp.name,
            "question": exp.question,
            "file": str(loaded.path),
            "sha256": loaded.sha256,
            "definition": exp.model_dump(mode="json"),
        },
        "scenario": {"name": loaded.base.scenario.name, "file": str(loaded.base.path), "sha256": loaded.base.sha256},
        "version": __version__,
        "design": {"method": exp.design.method, "points": len(design), "parameters": list(exp.parameters)},
        "seed": exp.seed,
        "seeds": "replica r of every point draws from streams keyed by (seed, r): common random numbers across points",
        "replicas": exp.replicas,
        "runs": runs,
        "chunk": chunk,
        "chunks": math.ceil(runs / chunk),
        "metrics": list(exp.metrics),
        "groups": problem_groups,
    }


def _design_table(design: DesignPoints) -> pd.DataFrame:
    table = design.points.reset_index()
    if design.unit is not None:
        for j, name in enumerate(design.points.columns):
            table[f"unit.{name}"] = design.unit[:, j]
    return table


def read_manifest(out: Path) -> dict[str, Any]:
    """The manifest of the sweep in ``out``, or an InputError naming what is wrong."""
    path = out / MANIFEST
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            [Problem(str(out), None, MANIFEST, "a sweep folder (written by `ceasefire sweep`)", "no manifest")]
        ) from None
    except (OSError, ValueError) as exc:
        raise InputError([Problem(str(path), None, "", "a readable JSON manifest", str(exc))]) from None
    if data.get("format") != FORMAT:
        raise InputError([Problem(str(path), None, "format", f"{FORMAT}", repr(data.get("format")))])
    return data


def prepare(loaded: LoadedExperiment, out: Path, chunk: int | None) -> tuple[dict[str, Any], DesignPoints]:
    """Write the manifest and design into a new folder, or check that an existing sweep
    there is this one (same experiment, scenario, version and design) to resume it."""
    design = design_points(loaded)
    size = chunk if chunk is not None else loaded.experiment.chunk
    manifest = _manifest(loaded, design, size)
    if (out / MANIFEST).exists():
        old = read_manifest(out)
        where = str(out / MANIFEST)
        checks = [
            ("experiment.sha256", old["experiment"]["sha256"], manifest["experiment"]["sha256"], "the same experiment file"),
            ("scenario.sha256", old["scenario"]["sha256"], manifest["scenario"]["sha256"], "the same scenario file"),
            ("version", old["version"], manifest["version"], "the same ceasefire-sim version"),
        ]
        if chunk is not None:
            checks.append(("chunk", old["chunk"], chunk, "the chunk size the sweep started with"))
        problems = [
            Problem(where, None, field, f"{what} as the sweep in this folder ({was})", f"{now} (use a new --out to start afresh)")
            for field, was, now, what in checks
            if was != now
        ]
        saved = pd.read_parquet(out / DESIGN)
        if not problems and not np.array_equal(saved[list(design.points.columns)].to_numpy(), design.points.to_numpy()):
            problems.append(Problem(str(out / DESIGN), None, "points", "the same design points", "different points"))
        if problems:
            raise InputError(problems)
        return old, design
    if out.exists() and not out.is_dir():
        raise InputError([Problem(str(out), None, "--out", "a folder (new, empty, or a sweep to resume)", "an existing file")])
    if out.exists() and any(p for p in out.iterdir() if not p.name.startswith(".")):
        raise InputError(
            [Problem(str(out), None, "--out", "a new or empty folder, or a sweep folder to resume", "a folder with other files")]
        )
    try:
        (out / SHARDS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError([Problem(str(out), None, "--out", "a folder that can be created", exc.strerror or str(exc))]) from None
    atomic_bytes(out / DESIGN, lambda tmp: _design_table(design).to_parquet(tmp, index=False))
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_bytes(out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return manifest, design


def tasks(loaded: LoadedExperiment, design: DesignPoints, chunk: int, skip: set[int]) -> Iterator[Task]:
    """The sweep's tasks in order, leaving out the chunks in ``skip``."""
    exp = loaded.experiment
    r = exp.replicas
    runs = len(design) * r
    values = design.points.to_dict(orient="index")
    for c in range(math.ceil(runs / chunk)):
        if c in skip:
            continue
        start, stop = c * chunk, min((c + 1) * chunk, runs)
        points = {p: {str(k): float(v) for k, v in values[p].items()} for p in range(start // r, (stop - 1) // r + 1)}
        paths = {name: param.targets(name) for name, param in exp.parameters.items()}
        yield Task(c, start, stop, r, exp.seed, loaded.base, points, paths, tuple(exp.metrics))


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
) -> SweepReport:
    """Run (or resume) a sweep into ``out``: only chunks without a shard are computed.

    ``scheduler``: a dask.distributed scheduler address; otherwise local processes
    (``workers``, default: the machine's cores; 1 runs in this process).
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

    pending = tasks(loaded, design, size, skip)
    try:
        if scheduler:
            _dask(pending, scheduler, on_result)
        else:
            _local(pending, workers or default_workers(), on_result)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    return SweepReport(out, len(design), total, total - done_runs, seconds, failed_points(out))


def failed_points(out: Path) -> dict[int, str]:
    """Points that raised, with their error, from the shards' metadata."""
    failed: dict[int, str] = {}
    for path in sorted((out / SHARDS).glob("chunk-*.parquet")):
        meta = pq.read_schema(path).metadata or {}
        for point, message in json.loads(meta.get(b"ceasefire.errors", b"[]")):
            failed.setdefault(int(point), message)
    return failed
