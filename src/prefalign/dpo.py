"""DPO's population optimum: no closed form, found by Newton's method on a convex loss.

Convention (the whole package): β is the strength of the preference signal relative to the KL
anchor; the implicit reward ``r = log(π/π_ref)`` scales with β. DPO as written by Rafailov et al.
and in TRL uses ``β_TRL = 1/β``.

For a preference matrix ``P``, a full-support sampler ``μ`` and a reference ``π_ref``:

* population loss  ``L(r; μ) = -Σ_{i,j} μ_i μ_j P[i,j] log σ((r_i - r_j)/β)``;
* first-order conditions  ``Σ_j μ_j σ((r_i - r_j)/β) = (P μ)_i`` for every ``i``;
* optimum  ``π* ∝ π_ref ⊙ exp(r*)``.

The loss is a Bradley–Terry negative log-likelihood with fractional win counts
``w_ij = μ_i μ_j P[i,j]`` and scores ``r/β``. It is convex, strictly on ``1^⊥``, and has a finite
minimiser iff the graph with an edge ``i → j`` whenever ``P[i,j] > 0`` is strongly connected (no
group of responses beats all the others with probability 1) — Zermelo's and Ford's condition.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import expit, logsumexp

from prefalign import preferences, validation

MAX_ITER = 200


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _inputs(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None, beta: ArrayLike):
    Q = preferences.validate(P)
    K = Q.shape[-1]
    m = validation.probability_vector(mu, "mu")
    validation.same_size(K, m, "mu")
    if np.any(m <= 0):
        bad = np.unravel_index(np.argmin(m), m.shape)
        raise ValueError(
            f"mu must have full support (every entry > 0); mu{validation.fmt_index(bad)} = {m[bad]:g}, "
            f"so the log-ratio of response {bad[-1]} is undetermined"
        )
    if ref is None:
        r = np.full(K, 1.0 / K)
    else:
        r = validation.probability_vector(ref, "ref", positive=True)
        validation.same_size(K, r, "ref")
    b = validation.positive(beta, "beta")
    return Q, m, r, b


def dominating_set(P: np.ndarray) -> list[int] | None:
    """A set of responses that beats every other response with probability 1, or ``None``.

    ``P`` is a single validated ``K x K`` matrix. Returns ``T`` (sorted) such that
    ``P[t, o] = 1`` for every ``t ∈ T`` and ``o ∉ T``, if one exists; then DPO has no finite
    optimum for any full-support sampler (the log-ratios of ``T`` grow without bound).
    """
    K = P.shape[0]
    edges = (P > 0) | np.eye(K, dtype=bool)
    reach = edges.copy()
    for _ in range(max(1, int(np.ceil(np.log2(K))))):
        reach = (reach.astype(np.int64) @ reach.astype(np.int64)) > 0
    for x in range(K):
        if not reach[x].all():
            return sorted(int(o) for o in np.flatnonzero(~reach[x]))
    return None


def _loss(r: np.ndarray, W: np.ndarray, beta: np.ndarray) -> np.ndarray:
    d = (r[..., :, None] - r[..., None, :]) / beta[..., None, None]
    return -np.sum(W * _log_sigmoid(d), axis=(-2, -1))


def log_optimum(P: np.ndarray, mu: np.ndarray, log_ref: np.ndarray, beta: ArrayLike, *, tol: float = 1e-12,
                init: np.ndarray | None = None, max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """``(log π*, max |FOC residual|)`` for already validated inputs, by damped Newton on ``r``.

    Shapes broadcast: ``P (..., K, K)``, ``mu (..., K)``, ``log_ref (..., K)``, ``beta (...)``;
    ``init`` (optional, ``(..., K)``) is a starting implicit reward, e.g. the previous round's in a
    dynamics loop. Default start: the linearised (IPO) solution ``r = 4β P μ``.

    Each step is Newton's step for the residual ``F(r) = 0`` (the direction of Newton's step on the
    loss, computed with the better-conditioned row-scaled Hessian ``diag(1/μ) ∇²L``), backtracked until
    the loss or ``‖F‖²`` decreases sufficiently (Armijo). Stops when every batch element has
    ``max_i |Σ_j μ_j σ((r_i - r_j)/β) - (Pμ)_i| <= tol``. Raises ``RuntimeError`` with the residual
    reached if that does not happen within ``max_iter`` steps.
    """
    beta = np.asarray(beta, dtype=float)
    shape = np.broadcast_shapes(P.shape[:-2], mu.shape[:-1], log_ref.shape[:-1], beta.shape)
    K = P.shape[-1]
    P = np.broadcast_to(P, shape + (K, K))
    mu = np.broadcast_to(mu, shape + (K,))
    beta = np.broadcast_to(beta, shape)
    M = mu[..., :, None] * mu[..., None, :]
    W = M * P
    target = np.einsum("...ij,...j->...i", P, mu)
    r = 4.0 * beta[..., None] * target if init is None else np.array(np.broadcast_to(init, shape + (K,)), dtype=float)
    r = r - r.mean(axis=-1, keepdims=True)
    ones = np.ones((K, K))
    eye = np.eye(K)
    for _ in range(max_iter):
        s = expit((r[..., :, None] - r[..., None, :]) / beta[..., None, None])
        residual = np.einsum("...ij,...j->...i", s, mu) - target
        worst = np.max(np.abs(residual), axis=-1)
        active = worst > tol
        if not active.any():
            break
        # Newton on the residual F(r) = 0; J = diag(1/μ) ∇²L is better conditioned than ∇²L when
        # μ has tiny entries, and μᵀJ = 0, μᵀF = 0 make the solution of (J + 11ᵀ)δ = -F orthogonal to 1.
        w = mu[..., None, :] * s * (1.0 - s) / beta[..., None, None]
        J = np.einsum("...i,ij->...ij", w.sum(-1), eye) - w
        scale = np.trace(J, axis1=-2, axis2=-1)[..., None, None] / K
        step = -np.linalg.solve(J + scale * ones, residual[..., None])[..., 0]
        grad = mu * residual / beta[..., None]
        slope = np.sum(grad * step, axis=-1)
        base = _loss(r, W, beta)
        merit = np.sum(residual**2, axis=-1)
        t = np.where(active, 1.0, 0.0)
        for _ in range(60):
            trial = r + t[..., None] * step
            s_new = expit((trial[..., :, None] - trial[..., None, :]) / beta[..., None, None])
            merit_new = np.sum((np.einsum("...ij,...j->...i", s_new, mu) - target) ** 2, axis=-1)
            ok = (_loss(trial, W, beta) <= base + 1e-4 * t * slope) | (merit_new <= (1.0 - 1e-4 * t) * merit)
            if ok.all():
                break
            t = np.where(ok, t, t / 2)
        r = trial - trial.mean(axis=-1, keepdims=True)
    else:
        raise RuntimeError(
            f"DPO Newton did not converge in {max_iter} steps: max |FOC residual| = {worst.max():.3g} > tol = {tol:g}"
        )
    z = log_ref + r
    return z - logsumexp(z, axis=-1, keepdims=True), worst


def dpo_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: ArrayLike = 1.0,
                tol: float = 1e-12) -> np.ndarray:
    """DPO's population optimum ``π* ∝ π_ref ⊙ exp(r*)``, ``r*`` solving the first-order conditions.

    Parameters
    ----------
    P : (..., K, K) preference matrix (or batch).
    mu : (..., K) sampler; must have full support.
    ref : (..., K) reference policy in the interior of the simplex; ``None`` = uniform.
    beta : scalar or array broadcasting against the batch shape; ``> 0``.
    tol : bound on ``max_i |Σ_j μ_j σ((r_i - r_j)/β) - (Pμ)_i|`` at the returned optimum.

    Raises ``ValueError`` if no finite optimum exists (a group of responses beats all the others
    with probability 1; the error names it), ``RuntimeError`` with the residual reached if Newton
    does not converge.
    """
    Q, m, r, b = _inputs(P, mu, ref, beta)
    tol = float(validation.positive(tol, "tol"))
    for index in np.ndindex(Q.shape[:-2]):
        T = dominating_set(Q[index])
        if T is not None:
            where = f" (batch index {list(index)})" if index else ""
            raise ValueError(
                f"P has no finite DPO optimum{where}: responses {T} beat every other response with probability 1 "
                "(P[t, o] = 1), so their log-ratios grow without bound"
            )
    log_pi, _ = log_optimum(Q, m, np.log(r), b, tol=tol)
    return np.exp(log_pi)


def _log_ratio(pi: ArrayLike, ref: ArrayLike | None, K: int) -> np.ndarray:
    p = validation.probability_vector(pi, "pi", positive=True)
    validation.same_size(K, p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    base = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    return np.log(p) - base


def population_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """``L(π; μ) = -Σ_{i,j} μ_i μ_j P[i,j] log σ((r_i - r_j)/β)`` with ``r = log(π/π_ref)``, one policy."""
    Q, m, _, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("population_loss takes a single K x K matrix P and a scalar beta")
    r = _log_ratio(pi, ref, Q.shape[0])
    return float(_loss(r, np.outer(m, m) * Q, np.asarray(float(b))))


def foc_residual(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """The first-order residual ``Σ_j μ_j σ((r_i - r_j)/β) - (P μ)_i`` for each ``i`` (zero at the optimum)."""
    Q, m, _, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("foc_residual takes a single K x K matrix P and a scalar beta")
    r = _log_ratio(pi, ref, Q.shape[0])
    return expit((r[:, None] - r[None, :]) / float(b)) @ m - Q @ m


def linearised_ipo_beta(beta: ArrayLike) -> np.ndarray:
    """The IPO signal strength that DPO reduces to near the uniform point: ``4β``.

    Expanding ``σ(x) = 1/2 + x/4 + O(x³)`` in the first-order conditions gives
    ``r_i - μᵀr = 4β ((Pμ)_i - 1/2)``: IPO's optimum with β replaced by ``4β``.
    """
    return 4.0 * validation.positive(beta, "beta")


def numerical_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`population_loss` with a generic optimiser (BFGS, finite-difference gradients).

    For cross-checking :func:`dpo_optimum` only: slower and accurate to about 1e-6.
    """
    Q, m, r, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("numerical_optimum takes a single K x K matrix P and a scalar beta")
    W = np.outer(m, m) * Q
    b = np.asarray(float(b))
    res = minimize(lambda x: float(_loss(x, W, b)), np.zeros(Q.shape[0]), method="BFGS", jac="3-point",
                   options={"gtol": 1e-10, "maxiter": 10_000})
    z = np.log(r) + res.x
    return np.exp(z - logsumexp(z))
