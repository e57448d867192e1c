"""Checks of a scenario that span blocks (names that must exist, evidence ids, ideals in
range, rounds of events) and of its evidence file (each quote on its stated line).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from sim.errors import Problem
from sim.inputs.schema import MAX_CANDIDATES, MAX_RUN_CELLS, MAX_TRACE_CELLS, SALIENCE_RATIO, Basis, Scenario
from sim.inputs.yamlfile import describe, known, problem_at, read_yaml

HINTS_AMONG = 500
"""Did-you-mean hints are looked for among at most this many names (difflib is slow)..."""
HINTS = 100
"""... and for at most this many unknown names of one file."""


def cross_check(
    s: Scenario, file: str, lines: dict[tuple[Any, ...], int], evidence: dict[str, dict[str, Any]] | None
) -> list[Problem]:
    """Checks that span blocks: names that must exist, evidence ids, ideals in range."""
    out: list[Problem] = []

    def need(name: str, names: Collection[str], path: tuple[Any, ...], what: str) -> None:
        if name not in names:
            hinted = len(out) < HINTS and len(names) <= HINTS_AMONG
            hint = difflib.get_close_matches(name, list(names), n=1) if hinted else []
            found = describe(name) + (f" (did you mean {hint[0]!r}?)" if hint else "")
            out.append(problem_at(file, lines, path, f"{what} ({known(names)})", found))

    def basis(b: Basis, path: tuple[Any, ...]) -> None:
        if evidence is None:  # the evidence file itself is missing or broken: reported once already
            return
        for i, ref in enumerate(b.evidence):
            need(ref, evidence, (*path, "evidence", i), "an evidence id from the evidence file")

    issues = s.issues
    parties = s.parties
    groups = s.agenda
    seen: dict[str, str] = {}
    for group, members in s.agenda.items():
        if not members:
            out.append(problem_at(file, lines, ("agenda", group), "at least one issue", "an empty list"))
        for i, issue in enumerate(members):
            need(issue, issues, ("agenda", group, i), "an issue name")
            if issue in seen:
                out.append(
                    problem_at(
                        file,
                        lines,
                        ("agenda", group, i),
                        "each issue in one agenda group",
                        f"{describe(issue)} also in {describe(seen[issue])}",
                    )
                )
            seen[issue] = group
    out.extend(_candidates(s, file, lines))
    out.extend(_agenda_rules(s, file, lines, need))
    for issue in issues:
        if issue not in seen:
            out.append(problem_at(file, lines, ("issues", issue), "every issue in an agenda group", f"{describe(issue)} in none"))
    belligerents = s.belligerents
    if len(belligerents) < 2:
        out.append(problem_at(file, lines, ("parties",), "at least two parties with role belligerent", f"{len(belligerents)}"))
    out.extend(_side_problems(s, file, lines))
    path: tuple[Any, ...]
    for name, party in s.parties.items():
        for issue, pos in party.positions.items():
            path = ("parties", name, "positions", issue)
            need(issue, issues, path, "an issue name")
            basis(pos, path)
            if issue in s.issues:
                lo, hi = s.issues[issue].range
                if not lo <= pos.ideal <= hi:
                    out.append(
                        problem_at(file, lines, (*path, "ideal"), f"a number in the issue's range [{lo}, {hi}]", f"{pos.ideal}")
                    )
            if isinstance(pos.salience, str) and pos.salience not in s.salience_levels:
                need(pos.salience, s.salience_levels, (*path, "salience"), "a salience level or a positive number")
        out.extend(_salience_ratio(s, name, file, lines))
        if party.role == "belligerent":
            for issue in issues:
                if issue not in party.positions:
                    out.append(
                        problem_at(
                            file,
                            lines,
                            ("parties", name, "positions"),
                            f"a position on every issue (missing {describe(issue)})",
                            "none",
                        )
                    )
        for block in ("war", "strategy"):
            value = getattr(party, block)
            if value is not None:
                basis(value, ("parties", name, block))
        for i, red in enumerate(party.red_lines):
            path = ("parties", name, "red_lines", i)
            need(red.issue, issues, (*path, "issue"), "an issue name")
            basis(red, path)
            if red.issue in s.issues and red.issue in party.positions:
                uncrossable = _uncrossable(red.limit, party.positions[red.issue].ideal, s.issues[red.issue].range)
                if uncrossable:
                    out.append(problem_at(file, lines, (*path, "limit"), uncrossable, f"{red.limit:g}"))
        for i, com in enumerate(party.commitments):
            path = ("parties", name, "commitments", i)
            need(com.issue, issues, (*path, "issue"), "an issue name")
            if com.relieved_by is not None:
                need(com.relieved_by, issues, (*path, "relieved_by"), "an issue name")
            basis(com, path)
        if party.strategy is not None and party.strategy.type == "zeuthen" and s.protocol.type != "alternating_offers":
            out.append(
                problem_at(
                    file,
                    lines,
                    ("parties", name, "strategy", "type"),
                    "zeuthen only with protocol alternating_offers",
                    "single_text",
                )
            )
    proto = s.protocol
    basis(proto, ("protocol",))
    if proto.first_proposer is not None:
        need(proto.first_proposer, belligerents, ("protocol", "first_proposer"), "a belligerent")
    if proto.type == "single_text":
        mediators = [n for n, p in s.parties.items() if p.role == "mediator"]
        if proto.mediator is None:
            out.append(problem_at(file, lines, ("protocol",), "a 'mediator' for protocol single_text", "none"))
        else:
            need(proto.mediator, mediators, ("protocol", "mediator"), "a party with role mediator")
    for i, event in enumerate(s.events):
        path = ("events", i)
        basis(event, path)
        for j, by in enumerate(event.by):
            need(by, parties, (*path, "by", j), "a party name")
        for target in event.targets:
            need(target, belligerents, (*path, "targets", target), "a belligerent")
        need(event.unless_agreed, groups, (*path, "unless_agreed"), "an agenda group")
        if event.from_day is not None and proto.round_days is None:
            out.append(problem_at(file, lines, (*path, "from_day"), "a 'round_days' in the protocol (a round's length)", "none"))
    if s.battlefield is not None:
        basis(s.battlefield, ("battlefield",))
        need(s.battlefield.favours, belligerents, ("battlefield", "favours"), "a belligerent")
        for issue in s.battlefield.status_quo_drift:
            need(issue, issues, ("battlefield", "status_quo_drift", issue), "an issue name")
    if s.uncertainty is not None:
        basis(s.uncertainty, ("uncertainty",))
    for issue in issues:
        holders = [p for p in s.parties.values() if issue in p.positions]
        if holders and not any(p.capability > 0 for p in holders):
            out.append(
                problem_at(
                    file,
                    lines,
                    ("issues", issue),
                    "a party with a position on it and a positive capability (spatial forecasts weigh positions by it)",
                    "every capability 0",
                )
            )
    return out


def _side_problems(s: Scenario, file: str, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """Sides: only belligerents fight on one, at least two sides fight, and a side named
    after a belligerent holds that belligerent (its name cannot mean two sides)."""
    out: list[Problem] = []
    belligerents = s.belligerents
    for name, party in s.parties.items():
        if party.side is None:
            continue
        path = ("parties", name, "side")
        if party.role != "belligerent":
            out.append(problem_at(file, lines, path, "a side only on a belligerent (mediators and third parties fight on none)",
                                  f"side {party.side!r} on a {party.role}"))
        elif party.side in belligerents and s.side_of(party.side) != party.side:
            out.append(problem_at(file, lines, path, f"a side named after {party.side!r} to include {party.side!r}",
                                  f"{party.side!r} fights on side {s.side_of(party.side)!r}"))
        elif party.side in s.parties and party.side not in belligerents:
            out.append(problem_at(file, lines, path, "a side that is not named after a mediator or third party",
                                  f"{party.side!r} ({s.parties[party.side].role})"))
    if len(belligerents) >= 2 and len(s.sides) < 2:
        out.append(problem_at(file, lines, ("parties",), "belligerents on at least two sides (war is a contest between sides)",
                              f"all on side {s.sides[0]!r}"))
    return out

def _agenda_rules(s: Scenario, file: str, lines: dict[tuple[Any, ...], int], need: Any) -> list[Problem]:
    """Agenda rules name agenda groups; phases form no cycle; a truce's duration is an
    issue of its own group and the protocol gives a round's length in days."""
    out: list[Problem] = []
    for group, rule in s.agenda_rules.items():
        path: tuple[Any, ...] = ("agenda_rules", group)
        need(group, s.agenda, path, "an agenda group")
        for i, before in enumerate(rule.opens_after):
            need(before, s.agenda, (*path, "opens_after", i), "an agenda group")
        if rule.truce is not None:
            members = s.agenda.get(group, [])
            need(rule.truce.duration_issue, members, (*path, "truce", "duration_issue"), f"an issue of group {group!r}")
            if s.protocol.round_days is None:
                out.append(problem_at(file, lines, (*path, "truce"), "a 'round_days' in the protocol (a round's length)", "none"))
    after = {g: [b for b in rule.opens_after if b in s.agenda] for g, rule in s.agenda_rules.items() if g in s.agenda}
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(g: str, trail: list[str]) -> None:
        state[g] = 1
        for before in after.get(g, []):
            if state.get(before) == 1:
                cycle = [*trail[trail.index(before):], before] if before in trail else [g, before]
                out.append(problem_at(file, lines, ("agenda_rules", g, "opens_after"), "phases without a cycle",
                                      " -> ".join(cycle)))
            elif before not in state:
                walk(before, [*trail, before])
        state[g] = 2

    for g in after:
        if g not in state:
            walk(g, [g])
    return out


def _group_size(s: Scenario, members: list[str]) -> int:
    """Candidate outcomes of one agenda group (the product of its issues' levels), counted
    no further than one past ``MAX_CANDIDATES``: never a huge number."""
    size = 1
    for issue in members:
        size = min(size * (s.issues[issue].levels if issue in s.issues else 1), MAX_CANDIDATES + 1)
    return size


def candidate_count(s: Scenario) -> int:
    """Candidate outcomes of all agenda groups."""
    return sum(_group_size(s, members) for members in s.agenda.values())


def replicas_at_once(s: Scenario) -> int:
    """The most replicas of the scenario one model holds (a run, or a sweep's task): every
    replica's utilities and trace are in memory at once, so both are bounded before any
    is allocated (``MAX_RUN_CELLS``, ``MAX_TRACE_CELLS``)."""
    return min(MAX_RUN_CELLS // max(candidate_count(s), 1), MAX_TRACE_CELLS // max(len(s.agenda) * s.protocol.rounds, 1))


def _candidates(s: Scenario, file: str, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """Agenda groups with more candidate outcomes than the engine holds, then all groups
    together, then the replicas one run holds: checked before anything is allocated."""
    out = []
    for group, members in s.agenda.items():
        if _group_size(s, members) > MAX_CANDIDATES:
            levels = [s.issues[issue].levels for issue in members if issue in s.issues]
            found = " x ".join(map(str, levels)) if len(levels) <= 12 else f"the levels of {len(levels):,} issues"
            out.append(
                problem_at(
                    file,
                    lines,
                    ("agenda", group),
                    f"an agenda group of at most {MAX_CANDIDATES:,} candidate outcomes (the product of its issues' levels)",
                    f"more: {found}",
                )
            )
    total = candidate_count(s)
    if total > MAX_CANDIDATES and not out:
        out.append(
            problem_at(
                file,
                lines,
                ("agenda",),
                f"at most {MAX_CANDIDATES:,} candidate outcomes over all agenda groups",
                f"{total:,} in {len(s.agenda):,} groups",
            )
        )
    most = replicas_at_once(s)
    if not out and s.replicas > most:
        out.append(
            problem_at(
                file,
                lines,
                ("replicas",),
                f"at most {most:,} replicas in one run of this scenario ({total:,} candidate outcomes, "
                f"{len(s.agenda):,} agenda groups, {s.protocol.rounds} rounds; a sweep runs more in chunks)",
                f"{s.replicas:,}",
            )
        )
    return out


def _salience_ratio(s: Scenario, name: str, file: str, lines: dict[tuple[Any, ...], int]) -> list[Problem]:
    """Salience weights of party ``name`` smaller than ``SALIENCE_RATIO`` of its largest: so
    small a share of its utility carries no meaning and only loses precision."""
    party = s.parties[name]
    weights = {
        issue: s.salience_weight(pos.salience)
        for issue, pos in party.positions.items()
        if not isinstance(pos.salience, str) or pos.salience in s.salience_levels
    }
    if not weights:
        return []
    largest = max(weights.values())
    return [
        problem_at(
            file,
            lines,
            ("parties", name, "positions", issue, "salience"),
            f"a salience at least {SALIENCE_RATIO:g} of the party's largest ({largest:g})",
            f"{weight:g}",
        )
        for issue, weight in weights.items()
        if weight < SALIENCE_RATIO * largest
    ]


def _uncrossable(limit: float, ideal: float, value_range: tuple[float, float]) -> str | None:
    """What a red line needs, when no position in the issue's range can cross it (else None).

    A red line is crossed by positions beyond its limit on the side away from the party's
    ideal (``sim.core.scoring.red_line_crossed``); at the ideal itself, on the side with room.
    """
    low, high = value_range
    if ideal < limit and not limit < high:
        return f"a limit below the far end of the range [{low:g}, {high:g}] (ideal {ideal:g}): no position lies beyond it"
    if ideal > limit and not limit > low:
        return f"a limit above the far end of the range [{low:g}, {high:g}] (ideal {ideal:g}): no position lies beyond it"
    return None


def load_evidence(path: Path, seed_lines: list[str]) -> tuple[dict[str, dict[str, Any]] | None, list[Problem]]:
    """Read an evidence file and check that each quote stands on its stated line."""
    data, lines = read_yaml(path, "evidence file")
    file = str(path)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return None, [problem_at(file, lines, ("entries",), "a mapping 'entries' of evidence ids to entries", describe(entries))]
    problems = []
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            problems.append(problem_at(file, lines, ("entries", key), "an entry with quote and line", describe(entry)))
            continue
        line_no = entry.get("line")
        quote = entry.get("quote")
        if not isinstance(quote, str) or not quote:
            problems.append(
                problem_at(file, lines, ("entries", key, "quote"), "a non-empty quote from the seed document", describe(quote))
            )
        elif not isinstance(line_no, int) or not 1 <= line_no <= len(seed_lines):
            problems.append(
                problem_at(
                    file,
                    lines,
                    ("entries", key, "line"),
                    f"a line number 1..{len(seed_lines)} of the seed document",
                    describe(line_no),
                )
            )
        elif quote not in seed_lines[line_no - 1]:
            problems.append(
                problem_at(
                    file,
                    lines,
                    ("entries", key, "quote"),
                    f"text that stands on line {line_no} of the seed document",
                    describe(quote),
                )
            )
    return entries, problems

