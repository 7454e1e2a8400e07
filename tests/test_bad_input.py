"""Issue 13's cases, one test each: bad input gets a ValueError naming the argument and the condition."""

import numpy as np
import pytest

from prefalign import checks, dpo, dynamics, ipo, preferences, protocol, simplex, social_choice, validation

P = preferences.cyclic(0.2)
U = simplex.uniform(3)


def test_rng_accepts_a_generator_or_a_seed_and_refuses_the_rest():
    assert np.array_equal(preferences.random_preference_matrix(3, 42),
                          preferences.random_preference_matrix(3, np.random.default_rng(42)))
    g = np.random.default_rng(1)
    assert validation.generator(g) is g
    for bad, message in ((None, r"rng must be a numpy Generator or an integer seed, got None \(unseeded"),
                         (1.5, "got float 1.5"), ("7", "got str '7'"), (np.random.RandomState(0), "got RandomState"),
                         (True, "got bool"), (-3, "rng as a seed must be >= 0")):
        with pytest.raises(ValueError, match=message):
            preferences.random_preference_matrix(3, bad)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: preferences.validate(P + 0.1j), r"P must be real, got complex values"),
    (lambda: ipo.ipo_optimum(P, U, beta="2"), r"beta must be numeric, got str"),
    (lambda: preferences.is_bradley_terry(P, tol=-1.0), r"tol must be > 0"),
    (lambda: simplex.softmax([]), r"logits must have at least one entry"),
    (lambda: ipo.population_loss(U, P, U, beta=[1.0, 2.0]), r"population_loss takes one problem: beta must be a scalar"),
    (lambda: ipo.ipo_objective(U, P, np.tile(U, (2, 1))), r"ipo_objective takes one problem: mu must be a single vector"),
    (lambda: dpo.foc_residual(U, P, U, ref=np.tile(U, (2, 1))), r"foc_residual takes one problem: ref must be"),
    (lambda: preferences.random_cyclic(3, 0, max_tries=0), r"max_tries must be >= 1, got 0"),
    (lambda: checks.log_uniform(0, 0.0, 1.0), r"log_uniform needs 0 < low < high"),
    (lambda: ipo.log_optimum(P, U, np.log(U), float("nan")), r"beta must be finite"),
    (lambda: ipo.log_optimum(P, U, np.log(U), -1.0), r"beta must be > 0, got -1"),
    (lambda: dpo.log_optimum(P, U, np.log(U), -1.0), r"beta must be > 0, got -1"),
    (lambda: dpo.log_optimum(P, U, [0.0, np.nan, 0.0], 1.0), r"log_ref must be finite"),
    (lambda: dpo.dominating_set([[0.5, 0.7], [0.7, 0.5]]), r"P must satisfy P \+ P.T = 1"),
    (lambda: dynamics.spectral_radius(np.log(U), P, alpha=0.5, beta=2, lam=0.7, pi0="garbage"), r"pi0 must be numeric"),
    (lambda: dynamics.jacobian(np.log(U), P, alpha=0.5, beta=2, lam=0.7, pi0=[0.5, 0.5]), r"pi0 must have 3 entries"),
    (lambda: dynamics.simulate(P, alpha=0.5, beta=1.0, lam=1.0, steps=2, method=np.array(["ipo"])), r"method must be 'ipo' or 'dpo', got array"),
])
def test_bad_input_names_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_reward_derivative_of_one_response_is_zero():
    assert np.array_equal(dpo.reward_derivative([[0.5]], [1.0]), np.zeros((1, 1)))


def test_phase_grid_mean_names_the_field():
    grid = protocol.phase_grid(P[None], [0.2], [1.0], steps=3)
    with pytest.raises(ValueError, match=r"name must be one of \['cycle_strength'"):
        grid.mean("nope")


def test_beats_decides_on_the_difference_so_a_tolerated_tie_stays_a_tie():
    Q = np.full((3, 3), 0.5)
    Q[0, 1] = Q[1, 0] = 0.5 + 4e-10  # P + P.T = 1 + 8e-10: accepted by validate, a tie all the same
    Q[1, 2], Q[2, 1] = 0.7, 0.3
    Q[2, 0], Q[0, 2] = 0.7, 0.3
    preferences.validate(Q)
    B = preferences.beats(Q)
    assert not B[0, 1] and not B[1, 0]
    assert social_choice.condorcet_winner(Q) is None  # 2 beats 0, 1 beats 2, 0 and 1 tie: no winner
    assert not preferences.is_cyclic(Q)  # a cycle would need 0 ▷ 1
    assert list(social_choice.copeland_scores(Q)) == [0.5, 1.5, 1.0]
    Q[0, 1], Q[1, 0] = 0.5 + 4e-10, 0.5 - 4e-10  # a genuine (tiny) majority
    assert preferences.is_cyclic(Q)
