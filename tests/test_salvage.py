"""What is left of data that failed its schema (sim.inputs.salvage): the parts that pass, as a
partial model, and the key paths of the values that failed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sim.inputs.salvage import Failures, salvage
from sim.inputs.schema import Party, Position, Scenario


def _salvaged(data: dict[str, Any]) -> tuple[Any, Failures]:
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(data)
    return salvage(Scenario, data, info.value.errors())


@pytest.fixture
def baseline(repo_root: Path) -> dict[str, Any]:
    """The baseline scenario's data as read from its file."""
    return yaml.safe_load((repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))


def test_bad_role_keeps_the_party(baseline: dict[str, Any]) -> None:
    """A misspelt role is left out (None); the party's positions, war and strategy are kept, validated."""
    baseline["parties"]["russia"]["role"] = "beligerent"
    s, failed = _salvaged(baseline)
    russia = s.parties["russia"]
    assert russia.role is None and failed.broken == {("parties", "russia", "role")}
    assert isinstance(russia.positions["ceasefire"], Position) and russia.positions["ceasefire"].salience == "medium"
    assert russia.war.win_probability == 0.75
    assert s.parties["ukraine"] == Party.model_validate(baseline["parties"]["ukraine"])


def test_party_that_is_no_block(baseline: dict[str, Any]) -> None:
    """A party that is a number stays as a block of None values, marked failed as a whole."""
    baseline["parties"]["russia"] = 5
    s, failed = _salvaged(baseline)
    assert set(s.parties) == set(baseline["parties"])
    assert all(getattr(s.parties["russia"], name) is None for name in Party.model_fields)
    assert failed.whole(("parties", "russia", "positions")) and not failed.whole(("parties",))


def test_missing_required_block(baseline: dict[str, Any]) -> None:
    """A required block left out (protocol) is a block of None values; a missing text is None."""
    del baseline["protocol"], baseline["title"]
    s, failed = _salvaged(baseline)
    assert s.protocol.rounds is None and s.title is None
    assert failed.broken == {("protocol",), ("title",)}


def test_block_level_check_keeps_its_keys(baseline: dict[str, Any]) -> None:
    """A position without evidence or assumption fails as a whole block, but its keys pass: nothing is left out."""
    del baseline["parties"]["ukraine"]["positions"]["territory"]["evidence"]
    s, failed = _salvaged(baseline)
    assert not failed and s.parties["ukraine"].positions["territory"].ideal == 0


def test_failures_above_under_and_whole() -> None:
    """``failed(path)`` holds at, above and under a failed path; ``whole`` only at and under it."""
    failed = Failures(frozenset({("parties", "russia", "role")}))
    assert failed(("parties",)) and failed(("parties", "russia", "role", "x")) and failed(("parties", "russia", "role"))
    assert not failed(("parties", "ukraine")) and not failed(("parties", "russia", "positions"))
    assert failed.whole(("parties", "russia", "role", "x")) and not failed.whole(("parties", "russia"))
    assert not Failures()


def test_an_event_dated_by_day_survives_another_error(repo_root: Path, tmp_path: Path) -> None:
    """An event given only `from_day` gets its round before the parts are salvaged: a bad role
    elsewhere is reported with file:line, and the event raises nothing (no traceback)."""
    from sim.errors import InputError
    from sim.inputs.scenario import load_scenario

    data = yaml.safe_load((repo_root / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))
    data["seed_document"] = str(repo_root / "seeds" / "istanbul_2025_report.txt")
    data["evidence_file"] = str(repo_root / "seeds" / "istanbul_2025_evidence.yaml")
    data["protocol"]["round_days"] = 7
    event = data["events"][0]
    event.pop("from_round")
    event["from_day"] = 30
    data["parties"]["russia"]["role"] = "beligerent"
    path = tmp_path / "dated.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_scenario(path)
    [problem] = [p for p in err.value.problems if p.field == "parties.russia.role"]
    assert problem.line is not None and "did you mean 'belligerent'" in problem.found
