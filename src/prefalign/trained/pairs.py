"""Labelled pairs of one round, summarised by their (winner, loser) weights.

A round draws a pair ``(y, y')`` from ``μ ⊗ μ`` and labels it by ``P``: ``y`` wins with probability
``P[y, y']``. Every per-pair loss of this package depends on a sample of such pairs only through
the matrix of shares ``W[w, l]`` = fraction of pairs with winner ``w`` and loser ``l``. Its
expectation is

    W̄[w, l] = μ_w μ_l P[w, l] + μ_l μ_w P[w, l] = 2 μ_w μ_l P[w, l]

(the pair can be drawn in either order), and ``Σ_{w,l} W̄[w, l] = 1`` because ``P + Pᵀ = 1``
(the diagonal holds the draws ``y = y'``, which carry no gradient). A sample of ``n`` pairs has
``n W ~ Multinomial(n, W̄)`` (:func:`sample_weights`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import preferences, validation


def expected_weights(P: ArrayLike, mu: ArrayLike) -> np.ndarray:
    """``W̄[w, l] = 2 μ_w μ_l P[w, l]``: the expected share of labelled pairs won by ``w`` against ``l``.

    ``P`` (..., K, K) and ``mu`` (..., K) broadcast; returns ``(..., K, K)``, each matrix summing to 1.
    """
    Q = preferences.validate(P)
    m = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[-1], m, "mu")
    return 2.0 * m[..., :, None] * m[..., None, :] * Q


def _weights(P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """:func:`expected_weights` response-first, for validated inputs: ``P`` (K, K, n), ``mu`` (K, n) → (K, K, n)."""
    return 2.0 * mu[:, None] * mu[None, :] * P


def sample_weights(weights: ArrayLike, n: int, rng: np.random.Generator) -> np.ndarray:
    """The shares ``W = N / n`` of ``n`` pairs drawn from ``weights`` (shape ``(..., K, K)``), one draw per matrix.

    ``N ~ Multinomial(n, weights)`` over the ``K²`` (winner, loser) outcomes, independently for each
    matrix of the batch, from ``rng``. ``E W = weights``; ``Var W[w, l] = weights[w, l](1 - weights[w, l]) / n``.
    """
    rng = validation.generator(rng)
    n = validation.count(n, "n")
    W = validation.finite_array(weights, "weights", ndim_min=2)
    K = W.shape[-1]
    if W.shape[-2] != K:
        raise ValueError(f"weights must have shape (..., K, K), got {W.shape}")
    flat = validation.probability_vector(W.reshape(W.shape[:-2] + (K * K,)), "weights (flattened)")
    return _multinomial(flat, n, rng).reshape(W.shape)


def _draw(W: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`sample_weights` response-first, for validated shares ``W`` (K, K, m): one draw per column."""
    K = W.shape[0]
    return _multinomial(W.reshape(K * K, -1).T, n, rng).T.reshape(W.shape)


def _multinomial(rows: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``Multinomial(n, row) / n`` for each row (shape ``(..., K²)``) of probabilities summing to 1 up to rounding."""
    p = rows / rows.sum(axis=-1, keepdims=True)  # numpy's multinomial refuses rows summing to more than 1 + 1e-12
    return rng.multinomial(n, p) / n
