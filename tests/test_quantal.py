"""prefalign.quantal: the on-policy optimum as a logit equilibrium (hand values, properties, bad input)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefalign import ipo, preferences, quantal, social_choice


def test_two_responses_threshold_is_zero_and_bound_is_close_to_exact():
    # K = 2: theta = 1, h(1) = 0, log(K - 1) = 0, so beta_0 = 0; exact 1 - pi_1 = sigmoid(-beta m)
    m = 0.2
    P = np.array([[0.5, 0.5 + m], [0.5 - m, 0.5]])
    assert quantal.condorcet_threshold(P) == 0.0
    beta = 40.0
    bound = float(quantal.offwinner_bound(P, beta))
    exact = 1 / (1 + np.exp(beta * m))
    assert exact <= bound <= np.e * exact * 1.01
    # h(eps)/eps = beta m at the bound
    h = -bound * np.log(bound) - (1 - bound) * np.log1p(-bound)
    assert h / bound == pytest.approx(beta * m, rel=1e-10)


def test_winner_margins_by_hand():
    P = np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.9], [0.3, 0.1, 0.5]])
    c, m, w = quantal.winner_margins(P)
    assert c == 0
    np.testing.assert_allclose(m, [0.0, 0.1, 0.2])
    # w_1 = max(0, P[1,2] - P[0,2]) = 0.2; w_2 = max(0, P[2,1] - P[0,1]) = 0
    np.testing.assert_allclose(w, [0.0, 0.2, 0.0])
    theta = min(0.1 / 0.3, 0.2 / 0.2)
    h = -theta * np.log(theta) - (1 - theta) * np.log(1 - theta)
    assert quantal.condorcet_threshold(P) == pytest.approx((h / theta + np.log(2)) / 0.1, rel=1e-12)


def test_beyond_threshold_the_onpolicy_optimum_is_condorcet_top():
    P = np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.9], [0.3, 0.1, 0.5]])
    beta0 = quantal.condorcet_threshold(P)
    for beta in (1.01 * beta0, 2 * beta0):
        pi = ipo.onpolicy_optimum(P, beta=beta)
        assert social_choice.is_condorcet_top(pi, P)
        assert 1 - pi[0] <= quantal.offwinner_bound(P, beta)


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 6), st.integers(0, 2**32 - 1), st.floats(0.5, 200.0))
def test_regret_and_offwinner_bounds_hold(K, seed, beta):
    P = preferences.random_with_smith_set(K, 1, np.random.default_rng(seed))
    pi = ipo.onpolicy_optimum(P, beta=beta)
    assert quantal.regret(pi, P) <= np.log(K) / beta + 1e-9
    c = social_choice.condorcet_winner(P)
    assert 1 - pi[c] <= float(quantal.offwinner_bound(P, beta)) * (1 + 1e-9)


def test_offwinner_bound_decreases_in_beta():
    P = preferences.random_with_smith_set(5, 1, np.random.default_rng(3))
    b = quantal.offwinner_bound(P, np.geomspace(1, 1e3, 30))
    assert b.shape == (30,) and np.all(np.diff(b) <= 0) and b[0] == 1.0


def test_smith_trap_payoffs_and_lottery():
    P = quantal.smith_trap(a=0.2, b=0.4, eta=0.05, eta_out=0.02)
    assert social_choice.smith_set(P) == [0, 1, 2, 3]
    low, high = quantal.maximal_lottery_range(P)
    np.testing.assert_allclose(low, [1 / 3, 1 / 3, 1 / 3, 0, 0], atol=1e-9)
    np.testing.assert_allclose(high, low, atol=1e-9)
    np.testing.assert_allclose(quantal.limit_payoffs(P), [0, 0, 0, (0.05 - 0.8) / 3, -0.02], atol=1e-9)
    assert quantal.limit_smith_top(P) is False


def test_limit_with_a_condorcet_winner_is_the_point_mass():
    P = preferences.random_with_smith_set(4, 1, np.random.default_rng(0))
    c = social_choice.condorcet_winner(P)
    np.testing.assert_allclose(quantal.limit_payoffs(P), P[:, c] - 0.5, atol=1e-9)
    assert quantal.limit_smith_top(P) is True


def test_cycle_has_a_full_smith_set_and_no_outsider():
    assert quantal.limit_smith_top(preferences.cyclic(0.2)) is True


@pytest.mark.parametrize("call, word", [
    (lambda: quantal.condorcet_threshold(preferences.cyclic(0.2)), "Condorcet winner"),
    (lambda: quantal.offwinner_bound(np.array([[0.5, 0.7], [0.3, 0.5]]), -1.0), "beta"),
    (lambda: quantal.smith_trap(eta=0.9), "eta"),
    (lambda: quantal.smith_trap(eta_out=0.3), "eta_out"),
    (lambda: quantal.regret([0.5, 0.5], preferences.cyclic(0.2)), "pi"),
    (lambda: quantal.limit_payoffs(preferences.cyclic(0.2), tol=0.0), "tol"),
    (lambda: quantal.maximal_lottery_range(np.ones((3, 3))), "P"),
])
def test_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()
