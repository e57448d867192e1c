"""Multi-case calibration files (an experiment with ``cases:``): several scenarios, each with
what was observed in it, calibrated at once by parameters shared by the cases or bound to
some of them. Schema, checks and each case's sweep experiment; the method is ``sim.sweep``'s.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from sim.errors import InputError, Problem
from sim.inputs.checks import replicas_at_once
from sim.inputs.experiment import (
    MAX_CHUNK,
    MAX_RUNS,
    METRICS,
    Calibration,
    Design,
    Experiment,
    LoadedExperiment,
    Metric,
    ObservedGroup,
    Parameter,
    _check_observed,
    load_experiment,
    resolve_base,
)
from sim.inputs.paths import _step, apply_values, is_integer_field, locate
from sim.inputs.scenario import LoadedScenario, load_scenario
from sim.inputs.schema import Replicas, Seed, Strict
from sim.inputs.yamlfile import describe, known, nearest_line, read_limited, read_model, read_yaml

RESERVED = ("point", "wave", "weight", "likelihood", "replicas", "matched", "error")


class CaseParameter(Parameter):
    """A calibrated number of a multi-case file: its prior (``range`` and ``distribution``),
    the ``paths`` it sets in each case's scenario (``*`` stands for every party, every item
    of a list: ``parties.*.war.cost``), the ``cases`` it applies to (default: all of them,
    a shared parameter; one name binds it to that case) and whether it ``scale``s each
    path's own number (multiplies it) instead of replacing it."""

    cases: list[str] | None = None
    scale: bool = False


class Case(Strict):
    """One case: its scenario (a bundled name or a path relative to the file), what was
    observed in it (per agenda group, as a single-case ``observed:`` block) and optionally
    the seed of its runs (by default one derived from the experiment's seed and the case's
    place in the list, so the cases' runs are independent)."""

    scenario: str
    observed: dict[str, ObservedGroup] = Field(min_length=1)
    seed: Seed | None = None
    label: str | None = None


class CasesExperiment(Strict):
    """A multi-case calibration file: like an experiment, with ``cases:`` in place of
    ``scenario:`` and ``observed:``."""

    name: str
    question: str
    figure: str = ""
    cases: dict[str, Case] = Field(min_length=1)
    parameters: dict[str, CaseParameter] = Field(min_length=1)
    design: Design
    replicas: Replicas
    seed: Seed
    metrics: list[Metric] = Field(default_factory=lambda: list(METRICS), min_length=1)
    chunk: Annotated[int, Field(ge=1, le=MAX_CHUNK)] = 4096
    common_random_numbers: bool = True
    calibration: Calibration = Field(default_factory=Calibration)

    @field_validator("design", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``design: lhs`` stands for ``design: {method: lhs}``."""
        return {"method": value} if isinstance(value, str) else value

    def case_seed(self, index: int, case: Case) -> int:
        """The seed of the runs of the ``index``-th case: its own, or one derived from
        (seed, index) so that no two cases share their random streams.

        Examples
        --------
        >>> e = CasesExperiment(name="e", question="q", design="lhs", replicas=1, seed=7,
        ...     cases={"a": {"scenario": "s", "observed": {"g": {"agreed": True}}}}, parameters={"x": {"range": [0, 1]}})
        >>> e.case_seed(0, e.cases["a"]) == e.case_seed(0, e.cases["a"]) != e.case_seed(1, e.cases["a"])
        True
        """
        if case.seed is not None:
            return case.seed
        return int(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])


@dataclass(frozen=True)
class Binding:
    """One number a parameter sets in one case: the concrete scenario ``path`` and, for a
    scaling parameter, the case's own number there (``base``), which the value multiplies."""

    parameter: str
    path: str
    base: float | None = None

    def value(self, x: float) -> float:
        """The number set at ``path`` for parameter value ``x``."""
        return x * self.base if self.base is not None else x


class LoadedCases(BaseModel):
    """A validated multi-case file: per case its sweep experiment (a CSV design over the
    concrete paths, points given per wave) and its bindings, in file order."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    experiment: CasesExperiment
    path: Path
    sha256: str
    cases: dict[str, LoadedExperiment]
    bindings: dict[str, tuple[Binding, ...]]

    def case_values(self, case: str, particle: dict[str, float]) -> dict[str, float]:
        """The concrete numbers (by path) that parameter values ``particle`` set in ``case``."""
        return {b.path: b.value(particle[b.parameter]) for b in self.bindings[case]}

    def case_sweep(self, case: str, points: np.ndarray, wave: int) -> LoadedExperiment:
        """The sweep of ``case`` at the parameter ``points`` (N, D) of a wave: each point's
        concrete numbers as the rows of an in-memory CSV design."""
        names = list(self.experiment.parameters)
        rows = [self.case_values(case, dict(zip(names, map(float, row), strict=True))) for row in points]
        loaded = self.cases[case]
        exp = loaded.experiment.model_copy(
            update={"design": Design(method="csv", file=f"wave-{wave}"), "name": f"{self.experiment.name} {case} wave {wave}"}
        )
        return loaded.model_copy(update={"experiment": exp, "csv_points": rows})


def is_multi_case(path: str | Path) -> bool:
    """Whether an experiment file is a multi-case calibration (has a top-level ``cases:``)."""
    data, _ = read_yaml(Path(path), "experiment file")
    return isinstance(data, dict) and "cases" in data


def load_calibration(path: str | Path) -> LoadedExperiment | LoadedCases:
    """A calibration file of either form: one case (``scenario:`` and ``observed:``) or several (``cases:``)."""
    return load_cases(path) if is_multi_case(path) else load_experiment(path)


def expand(data: dict[str, Any], pattern: str) -> list[str]:
    """The concrete paths a pattern names in a dumped scenario: ``*`` is every key (every
    index of a list) there, kept where the rest of the path leads to a number.

    Examples
    --------
    >>> expand({"parties": {"a": {"war": {"cost": 0.1}}, "m": {"war": None}}}, "parties.*.war.cost")
    ['parties.a.war.cost']
    """
    if "*" not in pattern.split("."):
        locate(data, pattern)  # raises LookupError naming the missing part
        return [pattern]
    found: list[str] = []

    def walk(node: Any, parts: list[str], done: list[str]) -> None:
        if not parts:
            if isinstance(node, int | float) and not isinstance(node, bool):
                found.append(".".join(done))
            return
        head, rest = parts[0], parts[1:]
        if head == "*":
            keys = list(node) if isinstance(node, dict) else list(range(len(node))) if isinstance(node, list) else []
            for key in keys:
                walk(node[key], rest, [*done, str(key)])
            return
        try:
            child, key = _step(node, head)
        except KeyError:
            return
        walk(child, rest, [*done, str(key) if isinstance(key, int) else head])

    walk(data, pattern.split("."), [])
    return found


def _bind(name: str, param: CaseParameter, case: str, base: LoadedScenario, problem: Any) -> tuple[list[Binding], list[Problem]]:
    """The bindings of one parameter in one case, or the problems of its paths there."""
    dumped = base.scenario.model_dump()
    loc = ("parameters", name, "paths") if param.paths else ("parameters", name)
    out: list[Binding] = []
    problems: list[Problem] = []
    for pattern in param.targets(name):
        try:
            paths = expand(dumped, pattern)
        except LookupError as exc:
            problems.append(problem(loc, f"a path to a number in case {case}'s scenario", str(exc)))
            continue
        if not paths:
            problems.append(problem(loc, f"a pattern matching at least one number in case {case}'s scenario", pattern))
        for path in paths:
            old = locate(dumped, path)[2]
            if path in ("seed", "replicas") or isinstance(old, bool) or not isinstance(old, int | float):
                problems.append(problem(loc, f"a path to a number in case {case}'s scenario", f"{describe(old)} at {path}"))
                continue
            out.append(Binding(name, path, float(old) if param.scale else None))
    return out, problems


def load_cases(path: str | Path) -> LoadedCases:
    """Load and check a multi-case calibration file and every case's scenario.

    Raises
    ------
    InputError
        With every problem found, each naming file, line, field, expected and found.
    """
    path = Path(path)
    file = str(path)
    exp, lines = read_model(path, CasesExperiment, "experiment")

    def problem(loc: tuple[Any, ...], expected: str, found: str) -> Problem:
        return Problem(file, nearest_line(lines, loc), ".".join(map(str, loc)), expected, found)

    problems: list[Problem] = []
    bases: dict[str, LoadedScenario] = {}
    for case, spec in exp.cases.items():
        try:
            bases[case] = load_scenario(resolve_base(spec.scenario, path.parent))
        except InputError as err:
            expected = "a valid scenario (file or bundled name)"
            problems += [problem(("cases", case, "scenario"), expected, "a scenario with problems:"), *err.problems]
    if exp.design.method not in ("lhs", "grid"):
        problems.append(
            problem(("design", "method"), "lhs (draws from the priors) or grid for a multi-case calibration", exp.design.method)
        )
    if exp.design.method == "lhs" and exp.design.samples is None:
        problems.append(problem(("design", "samples"), "a number of samples for an lhs design", "nothing"))
    bindings: dict[str, list[Binding]] = {case: [] for case in bases}
    for name, param in exp.parameters.items():
        loc = ("parameters", name)
        if name in RESERVED or ("." in name and name.split(".")[0] in ("agreed", "round", "outcome", "matched", "replicas")):
            problems.append(problem(loc, f"a parameter name that is not a column of the posterior ({', '.join(RESERVED)})", name))
        if param.range is None:
            problems.append(problem(loc, "a range (the prior's support) to calibrate", "values" if param.values else "none"))
        elif exp.design.method == "grid" and param.levels is None:
            problems.append(problem((*loc, "range"), "'levels' with a range in a grid design", "a range without levels"))
        for case in param.cases or []:
            if case not in exp.cases:
                problems.append(problem((*loc, "cases"), f"names of cases ({known(exp.cases)})", describe(case)))
        for case in param.cases or list(exp.cases):
            if case not in bases:
                continue
            found, bad = _bind(name, param, case, bases[case], problem)
            problems += bad
            taken = {b.path: b.parameter for b in bindings[case]}
            for b in found:
                if b.path in taken:
                    expected = f"each path of case {case} set by one parameter ({b.path} is set by {taken[b.path]!r})"
                    problems.append(problem(loc, expected, f"{b.path} again"))
            if not bad and param.range is not None:
                for end in param.range:  # every constraint on one number is an interval: the ends stand for all
                    try:
                        apply_values(bases[case], {b.path: b.value(end) for b in found}, f"{file}: parameters.{name}")
                    except InputError as err:
                        first = err.problems[0]
                        problems.append(
                            problem(
                                loc,
                                f"values case {case}'s scenario accepts",
                                f"{end:g} ({first.field}: expected {first.expected})",
                            )
                        )
                        break
            bindings[case] += found
    cases: dict[str, LoadedExperiment] = {}
    digest = hashlib.sha256(read_limited(path, "experiment file")).hexdigest()
    points = exp.design.samples or 0
    if exp.design.method == "grid":
        points = math.prod(p.levels or 1 for p in exp.parameters.values())
    if points * exp.replicas * len(exp.cases) > MAX_RUNS:
        problems.append(
            problem(
                ("replicas",),
                f"at most {MAX_RUNS:,} runs (points x replicas x cases)",
                f"{points:,} x {exp.replicas:,} x {len(exp.cases)}",
            )
        )
    for index, (case, spec) in enumerate(exp.cases.items()):
        if case not in bases:
            continue
        one = Experiment(
            name=f"{exp.name} {case}",
            question=exp.question,
            scenario=spec.scenario,
            parameters={b.path: Parameter(label=f"{b.parameter}: {b.path}") for b in bindings[case]} or {"_": Parameter()},
            design=Design(method="csv", file="wave-1"),
            replicas=exp.replicas,
            seed=exp.case_seed(index, spec),
            metrics=exp.metrics,
            chunk=exp.chunk,
            common_random_numbers=exp.common_random_numbers,
            observed=spec.observed,
        )
        problems += _check_observed(one, bases[case], lambda loc, e, f, c=case: problem(("cases", c, *loc), e, f))
        if not bindings[case]:
            problems.append(problem(("cases", case), "a case that at least one parameter applies to", "none"))
        at_once = replicas_at_once(bases[case].scenario)
        if exp.chunk > at_once:
            problems.append(
                problem(("chunk",), f"at most {at_once:,} runs per task for case {case} (one model holds them)", f"{exp.chunk:,}")
            )
        cases[case] = LoadedExperiment(experiment=one, path=path, sha256=digest, base=bases[case], csv_points=[])
    if problems:
        raise InputError(problems)
    return LoadedCases(experiment=exp, path=path, sha256=digest, cases=cases, bindings={c: tuple(b) for c, b in bindings.items()})


def integer_parameters(loaded: LoadedCases) -> list[str]:
    """The parameters that set whole numbers (rounds) and do not scale: their draws are rounded."""
    out = []
    for name, param in loaded.experiment.parameters.items():
        if param.scale:
            continue
        for case, bound in loaded.bindings.items():
            dumped = loaded.cases[case].base.scenario.model_dump()
            if any(b.parameter == name and is_integer_field(locate(dumped, b.path)[2]) for b in bound):
                out.append(name)
                break
    return out
