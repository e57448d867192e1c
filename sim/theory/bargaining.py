"""Axiomatic bargaining solutions on discrete outcome sets: Nash, Kalai-Smorodinsky,
egalitarian and utilitarian. Each returns a row index or ``None``; no dynamics here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sim.theory._checks import (
    _as_float_array,
    _check_disagreement,
    _check_finite,
    _check_utilities,
)
from sim.theory.pareto import _choose, _pareto_unique_rows, _rational


def nash_bargaining(utilities: ArrayLike, disagreement: ArrayLike, *,
                    weights: ArrayLike | None = None) -> int | None:
    """(Generalised) Nash bargaining solution on a discrete outcome set.

    Maximises the Nash product ``prod_i (u_i - d_i) ** w_i`` over the
    individually rational outcomes (Nash 1950; the asymmetric form with
    bargaining powers ``w_i`` follows Binmore, Rubinstein & Wolinsky 1986).

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each outcome for each party.
    disagreement : array_like, shape (P,)
        Disagreement payoff of each party.
    weights : array_like, shape (P,), optional
        Positive bargaining weights ``w_i``; default all ones (symmetric Nash).

    Returns
    -------
    int or None
        Index of the chosen outcome, ``None`` if no outcome has ``u >= d``.

    Notes
    -----
    The product is compared as ``sum_i w_i * log(u_i - d_i)`` to avoid under-
    and overflow.  Outcomes with a zero gain for some party have product 0;
    they are chosen only when no individually rational outcome gives every
    party a positive gain, and then the lowest-index one not dominated by
    another individually rational outcome is returned.

    Examples
    --------
    >>> x = [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> u = [[xi, 1 - xi] for xi in x]
    >>> nash_bargaining(u, [0, 0])
    2
    >>> nash_bargaining(u, [0, 0], weights=[3, 1])
    3
    >>> print(nash_bargaining(u, [2, 2]))
    None
    """
    u = _check_utilities(utilities)
    d = _check_disagreement(disagreement, u.shape[1])
    if weights is None:
        w = np.ones(u.shape[1])
    else:
        w = _as_float_array("weights", weights)
        if w.shape != (u.shape[1],):
            raise ValueError(
                f"weights must have shape (P,) = ({u.shape[1]},) to match utilities with "
                f"P={u.shape[1]} parties; got shape {w.shape}"
            )
        _check_finite("weights", w)
        bad = w <= 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"weights must be > 0; found weights[{i}] = {float(w[i])!r}")
    gains = u - d
    ir = np.flatnonzero(np.all(gains >= 0, axis=1))
    if ir.size == 0:
        return None
    positive = ir[np.all(gains[ir] > 0, axis=1)]
    if positive.size == 0:
        return _choose(u, ir, [])
    score = np.full(u.shape[0], -np.inf)
    score[positive] = np.log(gains[positive]) @ w
    return _choose(u, positive, [score])


def kalai_smorodinsky(utilities: ArrayLike, disagreement: ArrayLike) -> int | None:
    """Kalai-Smorodinsky solution on a discrete outcome set.

    Kalai & Smorodinsky (1975) pick the Pareto-optimal point on the segment
    from ``d`` to the ideal point ``a``, ``a_i = max u_i`` over the feasible
    outcomes with ``u >= d``.  A discrete set rarely has a point on that
    segment, so this function uses its discrete analogue: among the
    individually rational, Pareto-optimal outcomes it maximises the smallest
    normalised gain ``min_i (u_i - d_i) / (a_i - d_i)`` (on a continuous
    frontier this is the point on the segment).  Ties go to the larger sum of
    normalised gains, then to the lowest index.

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each outcome for each party.
    disagreement : array_like, shape (P,)
        Disagreement payoff of each party.

    Returns
    -------
    int or None
        Index of the chosen outcome, ``None`` if no outcome has ``u >= d``.

    Notes
    -----
    A party with ``a_i == d_i`` gets exactly ``d_i`` in every individually
    rational outcome; it is left out of the minimum and the sum (its ratio
    would be 0/0).  If that holds for every party, all individually rational
    outcomes are identical and the lowest index is returned.

    Examples
    --------
    >>> u = [[1.0, 0.0], [0.8, 0.5], [0.6, 0.9], [0.0, 1.0]]
    >>> kalai_smorodinsky(u, [0, 0])
    2
    """
    u = _check_utilities(utilities)
    d = _check_disagreement(disagreement, u.shape[1])
    ir = np.flatnonzero(_rational(u, d))
    if ir.size == 0:
        return None
    ideal = u[ir].max(axis=0)
    span = ideal - d
    active = span > 0
    if not active.any():
        return int(ir[0])
    cand = ir[_pareto_unique_rows(u[ir])]
    ratio = (u[:, active] - d[active]) / span[active]
    worst = np.full(u.shape[0], -np.inf)
    total = np.full(u.shape[0], -np.inf)
    worst[cand] = ratio[cand].min(axis=1)
    total[cand] = ratio[cand].sum(axis=1)
    return _choose(u, cand, [worst, total])


def egalitarian(utilities: ArrayLike, disagreement: ArrayLike) -> int | None:
    """Egalitarian solution on a discrete outcome set.

    Kalai (1977): the largest point with equal gains ``u_i - d_i``.  On a
    discrete set this is the individually rational outcome maximising the
    smallest gain ``min_i (u_i - d_i)`` (max-min).  Ties go to the larger sum
    of utilities (the Pareto refinement), then to the lowest index.  Unlike
    Nash and Kalai-Smorodinsky it is not invariant to rescaling one party's
    utility.

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each outcome for each party.
    disagreement : array_like, shape (P,)
        Disagreement payoff of each party.

    Returns
    -------
    int or None
        Index of the chosen outcome, ``None`` if no outcome has ``u >= d``.

    Examples
    --------
    >>> egalitarian([[1.0, 0.0], [0.7, 0.4], [0.5, 0.5], [0.5, 0.45]], [0, 0])
    2
    """
    u = _check_utilities(utilities)
    d = _check_disagreement(disagreement, u.shape[1])
    gains = u - d
    ir = np.flatnonzero(np.all(gains >= 0, axis=1))
    if ir.size == 0:
        return None
    worst = np.full(u.shape[0], -np.inf)
    total = np.full(u.shape[0], -np.inf)
    worst[ir] = gains[ir].min(axis=1)
    total[ir] = u[ir].sum(axis=1)
    return _choose(u, ir, [worst, total])


def utilitarian(utilities: ArrayLike, disagreement: ArrayLike | None = None) -> int | None:
    """Utilitarian solution: the outcome with the largest sum of utilities.

    Maximises ``sum_i u_i`` (the classical utilitarian rule, see THEORY.md),
    over all outcomes, or over the individually rational ones when a
    ``disagreement`` point is given.  The sum is often flat (splitting a pie
    with linear utilities makes every split tie), so ties go to the larger
    smallest gain ``min_i (u_i - d_i)`` (``min_i u_i`` without a disagreement
    point), then to the lowest index.  Splitting 1 with ``u1 = x``,
    ``u2 = 1 - x`` thus gives 0.5, like the other solutions.

    Parameters
    ----------
    utilities : array_like, shape (K, P)
        Utility of each outcome for each party.
    disagreement : array_like, shape (P,), optional
        If given, only outcomes with ``u >= d`` are eligible.

    Returns
    -------
    int or None
        Index of the chosen outcome; ``None`` only if ``disagreement`` is given
        and no outcome is individually rational.

    Examples
    --------
    >>> utilitarian([[1.0, 0.0], [0.6, 0.6], [0.0, 1.3]])
    2
    >>> utilitarian([[1.0, 0.0], [0.6, 0.6], [0.0, 1.3]], [0.1, 0.1])
    1
    >>> utilitarian([[1.0, 0.0], [0.75, 0.25], [0.5, 0.5], [0.0, 1.0]])
    2
    """
    u = _check_utilities(utilities)
    if disagreement is None:
        cand = np.arange(u.shape[0])
    else:
        d = _check_disagreement(disagreement, u.shape[1])
        cand = np.flatnonzero(_rational(u, d))
        if cand.size == 0:
            return None
    total = u.sum(axis=1)
    worst = (u if disagreement is None else u - d).min(axis=1)
    return _choose(u, cand, [total, worst])


