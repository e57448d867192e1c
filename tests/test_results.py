"""Result files: written atomically with the mode the umask gives, and JSON that is strict
RFC 8259 (NaN and infinities refused, missing values null)."""

from __future__ import annotations

import json
import math
import os
import stat
import sys
from pathlib import Path

import pytest

from sim.results import atomic_write, json_text, umask, write_json


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
@pytest.mark.parametrize("mask", [0o022, 0o027, 0o002, 0o077])
def test_atomic_write_honours_the_umask(tmp_path: Path, mask: int) -> None:
    """The file gets 0o666 less the umask, as open() would give it, not mkstemp's 0o600."""
    old = os.umask(mask)
    try:
        assert umask() == mask
        atomic_write(tmp_path / "a.txt", lambda tmp: tmp.write_text("x", encoding="utf-8"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~mask
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary left behind


def test_json_text_refuses_non_finite_numbers() -> None:
    """A NaN or an infinity is a bug to raise, never 'NaN' in a file; None is null."""
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError):
            json_text({"a": [1.0, bad]})
    assert json.loads(json_text({"b": None, "a": 0.25})) == {"a": 0.25, "b": None}


def test_write_json_matches_json_dumps(tmp_path: Path) -> None:
    """The summary file's bytes are json.dumps(indent=2, sort_keys=True) and a newline."""
    data = {"z": [1, 2.5, None], "a": {"y": "Türkiye", "b": True}}
    write_json(tmp_path / "s.json", data)
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_an_exchange_is_reported_as_a_for_b() -> None:
    """An issue stated as an exchange (prisoners one side returns for a fixed 1,900 of the
    other's) is reported beside its mean as "a for 1,900", rounded to whole units."""
    from sim.engine.model import run_scenario
    from sim.inputs import load_scenario, with_overrides
    from sim.inputs.schema import Exchange
    from sim.results import exchange_text, summary

    s = with_overrides(load_scenario("istanbul_2025"), replicas=5)
    issue = s.issues["prisoner_exchange"].model_copy(update={"exchange": Exchange(per=1900, of="prisoners")})
    s = s.model_copy(update={"issues": {**s.issues, "prisoner_exchange": issue}})
    group = summary(run_scenario(s))["groups"]["humanitarian"]
    mean = group["mean_outcome"]["prisoner_exchange"]
    assert group["exchange"] == {"prisoner_exchange": f"{round(mean):,} for 1,900"}
    assert exchange_text(33.4, 1900) == "33 for 1,900" and exchange_text(1000, 1000) == "1,000 for 1,000"
    plain = summary(run_scenario(with_overrides(load_scenario("istanbul_2025"), replicas=2)))
    assert "exchange" not in plain["groups"]["humanitarian"]
