"""The vectorised scoring core: utilities of candidate outcomes and war payoffs.

Every function works on whole arrays over replicas R, parties P, candidates K and issues
I; loops run only over issues or parties, which are few. Strategies and protocols live
elsewhere.
"""

from __future__ import annotations

import numpy as np


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
    distance = np.abs(position - ideal) / span
    return 1.0 - distance**risk_exponent


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

    ``U[r, p, k] = sum_j w[r, p, j] v(x[k, j]; ideal[r, p, j]) / sum_j w[r, p, j] - penalty[p, k]``.

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
        share = (weights[:, :, j] / total)[:, :, None]
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


def _outer_sum(before: np.ndarray, term: np.ndarray) -> np.ndarray:
    """``out[r, p, i * L + j] = before[r, p, i] + term[r, p, j]`` for ``before`` (R, P, M) and
    ``term`` (R, P, L), with numpy's inner loop over the longer of M and L."""
    r, n, m = before.shape
    levels = term.shape[2]
    if m < levels:
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

    Examples
    --------
    >>> import numpy as np
    >>> red_line_crossed(np.array([0.0, 0.25, 0.5]), 0.25, 0.0).tolist()
    [False, False, True]
    """
    if ideal <= limit:
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
) -> np.ndarray:
    """Expected utility of fighting on, over one group's issues (Fearon 1995).

    On an issue the war decides, the winner's ideal prevails: party p gets its own ideal
    with its believed probability ``win_probability[r, p]`` and the opponent's ideal
    otherwise. On an issue the war does not decide, the status quo stays. Two
    belligerents (P = 2): the opponent of party 0 is party 1 and vice versa.

    Parameters
    ----------
    win_probability : (R, P)
        Each party's own belief that it wins (beliefs may disagree: mutual optimism).
    ideal, weights : (R, P, J)
    risk_exponent : (R, P) or (P,)
    status_quo : (R, J) or (J,)
        Normalised status quo of the group's issues.
    war_decides : (J,) bool

    Returns
    -------
    numpy.ndarray
        ``(R, P)``, before the cost of war.
    """
    rho = np.broadcast_to(risk_exponent, win_probability.shape)[:, :, None]
    share = weights / weights.sum(axis=2, keepdims=True)
    return lottery_value(win_probability, losing_value(ideal, rho), kept_value(status_quo, ideal, rho), share, war_decides)


def losing_value(ideal: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Each party's value (R, P, J) of the opponent's ideal (two belligerents), what it gets
    on an issue the war decides if it loses; its own ideal is worth 1."""
    return ideal_point_value(ideal[:, ::-1, :], ideal, rho)


def kept_value(status_quo: np.ndarray, ideal: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Each party's value (R, P, J) of the status quo ``(R, J)`` or ``(J,)``, which stays on
    the issues the war does not decide."""
    return ideal_point_value(np.broadcast_to(status_quo, ideal.shape[:1] + ideal.shape[2:])[:, None, :], ideal, rho)


def lottery_value(
    win_probability: np.ndarray, losing: np.ndarray, kept: np.ndarray, share: np.ndarray, war_decides: np.ndarray
) -> np.ndarray:
    """``war_lottery`` from its parts: win beliefs (R, P), ``losing_value`` and ``kept_value``
    (R, P, J), salience shares (R, P, J) summing to 1 over J, and ``war_decides`` (J,)."""
    p = win_probability[:, :, None]
    fought = p + (1.0 - p) * losing
    value = np.where(war_decides[None, None, :], fought, kept)
    return np.asarray((share * value).sum(axis=2))
