"""Loading a scenario: the file read and validated, its seed document and evidence checked;
and a changed copy of a loaded scenario checked the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.errors import InputError, Problem
from sim.inputs.catalogue import resolve_scenario
from sim.inputs.checks import cross_check
from sim.inputs.evidence import misattributed, read_evidence
from sim.inputs.salvage import Failures, salvage
from sim.inputs.schema import Scenario
from sim.inputs.yamlfile import describe, read_limited, read_yaml, translate_all


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from and its evidence."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    path: Path
    sha256: str
    evidence: dict[str, dict[str, Any]]
    """The evidence file's entries by id; empty for a scenario without one (``traceable`` false)."""
    warnings: list[Problem] = Field(default_factory=list)
    """What is suspect but not wrong: evidence about another party or issue cited on a party's position or red line."""

    @property
    def traceable(self) -> bool:
        """Whether the scenario has evidence (a seed document and an evidence file): without,
        every number in it is an assumption, and none can be traced to a source."""
        return self.scenario.evidence_file is not None

def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, validate and cross-check a scenario file, by path or bundled name.

    ``path`` is a file, or the name of a bundled scenario (``"istanbul_2025"``, see
    ``sim.inputs.catalogue``). Where the schema fails, the parts that pass it are still
    cross-checked and their evidence read (``sim.inputs.salvage``): every problem at once.
    Evidence about another party or issue cited on a party's position or red line is a warning, in ``warnings``.

    Raises
    ------
    InputError
        With every problem found, each naming file, line, field, expected and found.
    """
    path = resolve_scenario(str(path))
    file = str(path)
    data, lines = read_yaml(path, "scenario file")
    if not isinstance(data, dict):
        raise InputError([Problem(file, lines.get((), 1), "", "a mapping of scenario keys", describe(data))])
    problems: list[Problem] = []
    failed = Failures()
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = translate_all(exc, file, lines, Scenario)
        # the scenario's own "before" step first (events dated by day get their round), as validation did
        scenario, failed = salvage(Scenario, Scenario.dated_events(data), exc.errors())
    evidence, evidence_problems = read_evidence(scenario, path.parent, file, lines, failed)
    problems.extend(evidence_problems)
    problems.extend(cross_check(scenario, file, lines, evidence, failed))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(read_limited(path, "scenario file")).hexdigest()
    warnings = misattributed(scenario, file, lines, evidence or {})
    return LoadedScenario(scenario=scenario, path=path, sha256=digest, evidence=evidence or {}, warnings=warnings)


def check_scenario(data: dict[str, Any], where: str, evidence: dict[str, dict[str, Any]] | None = None) -> Scenario:
    """A scenario from already-parsed data (a changed copy of a loaded one), checked as a
    file is: the schema, then the cross-checks. Problems name ``where`` instead of a file line.

    Raises
    ------
    InputError
        With every problem found; ``field`` is the dotted path into ``data``.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise InputError(translate_all(exc, where, {}, Scenario)) from None
    problems = cross_check(scenario, where, {}, evidence)
    if problems:
        raise InputError(problems)
    return scenario


def with_overrides(
    loaded: LoadedScenario, *, replicas: int | None = None, seed: int | None = None, rounds: int | None = None
) -> Scenario:
    """The scenario with command-line overrides applied, validated like the file (schema and
    cross-checks: a deadline before a scheduled event is an error)."""
    s = loaded.scenario
    update: dict[str, Any] = {}
    if replicas is not None:
        update["replicas"] = replicas
    if seed is not None:
        update["seed"] = seed
    if rounds is not None:
        update["protocol"] = s.protocol.model_copy(update={"rounds": rounds})
    data = s.model_dump()
    data.update({k: (v.model_dump() if isinstance(v, BaseModel) else v) for k, v in update.items()})
    return check_scenario(data, "command line", loaded.evidence)
