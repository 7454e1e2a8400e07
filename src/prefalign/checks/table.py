"""How a chapter shows its checks: one row per check that reads on a laptop and a phone.

Columns: the result checked, as the reader sees it (``{prf:ref}`` to the labelled theorem, so
"Theorem 2.1", linked); what is compared (``$…$`` in the text is rendered as math); measured
against expected with the relation spelled out; the independent side (a key of
:data:`prefalign.checks.AGAINST`); the verdict. Below the table a folded section lists every
number at full precision. The book renders the MyST form (:meth:`ChecksTable._repr_markdown_`);
Jupyter shows the plain HTML form (:meth:`ChecksTable._repr_html_`).
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable

from prefalign.checks import AGAINST, CheckResult

_MATH = re.compile(r"(\$[^$]+\$)")
_PUNCT = set(string.punctuation) - {"$"}


def escape_markdown(text: str) -> str:
    """``text`` as literal Markdown: ASCII punctuation outside ``$…$`` backslash-escaped, math kept."""
    parts = _MATH.split(str(text))
    return "".join(p if i % 2 else "".join("\\" + c if c in _PUNCT else c for c in p) for i, p in enumerate(parts))


def comparison(r: CheckResult) -> str:
    """Measured against expected as a reader says it: ``0.0312 ≈ 0.0312 (± 1e-09)``, ``0.93 ≤ 1``.

    Three significant digits; the symbol is the one that holds (``>`` when an upper bound fails).
    A zero tolerance is not written.
    """
    m, e, t = float(r.measured), float(r.expected), float(r.tolerance)
    if r.relation == "approx":
        return f"{m:.3g} ≈ {e:.3g} (± {t:.3g})" if r.passed else f"{m:.3g} ≠ {e:.3g} (± {t:.3g})"
    if r.relation == "at_most":
        symbol = "≤" if r.passed else ">"
        return f"{m:.3g} {symbol} {e:.3g}" + (f" + {t:.3g}" if t else "")
    symbol = "≥" if r.passed else "<"
    return f"{m:.3g} {symbol} {e:.3g}" + (f" − {t:.3g}" if t else "")


PROOF_PREFIXES = ("thm", "lem", "prop", "cor", "conj", "def")
"""Label prefixes of the book's sphinx-proof directives: such a ``theorem`` is shown as a link."""


def _label(theorem: str) -> bool:
    return bool(re.fullmatch(r"[a-z]+-[a-z0-9-]+", theorem)) and theorem.split("-", 1)[0] in PROOF_PREFIXES


class ChecksTable:
    """The checks of a report, displayed (see the module docstring)."""

    def __init__(self, results: Iterable[tuple[str, CheckResult]]):
        self.results = list(results)

    def _repr_markdown_(self) -> tuple[str, dict]:
        """MyST for the book, and the rows (check, chapter, theorem, against, passed) as metadata for
        the claims map (:mod:`prefalign.claims`)."""
        rows = []
        for _, r in self.results:
            result = f"{{prf:ref}}`{r.theorem}`" if _label(r.theorem) else escape_markdown(r.theorem)
            cells = [result, escape_markdown(r.compared), escape_markdown(comparison(r)),
                     escape_markdown(r.against or "not stated"), "**✓ pass**" if r.passed else "**✗ FAIL**"]
            rows.append("* - " + "\n  - ".join(cells))
        precise = []
        for name, r in self.results:
            precise.append("* - " + "\n  - ".join([
                f"`{name.split('.', 1)[-1]}`", f"`{float(r.measured)!r}`", f"`{float(r.expected)!r}`",
                f"`{float(r.tolerance)!r}`", escape_markdown(r.relation),
                escape_markdown(AGAINST.get(r.against, "not stated") if r.against else "not stated")]))
        text = "\n".join([
            "```{list-table}", ":header-rows: 1", ":class: prefalign-cards prefalign-checks", ":widths: 18 42 18 12 10", "",
            "* - Result\n  - What is compared\n  - Measured vs expected\n  - Against\n  - Verdict",
            *rows, "```", "",
            "````{dropdown} Every number at full precision", "```{list-table}", ":header-rows: 1",
            ":class: prefalign-checks-precise", "",
            "* - Check\n  - Measured\n  - Expected\n  - Tolerance\n  - Relation\n  - Independent side",
            *precise, "```", "````", ""])
        rows_data = [{"check": name, "chapter": r.chapter, "theorem": r.theorem, "against": r.against,
                      "passed": bool(r.passed)} for name, r in self.results]
        return text, {"prefalign-checks": rows_data}

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("Result", "What is compared", "Measured vs expected", "Against", "Verdict"))
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in (
                r.theorem, r.compared, comparison(r), r.against or "not stated", "✓ pass" if r.passed else "✗ FAIL"))
            + "</tr>" for _, r in self.results)
        return f'<table class="prefalign-checks"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
