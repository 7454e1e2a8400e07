"""Figures a reader can play with, offline: the package computes the data when the chapter runs,
and the book's own script (``book/_assets/prefalign-interactive.js``, served from the site, no
network) draws them in the browser.

Each figure is an HTML block ``<div class="prefalign-interactive" data-kind=...>`` holding its
data as JSON (coordinates on the ternary diagram rounded to 4 decimals, so the same runs give the
same bytes) and a text fallback for viewers without the script (JupyterLab, Colab, PDF).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.colors import Colormap, Normalize, to_hex
from numpy.typing import ArrayLike

from prefalign import plotting, validation

_DECIMALS = 4


def _xy(pi: ArrayLike, name: str) -> list[list[float]]:
    """Ternary coordinates of a trajectory ``(T, 3)``, rounded, as nested lists."""
    p = validation.finite_array(pi, name)
    if p.ndim != 2 or p.shape[1] != 3 or p.shape[0] == 0:
        raise ValueError(f"{name} must be one trajectory of shape (T, 3), T >= 1, got shape {p.shape}")
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, rtol=0.0, atol=1e-9):
        raise ValueError(f"{name} must hold probability vectors (non-negative rows summing to 1)")
    return np.round(plotting.simplex_xy(p), _DECIMALS).tolist()


class InteractiveFigure:
    """An interactive figure: ``kind``, its JSON data and a fallback text (see the module docstring)."""

    def __init__(self, kind: str, data: dict, fallback: str):
        self.kind, self.data, self.fallback = kind, data, fallback

    def _repr_html_(self) -> str:
        payload = json.dumps(self.data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
        return (f'<div class="prefalign-interactive" data-kind="{self.kind}">'
                f'<script type="application/json">{payload}</script>'
                f'<p class="prefalign-interactive-fallback">{html.escape(self.fallback)}</p></div>')


def simplex_player(runs: Mapping[str, ArrayLike], *, vertex_labels: Sequence[str] = ("1", "2", "3"),
                   colors: Sequence | None = None) -> InteractiveFigure:
    """Animated trajectories on the ternary diagram, one small triangle per run, played round by
    round with a slider and a play button.

    ``runs`` maps a title (e.g. ``"spiral in: α = 0.2, βλ = 2"``) to a trajectory of shape
    ``(T, 3)``, rounds in order; all runs have the same ``T``.
    """
    if not isinstance(runs, Mapping) or not runs or not all(isinstance(t, str) for t in runs):
        raise ValueError(f"runs must be a mapping from titles (str) to trajectories, with at least one, got {runs!r:.60}")
    xy = {title: _xy(pi, f"runs[{title!r}]") for title, pi in runs.items()}
    lengths = {len(v) for v in xy.values()}
    if len(lengths) != 1:
        raise ValueError(f"every run must have the same number of rounds, got lengths {sorted(lengths)}")
    if isinstance(vertex_labels, str) or not isinstance(vertex_labels, Sequence) or len(vertex_labels) != 3 \
            or not all(isinstance(v, str) for v in vertex_labels):
        raise ValueError(f"vertex_labels must name the 3 vertices, got {list(vertex_labels)}")
    palette = colors if colors is not None else plotting.response_colors(len(xy))
    if isinstance(palette, str) or not isinstance(palette, Sequence) or len(palette) < len(xy):
        raise ValueError(f"colors must be a sequence giving one colour per run ({len(xy)}), got {palette!r}")
    data = {"vertices": list(vertex_labels), "rounds": lengths.pop() - 1,
            "runs": [{"title": t, "color": to_hex(c), "xy": v} for (t, v), c in zip(xy.items(), palette)]}
    return InteractiveFigure("simplex-player", data, "Animated trajectories (open the book's web page to play them): "
                             + "; ".join(xy))


def phase_explorer(x: ArrayLike, y: ArrayLike, values: ArrayLike, trajectories: ArrayLike, *, cmap: Colormap,
                   norm: Normalize, x_label: str, y_label: str, value_label: str,
                   vertex_labels: Sequence[str] = ("1", "2", "3"), log_y: bool = False,
                   tail: int = 50) -> InteractiveFigure:
    """A phase diagram where a click on a cell shows the trajectory at that point.

    ``values[i, j]`` is the colour value at ``(x[j], y[i])`` (as in
    :func:`prefalign.plotting.phase_diagram`), coloured with ``cmap`` and ``norm`` here (so the
    browser needs no colour map); ``trajectories[i, j]`` is the run at that point, shape
    ``(len(y), len(x), T, 3)``; the figure keeps its start and its last ``tail`` rounds (where
    the run ends up: a point, a cycle), which keeps the page light. ``x`` and ``y`` are increasing
    grids (``y`` drawn on a log axis with ``log_y``).
    """
    xs = validation.finite_array(x, "x", ndim_min=1)
    ys = validation.positive(y, "y") if log_y else validation.finite_array(y, "y", ndim_min=1)
    v = np.asarray(values, dtype=float)
    tr = np.asarray(trajectories, dtype=float)
    if v.shape != (ys.size, xs.size):
        raise ValueError(f"values must have shape (len(y), len(x)) = {(ys.size, xs.size)}, got {v.shape}")
    if tr.ndim != 4 or tr.shape[:2] != v.shape or tr.shape[3] != 3:
        raise ValueError(f"trajectories must have shape (len(y), len(x), T, 3) = {v.shape + ('T', 3)}, got {tr.shape}")
    if np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) <= 0):
        raise ValueError("x and y must be increasing grids")
    tail = validation.count(tail, "tail")
    if tr.shape[2] < tail + 1:
        raise ValueError(f"trajectories must have more than tail = {tail} rounds, got {tr.shape[2]}")
    tr = np.concatenate([tr[:, :, :1], tr[:, :, -tail:]], axis=2)
    colours = [[to_hex(cmap(norm(val))) for val in row] for row in v]
    data = {"x": np.round(xs, 6).tolist(), "y": np.round(ys, 6).tolist(), "log_y": bool(log_y),
            "values": [[float(f"{val:.4g}") for val in row] for row in v], "colors": colours,
            "x_label": x_label, "y_label": y_label, "value_label": value_label, "vertices": list(vertex_labels), "tail": tail,
            "trajectories": [[_xy(tr[i, j], "trajectories[i, j]") for j in range(xs.size)] for i in range(ys.size)]}
    return InteractiveFigure("phase-explorer", data, "Interactive phase diagram (open the book's web page to click"
                             " a point and see its trajectory).")
