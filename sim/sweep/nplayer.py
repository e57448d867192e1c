"""Normal-form games of any number of players on payoff tensors ``payoff: (P, S_0, ..., S_{P-1})``:
expected payoffs of mixed profiles, best responses, pure equilibria by enumeration, mixed
equilibria (McKelvey's Liapunov function, then the support's indifference equations) and
multi-population replicator dynamics. Arrays only: simulating the profiles is
``sim.sweep.equilibria``, where two-party games are solved by nashpy instead.
"""

from __future__ import annotations

import itertools
import string

import numpy as np

TOLERANCE = 1e-9
"""A mixed profile is an equilibrium when no party gains more than this (payoff units) by a deviation."""


def _check(payoff: np.ndarray) -> int:
    players = payoff.ndim - 1
    if players < 1 or payoff.shape[0] != players:
        raise ValueError(f"a payoff tensor of shape (P, S_0, ..., S_P-1), found shape {payoff.shape}")
    return players


def deviation_payoffs(payoff: np.ndarray, sigma: list[np.ndarray]) -> list[np.ndarray]:
    """Each party p's expected payoff of each of its pure strategies (S_p,) when the others
    play ``sigma`` (each a probability vector).

    Examples
    --------
    >>> a = np.array([[[1.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 1.0]]])  # battle of the sexes
    >>> [d.tolist() for d in deviation_payoffs(a, [np.array([0.5, 0.5]), np.array([1.0, 0.0])])]
    [[1.0, 0.0], [1.0, 0.5]]
    """
    players = _check(payoff)
    axes = string.ascii_letters[:players]
    out = []
    for p in range(players):
        others = [q for q in range(players) if q != p]
        spec = axes + "," + ",".join(axes[q] for q in others) + "->" + axes[p]
        out.append(np.einsum(spec, payoff[p], *(sigma[q] for q in others)))
    return out


def expected_payoffs(payoff: np.ndarray, sigma: list[np.ndarray]) -> np.ndarray:
    """Every party's expected payoff (P,) under the mixed profile ``sigma``."""
    return np.array([float(d @ s) for d, s in zip(deviation_payoffs(payoff, sigma), sigma, strict=True)])


def regret(payoff: np.ndarray, sigma: list[np.ndarray]) -> float:
    """The most any party gains by switching alone to its best pure strategy (0 at an equilibrium)."""
    return max(float(d.max() - d @ s) for d, s in zip(deviation_payoffs(payoff, sigma), sigma, strict=True))


def best_response(payoff: np.ndarray, party: int, profile: tuple[int, ...]) -> int:
    """Party ``party``'s best pure strategy when the others play ``profile`` (its own entry
    is ignored); the first one on a tie."""
    index = list(profile)
    index[party] = slice(None)  # type: ignore[call-overload]
    return int(np.argmax(payoff[party][tuple(index)]))


def pure_equilibria(payoff: np.ndarray) -> list[tuple[int, ...]]:
    """Every pure Nash equilibrium, exactly, by enumeration: the profiles where each party's
    payoff is the largest along its own axis (a tie with the best deviation counts), in
    lexicographic order.

    Examples
    --------
    >>> a = np.array([[[1.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 1.0]]])
    >>> pure_equilibria(a)
    [(0, 0), (1, 1)]
    """
    players = _check(payoff)
    stable = np.ones(payoff.shape[1:], dtype=bool)
    for p in range(players):
        stable &= payoff[p] >= payoff[p].max(axis=p, keepdims=True)
    return [tuple(int(k) for k in row) for row in np.argwhere(stable)]


def _split(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    return np.split(x, np.cumsum(sizes)[:-1])


def _polish(payoff: np.ndarray, sigma: list[np.ndarray], threshold: float = 1e-6) -> list[np.ndarray] | None:
    """Solve the support's equations (every strategy played is a best response, each mix sums
    to 1) from ``sigma`` by Newton's method; None unless it converges inside the simplex."""
    from scipy.optimize import root

    supports = [np.flatnonzero(s > threshold) for s in sigma]
    sizes = [len(k) for k in supports]

    def full(x: np.ndarray) -> list[np.ndarray]:
        out = [np.zeros_like(s) for s in sigma]
        for p, part in enumerate(_split(x, sizes)):
            out[p][supports[p]] = part
        return out

    def equations(x: np.ndarray) -> np.ndarray:
        mix = full(x)
        rows = []
        for p, d in enumerate(deviation_payoffs(payoff, mix)):
            rows.extend(d[supports[p][1:]] - d[supports[p][0]])
            rows.append(mix[p].sum() - 1.0)
        return np.array(rows)

    start = np.concatenate([s[k] for s, k in zip(sigma, supports, strict=True)])
    found = root(equations, start, method="hybr", options={"xtol": 1e-14})
    if not found.success or np.any(found.x < -1e-12):
        return None
    return [np.clip(s, 0.0, None) / np.clip(s, 0.0, None).sum() for s in full(found.x)]


def mixed_equilibria(payoff: np.ndarray, *, starts: int = 8, tol: float = TOLERANCE, rng: int = 0) -> list[list[np.ndarray]]:
    """Nash equilibria in which some party mixes, each with regret at most ``tol``.

    From the uniform mix and ``starts`` random ones (Dirichlet draws from ``rng``), minimise
    McKelvey's (1998) Liapunov function, the sum over parties and strategies of the squared
    gain of switching to that strategy, which is zero exactly at the equilibria, over the
    product of simplices (scipy SLSQP); then solve the found support's indifference
    equations to machine precision (``_polish``) and keep the profile if its regret is at
    most ``tol``. A search, not an enumeration: an equilibrium whose basin no start reaches
    is missed (pure ones are all found by ``pure_equilibria``).
    """
    from scipy.optimize import minimize

    players = _check(payoff)
    sizes = list(payoff.shape[1:])
    draw = np.random.default_rng(rng)
    points = [np.concatenate([np.full(n, 1.0 / n) for n in sizes])]
    points += [np.concatenate([draw.dirichlet(np.ones(n)) for n in sizes]) for _ in range(starts)]
    scale = max(float(np.ptp(payoff)), 1e-300)

    def liapunov(x: np.ndarray) -> float:
        mix = _split(x, sizes)
        return float(
            sum(np.sum(np.maximum(d - d @ s, 0.0) ** 2) for d, s in zip(deviation_payoffs(payoff, mix), mix, strict=True))
        ) / scale**2

    rows = np.repeat(np.eye(players), sizes, axis=1)  # (P, sum S_p): party p's strategies
    constraints = [{"type": "eq", "fun": lambda x: rows @ x - 1.0, "jac": lambda x: rows}]
    found: list[list[np.ndarray]] = []
    for x0 in points:
        result = minimize(
            liapunov, x0, method="SLSQP", bounds=[(0.0, 1.0)] * len(x0), constraints=constraints,
            options={"ftol": 1e-14, "maxiter": 200},
        )
        mix = [np.clip(s, 0.0, None) / np.clip(s, 0.0, None).sum() for s in _split(result.x, sizes)]
        polished = _polish(payoff, mix)
        candidate = polished if polished is not None and regret(payoff, polished) <= tol else mix
        if regret(payoff, candidate) > tol or all(np.count_nonzero(s > 1e-9) == 1 for s in candidate):
            continue
        rounded = [np.round(s, 9) + 0.0 for s in candidate]
        if not any(all(np.allclose(a, b, atol=1e-6) for a, b in zip(rounded, other, strict=True)) for other in found):
            found.append(rounded)
    return sorted(found, key=lambda mix: tuple(itertools.chain.from_iterable(-s for s in mix)))


def replicator(
    payoff: np.ndarray, start: list[np.ndarray] | None = None, *, horizon: float = 400.0, tol: float = 1e-8
) -> tuple[list[np.ndarray], bool]:
    """Where multi-population replicator dynamics (Taylor & Jonker 1978), each party's share
    of strategy k growing at its payoff minus the party's mean, settle by ``horizon`` from
    ``start`` (default: the uniform mix); and whether they settled (every rate below ``tol``)."""
    from scipy.integrate import solve_ivp

    sizes = list(payoff.shape[1:])
    x0 = np.concatenate(start) if start is not None else np.concatenate([np.full(n, 1.0 / n) for n in sizes])

    def rates(_t: float, x: np.ndarray) -> np.ndarray:
        mix = _split(x, sizes)
        return np.concatenate([s * (d - d @ s) for d, s in zip(deviation_payoffs(payoff, mix), mix, strict=True)])

    end = solve_ivp(rates, (0.0, horizon), x0, method="LSODA", rtol=1e-10, atol=1e-12).y[:, -1]
    mix = [np.clip(s, 0.0, None) / np.clip(s, 0.0, None).sum() for s in _split(end, sizes)]
    return mix, bool(np.abs(rates(horizon, end)).max() < tol)
