"""Mutants: each new check of issue 15 (chapters 'DPO' and 'Sampling without knowing P') fails when the
formula it checks is replaced by a plausible wrong one. Checks run with ``fast=True``."""

import numpy as np
import pytest

from prefalign import dpo, dueling, ipo, preferences, quantal
from prefalign.checks import dpo as dpo_checks
from prefalign.checks import sampling


@pytest.fixture(autouse=True)
def fresh_caches():
    """The checks cache their shared tables: clear them so that each mutant is computed afresh."""
    for cached in (dpo_checks.ranking_table, sampling.onpolicy_table):
        cached.cache_clear()
    yield
    for cached in (dpo_checks.ranking_table, sampling.onpolicy_table):
        cached.cache_clear()


def test_unmutated_checks_pass():
    for check in (dpo_checks.dpo_ranks_like_ipo, dpo_checks.dpo_gap_lower_bound, dpo_checks.dpo_gap_upper_bound,
                  dpo_checks.mrs_dpo_collapse_bound, sampling.offwinner_mass_bound, sampling.regret_bound,
                  sampling.trap_limit_payoffs, sampling.hoeffding_coverage, sampling.fixed_count_guarantee):
        assert check(fast=True).passed, check.__name__


def test_ranking_check_catches_a_solver_that_ignores_the_sampler(monkeypatch):
    true = dpo.implicit_reward
    monkeypatch.setattr(dpo, "implicit_reward", lambda P, mu, beta=1.0, **kw: true(P, np.full(np.shape(mu), 1.0 / np.shape(mu)[-1]), beta))
    assert not dpo_checks.dpo_ranks_like_ipo(fast=True).passed


def test_lower_bound_check_catches_a_wrong_rescaling(monkeypatch):
    monkeypatch.setattr(dpo, "linearised_ipo_beta", lambda beta: 5.0 * np.asarray(beta, dtype=float))
    assert not dpo_checks.dpo_gap_lower_bound(fast=True).passed


def test_upper_bound_check_catches_a_halved_range(monkeypatch):
    true = dpo.ranking_gap_bounds
    monkeypatch.setattr(dpo, "ranking_gap_bounds",
                        lambda P, mu, beta=1.0, reward_range=None: true(P, mu, beta, reward_range=np.asarray(reward_range) / 2))
    assert not dpo_checks.dpo_gap_upper_bound(fast=True).passed


def test_collapse_check_catches_doubled_margins(monkeypatch):
    true = preferences.dominance_margins
    monkeypatch.setattr(preferences, "dominance_margins", lambda P, top: 2.0 * true(P, top))
    assert not dpo_checks.mrs_dpo_collapse_bound(fast=True).passed


def test_offwinner_check_catches_the_mean_margin_in_place_of_the_smallest(monkeypatch):
    true = quantal.winner_margins

    def wrong(P):
        c, m, w = true(P)
        others = np.arange(m.size) != c
        return c, np.where(others, m[others].mean(), 0.0), w

    monkeypatch.setattr(quantal, "winner_margins", wrong)
    assert not sampling.offwinner_mass_bound(fast=True).passed


def test_regret_check_catches_a_wrong_equilibrium(monkeypatch):
    true = ipo.onpolicy_optimum
    monkeypatch.setattr(ipo, "onpolicy_optimum", lambda P, ref=None, beta=1.0, **kw: true(P, ref, np.asarray(beta) / 4, **kw))
    assert not sampling.regret_bound(fast=True).passed


def test_trap_check_catches_the_unreversed_lottery_polytope(monkeypatch):
    true = quantal.maximal_lottery_range
    monkeypatch.setattr(quantal, "maximal_lottery_range", lambda P: true(np.asarray(P).T))
    assert not sampling.trap_limit_payoffs(fast=True).passed


def test_limit_check_catches_reversed_payoffs(monkeypatch):
    true = quantal.limit_payoffs
    monkeypatch.setattr(quantal, "limit_payoffs", lambda P, tol=1e-9: None if true(P, tol) is None else -true(P, tol))
    assert not sampling.limit_predicts_smith_top(fast=True).passed


def test_fixed_count_check_catches_a_wrong_power_of_the_margin(monkeypatch):
    true = dueling.fixed_count_sufficient
    monkeypatch.setattr(dueling, "fixed_count_sufficient",
                        lambda P, delta: true(P, delta) * 2 * np.min(np.abs(P - 0.5)[np.abs(P - 0.5) > 0]) ** 2)
    assert not sampling.fixed_count_guarantee(fast=True).passed


def test_coverage_check_catches_a_radius_without_the_union_bound(monkeypatch):
    monkeypatch.setattr(dueling, "hoeffding_radius", lambda n, K, delta: np.sqrt(1.0 / (2.0 * np.asarray(n))))
    assert not sampling.hoeffding_coverage(fast=True).passed
