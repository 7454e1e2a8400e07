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
from prefalign._kernels import _cubic_batch, _fit_batch, _solve, _solve_block, _start_batch  # noqa: F401 (the compiled solver)

MAX_ITER = 200
"""Newton steps :func:`fit_scores` takes at most (typically 3 to 10 from a cold start, 0 to 4 warm)."""

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


def dominating_set(P: ArrayLike) -> list[int] | None:
    """A set of responses that beats every other response with probability 1, or ``None``.

    ``P`` is a single ``K x K`` preference matrix. Returns ``T`` (sorted) such that
    ``P[t, o] = 1`` for every ``t ∈ T`` and ``o ∉ T``, if one exists; then DPO has no finite
    optimum for any full-support sampler (the log-ratios of ``T`` grow without bound). It exists
    iff the graph with edges ``i → j`` for ``P[i, j] > 0`` is not strongly connected: ``T`` is the
    set of responses that some response cannot reach.
    """
    P = preferences.validate(P)
    if P.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {P.shape}")
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


# The solver itself is compiled (prefalign._kernels: _solve for one problem, _solve_block for a
# block vectorised across problems, bit for bit the same numbers); the functions below drive it.


def _fit(P: np.ndarray, p_index: np.ndarray, mu: np.ndarray, starts: np.ndarray, tol: float,
         max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Batch-last driver of the compiled solver: ``P`` (m, K, K), ``p_index`` (n,), ``mu`` (n, K),
    ``starts`` (c, n, K) (a NaN row: the default start). Returns the centred scores (n, K) and the
    residuals (n,); raises ``RuntimeError`` with the residual reached if a problem does not converge."""
    n, K = mu.shape
    x, residual, code = np.empty((n, K)), np.empty(n), np.empty(n, dtype=np.int64)
    _fit_batch(np.array(P, dtype=float, order="C"), np.array(p_index, dtype=np.int64, order="C"),
               np.array(mu, dtype=float, order="C"), np.array(starts, dtype=float, order="C"), float(tol),
               int(max_iter), x, residual, code)
    _raise_unconverged(code, residual, tol, max_iter)
    return x, residual


def _raise_unconverged(code: np.ndarray, residual: np.ndarray, tol: float, max_iter: int, where: str = "") -> None:
    """``RuntimeError`` naming the worst problem if some solve failed (``code < 0``), else nothing."""
    failed = code < 0
    if np.any(failed):
        worst = int(np.argmax(np.where(failed, residual, -np.inf)))
        why = f"did not converge in {max_iter} steps" if code[worst] == -1 else "stalled (no step decreases the loss)"
        raise RuntimeError(
            f"{where}DPO Newton {why}: max |FOC residual| = {residual[worst]:.3g} > tol = {tol:g} "
            f"(problem {worst} of the batch; {int(failed.sum())} of {code.size} unconverged)"
        )


def _response_first_inputs(P: ArrayLike, mu: ArrayLike, name_mu: str = "mu") -> tuple[np.ndarray, np.ndarray]:
    """Validate a response-first batch: ``P`` (K, K, n) or (K, K, 1) preference matrices, ``mu`` (K, n)
    samplers (columns are probability vectors). Returns ``P`` as (m, K, K) and ``mu`` as (n, K)."""
    arr = validation.finite_array(P, "P")
    if arr.ndim != 3:
        raise ValueError(f"P must be a response-first batch of shape (K, K, n) or (K, K, 1), got shape {arr.shape}")
    Q = preferences.validate(np.moveaxis(arr, -1, 0))
    m = validation.finite_array(mu, name_mu)
    if m.ndim != 2 or m.shape[0] != Q.shape[-1]:
        raise ValueError(f"{name_mu} must have shape (K, n) with K = {Q.shape[-1]} (response-first), got shape {m.shape}")
    if Q.shape[0] not in (1, m.shape[1]):
        raise ValueError(f"P must hold 1 or n = {m.shape[1]} matrices (its last axis), got {Q.shape[0]}")
    m = validation.probability_vector(m.T, name_mu)
    check_optimum_exists(Q)
    return np.ascontiguousarray(Q), np.ascontiguousarray(m)


def _p_index(Q: np.ndarray, n: int) -> np.ndarray:
    return np.zeros(n, dtype=np.int64) if Q.shape[0] == 1 else np.arange(n, dtype=np.int64)


def fit_scores(P: ArrayLike, mu: ArrayLike, start: ArrayLike | list, *, tol: float = 1e-12,
               max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """The Bradley–Terry scores ``x*(μ)`` fitted to μ-weighted comparisons, for a response-first batch.

    ``P`` ``(K, K, n)`` or ``(K, K, 1)`` preference matrices, each with a finite optimum
    (:func:`has_optimum`), ``mu`` ``(K, n)`` samplers (columns sum to 1, entries >= 0; a zero entry
    gets the continuous extension of its score, the limit as ``μ_k → 0``), ``start`` ``(K, n)``
    starting scores, or a list of such candidates: each problem starts from the first one that
    already solves it to ``tol``, else from the one with the smallest ``‖G‖²``. Returns the scores,
    centred (mean 0 per problem), and the residual reached, ``max_i |G_i|`` per problem (``G`` as in
    the module docstring). Bad input raises ``ValueError`` naming the argument.

    Damped Newton (:func:`_newton`): the regularised Newton step for ``G = 0``, a descent direction
    of the convex loss, shortened to change no score by more than a cap, is halved until the loss
    or ``‖G‖²`` decreases by the Armijo fraction. The loss is convex and, under the existence
    condition, coercive, which makes the iteration converge from any start; ``‖G‖²`` takes over
    where the loss no longer changes in floating point. The cap matters for a response with tiny
    ``μ_k``: the loss barely depends on its score, whose own equation an uncapped step could
    overshoot into the flat tail of ``σ``; it doubles after every capped step the line search takes
    whole, so scores far from their solution (near-deterministic ``P``) still get there in a few
    dozen steps. Raises ``RuntimeError`` with the residual reached if some problem has not
    converged within ``max_iter`` steps (or its line search stalls).
    """
    Q, m = _response_first_inputs(P, mu)
    n, K = m.shape
    candidates = start if isinstance(start, list) else [start]
    if not candidates:
        raise ValueError("start must be a (K, n) array or a non-empty list of them")
    starts = np.stack([validation.finite_array(c, "start") for c in candidates]) if all(
        np.shape(c) == (K, n) for c in candidates) else None
    if starts is None:
        raise ValueError(f"start must have shape (K, n) = {(K, n)} (or be a list of such arrays), "
                         f"got shape(s) {[np.shape(c) for c in candidates]}")
    tol = validation.scalar(tol, "tol", validation.positive)
    max_iter = validation.count(max_iter, "max_iter", minimum=0)
    x, residual = _fit(Q, _p_index(Q, n), m, starts.transpose(0, 2, 1), tol, max_iter)
    return x.T, residual


def start_scores(P: ArrayLike, mu: ArrayLike) -> np.ndarray:
    """Newton's default start, response-first: ``y + c`` with ``y = 4Pμ`` (IPO's scores at ``4β``
    divided by β) and the cubic correction ``c`` of :func:`cubic_correction`; ``P`` ``(K, K, n)``
    or ``(K, K, 1)``, ``mu`` ``(K, n)`` (validated as in :func:`fit_scores`). Exact up to ``O(ε⁵)``
    for ``P = ½11ᵀ + εB``."""
    Q, m = _response_first_inputs(P, mu)
    out = np.empty(m.shape)
    _start_batch(np.array(Q, order="C"), _p_index(Q, m.shape[0]), np.array(m, order="C"), out)
    return out.T


def _cubic(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``c_i = (1/12) Σ_j μ_j (y_i - y_j)³`` for response-first ``y``, ``mu`` ``(K, n)``."""
    out = np.empty(y.shape[::-1])
    _cubic_batch(np.array(y.T, dtype=float, order="C"), np.array(mu.T, dtype=float, order="C"), out)
    return out.T


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
    n = int(np.prod(shape, dtype=np.int64))
    batch = P.shape[:-2]
    matrices = np.ascontiguousarray(P.reshape((-1, K, K)))
    p_index = np.broadcast_to(np.arange(matrices.shape[0]).reshape(batch), shape).reshape(n)
    m = np.broadcast_to(mu, shape + (K,)).reshape(n, K)
    if init is None:
        starts = np.full((1, n, K), np.nan)
    else:
        starts = (np.broadcast_to(init, shape + (K,)) / np.asarray(beta)[..., None]).reshape(1, n, K)
    x, residual = _fit(matrices, p_index, m, starts, tol, max_iter)
    return x.reshape(shape + (K,)), residual.reshape(shape)


def log_optimum(P: ArrayLike, mu: ArrayLike, log_ref: ArrayLike, beta: ArrayLike, *, tol: float = 1e-12,
                init: ArrayLike | None = None, max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """``(log π*, max |FOC residual|)`` by damped Newton (:func:`fit_scores`), in log space.

    Shapes broadcast: ``P (..., K, K)`` with a finite optimum (:func:`has_optimum`), ``mu (..., K)``
    with full support, ``log_ref (..., K)`` finite log-weights of the reference (a constant added to
    them cancels), ``beta (...)`` > 0; ``init`` (optional, ``(..., K)``, finite) is a starting implicit
    reward ``r``. Default start: the linearised (IPO) solution ``r = 4β P μ`` with its cubic
    correction (:func:`start_scores`). Bad input raises ``ValueError`` naming the argument;
    ``RuntimeError`` with the residual reached if Newton does not converge within ``max_iter`` steps.
    """
    Q, m, _, b = _inputs(P, mu, None, beta)
    K = Q.shape[-1]
    lr = validation.finite_array(log_ref, "log_ref", ndim_min=1)
    validation.same_size(K, lr, "log_ref")
    start = None if init is None else validation.finite_array(init, "init", ndim_min=1)
    if start is not None:
        validation.same_size(K, start, "init")
    tol = validation.scalar(tol, "tol", validation.positive)
    max_iter = validation.count(max_iter, "max_iter")
    shape = problem.broadcast(("P", Q.shape[:-2]), ("mu", m.shape[:-1]), ("log_ref", lr.shape[:-1]), ("beta", b.shape))
    if start is not None and problem.broadcast(("init", start.shape[:-1]), ("the problem", shape)) != shape:
        raise ValueError(f"init must broadcast to the batch shape {shape} of the problem, got shape {start.shape}")
    check_optimum_exists(Q)
    return _log_optimum(Q, m, lr, b, tol=tol, init=start, max_iter=max_iter)


def _log_optimum(P: np.ndarray, mu: np.ndarray, log_ref: np.ndarray, beta: np.ndarray, *, tol: float,
                 init: np.ndarray | None = None, max_iter: int = MAX_ITER) -> tuple[np.ndarray, np.ndarray]:
    """:func:`log_optimum` for validated inputs."""
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
    tol = validation.scalar(tol, "tol", validation.positive)
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
    tol = validation.scalar(tol, "tol", validation.positive)
    check_optimum_exists(Q)
    log_pi, _ = _log_optimum(Q, m, np.log(r), b, tol=tol)
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
    problem.single(name, Q, m, r, b)
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
    if Q.shape[-1] == 1:  # one response: r* = 0 whatever μ
        return np.zeros(np.broadcast_shapes(Q.shape[:-2], m.shape[:-1], b.shape) + (1, 1))
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
    S = validation.probability_vector(samplers, "samplers")
    validation.same_size(preferences.validate(P).shape[-1], S, "samplers")
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


def ranking_gap_bounds(P: ArrayLike, mu: ArrayLike, beta: ArrayLike = 1.0, *,
                       reward_range: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bounds on DPO's reward gaps from IPO's scores, ``(lower, upper)``, each ``(..., K, K)``.

    With full-support ``μ`` the first-order conditions read ``g(r_i) = (Pμ)_i`` for the one increasing
    function ``g(t) = Σ_j μ_j σ((t - r_j)/β)``, whose slope lies between ``1/(4β cosh²(R/2β))`` and
    ``1/(4β)`` on the range of ``r*`` (``R = max r* - min r*``). Hence, for every pair,

    ``4β |(Pμ)_i - (Pμ)_k| <= |r*_i - r*_k| <= 4β cosh²(R̄/2β) |(Pμ)_i - (Pμ)_k|``,

    with the a-priori range bound ``R̄ = β(K-1) logit(p_max)`` of :func:`reward_range_bound` (so the
    upper bound is ``4β cosh²((K-1) logit(p_max)/2) |Δ|``, infinite when some ``P[i, j] = 1``), and
    ``r*_i - r*_k`` has the sign of ``(Pμ)_i - (Pμ)_k``. ``P (..., K, K)``, ``mu (..., K)``, ``beta``
    scalar or ``(...)``; validated as in :func:`implicit_reward`. Neither bound needs the optimum.
    ``reward_range`` (optional, ``>= 0``, shape ``(...)``): a known ``R`` (e.g. measured on the optimum),
    used instead of ``R̄`` in the upper bound: ``4β cosh²(R/2β) |Δ|``.
    """
    Q, m, _, b = _inputs(P, mu, None, beta)
    problem.require_full_support(m)
    score = (Q @ m[..., None])[..., 0]
    gap = np.abs(score[..., :, None] - score[..., None, :])
    lower = 4.0 * b[..., None, None] * gap
    if reward_range is None:
        half = reward_range_bound(Q, 1.0) / 2.0
    else:
        R = validation.finite_array(reward_range, "reward_range")
        if np.any(R < 0):
            raise ValueError(f"reward_range must be >= 0, got {float(R.min()):g}")
        half = R / (2.0 * b)
    with np.errstate(over="ignore"):
        stretch = np.cosh(half) ** 2
    upper = np.where(gap > 0, lower * np.where(gap > 0, np.asarray(stretch)[..., None, None], 1.0), 0.0)
    return lower, upper
