"""Shared fixtures: the repository root and a runner for the installed ``ceasefire`` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
