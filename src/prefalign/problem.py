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
    broadcast(("P", Q.shape[:-2]), ("mu", m.shape[:-1]), ("ref", r.shape[:-1]), ("beta", b.shape))
    return Q, m, r, b


def broadcast(*batch_shapes: tuple[str, tuple[int, ...]]) -> tuple[int, ...]:
    """The common batch shape of named arguments (``(name, batch shape)`` pairs); ``ValueError``
    naming them all if they do not broadcast."""
    try:
        return np.broadcast_shapes(*(shape for _, shape in batch_shapes))
    except ValueError:
        listed = ", ".join(f"{name} {shape}" for name, shape in batch_shapes)
        raise ValueError(f"the batch shapes of the arguments must broadcast together; got {listed}") from None


def require_full_support(mu: np.ndarray, hint: str = "") -> None:
    """Raise ``ValueError`` naming the first zero entry of ``μ``: the optimum's log-ratio is undetermined there."""
    if np.any(mu <= 0):
        bad = np.unravel_index(np.argmin(mu), mu.shape)
        raise ValueError(
            f"mu must have full support (every entry > 0); mu{validation.fmt_index(bad)} = {mu[bad]:g}, "
            f"so log(pi/ref) is undetermined at response {bad[-1]}{hint}"
        )


def single(function: str, P: np.ndarray, mu: np.ndarray, ref: np.ndarray, beta: np.ndarray) -> None:
    """Require one problem (``function`` takes no batch): ``ValueError`` naming the first argument
    with batch dimensions."""
    for name, arr, ndim in (("P", P, 2), ("mu", mu, 1), ("ref", ref, 1), ("beta", beta, 0)):
        if np.ndim(arr) != ndim:
            what = {2: "a single K x K matrix", 1: "a single vector of shape (K,)", 0: "a scalar"}[ndim]
            raise ValueError(f"{function} takes one problem: {name} must be {what}, got shape {np.shape(arr)}")
