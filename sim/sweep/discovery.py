"""Scenario discovery on a sweep's results: PRIM boxes of parameter values in which an
outcome holds (Friedman & Fisher 1999; Bryant & Lempert 2010), with coverage, density
and the significance of each limit. Charts of the peeling trajectory are ``sim.charts``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from sim.errors import InputError, Problem
from sim.sweep.results import load_results

PRIM_VERSION = "1.0.0"
"""The PRIM implementation used (the ``prim`` package of Project Platypus, pinned in the
``discovery`` extra: its peeling and quasi-p-values are the reference implementation the
EMA workbench's grew from, and it runs on Python 3.11, where the workbench does not)."""


@dataclass(frozen=True)
class Discovery:
    """A PRIM result.

    ``trajectory``: one row per peeling step (``coverage``, ``density``, ``mass``,
    ``res_dim``: restricted dimensions); ``chosen``: the row of the box reported;
    ``limits``: per restricted parameter its ``min``, ``max`` and ``qp`` (quasi-p-value of
    the restriction, Bryant & Lempert 2010), in the parameters' units; ``cases``: how many
    points are of interest out of ``points``; ``coverage`` (share of all cases of interest
    inside the chosen box), ``density`` (share of the box's points that are cases) and
    ``restricted`` (parameters the box restricts) of the chosen step.
    """

    metric: str
    rule: str
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    cases: int
    points: int

    coverage: float
    density: float
    restricted: int


def cases_of_interest(frame: pd.DataFrame, metric: str, *, above: float | None, below: float | None) -> np.ndarray:
    """The design points whose ``metric`` is above ``above`` (or below ``below``), (N,) bool."""
    if (above is None) == (below is None):
        raise InputError(
            [Problem("discover", None, "--above/--below", "exactly one of them", "both" if above is not None else "neither")]
        )
    if metric not in frame.columns:
        known = [c for c in frame.columns if c.startswith(("agreed.", "round.", "outcome.")) and not c.endswith((".lo", ".hi"))]
        raise InputError(
            [Problem("discover", None, "--metric", f"a result column of this sweep ({', '.join(known)})", repr(metric))]
        )
    values = frame[metric].to_numpy(dtype=float)
    return values > above if above is not None else values < float(below)  # type: ignore[arg-type]


def discover(
    results: pd.DataFrame | str | Path,
    metric: str,
    *,
    above: float | None = None,
    below: float | None = None,
    min_density: float = 0.8,
    peel_alpha: float = 0.05,
    method: Literal["prim"] = "prim",
) -> Discovery:
    """PRIM on a sweep's design points: the box where ``metric`` is above/below a level.

    The box reported is, among the peeling steps whose density is at least
    ``min_density``, the one with the largest coverage (fewest restricted dimensions on a
    tie); where no step is that dense, the densest step.

    Parameters
    ----------
    results : DataFrame or folder
        ``sim.sweep.load_results`` of a finished sweep, or its folder.
    metric : str
        A result column, e.g. ``agreed.security``.
    """
    if not 0.0 < min_density <= 1.0:  # a density is a share: beyond 1 the package divides by zero
        raise InputError([Problem("discover", None, "--min-density", "a share in (0, 1]", f"{min_density:g}")])
    frame = load_results(results) if not isinstance(results, pd.DataFrame) else results
    names = list(frame.attrs.get("parameters") or [])
    if not names:
        raise InputError(
            [Problem("discover", None, "parameters", "a sweep's results (load_results)", "a table without parameters")]
        )
    if "error" in frame.columns:
        frame = frame[frame["error"].isna()]
    y = cases_of_interest(frame, metric, above=above, below=below)
    rule = f"{metric} > {above:g}" if above is not None else f"{metric} < {below:g}"
    if not 0 < y.sum() < len(y):
        found = "every point" if y.all() else "no point"
        raise InputError(
            [
                Problem(
                    "discover",
                    None,
                    "--above/--below",
                    f"a level that some but not all of the {len(y)} points pass",
                    f"{found} has {rule}",
                )
            ]
        )
    try:
        import prim
    except ImportError:
        raise InputError(
            [
                Problem(
                    "discover", None, "prim", "the PRIM package (pip install 'ceasefire-sim[discovery]')", "it is not installed"
                )
            ]
        ) from None
    x = frame[names].reset_index(drop=True).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # the package's pandas idioms, not our inputs
        box = prim.Prim(x, y, threshold=min_density, threshold_type=">", peel_alpha=peel_alpha).find_box()
        trajectory = box.peeling_trajectory.rename(columns={"res dim": "res_dim"}).reset_index(drop=True)
        dense = trajectory[trajectory["density"] >= min_density]
        if len(dense):
            best = dense.sort_values(["coverage", "res_dim"], ascending=[False, True], kind="stable").index[0]
        else:
            best = trajectory["density"].idxmax()
        box.select(int(best))
        limits = box.limits.rename(columns={"qp values": "qp"})
    limits = limits[["min", "max", "qp"]].astype(float)
    limits.index.name = "parameter"
    steps = trajectory[["coverage", "density", "mean", "res_dim", "mass"]].astype(float)
    row = steps.loc[best]
    return Discovery(
        metric,
        rule,
        steps,
        int(best),
        limits,
        int(y.sum()),
        len(y),
        coverage=float(row["coverage"]),
        density=float(row["density"]),
        restricted=int(row["res_dim"]),
    )
