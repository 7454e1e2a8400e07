"""DPO's population optimum: no closed form, found by Newton's method on a convex loss.

Convention (the whole package): β is the strength of the preference signal relative to the KL
anchor; the implicit reward ``r = log(π/π_ref)`` scales with β. DPO as written by Rafailov et al.
and in TRL uses ``β_TRL = 1/β``.

For a preference matrix ``P``, a full-support sampler ``μ`` and a reference ``π_ref``:

* population loss  ``L(r; μ) = -Σ_{i,j} μ_i μ_j P[i,j] log σ((r_i - r_j)/β)``;
* first-order conditions  ``Σ_j μ_j σ((r_i - r_j)/β) = (P μ)_i`` for every ``i``;
* optimum  ``π* ∝ π_ref ⊙ exp(r*)``.

The loss depends on ``r`` only through the **scores** ``x = r/β``: it is the negative
log-likelihood of the Bradley–Terry model with scores ``x`` for comparisons won by ``i`` against
``j`` with (fractional) counts ``w_ij = μ_i μ_j P[i,j]``. So ``r* = β x*(μ)``, where ``x*(μ)`` are
the Bradley–Terry scores fitted to the μ-weighted comparisons; they do not depend on β or
``π_ref``. The loss is convex, strictly on ``1^⊥``, and has a finite minimiser iff the graph with
an edge ``i → j`` whenever ``P[i,j] > 0`` is strongly connected (no group of responses beats all
the others with probability 1) — Zermelo's and Ford's condition; ``P`` in (0, 1) suffices.

Layout. :func:`fit_scores` is the one Newton solver, for a batch stored response-first
(``(K, n)``, as in :mod:`prefalign.dynamics`); :func:`log_optimum` and :func:`implicit_reward`
wrap it for batch-last arrays ``(..., K)``. It solves the gradient equation
``G_i = Σ_j μ_j (N_ij σ(x_i - x_j) - P_ij) = 0`` with ``N = P + Pᵀ``, which is the first-order
condition above when ``P + Pᵀ = 1`` exactly and stays consistent (``μᵀG = 0``) when ``P`` satisfies
it only to rounding. Every operation is elementwise across the batch or a sum in a fixed order,
so a problem's solution does not depend on the batch it is solved in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize
from scipy.special import expit, logit, logsumexp

from prefalign import preferences, problem, validation

MAX_ITER = 200
"""Newton steps :func:`fit_scores` takes at most (typically 3 to 10 from a cold start, 0 to 4 warm)."""

_ARMIJO = 1e-4
_HALVINGS = 60
_LEVENBERG = 1e-6
_FLOOR = 1e-13
"""The regularisation ``τ_i = 1e-6 max|G| + 1e-13 J_ii`` added to the diagonal of the Newton system."""
_MAX_STEP = 4.0
"""Largest change of a score in one Newton step: beyond a few units σ is flat, and a longer step
can land where ``σ'`` underflows and Newton's next step is useless."""


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return -np.logaddexp(0.0, -x)


def _inputs(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None, beta: ArrayLike):
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    problem.require_full_support(m)
    return Q, m, r, b


# --------------------------------------------------------------------------- existence


def _reach(P: np.ndarray) -> np.ndarray:
    """``R[..., x, y]``: response ``y`` can be reached from ``x`` along edges ``i → j`` with ``P[i, j] > 0``."""
    K = P.shape[-1]
    reach = ((P > 0) | np.eye(K, dtype=bool)).astype(np.int64)
    for _ in range(max(1, int(np.ceil(np.log2(K))))):
        reach = ((reach @ reach) > 0).astype(np.int64)
    return reach > 0


def dominating_set(P: np.ndarray) -> list[int] | None:
    """A set of responses that beats every other response with probability 1, or ``None``.

    ``P`` is a single validated ``K x K`` matrix. Returns ``T`` (sorted) such that
    ``P[t, o] = 1`` for every ``t ∈ T`` and ``o ∉ T``, if one exists; then DPO has no finite
    optimum for any full-support sampler (the log-ratios of ``T`` grow without bound). It exists
    iff the graph with edges ``i → j`` for ``P[i, j] > 0`` is not strongly connected: ``T`` is the
    set of responses that some response cannot reach.
    """
    reach = _reach(P)
    for x in range(P.shape[0]):
        if not reach[x].all():
            return sorted(int(o) for o in np.flatnonzero(~reach[x]))
    return None


def has_optimum(P: ArrayLike) -> np.ndarray:
    """Whether DPO has a finite optimum for full-support samplers: the graph ``i → j`` (``P[i, j] > 0``)
    is strongly connected. ``P`` ``(..., K, K)``; returns a boolean array of the batch shape."""
    return _reach(preferences.validate(P)).all(axis=(-2, -1))


def check_optimum_exists(P: ArrayLike) -> None:
    """Raise ``ValueError`` naming a dominating set (and the batch index) if some matrix of ``P``
    (``(..., K, K)``) has no finite DPO optimum; see :func:`has_optimum`."""
    Q = preferences.validate(P)
    ok = _reach(Q).all(axis=(-2, -1))
    if not np.all(ok):
        index = np.unravel_index(np.argmin(ok), ok.shape) if ok.ndim else ()
        where = f" (batch index {validation.fmt_index(index)})" if index else ""
        T = dominating_set(Q[index])
        raise ValueError(
            f"P has no finite DPO optimum{where}: responses {T} beat every other response with probability 1 "
            "(P[t, o] = 1), so the loss keeps decreasing as their log-ratios grow without bound and the "
            "first-order residual vanishes only in that limit"
        )


# --------------------------------------------------------------------------- the Newton solver


def _seqsum(a: np.ndarray) -> np.ndarray:
    """``Σ_k a[k]`` by sequential additions along axis 0: the same order for every batch size, unlike
    ``sum``, which adds pairwise along contiguous axes. (A loop for a few terms, an accumulation for
    many: the same arithmetic.)"""
    if a.shape[0] > 8:
        return np.add.accumulate(a, axis=0)[-1]
    out = a[0].copy()
    for k in range(1, a.shape[0]):
        out += a[k]
    return out


class _Fit:
    """The data of a batch of score fits, response-first (problems along the last axis)."""

    def __init__(self, P: np.ndarray, mu: np.ndarray):
        K, n = mu.shape
        self.iu = np.triu_indices(K, 1)
        self.lo = (self.iu[1], self.iu[0])
        self.diag = np.arange(K)
        P = np.broadcast_to(P, (K, K, n))
        self.mu = mu
        self.NM = (P + P.transpose(1, 0, 2)) * mu[None, :, :]  # N_ij μ_j
        self.target = _seqsum(P.transpose(1, 0, 2) * mu[:, None, :])  # (Pμ)_i, summed over j in order
        pair = mu[self.iu[0]] * mu[self.iu[1]]
        self.win = pair * P[self.iu]  # w_ij = μ_i μ_j P_ij for i < j
        self.lose = pair * P[self.lo]  # w_ji
        self.ground = np.arange(K)[:, None] == np.argmax(mu, axis=0)[None, :]  # (K, n): the largest μ

    def take(self, index: np.ndarray) -> "_Fit":
        """The same fits restricted to the problems ``index`` (an integer or boolean index)."""
        out = object.__new__(_Fit)
        out.iu, out.lo, out.diag = self.iu, self.lo, self.diag
        out.mu, out.NM, out.target = self.mu[:, index], self.NM[:, :, index], self.target[:, index]
        out.win, out.lose, out.ground = self.win[:, index], self.lose[:, index], self.ground[:, index]
        return out

    def evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """At scores ``x`` (K, m): the gradient equation ``G`` (K, m), the loss up to a constant (m,)
        and ``σ'(x_i - x_j) = σ(d)σ(-d)`` for the pairs ``i < j`` (p, m)."""
        K, m = x.shape
        d = x[self.iu[0]] - x[self.iu[1]]
        log_up = _log_sigmoid(d)
        up, down = np.exp(log_up), np.exp(log_up - d)  # σ(d), σ(-d) = 1 - σ(d) without cancellation
        S = np.empty((K, K, m))
        S[self.iu] = up
        S[self.lo] = down
        S[self.diag, self.diag] = 0.5
        S *= self.NM
        G = _seqsum(S.transpose(1, 0, 2)) - self.target
        loss = -_seqsum(self.win * log_up + self.lose * (log_up - d))
        return G, loss, up * down

    def newton_step(self, G: np.ndarray, slope_pairs: np.ndarray) -> np.ndarray:
        """The regularised Newton step ``δ``: ``(J + diag(τ)) δ = -G`` off the ground ``g`` (the response
        with the largest μ) and ``δ_g = 0``, with ``J = ∂G/∂x`` and ``τ_i = 1e-6 max|G| + 1e-13 J_ii``.

        ``J_ik = δ_ik Σ_j N_ij μ_j σ'_ij - N_ik μ_k σ'_ik`` has ``J1 = 0`` and ``μᵀJ = 0``; since
        ``μᵀG = 0`` too, row ``g`` may be replaced by ``δ_g = 0`` (a gauge). The system is diagonally
        dominant by rows and nonsingular, so Gaussian elimination needs no pivoting (growth factor
        at most 2). ``τ`` (a small Levenberg–Marquardt term) keeps every pivot positive where ``σ'``
        between groups of responses is below the rounding of ``J``; the step is then long, and
        :func:`fit_scores` caps it. It is negligible at the solution, so convergence stays quadratic.
        With ``diag(μ)J`` the loss Hessian, ``δ`` is a descent direction of the loss.
        """
        K, m = G.shape
        W = np.zeros((K, K, m))
        W[self.iu] = slope_pairs
        W[self.lo] = slope_pairs
        W *= self.NM  # N_ik μ_k σ'_ik
        J = -W
        diagonal = _seqsum(W.transpose(1, 0, 2))
        J[self.diag, self.diag] = diagonal * (1.0 + _FLOOR) + _LEVENBERG * np.abs(G).max(axis=0)
        J = np.where(self.ground[:, None, :], np.eye(K)[:, :, None], J)
        return _solve_dominant(J, np.where(self.ground, 0.0, -G))


def _solve_dominant(M: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``M y = b`` for a batch of row diagonally dominant systems, ``M (k, k, m)``, ``b (k, m)``,
    by Gaussian elimination without pivoting; sums in a fixed order."""
    M, y = M.copy(), b.copy()
    k = M.shape[0]
    for p in range(k - 1):
        f = M[p + 1:, p] / M[p, p]
        M[p + 1:, p + 1:] -= f[:, None, :] * M[p, p + 1:][None, :, :]
        y[p + 1:] -= f * y[p]
    for p in range(k - 1, -1, -1):
        if p + 1 < k:
            y[p] -= _seqsum(M[p, p + 1:] * y[p + 1:])
        y[p] /= M[p, p]
    return y


def fit_scores(P: np.ndarray, mu: np.ndarray, start: np.ndarray | list, *, tol: float = 1e-12,
               max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """The Bradley–Terry scores ``x*(μ)`` fitted to μ-weighted comparisons, for a response-first batch.

    Unchecked kernel: every ``P`` must have a finite optimum (:func:`has_optimum`); otherwise
    ``G`` only vanishes as the scores of a dominating set run off to infinity, and the solver may
    stop out there with ``max |G| <= tol``. ``P`` ``(K, K, n)`` or ``(K, K, 1)``, ``mu`` ``(K, n)`` (entries >= 0; a zero
    entry gets the continuous extension of its score, the limit as ``μ_k → 0``), ``start`` ``(K, n)``
    starting scores, or a list of candidates: each problem starts from the first one that already
    solves it to ``tol``, else from the one with the smallest ``‖G‖²``. A candidate after the first
    may be a function of the indices of the problems still unsolved, returning their ``(K, m)``
    starts (so that it is only computed where needed). Returns the scores, centred (mean 0 per problem), and the residual reached,
    ``max_i |G_i|`` per problem (``G`` as in the module docstring).

    Damped Newton: the (regularised) Newton step for ``G = 0``, a descent direction of the convex
    loss, shortened to change no score by more than :data:`_MAX_STEP`, is halved until the loss
    decreases by the Armijo fraction ``1e-4`` of its predicted decrease (up to a slack of
    ``1e-12 (1 + |loss|)`` for rounding) or ``‖G‖²`` decreases by that fraction. The loss is convex
    and, under the existence condition, coercive, which makes the iteration converge from any start;
    ``‖G‖²`` takes over where the loss no longer changes in floating point. The cap matters for a
    response with tiny ``μ_k``: the loss barely depends on its score, whose own equation an uncapped
    step could overshoot into the flat tail of ``σ``. A problem stops when ``max_i |G_i| <= tol``
    (later steps take step size 0, which leaves it unchanged bit for bit); the others go on.
    Raises ``RuntimeError`` with the residual reached if some problem has not converged within
    ``max_iter`` steps (or its line search stalls).
    """
    K, n = mu.shape
    candidates = start if isinstance(start, list) else [start]
    residual = np.zeros(n)
    if K == 1:
        return np.zeros((1, n)), residual
    fit = _Fit(P, mu)
    x = np.array(candidates[0], dtype=float)
    G, loss, slope_pairs = fit.evaluate(x)
    merit = _seqsum(G * G)
    for other in candidates[1:]:  # tried only where the starts so far are not yet solutions
        idx = np.flatnonzero(np.abs(G).max(axis=0) > tol)
        if not idx.size:
            break
        alternative = other(idx) if callable(other) else other[:, idx]
        g, lo, sp = fit.take(idx).evaluate(alternative)
        m = _seqsum(g * g)
        better = idx[m < merit[idx]]
        keep = m < merit[idx]
        x[:, better], G[:, better], loss[better], slope_pairs[:, better], merit[better] = (
            alternative[:, keep], g[:, keep], lo[keep], sp[:, keep], m[keep])
    residual[:] = np.abs(G).max(axis=0)
    # The working arrays hold the problems `where`, a superset of those still running; finished
    # ones take steps of size 0 until they are fewer than half and get dropped.
    where, x_w, running = np.arange(n), x, residual > tol
    steps = 0
    while running.any() and steps < max_iter:
        if running.sum() < 0.5 * where.size:
            x[:, where] = x_w
            fit, where, x_w = fit.take(running), where[running], x_w[:, running]
            G, loss, slope_pairs, merit = G[:, running], loss[running], slope_pairs[:, running], merit[running]
            running = running[running]
        steps += 1
        step = fit.newton_step(G, slope_pairs)
        predicted = _seqsum(fit.mu * G * step)  # ∇L · δ = Σ_i μ_i G_i δ_i < 0
        slack = 1e-12 * (1.0 + np.abs(loss))
        t = np.where(running, _MAX_STEP / np.maximum(np.abs(step).max(axis=0), _MAX_STEP), 0.0)
        new: list[np.ndarray] = []
        sel, part = np.arange(where.size), fit
        for _ in range(_HALVINGS):
            trial = np.where(t[sel] > 0, x_w[:, sel] + t[sel] * step[:, sel], x_w[:, sel])
            g, lo, sp = part.evaluate(trial)
            m = _seqsum(g * g)
            ok = (lo <= loss[sel] + _ARMIJO * t[sel] * predicted[sel] + slack[sel]) | (m <= (1.0 - _ARMIJO * t[sel]) * merit[sel])
            if not new:
                if ok.all():  # the usual case: every problem accepts its first trial
                    new = [trial, g, lo, sp, m]
                    sel = sel[:0]
                    break
                new = [x_w.copy(), G.copy(), loss.copy(), slope_pairs.copy(), merit.copy()]
            for array, value in zip(new, (trial, g, lo, sp, m)):
                array[..., sel[ok]] = value[..., ok]
            sel, part = sel[~ok], part.take(~ok)
            if not sel.size:
                break
            t[sel] *= 0.5
        x_w, G, loss, slope_pairs, merit = new
        residual[where] = np.abs(G).max(axis=0)
        stalled = np.zeros(where.size, dtype=bool)
        stalled[sel] = True
        running = (residual[where] > tol) & ~stalled
    x[:, where] = x_w
    failed = residual > tol
    if np.any(failed):
        worst = int(np.argmax(np.where(failed, residual, -np.inf)))
        raise RuntimeError(
            f"DPO Newton did not converge in {max_iter} steps: max |FOC residual| = {residual[worst]:.3g} > tol = {tol:g} "
            f"(problem {worst} of the batch; {int(failed.sum())} of {n} unconverged)"
        )
    return x - _seqsum(x) / K, residual


def _cubic(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``c_i = (1/12) Σ_j μ_j (y_i - y_j)³`` for response-first ``y``, ``mu`` ``(K, n)``."""
    d = y[:, None, :] - y[None, :, :]
    return _seqsum((d * d * d * mu[None, :, :]).transpose(1, 0, 2)) / 12.0


def start_scores(P: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Newton's default start, response-first: ``y + c`` with ``y = 4Pμ`` (IPO's scores at ``4β``
    divided by β) and the cubic correction ``c`` of :func:`cubic_correction`; ``P`` ``(K, K, n)``
    or ``(K, K, 1)``, ``mu`` ``(K, n)``. Exact up to ``O(ε⁵)`` for ``P = ½11ᵀ + εB``."""
    y = 4.0 * _seqsum(P.transpose(1, 0, 2) * mu[:, None, :])
    return y + _cubic(y, mu)


def _response_first(P: np.ndarray, mu: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    K = P.shape[-1]
    n = int(np.prod(shape, dtype=np.int64))
    Prf = P.reshape(K, K, 1) if P.ndim == 2 else np.broadcast_to(P, shape + (K, K)).reshape(n, K, K).transpose(1, 2, 0)
    murf = np.broadcast_to(mu, shape + (K,)).reshape(n, K).T
    return np.ascontiguousarray(Prf), np.ascontiguousarray(murf)


def _scores(P: np.ndarray, mu: np.ndarray, beta: np.ndarray, shape: tuple[int, ...], tol: float,
            init: np.ndarray | None, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores ``x*`` and residuals for batch-last inputs broadcast to ``shape``; ``init`` is a reward."""
    K = P.shape[-1]
    Prf, murf = _response_first(P, mu, shape)
    if init is None:
        start = start_scores(Prf, murf)
    else:
        start = (np.broadcast_to(init, shape + (K,)) / np.asarray(beta)[..., None]).reshape(-1, K).T
    x, residual = fit_scores(Prf, murf, start, tol=tol, max_iter=max_iter)
    return x.T.reshape(shape + (K,)), residual.reshape(shape)


def log_optimum(P: np.ndarray, mu: np.ndarray, log_ref: np.ndarray, beta: ArrayLike, *, tol: float = 1e-12,
                init: np.ndarray | None = None, max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """``(log π*, max |FOC residual|)`` for already validated inputs, by damped Newton (:func:`fit_scores`).

    Shapes broadcast: ``P (..., K, K)``, ``mu (..., K)``, ``log_ref (..., K)``, ``beta (...)``;
    ``init`` (optional, ``(..., K)``) is a starting implicit reward ``r``. Default start: the
    linearised (IPO) solution ``r = 4β P μ`` with its cubic correction (:func:`start_scores`). Raises
    ``RuntimeError`` with the residual reached if Newton does not converge within ``max_iter`` steps.
    """
    beta = np.asarray(beta, dtype=float)
    shape = np.broadcast_shapes(P.shape[:-2], mu.shape[:-1], log_ref.shape[:-1], beta.shape)
    x, residual = _scores(P, mu, beta, shape, tol, init, max_iter)
    z = log_ref + beta[..., None] * x
    return z - logsumexp(z, axis=-1, keepdims=True), residual


def implicit_reward(P: ArrayLike, mu: ArrayLike, beta: ArrayLike = 1.0, *, tol: float = 1e-12) -> np.ndarray:
    """The optimal implicit reward ``r* = log(π*/π_ref) = β x*(μ)``, centred (mean 0 over responses).

    ``P (..., K, K)``, ``mu (..., K)`` with full support, ``beta`` scalar or ``(...)``; returns
    ``(..., K)``. It does not depend on the reference. Errors as :func:`dpo_optimum`.
    """
    Q, m, _, b = _inputs(P, mu, None, beta)
    tol = float(validation.positive(tol, "tol"))
    check_optimum_exists(Q)
    shape = np.broadcast_shapes(Q.shape[:-2], m.shape[:-1], b.shape)
    x, _ = _scores(Q, m, b, shape, tol, None, MAX_ITER)
    return b[..., None] * x


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
    check_optimum_exists(Q)
    log_pi, _ = log_optimum(Q, m, np.log(r), b, tol=tol)
    return np.exp(log_pi)


def _log_ratio(pi: ArrayLike, ref: ArrayLike | None, K: int) -> np.ndarray:
    p = validation.probability_vector(pi, "pi", positive=True)
    validation.same_size(K, p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    base = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    return np.log(p) - base


def _single(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None, beta: ArrayLike, name: str):
    Q, m, r, b = _inputs(P, mu, ref, beta)
    if Q.ndim != 2 or m.ndim != 1 or np.ndim(b) != 0:
        raise ValueError(f"{name} takes a single K x K matrix P, a single sampler mu and a scalar beta")
    return Q, m, r, float(b)


def _loss(r: np.ndarray, W: np.ndarray, beta: float) -> float:
    d = (r[:, None] - r[None, :]) / beta
    return float(-np.sum(W * _log_sigmoid(d)))


def population_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """``L(π; μ) = -Σ_{i,j} μ_i μ_j P[i,j] log σ((r_i - r_j)/β)`` with ``r = log(π/π_ref)``, one policy."""
    Q, m, _, b = _single(P, mu, ref, beta, "population_loss")
    return _loss(_log_ratio(pi, ref, Q.shape[0]), np.outer(m, m) * Q, b)


def foc_residual(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """The first-order residual ``Σ_j μ_j σ((r_i - r_j)/β) - (P μ)_i`` for each ``i`` (zero at the optimum)."""
    Q, m, _, b = _single(P, mu, ref, beta, "foc_residual")
    r = _log_ratio(pi, ref, Q.shape[0])
    return expit((r[:, None] - r[None, :]) / b) @ m - Q @ m


def reward_derivative(P: ArrayLike, mu: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """``X = ∂r*/∂μ`` by the implicit-function theorem, shape ``(..., K, K)``; ``dr* = X dμ``.

    With ``x = r*/β``, ``S_ij = σ(x_i - x_j)``, ``D = S - P`` and ``J_ik = δ_ik Σ_j μ_j σ'_ij - μ_k σ'_ik``
    (the derivative of the first-order conditions ``Dμ = 0`` in ``x``), ``X = -β J^# D``, where
    ``J^#`` solves on ``1^⊥``: the columns of ``X`` sum to 0 (rewards modulo constants). ``Xμ = 0``
    (scaling μ changes nothing). Inputs as :func:`implicit_reward`.
    """
    Q, m, _, b = _inputs(P, mu, None, beta)
    r = implicit_reward(Q, m, b)
    x = r / b[..., None]
    S = expit(x[..., :, None] - x[..., None, :])
    D = S - Q
    W = m[..., None, :] * S * (1.0 - S)
    K = Q.shape[-1]
    J = np.eye(K) * W.sum(axis=-1)[..., None] - W
    scale = np.trace(J, axis1=-2, axis2=-1)[..., None, None] / K
    # μᵀJ = 0 and μᵀD = 0 at the optimum, so (J + c11ᵀ)Y = -D gives 1ᵀY = 0 and JY = -D.
    Y = -np.linalg.solve(J + scale * np.ones((K, K)), np.broadcast_to(D, J.shape))
    return b[..., None, None] * Y


def linearised_ipo_beta(beta: ArrayLike) -> np.ndarray:
    """The IPO signal strength that DPO reduces to near the uniform point: ``4β``.

    Expanding ``σ(x) = 1/2 + x/4 + O(x³)`` in the first-order conditions gives
    ``r_i - μᵀr = 4β ((Pμ)_i - 1/2)``: IPO's optimum with β replaced by ``4β``.
    """
    return 4.0 * validation.positive(beta, "beta")


def cubic_correction(P: ArrayLike, mu: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """The leading term of ``r*_DPO(β) - r*_IPO(4β)`` for weak preferences, centred, shape ``(..., K)``.

    With ``y = 4(P - ½11ᵀ)μ`` (IPO's scores at 4β divided by β), it is
    ``β c`` with ``c_i = (1/12) Σ_j μ_j (y_i - y_j)³``; for ``P = ½11ᵀ + εB`` the remainder is
    ``O(β ε⁵)``. Any support of ``mu``.
    """
    A = preferences.skew(P)
    m = validation.probability_vector(mu, "mu")
    K = A.shape[-1]
    validation.same_size(K, m, "mu")
    b = validation.positive(beta, "beta")
    shape = np.broadcast_shapes(A.shape[:-2], m.shape[:-1])
    Arf, murf = _response_first(A, m, shape)
    c = _cubic(4.0 * _seqsum(Arf.transpose(1, 0, 2) * murf[:, None, :]), murf)
    c = c.T.reshape(shape + (K,))
    return b[..., None] * (c - c.mean(axis=-1, keepdims=True))


def reward_range_bound(P: ArrayLike, beta: ArrayLike = 1.0) -> np.ndarray:
    """``β (K - 1) logit(p_max)``, ``p_max = max_{i≠j} P[i, j]``: an upper bound on ``max r* - min r*``
    for every full-support sampler. Infinite when some ``P[i, j] = 1``. Shape: the batch shape."""
    Q = preferences.validate(P)
    K = Q.shape[-1]
    b = validation.positive(beta, "beta")
    if K == 1:
        return np.zeros(np.broadcast_shapes(Q.shape[:-2], b.shape))
    off = np.where(np.eye(K, dtype=bool), 0.0, Q).max(axis=(-2, -1))
    finite = off < 1.0
    return np.where(finite, b * (K - 1) * logit(np.where(finite, off, 0.5)), np.inf)


def misfit(P: ArrayLike, mu: ArrayLike) -> np.ndarray:
    """``max_ij |σ(x*_i - x*_j) - P[i, j]|``: how far ``P`` is from the Bradley–Terry matrix that DPO
    fits under the sampler μ (0 for every μ iff P is Bradley–Terry). Shape: the batch shape."""
    Q, m, _, _ = _inputs(P, mu, None, 1.0)
    x = implicit_reward(Q, m, 1.0)
    return np.abs(expit(x[..., :, None] - x[..., None, :]) - Q).max(axis=(-2, -1))


def spread_lower_bound(P: ArrayLike, samplers: ArrayLike, beta: float = 1.0) -> float:
    """A lower bound on how much DPO's optimum must move across ``K`` samplers, for one matrix ``P``.

    ``samplers`` ``(K, K)``: row ``k`` is ``μ_k`` (full support, rows linearly independent). With
    ``M`` the matrix whose columns are the samplers and ``r_k`` the optimal rewards,
    ``max_k osc(r_k - r_1) >= 4β m_1 / ‖M⁻¹‖_1``, where ``osc(v) = max v - min v`` and ``m_1`` is the
    :func:`misfit` at ``μ_1``. Positive iff ``P`` is not Bradley–Terry (for such samplers).
    """
    Q, m, _, b = _inputs(P, samplers, None, beta)
    K = Q.shape[-1]
    if Q.ndim != 2 or m.shape != (K, K) or np.ndim(b) != 0:
        raise ValueError(f"spread_lower_bound takes one K x K matrix P, samplers of shape (K, K) = {(K, K)} and a scalar beta")
    M = m.T
    if np.linalg.matrix_rank(M) < K:
        raise ValueError("samplers must be linearly independent (their matrix must be invertible)")
    return float(4.0 * float(b) * misfit(Q, m[0]) / np.linalg.norm(np.linalg.inv(M), 1))


def numerical_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`population_loss` with a generic optimiser (BFGS, finite-difference gradients).

    For cross-checking :func:`dpo_optimum` only: slower, and accurate to about 1e-6 in ``log π``.
    It minimises over the scores ``x = r/β`` (the loss depends on nothing else), so its accuracy
    does not depend on β; it knows nothing of the first-order conditions.
    """
    Q, m, r, b = _single(P, mu, ref, beta, "numerical_optimum")
    W = np.outer(m, m) * Q
    res = minimize(lambda x: _loss(x, W, 1.0), np.zeros(Q.shape[0]), method="BFGS", jac="3-point",
                   options={"gtol": 1e-10, "maxiter": 10_000})
    z = np.log(r) + b * res.x
    return np.exp(z - logsumexp(z))
