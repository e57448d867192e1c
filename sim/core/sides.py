"""Who is "the other side": per party, the weights over the other belligerents, and the
side positions a war imposes. Two belligerents on two sides reduce to "the other party".

Pure functions on small arrays; the war lottery itself is ``sim.core.scoring.war_lottery``
and the protocols that use these weights are ``sim.core.protocols``.
"""

from __future__ import annotations

import numpy as np


def other_weights(n_parties: int) -> np.ndarray:
    """Weights ``(P, P)`` of each party over the others: 1 off the diagonal, 0 on it.

    An offer must be accepted by every belligerent (unanimity, as in the stacked
    alternating offers of Aydogan, Festen, Hindriks & Jonker 2017), members of the
    proposer's own side included, so every other belligerent weighs the same: an offer
    maximises the plain sum of the others' utilities among those meeting its target.

    Examples
    --------
    >>> other_weights(3).tolist()
    [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    return 1.0 - np.eye(n_parties)


def weighted_others(values: np.ndarray, p: int) -> np.ndarray:
    """Sum over the other parties ``sum_q w[p, q] values[:, q]`` of ``values (R, P, ...)``.

    With one other party its own slice is returned (the same numbers, no arithmetic),
    so two belligerents keep today's results bit for bit.
    """
    weights = other_weights(values.shape[1])[p]
    others = np.flatnonzero(weights)
    if len(others) == 1:
        return values[:, others[0]]
    return np.sum(values[:, others], axis=1)


def others_mean(values: np.ndarray, p: int) -> np.ndarray:
    """Mean of ``values (R, P)`` over the parties other than p (R,): the other party's
    value itself when there is one (tit-for-tat's "the other side's concession")."""
    others = np.flatnonzero(other_weights(values.shape[1])[p])
    if len(others) == 1:
        return values[:, others[0]]
    return np.asarray(values[:, others].mean(axis=1))


def others_min(values: np.ndarray, p: int) -> np.ndarray:
    """Minimum of ``values (R, P)`` over the parties other than p (R,).

    Zeuthen's rule for N parties (Harsanyi 1977, Rational Behavior and Bargaining
    Equilibrium, ch. 10): the party with the smallest risk limit concedes, so a party
    concedes when its own limit is not above the smallest of the others'.
    """
    others = np.flatnonzero(other_weights(values.shape[1])[p])
    return np.asarray(values[:, others].min(axis=1))


def side_shares(side: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """Capability shares ``(R, S, P)`` of each side's members: ``c_q / sum_{q in s} c_q``.

    A side of one member gives it share 1 exactly (``c / c``); a side whose members all
    have capability 0 splits equally.

    Parameters
    ----------
    side : (P,) int
        Each belligerent's side index, 0 .. S-1.
    capability : (R, P)

    Examples
    --------
    >>> side_shares(np.array([0, 1, 1]), np.array([[1.0, 3.0, 1.0]])).tolist()
    [[[1.0, 0.0, 0.0], [0.0, 0.75, 0.25]]]
    """
    member = (side[None, :] == np.arange(side.max() + 1)[:, None]).astype(float)  # (S, P)
    c = np.asarray(capability, dtype=float)[:, None, :] * member[None]
    total = c.sum(axis=2, keepdims=True)
    equal = member[None] / member.sum(axis=1)[None, :, None]
    return np.where(total > 0, c / np.where(total > 0, total, 1.0), equal)


def side_positions(ideal: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Each side's position ``(R, S, J)``: the capability-weighted mean of its members' ideals.

    Achen's compromise model (2006, The European Union Decides) as the settlement a
    winning coalition imposes; a side of one member imposes that member's ideal exactly.
    """
    # a member's share is 1.0 or 0.0 on a side of one, so the sum is that ideal exactly
    return np.asarray(np.einsum("rsp,rpj->rsj", shares, ideal))


def loser_split(side: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """Probability weights ``(R, P, S)``: if party p's side loses, the chance each other side wins.

    Proportional to the other sides' total capability (a contest success function of
    the ratio form, Tullock 1980 / Hirshleifer 1989); equal shares where they have none.
    Two sides: weight 1 on the other side, 0 on one's own, exactly.

    Examples
    --------
    >>> loser_split(np.array([0, 1, 2]), np.array([[1.0, 1.0, 3.0]]))[0, 0].tolist()
    [0.0, 0.25, 0.75]
    """
    n_sides = int(side.max()) + 1
    member = (side[None, :] == np.arange(n_sides)[:, None]).astype(float)  # (S, P)
    total = np.einsum("rp,sp->rs", np.asarray(capability, dtype=float), member)  # (R, S)
    out = np.empty((total.shape[0], len(side), n_sides))
    for p, own in enumerate(side):
        others = np.arange(n_sides) != own
        c = np.where(others[None, :], total, 0.0)
        mass = c.sum(axis=1, keepdims=True)
        equal = others[None, :] / others.sum()
        out[:, p] = np.where(mass > 0, c / np.where(mass > 0, mass, 1.0), equal)
    return out
