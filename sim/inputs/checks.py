"""Checks of a scenario that span blocks (names that must exist, evidence ids, ideals in
range, rounds of events) and of its evidence file (each quote on its stated line).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Any

from sim.errors import Problem, shorten
from sim.inputs.salvage import Failures
from sim.inputs.schema import MAX_CANDIDATES, MAX_RUN_CELLS, MAX_TRACE_CELLS, SALIENCE_RATIO, Basis, Scenario
from sim.inputs.yamlfile import HINT_LENGTH, describe, known, problem_at

HINTS_AMONG = 500
"""Did-you-mean hints are looked for among at most this many names (difflib is slow)..."""
HINTS = 100
"""... and for at most this many unknown names of one file."""
LISTED = 12
"""An unknown name's message lists the names allowed, if at most this many; else the nearest."""


def cross_check(
    s: Scenario,
    file: str,
    lines: dict[tuple[Any, ...], int],
    evidence: dict[str, dict[str, Any]] | None,
    failed: Failures | None = None,
) -> list[Problem]:
    """Checks that span blocks: names that must exist, evidence ids, ideals in range.

    ``s`` may be a partial scenario (``sim.inputs.salvage``) with the key paths that failed
    the schema in ``failed``: a check that reads a value that failed does not run, so a
    problem the schema reported is not reported again as what follows from it.
    """
    failed = failed or Failures()
    out: list[Problem] = []
    unsure = {n for n in s.parties if failed(("parties", n, "role"))}  # could be any role

    def need(name: Any, names: Collection[str], path: tuple[Any, ...], what: str, source: tuple[Any, ...] = ()) -> None:
        """``name`` (at ``path``) must be one of ``names``, unless it failed the schema,
        ``names`` come from a block (``source``) that failed as a whole, or it is a party of unsure role."""
        if name is None or failed(path) or (source and failed.whole(source)) or name in names:
            return
        if source == ("parties",) and name in unsure:
            return
        hinted = len(out) < HINTS and len(names) <= HINTS_AMONG and isinstance(name, str) and len(name) <= HINT_LENGTH
        near = difflib.get_close_matches(name, list(names), n=3) if hinted else []
        found = describe(name) + (f" (did you mean {shorten(near[0], 40)!r}?)" if near else "")
        if not names:
            among = "none stated"
        elif near and len(names) > LISTED:  # the names a listing would show first may be far from it
            among = f"nearest: {known(near)}; {len(names):,} in all"
        else:
            among = known(names, most=LISTED)
        out.append(problem_at(file, lines, path, f"{what} ({among})", found))

    def basis(b: Basis | None, path: tuple[Any, ...]) -> None:
        if evidence is None or b is None or failed((*path, "evidence")):  # no evidence to check against: reported already
            return
        for i, ref in enumerate(b.evidence):
            need(ref, evidence, (*path, "evidence", i), "an evidence id from the evidence file")

    issues = s.issues
    parties = s.parties
    groups = s.agenda
    seen: dict[str, str] = {}
    for group, members in groups.items():
        if members is None:
            continue
        if not members:
            out.append(problem_at(file, lines, ("agenda", group), "at least one issue", "an empty list"))
        for i, issue in enumerate(members):
            if issue is None:
                continue
            need(issue, issues, ("agenda", group, i), "an issue name", ("issues",))
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
    out.extend(_candidates(s, file, lines, failed))
    out.extend(_agenda_rules(s, file, lines, need, failed))
    if not failed(("agenda",)):
        for issue in issues:
            if issue not in seen:
                out.append(
                    problem_at(file, lines, ("issues", issue), "every issue in an agenda group", f"{describe(issue)} in none")
                )
    belligerents = s.belligerents
    if len(belligerents) < 2 and not unsure and not failed.whole(("parties",)):
        out.append(problem_at(file, lines, ("parties",), "at least two parties with role belligerent", f"{len(belligerents)}"))
    if not any(failed(("parties", n, key)) for n in parties for key in ("role", "side")):
        out.extend(_side_problems(s, file, lines))
    path: tuple[Any, ...]
    for name, party in parties.items():
        where = ("parties", name)
        for issue, pos in (party.positions or {}).items():
            path = (*where, "positions", issue)
            need(issue, issues, path, "an issue name", ("issues",))
            basis(pos, path)
            if issue in issues and not failed((*path, "ideal")) and not failed(("issues", issue, "range")):
                lo, hi = issues[issue].range
                if not lo <= pos.ideal <= hi:
                    out.append(
                        problem_at(file, lines, (*path, "ideal"), f"a number in the issue's range [{lo}, {hi}]", f"{pos.ideal}")
                    )
            if isinstance(pos.salience, str):
                need(pos.salience, s.salience_levels, (*path, "salience"), "a salience level or a positive number",
                     ("salience_levels",))
        out.extend(_salience_ratio(s, name, file, lines, failed))
        if party.role == "belligerent" and not failed.whole((*where, "positions")) and not failed.whole(("issues",)):
            for issue in issues:
                if issue not in party.positions:
                    out.append(
                        problem_at(
                            file,
                            lines,
                            (*where, "positions"),
                            f"a position on every issue (missing {describe(issue)})",
                            "none",
                        )
                    )
        basis(party.war, (*where, "war"))
        basis(party.strategy, (*where, "strategy"))
        for i, red in enumerate(party.red_lines or []):
            path = (*where, "red_lines", i)
            need(red.issue, issues, (*path, "issue"), "an issue name", ("issues",))
            basis(red, path)
            checked = [(*path, "limit"), (*where, "positions", red.issue, "ideal"), ("issues", red.issue, "range")]
            if red.issue in issues and red.issue in (party.positions or {}) and not any(map(failed, checked)):
                uncrossable = _uncrossable(red.limit, party.positions[red.issue].ideal, issues[red.issue].range)
                if uncrossable:
                    out.append(problem_at(file, lines, (*path, "limit"), uncrossable, f"{red.limit:g}"))
        for i, com in enumerate(party.commitments or []):
            path = (*where, "commitments", i)
            need(com.issue, issues, (*path, "issue"), "an issue name", ("issues",))
            need(com.relieved_by, issues, (*path, "relieved_by"), "an issue name", ("issues",))
            basis(com, path)
        strategy = party.strategy
        if strategy is not None and strategy.type == "zeuthen" and s.protocol.type not in ("alternating_offers", None):
            out.append(
                problem_at(
                    file,
                    lines,
                    (*where, "strategy", "type"),
                    "zeuthen only with protocol alternating_offers",
                    "single_text",
                )
            )
    proto = s.protocol
    basis(proto, ("protocol",))
    need(proto.first_proposer, belligerents, ("protocol", "first_proposer"), "a belligerent", ("parties",))
    if proto.type == "single_text" and not failed(("protocol", "mediator")):
        mediators = [n for n, p in parties.items() if p.role == "mediator"]
        if proto.mediator is None:
            out.append(problem_at(file, lines, ("protocol",), "a 'mediator' for protocol single_text", "none"))
        else:
            need(proto.mediator, mediators, ("protocol", "mediator"), "a party with role mediator", ("parties",))
    for i, event in enumerate(s.events):
        path = ("events", i)
        basis(event, path)
        for j, by in enumerate(event.by or []):
            need(by, parties, (*path, "by", j), "a party name", ("parties",))
        for target in event.targets or {}:
            need(target, belligerents, (*path, "targets", target), "a belligerent", ("parties",))
        need(event.unless_agreed, groups, (*path, "unless_agreed"), "an agenda group", ("agenda",))
        if (getattr(event, "from_day", None) is not None and not failed(("protocol", "round_days"))
                and getattr(proto, "round_days", None) is None):
            out.append(problem_at(file, lines, (*path, "from_day"), "a 'round_days' in the protocol (a round's length)", "none"))
    if s.battlefield is not None:
        basis(s.battlefield, ("battlefield",))
        need(s.battlefield.favours, belligerents, ("battlefield", "favours"), "a belligerent", ("parties",))
        for issue in s.battlefield.status_quo_drift or {}:
            need(issue, issues, ("battlefield", "status_quo_drift", issue), "an issue name", ("issues",))
    basis(s.uncertainty, ("uncertainty",))
    for issue in issues:
        holders = [(n, p) for n, p in parties.items() if issue in (p.positions or {})]
        if any(failed(("parties", n, "capability")) for n, _ in holders):
            continue
        if holders and not any(p.capability > 0 for _, p in holders):
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

def _agenda_rules(s: Scenario, file: str, lines: dict[tuple[Any, ...], int], need: Any, failed: Failures) -> list[Problem]:
    """Agenda rules name agenda groups; phases form no cycle; a truce's duration is an
    issue of its own group and the protocol gives a round's length in days (of a partial
    scenario, ``sim.inputs.salvage``, only what passed the schema is read)."""
    out: list[Problem] = []
    agenda = s.agenda or {}
    rules = {g: r for g, r in (s.agenda_rules or {}).items() if r is not None}
    for group, rule in rules.items():
        path: tuple[Any, ...] = ("agenda_rules", group)
        need(group, agenda, path, "an agenda group", ("agenda",))
        for i, before in enumerate(rule.opens_after or []):
            need(before, agenda, (*path, "opens_after", i), "an agenda group", ("agenda",))
        if rule.truce is not None:
            members = agenda.get(group) or []
            need(rule.truce.duration_issue, members, (*path, "truce", "duration_issue"), f"an issue of group {group!r}",
                 ("agenda",))
            if not failed(("protocol", "round_days")) and getattr(s.protocol, "round_days", None) is None:
                out.append(problem_at(file, lines, (*path, "truce"), "a 'round_days' in the protocol (a round's length)", "none"))
    after = {g: [b for b in (rule.opens_after or []) if b in agenda] for g, rule in rules.items() if g in agenda}
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


def _group_size(s: Scenario, members: list[str] | None) -> int:
    """Candidate outcomes of one agenda group (the product of its issues' levels), counted
    no further than one past ``MAX_CANDIDATES``: never a huge number. Of a partial scenario
    (``sim.inputs.salvage``), a lower bound: an issue whose levels failed counts once."""
    size = 1
    for issue in members or []:
        levels = getattr(s.issues.get(issue), "levels", None)
        size = min(size * (levels if isinstance(levels, int) else 1), MAX_CANDIDATES + 1)
    return size


def candidate_count(s: Scenario) -> int:
    """Candidate outcomes of all agenda groups."""
    return sum(_group_size(s, members) for members in s.agenda.values())


def replicas_at_once(s: Scenario) -> int:
    """The most replicas of the scenario one run (or a sweep's task) takes: its work, replicas
    x candidates (``MAX_RUN_CELLS``), and its gathered per-round trace, replicas x groups x
    rounds (``MAX_TRACE_CELLS``), both bounded before anything is allocated."""
    return min(MAX_RUN_CELLS // max(candidate_count(s), 1), MAX_TRACE_CELLS // max(len(s.agenda) * s.protocol.rounds, 1))


def _candidates(s: Scenario, file: str, lines: dict[tuple[Any, ...], int], failed: Failures) -> list[Problem]:
    """Agenda groups with more candidate outcomes than the engine holds, then all groups
    together, then the replicas one run holds: checked before anything is allocated (of a
    partial scenario, with the lower bound of ``_group_size``: what it finds is found)."""
    out = []
    for group, members in s.agenda.items():
        if _group_size(s, members) > MAX_CANDIDATES:
            levels = [s.issues[issue].levels or 1 for issue in members if issue in s.issues]
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
    if out or any(map(failed, [("replicas",), ("protocol", "rounds"), ("agenda",)])):
        return out
    most = replicas_at_once(s)
    if s.replicas > most:
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


def _salience_ratio(s: Scenario, name: str, file: str, lines: dict[tuple[Any, ...], int], failed: Failures) -> list[Problem]:
    """Salience weights of party ``name`` smaller than ``SALIENCE_RATIO`` of its largest: so
    small a share of its utility carries no meaning and only loses precision (of a partial
    scenario, among the weights that passed: their largest is no larger than the party's)."""
    party = s.parties[name]
    weights = {
        issue: s.salience_weight(pos.salience)
        for issue, pos in (party.positions or {}).items()
        if not failed(("parties", name, "positions", issue, "salience"))
        and (not isinstance(pos.salience, str) or s.salience_levels.get(pos.salience) is not None)
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
