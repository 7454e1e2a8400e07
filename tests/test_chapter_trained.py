"""Chapter 'From population rounds to trained rounds' as executed in the test book, with the small parameters of
conftest.CHAPTER_TEST_PARAMS (a = 0.3, 12 x 12 phase diagrams, fast checks)."""

import numpy as np
import pytest

A = 0.3
SQRT3 = np.sqrt(3.0)
SIGNALS = np.array([0.56962646361746, 0.5530188808133103, 0.5740555320706715, 0.5500168462924606,
                    0.5347247929124184, 0.5936766724004628])  # calibration_report.json of yuhe-zzy/LLM_Sampling, ipo_+1


def boundary(alpha, s):
    # beta*lambda at which s((1-alpha)^2 + (beta*lambda*a/sqrt3)^2) = 2(1-alpha)
    return SQRT3 / A * np.sqrt(2 * (1 - alpha) / s - (1 - alpha) ** 2)


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("trained")


def test_checks_glued(glued):
    assert glued["fates_bad"] == 0 and glued["dpo_fates_bad"] == 0 and 0 < glued["fates_counted"] <= glued["fates_points"]
    assert glued["jac_ipo"] < 1e-7 and glued["jac_dpo"] < 1e-7 and glued["round_error"] < 1e-12
    assert glued["unbiased_z"] < 5 and glued["onpolicy_excess"] <= 1e-8 and glued["alpha_one_real"] < 1e-7
    assert glued["exact_alpha_one_min"] >= 1 - 1e-12 and glued["lag_min"] >= 1 and glued["limit_gap"] < 1e-9


def test_boundaries_by_hand(glued):
    assert glued["bl_alpha0_exact"] == pytest.approx(SQRT3 / A, rel=1e-14)
    assert glued["bl_alpha0_high"] == pytest.approx(boundary(0.0, 0.5), rel=1e-12)  # = 10 exactly
    assert glued["bl_alpha0_low"] == pytest.approx(boundary(0.0, 0.15), rel=1e-12)
    # s = 1 - (1 - lr h)^k with h = 4/3 and k = 4
    assert glued["lr_high"] == pytest.approx((1 - 0.5 ** 0.25) * 0.75, rel=1e-12)
    assert glued["noisy_share"] == pytest.approx(1 - (1 - 0.1 * 4 / 3) ** 4, rel=1e-12)
    # alpha = 0.9 at beta*lambda = sqrt(3)/a: sigma = 1, s_max = 0.2 / (0.01 + 1)
    assert glued["alpha_09_smax"] == pytest.approx(0.2 / 1.01, rel=1e-12)


def test_exercises_by_hand(glued):
    assert glued["ex_sigma_first"] == pytest.approx(6 * A / SQRT3) and glued["ex_smax_first"] == pytest.approx(1.6 / 1.72)
    assert glued["ex_smax_second"] == pytest.approx(1.0 / 2.17)
    assert glued["ex_below_first"] < 1e-10 and glued["ex_below_second"] < 1e-10
    assert glued["ex_above_first"] > 1e-2 and glued["ex_above_second"] > 1e-2
    # the authors' four-cycle at uniform: omega = 0.6/4, sigma = 5 * 0.8 * omega
    assert glued["four_omega"] == pytest.approx(0.15) and glued["four_sigma"] == pytest.approx(0.6)
    assert glued["four_radius"] == pytest.approx(np.sqrt(0.81 + 0.36)) and glued["four_smax"] == pytest.approx(0.2 / 0.37)


def test_language_model_numbers_by_hand(glued):
    s_max = 0.2 / (0.01 + SIGNALS**2)
    assert glued["llm_smax_min"] == pytest.approx(s_max.min()) and glued["llm_smax_max"] == pytest.approx(s_max.max())
    assert glued["llm_exact_min"] == pytest.approx(np.sqrt(0.81 + SIGNALS**2).min())
    s = 0.6138521024285665
    radius = np.sqrt((1 - 0.1 * s) ** 2 + (s * SIGNALS) ** 2)
    assert glued["llm_fit_radius_min"] == pytest.approx(radius.min()) and glued["llm_fit_radius_max"] == pytest.approx(radius.max())
    assert glued["llm_fit_radius_min"] < 1 < glued["llm_fit_radius_max"]
    assert glued["llm_beta"] == pytest.approx(5.0) and glued["llm_oracle_lam"] == pytest.approx(0.1)
    assert glued["llm_oracle_entropy"] == "1.256, 0.939, 0.610, 0.278"


def test_counterexamples(glued):
    assert glued["cex_exact_radius"] < 1 and glued["cex_x_real"] < 0 and glued["cex_min_radius"] > 1
    assert glued["cex_min_distance"] > 1e-2 and glued["cex_exact_distance"] < 1e-10
    assert glued["one_radius"] < 1 and glued["one_distance"] < 1e-8 and glued["one_exact_distance"] > 1


def test_measured_figures(glued):
    assert glued["onset_max_rel"] < 0.15  # onsets within the grid spacing of the threshold
    assert glued["arena_agree"] >= 0.9 * glued["arena_counted"]
    assert glued["triangle_count"] == 12 and glued["triangle_same"] >= 0.8 * glued["triangle_total"]
    assert glued["triangle_gain"] > 1  # smaller steps move the onset up
    assert glued["entropy_last_trained"] < glued["entropy_first_trained"]
    assert glued["shared_neighbour_amp"] > glued["shared_alone_amp"] > glued["shared_tabular_amp"]
    for name in ("fig-trained-phase", "fig-trained-onset", "fig-trained-arena", "fig-trained-alpha-one",
                 "fig-trained-entropy", "fig-trained-shared", "fig-trained-llmfao"):
        assert "image/png" in glued[name]
