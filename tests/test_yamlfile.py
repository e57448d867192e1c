"""The YAML reader: what ``yaml.safe_load`` gives, with the line of every key path, read once
in bounded time and memory; non-regular files, oversized files, aliases, anchors, merge
keys, deep nesting and too many values refused with a problem naming file and line."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sim.errors import InputError
from sim.inputs.schema import Scenario
from sim.inputs.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, read_yaml, translate_all

REPO = Path(__file__).resolve().parent.parent
YAML_FILES = sorted(p for folder in ("scenarios", "experiments", "seeds", "tests/data") for p in (REPO / folder).rglob("*.yaml"))


@pytest.fixture(autouse=True)
def _no_hang(watchdog: Callable[..., contextlib.AbstractContextManager[None]]) -> Iterator[None]:
    """Every test here runs under the watchdog: a hang fails it instead of stalling the suite."""
    with watchdog():
        yield


def _lines(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], int]:
    """The reference line map: a recursive walk of PyYAML's own composed tree (keys' lines
    for mapping values, items' own lines in lists)."""
    out = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out.update(_lines(value, (*path, key.value)))
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out.update(_lines(item, (*path, i)))
    return out


def _refused(tmp_path: Path, text: str) -> InputError:
    path = tmp_path / "case.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_yaml(path, "test file")
    return info.value


def _only(err: InputError) -> tuple[int | None, str, str, str]:
    [problem] = err.problems
    return problem.line, problem.field, problem.expected, problem.found


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_reads_what_safe_load_reads(path: Path) -> None:
    """Every readable YAML file of the repository gives safe_load's data and the reference line map."""
    try:
        text = path.read_text(encoding="utf-8")
        expected = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (UnicodeDecodeError, yaml.YAMLError):
        pytest.skip("a corpus file that is not UTF-8 or not valid YAML on purpose")
    try:
        data, lines = read_yaml(path, "test file")
    except InputError as err:
        assert path.parent.name == "bad", str(err)  # only corpus files may be refused (aliases, nesting, ...)
        return
    assert data == expected
    assert lines == ({} if node is None else _lines(node))


def test_named_pipe_is_refused_before_reading(tmp_path: Path) -> None:
    """A FIFO with no writer is refused at once (reading it would block for ever)."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as info:
        read_yaml(fifo, "scenario file")
    assert _only(info.value) == (None, "", "a scenario file (a regular file)", "a named pipe")


@pytest.mark.parametrize(("path", "kind"), [("/dev/zero", "a device"), ("/dev/null", "a device")])
def test_device_is_refused_before_reading(path: str, kind: str) -> None:
    """/dev/zero would be read to a MemoryError: it is refused as a device."""
    if not Path(path).exists():
        pytest.skip(f"no {path} here")
    with pytest.raises(InputError) as info:
        read_yaml(Path(path), "scenario file")
    assert _only(info.value) == (None, "", "a scenario file (a regular file)", kind)


def test_folder_is_refused(tmp_path: Path) -> None:
    """A folder given as a file is named as one."""
    with pytest.raises(InputError) as info:
        read_yaml(tmp_path, "scenario file")
    assert _only(info.value)[3] in {"a folder", "Permission denied", "Is a directory"}


def test_size_limit(tmp_path: Path) -> None:
    """A file of exactly 2 MiB is read; one byte more is refused, saying both sizes."""
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" + b"x" * (MAX_FILE_BYTES - 2) + b"\n")
    assert read_yaml(path, "test file") == (None, {})
    path.write_bytes(b"#" + b"x" * (MAX_FILE_BYTES - 1) + b"\n")
    with pytest.raises(InputError) as info:
        read_yaml(path, "test file")
    assert _only(info.value) == (None, "", "a test file of at most 2,097,152 bytes (2 MiB)", "2,097,153 bytes")


def test_billion_laughs_is_refused_at_its_first_anchor(tmp_path: Path) -> None:
    """Nine levels of nine aliases (a few hundred bytes, 9**9 leaves expanded) end at line 1."""
    text = "a0: &a0 [lol]\n" + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))
    assert _only(_refused(tmp_path, text)) == (1, "a0", "no anchors (&name): state each value where it is used", "anchor &a0")


def test_alias_without_anchor_names_its_line(tmp_path: Path) -> None:
    """An alias is refused where it stands, even one whose anchor is missing."""
    line, field, expected, found = _only(_refused(tmp_path, "a: 1\nb:\n  - 2\n  - *x\n"))
    assert (line, field, found) == (4, "b[1]", "alias *x")
    assert expected.startswith("no aliases")


def test_merge_key_is_refused(tmp_path: Path) -> None:
    """A merge key copies a block without an alias; it is refused too (our files need none)."""
    assert _only(_refused(tmp_path, "a:\n  <<: {b: 1}\n  c: 2\n"))[1:] == (
        "a",
        "no merge keys (<<): state each key where it is used",
        "'<<'",
    )


def test_nesting_depth_limit(tmp_path: Path) -> None:
    """Lists nested MAX_DEPTH deep are read; one level more is refused (and so is far more)."""
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", encoding="utf-8")
    data, _ = read_yaml(path, "test file")
    depth = 1
    node = data["a"]
    while node:
        node, depth = node[0], depth + 1
    assert depth == MAX_DEPTH - 1  # the root mapping is the first of the MAX_DEPTH
    text = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"
    assert _only(_refused(tmp_path, text)) == (1, "a", f"blocks and lists nested at most {MAX_DEPTH} deep", "deeper nesting")
    # far deeper, libyaml's own limit (1,000) may speak first: either way one problem on line 1
    assert _only(_refused(tmp_path, "a: " + "[" * 100_000 + "]" * 100_000 + "\n"))[0] == 1


def test_node_limit(tmp_path: Path) -> None:
    """A file of MAX_NODES values is read; one more is refused without building the rest."""
    items = MAX_NODES - 3  # the root mapping, its key and the list count too
    path = tmp_path / "many.yaml"
    path.write_text("a: [" + ",".join(["0"] * items) + "]\n", encoding="utf-8")
    data, _ = read_yaml(path, "test file")
    assert len(data["a"]) == items
    path.write_text("a: [" + ",".join(["0"] * (items + 1)) + "]\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_yaml(path, "test file")
    assert _only(info.value) == (1, "", f"a file of at most {MAX_NODES:,} values (keys, numbers, texts, blocks)", "more")


def test_complex_key_wording(tmp_path: Path) -> None:
    """A list used as a key is named as such ("found found unhashable key" before)."""
    err = _refused(tmp_path, "a:\n  ? [b, c]\n  : 1\n")
    assert _only(err) == (2, "a", "a plain key (a name or a number)", "a block or a list as a key")
    assert "found found" not in str(err)


def test_every_duplicate_key_is_reported(tmp_path: Path) -> None:
    """Each key stated twice in its block is a problem on its own line, all at once."""
    err = _refused(tmp_path, "a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")
    assert [(p.line, p.field) for p in err.problems] == [(4, "b.c"), (5, "a")]


def test_second_document_is_refused(tmp_path: Path) -> None:
    """Two documents in one file: the second is named by its line."""
    assert _only(_refused(tmp_path, "a: 1\n---\nb: 2\n"))[0] == 2


def test_syntax_error_wording(tmp_path: Path) -> None:
    """libyaml's "did not find expected" reads as what was missing, on the line it started."""
    line, _, expected, found = _only(_refused(tmp_path, "a: [1, 2\nb: 3\n"))
    assert (line, expected) == (1, "valid YAML")
    assert found.startswith("no ',' or ']'") and "found" not in found


@pytest.mark.skipif(sys.platform == "win32", reason="file names with control characters")
def test_path_that_cannot_be_looked_up(tmp_path: Path) -> None:
    """Too long a name or a NUL in it is an unreadable file, not a traceback."""
    for name in ("x" * 5_000, "a\x00b"):
        with pytest.raises(InputError) as info:
            read_yaml(tmp_path / name, "scenario file")
        assert _only(info.value)[2] == "a readable scenario file"


@pytest.mark.parametrize(
    ("field", "value", "expected", "hint"),
    [
        (("protocol", "type"), "single-text", "one of alternating_offers, single_text", " (did you mean 'single_text'?)"),
        (("events", 0, "type"), "sanction", "one of sanctions, deadline, pressure", " (did you mean 'sanctions'?)"),
        (("parties", "russia", "role"), "army", "one of belligerent, mediator, third_party", ""),
    ],
)
def test_literal_fields_list_their_words_and_hint(
    repo_root: Path, field: tuple[Any, ...], value: str, expected: str, hint: str
) -> None:
    """A word outside a Literal field's choices names them all, and the closest when one is close."""
    data = yaml.safe_load((repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))
    block = data
    for part in field[:-1]:
        block = block[part]
    block[field[-1]] = value
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    [problem] = translate_all(info.value, "f.yaml", {}, Scenario)
    assert (problem.expected, problem.found) == (expected, repr(value) + hint)
