import numpy as np
import pytest
from hypothesis import given

from prefalign import preferences

from strategies import preference_matrices

THEORY_TRANSITIVE = [[0.5, 0.51, 0.7, 0.6], [0.49, 0.5, 0.9, 0.8], [0.3, 0.1, 0.5, 0.51], [0.4, 0.2, 0.49, 0.5]]


def test_cyclic_entries_by_hand():
    P = preferences.cyclic(0.3)
    expected = np.array([[0.5, 0.8, 0.2], [0.2, 0.5, 0.8], [0.8, 0.2, 0.5]])
    np.testing.assert_allclose(P, expected, atol=1e-15)
    assert preferences.is_cyclic(P) and not preferences.is_transitive(P)


def test_cyclic_zero_is_all_ties():
    P = preferences.cyclic(0.0)
    np.testing.assert_array_equal(P, np.full((3, 3), 0.5))
    assert not preferences.is_cyclic(P) and not preferences.is_transitive(P)


def test_bradley_terry_by_hand():
    P = preferences.bradley_terry([0.0, np.log(3.0), 0.0])
    assert P[1, 0] == pytest.approx(0.75, abs=1e-15)
    assert P[0, 1] == pytest.approx(0.25, abs=1e-15)
    assert P[0, 2] == 0.5 and P[1, 1] == 0.5


def test_bradley_terry_extreme_scores_do_not_overflow():
    P = preferences.bradley_terry([0.0, 800.0])
    assert P[1, 0] == 1.0 and P[0, 1] == 0.0
    preferences.validate(P)


def test_from_counts_ties_count_half():
    P = preferences.from_counts([[0, 3], [1, 0]], ties=[[0, 2], [2, 0]])
    assert P[0, 1] == pytest.approx(4 / 6, abs=1e-15)
    assert P[1, 0] == pytest.approx(2 / 6, abs=1e-15)


def test_from_counts_without_ties():
    P = preferences.from_counts([[0, 9, 1], [1, 0, 2], [3, 2, 0]])
    assert P[0, 1] == pytest.approx(0.9) and P[0, 2] == pytest.approx(0.25) and P[1, 2] == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("wins", "ties", "message"),
    [
        ([[0, -1], [1, 0]], None, "wins must be non-negative counts; wins[0, 1] = -1"),
        ([[0, 1.5], [1, 0]], None, "wins must be whole counts; wins[0, 1] = 1.5"),
        ([[2, 1], [1, 0]], None, "wins must have a zero diagonal"),
        ([[0, 1, 0], [1, 0, 1], [0, 1, 0]], None, "responses 0 and 2 never were"),
        ([[0, 1], [1, 0]], [[0, 1], [2, 0]], "ties must be symmetric"),
        ([[0, 1], [1, 0]], [[0, 1, 0], [1, 0, 0], [0, 0, 0]], "ties must have the shape of wins"),
        ([[0, 1, 2]], None, "wins must be a square K x K matrix"),
    ],
)
def test_from_counts_bad_input(wins, ties, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        preferences.from_counts(wins, ties)


@pytest.mark.parametrize(
    ("P", "message"),
    [
        ([[0.5, 0.7], [0.7, 0.5]], r"P must satisfy P \+ P.T = 1 \(within 1e-09\); max violation 0.4 at \[0, 1\]"),
        ([[0.5, 1.2], [-0.2, 0.5]], r"P must have entries in \[0, 1\]; P\[0, 1\] = 1.2"),
        ([[0.5, np.nan], [0.5, 0.5]], r"P must be finite; P\[0, 1\] = nan"),
        ([[0.5, 0.5, 0.5]], r"P must be square"),
        ([0.5, 0.5], r"P must have at least 2 dimension"),
        ([["a", "b"], ["c", "d"]], r"P must be numeric"),
        ([[0.4, 0.6], [0.4, 0.6]], r"P must satisfy P \+ P.T = 1 .* at \[0, 0\]"),
    ],
)
def test_validate_rejects(P, message):
    with pytest.raises(ValueError, match=message):
        preferences.validate(P)


def test_validate_names_batch_index():
    batch = np.stack([preferences.cyclic(0.1), preferences.cyclic(0.2)])
    batch[1, 2, 0] = 0.9
    with pytest.raises(ValueError, match=r"at \[1, 0, 2\]|at \[1, 2, 0\]"):
        preferences.validate(batch)


def test_cyclic_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"a must lie in \[0, 0.5\], got 0.6"):
        preferences.cyclic(0.6)


def test_transitive_but_not_strongly_transitive():
    assert preferences.transitive_order(THEORY_TRANSITIVE) == [0, 1, 2, 3]
    assert preferences.is_transitive(THEORY_TRANSITIVE)
    assert not preferences.is_strongly_transitive(THEORY_TRANSITIVE)
    assert not preferences.is_cyclic(THEORY_TRANSITIVE)


def test_bradley_terry_is_strongly_transitive_and_bt():
    P = preferences.bradley_terry([2.0, -1.0, 0.5, 0.0])
    assert preferences.transitive_order(P) == [0, 2, 3, 1]
    assert preferences.is_strongly_transitive(P, strict=True)
    assert preferences.is_bradley_terry(P)


def test_strict_sst_fails_on_ties_of_inequality():
    P = preferences.validate([[0.5, 0.7, 0.7], [0.3, 0.5, 0.6], [0.3, 0.4, 0.5]])
    assert preferences.is_strongly_transitive(P)
    assert not preferences.is_strongly_transitive(P, strict=True)


def test_is_bradley_terry_rejects_non_bt_and_deterministic():
    assert not preferences.is_bradley_terry(THEORY_TRANSITIVE)
    assert not preferences.is_bradley_terry(preferences.cyclic(0.2))
    assert not preferences.is_bradley_terry([[0.5, 1.0], [0.0, 0.5]])
    assert preferences.is_bradley_terry(preferences.cyclic(0.0))


def test_skew_is_antisymmetric():
    A = preferences.skew(THEORY_TRANSITIVE)
    np.testing.assert_allclose(A, -A.T, atol=1e-15)


def test_random_strongly_transitive_is_strict_sst():
    rng = np.random.default_rng(0)
    for K in range(2, 9):
        for _ in range(20):
            P = preferences.random_strongly_transitive(K, rng)
            assert preferences.transitive_order(P) == list(range(K))
            assert preferences.is_strongly_transitive(P, strict=True)


def test_random_cyclic_is_cyclic():
    rng = np.random.default_rng(1)
    for K in (3, 4, 7):
        assert preferences.is_cyclic(preferences.random_cyclic(K, rng))
    with pytest.raises(ValueError, match="K must be >= 3, got 2"):
        preferences.random_cyclic(2, rng)


@given(preference_matrices(min_K=2, max_K=7))
def test_tournament_is_transitive_xor_cyclic(P):
    if np.any(np.isclose(P[~np.eye(len(P), dtype=bool)], 0.5)):
        return  # ties: possibly neither
    assert preferences.is_transitive(P) != preferences.is_cyclic(P)


@given(preference_matrices(min_K=2, max_K=6))
def test_validate_accepts_generated_and_returns_equal(P):
    np.testing.assert_array_equal(preferences.validate(P), P)


def test_linear_by_hand():
    # P[i, k] = 1/2 + x_i - x_k with x = (0.2, 0, -0.1): P[0, 1] = 0.7, P[0, 2] = 0.8, P[1, 2] = 0.6
    P = preferences.linear([0.2, 0.0, -0.1])
    np.testing.assert_allclose(P, [[0.5, 0.7, 0.8], [0.3, 0.5, 0.6], [0.2, 0.4, 0.5]], atol=1e-15)
    assert preferences.is_strongly_transitive(P, strict=True)


def test_linear_rejects_a_spread_above_one_half():
    with pytest.raises(ValueError, match=r"x must have max\(x\) - min\(x\) <= 0.5 .* got 0.6"):
        preferences.linear([0.3, -0.3])


def test_fooling_matrix_uniform_three_by_hand():
    # mu uniform, K = 3: c = 0, d = 1, eps = (1 - 1/3 - 1/3) / 4 = 1/12
    P = preferences.fooling_matrix(np.full(3, 1 / 3))
    expected = [[0.5, 7 / 12, 7 / 12], [5 / 12, 0.5, 1.0], [5 / 12, 0.0, 0.5]]
    np.testing.assert_allclose(P, expected, atol=1e-15)
    assert preferences.transitive_order(P) == [0, 1, 2]


def test_fooling_matrix_picks_the_two_least_sampled():
    # mu = (0.5, 0.3, 0.1, 0.1): c = 2, d = 3 (ties by index), eps = (1 - 0.2) / 4 = 0.2.
    # (P mu)_2 = 0.5*0.1 + 0.7*0.9 = 0.68; (P mu)_3 = 0.3*0.1 + 0.5*0.1 + 1*0.5 + 1*0.3 = 0.88
    mu = np.array([0.5, 0.3, 0.1, 0.1])
    P = preferences.fooling_matrix(mu)
    assert preferences.transitive_order(P) == [2, 3, 0, 1]
    np.testing.assert_allclose(P @ mu, [P[0] @ mu, P[1] @ mu, 0.68, 0.88], atol=1e-15)
    np.testing.assert_allclose(P[2], [0.7, 0.7, 0.5, 0.7], atol=1e-15)


@pytest.mark.parametrize(
    "mu, eps, message",
    [
        ([0.5, 0.5], None, r"mu must be a single sampler of shape \(K,\) with K >= 3"),
        ([1 / 3, 1 / 3, 1 / 3], 0.2, r"eps must lie in \(0, \(1 - mu_c - mu_d\)/2\) = \(0, 0.166667\) for this mu, got 0.2"),
        ([1 / 3, 1 / 3, 1 / 3], 0.0, r"eps must lie in"),
        ([0.5, 0.6, -0.1], None, r"mu must be non-negative"),
    ],
)
def test_fooling_matrix_bad_input(mu, eps, message):
    with pytest.raises(ValueError, match=message):
        preferences.fooling_matrix(mu, eps)


def test_random_transitive_has_the_index_order():
    rng = np.random.default_rng(0)
    for K in range(1, 8):
        P = preferences.random_transitive(K, rng)
        assert preferences.transitive_order(P) == list(range(K))


def test_random_with_smith_set_has_the_requested_size():
    from prefalign import social_choice

    rng = np.random.default_rng(1)
    for K in range(1, 9):
        for size in range(1, K + 1):
            P = preferences.random_with_smith_set(K, size, rng)
            assert len(social_choice.smith_set(P)) == size
    with pytest.raises(ValueError, match="size must be <= K = 3, got 4"):
        preferences.random_with_smith_set(3, 4, rng)


def test_structure_labels_by_hand():
    assert preferences.structure(preferences.cyclic(0.2)) == "cyclic"
    assert preferences.structure(preferences.bradley_terry([2.0, 1.0, 0.0])) == "strongly transitive"
    assert preferences.structure(np.array(THEORY_TRANSITIVE)) == "neither"  # transitive, not SST
    assert preferences.structure(np.full((3, 3), 0.5)) == "neither"  # all ties
    batch = np.stack([preferences.cyclic(0.2), np.full((3, 3), 0.5)]).reshape(2, 1, 3, 3)
    labels = preferences.structure(batch)
    assert labels.shape == (2, 1) and labels[0, 0] == "cyclic" and labels[1, 0] == "neither"


@given(preference_matrices(min_K=3, max_K=5))
def test_structure_agrees_with_predicates(P):
    label = preferences.structure(P)
    assert (label == "cyclic") == preferences.is_cyclic(P)
    assert (label == "strongly transitive") == preferences.is_strongly_transitive(P)


def test_fit_bradley_terry_two_players_by_hand():
    # 3 wins to 1: s_0 - s_1 = log 3, centred: ±(log 3)/2; a tie adds half a win to each side: log(3.5/1.5)
    np.testing.assert_allclose(preferences.fit_bradley_terry([[0, 3], [1, 0]]), [np.log(3) / 2, -np.log(3) / 2], atol=1e-12)
    s = preferences.fit_bradley_terry([[0, 3], [1, 0]], ties=[[0, 1], [1, 0]])
    assert s[0] - s[1] == pytest.approx(np.log(3.5 / 1.5), abs=1e-12)


def test_fit_bradley_terry_solves_the_score_equations_on_an_incomplete_design():
    wins = np.array([[0, 7, 0, 2], [3, 0, 5, 0], [0, 4, 0, 6], [1, 0, 9, 0]])  # pairs (0,2) and (1,3) never met
    s = preferences.fit_bradley_terry(wins)
    n = wins + wins.T
    fitted = (n * preferences.bradley_terry(s)).sum(axis=1)
    np.testing.assert_allclose(fitted, wins.sum(axis=1), atol=1e-8)  # Zermelo: expected wins = observed wins
    assert s.sum() == pytest.approx(0.0, abs=1e-12)


def test_fit_bradley_terry_recovers_scores_from_large_counts():
    true = np.array([1.0, 0.3, -0.2, -1.1])
    wins = np.round(100_000 * preferences.bradley_terry(true))
    np.fill_diagonal(wins, 0)
    np.testing.assert_allclose(preferences.fit_bradley_terry(wins), true - true.mean(), atol=1e-4)


def test_fit_bradley_terry_needs_a_strongly_connected_design():
    with pytest.raises(ValueError, match="no chain of wins .* leads from response 0 to response 1"):
        preferences.fit_bradley_terry([[0, 0], [3, 0]])
    with pytest.raises(ValueError, match="wins must be non-negative counts"):
        preferences.fit_bradley_terry([[0, -1], [1, 0]])


def test_mean_cycle_margin_by_hand():
    assert preferences.mean_cycle_margin(preferences.cyclic(0.2)) == pytest.approx(0.2)
    # Arena-like cycle: margins 0.03, 0.05, 0.01 around 0 -> 1 -> 2 -> 0; mean 0.03
    P = np.array([[0.5, 0.53, 0.49], [0.47, 0.5, 0.55], [0.51, 0.45, 0.5]])
    assert preferences.mean_cycle_margin(P) == pytest.approx(0.03)
    assert preferences.mean_cycle_margin(P.T) == pytest.approx(-0.03)  # reversed orientation
    np.testing.assert_allclose(preferences.mean_cycle_margin(np.stack([P, P.T])), [0.03, -0.03])
    with pytest.raises(ValueError, match="P must be 3 x 3"):
        preferences.mean_cycle_margin(np.full((4, 4), 0.5))
