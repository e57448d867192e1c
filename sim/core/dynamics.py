"""Per-round dynamics: battlefield drift of win beliefs and the status quo, the cost of
war, and scheduled events (sanctions, a deadline's pressure) moving war payoffs.

Functions of the compiled batch and the round; ``WarPayoffs`` keeps what does not change
from round to round, and the model calls it each step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sim.core.batch import MIN_BELIEF, Batch, take_replicas
from sim.core.frontier import rows_of
from sim.core.scoring import kept_value, lottery_value, salience_shares, war_values
from sim.core.sides import loser_split, side_shares


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
    ``WarPayoffs`` keeps the two changes between rounds and adds them in this order.
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


def truce_days(batch: Batch, agreement: np.ndarray) -> np.ndarray:
    """Each truce's agreed duration in days (N, R) from the agreed candidates ``agreement``
    (G, R) (-1: none; its duration is then meaningless and never read)."""
    out = np.zeros((len(batch.truces), batch.replicas))
    for n, truce in enumerate(batch.truces):
        group = batch.groups[truce.group]
        issue = group.issues[truce.column]
        unit = group.candidates[np.maximum(agreement[truce.group], 0), truce.column]
        natural = batch.space.to_natural(unit[:, None], np.array([issue]))[:, 0]
        out[n] = natural * truce.days_per_unit
    return out


def truce_in_force(batch: Batch, t: int, agreed_round: np.ndarray, agreement: np.ndarray) -> np.ndarray:
    """Whether each truce's term runs in round ``t`` (N, R), breaks aside.

    A truce agreed in round ``a`` runs from the start of round ``a + 1`` for its agreed
    number of days; round ``t`` starts on day ``t * round_days``, so it falls within the
    truce where ``a < t < a + 1 + days / round_days``: a 30-day truce with 7-day rounds
    covers the 5 rounds after its agreement (the fifth starts on day 28).
    """
    days = truce_days(batch, agreement)
    per_round = float(batch.round_days or 1.0)
    agreed = np.stack([agreed_round[truce.group] for truce in batch.truces]) if batch.truces else days.astype(np.int64)
    return (agreed >= 0) & (agreed < t) & (t < agreed + 1 + days / per_round)


def truce_relief(batch: Batch, in_force: np.ndarray, broken: np.ndarray) -> np.ndarray:
    """The share (R,) of the cost of war lifted in round t: the largest relief among the
    truces in force (``in_force`` (N, R)) that have not broken (``broken`` (N, R))."""
    relief = np.zeros(batch.replicas)
    for n, truce in enumerate(batch.truces):
        relief = np.maximum(relief, np.where(in_force[n] & ~broken[n], truce.relief, 0.0))
    return relief


@dataclass(frozen=True)
class _GroupWar:
    """What one group's war payoffs keep from round to round, arrays (R, P, J) or (R, P)."""

    issues: np.ndarray  # (J,) the group's issues
    ideal: np.ndarray
    rho: np.ndarray  # (R, P, 1) risk exponents
    winning: np.ndarray  # value of the own side's position (the sides' war, sim.core.sides)
    losing: np.ndarray  # value of the other sides' positions, by their chances of winning
    kept: np.ndarray | None  # value of the status quo; None where it drifts
    share: np.ndarray  # salience shares, summing to 1 over J
    decides: np.ndarray  # (J,) bool: the issues the war decides
    ends_war: bool
    events: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # (anticipated, applied, from_round) of events it averts


class WarPayoffs:
    """Each group's disagreement point (R, P) by round: the war lottery, its cost, events.

    In a group that ends the war (holds the ceasefire), failing to agree means fighting
    on: the war's cost and its growth per round of talks (war weariness) are subtracted,
    times ``1 - relief`` while an agreed truce lifts the share ``relief`` of it.
    Events change the targets' war payoffs in the group ``unless_agreed`` (agreeing it
    averts them): before ``from_round`` targets anticipate ``credibility * change`` (a
    threat's expected cost, Drezner 1999); from then on a carried-out event applies the
    full change and a bluff none.

    What does not change from round to round (each group's values of its side winning and
    losing (``war_values``) and of the status quo, salience shares, the events' two
    changes, and the whole lottery where neither beliefs nor the status quo drift) is
    computed once, at construction; round t's
    payoffs are ``self(t)``, the same arithmetic in the same order each round.
    """

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self.beliefs_move = batch.battlefield_sign is not None
        self.status_quo_moves = bool(np.any(batch.status_quo_drift))
        self._static: dict[int, np.ndarray] = {}  # group -> its lottery, where nothing drifts
        rho = np.broadcast_to(batch.risk_exponent, batch.win_probability.shape)[:, :, None]
        # the sides' members' shares and each loser's split of the winners: the same for every group
        two_sides = len(batch.parties) == 2 and batch.side[0] != batch.side[1]  # ``war_values`` needs no shares
        sides = None if two_sides else (side_shares(batch.side, batch.capability), loser_split(batch.side, batch.capability))
        self.groups = []
        for group in batch.groups:
            idx = group.issues
            ideal, weights = batch.ideal[:, :, idx], batch.weights[:, :, idx]
            winning, losing = war_values(ideal, rho, batch.side, batch.capability, sides)
            events = [
                (
                    batch.event_credibility[:, e, None] * batch.event_change[:, e],
                    np.where(batch.event_carried_out[:, e, None], batch.event_change[:, e], 0.0),
                    batch.event_from_round[:, e],
                )
                for e, averted_by in enumerate(batch.event_group)
                if averted_by == group.name
            ]
            self.groups.append(
                _GroupWar(
                    issues=idx,
                    ideal=ideal,
                    rho=rho,
                    winning=winning,
                    losing=losing,
                    kept=None if self.status_quo_moves else kept_value(status_quo(batch, 0)[:, idx], ideal, rho),
                    share=salience_shares(weights),
                    decides=batch.space.war_decides[idx],
                    ends_war=group.ends_war,
                    events=events,
                )
            )

    def lottery(self, g: int, t: int) -> np.ndarray:
        """Group ``g``'s war lottery (R, P) at round ``t``, before the cost of war and events."""
        if g in self._static:
            return self._static[g]
        group = self.groups[g]
        kept = group.kept
        if kept is None:
            kept = kept_value(status_quo(self.batch, t)[:, group.issues], group.ideal, group.rho)
        value = lottery_value(win_beliefs(self.batch, t), group.winning, group.losing, kept, group.share, group.decides)
        if not self.beliefs_move and not self.status_quo_moves:
            self._static[g] = value
        return value

    def group(self, g: int, t: int, relief: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """Group ``g``'s war payoffs (R, P) at round ``t`` (``__call__``), of replicas ``rows``
        only where given ((R', P), ``relief`` still (R,)): the same values as those rows of all
        (``take``: each row's arithmetic is its own)."""
        if rows is not None:
            return self.take(rows).group(g, t, None if relief is None else relief[rows])
        batch = self.batch
        group = self.groups[g]
        value = self.lottery(g, t)
        if group.ends_war:
            cost = batch.war_cost + t * batch.war_cost_per_round
            value = value - (cost if relief is None else (1.0 - relief)[:, None] * cost)
        shift = np.zeros((batch.replicas, len(batch.parties)))
        for anticipated, applied, from_round in group.events:
            shift += np.where((t < from_round)[:, None], anticipated, applied)
        return value + shift

    def take(self, rows: np.ndarray) -> WarPayoffs:
        """The same payoffs for replicas ``rows`` (R',) alone: ``take(rows).group(g, t, relief[rows])``
        is ``group(g, t, relief, rows)`` bit for bit (each row's arithmetic is its own), with what
        every round reads of those rows gathered once instead of every round."""
        sub = object.__new__(WarPayoffs)
        sub.batch = take_replicas(replace(self.batch, utilities=[]), rows)
        sub.beliefs_move, sub.status_quo_moves = self.beliefs_move, self.status_quo_moves
        sub._static = {g: rows_of(value, rows) for g, value in self._static.items()}
        sub.groups = [
            replace(group, ideal=rows_of(group.ideal, rows), rho=rows_of(group.rho, rows),
                    winning=rows_of(group.winning, rows), losing=rows_of(group.losing, rows),
                    kept=None if group.kept is None else rows_of(group.kept, rows), share=rows_of(group.share, rows),
                    events=[(rows_of(a, rows), rows_of(b, rows), f[rows]) for a, b, f in group.events])
            for group in self.groups
        ]
        return sub

    def least_bound(self, g: int) -> np.ndarray | None:
        """A lower bound (R, P) on group ``g``'s war payoffs in every round to the deadline,
        without truces' relief (None where the status quo drifts: no bound is kept).

        Each term's least over the rounds: the lottery at the least and the greatest win
        belief of the rounds (it is linear in the belief, so its least over them is at one
        end), the cost of war of the first or last round (linear in the round), and each
        event's anticipated or applied change, whichever is lower; less a margin far above
        the rounding of either side (1e-9 of the magnitude), so every round's payoffs as
        ``group`` computes them are at or above it."""
        group = self.groups[g]
        if group.kept is None:
            return None
        batch = self.batch
        if not self.beliefs_move:
            value = self.lottery(g, 0)  # the same in every round
        else:
            beliefs = [win_beliefs(batch, t) for t in range(batch.rounds)]
            value = np.minimum(*(lottery_value(p, group.winning, group.losing, group.kept, group.share, group.decides)
                                 for p in (np.minimum.reduce(beliefs), np.maximum.reduce(beliefs))))
        if group.ends_war:
            last = batch.rounds - 1
            value = value - np.maximum(batch.war_cost, batch.war_cost + last * batch.war_cost_per_round)
        for anticipated, applied, _ in group.events:
            value = value + np.minimum(anticipated, applied)
        return value - 1e-9 * (1.0 + np.abs(value))

    def __call__(self, t: int, relief: np.ndarray | None = None) -> list[np.ndarray]:
        """Each group's war payoffs (R, P) at round ``t``; ``relief`` (R,): the share of the
        cost of war an agreed truce lifts in this round (``truce_relief``; None: no truce)."""
        return [self.group(g, t, relief) for g in range(len(self.groups))]

    def extremes(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each group's least and greatest war payoffs (R, P) over the rounds to the deadline,
        with no and with full relief where the scenario has truces (the range a chart of
        the talks can meet before they are played)."""
        batch = self.batch
        reliefs: list[np.ndarray | None] = [None]
        if batch.truces:
            reliefs = [np.zeros(batch.replicas), np.ones(batch.replicas)]
        low: list[np.ndarray] = []
        high: list[np.ndarray] = []
        for t in range(batch.rounds):
            for relief in reliefs:
                for g, war in enumerate(self(t, relief)):
                    if len(low) <= g:
                        low.append(war.copy())
                        high.append(war.copy())
                    else:
                        np.minimum(low[g], war, out=low[g])
                        np.maximum(high[g], war, out=high[g])
        return list(zip(low, high, strict=True))


def war_payoffs(batch: Batch, t: int) -> list[np.ndarray]:
    """Each group's disagreement point (R, P) at round ``t`` (``WarPayoffs``, which a model
    builds once and calls every round)."""
    return WarPayoffs(batch)(t)
