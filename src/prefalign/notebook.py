"""Glue between chapters and the book: values and figures for myst-nb, and a reader for tests.

Numbers are glued as plain Python ``float``/``int`` (numpy scalars would be glued as
``np.float64(...)``, which myst-nb cannot format) and hidden. Figures are glued *displayed*, so a
chapter run anywhere (JupyterLab, VS Code, Colab, nbclient) shows each figure where it is made;
the book reads its notebooks with :func:`read_for_book`, which hides those displays again, so
the book shows each figure once, where its ``{glue:figure}`` directive places it.
"""

from __future__ import annotations

import ast
from numbers import Integral, Real
from typing import Any

import matplotlib.pyplot as plt
import nbformat
from matplotlib.figure import Figure

from prefalign import phone_figure

_RECORD = "application/papermill.record/"


def glue_number(name: str, value: Real) -> None:
    """Glue a number for ``{glue:text}`name:fmt``` in the prose (stored as a Python int or float)."""
    from myst_nb import glue

    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"value must be a real number, got {value!r}")
    glue(name, int(value) if isinstance(value, Integral) else float(value), display=False)


def glue_text(name: str, value: str) -> None:
    """Glue a string (e.g. a list of responses) for ``{glue:text}`name```."""
    from myst_nb import glue

    if not isinstance(value, str):
        raise ValueError(f"value must be a str, got {type(value).__name__}")
    glue(name, value, display=False)


def glue_figure(name: str, fig: Figure, *, order: phone_figure.Order = "rows") -> None:
    """Glue ``fig`` for a ``{glue:figure}`` directive, display it (PNG) and close it.

    The display is the notebook's own output (seen in any Jupyter front end); the book hides it
    (:func:`read_for_book`) and shows the figure where the directive is. The output carries the
    figure's phone edition (:func:`prefalign.phone_figure.for_phone`, panels restacked in
    ``order``), which the book shows on narrow screens.
    """
    from myst_nb import glue

    glue(name, phone_figure.bundle(fig, order=order), display=True)
    plt.close(fig)


def read_for_book(text: str) -> nbformat.NotebookNode:
    """myst-nb notebook reader of the book (``nb_custom_formats`` in ``_config.yml``).

    Every displayed glue output (a figure) is turned into a hidden glue record, exactly what
    ``glue(..., display=False)`` would have written, so myst-nb keeps it for ``{glue:figure}``
    but does not also render it inline.
    """
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            record = out.get("metadata", {}).get("scrapbook")
            if record is not None and not record.get("mime_prefix"):
                record["mime_prefix"] = _RECORD
                out["data"] = {_RECORD + k: v for k, v in out["data"].items()}
    return nb


def glued(nb: nbformat.NotebookNode | str) -> dict[str, Any]:
    """The values glued in an executed notebook (object or path): numbers and strings as Python
    values, figures as their mime bundle (so ``"image/png" in glued(nb)["fig-x"]``)."""
    if isinstance(nb, str):
        nb = nbformat.read(nb, as_version=4)
    values: dict[str, Any] = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if not name:
                continue
            bundle = {k.removeprefix(_RECORD): v for k, v in out.get("data", {}).items()}
            if "image/png" in bundle:
                values[name] = bundle
            else:
                values[name] = ast.literal_eval(bundle["text/plain"])
    return values
