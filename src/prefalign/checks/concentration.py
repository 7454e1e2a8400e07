"""Checks of the chapter "Concentration under skewed and on-policy sampling".

Label prefixes ``thm-concentration-``, ``lem-concentration-`` and ``prop-concentration-``.
Orders list responses best first; "top-heavier" is first-order dominance along the order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefalign import concentration, ipo, preferences, simplex, validation
from prefalign.checks import CheckResult, log_uniform, register
from prefalign.checks.ranking import sst_instances

CHAPTER = "concentration"
DEFAULT_SEED = 20260212
KS = range(3, 9)
BT_SCORES = (4.0, 3.0, 2.0, 1.0, 0.0)
"""The Bradley–Terry example: five responses, equally spaced scores, best first."""
SST_EXAMPLE = ((0.5, 0.55, 0.95), (0.45, 0.5, 0.6), (0.05, 0.4, 0.5))
"""A strongly transitive 3 x 3 example whose top pair has a rising profile (.05, .05, .35)."""
ONPOLICY_BETA_RANGE = (1.0, 200.0)
"""The β range (log-uniform) of the on-policy uniqueness check, far beyond the contraction regime β‖A‖₂/2 < 1."""


@register(CHAPTER)
def logit_gap_identity(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``g_ij(μ) = β((Pμ)_i − (Pμ)_j)`` (the package's formula) against the differences
    ``log(π̂_i/π̂_j) − log(π_ref,i/π_ref,j)`` of an optimum fitted by BFGS on the population loss
    (:func:`prefalign.ipo.numerical_optimum`, which knows nothing of the closed form)."""
    rng = np.random.default_rng([seed, 1])
    trials = 10 if fast else 60
    worst = 0.0
    for _ in range(trials):
        K = int(rng.integers(3, 9))
        P, mu, ref = preferences.random_preference_matrix(K, rng), rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K))
        beta = float(log_uniform(rng, 0.1, 10.0))
        r = np.log(ipo.numerical_optimum(P, mu, ref, beta)) - np.log(ref)
        worst = max(worst, float(np.max(np.abs(r[:, None] - r[None, :] - concentration.logit_gaps(P, mu, beta)))))
    return CheckResult(
        CHAPTER, "lem-concentration-gap",
        f"max |log(π̂_i/π̂_j) − log(π_ref,i/π_ref,j) − g_ij(μ)| with π̂ fitted by BFGS, {trials} random (P, μ, π_ref, β), "
        "K = 3..8, β ∈ [0.1, 10] (tolerance: BFGS's finite-difference gradients)",
        measured=worst, expected=0.0, tolerance=1e-6, against="closed form vs solver",
    )


def _random_move(K: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random order, a Dirichlet sampler (concentration 0.1, 1 or 10) and a random top-heavier one."""
    order = rng.permutation(K)
    mu = rng.dirichlet(np.full(K, rng.choice([0.1, 1.0, 10.0])))
    return order, mu, concentration.random_top_heavier(mu, order, rng)


@register(CHAPTER)
def abel_identity(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Abel summation: ``g_ij(μ') − g_ij(μ)`` equals the sum of ``β D_a (d_a − d_{a+1})``."""
    rng = np.random.default_rng([seed, 2])
    trials = 50 if fast else 500
    worst = 0.0
    for _ in range(trials):
        K = int(rng.integers(3, 9))
        P = preferences.random_preference_matrix(K, rng)
        order, mu, mu_new = _random_move(K, rng)
        i, j = (int(x) for x in rng.choice(K, size=2, replace=False))
        beta = float(log_uniform(rng, 0.1, 100.0))
        G = concentration.logit_gaps(P, np.stack([mu_new, mu]), beta)
        terms = concentration.abel_terms(P, i, j, mu_new, mu, order, beta)
        worst = max(worst, abs(float(G[0, i, j] - G[1, i, j] - terms.sum())))
    return CheckResult(
        CHAPTER, "thm-concentration-abel",
        f"max |g_ij(μ') − g_ij(μ) − Σ_a β D_a (d_a − d_(a+1))|, {trials} random P, orders, pairs, moves",
        measured=worst, expected=0.0, tolerance=1e-10, against="identity",
    )


def monotone_pairs(rng: np.random.Generator, n: int) -> list[tuple[str, np.ndarray, int, int, np.ndarray]]:
    """``n`` (kind, P, i, j, order) whose profile is non-increasing: Bradley–Terry top pairs, random
    pairs of linear matrices, and pairs of random general matrices in a random order that happen to
    qualify (found by drawing until :func:`~prefalign.concentration.is_monotone_pair` accepts)."""
    rng = validation.generator(rng)
    out = []
    while len(out) < n:
        K = int(rng.integers(3, 9))
        kind = ("Bradley–Terry top pair", "linear", "random")[len(out) % 3]
        if kind == "Bradley–Terry top pair":
            s = np.sort(rng.normal(0.0, 1.5, size=K))[::-1]
            out.append((kind, preferences.bradley_terry(s), 0, 1, np.arange(K)))
        elif kind == "linear":
            P = preferences.linear(np.sort(rng.uniform(0.0, 0.5, size=K))[::-1])
            i, j = sorted(int(x) for x in rng.choice(K, size=2, replace=False))
            out.append((kind, P, i, j, np.arange(K)))
        else:
            K = int(rng.integers(3, 6))
            while True:
                P, order = preferences.random_preference_matrix(K, rng), rng.permutation(K)
                i, j = (int(x) for x in rng.choice(K, size=2, replace=False))
                if concentration.is_monotone_pair(P, i, j, order):
                    out.append((kind, P, i, j, order))
                    break
    return out


@register(CHAPTER)
def monotone_pairs_widen(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Pairs with a non-increasing profile: the gap never shrinks under a top-heavier move."""
    rng = np.random.default_rng([seed, 3])
    pairs, moves = (30, 10) if fast else (300, 20)
    rows = []
    for kind, P, i, j, order in monotone_pairs(rng, pairs):
        K = P.shape[0]
        for _ in range(moves):
            mu = rng.dirichlet(np.full(K, rng.choice([0.1, 1.0, 10.0])))
            mu_new = concentration.random_top_heavier(mu, order, rng)
            G = concentration.logit_gaps(P, np.stack([mu_new, mu]))
            rows.append({"kind": kind, "K": K, "change": float(G[0, i, j] - G[1, i, j])})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-concentration-abel",
        f"min of g_ij(μ') − g_ij(μ) (β = 1), {len(details)} top-heavier moves of {pairs} qualifying pairs",
        measured=float(details["change"].min()), expected=0.0, tolerance=1e-12, relation="at_least", details=details, against="theorem's bound",
    )


@register(CHAPTER)
def rising_profiles_shrink(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Pairs whose profile rises somewhere: the move of the proof is top-heavier, has full support and shrinks the gap."""
    rng = np.random.default_rng([seed, 4])
    trials = 50 if fast else 500
    rows = []
    while len(rows) < trials:
        K = int(rng.integers(3, 9))
        if len(rows) % 2:
            P, order = preferences.bradley_terry(np.sort(rng.normal(0.0, 1.5, size=K))[::-1]), np.arange(K)
            i, j = sorted(int(x) for x in rng.choice(K, size=2, replace=False))
        else:
            P, order = preferences.random_preference_matrix(K, rng), rng.permutation(K)
            i, j = (int(x) for x in rng.choice(K, size=2, replace=False))
        shift = concentration.shrinking_shift(P, i, j, order)
        if shift is None:
            continue
        mu, mu_new = shift
        G = concentration.logit_gaps(P, np.stack([mu_new, mu]))
        rows.append({"K": K, "change": float(G[0, i, j] - G[1, i, j]),
                     "valid_move": concentration.is_top_heavier(mu_new, mu, order) and bool(np.all(mu_new > 0))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-concentration-abel",
        f"moves of the proof (of {trials}, pairs with a rising profile) that do not shrink the gap "
        "or are not full-support top-heavier moves",
        measured=int(np.sum((details["change"] >= 0) | ~details["valid_move"])), expected=0, tolerance=0,
        relation="at_most", details=details, against="theorem's bound",
    )


@register(CHAPTER)
def bradley_terry_only_top_pair(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """In Bradley–Terry matrices with distinct scores the top pair, and only it, has a non-increasing profile."""
    rng = np.random.default_rng([seed, 5])
    trials = 50 if fast else 500
    wrong = 0
    for _ in range(trials):
        K = int(rng.integers(3, 9))
        P = preferences.bradley_terry(np.sort(rng.normal(0.0, rng.uniform(0.2, 3.0), size=K))[::-1])
        qualifying = [(i, j) for i in range(K) for j in range(i + 1, K) if concentration.is_monotone_pair(P, i, j)]
        wrong += qualifying != [(0, 1)]
    return CheckResult(
        CHAPTER, "prop-concentration-pairs",
        f"Bradley–Terry P (of {trials}, K = 3..8) whose qualifying pairs are not exactly the top pair",
        measured=wrong, expected=0, tolerance=0, relation="at_most", against="hand value",
    )


@register(CHAPTER)
def all_pairs_only_if_linear(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Every pair qualifies for linear matrices (and all their gaps are frozen), for no nearly linear one."""
    rng = np.random.default_rng([seed, 6])
    trials = 40 if fast else 400
    rows = []
    for n in range(trials):
        K = int(rng.integers(3, 9))
        P = preferences.linear(np.sort(rng.uniform(0.05, 0.45, size=K))[::-1])
        perturbed = n % 2 == 1
        if perturbed:
            E = rng.normal(0.0, 1e-3, size=(K, K))
            P = P + (E - E.T) / 2
        every = all(concentration.is_monotone_pair(P, i, j, np.arange(K)) for i in range(K) for j in range(i + 1, K))
        G = concentration.logit_gaps(P, rng.dirichlet(np.ones(K), size=4))
        rows.append({"K": K, "perturbed": perturbed, "every_pair_qualifies": every,
                     "gap_variation": float(np.max(np.ptp(G, axis=0)))})
    details = pd.DataFrame(rows)
    wrong = int(np.sum(details["every_pair_qualifies"] == details["perturbed"]))
    frozen = details.loc[~details["perturbed"], "gap_variation"].max()
    wrong += int(frozen > 1e-12)
    return CheckResult(
        CHAPTER, "prop-concentration-pairs",
        f"misclassified P among {trials} linear and nearly linear (every pair qualifies ⇔ linear), "
        "+1 if a linear P's gaps move with μ by > 10⁻¹²",
        measured=wrong, expected=0, tolerance=0, relation="at_most", details=details, against="hand value",
    )


@register(CHAPTER)
def adjacent_gaps_balance(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``Σ_a D_a · (change of g_{o_a o_{a+1}}) = 0`` for every P, order and pair of samplers."""
    rng = np.random.default_rng([seed, 7])
    trials = 50 if fast else 500
    rows = []
    for n in range(trials):
        K = int(rng.integers(3, 9))
        P = preferences.random_preference_matrix(K, rng)
        order, mu, mu_new = _random_move(K, rng)
        if n % 2:
            mu_new = rng.dirichlet(np.ones(K))  # any move, not only a top-heavier one
        beta = float(log_uniform(rng, 0.1, 100.0))
        shift = concentration.adjacent_shift(P, mu_new, mu, order, beta)
        rows.append({"K": K, "top_heavier": n % 2 == 0, "balance": float(shift.shifted @ shift.change) / beta,
                     "all_widen": bool(np.all(shift.change > 0))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "prop-concentration-balance",
        f"max |Σ_a D_a Δ_a| / β, {trials} random P, orders and moves",
        measured=float(np.max(np.abs(details["balance"]))), expected=0.0, tolerance=1e-12, details=details, against="identity",
    )


@register(CHAPTER)
def onpolicy_unique(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Newton from four different starts finds the same self-consistent policy, also far beyond the contraction regime."""
    rng = np.random.default_rng([seed, 8])
    per_K = 10 if fast else 60
    worst = 0.0
    for K in KS:
        Ps = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(per_K)])
        betas = log_uniform(rng, *ONPOLICY_BETA_RANGE, size=per_K)
        base = ipo.onpolicy_optimum(Ps, beta=betas)
        for start in 0.98 * rng.dirichlet(np.full(K, 0.3), size=3) + 0.02 / K:
            other = ipo.onpolicy_optimum(Ps, beta=betas, start=start)
            worst = max(worst, float(np.max(simplex.tv_distance(base, other))))
    return CheckResult(
        CHAPTER, "lem-concentration-onpolicy",
        f"max TV between Newton solutions from 4 starts, {per_K * len(KS)} random P, β ∈ [{ONPOLICY_BETA_RANGE[0]:g}, {ONPOLICY_BETA_RANGE[1]:g}]",
        measured=worst, expected=0.0, tolerance=1e-9, against="several starts",
    )


@register(CHAPTER)
def onpolicy_vs_plain_iteration(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Where the map contracts (β‖A‖₂/2 = ½), 120 plain iterations and Newton agree."""
    rng = np.random.default_rng([seed, 9])
    per_K = 10 if fast else 60
    worst = 0.0
    for K in KS:
        Ps = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(per_K)])
        betas = 1.0 / np.linalg.norm(Ps - 0.5, ord=2, axis=(-2, -1))
        pi = np.full((per_K, K), 1.0 / K)
        for _ in range(120):
            pi = ipo.ipo_optimum(Ps, pi, beta=betas)
        worst = max(worst, float(np.max(simplex.tv_distance(pi, ipo.onpolicy_optimum(Ps, beta=betas)))))
    return CheckResult(
        CHAPTER, "lem-concentration-onpolicy",
        f"max TV between Newton and 120 contracting steps π ← π*(π), {per_K * len(KS)} random P",
        measured=worst, expected=0.0, tolerance=1e-12, against="independent algorithm",
    )


@register(CHAPTER)
def onpolicy_top_heavy_under_sst(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Under strong transitivity the one-step and self-consistent on-policy samplers strictly decrease along the order."""
    rng = np.random.default_rng([seed, 10])
    per_K = 10 if fast else 80
    betas = np.array([0.5, 4.0, 32.0])
    bad = total = 0
    for K in KS:
        for _, P in sst_instances(K, per_K, rng):
            order = preferences.transitive_order(P)
            u = simplex.uniform(K)
            for pi in np.concatenate([ipo.ipo_optimum(P, u, beta=betas), ipo.onpolicy_optimum(P, beta=betas)]):
                total += 1
                bad += not (np.all(np.diff(pi[order]) < 0) and concentration.is_top_heavier(pi, u, order))
    return CheckResult(
        CHAPTER, "prop-concentration-onpolicy",
        f"on-policy samplers (of {total}, SST P, β ∈ {{0.5, 4, 32}}) not strictly decreasing "
        "or not top-heavier than uniform",
        measured=bad, expected=0, tolerance=0, relation="at_most", against="theorem's bound",
    )


def _top_gap_rows(P: np.ndarray, betas: np.ndarray) -> pd.DataFrame:
    """For each β: entropy and top-pair gap of the optimum under the uniform, one-step and self-consistent samplers."""
    K = P.shape[0]
    u = simplex.uniform(K)
    one_step_sampler = ipo.ipo_optimum(P, u, beta=betas)
    samplers = {"uniform": np.broadcast_to(u, one_step_sampler.shape), "one-step on-policy": one_step_sampler,
                "self-consistent on-policy": ipo.onpolicy_optimum(P, beta=betas)}
    at_uniform = concentration.logit_gaps(P, u, betas)[:, 0, 1]
    rows = []
    for name, mu in samplers.items():
        pi = ipo.ipo_optimum(P, mu, beta=betas)
        gap = concentration.logit_gaps(P, mu, betas)[:, 0, 1]
        for b, beta in enumerate(betas):
            rows.append({"beta": float(beta), "sampler": name, "entropy": float(simplex.entropy(pi[b])),
                         "top_gap": float(gap[b]), "top_gap_change": float(gap[b] - at_uniform[b])})
    return pd.DataFrame(rows)


@register(CHAPTER)
def onpolicy_widens_bradley_terry_top_gap(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Random Bradley–Terry matrices: on-policy samplers never shrink the gap between the two best responses."""
    rng = np.random.default_rng([seed, 11])
    trials = 20 if fast else 200
    betas = np.geomspace(0.1, 100.0, 7)
    worst = np.inf
    for _ in range(trials):
        K = int(rng.integers(3, 9))
        rows = _top_gap_rows(preferences.bradley_terry(np.sort(rng.normal(0.0, 1.5, size=K))[::-1]), betas)
        worst = min(worst, float(rows.loc[rows["sampler"] != "uniform", "top_gap_change"].min()))
    return CheckResult(
        CHAPTER, "prop-concentration-onpolicy",
        f"min of g_12(on-policy μ) − g_12(u), {trials} random Bradley–Terry P, 7 β",
        measured=worst, expected=0.0, tolerance=1e-12, relation="at_least", against="theorem's bound",
    )


@register(CHAPTER)
def bradley_terry_example(seed: int = DEFAULT_SEED, fast: bool = False, scores: tuple[float, ...] = BT_SCORES,
                          beta_min: float = 0.1, beta_max: float = 100.0) -> CheckResult:
    """The chapter's Bradley–Terry example over a β grid: the top gap widens (``details``: entropies for the figure)."""
    betas = np.geomspace(beta_min, beta_max, 13 if fast else 41)
    rows = _top_gap_rows(preferences.bradley_terry(np.asarray(scores, dtype=float)), betas)
    return CheckResult(
        CHAPTER, "prop-concentration-onpolicy",
        f"Bradley–Terry example: min over {len(betas)} β of g_12(on-policy μ) − g_12(u)",
        measured=float(rows.loc[rows["sampler"] != "uniform", "top_gap_change"].min()), expected=0.0, tolerance=1e-12,
        relation="at_least", details=rows, against="theorem's bound",
    )


@register(CHAPTER)
def sst_example_top_gap_shrinks(seed: int = DEFAULT_SEED, fast: bool = False,
                                beta_min: float = 0.1, beta_max: float = 100.0) -> CheckResult:
    """The strongly transitive example has a rising top-pair profile, so on-policy sampling shrinks the top gap."""
    betas = np.geomspace(beta_min, beta_max, 13 if fast else 41)
    rows = _top_gap_rows(np.array(SST_EXAMPLE), betas)
    return CheckResult(
        CHAPTER, "thm-concentration-abel",
        f"SST example (rising top profile): max over {len(betas)} β of g_12(on-policy μ) − g_12(u)",
        measured=float(rows.loc[rows["sampler"] != "uniform", "top_gap_change"].max()), expected=0.0, tolerance=0.0,
        relation="at_most", details=rows, against="theorem's bound",
    )
