"""The opening positions of a negotiation before its first round, per agenda group: what
each belligerent's own best outcome, the other side's best outcome and war are worth to it.

Shown where the convergence chart (``sim.charts.negotiation``) has no round to draw yet,
as the page does before its first step; it draws no round of talks.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.charts.style import PARTY_COLOURS

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel

OPENING_SERIES = {
    "own": ("o", "its own best outcome"),
    "other": ("v", "the other side's best outcome"),
    "war": ("_", "its war payoff before round 1 (reservation)"),
}
"""Series of the opening chart: marker and legend label."""


def opening_values(utilities: np.ndarray, war: np.ndarray) -> dict[str, np.ndarray]:
    """Each party's utility (R, P) of its own best candidate, of the other side's best
    candidate (with more than two parties: the worst to it of the others' best), and war.

    ``utilities``: (R, P, K) every party's utility of every candidate; ``war``: (R, P).

    Examples
    --------
    >>> u = np.array([[[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]])  # one replica, two parties, three candidates
    >>> values = opening_values(u, np.array([[0.2, 0.3]]))
    >>> values["own"].tolist(), values["other"].tolist(), values["war"].tolist()
    ([[1.0, 1.0]], [[0.0, 0.0]], [[0.2, 0.3]])
    """
    best = utilities.argmax(axis=2)  # (R, P): each party's best candidate
    replicas, parties, _ = utilities.shape
    # value[r, i, j]: party i's utility of party j's best candidate
    value = np.take_along_axis(utilities, np.broadcast_to(best[:, None, :], (replicas, parties, parties)), axis=2)
    others = np.where(np.eye(parties, dtype=bool)[None], np.inf, value)
    return {"own": value[:, np.arange(parties), np.arange(parties)], "other": others.min(axis=2), "war": war}


def model_opening(model: NegotiationModel) -> Figure:
    """``opening_figure`` of a model's batch: its candidates' utilities and round 0's war payoffs."""
    from sim.core.dynamics import war_payoffs

    b = model.batch
    war = war_payoffs(b, 0)
    return opening_figure(
        [opening_values(u.astype(float), w) for u, w in zip(b.utilities, war, strict=True)],
        title=b.labels.title,
        group_names=[g.name for g in b.groups],
        party_names=list(b.labels.party_names),
    )


def opening_figure(values: list[dict[str, np.ndarray]], *, title: str, group_names: list[str], party_names: list[str]) -> Figure:
    """One panel per agenda group: per party, the median over replicas of each series of
    ``opening_values`` (with its interquartile range when R > 1).

    Parameters
    ----------
    values : list of dict
        Per group, ``opening_values``: series name to (R, P).
    title : str
        The scenario's title.
    group_names, party_names : list of str
        The agenda groups' and the belligerents' names, in the arrays' order.
    """
    replicas = next(iter(values[0].values())).shape[0]
    fig = Figure(figsize=(6.4 * len(values), 6.0), layout="constrained")
    axes = fig.subplots(1, len(values), squeeze=False)
    offsets = np.linspace(-0.2, 0.2, len(OPENING_SERIES))
    for ax, group, name in zip(axes[0], values, group_names, strict=True):
        for i in range(len(party_names)):
            colour = PARTY_COLOURS[i % len(PARTY_COLOURS)]
            for offset, (series, (marker, _)) in zip(offsets, OPENING_SERIES.items(), strict=True):
                low, median, high = np.quantile(group[series][:, i], [0.25, 0.5, 0.75])
                ax.errorbar(
                    i + offset,
                    median,
                    yerr=[[median - low], [high - median]] if replicas > 1 else None,
                    fmt=marker,
                    ms=14 if marker == "_" else 9,
                    mew=3 if marker == "_" else 1,
                    color=colour,
                    capsize=4,
                )
        ax.set_xticks(range(len(party_names)), party_names)
        for tick, i in zip(ax.get_xticklabels(), range(len(party_names)), strict=True):
            tick.set_color(PARTY_COLOURS[i % len(PARTY_COLOURS)])
        ax.set_xlim(-0.6, len(party_names) - 0.4)
        ax.set_title(f"agenda group: {name}")
        ax.set_xlabel("belligerent (no round played yet; no side accepts less than its war payoff)")
        ax.set_ylabel("utility to the party (1 = its ideal outcome)")
        ax.grid(alpha=0.3, axis="y")
    handles = [
        Line2D([], [], ls="", marker=marker, ms=12 if marker == "_" else 8, mew=3 if marker == "_" else 1, color="0.25")
        for marker, _ in OPENING_SERIES.values()
    ]
    labels = [f"each party (in its colour): {label}" for _, label in OPENING_SERIES.values()]
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    band = "median and interquartile range over " if replicas > 1 else ""
    heading = f"{title}: opening positions before round 1 ({band}{replicas} replica{'s' if replicas != 1 else ''})"
    fig.suptitle(textwrap.fill(heading, int(11 * 6.4 * len(values))), fontsize=12)
    return fig
