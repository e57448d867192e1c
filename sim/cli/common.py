"""What every command of the ``ceasefire`` CLI shares: the exit code for bad input, the
output folder made before any work and the memory budget of a run's blocks. Nothing below
the CLI imports this package.
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


MEMORY_BUDGET_HELP = (
    "peak memory of one block of replicas, e.g. 512MiB or 2GB (default: $CEASEFIRE_MEMORY_BUDGET, else 512MiB); "
    "replicas run in blocks within it, with the same results for every size"
)


def memory_budget_option(option: str | None) -> int:
    """Bytes of ``--memory-budget`` (else of ``$CEASEFIRE_MEMORY_BUDGET``, else the default)."""
    import os

    from sim.engine.blocks import MEMORY_BUDGET_ENV, memory_budget

    try:
        return memory_budget(option)
    except ValueError:
        if option is not None:
            where, field, found = "command line", "--memory-budget", option
        else:
            where, field, found = "environment", MEMORY_BUDGET_ENV, os.environ.get(MEMORY_BUDGET_ENV, "")
        raise InputError([Problem(where, None, field, "a positive size such as 512MiB, 1GB or 600M", repr(found))]) from None
