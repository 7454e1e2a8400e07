"""Chapter 'Stability and entropy collapse' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import expit

SCORES = np.array([2.0, 1.0, 0.5, 0.0])  # the chapter's Bradley–Terry example


def margins() -> np.ndarray:
    # δ_j = min_k (σ(s_1 - s_k) - σ(s_j - s_k)), j = 2..4, from the scores alone
    P = expit(SCORES[:, None] - SCORES[None, :])
    return np.array([np.min(P[0] - P[j]) for j in range(1, 4)])


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("stability")


def test_checks_glued(glued):
    assert glued["covariance_max"] <= 0.5 and glued["lipschitz_ratio"] <= 1 and glued["convergence_ratio"] <= 1
    assert glued["area_ratio"] == pytest.approx(4 / (3 * np.pi), abs=0.01)
    assert glued["kappa_spread"] < 1e-9 and glued["collapse_ratio"] <= 1 and glued["hedge_violations"] == 0
    assert glued["phase_points"] == 900 and 0 < glued["phase_converged"] <= 900  # fast: 30 x 30 grid, 600 rounds


def test_regions_by_hand(glued):
    # a = 0.3: contraction needs beta*lambda < 2/(sqrt(3) a) at alpha = 0, local stability sqrt(3)/a
    assert glued["contraction_at_alpha0"] == pytest.approx(2 / (np.sqrt(3) * 0.3), rel=1e-14)
    assert glued["stable_at_alpha0"] == pytest.approx(np.sqrt(3) / 0.3, rel=1e-14)


def test_margins_and_the_99_percent_exercise(glued):
    d = margins()
    assert glued["delta_min"] == pytest.approx(d.min(), rel=1e-12) and glued["delta_max"] == pytest.approx(d.max(), rel=1e-12)
    # the bound: Σ_j exp(-κ δ_j) = 0.01 (uniform reference)
    assert glued["kappa_99_bound"] == pytest.approx(brentq(lambda k: np.exp(-k * d).sum() - 0.01, 0, 1e3), rel=1e-6)
    # the exact κ: iterate the α = 0.9 map, whose fixed point is that of κ (λ = 1), by plain numpy
    kappa = glued["kappa_99_exact"]
    P = expit(SCORES[:, None] - SCORES[None, :])
    z = np.zeros(4)
    for _ in range(5000):
        pi = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
        z = 0.9 * z + 0.1 * kappa * P @ pi
    pi = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert 1 - pi[0] == pytest.approx(0.01, rel=1e-6)
    assert glued["kappa_99_exact"] < glued["kappa_99_bound"]


def test_hedge_example(glued):
    d = margins()
    start = np.array([0.005, 0.005, 0.01, 0.98])
    eps = 0.5 * min(np.exp(-1), 1 / 3)
    bound = np.max(np.ceil(np.log(start[1:] / (eps * start[0])) / (0.5 * d)))
    assert glued["hedge_t0"] <= bound
    assert glued["hedge_peak_entropy"] > glued["hedge_start_entropy"]  # the entropy rises first
    assert glued["hedge_peak_round"] < glued["hedge_t0"]


def test_lambda_figure(glued):
    assert glued["lambda_monotone"] == "decreases"
    assert 0 < glued["lambda_drop_low"] < glued["lambda_drop_mid"] < glued["lambda_drop_high"] < 100


def test_figures_are_glued_as_png(glued):
    for name in ("fig-regions", "fig-entropy-kappa", "fig-phase", "fig-hedge", "fig-lambda"):
        assert "image/png" in glued[name]
