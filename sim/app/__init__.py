"""The interactive page for students: ``ceasefire app [SCENARIO]`` (Mesa's SolaraViz).

``controls`` (what can be changed and the scenario it makes) and ``session`` (the page's
model, status table, evidence and charts) need no more than the package itself;
``page`` (the page) needs the ``app`` extra, which ``command`` checks before starting it.
"""

SCENARIO_ENV = "CEASEFIRE_APP_SCENARIO"
"""Environment variable holding the scenario file ``ceasefire app`` was given (shown first)."""
DEFAULT_SCENARIO = "istanbul_2025"
"""The bundled scenario the page shows when none is given."""
