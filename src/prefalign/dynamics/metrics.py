"""Metrics of trajectories: distance in logits modulo constants, cycle strength, rotation and period."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from prefalign import validation


def logit_distance(log_p: ArrayLike, log_q: ArrayLike) -> np.ndarray:
    """``‖Π(log p - log q)‖₂`` with ``Π = I - 11ᵀ/K``: the distance between policies in the norm of the
    contraction theorem (logits modulo constants). Finite for collapsed policies given as logs."""
    a = validation.finite_array(log_p, "log_p", ndim_min=1)
    b = validation.finite_array(log_q, "log_q", ndim_min=1)
    validation.same_size(a.shape[-1], b, "log_q", against="log_p")
    if a.shape[-1] == 0:
        raise ValueError(f"log_p must have at least one entry along the last axis, got shape {a.shape}")
    d = a - b
    d = d - d.mean(axis=-1, keepdims=True)
    return np.sqrt((d**2).sum(axis=-1))


def cycle_strength(pi: ArrayLike, burn_in: int = 0) -> np.ndarray:
    """Time-averaged variance of the policy coordinates after burn-in, averaged over coordinates.

    ``pi`` (..., T, K) is a trajectory of policies (rounds along axis -2). Returns
    ``(1/K) Σ_i Var_{t >= burn_in}(π_t,i)`` (population variance), shape ``(...)``. Zero for a
    trajectory that sits at a fixed point; positive for a persistent cycle.
    """
    p = validation.probability_vector(pi, "pi")
    if p.ndim < 2:
        raise ValueError(f"pi must be a trajectory of shape (..., T, K), got shape {p.shape}")
    burn_in = validation.count(burn_in, "burn_in", minimum=0)
    if burn_in >= p.shape[-2]:
        raise ValueError(f"burn_in must be < the number of rounds {p.shape[-2]}, got {burn_in}")
    return p[..., burn_in:, :].var(axis=-2).mean(axis=-1)


def rotation_angle(log_pi: ArrayLike, log_center: ArrayLike) -> np.ndarray:
    """Mean angle (radians) between successive deviations from a centre, in logits modulo constants.

    ``log_pi`` (..., T, K) is a trajectory of log-policies, ``log_center`` (..., K) the point it
    turns around (e.g. the fixed point). With ``d_t = Π(log π_t - log center)``, returns the mean
    over ``t`` of ``∠(d_t, d_{t+1})`` (Kahan's formula, accurate for small angles). For a linear
    map that is a scaled rotation, as at the uniform point of ``P_a``, this is the rotation per
    round; ``2π`` over it is the period in rounds (:func:`period`).
    """
    lp = validation.finite_array(log_pi, "log_pi", ndim_min=2)
    c = validation.finite_array(log_center, "log_center", ndim_min=1)
    validation.same_size(lp.shape[-1], c, "log_center", against="log_pi")
    if lp.shape[-2] < 2:
        raise ValueError(f"log_pi must hold at least 2 rounds, got shape {lp.shape}")
    d = lp - c[..., None, :]
    d = d - d.mean(axis=-1, keepdims=True)
    u, v = d[..., :-1, :], d[..., 1:, :]
    nu = np.sqrt((u**2).sum(axis=-1, keepdims=True))
    nv = np.sqrt((v**2).sum(axis=-1, keepdims=True))
    if np.any(nu == 0) or np.any(nv == 0):
        raise ValueError("log_pi must not pass exactly through log_center (the angle is undefined there)")
    a, b = u * nv, v * nu
    angle = 2.0 * np.arctan2(np.sqrt(((a - b) ** 2).sum(axis=-1)), np.sqrt(((a + b) ** 2).sum(axis=-1)))
    return angle.mean(axis=-1)


def period(angle: ArrayLike) -> np.ndarray:
    """Rounds per full turn, ``2π / angle``, for a rotation of ``angle`` radians per round (> 0)."""
    return 2.0 * np.pi / validation.positive(angle, "angle")
