"""Chapter 'Concentration under skewed and on-policy sampling' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest

from conftest import CHAPTER_TEST_PARAMS

SCORES = CHAPTER_TEST_PARAMS["concentration"]["bt_scores"]
BETA = CHAPTER_TEST_PARAMS["concentration"]["beta_demo"]


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("concentration")


def _independent():
    """The worked example recomputed without prefalign: BT matrix, uniform optimum, and the self-consistent
    policy by plain iteration (beta * ||A|| / 2 < 1 here, so the iteration contracts)."""
    s = np.array(SCORES)
    P = 1 / (1 + np.exp(-(s[:, None] - s[None, :])))
    assert BETA * np.linalg.norm(P - 0.5, 2) / 2 < 1

    def optimum(mu):
        z = BETA * P @ mu
        return np.exp(z - z.max()) / np.exp(z - z.max()).sum()

    u = np.full(3, 1 / 3)
    pi = u
    for _ in range(200):
        pi = optimum(pi)
    return P, u, optimum, pi


def _entropy(p):
    return float(-(p * np.log(p)).sum())


def test_entropies_at_beta_demo_match_an_independent_computation(glued):
    P, u, optimum, selfcons = _independent()
    assert glued["H_bt_uniform"] == pytest.approx(_entropy(optimum(u)), abs=1e-12)
    assert glued["H_bt_onestep"] == pytest.approx(_entropy(optimum(optimum(u))), abs=1e-12)
    assert glued["H_bt_selfcons"] == pytest.approx(_entropy(selfcons), abs=1e-10)
    assert glued["onpolicy_top_demo"] == pytest.approx(selfcons[0], abs=1e-10)


def test_gap_change_and_balance_at_beta_demo(glued):
    P, u, _, selfcons = _independent()
    # g_12(pi) - g_12(u) = beta * sum_k (P[0, k] - P[1, k]) (pi_k - 1/3)
    assert glued["top_gap_change_demo"] == pytest.approx(BETA * (P[0] - P[1]) @ (selfcons - u), abs=1e-10)
    assert glued["top_gap_change_demo"] > 0  # the Bradley–Terry top pair qualifies
    assert abs(glued["balance_demo"]) < 1e-14


def test_checks_glued(glued):
    assert glued["n_widen_moves"] == 30 * 10 and glued["min_widen"] >= -1e-12
    assert glued["n_shrink"] == 50 and glued["shrink_failures"] == 0
    assert glued["bt_wrong"] == 0 and glued["linear_wrong"] == 0
    assert glued["n_balance"] == 50 and glued["balance_error"] < 1e-12 and glued["n_all_widen"] == 0
    assert glued["unique_tv"] < 1e-9 and glued["iteration_tv"] < 1e-12
    assert glued["example_bt_min"] >= 0 > glued["example_sst_max"]
    assert glued["n_betas"] == 13 and (glued["beta_min"], glued["beta_max"]) == (0.5, 20.0)


def test_entropy_verdicts_match_the_examples(glued):
    assert glued["sst_entropy_verdict"] == "higher at every β of the grid"
    # for scores (1, 0.5, 0) on [0.5, 20] both on-policy entropies lie below the uniform one (by 5e-8 to 1.3e-2)
    assert glued["bt_entropy_verdict"] == "lower at every β of the grid"


def test_figures_are_glued_as_png(glued):
    for name in ("fig-profiles", "fig-balance", "fig-entropy"):
        assert "image/png" in glued[name]
