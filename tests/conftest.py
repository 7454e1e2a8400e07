"""Shared fixtures: hypothesis profile, papermill runs of chapters, the built book."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

settings.register_profile(
    "book", max_examples=60, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("book")


TEST_BUILD = ROOT / "_build" / "test"
"""Where the test suite builds its book (the published book in ``_build/html`` is left alone; its
full-size numbers are covered by ``python -m prefalign checks``)."""

CHAPTER_TEST_PARAMS = {
    "setting": {"seed": 7, "lattice_n": 25, "hair": 0.05, "beta_demo": 2.0},
    "ranking": {"seed": 11, "onpolicy_betas": [2.0, 8.0], "beta_demo": 2.0},
    "concentration": {"seed": 11, "bt_scores": [1.0, 0.5, 0.0], "beta_min": 0.5, "beta_max": 20.0, "beta_demo": 1.0},
    "oscillation": {"seed": 7, "a": 0.3, "trajectory_rounds": 80, "hedge_rounds": 300, "hedge_signal": 1.0},
    "stability": {"seed": 7, "a": 0.3, "region_n": 30, "region_steps": 400, "hedge_steps": 200, "basin_n": 30},
    "dpo": {"seed": 7, "a": 0.3, "lattice_n": 10, "trajectory_rounds": 60},
    "sampling": {"seed": 7, "big_beta": 2048.0, "sizes": [4], "margins": [0.2], "arena_tops": [4], "delta": 0.2},
    "trained": {"seed": 7, "a": 0.3, "phase_n": 12, "phase_rounds": 800, "onset_n": 40, "onset_rounds": 800,
                "onset_steps": [1, 4], "onset_lrs": [0.05, 0.2], "pair_counts": [200], "arena_n": 10, "triangle_n": 20,
                "entropy_reps": 3, "shared_rounds": 300, "fate_rounds": 1500, "cex_rounds": 1500, "limit_rounds": 1000},
}
"""Each chapter runs in the test book with ``fast=True`` and these parameters, small values whose
consequences the chapter tests derive by hand. Chapters not listed run with ``fast=True`` only."""


def build_test_book(edition: str = "book") -> Path:
    """Build (or bring up to date) the test book; return the html folder of ``edition``."""
    from prefalign import build

    index = build.build_book(ROOT, edition=edition, params={"fast": True}, chapter_params=CHAPTER_TEST_PARAMS,
                             build_dir=TEST_BUILD, log=lambda *_: None)
    return index.parent


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The HTML test book (see :data:`CHAPTER_TEST_PARAMS`) built by the real pipeline."""
    return build_test_book()


@pytest.fixture(scope="session")
def book_glued(built_book):
    """``book_glued(name)``: the values glued by chapter ``name`` as executed in the test book."""
    from prefalign.notebook import glued

    return lambda name: glued(str(TEST_BUILD / "stage" / "book" / f"{name}.ipynb"))
