"""Checks of the chapter "Setting and IPO's closed form" (label prefix ``thm-ipo-``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefalign import dynamics, ipo, preferences, simplex, social_choice, statistics, validation
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "setting"
DEFAULT_SEED = 20260212
SIZES = range(3, 9)
"""Numbers of responses K of the random problems."""
BETA_RANGE = (0.1, 10.0)
"""β of the random problems is log-uniform on this range."""


def random_instance(K: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A random problem: general ``P``, Dirichlet(1) sampler and reference, β log-uniform on BETA_RANGE."""
    rng = validation.generator(rng)
    P = preferences.random_preference_matrix(K, rng)
    mu = rng.dirichlet(np.ones(K))
    ref = rng.dirichlet(np.ones(K))
    beta = float(log_uniform(rng, *BETA_RANGE))
    return P, mu, ref, beta


@register(CHAPTER)
def closed_form_vs_minimiser(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Closed form against a generic BFGS minimisation of the population loss, K = 3..8."""
    rng = np.random.default_rng([seed, 1])
    per_K = 4 if fast else 40
    rows = []
    for K in SIZES:
        for i in range(per_K):
            P, mu, ref, beta = random_instance(K, rng)
            closed = ipo.ipo_optimum(P, mu, ref, beta)
            numeric = ipo.numerical_optimum(P, mu, ref, beta)
            rows.append({"K": K, "instance": i, "beta": beta,
                         "max_log_error": float(np.max(np.abs(np.log(closed) - np.log(numeric))))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-ipo-closed-form",
        f"max |log π_closed − log π_BFGS| over {len(details)} random (P, μ, π_ref, β), K = {SIZES[0]}..{SIZES[-1]}",
        measured=details["max_log_error"].max(), expected=0.0, tolerance=1e-6, details=details, against="closed form vs solver",
    )


@register(CHAPTER)
def gibbs_gap(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``J(π*) − J(π) = KL(π ‖ π*)/β`` for random π: the closed form maximises the regularised objective."""
    rng = np.random.default_rng([seed, 2])
    trials = 20 if fast else 500
    worst = 0.0
    for _ in range(trials):
        K = int(rng.integers(SIZES[0], SIZES[-1] + 1))
        P, mu, ref, beta = random_instance(K, rng)
        star = ipo.ipo_optimum(P, mu, ref, beta)
        pi = rng.dirichlet(np.ones(K))
        gap = ipo.ipo_objective(star, P, mu, ref, beta) - ipo.ipo_objective(pi, P, mu, ref, beta)
        kl = float(np.sum(pi * (np.log(pi) - np.log(star))))
        worst = max(worst, abs(gap - kl / beta))
    return CheckResult(
        CHAPTER, "lem-ipo-gibbs", f"max |J(π*) − J(π) − KL(π‖π*)/β| over {trials} random problems and π",
        measured=worst, expected=0.0, tolerance=1e-10, against="identity",
    )


@register(CHAPTER)
def sampled_loss_constant(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The expected sampled loss minus the population loss is the π-free constant ``β² Σ_ij μ_i μ_j (¼ − A_ij²)``
    (``A = P − ½``): each computed offset against that closed form, evaluated here by hand."""
    rng = np.random.default_rng([seed, 3])
    problems = 10 if fast else 100
    worst = 0.0
    for _ in range(problems):
        K = int(rng.integers(SIZES[0], SIZES[-1] + 1))
        P, mu, ref, beta = random_instance(K, rng)
        closed = beta**2 * float(mu @ (0.25 - (P - 0.5) ** 2) @ mu)
        offsets = [ipo.expected_sampled_loss(pi, P, mu, ref, beta) - ipo.population_loss(pi, P, mu, ref, beta)
                   for pi in rng.dirichlet(np.ones(K), size=5)]
        worst = max(worst, float(np.max(np.abs(np.array(offsets) - closed))) / (1.0 + closed))
    return CheckResult(
        CHAPTER, "lem-ipo-sampled-loss",
        f"max |E[sampled loss] − L(π) − β² Σ μ_i μ_j (¼ − A_ij²)| / (1 + offset), 5 random π × {problems} random problems",
        measured=worst, expected=0.0, tolerance=1e-10, against="hand value",
    )


@register(CHAPTER)
def sampled_optimum_rate(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The sampled-loss optimum approaches the closed form at rate n^(−1/2) (fitted log–log slope)."""
    rng = np.random.default_rng([seed, 4])
    P, mu, ref, beta = random_instance(4, rng)
    mu = 0.5 * mu + 0.5 * simplex.uniform(4)
    star = ipo.ipo_optimum(P, mu, ref, beta)
    sizes = np.unique(np.round(np.logspace(2, 4, 5) if fast else np.logspace(2, 5.5, 8)).astype(int))
    reps = 6 if fast else 24
    rows = []
    for n in sizes:
        for rep in range(reps):
            pairs = ipo.sample_pairs(P, mu, int(n), rng)
            fitted = ipo.sampled_optimum(pairs, 4, ref, beta)
            rows.append({"n": int(n), "rep": rep, "tv_error": float(simplex.tv_distance(fitted, star))})
    details = pd.DataFrame(rows)
    rms = details.groupby("n")["tv_error"].apply(lambda e: float(np.sqrt(np.mean(e**2))))
    slope, intercept = statistics.loglog_slope(rms.index.to_numpy(float), rms.to_numpy())
    details.attrs.update(slope=slope, intercept=intercept, P=P, mu=mu, ref=ref, beta=beta)
    return CheckResult(
        CHAPTER, "prop-ipo-sampled-rate",
        f"log–log slope of RMS TV error of the sampled optimum vs n ({sizes[0]}..{sizes[-1]}, {reps} reps each)",
        measured=slope, expected=-0.5, tolerance=0.1, details=details, against="simulation vs theorem",
    )


SAMPLED_LOSS_PAIRS = (20, 5000)
"""Batches × pairs per batch of the Monte Carlo check of the sampled loss (a fifth of the batches when fast)."""


@register(CHAPTER)
def sampled_loss_unbiased(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The empirical sampled loss on pairs drawn by ``ipo.sample_pairs`` (winner by ``P``, both responses
    from ``μ``) averages to the expected sampled loss of :func:`prefalign.ipo.expected_sampled_loss`. Measured:
    the largest |mean of the batch losses − expected| in standard errors of that mean, over random problems."""
    rng = np.random.default_rng([seed, 5])
    batches, per_batch = SAMPLED_LOSS_PAIRS
    batches = batches // 5 if fast else batches
    problems = 3 if fast else 10
    worst = 0.0
    for _ in range(problems):
        K = int(rng.integers(SIZES[0], SIZES[-1] + 1))
        P, mu, ref, beta = random_instance(K, rng)
        pi = rng.dirichlet(np.ones(K))
        losses = np.array([ipo.sampled_loss(pi, ipo.sample_pairs(P, mu, per_batch, rng), ref, beta) for _ in range(batches)])
        se = losses.std(ddof=1) / np.sqrt(batches)
        worst = max(worst, abs(losses.mean() - ipo.expected_sampled_loss(pi, P, mu, ref, beta)) / se)
    return CheckResult(
        CHAPTER, "lem-ipo-sampled-loss",
        f"max over {problems} random problems of |mean sampled loss − E[sampled loss]| in standard errors "
        f"({batches} batches of {per_batch} drawn pairs)",
        measured=worst, expected=0.0, tolerance=5.0, relation="at_most", against="simulation vs theorem",
    )


@register(CHAPTER)
def conventions_hand_values(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The conventions behind the quantities the book shows, against values worked out by hand: entropy in nats
    (``H(u_K) = log K``), total variation with its ½ (``TV(e_1, e_2) = 1``), ties as ½ in Copeland scores, Borda
    scores as row sums, the Bradley–Terry fit (wins 3:1 give a score gap ``log 3``), ``κ = βλ/(1 − α)``, the
    entropy threshold ``ε_K = ½ min(1/e, 1/(K − 1))`` and the engine's default burn-in (the second half of the
    rounds). ``seed`` and ``fast`` are unused. Measured: the largest deviation."""
    deviations = {}
    deviations["entropy of uniform = log K"] = max(abs(float(simplex.entropy(simplex.uniform(K))) - np.log(K)) for K in range(2, 9))
    e = np.eye(3)
    deviations["TV(e1, e2) = 1, TV(u, e1) = 2/3"] = max(abs(float(simplex.tv_distance(e[0], e[1])) - 1.0),
                                                       abs(float(simplex.tv_distance(simplex.uniform(3), e[0])) - 2 / 3))
    P = np.array([[0.5, 0.5, 0.8], [0.5, 0.5, 0.3], [0.2, 0.7, 0.5]])
    deviations["Copeland (1.5, 0.5, 1), Borda (1.3, 0.8, 0.9)"] = max(
        float(np.max(np.abs(social_choice.copeland_scores(P) - [1.5, 0.5, 1.0]))),
        float(np.max(np.abs(social_choice.borda_scores(P) - [1.3, 0.8, 0.9]))))
    s = preferences.fit_bradley_terry(np.array([[0, 3], [1, 0]]))
    deviations["Bradley–Terry fit, wins 3:1 → s1 − s2 = log 3"] = abs(float(s[0] - s[1]) - np.log(3.0))
    deviations["κ(α = 0.5, β = 2, λ = 0.5) = 2"] = abs(float(dynamics.kappa(0.5, 2.0, 0.5)) - 2.0)
    deviations["ε_2 = 1/(2e), ε_4 = 1/6"] = max(abs(dynamics.entropy_monotone_ratio(2) - 0.5 / np.e),
                                                abs(dynamics.entropy_monotone_ratio(4) - 1 / 6))
    run = dynamics.simulate(preferences.cyclic(0.4), alpha=0.0, beta=5.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=40)
    deviations["default burn-in: rounds 20..40 of 40"] = abs(float(run.cycle_strength)
                                                         - float(dynamics.cycle_strength(run.pi, burn_in=20)))
    return CheckResult(
        CHAPTER, "def-preference-matrix",
        "largest deviation from hand values: " + "; ".join(deviations),
        measured=max(deviations.values()), expected=0.0, tolerance=1e-9, against="hand value", details=deviations,
    )
