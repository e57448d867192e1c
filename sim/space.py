"""Issues, agenda groups and candidate outcome sets, in normalised and natural units.

Each issue's range [low, high] maps to [0, 1]; each agenda group's candidates are the
Cartesian product of its issues' grid levels. No utilities here (see ``sim.scoring``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.scenario import Scenario


@dataclass(frozen=True)
class IssueSpace:
    """The issues of a scenario as arrays over the issue axis I."""

    names: tuple[str, ...]
    low: np.ndarray  # (I,) natural units
    high: np.ndarray  # (I,)
    status_quo: np.ndarray  # (I,) normalised
    war_decides: np.ndarray  # (I,) bool
    levels: tuple[int, ...]

    def to_natural(self, x: np.ndarray, issues: np.ndarray) -> np.ndarray:
        """Normalised positions ``x (..., J)`` of issues ``issues (J,)`` in natural units."""
        return self.low[issues] + x * (self.high[issues] - self.low[issues])

    def to_unit(self, value: float, issue: int) -> float:
        """A natural-units value of one issue on [0, 1]."""
        return float((value - self.low[issue]) / (self.high[issue] - self.low[issue]))


@dataclass(frozen=True)
class Group:
    """One agenda group and its candidate outcomes.

    ``candidates`` (K, J) holds normalised positions of the group's J issues;
    ``level_index`` (K, J) the grid level of each.
    """

    name: str
    issues: np.ndarray  # (J,) indices into the issue axis
    candidates: np.ndarray  # (K, J)
    level_index: np.ndarray  # (K, J) int
    ends_war: bool

    @property
    def size(self) -> int:
        """K, the number of candidate outcomes."""
        return int(self.candidates.shape[0])


def issue_space(scenario: Scenario) -> IssueSpace:
    """The scenario's issues as arrays."""
    names = tuple(scenario.issues)
    low = np.array([scenario.issues[n].range[0] for n in names], dtype=float)
    high = np.array([scenario.issues[n].range[1] for n in names], dtype=float)
    sq = np.array([scenario.issues[n].status_quo for n in names], dtype=float)
    return IssueSpace(
        names=names,
        low=low,
        high=high,
        status_quo=(sq - low) / (high - low),
        war_decides=np.array([scenario.issues[n].war_decides for n in names], dtype=bool),
        levels=tuple(scenario.issues[n].levels for n in names),
    )


def grid(levels: int) -> np.ndarray:
    """``levels`` evenly spaced normalised positions on [0, 1]."""
    return np.linspace(0.0, 1.0, levels)


def agenda_groups(scenario: Scenario, space: IssueSpace) -> list[Group]:
    """Every agenda group with its candidate grid (the product of its issues' levels).

    A group that holds an issue marked ``ends_war`` is one whose failure means the war
    goes on, so its disagreement point carries the cost of war.
    """
    groups = []
    for name, members in scenario.agenda.items():
        idx = np.array([space.names.index(m) for m in members], dtype=int)
        axes = [np.arange(space.levels[i]) for i in idx]
        mesh = np.meshgrid(*axes, indexing="ij")
        level_index = np.stack([m.ravel() for m in mesh], axis=1)
        candidates = np.stack([grid(space.levels[i])[level_index[:, j]] for j, i in enumerate(idx)], axis=1)
        ends_war = any(scenario.issues[m].ends_war for m in members)
        groups.append(Group(name, idx, candidates, level_index, ends_war))
    return groups
