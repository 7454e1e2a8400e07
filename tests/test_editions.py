"""The student edition: the same book without the solutions to the exercises, in every file it
serves (pages, downloadable notebooks, ``_sources/``, the search index), while the full edition
has them."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

from conftest import BOOK, build_test_book
from prefalign import build, editions

ROOT = BOOK.parent
_OPEN = re.compile(r"^(`{3,}|:{3,})\{solution\}")
_PHRASE = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")


def _solution_phrases() -> dict[str, list[str]]:
    """For each chapter, one phrase per solution: the longest run of plain words (at least three) on
    one line of the solution that the book's text outside the solutions does not contain."""
    chapters = {path.stem: nbformat.read(path, as_version=4) for path in build.Layout(ROOT).chapters()}
    outside = "\n".join([cell.source for nb in chapters.values() for cell in editions.student_notebook(nb).cells]
                        + [p.read_text(encoding="utf-8") for p in BOOK.glob("*.md")])
    phrases: dict[str, list[str]] = {}
    for stem, nb in chapters.items():
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            fence, body = None, []
            for line in cell.source.splitlines():
                match = _OPEN.match(line)
                if fence is None and match:
                    fence, body = match.group(1), []
                elif fence is not None and line.strip() == fence:
                    candidates = [p for l in body for p in _PHRASE.findall(l) if p not in outside]
                    assert candidates, f"{stem}: a solution without a distinctive phrase: {body[:3]}"
                    phrases.setdefault(stem, []).append(max(candidates, key=len))
                    fence = None
                elif fence is not None:
                    body.append(line)
    return phrases


PHRASES = _solution_phrases()


@pytest.fixture(scope="module")
def student_html():
    return build_test_book("student")


def test_every_solution_is_found():
    counted = {stem: len(v) for stem, v in PHRASES.items()}
    expected = {p.stem: nbformat.read(p, as_version=4) for p in build.Layout(ROOT).chapters()}
    expected = {stem: sum(c.source.count("{solution}") for c in nb.cells if c.cell_type == "markdown")
                for stem, nb in expected.items()}
    assert counted == {k: v for k, v in expected.items() if v}


def test_full_edition_serves_every_solution(built_book):
    for stem, phrases in PHRASES.items():
        page = (built_book / "book" / f"{stem}.html").read_text(encoding="utf-8")
        download = (built_book / "_sources" / "book" / f"{stem}.ipynb").read_text(encoding="utf-8")
        for phrase in phrases:
            assert phrase in page and phrase in download, (stem, phrase)


def test_no_file_of_the_student_edition_contains_a_solution(student_html):
    files = [p for p in student_html.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in files) and any(p.name == "searchindex.js" for p in files)
    found = []
    for path in files:
        data = path.read_bytes()
        found += [(path.relative_to(student_html).as_posix(), phrase) for phrases in PHRASES.values()
                  for phrase in phrases if phrase.encode() in data]
    assert not found, found[:10]


def test_student_edition_keeps_the_exercises(student_html):
    soup = BeautifulSoup((student_html / "book" / "setting.html").read_text(encoding="utf-8"), "html.parser")
    assert len(soup.select(".exercise")) == len(PHRASES["setting"])
    assert not soup.select(".solution")


def test_strip_solutions_removes_nested_fences_and_keeps_the_rest():
    text = ("Before.\n\n````{exercise} E\n:label: ex-a\n\nDo it.\n````\n\n"
            "````{solution} ex-a\n:class: dropdown\n\n```{math}\nx = 1\n```\nThe answer.\n````\n\nAfter.\n")
    assert editions.strip_solutions(text) == "Before.\n\n````{exercise} E\n:label: ex-a\n\nDo it.\n````\n\nAfter.\n"
    colon = ":::{solution} ex-a\nAnswer.\n:::\nKept.\n"
    assert editions.strip_solutions(colon) == "Kept.\n"
    with pytest.raises(ValueError, match="never closed"):
        editions.strip_solutions("````{solution} ex-a\nAnswer.\n```\n")


def test_student_notebook_drops_cells_left_empty():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("````{solution} ex-a\nAnswer.\n````"),
                                         nbformat.v4.new_markdown_cell("Text.")])
    assert [c.source for c in editions.student_notebook(nb).cells] == ["Text."]
    assert len(nb.cells) == 2, "the input is not modified"
