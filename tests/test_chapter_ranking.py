"""Chapter 'Ranking guarantees' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("ranking")


def test_borda_example_by_hand(glued):
    # fooling matrix of the uniform sampler, K = 3: eps = (1 - 2/3)/4 = 1/12, P[0] = (1/2, 7/12, 7/12),
    # P[1] = (5/12, 1/2, 1), P[2] = (5/12, 0, 1/2); Borda b_0 = 7/6, b_1 = 17/12
    assert glued["borda_eps"] == pytest.approx(1 / 12, abs=1e-15)
    assert glued["borda_c"] == pytest.approx(7 / 6, abs=1e-14)
    assert glued["borda_d"] == pytest.approx(17 / 12, abs=1e-14)
    scores = 2.0 * np.array([20 / 12, 23 / 12, 11 / 12]) / 3  # beta * (P u), row sums / 3
    pi = np.exp(scores) / np.exp(scores).sum()
    assert glued["borda_pi_c"] == pytest.approx(pi[0], rel=1e-12)
    assert glued["borda_pi_d"] == pytest.approx(pi[1], rel=1e-12)


def test_counterexample_margin_by_hand(glued):
    assert glued["lp_margin"] == pytest.approx(-1.99 / 32, abs=1e-9)
    assert glued["lp_hand"] == -1.99 / 32
    assert glued["a_star"] == pytest.approx(21 / 32, abs=1e-9)
    # a grid point never beats the optimum, and the 1/20 grid comes within its resolution
    assert glued["lp_margin"] - 4 / 20 <= glued["lattice_best_dagger"] <= glued["lp_margin"] + 1e-12


def test_counts_match_the_fast_sizes(glued):
    # fixed samplers per K: uniform + K point masses + K near-point masses + 3 Dirichlet x 2 = 2K + 7
    assert glued["n_fixed_samplers"] == sum(2 * K + 7 for K in range(3, 9)) == 108
    assert glued["n_fixed_escaped"] == 0
    assert glued["n_smith_matrices"] == 6 * 40
    assert glued["n_condorcet_matrices"] + glued["n_smith_set_matrices"] == 240
    assert glued["smith_failures"] == 0
    assert glued["n_sst_matrices"] == 6 * 20 and glued["n_sst_trials"] == 120 * 8 * 3 and glued["n_sst_broken"] == 0
    assert glued["lattice_n"] == 20 and glued["n_lattice_matrices"] == 11
    assert glued["n_lp_transitive"] == 6 * 15 and glued["min_lp_margin_sst"] > 0


def test_onpolicy_parameters_reach_the_check(glued):
    assert (glued["beta_low"], glued["beta_high"]) == (2.0, 8.0)
    assert glued["onpolicy_betas"] == "2, 8"
    for key in ("onpolicy_rate_condorcet_low", "onpolicy_rate_smith_high", "uniform_rate_smith"):
        assert 0.0 <= glued[key] <= 100.0


def test_figures_are_glued_as_png(glued):
    for name in ("fig-violations", "fig-counterexample", "fig-transitive"):
        assert "image/png" in glued[name]
