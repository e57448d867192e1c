"""Closed forms of bargaining under time and war: Rubinstein/Stahl shares of alternating
offers and Fearon's bargaining range (two sides, or two sides of several members). Scalars in, scalars out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sim.theory._checks import (
    _check_int,
    _check_scalar,
)


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




def coalition_fearon_range(p_a: Sequence[float], cost_a: Sequence[float],
                           p_b: Sequence[float], cost_b: Sequence[float]) -> tuple[float, float] | None:
    """Settlements every member of two warring sides prefers to war (Fearon 1995, with unanimity).

    Side A (ideal 1) against side B (ideal 0) on one issue ``[0, 1]``; members share
    their side's fate (the winner's ideal prevails) but keep their own beliefs and costs
    (THEORY.md, "Coalition war"). Member i of A, believing A wins with ``p_a[i]``, prefers
    ``x`` to war when ``x >= p_a[i] - cost_a[i]``; member j of B, believing A wins with
    ``p_b[j]``, when ``x <= p_b[j] + cost_b[j]``. A deal needs every member, so each
    member is a veto player (Tsebelis 2002; Cunningham 2006, "Veto Players and Civil War
    Duration", AJPS 50(4)): the range is ``[max_i (p_a[i] - cost_a[i]), min_j (p_b[j] +
    cost_b[j])]`` within ``[0, 1]``, set by each side's most demanding member, and a
    member added to a side can only narrow it. One member each is ``fearon_range``.

    Examples
    --------
    >>> lo, hi = coalition_fearon_range([0.6], [0.1], [0.6], [0.15])
    >>> round(lo, 6), round(hi, 6)
    (0.5, 0.75)
    >>> lo, hi = coalition_fearon_range([0.6], [0.1], [0.6, 0.6], [0.15, 0.05])
    >>> round(lo, 6), round(hi, 6)
    (0.5, 0.65)
    """
    if not p_a or not p_b or len(p_a) != len(cost_a) or len(p_b) != len(cost_b):
        raise ValueError("p_a, cost_a, p_b, cost_b: non-empty, one belief and one cost per member of each side")
    lows = [_check_scalar("p_a", p, low=0.0, high=1.0) - _check_scalar("cost_a", c, low=0.0, high=math.inf, high_open=True)
            for p, c in zip(p_a, cost_a, strict=True)]
    highs = [_check_scalar("p_b", p, low=0.0, high=1.0) + _check_scalar("cost_b", c, low=0.0, high=math.inf, high_open=True)
             for p, c in zip(p_b, cost_b, strict=True)]
    low = max(max(lows), 0.0)
    high = min(min(highs), 1.0)
    if low > high:
        return None
    return (low, high)
