"""The index of results: every definition, lemma, proposition, theorem, corollary and conjecture
of the chapters, chapter by chapter in book order.

Each result is listed under the name the reader sees (``{prf:ref}`` renders "Theorem 2.1"), with
its title, its numerical checks and their verdict in this build (read from the executed chapters'
checks tables and written as on the claims map: a result's checks may run in several chapters), and how many claims of the claims map it supports.
:func:`fragment` renders it as MyST; the build writes it into the index page, which the navigation
lists, so the index is generated from the chapters and cannot drift from them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from prefalign import claims, provenance

KINDS = ("definition", "lemma", "proposition", "theorem", "corollary", "conjecture")
"""The sphinx-proof directives the index lists (proofs, exercises and solutions are not results)."""
_DIRECTIVE = re.compile(r"^(?::{3,}|`{3,})\{prf:(?P<kind>\w+)\}[ \t]*(?P<title>.*)\n(?P<options>(?::[\w-]+:.*\n)*)",
                        re.MULTILINE)
_LABEL = re.compile(r"^:label:[ \t]*(\S+)", re.MULTILINE)


@dataclass(frozen=True)
class Result:
    """One result of a chapter: its directive (``kind``), ``label`` and ``title``."""

    kind: str
    label: str
    title: str


def results(nb: nbformat.NotebookNode) -> list[Result]:
    """The results of one chapter, in the order they appear. A result without a label cannot be
    linked and is an error (``ValueError`` naming its title)."""
    found = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for m in _DIRECTIVE.finditer(cell.source + "\n"):
            if m.group("kind") not in KINDS:
                continue
            label = _LABEL.search(m.group("options"))
            if label is None:
                raise ValueError(f"the {m.group('kind')} {m.group('title')!r} has no :label:, so the index cannot link it")
            found.append(Result(m.group("kind"), label.group(1), m.group("title").strip()))
    return found


def fragment(executed: Iterable[Path]) -> str:
    """The index as MyST: per chapter a heading and a table (result, title, checks, claims)."""
    executed = list(executed)
    checks = claims.chapter_results(executed)
    supports = Counter(label for c in claims.CLAIMS for label in set(c.results))
    lines = []
    for path in executed:
        nb = nbformat.read(str(path), as_version=4)
        found = results(nb)
        if not found:
            continue
        lines += [f"## {provenance.chapter_title(nb)}", "", "```{list-table}", ":header-rows: 1",
                  ":class: prefalign-cards prefalign-results", ":widths: 22 44 20 14", "", "* - Result\n  - Title\n  - Checks (this build)\n  - Claims"]
        for r in found:
            n = supports.get(r.label, 0)
            lines.append("* - " + "\n  - ".join([f"{{prf:ref}}`{r.label}`", r.title or "—", claims.checks_verdict(checks.get(r.label, [])),
                                                  f"{{ref}}`{n} <claims-map>`" if n else "—"]))
        lines += ["```", ""]
    return "\n".join(lines)
