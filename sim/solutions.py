"""Bargaining-theory solutions, alternating offers, concession and spatial models.

Pure numpy/scipy functions; the formulas and their sources are collected in
``/work/shared/THEORY.md`` and cited in each docstring.

Conventions
-----------
* An outcome set is a ``utilities`` array of shape ``(K, P)``: row ``k`` is the
  utility vector of candidate outcome ``k`` for the ``P`` parties.  A
  ``disagreement`` point has shape ``(P,)``.
* The discrete solutions return the ``int`` row index of the chosen outcome, or
  ``None`` when no outcome is individually rational (``u >= d`` for every party).
* Ties are decided deterministically.  Scores within a relative tolerance of
  ``1e-12`` of the best count as tied (so that, e.g., two sums of logarithms
  that are equal mathematically but differ in the last bit do tie).  After the
  secondary criteria a function documents, among the outcomes still tied
  those not Pareto-dominated by another tied outcome are kept, then the
  lowest index wins.  For the monotone criteria used here a dominated
  outcome can tie with its dominator only through rounding, so in practice the
  rule is "lowest index".
* Invalid input raises ``ValueError`` naming the argument, what was expected
  and what was found.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "BDMResult",
    "bdm_expected_utility",
    "compromise",
    "egalitarian",
    "fearon_range",
    "individually_rational",
    "kalai_smorodinsky",
    "nash_bargaining",
    "pareto_mask",
    "rubinstein_share",
    "time_dependent_target",
    "utilitarian",
    "weighted_median",
    "zeuthen",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

#: Relative tolerance under which two scores count as tied.
_TIE_RTOL = 1e-12
#: Rows compared per block in :func:`pareto_mask`.
_PARETO_BLOCK = 512
#: Upper bound on the boolean cells of one comparison chunk in :func:`pareto_mask`.
_PARETO_CHUNK_CELLS = 1 << 21


# ---------------------------------------------------------------------------
# validation helpers
# ---------------------------------------------------------------------------


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _as_float_array(name: str, value: Any) -> FloatArray:
    """Convert ``value`` to a float64 array or raise a ValueError naming ``name``."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be numeric; got a {type(value).__name__} {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric (convertible to float64); got {type(value).__name__}: {exc}"
        ) from None
    return arr


def _check_finite(name: str, arr: FloatArray) -> None:
    """Raise a ValueError if ``arr`` holds NaN or an infinity."""
    nan = np.isnan(arr)
    if nan.any():
        first = np.argwhere(nan)[0]
        raise ValueError(
            f"{name} must not contain NaN; found {int(nan.sum())} NaN value(s), "
            f"the first at index {_fmt_index(tuple(first))}"
        )
    inf = np.isinf(arr)
    if inf.any():
        first = np.argwhere(inf)[0]
        raise ValueError(
            f"{name} must be finite; found {float(arr[tuple(first)])} at index {_fmt_index(tuple(first))}"
        )


def _check_utilities(utilities: ArrayLike) -> FloatArray:
    u = _as_float_array("utilities", utilities)
    if u.ndim != 2:
        raise ValueError(
            f"utilities must be a 2-D array of shape (K, P) (K outcomes, P parties); "
            f"got a {u.ndim}-D array with shape {u.shape}"
        )
    if u.shape[0] < 1 or u.shape[1] < 1:
        raise ValueError(
            f"utilities must have at least one outcome (row) and one party (column); "
            f"got shape {u.shape}"
        )
    _check_finite("utilities", u)
    # ``+ 0.0`` turns -0.0 into 0.0 so that equal utilities are bitwise equal.
    return u + 0.0


def _check_disagreement(disagreement: ArrayLike, n_parties: int) -> FloatArray:
    d = _as_float_array("disagreement", disagreement)
    if d.shape != (n_parties,):
        raise ValueError(
            f"disagreement must have shape (P,) = ({n_parties},) to match utilities with "
            f"P={n_parties} parties; got shape {d.shape}"
        )
    _check_finite("disagreement", d)
    return d + 0.0


def _check_vector(name: str, value: ArrayLike, *, length: int | None = None) -> FloatArray:
    arr = _as_float_array(name, value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got a {arr.ndim}-D array with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(
            f"{name} must have the same length as positions ({length}); got length {arr.shape[0]}"
        )
    _check_finite(name, arr)
    return arr + 0.0


def _check_nonnegative(name: str, arr: FloatArray) -> None:
    bad = arr < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be >= 0; found {name}[{i}] = {float(arr[i])!r}")


def _check_in_unit_interval(name: str, arr: FloatArray) -> None:
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must lie in [0, 1]; found {name}[{i}] = {float(arr[i])!r}")


def _check_scalar(name: str, value: Any, *, low: float, high: float,
                  low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN; got nan")
    lo_ok = x > low if low_open else x >= low
    hi_ok = x < high if high_open else x <= high
    if not (lo_ok and hi_ok):
        interval = ("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must lie in {interval}; got {x!r}")
    return x


def _check_int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {int(value)}")
    return int(value)


# ---------------------------------------------------------------------------
# selection helpers
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Pareto optimality and individual rationality
# ---------------------------------------------------------------------------


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
    mask: BoolArray = np.all(u >= d, axis=1)
    return mask


# ---------------------------------------------------------------------------
# axiomatic bargaining solutions on discrete sets
# ---------------------------------------------------------------------------


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
    ir = np.flatnonzero(np.all(u >= d, axis=1))
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
        cand = np.flatnonzero(np.all(u >= d, axis=1))
        if cand.size == 0:
            return None
    total = u.sum(axis=1)
    worst = (u if disagreement is None else u - d).min(axis=1)
    return _choose(u, cand, [total, worst])


# ---------------------------------------------------------------------------
# monotonic concession
# ---------------------------------------------------------------------------


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
    ir = np.flatnonzero(np.all(u >= d, axis=1))
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


# ---------------------------------------------------------------------------
# alternating offers
# ---------------------------------------------------------------------------


def rubinstein_share(delta1: float, delta2: float, *, horizon: int | None = None) -> float:
    """Player 1's subgame-perfect share of a unit pie under alternating offers.

    Infinite horizon (Rubinstein 1982): player 1 proposes first and gets
    ``(1 - delta2) / (1 - delta1 * delta2)``; agreement is immediate.

    Finite horizon ``T`` (Stahl 1972), solved by backward induction with this
    convention: rounds ``1 .. T``; player 1 proposes in odd rounds, player 2 in
    even rounds; a rejected offer in round ``t < T`` leads to round ``t + 1``,
    and a rejection in round ``T`` ends the game with 0 for both.  So the
    round-``T`` proposer gets everything, and in round ``t < T`` the proposer
    keeps ``s_t = 1 - delta_r * s_{t+1}``, ``delta_r`` being the responder's
    discount factor.  The function returns ``s_1``, evaluated in closed form
    (two steps of the recursion form a geometric series), so any ``T`` is
    cheap.  As ``T`` grows it tends to the infinite-horizon share, with
    ``|s_1 - s_inf| <= (delta1 delta2) ** ((T - 1) // 2)``.

    Parameters
    ----------
    delta1, delta2 : float
        Per-round discount factors of players 1 and 2.  Infinite horizon:
        ``[0, 1)`` (at ``delta1 = delta2 = 1`` the share is undefined).
        Finite horizon: ``[0, 1]`` (no discounting is allowed; then the last
        proposer gets the whole pie).
    horizon : int, optional
        Number of rounds ``T >= 1``; default ``None`` (infinite horizon).

    Returns
    -------
    float
        Player 1's share, in ``[0, 1]``.

    Examples
    --------
    >>> round(rubinstein_share(0.9, 0.9), 6)
    0.526316
    >>> rubinstein_share(0.9, 0.9, horizon=1)
    1.0
    >>> round(rubinstein_share(0.9, 0.9, horizon=2), 6)
    0.1
    >>> round(rubinstein_share(0.9, 0.9, horizon=3), 6)
    0.91
    """
    if horizon is None:
        d1 = _check_scalar("delta1", delta1, low=0.0, high=1.0, high_open=True)
        d2 = _check_scalar("delta2", delta2, low=0.0, high=1.0, high_open=True)
        return (1.0 - d2) / (1.0 - d1 * d2)
    d1 = _check_scalar("delta1", delta1, low=0.0, high=1.0)
    d2 = _check_scalar("delta2", delta2, low=0.0, high=1.0)
    t_max = _check_int("horizon", horizon, minimum=1)
    # Two rounds of the recursion give s_t = (1 - delta2) + delta1 delta2 s_{t+2} for odd t,
    # a geometric series that ends at s_T = 1 (odd T) or s_{T-1} = 1 - delta2 (even T).
    dd = d1 * d2

    def geometric(n: int) -> float:  # 1 + dd + ... + dd**(n-1)
        return float(n) if dd == 1.0 else (1.0 - dd ** n) / (1.0 - dd)

    if t_max % 2 == 1:
        m = (t_max - 1) // 2
        return (1.0 - d2) * geometric(m) + dd ** m
    return (1.0 - d2) * geometric(t_max // 2)


# ---------------------------------------------------------------------------
# war as the outside option
# ---------------------------------------------------------------------------


def fearon_range(p: float, cost_a: float, cost_b: float, *,
                 p_b: float | None = None) -> tuple[float, float] | None:
    """Bargaining range of settlements both sides prefer to war (Fearon 1995).

    One issue on ``[0, 1]``; A's ideal point is 1, B's is 0.  War is worth
    ``p - cost_a`` to A and ``1 - p_b - cost_b`` to B, where ``p`` is A's and
    ``p_b`` B's belief that A wins.  A settlement ``x`` (A's share) beats war
    for A when ``x >= p - cost_a`` and for B when ``1 - x >= 1 - p_b - cost_b``,
    i.e. ``x <= p_b + cost_b``.  The range is therefore
    ``[p - cost_a, p_b + cost_b]`` intersected with ``[0, 1]``.

    Parameters
    ----------
    p : float
        A's probability of winning a war (A's belief), in ``[0, 1]``.
    cost_a, cost_b : float
        Costs of war to A and B, in units of the issue, ``>= 0`` (Fearon
        assumes them positive; zero costs give a single-point range at best).
    p_b : float, optional
        B's belief that A wins, in ``[0, 1]``; default ``p`` (common beliefs).
        Mutually optimistic beliefs (``p > p_b``) can empty the range.

    Returns
    -------
    (float, float) or None
        ``(low, high)``, or ``None`` when ``low > high`` (no deal beats war).

    Examples
    --------
    >>> lo, hi = fearon_range(0.6, 0.1, 0.15)
    >>> round(lo, 6), round(hi, 6)
    (0.5, 0.75)
    >>> print(fearon_range(0.8, 0.1, 0.15, p_b=0.3))
    None
    """
    pa = _check_scalar("p", p, low=0.0, high=1.0)
    ca = _check_scalar("cost_a", cost_a, low=0.0, high=math.inf, high_open=True)
    cb = _check_scalar("cost_b", cost_b, low=0.0, high=math.inf, high_open=True)
    pb = pa if p_b is None else _check_scalar("p_b", p_b, low=0.0, high=1.0)
    low = max(pa - ca, 0.0)
    high = min(pb + cb, 1.0)
    if low > high:
        return None
    return (low, high)


# ---------------------------------------------------------------------------
# multilateral spatial models
# ---------------------------------------------------------------------------


def _check_actors(positions: ArrayLike, capabilities: ArrayLike,
                  saliences: ArrayLike) -> tuple[FloatArray, FloatArray, FloatArray]:
    x = _check_vector("positions", positions)
    c = _check_vector("capabilities", capabilities, length=x.size)
    s = _check_vector("saliences", saliences, length=x.size)
    _check_nonnegative("capabilities", c)
    _check_nonnegative("saliences", s)
    if not (c * s).sum() > 0:
        raise ValueError(
            "capabilities * saliences must have a positive sum (some actor must carry weight); "
            "got a sum of 0"
        )
    return x, c, s


def compromise(positions: ArrayLike, capabilities: ArrayLike, saliences: ArrayLike) -> float:
    """Compromise-model forecast: the capability-and-salience weighted mean position.

    Achen (2006), in *The European Union Decides*: forecast
    ``sum(c_i s_i x_i) / sum(c_i s_i)``.

    Parameters
    ----------
    positions : array_like, shape (N,)
        Actor positions on the issue.
    capabilities, saliences : array_like, shape (N,)
        Non-negative capabilities and saliences; ``sum(c * s)`` must be > 0.

    Returns
    -------
    float
        The forecast position.

    Examples
    --------
    >>> compromise([0.0, 1.0], [1.0, 3.0], [1.0, 1.0])
    0.75
    """
    x, c, s = _check_actors(positions, capabilities, saliences)
    w = c * s
    return float(w @ x / w.sum())


def weighted_median(positions: ArrayLike, weights: ArrayLike) -> float:
    """Weighted median position (Black 1948).

    Positions are sorted; the result is the first position at which the
    cumulative weight reaches half the total (``>= 0.5 * total``).  With
    single-peaked preferences and weights ``c * s`` it is the Condorcet winner.
    Cumulative sums are compared with a relative slack of ``1e-12`` of the
    total, so that rounding cannot move the median past an exact half.

    Parameters
    ----------
    positions : array_like, shape (N,)
        Positions.
    weights : array_like, shape (N,)
        Non-negative weights with a positive sum.

    Returns
    -------
    float
        The weighted median position.

    Examples
    --------
    >>> weighted_median([0.9, 0.1, 0.5], [1, 1, 1])
    0.5
    >>> weighted_median([0.0, 1.0], [1, 1])
    0.0
    >>> weighted_median([0.0, 0.3, 1.0], [1, 1, 3])
    1.0
    """
    x = _check_vector("positions", positions)
    w = _check_vector("weights", weights, length=x.size)
    _check_nonnegative("weights", w)
    total = w.sum()
    if not total > 0:
        raise ValueError("weights must have a positive sum; got a sum of 0")
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(w[order])
    i = int(np.argmax(cum >= 0.5 * total - 1e-12 * total))
    return float(x[order][i])


# ---------------------------------------------------------------------------
# time-dependent concession
# ---------------------------------------------------------------------------


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


def time_dependent_schedule(t: float, p_min: FloatArray, p_max: FloatArray, e: float, k: float) -> FloatArray:
    """:func:`time_dependent_target` for one time and one strategy over arrays of ranges,
    without validation: for the engine, whose inputs are checked when the scenario loads
    and whose ``p_min`` is clipped to ``p_max`` every round.

    Examples
    --------
    >>> time_dependent_schedule(0.5, np.array([0.0]), np.array([1.0]), 1.0, 0.0).tolist()
    [0.5]
    """
    if e == 0:
        return p_min + (p_max - p_min) * (1.0 - k)
    # an array power, as time_dependent_target takes it: numpy's scalar pow can differ by an ulp
    f = k + (1.0 - k) * np.full(np.shape(p_min), t) ** (1.0 / e)
    return p_min + (p_max - p_min) * (1.0 - f)


# ---------------------------------------------------------------------------
# Bueno de Mesquita expected-utility model
# ---------------------------------------------------------------------------


class BDMResult(NamedTuple):
    """Result of :func:`bdm_expected_utility`."""

    #: Actor positions before round 1 and after each round, shape (rounds + 1, N).
    positions: FloatArray
    #: Weighted median (weights c * s) of the final positions.
    forecast: float


def _bdm_win_probabilities(x: FloatArray, w: FloatArray) -> FloatArray:
    """``P[i, j]``: share of the positive votes for i over j among all votes on (i, j)."""
    dist = np.abs(x[:, None] - x[None, :])  # dist[k, i] = |x_k - x_i|
    votes = w[:, None, None] * (dist[:, None, :] - dist[:, :, None])  # votes[k, i, j]
    positive = np.clip(votes, 0.0, None).sum(axis=0)
    total = np.abs(votes).sum(axis=0)
    prob: FloatArray = np.full(total.shape, 0.5)
    np.divide(positive, total, out=prob, where=total > 0)
    return prob


def _bdm_challenge_eu(x: FloatArray, s: FloatArray, prob: FloatArray, expo: FloatArray,
                      mu: float, q: float, t: float) -> FloatArray:
    """``EU[i, j]``: expected utility of i challenging j, with risk exponents ``expo[i, j]``."""
    dist = np.abs(x[:, None] - x[None, :])
    far = (np.abs(x - mu)[:, None] + dist) / 4.0
    u_success = 2.0 - 4.0 * (0.5 - 0.5 * dist) ** expo
    u_failure = 2.0 - 4.0 * (0.5 + 0.5 * dist) ** expo
    u_better = 2.0 - 4.0 * (0.5 - far) ** expo
    u_worse = 2.0 - 4.0 * (0.5 + far) ** expo
    u_status_quo = 2.0 - 4.0 * 0.5 ** expo
    resist = s[None, :]
    eu = (resist * (prob * u_success + (1.0 - prob) * u_failure)
          + (1.0 - resist) * u_success
          - (q * u_status_quo + (1.0 - q) * (t * u_better + (1.0 - t) * u_worse)))
    np.fill_diagonal(eu, 0.0)
    return eu


def _bdm_risk_exponents(x: FloatArray, s: FloatArray, prob: FloatArray,
                        mu: float, q: float, t: float) -> FloatArray:
    """Risk exponents ``r_i = (1 - R_i/3) / (1 + R_i/3)`` from the actors' security levels."""
    eu = _bdm_challenge_eu(x, s, prob, np.ones((x.size, x.size)), mu, q, t)
    danger = eu.sum(axis=0)  # others' expected utility of challenging i (diagonal is 0)
    lo, hi = float(danger.min()), float(danger.max())
    if hi - lo <= _TIE_RTOL * max(1.0, abs(hi)):
        return np.ones(x.size)
    big_r = (2.0 * danger - hi - lo) / (hi - lo)
    expo: FloatArray = (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)
    return expo


def bdm_expected_utility(positions: ArrayLike, capabilities: ArrayLike, saliences: ArrayLike, *,
                         rounds: int = 10, risk: str = "endogenous", q: float = 1.0,
                         t: float = 1.0) -> BDMResult:
    """Bueno de Mesquita's expected-utility model for one issue on ``[0, 1]``.

    Follows the reconstruction by Scholz, Calbert & Smith (2011, "Unravelling
    Bueno de Mesquita's group decision model", *J. Theoretical Politics*
    23(4)).  Public re-implementations disagree on details; the choices made
    here are listed under Notes.  The model is deterministic.

    Each round, with ``w_k = c_k s_k`` and distances on the unit issue range:

    1. Votes: actor ``k`` votes ``v_k(i, j) = w_k (|x_k - x_j| - |x_k - x_i|)``
       for ``i`` over ``j``.  Win probability of ``i`` against ``j``:
       ``P_ij = sum_k max(v_k(i, j), 0) / sum_k |v_k(i, j)|`` (0.5 when every
       vote is zero), so ``P_ij + P_ji = 1``.
    2. Utilities of challenger ``i`` against ``j`` with risk exponent ``r``
       and ``D = |x_i - x_j|``, ``F = (|x_i - mu| + D) / 4``, ``mu`` the
       weighted median: ``U_s = 2 - 4 (0.5 - 0.5 D)^r``,
       ``U_f = 2 - 4 (0.5 + 0.5 D)^r``, ``U_b = 2 - 4 (0.5 - F)^r``,
       ``U_w = 2 - 4 (0.5 + F)^r``, ``U_sq = 2 - 4 (0.5)^r``.
    3. Expected utility of challenging:
       ``EU_i(ij) = s_j (P_ij U_s + (1 - P_ij) U_f) + (1 - s_j) U_s
       - (q U_sq + (1 - q) (t U_b + (1 - t) U_w))``.
    4. Risk exponents: with every ``r = 1``, actor ``i``'s danger level is
       ``D_i = sum_{j != i} EU_j(ji)``; ``R_i = (2 D_i - D_max - D_min) /
       (D_max - D_min)`` and ``r_i = (1 - R_i/3) / (1 + R_i/3)``, in
       ``[0.5, 2]`` (all ``r_i = 1`` when every ``D_i`` is equal).
    5. Dyadic outcomes from ``i``'s perspective, ``a = EU_i(ij)`` and
       ``b = EU_i(ji)`` (both with ``i``'s exponent ``r_i``):
       *conflict* lost by ``i`` if ``b > a > 0``: ``i`` moves to ``x_j``;
       *compromise* if ``a < 0 < b`` and ``b > |a|``: ``i`` moves to
       ``x_i + (x_j - x_i) |a| / b``; *capitulation* if ``a < 0 < b`` and
       ``|a| >= b``: ``i`` moves to ``x_j``.  Otherwise ``j`` makes ``i`` no
       offer.

    Parameters
    ----------
    positions : array_like, shape (N,)
        Initial positions in ``[0, 1]``.
    capabilities : array_like, shape (N,)
        Non-negative capabilities.
    saliences : array_like, shape (N,)
        Saliences in ``[0, 1]`` (a salience is also the probability that the
        actor resists a challenge).  ``sum(c * s)`` must be positive.
    rounds : int, optional
        Number of rounds, ``>= 0``; default 10.
    risk : {"endogenous", "neutral"}, optional
        ``"endogenous"`` (default) computes the risk exponents of step 4 each
        round; ``"neutral"`` keeps every ``r_i = 1``.
    q : float, optional
        Probability, in ``[0, 1]``, that the status quo persists absent a
        challenge; default 1 (Scholz et al.'s setting, under which ``t`` and
        ``mu`` do not matter).
    t : float, optional
        Probability, in ``[0, 1]``, that a change absent a challenge is an
        improvement for the challenger; default 1.

    Returns
    -------
    BDMResult
        ``positions``: array ``(rounds + 1, N)``, row 0 the initial positions;
        ``forecast``: weighted median (weights ``c * s``) of the final row.

    Notes
    -----
    Choices where re-implementations differ:

    * The issue range is the fixed interval ``[0, 1]`` (Scholz et al. use the
      spread of the initial positions), so rounds stay comparable.
    * ``P_ij`` uses the per-dyad denominator (all votes on ``(i, j)``), not
      Scholz's code's sum over all dyads.
    * ``EU_i(ji)`` as perceived by ``i`` uses ``i``'s risk exponent, as in
      Scholz et al. and Bueno de Mesquita's "perception" terms.
    * Step 4's danger levels compare actors with each other, as Scholz et al.
      do (Bueno de Mesquita compares an actor's possible positions).
    * Of all offers an actor receives it accepts the one that moves it least
      (Bueno de Mesquita's stated rule; ties to the lowest ``j``), whatever
      its type, instead of Scholz's code's conflict-before-compromise order.
    * An actor at the same position as ``j`` gets no offer from ``j``;
      ``a == 0`` gives no offer.  All actors move simultaneously.

    Examples
    --------
    >>> res = bdm_expected_utility([0.0, 0.6, 1.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5],
    ...                            rounds=2)
    >>> res.positions.shape
    (3, 3)
    >>> res.positions.round(3).tolist()
    [[0.0, 0.6, 1.0], [0.6, 0.6, 0.6], [0.6, 0.6, 0.6]]
    >>> res.forecast
    0.6
    """
    x, c, s = _check_actors(positions, capabilities, saliences)
    _check_in_unit_interval("positions", x)
    _check_in_unit_interval("saliences", s)
    n_rounds = _check_int("rounds", rounds, minimum=0)
    if risk not in ("endogenous", "neutral"):
        raise ValueError(f"risk must be 'endogenous' or 'neutral'; got {risk!r}")
    qq = _check_scalar("q", q, low=0.0, high=1.0)
    tt = _check_scalar("t", t, low=0.0, high=1.0)
    w = c * s
    n = x.size
    history = np.empty((n_rounds + 1, n))
    history[0] = x
    for rnd in range(1, n_rounds + 1):
        mu = weighted_median(x, w)
        prob = _bdm_win_probabilities(x, w)
        r = _bdm_risk_exponents(x, s, prob, mu, qq, tt) if risk == "endogenous" else np.ones(n)
        own = _bdm_challenge_eu(x, s, prob, np.broadcast_to(r[:, None], (n, n)), mu, qq, tt)
        seen = _bdm_challenge_eu(x, s, prob, np.broadcast_to(r[None, :], (n, n)), mu, qq, tt)
        a = own  # a[i, j] = EU_i(ij)
        b = seen.T  # b[i, j] = EU_j(ji) as perceived by i (exponent r_i)
        valid = x[:, None] != x[None, :]
        conflict = valid & (b > a) & (a > 0)
        yields = valid & (a < 0) & (b > 0)
        comp = yields & (b > -a)
        capit = yields & ~comp
        target = np.broadcast_to(x[None, :], (n, n))
        frac = np.zeros((n, n))
        np.divide(-a, b, out=frac, where=comp)
        new_pos = np.where(comp, x[:, None] + (target - x[:, None]) * frac, target)
        offered = conflict | comp | capit
        move = np.where(offered, np.abs(new_pos - x[:, None]), np.inf)
        best = np.argmin(move, axis=1)
        has = offered.any(axis=1)
        x = np.clip(np.where(has, new_pos[np.arange(n), best], x), 0.0, 1.0)
        history[rnd] = x
    return BDMResult(positions=history, forecast=weighted_median(x, w))
