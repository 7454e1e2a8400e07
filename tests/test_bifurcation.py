"""dynamics.bifurcation: the softmax forms, Kuznetsov's coefficient, the 3-cycle's closed form; and the
oscillation chapter's new checks at full size, with the mutants they catch."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from prefalign import dynamics, preferences
from prefalign.checks import oscillation
from prefalign.dynamics import bifurcation


def test_softmax_forms_against_differences_of_softmax():
    rng = np.random.default_rng(1)
    for K in (2, 3, 5):
        y = rng.normal(size=K)
        pi = softmax(y)
        h, k, l = rng.normal(size=(3, K))
        e = 1e-3
        second = sum(s * t * softmax(y + e * (s * h + t * k)) for s in (1, -1) for t in (1, -1)) / (4 * e**2)
        e = 2e-3
        third = sum(s * t * u * softmax(y + e * (s * h + t * k + u * l))
                    for s in (1, -1) for t in (1, -1) for u in (1, -1)) / (8 * e**3)
        np.testing.assert_allclose(bifurcation.softmax_second(pi, h, k), second, atol=2e-6)
        np.testing.assert_allclose(bifurcation.softmax_third(pi, h, k, l), third, atol=2e-5)


def test_softmax_forms_are_symmetric_and_complex_multilinear():
    rng = np.random.default_rng(2)
    pi = rng.dirichlet(np.ones(4))
    h, k, l = rng.normal(size=(3, 4)) + 1j * rng.normal(size=(3, 4))
    np.testing.assert_allclose(bifurcation.softmax_second(pi, h, k), bifurcation.softmax_second(pi, k, h), atol=1e-15)
    np.testing.assert_allclose(bifurcation.softmax_third(pi, h, k, l), bifurcation.softmax_third(pi, l, h, k), atol=1e-15)
    np.testing.assert_allclose(bifurcation.softmax_second(pi, 2j * h, k), 2j * bifurcation.softmax_second(pi, h, k),
                               atol=1e-15)
    assert abs(bifurcation.softmax_second(pi, h, k).sum()) < 1e-15  # the simplex is preserved: Σ D²σ = 0


@pytest.mark.parametrize("a", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("alpha", [0.0, 0.2, 0.5, 0.8, 0.95])
def test_cycle_coefficient_matches_kuznetsov(a, alpha):
    g = float(dynamics.oscillation_boundary(a, alpha))
    ns = bifurcation.neimark_sacker(preferences.cyclic(a), alpha=alpha, beta=2 * g, lam=0.5)  # only βλ matters
    assert ns.modulus == pytest.approx(1.0, abs=1e-12)
    assert ns.angle == pytest.approx(np.arccos(alpha), abs=1e-12)
    assert ns.lyapunov == pytest.approx(-(1 - alpha**2) / 4, abs=1e-12)
    assert float(bifurcation.cycle_lyapunov_coefficient(alpha)) == -(1 - alpha**2) / 4


def test_coefficient_does_not_depend_on_the_labels():
    rng = np.random.default_rng(4)
    P = preferences.random_cyclic(4, rng)
    ref = rng.dirichlet(np.ones(4))
    order = np.array([2, 0, 3, 1])
    one = bifurcation.neimark_sacker(P, alpha=0.3, beta=6.0, lam=0.8, ref=ref)
    two = bifurcation.neimark_sacker(P[np.ix_(order, order)], alpha=0.3, beta=6.0, lam=0.8, ref=ref[order])
    assert two.multiplier == pytest.approx(one.multiplier, abs=1e-10)
    assert two.lyapunov == pytest.approx(one.lyapunov, abs=1e-10)
    assert np.linalg.norm(one.eigenvector) == pytest.approx(1.0) and abs(one.eigenvector.sum()) < 1e-12


def test_circle_radius_by_plain_numpy_iteration():
    # the theorem's amplitude, against the map iterated here in plain numpy (no prefalign engine)
    a, alpha, excess = 0.4, 0.5, 2e-3
    rho = 1 + excess
    g = np.sqrt(3 * (rho**2 - alpha**2)) / a
    A = preferences.cyclic(a) - 0.5
    predicted = float(bifurcation.circle_rms_radius(rho, bifurcation.cycle_lyapunov_coefficient(alpha)))
    assert predicted == pytest.approx(np.sqrt(8 * excess / (1 - alpha**2)), rel=1e-14)
    y = np.array([1.0, -1.0, 0.0]) * predicted / np.sqrt(2)
    squares = []
    for t in range(12000):
        y = alpha * y + g * A @ np.exp(y - logsumexp(y))
        y = y - y.mean()
        if t >= 6000:
            squares.append(y @ y)
    assert np.sqrt(np.mean(squares)) == pytest.approx(predicted, rel=2e-3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="K >= 3"):
        bifurcation.neimark_sacker(preferences.bradley_terry([1.0, 0.0]), alpha=0.2, beta=1.0, lam=1.0)
    with pytest.raises(ValueError, match="is real"):  # additive P: nothing rotates
        bifurcation.neimark_sacker(preferences.linear([0.2, 0.0, -0.1]), alpha=0.2, beta=1.0, lam=1.0)
    with pytest.raises(ValueError, match="scalars"):
        bifurcation.neimark_sacker(preferences.cyclic(0.3), alpha=[0.1, 0.2], beta=1.0, lam=1.0)
    with pytest.raises(ValueError, match="alpha must be < 1"):
        bifurcation.cycle_lyapunov_coefficient(1.0)
    with pytest.raises(ValueError, match="rho must be >= 1"):
        bifurcation.circle_rms_radius(0.9, -0.1)
    with pytest.raises(ValueError, match="lyapunov must be < 0"):
        bifurcation.circle_rms_radius(1.1, 0.1)


# --------------------------------------------------------------------------- the chapter's new checks


NEW_CHECKS = ["unstable_runs_never_converge", "contracting_runs_converge", "lyapunov_coefficient_closed_form",
              "round_derivatives_match_finite_differences", "circle_amplitude_matches_normal_form", "circle_amplitude_slope"]


@pytest.mark.parametrize("name", NEW_CHECKS)
def test_new_checks_pass_at_full_size(name):
    result = getattr(oscillation, name)(fast=False)
    assert result.passed, result.compared
    assert result.against is not None


def test_instability_check_catches_a_wrong_spectral_radius(monkeypatch):
    # mutant: the spectral radius inflated by half; problems whose fixed point is stable then count as
    # unstable, their runs converge, and the check fails
    true_radius = dynamics.spectral_radius
    monkeypatch.setattr(dynamics, "spectral_radius", lambda *args, **kw: 1.5 * true_radius(*args, **kw))
    oscillation.instability_runs.cache_clear()
    try:
        assert not oscillation.unstable_runs_never_converge(fast=True).passed
    finally:
        oscillation.instability_runs.cache_clear()


def test_normal_form_checks_catch_a_missing_quadratic_term(monkeypatch):
    # mutant: the closed form without the |g02|² contribution, ℓ₁ = -(1 - α²)/6
    monkeypatch.setattr(bifurcation, "cycle_lyapunov_coefficient", lambda alpha: -(1 - np.asarray(alpha) ** 2) / 6)
    oscillation.circle_runs.cache_clear()
    try:
        assert not oscillation.lyapunov_coefficient_closed_form(fast=True).passed
        assert not oscillation.circle_amplitude_matches_normal_form(fast=True).passed
    finally:
        oscillation.circle_runs.cache_clear()


def test_checks_catch_a_wrong_third_derivative(monkeypatch):
    # mutant: the third cumulant dropped from D³σ. Its term is a multiple of π, which A annihilates at the
    # uniform point of P_a, so the closed-form check cannot see it; the finite differences (general P) do
    def third(pi, h, k, l):
        p = np.asarray(pi)
        hc, kc, lc = (np.asarray(x) - np.sum(p * np.asarray(x), axis=-1, keepdims=True) for x in (h, k, l))
        m = lambda x: np.sum(p * x, axis=-1, keepdims=True)  # noqa: E731
        return p * (hc * kc * lc - hc * m(kc * lc) - kc * m(hc * lc) - lc * m(hc * kc))

    monkeypatch.setattr(bifurcation, "softmax_third", third)
    assert not oscillation.round_derivatives_match_finite_differences(fast=True).passed
