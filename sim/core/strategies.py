"""Concession strategies, vectorised over replicas: each sets a target utility per round.

A strategy is a small class with a ``name``, a ``classifier`` and a literature source;
the offer a target leads to and the acceptance rule are pure functions at the bottom.
Protocols call them; nothing here knows about rounds beyond what it is handed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

import numpy as np

from sim.core.patience import acceptance_slack, continuation_threshold

Time = float | np.ndarray
"""Normalised time in [0, 1]: one number, or one per replica (R,) where parties' deadlines differ."""


def time_dependent_schedule(t: Time, p_min: np.ndarray, p_max: np.ndarray, e: float, k: float) -> np.ndarray:
    """``sim.theory.time_dependent_target`` for one time and one strategy over arrays of ranges,
    without validation: for the engine, whose inputs are checked when the scenario loads
    and whose ``p_min`` is clipped to ``p_max`` every round.

    Examples
    --------
    >>> time_dependent_schedule(0.5, np.array([0.0]), np.array([1.0]), 1.0, 0.0).tolist()
    [0.5]
    """
    if e == 0:
        return p_min + (p_max - p_min) * (1.0 - k)
    # an array power, as time_dependent_target takes it: numpy's scalar pow can differ by an ulp
    f = k + (1.0 - k) * np.full(np.shape(p_min), t) ** (1.0 / e)
    return p_min + (p_max - p_min) * (1.0 - f)


@dataclass
class Memory:
    """What one party remembers of one agenda group, each array (R,).

    ``target``: its current target utility; ``other_utility``: its utility of the other
    side's offer this round and ``other_utility_before`` the round before;
    ``own_risk``/``other_risk``: Zeuthen risk limits of the last round.
    """

    target: np.ndarray
    other_utility: np.ndarray
    other_utility_before: np.ndarray
    own_risk: np.ndarray
    other_risk: np.ndarray


class Concession(Protocol):
    """A concession strategy: the target utility for this round and the next."""

    classifier: ClassVar[dict[str, object]]

    @property
    def name(self) -> str:
        """A readable name of the strategy."""
        ...

    def target(self, t: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """Target utility (R,) at normalised time ``t`` in [0, 1]."""
        ...

    def next_target(self, t_next: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """Target (R,) it would hold next round, before seeing the other side's move."""
        ...


@dataclass
class TimeDependent:
    """Time-dependent concession (Faratin, Sierra & Jennings 1998; the GENIUS agents).

    ``P(t) = Pmin + (Pmax - Pmin) (1 - f(t))``, ``f(t) = k + (1 - k) t^(1/e)``: e < 1
    Boulware, e = 1 Linear, e > 1 Conceder, e = 0 Hardliner. ``Pmin`` is the party's
    reservation value (its current war payoff), ``Pmax`` its best candidate.
    """

    e: float
    k: float = 0.0
    classifier: ClassVar[dict[str, object]] = {"stochastic": False, "memory_depth": 0, "uses_time": True}

    @property
    def name(self) -> str:
        """Boulware, Linear, Conceder or Hardliner, by the exponent."""
        if self.e == 0:
            return "Hardliner"
        if self.e < 1:
            return f"Boulware (e={self.e:g})"
        return "Linear" if self.e == 1 else f"Conceder (e={self.e:g})"

    def target(self, t: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """``P(t)`` for every replica."""
        return time_dependent_schedule(t, p_min, p_max, self.e, self.k)

    def next_target(self, t_next: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """``P(t_next)``: the schedule is known in advance."""
        return self.target(np.minimum(t_next, 1.0), p_min, p_max, memory)


class Responsive:
    """Shared by behaviour-dependent strategies: open at Pmax, concede only in response.

    Subclasses give ``concession(p_min, p_max, memory)``: how much to lower the target
    after seeing the other side's last move.
    """

    classifier: ClassVar[dict[str, object]] = {"stochastic": False, "memory_depth": 1, "uses_time": False}

    def concession(self, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """Utility given up this round (R,)."""
        raise NotImplementedError

    def target(self, t: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """Pmax in the first round; then last target less this round's concession, within [Pmin, Pmax]."""
        if np.all(np.asarray(t) == 0.0):
            return np.asarray(p_max, dtype=float)
        return np.clip(memory.target - self.concession(p_min, p_max, memory), p_min, p_max)

    def next_target(self, t_next: Time, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """Unknown before the other side moves: the current target."""
        return np.clip(memory.target, p_min, p_max)


@dataclass
class TitForTat(Responsive):
    """Relative tit-for-tat (Faratin, Sierra & Jennings 1998, behaviour-dependent tactics).

    Concede, in own utility, what the other side conceded last round, as seen in own
    utility; open with ``initial_concession`` of the range so two tit-for-tat players
    do not freeze (Axelrod's "nice" first move).
    """

    initial_concession: float = 0.05
    name: str = "Tit-for-tat"

    def concession(self, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """The other side's last concession in own utility (the opening share before any is seen)."""
        seen = np.isfinite(memory.other_utility) & np.isfinite(memory.other_utility_before)
        moved = np.where(seen, memory.other_utility, 0.0) - np.where(seen, memory.other_utility_before, 0.0)
        return np.where(seen, np.maximum(0.0, moved), self.initial_concession * (p_max - p_min))


@dataclass
class Zeuthen(Responsive):
    """Monotonic concession by risk limits (Zeuthen 1930; Harsanyi 1956).

    The side whose risk limit ``(u(own) - u(other's)) / (u(own) - d)`` is smaller
    concedes ``step`` of its utility range; both do when the limits are equal.
    """

    step: float = 0.05
    name: str = "Zeuthen"

    def concession(self, p_min: np.ndarray, p_max: np.ndarray, memory: Memory) -> np.ndarray:
        """One step where own risk limit is not larger than the other side's, else none."""
        return (memory.own_risk <= memory.other_risk) * self.step * (p_max - p_min)


def risk_limit(own: np.ndarray, other: np.ndarray, disagreement: np.ndarray) -> np.ndarray:
    """Zeuthen's risk limit ``(u(own) - u(other)) / (u(own) - d)``, elementwise.

    1 where the other's offer is worth no more than disagreement (nothing to lose by
    holding out); 0 where it is worth at least one's own offer.

    Examples
    --------
    >>> import numpy as np
    >>> risk_limit(np.array([1.0, 1.0, 0.5]), np.array([0.5, 0.0, 0.6]), np.array([0.0, 0.0, 0.0])).tolist()
    [0.5, 1.0, 0.0]
    """
    gain = own - disagreement
    safe = np.where(gain > 0, gain, 1.0)
    risk = np.where(gain > 0, (own - other) / safe, 1.0)
    risk = np.where(other <= disagreement, 1.0, risk)
    return np.clip(risk, 0.0, 1.0)


def offer_threshold(target: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The own utility (R,) a candidate must reach to meet ``target`` (R,), in the utilities'
    ``dtype``: the target less a few ulps of slack, so a target computed from a candidate's
    own utility is met by that candidate."""
    # compare in the utilities' own dtype: a float64 target would upcast the whole (R, K) array
    slack = 4 * np.finfo(dtype).eps if np.issubdtype(dtype, np.floating) else 0.0
    return np.asarray(target - slack).astype(dtype)


def offer_for_target(own: np.ndarray, others: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The candidate a party offers: best for the others among those meeting its target.

    This scan is the rule; ``sim.core.frontier`` returns the same index from each replica's
    frontier without scanning all K candidates (the engine's path).

    Parameters
    ----------
    own : (R, K)
        The proposer's utilities.
    others : (R, K)
        Sum of the other belligerents' utilities (the trade-off the offer maximises).
    target : (R,)

    Returns
    -------
    numpy.ndarray
        ``(R,)`` candidate indices; where no candidate meets the target, the proposer's best.

    Examples
    --------
    >>> import numpy as np
    >>> own = np.array([[1.0, 0.7, 0.4, 0.0]])
    >>> offer_for_target(own, 1.0 - own, np.array([0.5])).tolist()
    [1]
    """
    threshold = offer_threshold(target, own.dtype)
    choice = np.empty(own.shape[0], dtype=np.intp)
    step = max(1, SCAN_CELLS // max(own.shape[1], 1))  # rows at a time: the masked scores stay in cache
    for lo in range(0, own.shape[0], step):
        score = np.where(own[lo : lo + step] >= threshold[lo : lo + step, None], others[lo : lo + step], -np.inf)
        choice[lo : lo + step] = np.argmax(score, axis=1)
        stuck = np.isneginf(np.take_along_axis(score, choice[lo : lo + step, None], axis=1)[:, 0])
        if stuck.any():  # rare: the target is above every candidate
            choice[lo : lo + step][stuck] = np.argmax(own[lo : lo + step][stuck], axis=1)
    return choice


SCAN_CELLS = 2**17
"""``offer_for_target`` scans this many (replica, candidate) cells at a time."""


def accepts(value: np.ndarray, next_own_value: np.ndarray, patience: float | np.ndarray, war: np.ndarray) -> np.ndarray:
    """AC_next with discounting and a reservation check (Baarslag et al.'s AC_next; Rubinstein
    1982; Fearon's war option).

    Accept an offer whose gain over war is at least the discounted gain of what one would
    offer next, ``value >= war + patience * (next_own_value - war)``, and that is worth at
    least the current war payoff. Compared in ``value``'s dtype, with the slack of
    ``sim.core.patience.acceptance_slack``, so that an offer built to meet the threshold
    there (``stahl_demands``) is accepted here.

    Examples
    --------
    >>> import numpy as np
    >>> accepts(np.array([0.6, 0.6, 0.6]), np.array([0.6, 0.7, 0.5]), 1.0, np.array([0.0, 0.0, 0.7])).tolist()
    [True, False, False]
    >>> accepts(np.array([0.5]), np.array([1.0]), 0.5, np.array([0.0])).tolist()
    [True]
    """
    threshold = continuation_threshold(war, np.asarray(patience), next_own_value)
    slack = acceptance_slack(value.dtype)
    return (value >= (threshold - slack).astype(value.dtype)) & (value >= war)
