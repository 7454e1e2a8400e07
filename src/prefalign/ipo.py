"""IPO's population optimum in closed form, its losses, and a generic minimiser to cross-check it.

Convention (the whole package): β is the strength of the preference signal relative to the KL
anchor; the implicit reward ``r = log(π/π_ref)`` scales with β. IPO with regularisation τ
(Azar et al.) has β = 1/τ.

For a preference matrix ``P`` (``K x K``), a sampler ``μ`` and a reference ``π_ref``:

* population loss  ``L(π; μ) = Σ_{y,y'} μ_y μ_{y'} (h_π(y, y') - β (P[y, y'] - ½))²`` with
  ``h_π(y, y') = log(π_y/π_ref,y) - log(π_{y'}/π_ref,y')``;
* closed form (full-support μ)  ``π* ∝ π_ref ⊙ exp(β P μ)``, i.e. ``log(π*/π_ref) = β P μ + c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import logsumexp

from prefalign import preferences, validation


def _inputs(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None, beta: ArrayLike):
    Q = preferences.validate(P)
    K = Q.shape[-1]
    m = validation.probability_vector(mu, "mu")
    validation.same_size(K, m, "mu")
    if ref is None:
        r = np.full(K, 1.0 / K)
    else:
        r = validation.probability_vector(ref, "ref", positive=True)
        validation.same_size(K, r, "ref")
    b = validation.positive(beta, "beta")
    return Q, m, r, b


def _require_full_support(mu: np.ndarray) -> None:
    if np.any(mu <= 0):
        bad = np.unravel_index(np.argmin(mu), mu.shape)
        raise ValueError(
            f"mu must have full support (every entry > 0); mu{validation.fmt_index(bad)} = {mu[bad]:g}, "
            f"so log(pi/ref) is undetermined at response {bad[-1]} - use ipo_optimum_on_support() "
            "for the answer on the support of mu"
        )


def log_optimum(P: np.ndarray, mu: np.ndarray, log_ref: np.ndarray, beta: ArrayLike) -> np.ndarray:
    """``log π*`` with ``log π* = log π_ref + β P μ - logsumexp(·)``, for already validated inputs.

    Shapes broadcast: ``P (..., K, K)``, ``mu (..., K)``, ``log_ref (..., K)``, ``beta (...)``.
    This is the unchecked kernel behind :func:`ipo_optimum`; the dynamics reuse it each round.
    """
    z = log_ref + np.asarray(beta)[..., None] * np.einsum("...ij,...j->...i", P, mu)
    return z - logsumexp(z, axis=-1, keepdims=True)


def ipo_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: ArrayLike = 1.0) -> np.ndarray:
    """IPO's population optimum ``π* ∝ π_ref ⊙ exp(β P μ)``, computed in log space.

    Parameters
    ----------
    P : (..., K, K) preference matrix (or batch).
    mu : (..., K) sampler of the compared responses; must have full support.
    ref : (..., K) reference policy in the interior of the simplex; ``None`` = uniform.
    beta : scalar or array broadcasting against the batch shape; ``> 0``.

    Returns ``π*`` of shape ``(..., K)``. Raises ``ValueError`` if μ has a zero entry, since the
    loss does not see responses off the support of μ (see :func:`ipo_optimum_on_support`).
    """
    Q, m, r, b = _inputs(P, mu, ref, beta)
    _require_full_support(m)
    return np.exp(log_optimum(Q, m, np.log(r), b))


@dataclass(frozen=True)
class SupportOptimum:
    """IPO's optimum when μ lacks full support.

    ``pi`` is the optimum *conditioned on the support* S of μ: ``pi_S ∝ π_ref,S ⊙ exp(β (P μ)_S)``
    and ``pi = 0`` off S. Every policy whose conditional on S equals ``pi_S`` minimises the loss,
    whatever mass it puts on the ``undetermined`` responses (those never sampled).
    """

    pi: np.ndarray
    support: np.ndarray
    undetermined: list[int]


def ipo_optimum_on_support(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> SupportOptimum:
    """IPO's optimum for a sampler μ of any support (single ``K x K`` problem); see :class:`SupportOptimum`."""
    Q, m, r, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("ipo_optimum_on_support takes a single K x K matrix P and a scalar beta")
    support = m > 0
    z = np.log(r[support]) + float(b) * (Q @ m)[support]
    pi = np.zeros_like(m)
    pi[support] = np.exp(z - logsumexp(z))
    return SupportOptimum(pi=pi, support=support, undetermined=[int(i) for i in np.flatnonzero(~support)])


def _log_ratio(pi: ArrayLike, ref: ArrayLike | None, K: int) -> np.ndarray:
    p = validation.probability_vector(pi, "pi", positive=True)
    validation.same_size(K, p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    if ref is None:
        return np.log(p) + np.log(K)
    r = validation.probability_vector(ref, "ref", positive=True)
    validation.same_size(K, r, "ref")
    return np.log(p) - np.log(r)


def population_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """``L(π; μ) = Σ_{y,y'} μ_y μ_{y'} (h_π(y, y') - β (P[y, y'] - ½))²`` for one policy ``π`` (shape ``(K,)``).

    ``π`` must be strictly positive (``h_π`` is a log-ratio). Equal, up to an additive constant
    independent of π, to the expected :func:`sampled_loss` when pairs are drawn from ``μ ⊗ μ``
    and labelled by ``P``.
    """
    Q, m, _, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("population_loss takes a single K x K matrix P and a scalar beta")
    r = _log_ratio(pi, ref, Q.shape[0])
    h = r[:, None] - r[None, :]
    return float(m @ (h - float(b) * (Q - 0.5)) ** 2 @ m)


def ipo_objective(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """The regularised objective ``J(π) = πᵀ P μ - (1/β) KL(π ‖ π_ref)`` (win rate against μ minus KL).

    Its maximiser is the closed form, and ``max J = (1/β) log Σ_i π_ref,i exp(β (Pμ)_i)``.
    """
    Q, m, r, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("ipo_objective takes a single K x K matrix P and a scalar beta")
    p = validation.probability_vector(pi, "pi")
    validation.same_size(Q.shape[0], p, "pi")
    on = p > 0
    kl = float(np.sum(p[on] * (np.log(p[on]) - np.log(r[on]))))
    return float(p @ Q @ m) - kl / float(b)


def sample_pairs(P: ArrayLike, mu: ArrayLike, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` labelled comparisons: ``y, y' ~ μ`` i.i.d., then ``y`` wins with probability ``P[y, y']``.

    Returns an int array of shape ``(n, 2)`` with rows ``(winner, loser)``.
    """
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    m = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[0], m, "mu")
    n = validation.count(n, "n")
    y = rng.choice(Q.shape[0], size=n, p=m)
    y2 = rng.choice(Q.shape[0], size=n, p=m)
    first_wins = rng.uniform(size=n) < Q[y, y2]
    return np.column_stack([np.where(first_wins, y, y2), np.where(first_wins, y2, y)])


def _pair_counts(pairs: ArrayLike, K: int) -> np.ndarray:
    arr = np.asarray(pairs)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"pairs must have shape (n, 2) with n >= 1 rows (winner, loser), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"pairs must hold integer response indices, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= K:
        raise ValueError(f"pairs must hold indices in [0, {K - 1}], found {int(arr.min())}..{int(arr.max())}")
    N = np.zeros((K, K))
    np.add.at(N, (arr[:, 0], arr[:, 1]), 1.0)
    return N


def sampled_loss(pi: ArrayLike, pairs: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """IPO's empirical loss ``(1/n) Σ_{(w, l)} (h_π(w, l) - β/2)²`` over ``n`` (winner, loser) pairs."""
    b = float(validation.positive(beta, "beta"))
    p = validation.probability_vector(pi, "pi", positive=True)
    N = _pair_counts(pairs, p.shape[-1])
    r = _log_ratio(p, ref, p.shape[-1])
    h = r[:, None] - r[None, :]
    return float(np.sum(N * (h - b / 2) ** 2) / N.sum())


def expected_sampled_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """The exact expectation of :func:`sampled_loss` for one comparison drawn as in :func:`sample_pairs`.

    ``Σ_{y,y'} μ_y μ_{y'} [P[y,y'] (h_π(y,y') - β/2)² + P[y',y] (h_π(y',y) - β/2)²]``, by enumeration
    of the pair and its label.
    """
    Q, m, _, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("expected_sampled_loss takes a single K x K matrix P and a scalar beta")
    r = _log_ratio(pi, ref, Q.shape[0])
    h = r[:, None] - r[None, :]
    half = float(b) / 2
    per_pair = Q * (h - half) ** 2 + Q.T * (-h - half) ** 2
    return float(m @ per_pair @ m)


def _minimize_logits(loss, K: int, log_ref: np.ndarray) -> np.ndarray:
    """Minimise ``loss(r)`` over implicit rewards ``r ∈ R^K`` with BFGS (finite-difference gradients)."""
    res = minimize(loss, np.zeros(K), method="BFGS", jac="3-point", options={"gtol": 1e-11, "maxiter": 10_000})
    z = log_ref + res.x
    return np.exp(z - logsumexp(z))


def numerical_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`population_loss` numerically (generic BFGS, no closed form used).

    For cross-checking :func:`ipo_optimum` only: slower and accurate to about 1e-7.
    """
    Q, m, r, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or np.ndim(b) != 0:
        raise ValueError("numerical_optimum takes a single K x K matrix P and a scalar beta")
    _require_full_support(m)
    target = float(b) * (Q - 0.5)

    def loss(x: np.ndarray) -> float:
        return float(m @ ((x[:, None] - x[None, :]) - target) ** 2 @ m)

    return _minimize_logits(loss, Q.shape[0], np.log(r))


def sampled_optimum(pairs: ArrayLike, K: int, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`sampled_loss` over policies numerically (generic BFGS).

    The minimiser is determined only if the comparison graph of ``pairs`` connects all ``K``
    responses; otherwise a ``ValueError`` names a response that is cut off.
    """
    K = validation.count(K, "K")
    b = float(validation.positive(beta, "beta"))
    N = _pair_counts(pairs, K)
    reach = np.zeros(K, dtype=bool)
    reach[0] = True
    linked = (N + N.T) > 0
    for _ in range(K):
        reach |= linked[reach].any(axis=0)
    if not reach.all():
        raise ValueError(
            f"pairs must connect all K={K} responses; response {int(np.argmin(reach))} is not linked to response 0, "
            "so its log-ratio is undetermined"
        )
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    weights = N / N.sum()

    def loss(x: np.ndarray) -> float:
        return float(np.sum(weights * ((x[:, None] - x[None, :]) - b / 2) ** 2))

    return _minimize_logits(loss, K, log_ref)
