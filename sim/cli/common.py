"""What every command of the ``ceasefire`` CLI shares: the exit code for bad input, the
output folder made before any work, and ``--quiet``/``--verbose`` (what a command prints
besides its results). Nothing below the CLI imports this package.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import IO, Any

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


def add_verbosity(parser: argparse.ArgumentParser, *, given_before: bool = False) -> None:
    """``--quiet`` and ``--verbose`` on ``parser``. On a subcommand (``given_before``) they
    default to what the options before the subcommand said, so either place works."""
    default: Any = argparse.SUPPRESS if given_before else False
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default,
        help="print only errors and the results asked for (no progress, timings or 'wrote' lines)",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default,
        help="also print timings and what was chosen, and why (on stderr)",
    )


def note(args: argparse.Namespace, message: str) -> None:
    """Print a line about the work (what was written, how long it took) unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(message)


def detail(args: argparse.Namespace, message: str) -> None:
    """Print a timing or a choice on stderr with ``--verbose``."""
    if getattr(args, "verbose", False):
        print(message, file=sys.stderr, flush=True)


def progress_stream(args: argparse.Namespace) -> IO[str] | None:
    """Where progress lines go: nowhere with ``--quiet``, else the default (stderr)."""
    return io.StringIO() if getattr(args, "quiet", False) else None
