"""Mesa's ``Agent``, ``Model`` and ``DataCollector``, loaded without running ``mesa/__init__.py``:
the three classes the engine and the BDM model build on, and nothing else of Mesa.
A later ``import mesa`` still runs Mesa's ``__init__`` and gives these very classes.

Why: ``import mesa`` loads every part of Mesa (grids and networks with networkx, continuous
space with scipy, the batch runner, pandas): about 0.6 s, more than all the rest of a short
``ceasefire run``. The three modules ``mesa.agent``, ``mesa.model`` and ``mesa.datacollection``
need only the standard library and numpy to load, and pandas only to make tables: Mesa 3.3
imports pandas in ``mesa.datacollection``, Mesa 3.5 in ``mesa.agent`` (for a method making
agents from a table) and its experimental data recorders. ``mesa.model`` of Mesa 3.5 imports
parts of ``mesa.experimental``, whose own ``__init__`` (continuous space, scipy) is held back
as Mesa's is.

How: each package on the way (``mesa``, ``mesa.experimental``) is put in ``sys.modules`` as
its module object, made from its spec but not executed, while the three modules are
imported; then it is taken out again and a finder (``_Resume``) is left first on
``sys.meta_path``. The next ``import mesa`` asks that finder, which hands back the same
package object and runs Mesa's own ``__init__`` in it: the package keeps its attributes for
the submodules already loaded, ``__init__`` finds them in ``sys.modules``, and the finder
removes itself. Meanwhile ``import pandas`` gives a stand-in (``_PandasOnDemand``, 0.2-0.35 s
saved) that imports pandas when an attribute is first asked of it (a table, or a check
against ``pd.Series``) and then puts real pandas in each Mesa module holding it. If Mesa
was imported already, the classes are taken from it; if holding fails (a Mesa to come whose
modules need its ``__init__``), from a plain ``import mesa``. While the packages are held
(a few milliseconds, on the thread importing this module) a first ``import mesa`` or
``import pandas`` on another thread would find them not yet run: the package imports Mesa
from one thread only.

Examples
--------
>>> import mesa
>>> mesa.Agent is Agent and mesa.Model is Model and mesa.DataCollector is DataCollector
True
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

HELD = ("mesa", "mesa.experimental")
"""Packages whose ``__init__`` waits for a real ``import``, parents first."""

CORE = ("mesa.agent", "mesa.model", "mesa.datacollection")
"""The modules loaded here, in this order."""


class _Resume:
    """The finder and loader that hands each held package back to the first real import of
    it and runs the package's own ``__init__`` in it (``importlib``'s finder and loader
    protocols); it leaves ``sys.meta_path`` once every held package was imported."""

    def __init__(self, held: dict[str, tuple[ModuleType, ModuleSpec]]) -> None:
        self.held = held

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        """A spec that gives back the held package ``fullname``, or None for any other name."""
        if fullname not in self.held:
            return None
        from importlib.machinery import ModuleSpec

        original = self.held[fullname][1]
        spec = ModuleSpec(fullname, cast("Loader", self), origin=original.origin, is_package=True)
        spec.submodule_search_locations = original.submodule_search_locations
        spec.has_location = original.has_location
        spec.cached = original.cached
        return spec

    def create_module(self, spec: ModuleSpec) -> ModuleType:
        """The held package object itself, with its submodules already attached."""
        return self.held[spec.name][0]

    def exec_module(self, module: ModuleType) -> None:
        """Run the package's ``__init__`` with its own loader, then give it its own spec back."""
        original = self.held.pop(module.__name__)[1]
        if not self.held:
            sys.meta_path.remove(self)
        assert original.loader is not None
        try:
            original.loader.exec_module(module)
        finally:
            module.__spec__ = original


class _PandasOnDemand(ModuleType):
    """A module named pandas that imports pandas at the first attribute asked of it, and then
    puts the real pandas wherever Mesa's modules hold this one (``holders``)."""

    def __init__(self) -> None:
        super().__init__("pandas", "pandas, imported at the first attribute asked of it")
        self.__spec__ = None
        self.holders: list[ModuleType] = []

    def __getattr__(self, name: str) -> Any:
        if name in ("__path__", "__file__"):  # what the import system and inspect probe: no pandas needed
            raise AttributeError(name)
        if sys.modules.get("pandas") is self:
            del sys.modules["pandas"]
        import pandas

        for module in self.holders:
            for key, value in list(vars(module).items()):
                if value is self:
                    vars(module)[key] = pandas
        return getattr(pandas, name)


@contextmanager
def _pandas_held() -> Iterator[None]:
    """While Mesa's modules are imported, ``import pandas`` gives a ``_PandasOnDemand`` (unless
    pandas is loaded already); afterwards every module of Mesa holding it is its holder."""
    if "pandas" in sys.modules:
        yield
        return
    stand_in = _PandasOnDemand()
    sys.modules["pandas"] = stand_in
    try:
        yield
    finally:
        if sys.modules.get("pandas") is stand_in:
            del sys.modules["pandas"]
        stand_in.holders = [
            module
            for name, module in list(sys.modules.items())
            if (name == "mesa" or name.startswith("mesa.")) and module is not None
            and any(value is stand_in for value in vars(module).values())
        ]


def _load_held() -> bool:
    """Import the modules of ``CORE`` with the packages of ``HELD`` created but not executed,
    and leave a ``_Resume`` to run them on the first real import; False if this Mesa cannot
    be loaded so (the packages are still given back to that import, and run there in full)."""
    held: dict[str, tuple[ModuleType, ModuleSpec]] = {}
    try:
        for name in HELD:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.submodule_search_locations is None:
                break
            package = importlib.util.module_from_spec(spec)
            sys.modules[name] = package
            held[name] = (package, spec)
            parent, _, child = name.rpartition(".")
            if parent:
                setattr(sys.modules[parent], child, package)
        with _pandas_held():
            import mesa.agent

            vars(held["mesa"][0])["Agent"] = mesa.agent.Agent  # Mesa 3.5's datacollection takes it from the package
            for name in CORE[1:]:  # in this order: Mesa 3.5's model before its data collection
                importlib.import_module(name)
    except Exception:  # whatever a Mesa to come needs of its __init__: a plain import instead
        return False
    finally:
        for name in held:
            del sys.modules[name]
        if held:
            sys.meta_path.insert(0, _Resume(held))
    return True


def _load() -> tuple[ModuleType, ...]:
    """The modules of ``CORE``: as loaded already (by ``import mesa``, or here before), held
    (``_load_held``), or from a plain ``import mesa`` where holding fails."""
    loaded = "mesa" in sys.modules or all(name in sys.modules for name in CORE)
    if not loaded and not _load_held():
        importlib.import_module("mesa")
    return tuple(importlib.import_module(name) for name in CORE)


if TYPE_CHECKING:
    from mesa.agent import Agent
    from mesa.datacollection import DataCollector
    from mesa.model import Model
else:
    _agent, _model, _collection = _load()
    Agent, Model, DataCollector = _agent.Agent, _model.Model, _collection.DataCollector

__all__ = ["Agent", "DataCollector", "Model"]
