"""A scenario's evidence (sim.inputs.evidence): quotes found on other lines, scenarios without
evidence, and evidence cited on another party's or issue's number (warnings)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.errors import InputError
from sim.inputs import load_scenario
from sim.inputs.evidence import load_evidence

UNTRACED = Path(__file__).resolve().parent / "data" / "untraced" / "assumptions_only.yaml"


def _evidence(tmp_path: Path, entries: dict[str, Any]) -> Path:
    path = tmp_path / "evidence.yaml"
    path.write_text(yaml.safe_dump({"entries": entries}), encoding="utf-8")
    return path


def test_quote_on_other_lines_names_them(tmp_path: Path) -> None:
    """A quote not on its stated line but on lines 2 and 4 says so."""
    seed = ["a ceasefire now", "no talks before withdrawal", "prisoners first", "again: no talks before withdrawal"]
    _, [problem] = load_evidence(_evidence(tmp_path, {"e": {"quote": "no talks before", "line": 1}}), seed)
    assert problem.expected == "text that stands on line 1 of the seed document"
    assert problem.found == "'no talks before' (it stands on lines 2, 4)"


def test_quote_on_no_line(tmp_path: Path) -> None:
    """A quote that stands nowhere in the seed document says that too."""
    _, [problem] = load_evidence(_evidence(tmp_path, {"e": {"quote": "truce", "line": 1}}), ["a ceasefire now"])
    assert problem.found == "'truce' (on no line of the seed document)"


def test_quote_found_once_per_line(tmp_path: Path) -> None:
    """A quote twice on one other line names that line once."""
    _, [problem] = load_evidence(_evidence(tmp_path, {"e": {"quote": "no", "line": 1}}), ["yes", "no and no"])
    assert problem.found == "'no' (it stands on line 2)"


def test_scenario_without_evidence_loads(repo_root: Path) -> None:
    """Every number an assumption, no seed document or evidence file: it loads, untraceable, without warnings."""
    loaded = load_scenario(UNTRACED)
    assert loaded.scenario.seed_document is None and loaded.scenario.evidence_file is None
    assert not loaded.traceable and loaded.evidence == {} and loaded.warnings == []
    assert load_scenario(repo_root / "scenarios" / "istanbul_2025.yaml").traceable


def _untraced(tmp_path: Path, change: dict[str, Any]) -> list[Any]:
    data = yaml.safe_load(UNTRACED.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return info.value.problems


def test_evidence_cited_without_evidence_file(tmp_path: Path) -> None:
    """A number citing evidence in a scenario without the files is an error at each missing key."""
    data = yaml.safe_load(UNTRACED.read_text(encoding="utf-8"))
    data["parties"]["a"]["war"]["evidence"] = ["somewhere"]
    problems = _untraced(tmp_path, {"parties": data["parties"]})
    assert [p.field for p in problems] == ["seed_document", "evidence_file"]
    assert all(p.found == "none" for p in problems)
    assert all("for the 1 evidence ids cited (the first at parties.a.war.evidence[0], line " in p.expected for p in problems)


def test_evidence_file_without_seed_document(tmp_path: Path) -> None:
    """An evidence file without the seed document its quotes come from is an error at seed_document."""
    [problem] = _untraced(tmp_path, {"evidence_file": "evidence.yaml"})
    assert (problem.field, problem.expected) == ("seed_document", "a seed_document (the quotes' source) beside evidence_file")


REPORT = "B will fight on.\nA wants the line.\nA wants the zone.\nA wants the line and the zone.\n"


def _with_evidence(tmp_path: Path, entries: dict[str, Any], cite: Callable[[dict[str, Any]], None]) -> Path:
    """The untraced scenario with a seed document, an evidence file of ``entries``, a second
    issue 'zone' (B's position on it assumed) and the citations ``cite`` makes on its parties."""
    (tmp_path / "report.txt").write_text(REPORT, encoding="utf-8")
    _evidence(tmp_path, entries)
    data = yaml.safe_load(UNTRACED.read_text(encoding="utf-8"))
    data.update(seed_document="report.txt", evidence_file="evidence.yaml")
    data["issues"]["zone"] = {**data["issues"]["line"], "range": [0, 1], "description": "A buffer zone."}
    data["agenda"]["ceasefire"].append("zone")
    data["parties"]["a"]["positions"]["zone"] = {"ideal": 0, "salience": "low", "assumption": "assumed"}
    data["parties"]["b"]["positions"]["zone"] = {"ideal": 1, "salience": "low", "assumption": "assumed"}
    cite(data["parties"])
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _warnings(path: Path) -> list[tuple[str, str, str]]:
    return [(w.field, w.expected, w.found) for w in load_scenario(path).warnings]


ENTRIES = {
    "b_fights": {"party": "b", "issue": "war", "quote": "B will fight on", "line": 1},
    "a_line": {"party": "a", "issue": "line", "quote": "A wants the line", "line": 2},
    "a_zone": {"party": "a", "issue": "zone", "quote": "A wants the zone", "line": 3},
    "both": {"party": "both", "issue": "line", "quote": "A wants", "line": 2},
    "a_line_zone": {"party": "a", "issue": ["line", "zone"], "quote": "A wants the line and the zone", "line": 4},
    "ab_zone": {"party": ["a", "b"], "issue": "zone", "quote": "the zone", "line": 3},
}


def test_evidence_on_another_party_or_issue_is_a_warning(tmp_path: Path) -> None:
    """A's zone position citing an entry on 'line', and B's line position and red line citing A's entries, warn."""

    def cite(parties: dict[str, Any]) -> None:
        parties["a"]["positions"]["line"]["evidence"] = ["a_line", "both"]
        parties["a"]["positions"]["zone"]["evidence"] = ["a_line", "a_zone"]
        parties["b"]["positions"]["line"]["evidence"] = ["a_line"]
        parties["b"]["red_lines"] = [{"issue": "line", "limit": 0.5, "cost": 0.1, "evidence": ["a_line_zone"]}]

    assert _warnings(_with_evidence(tmp_path, ENTRIES, cite)) == [
        ("parties.a.positions.zone.evidence[0]", "evidence about 'a' on 'zone'",
         "'a_line' (an entry on party 'a', issue 'line')"),
        ("parties.b.positions.line.evidence[0]", "evidence about 'b' on 'line'",
         "'a_line' (an entry on party 'a', issue 'line')"),
        ("parties.b.red_lines[0].evidence[0]", "evidence about 'b' on 'line'",
         "'a_line_zone' (an entry on party 'a', issues 'line', 'zone')"),
    ]


def test_entry_on_several_issues_or_parties_cited_on_each(tmp_path: Path) -> None:
    """An entry tagged with two issues backs a position on each, one tagged with two parties each party's: no warning."""

    def cite(parties: dict[str, Any]) -> None:
        parties["a"]["positions"]["line"]["evidence"] = ["a_line_zone"]
        parties["a"]["positions"]["zone"]["evidence"] = ["a_line_zone", "ab_zone"]
        parties["b"]["positions"]["zone"]["evidence"] = ["ab_zone"]

    assert _warnings(_with_evidence(tmp_path, ENTRIES, cite)) == []


def test_war_and_strategy_may_cite_another_party(tmp_path: Path) -> None:
    """A's war belief and strategy citing B's evidence, and the protocol citing A's, are not warnings."""

    def cite(parties: dict[str, Any]) -> None:
        parties["a"]["war"]["evidence"] = ["b_fights", "a_zone"]
        parties["a"]["strategy"]["evidence"] = ["b_fights"]
        parties["b"]["war"]["evidence"] = ["a_line"]

    path = _with_evidence(tmp_path, ENTRIES, cite)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["protocol"]["evidence"] = ["a_zone"]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert _warnings(path) == []


@pytest.mark.parametrize(
    ("tags", "line", "field", "expected", "found"),
    [
        ("party: a\n    issue: {line: 1}", 5, "entries.e.issue", "an issue name or a list of issue names", "{'line': 1}"),
        ("party: []\n    issue: line", 4, "entries.e.party", "a party name or a list of party names", "[]"),
        ("party: a\n    issue:\n      - line\n      - 3", 7, "entries.e.issue[1]", "an issue name", "3"),
        ("party: ''\n    issue: line", 4, "entries.e.party", "a party name or a list of party names", "''"),
    ],
)
def test_entry_tag_of_wrong_form_is_an_error(
    tmp_path: Path, tags: str, line: int, field: str, expected: str, found: str
) -> None:
    """A party or issue that is neither a name nor a non-empty list of names is an error at its line."""
    path = tmp_path / "evidence.yaml"
    path.write_text(f"document: report.txt\nentries:\n  e:\n    {tags}\n    quote: A wants\n    line: 1\n", encoding="utf-8")
    _, [problem] = load_evidence(path, ["A wants the line"])
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert (problem.expected, problem.found) == (expected, found)
