"""What every command of the ``ceasefire`` CLI shares: the exit code for bad input and the
output folder made before any work. Nothing below the CLI imports this package.
"""

from __future__ import annotations

from pathlib import Path

from sim.errors import InputError, Problem

EXIT_INPUT = 2
"""Exit status for bad input (the problems are printed, never a traceback)."""


def prepare_out(out: str | None) -> Path | None:
    """The output folder, created now so a bad path fails before any simulating."""
    if out is None:
        return None
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputError([Problem(out, None, "--out", "a folder (new or existing)", "an existing file")])
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError([Problem(out, None, "--out", "a folder that can be created", exc.strerror or str(exc))]) from None
    return path
