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
    if z.shape[-1] == 0:
        raise ValueError(f"logits must have at least one entry along the last axis, got shape {z.shape}")
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


def kl_from_log(log_p: ArrayLike, log_q: ArrayLike) -> np.ndarray:
    """``KL(p ‖ q) = Σ_i p_i (log p_i - log q_i)`` in nats, from log-probabilities, along the last axis.

    Exact for policies with entries far below 1e-300 (they enter through their logarithms);
    both arguments are validated with :func:`prefalign.validation.log_probability_vector`.
    """
    lp = validation.log_probability_vector(log_p, "log_p")
    lq = validation.log_probability_vector(log_q, "log_q")
    validation.same_size(lp.shape[-1], lq, "log_q", against="log_p")
    return np.sum(np.exp(lp) * (lp - lq), axis=-1)


def entropy_bound(off_top: ArrayLike, K: int) -> np.ndarray:
    """The largest entropy of a policy on ``K`` responses whose top response misses at most
    ``off_top`` of the mass: ``h(e) + e log(K-1)`` with ``e = min(off_top, 1 - 1/K)`` and
    ``h`` the binary entropy (nats). It follows from ``H(π) = h(π_1) + (1-π_1) H(π_rest)`` and
    ``H(π_rest) <= log(K-1)``, and tends to 0 with ``off_top``.
    """
    K = validation.count(K, "K", minimum=2)
    e = validation.finite_array(off_top, "off_top")
    if np.any(e < 0):
        raise ValueError(f"off_top must be >= 0, got {float(e.min()):g}")
    e = np.minimum(e, 1.0 - 1.0 / K)
    return entr(e) + entr(1.0 - e) + e * np.log(K - 1)
