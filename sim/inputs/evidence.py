"""A scenario's evidence: its seed document and evidence file read and checked (each quote
on its stated line, each entry's party and issue a name or a list of names), every citation
of an evidence id listed, and a party's positions and red lines citing an entry on another
party or issue found (warnings). Checks of the scenario's own blocks are ``checks``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim.errors import InputError, Problem
from sim.inputs.schema import Basis, Scenario
from sim.inputs.yamlfile import describe, is_file, known, problem_at, read_text, read_yaml

QUOTE_SEARCHES = 100
"""Quotes not on their stated line are looked for elsewhere in the seed document for at most
this many entries of one evidence file (each search reads the whole document)."""
LINES_SHOWN = 5
"""The most other lines a message names where such a quote stands."""
TAGS = ("party", "issue")
"""The keys of an evidence entry naming what it is about: a name or a list of names (the
entry is about each)."""
STANCES = ("positions", "red_lines")
"""The blocks of a party that state its own stance: only these are checked for evidence on
another party or issue."""

Evidence = dict[str, dict[str, Any]]
Citation = tuple[tuple[Any, ...], str, str | None, tuple[str, ...]]
"""An evidence id as cited: (key path of the id, the id, the party and the issues of the number)."""


def citations(s: Scenario, hurt: Callable[[tuple[Any, ...]], bool] = lambda path: False) -> Iterator[Citation]:
    """Every evidence id the scenario cites, with the party and issues (where there are) of
    the number it backs (a commitment's are its issue and the one relieving it); ids under a
    key path ``hurt`` says failed its schema are left out."""

    def cited(b: Basis | None, path: tuple[Any, ...], party: str | None, *issues: str | None) -> Iterator[Citation]:
        if b is None or hurt((*path, "evidence")):
            return
        on = tuple(issue for issue in issues if issue is not None)
        for i, ref in enumerate(b.evidence or []):
            yield (*path, "evidence", i), ref, party, on

    for name, party in (s.parties or {}).items():
        where = ("parties", name)
        for issue, pos in (party.positions or {}).items():
            yield from cited(pos, (*where, "positions", issue), name, issue)
        yield from cited(party.war, (*where, "war"), name)
        yield from cited(party.strategy, (*where, "strategy"), name)
        for i, red in enumerate(party.red_lines or []):
            yield from cited(red, (*where, "red_lines", i), name, red.issue)
        for i, com in enumerate(party.commitments or []):
            yield from cited(com, (*where, "commitments", i), name, com.issue, com.relieved_by)
    yield from cited(s.protocol, ("protocol",), None)
    for i, event in enumerate(s.events or []):
        yield from cited(event, ("events", i), None)
    yield from cited(s.battlefield, ("battlefield",), None)
    yield from cited(s.uncertainty, ("uncertainty",), None)


def read_evidence(
    s: Scenario, base: Path, file: str, lines: dict[tuple[Any, ...], int], hurt: Callable[[tuple[Any, ...]], bool]
) -> tuple[Evidence | None, list[Problem]]:
    """The scenario's evidence entries (``None`` when they cannot be read) and the problems
    of its seed document and evidence file; ``{}`` for a scenario without either, where every
    number is an assumption (it has no traceable evidence). Paths are relative to ``base``."""
    if hurt(("seed_document",)) or hurt(("evidence_file",)):
        return None, []  # reported by the schema
    seed, kept = s.seed_document, s.evidence_file
    if seed is None or kept is None:
        cited = [c for c in citations(s, hurt) if c[1] is not None]
        missing = [key for key, value in (("seed_document", seed), ("evidence_file", kept)) if value is None]
        if not cited and len(missing) == 2:
            return {}, []
        if cited:
            first = problem_at(file, lines, cited[0][0], "", "")
            at = f"{first.field}, line {first.line}" if first.line is not None else first.field
            reason = f"for the {len(cited):,} evidence ids cited (the first at {at})"
        else:
            reason = "beside " + ("evidence_file" if kept is not None else "seed_document")
        what = {
            "seed_document": "a seed_document (the quotes' source)",
            "evidence_file": "an evidence_file (quotes from the seed document)",
        }
        return None, [problem_at(file, lines, (key,), f"{what[key]} {reason}", "none") for key in missing]
    seed_path, evidence_path = base / seed, base / kept
    if not is_file(seed_path):
        expected = "a seed document path relative to the scenario file"
        return None, [problem_at(file, lines, ("seed_document",), expected, describe(seed))]
    try:
        seed_lines = read_text(seed_path, "seed document").splitlines()
    except InputError as err:
        return None, [problem_at(file, lines, ("seed_document",), err.problems[0].expected, describe(seed))]
    if not is_file(evidence_path):
        expected = "an evidence file path relative to the scenario file"
        return None, [problem_at(file, lines, ("evidence_file",), expected, describe(kept))]
    return load_evidence(evidence_path, seed_lines)


def tags(entry: dict[str, Any], key: str) -> tuple[str, ...]:
    """The names an evidence entry's ``party`` or ``issue`` (``key``) gives: one for a
    name, each of a list's, none where the key is missing or not of that form.

    Examples
    --------
    >>> tags({"party": "dnr", "issue": ["ceasefire", "districts"]}, "issue")
    ('ceasefire', 'districts')
    >>> tags({"party": "dnr"}, "party"), tags({"party": "dnr"}, "issue")
    (('dnr',), ())
    """
    value = entry.get(key)
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(name for name in value if isinstance(name, str))
    return ()


def _tag_problems(file: str, lines: dict[tuple[Any, ...], int], key: Any, entry: dict[str, Any]) -> list[Problem]:
    """The problems of an entry's ``party`` and ``issue``: each, where given, a name or a
    non-empty list of names."""
    problems = []
    for tag in TAGS:
        value = entry.get(tag)
        path = ("entries", key, tag)
        if value is None or (isinstance(value, str) and value):
            continue
        name_of = f"{'an' if tag == 'issue' else 'a'} {tag} name"
        if not isinstance(value, list) or not value:
            problems.append(problem_at(file, lines, path, f"{name_of} or a list of {tag} names", describe(value)))
            continue
        problems.extend(
            problem_at(file, lines, (*path, i), name_of, describe(name))
            for i, name in enumerate(value)
            if not isinstance(name, str) or not name
        )
    return problems


def _lines_holding(quote: str, text: str, starts: list[int]) -> list[int]:
    """The numbers of the lines of ``text`` (line ``k`` starts at ``starts[k - 1]``) on which
    ``quote`` stands, at most ``LINES_SHOWN`` of them."""
    found: list[int] = []
    at = text.find(quote)
    while at >= 0 and len(found) < LINES_SHOWN:
        line = bisect_right(starts, at)
        if not found or found[-1] != line:
            found.append(line)
        at = text.find(quote, starts[line] if line < len(starts) else len(text))
    return found


def load_evidence(path: Path, seed_lines: list[str]) -> tuple[Evidence | None, list[Problem]]:
    """Read an evidence file and check that each quote stands on its stated line; a quote
    that stands on other lines of the seed document says which."""
    data, lines = read_yaml(path, "evidence file")
    file = str(path)
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return None, [problem_at(file, lines, ("entries",), "a mapping 'entries' of evidence ids to entries", describe(entries))]
    text = "\n".join(seed_lines)
    starts = [0]
    for seed_line in seed_lines[:-1]:
        starts.append(starts[-1] + len(seed_line) + 1)
    searches = 0
    problems = []
    for key, entry in entries.items():
        if not isinstance(entry, dict):
            problems.append(problem_at(file, lines, ("entries", key), "an entry with quote and line", describe(entry)))
            continue
        problems.extend(_tag_problems(file, lines, key, entry))
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
            found = describe(quote)
            if searches < QUOTE_SEARCHES and "\n" not in quote:
                searches += 1
                elsewhere = _lines_holding(quote, text, starts)
                if elsewhere:
                    shown = ", ".join(map(str, elsewhere)) + (" and more" if len(elsewhere) == LINES_SHOWN else "")
                    found += f" (it stands on line{'s' if len(elsewhere) > 1 else ''} {shown})"
                else:
                    found += " (on no line of the seed document)"
            problems.append(
                problem_at(
                    file, lines, ("entries", key, "quote"), f"text that stands on line {line_no} of the seed document", found
                )
            )
    return entries, problems


def _named(kind: str, names: tuple[str, ...]) -> str:
    """``party 'a'`` for one name, ``parties 'a', 'b'`` for several (``kind`` the key)."""
    if len(names) == 1:
        return f"{kind} {describe(names[0])}"
    return f"{'parties' if kind == 'party' else 'issues'} {known(map(describe, names))}"


def misattributed(s: Scenario, file: str, lines: dict[tuple[Any, ...], int], evidence: Evidence) -> list[Problem]:
    """Warnings: evidence cited on a party's position or red line (a statement of its own
    stance) whose entry is about other parties of the scenario only, or other issues of it
    only (an entry's party and issue are each a name or a list of names). Entries on no
    party or issue of the scenario ("both", "war") are never such. Other numbers may rest
    on evidence about any party, and are not checked: war beliefs and costs (a stalled
    advance of one side informs the other's belief), strategies, commitments, and the
    numbers of no party (protocol, events, battlefield, uncertainty)."""
    out = []
    for path, ref, party, issues in citations(s):
        entry = evidence.get(ref)
        if party is None or path[2] not in STANCES or not isinstance(entry, dict):
            continue
        on_party, on_issue = tags(entry, "party"), tags(entry, "issue")
        other_party = party not in on_party and any(name in s.parties for name in on_party)
        other_issue = bool(issues) and not set(issues) & set(on_issue) and any(name in s.issues for name in on_issue)
        if other_party or other_issue:
            about = describe(party) + (" on " + " or ".join(map(describe, issues)) if issues else "")
            shown = ", ".join(
                _named(key, names) if names else f"{key} {describe(entry.get(key))}"
                for key, names in (("party", on_party), ("issue", on_issue))
            )
            out.append(problem_at(file, lines, path, f"evidence about {about}", f"{describe(ref)} (an entry on {shown})"))
    return out
