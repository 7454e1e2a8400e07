"""Policies as points of the probability simplex Δ_K: normalisation in log space, entropy, distances.

Shapes: a policy is a vector of shape ``(K,)``; every function here also accepts a batch of
shape ``(..., K)`` and works along the last axis.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import entr, logsumexp

from prefalign import validation


def uniform(K: int) -> np.ndarray:
    """The uniform policy ``(1/K, ..., 1/K)`` of shape ``(K,)``."""
    K = validation.count(K, "K")
    return np.full(K, 1.0 / K)


def lattice(n: int, K: int = 3) -> np.ndarray:
    """All points of Δ_K whose coordinates are multiples of ``1/n``, shape ``(C(n+K-1, K-1), K)``."""
    n = validation.count(n, "n")
    K = validation.count(K, "K")
    if K == 1:
        return np.ones((1, 1))
    points = [(i,) + rest for i in range(n, -1, -1) for rest in _compositions(n - i, K - 1)]
    return np.array(points, dtype=float) / n


def _compositions(total: int, parts: int) -> list[tuple[int, ...]]:
    if parts == 1:
        return [(total,)]
    return [(i,) + rest for i in range(total, -1, -1) for rest in _compositions(total - i, parts - 1)]


def log_normalize(logits: ArrayLike) -> np.ndarray:
    """``logits - logsumexp(logits)`` along the last axis: the log of ``softmax(logits)``.

    Exact for any finite logits (no overflow for large ones, no underflow to ``-inf`` until
    the float64 range itself ends).
    """
    z = validation.finite_array(logits, "logits", ndim_min=1)
    return z - logsumexp(z, axis=-1, keepdims=True)


def softmax(logits: ArrayLike) -> np.ndarray:
    """``exp(z_i) / sum_j exp(z_j)`` along the last axis, computed as ``exp(log_normalize(z))``."""
    return np.exp(log_normalize(logits))


def entropy(pi: ArrayLike) -> np.ndarray:
    """Shannon entropy ``H(π) = -Σ_i π_i log π_i`` in nats (``0 log 0 = 0``), along the last axis.

    Returns a float for a single policy, an array of shape ``(...)`` for a batch.
    """
    p = validation.probability_vector(pi, "pi")
    return entr(p).sum(axis=-1)


def tv_distance(p: ArrayLike, q: ArrayLike) -> np.ndarray:
    """Total-variation distance ``½ Σ_i |p_i - q_i|`` along the last axis (in [0, 1])."""
    a = validation.probability_vector(p, "p")
    b = validation.probability_vector(q, "q")
    validation.same_size(a.shape[-1], b, "q", against="p")
    return 0.5 * np.abs(a - b).sum(axis=-1)


def entropy_from_log(log_pi: ArrayLike) -> np.ndarray:
    """Shannon entropy ``H(π) = -Σ_i π_i log π_i`` in nats, from log-probabilities, along the last axis.

    For policies that have (nearly) collapsed onto one response, where ``π`` itself would lose the
    small entries: with ``m`` the largest entry and ``s = Σ_{i≠m} π_i``,
    ``H = Σ_{i≠m} π_i (-log π_i) + (1 - s)(-log1p(-s))``. Every term is ``>= 0``, so the result
    is never negative, and it keeps full relative precision down to entries of 1e-300 and below
    (``H([log(1 - 2e-300), log 1e-300, log 1e-300]) ≈ 1.38e-297``). ``log_pi`` is validated
    with :func:`prefalign.validation.log_probability_vector`.
    """
    lp = validation.log_probability_vector(log_pi, "log_pi")
    top = np.argmax(lp, axis=-1)[..., None]
    rest = np.ones(lp.shape, dtype=bool)
    np.put_along_axis(rest, top, False, axis=-1)
    p = np.where(rest, np.exp(lp), 0.0)
    s = p.sum(axis=-1)
    return -(p * lp).sum(axis=-1) - (1.0 - s) * np.log1p(-s)
