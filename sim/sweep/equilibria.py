"""Which strategy should each side play? Empirical game-theoretic analysis (Wellman 2006):
every profile of the belligerents' strategy sets is simulated over the same replicas
(common random numbers), each party's payoff estimated with its sampling error, and the
meta-game solved: two parties by nashpy (support enumeration; replicator dynamics as a
cross-check), more by ``sim.sweep.nplayer``. The tournament across scenarios is
``sim.sweep.tournament``; charts are ``sim.charts``.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.dynamics import war_payoffs
from sim.engine import NegotiationModel, compile_batch
from sim.errors import InputError, Problem
from sim.inputs.scenario import LoadedScenario
from sim.inputs.schema import Scenario, Strategy
from sim.sweep import nplayer

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
        f"documented, found {text!r}"
    )


def strategy_sets(
    scenario: Scenario, names: list[str] | None, *, documented: bool = True
) -> dict[str, list[tuple[str, Strategy]]]:
    """Each belligerent's strategy set as (label, spec) pairs, without duplicates; with
    ``documented``, the documented strategy is in every set, its label marked ``(documented)``."""
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
        if not documented:
            out[party] = chosen
            continue
        index = next((k for k, (_, spec) in enumerate(chosen) if spec == base), None)
        if index is None:
            chosen.append(("documented", base))
            index = len(chosen) - 1
        label, spec = chosen[index]
        chosen[index] = (label if label == "documented" else f"{label} (documented)", spec)
        out[party] = chosen
    return out


MAX_GAME_REPLICAS = 1_000_000
"""The most replicas per strategy profile: every profile's per-replica payoffs are kept."""


def check_replicas(scenario: Scenario, replicas: int) -> None:
    """An InputError unless ``replicas`` per profile is at least 2 and within what one model
    of ``scenario`` holds and ``MAX_GAME_REPLICAS``."""
    from sim.inputs.checks import replicas_at_once

    most = min(MAX_GAME_REPLICAS, replicas_at_once(scenario))
    if not 2 <= replicas <= most:
        raise InputError(
            [Problem("--replicas", None, "replicas", f"2 to {most:,} replicas per profile of {scenario.name}", f"{replicas:,}")]
        )


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


def play(scenario: Scenario, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Run replicas ``start .. stop-1`` of ``scenario``: each party's payoff (R, P) and each
    group's agreed round (G, R; from 0, -1 where no deal was made)."""
    from sim.engine.blocks import release

    model = NegotiationModel(compile_batch(scenario, start, stop))
    model.run_model()
    values, agreed = payoffs(model), np.array(model.agreed_round)
    release(model)
    return values, agreed


@dataclass(frozen=True)
class MetaGame:
    """The estimated meta-game of the belligerents (P of them, S_p strategies each).

    ``labels``: each party's strategy labels; ``payoff[p]`` (S_0, ..., S_P-1): party p's
    mean payoff per profile; ``error[p]``: its standard error; ``agreement``
    (S_0, ..., S_P-1, G): the agreement rate per group; ``rounds``: the mean agreement round
    (from 1) per group where agreed; ``documented``: the documented profile's indices.
    """

    parties: tuple[str, ...]
    labels: tuple[list[str], ...]
    groups: list[str]
    payoff: np.ndarray  # (P, S_0, ..., S_P-1)
    error: np.ndarray  # (P, S_0, ..., S_P-1)
    agreement: np.ndarray  # (S_0, ..., S_P-1, G)
    rounds: np.ndarray  # (S_0, ..., S_P-1, G)
    replicas: int

    @property
    def documented(self) -> tuple[int, ...]:
        """Indices of the documented profile."""
        return tuple(documented_index(labels) for labels in self.labels)

    def game(self) -> Any:
        """The nashpy bimatrix game of the mean payoffs (two parties only)."""
        import nashpy

        if len(self.parties) != 2:
            raise ValueError(f"nashpy solves two-party games; this one has {len(self.parties)} parties")
        return nashpy.Game(self.payoff[0], self.payoff[1])

    def equilibria(self) -> list[tuple[np.ndarray, ...]]:
        """Every Nash equilibrium, rounded to 1e-9. Two parties: support enumeration (nashpy),
        pure and mixed, all of them. More: the pure ones by enumeration (exact, all of them),
        then mixed ones found by ``nplayer.mixed_equilibria`` (a search, regret at most
        ``nplayer.TOLERANCE``)."""
        if len(self.parties) > 2:
            pure = [tuple(np.eye(len(labels))[k] for labels, k in zip(self.labels, profile, strict=True))
                    for profile in nplayer.pure_equilibria(self.payoff)]
            return pure + [tuple(mix) for mix in nplayer.mixed_equilibria(self.payoff)]
        with np.errstate(all="ignore"):
            found = [(np.round(a, 9) + 0.0, np.round(b, 9) + 0.0) for a, b in self.game().support_enumeration()]
        unique: list[tuple[np.ndarray, ...]] = []
        for a, b in found:
            if not any(np.allclose(a, x) and np.allclose(b, y) for x, y in unique):
                unique.append((a, b))
        return unique

    def replicator(self, steps: int = 4000) -> tuple[np.ndarray, ...]:
        """Where replicator dynamics (one population per party, Taylor & Jonker 1978) from the
        uniform mix settle: nashpy's asymmetric replicator dynamics for two parties,
        ``nplayer.replicator`` for more."""
        if len(self.parties) > 2:
            return tuple(nplayer.replicator(self.payoff)[0])
        timepoints = np.linspace(0, 400, steps)
        xs, ys = self.game().asymmetric_replicator_dynamics(timepoints=timepoints)
        return xs[-1], ys[-1]

    def best_response(self, party: int, to: int | tuple[int, ...]) -> int:
        """Party ``party``'s best strategy against the others' profile ``to`` (its own entry
        ignored), or for two parties against the other's strategy index."""
        if isinstance(to, int):
            to = (0, to) if party == 0 else (to, 0)
        return nplayer.best_response(self.payoff, party, to)

    def deviation_gain_within_error(self, *profile: int, z: float = 2.0) -> bool:
        """Whether ``profile`` is an equilibrium up to sampling error: no party's best
        deviation gains more than ``z`` standard errors of the difference (errors added in
        quadrature; the common random numbers make this conservative)."""
        for p in range(len(self.parties)):
            line = list(profile)
            line[p] = slice(None)  # type: ignore[call-overload]
            table, error = self.payoff[p][tuple(line)], self.error[p][tuple(line)]
            gain = table - table[profile[p]]
            bound = z * np.sqrt(error**2 + error[profile[p]] ** 2)
            if np.any(gain > bound):
                return False
        return True

    def value(self, sigma: tuple[np.ndarray, ...]) -> tuple[list[float], np.ndarray]:
        """Expected payoffs of every party and agreement rates per group under a mixed profile."""
        joint = functools.reduce(np.multiply.outer, sigma)
        axes = string.ascii_letters[: len(sigma)]
        rates = np.einsum(f"{axes},{axes}z->z", joint, self.agreement)
        return [float((joint * table).sum()) for table in self.payoff], rates


def meta_game(
    loaded: LoadedScenario | Scenario, strategies: list[str] | None = None, *, replicas: int = 1000, seed: int | None = None
) -> MetaGame:
    """Simulate every strategy profile of the belligerents over the same ``replicas``
    (common random numbers: replica r draws alike in every profile)."""
    scenario = loaded.scenario if isinstance(loaded, LoadedScenario) else loaded
    check_replicas(scenario, replicas)
    scenario = scenario.model_copy(update={"replicas": replicas, **({"seed": seed} if seed is not None else {})})
    parties = scenario.belligerents
    if len(parties) < 2:
        raise InputError(
            [Problem(scenario.name, None, "parties", "two or more belligerents for a meta-game", str(len(parties)))]
        )
    sets = [strategy_sets(scenario, strategies)[p] for p in parties]
    shape = tuple(len(s) for s in sets)
    groups = list(scenario.agenda)
    payoff = np.zeros((len(parties), *shape))
    error = np.zeros_like(payoff)
    agreement = np.zeros((*shape, len(groups)))
    rounds = np.full_like(agreement, np.nan)
    for chosen in itertools.product(*(enumerate(s) for s in sets)):
        index = tuple(k for k, _ in chosen)
        values, agreed = play(with_strategies(scenario, {p: spec for p, (_, (_, spec)) in zip(parties, chosen, strict=True)}))
        cell: tuple[Any, ...] = (slice(None), *index)
        payoff[cell] = values.mean(axis=0)
        error[cell] = values.std(axis=0, ddof=1) / np.sqrt(replicas) if replicas > 1 else np.nan
        done = agreed >= 0
        agreement[index] = done.mean(axis=1)
        with np.errstate(invalid="ignore"):
            rounds[index] = np.where(done, agreed + 1, 0).sum(axis=1) / done.sum(axis=1)
    return MetaGame(tuple(parties), tuple([x for x, _ in s] for s in sets), groups, payoff, error, agreement, rounds, replicas)
