"""Loading a scenario: the file read and validated, its seed document and evidence checked;
and a changed copy of a loaded scenario checked the same way.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from sim.errors import InputError, Problem
from sim.inputs.catalogue import resolve_scenario
from sim.inputs.checks import cross_check, load_evidence
from sim.inputs.schema import Scenario
from sim.inputs.yamlfile import describe, is_file, problem_at, read_limited, read_model, read_text, translate_all


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from and its evidence."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    path: Path
    sha256: str
    evidence: dict[str, dict[str, Any]]

def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, validate and cross-check a scenario file, by path or bundled name.

    ``path`` is a file, or the name of a bundled scenario (``"istanbul_2025"``, see
    ``sim.inputs.catalogue``).

    Raises
    ------
    InputError
        With every problem found, each naming file, line, field, expected and found.
    """
    path = resolve_scenario(str(path))
    file = str(path)
    scenario, lines = read_model(path, Scenario, "scenario")
    base = path.parent
    problems: list[Problem] = []
    seed_path = base / scenario.seed_document
    evidence_path = base / scenario.evidence_file
    seed_lines: list[str] = []
    evidence: dict[str, dict[str, Any]] | None = None
    if not is_file(seed_path):
        problems.append(
            problem_at(
                file,
                lines,
                ("seed_document",),
                "a seed document path relative to the scenario file",
                describe(scenario.seed_document),
            )
        )
    else:
        try:
            seed_lines = read_text(seed_path, "seed document").splitlines()
        except InputError as err:
            expected = err.problems[0].expected
            problems.append(problem_at(file, lines, ("seed_document",), expected, describe(scenario.seed_document)))
        else:
            if not is_file(evidence_path):
                problems.append(
                    problem_at(
                        file,
                        lines,
                        ("evidence_file",),
                        "an evidence file path relative to the scenario file",
                        describe(scenario.evidence_file),
                    )
                )
            else:
                evidence, evidence_problems = load_evidence(evidence_path, seed_lines)
                problems.extend(evidence_problems)
    problems.extend(cross_check(scenario, file, lines, evidence))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(read_limited(path, "scenario file")).hexdigest()
    return LoadedScenario(scenario=scenario, path=path, sha256=digest, evidence=evidence or {})


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
