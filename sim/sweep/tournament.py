"""The strategy tournament (Axelrod-style round robin) across scenarios, on the sweep's
machinery: every (scenario, profile) cell is a point of R replicas, pairs numbered
``cell * R + replica`` and cut into tasks whose results are verified Parquet shards
(``sim.sweep.store``), so a killed tournament resumes with only the missing cells. Run by
the sweep's executors (``sim.sweep.run``); the meta-game of one scenario is ``sim.sweep.equilibria``.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim._version import __version__
from sim.errors import InputError, Problem
from sim.inputs.scenario import LoadedScenario
from sim.inputs.schema import Scenario
from sim.sweep.equilibria import DEFAULT_STRATEGIES, check_replicas, play, strategy_sets, with_strategies
from sim.sweep.run import Progress, _dask, _local, _write_failed, choose_workers
from sim.sweep.store import (
    MANIFEST,
    WriteError,
    atomic_bytes,
    read_manifest,
    remove_temporaries,
    scan_shards,
    sweep_lock,
    write_shard,
)
from sim.sweep.task import ChunkResult

KIND = "tournament"
CELLS_PER_TASK = 16
"""Cells per task by default (a task of R = 200 replicas per cell: 3,200 runs)."""


@dataclass(frozen=True)
class Cell:
    """One (scenario, profile) of the tournament: the scenario with every belligerent's
    strategy replaced, and the strategy index each seat plays."""

    scenario: int
    profile: tuple[int, ...]
    model: Scenario


@dataclass(frozen=True)
class TournamentTask:
    """Pairs ``start .. stop-1`` and the cells they touch (by cell index)."""

    chunk: int
    start: int
    stop: int
    replicas: int
    cells: dict[int, Scenario]
    seats: int
    groups: int


def run_cells(task: TournamentTask) -> ChunkResult:
    """Run one task: per cell its replicas in the range, as ``cell``, ``replica``,
    ``payoff.s`` per seat (NaN past the cell's seats) and ``round.g`` per group (the agreed
    round from 1, 0 where no deal was made or past the cell's groups). Top level, so
    process pools and dask workers can pickle it."""
    r = task.replicas
    parts: list[dict[str, np.ndarray]] = []
    for cell, scenario in task.cells.items():
        lo, hi = max(task.start - cell * r, 0), min(task.stop - cell * r, r)
        values, agreed = play(scenario, lo, hi)
        n = hi - lo
        part = {"point": np.full(n, cell, dtype=np.int64), "replica": np.arange(lo, hi, dtype=np.int64)}
        for s in range(task.seats):
            part[f"payoff.{s}"] = values[:, s] if s < values.shape[1] else np.full(n, np.nan)
        for g in range(task.groups):
            part[f"round.{g}"] = (agreed[g] + 1 if g < len(agreed) else np.zeros(n, dtype=np.int64)).astype(np.int16)
        parts.append(part)
    columns = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return ChunkResult(task.chunk, columns, [], task.stop - task.start, task.start)


@dataclass(frozen=True)
class Tournament:
    """What a tournament plays: its scenarios (each with its seed), strategy names, replicas
    per cell and cells in order (scenario by scenario, profiles in lexicographic order)."""

    scenarios: list[LoadedScenario]
    strategies: list[str]
    replicas: int
    seed: int | None
    cells: list[Cell]
    labels: list[list[list[str]]]  # per scenario, per seat: the strategy labels

    def manifest(self, chunk: int, cases: dict[str, str]) -> dict[str, Any]:
        """What the folder records, and a resumed run must match."""
        runs = len(self.cells) * self.replicas
        return {
            "format": 1,
            "kind": KIND,
            "version": __version__,
            "strategies": self.strategies,
            "replicas": self.replicas,
            "seed": self.seed,
            "seeds": "every cell of a scenario draws from the same streams, keyed by (its seed, replica): common random numbers",
            "scenarios": [
                {
                    "name": s.scenario.name,
                    "file": str(s.path.resolve()),
                    "sha256": s.sha256,
                    "seed": self.seed if self.seed is not None else s.scenario.seed,
                    "case": cases.get(s.scenario.name),
                    "parties": list(s.scenario.belligerents),
                    "groups": list(s.scenario.agenda),
                }
                for s in self.scenarios
            ],
            "cells": len(self.cells),
            "runs": runs,
            "chunk": chunk,
            "chunks": math.ceil(runs / chunk),
        }

    @property
    def seats(self) -> int:
        return max(len(s.scenario.belligerents) for s in self.scenarios)

    @property
    def groups(self) -> int:
        return max(len(s.scenario.agenda) for s in self.scenarios)

    def tasks(self, chunk: int, skip: set[int]) -> Iterator[TournamentTask]:
        """The tasks in order, leaving out the chunks in ``skip``."""
        r, runs = self.replicas, len(self.cells) * self.replicas
        for c in range(math.ceil(runs / chunk)):
            if c not in skip:
                start, stop = c * chunk, min((c + 1) * chunk, runs)
                cells = {k: self.cells[k].model for k in range(start // r, (stop - 1) // r + 1)}
                yield TournamentTask(c, start, stop, r, cells, self.seats, self.groups)


def design(scenarios: list[LoadedScenario], strategies: list[str] | None, *, replicas: int, seed: int | None) -> Tournament:
    """The tournament's cells: per scenario, every profile of its belligerents' strategy
    sets (the names given, not the documented strategy unless named)."""
    if replicas < 2:
        raise InputError([Problem("--replicas", None, "replicas", "at least 2 replicas per cell", str(replicas))])
    if not scenarios:
        raise InputError([Problem("scenarios", None, "scenarios", "at least one scenario", "none")])
    names = list(strategies or DEFAULT_STRATEGIES)
    cells: list[Cell] = []
    labels: list[list[list[str]]] = []
    for k, loaded in enumerate(scenarios):
        check_replicas(loaded.scenario, replicas)
        scenario = loaded.scenario.model_copy(update={"replicas": replicas, **({"seed": seed} if seed is not None else {})})
        sets = [strategy_sets(scenario, names, documented=False)[p] for p in scenario.belligerents]
        labels.append([[label for label, _ in s] for s in sets])
        for chosen in itertools.product(*(enumerate(s) for s in sets)):
            profile = {p: spec for p, (_, (_, spec)) in zip(scenario.belligerents, chosen, strict=True)}
            cells.append(Cell(k, tuple(i for i, _ in chosen), with_strategies(scenario, profile)))
    return Tournament(list(scenarios), names, replicas, seed, cells, labels)


def case_names() -> dict[str, str]:
    """The bundled case files by the scenario each is about (scenario name -> case name)."""
    from sim.inputs.case import bundled_cases, load_case

    return {load_case(path).case.scenario: name for name, path in bundled_cases().items()}


def _check_same(out: Path, old: dict[str, Any], new: dict[str, Any]) -> None:
    """An InputError unless the folder's tournament is this one (exit 2)."""
    where = str(out / MANIFEST)
    if old.get("kind") != KIND:
        raise InputError([Problem(where, None, "kind", "a tournament folder (or a new one)", f"{old.get('kind', 'a sweep')}")])
    fields = {
        "strategies": lambda m: m["strategies"],
        "replicas": lambda m: m["replicas"],
        "seed": lambda m: m["seed"],
        "scenarios": lambda m: [(s["name"], s["sha256"]) for s in m["scenarios"]],
        "version": lambda m: m["version"],
        "chunk": lambda m: m["chunk"],
    }
    def shown(value: Any) -> str:
        return "each scenario's own" if value is None else str(value)

    problems = [
        Problem(where, None, field, f"the same {field} as the tournament in this folder ({shown(get(old))})",
                f"{shown(get(new))} (use a new --out to start afresh)")
        for field, get in fields.items()
        if get(old) != get(new)
    ]
    if problems:
        raise InputError(problems)


@dataclass
class TournamentReport:
    """A finished tournament: the table per strategy, its rows per (scenario, seat,
    strategy), and what this run computed."""

    table: pd.DataFrame
    rows: pd.DataFrame
    runs: int
    runs_now: int
    seconds: float


def run_tournament(
    scenarios: list[LoadedScenario],
    strategies: list[str] | None = None,
    *,
    replicas: int = 200,
    seed: int | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk: int | None = None,
    progress: Any = None,
) -> TournamentReport:
    """Play the tournament, into the folder ``out`` (resumable: only chunks without a whole
    shard are computed; a folder of a different tournament is refused) or in memory.
    ``workers``/``scheduler`` as for ``sim.sweep.run_sweep``; the table is the same bytes
    for every number of workers, chunk size and interruption."""
    plan = design(scenarios, strategies, replicas=replicas, seed=seed)
    for option, value in (("chunk", chunk), ("workers", workers)):
        if value is not None and value < 1:
            raise InputError([Problem(f"--{option}", None, option, f"a number of {option} >= 1", str(value))])
    cases = case_names()
    if out is None:
        return _play(plan, plan.manifest(chunk or CELLS_PER_TASK * replicas, cases), None, workers, scheduler, progress)
    folder = Path(out)
    with sweep_lock(folder):
        try:
            remove_temporaries(folder)  # of a killed run: the manifest's, the shards'
            if (folder / MANIFEST).exists():
                old = read_manifest(folder)
                manifest = plan.manifest(chunk or int(old.get("chunk", 0)) or CELLS_PER_TASK * replicas, cases)
                _check_same(folder, old, manifest)
            else:
                manifest = plan.manifest(chunk or CELLS_PER_TASK * replicas, cases)
                text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
                atomic_bytes(folder / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))
            return _play(plan, manifest, folder, workers, scheduler, progress)
        except WriteError as err:
            raise _write_failed(folder, err) from None


def _play(
    plan: Tournament, manifest: dict[str, Any], out: Path | None, workers: int | None, scheduler: str | None, progress: Any
) -> TournamentReport:
    columns: dict[int, dict[str, np.ndarray]] = {}
    if out is not None:
        shards, bad = scan_shards(out, manifest, tables=True)
        for path, reason in bad:
            print(f"ceasefire tournament: warning: {path}: {reason}; it is computed again", file=sys.stderr, flush=True)
        columns = {c: {k: v.to_numpy() for k, v in zip(s.table.column_names, s.table.columns, strict=True)}
                   for c, s in shards.items() if s.table is not None}
    total, size = int(manifest["runs"]), int(manifest["chunk"])
    done = sum(min((c + 1) * size, total) - c * size for c in columns)
    count = 1
    if not scheduler:
        count, why = choose_workers(workers, total - done, int(manifest["chunks"]) - len(columns))
        print(why, file=progress or sys.stderr, flush=True)
    bar = Progress(KIND, total, done, stream=progress)
    started = time.perf_counter()

    def on_result(result: ChunkResult) -> None:
        if out is not None:
            write_shard(out, result)
        columns[result.chunk] = result.columns
        bar.update(result.runs)

    pending = plan.tasks(size, set(columns))
    try:
        if scheduler:
            _dask(pending, scheduler, on_result, work=run_cells)
        else:
            _local(pending, count, on_result, work=run_cells)
    finally:
        bar.close()
    seconds = time.perf_counter() - started
    rows = tournament_rows(plan, manifest, [columns[c] for c in sorted(columns)])
    return TournamentReport(strategy_table(rows), rows, total, total - done, seconds)


def tournament_rows(plan: Tournament, manifest: dict[str, Any], parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    """One row per (scenario, seat, strategy): the mean over the cells where the seat plays
    the strategy (every opponent profile) of its mean payoff, of the agreement rate over the
    scenario's groups, and of the mean agreement round (from 1) where agreed."""
    data = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    order = np.argsort(data["point"] * plan.replicas + data["replica"], kind="stable")
    cells, r = len(plan.cells), plan.replicas
    pay = np.stack([data[f"payoff.{s}"][order] for s in range(plan.seats)], axis=-1).reshape(cells, r, plan.seats)
    when = np.stack([data[f"round.{g}"][order] for g in range(plan.groups)], axis=-1).reshape(cells, r, plan.groups)
    mean_pay = pay.mean(axis=1)  # (cells, seats)
    agreed = when > 0
    rate = agreed.mean(axis=1)  # (cells, groups)
    with np.errstate(invalid="ignore"):
        mean_round = np.where(agreed, when, 0).sum(axis=1) / agreed.sum(axis=1)  # NaN where never agreed
    rows = []
    for k, loaded in enumerate(plan.scenarios):
        info = manifest["scenarios"][k]
        mine = np.array([c.scenario == k for c in plan.cells])
        profiles = np.array([c.profile for c in plan.cells if c.scenario == k])
        n_groups = len(info["groups"])
        for seat, party in enumerate(info["parties"]):
            for s, label in enumerate(plan.labels[k][seat]):
                pick = np.flatnonzero(mine)[profiles[:, seat] == s]
                when_s = mean_round[pick, :n_groups]
                rows.append({
                    "scenario": loaded.scenario.name,
                    "case": info["case"] or "",
                    "seat": party,
                    "strategy": label,
                    "payoff": float(mean_pay[pick, seat].mean()),
                    "agreement": float(rate[pick, :n_groups].mean()),
                    "round": float(np.nanmean(when_s)) if np.isfinite(when_s).any() else np.nan,
                })
    return pd.DataFrame(rows)


def strategy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per strategy the mean of its rows over scenarios and seats; ``games`` counts the
    rows; best payoff first."""
    table = rows.groupby("strategy", sort=False).agg(
        payoff=("payoff", "mean"), agreement=("agreement", "mean"), round=("round", "mean"), games=("payoff", "size")
    )
    return table.sort_values("payoff", ascending=False, kind="stable")


def tournament(scenarios: list[LoadedScenario], strategies: list[str] | None = None, *, replicas: int = 200) -> pd.DataFrame:
    """Every strategy against every other across ``scenarios``, in memory, in this process:
    the table of ``run_tournament``."""
    import io

    return run_tournament(scenarios, strategies, replicas=replicas, workers=1, progress=io.StringIO()).table
