"""Pareto optimality, individual rationality and the tie-breaking selection every discrete
solution uses. Conventions (outcome sets ``(K, P)``, ties) are in ``sim.theory``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from sim.theory._checks import (
    _TIE_RTOL,
    BoolArray,
    FloatArray,
    IntArray,
    _check_disagreement,
    _check_utilities,
)

#: Rows compared per block in :func:`pareto_mask`.
_PARETO_BLOCK = 512
#: Upper bound on the boolean cells of one comparison chunk in :func:`pareto_mask`.
_PARETO_CHUNK_CELLS = 1 << 21

def _weakly_above(a: FloatArray, b: FloatArray) -> BoolArray:
    """``out[j, i]`` is True when ``a[j] >= b[i]`` in every column (loop over columns)."""
    out: BoolArray = a[:, None, 0] >= b[None, :, 0]
    for col in range(1, a.shape[1]):
        out &= a[:, None, col] >= b[None, :, col]
    return out


def _pareto_sorted_distinct(s: FloatArray) -> BoolArray:
    """Pareto mask of distinct rows sorted lexicographically in descending order.

    With distinct rows in that order, a row can only be dominated by an
    earlier row, and ``all(s[j] >= s[i])`` for ``j != i`` already means
    domination.  Rows are processed in blocks against the front found so far
    (domination is transitive, so comparing with front members suffices), then
    against the surviving members of their own block.
    """
    n, p = s.shape
    if p == 1:
        out = np.zeros(n, dtype=bool)
        out[0] = True
        return out
    if p == 2:
        # Sorted by u1 descending (then u2 descending), a row is dominated iff an
        # earlier row has u2 >= its u2.
        prev_max = np.maximum.accumulate(s[:, 1])
        out = np.ones(n, dtype=bool)
        out[1:] = s[1:, 1] > prev_max[:-1]
        return out
    keep = np.zeros(n, dtype=bool)
    front = np.empty((0, p))
    for start in range(0, n, _PARETO_BLOCK):
        block = s[start:start + _PARETO_BLOCK]
        alive = np.ones(block.shape[0], dtype=bool)
        step = max(1, _PARETO_CHUNK_CELLS // (block.shape[0] * p))
        for f0 in range(0, front.shape[0], step):
            alive &= ~_weakly_above(front[f0:f0 + step], block).any(axis=0)
        cand = block[alive]
        ge = _weakly_above(cand, cand)  # ge[j, i]: cand[j] >= cand[i] everywhere
        np.fill_diagonal(ge, False)
        survivors = np.flatnonzero(alive)[~ge.any(axis=0)]
        keep[start + survivors] = True
        front = np.concatenate([front, block[survivors]])
    return keep


def _pareto_unique_rows(u: FloatArray) -> BoolArray:
    """Pareto mask of validated ``u`` (shape (K, P), K >= 1); duplicates share status."""
    order = np.lexsort(u.T[::-1])[::-1]  # lexicographically descending, column 0 first
    srt = u[order]
    new_row = np.ones(srt.shape[0], dtype=bool)
    new_row[1:] = np.any(srt[1:] != srt[:-1], axis=1)
    group = np.cumsum(new_row) - 1  # id of each sorted row's distinct vector
    keep = _pareto_sorted_distinct(srt[new_row])
    mask: BoolArray = np.empty(u.shape[0], dtype=bool)
    mask[order] = keep[group]
    return mask


def pareto_mask(utilities: ArrayLike) -> BoolArray:
    """Mark the Pareto-optimal outcomes of a discrete outcome set.

    Outcome ``k`` is Pareto-optimal when no other outcome weakly dominates it,
    i.e. no outcome is ``>=`` for every party and ``>`` for at least one
    (Pareto efficiency as used by Nash 1950 and Kalai & Smorodinsky 1975).
    Identical outcomes do not dominate each other, so duplicates of a
    Pareto-optimal utility vector are all marked ``True``.

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each of the ``K`` outcomes for each of the ``P`` parties.

    Returns
    -------
    numpy.ndarray of bool, shape (K,)
        ``True`` where the outcome is Pareto-optimal.

    Raises
    ------
    ValueError
        If ``utilities`` is not a non-empty 2-D finite numeric array.

    Notes
    -----
    Rows are sorted lexicographically in descending order (``numpy.lexsort``)
    and duplicates merged, so that any dominator precedes the
    row it dominates.  For ``P == 2`` a running maximum of the second column
    decides in ``O(K log K)``.  For ``P >= 3`` rows are compared block-wise
    against the front found so far and within their block, in bounded-size
    chunks, so memory stays ``O(K)``; time is ``O(K * F)`` for a front of size
    ``F`` (small for random data).

    Examples
    --------
    >>> pareto_mask([[1, 0], [0, 1], [0.5, 0.5], [0.4, 0.4], [1, 0]]).tolist()
    [True, True, True, False, True]
    """
    u = _check_utilities(utilities)
    return _pareto_unique_rows(u)


def individually_rational(utilities: ArrayLike, disagreement: ArrayLike) -> BoolArray:
    """Mark the outcomes every party weakly prefers to disagreement.

    Outcome ``k`` is individually rational when ``u[k, i] >= d[i]`` for every
    party ``i``: the feasible set of the Nash (1950) bargaining problem is the
    part of ``S`` with ``u >= d``.

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each outcome for each party.
    disagreement : array_like, shape (P,)
        Disagreement (threat / war) payoff of each party.

    Returns
    -------
    numpy.ndarray of bool, shape (K,)
        ``True`` where the outcome is individually rational.

    Examples
    --------
    >>> individually_rational([[1, 0], [0.6, 0.4], [0.2, 0.8]], [0.3, 0.3]).tolist()
    [False, True, False]
    """
    u = _check_utilities(utilities)
    d = _check_disagreement(disagreement, u.shape[1])
    return _rational(u, d)


def _rational(u: FloatArray, d: FloatArray) -> BoolArray:
    """:func:`individually_rational` of checked arrays: ``u (K, P) >= d (P,)`` for every party."""
    mask: BoolArray = np.all(u >= d, axis=1)
    return mask


def _tied_best(values: FloatArray) -> BoolArray:
    """Mask of ``values`` within the relative tie tolerance of their maximum."""
    best = float(values.max())
    return values >= best - _TIE_RTOL * max(1.0, abs(best))


def _choose(u: FloatArray, candidates: IntArray, keys: Sequence[FloatArray]) -> int:
    """Lexicographic maximisation of ``keys`` (arrays of length K) over ``candidates``.

    Ties after the last key go to outcomes not dominated by another tied
    outcome, then to the lowest index.  ``candidates`` must be sorted ascending
    and non-empty.
    """
    idx = candidates
    for key in keys:
        idx = idx[_tied_best(key[idx])]
        if idx.size == 1:
            return int(idx[0])
    undominated = _pareto_unique_rows(u[idx])
    return int(idx[undominated][0])


