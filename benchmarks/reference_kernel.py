"""Minimal blocked compiled kernels for MRS-IPO: the yardstick of ``dynamics_grid.py``.

What a numerical programmer would write to get the most out of one core for this one map, and
nothing else: λ = 1 (μ = π), one shared ``P``, uniform reference, per-trajectory α, β and initial
policy; outputs the final log-policies and the cycle strength (Welford, the same summary as
``prefalign.dynamics.simulate``). No recording of intermediate rounds, no offline sampler, no
per-trajectory matrices, no validation. Trajectories are processed in cache-sized blocks with
every round inside compiled code. Two layouts, and the benchmark takes the faster per workload:

* ``response_first``: the block's state is ``(K, B)``; each step of the round is one pass over the
  block's trajectories (the compiler vectorises those passes).
* ``fused``: one trajectory at a time, the whole round (mat-vec, max, exp, normalisation,
  accumulator) in one fused pass over its K entries (the K-loop inside).

Both use ``prefalign._kernels.exp`` (libm's exp cannot be vectorised by the compiler); everything
else is written here independently of the package.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from prefalign._kernels import exp

OPTIONS = {"cache": True, "error_model": "numpy", "fastmath": False}


@njit(**OPTIONS)
def response_first(P, alpha, beta, log_init, steps, burn, block, final, strength):
    n, K = log_init.shape
    anchor = -math.log(K)
    for b0 in range(0, n, block):
        B = min(n, b0 + block) - b0
        L = np.empty((K, B))
        pi = np.empty((K, B))
        z = np.empty((K, B))
        top = np.empty(B)
        tot = np.empty(B)
        mean = np.zeros((K, B))
        m2 = np.zeros((K, B))
        a = alpha[b0:b0 + B]
        be = beta[b0:b0 + B]
        for b in range(B):
            for k in range(K):
                L[k, b] = log_init[b0 + b, k]
        for t in range(steps + 1):
            if t > 0:
                for i in range(K):
                    for b in range(B):
                        z[i, b] = P[i, 0] * pi[0, b]
                    for j in range(1, K):
                        p = P[i, j]
                        for b in range(B):
                            z[i, b] += p * pi[j, b]
                for i in range(K):
                    for b in range(B):
                        z[i, b] = a[b] * L[i, b] + (1.0 - a[b]) * anchor + be[b] * z[i, b]
                L, z = z, L
            for b in range(B):
                top[b] = L[0, b]
            for k in range(1, K):
                for b in range(B):
                    top[b] = max(top[b], L[k, b])
            for b in range(B):
                tot[b] = 0.0
            for k in range(K):
                for b in range(B):
                    L[k, b] -= top[b]
                    pi[k, b] = exp(L[k, b])
                    tot[b] += pi[k, b]
            for k in range(K):
                for b in range(B):
                    pi[k, b] /= tot[b]
            if t >= burn:
                w = 1.0 / (t - burn + 1)
                for k in range(K):
                    for b in range(B):
                        d = pi[k, b] - mean[k, b]
                        mean[k, b] += d * w
                        m2[k, b] += d * (pi[k, b] - mean[k, b])
        for b in range(B):
            s = 0.0
            lt = math.log(tot[b])
            for k in range(K):
                s += m2[k, b]
                final[b0 + b, k] = L[k, b] - lt
            strength[b0 + b] = s / K / (steps - burn + 1)


@njit(**OPTIONS)
def fused(P, alpha, beta, log_init, steps, burn, block, final, strength):
    n, K = log_init.shape
    anchor = -math.log(K)
    L = np.empty(K)
    z = np.empty(K)
    pi = np.empty(K)
    mean = np.empty(K)
    m2 = np.empty(K)
    for b in range(n):
        a, be = alpha[b], beta[b]
        for k in range(K):
            L[k] = log_init[b, k]
            mean[k] = 0.0
            m2[k] = 0.0
        tot = 1.0
        for t in range(steps + 1):
            if t > 0:
                for i in range(K):
                    s = P[i, 0] * pi[0]
                    for j in range(1, K):
                        s += P[i, j] * pi[j]
                    z[i] = a * L[i] + (1.0 - a) * anchor + be * s
                L, z = z, L
            top = L[0]
            for k in range(1, K):
                top = max(top, L[k])
            tot = 0.0
            for k in range(K):
                L[k] -= top
                pi[k] = exp(L[k])
                tot += pi[k]
            inv = 1.0 / tot
            w = 1.0 / (t - burn + 1) if t >= burn else 0.0
            for k in range(K):
                pi[k] *= inv
                if t >= burn:
                    d = pi[k] - mean[k]
                    mean[k] += d * w
                    m2[k] += d * (pi[k] - mean[k])
        s = 0.0
        lt = math.log(tot)
        for k in range(K):
            s += m2[k]
            final[b, k] = L[k] - lt
        strength[b] = s / K / (steps - burn + 1)
