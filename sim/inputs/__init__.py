"""Inputs: the YAML reader with line numbers, the scenario and experiment schemas with
their cross-checks, and the catalogue of bundled scenarios. Nothing here computes a
negotiation; bad input raises ``sim.errors.InputError``.
"""

from typing import TYPE_CHECKING, Any

from sim.inputs.catalogue import bundled_scenarios, resolve_scenario, scenario_dirs
from sim.inputs.scenario import LoadedScenario, check_scenario, load_scenario, with_overrides
from sim.inputs.schema import Basis, Protocol, Scenario, Strategy, Strict
from sim.inputs.yamlfile import read_model

if TYPE_CHECKING:
    from sim.inputs.experiment import LoadedExperiment, apply_values, load_experiment

_EXPERIMENT = ("LoadedExperiment", "apply_values", "load_experiment")


def __getattr__(name: str) -> Any:
    # the experiment schema is built on first use: a scenario command never pays for it
    if name in _EXPERIMENT:
        from sim.inputs import experiment

        return getattr(experiment, name)
    raise AttributeError(f"module 'sim.inputs' has no attribute {name!r}")

__all__ = [
    "Basis",
    "LoadedExperiment",
    "LoadedScenario",
    "Protocol",
    "Scenario",
    "Strategy",
    "Strict",
    "apply_values",
    "bundled_scenarios",
    "check_scenario",
    "load_experiment",
    "load_scenario",
    "read_model",
    "resolve_scenario",
    "scenario_dirs",
    "with_overrides",
]
