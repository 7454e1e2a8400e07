"""MRS-IPO with finite samples: each round's preferences are estimated from ``n`` fresh comparisons.

The exact map (:mod:`prefalign.dynamics`) uses the population preference matrix ``P`` in every
round. In practice each round sees only sampled comparisons. Here every round draws, for each pair
``i < j`` and each trajectory, ``n`` fresh comparisons with ``i`` winning each with probability
``P[i, j]``, and replaces ``P`` by the empirical matrix

    P̂_t[i, j] = Binomial(n, P[i, j]) / n,    P̂_t[j, i] = 1 - P̂_t[i, j],

(:func:`estimate`), so ``E P̂_t = P`` and ``Var P̂_t[i, j] = P[i, j](1 - P[i, j])/n``. The round
is then the exact one (:func:`prefalign.dynamics.mrs_ipo_step`) with ``P̂_t`` in place of ``P``.
All draws come from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dynamics, preferences, simplex, validation


def estimate(P: ArrayLike, n: int, rng: np.random.Generator, size: tuple[int, ...] = ()) -> np.ndarray:
    """Empirical preference matrices from ``n`` comparisons per pair: shape ``size + P.shape``.

    ``P̂[i, j] = Binomial(n, P[i, j]) / n`` for ``i < j`` (independent across pairs and draws),
    ``P̂[j, i] = 1 - P̂[i, j]``, ``P̂[i, i] = 1/2``.
    """
    rng = validation.generator(rng)
    Q = preferences.validate(P)
    n = validation.count(n, "n")
    size = validation.shape(size, "size")
    K = Q.shape[-1]
    iu = np.triu_indices(K, k=1)
    upper = rng.binomial(n, Q[..., iu[0], iu[1]], size=tuple(size) + Q.shape[:-2] + (len(iu[0]),)) / n
    out = np.full(tuple(size) + Q.shape, 0.5)
    out[..., iu[0], iu[1]] = upper
    out[..., iu[1], iu[0]] = 1.0 - upper
    return out


@dataclass(frozen=True)
class NoisyTrajectory:
    """Runs of noisy MRS-IPO: ``log_pi`` has shape ``(runs, ..., steps + 1, K)`` (round 0 included)."""

    log_pi: np.ndarray
    n: int

    @property
    def pi(self) -> np.ndarray:
        return np.exp(self.log_pi)


def simulate_noisy(P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, n: int, steps: int,
                   rng: np.random.Generator, runs: int = 1, ref: ArrayLike | None = None,
                   pi0: ArrayLike | None = None, init: ArrayLike | None = None) -> NoisyTrajectory:
    """Run ``runs`` independent noisy MRS-IPO trajectories for ``steps`` rounds (every round recorded).

    Parameters are those of :func:`prefalign.dynamics.simulate` (``P``, ``alpha``, ``beta``,
    ``lam``, ``ref``, ``pi0``, ``init`` broadcast to a batch shape ``(...)``), plus ``n``
    comparisons per pair per round and the generator ``rng``. Round ``t`` applies the exact round
    with ``P̂_t`` = :func:`estimate` ``(P, n, rng)``, drawn afresh for every run and round.
    Returns ``log π`` of shape ``(runs, ..., steps + 1, K)``.
    """
    Q = preferences.validate(P)
    steps = validation.count(steps, "steps")
    runs = validation.count(runs, "runs")
    n = validation.count(n, "n")
    K = Q.shape[-1]
    if init is None:
        start = simplex.uniform(K) if pi0 is None else validation.probability_vector(pi0, "pi0")
        if np.any(start <= 0):
            raise ValueError("init defaults to pi0, which has zero entries; pass an interior init")
    else:
        start = validation.probability_vector(init, "init", positive=True)
        validation.same_size(K, start, "init")
    log_start = np.log(start)
    batch = dynamics.mrs_ipo_step(log_start, Q, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0).shape[:-1]
    truth = np.broadcast_to(Q, batch + (K, K))
    log_pi = np.empty((runs,) + batch + (steps + 1, K))
    log_pi[..., 0, :] = np.broadcast_to(log_start, (runs,) + batch + (K,))
    for t in range(1, steps + 1):
        log_pi[..., t, :] = dynamics.mrs_ipo_step(log_pi[..., t - 1, :], estimate(truth, n, rng, size=(runs,)),
                                                  alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
    return NoisyTrajectory(log_pi=log_pi, n=n)
