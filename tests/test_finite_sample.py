"""prefalign.finite_sample (noisy MRS-IPO) and prefalign.protocol (the paper's grid protocol)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from prefalign import dynamics, finite_sample, preferences, protocol

DETERMINISTIC = np.array([[0.5, 1.0, 0.0], [0.0, 0.5, 1.0], [1.0, 0.0, 0.5]])  # a 3-cycle with certain outcomes


def test_estimate_is_a_binomial_share_with_the_right_moments():
    P = preferences.cyclic(0.2)  # P[0, 1] = 0.7
    rng = np.random.default_rng(0)
    draws = finite_sample.estimate(P, 25, rng, size=(40_000,))
    assert draws.shape == (40_000, 3, 3)
    preferences.validate(draws)
    off = draws[:, ~np.eye(3, dtype=bool)] * 25
    assert np.all(np.isclose(off, np.round(off)))  # shares of 25 comparisons
    # E P̂ = P, Var P̂[0, 1] = 0.7 * 0.3 / 25 = 0.0084; 4 standard errors of the mean: 4 * sqrt(0.0084 / 40000) ≈ 0.0018
    assert draws[:, 0, 1].mean() == pytest.approx(0.7, abs=2e-3)
    assert draws[:, 0, 1].var() == pytest.approx(0.7 * 0.3 / 25, rel=0.05)
    np.testing.assert_array_equal(np.diagonal(draws, axis1=1, axis2=2), 0.5)


def test_deterministic_preferences_give_the_exact_dynamics_bit_for_bit():
    """With only 0 and 1 off the diagonal, every comparison has a certain outcome, so every estimate equals P."""
    noisy = finite_sample.simulate_noisy(DETERMINISTIC, alpha=0.3, beta=2.0, lam=0.8, n=7, steps=60,
                                         rng=np.random.default_rng(1), runs=3)
    exact = dynamics.simulate(DETERMINISTIC, alpha=0.3, beta=2.0, lam=0.8, steps=60)
    assert noisy.log_pi.shape == (3, 61, 3) and noisy.n == 7
    for run in noisy.log_pi:
        np.testing.assert_array_equal(run, exact.log_pi)


def test_noisy_runs_are_reproducible_independent_and_batched():
    P = preferences.cyclic(0.3)
    kwargs = dict(alpha=np.array([0.0, 0.5]), beta=5.0, lam=1.0, n=50, steps=30, runs=4)
    a = finite_sample.simulate_noisy(P, rng=np.random.default_rng(2), **kwargs)
    b = finite_sample.simulate_noisy(P, rng=np.random.default_rng(2), **kwargs)
    np.testing.assert_array_equal(a.log_pi, b.log_pi)
    assert a.log_pi.shape == (4, 2, 31, 3)
    assert not np.allclose(a.log_pi[0], a.log_pi[1])  # runs draw their own comparisons
    np.testing.assert_allclose(np.exp(a.log_pi).sum(axis=-1), 1.0, atol=1e-12)


def test_noisy_rounds_apply_the_exact_round_to_the_estimate():
    """Replay: the same generator state gives the estimate that the noisy round used."""
    P = preferences.cyclic(0.25)
    noisy = finite_sample.simulate_noisy(P, alpha=0.4, beta=3.0, lam=0.6, n=10, steps=1, rng=np.random.default_rng(3))
    P_hat = finite_sample.estimate(np.broadcast_to(P, (3, 3)), 10, np.random.default_rng(3), size=(1,))
    expected = dynamics.mrs_ipo_step(np.log(np.full(3, 1 / 3)), P_hat[0], alpha=0.4, beta=3.0, lam=0.6)
    np.testing.assert_array_equal(noisy.log_pi[0, 1], expected)


def test_noisy_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        finite_sample.simulate_noisy(DETERMINISTIC, alpha=0.5, beta=1.0, lam=1.0, n=0, steps=5, rng=rng)
    with pytest.raises(ValueError, match="runs must be >= 1"):
        finite_sample.simulate_noisy(DETERMINISTIC, alpha=0.5, beta=1.0, lam=1.0, n=3, steps=5, rng=rng, runs=0)
    with pytest.raises(ValueError, match="beta must be > 0"):
        finite_sample.simulate_noisy(DETERMINISTIC, alpha=0.5, beta=-1.0, lam=1.0, n=3, steps=5, rng=rng)
    with pytest.raises(ValueError, match="init must be strictly positive"):
        finite_sample.simulate_noisy(DETERMINISTIC, alpha=0.5, beta=1.0, lam=1.0, n=3, steps=5, rng=rng, init=[1.0, 0.0, 0.0])


@given(arrays(np.float64, (5, 40, 3), elements=st.floats(0.01, 1.0)))
def test_cycle_strength_of_the_average_is_at_most_the_average_cycle_strength(w):
    """The averaging lemma of the experiments chapter: V(mean of runs) <= mean of V(runs)."""
    pi = w / w.sum(axis=-1, keepdims=True)
    assert dynamics.cycle_strength(pi.mean(axis=0)) <= dynamics.cycle_strength(pi).mean() * (1 + 1e-12) + 1e-300


def test_averaging_lemma_equality_for_identical_centred_runs():
    t = np.arange(50)
    base = np.stack([1 / 3 + 0.1 * np.cos(t), 1 / 3 + 0.1 * np.sin(t), 1 / 3 - 0.1 * np.cos(t) - 0.1 * np.sin(t)], axis=-1)
    runs = np.stack([base, base])
    assert dynamics.cycle_strength(runs.mean(axis=0)) == pytest.approx(dynamics.cycle_strength(runs).mean(), rel=1e-12)
    # opposite phases cancel: the average of the two runs does not move at all
    opposite = np.stack([base, np.full_like(base, 2 / 3) - base])
    assert dynamics.cycle_strength(opposite.mean(axis=0)) == pytest.approx(0.0, abs=1e-30)


# --- the grid protocol ---------------------------------------------------------------------------


def test_phase_grid_matches_single_runs_and_theory():
    rng = np.random.default_rng(4)
    P = np.stack([preferences.cyclic(0.3), preferences.random_strongly_transitive(3, rng)])
    alphas, bl = np.array([0.0, 0.5, 1.0]), np.array([0.5, 8.0, 30.0])
    g = protocol.phase_grid(P, alphas, bl, steps=400)
    assert g.cycle_strength.shape == (2, 3, 3)
    one = dynamics.simulate(P[0], alpha=0.5, beta=30.0, lam=1.0, steps=400, record="last")
    assert g.cycle_strength[0, 1, 2] == one.cycle_strength and g.entropy[0, 1, 2] == one.entropy
    # theory: the contraction constant, the spectral radius at uniform for P_a (thm-osc-cycle)
    assert g.contraction[0, 1, 0] == pytest.approx(0.5 + 0.25 * np.linalg.norm(P[0] - 0.5, 2))
    assert g.spectral_radius[0, 1, 1] == pytest.approx(np.sqrt(dynamics.oscillation_threshold(0.3, 0.5, 8.0, 1.0)))
    assert np.all(np.isnan(g.spectral_radius[:, 2])) and np.all(np.isnan(g.fixed_point_distance[:, 2]))
    converged = g.contraction < 1
    assert converged.any() and np.all(g.fixed_point_distance[converged] < 1e-9)
    assert g.mean("entropy").shape == (3, 3)


def test_phase_grid_bad_input():
    with pytest.raises(ValueError, match=r"batch of matrices of shape \(M, K, K\)"):
        protocol.phase_grid(preferences.cyclic(0.2), [0.0], [1.0], steps=5)
    with pytest.raises(ValueError, match="1-D grids"):
        protocol.phase_grid(preferences.cyclic(0.2)[None], [[0.0]], [1.0], steps=5)
    with pytest.raises(ValueError, match="alphas must lie in"):
        protocol.phase_grid(preferences.cyclic(0.2)[None], [1.5], [1.0], steps=5)


def test_contraction_boundary_is_where_the_bound_equals_one():
    P = np.stack([preferences.cyclic(0.3), preferences.bradley_terry([1.0, 0.0, -2.0])])
    alphas = np.array([0.0, 0.4, 0.9])
    bl = protocol.contraction_boundary(P, alphas)
    assert bl.shape == (2, 3)
    q = dynamics.contraction_bound(P[:, None], alphas[None, :], bl, 1.0)
    np.testing.assert_allclose(q, 1.0, rtol=1e-14)
    with pytest.raises(ValueError, match="all-ties"):
        protocol.contraction_boundary(np.full((3, 3), 0.5), alphas)


def test_instability_onset_on_the_three_cycle_is_the_cyclic_chapters_threshold():
    # P_a: the fixed point is uniform, so the onset is βλ = √(3(1 − α²))/a (thm-osc-cycle)
    for alpha in (0.0, 0.6):
        onset = protocol.instability_onset(preferences.cyclic(0.3), alpha, 0.5, 100.0)
        assert onset == pytest.approx(float(dynamics.oscillation_boundary(0.3, alpha)), rel=1e-9)
    with pytest.raises(ValueError, match="must cross 1 between low = 0.5 and high = 1"):
        protocol.instability_onset(preferences.cyclic(0.3), 0.0, 0.5, 1.0)
