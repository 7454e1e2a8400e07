"""Checks of the chapter "Setting and IPO's closed form" (label prefix ``thm-ipo-``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefalign import ipo, preferences, simplex, statistics
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "setting"
DEFAULT_SEED = 20260212
SIZES = range(3, 9)
"""Numbers of responses K of the random problems."""
BETA_RANGE = (0.1, 10.0)
"""β of the random problems is log-uniform on this range."""


def random_instance(K: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A random problem: general ``P``, Dirichlet(1) sampler and reference, β log-uniform on BETA_RANGE."""
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
