"""Round protocols as pure functions on arrays: alternating offers and the mediated single text.

Each takes one agenda group's utilities ``(R, P, K)`` with the parties' targets and war
payoffs and returns what was on the table and who accepted; state lives in the agents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.patience import acceptance_slack, continuation_threshold
from sim.core.sides import others_mean, weighted_others
from sim.core.strategies import accepts, offer_for_target


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
    return np.take_along_axis(utilities, index[:, None], axis=1)[:, 0]


def _offer(utilities: np.ndarray, targets: np.ndarray, p: int) -> np.ndarray:
    """Party p's offer (R,) for its target: best for the other belligerents among those it
    accepts, i.e. the largest sum of their utilities (``sim.core.sides.other_weights``)."""
    return offer_for_target(utilities[:, p], weighted_others(utilities, p), targets[:, p])


def _offers(utilities: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both parties' offers (R, P) and each party's utility of its own offer (R, P)."""
    offers = np.stack([_offer(utilities, targets, p) for p in range(utilities.shape[1])], axis=1)
    own = np.stack([gather(utilities[:, p], offers[:, p]) for p in range(utilities.shape[1])], axis=1)
    return offers, own


def _next_value(utilities: np.ndarray, targets: np.ndarray, offers: np.ndarray, next_targets: np.ndarray, p: int) -> np.ndarray:
    """Party p's utility (R,) of the offer it would make next round (AC_next's yardstick),
    counted at no more than the target it will hold: an offer can be worth more to its
    maker than it asks (on a coarse grid, or with more than two parties, where it is the
    best for the others' sum), and a party at its reservation asks only that.

    The offer it would make next is its current one whenever its target stays put (the
    behaviour-dependent strategies), so it is searched for again only when it moves.
    """
    same = np.array_equal(next_targets[:, p], targets[:, p])
    next_offer = offers[:, p] if same else _offer(utilities, next_targets, p)
    return np.minimum(gather(utilities[:, p], next_offer), next_targets[:, p])


def _attainable(
    utilities: np.ndarray, war: np.ndarray, patience: np.ndarray, yardstick: list[np.ndarray], p: int
) -> np.ndarray:
    """The most party p could get (R,) by proposing next round what every other party would accept.

    Party q accepts what beats war and its AC_next threshold ``w_q + d_q (yardstick[q] - w_q)``,
    ``yardstick[q]`` (R,) being q's utility of its own next offer; p gets at least its war
    payoff by rejecting (where the others would accept nothing).
    """
    slack = acceptance_slack(utilities.dtype)
    ok = np.ones((utilities.shape[0], utilities.shape[2]), dtype=bool)
    for q in range(utilities.shape[1]):
        if q != p:
            threshold = continuation_threshold(war[:, q], patience[:, q], yardstick[q])
            ok &= utilities[:, q] >= (threshold - slack).astype(utilities.dtype)[:, None]
            ok &= utilities[:, q] >= war[:, q, None]
    return np.maximum(np.max(np.where(ok, utilities[:, p], -np.inf), axis=1), war[:, p])


def _accepted(
    utilities: np.ndarray,
    value: np.ndarray,
    targets: np.ndarray,
    offers: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int,
    reservation: np.ndarray | None,
) -> np.ndarray:
    """Whether each party accepts the proposer's offer (R, P), given each party's value of it (R, P).

    A proposer accepts its own offer when it beats war. A responder compares the offer
    with the discounted value of what it could get next round (Rubinstein 1982: reject
    only for a better proposal of one's own that the other side would then accept): its
    own next offer (AC_next, Baarslag et al.), or less where the others would refuse that
    (``_attainable``, each with its own next offer as its yardstick), but never less than
    its ``reservation`` (R, P), the value of the continuing game, which the others' later
    concessions leave it.
    """
    n = utilities.shape[1]
    accepted = np.ones(value.shape, dtype=bool)
    accepted[:, proposer] = value[:, proposer] >= war[:, proposer]
    next_value = {p: _next_value(utilities, targets, offers, next_targets, p) for p in range(n) if p != proposer}
    for p in next_value:
        reachable = next_value[p].copy()
        # only where the offer beats p's war payoff can the rest of the rule matter
        rows = np.flatnonzero(value[:, p] >= war[:, p])
        if rows.size:
            proposer_next = _next_value(utilities[rows], targets[rows], offers[rows], next_targets[rows], proposer)
            yardstick = [next_value[q][rows] if q != proposer else proposer_next for q in range(n)]
            attainable = _attainable(utilities[rows], war[rows], patience[rows], yardstick, p)
            if reservation is not None:
                attainable = np.maximum(attainable, reservation[rows, p])
            reachable[rows] = np.minimum(next_value[p][rows], attainable)
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

    Examples
    --------
    >>> import numpy as np
    >>> u = np.array([[[1.0, 0.6, 0.0], [0.0, 0.6, 1.0]]])  # R=1, P=2, K=3
    >>> r = alternating_offers(u, np.array([[0.5, 1.0]]), np.array([[0.5, 1.0]]),
    ...                        np.zeros((1, 2)), np.ones((1, 2)), proposer=0)
    >>> r.table.tolist(), r.accepted.tolist()  # party 1 takes 0.6: party 0 would accept no more for it
    ([1], [True])
    """
    offers, own = _offers(utilities, targets)
    n = utilities.shape[1]
    # seen[r, p, q]: party p's utility of party q's offer (the diagonal is ``own``)
    seen = np.stack([np.stack([gather(utilities[:, p], offers[:, q]) for q in range(n)], axis=1) for p in range(n)], axis=1)
    answered = np.stack([others_mean(seen[:, p], p) for p in range(n)], axis=1)
    value = seen[:, :, proposer]  # the table: the proposer's own offer, answered by every other party
    accepted_by = _accepted(utilities, value, targets, offers, next_targets, war, patience, proposer, reservation)
    return RoundResult(offers[:, proposer], np.all(accepted_by, axis=1), own, answered, value, accepted_by)


def single_text(
    utilities: np.ndarray,
    text_weights: np.ndarray,
    targets: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
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
    """
    offers, own = _offers(utilities, targets)
    n_parties = utilities.shape[1]
    next_value = np.stack([_next_value(utilities, targets, offers, next_targets, p) for p in range(n_parties)], axis=1)
    score = np.einsum("rp,rpk->rk", text_weights, utilities)
    rational: np.ndarray = np.all(utilities >= war[:, :, None], axis=1)
    slack = acceptance_slack(utilities.dtype)
    floor = (continuation_threshold(war, patience, next_value) - slack).astype(utilities.dtype)
    acceptable = rational & np.all(utilities >= floor[:, :, None], axis=1)
    pool = np.where(acceptable.any(axis=1)[:, None], acceptable, rational)
    text = np.argmax(np.where(pool, score, -np.inf), axis=1)
    text = np.where(pool.any(axis=1), text, np.argmax(score, axis=1))
    value = np.stack([gather(utilities[:, p], text) for p in range(n_parties)], axis=1)
    accepted_by = np.stack([accepts(value[:, p], next_value[:, p], patience[:, p], war[:, p]) for p in range(n_parties)],
                           axis=1)
    return RoundResult(text, np.all(accepted_by, axis=1), own, value, value, accepted_by)


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
