"""Checks of the chapter "Sampling without knowing P" (label prefix ``thm-sampling-``)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from prefalign import dueling, dynamics, ipo, preferences, quantal, simplex, social_choice
from prefalign.checks import CheckResult, register

CHAPTER = "sampling"
DEFAULT_SEED = 20260301
BETAS = (4.0, 16.0, 64.0, 256.0)
"""The signal strengths at which the chapter solves the on-policy optimum on random matrices."""
TRAP = {"a": 0.2, "b": 0.4, "eta": 0.05, "eta_out": 0.02}
"""The parameters of the chapter's Smith trap (:func:`prefalign.quantal.smith_trap`)."""
TRAP_BETAS = (16.0, 1024.0)
"""The β range over which :func:`trap_breaks_smith_top` solves the trap's on-policy optimum."""
CLEARANCE = 20.0
"""A limit prediction is compared at β only if no payoff lies within ``CLEARANCE/β`` of a tie."""


def condorcet_matrices(count: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` random matrices with a Condorcet winner, ``K`` uniform on 3..8 (``random_with_smith_set``, size 1)."""
    return [preferences.random_with_smith_set(int(rng.integers(3, 9)), 1, rng) for _ in range(count)]


@lru_cache(maxsize=2)
def onpolicy_table(seed: int, fast: bool) -> pd.DataFrame:
    """The on-policy optimum on random Condorcet matrices at each β of :data:`BETAS` and at ``1.01 β₀``:
    its mass off the winner, Condorcet-top, the bound ``ε̄(β)`` and the regret against ``log K/β``. Cached."""
    rng = np.random.default_rng([seed, 1])
    rows = []
    for n, P in enumerate(condorcet_matrices(30 if fast else 120, rng)):
        K = P.shape[0]
        c = social_choice.condorcet_winner(P)
        beta0 = quantal.condorcet_threshold(P)
        for beta in (*BETAS, 1.01 * beta0):
            pi = ipo.onpolicy_optimum(P, beta=beta)
            rows.append({"matrix": n, "K": K, "beta": beta, "beta0": beta0, "off": 1.0 - pi[c],
                         "bound": float(quantal.offwinner_bound(P, beta)), "top": bool(social_choice.is_condorcet_top(pi, P)),
                         "regret": quantal.regret(pi, P), "regret_bound": np.log(K) / beta,
                         "margin": float(np.min(np.delete(P[c], c)) - 0.5)})
    return pd.DataFrame(rows)


@register(CHAPTER)
def condorcet_top_beyond_threshold(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For β > β₀(P) the on-policy optimum is Condorcet-top: violations among the (matrix, β) with β > β₀."""
    t = onpolicy_table(seed, fast)
    beyond = t[t["beta"] > t["beta0"]]
    return CheckResult(
        CHAPTER, "thm-sampling-condorcet",
        f"Condorcet-top violations of the on-policy optimum at β > β₀, {len(beyond)} (matrix, β) of "
        f"{t['matrix'].nunique()} random matrices with a Condorcet winner, K = 3..8",
        measured=float((~beyond["top"]).sum()), expected=0.0, tolerance=0.0, against="theorem's bound", details=t,
    )


@register(CHAPTER)
def offwinner_mass_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``1 − π°_c <= ε̄(β)`` (:func:`prefalign.quantal.offwinner_bound`): the largest ratio over all (matrix, β)."""
    t = onpolicy_table(seed, fast)
    return CheckResult(
        CHAPTER, "thm-sampling-condorcet",
        f"max over {len(t)} (matrix, β) of (1 − π°_c) / ε̄(β), on-policy optimum solved by Newton",
        measured=float((t["off"] / t["bound"]).max()), expected=1.0, tolerance=1e-9, relation="at_most",
        against="theorem's bound",
    )


@register(CHAPTER)
def regret_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``max_i (Aπ°)_i <= log K / β`` at the on-policy optimum (the regret bound of the equilibrium)."""
    t = onpolicy_table(seed, fast)
    return CheckResult(
        CHAPTER, "lem-sampling-regret",
        f"max over {len(t)} (matrix, β) of max_i (Aπ°)_i / (log K / β)",
        measured=float((t["regret"] / t["regret_bound"]).max()), expected=1.0, tolerance=1e-9, relation="at_most",
        against="theorem's bound",
    )


@register(CHAPTER)
def trap_limit_payoffs(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """On the Smith trap the maximal lottery is unique and pays response 3 ``(η − 2b)/3`` and the outsider
    ``−η_out`` (hand values); measured: the largest deviation of ``limit_payoffs`` (LP) from them.
    ``seed`` and ``fast`` are unused."""
    P = quantal.smith_trap(**TRAP)
    payoff = quantal.limit_payoffs(P)
    hand = np.array([0.0, 0.0, 0.0, (TRAP["eta"] - 2 * TRAP["b"]) / 3, -TRAP["eta_out"]])
    return CheckResult(
        CHAPTER, "prop-sampling-trap",
        "max |A p* − hand values| on the Smith trap (p* from linear programs, unique)",
        measured=float(np.inf if payoff is None else np.max(np.abs(payoff - hand))), expected=0.0, tolerance=1e-9,
        against="hand value",
    )


@register(CHAPTER)
def trap_breaks_smith_top(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """On the Smith trap the on-policy optimum is not Smith-top at any β of :data:`TRAP_BETAS` (geometric grid):
    the count of β where it is. ``seed`` is unused."""
    P = quantal.smith_trap(**TRAP)
    betas = np.geomspace(*TRAP_BETAS, 5 if fast else 13)
    kept = sum(bool(social_choice.is_smith_top(ipo.onpolicy_optimum(P, beta=b), P)) for b in betas)
    return CheckResult(
        CHAPTER, "prop-sampling-trap",
        f"β in [{TRAP_BETAS[0]:g}, {TRAP_BETAS[1]:g}] ({betas.size} values) where the on-policy optimum of the Smith trap is still Smith-top",
        measured=float(kept), expected=0.0, tolerance=0.0, against="theorem's bound",
    )


@register(CHAPTER)
def limit_predicts_smith_top(seed: int = DEFAULT_SEED, fast: bool = False, big_beta: float = 4096.0,
                             clearance: float = CLEARANCE) -> CheckResult:
    """On random matrices with a Smith set of 3..K−1 members, the on-policy optimum at a large β has the
    Smith-top verdict predicted from the unique maximal lottery ``p*`` (LPs): disagreements. The theorem is
    a limit; at finite β only *clear* cases are compared: ``p*`` unique, every payoff ``(Ap*)_i`` either 0
    or below ``−clearance/β``, and the member–outsider payoff gap at least ``clearance/β`` in size. Fewer
    than half of the matrices clear makes the check fail (measured ``inf``): it would test too little."""
    rng = np.random.default_rng([seed, 2])
    count = 30 if fast else 120
    cut = clearance / big_beta
    rows = []
    for n in range(count):
        K = int(rng.integers(4, 9))
        P = preferences.random_with_smith_set(K, int(rng.integers(3, K)), rng)
        payoff = quantal.limit_payoffs(P)
        clear = payoff is not None and bool(np.all((np.abs(payoff) <= 1e-9) | (payoff < -cut)))
        if clear:
            inside = np.zeros(K, dtype=bool)
            inside[social_choice.smith_set(P)] = True
            clear = abs(float(payoff[inside].min() - payoff[~inside].max())) >= cut
        # the verdict on softmax(log π°/β): the same order as π°, without entries that underflow to 0
        log_pi = dynamics.fixed_point(P, alpha=0.0, beta=big_beta, lam=1.0)
        observed = bool(social_choice.is_smith_top(simplex.softmax(log_pi / big_beta), P))
        rows.append({"matrix": n, "K": K, "predicted": quantal.limit_smith_top(P), "clear": clear, "observed": observed})
    details = pd.DataFrame(rows)
    decided = details[details["clear"]]
    return CheckResult(
        CHAPTER, "thm-sampling-limit",
        f"disagreements between the limit prediction and the on-policy optimum at β = {big_beta:g}, on the "
        f"{len(decided)} clear cases of {count} random matrices with a Smith set of 3..K−1 members",
        measured=float((decided["predicted"].astype(bool) != decided["observed"]).sum()) if 2 * len(decided) >= count
        else float("inf"), expected=0.0, tolerance=0.0, against="independent algorithm", details=details,
    )


def margin_matrix(K: int, size: int, margin: float, rng: np.random.Generator) -> np.ndarray:
    """A random ``K x K`` matrix with Smith set of ``size`` members, each member beating each outsider with
    probability ``½ + margin·(1 + U)``, ``U ~ U[0, 1)`` (so the Smith set's margin is about ``margin``)."""
    P = preferences.random_with_smith_set(K, size, rng)
    members = social_choice.smith_set(P)
    outsiders = [o for o in range(K) if o not in members]
    win = 0.5 + margin * (1.0 + rng.uniform(size=(len(members), len(outsiders))))
    P[np.ix_(members, outsiders)] = win
    P[np.ix_(outsiders, members)] = 1.0 - win.T
    return preferences.validate(P)


@register(CHAPTER)
def fixed_count_guarantee(seed: int = DEFAULT_SEED, fast: bool = False, delta: float = 0.1) -> CheckResult:
    """Each pair compared ``n = ⌈fixed_count_sufficient(P, δ)⌉`` times: the reversed maximal lottery of the
    estimate is Smith-top for the true P in at least a share 1 − δ of the repetitions (simulation)."""
    rng = np.random.default_rng([seed, 3])
    count, reps = (4, 40) if fast else (16, 100)
    worst = 0.0
    rows = []
    for n in range(count):
        K = int(rng.integers(3, 7))
        size = int(rng.choice([1] + list(range(3, K))))  # a Smith set of 2 would be an exact tie
        P = margin_matrix(K, size, 0.1, rng)
        per_pair = int(np.ceil(dueling.fixed_count_sufficient(P, delta)))
        iu = np.triu_indices(K, 1)
        wins = rng.binomial(per_pair, P[iu], size=(reps, iu[0].size))
        failures = 0
        for w in wins:
            W = np.zeros((K, K))
            W[iu] = w
            W[iu[1], iu[0]] = per_pair - w
            q = ipo.smith_lottery(dueling.estimate(W, W + W.T)).q
            failures += not social_choice.is_smith_top(ipo.objective_maximiser(P, q), P)
        rows.append({"K": K, "per_pair": per_pair, "failure_rate": failures / reps})
        worst = max(worst, failures / reps)
    return CheckResult(
        CHAPTER, "prop-sampling-fixed",
        f"largest failure rate over {count} random P (K = 3..6, outsider margin ≥ 0.1), {reps} repetitions each, "
        f"n = ⌈log(2M/δ)/(2Δ²)⌉ comparisons per pair, δ = {delta:g}",
        measured=worst, expected=delta, tolerance=0.0, relation="at_most", against="simulation vs theorem",
        details=pd.DataFrame(rows),
    )


@register(CHAPTER)
def hoeffding_coverage(seed: int = DEFAULT_SEED, fast: bool = False, delta: float = 0.1) -> CheckResult:
    """The anytime radius covers: over repetitions of the adaptive learner, the share of runs in which some
    ``|P̂ − P| > r(N)`` at some checkpoint is at most δ."""
    rng = np.random.default_rng([seed, 4])
    reps = 40 if fast else 300
    P = margin_matrix(5, 3, 0.05, rng)
    K = P.shape[0]
    iu = np.triu_indices(K, 1)
    bad = 0
    for _ in range(reps):
        N = np.zeros(iu[0].size)
        W = np.zeros(iu[0].size)
        violated = False
        for budget in 10 * 2 ** np.arange(10):
            extra = np.full(iu[0].size, budget)
            W += rng.binomial(extra, P[iu])
            N += extra
            violated |= bool(np.any(np.abs(W / N - P[iu]) > dueling.hoeffding_radius(N, K, delta)))
        bad += violated
    return CheckResult(
        CHAPTER, "prop-sampling-fixed",
        f"share of {reps} runs (K = 5, 10 doubling checkpoints) where some estimate left its anytime interval, δ = {delta:g}",
        measured=bad / reps, expected=delta, tolerance=0.0, relation="at_most", against="simulation vs theorem",
    )
