"""The linearisation of one MRS round: Jacobians in logit space, their spectra on ``1^⊥``.

In logit space the IPO round has the Jacobian ``J = αI + βλ A C(π)`` with ``A = P - ½11ᵀ`` and
``C(π) = diag(π) - ππᵀ``; the DPO round has ``J = αI + λ X(μ) C(π)`` with ``X = ∂r*/∂μ``
(:func:`prefalign.dpo.reward_derivative`). In both, ``J1 = α1``: constant shifts of the logits do
not change the policy, so the dynamics live on the quotient by ``1``; its spectrum is that of
``QᵀJQ`` for an orthonormal basis ``Q`` of ``1^⊥`` (:func:`quotient_jacobian`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dpo, preferences, problem, validation
from prefalign.dynamics.problem import Method


def covariance(pi: np.ndarray) -> np.ndarray:
    """``C(π) = diag(π) - ππᵀ``, shape ``(..., K, K)``, for a probability vector (or batch) ``π``."""
    pi = validation.probability_vector(pi, "pi")
    return pi[..., :, None] * np.eye(pi.shape[-1]) - pi[..., :, None] * pi[..., None, :]


def perp_basis(K: int) -> np.ndarray:
    """An orthonormal basis of ``1^⊥ ⊂ R^K`` as the columns of a ``(K, K-1)`` matrix (fixed, deterministic)."""
    K = validation.count(K, "K", minimum=2)
    q, _ = np.linalg.qr(np.eye(K)[:, : K - 1] - 1.0 / K)
    return q


def jacobian(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
             method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """The derivative of the round's logits ``z_{t+1}`` with respect to ``log π_t``, shape ``(..., K, K)``.

    IPO: ``J = αI + βλ A C(π)`` with ``A = P - ½11ᵀ``, ``C(π) = diag(π) - ππᵀ``; only ``π``, P, α,
    βλ enter (the reference and the offline sampler shift the logits by constants of the state).
    DPO: ``J = αI + λ X(μ) C(π)`` with ``μ = λπ + (1-λ)π_0`` (``pi0``: ``None`` = uniform) and
    ``X = ∂r*/∂μ`` (:func:`prefalign.dpo.reward_derivative`); μ must have full support and P a
    finite DPO optimum. Everything broadcasts; ``J1 = α1``.
    """
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    K = A.shape[-1]
    validation.same_size(K, lp, "log_pi")
    a = validation.unit_interval(alpha, "alpha")
    b = validation.positive(beta, "beta")
    lm = validation.unit_interval(lam, "lam")
    if not isinstance(method, str) or method not in ("ipo", "dpo"):
        raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")
    p0 = np.full(K, 1.0 / K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    validation.same_size(K, p0, "pi0")
    problem.broadcast(("log_pi", lp.shape[:-1]), ("P", A.shape[:-2]), ("alpha", a.shape), ("beta", b.shape),
                      ("lam", lm.shape), ("pi0", p0.shape[:-1]))
    pi = np.exp(lp)
    C = covariance(pi)
    if method == "ipo":  # pi0 is validated all the same: a wrong argument is an error whatever the method
        return a[..., None, None] * np.eye(K) + (b * lm)[..., None, None] * (A @ C)
    mu = lm[..., None] * pi + (1.0 - lm[..., None]) * p0
    X = dpo.reward_derivative(A + 0.5, mu / mu.sum(axis=-1, keepdims=True), b)
    return a[..., None, None] * np.eye(K) + lm[..., None, None] * (X @ C)


def quotient_jacobian(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                      method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """``QᵀJQ`` (shape ``(..., K-1, K-1)``): the Jacobian on logits modulo constants, in the basis
    :func:`perp_basis`. Because ``J1 = α1``, the spectrum of ``J`` is ``{α}`` plus this one's."""
    J = jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, method=method, pi0=pi0)
    Q = perp_basis(J.shape[-1])
    return Q.T @ J @ Q


def spectral_radius(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                    method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """Largest modulus of the eigenvalues of :func:`quotient_jacobian` (shape ``(...)``).

    At a fixed point, ``< 1`` means locally asymptotically stable, ``> 1`` unstable.
    """
    Qj = quotient_jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, method=method, pi0=pi0)
    return np.abs(np.linalg.eigvals(Qj)).max(axis=-1)


def skew_spectrum(log_pi: ArrayLike, P: ArrayLike) -> np.ndarray:
    """The real ``θ`` (shape ``(..., K)``, decreasing) with ``iθ`` the eigenvalues of the skew-symmetric
    matrix ``C^{1/2} A C^{1/2}``; they come in pairs ``±ω`` plus zeros. The eigenvalues of
    :func:`jacobian` are ``α + iβλθ`` (the theorem of the oscillation chapter); this function
    computes ``θ`` independently, as the eigenvalues of the Hermitian matrix ``-i C^{1/2} A C^{1/2}``."""
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    validation.same_size(A.shape[-1], lp, "log_pi")
    w, V = np.linalg.eigh(covariance(np.exp(lp)))
    # C is positive semi-definite; eigh may return -1e-17 for its zero eigenvalue.
    root = (V * np.sqrt(np.maximum(w, 0.0))[..., None, :]) @ np.swapaxes(V, -1, -2)
    return np.linalg.eigvalsh(-1j * (root @ A @ root))[..., ::-1]
