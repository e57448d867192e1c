"""Experiment files (``experiments/*.yaml``): a base scenario, parameters addressed by path
into it, a design, replicas per point, the seed and the metrics to keep.

Loading validates everything a sweep needs before anything runs, with the same
file:line: field: expected, found errors as scenarios.
"""

from __future__ import annotations

import hashlib
import io
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.errors import InputError, Problem
from sim.inputs.catalogue import resolve_scenario
from sim.inputs.checks import replicas_at_once
from sim.inputs.paths import apply_values, is_integer_field, locate
from sim.inputs.scenario import LoadedScenario, load_scenario
from sim.inputs.schema import MAX_NATURAL, Natural, Replicas, Scenario, Seed, Strict
from sim.inputs.yamlfile import describe, is_file, known, nearest_line, read_limited, read_model, read_text

Metric = Literal["agreement", "round", "outcome"]
METRICS: tuple[Metric, ...] = ("agreement", "round", "outcome")
"""What a sweep can keep per replica: whether each group agreed, in which round, on what."""
MAX_POINTS = 1_000_000
"""The most design points of an experiment (counted from its definition before any is drawn)."""
MAX_RUNS = 1_000_000_000
"""The most runs (design points x replicas) of an experiment: about eight hours at the
sweep benchmark's rate on two workers."""
MAX_CHUNK = 1_000_000
"""The most runs in one task (``chunk``)."""


class Parameter(Strict):
    """One swept number: a range (with grid levels or a distribution) or a list of values."""

    range: tuple[Natural, Natural] | None = None
    levels: Annotated[int, Field(ge=2, le=10_000)] | None = None
    values: list[Natural] | None = None
    distribution: Literal["uniform", "normal", "triangular"] = "uniform"
    mean: Natural | None = None
    sd: Annotated[float, Field(gt=0.0, le=MAX_NATURAL)] | None = None
    mode: Natural | None = None
    label: str | None = None
    paths: list[str] | None = None
    """The scenario paths this parameter sets (default: its own name); several paths move together."""

    def targets(self, name: str) -> list[str]:
        """The scenario paths set by this parameter, called ``name`` in the experiment."""
        return self.paths or [name]

    @model_validator(mode="after")
    def _consistent(self) -> Parameter:
        if self.range is not None and self.values is not None:
            raise ValueError("either 'range' or 'values', not both")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError("range [low, high] with low < high")
        if self.values is not None and len(self.values) < 1:
            raise ValueError("at least one value")
        if self.distribution == "normal" and (self.mean is None or self.sd is None):
            raise ValueError("'mean' and 'sd' for a normal distribution (truncated to the range)")
        if self.distribution == "triangular" and self.mode is None:
            raise ValueError("'mode' for a triangular distribution")
        if self.mode is not None and self.range is not None and not self.range[0] <= self.mode <= self.range[1]:
            raise ValueError("a mode inside the range")
        return self


class Design(Strict):
    """How points are chosen: a full grid, a Latin hypercube, Sobol' (Saltelli) or Morris
    samples from SALib, or the rows of a CSV file."""

    method: Literal["grid", "lhs", "sobol", "morris", "csv"]
    samples: Annotated[int, Field(ge=1, le=MAX_POINTS)] | None = None
    second_order: bool = False
    levels: Annotated[int, Field(ge=2, le=1_000)] = 4
    file: str | None = None


class PlotSpec(Strict):
    """Defaults for ``ceasefire plot``: the agenda group and the axes."""

    group: str | None = None
    x: str | None = None
    y: str | None = None


class ObservedValue(Strict):
    """A number that was observed, and how far a simulated one may be from it and still match."""

    value: float
    tolerance: Annotated[float, Field(ge=0.0)]


class ObservedGroup(Strict):
    """What happened in one agenda group: agreed or not, and where known the terms (natural
    units, per issue) and the round of the agreement (from 1)."""

    agreed: bool
    terms: dict[str, ObservedValue] = Field(default_factory=dict)
    round: ObservedValue | None = None

    @model_validator(mode="after")
    def _terms_need_a_deal(self) -> ObservedGroup:
        if not self.agreed and (self.terms or self.round is not None):
            raise ValueError("terms and a round only for a group that agreed")
        return self


class Calibration(Strict):
    """How ``ceasefire calibrate`` refines the sample: rejection ABC in waves (ABC-PMC,
    Beaumont, Cornuet, Marin & Robert 2009), stopping once the effective sample size
    reaches ``min_ess`` or after ``waves`` waves; each wave has the design's number of points."""

    waves: Annotated[int, Field(ge=1, le=20)] = 3
    min_ess: Annotated[int, Field(ge=1)] = 200


class Experiment(Strict):
    """A whole experiment file (with ``observed``, a calibration: see ``sim.sweep.calibrate``)."""

    name: str
    question: str
    figure: str = ""
    scenario: str
    parameters: dict[str, Parameter] = Field(min_length=1)
    design: Design
    replicas: Replicas
    seed: Seed
    metrics: list[Metric] = Field(default_factory=lambda: list(METRICS), min_length=1)
    chunk: Annotated[int, Field(ge=1, le=MAX_CHUNK)] = 4096
    common_random_numbers: bool = True
    plot: PlotSpec = Field(default_factory=PlotSpec)
    observed: dict[str, ObservedGroup] | None = None
    calibration: Calibration = Field(default_factory=Calibration)

    def point_seed(self, point: int) -> int:
        """The scenario seed of design point ``point``: the experiment's seed for every point
        (common random numbers: replica r draws alike at every point), or, with
        ``common_random_numbers: false``, a seed of its own derived from (seed, point).

        Examples
        --------
        >>> e = Experiment(name="e", question="q", scenario="s", parameters={"x": {"values": [1]}},
        ...                design="grid", replicas=1, seed=7)
        >>> e.point_seed(3), e.model_copy(update={"common_random_numbers": False}).point_seed(3) != 7
        (7, True)
        """
        if self.common_random_numbers:
            return self.seed
        import numpy as np

        return int(np.random.SeedSequence([self.seed, point]).generate_state(1)[0])

    @field_validator("design", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """``design: grid`` stands for ``design: {method: grid}``."""
        return {"method": value} if isinstance(value, str) else value


class LoadedExperiment(BaseModel):
    """A validated experiment with its base scenario, file hash and CSV points if any."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    experiment: Experiment
    path: Path
    sha256: str
    base: LoadedScenario
    csv_points: list[dict[str, float]] | None = None

    def point_scenario(self, point: int, values: dict[str, float]) -> Scenario:
        """The scenario of design point ``point`` with parameter ``values`` (by parameter
        name): each value on every path of its parameter, the point's seed and the
        experiment's replicas; validated like a scenario file."""
        exp = self.experiment
        paths = {path: values[name] for name, param in exp.parameters.items() for path in param.targets(name)}
        scenario = apply_values(self.base, paths, f"design point {point}")
        return scenario.model_copy(update={"seed": exp.point_seed(point), "replicas": exp.replicas})


# ---------------------------------------------------------------------------- loading


def resolve_base(name: str, experiment_dir: Path) -> Path:
    """The experiment's scenario: a path relative to the experiment file, or a bundled name."""
    if Path(name).suffix in (".yaml", ".yml") or "/" in name or "\\" in name:
        return experiment_dir / name  # a path: relative to the experiment file, never to the current folder
    return resolve_scenario(name)


def _read_csv_points(path: Path, names: list[str], file: str, line: int | None) -> tuple[list[dict[str, float]], list[Problem]]:
    import csv

    problems: list[Problem] = []
    try:
        text = read_text(path, "UTF-8 CSV file of points").removeprefix("\ufeff")  # spreadsheets write a byte-order mark
    except InputError as err:
        return [], [Problem(file, line, "design.file", err.problems[0].expected, err.problems[0].found)]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return [], [Problem(str(path), 1, "header", f"a header naming the parameters ({', '.join(names)})", "an empty file")]
    header = [h.strip() for h in rows[0]]
    if sorted(header) != sorted(names):
        return [], [Problem(str(path), 1, "header", f"exactly the parameters' paths ({', '.join(names)})", ", ".join(header))]
    points = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(Problem(str(path), n, "row", f"{len(header)} values", f"{len(row)}"))
            continue
        point = {}
        for column, cell in zip(header, row, strict=True):
            try:
                value = float(cell)
            except ValueError:
                value = math.nan
            if math.isfinite(value) and abs(value) <= MAX_NATURAL:
                point[column] = value
            else:
                expected = f"a finite number from -{MAX_NATURAL:g} to {MAX_NATURAL:g}"
                problems.append(Problem(str(path), n, column, expected, describe(cell)))
        points.append(point)
    if not points and not problems:
        problems.append(Problem(str(path), 2, "rows", "at least one point", "only the header"))
    return points, problems


def count_points(experiment: Experiment, csv_rows: int | None) -> int:
    """How many design points the experiment's design makes, from its definition alone
    (a grid's product stops counting past ``MAX_POINTS``).

    Examples
    --------
    >>> e = Experiment(name="e", question="q", scenario="s", design="grid", replicas=1, seed=7,
    ...                parameters={"x": {"range": [0, 1], "levels": 11}, "y": {"values": [1, 2, 3]}})
    >>> count_points(e, None)
    33
    """
    design = experiment.design
    dims = len(experiment.parameters)
    if design.method == "grid":
        size = 1
        for param in experiment.parameters.values():
            size = min(size * (len(param.values) if param.values is not None else param.levels or 1), MAX_POINTS + 1)
        return size
    if design.method == "csv":
        return csv_rows or 0
    samples = design.samples or 0
    if design.method == "lhs":
        return samples
    if design.method == "sobol":  # Saltelli's scheme
        return samples * (2 * dims + 2 if design.second_order else dims + 2)
    return samples * (dims + 1)  # Morris trajectories


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Load and check an experiment file and its base scenario.

    Raises
    ------
    InputError
        With every problem found, each naming file, line, field, expected and found.
    """
    path = Path(path)
    file = str(path)
    try:
        experiment, lines = read_model(path, Experiment, "experiment")
    except InputError as err:
        several = [p for p in err.problems if p.field == "cases"]  # the calibration of several cases
        if several:
            expected = "a sweep experiment (one 'scenario:'); a file with 'cases:' calibrates several: `ceasefire calibrate`"
            raise InputError([Problem(file, several[0].line, "cases", expected, "a 'cases:' block")]) from None
        raise

    def problem(loc: tuple[Any, ...], expected: str, found: str) -> Problem:
        return Problem(file, nearest_line(lines, loc), ".".join(map(str, loc)), expected, found)

    try:
        base = load_scenario(resolve_base(experiment.scenario, path.parent))
    except InputError as err:
        raise InputError(
            [problem(("scenario",), "a valid scenario (file or bundled name)", "a scenario with problems:"), *err.problems]
        ) from None
    problems: list[Problem] = []
    dumped = base.scenario.model_dump()
    design = experiment.design
    names = list(experiment.parameters)
    reserved = {"point", "replica", "replicas", "error"}
    set_by: dict[str, str] = {}
    for name, param in experiment.parameters.items():
        loc = ("parameters", name)
        where = (*loc, "paths") if param.paths else loc
        bad = False
        if name in reserved or name.startswith(("agreed.", "round.", "outcome.", "unit.")):
            reason = "a parameter name that is not a result column (point, replicas, error, agreed.*, ...)"
            problems.append(problem(loc, reason, describe(name)))
            continue
        kinds = set()
        for target in param.targets(name):
            if target in ("seed", "replicas"):
                problems.append(
                    problem(
                        where,
                        f"a path into the scenario other than {target} (the experiment's own '{target}' sets it for every point)",
                        describe(target),
                    )
                )
                bad = True
                continue
            if target in set_by:
                problems.append(
                    problem(
                        where,
                        f"each scenario path set by one parameter ({target} is set by {set_by[target]!r})",
                        f"{target} again",
                    )
                )
                bad = True
            set_by.setdefault(target, name)
            try:
                _, _, old = locate(dumped, target)
            except LookupError as exc:
                problems.append(problem(where, "a path to a number in the scenario (e.g. parties.russia.war.cost)", str(exc)))
                bad = True
                continue
            if (
                isinstance(old, bool)
                or not isinstance(old, int | float | str)
                or (isinstance(old, str) and not target.endswith("salience"))
            ):
                problems.append(problem(where, "a path to a number in the scenario", f"{describe(old)} at {target}"))
                bad = True
                continue
            kinds.add(is_integer_field(old))
        if len(kinds) > 1:
            problems.append(problem(where, "paths that are all whole numbers (rounds) or all real numbers", "a mix of both"))
            bad = True
        if bad:
            continue
        if design.method != "csv" and param.range is None and param.values is None:
            problems.append(problem(loc, "'range' (with 'levels' for a grid) or 'values'", "neither"))
        elif design.method == "grid" and param.values is None and param.levels is None:
            problems.append(problem((*loc, "range"), "'levels' with a range in a grid design", "a range without levels"))
        if design.method in ("lhs", "sobol", "morris") and param.values is not None:
            problems.append(problem((*loc, "values"), f"a 'range' for a {design.method} design", "a list of values"))
        if design.method in ("sobol", "morris") and param.distribution != "uniform":
            problems.append(
                problem(
                    (*loc, "distribution"), f"uniform for a {design.method} design (its analyzer assumes it)", param.distribution
                )
            )
        # every constraint on one number is an interval, so the extremes stand for all values
        ends = list(param.range or ())
        if param.values:
            ends = sorted({min(param.values), max(param.values)})
        for value in ends:
            try:
                apply_values(base, dict.fromkeys(param.targets(name), value), f"{file}: parameters.{name}")
            except InputError as err:
                problems.append(
                    problem(
                        loc,
                        "values the scenario accepts",
                        f"{value:g} ({err.problems[0].field}: expected {err.problems[0].expected})",
                    )
                )
                break
    if design.method == "sobol" and design.samples is not None and design.samples & (design.samples - 1):
        problems.append(
            problem(("design", "samples"), "a power of 2 for a Sobol' design (its balance needs it)", str(design.samples))
        )
    if design.method in ("lhs", "sobol", "morris") and design.samples is None:
        problems.append(problem(("design", "samples"), f"a number of samples for a {design.method} design", "nothing"))
    if design.method in ("sobol", "morris"):
        try:
            import SALib  # noqa: F401
        except ImportError:
            problems.append(
                problem(
                    ("design", "method"),
                    f"SALib installed for a {design.method} design (pip install 'ceasefire-sim[sensitivity]')",
                    "SALib not installed",
                )
            )
    csv_points = None
    if design.method == "csv":
        if design.file is None:
            problems.append(problem(("design", "file"), "a CSV file of points (relative to the experiment)", "nothing"))
        else:
            csv_path = path.parent / design.file
            if not is_file(csv_path):
                problems.append(problem(("design", "file"), "a CSV file relative to the experiment file", describe(design.file)))
            else:
                csv_points, csv_problems = _read_csv_points(csv_path, names, file, nearest_line(lines, ("design", "file")))
                problems.extend(csv_problems)
    at_once = replicas_at_once(base.scenario)
    if experiment.chunk > at_once:
        expected = f"at most {at_once:,} runs per task for this scenario (one model holds them)"
        problems.append(problem(("chunk",), expected, f"{experiment.chunk:,}"))
    points = count_points(experiment, None if csv_points is None else len(csv_points))
    if points > MAX_POINTS:
        problems.append(problem(("design",), f"a design of at most {MAX_POINTS:,} points", f"more: {points:,}"))
    elif points * experiment.replicas > MAX_RUNS:
        problems.append(
            problem(
                ("replicas",),
                f"at most {MAX_RUNS:,} runs (design points x replicas)",
                f"{points:,} points x {experiment.replicas:,} replicas",
            )
        )
    groups = list(base.scenario.agenda)
    if experiment.plot.group is not None and experiment.plot.group not in groups:
        problems.append(problem(("plot", "group"), f"an agenda group ({known(groups)})", describe(experiment.plot.group)))
    for axis in ("x", "y"):
        value = getattr(experiment.plot, axis)
        if value is not None and value not in names:
            problems.append(problem(("plot", axis), f"a swept parameter ({known(names)})", describe(value)))
    problems.extend(_check_observed(experiment, base, problem))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(read_limited(path, "experiment file")).hexdigest()
    return LoadedExperiment(experiment=experiment, path=path, sha256=digest, base=base, csv_points=csv_points)


def _check_observed(experiment: Experiment, base: LoadedScenario, problem: Any) -> list[Problem]:
    """An ``observed`` block names agenda groups and their issues, and the experiment keeps
    the metrics that the comparison reads."""
    out: list[Problem] = []
    if experiment.observed is None:
        return out
    agenda = base.scenario.agenda
    for group, seen in experiment.observed.items():
        loc = ("observed", group)
        if group not in agenda:
            out.append(problem(loc, f"an agenda group of the scenario ({', '.join(agenda)})", repr(group)))
            continue
        for issue in seen.terms:
            if issue not in agenda[group]:
                expected = f"an issue of group {group} ({', '.join(agenda[group])})"
                out.append(problem((*loc, "terms", issue), expected, repr(issue)))
        needs = [("agreement", True), ("outcome", bool(seen.terms)), ("round", seen.round is not None)]
        for metric, needed in needs:
            if needed and metric not in experiment.metrics:
                out.append(problem(("metrics",), f"{metric!r} among the metrics (observed.{group} compares it)", "it missing"))
    return out
