"""Chapters taken out of the book: run with plain Jupyter (nbclient, no papermill, no Sphinx), each
shows its figures and its checks table as its own outputs; the book still shows each figure once.

Every chapter's kernel outputs are checked in the test book's executed notebooks (papermill drives
nbclient; those files are what a download serves, before any Sphinx reader touches them). The
:data:`OUTSIDE` chapters are also run alone by nbclient in an empty folder, as a reader would;
the others are left out of that second run to keep ``make test`` short (each would cost its whole
execution time again, ~5 min for all chapters on two cores).
"""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from nbclient import NotebookClient

from conftest import BOOK, CHAPTER_TEST_PARAMS, TEST_BUILD
from prefalign import build, notebook, repository

ROOT = BOOK.parent
CHAPTERS = [nb.stem for nb in build.Layout(ROOT).chapters()]
OUTSIDE = ("setting", "ranking")
"""The two quickest chapters (about 15 s each with the test parameters), run by nbclient alone."""
IMAGE_TYPES = ("image/png", "image/svg+xml")


def _with_parameters(nb: nbformat.NotebookNode, params: dict) -> nbformat.NotebookNode:
    """``nb`` with ``params`` appended to its parameters cell (what a reader editing the cell does)."""
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in params.items())
    return nb


def _run_alone(name: str, folder: str) -> dict:
    """Copy chapter ``name`` alone into ``folder`` and run it top to bottom with nbclient (in a worker process)."""
    shutil.copy(BOOK / f"{name}.ipynb", Path(folder) / f"{name}.ipynb")
    nb = _with_parameters(nbformat.read(Path(folder) / f"{name}.ipynb", as_version=4),
                          {"fast": True, **CHAPTER_TEST_PARAMS.get(name, {})})
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": folder}}).execute()
    return nb


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """The :data:`OUTSIDE` chapters, each run alone by nbclient, in parallel."""
    folders = [str(tmp_path_factory.mktemp(name)) for name in OUTSIDE]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        return {name: nbformat.from_dict(nb) for name, nb in zip(OUTSIDE, pool.map(_run_alone, OUTSIDE, folders))}


@pytest.fixture(scope="module")
def manifest(built_book) -> list[dict]:
    return json.loads((TEST_BUILD / "figure-manifest.json").read_text())


def _displayed_images(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """Glued figures that are display outputs a Jupyter front end shows (plain image mime types)."""
    shown = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if out.output_type == "display_data" and name and any(t in out.data for t in IMAGE_TYPES):
                shown[name] = out
    return shown


def _check_figures(notebooks: dict[str, nbformat.NotebookNode], manifest: list[dict]) -> None:
    for chapter, nb in notebooks.items():
        shown = _displayed_images(nb)
        expected = {e["figure"] for e in manifest if e["chapter"] == chapter}
        assert expected, f"{chapter}: no figure in the manifest"
        assert expected <= set(shown), f"{chapter}: figures not displayed outside the book: {sorted(expected - set(shown))}"


def _check_tables(notebooks: dict[str, nbformat.NotebookNode]) -> None:
    for chapter, nb in notebooks.items():
        tables = [out.data["text/html"] for cell in nb.cells for out in cell.get("outputs", [])
                  if "text/html" in out.get("data", {}) and "prefalign-checks" in out.data["text/html"]]
        assert tables, f"{chapter}: no checks table among the notebook's outputs"
        assert "FAIL" not in tables[0]


def test_every_chapter_displays_its_figures_and_checks(built_book, manifest):
    assert {e["chapter"] for e in manifest} == set(CHAPTERS), "every chapter has figures in the manifest"
    staged = {c: nbformat.read(TEST_BUILD / "stage" / "book" / f"{c}.ipynb", as_version=4) for c in CHAPTERS}
    _check_figures(staged, manifest)
    _check_tables(staged)


def test_chapters_run_alone_by_nbclient_show_their_figures_and_checks(executed, manifest):
    _check_figures(executed, manifest)
    _check_tables(executed)


def test_glued_numbers_outside_equal_the_book_run(executed, book_glued):
    """Same code, same parameters: the numbers a reader sees in Jupyter are the book's (test run)."""
    for chapter in OUTSIDE:
        outside, book = notebook.glued(executed[chapter]), book_glued(chapter)
        numbers = {k: v for k, v in book.items() if isinstance(v, (int, float))}
        assert numbers and all(outside[k] == v for k, v in numbers.items()), chapter


def test_install_cell_comes_first_and_installs_nothing_when_importable(executed):
    for chapter in OUTSIDE:
        nb = executed[chapter]
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert repository.INSTALL_TAG in first.metadata.tags
        assert first.outputs == [], f"{chapter}: the install cell printed or installed something"


def test_book_reader_hides_the_displays_and_keeps_the_glue():
    shown = nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Figure>"},
                                   metadata={"scrapbook": {"name": "fig-x", "mime_prefix": ""}})
    hidden = nbformat.v4.new_output("display_data", data={notebook._RECORD + "text/plain": "1.5"},
                                    metadata={"scrapbook": {"name": "x", "mime_prefix": notebook._RECORD}})
    plain = nbformat.v4.new_output("display_data", data={"text/plain": "hello"})
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[shown, hidden, plain])])
    read = notebook.read_for_book(nbformat.writes(nb))
    out = read.cells[0].outputs
    assert out[0].data == {notebook._RECORD + "image/png": "AAAA", notebook._RECORD + "text/plain": "<Figure>"}
    assert out[0].metadata.scrapbook.mime_prefix == notebook._RECORD
    assert out[1] == hidden and out[2] == plain
    assert notebook.glued(read)["fig-x"]["image/png"] == "AAAA"


def test_book_shows_each_figure_once_where_its_directive_is(built_book, manifest):
    for chapter in CHAPTERS:
        soup = BeautifulSoup((built_book / "book" / f"{chapter}.html").read_text(encoding="utf-8"), "html.parser")
        inline = soup.select(".cell_output img")
        assert not inline, f"{chapter}: {len(inline)} figure(s) also shown inline under their code cell"
        labels = [e["label"] for e in manifest if e["chapter"] == chapter]
        for label in labels:
            images = soup.select(f'figure[id="{label}"] img')  # as drawn, and its phone edition
            assert [img.get("class") for img in images] == [["prefalign-wide"], ["prefalign-phone"]], f"{chapter}: {label}"
            assert images[0]["alt"] == images[1]["alt"] and images[0]["src"] != images[1]["src"]
        sources = [img["src"] for img in soup.select("figure img")]
        assert len(sources) == len(set(sources)), f"{chapter}: an image appears twice"
