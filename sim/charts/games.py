"""Charts of a strategy meta-game: each belligerent's payoff table as a heatmap over the
profiles (its strategy by the other's), with the sampling error per cell, the documented
profile outlined and the pure equilibria marked. Computed by ``sim.sweep.equilibria``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.patches import Rectangle

from sim.charts.negotiation import save
from sim.sweep.equilibria import MetaGame

CAPTION = (
    "Each cell is one pair of strategies (rows: the first party's, columns: the second's); its colour and number are the "
    "party's mean payoff over the replicas (discounted utility of the deal, or of war at the deadline), +- one standard error. "
    "The black box is the documented pair; stars mark pure Nash equilibria."
)


def payoff_figure(game: MetaGame, *, title: str) -> Figure:
    """One heatmap per belligerent of its payoff in every strategy profile."""
    n0, n1 = len(game.labels[0]), len(game.labels[1])
    fig = Figure(figsize=(6.0 + 0.9 * n1 * 2, 2.2 + 0.55 * n0), layout=ConstrainedLayoutEngine(rect=(0, 0.08, 1, 0.92)))
    axes = fig.subplots(1, 2)
    pure = [(int(np.argmax(a)), int(np.argmax(b))) for a, b in game.equilibria() if a.max() == 1.0 and b.max() == 1.0]
    for p, ax in enumerate(axes):
        table = game.payoff[p]
        image = ax.imshow(table, cmap="viridis", aspect="auto")
        bar = fig.colorbar(image, ax=ax, shrink=0.9)
        bar.set_label(f"{game.parties[p]}'s mean payoff (utility)")
        for i in range(n0):
            for j in range(n1):
                light = table[i, j] < table.min() + 0.6 * (table.max() - table.min())
                ax.text(
                    j,
                    i,
                    f"{table[i, j]:.3f}\n±{game.error[p][i, j]:.3f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if light else "black",
                )
        d0, d1 = game.documented
        ax.add_patch(Rectangle((d1 - 0.5, d0 - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=2.5))
        for i, j in pure:
            ax.plot(j + 0.38, i - 0.32, marker="*", color="crimson", markersize=11)
        ax.set_xticks(range(n1), [textwrap.fill(x, 14) for x in game.labels[1]], rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n0), [textwrap.fill(x, 18) for x in game.labels[0]], fontsize=8)
        ax.set_xlabel(f"{game.parties[1]}'s strategy")
        ax.set_ylabel(f"{game.parties[0]}'s strategy")
        ax.set_title(f"{game.parties[p]}'s payoff")
    fig.suptitle(textwrap.fill(title, 110))
    fig.text(0.01, 0.005, textwrap.fill(CAPTION, 150), fontsize=8, color="0.3", va="bottom")
    return fig


def payoff_chart(game: MetaGame, path: Path, *, title: str) -> None:
    """Write ``payoff_figure`` as PNG."""
    save(payoff_figure(game, title=title), path)
