"""Scenario files: the typed schema, loading with line numbers, and cross-checks.

A scenario states issues, agenda groups, parties with evidence-backed positions, the
protocol, events and uncertainty. Turning it into arrays is ``sim.problem``'s job.
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from sim.errors import InputError, Problem

DEFAULT_SALIENCE_LEVELS: dict[str, float] = {
    "low": 1.0,
    "medium": 2.0,
    "high": 4.0,
    "highest": 8.0,
}
"""Salience words to weights: each level doubles the one below (overridable per scenario)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base for every schema block: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Basis(Strict):
    """Where a number comes from: evidence ids in seeds/, or a stated assumption."""

    evidence: list[str] = Field(default_factory=list)
    assumption: str | None = None

    @model_validator(mode="after")
    def _has_basis(self) -> Basis:
        if not self.evidence and not self.assumption:
            raise ValueError("a basis: 'evidence' (ids from the evidence file) or 'assumption' (text)")
        return self


class Issue(Strict):
    """One negotiable issue in natural units."""

    description: str
    units: str
    range: tuple[float, float]
    levels: Annotated[int, Field(ge=2, le=101)] = 5
    status_quo: float
    war_decides: bool = True
    ends_war: bool = False

    @field_validator("range")
    @classmethod
    def _range_ok(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError("range [low, high] with low < high")
        return value

    @field_validator("status_quo")
    @classmethod
    def _status_quo_ok(cls, value: float, info: ValidationInfo) -> float:
        lo, hi = info.data.get("range", (value, value))
        if not lo <= value <= hi:
            raise ValueError(f"status_quo inside range [{lo}, {hi}]")
        return value


class Position(Basis):
    """A party's ideal point (natural units) and salience on one issue."""

    ideal: float
    salience: str | Positive


class War(Basis):
    """War as the outside option, as this party sees it (its own, possibly optimistic, belief)."""

    win_probability: Probability
    cost: NonNegative = 0.0
    cost_per_round: NonNegative = 0.0


class Strategy(Basis):
    """Concession strategy, patience and acceptance rule."""

    type: Literal["time_dependent", "tit_for_tat", "zeuthen"] = "time_dependent"
    e: NonNegative = 1.0
    k: Probability = 0.0
    step: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    initial_concession: Probability = 0.05
    patience: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    acceptance: Literal["ac_next"] = "ac_next"


class RedLine(Basis):
    """A public commitment: crossing ``limit`` on ``issue`` costs ``cost`` (audience cost)."""

    issue: str
    limit: float
    cost: NonNegative


class Commitment(Basis):
    """Commitment problem: a ceasefire lets the other side regroup unless ``relieved_by``.

    The party loses ``penalty * x[issue] * max(0, 1 - x[relieved_by] / relieved_at)``
    (positions normalised to [0, 1]).
    """

    issue: str
    penalty: NonNegative
    relieved_by: str | None = None
    relieved_at: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


class Party(Strict):
    """A belligerent, mediator or third party."""

    name: str
    role: Literal["belligerent", "mediator", "third_party"]
    positions: dict[str, Position] = Field(default_factory=dict)
    risk_exponent: Positive = 1.0
    war: War | None = None
    strategy: Strategy | None = None
    red_lines: list[RedLine] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    capability: NonNegative = 1.0

    @model_validator(mode="after")
    def _belligerent_complete(self) -> Party:
        if self.role == "belligerent" and (self.war is None or self.strategy is None):
            raise ValueError("a belligerent with both 'war' and 'strategy' blocks")
        return self


class Protocol(Basis):
    """The round protocol and its deadline."""

    type: Literal["alternating_offers", "single_text"] = "alternating_offers"
    rounds: Annotated[int, Field(ge=2, le=1000)] = 12
    first_proposer: str | None = None
    mediator: str | None = None
    step: Positive = 0.5


class Event(Basis):
    """A scheduled, conditional change of war payoffs (sanctions, a deadline's pressure).

    Each replica draws once whether the event is credible (carried out). Until
    ``from_round`` its targets anticipate ``credibility * change``; from then on, if the
    group ``unless_agreed`` is still open, a carried-out event applies the full change
    and a bluff none.
    """

    type: Literal["sanctions", "deadline", "pressure"]
    name: str
    by: list[str]
    targets: dict[str, float]
    from_round: Annotated[int, Field(ge=0)]
    unless_agreed: str
    credibility: Probability = 1.0


class Battlefield(Basis):
    """Per-round drift of the war: who gains, by how much, with what noise."""

    favours: str
    drift: float = 0.0
    volatility: NonNegative = 0.0
    status_quo_drift: dict[str, float] = Field(default_factory=dict)


class Uncertainty(Basis):
    """Per-replica draws around the documented numbers."""

    salience_concentration: Positive | None = None
    ideal_noise: NonNegative = 0.0
    win_probability_noise: NonNegative = 0.0


class Scenario(Strict):
    """A whole scenario file."""

    name: str
    title: str
    question: str
    description: str = ""
    seed_document: str
    evidence_file: str
    salience_levels: dict[str, Positive] = Field(default_factory=lambda: dict(DEFAULT_SALIENCE_LEVELS))
    issues: dict[str, Issue]
    agenda: dict[str, list[str]]
    parties: dict[str, Party]
    protocol: Protocol
    events: list[Event] = Field(default_factory=list)
    battlefield: Battlefield | None = None
    uncertainty: Uncertainty | None = None
    seed: Annotated[int, Field(ge=0)] = 0
    replicas: Annotated[int, Field(ge=1)] = 1

    @property
    def belligerents(self) -> list[str]:
        """Names of the belligerents, in file order."""
        return [name for name, party in self.parties.items() if party.role == "belligerent"]

    def salience_weight(self, salience: str | float) -> float:
        """The weight of a salience level word or number (the documented mapping)."""
        if isinstance(salience, str):
            return self.salience_levels[salience]
        return float(salience)


class LoadedScenario(BaseModel):
    """A validated scenario with where it came from and its evidence."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    scenario: Scenario
    path: Path
    sha256: str
    evidence: dict[str, dict[str, Any]]
    seed_lines: list[str]


# --- YAML with line numbers -------------------------------------------------------------


def _line_map(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """Map each key path of a composed YAML tree to its (1-based) line."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines.update(_line_map(value_node, (*path, key)))
            lines[(*path, key)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.update(_line_map(item, (*path, index)))
    return lines


def _nearest_line(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path).replace(".[", "[")


def _schema_fields(root: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """Field names allowed at ``path`` below ``root`` (for did-you-mean hints)."""
    model: Any = root
    next_is_key = False
    for part in path:
        if isinstance(part, int):
            continue
        if next_is_key:  # a dict key (an issue or party name), not a field
            next_is_key = False
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _inner_model(field.annotation)
        if model is None:
            return []
        next_is_key = get_origin(field.annotation) is dict
    return list(model.model_fields)


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _translate(error: Any, file: str, lines: dict[tuple[Any, ...], int], root: type[BaseModel]) -> Problem:
    """Turn one pydantic error into a Problem a person can act on."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = error["type"]
    line = _nearest_line(lines, loc)
    found = _describe(error.get("input"))
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _schema_fields(root, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        expected = f"one of the known keys ({', '.join(sorted(allowed))})" if allowed else "no such key"
        found = f"unknown key {loc[-1]!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
    elif kind == "missing":
        expected, found = "this required key", "nothing"
    elif kind == "literal_error":
        expected = f"one of {ctx.get('expected', '')}"
    elif kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        expected = f"a number {op} {bound}"
    elif kind == "value_error":
        expected = str(ctx.get("error", error["msg"]))
        if loc and isinstance(error.get("input"), dict):
            found = "a block without it"
    elif kind.startswith(("float", "int", "bool", "string", "dict", "list", "tuple", "model")):
        expected = error["msg"].replace("Input should be ", "").replace("Input ", "")
    else:
        expected = error["msg"]
    return Problem(file, line, _dotted(loc), expected, found)


def _problem(file: str, lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], expected: str, found: str) -> Problem:
    return Problem(file, _nearest_line(lines, path), _dotted(path), expected, found)


def _cross_check(
    s: Scenario, file: str, lines: dict[tuple[Any, ...], int], evidence: dict[str, dict[str, Any]] | None
) -> list[Problem]:
    """Checks that span blocks: names that must exist, evidence ids, ideals in range."""
    out: list[Problem] = []

    def need(name: str, known: list[str], path: tuple[Any, ...], what: str) -> None:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            found = repr(name) + (f" (did you mean {hint[0]!r}?)" if hint else "")
            out.append(_problem(file, lines, path, f"{what} ({', '.join(known)})", found))

    def basis(b: Basis, path: tuple[Any, ...]) -> None:
        if evidence is None:  # the evidence file itself is missing or broken: reported once already
            return
        for i, ref in enumerate(b.evidence):
            need(ref, list(evidence), (*path, "evidence", i), "an evidence id from the evidence file")

    issues = list(s.issues)
    parties = list(s.parties)
    groups = list(s.agenda)
    seen: dict[str, str] = {}
    for group, members in s.agenda.items():
        if not members:
            out.append(_problem(file, lines, ("agenda", group), "at least one issue", "an empty list"))
        for i, issue in enumerate(members):
            need(issue, issues, ("agenda", group, i), "an issue name")
            if issue in seen:
                out.append(
                    _problem(
                        file, lines, ("agenda", group, i), "each issue in one agenda group", f"{issue!r} also in {seen[issue]!r}"
                    )
                )
            seen[issue] = group
    for issue in issues:
        if issue not in seen:
            out.append(_problem(file, lines, ("issues", issue), "every issue in an agenda group", f"{issue!r} in none"))
    belligerents = s.belligerents
    if len(belligerents) != 2:
        out.append(_problem(file, lines, ("parties",), "exactly two parties with role belligerent", f"{len(belligerents)}"))
    path: tuple[Any, ...]
    for name, party in s.parties.items():
        for issue, pos in party.positions.items():
            path = ("parties", name, "positions", issue)
            need(issue, issues, path, "an issue name")
            basis(pos, path)
            if issue in s.issues:
                lo, hi = s.issues[issue].range
                if not lo <= pos.ideal <= hi:
                    out.append(
                        _problem(file, lines, (*path, "ideal"), f"a number in the issue's range [{lo}, {hi}]", f"{pos.ideal}")
                    )
            if isinstance(pos.salience, str) and pos.salience not in s.salience_levels:
                need(pos.salience, list(s.salience_levels), (*path, "salience"), "a salience level or a positive number")
        if party.role == "belligerent":
            for issue in issues:
                if issue not in party.positions:
                    out.append(
                        _problem(
                            file, lines, ("parties", name, "positions"), f"a position on every issue (missing {issue!r})", "none"
                        )
                    )
        for block in ("war", "strategy"):
            value = getattr(party, block)
            if value is not None:
                basis(value, ("parties", name, block))
        for i, red in enumerate(party.red_lines):
            path = ("parties", name, "red_lines", i)
            need(red.issue, issues, (*path, "issue"), "an issue name")
            basis(red, path)
        for i, com in enumerate(party.commitments):
            path = ("parties", name, "commitments", i)
            need(com.issue, issues, (*path, "issue"), "an issue name")
            if com.relieved_by is not None:
                need(com.relieved_by, issues, (*path, "relieved_by"), "an issue name")
            basis(com, path)
        if party.strategy is not None and party.strategy.type == "zeuthen" and s.protocol.type != "alternating_offers":
            out.append(
                _problem(
                    file,
                    lines,
                    ("parties", name, "strategy", "type"),
                    "zeuthen only with protocol alternating_offers",
                    "single_text",
                )
            )
    proto = s.protocol
    basis(proto, ("protocol",))
    if proto.first_proposer is not None:
        need(proto.first_proposer, belligerents, ("protocol", "first_proposer"), "a belligerent")
    if proto.type == "single_text":
        mediators = [n for n, p in s.parties.items() if p.role == "mediator"]
        if proto.mediator is None:
            out.append(_problem(file, lines, ("protocol",), "a 'mediator' for protocol single_text", "none"))
        else:
            need(proto.mediator, mediators, ("protocol", "mediator"), "a party with role mediator")
    for i, event in enumerate(s.events):
        path = ("events", i)
        basis(event, path)
        for j, by in enumerate(event.by):
            need(by, parties, (*path, "by", j), "a party name")
        for target in event.targets:
            need(target, belligerents, (*path, "targets", target), "a belligerent")
        need(event.unless_agreed, groups, (*path, "unless_agreed"), "an agenda group")
        if event.from_round >= proto.rounds:
            out.append(
                _problem(
                    file, lines, (*path, "from_round"), f"a round before the deadline (< {proto.rounds})", str(event.from_round)
                )
            )
    if s.battlefield is not None:
        basis(s.battlefield, ("battlefield",))
        need(s.battlefield.favours, belligerents, ("battlefield", "favours"), "a belligerent")
        for issue in s.battlefield.status_quo_drift:
            need(issue, issues, ("battlefield", "status_quo_drift", issue), "an issue name")
    if s.uncertainty is not None:
        basis(s.uncertainty, ("uncertainty",))
    return out


def _duplicate_keys(node: yaml.Node, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], int]]:
    """Key paths that a mapping states twice (YAML would silently keep the last)."""
    found = []
    if isinstance(node, yaml.MappingNode):
        seen = set()
        for key_node, value_node in node.value:
            if key_node.value in seen:
                found.append(((*path, key_node.value), key_node.start_mark.line + 1))
            seen.add(key_node.value)
            found.extend(_duplicate_keys(value_node, (*path, key_node.value)))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            found.extend(_duplicate_keys(item, (*path, index)))
    return found


def read_yaml(path: Path, what: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """A YAML file's data (``yaml.safe_load``) and the line of every key path.

    Raises ``InputError`` for a file that cannot be read, is not UTF-8, is not valid
    YAML or states a key twice.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(file, None, "", f"a readable {what}", exc.strerror or str(exc))]) from None
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(file, None, "", f"a UTF-8 text {what}", f"byte {exc.object[exc.start]:#04x} at offset {exc.start}")]
        ) from None
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # an unclosed bracket or quote is where the trouble starts, not where the parser gave up
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        found = str(getattr(exc, "problem", exc))
        context = getattr(exc, "context", None)
        if context and getattr(exc, "problem_mark", None) is not None:
            found += f" on line {exc.problem_mark.line + 1}, {context}"  # type: ignore[attr-defined]
        raise InputError([Problem(file, line, "", "valid YAML", found)]) from None
    if node is None:
        return data, {}
    duplicates = _duplicate_keys(node)
    if duplicates:
        raise InputError(
            [Problem(file, line, _dotted(key), "each key once in its block", "the key stated again") for key, line in duplicates]
        )
    return data, _line_map(node)


def _load_evidence(path: Path, seed_lines: list[str]) -> tuple[dict[str, dict[str, Any]] | None, list[Problem]]:
    """Read an evidence file and check that each quote stands on its stated line."""
    data, lines = read_yaml(path, "evidence file")
    file = str(path)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return None, [_problem(file, lines, ("entries",), "a mapping 'entries' of evidence ids to entries", _describe(entries))]
    problems = []
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            problems.append(_problem(file, lines, ("entries", key), "an entry with quote and line", _describe(entry)))
            continue
        line_no = entry.get("line")
        quote = entry.get("quote")
        if not isinstance(quote, str) or not quote:
            problems.append(
                _problem(file, lines, ("entries", key, "quote"), "a non-empty quote from the seed document", _describe(quote))
            )
        elif not isinstance(line_no, int) or not 1 <= line_no <= len(seed_lines):
            problems.append(
                _problem(
                    file,
                    lines,
                    ("entries", key, "line"),
                    f"a line number 1..{len(seed_lines)} of the seed document",
                    repr(line_no),
                )
            )
        elif quote not in seed_lines[line_no - 1]:
            problems.append(
                _problem(
                    file,
                    lines,
                    ("entries", key, "quote"),
                    f"text that stands on line {line_no} of the seed document",
                    _describe(quote),
                )
            )
    return entries, problems


def read_model(path: Path, model: type[M], what: str) -> tuple[M, dict[tuple[Any, ...], int]]:
    """A YAML file validated as ``model`` (a scenario, an experiment), with its line map.

    Raises ``InputError`` naming file, line, field, expected and found for every problem.
    """
    file = str(path)
    data, lines = read_yaml(path, f"{what} file")
    if not isinstance(data, dict):
        raise InputError([Problem(file, lines.get((), 1), "", f"a mapping of {what} keys", _describe(data))])
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        raise InputError([_translate(e, file, lines, model) for e in exc.errors()]) from None


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load, validate and cross-check a scenario file.

    Raises
    ------
    InputError
        With every problem found, each naming file, line, field, expected and found.
    """
    path = Path(path)
    file = str(path)
    scenario, lines = read_model(path, Scenario, "scenario")
    base = path.parent
    problems: list[Problem] = []
    seed_path = base / scenario.seed_document
    evidence_path = base / scenario.evidence_file
    seed_lines: list[str] = []
    evidence: dict[str, dict[str, Any]] | None = None
    if not seed_path.is_file():
        problems.append(
            _problem(
                file,
                lines,
                ("seed_document",),
                "a seed document path relative to the scenario file",
                repr(scenario.seed_document),
            )
        )
    else:
        try:
            seed_lines = seed_path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            problems.append(_problem(file, lines, ("seed_document",), "a UTF-8 text seed document", repr(scenario.seed_document)))
        if seed_lines and not evidence_path.is_file():
            problems.append(
                _problem(
                    file,
                    lines,
                    ("evidence_file",),
                    "an evidence file path relative to the scenario file",
                    repr(scenario.evidence_file),
                )
            )
        else:
            evidence, evidence_problems = _load_evidence(evidence_path, seed_lines)
            problems.extend(evidence_problems)
    problems.extend(_cross_check(scenario, file, lines, evidence))
    if problems:
        raise InputError(problems)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return LoadedScenario(scenario=scenario, path=path, sha256=digest, evidence=evidence or {}, seed_lines=seed_lines)


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
        raise InputError([_translate(e, where, {}, Scenario) for e in exc.errors()]) from None
    problems = _cross_check(scenario, where, {}, evidence)
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
