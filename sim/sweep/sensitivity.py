"""Sensitivity indices of a finished sweep (SALib): Sobol' first-order and total indices
for a Sobol' design, Morris mu* and sigma for a Morris design, with confidence intervals.

The output analysed is one column of ``load_results`` (by default the agreement rate of
the group that ends the war), one value per design point, in the design's order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, Problem
from sim.sweep.results import default_group, load_results
from sim.sweep.store import DESIGN

METHODS = ("sobol", "morris")
"""The designs whose sweeps have sensitivity indices."""


def analyze(out: str | Path, method: str | None = None, metric: str | None = None, seed: int | None = None) -> pd.DataFrame:
    """Indices per parameter: for ``sobol`` S1, S1_conf, ST, ST_conf; for ``morris`` mu,
    mu_star, mu_star_conf, sigma. Confidence intervals are 95% bootstrap intervals.
    ``method`` defaults to the sweep's own design (recorded in its manifest).

    Raises ``InputError`` if the sweep's design is neither Sobol' nor Morris or does not
    match the method, the sweep is incomplete, points failed, or SALib is missing.
    """
    out = Path(out)
    frame = load_results(out)
    manifest = frame.attrs["manifest"]
    where = str(out)
    design_method = manifest["design"]["method"]
    if method is not None and method not in METHODS:
        raise InputError([Problem(where, None, "--method", "sobol or morris", repr(method))])
    if design_method not in METHODS:
        raise InputError(
            [Problem(where, None, "design", "a sobol or morris design (sensitivity indices need one)", design_method)]
        )
    method = design_method if method is None else method
    if design_method != method:
        raise InputError(
            [Problem(where, None, "--method", f"the sweep's own design, {design_method} (or no --method)", method)]
        )
    if not frame.attrs["complete"]:
        raise InputError([Problem(where, None, "shards", "a finished sweep", "missing chunks (resume it first)")])
    metric = metric or f"agreed.{default_group(manifest)}"
    if metric not in frame:
        known = [c for c in frame.columns if c.startswith(("agreed.", "round.", "outcome.")) and not c.endswith((".lo", ".hi"))]
        raise InputError([Problem(where, None, "--metric", f"a result column ({', '.join(known)})", repr(metric))])
    y = frame[metric].to_numpy(dtype=float)
    if np.isnan(y).any():
        bad = frame.loc[np.isnan(y), "point"].tolist()[:5]
        raise InputError(
            [
                Problem(
                    where,
                    None,
                    metric,
                    "a value at every design point (failed points or no agreements)",
                    f"missing at points {bad}",
                )
            ]
        )
    try:
        from SALib.analyze import morris, sobol
    except ImportError:
        raise InputError(
            [
                Problem(
                    where, None, "--method", "SALib installed (pip install 'ceasefire-sim[sensitivity]')", "SALib not installed"
                )
            ]
        ) from None
    names: list[str] = manifest["design"]["parameters"]
    seed = int(manifest["seed"]) if seed is None else seed
    seed = seed or 1  # SALib treats a seed of 0 as none (unseeded intervals)
    problem: dict[str, Any] = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    definition = manifest["experiment"]["definition"]["design"]
    if method == "sobol":
        result = sobol.analyze(problem, y, calc_second_order=definition["second_order"], seed=seed)
        table = pd.DataFrame({key: result[key] for key in ("S1", "S1_conf", "ST", "ST_conf")}, index=names)
    else:
        design = pd.read_parquet(out / DESIGN)
        x = design[[f"unit.{name}" for name in names]].to_numpy()
        result = morris.analyze(problem, x, y, num_levels=definition["levels"], seed=seed)
        table = pd.DataFrame({key: np.asarray(result[key]) for key in ("mu", "mu_star", "mu_star_conf", "sigma")}, index=names)
    table.index.name = "parameter"
    table.attrs["metric"] = metric
    table.attrs["method"] = method
    table.attrs["points"] = len(frame)
    return table
