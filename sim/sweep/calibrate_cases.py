"""Calibration of several cases at once (a file with ``cases:``): ABC-PMC over parameters
shared by the cases or bound to some, each wave one sweep per case on the sweep machinery.
The single-case method, its kernels and tables are ``sim.sweep.calibrate``.

Acceptance. The cases are independent observations of one mechanism: a parameter point
reproduces what happened only if it reproduces every case. A point's ABC likelihood is
therefore the product over cases of the share of its runs that match that case's
observation, ``prod_c (m_c / R)``: the chance that one run of every case, drawn
independently, matches all of them (the cases' runs use separate random streams, so the
product of the per-case estimates is an unbiased estimate of it, as one case's share is).
A summed normalised distance was not used: with match-or-not summaries it would let a
point that reproduces one case well buy off a case it never reproduces, and the
posterior would no longer be the one of the joint observation. With one case the weight
is the single-case one. The waves, kernels and stopping rule are the single-case ones.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import qmc

from sim.errors import InputError, Problem
from sim.inputs.calibration import LoadedCases, integer_parameters, load_cases
from sim.inputs.experiment import Parameter
from sim.results import write_json, write_table
from sim.sweep.calibrate import (
    POSTERIOR,
    REPORT,
    CalibrationReport,
    Kernel,
    effective_sample_size,
    matches,
    posterior_table,
    prior_box,
    prior_density,
)
from sim.sweep.results import load_results, load_runs
from sim.sweep.run import run_sweep

CASES = "cases"
"""The folder of each case's posterior (``DIR/cases/CASE``), readable by ``--posterior``."""


def first_points(loaded: LoadedCases) -> np.ndarray:
    """The first wave's points (N, D): a Latin hypercube through the priors (as a
    single-case lhs design draws it) or the grid of the parameters' levels."""
    import itertools

    from sim.sweep.design import to_values

    exp = loaded.experiment
    params = list(exp.parameters.values())
    if exp.design.method == "grid":
        axes = [np.linspace(p.range[0], p.range[1], p.levels or 2) for p in params]  # type: ignore[index]
        values = np.array(list(itertools.product(*axes)), dtype=float)
    else:
        assert exp.design.samples is not None
        unit = qmc.LatinHypercube(d=len(params), rng=np.random.default_rng(exp.seed)).random(exp.design.samples)
        values = np.column_stack([to_values(p, unit[:, j]) for j, p in enumerate(params)])
    names = list(exp.parameters)
    for name in integer_parameters(loaded):
        values[:, names.index(name)] = np.round(values[:, names.index(name)])
    return values


def case_matches(loaded: LoadedCases, case: str, folder: Path) -> tuple[np.ndarray, np.ndarray]:
    """Per point of a finished case sweep: its runs that match the case's observation, and its runs."""
    observed = loaded.experiment.cases[case].observed
    results = load_results(folder)
    runs = load_runs(folder)
    runs = runs.assign(_match=matches(runs, observed))
    matched = runs.groupby("point")["_match"].sum().reindex(results["point"]).fillna(0).to_numpy(dtype=float)
    return matched, results["replicas"].to_numpy(dtype=float)


def wave_frame(loaded: LoadedCases, points: np.ndarray, wave_dir: Path, kernel: Kernel | None) -> pd.DataFrame:
    """Each point of a finished wave: its values, per case matches and runs, the joint
    likelihood (the product over cases) and the normalised importance weight."""
    exp = loaded.experiment
    names = list(exp.parameters)
    frame = pd.DataFrame(points, columns=names)
    frame.insert(0, "point", np.arange(len(points), dtype=np.int64))
    likelihood = np.ones(len(points))
    for case in loaded.cases:
        matched, replicas = case_matches(loaded, case, wave_dir / case)
        frame[f"matched.{case}"] = matched
        frame[f"replicas.{case}"] = replicas
        with np.errstate(divide="ignore", invalid="ignore"):
            likelihood *= np.where(replicas > 0, matched / replicas, 0.0)
    frame["likelihood"] = likelihood
    prior = np.prod([prior_density(exp.parameters[n], points[:, j]) for j, n in enumerate(names)], axis=0)
    proposal = prior if kernel is None else kernel.density(points)
    with np.errstate(divide="ignore", invalid="ignore"):
        weight = np.where(proposal > 0, prior / proposal * likelihood, 0.0)
    frame["weight"] = weight / weight.sum() if weight.sum() > 0 else weight
    return frame


def _wave_summary(loaded: LoadedCases, frame: pd.DataFrame, wave: int) -> dict[str, Any]:
    per_case = {}
    for case in loaded.cases:
        runs, matched = float(frame[f"replicas.{case}"].sum()), float(frame[f"matched.{case}"].sum())
        per_case[case] = {"runs": int(runs), "matched": int(matched), "acceptance_rate": matched / runs if runs else 0.0}
    return {
        "wave": wave,
        "points": len(frame),
        "runs": sum(c["runs"] for c in per_case.values()),
        "acceptance_rate": float(frame["likelihood"].mean()),
        "ess": effective_sample_size(frame["weight"].to_numpy(dtype=float)),
        "cases": per_case,
    }


def _write_case(loaded: LoadedCases, case: str, frame: pd.DataFrame, out: Path, waves: list[dict[str, Any]]) -> None:
    """``out/cases/CASE``: the posterior in the case's own numbers (concrete paths), in the
    single-case form, so ``--posterior`` and ``run_posterior`` read it as they read one."""
    names = list(loaded.experiment.parameters)
    bound = loaded.bindings[case]
    table = pd.DataFrame({"point": frame["point"], "wave": frame["wave"]})
    params: dict[str, Parameter] = {}
    for b in bound:
        table[b.path] = [b.value(float(x)) for x in frame[b.parameter]]
        lo, hi = sorted(b.value(float(x)) for x in loaded.experiment.parameters[b.parameter].range or (0.0, 0.0))
        params[b.path] = Parameter.model_construct(range=(lo, hi))
    table["weight"] = frame["weight"].to_numpy()
    folder = out / CASES / case
    summary = posterior_table(table, params)
    write_table(folder / POSTERIOR, table)
    write_table(folder / "posterior.csv", summary.reset_index())
    exp = loaded.cases[case].experiment
    write_json(
        folder / REPORT,
        {
            "experiment": str(loaded.path.resolve()),
            "sha256": loaded.sha256,
            "case": case,
            "parameters": [b.path for b in bound],
            "paths": {b.path: [b.path] for b in bound},
            "from": {b.path: {"parameter": b.parameter, "scale_of": b.base} for b in bound if b.parameter in names},
            "seed": exp.seed,
            "observed": {g: o.model_dump() for g, o in (exp.observed or {}).items()},
            "waves": waves,
            "posterior": json.loads(summary.to_json(orient="index")),
        },
    )


def calibrate_cases(experiment: str | Path | LoadedCases, out: str | Path, **sweep: Any) -> CalibrationReport:
    """Calibrate the parameters of a multi-case file to every case's observation at once.

    Each wave is one sweep folder per case, ``out/wave-N/CASE`` (resumable: run again to
    go on; ``sweep`` options go to ``run_sweep``: ``workers``, ``scheduler``); then
    ``out/posterior.parquet`` (the weighted points, per case its matches), ``posterior.csv``,
    ``calibration.json`` (per wave the joint and per-case acceptance rates and the ESS) and
    ``out/cases/CASE`` (the same posterior in the case's own numbers). Same seed, same
    posterior, for any worker count.
    """
    loaded = experiment if isinstance(experiment, LoadedCases) else load_cases(experiment)
    exp = loaded.experiment
    out = Path(out)
    names, low, high = prior_box(exp.parameters)
    waves: list[dict[str, Any]] = []
    kernel: Kernel | None = None
    points = first_points(loaded)
    for wave in range(1, exp.calibration.waves + 1):
        wave_dir = out / f"wave-{wave}"
        if kernel is not None:
            rng = np.random.default_rng(np.random.SeedSequence([exp.seed, wave]))
            points = kernel.sample(len(points), rng)
        for case in loaded.cases:
            run_sweep(loaded.case_sweep(case, points, wave), wave_dir / case, **sweep)
        frame = wave_frame(loaded, points, wave_dir, kernel)
        frame["wave"] = wave
        waves.append(_wave_summary(loaded, frame, wave))
        if float(frame["likelihood"].sum()) == 0.0:
            seen = ", ".join(f"{c}: {v['matched']:,} of {v['runs']:,}" for c, v in waves[-1]["cases"].items())
            found = f"no point reproduced every case (runs matched per case: {seen}): widen the priors or the tolerances"
            raise InputError([Problem(str(wave_dir), None, "cases", "a point whose runs match every case", found)])
        if waves[-1]["ess"] >= exp.calibration.min_ess or wave == exp.calibration.waves:
            break
        kernel = Kernel.around(points, frame["weight"].to_numpy(dtype=float), low, high)
    table = posterior_table(frame, dict(exp.parameters))
    write_table(out / POSTERIOR, frame)
    write_table(out / "posterior.csv", table.reset_index())
    for case in loaded.cases:
        _write_case(loaded, case, frame, out, waves)
    write_json(
        out / REPORT,
        {
            "experiment": str(loaded.path.resolve()),
            "sha256": loaded.sha256,
            "parameters": names,
            "cases": {
                case: {
                    "scenario": exp.cases[case].scenario,
                    "seed": loaded.cases[case].experiment.seed,
                    "observed": {g: o.model_dump() for g, o in exp.cases[case].observed.items()},
                    "paths": {n: [b.path for b in loaded.bindings[case] if b.parameter == n] for n in names},
                    "scale": {n: exp.parameters[n].scale for n in names},
                    "posterior": f"{CASES}/{case}",
                }
                for case in loaded.cases
            },
            "waves": waves,
            "posterior": json.loads(table.to_json(orient="index")),
        },
    )
    return CalibrationReport(out, waves, table)


def acceptance_lines(report: CalibrationReport) -> str:
    """One line per wave and case for the command line."""
    lines = []
    for w in report.waves:
        lines.append(
            f"  wave {w['wave']}: {w['points']} points, joint acceptance {100 * w['acceptance_rate']:.2f}% "
            f"(every case reproduced), effective sample size {w['ess']:.0f}"
        )
        for case, c in w["cases"].items():
            lines.append(f"    {case}: {c['matched']:,} of {c['runs']:,} runs matched ({100 * c['acceptance_rate']:.2f}%)")
    return "\n".join(lines)
