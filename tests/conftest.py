"""Shared fixtures: the repository root, a runner for the installed ``ceasefire`` command and
a watchdog that fails a test body which hangs; the property tests' deterministic profile."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parent.parent

# property tests draw the same examples on every run and machine (tests are deterministic),
# and no example database carries a failure from one run into the next
settings.register_profile("deterministic", derandomize=True, database=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (where ``scenarios/`` and ``seeds/`` are)."""
    return REPO


@pytest.fixture(scope="session")
def ceasefire_exe() -> str:
    """Path of the installed ``ceasefire`` console script (the venv's first, then PATH)."""
    name = "ceasefire.exe" if os.name == "nt" else "ceasefire"
    beside = Path(sys.executable).parent / name
    exe = str(beside) if beside.is_file() else shutil.which("ceasefire")
    if exe is None:
        pytest.fail(f"the `ceasefire` command is not installed (not in {beside.parent} nor on PATH): pip install -e .")
    return exe


@pytest.fixture(scope="session")
def cli(ceasefire_exe: str) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``ceasefire ARGS...`` in the repository root; returns the completed process."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    env["MPLBACKEND"] = "Agg"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([ceasefire_exe, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)

    return run


class WatchdogError(Exception):
    """A test body ran past its watchdog."""


@contextlib.contextmanager
def _watchdog(seconds: float = 30.0) -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise WatchdogError(f"ran past {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    # it fires again every half second: an exception raised where Python ignores it (a gc
    # callback) must not let the body run on unwatched
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.5)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def watchdog() -> Callable[..., contextlib.AbstractContextManager[None]]:
    """``with watchdog(seconds):`` fails the body with WatchdogError if it runs past
    ``seconds`` (default 30): far above what a busy machine takes, so only a hang trips it."""
    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers on this platform")
    return _watchdog


@pytest.fixture(autouse=True)
def _page_drawings_finish() -> Iterator[None]:
    """Charts a test's page draws on Solara's threads (``solara.use_thread``: daemon threads
    named "... (runner)") finish before the next test: a daemon thread still inside
    matplotlib's C++ code when the interpreter exits aborts the process (exit 134,
    "terminate called without an active exception")."""
    yield
    for thread in threading.enumerate():
        if thread.daemon and thread.name.endswith("(runner)") and thread.is_alive():
            thread.join(timeout=60)
