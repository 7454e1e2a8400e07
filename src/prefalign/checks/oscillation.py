"""Checks of the chapter "Oscillation under cyclic preferences" (label prefix ``thm-osc-``)."""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from prefalign import dynamics, ipo, preferences, protocol, simplex, statistics, validation
from prefalign.dynamics import bifurcation
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
    rng = validation.generator(rng)
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
        measured=worst, expected=0.0, tolerance=1e-12, against="independent algorithm",
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
        measured=details["residual"].max(), expected=0.0, tolerance=1e-10, details=details, against="independent algorithm",
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
        measured=worst, expected=0.0, tolerance=1e-7, against="finite differences",
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
        measured=worst, expected=0.0, tolerance=1e-7, against="identity",
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
        measured=float(np.max(np.abs(rho - expected) / expected)), expected=0.0, tolerance=1e-12, against="hand value",
    )


OFF_CENTRE_START = (0.5, 0.3, 0.2)
"""The off-centre starting policy of the phase-diagram runs (and of the chapter's persistent-cycle runs)."""
CYCLE_ROUNDS = 4000
"""Rounds of the chapter's persistent-cycle runs; the period is measured on the second half."""


def fate_grid(a: float, n: int, steps: int, alpha_max: float, bl_max: float) -> dict:
    """Simulate ``P_a`` on an ``n x n`` grid of (α, βλ) (λ = 1, uniform π_ref and π_0) from a fixed
    off-centre start; return the grid, the cycle strength, the distance to uniform and ρ."""
    alpha = np.linspace(0.0, alpha_max, n)
    bl = np.linspace(bl_max / n, bl_max, n)
    run = dynamics.simulate(preferences.cyclic(a), alpha=alpha[:, None], beta=bl[None, :], lam=1.0,
                            init=OFF_CENTRE_START, steps=steps, record="last")
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
        measured=worst, expected=band, tolerance=0.0, relation="at_most", details=grid, against="simulation vs theorem",
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
        measured=float(np.max(np.abs(measured - predicted))), expected=0.0, tolerance=1e-4, details=details, against="simulation vs theorem",
    )


HEDGE_ROUNDING = 1e-13
"""Near the boundary the increments of KL(u‖π_t) fall below the rounding error of KL itself: a round counts as a
decrease when ΔKL < −HEDGE_ROUNDING · (1 + KL)."""


@register(CHAPTER)
def hedge_kl_increment(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """At α = 1 on ``P_a``, simulated by the engine (which never computes a divergence): ``KL(u‖π_t)`` strictly
    increases in every round (up to HEDGE_ROUNDING) and the smallest coordinate reached in the second half of the
    run is smaller than the smallest reached in the first half (the spiral goes outwards). Measured: the number of rounds where KL decreases plus the runs whose smallest coordinate did not fall.
    ``details`` also holds the largest gap between ``ΔKL_t`` and the Jensen gap of the proof."""
    rng = np.random.default_rng([seed, 8])
    n, T = (8, 300) if fast else (40, 2000)
    bl = log_uniform(rng, 0.2, 5.0, n)
    lam = rng.uniform(0.2, 1.0, n)
    init = rng.dirichlet(np.full(3, 5.0), size=n)
    P = preferences.cyclic(a)
    run = dynamics.simulate(P, alpha=1.0, beta=bl / lam, lam=lam, init=init, steps=T)
    lp = run.log_pi
    kl = simplex.kl_from_log(np.log(simplex.uniform(3)), lp)
    increments = np.diff(kl, axis=-1)
    pi = np.exp(lp[:, :-1, :])
    gap = logsumexp(lp[:, :-1, :] + bl[:, None, None] * (pi @ preferences.skew(P).T), axis=-1)
    smallest = lp.min(axis=-1)
    not_falling = smallest[:, T // 2:].min(axis=-1) >= smallest[:, :T // 2].min(axis=-1)
    rounding = HEDGE_ROUNDING * (1.0 + np.abs(kl[:, 1:]))
    bad = int(np.sum(increments < -rounding)) + int(np.sum(not_falling))
    details = {"t": run.t, "kl": kl, "bl": bl, "min_log_pi": smallest, "min_increment": float(increments.min()),
               "jensen_error": float(np.max(np.abs(increments - gap) / (1.0 + np.abs(kl[:, 1:]))))}
    return CheckResult(
        CHAPTER, "thm-osc-hedge",
        f"rounds with KL(u‖π_t+1) < KL(u‖π_t) (beyond rounding, {HEDGE_ROUNDING:.0e} relative), plus runs whose smallest log π_t,i over rounds "
        f"{T // 2}..{T} is not below the smallest over rounds 0..{T // 2}, {n} runs × {T} rounds at α = 1",
        measured=bad, expected=0, tolerance=0, relation="at_most", details=details, against="theorem's bound",
    )


# --------------------------------------------------------------------------- beyond linear stability

UNSTABLE_SIZES = tuple(range(3, 9))
"""Numbers of responses K of the random cyclic matrices in the non-convergence check."""
UNSTABLE_MATRICES = 12
"""Random problems per K with an unstable fixed point (and as many inside the contraction region); a quarter when fast."""
UNSTABLE_STARTS = 40
"""Random starting policies per problem (Dirichlet(1/2), many near the boundary); a quarter when fast."""
UNSTABLE_ROUNDS = 2000
"""Rounds per run (a quarter when fast); the last :data:`UNSTABLE_WINDOW` rounds are inspected."""
UNSTABLE_WINDOW = 100
"""Rounds at the end of each run over which the largest distance to the fixed point is taken."""
UNSTABLE_RHO = (1.05, 1.5)
"""Unstable problems have the spectral radius at their fixed point in this range (near the threshold,
where a run comes closest to converging)."""
CONTRACTION_Q = 0.9
"""Control problems have contraction constant ``α + βλ‖A‖₂/2`` at most this (so ``q^{rounds}`` is negligible)."""
CONVERGED = 1e-6
"""A run has converged when its policy stays within this distance (centred logits) of the fixed point."""


def _unstable_problems(K: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random problems with a random cyclic ``K x K`` matrix and an unstable fixed point (ρ in UNSTABLE_RHO):
    α ~ U(0.05, 0.95), λ ~ U(0.5, 1], β log-uniform on [1, 100], Dirichlet(1) reference and offline sampler,
    drawn in batches until ``n`` are unstable."""
    found: list[dict[str, np.ndarray]] = []
    while sum(len(f["alpha"]) for f in found) < n:
        m = 4 * n
        d = {"P": np.stack([preferences.random_cyclic(K, rng) for _ in range(m)]), "alpha": rng.uniform(0.05, 0.95, m),
             "beta": log_uniform(rng, 1.0, 100.0, m), "lam": rng.uniform(0.5, 1.0, m),
             "ref": rng.dirichlet(np.ones(K), size=m), "pi0": rng.dirichlet(np.ones(K), size=m)}
        star = dynamics.fixed_point(d["P"], **round_args(d))
        rho = dynamics.spectral_radius(star, d["P"], alpha=d["alpha"], beta=d["beta"], lam=d["lam"])
        keep = (rho >= UNSTABLE_RHO[0]) & (rho <= UNSTABLE_RHO[1])
        found.append({**{k: v[keep] for k, v in d.items()}, "star": star[keep], "rho": rho[keep]})
    return {k: np.concatenate([f[k] for f in found])[:n] for k in found[0]}


def _contracting_problems(K: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random problems with a random cyclic ``K x K`` matrix inside the contraction region: α ~ U(0, 0.8),
    q ~ U(α, CONTRACTION_Q], β chosen so that ``α + βλ‖A‖₂/2 = q``."""
    d = {"P": np.stack([preferences.random_cyclic(K, rng) for _ in range(n)]), "alpha": rng.uniform(0.0, 0.8, n),
         "lam": rng.uniform(0.5, 1.0, n), "ref": rng.dirichlet(np.ones(K), size=n), "pi0": rng.dirichlet(np.ones(K), size=n)}
    q = rng.uniform(d["alpha"], CONTRACTION_Q)
    d["beta"] = 2.0 * (q - d["alpha"]) / (d["lam"] * np.linalg.norm(preferences.skew(d["P"]), 2, axis=(-2, -1)))
    d["star"] = dynamics.fixed_point(d["P"], **round_args(d))
    d["rho"] = dynamics.spectral_radius(d["star"], d["P"], alpha=d["alpha"], beta=d["beta"], lam=d["lam"])
    return d


def _late_distance(d: dict[str, np.ndarray], starts: np.ndarray, rounds: int, window: int) -> np.ndarray:
    """For every (start, problem): the largest distance to the fixed point over the last ``window`` rounds, (S, n)."""
    args = round_args(d)
    log_pi = dynamics.simulate(d["P"], init=starts, steps=rounds - window, record="last", **args).final_log_pi
    late = dynamics.logit_distance(log_pi, d["star"])
    for _ in range(window):  # round by round in log space: late policies may have entries below 1e-308
        log_pi = dynamics.mrs_ipo_step(log_pi, d["P"], **args)
        late = np.maximum(late, dynamics.logit_distance(log_pi, d["star"]))
    return late


@functools.lru_cache(maxsize=2)
def instability_runs(seed: int, fast: bool) -> pd.DataFrame:
    """Runs from many random starts on random cyclic problems, unstable (ρ in UNSTABLE_RHO) or contracting:
    one row per run with K, kind, ρ, and the largest distance to the fixed point over the final window."""
    rng = np.random.default_rng([seed, 20])
    n = max(UNSTABLE_MATRICES // 4, 1) if fast else UNSTABLE_MATRICES
    S = max(UNSTABLE_STARTS // 4, 1) if fast else UNSTABLE_STARTS
    rounds = UNSTABLE_ROUNDS // 4 if fast else UNSTABLE_ROUNDS
    rows = []
    for K in UNSTABLE_SIZES:
        for kind, problems in (("unstable", _unstable_problems), ("contracting", _contracting_problems)):
            d = problems(K, n, rng)
            starts = rng.dirichlet(np.full(K, 0.5), size=(S, n)) + 1e-9
            late = _late_distance(d, starts / starts.sum(axis=-1, keepdims=True), rounds, UNSTABLE_WINDOW)
            rows.append(pd.DataFrame({"K": K, "kind": kind, "problem": np.tile(np.arange(n), S),
                                      "rho": np.tile(d["rho"], S), "late_distance": late.ravel()}))
    details = pd.concat(rows, ignore_index=True)
    details.attrs.update(rounds=rounds, starts=S, problems=n)
    return details


@register(CHAPTER)
def unstable_runs_never_converge(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``thm-osc-unstable``: where the fixed point has ρ > 1 almost no start converges; none of the random starts may."""
    runs = instability_runs(seed, fast)
    unstable = runs[runs["kind"] == "unstable"]
    return CheckResult(
        CHAPTER, "thm-osc-unstable",
        f"min over {len(unstable)} runs ({runs.attrs['starts']} random starts × random cyclic "
        f"problems with {UNSTABLE_RHO[0]:g} ≤ ρ ≤ {UNSTABLE_RHO[1]:g}, K = {UNSTABLE_SIZES[0]}..{UNSTABLE_SIZES[-1]}) of the largest distance "
        f"to the Newton fixed point over the last {UNSTABLE_WINDOW} of {runs.attrs['rounds']} rounds",
        measured=float(unstable["late_distance"].min()), expected=CONVERGED, tolerance=0.0, relation="at_least",
        against="simulation vs theorem", details=runs,
    )


@register(CHAPTER)
def contracting_runs_converge(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Control for ``thm-osc-unstable``: the same detector finds every run converged inside the contraction region."""
    runs = instability_runs(seed, fast)
    contracting = runs[runs["kind"] == "contracting"]
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max over {len(contracting)} runs (random starts × random cyclic problems with α + βλ‖A‖₂/2 ≤ {CONTRACTION_Q:g}) "
        f"of the largest distance to the Newton fixed point over the last {UNSTABLE_WINDOW} of {runs.attrs['rounds']} rounds",
        measured=float(contracting["late_distance"].max()), expected=CONVERGED, tolerance=0.0, relation="at_most",
        against="simulation vs theorem", details=runs,
    )


# --------------------------------------------------------------------------- the Neimark–Sacker bifurcation on P_a

NS_ALPHAS = (0.0, 0.3, 0.6, 0.9)
"""Reference weights α at which the invariant curve beyond the threshold is simulated."""
NS_EXCESS = (1e-3, 3e-3, 1e-2, 3e-2)
"""Distances ρ − 1 beyond the threshold at which it is simulated."""
NS_ROUNDS = 20.0
"""Each run lasts NS_ROUNDS / (ρ − 1) rounds (the curve attracts at rate about 2(ρ − 1) per round); the
second half is measured."""
NS_AMPLITUDE_TOL = 0.005
"""Relative tolerance on the RMS radius at the smallest ρ − 1 (the normal form is exact to O(ρ − 1))."""
NS_SLOPE_TOL = 0.01
"""Tolerance on the log–log slope ½ of the RMS radius against ρ − 1."""


@register(CHAPTER)
def lyapunov_coefficient_closed_form(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``thm-osc-neimark-sacker``: Kuznetsov's formula, evaluated numerically at the threshold of ``P_a``
    (eigenvectors, linear solves, the softmax forms), against the hand-derived ``ℓ₁ = -(1 - α²)/4``."""
    margins = (0.1, 0.25, 0.4, 0.5)
    alphas = np.linspace(0.0, 0.95, 5 if fast else 20)
    rows = []
    for a in margins:
        for alpha in alphas:
            ns = bifurcation.neimark_sacker(preferences.cyclic(a), alpha=float(alpha),
                                            beta=float(dynamics.oscillation_boundary(a, alpha)), lam=1.0)
            rows.append({"a": a, "alpha": alpha, "modulus": ns.modulus, "angle": ns.angle, "lyapunov": ns.lyapunov,
                         "closed_form": float(bifurcation.cycle_lyapunov_coefficient(alpha))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-osc-neimark-sacker",
        f"max |ℓ₁ (Kuznetsov's formula, numerical) − (−(1 − α²)/4)| at the threshold of P_a, "
        f"a ∈ {{{', '.join(f'{m:g}' for m in margins)}}}, {len(alphas)} values of α in [0, 0.95]",
        measured=float(np.max(np.abs(details["lyapunov"] - details["closed_form"]))), expected=0.0, tolerance=1e-12,
        against="closed form vs solver", details=details,
    )


@register(CHAPTER)
def round_derivatives_match_finite_differences(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The second and third derivative forms of the round (used by the normal form) against mixed central
    differences of the round, on random problems and directions in ``1^⊥``."""
    rng = np.random.default_rng([seed, 21])
    per_K = 5 if fast else 40
    worst = 0.0
    for K in range(3, 7):
        d = random_batch(K, per_K, rng)
        for n in range(per_K):
            lp = np.log(d["pi"][n])
            P, beta, lam = d["P"][n], float(d["beta"][n]), float(d["lam"][n])
            args = {"alpha": float(d["alpha"][n]), "beta": beta, "lam": lam, "ref": d["ref"][n], "pi0": d["pi0"][n]}
            h, k, l = (v - v.mean() for v in rng.normal(size=(3, K)))

            def F(x: np.ndarray) -> np.ndarray:
                out = dynamics.mrs_ipo_step(lp + x - logsumexp(lp + x), P, **args)
                return out - out.mean()

            e2, e3 = 1e-3, 2e-3
            second = sum(s * t * F(e2 * (s * h + t * k)) for s in (1, -1) for t in (1, -1)) / (4 * e2**2)
            third = sum(s * t * u * F(e3 * (s * h + t * k + u * l))
                        for s in (1, -1) for t in (1, -1) for u in (1, -1)) / (8 * e3**3)
            B = bifurcation.round_second(lp, P, h, k, beta=beta, lam=lam)
            C = bifurcation.round_third(lp, P, h, k, l, beta=beta, lam=lam)
            worst = max(worst, float(np.max(np.abs(second - B)) / (1 + np.max(np.abs(B)))),
                        float(np.max(np.abs(third - C)) / (1 + np.max(np.abs(C)))))
    return CheckResult(
        CHAPTER, "thm-osc-neimark-sacker",
        f"max relative |D²G[h,k] − βλΠA D²σ[h,k]| and |D³G[h,k,l] − βλΠA D³σ[h,k,l]| (4- and 8-point central "
        f"differences of the round), {4 * per_K} random problems, K = 3..6",
        measured=worst, expected=0.0, tolerance=1e-4, against="finite differences",
    )


@functools.lru_cache(maxsize=4)
def circle_runs(a: float = CYCLE_A) -> pd.DataFrame:
    """Runs on ``P_a`` just beyond the threshold (α in NS_ALPHAS, ρ − 1 in NS_EXCESS, λ = 1): the RMS
    radius of the second half of each run in centred logits, and the normal form's prediction."""
    P = preferences.cyclic(a)
    alphas = np.array(NS_ALPHAS)
    rows = []
    for excess in NS_EXCESS:
        rho = 1.0 + excess
        signal = np.sqrt(3.0 * (rho**2 - alphas**2)) / a
        predicted = bifurcation.circle_rms_radius(rho, bifurcation.cycle_lyapunov_coefficient(alphas))
        y0 = predicted[:, None] * np.array([1.0, -1.0, 0.0]) / np.sqrt(2.0)  # start on the predicted circle
        init = np.exp(y0 - logsumexp(y0, axis=-1, keepdims=True))
        steps = int(np.ceil(NS_ROUNDS / excess))
        run = dynamics.simulate(P, alpha=alphas, beta=signal, lam=1.0, init=init, steps=steps)
        y = run.log_pi[:, steps // 2:, :]
        y = y - y.mean(axis=-1, keepdims=True)
        rms = np.sqrt(np.mean(np.sum(y**2, axis=-1), axis=-1))
        rows.append(pd.DataFrame({"alpha": alphas, "excess": excess, "signal": signal, "rounds": steps,
                                  "rms_radius": rms, "predicted": predicted}))
    return pd.concat(rows, ignore_index=True)


@register(CHAPTER)
def circle_amplitude_matches_normal_form(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """``thm-osc-neimark-sacker``: the simulated RMS radius just beyond the threshold against
    ``√(8(ρ − 1)/(1 − α²))``, at the smallest ρ − 1. ``seed`` and ``fast`` are unused (the runs are short)."""
    runs = circle_runs(a)
    near = runs[runs["excess"] == min(NS_EXCESS)]
    return CheckResult(
        CHAPTER, "thm-osc-neimark-sacker",
        f"max over α ∈ {{{', '.join(f'{x:g}' for x in NS_ALPHAS)}}} of |simulated RMS radius / √(8(ρ−1)/(1−α²)) − 1| "
        f"on P_a (a = {a:g}) at ρ − 1 = {min(NS_EXCESS):g}",
        measured=float(np.max(np.abs(near["rms_radius"] / near["predicted"] - 1.0))), expected=0.0,
        tolerance=NS_AMPLITUDE_TOL, against="simulation vs theorem", details=runs,
    )


@register(CHAPTER)
def circle_amplitude_slope(seed: int = DEFAULT_SEED, fast: bool = False, a: float = CYCLE_A) -> CheckResult:
    """``thm-osc-neimark-sacker``: the simulated RMS radius grows like (ρ − 1)^½ (log–log slope, worst α)."""
    runs = circle_runs(a)
    slopes = [statistics.loglog_slope(g["excess"].to_numpy(), g["rms_radius"].to_numpy())[0]
              for _, g in runs.groupby("alpha")]
    worst = float(slopes[int(np.argmax(np.abs(np.array(slopes) - 0.5)))])
    return CheckResult(
        CHAPTER, "thm-osc-neimark-sacker",
        f"log–log slope of the simulated RMS radius against ρ − 1 ∈ [{min(NS_EXCESS):g}, {max(NS_EXCESS):g}] on P_a "
        f"(a = {a:g}), the α in {{{', '.join(f'{x:g}' for x in NS_ALPHAS)}}} farthest from ½",
        measured=worst, expected=0.5, tolerance=NS_SLOPE_TOL, against="simulation vs theorem", details=runs,
    )


ASYMMETRIC_CYCLE = ((0.5, 0.8, 0.35), (0.2, 0.5, 0.7), (0.65, 0.3, 0.5))
"""A 3-cycle with three different margins (0 beats 1 by .3, 1 beats 2 by .2, 2 beats 0 by .15): no symmetry
makes terms of the normal form vanish, as they can on ``P_a``."""
ASYMMETRIC_EXCESS = 2e-3
"""The signal is set this far (relatively) beyond the instability onset."""
ASYMMETRIC_TOL = 0.01
"""Relative tolerance on the RMS radius (the normal form's error is of order ρ − 1 ≈ 2e-3 here)."""


@register(CHAPTER)
def asymmetric_circle_matches_normal_form(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``thm-osc-neimark-sacker`` beyond ``P_a``: on :data:`ASYMMETRIC_CYCLE` (uniform π_ref and π_0, λ = 1), just past
    the onset found by :func:`prefalign.protocol.instability_onset`, the first Lyapunov coefficient of the general
    formula (:func:`prefalign.dynamics.bifurcation.neimark_sacker`) predicts the RMS radius of the simulated
    invariant curve, ``√(2(ρ − 1)/(−ℓ₁))``. ``seed`` and ``fast`` are unused."""
    P = np.array(ASYMMETRIC_CYCLE)
    rows = []
    for alpha in NS_ALPHAS[:3]:
        signal = protocol.instability_onset(P, alpha, 0.1, 200.0) * (1 + ASYMMETRIC_EXCESS)
        ns = bifurcation.neimark_sacker(P, alpha=alpha, beta=signal, lam=1.0)
        predicted = float(bifurcation.circle_rms_radius(ns.modulus, ns.lyapunov))
        direction = np.real(ns.eigenvector) / np.linalg.norm(np.real(ns.eigenvector))
        start = ns.log_pi + predicted * direction
        steps = int(np.ceil(NS_ROUNDS / (ns.modulus - 1)))
        run = dynamics.simulate(P, alpha=alpha, beta=signal, lam=1.0, init=np.exp(start - logsumexp(start)), steps=steps)
        rms = float(np.sqrt(np.mean(dynamics.logit_distance(run.log_pi[steps // 2:], ns.log_pi) ** 2)))
        rows.append({"alpha": alpha, "signal": signal, "rho": ns.modulus, "lyapunov": ns.lyapunov, "rms_radius": rms,
                     "predicted": predicted})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-osc-neimark-sacker",
        f"max over α ∈ {{{', '.join(f'{x:g}' for x in NS_ALPHAS[:3])}}} of |simulated RMS radius / √(2(ρ−1)/(−ℓ₁)) − 1| "
        f"on an asymmetric 3-cycle, βλ {ASYMMETRIC_EXCESS:g} (relative) past the onset",
        measured=float(np.max(np.abs(details["rms_radius"] / details["predicted"] - 1.0))), expected=0.0,
        tolerance=ASYMMETRIC_TOL, against="simulation vs theorem", details=details,
    )
