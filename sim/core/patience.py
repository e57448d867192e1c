"""Patience as bargaining power: each party's opening demand from its discount factor.

Alternating offers: Stahl's (1972) backward induction over the rounds left, solved on each
replica's candidate set; a mediated single text: the asymmetric Nash solution whose
weights Binmore, Rubinstein & Wolinsky (1986) derive from the discount factors. Arrays
in, arrays out; the concession strategies and the acceptance rule are ``sim.core.strategies``.
"""

from __future__ import annotations

import numpy as np


def acceptance_slack(dtype: np.dtype) -> float:
    """How far below a threshold a utility of ``dtype`` may fall and still meet it: four
    units in the last place, so comparisons in float32 do not flip on rounding."""
    return 4 * float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else 0.0


def continuation_threshold(war: np.ndarray, patience: np.ndarray, continuation: np.ndarray) -> np.ndarray:
    """The least a responder accepts now: ``war + patience * (continuation - war)``.

    Rubinstein's responder rule with a disagreement point: the gain over war that it
    could get by rejecting and proposing next round, discounted one round (Binmore,
    Rubinstein & Wolinsky 1986 discount gains over the breakdown payoff). Elementwise.

    Examples
    --------
    >>> continuation_threshold(np.array([0.0, 0.2]), np.array([0.9, 0.5]), np.array([1.0, 0.6])).round(6).tolist()
    [0.9, 0.4]
    """
    return war + patience * (continuation - war)


def zone_of_agreement(utilities: np.ndarray, war: np.ndarray) -> np.ndarray:
    """Candidates every party weakly prefers to its war payoff, (R, K) bool.

    ``utilities (R, P, K)``, ``war (R, P)``.
    """
    return np.all(utilities >= war[:, :, None], axis=1)


def stahl_demands(
    utilities: np.ndarray, war: np.ndarray, patience: np.ndarray, proposer: int, rounds_left: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each party's demand (R, P) this round and next under Stahl's finite-horizon game.

    Stahl (1972), Rubinstein (1982): with ``n`` rounds left, the proposer ``a`` demands
    ``V_a(n) = max u_a(k)`` over candidates in the zone of agreement that the responder
    ``b`` accepts, ``u_b(k) >= w_b + d_b (V_b(n - 1) - w_b)``, where ``V_b(n - 1)`` is what
    ``b`` demands when it proposes next round and ``V(0) = w`` (after the deadline the war
    goes on). This is the subgame-perfect equilibrium of alternating offers on the
    replica's candidate set, with complete information of utilities, war payoffs and
    discount factors, and the current war payoffs held for the rounds left. On one
    divisible issue with war worth 0 it is Stahl's share, which tends to Rubinstein's
    ``(1 - d_b) / (1 - d_a d_b)`` as ``n`` grows. A more patient party demands more as
    proposer and accepts less as responder; the other side's demands fall.

    The recursion stops early once it repeats (a fixed point: every later stage is the
    same), which a finite candidate set always reaches.

    Parameters
    ----------
    utilities : (R, P, K)
        Two belligerents (P = 2).
    war : (R, P)
        War payoffs this round.
    patience : (R, P)
        Per-round discount factors in (0, 1].
    proposer : int
        Who proposes this round.
    rounds_left : int
        Rounds left including this one (1 in the last round).

    Returns
    -------
    (now, next) : each (R, P)
        ``now[:, a] = V_a(n)``, ``now[:, b] = V_b(n - 1)`` (the responder's own offer is
        what it will demand next round); ``next[:, b] = V_b(n - 1)``,
        ``next[:, a] = V_a(n - 2)``. NaN where no candidate beats war for both.

    Examples
    --------
    A pie of 11 slices, war worth 0, both discount 0.5, two rounds left: the proposer
    keeps 1 - 0.5 = 0.5 (Stahl); with one round left it keeps everything.

    >>> x = np.linspace(0, 1, 11)
    >>> u = np.stack([x, 1 - x])[None]
    >>> now, nxt = stahl_demands(u, np.zeros((1, 2)), np.full((1, 2), 0.5), proposer=0, rounds_left=2)
    >>> now.round(6).tolist(), nxt.round(6).tolist()
    ([[0.5, 1.0]], [[0.0, 1.0]])
    """
    a, b = proposer, 1 - proposer
    zone = zone_of_agreement(utilities, war)
    slack = acceptance_slack(utilities.dtype)
    n = rounds_left
    # stage s (1 = the last round, n = this one) is proposed by a when n - s is even
    history: list[np.ndarray] = []  # history[s - 1]: the stage-s proposer's demand
    fixed_at = n
    for stage in range(1, n + 1):
        mover = a if (n - stage) % 2 == 0 else b
        other = 1 - mover
        before = history[-1] if history else war[:, other]
        threshold = continuation_threshold(war[:, other], patience[:, other], before)
        feasible = zone & (utilities[:, other] >= (threshold - slack).astype(utilities.dtype)[:, None])
        history.append(np.max(np.where(feasible, utilities[:, mover], -np.inf), axis=1).astype(float))
        if len(history) >= 3 and np.array_equal(history[-1], history[-3]):
            fixed_at = stage  # a fixed point: later stages alternate between the last two demands
            break

    def stage_value(s: int, party: int) -> np.ndarray:
        if s <= 0:
            return war[:, party]
        if s > fixed_at:
            s = fixed_at - (s - fixed_at) % 2
        return history[s - 1]

    now = np.empty_like(war)
    nxt = np.empty_like(war)
    now[:, a] = stage_value(n, a)
    now[:, b] = stage_value(n - 1, b)
    nxt[:, b] = stage_value(n - 1, b)
    nxt[:, a] = stage_value(n - 2, a)
    none = ~zone.any(axis=1)
    now[none] = np.nan
    nxt[none] = np.nan
    return now, nxt


def nash_weights(patience: np.ndarray) -> np.ndarray:
    """Bargaining powers (R, P) from discount factors (Binmore, Rubinstein & Wolinsky 1986).

    As the time between offers shrinks, with ``d_i = exp(-r_i dt)``, alternating offers
    tend to the asymmetric Nash solution with ``alpha_i = r_j / (r_i + r_j)``: the more
    patient side (smaller ``r``) has the larger weight. Equal weights where both are
    perfectly patient. Two parties.

    Examples
    --------
    >>> nash_weights(np.array([[0.9, 0.9], [1.0, 1.0], [np.exp(-1.0), np.exp(-3.0)]])).round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5], [0.75, 0.25]]
    """
    rate = -np.log(patience)
    total = rate.sum(axis=1, keepdims=True)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, rate[:, ::-1] / safe, 0.5)


def nash_demands(utilities: np.ndarray, war: np.ndarray, patience: np.ndarray) -> np.ndarray:
    """Each party's utility (R, P) at the asymmetric Nash solution of its zone of agreement.

    Maximises ``sum_i alpha_i log(u_i - w_i)`` over candidates every party prefers to war,
    with ``alpha`` from ``nash_weights``: the demand when no party holds the first move
    (a mediator's single text). NaN where there is no zone of agreement.

    Examples
    --------
    >>> x = np.linspace(0, 1, 11)
    >>> u = np.stack([x, 1 - x])[None]
    >>> nash_demands(u, np.zeros((1, 2)), np.array([[np.exp(-1.0), np.exp(-3.0)]])).round(6).tolist()
    [[0.7, 0.3]]

    (The continuous solution, 0.75, lies between the grid points 0.7 and 0.8.)
    """
    zone = zone_of_agreement(utilities, war)
    alpha = nash_weights(patience)
    gain = np.maximum(utilities - war[:, :, None], 1e-12)
    score = np.einsum("rp,rpk->rk", alpha, np.log(gain))
    best = np.argmax(np.where(zone, score, -np.inf), axis=1)
    demand = np.take_along_axis(utilities, best[:, None, None], axis=2)[:, :, 0].astype(float)
    demand[~zone.any(axis=1)] = np.nan
    return demand
