"""Chapter 'Sampling without knowing P' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest

from conftest import CHAPTER_TEST_PARAMS

PARAMS = CHAPTER_TEST_PARAMS["sampling"]
TRAP = {"a": 0.2, "b": 0.4, "eta": 0.05, "eta_out": 0.02}  # the trap of the chapter, by hand


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("sampling")


def test_parameters_reach_the_chapter(glued):
    assert glued["big_beta"] == PARAMS["big_beta"] and glued["delta"] == PARAMS["delta"]
    assert glued["arena_top0"] == PARAMS["arena_tops"][0]


def test_checks_glued(glued):
    assert glued["violations_beyond"] == 0 and glued["n_beyond"] > 0
    assert glued["offwinner_ratio"] <= 1 and glued["regret_ratio"] <= 1
    assert glued["trap_error"] < 1e-9 and glued["trap_kept"] == 0
    assert glued["limit_disagree"] == 0 and 2 * glued["limit_clear"] >= glued["limit_count"]
    assert glued["fixed_worst"] <= PARAMS["delta"] and glued["coverage_rate"] <= PARAMS["delta"]


def _trap_onpolicy(beta):
    """The trap's on-policy optimum without prefalign: damped iteration of pi = softmax(beta P pi)."""
    P = np.full((5, 5), 0.5)
    for (i, j), v in {(0, 1): 0.5 + TRAP["a"], (1, 2): 0.5 + TRAP["a"], (0, 2): 0.5 - TRAP["a"], (0, 3): 0.5 - TRAP["eta"],
                      (1, 3): 0.5 + TRAP["b"], (2, 3): 0.5 + TRAP["b"], **{(s, 4): 0.5 + TRAP["eta_out"] for s in range(4)}}.items():
        P[i, j], P[j, i] = v, 1 - v
    pi = np.full(5, 0.2)
    for _ in range(20000):
        z = beta * P @ pi
        pi = 0.9 * pi + 0.1 * np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    return pi


def test_trap_figure_matches_an_independent_iteration(glued):
    # at beta = 1 (the left end of the figure) the plain iteration contracts; the outsider is above member 4
    pi = _trap_onpolicy(1.0)
    assert pi[4] > pi[3]
    assert glued["trap_below_pct"] == 100.0


def test_learning_experiment_sizes(glued):
    # fast mode: one matrix per (K, margin), 8 runs, 7 rounds; LLMFAO has five complete 4-response sub-tournaments
    assert glued["learn_instances"] == len(PARAMS["sizes"]) * len(PARAMS["margins"])
    assert glued["learn_reps"] == 8 and glued["data_reps"] == 6 and glued["n_llmfao"] == 5
    # doubling rounds on the data: 6 pairs of 4 responses, 8 rounds: 6 * (2^8 - 1)
    assert glued["data_max_comparisons"] == 6 * (2**8 - 1)
    assert 0 <= glued["learn_uniform_success_pct"] <= 100
