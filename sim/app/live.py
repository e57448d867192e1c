"""The page's charts as PNG bytes, drawn at most once per round of each model, reusing the
layout of the previous drawing while its ticks, titles and legends are unchanged
(matplotlib's constrained layout is about a third of a drawing's cost).

Nothing here imports solara or decides what a chart shows (``sim.app.session`` does).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure, SubFigure
from matplotlib.text import Text

LIVE_DPI = 80
"""Resolution of the page's charts (chart files get 110 dpi). Lower saves little: text, not
pixels, takes the time (64 dpi drew 500 replicas' two charts no faster than 80)."""
PNG_OPTIONS = {"compress_level": 1}
"""The page's PNGs travel over the page's own connection: fast compression beats small files."""

Layout = tuple[Any, list[Any], list[Any], list[Any]]
"""What a drawing's layout depends on (its signature), its sub-figures' boxes, its axes'
positions, and where its (sub-)figures' titles and super labels stand."""


def layout_signature(figure: Figure) -> tuple[Any, ...]:
    """What the constrained layout of ``figure`` depends on that changes between rounds: each
    axes' ticks, title and axis labels, every legend's entries, and the number of lines of
    the titles of the figure and its sub-figures. Equal signatures lay out alike.

    Examples
    --------
    >>> fig = Figure()
    >>> ax = fig.subplots()
    >>> before = layout_signature(fig)
    >>> _ = ax.set_ylim(0, 5)
    >>> layout_signature(fig) == before
    False
    """
    axes = tuple(
        (tuple(ax.get_xticks()), tuple(ax.get_yticks()), ax.get_title(), ax.get_xlabel(), ax.get_ylabel(), _legend_texts(ax))
        for ax in figure.axes
    )
    panels = tuple((_titles(panel), _legend_texts(panel)) for panel in _panels(figure))
    return (figure.get_size_inches().tolist(), axes, panels)


def _panels(figure: Figure | SubFigure) -> list[Figure | SubFigure]:
    """The figure and its sub-figures, depth first."""
    out: list[Figure | SubFigure] = [figure]
    for sub in figure.subfigs:
        out.extend(_panels(sub))
    return out


def _legend_texts(owner: Any) -> tuple[str, ...]:
    """The entries of the legends of an axes or a (sub-)figure."""
    legends = [owner.get_legend()] if hasattr(owner, "get_legend") else list(getattr(owner, "legends", []))
    return tuple(t.get_text() for legend in legends if legend is not None for t in legend.get_texts())


def _titles(panel: Figure | SubFigure) -> tuple[int, ...]:
    """The lines of a (sub-)figure's title and super labels: the constrained layout makes
    room for their height (a centred title's words do not move anything else); -1: none."""
    return tuple(-1 if text is None else text.get_text().count("\n") for text in _super_texts(panel))


def _super_texts(panel: Figure | SubFigure) -> list[Text | None]:
    """A (sub-)figure's title and x and y super labels (matplotlib has no public getter for them)."""
    return [getattr(panel, name, None) for name in ("_suptitle", "_supxlabel", "_supylabel")]


class LiveChart:
    """One chart of a running model for the page: ``draw(model)`` as PNG bytes at
    ``LIVE_DPI``, with the round it shows.

    ``png`` draws only when the model or its round changed since the last call (else it
    returns the same bytes), and builds the figure holding ``lock`` (the lock the model's
    steps hold), so a chart drawn on a thread beside a playing model shows one whole round.

    Examples
    --------
    >>> from sim.app.session import PageModel, convergence
    >>> model = PageModel("istanbul_2025", replicas=5)
    >>> chart = LiveChart(convergence, model.lock)
    >>> played, image = chart.png(model.negotiation)
    >>> played, image.startswith(b"\\x89PNG"), chart.png(model.negotiation)[1] is image
    (0, True, True)
    """

    def __init__(self, draw: Callable[[Any], Figure], lock: threading.Lock) -> None:
        self.draw = draw
        self.lock = lock
        self._shown: tuple[Any, int] | None = None
        self._image = b""
        self._layout: Layout | None = None

    def png(self, model: Any) -> tuple[int, bytes]:
        """The round ``model.steps`` and the chart of ``model`` after it, as PNG bytes."""
        with self.lock:
            played = int(model.steps)
            if self._shown is not None and self._shown[0] is model and self._shown[1] == played:
                return played, self._image
            figure = self.draw(model)
        figure.set_dpi(LIVE_DPI)
        signature = layout_signature(figure)
        panels = _panels(figure)
        subs: list[Any] = panels[1:]  # SubFigures (their layout hooks are not in matplotlib's stubs)
        reuse = self._layout is not None and self._layout[0] == signature
        if reuse:
            assert self._layout is not None
            _, boxes, positions, placed = self._layout
            # as the constrained layout does it: sub-figures first, then the axes inside them
            for sub, box in zip(subs, boxes, strict=True):
                sub._redo_transform_rel_fig(bbox=box)
            for ax, position in zip(figure.axes, positions, strict=True):
                ax.set_position(position, which="both")
            for texts, where in zip((_super_texts(p) for p in panels), placed, strict=True):
                for text, spot in zip(texts, where, strict=True):
                    if text is not None and spot is not None:
                        text.set_position(spot[0])
                        text.set_horizontalalignment(spot[1])
                        text.set_verticalalignment(spot[2])
            # no engine at all, not "none" (a placeholder): savefig then skips the dry-run draw it
            # makes for a layout engine, a third of a drawing
            figure.set_layout_engine(None)
            if figure.get_layout_engine() is not None:  # rcParams ask for one: keep it inert
                figure.set_layout_engine("none")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=LIVE_DPI, pil_kwargs=PNG_OPTIONS)
        if not reuse:
            boxes = [sub.bbox_relative.frozen() for sub in subs]
            positions = [ax.get_position(original=False).frozen() for ax in figure.axes]
            placed = [
                [None if t is None else (t.get_position(), t.get_horizontalalignment(), t.get_verticalalignment())
                 for t in _super_texts(p)]
                for p in panels
            ]
            self._layout = (signature, boxes, positions, placed)
        self._shown, self._image = (model, played), buffer.getvalue()
        return played, self._image
