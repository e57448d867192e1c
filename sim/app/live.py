"""The page's charts as PNG bytes, drawn at most once per round of each model. Two caches
make a round cheap: the layouts of recent drawings (reused while their ticks, titles and
legends are unchanged: matplotlib's constrained layout is about a third of a drawing), and
their backgrounds, every pixel but the data (axes, ticks, labels, legends and caption: reused
while they are unchanged, so a round draws its lines, markers, bands, notes and title only).
A chart whose next frame is known ahead (round 1's, while round 0 is shown) can fill both
before that round is played (``LiveChart.prepare``).

Nothing here imports solara or decides what a chart shows (``sim.app.session`` does).
"""

from __future__ import annotations

import atexit
import gc
import io
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from operator import attrgetter
from typing import Any

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure, SubFigure
from matplotlib.text import Text
from PIL import Image

LIVE_DPI = 72
"""Resolution of the page's charts (chart files get 110 dpi): about the width of the page's
card in a 1400-pixel window, so shown at their own size. Not 80: there, hinted 8-point text
runs wider than the figure, and the caption lost its first and last words. The time a
round takes hardly depends on it (72, 80 and 88 dpi alike)."""
PNG_OPTIONS = {"compress_level": 1}
"""The page's PNGs travel over the page's own connection: fast compression beats small files."""
HANDLE_STYLE = (
    "get_color", "get_linestyle", "get_linewidth", "get_marker", "get_markersize", "get_markerfacecolor",
    "get_markeredgecolor", "get_facecolor", "get_edgecolor", "get_sizes", "get_alpha", "get_drawstyle", "get_hatch",
)
"""What a legend entry's handle looks like, where the handle has it."""

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


def background_signature(figure: Figure) -> tuple[Any, ...]:
    """What the background of ``figure`` (all but ``data_artists``) looks like beyond its
    layout: each axes' limits, scales, tick labels, titles and legend entries with their
    handles' styles, and the other texts and legends of the (sub-)figures. Equal signatures
    (of figures drawn by the same function) have the same background.

    Examples
    --------
    >>> fig = Figure()
    >>> ax = fig.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> before = background_signature(fig)
    >>> ax.lines[0].set_ydata([0, 0.5])  # data: the same background
    >>> background_signature(fig) == before
    True
    >>> _ = ax.set_xlabel("round")
    >>> background_signature(fig) == before
    False
    """
    axes = tuple(
        (
            ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(), ax.get_visible(), ax.axison,
            _tick_labels(ax.xaxis), _tick_labels(ax.yaxis), tuple(ax.get_title(loc) for loc in ("left", "center", "right")),
            _legend_style(ax.get_legend()),
        )
        for ax in figure.axes
    )
    panels = tuple(
        (
            tuple(t.get_text() for t in panel.texts if t not in _super_texts(panel)),
            tuple(_legend_style(legend) for legend in panel.legends),
        )
        for panel in _panels(figure)
    )
    return (layout_signature(figure), figure.dpi, axes, panels)


def data_artists(figure: Figure) -> list[Artist]:
    """What is drawn over the background, in the order a whole drawing draws it: each axes'
    own artists (lines, collections, patches, notes, images) by z-order, axes by axes, and the
    titles and super labels of the figure and its sub-figures (the page's titles count the
    rounds)."""
    out: list[Artist] = []
    for panel in _tree(figure):
        if isinstance(panel, Axes):
            groups = (panel.lines, panel.collections, panel.patches, panel.texts, panel.images, panel.tables, panel.artists)
            owned = {id(a) for group in groups for a in group}
            out.extend(sorted((a for a in panel.get_children() if id(a) in owned), key=attrgetter("zorder")))
        else:
            out.extend(t for t in _super_texts(panel) if t is not None)
    return out


def _tree(panel: Figure | SubFigure) -> Iterator[Axes | Figure | SubFigure]:
    """A (sub-)figure's own axes and its sub-figures (each taken apart alike) in drawing order
    (by z-order, then as added), then the (sub-)figure itself, whose titles come after them."""
    children: list[Axes | SubFigure] = [ax for ax in panel.axes if ax.get_figure(root=False) is panel]
    children += panel.subfigs
    for child in sorted(children, key=attrgetter("zorder")):
        if isinstance(child, Axes):
            yield child
        else:
            yield from _tree(child)
    yield panel


def _tick_labels(axis: Any) -> tuple[Any, ...]:
    """An axis' major and minor tick labels (as its formatters write them)."""
    major, minor = axis.get_majorticklocs(), axis.get_minorticklocs()
    return (tuple(axis.get_major_formatter().format_ticks(major)), tuple(axis.get_minor_formatter().format_ticks(minor)))


def _legend_style(legend: Any) -> tuple[Any, ...] | None:
    """A legend's entries and how each handle looks (None: no legend)."""
    if legend is None:
        return None
    handles = tuple(
        (type(h).__name__, *(_plain(getattr(h, name)()) for name in HANDLE_STYLE if hasattr(h, name)))
        for h in legend.legend_handles
        if h is not None
    )
    return (tuple(t.get_text() for t in legend.get_texts()), handles)


def _plain(value: Any) -> Any:
    """An array as nested lists (comparable with ``==``), anything else as it is."""
    return value.tolist() if hasattr(value, "tolist") else value


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


@contextmanager
def _hidden(artists: list[Artist]) -> Iterator[None]:
    """The artists invisible for a while (those that were visible)."""
    shown = [a for a in artists if a.get_visible()]
    for artist in shown:
        artist.set_visible(False)
    try:
        yield
    finally:
        for artist in shown:
            artist.set_visible(True)


class _Collector:
    """Holds the cyclic garbage collector off while any live chart is drawn. A figure's tens
    of thousands of objects are tied in cycles: collected mid-drawing, while still in use,
    they would move up to the oldest generation, which only a full collection empties (0.1 to
    0.3 s in the page's server, often inside a step). Held off, they are still the youngest
    when the drawing drops them, and the first young collection after it frees them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.drawings = 0
        self.was_on = False

    @contextmanager
    def held(self) -> Iterator[None]:
        with self.lock:
            if self.drawings == 0:
                self.was_on = gc.isenabled()
                gc.disable()
            self.drawings += 1
        try:
            yield
        finally:
            with self.lock:
                self.drawings -= 1
                if self.drawings == 0 and self.was_on:
                    gc.enable()


_COLLECTOR = _Collector()

EXIT_WAIT = 30.0
"""Seconds the process waits at exit for live charts still being drawn."""


def _let_drawings_finish() -> None:
    """At exit, wait for live charts being drawn (on the page's daemon threads): a daemon
    thread stopped inside matplotlib's C++ code as the interpreter finalizes aborts the
    process ("terminate called without an active exception", exit 134)."""
    deadline = time.monotonic() + EXIT_WAIT
    while _COLLECTOR.drawings and time.monotonic() < deadline:
        time.sleep(0.01)


atexit.register(_let_drawings_finish)


KEPT = 4
"""Layouts and backgrounds a live chart keeps (the most recently used): the page's opening
chart before round 1 and the convergence chart after it are two different drawings."""


class LiveChart:
    """One chart of a running model for the page: ``draw(model)`` as PNG bytes at
    ``LIVE_DPI``, with the round it shows.

    ``png`` draws only when the model or its round changed since the last call (else it
    returns the same bytes), and builds the figure holding ``lock`` (the lock the model's
    steps hold), so a chart drawn on a thread beside a playing model shows one whole round;
    two calls at once draw one after the other, and no garbage collection runs meanwhile.
    The background is drawn first and the ``data_artists`` over it, so a background
    unchanged since an earlier drawing (``background_signature``; the last ``KEPT``) is not
    drawn again. ``ahead(model)``, where given, is a figure with the frame the next round's
    drawing will have (None: none to draw ahead), which ``prepare`` lays out and draws the
    background of, so the next round finds them ready.

    Examples
    --------
    >>> from sim.app.session import PageModel, convergence
    >>> model = PageModel("istanbul_2025", replicas=5)
    >>> chart = LiveChart(convergence, model.lock)
    >>> played, image = chart.png(model.negotiation)
    >>> played, image.startswith(b"\\x89PNG"), chart.png(model.negotiation)[1] is image
    (0, True, True)
    """

    def __init__(
        self, draw: Callable[[Any], Figure], lock: threading.Lock, ahead: Callable[[Any], Figure | None] | None = None
    ) -> None:
        self.draw = draw
        self.lock = lock
        self.ahead = ahead
        self._shown: tuple[Any, int] | None = None
        self._image = b""
        self._layouts: list[Layout] = []  # the most recently used last
        self._backgrounds: list[tuple[Any, Any]] = []
        self._layout: Layout | None = None  # the ones the last drawing used
        self._background: tuple[Any, Any] | None = None
        self._drawing = threading.Lock()  # the caches serve one drawing at a time

    def png(self, model: Any) -> tuple[int, bytes]:
        """The round ``model.steps`` and the chart of ``model`` after it, as PNG bytes."""
        with self._drawing, _COLLECTOR.held():
            with self.lock:
                played = int(model.steps)
                if self._shown is not None and self._shown[0] is model and self._shown[1] == played:
                    return played, self._image
                figure = self.draw(model)
            self._image = self._render(figure)
            self._shown = (model, played)
            del figure  # unreachable while collection is still held off
        return played, self._image

    def prepare(self, model: Any) -> bool:
        """Lay out ``ahead(model)`` and draw its background into the caches (no image is
        made); False where there is nothing to draw ahead."""
        if self.ahead is None:
            return False
        with self._drawing, _COLLECTOR.held():
            with self.lock:
                figure = self.ahead(model)
            if figure is None:
                return False
            shown = self._layout, self._background
            self._canvas(figure)
            self._layout, self._background = shown
            del figure
        return True

    def _render(self, figure: Figure) -> bytes:
        """``figure`` as PNG bytes at ``LIVE_DPI``: laid out (``_lay_out``), its background
        drawn or taken from an earlier drawing, the ``data_artists`` over it."""
        canvas, data = self._canvas(figure)
        renderer = canvas.get_renderer()
        for artist in data:
            artist.draw(renderer)
        width, height = canvas.get_width_height(physical=True)
        buffer = io.BytesIO()
        Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1).save(
            buffer, format="png", **PNG_OPTIONS
        )
        return buffer.getvalue()

    def _canvas(self, figure: Figure) -> tuple[FigureCanvasAgg, list[Artist]]:
        """``figure`` on a canvas at ``LIVE_DPI``, laid out, its background drawn or restored,
        and its ``data_artists`` (not drawn yet)."""
        figure.set_dpi(LIVE_DPI)
        canvas = FigureCanvasAgg(figure)
        self._lay_out(figure)
        data = data_artists(figure)
        signature = background_signature(figure)  # after the layout: limits and ticks as drawn
        background = _recall(self._backgrounds, signature)
        if background is not None:
            canvas.restore_region(background[1])
        else:
            with _hidden(data):
                canvas.draw()
            background = (signature, canvas.copy_from_bbox(figure.bbox))
            _keep(self._backgrounds, background)
        self._background = background
        return canvas, data

    def _lay_out(self, figure: Figure) -> None:
        """Place the axes and titles of ``figure`` as an earlier drawing with the same
        ``layout_signature`` had them, or lay it out afresh (where ``savefig`` would, once)
        and keep that; either way leave it no layout engine, so drawing it moves nothing."""
        signature = layout_signature(figure)
        panels = _panels(figure)
        subs: list[Any] = panels[1:]  # SubFigures (their layout hooks are not in matplotlib's stubs)
        layout = _recall(self._layouts, signature)
        if layout is not None:
            _, boxes, positions, placed = layout
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
        else:
            engine = figure.get_layout_engine()
            if engine is not None:
                engine.execute(figure)
            boxes = [sub.bbox_relative.frozen() for sub in subs]
            positions = [ax.get_position(original=False).frozen() for ax in figure.axes]
            placed = [
                [None if t is None else (t.get_position(), t.get_horizontalalignment(), t.get_verticalalignment())
                 for t in _super_texts(p)]
                for p in panels
            ]
            layout = (signature, boxes, positions, placed)
            _keep(self._layouts, layout)
        self._layout = layout
        # no engine at all, not "none" (a placeholder): a drawing then never lays out
        figure.set_layout_engine(None)
        if figure.get_layout_engine() is not None:  # rcParams ask for one: keep it inert
            figure.set_layout_engine("none")


def _recall(kept: list[Any], signature: Any) -> Any:
    """The entry of ``kept`` (pairs led by a signature) with ``signature``, moved to the end
    as the most recently used; None if there is none."""
    for i, entry in enumerate(kept):
        if entry[0] == signature:
            kept.append(kept.pop(i))
            return entry
    return None


def _keep(kept: list[Any], entry: Any) -> None:
    """Add ``entry`` as the most recently used, dropping the least recently used beyond ``KEPT``."""
    kept.append(entry)
    del kept[:-KEPT]
