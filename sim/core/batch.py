"""``Batch``: one compiled negotiation as arrays over (replica R, party P, issue I), with
every number and rule the engine reads while it runs. Compiling a scenario into a batch
is ``sim.engine.compile``; nothing here knows the scenario schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from sim.core.space import Group, IssueSpace
from sim.core.strategies import Concession

MIN_BELIEF = 0.01
"""Win beliefs are clipped to [MIN_BELIEF, 1 - MIN_BELIEF]: no side is certain of war."""


@dataclass(frozen=True)
class Labels:
    """What a batch is called, for tables and charts: none of it is read while running."""

    scenario: str
    title: str
    question: str
    seed: int
    party_names: tuple[str, ...]  # (P,) display names of the belligerents
    units: dict[str, str]  # issue name -> natural units
    events: tuple[str, ...] = ()  # (E,) display names of the scheduled events
    exchanges: dict[str, tuple[float, str | None]] = field(default_factory=dict)  # issue -> (per, of): "a for per"


@dataclass(frozen=True)
class TruceRule:
    """An agenda group that is a truce: while its agreed duration runs, the cost of war in
    the groups that end the war is lowered by ``relief`` (``sim.core.dynamics.truce_relief``)."""

    group: int  # index of the truce's agenda group
    column: int  # position of its duration issue among the group's issues
    days_per_unit: float  # 1 for days, 1/24 for hours
    relief: float  # share of the cost of war it removes, 0..1
    breaks: float  # probability per round of the truce that it breaks


@dataclass(frozen=True)
class Batch:
    """Everything the engine reads, as arrays; belligerents only on the party axis P.

    Every number the engine reads while it runs is an array over the replica axis R, so
    batches of scenarios that differ only in such numbers (one point of a sweep each)
    stack into one (``stack_batches``); ``structure`` says what must be equal for that.
    The rules (protocol, strategies, who the battlefield favours, which group averts each
    event) are plain fields: the engine never reads the scenario back.
    """

    labels: Labels
    structure: str  # equal for batches that may be stacked (see ``sim.engine.compile.structure_key``)
    space: IssueSpace
    groups: list[Group]
    parties: tuple[str, ...]  # (P,) belligerents
    rounds: int  # the deadline: rounds of talks
    protocol: Literal["alternating_offers", "single_text"]
    first_proposer: int  # index into ``parties`` of the first proposer (alternating offers)
    after_deadline: Literal["resume", "war"]  # what follows a last round without a deal (sim.core.patience)
    mediators: tuple[str, ...]  # every party of role mediator
    text_mediator: str | None  # the mediator writing the single text
    mediator_step: float  # the single-text revision step
    strategies: tuple[Concession, ...]  # (P,)
    side: np.ndarray  # (P,) int: each belligerent's side, 0 .. S-1 in order of first appearance
    battlefield_sign: np.ndarray | None  # (P,) +1 on the side the battlefield favours, -1 else; None: no drift
    event_group: tuple[str | None, ...]  # (E,) the agenda group whose agreement averts each event
    start: int
    stop: int
    ideal: np.ndarray  # (R, P, I) normalised
    weights: np.ndarray  # (R, P, I) salience weights (sum 1 over I)
    risk_exponent: np.ndarray  # (R, P)
    capability: np.ndarray  # (R, P): weights of members within a side and of sides among winners
    win_probability: np.ndarray  # (R, P) own belief of winning, before dynamics
    war_cost: np.ndarray  # (R, P)
    war_cost_per_round: np.ndarray  # (R, P)
    patience: np.ndarray  # (R, P)
    event_carried_out: np.ndarray  # (R, E) bool
    event_credibility: np.ndarray  # (R, E)
    event_change: np.ndarray  # (R, E, P) change of each belligerent's war payoff
    event_from_round: np.ndarray  # (R, E) int
    battlefield_drift: np.ndarray  # (R,) per round, toward the favoured side
    status_quo_drift: np.ndarray  # (R, I) per round, normalised
    battlefield_shock: np.ndarray  # (R, T) cumulative shocks to the favoured side's belief
    utilities: list[np.ndarray]  # per group (R, P, K_g)
    opens_after: tuple[tuple[int, ...], ...] = ()  # (G,) groups each waits for; () : none waits
    truces: tuple[TruceRule, ...] = ()  # (N,) the agenda groups that are truces
    round_days: float | None = None  # calendar days of a round (None: not given)
    truce_break_draw: np.ndarray | None = None  # (R, N, T) uniform draws: truce n breaks in round t where < breaks

    @property
    def replicas(self) -> int:
        """R, the number of replicas held."""
        return self.stop - self.start


PER_REPLICA = (
    "ideal",
    "weights",
    "risk_exponent",
    "capability",
    "win_probability",
    "war_cost",
    "war_cost_per_round",
    "patience",
    "event_carried_out",
    "event_credibility",
    "event_change",
    "event_from_round",
    "battlefield_drift",
    "status_quo_drift",
    "battlefield_shock",
)
"""The fields of ``Batch`` with a leading replica axis (besides ``utilities``)."""


def take_replicas(batch: Batch, index: np.ndarray) -> Batch:
    """The batch restricted to (or reordered by) replica positions ``index``."""
    index = np.asarray(index)
    if index.dtype == bool:  # a mask: its positions
        index = np.flatnonzero(index)
    # a take along the first axis: the same copy as ``[index]``, several times faster on arrays of 2+ axes
    per_replica: dict[str, Any] = {name: getattr(batch, name).take(index, axis=0) for name in PER_REPLICA}
    if batch.truce_break_draw is not None:
        per_replica["truce_break_draw"] = batch.truce_break_draw.take(index, axis=0)
    return replace(batch, start=0, stop=len(index), utilities=[u.take(index, axis=0) for u in batch.utilities],
                   **per_replica)


def stack_batches(batches: list[Batch]) -> Batch:
    """One batch of the batches' replicas in order: replica i of the result is the i-th overall.

    The batches must share ``structure``: they may differ in any number the engine holds
    per replica, never in shapes, protocol or strategies. The first batch's labels stand
    for all of them.
    """
    first = batches[0]
    if len({b.structure for b in batches}) > 1:
        raise ValueError("batches differ in structure (protocol, strategies, issues or agenda) and cannot be stacked")
    if len(batches) == 1:
        return first
    per_replica: dict[str, Any] = {name: np.concatenate([getattr(b, name) for b in batches]) for name in PER_REPLICA}
    if first.truce_break_draw is not None:
        per_replica["truce_break_draw"] = np.concatenate([b.truce_break_draw for b in batches if b.truce_break_draw is not None])
    utilities = [np.concatenate([b.utilities[g] for b in batches]) for g in range(len(first.groups))]
    total = sum(b.replicas for b in batches)
    return replace(first, start=0, stop=total, utilities=utilities, **per_replica)
