"""Patience as bargaining power: each party's reservation value from its discount factor.

Alternating offers: the value of the continuing game (Rubinstein 1982) or, when the war
goes on for good after the deadline, Stahl's (1972) backward induction over the rounds
left, each solved on the replica's candidate set with the war payoffs as the disagreement
point (Binmore, Rubinstein & Wolinsky 1986); a mediated single text: the asymmetric Nash
solution whose weights BRW derive from the discount factors. Arrays in, arrays out; the
concession strategies and the acceptance rule are ``sim.core.strategies``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from sim.core.frontier import OfferFrontier, dtype_ceiling, frontier_offer, pick, rows_of


class Best(Protocol):
    """``best(a, floor)``: party a's most (R,) over the zone of agreement among the candidates
    worth at least ``floor`` (R,, in the utilities' dtype) to the other party; -inf where
    none. ``among``: only those positions of the rows (``floor`` then theirs)."""

    def __call__(self, a: int, floor: np.ndarray, among: np.ndarray | None = None) -> np.ndarray: ...


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
    return np.all(utilities >= dtype_ceiling(war, utilities.dtype)[:, :, None], axis=1)  # the same test, no upcast


def has_zone(
    utilities: np.ndarray,
    war: np.ndarray,
    frontiers: Sequence[OfferFrontier] | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Whether some candidate beats war for every party (R,): ``zone_of_agreement`` of
    ``utilities`` (R, P, K) and ``war`` (R, P) is not empty, by a look-up on the two
    parties' offer ``frontiers`` where given (the same answer, ``_best``), else a scan.
    ``rows`` (R',): for those replicas of ``utilities`` and ``frontiers`` only, ``war``
    being theirs (look-ups read them in place; a scan gathers them)."""
    if frontiers is None or utilities.shape[1] != 2:
        return np.asarray(zone_of_agreement(utilities if rows is None else rows_of(utilities, rows), war).any(axis=1))
    anything = np.full(war.shape[0], -np.inf, dtype=utilities.dtype)
    return np.asarray(_best(utilities, war, frontiers, rows)(0, anything) > -np.inf)


def _best(
    utilities: np.ndarray, war: np.ndarray, frontiers: Sequence[OfferFrontier] | None, rows: np.ndarray | None = None
) -> Best:
    """The one query the demands below repeat (``Best``), for two parties: by a scan of
    every candidate, or by a look-up on the responder's offer frontier (``frontiers``, both
    parties'), with the same values.

    On the frontier of ``b`` (its utility rising, ``a``'s falling), the first entry worth
    ``x = max(w_b, floor)`` to ``b`` is the candidate best for ``a`` among those ``b``
    values at ``x`` or more; the zone asks ``a``'s war payoff of it too, and if the best for
    ``a`` does not reach it, nothing there does. Comparisons in float64 of the same float32
    values, so the look-up and the scan agree exactly.

    ``rows`` (R',): the replicas of ``utilities`` and ``frontiers`` that ``war`` holds
    (default: all). The query then takes ``floor`` (R',) and, optionally, ``among`` (R'',),
    positions in ``rows`` to answer for only (the answer is then (R'',)).
    """
    if frontiers is None:
        u = utilities if rows is None else rows_of(utilities, rows)
        zone = zone_of_agreement(u, war)

        def scanned(a: int, floor: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
            uu, zz = (u, zone) if among is None else (rows_of(u, among), rows_of(zone, among))
            feasible = zz & (uu[:, 1 - a] >= floor[:, None])
            return np.max(np.where(feasible, uu[:, a], -np.inf), axis=1).astype(float)

        return scanned
    every = np.arange(utilities.shape[0]) if rows is None else rows

    def looked_up(a: int, floor: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
        b = 1 - a
        at, w = (every, war) if among is None else (every[among], rows_of(war, among))
        x = np.maximum(w[:, b], floor.astype(float))  # NaN stays NaN: nothing meets it
        front = frontiers[b]
        if rows is None and among is None:
            index, _ = frontier_offer(front, x)
            top = front.best
        else:
            index, _ = frontier_offer(front, x, at)
            top = front.best[at]
        most = pick(utilities, a, index, None if rows is None and among is None else at).astype(float)
        return np.where((top >= x) & (most >= w[:, a]), most, -np.inf)

    return looked_up


RUBINSTEIN_ITERATIONS = 1000
"""At most this many rounds of the fixed-point iteration in ``rubinstein_values`` (each
strictly moves some replica's value, so a finite candidate set needs at most K)."""


def rubinstein_shares(patience: np.ndarray) -> np.ndarray:
    """Each party's Rubinstein share (R, P) of a unit pie when it proposes, ``(1 - d_j) / (1 - d_i d_j)``.

    One half each where both are perfectly patient (the limit of equal discount factors).

    Examples
    --------
    >>> rubinstein_shares(np.array([[0.9, 0.9], [1.0, 1.0]])).round(6).tolist()
    [[0.526316, 0.526316], [0.5, 0.5]]
    """
    both = (patience[:, 0] * patience[:, 1])[:, None]
    safe = np.where(both < 1.0, 1.0 - both, 1.0)
    return np.where(both < 1.0, (1.0 - patience[:, ::-1]) / safe, 0.5)


def rubinstein_values(
    utilities: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    first: int = 0,
    frontiers: Sequence[OfferFrontier] | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Each party's value (R, P) of the continuing game as proposer: its reservation.

    Rubinstein (1982) on the replica's candidate set, with war as the disagreement point:
    ``V_a = max u_a(k)`` over candidates in the zone of agreement that ``b`` accepts,
    ``u_b(k) >= w_b + d_b (V_b - w_b)``, and the same with the roles swapped: a stationary
    subgame-perfect equilibrium. The iteration starts from the continuous solution (each
    side ``w + share (best in the zone - w)``, ``rubinstein_shares``) and solves the
    responder's value from the ``first`` proposer's, then the first proposer's from the new
    one, until they stand still: a monotone map on a finite set, so it ends, near the
    continuous solution. Where a coarse grid leaves two equilibria a step apart, this order
    gives the first proposer the one where it has the first mover's edge, as in the
    continuous game. A more patient party has the higher value and
    the other side the lower one. Complete information: utilities, war payoffs and
    discount factors are known to both. Two belligerents.

    Returns NaN where no candidate beats war for both. ``frontiers``: both parties' offer
    frontiers of ``utilities`` (``sim.core.frontier``), for look-ups instead of scans.
    ``rows`` (R',): solve for those replicas of ``utilities`` and ``frontiers`` only,
    ``war`` and ``patience`` being theirs (R', P); the result is (R', P).

    Examples
    --------
    A pie in hundredths, war worth 0, discount 0.9 each: Rubinstein's 0.5263 for the first
    proposer, on the grid 0.53 (its offer leaves the other 0.47 >= 0.9 * 0.52).

    >>> x = np.linspace(0, 1, 101)
    >>> rubinstein_values(np.stack([x, 1 - x])[None], np.zeros((1, 2)), np.full((1, 2), 0.9)).round(6).tolist()
    [[0.53, 0.52]]
    """
    value = np.full(war.shape, np.nan)
    anything = np.full(war.shape[0], -np.inf, dtype=utilities.dtype)
    # the best for party 0 in the zone is finite exactly where there is a zone, and so is party 1's:
    # only replicas with a zone have a reservation to solve, and party 1's best is asked of them
    everywhere = _best(utilities, war, frontiers, rows)
    best_0 = everywhere(0, anything)
    zone = np.flatnonzero(best_0 > -np.inf)
    if zone.size == 0:
        return value
    if zone.size == war.shape[0]:  # every replica has a zone: no gathers of the frontiers' rows
        best_all = np.stack([best_0, everywhere(1, anything)], axis=1)
        w, d = war, patience
        best = _best(utilities, w, frontiers, rows)
    else:
        best_all = np.stack([best_0[zone], everywhere(1, anything[zone], zone)], axis=1)
        w, d = rows_of(war, zone), rows_of(patience, zone)
        best = _best(utilities, w, frontiers, zone if rows is None else rows[zone])
    v = w + rubinstein_shares(d) * (best_all - w)
    slack = acceptance_slack(utilities.dtype)
    moving = np.arange(zone.size)  # a row that stood still stays still: its map is its own
    for _ in range(RUBINSTEIN_ITERATIONS):
        vm, wm, dm = rows_of(v, moving), rows_of(w, moving), rows_of(d, moving)
        before = vm.copy()
        for a in (1 - first, first):
            b = 1 - a
            threshold = continuation_threshold(wm[:, b], dm[:, b], vm[:, b])
            among = None if moving.size == zone.size else moving  # all of them at first
            vm[:, a] = best(a, (threshold - slack).astype(utilities.dtype), among)
        v[moving] = vm
        still = np.all((vm == before) | (np.isnan(vm) & np.isnan(before)), axis=1)
        moving = moving[~still]
        if moving.size == 0:
            break
    value[zone] = v
    return value


def stahl_demands(
    utilities: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int,
    rounds_left: int,
    frontiers: Sequence[OfferFrontier] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each party's reservation (R, P) this round and next in Stahl's finite-horizon game.

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
    frontiers : optional
        Both parties' offer frontiers of ``utilities``, for look-ups instead of scans.

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
    best = _best(utilities, war, frontiers)
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
        history.append(best(mover, (threshold - slack).astype(utilities.dtype)))
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
    none = best(a, np.full(war.shape[0], -np.inf, dtype=utilities.dtype)) == -np.inf  # no zone of agreement
    now[none] = np.nan
    nxt[none] = np.nan
    return now, nxt


def nash_weights(patience: np.ndarray) -> np.ndarray:
    """Bargaining powers (R, P) from discount factors (Binmore, Rubinstein & Wolinsky 1986).

    As the time between offers shrinks, with ``d_i = exp(-r_i dt)``, alternating offers
    tend to the asymmetric Nash solution with weights ``alpha_i`` proportional to
    ``1 / r_i`` (two parties: ``alpha_1 = r_2 / (r_1 + r_2)``): the more patient side has
    the larger weight. Perfectly patient parties (``r = 0``) share the whole weight; equal
    weights where every party is.

    Examples
    --------
    >>> nash_weights(np.array([[0.9, 0.9], [1.0, 1.0], [np.exp(-1.0), np.exp(-3.0)]])).round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5], [0.75, 0.25]]
    >>> nash_weights(np.array([[1.0, 0.5, 0.9]])).tolist()
    [[1.0, 0.0, 0.0]]
    """
    rate = -np.log(patience)
    patient = rate <= 0.0
    inverse = 1.0 / np.where(patient, 1.0, rate)
    weight = np.where(patient.any(axis=1, keepdims=True), patient.astype(float), inverse)
    return weight / weight.sum(axis=1, keepdims=True)


def nash_demands(utilities: np.ndarray, war: np.ndarray, patience: np.ndarray) -> np.ndarray:
    """Each party's utility (R, P) at the asymmetric Nash solution of its zone of agreement.

    Maximises ``sum_i alpha_i log(u_i - w_i)`` over candidates every party prefers to war,
    with ``alpha`` from ``nash_weights``: the demand when no party holds the first move
    (a mediator's single text, or more than two belligerents, where alternating offers
    have no unique stationary equilibrium). NaN where there is no zone of agreement.

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
