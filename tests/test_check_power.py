"""Each strengthened check fails on the mistake it claims to catch (the formula monkeypatched to a wrong one).

The checks run with their ``fast`` sizes; every test first confirms the check passes unmutated.
"""

from __future__ import annotations

import numpy as np
import pytest

from prefalign import concentration, dpo, dynamics, ipo, simplex
from prefalign.checks import concentration as concentration_checks
from prefalign.checks import dpo as dpo_checks
from prefalign.checks import experiments as experiments_checks
from prefalign.checks import oscillation as oscillation_checks
from prefalign.checks import ranking as ranking_checks
from prefalign.checks import setting as setting_checks
from prefalign.checks import stability as stability_checks


def _fails_when(monkeypatch, check, target, name, wrong):
    assert check(fast=True).passed
    monkeypatch.setattr(target, name, wrong)
    return not check(fast=True).passed


def test_contraction_constant_with_a_quarter_is_caught(monkeypatch):
    right = dynamics.contraction_bound

    def quarter(P, alpha, beta, lam):  # q′ = α + βλ‖A‖/4: the ‖C‖₂ ≤ ¼ mistake
        return (right(P, alpha, beta, lam) + np.asarray(alpha)) / 2

    assert _fails_when(monkeypatch, stability_checks.contraction_lipschitz, dynamics, "contraction_bound", quarter)


def test_covariance_norm_is_two_sided(monkeypatch):
    right = stability_checks.covariance
    assert _fails_when(monkeypatch, stability_checks.covariance_norm, stability_checks, "covariance",
                       lambda pi: 0.5 * right(pi))


def test_kappa_corollary_compares_with_the_alpha_zero_fixed_point(monkeypatch):
    right = dynamics.fixed_point

    def gamma_wrong(P, *, alpha, beta, lam, **kw):  # κ taken as βλ (the (1 − α) forgotten)
        return right(P, alpha=alpha, beta=np.asarray(beta) * 0.9, lam=lam, **kw)

    assert _fails_when(monkeypatch, lambda fast: stability_checks.entropy_phase_diagram(fast=fast), dynamics,
                       "fixed_point", gamma_wrong)


def test_loss_offset_is_compared_with_its_closed_form(monkeypatch):
    right = ipo.expected_sampled_loss

    def offset_doubled(pi, P, mu, ref=None, beta=1.0):  # a π-free but wrong constant
        return 2 * right(pi, P, mu, ref, beta) - ipo.population_loss(pi, P, mu, ref, beta)

    assert _fails_when(monkeypatch, setting_checks.sampled_loss_constant, ipo, "expected_sampled_loss", offset_doubled)


def test_logit_gap_formula_is_compared_with_a_fitted_optimum(monkeypatch):
    right = concentration.logit_gaps
    assert _fails_when(monkeypatch, concentration_checks.logit_gap_identity, concentration, "logit_gaps",
                       lambda P, mu, beta=1.0: right(np.swapaxes(np.asarray(P), -1, -2), mu, beta))


def test_hedge_check_fails_when_the_round_is_anchored(monkeypatch):
    right = dynamics.simulate

    def anchored(P, *, alpha, **kw):  # α = 1 silently run as α = 0.9: KL stops growing
        return right(P, alpha=np.minimum(alpha, 0.9), **kw)

    assert _fails_when(monkeypatch, oscillation_checks.hedge_kl_increment, dynamics, "simulate", anchored)


def test_lp_check_enumerates_vertices_exactly(monkeypatch):
    right = ipo.order_preserving_sampler

    def off(P):  # a margin 1% off: inside the old grid tolerance of 0.1
        res = right(P)
        return ipo.OrderPreservingSampler(order=res.order, margin=1.01 * res.margin, mu_lp=res.mu_lp, mu=res.mu)

    def check(fast):  # the LP margins are cached per (seed, fast)
        ranking_checks._lattice_rows.cache_clear()
        return ranking_checks.lp_close_to_brute_force(fast=fast)

    try:
        assert _fails_when(monkeypatch, check, ipo, "order_preserving_sampler", off)
    finally:
        ranking_checks._lattice_rows.cache_clear()


def test_order_sampler_mixing_weight_is_checked(monkeypatch):
    right = ipo.order_preserving_sampler

    def doubled(P):
        res = right(P)
        eta = res.margin / (1 + res.margin)
        mu = (1 - eta) * res.mu_lp + eta / len(res.mu_lp)
        return ipo.OrderPreservingSampler(order=res.order, margin=res.margin, mu_lp=res.mu_lp, mu=mu)

    assert _fails_when(monkeypatch, ranking_checks.order_sampler_mixing, ipo, "order_preserving_sampler", doubled)


def test_ranking_corollary_fails_when_the_sampler_is_ignored(monkeypatch):
    right = ipo.ipo_optimum

    def uniform_only(P, mu, ref=None, beta=1.0):  # right under the uniform sampler only
        return right(P, simplex.uniform(np.shape(P)[-1]), ref, beta)

    def check(fast):
        return experiments_checks.uniform_sampler_ranks_by_borda()

    assert _fails_when(monkeypatch, check, ipo, "ipo_optimum", uniform_only)


def test_reward_range_bound_is_two_sided(monkeypatch):
    right = dpo.reward_range_bound
    assert _fails_when(monkeypatch, dpo_checks.reward_range_bound, dpo, "reward_range_bound",
                       lambda P, beta: 2 * right(P, beta))


@pytest.mark.parametrize("name, wrong", [
    ("entropy", lambda p: -np.sum(np.where(np.asarray(p) > 0, np.asarray(p) * np.log2(np.where(np.asarray(p) > 0, p, 1)), 0), axis=-1)),
    ("tv_distance", lambda a, b: np.abs(np.asarray(a) - np.asarray(b)).sum(axis=-1)),
])
def test_conventions_are_checked_against_hand_values(monkeypatch, name, wrong):
    assert _fails_when(monkeypatch, setting_checks.conventions_hand_values, simplex, name, wrong)
