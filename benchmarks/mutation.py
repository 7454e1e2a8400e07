"""Mutation run: do the checks (and the fast unit tests) catch plausible mathematical mistakes?

Reads the reviewed list of mutants in ``benchmarks/mutants.toml`` (a file under ``src/prefalign``, an exact
string that must occur once, its replacement, the mistake it models). For each mutant, in a temporary copy of
the repository with that one replacement applied, it runs

1. every registered check (what ``python -m prefalign checks`` runs; ``fast`` sizes unless ``--full``), in
   registry order, stopping at the first that fails or raises;
2. the fast unit tests (every test file except the chapter, book, HTML, browser and pipeline tests), stopping
   at the first failure;

and prints one row per mutant: which check fails first, which test fails first, and at the end the two scores
(caught by the checks alone; caught by the checks or the tests). The copy imports the mutated package through
``PYTHONPATH``; the installed package is never touched. Usage (from the repository root)::

    .venv/bin/python benchmarks/mutation.py [--only ID ...] [--full] [--no-tests | --tests-if-missed] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTANTS = ROOT / "benchmarks" / "mutants.toml"
SLOW_TESTS = ("test_chapter_", "test_browser", "test_html", "test_pipeline", "test_editions", "test_cli", "test_claims",
              "test_links", "test_outside_build")
"""Test files left out of the fast unit tests (they build or execute the book)."""
NOT_UNIT_TESTS = ("test_mutants.py", "test_typed_numbers.py", "test_checks.py", "test_check_power.py")
"""Left out too: tests of the harness and the prose (they would "catch" every mutant for the wrong reason) and tests
that run the checks themselves (the test column is about the unit tests, independent of the checks)."""
COPY_IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", ".pytest_cache", ".hypothesis", "*.egg-info")


def load(path: Path = MUTANTS) -> list[dict]:
    """The mutants, each checked: its file exists and ``old`` occurs exactly once in it."""
    mutants = tomllib.loads(path.read_text())["mutant"]
    ids = [m["id"] for m in mutants]
    if len(set(ids)) != len(ids):
        raise ValueError(f"mutant ids must be unique; repeated: {sorted({i for i in ids if ids.count(i) > 1})}")
    for m in mutants:
        text = (ROOT / "src" / "prefalign" / m["file"]).read_text()
        if text.count(m["old"]) != 1:
            raise ValueError(f"mutant {m['id']}: `old` must occur exactly once in {m['file']}, found {text.count(m['old'])}")
        if m["old"] == m["new"]:
            raise ValueError(f"mutant {m['id']}: `new` equals `old`")
    return mutants


def fast_tests() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py")
                  if not p.name.startswith(SLOW_TESTS) and p.name not in NOT_UNIT_TESTS)


def _run(cmd: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


_CHECKS = """
import json, sys
from prefalign import checks
fast = sys.argv[1] == "fast"
for c in checks.registered():
    name = c.chapter + "." + c.name
    try:
        result = c.func(**({"fast": True} if fast and "fast" in c.parameters() else {}))
        failed = None if result.passed else name
    except Exception as exc:
        failed = name + " (raised " + type(exc).__name__ + ")"
    if failed:
        print(json.dumps(failed))
        break
else:
    print(json.dumps(None))
"""
"""Runs every registered check in registry order (``fast`` sizes unless told otherwise) and prints the first that
fails or raises (``python -m prefalign checks`` would report it and exit 1), or ``null``."""


def run_checks(copy: Path, full: bool, timeout: float) -> str | None:
    """Name of the first failing check (or the error that stopped the run), ``None`` if every check passed."""
    try:
        out = _run([sys.executable, "-c", _CHECKS, "full" if full else "fast"], copy, timeout)
    except subprocess.TimeoutExpired:
        return "(timeout)"
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        last = (out.stderr.strip().splitlines() or ["?"])[-1]
        return f"(error: {last[:80]})"


def run_tests(copy: Path, timeout: float) -> str | None:
    """Id of the first failing fast unit test, ``None`` if all pass."""
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--no-header", "-rf", *fast_tests()]
    try:
        out = _run(cmd, copy, timeout)
    except subprocess.TimeoutExpired:
        return "(timeout)"
    if out.returncode == 0:
        return None
    for line in out.stdout.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" ", 2)[1]
    return f"(pytest exit {out.returncode})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", help="run only these mutant ids")
    parser.add_argument("--full", action="store_true", help="run the checks at full size (default: --fast sizes)")
    parser.add_argument("--no-tests", action="store_true", help="run only the checks")
    parser.add_argument("--tests-if-missed", action="store_true",
                        help="run the fast unit tests only on mutants the checks miss (quicker; the second score is the same)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per command")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    mutants = load()
    if args.only:
        unknown = sorted(set(args.only) - {m["id"] for m in mutants})
        if unknown:
            parser.error(f"unknown mutant ids {unknown}")
        mutants = [m for m in mutants if m["id"] in args.only]
    results = []
    print(f"{len(mutants)} mutants; checks {'full' if args.full else '--fast'}; fast tests: {len(fast_tests())} files\n")
    print(f"{'mutant':<30} {'caught by check':<55} {'caught by test':<70} {'s':>5}")
    with tempfile.TemporaryDirectory(prefix="prefalign-mutation-") as tmp:
        base = Path(tmp) / "repo"
        shutil.copytree(ROOT, base, ignore=COPY_IGNORE)  # copy2 keeps mtimes, so numba's cache stays valid
        for m in mutants:
            target = base / "src" / "prefalign" / m["file"]
            original = target.read_text()
            target.write_text(original.replace(m["old"], m["new"]))
            start = time.perf_counter()
            try:
                check = run_checks(base, args.full, args.timeout)
                skip = args.no_tests or (args.tests_if_missed and check is not None)
                test = "not run" if skip else run_tests(base, args.timeout)
            finally:
                target.write_text(original)
                shutil.copystat(ROOT / "src" / "prefalign" / m["file"], target)
            seconds = time.perf_counter() - start
            results.append({"id": m["id"], "file": m["file"], "models": m["models"], "check": check, "test": test,
                            "seconds": round(seconds, 1)})
            print(f"{m['id']:<30} {check or '— (not caught)':<55} {test or '— (not caught)':<70} "
                  f"{seconds:5.0f}", flush=True)
    n = len(results)
    by_checks = sum(r["check"] is not None for r in results)
    by_either = sum(r["check"] is not None or r["test"] not in (None, "not run") for r in results)
    print(f"\ncaught by the checks alone:     {by_checks}/{n} = {by_checks / n:.0%}")
    if not args.no_tests:
        print(f"caught by the checks or tests:  {by_either}/{n} = {by_either / n:.0%}")
    missed = [r["id"] for r in results if r["check"] is None]
    if missed:
        print("not caught by the checks: " + ", ".join(missed))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
