"""``ceasefire app``: bad input and a missing extra exit 2 with a message, never a traceback.
(Serving the page is ``test_app_e2e``'s part.)"""

from __future__ import annotations

import pytest

from sim import cli as cli_module
from sim.cli import app as command

BAD = "tests/data/bad/negative_cost.yaml"


def test_app_bad_scenario_exits_2(cli) -> None:
    """A bad scenario file prints the loader's problems and exits 2 before any server starts."""
    proc = cli("app", BAD, "--no-browser")
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"{BAD}:75: parties.ukraine.war.cost: expected a number >= 0.0, found -0.1"
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_app_unknown_scenario_exits_2(cli) -> None:
    """An unknown name lists the bundled scenarios and exits 2."""
    proc = cli("app", "no_such_scenario", "--no-browser")
    assert proc.returncode == 2
    assert "expected a scenario file or a bundled name" in proc.stderr and "istanbul_2025" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_app_without_the_extra_exits_2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the app extra the command says what to install and exits 2."""
    monkeypatch.setattr(command, "missing_extra", lambda: ["solara"])
    assert cli_module.main(["app", "istanbul_2025", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == 'ceasefire app needs the app extra (solara not installed): pip install -e ".[app]"'


def test_app_help(cli) -> None:
    """``app --help`` names the scenario argument and the server options."""
    proc = cli("app", "--help")
    assert proc.returncode == 0
    for option in ("[scenario]", "--host HOST", "--port PORT", "--no-browser"):
        assert option in proc.stdout
