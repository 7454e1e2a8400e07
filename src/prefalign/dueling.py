"""Learning the Smith sampler from comparisons, when ``P`` is unknown.

A learner may ask for comparisons of pairs of responses; each answer is a Bernoulli draw with
success probability ``P[i, j]``. It estimates ``P̂[i, j] = W[i, j] / N[i, j]`` (½ for a pair never
compared) and outputs the Smith sampler of its estimate, ``ipo.smith_sampler(P̂)``. Two rules choose
the pairs, in rounds of geometrically growing size ``B_r = first · 2^r`` (doubling):

* ``"uniform"`` (passive): every pair, counts kept as equal as possible (round robin);
* ``"adaptive"`` (in the spirit of RUCB and Copeland Confidence Bound, Zoghi et al. 2014, 2015):
  only pairs that touch the current Smith set estimate ``Ŝ``; half of the round's budget keeps their
  counts equal, the other half goes to those whose direction is still uncertain (the Hoeffding
  interval ``P̂ ± r`` contains ½), counts kept equal among them. Pairs between two estimated
  outsiders are not compared once Ŝ shrinks.

The radius is the anytime Hoeffding radius ``r(n) = sqrt(log(π² K(K-1) n² / (6δ)) / (2n))``: with
probability at least ``1 - δ`` every ``|P̂[i, j] - P[i, j]| <= r(N[i, j])`` at every time, whatever
the rule (a union bound over pairs and counts). Every run is batched over repetitions and seeded by
an explicit ``numpy.random.Generator``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from prefalign import ipo, preferences, social_choice, validation

RULES = ("adaptive", "uniform")
"""The pair-selection rules of :func:`learn_smith_sampler`."""


def hoeffding_radius(n: ArrayLike, K: int, delta: float) -> np.ndarray:
    """The anytime radius ``sqrt(log(π² K(K-1) n² / (6δ)) / (2n))`` (``inf`` at ``n = 0``), shape of ``n``.

    ``n`` (counts, >= 0), ``K`` (>= 2 responses), ``delta`` in (0, 1)."""
    counts = validation.finite_array(n, "n")
    if np.any(counts < 0):
        raise ValueError(f"n must be >= 0, got {float(counts.min()):g}")
    K = validation.count(K, "K", minimum=2)
    d = validation.scalar(delta, "delta")
    if not 0.0 < d < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {d:g}")
    safe = np.maximum(counts, 1.0)
    r = np.sqrt(np.log(np.pi**2 * K * (K - 1) * safe**2 / (6.0 * d)) / (2.0 * safe))
    return np.where(counts > 0, r, np.inf)


def fixed_count_sufficient(P: ArrayLike, delta: float) -> float:
    """Comparisons per pair that make the Smith sampler of the estimate Smith-top w.p. ``>= 1 - δ``.

    Proposition of the chapter: if each of the ``M`` pairs touching the Smith set ``S`` (at least one
    member) is compared ``n`` times, fixed in advance, with ``n >= log(2M/δ) / (2Δ²)`` and
    ``Δ = min |P[i, j] - ½|`` over those pairs, then with probability ``>= 1 - δ`` the estimate has
    Smith set ``S`` and its reversed maximal lottery ``q̂`` puts ``S`` on top for the true ``P``.
    Returns that ``n`` (not rounded; ``inf`` if ``Δ = 0``). ``P`` one ``K x K`` matrix, ``delta`` in (0, 1).
    """
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    d = validation.scalar(delta, "delta")
    if not 0.0 < d < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {d:g}")
    margin, pairs = _smith_margin(Q)
    if margin == 0.0:
        return float("inf")
    return np.log(2.0 * pairs / d) / (2.0 * margin**2)


def smith_margin(P: ArrayLike) -> float:
    """``Δ = min |P[i, j] − ½|`` over the pairs ``i < j`` touching the Smith set (at least one member):
    the margin that sets :func:`fixed_count_sufficient`. ``P`` one ``K x K`` matrix."""
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    return _smith_margin(Q)[0]


def _smith_margin(Q: np.ndarray) -> tuple[float, int]:
    """:func:`smith_margin` of a validated matrix, and the number ``M`` of pairs touching the Smith set."""
    touching = _touching(Q.shape[0], social_choice.smith_set(Q))
    return float(np.min(np.abs(Q[touching] - 0.5))), int(touching[0].size)


def _touching(K: int, members: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays of the pairs ``i < j`` with at least one endpoint in ``members``."""
    iu, ju = np.triu_indices(K, 1)
    inside = np.zeros(K, dtype=bool)
    inside[members] = True
    keep = inside[iu] | inside[ju]
    return iu[keep], ju[keep]


def estimate(wins: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``P̂ = W / N`` with ½ where ``N = 0``; ``wins`` ``(..., K, K)`` (``W[i, j]``: times i beat j),
    ``counts`` ``(..., K, K)`` symmetric (comparisons of the pair). A valid preference matrix."""
    W = validation.finite_array(wins, "wins")
    N = validation.finite_array(counts, "counts")
    if W.shape != N.shape or W.ndim < 2 or W.shape[-1] != W.shape[-2]:
        raise ValueError(f"wins and counts must have the same shape (..., K, K), got {W.shape} and {N.shape}")
    if np.any(W < 0) or np.any(W > N) or np.any(np.abs(W + np.swapaxes(W, -1, -2) - N) > 0):
        raise ValueError("wins must satisfy 0 <= W <= N and W + W.T = N (every comparison has one winner)")
    with np.errstate(invalid="ignore", divide="ignore"):
        P = np.where(N > 0, W / np.where(N > 0, N, 1.0), 0.5)
    K = P.shape[-1]
    P[..., np.arange(K), np.arange(K)] = 0.5
    return P


@dataclass(frozen=True)
class LearningRun:
    """What :func:`learn_smith_sampler` returns, for ``R`` repetitions and ``T`` rounds.

    ``comparisons`` ``(T,)``: total comparisons after each round (the same in every repetition).
    ``samplers`` ``(R, T, K)``: the learned sampler after each round. ``smith_top`` ``(R, T)``: whether
    IPO's optimum under it (uniform reference) is Smith-top for the true ``P``.
    """

    rule: str
    comparisons: np.ndarray
    samplers: np.ndarray
    smith_top: np.ndarray

    def success_rate(self) -> np.ndarray:
        """Share of repetitions whose learned sampler is Smith-top, after each round, shape ``(T,)``."""
        return self.smith_top.mean(axis=0)

    def comparisons_needed(self, delta: float) -> float:
        """:func:`comparisons_needed` of this run's success rates."""
        return comparisons_needed(self.comparisons, self.success_rate(), delta)


def comparisons_needed(comparisons: ArrayLike, success: ArrayLike, delta: float) -> float:
    """The first ``comparisons[t]`` from which ``success[t:]`` stays ``>= 1 - δ`` (``inf`` if the last one
    is below): the comparisons a learner needs. ``comparisons`` and ``success`` have the same shape ``(T,)``."""
    n = validation.finite_array(comparisons, "comparisons")
    rate = validation.finite_array(success, "success")
    if n.ndim != 1 or rate.shape != n.shape or n.size == 0:
        raise ValueError(f"comparisons and success must have the same shape (T,), T >= 1, got {n.shape} and {rate.shape}")
    d = validation.scalar(delta, "delta")
    if not 0.0 < d < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {d:g}")
    ok = rate >= 1.0 - d
    if not ok[-1]:
        return float("inf")
    bad = np.flatnonzero(~ok)
    return float(n[0 if bad.size == 0 else bad[-1] + 1])


def _allocate(counts: np.ndarray, chosen: tuple[np.ndarray, np.ndarray], budget: int) -> np.ndarray:
    """Split ``budget`` comparisons over the chosen pairs so that their counts end as equal as possible
    (water-filling; ties by pair index). Returns the number of new comparisons per chosen pair."""
    current = counts[chosen].astype(float)
    order = np.argsort(current, kind="stable")
    c = current[order]
    remaining = float(budget)
    level = c[0]
    for k in range(c.size):
        nxt = c[k + 1] if k + 1 < c.size else np.inf
        width = k + 1
        need = (nxt - level) * width
        if need >= remaining:
            level += remaining / width
            break
        remaining -= need
        level = nxt
    target = np.maximum(np.floor(level), c)
    extra = target - c
    left = int(budget - extra.sum())
    for k in range(left):  # the rounding remainder: one more to the least compared
        extra[k % c.size] += 1
    out = np.empty(c.size)
    out[order] = extra
    return out.astype(np.int64)


def learn_smith_sampler(P: ArrayLike, rng: np.random.Generator, *, rule: str = "adaptive", rounds: int = 12,
                        first: int | None = None, repetitions: int = 1, delta: float = 0.05) -> LearningRun:
    """Run the learner of the module docstring ``repetitions`` times on the true ``P`` (one ``K x K`` matrix).

    Round ``r`` (``r = 0..rounds-1``) asks for ``first · 2^r`` comparisons (default ``first = K(K-1)/2``,
    one per pair), chosen by ``rule`` (:data:`RULES`), then recomputes ``P̂`` and the Smith sampler of
    ``P̂``. ``delta`` sets the confidence radius used by the adaptive rule.
    """
    Q = preferences.validate(P)
    if Q.ndim != 2:
        raise ValueError(f"P must be a single K x K matrix here, got shape {Q.shape}")
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    K = Q.shape[0]
    if K < 2:
        raise ValueError(f"P must have K >= 2 responses, got K = {K}")
    rounds = validation.count(rounds, "rounds")
    repetitions = validation.count(repetitions, "repetitions")
    first = K * (K - 1) // 2 if first is None else validation.count(first, "first")
    d = validation.scalar(delta, "delta")
    if not 0.0 < d < 1.0:
        raise ValueError(f"delta must lie in (0, 1), got {d:g}")
    true_smith = np.zeros(K, dtype=bool)
    true_smith[social_choice.smith_set(Q)] = True
    everyone = list(range(K))
    budgets = first * 2 ** np.arange(rounds)
    samplers = np.empty((repetitions, rounds, K))
    for rep in range(repetitions):
        W = np.zeros((K, K))
        N = np.zeros((K, K))
        members = everyone
        for t, budget in enumerate(budgets):
            pairs = _touching(K, members if rule == "adaptive" else everyone)
            plan = [(pairs, int(budget))]
            if rule == "adaptive":
                P_hat = estimate(W, N)
                unsure = np.abs(P_hat[pairs] - 0.5) <= hoeffding_radius(N[pairs], K, d)
                if unsure.any():
                    plan = [(pairs, int(budget) // 2), ((pairs[0][unsure], pairs[1][unsure]), int(budget) - int(budget) // 2)]
            for chosen, share in plan:
                extra = _allocate(N, chosen, share)
                wins = rng.binomial(extra, Q[chosen])
                W[chosen] += wins
                W[chosen[1], chosen[0]] += extra - wins
                N[chosen] += extra
                N[chosen[1], chosen[0]] += extra
            P_hat = estimate(W, N)
            members = social_choice.smith_set(P_hat)
            samplers[rep, t] = ipo.smith_sampler(P_hat)
    smith_top = np.asarray(social_choice.is_smith_top(ipo.ipo_optimum(Q, samplers), Q))
    return LearningRun(rule=rule, comparisons=np.cumsum(budgets), samplers=samplers, smith_top=smith_top)


def compare_rules(P: ArrayLike, rng: np.random.Generator, *, rounds: int = 12, repetitions: int = 50,
                  delta: float = 0.05) -> pd.DataFrame:
    """Success rate against comparisons for both rules of :func:`learn_smith_sampler` on one ``P``, with the
    two fixed baselines: the uniform sampler (Borda; it does not learn) and the oracle Smith sampler
    (it knows ``P``). Columns ``rule, comparisons, success`` (one row per rule and round)."""
    Q = preferences.validate(P)
    K = Q.shape[0]
    frames = []
    for rule in RULES:
        run = learn_smith_sampler(Q, rng, rule=rule, rounds=rounds, repetitions=repetitions, delta=delta)
        frames.append(pd.DataFrame({"rule": rule, "comparisons": run.comparisons, "success": run.success_rate()}))
    steps = frames[0]["comparisons"].to_numpy()
    for name, mu in (("uniform sampler", np.full(K, 1.0 / K)), ("oracle Smith sampler", ipo.smith_sampler(Q))):
        ok = float(social_choice.is_smith_top(ipo.ipo_optimum(Q, mu), Q))
        frames.append(pd.DataFrame({"rule": name, "comparisons": steps, "success": ok}))
    return pd.concat(frames, ignore_index=True)
