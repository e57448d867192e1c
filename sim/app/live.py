"""The page's charts as PNG bytes, drawn at most once per round of each model, reusing the
layout of the previous drawing while its ticks and titles are unchanged (matplotlib's
constrained layout is about a third of a drawing's cost).

Nothing here imports solara or decides what a chart shows (``sim.app.session`` does).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

from matplotlib.figure import Figure
from matplotlib.text import Text

LIVE_DPI = 80
"""Resolution of the page's charts (chart files get 110 dpi). Lower saves little: text, not
pixels, takes the time (64 dpi drew 500 replicas' two charts no faster than 80)."""
PNG_OPTIONS = {"compress_level": 1}
"""The page's PNGs travel over the page's own connection: fast compression beats small files."""

Layout = tuple[Any, list[Any], Any]
"""What a drawing's layout depends on (its signature), its axes' positions and its title's."""


def layout_signature(figure: Figure) -> tuple[Any, ...]:
    """What the constrained layout of ``figure`` depends on that changes between rounds: each
    axes' ticks and title, and the lines of the figure's title. Equal signatures lay out alike.

    Examples
    --------
    >>> fig = Figure()
    >>> ax = fig.subplots()
    >>> before = layout_signature(fig)
    >>> _ = ax.set_ylim(0, 5)
    >>> layout_signature(fig) == before
    False
    """
    title = figure.get_suptitle()
    axes = tuple((tuple(ax.get_xticks()), tuple(ax.get_yticks()), ax.get_title()) for ax in figure.axes)
    return (figure.get_size_inches().tolist(), title.count("\n"), axes)


def _suptitle(figure: Figure) -> Text | None:
    """The figure title's text, which the constrained layout places (matplotlib has no public getter for it)."""
    title: Text | None = getattr(figure, "_suptitle", None)
    return title


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
        # a figure laid out in sub-figures (caption and legends below the axes) places more
        # than axes and title: only a plain figure's layout is reused, so the image is the same
        reusable = not figure.subfigs
        reuse = reusable and self._layout is not None and self._layout[0] == signature
        if reuse:
            assert self._layout is not None
            _, positions, title = self._layout
            for ax, position in zip(figure.axes, positions, strict=True):
                ax.set_position(position, which="both")
            suptitle = _suptitle(figure)
            if suptitle is not None and title is not None:
                suptitle.set_position(title[0])
                suptitle.set_verticalalignment(title[1])
            figure.set_layout_engine("none")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=LIVE_DPI, pil_kwargs=PNG_OPTIONS)
        if reusable and not reuse:
            positions = [ax.get_position(original=False).frozen() for ax in figure.axes]
            suptitle = _suptitle(figure)
            title = None if suptitle is None else (suptitle.get_position(), suptitle.get_verticalalignment())
            self._layout = (signature, positions, title)
        self._shown, self._image = (model, played), buffer.getvalue()
        return played, self._image
