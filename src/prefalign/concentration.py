"""Logit gaps of IPO's optimum and how moving the sampler towards the top moves them.

For a preference matrix ``P`` (``K x K``), a sampler ``μ`` and ``β > 0``, IPO's optimum has, for
every reference policy,

    ``log(π*_i / π*_j) - log(π_ref,i / π_ref,j) = g_ij(μ) = β Σ_k (P[i, k] - P[j, k]) μ_k``.

An *order* ``o`` lists the responses best first (a permutation of ``0..K-1``); by default it is
the transitive order of ``P``. Along it, ``μ'`` is *top-heavier* than ``μ`` (first-order
dominance) if ``Σ_{a<=m} μ'_{o_a} >= Σ_{a<=m} μ_{o_a}`` for every ``m``, and the *gap profile* of the
pair ``(i, j)`` is ``d_a = P[i, o_a] - P[j, o_a]``. Abel summation gives, with
``D_a = Σ_{b<=a} (μ'_{o_b} - μ_{o_b})``,

    ``g_ij(μ') - g_ij(μ) = β Σ_{a=1}^{K-1} D_a (d_a - d_{a+1})``,

so a non-increasing profile makes the gap grow under every top-heavier sampler.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from prefalign import preferences, validation

PROFILE_TOL = preferences.SKEW_TOL
"""Slack when comparing profile entries: ``d_i`` and ``d_j`` are both ``P[i, j] - ½`` only up to ``|P + P.T - 1|``."""


def logit_gaps(P: ArrayLike, mu: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """All logit gaps ``G[..., i, j] = g_ij(μ) = β ((Pμ)_i - (Pμ)_j)``, shape ``(..., K, K)``.

    ``P (..., K, K)``, ``mu (..., K)`` (any support), ``beta`` scalar or ``(...)``, ``> 0``.
    """
    Q = preferences.validate(P)
    m = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[-1], m, "mu")
    b = validation.positive(beta, "beta")
    s = np.asarray(b)[..., None] * np.einsum("...ij,...j->...i", Q, m)
    return s[..., :, None] - s[..., None, :]


def _order(order: ArrayLike, K: int) -> np.ndarray:
    o = np.asarray(order)
    if o.shape != (K,) or not np.issubdtype(o.dtype, np.integer) or sorted(o.tolist()) != list(range(K)):
        raise ValueError(f"order must be a permutation of 0..{K - 1} (best response first), got {order!r}")
    return o


def _single_with_order(P: ArrayLike, order: ArrayLike | None) -> tuple[np.ndarray, np.ndarray]:
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    if order is None:
        found = preferences.transitive_order(Q)
        if found is None:
            raise ValueError("order must be given when P is not transitive (P has no order of its own)")
        return Q, np.asarray(found)
    return Q, _order(order, Q.shape[0])


def _pair(i: int, j: int, K: int) -> tuple[int, int]:
    i = validation.count(i, "i", minimum=0)
    j = validation.count(j, "j", minimum=0)
    if i >= K or j >= K or i == j:
        raise ValueError(f"i and j must be two different responses in 0..{K - 1}, got i = {i}, j = {j}")
    return i, j


def gap_profile(P: ArrayLike, i: int, j: int, order: ArrayLike | None = None) -> np.ndarray:
    """The profile ``d_a = P[i, o_a] - P[j, o_a]`` of the pair ``(i, j)`` along ``order``, shape ``(K,)``.

    ``g_ij(μ) = β Σ_a d_a μ_{o_a}``. At the positions of ``i`` and of ``j`` it equals ``P[i, j] - ½``.
    """
    Q, o = _single_with_order(P, order)
    i, j = _pair(i, j, Q.shape[0])
    return Q[i, o] - Q[j, o]


def is_monotone_pair(P: ArrayLike, i: int, j: int, order: ArrayLike | None = None, *, tol: float = PROFILE_TOL) -> bool:
    """True iff the gap profile of ``(i, j)`` is non-increasing along ``order``: ``d_{a+1} <= d_a + tol``.

    This is exactly the condition under which ``g_ij`` grows for every move of the sampler to a
    top-heavier one (see the chapter's theorem). ``tol`` (default: the tolerance on ``P + Pᵀ = 1``)
    absorbs round-off only.
    """
    d = gap_profile(P, i, j, order)
    t = validation.scalar(tol, "tol")
    return bool(np.all(np.diff(d) <= t))


def is_top_heavier(mu_new: ArrayLike, mu: ArrayLike, order: ArrayLike, *, tol: float = 1e-12) -> bool:
    """First-order dominance towards the top: ``Σ_{a<=m} μ'_{o_a} >= Σ_{a<=m} μ_{o_a} - tol`` for every ``m``.

    ``mu_new`` (``μ'``) and ``mu`` are single samplers of shape ``(K,)``; ``order`` lists the
    responses best first. ``tol`` absorbs the round-off of the cumulative sums only.
    """
    new = validation.probability_vector(mu_new, "mu_new")
    old = validation.probability_vector(mu, "mu")
    if new.ndim != 1 or old.shape != new.shape:
        raise ValueError(f"mu_new and mu must be single samplers of the same shape (K,), got {new.shape} and {old.shape}")
    o = _order(order, new.size)
    t = validation.scalar(tol, "tol")
    return bool(np.all(np.cumsum(new[o] - old[o])[:-1] >= -t))


def abel_terms(P: ArrayLike, i: int, j: int, mu_new: ArrayLike, mu: ArrayLike,
               order: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """The terms ``β D_a (d_a - d_{a+1})``, ``a = 1..K-1``, whose sum is ``g_ij(μ') - g_ij(μ)``; shape ``(K-1,)``.

    ``D_a = Σ_{b<=a} (μ'_{o_b} - μ_{o_b})`` is the mass the move shifts from below position ``a`` to
    at or above it, and ``d`` the gap profile of ``(i, j)``. A top-heavier move has every ``D_a >= 0``,
    so each term has the sign of ``d_a - d_{a+1}``.
    """
    Q, o = _single_with_order(P, order)
    d = gap_profile(Q, i, j, o)
    new = validation.probability_vector(mu_new, "mu_new")
    old = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[0], new, "mu_new")
    validation.same_size(Q.shape[0], old, "mu")
    if new.ndim != 1 or old.ndim != 1:
        raise ValueError(f"mu_new and mu must be single samplers of shape (K,), got {new.shape} and {old.shape}")
    b = validation.scalar(beta, "beta", validation.positive)
    D = np.cumsum(new[o] - old[o])[:-1]
    return b * D * (d[:-1] - d[1:])


def shrinking_shift(P: ArrayLike, i: int, j: int, order: ArrayLike | None = None, *,
                    tol: float = PROFILE_TOL) -> tuple[np.ndarray, np.ndarray] | None:
    """A full-support move ``μ → μ'`` to a top-heavier sampler that *shrinks* ``g_ij``, or ``None``.

    If the profile rises somewhere, ``d_{a+1} > d_a + tol`` (first such ``a``), take ``μ`` uniform and
    ``μ' = μ + (e_{o_a} - e_{o_{a+1}}) / (2K)``: then ``g_ij(μ') - g_ij(μ) = β (d_a - d_{a+1}) / (2K) < 0``.
    Returns ``(μ, μ')``; ``None`` when the profile is non-increasing (no such move exists).
    """
    Q, o = _single_with_order(P, order)
    d = gap_profile(Q, i, j, o)
    t = validation.scalar(tol, "tol")
    rises = np.flatnonzero(np.diff(d) > t)
    if rises.size == 0:
        return None
    a = int(rises[0])
    K = Q.shape[0]
    mu = np.full(K, 1.0 / K)
    mu_new = mu.copy()
    mu_new[o[a]] += 0.5 / K
    mu_new[o[a + 1]] -= 0.5 / K
    return mu, mu_new


@dataclass(frozen=True)
class AdjacentShift:
    """How a sampler move ``μ → μ'`` changes the gaps between neighbours in an order.

    ``shifted[a] = D_a`` (mass moved to positions ``<= a``) and ``change[a]`` the change of the
    gap ``g_{o_a, o_{a+1}}``, for ``a = 1..K-1`` (shape ``(K-1,)`` each). For every ``P``, order and
    pair of samplers, ``Σ_a D_a · change_a = β δᵀ(P - ½11ᵀ)δ = 0`` with ``δ = μ' - μ``.
    """

    shifted: np.ndarray
    change: np.ndarray


def adjacent_shift(P: ArrayLike, mu_new: ArrayLike, mu: ArrayLike, order: ArrayLike | None = None,
                   beta: float = 1.0) -> AdjacentShift:
    """The cumulative shifted mass ``D_a`` and the change of each neighbouring gap; see :class:`AdjacentShift`."""
    Q, o = _single_with_order(P, order)
    new = validation.probability_vector(mu_new, "mu_new")
    old = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[0], new, "mu_new")
    validation.same_size(Q.shape[0], old, "mu")
    if new.ndim != 1 or old.ndim != 1:
        raise ValueError(f"mu_new and mu must be single samplers of shape (K,), got {new.shape} and {old.shape}")
    G = logit_gaps(Q, np.stack([new, old]), validation.scalar(beta, "beta", validation.positive))
    a = np.arange(Q.shape[0] - 1)
    change = G[0][o[a], o[a + 1]] - G[1][o[a], o[a + 1]]
    return AdjacentShift(shifted=np.cumsum(new[o] - old[o])[:-1], change=change)


def random_top_heavier(mu: ArrayLike, order: ArrayLike, rng: np.random.Generator) -> np.ndarray:
    """A random sampler ``μ'`` top-heavier than ``mu`` along ``order``.

    From the last position up, a uniform fraction of the mass at each position moves to a position
    drawn uniformly above it; every transfer moves mass upwards, so ``μ'`` dominates ``μ``.
    """
    rng = validation.generator(rng)
    m = validation.probability_vector(mu, "mu")
    if m.ndim != 1:
        raise ValueError(f"mu must be a single sampler of shape (K,), got shape {m.shape}")
    o = _order(order, m.size)
    along = m[o].copy()
    for a in range(m.size - 1, 0, -1):
        moved = rng.uniform() * along[a]
        along[a] -= moved
        along[rng.integers(0, a)] += moved
    out = np.empty_like(along)
    out[o] = along
    return out
