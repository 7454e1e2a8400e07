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
    assert glued["covariance_max"] <= 0.5 + 1e-12 and glued["lipschitz_ratio"] <= 1 and glued["convergence_ratio"] <= 1
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


def test_coexistence_numbers(glued):
    assert glued["coex_alpha"] == 0.2 and glued["coex_signal"] == 50.0 and glued["coex_period"] == 5
    assert glued["coex_rho_star"] < 1 and glued["coex_rho_orbit"] < glued["coex_rho_star"]
    assert glued["coex_residual"] < 1e-12 and glued["coex_orbit_distance"] < 1e-9
    # every random start ends at one of the two attractors, and each attracts a sizeable share
    assert glued["coex_star_share"] + glued["coex_orbit_share"] == pytest.approx(100.0)
    assert min(glued["coex_star_share"], glued["coex_orbit_share"]) >= glued["basin_min_share"]
    # the basin slice: basin_n = 30 gives the interior lattice points, C(29, 2) = 406
    assert glued["basin_points"] == 406 and glued["basin_neither"] == 0
    assert glued["basin_star_share"] + glued["basin_orbit_share"] == pytest.approx(100.0)
    assert "image/png" in glued["fig-basins"]


def test_coexistence_at_alpha_zero(glued):
    # the best-reply chain 4 -> {1, 2, 4} -> 2 -> 3 -> 4 has period 4 when the anchor plays no role
    assert glued["alpha0_period"] == 4 and glued["alpha0_rho_orbit"] < 1e-3
    assert glued["alpha0_rho_star"] == pytest.approx(0.6984, abs=1e-3)  # the experiments chapter's 0.698
    assert 0 < glued["alpha0_star_share"] < 50
    assert glued["alpha_large_converged"] == glued["alpha0_starts"]


def test_conjecture_evidence(glued):
    from prefalign.checks.stability import CONJECTURE_STARTS, CYCLE_GRID, CYCLE_MARGINS, CYCLE_RHO

    assert glued["cycle_failures"] == 0 and glued["region_failures"] == 0
    # fast: a third of the grid, a fifth of the starts; settings with rho > alpha + 0.01 only
    alpha, rho = np.meshgrid(np.linspace(0, 0.99, CYCLE_GRID[0] // 3), np.linspace(*CYCLE_RHO, CYCLE_GRID[1] // 3),
                             indexing="ij")
    settings = int(np.sum(rho > alpha + 0.01)) * len(CYCLE_MARGINS)
    assert glued["cycle_settings"] == settings and glued["cycle_runs"] == settings * (CONJECTURE_STARTS // 5)
    assert glued["cycle_worst"] < 1e-6 and glued["region_worst"] < 1e-6
