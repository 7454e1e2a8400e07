"""The two classification rules for ties (preferences.has_strict_majority_cycle, is_weakly_strongly_transitive,
structure_under) on hand-made tied matrices, and the HelpSteer loader's classification under both."""

import numpy as np
import pytest
from hypothesis import given

from prefalign import data, preferences

from strategies import preference_matrices


def matrix(upper: dict[tuple[int, int], float], K: int) -> np.ndarray:
    """A K x K preference matrix from its entries above the diagonal (0-based pairs); the rest are ties."""
    P = np.full((K, K), 0.5)
    for (i, j), p in upper.items():
        P[i, j], P[j, i] = p, 1.0 - p
    return P


ALL_TIES = np.full((3, 3), 0.5)
TIED_BOTTOM = matrix({(0, 1): 0.7, (0, 2): 0.7}, 3)  # 1 beats 2 and 3 equally; 2 and 3 tie
TIED_BOTTOM_WEAK = matrix({(0, 1): 0.7, (0, 2): 0.6}, 3)  # 1 ▷ 2 by 0.7, 2 ~ 3, but P13 = 0.6 < 0.7
TIE_CLOSES_A_CYCLE = matrix({(0, 1): 0.7}, 3)  # 1 ▷ 2, 2 ~ 3, 3 ~ 1: a cycle only through ties
TIED_TOP = matrix({(0, 2): 0.8, (1, 2): 0.8}, 3)  # 1 ~ 2 on top, both beat 3 by the same margin
CYCLE_PLUS_TIE = matrix({(0, 1): 0.6, (1, 2): 0.6, (0, 2): 0.4}, 4)  # a strict 3-cycle; response 4 ties with all


@pytest.mark.parametrize("P, cyclic, weak_sst, strict, ties", [
    (ALL_TIES, False, True, "neither", "strongly transitive"),
    (TIED_BOTTOM, False, True, "neither", "strongly transitive"),
    (TIED_BOTTOM_WEAK, False, False, "neither", "neither"),
    (TIE_CLOSES_A_CYCLE, False, False, "neither", "neither"),
    (TIED_TOP, False, True, "neither", "strongly transitive"),
    (CYCLE_PLUS_TIE, True, False, "cyclic", "cyclic"),
    (preferences.bradley_terry([2.0, 1.0, 0.0]), False, True, "strongly transitive", "strongly transitive"),
])
def test_hand_made_matrices(P, cyclic, weak_sst, strict, ties):
    assert preferences.has_strict_majority_cycle(P) is cyclic
    assert preferences.is_weakly_strongly_transitive(P) is weak_sst
    assert preferences.structure_under(P, "strict") == strict == preferences.structure(P)
    assert preferences.structure_under(P, "ties allowed") == ties


def test_the_violated_triple_is_the_tied_one():
    # TIED_BOTTOM_WEAK fails only because of the triple (1, 2, 3): P12 = 0.7 > 1/2, P23 = 1/2, P13 = 0.6 < 0.7;
    # raising P13 to 0.7 (or lowering P12 to 0.6) repairs it
    assert preferences.is_weakly_strongly_transitive(matrix({(0, 1): 0.7, (0, 2): 0.7}, 3))
    assert preferences.is_weakly_strongly_transitive(matrix({(0, 1): 0.6, (0, 2): 0.6}, 3))


def test_tolerance_decides_what_a_tie_is():
    near = matrix({(0, 1): 0.5 + 1e-13}, 2)
    assert preferences.structure_under(near, "ties allowed") == "strongly transitive"
    # 1e-13 is a tie within the default tolerance: the 3-cycle below closes only with tol = 0
    P = matrix({(0, 1): 0.6, (1, 2): 0.6, (0, 2): 0.5 - 1e-13}, 3)
    assert not preferences.has_strict_majority_cycle(P)
    assert preferences.has_strict_majority_cycle(P, tol=0.0)
    # a violation smaller than the tolerance is forgiven
    assert preferences.is_weakly_strongly_transitive(matrix({(0, 1): 0.7, (0, 2): 0.7 - 1e-13}, 3))
    assert not preferences.is_weakly_strongly_transitive(matrix({(0, 1): 0.7, (0, 2): 0.7 - 1e-13}, 3), tol=0.0)


def test_batches_match_single_matrices():
    batch = np.stack([ALL_TIES, TIED_BOTTOM_WEAK, TIE_CLOSES_A_CYCLE, TIED_TOP, preferences.cyclic(0.2)])
    assert preferences.has_strict_majority_cycle(batch).tolist() == [False, False, False, False, True]
    assert preferences.is_weakly_strongly_transitive(batch).tolist() == [True, False, False, True, False]
    assert preferences.structure_under(batch, "ties allowed").tolist() == [
        "strongly transitive", "neither", "neither", "strongly transitive", "cyclic"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="tol must be >= 0"):
        preferences.is_weakly_strongly_transitive(ALL_TIES, tol=-1.0)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        preferences.has_strict_majority_cycle(ALL_TIES, tol=-1.0)
    with pytest.raises(ValueError, match="rule must be 'strict' or 'ties allowed'"):
        preferences.structure_under(ALL_TIES, "lenient")


@given(preference_matrices(min_K=2, max_K=6))
def test_without_ties_the_rules_agree(P):
    if np.any(np.abs(P[~np.eye(len(P), dtype=bool)] - 0.5) <= preferences.TIE_TOL):
        return
    assert preferences.structure_under(P, "ties allowed") == preferences.structure(P)


def test_strongly_transitive_matrices_without_ties_in_any_order():
    rng = np.random.default_rng(3)
    for K in range(2, 7):
        P = preferences.random_strongly_transitive(K, rng)
        order = rng.permutation(K)
        assert preferences.is_weakly_strongly_transitive(P[np.ix_(order, order)])


def test_unbeaten_responses_have_identical_rows():
    # part 3 of prop-experiments-tie-rules on tied Bradley–Terry matrices built from integer scores
    rng = np.random.default_rng(5)
    seen = 0
    for _ in range(400):
        scores = rng.integers(0, 3, size=5).astype(float)
        P = preferences.bradley_terry(scores)
        top = np.flatnonzero(~preferences.beats(P).any(axis=0))
        assert preferences.is_weakly_strongly_transitive(P)  # one attribute: always strongly transitive
        if len(top) >= 2:
            seen += 1
            np.testing.assert_array_equal(P[top], np.broadcast_to(P[top[0]], P[top].shape))
    assert seen > 50


def test_helpsteer_matrices_carry_both_rules():
    scores = data.synthetic_helpsteer(300, 1)
    H = data.helpsteer_matrices(scores, seed=2)
    assert H.structure_ties.tolist() == preferences.structure_under(H.P, "ties allowed").tolist()
    strict, ties = H.counts("strict"), H.counts("ties allowed")
    assert strict == H.counts() and sum(strict.values()) == sum(ties.values()) == len(H)
    assert ties["cyclic"] == strict["cyclic"]  # integer score differences: no near-ties
    assert ties["strongly transitive"] >= strict["strongly transitive"]  # strict-rule SST matrices stay SST
    np.testing.assert_array_equal(H.select("strongly transitive", rule="ties allowed"),
                                  H.P[H.structure_ties == "strongly transitive"])
    with pytest.raises(ValueError, match="rule must be 'strict' or 'ties allowed'"):
        H.counts("lenient")


def test_tie_rule_check_passes_at_full_size():
    from prefalign.checks import experiments

    result = experiments.tie_rules_agree_without_ties(fast=False)
    assert result.passed, result.compared
    assert result.details["tie_free"] > 1000 and result.details["top_classes"] > 50


def test_tie_rule_check_catches_a_strict_inequality(monkeypatch):
    # mutant: P_ik > max(P_ij, P_jk) instead of >=; Bradley–Terry entries on integer score differences are
    # often equal, so tie-free strongly transitive matrices get misclassified
    from prefalign.checks import experiments

    monkeypatch.setattr(preferences, "is_weakly_strongly_transitive", lambda P, tol=preferences.TIE_TOL: _strict_weak_sst(P))
    experiments.helpsteer.cache_clear()  # the cached construction classifies with the predicate
    try:
        assert not experiments.tie_rules_agree_without_ties(fast=True).passed
    finally:
        experiments.helpsteer.cache_clear()


def _strict_weak_sst(P):
    """The mutant predicate: the ties-allowed rule with a strict final inequality (batches too)."""
    P = np.asarray(P)
    if P.ndim == 3:
        return np.array([_strict_weak_sst(M) for M in P], dtype=bool)
    K = P.shape[-1]
    for i in range(K):
        for j in range(K):
            for k in range(K):
                if len({i, j, k}) == 3 and P[i, j] >= 0.5 and P[j, k] >= 0.5 and max(P[i, j], P[j, k]) > 0.5:
                    if not P[i, k] > max(P[i, j], P[j, k]):
                        return False
    return True
