"""``ceasefire app [SCENARIO]``: serve the interactive page (``sim.app.page``) with solara.

The scenario is checked before anything starts: a bad file prints its problems and exits
2, as every command does; so does a missing ``app`` extra, with the command to install it.
The server listens on the loopback interface unless ``--host`` says otherwise.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import warnings
from typing import Any

from sim.app import DEFAULT_SCENARIO, SCENARIO_ENV
from sim.cli.common import EXIT_INPUT

EXTRA_MODULES = ("solara", "solara_assets", "altair")
"""What ``sim.app.page`` needs beyond the package's own dependencies (the ``app`` extra)."""


def missing_extra() -> list[str]:
    """Modules of the ``app`` extra that are not installed."""
    return [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]


def register(sub: Any) -> None:
    """Add the ``app`` subcommand to the ``ceasefire`` parser's subparsers ``sub``."""
    app = sub.add_parser("app", help="serve the interactive page for students (needs the app extra)")
    app.add_argument("scenario", nargs="?", help=f"a scenario file or bundled name to show first (default: {DEFAULT_SCENARIO})")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    app.add_argument("--port", type=int, default=8765, help="port to listen on (default: 8765; 0 for any free port)")
    app.add_argument("--no-browser", action="store_true", help="do not open the page in a web browser")
    app.set_defaults(func=cmd_app)


def cmd_app(args: argparse.Namespace) -> int:
    """Check the scenario and the extra, then serve the page until interrupted."""
    from sim.inputs.catalogue import resolve_scenario
    from sim.inputs.scenario import load_scenario

    if args.scenario is not None:
        path = resolve_scenario(args.scenario)
        load_scenario(path)  # a bad file raises InputError: the CLI prints it and exits 2
        os.environ[SCENARIO_ENV] = str(path.resolve())
    missing = missing_extra()
    if missing:
        extra = 'pip install -e ".[app]"'
        print(f"ceasefire app needs the app extra ({', '.join(missing)} not installed): {extra}", file=sys.stderr)
        return EXIT_INPUT
    # read when solara's settings are imported: no usage reports to solara's makers (the hook
    # warning about Mesa's own SolaraViz code is filtered where sim.app.page imports it)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    # solara's "This website runs on Solara" badge would cover the corner of a chart
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    # served over plain http on loopback, solara falls back to samesite=lax cookies, which is
    # right here; its warning saying so would only puzzle students
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)
    from solara.__main__ import cli

    argv = ["run", "sim.app.page", "--host", args.host, "--port", str(args.port), "--production", "--no-check-version"]
    argv.append("--no-open" if args.no_browser else "--open")
    cli.main(args=argv, prog_name="ceasefire app", standalone_mode=False)
    return 0
