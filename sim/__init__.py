"""ceasefire-sim: a simulator and game-theory model of ceasefire negotiations.

The package holds the scenario schema, the Mesa negotiation engine with its vectorised
scoring core, bargaining-theory solutions, result tables, charts and the ``ceasefire`` CLI.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ceasefire-sim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0+unknown"

__all__ = ["__version__"]
