"""Charts of a sweep: a heatmap of agreement rate over two parameters, lines with 95%
bands over one parameter, the convergence chart of chosen points, and sensitivity bars.

Each is a matplotlib ``Figure`` written as PNG (no pyplot state), titled, with labelled
axes and units, a legend or colour bar.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.charts.negotiation import PARTY_COLOURS, save
from sim.results import wilson_interval


def label(manifest: dict[str, Any], name: str) -> str:
    """A parameter's axis label: its ``label`` in the experiment, else its path."""
    params = manifest["experiment"]["definition"]["parameters"]
    return str(params.get(name, {}).get("label") or name)


def _title(manifest: dict[str, Any], what: str) -> str:
    exp = manifest["experiment"]
    what = textwrap.fill(what[:1].upper() + what[1:], 72)
    return f"{what}\n{exp['name']} ({manifest['scenario']['name']}, {manifest['replicas']} replicas per point)"


def _means(frame: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    """``metric`` per value of ``keys``, pooled over the other parameters.

    Agreement rates pool their runs (successes over replicas) and carry the Wilson 95%
    interval of the pooled rate; other metrics are plain means over points.
    """
    data = frame.dropna(subset=[metric])
    if not metric.startswith("agreed."):
        return data.groupby(keys, sort=True)[[metric]].mean().reset_index()
    counts = data.assign(_k=data[metric] * data["replicas"], _n=data["replicas"]).groupby(keys, sort=True)[["_k", "_n"]].sum()
    out = counts.reset_index()
    k, n = out["_k"].to_numpy(dtype=float), out["_n"].to_numpy(dtype=float)
    out[metric] = k / n
    out[f"{metric}.lo"], out[f"{metric}.hi"] = wilson_interval(k, n)
    return out.drop(columns=["_k", "_n"])


def _binned(frame: pd.DataFrame, column: str, bins: int) -> pd.Series:
    """Each point's bin centre of ``column``: equal-width bins over its range (for sampled designs)."""
    values = frame[column].to_numpy(dtype=float)
    edges = np.linspace(values.min(), values.max(), bins + 1)
    index = np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)
    return pd.Series((edges[index] + edges[index + 1]) / 2, index=frame.index)


def heatmap(frame: pd.DataFrame, x: str, y: str, metric: str, path: Path) -> None:
    """A result column (by default an agreement rate, in %) over parameters ``x`` and ``y``;
    a 50% contour where an agreement rate crosses it.

    A grid design draws cells; any other design draws its points coloured by the value.
    Parameters besides x and y are pooled (rates) or averaged over (other columns).
    """
    manifest = frame.attrs["manifest"]
    fig = Figure(figsize=(8.0, 6.2), layout="constrained")
    ax = fig.subplots()
    data = _means(frame, [x, y], metric)
    xs, ys = np.unique(data[x]), np.unique(data[y])
    axis_label, percent, vmin, vmax = _axis(manifest, metric)
    rate = metric.startswith("agreed.")
    mesh: Any
    if manifest["design"]["method"] == "grid" and len(data) == len(xs) * len(ys):
        grid = data.pivot(index=y, columns=x, values=metric).to_numpy() * percent
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), grid, cmap="viridis", vmin=vmin, vmax=vmax, shading="flat")
        if rate and np.nanmin(grid) < 50.0 < np.nanmax(grid) and len(xs) > 1 and len(ys) > 1:
            contour = ax.contour(xs, ys, grid, levels=[50.0], colors="white", linewidths=2)
            ax.clabel(contour, fmt="50%%", colors="white")
            ax.plot([], [], color="white", linewidth=2, label="50% agreement")
            ax.legend(loc="upper left", framealpha=0.6)
    else:
        mesh = ax.scatter(
            data[x],
            data[y],
            c=data[metric] * percent,
            cmap="viridis",
            vmin=vmin,
            vmax=vmax,
            s=28,
            edgecolors="none",
            label="design point",
        )
        ax.legend(loc="upper left", framealpha=0.6)
    bar = fig.colorbar(mesh, ax=ax)
    bar.set_label(axis_label)
    ax.set_xlabel(label(manifest, x))
    ax.set_ylabel(label(manifest, y))
    ax.set_title(_title(manifest, f"{_metric_name(metric)}"))
    save(fig, path)


def _edges(values: np.ndarray) -> np.ndarray:
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def _axis(manifest: dict[str, Any], metric: str) -> tuple[str, float, float | None, float | None]:
    """Axis label with units, scale factor and fixed limits of a result column."""
    kind, _, rest = metric.partition(".")
    if kind == "agreed":
        return f"{_metric_name(metric)} (% of runs)", 100.0, 0.0, 100.0
    if kind == "round":
        return f"{_metric_name(metric)} (round of talks, agreed runs)", 1.0, None, None
    issue = rest.partition(".")[2]
    units = manifest.get("units", {}).get(issue, "natural units")
    return f"{_metric_name(metric)} ({units}, agreed runs)", 1.0, None, None


def _metric_name(metric: str) -> str:
    kind, _, rest = metric.partition(".")
    if kind == "outcome":
        group, _, issue = rest.partition(".")
        return f"{group} mean agreed {issue}"
    names = {"agreed": "agreement rate", "round": "mean agreement round"}
    return f"{rest} {names.get(kind, kind)}"


def lines(frame: pd.DataFrame, x: str, by: str | None, metric: str, path: Path) -> None:
    """The agreement rate (%) against ``x`` with its 95% Wilson band, one line per value of
    ``by`` (at most 8, evenly chosen); other parameters are pooled.

    A sampled design (not a grid) is binned: x into 10 equal-width bins, ``by`` into 3.
    """
    manifest = frame.attrs["manifest"]
    grid = manifest["design"]["method"] == "grid"
    data = frame.copy()
    note = ""
    if not grid:
        data[x] = _binned(data, x, 10)
        if by is not None:
            data[by] = _binned(data, by, 3)
        note = " (sampled design: points pooled in bins)"
    axis_label, scale, vmin, vmax = _axis(manifest, metric)
    fig = Figure(figsize=(8.0, 5.6), layout="constrained")
    ax = fig.subplots()
    if by is None:
        series = [(None, _means(data, [x], metric))]
    else:
        levels = np.unique(data[by].dropna())
        if len(levels) > 8:
            levels = levels[np.linspace(0, len(levels) - 1, 8).round().astype(int)]
        pooled = _means(data, [by, x], metric)
        series = [(level, pooled[pooled[by] == level]) for level in levels]
    for k, (level, rows) in enumerate(series):
        colour = matplotlib.colormaps["viridis"](k / max(1, len(series) - 1)) if by else PARTY_COLOURS[0]
        prefix = "" if grid else "bin around "
        name = "all points" if level is None else f"{label(manifest, by or '')} = {prefix}{level:.3g}"
        ax.plot(rows[x], rows[metric] * scale, marker="o", markersize=3, color=colour, label=name)
        if f"{metric}.lo" in rows:
            ax.fill_between(
                rows[x], rows[f"{metric}.lo"] * scale, rows[f"{metric}.hi"] * scale, color=colour, alpha=0.15, linewidth=0
            )
    if metric.startswith("agreed."):
        ax.fill_between([], [], [], color="grey", alpha=0.15, label="95% interval (Wilson, pooled runs)")
        ax.axhline(50, color="grey", linewidth=0.8, linestyle="--", label="50%")
        ax.set_ylim(vmin, vmax)
    ax.set_xlabel(label(manifest, x) + note)
    ax.set_ylabel(axis_label)
    ax.set_title(_title(manifest, f"{_metric_name(metric)} against {label(manifest, x)}"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    save(fig, path)


def sensitivity_chart(table: pd.DataFrame, manifest: dict[str, Any], path: Path) -> None:
    """Bars of Sobol' S1 and ST, or Morris mu* (with sigma), each with its 95% interval."""
    fig = Figure(figsize=(9.5, 1.2 + 0.9 * len(table) + 2.0), layout="constrained")
    ax = fig.subplots()
    names = [textwrap.fill(label(manifest, name), 26) for name in table.index]
    pos = np.arange(len(table))
    metric = _metric_name(str(table.attrs["metric"]))
    if table.attrs["method"] == "sobol":
        ax.barh(pos - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], color=PARTY_COLOURS[0], capsize=3, label="first-order S1")
        ax.barh(pos + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], color=PARTY_COLOURS[1], capsize=3, label="total-order ST")
        ax.set_xlabel(f"Sobol' index (share of the {metric}'s variance)")
        what = "Sobol' sensitivity indices"
    else:
        ax.barh(
            pos,
            table["mu_star"] * 100,
            0.5,
            xerr=table["mu_star_conf"] * 100,
            color=PARTY_COLOURS[0],
            capsize=3,
            label="mu* (mean |elementary effect|)",
        )
        ax.plot(table["sigma"] * 100, pos, "D", color=PARTY_COLOURS[1], label="sigma (spread: interactions)")
        ax.set_xlabel(f"elementary effect on the {metric} (percentage points over the full range)")
        what = "Morris screening"
    ax.set_yticks(pos, names)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, title="95% bootstrap intervals", title_fontsize=8)
    ax.set_title(_title(manifest, f"{what}: {metric}"))
    save(fig, path)
