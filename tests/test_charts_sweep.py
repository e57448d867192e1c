"""The sweep charts: Morris intervals on the mu* marker in the table's units, colour scales
that follow the data, sampled points pooled by position, legends outside the axes,
negative levers running from 0, bins named by their range, titles broken between phrases,
and a caption on each."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.container import ErrorbarContainer

from sim.charts.style import caption_of
from sim.charts.sweep import _title, heatmap_figure, lines_figure, sensitivity_figure

X, Y, Z = "events.deadline.targets.russia", "parties.ukraine.war.cost_per_round", "uncertainty.ideal_noise"
METRIC = "agreed.security"


def _manifest(method: str) -> dict:
    labels = {X: "Deadline pressure (change of war payoff)", Y: "Ukraine's war cost per round (utility)", Z: "Ideal noise"}
    return {
        "experiment": {"name": "exp", "definition": {"parameters": {k: {"label": v} for k, v in labels.items()}}},
        "scenario": {"name": "base"},
        "replicas": 100,
        "design": {"method": method},
        "units": {},
    }


def _frame(points: list[tuple[float, float, float]], rates: list[float], method: str) -> pd.DataFrame:
    frame = pd.DataFrame(points, columns=[X, Y, Z])
    frame["point"] = range(len(frame))
    frame["replicas"] = 100
    frame[METRIC] = rates
    frame.attrs["manifest"] = _manifest(method)
    frame.attrs["parameters"] = [X, Y, Z]
    return frame


def _grid(low: float, high: float) -> pd.DataFrame:
    """A 4 x 3 grid over x in [-0.3, 0] and y in [0, 0.02], rates spread evenly from low to high."""
    points = [(x, y, 0.1) for x, y in itertools.product(np.linspace(-0.3, 0.0, 4), np.linspace(0.0, 0.02, 3))]
    return _frame(points, list(np.linspace(low, high, len(points))), "grid")


def _morris_like() -> pd.DataFrame:
    """80 points on 16 (x, y) positions (a third parameter varies): 5 points per position."""
    rng = np.random.default_rng(3)
    positions = list(itertools.product(np.linspace(-0.3, 0.0, 4), np.linspace(0.0, 0.02, 4)))
    points = [(x, y, z) for (x, y) in positions for z in np.linspace(0, 0.2, 5)]
    return _frame(points, list(rng.uniform(0.0, 0.55, len(points)).round(2)), "morris")


def _drawn(fig):
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def _disjoint(a, b) -> bool:
    return a.x1 <= b.x0 or b.x1 <= a.x0 or a.y1 <= b.y0 or b.y1 <= a.y0


def _legends(fig) -> list:
    return [leg for sub in fig.subfigs for leg in sub.legends]


def _main_axes(fig):
    return next(ax for ax in fig.axes if ax.get_title())


def test_morris_interval_sits_on_the_mu_star_marker_in_table_units() -> None:
    """mu*'s 95% bar is centred on the mu* marker (same x and y), sigma sits apart, values are the table's fractions."""
    table = pd.DataFrame(
        {"mu": [-0.48, 0.04], "mu_star": [0.48, 0.045], "mu_star_conf": [0.13, 0.0135], "sigma": [0.30, 0.039]}, index=[X, Y]
    )
    table.attrs.update(method="morris", metric=METRIC, points=80)
    fig = sensitivity_figure(table, _manifest("morris"))
    ax = _main_axes(fig)
    (bars,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    marker = bars.lines[0]
    assert list(marker.get_xdata()) == [0.48, 0.045]
    ys = list(marker.get_ydata())
    for segment, x, y, half in zip(bars.lines[2][0].get_segments(), [0.48, 0.045], ys, [0.13, 0.0135], strict=True):
        (x0, y0), (x1, y1) = segment
        assert y0 == y1 == y
        assert np.isclose((x0 + x1) / 2, x) and np.isclose(x1 - x0, 2 * half)
    (sigma,) = [line for line in ax.lines if line.get_label().startswith("sigma")]
    assert list(sigma.get_xdata()) == [0.30, 0.039]
    assert all(s != m for s, m in zip(sigma.get_ydata(), ys, strict=True))
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert any(label.startswith("mu*") and "95%" in label for label in labels)
    assert "share of runs agreeing, 0 to 1" in ax.get_xlabel()
    assert caption_of(fig).startswith("How to read:")


def test_sobol_chart_draws_with_a_caption() -> None:
    """Sobol' S1/ST bars draw, with the legend outside the axes and a caption."""
    table = pd.DataFrame({"S1": [0.7, 0.2], "S1_conf": [0.2, 0.1], "ST": [0.75, 0.3], "ST_conf": [0.1, 0.1]}, index=[X, Y])
    table.attrs.update(method="sobol", metric=METRIC, points=640)
    fig = _drawn(sensitivity_figure(table, _manifest("sobol")))
    ax = _main_axes(fig)
    assert all(_disjoint(leg.get_window_extent(), ax.get_window_extent()) for leg in _legends(fig))
    assert "S1" in caption_of(fig)


def test_grid_colour_scale_follows_the_data() -> None:
    """Rates from 0 to 55% get colour limits 0-55 (multiples of 5 around the data), said in the colour bar."""
    fig = heatmap_figure(_grid(0.0, 0.55), X, Y, METRIC)
    ax = _main_axes(fig)
    assert ax.collections[0].get_clim() == (0.0, 55.0)
    bar = next(a for a in fig.axes if a is not ax)
    assert "colours span 0 to 55%" in bar.get_ylabel()
    fig = heatmap_figure(_grid(0.12, 0.43), X, Y, METRIC)
    assert _main_axes(fig).collections[0].get_clim() == (10.0, 45.0)


def test_negative_lever_runs_from_zero_to_the_right() -> None:
    """x in [-0.3, 0] is drawn from 0 on the left to -0.3 on the right, and the label says so; y in [0, 0.02] is not reversed."""
    ax = _main_axes(heatmap_figure(_grid(0.0, 0.55), X, Y, METRIC))
    left, right = ax.get_xlim()
    assert left > right and left >= 0.0 and right <= -0.3
    assert "more negative (stronger) to the right" in ax.get_xlabel()
    assert ax.get_ylim()[0] < ax.get_ylim()[1]


def test_sampled_heatmap_pools_positions_and_keeps_its_legend_outside() -> None:
    """80 points on 16 positions draw 16 markers, each with its pooled value written, the legend outside the axes."""
    frame = _morris_like()
    fig = _drawn(heatmap_figure(frame, X, Y, METRIC))
    ax = _main_axes(fig)
    markers = ax.collections[0]
    assert len(markers.get_offsets()) == 16
    pooled = frame.groupby([X, Y])[METRIC].mean().to_numpy() * 100  # 100 replicas each: the pooled rate is the mean
    assert np.allclose(sorted(markers.get_array()), sorted(pooled))
    assert len(ax.texts) == 16
    assert markers.get_clim() == (5 * np.floor(pooled.min() / 5), 5 * np.ceil(pooled.max() / 5))
    for legend in _legends(fig):
        assert all(_disjoint(legend.get_window_extent(), a.get_window_extent()) for a in fig.axes)
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert labels == ["5 design points pooled (500 runs)"]


def test_lines_name_bins_by_their_range() -> None:
    """A sampled ``by`` with many values is cut into 3 bins named by range in its units; few values stay values."""
    rng = np.random.default_rng(5)
    points = [(x, y, 0.1) for x, y in zip(rng.uniform(-0.3, 0, 60), np.linspace(0.0, 0.03, 60), strict=True)]
    frame = _frame(points, list(rng.uniform(0, 1, 60)), "lhs")
    fig = lines_figure(frame, X, Y, METRIC)
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert labels[:3] == ["0 to 0.01", "0.01 to 0.02", "0.02 to 0.03"]
    assert "bin around" not in " ".join(labels)
    fig = lines_figure(_morris_like(), X, Y, METRIC)
    labels = [t.get_text() for leg in _legends(fig) for t in leg.get_texts()]
    assert labels[:4] == ["0", "0.00667", "0.0133", "0.02"]
    assert caption_of(fig).startswith("How to read:")


def test_titles_break_between_phrases() -> None:
    """A long title breaks after "against", never inside the parameter's name."""
    manifest = _manifest("grid")
    what = "security agreement rate against a parameter with a very long name that fills the line"
    head = _title(manifest, what, 5.0).split("\n")  # 55 characters a line
    assert head[0] == "Security agreement rate against"
    assert head[1] == "a parameter with a very long name that fills the line"
    assert head[2] == "exp (base, 100 replicas per point)"


def test_lines_that_coincide_are_said_to() -> None:
    """When the other parameter moves nothing (rates depend on x only), the legend title says the lines coincide."""
    points = [(x, y, 0.1) for x, y in itertools.product(np.linspace(-0.3, 0.0, 4), np.linspace(0.0, 0.02, 3))]
    frame = _frame(points, [0.1 + abs(x) for x, _, _ in points], "grid")
    fig = lines_figure(frame, X, Y, METRIC)
    assert _legends(fig)[0].get_title().get_text() == "Ukraine's war cost per round (utility): all 3 lines coincide"
    fig = lines_figure(_grid(0.0, 0.55), X, Y, METRIC)
    assert _legends(fig)[0].get_title().get_text() == "Ukraine's war cost per round (utility)"
