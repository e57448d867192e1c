"""The page's controls: each sets its own field, documented values reproduce the scenario,
and impossible settings are input errors naming the control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.app.controls import MAX_REPLICAS, apply_settings, controls, documented_settings, model_params
from sim.engine import NegotiationModel, compile_batch
from sim.errors import InputError
from sim.inputs import LoadedScenario, load_scenario, with_overrides

REPO = Path(__file__).resolve().parent.parent
BASELINE = REPO / "scenarios" / "istanbul_2025.yaml"
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def loaded() -> LoadedScenario:
    """The baseline scenario, loaded."""
    return load_scenario(BASELINE)


def _at(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_documented_settings_reproduce_the_scenario(path: Path) -> None:
    """Every bundled scenario run with its documented settings gives the file's own results."""
    loaded = load_scenario(path)
    settings = {**documented_settings(loaded.scenario), "replicas": "16"}
    ours = NegotiationModel(compile_batch(apply_settings(loaded, settings)))
    theirs = NegotiationModel(compile_batch(with_overrides(loaded, replicas=16)))
    ours.run_model()
    theirs.run_model()
    np.testing.assert_array_equal(ours.agreed_round, theirs.agreed_round)
    np.testing.assert_array_equal(ours.agreement, theirs.agreement)


def test_each_control_sets_its_field(loaded: LoadedScenario) -> None:
    """A new value in any control lands in the field it names, and nowhere else changes."""
    new = {int: "7", float: "0.5"}
    for key, control in controls(loaded.scenario).items():
        if control.kind is str:
            values = control.widget["values"]
            value: Any = next(v for v in values if v != control.value and v != "zeuthen")
            expected: Any = value
        else:
            value = new[control.kind]
            expected = control.kind(value)
        built = apply_settings(loaded, {key: value}).model_dump()
        assert _at(built, control.path) == expected, key
        _at(built, control.path[:-1])[control.path[-1]] = _at(loaded.scenario.model_dump(), control.path)
        if key == "protocol":  # the single text gets the scenario's mediator
            built["protocol"]["mediator"] = None
        if key.startswith("salience."):  # the documented word, as a weight
            continue
        assert built == loaded.scenario.model_dump(), key


def test_controls_cover_every_belligerent_issue_and_event(loaded: LoadedScenario) -> None:
    """Saliences per belligerent and issue, patience, both war costs, a strategy each, each event's credibility."""
    s = loaded.scenario
    keys = set(controls(s))
    for party in s.belligerents:
        assert {f"strategy.{party}", f"patience.{party}", f"war_cost.{party}", f"war_cost_per_round.{party}"} <= keys
        assert {f"salience.{party}.{issue}" for issue in s.issues} <= keys
    assert {f"credibility.{e}" for e in range(len(s.events))} <= keys
    assert {"replicas", "seed", "rounds", "protocol"} <= keys


def test_model_params_are_mesa_inputs(loaded: LoadedScenario) -> None:
    """Mesa's model_params: the fixed scenario file, then one text field or choice per control."""
    params = model_params(loaded.scenario, str(BASELINE))
    assert params.pop("source") == str(BASELINE)
    for key, entry in params.items():
        assert entry["type"] in {"InputText", "Select"}, key
        assert entry["label"] and isinstance(entry["value"], str), key
        if entry["type"] == "Select":
            assert entry["value"] in entry["values"], key


def test_single_text_gets_the_scenarios_mediator(loaded: LoadedScenario) -> None:
    """Choosing the single negotiating text where the file names no mediator picks its mediator party."""
    assert loaded.scenario.protocol.mediator is None
    built = apply_settings(loaded, {"protocol": "single_text"})
    assert built.protocol.mediator == "turkey"
    model = NegotiationModel(compile_batch(built.model_copy(update={"replicas": 4})))
    model.run_model()
    assert model.agreed_round.shape == (2, 4)


def test_single_text_without_a_mediator_is_an_error(loaded: LoadedScenario) -> None:
    """With no mediator party at all, the single text cannot run: the cross-check says why."""
    parties = {k: p for k, p in loaded.scenario.parties.items() if p.role != "mediator"}
    alone = loaded.model_copy(update={"scenario": loaded.scenario.model_copy(update={"parties": parties})})
    with pytest.raises(InputError, match=r"protocol: expected a 'mediator' for protocol single_text"):
        apply_settings(alone, {"protocol": "single_text"})


IMPOSSIBLE = [
    ({"patience.russia": "0"}, "Russia: patience (0-1] (parties.russia.strategy.patience): expected a number > 0.0, found 0.0"),
    ({"patience.ukraine": "1.2"}, "Ukraine: patience (0-1] (parties.ukraine.strategy.patience): expected a number <= 1.0"),
    ({"salience.ukraine.ceasefire": "-1"},
     "page settings: Ukraine: salience of ceasefire (parties.ukraine.positions.ceasefire.salience): "
     "expected a number >= 1e-06, found -1.0"),
    ({"war_cost.russia": "-0.1"}, "Russia: cost of war (parties.russia.war.cost): expected a number >= 0.0, found -0.1"),
    ({"salience.ukraine.ceasefire": "1e30"},
     "Ukraine: salience of ceasefire (parties.ukraine.positions.ceasefire.salience): expected a number <= 1e+06, "
     "found 1e+30"),
    ({"salience.ukraine.ceasefire": "5e-324"},
     "Ukraine: salience of ceasefire (parties.ukraine.positions.ceasefire.salience): expected a number >= 1e-06, "
     "found 5e-324"),
    ({"salience.ukraine.ceasefire": "0.000001"},
     "(parties.ukraine.positions.ceasefire.salience): expected a salience at least 1e-06 of the party's largest (4), "
     "found 1e-06"),
    ({"war_cost_per_round.russia": "1e300"}, "(parties.russia.war.cost_per_round): expected a number <= 1e+06, found 1e+300"),
    ({"patience.russia": "nan"},
     "Russia: patience (0-1] (parties.russia.strategy.patience): expected a finite number, found 'nan'"),
    ({"credibility.0": "1.5"}, "(events[0].credibility): expected a number <= 1.0, found 1.5"),
    ({"seed": "abc"}, "page settings: seed: expected a whole number, found 'abc'"),
    ({"seed": "-3"}, "page settings: seed: expected a number >= 0, found -3"),
    ({"replicas": "0"}, "replicas (negotiations side by side) (replicas): expected a number >= 1, found 0"),
    ({"replicas": str(MAX_REPLICAS + 1)}, f"expected at most {MAX_REPLICAS:,} on the page"),
    ({"rounds": "1"}, "deadline (rounds of talks) (protocol.rounds): expected a number >= 2, found 1"),
    ({"rounds": "12.5"}, "deadline (rounds of talks) (protocol.rounds): expected a whole number, found '12.5'"),
    ({"war_cost.ukraine": "inf"}, "expected a finite number, found 'inf'"),
    ({"war_cost.ukraine": "lots"}, "Ukraine: cost of war (parties.ukraine.war.cost): expected a number, found 'lots'"),
    ({"protocol": "single_text", "strategy.russia": "zeuthen"}, "expected zeuthen only with protocol alternating_offers"),
    ({"protocol": "shouting"}, "protocol (protocol.type): expected one of alternating_offers, single_text, found 'shouting'"),
    ({"patience.nobody": "0.5"}, "page settings: patience.nobody: expected a control of istanbul_2025, found an unknown key"),
]


IMPOSSIBLE_IDS = ["&".join(f"{k}={v}" for k, v in settings.items()) for settings, _ in IMPOSSIBLE]


@pytest.mark.parametrize(("settings", "message"), IMPOSSIBLE, ids=IMPOSSIBLE_IDS)
def test_impossible_settings_are_input_errors(loaded: LoadedScenario, settings: dict[str, str], message: str) -> None:
    """An impossible setting raises InputError located at the page's settings and naming the control."""
    with pytest.raises(InputError) as info:
        apply_settings(loaded, settings)
    text = str(info.value)
    assert text.startswith("page settings: "), text
    assert message in text, text
    assert len(info.value.problems) == 1, text
