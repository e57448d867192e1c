"""The public face of the package, as ``import sim`` shows it: load a scenario by bundled
name or path, set numbers by their path, run it, and get results as pandas DataFrames
with chart methods; the same for sweeps. Thin wrappers over the layers below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.engine import NegotiationModel, run_scenario
from sim.errors import InputError, Problem
from sim.inputs import LoadedScenario, Scenario, apply_values, load_scenario, with_overrides
from sim.inputs.experiment import locate
from sim.inputs.yamlfile import describe
from sim.results import replica_table, summary, trace_quantiles

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from sim.sweep import SweepReport

__all__ = ["Run", "load_scenario", "load_sweep", "run", "run_sweep", "sensitivity", "set_values"]


def set_values(scenario: LoadedScenario | str | Path, values: Mapping[str, float]) -> LoadedScenario:
    """The scenario with numbers set by their path (the paths experiments use).

    Each path is checked as an experiment's is (``events.sanctions.credibility``,
    ``parties.russia.war.cost_per_round``, ...); the changed scenario is validated like a
    file. Raises ``sim.errors.InputError`` naming the path, what was expected and found.

    Examples
    --------
    >>> s = set_values("istanbul_2025", {"events.sanctions.credibility": 0.9})
    >>> s.scenario.events[0].credibility
    0.9
    >>> from sim.errors import InputError
    >>> try:
    ...     set_values(s, {"events.sanctions.credibilty": 0.5})
    ... except InputError as err:
    ...     print(err.problems[0].field, "->", err.problems[0].found.split(";")[0])
    events.sanctions.credibilty -> no 'credibilty' under events.sanctions (did you mean 'credibility'?)
    """
    loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
    problems = []
    for path, value in values.items():
        try:
            _, _, old = locate(loaded.scenario.model_dump(), path)
        except LookupError as exc:
            problems.append(Problem("values", None, path, "a path to a number in the scenario", str(exc)))
            continue
        if isinstance(old, bool) or not isinstance(old, int | float):
            problems.append(Problem("values", None, path, "a path to a number in the scenario", f"{describe(old)} there"))
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem("values", None, path, "a number", describe(value)))
    if problems:
        raise InputError(problems)
    changed = apply_values(loaded, dict(values), "values")
    return loaded.model_copy(update={"scenario": changed})


@dataclass
class Run:
    """A finished run of a scenario: the Mesa model and its result tables.

    ``model`` is the finished ``NegotiationModel``; the tables are computed on first use.
    """

    model: NegotiationModel
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def _get(self, name: str, make: Any) -> Any:
        if name not in self._cache:
            self._cache[name] = make(self.model)
        return self._cache[name]

    @property
    def summary(self) -> dict[str, Any]:
        """The summary ``ceasefire run --json`` prints (without the theory fields)."""
        return dict(self._get("summary", summary))

    @property
    def groups(self) -> pd.DataFrame:
        """One row per agenda group: agreement rate with its Wilson 95% interval, agreed
        replicas and the mean agreement round (from 1; NaN when none agreed)."""
        import pandas as pd

        rows = []
        for name, g in self.summary["groups"].items():
            lo, hi = g["agreement_rate_ci95"]
            rows.append({"group": name, "agreement_rate": g["agreement_rate"], "ci95_low": lo, "ci95_high": hi,
                         "agreed": g["agreed"], "mean_round": g["mean_round"]})
        return pd.DataFrame(rows).set_index("group").astype({"mean_round": float})

    @property
    def replicas(self) -> pd.DataFrame:
        """One row per (replica, group): agreed, round (from 1) and the terms in natural units."""
        return self._get("replicas", replica_table).copy()

    @property
    def trace(self) -> pd.DataFrame:
        """Per (group, round, party, series): replicas still open, mean, quartiles and median."""
        return self._get("trace", trace_quantiles).copy()

    def convergence_chart(self, path: str | Path | None = None) -> Figure:
        """The convergence chart (``sim.charts.negotiation``); written as PNG to ``path`` if given."""
        from sim.charts.negotiation import model_convergence
        from sim.charts.style import save

        fig = model_convergence(self.model, trace=self._get("trace", trace_quantiles),
                                agreement=self._get("replicas", replica_table))
        if path is not None:
            save(fig, Path(path))
        return fig

    def utility_space_chart(self, path: str | Path | None = None, *, round_: int = 0) -> Figure:
        """The first replica's utility space with the war payoffs of round ``round_`` (from 0)."""
        from sim.charts.style import save
        from sim.charts.utility_space import model_utility_space

        fig = model_utility_space(self.model, round_=round_, view=f"war payoffs of round {round_ + 1}")
        if path is not None:
            save(fig, Path(path))
        return fig


def run(
    scenario: LoadedScenario | Scenario | str | Path,
    *,
    replicas: int | None = None,
    seed: int | None = None,
    rounds: int | None = None,
) -> Run:
    """Simulate a scenario (a loaded one, a bundled name or a path) and return its ``Run``.

    ``replicas``, ``seed`` and ``rounds`` override the scenario's, checked as
    ``ceasefire run`` checks them.

    Examples
    --------
    >>> result = run("istanbul_2025", replicas=50, seed=1)
    >>> result.groups.loc["humanitarian", "agreement_rate"]
    np.float64(1.0)
    """
    if isinstance(scenario, Scenario):
        loaded = None
        data = scenario
        if replicas is not None or seed is not None or rounds is not None:
            raise ValueError("overrides need a loaded scenario: pass sim.load_scenario(...) or a name")
    else:
        loaded = scenario if isinstance(scenario, LoadedScenario) else load_scenario(scenario)
        data = with_overrides(loaded, replicas=replicas, seed=seed, rounds=rounds)
    return Run(run_scenario(data))


def run_sweep(experiment: str | Path, out: str | Path, **options: Any) -> SweepReport:
    """Run (or resume) the sweep of an experiment file into the folder ``out``
    (options as ``sim.sweep.run_sweep``: ``workers``, ``scheduler``, ``chunk``)."""
    from sim.sweep import run_sweep as _run_sweep

    return _run_sweep(experiment, out, **options)


def load_sweep(out: str | Path) -> pd.DataFrame:
    """One row per design point of a sweep folder: parameters, agreement rates with Wilson
    intervals, mean rounds and terms (``sim.sweep.load_results``)."""
    from sim.sweep import load_results

    return load_results(out)


def sensitivity(out: str | Path, method: str | None = None, metric: str | None = None) -> pd.DataFrame:
    """Sobol' or Morris indices of a finished sweep with 95% bootstrap intervals (``method``:
    by default the sweep's own design)."""
    from sim.sweep.sensitivity import analyze

    return analyze(out, method, metric)
