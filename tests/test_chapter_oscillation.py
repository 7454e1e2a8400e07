"""Chapter 'Oscillation under cyclic preferences' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("oscillation")


def test_checks_glued(glued):
    assert glued["round_error"] < 1e-12 and glued["fixed_residual"] < 1e-10
    assert glued["fd_error"] < 1e-7 and glued["eig_error"] < 1e-7 and glued["rho_error"] < 1e-12
    assert glued["rotation_error"] < 1e-4 and glued["hedge_error"] < 1e-12 and glued["hedge_decreases"] == 0


def test_fate_grid_in_fast_mode(glued):
    # fast mode: a 40 x 40 grid over 600 rounds; the band is ln(1/threshold)/rounds = ln(1e6)/600
    assert glued["grid_side"] == 40 and glued["grid_points"] == 1600 and glued["grid_steps"] == 600
    assert glued["band"] == pytest.approx(np.log(1e6) / 600, rel=1e-12)
    assert glued["disagree_width"] <= glued["band"]
    assert glued["stable_max_distance"] < 1e-3 < 0.05 < glued["unstable_min_distance"]


def test_thresholds_by_hand(glued):
    # a = 0.3: at alpha = 0 the threshold is beta*lambda = sqrt(3)/0.3; rho^2 = alpha^2 + a^2 (beta lambda)^2 / 3
    assert glued["signal_at_alpha0"] == pytest.approx(np.sqrt(3) / 0.3, rel=1e-14)
    assert glued["rho_base"] == pytest.approx(np.sqrt(0.2**2 + 0.09 * 2.0**2 / 3), rel=1e-14)
    assert glued["rho_alpha"] == pytest.approx(np.sqrt(0.95**2 + 0.09 * 2.0**2 / 3), rel=1e-14)
    assert glued["rho_signal"] == pytest.approx(np.sqrt(0.2**2 + 0.09 * 6.0**2 / 3), rel=1e-14)
    assert glued["period_alpha0"] == pytest.approx(4.0, rel=1e-14)  # a right angle per round
    assert glued["period_relative_error"] < 1e-4


def test_hedge_moves_outwards(glued):
    assert glued["hedge_rounds"] == 300
    assert glued["hedge_kl_last"] > 10 * glued["hedge_kl_first"] > 0
    # KL(u‖π) = -log 3 - (1/3) Σ log π_i <= -log 3 - log min π, so log min π <= -(KL + log 3)
    assert glued["hedge_min_log10"] <= -(glued["hedge_kl_last"] + np.log(3)) / np.log(10)


def test_figures_are_glued_as_png(glued):
    for name in ("fig-trajectories", "fig-phase", "fig-period", "fig-hedge"):
        assert "image/png" in glued[name]


def test_non_convergence_for_every_P_is_glued(glued):
    from prefalign.checks.oscillation import UNSTABLE_MATRICES, UNSTABLE_SIZES, UNSTABLE_STARTS

    # fast: a quarter of the problems and of the starts, for each of the 6 sizes and for both kinds
    problems = len(UNSTABLE_SIZES) * (UNSTABLE_MATRICES // 4)
    assert glued["unstable_problems"] == problems
    assert glued["unstable_runs"] == glued["contracting_runs"] == problems * (UNSTABLE_STARTS // 4)
    assert glued["unstable_min_late"] > 1e3 * glued["converged_distance"] > 1e3 * glued["contracting_max_late"]
    assert (glued["unstable_k_min"], glued["unstable_k_max"]) == (3, 8)


def test_neimark_sacker_numbers(glued):
    assert glued["lyapunov_error"] < 1e-12 and glued["forms_error"] < 1e-4
    assert glued["circle_error"] < glued["circle_tol"] and abs(glued["circle_slope"] - 0.5) < glued["circle_slope_tol"]
    assert "image/png" in glued["fig-amplitude"]
