"""Sphinx extension: each figure caption of a chapter links to the chapter's executed notebook
(the download served by the site) and to the figure's row in the provenance manifest.

Enabled in ``_config.yml``. The manifest page is ``book/reproducibility``; its rows carry the id
``prov-<figure label>`` (see :func:`prefalign.provenance.manifest_fragment`).
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx

MANIFEST_DOC = "book/reproducibility"


def _link_captions(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "html" or not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    depth = docname.count("/")
    notebook_uri = "../" * depth + f"_sources/{docname}.ipynb"
    manifest_uri = app.builder.get_relative_uri(docname, MANIFEST_DOC)
    for figure in doctree.findall(nodes.figure):
        caption = next(figure.findall(nodes.caption), None)
        if caption is None or not figure["ids"]:
            continue
        links = nodes.inline(classes=["figure-provenance"])
        links += nodes.Text(" [")
        links += nodes.reference("", "notebook", refuri=notebook_uri, internal=True)
        links += nodes.Text(" · ")
        links += nodes.reference("", "provenance", refuri=f"{manifest_uri}#prov-{figure['ids'][0]}", internal=True)
        links += nodes.Text("]")
        caption += links


def setup(app: Sphinx) -> dict[str, bool]:
    app.connect("doctree-resolved", _link_captions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
