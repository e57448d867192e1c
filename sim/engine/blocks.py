"""Replicas in blocks sized from a memory budget, so a run's peak memory does not grow with
its replica count R: the loop ``ceasefire run``, ``analyze --simulate`` and sweep tasks use.

Each block is its own model over global replicas ``start .. stop-1``; per-replica streams
are keyed by global index, so every block size gives the same results. Combining blocks'
results is ``sim.results``' job; this module only cuts and runs.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator

from sim.engine.compile import compile_batch
from sim.engine.model import NegotiationModel
from sim.inputs.schema import Scenario
from sim.theory import mesa_core as mesa  # Mesa's own classes, without running mesa/__init__ (start-up)

DEFAULT_MEMORY_BUDGET = 512 * 2**20
"""Bytes one block of replicas may hold at its peak, unless told otherwise (512 MiB)."""

MEMORY_BUDGET_ENV = "CEASEFIRE_MEMORY_BUDGET"
"""Environment variable giving the budget when no ``--memory-budget`` option does."""

BYTES_PER_CANDIDATE = 32
"""Peak bytes per (replica, candidate) of a block with two belligerents: utilities (8),
while a frontier is built its sort keys, ranks and running maxima (built in chunks of rows),
and the compile's temporaries (measured with tracemalloc: 14 at 161,051 candidates, 27 on
the baseline's 246)."""

BYTES_PER_ROUND = 64
"""Bytes per (replica, group, round) of a block: the trace and the round's arrays."""

MAX_BLOCK = 8192
"""Replicas per block however large the budget, for a run that keeps its trace: past this the
per-round arrays leave the processor's caches and a block runs slower per replica, not
faster (measured on the baseline: 16,384 slower with a trace)."""

MAX_BLOCK_UNTRACED = 16384
"""The same for a run without a trace (``trace=False``): its rounds after the first few run on
a group's few open or unforeclosed replicas, where numpy's cost per call, paid once per block,
dominates, so larger blocks pay (measured on the baseline at R = 100,000: 16,384 about 10%
faster than 8,192 in interleaved runs; 32,768 and 100,000 no faster than 16,384)."""

_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 10**3, "kib": 2**10, "m": 2**20, "mb": 10**6, "mib": 2**20,
          "g": 2**30, "gb": 10**9, "gib": 2**30}


def parse_memory_budget(text: str | int) -> int:
    """Bytes from ``512MiB``, ``1GB``, ``600M``, ``2G`` or a plain number of bytes.

    Examples
    --------
    >>> parse_memory_budget("512MiB"), parse_memory_budget("1GB"), parse_memory_budget(4096)
    (536870912, 1000000000, 4096)
    """
    if isinstance(text, int):
        value = text
    else:
        found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", text)
        unit = found.group(2).lower() if found else None
        if found is None or unit not in _UNITS:
            raise ValueError(f"a size such as 512MiB, 1GB or 600M, found {text!r}")
        value = int(float(found.group(1)) * _UNITS[unit])
    if value < 1:
        raise ValueError(f"a positive size, found {text!r}")
    return value


def memory_budget(option: str | int | None = None) -> int:
    """The budget in bytes: the option if given, else ``$CEASEFIRE_MEMORY_BUDGET``, else 512 MiB."""
    if option is not None:
        return parse_memory_budget(option)
    env = os.environ.get(MEMORY_BUDGET_ENV)
    return parse_memory_budget(env) if env else DEFAULT_MEMORY_BUDGET


def replica_bytes(scenario: Scenario) -> int:
    """Peak bytes one replica of ``scenario`` takes in a block (see ``BYTES_PER_CANDIDATE``)."""
    candidates = sum(math.prod(scenario.issues[i].levels for i in members) for members in scenario.agenda.values())
    rounds = len(scenario.agenda) * scenario.protocol.rounds
    return candidates * BYTES_PER_CANDIDATE * len(scenario.belligerents) // 2 + rounds * BYTES_PER_ROUND


def block_size(scenario: Scenario, budget: int | None = None, trace: bool = True) -> int:
    """Replicas per block for ``scenario`` within ``budget`` bytes (default: ``memory_budget()``),
    at least 1 and at most ``MAX_BLOCK`` (``MAX_BLOCK_UNTRACED`` for models without a trace)."""
    budget = memory_budget() if budget is None else budget
    return max(1, min(MAX_BLOCK if trace else MAX_BLOCK_UNTRACED, budget // replica_bytes(scenario)))


def spans(start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
    """``(lo, hi)`` ranges of at most ``size`` covering ``start .. stop-1`` in order."""
    for lo in range(start, stop, size):
        yield lo, min(lo + size, stop)


_HEAVY = ("batch", "frontiers", "war_payoffs", "trace", "_best", "_worst", "_horizon", "_stationary_cache", "agreed_round",
          "agreement", "agreement_war", "accepted_by", "opened_round", "truce_broken", "foreclosed", "_wars", "_rows_kept",
          "_extremes", "_fronted", "_rows_wars", "_taken_wars")
"""A finished model's arrays, dropped by ``release``."""


def release(model: NegotiationModel) -> None:
    """Let a finished model go, once read: Mesa 3.3 keeps every model in ``Agent._ids``
    (mesa#3179), and a model and its agents refer to each other, so only the cycle
    collector would free it, whenever it next runs. Its arrays are dropped now instead, so
    memory stays flat from block to block without a collection per block."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)
    for name in _HEAVY:
        model.__dict__.pop(name, None)


def run_blocks(
    scenario: Scenario, *, budget: int | None = None, block: int | None = None, trace: bool = True
) -> Iterator[NegotiationModel]:
    """Finished models of the scenario's replicas, block by block in order of replica.

    ``block`` replicas each (default: ``block_size(scenario, budget, trace)``); ``trace=False``:
    models that keep no per-round trace (``NegotiationModel``). Each model is let go
    (``release``: its arrays dropped) when the next is asked for: read what you need from
    it before.
    """
    size = block_size(scenario, budget, trace) if block is None else block
    if size < 1:
        raise ValueError(f"block must be >= 1, found {size}")
    for lo, hi in spans(0, scenario.replicas, size):
        model = NegotiationModel(compile_batch(scenario, lo, hi), trace)
        model.run_model()
        yield model
        release(model)
