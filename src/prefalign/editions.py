"""The student edition's sources: every chapter and page without the solutions to its exercises.

A solution is a sphinx-exercise ``{solution}`` directive, fenced with backticks or colons
(````` ````{solution} ex-label ````` … ````` ```` `````); it is removed with its whole fence,
nested fences included. The student edition is rendered from these sources, so its HTML, its
downloadable notebooks (``_sources/``), its search index and the notebooks its launch buttons
open (the ``student`` branch) contain no solution text.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

_OPEN = re.compile(r"^(`{3,}|:{3,})\{solution(?:-start)?\}")


def strip_solutions(text: str) -> str:
    """``text`` (MyST markdown) without its ``{solution}`` blocks.

    Raises ``ValueError`` if a solution's fence is never closed (the rest of the page would vanish).
    """
    out: list[str] = []
    fence: str | None = None
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        if fence is None:
            match = _OPEN.match(line)
            if match:
                fence, opened = match.group(1), number
                continue
            out.append(line)
        elif line.strip() == fence:
            fence = None
    if fence is not None:
        raise ValueError(f"text has a {{solution}} fence opened at line {opened} that is never closed")
    return re.sub(r"\n{3,}", "\n\n", "".join(out))


def student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose markdown cells have no solutions (cells left empty are dropped)."""
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution" in cell.source:
            cell.source = strip_solutions(cell.source).strip("\n")
            if not cell.source.strip():
                continue
        cells.append(cell)
    nb.cells = cells
    return nb


def student_file(src: Path) -> bytes:
    """The student edition of one source file: notebooks and markdown stripped, anything else as is."""
    if src.suffix == ".ipynb":
        return nbformat.writes(student_notebook(nbformat.read(src, as_version=4))).encode() + b"\n"
    if src.suffix == ".md":
        return strip_solutions(src.read_text(encoding="utf-8")).encode()
    return src.read_bytes()


def write_student_tree(src: Path, dst: Path, replace: dict[str, bytes] | None = None) -> None:
    """Mirror the folder ``src`` into ``dst`` as the student edition (rewrite only what changed,
    delete what ``src`` no longer has); ``replace[relative path]`` gives a file's content instead."""
    replace = replace or {}
    wanted = {p.relative_to(src) for p in src.rglob("*") if p.is_file()}
    for rel in sorted(wanted):
        data = replace[str(rel)] if str(rel) in replace else student_file(src / rel)
        target = dst / rel
        if not target.exists() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    if dst.exists():
        for path in dst.rglob("*"):
            if path.is_file() and path.relative_to(dst) not in wanted:
                path.unlink()
