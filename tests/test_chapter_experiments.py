"""Chapter 'Experiments on real preference data' run through papermill with small parameters.

One papermill run, with the HelpSteer fixture file as ``helpsteer_path`` (so the file path is
exercised end to end). Expected values are facts read off the raw files by hand (see
tests/test_data.py) or recomputed here by other means. The default run, on synthetic scores, is the
one in the test book; a test reads its HTML to see that it says so.
"""

import numpy as np
import pytest

from conftest import BOOK, ROOT

FAST = {"fast": True, "seed": 11}  # plus helpsteer_path = the fixture
FIXTURE = ROOT / "tests" / "data" / "helpsteer_fixture.jsonl"


def _run(tmp_path_factory, name, **params):
    import papermill

    from prefalign.notebook import glued as read

    out = tmp_path_factory.mktemp(name) / "experiments.ipynb"
    nb = papermill.execute_notebook(
        str(BOOK / "experiments.ipynb"), str(out), parameters=params,
        kernel_name="python3", cwd=str(BOOK), progress_bar=False, log_output=False, execution_timeout=600,
    )
    return read(nb)


@pytest.fixture(scope="module")
def glued(tmp_path_factory):
    return _run(tmp_path_factory, "fast", helpsteer_path=str(FIXTURE), **FAST)


def test_arena_numbers_by_hand(glued):
    assert glued["arena_n_pairs"] == 231 and glued["arena_n_models"] == 22 and glued["arena_never_met"] == 7
    assert glued["arena_top"] == 10
    assert glued["arena_winner"] == "gpt-4-1106-preview" and glued["arena_smith"] == "gpt-4-1106-preview"
    assert glued["arena_ties"] == 18_235 and glued["arena_votes"] == 18_235 + 36_886  # PROVENANCE.md
    assert (glued["arena_w_1106"], glued["arena_w_0125"]) == (622, 613)
    assert glued["arena_p_1106"] == pytest.approx((622 + 1116 / 2) / 2351, abs=1e-15)
    assert glued["arena_bt_first"] == "gpt-4-0125-preview"


def test_llmfao_numbers_by_hand(glued):
    assert glued["llmfao_votes_crowd"] == 8931 and glued["llmfao_prompts"] == 13
    assert glued["llmfao_workers"] == 124 and glued["llmfao_items"] == 2139
    assert (glued["llmfao_min_votes"], glued["llmfao_max_votes"]) == (1, 5)
    # GPT-3.5 picked left 1,352 times out of 2,139 (cut -f5 | sort | uniq -c)
    assert glued["llmfao_left_gpt3"] == pytest.approx(100 * 1352 / 2139)
    assert glued["gpt3_tie_share"] == pytest.approx(100 * 194 / 2139)
    assert glued["llmfao_cyclic_gpt3"] > 4 * max(glued["llmfao_cyclic_crowd"], glued["llmfao_cyclic_gpt4"])


def test_triangle_count_matches_an_independent_enumeration(glued):
    from prefalign import data

    pairs = data.llmfao("crowd").pairs
    triangles = 0
    for _, g in pairs.groupby("prompt"):
        edges = set(zip(g["model_a"], g["model_b"]))
        nodes = sorted(set(g["model_a"]) | set(g["model_b"]))
        triangles += sum((a, b) in edges and (b, c) in edges and (a, c) in edges
                         for i, a in enumerate(nodes) for j, b in enumerate(nodes[i + 1:], i + 1) for c in nodes[j + 1:])
    assert glued["llmfao_triangles"] == triangles


def test_a_helpsteer_file_replaces_the_synthetic_scores(glued):
    assert glued["hs_source"] == "the HelpSteer file supplied"
    # fixture: 5 prompts; "haiku" has 3 responses and is skipped; four matrices of 4 responses
    assert glued["hs_prompts"] == 5 and glued["hs_skipped_prompts"] == 1 and glued["hs_matrices"] == 4
    assert glued["hs_cyclic"] + glued["hs_sst"] + glued["hs_neither"] == 4
    assert glued["hs_sst"] >= 1 and glued["hs_neither_with_tie"] >= 1  # "primary colours" is SST, "say hello" all ties
    assert (glued["paper_cyclic"], glued["paper_sst"]) == (118, 4924)


def test_default_run_in_the_book_says_its_helpsteer_results_are_synthetic(built_book):
    from bs4 import BeautifulSoup

    text = BeautifulSoup((built_book / "book" / "experiments.html").read_text(), "html.parser").get_text(" ")
    assert "synthetic HelpSteer-like scores" in text
    assert "ours (synthetic HelpSteer-like scores)" in text  # the column of the counts table


def test_figures_are_glued_as_png(glued):
    for name in ("fig-arena-matrix", "fig-arena-cycle", "fig-arena-collapse", "fig-llmfao-judges", "fig-phase", "fig-noise"):
        assert "image/png" in glued[name]


def test_dynamics_checks_are_glued(glued):
    assert glued["steps"] == 3000
    assert glued["check_contraction_distance"] < 1e-9 and glued["check_contracting_runs"] > 0
    assert glued["check_unstable_runs"] > 0
    assert glued["check_rotation_error"] < 1e-12 and glued["check_kappa_spread"] < 1e-9
    assert abs(glued["check_averaging_slope"] + 1.0) <= 0.15 and glued["check_averaging_r_max"] >= 16
    assert abs(glued["check_spread_slope"] + 0.5) <= 0.1


def test_arena_cycle_numbers_by_hand(glued):
    # margins around bard -> gpt-4-0314 -> qwen -> bard, ties counting half (counts from the CSV)
    margins = [(93 + 25) / 223 - 0.5, (110 + 45.5) / 281 - 0.5, (100 + 44) / 287 - 0.5]
    a_bar = sum(margins) / 3
    assert glued["cycle_a_bar"] == pytest.approx(a_bar, rel=1e-12)
    assert (glued["cycle_wins_2"], glued["cycle_losses_2"], glued["cycle_ties_2"]) == (100, 99, 88)
    # the symmetric formula of the cyclic chapter: βλ = √(3(1 − α²))/ā
    assert glued["cycle_formula_05"] == pytest.approx(np.sqrt(3 * 0.75) / a_bar, rel=1e-12)
    assert glued["cycle_formula_0"] == pytest.approx(np.sqrt(3) / a_bar, rel=1e-12)


def test_arena_cycle_exact_threshold_by_simulation(glued):
    """Independently of the Jacobian: just below the glued threshold runs settle, just above they keep cycling."""
    from prefalign import dynamics
    from prefalign.checks.experiments import arena_cycle, start_policy

    P = arena_cycle()
    bl = glued["cycle_exact_05"] * np.array([0.97, 1.03])
    run = dynamics.simulate(P, alpha=0.5, beta=bl, lam=1.0, steps=3000, record="last", init=start_policy(3, 0))
    assert run.cycle_strength[0] < 1e-12 < 1e-6 < run.cycle_strength[1]


def test_arena_collapse_numbers(glued):
    # the top 8 are transitive: their Copeland scores are 7, 6, ..., 0 (a score sequence only a transitive
    # tournament has); adding the 9th (qwen) closes the cycle with bard and gpt-4-0314
    from prefalign import data, social_choice

    P = data.arena().P
    assert sorted(social_choice.copeland_scores(P[:8, :8])) == list(range(8))
    assert sorted(social_choice.copeland_scores(P[:9, :9])) != list(range(9))
    assert glued["top_transitive"] == 8
    assert glued["hedge_final_mass_min"] > 99.0 and glued["hedge_final_entropy_max"] < 0.05


def test_tie_rules_on_the_fixture(glued):
    # "say hello" has all ties: neither under the strict rule, strongly transitive with ties allowed
    assert glued["hs_cyclic_ties"] == glued["hs_cyclic"]
    assert glued["hs_sst_ties"] >= glued["hs_sst"] + 1
    assert glued["hs_cyclic_ties"] + glued["hs_sst_ties"] + glued["hs_neither_ties"] == glued["hs_matrices"] == 4
    assert glued["paper_total"] == 118 + 4924
    assert glued["paper_sst_share"] == pytest.approx(100 * 4924 / 5042)
    assert glued["tie_tol"] == 1e-12
    # the all-ties matrix keeps its four responses tied at the top: entropy log 4 at alpha = 1
    assert glued["hs_top_tied"] >= 1 and glued["hs_tied_log_gap"] < 1e-3
