"""The catalogue of bundled scenarios: where they are looked for and how a bundled name
(``istanbul_2025``) resolves to a file. Reading a file is ``sim.inputs.scenario``.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.errors import InputError, Problem, shorten

SCENARIOS_ENV = "CEASEFIRE_SCENARIOS"
"""An environment variable naming one more folder of scenarios, searched first."""


def scenario_dirs() -> list[Path]:
    """Where bundled scenarios are looked for: $CEASEFIRE_SCENARIOS, ./scenarios, the source tree."""
    dirs = []
    if os.environ.get(SCENARIOS_ENV):
        dirs.append(Path(os.environ[SCENARIOS_ENV]))
    dirs.append(Path.cwd() / "scenarios")
    dirs.append(Path(__file__).resolve().parent.parent.parent / "scenarios")
    return [d for d in dict.fromkeys(dirs) if d.is_dir()]


def bundled_scenarios() -> dict[str, Path]:
    """Every bundled scenario by name, the first folder of ``scenario_dirs`` winning."""
    found: dict[str, Path] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.yaml")):
            found.setdefault(path.stem, path)
    return found


def resolve_scenario(name: str) -> Path:
    """A scenario path, or the bundled scenario of that name (``istanbul_2025``).

    Examples
    --------
    >>> resolve_scenario("istanbul_2025").name
    'istanbul_2025.yaml'
    """
    path = Path(name)
    try:
        exists = path.exists()
    except (OSError, ValueError):  # too long a name, a NUL in it: no file, and no bundled name either
        exists = True
    if exists or path.suffix in {".yaml", ".yml"}:
        return path
    for folder in scenario_dirs():
        candidate = folder / f"{name}.yaml"
        if candidate.is_file():
            return candidate
    known = sorted(bundled_scenarios())
    expected = f"a scenario file or a bundled name ({', '.join(known)})"
    raise InputError([Problem(name, None, "scenario", expected, shorten(repr(name)))])
