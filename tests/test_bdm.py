"""The expected-utility model run as a Mesa model on scenario parties."""

from pathlib import Path

import numpy as np
import pytest

from sim.errors import InputError
from sim.inputs import load_scenario
from sim.theory import bdm_expected_utility
from sim.theory.bdm import ExpectedUtilityModel

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "istanbul_2025.yaml"


def test_stepping_equals_the_multi_round_function():
    """Ten Mesa steps give the same positions as ten rounds of the pure function."""
    model = ExpectedUtilityModel(load_scenario(SCENARIO).scenario, "territory", rounds=10)
    x0, c, s = model.arrays()
    model.run_model()
    expected = bdm_expected_utility(x0, c, s, rounds=10).positions[-1]
    np.testing.assert_allclose(model.arrays()[0], expected)


def test_holders_and_saliences_come_from_the_scenario():
    """Territory: Ukraine, Russia and the UK/EU hold positions; saliences scaled to a maximum of 1."""
    model = ExpectedUtilityModel(load_scenario(SCENARIO).scenario, "territory", rounds=1)
    assert [a.name for a in model.actors] == ["ukraine", "russia", "uk_eu"]
    assert [a.salience for a in model.actors] == [0.5, 1.0, 0.25]  # high 4, highest 8, medium 2


def test_issue_with_one_holder_is_an_input_error():
    """The model needs at least two parties with a position on the issue."""
    scenario = load_scenario(SCENARIO).scenario
    parties = {k: v.model_copy(update={"positions": {}}) if k != "ukraine" else v for k, v in scenario.parties.items()}
    with pytest.raises(InputError, match="at least two parties"):
        ExpectedUtilityModel(scenario.model_copy(update={"parties": parties}), "territory")
