"""The project's error for bad input: names file, line, field, what was expected and found.

The CLI prints ``str(error)`` on stderr and exits 2; it never shows a traceback for it.
Every text of a problem is made safe for a terminal here (control and bidi characters
escaped, over-long parts cut), so a hostile file cannot garble or flood the message.
"""

from __future__ import annotations

from dataclasses import dataclass

SHOWN = 80
"""The most characters of a value from a file that a message echoes (then an ellipsis)."""
LONGEST_PART = 400
"""The most characters of any one part of a problem (file, field, expected, found)."""


def printable(text: str, keep: str = "") -> str:
    """``text`` with every character that is not printable (controls, bidi overrides and
    other format characters, line breaks) but those in ``keep`` written as its escape, as
    ``repr`` does: nothing from a file can move the cursor, recolour or reorder a terminal.

    Examples
    --------
    >>> printable("Ukr\\u202eaine\\x1b[31m")
    'Ukr\\\\u202eaine\\\\x1b[31m'
    >>> printable("Türkiye, 1,000 prisoners\\n", keep="\\n")
    'Türkiye, 1,000 prisoners\\n'
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in keep else repr(ch)[1:-1] for ch in text)


def shorten(text: str, limit: int = SHOWN) -> str:
    """``text`` made printable and cut to ``limit`` characters, with an ellipsis and the
    length of the whole when it was longer.

    Examples
    --------
    >>> shorten("x" * 100_000, 12)
    'xxxxxxxxxxxx... (100,000 characters)'
    >>> shorten("short")
    'short'
    """
    shown = printable(text)
    if len(shown) <= limit:
        return shown
    return f"{shown[:limit]}... ({len(text):,} characters)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file."""

    file: str
    line: int | None
    field: str
    expected: str
    found: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        field = self.field or "(top level)"
        parts = (shorten(part, LONGEST_PART) for part in (where, field, self.expected, self.found))
        return "{}: {}: expected {}, found {}".format(*parts)


class InputError(Exception):
    """Bad input, with every problem found in it (at least one).

    Examples
    --------
    >>> err = InputError([Problem("a.yaml", 3, "seed", "an integer", "'x'")])
    >>> print(err)
    a.yaml:3: seed: expected an integer, found 'x'
    """

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("InputError needs at least one problem")
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
