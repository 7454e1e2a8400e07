import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import logit

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
