"""Checks of the chapter "Stability and entropy collapse" (label prefix ``thm-stab-``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from prefalign import dynamics, preferences, simplex
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "stability"
DEFAULT_SEED = 20260214
SST_SCORES = (2.0, 1.0, 0.5, 0.0)
"""Bradley–Terry scores of the chapter's strictly strongly transitive example (response 1 on top)."""


def chapter_matrix() -> np.ndarray:
    """The chapter's strictly SST example: Bradley–Terry with scores :data:`SST_SCORES`."""
    return preferences.bradley_terry(SST_SCORES)


def contraction_batch(K: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random problems inside the contraction region: general P, α ~ U[0, 0.95),
    q ~ U(α, 0.95], λ ~ U(0.05, 1], β chosen so that ``α + (βλ/2)‖A‖₂ = q``; Dirichlet(1)
    reference and offline sampler, Dirichlet(0.2) start (often near the boundary)."""
    P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(n)])
    alpha = rng.uniform(0.0, 0.95, n)
    q = rng.uniform(alpha, 0.95)
    lam = rng.uniform(0.05, 1.0, n)
    norm = np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1))
    beta = 2.0 * (q - alpha) / (lam * norm)
    init = rng.dirichlet(np.full(K, 0.2), size=n) + 1e-12  # Dirichlet(0.2) draws can underflow to 0
    return {"P": P, "alpha": alpha, "beta": beta, "lam": lam, "q": q, "ref": rng.dirichlet(np.ones(K), size=n),
            "pi0": rng.dirichlet(np.ones(K), size=n), "init": init / init.sum(axis=-1, keepdims=True)}


def _args(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: d[k] for k in ("alpha", "beta", "lam", "ref", "pi0")}


@register(CHAPTER)
def covariance_norm(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``‖diag(π) − ππᵀ‖₂ <= ½`` on random policies (many near the boundary), K = 2..10."""
    rng = np.random.default_rng([seed, 1])
    per_K = 500 if fast else 5000
    worst = 0.0
    for K in range(2, 11):
        pi = rng.dirichlet(np.full(K, 0.3), size=per_K)
        C = pi[:, :, None] * np.eye(K) - pi[:, :, None] * pi[:, None, :]
        worst = max(worst, float(np.linalg.eigvalsh(C).max()))
    return CheckResult(
        CHAPTER, "lem-stab-covariance", f"max ‖C(π)‖₂ over {9 * per_K} random π (Dirichlet(0.3)), K = 2..10",
        measured=worst, expected=0.5, tolerance=1e-15, relation="at_most",
    )


@register(CHAPTER)
def contraction_lipschitz(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """‖F(y) − F(y')‖ / ‖y − y'‖ on logits modulo constants never exceeds the contraction bound q."""
    rng = np.random.default_rng([seed, 2])
    per_K = 100 if fast else 1000
    worst = 0.0
    for K in range(2, 9):
        d = contraction_batch(K, per_K, rng)
        y1, y2 = rng.normal(0.0, 5.0, (2, per_K, K))
        y1 -= np.log(np.exp(y1).sum(axis=-1, keepdims=True))
        y2 -= np.log(np.exp(y2).sum(axis=-1, keepdims=True))
        before = dynamics.logit_distance(y1, y2)
        after = dynamics.logit_distance(dynamics.mrs_ipo_step(y1, d["P"], **_args(d)), dynamics.mrs_ipo_step(y2, d["P"], **_args(d)))
        bound = dynamics.contraction_bound(d["P"], d["alpha"], d["beta"], d["lam"])
        worst = max(worst, float(np.max(after / (bound * before))))
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max ‖F(y) − F(y')‖ / (q‖y − y'‖) over {7 * per_K} random problems and pairs, K = 2..8",
        measured=worst, expected=1.0, tolerance=1e-12, relation="at_most",
    )


@register(CHAPTER)
def contraction_convergence(seed: int = DEFAULT_SEED, fast: bool = False, rounds: int = 150) -> CheckResult:
    """Inside the contraction region every start converges to the solved fixed point at rate q^t."""
    rng = np.random.default_rng([seed, 3])
    per_K = 50 if fast else 500
    worst, final = 0.0, 0.0
    for K in range(2, 9):
        d = contraction_batch(K, per_K, rng)
        run = dynamics.simulate(d["P"], init=d["init"], steps=rounds, **_args(d))
        star = dynamics.fixed_point(d["P"], **_args(d))
        dist = dynamics.logit_distance(run.log_pi, star[:, None, :])
        envelope = d["q"][:, None] ** run.t[1:] * dist[:, :1]
        worst = max(worst, float(np.max(dist[:, 1:] / (envelope + 1e-12))))
        final = max(final, float(dist[:, -1].max()))
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max d_t / (q^t d_0), t = 1..{rounds}, over {7 * per_K} random problems (d: distance to the Newton fixed point)",
        measured=worst, expected=1.0, tolerance=1e-9, relation="at_most", details={"final_distance": final},
    )


@register(CHAPTER)
def contraction_region_on_cycle(seed: int = DEFAULT_SEED, fast: bool = False, a: float = 0.4) -> CheckResult:
    """On ``P_a``, the contraction region covers ``4/(3π)`` of the local-stability region in the (α, βλ) plane.

    Areas on a fine grid (midpoint rule), using the package's ``contraction_bound`` (a numerical
    spectral norm) and ``oscillation_threshold``; the exact ratio uses ``‖A‖₂ = √3 a``. ``seed`` is unused.
    """
    n = 400 if fast else 2000
    bl_max = np.sqrt(3.0) / a
    alpha = (np.arange(n) + 0.5) / n
    bl = (np.arange(n) + 0.5) / n * bl_max
    contract = dynamics.contraction_bound(preferences.cyclic(a), alpha[:, None], bl[None, :], 1.0) < 1.0
    stable = dynamics.oscillation_threshold(a, alpha[:, None], bl[None, :], 1.0) < 1.0
    ratio = float(contract.sum() / stable.sum())
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"area(contraction region) / area(local stability region) on P_a, a = {a:g}, {n}×{n} grid",
        measured=ratio, expected=4.0 / (3.0 * np.pi), tolerance=4.0 / n,
    )


@register(CHAPTER)
def kappa_invariance(seed: int = DEFAULT_SEED, fast: bool = False, steps: int = 3000) -> CheckResult:
    """At λ = 1, simulated limits for (α, β = κ(1−α)) depend only on κ and equal the solved fixed point."""
    rng = np.random.default_rng([seed, 5])
    count = 2 if fast else 8
    P = np.stack([chapter_matrix()] + [preferences.random_strongly_transitive(4, rng) for _ in range(count)])
    ref = np.concatenate([simplex.uniform(4)[None], rng.dirichlet(np.ones(4), size=count)])
    kappas = np.array([0.5, 2.0, 8.0, 32.0])
    alphas = np.array([0.0, 0.5, 0.9, 0.99])
    kap, alpha = kappas[None, :, None], alphas[None, None, :]
    run = dynamics.simulate(P[:, None, None], alpha=alpha, beta=kap * (1 - alpha), lam=1.0, ref=ref[:, None, None],
                            init=simplex.uniform(4), steps=steps, record="last")
    star = dynamics.fixed_point(P[:, None], alpha=0.0, beta=kappas[None, :], lam=1.0, ref=ref[:, None])
    spread = dynamics.logit_distance(run.final_log_pi, star[:, :, None, :])
    return CheckResult(
        CHAPTER, "cor-stab-kappa",
        f"max distance between {steps}-round limits and the fixed point at κ, over {P.shape[0]} SST matrices, "
        f"κ ∈ {{0.5, 2, 8, 32}}, α ∈ {{0, 0.5, 0.9, 0.99}}",
        measured=float(spread.max()), expected=0.0, tolerance=1e-9,
        details={"last_move": float(run.last_move.max())},
    )


@register(CHAPTER)
def fixed_point_collapse(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``1 − π*_top <= ε(γ) = Σ_j (π_ref,j/π_ref,top) e^{−γδ_j}`` and ``H(π*) <= h(ε) + ε log(K−1)``
    for the solved fixed point, γ = β/(1−α), any λ. Measured: the larger of the two ratios."""
    rng = np.random.default_rng([seed, 6])
    count = 5 if fast else 40
    gammas = np.geomspace(0.1, 1000.0, 41)
    rows = []
    for i in range(count + 1):
        P = chapter_matrix() if i == 0 else preferences.random_strongly_transitive(int(rng.integers(3, 7)), rng)
        K = P.shape[0]
        ref = simplex.uniform(K) if i == 0 else rng.dirichlet(np.ones(K))
        lam = 1.0 if i == 0 else float(rng.uniform(0.05, 1.0))
        pi0 = rng.dirichlet(np.ones(K))
        star = dynamics.fixed_point(P, alpha=0.0, beta=gammas, lam=lam, ref=ref, pi0=pi0)
        bound = dynamics.collapse_bound(P, 0, gammas, ref)
        rows.append(pd.DataFrame({"matrix": i, "K": K, "gamma": gammas, "lam": lam, "off_top": np.exp(star[:, 1:]).sum(axis=-1),
                                  "bound": bound, "entropy": simplex.entropy_from_log(star),
                                  "entropy_bound": simplex.entropy_bound(bound, K)}))
    details = pd.concat(rows, ignore_index=True)
    ratio = np.maximum(details["off_top"] / details["bound"], details["entropy"] / details["entropy_bound"])
    return CheckResult(
        CHAPTER, "thm-stab-collapse",
        f"max of (1 − π*_top)/ε(γ) and H(π*)/(h(ε) + ε log(K−1)) over {count + 1} SST matrices × {len(gammas)} values of γ in [0.1, 1000]",
        measured=float(ratio.max()), expected=1.0, tolerance=1e-9, relation="at_most", details=details,
    )


def hedge_runs(seed: int, fast: bool, steps: int) -> list[dict]:
    """α = 1 runs on random strictly SST matrices (K = 3..6, best response 0), with random β, λ,
    offline samplers and starts; every second start puts 98% of its mass on the worst response.
    One batched simulation per K; returns one record per run."""
    rng = np.random.default_rng([seed, 7])
    per_K = 2 if fast else 10
    runs = []
    for K in range(3, 7):
        P = np.stack([preferences.random_strongly_transitive(K, rng) for _ in range(per_K)])
        init = rng.dirichlet(np.ones(K), size=per_K)
        init[1::2] = 0.02 * init[1::2] + 0.98 * np.eye(K)[-1]
        beta = log_uniform(rng, 0.2, 3.0, per_K)
        lam = rng.uniform(0.0, 1.0, per_K)
        pi0 = rng.dirichlet(np.ones(K), size=per_K)
        run = dynamics.simulate(P, alpha=1.0, beta=beta, lam=lam, pi0=pi0, init=init, steps=steps)
        entropy = simplex.entropy_from_log(run.log_pi)
        runs += [{"P": P[i], "init": init[i], "beta": float(beta[i]), "lam": float(lam[i]), "t": run.t,
                  "log_pi": run.log_pi[i], "entropy": entropy[i]} for i in range(per_K)]
    return runs


@register(CHAPTER)
def hedge_entropy_monotone(seed: int = DEFAULT_SEED, fast: bool = False, hedge_steps: int = 400) -> CheckResult:
    """At α = 1 the entropy strictly decreases from the first round where every ``π_j/π_top <= ε_K``."""
    steps = hedge_steps
    violations, rows = 0, []
    for i, r in enumerate(hedge_runs(seed, fast, steps)):
        lp, H = r["log_pi"], r["entropy"]
        K = lp.shape[-1]
        ratios = lp[:, 1:] - lp[:, :1]
        inside = np.flatnonzero((ratios <= np.log(dynamics.entropy_monotone_ratio(K))).all(axis=-1))
        t0 = int(inside[0]) if inside.size else steps
        delta = preferences.dominance_margins(r["P"], 0)[1:]
        bound_t0 = int(np.max(np.ceil(np.maximum(0.0, ratios[0] - np.log(dynamics.entropy_monotone_ratio(K))) / (r["beta"] * delta))))
        up = np.diff(H) >= 0
        violations += int(np.sum(up[t0:] & (H[t0:-1] > 0)))
        rows.append({"run": i, "K": K, "t0": t0, "t0_bound": bound_t0, "rises_before_t0": bool(up[:t0].any())})
    details = pd.DataFrame(rows)
    late = int((details["t0"] > details["t0_bound"]).sum())
    return CheckResult(
        CHAPTER, "thm-stab-hedge",
        f"rounds after t₀ where H does not strictly decrease, plus runs with t₀ above its bound, {len(details)} runs × {steps} rounds",
        measured=violations + late, expected=0.0, tolerance=0.0, details=details,
    )


@register(CHAPTER)
def hedge_top_convergence(seed: int = DEFAULT_SEED, fast: bool = False, hedge_steps: int = 400) -> CheckResult:
    """At α = 1, ``1 − π_t,top <= Σ_j (π_start,j/π_start,top) e^{−βtδ_j}`` for every round t."""
    worst = -np.inf
    for r in hedge_runs(seed, fast, hedge_steps):
        off_top = np.exp(r["log_pi"][:, 1:]).sum(axis=-1)
        bound = dynamics.collapse_bound(r["P"], 0, r["beta"] * r["t"], r["init"])
        worst = max(worst, float(np.max(off_top / bound)))
    return CheckResult(
        CHAPTER, "thm-stab-hedge",
        "max over runs and rounds of (1 − π_t,top) / bound at α = 1",
        measured=worst, expected=1.0, tolerance=1e-9, relation="at_most",
    )


@register(CHAPTER)
def entropy_phase_diagram(seed: int = DEFAULT_SEED, fast: bool = False, grid_n: int = 120, steps: int = 3000,
                          bl_max: float = 12.0) -> CheckResult:
    """Final entropy of simulated runs on an (α, βλ) grid (λ = 1) against the entropy of the solved
    fixed point at κ = βλ/(1−α), wherever the run has converged. ``seed`` is unused."""
    n, T = (30, 600) if fast else (grid_n, steps)
    P = chapter_matrix()
    alpha = np.linspace(0.0, 0.99, n)
    bl = np.linspace(bl_max / n, bl_max, n)
    run = dynamics.simulate(P, alpha=alpha[:, None], beta=bl[None, :], lam=1.0, steps=T, record="last")
    star = dynamics.fixed_point(P, alpha=alpha[:, None], beta=bl[None, :], lam=1.0)
    tolerance = 1e-12
    converged = run.last_move <= tolerance
    gap = np.abs(run.entropy - simplex.entropy_from_log(star))
    details = {"alpha": alpha, "bl": bl, "entropy": run.entropy, "converged": converged, "tolerance": tolerance,
               "steps": T, "fixed_point_entropy": simplex.entropy_from_log(star)}
    return CheckResult(
        CHAPTER, "cor-stab-kappa",
        f"max |H(π_T) − H(π*(κ))| over the {int(converged.sum())} of {n * n} grid runs that converged ({T} rounds)",
        measured=float(gap[converged].max()), expected=0.0, tolerance=1e-9, details=details,
    )
