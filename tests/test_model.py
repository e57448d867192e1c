"""The Mesa engine: face validity on the Istanbul baseline and invariants of every run."""

from pathlib import Path

import mesa
import numpy as np
import pytest

from sim.core.batch import take_replicas
from sim.core.protocols import gather
from sim.engine.compile import compile_batch
from sim.engine.model import NegotiationModel, run_scenario
from sim.inputs import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def scenario(name: str = "istanbul_2025", **update):
    """A bundled scenario, with top-level fields replaced."""
    s = load_scenario(SCENARIOS / f"{name}.yaml").scenario
    return s.model_copy(update=update)


def group_index(model: NegotiationModel, name: str) -> int:
    """Position of an agenda group in the model's arrays."""
    return [g.name for g in model.batch.groups].index(name)


@pytest.fixture(scope="module")
def baseline_model():
    """The baseline with 500 replicas, as the face-validity criterion states it."""
    return run_scenario(scenario(replicas=500))


def test_face_validity_prisoner_exchange(baseline_model):
    """Istanbul 2025 agreed 1,000-for-1,000: >= 90% of replicas agree near 1,000 per side."""
    g = group_index(baseline_model, "humanitarian")
    agreed = baseline_model.agreed_round[g] >= 0
    assert agreed.mean() >= 0.9
    prisoners = baseline_model.batch.groups[g].candidates[baseline_model.agreement[g][agreed], 0] * 2000
    assert 900 <= prisoners.mean() <= 1100


def test_face_validity_no_security_deal(baseline_model):
    """Istanbul 2025 brought no ceasefire: at most 10% of replicas agree on security."""
    g = group_index(baseline_model, "security")
    assert (baseline_model.agreed_round[g] >= 0).mean() <= 0.10


@pytest.mark.parametrize(
    "name",
    ["istanbul_2025", "sanctions_credible", "us_deadline", "ceasefire_first", "mediated_single_text", "istanbul_2022_terms"],
)
def test_agreement_never_worse_than_war_for_any_party(name):
    """Every agreement is worth at least the war payoff of that round to every belligerent."""
    model = run_scenario(scenario(name, replicas=200))
    for g, utilities in enumerate(model.batch.utilities):
        done = model.agreed_round[g] >= 0
        for p in range(len(model.batch.parties)):
            value = gather(utilities[:, p], np.maximum(model.agreement[g], 0))
            assert np.all(value[done] >= model.agreement_war[g][done, p] - 1e-6)


def test_property_permuting_replicas_permutes_results():
    """Shuffling the replica axis of the compiled inputs shuffles the results the same way."""
    s = scenario(replicas=64)
    problem = compile_batch(s)
    order = np.random.default_rng(3).permutation(64)
    shuffled = take_replicas(problem, order)
    straight = NegotiationModel(problem)
    straight.run_model()
    permuted = NegotiationModel(shuffled)
    permuted.run_model()
    np.testing.assert_array_equal(permuted.agreed_round, straight.agreed_round[:, order])
    np.testing.assert_array_equal(permuted.agreement, straight.agreement[:, order])


def test_credible_sanctions_never_lower_the_security_rate():
    """Lowering Russia's war payoff by a credible threat widens the zone: more deals, not fewer."""
    base = run_scenario(scenario(replicas=300))
    credible = run_scenario(scenario("sanctions_credible", replicas=300))
    g = group_index(base, "security")
    rate_base = (base.agreed_round[g] >= 0).mean()
    rate_credible = (credible.agreed_round[g] >= 0).mean()
    assert rate_credible >= rate_base
    assert rate_credible > rate_base + 0.1


def test_agents_are_mesa_agents_and_data_is_collected():
    """Parties are Mesa agents; the DataCollector has one row per round played."""
    model = run_scenario(scenario(replicas=10))
    assert all(isinstance(a, mesa.Agent) for a in model.agents)
    assert {type(a).__name__ for a in model.agents} == {"Party", "Mediator"}  # third parties act through events
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == model.steps
    assert frame["agreed_humanitarian"].is_monotonic_increasing


@pytest.mark.parametrize("kind", ["tit_for_tat", "zeuthen"])
def test_behaviour_dependent_strategies_reach_the_prisoner_deal(kind):
    """Tit-for-tat and Zeuthen players also find the overlapping humanitarian range."""
    s = scenario(replicas=50)
    parties = {
        name: party.model_copy(update={"strategy": party.strategy.model_copy(update={"type": kind})})
        if party.strategy is not None
        else party
        for name, party in s.parties.items()
    }
    model = run_scenario(s.model_copy(update={"parties": parties}))
    g = group_index(model, "humanitarian")
    assert (model.agreed_round[g] >= 0).mean() >= 0.9


def test_proposer_alternates_from_the_first_proposer():
    """Alternating offers: Ukraine (first_proposer) in round 1, Russia in round 2; single text: the mediator."""
    model = NegotiationModel(compile_batch(scenario(replicas=2)))
    assert [model.proposer_at(t) for t in range(4)] == [0, 1, 0, 1]
    assert model.batch.parties[0] == "ukraine"
    mediated = NegotiationModel(compile_batch(scenario("mediated_single_text", replicas=2)))
    assert {mediated.proposer_at(t) for t in range(4)} == {-1}


def test_structure_key_keeps_names_that_look_like_notes() -> None:
    """An issue named "evidence" is structure, not a note: scenarios differing in its status
    quo must not share a batch (only the evidence/assumption fields of blocks are dropped)."""
    from sim.engine.compile import structure_key

    s = scenario()
    data = s.model_dump()
    data["issues"] = {("evidence" if k == "prisoner_exchange" else k): v for k, v in data["issues"].items()}
    rename = {"prisoner_exchange": "evidence"}
    data["agenda"] = {g: [rename.get(i, i) for i in issues] for g, issues in data["agenda"].items()}
    for party in data["parties"].values():
        if "prisoner_exchange" in party["positions"]:
            party["positions"]["evidence"] = party["positions"].pop("prisoner_exchange")
    a = type(s).model_validate(data)
    data["issues"]["evidence"]["status_quo"] = 1000
    b = type(s).model_validate(data)
    assert structure_key(a) != structure_key(b)
    noted = s.model_copy(update={"protocol": s.protocol.model_copy(update={"assumption": "another note"})})
    assert structure_key(noted) == structure_key(s)


def test_more_than_two_parties_are_deterministic_and_replica_independent() -> None:
    """P = 4, three sides: two runs agree bit for bit, and replicas 10..19 alone equal them inside 0..19."""
    s = load_scenario("minsk_three_sides").scenario
    whole, again, part = run_scenario(s, stop=20), run_scenario(s, stop=20), run_scenario(s, start=10, stop=20)
    for a in ("agreed_round", "agreement", "accepted_by"):
        assert getattr(whole, a).tobytes() == getattr(again, a).tobytes()
        assert getattr(whole, a)[:, 10:].tobytes() == getattr(part, a).tobytes()
    assert whole.trace.own.tobytes() == again.trace.own.tobytes()


def test_a_coalition_member_blocks_what_its_patron_accepts() -> None:
    """Minsk: in the political group Russia ends accepting tables that the Donetsk republic refuses."""
    model = run_scenario(load_scenario("minsk_2015").scenario, stop=50)
    g = [grp.name for grp in model.batch.groups].index("political")
    parties = list(model.batch.parties)
    russia, dnr = model.accepted_by[g][:, parties.index("russia")], model.accepted_by[g][:, parties.index("dnr")]
    assert (model.agreed_round[g] < 0).all()
    assert (russia & ~dnr).any()


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.yaml")))
def test_frontier_path_equals_scan(name):
    """Every result array of a run is the same whether offers and texts come from frontiers or scans."""
    batch = compile_batch(scenario(name, replicas=300))
    fast, scan = NegotiationModel(batch), NegotiationModel(batch)
    scan.frontiers = [None] * len(scan.frontiers)  # the scan over all candidates, as before frontiers
    fast.run_model()
    scan.run_model()
    for field in ("agreed_round", "agreement", "agreement_war", "accepted_by"):
        assert np.array_equal(getattr(fast, field), getattr(scan, field), equal_nan=True)
    for field in ("own", "answered", "war", "table"):
        assert np.array_equal(getattr(fast.trace, field), getattr(scan.trace, field), equal_nan=True)


def _all_scenarios():
    """Every bundled scenario and the phase, truce and statics test scenarios."""
    data = Path(__file__).resolve().parent / "data"
    return sorted(p.stem for p in SCENARIOS.glob("*.yaml")) + [
        str(data / folder / f"{name}.yaml") for folder, name in
        (("phases", "phased"), ("phases", "truce"), ("statics", "fearon"), ("statics", "split"))
    ] + ["istanbul_2025 war after the deadline", "mediated_single_text war after the deadline"]


def _variant(name):
    """A scenario of ``_all_scenarios`` by name."""
    if name.endswith("war after the deadline"):  # Stahl's finite game and the final Nash demands
        loaded = scenario(name.split()[0])
        return loaded.model_copy(update={"protocol": loaded.protocol.model_copy(update={"after_deadline": "war"})})
    return load_scenario(name).scenario if name.endswith(".yaml") else scenario(name)


@pytest.mark.parametrize("name", _all_scenarios())
def test_open_replicas_alone_equal_the_whole_block(name, monkeypatch):
    """Every result array and every agent's state at the end of a group are the same whether a
    group's round runs over the whole block or over its open replicas alone, from round 0 on."""
    import sim.engine.model as engine_model

    batch = compile_batch(_variant(name).model_copy(update={"replicas": 200}))
    monkeypatch.setattr(engine_model, "COMPACT_BELOW", 0.0)  # never: the whole block every round
    whole = NegotiationModel(batch)
    whole.run_model()
    monkeypatch.setattr(engine_model, "COMPACT_BELOW", 2.0)  # always: the open replicas only
    alone = NegotiationModel(batch)
    alone.run_model()
    assert whole.steps == alone.steps
    for field in ("agreed_round", "agreement", "agreement_war", "accepted_by", "opened_round", "truce_broken"):
        assert np.array_equal(getattr(whole, field), getattr(alone, field), equal_nan=True), field
    for field in ("own", "answered", "war", "table"):
        assert np.array_equal(getattr(whole.trace, field), getattr(alone.trace, field), equal_nan=True), field
    # the open replicas' memory is theirs however the round ran (agreed ones stop remembering when alone)
    for g in range(len(batch.groups)):
        still = whole.agreed_round[g] < 0
        for a, b in zip(whole.parties, alone.parties, strict=True):
            for key, value in vars(a.memory[g]).items():
                assert np.array_equal(value[still], getattr(b.memory[g], key)[still], equal_nan=True), key


PHASES = Path(__file__).resolve().parent / "data" / "phases"


def phased(**protocol_or_event):
    """The two-phase test scenario (tests/data/phases/phased.yaml), its deadline event moved."""
    s = load_scenario(PHASES / "phased.yaml").scenario
    if "from_round" in protocol_or_event:
        event = s.events[0].model_copy(update={"from_round": protocol_or_event["from_round"]})
        s = s.model_copy(update={"events": [event]})
    return s


@pytest.mark.parametrize("due", [5, 10, 11])
def test_a_phase_opens_the_round_after_its_prerequisite_agrees(due):
    """`first` has no deal until the deadline on A is carried out (war payoffs 0.5 + 0.6 > 1
    before, 0.2 + 0.6 < 1 after), so it agrees in round F = due where it is carried out and
    never where it is a bluff; `second` opens in round F + 1, and its parties (k = 1) agree
    then, if F + 1 <= T - 1 = 11; otherwise, and wherever `first` failed, it never opens."""
    model = run_scenario(phased(from_round=due))
    carried = model.batch.event_carried_out[:, 0]
    assert carried.any() and not carried.all()
    np.testing.assert_array_equal(model.agreed_round[0], np.where(carried, due, -1))
    opens = due + 1 <= model.rounds - 1
    np.testing.assert_array_equal(model.opened_round[1], np.where(carried & opens, due + 1, -1))
    np.testing.assert_array_equal(model.agreed_round[1], np.where(carried & opens, due + 1, -1))
    assert not np.isfinite(model.trace.own[1, : due + 1]).any()  # nothing negotiated before it opened


def test_a_waiting_phase_keeps_its_memory_so_blocks_do_not_matter():
    """A responsive strategy's memory of a group not yet open stays untouched while the group
    runs in other replicas: replicas run one at a time give the same rounds as all at once,
    and the group still opens the round after its prerequisite agrees."""
    s = phased()
    b_strategy = s.parties["b"].strategy.model_copy(update={"type": "tit_for_tat"})
    s = s.model_copy(update={"parties": {**s.parties, "b": s.parties["b"].model_copy(update={"strategy": b_strategy})}})
    from dataclasses import replace

    batch = compile_batch(s)
    due = 3 + np.arange(batch.replicas)[:, None] % 6  # the deadline on A falls due in rounds 3..8
    batch = replace(batch, event_from_round=due, event_carried_out=np.ones_like(batch.event_carried_out))
    whole = NegotiationModel(batch)
    whole.run_model()
    rows = []
    for r in range(batch.replicas):
        alone = NegotiationModel(take_replicas(batch, np.array([r])))
        alone.run_model()
        rows.append(alone.agreed_round[:, 0])
    np.testing.assert_array_equal(np.stack(rows, axis=1), whole.agreed_round)
    first = whole.agreed_round[0]
    assert len(set(first.tolist())) > 1
    assert (first >= 0).any()
    np.testing.assert_array_equal(whole.opened_round[1], np.where(first >= 0, first + 1, -1))


def test_phases_are_reported_as_never_opened():
    """The summary tells "never opened" (the bluffs: `first` failed) from "not agreed", and the
    replica table gets an `opened` column; a scenario without phases gets neither."""
    from sim.results import replica_table, summary

    model = run_scenario(phased())
    carried = model.batch.event_carried_out[:, 0]
    second = summary(model)["groups"]["second"]
    assert second["opens_after"] == ["first"]
    assert second["never_opened"] == int((~carried).sum()) and second["agreed"] == int(carried.sum())
    table = replica_table(model)
    assert table.loc[table.group == "second", "opened"].tolist() == carried.tolist()
    plain = run_scenario(scenario(replicas=3))
    assert "opened" not in replica_table(plain).columns
    assert all("never_opened" not in g for g in summary(plain)["groups"].values())


def truce_scenario(relief: float, breaks: float = 0.0):
    """The truce test scenario (tests/data/phases/truce.yaml) with its relief and break rate set."""
    s = load_scenario(PHASES / "truce.yaml").scenario
    rule = s.agenda_rules["truce"]
    truce = rule.truce.model_copy(update={"war_cost_relief": relief, "breaks": breaks})
    return s.model_copy(update={"agenda_rules": {**s.agenda_rules, "truce": rule.model_copy(update={"truce": truce})}})


@pytest.mark.parametrize(("relief", "ceasefire_round"), [(0.0, 1), (0.3, 1), (0.34, 6), (0.5, 6), (1.0, 6)])
def test_a_truce_with_relief_delays_the_ceasefire(relief, ceasefire_round):
    """Fortna (2004): a truce lowers the cost of war only while it lasts. The 30-day truce is
    agreed in round 0 and covers rounds 1-5; the ceasefire (open from round 1) has a deal only
    while war is worth less than half the pie to each, 0.6 - 0.15 (1 - rho) < 0.5, i.e.
    rho < 1/3: with more relief it waits until the truce runs out (round 6). The sign tested:
    relief lowers the pressure to agree a ceasefire (its round does not fall as relief rises)."""
    from sim.results import summary

    model = run_scenario(truce_scenario(relief))
    assert (model.agreed_round[0] == 0).all()
    np.testing.assert_array_equal(model.agreed_round[1], ceasefire_round)
    truce = summary(model)["groups"]["truce"]["truce"]
    assert truce == {"mean_days": 30.0, "broken_rate": 0.0}


def test_a_broken_truce_restores_the_full_cost():
    """With a break rate of 0.3 per round, a replica's ceasefire comes in the first round of
    the truce whose draw breaks it (the full cost is back), or in round 6 where it held."""
    model = run_scenario(truce_scenario(1.0, breaks=0.3))
    draws = model.batch.truce_break_draw[:, 0, :]  # (R, T)
    broke = draws[:, 1:6] < 0.3
    expected = np.where(broke.any(axis=1), 1 + broke.argmax(axis=1), 6)
    assert 0 < broke.any(axis=1).sum() < model.batch.replicas
    np.testing.assert_array_equal(model.agreed_round[1], expected)
    np.testing.assert_array_equal(model.truce_broken[0], broke.any(axis=1))


RESULTS = ("agreed_round", "agreement", "agreement_war", "accepted_by", "opened_round", "truce_broken")


@pytest.mark.parametrize("name", _all_scenarios())
@pytest.mark.parametrize("compact", [0.0, 0.5, 2.0, "look-ups"])
def test_a_run_without_trace_has_the_same_results(name, compact, monkeypatch):
    """Without a trace (foreclosed replicas playing only their last round, looked for in every
    group), every result array and the rounds run are those of the run with its trace,
    whether rounds run over the whole block, its open replicas, or as the engine picks, and
    with foreclosure found by scans (few candidates) or by look-ups on frontiers of all (many)."""
    import sim.engine.model as engine_model

    if compact == "look-ups":  # every group counts as one of many candidates
        monkeypatch.setattr(engine_model, "PRUNE_MIN", 0)
    else:
        monkeypatch.setattr(engine_model, "COMPACT_BELOW", compact)
    monkeypatch.setattr(engine_model, "FORECLOSE_FROM", 0.0)  # look in every group
    batch = compile_batch(_variant(name).model_copy(update={"replicas": 200}))
    traced, untraced = NegotiationModel(batch), NegotiationModel(batch, trace=False)
    traced.run_model()
    untraced.run_model()
    assert traced.steps == untraced.steps
    for field in RESULTS:
        assert np.array_equal(getattr(traced, field), getattr(untraced, field), equal_nan=True), field
    assert all(shut is None for shut in traced.foreclosed)  # a traced run plays every round


def test_foreclosed_replicas_have_no_zone_in_any_round(monkeypatch):
    """On the baseline most replicas cannot agree on security: each foreclosed one has, in every
    round, no candidate that both parties value at their war payoffs or more (checked round by
    round against the war payoffs the traced run met), and none of them agreed; the others
    include every replica that agreed."""
    from sim.core.dynamics import war_payoffs

    batch = compile_batch(scenario(replicas=400))
    model = NegotiationModel(batch, trace=False)
    shut = model.foreclosed[1]
    assert model.foreclosed[0] is None  # humanitarian: a zone of agreement in every replica
    assert shut is not None and 0.5 < shut.mean() < 1.0
    # only the others get frontiers; the foreclosed play their one round by the scan
    assert np.array_equal(model._fronted[1], np.flatnonzero(~shut))
    assert model.frontiers[1].offers[0].level.shape[0] == (~shut).sum() and model._fronted[0] is None
    utilities = batch.utilities[1]
    for t in range(batch.rounds):
        war = war_payoffs(batch, t)[1]
        zone = (utilities >= war[:, :, None]).all(axis=1).any(axis=1)
        assert not zone[shut].any()
    played: list[tuple[int, np.ndarray]] = []  # (round, replicas) of each security round
    original = NegotiationModel._round

    def spy(self, g, t_round, war, rows=None):
        if g == 1:
            played.append((t_round, np.arange(batch.replicas) if rows is None else rows))
        return original(self, g, t_round, war, rows)

    monkeypatch.setattr(NegotiationModel, "_round", spy)
    model.run_model()
    assert (model.agreed_round[1][shut] < 0).all()
    assert (model.agreed_round[1] >= 0).any()
    assert model.trace.own.shape == (2, batch.rounds, 0, 2)  # no trace kept
    assert [t for t, _ in played] == list(range(batch.rounds))
    for t, rows in played:  # the foreclosed play the last round only
        assert shut[rows].any() == (t == batch.rounds - 1)


@pytest.mark.parametrize("name", ["istanbul_2025", "us_deadline", "india_pakistan_2025", "korea_1953"])
@pytest.mark.parametrize("look_ups", [False, True])
def test_foreclosed_replicas_are_exactly_those_without_a_zone_at_their_least_war_payoffs(name, look_ups, monkeypatch):
    """Brute force: each party's least war payoff over every round (each round computed anew,
    ``war_payoffs``) and a scan of every candidate; the foreclosed replicas are exactly those
    where no candidate reaches it for all parties, whether found by scans or by look-ups on
    frontiers, after the bound has set most of them aside."""
    import sim.engine.model as engine_model
    from sim.core.dynamics import war_payoffs

    monkeypatch.setattr(engine_model, "FORECLOSE_FROM", 0.0)
    if look_ups:
        monkeypatch.setattr(engine_model, "PRUNE_MIN", 0)
    batch = compile_batch(scenario(name, replicas=300))
    model = NegotiationModel(batch, trace=False)
    assert model.lean  # memoryless talks: foreclosure is looked for
    wars = [war_payoffs(batch, t) for t in range(batch.rounds)]
    for g, utilities in enumerate(batch.utilities):
        least = np.minimum.reduce([w[g] for w in wars])
        none = ~(utilities.astype(float) >= least[:, :, None]).all(axis=1).any(axis=1)
        shut = model.foreclosed[g]
        assert np.array_equal(np.zeros(batch.replicas, bool) if shut is None else shut, none), g


def test_a_lean_model_keeps_no_memory_of_its_rounds():
    """Without a trace and with time-dependent strategies every round is lean: the agents'
    memory after the run is what it was before the first round (nothing reads it), while
    a traced run's agents remember their last targets."""
    batch = compile_batch(scenario(replicas=300))
    lean, traced = NegotiationModel(batch, trace=False), NegotiationModel(batch)
    before = [[{k: v.copy() for k, v in vars(m).items()} for m in p.memory] for p in lean.parties]
    lean.run_model()
    traced.run_model()
    assert lean.lean and not traced.lean
    for party, kept in zip(lean.parties, before, strict=True):
        for memory, was in zip(party.memory, kept, strict=True):
            assert all(np.array_equal(getattr(memory, k), v, equal_nan=True) for k, v in was.items())
    assert not all(np.array_equal(p.memory[0].target, was[0]["target"], equal_nan=True)
                   for p, was in zip(traced.parties, before, strict=True))


def test_foreclosure_waits_for_memoryless_talks():
    """Strategies that remember (tit for tat), the single text (the mediator revises it) and
    truces (relief ties war payoffs to other groups) keep every round: nothing is foreclosed."""
    import dataclasses

    from sim.core.strategies import TitForTat

    batch = compile_batch(scenario(replicas=50))
    assert NegotiationModel(batch, trace=False).foreclosed[1] is not None
    responsive = dataclasses.replace(batch, strategies=(TitForTat(), *batch.strategies[1:]))
    assert NegotiationModel(responsive, trace=False).foreclosed == [None, None]
    text = compile_batch(load_scenario("mediated_single_text").scenario.model_copy(update={"replicas": 50}))
    assert NegotiationModel(text, trace=False).foreclosed == [None] * len(text.groups)
    truce = compile_batch(_variant(str(Path(__file__).resolve().parent / "data" / "phases" / "truce.yaml")))
    assert NegotiationModel(truce, trace=False).foreclosed == [None] * len(truce.groups)


def test_take_replicas_by_positions_or_by_mask():
    """Positions and a boolean mask of the same replicas give the same batch, field by field."""
    from sim.core.batch import PER_REPLICA

    batch = compile_batch(scenario(replicas=12))
    mask = np.zeros(12, dtype=bool)
    mask[[1, 4, 5, 11]] = True
    by_mask, by_rows = take_replicas(batch, mask), take_replicas(batch, np.flatnonzero(mask))
    assert by_mask.replicas == 4
    for name in PER_REPLICA:
        assert np.array_equal(getattr(by_mask, name), getattr(batch, name)[mask]), name
        assert np.array_equal(getattr(by_rows, name), getattr(batch, name)[mask]), name
    assert all(np.array_equal(a, u[mask]) for a, u in zip(by_mask.utilities, batch.utilities, strict=True))
