"""Checks of the chapter "From population rounds to trained rounds" (label prefix ``thm-trained-``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.linalg import null_space

from prefalign import dpo, dynamics, ipo, preferences, relaxation, simplex, trained, validation
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "trained"
DEFAULT_SEED = 20261016
A_CYCLE = 0.3
"""Margin of the 3-cycle ``P_a`` on which the relaxation threshold is checked (the value of the lead FRONTIER §F6)."""
RHO_MARGIN = 0.01
"""Grid points whose predicted spectral radius is within this margin of 1 are too close to call in a few
thousand rounds; the fate checks count ρ ≥ 1 + RHO_MARGIN as unstable and ρ ≤ 1 − RHO_MARGIN as stable."""
START_SIZE = 1e-3
"""Runs that test a fixed point start at this distance from it (in centred logits)."""
CONVERGED = 1e-8
"""A run has converged when it ends within this distance of the fixed point."""
LEFT = 1e-2
"""A run has left the fixed point when it ends farther than this (ten times its start)."""
FD_STEP = 1e-5
"""Step of the central differences of the trained round."""
DPO_BETA = 2.5
"""β of the DPO fate grid (large enough that λ = σ√3/(4aβ) stays ≤ 1 on the grid)."""
RELAXATION_SHARES = (0.05, 0.1, 0.2, 0.4, 0.7, 1.0)
"""The shares ``s`` of the fate grid on ``P_a``."""
OFFPOLICY_CYCLE = (0.7, 0.6, 0.9)
"""``P[0,1], P[1,2], P[2,0]`` of the 3-cycle used for the off-policy counterexamples (each beats the next)."""
OFFPOLICY_EXAMPLE = {"pi0": (0.1, 0.2, 0.7), "lam": 0.6, "alpha": 0.95, "beta": 10.0}
"""Counterexample (a): the exact round's fixed point is stable, trained rounds with small steps are not."""
ALPHA_ONE_EXAMPLE = {"pi0": (0.1, 0.8, 0.1), "lam": 0.3, "beta": 20.0, "lr": 0.5, "grad_steps": 1}
"""Counterexample (b): at α = 1, trained rounds with these steps make the fixed point stable."""
SMALL_STEPS = ((0.02, 2), (0.03, 1), (0.05, 1), (0.1, 1), (0.05, 5))
"""(lr, grad_steps) pairs with small ``lr · grad_steps`` at which counterexample (a) is checked."""


def cycle_matrix(p01: float, p12: float, p20: float) -> np.ndarray:
    """The 3-cycle with ``P[0,1] = p01``, ``P[1,2] = p12``, ``P[2,0] = p20``."""
    return preferences.validate([[0.5, p01, 1 - p20], [1 - p01, 0.5, p12], [p20, 1 - p12, 0.5]])


def near(log_pi: np.ndarray, seed: int, size: float = START_SIZE) -> np.ndarray:
    """A policy at centred-logit distance ``size`` from ``log_pi`` (..., K), in a random direction."""
    rng = np.random.default_rng([seed, 99])
    v = rng.normal(size=log_pi.shape)
    v -= v.mean(axis=-1, keepdims=True)
    z = log_pi + size * v / np.linalg.norm(v, axis=-1, keepdims=True)
    return simplex.softmax(z)


def fd_trained_jacobian(log_pi: np.ndarray, P: np.ndarray, **round_args) -> np.ndarray:
    """Central differences of :func:`prefalign.trained.trained_round` at ``log_pi``, on ``1^⊥`` (``(K-1, K-1)``)."""
    K = log_pi.shape[-1]
    Q = dynamics.perp_basis(K)
    cols = []
    for q in Q.T:
        ends = [trained.trained_round(simplex.log_normalize(log_pi + sign * FD_STEP * q), P, **round_args) for sign in (1, -1)]
        cols.append(Q.T @ (ends[0] - ends[1]) / (2 * FD_STEP))
    return np.stack(cols, axis=1)


def radius(J: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvals(J)).max())


@register(CHAPTER)
def round_is_relaxation(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The trained IPO round (literal gradient steps on the population loss) equals ``T + M(θ - T)``,
    ``M = (I - 4 lr C(μ))^k``, at random policies (not fixed points), K = 3..8."""
    rng = np.random.default_rng([seed, 1])
    per_K = 20 if fast else 200
    worst = 0.0
    for K in range(3, 9):
        P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(per_K)])
        lp = np.log(rng.dirichlet(np.full(K, 0.5), size=per_K) + 1e-9)
        lp = simplex.log_normalize(lp)
        alpha, lam = rng.uniform(0, 1, per_K), rng.uniform(0, 1, per_K)
        beta, lr = log_uniform(rng, 0.1, 30.0, per_K), rng.uniform(0.01, 0.99, per_K)
        ref, pi0 = rng.dirichlet(np.ones(K), size=per_K), rng.dirichlet(np.ones(K), size=per_K)
        k = int(rng.integers(1, 12))
        out = trained.trained_round(lp, P, alpha=alpha, beta=beta, lam=lam, lr=lr, grad_steps=k, ref=ref, pi0=pi0)
        T = dynamics.mrs_ipo_step(lp, P, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
        mu = lam[:, None] * np.exp(lp) + (1 - lam[:, None]) * pi0
        C = mu[:, :, None] * np.eye(K) - mu[:, :, None] * mu[:, None, :]
        M = np.linalg.matrix_power(np.eye(K) - 4 * lr[:, None, None] * C, k)
        predicted = T + np.einsum("nij,nj->ni", M, lp - T)
        worst = max(worst, float(np.max(dynamics.logit_distance(out, predicted) / (1 + np.abs(lp).max(axis=-1)))))
    return CheckResult(
        CHAPTER, "thm-trained-round",
        f"max relative distance between k gradient steps and T + (I − 4η C(μ))^k (θ − T), {6 * per_K} random rounds, K = 3..8",
        measured=worst, expected=0.0, tolerance=1e-12, against="closed form vs solver",
    )


@register(CHAPTER)
def sgd_round_unbiased(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """With one gradient step, the round on ``n`` sampled pairs has the population round as its mean:
    max over coordinates of |mean − population| in standard errors, over replicated rounds."""
    rng = np.random.default_rng([seed, 2])
    cases, reps, n = (4, 2000, 20) if fast else (12, 20000, 20)
    worst = 0.0
    for _ in range(cases):
        K = int(rng.integers(3, 6))
        P = preferences.random_preference_matrix(K, rng)
        lp = simplex.log_normalize(rng.normal(size=K))
        args = {"alpha": float(rng.uniform()), "beta": float(log_uniform(rng, 0.3, 10.0)), "lam": float(rng.uniform()),
                "lr": 0.3, "grad_steps": 1, "pi0": rng.dirichlet(np.ones(K)), "ref": rng.dirichlet(np.ones(K))}
        for loss in ("ipo", "dpo"):
            population = trained.trained_round(lp, P, loss=loss, **args)
            sampled = trained.trained_round(np.broadcast_to(lp, (reps, K)), P, loss=loss, pairs=n, rng=rng, **args)
            d = sampled - sampled[:, :1] - (population - population[:1])  # compare centred at response 0
            se = d[:, 1:].std(axis=0) / np.sqrt(reps)
            worst = max(worst, float(np.max(np.abs(d[:, 1:].mean(axis=0)) / se)))
    return CheckResult(
        CHAPTER, "lem-trained-unbiased",
        f"max |mean of {reps} one-step rounds on {n} sampled pairs − population round| in standard errors, "
        f"{cases} problems × IPO, DPO",
        measured=worst, expected=0.0, tolerance=5.0, against="simulation vs theorem",
    )


def cycle_fates(alphas: np.ndarray, signals: np.ndarray, shares: np.ndarray, rounds: int, loss: str,
                seed: int) -> pd.DataFrame:
    """Trained population rounds on ``P_a`` (a = A_CYCLE) from near uniform, two gradient steps per round,
    for every (α, σ, s): σ is the exact round's signal at uniform (IPO: λ = 1, β = σ√3/a; DPO:
    β = DPO_BETA, λ = σ√3/(4aβ)), and ``lr`` gives the share ``s`` at the curvature of uniform."""
    K, k = 3, 2
    P = preferences.cyclic(A_CYCLE)
    a, sig, s = np.meshgrid(alphas, signals, shares, indexing="ij")
    if loss == "ipo":
        beta, lam, h = sig * np.sqrt(3) / A_CYCLE, np.ones_like(sig), relaxation.curvature_at_uniform(K)
    else:
        beta, lam = np.full_like(sig, DPO_BETA), sig * np.sqrt(3) / (4 * A_CYCLE * DPO_BETA)
        h = relaxation.curvature_at_uniform(K, "dpo", DPO_BETA)
    lr = relaxation.lr_for_relaxation(s, k, h)
    start = near(np.full(3, -np.log(3)), seed)
    run = trained.simulate_trained(P, alpha=a, beta=beta, lam=lam, lr=lr, grad_steps=k, rounds=rounds, loss=loss,
                                   init=start, record="last")
    predicted = relaxation.relaxed_radius(a, relaxation.cycle_signal(A_CYCLE, beta, lam, loss), s)
    distance = dynamics.logit_distance(run.final_log_pi, np.full(3, -np.log(3)))
    return pd.DataFrame({"alpha": a.ravel(), "signal": sig.ravel(), "s": s.ravel(), "beta": beta.ravel(),
                         "lam": lam.ravel(), "lr": lr.ravel(), "radius": predicted.ravel(), "distance": distance.ravel()})


def fate_disagreements(frame: pd.DataFrame) -> tuple[int, int]:
    """(disagreements, points counted): stable prediction (ρ ≤ 1 − margin) must converge, unstable
    (ρ ≥ 1 + margin) must leave; points within the margin are not counted."""
    stable = frame["radius"] <= 1 - RHO_MARGIN
    unstable = frame["radius"] >= 1 + RHO_MARGIN
    bad = (stable & ~(frame["distance"] < CONVERGED)) | (unstable & ~(frame["distance"] > LEFT))
    return int(bad.sum()), int((stable | unstable).sum())


@register(CHAPTER)
def relaxed_fates_on_cycle(seed: int = DEFAULT_SEED, fast: bool = False, fate_rounds: int = 3000) -> CheckResult:
    """Trained IPO rounds on ``P_a`` converge to uniform exactly where ``s((1−α)² + σ²) < 2(1−α)``,
    over a grid of (α, σ = βλa/√3, s), α = 1 included."""
    n = 6 if fast else 14
    alphas = np.r_[np.linspace(0.0, 0.95, n - 1), 1.0]
    signals = np.linspace(0.1, 2.0, n)
    frame = cycle_fates(alphas, signals, np.array(RELAXATION_SHARES), 1500 if fast else fate_rounds, "ipo", seed)
    bad, counted = fate_disagreements(frame)
    return CheckResult(
        CHAPTER, "cor-trained-uniform",
        f"runs whose fate (converge / leave uniform) contradicts the relaxed radius, {counted} of {len(frame)} "
        f"grid points (α, σ, s) counted (|ρ − 1| ≥ {RHO_MARGIN:g})",
        measured=bad, expected=0.0, tolerance=0.0, against="simulation vs theorem", details=frame,
    )


@register(CHAPTER)
def dpo_fates_on_cycle(seed: int = DEFAULT_SEED, fast: bool = False, fate_rounds: int = 3000) -> CheckResult:
    """Trained DPO rounds on ``P_a`` follow the same threshold with σ = 4βλa/√3 and ``h = 1/(2Kβ²)``."""
    n = 4 if fast else 8
    alphas = np.r_[np.linspace(0.0, 0.9, n - 1), 1.0]
    signals = np.linspace(0.1, 1.6, n)
    frame = cycle_fates(alphas, signals, np.array((0.1, 0.4, 1.0)), 1500 if fast else fate_rounds, "dpo", seed)
    bad, counted = fate_disagreements(frame)
    return CheckResult(
        CHAPTER, "cor-trained-uniform",
        f"DPO runs whose fate contradicts the relaxed radius, {counted} of {len(frame)} grid points counted",
        measured=bad, expected=0.0, tolerance=0.0, against="simulation vs theorem", details=frame,
    )


def random_fixed_points(loss: str, count: int, rng: np.random.Generator) -> list[dict]:
    """Random problems (K = 3..5) with a known fixed point, built backwards: draw ``π*``, ``π_0``, λ,
    α, β; the reference ``log π_ref = log π* - r*(μ*)/(1-α) + c`` (``r*`` the round's optimal implicit
    reward at ``μ* = λπ* + (1-λ)π_0``: ``βPμ*`` for IPO, :func:`prefalign.dpo.implicit_reward` for DPO)
    makes ``π*`` a fixed point of the exact round."""
    rng = validation.generator(rng)
    cases = []
    for _ in range(count):
        K = int(rng.integers(3, 6))
        P = preferences.random_preference_matrix(K, rng)
        lp = simplex.log_normalize(np.log(rng.dirichlet(np.full(K, 2.0))))
        pi0, lam, alpha = rng.dirichlet(np.ones(K)), float(rng.uniform(0.2, 1.0)), float(rng.uniform(0, 0.9))
        beta = float(log_uniform(rng, 0.2, 20.0) if loss == "ipo" else log_uniform(rng, 0.05, 2.0))
        mu = lam * np.exp(lp) + (1 - lam) * pi0
        reward = beta * P @ mu if loss == "ipo" else dpo.implicit_reward(P, mu, beta)
        ref = simplex.softmax(lp - reward / (1 - alpha))
        limit = float(trained.max_lr(loss, beta, sampled=False))
        cases.append({"P": P, "log_pi": lp, "alpha": alpha, "beta": beta, "lam": lam, "ref": ref, "pi0": pi0,
                      "lr": float(rng.uniform(0.05, 0.9)) * limit, "grad_steps": int(rng.integers(1, 9))})
    return cases


def _jacobian_check(loss: str, seed: int, fast: bool) -> CheckResult:
    rng = np.random.default_rng([seed, 4 if loss == "ipo" else 5])
    worst = 0.0
    for case in random_fixed_points(loss, 6 if fast else 30, rng):
        c = dict(case)
        P, lp = c.pop("P"), c.pop("log_pi")
        formula = relaxation.trained_jacobian(lp, P, loss=loss, **c)
        Q = dynamics.perp_basis(P.shape[0])
        fd = fd_trained_jacobian(lp, P, loss=loss, **c)
        worst = max(worst, float(np.abs(Q.T @ formula @ Q - fd).max()))
    return CheckResult(
        CHAPTER, "thm-trained-jacobian",
        f"max |M* + (I − M*)J − central differences of the trained {loss.upper()} round| on 1^⊥, "
        f"{6 if fast else 30} random fixed points, K = 3..5",
        measured=worst, expected=0.0, tolerance=1e-7, against="finite differences",
    )


@register(CHAPTER)
def trained_jacobian_ipo(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The trained IPO round's Jacobian at a fixed point is ``M* + (I − M*)J`` (central differences)."""
    return _jacobian_check("ipo", seed, fast)


@register(CHAPTER)
def trained_jacobian_dpo(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The trained DPO round's Jacobian at a fixed point is ``M* + (I − M*)J`` with DPO's Hessian and ``J``."""
    return _jacobian_check("dpo", seed, fast)


@register(CHAPTER)
def onpolicy_small_steps_stabilise(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """λ = 1, α < 1: at on-policy fixed points that exact rounds leave, halve ``lr`` from 0.9 until the
    certificate ``b`` is below 1; the squared spectral radius of the trained round (central
    differences) must not exceed ``b``. Measured: the largest ``ρ_FD² - b`` (≤ 0 by the theorem)."""
    rng = np.random.default_rng([seed, 6])
    count = 5 if fast else 25
    rows = []
    while len(rows) < count:
        K = int(rng.integers(3, 7))
        P = preferences.random_preference_matrix(K, rng)
        alpha, beta = float(rng.uniform(0, 0.95)), float(log_uniform(rng, 1.0, 30.0))
        lp = dynamics.fixed_point(P, alpha=alpha, beta=beta, lam=1.0)
        exact = float(dynamics.spectral_radius(lp, P, alpha=alpha, beta=beta, lam=1.0))
        if exact < 1.0 or np.exp(lp).min() < 1e-4:
            continue
        k, lr = int(rng.integers(1, 6)), 0.9
        while (bound := float(relaxation.onpolicy_certificate(lp, P, alpha=alpha, beta=beta, lr=lr, grad_steps=k))) >= 1.0:
            lr /= 2
        fd = radius(fd_trained_jacobian(lp, P, alpha=alpha, beta=beta, lam=1.0, lr=lr, grad_steps=k))
        rows.append({"K": K, "alpha": alpha, "beta": beta, "exact_radius": exact, "lr": lr, "grad_steps": k,
                     "certificate": bound, "trained_radius": fd})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-trained-onpolicy",
        f"max of ρ_FD² − certificate over {count} on-policy fixed points that exact rounds leave "
        f"(ρ_exact up to {details['exact_radius'].max():.3g}), K = 3..6, at the certified step",
        measured=float((details["trained_radius"] ** 2 - details["certificate"]).max()), expected=0.0, tolerance=1e-8,
        relation="at_most", against="theorem's bound", details=details,
    )


@register(CHAPTER)
def alpha_one_onpolicy(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """λ = 1, α = 1: at the interior fixed point of random 3-cycles (their maximal lottery), every
    eigenvalue of the trained Jacobian (central differences) on 1^⊥ is ``1 + i·(real)``, whatever the
    step size and number of steps, so none has modulus below 1. Measured: max |Re λ − 1|."""
    rng = np.random.default_rng([seed, 7])
    count = 10 if fast else 60
    worst, smallest = 0.0, np.inf
    for _ in range(count):
        P = preferences.random_cyclic(3, rng)
        v = null_space(preferences.skew(P))[:, 0]
        lp = np.log(v / v.sum())
        beta, lr, k = float(log_uniform(rng, 0.5, 30.0)), float(rng.uniform(0.02, 0.95)), int(rng.integers(1, 10))
        eig = np.linalg.eigvals(fd_trained_jacobian(lp, P, alpha=1.0, beta=beta, lam=1.0, lr=lr, grad_steps=k))
        worst = max(worst, float(np.abs(eig.real - 1).max()))
        smallest = min(smallest, float(np.abs(eig).min()))
    return CheckResult(
        CHAPTER, "thm-trained-onpolicy",
        f"max |Re λ − 1| over the trained Jacobians' eigenvalues (central differences) at α = 1, λ = 1, {count} "
        f"random 3-cycles, random β, step size and steps (smallest |λ|: {smallest:.6f})",
        measured=worst, expected=0.0, tolerance=1e-7, against="theorem's bound", details={"smallest_modulus": smallest},
    )


def offpolicy_problem() -> tuple[np.ndarray, dict]:
    """Counterexample (a): the cycle :data:`OFFPOLICY_CYCLE` with the parameters :data:`OFFPOLICY_EXAMPLE`."""
    ex = dict(OFFPOLICY_EXAMPLE)
    ex["pi0"] = np.array(ex["pi0"])
    return cycle_matrix(*OFFPOLICY_CYCLE), ex


def alpha_one_problem() -> tuple[np.ndarray, dict, np.ndarray]:
    """Counterexample (b): the same cycle at α = 1 with :data:`ALPHA_ONE_EXAMPLE`, and its fixed point
    ``π* = (v - (1-λ)π_0)/λ`` (``v`` the maximal lottery, ``Av = 0``), as log-probabilities."""
    P = cycle_matrix(*OFFPOLICY_CYCLE)
    ex = dict(ALPHA_ONE_EXAMPLE)
    ex["pi0"] = np.array(ex["pi0"])
    v = null_space(preferences.skew(P))[:, 0]
    v /= v.sum()
    return P, ex, np.log((v - (1 - ex["lam"]) * ex["pi0"]) / ex["lam"])


@register(CHAPTER)
def offpolicy_small_steps_destabilise(seed: int = DEFAULT_SEED, fast: bool = False, cex_rounds: int = 3000) -> CheckResult:
    """Counterexample (a): exact rounds converge to the fixed point; trained rounds with small steps leave it.

    Measured: the smallest final distance to the fixed point over the small-step runs (from
    START_SIZE away); details: their spectral radii (formula and central differences) and the exact run's distance."""
    P, ex = offpolicy_problem()
    rounds = 1500 if fast else cex_rounds
    lp = dynamics.fixed_point(P, **ex)
    start = near(lp, seed)
    exact = dynamics.simulate(P, init=start, steps=rounds, record="last", **ex)
    rows = []
    for lr, k in SMALL_STEPS:
        run = trained.simulate_trained(P, lr=lr, grad_steps=k, rounds=rounds, init=start, record="last", **ex)
        rows.append({"lr": lr, "grad_steps": k,
                     "formula_radius": float(relaxation.trained_spectral_radius(lp, P, lr=lr, grad_steps=k, **ex)),
                     "fd_radius": radius(fd_trained_jacobian(lp, P, lr=lr, grad_steps=k, **ex)),
                     "distance": float(dynamics.logit_distance(run.final_log_pi, lp))})
    details = {"runs": pd.DataFrame(rows), "exact_radius": float(dynamics.spectral_radius(lp, P, **ex)),
               "exact_distance": float(dynamics.logit_distance(exact.final_log_pi, lp)), "fixed_point": np.exp(lp)}
    return CheckResult(
        CHAPTER, "prop-trained-offpolicy",
        f"min distance to the fixed point after {rounds} trained rounds with small steps (exact rounds: "
        f"{details['exact_distance']:.1e}, ρ_exact = {details['exact_radius']:.3f})",
        measured=float(details["runs"]["distance"].min()), expected=LEFT, tolerance=0.0, relation="at_least",
        against="simulation vs theorem", details=details,
    )


@register(CHAPTER)
def alpha_one_offpolicy_stabilised(seed: int = DEFAULT_SEED, fast: bool = False, cex_rounds: int = 3000) -> CheckResult:
    """Counterexample (b): at α = 1 with an off-policy share, trained rounds converge to the fixed point
    that exact rounds leave. Measured: the trained run's final distance; details: the exact run's, radii."""
    P, ex, lp = alpha_one_problem()
    rounds = 1500 if fast else cex_rounds
    start = near(lp, seed)
    common = {"alpha": 1.0, "beta": ex["beta"], "lam": ex["lam"], "pi0": ex["pi0"]}
    run = trained.simulate_trained(P, lr=ex["lr"], grad_steps=ex["grad_steps"], rounds=rounds, init=start,
                                   record="last", **common)
    exact = dynamics.simulate(P, init=start, steps=rounds, record="last", **common)
    details = {"fd_radius": radius(fd_trained_jacobian(lp, P, lr=ex["lr"], grad_steps=ex["grad_steps"], **common)),
               "exact_radius": float(dynamics.spectral_radius(lp, P, alpha=1.0, beta=ex["beta"], lam=ex["lam"], pi0=ex["pi0"])),
               "exact_distance": float(dynamics.logit_distance(exact.final_log_pi, lp)), "fixed_point": np.exp(lp)}
    return CheckResult(
        CHAPTER, "prop-trained-offpolicy",
        f"distance to the α = 1 fixed point after {rounds} trained rounds (exact rounds end "
        f"{details['exact_distance']:.3g} away; trained ρ = {details['fd_radius']:.3f} by central differences)",
        measured=float(dynamics.logit_distance(run.final_log_pi, lp)), expected=0.0, tolerance=CONVERGED,
        against="simulation vs theorem", details=details,
    )


@register(CHAPTER)
def exact_alpha_one_never_stable(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The exact round at α = 1 has an eigenvalue of modulus ≥ 1 at every interior point, any P, λ, π_0
    (its Jacobian's eigenvalues on 1^⊥ sum to K − 1). Measured: the smallest ρ over random points."""
    rng = np.random.default_rng([seed, 8])
    per_K = 50 if fast else 500
    smallest = np.inf
    for K in range(3, 9):
        P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(per_K)])
        lp = simplex.log_normalize(rng.normal(0, 2, (per_K, K)))
        rho = dynamics.spectral_radius(lp, P, alpha=1.0, beta=log_uniform(rng, 0.1, 100.0, per_K),
                                       lam=rng.uniform(0, 1, per_K))
        smallest = min(smallest, float(rho.min()))
    return CheckResult(
        CHAPTER, "prop-trained-offpolicy",
        f"min spectral radius of the exact round at α = 1 over {6 * per_K} random (P, π, β, λ), K = 3..8",
        measured=smallest, expected=1.0, tolerance=1e-12, relation="at_least", against="theorem's bound",
    )


@register(CHAPTER)
def lagged_alpha_one(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """With a lagged reference at α = 1 (weight ν on the previous round), the relaxed recursion
    ``x_{t+1} = (1 - sν + isσ)x_t + sν x_{t-1}`` has a root of modulus > 1 for every s, ν, σ > 0.
    Measured: min over a grid of the largest root modulus (eigenvalues of the companion matrix, LAPACK)."""
    n = 15 if fast else 40
    s, nu, sig = np.meshgrid(np.linspace(0.02, 1.0, n), np.linspace(0.0, 0.98, n), np.geomspace(0.01, 5.0, n),
                             indexing="ij")
    companion = np.zeros(s.shape + (2, 2), dtype=complex)  # of z² - b z - c: [[b, c], [1, 0]]
    companion[..., 0, 0] = 1 - s * nu + 1j * s * sig
    companion[..., 0, 1] = s * nu
    companion[..., 1, 0] = 1.0
    smallest = float(np.abs(np.linalg.eigvals(companion)).max(axis=-1).min())
    return CheckResult(
        CHAPTER, "prop-trained-lag",
        f"min over a {n}³ grid of (s, ν, σ) of the largest root modulus of z² − (1 − sν + isσ)z − sν",
        measured=smallest, expected=1.0, tolerance=0.0, relation="at_least", against="independent algorithm",
    )


@register(CHAPTER)
def trained_limits_are_fixed_points(seed: int = DEFAULT_SEED, fast: bool = False, limit_rounds: int = 4000) -> CheckResult:
    """Trained population rounds that converge end at the exact round's fixed point (Newton), on
    random strongly transitive matrices over a range of α: trained and exact rounds share their fixed points."""
    rng = np.random.default_rng([seed, 9])
    count = 3 if fast else 12
    P = np.stack([preferences.random_strongly_transitive(4, rng) for _ in range(count)])
    alphas = np.array([0.0, 0.5, 0.8, 0.9])
    run = trained.simulate_trained(P[:, None], alpha=alphas, beta=2.0, lam=0.8, lr=0.2, grad_steps=3,
                                   rounds=1000 if fast else limit_rounds, record="last")
    star = dynamics.fixed_point(P[:, None], alpha=alphas, beta=2.0, lam=0.8)
    converged = run.last_move < 1e-13
    gap = dynamics.logit_distance(run.final_log_pi, star)
    return CheckResult(
        CHAPTER, "thm-trained-jacobian",
        f"max distance between the limits of trained rounds and the Newton fixed point, {int(converged.sum())} of "
        f"{converged.size} runs converged ({count} SST matrices, α ∈ {{0, 0.5, 0.8, 0.9}})",
        measured=float(gap[converged].max()) if converged.any() else np.inf, expected=0.0, tolerance=1e-9,
        against="closed form vs solver",
    )


@register(CHAPTER)
def relaxation_share_matches_gradient_steps(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Under the uniform sampler (λ = 0, π_0 = u) the IPO loss has Hessian ``h·I`` on ``1^⊥`` with ``h`` =
    :func:`prefalign.relaxation.curvature_at_uniform`, so ``k`` literal gradient steps (the engine,
    :func:`prefalign.trained.trained_round`) cover the share ``s = 1 − (1 − ηh)^k`` of the way from ``θ`` to the
    exact round ``T`` (:func:`prefalign.relaxation.relaxation_weight`). Measured: the largest
    ``|‖θ_k − T‖/‖θ − T‖ − |1 − s||`` (centred logits) over random policies, K, η and k."""
    rng = np.random.default_rng([seed, 40])
    n = 20 if fast else 200
    worst = 0.0
    for _ in range(n):
        K = int(rng.integers(2, 9))
        P = preferences.random_preference_matrix(K, rng)
        lp = simplex.log_normalize(np.log(rng.dirichlet(np.ones(K))))
        h = float(relaxation.curvature_at_uniform(K))
        lr, k = float(rng.uniform(0.05, 0.99)), int(rng.integers(1, 9))  # below the engine's max_lr (1 for IPO)
        args = {"alpha": float(rng.uniform(0, 1)), "beta": float(log_uniform(rng, 0.1, 10.0)), "lam": 0.0,
                "ref": rng.dirichlet(np.ones(K)), "pi0": simplex.uniform(K)}
        out = trained.trained_round(lp, P, lr=lr, grad_steps=k, **args)
        T = dynamics.mrs_ipo_step(lp, P, **args)
        left = dynamics.logit_distance(out, T) / dynamics.logit_distance(lp, T)  # |1 − s| (s > 1 overshoots)
        worst = max(worst, abs(float(left) - abs(1.0 - float(relaxation.relaxation_weight(lr, k, h)))))
    return CheckResult(
        CHAPTER, "thm-trained-round",
        f"max |‖θ_k − T‖/‖θ − T‖ − |1 − s|| with s = 1 − (1 − ηh)^k, k gradient steps under the uniform sampler, "
        f"{n} random (P, π, η, k), K = 2..8",
        measured=worst, expected=0.0, tolerance=1e-9, against="closed form vs solver",
    )


@register(CHAPTER)
def relaxed_eigenvalues_by_hand(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``cor-trained-uniform``: the relaxed eigenvalue ``(1 − s) + s(α ± iσ)`` has modulus
    :func:`prefalign.relaxation.relaxed_radius`, computed here as the spectral radius of the 2 × 2 matrix
    ``(1 − s)I + s[[α, −σ], [σ, α]]`` (numpy's eigenvalues); at ``s`` = :func:`~prefalign.relaxation.max_relaxation`
    that modulus is 1, and :func:`~prefalign.relaxation.max_signal` at that ``s`` returns ``σ``. Measured: the
    largest of the three deviations over random (α, σ, s)."""
    rng = np.random.default_rng([seed, 41])
    n = 200 if fast else 2000
    alpha, sigma, s = rng.uniform(0, 0.99, n), log_uniform(rng, 0.05, 5.0, n), rng.uniform(0.01, 1.5, n)
    rotation = np.stack([np.stack([alpha, -sigma], -1), np.stack([sigma, alpha], -1)], -2)
    relaxed = (1 - s)[:, None, None] * np.eye(2) + s[:, None, None] * rotation
    by_numpy = np.abs(np.linalg.eigvals(relaxed)).max(axis=-1)
    s_max = relaxation.max_relaxation(alpha, sigma)
    worst = max(float(np.max(np.abs(relaxation.relaxed_radius(alpha, sigma, s) - by_numpy))),
                float(np.max(np.abs(relaxation.relaxed_radius(alpha, sigma, s_max) - 1.0))),
                float(np.max(np.abs(relaxation.max_signal(alpha, s_max) - sigma) / sigma)))
    return CheckResult(
        CHAPTER, "cor-trained-uniform",
        f"max over {n} random (α, σ, s) of |relaxed_radius − ρ((1 − s)I + sR)|, |relaxed_radius at s_max − 1| and "
        "|max_signal(s_max) − σ|/σ",
        measured=worst, expected=0.0, tolerance=1e-9, against="independent algorithm",
    )


@register(CHAPTER)
def pair_loss_is_the_sampled_loss(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The per-pair IPO loss that trained rounds descend, with the expected (winner, loser) shares
    ``W = 2 μμᵀ ⊙ P`` (:func:`prefalign.trained.expected_weights`) and ``x = log π − log π_ref``, equals the
    expected sampled loss of the setting chapter (:func:`prefalign.ipo.expected_sampled_loss`, its own code).
    Measured: the largest relative difference over random problems."""
    rng = np.random.default_rng([seed, 42])
    n = 50 if fast else 500
    worst = 0.0
    for _ in range(n):
        K = int(rng.integers(2, 9))
        P, mu, ref, pi = (preferences.random_preference_matrix(K, rng), rng.dirichlet(np.ones(K)),
                          rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K)))
        beta = float(log_uniform(rng, 0.1, 10.0))
        value = float(trained.pair_loss(np.log(pi) - np.log(ref), trained.expected_weights(P, mu), beta, "ipo"))
        expected = ipo.expected_sampled_loss(pi, P, mu, ref, beta)
        worst = max(worst, abs(value - expected) / (1.0 + abs(expected)))
    return CheckResult(
        CHAPTER, "thm-trained-round",
        f"max |pair loss (W = 2μμᵀ⊙P) − E[sampled IPO loss]| / (1 + |E|), {n} random (P, μ, π_ref, π, β), K = 2..8",
        measured=worst, expected=0.0, tolerance=1e-12, against="identity",
    )
