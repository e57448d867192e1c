"""Theory beside simulation: zones of agreement, solutions and comparative statics."""

from pathlib import Path

import numpy as np

from sim.analysis import analyze, documented_batch, nash_by_group, simulated_distances
from sim.core.dynamics import war_payoffs
from sim.engine.model import run_scenario
from sim.inputs import load_scenario
from sim.theory import nash_bargaining

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def baseline():
    """The bundled Istanbul baseline."""
    return load_scenario(SCENARIOS / "istanbul_2025.yaml").scenario


def with_russian_war_payoff_lowered(scenario, by: float):
    """Russia's war made costlier by ``by`` (what a credible sanctions threat does)."""
    russia = scenario.parties["russia"]
    war = russia.war.model_copy(update={"cost": russia.war.cost + by})
    parties = dict(scenario.parties, russia=russia.model_copy(update={"war": war}))
    return scenario.model_copy(update={"parties": parties})


def security_zone(scenario):
    """The security group's zone of agreement (bool, K) and utilities (K, 2) at documented positions."""
    problem = documented_batch(scenario)
    g = [x.name for x in problem.groups].index("security")
    war = war_payoffs(problem, 0)[g][0]
    utilities = problem.utilities[g][0].T.astype(float)
    return np.all(utilities >= war, axis=1), utilities, war


def test_baseline_analysis_matches_istanbul():
    """Documented positions: a humanitarian zone at 1,000 per side, no security zone."""
    data = analyze(baseline())
    assert data["groups"]["humanitarian"]["zopa_exists"]
    assert data["groups"]["humanitarian"]["nash"]["outcome"]["prisoner_exchange"] == 1000
    assert not data["groups"]["security"]["zopa_exists"]
    assert data["groups"]["security"]["nash"] is None


def test_lowering_russias_war_payoff_never_narrows_the_security_zone():
    """Comparative statics (Drezner 1999; Lacy & Niou 2004): the zone only grows as Russia's war payoff falls."""
    previous = None
    for by in np.linspace(0.0, 0.5, 11):
        zone, _, _ = security_zone(with_russian_war_payoff_lowered(baseline(), by))
        if previous is not None:
            assert np.all(zone[previous])  # every old deal is still a deal
        previous = zone
    assert previous is not None and previous.any()


def test_lowering_russias_war_payoff_moves_nash_toward_ukraine():
    """Once a zone exists, Ukraine's utility at the Nash solution never falls as Russia's war payoff falls."""
    ukraine_utility = []
    for by in np.linspace(0.2, 0.6, 9):
        _, utilities, war = security_zone(with_russian_war_payoff_lowered(baseline(), by))
        k = nash_bargaining(utilities, war)
        if k is not None:
            ukraine_utility.append(utilities[k, 0])
    assert len(ukraine_utility) >= 3
    assert np.all(np.diff(ukraine_utility) >= -1e-9)
    assert ukraine_utility[-1] > ukraine_utility[0]


def test_spatial_forecasts_by_hand():
    """Compromise on sanctions relief: sum(c s x) / sum(c s) over the parties holding a position."""
    data = analyze(baseline())
    # ukraine (c 1, s medium 2, x 0), russia (c 1.5, s 2, x 1), uk_eu (c 1, s high 4, x 0); saliences / max
    expected = (1.5 * 2 * 1) / (1 * 2 + 1.5 * 2 + 1 * 4)
    assert abs(data["issues"]["sanctions_relief"]["compromise"] - expected) < 1e-6


def test_simulated_agreements_sit_on_the_pareto_frontier():
    """The trade-off offers lead to Pareto-optimal prisoner deals in the baseline."""
    distances = simulated_distances(run_scenario(baseline().model_copy(update={"replicas": 100})))
    assert distances["humanitarian"]["agreed"] >= 90
    assert distances["humanitarian"]["mean_distance_to_pareto"] == 0.0


def test_nash_by_group_names_no_security_solution():
    """The run summary's Nash entry is empty where no outcome beats war for both."""
    nash = nash_by_group(baseline())
    assert nash["security"] == {}
    assert nash["humanitarian"]["outcome"]["prisoner_exchange"] == 1000
