"""Hypothesis strategies for preference matrices, samplers and policies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays


@st.composite
def preference_matrices(draw, min_K: int = 2, max_K: int = 6) -> np.ndarray:
    """A general valid preference matrix: upper-triangle entries anywhere in [0, 1]."""
    K = draw(st.integers(min_K, max_K))
    upper = draw(arrays(np.float64, K * (K - 1) // 2, elements=st.floats(0.0, 1.0)))
    P = np.full((K, K), 0.5)
    iu = np.triu_indices(K, k=1)
    P[iu] = upper
    P.T[iu] = 1.0 - upper
    return P


@st.composite
def distributions(draw, K: int, min_mass: float = 1e-6) -> np.ndarray:
    """A full-support distribution on K points (entries >= min_mass before normalising)."""
    w = draw(arrays(np.float64, K, elements=st.floats(min_mass, 1.0)))
    return w / w.sum()


@st.composite
def ipo_problems(draw, min_K: int = 2, max_K: int = 6, max_beta: float = 1e3):
    """(P, mu, ref, beta) with full-support mu, interior ref and beta in [1e-2, max_beta]."""
    P = draw(preference_matrices(min_K, max_K))
    K = P.shape[0]
    mu = draw(distributions(K))
    ref = draw(distributions(K))
    beta = draw(st.floats(1e-2, max_beta))
    return P, mu, ref, beta


@st.composite
def strongly_transitive_matrices(draw, min_K: int = 2, max_K: int = 6, min_margin: float = 1e-3) -> np.ndarray:
    """A (weakly) strongly transitive matrix in a random order: ties between entries are allowed.

    Upper-triangle entries in [½ + min_margin, 1]; running maxima along rows (rightwards) and up
    columns make ``P[i, k] >= max(P[i, j], P[j, k])`` in the order; then a random relabelling.
    """
    K = draw(st.integers(min_K, max_K))
    upper = draw(arrays(np.float64, K * (K - 1) // 2, elements=st.sampled_from([0.5 + min_margin, 0.75, 1.0]) | st.floats(0.5 + min_margin, 1.0)))
    M = np.zeros((K, K))
    iu = np.triu_indices(K, k=1)
    M[iu] = upper
    M = np.maximum.accumulate(M, axis=1)
    M = np.maximum.accumulate(M[::-1], axis=0)[::-1]
    P = np.full((K, K), 0.5)
    P[iu] = M[iu]
    P.T[iu] = 1.0 - P[iu]
    perm = np.array(draw(st.permutations(range(K))))
    return P[np.ix_(perm, perm)]


@st.composite
def orders(draw, K: int) -> np.ndarray:
    """A random order of K responses (best first)."""
    return np.array(draw(st.permutations(range(K))))


@st.composite
def samplers(draw, K: int) -> np.ndarray:
    """A sampler of any support: point masses, exact zeros and near-point masses all occur."""
    w = draw(arrays(np.float64, K, elements=st.just(0.0) | st.just(1.0) | st.floats(1e-9, 1.0)))
    if w.sum() == 0:
        w[draw(st.integers(0, K - 1))] = 1.0
    return w / w.sum()


@st.composite
def contraction_problems(draw, min_K: int = 2, max_K: int = 5):
    """An MRS-IPO problem inside the contraction region, with its bound q = α + (βλ/2)‖P − ½11ᵀ‖₂ < 1.

    Returns (P, alpha, beta, lam, ref, pi0, init, q); P is never the all-ties matrix.
    """
    P = draw(preference_matrices(min_K, max_K).filter(lambda M: np.abs(M - 0.5).max() > 1e-3))
    K = P.shape[0]
    alpha = draw(st.floats(0.0, 0.9))
    q = draw(st.floats(alpha + 0.01, 0.95))
    lam = draw(st.floats(0.05, 1.0))
    beta = 2.0 * (q - alpha) / (lam * np.linalg.norm(P - 0.5, 2))
    return P, alpha, beta, lam, draw(distributions(K)), draw(distributions(K)), draw(distributions(K)), q
