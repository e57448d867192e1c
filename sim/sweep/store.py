"""A sweep folder on disk: manifest and design written first, then one Parquet shard per
finished task, each written atomically, so a sweep killed at any moment resumes with
only what is missing.

    DIR/manifest.json        experiment and scenario (with SHA-256), version, design, seeds
    DIR/design.parquet       the design points (and their unit-cube coordinates)
    DIR/shards/chunk-NNNNNN.parquet   one row per run; failed points in the file metadata
    DIR/.lock                held (flock) by the one ``ceasefire sweep`` writing the folder

A shard's metadata records its chunk, its run range (first, last), its row count and a
SHA-256 of its columns; a shard counts as done only if it reads back whole and matches
the manifest. Temporary files of a killed sweep (``.NAME.PID.tmp``) are removed when the
folder is next run, under the lock.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
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
LOCK = ".lock"
FORMAT = 1
SHARD_NAME = re.compile(r"chunk-(\d{6,})\.parquet")
# our temporary files (atomic_bytes): the manifest's, the design's and the shards'
TEMP_NAME = re.compile(r"\.(manifest\.json|design\.parquet|chunk-\d{6,}\.parquet)\.\d+\.tmp")


class WriteError(Exception):
    """Writing into a sweep folder failed (disk full, quota, I/O error); what finished is saved."""

    def __init__(self, path: Path, exc: OSError) -> None:
        self.path = path
        self.full = exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))  # out of space or quota
        self.reason = exc.strerror or str(exc)
        super().__init__(f"{path}: {self.reason}")


class ShardError(Exception):
    """A file in ``shards/`` that is not a whole shard of this sweep (the reason)."""


def atomic_bytes(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file in the same folder, then rename: never half a file.
    An OSError (disk full, quota, I/O error) comes out as a WriteError naming the file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(path, exc) from exc
    finally:
        with suppress(OSError):  # else removed on the next run (remove_temporaries)
            tmp.unlink(missing_ok=True)


def shard_path(out: Path, chunk: int) -> Path:
    """Where chunk ``chunk``'s shard is written."""
    return out / SHARDS / f"chunk-{chunk:06d}.parquet"


def shard_chunk(name: str) -> int | None:
    """The chunk a file name is the shard of (``chunk-000012.parquet``: 12), else None."""
    match = SHARD_NAME.fullmatch(name)
    chunk = int(match.group(1)) if match else None
    return chunk if chunk is not None and name == f"chunk-{chunk:06d}.parquet" else None


def checksum(table: pa.Table) -> str:
    """SHA-256 of a table's column names, types and values (not its metadata)."""
    digest = hashlib.sha256()
    for name, column in zip(table.column_names, table.columns, strict=True):
        digest.update(f"{name}\0{column.type}\0".encode())
        digest.update(np.ascontiguousarray(column.to_numpy()).tobytes())
    return digest.hexdigest()


def write_shard(out: Path, result: ChunkResult) -> None:
    """The task's rows as ``shards/chunk-NNNNNN.parquet``; its errors, chunk, run range, row
    count and checksum in the file's metadata (the columns are the task's, unchanged)."""
    table = pa.table(result.columns) if result.columns else pa.table({"point": pa.array([], pa.int64())})
    meta = {
        b"ceasefire.errors": json.dumps(result.errors).encode(),
        b"ceasefire.runs": str(result.runs).encode(),
        b"ceasefire.chunk": str(result.chunk).encode(),
        b"ceasefire.first": str(result.start).encode(),
        b"ceasefire.last": str(result.start + result.runs - 1).encode(),
        b"ceasefire.rows": str(table.num_rows).encode(),
        b"ceasefire.sha256": checksum(table).encode(),
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
    try:
        (out / SHARDS).mkdir(exist_ok=True)
    except OSError as exc:
        raise WriteError(out / SHARDS, exc) from exc
    atomic_bytes(shard_path(out, result.chunk), lambda tmp: pq.write_table(table, tmp))


@dataclass
class Shard:
    """A shard that read back whole and matches the manifest."""

    chunk: int
    path: Path
    errors: list[tuple[int, str]]
    table: pa.Table | None  # None unless asked for


def chunk_range(manifest: dict[str, Any], chunk: int) -> tuple[int, int]:
    """The (first, last) run of a chunk, runs numbered point * replicas + replica."""
    size, runs = int(manifest["chunk"]), int(manifest["runs"])
    return chunk * size, min((chunk + 1) * size, runs) - 1


def read_shard(path: Path, manifest: dict[str, Any]) -> tuple[int, pa.Table, list[tuple[int, str]]]:
    """A shard's chunk, table and failed points, or ShardError saying why it is not a whole
    shard of this sweep: its name, its metadata (chunk, run range, rows, checksum) and its
    (point, replica) pairs, which with its failed points must be exactly its chunk's runs."""
    chunk = shard_chunk(path.name)
    if chunk is None:
        raise ShardError("not a shard's name (chunk-NNNNNN.parquet)")
    if chunk >= int(manifest["chunks"]):
        raise ShardError(f"chunk {chunk} is past the sweep's last chunk ({int(manifest['chunks']) - 1})")
    if not path.is_file():
        raise ShardError("not a file")
    try:
        table = pq.read_table(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ShardError(f"unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None
    meta = table.schema.metadata or {}
    first, last = chunk_range(manifest, chunk)
    try:
        errors = [(int(p), str(m)) for p, m in json.loads(meta.get(b"ceasefire.errors", b"[]"))]
        runs = int(meta[b"ceasefire.runs"])
        keys = ("chunk", "first", "last", "rows")  # absent from shards written before they were recorded
        recorded = {key: int(meta[f"ceasefire.{key}".encode()]) for key in keys if f"ceasefire.{key}".encode() in meta}
    except (KeyError, ValueError, TypeError) as exc:
        raise ShardError(f"no readable ceasefire metadata ({exc})") from None
    expected = {"chunk": chunk, "first": first, "last": last, "rows": table.num_rows, "runs": last - first + 1}
    recorded["runs"] = runs
    wrong = [f"{key} {recorded[key]}, not {expected[key]}" for key in recorded if recorded[key] != expected[key]]
    if wrong:
        raise ShardError(f"its metadata does not match chunk {chunk} (runs {first}..{last}): {'; '.join(wrong)}")
    data = table.replace_schema_metadata(None)
    sha = meta.get(b"ceasefire.sha256")
    if sha is not None and sha.decode() != checksum(data):
        raise ShardError("its columns do not match the checksum written with them (damaged)")
    r = int(manifest["replicas"])
    if table.num_rows:
        if "replica" not in table.column_names or "point" not in table.column_names:
            raise ShardError("no point and replica columns")
        pairs = table["point"].to_numpy() * r + table["replica"].to_numpy()
    else:
        pairs = np.empty(0, dtype=np.int64)
    failed = [np.arange(max(p * r, first), min((p + 1) * r - 1, last) + 1) for p, _ in errors]
    covered = np.sort(np.concatenate([pairs, *failed]))
    if not np.array_equal(covered, np.arange(first, last + 1)):
        raise ShardError(f"its (point, replica) pairs are not chunk {chunk}'s runs {first}..{last}")
    return chunk, data, errors


def scan_shards(out: Path, manifest: dict[str, Any], tables: bool = False) -> tuple[dict[int, Shard], list[tuple[Path, str]]]:
    """The sweep's whole shards by chunk (with their tables if asked), and the files in
    ``shards/`` named like shards that are not, with the reason for each."""
    good: dict[int, Shard] = {}
    bad: list[tuple[Path, str]] = []
    folder = out / SHARDS
    if not folder.is_dir():
        return good, bad
    for path in sorted(folder.glob("chunk-*.parquet")):
        try:
            chunk, table, errors = read_shard(path, manifest)
        except ShardError as exc:
            bad.append((path, str(exc)))
            continue
        good[chunk] = Shard(chunk, path, errors, table if tables else None)
    return good, bad


def done_chunks(out: Path, manifest: dict[str, Any] | None = None) -> set[int]:
    """Chunks whose shard is on disk, whole and matching the manifest."""
    if not (out / SHARDS).is_dir():
        return set()
    return set(scan_shards(out, manifest if manifest is not None else read_manifest(out))[0])


def remove_temporaries(out: Path) -> list[Path]:
    """Remove the temporary files (``.NAME.PID.tmp``) a killed sweep left in ``out`` and its
    shards; call it only holding the folder's lock (no other sweep is writing them)."""
    removed = []
    for folder in (out, out / SHARDS):
        if folder.is_dir():
            for path in folder.iterdir():
                if TEMP_NAME.fullmatch(path.name) and path.is_file():
                    try:
                        path.unlink(missing_ok=True)
                    except OSError as exc:
                        raise WriteError(path, exc) from exc
                    removed.append(path)
    return removed


def _leftovers_only(out: Path) -> bool:
    """Whether everything in ``out`` is hidden (our lock and temporary files among them) or an
    empty ``shards/`` (or one holding only our temporary files): a sweep killed before its
    manifest was written, which may start again."""
    for entry in out.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.name == SHARDS and entry.is_dir() and all(TEMP_NAME.fullmatch(p.name) for p in entry.iterdir()):
            continue
        return False
    return True


@contextmanager
def sweep_lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` (an exclusive flock) while a sweep writes the folder, so a second
    ``ceasefire sweep`` on it refuses instead of writing too. Creates ``out`` if new."""
    _check_out(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        found = exc.strerror or str(exc)
        raise InputError([Problem(str(out), None, "--out", "a folder that can be created and written", found)]) from None
    try:
        try:
            import fcntl
        except ImportError:  # not a POSIX system: no lock
            pass
        else:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                running = f"one running on it{f' (pid {holder})' if holder.isdigit() else ''}"
                raise InputError(
                    [
                        Problem(
                            str(out),
                            None,
                            "--out",
                            "a sweep folder no other `ceasefire sweep` is writing",
                            f"{running}; wait for it to end, or stop it, then run this again",
                        )
                    ]
                ) from None
        with suppress(OSError):  # the pid is for that message only: a full disk must not stop the sweep here
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a sweep waiting on it)


def _check_out(out: Path) -> None:
    """An InputError unless ``out`` is new, empty, a sweep folder or what a killed sweep left."""
    if out.exists() and not out.is_dir():
        raise InputError([Problem(str(out), None, "--out", "a folder (new, empty, or a sweep to resume)", "an existing file")])
    if out.is_dir() and not (out / MANIFEST).exists() and not _leftovers_only(out):
        raise InputError(
            [Problem(str(out), None, "--out", "a new or empty folder, or a sweep folder to resume", "a folder with other files")]
        )


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
        found = "no manifest"
        if out.is_dir() and any(out.iterdir()) and _leftovers_only(out):
            found += " (a sweep stopped before it began: run `ceasefire sweep EXPERIMENT --out DIR` again)"
        raise InputError([Problem(str(out), None, MANIFEST, "a sweep folder (written by `ceasefire sweep`)", found)]) from None
    except (OSError, ValueError) as exc:
        raise InputError([Problem(str(path), None, "", "a readable JSON manifest", str(exc))]) from None
    if data.get("format") != FORMAT:
        raise InputError([Problem(str(path), None, "format", f"{FORMAT}", repr(data.get("format")))])
    return data


def read_sweep_manifest(out: Path) -> dict[str, Any]:
    """``read_manifest`` of a sweep's own folder: an InputError for a folder of another
    kind written through the same store (a tournament's), naming the command that goes on with it."""
    data = read_manifest(out)
    kind = data.get("kind")
    if kind is not None:
        found = f"a {kind} folder: go on with it by running `ceasefire {kind}` with the same arguments and --out"
        raise InputError([Problem(str(out / MANIFEST), None, "kind", "a sweep folder (written by `ceasefire sweep`)", found)])
    return data


def prepare(loaded: LoadedExperiment, out: Path, chunk: int | None) -> tuple[dict[str, Any], DesignPoints]:
    """Write the manifest and design into a new folder, or check that an existing sweep
    there is this one (same experiment, scenario, version and design) to resume it.
    Call it holding the folder's lock (sweep_lock): it removes stale temporary files."""
    design = design_points(loaded)
    size = chunk if chunk is not None else loaded.experiment.chunk
    manifest = _manifest(loaded, design, size)
    if out.is_dir():
        remove_temporaries(out)  # of a killed sweep: the manifest's, the design's, the shards'
    if (out / MANIFEST).exists():
        old = read_sweep_manifest(out)
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
    _check_out(out)
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


def failed_points(out: Path, shards: dict[int, Shard] | None = None) -> dict[int, str]:
    """Points that raised, with their error, from the (whole) shards' metadata, by point."""
    if shards is None:
        shards = scan_shards(out, read_sweep_manifest(out))[0] if (out / SHARDS).is_dir() else {}
    failed: dict[int, str] = {}
    for chunk in sorted(shards):
        for point, message in shards[chunk].errors:
            failed.setdefault(int(point), message)
    return dict(sorted(failed.items()))
