"""YAML files read once, in bounded time and memory, with the line of every key path:
a regular file of at most ``MAX_FILE_BYTES``, no aliases, anchors or merge keys, nesting
at most ``MAX_DEPTH`` deep and at most ``MAX_NODES`` values, each key once per block; and
pydantic errors turned into ``file:line: field: expected, found`` problems.
It knows no schema of its own: the model to validate against is an argument.
"""

from __future__ import annotations

import difflib
import gc
import os
import stat
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import SHOWN, InputError, Problem, printable, shorten

MAX_FILE_BYTES = 2 * 1024 * 1024
"""The largest input file read (scenario, experiment, evidence, seed document, CSV): 2 MiB."""
MAX_DEPTH = 64
"""The deepest nesting of blocks and lists in a YAML file."""
MAX_NODES = 100_000
"""The most values (scalars, blocks, lists) in one YAML file."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it
_MERGE = "tag:yaml.org,2002:merge"

M = TypeVar("M", bound=BaseModel)


def nearest_line(lines: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The line of ``path``, or of its nearest stated ancestor."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    parts = (f"[{p}]" if isinstance(p, int) else shorten(str(p), 40) for p in path)
    return ".".join(parts).replace(".[", "[")


HINT_LENGTH = 200
"""Did-you-mean hints are looked for only for names of at most this many characters
(difflib's cost grows with the product of the lengths)."""


def did_you_mean(name: Any, names: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` for the name of ``names`` closest to ``name`` (``difflib``),
    or ``""`` when none is close or ``name`` is no text of at most ``HINT_LENGTH`` characters.

    Examples
    --------
    >>> did_you_mean("beligerent", ["belligerent", "mediator", "third_party"])
    " (did you mean 'belligerent'?)"
    >>> did_you_mean("army", ["belligerent", "mediator"])
    ''
    """
    if not isinstance(name, str) or len(name) > HINT_LENGTH:
        return ""
    hint = difflib.get_close_matches(name, list(names), n=1)
    return f" (did you mean {shorten(hint[0], 40)!r}?)" if hint else ""


def _schema_field(root: type[BaseModel], path: tuple[Any, ...]) -> Any:
    """The field (a pydantic ``FieldInfo``) at key path ``path`` below ``root``, or None."""
    if not path:
        return None
    model: Any = root
    next_is_key = False
    for i, part in enumerate(path):
        if isinstance(part, int):
            continue
        if next_is_key:
            next_is_key = False
            continue
        field = model.model_fields.get(part)
        if field is None or i == len(path) - 1:
            return field
        model = _inner_model(field.annotation)
        if model is None:
            return None
        next_is_key = get_origin(field.annotation) is dict
    return None


def _literal_choices(root: type[BaseModel], path: tuple[Any, ...]) -> list[str]:
    """The words a ``Literal`` field at ``path`` below ``root`` allows (empty if none is known)."""
    field = _schema_field(root, path)
    if field is None:
        return []
    for annotation in (field.annotation, *get_args(field.annotation)):
        if get_origin(annotation) is Literal:
            return [str(choice) for choice in get_args(annotation)]
    return []


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
    """A short, printable repr of a found value for a message (at most ``SHOWN`` characters
    of it, then an ellipsis and its length).

    Examples
    --------
    >>> describe("ua" * 50_000)
    "'uauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauauau... (100,000 characters)"
    """
    text = repr(value)
    if isinstance(value, str) and len(text) > SHOWN:  # the length of the value, not of its repr
        return f"{printable(text)[:SHOWN]}... ({len(value):,} characters)"
    return shorten(text)


def known(names: Any, most: int = 12) -> str:
    """Names a message lists as the ones allowed: the first ``most``, then how many more.

    Examples
    --------
    >>> known(["a", "b", "c"], most=2)
    'a, b, ... (3 in all)'
    """
    names = list(names)
    shown = ", ".join(shorten(str(n), 40) for n in names[:most])
    return shown if len(names) <= most else f"{shown}, ... ({len(names):,} in all)"


def _bound(value: Any) -> str:
    """A schema bound as a message shows it: ``1.0``, ``10,000,000``, ``1e+12``, ``1e-06``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float) and value and not 1e-3 <= abs(value) < 1e6:
        return f"{value:g}"
    return str(value)


def translate(error: Any, file: str, lines: dict[tuple[Any, ...], int], root: type[BaseModel]) -> Problem:
    """Turn one pydantic error into a Problem a person can act on."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = error["type"]
    line = nearest_line(lines, loc)
    found = describe(error.get("input"))
    ctx = error.get("ctx", {})
    if kind == "extra_forbidden":
        allowed = _schema_fields(root, loc[:-1])
        expected = f"one of the known keys ({known(sorted(allowed), most=40)})" if allowed else "no such key"
        found = f"unknown key {describe(loc[-1])}" + did_you_mean(str(loc[-1]), allowed)
    elif kind == "missing":
        expected, found = "this required key", "nothing"
    elif kind == "literal_error":
        choices = _literal_choices(root, loc)
        expected = f"one of {', '.join(choices) if choices else ctx.get('expected', '')}"
        found += did_you_mean(error.get("input"), choices)
    elif kind == "finite_number":
        expected = "a finite number"
    elif kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        op = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}[kind]
        bound = ctx.get("gt", ctx.get("ge", ctx.get("lt", ctx.get("le"))))
        expected = f"a number {op} {_bound(bound)}"
    elif kind in {"too_short", "too_long"}:
        bound = ctx.get("min_length" if kind == "too_short" else "max_length")
        items = "entry" if bound == 1 else "entries"
        expected = f"at least {bound} {items}" if kind == "too_short" else f"at most {bound:,} {items}"
        found = f"{ctx.get('actual_length', '?')}"
    elif kind == "value_error":
        expected = str(ctx.get("error", error["msg"]))
        if loc and isinstance(error.get("input"), dict):
            found = "a block without it"
    elif kind.startswith(("float", "int", "bool", "string", "dict", "list", "tuple", "model", "date")):
        expected = error["msg"].replace("Input should be ", "").replace("Input ", "")
    else:
        expected = error["msg"]
    return Problem(file, line, _dotted(loc), expected, found)


def translate_all(exc: ValidationError, file: str, lines: dict[tuple[Any, ...], int], root: type[BaseModel]) -> list[Problem]:
    """Every pydantic error of ``exc`` as a Problem. A value checked against a word-or-number
    union (a salience) fails both branches: a number is reported once, by its number branch,
    under the field's own name."""
    errors = exc.errors()
    numbered = {tuple(e["loc"][:-1]) for e in errors if e["loc"] and e["loc"][-1] == "constrained-float"}
    out = []
    for error in errors:
        loc = tuple(error["loc"])
        if loc and loc[-1] == "str" and loc[:-1] in numbered and error["type"] == "string_type":
            continue
        if loc and loc[-1] == "constrained-float":
            error = {**error, "loc": loc[:-1]}
        out.append(translate(error, file, lines, root))
    return out


def problem_at(file: str, lines: dict[tuple[Any, ...], int], path: tuple[Any, ...], expected: str, found: str) -> Problem:
    """A problem at key path ``path`` of a file, on the line of the nearest stated key."""
    return Problem(file, nearest_line(lines, path), _dotted(path), expected, found)




def is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file: False too for a path the system cannot look up
    (too long a name, a NUL character in it)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def read_limited(path: Path, what: str) -> bytes:
    """The bytes of a regular file of at most ``MAX_FILE_BYTES``.

    The file is opened without blocking and checked (a named pipe, a device or a folder is
    refused before anything is read), and never read past the limit.
    """
    file = str(path)

    def refuse(expected: str, found: str) -> InputError:
        return InputError([Problem(file, None, "", expected, found)])

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise refuse(f"a readable {what}", exc.strerror or str(exc)) from None
    except ValueError:  # a NUL character in the path
        raise refuse(f"a readable {what}", "a path with a NUL character") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise refuse(f"a {what} (a regular file)", _file_kind(info.st_mode))
    limit = f"a {what} of at most {MAX_FILE_BYTES:,} bytes (2 MiB)"
    if info.st_size > MAX_FILE_BYTES:
        os.close(fd)
        raise refuse(limit, f"{info.st_size:,} bytes")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise refuse(f"a readable {what}", exc.strerror or str(exc)) from None
    if len(data) > MAX_FILE_BYTES:
        raise refuse(limit, "more (the file grew while read)")
    return data


def read_text(path: Path, what: str) -> str:
    """A regular UTF-8 text file of at most ``MAX_FILE_BYTES`` (``read_limited``)."""
    data = read_limited(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            [Problem(str(path), None, "", f"a UTF-8 text {what}", f"byte {data[exc.start]:#04x} at offset {exc.start}")]
        ) from None


class _RefusedError(Exception):
    """A YAML construct this reader refuses: (line, key path, expected, found)."""


Lines = dict[tuple[Any, ...], int]


def _compose(loader: Any) -> tuple[yaml.Node | None, Lines, list[tuple[tuple[Any, ...], int]]]:
    """The node tree of the one document ``loader`` holds, the line of every key path and
    the keys a block states twice (YAML would silently keep the last), with their lines.

    Built from the parser's events with a stack (never recursing), refusing as each event
    arrives what would make reading unbounded: aliases and anchors, merge keys, nesting
    deeper than ``MAX_DEPTH``, more than ``MAX_NODES`` values; and keys that are not plain.
    """
    loader.get_event()  # the stream's start
    if loader.check_event(yaml.StreamEndEvent):
        return None, {}, []
    loader.get_event()  # the document's start
    lines: Lines = {}
    duplicates: list[tuple[tuple[Any, ...], int]] = []
    stack: list[tuple[Any, tuple[Any, ...], set[str]]] = []  # (collection node, its key path, keys seen)
    pending: list[Any] = []  # the key node of each open mapping awaiting its value (None: a key is next)
    root: Any = None
    count = 0
    while True:
        event = loader.get_event()
        kind = type(event)
        if kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()[0].end_mark = event.end_mark
            pending.pop()
            if not stack:
                break
            continue
        line = event.start_mark.line + 1
        is_key = False
        if not stack:
            path: tuple[Any, ...] = ()
        elif isinstance(stack[-1][0], yaml.SequenceNode):
            path = (*stack[-1][1], len(stack[-1][0].value))
        elif pending[-1] is None:
            path, is_key = stack[-1][1], True  # a key: the problem is its block's
        else:
            path = (*stack[-1][1], pending[-1].value)
        if kind is yaml.AliasEvent:
            raise _RefusedError(line, path, "no aliases (*name): state each value where it is used", f"alias *{event.anchor}")
        if event.anchor is not None:
            raise _RefusedError(line, path, "no anchors (&name): state each value where it is used", f"anchor &{event.anchor}")
        count += 1
        if count > MAX_NODES:
            raise _RefusedError(line, (), f"a file of at most {MAX_NODES:,} values (keys, numbers, texts, blocks)", "more")
        tag = event.tag
        if kind is yaml.ScalarEvent:
            if tag is None or tag == "!":
                tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            node: Any = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        else:
            node_kind = yaml.SequenceNode if kind is yaml.SequenceStartEvent else yaml.MappingNode
            if tag is None or tag == "!":
                tag = loader.resolve(node_kind, None, event.implicit)
            node = node_kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if is_key:
            if kind is not yaml.ScalarEvent:
                raise _RefusedError(line, path, "a plain key (a name or a number)", "a block or a list as a key")
            if tag == _MERGE:
                raise _RefusedError(line, path, "no merge keys (<<): state each key where it is used", "'<<'")
            seen = stack[-1][2]
            if event.value in seen:
                duplicates.append(((*path, event.value), line))
            else:
                lines[(*path, event.value)] = line
            seen.add(event.value)
            pending[-1] = node
            continue
        if not stack:
            root = node
            lines[path] = line
        elif isinstance(stack[-1][0], yaml.SequenceNode):
            stack[-1][0].value.append(node)
            lines[path] = line
        else:  # the value of the pending key, whose line is the key's
            stack[-1][0].value.append((pending[-1], node))
            pending[-1] = None
        if kind is yaml.ScalarEvent:
            if not stack:
                break
            continue
        if len(stack) >= MAX_DEPTH:
            raise _RefusedError(line, path[:1], f"blocks and lists nested at most {MAX_DEPTH} deep", "deeper nesting")
        stack.append((node, path, set()))
        pending.append(None)
    loader.get_event()  # the document's end
    if not loader.check_event(yaml.StreamEndEvent):
        second = loader.peek_event().start_mark.line + 1
        raise _RefusedError(second, (), "a single YAML document", "a second one ('---')")
    return root, lines, duplicates


def read_yaml(path: Path, what: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    """A YAML file's data (as ``yaml.safe_load`` has it) and the line of every key path.

    The file is parsed once, in bounded time and memory. Raises ``InputError`` for a file
    that cannot be read, is not a regular file, is larger than ``MAX_FILE_BYTES``, is not
    UTF-8, is not valid YAML, uses an alias, anchor or merge key, nests deeper than
    ``MAX_DEPTH``, holds more than ``MAX_NODES`` values or states a key twice.
    """
    file = str(path)
    text = read_text(path, what)
    loader = _Loader(text)
    collecting = gc.isenabled()
    gc.disable()  # tens of thousands of small objects, none in a cycle: collections would only slow reading
    try:
        root, lines, duplicates = _compose(loader)
        if duplicates:
            raise InputError(
                [Problem(file, at, _dotted(key), "each key once in its block", "the key stated again") for key, at in duplicates]
            )
        data = loader.construct_document(root) if root is not None else None
    except _RefusedError as exc:
        line, where, expected, found = exc.args
        raise InputError([Problem(file, line, _dotted(where), expected, found)]) from None
    except yaml.YAMLError as exc:
        # an unclosed bracket or quote is where the trouble starts, not where the parser gave up
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        found = str(getattr(exc, "problem", None) or exc).removeprefix("found ")
        for missing in ("did not find expected ", "could not find expected "):  # libyaml's wording
            found = found.replace(missing, "no ")
        context = getattr(exc, "context", None)
        if context and getattr(exc, "problem_mark", None) is not None:
            found += f" on line {exc.problem_mark.line + 1}, {context}"  # type: ignore[attr-defined]
        raise InputError([Problem(file, line, "", "valid YAML", found)]) from None
    finally:
        loader.dispose()
        if collecting:
            gc.enable()
    return data, lines


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
        raise InputError(translate_all(exc, file, lines, model)) from None

