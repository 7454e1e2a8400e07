"""The index of results (prefalign.results_index) and the phone edition of the graphical abstract."""

from __future__ import annotations

import re

import nbformat
import pytest
import yaml

from conftest import BOOK, ROOT
from prefalign import claims, results_index
from prefalign.checks import CheckResult, Report

CHAPTERS = sorted(BOOK.glob("*.ipynb"))


def test_every_labelled_result_of_every_chapter_is_indexed():
    # Independent count: the label line that follows each result directive, by a plain scan.
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        lines = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown").split("\n")
        expected = [lines[i + 1].split()[1] for i, line in enumerate(lines[:-1])
                    if re.match(r"^(```+|:::+)\{prf:(definition|lemma|proposition|theorem|corollary|conjecture)\}", line)
                    and lines[i + 1].startswith(":label:")]
        assert [r.label for r in results_index.results(nb)] == expected, path.name


def test_a_result_without_a_label_is_refused():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("```{prf:theorem} Lonely\n:nonumber:\n\nText.\n```")]
    with pytest.raises(ValueError, match="'Lonely' has no :label:"):
        results_index.results(nb)


def test_proofs_and_exercises_are_not_results():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "```{prf:proof}\nDone.\n```\n\n```{prf:lemma} Small\n:label: lem-small\n\nA.\n```\n"
        "```{exercise} One\n:label: ex-one\n```")]
    assert results_index.results(nb) == [results_index.Result("lemma", "lem-small", "Small")]


def test_fragment_gives_each_result_its_checks_verdict_and_claims(tmp_path):
    label = "thm-ipo-closed-form"
    good, bad = (CheckResult("setting", label, "max |a − b|", measured=m, expected=1.0, tolerance=0.5,
                             relation="approx", against="hand value") for m in (1.2, 3.0))
    text, meta = Report([("setting.a", good), ("setting.b", bad)]).show()._repr_markdown_()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Setting\n\n```{{prf:theorem}} Closed form\n:label: {label}\n\nX.\n```\n\n"
                                              "```{prf:definition} Sampler\n:label: def-demo-sampler\n\nY.\n```"),
                nbformat.v4.new_markdown_cell("(sec-setting-checks)=\n## Checks"),
                nbformat.v4.new_code_cell("report.show()", outputs=[nbformat.v4.new_output(
                    "display_data", data={"text/markdown": text}, metadata={"text/markdown": meta})])]
    path = tmp_path / "setting.ipynb"
    nbformat.write(nb, path)
    rows = results_index.fragment([path]).split("\n* - ")
    assert rows[0].startswith("## Setting")
    theorem, definition = rows[2], rows[3]
    n_claims = sum(label in c.results for c in claims.CLAIMS)
    assert f"{{prf:ref}}`{label}`" in theorem and "Closed form" in theorem
    assert "**1 of 2 pass** ✗ ({ref}`setting <sec-setting-checks>`)" in theorem
    assert f"{{ref}}`{n_claims} <claims-map>`" in theorem and n_claims >= 1
    assert "{prf:ref}`def-demo-sampler`" in definition and "no check" in definition and definition.endswith("—\n```\n")


def test_the_index_is_in_the_navigation():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c.get("file") for part in toc.get("parts", []) for c in part.get("chapters", [])]
    assert "book/results" in files
    assert "_generated/results.md" in (BOOK / "results.md").read_text()


def test_phone_abstract_says_in_text_what_the_arrows_draw():
    from prefalign import abstract, build

    rows = abstract.parts(ROOT / "_toc.yml", build.Layout(ROOT).chapters())
    chapters = [p for _, members in rows for p in members]
    _, cites = abstract.connections(chapters)
    fig = abstract.phone_edition(rows)
    boxes = [t.get_text() for t in fig.axes[0].texts if t.get_bbox_patch() is not None]
    assert len(boxes) == len(chapters)
    number = {p.stem: k + 1 for k, p in enumerate(chapters)}
    for k, (path, box) in enumerate(zip(chapters, boxes)):
        assert box.startswith(f"{k + 1}. ")
        expected = sorted(number[a] for (a, b), n in cites.items() if b == path.stem and n >= abstract.MIN_CITATIONS)
        said = re.search(r"builds on ([\d, ]+)$", box)
        assert (said and [int(x) for x in said.group(1).split(", ")]) == (expected or None), box
    assert fig.get_size_inches()[0] * 96 == pytest.approx(358)
    assert abstract.png(rows, phone=True) == abstract.png(rows, phone=True)
