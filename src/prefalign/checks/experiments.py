"""Checks of the chapter "Experiments on real preference data" (label prefix ``...-experiments-``).

The data come from :mod:`prefalign.data`: the Chatbot Arena top 10, LLMFAO's complete per-prompt
sub-tournaments, and the paper's HelpSteer construction (on a user-supplied HelpSteer file, or on
synthetic HelpSteer-like scores by default).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pandas as pd

from prefalign import data, dynamics, finite_sample, ipo, preferences, protocol, simplex, social_choice, statistics
from prefalign.checks import CheckResult, log_uniform, register

CHAPTER = "experiments"
DEFAULT_SEED = 20240313

PROVENANCE_TOP10_TIES = 18_235
PROVENANCE_TOP10_DECISIVE = 36_886
"""Chatbot Arena PROVENANCE.md: "18,235 ties against 36,886 decisive battles among the top 10"."""


ARENA_CYCLE = ("bard-jan-24-gemini-pro", "gpt-4-0314", "qwen1.5-72b-chat")
"""Three of the Arena's top 10 whose majority relation is a cycle (in this order: each beats the next)."""

RHO_MARGIN = 0.01
"""Runs whose fixed point has spectral radius within this margin of 1 are too close to call in a
few thousand rounds (slow convergence and a small cycle look alike); the dynamics checks count a
fixed point as unstable when ρ ≥ 1 + RHO_MARGIN and as stable when ρ < 1 − RHO_MARGIN."""


@functools.lru_cache(maxsize=4)
def helpsteer(helpsteer_path: str | None, seed: int, fast: bool, n_synthetic_prompts: int) -> data.HelpSteerMatrices:
    """The HelpSteer construction on the user's file, or on synthetic scores (``n_synthetic_prompts``, 1/10 when fast).

    Cached: the chapter's checks and figures share one construction (its arrays must not be modified)."""
    rng = np.random.default_rng([seed, 100])
    if helpsteer_path:
        return data.helpsteer_matrices(helpsteer_path, k=4, seed=rng)
    n = max(n_synthetic_prompts // 10, 50) if fast else n_synthetic_prompts
    return data.helpsteer_matrices(data.synthetic_helpsteer(n, rng), k=4, seed=rng)


def _directed_cycles(P: np.ndarray) -> list[tuple[int, ...]]:
    """Every directed cycle (as a vertex sequence starting at its smallest vertex) of the majority tournament."""
    K = P.shape[0]
    found = []
    for m in range(3, K + 1):
        for cyc in itertools.permutations(range(K), m):
            if cyc[0] == min(cyc) and all(P[cyc[t], cyc[(t + 1) % m]] > 0.5 for t in range(m)):
                found.append(cyc)
    return found


@register(CHAPTER)
def cycles_mix_attributes(seed: int = DEFAULT_SEED, fast: bool = False, helpsteer_path: str | None = None,
                          n_synthetic_prompts: int = 3000) -> CheckResult:
    """Every directed cycle of a HelpSteer-construction matrix uses at least two attributes."""
    H = helpsteer(helpsteer_path, seed, fast, n_synthetic_prompts)
    rows, violations = [], 0
    for n in np.flatnonzero(H.structure == "cyclic"):
        for cyc in _directed_cycles(H.P[n]):
            used = {int(H.attribute[n, cyc[t], cyc[(t + 1) % len(cyc)]]) for t in range(len(cyc))}
            violations += len(used) == 1
            rows.append({"matrix": int(n), "cycle": cyc, "attributes": len(used)})
    cycles = pd.DataFrame(rows, columns=["matrix", "cycle", "attributes"])
    source = "HelpSteer file" if helpsteer_path else "synthetic HelpSteer-like scores"
    return CheckResult(
        CHAPTER, "prop-experiments-mixed-attributes",
        f"directed cycles drawn on a single attribute, over all {len(cycles)} cycles of "
        f"{int(np.sum(H.structure == 'cyclic'))} cyclic matrices ({source})",
        measured=violations, expected=0, tolerance=0, details={"cycles": cycles, "helpsteer": H}, against="brute force",
    )


@register(CHAPTER)
def arena_counts_match_provenance() -> CheckResult:
    """Ties and decisive votes among the loader's top 10 against the numbers stated in PROVENANCE.md."""
    top = data.arena(top=10)
    iu = np.triu_indices(len(top.models), k=1)
    ties, decisive = int(top.ties[iu].sum()), int((top.wins + top.wins.T)[iu].sum())
    gap = abs(ties - PROVENANCE_TOP10_TIES) + abs(decisive - PROVENANCE_TOP10_DECISIVE)
    return CheckResult(
        CHAPTER, "data-arena-top10",
        f"|ties − {PROVENANCE_TOP10_TIES}| + |decisive − {PROVENANCE_TOP10_DECISIVE}| among the top 10 "
        f"(loader: {ties} ties, {decisive} decisive; PROVENANCE.md)",
        measured=gap, expected=0, tolerance=0, details=top, against="data source",
    )


@register(CHAPTER)
def llmfao_triangles_by_trace() -> CheckResult:
    """Complete 3-response sub-tournaments found by clique search against Σ_prompts trace(A³)/6."""
    crowd = data.llmfao("crowd")
    by_trace = 0
    for _, group in crowd.pairs.groupby("prompt"):
        nodes = {m: i for i, m in enumerate(sorted(set(group["model_a"]) | set(group["model_b"])))}
        A = np.zeros((len(nodes), len(nodes)), dtype=np.int64)
        A[[nodes[m] for m in group["model_a"]], [nodes[m] for m in group["model_b"]]] = 1
        A = A + A.T
        by_trace += int(np.trace(A @ A @ A)) // 6
    subs = crowd.complete_subtournaments(3)
    return CheckResult(
        CHAPTER, "data-llmfao-subtournaments",
        "complete crowd sub-tournaments of 3 responses: clique search vs Σ trace(A³)/6 over the 13 prompts",
        measured=len(subs), expected=by_trace, tolerance=0, details=subs, against="independent algorithm",
    )


def _rank_disagreements(a: np.ndarray, b: np.ndarray, tol: float = 1e-12) -> int:
    """Number of pairs ordered one way by ``a`` and the other way by ``b`` (differences within ``tol`` count as ties)."""

    def order(x: np.ndarray) -> np.ndarray:
        d = x[:, None] - x[None, :]
        return np.where(np.abs(d) <= tol, 0, np.sign(d))

    da, db = order(a), order(b)
    return int(np.sum(np.triu(da * db < 0, k=1)))


RANKING_SAMPLERS = 20
"""Random Dirichlet(1) samplers per matrix in the ranking check, besides the uniform one."""


@register(CHAPTER)
def uniform_sampler_ranks_by_borda(seed: int = DEFAULT_SEED, beta: float = 4.0) -> CheckResult:
    """IPO's optimum (uniform π_ref) ranks the responses by ``(Pμ)_i`` for every sampler μ, hence by Borda score
    under the uniform sampler: on the Arena top 10 and every LLMFAO triangle, the ranking of π*(μ) against the
    ranking of ``Pμ`` computed here (RANKING_SAMPLERS random samplers per matrix) and against Borda scores
    (:func:`prefalign.social_choice.borda_scores`) for uniform μ."""
    rng = np.random.default_rng([seed, 12])
    top = data.arena(top=10)
    subs = crowd_triangles()
    matrices = [top.P, *subs.P]
    disagreements = 0
    for P in matrices:
        K = P.shape[0]
        pi = ipo.ipo_optimum(P, simplex.uniform(K), beta=beta)
        disagreements += _rank_disagreements(pi, social_choice.borda_scores(P))
        for mu in rng.dirichlet(np.ones(K), size=RANKING_SAMPLERS):
            scores = [sum(P[i, j] * mu[j] for j in range(K)) for i in range(K)]
            disagreements += _rank_disagreements(ipo.ipo_optimum(P, mu, beta=beta), np.array(scores))
    return CheckResult(
        CHAPTER, "cor-ipo-ranking",
        f"pairs ranked differently by π*(μ) and by Pμ ({RANKING_SAMPLERS} random μ per matrix) or, for uniform μ, by "
        f"Borda score; Arena top 10 and {len(subs)} LLMFAO triangles (β = {beta:g})",
        measured=disagreements, expected=0, tolerance=0, against="independent algorithm",
    )


# --------------------------------------------------------------------------- the dynamics on real matrices


def start_policy(K: int, seed: int) -> np.ndarray:
    """The round-0 policy of every run: uniform mixed with 1% of a Dirichlet(1) draw, so that a run
    leaves a fixed point that sits exactly at uniform."""
    rng = np.random.default_rng([seed, 5, K])
    return 0.99 * simplex.uniform(K) + 0.01 * rng.dirichlet(np.ones(K))


def arena_cycle() -> np.ndarray:
    """The Arena's three-model cycle :data:`ARENA_CYCLE` as a 3 x 3 matrix (ties count half)."""
    top = data.arena(top=10)
    idx = [top.models.index(m) for m in ARENA_CYCLE]
    return top.P[np.ix_(idx, idx)]


@functools.lru_cache(maxsize=1)
def crowd_triangles() -> data.Subtournaments:
    """The crowd's complete three-response sub-tournaments (cached; its arrays must not be modified)."""
    return data.llmfao("crowd").complete_subtournaments(3)


def llmfao_crowd(kind: str) -> np.ndarray:
    """The crowd's complete three-response sub-tournaments of one structure, ``(m, 3, 3)``."""
    subs = crowd_triangles()
    return subs.P[subs.structure() == kind]


@functools.lru_cache(maxsize=4)
def _coarse_grids(seed: int, fast: bool, helpsteer_path: str | None, n_synthetic_prompts: int,
                  steps: int) -> dict[str, protocol.PhaseGrid]:
    """The protocol on every cyclic matrix (HelpSteer construction, LLMFAO crowd) on a coarse grid."""
    H = helpsteer(helpsteer_path, seed, fast, n_synthetic_prompts)
    alphas = np.array([0.0, 0.4, 0.8, 0.95])
    betalam = np.geomspace(0.5, 60.0, 4 if fast else 6)
    grids = {}
    for name, P in (("HelpSteer", H.select("cyclic")), ("LLMFAO crowd", llmfao_crowd("cyclic"))):
        if len(P):
            grids[name] = protocol.phase_grid(P, alphas, betalam, steps=steps, init=start_policy(P.shape[-1], seed))
    return grids


@register(CHAPTER)
def contraction_converges(seed: int = DEFAULT_SEED, fast: bool = False, helpsteer_path: str | None = None,
                          n_synthetic_prompts: int = 3000, steps: int = 3000) -> CheckResult:
    """Where the contraction constant q has q^steps <= 1e-13, every run on a real cyclic matrix ends at the fixed point found by Newton."""
    grids = _coarse_grids(seed, fast, helpsteer_path, n_synthetic_prompts, steps)
    q_max = float(np.exp(np.log(1e-13) / steps))
    worst, points = 0.0, 0
    for g in grids.values():
        inside = g.contraction <= q_max
        points += int(inside.sum())
        if inside.any():
            worst = max(worst, float(np.max(g.fixed_point_distance[inside])))
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max logit distance from the fixed point after {steps} rounds, {points} runs on cyclic matrices with "
        f"contraction constant q ≤ {q_max:.4f} (q^{steps} ≤ 1e-13)",
        measured=worst, expected=0.0, tolerance=1e-9, details={"grids": grids, "q_max": q_max, "runs": points}, against="simulation vs theorem",
    )


@register(CHAPTER)
def instability_oscillates(seed: int = DEFAULT_SEED, fast: bool = False, helpsteer_path: str | None = None,
                           n_synthetic_prompts: int = 3000, steps: int = 3000) -> CheckResult:
    """Where the fixed point is unstable (spectral radius ≥ 1 + RHO_MARGIN), almost no start converges
    (``thm-osc-unstable``); the runs' start is a random draw, so each run must keep moving: cycle strength > 0."""
    grids = _coarse_grids(seed, fast, helpsteer_path, n_synthetic_prompts, steps)
    unstable = [g.spectral_radius >= 1 + RHO_MARGIN for g in grids.values()]
    moving = np.concatenate([g.cycle_strength[u] > 1e-12 for g, u in zip(grids.values(), unstable)])
    share = float(np.mean(moving)) if moving.size else float("nan")
    return CheckResult(
        CHAPTER, "thm-osc-unstable",
        f"share of the {moving.size} runs with an unstable fixed point (ρ ≥ {1 + RHO_MARGIN:g}) whose cycle strength exceeds 1e-12",
        measured=share, expected=1.0, tolerance=0.0, relation="at_least", against="simulation vs theorem", details=grids,
    )


@register(CHAPTER)
def three_cycle_rotation(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """At the uniform policy the round's eigenvalues on 1^⊥ are α ± iβλā/√3 for every 3 x 3 P (ā: mean cycle margin)."""
    rng = np.random.default_rng([seed, 6])
    n = 200 if fast else 2000
    P = np.stack([preferences.random_preference_matrix(3, rng) for _ in range(n - 2)] + [arena_cycle(), preferences.cyclic(0.3)])
    alpha, bl = rng.uniform(0, 1, n), log_uniform(rng, 0.1, 100.0, n)
    J = dynamics.quotient_jacobian(np.log(np.full(3, 1 / 3)), P, alpha=alpha, beta=bl, lam=1.0)
    eig = np.linalg.eigvals(J)
    eig = np.take_along_axis(eig, np.argsort(eig.imag, axis=-1), axis=-1)  # [α − iω, α + iω]
    predicted = alpha + 1j * bl * np.abs(preferences.mean_cycle_margin(P)) / np.sqrt(3)
    error = np.maximum(np.abs(eig[:, 1] - predicted), np.abs(eig[:, 0] - np.conj(predicted)))
    return CheckResult(
        CHAPTER, "prop-experiments-three-cycle",
        f"max |eigenvalue − (α ± iβλā/√3)| of the round at uniform, {n} random 3 x 3 matrices incl. the Arena cycle",
        measured=float(np.max(error / (1 + np.abs(predicted)))), expected=0.0, tolerance=1e-12, against="hand value",
    )


@register(CHAPTER)
def arena_cycle_onset(seed: int = DEFAULT_SEED, fast: bool = False, steps: int = 3000) -> CheckResult:
    """On the Arena's real 3-cycle, runs oscillate exactly where the fixed point is linearly unstable.

    For α ∈ {0, 0.5, 0.9}, a grid of βλ within ±20% of the threshold (Brent's method on the spectral
    radius at the fixed point); a run oscillates if its cycle strength exceeds 1e-10. Points with
    |ρ − 1| < RHO_MARGIN are too close to call in ``steps`` rounds and are not counted.
    """
    P = arena_cycle()
    a_bar = float(preferences.mean_cycle_margin(P))
    rows = []
    for alpha in (0.5,) if fast else (0.0, 0.5, 0.9):
        onset = protocol.instability_onset(P, alpha, 1.0, 2000.0)
        grid = onset * np.linspace(0.8, 1.2, 21 if fast else 61)
        run = dynamics.simulate(P, alpha=alpha, beta=grid, lam=1.0, steps=steps, record="last", init=start_policy(3, seed))
        fixed = dynamics.fixed_point(P, alpha=alpha, beta=grid, lam=1.0)
        rho = dynamics.spectral_radius(fixed, P, alpha=alpha, beta=grid, lam=1.0)
        rows.append(pd.DataFrame({"alpha": alpha, "betalam": grid, "rho": rho, "cycle_strength": run.cycle_strength,
                                  "exact_onset": onset,
                                  "uniform_formula": float(dynamics.oscillation_boundary(a_bar, alpha))}))
    details = pd.concat(rows, ignore_index=True)
    clear = np.abs(details["rho"] - 1.0) >= RHO_MARGIN
    wrong = clear & ((details["cycle_strength"] > 1e-10) != (details["rho"] > 1.0))
    details.attrs.update(a_bar=a_bar, counted=int(clear.sum()))
    return CheckResult(
        CHAPTER, "thm-osc-jacobian",
        f"Arena cycle (ā = {a_bar:.4f}), α ∈ {{0, 0.5, 0.9}}: runs whose fate (cycle strength > 1e-10) disagrees with "
        f"the fixed point's stability (ρ > 1), among {int(clear.sum())} runs with |ρ − 1| ≥ {RHO_MARGIN:g}",
        measured=int(wrong.sum()), expected=0, tolerance=0, details=details, against="simulation vs theorem",
    )


@register(CHAPTER)
def entropy_depends_on_kappa(seed: int = DEFAULT_SEED, fast: bool = False, helpsteer_path: str | None = None,
                             n_synthetic_prompts: int = 3000, steps: int = 3000) -> CheckResult:
    """On strongly transitive real matrices the final entropy depends on (α, βλ) only through κ = βλ/(1 − α)."""
    H = helpsteer(helpsteer_path, seed, fast, n_synthetic_prompts)
    alphas = np.array([0.0, 0.5, 0.8])
    kappas = np.array([0.5, 2.0, 8.0])
    spread, runs = 0.0, 0
    for P in (H.select("strongly transitive"), llmfao_crowd("strongly transitive")):
        P = P[:20] if fast else P
        if not len(P):
            continue
        bl = kappas[None, :] * (1 - alphas[:, None])
        run = dynamics.simulate(P[:, None, None], alpha=alphas[None, :, None], beta=bl[None], lam=1.0, steps=steps,
                                record="last", init=start_policy(P.shape[-1], seed))
        spread = max(spread, float(np.max(np.ptp(run.entropy, axis=1))))
        runs += run.entropy.size
    return CheckResult(
        CHAPTER, "cor-stab-kappa",
        f"max over strongly transitive matrices and κ ∈ {{{', '.join(f'{k:g}' for k in kappas)}}} of the spread of the "
        f"final entropy across α ∈ {{0, 0.5, 0.8}} ({runs} runs, {steps} rounds)",
        measured=spread, expected=0.0, tolerance=1e-9, against="simulation vs theorem",
    )


def strongest_crowd_triangle(kind: str, min_votes: int = 4) -> tuple[np.ndarray, str]:
    """The crowd triangle of a structure with the largest margin, among those with >= ``min_votes`` votes on every pair.

    Cyclic: the largest ``|ā|`` (:func:`prefalign.preferences.mean_cycle_margin`); strongly
    transitive: the largest smallest margin ``min_{i<j} P[o_i, o_j] − ½`` in its order ``o``.
    """
    subs = crowd_triangles()
    votes = subs.wins + np.swapaxes(subs.wins, 1, 2) + subs.ties
    iu = np.triu_indices(3, k=1)
    keep = np.flatnonzero((subs.structure() == kind) & (votes[:, iu[0], iu[1]].min(axis=1) >= min_votes))

    def margin(P: np.ndarray) -> float:
        if kind == "cyclic":
            return abs(float(preferences.mean_cycle_margin(P)))
        o = preferences.transitive_order(P)
        return float(P[np.ix_(o, o)][iu].min() - 0.5)

    best = max(keep, key=lambda i: margin(subs.P[i]))
    return subs.P[best], subs.labels[best]


AVERAGING_SLOPE_TOL = 0.15
"""Tolerance on the fitted log–log slope of V(average of R runs) against R (the law is V ∝ 1/R, slope −1)."""


@register(CHAPTER)
def averaged_runs_look_stable(seed: int = DEFAULT_SEED, fast: bool = False, noisy_n: int = 100, noisy_runs: int = 100,
                              noisy_steps: int = 1500, noisy_alpha: float = 0.5, noisy_betalam: float = 20.0) -> CheckResult:
    """Noisy runs on a real crowd cycle: the average of R runs has 1/R of a single run's cycle strength when the
    phases are independent and uniform. The runs are split into groups of R = 1, 2, 4, ...; the mean cycle
    strength of the groups' averages is fitted against R on log–log axes (slope −1)."""
    P, label = strongest_crowd_triangle("cyclic")
    runs = noisy_runs // 4 if fast else noisy_runs
    steps = noisy_steps
    noisy = finite_sample.simulate_noisy(P, alpha=noisy_alpha, beta=noisy_betalam, lam=1.0, n=noisy_n, steps=steps,
                                         rng=np.random.default_rng([seed, 7]), runs=runs, init=start_policy(3, seed))
    exact = dynamics.simulate(P, alpha=noisy_alpha, beta=noisy_betalam, lam=1.0, steps=steps, init=start_policy(3, seed))
    pi = noisy.pi
    burn = steps // 2
    single = dynamics.cycle_strength(pi, burn_in=burn)
    average = float(dynamics.cycle_strength(pi.mean(axis=0), burn_in=burn))
    sizes = 2 ** np.arange(int(np.log2(runs)) + 1)
    by_size = np.array([float(np.mean(dynamics.cycle_strength(pi[: runs // R * R].reshape(runs // R, R, *pi.shape[1:]).mean(axis=1),
                                                               burn_in=burn))) for R in sizes])
    slope, _ = statistics.loglog_slope(sizes.astype(float), by_size)
    details = {"P": P, "label": label, "pi": pi, "exact": exact.pi, "single": single, "average": average,
               "exact_strength": float(exact.cycle_strength), "burn_in": burn, "sizes": sizes, "by_size": by_size,
               "slope": slope, "ratio": runs * average / float(single.mean()), "alpha": noisy_alpha,
               "betalam": noisy_betalam}
    return CheckResult(
        CHAPTER, "lem-experiments-averaging",
        f"log–log slope of the cycle strength of averages of R runs against R = 1..{sizes[-1]} ({runs} runs, n = {noisy_n} "
        f"comparisons per pair and round; −1 if the runs' phases are independent and uniform)",
        measured=slope, expected=-1.0, tolerance=AVERAGING_SLOPE_TOL, details=details, against="simulation vs theorem",
    )


@register(CHAPTER)
def collapse_spread_rate(seed: int = DEFAULT_SEED, fast: bool = False, spread_runs: int = 400,
                         spread_beta: float = 0.5) -> CheckResult:
    """Hedge (α = 1) on a real strongly transitive crowd triangle: the spread of the entropy paths falls like n^(-1/2)."""
    P, label = strongest_crowd_triangle("strongly transitive")
    runs = spread_runs // 4 if fast else spread_runs
    exact = dynamics.simulate(P, alpha=1.0, beta=spread_beta, lam=1.0, steps=400)
    H = simplex.entropy(exact.pi)
    t_half = int(np.argmax(H < 0.5 * H[0]))  # the round at which the exact path has lost half its entropy
    sizes = np.array([30, 100, 300, 1000, 3000])
    rng = np.random.default_rng([seed, 8])
    paths, spread = {}, []
    for n in sizes:
        noisy = finite_sample.simulate_noisy(P, alpha=1.0, beta=spread_beta, lam=1.0, n=int(n), steps=3 * t_half,
                                             rng=rng, runs=runs)
        paths[int(n)] = simplex.entropy(noisy.pi)
        spread.append(float(paths[int(n)][:, t_half].std()))
    slope, intercept = statistics.loglog_slope(sizes.astype(float), np.array(spread))
    details = {"P": P, "label": label, "paths": paths, "exact": H[: 3 * t_half + 1], "t_half": t_half,
               "sizes": sizes, "spread": np.array(spread), "intercept": intercept}
    return CheckResult(
        CHAPTER, "prop-experiments-spread",
        f"log–log slope of the spread (std over {runs} runs) of H(π_t) at the half-entropy round t = {t_half} "
        f"against n = {sizes[0]}..{sizes[-1]}",
        measured=slope, expected=-0.5, tolerance=0.1, details=details, against="simulation vs theorem",
    )


# --------------------------------------------------------------------------- the paper's tie rule


def tie_rule_matrices(seed: int, fast: bool, helpsteer_path: str | None, n_synthetic_prompts: int) -> np.ndarray:
    """Matrices on which the two classification rules are compared: every HelpSteer-construction matrix
    (many with ties), every LLMFAO crowd triangle, and random matrices without ties (general, strictly
    strongly transitive in a random order, cyclic; K = 3..6)."""
    rng = np.random.default_rng([seed, 40])
    per_K = 20 if fast else 200
    random = []
    for K in range(3, 7):
        for make in (preferences.random_preference_matrix, preferences.random_strongly_transitive, preferences.random_cyclic):
            for _ in range(per_K):
                P = make(K, rng)
                order = rng.permutation(K)
                random.append(P[np.ix_(order, order)])
    H = helpsteer(helpsteer_path, seed, fast, n_synthetic_prompts)
    return [*H.P, *crowd_triangles().P, *random]


@register(CHAPTER)
def tie_rules_agree_without_ties(seed: int = DEFAULT_SEED, fast: bool = False, helpsteer_path: str | None = None,
                                 n_synthetic_prompts: int = 3000) -> CheckResult:
    """``prop-experiments-tie-rules``: the rule with ties allowed never calls a matrix both cyclic and strongly
    transitive, and on matrices without ties it agrees with the strict rule (computed by another algorithm:
    a transitive order and its triples, and the peeling of unbeaten responses)."""
    matrices = tie_rule_matrices(seed, fast, helpsteer_path, n_synthetic_prompts)
    both = disagree = tie_free = top_classes = top_rows_differ = 0
    for P in matrices:
        cyclic, sst = preferences.has_strict_majority_cycle(P), preferences.is_weakly_strongly_transitive(P)
        both += cyclic and sst
        if not np.any(np.abs(P[~np.eye(len(P), dtype=bool)] - 0.5) <= preferences.TIE_TOL):
            tie_free += 1
            disagree += (cyclic != preferences.is_cyclic(P)) or (sst != preferences.is_strongly_transitive(P))
        top = np.flatnonzero(~preferences.beats(P).any(axis=0))
        if sst and len(top) >= 2:
            top_classes += 1
            top_rows_differ += bool(np.any(np.abs(P[top] - P[top[0]]) > preferences.TIE_TOL))
    return CheckResult(
        CHAPTER, "prop-experiments-tie-rules",
        f"matrices in both classes with ties allowed ({both}), plus tie-free matrices classified differently by the "
        f"two rules ({disagree} of {tie_free}), plus strongly transitive matrices (ties allowed) whose unbeaten "
        f"responses have different rows ({top_rows_differ} of {top_classes}), over {len(matrices)} matrices "
        f"(HelpSteer construction, LLMFAO triangles, random)",
        measured=both + disagree + top_rows_differ, expected=0, tolerance=0, against="independent algorithm",
        details={"matrices": len(matrices), "tie_free": tie_free, "top_classes": top_classes},
    )


ESTIMATOR_DRAWS = (4000, 50)
"""Draws × comparisons per pair of the check that the finite-sample estimate of P is unbiased (cheap: the same when fast).
An estimator off by one comparison (k/(n + 1)) is then about 10 standard errors off."""


@register(CHAPTER)
def estimator_unbiased(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The finite-sample dynamics estimate each ``P_ij`` from ``n`` fresh comparisons
    (:func:`prefalign.finite_sample.estimate`); the estimate is unbiased, so its mean over many draws matches
    ``P`` on the real crowd cycle of the averaging check (``fast`` is unused). Measured: the largest |mean − P_ij| in standard errors
    (``√(P_ij(1 − P_ij)/(n · draws))``)."""
    P, _ = strongest_crowd_triangle("cyclic")
    draws, n = ESTIMATOR_DRAWS
    samples = finite_sample.estimate(P, n, np.random.default_rng([seed, 13]), size=(draws,))
    iu = np.triu_indices(3, k=1)
    se = np.sqrt(P[iu] * (1 - P[iu]) / (n * draws))
    return CheckResult(
        CHAPTER, "lem-experiments-averaging",
        f"max |mean of {draws} estimates − P_ij| / standard error, n = {n} comparisons per pair, the crowd cycle",
        measured=float(np.max(np.abs(samples.mean(axis=0)[iu] - P[iu]) / se)), expected=0.0, tolerance=5.0,
        relation="at_most", against="simulation vs theorem",
    )


@register(CHAPTER)
def contraction_boundary_is_where_q_is_one() -> CheckResult:
    """The dashed curve of the phase diagrams, ``βλ = 2(1 − α)/‖A‖₂`` (:func:`prefalign.protocol.contraction_boundary`),
    is where the contraction constant of the stability chapter (:func:`prefalign.dynamics.contraction_bound`, its own
    code) equals 1: on the Arena top 10 and every LLMFAO triangle, α on a grid in [0, 0.99]."""
    subs = crowd_triangles()
    P = np.stack([m for m in subs.P if np.any(m != 0.5)])  # all-ties triangles have no boundary
    alphas = np.linspace(0.0, 0.99, 12)
    boundary = protocol.contraction_boundary(P, alphas)
    q = dynamics.contraction_bound(P[:, None], alphas[None, :], boundary, 1.0)
    top = data.arena(top=10).P
    q_top = dynamics.contraction_bound(top, alphas, protocol.contraction_boundary(top, alphas), 1.0)
    return CheckResult(
        CHAPTER, "thm-stab-contraction",
        f"max |q(α, βλ on the boundary) − 1| over the Arena top 10 and {len(P)} LLMFAO triangles (all but the all-ties ones), "
        "12 values of α",
        measured=float(max(np.max(np.abs(q - 1)), np.max(np.abs(q_top - 1)))), expected=0.0, tolerance=1e-12,
        against="identity",
    )
