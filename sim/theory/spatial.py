"""Multilateral spatial models on one issue: Achen's compromise, the weighted median and
the Bueno de Mesquita expected-utility model (as reconstructed by Scholz, Calbert &
Smith 2011). The Mesa model that iterates BDM is ``sim.theory.bdm``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from sim.theory._checks import (
    _TIE_RTOL,
    FloatArray,
    _check_in_unit_interval,
    _check_int,
    _check_nonnegative,
    _check_scalar,
    _check_vector,
)


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
