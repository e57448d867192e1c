"""Per-round dynamics (sim.core.dynamics): beliefs, status quo, events and war payoffs by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sim.core.batch import MIN_BELIEF, Batch
from sim.core.dynamics import WarPayoffs, event_shift, status_quo, war_payoffs, win_beliefs
from sim.core.scoring import war_lottery
from sim.engine import compile_batch
from sim.inputs import load_scenario, with_overrides


def batch_of(name: str, replicas: int) -> Batch:
    """A compiled bundled scenario with ``replicas`` replicas."""
    return compile_batch(with_overrides(load_scenario(name), replicas=replicas))


def test_win_beliefs_move_toward_the_favoured_side() -> None:
    """After t rounds the favoured side's belief rises by drift * t and the other's falls by as much."""
    b = batch_of("battlefield_advance", 2)
    favoured = b.parties.index("russia")
    b = replace(
        b,
        win_probability=np.array([[0.5, 0.4], [0.5, 0.4]]),
        battlefield_drift=np.array([0.02, 0.05]),
        battlefield_shock=np.zeros((2, b.rounds)),
    )
    got = win_beliefs(b, 5)
    sign = np.where(np.arange(2) == favoured, 1.0, -1.0)
    expected = np.array([[0.5, 0.4] + sign * 0.1, [0.5, 0.4] + sign * 0.25])
    np.testing.assert_allclose(got, expected)


def test_win_beliefs_are_clipped_away_from_certainty() -> None:
    """However far the battlefield drifts, no side is certain of the war's outcome."""
    b = batch_of("battlefield_advance", 1)
    b = replace(b, battlefield_drift=np.array([0.5]), battlefield_shock=np.zeros((1, b.rounds)))
    got = win_beliefs(b, 10)
    assert got.min() == MIN_BELIEF and got.max() == 1.0 - MIN_BELIEF


def test_win_beliefs_stay_put_without_a_battlefield() -> None:
    """A scenario with no battlefield block keeps its documented beliefs every round."""
    b = replace(batch_of("istanbul_2025", 3), battlefield_sign=None)
    assert win_beliefs(b, 7) is b.win_probability


def test_status_quo_drifts_per_round_within_the_scale() -> None:
    """The status quo moves by its normalised drift per round and stays within [0, 1]."""
    b = batch_of("istanbul_2025", 1)
    drift = np.zeros((1, len(b.space.names)))
    drift[0, 0] = 0.3
    b = replace(b, status_quo_drift=drift)
    got = status_quo(b, 2)
    assert got[0, 0] == pytest.approx(min(1.0, b.space.status_quo[0] + 0.6))
    np.testing.assert_array_equal(got[0, 1:], b.space.status_quo[1:])


def test_threat_is_anticipated_then_carried_out_or_not() -> None:
    """Before its round a threat costs credibility x change; from then on the full change where
    carried out and nothing where it was a bluff; only the group that averts it is touched."""
    b = batch_of("sanctions_credible", 2)
    russia = b.parties.index("russia")
    change = np.zeros((2, 1, 2))
    change[:, 0, russia] = -0.2
    b = replace(
        b,
        event_credibility=np.array([[0.25], [0.25]]),
        event_change=change,
        event_from_round=np.array([[3], [3]]),
        event_carried_out=np.array([[True], [False]]),
    )
    assert b.event_group == ("security",)
    before = event_shift(b, 2, "security")
    np.testing.assert_allclose(before[:, russia], [-0.05, -0.05])
    after = event_shift(b, 3, "security")
    np.testing.assert_allclose(after[:, russia], [-0.2, 0.0])
    np.testing.assert_array_equal(event_shift(b, 3, "humanitarian"), np.zeros((2, 2)))


def test_war_payoffs_charge_the_cost_of_war_only_where_the_war_ends() -> None:
    """The ceasefire group's war payoff is the lottery less cost + t x cost per round; the other group's is the lottery."""
    b = batch_of("istanbul_2025", 1)
    b = replace(b, event_change=np.zeros_like(b.event_change))  # no threat moves this round's payoffs
    t = 4
    wars = war_payoffs(b, t)
    beliefs = win_beliefs(b, t)
    sq = status_quo(b, t)
    for g, group in enumerate(b.groups):
        idx = group.issues
        lottery = war_lottery(beliefs, b.ideal[:, :, idx], b.weights[:, :, idx], b.risk_exponent, sq[:, idx],
                              b.space.war_decides[idx])
        cost = (b.war_cost + t * b.war_cost_per_round) if group.ends_war else 0.0
        np.testing.assert_allclose(wars[g], lottery - cost)
    assert [g.ends_war for g in b.groups] == [False, True]



def direct(batch, t):
    """The disagreement points from the formula, nothing kept between rounds (the code before WarPayoffs)."""
    out = []
    for group in batch.groups:
        idx = group.issues
        value = war_lottery(win_beliefs(batch, t), batch.ideal[:, :, idx], batch.weights[:, :, idx], batch.risk_exponent,
                            status_quo(batch, t)[:, idx], batch.space.war_decides[idx])
        if group.ends_war:
            value = value - (batch.war_cost + t * batch.war_cost_per_round)
        shift = np.zeros((batch.replicas, len(batch.parties)))
        for e, averted_by in enumerate(batch.event_group):
            if averted_by == group.name:
                change = batch.event_change[:, e]
                anticipated = batch.event_credibility[:, e, None] * change
                applied = np.where(batch.event_carried_out[:, e, None], change, 0.0)
                shift += np.where((t < batch.event_from_round[:, e])[:, None], anticipated, applied)
        out.append(value + shift)
    return out


@pytest.mark.parametrize("name", ["istanbul_2025", "battlefield_advance", "us_deadline", "sanctions_credible"])
def test_war_payoffs_equal_the_formula_every_round(name):
    """Every round's payoffs, bit for bit, with beliefs and the status quo drifting or not."""
    batch = compile_batch(with_overrides(load_scenario(name), replicas=300))
    kept = WarPayoffs(batch)
    for t in range(batch.rounds):
        for got, want, once in zip(kept(t), direct(batch, t), war_payoffs(batch, t), strict=True):
            assert got.tobytes() == want.tobytes() == once.tobytes()


@pytest.mark.parametrize("name", sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml")))
def test_least_bound_is_at_or_below_every_rounds_war_payoffs(name):
    """The foreclosure's bound holds for every replica, party, group and round (each round's
    payoffs as ``war_payoffs`` computes them anew), on every bundled scenario, coalitions too."""
    batch = compile_batch(with_overrides(load_scenario(name), replicas=300))
    kept = WarPayoffs(batch)
    bounds = [kept.least_bound(g) for g in range(len(batch.groups))]
    assert any(b is not None for b in bounds)
    for t in range(batch.rounds):
        for bound, war in zip(bounds, war_payoffs(batch, t), strict=True):
            if bound is not None:
                assert (bound <= war).all()


@pytest.mark.parametrize("name", ["istanbul_2025", "us_deadline", "minsk_2015", "pretoria_2022"])
def test_payoffs_of_taken_rows_are_those_rows_of_all_bit_for_bit(name):
    """``take(rows)`` (the rows' inputs gathered once) gives every round's payoffs of those
    rows exactly as ``group`` over all replicas does, with a truce's relief or without, with
    a status quo drifting or not."""
    batch = batch_of(name, 120)
    drifting = replace(batch, status_quo_drift=np.full_like(batch.status_quo_drift, 0.01))
    rows = np.array([3, 4, 17, 50, 51, 99, 119])
    relief = np.random.default_rng(5).random(batch.replicas)
    for b in (batch, drifting):
        every = WarPayoffs(b)
        taken = every.take(rows)
        for t in range(b.rounds):
            for g in range(len(b.groups)):
                for lifted in (None, relief):
                    want = every.group(g, t, lifted)[rows]
                    assert taken.group(g, t, None if lifted is None else lifted[rows]).tobytes() == want.tobytes()
                    assert every.group(g, t, lifted, rows).tobytes() == want.tobytes()


def test_least_bound_holds_where_the_lottery_falls_as_the_belief_rises():
    """A coalition member can value its own side's position less than the other side's
    (Achen's compromise far from its ideal): its lottery then falls as its win belief rises,
    and its least is at the greatest belief of the rounds. Swapping every party's values of
    winning and losing makes every lottery so; the bound still holds in every round."""
    batch = batch_of("minsk_2015", 200)
    kept = WarPayoffs(batch)
    kept.groups = [replace(group, winning=group.losing, losing=group.winning) for group in kept.groups]
    for g in range(len(batch.groups)):
        bound = kept.least_bound(g)
        assert all((bound <= kept.group(g, t)).all() for t in range(batch.rounds))


def test_least_bound_without_drift_or_events_is_the_payoff_less_its_margin():
    """Nothing moving but the cost of war (growing per round, so the last round is the least):
    the bound is that round's payoff less 1e-9 of its magnitude (by hand: the margin)."""
    still = with_overrides(load_scenario("istanbul_2025"), replicas=50).model_copy(
        update={"battlefield": None, "events": []})
    batch = compile_batch(still)
    kept = WarPayoffs(batch)
    for g, group in enumerate(batch.groups):
        least = np.minimum.reduce([direct(batch, t)[g] for t in range(batch.rounds)])
        gap = least - kept.least_bound(g)
        assert np.allclose(gap, 1e-9 * (1.0 + np.abs(least)), rtol=1e-6, atol=1e-15), group.name


def test_least_bound_is_none_where_the_status_quo_drifts():
    """A drifting status quo changes the value kept on the issues the war does not decide
    every round: no bound is kept (the foreclosure then computes every round)."""
    batch = batch_of("istanbul_2025", 20)
    drifting = replace(batch, status_quo_drift=np.full_like(batch.status_quo_drift, 0.01))
    assert all(WarPayoffs(drifting).least_bound(g) is None for g in range(len(batch.groups)))


def test_static_lottery_is_computed_once():
    """Without drift of beliefs or the status quo the lottery is the same array every round."""
    still = with_overrides(load_scenario("istanbul_2025"), replicas=20).model_copy(update={"battlefield": None})
    batch = compile_batch(still)
    kept = WarPayoffs(batch)
    assert not kept.beliefs_move and not kept.status_quo_moves
    assert kept.lottery(0, 0) is kept.lottery(0, 5)
    for t in range(batch.rounds):
        assert all(a.tobytes() == b.tobytes() for a, b in zip(kept(t), direct(batch, t), strict=True))


def truce_batch(relief: float = 1.0, breaks: float = 0.0, unit: str = "days", round_days: float = 7.0) -> Batch:
    """The truce test scenario (tests/data/phases/truce.yaml) compiled, its truce's terms set."""
    from pathlib import Path

    s = load_scenario(Path(__file__).resolve().parent / "data" / "phases" / "truce.yaml").scenario
    rule = s.agenda_rules["truce"]
    truce = rule.truce.model_copy(update={"war_cost_relief": relief, "breaks": breaks, "unit": unit})
    s = s.model_copy(update={
        "agenda_rules": {**s.agenda_rules, "truce": rule.model_copy(update={"truce": truce})},
        "protocol": s.protocol.model_copy(update={"round_days": round_days}),
    })
    return compile_batch(s)


def test_a_truce_is_in_force_for_its_days_from_the_round_after_agreement() -> None:
    """A 30-day truce agreed in round 2 with 7-day rounds starts on day 21 (round 3) and covers
    rounds 3..7 (round 7 starts on day 49 < 51; t < 2 + 1 + 30/7 = 7.29); 60 days cover rounds
    3..11; where none was agreed, no round."""
    from sim.core.dynamics import truce_in_force

    b = truce_batch()
    candidates = b.groups[0].candidates[:, 0]  # truce_days on [0, 60] in 5 levels: 0, 15, 30, 45, 60
    thirty, sixty = int(np.flatnonzero(np.isclose(candidates, 0.5))[0]), int(np.flatnonzero(np.isclose(candidates, 1.0))[0])
    r = b.replicas
    agreed_round = np.full((2, r), -1)
    agreement = np.full((2, r), -1)
    agreed_round[0, :2], agreement[0, 0], agreement[0, 1] = 2, thirty, sixty
    in_force = np.array([truce_in_force(b, t, agreed_round, agreement)[0] for t in range(12)])  # (T, R)
    assert in_force[:, 0].nonzero()[0].tolist() == [3, 4, 5, 6, 7]
    assert in_force[:, 1].nonzero()[0].tolist() == list(range(3, 12))
    assert not in_force[:, 2].any()


def test_a_truce_in_hours_counts_fractions_of_a_day() -> None:
    """The same duration issue read in hours with one-day rounds: 30 hours agreed in round 0
    cover rounds 1 and 2 (t < 0 + 1 + 30/24 = 2.25), 15 hours round 1 only."""
    from sim.core.dynamics import truce_in_force

    b = truce_batch(unit="hours", round_days=1.0)
    candidates = b.groups[0].candidates[:, 0]
    agreed_round = np.full((2, b.replicas), -1)
    agreement = np.full((2, b.replicas), -1)
    agreed_round[0, :2] = 0
    agreement[0, 0] = int(np.flatnonzero(np.isclose(candidates, 0.5))[0])
    agreement[0, 1] = int(np.flatnonzero(np.isclose(candidates, 0.25))[0])
    in_force = np.array([truce_in_force(b, t, agreed_round, agreement)[0] for t in range(12)])
    assert in_force[:, 0].nonzero()[0].tolist() == [1, 2]
    assert in_force[:, 1].nonzero()[0].tolist() == [1]


@pytest.mark.parametrize("relief", [0.0, 0.25, 0.6, 1.0])
def test_a_truce_lowers_the_cost_of_war_by_its_relief(relief: float) -> None:
    """In the ceasefire group (ends the war) war is worth 0.6 (the lottery: win 0.6 of the
    ideal, else the far end) minus the cost 0.15, times 1 - relief while a truce lifts it;
    the truce group itself (no cost of war) keeps its status quo, no truce, worth 0 to both
    (the far end from their ideal of 30 days on [0, 60])."""
    b = truce_batch(relief)
    war = WarPayoffs(b)
    free = war(3, np.full(b.replicas, relief))
    full = war(3)
    np.testing.assert_allclose(free[1], 0.6 - (1 - relief) * 0.15)
    np.testing.assert_allclose(full[1], 0.6 - 0.15)
    np.testing.assert_allclose(free[0], 0.0)
    np.testing.assert_array_equal(war(3, np.zeros(b.replicas))[1], full[1])


def test_an_event_after_the_last_round_is_anticipated_in_every_round() -> None:
    """The baseline's sanctions (credibility 0.3, -0.1 on Russia) moved to round 40 of a
    12-round session: Russia's war payoff in the security group is lower by 0.3 x 0.1 = 0.03
    in every round, Ukraine's unchanged, and its concession clock runs to the session's end."""
    from sim.api import set_values
    from sim.core.dynamics import concession_horizon

    late = compile_batch(with_overrides(set_values("istanbul_2025", {"events.sanctions.from_round": 40}), replicas=3))
    none = compile_batch(with_overrides(set_values("istanbul_2025", {"events.sanctions.targets.russia": 0.0}), replicas=3))
    g = [group.name for group in late.groups].index("security")
    russia = late.parties.index("russia")
    with_event, without = WarPayoffs(late), WarPayoffs(none)
    for t in range(late.rounds):
        shift = with_event(t)[g] - without(t)[g]
        np.testing.assert_allclose(shift[:, russia], -0.03, atol=1e-12)
        np.testing.assert_allclose(np.delete(shift, russia, axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(concession_horizon(late, "security"), late.rounds - 1)


@pytest.mark.parametrize(("day", "expected"), [(0, 0), (28, 4), (30, 5), (400, 58)])
def test_an_event_dated_by_day_falls_due_in_the_first_round_starting_then(day: float, expected: int) -> None:
    """With 7-day rounds (round t starts on day 7t) an event on day D falls due in round
    ceil(D / 7): day 28 in round 4, day 30 in round 5, day 400 in round 58 (after the last)."""
    s = load_scenario("istanbul_2025").scenario.model_dump()
    s["protocol"]["round_days"] = 7
    s["events"][0]["from_day"] = day
    from sim.inputs.schema import Scenario

    assert Scenario.model_validate(s).events[0].from_round == expected
