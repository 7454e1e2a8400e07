"""The Neimark–Sacker bifurcation of MRS-IPO: the round's Taylor expansion to third order and the first
Lyapunov coefficient at a fixed point whose spectral radius crosses 1.

In centred logits ``y`` (``Σ y = 0``) the IPO round is ``G(y) = α y + Π(b + βλ P σ(y))`` with
``σ = softmax`` and a constant ``b`` (:mod:`prefalign.dynamics`). Its derivatives of order two and
three at ``y`` are ``βλ Π A D²σ`` and ``βλ Π A D³σ`` (``A = P - ½11ᵀ``; ``1ᵀDᵏσ = 0``), with the
softmax derivatives at ``π = σ(y)`` (centred moments under ``π``, ``h̃ = h - ⟨π, h⟩``)::

    D²σ[h, k]_i    = π_i (h̃_i k̃_i - ⟨π, h̃ k̃⟩)
    D³σ[h, k, l]_i = π_i (h̃_i k̃_i l̃_i - h̃_i ⟨π, k̃ l̃⟩ - k̃_i ⟨π, h̃ l̃⟩ - l̃_i ⟨π, h̃ k̃⟩ - ⟨π, h̃ k̃ l̃⟩)

(cumulants of ``h`` under ``π``; the forms are symmetric and multilinear, and accept complex vectors).

At a fixed point with a pair of multipliers ``μ, μ̄ = e^{±iθ}`` on the unit circle, Kuznetsov's
invariant formula (Elements of Applied Bifurcation Theory, 3rd ed., Chapter 5) gives the cubic coefficient
of the normal form ``w ↦ μ w + c₁ w|w|² + O(|w|⁴)`` and the first Lyapunov coefficient
``ℓ₁ = Re(e^{-iθ} c₁)``, with ``J q = μ q``, ``Jᵀ p = μ̄ p``, ``⟨p, q⟩ = p̄ᵀq = 1``::

    c₁ = ½ ⟨p, C(q, q, q̄) + 2 B(q, (I - J)⁻¹ B(q, q̄)) + B(q̄, (μ² I - J)⁻¹ B(q, q))⟩

Convention: ``‖q‖ = 1`` in centred logits, so ``ℓ₁`` has a fixed scale: ``ℓ₁ < 0`` means a
supercritical bifurcation, whose invariant closed curve has ``|w|² ≈ (ρ - 1)/(-ℓ₁)`` and hence mean
squared radius ``‖y - y*‖² ≈ 2(ρ - 1)/(-ℓ₁)`` (:func:`circle_rms_radius`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from prefalign import preferences, validation
from prefalign.dynamics.fixed_points import fixed_point
from prefalign.dynamics.linearisation import perp_basis, quotient_jacobian


def _centred(pi: np.ndarray, h: np.ndarray) -> np.ndarray:
    return h - np.sum(pi * h, axis=-1, keepdims=True)


def _direction(x: ArrayLike, name: str, K: int) -> np.ndarray:
    """A finite real or complex direction with ``K`` entries along the last axis."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biufc":
        raise ValueError(f"{name} must be a real or complex numeric array, got dtype {arr.dtype}")
    arr = arr.astype(np.complex128 if arr.dtype.kind == "c" else np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite")
    if arr.ndim == 0 or arr.shape[-1] != K:
        raise ValueError(f"{name} must have {K} entries along its last axis (one per response of pi), got shape {arr.shape}")
    return arr


def softmax_second(pi: ArrayLike, h: ArrayLike, k: ArrayLike) -> np.ndarray:
    """``D²σ[h, k]`` at the policy ``π`` (``σ`` = softmax of logits): ``π_i (h̃_i k̃_i - ⟨π, h̃ k̃⟩)`` with
    ``h̃ = h - ⟨π, h⟩``. ``pi`` (..., K); ``h``, ``k`` real or complex (..., K), broadcast."""
    p = validation.probability_vector(pi, "pi")
    K = p.shape[-1]
    hc, kc = _centred(p, _direction(h, "h", K)), _centred(p, _direction(k, "k", K))
    return p * (hc * kc - np.sum(p * hc * kc, axis=-1, keepdims=True))


def softmax_third(pi: ArrayLike, h: ArrayLike, k: ArrayLike, l: ArrayLike) -> np.ndarray:
    """``D³σ[h, k, l]`` at ``π``: ``π_i (h̃k̃l̃_i - h̃_i⟨π,k̃l̃⟩ - k̃_i⟨π,h̃l̃⟩ - l̃_i⟨π,h̃k̃⟩ - ⟨π,h̃k̃l̃⟩)``
    (centred as in :func:`softmax_second`). Shapes as there."""
    p = validation.probability_vector(pi, "pi")
    hc, kc, lc = (_centred(p, _direction(x, name, p.shape[-1])) for x, name in ((h, "h"), (k, "k"), (l, "l")))

    def mean(x: np.ndarray) -> np.ndarray:
        return np.sum(p * x, axis=-1, keepdims=True)

    return p * (hc * kc * lc - hc * mean(kc * lc) - kc * mean(hc * lc) - lc * mean(hc * kc) - mean(hc * kc * lc))


def round_second(log_pi: ArrayLike, P: ArrayLike, h: ArrayLike, k: ArrayLike, *, beta: float, lam: float) -> np.ndarray:
    """The second derivative of the IPO round in centred logits at ``log π``: ``βλ Π A D²σ[h, k]`` (shape (K,))."""
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    out = validation.scalar(beta, "beta", validation.positive) * validation.scalar(lam, "lam", validation.unit_interval) * (
        A @ softmax_second(np.exp(lp), h, k))
    return out - out.mean(axis=-1, keepdims=True)


def round_third(log_pi: ArrayLike, P: ArrayLike, h: ArrayLike, k: ArrayLike, l: ArrayLike, *, beta: float,
                lam: float) -> np.ndarray:
    """The third derivative of the IPO round in centred logits at ``log π``: ``βλ Π A D³σ[h, k, l]`` (shape (K,))."""
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    out = validation.scalar(beta, "beta", validation.positive) * validation.scalar(lam, "lam", validation.unit_interval) * (
        A @ softmax_third(np.exp(lp), h, k, l))
    return out - out.mean(axis=-1, keepdims=True)


@dataclass(frozen=True)
class NeimarkSacker:
    """The normal-form data of the IPO round at its fixed point (see the module docstring).

    ``log_pi`` (K,) the fixed point; ``multiplier`` ``μ`` the eigenvalue of the round's derivative on
    ``1^⊥`` of largest modulus, with ``Im μ > 0``; ``eigenvector`` ``q`` (K,) complex, centred, unit
    norm, ``Jq = μq``; ``c1`` the cubic normal-form coefficient; ``lyapunov`` ``ℓ₁ = Re(e^{-iθ} c₁)``.
    They describe the bifurcation when ``|μ| = 1`` (e.g. at :func:`prefalign.protocol.instability_onset`).
    """

    log_pi: np.ndarray
    multiplier: complex
    eigenvector: np.ndarray
    c1: complex
    lyapunov: float

    @property
    def angle(self) -> float:
        """``θ = arg μ`` in (0, π): the rotation per round on the critical plane."""
        return float(np.angle(self.multiplier))

    @property
    def modulus(self) -> float:
        """``|μ|``, the spectral radius of the round at the fixed point."""
        return float(abs(self.multiplier))


def neimark_sacker(P: ArrayLike, *, alpha: float, beta: float, lam: float, ref: ArrayLike | None = None,
                   pi0: ArrayLike | None = None) -> NeimarkSacker:
    """Kuznetsov's first Lyapunov coefficient of the IPO round at its fixed point (α < 1), one problem.

    Computed in the orthonormal coordinates :func:`prefalign.dynamics.perp_basis` of ``1^⊥`` (the
    result does not depend on that choice): ``J = QᵀJQ`` (:func:`prefalign.dynamics.quotient_jacobian`),
    ``B``, ``C`` from :func:`round_second`, :func:`round_third`. The largest-modulus eigenvalue must
    be complex (it is for every non-additive P, see the oscillation chapter) and away from the
    strong resonances ``μ³ = 1`` and ``μ = 1`` where ``μ²I - J`` or ``I - J`` is singular
    (``ValueError`` otherwise).
    """
    for name, value in (("alpha", alpha), ("beta", beta), ("lam", lam)):
        if np.ndim(value):
            raise ValueError(f"alpha, beta and lam must be scalars (one problem at a time); {name} has shape {np.shape(value)}")
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix, got shape {Q.shape}")
    K = Q.shape[0]
    if K < 3:
        raise ValueError(f"P must have K >= 3 responses (every 2 x 2 matrix is additive and never rotates), got K = {K}")
    lp = fixed_point(Q, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
    if lp.ndim != 1:
        raise ValueError(f"ref and pi0 must be single vectors of shape (K,) (one problem at a time), got a batch {lp.shape[:-1]}")
    J = quotient_jacobian(lp, Q, alpha=alpha, beta=beta, lam=lam)
    basis = perp_basis(K)
    values, vectors = np.linalg.eig(J)
    i = int(np.argmax(np.abs(values) + 1e-12 * np.sign(values.imag)))
    mu = complex(values[i])
    if mu.imag <= 1e-12 * max(1.0, abs(mu)):
        raise ValueError(f"the leading multiplier {mu:.6g} is real: no pair of complex multipliers at these alpha, "
                         f"beta, lam (beta * lam = 0, or P additive?)")
    q = vectors[:, i] / np.linalg.norm(vectors[:, i])
    left_values, left_vectors = np.linalg.eig(J.T)
    p = left_vectors[:, int(np.argmin(np.abs(left_values - np.conj(mu))))]
    p = p / np.conj(np.vdot(p, q))  # ⟨p, q⟩ = p̄ᵀq = 1
    eye = np.eye(K - 1)
    for name, M in (("mu = 1", eye - J), ("mu^3 = 1", mu**2 * eye - J)):
        if np.linalg.cond(M) > 1e12:
            raise ValueError(f"strong resonance ({name}): the normal-form formula does not apply")

    def B(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return basis.T @ round_second(lp, Q, basis @ x, basis @ y, beta=beta, lam=lam)

    def C(x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        return basis.T @ round_third(lp, Q, basis @ x, basis @ y, basis @ z, beta=beta, lam=lam)

    qb = np.conj(q)
    inner = (C(q, q, qb) + 2 * B(q, np.linalg.solve(eye - J, B(q, qb)))
             + B(qb, np.linalg.solve(mu**2 * eye - J, B(q, q))))
    c1 = complex(0.5 * np.vdot(p, inner))
    lyapunov = float((np.exp(-1j * np.angle(mu)) * c1).real)
    return NeimarkSacker(lp, mu, basis @ q, c1, lyapunov)


def cycle_lyapunov_coefficient(alpha: ArrayLike) -> np.ndarray:
    """``ℓ₁ = -(1 - α²)/4``: the first Lyapunov coefficient of MRS-IPO on the 3-cycle ``P_a`` (uniform
    ``π_ref`` and ``π_0``) at its threshold ``α² + a²β²λ²/3 = 1``, whatever ``a`` (oscillation chapter,
    with the normalisation ``‖q‖ = 1`` of :func:`neimark_sacker`). Negative: supercritical."""
    a = validation.unit_interval(alpha, "alpha")
    if np.any(a >= 1):
        raise ValueError("alpha must be < 1 (at alpha = 1 there is no threshold)")
    return -(1.0 - a**2) / 4.0


def circle_rms_radius(rho: ArrayLike, lyapunov: ArrayLike) -> np.ndarray:
    """``√(2(ρ - 1)/(-ℓ₁))``: the leading-order root-mean-square radius, in centred logits, of the invariant
    closed curve born in a supercritical Neimark–Sacker bifurcation (``ℓ₁ < 0``) when the spectral radius
    of the fixed point is ``ρ > 1`` (``|w|² = (ρ - 1)/(-ℓ₁)`` in normal-form coordinates, and
    ``y - y* ≈ 2 Re(w q)`` with ``‖q‖ = 1``). Valid as ``ρ → 1⁺``; the error is ``O(ρ - 1)`` relative."""
    r = validation.finite_array(rho, "rho")
    ell = validation.finite_array(lyapunov, "lyapunov")
    if np.any(r < 1):
        raise ValueError(f"rho must be >= 1 (the curve exists beyond the threshold), got {float(r.min()):g}")
    if np.any(ell >= 0):
        raise ValueError("lyapunov must be < 0 (a supercritical bifurcation); a subcritical one has no small stable curve")
    return np.sqrt(2.0 * (r - 1.0) / (-ell))
