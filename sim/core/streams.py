"""Per-replica random streams that do not depend on how replicas are batched.

Replica ``r`` draws from block ``r // BLOCK`` of a named stream; each block has its own
``np.random.SeedSequence`` keyed by (stream, block), so a replica's numbers depend only on
the seed, the stream name and its global index, never on R, chunking or worker count.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np

BLOCK = 1024
"""Replicas per block: each block's draws are made at once, vectorised."""

Draw = Callable[[np.random.Generator, int], np.ndarray]


def stream_key(name: str) -> int:
    """Stable integer key of a stream name (CRC-32, identical on every machine)."""
    return zlib.crc32(name.encode("utf-8"))


def replica_draws(seed: int, stream: str, start: int, stop: int, draw: Draw) -> np.ndarray:
    """Draw one stream's values for global replicas ``start .. stop-1``.

    Parameters
    ----------
    seed : int
        The root seed of the run.
    stream : str
        Name of the quantity drawn (each quantity has its own stream).
    start, stop : int
        Global replica indices, ``0 <= start < stop``.
    draw : callable
        ``draw(generator, n)`` returns an array whose first axis has length ``n``.

    Returns
    -------
    numpy.ndarray
        ``(stop - start, ...)``: row ``i`` belongs to global replica ``start + i``.

    Examples
    --------
    >>> import numpy as np
    >>> u = lambda g, n: g.random(n)
    >>> whole = replica_draws(7, "x", 0, 3000, u)
    >>> part = replica_draws(7, "x", 1500, 2100, u)
    >>> bool(np.array_equal(whole[1500:2100], part))
    True
    """
    if not 0 <= start < stop:
        raise ValueError(f"replica range must satisfy 0 <= start < stop, found {start}..{stop}")
    key = stream_key(stream)
    first, last = start // BLOCK, (stop - 1) // BLOCK
    parts = []
    for block in range(first, last + 1):
        generator = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(key, block)))
        values = draw(generator, BLOCK)
        lo = max(start, block * BLOCK) - block * BLOCK
        hi = min(stop, (block + 1) * BLOCK) - block * BLOCK
        parts.append(values[lo:hi])
    return np.concatenate(parts, axis=0)
