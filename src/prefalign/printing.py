r"""The PDF edition: Jupyter Book's LaTeX builder on the executed stage, compiled with XeLaTeX.

:func:`build_pdf` renders an edition's sources (the stage, or the student edition's solution-free
copy) with Sphinx's ``latex`` builder into ``_build/latex/<edition>/`` and compiles it with
``latexmk`` (XeLaTeX, for the book's Unicode) into ``_build/pdf/<edition>.pdf``. What the
HTML book shows but LaTeX cannot, this module adapts:

* tables shown as HTML (the checks tables, data frames) are given a Markdown twin
  (:func:`read_for_print`), which myst-nb renders as a LaTeX table;
* the solutions of a chapter are moved to a "Solutions" section at its end
  (:func:`move_solutions`), as a printed book has them;
* sphinx-jupyterbook-latex's document class loads ``bbm``, which only Debian's ~1 GB
  ``texlive-fonts-extra`` ships; the book never uses ``\mathbbm``, so a two-line ``bbm.sty`` next to
  ``book.tex`` (:data:`BBM_SHIM`) maps it to ``\mathbb`` instead;
* sphinx-proof labels a theorem ``None:label`` in LaTeX while references ask for ``page:label``
  (:func:`fix_proof_labels` adds the label they ask for);
* the math macros of ``_config.yml`` (``mathjax3_config``) are defined for LaTeX too (:func:`latex_config`).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml
from bs4 import BeautifulSoup
from docutils import nodes
from sphinx import addnodes

from prefalign import build
from prefalign.notebook import read_for_book

LATEX_ENGINE = "xelatex"
BBM_SHIM = "\\ProvidesPackage{bbm}[2026/12/05 prefalign shim: mathbbm as mathbb]\n\\newcommand{\\mathbbm}[1]{\\mathbb{#1}}\n"
"""``bbm.sty`` written beside ``book.tex`` (see the module docstring)."""


def _cell_text(cell) -> str:
    return " ".join(cell.get_text(" ", strip=True).split()).replace("|", "\\|")


def html_table_to_markdown(html: str) -> str | None:
    """The first ``<table>`` of ``html`` as a Markdown pipe table (header row from ``<th>``), or
    ``None`` if ``html`` has no table."""
    table = BeautifulSoup(html, "html.parser").find("table")
    if table is None:
        return None
    rows = [[_cell_text(c) for c in tr.find_all(["th", "td"])] for tr in table.find_all("tr")]
    rows = [r for r in rows if r]
    if not rows:
        return None
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def read_for_print(text: str) -> nbformat.NotebookNode:
    """myst-nb reader of the PDF build: :func:`prefalign.notebook.read_for_book`, plus a
    ``text/markdown`` twin of every HTML table output (LaTeX cannot show HTML)."""
    nb = read_for_book(text)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "text/html" in data and "text/markdown" not in data and "text/latex" not in data:
                markdown = html_table_to_markdown(data["text/html"])
                if markdown is not None:
                    data["text/markdown"] = markdown
    return nb


def _chapter_of(node: nodes.Node) -> nodes.section | None:
    """The outermost section holding ``node``: its chapter in the assembled book."""
    chapter = None
    while node is not None:
        if isinstance(node, nodes.section):
            chapter = node
        node = node.parent
    return chapter


def move_solutions(app, doctree: nodes.document, docname: str) -> None:
    """LaTeX only. The builder assembles the whole book into one tree: move every solution into a
    "Solutions" section appended to its chapter."""
    if app.builder.format != "latex":
        return
    by_chapter: dict[int, tuple[nodes.section, list[nodes.Element]]] = {}
    for node in list(doctree.findall(nodes.Element)):
        if type(node).__name__ == "solution_node":
            chapter = _chapter_of(node)
            if chapter is not None:
                by_chapter.setdefault(id(chapter), (chapter, []))[1].append(node)
    for chapter, solutions in by_chapter.values():
        section = nodes.section(ids=[f"{chapter['ids'][0]}-solutions" if chapter["ids"] else "solutions"])
        section += nodes.title(text="Solutions")
        for node in solutions:
            node.parent.remove(node)
            section += node
        chapter += section


def exercise_references(app, doctree: nodes.document, docname: str) -> None:
    r"""LaTeX only. Sphinx writes a ``{numref}`` as ``\ref`` to ``page:label``, but sphinx-exercise labels an
    exercise ``exercise:label`` and numbers it itself: keep the number Sphinx resolved as text and link
    to sphinx-exercise's label (otherwise the PDF prints "Exercise ??")."""
    if app.builder.format != "latex":
        return
    labels = set(getattr(app.env, "sphinx_exercise_registry", {}))
    for ref in list(doctree.findall(addnodes.number_reference)):
        target = ref.get("refid") or ref.get("refuri", "").rpartition("#")[2]
        if target in labels:
            ref.replace_self(nodes.reference("", "", *ref.children, refuri=f"%exercise#{target}", internal=True))


def latex_config(app, config) -> None:
    r"""``config-inited`` (after sphinx-jupyterbook-latex's): a ``\newcommand`` for every MathJax macro of the book."""
    macros = config["mathjax3_config"]["tex"]["macros"]
    definitions = "\n".join(f"\\newcommand{{\\{name}}}{{{body}}}" for name, body in macros.items())
    elements = dict(config["latex_elements"])
    elements["preamble"] = elements.get("preamble", "") + "\n% the book's math macros (mathjax3_config)\n" + definitions + "\n"
    config["latex_elements"] = elements


def fix_proof_labels(tex: str) -> str:
    r"""``tex`` with ``\label{\detokenize{page:X}}`` added beside each ``\label{None:X}`` that sphinx-proof
    writes, for every ``page`` whose references ask for ``X`` (otherwise "??" and dead links)."""
    def add(match: re.Match) -> str:
        label = match.group(1)
        pages = sorted(set(re.findall(r"\\detokenize\{([^{}:]+):" + re.escape(label) + r"\}", tex)))
        return match.group(0) + "".join(f"\\label{{\\detokenize{{{page}:{label}}}}}" for page in pages)

    return re.sub(r"\\label\{None:([^{}]+)\}", add, tex)


def setup(app):
    """Sphinx extension (added by :func:`build_latex` only): :func:`latex_config`, :func:`move_solutions`,
    :func:`exercise_references`."""
    app.connect("config-inited", latex_config, priority=900)
    app.connect("doctree-resolved", move_solutions)
    app.connect("doctree-resolved", exercise_references)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def build_pdf(root: Path | str = ".", *, edition: str = "book", build_dir: Path | None = None,
              params: dict | None = None, chapter_params: dict | None = None, log=print) -> Path:
    """Execute what changed (as ``make book``), render ``edition`` with the LaTeX builder, compile
    it with XeLaTeX; return ``_build/pdf/<edition>.pdf``."""
    layout = build.Layout(Path(root).resolve(), None if build_dir is None else Path(build_dir).resolve())
    build.execute(layout, params=params, chapter_params=chapter_params, log=log)
    build.stage(layout)
    build.write_provenance(layout)
    tex_dir = build_latex(layout, edition=edition, log=log)
    (tex_dir / "bbm.sty").write_text(BBM_SHIM)
    tex = tex_dir / "book.tex"
    tex.write_text(fix_proof_labels(tex.read_text(encoding="utf-8")), encoding="utf-8")
    log(f"compiling {tex_dir / 'book.tex'} with latexmk ({LATEX_ENGINE})")
    proc = subprocess.run(["latexmk", f"-{LATEX_ENGINE}", "-interaction=nonstopmode", "-halt-on-error", "book.tex"],
                          cwd=tex_dir, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"latexmk failed (exit {proc.returncode}); log {tex_dir / 'book.log'}:\n{proc.stdout[-4000:]}")
    pdf = layout.build / "pdf" / f"{edition}.pdf"
    pdf.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tex_dir / "book.pdf", pdf)
    return pdf


def build_latex(layout: build.Layout, *, edition: str = "book", log=print) -> Path:
    """Render the staged ``edition`` with Sphinx's LaTeX builder (warnings are errors); return the folder
    holding ``book.tex``."""
    if edition not in build.EDITIONS:
        raise ValueError(f"edition must be one of {sorted(build.EDITIONS)}, got {edition!r}")
    source = build.prepare_source(layout, edition)
    out = layout.build / "latex" / edition
    extensions = yaml.safe_load((source / "_config.yml").read_text())["sphinx"]["config"]["extensions"]
    overrides = {**build.EDITIONS[edition], "external_toc_path": str(source / "_toc.yml"),
                 "latex_individualpages": False, "latex_engine": LATEX_ENGINE,
                 "extensions": [*extensions, "sphinx_jupyterbook_latex", "prefalign.printing"],
                 "nb_custom_formats": {".ipynb": ["prefalign.printing.read_for_print", {}, False]},
                 "nb_render_markdown_format": "myst"}  # Markdown outputs as MyST, which has tables
    args = {"source": str(source), "out": str(out), "config": str(source / "_config.yml"), "builder": "latex",
            "doctrees": str(layout.build / "latex" / f".doctrees-{edition}"), "overrides": overrides,
            "all": True}
    log(f"rendering the {edition} edition with Jupyter Book's LaTeX builder")
    proc = subprocess.run([sys.executable, "-c", build._SPHINX_RUNNER, json.dumps(args)], cwd=layout.root,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the LaTeX build failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return out
