"""The graphical abstract of the landing page: how the book's results connect.

Computed from the chapters and the claims map: one box per chapter (its number and title, and
how many claims of :data:`prefalign.claims.CLAIMS` its results support, by status); an arrow
from chapter A to a later chapter B whose text cites results of A (``{prf:ref}``) at least
:data:`MIN_CITATIONS` times, as thick as the number of citations. The build writes it as a 2× PNG next to the landing page.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
from matplotlib.figure import Figure

from prefalign import claims, plotting, provenance

_LABEL = re.compile(r"^:label: ([\w-]+)", re.MULTILINE)
_REF = re.compile(r"\{prf:ref\}`([\w-]+)`")
_ROWS = (("one-shot optima", 3), ("iterative dynamics", 3), ("extensions and data", 2))
"""The parts of the book (one row each) and their number of chapters, in table-of-contents order."""
MIN_CITATIONS = 2
"""Arrows are drawn for at least this many citations (single citations would clutter the picture)."""
_SHORT = {"proved": "proved", "proved under hypotheses": "under hypotheses", "observed": "observed",
          "conjecture": "conjecture", "not reproducible offline": "not offline"}


def connections(chapters: list[Path]) -> tuple[dict[str, str], Counter]:
    """``(owner, citations)``: the chapter (file stem) that defines each label, and the number of
    ``{prf:ref}`` citations from each chapter to each earlier chapter, keyed ``(earlier, later)``."""
    text = {p.stem: "\n".join(c.source for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown")
            for p in chapters}
    owner = {label: stem for stem, t in text.items() for label in _LABEL.findall(t)}
    order = {p.stem: i for i, p in enumerate(chapters)}
    cites: Counter = Counter()
    for stem, t in text.items():
        for label in _REF.findall(t):
            source = owner.get(label)
            if source is not None and order[source] < order[stem]:
                cites[(source, stem)] += 1
    return owner, cites


def tally(owner: dict[str, str]) -> dict[str, Counter]:
    """For each chapter, how many claims its results support, by status."""
    counts: dict[str, Counter] = {}
    for claim in claims.CLAIMS:
        for stem in {owner[label] for label in claim.results if label in owner}:
            counts.setdefault(stem, Counter())[claim.status] += 1
    return counts


def figure(chapters: list[Path]) -> Figure:
    """The graphical abstract for ``chapters`` (notebook paths in table-of-contents order, 8 of them)."""
    if len(chapters) != sum(n for _, n in _ROWS):
        raise ValueError(f"chapters must list the {sum(n for _, n in _ROWS)} chapters of the book, got {len(chapters)}")
    owner, cites = connections(chapters)
    counts = tally(owner)
    plotting.set_theme()
    fig, ax = plotting.subplots(aspect=0.66)
    ax.set(xlim=(0, 1), ylim=(0.02, 1.0))
    ax.axis("off")
    colors = plotting.response_colors(3)
    pos, part_of, k = {}, {}, 0
    for row, (name, n) in enumerate(_ROWS):
        y = 0.8 - row * 0.33
        ax.text(0.0, y + 0.16, name, ha="left", va="bottom", color=colors[row], fontweight="bold")
        for col in range(n):
            pos[chapters[k].stem], part_of[chapters[k].stem] = (0.17 + col * 0.33, y), row
            k += 1
    boxes = {}
    for k, path in enumerate(chapters):
        title = provenance.chapter_title(nbformat.read(path, as_version=4))
        status = ", ".join(f"{n} {_SHORT[s]}" for s, n in sorted(counts.get(path.stem, Counter()).items(),
                                                                key=lambda sn: claims.STATUSES.index(sn[0])))
        label = "\n".join(textwrap.wrap(f"{k + 1}. {title}", 26) + textwrap.wrap(status, 28))
        boxes[path.stem] = ax.text(*pos[path.stem], label, ha="center", va="center", zorder=2, fontsize="small", linespacing=1.15,
                bbox=dict(boxstyle="round,pad=0.4", fc="white", ec=colors[part_of[path.stem]], lw=1.6))
    kept = {edge: n for edge, n in cites.items() if n >= MIN_CITATIONS}
    heaviest = max(kept.values(), default=1)
    for (a, b), n in sorted(kept.items()):
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=1, arrowprops=dict(
            arrowstyle="-|>", color="0.5", lw=0.6 + 2.0 * n / heaviest, shrinkA=2, shrinkB=2,
            patchA=boxes[a].get_bbox_patch(), patchB=boxes[b].get_bbox_patch(),
            connectionstyle="arc3,rad=0.18", alpha=0.75))
    fig.tight_layout(pad=0.2)
    return fig


def png(chapters: list[Path]) -> bytes:
    """The graphical abstract as a 2× PNG (no timestamp: the same chapters give the same bytes)."""
    fig = figure(chapters)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=2 * plotting.CSS_PX_PER_INCH, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
