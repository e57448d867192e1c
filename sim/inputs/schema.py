"""The typed scenario schema (pydantic v2): issues, agenda groups, parties with
evidence-backed positions, the protocol, events, battlefield and uncertainty.
Reading files is ``sim.inputs.yamlfile``; checks that span blocks are ``sim.inputs.checks``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

DEFAULT_SALIENCE_LEVELS: dict[str, float] = {
    "low": 1.0,
    "medium": 2.0,
    "high": 4.0,
    "highest": 8.0,
}
"""Salience words to weights: each level doubles the one below (overridable per scenario)."""

MAX_NATURAL = 1e12
"""The largest magnitude of a number in an issue's natural units (range ends, red-line limits)."""
MAX_SCALE = 1e6
"""The largest magnitude of a number on the utility scale or a model coefficient (costs,
penalties, changes of war payoffs, drifts, noises, exponents, capabilities): utilities run
over [0, 1], so anything near this bound is already absurd."""
SALIENCE_RANGE = (1e-6, 1e6)
"""The smallest and largest salience weight (a number, or a level's weight); each party's
weights must also be at least ``SALIENCE_RATIO`` of its largest."""
SALIENCE_RATIO = 1e-6
MAX_REPLICAS = 10_000_000
"""The most replicas a scenario (or an experiment's design point) asks for."""
MAX_CANDIDATES = 1_000_000
"""The most candidate outcomes of a scenario (the product of each agenda group's issues'
levels, summed over the groups): the engine holds utilities of every one per replica."""
MAX_RUN_CELLS = 250_000_000
"""The most replicas x candidate outcomes of one run: a bound on its work (about half a
minute to a few minutes on one core). Memory does not grow with it (replicas run in
blocks within the memory budget, ``sim.engine.blocks``). A sweep runs more in chunks."""
MAX_TRACE_CELLS = 50_000_000
"""The most replicas x agenda groups x rounds of one run (its per-round trace)."""
MAX_SEED = 2**63 - 1
MAX_EVENT_ROUND = 1_000_000
"""The latest round (or day) an event may fall due: after the last round it is anticipated."""
MIN_ROUND_DAYS = 1 / 1440
"""The shortest round a protocol may stand for: a minute (shorter is no negotiation round,
and a truce's or an event's days divided by it would leave the floating-point range)."""

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0, le=MAX_SCALE)]
NonNegative = Annotated[float, Field(ge=0.0, le=MAX_SCALE)]
Signed = Annotated[float, Field(ge=-MAX_SCALE, le=MAX_SCALE)]
Natural = Annotated[float, Field(ge=-MAX_NATURAL, le=MAX_NATURAL)]
Weight = Annotated[float, Field(ge=SALIENCE_RANGE[0], le=SALIENCE_RANGE[1])]
Seed = Annotated[int, Field(ge=0, le=MAX_SEED)]
Replicas = Annotated[int, Field(ge=1, le=MAX_REPLICAS)]


class Strict(BaseModel):
    """Base for every schema block: unknown keys are errors, and every number is finite
    (``.inf`` and ``.nan`` are refused wherever a number goes)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Basis(Strict):
    """Where a number comes from: evidence ids in seeds/, or a stated assumption."""

    evidence: list[str] = Field(default_factory=list)
    assumption: str | None = None

    @model_validator(mode="after")
    def _has_basis(self) -> Basis:
        if not self.evidence and not self.assumption:
            raise ValueError("a basis: 'evidence' (ids from the evidence file) or 'assumption' (text)")
        return self


class Exchange(Strict):
    """An exchange of unequal numbers ("33 for 1,900"): the issue's natural value is what
    one side gives, ``per`` is the fixed number the other side gives for it."""

    per: Annotated[float, Field(gt=0.0, le=MAX_NATURAL)]
    of: str | None = None
    """What ``per`` counts, where it differs from the issue's units."""


class Issue(Strict):
    """One negotiable issue in natural units."""

    description: str
    units: str
    range: tuple[Natural, Natural]
    levels: Annotated[int, Field(ge=2, le=101)] = 5
    status_quo: float
    war_decides: bool = True
    ends_war: bool = False
    exchange: Exchange | None = None
    """An exchange stated as a ratio: the issue's value ``a`` is reported as "a for b"."""

    @field_validator("range")
    @classmethod
    def _range_ok(cls, value: tuple[float, float]) -> tuple[float, float]:
        low, high = value
        if not low < high:
            raise ValueError("range [low, high] with low < high")
        if high - low < 1e-9 * max(1.0, abs(low), abs(high)):  # its grid levels would not be distinct numbers
            raise ValueError("a range [low, high] wider than 1e-9 of its ends' magnitude")
        return value

    @field_validator("status_quo")
    @classmethod
    def _status_quo_ok(cls, value: float, info: ValidationInfo) -> float:
        lo, hi = info.data.get("range", (value, value))
        if not lo <= value <= hi:
            raise ValueError(f"status_quo inside range [{lo}, {hi}]")
        return value


class Position(Basis):
    """A party's ideal point (natural units) and salience on one issue."""

    ideal: float
    salience: str | Weight


class War(Basis):
    """War as the outside option, as this party sees it (its own, possibly optimistic, belief)."""

    win_probability: Probability
    cost: NonNegative = 0.0
    cost_per_round: NonNegative = 0.0


class Strategy(Basis):
    """Concession strategy and patience (acceptance is AC_next with the war payoff as floor)."""

    type: Literal["time_dependent", "tit_for_tat", "zeuthen"] = "time_dependent"
    e: NonNegative = 1.0
    k: Probability = 0.0
    step: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    initial_concession: Probability = 0.05
    patience: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


class RedLine(Basis):
    """A public commitment: crossing ``limit`` on ``issue`` costs ``cost`` (audience cost)."""

    issue: str
    limit: Natural
    cost: NonNegative


class Commitment(Basis):
    """Commitment problem: a ceasefire lets the other side regroup unless ``relieved_by``.

    The party loses ``penalty * x[issue] * max(0, 1 - x[relieved_by] / relieved_at)``
    (positions normalised to [0, 1]).
    """

    issue: str
    penalty: NonNegative
    relieved_by: str | None = None
    relieved_at: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0


class Party(Strict):
    """A belligerent, mediator or third party."""

    name: str
    role: Literal["belligerent", "mediator", "third_party"]
    positions: dict[str, Position] = Field(default_factory=dict)
    risk_exponent: Positive = 1.0
    war: War | None = None
    strategy: Strategy | None = None
    red_lines: list[RedLine] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    capability: NonNegative = 1.0
    side: str | None = None

    @field_validator("capability")
    @classmethod
    def _capability_ok(cls, value: float) -> float:
        if 0.0 < value < SALIENCE_RANGE[0]:  # capability x salience must not underflow in the spatial models
            raise ValueError(f"a capability of 0 or from {SALIENCE_RANGE[0]:g} to {MAX_SCALE:g}")
        return value

    @model_validator(mode="after")
    def _belligerent_complete(self) -> Party:
        if self.role == "belligerent" and (self.war is None or self.strategy is None):
            raise ValueError("a belligerent with both 'war' and 'strategy' blocks")
        return self


class Protocol(Basis):
    """The round protocol and its deadline."""

    type: Literal["alternating_offers", "single_text"] = "alternating_offers"
    rounds: Annotated[int, Field(ge=2, le=1000)] = 12
    after_deadline: Literal["resume", "war"] = "resume"
    """What follows the last round without a deal: the war goes on and talks ``resume``
    later (a side's reservation is the value of the continuing game, Rubinstein 1982), or
    the ``war`` goes on for good (the last proposer's offer is an ultimatum, Stahl 1972)."""
    first_proposer: str | None = None
    mediator: str | None = None
    step: Positive = 0.5
    round_days: Annotated[float, Field(ge=MIN_ROUND_DAYS, le=MAX_SCALE)] | None = None
    """Calendar days one round stands for (a truce's duration, an event's ``from_day``), at
    least a minute; None: rounds have no calendar length."""


class Event(Basis):
    """A scheduled, conditional change of war payoffs (sanctions, a deadline's pressure).

    Each replica draws once whether the event is credible (carried out). Until
    ``from_round`` its targets anticipate ``credibility * change``; from then on, if the
    group ``unless_agreed`` is still open, a carried-out event applies the full change
    and a bluff none.
    """

    type: Literal["sanctions", "deadline", "pressure"]
    name: str
    by: list[str]
    targets: dict[str, Signed]
    from_round: Annotated[int, Field(ge=0, le=MAX_EVENT_ROUND)]
    unless_agreed: str
    credibility: Probability = 1.0
    from_day: Annotated[float, Field(ge=0.0, le=MAX_EVENT_ROUND)] | None = None
    """The day it falls due, counted from the talks' opening (needs ``protocol.round_days``):
    ``from_round`` is then the first round that starts on or after it (round t starts on day
    ``t * round_days``), ``Scenario._event_days``. Either may fall after the last round: the
    event is then anticipated in every round."""


class Truce(Basis):
    """An agenda group that is a truce of limited duration (Fortna 2004).

    Its agreed ``duration_issue`` (in ``unit``) runs from the round after agreement; while
    it lasts, the cost of war in every group that ends the war is lowered by the share
    ``war_cost_relief``. Each round of it, the truce breaks with probability ``breaks``
    (drawn per replica); a broken or expired truce restores the full cost.
    """

    duration_issue: str
    unit: Literal["days", "hours"] = "days"
    war_cost_relief: Probability
    breaks: Probability = 0.0


class AgendaRule(Strict):
    """What an agenda group needs besides its issues: the groups it ``opens_after`` (it is
    not negotiated until all of them are agreed, from the round after the last), and
    whether it is a ``truce``."""

    opens_after: list[str] = Field(default_factory=list)
    truce: Truce | None = None

    @field_validator("opens_after", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class Battlefield(Basis):
    """Per-round drift of the war: who gains, by how much, with what noise."""

    favours: str
    drift: Signed = 0.0
    volatility: NonNegative = 0.0
    status_quo_drift: dict[str, Natural] = Field(default_factory=dict)


class Uncertainty(Basis):
    """Per-replica draws around the documented numbers."""

    salience_concentration: Positive | None = None
    ideal_noise: NonNegative = 0.0
    win_probability_noise: NonNegative = 0.0


class Scenario(Strict):
    """A whole scenario file."""

    name: str
    title: str
    question: str
    description: str = ""
    seed_document: str | None = None
    """The source the evidence quotes, relative to the scenario file; with ``evidence_file``,
    or neither (then every number is an assumption: the scenario has no traceable evidence)."""
    evidence_file: str | None = None
    salience_levels: dict[str, Weight] = Field(default_factory=lambda: dict(DEFAULT_SALIENCE_LEVELS))
    issues: dict[str, Issue]
    agenda: dict[str, list[str]]
    agenda_rules: dict[str, AgendaRule] = Field(default_factory=dict)
    parties: dict[str, Party]
    protocol: Protocol
    events: list[Event] = Field(default_factory=list)
    battlefield: Battlefield | None = None
    uncertainty: Uncertainty | None = None
    seed: Seed = 0
    replicas: Replicas = 1

    @model_validator(mode="before")
    @classmethod
    def _event_days(cls, data: object) -> object:
        """``dated_events``, as the first step of validation."""
        return cls.dated_events(data)

    @staticmethod
    def dated_events(data: Any) -> Any:
        """The raw scenario with events dated by ``from_day`` given their ``from_round`` (0
        until the protocol gives ``round_days``: ``sim.inputs.checks`` reports that)."""
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            return data
        protocol = data.get("protocol")
        days = protocol.get("round_days") if isinstance(protocol, dict) else getattr(protocol, "round_days", None)
        events = []
        for event in data["events"]:
            day = event.get("from_day") if isinstance(event, dict) else None
            if isinstance(day, int | float) and not isinstance(day, bool):
                per = days if isinstance(days, int | float) and not isinstance(days, bool) and days > 0 else None
                ratio = day / per if per is not None and math.isfinite(day) else 0.0
                # a day past the last representable round (or a tiny round length) is past them all
                rounds = math.ceil(ratio - 1e-9) if math.isfinite(ratio) and ratio < MAX_EVENT_ROUND else MAX_EVENT_ROUND
                event = {**event, "from_round": max(0, min(rounds, MAX_EVENT_ROUND))}
            events.append(event)
        return {**data, "events": events}

    @property
    def belligerents(self) -> list[str]:
        """Names of the belligerents, in file order."""
        return [name for name, party in self.parties.items() if party.role == "belligerent"]

    def side_of(self, name: str) -> str:
        """The side a party fights on: its ``side``, by default its own name (one side each)."""
        side = self.parties[name].side
        return name if side is None else side

    @property
    def sides(self) -> list[str]:
        """The belligerents' sides, in order of first appearance."""
        return list(dict.fromkeys(self.side_of(name) for name in self.belligerents))

    def salience_weight(self, salience: str | float) -> float:
        """The weight of a salience level word or number (the documented mapping)."""
        if isinstance(salience, str):
            return self.salience_levels[salience]
        return float(salience)
