"""What a student can change on the page, and the scenario those settings make.

Each control is one number or choice of a loaded scenario, under a key such as
``patience.ukraine``; ``apply_settings`` writes values into a copy of the scenario and
checks it as a file is checked. The widgets are described in Mesa's ``model_params``
form; nothing here imports solara.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, get_args

from sim.errors import InputError, Problem, printable
from sim.inputs import LoadedScenario, Protocol, Scenario, Strategy, check_scenario

WHERE = "page settings"
"""Where problems with the page's settings are said to be (in place of file:line)."""
PROTOCOLS: tuple[str, ...] = get_args(Protocol.model_fields["type"].annotation)
STRATEGIES: tuple[str, ...] = get_args(Strategy.model_fields["type"].annotation)

MAX_REPLICAS = 5000
"""The most replicas the page runs: every step redraws charts over all of them."""

FieldPath = tuple[str | int, ...]
"""Keys and list positions from the top of a dumped scenario down to one field."""


@dataclass(frozen=True)
class Control:
    """One setting: its key, its label, where it lives in the dumped scenario, its documented
    value as the widget shows it, its widget in Mesa's ``model_params`` form, and the type
    the scenario takes."""

    key: str
    label: str
    path: FieldPath
    value: str
    widget: dict[str, Any]
    kind: type[int] | type[float] | type[str]

    @property
    def dotted(self) -> str:
        """The scenario field it sets, dotted as in error messages (``events[0].credibility``)."""
        return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in self.path).lstrip(".")

    @property
    def named(self) -> str:
        """The control in error messages: its label and the field it sets."""
        return self.label if self.label == self.dotted else f"{self.label} ({self.dotted})"

    def param(self) -> dict[str, Any]:
        """The control as a Mesa ``model_params`` entry, set to ``value``."""
        return {**self.widget, "label": self.label, "value": self.value}


def _number(key: str, label: str, path: FieldPath, value: float, kind: type[int] | type[float] = float) -> Control:
    """A control typed as text, so its value is always in view (and any value can be tried)."""
    # the shortest text that reads back as the same number: documented values stay exact
    shown = str(int(value)) if float(value).is_integer() else repr(float(value))
    return Control(key, label, path, shown, {"type": "InputText"}, kind)


def _choice(key: str, label: str, path: FieldPath, value: str, values: tuple[str, ...]) -> Control:
    return Control(key, label, path, value, {"type": "Select", "values": list(values)}, str)


def controls(scenario: Scenario) -> dict[str, Control]:
    """Every control for a scenario, in the order the page shows them.

    Examples
    --------
    >>> from sim.inputs import load_scenario
    >>> found = controls(load_scenario("istanbul_2025").scenario)
    >>> found["patience.ukraine"].value, found["patience.ukraine"].dotted
    ('0.95', 'parties.ukraine.strategy.patience')
    >>> found["salience.russia.territory"].label, found["salience.russia.territory"].value
    ('Russia: salience of territory', '8')
    """
    out: list[Control] = [
        _number("replicas", "replicas (negotiations side by side)", ("replicas",), scenario.replicas, int),
        _number("seed", "seed", ("seed",), scenario.seed, int),
        _number("rounds", "deadline (rounds of talks)", ("protocol", "rounds"), scenario.protocol.rounds, int),
        _choice("protocol", "protocol", ("protocol", "type"), scenario.protocol.type, PROTOCOLS),
    ]
    for key in scenario.belligerents:
        party = scenario.parties[key]
        name = printable(party.name)  # labels show on the page: no bidi override may reorder them
        strategy, war = party.strategy, party.war
        assert strategy is not None and war is not None  # belligerents have both (schema)
        out += [
            _choice(f"strategy.{key}", f"{name}: strategy", ("parties", key, "strategy", "type"), strategy.type, STRATEGIES),
            _number(f"patience.{key}", f"{name}: patience (0-1]", ("parties", key, "strategy", "patience"), strategy.patience),
            _number(f"war_cost.{key}", f"{name}: cost of war", ("parties", key, "war", "cost"), war.cost),
            _number(f"war_cost_per_round.{key}", f"{name}: cost of war per round", ("parties", key, "war", "cost_per_round"),
                    war.cost_per_round),
        ]
        for issue, position in party.positions.items():
            out.append(
                _number(f"salience.{key}.{issue}", f"{name}: salience of {issue}",
                        ("parties", key, "positions", issue, "salience"), scenario.salience_weight(position.salience))
            )
    for e, event in enumerate(scenario.events):
        label = f"{printable(event.name)}: credibility [0-1]"
        out.append(_number(f"credibility.{e}", label, ("events", e, "credibility"), event.credibility))
    return {c.key: c for c in out}


def model_params(scenario: Scenario, source: str) -> dict[str, Any]:
    """Mesa ``model_params`` for ``sim.app.session.PageModel``: the scenario file ``source``
    (fixed) and every control at its documented value."""
    return {"source": source, **{key: c.param() for key, c in controls(scenario).items()}}


def documented_settings(scenario: Scenario) -> dict[str, Any]:
    """Every control's documented value, by key."""
    return {key: c.value for key, c in controls(scenario).items()}


def _parse(control: Control, value: Any) -> Any:
    """The value a control's widget gave (text, or a number from code), as the scenario takes it."""
    if control.kind is str:
        return value
    text = str(value).strip()
    try:
        number: float = int(text) if control.kind is int else float(text)
    except ValueError:
        what = "a whole number" if control.kind is int else "a number"
        raise InputError([Problem(WHERE, None, control.named, what, repr(text))]) from None
    if not math.isfinite(number):
        raise InputError([Problem(WHERE, None, control.named, "a finite number", repr(text))])
    if control.key == "replicas" and number > MAX_REPLICAS:
        raise InputError(
            [Problem(WHERE, None, control.named, f"at most {MAX_REPLICAS:,} on the page (ceasefire run takes more)", text)]
        )
    return number


def _set(data: dict[str, Any], path: FieldPath, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def apply_settings(loaded: LoadedScenario, settings: Mapping[str, Any]) -> Scenario:
    """The loaded scenario with the page's settings, checked as a scenario file is.

    Keys missing from ``settings`` keep the documented value. Under the single negotiating
    text, a scenario that names no mediator gets its first party with role mediator.

    Raises
    ------
    InputError
        For an unknown key, text that is not a (whole) number, more than ``MAX_REPLICAS``
        replicas, or a setting the scenario
        schema or its cross-checks reject (e.g. patience 0, a deadline before an event,
        Zeuthen's strategy under a single text); each problem names the control.

    Examples
    --------
    >>> from sim.inputs import load_scenario
    >>> loaded = load_scenario("istanbul_2025")
    >>> apply_settings(loaded, {"rounds": 20, "patience.russia": 0.9}).parties["russia"].strategy.patience
    0.9
    >>> try:
    ...     apply_settings(loaded, {"patience.russia": "0", "rounds": "5"})
    ... except InputError as err:
    ...     print(err)
    page settings: Russia: patience (0-1] (parties.russia.strategy.patience): expected a number > 0.0, found 0.0
    """
    scenario = loaded.scenario
    known = controls(scenario)
    unknown = [key for key in settings if key not in known]
    if unknown:
        raise InputError([Problem(WHERE, None, key, f"a control of {scenario.name}", "an unknown key") for key in unknown])
    data = scenario.model_dump()
    for key, value in settings.items():
        _set(data, known[key].path, _parse(known[key], value))
    protocol = data["protocol"]
    if protocol["type"] == "single_text" and protocol["mediator"] is None:
        mediators = [name for name, party in data["parties"].items() if party["role"] == "mediator"]
        protocol["mediator"] = mediators[0] if mediators else None
    try:
        return check_scenario(data, WHERE, loaded.evidence)
    except InputError as err:
        raise InputError(_name_controls(err.problems, list(known.values()), scenario)) from None


def _name_controls(problems: list[Problem], known: list[Control], scenario: Scenario) -> list[Problem]:
    """Problems with each scenario field replaced by the control that set it (or an event's
    field by the event's name)."""
    out = []
    for problem in problems:
        control = next((c for c in known if problem.field == c.dotted or problem.field.startswith(c.dotted + ".")), None)
        event = next((e for i, e in enumerate(scenario.events) if problem.field.startswith(f"events[{i}].")), None)
        if control is None and event is not None:
            named = f"{printable(event.name)} ({problem.field})"
            out.append(Problem(problem.file, problem.line, named, problem.expected, problem.found))
        elif control is None:
            out.append(problem)
        else:
            out.append(Problem(problem.file, problem.line, control.named, problem.expected, problem.found))
    return out
