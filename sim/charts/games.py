"""Charts of a strategy meta-game: each belligerent's payoff table as a heatmap over the
profiles (its strategy by the other's; with more than two, by the next party's, the rest
at their documented strategies), with the sampling error per cell, the documented profile
outlined and the pure equilibria marked. Computed by ``sim.sweep.equilibria``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Rectangle

from sim.charts.style import save
from sim.sweep import nplayer
from sim.sweep.equilibria import MetaGame

CAPTION = (
    "Each cell is one pair of strategies (rows: the first party's, columns: the second's); its colour and number are the "
    "party's mean payoff over the replicas (discounted utility of the deal, or of war at the deadline), +- one standard error. "
    "The black box is the documented pair; stars mark pure Nash equilibria."
)
SLICE = " With more than two parties, panel p is party p's strategy by the next party's, every other at its documented strategy."


def _panel(
    game: MetaGame, p: int, pure: list[tuple[int, ...]]
) -> tuple[int, int, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Panel p: the row and column parties, p's payoff and error over them (S_row, S_col),
    the others at their documented strategies, and the pure equilibria in that slice."""
    n = len(game.parties)
    if n == 2:
        return 0, 1, game.payoff[p], game.error[p], [(i, j) for i, j in pure]
    row, col = p, (p + 1) % n
    doc = game.documented
    index = tuple(slice(None) if q in (row, col) else doc[q] for q in range(n))
    table, error = game.payoff[p][index], game.error[p][index]
    if col < row:
        table, error = table.T, error.T
    inside = [(e[row], e[col]) for e in pure if all(e[q] == doc[q] for q in range(n) if q not in (row, col))]
    return row, col, table, error, inside


def payoff_figure(game: MetaGame, *, title: str) -> Figure:
    """One heatmap per belligerent of its payoff in every strategy profile."""
    if len(game.parties) == 2:
        pure = [tuple(int(np.argmax(x)) for x in sigma) for sigma in game.equilibria() if all(x.max() == 1.0 for x in sigma)]
    else:
        pure = nplayer.pure_equilibria(game.payoff)
    panels = [_panel(game, p, pure) for p in range(len(game.parties))]
    n0, n1 = max(t.shape[0] for *_, t, _, _ in panels), max(t.shape[1] for *_, t, _, _ in panels)
    fig = Figure(
        figsize=(6.0 + 0.9 * n1 * len(panels), 2.2 + 0.55 * n0), layout=ConstrainedLayoutEngine(rect=(0, 0.08, 1, 0.92))
    )
    axes = fig.subplots(1, len(panels))
    for p, ax in enumerate(axes):
        row, col, table, error, marked = panels[p]
        n0, n1 = table.shape
        image = ax.imshow(table, cmap="viridis", aspect="auto")
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label(f"{game.parties[p]}'s mean payoff (utility)")
        for i in range(n0):
            for j in range(n1):
                light = table[i, j] < table.min() + 0.6 * (table.max() - table.min())
                ax.text(
                    j,
                    i,
                    f"{table[i, j]:.3f}\n±{error[i, j]:.3f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if light else "black",
                )
        d0, d1 = game.documented[row], game.documented[col]
        ax.add_patch(Rectangle((d1 - 0.5, d0 - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.5))
        for i, j in marked:
            ax.plot(j + 0.38, i - 0.32, marker="*", color="crimson", markersize=11)
        ax.set_xticks(range(n1), [textwrap.fill(x, 14) for x in game.labels[col]], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n0), [textwrap.fill(x, 18) for x in game.labels[row]], fontsize=8)
        ax.set_xlabel(f"{game.parties[col]}'s strategy")
        ax.set_ylabel(f"{game.parties[row]}'s strategy")
        ax.set_title(f"{game.parties[p]}'s payoff")
    fig.suptitle(textwrap.fill(title, 110))
    caption = CAPTION if len(panels) == 2 else CAPTION + SLICE
    fig.text(0.01, 0.005, textwrap.fill(caption, 150), fontsize=8, color="0.3", va="bottom")
    return fig


def payoff_chart(game: MetaGame, path: Path, *, title: str) -> None:
    """Write ``payoff_figure`` as PNG."""
    save(payoff_figure(game, title=title), path)
