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


@pytest.fixture
def run_chapter(tmp_path):
    """Execute ``book/<name>.ipynb`` with papermill and the given parameters; return its glued values."""
    import papermill

    from prefalign.notebook import glued

    def _run(name: str, **params):
        out = tmp_path / f"{name}.out.ipynb"
        nb = papermill.execute_notebook(
            str(BOOK / f"{name}.ipynb"), str(out), parameters=params, kernel_name="python3",
            cwd=str(BOOK), progress_bar=False, log_output=False, execution_timeout=600,
        )
        return glued(nb)

    return _run


TEST_BUILD = ROOT / "_build" / "test"
"""Where the test suite builds its book: every chapter with ``fast=True`` (the published book in
``_build/html`` is left alone; its full-size numbers are covered by ``python -m prefalign checks``)."""


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The HTML book built by the real pipeline with ``fast=True`` chapters; returns its html folder."""
    from prefalign import build

    index = build.build_book(ROOT, params={"fast": True}, build_dir=TEST_BUILD, log=lambda *_: None)
    return index.parent
