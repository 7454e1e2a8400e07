"""The PDF edition. The helpers run in every ``make test``; building the two PDFs (about two minutes
each on two cores, plus Debian's TeX) runs with ``make test-pdf``, which sets ``PREFALIGN_TEST_PDF``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from conftest import CHAPTER_TEST_PARAMS, ROOT, TEST_BUILD
from prefalign import printing
from test_editions import PHRASES

needs_pdf = pytest.mark.skipif(not os.environ.get("PREFALIGN_TEST_PDF"),
                               reason="builds both PDFs (~4 min, needs TeX): run `make test-pdf`")


def test_html_table_becomes_a_markdown_table():
    html = ("<table><thead><tr><th>theorem</th><th>measured</th></tr></thead>"
            "<tbody><tr><td>thm-a</td><td>|x| = 1</td></tr><tr><td>thm-b</td></tr></tbody></table>")
    assert printing.html_table_to_markdown(html) == ("| theorem | measured |\n|---|---|\n"
                                                     "| thm-a | \\|x\\| = 1 |\n| thm-b |  |")
    assert printing.html_table_to_markdown("<p>no table</p>") is None


def test_proof_labels_get_the_label_references_ask_for():
    tex = (r"\label{None:thm-a} \hyperref[\detokenize{book/s:thm-a}]{T} \ref{\detokenize{book/t:thm-a}}"
           r" \label{None:thm-b}")
    fixed = printing.fix_proof_labels(tex)
    assert r"\label{None:thm-a}\label{\detokenize{book/s:thm-a}}\label{\detokenize{book/t:thm-a}}" in fixed
    assert fixed.endswith(r"\label{None:thm-b}"), "an unreferenced label is left alone"


@pytest.fixture(scope="module")
def pdfs() -> dict[str, str]:
    """Both editions of the test book as PDF; their text (``pdftotext``) and image list (``pdfimages``)."""
    out = {}
    for edition in ("book", "student"):
        pdf = printing.build_pdf(ROOT, edition=edition, build_dir=TEST_BUILD, params={"fast": True},
                                 chapter_params=CHAPTER_TEST_PARAMS, log=lambda *_: None)
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
        out[edition] = (text, [line.split() for line in images.splitlines()[2:]])
    return out


@needs_pdf
def test_every_figure_is_in_each_pdf(pdfs):
    assert shutil.which("xelatex")
    figures = json.loads((TEST_BUILD / "figure-manifest.json").read_text())
    for edition, (_, images) in pdfs.items():  # the chapters' figures and the abstract (its wide edition only)
        assert sum(1 for row in images if row[2] == "image") == len(figures) + 1, edition


@needs_pdf
def test_no_unresolved_reference(pdfs):
    for edition, (text, _) in pdfs.items():
        assert "??" not in text, (edition, text[max(0, text.find("??") - 200):text.find("??") + 50])


@needs_pdf
def test_solutions_at_the_end_of_chapters_only_in_the_full_pdf(pdfs):
    book, student = pdfs["book"][0], pdfs["student"][0]
    flat = lambda text: " ".join(text.split())
    assert book.count("Solutions") >= len(PHRASES) and "Solutions" not in student
    phrases = [p for ps in PHRASES.values() for p in ps]
    assert sum(p in flat(book) for p in phrases) >= len(phrases) // 2, "the solutions are in the full PDF"
    assert not [p for p in phrases if p in flat(student)]
    assert "✗" not in book and book.count("✓") >= len(PHRASES), "every chapter's checks table, all passed"
