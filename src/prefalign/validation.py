"""Argument validation shared by every public function.

Each validator returns a clean ``float64`` array (or float) and raises ``ValueError`` whose
message names the argument and the violated condition, with the worst offending entry.
Nothing is clipped or dropped silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

SUM_TOL = 1e-9
"""Tolerance on ``|sum(x) - 1|`` for probability vectors."""


def fmt_index(index: tuple[int, ...]) -> str:
    """Format an index tuple as ``[i, j]`` for error messages."""
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _real_kind(x: object, name: str) -> None:
    """Refuse what ``np.asarray(x, float)`` would coerce silently: strings (``"2"``), complex numbers
    (the imaginary part would be dropped) and objects holding either."""
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a real number or array; could not read it as an array ({exc})") from None
    kind = raw.dtype.kind
    if kind == "O":
        kinds = {np.asarray(v).dtype.kind for v in raw.flat}
        kind = next((k for k in "cUSVO" if k in kinds), "f")
    if kind == "c":
        raise ValueError(f"{name} must be real, got complex values (the imaginary part would be dropped)")
    if kind in "USVO" or kind == "M" or kind == "m":
        raise ValueError(f"{name} must be numeric, got {type(x).__name__} of dtype {raw.dtype} (strings are not converted)")


def finite_array(x: ArrayLike, name: str, *, ndim_min: int = 0) -> np.ndarray:
    """``x`` as a finite float64 array with at least ``ndim_min`` dimensions.

    Real numbers only: strings, complex values and objects are refused, never converted."""
    _real_kind(x, name)
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert it to floats ({exc})") from None
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimension(s), got shape {arr.shape}")
    if arr.size and not np.all(np.isfinite(arr)):
        bad = np.unravel_index(np.argmax(~np.isfinite(arr)), arr.shape)
        raise ValueError(f"{name} must be finite; {name}{fmt_index(bad)} = {arr[bad]}")
    return arr


def probability_vector(x: ArrayLike, name: str, *, positive: bool = False) -> np.ndarray:
    """Validate probability vectors along the last axis (shape ``(..., K)``, ``K >= 1``).

    Entries must be ``>= 0`` (``> 0`` when ``positive``) and each vector must sum to 1
    within ``SUM_TOL``. The array is returned unchanged (not renormalised).
    """
    arr = finite_array(x, name, ndim_min=1)
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one entry")
    if positive and np.any(arr <= 0):
        bad = np.unravel_index(np.argmin(arr), arr.shape)
        raise ValueError(
            f"{name} must be strictly positive (interior of the simplex); {name}{fmt_index(bad)} = {arr[bad]}"
        )
    if np.any(arr < 0):
        bad = np.unravel_index(np.argmin(arr), arr.shape)
        raise ValueError(f"{name} must be non-negative; {name}{fmt_index(bad)} = {arr[bad]}")
    dev = np.abs(arr.sum(axis=-1) - 1.0)
    if np.any(dev > SUM_TOL):
        worst = np.unravel_index(np.argmax(dev), dev.shape)
        total = arr.sum(axis=-1)[worst]
        where = f" at batch index {fmt_index(worst)}" if dev.ndim else ""
        raise ValueError(f"{name} must sum to 1 (within {SUM_TOL:g}); it sums to {float(total):.12g}{where}")
    return arr


def positive(x: ArrayLike, name: str) -> np.ndarray:
    """``x > 0`` elementwise (scalar or array), finite."""
    arr = finite_array(x, name)
    if np.any(arr <= 0):
        bad = arr.flat[np.argmin(arr)]
        raise ValueError(f"{name} must be > 0, got {bad:g}")
    return arr


def unit_interval(x: ArrayLike, name: str) -> np.ndarray:
    """``0 <= x <= 1`` elementwise (scalar or array), finite."""
    arr = finite_array(x, name)
    if np.any((arr < 0) | (arr > 1)):
        bad = arr.flat[np.argmax((arr < 0) | (arr > 1))]
        raise ValueError(f"{name} must lie in [0, 1], got {bad:g}")
    return arr


def same_size(K: int, x: np.ndarray, name: str, against: str = "P") -> None:
    """Require the last axis of ``x`` to have length ``K`` (the number of responses)."""
    if x.shape[-1] != K:
        raise ValueError(
            f"{name} must have {K} entries (one per response of {against}), got shape {x.shape}"
        )


def count(x: int, name: str, *, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools rejected)."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {x!r}")
    if x < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {x}")
    return int(x)


def log_probability_vector(x: ArrayLike, name: str) -> np.ndarray:
    """Validate log-probability vectors along the last axis (shape ``(..., K)``, ``K >= 1``).

    Entries must be finite (a probability of exactly 0 has no finite log; entries far below
    1e-300, such as -1e5, are fine) and ``logsumexp`` along the last axis must be 0 within
    ``SUM_TOL``, i.e. ``exp(x)`` sums to 1. The array is returned unchanged.
    """
    arr = finite_array(x, name, ndim_min=1)
    if arr.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one entry")
    top = arr.max(axis=-1)
    dev = np.abs(top + np.log(np.exp(arr - top[..., None]).sum(axis=-1)))  # |logsumexp|, max-shifted
    if np.any(dev > SUM_TOL):
        worst = np.unravel_index(np.argmax(dev), dev.shape)
        where = f" at batch index {fmt_index(worst)}" if dev.ndim else ""
        raise ValueError(
            f"{name} must hold log-probabilities (logsumexp along the last axis = 0 within {SUM_TOL:g}); "
            f"it is {float(dev[worst]):.6g} away from 0{where} (pass log(pi), not pi)"
        )
    return arr


def fmt_value(x: object) -> str:
    """``repr`` of a table cell for error messages, with numpy scalars shown as Python values (``2.5``, not ``np.float64(2.5)``)."""
    return repr(x.item() if isinstance(x, np.generic) else x)


def scalar(x: ArrayLike, name: str, check: Callable[[np.ndarray, str], np.ndarray] | None = None) -> float:
    """A single finite real number (a 0-d array or a Python/numpy scalar), as ``float``; ``check``
    (e.g. :func:`positive`) validates it further."""
    arr = finite_array(x, name)
    if arr.ndim != 0:
        raise ValueError(f"{name} must be a single number (a scalar), got an array of shape {arr.shape}")
    return float(arr if check is None else check(arr, name))


def nonnegative(x: ArrayLike, name: str) -> np.ndarray:
    """``x >= 0`` elementwise (scalar or array), finite."""
    arr = finite_array(x, name)
    if np.any(arr < 0):
        bad = arr.flat[np.argmin(arr)]
        raise ValueError(f"{name} must be >= 0, got {bad:g}")
    return arr


def generator(rng: object, name: str = "rng") -> np.random.Generator:
    """A ``numpy.random.Generator`` from ``rng``: a Generator (returned as is, so draws continue its
    stream) or a non-negative integer seed (``numpy.random.default_rng(seed)``).

    ``None`` is refused on purpose although ``default_rng(None)`` would accept it: it seeds from the
    operating system's entropy, and the book's rule is that every random draw is reproducible from a
    seed in the parameters cell. Anything else (a float, a string, the legacy ``RandomState``) raises
    ``ValueError`` naming the argument.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        raise ValueError(f"{name} must be a numpy Generator or an integer seed, got None "
                         "(unseeded randomness is not reproducible; pass a seed)")
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{name} must be a numpy Generator or an integer seed, got {type(rng).__name__} {rng!r}")
    if rng < 0:
        raise ValueError(f"{name} as a seed must be >= 0, got {rng}")
    return np.random.default_rng(int(rng))


def shape(x: object, name: str) -> tuple[int, ...]:
    """An array shape: a tuple of integers >= 0 (or one such integer)."""
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return (count(x, name, minimum=0),)
    if not isinstance(x, tuple):
        raise ValueError(f"{name} must be a tuple of integers >= 0 (an array shape), got {x!r}")
    return tuple(count(v, name, minimum=0) for v in x)


def flag(x: object, name: str) -> bool:
    """``True`` or ``False`` (numpy booleans too); anything else, ``0``/``1`` included, raises ``ValueError``."""
    if not isinstance(x, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {x!r}")
    return bool(x)


def choice(x: object, name: str, options: tuple[str, ...] | list[str]) -> str:
    """One of the strings ``options`` (anything else, arrays included, raises ``ValueError``)."""
    if not isinstance(x, str) or x not in options:
        allowed = " or ".join(repr(o) for o in options) if len(options) <= 2 else f"one of {list(options)}"
        raise ValueError(f"{name} must be {allowed}, got {x!r}")
    return x


def path(x: object, name: str) -> Path:
    """A file-system path given as ``str`` or ``os.PathLike`` (not checked for existence)."""
    if isinstance(x, bool) or not isinstance(x, (str, os.PathLike)) or not str(x):
        raise ValueError(f"{name} must be a path (a non-empty str or os.PathLike), got {type(x).__name__} {x!r}")
    return Path(x)
