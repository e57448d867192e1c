"""Concession models: Zeuthen's monotonic concession (Zeuthen 1930; Harsanyi 1956) and the
validated time-dependent target of Faratin, Sierra & Jennings (1998). The engine's
unvalidated schedule lives in ``sim.core.strategies``.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
from numpy.typing import ArrayLike

from sim.theory._checks import (
    _as_float_array,
    _check_disagreement,
    _check_finite,
    _check_int,
    _check_utilities,
)
from sim.theory.pareto import _pareto_unique_rows, _rational


def zeuthen(utilities: ArrayLike, disagreement: ArrayLike, *,
            max_steps: int | None = None) -> int | None:
    """Agreement of the Zeuthen-Harsanyi monotonic concession process (two parties).

    Zeuthen (1930), Harsanyi (1956); the protocol as in Rosenschein & Zlotkin
    (1994).  Each party's risk limit is
    ``r_i = (u_i(own) - u_i(other's)) / (u_i(own) - d_i)``; the party with the
    smaller risk limit concedes (both when equal).  With small concessions the
    process converges to the Nash bargaining solution (Harsanyi's result).

    Parameters
    ----------
    utilities : array_like, shape (K, 2)
        Utility of each outcome for the two parties.
    disagreement : array_like, shape (2,)
        Disagreement payoff of each party.
    max_steps : int, optional
        Maximum number of concession rounds; default unlimited (the process
        always ends within ``K`` rounds).

    Returns
    -------
    int or None
        Index of the agreed outcome; ``None`` if no outcome is individually
        rational, or if no agreement is reached within ``max_steps`` rounds.

    Notes
    -----
    * Offers are restricted to the individually rational, Pareto-optimal
      outcomes; duplicated utility vectors are represented by their lowest
      index.  Sorted by party 1's utility these form a chain along which
      party 1's utility falls strictly and party 2's rises strictly.
    * Opening offers: each party's best outcome (on the chain the tie "best
      for the opponent" is already resolved).
    * Each round first checks acceptance: if one party's offer is worth at
      least as much to the other as the other's own offer, it is accepted.
      If both offers are acceptable (the offers crossed after simultaneous
      concessions) the one with the larger Nash product
      ``(u_1 - d_1)(u_2 - d_2)`` is agreed, ties to the lower index.
    * Because acceptance is checked first, when risk limits are computed
      ``u_i(own) > u_i(other's) >= d_i``: the denominator is positive and
      ``r_i`` lies in ``(0, 1]``; no division by zero can occur.
    * Concession (minimal sufficient concession, Harsanyi 1956): the
      conceding party moves to the outcome it likes best among those strictly
      between its offer and the opponent's for which its risk limit would
      exceed the opponent's (so the opponent must concede next).  If no such
      outcome exists it concedes one step, to the next outcome down in its
      own utility (which improves the opponent).  When both concede, each
      concession is computed against the opponent's current offer and both
      are applied at once.

    Examples
    --------
    >>> x = [i / 10 for i in range(11)]
    >>> u = [[xi, 1 - xi] for xi in x]
    >>> zeuthen(u, [0, 0])
    5
    """
    u = _check_utilities(utilities)
    if u.shape[1] != 2:
        raise ValueError(
            f"zeuthen needs exactly two parties: utilities must have shape (K, 2); got shape {u.shape}"
        )
    d = _check_disagreement(disagreement, 2)
    if max_steps is not None:
        max_steps = _check_int("max_steps", max_steps, minimum=1)
    ir = np.flatnonzero(_rational(u, d))
    if ir.size == 0:
        return None
    front = ir[_pareto_unique_rows(u[ir])]
    # one representative (lowest index) per distinct utility vector
    _, first = np.unique(u[front], axis=0, return_index=True)
    reps = front[np.sort(first)]
    # chain: party 1's utility strictly decreasing, party 2's strictly increasing
    chain = reps[np.lexsort((u[reps, 1], -u[reps, 0]))]
    g1 = u[chain, 0] - d[0]
    g2 = u[chain, 1] - d[1]
    a, b = 0, chain.size - 1  # party 1's and party 2's current offers (chain positions)
    steps = 0
    while True:
        if a >= b:  # each offer is worth at least the own one to the other side
            if a == b:
                return int(chain[a])
            na, nb = g1[a] * g2[a], g1[b] * g2[b]
            if na > nb or (na == nb and chain[a] < chain[b]):
                return int(chain[a])
            return int(chain[b])
        if max_steps is not None and steps >= max_steps:
            return None
        steps += 1
        r1 = (g1[a] - g1[b]) / g1[a]
        r2 = (g2[b] - g2[a]) / g2[b]
        new_a, new_b = a, b
        between = np.arange(a + 1, b)
        if r1 <= r2:  # party 1 concedes
            flips = (g1[between] - g1[b]) / g1[between] > (g2[b] - g2[between]) / g2[b]
            new_a = int(between[flips][0]) if flips.any() else a + 1
        if r2 <= r1:  # party 2 concedes
            flips = (g2[between] - g2[a]) / g2[between] > (g1[a] - g1[between]) / g1[a]
            new_b = int(between[flips][-1]) if flips.any() else b - 1
        a, b = new_a, new_b


@overload
def time_dependent_target(t: float, *, p_min: float, p_max: float, e: float, k: float = 0.0) -> float: ...


@overload
def time_dependent_target(t: ArrayLike, *, p_min: ArrayLike, p_max: ArrayLike, e: ArrayLike,
                          k: ArrayLike = 0.0) -> Any: ...


def time_dependent_target(t: ArrayLike, *, p_min: ArrayLike, p_max: ArrayLike, e: ArrayLike,
                          k: ArrayLike = 0.0) -> Any:
    """Target utility of a time-dependent concession tactic.

    Faratin, Sierra & Jennings (1998), as in the GENIUS agents:
    ``P(t) = p_min + (p_max - p_min) * (1 - f(t))`` with
    ``f(t) = k + (1 - k) * t ** (1 / e)``.  ``e < 1`` is Boulware (concedes
    late; 0.2 is usual), ``e = 1`` linear, ``e > 1`` Conceder (2 is usual).
    ``e = 0`` is the Hardliner, defined here as ``f(t) = k`` for every ``t``
    including ``t = 1`` (so with ``k = 0`` it always demands ``p_max``).

    Parameters
    ----------
    t : array_like
        Normalised time in ``[0, 1]``.
    p_min, p_max : array_like
        Reservation and initial target utility, ``p_min <= p_max``.
    e : array_like
        Concession exponent, ``>= 0``.
    k : array_like, optional
        Initial concession constant in ``[0, 1]``; default 0.

    Returns
    -------
    float or numpy.ndarray
        The target utility; a float if every argument is scalar, otherwise an
        array of the broadcast shape of the arguments.

    Examples
    --------
    >>> time_dependent_target(0.5, p_min=0.5, p_max=1.0, e=1.0)
    0.75
    >>> time_dependent_target(0.5, p_min=0.5, p_max=1.0, e=0.0)
    1.0
    >>> time_dependent_target([0.0, 0.5, 1.0], p_min=0.5, p_max=1.0, e=[[0.2], [2.0]]).round(6)
    array([[1.      , 0.984375, 0.5     ],
           [1.      , 0.646447, 0.5     ]])
    """
    ta = _as_float_array("t", t)
    lo = _as_float_array("p_min", p_min)
    hi = _as_float_array("p_max", p_max)
    ea = _as_float_array("e", e)
    ka = _as_float_array("k", k)
    for name, arr in (("t", ta), ("p_min", lo), ("p_max", hi), ("e", ea), ("k", ka)):
        _check_finite(name, arr)
    for name, arr in (("t", ta), ("k", ka)):
        if ((arr < 0) | (arr > 1)).any():
            bad = arr[(arr < 0) | (arr > 1)].flat[0]
            raise ValueError(f"{name} must lie in [0, 1]; found {float(bad)!r}")
    if (ea < 0).any():
        raise ValueError(f"e must be >= 0; found {float(ea[ea < 0].flat[0])!r}")
    try:
        ta, lo, hi, ea, ka = np.broadcast_arrays(ta, lo, hi, ea, ka)
    except ValueError:
        raise ValueError(
            "t, p_min, p_max, e and k must broadcast together; got shapes "
            f"{np.shape(t)}, {np.shape(p_min)}, {np.shape(p_max)}, {np.shape(e)}, {np.shape(k)}"
        ) from None
    if (lo > hi).any():
        i = np.argwhere(lo > hi)[0]
        raise ValueError(
            f"p_min must be <= p_max; found p_min = {float(lo[tuple(i)])!r} > p_max = {float(hi[tuple(i)])!r}"
        )
    hard = ea == 0
    with np.errstate(divide="ignore", over="ignore"):
        inv_e = 1.0 / np.where(hard, 1.0, ea)
        power = ta ** inv_e
    f = np.where(hard, ka, ka + (1.0 - ka) * power)
    out = lo + (hi - lo) * (1.0 - f)
    if out.ndim == 0:
        return float(out)
    return out


