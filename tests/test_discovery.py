"""PRIM scenario discovery (sim.sweep.discovery): a known box is found; the command reports it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.errors import InputError
from sim.sweep.discovery import discover

pytest.importorskip("prim", reason="the discovery extra (prim) is not installed")

DATA = Path(__file__).parent / "data" / "sweeps"


def synthetic(n: int = 2000, seed: int = 5) -> pd.DataFrame:
    """A sweep-like table over three parameters where agreement holds exactly in a <= 0.4 and b >= 0.7."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((n, 3)), columns=["a", "b", "c"])
    frame["agreed.g"] = ((frame["a"] <= 0.4) & (frame["b"] >= 0.7)).astype(float)
    frame["error"] = None
    frame.attrs["parameters"] = ["a", "b", "c"]
    return frame


def test_a_density_no_step_reaches_reports_the_densest() -> None:
    """Labels without structure: no peeling step is 0.99 dense, so the densest step is the box (and says so by its density)."""
    frame = synthetic()
    frame["agreed.g"] = (np.random.default_rng(9).random(len(frame)) < 0.5).astype(float)
    found = discover(frame, "agreed.g", above=0.5, min_density=0.99)
    assert found.density < 0.99
    assert found.density == found.trajectory["density"].max()


def test_known_box_is_found() -> None:
    """The reported box restricts a and b near their true limits, leaves c free, with coverage and density near 1."""
    found = discover(synthetic(), "agreed.g", above=0.5, min_density=0.95)
    assert set(found.limits.index) == {"a", "b"}
    assert found.limits.loc["a", "max"] == pytest.approx(0.4, abs=0.03)
    assert found.limits.loc["b", "min"] == pytest.approx(0.7, abs=0.03)
    assert found.coverage >= 0.9 and found.density >= 0.95 and found.restricted == 2
    assert (found.limits["qp"] < 1e-6).all()


def test_below_finds_the_complement_rule() -> None:
    """--below looks for the points under the level: here the box's complement, so some box is still found."""
    found = discover(synthetic(), "agreed.g", below=0.5, min_density=0.9)
    assert found.rule == "agreed.g < 0.5" and found.cases == int((synthetic()["agreed.g"] < 0.5).sum())


def test_levels_that_no_point_or_every_point_passes_are_errors() -> None:
    """A level that leaves nothing to discover is an input error naming the rule."""
    with pytest.raises(InputError, match=r"no point has agreed\.g > 2"):
        discover(synthetic(), "agreed.g", above=2.0)
    with pytest.raises(InputError, match="result column"):
        discover(synthetic(), "agreed.nope", above=0.5)


def test_discover_command_on_a_sweep(ceasefire_exe: str, tmp_path: Path) -> None:
    """`ceasefire discover` on a finished grid sweep prints JSON with the box and writes its chart and tables."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    sweep = tmp_path / "s"
    done = subprocess.run(
        [ceasefire_exe, "sweep", str(DATA / "small_grid.yaml"), "--out", str(sweep), "--workers", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plots = tmp_path / "plots"
    found = subprocess.run(
        [ceasefire_exe, "discover", str(sweep), "--above", "0.3", "--out", str(plots), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert found.returncode == 0, found.stderr
    data = json.loads(found.stdout)
    assert data["rule"] == "agreed.security > 0.3" and 0 < data["cases"] < data["points"] == 8
    assert {p.name for p in plots.iterdir()} == {"trajectory.png", "box.csv", "trajectory.csv"}
    assert data["min_density_reached"] == (data["density"] >= 0.8)
    for level in ("1.01", "0", "nan"):  # not a share: bad input, not the PRIM package's ZeroDivisionError
        strict = subprocess.run(
            [ceasefire_exe, "discover", str(sweep), "--above", "0.3", "--min-density", level],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
        assert strict.returncode == 2 and "--min-density" in strict.stderr and "Traceback" not in strict.stderr, strict.stderr
    bad = subprocess.run(
        [ceasefire_exe, "discover", str(sweep), "--above", "0.3", "--metric", "agreed.nope"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "agreed.nope" in bad.stderr
