"""Round protocols as pure functions on arrays: alternating offers and the mediated single text.

Each takes one agenda group's utilities ``(R, P, K)`` with the parties' targets and war
payoffs and returns what was on the table and who accepted; state lives in the agents.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

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


def _accepted(
    utilities: np.ndarray,
    value: np.ndarray,
    targets: np.ndarray,
    offers: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int | None,
) -> np.ndarray:
    """Whether each party accepts the table (R, P), given each party's value of it (R, P).

    A proposer accepts its own offer when it beats war; the others apply AC_next, where the
    offer a party would make next is its current one whenever its target stays put (the
    behaviour-dependent strategies), so it is searched for again only when it moves.
    """
    accepted = np.ones(value.shape, dtype=bool)
    for p in range(utilities.shape[1]):
        if p == proposer:
            accepted[:, p] = value[:, p] >= war[:, p]
        else:
            same = np.array_equal(next_targets[:, p], targets[:, p])
            next_offer = offers[:, p] if same else _offer(utilities, next_targets, p)
            accepted[:, p] = accepts(value[:, p], gather(utilities[:, p], next_offer), patience[:, p], war[:, p])
    return accepted


def alternating_offers(
    utilities: np.ndarray,
    targets: np.ndarray,
    next_targets: np.ndarray,
    war: np.ndarray,
    patience: np.ndarray,
    proposer: int,
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

    Examples
    --------
    >>> import numpy as np
    >>> u = np.array([[[1.0, 0.6, 0.0], [0.0, 0.6, 1.0]]])  # R=1, P=2, K=3
    >>> r = alternating_offers(u, np.array([[0.5, 1.0]]), np.array([[0.5, 1.0]]),
    ...                        np.zeros((1, 2)), np.ones((1, 2)), proposer=0)
    >>> r.table.tolist(), r.accepted.tolist()
    ([1], [False])
    """
    offers, own = _offers(utilities, targets)
    n = utilities.shape[1]
    # seen[r, p, q]: party p's utility of party q's offer (the diagonal is ``own``)
    seen = np.stack([np.stack([gather(utilities[:, p], offers[:, q]) for q in range(n)], axis=1) for p in range(n)], axis=1)
    answered = np.stack([others_mean(seen[:, p], p) for p in range(n)], axis=1)
    value = seen[:, :, proposer]  # the table: the proposer's own offer, answered by every other party
    accepted_by = _accepted(utilities, value, targets, offers, next_targets, war, patience, proposer)
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
    candidates both parties prefer to war, or over all candidates where there are none;
    each party answers it with AC_next.

    Parameters
    ----------
    text_weights : (R, P)
        The mediator's current weights on each party (see ``revise_text_weights``).
    """
    offers, own = _offers(utilities, targets)
    score = np.einsum("rp,rpk->rk", text_weights, utilities)
    rational: np.ndarray = np.all(utilities >= war[:, :, None], axis=1)
    text = np.argmax(np.where(rational, score, -np.inf), axis=1)
    text = np.where(rational.any(axis=1), text, np.argmax(score, axis=1))
    value = np.stack([gather(utilities[:, p], text) for p in range(utilities.shape[1])], axis=1)
    accepted_by = _accepted(utilities, value, targets, offers, next_targets, war, patience, proposer=None)
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
