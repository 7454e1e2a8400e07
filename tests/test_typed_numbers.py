"""No number typed by hand in a chapter's prose: numbers come from the computation (myst-nb glue).

Every chapter listed in ``_toc.yml`` is scanned (so a new chapter is covered as soon as it is in the
table of contents). In its markdown cells, outside math, glue and other roles, code, citations,
labels and directive options, a decimal number (``0.5``, ``.35``) or a number of three or more
digits (``300``, ``3,000``) fails the test, unless the allow-list below explains why it is not a
result or a design constant of the book.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

MASKED = [
    r"\$\$[^$]*\$\$",  # display math
    r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}",  # amsmath environments
    r"\$[^$]+\$",  # inline math (may span lines)
    r"^\s*`{3,}.*$",  # fences of directives and code blocks
    r"\{[\w:-]+\}`[^`]*`",  # roles: {glue:text}, {cite:p}, {prf:ref}, {numref}, {eq}, ...
    r"`[^`\n]*`",  # inline code
    r"\]\([^)\s]*\)",  # link targets
    r"^\([\w-]+\)=\s*$",  # labels
    r"^:[\w-]+:.*$",  # directive options (:label:, :alt:, :class:)
]
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d*\.\d+|\d{3,})(?![\w])")

ALLOWED = [
    r"\b\d{1,2} (January|February|March|April|May|June|July|August|September|October|November|December) (19|20)\d\d\b",  # dates of data snapshots
    r"§\s?\d+(\.\d+)*(–\d+(\.\d+)*)?",  # section numbers of a cited book
    r"\b[\w]+-\d+(\.\d+)?(-[\w.]+)*",  # model names from the data (GPT-3.5, gpt-4-1106-preview)
    r"3,000 rounds",  # the paper's protocol (Chen et al., Sec. 6): what the paper did, not what the book computes
]
"""Numbers that are neither results nor design constants of the book (each pattern says what it allows)."""


def chapters() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())

    def files(node):
        if isinstance(node, dict):
            if "file" in node:
                yield node["file"]
            for value in node.values():
                yield from files(value)
        elif isinstance(node, list):
            for value in node:
                yield from files(value)

    return [ROOT / f"{name}.ipynb" for name in files(toc) if (ROOT / f"{name}.ipynb").exists()]


def typed_numbers(text: str) -> list[str]:
    """The typed numbers of one markdown cell (with their line), after masking what may hold numbers."""
    def blank(match: re.Match) -> str:
        return re.sub(r"[^\n]", " ", match.group(0))

    for pattern in MASKED:
        text = re.sub(pattern, blank, text, flags=re.M | re.S if "begin" in pattern else re.M)
    for pattern in ALLOWED:
        text = re.sub(pattern, blank, text)
    lines = text.splitlines()
    return [f"{m.group(0)!r} in line {text[:m.start()].count(chr(10)) + 1}: "
            f"{lines[text[:m.start()].count(chr(10))].strip()}" for m in NUMBER.finditer(text)]


def test_every_chapter_is_scanned():
    names = {p.stem for p in chapters()}
    assert {"setting", "ranking", "concentration", "oscillation", "stability", "trained", "dpo", "experiments"} <= names


def test_the_scanner_finds_typed_numbers_and_skips_math_and_glue():
    assert typed_numbers("runs for 3000 rounds at about 0.3 nats and .5") == [
        "'3000' in line 1: runs for 3000 rounds at about 0.3 nats and .5",
        "'0.3' in line 1: runs for 3000 rounds at about 0.3 nats and .5",
        "'.5' in line 1: runs for 3000 rounds at about 0.3 nats and .5"]
    assert typed_numbers("$\\alpha = 0.5$, {glue:text}`x:.3f`, `f(0.5)`, {cite:p}`a2024`, 12 runs, GPT-3.5, 13 March 2024") == []
    assert typed_numbers("$$\nx = 0.5\n$$\n:alt: 0.75\n(label-1)=\n") == []


@pytest.mark.parametrize("path", chapters(), ids=lambda p: p.stem)
def test_no_typed_numbers_in_prose(path):
    nb = json.loads(path.read_text())
    found = [f"{cell['id']}: {hit}" for cell in nb["cells"] if cell["cell_type"] == "markdown"
             for hit in typed_numbers("".join(cell["source"]))]
    assert not found, "numbers typed in the prose (glue them, or explain them in ALLOWED):\n" + "\n".join(found)
