"""The game-theory layer: bargaining solutions, concession, closed forms and spatial models.

Pure numpy/scipy functions, one family per module (``pareto``, ``bargaining``,
``concession``, ``closed_forms``, ``spatial``) and the BDM Mesa model (``bdm``); the
formulas and their sources are cited in each docstring.

Conventions
-----------
* An outcome set is a ``utilities`` array of shape ``(K, P)``: row ``k`` is the
  utility vector of candidate outcome ``k`` for the ``P`` parties.  A
  ``disagreement`` point has shape ``(P,)``.
* The discrete solutions return the ``int`` row index of the chosen outcome, or
  ``None`` when no outcome is individually rational (``u >= d`` for every party).
* Ties are decided deterministically.  Scores within a relative tolerance of
  ``1e-12`` of the best count as tied (so that, e.g., two sums of logarithms
  that are equal mathematically but differ in the last bit do tie).  After the
  secondary criteria a function documents, among the outcomes still tied
  those not Pareto-dominated by another tied outcome are kept, then the
  lowest index wins.  For the monotone criteria used here a dominated
  outcome can tie with its dominator only through rounding, so in practice the
  rule is "lowest index".
* Invalid input raises ``ValueError`` naming the argument, what was expected
  and what was found.
"""

from sim.theory.bargaining import egalitarian, kalai_smorodinsky, nash_bargaining, utilitarian
from sim.theory.closed_forms import coalition_fearon_range, fearon_range, rubinstein_share
from sim.theory.concession import time_dependent_target, zeuthen
from sim.theory.pareto import individually_rational, pareto_mask
from sim.theory.spatial import BDMResult, bdm_expected_utility, compromise, weighted_median

__all__ = [
    "BDMResult",
    "bdm_expected_utility",
    "coalition_fearon_range",
    "compromise",
    "egalitarian",
    "fearon_range",
    "individually_rational",
    "kalai_smorodinsky",
    "nash_bargaining",
    "pareto_mask",
    "rubinstein_share",
    "time_dependent_target",
    "utilitarian",
    "weighted_median",
    "zeuthen",
]
