"""ceasefire-sim: a simulator and game-theory model of ceasefire negotiations.

``import sim`` gives the small public face (``sim.api``): ``load_scenario``,
``set_values``, ``run`` (a ``Run`` with DataFrames and chart methods), ``run_sweep``,
``load_sweep`` and ``sensitivity``. They load on first use, so ``import sim`` is cheap.

Examples
--------
>>> import sim
>>> base = sim.load_scenario("istanbul_2025")
>>> threat = sim.set_values(base, {"events.sanctions.credibility": 0.9})
>>> result = sim.run(threat, replicas=200, seed=1)
>>> list(result.groups.index)
['humanitarian', 'security']
"""

from __future__ import annotations

from typing import Any

_API = ("Run", "load_scenario", "load_sweep", "run", "run_sweep", "sensitivity", "set_values")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from the installed metadata on first use, not at import
        from sim._version import __version__

        return __version__
    if name in _API:
        from sim import api

        return getattr(api, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
