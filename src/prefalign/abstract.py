"""The graphical abstract of the landing page: how the book's results connect.

Computed from the chapters and the claims map: one box per chapter (its number and title, and
how many claims of :data:`prefalign.claims.CLAIMS` its results support, by status); an arrow
from chapter A to a later chapter B whose text cites results of A (``{prf:ref}``) at least
:data:`MIN_CITATIONS` times, as thick as the number of citations. The build writes it as a 2× PNG next to the landing page.

Its phone edition (:func:`phone_edition`, :data:`~prefalign.phone_figure.PHONE_WIDTH_PX` wide) puts
the boxes in one column, part by part, and says in each box which earlier chapters it builds on
(the same arrows, as text), so that nothing is drawn smaller than on the wide page.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections import Counter
from pathlib import Path

import matplotlib.pyplot as plt
import nbformat
import yaml
from matplotlib.figure import Figure

from prefalign import claims, plotting, provenance
from prefalign.phone_figure import PHONE_WIDTH_PX

_LABEL = re.compile(r"^:label: ([\w-]+)", re.MULTILINE)
_REF = re.compile(r"\{prf:ref\}`([\w-]+)`")
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


def parts(toc: Path, chapters: list[Path]) -> list[tuple[str, list[Path]]]:
    """The parts of ``_toc.yml`` that hold chapters: ``(caption, chapters of the part)``, in order."""
    by_name = {f"book/{p.stem}": p for p in chapters}
    found = []
    for part in yaml.safe_load(toc.read_text()).get("parts", []):
        members = [by_name[c["file"]] for c in part.get("chapters", []) if c.get("file") in by_name]
        if members:
            found.append((str(part.get("caption", "")), members))
    return found


def _contents(rows: list[tuple[str, list[Path]]]) -> tuple[list[Path], Counter, list[str], list[str]]:
    """The chapters in order, the citation counts between them, and each chapter's box title
    (number and title) and claims line (claims supported, by status)."""
    chapters = [p for _, members in rows for p in members]
    if not chapters:
        raise ValueError("rows must hold at least one chapter")
    owner, cites = connections(chapters)
    counts = tally(owner)
    titles = [f"{k + 1}. {provenance.chapter_title(nbformat.read(p, as_version=4))}" for k, p in enumerate(chapters)]
    status = [", ".join(f"{n} {_SHORT[s]}" for s, n in sorted(counts.get(p.stem, Counter()).items(),
                                                              key=lambda sn: claims.STATUSES.index(sn[0])))
              for p in chapters]
    return chapters, cites, titles, status


def figure(rows: list[tuple[str, list[Path]]]) -> Figure:
    """The graphical abstract: one row of boxes per part (see :func:`parts`)."""
    chapters, cites, titles, statuses = _contents(rows)
    plotting.set_theme()
    widest = max(len(members) for _, members in rows)
    fig, ax = plotting.subplots(aspect=min(1.2, 0.22 * len(rows) + 0.06))
    ax.set(xlim=(0, 1), ylim=(0, 1))
    ax.axis("off")
    colors = plotting.response_colors(len(rows))
    pos, part_of = {}, {}
    for row, (name, members) in enumerate(rows):
        y = 1 - (row + 0.6) / len(rows)
        ax.text(0.0, y + 0.5 / len(rows), name.lower(), ha="left", va="bottom", color=colors[row], fontweight="bold")
        for col, path in enumerate(members):
            pos[path.stem], part_of[path.stem] = ((col + 0.5) / widest, y), row
    wrap = int(78 / widest)
    boxes = {}
    for path, title, status in zip(chapters, titles, statuses):
        label = "\n".join(textwrap.wrap(title, wrap) + textwrap.wrap(status, wrap + 2))
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


PHONE_WRAP = 44
"""Characters per line of a box of the phone edition (body-size text in a 358 px column)."""


def phone_edition(rows: list[tuple[str, list[Path]]]) -> Figure:
    """The phone edition: one column of boxes under each part's name; each box adds the earlier
    chapters it cites at least :data:`MIN_CITATIONS` times ("builds on 1, 3")."""
    chapters, cites, titles, statuses = _contents(rows)
    number = {p.stem: k + 1 for k, p in enumerate(chapters)}
    plotting.set_theme()
    colors = plotting.response_colors(len(rows))
    items: list[tuple[str, object, int]] = []  # (text, colour, kind: 0 part name, 1 box)
    k = 0
    for row, (name, members) in enumerate(rows):
        items.append((name.lower(), colors[row], 0))
        for path in members:
            sources = sorted(number[a] for (a, b), n in cites.items() if b == path.stem and n >= MIN_CITATIONS)
            lines = [line for text in (titles[k], statuses[k]) for line in textwrap.wrap(text, PHONE_WRAP, break_on_hyphens=False)]
            if sources:
                lines.append("builds on " + ", ".join(map(str, sources)))
            items.append(("\n".join(lines), colors[row], 1))
            k += 1
    line_in, gap_in = 0.2, 0.12
    heights = [line_in + 0.08 if kind == 0 else line_in * (text.count("\n") + 1) + gap_in for text, _, kind in items]
    width_in, height_in = PHONE_WIDTH_PX / plotting.CSS_PX_PER_INCH, sum(heights) + 0.1
    fig = plt.figure(figsize=(width_in, height_in), dpi=plotting.CSS_PX_PER_INCH)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set(xlim=(0, width_in), ylim=(height_in, 0))
    ax.axis("off")
    y = 0.05
    for (text, color, kind), h in zip(items, heights):
        if kind == 0:
            ax.text(0.04, y + h / 2, text, ha="left", va="center", color=color, fontweight="bold")
        else:
            ax.text(0.1, y + h / 2, text, ha="left", va="center", linespacing=1.15,
                    bbox=dict(boxstyle="round,pad=0.4", fc="white", ec=color, lw=1.6))
        y += h
    return fig


def png(rows: list[tuple[str, list[Path]]], *, phone: bool = False) -> bytes:
    """The graphical abstract (``phone``: its phone edition) as a 2× PNG (no timestamp: the same
    chapters give the same bytes)."""
    fig = phone_edition(rows) if phone else figure(rows)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=2 * plotting.CSS_PX_PER_INCH, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()
