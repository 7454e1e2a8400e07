import numpy as np
import pytest
from hypothesis import given

from prefalign import preferences, social_choice

from strategies import preference_matrices

# Responses 0, 1, 2 form a cycle (0 > 1 > 2 > 0); each beats response 3. Worked out by hand:
# Borda  b = (0.6+0.2+0.9, 0.4+0.7+0.55, 0.8+0.3+0.65, 0.1+0.45+0.35) = (1.7, 1.65, 1.75, 0.9)
# Copeland = (2, 2, 2, 0); Smith set = {0, 1, 2}; no Condorcet winner.
# Maximal lottery: on the cycle with margins a=0.1 (0>1), b=0.2 (1>2), c=0.3 (2>0) it is
# proportional to (b, c, a) = (0.2, 0.3, 0.1), i.e. (1/3, 1/2, 1/6, 0).
HAND = np.array([
    [0.5, 0.6, 0.2, 0.9],
    [0.4, 0.5, 0.7, 0.55],
    [0.8, 0.3, 0.5, 0.65],
    [0.1, 0.45, 0.35, 0.5],
])


def test_hand_example_scores():
    np.testing.assert_allclose(social_choice.borda_scores(HAND), [1.7, 1.65, 1.75, 0.9], atol=1e-14)
    np.testing.assert_array_equal(social_choice.copeland_scores(HAND), [2, 2, 2, 0])
    assert social_choice.smith_set(HAND) == [0, 1, 2]
    assert social_choice.condorcet_winner(HAND) is None


def test_hand_example_maximal_lottery():
    np.testing.assert_allclose(social_choice.maximal_lottery(HAND), [1 / 3, 1 / 2, 1 / 6, 0.0], atol=1e-9)


def test_rock_paper_scissors_maximal_lottery_is_uniform():
    np.testing.assert_allclose(social_choice.maximal_lottery(preferences.cyclic(0.5)), np.full(3, 1 / 3), atol=1e-9)


def test_condorcet_winner_and_smith_singleton():
    P = preferences.bradley_terry([0.0, 1.0, -1.0])
    assert social_choice.condorcet_winner(P) == 1
    assert social_choice.smith_set(P) == [1]
    np.testing.assert_allclose(social_choice.maximal_lottery(P), [0, 1, 0], atol=1e-9)


def test_copeland_counts_ties_half():
    P = preferences.validate([[0.5, 0.5, 0.9], [0.5, 0.5, 0.2], [0.1, 0.8, 0.5]])
    np.testing.assert_array_equal(social_choice.copeland_scores(P), [1.5, 0.5, 1.0])


def test_smith_set_all_ties_is_everything():
    assert social_choice.smith_set(preferences.cyclic(0.0)) == [0, 1, 2]


def test_social_choice_rejects_batches_and_bad_P():
    with pytest.raises(ValueError, match="single K x K matrix"):
        social_choice.smith_set(np.stack([HAND, HAND]))
    with pytest.raises(ValueError, match=r"P must satisfy P \+ P.T = 1"):
        social_choice.borda_scores([[0.5, 0.9], [0.9, 0.5]])


@given(preference_matrices(min_K=2, max_K=7))
def test_smith_set_is_smallest_dominating_set(P):
    S = social_choice.smith_set(P)
    out = [j for j in range(len(P)) if j not in S]
    assert all(P[s, o] > 0.5 for s in S for o in out)
    c = social_choice.condorcet_winner(P)
    if c is not None:
        assert S == [c]
    # minimality: no proper prefix of S (in any order) dominates; check all proper subsets for small K
    if len(S) <= 5:
        from itertools import combinations

        for size in range(1, len(S)):
            for sub in combinations(S, size):
                rest = [j for j in range(len(P)) if j not in sub]
                assert not all(P[s, o] > 0.5 for s in sub for o in rest)


@given(preference_matrices(min_K=2, max_K=7))
def test_maximal_lottery_is_unbeaten(P):
    p = social_choice.maximal_lottery(P)
    assert p.min() >= 0 and abs(p.sum() - 1) < 1e-12
    assert np.all(p @ P >= 0.5 - 1e-8)
    assert set(np.flatnonzero(p > 1e-7)) <= set(social_choice.smith_set(P))


# fooling_matrix(uniform(3)): 0 is the Condorcet winner; Borda prefers 1 (17/12 against 14/12).
FOOLED = np.array([[0.5, 7 / 12, 7 / 12], [5 / 12, 0.5, 1.0], [5 / 12, 0.0, 0.5]])


def test_is_condorcet_top_by_hand():
    assert social_choice.is_condorcet_top([0.5, 0.3, 0.2], FOOLED)
    assert not social_choice.is_condorcet_top([0.3, 0.5, 0.2], FOOLED)
    assert not social_choice.is_condorcet_top([0.4, 0.4, 0.2], FOOLED)  # a tie with the winner is a violation
    assert social_choice.is_condorcet_top([0.1, 0.1, 0.8], preferences.cyclic(0.2))  # no winner: nothing asked


def test_is_smith_top_by_hand():
    # HAND: Smith set {0, 1, 2}, outsider 3
    assert social_choice.is_smith_top([0.3, 0.3, 0.3, 0.1], HAND)
    assert not social_choice.is_smith_top([0.3, 0.3, 0.2, 0.2], HAND)  # tie across the boundary
    assert not social_choice.is_smith_top([0.4, 0.3, 0.1, 0.2], HAND)
    assert social_choice.is_smith_top([0.1, 0.1, 0.8], preferences.cyclic(0.2))  # Smith set = everything


def test_ranking_properties_of_a_batch_of_policies():
    batch = np.array([[[0.5, 0.3, 0.2], [0.3, 0.5, 0.2]], [[0.4, 0.4, 0.2], [0.6, 0.3, 0.1]]])
    np.testing.assert_array_equal(social_choice.is_condorcet_top(batch, FOOLED), [[True, False], [False, True]])
    np.testing.assert_array_equal(social_choice.is_smith_top(batch, FOOLED), [[True, False], [False, True]])
    np.testing.assert_array_equal(social_choice.is_order_preserving(batch, FOOLED), [[True, False], [False, True]])
    assert type(social_choice.is_smith_top(batch[0, 0], FOOLED)) is bool


def test_is_order_preserving_by_hand():
    P = preferences.bradley_terry([0.0, 1.0, -1.0])  # order 1, 0, 2
    assert social_choice.is_order_preserving([0.3, 0.6, 0.1], P)
    assert not social_choice.is_order_preserving([0.6, 0.3, 0.1], P)
    assert not social_choice.is_order_preserving([0.2, 0.6, 0.2], P)  # a tie breaks the chain


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: social_choice.is_order_preserving([0.5, 0.3, 0.2], preferences.cyclic(0.2)), "P must be transitive"),
        (lambda: social_choice.is_condorcet_top([0.5, 0.5], FOOLED), r"pi must have 3 entries"),
        (lambda: social_choice.is_smith_top([0.5, 0.3, 0.3], FOOLED), r"pi must sum to 1"),
        (lambda: social_choice.is_smith_top([[0.5, 0.5, 0.0], [0.5, 0.6, 0.0]], FOOLED), r"pi must sum to 1 .* at batch index \[1\]"),
    ],
)
def test_ranking_properties_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@given(preference_matrices(min_K=2, max_K=7))
def test_condorcet_top_is_smith_top_when_there_is_a_winner(P):
    rng = np.random.default_rng(0)
    for pi in rng.dirichlet(np.ones(len(P)), size=5):
        if social_choice.condorcet_winner(P) is not None:
            assert social_choice.is_condorcet_top(pi, P) == social_choice.is_smith_top(pi, P)
