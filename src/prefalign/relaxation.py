"""Inexact rounds: what a trained round (a few gradient steps per round) does near a fixed point.

A trained round (:mod:`prefalign.trained`) starts from the current logits ``θ_t`` and takes
``k = grad_steps`` gradient steps of size ``η = lr`` on the round's loss. For IPO's population loss
the loss is quadratic with Hessian ``H = 4C(μ_t)``, so

    θ_{t+1} = T(θ_t) + M_t (θ_t - T(θ_t)),    M_t = (I - ηH)^k,

with ``T`` the exact MRS round. At a fixed point ``θ*`` of ``T`` (also one of the trained round),
for IPO and DPO alike,

    J_trained = M* + (I - M*) J,    M* = (I - η ∇²ℓ(θ*))^k,

``J`` the exact round's Jacobian (:func:`prefalign.dynamics.jacobian`). Where the sampler ``μ*`` is
uniform, ``∇²ℓ = h Π`` on ``1^⊥`` (``h`` = :func:`curvature_at_uniform`), ``M* = (1 - s)`` there with

    s = 1 - (1 - ηh)^k     (:func:`relaxation_weight`),

and an eigenvalue ``α ± iσ`` of ``J`` (σ = βλω, the signal) becomes ``1 - s(1-α) ± isσ``:
stable iff ``s((1-α)² + σ²) < 2(1-α)`` (:func:`max_relaxation`, :func:`relaxed_radius`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dynamics, preferences, validation
from prefalign.trained import losses, pairs


def curvature_at_uniform(K: int, loss: losses.Loss = "ipo", beta: ArrayLike | None = None) -> np.ndarray:
    """``h``: the Hessian of the round's expected per-pair loss is ``hΠ`` at uniform μ and zero margins.

    IPO: ``∇²ℓ = 4C(μ)`` and ``C(u) = Π/K``, so ``h = 4/K`` (any margins). DPO at zero margins
    (``f''(0) = 1/(4β²)``): ``∇²ℓ = C(μ)/(2β²)``, so ``h = 1/(2Kβ²)``; ``beta`` is required for DPO
    and refused for IPO (where it plays no role).
    """
    K = validation.count(K, "K", minimum=2)
    if losses.check_loss(loss) == "ipo":
        if beta is not None:
            raise ValueError("beta plays no role in IPO's curvature (4/K); pass beta=None")
        return np.asarray(4.0 / K)
    if beta is None:
        raise ValueError("beta is required for DPO's curvature 1/(2 K beta^2)")
    return 1.0 / (2.0 * K * validation.positive(beta, "beta") ** 2)


def relaxation_weight(lr: ArrayLike, grad_steps: int, curvature: ArrayLike) -> np.ndarray:
    """``s = 1 - (1 - lr·h)^k``: the share of the way to the exact round that ``k`` steps cover.

    Requires ``0 < lr·h < 2`` (steps that contract), so ``s ∈ (0, 2)``; ``s > 1`` overshoots.
    """
    k = validation.count(grad_steps, "grad_steps")
    q = validation.positive(lr, "lr") * validation.positive(curvature, "curvature")
    if np.any(q >= 2):
        raise ValueError(f"lr * curvature must be < 2 (gradient steps that contract), got {float(np.max(q)):g}")
    return 1.0 - (1.0 - q) ** k


def lr_for_relaxation(s: ArrayLike, grad_steps: int, curvature: ArrayLike) -> np.ndarray:
    """The step size whose ``k`` steps cover the share ``s ∈ (0, 1]``: ``lr = (1 - (1 - s)^{1/k}) / h``."""
    k = validation.count(grad_steps, "grad_steps")
    share = validation.positive(s, "s")
    if np.any(share > 1):
        raise ValueError(f"s must lie in (0, 1], got {float(np.max(share)):g}")
    return (1.0 - (1.0 - share) ** (1.0 / k)) / validation.positive(curvature, "curvature")


def _alpha_signal(alpha: ArrayLike, signal: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    a = validation.unit_interval(alpha, "alpha")
    sig = validation.finite_array(signal, "signal")
    if np.any(sig < 0):
        raise ValueError(f"signal must be >= 0, got {float(sig.min()):g}")
    return a, sig


def relaxed_radius(alpha: ArrayLike, signal: ArrayLike, s: ArrayLike) -> np.ndarray:
    """``|1 - s(1-α) ± isσ| = √((1 - s(1-α))² + s²σ²)``: the modulus of the relaxed eigenvalues of
    ``α ± iσ`` (σ = βλω). At ``s = 1`` it is the exact round's ``√(α² + σ²)``."""
    a, sig = _alpha_signal(alpha, signal)
    share = validation.positive(s, "s")
    return np.sqrt((1.0 - share * (1.0 - a)) ** 2 + (share * sig) ** 2)


def max_relaxation(alpha: ArrayLike, signal: ArrayLike) -> np.ndarray:
    """``s_max = 2(1-α) / ((1-α)² + σ²)``: the relaxed pair ``α ± iσ`` is stable iff ``0 < s < s_max``.

    At α = 1 it is 0: no ``s > 0`` gives a stable pair (the modulus is ``√(1 + s²σ²) >= 1``).
    """
    a, sig = _alpha_signal(alpha, signal)
    gap = 1.0 - a
    denominator = gap**2 + sig**2
    return np.where(denominator > 0, 2.0 * gap / np.where(denominator > 0, denominator, 1.0), 0.0)


def max_signal(alpha: ArrayLike, s: ArrayLike) -> np.ndarray:
    """``σ_max = √(max(0, 2(1-α)/s - (1-α)²))``: the signal at which the relaxed pair ``α ± iσ`` crosses
    the unit circle (stable for σ below it). At ``s = 1`` it is ``√(1 - α²)``, the exact round's bound."""
    a = validation.unit_interval(alpha, "alpha")
    share = validation.positive(s, "s")
    return np.sqrt(np.maximum(0.0, 2.0 * (1.0 - a) / share - (1.0 - a) ** 2))


def cycle_boundary(a: ArrayLike, alpha: ArrayLike, s: ArrayLike, loss: losses.Loss = "ipo") -> np.ndarray:
    """The signal strength ``βλ`` at which trained rounds with share ``s`` destabilise the uniform point of
    ``P_a``: ``σ_max √3/a`` (IPO), a quarter of it (DPO); :func:`max_signal` with :func:`cycle_signal` inverted."""
    unit = cycle_signal(a, 1.0, 1.0, loss)
    if np.any(unit <= 0):
        raise ValueError("a must be > 0 for a boundary (P_0 is all ties and never oscillates), got 0")
    return max_signal(alpha, s) / unit


def cycle_signal(a: ArrayLike, beta: ArrayLike, lam: ArrayLike, loss: losses.Loss = "ipo") -> np.ndarray:
    """``σ = βλa/√3`` (IPO) or ``4βλa/√3`` (DPO): the imaginary part of the exact round's eigenvalues
    at the uniform fixed point of the 3-cycle ``P_a`` (from :func:`prefalign.dynamics.oscillation_threshold`)."""
    return np.sqrt(dynamics.oscillation_threshold(a, 0.0, beta, lam, losses.check_loss(loss)))


def _fixed_point_inputs(log_pi, P, alpha, beta, lam, loss, ref, pi0, tol):
    lp = validation.log_probability_vector(log_pi, "log_pi")
    Q = preferences.validate(P)
    K = Q.shape[-1]
    validation.same_size(K, lp, "log_pi")
    tol = validation.scalar(tol, "tol", validation.positive)
    step = dynamics.mrs_ipo_step if losses.check_loss(loss) == "ipo" else dynamics.mrs_dpo_step
    residual = dynamics.logit_distance(step(lp, Q, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0), lp)
    if np.any(residual > tol):
        raise ValueError(f"log_pi must be a fixed point of the exact round with these P, alpha, beta, lam, ref and pi0 "
                         f"(the formula holds only there); one round moves it by {float(np.max(residual)):.3g} > tol = {tol:g}")
    a = validation.unit_interval(alpha, "alpha")[..., None]
    lm = validation.unit_interval(lam, "lam")[..., None]
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    p0 = np.full(K, 1.0 / K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    mu = lm * np.exp(lp) + (1.0 - lm) * p0
    x = lp - (a * lp + (1.0 - a) * log_ref)  # θ - log π_ref^(t), up to a constant
    return lp, Q, x, pairs.expected_weights(Q, mu)


def trained_jacobian(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                     lr: ArrayLike, grad_steps: int, loss: losses.Loss = "ipo", ref: ArrayLike | None = None,
                     pi0: ArrayLike | None = None, tol: float = 1e-8) -> np.ndarray:
    """``J_trained = M* + (I - M*) J`` at a fixed point ``log_pi`` of the exact round, shape ``(..., K, K)``.

    ``M* = (I - lr ∇²ℓ)^k`` with ``∇²ℓ`` the Hessian of the round's expected per-pair loss at the
    fixed point (:func:`prefalign.trained.pair_hessian`, shares ``W̄(μ*)``, ``μ* = λπ* + (1-λ)π_0``),
    ``J`` = :func:`prefalign.dynamics.jacobian` (IPO or DPO). The trained round is
    :func:`prefalign.trained.trained_round` on the population loss. ``ValueError`` unless one exact
    round moves ``log_pi`` by at most ``tol`` (the formula holds at fixed points only).
    """
    lp, Q, x, W = _fixed_point_inputs(log_pi, P, alpha, beta, lam, loss, ref, pi0, tol)
    k = validation.count(grad_steps, "grad_steps")
    H = losses.pair_hessian(x, W, beta, loss)
    K = Q.shape[-1]
    M = np.linalg.matrix_power(np.eye(K) - validation.positive(lr, "lr")[..., None, None] * H, k)
    J = dynamics.jacobian(lp, Q, alpha=alpha, beta=beta, lam=lam, method=loss, pi0=pi0)
    return M + (np.eye(K) - M) @ J


def trained_spectral_radius(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                            lr: ArrayLike, grad_steps: int, loss: losses.Loss = "ipo", ref: ArrayLike | None = None,
                            pi0: ArrayLike | None = None, tol: float = 1e-8) -> np.ndarray:
    """Largest modulus of the eigenvalues of :func:`trained_jacobian` on ``1^⊥`` (shape ``(...)``; same
    arguments); below 1: the fixed point is locally asymptotically stable under trained rounds."""
    J = trained_jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, lr=lr, grad_steps=grad_steps, loss=loss, ref=ref,
                         pi0=pi0, tol=tol)
    Q = dynamics.perp_basis(J.shape[-1])
    return np.abs(np.linalg.eigvals(Q.T @ J @ Q)).max(axis=-1)


def onpolicy_certificate(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lr: ArrayLike,
                         grad_steps: int, ref: ArrayLike | None = None, tol: float = 1e-8) -> np.ndarray:
    """An upper bound on the squared spectral radius of trained IPO rounds at an on-policy fixed point (λ = 1).

    On ``1^⊥`` (orthonormal basis ``Q``), let ``C̃ = QᵀC(π*)Q = U diag(c) Uᵀ``, ``g_j = 1 - (1 - 4 lr c_j)^k``,
    ``R = U diag(√(c_j g_j)) Uᵀ`` and ``S = R (QᵀAQ) R`` (skew-symmetric). The bound is

        max((1 - (1-α) g_min)², (1 - (1-α) g_max)²) + β² ‖S‖₂².

    Below 1, every eigenvalue of the trained round's Jacobian lies strictly inside the unit circle
    (theorem of the chapter); it is below 1 for all small enough ``lr`` when α < 1. Requires
    ``lr < 1`` and an interior fixed point.
    """
    lp, Q, _, _ = _fixed_point_inputs(log_pi, P, alpha, beta, 1.0, "ipo", ref, None, tol)
    eta = validation.positive(lr, "lr")
    if np.any(eta >= 1):
        raise ValueError(f"lr must be < 1 (population IPO steps then contract), got {float(np.max(eta)):g}")
    k = validation.count(grad_steps, "grad_steps")
    pi = np.exp(lp)
    K = pi.shape[-1]
    basis = dynamics.perp_basis(K)
    C = pi[..., :, None] * np.eye(K) - pi[..., :, None] * pi[..., None, :]
    c, U = np.linalg.eigh(basis.T @ C @ basis)
    g = 1.0 - (1.0 - 4.0 * eta[..., None] * c) ** k
    R = (U * np.sqrt(c * g)[..., None, :]) @ np.swapaxes(U, -1, -2)
    S = R @ (basis.T @ preferences.skew(Q) @ basis) @ R
    gap = 1.0 - validation.unit_interval(alpha, "alpha")
    real = np.maximum((1.0 - gap * g.min(axis=-1)) ** 2, (1.0 - gap * g.max(axis=-1)) ** 2)
    return real + (validation.positive(beta, "beta") * np.linalg.norm(S, 2, axis=(-2, -1))) ** 2
