"""Code cells that fit the book's column: the step of ``make format`` that ruff does not do.

``ruff format`` wraps code at 88 characters but leaves comments alone, and the comments of the
parameters cells are the only documentation of the knobs. This moves a trailing comment that makes
its line too long onto its own lines above the code (same indentation, wrapped at the limit).
Run after ``ruff format``: ``python -m prefalign.formatting book/*.ipynb``.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat

LIMIT = 88


def _split_comment(line: str) -> tuple[str, str] | None:
    """``(code, comment text)`` if ``line`` ends with a ``#`` comment outside strings, else None."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote and line[i - 1] != "\\":
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            code = line[:i].rstrip()
            return (code, line[i + 1:].strip()) if code else None
    return None


def wrap_comments(source: str, limit: int = LIMIT) -> str:
    """``source`` with every too-long line's trailing comment moved above it (see the module docstring)."""
    out = []
    for line in source.split("\n"):
        parts = _split_comment(line) if len(line) > limit else None
        if parts is None:
            out.append(line)
            continue
        code, comment = parts
        indent = code[: len(code) - len(code.lstrip())]
        out += textwrap.wrap(comment, limit, initial_indent=indent + "# ", subsequent_indent=indent + "# ")
        out.append(code)
    return "\n".join(out)


def format_notebook(path: Path, limit: int = LIMIT) -> bool:
    """Rewrite the code cells of the notebook at ``path``; return whether it changed."""
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            new = wrap_comments(cell.source, limit)
            changed |= new != cell.source
            cell.source = new
    if changed:
        nbformat.write(nb, path)
    return changed


if __name__ == "__main__":
    for name in sys.argv[1:]:
        if format_notebook(Path(name)):
            print(f"wrapped comments in {name}")
