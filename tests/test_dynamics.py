import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import logsumexp

from prefalign import dpo, dynamics, ipo, preferences, simplex

from strategies import contraction_problems, distributions, preference_matrices

UNIFORM3 = np.log(np.full(3, 1 / 3))


def test_one_round_by_hand():
    # P_{1/4}, alpha = 1/2, beta = 2, lam = 1/2, uniform ref and pi0, pi_t = (1/2, 1/4, 1/4):
    # mu = (5/12, 7/24, 7/24); P mu = (12/24, 11.25/24, 12.75/24) = (0.5, 0.46875, 0.53125);
    # pi_{t+1} ∝ pi_t^(1/2) exp(2 P mu) = (√0.5 e^1, 0.5 e^0.9375, 0.5 e^1.0625)
    out = dynamics.mrs_ipo_step(np.log([0.5, 0.25, 0.25]), preferences.cyclic(0.25), alpha=0.5, beta=2.0, lam=0.5)
    w = np.array([np.sqrt(0.5) * np.e, 0.5 * np.exp(0.9375), 0.5 * np.exp(1.0625)])
    np.testing.assert_allclose(out, np.log(w / w.sum()), rtol=0, atol=1e-15)


def test_round_is_the_ipo_optimum_with_mixed_reference_and_sampler():
    rng = np.random.default_rng(0)
    P = preferences.random_preference_matrix(5, rng)
    pi, ref, pi0 = rng.dirichlet(np.ones(5), size=3)
    out = dynamics.mrs_ipo_step(np.log(pi), P, alpha=0.3, beta=4.0, lam=0.6, ref=ref, pi0=pi0)
    reference = pi**0.3 * ref**0.7
    expected = ipo.ipo_optimum(P, 0.6 * pi + 0.4 * pi0, reference / reference.sum(), 4.0)
    np.testing.assert_allclose(out, np.log(expected), rtol=0, atol=1e-14)


def test_batch_equals_each_trajectory_exactly():
    rng = np.random.default_rng(1)
    P = np.stack([preferences.random_preference_matrix(4, rng) for _ in range(3)])[:, None, None]
    alpha = np.array([0.0, 0.5, 1.0])[:, None]
    beta = np.array([0.5, 3.0, 20.0, 60.0])
    init = rng.dirichlet(np.ones(4), size=3)[:, None, None]
    batch = dynamics.simulate(P, alpha=alpha, beta=beta, lam=0.7, init=init, steps=200, record=9)
    assert batch.log_pi.shape == (3, 3, 4, len(batch.t), 4)
    for i, j, k in np.ndindex(3, 3, 4):
        one = dynamics.simulate(P[i, 0, 0], alpha=alpha[j, 0], beta=beta[k], lam=0.7, init=init[i, 0, 0], steps=200, record=9)
        np.testing.assert_array_equal(batch.log_pi[i, j, k], one.log_pi)
        assert batch.cycle_strength[i, j, k] == one.cycle_strength
        assert batch.entropy[i, j, k] == one.entropy and batch.last_move[i, j, k] == one.last_move


def test_chunking_does_not_change_a_single_bit(monkeypatch):
    alpha, beta = np.linspace(0, 1, 7)[:, None], np.linspace(0.5, 12, 5)
    whole = dynamics.simulate(preferences.cyclic(0.4), alpha=alpha, beta=beta, lam=1.0, init=[0.5, 0.3, 0.2], steps=50)
    monkeypatch.setattr(dynamics.engine, "_CHUNK_ENTRIES", 12)  # 4 trajectories per chunk
    chunked = dynamics.simulate(preferences.cyclic(0.4), alpha=alpha, beta=beta, lam=1.0, init=[0.5, 0.3, 0.2], steps=50)
    np.testing.assert_array_equal(whole.log_pi, chunked.log_pi)
    np.testing.assert_array_equal(whole.cycle_strength, chunked.cycle_strength)


def test_simulate_equals_repeated_steps():
    rng = np.random.default_rng(2)
    P, kw = preferences.random_preference_matrix(3, rng), {"alpha": 0.4, "beta": 5.0, "lam": 0.8, "ref": [0.2, 0.3, 0.5]}
    run = dynamics.simulate(P, init=[0.6, 0.3, 0.1], pi0=[0.1, 0.1, 0.8], steps=30, **kw)
    lp = np.log([0.6, 0.3, 0.1])
    for t in range(1, 31):
        lp = dynamics.mrs_ipo_step(lp, P, pi0=[0.1, 0.1, 0.8], **kw)
        np.testing.assert_allclose(run.log_pi[t], lp, rtol=0, atol=1e-13)


def test_record_modes_and_online_summaries():
    P = preferences.cyclic(0.4)
    full = dynamics.simulate(P, alpha=0.5, beta=12.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=20, burn_in=5)
    assert full.log_pi.shape == (21, 3) and full.t.tolist() == list(range(21))
    every = dynamics.simulate(P, alpha=0.5, beta=12.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=20, record=7, burn_in=5)
    assert every.t.tolist() == [0, 7, 14, 20]
    np.testing.assert_array_equal(every.log_pi, full.log_pi[[0, 7, 14, 20]])
    last = dynamics.simulate(P, alpha=0.5, beta=12.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=20, record="last", burn_in=5)
    assert last.log_pi.shape == (1, 3) and last.t.tolist() == [20]
    np.testing.assert_array_equal(last.final_log_pi, full.final_log_pi)
    assert last.cycle_strength == pytest.approx(float(dynamics.cycle_strength(full.pi, 5)), rel=1e-12)
    assert last.entropy == pytest.approx(float(simplex.entropy(full.pi[-1])), rel=1e-12)
    assert last.last_move == pytest.approx(float(dynamics.logit_distance(full.log_pi[-1], full.log_pi[-2])), rel=1e-12)


def test_init_defaults_to_pi0():
    P = preferences.cyclic(0.2)
    run = dynamics.simulate(P, alpha=0.5, beta=1.0, lam=0.5, pi0=[0.5, 0.25, 0.25], steps=1)
    np.testing.assert_allclose(run.pi[0], [0.5, 0.25, 0.25], rtol=1e-15)


def test_collapsed_policies_stay_exact_and_finite():
    # Hedge self-play on the cycle spirals to the boundary: log-probabilities far below log(1e-300)
    run = dynamics.simulate(preferences.cyclic(0.5), alpha=1.0, beta=20.0, lam=1.0, init=[0.4, 0.3, 0.3], steps=3000)
    assert np.isfinite(run.log_pi).all() and run.log_pi.min() < np.log(1e-300)
    assert 0 < run.entropy < 1e-100
    # on a strongly transitive matrix the policy collapses onto response 0; the entropy is 0, not NaN
    sst = dynamics.simulate(preferences.bradley_terry([3.0, 0.0, -3.0]), alpha=1.0, beta=50.0, lam=1.0, steps=3000, record="last")
    # once π ≈ e_0, response 2 loses β(½ − σ(−6)) ≈ 24.9 nats per round: about −7.5e4 after 3000 rounds
    assert sst.final_log_pi[0] == 0.0 and sst.final_log_pi[2] < -7e4 and sst.entropy == 0.0


def test_fixed_point_solves_its_equation():
    rng = np.random.default_rng(3)
    P = np.stack([preferences.random_preference_matrix(5, rng) for _ in range(20)])
    alpha, beta, lam = rng.uniform(0, 0.99, 20), np.exp(rng.uniform(-2, 4, 20)), rng.uniform(0, 1, 20)
    ref, pi0 = rng.dirichlet(np.ones(5), size=20), rng.dirichlet(np.ones(5), size=20)
    lp = dynamics.fixed_point(P, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
    # log π = log π_ref + β/(1-α) P (λπ + (1-λ)π_0) + c: the residual is constant across responses
    pi = np.exp(lp)
    mu = lam[:, None] * pi + (1 - lam[:, None]) * pi0
    r = lp - np.log(ref) - (beta / (1 - alpha))[:, None] * np.einsum("nij,nj->ni", P, mu)
    assert np.max(np.ptp(r, axis=-1) / (1 + np.abs(lp).max(axis=-1))) < 1e-11


def test_fixed_point_at_alpha_zero_is_the_on_policy_optimum():
    rng = np.random.default_rng(4)
    P, ref = preferences.random_preference_matrix(4, rng), rng.dirichlet(np.ones(4))
    lp = dynamics.fixed_point(P, alpha=0.0, beta=7.0, lam=1.0, ref=ref)
    z = np.log(ref) + 7.0 * P @ np.exp(lp)
    np.testing.assert_allclose(lp, z - logsumexp(z), rtol=0, atol=1e-12)


def test_fixed_point_of_the_cycle_is_uniform_and_kappa_invariant():
    np.testing.assert_allclose(dynamics.fixed_point(preferences.cyclic(0.4), alpha=0.7, beta=30.0, lam=1.0), UNIFORM3, atol=1e-15)
    P = preferences.bradley_terry([1.0, 0.0, -0.5])
    a = dynamics.fixed_point(P, alpha=0.0, beta=3.0, lam=1.0)
    b = dynamics.fixed_point(P, alpha=0.75, beta=0.75, lam=1.0)  # same κ = 3
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)


def test_fixed_point_large_kappa_near_a_vertex():
    P = preferences.bradley_terry([2.0, 1.0, 0.5, 0.0])
    lp = dynamics.fixed_point(P, alpha=0.99, beta=50.0, lam=1.0)  # κ = 5000
    assert lp[0] > -1e-300 and lp[1:].max() < -1000 and np.isfinite(lp).all()


def test_fixed_point_reports_non_convergence():
    with pytest.raises(RuntimeError, match=r"fixed_point did not converge: Newton fails at batch index \[\] .*kappa = 1e\+04"):
        dynamics.fixed_point(preferences.random_preference_matrix(6, np.random.default_rng(5)), alpha=0.0, beta=1e4, lam=1.0,
                             max_iter=1)


def test_jacobian_equals_finite_differences():
    rng = np.random.default_rng(6)
    P, lp = preferences.random_preference_matrix(4, rng), np.log(rng.dirichlet(np.ones(4)))
    kw = {"alpha": 0.3, "beta": 2.5, "lam": 0.8}
    J = dynamics.jacobian(lp, P, **kw)
    center, h = np.eye(4) - 0.25, 1e-6
    for v in center.T:
        up, down = lp + h * v, lp - h * v
        fd = (dynamics.mrs_ipo_step(up - logsumexp(up), P, **kw) - dynamics.mrs_ipo_step(down - logsumexp(down), P, **kw)) / (2 * h)
        np.testing.assert_allclose(center @ fd, center @ J @ v, rtol=0, atol=1e-8)
    np.testing.assert_allclose(J @ np.ones(4), 0.3 * np.ones(4), atol=1e-15)  # J1 = α1


def test_uniform_linearisation_on_the_cycle_by_hand():
    # a = 0.3, α = 0.6, βλ = 2: eigenvalues 0.6 ± i 2·0.3/√3, modulus² = 0.36 + 0.12 = 0.48
    P = preferences.cyclic(0.3)
    eig = np.linalg.eigvals(dynamics.quotient_jacobian(UNIFORM3, P, alpha=0.6, beta=4.0, lam=0.5))
    np.testing.assert_allclose(sorted(eig.imag), [-0.6 / np.sqrt(3), 0.6 / np.sqrt(3)], atol=1e-15)
    np.testing.assert_allclose(eig.real, [0.6, 0.6], atol=1e-15)
    assert dynamics.spectral_radius(UNIFORM3, P, alpha=0.6, beta=4.0, lam=0.5) == pytest.approx(np.sqrt(0.48), rel=1e-14)
    assert dynamics.oscillation_threshold(0.3, 0.6, 4.0, 0.5) == pytest.approx(0.48, rel=1e-14)
    assert dynamics.uniform_spectral_radius(0.3, 0.6, 4.0, 0.5) == pytest.approx(np.sqrt(0.48), rel=1e-14)
    assert dynamics.uniform_rotation_angle(0.3, 0.6, 4.0, 0.5) == pytest.approx(np.arctan(1 / np.sqrt(3)), rel=1e-14)
    assert dynamics.uniform_rotation_angle(0.3, 0.0, 4.0, 0.5) == pytest.approx(np.pi / 2, rel=1e-15)
    np.testing.assert_allclose(dynamics.skew_spectrum(UNIFORM3, P), [0.3 / np.sqrt(3), 0.0, -0.3 / np.sqrt(3)], atol=1e-15)


def test_criteria_by_hand():
    assert dynamics.kappa(0.5, 2.0, 0.5) == pytest.approx(2.0)
    # ‖A‖₂ = √3 a for the 3-cycle, so the bound is α + βλ √3 a / 2
    assert dynamics.contraction_bound(preferences.cyclic(0.2), 0.1, 2.0, 1.0) == pytest.approx(0.1 + np.sqrt(3) * 0.2, rel=1e-14)
    assert dynamics.entropy_monotone_ratio(3) == pytest.approx(0.5 / np.e) and dynamics.entropy_monotone_ratio(5) == 0.125
    assert dynamics.period(np.pi / 4) == pytest.approx(8.0)


def test_collapse_bound_and_margins_by_hand():
    P = [[0.5, 0.7, 0.9], [0.3, 0.5, 0.6], [0.1, 0.4, 0.5]]
    # δ_1 = min(0.5-0.3, 0.7-0.5, 0.9-0.6) = 0.2; δ_2 = min(0.4, 0.3, 0.4) = 0.3
    np.testing.assert_allclose(preferences.dominance_margins(P, 0), [0.0, 0.2, 0.3], atol=1e-15)
    bound = dynamics.collapse_bound(P, 0, 10.0, [0.5, 0.25, 0.25])
    assert bound == pytest.approx(0.5 * np.exp(-2.0) + 0.5 * np.exp(-3.0), rel=1e-14)


def test_rotation_angle_of_an_exact_rotation():
    # logits turning by 0.3 rad per round around uniform, in an orthonormal basis of 1^⊥, shrinking by 0.9
    Q = dynamics.perp_basis(3)
    t = np.arange(10)
    d = (0.9**t)[:, None] * np.stack([np.cos(0.3 * t), np.sin(0.3 * t)], axis=-1) @ Q.T
    lp = d - logsumexp(d, axis=-1, keepdims=True)
    assert dynamics.rotation_angle(lp, UNIFORM3) == pytest.approx(0.3, rel=1e-12)


def test_cycle_strength_by_hand():
    traj = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])  # each coordinate: variance 1/4
    assert dynamics.cycle_strength(traj) == pytest.approx(0.25)
    assert dynamics.cycle_strength(traj, burn_in=3) == 0.0


def test_entropy_from_log_keeps_tiny_entries():
    assert simplex.entropy_from_log([np.log1p(-2e-300), np.log(1e-300), np.log(1e-300)]) == pytest.approx(2e-300 * 300 * np.log(10), rel=2e-3)
    assert simplex.entropy_from_log([0.0, -1e5, -1e6]) == 0.0
    np.testing.assert_allclose(simplex.entropy_from_log(np.log([[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]])),
                               simplex.entropy([[0.2, 0.3, 0.5], [0.5, 0.25, 0.25]]), rtol=1e-14)


@given(contraction_problems())
@settings(max_examples=40)
def test_contraction_region_implies_convergence(problem):
    P, alpha, beta, lam, ref, pi0, init, q = problem
    run = dynamics.simulate(P, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0, init=init, steps=60)
    star = dynamics.fixed_point(P, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
    dist = dynamics.logit_distance(run.log_pi, star)
    assert np.all(dist[1:] <= q ** run.t[1:] * dist[0] * (1 + 1e-9) + 1e-9)


@given(preference_matrices(min_K=2, max_K=6), st.floats(0.0, 1.0), st.floats(0.01, 50.0), st.floats(0.0, 1.0), st.data())
def test_round_is_an_ipo_optimum_property(P, alpha, beta, lam, data):
    K = P.shape[0]
    pi, ref, pi0 = (data.draw(distributions(K, min_mass=1e-3)) for _ in range(3))
    out = dynamics.mrs_ipo_step(np.log(pi), P, alpha=alpha, beta=beta, lam=lam, ref=ref, pi0=pi0)
    reference = pi**alpha * ref ** (1 - alpha)
    expected = ipo.ipo_optimum(P, lam * pi + (1 - lam) * pi0, reference / reference.sum(), beta)
    np.testing.assert_allclose(out, np.log(expected), rtol=0, atol=1e-12 * (1 + beta))


GOOD = {"alpha": 0.5, "beta": 1.0, "lam": 1.0}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dynamics.simulate(preferences.cyclic(0.2), alpha=1.5, beta=1.0, lam=1.0, steps=5), r"alpha must lie in \[0, 1\], got 1.5"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), alpha=0.5, beta=-1.0, lam=1.0, steps=5), r"beta must be > 0, got -1"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), alpha=0.5, beta=1.0, lam=2.0, steps=5), r"lam must lie in \[0, 1\], got 2"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=0, **GOOD), r"steps must be >= 1, got 0"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, record="some", **GOOD), r"record must be 'all', 'last' or a positive integer"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, burn_in=6, **GOOD), r"burn_in must be <= steps = 5, got 6"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, init=[0.5, 0.5, 0.0], **GOOD), r"init must be strictly positive"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, init=[0.5, 0.5], **GOOD), r"init must have 3 entries"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, pi0=[0.5, 0.5, 0.0], **GOOD), r"init defaults to pi0, which has zero entries"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), alpha=0.5, beta=1.0, lam=0.0, pi0=[0.5, 0.5, 0.0], init=[0.2, 0.3, 0.5], steps=5),
         r"pi0 must have full support where lam = 0"),
        (lambda: dynamics.simulate(preferences.cyclic(0.2), alpha=[0.1, 0.2], beta=[1.0, 2.0, 3.0], lam=1.0, steps=5), r"must broadcast against each other"),
        (lambda: dynamics.simulate([[0.5, 0.9], [0.2, 0.5]], steps=5, **GOOD), r"P must satisfy P \+ P.T = 1"),
        (lambda: dynamics.mrs_ipo_step([0.2, 0.3, 0.5], preferences.cyclic(0.2), **GOOD), r"log_pi must hold log-probabilities .*pass log\(pi\), not pi"),
        (lambda: dynamics.fixed_point(preferences.cyclic(0.2), alpha=1.0, beta=1.0, lam=1.0), r"alpha must be < 1 for fixed_point"),
        (lambda: dynamics.kappa(1.0, 1.0, 1.0), r"alpha must be < 1 for kappa"),
        (lambda: dynamics.oscillation_threshold(0.7, 0.5, 1.0, 1.0), r"a must lie in \[0, 0.5\], got 0.7"),
        (lambda: dynamics.cycle_strength([0.5, 0.5]), r"pi must be a trajectory of shape \(..., T, K\)"),
        (lambda: dynamics.cycle_strength([[0.5, 0.5]], burn_in=1), r"burn_in must be < the number of rounds 1, got 1"),
        (lambda: dynamics.rotation_angle(np.stack([UNIFORM3, UNIFORM3]), UNIFORM3), r"must not pass exactly through log_center"),
        (lambda: dynamics.period(0.0), r"angle must be > 0, got 0"),
        (lambda: dynamics.collapse_bound(preferences.cyclic(0.2), 0, -1.0), r"strength must be >= 0, got -1"),
        (lambda: preferences.dominance_margins(preferences.cyclic(0.2), 3), r"top must be a response index in \[0, 2\], got 3"),
        (lambda: dynamics.perp_basis(1), r"K must be >= 2, got 1"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- MRS-DPO


def test_dpo_round_is_the_dpo_optimum_with_mixed_reference_and_sampler():
    rng = np.random.default_rng(20)
    P = preferences.random_preference_matrix(5, rng)
    pi, ref, pi0 = rng.dirichlet(np.ones(5), size=3)
    out = dynamics.mrs_dpo_step(np.log(pi), P, alpha=0.3, beta=4.0, lam=0.6, ref=ref, pi0=pi0)
    reference = pi**0.3 * ref**0.7
    expected = dpo.dpo_optimum(P, 0.6 * pi + 0.4 * pi0, reference / reference.sum(), 4.0)
    np.testing.assert_allclose(out, np.log(expected), rtol=0, atol=1e-12)


def test_dpo_batch_equals_each_trajectory_exactly():
    rng = np.random.default_rng(21)
    P = np.stack([preferences.random_preference_matrix(3, rng) for _ in range(2)])[:, None, None]
    alpha = np.array([0.0, 0.6, 1.0])[:, None]
    beta = np.array([0.3, 2.0, 8.0])
    init = rng.dirichlet(np.ones(3), size=2)[:, None, None]
    batch = dynamics.simulate(P, alpha=alpha, beta=beta, lam=0.8, init=init, steps=60, method="dpo")
    for i, j, k in np.ndindex(2, 3, 3):
        one = dynamics.simulate(P[i, 0, 0], alpha=alpha[j, 0], beta=beta[k], lam=0.8, init=init[i, 0, 0], steps=60, method="dpo")
        np.testing.assert_array_equal(batch.log_pi[i, j, k], one.log_pi)
        assert batch.cycle_strength[i, j, k] == one.cycle_strength


def test_dpo_simulate_equals_repeated_steps():
    rng = np.random.default_rng(22)
    P, kw = preferences.random_preference_matrix(4, rng), {"alpha": 0.4, "beta": 3.0, "lam": 0.7, "ref": rng.dirichlet(np.ones(4))}
    run = dynamics.simulate(P, init=[0.4, 0.3, 0.2, 0.1], steps=15, method="dpo", **kw)
    lp = np.log([0.4, 0.3, 0.2, 0.1])
    for t in range(1, 16):
        lp = dynamics.mrs_dpo_step(lp, P, **kw)
        np.testing.assert_allclose(run.log_pi[t], lp, atol=1e-11)


def test_dpo_on_bradley_terry_is_affine_in_the_logits():
    # P = BT(s): every round's implicit reward is beta*s whatever the sampler, so
    # log pi_T = alpha^T log pi_0 + (1 - alpha^T)(log ref + beta s/(1 - alpha)) + const
    s = np.array([2.0, 1.0, 0.5, 0.0])
    ref = np.array([0.1, 0.2, 0.3, 0.4])
    alpha, beta, T = 0.7, 1.5, 40
    run = dynamics.simulate(preferences.bradley_terry(s), alpha=alpha, beta=beta, lam=0.5, ref=ref,
                            init=[0.25, 0.25, 0.25, 0.25], steps=T, record="last", method="dpo")
    z = alpha**T * np.log(0.25) + (1 - alpha**T) * (np.log(ref) + beta * s / (1 - alpha))
    np.testing.assert_allclose(run.final_log_pi, z - logsumexp(z), atol=1e-12)


def test_dpo_uniform_is_a_fixed_point_of_the_cycle_and_the_threshold_is_four_beta():
    P = preferences.cyclic(0.4)
    out = dynamics.mrs_dpo_step(UNIFORM3, P, alpha=0.3, beta=5.0, lam=0.9)
    np.testing.assert_allclose(out, UNIFORM3, atol=1e-15)
    # rho^2 = alpha^2 + a^2 (4 beta lam)^2 / 3: 0.09 + 0.16 * 0.64 / 3 for alpha 0.3, beta 0.5, lam 0.4
    rho = dynamics.spectral_radius(UNIFORM3, P, alpha=0.3, beta=0.5, lam=0.4, method="dpo")
    assert rho**2 == pytest.approx(0.09 + 0.16 * 0.64 / 3, rel=1e-12)
    assert dynamics.oscillation_threshold(0.4, 0.3, 0.5, 0.4, method="dpo") == pytest.approx(0.09 + 0.16 * 0.64 / 3, rel=1e-15)
    assert dynamics.uniform_spectral_radius(0.4, 0.3, 0.5, 0.4, method="dpo") == pytest.approx(np.sqrt(0.09 + 0.16 * 0.64 / 3), rel=1e-15)
    assert dynamics.oscillation_boundary(0.4, 0.6, method="dpo") == pytest.approx(np.sqrt(3 * 0.64) / 1.6, rel=1e-15)
    assert dynamics.uniform_rotation_angle(0.4, 0.0, 1.0, 1.0, method="dpo") == pytest.approx(np.pi / 2)
    assert dynamics.uniform_rotation_angle(0.4, 0.5, 1.0, 1.0, method="dpo") == pytest.approx(np.arctan(1.6 / (np.sqrt(3) * 0.5)))


def test_dpo_jacobian_equals_finite_differences():
    rng = np.random.default_rng(23)
    P = preferences.random_preference_matrix(4, rng)
    pi, ref, pi0 = rng.dirichlet(np.ones(4), size=3)
    kw = {"alpha": 0.4, "beta": 2.0, "lam": 0.6}
    J = dynamics.jacobian(np.log(pi), P, method="dpo", pi0=pi0, **kw)
    centre, h = np.eye(4) - 0.25, 1e-5
    for v in centre:
        up, down = np.log(pi) + h * v, np.log(pi) - h * v
        diff = (dynamics.mrs_dpo_step(up - logsumexp(up), P, ref=ref, pi0=pi0, **kw)
                - dynamics.mrs_dpo_step(down - logsumexp(down), P, ref=ref, pi0=pi0, **kw)) / (2 * h)
        np.testing.assert_allclose(centre @ diff, centre @ (J @ v), atol=1e-8)


def test_method_ipo_is_the_default_bit_for_bit():
    kw = {"alpha": np.linspace(0, 1, 4)[:, None], "beta": [1.0, 5.0], "lam": 0.9, "init": [0.5, 0.3, 0.2], "steps": 40}
    a = dynamics.simulate(preferences.cyclic(0.3), **kw)
    b = dynamics.simulate(preferences.cyclic(0.3), method="ipo", **kw)
    np.testing.assert_array_equal(a.log_pi, b.log_pi)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dynamics.simulate(preferences.cyclic(0.2), steps=5, method="ppo", **GOOD), r"method must be 'ipo' or 'dpo', got 'ppo'"),
        (lambda: dynamics.simulate([[0.5, 1.0], [0.0, 0.5]], steps=5, method="dpo", **GOOD), r"no finite DPO optimum: responses \[0\]"),
        (lambda: dynamics.mrs_dpo_step(UNIFORM3, np.stack([preferences.cyclic(0.2), [[0.5, 1, 1], [0, 0.5, 0.5], [0, 0.5, 0.5]]]), **GOOD),
         r"no finite DPO optimum \(batch index \[1\]\)"),
        (lambda: dynamics.jacobian(UNIFORM3, preferences.cyclic(0.2), method="x", **GOOD), r"method must be 'ipo' or 'dpo'"),
        (lambda: dynamics.oscillation_boundary(0.2, 0.5, method="x"), r"method must be 'ipo' or 'dpo'"),
    ],
)
def test_dpo_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_round_inputs_by_hand():
    # pi = (1/2, 1/4, 1/4), alpha = 1/2, uniform ref: reference ∝ sqrt(pi); lam = 1/2, uniform pi0
    reference, sampler = dynamics.round_inputs(np.log([0.5, 0.25, 0.25]), alpha=0.5, lam=0.5)
    root = np.sqrt([0.5, 0.25, 0.25])
    np.testing.assert_allclose(reference, root / root.sum(), rtol=1e-14)
    np.testing.assert_allclose(sampler, [0.5 * 0.5 + 0.5 / 3, 0.5 * 0.25 + 0.5 / 3, 0.5 * 0.25 + 0.5 / 3], rtol=1e-14)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\], got 2"):
        dynamics.round_inputs(np.log([0.5, 0.5]), alpha=2.0, lam=0.5)
