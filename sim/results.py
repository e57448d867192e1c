"""Result tables of a finished model: the per-group summary, per-replica outcomes and the
per-round trace, and writing them to files. Rounds are numbered from 1 for people.

No plotting here (see ``sim.charts.negotiation``) and no running (see ``sim.engine.model``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.model import NegotiationModel

SERIES = ("own", "answered", "war")
"""Trace series: utility of own offer, of the offer answered, and the war payoff."""


def wilson_interval(successes: Any, n: Any, z: float = 1.959963984540054) -> tuple[Any, Any]:
    """Wilson score interval for a binomial proportion (Wilson 1927), 95% by default.

    Scalars give a pair of floats, arrays a pair of arrays; NaN where ``n`` is 0.

    Examples
    --------
    >>> [round(v, 4) for v in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    >>> [v.round(4).tolist() for v in wilson_interval(np.array([8, 0]), np.array([10, 0]))]
    [[0.4902, nan], [0.9433, nan]]
    """
    k, m = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / m
        centre = (p + z * z / (2 * m)) / (1 + z * z / m)
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / (1 + z * z / m)
    lo = np.where(m > 0, np.maximum(0.0, centre - half), np.nan)
    hi = np.where(m > 0, np.minimum(1.0, centre + half), np.nan)
    if lo.ndim == 0:
        return (float(lo), float(hi))
    return lo, hi


def format_number(value: float | None) -> str:
    """A number for people: thousands separated from 100 up, two decimals below, "-" for none.

    Examples
    --------
    >>> format_number(1009.4), format_number(0.456), format_number(None)
    ('1,009', '0.46', '-')
    """
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def _clean(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 6)


def agreed_outcomes(model: NegotiationModel, g: int) -> np.ndarray:
    """Agreed outcomes of group ``g`` in natural units, (R, J), NaN where no agreement."""
    p = model.batch
    group = p.groups[g]
    index = model.agreement[g]
    natural = p.space.to_natural(group.candidates[np.maximum(index, 0)], group.issues)
    return np.where((index >= 0)[:, None], natural, np.nan)


def summary(model: NegotiationModel) -> dict[str, Any]:
    """The run's summary as a JSON-ready dict (see the README for each field)."""
    p = model.batch
    labels = p.labels
    groups: dict[str, Any] = {}
    for g, group in enumerate(p.groups):
        done = model.agreed_round[g] >= 0
        n = int(done.sum())
        rounds = model.agreed_round[g][done] + 1
        outcome = agreed_outcomes(model, g)[done]
        issues = [p.space.names[i] for i in group.issues]
        utilities = np.take_along_axis(p.utilities[g], np.maximum(model.agreement[g], 0)[:, None, None], axis=2)[:, :, 0]
        entry: dict[str, Any] = {
            "issues": issues,
            "agreement_rate": round(n / p.replicas, 6),
            "agreement_rate_ci95": [_clean(v) for v in wilson_interval(n, p.replicas)],
            "agreed": n,
            "mean_round": _clean(rounds.mean()) if n else None,
            "mean_outcome": {name: _clean(outcome[:, j].mean()) if n else None for j, name in enumerate(issues)},
            "outcome_interval90": {
                name: [_clean(v) for v in np.quantile(outcome[:, j], [0.05, 0.95])] if n else None
                for j, name in enumerate(issues)
            },
            "units": {name: labels.units[name] for name in issues},
            "mean_utility": {party: _clean(utilities[done, i].mean()) if n else None for i, party in enumerate(p.parties)},
            "mean_war_payoff": {
                party: _clean(model.agreement_war[g][done, i].mean()) if n else None for i, party in enumerate(p.parties)
            },
        }
        if len(p.parties) > 2:  # who holds out: shares of replicas where each accepts the final table
            entry["accepted_by"] = {party: _clean(model.accepted_by[g][:, i].mean()) for i, party in enumerate(p.parties)}
        groups[group.name] = entry
    return {
        "scenario": labels.scenario,
        "title": labels.title,
        "question": labels.question,
        "seed": labels.seed,
        "replicas": p.replicas,
        "rounds": p.rounds,
        "protocol": p.protocol,
        "groups": groups,
    }


def replica_table(model: NegotiationModel) -> pd.DataFrame:
    """One row per (replica, group): agreed, round (from 1) and the outcome per issue; with
    more than two belligerents also ``accepted_by_<party>``: whether each accepted the
    agreement, or the last table where there was none (two-party tables keep their columns)."""
    p = model.batch
    frames = []
    for g, group in enumerate(p.groups):
        outcome = agreed_outcomes(model, g)
        frame = pd.DataFrame({"replica": np.arange(p.start, p.stop), "group": group.name})
        frame["agreed"] = model.agreed_round[g] >= 0
        frame["round"] = np.where(frame["agreed"], model.agreed_round[g] + 1, np.nan)
        for j, i in enumerate(group.issues):
            frame[p.space.names[i]] = outcome[:, j]
        if len(p.parties) > 2:
            for k, party in enumerate(p.parties):
                frame[f"accepted_by_{party}"] = model.accepted_by[g][:, k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def trace_quantiles(model: NegotiationModel) -> pd.DataFrame:
    """Per (group, round, party, series): replicas still open, mean, quartiles and median."""
    p = model.batch
    rows = []
    for g, group in enumerate(p.groups):
        for series in SERIES:
            values = getattr(model.trace, series)[g].astype(float)  # (T, R, P)
            for t in range(model.rounds):
                for i, party in enumerate(p.parties):
                    column = values[t, :, i]
                    column = column[np.isfinite(column)]
                    n = column.size
                    q = np.quantile(column, [0.25, 0.5, 0.75]) if n else [np.nan] * 3
                    rows.append((group.name, t + 1, party, series, n, column.mean() if n else np.nan, *q))
    return pd.DataFrame(rows, columns=["group", "round", "party", "series", "open", "mean", "q25", "median", "q75"])


def trace_replicas(model: NegotiationModel) -> pd.DataFrame:
    """Every replica's trace: one row per (group, round, replica, party) with all series."""
    p = model.batch
    frames = []
    t, r, i = np.meshgrid(np.arange(model.rounds), np.arange(p.replicas), np.arange(len(p.parties)), indexing="ij")
    columns = {"round": t.ravel() + 1, "replica": r.ravel() + p.start, "party": np.array(p.parties)[i.ravel()]}
    for g, group in enumerate(p.groups):
        frame = pd.DataFrame({"group": group.name, **columns})
        for series in SERIES:
            frame[series] = getattr(model.trace, series)[g].astype(float).ravel()
        frames.append(frame.dropna(subset=["own"]))
    return pd.concat(frames, ignore_index=True)


def umask() -> int:
    """The process's file-mode creation mask (read without changing it where the system tells)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, write: Any) -> None:
    """Write a file through a temporary sibling and an atomic rename: never half a file.

    The file gets the mode a plain ``open`` would give it (``0o666`` less the umask), not
    the private ``0o600`` of the temporary file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def json_text(data: Any, indent: int | None = None) -> str:
    """JSON as RFC 8259 has it, keys sorted: a NaN or infinity is a bug (a value that can be
    missing is None, null in JSON), so it raises ``ValueError`` instead of writing ``NaN``.

    Examples
    --------
    >>> json_text({"b": None, "a": 0.5})
    '{"a": 0.5, "b": null}'
    """
    return json.dumps(data, indent=indent, sort_keys=True, allow_nan=False)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """JSON with sorted keys and a final newline (``json_text``), written atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(json_text(data, indent=2) + "\n", encoding="utf-8"))


def write_table(path: Path, frame: pd.DataFrame) -> None:
    """A table as CSV or Parquet by the file's suffix, written atomically."""
    if path.suffix == ".parquet":
        atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    else:
        atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))
