"""YAML files read with ``yaml.safe_load`` plus the line of every key path, duplicate keys
refused, and pydantic errors turned into ``file:line: field: expected, found`` problems.
It knows no schema of its own: the model to validate against is an argument.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TypeVar, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError, Problem

M = TypeVar("M", bound=BaseModel)


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


def nearest_line(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The line of ``path``, or of its nearest stated ancestor."""
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


def describe(value: Any) -> str:
    """A short repr of a found value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def translate(error: Any, file: str, lines: dict[tuple[Any, ...], int], root: type[BaseModel]) -> Problem:
    """Turn one pydantic error into a Problem a person can act on."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = error["type"]
    line = nearest_line(lines, loc)
    found = describe(error.get("input"))
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
    elif kind.startswith(("float", "int", "bool", "string", "dict", "list", "tuple", "model", "date")):
        expected = error["msg"].replace("Input should be ", "").replace("Input ", "")
    else:
        expected = error["msg"]
    return Problem(file, line, _dotted(loc), expected, found)


def problem_at(file: str, lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], expected: str, found: str) -> Problem:
    """A problem at key path ``path`` of a file, on the line of the nearest stated key."""
    return Problem(file, nearest_line(lines, path), _dotted(path), expected, found)




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



def read_model(path: Path, model: type[M], what: str) -> tuple[M, dict[tuple[Any, ...], int]]:
    """A YAML file validated as ``model`` (a scenario, an experiment), with its line map.

    Raises ``InputError`` naming file, line, field, expected and found for every problem.
    """
    file = str(path)
    data, lines = read_yaml(path, f"{what} file")
    if not isinstance(data, dict):
        raise InputError([Problem(file, lines.get((), 1), "", f"a mapping of {what} keys", describe(data))])
    try:
        return model.model_validate(data), lines
    except ValidationError as exc:
        raise InputError([translate(e, file, lines, model) for e in exc.errors()]) from None

