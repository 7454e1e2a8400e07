"""The student edition: the same book without the solutions to the exercises."""

import pytest
from bs4 import BeautifulSoup

from conftest import build_test_book

# A sentence that appears only inside a solution of chapter 1.
SOLUTION_TEXT = "label noise cannot be fitted away"


@pytest.fixture(scope="module")
def student_html():
    return build_test_book("student")


def test_student_edition_has_exercises_but_no_solutions(student_html, built_book):
    book = (built_book / "book" / "setting.html").read_text(encoding="utf-8")
    student = (student_html / "book" / "setting.html").read_text(encoding="utf-8")
    assert SOLUTION_TEXT in book
    assert SOLUTION_TEXT not in student
    soup = BeautifulSoup(student, "html.parser")
    assert soup.select(".exercise"), "the exercises themselves must stay"
    assert not soup.select(".solution"), "no solution block may remain"
    for page in student_html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'class="solution' not in text and "solution dropdown" not in text, page
