"""The compiled rounds and loop of the dynamics engine (driven by :mod:`prefalign.dynamics.engine`)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from prefalign._kernels.elementary import JIT, exp
from prefalign._kernels.newton import _block_matrices, _block_workspace, _solve_block_in

# The compiled core of :func:`prefalign.dynamics.simulate`: one MRS round for a block of trajectories,
# and the loop that advances a block through every round.
#
# Layout. The batch is flat (``n`` trajectories). Parameters arrive as distinct values plus, per
# trajectory, an index into them: ``P`` (m, K, K) with ``p_index`` (n,), ``log_ref`` with
# ``ref_index``, ``pi0`` with ``pi0_index``, the initial log-policies with ``init_index``; α, β, λ as
# (n,) arrays. Trajectories are advanced in blocks of ``block`` (a few thousand state entries, so a
# block's state stays in cache for all its rounds), one block after the other, every round inside
# compiled code. Inside a block the state is response-first, ``(K, B)``, and every inner loop runs
# over the block's trajectories, which the compiler vectorises.
#
# A round maps the state ``(L, π, total)`` — logits ``L`` with maximum 0,
# ``π = softmax(L)``, ``total = Σ_k exp L_k`` — to the next state:
#
# 1. the sampler ``μ = λπ + (1-λ)π_0`` (:func:`_sampler`; ``μ = π`` itself where every λ of the block
#    is 1, which is the same number bit for bit);
# 2. the scores ``s``, the only step that depends on the method ``kind``: ``Pμ`` for IPO
#    (:func:`_ipo_scores`), DPO's fitted Bradley–Terry scores ``x*(μ)`` for DPO
#    (:func:`_solve_block_in`, the Newton solver for a block, started from the
#    previous round's scores or from its default start, whichever has the smaller residual);
# 3. ``z = α L + (1-α) log π_ref + β s``, ``L' = z - max z``, ``π' = softmax(L')`` (:func:`_finish`).
#
# A new kind of round adds a scores function and a branch at step 2 of :func:`_advance`; the rest of
# the loop (sampler, update, recording, the online cycle strength, the last log-policy) does not change.
#
# Arithmetic. Every operation is elementwise across trajectories, and every sum over responses is
# taken in index order, so a trajectory's numbers do not depend on the batch or block it is computed
# in. ``exp`` is :func:`exp` (within 1 ulp; 0 below ``log 2^-1022``, where an entry
# of ``π`` would be subnormal and, added to numbers of size ``>= 1/K``, would change nothing).
#
# Against the numpy engine it replaced (issue 18), the arithmetic is the same operation for
# operation except ``exp`` and ``log`` (numpy's SIMD versions there, which differ from these in the
# last bit for about 5% of arguments), and DPO's σ (from one ``exp(-|d|)`` here, from ``logaddexp``
# there). On the 134 ``simulate`` calls of the book's checks, the log-probabilities agree to within
# 2.2e-11 (2.4e-12 relative to their size) after up to 3,000 rounds — except on trajectories whose
# dynamics amplify rounding (oscillations pressed against the boundary of the simplex): there,
# perturbing the initial policy by 1e-15 changes the old engine's own result by as much, so neither
# engine's digits beyond that amplification mean anything. Every check passes unchanged.

IPO = 0
DPO = 1


@njit(**JIT)
def _normalise(L: np.ndarray, pi: np.ndarray, total: np.ndarray) -> None:
    """``pi = exp(L) / total`` with ``total = Σ_k exp L_k`` (summed in order), for a block ``(K, B)``."""
    K, B = L.shape
    for b in range(B):
        pi[0, b] = exp(L[0, b])
        total[b] = pi[0, b]
    for k in range(1, K):
        for b in range(B):
            pi[k, b] = exp(L[k, b])
            total[b] += pi[k, b]
    for k in range(K):
        for b in range(B):
            pi[k, b] /= total[b]


@njit(**JIT)
def _sampler(lam: np.ndarray, pi: np.ndarray, offline: np.ndarray, mu: np.ndarray) -> None:
    """``μ = λπ + (1-λ)π_0``; ``offline`` holds ``(1-λ)π_0``."""
    K, B = pi.shape
    for k in range(K):
        for b in range(B):
            mu[k, b] = lam[b] * pi[k, b] + offline[k, b]


@njit(**JIT)
def _ipo_scores(P: np.ndarray, PB: np.ndarray, mu: np.ndarray, scores: np.ndarray) -> None:
    """IPO's scores ``P μ``: with one matrix ``P`` (1, K, K) for the whole batch, or per trajectory ``PB`` (K, K, B)."""
    K, B = mu.shape
    shared = PB.shape[2] == 0
    for i in range(K):
        if shared:
            p = P[0, i, 0]
            for b in range(B):
                scores[i, b] = p * mu[0, b]
            for j in range(1, K):
                p = P[0, i, j]
                for b in range(B):
                    scores[i, b] += p * mu[j, b]
        else:
            for b in range(B):
                scores[i, b] = PB[i, 0, b] * mu[0, b]
            for j in range(1, K):
                for b in range(B):
                    scores[i, b] += PB[i, j, b] * mu[j, b]


@njit(**JIT)
def _finish(alpha: np.ndarray, beta: np.ndarray, L: np.ndarray, anchor: np.ndarray, scores: np.ndarray,
            L_out: np.ndarray, pi_out: np.ndarray, total_out: np.ndarray, top: np.ndarray) -> None:
    """``L_out = z - max z`` with ``z = α L + (1-α) log π_ref + β scores`` (``anchor`` holds
    ``(1-α) log π_ref``), then ``pi_out = softmax(L_out)``."""
    K, B = L.shape
    for b in range(B):
        L_out[0, b] = alpha[b] * L[0, b] + anchor[0, b] + beta[b] * scores[0, b]
        top[b] = L_out[0, b]
    for k in range(1, K):
        for b in range(B):
            L_out[k, b] = alpha[b] * L[k, b] + anchor[k, b] + beta[b] * scores[k, b]
            top[b] = max(top[b], L_out[k, b])
    for b in range(B):  # _normalise, fused with the shift
        L_out[0, b] -= top[b]
        pi_out[0, b] = exp(L_out[0, b])
        total_out[b] = pi_out[0, b]
    for k in range(1, K):
        for b in range(B):
            L_out[k, b] -= top[b]
            pi_out[k, b] = exp(L_out[k, b])
            total_out[b] += pi_out[k, b]
    for k in range(K):
        for b in range(B):
            pi_out[k, b] /= total_out[b]


@njit(**JIT)
def _record(L: np.ndarray, total: np.ndarray, out: np.ndarray) -> None:
    """``out[b, k] = log π_k = L_k - log total`` for the block's trajectories ``b``."""
    K, B = L.shape
    for b in range(B):
        shift = math.log(total[b])
        for k in range(K):
            out[b, k] = L[k, b] - shift


@njit(**JIT)
def _advance(kind: int, P: np.ndarray, p_index: np.ndarray, alpha: np.ndarray, beta: np.ndarray, lam: np.ndarray,
             log_ref: np.ndarray, ref_index: np.ndarray, pi0: np.ndarray, pi0_index: np.ndarray,
             log_init: np.ndarray, init_index: np.ndarray, b0: int, b1: int, steps: int, times: np.ndarray,
             burn: int, tol: float, max_iter: int, out: np.ndarray, previous: np.ndarray,
             strength: np.ndarray) -> tuple[int, int, int, float]:
    """Advance the trajectories ``b0..b1`` through ``steps`` rounds of ``kind``.

    Writes the log-policies of the rounds ``times`` into ``out[b, r]``, the log-policy of round
    ``steps - 1`` into ``previous[b]``, and the cycle strength (mean over responses of the variance
    of ``π_t,k`` over the rounds ``burn..steps``, by Welford's online update) into ``strength[b]``.
    Returns (0, 0, 0, 0) or, if a DPO solve fails, (round, trajectory, failure code, residual).
    """
    K = P.shape[1]
    B = b1 - b0
    a, be, lm = alpha[b0:b1], beta[b0:b1], lam[b0:b1]
    anchor, offline = np.empty((K, B)), np.empty((K, B))
    L, pi, total = np.empty((K, B)), np.empty((K, B)), np.empty(B)
    L2, pi2, total2 = np.empty((K, B)), np.empty((K, B)), np.empty(B)
    mu, score, top = np.empty((K, B)), np.empty((K, B)), np.empty(B)
    mean, m2 = np.zeros((K, B)), np.zeros((K, B))
    for b in range(B):
        r, q, s = ref_index[b0 + b], pi0_index[b0 + b], init_index[b0 + b]
        start_max = log_init[s, 0]
        for k in range(1, K):
            start_max = max(start_max, log_init[s, k])
        for k in range(K):
            anchor[k, b] = (1.0 - a[b]) * log_ref[r, k]
            offline[k, b] = (1.0 - lm[b]) * pi0[q, k]
            L[k, b] = log_init[s, k] - start_max
    _normalise(L, pi, total)
    shared = P.shape[0] == 1
    dpo = kind == DPO
    PB, N = np.empty((K, K, 0 if shared and not dpo else B)), np.empty((K, K, B if dpo else 0))
    if dpo:
        _block_matrices(P, p_index[b0:b1], PB, N)
    elif PB.shape[2]:
        for b in range(B):
            PB[:, :, b] = P[p_index[b0 + b]]
    work = _block_workspace(K, B if dpo else 0)
    on_policy = True
    for b in range(B):
        on_policy = on_policy and lm[b] == 1.0
    r = 0
    for t in range(steps + 1):
        if t > 0:
            if on_policy:
                mu = pi
            else:
                _sampler(lm, pi, offline, mu)
            if kind == IPO:
                _ipo_scores(P, PB, mu, score)
            else:
                code, where, residual = _solve_block_in(PB, N, mu, score, t > 1, tol, max_iter, work)
                if code < 0:
                    return t, b0 + where, code, residual
            _finish(a, be, L, anchor, score, L2, pi2, total2, top)
            L, L2 = L2, L
            pi, pi2 = pi2, pi
            total, total2 = total2, total
        if t == times[r]:
            _record(L, total, out[b0:b1, r])
            r += 1
        if t >= burn:
            weight = 1.0 / (t - burn + 1)
            for k in range(K):
                for b in range(B):
                    d = pi[k, b] - mean[k, b]
                    mean[k, b] += d * weight
                    m2[k, b] += d * (pi[k, b] - mean[k, b])
        if t == steps - 1:
            _record(L, total, previous[b0:b1])
    for b in range(B):
        acc = m2[0, b]
        for k in range(1, K):
            acc += m2[k, b]
        strength[b0 + b] = acc / K / (steps - burn + 1)
    return 0, 0, 0, 0.0


@njit(**JIT)
def run(kind: int, P: np.ndarray, p_index: np.ndarray, alpha: np.ndarray, beta: np.ndarray, lam: np.ndarray,
        log_ref: np.ndarray, ref_index: np.ndarray, pi0: np.ndarray, pi0_index: np.ndarray, log_init: np.ndarray,
        init_index: np.ndarray, steps: int, times: np.ndarray, burn: int, block: int, tol: float, max_iter: int,
        out: np.ndarray, previous: np.ndarray, strength: np.ndarray) -> tuple[int, int, int, float]:
    """:func:`_advance` on every block of ``block`` trajectories in turn; stops at the first failure."""
    n = alpha.size
    for b0 in range(0, n, block):
        failure = _advance(kind, P, p_index, alpha, beta, lam, log_ref, ref_index, pi0, pi0_index, log_init,
                           init_index, b0, min(n, b0 + block), steps, times, burn, tol, max_iter, out, previous,
                           strength)
        if failure[0]:
            return failure
    return 0, 0, 0, 0.0
