"""Which strategy should each side play? Empirical game-theoretic analysis (Wellman 2006):
every profile of the belligerents' strategy sets is simulated over the same replicas
(common random numbers), each party's payoff estimated with its sampling error, and the
meta-game solved (nashpy support enumeration; replicator dynamics as a cross-check).
A tournament plays every pair of strategies across scenarios. Charts are ``sim.charts``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.core.dynamics import war_payoffs
from sim.engine import NegotiationModel, compile_batch
from sim.errors import InputError, Problem
from sim.inputs.scenario import LoadedScenario
from sim.inputs.schema import Scenario, Strategy

DEFAULT_STRATEGIES = ("hardliner", "boulware:0.2", "boulware:0.5", "linear", "conceder:2", "conceder:5", "tit_for_tat", "zeuthen")
"""The bundled tactics: time-dependent with e in {0, 0.2, 0.5, 1, 2, 5}, tit-for-tat, Zeuthen."""


def parse_strategy(text: str, base: Strategy) -> Strategy:
    """A strategy from its short name, keeping ``base``'s patience and other settings.

    ``hardliner`` (e = 0), ``boulware[:e]`` (default 0.2), ``linear`` (e = 1),
    ``conceder[:e]`` (default 2), ``time_dependent:e``, ``tit_for_tat``, ``zeuthen[:step]``,
    ``documented`` (the scenario's own).

    Examples
    --------
    >>> parse_strategy("boulware:0.5", Strategy(assumption="a test")).e
    0.5
    >>> parse_strategy("zeuthen", Strategy(assumption="a test")).type
    'zeuthen'
    """
    match = re.fullmatch(r"([a-z_]+)(?::([0-9.]+))?", text.strip())
    if match is None:
        raise ValueError(f"a strategy name such as boulware:0.2, found {text!r}")
    kind, number = match.group(1), match.group(2)
    value = float(number) if number is not None else None
    defaults = {"hardliner": 0.0, "boulware": 0.2, "linear": 1.0, "conceder": 2.0, "time_dependent": None}
    if kind == "documented":
        return base
    if kind in defaults:
        e = value if value is not None and kind != "hardliner" and kind != "linear" else defaults[kind]
        if e is None:
            raise ValueError("time_dependent needs an exponent: time_dependent:e")
        return base.model_copy(update={"type": "time_dependent", "e": float(e)})
    if kind == "tit_for_tat":
        return base.model_copy(update={"type": "tit_for_tat"})
    if kind == "zeuthen":
        return base.model_copy(update={"type": "zeuthen", **({"step": value} if value is not None else {})})
    raise ValueError(
        f"one of hardliner, boulware[:e], linear, conceder[:e], time_dependent:e, tit_for_tat, zeuthen[:step], "
        f"documented; found {text!r}"
    )


def strategy_sets(scenario: Scenario, names: list[str] | None) -> dict[str, list[tuple[str, Strategy]]]:
    """Each belligerent's strategy set as (label, spec) pairs, without duplicates; the
    documented strategy is in every set, its label marked ``(documented)``."""
    out: dict[str, list[tuple[str, Strategy]]] = {}
    for party in scenario.belligerents:
        base = scenario.parties[party].strategy
        assert base is not None
        chosen: list[tuple[str, Strategy]] = []
        for name in names or list(DEFAULT_STRATEGIES):
            try:
                spec = parse_strategy(name, base)
            except ValueError as exc:
                expected, _, found = str(exc).partition(", found ")
                raise InputError([Problem("--strategies", None, "strategies", expected, found or repr(name))]) from None
            if all(spec != other for _, other in chosen):
                chosen.append((name, spec))
        index = next((k for k, (_, spec) in enumerate(chosen) if spec == base), None)
        if index is None:
            chosen.append(("documented", base))
            index = len(chosen) - 1
        label, spec = chosen[index]
        chosen[index] = (label if label == "documented" else f"{label} (documented)", spec)
        out[party] = chosen
    return out


def documented_index(labels: list[str]) -> int:
    """Where the documented strategy is in a set's labels."""
    return next(k for k, label in enumerate(labels) if label == "documented" or label.endswith("(documented)"))


def with_strategies(scenario: Scenario, profile: dict[str, Strategy]) -> Scenario:
    """The scenario with each belligerent's strategy replaced."""
    parties = {
        name: (p.model_copy(update={"strategy": profile[name]}) if name in profile else p) for name, p in scenario.parties.items()
    }
    return scenario.model_copy(update={"parties": parties})


def payoffs(model: NegotiationModel) -> np.ndarray:
    """Each party's payoff in each replica (R, P): over agenda groups, the utility of the
    agreed terms discounted by its patience to the round of agreement, or where no deal was
    made, its war payoff at the deadline discounted to the last round."""
    b = model.batch
    last = b.rounds - 1
    wars = war_payoffs(b, last)
    total = np.zeros((b.replicas, len(b.parties)))
    for g in range(len(b.groups)):
        agreed = model.agreed_round[g] >= 0
        index = np.maximum(model.agreement[g], 0)
        terms = np.take_along_axis(b.utilities[g], index[:, None, None], axis=2)[:, :, 0].astype(float)
        when = np.where(agreed, model.agreed_round[g], last)[:, None]
        value = np.where(agreed[:, None], terms, wars[g])
        total += b.patience**when * value
    return total


@dataclass(frozen=True)
class MetaGame:
    """The estimated meta-game of two belligerents.

    ``labels``: each party's strategy labels; ``payoff[p]`` (S0, S1): party p's mean
    payoff per profile; ``error[p]``: its standard error; ``agreement`` (S0, S1, G): the
    agreement rate per group; ``equilibria``: each as (sigma0, sigma1, agreement rate per
    group); ``documented``: the documented profile's indices.
    """

    parties: tuple[str, str]
    labels: tuple[list[str], list[str]]
    groups: list[str]
    payoff: np.ndarray  # (2, S0, S1)
    error: np.ndarray  # (2, S0, S1)
    agreement: np.ndarray  # (S0, S1, G)
    rounds: np.ndarray  # (S0, S1, G)
    replicas: int

    @property
    def documented(self) -> tuple[int, int]:
        """Indices of the documented profile."""
        return documented_index(self.labels[0]), documented_index(self.labels[1])

    def game(self) -> Any:
        """The nashpy bimatrix game of the mean payoffs."""
        import nashpy

        return nashpy.Game(self.payoff[0], self.payoff[1])

    def equilibria(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Every Nash equilibrium by support enumeration (nashpy), pure and mixed, rounded to 1e-9."""
        with np.errstate(all="ignore"):
            found = [(np.round(a, 9) + 0.0, np.round(b, 9) + 0.0) for a, b in self.game().support_enumeration()]
        unique: list[tuple[np.ndarray, np.ndarray]] = []
        for a, b in found:
            if not any(np.allclose(a, x) and np.allclose(b, y) for x, y in unique):
                unique.append((a, b))
        return unique

    def replicator(self, steps: int = 4000) -> tuple[np.ndarray, np.ndarray]:
        """Where two-population replicator dynamics from the uniform mix settle (nashpy's
        asymmetric replicator dynamics, Taylor & Jonker 1978)."""
        timepoints = np.linspace(0, 400, steps)
        xs, ys = self.game().asymmetric_replicator_dynamics(timepoints=timepoints)
        return xs[-1], ys[-1]

    def best_response(self, party: int, to: int) -> int:
        """Party ``party``'s best strategy against the other's strategy index ``to``."""
        column = self.payoff[party][:, to] if party == 0 else self.payoff[party][to, :]
        return int(np.argmax(column))

    def deviation_gain_within_error(self, i: int, j: int, z: float = 2.0) -> bool:
        """Whether profile (i, j) is an equilibrium up to sampling error: no party's best
        deviation gains more than ``z`` standard errors of the difference (errors added in
        quadrature; the common random numbers make this conservative)."""
        for p, own, other in ((0, i, j), (1, j, i)):
            table = self.payoff[p] if p == 0 else self.payoff[p].T
            error = self.error[p] if p == 0 else self.error[p].T
            gain = table[:, other] - table[own, other]
            bound = z * np.sqrt(error[:, other] ** 2 + error[own, other] ** 2)
            if np.any(gain > bound):
                return False
        return True

    def value(self, sigma: tuple[np.ndarray, np.ndarray]) -> tuple[float, float, np.ndarray]:
        """Expected payoffs of both parties and agreement rates per group under a mixed profile."""
        joint = np.outer(sigma[0], sigma[1])
        return (
            float((joint * self.payoff[0]).sum()),
            float((joint * self.payoff[1]).sum()),
            np.einsum("ij,ijg->g", joint, self.agreement),
        )


def meta_game(
    loaded: LoadedScenario | Scenario, strategies: list[str] | None = None, *, replicas: int = 1000, seed: int | None = None
) -> MetaGame:
    """Simulate every strategy profile of the two belligerents over the same ``replicas``
    (common random numbers: replica r draws alike in every profile)."""
    scenario = loaded.scenario if isinstance(loaded, LoadedScenario) else loaded
    scenario = scenario.model_copy(update={"replicas": replicas, **({"seed": seed} if seed is not None else {})})
    parties = scenario.belligerents
    if len(parties) != 2:
        raise InputError(
            [Problem(scenario.name, None, "parties", "two belligerents for a bimatrix meta-game", str(len(parties)))]
        )
    sets = strategy_sets(scenario, strategies)
    a, b = (sets[p] for p in parties)
    groups = list(scenario.agenda)
    payoff = np.zeros((2, len(a), len(b)))
    error = np.zeros_like(payoff)
    agreement = np.zeros((len(a), len(b), len(groups)))
    rounds = np.full_like(agreement, np.nan)
    for (i, (_, sa)), (j, (_, sb)) in itertools.product(enumerate(a), enumerate(b)):
        model = NegotiationModel(compile_batch(with_strategies(scenario, {parties[0]: sa, parties[1]: sb})))
        model.run_model()
        values = payoffs(model)
        payoff[:, i, j] = values.mean(axis=0)
        error[:, i, j] = values.std(axis=0, ddof=1) / np.sqrt(replicas) if replicas > 1 else np.nan
        done = model.agreed_round >= 0
        agreement[i, j] = done.mean(axis=1)
        with np.errstate(invalid="ignore"):
            rounds[i, j] = np.where(done, model.agreed_round + 1, 0).sum(axis=1) / done.sum(axis=1)
    return MetaGame(
        (parties[0], parties[1]), ([x for x, _ in a], [x for x, _ in b]), groups, payoff, error, agreement, rounds, replicas
    )


def tournament(scenarios: list[LoadedScenario], strategies: list[str] | None = None, *, replicas: int = 200) -> pd.DataFrame:
    """Every strategy against every other across ``scenarios`` (Axelrod-style): per strategy
    its mean payoff, agreement rate and mean agreement round (from 1), averaged over both
    seats, every scenario and every opponent; ``games`` counts the (scenario, seat) rows."""
    rows = []
    for loaded in scenarios:
        game = meta_game(loaded, strategies, replicas=replicas)
        for seat in (0, 1):
            for s, label in enumerate(game.labels[seat]):
                if label == "documented":
                    continue
                pay = game.payoff[seat][s, :] if seat == 0 else game.payoff[seat][:, s]
                agree = game.agreement[s, :, :] if seat == 0 else game.agreement[:, s, :]
                when = game.rounds[s, :, :] if seat == 0 else game.rounds[:, s, :]
                rows.append(
                    {
                        "strategy": label.removesuffix(" (documented)"),
                        "scenario": loaded.scenario.name,
                        "seat": game.parties[seat],
                        "payoff": float(pay.mean()),
                        "agreement": float(agree.mean()),
                        "round": float(np.nanmean(when)) if np.isfinite(when).any() else np.nan,
                    }
                )
    frame = pd.DataFrame(rows)
    table = frame.groupby("strategy", sort=False).agg(
        payoff=("payoff", "mean"), agreement=("agreement", "mean"), round=("round", "mean"), games=("payoff", "size")
    )
    return table.sort_values("payoff", ascending=False)
