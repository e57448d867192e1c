"""Each replica's offer frontier: the only candidates that "best for the other side among those
meeting my target" can ever return, sorted by the proposer's utility, so an offer is a binary
search over F entries instead of a scan over all K candidates; and the mediator's single text
over the same entries. Every look-up returns the index the scan returns, ties included.

Built once per agenda group from its utilities (they do not change while a model runs). No
strategies or protocols here: ``sim.core.strategies`` and ``sim.core.protocols`` call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

CHUNK_CELLS = 2**18
"""Frontiers are built this many (replica, candidate) cells of rows at a time (about 2 MiB
of sort keys): past that the sort keys and ranks leave the processor's caches."""

def chunk_rows(cells_per_row: int) -> int:
    """Rows in a chunk of ``CHUNK_CELLS`` cells, for rows of ``cells_per_row`` cells (at least one)."""
    return max(1, CHUNK_CELLS // max(cells_per_row, 1))


def dtype_ceiling(bound: np.ndarray, dtype: np.dtype | type) -> np.ndarray:
    """The least value of ``dtype`` at or above each ``bound`` (float64): for every ``u`` of
    ``dtype``, ``u >= bound`` exactly when ``u >= dtype_ceiling(bound, dtype)``, so a
    comparison of float32 utilities with float64 war payoffs can run in float32, with no
    upcast copy of the (R, K) utilities. (Rounding to nearest leaves no value of ``dtype``
    between ``bound`` and its rounding; where that fell below, the next value up is the least
    above. NaN stays NaN: no comparison holds.)

    >>> import numpy as np
    >>> c = dtype_ceiling(np.array([0.7, 0.5, -np.inf]), np.float32)  # float32(0.7) is below 0.7
    >>> bool(np.float32(0.7) >= np.float64(0.7)), bool(c[0] >= np.float64(0.7)), float(c[1])
    (False, True, 0.5)
    >>> bool(c[0] == np.nextafter(np.float32(0.7), np.float32(1)))
    True
    """
    bound = np.asarray(bound, dtype=float)
    if np.dtype(dtype) == bound.dtype:
        return bound
    with np.errstate(over="ignore"):  # beyond the dtype's range: its infinity
        near = bound.astype(dtype)
        return np.where(near.astype(float) < bound, np.nextafter(near, np.asarray(np.inf, dtype)), near)


MIRROR_MAX = 4096
"""Up to this many candidates, a row without ties gets its second frontier by mirroring the first."""

COUNT_MAX = 128
"""Up to this many entries a row (the frontier's width), an offer counts the entries below
its threshold (one comparison over the frontier's columns, then a sum down them); past it,
a binary search of each row. Both find the same entry; the count makes two passes over
contiguous arrays where the search makes ``log2(W)`` rounds of gathers."""

PRUNE_MIN = 16384
"""From this many candidates on, candidates that a sample's frontier strictly dominates are
set aside before the sort (``_undominated``): they can never be an entry."""

PRUNE_SAMPLE = 16
"""Every this many-th candidate forms the sample whose frontier does the pruning."""

PRUNE_BINS = 256
"""The proposer's utility range is cut into this many bins for the pruning test."""


@dataclass(frozen=True)
class OfferFrontier:
    """One proposer's frontier in every replica, arrays over replicas R and entries W.

    Entry f of replica r is the candidate ``index[r, f]`` that the scan returns for every
    threshold in ``(level[r, f-1], level[r, f]]``: ``level`` (R, W) holds the proposer's
    utility of each entry, strictly increasing, NaN past the row's ``size`` (R,) entries
    (W, a power of two, exceeds every size: a binary search needs no bounds checks);
    ``fallback`` (R,) is the proposer's best candidate (first index), the offer when no
    candidate meets the threshold, and ``best`` (R,) its utility. The other side's utility
    falls along each row.
    """

    level: np.ndarray
    index: np.ndarray
    size: np.ndarray
    fallback: np.ndarray
    best: np.ndarray

    @property
    def entries(self) -> int:
        """W, the width of the rows (a power of two above the longest row's size)."""
        return int(self.level.shape[1])

    @cached_property
    def columns(self) -> np.ndarray:
        """``level`` transposed (W, R), contiguous: entry f of every replica side by side,
        for the counting look-up (made once, on first use)."""
        return np.ascontiguousarray(self.level.T)


def rows_of(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``values[rows]`` for integer positions ``rows``: the same copy by a take along the first
    axis, several times faster than fancy indexing where ``values`` has two axes or more
    (numpy's indexing copies the rest of each row element by element)."""
    return values.take(rows, axis=0)


def frontier_rows(frontier: OfferFrontier, rows: np.ndarray) -> OfferFrontier:
    """The frontier of replicas ``rows`` only (R',): the same look-ups for those rows."""
    return OfferFrontier(rows_of(frontier.level, rows), rows_of(frontier.index, rows), frontier.size[rows],
                         frontier.fallback[rows], frontier.best[rows])


def _widen(rows: np.ndarray, width: int, fill: float | int) -> np.ndarray:
    """``rows`` (R, W0) padded on the right with ``fill`` to width ``width`` >= W0 (``np.pad``'s
    result, without its cost per call)."""
    if rows.shape[1] == width:
        return rows
    out = np.full((rows.shape[0], width), fill, dtype=rows.dtype)
    out[:, : rows.shape[1]] = rows
    return out


def _stacked(parts: list[np.ndarray], width: int, fill: float | int) -> np.ndarray:
    """Consecutive blocks of rows (R_i, W_i) as one array (sum R_i, ``width``), each padded on
    the right with ``fill`` (``np.concatenate`` of the ``_widen``-ed parts)."""
    out = np.full((sum(part.shape[0] for part in parts), width), fill, dtype=parts[0].dtype)
    lo = 0
    for part in parts:
        out[lo : lo + part.shape[0], : part.shape[1]] = part
        lo += part.shape[0]
    return out


def _frontier(level: np.ndarray, index: np.ndarray, size: np.ndarray, fallback: np.ndarray) -> OfferFrontier:
    """An ``OfferFrontier`` from rows at least as wide as every size, padded to a power of two above it."""
    wide = max(1 << int(size.max(initial=0)).bit_length(), level.shape[1])
    level, index = _widen(level, wide, np.nan), _widen(index, wide, 0)
    best = level[np.arange(level.shape[0]), np.maximum(size - 1, 0)]  # the last entry: the proposer's best
    return OfferFrontier(level, index, size, fallback, best)


def _rank_order(other: np.ndarray, ties: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Per row, the candidates (R, K) by the other side's utility descending, then index
    ascending: the scan's own order of preference (argmax returns the first maximum), as
    flat indices ``row * K + candidate``; with ``ties``, also whether each row has two equal
    utilities of the other side (R,)."""
    r, k = other.shape
    rows = np.arange(r)[:, None] * k
    if other.dtype == np.float32:
        # one sort of 64-bit keys: high word the other's utility (descending), low word the index
        key = np.empty((r, k), dtype="<u8")
        words = key.view("<u4").reshape(r, k, 2)
        bits = np.subtract(np.float32(0.0), other).view(np.uint32)  # -x exactly; both zeros +0.0
        flip = bits.view(np.int32) >> 31  # all ones where negative
        flip |= np.int32(-(2**31))
        np.bitwise_xor(bits, flip.view(np.uint32), out=words[..., 1])  # ascending with -x
        words[..., 0] = np.arange(k, dtype=np.uint32)
        key.sort(axis=1)
        # neighbouring sorted keys with the same high word: equal utilities
        tied = np.equal(words[:, 1:, 1], words[:, :-1, 1]).any(axis=1) if ties else None
        return np.add(words[..., 0], rows), tied
    order = np.lexsort((np.broadcast_to(np.arange(k), other.shape), -other), axis=-1)
    ranked = np.take_along_axis(other, order, axis=1)
    return order + rows, (ranked[:, 1:] == ranked[:, :-1]).any(axis=1) if ties else None


def _take(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[r, index[r, j]]`` for ``values`` (R, K) and ``index`` (R, J): one flat take,
    several times faster than ``take_along_axis`` on wide rows."""
    rows = np.arange(values.shape[0])[:, None] * values.shape[1]
    return np.take(values.ravel(), index + rows)


def pick(utilities: np.ndarray, party: int, index: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    """``utilities[rows, party, index]`` for ``utilities`` (R, P, K) and ``index`` (R',) (rows:
    all by default): one flat take where the array is contiguous, several times faster than
    fancy indexing of three axes."""
    r, n, k = utilities.shape
    at = np.arange(r) if rows is None else rows
    if not utilities.flags.c_contiguous:
        return utilities[at, party, index]
    return np.take(utilities.reshape(-1), (at * n + party) * k + index)


def _running_max(values: np.ndarray) -> np.ndarray:
    """``out[:, j] = max(values[:, :j + 1])``: by doubling on short rows (log2(K) SIMD
    passes beat the scalar accumulate there), by accumulating on long ones."""
    if values.shape[1] > 512:
        return np.maximum.accumulate(values, axis=1)
    run = values.copy()
    spare = np.empty_like(run)
    step = 1
    while step < run.shape[1]:
        spare[:, :step] = run[:, :step]
        np.maximum(run[:, step:], run[:, :-step], out=spare[:, step:])
        run, spare = spare, run
        step *= 2
    return run


def offer_frontier(own: np.ndarray, other: np.ndarray) -> OfferFrontier:
    """The frontier of a proposer with utilities ``own`` (R, K) facing ``other`` (R, K).

    Walk the candidates in the scan's order of preference (the other's utility descending,
    then index ascending): the scan's answer for a threshold is the first candidate whose
    own utility meets it, so only candidates whose own utility beats every one before them
    (the records of the running maximum) can be answers. They are Pareto-optimal but for
    exact ties, which the order settles as the scan does. Finite utilities only.

    Examples
    --------
    >>> own = np.array([[1.0, 0.7, 0.4, 0.0, 0.4]], dtype=np.float32)
    >>> f = offer_frontier(own, 1 - own)
    >>> n = f.size[0]  # rows are padded (NaN levels) to a power of two above their size
    >>> f.level[0, :n].tolist(), f.index[0, :n].tolist(), f.fallback.tolist(), f.entries
    ([0.0, 0.4000000059604645, 0.699999988079071, 1.0], [3, 2, 1, 0], [0], 8)
    """
    return _records(own, _rank_order(other)[0])[0]


def offer_frontier_rows(own: np.ndarray, other: np.ndarray) -> OfferFrontier:
    """``offer_frontier`` built ``CHUNK_CELLS`` cells of rows at a time (the same look-ups):
    a proposer facing the sum of several others, where no mirroring applies."""
    step = chunk_rows(own.shape[1])
    parts = [offer_frontier(own[lo : lo + step], other[lo : lo + step]) for lo in range(0, max(own.shape[0], 1), step)]
    return parts[0] if len(parts) == 1 else _stack(parts)


def _packed(mask: np.ndarray, count: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The flat positions ``at`` of the True cells of ``mask`` (R, K), row-major, each row
    holding ``count`` (R,) of them, and where each goes when packed to the left of rows of
    ``width``: row i's j-th cell to ``i * width + j``."""
    at = np.flatnonzero(mask)
    return at, np.arange(at.size) + np.repeat(np.arange(mask.shape[0]) * width - (np.cumsum(count) - count), count)


def _records(own: np.ndarray, flat: np.ndarray, mirror: np.ndarray | None = None) -> tuple[OfferFrontier, ...]:
    """The frontier from the scan's order of preference, flat indices ``flat`` (R, K); with
    ``mirror`` (the other side's utilities (R, K)), also the other side's frontier read off
    it, the same entries in reverse (valid in rows where neither side has two equal
    utilities: ``_offer_frontiers``)."""
    r, k = own.shape
    ranked = np.take(own.ravel(), flat)
    record = np.empty(ranked.shape, dtype=bool)
    record[:, 0] = True
    np.greater(ranked[:, 1:], _running_max(ranked)[:, :-1], out=record[:, 1:])
    size = record.sum(axis=1)
    width = 1 << int(size.max(initial=0)).bit_length()
    at, where = _packed(record, size, width)
    level = np.full(r * width, np.nan, dtype=own.dtype)
    level[where] = np.take(ranked.ravel(), at)
    chosen = np.take(flat.ravel(), at)  # row * K + candidate of each entry
    row = at // k
    index = np.zeros(r * width, dtype=np.intp)
    index[where] = chosen - row * k
    one = _frontier(level.reshape(r, width), index.reshape(r, width), size, np.argmax(own, axis=1))
    if mirror is None:
        return (one,)
    back = 2 * row * width + np.take(size, row) - 1 - where  # entry j of n to n - 1 - j
    level_back = np.full(r * width, np.nan, dtype=mirror.dtype)
    level_back[back] = np.take(mirror.ravel(), chosen)
    index_back = np.zeros(r * width, dtype=np.intp)
    index_back[back] = index[where]
    return one, _frontier(level_back.reshape(r, width), index_back.reshape(r, width), size.copy(),
                          np.argmax(mirror, axis=1))


def offer_frontiers(first: np.ndarray, second: np.ndarray) -> tuple[OfferFrontier, OfferFrontier]:
    """Both proposers' frontiers of two parties' utilities ``first``, ``second`` (R, K).

    In a row where neither party has two equal utilities, both frontiers are the row's
    Pareto set, one the other reversed, so the second is read off the first; rows with
    ties get their own (their frontiers can differ in tied candidates). Built
    ``CHUNK_CELLS`` cells of rows at a time, so the sort keys and ranks stay in cache.
    """
    step = chunk_rows(first.shape[1])
    parts = [_offer_frontiers(first[lo : lo + step], second[lo : lo + step]) for lo in range(0, first.shape[0], step)]
    if len(parts) == 1:
        return parts[0]
    return _stack([one for one, _ in parts]), _stack([two for _, two in parts])


def pair_frontiers(utilities: np.ndarray) -> tuple[tuple[OfferFrontier, OfferFrontier], np.ndarray, np.ndarray]:
    """``offer_frontiers`` of two parties' utilities (R, 2, K), with each party's best and
    worst utility (R, 2) (``utilities.max(axis=2)`` and ``.min(axis=2)``, the same values),
    found chunk by chunk while each chunk of rows is in cache for its frontiers."""
    step = chunk_rows(utilities.shape[2])
    best = np.empty(utilities.shape[:2], dtype=utilities.dtype)
    worst = np.empty(utilities.shape[:2], dtype=utilities.dtype)
    parts = []
    for lo in range(0, utilities.shape[0], step):
        chunk = utilities[lo : lo + step]
        np.max(chunk, axis=2, out=best[lo : lo + step])
        np.min(chunk, axis=2, out=worst[lo : lo + step])
        parts.append(_offer_frontiers(chunk[:, 0], chunk[:, 1]))
    if len(parts) == 1:
        return parts[0], best, worst
    return (_stack([one for one, _ in parts]), _stack([two for _, two in parts])), best, worst


def _stack(parts: list[OfferFrontier]) -> OfferFrontier:
    """One frontier of consecutive blocks of rows."""
    wide = max(part.entries for part in parts)
    return OfferFrontier(
        _stacked([part.level for part in parts], wide, np.nan),
        _stacked([part.index for part in parts], wide, 0),
        np.concatenate([part.size for part in parts]),
        np.concatenate([part.fallback for part in parts]),
        np.concatenate([part.best for part in parts]),
    )


def _undominated(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Per row of ``first``, ``second`` (R, K), the candidates (R, K) bool that no candidate
    is certain to dominate strictly in both utilities; the others are never an entry of
    either party's frontier (one strictly better for both comes before them in the scan's
    order and beats them, so they are no record), so leaving them out changes no entry.

    The dominating candidates are the frontier of every ``PRUNE_SAMPLE``-th candidate,
    sorted by ``first`` rising and ``second`` falling. A candidate whose ``first`` lies in
    bin c of ``PRUNE_BINS`` over the row's range is set aside if ``second`` is strictly
    below that of the first sample entry above bin c + 1: that entry beats it in ``first``
    by most of a bin (far more than any rounding of the bin) and in ``second`` exactly.
    """
    sample = offer_frontier(first[:, ::PRUNE_SAMPLE], second[:, ::PRUNE_SAMPLE])
    levels = sample.level  # first's utility of each entry, rising; NaN padding
    beyond = _take(second[:, ::PRUNE_SAMPLE], sample.index)  # second's, falling along the row
    low = first.min(axis=1).astype(float)
    width = (first.max(axis=1).astype(float) - low) / PRUNE_BINS
    usable = np.isfinite(width) & (width > 0)
    width = np.where(usable, width, 1.0)
    # the first sample entry above the top of bin c + 1, and its ``second`` (-inf: none)
    edges = low[:, None] + (np.arange(PRUNE_BINS) + 2)[None, :] * width[:, None]  # (R, B)
    above = (levels[:, None, :] <= edges[:, :, None]).sum(axis=2)  # NaN padding counts as above
    bar = np.where(above < sample.size[:, None], np.take_along_axis(beyond, np.minimum(above, levels.shape[1] - 1), axis=1),
                   -np.inf).astype(second.dtype)
    bar[~usable] = -np.inf
    cell = ((first - low[:, None].astype(first.dtype)) * (1.0 / width[:, None]).astype(first.dtype)).astype(np.intp)
    np.clip(cell, 0, PRUNE_BINS - 1, out=cell)
    return ~(second < _take(bar, cell))


def _pruned_frontiers(first: np.ndarray, second: np.ndarray) -> tuple[OfferFrontier, OfferFrontier]:
    """Both proposers' frontiers of a chunk of rows with many candidates, sorting only the
    candidates ``_undominated`` keeps (in their order, so ties fall as before), the rest
    of each row padded with -inf, which is never an entry."""
    r, k = first.shape
    keep = _undominated(first, second)
    count = keep.sum(axis=1)
    width = max(int(count.max(initial=1)), 1)
    at, where = _packed(keep, count, width)
    picked = np.zeros(r * width, dtype=np.intp)
    picked[where] = at - (at // k) * k
    picked = picked.reshape(r, width)

    def narrowed(values: np.ndarray) -> np.ndarray:
        out = np.full(r * width, -np.inf, dtype=values.dtype)
        out[where] = np.take(values.ravel(), at)
        return out.reshape(r, width)
    a, b = narrowed(first), narrowed(second)
    fronts = []
    for own, other, full in ((a, b, first), (b, a, second)):
        f = offer_frontier(own, other)
        index = np.where(np.arange(f.entries) < f.size[:, None], np.take_along_axis(picked, f.index, axis=1), 0)
        fronts.append(OfferFrontier(f.level, index, f.size, np.argmax(full, axis=1), f.best))
    return fronts[0], fronts[1]


def _offer_frontiers(first: np.ndarray, second: np.ndarray) -> tuple[OfferFrontier, OfferFrontier]:
    """``offer_frontiers`` of one chunk of rows."""
    k = first.shape[1]
    if k >= PRUNE_MIN:
        return _pruned_frontiers(first, second)
    order, second_tied = _rank_order(second, ties=k <= MIRROR_MAX)
    if second_tied is None:  # many candidates: float32 ties are all but certain, mirroring would not pay
        return _records(first, order)[0], offer_frontier(second, first)
    one, two = _records(first, order, second)
    ranked = np.sort(first, axis=1)
    tied = second_tied | (ranked[:, 1:] == ranked[:, :-1]).any(axis=1)  # -0.0 == 0.0 here too
    if not tied.any():
        return one, two
    rows = np.flatnonzero(tied)
    own = offer_frontier(second[rows], first[rows])
    wide = max(two.entries, own.entries)
    level, index, size = _widen(two.level, wide, np.nan), _widen(two.index, wide, 0), two.size
    level[rows], index[rows] = _widen(own.level, wide, np.nan), _widen(own.index, wide, 0)
    size[rows] = own.size
    return one, _frontier(level, index, size, two.fallback)


def frontier_offer(
    frontier: OfferFrontier, threshold: np.ndarray, rows: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The scan's offer (R,) for ``threshold`` (R,) in the utilities' dtype, and the
    proposer's utility of it (R,): the first entry whose level reaches the threshold (found
    by counting the entries below it, or on frontiers wider than ``COUNT_MAX`` by a binary
    search of each row), the fallback where none does. With ``rows`` (R',), the
    same for those rows of the frontier only, ``threshold`` being (R',): no copy of them."""
    width = frontier.level.shape[1]
    flat = frontier.level.ravel()
    if rows is None:
        base = np.arange(frontier.level.shape[0]) * width
        size, fallback, best = frontier.size, frontier.fallback, frontier.best
    else:
        base = rows * width
        size, fallback, best = frontier.size[rows], frontier.fallback[rows], frontier.best[rows]
    if width <= COUNT_MAX:  # levels rise along a row and NaN padding is never below: count those below
        columns = frontier.columns if rows is None else np.take(frontier.columns, rows, axis=1)
        below = np.less(columns, threshold)
        cursor = base + np.add.reduce(below.view(np.uint8), axis=0, dtype=np.uint8)
    else:
        cursor = base.copy()  # base + entries below the threshold found so far
        probe = np.empty_like(cursor)
        step_below = np.empty(base.shape, dtype=bool)
        step = width // 2
        while step:
            np.add(cursor, step - 1, out=probe)
            np.less(np.take(flat, probe), threshold, out=step_below)  # NaN padding: never below
            np.add(cursor, step, out=cursor, where=step_below)
            step //= 2
    stuck = (cursor - base >= size) | np.isnan(threshold)
    index = np.where(stuck, fallback, np.take(frontier.index.ravel(), cursor))
    return index, np.where(stuck, best, np.take(flat, cursor))


@dataclass(frozen=True)
class TextFrontier:
    """What the mediator's text is chosen from in every replica of one group (two parties).

    ``values`` (R, P, F): the parties' utilities of proposer 0's frontier entries (NaN
    past a row's ``size``), ``index`` (R, F) their candidates. ``gap`` (R, P): a lower bound
    on the smallest positive difference between two of a party's utilities; ``magnitude``
    (R,): the largest absolute utility. They tell when rounding cannot let a dominated
    candidate tie with the text (``frontier_text``).
    """

    values: np.ndarray
    index: np.ndarray
    size: np.ndarray
    gap: np.ndarray
    magnitude: np.ndarray


def text_frontier(utilities: np.ndarray, frontier: OfferFrontier) -> TextFrontier:
    """The single text's candidates from ``utilities`` (R, P, K) and party 0's offer frontier
    (every candidate not dominated, or tied, by one before it in party 1's order)."""
    r, n_parties = utilities.shape[:2]
    width = frontier.entries
    valid = np.arange(width) < frontier.size[:, None]
    values = np.stack([_take(utilities[:, p], frontier.index) for p in range(n_parties)], axis=1)
    values = np.where(valid[:, None, :], values, np.nan)
    gap = np.full((r, n_parties), np.inf)
    for p in range(n_parties):
        steps = np.diff(np.sort(utilities[:, p], axis=1).astype(float), axis=1)
        gap[:, p] = np.where(steps > 0, steps, np.inf).min(axis=1, initial=np.inf)
    gap *= 1.0 - 1e-15  # a float64 difference of two float32 values may be rounded up
    magnitude = np.abs(utilities).max(axis=(1, 2)).astype(float)
    return TextFrontier(values, frontier.index, frontier.size, gap, magnitude)


def frontier_text(
    text: TextFrontier, weights: np.ndarray, war: np.ndarray, floor: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The single text (R,) over the frontier, and where it is certain to be the scan's (R,).

    The scan maximises ``sum_p weights[r, p] * U[r, p, k]`` (float64, parties in order)
    over the candidates every party values at least at ``floor`` (R, P, in the utilities'
    dtype) and prefers to war, else over those every party prefers to war, else over all,
    first index on ties. Each pool is closed upward, so every candidate in it is weakly
    dominated by a frontier entry in it (the pool is empty exactly when its frontier part
    is). With weights >= 0 rounding is monotone, so a candidate dominated by another
    scores no more than it; it scores strictly less once the weighted smallest gap exceeds
    twice the rounding error of a score. Where that holds the frontier holds the scan's text;
    elsewhere (extreme weights, near-equal utilities) the caller scans.
    """
    u = text.values.astype(float)
    score = weights[:, 0, None] * u[:, 0]
    for p in range(1, u.shape[1]):
        score = score + weights[:, p, None] * u[:, p]
    rational = np.all(text.values >= dtype_ceiling(war, text.values.dtype)[:, :, None], axis=1)  # no upcast
    valid = np.arange(u.shape[2]) < text.size[:, None]
    among = np.where(rational.any(axis=1)[:, None], rational, valid)
    if floor is not None:
        acceptable = rational & np.all(text.values >= floor[:, :, None], axis=1)
        among = np.where(acceptable.any(axis=1)[:, None], acceptable, among)
    masked = np.where(among, score, -np.inf)
    best = masked.max(axis=1)
    tied = among & (masked == best[:, None])
    chosen = np.where(tied, text.index, np.iinfo(np.intp).max).min(axis=1)
    with np.errstate(invalid="ignore"):  # 0 * inf: a party without two distinct utilities
        spread = np.where(np.isinf(text.gap), np.inf, weights * text.gap).min(axis=1)
    error = 4 * u.shape[1] * np.finfo(float).eps * text.magnitude * weights.sum(axis=1)
    certain = (weights >= 0).all(axis=1) & (spread > error + 1e-300)
    return chosen, certain
