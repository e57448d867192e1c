"""One task of a sweep: a contiguous range of (point, replica) pairs run as stacked batches.

Pairs are numbered ``i = point * replicas + replica``. A task builds each of its points'
scenarios and cuts its range into blocks sized from the task's memory budget
(``sim.engine.blocks``); in each block it compiles each point for its replicas there,
stacks those sharing a structure into one batch and runs one ``NegotiationModel`` per
batch. Replica r of every point
draws from streams keyed by (its point's seed, r), by default the experiment's seed for
every point, so no result depends on how pairs are cut into tasks. ``run_chunk`` is top
level so process pools and dask workers can pickle it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim.errors import InputError
from sim.inputs.experiment import LoadedExperiment

if TYPE_CHECKING:
    from sim.core.batch import Batch
    from sim.engine.model import NegotiationModel
    from sim.inputs.schema import Scenario


@dataclass(frozen=True)
class Task:
    """Pairs ``start .. stop-1`` of a sweep and what a worker needs to run them."""

    chunk: int
    start: int
    stop: int
    loaded: LoadedExperiment
    points: dict[int, dict[str, float]]  # the values of the points this task touches, by index
    memory_budget: int | None = None  # bytes a block may take (default: sim.engine.blocks.memory_budget())


@dataclass
class ChunkResult:
    """Per-pair columns of one task (pairs ``start .. start+runs-1``) and the points that
    raised (index, message)."""

    chunk: int
    columns: dict[str, np.ndarray]
    errors: list[tuple[int, str]]
    runs: int
    start: int


def die_with_parent(parent: int) -> None:
    """Initializer of a local pool worker: end it when the sweep process that started it
    (``parent``) is gone, even by SIGKILL, instead of running on reparented to init. On
    Linux the kernel sends SIGKILL (prctl PR_SET_PDEATHSIG); everywhere a daemon thread
    checks the parent once a second (also covering a parent gone before the prctl)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # the thread below still watches
    if os.getppid() != parent:
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="die-with-parent", daemon=True).start()


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(1)  # no cleanup to do: the sweep process writes every result


def _point_scenarios(task: Task) -> tuple[dict[int, Scenario], dict[int, str]]:
    """Each of the task's points as a scenario, and the points that raised (index -> message)."""
    scenarios: dict[int, Scenario] = {}
    errors: dict[int, str] = {}
    for point, values in task.points.items():
        try:
            scenarios[point] = task.loaded.point_scenario(point, values)
        except Exception as exc:  # a point that raises is recorded and the sweep goes on
            errors[point] = _message(exc)
    return scenarios, errors


def _block_batches(
    task: Task, scenarios: dict[int, Scenario], lo: int, hi: int, errors: dict[int, str]
) -> list[tuple[int, Batch]]:
    """Compiled batches (point, Batch) of pairs ``lo .. hi-1``; points that raise join ``errors``."""
    from sim.engine.compile import compile_batch

    compiled: list[tuple[int, Batch]] = []
    r = task.loaded.experiment.replicas
    for point in range(lo // r, (hi - 1) // r + 1):
        if point not in scenarios or point in errors:
            continue
        first, last = max(lo - point * r, 0), min(hi - point * r, r)
        try:
            compiled.append((point, compile_batch(scenarios[point], first, last)))
        except Exception as exc:
            errors[point] = _message(exc)
    return compiled


def _message(exc: BaseException) -> str:
    if isinstance(exc, InputError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _batches(compiled: list[tuple[int, Batch]]) -> Iterator[list[tuple[int, Batch]]]:
    """Consecutive runs of batches sharing a structure (usually one batch per task)."""
    batch: list[tuple[int, Batch]] = []
    key = None
    for point, problem in compiled:
        this = problem.structure
        if batch and this != key:
            yield batch
            batch = []
        key = this
        batch.append((point, problem))
    if batch:
        yield batch


def _columns(model: NegotiationModel, batch: list[tuple[int, Batch]], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Per-pair columns of a finished batch: point, replica and the kept metrics per group."""
    from sim.results import agreed_outcomes

    p = model.batch
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


def _run_batch(batch: list[tuple[int, Batch]]) -> NegotiationModel:
    """One model over the batch's stacked batches, run to the end (no trace: the metrics
    read the results alone)."""
    from sim.core.batch import stack_batches
    from sim.engine.model import NegotiationModel

    problems = [problem for _, problem in batch]
    model = NegotiationModel(stack_batches(problems), trace=False)
    model.run_model()
    return model


def run_chunk(task: Task) -> ChunkResult:
    """Run one task: block by block, one batched model per structure among its points (a
    top-level function, so process pools and dask workers can pickle it). A point that
    raises anywhere in the task has no rows, as if its replicas had run in one model."""
    from sim.engine.blocks import block_size, memory_budget, release, spans

    scenarios, errors = _point_scenarios(task)
    budget = memory_budget() if task.memory_budget is None else task.memory_budget
    size = min((block_size(s, budget) for s in scenarios.values()), default=1)
    parts: list[dict[str, np.ndarray]] = []
    for lo, hi in spans(task.start, task.stop, size):
        for batch in _batches(_block_batches(task, scenarios, lo, hi, errors)):
            try:
                finished = [(batch, _run_batch(batch))]
            except Exception:  # isolate the point that raises: run the batch's points one by one
                finished = []
                for item in batch:
                    try:
                        finished.append(([item], _run_batch([item])))
                    except Exception as exc:
                        errors.setdefault(item[0], _message(exc))
            for group, model in finished:
                parts.append(_columns(model, group, tuple(task.loaded.experiment.metrics)))
                release(model)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]} if parts else {}
    if columns and errors:
        keep = ~np.isin(columns["point"], list(errors))
        columns = {key: value[keep] for key, value in columns.items()} if keep.any() else {}
    return ChunkResult(task.chunk, columns, sorted(errors.items()), task.stop - task.start, task.start)
