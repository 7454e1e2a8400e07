"""Checks of the chapter "Experiments on real preference data" (label prefix ``...-experiments-``).

The data come from :mod:`prefalign.data`: the Chatbot Arena top 10, LLMFAO's complete per-prompt
sub-tournaments, and the paper's HelpSteer construction (on a user-supplied HelpSteer file, or on
synthetic HelpSteer-like scores by default).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from prefalign import data, ipo, preferences, simplex, social_choice
from prefalign.checks import CheckResult, register

CHAPTER = "experiments"
DEFAULT_SEED = 20240313

PROVENANCE_TOP10_TIES = 18_235
PROVENANCE_TOP10_DECISIVE = 36_886
"""Chatbot Arena PROVENANCE.md: "18,235 ties against 36,886 decisive battles among the top 10"."""


def helpsteer(helpsteer_path: str | None, seed: int, fast: bool, n_synthetic_prompts: int) -> data.HelpSteerMatrices:
    """The HelpSteer construction on the user's file, or on synthetic scores (``n_synthetic_prompts``, 1/10 when fast)."""
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
        measured=violations, expected=0, tolerance=0, details={"cycles": cycles, "helpsteer": H},
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
        measured=gap, expected=0, tolerance=0, details=top,
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
        measured=len(subs), expected=by_trace, tolerance=0, details=subs,
    )


def _rank_disagreements(a: np.ndarray, b: np.ndarray, tol: float = 1e-12) -> int:
    """Number of pairs ordered one way by ``a`` and the other way by ``b`` (differences within ``tol`` count as ties)."""

    def order(x: np.ndarray) -> np.ndarray:
        d = x[:, None] - x[None, :]
        return np.where(np.abs(d) <= tol, 0, np.sign(d))

    da, db = order(a), order(b)
    return int(np.sum(np.triu(da * db < 0, k=1)))


@register(CHAPTER)
def uniform_sampler_ranks_by_borda(beta: float = 4.0) -> CheckResult:
    """IPO's optimum under the uniform sampler orders the Arena top 10 and every LLMFAO triangle by Borda score."""
    top = data.arena(top=10)
    subs = data.llmfao("crowd").complete_subtournaments(3)
    matrices = [top.P, *subs.P]
    disagreements = 0
    for P in matrices:
        K = P.shape[0]
        pi = ipo.ipo_optimum(P, simplex.uniform(K), beta=beta)
        disagreements += _rank_disagreements(pi, social_choice.borda_scores(P))
    return CheckResult(
        CHAPTER, "cor-ipo-ranking",
        f"pairs ranked differently by π*(uniform) and by Borda score, Arena top 10 and {len(subs)} LLMFAO triangles (β = {beta:g})",
        measured=disagreements, expected=0, tolerance=0,
    )
