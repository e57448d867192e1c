"""Comparative statics: each lever of THEORY.md moved one at a time under common random
numbers, its effect measured as a paired difference with a 95% interval and judged
against the sign the theory gives. Printing is ``sim.cli.check``; running is ``sim.engine``.

Every pair of arms runs the same replicas with the same seed, so replica r draws the same
saliences, ideals, beliefs, threats and shocks in both (``sim.core.streams``) and the
difference is the lever's alone. The interval is the normal one of the mean paired
difference (``mean +- 1.96 sd / sqrt(n)``). A property is *violated* only when its whole
interval lies on the wrong side of zero; ``against`` counts the replicas that moved the
wrong way, for a reader who wants more than the mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from sim.engine.model import run_scenario
from sim.inputs.experiment import apply_values, locate
from sim.inputs.scenario import LoadedScenario
from sim.inputs.schema import Scenario

Verdict = Literal["holds", "violated", "not applicable"]
Expect = Literal["does not fall", "does not rise", "need not fall"]

Z95 = 1.959963984540054
TOLERANCE = 1e-12
"""Differences this close to zero are zero (sums of float32 utilities)."""

STEPS = {
    "patience": 0.5,  # the lower arm's discount factor is this share of the documented one
    "war_cost": 0.1,  # added to a party's war cost (utility of the group that ends the war)
    "optimism": 0.1,  # added to both belligerents' own win beliefs
    "power_shift": 0.1,  # moved from one side's win belief to the other's
    "red_line_cost": 0.5,  # the lower arm's audience costs are this share of the documented ones
    "risk_aversion": 0.5,  # added to a party's risk exponent
}
"""How far each lever moves: large enough to show, small enough to stay inside the schema."""


@dataclass(frozen=True)
class Arm:
    """One run's per-replica results: ``agreed`` (G, R), ``round`` (G, R) from 0 (-1: none),
    ``utility`` (G, R, P) each belligerent's utility of the agreed terms (NaN: none)."""

    agreed: np.ndarray
    round: np.ndarray
    utility: np.ndarray


def run_arm(scenario: Scenario) -> Arm:
    """Run a scenario and keep what the comparisons read."""
    model = run_scenario(scenario)
    utility = np.stack(
        [np.take_along_axis(u, np.maximum(model.agreement[g], 0)[:, None, None], axis=2)[:, :, 0] for g, u in
         enumerate(model.batch.utilities)]
    ).astype(float)
    agreed = model.agreed_round >= 0
    utility[~agreed] = np.nan
    return Arm(agreed, model.agreed_round.copy(), utility)


@dataclass(frozen=True)
class Finding:
    """One property on one agenda group: the lever, what was measured and the verdict."""

    property: str
    lever: str
    group: str
    measure: str
    expected: Expect
    verdict: Verdict
    effect: float | None = None
    interval: tuple[float, float] | None = None
    n: int = 0
    against: int = 0
    reason: str = ""
    arms: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out["interval"] = list(self.interval) if self.interval is not None else None
        return out


def paired(before: np.ndarray, after: np.ndarray) -> tuple[float, tuple[float, float], int]:
    """Mean paired difference ``after - before``, its 95% normal interval and n.

    Examples
    --------
    >>> mean, (lo, hi), n = paired(np.array([0.0, 0.0, 1.0, 1.0]), np.array([1.0, 0.0, 1.0, 1.0]))
    >>> round(mean, 4), round(lo, 4), round(hi, 4), n
    (0.25, -0.24, 0.74, 4)
    """
    diff = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
    n = int(diff.size)
    mean = float(diff.mean())
    half = Z95 * float(diff.std(ddof=1)) / float(np.sqrt(n)) if n > 1 else 0.0
    return mean, (mean - half, mean + half), n


def judge(expected: Expect, interval: tuple[float, float]) -> Verdict:
    """Violated when the whole interval lies on the wrong side of zero."""
    if expected == "does not fall":
        return "violated" if interval[1] < -TOLERANCE else "holds"
    if expected == "does not rise":
        return "violated" if interval[0] > TOLERANCE else "holds"
    return "holds"


class Statics:
    """The arms of one scenario at a fixed replica count and seed, run once each and cached."""

    def __init__(self, loaded: LoadedScenario, replicas: int | None = None, seed: int | None = None) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.replicas = replicas or self.scenario.replicas
        self.seed = self.scenario.seed if seed is None else seed
        self._dumped = self.scenario.model_dump()
        self._arms: dict[tuple[tuple[str, float], ...], Arm] = {}
        self.groups = list(self.scenario.agenda)
        self.parties = self.scenario.belligerents

    def value(self, path: str) -> float:
        """The documented number at ``path``."""
        return float(locate(self._dumped, path)[2])

    def arm(self, values: dict[str, float]) -> Arm:
        """The run with the numbers at ``values`` (paths) changed; ``{}`` is the documented run."""
        key = tuple(sorted(values.items()))
        if key not in self._arms:
            scenario = apply_values(self.loaded, values, "statics") if values else self.scenario
            self._arms[key] = run_arm(scenario.model_copy(update={"replicas": self.replicas, "seed": self.seed}))
        return self._arms[key]

    def compare(
        self, prop: str, lever: str, low: dict[str, float], high: dict[str, float], g: int, measure: str, expected: Expect,
        party: int | None = None, before_round: int | None = None, timing: bool = False,
    ) -> Finding:
        """One finding: ``measure`` of group ``g`` from the ``low`` arm to the ``high`` arm.

        ``measure`` is read per replica: the agreement (``party`` None, ``before_round``
        None), agreement before a round, a party's utility of the agreed terms or (with
        ``timing``) the agreement round, these two over the replicas that agree in both arms.
        """
        a, b = self.arm(low), self.arm(high)
        group = self.groups[g]
        if timing:
            both = a.agreed[g] & b.agreed[g]
            if both.sum() < 2:
                return Finding(prop, lever, group, measure, expected, "not applicable",
                               reason=f"{int(both.sum())} replicas agree in both arms: too few to compare rounds")
            x, y = a.round[g, both] + 1, b.round[g, both] + 1
            arms = {"low": float(x.mean()), "high": float(y.mean())}
        elif party is None:
            x, y = a.agreed[g], b.agreed[g]
            if before_round is not None:
                x = x & (a.round[g] < before_round)
                y = y & (b.round[g] < before_round)
            arms = {"low": float(x.mean()), "high": float(y.mean())}
        else:
            both = a.agreed[g] & b.agreed[g]
            if both.sum() < 2:
                return Finding(prop, lever, group, measure, expected, "not applicable",
                               reason=f"{int(both.sum())} replicas agree in both arms: too few to compare terms")
            x, y = a.utility[g, both, party], b.utility[g, both, party]
            arms = {"low": float(x.mean()), "high": float(y.mean())}
        effect, interval, n = paired(x, y)
        diff = np.asarray(y, dtype=float) - np.asarray(x, dtype=float)
        against = int((diff < -TOLERANCE).sum() if expected != "does not rise" else (diff > TOLERANCE).sum())
        return Finding(prop, lever, group, measure, expected, judge(expected, interval), effect, interval, n,
                       against, arms=arms)

    def skip(self, prop: str, lever: str, g: int, measure: str, expected: Expect, reason: str) -> Finding:
        """A property that does not apply to group ``g``, with the reason."""
        return Finding(prop, lever, self.groups[g], measure, expected, "not applicable", reason=reason)

    def issues_of(self, g: int) -> list[str]:
        """The issues of group ``g``."""
        return self.scenario.agenda[self.groups[g]]

    def war_decided(self, g: int) -> bool:
        """Whether war decides any issue of group ``g`` (beliefs enter its war payoffs)."""
        return any(self.scenario.issues[i].war_decides for i in self.issues_of(g))

    def ends_war(self, g: int) -> bool:
        """Whether group ``g`` holds the ceasefire (war costs enter its war payoffs)."""
        return any(self.scenario.issues[i].ends_war for i in self.issues_of(g))


def _rate(st: Statics, prop: str, lever: str, low: dict[str, float], high: dict[str, float], g: int,
          expected: Expect) -> Finding:
    return st.compare(prop, lever, low, high, g, "agreement rate", expected)


def patience(st: Statics) -> list[Finding]:
    """Rubinstein (1982), Stahl (1972): the more patient side gets more of what is agreed."""
    out = []
    for p, name in enumerate(st.parties):
        path = f"parties.{name}.strategy.patience"
        d = st.value(path)
        who = st.scenario.parties[name].name
        lever = f"{who}'s patience {d * STEPS['patience']:g} -> {d:g}"
        for g in range(len(st.groups)):
            out.append(st.compare("patience", lever, {path: d * STEPS["patience"]}, {}, g,
                                  f"{who}'s utility of the agreed terms", "does not fall", party=p))
    return out


def _raised(st: Statics, prop: str, key: str, what: str, applies: Callable[[int], bool], why_not: str) -> list[Finding]:
    """Each belligerent's number at ``parties.NAME.KEY`` raised by ``STEPS[prop]``, alone: the
    agreement rate does not fall, in every group where ``applies`` (else skipped, ``why_not``)."""
    out = []
    for name in st.parties:
        path = f"parties.{name}.{key}"
        now = st.value(path)
        lever = f"{st.scenario.parties[name].name}'s {what} {now:g} -> {now + STEPS[prop]:g}"
        for g in range(len(st.groups)):
            if not applies(g):
                out.append(st.skip(prop, lever, g, "agreement rate", "does not fall", why_not))
                continue
            out.append(_rate(st, prop, lever, {}, {path: now + STEPS[prop]}, g, "does not fall"))
    return out


def war_cost(st: Statics) -> list[Finding]:
    """Fearon (1995): a costlier war widens the range [p - c_A, p + c_B]; no fewer deals."""
    return _raised(st, "war_cost", "war.cost", "war cost", st.ends_war, "war costs enter only a group that ends the war")


def optimism(st: Statics) -> list[Finding]:
    """Fearon (1995), Blainey (1973): beliefs summing above one narrow the range; more
    optimism, no more deals."""
    paths = [f"parties.{name}.war.win_probability" for name in st.parties]
    now = [st.value(p) for p in paths]
    high = {p: min(1.0, v + STEPS["optimism"]) for p, v in zip(paths, now, strict=True)}
    lever = f"own win beliefs summing {sum(now):g} -> {sum(high.values()):g}"
    out = []
    for g in range(len(st.groups)):
        if not st.war_decided(g):
            out.append(st.skip("optimism", lever, g, "agreement rate", "does not rise",
                               "war decides none of the group's issues, so beliefs do not enter its war payoffs"))
        elif all(v >= 1.0 for v in now):
            out.append(st.skip("optimism", lever, g, "agreement rate", "does not rise", "both beliefs are already 1"))
        else:
            out.append(_rate(st, "optimism", lever, {}, high, g, "does not rise"))
    return out


def _bindings(st: Statics) -> list[tuple[str, str, dict[str, float]]]:
    """What could bind a deal under a shift of power: (what, how the diagnosis reruns, the
    paths that switch it off) for the red lines' costs, the commitment penalties, the risk
    attitudes (a concave value function's premium over the war lottery depends on the odds)
    and the battlefield's drift, where the scenario has them."""
    red, com, risk = {}, {}, {}
    for name in st.parties:
        party = st.scenario.parties[name]
        red.update({f"parties.{name}.red_lines.{i}.cost": 0.0 for i in range(len(party.red_lines))})
        com.update({f"parties.{name}.commitments.{i}.penalty": 0.0 for i in range(len(party.commitments))})
        if party.risk_exponent != 1.0:
            risk[f"parties.{name}.risk_exponent"] = 1.0
    bf = st.scenario.battlefield
    still = {"battlefield.drift": 0.0, "battlefield.volatility": 0.0} if bf is not None and (bf.drift or bf.volatility) else {}
    found = (("red lines", "without red lines", red), ("the commitment problem", "without the commitment problem", com),
             ("risk attitudes", "with every side risk-neutral", risk),
             ("the battlefield's drift", "with a still battlefield", still))
    return [entry for entry in found if entry[2]]


FINE_CANDIDATES = 10_000
"""The finer grid a diagnosis may try: at most about this many candidates in the group."""


def _finer_grid(st: Statics, g: int) -> dict[str, float]:
    """Paths giving the group's issues more levels (up to 101 each and about
    ``FINE_CANDIDATES`` in all), or none where the grid is already that fine."""
    issues = st.issues_of(g)
    levels = min(101, int(FINE_CANDIDATES ** (1.0 / len(issues))))
    return {f"issues.{i}.levels": float(levels) for i in issues if st.scenario.issues[i].levels < levels}


def power_shift(st: Statics) -> list[Finding]:
    """A shift of power with common beliefs moves the range toward the side gaining but does
    not shrink it (Fearon 1995; Reiter 2009): terms move; where the chance of a deal falls,
    something binds: red lines, the commitment problem, risk attitudes, a battlefield that
    drives the beliefs to their bounds, or a candidate grid too coarse for the moved range to
    hold a point (tested by running the same shift without each in turn, then without all)."""
    out: list[Finding] = []
    step = STEPS["power_shift"]
    for p, name in enumerate(st.parties):
        other = st.parties[1 - p]
        lose, gain = f"parties.{name}.war.win_probability", f"parties.{other}.war.win_probability"
        shifted = {lose: st.value(lose) - step, gain: st.value(gain) + step}
        who, whom = st.scenario.parties[name].name, st.scenario.parties[other].name
        lever = f"{who}'s win belief -{step:g}, {whom}'s +{step:g}"
        for g in range(len(st.groups)):
            terms = (f"{who}'s utility of the agreed terms", f"{whom}'s utility of the agreed terms")
            if not st.war_decided(g) or not (shifted[lose] >= 0.0 and shifted[gain] <= 1.0):
                reason = ("war decides none of the group's issues, so beliefs do not enter its war payoffs"
                          if not st.war_decided(g) else "no room to move the beliefs inside [0, 1]")
                expects: tuple[tuple[str, Expect], ...] = (
                    (terms[0], "does not rise"), (terms[1], "does not fall"), ("agreement rate", "need not fall"))
                out.extend(st.skip("power_shift", lever, g, m, e, reason) for m, e in expects)
                continue
            out.append(st.compare("power_shift", lever, {}, shifted, g, terms[0], "does not rise", party=p))
            out.append(st.compare("power_shift", lever, {}, shifted, g, terms[1], "does not fall", party=1 - p))
            out.append(_shift_rate(st, lever, shifted, g))
    return out


def _shift_rate(st: Statics, lever: str, shifted: dict[str, float], g: int) -> Finding:
    """The agreement rate under a shift of power, with what binds where it falls."""
    found = _rate(st, "power_shift", lever, {}, shifted, g, "need not fall")
    assert found.interval is not None
    if found.interval[1] >= -TOLERANCE:
        return found
    bindings = _bindings(st)
    if not bindings and not _finer_grid(st, g):
        return Finding(**{**asdict(found), "verdict": "violated",
                          "reason": "the rate falls with linear values on a fine grid and no red line or commitment problem"})
    fine = _finer_grid(st, g)
    if fine:
        grid = f"on a grid of {int(next(iter(fine.values())))} levels per issue"
        bindings.append(("the coarse candidate grid", grid, fine))
    if len(bindings) > 1:  # then all of them together
        bindings.append((" and ".join(what for what, _, _ in bindings), ", ".join(how for _, how, _ in bindings),
                         {k: v for _, _, paths in bindings for k, v in paths.items()}))
    for what, how, calm in bindings:
        diag = _rate(st, "power_shift", lever, calm, {**calm, **shifted}, g, "does not fall")
        assert diag.interval is not None
        lo, hi = diag.interval
        rerun = (f"{how} the rate goes {diag.arms['low']:.1%} -> {diag.arms['high']:.1%} "
                 f"({diag.effect:+.3f}, 95% CI {lo:+.3f} to {hi:+.3f})")
        # an explanation: without it the fall is gone (not significant) and at most half as large
        assert diag.effect is not None and found.effect is not None
        if diag.verdict == "holds" and diag.effect > found.effect / 2:
            return Finding(**{**asdict(found), "reason": f"what binds is {what}: {rerun}"})
    return Finding(**{**asdict(found), "verdict": "violated", "reason": f"the rate falls even {rerun}"})


def threat(st: Statics) -> list[Finding]:
    """Credible threats lower the target's war payoff: no fewer deals (Drezner 1999), and deals
    gather before the threat falls due (Roth, Murnighan & Schoumaker 1988)."""
    out = []
    for e, event in enumerate(st.scenario.events):
        lever = f"{event.name} (on {', '.join(event.targets)}, from round {event.from_round + 1}) absent -> present"
        without = {f"events.{e}.targets.{t}": 0.0 for t in event.targets}
        for g, group in enumerate(st.groups):
            measures: list[tuple[str, Expect, int | None, bool]] = [("agreement rate", "does not fall", None, False)]
            if event.from_round >= 1:
                measures.append((f"agreement before round {event.from_round + 1}, when it falls due", "does not fall",
                                 event.from_round, False))
            measures.append(("agreement round", "does not rise", None, True))
            for measure, expected, before, timing in measures:
                if group != event.unless_agreed:
                    out.append(st.skip("threat", lever, g, measure, expected, f"the event bears only on {event.unless_agreed}"))
                elif not any(v < 0 for v in event.targets.values()):
                    out.append(st.skip("threat", lever, g, measure, expected, "it lowers no war payoff: not a threat"))
                else:
                    out.append(st.compare("threat", lever, without, {}, g, measure, expected, before_round=before,
                                          timing=timing))
    return out


def red_line_cost(st: Statics) -> list[Finding]:
    """Audience costs raise a side's reservation value: lower costs, no fewer deals."""
    out = []
    for name in st.parties:
        party = st.scenario.parties[name]
        if not any(red.cost > 0 for red in party.red_lines):
            continue
        lower = {f"parties.{name}.red_lines.{i}.cost": red.cost * STEPS["red_line_cost"] for i, red in enumerate(party.red_lines)}
        lever = f"{party.name}'s red-line costs x{STEPS['red_line_cost']:g}"
        issues = {red.issue for red in party.red_lines}
        for g in range(len(st.groups)):
            if not issues & set(st.issues_of(g)):
                out.append(st.skip("red_line_cost", lever, g, "agreement rate", "does not fall",
                                   "none of its red lines is on the group's issues"))
            else:
                out.append(_rate(st, "red_line_cost", lever, {}, lower, g, "does not fall"))
    return out


def risk_aversion(st: Statics) -> list[Finding]:
    """Risk aversion lowers the certainty equivalent of the war lottery: no fewer deals."""
    return _raised(st, "risk_aversion", "risk_exponent", "risk exponent", st.war_decided,
                   "war decides none of the group's issues: there is no war lottery, only the status quo")


PROPERTIES = (patience, war_cost, optimism, power_shift, threat, red_line_cost, risk_aversion)
"""Every property, in THEORY.md's order."""

STATEMENTS = {
    "patience": "more patience for a party: its share of what is agreed does not fall (Rubinstein 1982; Stahl 1972)",
    "war_cost": "higher war costs for either side: the chance of a deal does not fall (Fearon 1995)",
    "optimism": "more mutual optimism: the chance of a deal does not rise (Fearon 1995; Blainey 1973)",
    "power_shift": "a side's win belief falls, the other's rises: terms move toward the other side; "
                   "the chance of a deal falls only where red lines, commitment problems, risk attitudes or a coarse grid bind",
    "threat": "a threat on a party: the chance of a deal does not fall, and deals come sooner, before it falls due "
              "where it is credible (Drezner 1999; Roth, Murnighan & Schoumaker 1988)",
    "red_line_cost": "lower audience costs of red lines: the chance of a deal does not fall",
    "risk_aversion": "more risk aversion toward the war lottery: the chance of a deal does not fall",
}
"""What each property says, for people."""


def check(loaded: LoadedScenario, replicas: int | None = None, seed: int | None = None) -> list[Finding]:
    """Every property of THEORY.md's comparative statics on one scenario."""
    st = Statics(loaded, replicas, seed)
    return [finding for prop in PROPERTIES for finding in prop(st)]
