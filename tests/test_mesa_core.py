"""Mesa's classes without ``mesa/__init__``: what a short run imports, the very same classes
after a later ``import mesa``, the page's imports after the engine's, the data collector's
tables, and the plain import where holding Mesa's ``__init__`` back fails. Each in a fresh
interpreter, since every check is about what one process imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MESA = tuple(int(part) for part in version("mesa").split(".")[:2])


def _python(code: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter from the repository root; the JSON of its last line."""
    env = {k: v for k, v in os.environ.items() if k != "CEASEFIRE_SCENARIOS"}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_run_json_imports_no_pandas_scipy_networkx_nor_mesa_init() -> None:
    """``ceasefire run istanbul_2025 --replicas 1 --json`` loads neither scipy nor networkx nor Mesa's
    ``__init__``, and no pandas (Mesa 3.5's ``mesa.agent`` imports it, and gets the stand-in); it still
    prints the run."""
    found = _python(
        """
        import contextlib, io, json, sys
        from sim.cli import main
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(["run", "istanbul_2025", "--replicas", "1", "--json"])
        loaded = {name: name in sys.modules for name in ("pandas", "scipy", "networkx", "mesa", "mesa.space")}
        print(json.dumps({"status": status, "replicas": json.loads(out.getvalue())["replicas"], **loaded}))
        """
    )
    assert found == {
        "status": 0,
        "replicas": 1,
        "pandas": False,
        "scipy": False,
        "networkx": False,
        "mesa": False,
        "mesa.space": False,
    }


def test_import_mesa_after_the_engine_gives_the_same_classes() -> None:
    """After ``import sim.engine``, ``import mesa`` runs Mesa's ``__init__`` in full and its ``Agent``,
    ``Model`` and ``DataCollector`` are the engine's; the package is as a plain import leaves it."""
    found = _python(
        """
        import json, sys
        import sim.engine
        from sim.engine.agents import Mediator, Party
        from sim.engine.model import NegotiationModel
        from sim.theory import mesa_core
        before = "mesa" in sys.modules
        import mesa
        import mesa.model, mesa.agent, mesa.datacollection, mesa.experimental
        from importlib.metadata import version
        print(json.dumps({
            "mesa before": before,
            "Agent": mesa.Agent is mesa_core.Agent is mesa.agent.Agent,
            "Model": mesa.Model is mesa_core.Model is mesa.model.Model,
            "DataCollector": mesa.DataCollector is mesa_core.DataCollector is mesa.datacollection.DataCollector,
            "subclasses": issubclass(Party, mesa.Agent) and issubclass(Mediator, mesa.Agent)
            and issubclass(NegotiationModel, mesa.Model),
            "version": mesa.__version__ == version("mesa"),
            "whole package": all(hasattr(mesa, name) for name in mesa.__all__),
            "spec": type(mesa.__spec__.loader).__name__ == "SourceFileLoader" == type(mesa.experimental.__spec__.loader).__name__,
            "finder left": any(type(f).__name__ == "_Resume" for f in sys.meta_path),
        }))
        """
    )
    assert found == {
        "mesa before": False,
        "Agent": True,
        "Model": True,
        "DataCollector": True,
        "subclasses": True,
        "version": True,
        "whole package": True,
        "spec": True,
        "finder left": False,
    }


def test_engine_after_import_mesa_takes_its_classes() -> None:
    """With Mesa imported first, the classes are Mesa's and nothing is held back."""
    found = _python(
        """
        import json, sys
        import mesa
        from sim.theory import mesa_core
        print(json.dumps({
            "same": mesa_core.Agent is mesa.Agent and mesa_core.Model is mesa.Model
            and mesa_core.DataCollector is mesa.DataCollector,
            "finder left": any(type(f).__name__ == "_Resume" for f in sys.meta_path),
        }))
        """
    )
    assert found == {"same": True, "finder left": False}


@pytest.mark.skipif(find_spec("solara") is None, reason="the app extra is not installed")
def test_page_imports_after_the_engine() -> None:
    """The page (SolaraViz, its Mesa model) imports after the engine and runs on the engine's Mesa classes."""
    found = _python(
        """
        import json, warnings
        import sim.engine
        from sim.engine.model import NegotiationModel
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"(?s).*ComponentsView", category=UserWarning)
            import sim.app.page
        import mesa
        from sim.app.session import PageModel
        model = PageModel("istanbul_2025", replicas="3", rounds="2")
        model.run_to_end()
        print(json.dumps({
            "page model": issubclass(PageModel, mesa.Model) and issubclass(NegotiationModel, mesa.Model),
            "negotiation": isinstance(model.negotiation, NegotiationModel),
            "steps": model.negotiation.steps,
            "error": model.error,
        }))
        """
    )
    assert found == {"page model": True, "negotiation": True, "steps": 2, "error": None}


def test_data_collector_tables_import_pandas_when_asked() -> None:
    """A run collects its data without pandas; its table, asked for, imports pandas and has one row per
    round played with agreement shares that only grow."""
    found = _python(
        """
        import json, sys
        from sim.engine.model import run_scenario
        from sim.inputs import load_scenario
        model = run_scenario(load_scenario("istanbul_2025").scenario.model_copy(update={"replicas": 5}))
        before = "pandas" in sys.modules
        frame = model.datacollector.get_model_vars_dataframe()
        import pandas
        import mesa.datacollection
        print(json.dumps({
            "pandas before": before,
            "rows": len(frame) == model.steps,
            "growing": bool(frame["agreed_humanitarian"].is_monotonic_increasing),
            "pd": mesa.datacollection.pd is pandas,
        }))
        """
    )
    assert found == {"pandas before": False, "rows": True, "growing": True, "pd": True}


def test_mesa_code_asking_for_pandas_gets_it() -> None:
    """Mesa's own uses of pandas work on the stand-in: ``Agent.create_agents`` checks its arguments
    against ``pd.Series`` (Mesa 3.5), which imports pandas and gives every Mesa module holding the
    stand-in the real pandas; a later ``import pandas`` is that same module."""
    found = _python(
        """
        import json, sys
        from sim.theory.mesa_core import Agent, Model
        before = "pandas" in sys.modules
        class Valued(Agent):
            def __init__(self, model, value=0):
                super().__init__(model)
                self.value = value

        model = Model(rng=1)
        agents = Valued.create_agents(model, 3)
        import pandas
        series = Valued.create_agents(model, 2, pandas.Series([1, 2]))
        stand_ins = [
            name for name, module in list(sys.modules.items())
            if name.startswith("mesa") and module is not None
            and any(type(value).__name__ == "_PandasOnDemand" for value in vars(module).values())
        ]
        print(json.dumps({
            "pandas before": before, "agents": len(agents) + len(series), "real pandas": sys.modules["pandas"] is pandas,
            "stand-ins left": stand_ins if hasattr(sys.modules["mesa.agent"], "pd") else [],  # Mesa 3.3: none held
        }))
        """
    )
    assert found == {"pandas before": False, "agents": 5, "real pandas": True, "stand-ins left": []}


def test_a_mesa_whose_model_needs_its_init_gets_a_plain_import() -> None:
    """Where ``mesa.model`` cannot be imported without Mesa's ``__init__`` (faked: it fails while the
    package has not run), the classes come from a plain ``import mesa``, the same as Mesa's own."""
    found = _python(
        """
        import json, sys

        class NeedsInit:
            def find_spec(self, name, path=None, target=None):
                package = sys.modules.get("mesa")
                if name == "mesa.model" and package is not None and not hasattr(package, "discrete_space"):
                    raise ImportError("mesa.model needs mesa/__init__ (faked)")
                return None

        sys.meta_path.insert(0, NeedsInit())
        from sim.theory import mesa_core
        import mesa
        print(json.dumps({
            "mesa run": "mesa" in sys.modules and hasattr(sys.modules["mesa"], "__version__"),
            "same": mesa_core.Model is mesa.Model and mesa_core.Agent is mesa.Agent,
            "model module": sys.modules["mesa.model"].Model is mesa.Model,
            "finder left": any(type(f).__name__ == "_Resume" for f in sys.meta_path),
        }))
        """
    )
    assert found == {"mesa run": True, "same": True, "model module": True, "finder left": False}
