"""Calibration (sim.sweep.calibrate): ABC weights by hand, a deterministic model whose
posterior is known in closed form, determinism, and the forecast under a posterior."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engine import run_scenario
from sim.errors import InputError
from sim.inputs import apply_values, load_experiment, load_scenario
from sim.inputs.experiment import ObservedGroup
from sim.sweep.calibrate import Kernel, calibrate, effective_sample_size, matches, run_posterior, weighted_quantile

REPO = Path(__file__).resolve().parent.parent
PATH = "parties.ukraine.red_lines.0.cost"


def certain_scenario(folder: Path) -> Path:
    """The baseline without per-replica uncertainty: every replica plays the same talks."""
    data = yaml.safe_load((REPO / "scenarios" / "istanbul_2025.yaml").read_text(encoding="utf-8"))
    data.pop("uncertainty", None)
    data["battlefield"]["volatility"] = 0.0
    data["seed_document"] = str(REPO / "seeds" / "istanbul_2025_report.txt")
    data["evidence_file"] = str(REPO / "seeds" / "istanbul_2025_evidence.yaml")
    for event in data["events"]:
        event["credibility"] = 1.0
    path = folder / "certain.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def experiment(folder: Path, scenario: Path, *, agreed: bool, samples: int = 240, waves: int = 1) -> Path:
    """Calibrate Ukraine's territory audience cost (uniform on [0, 1]) to the security group's outcome."""
    spec = {
        "name": "known_answer",
        "question": "Which audience cost reproduces the security outcome?",
        "scenario": str(scenario),
        "parameters": {PATH: {"range": [0.0, 1.0]}},
        "design": {"method": "lhs", "samples": samples},
        "replicas": 1,
        "seed": 3,
        "metrics": ["agreement", "round", "outcome"],
        "observed": {"security": {"agreed": agreed}},
        "calibration": {"waves": waves, "min_ess": 10_000},
    }
    path = folder / "calibrate.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def threshold(scenario: Path) -> float:
    """Brute force: the audience cost above which the certain model's security group fails (bisection)."""
    base = load_scenario(scenario)

    def agreed(cost: float) -> bool:
        s = apply_values(base, {PATH: cost}, "test").model_copy(update={"replicas": 1})
        return bool(run_scenario(s).agreed_round[1, 0] >= 0)

    lo, hi = 0.0, 1.0
    assert agreed(lo) and not agreed(hi), "the test needs a threshold inside [0, 1]"
    for _ in range(14):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if agreed(mid) else (lo, mid)
    return (lo + hi) / 2


def test_matches_weights_and_ess_by_hand() -> None:
    """A run matches when every observed group does; ESS and weighted quantiles follow their formulas."""
    runs = pd.DataFrame(
        {
            "agreed.h": [True, True, True, False],
            "outcome.h.x": [1000.0, 1090.0, 1200.0, np.nan],
            "agreed.s": [False, True, False, False],
            "round.h": [1.0, 2.0, 1.0, 0.0],
        }
    )
    observed = {
        "h": ObservedGroup(agreed=True, terms={"x": {"value": 1000, "tolerance": 100}}, round={"value": 1, "tolerance": 0}),
        "s": ObservedGroup(agreed=False),
    }
    assert matches(runs, observed).tolist() == [True, False, False, False]
    assert effective_sample_size(np.array([0.5, 0.5])) == 2.0
    assert effective_sample_size(np.zeros(3)) == 0.0
    assert weighted_quantile(np.array([0.0, 10.0]), np.array([1.0, 1.0]), np.array([0.25, 0.75])).tolist() == [0.0, 10.0]


def test_kernel_density_integrates_to_one_inside_the_box() -> None:
    """The truncated kernel mixture is a density on the prior box (midpoint rule on a fine grid)."""
    kernel = Kernel.around(np.array([[0.1], [0.5], [0.95]]), np.array([0.2, 0.5, 0.3]), np.array([0.0]), np.array([1.0]))
    grid = (np.arange(20_000) + 0.5) / 20_000
    assert kernel.density(grid[:, None]).mean() == pytest.approx(1.0, abs=1e-4)
    draws = kernel.sample(500, np.random.default_rng(1))
    assert draws.min() >= 0.0 and draws.max() <= 1.0


@pytest.mark.parametrize("agreed", [False, True])
def test_deterministic_model_gives_the_truncated_prior(tmp_path: Path, agreed: bool) -> None:
    """With no per-replica randomness the outcome is a step in the audience cost at c (found by
    bisection), so the posterior is the uniform prior cut at c: no weight on the wrong side,
    median and 5%/95% quantiles those of U[c, 1] (no deal) or U[0, c] (deal)."""
    scenario = certain_scenario(tmp_path)
    c = threshold(scenario)
    report = calibrate(experiment(tmp_path, scenario, agreed=agreed), tmp_path / "cal", workers=1)
    post = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    wrong = post[PATH] < c - 1e-3 if not agreed else post[PATH] > c + 1e-3
    assert post.loc[wrong, "weight"].sum() == 0.0
    lo, hi = (c, 1.0) if not agreed else (0.0, c)
    row = report.table.loc[PATH]
    width = hi - lo
    assert row["median"] == pytest.approx(lo + 0.5 * width, abs=0.06 * width + 0.01)
    assert row["q05"] == pytest.approx(lo + 0.05 * width, abs=0.05 * width + 0.01)
    assert row["q95"] == pytest.approx(lo + 0.95 * width, abs=0.05 * width + 0.01)
    assert report.waves[0]["acceptance_rate"] == pytest.approx((1.0 - c) if not agreed else c, abs=0.05)


def test_waves_are_deterministic_and_resumable(tmp_path: Path) -> None:
    """Two waves: the same posterior for 1 and 2 workers, and again when the folder is re-run (resume)."""
    scenario = certain_scenario(tmp_path)
    exp = experiment(tmp_path, scenario, agreed=False, samples=60, waves=2)
    calibrate(exp, tmp_path / "a", workers=1)
    calibrate(exp, tmp_path / "b", workers=2)
    a = pd.read_parquet(tmp_path / "a" / "posterior.parquet")
    pd.testing.assert_frame_equal(a, pd.read_parquet(tmp_path / "b" / "posterior.parquet"), check_exact=True)
    report = calibrate(exp, tmp_path / "a", workers=1)  # every wave on disk: nothing recomputed
    assert [w["wave"] for w in report.waves] == [1, 2]
    pd.testing.assert_frame_equal(a, pd.read_parquet(tmp_path / "a" / "posterior.parquet"), check_exact=True)


def test_forecast_under_the_posterior(tmp_path: Path) -> None:
    """Each replica of a posterior forecast plays a calibrated draw: with the no-deal posterior of the
    certain model no replica agrees on security; the same seed gives the same replicas."""
    scenario = certain_scenario(tmp_path)
    calibrate(experiment(tmp_path, scenario, agreed=False, samples=80), tmp_path / "cal", workers=1)
    base = load_scenario(scenario)
    model = run_posterior(base, tmp_path / "cal", replicas=64, seed=9)
    assert not (model.agreed_round[1] >= 0).any()
    again = run_posterior(base, tmp_path / "cal", replicas=64, seed=9)
    np.testing.assert_array_equal(model.agreement, again.agreement)


def test_observed_block_errors(tmp_path: Path) -> None:
    """An observed group or issue that is not in the scenario is an input error with its line."""
    scenario = certain_scenario(tmp_path)
    path = experiment(tmp_path, scenario, agreed=True)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["observed"] = {
        "securty": {"agreed": False},
        "humanitarian": {"agreed": True, "terms": {"ceasefire": {"value": 1, "tolerance": 0}}},
    }
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_experiment(path)
    fields = [p.field for p in err.value.problems]
    assert "observed.securty" in fields and "observed.humanitarian.terms.ceasefire" in fields
    assert all(p.line for p in err.value.problems)


def test_calibrate_and_run_posterior_commands(ceasefire_exe: str, tmp_path: Path) -> None:
    """`ceasefire calibrate` writes its files and prints JSON; `ceasefire run --posterior` uses them."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    scenario = certain_scenario(tmp_path)
    exp = experiment(tmp_path, scenario, agreed=False, samples=40)
    done = subprocess.run(
        [
            ceasefire_exe,
            "calibrate",
            str(exp),
            "--out",
            str(tmp_path / "cal"),
            "--workers",
            "1",
            "--check-replicas",
            "50",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["check"]["groups"]["security"]["agreement_rate"] == 0.0 and data["check"]["matched"] > 0.0
    assert {"posterior.parquet", "posterior.csv", "calibration.json", "corner.png", "predictive.json"} <= {
        p.name for p in (tmp_path / "cal").iterdir()
    }
    run = subprocess.run(
        [ceasefire_exe, "run", str(scenario), "--replicas", "40", "--posterior", str(tmp_path / "cal"), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["groups"]["security"]["agreement_rate"] == 0.0
    bad = subprocess.run(
        [ceasefire_exe, "run", str(scenario), "--posterior", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_intervals_cover_the_true_value_at_their_stated_rate(tmp_path: Path) -> None:
    """Simulation-based calibration (Talts et al. 2018) on the stochastic baseline: draw Ukraine's
    audience cost from its prior, simulate the security outcome once from it, calibrate back.
    Rejection ABC with an exact match on a discrete outcome is the exact posterior, so its 90%
    interval holds the true value in 90% of trials: in at least 8 of 12 (binomial: a
    correct sampler fails this with probability 0.004)."""
    base = load_scenario(REPO / "scenarios" / "istanbul_2025.yaml")
    rng = np.random.default_rng(20261201)
    covered = 0
    for trial in range(12):
        truth = float(rng.uniform(0.0, 1.0))
        observed = apply_values(base, {PATH: truth}, "test").model_copy(update={"replicas": 1, "seed": 1000 + trial})
        agreed = bool(run_scenario(observed).agreed_round[1, 0] >= 0)
        spec = yaml.safe_load(experiment(tmp_path, REPO / "scenarios" / "istanbul_2025.yaml", agreed=agreed,
                                         samples=150).read_text(encoding="utf-8"))
        spec["seed"] = 2000 + trial
        path = tmp_path / f"sbc-{trial}.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        row = calibrate(path, tmp_path / f"sbc-{trial}", workers=1).table.loc[PATH]
        covered += int(row["q05"] <= truth <= row["q95"])
    assert covered >= 8, f"the 90% interval held the true value in {covered} of 12 trials"


def test_a_full_disk_is_a_message_not_a_traceback(tmp_path: Path, monkeypatch, capsys) -> None:
    """A wave that cannot be written (the disk filled) ends `ceasefire calibrate` with exit 1
    and what to do, the finished waves kept; a failed write of the posterior files likewise."""
    import errno

    import sim.sweep.calibrate as calibration
    from sim.cli.main import main
    from sim.sweep.run import SweepAbortedError

    scenario = certain_scenario(tmp_path)
    exp = experiment(tmp_path, scenario, agreed=False, samples=20)
    out = tmp_path / "cal"

    def full(*args, **kwargs):
        raise SweepAbortedError(f"ran out of disk space writing {out}/wave-1/manifest.json (No space left on device); "
                                f"finished chunks are saved in {out}/wave-1: free space, then run it again to go on")

    monkeypatch.setattr(calibration, "calibrate", full)
    assert main(["calibrate", str(exp), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "ran out of disk space" in err and f"kept in {out}: run the same command again" in err

    def unwritable(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(out / "posterior.parquet"))

    monkeypatch.setattr(calibration, "calibrate", unwritable)
    assert main(["calibrate", str(exp), "--out", str(out)]) == 1
    assert "could not write" in capsys.readouterr().err
