"""Issues, agenda groups and candidate outcome sets, in normalised and natural units.

Each issue's range [low, high] maps to [0, 1]; each agenda group's candidates are the
Cartesian product of its issues' grid levels. No utilities here (see ``sim.core.scoring``);
building them from a scenario is ``sim.engine.compile``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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


def grid(levels: int) -> np.ndarray:
    """``levels`` evenly spaced normalised positions on [0, 1]."""
    return np.linspace(0.0, 1.0, levels)
