"""The corner plot of a calibration: each parameter's posterior (weighted histogram over its
prior range, median and 90% interval marked) and each pair's weighted sample. It draws
what ``sim.sweep.calibrate`` found; it computes nothing of its own.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine

from sim.charts.style import save

CAPTION = (
    "Diagonal: each parameter's posterior (bars, share of the weight per bin) over its prior range; "
    "solid line the median, dotted lines the 90% interval. Below: pairs of parameters, "
    "each dot a sampled point, darker where its weight (how often its runs matched what happened) is larger."
)


CASES_CAPTION = CAPTION.replace(
    "how often its runs matched what happened", "the product over the cases of how often its runs matched each case"
)
"""The caption of a calibration to several cases at once."""


def corner_figure(
    posterior: pd.DataFrame, table: pd.DataFrame, labels: dict[str, str], *, title: str, caption: str = CAPTION
) -> Figure:
    """A corner plot of the weighted sample ``posterior`` with the ``posterior_table`` marks."""
    names = list(table.index)
    d = len(names)
    w = posterior["weight"].to_numpy(dtype=float)
    size = 2.6 * d + 1.0
    fig = Figure(figsize=(size, size + 0.6), layout=ConstrainedLayoutEngine(rect=(0, 0.07, 1, 0.93)))
    axes = fig.subplots(d, d, squeeze=False)
    shade = np.clip(w / w.max(), 0.05, 1.0) if w.max() > 0 else np.zeros_like(w)
    for i, yi in enumerate(names):
        for j, xj in enumerate(names):
            ax = axes[i, j]
            lo, hi = table.loc[xj, "prior_low"], table.loc[xj, "prior_high"]
            if j > i:
                ax.set_axis_off()
                continue
            if i == j:
                ax.hist(posterior[xj], bins=20, range=(lo, hi), weights=w, color="tab:blue", alpha=0.7)
                ax.axvline(table.loc[xj, "median"], color="k", lw=1.2)
                for q in ("q05", "q95"):
                    ax.axvline(table.loc[xj, q], color="k", lw=1, ls=":")
                ax.set_ylabel("posterior weight" if j == 0 else "")
            else:
                ax.scatter(posterior[xj], posterior[yi], s=6, c=shade, cmap="Blues", vmin=0, vmax=1, linewidths=0)
                ax.set_ylim(table.loc[yi, "prior_low"], table.loc[yi, "prior_high"])
                ax.set_ylabel(textwrap.fill(labels.get(yi, yi), 28) if j == 0 else "")
            ax.set_xlim(lo, hi)
            ax.set_xlabel(textwrap.fill(labels.get(xj, xj), 28) if i == d - 1 else "")
            ax.tick_params(labelsize=7)
    fig.suptitle(textwrap.fill(title, 90))
    fig.text(0.01, 0.005, textwrap.fill(caption, 40 + 25 * d), fontsize=8, color="0.3", va="bottom")
    return fig


def corner_chart(
    posterior: pd.DataFrame, table: pd.DataFrame, labels: dict[str, str], path: Path, *, title: str, caption: str = CAPTION
) -> None:
    """Write ``corner_figure`` as PNG."""
    save(corner_figure(posterior, table, labels, title=title, caption=caption), path)
