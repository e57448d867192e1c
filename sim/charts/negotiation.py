"""Charts for people: the convergence chart of a run and the utility space of a group.

Every chart has a title, labelled axes with units, a legend outside the axes and a
one-line caption saying how to read it (``sim.charts.style``). Each is a matplotlib
``Figure`` (no pyplot state, so a web page can draw from several threads) written as PNG
by the ``*_chart`` functions; the Agg backend needs no screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.charts.style import (
    CHARS_PER_INCH,
    EVENT_COLOURS,
    EVENTS_NOTE,
    MEDIATOR_COLOUR,
    MIN_OPEN_SHARE,
    SINGLE_TEXT_NOTE,
    caption,
    chart_figure,
    party_colour,
    save,
    wrap_phrases,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

    from sim.engine.model import NegotiationModel
    from sim.results import Outcome


@dataclass(frozen=True)
class EventMark:
    """A scheduled event as the convergence chart marks it: it falls due after round
    ``first`` (``from_round``; after ``last`` in some replicas where they differ) and
    changes the war payoffs of agenda group ``group`` only; ``carried_out`` is the share of
    replicas in which the threat is real (None: not known)."""

    name: str
    group: str | None
    first: int
    last: int
    carried_out: float | None = None


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
    rounds = run.event_from_round  # (R, E)
    events = [
        EventMark(
            name, run.event_group[e], int(rounds[:, e].min()), int(rounds[:, e].max()), float(run.event_carried_out[:, e].mean())
        )
        for e, name in enumerate(run.labels.events)
        if rounds.shape[0]
    ]
    return convergence_figure(
        trace_quantiles(run) if trace is None else trace,
        replica_table(run) if agreement is None else agreement,
        title=run.labels.title if title is None else title,
        party_names=dict(zip(run.parties, run.labels.party_names, strict=True)),
        replicas=run.replicas,
        protocol=run.protocol,
        events=events,
    )


def _share(k: int, n: int) -> str:
    """k of n as a percentage for people: never "0%" or "100%" unless exactly so."""
    share = 100 * k / max(n, 1)
    return f"{share:.1f}%" if (0 < share < 1 or 99 < share < 100) else f"{share:.0f}%"


def _agreement_note(rounds: np.ndarray, replicas: int) -> tuple[str, float | None]:
    """The panel's one-line agreement summary and the median round to mark (None: too few)."""
    k = len(rounds)
    if k == 0:
        return f"no replica of {replicas} agreed", None
    head = f"{_share(k, replicas)} of {replicas} replicas agreed"
    if k < max(1, MIN_OPEN_SHARE * replicas):
        span = f"round {rounds.min()}" if rounds.min() == rounds.max() else f"rounds {rounds.min()}-{rounds.max()}"
        return f"{k} of {replicas} replicas agreed ({_share(k, replicas)}), in {span}: too few for a median", None
    median = float(np.median(rounds))
    return f"{head}, median in round {median:g}, the last in round {rounds.max()}", median


def convergence_figure(
    trace: pd.DataFrame,
    agreement: pd.DataFrame,
    *,
    title: str,
    party_names: dict[str, str],
    replicas: int,
    protocol: str = "alternating_offers",
    events: Sequence[EventMark] = (),
) -> Figure:
    """The convergence chart: one panel per agenda group, any number of parties.

    A panel whose every replica agreed ends a round after the last agreement; others run to
    the deadline. A partly run model draws as far as it got: rounds not yet played have no
    replica open and draw no line. Each event is a vertical line between the round it
    falls due after and the next, in the panel of the group it affects.

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
    protocol : str
        ``alternating_offers`` or ``single_text`` (what "own" and "answered" mean).
    events : sequence of EventMark
        The scheduled events to mark.
    """
    groups = list(dict.fromkeys(trace["group"]))
    parties = list(dict.fromkeys(trace["party"]))
    deadline = int(trace["round"].max())
    single_text = protocol == "single_text"
    answered = (
        "utility of the mediator's text"
        if single_text
        else ("utility of the other side's offer" if len(parties) == 2 else "utility of the offer it answers")
    )
    own = "utility of its own demand (the offer it would make)" if single_text else "utility of its own offer"
    styles = {"own": ("-", own), "answered": ("--", answered), "war": (":", "war payoff")}
    width = 6.4 * max(len(groups), 1.5)  # one panel still leaves the legend room
    text = caption(
        "convergence",
        answered="offered in the mediator's text" if single_text else "offered",
        single_text=SINGLE_TEXT_NOTE if single_text else "",
        events=EVENTS_NOTE if events else "",
    )
    fig, body = chart_figure(width, 6.6, text)
    axes = body.subplots(1, len(groups), squeeze=False)
    extra: dict[str, Artist] = {}
    for ax, group in zip(axes[0], groups, strict=True):
        rows = trace[trace["group"] == group]
        done = np.sort(agreement.loc[(agreement["group"] == group) & agreement["agreed"], "round"].to_numpy(dtype=int))
        # end a round after fewer than MIN_OPEN_SHARE are left to agree: the rest is a flat line
        left = replicas - np.searchsorted(done, np.arange(1, deadline + 1), side="right")
        settled = np.flatnonzero(left < max(1, MIN_OPEN_SHARE * replicas))
        end = min(deadline, int(settled[0]) + 2) if len(settled) else deadline
        all_by = int(done[-1]) if len(done) == replicas and replicas else None
        mine = [(e, ev) for e, ev in enumerate(events) if ev.group == group]
        for _, ev in mine:  # show an event that falls due while some replicas still negotiate
            if ev.first < deadline and (all_by is None or ev.first < all_by):
                end = max(end, min(deadline, ev.last + 1))
        for c, party in enumerate(parties):
            for series, (style, _) in styles.items():
                line = rows[(rows["party"] == party) & (rows["series"] == series)].sort_values("round")
                # a median of a handful of stragglers misleads: draw only while enough are open
                line = line[(line["open"] >= max(1, MIN_OPEN_SHARE * replicas)) & (line["round"] <= end)]
                colour = party_colour(c)
                ax.plot(line["round"], line["median"], style, marker="o", ms=3.5, color=colour, lw=2)
                if replicas > 1 and series != "war":
                    ax.fill_between(line["round"], line["q25"], line["q75"], color=colour, alpha=0.12, lw=0)
        twin = ax.twinx()
        steps = np.arange(1, end + 1)
        twin.step(steps, 100 * np.searchsorted(done, steps, side="right") / max(replicas, 1), where="mid", color="0.35", lw=1.5)
        twin.set_ylim(0, 105)
        twin.set_ylabel("replicas agreed so far (%)")
        note, median = _agreement_note(done, replicas)
        if median is not None:
            top = ax.get_xaxis_transform()  # x in rounds, y in axes fraction: on the top spine
            ax.plot([median], [1.0], "v", ms=9, color="0.15", transform=top, clip_on=False, zorder=6, label="median")
            extra["median"] = Line2D([], [], ls="", marker="v", ms=8, color="0.15", label="median agreement round (top edge)")
        _mark_events(ax, group, mine, (deadline, all_by), extra)
        ax.set_title(f"agenda group: {group}", pad=22)
        ax.annotate(
            note,
            (0.5, 1.0),
            xycoords="axes fraction",
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8.5,
            color="0.2",
        )
        shown = f" (shown to round {end} of {deadline}: fewer than {MIN_OPEN_SHARE:.0%} were left to agree)"
        ax.set_xlabel("round of talks" + (shown if end < deadline else ""))
        ax.set_ylabel("utility to the party (1 = its ideal outcome)")
        ax.set_xlim(0.5, end + 0.5)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    columns: list[list[Artist]] = [
        [Line2D([], [], color=party_colour(c), lw=3, label=party_names.get(p, p)) for c, p in enumerate(parties)],
        [Line2D([], [], ls=style, color="0.3", lw=2, label=text) for style, text in styles.values()],
        [Line2D([], [], color="0.35", lw=1.5, drawstyle="steps-mid", label="replicas agreed so far (right axis)")]
        + [h for key, h in extra.items() if key == "median"],
        [h for key, h in extra.items() if key != "median"],
    ]
    _column_legend(body, [c for c in columns if c])
    band = "median and interquartile band over " if replicas > 1 else ""
    phrases = [f"{title}:", "convergence of offers", f"({band}{replicas} replica{'s' if replicas != 1 else ''})"]
    fig.suptitle(wrap_phrases(phrases, int(CHARS_PER_INCH * width)), fontsize=12)
    return fig


def _column_legend(body: SubFigure, columns: list[list[Artist]]) -> None:
    """One legend under the axes with each list of handles in a column of its own."""
    rows = max(len(c) for c in columns)
    blank = Line2D([], [], alpha=0.0, label=" ")
    handles = [h for c in columns for h in c + [blank] * (rows - len(c))]
    body.legend(handles=handles, loc="outside lower center", ncol=len(columns), fontsize=8, frameon=False)


def _mark_events(
    ax: Axes,
    group: str,
    events: Sequence[tuple[int, EventMark]],
    rounds: tuple[int, int | None],
    legend: dict[str, Artist],
) -> None:
    """Vertical lines (a band where replicas differ) where each event falls due, named in the legend.

    ``events`` pairs each event with its index (its colour); ``rounds`` are the deadline and
    the round by which every replica had agreed (None: not all did).
    """
    deadline, all_by = rounds
    for e, ev in events:
        colour = EVENT_COLOURS[e % len(EVENT_COLOURS)]
        when = f"after round {ev.first}" if ev.first == ev.last else f"after rounds {ev.first}-{ev.last} (by replica)"
        if ev.first == 0:
            when = "from the first round"
        unseen = ""
        if ev.first >= deadline:
            unseen = " (past the deadline: only anticipated)"
        elif all_by is not None and all_by <= ev.first:
            unseen = " (averted: every replica had agreed by then)"
        elif ev.first == ev.last:
            ax.axvline(ev.first + 0.5, color=colour, ls="-.", lw=1.6, label=ev.name)
        else:
            ax.axvspan(ev.first + 0.5, ev.last + 0.5, color=colour, alpha=0.15, lw=0, label=ev.name)
        real = "" if ev.carried_out is None else f"; carried out in {_share(round(ev.carried_out * 1000), 1000)} of replicas"
        label = f"{ev.name}: falls due {when}, in {group}{real}{unseen}"
        spread = ev.first != ev.last and not unseen
        legend[f"event {e}"] = (
            Patch(color=colour, alpha=0.15, label=label) if spread else Line2D([], [], color=colour, ls="-.", lw=1.6, label=label)
        )


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
        party_names=p.labels.party_names,
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
    party_names: Sequence[str],
    view: str = "at the documented positions",
) -> Figure:
    """The utility-space chart: one panel per agenda group, over the first two belligerents
    (with more, the title says the others are not shown).

    Points where several solutions, the agreement or a first offer coincide are named
    together beside the point ("Nash = KS = egalitarian = agreement").

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
        for who in np.unique(proposer[tabled]):
            steps = paths[g][tabled & (proposer == who)]
            colour = MEDIATOR_COLOUR if who < 0 else party_colour(int(who))
            label = "mediator's text, by round" if who < 0 else f"{_possessive(party_names[who])} offers, by round"
            ax.plot(u[steps, 0], u[steps, 1], "-o", color=colour, ms=4, lw=1.2, alpha=0.9, label=label, zorder=3)
            firsts[int(steps[0])] = ("mediator's" if who < 0 else _possessive(party_names[who])) + " first offer"
        if agreed_round[g] >= 0:
            k = int(paths[g][agreed_round[g]])
            ax.scatter(
                *u[k],
                marker="P",
                s=140,
                color=MEDIATOR_COLOUR,
                edgecolor="black",
                label=f"agreed in round {agreed_round[g] + 1}",
                zorder=5,
            )
            names.setdefault(k, []).append("agreement")
        for k, first in firsts.items():
            names.setdefault(k, []).append(first)
        ax.margins(0.08)
        _name_points(ax, u, {k: v for k, v in names.items() if len(v) > 1 or v[0].endswith("first offer")})
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
