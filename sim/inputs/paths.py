"""Numbers of a loaded scenario addressed by a dotted path (``parties.russia.war.cost``,
``events.sanctions.credibility``): finding them in a dumped scenario, and a copy with new
values validated as a file is. Which paths an experiment sweeps is ``sim.inputs.experiment``.
"""

from __future__ import annotations

import copy
import difflib
from typing import Any

from sim.errors import shorten
from sim.inputs.scenario import LoadedScenario, check_scenario, load_scenario  # noqa: F401 (load_scenario: doctest)
from sim.inputs.schema import Scenario
from sim.inputs.yamlfile import describe


def _step(node: Any, part: str) -> tuple[Any, Any]:
    """The child of ``node`` named ``part`` and the key to set it: a dict key, or in a list
    (events) an index, an item's ``name`` or the ``type`` of the only item of that type."""
    if isinstance(node, dict):
        if part in node:
            return node[part], part
        raise KeyError(sorted(map(str, node)))
    if isinstance(node, list):
        if part.isdigit() and int(part) < len(node):
            return node[int(part)], int(part)
        for i, item in enumerate(node):
            if isinstance(item, dict) and item.get("name") == part:
                return item, i
        typed = [i for i, item in enumerate(node) if isinstance(item, dict) and item.get("type") == part]
        if len(typed) == 1:
            return node[typed[0]], typed[0]
        names = [str(item.get("type")) for item in node if isinstance(item, dict) and "type" in item]
        raise KeyError(names or [str(i) for i in range(len(node))])
    raise KeyError([])


def locate(data: dict[str, Any], path: str) -> tuple[Any, Any, Any]:
    """Container, key and current value of ``path`` (``parties.russia.war.cost``) in a dumped scenario.

    Raises ``LookupError`` with a message naming the first part that does not exist.
    """
    node: Any = data
    parent: Any = None
    key: Any = None
    parts = path.split(".")
    for depth, part in enumerate(parts):
        try:
            child, key_here = _step(node, part)
        except KeyError as exc:
            known: list[str] = exc.args[0]
            where = ".".join(parts[:depth]) or "the scenario"
            hint = difflib.get_close_matches(part, known, n=1) if len(known) <= 500 else []
            raise LookupError(
                f"no {describe(part)} under {shorten(where)}"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + (f"; known: {', '.join(known[:12])}" if known else "")
            ) from None
        parent, key, node = node, key_here, child
    return parent, key, node


def is_integer_field(value: Any) -> bool:
    """Whether a scenario number is an integer (round numbers): swept values are rounded."""
    return isinstance(value, int) and not isinstance(value, bool)


def apply_values(base: LoadedScenario, values: dict[str, float], where: str) -> Scenario:
    """The base scenario with each path set to its value, validated like a scenario file.

    ``where`` names the point in errors (``design point 17``). Integer fields take the
    nearest integer.

    Examples
    --------
    >>> base = load_scenario("istanbul_2025")
    >>> apply_values(base, {"events.sanctions.credibility": 0.8}, "example").events[0].credibility
    0.8
    """
    data = copy.deepcopy(base.scenario.model_dump())
    for path, value in values.items():
        parent, key, old = locate(data, path)
        parent[key] = round(float(value)) if is_integer_field(old) else float(value)
    return check_scenario(data, where, base.evidence)
