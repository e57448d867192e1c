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
