"""Charts of a sweep: a heatmap of a result over two parameters, lines with 95% bands over
one parameter, and sensitivity indices. (A point's convergence chart is
``sim.charts.negotiation``.)

Each is a matplotlib ``Figure`` written as PNG (no pyplot state), titled, with labelled
axes and units, a legend outside the axes or a colour bar, and a caption saying how to
read it. An axis whose values are all at most 0 runs from 0 outward, so a stronger lever
(a larger loss of war payoff) is to the right or the top, as it is on every other axis.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
import pandas as pd

from sim.charts.style import CHARS_PER_INCH, PARTY_COLOURS, caption, chart_figure, save, wrap_phrases
from sim.results import wilson_interval

if TYPE_CHECKING:
    from matplotlib.axes import Axes

MAX_LEVELS = {"x": 12, "by": 8}
"""A sampled design's parameter with more distinct values than this is pooled in bins."""
BINS = {"x": 10, "by": 3}
ANNOTATE_POSITIONS = 40
"""A sampled heatmap with at most this many distinct positions writes each value on its marker."""


def label(manifest: dict[str, Any], name: str) -> str:
    """A parameter's axis label: its ``label`` in the experiment, else its path."""
    params = manifest["experiment"]["definition"]["parameters"]
    return str(params.get(name, {}).get("label") or name)


def _short(manifest: dict[str, Any], name: str) -> str:
    """A parameter's label without its parenthesised detail, for titles."""
    return label(manifest, name).split(" (")[0]


def _phrases(text: str, width: int) -> str:
    """``text`` wrapped to ``width``, with its parenthesised detail starting a line of its own."""
    head, sep, rest = text.partition(" (")
    return wrap_phrases([head, "(" + rest] if sep else [head], width)


def _title(manifest: dict[str, Any], what: str, width: float) -> str:
    """``what`` (broken between phrases only), then the experiment, scenario and replicas."""
    exp = manifest["experiment"]
    phrases = [p + " against" for p in what.split(" against ")[:-1]] + [what.split(" against ")[-1]]
    head = wrap_phrases([phrases[0][:1].upper() + phrases[0][1:], *phrases[1:]], int(CHARS_PER_INCH * width))
    return f"{head}\n{exp['name']} ({manifest['scenario']['name']}, {manifest['replicas']} replicas per point)"


def _means(frame: pd.DataFrame, keys: list[str], metric: str) -> pd.DataFrame:
    """``metric`` per value of ``keys``, pooled over the other parameters, with ``points``
    (design points pooled).

    Agreement rates pool their runs (successes over replicas) and carry the Wilson 95%
    interval of the pooled rate; other metrics are plain means over points.
    """
    data = frame.dropna(subset=[metric])
    points = data.groupby(keys, sort=True).size().rename("points")
    if not metric.startswith("agreed."):
        return data.groupby(keys, sort=True)[[metric]].mean().join(points).reset_index()
    counts = data.assign(_k=data[metric] * data["replicas"], _n=data["replicas"]).groupby(keys, sort=True)[["_k", "_n"]].sum()
    out = counts.join(points).reset_index()
    k, n = out["_k"].to_numpy(dtype=float), out["_n"].to_numpy(dtype=float)
    out[metric] = k / n
    out[f"{metric}.lo"], out[f"{metric}.hi"] = wilson_interval(k, n)
    return out.drop(columns=["_k", "_n"])


def _binned(frame: pd.DataFrame, column: str, bins: int) -> tuple[pd.Series, dict[float, str]]:
    """Each point's bin centre of ``column`` (equal-width bins over its range, for sampled
    designs) and each centre's range as people read it ("0.0667-0.133")."""
    values = frame[column].to_numpy(dtype=float)
    edges = np.linspace(values.min(), values.max(), bins + 1)
    index = np.clip(np.digitize(values, edges[1:-1]), 0, bins - 1)
    centres = (edges[:-1] + edges[1:]) / 2
    digits = max(0, 1 - math.floor(math.log10(edges[1] - edges[0]))) if edges[1] > edges[0] else 3

    def number(v: float) -> str:  # to a tenth of the bin width, no trailing zeros
        text = f"{v:.{digits}f}".rstrip("0").rstrip(".")
        return "0" if float(text) == 0 else text

    names = {float(centres[i]): f"{number(edges[i])} to {number(edges[i + 1])}" for i in range(bins)}
    return pd.Series(centres[index], index=frame.index), names


def _orient(ax: Axes, values: Any, axis: str, text: str) -> str:
    """Reverse an axis whose values are all at most 0 (so magnitudes grow right or up) and
    say so in its label ``text``; returns the label."""
    values = np.asarray(values, dtype=float)
    if not (values.max() <= 0 < -values.min()):
        return text
    (ax.invert_xaxis if axis == "x" else ax.invert_yaxis)()
    return f"{text}\naxis runs from 0: more negative (stronger) to the {'right' if axis == 'x' else 'top'}"


def _limits(values: np.ndarray) -> tuple[float, float]:
    """Colour limits for rates in %: the data's range widened to multiples of 5."""
    # the tolerance keeps a rate of 55% (0.55 * 100 = 55.000000000000007) at 55, not 60
    lo, hi = 5 * math.floor(np.nanmin(values) / 5 + 1e-9), 5 * math.ceil(np.nanmax(values) / 5 - 1e-9)
    return (float(lo), float(hi)) if hi > lo else (float(max(0, lo - 5)), float(min(100, hi + 5)))


def heatmap(frame: pd.DataFrame, x: str, y: str, metric: str, path: Path) -> None:
    """Write ``heatmap_figure`` to the PNG ``path``."""
    save(heatmap_figure(frame, x, y, metric), path)


def heatmap_figure(frame: pd.DataFrame, x: str, y: str, metric: str) -> Any:
    """A result column (by default an agreement rate, in %) over parameters ``x`` and ``y``;
    a 50% contour where an agreement rate crosses it.

    A grid design draws cells; any other design draws one marker per distinct position,
    its area growing with the design points pooled there (and, with few positions, its
    value written on it). Parameters besides x and y are pooled (rates) or averaged over
    (other columns). Colours span the data's range, as the colour bar says.
    """
    manifest = frame.attrs["manifest"]
    data = _means(frame, [x, y], metric)
    xs, ys = np.unique(data[x]), np.unique(data[y])
    grid = manifest["design"]["method"] == "grid" and len(data) == len(xs) * len(ys)
    name = _metric_name(metric)
    points = data["points"].to_numpy()
    few = len(data) <= ANNOTATE_POSITIONS
    text = caption(
        "heatmap" if grid else "scatter",
        metric=f"the {name}",
        written=" (written above it)" if few else "",
        pooled="; a larger marker pools more design points" if points.max() > 1 else "",
    )
    fig, body = chart_figure(8.0, 6.6, text)
    ax = body.subplots()
    axis_label, percent, _, _ = _axis(manifest, metric)
    rate = metric.startswith("agreed.")
    values = data[metric].to_numpy(dtype=float) * percent
    vmin, vmax = _limits(values) if rate else (float(np.nanmin(values)), float(np.nanmax(values)))
    mesh: Any
    if grid:
        cells = data.pivot(index=y, columns=x, values=metric).to_numpy() * percent
        mesh = ax.pcolormesh(_edges(xs), _edges(ys), cells, cmap="viridis", vmin=vmin, vmax=vmax, shading="flat")
        if rate and np.nanmin(cells) < 50.0 < np.nanmax(cells) and len(xs) > 1 and len(ys) > 1:
            contour = ax.contour(xs, ys, cells, levels=[50.0], colors="white", linewidths=2)
            ax.clabel(contour, fmt="50%%", colors="white")
    else:
        mesh = ax.scatter(
            data[x],
            data[y],
            c=values,
            cmap="viridis",
            vmin=vmin,
            vmax=vmax,
            s=_area(points, int(points.max()), few),
            edgecolors="0.3",
            linewidths=0.4,
        )
        _point_legend(ax, points, int(manifest["replicas"]), few)
        if few:
            for xv, yv, v in zip(data[x], data[y], values, strict=True):
                text = ("<1" if 0 < v < 1 else f"{v:.0f}") if rate else f"{v:.3g}"
                ax.annotate(text, (xv, yv), xytext=(0, 11), textcoords="offset points", ha="center", fontsize=7.5, color="0.15")
            ax.margins(0.08)
    bar = body.colorbar(mesh, ax=ax)
    span = f"{vmin:g} to {vmax:g}%" if rate else f"{vmin:.3g} to {vmax:.3g}"
    bar.set_label(f"{axis_label}\ncolours span {span}, the range of the data")
    ax.set_xlabel(_orient(ax, data[x], "x", label(manifest, x)))
    ax.set_ylabel(_orient(ax, data[y], "y", label(manifest, y)))
    ax.set_title(_title(manifest, name, 6.0))
    if ax.get_legend_handles_labels()[0]:
        body.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def _point_legend(ax: Axes, points: np.ndarray, replicas: int, few: bool) -> None:
    """Legend entries for a sampled heatmap's markers: what one marker pools."""
    sizes = sorted({int(points.min()), int(points.max())})
    for n in sizes:
        what = "design point" if n == 1 else f"{n} design points pooled"
        ax.scatter(
            [],
            [],
            s=_area(np.array([n]), int(points.max()), few),
            color="0.6",
            edgecolors="0.3",
            linewidths=0.4,
            label=f"{what} ({n * replicas:,} runs)",
        )


def _area(points: np.ndarray, most: int, few: bool) -> np.ndarray:
    """Marker areas (points^2) growing with the design points a marker pools (of ``most``);
    smaller where positions are many (not ``few``)."""
    base, span = (50, 110) if few else (14, 22)
    return base + span * (points - 1) / max(most - 1, 1)


def _edges(values: np.ndarray) -> np.ndarray:
    if len(values) == 1:
        return np.array([values[0] - 0.5, values[0] + 0.5])
    mid = (values[1:] + values[:-1]) / 2
    return np.concatenate([[2 * values[0] - mid[0]], mid, [2 * values[-1] - mid[-1]]])


def _axis(manifest: dict[str, Any], metric: str) -> tuple[str, float, float | None, float | None]:
    """Axis label with units, scale factor and fixed limits of a result column."""
    kind = metric.partition(".")[0]
    if kind == "agreed":
        return f"{_metric_name(metric)} (% of runs)", 100.0, 0.0, 100.0
    if kind == "round":
        return f"{_metric_name(metric)} (round of talks, agreed runs)", 1.0, None, None
    return f"{_metric_name(metric)} ({_units(manifest, metric)}, agreed runs)", 1.0, None, None


def _units(manifest: dict[str, Any], metric: str) -> str:
    """What one unit of a result column is, in the words of the sensitivity table."""
    kind, _, rest = metric.partition(".")
    if kind == "agreed":
        return "share of runs agreeing, 0 to 1"
    if kind == "round":
        return "rounds of talks"
    return str(manifest.get("units", {}).get(rest.partition(".")[2], "natural units"))


def _metric_name(metric: str) -> str:
    kind, _, rest = metric.partition(".")
    if kind == "outcome":
        group, _, issue = rest.partition(".")
        return f"{group} mean agreed {issue}"
    names = {"agreed": "agreement rate", "round": "mean agreement round"}
    return f"{rest} {names.get(kind, kind)}"


def lines(frame: pd.DataFrame, x: str, by: str | None, metric: str, path: Path) -> None:
    """Write ``lines_figure`` to the PNG ``path``."""
    save(lines_figure(frame, x, by, metric), path)


def lines_figure(frame: pd.DataFrame, x: str, by: str | None, metric: str) -> Any:
    """The agreement rate (%) against ``x`` with its 95% Wilson band, one line per value of
    ``by`` (at most 8, evenly chosen); other parameters are pooled.

    In a sampled design (not a grid) a parameter with many distinct values is pooled in
    equal-width bins (x in 10, ``by`` in 3), each named by its range.
    """
    manifest = frame.attrs["manifest"]
    grid = manifest["design"]["method"] == "grid"
    data = frame.copy()
    note = ""
    ranges: dict[float, str] = {}
    if not grid and data[x].nunique() > MAX_LEVELS["x"]:
        data[x], _ = _binned(data, x, BINS["x"])
        note = f"\n(sampled design: points pooled in {BINS['x']} equal-width bins, drawn at their centres)"
    if not grid and by is not None and data[by].nunique() > MAX_LEVELS["by"]:
        data[by], ranges = _binned(data, by, BINS["by"])
    axis_label, scale, vmin, vmax = _axis(manifest, metric)
    name = _metric_name(metric)
    level = "bin" if ranges else "value"
    fig, body = chart_figure(8.0, 6.0, caption("lines", metric=f"the {name}", level=level))
    ax = body.subplots()
    if by is None:
        series = [(None, _means(data, [x], metric))]
    else:
        levels = np.unique(data[by].dropna())
        if len(levels) > MAX_LEVELS["by"]:
            levels = levels[np.linspace(0, len(levels) - 1, MAX_LEVELS["by"]).round().astype(int)]
        pooled = _means(data, [by, x], metric)
        series = [(value, pooled[pooled[by] == value]) for value in levels]
    for k, (value, rows) in enumerate(series):
        colour = matplotlib.colormaps["viridis"](0.9 * k / max(1, len(series) - 1)) if by else PARTY_COLOURS[0]
        text = "all points" if value is None else ranges.get(float(value), f"{value:.3g}")
        ax.plot(rows[x], rows[metric] * scale, marker="o", markersize=3, color=colour, label=text)
        if f"{metric}.lo" in rows:
            ax.fill_between(
                rows[x], rows[f"{metric}.lo"] * scale, rows[f"{metric}.hi"] * scale, color=colour, alpha=0.15, linewidth=0
            )
    if metric.startswith("agreed."):
        ax.fill_between([], [], [], color="grey", alpha=0.15, label="95% interval (Wilson, pooled runs)")
        ax.axhline(50, color="grey", linewidth=0.8, linestyle="--", label="50%")
        ax.set_ylim(vmin, vmax)
    ax.set_xlabel(_orient(ax, data[x], "x", label(manifest, x)) + note)
    ax.set_ylabel(axis_label)
    ax.set_title(_title(manifest, f"{name} against {_short(manifest, x)}", 7.0))
    ax.grid(alpha=0.3)
    title = None if by is None else label(manifest, by) + (" (bins)" if ranges else "")
    if title and len(series) > 1 and all(_same(series[0][1], rows, x, metric) for _, rows in series[1:]):
        title += f": all {len(series)} lines coincide"
    body.legend(
        *ax.get_legend_handles_labels(),
        loc="outside lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
        title=title,
        title_fontsize=8,
    )
    return fig


def _same(a: pd.DataFrame, b: pd.DataFrame, x: str, metric: str) -> bool:
    """Whether two lines have the same x values and the same values of ``metric``."""
    return len(a) == len(b) and np.allclose(a[x], b[x]) and np.allclose(a[metric], b[metric], equal_nan=True)


def sensitivity_chart(table: pd.DataFrame, manifest: dict[str, Any], path: Path) -> None:
    """Write ``sensitivity_figure`` to the PNG ``path``."""
    save(sensitivity_figure(table, manifest), path)


def sensitivity_figure(table: pd.DataFrame, manifest: dict[str, Any]) -> Any:
    """Sobol' S1 and ST bars, or Morris mu* and sigma markers, each with its 95% interval,
    in the units of the printed table."""
    metric = _metric_name(str(table.attrs["metric"]))
    morris = table.attrs["method"] != "sobol"
    fig, body = chart_figure(9.5, 1.6 + 0.9 * len(table) + 1.6, caption("morris" if morris else "sobol", metric=f"the {metric}"))
    ax = body.subplots()
    names = [_phrases(label(manifest, name), 30) for name in table.index]
    pos = np.arange(len(table))
    if not morris:
        ax.barh(pos - 0.2, table["S1"], 0.4, xerr=table["S1_conf"], color=PARTY_COLOURS[0], capsize=3, label="first-order S1")
        ax.barh(pos + 0.2, table["ST"], 0.4, xerr=table["ST_conf"], color=PARTY_COLOURS[1], capsize=3, label="total-order ST")
        ax.set_xlabel(f"Sobol' index (share of the {metric}'s variance, 0 to 1)")
        what = "Sobol' sensitivity indices"
    else:
        ax.errorbar(
            table["mu_star"],
            pos - 0.15,
            xerr=table["mu_star_conf"],
            fmt="o",
            ms=8,
            color=PARTY_COLOURS[0],
            capsize=4,
            lw=1.6,
            label="mu* (mean |elementary effect|) with its 95% bootstrap interval",
        )
        ax.plot(
            table["sigma"],
            pos + 0.15,
            "D",
            ms=7,
            color=PARTY_COLOURS[1],
            label="sigma (spread of the elementary effects: interactions, non-linearity)",
        )
        ax.set_xlabel(
            f"elementary effect on the {metric} over the parameter's full range\n"
            f"({_units(manifest, str(table.attrs['metric']))}, as in the table)"
        )
        ax.set_xlim(left=0)
        what = "Morris screening"
    ax.set_yticks(pos, names)
    ax.set_ylim(len(table) - 0.5, -0.5)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(_title(manifest, f"{what}: {metric}", 7.0))
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: not labels[i].startswith(("mu*", "first")))
    body.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="outside lower center",
        ncol=1 if morris else 2,
        fontsize=8,
        frameon=False,
    )
    return fig
