import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefalign import dynamics, ipo, preferences, simplex, social_choice

from strategies import distributions, ipo_problems, preference_matrices


def test_closed_form_by_hand_on_a_cycle():
    # P_{1/4}, mu = (1/2, 1/4, 1/4): P mu = (0.5, 0.4375, 0.5625) by hand; beta = 4 gives logits (2, 1.75, 2.25).
    P = preferences.cyclic(0.25)
    pi = ipo.ipo_optimum(P, [0.5, 0.25, 0.25], beta=4.0)
    expected = np.exp([2.0, 1.75, 2.25]) / np.exp([2.0, 1.75, 2.25]).sum()
    np.testing.assert_allclose(pi, expected, rtol=1e-14)


def test_uniform_sampler_on_a_cycle_gives_uniform_optimum():
    np.testing.assert_allclose(ipo.ipo_optimum(preferences.cyclic(0.4), simplex.uniform(3), beta=50.0), np.full(3, 1 / 3), rtol=1e-14)


@pytest.mark.parametrize("mu", [[0.5, 0.5], [0.9, 0.1], [0.01, 0.99]])
def test_two_responses_do_not_depend_on_the_sampler(mu):
    ref = np.array([0.3, 0.7])
    pi = ipo.ipo_optimum([[0.5, 0.8], [0.2, 0.5]], mu, ref, beta=2.0)
    assert pi[0] / pi[1] == pytest.approx((0.3 / 0.7) * np.exp(2.0 * 0.3), rel=1e-13)


def test_batch_equals_loop():
    rng = np.random.default_rng(3)
    Ps = np.stack([preferences.random_preference_matrix(4, rng) for _ in range(5)])
    mus = rng.dirichlet(np.ones(4), size=5)
    refs = rng.dirichlet(np.ones(4), size=5)
    betas = np.array([0.1, 1.0, 3.0, 10.0, 100.0])
    batch = ipo.ipo_optimum(Ps, mus, refs, betas)
    for i in range(5):
        np.testing.assert_array_equal(batch[i], ipo.ipo_optimum(Ps[i], mus[i], refs[i], betas[i]))


def test_partial_support_is_refused_with_a_pointer():
    with pytest.raises(ValueError, match=r"mu must have full support .* mu\[2\] = 0, .*undetermined at response 2.*ipo_optimum_on_support"):
        ipo.ipo_optimum(preferences.cyclic(0.2), [0.5, 0.5, 0.0])


def test_partial_support_answer_names_undetermined_entries():
    P = preferences.cyclic(0.2)
    res = ipo.ipo_optimum_on_support(P, [0.5, 0.5, 0.0], beta=3.0)
    assert res.undetermined == [2]
    np.testing.assert_array_equal(res.support, [True, True, False])
    # only responses 0 and 1 are compared: r_0 - r_1 = beta * ((P mu)_0 - (P mu)_1) = 3 * (0.6 - 0.4)
    assert res.pi[2] == 0.0
    assert np.log(res.pi[0] / res.pi[1]) == pytest.approx(3 * 0.2, rel=1e-13)


def test_population_loss_by_hand():
    # K = 2, uniform ref and mu, pi = ref: h = 0, loss = 2 * (1/4) * (beta * 0.3)^2 with beta = 2
    assert ipo.population_loss([0.5, 0.5], [[0.5, 0.8], [0.2, 0.5]], [0.5, 0.5], beta=2.0) == pytest.approx(0.18, rel=1e-14)


def test_sampled_loss_by_hand():
    # pi = (2/3, 1/3), uniform ref: r_0 - r_1 = log 2; pairs: 0 beats 1 twice, 1 beats 0 once; beta = 2 (target 1)
    h = np.log(2.0)
    expected = (2 * (h - 1) ** 2 + (-h - 1) ** 2) / 3
    assert ipo.sampled_loss([2 / 3, 1 / 3], [[0, 1], [0, 1], [1, 0]], beta=2.0) == pytest.approx(expected, rel=1e-14)


def test_objective_maximum_is_log_partition_over_beta():
    rng = np.random.default_rng(5)
    P = preferences.random_preference_matrix(5, rng)
    mu, ref = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    star = ipo.ipo_optimum(P, mu, ref, 2.5)
    logZ = np.log(np.sum(ref * np.exp(2.5 * P @ mu)))
    assert ipo.ipo_objective(star, P, mu, ref, 2.5) == pytest.approx(logZ / 2.5, rel=1e-13)


def test_numerical_optimum_agrees_with_closed_form():
    rng = np.random.default_rng(11)
    P = preferences.random_preference_matrix(5, rng)
    mu, ref = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    np.testing.assert_allclose(ipo.numerical_optimum(P, mu, ref, 3.0), ipo.ipo_optimum(P, mu, ref, 3.0), rtol=1e-6)


def test_sample_pairs_frequencies():
    rng = np.random.default_rng(2)
    P = preferences.validate([[0.5, 0.9], [0.1, 0.5]])
    pairs = ipo.sample_pairs(P, [0.5, 0.5], 200_000, rng)
    assert pairs.shape == (200_000, 2) and pairs.dtype.kind == "i"
    mixed = pairs[pairs[:, 0] != pairs[:, 1]]
    # half the draws are mixed pairs; 0 wins 90% of those
    assert abs(len(mixed) / 200_000 - 0.5) < 0.005
    assert abs(np.mean(mixed[:, 0] == 0) - 0.9) < 0.005


def test_sampled_optimum_needs_connected_pairs():
    with pytest.raises(ValueError, match="pairs must connect all K=3 responses; response 2 is not linked"):
        ipo.sampled_optimum(np.array([[0, 1], [1, 0]]), 3)


def test_sampled_optimum_by_hand():
    # pairs: 0 beats 1 three times, 1 beats 0 once; least squares on r_0 - r_1 with target beta/2 = 1:
    # minimise 3 (d - 1)^2 + (-d - 1)^2  =>  d = 1/2
    pi = ipo.sampled_optimum(np.array([[0, 1]] * 3 + [[1, 0]]), 2, beta=2.0)
    assert np.log(pi[0] / pi[1]) == pytest.approx(0.5, abs=1e-7)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), [0.5, 0.5]), r"mu must have 3 entries \(one per response of P\), got shape \(2,\)"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), [0.5, 0.6, -0.1]), r"mu must be non-negative; mu\[2\] = -0.1"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), [0.5, 0.6, 0.1]), r"mu must sum to 1 \(within 1e-09\); it sums to 1.2"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), simplex.uniform(3), beta=-1), r"beta must be > 0, got -1"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), simplex.uniform(3), beta=0.0), r"beta must be > 0, got 0"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), simplex.uniform(3), ref=[0.5, 0.5, 0.0]), r"ref must be strictly positive .*ref\[2\] = 0"),
        (lambda: ipo.ipo_optimum(preferences.cyclic(0.1), simplex.uniform(3), beta=np.inf), r"beta must be finite"),
        (lambda: ipo.population_loss([1.0, 0.0, 0.0], preferences.cyclic(0.1), simplex.uniform(3)), r"pi must be strictly positive"),
        (lambda: ipo.sampled_loss(simplex.uniform(2), np.array([[0, 2]])), r"pairs must hold indices in \[0, 1\]"),
        (lambda: ipo.sampled_loss(simplex.uniform(2), np.array([0, 1])), r"pairs must have shape \(n, 2\)"),
        (lambda: ipo.sampled_loss(simplex.uniform(2), np.array([[0.0, 1.0]])), r"pairs must hold integer response indices"),
        (lambda: ipo.sample_pairs(preferences.cyclic(0.1), simplex.uniform(3), 0, np.random.default_rng(0)), r"n must be >= 1, got 0"),
        (lambda: ipo.ipo_optimum_on_support(np.stack([preferences.cyclic(0.1)] * 2), simplex.uniform(3)), r"takes one problem: P must be a single K x K matrix"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(ipo_problems())
def test_closed_form_solves_the_normal_equations(problem):
    P, mu, ref, beta = problem
    r = np.log(ipo.ipo_optimum(P, mu, ref, beta)) - np.log(ref)
    A = P - 0.5
    residual = r - mu @ r - beta * (A @ mu)
    # r_i = beta (P mu)_i + c for every i: the residual is the same constant everywhere
    assert np.ptp(residual) <= 1e-9 * max(1.0, beta)


@given(ipo_problems(), st.floats(-50, 50))
def test_log_reference_shift_does_not_move_the_optimum(problem, shift):
    P, mu, ref, beta = problem
    base = ipo.log_optimum(P, mu, np.log(ref), beta)
    shifted = ipo.log_optimum(P, mu, np.log(ref) + shift, beta)
    np.testing.assert_allclose(shifted, base, atol=1e-9 * max(1.0, abs(shift)))


@given(ipo_problems())
def test_ranking_relative_to_reference_is_by_win_rate(problem):
    P, mu, ref, beta = problem
    r = ipo.log_optimum(P, mu, np.log(ref), beta) - np.log(ref)  # log space: at beta ~ 1e3 some pi_i underflow to 0
    win = P @ mu
    for i in range(len(win)):
        for j in range(len(win)):
            if win[i] - win[j] > 1e-9:
                assert r[i] > r[j]


@given(ipo_problems(max_beta=1e3), st.floats(1e-300, 1e-100))
def test_extreme_beta_and_tiny_reference_stay_finite(problem, tiny):
    P, mu, ref, beta = problem
    ref = ref.copy()
    ref[0] = tiny
    ref /= ref.sum()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pi = ipo.ipo_optimum(P, mu, ref, beta)
    assert np.all(np.isfinite(pi)) and abs(pi.sum() - 1) < 1e-12 and pi.min() >= 0


@given(preference_matrices(min_K=3, max_K=5).flatmap(lambda P: st.tuples(st.just(P), distributions(len(P)), distributions(len(P)))))
def test_expected_sampled_loss_minus_population_loss_is_constant(args):
    P, mu, pi = args
    beta = 1.7
    offset = ipo.expected_sampled_loss(pi, P, mu, beta=beta) - ipo.population_loss(pi, P, mu, beta=beta)
    A = P - 0.5
    assert offset == pytest.approx(beta**2 * float(mu @ (0.25 - A**2) @ mu), abs=1e-9)


# ---- samplers and ranking guarantees ------------------------------------------------------------


from strategies import samplers, strongly_transitive_matrices  # noqa: E402

THEORY_TRANSITIVE = np.array([[0.5, 0.51, 0.7, 0.6], [0.49, 0.5, 0.9, 0.8], [0.3, 0.1, 0.5, 0.51], [0.4, 0.2, 0.49, 0.5]])
FOOLED = preferences.fooling_matrix(np.full(3, 1 / 3))  # [[.5, 7/12, 7/12], [5/12, .5, 1], [5/12, 0, .5]]


def test_objective_maximiser_with_a_point_mass_by_hand():
    # P_{1/4}, mu = e_0: P mu = (0.5, 0.25, 0.75); beta = 4 gives logits (2, 1, 3)
    pi = ipo.objective_maximiser(preferences.cyclic(0.25), [1.0, 0.0, 0.0], beta=4.0)
    np.testing.assert_allclose(pi, np.exp([2.0, 1.0, 3.0]) / np.exp([2.0, 1.0, 3.0]).sum(), rtol=1e-14)


def test_objective_maximiser_is_the_closed_form_for_full_support():
    rng = np.random.default_rng(4)
    P, mu, ref = preferences.random_preference_matrix(5, rng), rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    np.testing.assert_array_equal(ipo.objective_maximiser(P, mu, ref, 3.0), ipo.ipo_optimum(P, mu, ref, 3.0))


def test_smith_sampler_condorcet_by_hand():
    # FOOLED: Smith set {0}, q = e_0, P q = (1/2, 5/12, 5/12): delta = 1/12 for both outsiders.
    # P u = (20/36, 23/36, 11/36): drift (P u)_0 - (P u)_1 = -1/12 < 0, so the bound is (1/12)/(1/12 + 1/12) = 1/2.
    lottery = ipo.smith_lottery(FOOLED)
    assert lottery.members == [0] and lottery.eps_bound == pytest.approx(0.5, abs=1e-12)
    np.testing.assert_allclose(ipo.smith_sampler(FOOLED, 0.0), [1.0, 0.0, 0.0], atol=1e-15)
    np.testing.assert_allclose(ipo.smith_sampler(FOOLED), [0.75 + 0.25 / 3, 0.25 / 3, 0.25 / 3], atol=1e-12)
    with pytest.raises(ValueError, match=r"eps must lie in \[0, 0.5\) for this P .* got 0.6"):
        ipo.smith_sampler(FOOLED, 0.6)
    with pytest.raises(ValueError, match=r"eps must lie in \[0, 0.5\) for this P .* got -0.1"):
        lottery.sampler(-0.1)


def test_smith_sampler_on_a_cycle_with_an_outsider_by_hand():
    # the HAND matrix of test_social_choice: cycle 0 > 1 > 2 > 0 with margins .1, .2, .3, all beat 3.
    # A_SS q = 0 for q proportional to (.2, .3, .1): q = (1/3, 1/2, 1/6, 0).
    hand = [[0.5, 0.6, 0.2, 0.9], [0.4, 0.5, 0.7, 0.55], [0.8, 0.3, 0.5, 0.65], [0.1, 0.45, 0.35, 0.5]]
    np.testing.assert_allclose(ipo.smith_sampler(hand, 0.0), [1 / 3, 1 / 2, 1 / 6, 0.0], atol=1e-9)


def test_smith_sampler_of_a_full_cycle_is_uniform():
    assert ipo.smith_lottery(preferences.cyclic(0.2)).eps_bound == 1.0
    np.testing.assert_allclose(ipo.smith_sampler(preferences.cyclic(0.2)), np.full(3, 1 / 3), atol=1e-9)


def test_order_preserving_lp_on_the_theory_counterexample_by_hand():
    # Only a = mu_0 + mu_1 matters for the outer margins: .21 a - .2 (0 over 1) and .01 - .11 a (2 over 3);
    # they cross at a = 21/32 with value -1.99/32; the middle margin (1 over 2) is positive.
    res = ipo.order_preserving_sampler(THEORY_TRANSITIVE)
    assert res.order == [0, 1, 2, 3]
    assert res.margin == pytest.approx(-1.99 / 32, abs=1e-9)
    assert res.mu_lp[:2].sum() == pytest.approx(21 / 32, abs=1e-9)
    assert not res.exists and res.mu is None


def test_order_preserving_lp_for_two_responses_by_hand():
    res = ipo.order_preserving_sampler([[0.5, 0.2], [0.8, 0.5]])
    assert res.order == [1, 0] and res.margin == pytest.approx(0.3, abs=1e-12) and res.exists


def test_order_preserving_lp_bad_input():
    with pytest.raises(ValueError, match="P must be transitive"):
        ipo.order_preserving_sampler(preferences.cyclic(0.1))
    with pytest.raises(ValueError, match="K >= 2"):
        ipo.order_preserving_sampler([[0.5]])


def test_onpolicy_two_responses_by_hand():
    # (A pi)_0 - (A pi)_1 = a (pi_0 + pi_1) = a for every pi, so pi_0 / pi_1 = (ref_0 / ref_1) exp(beta a)
    pi = ipo.onpolicy_optimum([[0.5, 0.8], [0.2, 0.5]], [0.4, 0.6], beta=5.0)
    assert pi[0] / pi[1] == pytest.approx((0.4 / 0.6) * np.exp(5.0 * 0.3), rel=1e-12)


def test_onpolicy_on_a_cycle_is_uniform():
    np.testing.assert_allclose(ipo.onpolicy_optimum(preferences.cyclic(0.5), beta=100.0), np.full(3, 1 / 3), atol=1e-14)


def test_onpolicy_batch_equals_loop_and_is_unique_from_other_starts():
    rng = np.random.default_rng(5)
    Ps = np.stack([preferences.random_preference_matrix(5, rng) for _ in range(4)])
    betas = np.array([0.5, 5.0, 50.0, 200.0])
    batch = ipo.onpolicy_optimum(Ps, beta=betas)
    for i in range(4):
        np.testing.assert_allclose(batch[i], ipo.onpolicy_optimum(Ps[i], beta=betas[i]), atol=1e-12)
        for start in rng.dirichlet(np.full(5, 0.3), size=3) * 0.999 + 0.0002:
            np.testing.assert_allclose(ipo.onpolicy_optimum(Ps[i], beta=betas[i], start=start), batch[i], atol=1e-9)


def test_onpolicy_matches_plain_iteration_when_it_contracts():
    rng = np.random.default_rng(6)
    P = preferences.random_preference_matrix(6, rng)
    beta = 1.0 / np.linalg.norm(P - 0.5, 2)  # beta * ||A|| / 2 = 1/2: a contraction
    pi = np.full(6, 1 / 6)
    for _ in range(200):
        pi = ipo.ipo_optimum(P, pi, beta=beta)
    np.testing.assert_allclose(ipo.onpolicy_optimum(P, beta=beta), pi, atol=1e-13)


def test_onpolicy_reports_non_convergence_and_bad_input():
    P = preferences.random_preference_matrix(4, np.random.default_rng(7))
    with pytest.raises(RuntimeError, match=r"did not converge from init at batch index .* within 1 Newton steps"):
        dynamics.fixed_point(P, alpha=0.0, beta=50.0, lam=1.0, init=np.log([0.97, 0.01, 0.01, 0.01]), max_iter=1)
    with pytest.raises(ValueError, match="beta must be > 0, got -1"):
        ipo.onpolicy_optimum(P, beta=-1.0)
    with pytest.raises(ValueError, match="start must be strictly positive"):
        ipo.onpolicy_optimum(P, start=[1.0, 0.0, 0.0, 0.0])


@given(preference_matrices(min_K=1, max_K=7), st.floats(1e-2, 300.0))
def test_onpolicy_is_its_own_ipo_optimum(P, beta):
    pi = ipo.onpolicy_optimum(P, beta=beta)
    np.testing.assert_allclose(np.log(ipo.ipo_optimum(P, pi, beta=beta)), np.log(pi), atol=1e-9)


@given(preference_matrices(min_K=1, max_K=7), st.floats(0.01, 100.0), st.floats(0.0, 0.999))
def test_smith_sampler_puts_the_smith_set_on_top(P, beta, share):
    lottery = ipo.smith_lottery(P)
    for e in (0.0, share * lottery.eps_bound):
        pi = ipo.objective_maximiser(P, lottery.sampler(e), beta=beta)
        assert social_choice.is_smith_top(pi, P) and social_choice.is_condorcet_top(pi, P)


@given(st.integers(3, 8).flatmap(samplers), st.floats(0.01, 100.0))
def test_fooling_matrix_fools_every_sampler(mu, beta):
    P = preferences.fooling_matrix(mu)
    pi = ipo.objective_maximiser(P, mu, beta=beta)
    assert not social_choice.is_condorcet_top(pi, P)
    assert not social_choice.is_smith_top(pi, P)
    assert not social_choice.is_order_preserving(pi, P)


@given(strongly_transitive_matrices(min_K=2, max_K=7).flatmap(lambda P: st.tuples(st.just(P), distributions(len(P), min_mass=1e-3))),
       st.floats(0.1, 100.0))
def test_strong_transitivity_preserves_the_order_for_full_support_samplers(args, beta):
    P, mu = args
    assert social_choice.is_order_preserving(ipo.ipo_optimum(P, mu, beta=beta), P)
    assert ipo.order_preserving_sampler(P).exists
