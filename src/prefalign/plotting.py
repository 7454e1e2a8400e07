"""One look for every figure of the book: the seaborn theme, figures made for the width they are
shown at, response colours, simplex (ternary) plots.

Every figure is drawn at its display size: :func:`subplots` makes it :data:`FIGURE_WIDTH_PX` CSS
pixels wide (the book's text column on a 1,280 px screen), one inch being 96 CSS pixels, so that
a font of :data:`FONT_PT` points shows at ``FONT_PT * 96 / 72`` pixels in every figure.
:func:`set_theme` renders figures as PNG at twice that resolution (sharp on high-DPI screens) with
their display size in the output's metadata. Figures have opaque white backgrounds (readable in
the dark theme too) and fixed sizes, so the same code and parameters produce the same PNG bytes.
"""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import seaborn as sns
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from prefalign import validation

PALETTE = "colorblind"
CSS_PX_PER_INCH = 96
FIGURE_WIDTH_PX = 680
"""Display width of every figure in CSS pixels: the text column of the book at 1,280 px."""
FIGURE_WIDTH_IN = FIGURE_WIDTH_PX / CSS_PX_PER_INCH
FONT_PT = 10.0
"""Font size of labels and titles; tick labels, legends and annotations are ``"small"`` (5/6 of it)."""
_SQRT3_2 = np.sqrt(3.0) / 2.0


def set_theme() -> None:
    """Apply the book's theme: seaborn whitegrid, colour-blind palette, opaque white backgrounds,
    fonts of :data:`FONT_PT` points, and inline figures as PNG at 2× their display size."""
    sns.set_theme(context="notebook", style="whitegrid", palette=PALETTE)
    mpl.rcParams.update({
        "figure.figsize": (FIGURE_WIDTH_IN, 0.62 * FIGURE_WIDTH_IN),
        "figure.dpi": CSS_PX_PER_INCH,
        "font.size": FONT_PT,
        "axes.labelsize": "medium",
        "xtick.labelsize": "small",
        "ytick.labelsize": "small",
        "legend.fontsize": "small",
        "legend.title_fontsize": "small",
        "figure.titlesize": "medium",
        "lines.linewidth": 1.5,
        "lines.markersize": 5.0,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
        "savefig.facecolor": "white",
        "savefig.transparent": False,
        "svg.hashsalt": "prefalign",
        "axes.titlesize": "medium",
    })
    _retina_inline()


def _retina_inline() -> None:
    """Inline figures (and glued ones) as PNG at twice the figure's dpi, displayed at its size."""
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no IPython kernel: nothing is displayed inline
        return
    set_matplotlib_formats("retina")


def subplots(nrows: int = 1, ncols: int = 1, *, aspect: float = 0.62, **kwargs):
    """``plt.subplots`` for a figure shown across the text column: :data:`FIGURE_WIDTH_IN` wide and
    ``aspect`` times as tall (``aspect`` = height / width of the whole figure, in (0, 2]).

    Every figure of the book is made here, so that fonts show at one size at display size.
    Other keyword arguments go to ``plt.subplots`` (``sharey``, ``width_ratios``, ...).
    """
    import matplotlib.pyplot as plt

    if "figsize" in kwargs:
        raise ValueError("figsize is set by plotting.subplots from aspect; pass aspect instead")
    if not 0.0 < float(aspect) <= 2.0:
        raise ValueError(f"aspect must be in (0, 2] (height / width), got {aspect!r}")
    validation.count(nrows, "nrows")
    validation.count(ncols, "ncols")
    return plt.subplots(nrows, ncols, figsize=(FIGURE_WIDTH_IN, float(aspect) * FIGURE_WIDTH_IN), **kwargs)


def response_colors(K: int) -> list[tuple[float, float, float]]:
    """One colour per response ``0..K-1`` from the book's palette."""
    return sns.color_palette(PALETTE, n_colors=validation.count(K, "K"))


def simplex_xy(pi: ArrayLike) -> np.ndarray:
    """Cartesian coordinates of points of Δ_3 (shape ``(..., 3)`` → ``(..., 2)``).

    Vertex ``e_0`` sits at (0, 0), ``e_1`` at (1, 0), ``e_2`` at (½, √3/2).
    """
    p = validation.probability_vector(pi, "pi")
    validation.same_size(3, p, "pi", against="the 3-simplex")
    x = p[..., 1] + 0.5 * p[..., 2]
    y = _SQRT3_2 * p[..., 2]
    return np.stack([x, y], axis=-1)


def simplex_axes(ax: Axes, labels: tuple[str, str, str] = ("response 1", "response 2", "response 3")) -> Axes:
    """Turn ``ax`` into a ternary diagram: the triangle, one label per vertex, equal aspect, no axes."""
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, _SQRT3_2], [0.0, 0.0]])
    ax.plot(corners[:, 0], corners[:, 1], color="0.3", lw=1.0)
    offsets = [(-0.04, -0.05, "right"), (1.04, -0.05, "left"), (0.5, _SQRT3_2 + 0.04, "center")]
    for (x, y, ha), label in zip(offsets, labels):
        ax.text(x, y, label, ha=ha, va="center", fontsize="small")
    ax.set_xlim(-0.25, 1.25)
    ax.set_ylim(-0.12, _SQRT3_2 + 0.1)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def simplex_trajectory(ax: Axes, pi: ArrayLike, color, *, label: str | None = None, dots: float = 3.0,
                       line_rounds: int | None = None) -> None:
    """Draw a trajectory of policies on ternary axes (see :func:`simplex_axes`).

    ``pi`` has shape ``(T, 3)``, rounds in order. Each round is a small dot, the start an open
    circle and the last round a larger filled dot. Faint lines join successive rounds up to round
    ``line_rounds`` (all rounds if ``None``, none if 0): a map may jump far in one round, so lines
    over a long cycle can fill an area that the orbit itself never visits.
    """
    xy = simplex_xy(pi)
    if xy.ndim != 2:
        raise ValueError(f"pi must be one trajectory of shape (T, 3), got shape {np.shape(pi)}")
    joined = xy if line_rounds is None else xy[: validation.count(line_rounds, "line_rounds", minimum=0) + 1]
    ax.plot(joined[:, 0], joined[:, 1], color=color, lw=0.6, alpha=0.45)
    ax.scatter(xy[:, 0], xy[:, 1], s=dots, color=color, lw=0, label=label)
    ax.plot(*xy[0], "o", mfc="white", mec=color, ms=6, zorder=3)
    ax.plot(*xy[-1], "o", color=color, mec="white", ms=6, zorder=3)


def phase_diagram(ax: Axes, x: ArrayLike, y: ArrayLike, values: ArrayLike, *, label: str, norm=None,
                  cmap="mako_r", extend: str = "neither", log_y: bool = False, colorbar: bool = True):
    """Colour a grid of values over the plane: ``values[i, j]`` at ``(x[j], y[i])``.

    ``x`` and ``y`` are increasing grids (``y`` geometric and drawn on a log axis with ``log_y``);
    each cell spans the midpoints to its neighbours. With ``colorbar``, a colour bar labelled
    ``label`` (say what the colour means and its unit); ``colorbar=False`` for panels sharing one.
    ``cmap`` is a name or a colormap (e.g. with an ``under`` colour, shown on the bar with
    ``extend="min"``). Returns the colour mesh.
    """
    xs = validation.finite_array(x, "x", ndim_min=1)
    ys = validation.positive(y, "y") if log_y else validation.finite_array(y, "y", ndim_min=1)
    v = np.asarray(values, dtype=float)
    if v.shape != (ys.size, xs.size):
        raise ValueError(f"values must have shape (len(y), len(x)) = {(ys.size, xs.size)}, got {v.shape}")
    if xs.size < 2 or ys.size < 2 or np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) <= 0):
        raise ValueError("x and y must be increasing grids with at least 2 points each")
    mesh = ax.pcolormesh(_edges(xs, False), _edges(ys, log_y), v, shading="flat", cmap=cmap, norm=norm, rasterized=True)
    if log_y:
        ax.set_yscale("log")
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, pad=0.02, extend=extend).set_label(label)
    return mesh


def _edges(v: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges around increasing grid points: midpoints (geometric on a log axis), ends mirrored."""
    w = np.log(v) if log else v
    mid = 0.5 * (w[1:] + w[:-1])
    e = np.concatenate([[2 * w[0] - mid[0]], mid, [2 * w[-1] - mid[-1]]])
    return np.exp(e) if log else e
