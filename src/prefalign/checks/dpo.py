"""Checks of the chapter "DPO: the same sampling effects, implicitly" (label prefix ``thm-dpo-``)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.special import logit

from prefalign import dpo, dynamics, ipo, preferences, simplex, social_choice, statistics, validation
from prefalign.checks import CheckResult, log_uniform, register
from prefalign.checks.oscillation import random_batch, round_args, round_difference
from prefalign.checks.stability import SST_SCORES

CHAPTER = "dpo"
DEFAULT_SEED = 20260215
CYCLE_A = 0.4
"""The margin ``a`` of the 3-cycle ``P_a`` used by the chapter (``P[1,2] = ½ + a``)."""

LOCAL_EXAMPLE = np.array([
    [0.50, 0.81, 0.90, 0.99],
    [0.19, 0.50, 0.66, 0.95],
    [0.10, 0.34, 0.50, 0.56],
    [0.01, 0.05, 0.44, 0.50],
])
"""A strictly strongly transitive, non-Bradley–Terry matrix (order 1, 2, 3, 4) whose top pair
qualifies for IPO's concentration theorem (gap profile 0.31, 0.31, 0.24, 0.04), while the sign of
DPO's gap derivative under the same lifts depends on the sampler."""

GRID_ALPHA = (0.0, 1.0)
GRID_SIGNAL = (0.1, 20.0)
"""The (α, βλ) rectangle of the chapter's phase diagrams (λ = 1; βλ on a log scale)."""


DPO_FOOLING_SHRINK = 0.1
"""η of :func:`shrunk_fooling_matrix`: the fooling matrix pulled towards ½ by this share (entries in [0.05, 0.95])."""

BETA_RANGE = (0.01, 100.0)
"""The β range (log-uniform) of the chapter's random problems: the range where ``dpo_optimum`` must converge."""


def random_problem(K: int, rng: np.random.Generator, beta_range: tuple[float, float] = BETA_RANGE):
    """A general ``P`` with entries in [0.01, 0.99], Dirichlet(1) sampler and reference, β log-uniform."""
    rng = validation.generator(rng)
    P = 0.01 + 0.98 * preferences.random_preference_matrix(K, rng)
    P = np.triu(P, 1) + np.tril(1.0 - P.T, -1) + 0.5 * np.eye(K)
    beta = float(log_uniform(rng, *beta_range))
    return P, rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K)), beta


def _sparse_matrix(K: int, rng: np.random.Generator) -> np.ndarray:
    """A random preference matrix with about half of its pairs decided with probability 0 or 1."""
    P = preferences.random_preference_matrix(K, rng)
    iu = np.triu_indices(K, 1)
    decided = rng.uniform(size=len(iu[0])) < 0.5
    P[iu[0][decided], iu[1][decided]] = rng.integers(0, 2, decided.sum()).astype(float)
    P.T[iu] = 1.0 - P[iu]
    return P


# --------------------------------------------------------------------------- existence and uniqueness


@register(CHAPTER)
def newton_vs_generic(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Newton's optimum against BFGS on the population loss (finite-difference gradients), K = 3..8."""
    rng = np.random.default_rng([seed, 1])
    per_K = 2 if fast else 6
    rows = []
    for K in range(3, 9):
        for _ in range(per_K):
            P, mu, ref, beta = random_problem(K, rng)
            newton = dpo.dpo_optimum(P, mu, ref, beta)
            generic = dpo.numerical_optimum(P, mu, ref, beta)
            rows.append({"K": K, "beta": beta, "log_error": float(np.max(np.abs(np.log(newton) - np.log(generic)))),
                         "loss_gap": dpo.population_loss(newton, P, mu, ref, beta) - dpo.population_loss(generic, P, mu, ref, beta)})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-dpo-existence",
        f"max |log π_Newton − log π_BFGS| over {len(details)} random (P, μ, π_ref, β), K = 3..8, β in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}]",
        measured=details["log_error"].max(), expected=0.0, tolerance=1e-5, details=details, against="independent algorithm",
    )


@register(CHAPTER)
def unique_from_any_start(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Newton from five random starts (scores up to ±10) lands on the same scores (uniqueness)."""
    rng = np.random.default_rng([seed, 2])
    n = 40 if fast else 200
    worst = 0.0
    for K in range(2, 9):
        P = np.stack([random_problem(K, rng)[0] for _ in range(n)]).transpose(1, 2, 0)
        mu = rng.dirichlet(np.full(K, 0.5), size=n).T + 1e-9
        mu /= mu.sum(axis=0)
        solutions = [dpo.fit_scores(P, mu, rng.uniform(-10.0, 10.0, (K, n)))[0] for _ in range(5)]
        worst = max(worst, float(np.ptp(np.stack(solutions), axis=0).max()))
    return CheckResult(
        CHAPTER, "thm-dpo-existence",
        f"max spread of the centred scores x* from 5 random starts, {7 * n} random problems, K = 2..8",
        measured=worst, expected=0.0, tolerance=1e-9, against="several starts",
    )


@register(CHAPTER)
def reward_range_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``max r* − min r* <= β(K−1) logit(max_{i≠j} P_ij)``, on problems with skewed samplers and strong preferences.
    Two-sided: at K = 2 the bound is attained (``r_1 − r_2 = β logit P_12``), so the largest ratio must be 1."""
    rng = np.random.default_rng([seed, 3])
    n = 30 if fast else 300
    worst = 0.0
    for K in range(2, 9):
        P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(n)])
        eps = log_uniform(rng, 1e-4, 0.3, n)[:, None, None]
        P = eps + (1.0 - 2.0 * eps) * P
        mu = rng.dirichlet(np.full(K, 0.3), size=n) + 1e-6
        mu /= mu.sum(axis=-1, keepdims=True)
        beta = log_uniform(rng, 0.1, 10.0, n)
        r = dpo.implicit_reward(P, mu, beta)
        worst = max(worst, float(np.max(np.ptp(r, axis=-1) / dpo.reward_range_bound(P, beta))))
    return CheckResult(
        CHAPTER, "thm-dpo-existence",
        f"max (max r* − min r*) / (β(K−1) logit p_max) over {7 * n} random problems, K = 2..8 (attained at K = 2)",
        measured=worst, expected=1.0, tolerance=1e-9, against="theorem's bound",
    )


def decided_matrices(count: int, connected: bool, rng: np.random.Generator) -> list[np.ndarray]:
    """``count`` random matrices (K = 3..6) with about half of their pairs decided with probability 0
    or 1, all strongly connected (``connected``) or all with a dominating set (rejection sampling)."""
    rng = validation.generator(rng)
    out = []
    while len(out) < count:
        P = _sparse_matrix(int(rng.integers(3, 7)), rng)
        if (dpo.dominating_set(P) is None) == connected:
            out.append(P)
    return out


@register(CHAPTER)
def decided_pairs_with_optimum(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Strongly connected matrices with pairs decided with probability 0 or 1 have a finite optimum:
    Newton and BFGS (which knows nothing of the condition) agree on it."""
    rng = np.random.default_rng([seed, 4])
    count = 8 if fast else 15
    worst = 0.0
    for P in decided_matrices(count, True, rng):
        mu = rng.dirichlet(np.ones(P.shape[0]))
        worst = max(worst, float(np.max(np.abs(np.log(dpo.dpo_optimum(P, mu)) - np.log(dpo.numerical_optimum(P, mu))))))
    return CheckResult(
        CHAPTER, "thm-dpo-existence",
        f"max |log π_Newton − log π_BFGS| on {count} strongly connected random matrices with decided pairs",
        measured=worst, expected=0.0, tolerance=1e-5, against="independent algorithm",
    )


@register(CHAPTER)
def dominating_set_has_no_minimiser(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Matrices where a set T beats all others with probability 1: ``dpo_optimum`` refuses them, and the
    loss decreases along ``1_T`` (the direction of the proof) from random points."""
    rng = np.random.default_rng([seed, 16])
    count = 20 if fast else 100
    wrong = 0
    for P in decided_matrices(count, False, rng):
        K = P.shape[0]
        mu = rng.dirichlet(np.ones(K))
        try:
            dpo.dpo_optimum(P, mu)
            wrong += 1
            continue
        except ValueError:
            pass
        shift = np.zeros(K)
        shift[dpo.dominating_set(P)] = 1.0
        start = rng.normal(0.0, 2.0, K)
        losses = [dpo.population_loss(simplex.softmax(start + c * shift), P, mu) for c in (0.0, 0.5, 1.0)]
        wrong += not losses[2] < losses[1] < losses[0]
    return CheckResult(
        CHAPTER, "thm-dpo-existence",
        f"of {count} random matrices with a dominating set T, the number not refused or where the loss "
        "does not decrease along 1_T",
        measured=float(wrong), expected=0.0, tolerance=0.0, against="theorem's bound",
    )


# --------------------------------------------------------------------------- invariance iff Bradley–Terry


@register(CHAPTER)
def two_responses(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """K = 2: ``r_1 − r_2 = β logit(P_12)`` for every sampler (hand formula)."""
    rng = np.random.default_rng([seed, 5])
    n = 100 if fast else 2000
    p = rng.uniform(0.001, 0.999, n)
    P = np.stack([np.array([[0.5, q], [1.0 - q, 0.5]]) for q in p])
    mu = rng.dirichlet(np.full(2, 0.3), size=n) + 1e-9
    mu /= mu.sum(axis=-1, keepdims=True)
    beta = log_uniform(rng, *BETA_RANGE, n)
    r = dpo.implicit_reward(P, mu, beta)
    expected = beta * logit(p)
    return CheckResult(
        CHAPTER, "cor-dpo-two",
        f"max |(r_1 − r_2) / (β logit P_12) − 1| over {n} random (P_12, μ, β), K = 2",
        measured=float(np.max(np.abs((r[:, 0] - r[:, 1]) / expected - 1.0))), expected=0.0, tolerance=1e-9, against="hand value",
    )


@register(CHAPTER)
def bradley_terry_invariance(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For ``P = BT(s)`` the optimum is ``r* = βs + c`` for every full-support sampler."""
    rng = np.random.default_rng([seed, 6])
    matrices, samplers = (8, 20) if fast else (40, 100)
    worst = 0.0
    for _ in range(matrices):
        K = int(rng.integers(2, 9))
        s = rng.normal(0.0, 1.5, K)
        beta = float(log_uniform(rng, *BETA_RANGE))
        mu = rng.dirichlet(np.full(K, rng.choice([0.2, 1.0, 5.0])), size=samplers) + 1e-9
        mu /= mu.sum(axis=-1, keepdims=True)
        r = dpo.implicit_reward(preferences.bradley_terry(s), mu, beta)
        worst = max(worst, float(np.max(np.abs(r / beta - (s - s.mean())))))
    return CheckResult(
        CHAPTER, "thm-dpo-bt",
        f"max |r*/β − (s − s̄)| over {matrices} Bradley–Terry matrices × {samplers} samplers (K = 2..8, β in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}])",
        measured=worst, expected=0.0, tolerance=1e-8, against="hand value",
    )


@register(CHAPTER)
def non_bradley_terry_spread(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For non-BT P, the optimum moves across K samplers by at least ``4β m_1 / ‖M⁻¹‖_1`` (proposition)."""
    rng = np.random.default_rng([seed, 7])
    count = 10 if fast else 60
    rows = []
    for i in range(count):
        K = int(rng.integers(3, 7))
        P = random_problem(K, rng)[0] if i % 2 else preferences.random_strongly_transitive(K, rng)
        samplers = rng.dirichlet(np.ones(K), size=K)
        beta = float(log_uniform(rng, 0.1, 10.0))
        r = dpo.implicit_reward(P, samplers, beta)
        rows.append({"K": K, "beta": beta, "spread": float(np.ptp(r - r[0], axis=-1).max()),
                     "bound": dpo.spread_lower_bound(P, samplers, beta),
                     "misfit": float(dpo.misfit(P, samplers[0]))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "prop-dpo-spread",
        f"min over {count} non-Bradley–Terry matrices (K = 3..6, general and SST) of spread / lower bound",
        measured=float((details["spread"] / details["bound"]).min()), expected=1.0, tolerance=0.0,
        relation="at_least", details=details, against="theorem's bound",
    )


# --------------------------------------------------------------------------- near ties: IPO with 4β


@lru_cache(maxsize=2)
def tie_errors(seed: int, fast: bool) -> pd.DataFrame:
    """``max |r_DPO(β) − r_IPO(4β)|`` and the remainder after the cubic correction, for ``P = ½ + εB``.

    Cached: the two near-tie checks read the same table (it must not be modified)."""
    rng = np.random.default_rng([seed, 8])
    count = 4 if fast else 12
    eps = np.geomspace(0.08, 0.01, 7)
    rows = []
    for i in range(count):
        K = int(rng.integers(3, 7))
        B = preferences.skew(preferences.random_preference_matrix(K, rng))
        mu = rng.dirichlet(np.ones(K))
        beta = float(log_uniform(rng, 0.1, 10.0))
        for e in eps:
            P = 0.5 + e * B
            r_dpo = dpo.implicit_reward(P, mu, beta)
            r_ipo = np.log(ipo.ipo_optimum(P, mu, beta=float(dpo.linearised_ipo_beta(beta))))
            gap = r_dpo - (r_ipo - r_ipo.mean())
            rows.append({"instance": i, "K": K, "beta": beta, "eps": e, "error": float(np.abs(gap).max() / beta),
                         "remainder": float(np.abs(gap - dpo.cubic_correction(P, mu, beta)).max() / beta)})
    return pd.DataFrame(rows)


@register(CHAPTER)
def ipo_limit_third_order(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``r_DPO(β) − r_IPO(4β) = O(βε³)`` for ``P = ½11ᵀ + εB``: log–log slope of the largest error."""
    details = tie_errors(seed, fast)
    worst = details.groupby("eps")["error"].max()
    slope, _ = statistics.loglog_slope(worst.index.to_numpy(float), worst.to_numpy())
    return CheckResult(
        CHAPTER, "thm-dpo-linear",
        f"log–log slope of max |r_DPO(β) − r_IPO(4β)|/β against ε ({details['instance'].nunique()} random P = ½ + εB, "
        f"ε from {details['eps'].min():g} to {details['eps'].max():g})",
        measured=slope, expected=3.0, tolerance=0.05, details=details, against="closed form vs solver",
    )


@register(CHAPTER)
def cubic_correction_remainder(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """After subtracting the cubic term ``βc``, the remainder is ``O(βε⁵)``: log–log slope."""
    details = tie_errors(seed, fast)
    worst = details.groupby("eps")["remainder"].max()
    slope, _ = statistics.loglog_slope(worst.index.to_numpy(float), worst.to_numpy())
    return CheckResult(
        CHAPTER, "thm-dpo-linear",
        "log–log slope of max |r_DPO(β) − r_IPO(4β) − βc|/β against ε (same instances)",
        measured=slope, expected=5.0, tolerance=0.15, details=details, against="closed form vs solver",
    )


# --------------------------------------------------------------------------- local concentration


@register(CHAPTER)
def derivative_vs_finite_differences(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``dr*[v] = X v`` (implicit-function theorem) against central differences of the Newton optimum."""
    rng = np.random.default_rng([seed, 9])
    per_K = 10 if fast else 20
    h = 1e-6
    worst = 0.0
    for K in range(2, 7):
        for _ in range(per_K):
            P, mu, _, beta = random_problem(K, rng, (0.1, 10.0))
            mu = 0.5 * mu + 0.5 / K
            v = rng.normal(size=K)
            v -= v.mean()
            v *= 0.5 * mu.min() / np.abs(v).max()
            X = dpo.reward_derivative(P, mu, beta)
            fd = (dpo.implicit_reward(P, mu + h * v, beta) - dpo.implicit_reward(P, mu - h * v, beta)) / (2 * h)
            worst = max(worst, float(np.max(np.abs(X @ v - fd)) / beta))
    return CheckResult(
        CHAPTER, "thm-dpo-local",
        f"max |X v − (r*(μ + hv) − r*(μ − hv))/2h| / β over {5 * per_K} random (P, μ, v), K = 2..6, h = 1e-6",
        measured=worst, expected=0.0, tolerance=1e-7, against="finite differences",
    )


def local_derivatives(P: np.ndarray, samplers: np.ndarray, i: int, j: int, beta: float) -> dict[str, np.ndarray]:
    """Rates of change of the logit gap ``g_ij`` under each adjacent lift ``e_a − e_{a+1}`` (order 0..K−1):
    DPO's at each sampler (``(n, K−1)``) and IPO's at ``4β`` (the same at every sampler, ``(K−1,)``)."""
    X = dpo.reward_derivative(P, samplers, beta)
    lifts = np.eye(P.shape[0])[:, :-1] - np.eye(P.shape[0])[:, 1:]
    return {"dpo": (X[:, i, :] - X[:, j, :]) @ lifts,
            "ipo": float(dpo.linearised_ipo_beta(beta)) * (P[i] - P[j]) @ lifts}


@register(CHAPTER)
def local_sign_depends_on_sampler(seed: int = DEFAULT_SEED, fast: bool = False, local_samplers: int = 300) -> CheckResult:
    """On :data:`LOCAL_EXAMPLE`, IPO's rate of change of the top gap under each adjacent lift is the same
    at every sampler and never negative; DPO's changes sign with the sampler. Measured: over the lifts
    that IPO strictly widens, the largest of min(#samplers where DPO's gap widens, #where it shrinks)."""
    rng = np.random.default_rng([seed, 10])
    n = 60 if fast else local_samplers
    samplers = rng.dirichlet(np.ones(4), size=n)
    rates = local_derivatives(LOCAL_EXAMPLE, samplers, 0, 1, 1.0)
    widen, shrink = (rates["dpo"] > 0).sum(axis=0), (rates["dpo"] < 0).sum(axis=0)
    strict = rates["ipo"] > 1e-12
    details = {"samplers": samplers, **rates, "widen": widen, "shrink": shrink}
    return CheckResult(
        CHAPTER, "thm-dpo-local",
        f"over the {int(strict.sum())} lifts with IPO rate > 0, max of min(#samplers where DPO's top gap widens, "
        f"#where it shrinks), {n} random samplers",
        measured=float(np.max(np.minimum(widen, shrink)[strict])) if strict.any() else 0.0, expected=1.0, tolerance=0.0,
        relation="at_least", details=details, against="theorem's bound",
    )


# --------------------------------------------------------------------------- MRS-DPO


def random_rounds(K: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random MRS-DPO problems: :func:`prefalign.checks.oscillation.random_batch` with P in
    [0.01, 0.99] (:func:`random_problem`, so that every round has a finite optimum) and α ~ U[0, 1]."""
    rng = validation.generator(rng)
    return random_batch(K, n, rng, matrix=lambda k, g: random_problem(k, g)[0], alpha_max=1.0)


@register(CHAPTER)
def round_is_dpo_optimum(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """One engine round equals ``dpo_optimum`` with the mixed reference and sampler."""
    rng = np.random.default_rng([seed, 11])
    per_K = 20 if fast else 200
    worst = 0.0
    for K in range(2, 7):
        d = random_rounds(K, per_K, rng)
        log_pi = np.log(d["pi"])
        step = dynamics.mrs_dpo_step(log_pi, d["P"], **round_args(d))
        reference, sampler = dynamics.round_inputs(log_pi, alpha=d["alpha"], lam=d["lam"], ref=d["ref"], pi0=d["pi0"])
        optimum = dpo.dpo_optimum(d["P"], sampler, reference, d["beta"])
        worst = max(worst, float(np.max(np.abs(step - np.log(optimum)))))
    return CheckResult(
        CHAPTER, "lem-dpo-round",
        f"max |log π_(t+1) − log DPO optimum(μ_t, π_ref^(t))| over {5 * per_K} random rounds, K = 2..6",
        measured=worst, expected=0.0, tolerance=1e-11, against="independent algorithm",
    )


@register(CHAPTER)
def round_jacobian(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``J = αI + λ X(μ) C(π)`` against central differences of the round (logits modulo constants)."""
    rng = np.random.default_rng([seed, 12])
    per_K = 10 if fast else 60
    h = 1e-5
    worst = 0.0
    for K in range(2, 7):
        d = random_rounds(K, per_K, rng)
        log_pi = np.log(d["pi"])
        J = dynamics.jacobian(log_pi, d["P"], alpha=d["alpha"], beta=d["beta"], lam=d["lam"], method="dpo", pi0=d["pi0"])
        centre = np.eye(K) - 1.0 / K
        for v in centre.T:
            diff = round_difference(dynamics.mrs_dpo_step, log_pi, v, h, d)
            worst = max(worst, float(np.max(np.abs(diff @ centre - (J @ v) @ centre) / (1.0 + d["beta"][:, None]))))
    return CheckResult(
        CHAPTER, "thm-dpo-cycle",
        f"max |ΠJv − Π(F(log π + hv) − F(log π − hv))/2h| / (1 + β) over {5 * per_K} random rounds, v ∈ 1^⊥, h = 1e-5",
        measured=worst, expected=0.0, tolerance=1e-7, against="finite differences",
    )


@register(CHAPTER)
def uniform_spectral_radius(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """At uniform on ``P_a`` the spectral radius of the DPO round is ``√(α² + 16a²β²λ²/3)``."""
    rng = np.random.default_rng([seed, 13])
    n = 200 if fast else 3000
    a = rng.uniform(0.0, 0.49, n)
    alpha, beta, lam = rng.uniform(0.0, 1.0, n), log_uniform(rng, 0.05, 20.0, n), rng.uniform(0.0, 1.0, n)
    P = np.stack([preferences.cyclic(x) for x in a])
    rho = dynamics.spectral_radius(np.log(np.full((n, 3), 1 / 3)), P, alpha=alpha, beta=beta, lam=lam, method="dpo")
    expected = dynamics.uniform_spectral_radius(a, alpha, beta, lam, method="dpo")
    return CheckResult(
        CHAPTER, "thm-dpo-cycle",
        f"max |ρ(QᵀJQ)/√(α² + 16a²β²λ²/3) − 1| at uniform over {n} random (a, α, β, λ)",
        measured=float(np.max(np.abs(rho / expected - 1.0))), expected=0.0, tolerance=1e-10, against="hand value",
    )


@register(CHAPTER)
def cycle_ordering(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The lemma behind uniqueness on ``P_a``: at ``x = x*(μ)``, a maximiser ``i`` of x has
    ``μ_{i+1} >= μ_{i−1}`` and a minimiser ``m`` has ``μ_{m+1} <= μ_{m−1}`` (indices mod 3)."""
    rng = np.random.default_rng([seed, 14])
    n = 500 if fast else 10000
    a = rng.uniform(0.01, 0.49, n)
    mu = rng.dirichlet(np.full(3, rng.choice([0.3, 1.0, 3.0])), size=n) + 1e-9
    mu /= mu.sum(axis=-1, keepdims=True)
    x = dpo.implicit_reward(np.stack([preferences.cyclic(v) for v in a]), mu)
    rows = np.arange(n)
    top, bottom = x.argmax(axis=-1), x.argmin(axis=-1)
    bad_top = mu[rows, (top + 1) % 3] < mu[rows, (top - 1) % 3] - 1e-12
    bad_bottom = mu[rows, (bottom + 1) % 3] > mu[rows, (bottom - 1) % 3] + 1e-12
    return CheckResult(
        CHAPTER, "lem-dpo-ordering",
        f"samplers violating the ordering lemma, {n} random (a, μ)",
        measured=float(bad_top.sum() + bad_bottom.sum()), expected=0.0, tolerance=0.0, against="theorem's bound",
    )


def phase_grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The (α, βλ) grid of the phase diagrams: α linear on :data:`GRID_ALPHA`, βλ geometric on :data:`GRID_SIGNAL`."""
    return np.linspace(*GRID_ALPHA, n), np.geomspace(*GRID_SIGNAL, n)


def fate_grid(method: str, a: float, n: int, steps: int, threshold: float) -> dict:
    """Simulate ``P_a`` on the phase grid (λ = 1, uniform π_ref and π_0) from a fixed off-centre start;
    return the grid, cycle strength, distance to uniform, ρ, and where the fate disagrees with ρ > 1."""
    alpha, bl = phase_grid(n)
    run = dynamics.simulate(preferences.cyclic(a), alpha=alpha[:, None], beta=bl[None, :], lam=1.0,
                            init=[0.5, 0.3, 0.2], steps=steps, record="last", method=method)
    rho = dynamics.uniform_spectral_radius(a, alpha[:, None], bl[None, :], 1.0, method=method)
    disagree = (run.cycle_strength > threshold) != (rho > 1.0)
    return {"alpha": alpha, "bl": bl, "cycle_strength": run.cycle_strength, "entropy": run.entropy,
            "distance": dynamics.logit_distance(run.final_log_pi, np.log(simplex.uniform(3))), "rho": rho,
            "disagree": disagree, "band": float(np.log(1.0 / threshold) / steps), "threshold": threshold,
            "steps": steps, "burn_in": run.burn_in, "a": a, "method": method}


def _fate_result(grid: dict, theorem: str, name: str) -> CheckResult:
    disagree = grid["disagree"]
    worst = float(np.max(np.abs(grid["rho"] - 1.0)[disagree])) if disagree.any() else 0.0
    n = len(grid["alpha"])
    return CheckResult(
        CHAPTER, theorem,
        f"max |ρ − 1| where the simulated {name} fate ({grid['steps']} rounds) disagrees with its criterion, "
        f"{n}×{n} grid of (α, βλ)",
        measured=worst, expected=grid["band"], tolerance=0.0, relation="at_most", details=grid, against="simulation vs theorem",
    )


@register(CHAPTER)
def dpo_fate_matches_criterion(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A, grid_n: int = 40,
                               steps: int = 600, threshold: float = 1e-6) -> CheckResult:
    """MRS-DPO's simulated fate (cycle strength above ``threshold`` or not) against
    ``α² + 16a²β²λ²/3 > 1``; disagreements must lie in the band ``|ρ − 1| <= ln(1/threshold)/steps``.
    ``seed`` is unused: the grid and the start are deterministic."""
    n, T = (16, 300) if fast else (grid_n, steps)
    return _fate_result(fate_grid("dpo", a, n, T, threshold), "thm-dpo-cycle", "MRS-DPO")


@register(CHAPTER)
def ipo_fate_on_the_same_grid(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A, grid_n: int = 40,
                              steps: int = 600, threshold: float = 1e-6) -> CheckResult:
    """The same experiment for MRS-IPO against ``α² + a²β²λ²/3 > 1`` (the oscillation chapter's theorem),
    for the side-by-side phase diagram. ``seed`` is unused."""
    n, T = (16, 300) if fast else (grid_n, steps)
    return _fate_result(fate_grid("ipo", a, n, T, threshold), "thm-osc-cycle", "MRS-IPO")


@register(CHAPTER)
def rotation_near_uniform(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """MRS-DPO's rotation per round near uniform against ``arctan(4βλa/(√3α))``, 3 rounds from 1e-6 off uniform."""
    rng = np.random.default_rng([seed, 15])
    n = 60 if fast else 600
    alpha = rng.uniform(0.05, 1.0, n)
    bl = rng.uniform(0.05, 3.0, n)
    start = np.array([1 / 3 + 1e-6, 1 / 3 - 1e-6, 1 / 3])
    run = dynamics.simulate(preferences.cyclic(a), alpha=alpha, beta=bl, lam=1.0, init=start, steps=3, method="dpo")
    measured = dynamics.rotation_angle(run.log_pi, np.log(simplex.uniform(3)))
    predicted = dynamics.uniform_rotation_angle(a, alpha, bl, 1.0, method="dpo")
    return CheckResult(
        CHAPTER, "thm-dpo-cycle",
        f"max |measured − predicted| rotation per round (radians), {n} random (α, βλ), 3 rounds from 1e-6 off uniform",
        measured=float(np.max(np.abs(measured - predicted))), expected=0.0, tolerance=1e-4, against="simulation vs theorem",
    )


@register(CHAPTER)
def bradley_terry_dynamics(seed: int = DEFAULT_SEED, fast: bool = False, grid_n: int = 40, steps: int = 600) -> CheckResult:
    """MRS-DPO simulated on the Bradley–Terry example of the stability chapter, on the phase grid,
    against the closed form ``dynamics.dpo_bradley_terry`` (the sampler drops out). ``seed`` is unused."""
    n, T = (16, 300) if fast else (grid_n, steps)
    alpha, bl = phase_grid(n)
    s = np.asarray(SST_SCORES)
    run = dynamics.simulate(preferences.bradley_terry(s), alpha=alpha[:, None], beta=bl[None, :], lam=1.0,
                            steps=T, record="last", method="dpo")
    closed = dynamics.dpo_bradley_terry(s, alpha=alpha[:, None], beta=bl[None, :], steps=T)
    error = np.abs(run.final_log_pi - closed).max(axis=-1) / (1.0 + np.abs(closed).max(axis=-1))
    details = {"alpha": alpha, "bl": bl, "entropy": run.entropy, "steps": T, "last_move": run.last_move,
               "closed_entropy": simplex.entropy_from_log(closed)}
    return CheckResult(
        CHAPTER, "cor-dpo-bt-dynamics",
        f"max |log π_T − closed form| / (1 + max|log π_T|) over the {n}×{n} grid, T = {T}, Bradley–Terry example",
        measured=float(error.max()), expected=0.0, tolerance=1e-11, details=details, against="closed form vs solver",
    )


# --------------------------------------------------------------------------- DPO ranks like IPO (F4)


def ranking_problems(K: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` random problems of size ``K``: general P in [0.01, 0.99], Dirichlet(½) samplers floored at
    1e-3/K, β log-uniform on [0.1, 10]."""
    P = np.stack([random_problem(K, rng)[0] for _ in range(n)])
    mu = rng.dirichlet(np.full(K, 0.5), size=n) + 1e-3 / K
    mu /= mu.sum(axis=-1, keepdims=True)
    return P, mu, log_uniform(rng, 0.1, 10.0, n)


@lru_cache(maxsize=2)
def ranking_table(seed: int, fast: bool) -> pd.DataFrame:
    """Every pair of every random problem (K = 3..8): IPO's score gap ``(Pμ)_i − (Pμ)_k``, DPO's reward gap
    ``r*_i − r*_k`` (Newton), β and the measured range of ``r*``. Cached (read by three checks; do not modify)."""
    rng = np.random.default_rng([seed, 17])
    per_K = 60 if fast else 500
    frames = []
    for K in range(3, 9):
        P, mu, beta = ranking_problems(K, per_K, rng)
        r = dpo.implicit_reward(P, mu, beta)
        s = (P @ mu[..., None])[..., 0]
        i, k = np.triu_indices(K, 1)
        frames.append(pd.DataFrame({
            "K": K, "problem": np.repeat(np.arange(per_K), i.size),
            "score_gap": (s[:, i] - s[:, k]).ravel(), "reward_gap": (r[:, i] - r[:, k]).ravel(),
            "beta": np.repeat(beta, i.size), "range": np.repeat(np.ptp(r, axis=-1), i.size),
            "upper": np.concatenate([dpo.ranking_gap_bounds(P[n], mu[n], beta[n], reward_range=np.ptp(r[n]))[1][i, k]
                                     for n in range(per_K)]),
        }))
    return pd.concat(frames, ignore_index=True)


@register(CHAPTER)
def dpo_ranks_like_ipo(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``r*_i > r*_k ⇔ (Pμ)_i > (Pμ)_k``: pairs where DPO's Newton optimum and IPO's closed-form scores
    order two responses differently (pairs with ``|(Pμ)_i − (Pμ)_k| < 1e-9`` excluded as ties)."""
    t = ranking_table(seed, fast)
    decided = np.abs(t["score_gap"]) >= 1e-9
    wrong = int((np.sign(t["reward_gap"][decided]) != np.sign(t["score_gap"][decided])).sum())
    return CheckResult(
        CHAPTER, "thm-dpo-ranking",
        f"pairs ordered differently by DPO (Newton) and IPO's scores Pμ, {t['problem'].nunique() * 6} random "
        f"(P, μ, β), K = 3..8 ({int(decided.sum())} pairs)",
        measured=float(wrong), expected=0.0, tolerance=0.0, against="closed form vs solver", details=t,
    )


@register(CHAPTER)
def dpo_gap_lower_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``|r*_i − r*_k| >= 4β |(Pμ)_i − (Pμ)_k|``: the smallest ratio of the two over every pair."""
    t = ranking_table(seed, fast)
    ratio = np.abs(t["reward_gap"]) / (float(dpo.linearised_ipo_beta(1.0)) * t["beta"] * np.abs(t["score_gap"]))
    ratio = ratio[np.abs(t["score_gap"]) >= 1e-9]
    return CheckResult(
        CHAPTER, "thm-dpo-ranking",
        f"min over {ratio.size} pairs of |r*_i − r*_k| / (4β |(Pμ)_i − (Pμ)_k|) (the lower bound; 1 = tight)",
        measured=float(ratio.min()), expected=1.0, tolerance=1e-9, relation="at_least", against="theorem's bound",
        details=ratio.to_numpy(),
    )


@register(CHAPTER)
def dpo_gap_upper_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``|r*_i − r*_k| <= 4β cosh²(R/2β) |(Pμ)_i − (Pμ)_k|`` with ``R`` the range of ``r*``: the largest
    ratio of the two over every pair."""
    t = ranking_table(seed, fast)
    keep = np.abs(t["score_gap"]) >= 1e-9
    ratio = np.abs(t["reward_gap"][keep]) / t["upper"][keep]
    return CheckResult(
        CHAPTER, "thm-dpo-ranking",
        f"max over {int(keep.sum())} pairs of |r*_i − r*_k| / (4β cosh²(R/2β) |(Pμ)_i − (Pμ)_k|) (the upper bound)",
        measured=float(ratio.max()), expected=1.0, tolerance=1e-9, relation="at_most", against="theorem's bound",
        details=ratio.to_numpy(),
    )


def shrunk_fooling_matrix(mu: np.ndarray, shrink: float = DPO_FOOLING_SHRINK) -> np.ndarray:
    """``½11ᵀ + (1 − η)(F − ½11ᵀ)`` with ``F = preferences.fooling_matrix(μ)``: the fooling matrix pulled
    towards ½ by ``η = shrink``, so that every entry lies in (0, 1) and DPO has an optimum."""
    return 0.5 + (1.0 - shrink) * (preferences.fooling_matrix(mu) - 0.5)


def fixed_samplers(K: int, rng: np.random.Generator, draws: int) -> list[np.ndarray]:
    """Full-support samplers a designer might fix: uniform, every near-point mass ``0.999 e_k + 0.001 u``,
    and ``draws`` Dirichlet(1) draws."""
    u = np.full(K, 1.0 / K)
    return [u] + [0.999 * np.eye(K)[k] + 0.001 * u for k in range(K)] + list(rng.dirichlet(np.ones(K), size=draws))


@register(CHAPTER)
def dpo_fixed_sampling_fails(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For each fixed full-support sampler, DPO's optimum on its shrunk fooling matrix ranks the runner-up
    ``d`` above the Condorcet winner ``c``, at three β: the count of (sampler, β) where it does not."""
    rng = np.random.default_rng([seed, 18])
    draws = 3 if fast else 20
    escaped, total = 0, 0
    for K in range(3, 9):
        for mu in fixed_samplers(K, rng, draws):
            P = shrunk_fooling_matrix(mu)
            for beta in (0.1, 1.0, 10.0):
                pi = dpo.dpo_optimum(P, mu, beta=beta)
                escaped += bool(social_choice.is_condorcet_top(pi, P))
                total += 1
    return CheckResult(
        CHAPTER, "cor-dpo-ranking",
        f"(sampler, β) pairs, of {total}, whose DPO optimum keeps the Condorcet winner on top of its shrunk fooling matrix",
        measured=float(escaped), expected=0.0, tolerance=0.0, against="theorem's bound", details={"total": total},
    )


@register(CHAPTER)
def dpo_smith_sampler_on_top(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """DPO under the Smith sampler ``(1 − ε)q + εu`` (ε = ε̄/2 and ε̄/10) is Smith-top and Condorcet-top on random
    matrices with a Smith set of every proper size; the uniform sampler's violations are recorded for contrast."""
    rng = np.random.default_rng([seed, 19])
    per = 3 if fast else 15
    rows = []
    for K in range(3, 9):
        for size in range(1, K):
            for _ in range(per):
                P = 0.5 + 0.98 * (preferences.random_with_smith_set(K, size, rng) - 0.5)
                lottery = ipo.smith_lottery(P)
                beta = float(log_uniform(rng, 0.1, 10.0))
                row = {"K": K, "smith_size": size, "beta": beta}
                for name, mu in (("ε̄/2", lottery.sampler(lottery.eps_bound / 2)),
                                 ("ε̄/10", lottery.sampler(lottery.eps_bound / 10)), ("uniform", np.full(K, 1.0 / K))):
                    pi = dpo.dpo_optimum(P, mu, beta=beta)
                    row[name] = bool(social_choice.is_smith_top(pi, P)) and bool(social_choice.is_condorcet_top(pi, P))
                rows.append(row)
    details = pd.DataFrame(rows)
    failures = int((~details["ε̄/2"]).sum() + (~details["ε̄/10"]).sum())
    return CheckResult(
        CHAPTER, "cor-dpo-ranking",
        f"Smith-top or Condorcet-top violations of DPO under the Smith sampler (ε̄/2 and ε̄/10), {len(details)} random "
        "matrices, K = 3..8, every proper Smith-set size",
        measured=float(failures), expected=0.0, tolerance=0.0, against="theorem's bound", details=details,
    )


@register(CHAPTER)
def dpo_sst_preserves_order(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """DPO's optimum is order-preserving on strictly SST and Bradley–Terry matrices for random full-support samplers."""
    rng = np.random.default_rng([seed, 20])
    per_K = 30 if fast else 700
    broken, total = 0, 0
    for K in range(3, 9):
        P = np.stack([preferences.random_strongly_transitive(K, rng) if n % 2 else
                      preferences.bradley_terry(np.sort(rng.normal(0.0, 1.5, K))[::-1]) for n in range(per_K)])
        perm = np.argsort(rng.uniform(size=(per_K, K)), axis=-1)
        P = np.take_along_axis(np.take_along_axis(P, perm[:, :, None], axis=1), perm[:, None, :], axis=2)
        mu = rng.dirichlet(np.full(K, 0.5), size=per_K) + 1e-3 / K
        mu /= mu.sum(axis=-1, keepdims=True)
        pi = dpo.dpo_optimum(P, mu, beta=log_uniform(rng, 0.1, 10.0, per_K))
        broken += sum(not social_choice.is_order_preserving(pi[n], P[n]) for n in range(per_K))
        total += per_K
    return CheckResult(
        CHAPTER, "cor-dpo-ranking",
        f"order violations of DPO's optimum on {total} strongly transitive matrices (strict SST and Bradley–Terry, "
        "relabelled), K = 3..8, random full-support samplers",
        measured=float(broken), expected=0.0, tolerance=0.0, against="theorem's bound", details={"total": total},
    )


@register(CHAPTER)
def mrs_dpo_collapse_bound(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """MRS-DPO from uniform with a uniform reference, strictly SST P (best response 0): every round ``t``
    has ``log(π_t,0/π_t,j) >= 4β S_t δ_j`` with ``S_t = Σ_{k<t} α^k`` (so the fixed point obeys the collapse
    bound at ``4γ``). Measured: the smallest ratio of the two sides over runs, rounds and responses."""
    rng = np.random.default_rng([seed, 21])
    per_K, steps = (6, 40) if fast else (40, 120)
    rows = []
    for K in range(3, 7):
        P = np.stack([preferences.random_strongly_transitive(K, rng) for _ in range(per_K)])
        alpha = rng.choice([0.0, 0.5, 0.9, 1.0], per_K)
        beta = log_uniform(rng, 0.05, 2.0, per_K)
        lam = rng.uniform(0.0, 1.0, per_K)
        run = dynamics.simulate(P, alpha=alpha, beta=beta, lam=lam, steps=steps, method="dpo")
        log_pi = run.log_pi
        t = np.arange(steps + 1)
        S = np.where(alpha[:, None] == 1.0, t[None, :], (1.0 - alpha[:, None] ** t) / np.where(alpha == 1.0, 1.0, 1.0 - alpha)[:, None])
        delta = np.stack([preferences.dominance_margins(P[n], 0) for n in range(per_K)])
        lhs = log_pi[:, 1:, [0]] - log_pi[:, 1:, 1:]
        rhs = 4.0 * beta[:, None, None] * S[:, 1:, None] * delta[:, None, 1:]
        rows.append(pd.DataFrame({"K": K, "ratio": (lhs / rhs).min(axis=(1, 2)), "alpha": alpha, "beta": beta, "lam": lam,
                                  "final_entropy": simplex.entropy_from_log(log_pi[:, -1])}))
    details = pd.concat(rows, ignore_index=True)
    return CheckResult(
        CHAPTER, "cor-dpo-collapse",
        f"min over {len(details)} MRS-DPO runs (K = 3..6, α ∈ {{0, ½, 0.9, 1}}, {steps} rounds) of "
        "log(π_t,1/π_t,j) / (4β S_t δ_j)",
        measured=float(details["ratio"].min()), expected=1.0, tolerance=1e-9, relation="at_least",
        against="simulation vs theorem", details=details,
    )
