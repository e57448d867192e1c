"""Charts for people: the convergence chart of a run (the utility space of its groups is
``sim.charts.utility_space``).

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
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim.charts.style import (
    CHARS_PER_INCH,
    EVENT_COLOURS,
    EVENTS_NOTE,
    MIN_OPEN_SHARE,
    SINGLE_TEXT_NOTE,
    caption,
    chart_figure,
    party_colour,
    save,
    span,
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
    live: bool = False,
) -> Figure:
    """The convergence chart of a (possibly partly run) model or of an outcome gathered from
    blocks, titled with its scenario's title unless ``title`` is given. ``trace`` and
    ``agreement`` are its ``trace_quantiles`` and ``replica_table`` where the caller has them;
    ``live`` as ``convergence_figure`` takes it."""
    from sim.engine import NegotiationModel
    from sim.results import as_outcome, replica_table, trace_quantiles

    run = as_outcome(model)
    frame = live_frame(model) if live and isinstance(model, NegotiationModel) else None
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
        live=live,
        frame=frame,
    )


def live_frame(model: NegotiationModel) -> dict[str, tuple[float, float]]:
    """Each agenda group's range of utility (low, high) that its convergence panel can ever
    have to show, known before the first round: every candidate's utility to every party
    and every war payoff of every round to the deadline, in every replica (with and without
    a truce's relief where the scenario has truces), and 0 and 1 (war costing nothing, the
    ideal outcome). A live chart spans it from round 0, so its axes do not move as the talks go on.

    Examples
    --------
    >>> from sim.inputs import load_scenario, with_overrides
    >>> from sim.engine import NegotiationModel, compile_batch
    >>> model = NegotiationModel(compile_batch(with_overrides(load_scenario("istanbul_2025"), replicas=20)))
    >>> frame = live_frame(model)
    >>> frame["humanitarian"][1] >= 1.0 and frame["security"][0] <= float(model.batch.utilities[1].min())
    True
    """
    batch = model.batch
    wars = model.war_payoffs.extremes()
    return {
        group.name: (min(0.0, float(u.min()), float(wars[g][0].min())), max(1.0, float(u.max()), float(wars[g][1].max())))
        for g, (group, u) in enumerate(zip(batch.groups, batch.utilities, strict=True))
    }


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
    live: bool = False,
    frame: dict[str, tuple[float, float]] | None = None,
) -> Figure:
    """The convergence chart: one panel per agenda group, any number of parties.

    A panel whose every replica agreed ends a round after the last agreement; others run to
    the deadline. A partly run model draws as far as it got: rounds not yet played have no
    replica open and draw no line. Each event is a vertical line between the round it
    falls due after and the next, in the panel of the group it affects. A ``live`` chart,
    redrawn after every round of a running model, keeps its frame from round to round:
    every panel runs to the deadline, and the legend names the median agreement round
    before any is marked.

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
    live : bool
        Keep the frame of every round of a running model (the page's chart).
    frame : dict, optional
        Each group's utility range (low, high) its panel spans (``live_frame``), widened
        only where the data go beyond it; None: the data's own range.
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
        end = min(deadline, int(settled[0]) + 2) if len(settled) and not live else deadline
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
        if "opened" in agreement.columns:  # a phased group: say how often it never came to the table
            never = int((~agreement.loc[agreement["group"] == group, "opened"].astype(bool)).sum())
            if never:
                note += f"; never opened in {_share(never, replicas)} (waits for an earlier group)"
        if median is not None:
            top = ax.get_xaxis_transform()  # x in rounds, y in axes fraction: on the top spine
            ax.plot([median], [1.0], "v", ms=9, color="0.15", transform=top, clip_on=False, zorder=6, label="median")
        if median is not None or live:
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
        if frame is not None and group in frame:
            span(ax, (None, frame[group]))
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

