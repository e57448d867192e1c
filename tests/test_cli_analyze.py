"""`ceasefire analyze` run as the installed command."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ceasefire() -> str:
    """Path of the installed console script."""
    found = shutil.which("ceasefire") or str(Path(sys.executable).parent / "ceasefire")
    assert Path(found).exists(), "the ceasefire command is not installed (pip install -e .)"
    return found


def test_analyze_json_and_chart(tmp_path):
    """--simulate --json --out: one JSON object with zones, solutions, distances, and a PNG."""
    out = tmp_path / "analysis"
    done = subprocess.run(
        [ceasefire(), "analyze", "istanbul_2025", "--simulate", "--replicas", "40", "--json", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["groups"]["humanitarian"]["zopa_exists"] is True
    assert data["groups"]["security"]["zopa_exists"] is False
    assert data["simulated"]["humanitarian"]["agreed"] >= 36
    assert set(data["issues"]) == {"prisoner_exchange", "ceasefire", "territory", "neutrality", "sanctions_relief"}
    assert (out / "utility_space.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_analyze_bad_scenario_exits_2_without_traceback(tmp_path):
    """A scenario that does not exist: exit 2, a message naming it, no traceback."""
    done = subprocess.run(
        [ceasefire(), "analyze", str(tmp_path / "nope.yaml")], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "nope.yaml" in done.stderr and "Traceback" not in done.stderr


def test_simulated_nash_distance_is_each_replicas_own(tmp_path):
    """The simulated line says it measures each agreement against its own replica's Nash solution
    (the security group has none at the documented positions), and its share matches a brute-force
    Nash product over that replica's candidates at the war payoffs of its agreement round."""
    import numpy as np

    from sim.engine.model import run_scenario
    from sim.inputs import load_scenario, with_overrides

    done = subprocess.run(
        [ceasefire(), "analyze", "istanbul_2025", "--simulate", "--replicas", "200"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    security = done.stdout.split("\nsecurity:")[1].split("\n\n")[0]
    assert "  nash: none" in security
    assert "each agreement in its own replica" in security
    line = next(x for x in security.splitlines() if "own Nash solution" in x)
    assert "the documented positions have none" in line
    model = run_scenario(with_overrides(load_scenario("istanbul_2025"), replicas=200))
    g = [group.name for group in model.batch.groups].index("security")
    at_nash = []
    for r in np.flatnonzero(model.agreed_round[g] >= 0):
        u = model.batch.utilities[g][r].T.astype(float)  # (K, P)
        gains = u - model.agreement_war[g, r]
        rational = (gains >= 0).all(axis=1)
        product = np.where(rational, np.prod(np.clip(gains, 0, None), axis=1), -1.0)
        at_nash.append(np.isclose(product[model.agreement[g, r]], product.max()))
    assert at_nash, "no security agreement in 200 replicas: pick more"
    assert line.endswith(f"({100 * np.mean(at_nash):.0f}% of agreements at it)")
