"""Round protocols as pure functions on arrays: alternating offers and the mediated single text.

Each takes one agenda group's utilities ``(R, P, K)`` with the parties' targets and war
payoffs and returns what was on the table and who accepted; state lives in the agents.
Given the group's ``Frontiers`` they look offers and texts up on each replica's frontier
instead of scanning every candidate, with the same results, ties included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.frontier import (
    OfferFrontier,
    TextFrontier,
    dtype_ceiling,
    frontier_offer,
    frontier_rows,
    frontier_text,
    offer_frontier_rows,
    pair_frontiers,
    pick,
    rows_of,
    text_frontier,
)
from sim.core.patience import acceptance_slack, continuation_threshold, zone_of_agreement
from sim.core.sides import others_mean, weighted_others
from sim.core.strategies import accepts, offer_for_target, offer_threshold


@dataclass(frozen=True)
class RoundResult:
    """One round of one group, arrays over replicas.

    ``table`` (R,): the candidate on the table; ``accepted`` (R,): every belligerent
    accepts it; ``accepted_by`` (R, P): whether each one does; ``own`` (R, P): each
    party's utility of the offer it would make now; ``answered`` (R, P): its utility of
    the offers it answers (the other side's offer, the mean over the other parties'
    offers when there are more than two, or the mediator's text); ``table_value``
    (R, P): its utility of the table.
    """

    table: np.ndarray
    accepted: np.ndarray
    own: np.ndarray
    answered: np.ndarray
    table_value: np.ndarray
    accepted_by: np.ndarray


def gather(utilities: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``utilities[r, index[r]]`` for ``utilities (R, K)`` and ``index (R,)``."""
    return utilities[np.arange(utilities.shape[0]), index]


@dataclass(frozen=True)
class Frontiers:
    """One group's frontiers: each proposer's (``offers``, by party) and, under the single
    text, the mediator's candidates (``text``). Built once by ``group_frontiers``."""

    offers: tuple[OfferFrontier, ...]
    text: TextFrontier | None
    best: np.ndarray | None = None  # (R, P) each party's best utility, where found with the frontiers
    worst: np.ndarray | None = None  # (R, P) and its worst


def frontiers_rows(frontiers: Frontiers | None, rows: np.ndarray) -> Frontiers | None:
    """The frontiers of replicas ``rows`` (R',) only: the same look-ups and texts for those rows."""
    if frontiers is None:
        return None
    text = frontiers.text
    if text is not None:
        text = TextFrontier(rows_of(text.values, rows), rows_of(text.index, rows), text.size[rows], rows_of(text.gap, rows),
                            text.magnitude[rows])
    return Frontiers(tuple(frontier_rows(f, rows) for f in frontiers.offers), text)


def group_frontiers(utilities: np.ndarray, single_text: bool = False) -> Frontiers:
    """The frontiers of one group's utilities ``(R, P, K)``.

    Each party proposes against the sum of the other belligerents' utilities
    (``sim.core.sides.weighted_others``). Two belligerents: the second frontier is read
    off the first where no utility ties, and the mediator's text has its own frontier.
    More: each party's frontier is built on its own, and the text is found by the scan
    (the frontier of two parties' utilities does not hold every undominated candidate).
    """
    n_parties = utilities.shape[1]
    if n_parties == 2:
        pair, best, worst = pair_frontiers(utilities)
        return Frontiers(pair, text_frontier(utilities, pair[0]) if single_text else None, best, worst)
    offers = tuple(offer_frontier_rows(utilities[:, p], weighted_others(utilities, p)) for p in range(n_parties))
    return Frontiers(offers, None)


def _offer(
    utilities: np.ndarray, targets: np.ndarray, p: int, frontiers: Frontiers | None, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Party p's offer (R,) for its target, best for the other belligerents among those it
    accepts, i.e. the largest sum of their utilities (``sim.core.sides.other_weights``),
    and its own utility of it (R,); of replicas ``rows`` (R',) only where given (the same
    values as those rows of all)."""
    if rows is not None:
        targets = rows_of(targets, rows)
    if frontiers is not None:
        return frontier_offer(frontiers.offers[p], offer_threshold(targets[:, p], utilities.dtype), rows)
    if rows is not None:
        utilities = rows_of(utilities, rows)
    offer = offer_for_target(utilities[:, p], weighted_others(utilities, p), targets[:, p])
    return offer, gather(utilities[:, p], offer)


def _offers(utilities: np.ndarray, targets: np.ndarray, frontiers: Frontiers | None) -> tuple[np.ndarray, np.ndarray]:
    """Every party's offer (R, P) and each party's utility of its own offer (R, P)."""
    made = [_offer(utilities, targets, p, frontiers) for p in range(utilities.shape[1])]
    return np.stack([offer for offer, _ in made], axis=1), np.stack([own for _, own in made], axis=1)


def _next_value(
    utilities: np.ndarray,
    targets: np.ndarray,
    own: np.ndarray | None,
    next_targets: np.ndarray,
    p: int,
    frontiers: Frontiers | None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """Party p's utility (R,) of the offer it would make next round (AC_next's yardstick),
    counted at no more than the target it will hold: an offer can be worth more to its
    maker than it asks (on a coarse grid, or with more than two parties, where it is the
    best for the others' sum), and a party at its reservation asks only that.

    The offer it would make next is its current one (worth ``own[:, p]`` to it) whenever
    its target stays put (the behaviour-dependent strategies), so it is looked up again
    only when it moves, or always where ``own`` is None (a lean round made no offer for p:
    the same offer, the targets being equal). ``rows`` (R',): of those replicas only.
    """
    at: np.ndarray | slice = slice(None) if rows is None else rows
    goal = next_targets[at, p]
    if own is not None and np.array_equal(goal, targets[at, p]):
        return np.minimum(own[at, p], goal)
    return np.minimum(_offer(utilities, next_targets, p, frontiers, rows)[1], goal)


def _attainable(
    utilities: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    yardstick: list[np.ndarray],
    p: int,
    frontier: OfferFrontier | None = None,
    rows: np.ndarray | None = None,
) -> np.ndarray:
    """The most party p could get (R,) by proposing next round what every other party would accept.

    Party q accepts what beats war and its AC_next threshold ``w_q + d_q (yardstick[q] - w_q)``,
    ``yardstick[q]`` (R,) being q's utility of its own next offer; p gets at least its war
    payoff by rejecting (where the others would accept nothing). Two parties: ``frontier``,
    the other party's offer frontier, gives the same by a look-up (its first
    entry worth the larger of the two floors to q is the candidate best for p among those
    q accepts; comparisons in float64 of the same float32 values, as the scan's).
    ``rows`` (R',): the replicas of ``utilities`` and ``frontier`` that ``war``,
    ``patience`` and ``yardstick`` hold (default: all), read in place rather than copied.
    """
    slack = acceptance_slack(utilities.dtype)
    if frontier is not None and utilities.shape[1] == 2:
        q = 1 - p
        threshold = continuation_threshold(war[:, q], patience[:, q], yardstick[q])
        x = np.maximum(war[:, q], (threshold - slack).astype(utilities.dtype).astype(float))
        index, _ = frontier_offer(frontier, x, rows)
        best = frontier.best if rows is None else frontier.best[rows]
        most = np.where(best >= x, pick(utilities, p, index, rows), -np.inf)
        return np.maximum(most, war[:, p])
    if rows is not None:
        utilities = rows_of(utilities, rows)
    ok = np.ones((utilities.shape[0], utilities.shape[2]), dtype=bool)
    for q in range(utilities.shape[1]):
        if q != p:
            threshold = continuation_threshold(war[:, q], patience[:, q], yardstick[q])
            ok &= utilities[:, q] >= (threshold - slack).astype(utilities.dtype)[:, None]
            ok &= utilities[:, q] >= dtype_ceiling(war[:, q], utilities.dtype)[:, None]
    return np.maximum(np.max(np.where(ok, utilities[:, p], -np.inf), axis=1), war[:, p])


def _accepted(
    utilities: np.ndarray,
    value: np.ndarray,
    targets: np.ndarray,
    own: np.ndarray | None,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int,
    reservation: np.ndarray | None,
    frontiers: Frontiers | None,
    lean: bool = False,
) -> np.ndarray:
    """Whether each party accepts the proposer's offer (R, P), given each party's value of it (R, P).

    A proposer accepts its own offer when it beats war. A responder compares the offer
    with the discounted value of what it could get next round (Rubinstein 1982: reject
    only for a better proposal of one's own that the other side would then accept): its
    own next offer (AC_next, Baarslag et al.), or less where the others would refuse that
    (``_attainable``, each with its own next offer as its yardstick), but never less than
    its ``reservation`` (R, P), the value of the continuing game, which the others' later
    concessions leave it. ``lean``: only the proposer made an offer this round (``own``'s
    other columns are none), so the others' next offers are looked up.
    """
    n = utilities.shape[1]
    accepted = np.ones(value.shape, dtype=bool)
    accepted[:, proposer] = value[:, proposer] >= war[:, proposer]
    # a responder accepts only an offer that beats its war payoff (``accepts``): the rest of the
    # rule, and every party's next offer it reads, matter in those replicas alone
    beats = {p: np.flatnonzero(value[:, p] >= war[:, p]) for p in range(n) if p != proposer}
    need = next(iter(beats.values())) if n == 2 else np.unique(np.concatenate(list(beats.values())))
    if not need.size:
        for p in beats:
            accepted[:, p] = False
        return accepted
    # looked up for those replicas where they are at most half (a scan copies their rows), else for all
    subset = need if 2 * need.size <= len(value) else None
    next_value = {
        q: _next_value(utilities, targets, None if lean and q != proposer else own, next_targets, q, frontiers, subset)
        for q in range(n)
    }
    for p, rows in beats.items():
        reachable = war[:, p].copy()  # a stand-in where the offer does not beat war: refused whatever it is
        if rows.size:
            at = rows if subset is None else np.searchsorted(need, rows)
            yardstick = [next_value[q][at] for q in range(n)]
            frontier = None if frontiers is None or n != 2 else frontiers.offers[1 - p]
            attainable = _attainable(utilities, rows_of(war, rows), rows_of(patience, rows), yardstick, p, frontier, rows)
            if reservation is not None:
                attainable = np.maximum(attainable, reservation[rows, p])
            reachable[rows] = np.minimum(yardstick[p], attainable)
        accepted[:, p] = accepts(value[:, p], reachable, patience[:, p], war[:, p])
    return accepted


def alternating_offers(
    utilities: np.ndarray,
    targets: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int,
    reservation: np.ndarray | None = None,
    frontiers: Frontiers | None = None,
    lean: bool = False,
) -> RoundResult:
    """One round of alternating offers (Rubinstein 1982; Osborne & Rubinstein 1990, ch. 3),
    stacked over P belligerents (Aydogan, Festen, Hindriks & Jonker 2017): the proposer
    rotates, every other party answers its offer, and the table is agreed when every
    belligerent accepts.

    Parameters
    ----------
    utilities : (R, P, K)
    targets, next_targets : (R, P)
        Each party's target utility this round and the next (for AC_next).
    war : (R, P)
        War payoffs this round (each party's reservation value).
    patience : (R, P)
        Per-round discount factors.
    proposer : int
        The party whose offer is on the table.
    reservation : (R, P), optional
        Each party's reservation next round (``sim.core.patience``): a responder does not
        count on less by rejecting.
    frontiers : Frontiers, optional
        The group's frontiers (``group_frontiers(utilities)``); without them every offer
        scans all candidates (same results, slower).
    lean : bool
        Only what decides the round: the proposer's offer, not every party's (``own``
        and ``answered`` of the others NaN). The same table, acceptances and agreement;
        for a model that keeps no trace and whose strategies read no memory of the
        round (time-dependent ones).

    Examples
    --------
    >>> import numpy as np
    >>> u = np.array([[[1.0, 0.6, 0.0], [0.0, 0.6, 1.0]]])  # R=1, P=2, K=3
    >>> r = alternating_offers(u, np.array([[0.5, 1.0]]), np.array([[0.5, 1.0]]),
    ...                        np.zeros((1, 2)), np.ones((1, 2)), proposer=0)
    >>> r.table.tolist(), r.accepted.tolist()  # party 1 takes 0.6: party 0 would accept no more for it
    ([1], [True])
    """
    n = utilities.shape[1]
    if lean:  # the proposer's offer alone: each party's value of the table
        table, own_table = _offer(utilities, targets, proposer, frontiers)
        value = np.stack([own_table if q == proposer else pick(utilities, q, table) for q in range(n)], axis=1)
        unmade = np.full(value.shape, np.nan)  # the others made no offer
        unmade[:, proposer] = own_table
        accepted_by = _accepted(utilities, value, targets, unmade, next_targets, war, patience, proposer, reservation,
                                frontiers, lean=True)
        return RoundResult(table, np.all(accepted_by, axis=1), unmade, np.full(value.shape, np.nan), value, accepted_by)
    offers, own = _offers(utilities, targets, frontiers)
    # seen[r, p, q]: party p's utility of party q's offer (the diagonal is ``own``)
    seen = np.stack(
        [np.stack([own[:, p] if q == p else pick(utilities, p, offers[:, q]) for q in range(n)], axis=1) for p in range(n)],
        axis=1,
    )
    answered = np.stack([others_mean(seen[:, p], p) for p in range(n)], axis=1)
    value = seen[:, :, proposer]  # the table: the proposer's own offer, answered by every other party
    accepted_by = _accepted(utilities, value, targets, own, next_targets, war, patience, proposer, reservation, frontiers)
    return RoundResult(offers[:, proposer], np.all(accepted_by, axis=1), own, answered, value, accepted_by)


def single_text(
    utilities: np.ndarray,
    text_weights: np.ndarray,
    targets: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    frontiers: Frontiers | None = None,
) -> RoundResult:
    """One round of a mediated single negotiating text (Fisher; Raiffa 1982, ch. 14).

    The mediator's text maximises ``sum_p text_weights[r, p] * U[r, p, k]`` over the
    candidates every party would accept now (worth its AC_next threshold and its war
    payoff), or, where there are none, over those both prefer to war, or over all
    candidates; each party answers it with AC_next. A mediator who drafts what the sides
    can accept puts a patience-weighted compromise on the table as soon as one exists
    (``sim.core.patience.nash_demands`` is always acceptable), instead of holding out for
    its own weights while the war goes on.

    Parameters
    ----------
    text_weights : (R, P)
        The mediator's current weights on each party (see ``revise_text_weights``).
    frontiers : Frontiers, optional
        ``group_frontiers(utilities, single_text=True)``: the text is then chosen among each
        replica's frontier entries (a scan only where rounding could tie a dominated one).
    """
    _, own = _offers(utilities, targets, frontiers)
    n_parties = utilities.shape[1]
    next_value = np.stack([_next_value(utilities, targets, own, next_targets, p, frontiers) for p in range(n_parties)], axis=1)
    slack = acceptance_slack(utilities.dtype)
    floor = (continuation_threshold(war, patience, next_value) - slack).astype(utilities.dtype)
    if frontiers is None or frontiers.text is None:
        text = _scanned_text(utilities, text_weights, war, floor)
    else:
        text, certain = frontier_text(frontiers.text, text_weights, war, floor)
        if not certain.all():
            rows = np.flatnonzero(~certain)
            text[rows] = _scanned_text(utilities[rows], text_weights[rows], war[rows], floor[rows])
    value = np.stack([pick(utilities, p, text) for p in range(n_parties)], axis=1)
    accepted_by = np.stack([accepts(value[:, p], next_value[:, p], patience[:, p], war[:, p]) for p in range(n_parties)],
                           axis=1)
    return RoundResult(text, np.all(accepted_by, axis=1), own, value, value, accepted_by)


def _scanned_text(
    utilities: np.ndarray, text_weights: np.ndarray, war: np.ndarray, floor: np.ndarray | None = None
) -> np.ndarray:
    """The mediator's text (R,) by scanning every candidate (the rule ``frontier_text``
    follows): the best score among the candidates worth at least ``floor`` (R, P, in the
    utilities' dtype) and war to every party, else among those worth war, else among all."""
    score = np.einsum("rp,rpk->rk", text_weights, utilities)
    rational: np.ndarray = zone_of_agreement(utilities, war)
    pool = rational
    if floor is not None:
        acceptable = rational & np.all(utilities >= floor[:, :, None], axis=1)
        pool = np.where(acceptable.any(axis=1)[:, None], acceptable, rational)
    text = np.argmax(np.where(pool, score, -np.inf), axis=1)
    return np.where(pool.any(axis=1), text, np.argmax(score, axis=1))


def revise_text_weights(text_weights: np.ndarray, shortfall: np.ndarray, step: float) -> np.ndarray:
    """The mediator's revision: more weight on parties the text leaves short of their target.

    ``w <- normalise(w * (1 + step * max(0, shortfall)))``: a multiplicative-weights
    update, so the text moves toward whoever objects, in proportion to the objection.

    Examples
    --------
    >>> import numpy as np
    >>> revise_text_weights(np.array([[0.5, 0.5]]), np.array([[0.2, 0.0]]), 1.0).round(4).tolist()
    [[0.5455, 0.4545]]
    """
    revised = text_weights * (1.0 + step * np.maximum(0.0, shortfall))
    return revised / revised.sum(axis=1, keepdims=True)
