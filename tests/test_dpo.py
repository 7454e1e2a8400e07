import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import expit, logit

from prefalign import dpo, ipo, preferences, simplex

from strategies import distributions, ipo_problems


@pytest.mark.parametrize("mu", [[0.5, 0.5], [0.9, 0.1], [0.01, 0.99]])
@pytest.mark.parametrize("beta", [0.05, 1.0, 30.0])
def test_two_responses_closed_form_for_any_sampler(mu, beta):
    # K = 2: the FOC reads mu_2 (sigma(d/beta) - P12) = 0, so r_1 - r_2 = beta * logit(P12)
    ref = np.array([0.3, 0.7])
    pi = dpo.dpo_optimum([[0.5, 0.8], [0.2, 0.5]], mu, ref, beta)
    assert np.log(pi[0] / pi[1]) - np.log(0.3 / 0.7) == pytest.approx(beta * logit(0.8), rel=1e-11)


def test_bradley_terry_reward_is_beta_times_scores():
    s = np.array([1.0, 0.0, -0.5, 2.0])
    P = preferences.bradley_terry(s)
    rng = np.random.default_rng(0)
    for _ in range(10):
        mu = rng.dirichlet(np.ones(4))
        r = np.log(dpo.dpo_optimum(P, mu, beta=0.7))
        np.testing.assert_allclose(r - r.mean(), 0.7 * (s - s.mean()), atol=1e-11)


def test_non_bradley_terry_optimum_moves_with_the_sampler():
    P = preferences.cyclic(0.3)
    a = dpo.dpo_optimum(P, [0.6, 0.2, 0.2])
    b = dpo.dpo_optimum(P, [0.2, 0.2, 0.6])
    assert simplex.tv_distance(a, b) > 0.05


def test_agrees_with_generic_optimiser():
    rng = np.random.default_rng(4)
    for K in (3, 5, 8):
        P = preferences.random_preference_matrix(K, rng)
        mu, ref = rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K))
        for beta in (0.1, 1.0, 5.0):
            newton = dpo.dpo_optimum(P, mu, ref, beta)
            generic = dpo.numerical_optimum(P, mu, ref, beta)
            assert np.max(np.abs(np.log(newton) - np.log(generic))) < 1e-5
            assert dpo.population_loss(newton, P, mu, ref, beta) <= dpo.population_loss(generic, P, mu, ref, beta) + 1e-12


def test_batch_equals_loop():
    rng = np.random.default_rng(8)
    Ps = np.stack([preferences.random_preference_matrix(4, rng) for _ in range(6)])
    mus = rng.dirichlet(np.ones(4), size=6)
    betas = np.array([0.01, 0.1, 1.0, 3.0, 10.0, 100.0])
    batch = dpo.dpo_optimum(Ps, mus, beta=betas)
    for i in range(6):
        np.testing.assert_allclose(batch[i], dpo.dpo_optimum(Ps[i], mus[i], beta=betas[i]), rtol=1e-9)


def test_large_problem_converges():
    rng = np.random.default_rng(5)
    P = preferences.random_preference_matrix(50, rng)
    mu = rng.dirichlet(np.ones(50))
    for beta in (1e-2, 1e2):
        pi = dpo.dpo_optimum(P, mu, beta=beta)
        assert np.max(np.abs(dpo.foc_residual(pi, P, mu, beta=beta))) <= 1e-12


def test_linearisation_near_uniform_matches_ipo_with_four_beta():
    # P close to 1/2: DPO's optimum approaches IPO's with beta replaced by 4 beta, error O(a^3)
    errors = []
    for a in (0.04, 0.02, 0.01):
        P = preferences.cyclic(a)
        P[0, 1], P[1, 0] = 0.5 + 2 * a, 0.5 - 2 * a
        mu = np.array([0.5, 0.3, 0.2])
        r_dpo = np.log(dpo.dpo_optimum(P, mu, beta=1.0))
        r_ipo = np.log(ipo.ipo_optimum(P, mu, beta=float(dpo.linearised_ipo_beta(1.0))))
        errors.append(np.max(np.abs((r_dpo - r_dpo.mean()) - (r_ipo - r_ipo.mean()))))
    assert errors[0] / errors[1] == pytest.approx(8.0, rel=0.05) and errors[1] / errors[2] == pytest.approx(8.0, rel=0.05)


def test_deterministic_preferences_have_no_finite_optimum():
    P = [[0.5, 1.0, 1.0], [0.0, 0.5, 0.6], [0.0, 0.4, 0.5]]
    with pytest.raises(ValueError, match=r"no finite DPO optimum: responses \[0\] beat every other response with probability 1"):
        dpo.dpo_optimum(P, simplex.uniform(3))
    assert dpo.dominating_set(np.array([[0.5, 0.0], [1.0, 0.5]])) == [1]


def test_one_deterministic_pair_can_still_have_an_optimum():
    # 0 always beats 1, but 1 beats 2 and 2 beats 0 sometimes: strongly connected, finite optimum
    P = np.array([[0.5, 1.0, 0.7], [0.0, 0.5, 0.6], [0.3, 0.4, 0.5]])
    assert dpo.dominating_set(P) is None
    pi = dpo.dpo_optimum(P, simplex.uniform(3))
    assert np.max(np.abs(dpo.foc_residual(pi, P, simplex.uniform(3)))) <= 1e-12


def test_non_convergence_reports_the_residual():
    P = preferences.random_preference_matrix(4, np.random.default_rng(1))
    mu = simplex.uniform(4)
    with pytest.raises(RuntimeError, match=r"did not converge in 1 steps: max \|FOC residual\| = .* > tol = 1e-12"):
        dpo.log_optimum(P, mu, np.log(mu), 1.0, max_iter=1, init=np.zeros(4))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dpo.dpo_optimum(preferences.cyclic(0.1), [0.5, 0.5, 0.0]), r"mu must have full support .*mu\[2\] = 0"),
        (lambda: dpo.dpo_optimum(preferences.cyclic(0.1), simplex.uniform(3), beta=0.0), r"beta must be > 0, got 0"),
        (lambda: dpo.dpo_optimum(preferences.cyclic(0.1), simplex.uniform(3), beta=-2), r"beta must be > 0, got -2"),
        (lambda: dpo.dpo_optimum(preferences.cyclic(0.1), simplex.uniform(3), tol=0), r"tol must be > 0"),
        (lambda: dpo.dpo_optimum([[0.5, 0.9], [0.9, 0.5]], [0.5, 0.5]), r"P must satisfy P \+ P.T = 1"),
        (lambda: dpo.foc_residual([0.5, 0.5, 0.0], preferences.cyclic(0.1), simplex.uniform(3)), r"pi must be strictly positive"),
        (lambda: dpo.population_loss(simplex.uniform(2), preferences.cyclic(0.1), simplex.uniform(3)), r"pi must have 3 entries"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(ipo_problems(min_K=2, max_K=6, max_beta=100.0))
def test_foc_residual_vanishes_at_the_optimum(problem):
    P, mu, ref, beta = problem
    P = 0.001 + 0.998 * P  # keep P in (0, 1): a finite optimum exists
    log_pi, residual = dpo.log_optimum(P, mu, np.log(ref), beta)
    assert residual <= 1e-12 and np.all(np.isfinite(log_pi))
    pi = np.exp(log_pi)
    if pi.min() > 1e-250:  # the public residual works on probabilities, which underflow beyond that
        assert np.max(np.abs(dpo.foc_residual(pi, P, mu, ref, beta))) <= 1e-9


@given(st.lists(st.floats(-3, 3), min_size=2, max_size=6).flatmap(
    lambda s: st.tuples(st.just(np.array(s)), distributions(len(s)), distributions(len(s)), st.floats(0.05, 20))))
def test_bradley_terry_invariance(args):
    s, mu1, mu2, beta = args
    P = preferences.bradley_terry(s)
    r1 = np.log(dpo.dpo_optimum(P, mu1, beta=beta))
    r2 = np.log(dpo.dpo_optimum(P, mu2, beta=beta))
    np.testing.assert_allclose(r1 - r1.mean(), r2 - r2.mean(), atol=1e-8 * max(1.0, beta))


# --------------------------------------------------------------------------- the solver


def test_implicit_reward_is_centred_and_gives_the_optimum():
    rng = np.random.default_rng(11)
    P = preferences.random_preference_matrix(5, rng)
    mu, ref = rng.dirichlet(np.ones(5), size=2)
    r = dpo.implicit_reward(P, mu, 3.0)
    assert abs(r.sum()) < 1e-12
    z = np.log(ref) + r
    np.testing.assert_allclose(dpo.dpo_optimum(P, mu, ref, 3.0), np.exp(z) / np.exp(z).sum(), rtol=1e-12)


def test_solving_in_a_batch_changes_no_bit():
    rng = np.random.default_rng(12)
    for K in (3, 12):  # 12: the sums switch from a loop to an accumulation (same order)
        Ps = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(7)])
        mus = rng.dirichlet(np.ones(K), size=7)
        batch = dpo.implicit_reward(Ps, mus, 2.0)
        for i in range(7):
            np.testing.assert_array_equal(batch[i], dpo.implicit_reward(Ps[i], mus[i], 2.0))


def test_a_zero_sampler_entry_gets_the_limiting_score():
    # mu_k -> 0: the score of k solves its own first-order condition against the others
    rng = np.random.default_rng(13)
    P = preferences.random_preference_matrix(4, rng)
    mu = np.array([0.5, 0.3, 0.2, 0.0])
    x, residual = dpo.fit_scores(P[:, :, None], mu[:, None], np.zeros((4, 1)))
    near = dpo.implicit_reward(P, (mu + np.array([0, 0, 0, 1e-9])) / (1 + 1e-9), 1.0)
    assert residual[0] <= 1e-12
    np.testing.assert_allclose(x[:, 0], near, atol=1e-7)


def test_several_starts_take_the_closer_one():
    P = preferences.cyclic(0.3)[:, :, None]
    mu = np.array([[0.5], [0.3], [0.2]])
    exact, _ = dpo.fit_scores(P, mu, np.zeros((3, 1)))
    far = exact + np.array([[5.0], [-5.0], [0.0]])
    x, _ = dpo.fit_scores(P, mu, [far, exact])
    np.testing.assert_array_equal(x, exact - exact.mean())


def test_existence_is_strong_connectivity():
    # response 0 beats everyone with probability 1: the residual only vanishes as r_0 -> infinity
    P = np.array([[0.5, 1.0, 1.0], [0.0, 0.5, 0.6], [0.0, 0.4, 0.5]])
    assert not dpo.has_optimum(P) and dpo.has_optimum(preferences.cyclic(0.5))
    with pytest.raises(ValueError, match=r"responses \[0\] beat every other response with probability 1"):
        dpo.implicit_reward(P, simplex.uniform(3))
    assert dpo.has_optimum(np.stack([P, preferences.cyclic(0.1)])).tolist() == [False, True]


def test_one_response():
    assert dpo.dpo_optimum([[0.5]], [1.0]).tolist() == [1.0]


# --------------------------------------------------------------------------- derivative, linearisation, bounds


def test_reward_derivative_matches_finite_differences():
    rng = np.random.default_rng(14)
    P = preferences.random_preference_matrix(4, rng)
    mu = rng.dirichlet(np.full(4, 3.0))
    beta, h = 1.7, 1e-6
    X = dpo.reward_derivative(P, mu, beta)
    np.testing.assert_allclose(X.sum(axis=0), 0.0, atol=1e-10)  # rewards modulo constants
    np.testing.assert_allclose(X @ mu, 0.0, atol=1e-10)  # scaling mu changes nothing
    for v in (np.array([1.0, -1.0, 0.0, 0.0]), np.array([0.2, 0.1, -0.4, 0.1])):
        fd = (dpo.implicit_reward(P, mu + h * v, beta) - dpo.implicit_reward(P, mu - h * v, beta)) / (2 * h)
        np.testing.assert_allclose(X @ v, fd, atol=1e-8)


def test_reward_derivative_vanishes_for_bradley_terry_and_is_four_beta_a_near_ties():
    rng = np.random.default_rng(15)
    mu = rng.dirichlet(np.ones(4))
    assert np.abs(dpo.reward_derivative(preferences.bradley_terry([1.0, -0.5, 2.0, 0.0]), mu, 2.0)).max() < 1e-10
    # near ties, along the simplex (directions v with 1ᵀv = 0): X v -> 4 beta (P - 1/2) v centred, error O(eps^3)
    B = preferences.skew(preferences.random_preference_matrix(4, rng))
    tangent = np.eye(4) - 0.25
    errors = []
    for eps in (0.02, 0.01):
        X = dpo.reward_derivative(0.5 + eps * B, mu, 2.0)
        ipo_like = 4 * 2.0 * eps * tangent @ B
        errors.append(np.abs((X - ipo_like) @ tangent).max())
    assert errors[0] / errors[1] == pytest.approx(8.0, rel=0.05)


def test_cubic_correction_two_responses_by_hand():
    # K = 2: r1 - r2 = beta logit(p) = beta (4e + 16e^3/3 + 64e^5/5 + ...), e = p - 1/2;
    # IPO at 4 beta gives 4 beta e, the cubic term (16/3) beta e^3, centred: +-(8/3) beta e^3
    e, beta = 0.01, 3.0
    P = np.array([[0.5, 0.5 + e], [0.5 - e, 0.5]])
    c = dpo.cubic_correction(P, [0.3, 0.7], beta)
    np.testing.assert_allclose(c, [8 / 3 * beta * e**3, -8 / 3 * beta * e**3], rtol=1e-10)
    r = dpo.implicit_reward(P, [0.3, 0.7], beta)
    remainder = (r[0] - r[1]) - 4 * beta * e - (c[0] - c[1])
    assert remainder == pytest.approx(64 / 5 * beta * e**5, rel=1e-3)


def test_cubic_correction_leaves_a_fifth_order_remainder():
    rng = np.random.default_rng(16)
    B = preferences.skew(preferences.random_preference_matrix(5, rng))
    mu = rng.dirichlet(np.ones(5))
    errors = []
    for eps in (0.04, 0.02):
        P = 0.5 + eps * B
        r_dpo = dpo.implicit_reward(P, mu, 1.0)
        r_ipo = np.log(ipo.ipo_optimum(P, mu, beta=4.0))
        errors.append(np.abs(r_dpo - (r_ipo - r_ipo.mean()) - dpo.cubic_correction(P, mu, 1.0)).max())
    assert errors[0] / errors[1] == pytest.approx(32.0, rel=0.1)


@given(ipo_problems(min_K=2, max_K=6, max_beta=100.0))
def test_reward_range_bound_holds(problem):
    P, mu, _, beta = problem
    P = 0.01 + 0.98 * P
    r = dpo.implicit_reward(P, mu, beta)
    assert r.max() - r.min() <= dpo.reward_range_bound(P, beta) * (1 + 1e-9) + 1e-12


def test_reward_range_bound_by_hand():
    # K = 2, p = 0.9: the range is beta logit(0.9) exactly, and the bound is (K - 1) beta logit(0.9)
    P = [[0.5, 0.9], [0.1, 0.5]]
    assert float(dpo.reward_range_bound(P, 2.0)) == pytest.approx(2 * logit(0.9), rel=1e-14)
    assert dpo.reward_range_bound([[0.5, 1.0], [0.0, 0.5]]) == np.inf


def test_misfit_and_spread_bound():
    rng = np.random.default_rng(17)
    samplers = rng.dirichlet(np.ones(4), size=4)
    bt = preferences.bradley_terry([0.3, -1.0, 2.0, 0.5])
    assert dpo.misfit(bt, samplers).max() < 1e-12 and dpo.spread_lower_bound(bt, samplers) < 1e-11
    for _ in range(5):
        P = preferences.random_preference_matrix(4, rng)
        rewards = dpo.implicit_reward(P, samplers, 1.5)
        spread = np.ptp(rewards - rewards[0], axis=-1).max()
        bound = dpo.spread_lower_bound(P, samplers, 1.5)
        assert 0 < bound <= spread


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dpo.implicit_reward(preferences.cyclic(0.1), [0.5, 0.5, 0.0]), r"mu must have full support"),
        (lambda: dpo.implicit_reward([[0.5, 1.0], [0.0, 0.5]], [0.5, 0.5]), r"no finite DPO optimum: responses \[0\]"),
        (lambda: dpo.reward_derivative(preferences.cyclic(0.1), simplex.uniform(3), beta=0), r"beta must be > 0, got 0"),
        (lambda: dpo.cubic_correction(preferences.cyclic(0.1), [0.5, 0.5]), r"mu must have 3 entries"),
        (lambda: dpo.spread_lower_bound(preferences.cyclic(0.1), np.full((3, 3), 1 / 3)), r"samplers must be linearly independent"),
        (lambda: dpo.spread_lower_bound(preferences.cyclic(0.1), simplex.uniform(3)), r"samplers of shape \(K, K\) = \(3, 3\)"),
    ],
)
def test_bad_input_of_the_new_functions(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- the compiled solver


def _transitive(K, p):
    P = np.full((K, K), 0.5)
    iu = np.triu_indices(K, 1)
    P[iu], P[iu[1], iu[0]] = p, 1.0 - p
    return P


@pytest.mark.parametrize(("K", "eps"), [(50, 1e-15), (200, 1e-6), (200, 1e-15)])
def test_near_deterministic_preferences_converge(K, eps):
    # i beats every j > i with probability 1 - eps: scores spread over hundreds to thousands of units,
    # which the step cap of 4 alone could not cover within MAX_ITER steps
    P, mu = _transitive(K, 1.0 - eps), simplex.uniform(K)
    x, residual = dpo.fit_scores(P[:, :, None], mu[:, None], np.zeros((K, 1)))
    assert residual[0] <= 1e-12
    # the first-order conditions, evaluated independently of the solver (scipy's expit, numpy sums)
    foc = expit(x[:, None, 0] - x[None, :, 0]) @ mu - P @ mu
    assert np.abs(foc).max() <= 2e-12
    log_pi = dpo.log_optimum(P, mu, np.log(mu), 1.0)[0]
    assert np.all(np.diff(log_pi) < 0)  # the transitive order is the order of the optimum


def test_block_solver_equals_the_one_problem_solver_bit_for_bit():
    rng = np.random.default_rng(16)
    for K in (2, 3, 5):
        n = 150
        P = np.stack([preferences.random_preference_matrix(K, rng) for _ in range(n)])
        eps = np.exp(rng.uniform(-8, -1, n))[:, None, None]
        P = eps + (1 - 2 * eps) * P
        mu = rng.dirichlet(np.full(K, 0.5), size=n).T.copy()
        warm = rng.normal(0.0, 3.0, (K, n))  # far starts: some problems leave the vectorised steps
        for is_warm in (False, True):
            x = warm.copy()
            assert dpo._solve_block(P, np.arange(n), mu, x, is_warm, 1e-12, dpo.MAX_ITER) == (0, 0, 0.0)
            NM, target, M, v, one = np.empty((K, K)), np.empty(K), np.empty((5, K, K)), np.empty((5, K)), np.empty(K)
            for b in range(n):
                starts = np.stack([warm[:, b], np.full(K, np.nan)]) if is_warm else np.full((1, K), np.nan)
                dpo._solve(P[b], mu[:, b].copy(), starts, one, NM, target, M, v, 1e-12, dpo.MAX_ITER)
                np.testing.assert_array_equal(x[:, b], one)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: dpo.fit_scores(preferences.cyclic(0.2), [[1.0], [0.0], [0.0]], np.zeros((3, 1))), r"P must be a response-first batch"),
        (lambda: dpo.fit_scores(preferences.cyclic(0.2)[:, :, None], [[0.5], [0.6], [0.0]], np.zeros((3, 1))), r"mu must sum to 1"),
        (lambda: dpo.fit_scores(preferences.cyclic(0.2)[:, :, None], [[0.5, 0.2]], np.zeros((3, 2))), r"mu must have shape \(K, n\)"),
        (lambda: dpo.fit_scores(preferences.cyclic(0.2)[:, :, None], np.full((3, 1), 1 / 3), np.zeros(3)), r"start must have shape \(K, n\)"),
        (lambda: dpo.fit_scores(preferences.cyclic(0.2)[:, :, None], np.full((3, 1), 1 / 3), np.full((3, 1), np.nan)), r"start must be finite"),
        (lambda: dpo.fit_scores(preferences.cyclic(0.2)[:, :, None], np.full((3, 1), 1 / 3), np.zeros((3, 1)), tol=-1.0), r"tol must be > 0"),
        (lambda: dpo.fit_scores(np.array([[0.5, 1.0], [0.0, 0.5]])[:, :, None], np.full((2, 1), 0.5), np.zeros((2, 1))), r"no finite DPO optimum"),
        (lambda: dpo.start_scores(preferences.cyclic(0.2)[:, :, None] + 0.1, np.full((3, 1), 1 / 3)), r"P must satisfy P \+ P.T = 1"),
        (lambda: dpo.start_scores(np.stack([preferences.cyclic(0.2)] * 2, axis=-1), np.full((3, 3), 1 / 3)), r"P must hold 1 or n = 3 matrices"),
    ],
)
def test_solver_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()
