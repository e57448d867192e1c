"""``NegotiationModel``: the one engine, a Mesa model over a compiled batch of replicas.

Each Mesa step is one round: dynamics move the war payoffs, the protocol runs in every open
agenda group, agreements are recorded, and the trace and DataCollector are updated. The
model reads only its ``Batch``; the scenario it came from is never read back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.batch import Batch
from sim.core.dynamics import WarPayoffs, concession_horizon, truce_in_force, truce_relief
from sim.core.frontier import PRUNE_MIN, OfferFrontier, chunk_rows, frontier_rows, rows_of
from sim.core.patience import has_zone, nash_demands, rubinstein_values, stahl_demands
from sim.core.protocols import Frontiers, RoundResult, alternating_offers, frontiers_rows, group_frontiers, single_text
from sim.core.strategies import Memory, TimeDependent, risk_limit
from sim.engine.agents import Mediator, Party
from sim.engine.compile import compile_batch
from sim.inputs.schema import Scenario
from sim.theory import mesa_core as mesa  # Mesa's own classes, without running mesa/__init__ (start-up)

FORECLOSE_FROM = 0.125
"""Without a trace, a group's foreclosed replicas are looked for where at least this share of
them has no zone of agreement in round 0 (looking costs every round's war payoffs up front)."""

FORECLOSE_SAMPLE = 256
"""That share is guessed from the block's first this many replicas."""

FRONTIERS_FOR_OPEN_FROM = 0.5
"""Where at least this share of a group's replicas is foreclosed (and the group has fewer
than ``sim.core.frontier.PRUNE_MIN`` candidates), only the others get offer frontiers: the
foreclosed ones play one round, by the scan over every candidate, which costs less than
building their frontiers (the same offers either way)."""

COMPACT_BELOW = 0.5
"""A group runs on its open replicas alone (their rows gathered, the agents' state of those
rows swapped in and back) once fewer than this share of the block's replicas is open:
every replica's round depends on its own row only, so results are the same either way."""


@dataclass(frozen=True)
class Trace:
    """Per-round arrays, each (G, T, R, P), NaN where a group had already agreed.

    ``own``: each party's utility of its own offer; ``answered``: its utility of the offer
    it answered (the other side's or the mediator's text); ``war``: its war payoff;
    ``table`` (G, T, R): the candidate on the table, -1 once the group had agreed.
    """

    own: np.ndarray
    answered: np.ndarray
    war: np.ndarray
    table: np.ndarray


class NegotiationModel(mesa.Model):
    """A negotiation over one compiled batch of replicas.

    Parameters
    ----------
    batch : Batch
        From ``sim.engine.compile_batch(scenario, start, stop)`` (or several stacked).
    trace : bool
        Keep the per-round trace and the agents' memory of every round (default). Without
        them (``trace=False``: a run read only for its results; ``trace`` then holds no
        replica), a replica that cannot agree in a group plays only the group's last round
        there, for each party's answer to the last table (``foreclosed``): every result
        array is the same.

    Notes
    -----
    Randomness has one road: every per-replica draw (saliences, ideals, beliefs, whether a
    threat is carried out, battlefield shocks) was made when the batch was compiled, from
    streams keyed by (scenario seed, stream, global replica index) (``sim.core.streams``).
    Mesa's own generator, seeded with the scenario seed, draws nothing: a step is
    deterministic given the batch.

    Rounds are Mesa's ``steps``: during a step the round being played is ``steps - 1``
    (from 0); ``run_model()`` plays until the deadline or until every group agreed.

    Foreclosure (``trace=False``): agreeing needs a table every party values at no less
    than its war payoff, so where no candidate beats even each party's least war payoff
    over the rounds to the deadline, the group cannot agree in that replica. With
    memoryless strategies (time-dependent ones), alternating offers, no truces and no
    phases, its rounds before the last change nothing but the trace and the agents'
    memory, so they are not played there; the last is, for ``accepted_by``. Under the same
    conditions every round is lean (``alternating_offers(lean=True)``): only the proposer
    makes an offer, the one on the table, and the agents keep no memory of the round, not
    even their targets (time-dependent strategies read none): ``Party.memory`` stays as it
    was built, and rounds on some replicas swap no state in and out.

    Examples
    --------
    >>> from sim.inputs import load_scenario
    >>> from sim.engine import compile_batch
    >>> model = NegotiationModel(compile_batch(load_scenario("istanbul_2025").scenario, stop=4))
    >>> model.run_model()
    >>> model.agreed_round.shape
    (2, 4)
    """

    def __init__(self, batch: Batch, trace: bool = True) -> None:
        super().__init__(rng=batch.labels.seed)
        self.batch = batch
        self.rounds = batch.rounds
        self.keeps_trace = trace
        self.parties = [Party(self, name, i, batch.strategies[i]) for i, name in enumerate(batch.parties)]
        self.mediators = {name: Mediator(self, name, batch.mediator_step) for name in batch.mediators}
        n_groups, n_parties = len(batch.groups), len(batch.parties)
        self.agreed_round = np.full((n_groups, batch.replicas), -1, dtype=np.int64)
        self.agreement = np.full((n_groups, batch.replicas), -1, dtype=np.int64)
        self.agreement_war = np.full((n_groups, batch.replicas, n_parties), np.nan)
        # each party's acceptance of the agreement, or of the last table while none was reached
        self.accepted_by = np.zeros((n_groups, batch.replicas, n_parties), dtype=bool)
        # the trace; without one, its arrays hold no replica (nothing to read back)
        shape = (n_groups, self.rounds, batch.replicas if trace else 0, n_parties)
        self.trace = Trace(
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape, np.nan, np.float32),
            np.full(shape[:3], -1, np.int32),
        )
        self._horizon = [concession_horizon(batch, g.name) for g in batch.groups]
        self._stationary_cache: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n_groups
        self._rows_kept: list[tuple[np.ndarray, tuple] | None] = [None] * n_groups  # ``_inputs`` of the last rows
        self.war_payoffs = WarPayoffs(batch)
        # phases: the round (from 0) each group opened in each replica, -1 while it waits for its prerequisites
        self.phased = [bool(before) for before in batch.opens_after] or [False] * n_groups
        self.opened_round = np.zeros((n_groups, batch.replicas), dtype=np.int64)
        self.opened_round[np.array(self.phased, dtype=bool)] = -1
        self.truce_broken = np.zeros((len(batch.truces), batch.replicas), dtype=bool)
        reporters = {
            f"agreed_{g.name}": (lambda m, i=i: float((m.agreed_round[i] >= 0).mean())) for i, g in enumerate(batch.groups)
        }
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        # foreclosure: each group's replicas that cannot agree (None: none, or not looked for)
        self.foreclosed: list[np.ndarray | None] = [None] * n_groups
        self._wars: list[dict[int, np.ndarray]] = [{} for _ in range(n_groups)]  # war payoffs by round, once computed
        self._rows_wars: list[tuple[np.ndarray, list[np.ndarray]] | None] = [None] * n_groups  # some rows', by round
        self._taken_wars: list[tuple[np.ndarray, WarPayoffs] | None] = [None] * n_groups  # ``_war`` of the last rows
        self._extremes: list[tuple[np.ndarray, np.ndarray] | None] = [None] * n_groups  # best, worst, where found
        # offers come from each replica's frontier, built once: utilities do not change while running;
        # where most replicas are foreclosed, only the others get frontiers (``_fronted``: their rows)
        self._fronted: list[np.ndarray | None] = [None] * n_groups
        self.frontiers: list[Frontiers | None] = []
        # where nothing reads a round but its table and answers (no trace, memoryless talks), the
        # replicas that cannot agree are foreclosed and every round is lean: only the proposer's
        # offer is made, and the agents keep no memory of the round (none of theirs reads it)
        self.lean = not trace and self._memoryless()
        for g, u in enumerate(batch.utilities):
            # few candidates: foreclosure first (a scan), then frontiers of the others only; many
            # (from PRUNE_MIN on, where pruned frontiers cost less than a round of scans): frontiers
            # of all, then foreclosure by look-ups on them
            small = u.shape[2] < PRUNE_MIN
            if self.lean and small:
                self._foreclose(g)
            shut = self.foreclosed[g]
            if shut is not None and shut.mean() >= FRONTIERS_FOR_OPEN_FROM:
                self._fronted[g] = np.flatnonzero(~shut)
                u = u[self._fronted[g]]
            self.frontiers.append(group_frontiers(u, batch.protocol == "single_text") if len(u) else None)
            if self.lean and not small:
                self._foreclose(g, self._offer_frontiers(g))
        extremes = [self._extremes_of(g) for g in range(n_groups)]
        self._best, self._worst = [best for best, _ in extremes], [worst for _, worst in extremes]

    def _extremes_of(self, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Each party's best and worst utility (R, P) in group ``g``: as the foreclosure's zone
        test found them, else as two parties' frontiers of every replica did, else anew."""
        kept = self._extremes[g]
        if kept is not None:
            return kept
        frontiers = self.frontiers[g]
        if frontiers is not None and self._fronted[g] is None and frontiers.best is not None and frontiers.worst is not None:
            return frontiers.best, frontiers.worst
        utilities = self.batch.utilities[g]
        return utilities.max(axis=2), utilities.min(axis=2)

    def _foreclose(self, g: int, frontiers: tuple[OfferFrontier, ...] | None = None) -> None:
        """Find the replicas that cannot agree in group ``g`` (``foreclosed``), from each
        party's least war payoff over the rounds: by look-ups on the group's offer
        ``frontiers`` where given, else by a scan that also finds each party's extremes.
        Looked for only where at least ``FORECLOSE_FROM`` of the replicas have no zone of
        agreement in round 0 (a guess at whether it pays; results are the same either way).

        The least payoffs are first bounded from below (``WarPayoffs.least_bound``): a
        replica with no zone even there has none at its least. Every round's payoffs are
        computed only for the others, and kept for their rounds (``_war``)."""
        utilities = self.batch.utilities[g]
        first = self._wars[g][0] = self.war_payoffs.group(g, 0)
        sample = slice(0, FORECLOSE_SAMPLE)  # the guess: from the first replicas
        if frontiers is not None:
            sampled = tuple(frontier_rows(f, np.arange(min(FORECLOSE_SAMPLE, len(first)))) for f in frontiers)
            open_at_first = has_zone(utilities[sample], first[sample], sampled)
        else:
            open_at_first = has_zone(utilities[sample], first[sample])
        if np.mean(~open_at_first) < FORECLOSE_FROM:
            return
        least = self.war_payoffs.least_bound(g)
        bounded = least is not None
        if least is None:  # no bound: every round's payoffs of every replica
            wars = [first] + [self.war_payoffs.group(g, t) for t in range(1, self.rounds)]
            self._wars[g] = dict(enumerate(wars))
            least = np.minimum.reduce(wars)
        if frontiers is not None:
            shut = ~has_zone(utilities, least, frontiers)
        else:  # chunks of rows read once, in cache: whether each has a zone, and each party's extremes
            best, worst = np.empty(least.shape, utilities.dtype), np.empty(least.shape, utilities.dtype)
            shut = np.empty(len(least), dtype=bool)
            step = chunk_rows(utilities.shape[1] * utilities.shape[2])
            for lo in range(0, len(least), step):
                chunk = utilities[lo : lo + step]
                shut[lo : lo + step] = ~has_zone(chunk, least[lo : lo + step])
                np.max(chunk, axis=2, out=best[lo : lo + step])
                np.min(chunk, axis=2, out=worst[lo : lo + step])
            self._extremes[g] = (best, worst)
        if bounded:  # those with a zone at the bound, at their least payoffs
            rows = np.flatnonzero(~shut)
            if rows.size:
                theirs = self.war_payoffs.take(rows)
                wars = [rows_of(first, rows)] + [theirs.group(g, t) for t in range(1, self.rounds)]
                self._rows_wars[g] = (rows, wars)
                shut[rows] = ~has_zone(utilities, np.minimum.reduce(wars), frontiers, rows)
        self.foreclosed[g] = shut if shut.any() else None

    def _memoryless(self) -> bool:
        """Whether a replica's round depends on its round and war payoffs alone, not on the
        rounds before it (foreclosure's condition): alternating offers between time-dependent
        strategies, with no truce and no phase (they tie a group's war payoffs or opening to
        the other groups' agreements)."""
        b = self.batch
        return (b.protocol == "alternating_offers" and not b.truces and not any(self.phased)
                and all(isinstance(s, TimeDependent) for s in b.strategies))

    def _war(self, g: int, t_round: int, relief: np.ndarray | None, rows: np.ndarray | None = None) -> np.ndarray:
        """Group ``g``'s war payoffs in round ``t_round`` (of replicas ``rows`` only where given):
        as the foreclosure kept them, of every replica or of some (``_rows_wars``), else anew."""
        kept = self._wars[g].get(t_round)
        if kept is not None:
            return kept if rows is None else rows_of(kept, rows)
        some = self._rows_wars[g]
        if some is not None and rows is not None:
            at = np.minimum(np.searchsorted(some[0], rows), some[0].size - 1)
            if np.array_equal(some[0][at], rows):  # all of them among those kept
                return rows_of(some[1][t_round], at)
        if rows is None:
            return self.war_payoffs.group(g, t_round, relief)
        taken = self._taken_wars[g]  # those rows' payoffs, their inputs gathered once while the same rows come back
        if taken is None or not np.array_equal(taken[0], rows):
            taken = self._taken_wars[g] = (rows, self.war_payoffs.take(rows))
        return taken[1].group(g, t_round, None if relief is None else relief[rows])

    def proposer_at(self, round_: int) -> int:
        """Whose offer is on the table in round ``round_`` (from 0): a belligerent's index,
        or -1 under the single-text protocol, where the mediator writes the text."""
        if self.batch.protocol == "single_text":
            return -1
        return (self.batch.first_proposer + round_) % len(self.parties)

    def _reservations(
        self, g: int, t_round: int, war: np.ndarray, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each party's reservation (R, P) in group ``g`` this round and next (NaN: its war payoff).

        Alternating offers between two: the value of the continuing game if talks resume
        after the deadline, or Stahl's over the rounds left if the war goes on for good; a
        single text or more than two belligerents: the patience-weighted Nash solution, and
        war after a final deadline. ``rows``: those replicas only, ``war`` being theirs.
        """
        b = self.batch
        if b.protocol != "single_text" and len(self.parties) == 2 and b.after_deadline != "war":
            now = self._stationary(g, war, rows)  # Rubinstein's values read the block's rows in place
            return now, now
        utilities, patience, _, _, _, frontiers = self._inputs(g, rows)
        if b.protocol == "single_text" or len(self.parties) != 2:
            now = nash_demands(utilities, war, patience)
            final = t_round == self.rounds - 1 and b.after_deadline == "war"
            return now, np.full_like(now, np.nan) if final else now
        offers = None if frontiers is None else frontiers.offers
        return stahl_demands(utilities, war, patience, self.proposer_at(t_round), self.rounds - t_round, offers)

    def _inputs(
        self, g: int, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, Frontiers | None]:
        """Group ``g``'s fixed inputs of every replica, or of replicas ``rows``: utilities,
        patience, concession horizon, each party's best and worst utility and the frontiers.
        Those of ``rows`` are gathered once and kept while the same rows come back, round
        after round (a group's open replicas change only as they agree)."""
        b = self.batch
        if rows is None:
            return b.utilities[g], b.patience, self._horizon[g], self._best[g], self._worst[g], self._frontiers_of(g)
        kept = self._rows_kept[g]
        if kept is not None and np.array_equal(kept[0], rows):
            return kept[1]
        inputs = (rows_of(b.utilities[g], rows), rows_of(b.patience, rows), rows_of(self._horizon[g], rows),
                  rows_of(self._best[g], rows), rows_of(self._worst[g], rows), self._frontiers_of(g, rows))
        self._rows_kept[g] = (rows, inputs)
        return inputs

    def _frontiers_of(self, g: int, rows: np.ndarray | None = None) -> Frontiers | None:
        """Group ``g``'s frontiers of every replica or of replicas ``rows``; None (the scan, the
        same offers) where some of them have none (foreclosed ones: ``_fronted``)."""
        fronted = self._fronted[g]
        if fronted is None:
            return self.frontiers[g] if rows is None else frontiers_rows(self.frontiers[g], rows)
        if rows is None or not fronted.size:
            return None
        at = np.minimum(np.searchsorted(fronted, rows), fronted.size - 1)
        return frontiers_rows(self.frontiers[g], at) if np.array_equal(fronted[at], rows) else None

    def _offer_frontiers(self, g: int) -> tuple[OfferFrontier, ...] | None:
        """Group ``g``'s offer frontiers of every replica by proposer (None: every look-up scans instead)."""
        frontiers = self._frontiers_of(g)
        return None if frontiers is None else frontiers.offers

    def _stationary(self, g: int, war: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """``rubinstein_values`` for group ``g`` (of replicas ``rows``, ``war`` being theirs),
        solved again only for replicas whose war payoffs moved since they were last solved
        (a replica's values depend on its row alone)."""
        b = self.batch
        cached = self._stationary_cache[g]
        if cached is None:  # NaN war payoffs: every replica is solved the first time
            cached = self._stationary_cache[g] = (np.full(b.patience.shape, np.nan), np.full(b.patience.shape, np.nan))
        cached_war, cached_values = cached
        # every replica: the cache's own rows, read and written in place (no index arrays)
        every: np.ndarray | slice = slice(None) if rows is None else rows
        if rows is None:
            utilities, patience, offers = b.utilities[g], b.patience, self._offer_frontiers(g)
        else:  # those replicas' inputs, gathered once (``_inputs``)
            utilities, patience, _, _, _, frontiers = self._inputs(g, rows)
            offers = None if frontiers is None else frontiers.offers
        moved = np.flatnonzero(np.any(war != (cached_war if rows is None else rows_of(cached_war, rows)), axis=1))
        shut = self.foreclosed[g]
        if shut is not None and moved.size:  # no zone of agreement in any round: no value (NaN), none to solve
            closed = shut[moved if rows is None else rows[moved]]
            if closed.any():
                cached_values[(moved if rows is None else rows[moved])[closed]] = np.nan
                moved = moved[~closed]
        fronted = self._fronted[g]
        if moved.size == len(war):
            cached_values[every] = rubinstein_values(utilities, war, patience, b.first_proposer, offers)
        elif moved.size:
            at, solved_on = moved if rows is None else rows[moved], (utilities, offers, moved)
            if rows is None and fronted is not None:  # the moving ones are open, so among those with frontiers
                front_utilities, _, _, _, _, frontiers = self._inputs(g, fronted)  # gathered once, as their rounds do
                if frontiers is not None:
                    solved_on = (front_utilities, frontiers.offers, np.searchsorted(fronted, moved))
            u, fronts, positions = solved_on
            cached_values[at] = rubinstein_values(u, rows_of(war, moved), rows_of(patience, moved), b.first_proposer,
                                                  fronts, positions)
        cached_war[every] = war
        # a copy: the cache changes in place next round
        return cached_values.copy() if rows is None else rows_of(cached_values, rows)

    def _round(self, g: int, t_round: int, war: np.ndarray, rows: np.ndarray | None = None) -> RoundResult:
        """Run the protocol for group ``g`` in round ``t_round`` (from 0), in every replica
        or in replicas ``rows`` only (``war`` being theirs; the result is theirs)."""
        b = self.batch
        # each party's clock runs to its own deadline: the session's, or a threat's falling due
        utilities, patience, horizon, best, worst, frontiers = self._inputs(g, rows)
        opened_round = self.opened_round[g] if rows is None else self.opened_round[g][rows]
        if self.phased[g]:  # a phased group's clock starts when it opens (Faratin et al.: time since the thread began)
            opened = np.maximum(opened_round, 0)[:, None]
            span = horizon - opened
            t = np.where(span > 0, np.minimum((t_round - opened) / np.maximum(span, 1e-12), 1.0), 1.0)
            t_next = np.where(span > 0, (t_round + 1 - opened) / np.maximum(span, 1e-12), 1.0)
        else:
            t = np.where(horizon > 0, np.minimum(t_round / np.maximum(horizon, 1e-12), 1.0), 1.0)
            t_next = np.where(horizon > 0, (t_round + 1) / np.maximum(horizon, 1e-12), 1.0)
        # patience sets the reservation (Pmin); where no candidate beats war for both, war does
        floor, floor_next = self._reservations(g, t_round, war, rows)
        p_min = np.clip(np.where(np.isnan(floor), war, floor), worst, best)
        p_min_next = np.clip(np.where(np.isnan(floor_next), war, floor_next), worst, best)
        targets = np.empty_like(war)
        next_targets = np.empty_like(war)
        for party in self.parties:
            i = party.index
            targets[:, i], next_targets[:, i] = party.targets(
                g, t[:, i], t_next[:, i], (p_min[:, i], best[:, i]), (p_min_next[:, i], best[:, i]), not self.lean
            )
        if b.protocol == "single_text":
            mediator = self.mediators[str(b.text_mediator)]
            result = single_text(
                utilities, mediator.text_weights[g], targets, next_targets, war, patience, frontiers
            )
            mediator.revise(g, result, targets)
        else:
            result = alternating_offers(
                utilities,
                targets,
                next_targets,
                war,
                patience,
                self.proposer_at(t_round),
                p_min_next,
                frontiers,
                self.lean,
            )
            if self.lean:
                return result
        risks = risk_limit(result.own, result.answered, war)
        for party in self.parties:
            party.remember(g, result, risks)
        return result

    def _round_on_rows(self, g: int, t_round: int, war: np.ndarray, rows: np.ndarray) -> RoundResult:
        """``_round`` on replicas ``rows`` alone (``war`` (R', P) being theirs): the agents'
        state of group ``g`` in those rows is swapped in for the round and written back
        after it; other rows keep theirs. A lean round reads and writes no state: nothing to swap."""
        if self.lean:
            return self._round(g, t_round, war, rows)
        memories = [party.memory[g] for party in self.parties]
        weights = [mediator.text_weights[g] for mediator in self.mediators.values()]
        for party, memory in zip(self.parties, memories, strict=True):
            party.memory[g] = Memory(**{k: v[rows] for k, v in vars(memory).items()})
        for mediator, w in zip(self.mediators.values(), weights, strict=True):
            mediator.text_weights[g] = w[rows]
        try:
            return self._round(g, t_round, war, rows)
        finally:
            for party, memory in zip(self.parties, memories, strict=True):
                for k, v in vars(party.memory[g]).items():
                    full = np.array(getattr(memory, k))  # a copy: the full array may be shared
                    full[rows] = v
                    setattr(memory, k, full)
                party.memory[g] = memory
            for mediator, w in zip(self.mediators.values(), weights, strict=True):
                full = w.copy()
                full[rows] = mediator.text_weights[g]
                mediator.text_weights[g] = full

    def _open_phases(self, t_round: int) -> None:
        """Open each waiting group in the replicas where every group it waits for was agreed
        in an earlier round: its talks run from this round on."""
        for g, before in enumerate(self.batch.opens_after):
            if before:
                agreed = np.all([(self.agreed_round[b] >= 0) & (self.agreed_round[b] < t_round) for b in before], axis=0)
                np.copyto(self.opened_round[g], t_round, where=agreed & (self.opened_round[g] < 0))

    def _relief(self, t_round: int) -> np.ndarray:
        """The share (R,) of the cost of war lifted this round by truces in force, after this
        round's breaks (a truce that breaks in round t gives no relief from t on)."""
        b = self.batch
        in_force = truce_in_force(b, t_round, self.agreed_round, self.agreement)
        if b.truce_break_draw is not None:
            breaks = np.array([truce.breaks for truce in b.truces])[:, None]
            self.truce_broken |= in_force & (breaks > b.truce_break_draw[:, :, t_round].T)
        return truce_relief(b, in_force, self.truce_broken)

    def _memories(self, g: int) -> list[dict[str, np.ndarray]]:
        """Copies of every agent's state in group ``g`` (strategy memory, text weights)."""
        kept = [{k: np.copy(v) for k, v in vars(p.memory[g]).items()} for p in self.parties]
        kept.extend({"text_weights": m.text_weights[g].copy()} for m in self.mediators.values())
        return kept

    def _restore(self, g: int, kept: list[dict[str, np.ndarray]], waiting: np.ndarray) -> None:
        """Put back the state of group ``g`` in the replicas still ``waiting`` (R,) to open:
        a round that ran for other replicas must leave theirs as it was."""
        for party, before in zip(self.parties, kept, strict=False):
            memory = party.memory[g]
            for k, v in before.items():
                setattr(memory, k, np.where(waiting, v, getattr(memory, k)))
        for mediator, before in zip(self.mediators.values(), kept[len(self.parties):], strict=True):
            mediator.text_weights[g] = np.where(waiting[:, None], before["text_weights"], mediator.text_weights[g])

    def _record_rows(self, g: int, t_round: int, war: np.ndarray, rows: np.ndarray) -> None:
        """Run group ``g`` on its open replicas ``rows`` alone (``war`` (R', P) being theirs)
        and record their round."""
        result = self._round_on_rows(g, t_round, war, rows)
        if self.keeps_trace:
            self.trace.own[g, t_round, rows] = result.own
            self.trace.answered[g, t_round, rows] = result.answered
            self.trace.war[g, t_round, rows] = war
            self.trace.table[g, t_round, rows] = result.table
        self.accepted_by[g, rows] = result.accepted_by
        new = rows[result.accepted]
        self.agreed_round[g, new] = t_round
        self.agreement[g, new] = result.table[result.accepted]
        self.agreement_war[g, new] = war[result.accepted]

    def step(self) -> None:
        """One round in every open agenda group (Mesa has counted it in ``steps`` already)."""
        t_round = self.steps - 1
        self._open_phases(t_round)
        relief = self._relief(t_round) if self.batch.truces else None
        last = t_round == self.rounds - 1
        for g in range(len(self.batch.groups)):
            open_ = self.agreed_round[g] < 0
            if self.phased[g]:
                open_ &= self.opened_round[g] >= 0
            shut = self.foreclosed[g]
            if shut is not None and not last:  # they cannot agree: only their last round counts
                open_ &= ~shut
            if not open_.any():
                continue
            if open_.mean() < COMPACT_BELOW:
                rows = np.flatnonzero(open_)
                self._record_rows(g, t_round, self._war(g, t_round, relief, rows), rows)
                continue
            war = self._war(g, t_round, relief)
            kept = self._memories(g) if self.phased[g] else None
            result = self._round(g, t_round, war)
            if kept is not None:
                self._restore(g, kept, self.opened_round[g] < 0)
            # masked copies in place: no compacted temporaries per round
            each = open_[:, None]
            if self.keeps_trace:
                np.copyto(self.trace.own[g, t_round], result.own, where=each)
                np.copyto(self.trace.answered[g, t_round], result.answered, where=each)
                np.copyto(self.trace.war[g, t_round], war, where=each)
                np.copyto(self.trace.table[g, t_round], result.table, where=open_)
            np.copyto(self.accepted_by[g], result.accepted_by, where=each)
            new = open_ & result.accepted
            np.copyto(self.agreed_round[g], t_round, where=new)
            np.copyto(self.agreement[g], result.table, where=new)
            np.copyto(self.agreement_war[g], war, where=new[:, None])
        self.datacollector.collect(self)
        if self.steps >= self.rounds or (self.agreed_round >= 0).all():
            self.running = False


def run_scenario(scenario: Scenario, *, start: int = 0, stop: int | None = None, trace: bool = True) -> NegotiationModel:
    """Compile, build and run a model of global replicas ``start .. stop-1``; the finished
    model holds the results (``trace``: see ``NegotiationModel``)."""
    model = NegotiationModel(compile_batch(scenario, start, stop), trace)
    model.run_model()
    return model
