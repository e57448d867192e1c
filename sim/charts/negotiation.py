"""Charts for people: the convergence chart of a run and the utility space of a group.

Every chart has a title, labelled axes with units and a legend. Each is drawn as a
matplotlib ``Figure`` (no pyplot state, so a web page can draw from several threads) and
written as PNG by the ``*_chart`` functions; the Agg backend needs no screen.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from sim.engine.model import NegotiationModel
    from sim.results import Outcome

PARTY_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad")
MIN_OPEN_SHARE = 0.05
"""Series are drawn only for rounds in which at least this share of replicas is still open."""
SERIES_STYLE = {
    "own": ("-", "utility of own offer"),
    "answered": ("--", "utility of the other side's offer"),
    "war": (":", "war payoff (reservation)"),
}


def save(fig: Figure, path: Path) -> None:
    """Write a chart as PNG (110 dpi), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def convergence_chart(
    model: NegotiationModel | Outcome,
    path: Path,
    *,
    title: str | None = None,
    trace: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
) -> None:
    """Write ``model_convergence`` to the PNG ``path``."""
    save(model_convergence(model, title=title, trace=trace, agreement=agreement), path)


def model_convergence(
    model: NegotiationModel | Outcome,
    *,
    title: str | None = None,
    trace: pd.DataFrame | None = None,
    agreement: pd.DataFrame | None = None,
) -> Figure:
    """The convergence chart of a (possibly partly run) model or of an outcome gathered from
    blocks, titled with its scenario's title unless ``title`` is given. ``trace`` and
    ``agreement`` are its ``trace_quantiles`` and ``replica_table`` where the caller has them."""
    from sim.results import as_outcome, replica_table, trace_quantiles

    run = as_outcome(model)
    return convergence_figure(
        trace_quantiles(run) if trace is None else trace,
        replica_table(run) if agreement is None else agreement,
        title=run.labels.title if title is None else title,
        party_names=dict(zip(run.parties, run.labels.party_names, strict=True)),
        replicas=run.replicas,
    )


def convergence_figure(
    trace: pd.DataFrame,
    agreement: pd.DataFrame,
    *,
    title: str,
    party_names: dict[str, str],
    replicas: int,
) -> Figure:
    """The convergence chart: one panel per agenda group, rounds up to the deadline.

    A partly run model draws as far as it got: rounds not yet played have no replica
    open and draw no line.

    Parameters
    ----------
    trace : DataFrame
        ``sim.results.trace_quantiles`` rows (median and interquartile band by round).
    agreement : DataFrame
        ``sim.results.replica_table`` rows (agreed, round) for the cumulative share agreed.
    title : str
        The scenario's title.
    party_names : dict
        Party key to display name.
    replicas : int
        R, shown in the title; with R > 1 medians and interquartile bands are drawn.
    """
    groups = list(dict.fromkeys(trace["group"]))
    rounds = int(trace["round"].max())
    fig = Figure(figsize=(6.4 * len(groups), 6.0), layout="constrained")
    axes = fig.subplots(1, len(groups), squeeze=False)
    for ax, group in zip(axes[0], groups, strict=True):
        rows = trace[trace["group"] == group]
        for c, party in enumerate(dict.fromkeys(rows["party"])):
            colour = PARTY_COLOURS[c % len(PARTY_COLOURS)]
            for series, (style, label) in SERIES_STYLE.items():
                line = rows[(rows["party"] == party) & (rows["series"] == series)].sort_values("round")
                # a median of a handful of stragglers misleads: draw only while enough are open
                line = line[line["open"] >= max(1, MIN_OPEN_SHARE * replicas)]
                ax.plot(
                    line["round"], line["median"], style, color=colour, lw=2, label=f"{party_names.get(party, party)}: {label}"
                )
                if replicas > 1 and series != "war":
                    ax.fill_between(line["round"], line["q25"], line["q75"], color=colour, alpha=0.12, lw=0)
        done = agreement[(agreement["group"] == group) & agreement["agreed"]]
        agreed_by = np.searchsorted(np.sort(done["round"].to_numpy()), np.arange(1, rounds + 1), side="right")
        share = agreed_by / max(replicas, 1)
        twin = ax.twinx()
        twin.step(range(1, rounds + 1), 100 * share, where="mid", color="0.35", lw=1.5, label="replicas agreed (right axis)")
        twin.set_ylim(0, 105)
        twin.set_ylabel("replicas agreed so far (%)")
        if len(done):
            median_round = float(done["round"].median())
            ax.axvline(median_round, color="0.2", lw=1, alpha=0.7)
            ax.annotate(
                f"median agreement: round {median_round:g}\n{100 * len(done) / replicas:.0f}% of replicas agreed",
                xy=(median_round, 0.02),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                textcoords="offset points",
                **({"xytext": (-6, 6), "ha": "right"} if median_round > 0.6 * rounds else {"xytext": (6, 6), "ha": "left"}),
            )
        else:
            ax.annotate("no replica agreed", xy=(0.5, 0.02), xycoords="axes fraction", ha="center", fontsize=9)
        ax.set_title(f"agenda group: {group}")
        ax.set_xlabel("round of talks")
        ax.set_ylabel("utility to the party (1 = its ideal outcome)")
        ax.set_xlim(1, rounds)
        ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    h2, l2 = twin.get_legend_handles_labels()
    fig.legend(handles + h2, labels + l2, loc="outside lower center", ncol=4, fontsize=8, frameon=False)
    band = "median and interquartile band over " if replicas > 1 else ""
    heading = f"{title}: convergence of offers ({band}{replicas} replica{'s' if replicas != 1 else ''})"
    fig.suptitle(textwrap.fill(heading, int(11 * 6.4 * len(groups))), fontsize=12)  # about 11 characters an inch
    if replicas > 1:
        note = f"Lines follow replicas still negotiating; drawn while at least {MIN_OPEN_SHARE:.0%} of replicas are open."
        fig.text(0.01, 0.005, note, fontsize=7, color="0.35")
    return fig


SOLUTION_MARKERS = {
    "nash": ("*", "Nash bargaining solution"),
    "kalai_smorodinsky": ("D", "Kalai-Smorodinsky"),
    "egalitarian": ("s", "egalitarian"),
    "utilitarian": ("^", "utilitarian"),
}


def utility_space_chart(
    model: NegotiationModel, path: Path, *, round_: int = 0, view: str = "at the documented positions"
) -> None:
    """Write ``model_utility_space`` to the PNG ``path``."""
    save(model_utility_space(model, round_=round_, view=view), path)


def model_utility_space(model: NegotiationModel, *, round_: int, view: str) -> Figure:
    """The utility space of a (possibly partly run) model's first replica: its candidates,
    the war payoffs of round ``round_`` (from 0) and the bargaining solutions they imply,
    the offers on the table so far by proposer, and where each group agreed."""
    from sim.analysis import SOLUTIONS, group_analysis
    from sim.core.dynamics import war_payoffs

    p = model.batch
    war = [w[0] for w in war_payoffs(p, round_)]
    solutions = []
    for g in range(len(p.groups)):
        entry = group_analysis(p, g, war[g])
        solutions.append({name: entry[name]["candidate"] if entry[name] else None for name in SOLUTIONS})
    names = p.labels.party_names
    groups = range(len(p.groups))
    return utility_space_figure(
        [u[0].T.astype(float) for u in p.utilities],
        war,
        solutions,
        [model.trace.table[g, :, 0] for g in groups],
        np.array([model.proposer_at(t) for t in range(model.rounds)]),
        [int(model.agreed_round[g, 0]) for g in groups],
        title=p.labels.title,
        group_names=[g.name for g in p.groups],
        party_names=tuple(names),
        view=view,
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
    party_names: tuple[str, ...],
    view: str = "at the documented positions",
) -> Figure:
    """The utility-space chart: one panel per agenda group.

    Parameters
    ----------
    utilities : list of (K, 2)
        Both belligerents' utilities of every candidate of each group.
    war : list of (2,)
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
    """
    from sim.theory import individually_rational, pareto_mask

    n_parties = utilities[0].shape[1] if utilities else 2
    if n_parties > 2:  # a plane holds two parties: the first pair, the zone still needing every party
        view = f"{view}; the first two of {n_parties} belligerents"
    zone = "zone of agreement (both beat war)" if n_parties == 2 else "zone of agreement (all beat war)"
    fig = Figure(figsize=(6.2 * len(utilities), 6.2), layout="constrained")
    axes = fig.subplots(1, len(utilities), squeeze=False)
    for g, ax in enumerate(axes[0]):
        full = utilities[g]
        u = full[:, :2]
        ax.scatter(u[:, 0], u[:, 1], s=9, color="0.7", label="candidate outcomes", zorder=1)
        front = u[pareto_mask(u)]
        front = front[np.argsort(front[:, 0])]
        ax.plot(front[:, 0], front[:, 1], "-", color="0.15", lw=1.4, label="Pareto frontier", zorder=2)
        ax.axvline(war[g][0], ls=":", color=PARTY_COLOURS[0], lw=1.6, label=f"{party_names[0]}: war payoff")
        ax.axhline(war[g][1], ls=":", color=PARTY_COLOURS[1], lw=1.6, label=f"{party_names[1]}: war payoff")
        rational = individually_rational(full, war[g])
        if rational.any():
            ax.scatter(u[rational, 0], u[rational, 1], s=14, color="#f1c40f", label=zone, zorder=2)
        for name, k in solutions[g].items():
            if k is not None:
                marker, label = SOLUTION_MARKERS[name]
                ax.scatter(*u[k], marker=marker, s=150, edgecolor="black", facecolor="white", label=label, zorder=4)
        tabled = paths[g] >= 0
        for who in np.unique(proposer[tabled]):
            steps = paths[g][tabled & (proposer == who)]
            colour = "#16a085" if who < 0 else PARTY_COLOURS[who % len(PARTY_COLOURS)]
            label = "mediator's text, by round" if who < 0 else f"{party_names[who]}'s offers, by round"
            ax.plot(u[steps, 0], u[steps, 1], "-o", color=colour, ms=4, lw=1.2, alpha=0.9, label=label, zorder=3)
            ax.annotate("first", u[steps[0]], xytext=(4, -10), textcoords="offset points", fontsize=7, color=colour)
        if agreed_round[g] >= 0:
            ax.scatter(
                *u[paths[g][agreed_round[g]]],
                marker="P",
                s=140,
                color="#16a085",
                edgecolor="black",
                label=f"agreed in round {agreed_round[g] + 1}",
                zorder=5,
            )
        ax.set_title(f"agenda group: {group_names[g]}")
        ax.set_xlabel(f"utility to {party_names[0]} (1 = its ideal)")
        ax.set_ylabel(f"utility to {party_names[1]} (1 = its ideal)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best", framealpha=0.85)
    fig.suptitle(textwrap.fill(f"{title}: utility space {view}", int(11 * 6.2 * len(utilities))), fontsize=12)
    return fig
