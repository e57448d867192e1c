"""The engine: a scenario compiled into a self-sufficient ``Batch`` (``compile``), and the
Mesa model and agents that play it round by round (``model``, ``agents``).
"""

from sim.engine.compile import compile_batch, structure_key
from sim.engine.model import NegotiationModel, run_scenario

__all__ = ["NegotiationModel", "compile_batch", "run_scenario", "structure_key"]
