"""The claims map (prefalign.claims) and the checks tables (prefalign.checks.table)."""

from __future__ import annotations

import re

import nbformat
import pytest

from conftest import BOOK, TEST_BUILD
from prefalign import claims
from prefalign.checks import CheckResult, Report
from prefalign.checks.table import comparison, escape_markdown

CHAPTERS = sorted(BOOK.glob("*.ipynb"))
RESULT_KINDS = ("theorem", "lemma", "proposition", "corollary", "conjecture")


def _book_labels(kinds=RESULT_KINDS) -> set[str]:
    text = "\n".join(c.source for p in CHAPTERS for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
    return set(re.findall(r"```\{prf:(?:" + "|".join(kinds) + r")\}[^\n]*\n:label: ([\w-]+)", text))


def _figure_names() -> set[str]:
    text = "\n".join(c.source for p in CHAPTERS for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
    return set(re.findall(r":name: (fig-[\w-]+)", text))


def test_every_result_of_the_book_is_on_the_claims_map():
    mapped = {label for c in claims.CLAIMS for label in c.results}
    labels = _book_labels()
    assert len(labels) >= 50
    assert labels - mapped == set()


def test_the_claims_map_names_only_existing_results_and_figures():
    proof_labels = {label for c in claims.CLAIMS for label in c.results if not label.startswith("data-")}
    assert proof_labels - _book_labels(RESULT_KINDS + ("definition",)) == set()
    figures = {f for c in claims.CLAIMS for f in c.figures}
    assert figures - _figure_names() == set()


def test_a_claim_states_its_hypotheses_or_reason():
    with pytest.raises(ValueError, match="qualifier"):
        claims.Claim("x", "paper", (), (), "proved under hypotheses")
    with pytest.raises(ValueError, match="status"):
        claims.Claim("x", "paper", (), (), "likely")


def _result(theorem: str, measured: float, relation: str = "approx") -> CheckResult:
    return CheckResult("setting", theorem, "max |a − b| over $K$ draws", measured=measured, expected=1.0,
                       tolerance=0.5 if relation == "approx" else 0.0, relation=relation, against="brute force")


def test_verdicts_on_the_map_come_from_the_executed_checks_tables(tmp_path):
    report = Report([("setting.good", _result("thm-ipo-closed-form", 1.2)),
                     ("setting.bad", _result("thm-ipo-closed-form", 2.0)),
                     ("ranking.other", _result("thm-ranking-smith", 1.0))])
    text, meta = report.show()._repr_markdown_()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("(sec-setting-checks)=\n## Checks"),
                nbformat.v4.new_code_cell("report.show()", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/markdown": text}, metadata={"text/markdown": meta})])]
    path = tmp_path / "setting.ipynb"
    nbformat.write(nb, path)
    rows = claims.chapter_results([path])
    assert [r["passed"] for r in rows["thm-ipo-closed-form"]] == [True, False]
    first = claims.fragment([path]).split("\n* - ")[2]
    assert "**1 of 2 pass** ✗" in first and "{ref}`setting <sec-setting-checks>`" in first
    rows = claims.fragment([path]).split("\n* - ")
    assert "no check" in rows[3] and "**1 of 1 pass** (" in rows[4]


def test_checks_table_reads_as_the_reader_sees_it():
    assert comparison(_result("x", 1.2)) == "1.2 ≈ 1 (± 0.5)"
    assert comparison(_result("x", 2.0)) == "2 ≠ 1 (± 0.5)"
    assert comparison(_result("x", 0.93, "at_most")) == "0.93 ≤ 1"
    assert comparison(_result("x", 1.1, "at_most")) == "1.1 > 1"
    assert comparison(_result("x", 0.5, "at_least")) == "0.5 < 1"
    assert escape_markdown("π_ref * 2 and $\\pi_{ref}$") == "π\\_ref \\* 2 and $\\pi_{ref}$"
    text, meta = Report([("setting.a", _result("thm-ipo-closed-form", 1.2)),
                         ("experiments.b", _result("data-arena-top10", 5.0))]).show()._repr_markdown_()
    assert "{prf:ref}`thm-ipo-closed-form`" in text and "{prf:ref}`data-arena-top10`" not in text
    assert "**✓ pass**" in text and "**✗ FAIL**" in text and "`5.0`" in text
    assert [r["passed"] for r in meta["prefalign-checks"]] == [True, False]


def test_every_checked_result_of_the_built_book_is_on_the_claims_map(built_book):
    executed = sorted((TEST_BUILD / "stage" / "book").glob("*.ipynb"))
    checked = claims.chapter_results(executed)
    assert len(checked) >= 40
    mapped = {label for c in claims.CLAIMS for label in c.results}
    assert set(checked) - mapped == set()


def test_graphical_abstract_connects_chapters_by_their_citations():
    from prefalign import abstract, build

    chapters = build.Layout(BOOK.parent).chapters()
    owner, cites = abstract.connections(chapters)
    assert owner["thm-osc-jacobian"] == "oscillation" and owner["thm-stab-collapse"] == "stability"
    stability = "\n".join(c.source for c in nbformat.read(BOOK / "stability.ipynb", as_version=4).cells
                          if c.cell_type == "markdown")
    n = sum(stability.count(f"{{prf:ref}}`{label}`") for label, stem in owner.items() if stem == "oscillation")
    assert cites[("oscillation", "stability")] == n >= 2
    assert all(a != b for a, b in cites)
    counts = abstract.tally(owner)
    assert counts["ranking"]["proved"] == sum(
        c.status == "proved" and any(owner.get(label) == "ranking" for label in c.results) for c in claims.CLAIMS)
