"""Result tables of a finished run: the per-group summary, per-replica outcomes and the
per-round trace, and writing them to files. Rounds are numbered from 1 for people.

A run is one finished model or an ``Outcome`` gathered from models run in blocks
(``run_outcome``): the tables read the same arrays either way, so they are identical for
every block size. No plotting here (see ``sim.charts.negotiation``); the engine runs models.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.core.batch import Labels
from sim.core.dynamics import truce_days
from sim.core.space import Group, IssueSpace

if TYPE_CHECKING:  # the engine (Mesa) and pandas load when a table or run needs them
    import pandas as pd

    from sim.engine.model import NegotiationModel, Trace
    from sim.inputs.schema import Scenario

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


@dataclass(frozen=True)
class Outcome:
    """What the result tables read of a finished run of global replicas ``start .. stop-1``.

    ``agreed_round``, ``agreement`` (G, R): the round (from 0) and candidate of each group's
    agreement, -1 where none; ``agreement_war`` (G, R, P): war payoffs in the agreement round;
    ``accepted_by`` (G, R, P): whether each party accepted the agreement, or the last table
    while there was none;
    ``agreement_utility`` (G, R, P): each party's utility of the agreement (its dtype's); ``trace``
    as ``NegotiationModel.trace`` (G, T, R, P), or None where it was not kept;
    ``event_group`` (E,), ``event_from_round`` and ``event_carried_out`` (R, E): the
    scheduled events as the batch has them (for the charts' event marks); with phased groups
    ``opens_after`` and ``opened_round`` (G, R), with truces ``truce_broken`` (N, R), else
    empty or None. Everything else is the run's labels and structure. No (R, K) utility
    table is kept.
    """

    labels: Labels
    space: IssueSpace
    groups: list[Group]
    parties: tuple[str, ...]
    rounds: int
    protocol: str
    start: int
    stop: int
    agreed_round: np.ndarray
    agreement: np.ndarray
    agreement_war: np.ndarray
    accepted_by: np.ndarray
    agreement_utility: np.ndarray
    trace: Trace | None
    event_group: tuple[str | None, ...]
    event_from_round: np.ndarray
    event_carried_out: np.ndarray
    opens_after: tuple[tuple[int, ...], ...] = ()  # (G,) the groups each waited for; (): none did
    opened_round: np.ndarray | None = None  # (G, R) the round (from 0) each group opened, -1: never opened
    truce_broken: np.ndarray | None = None  # (N, R) whether each truce broke before it ran out
    truce_groups: tuple[int, ...] = ()  # (N,) each truce's agenda group
    truce_days: np.ndarray | None = None  # (N, R) each truce's agreed duration in days

    @property
    def replicas(self) -> int:
        """R, the number of replicas."""
        return self.stop - self.start

    @classmethod
    def empty(cls, model: NegotiationModel, start: int, stop: int, trace: bool = True) -> Outcome:
        """An outcome of replicas ``start .. stop-1`` shaped like ``model``'s, to ``fill`` block by block."""
        from sim.engine.model import Trace

        b = model.batch
        r = stop - start

        def like(a: np.ndarray, axis: int) -> np.ndarray:
            shape = list(a.shape)
            shape[axis] = r
            return np.empty(shape, dtype=a.dtype)

        utility = np.empty((len(b.groups), r, len(b.parties)), dtype=b.utilities[0].dtype if b.utilities else float)
        kept = Trace(*(like(getattr(model.trace, f), 2) for f in ("own", "answered", "war", "table"))) if trace else None
        return cls(b.labels, b.space, b.groups, b.parties, b.rounds, b.protocol, start, stop,
                   like(model.agreed_round, 1), like(model.agreement, 1), like(model.agreement_war, 1),
                   like(model.accepted_by, 1), utility, kept, b.event_group,
                   like(b.event_from_round, 0), like(b.event_carried_out, 0), b.opens_after,
                   like(model.opened_round, 1) if any(b.opens_after) else None,
                   like(model.truce_broken, 1) if b.truces else None, tuple(t.group for t in b.truces),
                   like(model.truce_broken, 1).astype(float) if b.truces else None)

    def fill(self, model: NegotiationModel) -> None:
        """Copy a finished model's replicas (a block of this outcome's) into place."""
        b = model.batch
        at = slice(b.start - self.start, b.stop - self.start)
        self.agreed_round[:, at] = model.agreed_round
        self.agreement[:, at] = model.agreement
        self.agreement_war[:, at] = model.agreement_war
        self.accepted_by[:, at] = model.accepted_by
        self.event_from_round[at] = b.event_from_round
        self.event_carried_out[at] = b.event_carried_out
        if self.opened_round is not None:
            self.opened_round[:, at] = model.opened_round
        if self.truce_broken is not None and self.truce_days is not None:
            self.truce_broken[:, at] = model.truce_broken
            self.truce_days[:, at] = truce_days(b, model.agreement)
        for g, utilities in enumerate(b.utilities):
            index = np.maximum(model.agreement[g], 0)[:, None, None]
            self.agreement_utility[g, at] = np.take_along_axis(utilities, index, axis=2)[:, :, 0]
        if self.trace is not None:
            for f in ("own", "answered", "war", "table"):
                getattr(self.trace, f)[:, :, at] = getattr(model.trace, f)

    @classmethod
    def of(cls, model: NegotiationModel, trace: bool = True) -> Outcome:
        """The outcome of one finished model."""
        outcome = cls.empty(model, model.batch.start, model.batch.stop, trace)
        outcome.fill(model)
        return outcome


def gather_outcome(models: Iterable[NegotiationModel], start: int, stop: int, *, trace: bool = True) -> Outcome:
    """One outcome of finished models covering replicas ``start .. stop-1`` between them,
    each read as it comes (blocks from ``sim.engine.blocks.run_blocks``)."""
    outcome: Outcome | None = None
    for model in models:
        if outcome is None:
            outcome = Outcome.empty(model, start, stop, trace)
        outcome.fill(model)
    if outcome is None:
        raise ValueError("no models to gather")
    return outcome


def run_outcome(
    scenario: Scenario, *, budget: int | str | None = None, block: int | None = None, trace: bool = True
) -> Outcome:
    """Run every replica of ``scenario`` in blocks (``block`` replicas each, default: sized
    from the memory ``budget``, see ``sim.engine.blocks``) and gather their outcome;
    ``trace=False`` keeps no per-round trace (only the summary and replica table then)."""
    from sim.engine.blocks import memory_budget, run_blocks

    models = run_blocks(scenario, budget=memory_budget(budget), block=block, trace=trace)
    return gather_outcome(models, 0, scenario.replicas, trace=trace)


def as_outcome(run: NegotiationModel | Outcome) -> Outcome:
    """A run as an ``Outcome`` (a model is read once, with its trace)."""
    return run if isinstance(run, Outcome) else Outcome.of(run)


def _header(run: NegotiationModel | Outcome) -> Outcome | Any:
    """What names a run's groups and issues: the outcome itself, or a model's batch."""
    return run if isinstance(run, Outcome) else run.batch


def agreed_outcomes(run: NegotiationModel | Outcome, g: int) -> np.ndarray:
    """Agreed outcomes of group ``g`` in natural units, (R, J), NaN where no agreement."""
    header = _header(run)
    group = header.groups[g]
    index = run.agreement[g]
    natural = header.space.to_natural(group.candidates[np.maximum(index, 0)], group.issues)
    return np.where((index >= 0)[:, None], natural, np.nan)


def summary(run: NegotiationModel | Outcome) -> dict[str, Any]:
    """The run's summary as a JSON-ready dict (see the README for each field)."""
    o = as_outcome(run)
    labels = o.labels
    groups: dict[str, Any] = {}
    for g, group in enumerate(o.groups):
        done = o.agreed_round[g] >= 0
        n = int(done.sum())
        rounds = o.agreed_round[g][done] + 1
        outcome = agreed_outcomes(o, g)[done]
        issues = [o.space.names[i] for i in group.issues]
        utilities = o.agreement_utility[g]
        entry: dict[str, Any] = {
            "issues": issues,
            "agreement_rate": round(n / o.replicas, 6),
            "agreement_rate_ci95": [_clean(v) for v in wilson_interval(n, o.replicas)],
            "agreed": n,
            "mean_round": _clean(rounds.mean()) if n else None,
            "mean_outcome": {name: _clean(outcome[:, j].mean()) if n else None for j, name in enumerate(issues)},
            "outcome_interval90": {
                name: [_clean(v) for v in np.quantile(outcome[:, j], [0.05, 0.95])] if n else None
                for j, name in enumerate(issues)
            },
            "units": {name: labels.units[name] for name in issues},
            "mean_utility": {party: _clean(utilities[done, i].mean()) if n else None for i, party in enumerate(o.parties)},
            "mean_war_payoff": {
                party: _clean(o.agreement_war[g][done, i].mean()) if n else None for i, party in enumerate(o.parties)
            },
        }
        if len(o.parties) > 2:  # who holds out: shares of replicas where each accepts the final table
            entry["accepted_by"] = {party: _clean(o.accepted_by[g][:, i].mean()) for i, party in enumerate(o.parties)}
        entry.update(_new_forms(o, g, done, outcome, issues))
        groups[group.name] = entry
    return {
        "scenario": labels.scenario,
        "title": labels.title,
        "question": labels.question,
        "seed": labels.seed,
        "replicas": o.replicas,
        "rounds": o.rounds,
        "protocol": o.protocol,
        "groups": groups,
    }


def exchange_text(value: float, per: float) -> str:
    """An exchange for people: what one side gives "for" what the other gives.

    Examples
    --------
    >>> exchange_text(33.2, 1900)
    '33 for 1,900'
    """
    return f"{value:,.0f} for {per:,.0f}"


def _new_forms(o: Outcome, g: int, done: np.ndarray, outcome: np.ndarray, issues: list[str]) -> dict[str, Any]:
    """Summary fields only scenarios with phases, truces or exchanges have (none otherwise):
    the groups a group waits for and in how many replicas it ``never_opened`` (its
    prerequisites were not agreed in time), a truce's mean agreed duration in days and the
    share of agreed truces that broke, and exchanges as "a for b"."""
    entry: dict[str, Any] = {}
    if o.opened_round is not None and o.opens_after[g]:
        entry["opens_after"] = [o.groups[b].name for b in o.opens_after[g]]
        entry["never_opened"] = int((o.opened_round[g] < 0).sum())
        entry["never_opened_rate"] = round(entry["never_opened"] / o.replicas, 6)
    n = int(done.sum())
    if o.truce_broken is not None and o.truce_days is not None and g in o.truce_groups:
        days = o.truce_days[o.truce_groups.index(g)]
        broken = o.truce_broken[o.truce_groups.index(g)]
        entry["truce"] = {
            "mean_days": _clean(days[done].mean()) if n else None,
            "broken_rate": _clean(broken[done].mean()) if n else None,
        }
    exchanges = {name: o.labels.exchanges[name] for name in issues if name in o.labels.exchanges}
    if exchanges:
        entry["exchange"] = {
            name: exchange_text(float(outcome[:, issues.index(name)].mean()), per) if n else None
            for name, (per, _) in exchanges.items()
        }
    return entry


def replica_table(run: NegotiationModel | Outcome) -> pd.DataFrame:
    """One row per (replica, group): agreed, round (from 1) and the outcome per issue; with
    more than two belligerents also ``accepted_by_<party>``: whether each accepted the
    agreement, or the last table where there was none (two-party tables keep their columns)."""
    import pandas as pd

    o = as_outcome(run)
    frames = []
    for g, group in enumerate(o.groups):
        outcome = agreed_outcomes(o, g)
        frame = pd.DataFrame({"replica": np.arange(o.start, o.stop), "group": group.name})
        frame["agreed"] = o.agreed_round[g] >= 0
        frame["round"] = np.where(frame["agreed"], o.agreed_round[g] + 1, np.nan)
        if o.opened_round is not None:  # phased agenda: "not agreed" and "never opened" differ
            frame["opened"] = o.opened_round[g] >= 0
        for j, i in enumerate(group.issues):
            frame[o.space.names[i]] = outcome[:, j]
        if len(o.parties) > 2:
            for k, party in enumerate(o.parties):
                frame[f"accepted_by_{party}"] = o.accepted_by[g][:, k]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _trace(o: Outcome) -> Trace:
    if o.trace is None:
        raise ValueError("this outcome kept no trace: gather it with trace=True")
    return o.trace


def trace_quantiles(run: NegotiationModel | Outcome) -> pd.DataFrame:
    """Per (group, round, party, series): replicas still open, mean, quartiles and median."""
    import pandas as pd

    o = as_outcome(run)
    trace = _trace(o)
    rows = []
    for g, group in enumerate(o.groups):
        for series in SERIES:
            values = getattr(trace, series)[g].astype(float)  # (T, R, P)
            for t in range(o.rounds):
                for i, party in enumerate(o.parties):
                    column = values[t, :, i]
                    column = column[np.isfinite(column)]
                    n = column.size
                    q = np.quantile(column, [0.25, 0.5, 0.75]) if n else [np.nan] * 3
                    rows.append((group.name, t + 1, party, series, n, column.mean() if n else np.nan, *q))
    return pd.DataFrame(rows, columns=["group", "round", "party", "series", "open", "mean", "q25", "median", "q75"])


def trace_replicas(run: NegotiationModel | Outcome) -> pd.DataFrame:
    """Every replica's trace: one row per (group, round, replica, party) with all series."""
    import pandas as pd

    o = as_outcome(run)
    trace = _trace(o)
    frames = []
    t, r, i = np.meshgrid(np.arange(o.rounds), np.arange(o.replicas), np.arange(len(o.parties)), indexing="ij")
    columns = {"round": t.ravel() + 1, "replica": r.ravel() + o.start, "party": np.array(o.parties)[i.ravel()]}
    for g, group in enumerate(o.groups):
        frame = pd.DataFrame({"group": group.name, **columns})
        for series in SERIES:
            frame[series] = getattr(trace, series)[g].astype(float).ravel()
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
