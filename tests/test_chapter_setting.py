"""Chapter 'Setting and IPO's closed form' as executed in the test book, with the small parameters of conftest.CHAPTER_TEST_PARAMS."""

import numpy as np
import pytest


from conftest import CHAPTER_TEST_PARAMS

PARAMS = {"fast": True, **CHAPTER_TEST_PARAMS["setting"]}


def _run(tmp_path_factory):
    import papermill

    from conftest import BOOK
    from prefalign.notebook import glued as read

    out = tmp_path_factory.mktemp("setting") / "setting.ipynb"
    nb = papermill.execute_notebook(
        str(BOOK / "setting.ipynb"), str(out), parameters=PARAMS,
        kernel_name="python3", cwd=str(BOOK), progress_bar=False, log_output=False, execution_timeout=600,
    )
    return read(nb)


@pytest.fixture(scope="module")
def glued(book_glued):
    return book_glued("setting")


def test_checks_glued(glued):
    assert glued["n_instances"] == 24  # fast: 4 instances for each K = 3..8
    assert 0 <= glued["max_log_error"] < 1e-6
    assert glued["gibbs_error"] < 1e-10 and glued["loss_constant_spread"] < 1e-10
    assert abs(glued["slope"] + 0.5) < 0.1


def test_sampler_map_numbers_match_an_independent_count(glued):
    # interior lattice points (i, j, k)/25 with i, j, k >= 1; the Condorcet winner tops iff mu_3 < 2 * hair
    interior = [(i, j, 25 - i - j) for i in range(1, 25) for j in range(1, 25 - i)]
    share = 100 * np.mean([k / 25 < 0.1 for _, _, k in interior])
    assert glued["n_samplers"] == len(interior) == 276
    assert glued["share_condorcet_top"] == pytest.approx(share, abs=1e-12)
    assert glued["threshold_mu3"] == pytest.approx(0.1)


def test_uniform_sampler_optimum_by_hand(glued):
    # P mu for the uniform sampler: ((0.5+0.55+0.55)/3, (0.45+0.5+1)/3, (0.45+0+0.5)/3), beta = 2
    logits = 2.0 * np.array([1.6, 1.95, 0.95]) / 3
    pi = np.exp(logits) / np.exp(logits).sum()
    assert glued["pi_uniform_1"] == pytest.approx(pi[0], rel=1e-12)
    assert glued["pi_uniform_2"] == pytest.approx(pi[1], rel=1e-12)


def test_figures_are_glued_as_png(glued):
    for name in ("fig-rate", "fig-sampler-map"):
        assert "image/png" in glued[name]


def test_rerun_is_byte_identical(glued, tmp_path_factory):
    """Determinism: a second execution (a new kernel, outside the build) gives the same numbers and PNG bytes."""
    again = _run(tmp_path_factory)
    assert set(again) == set(glued)
    for name, value in glued.items():
        assert again[name] == value, f"glued value {name!r} differs between two runs"
