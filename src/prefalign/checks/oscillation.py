"""Checks of the chapter "Oscillation under cyclic preferences" (label prefix ``thm-osc-``)."""

from __future__ import annotations

from typing import Callable

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from prefalign import dynamics, ipo, preferences, simplex
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "oscillation"
DEFAULT_SEED = 20260213
CYCLE_A = 0.4
"""The margin ``a`` of the 3-cycle ``P_a`` used by the chapter (``P[1,2] = ½ + a``)."""


def random_batch(K: int, n: int, rng: np.random.Generator, *,
                 matrix: Callable[[int, np.random.Generator], np.ndarray] = preferences.random_preference_matrix,
                 alpha_max: float = 0.99) -> dict[str, np.ndarray]:
    """``n`` random MRS problems with ``K`` responses: ``P = matrix(K, rng)`` (a general P by default),
    α ~ U[0, alpha_max], β log-uniform on [0.1, 10], λ ~ U[0, 1], Dirichlet(1) reference, offline
    sampler and current policy."""
    return {
        "P": np.stack([matrix(K, rng) for _ in range(n)]),
        "alpha": rng.uniform(0.0, alpha_max, n), "beta": log_uniform(rng, 0.1, 10.0, n),
        "lam": rng.uniform(0.0, 1.0, n), "ref": rng.dirichlet(np.ones(K), size=n),
        "pi0": rng.dirichlet(np.ones(K), size=n), "pi": rng.dirichlet(np.ones(K), size=n),
    }


def round_args(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The keyword arguments of one round (``mrs_ipo_step``/``mrs_dpo_step``) from a :func:`random_batch`."""
    return {k: d[k] for k in ("alpha", "beta", "lam", "ref", "pi0")}


def round_difference(step: Callable[..., np.ndarray], log_pi: np.ndarray, v: np.ndarray, h: float,
                     d: dict[str, np.ndarray]) -> np.ndarray:
    """The central difference ``(F(log π + hv) − F(log π − hv)) / 2h`` of the round ``F = step`` on
    the batch ``d``, each displaced point renormalised to a log-policy. Shape of ``log_pi``."""
    up, down = log_pi + h * v, log_pi - h * v
    return (step(up - logsumexp(up, axis=-1, keepdims=True), d["P"], **round_args(d))
            - step(down - logsumexp(down, axis=-1, keepdims=True), d["P"], **round_args(d))) / (2 * h)


@register(CHAPTER)
def round_is_ipo_optimum(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """One round of the engine equals IPO's closed form with the mixed reference and sampler."""
    rng = np.random.default_rng([seed, 1])
    per_K = 50 if fast else 500
    worst = 0.0
    for K in range(3, 9):
        d = random_batch(K, per_K, rng)
        log_pi = np.log(d["pi"])
        step = dynamics.mrs_ipo_step(log_pi, d["P"], **round_args(d))
        reference, sampler = dynamics.round_inputs(log_pi, alpha=d["alpha"], lam=d["lam"], ref=d["ref"], pi0=d["pi0"])
        optimum = ipo.ipo_optimum(d["P"], sampler, reference, d["beta"])
        worst = max(worst, float(np.max(np.abs(step - np.log(optimum)))))
    return CheckResult(
        CHAPTER, "lem-osc-round",
        f"max |log π_(t+1) − log IPO optimum(μ_t, π_ref^(t))| over {6 * per_K} random rounds, K = 3..8",
        measured=worst, expected=0.0, tolerance=1e-12,
    )


@register(CHAPTER)
def fixed_point_solves_the_map(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The Newton fixed point is left unchanged by one round of the map (which the solver never calls)."""
    rng = np.random.default_rng([seed, 2])
    per_K = 30 if fast else 300
    rows = []
    for K in range(2, 9):
        d = random_batch(K, per_K, rng)
        d["lam"][: per_K // 3] = 0.0
        d["lam"][per_K // 3: 2 * per_K // 3] = 1.0
        fp = dynamics.fixed_point(d["P"], **round_args(d))
        residual = np.max(np.abs(dynamics.mrs_ipo_step(fp, d["P"], **round_args(d)) - fp), axis=-1)
        rows.append(pd.DataFrame({"K": K, "kappa": d["beta"] * d["lam"] / (1 - d["alpha"]), "residual": residual}))
    details = pd.concat(rows, ignore_index=True)
    return CheckResult(
        CHAPTER, "prop-osc-fixed-point",
        f"max |F(log π*) − log π*| over {len(details)} random problems (K = 2..8; λ = 0, 1 or random; κ up to {details['kappa'].max():.0f})",
        measured=details["residual"].max(), expected=0.0, tolerance=1e-10, details=details,
    )


@register(CHAPTER)
def jacobian_matches_finite_differences(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``J = αI + βλ A C(π)`` against central differences of the round (on logits modulo constants)."""
    rng = np.random.default_rng([seed, 3])
    per_K = 30 if fast else 300
    h = 1e-5
    worst = 0.0
    for K in range(2, 9):
        d = random_batch(K, per_K, rng)
        log_pi = np.log(d["pi"])
        J = dynamics.jacobian(log_pi, d["P"], alpha=d["alpha"], beta=d["beta"], lam=d["lam"])
        center = np.eye(K) - 1.0 / K
        for v in center.T:
            diff = round_difference(dynamics.mrs_ipo_step, log_pi, v, h, d)
            worst = max(worst, float(np.max(np.abs(diff @ center - (J @ v) @ center))))
    return CheckResult(
        CHAPTER, "thm-osc-jacobian",
        f"max |ΠJv − Π(F(log π + hv) − F(log π − hv))/2h| over {7 * per_K} random problems, v ∈ 1^⊥, h = 1e-5",
        measured=worst, expected=0.0, tolerance=1e-7,
    )


@register(CHAPTER)
def jacobian_eigenvalues(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Eigenvalues of J are ``α + iβλθ`` with ``iθ`` those of ``C^{1/2} A C^{1/2}`` (real part exactly α)."""
    rng = np.random.default_rng([seed, 4])
    per_K = 30 if fast else 300
    worst = 0.0
    for K in range(2, 9):
        d = random_batch(K, per_K, rng)
        log_pi = np.log(d["pi"])
        eig = np.linalg.eigvals(dynamics.jacobian(log_pi, d["P"], alpha=d["alpha"], beta=d["beta"], lam=d["lam"]))
        theta = dynamics.skew_spectrum(log_pi, d["P"])
        real_error = np.abs(eig.real - d["alpha"][:, None])
        imag_error = np.abs(np.sort(eig.imag, axis=-1) - np.sort((d["beta"] * d["lam"])[:, None] * theta, axis=-1))
        worst = max(worst, float(real_error.max()), float(imag_error.max()))
    return CheckResult(
        CHAPTER, "thm-osc-jacobian",
        f"max deviation of eig(J) from α + iβλθ (real and imaginary parts) over {7 * per_K} random (P, π), K = 2..8",
        measured=worst, expected=0.0, tolerance=1e-7,
    )


@register(CHAPTER)
def uniform_spectral_radius(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """On ``P_a`` the spectral radius at uniform (eigenvalues of QᵀJQ) is ``√(α² + a²β²λ²/3)``."""
    rng = np.random.default_rng([seed, 5])
    n = 200 if fast else 5000
    a = rng.uniform(0.0, 0.5, n)
    alpha, beta, lam = rng.uniform(0.0, 1.0, n), log_uniform(rng, 0.1, 30.0, n), rng.uniform(0.0, 1.0, n)
    P = np.stack([preferences.cyclic(x) for x in a])
    rho = dynamics.spectral_radius(np.log(np.full((n, 3), 1 / 3)), P, alpha=alpha, beta=beta, lam=lam)
    expected = dynamics.uniform_spectral_radius(a, alpha, beta, lam)
    return CheckResult(
        CHAPTER, "thm-osc-cycle",
        f"max |ρ(QᵀJQ) − √(α² + a²β²λ²/3)| at uniform over {n} random (a, α, β, λ)",
        measured=float(np.max(np.abs(rho - expected) / expected)), expected=0.0, tolerance=1e-12,
    )


def fate_grid(a: float, n: int, steps: int, alpha_max: float, bl_max: float) -> dict:
    """Simulate ``P_a`` on an ``n x n`` grid of (α, βλ) (λ = 1, uniform π_ref and π_0) from a fixed
    off-centre start; return the grid, the cycle strength, the distance to uniform and ρ."""
    alpha = np.linspace(0.0, alpha_max, n)
    bl = np.linspace(bl_max / n, bl_max, n)
    run = dynamics.simulate(preferences.cyclic(a), alpha=alpha[:, None], beta=bl[None, :], lam=1.0,
                            init=[0.5, 0.3, 0.2], steps=steps, record="last")
    uniform = np.log(simplex.uniform(3))
    return {"alpha": alpha, "bl": bl, "cycle_strength": run.cycle_strength,
            "distance": dynamics.logit_distance(run.final_log_pi, uniform),
            "rho": dynamics.uniform_spectral_radius(a, alpha[:, None], bl[None, :], 1.0),
            "steps": steps, "burn_in": run.burn_in, "a": a}


@register(CHAPTER)
def fate_matches_criterion(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A, grid_n: int = 200,
                           steps: int = 3000, threshold: float = 1e-6) -> CheckResult:
    """Simulated fate (cycle strength above ``threshold`` or not) against ``α² + a²β²λ²/3 > 1`` on a grid.

    Disagreements must lie in the band ``|ρ - 1| <= ln(1/threshold)/steps`` around the boundary, the
    resolution of ``steps`` rounds in linear theory (a mode with ``|ρ| < 1`` decays by ``ρ^steps``).
    ``seed`` is unused: the grid and the start are deterministic.
    """
    n, T = (40, 600) if fast else (grid_n, steps)
    grid = fate_grid(a, n, T, 1.0, 10.0)
    cycles = grid["cycle_strength"] > threshold
    disagree = cycles != (grid["rho"] > 1.0)
    band = float(np.log(1.0 / threshold) / T)
    grid.update(threshold=threshold, band=band, disagree=disagree)
    worst = float(np.max(np.abs(grid["rho"] - 1.0)[disagree])) if disagree.any() else 0.0
    return CheckResult(
        CHAPTER, "thm-osc-cycle",
        f"max |ρ − 1| where the simulated fate ({T} rounds) disagrees with the criterion, {n}×{n} grid of (α, βλ)",
        measured=worst, expected=band, tolerance=0.0, relation="at_most", details=grid,
    )


@register(CHAPTER)
def rotation_angle_near_uniform(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """Rotation per round near uniform against ``arctan(βλa/(√3α))``, over 3 rounds from 1e-6 off uniform."""
    rng = np.random.default_rng([seed, 7])
    n = 60 if fast else 600
    alpha = rng.uniform(0.05, 1.0, n)
    bl = rng.uniform(0.1, 10.0, n)
    start = np.array([1 / 3 + 1e-6, 1 / 3 - 1e-6, 1 / 3])
    run = dynamics.simulate(preferences.cyclic(a), alpha=alpha, beta=bl, lam=1.0, init=start, steps=3)
    measured = dynamics.rotation_angle(run.log_pi, np.log(simplex.uniform(3)))
    predicted = dynamics.uniform_rotation_angle(a, alpha, bl, 1.0)
    details = pd.DataFrame({"alpha": alpha, "bl": bl, "measured": measured, "predicted": predicted})
    return CheckResult(
        CHAPTER, "thm-osc-cycle",
        f"max |measured − predicted| rotation per round (radians), {n} random (α, βλ), 3 rounds from 1e-6 off uniform",
        measured=float(np.max(np.abs(measured - predicted))), expected=0.0, tolerance=1e-4, details=details,
    )


@register(CHAPTER)
def hedge_kl_increment(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """At α = 1 on ``P_a``: ``KL(u‖π_{t+1}) − KL(u‖π_t)`` equals the Jensen gap ``log Σ_i π_t,i e^{βλ(Aπ_t)_i} ≥ 0``."""
    rng = np.random.default_rng([seed, 8])
    n, T = (8, 300) if fast else (40, 2000)
    bl = log_uniform(rng, 0.2, 5.0, n)
    lam = rng.uniform(0.2, 1.0, n)
    init = rng.dirichlet(np.full(3, 5.0), size=n)
    P = preferences.cyclic(a)
    run = dynamics.simulate(P, alpha=1.0, beta=bl / lam, lam=lam, init=init, steps=T)
    lp = run.log_pi
    kl = simplex.kl_from_log(np.log(simplex.uniform(3)), lp)
    pi = np.exp(lp[:, :-1, :])
    gap = logsumexp(lp[:, :-1, :] + bl[:, None, None] * (pi @ preferences.skew(P).T), axis=-1)
    scale = 1.0 + np.abs(kl[:, 1:])
    details = {"t": run.t, "kl": kl, "bl": bl, "min_log_pi": lp.min(axis=-1)}
    return CheckResult(
        CHAPTER, "thm-osc-hedge",
        f"max |ΔKL_t − Jensen gap_t| / (1 + KL), {n} runs × {T} rounds at α = 1",
        measured=float(np.max(np.abs(np.diff(kl, axis=-1) - gap) / scale)), expected=0.0, tolerance=1e-12,
        details=details,
    )
