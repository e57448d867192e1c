"""Case files (``cases/*.yaml``): what happened in a real negotiation, per agenda group of
its scenario, the face-validity criteria a run is judged by, and the sources; plus where
bundled cases are found. Reading and checking only: running and judging is ``sim.cases``.
"""

from __future__ import annotations

import datetime
import difflib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.errors import InputError, Problem
from sim.inputs.catalogue import resolve_scenario
from sim.inputs.experiment import ObservedGroup
from sim.inputs.scenario import LoadedScenario, load_scenario
from sim.inputs.schema import Strict
from sim.inputs.yamlfile import problem_at, read_model

_BOUND = re.compile(r"^\s*(>=|<=)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")
Op = Literal[">=", "<="]


def parse_bound(text: str) -> tuple[Op, float]:
    """A bound such as ``">= 0.5"`` as its operator and number.

    Examples
    --------
    >>> parse_bound(">= 0.5"), parse_bound("<=9")
    (('>=', 0.5), ('<=', 9.0))
    """
    match = _BOUND.match(text)
    if match is None:
        raise ValueError("a bound such as '>= 0.5' or '<= 0.1'")
    op: Op = ">=" if match.group(1) == ">=" else "<="
    return op, float(match.group(2))


class Happened(ObservedGroup):
    """What became of one agenda group, as a calibration's ``observed`` block states it
    (agreed or not; terms in natural units with tolerances; the round, from 1, where known),
    with a note in words."""

    note: str = ""


class Criterion(Strict):
    """One face-validity criterion on one agenda group, written before the case was first run.

    Exactly one of: ``rate`` (a bound on the share of replicas that agree, ``">= 0.5"``),
    ``term`` (an issue whose mean agreed term must lie within the tolerance of what
    happened) or ``round`` (a bound on the mean agreement round, from 1).
    """

    group: str
    rate: str | None = None
    term: str | None = None
    round: str | None = None
    note: str = ""

    @field_validator("rate", "round")
    @classmethod
    def _bound_ok(cls, value: str | None) -> str | None:
        if value is not None:
            parse_bound(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Criterion:
        if sum(v is not None for v in (self.rate, self.term, self.round)) != 1:
            raise ValueError("exactly one of 'rate', 'term' or 'round'")
        return self

    @property
    def kind(self) -> Literal["rate", "term", "round"]:
        """Which measure the criterion bounds."""
        if self.rate is not None:
            return "rate"
        return "term" if self.term is not None else "round"

    def bound(self) -> tuple[Op, float]:
        """The operator and number of a ``rate`` or ``round`` criterion."""
        text = self.rate if self.rate is not None else self.round
        if text is None:
            raise ValueError("a term criterion has no bound: its tolerance is in 'happened'")
        return parse_bound(text)


class Case(Strict):
    """A whole case file."""

    scenario: str
    title: str
    date: datetime.date
    happened: dict[str, Happened]
    criteria: list[Criterion] = Field(min_length=1)
    needs: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)


class LoadedCase(BaseModel):
    """A validated case, its file, and its scenario loaded and checked."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    case: Case
    path: Path
    scenario: LoadedScenario

    @property
    def name(self) -> str:
        """The case's name: its file name without ``.yaml``."""
        return self.path.stem


def case_dirs() -> list[Path]:
    """Where bundled cases are looked for: ./cases, then the source tree's ``cases/``."""
    dirs = [Path.cwd() / "cases", Path(__file__).resolve().parent.parent.parent / "cases"]
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def bundled_cases() -> dict[str, Path]:
    """Every bundled case by name, the first folder of ``case_dirs`` winning."""
    found: dict[str, Path] = {}
    for folder in case_dirs():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def resolve_case(name: str) -> Path:
    """A case file path, or the bundled case of that name (``karabakh_2020``)."""
    path = Path(name)
    if path.exists() or path.suffix in {".yaml", ".yml"}:
        return path
    known = bundled_cases()
    if name in known:
        return known[name]
    expected = f"a case file or a bundled case name ({', '.join(sorted(known))})"
    raise InputError([Problem(name, None, "case", expected, repr(name))])


def _scenario_path(case: Case, base: Path) -> Path:
    """The case's scenario: a path relative to the case file, or a bundled scenario name."""
    if case.scenario.endswith((".yaml", ".yml")):
        return base / case.scenario
    return resolve_scenario(case.scenario)


def load_case(name: str | Path) -> LoadedCase:
    """Load a case file (by path or bundled name), its scenario, and check one against the other.

    Raises
    ------
    InputError
        Every problem, each naming file, line, field, expected and found; problems in the
        scenario file itself name that file.
    """
    path = resolve_case(str(name))
    file = str(path)
    case, lines = read_model(path, Case, "case")
    try:
        scenario_path = _scenario_path(case, path.parent)
    except InputError as err:
        raise InputError([problem_at(file, lines, ("scenario",), err.problems[0].expected, repr(case.scenario))]) from None
    if not scenario_path.is_file():
        expected = "a scenario path relative to the case file or a bundled name"
        raise InputError([problem_at(file, lines, ("scenario",), expected, repr(case.scenario))])
    loaded = load_scenario(scenario_path)
    problems = cross_check_case(case, loaded, file, lines)
    if problems:
        raise InputError(problems)
    return LoadedCase(case=case, path=path, scenario=loaded)


def cross_check_case(case: Case, loaded: LoadedScenario, file: str, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """Checks of a case against its scenario: every agenda group recorded, terms on the
    group's issues and inside their ranges, criteria on known groups, recorded terms and
    rounds the scenario has."""
    s = loaded.scenario
    out: list[Problem] = []
    groups = list(s.agenda)

    def need(name: str, known: list[str], path: tuple[Any, ...], what: str) -> bool:
        if name in known:
            return True
        hint = difflib.get_close_matches(name, known, n=1)
        found = repr(name) + (f" (did you mean {hint[0]!r}?)" if hint else "")
        out.append(problem_at(file, lines, path, f"{what} ({', '.join(known) or 'none'})", found))
        return False

    for group in groups:
        if group not in case.happened:
            out.append(
                problem_at(file, lines, ("happened",), f"a record of every agenda group of {s.name} (missing {group!r})", "none")
            )
    for group, record in case.happened.items():
        if not need(group, groups, ("happened", group), f"an agenda group of {s.name}"):
            continue
        for issue, term in record.terms.items():
            path = ("happened", group, "terms", issue)
            if need(issue, s.agenda[group], path, f"an issue of group {group!r}"):
                lo, hi = s.issues[issue].range
                if not lo <= term.value <= hi:
                    expected = f"a number in the issue's range [{lo}, {hi}]"
                    out.append(problem_at(file, lines, (*path, "value"), expected, f"{term.value}"))
        if record.round is not None and not 1 <= record.round.value <= s.protocol.rounds:
            where_round = ("happened", group, "round", "value")
            out.append(problem_at(file, lines, where_round, f"a round 1..{s.protocol.rounds}", str(record.round.value)))
    for i, criterion in enumerate(case.criteria):
        where: tuple[Any, ...] = ("criteria", i)
        if not need(criterion.group, groups, (*where, "group"), f"an agenda group of {s.name}"):
            continue
        recorded = case.happened.get(criterion.group)
        if criterion.term is not None and recorded is not None:
            terms_of = f"a term recorded under happened.{criterion.group}.terms"
            need(criterion.term, list(recorded.terms), (*where, "term"), terms_of)
        if criterion.rate is not None and not 0.0 <= criterion.bound()[1] <= 1.0:
            out.append(problem_at(file, lines, (*where, "rate"), "a share between 0 and 1", repr(criterion.rate)))
        if criterion.round is not None and not 1.0 <= criterion.bound()[1] <= s.protocol.rounds:
            expected = f"a round between 1 and {s.protocol.rounds}"
            out.append(problem_at(file, lines, (*where, "round"), expected, repr(criterion.round)))
    return out
