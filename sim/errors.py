"""The project's error for bad input: names file, line, field, what was expected and found.

The CLI prints ``str(error)`` on stderr and exits 2; it never shows a traceback for it.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        return f"{where}: {field}: expected {self.expected}, found {self.found}"


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
