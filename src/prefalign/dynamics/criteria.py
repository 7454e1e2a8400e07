"""Closed-form criteria of the MRS dynamics: the oscillation threshold on the 3-cycle ``P_a``, the
contraction bound, the collapse bound."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dpo, preferences, simplex, validation
from prefalign.dynamics.problem import Method


def _cycle_a(a: ArrayLike) -> np.ndarray:
    arr = validation.finite_array(a, "a")
    if np.any((arr < 0) | (arr > 0.5)):
        raise ValueError(f"a must lie in [0, 0.5], got {arr.flat[np.argmax((arr < 0) | (arr > 0.5))]:g}")
    return arr


def _uniform_signal(beta: ArrayLike, lam: ArrayLike, method: Method) -> np.ndarray:
    """The signal that the round's derivative at uniform on ``P_a`` multiplies ``A/3`` by: ``βλ`` for
    IPO, ``4βλ`` for DPO (:func:`prefalign.dpo.linearised_ipo_beta`)."""
    lm = validation.unit_interval(lam, "lam")
    method = validation.choice(method, "method", ("ipo", "dpo"))
    if method == "ipo":
        return validation.positive(beta, "beta") * lm
    if method == "dpo":
        return dpo.linearised_ipo_beta(beta) * lm
    raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")


def oscillation_threshold(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                          method: Method = "ipo") -> np.ndarray:
    """``α² + a²β²λ²/3`` (IPO) or ``α² + 16a²β²λ²/3`` (DPO): the squared spectral radius of the round
    at the uniform fixed point of the 3-cycle ``P_a`` (uniform π_ref and π_0). Uniform is unstable
    iff this exceeds 1."""
    g = _uniform_signal(beta, lam, method)
    return validation.unit_interval(alpha, "alpha") ** 2 + _cycle_a(a) ** 2 * g**2 / 3.0


def uniform_spectral_radius(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                            method: Method = "ipo") -> np.ndarray:
    """``ρ = √(α² + a²β²λ²/3)`` (IPO) or ``√(α² + 16a²β²λ²/3)`` (DPO): the spectral radius of the round
    at the uniform fixed point of the 3-cycle ``P_a`` (the square root of :func:`oscillation_threshold`)."""
    return np.sqrt(oscillation_threshold(a, alpha, beta, lam, method))


def oscillation_boundary(a: ArrayLike, alpha: ArrayLike, method: Method = "ipo") -> np.ndarray:
    """The signal strength ``βλ`` at which :func:`oscillation_threshold` equals 1 on ``P_a`` (a > 0):
    ``√(3(1-α²))/a`` for IPO, a quarter of it for DPO. Uniform is stable below it, unstable above."""
    arr = _cycle_a(a)
    if np.any(arr <= 0):
        raise ValueError("a must be > 0 for a boundary (P_0 is all ties and never oscillates), got 0")
    return np.sqrt(3.0 * (1.0 - validation.unit_interval(alpha, "alpha") ** 2)) / (arr * _uniform_signal(1.0, 1.0, method))


def uniform_rotation_angle(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                           method: Method = "ipo") -> np.ndarray:
    """Rotation per round of the linearised map at uniform on ``P_a``: ``φ = arctan(gλa / (√3 α))`` in
    radians (``π/2`` at α = 0), ``g = β`` (IPO) or ``4β`` (DPO): the argument of the eigenvalue
    ``α + igλa/√3``."""
    g = _uniform_signal(beta, lam, method)
    return np.arctan2(g * _cycle_a(a) / np.sqrt(3.0), validation.unit_interval(alpha, "alpha"))


def contraction_bound(P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike) -> np.ndarray:
    """``α + (βλ/2) ‖P - ½11ᵀ‖₂``: a Lipschitz constant of the round on logits modulo constants
    (Euclidean norm). Below 1 the round is a contraction: unique interior fixed point, global
    convergence. Shape: the broadcast of P's batch shape and the parameters'."""
    norm = np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1))
    g = validation.positive(beta, "beta") * validation.unit_interval(lam, "lam")
    return validation.unit_interval(alpha, "alpha") + 0.5 * g * norm


def collapse_bound(P: ArrayLike, top: int, strength: ArrayLike, base: ArrayLike | None = None) -> np.ndarray:
    """``Σ_{j ≠ top} (base_j / base_top) e^{-strength · δ_j}`` with ``δ`` = :func:`prefalign.preferences.dominance_margins`.

    An upper bound on ``1 - π_top`` for every policy with
    ``log(π_top/π_j) >= log(base_top/base_j) + strength · δ_j``: the MRS-IPO fixed point
    (``strength = β/(1-α)``, ``base = π_ref``) and the round-``t`` policy at α = 1
    (``strength = βt``, ``base`` = the starting policy), whatever the sampler. ``strength``
    (>= 0) may be an array; ``base`` (interior, default uniform) has shape ``(K,)``.
    """
    delta = preferences.dominance_margins(P, top)
    K = delta.shape[0]
    b = simplex.uniform(K) if base is None else validation.probability_vector(base, "base", positive=True)
    validation.same_size(K, b, "base")
    if b.ndim != 1:
        raise ValueError(f"base must be a single policy of shape (K,), got shape {b.shape}")
    s = validation.finite_array(strength, "strength")
    if np.any(s < 0):
        raise ValueError(f"strength must be >= 0, got {float(s.min()):g}")
    others = np.arange(K) != top
    return np.sum((b[others] / b[top]) * np.exp(-s[..., None] * delta[others]), axis=-1)


def entropy_monotone_ratio(K: int) -> float:
    """``ε_K = ½ min(1/e, 1/(K-1))``: once every ``π_j/π_top <= ε_K``, the entropy strictly increases
    in each ratio ``π_j/π_top`` (stability chapter), so shrinking all ratios strictly lowers it."""
    K = validation.count(K, "K", minimum=2)
    return 0.5 * min(np.exp(-1.0), 1.0 / (K - 1))
