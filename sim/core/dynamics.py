"""Per-round dynamics: battlefield drift of win beliefs and the status quo, the cost of
war, and scheduled events (sanctions, a deadline's pressure) moving war payoffs.

Pure functions of the compiled batch and the round; the model calls them each step.
"""

from __future__ import annotations

import numpy as np

from sim.core.batch import MIN_BELIEF, Batch
from sim.core.scoring import war_lottery


def win_beliefs(batch: Batch, t: int) -> np.ndarray:
    """Each belligerent's belief (R, P) that it wins, after ``t`` rounds of battlefield drift.

    The favoured side's members' beliefs rise by ``drift * t`` plus the accumulated
    shocks; every other belligerent's falls by the same amount (all read the same
    battlefield).
    """
    sign = batch.battlefield_sign
    if sign is None:
        return batch.win_probability
    shift = batch.battlefield_drift * t + batch.battlefield_shock[:, t]
    return np.clip(batch.win_probability + sign[None, :] * shift[:, None], MIN_BELIEF, 1.0 - MIN_BELIEF)


def status_quo(batch: Batch, t: int) -> np.ndarray:
    """Normalised status quo (R, I) after ``t`` rounds of drift, within [0, 1]."""
    return np.clip(batch.space.status_quo[None, :] + batch.status_quo_drift * t, 0.0, 1.0)


def event_shift(batch: Batch, t: int, group: str) -> np.ndarray:
    """Change (R, P) to war payoffs in ``group`` from events at round ``t``.

    Before ``from_round`` targets anticipate ``credibility * change`` (a threat's expected
    cost, Drezner 1999); from then on a carried-out event applies the full change and a
    bluff none. Only the group ``unless_agreed`` is affected: agreeing it averts the event.
    """
    shift = np.zeros((batch.replicas, len(batch.parties)))
    for e, averted_by in enumerate(batch.event_group):
        if averted_by != group:
            continue
        change = batch.event_change[:, e]
        anticipated = batch.event_credibility[:, e, None] * change
        applied = np.where(batch.event_carried_out[:, e, None], change, 0.0)
        shift += np.where((t < batch.event_from_round[:, e])[:, None], anticipated, applied)
    return shift


def concession_horizon(batch: Batch, group: str) -> np.ndarray:
    """The round (R, P), from 0, by which each belligerent concedes to its reservation in ``group``.

    The session's last round, or earlier where a threat on the party falls due first: a
    threat that agreeing ``group`` averts and that lowers the party's war payoff from round
    ``F`` is a deadline at round ``F - 1`` if certain, none if a pure bluff, and in
    between in proportion to its credibility. This is the deadline effect: concessions
    gather before the moment disagreement gets costlier (Roth, Murnighan & Schoumaker
    1988). A time-dependent strategy's clock runs to this round (``NegotiationModel``).
    """
    last = float(batch.rounds - 1)
    horizon = np.full((batch.replicas, len(batch.parties)), last)
    for e, averted_by in enumerate(batch.event_group):
        if averted_by != group:
            continue
        due = np.maximum(batch.event_from_round[:, e] - 1, 0).astype(float)
        deadline = due + (1.0 - batch.event_credibility[:, e]) * (last - due)
        threatened = batch.event_change[:, e, :] < 0
        horizon = np.where(threatened, np.minimum(horizon, deadline[:, None]), horizon)
    return horizon


def war_payoffs(batch: Batch, t: int) -> list[np.ndarray]:
    """Each group's disagreement point (R, P) at round ``t``: the war lottery, its cost, events.

    In a group that ends the war (holds the ceasefire), failing to agree means fighting
    on: the war's cost and its growth per round of talks (war weariness) are subtracted.
    """
    win = win_beliefs(batch, t)
    sq = status_quo(batch, t)
    out = []
    for group in batch.groups:
        idx = group.issues
        value = war_lottery(
            win,
            batch.ideal[:, :, idx],
            batch.weights[:, :, idx],
            batch.risk_exponent,
            sq[:, idx],
            batch.space.war_decides[idx],
            batch.side,
            batch.capability,
        )
        if group.ends_war:
            value = value - (batch.war_cost + t * batch.war_cost_per_round)
        out.append(value + event_shift(batch, t, group.name))
    return out
