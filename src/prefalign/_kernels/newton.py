"""DPO's Newton solver, compiled (driven by :mod:`prefalign.dpo`, whose docstrings state the problem):
:func:`_solve` for one problem, :func:`_solve_block_in` for a block of problems vectorised across
them, bit for bit the same numbers, and the batch drivers."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from prefalign._kernels.elementary import JIT, exp

_ARMIJO = 1e-4
_HALVINGS = 60
_LEVENBERG = 1e-6
_FLOOR = 1e-13
"""The regularisation ``τ_i = 1e-6 max|G| + 1e-13 J_ii`` added to the diagonal of the Newton system."""
_MAX_STEP = 4.0
"""Largest change of a score in one Newton step: beyond a few units σ is flat, and a longer step
can land where ``σ'`` underflows and Newton's next step is useless."""

# The compiled solver works on one problem at a time (``P`` (K, K), ``μ`` (K,), scores ``x`` (K,)),
# with sums in a fixed order, so a problem's answer never depends on the batch it is solved in.
# Scratch: ``M`` (5, K, K) holds σ(x_i - x_j), σ'(x_i - x_j), the Newton matrix, and σ, σ' at a
# trial point; ``v`` (5, K) holds G, the step, the trial scores, their G, and a spare row.


@njit(**JIT)
def _setup(P: np.ndarray, mu: np.ndarray, NM: np.ndarray, target: np.ndarray) -> int:
    """``NM_ij = (P_ij + P_ji) μ_j``, ``target_i = (Pμ)_i`` (summed over j in order); returns the ground
    ``g``, the first response with the largest μ."""
    K = mu.size
    ground = 0
    for i in range(K):
        acc = P[i, 0] * mu[0]
        for j in range(1, K):
            acc += P[i, j] * mu[j]
        target[i] = acc
        for j in range(K):
            NM[i, j] = (P[i, j] + P[j, i]) * mu[j]
        if mu[i] > mu[ground]:
            ground = i
    return ground


@njit(**JIT)
def _evaluate(x: np.ndarray, NM: np.ndarray, target: np.ndarray, S: np.ndarray, slope: np.ndarray,
              G: np.ndarray) -> float:
    """At scores ``x``: ``S_ij = σ(x_i - x_j)`` (``S_ii = ½``), ``slope_ij = σ'(x_i - x_j)`` (0 on the
    diagonal), ``G_i = Σ_j NM_ij S_ij - target_i``; returns ``‖G‖²``. ``σ(±d)`` come from one
    ``e = exp(-|d|)`` as ``1/(1+e)`` and ``e/(1+e)``: no cancellation, no overflow."""
    K = x.size
    for i in range(K):
        S[i, i] = 0.5
        slope[i, i] = 0.0
        for j in range(i + 1, K):
            d = x[i] - x[j]
            e = exp(-abs(d))
            big = 1.0 / (1.0 + e)
            small = e * big
            if d >= 0.0:
                S[i, j], S[j, i] = big, small
            else:
                S[i, j], S[j, i] = small, big
            slope[i, j] = slope[j, i] = big * small
    merit = 0.0
    for i in range(K):
        acc = NM[i, 0] * S[i, 0]
        for j in range(1, K):
            acc += NM[i, j] * S[i, j]
        G[i] = acc - target[i]
        merit += G[i] * G[i]
    return merit


@njit(**JIT)
def _score_loss(x: np.ndarray, P: np.ndarray, mu: np.ndarray) -> float:
    """``-Σ_{i<j} μ_i μ_j (P_ij log σ(x_i - x_j) + P_ji log σ(x_j - x_i))``: the loss in the scores."""
    K = x.size
    acc = 0.0
    for i in range(K):
        for j in range(i + 1, K):
            d = x[i] - x[j]
            soft = math.log1p(exp(-abs(d)))
            log_up = -soft if d >= 0.0 else d - soft  # log σ(d); log σ(-d) = log σ(d) - d
            pair = mu[i] * mu[j]
            acc += pair * P[i, j] * log_up + pair * P[j, i] * (log_up - d)
    return -acc


@njit(**JIT)
def _newton_step(G: np.ndarray, slope: np.ndarray, NM: np.ndarray, ground: int, J: np.ndarray,
                 step: np.ndarray) -> None:
    """The regularised Newton step ``δ``: ``(J + diag(τ)) δ = -G`` off the ground ``g`` and ``δ_g = 0``,
    with ``J = ∂G/∂x`` and ``τ_i = 1e-6 max|G| + 1e-13 J_ii``.

    ``J_ik = δ_ik Σ_j N_ij μ_j σ'_ij - N_ik μ_k σ'_ik`` has ``J1 = 0`` and ``μᵀJ = 0``; since
    ``μᵀG = 0`` too, row ``g`` may be replaced by ``δ_g = 0`` (a gauge). The system is diagonally
    dominant by rows and nonsingular, so Gaussian elimination needs no pivoting (growth factor
    at most 2). ``τ`` (a small Levenberg–Marquardt term) keeps every pivot positive where ``σ'``
    between groups of responses is below the rounding of ``J``; it is negligible at the solution,
    so convergence stays quadratic. With ``diag(μ)J`` the loss Hessian, ``δ`` is a descent
    direction of the loss. ``J`` is overwritten.
    """
    K = G.size
    largest = 0.0
    for i in range(K):
        largest = max(largest, abs(G[i]))
    for i in range(K):
        diagonal = 0.0
        for j in range(K):
            w = slope[i, j] * NM[i, j]
            J[i, j] = -w
            diagonal += w
        J[i, i] = diagonal * (1.0 + _FLOOR) + _LEVENBERG * largest
        step[i] = -G[i]
    for j in range(K):
        J[ground, j] = 0.0
    J[ground, ground] = 1.0
    step[ground] = 0.0
    for p in range(K - 1):
        for r in range(p + 1, K):
            f = J[r, p] / J[p, p]
            for c in range(p + 1, K):
                J[r, c] -= f * J[p, c]
            step[r] -= f * step[p]
    for p in range(K - 1, -1, -1):
        if p + 1 < K:
            acc = J[p, p + 1] * step[p + 1]
            for c in range(p + 2, K):
                acc += J[p, c] * step[c]
            step[p] -= acc
        step[p] /= J[p, p]


@njit(**JIT)
def _residual(G: np.ndarray) -> float:
    out = 0.0
    for i in range(G.size):
        out = max(out, abs(G[i]))
    return out


@njit(**JIT)
def _newton(P: np.ndarray, mu: np.ndarray, x: np.ndarray, NM: np.ndarray, target: np.ndarray, ground: int,
            M: np.ndarray, v: np.ndarray, merit: float, tol: float, max_iter: int, cap: float,
            steps: int) -> tuple[int, float]:
    """Damped Newton from ``x`` (overwritten with the solution), whose ``G``, ``σ'`` and ``‖G‖²`` are in
    ``v[0]``, ``M[1]`` and ``merit``, with step cap ``cap`` after ``steps`` steps taken (a fresh start:
    :data:`_MAX_STEP`, 0). Returns (steps taken, or -1 if ``max_iter`` steps did not reach
    ``tol`` and -2 if the line search stalled; the residual ``max|G|`` reached).

    The step (:func:`_newton_step`), shortened to change no score by more than a cap, is halved until
    ``‖G‖²`` decreases by the Armijo fraction ``1e-4`` or the loss decreases by that fraction of its
    predicted decrease (up to a slack of ``1e-12 (1 + |loss|)`` for rounding). The cap starts at
    :data:`_MAX_STEP` and doubles after every capped step taken whole (the line search found the
    longer step good), back to :data:`_MAX_STEP` after a halving.
    """
    K = x.size
    slope, J, S_trial, slope_trial = M[1], M[2], M[3], M[4]
    G, step, trial, G_trial = v[0], v[1], v[2], v[3]
    residual = _residual(G)
    while residual > tol:
        if steps == max_iter:
            return -1, residual
        steps += 1
        _newton_step(G, slope, NM, ground, J, step)
        predicted = 0.0  # ∇L · δ = Σ_i μ_i G_i δ_i < 0
        longest = 0.0
        for i in range(K):
            predicted += mu[i] * G[i] * step[i]
            longest = max(longest, abs(step[i]))
        t = cap / max(longest, cap)
        loss = np.nan
        accepted = False
        for halving in range(_HALVINGS):
            for i in range(K):
                trial[i] = x[i] + t * step[i]
            new_merit = _evaluate(trial, NM, target, S_trial, slope_trial, G_trial)
            accepted = new_merit <= (1.0 - _ARMIJO * t) * merit
            if not accepted:
                if halving == 0:
                    loss = _score_loss(x, P, mu)
                accepted = _score_loss(trial, P, mu) <= loss + _ARMIJO * t * predicted + 1e-12 * (1.0 + abs(loss))
            if accepted:
                cap = 2.0 * cap if halving == 0 and longest > cap else (_MAX_STEP if halving else cap)
                break
            t *= 0.5
        if not accepted:
            return -2, residual
        x[:] = trial
        G[:] = G_trial
        slope[:, :] = slope_trial
        merit = new_merit
        residual = _residual(G)
    return steps, residual


@njit(**JIT)
def _start(mu: np.ndarray, target: np.ndarray, x: np.ndarray, spare: np.ndarray) -> None:
    """Newton's default start into ``x``: ``y + c`` with ``y = 4Pμ`` (IPO's scores at 4β divided by
    β) and the cubic correction ``c`` (:func:`_cubic_terms`); ``spare`` (K,) is scratch."""
    K = mu.size
    for i in range(K):
        x[i] = 4.0 * target[i]
    _cubic_terms(x, mu, spare)
    for i in range(K):
        x[i] += spare[i]


@njit(**JIT)
def _cubic_terms(y: np.ndarray, mu: np.ndarray, c: np.ndarray) -> None:
    """``c_i = (1/12) Σ_j μ_j (y_i - y_j)³`` (summed over j in order) into ``c``."""
    K = y.size
    for i in range(K):
        acc = 0.0
        for j in range(K):
            d = y[i] - y[j]
            acc += d * d * d * mu[j]
        c[i] = acc / 12.0


@njit(**JIT)
def _solve(P: np.ndarray, mu: np.ndarray, starts: np.ndarray, x: np.ndarray, NM: np.ndarray, target: np.ndarray,
           M: np.ndarray, v: np.ndarray, tol: float, max_iter: int) -> tuple[int, float]:
    """One problem: the scores ``x*(μ)`` into ``x`` (centred), from the first of the candidate starts
    ``starts`` (c, K) that already solves it to ``tol``, else the one with the smallest ``‖G‖²``. A
    candidate row of NaN stands for :func:`_start` (computed only if needed). Returns
    (steps or failure code, residual) as :func:`_newton`."""
    K = mu.size
    if K == 1:
        x[0] = 0.0
        return 0, 0.0
    ground = _setup(P, mu, NM, target)
    slope, S_trial, slope_trial = M[1], M[3], M[4]
    G, trial, G_trial = v[0], v[2], v[3]
    merit = np.inf
    for c in range(starts.shape[0]):
        if np.isnan(starts[c, 0]):
            _start(mu, target, trial, v[4])
        else:
            trial[:] = starts[c]
        m = _evaluate(trial, NM, target, S_trial, slope_trial, G_trial)
        if m < merit:
            merit = m
            x[:] = trial
            G[:] = G_trial
            slope[:, :] = slope_trial
            if _residual(G) <= tol:
                break
    code, residual = _newton(P, mu, x, NM, target, ground, M, v, merit, tol, max_iter, _MAX_STEP, 0)
    mean = 0.0
    for i in range(K):
        mean += x[i]
    mean /= K
    for i in range(K):
        x[i] -= mean
    return code, residual


@njit(**JIT)
def _fit_batch(P: np.ndarray, p_index: np.ndarray, mu: np.ndarray, starts: np.ndarray, tol: float, max_iter: int,
               x: np.ndarray, residual: np.ndarray, code: np.ndarray) -> None:
    """:func:`_solve` for each problem ``b``: ``P[p_index[b]]`` (K, K), ``mu[b]`` (K,), ``starts[:, b]``
    (c, K); scores into ``x[b]``, residuals and codes into ``residual[b]``, ``code[b]``."""
    n, K = mu.shape
    NM, target = np.empty((K, K)), np.empty(K)
    M, v = np.empty((5, K, K)), np.empty((5, K))
    cand = np.empty((starts.shape[0], K))
    for b in range(n):
        cand[:, :] = starts[:, b]
        code[b], residual[b] = _solve(P[p_index[b]], mu[b], cand, x[b], NM, target, M, v, tol, max_iter)


@njit(**JIT)
def _evaluate_block(x: np.ndarray, NM: np.ndarray, target: np.ndarray, S: np.ndarray, slope: np.ndarray,
                    G: np.ndarray, merit: np.ndarray, nb: int) -> None:
    """:func:`_evaluate` for the first ``nb`` problems of a block stored along the last axis (``x`` (K, B),
    ``NM`` (K, K, B), ...), the same operations in the same order for each problem, vectorised across problems."""
    K = x.shape[0]
    for i in range(K):
        for b in range(nb):
            S[i, i, b] = 0.5
            slope[i, i, b] = 0.0
        for j in range(i + 1, K):
            for b in range(nb):
                d = x[i, b] - x[j, b]
                e = exp(-abs(d))
                big = 1.0 / (1.0 + e)
                small = e * big
                up = big if d >= 0.0 else small
                S[i, j, b] = up
                S[j, i, b] = small if d >= 0.0 else big
                slope[i, j, b] = big * small
                slope[j, i, b] = big * small
    for b in range(nb):
        merit[b] = 0.0
    for i in range(K):
        for b in range(nb):
            G[i, b] = NM[i, 0, b] * S[i, 0, b]
        for j in range(1, K):
            for b in range(nb):
                G[i, b] += NM[i, j, b] * S[i, j, b]
        for b in range(nb):
            G[i, b] -= target[i, b]
            merit[b] += G[i, b] * G[i, b]


@njit(**JIT)
def _newton_step_block(G: np.ndarray, slope: np.ndarray, NM: np.ndarray, ground: np.ndarray, J: np.ndarray,
                       step: np.ndarray, largest: np.ndarray, f: np.ndarray, nb: int) -> None:
    """:func:`_newton_step` for the first ``nb`` problems of a block stored along the last axis, vectorised across
    problems (every loop over problems innermost; ``f`` (B,) is scratch)."""
    K = G.shape[0]
    for b in range(nb):
        largest[b] = 0.0
    for i in range(K):
        for b in range(nb):
            largest[b] = max(largest[b], abs(G[i, b]))
    for i in range(K):
        for b in range(nb):
            J[i, i, b] = 0.0  # the running sum of the row, until it becomes the diagonal
        for j in range(K):
            for b in range(nb):
                w = slope[i, j, b] * NM[i, j, b]
                if j != i:
                    J[i, j, b] = -w
                J[i, i, b] += w
        for b in range(nb):
            J[i, i, b] = J[i, i, b] * (1.0 + _FLOOR) + _LEVENBERG * largest[b]
            step[i, b] = -G[i, b]
    for b in range(nb):
        g = ground[b]
        for j in range(K):
            J[g, j, b] = 0.0
        J[g, g, b] = 1.0
        step[g, b] = 0.0
    for p in range(K - 1):
        for r in range(p + 1, K):
            for b in range(nb):
                f[b] = J[r, p, b] / J[p, p, b]
            for c in range(p + 1, K):
                for b in range(nb):
                    J[r, c, b] -= f[b] * J[p, c, b]
            for b in range(nb):
                step[r, b] -= f[b] * step[p, b]
    for p in range(K - 1, -1, -1):
        if p + 1 < K:
            for b in range(nb):
                f[b] = J[p, p + 1, b] * step[p + 1, b]
            for c in range(p + 2, K):
                for b in range(nb):
                    f[b] += J[p, c, b] * step[c, b]
            for b in range(nb):
                step[p, b] -= f[b]
        for b in range(nb):
            step[p, b] /= J[p, p, b]


@njit(**JIT)
def _max_abs(G: np.ndarray, out: np.ndarray, nb: int) -> None:
    """``out[b] = max_i |G[i, b]|`` (the residual of :func:`_residual`) for the first ``nb`` columns."""
    for b in range(nb):
        out[b] = 0.0
    for i in range(G.shape[0]):
        for b in range(nb):
            out[b] = max(out[b], abs(G[i, b]))


@njit(**JIT)
def _take(mask: np.ndarray, x: np.ndarray, G: np.ndarray, merit: np.ndarray, slope: np.ndarray, x_to: np.ndarray,
          G_to: np.ndarray, merit_to: np.ndarray, slope_to: np.ndarray, nb: int) -> None:
    """Where ``mask[b]`` (``b < nb``), copy the point ``x[:, b]`` with its ``G``, ``‖G‖²`` and ``σ'`` into the ``_to`` arrays."""
    K = x.shape[0]
    for i in range(K):
        for b in range(nb):
            if mask[b]:
                x_to[i, b] = x[i, b]
                G_to[i, b] = G[i, b]
        for j in range(K):
            for b in range(nb):
                if mask[b]:
                    slope_to[i, j, b] = slope[i, j, b]
    for b in range(nb):
        if mask[b]:
            merit_to[b] = merit[b]


@njit(**JIT)
def _finish_columns(x: np.ndarray, cx: np.ndarray, G: np.ndarray, NM: np.ndarray, slope: np.ndarray, target: np.ndarray,
                    cmu: np.ndarray, merit: np.ndarray, ground: np.ndarray, cap: np.ndarray, steps: np.ndarray,
                    index: np.ndarray, residual: np.ndarray, done: np.ndarray, nb: int, tol: float) -> int:
    """The bookkeeping of :func:`_solve_block_in` after a Newton step: the columns ``c < nb`` that are
    finished (residual ``max|G| <= tol``, or solved alone: ``done[c]`` False) write their scores to
    ``x[:, index[c]]``; the others move, in order, to the front. Returns how many still run."""
    K = cx.shape[0]
    _max_abs(G, residual, nb)
    keep = 0
    for c in range(nb):
        if done[c] and residual[c] > tol:
            if keep != c:
                for i in range(K):
                    for j in range(K):
                        NM[i, j, keep] = NM[i, j, c]
                        slope[i, j, keep] = slope[i, j, c]
                    cx[i, keep], G[i, keep], target[i, keep], cmu[i, keep] = cx[i, c], G[i, c], target[i, c], cmu[i, c]
                merit[keep], ground[keep], cap[keep], steps[keep], index[keep] = merit[c], ground[c], cap[c], steps[c], index[c]
            keep += 1
        else:
            for i in range(K):
                x[i, index[c]] = cx[i, c]
    return keep


@njit(**JIT)
def _block_workspace(K: int, B: int) -> tuple:
    """Scratch arrays of :func:`_solve_block_in` for blocks of up to ``B`` problems with ``K`` responses,
    allocated once per block of trajectories (not once per round)."""
    return (np.empty((6, K, K, B)), np.empty((7, K, B)), np.empty((6, B)), np.empty((3, B), dtype=np.int64),
            np.empty((2, B), dtype=np.bool_), np.empty((5, K, K)), np.empty((5, K)), np.empty((2, K, K)), np.empty((3, K)))


@njit(**JIT)
def _solve_block(P: np.ndarray, p_index: np.ndarray, mu: np.ndarray, x: np.ndarray, warm: bool, tol: float,
                 max_iter: int) -> tuple[int, int, float]:
    """:func:`_solve_block_in` for the problems ``P[p_index[b]]``, ``mu[:, b]``, with its own scratch arrays."""
    K, B = mu.shape
    PB, N = np.empty((K, K, B)), np.empty((K, K, B))
    _block_matrices(P, p_index, PB, N)
    return _solve_block_in(PB, N, mu, x, warm, tol, max_iter, _block_workspace(K, B))


@njit(**JIT)
def _block_matrices(P: np.ndarray, p_index: np.ndarray, PB: np.ndarray, N: np.ndarray) -> None:
    """``PB[:, :, b] = P[p_index[b]]`` and ``N[:, :, b] = P + Pᵀ`` of it: a block's matrices, response-first."""
    K, B = PB.shape[0], PB.shape[2]
    for i in range(K):
        for j in range(K):
            for b in range(B):
                m = p_index[b]
                PB[i, j, b] = P[m, i, j]
                N[i, j, b] = P[m, i, j] + P[m, j, i]


@njit(**JIT)
def _solve_block_in(PB: np.ndarray, N: np.ndarray, mu: np.ndarray, x: np.ndarray, warm: bool, tol: float,
                    max_iter: int, work: tuple) -> tuple[int, int, float]:
    """:func:`_solve` for a block of problems ``b`` (``P = PB[:, :, b]``, ``N = P + Pᵀ = N[:, :, b]``,
    ``mu[:, b]``; :func:`_block_matrices`), scores into ``x``
    (K, B), which holds the warm starts when ``warm`` (candidates: ``x[:, b]``, then the default start)
    and is ignored otherwise (the default start alone); ``work`` is :func:`_block_workspace`.

    Every problem's result is bit for bit that of :func:`_solve`. The warm starts are evaluated for
    the whole block at once, vectorised; the problems they do not solve to ``tol`` (at a fixed point
    of the dynamics, none) are moved to the front of the scratch arrays, and only for them is the
    default start computed and the Newton iteration run, vectorised across the problems still
    running, which are moved to the front again after every step (:func:`_finish_columns`). A
    step taken whole is the step of :func:`_newton` whose whole (capped) step passes the ``‖G‖²``
    test; a problem whose step fails it (the line search needs the loss or a halving) continues
    alone in :func:`_newton` from where it is. Returns (0, 0, 0) or, for the first failed problem,
    (failure code, problem, residual).
    """
    K, B = mu.shape
    if K == 1:
        x[0, :] = 0.0
        return 0, 0, 0.0
    cubes, rows, lines, ints, flags, M, v, mats, vecs = work
    NM, S, slope, S2, slope2, J = cubes[0], cubes[1], cubes[2], cubes[3], cubes[4], cubes[5]
    target, G, G2, trial, step, cx, cmu = rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6]
    merit, merit2, largest, length, cap, spare_line = lines[0], lines[1], lines[2], lines[3], lines[4], lines[5]
    ground, steps, index = ints[0], ints[1], ints[2]
    better, accept = flags[0], flags[1]
    Pb, NMb = mats[0], mats[1]
    tb, mub, spare = vecs[0], vecs[1], vecs[2]
    # _setup, vectorised across the block (the same operations in the same order)
    for i in range(K):
        for j in range(K):
            for b in range(B):
                NM[i, j, b] = N[i, j, b] * mu[j, b]
        for b in range(B):
            target[i, b] = PB[i, 0, b] * mu[0, b]
        for j in range(1, K):
            for b in range(B):
                target[i, b] += PB[i, j, b] * mu[j, b]
    for b in range(B):
        ground[b] = 0
    for k in range(1, K):
        for b in range(B):
            if mu[k, b] > mu[ground[b], b]:
                ground[b] = k
    # the problems the warm start does not solve, moved to the front (columns 0..na-1; index[c] is the problem)
    na = 0
    if warm:
        _evaluate_block(x, NM, target, S, slope, G, merit, B)
        _max_abs(G, largest, B)
        for b in range(B):
            if largest[b] > tol:
                index[na] = b
                na += 1
        for c in range(na):
            b = index[c]
            if b != c:
                for i in range(K):
                    for j in range(K):
                        NM[i, j, c] = NM[i, j, b]
                        slope[i, j, c] = slope[i, j, b]
                    target[i, c], G[i, c] = target[i, b], G[i, b]
                merit[c], ground[c] = merit[b], ground[b]
    else:
        for b in range(B):
            index[b] = b
        na = B
    for k in range(K):
        for c in range(na):
            cmu[k, c] = mu[k, index[c]]
            cx[k, c] = x[k, index[c]]
    for c in range(na):
        cap[c] = _MAX_STEP
        steps[c] = 0
    # the default start (_start), vectorised across them
    for i in range(K):
        for c in range(na):
            step[i, c] = 4.0 * target[i, c]
    for i in range(K):
        for c in range(na):
            trial[i, c] = 0.0
        for j in range(K):
            for c in range(na):
                d = step[i, c] - step[j, c]
                trial[i, c] += d * d * d * cmu[j, c]
        for c in range(na):
            trial[i, c] = step[i, c] + trial[i, c] / 12.0
    if warm:
        _evaluate_block(trial, NM, target, S2, slope2, G2, merit2, na)
        for c in range(na):
            better[c] = merit2[c] < merit[c]
        _take(better, trial, G2, merit2, slope2, cx, G, merit, slope, na)
    else:
        cx[:, :na] = trial[:, :na]
        _evaluate_block(cx, NM, target, S, slope, G, merit, na)
    # Newton, vectorised across the columns 0..na-1 still running, compacted as problems finish
    accept[:na] = True
    na = _finish_columns(x, cx, G, NM, slope, target, cmu, merit, ground, cap, steps, index, largest, accept, na, tol)
    while na:
        for c in range(na):
            if steps[c] == max_iter:
                return -1, index[c], _residual(G[:, c])
        _newton_step_block(G, slope, NM, ground, J, step, largest, spare_line, na)
        _max_abs(step, largest, na)
        for c in range(na):
            length[c] = cap[c] / max(largest[c], cap[c])
        for i in range(K):
            for c in range(na):
                trial[i, c] = cx[i, c] + length[c] * step[i, c]
        _evaluate_block(trial, NM, target, S2, slope2, G2, merit2, na)
        for c in range(na):
            accept[c] = merit2[c] <= (1.0 - _ARMIJO * length[c]) * merit[c]
            if accept[c]:
                steps[c] += 1
                cap[c] = 2.0 * cap[c] if largest[c] > cap[c] else cap[c]
        _take(accept, trial, G2, merit2, slope2, cx, G, merit, slope, na)
        for c in range(na):
            if not accept[c]:  # the whole step fails the ‖G‖² test: the line search needs the loss, alone
                for k in range(K):
                    mub[k] = cmu[k, c]
                    spare[k] = cx[k, c]
                    v[0, k] = G[k, c]
                    tb[k] = target[k, c]
                    for j in range(K):
                        M[1, k, j] = slope[k, j, c]
                        Pb[k, j] = PB[k, j, index[c]]
                        NMb[k, j] = NM[k, j, c]
                code, residual = _newton(Pb, mub, spare, NMb, tb, ground[c], M, v, merit[c], tol, max_iter, cap[c],
                                         steps[c])
                if code < 0:
                    return code, index[c], residual
                for k in range(K):
                    cx[k, c] = spare[k]
        na = _finish_columns(x, cx, G, NM, slope, target, cmu, merit, ground, cap, steps, index, largest, accept, na,
                             tol)
    for b in range(B):
        mean = 0.0
        for i in range(K):
            mean += x[i, b]
        mean /= K
        for i in range(K):
            x[i, b] -= mean
    return 0, 0, 0.0


@njit(**JIT)
def _start_batch(P: np.ndarray, p_index: np.ndarray, mu: np.ndarray, out: np.ndarray) -> None:
    n, K = mu.shape
    NM, target, spare = np.empty((K, K)), np.empty(K), np.empty(K)
    for b in range(n):
        _setup(P[p_index[b]], mu[b], NM, target)
        _start(mu[b], target, out[b], spare)


@njit(**JIT)
def _cubic_batch(y: np.ndarray, mu: np.ndarray, out: np.ndarray) -> None:
    for b in range(y.shape[0]):
        _cubic_terms(y[b], mu[b], out[b])
