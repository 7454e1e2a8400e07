"""Preference matrices: validation, constructors, and structure predicates.

A preference matrix ``P`` over ``K`` responses has ``P[i, j] = Pr(i beats j)`` with
``P + P.T = 1`` (so ``P[i, i] = 1/2``). It is *general*: nothing here assumes Bradley–Terry.
``A = P - ½·11ᵀ`` is its skew-symmetric part. The majority tournament has an edge
``i ▷ j`` ("i beats j") iff ``P[i, j] > P[j, i]`` (:func:`beats`), which is ``P[i, j] > 1/2`` when
``P + P.T = 1`` holds exactly; deciding on the difference keeps a pair that :func:`validate` accepts
as a tie up to its tolerance (``P[i, j] = P[j, i] = ½ + 4e-10``) a tie.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, logit

from prefalign import validation

SKEW_TOL = 1e-9
"""Tolerance on ``|P + P.T - 1|``."""


def validate(P: ArrayLike) -> np.ndarray:
    """Check that ``P`` is a preference matrix (or a batch of them) and return it as float64.

    Conditions, for ``P`` of shape ``(..., K, K)`` with ``K >= 1``: square in the last two axes,
    finite, entries in [0, 1], and ``P + P.T = 1`` within ``SKEW_TOL`` (which includes
    ``P[i, i] = 1/2``). Raises ``ValueError`` naming the worst violating entry.
    """
    arr = validation.finite_array(P, "P", ndim_min=2)
    if arr.shape[-1] != arr.shape[-2] or arr.shape[-1] == 0:
        raise ValueError(f"P must be square (K x K with K >= 1) in its last two axes, got shape {arr.shape}")
    out = (arr < 0) | (arr > 1)
    if np.any(out):
        bad = np.unravel_index(np.argmax(out), arr.shape)
        raise ValueError(f"P must have entries in [0, 1]; P{validation.fmt_index(bad)} = {arr[bad]}")
    dev = np.abs(arr + np.swapaxes(arr, -1, -2) - 1.0)
    if np.any(dev > SKEW_TOL):
        bad = np.unravel_index(np.argmax(dev), arr.shape)
        raise ValueError(
            f"P must satisfy P + P.T = 1 (within {SKEW_TOL:g}); "
            f"max violation {dev[bad]:.3g} at {validation.fmt_index(bad)}"
        )
    return arr


def skew(P: ArrayLike) -> np.ndarray:
    """The skew-symmetric part ``A = P - ½·11ᵀ`` (``A.T = -A``), shape ``(..., K, K)``."""
    return validate(P) - 0.5


def cyclic(a: float) -> np.ndarray:
    """The 3-cycle ``P_a``: ``P[0,1] = P[1,2] = P[2,0] = ½ + a`` (0 beats 1 beats 2 beats 0).

    ``a`` must lie in [0, 1/2]; ``a = 0`` is the all-ties matrix.
    """
    a = validation.scalar(a, "a")
    if not 0.0 <= a <= 0.5:
        raise ValueError(f"a must lie in [0, 0.5], got {a:g}")
    P = np.full((3, 3), 0.5)
    for i, j in ((0, 1), (1, 2), (2, 0)):
        P[i, j] = 0.5 + a
        P[j, i] = 0.5 - a
    return P


def bradley_terry(scores: ArrayLike) -> np.ndarray:
    """Bradley–Terry matrix ``P[i, j] = σ(s_i - s_j)`` with ``σ(x) = 1/(1 + e^{-x})``.

    ``scores`` has shape ``(..., K)``; the result ``(..., K, K)``. Computed with ``expit``,
    so large score gaps give entries that round to 0 or 1 without overflow.
    """
    s = validation.finite_array(scores, "scores", ndim_min=1)
    diff = s[..., :, None] - s[..., None, :]
    return expit(diff)


def _counts(x: ArrayLike, name: str) -> np.ndarray:
    arr = validation.finite_array(x, name, ndim_min=2)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a square K x K matrix with K >= 1, got shape {arr.shape}")
    if np.any(arr < 0):
        bad = np.unravel_index(np.argmin(arr), arr.shape)
        raise ValueError(f"{name} must be non-negative counts; {name}{validation.fmt_index(bad)} = {arr[bad]:g}")
    frac = np.abs(arr - np.round(arr))
    if np.any(frac > 0):
        bad = np.unravel_index(np.argmax(frac), arr.shape)
        raise ValueError(f"{name} must be whole counts; {name}{validation.fmt_index(bad)} = {arr[bad]:g}")
    if np.any(np.diag(arr) != 0):
        i = int(np.argmax(np.diag(arr) != 0))
        raise ValueError(f"{name} must have a zero diagonal (no response is compared with itself); {name}[{i}, {i}] = {arr[i, i]:g}")
    return arr


def from_counts(wins: ArrayLike, ties: ArrayLike | None = None) -> np.ndarray:
    """Empirical preference matrix from pairwise counts, ties counted as half a win each.

    ``wins[i, j]`` = number of comparisons of i with j that i won; ``ties[i, j] = ties[j, i]``
    = number of ties between i and j. Then, with ``n_ij = wins[i, j] + wins[j, i] + ties[i, j]``,
    ``P[i, j] = (wins[i, j] + ties[i, j] / 2) / n_ij`` and ``P[i, i] = 1/2``.
    Every pair must have been compared at least once (otherwise ``P[i, j]`` is unknown and
    an error names the pair); counts must be non-negative whole numbers with a zero diagonal.
    """
    W = _counts(wins, "wins")
    K = W.shape[0]
    T = np.zeros_like(W) if ties is None else _counts(ties, "ties")
    if T.shape != W.shape:
        raise ValueError(f"ties must have the shape of wins {W.shape}, got {T.shape}")
    if np.any(T != T.T):
        bad = np.unravel_index(np.argmax(T != T.T), T.shape)
        raise ValueError(f"ties must be symmetric; ties{validation.fmt_index(bad)} != ties{validation.fmt_index(bad[::-1])}")
    n = W + W.T + T
    off = ~np.eye(K, dtype=bool)
    if np.any((n == 0) & off):
        i, j = np.argwhere((n == 0) & off)[0]
        raise ValueError(f"every pair must be compared at least once; responses {i} and {j} never were")
    P = np.full((K, K), 0.5)
    P[off] = (W[off] + 0.5 * T[off]) / n[off]
    return P


def beats(P: ArrayLike) -> np.ndarray:
    """Boolean majority matrix ``B[i, j] = (P[i, j] > P[j, i])``, shape ``(..., K, K)``.

    The difference, not ``P[i, j] > 1/2``: :func:`validate` accepts ``P + P.T = 1`` up to
    ``SKEW_TOL``, and a pair with ``P[i, j] = P[j, i]`` is a tie whatever the rounding left in
    their sum. ``i`` and ``j`` tie iff neither beats the other."""
    Q = validate(P)
    return Q > np.swapaxes(Q, -1, -2)


def transitive_order(P: ArrayLike) -> list[int] | None:
    """The order ``o`` in which ``o[a]`` beats ``o[b]`` (:func:`beats`) for every ``a < b``, or ``None`` if none exists.

    Such an order exists iff the majority relation is a strict linear order (no ties, no cycles);
    it is then the order by number of wins, best first.
    """
    B = beats(P)
    if B.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {B.shape}")
    order = [int(i) for i in np.argsort(-B.sum(axis=1), kind="stable")]
    Q = B[np.ix_(order, order)]
    if np.all(Q[np.triu_indices(len(order), k=1)]):
        return order
    return None


def is_transitive(P: ArrayLike) -> bool:
    """True iff some order has ``i`` beating ``j`` (``P[i, j] > P[j, i]``) for every ``i`` before ``j``."""
    return transitive_order(P) is not None


def is_strongly_transitive(P: ArrayLike, *, strict: bool = False) -> bool:
    """Strong stochastic transitivity (SST).

    True iff ``P`` is transitive and, in its order, ``P[i, k] >= max(P[i, j], P[j, k])`` for all
    ``i < j < k`` (``>`` for every such triple when ``strict``).
    """
    order = transitive_order(P)
    if order is None:
        return False
    Q = validate(P)[np.ix_(order, order)]
    K = len(order)
    i, j, k = np.meshgrid(np.arange(K), np.arange(K), np.arange(K), indexing="ij")
    triple = (i < j) & (j < k)
    lower = np.maximum(Q[i, j], Q[j, k])
    holds = Q[i, k] > lower if strict else Q[i, k] >= lower
    return bool(np.all(holds[triple]))


def is_cyclic(P: ArrayLike) -> bool:
    """True iff the majority tournament (``i ▷ j`` iff ``P[i, j] > P[j, i]``, :func:`beats`) has a directed cycle."""
    B = beats(P)
    if B.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {B.shape}")
    alive = np.ones(B.shape[0], dtype=bool)
    while alive.any():
        unbeaten = alive & ~B[np.ix_(alive, np.arange(B.shape[0]))].any(axis=0)
        if not unbeaten.any():
            return True
        alive &= ~unbeaten
    return False


def is_bradley_terry(P: ArrayLike, tol: float = 1e-9) -> bool:
    """True iff ``P[i, j] = σ(s_i - s_j)`` for some scores ``s``, within ``tol`` on the logit scale.

    The least-squares scores are ``s_i = mean_j logit(P[i, j])``; ``P`` is BT iff
    ``max |logit P[i, j] - (s_i - s_j)| <= tol``. Entries equal to 0 or 1 (infinite logits)
    are never BT.
    """
    Q = validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    tol = validation.scalar(tol, "tol", validation.positive)
    if np.any((Q <= 0) | (Q >= 1)):
        return False
    L = logit(Q)
    s = L.mean(axis=1)
    return bool(np.max(np.abs(L - (s[:, None] - s[None, :]))) <= tol)


def random_preference_matrix(K: int, rng: np.random.Generator) -> np.ndarray:
    """A general random ``K x K`` preference matrix: ``P[i, j] ~ Uniform(0, 1)`` i.i.d. for ``i < j``."""
    rng = validation.generator(rng)
    K = validation.count(K, "K")
    P = np.full((K, K), 0.5)
    iu = np.triu_indices(K, k=1)
    P[iu] = rng.uniform(0.0, 1.0, size=len(iu[0]))
    P.T[iu] = 1.0 - P[iu]
    return P


def random_strongly_transitive(K: int, rng: np.random.Generator) -> np.ndarray:
    """A random *strictly* strongly transitive ``K x K`` matrix, best response 0, order ``0, 1, ..., K-1``.

    Entries above the diagonal lie in (½, 1), strictly increase along each row (rightwards) and
    strictly increase up each column, so ``P[i, k] > max(P[i, j], P[j, k])`` for ``i < j < k``.
    Construction: i.i.d. uniforms, running maxima along rows then up columns, plus a small
    strictly increasing ramp in ``k - i``.
    """
    rng = validation.generator(rng)
    K = validation.count(K, "K")
    M = np.zeros((K, K))
    iu = np.triu_indices(K, k=1)
    M[iu] = rng.uniform(0.0, 1.0, size=len(iu[0]))
    M = np.maximum.accumulate(M, axis=1)
    M = np.maximum.accumulate(M[::-1], axis=0)[::-1]
    delta = 0.01
    gap = np.subtract.outer(np.arange(K), np.arange(K)).T
    v = (M + delta * gap) / (1.0 + delta * K)
    P = np.full((K, K), 0.5)
    P[iu] = 0.5 + 0.5 * v[iu]
    P.T[iu] = 1.0 - P[iu]
    return P


def random_cyclic(K: int, rng: np.random.Generator, *, max_tries: int = 10_000) -> np.ndarray:
    """A random general preference matrix whose majority tournament has a cycle (``K >= 3``).

    Rejection sampling from ``random_preference_matrix``; raises after ``max_tries`` draws.
    """
    rng = validation.generator(rng)
    K = validation.count(K, "K", minimum=3)
    max_tries = validation.count(max_tries, "max_tries")
    for _ in range(max_tries):
        P = random_preference_matrix(K, rng)
        if is_cyclic(P):
            return P
    raise RuntimeError(f"no cyclic matrix with K={K} found in {max_tries} draws")


def linear(x: ArrayLike) -> np.ndarray:
    """The linear preference matrix ``P[i, k] = ½ + x_i - x_k`` (shape ``(K, K)`` from ``x`` of shape ``(K,)``).

    Valid iff ``max(x) - min(x) <= 1/2``. It is the only kind of preference matrix in which
    ``P[i, k] - P[j, k]`` does not depend on ``k``, so every logit gap of IPO's optimum is the same for
    every sampler (see :mod:`prefalign.concentration`).
    """
    v = validation.finite_array(x, "x", ndim_min=1)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"x must be a non-empty vector of shape (K,), got shape {v.shape}")
    spread = float(v.max() - v.min())
    if spread > 0.5:
        raise ValueError(f"x must have max(x) - min(x) <= 0.5 so that entries lie in [0, 1], got {spread:g}")
    return 0.5 + v[:, None] - v[None, :]


def fooling_matrix(mu: ArrayLike, eps: float | None = None) -> np.ndarray:
    """A transitive ``P`` whose IPO optimum under the sampler ``μ`` puts the Condorcet winner second.

    Let ``c`` and ``d`` be the two responses with the least mass under ``μ`` (``K >= 3``; ties
    broken by index, ``c`` first) and ``o_1 < o_2 < ...`` the others. ``P`` has the strict order
    ``c, d, o_1, o_2, ...``: ``c`` beats everyone by a hair, ``P[c, j] = ½ + ε``; ``d`` beats every
    ``o`` for sure, ``P[d, o] = 1``; and ``P[o_a, o_b] = 1`` for ``a < b``. Then

    ``(Pμ)_d - (Pμ)_c = ½ (1 - μ_c - μ_d) - ε > 0``,

    so IPO's optimum (uniform reference, any β > 0) ranks ``d`` above the Condorcet winner ``c``.
    ``eps`` must lie in ``(0, ½ (1 - μ_c - μ_d))``; the default is ``(1 - μ_c - μ_d) / 4``, which is
    at least 1/12 because ``μ_c + μ_d <= 2/K <= 2/3``. ``μ`` may lack full support.
    """
    m = validation.probability_vector(mu, "mu")
    if m.ndim != 1 or m.size < 3:
        raise ValueError(f"mu must be a single sampler of shape (K,) with K >= 3, got shape {m.shape}")
    K = m.size
    c, d = (int(i) for i in np.argsort(m, kind="stable")[:2])
    room = 0.5 * (1.0 - m[c] - m[d])
    if eps is None:
        eps = room / 2
    eps = validation.scalar(eps, "eps")
    if not 0.0 < eps < room:
        raise ValueError(f"eps must lie in (0, (1 - mu_c - mu_d)/2) = (0, {room:.6g}) for this mu, got {eps:g}")
    order = [c, d] + [i for i in range(K) if i not in (c, d)]
    P = np.full((K, K), 0.5)
    for a, i in enumerate(order):
        for j in order[a + 1:]:
            P[i, j] = 0.5 + eps if i == c else 1.0
            P[j, i] = 1.0 - P[i, j]
    return P


def random_transitive(K: int, rng: np.random.Generator) -> np.ndarray:
    """A random transitive ``K x K`` matrix with order ``0, 1, ..., K-1`` (best first).

    Entries above the diagonal are i.i.d. uniform on (½, 1]; nothing else is imposed, so for
    ``K >= 3`` the matrix is usually not strongly transitive.
    """
    rng = validation.generator(rng)
    K = validation.count(K, "K")
    P = np.full((K, K), 0.5)
    iu = np.triu_indices(K, k=1)
    P[iu] = 1.0 - 0.5 * rng.uniform(0.0, 1.0, size=len(iu[0]))
    P.T[iu] = 1.0 - P[iu]
    return P


def random_with_smith_set(K: int, size: int, rng: np.random.Generator, *, max_tries: int = 10_000) -> np.ndarray:
    """A random ``K x K`` matrix whose Smith set has exactly ``size`` members (``1 <= size <= K``).

    The members are a uniformly random subset. Each member beats each non-member with probability
    uniform on (½, 1]; pairs of non-members are uniform on [0, 1]. Inside the set: nothing for
    ``size = 1`` (a Condorcet winner); an exact tie ``P = ½`` for ``size = 2`` (without a tie one of
    two responses would dominate alone); for ``size >= 3`` a random matrix drawn until its own Smith
    set is all of it (at most ``max_tries`` draws, then ``RuntimeError``).
    """
    rng = validation.generator(rng)
    K = validation.count(K, "K")
    size = validation.count(size, "size")
    if size > K:
        raise ValueError(f"size must be <= K = {K}, got {size}")
    max_tries = validation.count(max_tries, "max_tries")
    from prefalign import social_choice  # imported here: social_choice itself imports this module

    members = np.sort(rng.permutation(K)[:size])
    outsiders = np.setdiff1d(np.arange(K), members)
    P = random_preference_matrix(K, rng)
    if size == 2:
        P[members[0], members[1]] = P[members[1], members[0]] = 0.5
    elif size >= 3:
        for _ in range(max_tries):
            inner = random_preference_matrix(size, rng)
            if len(social_choice.smith_set(inner)) == size:
                break
        else:
            raise RuntimeError(f"no {size} x {size} matrix with a full Smith set found in {max_tries} draws")
        P[np.ix_(members, members)] = inner
    win = 1.0 - 0.5 * rng.uniform(0.0, 1.0, size=(size, outsiders.size))
    P[np.ix_(members, outsiders)] = win
    P[np.ix_(outsiders, members)] = 1.0 - win.T
    return P


def dominance_margins(P: ArrayLike, top: int) -> np.ndarray:
    """``δ_j = min_k (P[top, k] - P[j, k])``: by how much response ``top`` row-dominates each ``j``.

    Shape ``(K,)`` with ``δ_top = 0``. For every sampler μ, ``(Pμ)_top - (Pμ)_j >= δ_j``. If P is
    strictly strongly transitive with best response ``top``, every ``δ_j`` (``j ≠ top``) is ``> 0``.
    """
    Q = validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    top = validation.count(top, "top", minimum=0)
    if top >= Q.shape[0]:
        raise ValueError(f"top must be a response index in [0, {Q.shape[0] - 1}], got {top}")
    return (Q[top] - Q).min(axis=1)



STRUCTURES = ("cyclic", "strongly transitive", "neither")
"""The three classes of :func:`structure`: they are disjoint (a cyclic tournament is not transitive)."""


def structure(P: ArrayLike) -> np.ndarray | str:
    """Classify each matrix of a batch as ``"cyclic"``, ``"strongly transitive"`` or ``"neither"``.

    ``"cyclic"`` iff :func:`is_cyclic`; ``"strongly transitive"`` iff :func:`is_strongly_transitive`
    (non-strict); otherwise ``"neither"`` (e.g. a tie ``P[i, j] = 1/2`` in an otherwise acyclic
    tournament, or a transitive matrix that violates SST). ``P`` has shape ``(..., K, K)``; the
    result is a string array of shape ``(...)``, or a ``str`` for a single ``K x K`` matrix.
    """
    Q = validate(P)
    flat = Q.reshape(-1, *Q.shape[-2:])
    labels = [STRUCTURES[0] if is_cyclic(M) else STRUCTURES[1] if is_strongly_transitive(M) else STRUCTURES[2]
              for M in flat]
    if Q.ndim == 2:
        return labels[0]
    return np.array(labels).reshape(Q.shape[:-2])


def fit_bradley_terry(wins: ArrayLike, ties: ArrayLike | None = None, *, tol: float = 1e-10, max_iter: int = 100) -> np.ndarray:
    """Maximum-likelihood Bradley–Terry scores from pairwise counts (ties counted as half a win each).

    Maximises ``ℓ(s) = Σ_{i≠j} w_ij log σ(s_i - s_j)`` with ``w = wins + ties/2`` (the convention of
    :func:`from_counts`); the scores are centred (``Σ s_i = 0``), so ``σ(s_i - s_j)`` is the fitted
    ``P[i, j]``. Pairs never compared simply do not enter ``ℓ`` (the matrix may be incomplete).
    The maximiser exists and is unique iff the directed graph with an edge ``i → j`` whenever
    ``w_ij > 0`` is strongly connected (Zermelo's condition); otherwise ``ValueError`` names a
    response that no path reaches. Solved by Newton's method on the concave ``ℓ`` with a
    backtracking line search, until the score equations ``Σ_j n_ij σ(s_i - s_j) = Σ_j w_ij``
    (``n_ij = w_ij + w_ji``) hold to ``tol`` relative to the number of comparisons.
    Returns ``s`` of shape ``(K,)``.
    """
    W = _counts(wins, "wins")
    T = np.zeros_like(W) if ties is None else _counts(ties, "ties")
    if T.shape != W.shape or np.any(T != T.T):
        raise ValueError(f"ties must be symmetric with the shape of wins {W.shape}")
    w = W + 0.5 * T
    K = w.shape[0]
    for graph, path in ((w > 0, "from response 0 to response {j}"), ((w > 0).T, "from response {j} to response 0")):
        reach = np.zeros(K, dtype=bool)
        reach[0] = True
        for _ in range(K):
            reach |= graph[reach].any(axis=0)
        if not reach.all():
            where = path.format(j=int(np.argmin(reach)))
            raise ValueError(
                "wins must make the comparison graph strongly connected for the Bradley–Terry MLE to exist; "
                f"no chain of wins (i beat j, j beat k, ...) leads {where}"
            )
    n = w + w.T
    tol = validation.scalar(tol, "tol", validation.positive)
    max_iter = validation.count(max_iter, "max_iter")

    def loglik(s: np.ndarray) -> float:
        return float(-np.sum(w * np.logaddexp(0.0, -(s[:, None] - s[None, :]))))

    s = np.zeros(K)
    for _ in range(max_iter):
        p = expit(s[:, None] - s[None, :])
        grad = w.sum(axis=1) - (n * p).sum(axis=1)
        if np.max(np.abs(grad)) <= tol * max(1.0, n.sum()):
            return s - s.mean()
        weights = n * p * p.T
        laplacian = np.diag(weights.sum(axis=1)) - weights
        step = np.linalg.solve(laplacian + np.full((K, K), 1.0 / K), grad)
        t, current = 1.0, loglik(s)
        while loglik(s + t * step) < current and t > 1e-12:
            t /= 2
        s = s + t * step
    raise RuntimeError(f"Bradley–Terry MLE did not converge in {max_iter} Newton steps; max score-equation residual {np.max(np.abs(grad)):.3g}")


def mean_cycle_margin(P: ArrayLike) -> np.ndarray:
    """``ā = (A[0,1] + A[1,2] + A[2,0]) / 3`` for 3 x 3 matrices: the mean margin around the cycle 0 → 1 → 2 → 0.

    ``A = P - ½11ᵀ``. Positive when that orientation wins on average, negative for 0 → 2 → 1 → 0.
    For the 3-cycle ``P_a`` (:func:`cyclic`) it is ``a``. Shape ``(...)`` for ``P`` of shape
    ``(..., 3, 3)``.
    """
    A = skew(P)
    if A.shape[-1] != 3:
        raise ValueError(f"P must be 3 x 3 (three responses), got shape {A.shape}")
    return (A[..., 0, 1] + A[..., 1, 2] + A[..., 2, 0]) / 3.0


TIE_TOL = 1e-12
"""Tolerance of the ties-allowed rule: ``|P[i, j] - 1/2| <= TIE_TOL`` is a tie."""


def has_strict_majority_cycle(P: ArrayLike, tol: float = TIE_TOL) -> np.ndarray | bool:
    """True iff the strict majority relation ``i ▷ j ⇔ (P[i, j] - P[j, i]) / 2 > tol`` has a directed cycle.

    (``(P[i, j] - P[j, i]) / 2 = P[i, j] - 1/2`` when ``P + P.T = 1`` exactly.) Ties
    (``|P[i, j] - P[j, i]| / 2 <= tol``) are no edge, so a cycle needs every step to be a strict
    majority. With ``tol = 0`` this is :func:`is_cyclic`. Batched: ``P`` (..., K, K) gives a boolean
    array of shape (...), a single matrix a ``bool``. Computed by the transitive closure of ``▷``
    (Warshall): a cycle exists iff some ``i`` reaches itself.
    """
    Q = validate(P)
    tol = validation.scalar(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol:g}")
    reach = 0.5 * (Q - np.swapaxes(Q, -1, -2)) > tol
    for m in range(Q.shape[-1]):
        reach = reach | (reach[..., :, m:m + 1] & reach[..., m:m + 1, :])
    out = np.diagonal(reach, axis1=-2, axis2=-1).any(axis=-1)
    return bool(out) if out.ndim == 0 else out


def is_weakly_strongly_transitive(P: ArrayLike, tol: float = TIE_TOL) -> np.ndarray | bool:
    """Strong stochastic transitivity with ties allowed (the paper's rule, as used by the authors' code).

    True iff for every ordered triple of distinct ``i, j, k`` with ``P[i, j] >= 1/2``,
    ``P[j, k] >= 1/2`` and at least one of them ``> 1/2``, ``P[i, k] >= max(P[i, j], P[j, k])``; all
    comparisons with tolerance ``tol`` (``>= 1/2`` means ``>= 1/2 - tol``, ``> 1/2`` means
    ``> 1/2 + tol``, and the last inequality may fail by ``tol``). No order is needed: a tie
    ``P[i, j] = 1/2`` may sit anywhere. Without ties it equals :func:`is_strongly_transitive`
    (experiments chapter). Batched like :func:`has_strict_majority_cycle`.
    """
    Q = validate(P)
    tol = validation.scalar(tol, "tol")
    if tol < 0:
        raise ValueError(f"tol must be >= 0, got {tol:g}")
    K = Q.shape[-1]
    ij = Q[..., :, :, None]  # P[i, j] at [i, j, k]
    jk = Q[..., None, :, :]  # P[j, k]
    ik = Q[..., :, None, :]  # P[i, k]
    distinct = (np.arange(K)[:, None, None] != np.arange(K)[None, :, None]) & \
               (np.arange(K)[None, :, None] != np.arange(K)[None, None, :]) & \
               (np.arange(K)[:, None, None] != np.arange(K)[None, None, :])
    premise = distinct & (ij >= 0.5 - tol) & (jk >= 0.5 - tol) & ((ij > 0.5 + tol) | (jk > 0.5 + tol))
    violated = premise & (ik < np.maximum(ij, jk) - tol)
    out = ~violated.any(axis=(-3, -2, -1))
    return bool(out) if out.ndim == 0 else out


TIE_RULES = ("strict", "ties allowed")
"""The two classification rules of :func:`structure_under`: the book's strict rule (:func:`structure`) and the
paper's rule with ties allowed (:func:`has_strict_majority_cycle`, :func:`is_weakly_strongly_transitive`)."""


def structure_under(P: ArrayLike, rule: str) -> np.ndarray | str:
    """Classify like :func:`structure` under ``rule``: ``"strict"`` is :func:`structure`; ``"ties allowed"``
    gives ``"cyclic"`` iff :func:`has_strict_majority_cycle`, ``"strongly transitive"`` iff
    :func:`is_weakly_strongly_transitive`, ``"neither"`` otherwise (the two classes are disjoint: a
    strict-majority cycle violates the weak inequalities on some triple of it)."""
    rule = validation.choice(rule, "rule", TIE_RULES)
    if rule == "strict":
        return structure(P)
    if rule != "ties allowed":
        raise ValueError(f"rule must be one of {list(TIE_RULES)}, got {rule!r}")
    cyc, sst = has_strict_majority_cycle(P), is_weakly_strongly_transitive(P)
    out = np.where(cyc, STRUCTURES[0], np.where(sst, STRUCTURES[1], STRUCTURES[2]))
    return str(out) if out.ndim == 0 else out
