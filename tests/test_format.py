"""The chapters' code cells are formatted (``make format``: ruff, at most 88 characters a line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT

RUFF = Path(sys.executable).with_name("ruff")


def test_chapters_code_cells_are_formatted():
    result = subprocess.run([str(RUFF), "format", "--check", "--diff", "book"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "run `make format`:\n" + result.stdout[-3000:] + result.stderr[-2000:]


def test_no_line_of_code_is_longer_than_88_characters():
    result = subprocess.run([str(RUFF), "check", "--output-format", "concise", "book"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, "lines over 88 characters (run `make format`, then shorten comments):\n" + result.stdout[-3000:]


def test_a_long_trailing_comment_moves_above_its_line():
    from prefalign.formatting import wrap_comments

    source = 'x = "a # not a comment"  # ' + "word " * 20 + "\nshort = 1  # fits"
    lines = wrap_comments(source, limit=40).split("\n")
    assert lines[-2:] == ['x = "a # not a comment"', "short = 1  # fits"]
    assert all(line.startswith("# ") and len(line) <= 40 for line in lines[:-2])
    assert " ".join(line[2:] for line in lines[:-2]) == ("word " * 20).strip()
