"""Social-choice notions on a preference matrix: winners, the Smith set, scores, maximal lotteries.

``i`` *beats* ``j`` iff ``P[i, j] > P[j, i]`` (the majority tournament, :func:`preferences.beats`;
``P[i, j] > 1/2`` when ``P + P.T = 1`` exactly). All functions take a single
validated ``K x K`` matrix.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import linprog

from prefalign import preferences, validation


def _single(P: ArrayLike) -> np.ndarray:
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    return Q


def condorcet_winner(P: ArrayLike) -> int | None:
    """The response that beats every other one (``P[c, j] > P[j, c]`` for all ``j != c``), or ``None``."""
    B = preferences.beats(_single(P))
    np.fill_diagonal(B, True)
    winners = np.flatnonzero(B.all(axis=1))
    return int(winners[0]) if winners.size else None


def copeland_scores(P: ArrayLike) -> np.ndarray:
    """Copeland score: ``#{j : i beats j} + ½ #{j != i : i and j tie}`` (:func:`preferences.beats`), shape ``(K,)``."""
    B = preferences.beats(_single(P))
    ties = (~B & ~B.T).sum(axis=1) - 1
    return B.sum(axis=1) + 0.5 * ties


def borda_scores(P: ArrayLike) -> np.ndarray:
    """Borda score ``b_i = Σ_{j != i} P[i, j]``: expected wins against all others, shape ``(K,)``.

    Relation to IPO: with the uniform sampler ``u``, ``(P u)_i = (b_i + 1/2) / K``, so uniform
    sampling ranks responses by Borda score.
    """
    Q = _single(P)
    return Q.sum(axis=1) - 0.5


def smith_set(P: ArrayLike) -> list[int]:
    """The Smith set, sorted: the smallest non-empty set whose every member beats every non-member.

    Dominating sets are nested (two of them, neither inside the other, would each have a member
    beating a member of the other), and members have strictly larger Copeland scores than
    non-members, so the Smith set is the shortest dominating prefix of the Copeland order.
    """
    Q = _single(P)
    K = Q.shape[0]
    order = np.argsort(-copeland_scores(Q), kind="stable")
    B = preferences.beats(Q)
    for m in range(1, K + 1):
        inside, outside = order[:m], order[m:]
        if B[np.ix_(inside, outside)].all():
            return sorted(int(i) for i in inside)
    raise AssertionError("unreachable: the full set is always dominating")


def maximal_lottery(P: ArrayLike) -> np.ndarray:
    """A maximal lottery: ``p ∈ Δ_K`` with ``Σ_i p_i P[i, j] >= 1/2`` for every ``j``.

    ``p`` is an optimal mixed strategy of the symmetric zero-sum game with payoff
    ``A = P - ½·11ᵀ`` (value 0): no response beats a ``p``-drawn opponent with probability above
    ``1/2``. Solved as the linear program ``max v`` s.t. ``Aᵀ p >= v·1``, ``p ∈ Δ_K``
    (``scipy.optimize.linprog``, HiGHS). Uniqueness, as known: the maximal lottery is unique
    for every tournament (all ``P[i, j] ∈ {0, 1}`` off the diagonal), of any size (Laffond,
    Laslier and Le Breton 1993; its support then has odd size), and more generally whenever the
    margins ``P[i, j] - P[j, i]`` are odd integers up to a common factor (Fisher and Ryan 1995;
    e.g. an odd number of voters with strict rankings). It is not unique in general when exact ties
    are allowed: for the all-ties matrix ``P = ½11ᵀ`` every lottery is maximal. The set of maximal
    lotteries is always a non-empty convex polytope; when it is not a point the LP returns one of
    its points.
    """
    Q = _single(P)
    K = Q.shape[0]
    A = Q - 0.5
    c = np.zeros(K + 1)
    c[-1] = -1.0
    A_ub = np.hstack([-A.T, np.ones((K, 1))])
    A_eq = np.hstack([np.ones((1, K)), np.zeros((1, 1))])
    res = linprog(
        c, A_ub=A_ub, b_ub=np.zeros(K), A_eq=A_eq, b_eq=[1.0],
        bounds=[(0, None)] * K + [(None, None)], method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"maximal-lottery LP failed: {res.message}")
    p = np.clip(res.x[:K], 0.0, None)  # HiGHS can return round-off like -1e-17
    return p / p.sum()


def _policy(pi: ArrayLike, K: int) -> np.ndarray:
    p = validation.probability_vector(pi, "pi")
    validation.same_size(K, p, "pi")
    return p


def _verdict(holds: np.ndarray) -> bool | np.ndarray:
    return bool(holds) if holds.ndim == 0 else holds


def is_condorcet_top(pi: ArrayLike, P: ArrayLike) -> bool | np.ndarray:
    """Condorcet-top: if ``P`` has a Condorcet winner ``c``, then ``π_c > π_j`` for every ``j != c``.

    True when there is no Condorcet winner (the property then asks nothing). Strict: a tie with
    the winner is a violation. ``pi`` is a policy of shape ``(K,)`` (returns a ``bool``) or a batch
    ``(..., K)`` of policies for the same ``P`` (returns a boolean array of shape ``(...)``).
    """
    Q = _single(P)
    p = _policy(pi, Q.shape[0])
    c = condorcet_winner(Q)
    if c is None:
        return _verdict(np.ones(p.shape[:-1], dtype=bool))
    return _verdict(np.all(np.delete(p, c, axis=-1) < p[..., c:c + 1], axis=-1))


def is_smith_top(pi: ArrayLike, P: ArrayLike) -> bool | np.ndarray:
    """Smith-top: every member ``s`` of the Smith set has ``π_s > π_o`` for every non-member ``o``.

    True when the Smith set is all of the responses. Strict: ties across the boundary are
    violations. With a Condorcet winner (Smith set ``{c}``) this is Condorcet-top. ``pi``: one
    policy ``(K,)`` or a batch ``(..., K)``, as in :func:`is_condorcet_top`.
    """
    Q = _single(P)
    p = _policy(pi, Q.shape[0])
    inside = np.zeros(Q.shape[0], dtype=bool)
    inside[smith_set(Q)] = True
    if inside.all():
        return _verdict(np.ones(p.shape[:-1], dtype=bool))
    return _verdict(p[..., inside].min(axis=-1) > p[..., ~inside].max(axis=-1))


def is_order_preserving(pi: ArrayLike, P: ArrayLike) -> bool | np.ndarray:
    """Order preservation for a transitive ``P`` with order ``o``: ``π_{o_1} > π_{o_2} > ... > π_{o_K}``.

    Defined only for transitive ``P`` (see :func:`prefalign.preferences.transitive_order`); raises
    ``ValueError`` otherwise. Strict: equal probabilities for two responses violate it. ``pi``: one
    policy ``(K,)`` or a batch ``(..., K)``, as in :func:`is_condorcet_top`.
    """
    Q = _single(P)
    p = _policy(pi, Q.shape[0])
    order = preferences.transitive_order(Q)
    if order is None:
        raise ValueError("P must be transitive (its majority relation a strict linear order) for order preservation to be defined")
    return _verdict(np.all(np.diff(p[..., order], axis=-1) < 0, axis=-1))
