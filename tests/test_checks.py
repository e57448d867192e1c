"""Cross-checks of a scenario (sim.inputs.checks): run on the parts that pass the schema when
others fail, without follow-on problems of the parts that failed; unknown names with hints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.errors import InputError, Problem
from sim.inputs import load_scenario


def _baseline(repo_root: Path) -> dict[str, Any]:
    """The baseline's data with its seed files named by absolute paths (to write elsewhere)."""
    data: dict[str, Any] = yaml.safe_load((repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))
    data["seed_document"] = str(repo_root / "seeds" / "istanbul_2025_report.txt")
    data["evidence_file"] = str(repo_root / "seeds" / "istanbul_2025_evidence.yaml")
    return data


def _problems(tmp_path: Path, data: dict[str, Any]) -> list[Problem]:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_scenario(path)
    return info.value.problems


def test_schema_and_cross_check_problems_in_one_run(tmp_path: Path, repo_root: Path) -> None:
    """A bad win probability, an unknown evidence id and an unknown agenda issue are all reported, nothing else."""
    data = _baseline(repo_root)
    data["parties"]["russia"]["war"]["win_probability"] = 1.7
    data["parties"]["ukraine"]["war"]["evidence"] = ["no_such_id"]
    data["agenda"]["humanitarian"] = ["prisoner_exchange", "prisoners"]
    fields = sorted(p.field for p in _problems(tmp_path, data))
    assert fields == ["agenda.humanitarian[1]", "parties.russia.war.win_probability", "parties.ukraine.war.evidence[0]"]


def test_bad_role_is_no_missing_belligerent(tmp_path: Path, repo_root: Path) -> None:
    """A belligerent's misspelt role is one problem: not also 'two belligerents' or 'a belligerent' where it is named."""
    data = _baseline(repo_root)
    data["parties"]["russia"]["role"] = "beligerent"
    data["protocol"]["first_proposer"] = "russia"
    [problem] = _problems(tmp_path, data)
    assert problem.field == "parties.russia.role"


def test_bad_range_is_no_ideal_out_of_range(tmp_path: Path, repo_root: Path) -> None:
    """An issue whose range fails is one problem: ideals and red-line limits are not checked against it."""
    data = _baseline(repo_root)
    data["issues"]["territory"]["range"] = [1, 0]
    data["parties"]["ukraine"]["positions"]["ceasefire"]["salience"] = "urgent"
    fields = sorted(p.field for p in _problems(tmp_path, data))
    assert fields == ["issues.territory.range", "parties.ukraine.positions.ceasefire.salience"]


def test_issues_not_a_mapping_hides_no_other_problem(tmp_path: Path, repo_root: Path) -> None:
    """With ``issues`` a list, no position is called an unknown issue, and a misspelt salience is still found."""
    data = _baseline(repo_root)
    data["issues"] = list(data["issues"])
    data["parties"]["russia"]["positions"]["ceasefire"]["salience"] = "meduim"
    problems = _problems(tmp_path, data)
    assert sorted(p.field for p in problems) == ["issues", "parties.russia.positions.ceasefire.salience"]
    assert problems[-1].found == "'meduim' (did you mean 'medium'?)"


def test_party_not_a_mapping(tmp_path: Path, repo_root: Path) -> None:
    """A party that is a number is one problem; events naming it and the battlefield are not reported."""
    data = _baseline(repo_root)
    data["parties"]["russia"] = 5
    [problem] = _problems(tmp_path, data)
    assert problem.field == "parties.russia"


def test_unknown_evidence_id_lists_the_nearest(tmp_path: Path, repo_root: Path) -> None:
    """An unknown id among more ids than a message lists names the nearest ones and how many there are."""
    entries = yaml.safe_load((repo_root / "seeds" / "istanbul_2025_evidence.yaml").read_text(encoding="utf-8"))["entries"]
    data = _baseline(repo_root)
    data["parties"]["ukraine"]["war"]["evidence"] = ["ua_war_devastaton"]
    [problem] = _problems(tmp_path, data)
    assert problem.expected.startswith("an evidence id from the evidence file (nearest: ua_war_devastation")
    assert problem.expected.endswith(f"; {len(entries):,} in all)")
    listed = problem.expected.split("nearest: ")[1].split(";")[0].split(", ")
    assert set(listed) <= set(entries) and len(listed) <= 3
    assert problem.found == "'ua_war_devastaton' (did you mean 'ua_war_devastation'?)"


def test_unknown_evidence_id_in_an_empty_evidence_file(tmp_path: Path, repo_root: Path) -> None:
    """With no entries in the evidence file, an unknown id says none are stated (not an empty '()')."""
    (tmp_path / "evidence.yaml").write_text("entries: {}\n", encoding="utf-8")
    data = _baseline(repo_root)
    data["evidence_file"] = "evidence.yaml"
    problems = _problems(tmp_path, data)
    assert problems
    assert {p.expected for p in problems} == {"an evidence id from the evidence file (none stated)"}
