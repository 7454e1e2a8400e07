"""dynamics.periodic_orbit, and the stability chapter's coexistence and conjecture checks at full size,
with mutants they catch."""

import numpy as np
import pytest

from prefalign import dynamics, preferences
from prefalign.checks import stability


def test_a_fixed_point_is_an_orbit_of_period_one():
    rng = np.random.default_rng(1)
    P = preferences.random_cyclic(4, rng)
    args = dict(alpha=0.3, beta=4.0, lam=0.8, ref=rng.dirichlet(np.ones(4)), pi0=rng.dirichlet(np.ones(4)))
    star = dynamics.fixed_point(P, **args)
    near = star + np.array([1e-3, -1e-3, 0.0, 0.0])
    orbit = dynamics.periodic_orbit(P, near - np.log(np.exp(near).sum()), 1, **args)
    assert orbit.period == 1 and orbit.residual < 1e-13
    assert dynamics.logit_distance(orbit.log_pi[0], star) < 1e-10
    rho = dynamics.spectral_radius(star, P, alpha=0.3, beta=4.0, lam=0.8)
    assert orbit.spectral_radius == pytest.approx(float(rho), rel=1e-9)


def test_the_coexistence_orbit():
    P = stability.coexistence_matrix()
    args = dict(alpha=stability.COEXISTENCE_ALPHA, beta=stability.COEXISTENCE_SIGNAL, lam=1.0)
    # the matrix of the text: σ(L) with the integer score differences typed here by hand
    L = np.array([[0, -1, 1, 0], [1, 0, -1, 0], [-1, 1, 0, -3], [0, 0, 3, 0]], dtype=float)
    np.testing.assert_allclose(P, 1 / (1 + np.exp(-L)), atol=1e-15)
    start = dynamics.simulate(P, steps=50, record="last", **args).final_log_pi
    orbit = dynamics.periodic_orbit(P, start, stability.COEXISTENCE_PERIOD, **args)
    assert orbit.residual < 1e-12 and orbit.spectral_radius < 0.1
    # the points are distinct, and one round maps each to the next
    gaps = [dynamics.logit_distance(orbit.log_pi[i], orbit.log_pi[j]) for i in range(5) for j in range(i)]
    assert min(gaps) > 1.0
    step = dynamics.mrs_ipo_step(orbit.log_pi, P, **args)
    assert np.max(dynamics.logit_distance(step, np.roll(orbit.log_pi, -1, axis=0))) < 1e-11
    assert orbit.distance(orbit.log_pi[2]) == 0.0


def test_bad_arguments():
    P = stability.coexistence_matrix()
    args = dict(alpha=0.2, beta=50.0, lam=1.0)
    with pytest.raises(ValueError, match="start must be one log-policy"):
        dynamics.periodic_orbit(P, np.log(np.full((2, 4), 0.25)), 5, **args)
    with pytest.raises(ValueError, match="period"):
        dynamics.periodic_orbit(P, np.log(np.full(4, 0.25)), 0, **args)
    with pytest.raises(RuntimeError, match="did not converge"):
        dynamics.periodic_orbit(P, np.log([0.1, 0.2, 0.3, 0.4]), 5, max_iter=2, **args)


NEW_CHECKS = ["coexistence_certificate", "coexistence_orbit_matches_simulation", "coexistence_basins",
              "conjecture_cycle_global_convergence", "conjecture_quadratic_region"]


@pytest.mark.parametrize("name", NEW_CHECKS)
def test_new_checks_pass_at_full_size(name):
    result = getattr(stability, name)(fast=False)
    assert result.passed, result.compared
    assert result.against is not None


def test_coexistence_checks_catch_a_wrong_fixed_point(monkeypatch):
    # mutant: the fixed-point solver returns the uniform policy; the basin of "the fixed point" is then empty
    monkeypatch.setattr(dynamics, "fixed_point", lambda P, **kw: np.log(np.full(P.shape[-1], 1.0 / P.shape[-1])))
    stability.coexistence_attractors.cache_clear()
    try:
        assert not stability.coexistence_basins(fast=True).passed
    finally:
        stability.coexistence_attractors.cache_clear()


def test_conjecture_check_fails_where_the_conjecture_is_false(monkeypatch):
    # beyond the threshold of P_a no start converges (thm-osc-cycle): feeding the check settings with ρ > 1
    # must produce failures, so a passing check is not vacuous
    monkeypatch.setattr(stability, "CYCLE_RHO", (1.05, 1.3))
    result = stability.conjecture_cycle_global_convergence(fast=True)
    assert not result.passed and result.measured == result.details["runs"]
