"""What every command of the ``ceasefire`` CLI shares: the exit code for bad input, the
output folder made before any work, the claim a command lays on the folder it writes
(never over a person's own files), ``--quiet``/``--verbose`` (what a command prints
besides its results) and the memory budget of a run's blocks. Nothing below the CLI
imports this package.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sim.errors import InputError, Problem

EXIT_INPUT = 2
"""Exit status for bad input (the problems are printed, never a traceback)."""
MARKER = ".ceasefire-run.json"
"""The file in an output folder listing what the last run of a command wrote there."""


def prepare_out(out: str | None) -> Path | None:
    """The output folder, created now so a bad path fails before any simulating."""
    if out is None:
        return None
    path = Path(out)
    try:
        if path.exists() and not path.is_dir():
            raise InputError([Problem(out, None, "--out", "a folder (new or existing)", "an existing file")])
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        found = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError([Problem(out, None, "--out", "a folder that can be created", found)]) from None
    return path


@dataclass(frozen=True)
class OutFolder:
    """An output folder claimed by ``command``, with what its last run there wrote."""

    path: Path
    command: str
    previous: tuple[str, ...]

    def writing(self, names: list[str]) -> None:
        """Say what this run is about to write (before writing it), so a run that stops half
        way leaves a folder the next run still recognises as its own."""
        self._mark(sorted({*self.previous, *names}))

    def written(self, names: list[str]) -> None:
        """Remove what the last run wrote and this one did not (a stale trace beside a new
        summary would read as this run's), and record what this run wrote."""
        for name in self.previous:
            if name not in names:
                (self.path / name).unlink(missing_ok=True)
        self._mark(sorted(names))

    def _mark(self, names: list[str]) -> None:
        from sim.results import atomic_write, json_text  # here: `ceasefire --help` loads no numpy

        data = {"command": self.command, "files": names}
        atomic_write(self.path / MARKER, lambda tmp: tmp.write_text(json_text(data, indent=2) + "\n", encoding="utf-8"))


def _previous(path: Path, command: str) -> tuple[str, ...] | None:
    """What the last run of ``command`` wrote in ``path`` by its marker, or None when the
    marker is missing, unreadable or another command's."""
    marker = path / MARKER
    try:
        if not marker.is_file() or marker.stat().st_size > 1 << 20:
            return None
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("command") != command or not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return tuple(f for f in files if f and f == Path(f).name)  # plain names in the folder, never a path out of it


def claim_out(out: str | None, command: str) -> OutFolder | None:
    """The output folder of ``command``, created now: a new or empty folder, or one holding
    only what the last run of the same command wrote there (its marker, ``MARKER``, says).

    Raises
    ------
    InputError
        When the folder holds anything else (a person's files, another command's outputs),
        naming the folder and those files: nothing of theirs is ever replaced.
    """
    path = prepare_out(out)
    if path is None:
        return None
    previous = _previous(path, command)
    ours = {MARKER, *previous} if previous is not None else set()
    theirs = sorted(name for name in os.listdir(path) if name not in ours)
    if theirs:
        from sim.inputs.yamlfile import known

        raise InputError(
            [
                Problem(
                    str(out),
                    None,
                    "--out",
                    f"a new or empty folder, or one holding only what `ceasefire {command}` wrote there",
                    f"files it did not write: {known(theirs, most=8)}",
                )
            ]
        )
    return OutFolder(path, command, previous or ())


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
MEMORY_BUDGET_HELP = (
    "peak memory of one block of replicas, e.g. 512MiB or 2GB (default: $CEASEFIRE_MEMORY_BUDGET, else 512MiB); "
    "replicas run in blocks within it, with the same results for every size"
)


def memory_budget_option(option: str | None) -> int:
    """Bytes of ``--memory-budget`` (else of ``$CEASEFIRE_MEMORY_BUDGET``, else the default)."""
    from sim.engine.blocks import MEMORY_BUDGET_ENV, memory_budget

    try:
        return memory_budget(option)
    except ValueError:
        if option is not None:
            where, field, found = "command line", "--memory-budget", option
        else:
            where, field, found = "environment", MEMORY_BUDGET_ENV, os.environ.get(MEMORY_BUDGET_ENV, "")
        raise InputError([Problem(where, None, field, "a positive size such as 512MiB, 1GB or 600M", repr(found))]) from None
