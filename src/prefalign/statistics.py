"""Small statistical summaries used by the checks."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import validation


def loglog_slope(x: ArrayLike, y: ArrayLike) -> tuple[float, float]:
    """Least-squares fit ``log y = slope · log x + intercept``; returns ``(slope, intercept)``.

    ``x`` and ``y`` are 1-D, of equal length >= 2, strictly positive.
    """
    a = validation.positive(x, "x")
    b = validation.positive(y, "y")
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"x and y must be 1-D of equal length >= 2, got shapes {a.shape} and {b.shape}")
    if np.unique(a).size < 2:
        raise ValueError("x must hold at least two distinct values (a line through one abscissa is undetermined)")
    slope, intercept = np.polyfit(np.log(a), np.log(b), 1)
    return float(slope), float(intercept)
