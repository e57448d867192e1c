"""Reading a sweep folder: one row per design point, aggregated from the per-run shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, Problem
from sim.results import wilson_interval
from sim.sweep.store import DESIGN, Shard, failed_points, read_sweep_manifest, scan_shards


def _whole_shards(out: Path, manifest: dict[str, Any]) -> dict[int, Shard]:
    """The sweep's shards with their tables; an InputError naming every file in ``shards/``
    that is not a whole shard of this sweep (a damaged, stray or misnamed file)."""
    shards, bad = scan_shards(out, manifest, tables=True)
    if bad:
        raise InputError(
            [
                Problem(
                    str(path),
                    None,
                    "shard",
                    "a whole shard of this sweep",
                    f"{reason} (`ceasefire sweep --resume {out}` sets it aside and computes its chunk again)",
                )
                for path, reason in bad
            ]
        )
    return shards


def _runs(shards: dict[int, Shard]) -> pd.DataFrame:
    tables = [shards[c].table for c in sorted(shards)]
    tables = [t for t in tables if t is not None and t.num_rows]
    if not tables:
        return pd.DataFrame({"point": pd.Series(dtype="int64"), "replica": pd.Series(dtype="int64")})
    import pyarrow as pa

    runs = pa.concat_tables(tables).to_pandas()
    return runs.sort_values(["point", "replica"], kind="stable").reset_index(drop=True)


def load_runs(out: str | Path) -> pd.DataFrame:
    """Every run of the sweep in ``out`` (one row per point and replica), sorted; an
    InputError if a file in ``shards/`` is not a whole shard of the sweep."""
    out = Path(out)
    return _runs(_whole_shards(out, read_sweep_manifest(out)))


def default_group(manifest: dict[str, Any]) -> str:
    """The agenda group a sweep's charts and indices are about: the experiment's plot group,
    else the last agenda group (the security group in the bundled scenarios)."""
    return str(manifest["experiment"]["definition"].get("plot", {}).get("group") or list(manifest["groups"])[-1])


def load_results(out: str | Path) -> pd.DataFrame:
    """One row per design point of the sweep in ``out``.

    Columns: ``point``; each parameter (by its path); ``replicas`` (runs on disk for the
    point); ``error`` (the message of a point that raised, else None); per agenda group
    ``g``: ``agreed.g`` (agreement rate), ``agreed.g.lo``/``.hi`` (Wilson 95% interval),
    ``round.g`` (mean agreement round among agreements, from 1) and ``outcome.g.ISSUE``
    (mean agreed outcome in natural units), each as the experiment's metrics allow.
    ``attrs`` holds the manifest, the parameter names and whether every run is on disk.
    Refuses (InputError) a folder whose ``shards/`` holds a file that is not a whole shard
    of this sweep, naming it and why.
    """
    out = Path(out)
    manifest = read_sweep_manifest(out)
    design = pd.read_parquet(out / DESIGN)
    names: list[str] = manifest["design"]["parameters"]
    frame = design[["point", *names]].copy()
    shards = _whole_shards(out, manifest)
    runs = _runs(shards)
    grouped = runs.groupby("point", sort=True)
    counts = grouped.size()
    frame["replicas"] = counts.reindex(frame["point"]).fillna(0).astype(int).to_numpy()
    failed = failed_points(out, shards)
    frame["error"] = [failed.get(int(p)) for p in frame["point"]]
    n = frame["replicas"].to_numpy().astype(float)
    for group, issues in manifest["groups"].items():
        agreed_col = f"agreed.{group}"
        round_col = f"round.{group}"
        outcome_cols = [f"outcome.{group}.{issue}" for issue in issues if f"outcome.{group}.{issue}" in runs]
        if agreed_col in runs:
            agreed = runs[agreed_col].to_numpy()
        elif round_col in runs:
            agreed = runs[round_col].to_numpy() > 0
        elif outcome_cols:  # an agreed run has an outcome, a failed one NaN
            agreed = runs[outcome_cols[0]].notna().to_numpy()
        else:
            continue
        ok = pd.Series(agreed, index=runs.index)
        successes = ok.groupby(runs["point"]).sum().reindex(frame["point"]).fillna(0).to_numpy().astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            frame[agreed_col] = np.where(n > 0, successes / n, np.nan)
        frame[f"{agreed_col}.lo"], frame[f"{agreed_col}.hi"] = wilson_interval(successes, n)
        if round_col in runs:
            rounds = runs[round_col].where(agreed).astype(float)
            frame[round_col] = rounds.groupby(runs["point"]).mean().reindex(frame["point"]).to_numpy()
        for issue in issues:
            column = f"outcome.{group}.{issue}"
            if column in runs:
                frame[column] = runs[column].groupby(runs["point"]).mean().reindex(frame["point"]).to_numpy()
    frame.attrs["manifest"] = manifest
    frame.attrs["parameters"] = names
    frame.attrs["complete"] = len(shards) == manifest["chunks"]
    return frame


def result_columns(frame: pd.DataFrame) -> list[str]:
    """The per-point result columns of ``load_results`` (rates, mean rounds and outcomes; not
    the interval bounds)."""
    return [c for c in frame.columns if c.startswith(("agreed.", "round.", "outcome.")) and not c.endswith((".lo", ".hi"))]


def check_metric(frame: pd.DataFrame, metric: str, where: str) -> None:
    """An InputError unless ``metric`` is a column of ``load_results``'s frame; when no point
    has a run on disk, one saying so (every point failed, listing the errors, or none ran yet)."""
    if metric in frame:
        return
    if not frame["replicas"].any():
        errors = frame.dropna(subset=["error"])
        if len(errors) == len(frame) and len(frame):
            listed = [f"  point {int(p)}: {e}" for p, e in zip(errors["point"], errors["error"], strict=True)]
            more = [f"  ... and {len(listed) - 10} more (load_results(DIR)['error'])"] if len(listed) > 10 else []
            found = f"every one of the {len(frame)} design points failed:\n" + "\n".join(listed[:10] + more)
            raise InputError([Problem(where, None, "points", "at least one design point that ran", found)])
        if errors.empty:
            found = f"no runs on disk yet (`ceasefire sweep --resume {where}` to compute them)"
            raise InputError([Problem(where, None, "points", "at least one design point that ran", found)])
    found = repr(metric)
    known = ", ".join(result_columns(frame))
    raise InputError([Problem(where, None, "--metric", f"a result column of this sweep ({known})", found)])
