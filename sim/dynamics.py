"""Per-round dynamics: battlefield drift of win beliefs and the status quo, the cost of
war, and scheduled events (sanctions, a deadline's pressure) moving war payoffs.

Pure functions of the compiled problem and the round; the model calls them each step.
"""

from __future__ import annotations

import numpy as np

from sim.problem import MIN_BELIEF, Problem
from sim.scoring import war_lottery


def win_beliefs(problem: Problem, t: int) -> np.ndarray:
    """Each belligerent's belief (R, P) that it wins, after ``t`` rounds of battlefield drift.

    The favoured side's belief rises by ``drift * t`` plus the accumulated shocks; the
    other side's falls by the same amount (both read the same battlefield).
    """
    bf = problem.scenario.battlefield
    if bf is None:
        return problem.win_probability
    sign = np.where(np.array(problem.parties) == bf.favours, 1.0, -1.0)
    shift = problem.battlefield_drift * t + problem.battlefield_shock[:, t]
    return np.clip(problem.win_probability + sign[None, :] * shift[:, None], MIN_BELIEF, 1.0 - MIN_BELIEF)


def status_quo(problem: Problem, t: int) -> np.ndarray:
    """Normalised status quo (R, I) after ``t`` rounds of drift, within [0, 1]."""
    return np.clip(problem.space.status_quo[None, :] + problem.status_quo_drift * t, 0.0, 1.0)


def event_shift(problem: Problem, t: int, group: str) -> np.ndarray:
    """Change (R, P) to war payoffs in ``group`` from events at round ``t``.

    Before ``from_round`` targets anticipate ``credibility * change`` (a threat's expected
    cost, Drezner 1999); from then on a carried-out event applies the full change and a
    bluff none. Only the group ``unless_agreed`` is affected: agreeing it averts the event.
    """
    shift = np.zeros((problem.replicas, len(problem.parties)))
    for e, event in enumerate(problem.scenario.events):
        if event.unless_agreed != group:
            continue
        change = problem.event_change[:, e]
        anticipated = problem.event_credibility[:, e, None] * change
        applied = np.where(problem.event_carried_out[:, e, None], change, 0.0)
        shift += np.where((t < problem.event_from_round[:, e])[:, None], anticipated, applied)
    return shift


def war_payoffs(problem: Problem, t: int) -> list[np.ndarray]:
    """Each group's disagreement point (R, P) at round ``t``: the war lottery, its cost, events.

    In a group that ends the war (holds the ceasefire), failing to agree means fighting
    on: the war's cost and its growth per round of talks (war weariness) are subtracted.
    """
    win = win_beliefs(problem, t)
    sq = status_quo(problem, t)
    out = []
    for group in problem.groups:
        idx = group.issues
        value = war_lottery(
            win,
            problem.ideal[:, :, idx],
            problem.weights[:, :, idx],
            problem.risk_exponent,
            sq[:, idx],
            problem.space.war_decides[idx],
        )
        if group.ends_war:
            value = value - (problem.war_cost + t * problem.war_cost_per_round)
        out.append(value + event_shift(problem, t, group.name))
    return out
