"""``ceasefire check``: each property printed with its effect, interval and verdict; exit codes."""

from __future__ import annotations

import json

import pytest

from sim.cli.main import main
from sim.statics import Finding

FEARON = "tests/data/statics/fearon.yaml"


def test_check_prints_every_property_and_exits_0(cli) -> None:
    """On a scenario where every property holds: one section per property, the counts, exit 0."""
    proc = cli("check", FEARON, "--replicas", "100")
    assert proc.returncode == 0, proc.stderr
    for prop in ("patience", "war_cost", "optimism", "power_shift", "threat", "red_line_cost", "risk_aversion"):
        assert f"\n{prop}: " in proc.stdout
    assert "95% CI" in proc.stdout
    assert proc.stdout.rstrip().endswith("0 violated, 0 not applicable")


def test_check_json(cli) -> None:
    """``--json``: one object with the counts and every finding's verdict, effect and interval."""
    proc = cli("check", FEARON, "--replicas", "60", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["replicas"] == 60 and data["counts"]["violated"] == 0
    first = data["findings"][0]
    assert {"property", "lever", "group", "measure", "expected", "verdict", "effect", "interval", "n", "reason"} <= first.keys()


def test_check_exits_1_when_a_property_is_violated(monkeypatch, capsys) -> None:
    """A violated property is printed as such and the command exits 1."""
    bad = Finding("war_cost", "A's war cost 0 -> 0.1", "settlement", "agreement rate", "does not fall", "violated",
                  -0.2, (-0.3, -0.1), 100, 20, arms={"low": 0.5, "high": 0.3})
    monkeypatch.setattr("sim.statics.check", lambda *args, **kwargs: [bad])
    assert main(["check", FEARON, "--replicas", "10"]) == 1
    out = capsys.readouterr().out
    assert "violated" in out and "1 violated" in out


def test_check_help_states_the_exit_codes(capsys) -> None:
    """The help says 0 when all hold and 1 when one is violated."""
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "0 when every property that applies holds, 1 when one is violated" in out


def test_check_bad_input_exits_2(cli) -> None:
    """A bad scenario file prints its problem with file:line and exits 2, without a traceback."""
    proc = cli("check", "tests/data/bad/red_line_never_crossed.yaml")
    assert proc.returncode == 2
    assert "red_line_never_crossed.yaml:89: parties.ukraine.red_lines[1].limit" in proc.stderr
    assert "Traceback" not in proc.stderr
