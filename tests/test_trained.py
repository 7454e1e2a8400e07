"""prefalign.trained: per-pair losses, sampled shares, the tabular and the shared engines."""

import numpy as np
import pytest

from prefalign import dpo, dynamics, ipo, preferences, simplex, trained


def problem(K=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng, preferences.random_preference_matrix(K, rng), rng.dirichlet(np.ones(K)), rng.dirichlet(np.ones(K)),
            rng.dirichlet(np.ones(K)))


def test_expected_losses_are_the_package_population_losses():
    rng, P, mu, ref, pi = problem()
    W = trained.expected_weights(P, mu)
    assert W.sum() == pytest.approx(1.0, abs=1e-15)
    x = np.log(pi) - np.log(ref)
    assert trained.pair_loss(x, W, 1.7, "ipo") == pytest.approx(ipo.expected_sampled_loss(pi, P, mu, ref, 1.7), rel=1e-13)
    assert trained.pair_loss(x, W, 1.7, "dpo") == pytest.approx(2 * dpo.population_loss(pi, P, mu, ref, 1.7), rel=1e-13)


@pytest.mark.parametrize("loss", ["ipo", "dpo"])
def test_gradient_and_hessian_against_central_differences(loss):
    rng, P, mu, ref, pi = problem(5, 1)
    W = trained.expected_weights(P, mu)
    x = rng.normal(size=5)
    e, eye = 1e-6, np.eye(5)
    grad = trained.pair_gradient(x, W, 0.8, loss)
    fd = np.array([(trained.pair_loss(x + e * v, W, 0.8, loss) - trained.pair_loss(x - e * v, W, 0.8, loss)) / (2 * e)
                   for v in eye])
    assert np.abs(grad - fd).max() < 1e-8 and abs(grad.sum()) < 1e-14
    hess = trained.pair_hessian(x, W, 0.8, loss)
    fdh = np.array([(trained.pair_gradient(x + e * v, W, 0.8, loss) - trained.pair_gradient(x - e * v, W, 0.8, loss))
                    / (2 * e) for v in eye])
    assert np.abs(hess - fdh).max() < 1e-7 and np.abs(hess.sum(axis=-1)).max() < 1e-14


def test_ipo_hessian_is_four_times_the_covariance_and_batches():
    rng, P, mu, ref, pi = problem()
    C = np.diag(mu) - np.outer(mu, mu)
    H = trained.pair_hessian(np.zeros(4), trained.expected_weights(P, mu), 2.0)
    assert np.abs(H - 4 * C).max() < 1e-15
    Ps = np.stack([P, P.T])
    mus = np.stack([mu, mu[::-1]])
    batch = trained.pair_gradient(rng.normal(size=(2, 4)), trained.expected_weights(Ps, mus), np.array([1.0, 3.0]))
    assert batch.shape == (2, 4)


def test_sampled_shares_are_unbiased():
    rng, P, mu, _, _ = problem(3, 2)
    W = trained.expected_weights(P, mu)
    draws = trained.sample_weights(np.broadcast_to(W, (20000, 3, 3)), 10, rng)
    assert np.allclose(draws.sum(axis=(-2, -1)), 1.0)
    z = (draws.mean(axis=0) - W) / np.sqrt(W * (1 - W) / 10 / 20000 + 1e-300)
    assert np.abs(z).max() < 5


def test_validation_names_the_argument():
    _, P, mu, _, _ = problem()
    W = trained.expected_weights(P, mu)
    with pytest.raises(ValueError, match="loss must be 'ipo' or 'dpo'"):
        trained.pair_loss(np.zeros(4), W, 1.0, "kto")
    with pytest.raises(ValueError, match="weights must be non-negative"):
        trained.pair_gradient(np.zeros(4), -W, 1.0)
    with pytest.raises(ValueError, match=r"weights must have shape \(\.\.\., K, K\) with K = 3"):
        trained.pair_hessian(np.zeros(3), W, 1.0)
    with pytest.raises(ValueError, match="rng must be a numpy Generator or an integer seed, got None"):
        trained.sample_weights(W, 10, None)
    assert np.array_equal(trained.sample_weights(W, 10, 0), trained.sample_weights(W, 10, np.random.default_rng(0)))
    with pytest.raises(ValueError, match="beta must be > 0"):
        trained.pair_loss(np.zeros(4), W, 0.0)


def test_population_round_is_the_affine_formula_and_s_equals_one_at_a_uniform_sampler():
    rng, P, _, ref, pi = problem(4, 3)
    lp = np.log(pi)
    out = trained.trained_round(lp, P, alpha=0.6, beta=1.3, lam=0.7, lr=0.3, grad_steps=5, ref=ref)
    T = dynamics.mrs_ipo_step(lp, P, alpha=0.6, beta=1.3, lam=0.7, ref=ref)
    mu = 0.7 * pi + 0.3 / 4
    M = np.linalg.matrix_power(np.eye(4) - 1.2 * (np.diag(mu) - np.outer(mu, mu)), 5)
    assert dynamics.logit_distance(out, T + M @ (lp - T)) < 1e-13
    # a uniform sampler (lam = 0, uniform pi0) and one step of K/4 land exactly on the exact round
    one = trained.trained_round(lp, P, alpha=0.6, beta=1.3, lam=0.0, lr=1.0 - 1e-12, grad_steps=1, ref=ref)
    exact = dynamics.mrs_ipo_step(lp, P, alpha=0.6, beta=1.3, lam=0.0, ref=ref)
    assert dynamics.logit_distance(one, exact) < 1e-10


def test_trajectories_do_not_depend_on_the_batch_and_seeds_are_reproducible():
    P = preferences.cyclic(0.3)
    args = dict(beta=6.0, lam=1.0, lr=0.2, grad_steps=3, rounds=120, init=[0.5, 0.3, 0.2], record="last")
    batch = trained.simulate_trained(P, alpha=np.array([0.2, 0.7]), **args)
    alone = trained.simulate_trained(P, alpha=0.7, **args)
    assert np.array_equal(batch.final_log_pi[1], alone.final_log_pi) and batch.cycle_strength[1] == alone.cycle_strength
    first = trained.simulate_trained(P, alpha=0.5, pairs=50, rng=np.random.default_rng(4), **args)
    again = trained.simulate_trained(P, alpha=0.5, pairs=50, rng=np.random.default_rng(4), **args)
    other = trained.simulate_trained(P, alpha=0.5, pairs=50, rng=np.random.default_rng(5), **args)
    assert np.array_equal(first.log_pi, again.log_pi) and not np.array_equal(first.log_pi, other.log_pi)


def test_trajectory_summaries_match_the_recorded_policies():
    run = trained.simulate_trained(preferences.cyclic(0.4), alpha=0.3, beta=12.0, lam=1.0, lr=0.3, grad_steps=2,
                                   rounds=300, init=[0.5, 0.3, 0.2], loss="dpo")
    assert run.log_pi.shape == (301, 3) and list(run.t) == list(range(301))
    assert run.cycle_strength == pytest.approx(float(dynamics.cycle_strength(run.pi, run.burn_in)), rel=1e-10)
    assert run.entropy == pytest.approx(float(simplex.entropy_from_log(run.final_log_pi)), rel=1e-14)
    assert run.last_move == pytest.approx(float(dynamics.logit_distance(run.log_pi[-1], run.log_pi[-2])), rel=1e-12)


def test_minibatches_and_sampled_pairs_run_for_both_losses():
    rng = np.random.default_rng(6)
    for loss, beta in (("ipo", 4.0), ("dpo", 1.0)):
        run = trained.simulate_trained(preferences.cyclic(0.3), alpha=np.array([0.0, 0.9]), beta=beta, lam=0.5, lr=0.1,
                                       grad_steps=3, rounds=20, pairs=40, batch=8, loss=loss, rng=rng, record="last")
        assert np.all(np.isfinite(run.final_log_pi))


def test_engine_validation():
    P = preferences.cyclic(0.3)
    args = dict(alpha=0.5, beta=2.0, lam=1.0, grad_steps=2, rounds=5)
    with pytest.raises(ValueError, match="lr must be < 1 for ipo"):
        trained.simulate_trained(P, lr=1.5, **args)
    with pytest.raises(ValueError, match="lr must be < 0.5 for ipo"):
        trained.simulate_trained(P, lr=0.7, pairs=10, rng=np.random.default_rng(0), **args)
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator or an integer seed when pairs"):
        trained.simulate_trained(P, lr=0.1, pairs=10, **args)
    with pytest.raises(ValueError, match="rng is unused"):
        trained.simulate_trained(P, lr=0.1, rng=np.random.default_rng(0), **args)
    with pytest.raises(ValueError, match="pairs must be >= 1"):
        trained.simulate_trained(P, lr=0.1, pairs=0, rng=np.random.default_rng(0), **args)
    with pytest.raises(ValueError, match="must broadcast"):
        trained.simulate_trained(P, alpha=np.zeros(2), beta=np.ones(3), lam=1.0, lr=0.1, grad_steps=1, rounds=2)
    with pytest.raises(ValueError, match="loss must be 'ipo' or 'dpo'"):
        trained.simulate_trained(P, lr=0.1, loss="slic", **args)
    assert trained.max_lr("dpo", 0.5, sampled=False) == pytest.approx(2.0)


def test_shared_policy_with_one_hot_features_is_the_tabular_policy():
    rng = np.random.default_rng(7)
    X, K = 3, 3
    P = np.stack([preferences.cyclic(0.3), preferences.bradley_terry([1.0, 0.5, 0.0]), preferences.random_preference_matrix(3, rng)])
    one_hot = np.eye(X * K).reshape(X, K, X * K)
    ref, pi0 = rng.dirichlet(np.ones(K), size=X), rng.dirichlet(np.ones(K), size=X)
    for loss, beta in (("ipo", 3.0), ("dpo", 0.5)):
        shared = trained.simulate_shared(P, one_hot, alpha=np.array([0.3, 0.7]), beta=beta, lam=0.8, lr=0.3, grad_steps=3,
                                         rounds=40, loss=loss, ref=ref, pi0=pi0, init=np.full(X * K, -np.log(K)))
        tabular = trained.simulate_trained(P, alpha=np.array([0.3, 0.7])[:, None], beta=beta, lam=0.8, lr=0.1, grad_steps=3,
                                           rounds=40, loss=loss, ref=ref, pi0=pi0, init=np.full(K, 1 / K))
        assert np.abs(shared.log_pi - tabular.log_pi.transpose(0, 2, 1, 3)).max() < 1e-12
        assert np.abs(shared.cycle_strength - tabular.cycle_strength).max() < 1e-15


def test_shared_policy_validation():
    P = np.stack([preferences.cyclic(0.3)] * 2)
    phi = trained.gaussian_features(2, 3, 4, np.random.default_rng(0))
    args = dict(alpha=0.5, beta=2.0, lam=1.0, grad_steps=1, rounds=3)
    with pytest.raises(ValueError, match=r"features must have shape \(X, K, d\) = \(2, 3, d\)"):
        trained.simulate_shared(P, phi[:1], lr=0.1, **args)
    with pytest.raises(ValueError, match="P must hold one K x K matrix per prompt"):
        trained.simulate_shared(P[0], phi, lr=0.1, **args)
    with pytest.raises(ValueError, match="lr must be < max_lr"):
        trained.simulate_shared(P, phi, lr=100.0, **args)
    with pytest.raises(ValueError, match="init must have d = 4 entries"):
        trained.simulate_shared(P, phi, lr=0.1, init=np.zeros(5), **args)
