"""Chapter 'Experiments on real preference data' run through papermill with small parameters.

Expected values are facts read off the raw files by hand (see tests/test_data.py) or recomputed
here by other means; the fixture run checks that a HelpSteer file given as a parameter replaces the
synthetic scores and is reported as such.
"""

import numpy as np
import pytest

from conftest import BOOK, ROOT

FAST = {"fast": True, "seed": 11}
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
    return _run(tmp_path_factory, "fast", **FAST)


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


def test_helpsteer_defaults_to_synthetic_and_says_so(glued):
    assert glued["hs_source"] == "synthetic HelpSteer-like scores"
    assert glued["hs_matrices"] == 300  # fast: n_synthetic_prompts // 10, 4 responses each
    assert glued["hs_cyclic"] + glued["hs_sst"] + glued["hs_neither"] == 300
    assert (glued["paper_cyclic"], glued["paper_sst"]) == (118, 4924)
    assert glued["hs_skipped_prompts"] == 0


def test_figures_are_glued_as_png(glued):
    for name in ("fig-arena-matrix", "fig-llmfao-judges"):
        assert "image/png" in glued[name]


def test_a_helpsteer_file_replaces_the_synthetic_scores(tmp_path_factory):
    g = _run(tmp_path_factory, "fixture", fast=True, seed=3, helpsteer_path=str(FIXTURE))
    assert g["hs_source"] == "the HelpSteer file supplied"
    # fixture: 5 prompts; "haiku" has 3 responses and is skipped; four matrices of 4 responses
    assert g["hs_prompts"] == 5 and g["hs_skipped_prompts"] == 1 and g["hs_matrices"] == 4
    assert g["hs_cyclic"] + g["hs_sst"] + g["hs_neither"] == 4
    assert g["hs_sst"] >= 1 and g["hs_neither"] >= 1  # "primary colours" is SST, "say hello" all ties
    assert np.isfinite(g["hs_neither_with_tie"])
