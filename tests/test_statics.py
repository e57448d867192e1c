"""Comparative statics (THEORY.md): each lever moves outcomes the way theory says, on
purpose-built scenarios where the theory is exact and on every bundled scenario."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.api import set_values
from sim.engine import run_scenario
from sim.inputs import load_scenario, with_overrides
from sim.inputs.catalogue import bundled_scenarios
from sim.statics import Statics, check, paired
from sim.theory.closed_forms import fearon_range, rubinstein_share

DATA = Path(__file__).resolve().parent / "data" / "statics"
GRID = 0.01  # split.yaml and fearon.yaml have 101 levels on [0, 1]
PAIRS = [(0.5, 0.5), (0.6, 0.8), (0.8, 0.6), (0.5, 0.9), (0.9, 0.5), (0.9, 0.9), (0.95, 0.98)]


def split_of(d_a: float, d_b: float, rounds: int, after_deadline: str = "resume") -> tuple[float, int]:
    """A's agreed share of the pie and the agreement round (from 0) with A proposing first."""
    loaded = set_values(DATA / "split.yaml", {"parties.a.strategy.patience": d_a, "parties.b.strategy.patience": d_b})
    scenario = with_overrides(loaded, rounds=rounds)
    scenario = scenario.model_copy(update={"protocol": scenario.protocol.model_copy(update={"after_deadline": after_deadline})})
    model = run_scenario(scenario)
    return float(model.batch.groups[0].candidates[model.agreement[0, 0], 0]), int(model.agreed_round[0, 0])


def _keep(responder_patience: float, responder_keeps: int) -> int:
    """Hundredths a proposer keeps: the most that leave the responder at least its discounted
    share of the pie as next round's proposer (ties accepted)."""
    need = responder_patience * responder_keeps / 100
    return max(k for k in range(101) if (100 - k) / 100 >= need - 1e-9)


def grid_stahl(d_a: float, d_b: float, rounds: int) -> float:
    """Stahl's game on the grid of hundredths by backward induction in whole slices; in the
    last round the proposer keeps all 100."""
    keep = 0  # slices the stage-(s - 1) proposer keeps (none after the deadline)
    for stage in range(1, rounds + 1):
        keep = _keep(d_b if (rounds - stage) % 2 == 0 else d_a, keep)  # A proposes at stage `rounds`
    return keep / 100


def grid_rubinstein(d_a: float, d_b: float) -> float:
    """A's share in the stationary equilibrium on the grid: B's and A's slices solved in turn
    from the continuous solution until neither moves."""
    keep_a, keep_b = 100 * rubinstein_share(d_a, d_b), 100 * rubinstein_share(d_b, d_a)
    while True:
        new_b = _keep(d_a, keep_a)
        new_a = _keep(d_b, new_b)
        if (new_a, new_b) == (keep_a, keep_b):
            return keep_a / 100
        keep_a, keep_b = new_a, new_b


@pytest.mark.parametrize(("d_a", "d_b"), PAIRS)
@pytest.mark.parametrize("rounds", [2, 3, 4, 7, 12, 40])
def test_split_is_rubinsteins_share_on_the_grid(d_a, d_b, rounds):
    """One divisible pie, war worth 0, talks resuming after the deadline: the first offer is
    accepted, at Rubinstein's share on the grid, whatever the horizon."""
    share, agreed_round = split_of(d_a, d_b, rounds)
    assert agreed_round == 0
    assert share == pytest.approx(grid_rubinstein(d_a, d_b), abs=1e-9)
    # the grid moves the share by at most h (1 + d_B) / (1 - d_A d_B): each pass rounds the
    # responder's share up by less than h, compounded by d_A d_B every two passes
    assert abs(share - rubinstein_share(d_a, d_b)) <= GRID * (1 + d_b) / (1 - d_a * d_b) + 1e-9


@pytest.mark.parametrize(("d_a", "d_b"), PAIRS)
@pytest.mark.parametrize("rounds", [2, 3, 4, 7, 12, 40])
def test_split_is_stahls_share_when_war_follows_the_deadline(d_a, d_b, rounds):
    """If the war goes on for good after the last round, the first offer is accepted at Stahl's
    share on the grid (the last proposer's offer is an ultimatum)."""
    share, agreed_round = split_of(d_a, d_b, rounds, "war")
    assert agreed_round == 0
    assert share == pytest.approx(grid_stahl(d_a, d_b, rounds), abs=1e-9)


@pytest.mark.parametrize(("d_a", "d_b"), PAIRS)
def test_stahls_split_tends_to_rubinstein_as_rounds_grow(d_a, d_b):
    """With war after the deadline the split approaches (1 - d_B) / (1 - d_A d_B).

    Tolerance: Stahl's continuous share differs from Rubinstein's by at most
    (d_A d_B)^((T - 1) // 2) (``rubinstein_share``), and the grid of step h moves the
    backward induction by at most h (1 + d_B) / (1 - d_A d_B). With h = 0.01 that is 0.02
    for d = (0.5, 0.5) and 0.29 for (0.95, 0.98): on a grid of 101 levels, very patient
    sides need a finer pie than the schema allows.
    """
    grid_error = GRID * (1 + d_b) / (1 - d_a * d_b)
    limit = rubinstein_share(d_a, d_b)
    for rounds in (10, 40, 160):
        share, _ = split_of(d_a, d_b, rounds, "war")
        assert abs(share - rubinstein_share(d_a, d_b, horizon=rounds)) <= grid_error + 1e-9
        assert abs(share - limit) <= grid_error + (d_a * d_b) ** ((rounds - 1) // 2) + 1e-9


def test_split_rises_with_own_patience_and_falls_with_the_others():
    """Rubinstein's share rises in d_A and falls in d_B; so does the simulated split (weakly, on the grid)."""
    levels = [0.4, 0.6, 0.8, 0.9]
    split = {(a, b): split_of(a, b, 12)[0] for a in levels for b in levels}
    for a, b in split:
        for higher in levels:
            if higher > a:
                assert split[(higher, b)] >= split[(a, b)]
            if higher > b:
                assert split[(a, higher)] <= split[(a, b)]
    assert split[(0.9, 0.4)] > split[(0.4, 0.9)]


def _off_grid(*values: float) -> bool:
    """No value sits on a grid point, where float32 utilities cannot settle a tie with war."""
    return all(abs(v * 100 - round(v * 100)) > 1e-6 for v in values)


def test_fearon_deal_exactly_when_the_range_holds_a_grid_point():
    """Without noise, threats or red lines, a deal is struck iff Fearon's range [p - c_A, p_B' + c_B]
    holds a candidate, by the deadline, on terms inside it."""
    fixed = {"uncertainty.win_probability_noise": 0.0, "events.0.targets.b": 0.0, "parties.a.red_lines.0.cost": 0.0}
    cases = 0
    for p_a in (0.35, 0.6, 0.805):
        for p_b in (0.3, 0.405, 0.55, 0.705):
            for c in (0.0, 0.0125, 0.1125):
                span = fearon_range(p_a, c, c, p_b=1.0 - p_b)  # B's belief that A wins is 1 - p_b
                if span is not None and not _off_grid(*span):
                    continue
                values = {**fixed, "parties.a.war.win_probability": p_a, "parties.b.war.win_probability": p_b,
                          "parties.a.war.cost": c, "parties.b.war.cost": c}
                model = run_scenario(set_values(DATA / "fearon.yaml", values).scenario.model_copy(update={"replicas": 1}))
                holds_point = span is not None and np.floor(span[1] * 100) >= np.ceil(span[0] * 100)
                assert (model.agreed_round[0, 0] >= 0) == holds_point, (p_a, p_b, c)
                if holds_point:
                    x = model.batch.groups[0].candidates[model.agreement[0, 0], 0]
                    assert span[0] <= x <= span[1]
                cases += 1
    assert cases >= 30


def test_every_property_holds_replica_by_replica_on_fearon():
    """Where the theory is exact, every property holds and no replica moves against it; a
    shift of power with common beliefs leaves the chance of a deal exactly where it was."""
    findings = check(load_scenario(DATA / "fearon.yaml"), replicas=400)
    applicable = [f for f in findings if f.verdict != "not applicable"]
    assert {f.property for f in applicable} == {"patience", "war_cost", "optimism", "power_shift", "threat",
                                                "red_line_cost", "risk_aversion"}
    assert [f for f in applicable if f.verdict != "holds"] == []
    assert [f for f in applicable if f.against] == []
    for f in applicable:
        if f.property == "power_shift" and f.measure == "agreement rate":
            assert f.effect == 0.0 and f.arms["low"] == f.arms["high"]
        if f.property in ("war_cost", "threat", "risk_aversion") or f.measure.endswith("agreed terms"):
            assert f.effect != 0.0, f  # the lever moves something here: the test is not vacuous
    before = [f for f in applicable if f.measure.startswith("agreement before")]
    assert len(before) == 1 and before[0].arms["low"] == 0.0 and before[0].arms["high"] > 0.5  # the deadline effect


def test_a_binding_red_line_is_why_a_shift_of_power_costs_deals():
    """A's red line at 0.56: when A's belief falls by 0.1 the range [p - c_A, p + c_B] moves below
    it, the terms that would clear cost A its audience cost, and deals are lost; without the
    red line the same shift loses none."""
    loaded = set_values(DATA / "fearon.yaml", {"parties.a.red_lines.0.limit": 0.56})
    found = [f for f in check(loaded, replicas=400)
             if f.property == "power_shift" and f.measure == "agreement rate" and f.lever.startswith("A's")]
    assert len(found) == 1
    f = found[0]
    assert f.interval is not None and f.interval[1] < 0
    assert f.verdict == "holds" and f.reason.startswith("what binds is red lines: without red lines the rate goes")


def test_patience_moves_the_security_terms_toward_russia_in_sanctions_credible():
    """Russia's patience 0.5 -> 0.99 leaves the chance of a security deal (whether a zone of
    agreement opens) as it was and gives Russia better terms, in no replica worse."""
    st = Statics(load_scenario("sanctions_credible"), replicas=400)
    path = "parties.russia.strategy.patience"
    low, high = st.arm({path: 0.5}), st.arm({path: 0.99})
    g = st.groups.index("security")
    assert np.array_equal(low.agreed[g], high.agreed[g])
    both = low.agreed[g] & high.agreed[g]
    russia = st.parties.index("russia")
    _, (lo, _), n = paired(low.utility[g, both, russia], high.utility[g, both, russia])
    assert n > 50 and lo > 0
    assert (high.utility[g, both, russia] >= low.utility[g, both, russia] - 1e-9).all()


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_every_property_holds_on_each_bundled_scenario(name):
    """No property that applies to a bundled scenario is violated, and each lever the
    scenario has (patience always; war costs where a group ends the war; threats; red
    lines) is tested on it."""
    loaded = load_scenario(name)
    findings = check(loaded, replicas=300)
    assert [f.as_dict() for f in findings if f.verdict == "violated"] == []
    applicable = {f.property for f in findings if f.verdict != "not applicable"}
    s = loaded.scenario
    expected = {"patience"}
    if any(s.issues[i].ends_war for i in s.issues):
        expected.add("war_cost")
    if any(v < 0 for event in s.events for v in event.targets.values()):
        expected.add("threat")
    if any(red.cost > 0 for name in s.belligerents for red in s.parties[name].red_lines):
        expected.add("red_line_cost")
    assert expected <= applicable
