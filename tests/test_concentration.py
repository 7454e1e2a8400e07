import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prefalign import concentration, ipo, preferences

from strategies import distributions, orders, preference_matrices

THEORY_TRANSITIVE = np.array([[0.5, 0.51, 0.7, 0.6], [0.49, 0.5, 0.9, 0.8], [0.3, 0.1, 0.5, 0.51], [0.4, 0.2, 0.49, 0.5]])


def test_logit_gaps_by_hand():
    # P_{1/4}, mu = (1/2, 1/4, 1/4): P mu = (0.5, 0.4375, 0.5625); beta = 4
    G = concentration.logit_gaps(preferences.cyclic(0.25), [0.5, 0.25, 0.25], beta=4.0)
    assert G[0, 1] == pytest.approx(0.25, abs=1e-14)
    assert G[2, 0] == pytest.approx(0.25, abs=1e-14)
    assert G[2, 1] == pytest.approx(0.5, abs=1e-14)
    np.testing.assert_allclose(G, -G.T, atol=0)


def test_gap_profiles_of_the_theory_counterexample_by_hand():
    # rows 0 and 1 differ by (.01, .01, -.2, -.2): non-increasing; rows 2 and 3 by (-.1, -.1, .01, .01): rising
    np.testing.assert_allclose(concentration.gap_profile(THEORY_TRANSITIVE, 0, 1), [0.01, 0.01, -0.2, -0.2], atol=1e-14)
    assert concentration.is_monotone_pair(THEORY_TRANSITIVE, 0, 1)
    assert not concentration.is_monotone_pair(THEORY_TRANSITIVE, 2, 3)


def test_shrinking_shift_by_hand():
    # pair (2, 3): d rises from -.1 (position 1) to .01 (position 2); moving 1/8 from response 2 to
    # response 1 changes g_23 by (d_1 - d_2)/8 = -0.11/8 = -0.01375 (beta = 1)
    mu, mu_new = concentration.shrinking_shift(THEORY_TRANSITIVE, 2, 3)
    np.testing.assert_allclose(mu, np.full(4, 0.25))
    np.testing.assert_allclose(mu_new, [0.25, 0.375, 0.125, 0.25])
    change = concentration.logit_gaps(THEORY_TRANSITIVE, mu_new)[2, 3] - concentration.logit_gaps(THEORY_TRANSITIVE, mu)[2, 3]
    assert change == pytest.approx(-0.01375, abs=1e-14)
    assert concentration.shrinking_shift(THEORY_TRANSITIVE, 0, 1) is None


def test_is_top_heavier_by_hand():
    order = [2, 0, 1]
    assert concentration.is_top_heavier([0.2, 0.2, 0.6], [0.3, 0.3, 0.4], order)  # cumulative (.6, .8) >= (.4, .7)
    assert not concentration.is_top_heavier([0.3, 0.3, 0.4], [0.2, 0.2, 0.6], order)
    assert not concentration.is_top_heavier([0.5, 0.0, 0.5], [0.1, 0.3, 0.6], order)  # (.5, 1) vs (.6, .7): fails at m = 1


def test_adjacent_shift_balances_by_hand():
    # P_{1/4}, uniform -> (1/2, 1/4, 1/4): delta = (1/6, -1/12, -1/12), A delta = (0, -1/16, 1/16).
    # Gap changes: g_01 +1/16, g_12 -1/8; cumulative shift D = (1/6, 1/12); 1/6 * 1/16 - 1/12 * 1/8 = 0.
    shift = concentration.adjacent_shift(preferences.cyclic(0.25), [0.5, 0.25, 0.25], np.full(3, 1 / 3), [0, 1, 2])
    np.testing.assert_allclose(shift.shifted, [1 / 6, 1 / 12], atol=1e-15)
    np.testing.assert_allclose(shift.change, [1 / 16, -1 / 8], atol=1e-15)


def test_abel_terms_by_hand():
    # THEORY_TRANSITIVE pair (0, 1), profile (.01, .01, -.2, -.2); move 0.1 from response 3 to response 0:
    # D = (0.1, 0.1, 0.1), terms beta * D * (0, 0.21, 0) with beta = 2
    mu = np.full(4, 0.25)
    terms = concentration.abel_terms(THEORY_TRANSITIVE, 0, 1, mu + [0.1, 0, 0, -0.1], mu, beta=2.0)
    np.testing.assert_allclose(terms, [0.0, 0.042, 0.0], atol=1e-14)


def test_bradley_terry_only_the_top_pair_is_monotone():
    P = preferences.bradley_terry([3.0, 2.0, 1.0, 0.0])
    monotone = [(i, j) for i in range(4) for j in range(i + 1, 4) if concentration.is_monotone_pair(P, i, j)]
    assert monotone == [(0, 1)]


def test_linear_every_pair_is_monotone_and_frozen():
    P = preferences.linear([0.2, 0.05, 0.0, -0.25])
    assert all(concentration.is_monotone_pair(P, i, j) for i in range(4) for j in range(i + 1, 4))
    rng = np.random.default_rng(0)
    G = concentration.logit_gaps(P, rng.dirichlet(np.ones(4), size=5), 3.0)
    np.testing.assert_allclose(G, np.broadcast_to(G[0], G.shape), atol=1e-14)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: concentration.gap_profile(preferences.cyclic(0.2), 0, 1), "order must be given when P is not transitive"),
        (lambda: concentration.gap_profile(THEORY_TRANSITIVE, 1, 1), r"i and j must be two different responses in 0..3, got i = 1, j = 1"),
        (lambda: concentration.gap_profile(THEORY_TRANSITIVE, 0, 4), "i and j must be two different responses"),
        (lambda: concentration.gap_profile(THEORY_TRANSITIVE, 0, 1, [0, 1, 1, 2]), r"order must be a permutation of 0..3"),
        (lambda: concentration.is_top_heavier([0.5, 0.5], [0.2, 0.3, 0.5], [0, 1, 2]), "mu_new and mu must be single samplers of the same shape"),
        (lambda: concentration.logit_gaps(THEORY_TRANSITIVE, np.full(4, 0.25), beta=0.0), "beta must be > 0, got 0"),
        (lambda: concentration.random_top_heavier([0.5, 0.5], [0, 2], np.random.default_rng(0)), "order must be a permutation"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _problem(K_max=7):
    return preference_matrices(min_K=2, max_K=K_max).flatmap(
        lambda P: st.tuples(st.just(P), distributions(len(P), min_mass=1e-9), orders(len(P)), st.integers(0, 2**32 - 1)))


@given(_problem(), st.floats(0.01, 100.0))
def test_logit_gap_is_the_log_odds_of_the_optimum(args, beta):
    P, mu, _, seed = args
    ref = np.random.default_rng(seed).dirichlet(np.ones(len(P)))
    log_pi = np.log(ipo.ipo_optimum(P, mu, ref, beta)) - np.log(ref)
    np.testing.assert_allclose(log_pi[:, None] - log_pi[None, :], concentration.logit_gaps(P, mu, beta), atol=1e-9 * (1 + beta))


@given(_problem(), st.floats(0.01, 100.0))
def test_abel_identity_and_balance_for_random_moves(args, beta):
    P, mu, order, seed = args
    rng = np.random.default_rng(seed)
    mu_new = concentration.random_top_heavier(mu, order, rng)
    assert concentration.is_top_heavier(mu_new, mu, order)
    G = concentration.logit_gaps(P, np.stack([mu_new, mu]), beta)
    i, j = rng.choice(len(P), size=2, replace=False)
    terms = concentration.abel_terms(P, int(i), int(j), mu_new, mu, order, beta)
    assert terms.sum() == pytest.approx(G[0, i, j] - G[1, i, j], abs=1e-10 * (1 + beta))
    if concentration.is_monotone_pair(P, int(i), int(j), order):
        assert G[0, i, j] - G[1, i, j] >= -1e-10 * (1 + beta)
    shift = concentration.adjacent_shift(P, mu_new, mu, order, beta)
    assert abs(shift.shifted @ shift.change) <= 1e-10 * (1 + beta)
