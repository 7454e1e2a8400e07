"""On-policy sampling at large β: the self-consistent optimum as a logit (quantal-response) equilibrium.

With a uniform reference, the self-consistent on-policy optimum ``π° = softmax(β P π°)``
(:func:`prefalign.ipo.onpolicy_optimum`) is the symmetric logit equilibrium of the symmetric
zero-sum game with payoff ``A = P - ½11ᵀ`` (McKelvey and Palfrey's quantal response equilibrium
with precision β): each side plays the logit response to the other. It is the saddle point of
``f(x, y) = xᵀAy - KL(x‖u)/β + KL(y‖u)/β``, so for every ``x``

``xᵀAπ° <= (KL(x‖u) - KL(π°‖u))/β <= log K / β``        (the *regret bound*).

Consequences proved in the chapter "Sampling without knowing P":

* with a Condorcet winner ``c`` (margins ``m_j = P[c, j] - ½``), ``x = e_c`` gives
  ``β m (1 - π°_c) <= H(π°) <= h(1 - π°_c) + (1 - π°_c) log(K - 1)``, hence the bound
  :func:`offwinner_bound` on ``1 - π°_c`` and the threshold :func:`condorcet_threshold` beyond which
  π° is Condorcet-top;
* as β → ∞, π° approaches the set of maximal lotteries (the Nash equilibria of ``A``), and two
  responses end up ordered as their payoffs ``(Ap)_i`` against every maximal lottery ``p``
  (:func:`limit_payoffs`); Smith-top fails for large β when a Smith-set member earns less than an
  outsider (:func:`smith_trap`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq, linprog

from prefalign import preferences, social_choice, validation


def _single(P: ArrayLike) -> np.ndarray:
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    return Q


def _winner(Q: np.ndarray) -> int:
    if Q.shape[0] < 2:
        raise ValueError(f"P must have K >= 2 responses, got K = {Q.shape[0]}")
    c = social_choice.condorcet_winner(Q)
    if c is None:
        raise ValueError("P must have a Condorcet winner (a response with P[c, j] > 1/2 for every j != c)")
    return c


def _phi(eps: float, K: int) -> float:
    """``(h(ε) + ε log(K-1)) / ε``, strictly decreasing on (0, 1], from +∞ to ``log(K - 1)``."""
    h = -eps * np.log(eps) - (0.0 if eps >= 1.0 else (1.0 - eps) * np.log1p(-eps))
    return float(h / eps + np.log(K - 1))


def winner_margins(P: ArrayLike) -> tuple[int, np.ndarray, np.ndarray]:
    """``(c, m, w)`` for a ``P`` with a Condorcet winner ``c``: ``m_j = P[c, j] - ½`` and
    ``w_j = max(0, max_{k ∉ {c, j}} (P[j, k] - P[c, k]))`` (0 at ``j = c``), each of shape ``(K,)``.

    ``(Pπ)_c - (Pπ)_j >= π_c m_j - (1 - π_c) w_j`` for every policy π: the score ``c`` gets from itself
    and ``j`` outweighs what ``j`` can gain on the others. Raises ``ValueError`` without a Condorcet winner.
    """
    Q = _single(P)
    c = _winner(Q)
    K = Q.shape[0]
    m = Q[c] - 0.5
    w = np.zeros(K)
    for j in range(K):
        if j != c:
            others = [k for k in range(K) if k not in (c, j)]
            w[j] = max(0.0, float(np.max(Q[j, others] - Q[c, others]))) if others else 0.0
    m[c] = 0.0
    return c, m, w


def _theta(m: np.ndarray, w: np.ndarray, c: int) -> float:
    others = np.arange(m.size) != c
    return float(np.min(m[others] / (m[others] + w[others])))


def condorcet_threshold(P: ArrayLike) -> float:
    """``β₀(P) = (h(θ)/θ + log(K - 1)) / m``: for every ``β > β₀`` the on-policy optimum is Condorcet-top.

    ``P`` is one ``K x K`` matrix with a Condorcet winner ``c``; ``m = min_{j≠c} m_j`` and
    ``θ = min_{j≠c} m_j / (m_j + w_j)`` with ``m, w`` of :func:`winner_margins`; ``h`` is the binary
    entropy (nats). ``β₀ = 0`` for ``K = 2`` (always Condorcet-top). A sufficient threshold, not the
    exact one. Raises ``ValueError`` without a Condorcet winner or with ``K < 2``.
    """
    Q = _single(P)
    c, m, w = winner_margins(Q)
    theta = _theta(m, w, c)
    return _phi(theta, Q.shape[0]) / float(np.min(np.delete(m, c)))


def offwinner_bound(P: ArrayLike, beta: ArrayLike) -> np.ndarray:
    """An upper bound ``ε̄(β)`` on ``1 - π°_c``, the on-policy optimum's mass off the Condorcet winner.

    ``ε̄`` solves ``(h(ε) + ε log(K-1)) / ε = β m`` (``m`` the smallest margin of ``c``) when
    ``β m > log(K - 1)``, and is 1 otherwise; it falls like ``e (K - 1) e^{-β m}`` as β grows.
    ``beta`` (> 0) scalar or array; returns an array of its shape. Raises ``ValueError`` without a
    Condorcet winner.
    """
    Q = _single(P)
    c, m, _ = winner_margins(Q)
    K = Q.shape[0]
    b = validation.positive(beta, "beta")
    target = b * float(np.min(np.delete(m, c)))
    out = np.ones(np.shape(b))
    flat_t, flat_o = np.ravel(target), out.reshape(-1)
    for n, t in enumerate(flat_t):
        if t > np.log(K - 1):
            lo = np.log(1e-300)
            if _phi(np.exp(lo), K) <= t:
                flat_o[n] = 1e-300
            else:
                y = brentq(lambda v: _phi(np.exp(v), K) - t, lo, 0.0, xtol=1e-13, rtol=1e-13)
                flat_o[n] = np.exp(y + 1e-12)  # the root rounded up: still an upper bound
    return out


def regret(pi: ArrayLike, P: ArrayLike) -> float:
    """``max_i (Aπ)_i``, ``A = P - ½11ᵀ``: how much the best response wins against π beyond a tie.

    0 exactly at the maximal lotteries; at the on-policy optimum it is at most ``log K / β``.
    ``pi`` one policy ``(K,)``."""
    Q = _single(P)
    p = validation.probability_vector(pi, "pi")
    validation.same_size(Q.shape[0], p, "pi")
    if p.ndim != 1:
        raise ValueError(f"pi must be a single policy of shape (K,), got shape {p.shape}")
    return float(np.max((Q - 0.5) @ p))


def maximal_lottery_range(P: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(low, high)``: the smallest and largest value of each ``p_i`` over all maximal lotteries of ``P``.

    The maximal lotteries are the polytope ``{p ∈ Δ_K : (P - ½11ᵀ) p <= 0}``; each bound is one
    linear program (HiGHS), ``2K`` in all. They coincide (to the LP's accuracy) iff the maximal lottery
    is unique. ``P`` one ``K x K`` matrix; returns two arrays of shape ``(K,)``.
    """
    Q = _single(P)
    K = Q.shape[0]
    A = Q - 0.5
    low, high = np.empty(K), np.empty(K)
    for i in range(K):
        for sign, out in ((1.0, low), (-1.0, high)):
            c = np.zeros(K)
            c[i] = sign
            res = linprog(c, A_ub=A, b_ub=np.zeros(K), A_eq=np.ones((1, K)), b_eq=[1.0],
                          bounds=[(0, None)] * K, method="highs")
            if res.status != 0:
                raise RuntimeError(f"maximal-lottery range LP failed: {res.message}")
            out[i] = res.x[i]
    return low, high


def limit_payoffs(P: ArrayLike, tol: float = 1e-9) -> np.ndarray | None:
    """``A p*``: each response's payoff against the maximal lottery ``p*``, if ``p*`` is unique, else ``None``.

    As β → ∞ the on-policy optimum tends to ``p*`` and ``log(π°_i/π°_j) = β((Aπ°)_i - (Aπ°)_j)``, so two
    responses with ``(Ap*)_i > (Ap*)_j`` end up ordered ``π°_i > π°_j`` for all large β. Uniqueness is
    decided by :func:`maximal_lottery_range` with tolerance ``tol``. Shape ``(K,)``.
    """
    Q = _single(P)
    tol = validation.scalar(tol, "tol", validation.positive)
    low, high = maximal_lottery_range(Q)
    if np.max(high - low) > tol:
        return None
    p = np.clip((low + high) / 2.0, 0.0, None)
    return (Q - 0.5) @ (p / p.sum())


def limit_smith_top(P: ArrayLike, tol: float = 1e-9) -> bool | None:
    """The Smith-top verdict the large-β on-policy optimum must reach, from :func:`limit_payoffs`.

    ``True`` if every Smith-set member earns more against the unique maximal lottery ``p*`` than every
    outsider (by more than ``tol``), ``False`` if some outsider earns more than some member, ``None``
    if ``p*`` is not unique or the order is decided by a near tie (within ``tol``).
    """
    Q = _single(P)
    payoff = limit_payoffs(Q, tol)
    if payoff is None:
        return None
    inside = np.zeros(Q.shape[0], dtype=bool)
    inside[social_choice.smith_set(Q)] = True
    if inside.all():
        return True
    gap = float(payoff[inside].min() - payoff[~inside].max())
    if abs(gap) <= tol:
        return None
    return gap > 0


def smith_trap(a: float = 0.2, b: float = 0.4, eta: float = 0.05, eta_out: float = 0.02) -> np.ndarray:
    """A 5-response ``P`` whose on-policy optimum breaks Smith-top for every large β.

    Responses 0, 1, 2 form the cycle ``0 ▷ 1 ▷ 2 ▷ 0`` with margin ``a``; response 3 beats 0 by
    ``eta`` and loses to 1 and 2 by ``b``; response 4 loses to everyone by ``eta_out``. The Smith set
    is ``{0, 1, 2, 3}``; the maximal lottery is unique, uniform on ``{0, 1, 2}``, and pays response 3
    ``(eta - 2b)/3`` but the outsider 4 ``-eta_out``. Requires ``0 < a, b, eta, eta_out <= ½``,
    ``eta < 2b`` and ``eta_out < (2b - eta)/3``.
    """
    vals = {name: validation.scalar(v, name) for name, v in
            (("a", a), ("b", b), ("eta", eta), ("eta_out", eta_out))}
    for name, v in vals.items():
        if not 0.0 < v <= 0.5:
            raise ValueError(f"{name} must lie in (0, 1/2], got {v:g}")
    if not vals["eta"] < 2 * vals["b"]:
        raise ValueError(f"eta must be < 2b = {2 * vals['b']:g}, got {vals['eta']:g}")
    if not vals["eta_out"] < (2 * vals["b"] - vals["eta"]) / 3:
        raise ValueError(f"eta_out must be < (2b - eta)/3 = {(2 * vals['b'] - vals['eta']) / 3:g}, got {vals['eta_out']:g}")
    a, b, eta, eta_out = vals["a"], vals["b"], vals["eta"], vals["eta_out"]
    P = np.full((5, 5), 0.5)
    upper = {(0, 1): 0.5 + a, (1, 2): 0.5 + a, (0, 2): 0.5 - a, (0, 3): 0.5 - eta, (1, 3): 0.5 + b, (2, 3): 0.5 + b}
    upper.update({(s, 4): 0.5 + eta_out for s in range(4)})
    for (i, j), v in upper.items():
        P[i, j], P[j, i] = v, 1.0 - v
    return preferences.validate(P)
