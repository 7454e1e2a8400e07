"""IPO's population optimum in closed form, its losses, and a generic minimiser to cross-check it.

Convention (the whole package): β is the strength of the preference signal relative to the KL
anchor; the implicit reward ``r = log(π/π_ref)`` scales with β. IPO with regularisation τ
(Azar et al.) has β = 1/τ.

For a preference matrix ``P`` (``K x K``), a sampler ``μ`` and a reference ``π_ref``:

* population loss  ``L(π; μ) = Σ_{y,y'} μ_y μ_{y'} (h_π(y, y') - β (P[y, y'] - ½))²`` with
  ``h_π(y, y') = log(π_y/π_ref,y) - log(π_{y'}/π_ref,y')``;
* closed form (full-support μ)  ``π* ∝ π_ref ⊙ exp(β P μ)``, i.e. ``log(π*/π_ref) = β P μ + c``;
* samplers chosen for their optimum: the instance-dependent :func:`smith_sampler`, the linear
  program :func:`order_preserving_sampler`, and the self-consistent on-policy optimum
  :func:`onpolicy_optimum` (``π = π*(μ = π)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog, minimize
from scipy.special import logsumexp

from prefalign import preferences, problem, social_choice, validation


def _require_full_support(mu: np.ndarray) -> None:
    problem.require_full_support(mu, hint=" - use ipo_optimum_on_support() for the answer on the support of mu")


def log_optimum(P: ArrayLike, mu: ArrayLike, log_ref: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """``log π*`` with ``log π* = log π_ref + β P μ - logsumexp(·)``, in log space (no underflow).

    Shapes broadcast: ``P (..., K, K)``, ``mu (..., K)`` (any support: this is the maximiser of
    :func:`objective_maximiser`), ``log_ref (..., K)`` finite log-weights of the reference (a
    constant added to them cancels in the normalisation), ``beta (...)`` > 0. Bad input raises
    ``ValueError`` naming the argument.
    """
    Q, m, _, b = problem.inputs(P, mu, None, beta)
    lr = validation.finite_array(log_ref, "log_ref", ndim_min=1)
    validation.same_size(Q.shape[-1], lr, "log_ref")
    problem.broadcast(("P", Q.shape[:-2]), ("mu", m.shape[:-1]), ("log_ref", lr.shape[:-1]), ("beta", b.shape))
    return _log_optimum(Q, m, lr, b)


def _log_optimum(P: np.ndarray, mu: np.ndarray, log_ref: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """:func:`log_optimum` for validated inputs: the kernel behind :func:`ipo_optimum`."""
    z = log_ref + np.asarray(beta)[..., None] * np.einsum("...ij,...j->...i", P, mu)
    return z - logsumexp(z, axis=-1, keepdims=True)


def ipo_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: ArrayLike = 1.0) -> np.ndarray:
    """IPO's population optimum ``π* ∝ π_ref ⊙ exp(β P μ)``, computed in log space.

    Parameters
    ----------
    P : (..., K, K) preference matrix (or batch).
    mu : (..., K) sampler of the compared responses; must have full support.
    ref : (..., K) reference policy in the interior of the simplex; ``None`` = uniform.
    beta : scalar or array broadcasting against the batch shape; ``> 0``.

    Returns ``π*`` of shape ``(..., K)``. Raises ``ValueError`` if μ has a zero entry, since the
    loss does not see responses off the support of μ (see :func:`ipo_optimum_on_support`).
    """
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    _require_full_support(m)
    return np.exp(_log_optimum(Q, m, np.log(r), b))


def objective_maximiser(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: ArrayLike = 1.0) -> np.ndarray:
    """The maximiser ``π* ∝ π_ref ⊙ exp(β P μ)`` of IPO's objective ``J(π) = πᵀPμ - KL(π ‖ π_ref)/β``, for *any* ``μ``.

    Same shapes and formula as :func:`ipo_optimum`, but ``μ`` may lack full support: ``J`` has this
    unique maximiser for every ``μ ∈ Δ_K`` (Gibbs variational principle). For full-support ``μ`` it
    is the population-loss minimiser; otherwise it is the one loss minimiser whose implicit reward
    follows ``β (Pμ)_i`` on the unsampled responses too (the loss alone leaves them undetermined).
    """
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    return np.exp(_log_optimum(Q, m, np.log(r), b))


@dataclass(frozen=True)
class SupportOptimum:
    """IPO's optimum when μ lacks full support.

    ``pi`` is the optimum *conditioned on the support* S of μ: ``pi_S ∝ π_ref,S ⊙ exp(β (P μ)_S)``
    and ``pi = 0`` off S. Every policy whose conditional on S equals ``pi_S`` minimises the loss,
    whatever mass it puts on the ``undetermined`` responses (those never sampled).
    """

    pi: np.ndarray
    support: np.ndarray
    undetermined: list[int]


def ipo_optimum_on_support(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> SupportOptimum:
    """IPO's optimum for a sampler μ of any support (single ``K x K`` problem); see :class:`SupportOptimum`."""
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    problem.single("ipo_optimum_on_support", Q, m, r, b)
    support = m > 0
    z = np.log(r[support]) + float(b) * (Q @ m)[support]
    pi = np.zeros_like(m)
    pi[support] = np.exp(z - logsumexp(z))
    return SupportOptimum(pi=pi, support=support, undetermined=[int(i) for i in np.flatnonzero(~support)])


def _log_ratio(pi: ArrayLike, ref: ArrayLike | None, K: int) -> np.ndarray:
    p = validation.probability_vector(pi, "pi", positive=True)
    validation.same_size(K, p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    if ref is None:
        return np.log(p) + np.log(K)
    r = validation.probability_vector(ref, "ref", positive=True)
    validation.same_size(K, r, "ref")
    if r.ndim != 1:
        raise ValueError(f"ref must be a single policy of shape (K,), got shape {r.shape}")
    return np.log(p) - np.log(r)


def population_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """``L(π; μ) = Σ_{y,y'} μ_y μ_{y'} (h_π(y, y') - β (P[y, y'] - ½))²`` for one policy ``π`` (shape ``(K,)``).

    ``π`` must be strictly positive (``h_π`` is a log-ratio). Equal, up to an additive constant
    independent of π, to the expected :func:`sampled_loss` when pairs are drawn from ``μ ⊗ μ``
    and labelled by ``P``.
    """
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    problem.single("population_loss", Q, m, r, b)
    r = _log_ratio(pi, ref, Q.shape[0])
    h = r[:, None] - r[None, :]
    return float(m @ (h - float(b) * (Q - 0.5)) ** 2 @ m)


def ipo_objective(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """The regularised objective ``J(π) = πᵀ P μ - (1/β) KL(π ‖ π_ref)`` (win rate against μ minus KL).

    Its maximiser is the closed form, and ``max J = (1/β) log Σ_i π_ref,i exp(β (Pμ)_i)``.
    """
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    problem.single("ipo_objective", Q, m, r, b)
    p = validation.probability_vector(pi, "pi")
    validation.same_size(Q.shape[0], p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    on = p > 0
    kl = float(np.sum(p[on] * (np.log(p[on]) - np.log(r[on]))))
    return float(p @ Q @ m) - kl / float(b)


def sample_pairs(P: ArrayLike, mu: ArrayLike, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` labelled comparisons: ``y, y' ~ μ`` i.i.d., then ``y`` wins with probability ``P[y, y']``.

    Returns an int array of shape ``(n, 2)`` with rows ``(winner, loser)``.
    """
    rng = validation.generator(rng)
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    m = validation.probability_vector(mu, "mu")
    validation.same_size(Q.shape[0], m, "mu")
    n = validation.count(n, "n")
    y = rng.choice(Q.shape[0], size=n, p=m)
    y2 = rng.choice(Q.shape[0], size=n, p=m)
    first_wins = rng.uniform(size=n) < Q[y, y2]
    return np.column_stack([np.where(first_wins, y, y2), np.where(first_wins, y2, y)])


def _pair_counts(pairs: ArrayLike, K: int, source: str = "K") -> np.ndarray:
    arr = np.asarray(pairs)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(f"pairs must have shape (n, 2) with n >= 1 rows (winner, loser), got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"pairs must hold integer response indices, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= K:
        raise ValueError(f"pairs must hold indices in [0, {K - 1}] ({K} responses, from {source}), "
                         f"found {int(arr.min())}..{int(arr.max())}")
    N = np.zeros((K, K))
    np.add.at(N, (arr[:, 0], arr[:, 1]), 1.0)
    return N


def sampled_loss(pi: ArrayLike, pairs: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """IPO's empirical loss ``(1/n) Σ_{(w, l)} (h_π(w, l) - β/2)²`` over ``n`` (winner, loser) pairs."""
    b = validation.scalar(beta, "beta", validation.positive)
    p = validation.probability_vector(pi, "pi", positive=True)
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    N = _pair_counts(pairs, p.shape[-1], "the entries of pi")
    r = _log_ratio(p, ref, p.shape[-1])
    h = r[:, None] - r[None, :]
    return float(np.sum(N * (h - b / 2) ** 2) / N.sum())


def expected_sampled_loss(pi: ArrayLike, P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> float:
    """The exact expectation of :func:`sampled_loss` for one comparison drawn as in :func:`sample_pairs`.

    ``Σ_{y,y'} μ_y μ_{y'} [P[y,y'] (h_π(y,y') - β/2)² + P[y',y] (h_π(y',y) - β/2)²]``, by enumeration
    of the pair and its label.
    """
    Q, m, r_, b = problem.inputs(P, mu, ref, beta)
    problem.single("expected_sampled_loss", Q, m, r_, b)
    r = _log_ratio(pi, ref, Q.shape[0])
    h = r[:, None] - r[None, :]
    half = float(b) / 2
    per_pair = Q * (h - half) ** 2 + Q.T * (-h - half) ** 2
    return float(m @ per_pair @ m)


def _minimize_logits(loss, K: int, log_ref: np.ndarray) -> np.ndarray:
    """Minimise ``loss(r)`` over implicit rewards ``r ∈ R^K`` with BFGS (finite-difference gradients)."""
    res = minimize(loss, np.zeros(K), method="BFGS", jac="3-point", options={"gtol": 1e-11, "maxiter": 10_000})
    z = log_ref + res.x
    return np.exp(z - logsumexp(z))


def numerical_optimum(P: ArrayLike, mu: ArrayLike, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`population_loss` numerically (generic BFGS, no closed form used).

    For cross-checking :func:`ipo_optimum` only: slower and accurate to about 1e-7.
    """
    Q, m, r, b = problem.inputs(P, mu, ref, beta)
    problem.single("numerical_optimum", Q, m, r, b)
    _require_full_support(m)
    target = float(b) * (Q - 0.5)

    def loss(x: np.ndarray) -> float:
        return float(m @ ((x[:, None] - x[None, :]) - target) ** 2 @ m)

    return _minimize_logits(loss, Q.shape[0], np.log(r))


def sampled_optimum(pairs: ArrayLike, K: int, ref: ArrayLike | None = None, beta: float = 1.0) -> np.ndarray:
    """Minimise :func:`sampled_loss` over policies numerically (generic BFGS).

    The minimiser is determined only if the comparison graph of ``pairs`` connects all ``K``
    responses; otherwise a ``ValueError`` names a response that is cut off.
    """
    K = validation.count(K, "K")
    b = validation.scalar(beta, "beta", validation.positive)
    N = _pair_counts(pairs, K)
    reach = np.zeros(K, dtype=bool)
    reach[0] = True
    linked = (N + N.T) > 0
    for _ in range(K):
        reach |= linked[reach].any(axis=0)
    if not reach.all():
        raise ValueError(
            f"pairs must connect all K={K} responses; response {int(np.argmin(reach))} is not linked to response 0, "
            "so its log-ratio is undetermined"
        )
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    validation.same_size(K, log_ref, "ref", against="K")
    if log_ref.ndim != 1:
        raise ValueError(f"ref must be a single policy of shape (K,), got shape {log_ref.shape}")
    weights = N / N.sum()

    def loss(x: np.ndarray) -> float:
        return float(np.sum(weights * ((x[:, None] - x[None, :]) - b / 2) ** 2))

    return _minimize_logits(loss, K, log_ref)


def _single(P: ArrayLike) -> np.ndarray:
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    return Q


@dataclass(frozen=True)
class SmithLottery:
    """The ingredients of the instance-dependent sampler of :func:`smith_lottery`.

    ``members``: the Smith set ``S``. ``q`` (shape ``(K,)``, zero off ``S``): a maximal lottery of the
    reversed preferences on ``S``, i.e. ``Σ_{m∈S} P[s, m] q_m >= ½`` for every ``s ∈ S``.
    ``eps_bound``: the largest ``ε̄`` such that ``(1-ε) q + ε u`` keeps every member above every
    non-member for all ``0 <= ε < ε̄``. With ``δ_so = (Pq)_s - (Pq)_o > 0`` and
    ``υ_so = (Pu)_s - (Pu)_o`` the score gap is ``(1-ε) δ_so + ε υ_so``, so
    ``ε̄ = min_{υ_so < 0} δ_so / (δ_so - υ_so)``, and 1 when no ``υ_so`` is negative.
    """

    members: list[int]
    q: np.ndarray
    eps_bound: float

    def sampler(self, eps: float | None = None) -> np.ndarray:
        """``μ = (1-ε) q + ε u``; ``eps`` must lie in ``[0, eps_bound)``; ``None`` takes ``eps_bound / 2``."""
        e = self.eps_bound / 2 if eps is None else validation.scalar(eps, "eps")
        if not 0.0 <= e < self.eps_bound:
            raise ValueError(
                f"eps must lie in [0, {self.eps_bound:.6g}) for this P (beyond it a non-member of the Smith set can "
                f"catch up with a member; see SmithLottery.eps_bound), got {e:g}"
            )
        return (1.0 - e) * self.q + e / self.q.size


def smith_lottery(P: ArrayLike) -> SmithLottery:
    """Smith set, reversed maximal lottery on it and the bound on the uniform share; see :class:`SmithLottery`.

    ``q`` comes from the LP of :func:`prefalign.social_choice.maximal_lottery` applied to
    ``P[S, S]ᵀ`` (``q = e_c`` without an LP when ``S = {c}`` is a Condorcet winner). Raises
    ``RuntimeError`` if the LP's round-off leaves a non-member level with a member under ``q``
    (possible only when a non-member loses to a member by less than about 1e-9).
    """
    Q = _single(P)
    K = Q.shape[0]
    S = social_choice.smith_set(Q)
    q = np.zeros(K)
    q[S] = 1.0 if len(S) == 1 else social_choice.maximal_lottery(Q[np.ix_(S, S)].T)
    inside = np.zeros(K, dtype=bool)
    inside[S] = True
    if inside.all():
        return SmithLottery(members=S, q=q, eps_bound=1.0)
    on_q, on_u = Q @ q, Q.mean(axis=1)
    delta = on_q[inside][:, None] - on_q[~inside][None, :]
    drift = on_u[inside][:, None] - on_u[~inside][None, :]
    if delta.min() <= 0:
        raise RuntimeError(
            f"the Smith lottery LP was not accurate enough: a non-member scores within {-delta.min():.3g} "
            "of a member under q (an outsider loses to the Smith set by less than the LP's tolerance)"
        )
    against = drift < 0
    bound = float(np.min(delta[against] / (delta[against] - drift[against]))) if against.any() else 1.0
    return SmithLottery(members=S, q=q, eps_bound=bound)


def smith_sampler(P: ArrayLike, eps: float | None = None) -> np.ndarray:
    """The instance-dependent sampler that puts the Smith set on top: ``μ = (1-ε) q + ε u``, shape ``(K,)``.

    ``q`` is supported on the Smith set ``S`` of ``P`` and is a maximal lottery of the *reversed*
    preferences there: ``Σ_{m∈S} P[s, m] q_m >= ½`` for every ``s ∈ S`` (every member wins at least
    half the time against ``q``; ``q = e_c`` for a Condorcet winner ``c``). Every non-member loses to
    every member, so ``(Pq)_o < ½ <= (Pq)_s``: IPO's optimum ranks the Smith set on top. Mixing in
    ``ε`` of the uniform sampler ``u`` gives full support for ``ε > 0`` and keeps the guarantee for
    ``0 <= ε < ε̄``; other values of ``eps`` raise ``ValueError``. The default ``eps = None`` takes
    ``ε̄/2``. ``ε̄`` and ``q`` are in :func:`smith_lottery` (one LP serves many ε).
    """
    return smith_lottery(P).sampler(eps)


@dataclass(frozen=True)
class OrderPreservingSampler:
    """The answer of :func:`order_preserving_sampler` for a transitive ``P`` with order ``order``.

    ``margin`` is ``t* = max_{μ∈Δ_K} min_a [(Pμ)_{o_a} - (Pμ)_{o_{a+1}}]`` and ``mu_lp`` a maximiser
    (it may lack full support). An order-preserving full-support sampler exists iff ``t* > 0``
    (decided to the LP's accuracy, about 1e-9); then ``mu`` is one, ``(1-η) mu_lp + η u`` with
    ``η = t*/(2(1 + t*))``, whose margin is at least ``t*/2``. Otherwise ``mu`` is ``None``.
    """

    order: list[int]
    margin: float
    mu_lp: np.ndarray
    mu: np.ndarray | None

    @property
    def exists(self) -> bool:
        return self.margin > 0


def order_preserving_sampler(P: ArrayLike) -> OrderPreservingSampler:
    """Decide by a linear program whether some full-support sampler makes IPO's optimum order-preserving.

    For transitive ``P`` with order ``o`` (``K >= 2``) and a uniform reference, ``π*(μ)`` is
    order-preserving iff every consecutive margin ``(Pμ)_{o_a} - (Pμ)_{o_{a+1}}`` is positive. The LP
    ``max t`` s.t. ``(P_{o_a,:} - P_{o_{a+1},:}) μ >= t`` for ``a = 1..K-1``, ``μ ∈ Δ_K`` (HiGHS) gives
    the best margin; see :class:`OrderPreservingSampler`. Raises ``ValueError`` if ``P`` is not transitive.
    """
    Q = _single(P)
    K = Q.shape[0]
    if K < 2:
        raise ValueError(f"P must have K >= 2 responses for an order to be preserved, got K = {K}")
    order = preferences.transitive_order(Q)
    if order is None:
        raise ValueError("P must be transitive (its majority relation a strict linear order) to ask for order preservation")
    D = Q[order[:-1]] - Q[order[1:]]
    c = np.zeros(K + 1)
    c[-1] = -1.0
    res = linprog(
        c, A_ub=np.hstack([-D, np.ones((K - 1, 1))]), b_ub=np.zeros(K - 1),
        A_eq=np.hstack([np.ones((1, K)), np.zeros((1, 1))]), b_eq=[1.0],
        bounds=[(0, None)] * K + [(None, None)], method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"order-preservation LP failed: {res.message}")
    mu_lp = np.clip(res.x[:K], 0.0, None)  # HiGHS can return round-off like -1e-17
    mu_lp = mu_lp / mu_lp.sum()
    margin = float(np.min(D @ mu_lp))
    mu = None
    if margin > 0:
        eta = margin / (2.0 * (1.0 + margin))
        mu = (1.0 - eta) * mu_lp + eta / K
    return OrderPreservingSampler(order=order, margin=margin, mu_lp=mu_lp, mu=mu)


def onpolicy_optimum(P: ArrayLike, ref: ArrayLike | None = None, beta: ArrayLike = 1.0, *,
                     start: ArrayLike | None = None, tol: float = 1e-12) -> np.ndarray:
    """The self-consistent on-policy optimum: the policy ``π`` that is IPO's optimum for the sampler ``μ = π``.

    Solves ``π = softmax(log π_ref + β P π)``. Shapes as in :func:`ipo_optimum` (``P (..., K, K)``,
    ``ref (..., K)`` or ``None`` = uniform, ``beta`` scalar or ``(...)``); returns ``π`` of shape
    ``(..., K)``, always in the interior of the simplex.

    **Existence and uniqueness.** A solution exists and is unique for every ``P`` and every
    ``β > 0``: ``(π, π)`` is then the saddle point of the strictly concave-convex game
    ``xᵀ(P - ½11ᵀ)y - KL(x‖π_ref)/β + KL(y‖π_ref)/β``, which has exactly one (proof in the book's
    chapter "Concentration under skewed and on-policy sampling"). When ``β ‖P - ½11ᵀ‖₂ / 2 < 1``
    the plain iteration ``π ← softmax(log π_ref + β P π)`` is moreover a contraction in the logits
    and converges from anywhere; beyond that it may circle, but the solution is still unique.

    **Method.** It is the fixed point of the MRS-IPO map with α = 0, λ = 1, solved by
    :func:`prefalign.dynamics.fixed_point` (damped Newton on the logits, by continuation in β, or
    from ``start``, an interior policy, when given).
    """
    from prefalign import dynamics

    init = None
    if start is not None:
        s = validation.probability_vector(start, "start", positive=True)
        validation.same_size(preferences.validate(P).shape[-1], s, "start")
        init = np.log(s)
    return np.exp(dynamics.fixed_point(P, alpha=0.0, beta=beta, lam=1.0, ref=ref, init=init, tol=tol))
