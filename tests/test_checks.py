import pytest

from prefalign import checks
from prefalign.checks import CheckResult


def test_relations():
    assert CheckResult("c", "t", "x", measured=1.05, expected=1.0, tolerance=0.1, against="hand value").passed
    assert not CheckResult("c", "t", "x", measured=1.2, expected=1.0, tolerance=0.1, against="hand value").passed
    assert CheckResult("c", "t", "x", measured=0.5, expected=1.0, tolerance=0.0, relation="at_most", against="hand value").passed
    assert not CheckResult("c", "t", "x", measured=1.5, expected=1.0, tolerance=0.1, relation="at_most", against="hand value").passed
    assert CheckResult("c", "t", "x", measured=1.5, expected=1.0, tolerance=0.0, relation="at_least", against="hand value").passed
    assert not CheckResult("c", "t", "x", measured=float("nan"), expected=0.0, tolerance=1.0, against="hand value").passed


def test_every_check_must_say_what_it_is_compared_with():
    with pytest.raises(ValueError, match="against must be one of"):
        CheckResult("c", "t", "x", measured=0.0, expected=0.0, tolerance=0.0)
    with pytest.raises(ValueError, match="against must be one of"):
        CheckResult("c", "t", "x", measured=0.0, expected=0.0, tolerance=0.0, against="itself")


def test_setting_checks_are_registered():
    assert "setting" in checks.chapters()
    names = [c.name for c in checks.registered("setting")]
    assert names == ["closed_form_vs_minimiser", "gibbs_gap", "sampled_loss_constant", "sampled_optimum_rate",
                     "sampled_loss_unbiased", "conventions_hand_values"]


def test_run_fast_setting_passes_and_tables():
    report = checks.run("setting", fast=True)
    assert report.passed and len(report) == 6
    table = report.table()
    assert list(table.columns) == ["chapter", "theorem", "compared", "measured", "expected", "tolerance", "relation", "against", "passed"]
    assert table.loc["closed_form_vs_minimiser", "measured"] < 1e-6
    report.raise_if_failed()


def test_unknown_parameter_and_chapter_are_errors():
    with pytest.raises(ValueError, match=r"params \['sede'\] are not parameters of any check of setting"):
        checks.run("setting", sede=1)
    with pytest.raises(ValueError, match=r"chapter must be one of .*got 'nope'"):
        checks.run("nope")


def test_raise_if_failed_lists_failures():
    report = checks.Report([("bad", CheckResult("c", "thm-x", "a thing", measured=1.0, expected=0.0, tolerance=0.1, against="hand value"))])
    with pytest.raises(AssertionError, match="bad: a thing: measured 1.0, expected 0.0"):
        report.raise_if_failed()


@pytest.mark.parametrize(
    "chapter, names",
    [
        ("ranking", ["fooling_gap_formula", "fixed_samplers_fooled", "smith_sampler_on_top", "sst_preserves_order",
                     "lp_counterexample", "lp_not_beaten_by_brute_force", "lp_close_to_brute_force", "lp_feasible_under_sst",
                     "order_sampler_mixing"]),
        ("concentration", ["logit_gap_identity", "abel_identity", "monotone_pairs_widen", "rising_profiles_shrink",
                           "bradley_terry_only_top_pair", "all_pairs_only_if_linear", "adjacent_gaps_balance", "onpolicy_unique",
                           "onpolicy_vs_plain_iteration", "onpolicy_top_heavy_under_sst",
                           "onpolicy_widens_bradley_terry_top_gap", "bradley_terry_example", "sst_example_top_gap_shrinks"]),
    ],
)
def test_one_shot_chapters_register_their_checks_with_seed_and_fast(chapter, names):
    registered = checks.registered(chapter)
    assert [c.name for c in registered] == names
    assert all({"seed", "fast"} <= c.parameters() for c in registered)


def test_parallel_run_gives_the_same_results():
    serial = checks.run("setting", fast=True)
    parallel = checks.run("setting", fast=True, jobs=2)
    assert serial.table().drop(columns="compared").equals(parallel.table().drop(columns="compared"))
    assert [r.measured for r in serial] == [r.measured for r in parallel]


def test_lookup_by_bare_or_qualified_name():
    report = checks.Report([("a.x", CheckResult("a", "t", "c", 0.0, 0.0, 0.0, against="hand value")), ("b.x", CheckResult("b", "t", "c", 1.0, 1.0, 0.0, against="hand value"))])
    assert report["a.x"].measured == 0.0
    with pytest.raises(KeyError, match="names 2 checks"):
        report["x"]


def test_dpo_checks_take_seed_and_fast_and_register_the_chapter_labels():
    registered = checks.registered("dpo")
    assert all({"seed", "fast"} <= c.parameters() for c in registered)
    labels = {c.func(fast=True).theorem for c in registered if c.name in {"two_responses", "cycle_ordering", "round_is_dpo_optimum"}}
    assert labels == {"cor-dpo-two", "lem-dpo-ordering", "lem-dpo-round"}
