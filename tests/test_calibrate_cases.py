"""Calibration of several cases at once (sim.sweep.calibrate_cases, sim.inputs.calibration): a
known shared parameter recovered from two purpose-built cases, the narrowing a second case
brings, determinism over workers, the one-case form against the single-case one, and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.engine import run_scenario
from sim.errors import InputError
from sim.inputs import apply_values, load_scenario
from sim.inputs.calibration import expand, load_calibration, load_cases
from sim.sweep.calibrate import calibrate, run_posterior
from sim.sweep.calibrate_cases import calibrate_cases

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "statics"
TRUE_SCALE = 2.0
PRIOR = (0.0, 5.0)
COSTS = ("parties.a.war.cost", "parties.b.war.cost")


def fearon_case(folder: Path, name: str, p_a: float, p_b: float) -> Path:
    """Fearon's one-issue war without noise, events or red lines: beliefs p_a + p_b - 1 above
    common ones, so a deal needs the war costs (0.05 each, times the scale) to cover the excess."""
    data = yaml.safe_load((DATA / "fearon.yaml").read_text(encoding="utf-8"))
    data["name"] = name
    for key in ("uncertainty", "events"):
        data.pop(key)
    data["parties"]["a"].pop("red_lines")
    data["parties"]["a"]["war"]["win_probability"] = p_a
    data["parties"]["b"]["war"]["win_probability"] = p_b
    data["seed_document"] = str(DATA / "seed.txt")
    data["evidence_file"] = str(DATA / "evidence.yaml")
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


CASES = {"near": (0.6, 0.5), "far": (0.7, 0.6)}  # optimism 0.1 and 0.3


def run_at(path: Path, scale: float) -> int:
    """The agreement round (0-based, -1: none) of the certain case with its war costs scaled."""
    base = load_scenario(path)
    values = {p: scale * 0.05 for p in COSTS}
    return int(run_scenario(apply_values(base, values, "test").model_copy(update={"replicas": 1})).agreed_round[0, 0])


def threshold(path: Path) -> float:
    """Brute force: the scale of the war costs above which the certain case agrees (bisection)."""
    lo, hi = PRIOR
    assert run_at(path, lo) < 0 <= run_at(path, hi), "the test needs a threshold inside the prior"
    for _ in range(14):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if run_at(path, mid) >= 0 else (mid, hi)
    return (lo + hi) / 2


def observed_at(path: Path, scale: float) -> dict[str, object]:
    """What 'happened' in a case: its run at the true scale (agreed or not; the round if agreed)."""
    round_ = run_at(path, scale)
    if round_ < 0:
        return {"settlement": {"agreed": False}}
    return {"settlement": {"agreed": True, "round": {"value": round_ + 1, "tolerance": 0}}}


def cases_file(folder: Path, names: list[str], *, samples: int = 200, waves: int = 1, stem: str = "cases") -> Path:
    """A multi-case file: the shared scale of both sides' war costs, uniform on the prior, over the named cases."""
    cases = {}
    for name in names:
        scenario = fearon_case(folder, name, *CASES[name])
        cases[name] = {"scenario": scenario.name, "observed": observed_at(scenario, TRUE_SCALE)}
    spec = {
        "name": stem,
        "question": "Which war-cost scale reproduces every case?",
        "cases": cases,
        "parameters": {"scale": {"range": list(PRIOR), "scale": True, "paths": ["parties.*.war.cost"]}},
        "design": {"method": "lhs", "samples": samples},
        "replicas": 1,
        "seed": 11,
        "calibration": {"waves": waves, "min_ess": 10_000},
    }
    path = folder / f"{stem}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def test_shared_scale_is_recovered_and_a_second_case_narrows_it(tmp_path: Path) -> None:
    """Observations simulated at scale 2 in two cases (thresholds t_near < 2 < t_far, by bisection):
    the posterior puts no weight outside [t_near, t_far], its 90% interval holds 2, and it is
    narrower than the one of the agreeing case alone (posterior U[t_near, 5])."""
    t_near = threshold(fearon_case(tmp_path, "near", *CASES["near"]))
    t_far = threshold(fearon_case(tmp_path, "far", *CASES["far"]))
    assert t_near < TRUE_SCALE < t_far
    both = calibrate_cases(cases_file(tmp_path, ["near", "far"], stem="both"), tmp_path / "both", workers=1)
    one = calibrate_cases(cases_file(tmp_path, ["near"], stem="one"), tmp_path / "one", workers=1)
    post = pd.read_parquet(tmp_path / "both" / "posterior.parquet")
    outside = (post["scale"] < t_near - 1e-3) | (post["scale"] > t_far + 1e-3)
    assert post.loc[outside, "weight"].sum() == 0.0
    for report, hi in ((both, t_far), (one, PRIOR[1])):
        row = report.table.loc["scale"]
        assert row["q05"] <= TRUE_SCALE <= row["q95"]
        width = hi - t_near  # the posterior is the uniform prior cut to [t_near, hi]
        assert row["median"] == pytest.approx(t_near + 0.5 * width, abs=0.06 * width + 0.02)
    ratio = (both.table.loc["scale", "q95"] - both.table.loc["scale", "q05"]) / (
        one.table.loc["scale", "q95"] - one.table.loc["scale", "q05"]
    )
    assert ratio < 1.0
    assert ratio == pytest.approx((t_far - t_near) / (PRIOR[1] - t_near), abs=0.1)
    wave = both.waves[0]  # joint acceptance: the share of the prior inside [t_near, t_far]
    assert wave["acceptance_rate"] == pytest.approx((t_far - t_near) / (PRIOR[1] - PRIOR[0]), abs=0.03)
    assert wave["cases"]["near"]["acceptance_rate"] == pytest.approx((PRIOR[1] - t_near) / PRIOR[1], abs=0.03)


def test_case_folders_hold_each_case_in_its_own_numbers(tmp_path: Path) -> None:
    """DIR/cases/CASE holds the scale times the case's own costs, and a forecast under it
    reproduces that case: the near case agrees in every replica, the far case in none."""
    calibrate_cases(cases_file(tmp_path, ["near", "far"], samples=80), tmp_path / "cal", workers=1)
    post = pd.read_parquet(tmp_path / "cal" / "posterior.parquet")
    for name, agreed in (("near", True), ("far", False)):
        folder = tmp_path / "cal" / "cases" / name
        own = pd.read_parquet(folder / "posterior.parquet")
        for path in COSTS:
            np.testing.assert_allclose(own[path].to_numpy(), 0.05 * post["scale"].to_numpy(), rtol=1e-12)
        model = run_posterior(load_scenario(tmp_path / f"{name}.yaml"), folder, replicas=32, seed=5)
        assert bool((model.agreed_round[0] >= 0).all()) is agreed and bool((model.agreed_round[0] >= 0).any()) is agreed
    with pytest.raises(InputError, match="multi-case"):
        run_posterior(load_scenario(tmp_path / "near.yaml"), tmp_path / "cal", replicas=4, seed=5)


def test_same_posterior_for_one_and_two_workers_and_on_resume(tmp_path: Path) -> None:
    """Two waves over two cases: identical posteriors for 1 and 2 workers, and again on re-running the folder."""
    exp = cases_file(tmp_path, ["near", "far"], samples=40, waves=2)
    calibrate_cases(exp, tmp_path / "a", workers=1)
    calibrate_cases(exp, tmp_path / "b", workers=2)
    a = pd.read_parquet(tmp_path / "a" / "posterior.parquet")
    assert a["wave"].iloc[0] == 2
    pd.testing.assert_frame_equal(a, pd.read_parquet(tmp_path / "b" / "posterior.parquet"), check_exact=True)
    report = calibrate_cases(exp, tmp_path / "a", workers=1)  # every wave on disk: nothing recomputed
    assert [w["wave"] for w in report.waves] == [1, 2]
    pd.testing.assert_frame_equal(a, pd.read_parquet(tmp_path / "a" / "posterior.parquet"), check_exact=True)


def test_one_case_form_gives_the_single_case_posterior(tmp_path: Path) -> None:
    """A `cases:` file with one case and the experiment's seed weighs the same points as the
    single-case form of the same calibration, over two waves."""
    scenario = fearon_case(tmp_path, "near", *CASES["near"])
    common = {"question": "q", "design": {"method": "lhs", "samples": 50}, "replicas": 1, "seed": 4}
    common["calibration"] = {"waves": 2, "min_ess": 10_000}
    observed = observed_at(scenario, TRUE_SCALE)
    single = {"name": "single", "scenario": scenario.name, "observed": observed, **common}
    single["parameters"] = {"parties.a.war.cost": {"range": [0.0, 0.25]}}
    multi = {"name": "multi", "cases": {"near": {"scenario": scenario.name, "observed": observed, "seed": 4}}, **common}
    multi["parameters"] = {"parties.a.war.cost": {"range": [0.0, 0.25]}}
    for name, spec in (("single", single), ("multi", multi)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    calibrate(tmp_path / "single.yaml", tmp_path / "s", workers=1)
    calibrate_cases(load_calibration(tmp_path / "multi.yaml"), tmp_path / "m", workers=1)  # type: ignore[arg-type]
    s = pd.read_parquet(tmp_path / "s" / "posterior.parquet")
    m = pd.read_parquet(tmp_path / "m" / "posterior.parquet")
    for column in ("parties.a.war.cost", "weight"):
        np.testing.assert_array_equal(s[column].to_numpy(), m[column].to_numpy())


def test_case_specific_parameter_moves_only_its_case(tmp_path: Path) -> None:
    """A parameter bound to one case sets its path there only; the shared scale is set in both."""
    path = cases_file(tmp_path, ["near", "far"], samples=10)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["parameters"]["p_far"] = {"range": [0.55, 0.65], "cases": ["far"], "paths": ["parties.b.war.win_probability"]}
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    loaded = load_cases(path)
    near = {(b.parameter, b.path) for b in loaded.bindings["near"]}
    far = {(b.parameter, b.path) for b in loaded.bindings["far"]}
    assert near == {("scale", p) for p in COSTS}
    assert far == near | {("p_far", "parties.b.war.win_probability")}
    values = loaded.case_values("far", {"scale": 2.0, "p_far": 0.6})
    assert values == {"parties.a.war.cost": 0.1, "parties.b.war.cost": 0.1, "parties.b.war.win_probability": 0.6}
    assert loaded.cases["near"].experiment.seed != loaded.cases["far"].experiment.seed


def test_wildcards_expand_to_numbers_only() -> None:
    """`*` stands for every party (or list item) where the rest of the path is a number: mediators without a war are skipped."""
    data = load_scenario("istanbul_2025").scenario.model_dump()
    assert expand(data, "parties.*.war.cost") == ["parties.ukraine.war.cost", "parties.russia.war.cost"]
    assert expand(data, "parties.*.commitments.*.penalty") == ["parties.russia.commitments.0.penalty"]


def test_multi_case_errors_name_file_line_and_field(tmp_path: Path) -> None:
    """Unknown case names, paths that match nothing, a missing range and a group not in the
    scenario are reported at once, each with its line."""
    path = cases_file(tmp_path, ["near", "far"], samples=10)
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["parameters"]["bad_case"] = {"range": [0, 1], "cases": ["nowhere"], "paths": ["parties.a.war.cost_per_round"]}
    spec["parameters"]["bad_path"] = {"range": [0, 1], "paths": ["parties.*.war.nothing"]}
    spec["parameters"]["no_range"] = {"values": [1.0], "paths": ["parties.a.strategy.e"]}
    spec["cases"]["far"]["observed"] = {"elsewhere": {"agreed": True}}
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_cases(path)
    fields = {p.field for p in info.value.problems}
    expected = {"parameters.bad_case.cases", "parameters.bad_path.paths", "parameters.no_range", "cases.far.observed.elsewhere"}
    assert expected <= fields
    assert all(p.line is not None for p in info.value.problems)


def test_calibrate_command_on_cases(ceasefire_exe: str, tmp_path: Path) -> None:
    """`ceasefire calibrate` on a multi-case file writes the posterior, the corner plot and each case's re-run."""
    import subprocess

    exp = cases_file(tmp_path, ["near", "far"], samples=30)
    out = tmp_path / "cal"
    done = subprocess.run(
        [ceasefire_exe, "calibrate", str(exp), "--out", str(out), "--workers", "1", "--check-replicas", "16", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data["check"]["cases"]) == {"near", "far"}
    assert data["check"]["cases"]["near"]["matched"] == 1.0 and data["check"]["cases"]["far"]["matched"] == 1.0
    assert (out / "corner.png").is_file() and (out / "cases" / "far" / "posterior.csv").is_file()
    bad = subprocess.run([ceasefire_exe, "sweep", str(exp), "--out", str(tmp_path / "sw")], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "ceasefire calibrate" in bad.stderr


def test_an_empty_cases_block_says_how_many_it_needs(tmp_path: Path) -> None:
    """`cases: {}` is an input error in words ("at least 1 entry, found 0"), not pydantic's phrasing."""
    from sim.errors import InputError
    from sim.inputs.calibration import load_cases

    spec = yaml.safe_load((REPO / "experiments" / "calibration" / "war_costs_three_cases.yaml").read_text(encoding="utf-8"))
    spec["cases"] = {}
    path = tmp_path / "empty.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_cases(path)
    [problem] = [p for p in err.value.problems if p.field == "cases"]
    assert (problem.expected, problem.found) == ("at least 1 entry", "0") and problem.line is not None
