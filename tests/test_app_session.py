"""The page's model and what the page shows of it: stepping, bad input as a message, the
status table, the evidence rows and the charts of a partly run model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from sim.app import SCENARIO_ENV
from sim.app.session import PageModel, convergence, evidence_rows, html_table, scenario_choices, status_rows, utility_space
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
