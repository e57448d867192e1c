"""The ``ceasefire`` command line (``sim.cli.main``): one module per command group; nothing
below the CLI imports it.
"""

from sim.cli.main import main

__all__ = ["main"]
