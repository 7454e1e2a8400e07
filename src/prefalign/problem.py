"""The inputs of one alignment problem, validated: preference matrix ``P``, sampler ``μ``,
reference ``π_ref`` and signal strength ``β`` (shared by :mod:`prefalign.ipo` and :mod:`prefalign.dpo`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import preferences, validation


def inputs(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None, beta: ArrayLike
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(P, μ, π_ref, β)`` as float arrays, after validation.

    ``P`` of shape ``(..., K, K)`` is a preference matrix (or batch); ``μ`` and ``π_ref`` are
    probability vectors with ``K`` entries (``π_ref`` strictly positive; ``None`` means uniform);
    ``β > 0``. The shapes are returned unbroadcast.
    """
    Q = preferences.validate(P)
    K = Q.shape[-1]
    m = validation.probability_vector(mu, "mu")
    validation.same_size(K, m, "mu")
    if ref is None:
        r = np.full(K, 1.0 / K)
    else:
        r = validation.probability_vector(ref, "ref", positive=True)
        validation.same_size(K, r, "ref")
    b = validation.positive(beta, "beta")
    return Q, m, r, b


def require_full_support(mu: np.ndarray, hint: str = "") -> None:
    """Raise ``ValueError`` naming the first zero entry of ``μ``: the optimum's log-ratio is undetermined there."""
    if np.any(mu <= 0):
        bad = np.unravel_index(np.argmin(mu), mu.shape)
        raise ValueError(
            f"mu must have full support (every entry > 0); mu{validation.fmt_index(bad)} = {mu[bad]:g}, "
            f"so log(pi/ref) is undetermined at response {bad[-1]}{hint}"
        )
