"""The phone edition of a figure: the same plot redrawn for a phone's text column.

A figure of the book is drawn :data:`~prefalign.plotting.FIGURE_WIDTH_PX` CSS pixels wide. On a
phone the column is about :data:`PHONE_WIDTH_PX` pixels, so that figure would show at about half
its size (labels of 5–6 px). :func:`for_phone` makes a copy :data:`PHONE_WIDTH_PX` pixels wide at
the same font size: the panels of a multi-panel figure are restacked into one column (in reading
order, or column by column), each panel keeping its height / width ratio (within
:data:`PANEL_ASPECT`); a figure legend moves below the panels, a colourbar shared by the panels
becomes horizontal below them, panels that shared an axis get their tick labels back, and a panel
without a y label takes the one of its row. Titles and axis labels longer than their panel are
wrapped (never inside ``$...$``), legends that would cover a panel move below it, and a heatmap's
cell labels that would overlap are left out. The original figure is not changed.

:func:`bundle` is what :func:`prefalign.notebook.glue_figure` displays: the figure as PNG (2×, with
its display size) with the phone edition, same format, in the output's metadata, where the book's
renderer (:mod:`prefalign.figure_renderer`) finds it; Jupyter front ends show the PNG.
"""

from __future__ import annotations

import base64
import copy
import re
from typing import Any, Literal

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from prefalign.plotting import CSS_PX_PER_INCH

PHONE_WIDTH_PX = 358
"""Design width of the phone edition in CSS pixels: the text column on a 390 px phone."""
PANEL_ASPECT = (0.5, 0.9)
"""Range of a restacked panel's height / width: wide panels get taller, tall ones shorter."""
LEGEND_SHARE = 0.6
"""A lone panel's legend wider than this share of the panel moves below the plot."""
LEGEND_ENTRIES = 5
"""A panel's legend with more entries than this moves below the plot (it would cover the data)."""
CELL_LABELS = 10
"""A panel with at least this many text labels is an annotated grid (a heatmap's cells): if
its labels overlap at phone size, they are left out (the colourbar still gives the values)."""
METADATA_KEY = "prefalign/phone"
"""Output-metadata key of the phone edition: ``{"png": base64, "width": px, "height": px}``."""
Order = Literal["rows", "columns"]


def for_phone(fig: Figure, *, order: Order = "rows") -> Figure:
    """A copy of ``fig`` drawn :data:`PHONE_WIDTH_PX` CSS pixels wide, its panels in one column.

    ``order`` is the reading order of the panels of a grid: ``"rows"`` (left to right, then down)
    or ``"columns"`` (down each column, then right; for a grid whose rows share the x-axis).
    The copy uses matplotlib's constrained layout; ``fig`` is left as it is.
    """
    if order not in ("rows", "columns"):
        raise ValueError(f"order must be 'rows' or 'columns', got {order!r}")
    phone: Figure = copy.deepcopy(fig)
    plt.close(phone)
    bars = [_take_colorbar(cax) for cax in phone.axes if hasattr(cax, "_colorbar")]
    legends = [_take_legend(leg) for leg in list(phone.legends)]
    panels = _panels(phone, order)
    rows = [ax.get_subplotspec().rowspan.start for ax in panels]
    width_in = PHONE_WIDTH_PX / CSS_PX_PER_INCH
    aspects = [_panel_aspect(fig, original) for original in _panels(fig, order)]
    height_in = width_in * sum(aspects) + 0.35 * len(panels) + 0.45 * (len(legends) + len(bars))
    phone.set_size_inches(width_in, height_in)
    phone.set_dpi(CSS_PX_PER_INCH)  # one figure pixel per CSS pixel at display size
    phone.set_layout_engine("constrained")
    grid = phone.add_gridspec(len(panels), 1, height_ratios=aspects)
    for i, ax in enumerate(panels):
        ax.set_subplotspec(grid[i, 0])
    _show_hidden_labels(panels, rows)
    for mappable, parents, options in bars:
        phone.colorbar(mappable, ax=parents, location="bottom", shrink=0.85, aspect=30, **options)
    for handles, labels, ncol in legends:
        phone.legend(handles, labels, loc="outside lower center", ncol=min(ncol, 2), frameon=False)
    _fit_texts(phone, panels)
    return phone


def bundle(fig: Figure, *, order: Order = "rows") -> "FigureBundle":
    """What the book displays for ``fig``: its PNG and, in the metadata, its phone edition."""
    return FigureBundle(_png(fig), _png(for_phone(fig, order=order)))


class FigureBundle:
    """A figure's display data: ``image/png`` (2×, with ``width``/``height`` in CSS pixels) and
    the phone edition under the metadata key :data:`METADATA_KEY`."""

    def __init__(self, png: tuple[bytes, dict[str, int]], phone: tuple[bytes, dict[str, int]]):
        self.png, self.phone = png, phone

    def _repr_mimebundle_(self, include=None, exclude=None) -> tuple[dict[str, Any], dict[str, Any]]:
        (png, size), (phone, phone_size) = self.png, self.phone
        data = {"image/png": base64.b64encode(png).decode("ascii"),
                "text/plain": f"<Figure {size['width']}x{size['height']} px, phone edition {phone_size['width']}x{phone_size['height']} px>"}
        meta = {"image/png": dict(size), METADATA_KEY: {"png": base64.b64encode(phone).decode("ascii"), **phone_size}}
        return data, meta


def _png(fig: Figure) -> tuple[bytes, dict[str, int]]:
    """``fig`` as PNG at twice its dpi, cropped to its content, and its display size in CSS
    pixels (IPython's "retina", as Jupyter shows figures)."""
    from IPython.core.pylabtools import retina_figure

    png, size = retina_figure(fig)
    return png, {"width": int(size["width"]), "height": int(size["height"])}


def _panels(fig: Figure, order: Order) -> list[Axes]:
    """The figure's panels (axes on its grid, colourbars excluded) in reading order."""
    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None and not hasattr(ax, "_colorbar")]

    def key(ax: Axes) -> tuple[int, int]:
        spec = ax.get_subplotspec()
        return (spec.rowspan.start, spec.colspan.start) if order == "rows" else (spec.colspan.start, spec.rowspan.start)

    return sorted(axes, key=key)


def _panel_aspect(fig: Figure, ax: Axes) -> float:
    """Height / width of a panel as drawn in ``fig``, within :data:`PANEL_ASPECT`."""
    box = ax.get_position()
    w, h = fig.get_size_inches()
    low, high = PANEL_ASPECT
    return min(max(box.height * h / (box.width * w), low), high)


def _take_colorbar(cax: Axes) -> tuple[Any, list[Axes], dict[str, Any]]:
    """Remove a colourbar; return its mappable, the panels it served, and what it takes to draw
    it again."""
    bar = cax._colorbar
    label = cax.get_ylabel() if bar.orientation == "vertical" else cax.get_xlabel()
    options = {"extend": bar.extend, "label": label}
    parents = list(getattr(cax, "_colorbar_info", {}).get("parents", [bar.mappable.axes]))
    mappable = bar.mappable
    bar.remove()
    return mappable, parents, options


def _take_legend(legend) -> tuple[list, list[str], int]:
    """Remove a figure legend; return its handles, labels and number of columns."""
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    ncol = legend._ncols
    legend.figure.legends.remove(legend)  # not legend.remove(): in a deep copy it points at the original's list
    return handles, labels, ncol


def _show_hidden_labels(panels: list[Axes], rows: list[int]) -> None:
    """Give each panel back the tick labels hidden because it shared an axis, and, if it has no
    y label, the y label of its row in the original grid (``rows[i]`` is panel ``i``'s row)."""
    for ax, row in zip(panels, rows):
        ax.tick_params(labelleft=True, labelbottom=True)
        if not ax.get_ylabel():
            ax.set_ylabel(next((o.get_ylabel() for o, r in zip(panels, rows) if r == row and o.get_ylabel()), ""))


def _fit_texts(fig: Figure, panels: list[Axes]) -> None:
    """Move below the plot a legend with more than :data:`LEGEND_ENTRIES` entries, or of a lone
    panel wider than :data:`LEGEND_SHARE` of it (the figure grows by the legend's height); put
    other legends wider than their panel in one column (same place); then wrap titles and axis
    labels longer than their panel and hide the cell labels of an annotated grid that overlap."""
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    for ax in panels:
        legend = ax.get_legend()
        if legend is None:
            continue
        room = ax.get_window_extent(renderer).width
        extent = legend.get_window_extent(renderer).width
        labels = [t.get_text() for t in legend.get_texts()]
        if len(labels) > LEGEND_ENTRIES or (len(panels) == 1 and extent > LEGEND_SHARE * room):
            handles = legend.legend_handles
            legend.remove()
            ncol = 2 if len(labels) > LEGEND_ENTRIES and max(map(len, labels)) <= 22 else 1
            width_in, height_in = fig.get_size_inches()
            fig.set_size_inches(width_in, height_in + 0.2 * -(-len(labels) // ncol) + 0.1)
            fig.legend(handles, labels, loc="outside lower center", ncol=ncol, frameon=False)
        elif legend._ncols > 1 and extent > room:
            _one_column(ax, legend)
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        for text in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label):
            _wrap(text, renderer, max(box.width, 0.6 * width))
        _wrap(ax.yaxis.label, renderer, box.height, vertical=True)
        if ax in panels:
            _drop_overlapping_cells(ax, renderer)
    if fig._suptitle is not None:
        _wrap(fig._suptitle, renderer, width)


def _wrap(text, renderer, room: float, *, vertical: bool = False) -> None:
    """Break ``text`` into lines that fit ``room`` display pixels (its width, or its height if
    ``vertical``), at spaces outside ``$...$`` so that mathtext still parses."""
    content = text.get_text()
    if not content or "\n" in content:
        return
    extent = text.get_window_extent(renderer)
    length = extent.height if vertical else extent.width
    words = re.findall(r"(?:\$[^$]*\$|\S)+", content)
    if length <= room or len(words) < 2:
        return
    chars = max(int(len(content) * room / length * 0.95), 12)
    lines = [words[0]]
    for word in words[1:]:
        if len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    text.set_text("\n".join(lines))


def _drop_overlapping_cells(ax: Axes, renderer) -> None:
    """Hide the text labels of a panel with at least :data:`CELL_LABELS` of them if any two
    overlap (hidden, not removed: in a deep copy a text's remover points at the original)."""
    if len(ax.texts) < CELL_LABELS:
        return
    boxes = sorted((t.get_window_extent(renderer) for t in ax.texts if t.get_text()), key=lambda b: (b.y0, b.x0))
    if any(a.overlaps(b) for a, b in zip(boxes, boxes[1:])):
        for text in ax.texts:
            text.set_visible(False)


def _one_column(ax: Axes, legend) -> None:
    """Draw ``legend`` again in one column, with its place, frame and title."""
    handles, labels = legend.legend_handles, [t.get_text() for t in legend.get_texts()]
    title = legend.get_title().get_text() or None
    anchor = legend._bbox_to_anchor
    place = {} if anchor is None else {"bbox_to_anchor": anchor._bbox.bounds, "bbox_transform": anchor._transform}
    ax.legend(handles, labels, loc=legend._loc, ncol=1, frameon=legend.get_frame_on(), title=title,
              fontsize=legend._fontsize, **place)
