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
    utilities: np.ndarray = np.zeros((ideal.shape[0], ideal.shape[1], level_index.shape[0]), dtype=dtype)
    rho = risk_exponent[None, :, None]
    for j, positions in enumerate(level_positions):
        # value of each grid level (R, P, L_j), then gathered per candidate: no (R, P, K, J) array
        per_level = ideal_point_value(positions[None, None, :], ideal[:, :, j, None], rho)
        share = (weights[:, :, j] / total)[:, :, None]
        utilities += (share * per_level).astype(dtype)[:, :, level_index[:, j]]
    utilities -= penalty[None, :, :].astype(dtype)
    return utilities


def red_line_crossed(position: np.ndarray, limit: float, ideal: float) -> np.ndarray:
    """Whether positions lie beyond a public red line, on the side away from the ideal.

    A red line drawn at the ideal itself ("not one step") is crossed by any other
    position, on either side: at an end of the scale, by every position short of it.

    Examples
    --------
    >>> import numpy as np
    >>> red_line_crossed(np.array([0.0, 0.25, 0.5]), 0.25, 0.0).tolist()
    [False, False, True]
    >>> red_line_crossed(np.array([0.5, 0.75, 1.0]), 1.0, 1.0).tolist()
    [True, True, False]
    """
    if abs(ideal - limit) <= 1e-12:
        return np.abs(position - limit) > 1e-12
    if ideal < limit:
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
    opponent_ideal = ideal[:, ::-1, :]
    loses = ideal_point_value(opponent_ideal, ideal, rho)  # own ideal is worth 1
    p = win_probability[:, :, None]
    fought = p + (1.0 - p) * loses
    kept = ideal_point_value(np.broadcast_to(status_quo, ideal.shape[:1] + ideal.shape[2:])[:, None, :], ideal, rho)
    value = np.where(war_decides[None, None, :], fought, kept)
    share = weights / weights.sum(axis=2, keepdims=True)
    return np.asarray((share * value).sum(axis=2))
