"""prefalign.relaxation: the share s, the relaxed threshold, the trained Jacobian, and checks that catch mutants."""

import numpy as np
import pytest

from prefalign import dynamics, preferences, relaxation, trained
from prefalign.checks import trained as trained_checks


def test_share_and_step_size_are_inverse():
    h = relaxation.curvature_at_uniform(3)
    assert h == pytest.approx(4 / 3)
    for s in (0.05, 0.5, 1.0):
        for k in (1, 4):
            assert relaxation.relaxation_weight(relaxation.lr_for_relaxation(s, k, h), k, h) == pytest.approx(s, rel=1e-12)
    with pytest.raises(ValueError, match="lr \\* curvature must be < 2"):
        relaxation.relaxation_weight(2.0, 1, h)
    with pytest.raises(ValueError, match=r"s must lie in \(0, 1\]"):
        relaxation.lr_for_relaxation(1.5, 1, h)


@pytest.mark.parametrize("K", [3, 5])
def test_curvature_is_the_hessian_at_a_uniform_sampler(K):
    P = preferences.random_preference_matrix(K, np.random.default_rng(K))
    W = trained.expected_weights(P, np.full(K, 1 / K))
    Pi = np.eye(K) - 1 / K
    assert np.abs(trained.pair_hessian(np.zeros(K), W, 0.7, "ipo") - relaxation.curvature_at_uniform(K) * Pi).max() < 1e-15
    dpo_h = relaxation.curvature_at_uniform(K, "dpo", 0.7)
    assert dpo_h == pytest.approx(1 / (2 * K * 0.49))
    assert np.abs(trained.pair_hessian(np.zeros(K), W, 0.7, "dpo") - dpo_h * Pi).max() < 1e-14
    with pytest.raises(ValueError, match="beta plays no role"):
        relaxation.curvature_at_uniform(K, "ipo", 1.0)
    with pytest.raises(ValueError, match="beta is required"):
        relaxation.curvature_at_uniform(K, "dpo")


def test_the_leads_two_examples_by_hand():
    # P_0.3: sigma = beta*lambda*a/sqrt(3); s_max = 2(1-alpha)/((1-alpha)^2 + sigma^2)
    assert float(relaxation.max_relaxation(0.2, relaxation.cycle_signal(0.3, 6.0, 1.0))) == pytest.approx(1.6 / 1.72)
    assert float(relaxation.max_relaxation(0.5, relaxation.cycle_signal(0.3, 8.0, 1.0))) == pytest.approx(1.0 / 2.17)
    assert float(relaxation.max_relaxation(1.0, 0.3)) == 0.0


def test_radius_threshold_and_boundary_agree():
    alpha = np.linspace(0.0, 0.99, 12)[:, None]
    s = np.array([0.1, 0.4, 1.0])[None, :]
    sigma = relaxation.max_signal(alpha, s)
    assert np.abs(relaxation.relaxed_radius(alpha, sigma, s) - 1).max() < 1e-12
    assert np.abs(relaxation.relaxed_radius(alpha, 1.0, relaxation.max_relaxation(alpha, 1.0)) - 1).max() < 1e-12
    # at s = 1 everything is the exact round's
    assert np.allclose(relaxation.cycle_boundary(0.3, alpha[:, 0], 1.0), dynamics.oscillation_boundary(0.3, alpha[:, 0]))
    assert np.allclose(relaxation.relaxed_radius(alpha, relaxation.cycle_signal(0.3, 7.0, 0.9), 1.0),
                       dynamics.uniform_spectral_radius(0.3, alpha, 7.0, 0.9))
    assert np.allclose(relaxation.cycle_boundary(0.3, 0.5, 1.0, "dpo"), dynamics.oscillation_boundary(0.3, 0.5, "dpo"))


def test_trained_jacobian_refuses_points_that_are_not_fixed():
    P = preferences.cyclic(0.3)
    with pytest.raises(ValueError, match="log_pi must be a fixed point of the exact round"):
        relaxation.trained_jacobian(np.log([0.5, 0.3, 0.2]), P, alpha=0.5, beta=2.0, lam=1.0, lr=0.1, grad_steps=2)


def test_trained_jacobian_at_uniform_is_the_relaxation():
    P = preferences.cyclic(0.3)
    u = np.full(3, -np.log(3))
    J = relaxation.trained_jacobian(u, P, alpha=0.4, beta=5.0, lam=1.0, lr=0.2, grad_steps=3)
    s = relaxation.relaxation_weight(0.2, 3, relaxation.curvature_at_uniform(3))
    Q = dynamics.perp_basis(3)
    exact = dynamics.quotient_jacobian(u, P, alpha=0.4, beta=5.0, lam=1.0)
    assert np.abs(Q.T @ J @ Q - ((1 - s) * np.eye(2) + s * exact)).max() < 1e-14


def test_onpolicy_certificate_bounds_the_radius_and_falls_below_one():
    rng = np.random.default_rng(3)
    P = preferences.random_preference_matrix(4, rng)
    lp = dynamics.fixed_point(P, alpha=0.3, beta=20.0, lam=1.0)
    assert dynamics.spectral_radius(lp, P, alpha=0.3, beta=20.0, lam=1.0) > 1
    for lr in (0.5, 0.05, 0.005, 0.0005):
        bound = float(relaxation.onpolicy_certificate(lp, P, alpha=0.3, beta=20.0, lr=lr, grad_steps=2))
        rho = float(relaxation.trained_spectral_radius(lp, P, alpha=0.3, beta=20.0, lam=1.0, lr=lr, grad_steps=2))
        assert rho**2 <= bound + 1e-12
    assert bound < 1


def test_the_fate_check_catches_a_threshold_without_s_on_the_signal(monkeypatch):
    assert trained_checks.relaxed_fates_on_cycle(fast=True).passed

    def wrong(alpha, signal, s):  # forgets that the rotation shrinks with s
        return np.sqrt((1 - s * (1 - np.asarray(alpha))) ** 2 + np.asarray(signal) ** 2)

    monkeypatch.setattr(relaxation, "relaxed_radius", wrong)
    assert not trained_checks.relaxed_fates_on_cycle(fast=True).passed


def test_the_jacobian_check_catches_m_plus_j(monkeypatch):
    assert trained_checks.trained_jacobian_ipo(fast=True).passed

    def wrong(log_pi, P, *, alpha, beta, lam, lr, grad_steps, loss="ipo", ref=None, pi0=None, tol=1e-8):
        K = P.shape[-1]
        mu = lam * np.exp(log_pi) + (1 - lam) * (np.full(K, 1 / K) if pi0 is None else pi0)
        x = (1 - alpha) * (log_pi - (np.full(K, -np.log(K)) if ref is None else np.log(ref)))
        H = trained.pair_hessian(x, trained.expected_weights(P, mu), beta, loss)
        M = np.linalg.matrix_power(np.eye(K) - lr * H, grad_steps)
        return M + dynamics.jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, method=loss, pi0=pi0)

    monkeypatch.setattr(relaxation, "trained_jacobian", wrong)
    assert not trained_checks.trained_jacobian_ipo(fast=True).passed


def test_the_unbiasedness_check_catches_labels_from_the_transpose(monkeypatch):
    from prefalign.trained import pairs

    original = pairs._draw
    monkeypatch.setattr(pairs, "_draw", lambda W, n, rng: original(W.swapaxes(0, 1), n, rng))
    assert not trained_checks.sgd_round_unbiased(fast=True).passed
