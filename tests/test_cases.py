"""Real cases: every case file loads and its scenario validates; bad case files name file,
line, field, expected and found; the verdicts are judged against hand-made summaries; and
``ceasefire cases`` prints one JSON object.

The corpus of bad case files is ``tests/data/bad_cases/*.yaml``, each with one defect and an
``# expect:`` first line the error must contain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sim.cases import TABLE_END, TABLE_START, judge, markdown, replace_table, report_case
from sim.errors import InputError
from sim.inputs.case import Case, bundled_cases, load_case

REPO = Path(__file__).resolve().parent.parent
BAD = Path(__file__).resolve().parent / "data" / "bad_cases"
CASES = sorted((REPO / "cases").glob("*.yaml"))
REAL = {"istanbul_2022", "karabakh_2020", "pretoria_2022", "korea_1953", "india_pakistan_2025", "israel_hezbollah_2024"}


def fake_summary(groups: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A run summary as ``sim.results.summary`` shapes it, with the given per-group numbers."""
    full = {}
    for name, g in groups.items():
        outcome = g.get("mean_outcome", {})
        full[name] = {
            "issues": list(outcome),
            "units": {issue: "share" for issue in outcome},
            "agreement_rate": g["agreement_rate"],
            "agreement_rate_ci95": [max(0.0, g["agreement_rate"] - 0.05), min(1.0, g["agreement_rate"] + 0.05)],
            "mean_round": g.get("mean_round"),
            "mean_outcome": outcome,
        }
    return {"scenario": "test", "replicas": 100, "seed": 1, "rounds": 12, "groups": full}


def case(criteria: list[dict[str, Any]], terms: dict[str, Any] | None = None) -> Case:
    """A case over groups 'truce' (agreed, with ``terms``) and 'wider' (not agreed)."""
    return Case.model_validate(
        {
            "scenario": "test",
            "title": "A hand-made case",
            "date": "2024-11-26",
            "happened": {"truce": {"agreed": True, "terms": terms or {}}, "wider": {"agreed": False}},
            "criteria": criteria,
            "sources": ["none"],
        }
    )


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_every_case_file_loads_and_validates(path: Path) -> None:
    """Each bundled case file validates and records every agenda group of its scenario."""
    loaded = load_case(path)
    assert set(loaded.case.happened) == set(loaded.scenario.scenario.agenda)
    assert loaded.case.criteria and loaded.case.sources


def test_the_six_real_cases_and_the_baseline_are_bundled() -> None:
    """The bundle holds the six real cases and the baseline, each with a scenario of its name."""
    found = bundled_cases()
    assert set(found) == REAL | {"istanbul_2025"}
    for name, path in found.items():
        assert load_case(path).scenario.scenario.name == name


@pytest.mark.parametrize("path", [p for p in CASES if p.stem in REAL], ids=lambda p: p.stem)
def test_real_case_criteria_follow_the_one_rule(path: Path) -> None:
    """Agreed groups need >= 50%, groups not agreed <= 10%, and every recorded term is judged."""
    loaded = load_case(path)
    rates = {c.group: c.rate for c in loaded.case.criteria if c.rate is not None}
    judged_terms = {(c.group, c.term) for c in loaded.case.criteria if c.term is not None}
    for group, record in loaded.case.happened.items():
        assert rates[group] == (">= 0.5" if record.agreed else "<= 0.1"), group
        assert {(group, issue) for issue in record.terms} <= judged_terms


@pytest.mark.parametrize("path", [p for p in CASES if p.stem in REAL], ids=lambda p: p.stem)
def test_real_case_scenarios_follow_the_shared_conventions(path: Path) -> None:
    """Every real case's scenario uses the default salience mapping, twelve rounds, the shared
    uncertainty, and war costs with a per-round cost of a fiftieth (cases/README.md)."""
    s = load_case(path).scenario.scenario
    assert s.salience_levels == {"low": 1, "medium": 2, "high": 4, "highest": 8}
    assert s.protocol.rounds == 12 and s.protocol.type == "alternating_offers"
    u = s.uncertainty
    assert u is not None
    assert (u.salience_concentration, u.ideal_noise, u.win_probability_noise) == (60, 0.05, 0.05)
    for name in s.belligerents:
        war, strategy = s.parties[name].war, s.parties[name].strategy
        assert war is not None and strategy is not None
        assert war.cost in {0.05, 0.1, 0.2} and war.cost_per_round == pytest.approx(war.cost / 50)
        assert (strategy.e, strategy.patience) in {(0.2, 0.98), (1.0, 0.95), (2.0, 0.95)}


def test_every_case_scenario_passes_validate(cli) -> None:
    """``ceasefire validate`` accepts the scenario of every bundled case."""
    paths = [str(load_case(p).scenario.path) for p in CASES]
    result = cli("validate", *paths)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(": ok (") == len(paths)


def _bad_cases() -> list[object]:
    return [pytest.param(p, p.read_text(encoding="utf-8").split("\n", 1)[0].removeprefix("# expect: "), id=p.stem)
            for p in sorted(BAD.glob("*.yaml"))]


def test_bad_case_corpus_is_there() -> None:
    """The corpus holds a file per defect, each with an ``# expect:`` first line."""
    files = sorted(BAD.glob("*.yaml"))
    assert len(files) >= 10
    assert all(p.read_text(encoding="utf-8").startswith("# expect: ") for p in files)


@pytest.mark.parametrize(("path", "expect"), _bad_cases())
def test_bad_case_file_names_file_line_field(path: Path, expect: str) -> None:
    """A bad case file raises InputError with a problem naming its file and the expected text."""
    with pytest.raises(InputError) as err:
        load_case(path)
    lines = str(err.value).splitlines()
    assert any(line.startswith(str(path)) and expect in line for line in lines), str(err.value)


def test_rate_criteria_hold_at_the_bound_and_fail_past_it() -> None:
    """'>= 0.5' holds at 0.5 and fails at 0.49; '<= 0.1' holds at 0.1 and fails at 0.11."""
    c = case([{"group": "truce", "rate": ">= 0.5"}, {"group": "wider", "rate": "<= 0.1"}])
    at = judge(c, fake_summary({"truce": {"agreement_rate": 0.5}, "wider": {"agreement_rate": 0.1}}))
    past = judge(c, fake_summary({"truce": {"agreement_rate": 0.49}, "wider": {"agreement_rate": 0.11}}))
    assert [v["right"] for v in at] == [True, True]
    assert [v["right"] for v in past] == [False, False]
    assert [v["observed"] for v in past] == [0.49, 0.11]


def test_term_criterion_reads_the_tolerance_of_what_happened() -> None:
    """A mean term of 0.8 is within 1 ± 0.25, 0.7 is not, and no agreement leaves it wrong."""
    c = case([{"group": "truce", "term": "ceasefire"}], terms={"ceasefire": {"value": 1, "tolerance": 0.25}})
    near = judge(c, fake_summary({"truce": {"agreement_rate": 0.9, "mean_round": 4.0, "mean_outcome": {"ceasefire": 0.8}},
                                  "wider": {"agreement_rate": 0.0}}))
    far = judge(c, fake_summary({"truce": {"agreement_rate": 0.9, "mean_round": 4.0, "mean_outcome": {"ceasefire": 0.7}},
                                 "wider": {"agreement_rate": 0.0}}))
    none = judge(c, fake_summary({"truce": {"agreement_rate": 0.0, "mean_outcome": {"ceasefire": None}},
                                  "wider": {"agreement_rate": 0.0}}))
    assert (near[0]["right"], far[0]["right"], none[0]["right"]) == (True, False, False)
    assert none[0]["observed"] is None
    assert near[0]["text"] == "truce: mean agreed ceasefire within 1.00 ± 0.25"


def test_round_criterion_needs_an_agreement_to_be_right() -> None:
    """'>= 9' holds for a mean round of 10.5, fails for 8 and for no agreement at all."""
    c = case([{"group": "truce", "round": ">= 9"}])
    verdicts = [
        judge(c, fake_summary({"truce": {"agreement_rate": r, "mean_round": m}, "wider": {"agreement_rate": 0.0}}))[0]["right"]
        for r, m in ((0.6, 10.5), (0.6, 8.0), (0.0, None))
    ]
    assert verdicts == [True, False, False]


def test_report_and_table_from_a_hand_made_run_of_the_baseline_case() -> None:
    """The baseline case judged on a made-up run: counts, the table's verdicts, needs only when wrong."""
    loaded = load_case(REPO / "cases" / "istanbul_2025.yaml")
    data = fake_summary({
        "humanitarian": {"agreement_rate": 0.95, "mean_round": 2.0, "mean_outcome": {"prisoner_exchange": 1150.0}},
        "security": {"agreement_rate": 0.05, "mean_round": 11.0,
                     "mean_outcome": {"ceasefire": 0.5, "territory": 0.5, "neutrality": 0.5, "sanctions_relief": 0.5}},
    })
    report = report_case(loaded, data)
    assert (report["right"], report["wrong"]) == (2, 1)  # 1,150 prisoners is outside 1,000 ± 100
    assert [v["right"] for v in report["criteria"]] == [True, False, True]
    table = markdown({"cases": [report], "right": 2, "wrong": 1, "cases_all_right": 0})
    assert "| istanbul_2025 | 2025-05-16 | humanitarian | agreed: prisoner_exchange 1,000 | 95.0% (90.0–100.0%)" in table
    assert "within 1,000 ± 100: **wrong**" in table
    assert "2 of 3 criteria right; 0 of 1 cases right on every criterion." in table
    assert "**istanbul_2025**: (not yet stated in the case file)" in table
    right = {**report, "wrong": 0}
    assert "would need" not in markdown({"cases": [right], "right": 3, "wrong": 0, "cases_all_right": 1})


def test_replace_table_touches_only_the_block() -> None:
    """Text outside the markers is kept byte for byte; missing markers are an error."""
    text = f"# Title\nbefore\n{TABLE_START}\nold table\n{TABLE_END}\nafter\n"
    assert replace_table(text, "| new |\n") == f"# Title\nbefore\n{TABLE_START}\n| new |\n{TABLE_END}\nafter\n"
    with pytest.raises(ValueError, match="cases-table"):
        replace_table("no markers here", "| new |\n")


def test_readme_has_the_table_markers() -> None:
    """The README holds the markers ``ceasefire cases --readme README.md`` rewrites between."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.index(TABLE_START) < text.index(TABLE_END)


def test_cli_cases_json(cli) -> None:
    """``ceasefire cases --replicas 20 --json`` runs every case at 20 replicas and prints one JSON object."""
    result = cli("cases", "--replicas", "20", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {r["case"] for r in report["cases"]} == REAL | {"istanbul_2025"}
    assert [r["date"] for r in report["cases"]] == sorted(r["date"] for r in report["cases"])
    for r in report["cases"]:
        assert r["replicas"] == 20
        assert r["right"] + r["wrong"] == len(r["criteria"])
        assert all(isinstance(v["right"], bool) for v in r["criteria"])
        for group in r["groups"].values():
            assert 0.0 <= group["model"]["agreement_rate"] <= 1.0
            assert set(group["happened"]) == {"agreed", "terms", "round", "note"}
    assert report["right"] == sum(r["right"] for r in report["cases"])
    assert report["wrong"] == sum(r["wrong"] for r in report["cases"])


def test_cli_cases_bad_file_exits_2(cli) -> None:
    """A bad case file prints its problems and exits 2 without a traceback."""
    result = cli("cases", str(BAD / "group_missing.yaml"))
    assert result.returncode == 2
    assert "group_missing.yaml:5: happened: expected a record of every agenda group" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_readme_without_markers_exits_2(cli, tmp_path: Path) -> None:
    """``--readme`` on a file without the markers is bad input, and the file is left as it was."""
    readme = tmp_path / "README.md"
    readme.write_text("no table here\n", encoding="utf-8")
    result = cli("cases", "istanbul_2025", "--replicas", "5", "--readme", str(readme))
    assert result.returncode == 2
    assert "--readme: expected a '<!-- cases-table:start -->' line" in result.stderr
    assert readme.read_text(encoding="utf-8") == "no table here\n"
