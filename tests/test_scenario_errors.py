"""Bad scenario files raise InputError naming file, line, field, what was expected and found.

The corpus is ``tests/data/bad/*.yaml`` (``*_evidence.yaml`` there are evidence files used
by the corpus, not scenarios). Each scenario is a copy of ``scenarios/istanbul_2025.yaml``
with one defect, and says on its first line what the error must contain::

    # expect: :106: parties.russia.war.win_probability: expected a number <= 1.0, found 1.7

The text after ``# expect:`` must appear in one line of the message; `` ... `` separates
parts that must appear in that order (to skip long lists). A second line
``# xfail: REASON`` marks a known bug in sim/ (strict: the test fails once it is fixed, so
remove the line then).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.errors import InputError
from sim.inputs import load_scenario

BAD = Path(__file__).resolve().parent / "data" / "bad"
LOCATION = re.compile(r"^(?P<file>.+?)(?::(?P<line>\d+))?: (?P<field>\(top level\)|\S+): expected .+, found .+$")


@pytest.fixture(autouse=True)
def _no_hang(watchdog: Callable[..., contextlib.AbstractContextManager[None]]) -> Iterator[None]:
    """Every test here runs under the watchdog: a hang fails it instead of stalling the suite."""
    with watchdog():
        yield


def _header(path: Path) -> tuple[str | None, str | None]:
    """The ``# expect:`` and ``# xfail:`` texts of a corpus file's first two lines."""
    first, second = [*path.read_bytes().split(b"\n", 2), b"", b""][:2]
    expect = xfail = None
    if first.startswith(b"# expect: "):
        expect = first.decode("utf-8").removeprefix("# expect: ").strip()
    if second.startswith(b"# xfail: "):
        xfail = second.decode("utf-8").removeprefix("# xfail: ").strip()
    return expect, xfail


def _scenarios() -> list[Path]:
    return sorted(p for p in BAD.glob("*.yaml") if not p.name.endswith("_evidence.yaml"))


def _corpus() -> list[object]:
    params = []
    for path in _scenarios():
        expect, xfail = _header(path)
        marks = [pytest.mark.xfail(strict=True, reason=f"bug: {xfail}")] if xfail else []
        params.append(pytest.param(path, expect, id=path.stem, marks=marks))
    return params


def _contains_in_order(line: str, parts: list[str]) -> bool:
    at = 0
    for part in parts:
        found = line.find(part, at)
        if found < 0:
            return False
        at = found + len(part)
    return True


def test_corpus_has_a_case_per_defect() -> None:
    """The corpus holds at least 15 bad scenarios, each with an ``# expect:`` first line."""
    scenarios = _scenarios()
    assert len(scenarios) >= 15
    missing = [p.name for p in scenarios if _header(p)[0] is None]
    assert not missing, f"corpus files without an '# expect:' first line: {missing}"


def test_baseline_loads(repo_root: Path) -> None:
    """The baseline the corpus is copied from is itself valid."""
    loaded = load_scenario(repo_root / "scenarios" / "istanbul_2025.yaml")
    assert loaded.scenario.name == "istanbul_2025"


@pytest.mark.parametrize(("path", "expect"), _corpus())
def test_bad_scenario_is_reported(path: Path, expect: str) -> None:
    """Loading a corpus file raises InputError whose message holds the expected location and text."""
    with pytest.raises(InputError) as info:
        load_scenario(path)
    message = str(info.value)
    parts = expect.split(" ... ")
    assert any(_contains_in_order(line, parts) for line in message.splitlines()), f"expected {expect!r} in:\n{message}"
    for problem in info.value.problems:
        text = str(problem)
        assert LOCATION.match(text), f"not 'file:line: field: expected X, found Y': {text!r}"
        assert Path(problem.file).parent == BAD, f"problem names a file outside the corpus: {text!r}"


def test_missing_file(tmp_path: Path) -> None:
    """A scenario path that does not exist is one InputError naming the path, no line."""
    path = tmp_path / "no_such_scenario.yaml"
    with pytest.raises(InputError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert problem.file == str(path)
    assert problem.line is None
    assert str(info.value).startswith(f"{path}: (top level): expected a readable scenario file, found ")


def test_quote_not_on_its_line() -> None:
    """An evidence quote that is not on its stated report line is one problem at the quote's line, naming the line it is on."""
    evidence = BAD / "quote_off_line_evidence.yaml"
    lines = evidence.read_text(encoding="utf-8").splitlines()
    entry = lines.index("  ru_open_to_ceasefire:")
    quote_line = next(i for i in range(entry, len(lines)) if lines[i].strip().startswith("quote:")) + 1
    with pytest.raises(InputError) as info:
        load_scenario(BAD / "evidence_quote_off_line.yaml")
    [problem] = info.value.problems
    assert problem.file == str(evidence)
    assert problem.line == quote_line
    assert problem.field == "entries.ru_open_to_ceasefire.quote"
    assert problem.expected == "text that stands on line 24 of the seed document"
    seed = (BAD.parents[2] / "seeds" / "istanbul_2025_report.txt").read_text(encoding="utf-8").splitlines()
    holding = [n for n, text in enumerate(seed, start=1) if "is open to discussing a ceasefire" in text]
    assert len(holding) == 1 and holding != [24]
    assert problem.found == f"'is open to discussing a ceasefire' (it stands on line {holding[0]})"


@pytest.mark.parametrize("name", ["seed_document_missing", "evidence_file_missing"])
def test_missing_seed_file_is_one_problem(name: str) -> None:
    """A missing seed document or evidence file is reported once, not once per evidence reference."""
    with pytest.raises(InputError) as info:
        load_scenario(BAD / f"{name}.yaml")
    assert len(info.value.problems) == 1, str(info.value)


def test_every_problem_is_reported() -> None:
    """A misspelt nested key reports both the unknown key and the required key it left out."""
    with pytest.raises(InputError) as info:
        load_scenario(BAD / "nested_key_typo.yaml")
    fields = [p.field for p in info.value.problems]
    assert sorted(fields) == ["parties.russia.war.win_probability", "parties.russia.war.win_probabilty"]


def _baseline_copy(tmp_path: Path, repo_root: Path) -> dict[str, Any]:
    """The baseline's data with its seed files named by absolute paths (to write elsewhere)."""
    data: dict[str, Any] = yaml.safe_load((repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))
    data["seed_document"] = str(repo_root / "seeds" / "istanbul_2025_report.txt")
    data["evidence_file"] = str(repo_root / "seeds" / "istanbul_2025_evidence.yaml")
    return data


def _with_issues(data: dict[str, Any], n: int, group: str | None) -> dict[str, Any]:
    """``n`` more two-level issues with both belligerents' positions, in ``group`` (or each in its own)."""
    for i in range(n):
        name = f"extra{i}"
        data["issues"][name] = {"description": "d", "units": "u", "range": [0, 1], "levels": 2, "status_quo": 0}
        data["agenda"].setdefault(group or name, []).append(name)
        for key in ("ukraine", "russia"):
            data["parties"][key]["positions"][name] = {"ideal": 0, "salience": "low", "assumption": "test"}
    return data


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_thirty_issues_in_one_group(tmp_path: Path, repo_root: Path) -> None:
    """2**30 x 225 candidates are refused from the levels alone (a MemoryError before)."""
    path = _write(tmp_path, _with_issues(_baseline_copy(tmp_path, repo_root), 30, "security"))
    with pytest.raises(InputError) as info:
        load_scenario(path)
    [problem] = info.value.problems
    assert (problem.field, problem.found) == ("agenda.security", "more: the levels of 34 issues")
    assert problem.expected == "an agenda group of at most 1,000,000 candidate outcomes (the product of its issues' levels)"


def test_two_thousand_issues_load(tmp_path: Path, repo_root: Path) -> None:
    """A legal file of 2,000 more issues (11 s to load before) loads under the watchdog."""
    path = _write(tmp_path, _with_issues(_baseline_copy(tmp_path, repo_root), 2_000, None))
    loaded = load_scenario(path)
    assert len(loaded.scenario.issues) == 2_005 and len(loaded.scenario.agenda) == 2_002


def test_a_long_evidence_id_is_shown_shortened(tmp_path: Path, repo_root: Path) -> None:
    """An unknown evidence id of 100,000 characters is echoed as its first 80 and its length."""
    data = _baseline_copy(tmp_path, repo_root)
    data["parties"]["ukraine"]["war"]["evidence"] = ["u" * 100_000]
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, data))
    [problem] = info.value.problems
    assert problem.found == "'" + "u" * 79 + "... (100,000 characters)"
    assert len(str(problem)) < 700


def test_seed_document_that_is_a_named_pipe(tmp_path: Path, repo_root: Path) -> None:
    """A seed document that is a FIFO is one problem at seed_document, not a hang."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "report.txt")
    data = _baseline_copy(tmp_path, repo_root)
    data["seed_document"] = "report.txt"
    with pytest.raises(InputError) as info:
        load_scenario(_write(tmp_path, data))
    [problem] = info.value.problems
    assert (problem.field, problem.found) == ("seed_document", "'report.txt'")
