"""Design points of an experiment: a grid (itertools), a Latin hypercube (scipy.stats.qmc),
Sobol' (Saltelli) and Morris samples (SALib, so the designs match SALib's analyzers), or
the rows of a CSV file.

Sampling designs draw in the unit hypercube and map each column through its parameter's
distribution (uniform over the range, normal or triangular truncated to it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.stats import qmc

from sim.inputs.experiment import LoadedExperiment, Parameter
from sim.inputs.paths import is_integer_field, locate


@dataclass(frozen=True)
class DesignPoints:
    """The points (one row each, one column per parameter path) and, for sampling designs,
    the same points in the unit hypercube (what Morris' analyzer reads)."""

    points: pd.DataFrame
    unit: np.ndarray | None

    def __len__(self) -> int:
        return len(self.points)


def salib_problem(loaded: LoadedExperiment) -> dict[str, Any]:
    """SALib's problem dict over the unit hypercube (values are mapped afterwards)."""
    names = list(loaded.experiment.parameters)
    return {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}


def shaped(param: Parameter) -> Any:
    """A parameter's normal or triangular distribution truncated to its range (a frozen
    scipy distribution), or None for the uniform one, which callers compute exactly."""
    assert param.range is not None
    lo, hi = param.range
    if param.distribution == "normal":
        assert param.mean is not None and param.sd is not None
        a, b = (lo - param.mean) / param.sd, (hi - param.mean) / param.sd
        return stats.truncnorm(a, b, loc=param.mean, scale=param.sd)
    if param.distribution == "triangular":
        assert param.mode is not None
        return stats.triang((param.mode - lo) / (hi - lo), loc=lo, scale=hi - lo)
    return None


def to_values(param: Parameter, unit: np.ndarray) -> np.ndarray:
    """Map unit-interval draws to a parameter's values through its distribution.

    Examples
    --------
    >>> to_values(Parameter(range=(2.0, 4.0)), np.array([0.0, 0.5, 1.0])).tolist()
    [2.0, 3.0, 4.0]
    """
    assert param.range is not None
    lo, hi = param.range
    dist = shaped(param)
    if dist is not None:
        return np.asarray(dist.ppf(unit))
    return lo + unit * (hi - lo)


def _grid(parameters: dict[str, Parameter]) -> np.ndarray:
    axes = []
    for param in parameters.values():
        if param.values is not None:
            axes.append(np.asarray(param.values, dtype=float))
        else:
            assert param.range is not None and param.levels is not None
            axes.append(np.linspace(param.range[0], param.range[1], param.levels))
    return np.array(list(itertools.product(*axes)), dtype=float)


def design_points(loaded: LoadedExperiment) -> DesignPoints:
    """Every design point of the experiment, in a fixed order (seeded where sampled)."""
    exp = loaded.experiment
    names = list(exp.parameters)
    method = exp.design.method
    unit: np.ndarray | None = None
    if method == "grid":
        values = _grid(exp.parameters)
    elif method == "csv":
        assert loaded.csv_points is not None
        values = np.array([[row[name] for name in names] for row in loaded.csv_points], dtype=float)
    else:
        n = exp.design.samples
        assert n is not None
        if method == "lhs":
            unit = qmc.LatinHypercube(d=len(names), rng=np.random.default_rng(exp.seed)).random(n)
        elif method == "sobol":
            from SALib.sample import sobol

            unit = sobol.sample(salib_problem(loaded), n, calc_second_order=exp.design.second_order, seed=exp.seed)
        else:
            from SALib.sample import morris

            unit = morris.sample(salib_problem(loaded), n, num_levels=exp.design.levels, seed=exp.seed)
        values = np.column_stack([to_values(exp.parameters[name], unit[:, j]) for j, name in enumerate(names)])
    dumped = loaded.base.scenario.model_dump()
    for j, name in enumerate(names):
        if is_integer_field(locate(dumped, exp.parameters[name].targets(name)[0])[2]):
            values[:, j] = np.round(values[:, j])
    points = pd.DataFrame(values, columns=names)
    points.index.name = "point"
    return DesignPoints(points, unit)
