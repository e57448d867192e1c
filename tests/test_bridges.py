"""Bridges to negmas and GENIUS (sim.bridges): the same frontier and Nash point as this
project's theory layer on the bundled groups, and GENIUS files that read back to the tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.bridges import group_table, to_genius, to_negmas
from sim.errors import InputError
from sim.inputs import load_scenario
from sim.theory import individually_rational, nash_bargaining, pareto_mask

REPO = Path(__file__).resolve().parent.parent
GROUPS = [(path.stem, group) for path in sorted((REPO / "scenarios").glob("*.yaml"))
          for group in load_scenario(path).scenario.agenda]


def test_humanitarian_group_is_additive_and_security_is_not() -> None:
    """The prisoner exchange has no red line or commitment; the security group carries both."""
    s = load_scenario("istanbul_2025").scenario
    assert group_table(s, "humanitarian").additive
    assert not group_table(s, "security").additive
    with pytest.raises(InputError, match="linear-additive"):
        to_genius(group_table(s, "security"), "unused")


@pytest.mark.parametrize(("name", "group"), GROUPS, ids=[f"{n}-{g}" for n, g in GROUPS])
def test_negmas_frontier_and_nash_equal_ours(name: str, group: str) -> None:
    """negmas' Pareto frontier of the outcomes both prefer to war (as utility vectors) and its
    Nash point equal sim.theory's on the same tables (both empty where no outcome beats war)."""
    pytest.importorskip("negmas", reason="the crosscheck extra (negmas, AGPL) is not installed")
    from negmas.preferences.ops import nash_points, pareto_frontier

    table = group_table(load_scenario(name).scenario, group)
    scenario = to_negmas(table)
    outcomes = list(scenario.outcome_space.enumerate_or_sample())
    assert len(outcomes) == len(table.outcomes)
    theirs, _ = pareto_frontier(list(scenario.ufuns), outcomes=outcomes, sort_by_welfare=True)
    rational = table.utilities[individually_rational(table.utilities, table.reserved)]
    ours = rational[pareto_mask(rational)] if len(rational) else rational
    # as sets of utility vectors: negmas keeps one outcome per vector, pareto_mask every outcome on the frontier
    assert set(map(tuple, np.round(ours, 9).tolist())) == {tuple(round(v, 9) for v in u) for u in theirs}
    # negmas' nash_points treats a reserved value below a party's lowest utility as that lowest
    # utility (its ranges' minimum); the same disagreement point is given to sim.theory here
    disagreement = np.maximum(table.reserved, table.utilities.min(axis=0))
    ours_nash = nash_bargaining(table.utilities, disagreement)
    found = nash_points(list(scenario.ufuns), theirs, outcomes=outcomes)
    if ours_nash is None:  # no outcome beats war for both: negmas must find none above the reserved values
        assert all(any(u[p] < table.reserved[p] for p in range(2)) for u, _ in found) or not found
    else:
        assert found, "negmas found no Nash point where we found one"
        np.testing.assert_allclose(found[0][0], table.utilities[ours_nash], atol=1e-9)


def test_genius_files_read_back_to_the_tables(tmp_path: Path) -> None:
    """negmas reads our GENIUS domain and utility spaces back to the same utilities and reserved values."""
    pytest.importorskip("negmas", reason="the crosscheck extra (negmas, AGPL) is not installed")
    from negmas.inout import Scenario

    s = load_scenario("istanbul_2025").scenario
    table = group_table(s, "humanitarian")
    files = to_genius(table, tmp_path)
    assert [f.name for f in files] == ["domain.xml", "ukraine.xml", "russia.xml"]
    read = Scenario.from_genius_files(domain=files[0], ufuns=files[1:], safe_parsing=False)
    assert read is not None
    for p, ufun in enumerate(read.ufuns):
        got = [float(ufun(tuple(v for v in row))) for row in read.outcome_space.enumerate_or_sample()]
        np.testing.assert_allclose(sorted(got), sorted(table.utilities[:, p]), atol=1e-6)
        assert float(ufun.reserved_value) == pytest.approx(table.reserved[p])
