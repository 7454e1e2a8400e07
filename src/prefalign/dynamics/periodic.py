"""Periodic orbits of the MRS-IPO round, found by Newton's method on an iterate, and their stability.

A point ``p`` of period ``k`` solves ``G^k(p) = p`` for the round ``G`` on logits modulo constants
(:func:`prefalign.dynamics.mrs_ipo_step`). In the coordinates ``w = Qᵀ log π`` of
:func:`prefalign.dynamics.perp_basis`, the derivative of ``G^k`` at ``p`` is the **monodromy matrix**
``M = J_{k-1} ⋯ J_1 J_0`` with ``J_j`` the quotient Jacobian (:func:`prefalign.dynamics.quotient_jacobian`)
at the ``j``-th point of the orbit (chain rule). Newton's step is ``w ← w - (M - I)⁻¹ (G^k(w) - w)``.
The orbit attracts a neighbourhood (linearised stability applied to ``G^k``) if the spectral radius
of ``M`` is below 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from prefalign import preferences, validation
from prefalign.dynamics.engine import mrs_ipo_step
from prefalign.dynamics.linearisation import perp_basis, quotient_jacobian
from prefalign.dynamics.metrics import logit_distance


@dataclass(frozen=True)
class PeriodicOrbit:
    """A periodic orbit of the round: ``log_pi`` (k, K) its points in order (``G`` maps row j to row
    j + 1, and the last row to the first); ``residual`` ``max_j d(G(p_j), p_{j+1})`` in centred logits
    (:func:`prefalign.dynamics.logit_distance`); ``multipliers`` the eigenvalues of the monodromy
    matrix ``M`` on ``1^⊥`` (K - 1,)."""

    log_pi: np.ndarray
    residual: float
    multipliers: np.ndarray

    @property
    def period(self) -> int:
        return int(self.log_pi.shape[0])

    @property
    def spectral_radius(self) -> float:
        """``max |eig(M)|``: below 1, the orbit attracts every start in a neighbourhood of it."""
        return float(np.abs(self.multipliers).max())

    def distance(self, log_pi: ArrayLike) -> np.ndarray:
        """Distance (centred logits) from each policy ``log_pi`` (..., K) to the nearest point of the orbit."""
        lp = validation.finite_array(log_pi, "log_pi", ndim_min=1)
        validation.same_size(self.log_pi.shape[-1], lp, "log_pi", against="the orbit")
        return np.min(logit_distance(lp[..., None, :], self.log_pi), axis=-1)


def _orbit(w: np.ndarray, k: int, P: np.ndarray, basis: np.ndarray, args: dict) -> tuple[np.ndarray, np.ndarray]:
    """The ``k + 1`` log-policies ``G^j`` (j = 0..k) from the quotient coordinates ``w``, and the monodromy matrix."""
    z = basis @ w
    points = [z - logsumexp(z)]
    M = np.eye(len(w))
    for _ in range(k):
        M = quotient_jacobian(points[-1], P, **{n: args[n] for n in ("alpha", "beta", "lam")}) @ M
        points.append(mrs_ipo_step(points[-1], P, **args))
    return np.array(points), M


def periodic_orbit(P: ArrayLike, start: ArrayLike, period: int, *, alpha: float, beta: float, lam: float,
                   ref: ArrayLike | None = None, pi0: ArrayLike | None = None, tol: float = 1e-13,
                   max_iter: int = 50) -> PeriodicOrbit:
    """Solve ``G^k(p) = p`` by Newton's method from the log-policy ``start`` (k = ``period``), one problem.

    Newton runs in the coordinates ``w = Qᵀ log π`` and stops when a step changes ``w`` by at most
    ``tol · (1 + ‖w‖)``; ``RuntimeError`` if it does not within ``max_iter`` steps (start closer,
    e.g. from a simulated point on the attractor). The returned orbit's ``residual`` is recomputed
    with the round itself, and ``multipliers`` are those of ``M`` at the solution.
    """
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix, got shape {Q.shape}")
    if np.ndim(alpha) or np.ndim(beta) or np.ndim(lam):
        raise ValueError("alpha, beta and lam must be scalars (one problem at a time)")
    K = Q.shape[0]
    lp = validation.log_probability_vector(start, "start")
    validation.same_size(K, lp, "start")
    if lp.ndim != 1:
        raise ValueError(f"start must be one log-policy of shape (K,), got shape {lp.shape}")
    k = validation.count(period, "period")
    tol = validation.scalar(tol, "tol", validation.positive)
    max_iter = validation.count(max_iter, "max_iter")
    for name, vector in (("ref", ref), ("pi0", pi0)):
        if vector is not None and np.ndim(vector) != 1:
            raise ValueError(f"{name} must be a single vector of shape (K,) (one problem at a time), got shape {np.shape(vector)}")
    args = {"alpha": alpha, "beta": beta, "lam": lam, "ref": ref, "pi0": pi0}
    basis = perp_basis(K)
    w = basis.T @ lp
    for _ in range(max_iter):
        points, M = _orbit(w, k, Q, basis, args)
        step = np.linalg.solve(M - np.eye(K - 1), basis.T @ points[-1] - w)
        w = w - step
        if np.linalg.norm(step) <= tol * (1.0 + np.linalg.norm(w)):
            points, M = _orbit(w, k, Q, basis, args)
            cycle = points[:k]
            residual = float(np.max(logit_distance(points[1:], np.roll(cycle, -1, axis=0))))
            return PeriodicOrbit(cycle, residual, np.linalg.eigvals(M))
    raise RuntimeError(f"periodic_orbit: Newton did not converge in {max_iter} steps (period {k}); start nearer the orbit")
