"""Argument checks shared by the theory functions: each raises a ``ValueError`` naming the
argument, what was expected and what was found. Array type aliases and the tie tolerance.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.intp]

#: Relative tolerance under which two scores count as tied.
_TIE_RTOL = 1e-12


def _fmt_index(index: tuple[int, ...]) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _as_float_array(name: str, value: Any) -> FloatArray:
    """Convert ``value`` to a float64 array or raise a ValueError naming ``name``."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be numeric; got a {type(value).__name__} {value!r}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric (convertible to float64); got {type(value).__name__}: {exc}"
        ) from None
    return arr


def _check_finite(name: str, arr: FloatArray) -> None:
    """Raise a ValueError if ``arr`` holds NaN or an infinity."""
    nan = np.isnan(arr)
    if nan.any():
        first = np.argwhere(nan)[0]
        raise ValueError(
            f"{name} must not contain NaN; found {int(nan.sum())} NaN value(s), "
            f"the first at index {_fmt_index(tuple(first))}"
        )
    inf = np.isinf(arr)
    if inf.any():
        first = np.argwhere(inf)[0]
        raise ValueError(
            f"{name} must be finite; found {float(arr[tuple(first)])} at index {_fmt_index(tuple(first))}"
        )


def _check_utilities(utilities: ArrayLike) -> FloatArray:
    u = _as_float_array("utilities", utilities)
    if u.ndim != 2:
        raise ValueError(
            f"utilities must be a 2-D array of shape (K, P) (K outcomes, P parties); "
            f"got a {u.ndim}-D array with shape {u.shape}"
        )
    if u.shape[0] < 1 or u.shape[1] < 1:
        raise ValueError(
            f"utilities must have at least one outcome (row) and one party (column); "
            f"got shape {u.shape}"
        )
    _check_finite("utilities", u)
    # ``+ 0.0`` turns -0.0 into 0.0 so that equal utilities are bitwise equal.
    return u + 0.0


def _check_disagreement(disagreement: ArrayLike, n_parties: int) -> FloatArray:
    d = _as_float_array("disagreement", disagreement)
    if d.shape != (n_parties,):
        raise ValueError(
            f"disagreement must have shape (P,) = ({n_parties},) to match utilities with "
            f"P={n_parties} parties; got shape {d.shape}"
        )
    _check_finite("disagreement", d)
    return d + 0.0


def _check_vector(name: str, value: ArrayLike, *, length: int | None = None) -> FloatArray:
    arr = _as_float_array(name, value)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array; got a {arr.ndim}-D array with shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ValueError(
            f"{name} must have the same length as positions ({length}); got length {arr.shape[0]}"
        )
    _check_finite(name, arr)
    return arr + 0.0


def _check_nonnegative(name: str, arr: FloatArray) -> None:
    bad = arr < 0
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be >= 0; found {name}[{i}] = {float(arr[i])!r}")


def _check_in_unit_interval(name: str, arr: FloatArray) -> None:
    bad = (arr < 0) | (arr > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must lie in [0, 1]; found {name}[{i}] = {float(arr[i])!r}")


def _check_scalar(name: str, value: Any, *, low: float, high: float,
                  low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a real number; got {type(value).__name__} {value!r}")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must not be NaN; got nan")
    lo_ok = x > low if low_open else x >= low
    hi_ok = x < high if high_open else x <= high
    if not (lo_ok and hi_ok):
        interval = ("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]")
        raise ValueError(f"{name} must lie in {interval}; got {x!r}")
    return x


def _check_int(name: str, value: Any, *, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {type(value).__name__} {value!r}")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {int(value)}")
    return int(value)


