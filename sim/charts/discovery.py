"""The chart of a PRIM scenario discovery: the peeling trajectory (coverage against
density, coloured by restricted dimensions) with the reported box marked. It draws what
``sim.sweep.discovery`` found; it computes nothing of its own.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from sim.charts.style import save
from sim.sweep.discovery import Discovery

CAPTION = (
    "Each dot is one PRIM peeling step: further right the box holds more of the cases of interest (coverage), "
    "higher up more of what it holds is of interest (density); the star is the box reported."
)


def trajectory_figure(found: Discovery, *, title: str) -> Figure:
    """Coverage (x) against density (y) of every peeling step, the chosen box starred."""
    t = found.trajectory
    fig = Figure(figsize=(7.5, 5.6), layout=ConstrainedLayoutEngine(rect=(0, 0.05, 1, 0.95)))
    ax = fig.add_subplot()
    dims = t["res_dim"].astype(int)
    cmap = matplotlib.colormaps["viridis"].resampled(max(2, int(dims.max()) + 1))
    points = ax.scatter(t["coverage"], t["density"], c=dims, cmap=cmap, vmin=-0.5, vmax=int(dims.max()) + 0.5, s=22, zorder=2)
    chosen = t.loc[found.chosen]
    ax.scatter(
        [chosen["coverage"]],
        [chosen["density"]],
        marker="*",
        s=260,
        facecolor="none",
        edgecolor="crimson",
        linewidth=1.6,
        zorder=3,
        label=f"reported box: coverage {chosen['coverage']:.2f}, density {chosen['density']:.2f}",
    )
    ax.axhline(
        found.cases / found.points,
        color="0.5",
        lw=1,
        ls=":",
        label=f"share of all points of interest ({found.cases}/{found.points})",
    )
    bar = fig.colorbar(points, ax=ax, ticks=sorted(set(dims)))
    bar.set_label("restricted dimensions")
    ax.set_xlabel("coverage (share of the cases of interest inside the box)")
    ax.set_ylabel("density (share of the box's points of interest)")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(min(0.0, float(t["density"].min())) - 0.02, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False, ncol=1)
    fig.suptitle(textwrap.fill(title, 80))
    fig.text(0.01, 0.005, textwrap.fill(CAPTION, 120), fontsize=8, color="0.3", va="bottom")
    return fig


def trajectory_chart(found: Discovery, path: Path, *, title: str) -> None:
    """Write ``trajectory_figure`` as PNG."""
    save(trajectory_figure(found, title=title), path)
