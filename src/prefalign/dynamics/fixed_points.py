"""Fixed points of the MRS-IPO map (α < 1): solved by damped Newton with continuation, batched."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from prefalign import validation
from prefalign.dynamics.linearisation import covariance
from prefalign.dynamics.problem import validate


def kappa(alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike) -> np.ndarray:
    """``κ = βλ/(1-α)``, the one parameter that fixes the fixed point when λ = 1 (α < 1)."""
    a = validation.unit_interval(alpha, "alpha")
    if np.any(a >= 1):
        raise ValueError("alpha must be < 1 for kappa = beta * lam / (1 - alpha), got 1")
    return validation.positive(beta, "beta") * validation.unit_interval(lam, "lam") / (1.0 - a)


def fixed_point(P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None = None,
                pi0: ArrayLike | None = None, init: ArrayLike | None = None, tol: float = 1e-12,
                max_iter: int = 40) -> np.ndarray:
    """The fixed point ``log π*`` of the MRS-IPO map for α < 1, solved (not iterated), batched.

    A fixed point solves ``log π = log π_ref + γ P (λπ + (1-λ)π_0) + c`` with ``γ = β/(1-α)``,
    i.e. ``z = b + κ P softmax(z)`` with ``κ = βλ/(1-α)`` and ``b = log π_ref + γ(1-λ) P π_0``.
    It is **unique** for every P, α < 1, β > 0, λ ∈ [0, 1], interior ``π_ref`` and any ``π_0``:
    ``(π*, π*)`` is the saddle point of the strictly concave-convex game
    ``xᵀAy - KL(x‖ρ)/κ + KL(y‖ρ)/κ`` with ``ρ ∝ e^b`` (proof in the oscillation chapter). At
    λ = 1 it depends on (α, β, λ) only through κ; at α = 0, λ = 1 it is the self-consistent
    on-policy optimum ``π = softmax(log π_ref + β P π)``.

    Method: damped Newton on ``F(z) = z - b - κ P softmax(z)``. Its Jacobian ``I - κ A C(π)`` is
    never singular (``A C`` has purely imaginary eigenvalues); each step is halved until ``‖F‖²``
    decreases (Armijo). The region where Newton converges fast shrinks like 1/γ, so the solution
    is followed by continuation in the scale ``s`` of γ (``b`` and κ scale with it) from ``s = 0``
    (where ``z = log π_ref``) to ``s = 1``, doubling ``s`` while Newton succeeds and retrying
    smaller increases where it fails. Newton stops when a full step changes the logits by at most
    ``tol · (1 + max|z|)`` (the step estimates the remaining error), or by at most 1000 times that
    once the steps stop shrinking (rounding noise, reached for κ ≳ 1e3). ``RuntimeError`` names the
    batch entry where even 0.1% increases of ``s`` fail within ``max_iter`` Newton steps.

    With ``init`` (log-probabilities ``(..., K)``), Newton starts there at full scale instead of
    following the continuation, and ``RuntimeError`` is raised where it does not converge: solving
    from several starts is how the book checks uniqueness numerically.

    Returns ``(..., K)`` log-probabilities. α = 1 is refused: a fixed point would need ``P μ``
    constant, which most P do not allow.
    """
    extra = () if init is None else (validation.log_probability_vector(init, "init").shape[:-1],)
    prob = validate(P, alpha, beta, lam, ref, pi0, *extra)
    if np.any(prob.alpha >= 1):
        raise ValueError("alpha must be < 1 for fixed_point (at alpha = 1 a fixed point needs P mu constant, "
                         "which most P do not allow); got alpha = 1")
    tol = validation.scalar(tol, "tol", validation.positive)
    max_iter = validation.count(max_iter, "max_iter")
    shape, K = prob.shape, prob.K
    gamma = np.broadcast_to(prob.beta / (1.0 - prob.alpha), shape)
    kap = np.broadcast_to(gamma * prob.lam, shape)
    Pb = np.broadcast_to(prob.P, shape + (K, K))
    log_ref = np.broadcast_to(prob.log_ref, shape + (K,))
    offline = np.broadcast_to(((1.0 - prob.lam) * gamma)[..., None] * np.einsum("...ij,...j->...i", prob.P, prob.pi0),
                              shape + (K,))
    if init is not None:
        start = np.broadcast_to(np.asarray(init, dtype=float), shape + (K,))
        z, ok = _newton(start.copy(), log_ref + offline, kap, Pb, tol, max_iter)
        if not np.all(ok):
            worst = np.unravel_index(np.argmin(ok), shape) if shape else ()
            raise RuntimeError(f"fixed_point did not converge from init at batch index {validation.fmt_index(worst)} "
                               f"within {max_iter} Newton steps; omit init to use continuation")
        return z - logsumexp(z, axis=-1, keepdims=True)
    z = log_ref.copy()
    current = np.zeros(shape)
    first = np.minimum(1.0, 1.0 / gamma)  # the first increase of s: one unit of γ
    ratio = np.full(shape, 2.0)
    while np.any(current < 1.0):
        active = current < 1.0
        trial = np.where(current == 0.0, first, np.minimum(1.0, current * ratio))
        trial = np.where(active, trial, current)
        guess = log_ref + trial[..., None] * (offline + kap[..., None] * np.einsum("...ij,...j->...i", Pb, _softmax(z)))
        z_new, ok = _newton(np.where(active[..., None], guess, z), log_ref + trial[..., None] * offline, trial * kap,
                            Pb, tol, max_iter)
        accept = active & ok
        failed = active & ~ok
        z = np.where(accept[..., None], z_new, z)
        current = np.where(accept, trial, current)
        first = np.where(failed & (current == 0.0), 0.5 * first, first)
        ratio = np.where(failed & (current > 0.0), np.sqrt(ratio), np.where(accept, np.minimum(2.0, ratio**2), ratio))
        stuck = failed & ((ratio < 1.0 + 1e-3) | (first < 1e-3 / np.maximum(gamma, 1.0)))
        if np.any(stuck):
            worst = np.unravel_index(np.argmax(stuck), shape) if shape else ()
            raise RuntimeError(
                f"fixed_point did not converge: Newton fails at batch index {validation.fmt_index(worst)} "
                f"(kappa = {float(kap[worst]):.4g}) even with continuation steps of 0.1%; raise max_iter or tol"
            )
    return z - logsumexp(z, axis=-1, keepdims=True)


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(z - logsumexp(z, axis=-1, keepdims=True))


_ROUNDING_FLOOR = 1e3
"""Newton may stop at ``_ROUNDING_FLOOR · tol`` when its steps no longer shrink (rounding noise)."""


def _newton(z: np.ndarray, b: np.ndarray, kap: np.ndarray, P: np.ndarray, tol: float,
            max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton on ``F(z) = z - b - κ P softmax(z)`` for a batch.

    Stops an entry when its relative Newton step (an estimate of the error in the logits) is at
    most ``tol``, or stagnates below ``_ROUNDING_FLOOR · tol``. Returns the logits and the mask of
    entries that stopped within ``max_iter`` steps.
    """
    shape = z.shape[:-1]
    eye = np.eye(z.shape[-1])

    def residual(x: np.ndarray) -> np.ndarray:
        return x - b - kap[..., None] * np.einsum("...ij,...j->...i", P, _softmax(x))

    F = residual(z)
    todo = np.ones(shape, dtype=bool)
    previous = np.full(shape, np.inf)
    for _ in range(max_iter):
        J = eye - kap[..., None, None] * (P - 0.5) @ covariance(_softmax(z))
        step = -np.linalg.solve(J, F[..., None])[..., 0]
        size = np.abs(step).max(axis=-1) / (1.0 + np.abs(z).max(axis=-1))
        final = todo & ((size <= tol) | ((size <= _ROUNDING_FLOOR * tol) & (size > 0.5 * previous)))
        previous = size
        z = np.where(final[..., None], z + step, z)
        todo &= ~final
        if not np.any(todo):
            break
        merit = (F**2).sum(axis=-1)
        t = np.ones(shape)
        for _ in range(60):
            trial = z + t[..., None] * step
            F_trial = residual(trial)
            ok = ~todo | ((F_trial**2).sum(axis=-1) <= (1.0 - 1e-4 * t) * merit) | (t < 1e-15)
            if np.all(ok):
                break
            t = np.where(ok, t, 0.5 * t)
        z = np.where(todo[..., None], trial, z)
        F = residual(z)
    return z, ~todo
