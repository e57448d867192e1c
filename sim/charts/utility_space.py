"""The utility-space chart of a run's agenda groups: every candidate placed by what it is
worth to two parties, the war payoffs, the bargaining solutions and the offers made.

Same habits as ``sim.charts.negotiation`` (title, labelled axes, legend outside the axes, a
caption saying how to read it); no model quantity is computed here (``sim.analysis`` and
``sim.theory`` do that).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

from sim.charts.style import (
    CHARS_PER_INCH,
    MEDIATOR_COLOUR,
    caption,
    chart_figure,
    party_colour,
    save,
    span,
    wrap_phrases,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from sim.engine.model import NegotiationModel


SOLUTION_MARKERS = {
    "nash": ("*", "Nash bargaining solution", "Nash"),
    "kalai_smorodinsky": ("D", "Kalai-Smorodinsky", "KS"),
    "egalitarian": ("s", "egalitarian", "egalitarian"),
    "utilitarian": ("^", "utilitarian", "utilitarian"),
}


def utility_space_chart(
    model: NegotiationModel, path: Path, *, round_: int = 0, view: str = "at the documented positions"
) -> None:
    """Write ``model_utility_space`` to the PNG ``path``."""
    save(model_utility_space(model, round_=round_, view=view), path)


def model_utility_space(model: NegotiationModel, *, round_: int, view: str, live: bool = False) -> Figure:
    """The utility space of a (possibly partly run) model's first replica: its candidates,
    the war payoffs of round ``round_`` (from 0) and the bargaining solutions they imply,
    the offers on the table so far by proposer, and where each group agreed; ``live`` as
    ``utility_space_figure`` takes it."""
    from sim.analysis import SOLUTIONS, group_analysis
    from sim.core.dynamics import war_payoffs

    p = model.batch
    war = [w[0] for w in war_payoffs(p, round_)]
    solutions = []
    for g in range(len(p.groups)):
        entry = group_analysis(p, g, war[g])
        solutions.append({name: entry[name]["candidate"] if entry[name] else None for name in SOLUTIONS})
    groups = range(len(p.groups))
    frame = None
    if live:  # the axes the talks can ever need: every candidate and every round's war payoff
        wars = model.war_payoffs.extremes()
        frame = [
            tuple(
                (min(float(u[0, i].min()), float(low[0, i])), max(float(u[0, i].max()), float(high[0, i])))
                for i in range(2)
            )
            for u, (low, high) in zip(p.utilities, wars, strict=True)
        ]
    return utility_space_figure(
        [u[0].T.astype(float) for u in p.utilities],
        war,
        solutions,
        [model.trace.table[g, :, 0] for g in groups],
        np.array([model.proposer_at(t) for t in range(model.rounds)]),
        [int(model.agreed_round[g, 0]) for g in groups],
        title=p.labels.title,
        group_names=[g.name for g in p.groups],
        party_names=p.labels.party_names,
        view=view,
        live=live,
        frame=frame,
    )


def utility_space_figure(
    utilities: list[np.ndarray],
    war: list[np.ndarray],
    solutions: list[dict[str, int | None]],
    paths: list[np.ndarray],
    proposer: np.ndarray,
    agreed_round: list[int],
    *,
    title: str,
    group_names: list[str],
    party_names: Sequence[str],
    view: str = "at the documented positions",
    live: bool = False,
    frame: Sequence[tuple[tuple[float, float], ...]] | None = None,
) -> Figure:
    """The utility-space chart: one panel per agenda group, over the first two belligerents
    (with more, the title says the others are not shown).

    Points where several solutions, the agreement or a first offer coincide are named
    together beside the point ("Nash = KS = egalitarian = agreement"). A ``live`` chart,
    redrawn after every round of a running model, keeps its legends from round to round:
    they name every proposer's offers and the agreement before any is drawn, and the
    round of the agreement is written beside its point.

    Parameters
    ----------
    utilities : list of (K, P)
        The belligerents' utilities of every candidate of each group.
    war : list of (P,)
        War payoffs (the disagreement point) of each group.
    solutions : list of dict
        Solution name to candidate index (or None) for each group.
    paths : list of (T,)
        Candidate on the table each round of a documented run (-1 after agreement).
    proposer : (T,) int
        Whose offer was on the table each round: a belligerent's index, or -1 for a
        mediator's text. Each proposer's offers are drawn as one path in its colour.
    agreed_round : list of int
        Round (from 0) each group agreed in that run, -1 if never (or not yet).
    view : str
        Which utility space this is, after the title ("at the documented positions").
    live : bool
        Keep the legends of every round of a running model (the page's chart).
    frame : list of ((x low, x high), (y low, y high)), optional
        Each panel's utility ranges to span (a live chart's, known before round 1), widened
        only where the data go beyond them; None: the data's own ranges.
    """
    from sim.theory import individually_rational, pareto_mask

    width = 6.2 * max(len(utilities), 1.3)
    fig, body = chart_figure(width, 7.4, caption("utility_space"))
    axes = body.subplots(1, len(utilities), squeeze=False)
    for g, ax in enumerate(axes[0]):
        u = utilities[g][:, :2]
        names: dict[int, list[str]] = {}  # candidate -> what sits on it, for coincident points
        ax.scatter(u[:, 0], u[:, 1], s=9, color="0.7", label="candidate outcomes", zorder=1)
        front = u[pareto_mask(u)]
        front = front[np.argsort(front[:, 0])]
        ax.plot(
            front[:, 0],
            front[:, 1],
            "-",
            marker="o" if len(front) == 1 else "",
            color="0.15",
            lw=1.4,
            ms=4,
            label="Pareto frontier" + (" (a single point)" if len(front) == 1 else ""),
            zorder=2,
        )
        for i in range(2):
            line = ax.axvline if i == 0 else ax.axhline
            line(war[g][i], ls=":", color=party_colour(i), lw=1.6, label=f"{party_names[i]}: war payoff")
        if len(front) == 1:
            names[int(np.flatnonzero(pareto_mask(u))[0])] = ["Pareto frontier"]
        rational = individually_rational(utilities[g], war[g])
        if rational.any():
            zone = "zone of agreement (both beat war)" if len(party_names) == 2 else "zone of agreement (all beat war)"
            ax.scatter(u[rational, 0], u[rational, 1], s=14, color="#f1c40f", label=zone, zorder=2)
        else:
            ax.plot([], [], "o", mfc="none", mec="#f1c40f", label="no zone of agreement: no candidate beats war for both")
        for name, k in solutions[g].items():
            if k is not None:
                marker, label, short = SOLUTION_MARKERS[name]
                ax.scatter(*u[k], marker=marker, s=150, edgecolor="black", facecolor="white", label=label, zorder=4)
                names.setdefault(k, []).append(short)
        tabled = paths[g] >= 0
        firsts: dict[int, str] = {}
        for who in np.unique(proposer if live else proposer[tabled]):  # live: those yet to offer too
            steps = paths[g][tabled & (proposer == who)]
            colour = MEDIATOR_COLOUR if who < 0 else party_colour(int(who))
            label = "mediator's text, by round" if who < 0 else f"{_possessive(party_names[who])} offers, by round"
            ax.plot(u[steps, 0], u[steps, 1], "-o", color=colour, ms=4, lw=1.2, alpha=0.9, label=label, zorder=3)
            if len(steps):
                firsts[int(steps[0])] = ("mediator's" if who < 0 else _possessive(party_names[who])) + " first offer"
        if agreed_round[g] >= 0 or live:
            k = int(paths[g][agreed_round[g]]) if agreed_round[g] >= 0 else -1
            ax.scatter(
                *(u[k] if k >= 0 else ([], [])),
                marker="P",
                s=140,
                color=MEDIATOR_COLOUR,
                edgecolor="black",
                label="agreement (its round beside it)" if live else f"agreed in round {agreed_round[g] + 1}",
                zorder=5,
            )
            if k >= 0:
                names.setdefault(k, []).append(f"agreement in round {agreed_round[g] + 1}" if live else "agreement")
        for k, first in firsts.items():
            names.setdefault(k, []).append(first)
        ax.margins(0.08)
        if frame is not None:
            span(ax, frame[g])
        # named: a point several things sit on, a first offer, and (live) the agreement with its round
        named = {k: v for k, v in names.items() if len(v) > 1 or v[0].endswith("first offer") or v[0].startswith("agreement in")}
        _name_points(ax, u, named)
        ax.set_title(f"agenda group: {group_names[g]}")
        ax.set_xlabel(f"utility to {party_names[0]} (1 = its ideal)")
        ax.set_ylabel(f"utility to {party_names[1]} (1 = its ideal)")
        ax.grid(alpha=0.3)
        legend = ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)
        for handle in legend.legend_handles:  # legend markers at a common size, whatever their size drawn
            if isinstance(handle, PathCollection):
                handle.set_sizes([60 if handle.get_sizes()[0] > 40 else 30])
    more = [f"(the first two of {len(party_names)} belligerents)"] if len(party_names) > 2 else []
    fig.suptitle(wrap_phrases([f"{title}:", f"utility space {view}", *more], int(CHARS_PER_INCH * width)), fontsize=12)
    return fig


def _possessive(name: str) -> str:
    """ "Ukraine's", but "the negotiators'"."""
    return name + ("'" if name.endswith("s") else "'s")


def _name_points(ax: Axes, u: np.ndarray, names: dict[int, list[str]]) -> None:
    """Write what sits on each point beside it, toward the middle of the axes so no name is clipped."""
    xlo, xhi = ax.get_xlim()
    ylo, yhi = ax.get_ylim()
    for k, what in names.items():
        x, y = u[k]
        right = x > (xlo + xhi) / 2
        up = y > (ylo + yhi) / 2
        text = wrap_phrases([w + (" =" if i < len(what) - 1 else "") for i, w in enumerate(what)], 34)
        ax.annotate(
            text,
            (x, y),
            xytext=(-10 if right else 10, -10 if up else 10),
            textcoords="offset points",
            ha="right" if right else "left",
            va="top" if up else "bottom",
            fontsize=7.5,
            color="0.15",
            bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "0.6", "alpha": 0.9},
            zorder=6,
        )

