"""Compiling a scenario into a Batch (sim.engine.compile): the rules it carries and the
utilities it builds, checked by hand against the scenario's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from sim.core.scoring import ideal_point_value
from sim.engine import compile_batch, structure_key
from sim.inputs import apply_values, load_scenario


@pytest.fixture(scope="module")
def baseline():
    """The documented baseline, one replica, no per-replica uncertainty."""
    loaded = load_scenario("istanbul_2025")
    return loaded, loaded.scenario.model_copy(update={"uncertainty": None, "replicas": 1})


def test_batch_carries_the_rules(baseline) -> None:
    """Rounds, protocol, first proposer, mediators, strategies and event groups come from the file."""
    _, s = baseline
    b = compile_batch(s)
    assert b.parties == tuple(s.belligerents)
    assert b.rounds == s.protocol.rounds and b.protocol == s.protocol.type
    assert b.parties[b.first_proposer] == s.protocol.first_proposer
    assert b.mediators == tuple(n for n, p in s.parties.items() if p.role == "mediator")
    assert [type(x).__name__ for x in b.strategies] == ["TimeDependent"] * len(b.parties)
    assert [x.e for x in b.strategies] == [s.parties[n].strategy.e for n in b.parties]
    assert b.event_group == tuple(e.unless_agreed for e in s.events)
    sign = b.battlefield_sign
    assert sign is not None and sign[b.parties.index(s.battlefield.favours)] == 1.0 and sign.sum() == 0.0
    assert b.labels.title == s.title and b.labels.seed == s.seed


def test_humanitarian_utilities_by_hand(baseline) -> None:
    """On the one-issue humanitarian group a party's utility is its value of the position (no penalty)."""
    _, s = baseline
    b = compile_batch(s)
    g = [group.name for group in b.groups].index("humanitarian")
    group = b.groups[g]
    assert len(group.issues) == 1
    i = int(group.issues[0])
    spec = s.issues[b.space.names[i]]
    positions = np.linspace(0.0, 1.0, spec.levels)
    for p, name in enumerate(b.parties):
        ideal = (s.parties[name].positions[b.space.names[i]].ideal - spec.range[0]) / (spec.range[1] - spec.range[0])
        expected = ideal_point_value(positions, np.array(ideal), np.array(s.parties[name].risk_exponent))
        np.testing.assert_allclose(b.utilities[g][0, p], expected.astype(np.float32), rtol=1e-6)


def test_red_line_cost_falls_on_candidates_beyond_the_limit(baseline) -> None:
    """Raising Ukraine's territory red-line cost lowers its utility by exactly that on the
    security candidates beyond the line and leaves every other candidate alone."""
    loaded, s = baseline
    g = list(s.agenda).index("security")
    before = compile_batch(s).utilities[g][0, 0].astype(float)
    raised = apply_values(loaded, {"parties.ukraine.red_lines.0.cost": 0.9}, "test").model_copy(
        update={"uncertainty": None, "replicas": 1}
    )
    after = compile_batch(raised).utilities[g][0, 0].astype(float)
    diff = before - after
    crossed = diff > 1e-6
    assert crossed.any() and not crossed.all()
    np.testing.assert_allclose(diff[crossed], 0.9 - s.parties["ukraine"].red_lines[0].cost, atol=1e-6)
    np.testing.assert_allclose(diff[~crossed], 0.0, atol=1e-6)


def test_per_replica_numbers_do_not_change_the_structure(baseline) -> None:
    """A war cost is held per replica (same structure); the number of rounds is structure."""
    loaded, _ = baseline
    cheap = apply_values(loaded, {"parties.russia.war.cost_per_round": 0.05}, "test")
    shorter = apply_values(loaded, {"protocol.rounds": 8}, "test")
    assert structure_key(cheap) == structure_key(loaded.scenario)
    assert structure_key(shorter) != structure_key(loaded.scenario)
    assert compile_batch(cheap, 0, 2).structure == compile_batch(loaded.scenario, 0, 2).structure


def test_replica_ranges_compile_the_same_numbers() -> None:
    """Replicas 3..5 of a compiled range equal rows 3..5 of the whole batch (streams keyed by replica)."""
    s = load_scenario("istanbul_2025").scenario
    whole = compile_batch(s, 0, 8)
    part = compile_batch(s, 3, 6)
    for name in ("ideal", "weights", "win_probability", "event_carried_out", "battlefield_shock"):
        np.testing.assert_array_equal(getattr(part, name), getattr(whole, name)[3:6])
    for g in range(len(whole.groups)):
        np.testing.assert_array_equal(part.utilities[g], whole.utilities[g][3:6])
