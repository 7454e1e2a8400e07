"""The paper's experimental protocol: MRS-IPO on a batch of matrices over a grid of (α, βλ).

For every matrix ``P[m]`` and every grid point ``(α_a, (βλ)_b)`` the dynamics
(:func:`prefalign.dynamics.simulate`, λ = 1 so βλ = β) run for ``steps`` rounds, all
``M x A x B`` trajectories in one batched call. Reported per trajectory: the cycle strength
(time-averaged variance of the policy coordinates over the second half of the run), the final
entropy, the last move, and, where α < 1, two theoretical quantities for comparison: the spectral
radius of the round at the unique fixed point (local stability) and the contraction constant
``α + βλ ‖P − ½11ᵀ‖₂ / 2`` (global stability when below 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from scipy.optimize import brentq

from prefalign import dynamics, preferences, validation


@dataclass(frozen=True)
class PhaseGrid:
    """Results on the grid; arrays have shape ``(M, A, B)`` (matrix, α, βλ).

    ``spectral_radius`` and ``fixed_point_distance`` (the logit distance of the last policy from
    the fixed point) are ``nan`` where α = 1 (no fixed point in general).
    """

    alphas: np.ndarray
    betalam: np.ndarray
    cycle_strength: np.ndarray
    entropy: np.ndarray
    last_move: np.ndarray
    contraction: np.ndarray
    spectral_radius: np.ndarray
    fixed_point_distance: np.ndarray

    def mean(self, name: str) -> np.ndarray:
        """The average over matrices of one of the ``(M, A, B)`` fields, shape ``(A, B)``."""
        validation.choice(name, "name", ("cycle_strength", "entropy", "last_move", "contraction", "spectral_radius",
                                         "fixed_point_distance"))
        return np.nanmean(getattr(self, name), axis=0)


def phase_grid(P: ArrayLike, alphas: ArrayLike, betalam: ArrayLike, *, steps: int, init: ArrayLike | None = None,
               stability: bool = True) -> PhaseGrid:
    """Run the protocol on the matrices ``P`` (``(M, K, K)``) over ``alphas x betalam`` with λ = 1.

    ``alphas`` in [0, 1], ``betalam`` > 0 (1-D grids); ``init`` the round-0 policy (``(K,)`` or
    ``(M, K)``; default uniform), the reference and offline sampler uniform. With ``stability``,
    also solves the fixed point of every trajectory with α < 1 (:func:`prefalign.dynamics.fixed_point`)
    and its spectral radius (:func:`prefalign.dynamics.spectral_radius`).
    """
    Q = preferences.validate(P)
    if Q.ndim != 3:
        raise ValueError(f"P must be a batch of matrices of shape (M, K, K), got shape {Q.shape}")
    a = validation.unit_interval(alphas, "alphas")
    b = validation.positive(betalam, "betalam")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"alphas and betalam must be 1-D grids, got shapes {a.shape} and {b.shape}")
    M, K = Q.shape[0], Q.shape[-1]
    start = None
    if init is not None:
        start = validation.probability_vector(init, "init", positive=True)
        validation.same_size(K, start, "init")
        if start.ndim > 2 or (start.ndim == 2 and start.shape[0] != Q.shape[0]):
            raise ValueError(f"init must have shape (K,) or (M, K) = ({Q.shape[0]}, {K}), got shape {start.shape}")
        start = start[:, None, None, :] if start.ndim == 2 else start
    grid = dict(alpha=a[None, :, None], beta=b[None, None, :], lam=1.0)
    run = dynamics.simulate(Q[:, None, None], init=start, steps=steps, record="last", **grid)
    shape = (M, a.size, b.size)
    contraction = np.broadcast_to(dynamics.contraction_bound(Q[:, None, None], **grid), shape)
    radius = np.full(shape, np.nan)
    distance = np.full(shape, np.nan)
    below = a < 1
    if validation.flag(stability, "stability") and below.any():
        sub = dict(alpha=a[below][None, :, None], beta=b[None, None, :], lam=1.0)
        fixed = dynamics.fixed_point(Q[:, None, None], **sub)
        radius[:, below] = dynamics.spectral_radius(fixed, Q[:, None, None], **sub)
        distance[:, below] = dynamics.logit_distance(run.final_log_pi[:, below], fixed)
    return PhaseGrid(alphas=a, betalam=b, cycle_strength=run.cycle_strength, entropy=run.entropy,
                     last_move=run.last_move, contraction=np.array(contraction), spectral_radius=radius,
                     fixed_point_distance=distance)


def contraction_boundary(P: ArrayLike, alphas: ArrayLike) -> np.ndarray:
    """``βλ = 2(1 − α)/‖P − ½11ᵀ‖₂``: where the contraction constant of :func:`prefalign.dynamics.contraction_bound`
    equals 1. Below it the round is a contraction (stability chapter). Shape ``P.shape[:-2] + alphas.shape``."""
    a = validation.unit_interval(alphas, "alphas")
    norm = np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1))
    if np.any(norm == 0):
        raise ValueError("P must not be the all-ties matrix (every alpha < 1 contracts for every beta*lam)")
    return 2.0 * (1.0 - a) / norm[(...,) + (None,) * a.ndim]


def instability_onset(P: ArrayLike, alpha: float, low: float, high: float, *, rtol: float = 1e-9) -> float:
    """The signal strength βλ (λ = 1) at which the fixed point loses stability: its spectral radius crosses 1.

    Brent's method on ``ρ(βλ) − 1`` over ``[low, high]`` for one matrix ``P`` and ``α < 1``, with
    ``ρ`` = :func:`prefalign.dynamics.spectral_radius` at :func:`prefalign.dynamics.fixed_point`.
    ``ρ − 1`` must change sign on the bracket (``ValueError`` otherwise); if it crosses 1 more than
    once, one crossing is returned. Accurate to ``rtol`` relative to ``low``.
    """
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix, got shape {Q.shape}")
    a = validation.scalar(alpha, "alpha", validation.unit_interval)
    lo, hi = validation.scalar(low, "low", validation.positive), validation.scalar(high, "high", validation.positive)

    def excess(bl: float) -> float:
        fixed = dynamics.fixed_point(Q, alpha=a, beta=bl, lam=1.0)
        return float(dynamics.spectral_radius(fixed, Q, alpha=a, beta=bl, lam=1.0)) - 1.0

    if np.sign(excess(lo)) == np.sign(excess(hi)):
        raise ValueError(f"the spectral radius must cross 1 between low = {lo:g} and high = {hi:g} (alpha = {a:g})")
    return float(brentq(excess, lo, hi, xtol=validation.scalar(rtol, "rtol", validation.positive) * lo))
