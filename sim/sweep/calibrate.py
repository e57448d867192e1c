"""Calibration to what happened: rejection ABC in waves (ABC-PMC) over an experiment's
parameters, run on the sweep machinery (shards, resume, dask), and forecasts whose
replicas draw their parameters from the calibrated sample. Charts are ``sim.charts``.

Method. An experiment with an ``observed:`` block states what happened per agenda group
(agreed or not; the terms within a tolerance; the round). A run *matches* when every
observed group matches. Wave 1 is the experiment's own design, drawn from the parameters'
priors (their distributions over their ranges); each point runs ``replicas`` times and
its weight is prior/proposal x (matching runs / replicas), an unbiased estimate of the
ABC likelihood at zero tolerance for agreement (Beaumont, Zhang & Balding 2002; the
per-replica randomness of the scenario is integrated out). While the effective sample
size is below ``calibration.min_ess``, the next wave draws as many points from a mixture
of Gaussian kernels around the weighted points (diagonal covariance twice the weighted
variance, truncated to the prior's range) and re-weights by prior over proposal density
(Beaumont, Cornuet, Marin & Robert 2009). The posterior is the last wave's weighted points.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError, Problem
from sim.inputs.experiment import Design, LoadedExperiment, ObservedGroup, Parameter, load_experiment
from sim.inputs.scenario import LoadedScenario
from sim.results import write_json, write_table
from sim.sweep.results import load_results, load_runs
from sim.sweep.run import run_sweep

POSTERIOR = "posterior.parquet"
REPORT = "calibration.json"


def matches(runs: pd.DataFrame, observed: dict[str, ObservedGroup]) -> np.ndarray:
    """Whether each run (a row of ``load_runs``) matches every observed group, (N,) bool.

    Examples
    --------
    >>> runs = pd.DataFrame({"agreed.h": [True, True, False], "outcome.h.x": [1000.0, 1300.0, np.nan]})
    >>> matches(runs, {"h": ObservedGroup(agreed=True, terms={"x": {"value": 1000, "tolerance": 100}})}).tolist()
    [True, False, False]
    """
    ok = np.ones(len(runs), dtype=bool)
    for group, seen in observed.items():
        agreed = runs[f"agreed.{group}"].to_numpy(dtype=bool)
        ok &= agreed == seen.agreed
        for issue, term in seen.terms.items():
            value = runs[f"outcome.{group}.{issue}"].to_numpy(dtype=float)
            ok &= np.abs(value - term.value) <= term.tolerance + 1e-9
        if seen.round is not None:
            rounds = runs[f"round.{group}"].to_numpy(dtype=float)
            ok &= np.abs(rounds - seen.round.value) <= seen.round.tolerance + 1e-9
    return ok


def prior_density(param: Parameter, x: np.ndarray) -> np.ndarray:
    """A parameter's prior density at ``x``: its distribution truncated to its range (the one
    the design draws from, ``sim.sweep.design.shaped``)."""
    from sim.sweep.design import shaped

    assert param.range is not None
    lo, hi = param.range
    dist = shaped(param)
    if dist is not None:
        return np.asarray(dist.pdf(x))
    return np.where((x >= lo) & (x <= hi), 1.0 / (hi - lo), 0.0)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)^2 / sum w^2`` (0 when every weight is 0).

    Examples
    --------
    >>> effective_sample_size(np.array([1.0, 1.0, 0.0, 2.0]))
    2.6666666666666665
    """
    total = float(weights.sum())
    return total * total / float((weights * weights).sum()) if total > 0 else 0.0


@dataclass(frozen=True)
class Kernel:
    """The ABC-PMC proposal of a wave: Gaussian kernels with per-parameter ``sd`` around
    ``centres (N, D)`` chosen with probabilities ``weights (N,)``, truncated to ``low``/``high``."""

    centres: np.ndarray
    weights: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def around(cls, points: np.ndarray, weights: np.ndarray, low: np.ndarray, high: np.ndarray) -> Kernel:
        """Kernels with twice the weighted variance of ``points`` (Beaumont et al. 2009)."""
        w = weights / weights.sum()
        mean = w @ points
        var = w @ (points - mean) ** 2
        sd = np.sqrt(2.0 * np.maximum(var, 1e-12 * (high - low) ** 2))
        keep = w > 0
        return cls(points[keep], w[keep], sd, low, high)

    def _mass(self) -> np.ndarray:
        """Each kernel's probability inside the box (N,): the truncation constant."""
        from scipy.stats import norm

        upper = norm.cdf((self.high - self.centres) / self.sd)
        lower = norm.cdf((self.low - self.centres) / self.sd)
        return np.asarray(np.prod(upper - lower, axis=1))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` draws (n, D) inside the box: a kernel by weight, then a Gaussian step, redrawn when outside."""
        out = np.empty((n, self.centres.shape[1]))
        todo = np.arange(n)
        while todo.size:
            pick = rng.choice(len(self.weights), size=todo.size, p=self.weights)
            draw = self.centres[pick] + rng.standard_normal((todo.size, self.centres.shape[1])) * self.sd
            inside = np.all((draw >= self.low) & (draw <= self.high), axis=1)
            out[todo[inside]] = draw[inside]
            todo = todo[~inside]
        return out

    def density(self, x: np.ndarray) -> np.ndarray:
        """The proposal density at ``x (M, D)``: the weighted mixture of truncated kernels."""
        from scipy.stats import norm

        z = (x[:, None, :] - self.centres[None, :, :]) / self.sd
        each = np.prod(norm.pdf(z) / self.sd, axis=2) / self._mass()[None, :]
        return np.asarray(each @ self.weights)


@dataclass(frozen=True)
class CalibrationReport:
    """What ``calibrate`` did: per wave its points, matching runs, acceptance rate and
    effective sample size, and the posterior table (``posterior_table``)."""

    out: Path
    waves: list[dict[str, Any]]
    table: pd.DataFrame

    @property
    def ess(self) -> float:
        """Effective sample size of the posterior (the last wave)."""
        return float(self.waves[-1]["ess"])


def _wave_experiment(loaded: LoadedExperiment, points: np.ndarray, wave: int) -> LoadedExperiment:
    """The experiment with its design replaced by the given points (a CSV design in memory)."""
    names = list(loaded.experiment.parameters)
    exp = loaded.experiment.model_copy(
        update={"design": Design(method="csv", file=f"wave-{wave}"), "name": f"{loaded.experiment.name} wave {wave}"}
    )
    rows = [{name: float(v) for name, v in zip(names, row, strict=True)} for row in points]
    return loaded.model_copy(update={"experiment": exp, "csv_points": rows})


def _weights(loaded: LoadedExperiment, wave_dir: Path, kernel: Kernel | None) -> pd.DataFrame:
    """Each point of a finished wave with its matches and importance weight."""
    exp = loaded.experiment
    assert exp.observed is not None
    names = list(exp.parameters)
    results = load_results(wave_dir)
    runs = load_runs(wave_dir)
    runs = runs.assign(_match=matches(runs, exp.observed))
    matched = runs.groupby("point")["_match"].sum().reindex(results["point"]).fillna(0).to_numpy(dtype=float)
    frame = results[["point", *names, "replicas", "error"]].copy()
    frame["matched"] = matched
    x = frame[names].to_numpy(dtype=float)
    prior = np.prod([prior_density(exp.parameters[n], x[:, j]) for j, n in enumerate(names)], axis=0)
    proposal = prior if kernel is None else kernel.density(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        likelihood = np.where(frame["replicas"] > 0, matched / frame["replicas"].to_numpy(dtype=float), 0.0)
        weight = np.where(proposal > 0, prior / proposal * likelihood, 0.0)
    frame["weight"] = weight / weight.sum() if weight.sum() > 0 else weight
    return frame


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles of a weighted sample (the inverse of its weighted empirical CDF, midpoints).

    Examples
    --------
    >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 1.0]), np.array([0.5])).tolist()
    [2.5]
    """
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    keep = w > 0
    v, w = v[keep], w[keep]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(q, cdf, v)


def posterior_table(posterior: pd.DataFrame, parameters: dict[str, Parameter]) -> pd.DataFrame:
    """Per parameter: prior range, posterior mean, median and 90% interval (5%..95%)."""
    rows = []
    w = posterior["weight"].to_numpy(dtype=float)
    for name, param in parameters.items():
        x = posterior[name].to_numpy(dtype=float)
        q05, q50, q95 = weighted_quantile(x, w, np.array([0.05, 0.5, 0.95]))
        assert param.range is not None
        rows.append(
            {
                "parameter": name,
                "prior_low": param.range[0],
                "prior_high": param.range[1],
                "mean": float(w @ x / w.sum()),
                "median": q50,
                "q05": q05,
                "q95": q95,
            }
        )
    return pd.DataFrame(rows).set_index("parameter")


def _check(loaded: LoadedExperiment) -> None:
    exp = loaded.experiment
    where = str(loaded.path)
    problems = []
    if exp.observed is None:
        problems.append(Problem(where, None, "observed", "an 'observed' block (what happened, per agenda group)", "none"))
    if exp.design.method not in ("lhs", "csv", "grid"):
        problems.append(
            Problem(where, None, "design.method", "lhs (draws from the priors), grid or csv for calibration", exp.design.method)
        )
    for name, param in exp.parameters.items():
        if param.range is None:
            problems.append(Problem(where, None, f"parameters.{name}", "a range (the prior's support) to calibrate", "values"))
    if problems:
        raise InputError(problems)


def prior_box(parameters: dict[str, Any]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The calibrated numbers' names, in file order, and their prior ranges' lower and upper ends."""
    names = list(parameters)
    low = np.array([parameters[n].range[0] for n in names], dtype=float)
    high = np.array([parameters[n].range[1] for n in names], dtype=float)
    return names, low, high


def calibrate(experiment: str | Path | LoadedExperiment, out: str | Path, **sweep: Any) -> CalibrationReport:
    """Calibrate the experiment's parameters to its ``observed`` block into folder ``out``.

    Each wave is a sweep folder ``out/wave-N`` (resumable: run again to go on); then
    ``out/posterior.parquet`` (the weighted sample), ``out/posterior.csv`` (the table) and
    ``out/calibration.json`` (per wave: points, runs, matching runs, acceptance rate,
    effective sample size). ``sweep`` options go to ``run_sweep`` (``workers``, ``scheduler``).
    Same seed, same posterior, for any worker count.
    """
    loaded = experiment if isinstance(experiment, LoadedExperiment) else load_experiment(experiment)
    _check(loaded)
    exp = loaded.experiment
    out = Path(out)
    names, low, high = prior_box(exp.parameters)
    waves: list[dict[str, Any]] = []
    kernel: Kernel | None = None
    frame = pd.DataFrame()
    for wave in range(1, exp.calibration.waves + 1):
        wave_dir = out / f"wave-{wave}"
        if kernel is None:
            this = loaded
        else:
            rng = np.random.default_rng(np.random.SeedSequence([exp.seed, wave]))
            n = len(frame)
            this = _wave_experiment(loaded, kernel.sample(n, rng), wave)
        run_sweep(this, wave_dir, **sweep)
        frame = _weights(loaded, wave_dir, kernel)
        frame["wave"] = wave
        runs = float(frame["replicas"].sum())
        matched = float(frame["matched"].sum())
        ess = effective_sample_size(frame["weight"].to_numpy(dtype=float))
        waves.append(
            {
                "wave": wave,
                "points": len(frame),
                "runs": int(runs),
                "matched": int(matched),
                "acceptance_rate": matched / runs if runs else 0.0,
                "ess": ess,
            }
        )
        if matched == 0:
            raise InputError(
                [
                    Problem(
                        str(wave_dir),
                        None,
                        "observed",
                        "a run matching what was observed",
                        f"none of {int(runs)} runs matched: widen the priors or the tolerances",
                    )
                ]
            )
        if ess >= exp.calibration.min_ess or wave == exp.calibration.waves:
            break
        kernel = Kernel.around(frame[names].to_numpy(dtype=float), frame["weight"].to_numpy(dtype=float), low, high)
    table = posterior_table(frame, exp.parameters)
    write_table(out / POSTERIOR, frame)
    write_table(out / "posterior.csv", table.reset_index())
    write_json(
        out / REPORT,
        {
            "experiment": str(loaded.path.resolve()),
            "sha256": loaded.sha256,
            "parameters": names,
            "paths": {n: exp.parameters[n].targets(n) for n in names},
            "observed": {g: o.model_dump() for g, o in (exp.observed or {}).items()},
            "waves": waves,
            "posterior": json.loads(table.to_json(orient="index")),
        },
    )
    return CalibrationReport(out, waves, table)


def load_posterior(out: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A calibration folder's weighted sample and its report."""
    out = Path(out)
    where = str(out)
    if not (out / POSTERIOR).is_file() or not (out / REPORT).is_file():
        raise InputError(
            [
                Problem(
                    where, None, "--posterior", "a folder written by `ceasefire calibrate`", f"no {POSTERIOR} and {REPORT} there"
                )
            ]
        )
    return pd.read_parquet(out / POSTERIOR), json.loads((out / REPORT).read_text(encoding="utf-8"))


def posterior_scenarios(loaded: LoadedScenario, out: str | Path, replicas: int, seed: int) -> list[tuple[int, int, Any]]:
    """Replica ranges of a forecast under a calibrated posterior: ``replicas`` draws of the
    sample by weight (seeded by ``seed``), sorted so each distinct draw holds a contiguous
    range ``start..stop`` of global replicas; each with its scenario (the calibrated paths set).
    """
    from sim.inputs.experiment import apply_values

    posterior, report = load_posterior(out)
    if "paths" not in report:  # a multi-case folder: its numbers are per case
        cases = ", ".join(f"{out}/cases/{c}" for c in report.get("cases", {}))
        raise InputError(
            [Problem(str(out), None, "--posterior", "one case's calibration folder", f"a multi-case one: use {cases}")]
        )
    weights = posterior["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x0CA1]))
    draws = np.sort(rng.choice(len(posterior), size=replicas, p=weights / weights.sum()))
    picked, counts = np.unique(draws, return_counts=True)
    ranges = []
    start = 0
    for index, count in zip(picked, counts, strict=True):
        row = posterior.iloc[int(index)]
        values = {path: float(row[name]) for name, paths in report["paths"].items() for path in paths}
        scenario = apply_values(loaded, values, f"posterior draw {int(index)}").model_copy(
            update={"seed": seed, "replicas": replicas}
        )
        ranges.append((start, start + int(count), scenario))
        start += int(count)
    return ranges


def run_posterior(loaded: LoadedScenario, out: str | Path, *, replicas: int | None = None, seed: int | None = None) -> Any:
    """Run a scenario whose replicas draw the calibrated parameters from the posterior in
    ``out``: one stacked model (``NegotiationModel``) over every replica, finished."""
    from sim.core.batch import stack_batches
    from sim.engine import NegotiationModel, compile_batch

    n = replicas if replicas is not None else loaded.scenario.replicas
    s = seed if seed is not None else loaded.scenario.seed
    pieces = [compile_batch(scenario, start, stop) for start, stop, scenario in posterior_scenarios(loaded, out, n, s)]
    if len({piece.structure for piece in pieces}) > 1:
        raise InputError(
            [
                Problem(
                    str(out),
                    None,
                    "parameters",
                    "calibrated numbers held per replica (costs, beliefs, ...)",
                    "a structural number (rounds, strategy exponents) that differs between draws",
                )
            ]
        )
    model = NegotiationModel(stack_batches(pieces))
    model.run_model()
    return model


def acceptance_summary(report: CalibrationReport) -> str:
    """One line per wave for the command line."""
    lines = []
    for w in report.waves:
        lines.append(
            f"  wave {w['wave']}: {w['points']} points, {w['matched']:,} of {w['runs']:,} runs matched "
            f"({100 * w['acceptance_rate']:.2f}%), effective sample size {w['ess']:.0f}"
        )
    return "\n".join(lines)
