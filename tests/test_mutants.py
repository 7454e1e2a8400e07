"""The mutant list of ``make mutation`` stays applicable: every mutant names a file of the package, its
``old`` string occurs there exactly once, and it says what mistake it models."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _mutation():
    spec = importlib.util.spec_from_file_location("mutation", ROOT / "benchmarks" / "mutation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_mutant_applies_once_and_is_explained():
    mutants = _mutation().load()
    assert len(mutants) >= 30
    assert all(m["models"].strip() and m["old"] != m["new"] for m in mutants)
    assert not any(m["file"].startswith("_kernels") for m in mutants)


def test_fast_tests_leave_out_the_book():
    files = _mutation().fast_tests()
    assert "tests/test_ipo.py" in files and not any("chapter" in f or "browser" in f for f in files)
