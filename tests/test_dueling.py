"""prefalign.dueling: learning the Smith sampler from comparisons (hand values, properties, bad input)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prefalign import dueling, preferences, social_choice


def test_radius_by_hand():
    K, delta, n = 4, 0.1, 50
    expected = np.sqrt(np.log(np.pi**2 * 12 * n**2 / (6 * delta)) / (2 * n))
    assert dueling.hoeffding_radius(n, K, delta) == pytest.approx(expected, rel=1e-15)
    assert dueling.hoeffding_radius(0, K, delta) == np.inf


def test_fixed_count_by_hand():
    # Condorcet winner 0 with margins .1, .2; pairs touching S = {0}: (0,1), (0,2), so M = 2, Delta = .1
    P = np.array([[0.5, 0.6, 0.7], [0.4, 0.5, 0.9], [0.3, 0.1, 0.5]])
    assert dueling.fixed_count_sufficient(P, 0.05) == pytest.approx(np.log(2 * 2 / 0.05) / (2 * 0.01), rel=1e-12)


def test_smith_margin_by_hand():
    # Condorcet winner 0 (S = {0}) with margins .2, .3, .25; the pair (1, 2) lies outside S and has the
    # smallest margin of all, .05, which Delta must ignore: Delta = .2
    P = np.full((4, 4), 0.5)
    for (i, j), p in {(0, 1): 0.7, (0, 2): 0.8, (0, 3): 0.75, (1, 2): 0.55, (1, 3): 0.9, (2, 3): 0.6}.items():
        P[i, j], P[j, i] = p, 1 - p
    assert dueling.smith_margin(P) == pytest.approx(0.2, abs=1e-12)
    # a 3-cycle {0, 1, 2} (margins .2, .3, .25) over response 3, which loses to it by .45, .45, .05:
    # every pair touches S, Delta = .05
    C = np.full((4, 4), 0.5)
    for (i, j), p in {(0, 1): 0.7, (1, 2): 0.8, (2, 0): 0.75, (0, 3): 0.95, (1, 3): 0.95, (2, 3): 0.55}.items():
        C[i, j], C[j, i] = p, 1 - p
    assert dueling.smith_margin(C) == pytest.approx(0.05, abs=1e-12)
    with pytest.raises(ValueError, match="P"):
        dueling.smith_margin(np.stack([P, P]))


def test_estimate_defaults_to_a_half():
    W = np.array([[0, 3, 0], [1, 0, 0], [0, 0, 0]])
    P_hat = dueling.estimate(W, W + W.T)
    np.testing.assert_allclose(P_hat, [[0.5, 0.75, 0.5], [0.25, 0.5, 0.5], [0.5, 0.5, 0.5]])


def test_comparisons_needed():
    assert dueling.comparisons_needed([10, 30, 70, 150], [0.5, 0.95, 0.85, 0.95], 0.1) == 150
    assert dueling.comparisons_needed([10, 30], [0.95, 0.99], 0.1) == 10
    assert dueling.comparisons_needed([10, 30], [0.95, 0.5], 0.1) == np.inf


def test_allocation_equalises_counts():
    counts = np.zeros((3, 3))
    counts[0, 1] = counts[1, 0] = 5
    pairs = (np.array([0, 0, 1]), np.array([1, 2, 2]))
    extra = dueling._allocate(counts, pairs, 11)
    assert extra.sum() == 11
    final = counts[pairs] + extra
    np.testing.assert_array_equal(np.sort(final), [5, 5, 6])  # 16 in all: 5 + 5 + 6


@settings(max_examples=10, deadline=None)
@given(st.integers(3, 5), st.sampled_from(dueling.RULES), st.integers(0, 2**32 - 1))
def test_learner_shapes_budgets_and_samplers(K, rule, seed):
    rng = np.random.default_rng(seed)
    P = preferences.random_with_smith_set(K, 1, rng)
    run = dueling.learn_smith_sampler(P, rng, rule=rule, rounds=4, repetitions=3)
    M = K * (K - 1) // 2
    np.testing.assert_array_equal(run.comparisons, M * np.array([1, 3, 7, 15]))
    assert run.samplers.shape == (3, 4, K) and run.smith_top.shape == (3, 4)
    np.testing.assert_allclose(run.samplers.sum(axis=-1), 1.0)
    assert np.all(run.samplers > 0)


def test_learner_is_deterministic_given_the_seed():
    P = preferences.random_with_smith_set(5, 3, np.random.default_rng(1))
    a = dueling.learn_smith_sampler(P, np.random.default_rng(9), rounds=5, repetitions=4)
    b = dueling.learn_smith_sampler(P, np.random.default_rng(9), rounds=5, repetitions=4)
    np.testing.assert_array_equal(a.samplers, b.samplers)


def test_learner_finds_an_easy_condorcet_winner():
    P = np.array([[0.5, 0.9, 0.9], [0.1, 0.5, 0.6], [0.1, 0.4, 0.5]])
    run = dueling.learn_smith_sampler(P, np.random.default_rng(0), rounds=8, repetitions=20)
    assert run.success_rate()[-1] == 1.0
    assert run.samplers[:, -1].argmax(axis=-1).tolist() == [social_choice.condorcet_winner(P)] * 20


@pytest.mark.parametrize("call, word", [
    (lambda: dueling.hoeffding_radius(-1, 3, 0.1), "n"),
    (lambda: dueling.hoeffding_radius(1, 3, 1.5), "delta"),
    (lambda: dueling.fixed_count_sufficient(preferences.cyclic(0.2), 0.0), "delta"),
    (lambda: dueling.estimate(np.ones((2, 2)), np.zeros((2, 2))), "wins"),
    (lambda: dueling.learn_smith_sampler(preferences.cyclic(0.2), np.random.default_rng(0), rule="greedy"), "rule"),
    (lambda: dueling.learn_smith_sampler(preferences.cyclic(0.2), 0), "rng"),
    (lambda: dueling.learn_smith_sampler(preferences.cyclic(0.2), np.random.default_rng(0), rounds=0), "rounds"),
    (lambda: dueling.comparisons_needed([1, 2], [1.0], 0.1), "comparisons"),
])
def test_bad_input_names_the_argument(call, word):
    with pytest.raises(ValueError, match=word):
        call()
