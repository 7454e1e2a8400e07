"""Checks of the chapter "Stability and entropy collapse" (label prefix ``thm-stab-``)."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy.special import expit, logsumexp

from prefalign import dynamics, preferences, simplex, validation
from prefalign.dynamics.linearisation import covariance
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "stability"
DEFAULT_SEED = 20260214
SST_SCORES = (2.0, 1.0, 0.5, 0.0)
"""Bradley–Terry scores of the chapter's strictly strongly transitive example (response 1 on top)."""


CONTRACTION_Q_MAX = 0.95
"""Random contraction problems draw α below it and the contraction constant q between α and it."""
KAPPAS = (0.5, 2.0, 8.0, 32.0)
"""Values of κ in the κ-invariance check."""
KAPPA_ALPHAS = (0.0, 0.5, 0.9, 0.99)
"""Values of α (with β = κ(1 − α)) in the κ-invariance check."""
COLLAPSE_GAMMA = (0.1, 1000.0)
"""Range of γ = β/(1 − α) (41 log-spaced values) in the collapse check."""


def chapter_matrix() -> np.ndarray:
    """The chapter's strictly SST example: Bradley–Terry with scores :data:`SST_SCORES`."""
    return preferences.bradley_terry(SST_SCORES)


def contraction_batch(K: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``n`` random problems inside the contraction region: general P, α ~ U[0, CONTRACTION_Q_MAX),
    q ~ U(α, CONTRACTION_Q_MAX], λ ~ U(0.05, 1], β chosen so that ``α + (βλ/2)‖A‖₂ = q``; Dirichlet(1)
    reference and offline sampler, Dirichlet(0.2) start (often near the boundary)."""
    rng = validation.generator(rng)
    P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(n)])
    alpha = rng.uniform(0.0, CONTRACTION_Q_MAX, n)
    q = rng.uniform(alpha, CONTRACTION_Q_MAX)
    lam = rng.uniform(0.05, 1.0, n)
    norm = np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1))
    beta = 2.0 * (q - alpha) / (lam * norm)
    init = rng.dirichlet(np.full(K, 0.2), size=n) + 1e-12  # Dirichlet(0.2) draws can underflow to 0
    return {"P": P, "alpha": alpha, "beta": beta, "lam": lam, "q": q, "ref": rng.dirichlet(np.ones(K), size=n),
            "pi0": rng.dirichlet(np.ones(K), size=n), "init": init / init.sum(axis=-1, keepdims=True)}


def _args(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: d[k] for k in ("alpha", "beta", "lam", "ref", "pi0")}


def edge_policies(K: int, n: int, rng: np.random.Generator, eps: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """``n`` log-policies at ``½(e_i + e_j)`` (mass ``eps`` spread over the others), where ``‖C(π)‖₂ = ½`` is
    attained, and the unit directions ``e_i − e_j`` (normalised, centred) along which it is attained."""
    i = rng.integers(0, K, n)
    j = (i + rng.integers(1, K, n)) % K
    pi = np.full((n, K), eps / max(K - 2, 1))
    pi[np.arange(n), i] = pi[np.arange(n), j] = 0.5 * (1.0 - eps) if K > 2 else 0.5
    v = np.zeros((n, K))
    v[np.arange(n), i], v[np.arange(n), j] = 1.0, -1.0
    return np.log(pi / pi.sum(axis=-1, keepdims=True)), v / np.sqrt(2.0)


@register(CHAPTER)
def covariance_norm(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``max ‖diag(π) − ππᵀ‖₂ = ½`` (the package's ``C(π)``): never above ½ on random policies (many near the
    boundary), and attained at the points ``½(e_i + e_j)``, K = 2..10 (two-sided: a wrong constant fails)."""
    rng = np.random.default_rng([seed, 1])
    per_K = 500 if fast else 5000
    worst = 0.0
    for K in range(2, 11):
        pi = np.concatenate([rng.dirichlet(np.full(K, 0.3), size=per_K), np.exp(edge_policies(K, 10, rng, eps=0.0 if K == 2 else 1e-300)[0])])
        worst = max(worst, float(np.linalg.eigvalsh(covariance(pi)).max()))
    return CheckResult(
        CHAPTER, "lem-stab-covariance",
        f"max ‖C(π)‖₂ over {9 * per_K} random π (Dirichlet(0.3)) and the points ½(e_i + e_j), K = 2..10",
        measured=worst, expected=0.5, tolerance=1e-15, against="hand value",
    )


def _lipschitz_ratios(d: dict[str, np.ndarray], y1: np.ndarray, y2: np.ndarray) -> np.ndarray:
    """``‖F(y1) − F(y2)‖ / (q‖y1 − y2‖)`` for the problems ``d`` (logits modulo constants)."""
    before = dynamics.logit_distance(y1, y2)
    after = dynamics.logit_distance(dynamics.mrs_ipo_step(y1, d["P"], **_args(d)), dynamics.mrs_ipo_step(y2, d["P"], **_args(d)))
    return after / (dynamics.contraction_bound(d["P"], d["alpha"], d["beta"], d["lam"]) * before)


def worst_case_batch(n: int, rng: np.random.Generator, h: float = 1e-4) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Where the contraction bound is attained: ``P_a`` (a ~ U[0.05, 0.5]), α = 0, λ = 1, βλ‖A‖₂/2 = q ~ U(0.05, 1),
    uniform π_ref and π_0, the pair ``y``, ``y + h(e_i − e_j)/√2`` with ``π(y) = ½(e_i + e_j)`` (up to 1e-9).
    There ``‖C(π)(e_i − e_j)‖ = ½‖e_i − e_j‖`` and ``A(e_i − e_j)`` attains ``‖A‖₂``, so the ratio tends to 1."""
    a = rng.uniform(0.05, 0.5, n)
    q = rng.uniform(0.05, 1.0, n)
    P = np.stack([preferences.cyclic(x) for x in a])
    d = {"P": P, "alpha": np.zeros(n), "beta": 2.0 * q / (np.sqrt(3.0) * a), "lam": np.ones(n), "q": q,
         "ref": np.full((n, 3), 1 / 3), "pi0": np.full((n, 3), 1 / 3)}
    y, v = edge_policies(3, n, rng)
    return d, y, simplex.log_normalize(y + h * v)


@register(CHAPTER)
def contraction_lipschitz(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """‖F(y) − F(y')‖ / ‖y − y'‖ on logits modulo constants never exceeds the contraction bound q: random
    problems and pairs, K = 2..8, plus the worst case (:func:`worst_case_batch`), where the ratio is ≈ 1."""
    rng = np.random.default_rng([seed, 2])
    per_K = 100 if fast else 1000
    worst = 0.0
    for K in range(2, 9):
        d = contraction_batch(K, per_K, rng)
        y1, y2 = rng.normal(0.0, 5.0, (2, per_K, K))
        y1 -= np.log(np.exp(y1).sum(axis=-1, keepdims=True))
        y2 -= np.log(np.exp(y2).sum(axis=-1, keepdims=True))
        worst = max(worst, float(np.max(_lipschitz_ratios(d, y1, y2))))
    worst = max(worst, float(np.max(_lipschitz_ratios(*worst_case_batch(per_K, rng)))))
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max ‖F(y) − F(y')‖ / (q‖y − y'‖) over {7 * per_K} random problems and pairs, K = 2..8, and {per_K} "
        "worst-case pairs on P_a near ½(e_i + e_j) (tolerance: rounding of distances between logits 1e-4 apart)",
        measured=worst, expected=1.0, tolerance=1e-9, relation="at_most", against="theorem's bound",
    )


CONTRACTION_TIGHTNESS = 1e-3
"""The worst-case pairs must reach a ratio of at least 1 − this (the bound is attained in the limit)."""


@register(CHAPTER)
def contraction_bound_attained(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The contraction constant ``q = α + βλ‖A‖₂/2`` cannot be lowered: on the worst-case pairs of
    :func:`worst_case_batch` the ratio ``‖F(y) − F(y')‖ / (q‖y − y'‖)`` reaches 1 (a constant such as
    ``‖C‖₂ ≤ ¼`` would give 2 here, and fail :func:`contraction_lipschitz`)."""
    rng = np.random.default_rng([seed, 21])
    n = 100 if fast else 1000
    ratios = _lipschitz_ratios(*worst_case_batch(n, rng))
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"min over {n} worst-case pairs on P_a (α = 0, π = ½(e_i + e_j), y − y' ∥ e_i − e_j) of ‖F(y) − F(y')‖ / (q‖y − y'‖)",
        measured=float(ratios.min()), expected=1.0, tolerance=CONTRACTION_TIGHTNESS, relation="at_least",
        against="hand value", details={"max": float(ratios.max())},
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
        measured=worst, expected=1.0, tolerance=1e-9, relation="at_most", details={"final_distance": final}, against="theorem's bound",
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
        measured=ratio, expected=4.0 / (3.0 * np.pi), tolerance=4.0 / n, against="hand value",
    )


@register(CHAPTER)
def kappa_invariance(seed: int = DEFAULT_SEED, fast: bool = False, steps: int = 3000) -> CheckResult:
    """At λ = 1, simulated limits for (α, β = κ(1−α)) depend only on κ and equal the solved fixed point."""
    rng = np.random.default_rng([seed, 5])
    count = 2 if fast else 8
    P = np.stack([chapter_matrix()] + [preferences.random_strongly_transitive(4, rng) for _ in range(count)])
    ref = np.concatenate([simplex.uniform(4)[None], rng.dirichlet(np.ones(4), size=count)])
    kappas = np.array(KAPPAS)
    alphas = np.array(KAPPA_ALPHAS)
    kap, alpha = kappas[None, :, None], alphas[None, None, :]
    run = dynamics.simulate(P[:, None, None], alpha=alpha, beta=kap * (1 - alpha), lam=1.0, ref=ref[:, None, None],
                            init=simplex.uniform(4), steps=steps, record="last")
    star = dynamics.fixed_point(P[:, None], alpha=0.0, beta=kappas[None, :], lam=1.0, ref=ref[:, None])
    spread = dynamics.logit_distance(run.final_log_pi, star[:, :, None, :])
    return CheckResult(
        CHAPTER, "cor-stab-kappa",
        f"max distance between {steps}-round limits and the fixed point at κ, over {P.shape[0]} SST matrices, "
        f"κ ∈ {{{', '.join(f'{k:g}' for k in KAPPAS)}}}, α ∈ {{{', '.join(f'{x:g}' for x in KAPPA_ALPHAS)}}}",
        measured=float(spread.max()), expected=0.0, tolerance=1e-9,
        details={"last_move": float(run.last_move.max())}, against="simulation vs theorem",
    )


@register(CHAPTER)
def fixed_point_collapse(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``1 − π*_top <= ε(γ) = Σ_j (π_ref,j/π_ref,top) e^{−γδ_j}`` and ``H(π*) <= h(ε) + ε log(K−1)``
    for the solved fixed point, γ = β/(1−α), any λ. Measured: the larger of the two ratios."""
    rng = np.random.default_rng([seed, 6])
    count = 5 if fast else 40
    gammas = np.geomspace(*COLLAPSE_GAMMA, 41)
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
        f"max of (1 − π*_top)/ε(γ) and H(π*)/(h(ε) + ε log(K−1)) over {count + 1} SST matrices × {len(gammas)} values of γ in [{COLLAPSE_GAMMA[0]:g}, {COLLAPSE_GAMMA[1]:g}]",
        measured=float(ratio.max()), expected=1.0, tolerance=1e-9, relation="at_most", details=details, against="theorem's bound",
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
        measured=violations + late, expected=0.0, tolerance=0.0, details=details, against="simulation vs theorem",
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
        measured=worst, expected=1.0, tolerance=1e-9, relation="at_most", against="theorem's bound",
    )


@register(CHAPTER)
def entropy_phase_diagram(seed: int = DEFAULT_SEED, fast: bool = False, grid_n: int = 120, steps: int = 3000,
                          bl_max: float = 12.0) -> CheckResult:
    """Final entropy of simulated runs on an (α, βλ) grid (λ = 1) against the entropy of the solved
    fixed point at α = 0 and β = κ = βλ/(1−α) (the corollary's claim), wherever the run has converged. ``seed`` is unused."""
    n, T = (30, 600) if fast else (grid_n, steps)
    P = chapter_matrix()
    alpha = np.linspace(0.0, 0.99, n)
    bl = np.linspace(bl_max / n, bl_max, n)
    run = dynamics.simulate(P, alpha=alpha[:, None], beta=bl[None, :], lam=1.0, steps=T, record="last")
    kappa = bl[None, :] / (1.0 - alpha[:, None])
    star = dynamics.fixed_point(P, alpha=0.0, beta=kappa, lam=1.0)  # the corollary: the α = 0 fixed point at β = κ
    tolerance = 1e-12
    converged = run.last_move <= tolerance
    gap = np.abs(run.entropy - simplex.entropy_from_log(star))
    details = {"alpha": alpha, "bl": bl, "entropy": run.entropy, "converged": converged, "tolerance": tolerance,
               "steps": T, "fixed_point_entropy": simplex.entropy_from_log(star)}
    return CheckResult(
        CHAPTER, "cor-stab-kappa",
        f"max |H(π_T) − H(π*(α = 0, β = κ))| over the {int(converged.sum())} of {n * n} grid runs that converged ({T} rounds)",
        measured=float(gap[converged].max()), expected=0.0, tolerance=1e-9, details=details, against="simulation vs theorem",
    )


# --------------------------------------------------------------------------- local stability is not global stability

COEXISTENCE_LOGITS = ((0, -1, 1, 0), (1, 0, -1, 0), (-1, 1, 0, -3), (0, 0, 3, 0))
"""Score differences ``L`` of the coexistence example ``P = σ(L)``: each entry is a Bradley–Terry entry on an
integer score difference, as in the HelpSteer construction (it is one of the synthetic HelpSteer-like
matrices of the experiments chapter). Responses 1 ▷ 3 ▷ 2 ▷ 1 form a cycle; 4 ties with 1 and 2 and beats 3."""
COEXISTENCE_ALPHA = 0.2
"""Reference weight α of the coexistence example (α > 0: the round is a local diffeomorphism)."""
COEXISTENCE_SIGNAL = 50.0
"""Signal strength βλ (λ = 1) of the coexistence example."""
COEXISTENCE_PERIOD = 5
"""Period of the attracting orbit that coexists with the stable fixed point."""
COEXISTENCE_RHO_MAX = 0.9
"""The certificate requires both spectral radii (fixed point, orbit's monodromy) to be at most this."""
COEXISTENCE_STARTS = 2000
"""Random starting policies (Dirichlet(1)) whose fate is classified (a tenth when fast)."""
COEXISTENCE_ROUNDS = 2000
"""Rounds per run when classifying fates."""
ATTRACTED = 1e-8
"""A run has reached an attractor when its last policy is within this distance (centred logits) of it."""
BASIN_MIN_SHARE = 0.05
"""Each of the two attractors must attract at least this share of the random starts."""


def coexistence_matrix() -> np.ndarray:
    """The coexistence example ``P = σ(COEXISTENCE_LOGITS)``."""
    return expit(np.array(COEXISTENCE_LOGITS, dtype=float))


def _coexistence_args() -> dict[str, float]:
    return {"alpha": COEXISTENCE_ALPHA, "beta": COEXISTENCE_SIGNAL, "lam": 1.0}


@functools.lru_cache(maxsize=1)
def coexistence_attractors() -> dict:
    """The two attractors of the example: the Newton fixed point and the periodic orbit found by Newton on
    the COEXISTENCE_PERIOD-th iterate, started from the policy reached after 50 rounds from uniform (a rough
    guess; Newton never sees the long simulation the checks compare with)."""
    P, args = coexistence_matrix(), _coexistence_args()
    star = dynamics.fixed_point(P, **args)
    guess = dynamics.simulate(P, steps=50, record="last", **args).final_log_pi
    orbit = dynamics.periodic_orbit(P, guess, COEXISTENCE_PERIOD, **args)
    return {"P": P, "star": star, "orbit": orbit,
            "rho_star": float(dynamics.spectral_radius(star, P, **args))}


def _difference_jacobian(F, log_pi: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a map of log-policies, in the coordinates :func:`prefalign.dynamics.perp_basis`."""
    Q = dynamics.perp_basis(log_pi.shape[-1])

    def G(w: np.ndarray) -> np.ndarray:
        z = log_pi + Q @ w
        return Q.T @ F(z - logsumexp(z))

    return np.stack([(G(h * e) - G(-h * e)) / (2 * h) for e in np.eye(Q.shape[1])], axis=1)


@register(CHAPTER)
def coexistence_certificate(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``prop-stab-coexistence``: the spectral radii of the round at the fixed point and of the
    COEXISTENCE_PERIOD-fold round at a point of the orbit, both by central differences of the round (not by
    the Jacobian formula), are below 1. ``seed`` and ``fast`` are unused."""
    att = coexistence_attractors()
    P, args = att["P"], _coexistence_args()

    def step(lp: np.ndarray) -> np.ndarray:
        return dynamics.mrs_ipo_step(lp, P, **args)

    def iterate(lp: np.ndarray) -> np.ndarray:
        for _ in range(COEXISTENCE_PERIOD):
            lp = step(lp)
        return lp

    rho_star = float(np.abs(np.linalg.eigvals(_difference_jacobian(step, att["star"]))).max())
    rho_orbit = float(np.abs(np.linalg.eigvals(_difference_jacobian(iterate, att["orbit"].log_pi[0]))).max())
    return CheckResult(
        CHAPTER, "prop-stab-coexistence",
        f"max(ρ(DG) at the fixed point = {rho_star:.3g}, ρ(DG^{COEXISTENCE_PERIOD}) at the periodic orbit = "
        f"{rho_orbit:.3g}), both by central differences of the round (α = {COEXISTENCE_ALPHA:g}, βλ = {COEXISTENCE_SIGNAL:g})",
        measured=max(rho_star, rho_orbit), expected=COEXISTENCE_RHO_MAX, tolerance=0.0, relation="at_most",
        against="finite differences", details={"rho_star": rho_star, "rho_orbit": rho_orbit, **att},
    )


@register(CHAPTER)
def coexistence_multipliers_match_finite_differences(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``prop-stab-coexistence``: the orbit's multipliers returned by :func:`prefalign.dynamics.periodic_orbit` (the
    monodromy matrix, a product of Jacobians by formula) against the eigenvalues of the central-difference
    Jacobian of the COEXISTENCE_PERIOD-fold round at the same point. Measured: the largest |difference| of the
    sorted moduli. ``seed`` and ``fast`` are unused."""
    att = coexistence_attractors()
    P, args = att["P"], _coexistence_args()

    def iterate(lp: np.ndarray) -> np.ndarray:
        for _ in range(COEXISTENCE_PERIOD):
            lp = dynamics.mrs_ipo_step(lp, P, **args)
        return lp

    by_differences = np.sort(np.abs(np.linalg.eigvals(_difference_jacobian(iterate, att["orbit"].log_pi[0]))))
    by_formula = np.sort(np.abs(att["orbit"].multipliers))
    return CheckResult(
        CHAPTER, "prop-stab-coexistence",
        f"max |moduli of Newton's monodromy multipliers − those of the central-difference Jacobian of G^{COEXISTENCE_PERIOD}|",
        measured=float(np.max(np.abs(by_formula - by_differences))), expected=0.0, tolerance=1e-6,
        against="finite differences",
    )


@register(CHAPTER)
def coexistence_orbit_matches_simulation(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``prop-stab-coexistence``: Newton's periodic orbit against the last rounds of a long simulated run
    from another start (a different algorithm: plain iteration of the round)."""
    att = coexistence_attractors()
    run = dynamics.simulate(att["P"], init=[0.1, 0.2, 0.3, 0.4], steps=COEXISTENCE_ROUNDS, **_coexistence_args())
    late = run.log_pi[-2 * COEXISTENCE_PERIOD:]
    return CheckResult(
        CHAPTER, "prop-stab-coexistence",
        f"max distance (centred logits) from the last {2 * COEXISTENCE_PERIOD} of {COEXISTENCE_ROUNDS} simulated rounds "
        f"to Newton's period-{COEXISTENCE_PERIOD} orbit (Newton residual {att['orbit'].residual:.1e})",
        measured=float(att["orbit"].distance(late).max()), expected=0.0, tolerance=1e-9,
        against="independent algorithm", details={"orbit": att["orbit"], "run": run},
    )


@register(CHAPTER)
def coexistence_basins(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``prop-stab-coexistence``: shares of random starts that end at the fixed point and at the periodic
    orbit; the smaller share must be at least BASIN_MIN_SHARE (both basins are large)."""
    att = coexistence_attractors()
    rng = np.random.default_rng([seed, 30])
    n = COEXISTENCE_STARTS // 10 if fast else COEXISTENCE_STARTS
    starts = rng.dirichlet(np.ones(4), size=n)
    run = dynamics.simulate(att["P"], init=starts, steps=COEXISTENCE_ROUNDS, record="last", **_coexistence_args())
    to_star = dynamics.logit_distance(run.final_log_pi, att["star"]) <= ATTRACTED
    to_orbit = att["orbit"].distance(run.final_log_pi) <= ATTRACTED
    shares = {"fixed point": float(to_star.mean()), "orbit": float(to_orbit.mean()),
              "neither": float(np.mean(~to_star & ~to_orbit)), "starts": n}
    return CheckResult(
        CHAPTER, "prop-stab-coexistence",
        f"min(share of {n} random starts ending at the fixed point = {shares['fixed point']:.3f}, at the orbit = "
        f"{shares['orbit']:.3f}) after {COEXISTENCE_ROUNDS} rounds (neither: {shares['neither']:.3f})",
        measured=min(shares["fixed point"], shares["orbit"]), expected=BASIN_MIN_SHARE, tolerance=0.0,
        relation="at_least", against="simulation vs theorem", details=shares,
    )


CYCLE_MARGINS = (0.1, 0.3, 0.5)
"""Margins ``a`` of ``P_a`` on which the conjecture "convergence iff ρ(uniform) < 1" is tested."""
CYCLE_RHO = (0.3, 0.98)
"""Range of ρ(uniform) of the tested settings (all locally stable)."""
CYCLE_GRID = (25, 15)
"""Values of α (in [0, 0.99]) and of ρ per margin (a third of each when fast)."""
CONJECTURE_STARTS = 30
"""Random starts per setting in the conjecture tests (Dirichlet(0.3), many near the boundary; a fifth when fast)."""
CONJECTURE_ROUNDS = 3000
"""Rounds per run in the conjecture tests (with ρ ≤ 0.98 the local decay is below 1e-20)."""
CONVERGED = 1e-6
"""A run has converged when its last policy is within this distance (centred logits) of the fixed point."""


@register(CHAPTER)
def conjecture_cycle_global_convergence(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``conj-stab-cycle``: on ``P_a`` (uniform π_ref and π_0) every start converges when ρ(uniform) < 1.
    Measured: the number of runs that end farther than CONVERGED from uniform."""
    rng = np.random.default_rng([seed, 31])
    n_alpha, n_rho = (max(g // 3, 2) for g in CYCLE_GRID) if fast else CYCLE_GRID
    S = CONJECTURE_STARTS // 5 if fast else CONJECTURE_STARTS
    alpha, rho = np.meshgrid(np.linspace(0.0, 0.99, n_alpha), np.linspace(*CYCLE_RHO, n_rho), indexing="ij")
    keep = rho > alpha + 0.01
    alpha, rho = alpha[keep], rho[keep]
    failures, runs, worst = 0, 0, 0.0
    for a in CYCLE_MARGINS:
        signal = np.sqrt(3.0 * (rho**2 - alpha**2)) / a
        starts = rng.dirichlet(np.full(3, 0.3), size=(S, alpha.size)) + 1e-12
        run = dynamics.simulate(preferences.cyclic(a), alpha=alpha, beta=signal, lam=1.0, steps=CONJECTURE_ROUNDS,
                                init=starts / starts.sum(axis=-1, keepdims=True), record="last")
        distance = dynamics.logit_distance(run.final_log_pi, np.log(simplex.uniform(3)))
        failures += int(np.sum(distance > CONVERGED))
        runs += distance.size
        worst = max(worst, float(distance.max()))
    return CheckResult(
        CHAPTER, "conj-stab-cycle",
        f"runs that do not converge to uniform, of {runs} ({S} random starts × {alpha.size} settings with "
        f"ρ(uniform) ∈ [{CYCLE_RHO[0]:g}, {CYCLE_RHO[1]:g}] × a ∈ {{{', '.join(f'{m:g}' for m in CYCLE_MARGINS)}}}, "
        f"{CONJECTURE_ROUNDS} rounds); largest final distance {worst:.1e}",
        measured=failures, expected=0, tolerance=0, against="brute force",
        details={"runs": runs, "worst": worst, "settings": alpha.size * len(CYCLE_MARGINS), "starts": S},
    )


REGION_SIZES = tuple(range(3, 9))
"""Numbers of responses of the random problems testing the conjecture α² + (βλ‖A‖₂/2)² < 1 ⇒ convergence."""
REGION_PROBLEMS = 30
"""Random problems per K (half general, half cyclic; a fifth when fast)."""
REGION_S_MAX = 0.98
"""The problems have ``α² + (βλ‖A‖₂/2)²`` drawn up to this value, and ``α + βλ‖A‖₂/2 ≥ 1`` (outside the
contraction region, where the theorem already applies)."""


@register(CHAPTER)
def conjecture_quadratic_region(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """``conj-stab-region``: for every P, ``α² + (βλ‖A‖₂/2)² < 1`` implies convergence from every start.
    Measured: the number of runs that end farther than CONVERGED from the Newton fixed point."""
    rng = np.random.default_rng([seed, 32])
    n = max(REGION_PROBLEMS // 5, 2) if fast else REGION_PROBLEMS
    S = CONJECTURE_STARTS // 5 if fast else CONJECTURE_STARTS
    failures, runs, worst = 0, 0, 0.0
    for K in REGION_SIZES:
        P = np.stack([preferences.random_cyclic(K, rng) if i % 2 else preferences.random_preference_matrix(K, rng)
                      for i in range(n)])
        alpha = rng.uniform(0.05, 0.95, n)
        s = rng.uniform(alpha**2 + (1 - alpha) ** 2, REGION_S_MAX)
        lam = rng.uniform(0.3, 1.0, n)
        beta = 2.0 * np.sqrt(s - alpha**2) / (lam * np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1)))
        args = {"alpha": alpha, "beta": beta, "lam": lam, "ref": rng.dirichlet(np.ones(K), size=n),
                "pi0": rng.dirichlet(np.ones(K), size=n)}
        starts = rng.dirichlet(np.full(K, 0.3), size=(S, n))
        edge = np.zeros((S // 2, n, K))  # near the points ½(e_i + e_j), where ‖C(π)‖₂ = ½ is attained
        i, j = rng.integers(0, K, (2, S // 2, n))
        j = np.where(j == i, (i + 1) % K, j)
        np.put_along_axis(edge, i[..., None], 0.5, axis=-1)
        np.put_along_axis(edge, j[..., None], 0.5, axis=-1)
        starts[: S // 2] = 0.99 * edge + 0.01 * starts[: S // 2]
        starts = starts + 1e-12
        run = dynamics.simulate(P, init=starts / starts.sum(axis=-1, keepdims=True), steps=CONJECTURE_ROUNDS,
                                record="last", **args)
        distance = dynamics.logit_distance(run.final_log_pi, dynamics.fixed_point(P, **args))
        failures += int(np.sum(distance > CONVERGED))
        runs += distance.size
        worst = max(worst, float(distance.max()))
    return CheckResult(
        CHAPTER, "conj-stab-region",
        f"runs that do not converge to the Newton fixed point, of {runs} ({S} starts, half near ½(e_i + e_j), × "
        f"{n} random problems per K = {REGION_SIZES[0]}..{REGION_SIZES[-1]} with α + βλ‖A‖₂/2 ≥ 1 and "
        f"α² + (βλ‖A‖₂/2)² ≤ {REGION_S_MAX:g}, {CONJECTURE_ROUNDS} rounds); largest final distance {worst:.1e}",
        measured=failures, expected=0, tolerance=0, against="brute force",
        details={"runs": runs, "worst": worst, "problems": n * len(REGION_SIZES), "starts": S},
    )
