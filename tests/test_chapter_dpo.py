"""Chapter 'DPO: the same sampling effects, implicitly' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import logit

from conftest import CHAPTER_TEST_PARAMS

A = CHAPTER_TEST_PARAMS["dpo"]["a"]  # the 3-cycle margin passed to the chapter
LOCAL = np.array([[0.50, 0.81, 0.90, 0.99], [0.19, 0.50, 0.66, 0.95], [0.10, 0.34, 0.50, 0.56], [0.01, 0.05, 0.44, 0.50]])


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("dpo")


def test_checks_glued(glued):
    assert glued["generic_error"] < 1e-5 and glued["unique_spread"] < 1e-9 and glued["decided_error"] < 1e-5
    assert glued["range_ratio"] <= 1 + 1e-12 and glued["dominating_wrong"] == 0
    assert glued["two_error"] < 1e-9 and glued["bt_error"] < 1e-8 and glued["spread_ratio_min"] >= 1
    assert glued["slope_three"] == pytest.approx(3, abs=0.05) and glued["slope_five"] == pytest.approx(5, abs=0.15)
    assert glued["fd_error"] < 1e-7 and glued["round_error"] < 1e-11 and glued["jacobian_error"] < 1e-7
    assert glued["rho_error"] < 1e-10 and glued["ordering_violations"] == 0 and glued["rotation_error"] < 1e-4
    assert glued["bt_dynamics_error"] < 1e-11


def test_fate_grids_in_fast_mode(glued):
    # fast: 16 x 16 grids over 300 rounds; the band is ln(1/threshold)/rounds = ln(1e6)/300
    assert glued["grid_side"] == 16 and glued["grid_steps"] == 300 and glued["grid_burn_in"] == 150
    assert glued["band"] == pytest.approx(np.log(1e6) / 300, rel=1e-12)
    assert glued["dpo_disagree_width"] <= glued["band"] and glued["ipo_disagree_width"] <= glued["band"]


def test_thresholds_by_hand(glued):
    # a = 0.3, alpha = 0: IPO cycles beyond beta*lambda = sqrt(3)/a, DPO beyond a quarter of it
    assert glued["boundary_ipo_0"] == pytest.approx(np.sqrt(3) / A, rel=1e-14)
    assert glued["boundary_dpo_0"] == pytest.approx(np.sqrt(3) / (4 * A), rel=1e-14)
    # the exercise: a = 0.4, beta_TRL = 0.1 -> beta = 10, rho = 4 a beta / sqrt(3); stable iff beta_TRL > 4a/sqrt(3)
    assert glued["trl_rho"] == pytest.approx(4 * 0.4 * 10 / np.sqrt(3), rel=1e-14)
    assert glued["trl_boundary"] == pytest.approx(np.sqrt(3) / 1.6, rel=1e-14)
    assert glued["trl_beta"] == pytest.approx(1.6 / np.sqrt(3), rel=1e-14)
    # trajectory figure: rho^2 = alpha^2 + a^2 s^2 / 3 with alpha = 0.3, s = 4.8 (IPO units)
    assert glued["trajectory_rho"] == pytest.approx(np.sqrt(0.09 + A**2 * 4.8**2 / 3), rel=1e-14)
    assert glued["trajectory_signal_dpo"] == pytest.approx(4.8 / 4)


def test_two_responses_ten_percent(glued):
    # logit(p) = 1.1 * 4 (p - 1/2), solved independently; the chapter reads it off a grid of step 0.495/199
    p = brentq(lambda q: logit(q) - 4.4 * (q - 0.5), 0.6, 0.99)
    assert glued["ten_percent_p"] == pytest.approx(p, abs=0.495 / 199 + 1e-12)


def test_invariance_and_local_figures(glued):
    assert glued["spread_dpo_bt"] < 1e-10 < glued["spread_ipo_bt"]
    assert glued["spread_dpo_other"] > 0.01 and glued["spread_ipo_other"] > 0.01
    # IPO's rates at 4 beta (beta = 1) of the top gap under lifts 2->1, 3->2, 4->3: 4 (d_a - d_{a+1}),
    # d = P[0] - P[1] = (0.31, 0.31, 0.24, 0.04)
    d = LOCAL[0] - LOCAL[1]
    for k in range(3):
        assert glued[f"local_ipo_{k + 1}"] == pytest.approx(4 * (d[k] - d[k + 1]), abs=1e-12)
        assert 0 < glued[f"local_widen_{k + 1}"] < glued["local_count"]
    assert [glued[f"local_row_{k + 1}"] for k in range(4)] == [", ".join(f"{v:.2f}" for v in row) for row in LOCAL]


def test_figures_are_glued_as_png(glued):
    for name in ("fig-invariance", "fig-linear", "fig-local", "fig-phase", "fig-slices", "fig-trajectories", "fig-entropy"):
        assert "image/png" in glued[name]


def test_ranking_theorem_and_corollaries_glued(glued):
    # fast mode: 60 problems per K = 3..8, so 360 problems and sum_K 60 K(K-1)/2 = 60 * 83 = 4980 pairs
    assert glued["rank_problems"] == 360 and glued["rank_pairs"] == 4980 and glued["rank_disagreements"] == 0
    assert 1 <= glued["rank_ratio_min"] < 1.01 and glued["rank_upper_max"] <= 1
    # fixed samplers: per K, uniform + K near-point masses + 3 Dirichlet draws, at 3 betas: 3 * sum_K (K + 4) = 171
    assert glued["dpo_fixed_total"] == 171 and glued["dpo_fixed_escaped"] == 0
    # Smith sampler: 3 matrices per (K, size) with size = 1..K-1, K = 3..8: 3 * 27 = 81
    assert glued["dpo_smith_matrices"] == 81 and glued["dpo_smith_failures"] == 0
    assert glued["dpo_sst_count"] == 6 * 30 and glued["dpo_sst_broken"] == 0
    assert glued["collapse_runs"] == 4 * 6 and glued["collapse_ratio_min"] >= 1
