"""The page's model and what the page shows of it: stepping, bad input as a message, the
status table, the evidence rows and the charts of a partly run model; the model taken as
Mesa gives it (``mesa.batch_run``, its rng and scenario, SolaraViz's Reset)."""

from __future__ import annotations

import inspect
import multiprocessing
import shutil
from collections.abc import Iterator
from pathlib import Path

import mesa
import numpy as np
import pytest
from matplotlib.figure import Figure

from sim.app import SCENARIO_ENV
from sim.app.controls import model_params
from sim.app.session import (
    PageModel,
    convergence,
    evidence_rows,
    html_table,
    scenario_choices,
    seed_of,
    status_rows,
    utility_space,
)
from sim.core.dynamics import war_payoffs
from sim.core.patience import zone_of_agreement
from sim.engine import NegotiationModel, compile_batch
from sim.inputs import load_scenario, with_overrides

REPO = Path(__file__).resolve().parent.parent
BASELINE = str(REPO / "scenarios" / "istanbul_2025.yaml")
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))
BAD = REPO / "tests" / "data" / "bad" / "negative_cost.yaml"


def test_page_model_steps_to_the_deadline_and_stops() -> None:
    """Steps are rounds; after the talks end, a step changes nothing."""
    model = PageModel(BASELINE, replicas="30")
    assert model.error is None and model.negotiation is not None
    model.step()
    assert model.negotiation.steps == 1 and model.running
    model.run_to_end()
    assert not model.running
    played = model.negotiation.steps
    assert played == model.negotiation.steps  # the security group stays open in some replica
    model.step()
    assert model.negotiation.steps == played


def test_page_model_of_a_bad_file_holds_the_message() -> None:
    """A bad scenario file gives a model with the loader's message, not an exception; it never runs."""
    model = PageModel(str(BAD))
    assert model.negotiation is None and model.loaded is None
    assert model.error is not None
    assert f"{BAD}:75: parties.ukraine.war.cost: expected a number >= 0.0, found -0.1" in model.error
    assert not model.running
    model.step()
    model.run_to_end()
    assert not model.running


def test_page_model_of_an_impossible_setting_holds_the_message() -> None:
    """An impossible setting keeps the loaded scenario (for the evidence) and says what is wrong."""
    model = PageModel(BASELINE, **{"credibility.0": "2"})
    assert model.negotiation is None and model.loaded is not None
    assert model.error == (
        "page settings: Energy and bank sanctions: credibility [0-1] (events[0].credibility): expected a number <= 1.0, found 2.0"
    )


@pytest.mark.parametrize("salience", ["1e30", "5e-324"])
def test_page_model_of_an_extreme_salience_holds_the_message(salience: str) -> None:
    """A salience outside [1e-06, 1e+06] (it made the utility-space card raise) is a message on the page."""
    model = PageModel(BASELINE, **{"salience.ukraine.ceasefire": salience})
    assert model.negotiation is None and not model.running
    assert model.error is not None and model.error.startswith(
        "page settings: Ukraine: salience of ceasefire (parties.ukraine.positions.ceasefire.salience): expected a number "
    )


def test_page_model_of_the_most_uneven_accepted_saliences_draws_its_cards() -> None:
    """At the bounds (one weight 1e+06 beside weights of 2 to 8, with the Dirichlet draws
    around them), the status, convergence and utility-space cards draw every round."""
    model = PageModel(BASELINE, replicas="8", **{"salience.ukraine.ceasefire": "1e6", "salience.russia.territory": "1e6"})
    assert model.error is None and model.negotiation is not None
    while True:
        for figure in (convergence(model.negotiation), utility_space(model.negotiation)):
            assert isinstance(figure, Figure)
        assert len(status_rows(model.negotiation)) == 2
        if not model.running:
            break
        model.step()


def test_page_model_of_an_unknown_name() -> None:
    """A scenario name that is neither a file nor bundled is a message listing the bundled ones."""
    model = PageModel("no_such_scenario")
    assert model.error is not None and "istanbul_2025" in model.error


def test_status_rows_one_replica() -> None:
    """With one replica: open before the talks, agreed in its round with the terms in natural units, or no deal."""
    scenario = with_overrides(load_scenario(BASELINE), replicas=1, rounds=9)
    batch = compile_batch(scenario)
    # in none of the nine rounds does a security candidate beat war for both sides: no deal is possible
    assert not any(zone_of_agreement(batch.utilities[1], war_payoffs(batch, t)[1]).any() for t in range(9))
    model = NegotiationModel(batch)
    assert [row["status"] for row in status_rows(model)] == ["open (no round played yet)"] * 2
    assert [row["terms"] for row in status_rows(model)] == ["-", "-"]
    model.step()
    rows = status_rows(model)
    assert rows[0] == {
        "agenda group": "humanitarian",
        "issues": "prisoner_exchange",
        "status": "agreed in round 1",
        "terms": "prisoner_exchange: 1,000 prisoners per side",
    }
    assert rows[1]["status"] == "open after round 1"
    model.run_model()
    assert status_rows(model)[1] == {
        "agenda group": "security",
        "issues": "ceasefire, territory, neutrality, sanctions_relief",
        "status": "no agreement by the deadline (round 9)",
        "terms": "-",
    }


def test_status_rows_many_replicas() -> None:
    """With R replicas: how many agreed, their mean round and terms, and how many are still open or never agreed."""
    model = NegotiationModel(compile_batch(with_overrides(load_scenario(BASELINE), replicas=200)))
    model.step()
    model.step()
    humanitarian, security = status_rows(model)
    agreed = int((model.agreed_round[0] >= 0).sum())
    assert humanitarian["status"].startswith(f"agreed in {agreed} of 200 replicas")
    if agreed < 200:
        assert humanitarian["status"].endswith(f"{200 - agreed} still open after round 2")
    assert humanitarian["terms"].startswith("prisoner_exchange: ") and humanitarian["terms"].endswith("(mean over agreements)")
    model.run_model()
    security = status_rows(model)[1]
    never = int((model.agreed_round[1] < 0).sum())
    assert security["status"].endswith(f"{never} with no agreement by the deadline (round 12)")
    assert "share of a full, unconditional ceasefire" in security["terms"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_evidence_rows_quote_their_lines(path: Path) -> None:
    """Every evidence row's quote stands on its stated line of the seed document; assumptions are rows too."""
    loaded = load_scenario(path)
    seed_lines = (path.parent / loaded.scenario.seed_document).read_text(encoding="utf-8").splitlines()
    for key, party in loaded.scenario.parties.items():
        rows = evidence_rows(loaded, key)
        assert rows, key
        for row in rows:
            if row["evidence"] == "assumption":
                assert row["quote"] and not row["line"]
            else:
                assert row["quote"] in seed_lines[int(row["line"]) - 1], row
        if party.war is not None and party.war.assumption:
            assert any(r["numbers"].startswith("war:") and r["evidence"] == "assumption" for r in rows)


def test_charts_of_a_partly_run_model() -> None:
    """Both charts draw a model that has played some rounds (one panel per agenda group)."""
    model = NegotiationModel(compile_batch(with_overrides(load_scenario(BASELINE), replicas=20)))
    before = utility_space(model)
    assert "before round 1" in before.get_suptitle()
    model.step()
    for figure in (convergence(model), utility_space(model)):
        assert isinstance(figure, Figure)
        titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
        assert titles == ["agenda group: humanitarian", "agenda group: security"]
    assert "replica 1 of 20, war payoffs after round 1" in utility_space(model).get_suptitle()


def test_scenario_choices_put_the_given_file_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file ``ceasefire app`` was given comes first, under its name; a bundled file of the same name keeps its path."""
    folder = tmp_path / "mine"
    shutil.copytree(REPO / "scenarios", folder / "scenarios")
    shutil.copytree(REPO / "seeds", folder / "seeds")
    given = folder / "scenarios" / "istanbul_2025.yaml"
    monkeypatch.setenv(SCENARIO_ENV, str(given))
    monkeypatch.chdir(REPO)
    choices = scenario_choices()
    assert next(iter(choices.items())) == ("istanbul_2025", str(given.resolve()))
    assert choices[str((REPO / "scenarios" / "istanbul_2025.yaml").resolve())].endswith("istanbul_2025.yaml")
    assert "sanctions_credible" in choices


def test_html_table_escapes_every_cell() -> None:
    """Quotes and names reach the page as text, never as markup."""
    table = html_table([{"quote": "<script>x</script> & “quoted”"}], "t")
    assert "<script>" not in table and "&lt;script&gt;" in table and "&amp;" in table


@pytest.fixture
def start_method() -> Iterator[None]:
    """Mesa's batch_run sets the spawn start method for the whole process; put it back after."""
    before = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(before, force=True)


@pytest.mark.usefixtures("start_method")
def test_batch_run_runs_the_page_model() -> None:
    """``mesa.batch_run`` over the page's model: a run per setting and rng, each as the model run by hand."""
    seeds = [3, 11]
    params = {"source": BASELINE, "replicas": ["4", "0"], "rounds": "8"}
    options = {"max_steps": 50, "number_processes": 1, "display_progress": False}
    if "rng" in inspect.signature(mesa.batch_run).parameters:  # Mesa 3.5: one rng per iteration
        runs = mesa.batch_run(PageModel, parameters=params, rng=seeds, **options)
    else:  # Mesa 3.3: no rng of its own; the model's rng is a parameter like any other
        runs = mesa.batch_run(PageModel, parameters={**params, "rng": seeds}, **options)
    assert sorted((run["rng"], run["replicas"]) for run in runs) == [(3, "0"), (3, "4"), (11, "0"), (11, "4")]
    for run in runs:
        by_hand = PageModel(BASELINE, rng=run["rng"], replicas=run["replicas"], rounds="8")
        by_hand.run_to_end()
        expected = by_hand.datacollector.get_model_vars_dataframe().iloc[int(run["Step"])].to_dict()  # Step: Mesa 3.5 counts time
        assert {key: run[key] for key in expected} == expected
        if run["replicas"] == "0":
            assert run["error"] is not None and "replicas" in run["error"] and run["round"] == 0
        else:
            assert by_hand.negotiation is not None and by_hand.negotiation.batch.labels.seed == run["rng"]
            assert run["error"] is None and 0 < run["round"] <= 8
            assert 0 <= run["agreed_humanitarian"] <= 1 and 0 <= run["agreed_security"] <= 1


def test_rng_and_seed_setting() -> None:
    """Mesa's rng seeds the negotiation as the seed setting does; an rng is the model's rng too."""
    by_rng = PageModel(BASELINE, rng=5, replicas="20")
    by_seed = PageModel(BASELINE, seed="5", replicas="20")
    assert by_rng.negotiation is not None and by_seed.negotiation is not None
    assert by_rng.negotiation.batch.labels.seed == by_seed.negotiation.batch.labels.seed == 5
    by_rng.run_to_end()
    by_seed.run_to_end()
    assert (by_rng.negotiation.agreed_round == by_seed.negotiation.agreed_round).all()
    assert PageModel(BASELINE, rng=5, seed="5").error is None  # the same seed twice is no conflict
    both = PageModel(BASELINE, rng=5, seed="6")
    assert both.error == "page settings: seed: expected either the seed setting or Mesa's rng, not both, found seed '6' and rng 5"
    drawn = PageModel(BASELINE, rng=np.random.SeedSequence(1), replicas="2")
    assert drawn.negotiation is not None and drawn.negotiation.batch.labels.seed == seed_of(np.random.SeedSequence(1))


def test_a_name_given_as_scenario_is_a_message() -> None:
    """``scenario`` is Mesa's; the file or bundled name goes in ``source`` (the message says so)."""
    model = PageModel(scenario=BASELINE)
    assert model.error is not None and "a file or bundled name goes in source" in model.error
    assert not model.running


def test_mesa_scenario_as_solaraviz_passes_it() -> None:
    """Mesa 3.5's SolaraViz builds the Reset model with a Mesa scenario beside the model_params: its rng
    and parameters are taken, and a fresh one (rng None) leaves the seed setting in force."""
    scenarios = pytest.importorskip("mesa.experimental.scenarios", reason="Mesa before 3.4 has no scenarios")
    first = PageModel(BASELINE, replicas="3")
    assert first.negotiation is not None and first.negotiation.batch.labels.seed == 20250516
    fresh = PageModel(BASELINE, scenario=scenarios.Scenario(), replicas="3", seed="8")
    assert fresh.negotiation is not None and fresh.negotiation.batch.labels.seed == 8
    assert fresh.scenario.model is fresh
    given = PageModel(BASELINE, scenario=scenarios.Scenario(rng=4, rounds="15"), replicas="3")
    assert given.negotiation is not None and given.negotiation.batch.labels.seed == 4 and given.negotiation.rounds == 15
    clash = PageModel(BASELINE, rng=2, scenario=scenarios.Scenario(rng=4))
    assert clash.error is not None and "expected the scenario's rng or none" in clash.error
    assert first.scenario.rng == 20250516  # a model's own Mesa scenario holds the negotiation's seed


def test_model_built_as_solaraviz_builds_it_on_reset() -> None:
    """The keywords Mesa's SolaraViz gives the model on Reset (Mesa 3.5: ``_build_model_init_kwargs``,
    which adds its scenario; Mesa 3.3: the model_params as they are) make a running model."""
    # the page first: it imports SolaraViz with solara's warning about Mesa's own code filtered
    pytest.importorskip("sim.app.page", reason="the page needs the app extra")
    from mesa.visualization import solara_viz

    model = PageModel(BASELINE)
    assert model.loaded is not None
    params = {key: entry["value"] if isinstance(entry, dict) else entry
              for key, entry in model_params(model.loaded.scenario, BASELINE).items()}
    params["replicas"] = "6"
    if hasattr(solara_viz, "_build_model_init_kwargs"):
        kwargs = solara_viz._build_model_init_kwargs(model, params, add_scenario_when_empty=True,
                                                     require_model_accepts_scenario=True)
        assert kwargs["source"] == BASELINE and kwargs["scenario"] is not None
    else:
        kwargs = params
    reset = type(model)(**kwargs)
    assert reset.error is None and reset.negotiation is not None
    assert reset.negotiation.batch.replicas == 6 and reset.negotiation.batch.labels.seed == 20250516
    reset.step()
    assert reset.negotiation.steps == 1


def test_page_resets_and_steps_in_solaraviz() -> None:
    """The page's SolaraViz rendered without a browser: a changed control, Reset and Step make a new model
    and play a round (Mesa 3.5 passes its scenario on Reset; no error on the page)."""
    solara = pytest.importorskip("solara", reason="the page needs the app extra")
    import ipyvuetify as v

    from sim.app.page import Session

    _, rc = solara.render(solara.AppLayout(children=[Session(BASELINE)]), handle_error=False)

    def shown(css_class: str) -> str:
        return str(rc.find(attributes={"class": css_class}).widget.unsafe_innerHTML)

    assert shown("cf-settings").startswith("500 replicas, seed 20250516")
    field = rc.find(v.TextField, label="replicas (negotiations side by side)").widget
    field.v_model = "7"
    field.fire_event("keyup.enter", None)
    rc.find(v.Btn, children=["Reset"]).widget.click()
    assert shown("cf-settings").startswith("7 replicas, seed 20250516")
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert shown("cf-round") == "Rounds played: 1 of 12"
    assert not rc.find(v.Alert).widgets  # neither Mesa's error line nor the page's message
    rc.close()


def test_convergence_before_the_first_round_shows_the_opening_positions() -> None:
    """Before round 1 the convergence card shows the opening positions (markers, not an empty axis); after it, the rounds."""
    model = NegotiationModel(compile_batch(with_overrides(load_scenario(BASELINE), replicas=20)))
    opening = convergence(model)
    assert "opening positions before round 1 (median and interquartile range over 20 replicas)" in opening.get_suptitle()
    assert all(ax.containers for ax in opening.axes)  # a marker with its interquartile range per party and series
    model.step()
    assert "convergence of offers" in convergence(model).get_suptitle()
