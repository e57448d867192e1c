"""What is left of a file that failed its schema: the parts that passed, built into a partial
model, and the key paths of the parts that failed, so that the cross-checks still run on
the rest and every problem of a file is reported at once. It knows no schema of its own.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

Path = tuple[Any, ...]


def error_paths(errors: list[Any]) -> set[Path]:
    """The key path of each pydantic error (``exc.errors()``), without the tags pydantic
    adds for validators (``function-after[...]``) and union members (``str``, ``constrained-float``):
    a path into the data as the file has it."""
    out = set()
    for error in errors:
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        if loc and loc[-1] == "[key]":  # a key of the wrong type: the entry under it is the problem
            loc = loc[:-1]
        out.add(loc)
    return out


def salvage(model: type[BaseModel], data: dict[str, Any], errors: list[Any]) -> tuple[Any, Failures]:
    """A partial ``model`` built from the parts of ``data`` without errors, and the key paths
    of the values left out.

    A value with an error at or under it is replaced: a block by one built from its good
    keys (its other keys ``None``), a mapping or list by one of its good entries (a bad
    entry's key stays, with ``None`` or a block of ``None``), any other value by ``None``
    (an optional block too). Errors of a block as a whole (a check across its keys, such as
    "a basis") leave its keys in. The returned paths are those of each replaced value that
    is not a block or container: a check that reads at, above or below one must not run.
    """
    failed = error_paths(errors)
    under: set[Path] = set()
    for path in failed:
        under.update(path[:cut] for cut in range(len(path) + 1))
    broken: set[Path] = set()
    return _block(model, data, (), failed, under, broken), Failures(frozenset(broken))


def _good(annotation: Any, value: Any) -> Any:
    """``value`` as the schema has it (converted: lists to tuples, ints to floats), known to be valid."""
    return _adapter(annotation).validate_python(value)


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    key = repr(annotation)
    if key not in _ADAPTERS:
        _ADAPTERS[key] = TypeAdapter(annotation)
    return _ADAPTERS[key]


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The block type of an annotation (``War`` of ``War | None``) and whether None is allowed."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    if get_origin(annotation) in (Union, types.UnionType):
        args = get_args(annotation)
        models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(models) == 1 and len(args) == 2 and type(None) in args:
            return models[0], True
    return None, False


def _empty(model: type[BaseModel]) -> Any:
    """A block of ``model`` with every key ``None``: stands for a block that is wholly bad."""
    return model.model_construct(**dict.fromkeys(model.model_fields))


def _block(
    model: type[BaseModel], data: Any, path: Path, failed: set[Path], under: set[Path], broken: set[Path]
) -> Any:
    if not isinstance(data, dict):
        broken.add(path)
        return _empty(model)
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        here = (*path, name)
        if name not in data:
            if here in failed:  # a required key left out
                values[name] = _value(field.annotation, None, here, failed, under, broken)
            else:  # its default, given here: model_construct would inspect each factory's signature (slow)
                values[name] = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
            continue
        if here not in under:
            try:
                values[name] = _good(field.annotation, data[name])
            except ValidationError:  # valid only with what the whole model's validators add: left out
                broken.add(here)
                values[name] = field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]
        else:
            values[name] = _value(field.annotation, data[name], here, failed, under, broken)
    return model.model_construct(**values)


def _value(annotation: Any, data: Any, path: Path, failed: set[Path], under: set[Path], broken: set[Path]) -> Any:
    """A value at ``path`` with an error at or under it (see ``salvage``)."""
    inner, optional = _model_of(annotation)
    origin = get_origin(annotation)
    if inner is not None:
        if optional and (data is None or not isinstance(data, dict)):
            broken.add(path)
            return None
        return _block(inner, data, path, failed, under, broken)
    if origin is dict and isinstance(data, dict) and path not in failed:
        _, item = get_args(annotation)
        out = {}
        for key, value in data.items():
            if isinstance(key, str):  # every mapping of the schema has names for keys
                out[key] = _entry(item, value, (*path, key), failed, under, broken)
            else:
                broken.add((*path, key))
        return out
    if origin is list and isinstance(data, list) and path not in failed:
        (item,) = get_args(annotation)
        return [_entry(item, value, (*path, i), failed, under, broken) for i, value in enumerate(data)]
    broken.add(path)
    if origin is dict:
        return {}
    return [] if origin is list else None


def _entry(annotation: Any, data: Any, path: Path, failed: set[Path], under: set[Path], broken: set[Path]) -> Any:
    if path not in under:
        return _good(annotation, data)
    return _value(annotation, data, path, failed, under, broken)


class Failures:
    """The key paths whose values failed the schema (``salvage``), asked about by the
    cross-checks: ``failed(path)`` is true where something at, under or above ``path``
    failed (a check reading it must not run), ``failed.whole(path)`` where ``path`` itself or
    a block above it failed (its keys are unknown, not just some value under it)."""

    def __init__(self, broken: frozenset[Path] = frozenset()) -> None:
        self.broken = broken
        self._above = {path[:cut] for path in broken for cut in range(len(path) + 1)}

    def __bool__(self) -> bool:
        return bool(self.broken)

    def __call__(self, path: Path) -> bool:
        return path in self._above or self.whole(path)

    def whole(self, path: Path) -> bool:
        return any(path[:cut] in self.broken for cut in range(len(path) + 1))
