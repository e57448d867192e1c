"""Bridges to other negotiation frameworks: an agenda group at its documented positions as
utility tables (issues with their levels, each party's utility of every outcome, war payoffs
as reserved values), a negmas ``Scenario`` (negmas is AGPL: imported only when asked, never
a dependency) and GENIUS XML files where the utilities are linear-additive.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from sim.analysis import documented_batch
from sim.core.dynamics import war_payoffs
from sim.core.scoring import ideal_point_value
from sim.core.space import grid
from sim.errors import InputError, Problem
from sim.inputs.schema import Scenario


@dataclass(frozen=True)
class GroupTable:
    """One agenda group at the documented positions (replica 0 of the documented batch).

    ``levels[j]``: issue j's levels in natural units; ``outcomes`` (K, J): every candidate
    in natural units, in the engine's order; ``utilities`` (K, P); ``reserved`` (P,): each
    party's war payoff in round 1; ``weights`` (P, J) and ``evaluations[p][j]`` (L_j,): the
    additive parts, valid where ``additive`` (no red-line or commitment cost in the group).
    """

    scenario: str
    group: str
    parties: tuple[str, ...]
    issues: tuple[str, ...]
    levels: list[list[float]]
    outcomes: np.ndarray
    utilities: np.ndarray
    reserved: np.ndarray
    weights: np.ndarray
    evaluations: list[list[np.ndarray]]
    additive: bool


def group_table(scenario: Scenario, group: str) -> GroupTable:
    """The utility tables of ``group`` at the scenario's documented positions."""
    batch = documented_batch(scenario)
    names = [g.name for g in batch.groups]
    if group not in names:
        raise InputError([Problem(scenario.name, None, "group", f"an agenda group ({', '.join(names)})", repr(group))])
    g = names.index(group)
    spec = batch.groups[g]
    idx = spec.issues
    levels = [batch.space.to_natural(grid(batch.space.levels[i]), np.array([i] * batch.space.levels[i])).tolist() for i in idx]
    outcomes = batch.space.to_natural(spec.candidates, idx)
    utilities = batch.utilities[g][0].T.astype(float)
    share = batch.weights[0][:, idx] / batch.weights[0][:, idx].sum(axis=1, keepdims=True)
    rho = batch.risk_exponent[0]
    evaluations = [
        [ideal_point_value(grid(batch.space.levels[i]), np.array(batch.ideal[0, p, i]), np.array(rho[p])) for i in idx]
        for p in range(len(batch.parties))
    ]
    rebuilt = np.stack(
        [
            sum(share[p, j] * evaluations[p][j][spec.level_index[:, j]] for j in range(len(idx)))
            for p in range(len(batch.parties))
        ],
        axis=1,
    )
    additive = bool(np.allclose(rebuilt, utilities, atol=1e-6))
    reserved = war_payoffs(batch, 0)[g][0].astype(float)
    return GroupTable(
        scenario.name,
        group,
        batch.parties,
        tuple(batch.space.names[i] for i in idx),
        levels,
        outcomes,
        utilities,
        reserved,
        share,
        evaluations,
        additive,
    )


def to_negmas(table: GroupTable) -> Any:
    """A negmas ``Scenario``: categorical issues of the levels, one table utility function per
    party with its war payoff as reserved value (needs negmas installed; AGPL)."""
    try:
        from negmas import make_issue, make_os
        from negmas.inout import Scenario as NegmasScenario
        from negmas.preferences import MappingUtilityFunction
    except ImportError:
        raise InputError(
            [
                Problem(
                    "negmas", None, "negmas", "negmas installed (pip install 'ceasefire-sim[crosscheck]')", "it is not installed"
                )
            ]
        ) from None
    issues = [make_issue(values=list(levels), name=name) for name, levels in zip(table.issues, table.levels, strict=True)]
    space = make_os(issues, name=f"{table.scenario}.{table.group}")
    keys = outcome_keys(table)
    ufuns = tuple(
        MappingUtilityFunction(
            mapping=dict(zip(keys, table.utilities[:, p].tolist(), strict=True)),
            reserved_value=float(table.reserved[p]),
            outcome_space=space,
            name=party,
        )
        for p, party in enumerate(table.parties)
    )
    return NegmasScenario(outcome_space=space, ufuns=ufuns, name=f"{table.scenario}.{table.group}")


def _issue_xml(j: int, name: str, levels: list[float], evaluations: np.ndarray | None) -> list[str]:
    lines = [f'    <issue index="{j + 1}" etype="discrete" type="discrete" vtype="discrete" name={quoteattr(name)}>']
    for k, value in enumerate(levels):
        extra = f' evaluation="{float(evaluations[k]):.12g}"' if evaluations is not None else ""
        lines.append(f'      <item index="{k + 1}" value="{value:g}"{extra} />')
    lines.append("    </issue>")
    return lines


def to_genius(table: GroupTable, folder: str | Path) -> list[Path]:
    """GENIUS XML files of a linear-additive group: ``domain.xml`` and one utility space per
    party (``PARTY.xml``: issue weights, level evaluations, the war payoff as reservation
    value). A group whose red lines or commitments make utilities non-additive is refused."""
    if not table.additive:
        raise InputError(
            [
                Problem(
                    f"{table.scenario}.{table.group}",
                    None,
                    "group",
                    "a linear-additive group (no red-line or commitment cost on its issues) for GENIUS XML",
                    "utilities with red-line or commitment costs",
                )
            ]
        )
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    head = f'  <objective index="0" etype="objective" type="objective" description="" name={quoteattr(table.group)}>'
    domain = ["<negotiation_template>", f'<utility_space number_of_issues="{len(table.issues)}">', head]
    for j, name in enumerate(table.issues):
        domain += _issue_xml(j, name, table.levels[j], None)
    domain += ["  </objective>", "</utility_space>", "</negotiation_template>", ""]
    written = [out / "domain.xml"]
    written[0].write_text("\n".join(domain), encoding="utf-8")
    for p, party in enumerate(table.parties):
        lines = ["<utility_space>", head]
        for j, name in enumerate(table.issues):
            lines += _issue_xml(j, name, table.levels[j], table.evaluations[p][j])
            lines.append(f'    <weight index="{j + 1}" value="{float(table.weights[p, j]):.12g}" />')
        lines += ["  </objective>", f'  <reservation value="{float(table.reserved[p]):.12g}" />', "</utility_space>", ""]
        path = out / f"{party}.xml"
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(path)
    return written


def outcome_keys(table: GroupTable) -> list[tuple[float, ...]]:
    """Each candidate as a tuple of natural-unit values (the keys negmas' tables use)."""
    return [tuple(float(v) for v in row) for row in table.outcomes]
