"""What every chart shares: the palette, the one-line captions saying how to read each
kind of chart, a figure with its caption laid out below the axes, title wrapping between
phrases, a live chart's axes set to a frame, and writing PNGs. No chart is drawn here.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

PARTY_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad")
"""The first belligerents' colours; ``party_colour`` extends them for more parties."""
EVENT_COLOURS = ("#b8860b", "#6c3483", "#117a65", "#5d6d7e")
MEDIATOR_COLOUR = "#16a085"
MIN_OPEN_SHARE = 0.05
"""Medians are drawn only for rounds in which at least this share of replicas is still
open, and a median agreement round only where at least this share agreed."""
FRAME_SLACK = 1e-9
"""A live chart's axes span a frame known before round 1; data widen it only when beyond it
by more than this share of its range (not by the rounding of a collection's data limits)."""


def span(ax: Axes, frames: Sequence[tuple[float, float] | None]) -> None:
    """Set the x and y ranges of ``ax`` to ``frames`` (low, high; None: leave that axis to
    autoscale) and to the data it holds, with the axes' margins. Data count as beyond a frame
    only by more than ``FRAME_SLACK`` of its range (a scatter's data limits come through a
    transform and its inverse, off by a rounding error); a range of a single value is left
    to autoscale."""
    data = (ax.dataLim.intervalx, ax.dataLim.intervaly) if ax.has_data() else (None, None)
    margins = (ax.get_xmargin(), ax.get_ymargin())
    setters: tuple[Callable[..., Any], ...] = (ax.set_xlim, ax.set_ylim)
    for frame, seen, margin, set_lim in zip(frames, data, margins, setters, strict=True):
        if frame is None:
            continue
        low, high = frame
        if seen is not None and np.isfinite(seen).all():
            slack = FRAME_SLACK * max(1.0, high - low)
            low = float(seen[0]) if seen[0] < low - slack else low
            high = float(seen[1]) if seen[1] > high + slack else high
        if high > low:
            set_lim(low - margin * (high - low), high + margin * (high - low))
CHARS_PER_INCH = 11
"""About how many characters of a 12-point title fit in an inch of figure width."""

CAPTIONS = {
    "convergence": (
        "How to read: solid lines are what each side asks for, dashed what it is {answered}, dotted what war is worth "
        "to it; a side accepts once dashed beats dotted and reaches what waiting would bring it (solid, discounted, "
        "or less where the other side would refuse that). Medians over the replicas still negotiating "
        "(while at least {open_share} are), bands their middle half; the grey step is the share agreed so far."
        "{single_text}{events}"
    ),
    "utility_space": (
        "How to read: each grey dot is a possible deal placed by what it is worth to each side; yellow dots beat war "
        "for both (right of and above the dotted war payoffs); white markers are the bargaining solutions, coloured "
        "paths the offers made round by round."
    ),
    "heatmap": (
        "How to read: each cell is one setting of the two parameters, coloured by {metric} over its runs "
        "(the other parameters pooled); the white line, where drawn, is where half the runs agree."
    ),
    "scatter": (
        "How to read: each marker is one position of the two sampled parameters, coloured by {metric} over the runs "
        "pooled there{written}{pooled}."
    ),
    "lines": (
        "How to read: each line follows {metric} as the x parameter changes, one line per {level} of the other "
        "parameter; shaded bands are 95% intervals of the pooled runs."
    ),
    "morris": (
        "How to read: the further right mu*, the more the parameter moves {metric} over its range; sigma near or "
        "above mu* means its effect depends on the other parameters; bars are 95% bootstrap intervals of mu*."
    ),
    "sobol": (
        "How to read: S1 is the share of {metric}'s variance a parameter explains alone, ST the share including its "
        "interactions with the others; bars are 95% bootstrap intervals."
    ),
}


SINGLE_TEXT_NOTE = (
    " The mediator moves its text toward whichever side it leaves short, so the text swings between the sides: "
    "the dashed medians zig-zag while replicas swing in step, and the wide bands are that spread."
)
EVENTS_NOTE = " Dash-dot lines: an event falls due; before it, war payoffs count its expected cost."


class _Blanks(dict[str, str]):
    """Caption context: a blank not given is left out."""

    def __missing__(self, key: str) -> str:
        return ""


def caption(kind: str, **context: str) -> str:
    """The one-line reading guide of a chart ``kind`` (a key of ``CAPTIONS``), with its blanks filled.

    Examples
    --------
    >>> caption("heatmap", metric="the agreement rate")[:40]
    'How to read: each cell is one setting of'
    """
    return CAPTIONS[kind].format_map(_Blanks({"answered": "offered", "open_share": f"{MIN_OPEN_SHARE:.0%}", **context}))


def chart_figure(width: float, height: float, text: str) -> tuple[Figure, SubFigure]:
    """A figure whose body (returned with it, ``height`` inches tall) holds the axes and
    legends and whose foot holds the caption ``text``, wrapped to the width: a sub-figure
    of its own, so the layout never lets the caption and a legend below the axes overlap."""
    lines = textwrap.wrap(text, int(1.6 * CHARS_PER_INCH * width))  # the caption is 8 points, titles 12
    foot = 0.12 + 0.15 * len(lines)
    fig = Figure(figsize=(width, height + foot), layout="constrained")
    parts = fig.subfigures(2, 1, height_ratios=[height, foot], squeeze=False)
    body, bottom = parts[0, 0], parts[1, 0]
    bottom.text(0.5, 0.5, "\n".join(lines), ha="center", va="center", fontsize=8, color="0.25", gid="caption")
    return fig, body


def caption_of(fig: Figure) -> str:
    """The caption drawn in a chart of this package, as one line of text ('' if none)."""
    texts = [t.get_text() for sub in fig.subfigs for t in sub.texts if t.get_gid() == "caption"]
    return " ".join(" ".join(texts).split())


def party_colour(index: int) -> str:
    """The colour of the belligerent at ``index``: ``PARTY_COLOURS``, then tab10's others, then repeats."""
    palette = _palette()
    return palette[index % len(palette)]


@cache
def _palette() -> tuple[str, ...]:
    """``PARTY_COLOURS`` and tab10's colours other than its versions of them (worked out once:
    a chart asks for a colour per line)."""
    extra = [matplotlib.colors.to_hex(matplotlib.colormaps["tab10"](i)) for i in range(10)]
    return (*PARTY_COLOURS, *(c for c in extra if c not in {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"}))


def wrap_phrases(phrases: Sequence[str], width: int) -> str:
    """Join phrases with spaces, breaking lines only between phrases (a phrase longer than
    ``width`` is wrapped on its own)."""
    lines: list[str] = []
    for phrase in phrases:
        if lines and len(lines[-1]) + 1 + len(phrase) <= width:
            lines[-1] += " " + phrase
        else:
            lines.extend(textwrap.wrap(phrase, width) or [""])
    return "\n".join(lines)


def save(fig: Figure, path: Path) -> None:
    """Write a chart as PNG (110 dpi), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
