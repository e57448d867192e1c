"""The vectorised scoring core: utilities of candidate outcomes and war payoffs.

Every function works on whole arrays over replicas R, parties P, candidates K and issues
I; loops run only over issues or parties, which are few. Strategies and protocols live
elsewhere.
"""

from __future__ import annotations

import numpy as np

from sim.core.sides import loser_split, side_positions, side_shares


def ideal_point_value(position: np.ndarray, ideal: np.ndarray, risk_exponent: np.ndarray) -> np.ndarray:
    """Value of a position on one issue to a party with an ideal point, in [0, 1].

    ``v = 1 - (|x - ideal| / span) ** risk_exponent`` with ``span = max(ideal, 1 - ideal)``,
    the farthest any position can be from the ideal on [0, 1]: 1 at the ideal, 0 at the
    far end. An exponent above 1 makes the party risk-averse over positions (a lottery
    between near and far is worth less than its mean); below 1 risk-acceptant, as in the
    spatial utility functions of Scholz, Calbert & Smith (2011).

    Parameters broadcast: e.g. ``position (K,)`` against ``ideal (R, P, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> ideal_point_value(np.array([0.0, 0.5, 1.0]), np.array(1.0), np.array(1.0)).tolist()
    [0.0, 0.5, 1.0]
    >>> float(ideal_point_value(np.array(0.5), np.array(0.0), np.array(2.0)))
    0.75
    """
    span = np.maximum(ideal, 1.0 - ideal)
    distance = np.asarray(np.subtract(position, ideal))  # one array, then in place: the same operations
    np.abs(distance, out=distance)
    np.divide(distance, span, out=distance)
    return 1.0 - _power(distance, np.asarray(risk_exponent))


def _power(distance: np.ndarray, rho: np.ndarray, split: bool = True) -> np.ndarray:
    """``distance ** rho`` without calling pow where the exponent is 1 (``x ** 1`` is ``x``:
    pow's error is under one unit in the last place and ``x`` is exact, so every element is
    the value pow gives). pow is costly and risk-neutral parties common. Where exponents
    differ, they are taken party by party (axis 1 of the broadcast shape: replicas,
    parties, ...), each party's slice with pow or without (``split``), any rest masked."""
    unit = rho == 1.0
    if not unit.any():
        return distance**rho
    shape = np.broadcast_shapes(distance.shape, rho.shape)
    if unit.all():
        return np.broadcast_to(distance, shape)  # a view: the caller's ``1 - x`` makes the array
    if split and len(shape) >= 2:
        d, r = np.broadcast_to(distance, shape), np.broadcast_to(rho, shape)
        out = np.empty(shape, dtype=np.result_type(distance, rho))
        for p in range(shape[1]):
            out[:, p] = _power(d[:, p], r[:, p], split=False)
        return out
    powered = np.array(np.broadcast_to(distance, shape), dtype=np.result_type(distance, rho))
    np.power(powered, rho, out=powered, where=~unit)
    return powered


def group_utilities(
    level_index: np.ndarray,
    level_positions: list[np.ndarray],
    ideal: np.ndarray,
    weights: np.ndarray,
    risk_exponent: np.ndarray,
    penalty: np.ndarray,
    *,
    dtype: type = np.float32,
) -> np.ndarray:
    """Utilities of every candidate of one agenda group for every party and replica.

    ``U[r, p, k] = sum_j w[r, p, j] v(x[k, j]; ideal[r, p, j]) / sum_j w[r, p, j] - penalty[p, k]``
    (the weighted sum 0 where a replica's draws left party p no weight on the group).

    Parameters
    ----------
    level_index : (K, J) int
        Grid level of each of the group's J issues in candidate k.
    level_positions : list of J arrays (L_j,)
        The normalised position of each level.
    ideal, weights : (R, P, J)
        Ideal points (normalised) and salience weights of the group's issues.
    risk_exponent : (P,)
    penalty : (P, K)
        Red-line and commitment-problem costs of each candidate (see ``candidate_penalties``).

    Returns
    -------
    numpy.ndarray
        ``(R, P, K)``: within ``[-max penalty, 1]``.
    """
    total = weights.sum(axis=2)
    rho = risk_exponent[None, :, None]
    terms = []  # each issue's weighted value of each grid level (R, P, L_j): no (R, P, K, J) array
    for j, positions in enumerate(level_positions):
        per_level = ideal_point_value(positions[None, None, :], ideal[:, :, j, None], rho)
        # a party whose draws left it no weight on the whole group cares for none of its candidates
        share = np.divide(weights[:, :, j], total, out=np.zeros_like(total), where=total > 0)[:, :, None]
        terms.append((share * per_level).astype(dtype))
    if _is_product_grid(level_index, [t.shape[2] for t in terms]):
        # the candidates are the grid in C order: an outer sum gives every candidate's terms
        # added in the same order, in the same dtype, as the gather below (bit for bit)
        utilities = np.zeros((*terms[0].shape[:2], 1), dtype=dtype)
        for term in terms:
            utilities = _outer_sum(utilities, term)
    else:
        utilities = np.zeros((ideal.shape[0], ideal.shape[1], level_index.shape[0]), dtype=dtype)
        for j, term in enumerate(terms):
            utilities += term[:, :, level_index[:, j]]
    utilities -= penalty[None, :, :].astype(dtype)
    return utilities


OUTER_BROADCAST_CELLS = 2**15
"""From this many candidates per (replica, party) on, an outer sum broadcasts (contiguous
writes) even where the earlier issues have more levels than the last (strided writes lose
once a row's output leaves the first-level cache)."""


def _outer_sum(before: np.ndarray, term: np.ndarray) -> np.ndarray:
    """``out[r, p, i * L + j] = before[r, p, i] + term[r, p, j]`` for ``before`` (R, P, M) and
    ``term`` (R, P, L), with numpy's inner loop over the longer of M and L, or broadcast once
    M x L reaches ``OUTER_BROADCAST_CELLS`` (the same additions either way)."""
    r, n, m = before.shape
    levels = term.shape[2]
    if m < levels or m * levels >= OUTER_BROADCAST_CELLS:
        return (before[:, :, :, None] + term[:, :, None, :]).reshape(r, n, m * levels)
    out = np.empty((r, n, m, levels), dtype=np.result_type(before, term))
    for j in range(levels):
        np.add(before, term[:, :, j, None], out=out[:, :, :, j])
    return out.reshape(r, n, m * levels)


def _is_product_grid(level_index: np.ndarray, levels: list[int]) -> bool:
    """Whether ``level_index`` (K, J) lists every combination of levels in C order (the last
    issue varying fastest), as ``sim.engine.compile.agenda_groups`` builds candidates."""
    if level_index.shape != (int(np.prod(levels)), len(levels)):
        return False
    mesh = np.meshgrid(*[np.arange(n) for n in levels], indexing="ij")
    return bool(np.array_equal(level_index, np.stack([m.ravel() for m in mesh], axis=1)))


def red_line_crossed(position: np.ndarray, limit: float, ideal: float) -> np.ndarray:
    """Whether positions lie beyond a public red line, on the side away from the ideal.

    A limit at the ideal itself ("not one step from it") is crossed on the side with room:
    above it, unless the ideal is the top of the range (``limit = ideal = 1``: anything less).

    Examples
    --------
    >>> import numpy as np
    >>> red_line_crossed(np.array([0.0, 0.25, 0.5]), 0.25, 0.0).tolist()
    [False, False, True]
    >>> red_line_crossed(np.array([0.75, 1.0]), 1.0, 1.0).tolist()
    [True, False]
    """
    if ideal < limit or (ideal == limit and limit < 1.0):
        return position > limit + 1e-12
    return position < limit - 1e-12


def commitment_penalty(ceasefire: np.ndarray, relief: np.ndarray | float, penalty: float, relieved_at: float) -> np.ndarray:
    """Commitment-problem cost of a ceasefire to the side that fears the other regroups.

    ``penalty * ceasefire * max(0, 1 - relief / relieved_at)`` (Powell 2006: an
    expected shift of power can empty the bargaining range; here the fearing side is
    reassured only by the relieving issue, e.g. withdrawal first).

    Examples
    --------
    >>> import numpy as np
    >>> commitment_penalty(np.array([1.0, 1.0, 0.5]), np.array([0.0, 1.0, 0.25]), 0.4, 0.5).tolist()
    [0.4, 0.0, 0.1]
    """
    return penalty * ceasefire * np.maximum(0.0, 1.0 - np.asarray(relief) / relieved_at)


def war_lottery(
    win_probability: np.ndarray,
    ideal: np.ndarray,
    weights: np.ndarray,
    risk_exponent: np.ndarray,
    status_quo: np.ndarray,
    war_decides: np.ndarray,
    side: np.ndarray | None = None,
    capability: np.ndarray | None = None,
) -> np.ndarray:
    """Expected utility of fighting on, over one group's issues (Fearon 1995), for sides.

    War is a contest between sides (THEORY.md, "Coalition war: a side's win probability
    against the other side; members share the side's fate but keep their own preferences
    and costs"). On an issue the war decides, the winning side's position prevails: the
    capability-weighted mean of its members' ideals (``sim.core.sides.side_positions``,
    Achen's compromise model of a collective decision), not each member's own ideal,
    since one settlement is imposed and members who differ from their patron do not get
    their own way by winning. Party p's side wins with its own belief
    ``win_probability[r, p]``; if it loses, each other side wins with a share of
    ``1 - p`` proportional to its capability (``sim.core.sides.loser_split``). A party
    values each outcome with its own ideal and risk exponent; costs are subtracted by the
    caller, per party. On an issue the war does not decide, the status quo stays.

    With every party its own side (the default, and two belligerents on two sides) this
    is ``p + (1 - p) v(opponent's ideal)``, the same numbers as the two-party rule.

    Parameters
    ----------
    win_probability : (R, P)
        Each party's own belief that its side wins (beliefs may disagree: mutual optimism).
    ideal, weights : (R, P, J)
    risk_exponent : (R, P) or (P,)
    status_quo : (R, J) or (J,)
        Normalised status quo of the group's issues.
    war_decides : (J,) bool
    side : (P,) int, optional
        Each party's side index 0 .. S-1; default each party its own side.
    capability : (R, P), optional
        Weights of members within a side and of sides among the winners; default 1.

    Returns
    -------
    numpy.ndarray
        ``(R, P)``, before the cost of war.

    Examples
    --------
    >>> import numpy as np
    >>> one = np.ones((1, 3, 1))
    >>> ideal = np.array([[[1.0], [0.0], [0.5]]])  # B and C on one side, C softer
    >>> war_lottery(np.array([[0.5, 0.5, 0.5]]), ideal, one, np.ones(3), np.zeros(1), np.array([True]),
    ...             side=np.array([0, 1, 1])).round(4).tolist()
    [[0.625, 0.375, 0.25]]
    """
    n_parties = win_probability.shape[1]
    side = np.arange(n_parties) if side is None else np.asarray(side)
    capability = np.ones(win_probability.shape) if capability is None else np.asarray(capability, dtype=float)
    rho = np.broadcast_to(risk_exponent, win_probability.shape)[:, :, None]
    winning, losing = war_values(ideal, rho, side, capability)
    return lottery_value(
        win_probability, winning, losing, kept_value(status_quo, ideal, rho), salience_shares(weights), war_decides
    )


def salience_shares(weights: np.ndarray) -> np.ndarray:
    """Salience weights (R, P, J) as shares summing to 1 over J; all 0 where a replica's
    draws left a party no weight on the group (it is then worth 0 to that party)."""
    total = weights.sum(axis=2, keepdims=True)
    return np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)


def war_values(
    ideal: np.ndarray,
    rho: np.ndarray,
    side: np.ndarray,
    capability: np.ndarray,
    sides: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each party's values (R, P, J) on the issues a war decides: of its own side winning
    (its side's position) and of losing (the other sides' positions, weighted by the chance
    each wins, ``sim.core.sides.loser_split``). ``rho`` is (R, P, 1); ``sides``: the
    sides' shares and the losers' split where already found (``side_shares``, ``loser_split``).

    Two belligerents on two sides: winning is worth 1 (its own ideal) and losing the
    value of the opponent's ideal, exactly; those two are computed as such (each side's
    position is its one member's ideal, ``side_positions``, and the loser's split puts
    weight 1 on the other side and 0 on its own, ``loser_split``, so the general sum gives
    the same numbers), without the sides' shares or a value of every side's position.

    Examples
    --------
    >>> import numpy as np
    >>> ideal = np.array([[[0.0, 0.2], [1.0, 0.6]]])  # (R, P, J): two parties, two issues
    >>> winning, losing = war_values(ideal, np.ones((1, 2, 1)), np.array([0, 1]), np.ones((1, 2)))
    >>> winning.tolist(), losing.round(6).tolist()
    ([[[1.0, 1.0], [1.0, 1.0]]], [[[0.0, 0.5], [0.0, 0.333333]]])
    """
    n_parties = ideal.shape[1]
    if n_parties == 2 and side[0] != side[1]:
        own = ideal_point_value(ideal, ideal, rho)  # what each side imposes on winning: its member's ideal
        return own, ideal_point_value(ideal[:, ::-1], ideal, rho)  # losing: the other's ideal
    shares, split = (side_shares(side, capability), loser_split(side, capability)) if sides is None else sides
    positions = side_positions(ideal, shares)  # (R, S, J)
    # value of each side's position to each party (R, P, S, J)
    values = ideal_point_value(positions[:, None, :, :], ideal[:, :, None, :], rho[:, :, :, None])
    winning = values[:, np.arange(n_parties), side, :]  # (R, P, J): own side's position
    losing = np.einsum("rps,rpsj->rpj", split, values)
    return winning, losing


def kept_value(status_quo: np.ndarray, ideal: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Each party's value (R, P, J) of the status quo ``(R, J)`` or ``(J,)``, which stays on
    the issues the war does not decide."""
    return ideal_point_value(np.broadcast_to(status_quo, ideal.shape[:1] + ideal.shape[2:])[:, None, :], ideal, rho)


def lottery_value(
    win_probability: np.ndarray,
    winning: np.ndarray,
    losing: np.ndarray,
    kept: np.ndarray,
    share: np.ndarray,
    war_decides: np.ndarray,
) -> np.ndarray:
    """``war_lottery`` from its parts: win beliefs (R, P), ``war_values`` and ``kept_value``
    (R, P, J), salience shares (R, P, J) summing to 1 over J, and ``war_decides`` (J,)."""
    p = win_probability[:, :, None]
    fought = p * winning + (1.0 - p) * losing
    value = np.where(war_decides[None, None, :], fought, kept)
    return np.asarray((share * value).sum(axis=2))
