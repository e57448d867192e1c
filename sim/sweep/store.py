"""A sweep folder on disk: manifest and design written first, then one Parquet shard per
finished task, each written atomically, so a sweep killed at any moment resumes with
only what is missing.

    DIR/manifest.json        experiment and scenario (with SHA-256), version, design, seeds
    DIR/design.parquet       the design points (and their unit-cube coordinates)
    DIR/shards/chunk-NNNNNN.parquet   one row per run; failed points in the file metadata
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim._version import __version__
from sim.errors import InputError, Problem
from sim.inputs.experiment import LoadedExperiment
from sim.sweep.design import DesignPoints, design_points
from sim.sweep.task import ChunkResult

MANIFEST = "manifest.json"
DESIGN = "design.parquet"
SHARDS = "shards"
FORMAT = 1


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
    (out / SHARDS).mkdir(exist_ok=True)
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
            "file": str(loaded.path.resolve()),
            "sha256": loaded.sha256,
            "definition": exp.model_dump(mode="json"),
        },
        "scenario": {"name": loaded.base.scenario.name, "file": str(loaded.base.path.resolve()), "sha256": loaded.base.sha256},
        "version": __version__,
        "design": {"method": exp.design.method, "points": len(design), "parameters": list(exp.parameters)},
        "seed": exp.seed,
        "seeds": (
            "replica r of every point draws from streams keyed by (seed, r): common random numbers across points"
            if exp.common_random_numbers
            else "point p's replica r draws from streams keyed by (SeedSequence([seed, p]), r): independent points"
        ),
        "replicas": exp.replicas,
        "runs": runs,
        "chunk": chunk,
        "chunks": math.ceil(runs / chunk),
        "metrics": list(exp.metrics),
        "groups": problem_groups,
        "units": {name: issue.units for name, issue in loaded.base.scenario.issues.items()},
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
        if not (out / DESIGN).exists():  # killed between the manifest and the design
            if problems:
                raise InputError(problems)
            _write_design(out, design)
            return old, design
        saved = pd.read_parquet(out / DESIGN)
        columns = list(design.points.columns)
        same = set(columns) <= set(saved.columns) and np.array_equal(
            saved[columns].to_numpy(), design.points.to_numpy(), equal_nan=True
        )
        if not problems and not same:
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
        (out / SHARDS).mkdir(parents=True, exist_ok=True)  # empty: nothing to resume yet
    except OSError as exc:
        raise InputError([Problem(str(out), None, "--out", "a folder that can be created", exc.strerror or str(exc))]) from None
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    atomic_bytes(out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))  # first: the folder is a sweep
    _write_design(out, design)
    return manifest, design


def _write_design(out: Path, design: DesignPoints) -> None:
    atomic_bytes(out / DESIGN, lambda tmp: _design_table(design).to_parquet(tmp, index=False))


def failed_points(out: Path) -> dict[int, str]:
    """Points that raised, with their error, from the shards' metadata."""
    failed: dict[int, str] = {}
    for path in sorted((out / SHARDS).glob("chunk-*.parquet")):
        meta = pq.read_schema(path).metadata or {}
        for point, message in json.loads(meta.get(b"ceasefire.errors", b"[]")):
            failed.setdefault(int(point), message)
    return failed
