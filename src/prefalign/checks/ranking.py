"""Checks of the chapter "Ranking guarantees" (label prefix ``thm-ranking-``).

Throughout, the reference policy is uniform, so IPO's optimum ranks responses by ``(Pμ)_i``
whatever β > 0; the checks still use several β to exercise the code on both flat and peaked optima.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import combinations

import numpy as np
import pandas as pd

from prefalign import ipo, preferences, simplex, social_choice, validation
from prefalign.checks import CheckResult, register

CHAPTER = "ranking"
DEFAULT_SEED = 20260212
KS = range(3, 9)
BETAS = (0.5, 4.0, 32.0)
THEORY_TRANSITIVE = np.array([[0.5, 0.51, 0.7, 0.6], [0.49, 0.5, 0.9, 0.8], [0.3, 0.1, 0.5, 0.51], [0.4, 0.2, 0.49, 0.5]])
"""The transitive, not strongly transitive 4 x 4 example of THEORY.md (order 0, 1, 2, 3)."""
THEORY_MARGIN = -1.99 / 32
"""Its best order-preservation margin, by hand: the outer margins ``.21a - .2`` and ``.01 - .11a``
(``a = μ_0 + μ_1``) cross at ``a = 21/32``, where both equal ``-1.99/32``."""


NEAR_POINT_MIX = 1e-3
"""The near-point-mass samplers are ``(1 − δ) e_k + δ u`` with this δ."""


def fixed_samplers(K: int, rng: np.random.Generator, fast: bool) -> list[tuple[str, np.ndarray]]:
    """The samplers a fixed-sampling designer might pick: uniform, every point mass, every near-point
    mass (``(1-δ) e_k + δ u``, δ = NEAR_POINT_MIX), and Dirichlet draws with concentration 0.1, 1 and 10."""
    rng = validation.generator(rng)
    out = [("uniform", simplex.uniform(K))]
    eye = np.eye(K)
    out += [("point mass", eye[k]) for k in range(K)]
    out += [("near-point mass", (1 - NEAR_POINT_MIX) * eye[k] + NEAR_POINT_MIX / K) for k in range(K)]
    for alpha in (0.1, 1.0, 10.0):
        out += [(f"Dirichlet({alpha:g})", mu) for mu in rng.dirichlet(np.full(K, alpha), size=2 if fast else 6)]
    return out


@lru_cache(maxsize=4)
def _fooling_rows(seed: int, fast: bool) -> pd.DataFrame:
    rng = np.random.default_rng([seed, 1])
    rows = []
    for K in KS:
        for kind, mu in fixed_samplers(K, rng, fast):
            P = preferences.fooling_matrix(mu)
            order = preferences.transitive_order(P)
            c, d = order[0], order[1]
            eps = P[c, d] - 0.5
            pi = ipo.objective_maximiser(P, mu, beta=np.array(BETAS))
            rows.append({
                "K": K, "sampler": kind, "c": c, "d": d, "mu_c": mu[c], "mu_d": mu[d], "eps": eps,
                "winner_is_c": social_choice.condorcet_winner(P) == c,
                "gap": float((P @ mu)[d] - (P @ mu)[c]), "gap_formula": 0.5 * (1 - mu[c] - mu[d]) - eps,
                "any_property_holds": bool(np.any(social_choice.is_condorcet_top(pi, P) | social_choice.is_smith_top(pi, P)
                                                  | social_choice.is_order_preserving(pi, P))),
            })
    return pd.DataFrame(rows)


@register(CHAPTER)
def fooling_gap_formula(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The construction's score gap ``(Pμ)_d - (Pμ)_c`` against the hand formula ``½(1 - μ_c - μ_d) - ε``."""
    rows = _fooling_rows(seed, fast).copy()
    err = float(np.max(np.abs(rows["gap"] - rows["gap_formula"])))
    return CheckResult(
        CHAPTER, "thm-ranking-fixed-fails",
        f"max |(Pμ)_d − (Pμ)_c − (½(1 − μ_c − μ_d) − ε)| over {len(rows)} samplers, K = 3..8",
        measured=err, expected=0.0, tolerance=1e-12, details=rows, against="hand value",
    )


@register(CHAPTER)
def fixed_samplers_fooled(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For every fixed sampler tried, IPO's optimum on the fooling matrix breaks all three guarantees."""
    rows = _fooling_rows(seed, fast).copy()
    escaped = int(np.sum(rows["any_property_holds"] | ~rows["winner_is_c"]))
    return CheckResult(
        CHAPTER, "thm-ranking-fixed-fails",
        f"samplers (of {len(rows)}, each at β ∈ {{{', '.join(f'{b:g}' for b in BETAS)}}}) whose optimum keeps "
        "Condorcet-top, Smith-top or the order on their fooling P",
        measured=escaped, expected=0, tolerance=0, relation="at_most", details=rows, against="theorem's bound",
    )


def smith_instances(K: int, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``n`` random ``K x K`` matrices whose Smith set is a proper subset: a Condorcet winner with
    probability ½, otherwise a Smith set of uniform size in ``2..K-1`` (size 2 only with ``K >= 3``)."""
    rng = validation.generator(rng)
    out = []
    for _ in range(n):
        size = 1 if rng.uniform() < 0.5 else int(rng.integers(2, K))
        out.append(preferences.random_with_smith_set(K, size, rng))
    return out


@register(CHAPTER)
def smith_sampler_on_top(seed: int = DEFAULT_SEED, fast: bool = False,
                         onpolicy_betas: tuple[float, ...] = (1.0, 4.0, 16.0)) -> CheckResult:
    """The Smith sampler (ε = 0 and ε = ε̄/2) keeps the Smith set, and a Condorcet winner, on top.

    ``details`` has one row per (matrix, sampler) with the verdicts, for uniform, one-step and
    self-consistent on-policy samplers at each β of ``onpolicy_betas``, the maximal lottery of ``P``
    itself (not reversed) and both Smith samplers.
    """
    rng = np.random.default_rng([seed, 2])
    per_K = 40 if fast else 350
    betas = np.asarray(onpolicy_betas, dtype=float)
    rows = []
    for K in KS:
        Ps = np.stack(smith_instances(K, per_K, rng))
        u = simplex.uniform(K)
        one_step = ipo.ipo_optimum(Ps[:, None], ipo.ipo_optimum(Ps[:, None], u, beta=betas), beta=betas)
        self_consistent = ipo.onpolicy_optimum(Ps[:, None], beta=betas)
        for n, P in enumerate(Ps):
            lottery = ipo.smith_lottery(P)
            S = lottery.members
            inner = P[np.ix_(S, S)]
            plain = lottery.q  # when P[S, S] equals its transpose (|S| <= 2), reversing changes nothing
            if not np.array_equal(inner, inner.T):
                plain = np.zeros(K)
                plain[S] = social_choice.maximal_lottery(inner)
            names = ["uniform", "maximal lottery of P", "Smith sampler, ε = 0", "Smith sampler, ε = ε̄/2"]
            fixed = ipo.objective_maximiser(P, np.stack([u, plain, lottery.sampler(0.0), lottery.sampler()]))
            names += [f"one-step on-policy, β = {b:g}" for b in betas] + [f"on-policy, β = {b:g}" for b in betas]
            stacked = np.concatenate([fixed, one_step[n], self_consistent[n]])
            smith_ok = social_choice.is_smith_top(stacked, P)
            condorcet_ok = social_choice.is_condorcet_top(stacked, P)
            for name, s_ok, c_ok in zip(names, smith_ok, condorcet_ok):
                rows.append({"K": K, "instance": n, "smith_size": len(S), "sampler": name,
                             "smith_top": bool(s_ok), "condorcet_top": bool(c_ok)})
    details = pd.DataFrame(rows)
    ours = details[details["sampler"].str.startswith("Smith sampler")]
    failures = int(np.sum(~(ours["smith_top"] & ours["condorcet_top"])))
    n_matrices = details.groupby(["K", "instance"]).ngroups
    return CheckResult(
        CHAPTER, "thm-ranking-smith",
        f"violations of Smith-top or Condorcet-top by the Smith sampler (ε = 0 and ε̄/2) on {n_matrices} random P, K = 3..8",
        measured=failures, expected=0, tolerance=0, relation="at_most", details=details, against="theorem's bound",
    )


def sst_instances(K: int, n: int, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Strongly transitive matrices of four kinds, each relabelled by a random permutation: strictly
    SST (:func:`~prefalign.preferences.random_strongly_transitive`), Bradley–Terry with normal scores,
    linear, and the weakly SST constant-margin matrix ``P[i, k] = ½ + m`` for ``i`` before ``k``."""
    rng = validation.generator(rng)
    out = []
    for _ in range(n):
        kind = ("strict SST", "Bradley–Terry", "linear", "constant margin")[int(rng.integers(0, 4))]
        if kind == "strict SST":
            P = preferences.random_strongly_transitive(K, rng)
        elif kind == "Bradley–Terry":
            P = preferences.bradley_terry(np.sort(rng.normal(0.0, 1.5, size=K))[::-1])
        elif kind == "linear":
            P = preferences.linear(np.sort(rng.uniform(0.0, 0.5, size=K))[::-1])
        else:
            m = rng.uniform(0.01, 0.5)
            P = np.full((K, K), 0.5)
            iu = np.triu_indices(K, k=1)
            P[iu], P.T[iu] = 0.5 + m, 0.5 - m
        perm = rng.permutation(K)
        out.append((kind, P[np.ix_(perm, perm)]))
    return out


@register(CHAPTER)
def sst_preserves_order(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """Strong transitivity: the optimum is order-preserving for every full-support sampler tried."""
    rng = np.random.default_rng([seed, 3])
    per_K = 20 if fast else 100
    rows = []
    for K in KS:
        for kind, P in sst_instances(K, per_K, rng):
            mus = np.concatenate([
                0.99 * rng.dirichlet(np.full(K, 0.1), size=3) + 0.01 / K,
                rng.dirichlet(np.ones(K), size=3),
                (1 - NEAR_POINT_MIX) * np.eye(K)[rng.integers(0, K, size=2)] + NEAR_POINT_MIX / K,
            ])
            pi = ipo.ipo_optimum(P, mus[:, None], beta=np.array(BETAS))
            kept = social_choice.is_order_preserving(pi, P)
            rows.append({"K": K, "kind": kind, "samplers_tried": kept.size, "broken": int(np.sum(~kept))})
    details = pd.DataFrame(rows)
    return CheckResult(
        CHAPTER, "thm-ranking-sst",
        f"(μ, β) with the order broken, over {len(details)} SST matrices × {details['samplers_tried'].iloc[0]} (μ, β) "
        "each (min μ_k ≥ 10⁻³/K)",
        measured=int(details["broken"].sum()), expected=0, tolerance=0, relation="at_most", details=details, against="theorem's bound",
    )


@register(CHAPTER)
def lp_counterexample(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The LP's best margin on the 4 x 4 transitive example against the hand value −1.99/32."""
    res = ipo.order_preserving_sampler(THEORY_TRANSITIVE)
    return CheckResult(
        CHAPTER, "thm-ranking-sst", "best order-preservation margin t* of the 4 × 4 example: LP vs hand value −1.99/32",
        measured=res.margin, expected=THEORY_MARGIN, tolerance=1e-9, details=res, against="hand value",
    )


def _grid_best(P: np.ndarray, grid: np.ndarray) -> float:
    """Brute force: the best worst consecutive margin ``min_a (Pμ)_{o_a} - (Pμ)_{o_{a+1}}`` over the samplers in ``grid``."""
    order = preferences.transitive_order(P)
    scores = grid @ P.T
    return float(np.max(np.min(scores[:, order[:-1]] - scores[:, order[1:]], axis=1)))


def _lattice_matrices(seed: int, fast: bool) -> list[np.ndarray]:
    """The LP checks' matrices: the 4 × 4 example and random transitive ones."""
    rng = np.random.default_rng([seed, 4])
    return [THEORY_TRANSITIVE] + [preferences.random_transitive(4, rng) for _ in range(10 if fast else 60)]


@lru_cache(maxsize=4)
def _lattice_rows(seed: int, fast: bool) -> pd.DataFrame:
    n = 20 if fast else 40
    grid = simplex.lattice(n, 4)
    rows = []
    for m, P in enumerate(_lattice_matrices(seed, fast)):
        rows.append({"matrix": "THEORY example" if m == 0 else f"random {m}", "lp": ipo.order_preserving_sampler(P).margin,
                     "lattice": _grid_best(P, grid), "lattice_n": n})
    return pd.DataFrame(rows)


@register(CHAPTER)
def lp_not_beaten_by_brute_force(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """No sampler on a grid of Δ_4 has a better margin than the LP's optimum (K = 4)."""
    rows = _lattice_rows(seed, fast).copy()
    return CheckResult(
        CHAPTER, "lem-ranking-lp",
        f"max over {len(rows)} transitive 4 × 4 P of (best margin on a 1/{rows['lattice_n'].iloc[0]}-grid of Δ₄) − t*_LP",
        measured=float(np.max(rows["lattice"] - rows["lp"])), expected=0.0, tolerance=1e-12, relation="at_most", details=rows, against="brute force",
    )


def vertex_best(P: np.ndarray) -> float:
    """The best worst consecutive margin ``t* = max_μ min_a (Pμ)_{o_a} − (Pμ)_{o_{a+1}}`` by enumerating every
    vertex of the LP's feasible set exactly: in the variables ``(μ, t)``, each choice of K linearly independent
    active constraints among ``(Pμ)_{o_a} − (Pμ)_{o_{a+1}} ≥ t`` and ``μ_k ≥ 0``, with ``Σμ = 1``, solved as a
    linear system; the best feasible one. No LP solver is involved."""
    K = P.shape[0]
    order = preferences.transitive_order(P)
    D = P[order[:-1]] - P[order[1:]]
    rows = np.vstack([np.hstack([D, -np.ones((K - 1, 1))]), np.hstack([np.eye(K), np.zeros((K, 1))])])
    simplex_row = np.append(np.ones(K), 0.0)
    best = -np.inf
    for active in combinations(range(len(rows)), K):
        M = np.vstack([rows[list(active)], simplex_row])
        if abs(np.linalg.det(M)) < 1e-12:
            continue
        x = np.linalg.solve(M, np.append(np.zeros(K), 1.0))
        if np.all(rows @ x >= -1e-12):
            best = max(best, float(x[-1]))
    return best


@register(CHAPTER)
def lp_close_to_brute_force(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The LP's optimum equals the best vertex of its feasible set, found by exact enumeration (K = 4)."""
    rows = _lattice_rows(seed, fast).copy()
    rows["vertices"] = [vertex_best(P) for P in _lattice_matrices(seed, fast)]
    return CheckResult(
        CHAPTER, "lem-ranking-lp",
        f"max over {len(rows)} transitive 4 × 4 P of |t*_LP − best margin over the LP's vertices (exact enumeration)|",
        measured=float(np.max(np.abs(rows["lp"] - rows["vertices"]))), expected=0.0, tolerance=1e-9, details=rows,
        against="brute force",
    )


@register(CHAPTER)
def lp_feasible_under_sst(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """For SST matrices the LP always finds a positive margin, and its full-support sampler works;
    ``details`` also holds, for random transitive matrices, how often uniform sampling or some sampler preserves the order."""
    rng = np.random.default_rng([seed, 5])
    per_K = 15 if fast else 60
    rows = []
    for K in KS:
        for kind, P in sst_instances(K, per_K, rng):
            res = ipo.order_preserving_sampler(P)
            works = (not res.exists) or social_choice.is_order_preserving(ipo.ipo_optimum(P, res.mu), P)
            rows.append({"K": K, "family": "SST", "kind": kind, "margin": res.margin, "sampler_works": works,
                         "uniform_preserves": social_choice.is_order_preserving(ipo.ipo_optimum(P, simplex.uniform(K)), P)})
        for _ in range(per_K):
            P = preferences.random_transitive(K, rng)
            res = ipo.order_preserving_sampler(P)
            works = (not res.exists) or social_choice.is_order_preserving(ipo.ipo_optimum(P, res.mu), P)
            rows.append({"K": K, "family": "transitive", "kind": "random transitive", "margin": res.margin,
                         "sampler_works": works,
                         "uniform_preserves": social_choice.is_order_preserving(ipo.ipo_optimum(P, simplex.uniform(K)), P)})
    details = pd.DataFrame(rows)
    sst = details[details["family"] == "SST"]
    bad = int(np.sum(sst["margin"] <= 0)) + int(np.sum(~details["sampler_works"]))
    return CheckResult(
        CHAPTER, "thm-ranking-sst",
        f"SST P (of {len(sst)}) with LP margin ≤ 0, plus LP samplers (of {len(details)}) that fail to preserve the order",
        measured=bad, expected=0, tolerance=0, relation="at_most", details=details, against="theorem's bound",
    )


@register(CHAPTER)
def order_sampler_mixing(seed: int = DEFAULT_SEED, fast: bool = False) -> CheckResult:
    """The full-support order-preserving sampler ``μ = (1 − η) μ_LP + η u``: its mixing weight against the hand
    value ``η = t*/(2(1 + t*))``, and its worst consecutive margin ``min_a (Pμ)_{o_a} − (Pμ)_{o_{a+1}}``, computed
    here, against the guarantee ``t*/2``, on random SST matrices. Measured: the largest of
    ``|η − t*/(2(1 + t*))|`` and ``t*/2 − margin`` (positive if the guarantee fails)."""
    rng = np.random.default_rng([seed, 7])
    per_K = 10 if fast else 50
    worst = -np.inf
    for K in KS:
        for _, P in sst_instances(K, per_K, rng):
            res = ipo.order_preserving_sampler(P)
            t = res.margin
            direction = simplex.uniform(K) - res.mu_lp
            eta = float(direction @ (res.mu - res.mu_lp) / (direction @ direction))
            scores = P @ res.mu
            margin = float(np.min(scores[res.order[:-1]] - scores[res.order[1:]]))
            worst = max(worst, abs(eta - t / (2 * (1 + t))), t / 2 - margin)
    return CheckResult(
        CHAPTER, "lem-ranking-lp",
        f"max over {per_K * len(KS)} random SST P of |η − t*/(2(1+t*))| and t*/2 − (worst margin of the mixed sampler)",
        measured=worst, expected=0.0, tolerance=1e-9, relation="at_most", against="hand value",
    )
