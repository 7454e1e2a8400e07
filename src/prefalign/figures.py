"""Regenerate chapter figures with other parameters: papermill runs the chapter, the glued figures
are written out as PNG files (used by ``python -m prefalign figures``)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import nbformat

from prefalign import build, provenance


def _chapters(layout: build.Layout, names: list[str] | None) -> list[Path]:
    available = {nb.stem: nb for nb in layout.chapters()}
    if names is None:
        return list(available.values())
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"chapter must be one of {sorted(available)}, got {unknown}")
    return [available[n] for n in names]


def regenerate(root: Path, out: Path, *, chapters: list[str] | None = None, params: dict[str, Any] | None = None,
               progress: bool = True) -> dict[str, list[Path]]:
    """Execute ``chapters`` (all by default) with ``params`` into ``out/<chapter>/`` and write every
    glued figure as ``out/<chapter>/<figure>.png``; return the files written per chapter.

    Every parameter must appear in the ``parameters`` cell of every selected chapter (a misspelt
    name is an error, not silently ignored). A failing chapter raises ``RuntimeError`` naming it.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from tqdm.auto import tqdm

    params = params or {}
    layout = build.Layout(root.resolve())
    selected = _chapters(layout, chapters)
    for nb_path in selected:
        known = provenance.notebook_parameters(nbformat.read(nb_path, as_version=4))
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(f"{unknown} are not parameters of chapter {nb_path.stem!r}; its parameters are {sorted(known)}")
    written: dict[str, list[Path]] = {}
    for nb_path in tqdm(selected, desc="chapters", unit="chapter", disable=not progress):
        folder = out / nb_path.stem
        folder.mkdir(parents=True, exist_ok=True)
        executed = folder / nb_path.name
        try:
            nb = papermill.execute_notebook(str(nb_path), str(executed), parameters=params, kernel_name="python3",
                                            cwd=str(nb_path.parent), progress_bar=False, log_output=False)
        except PapermillExecutionError as exc:
            raise RuntimeError(f"chapter {nb_path.stem!r} failed at cell {exc.cell_index}: {exc.ename}: {exc.evalue}") from None
        files = []
        for cell in nb.cells:
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                png = next((v for k, v in output.get("data", {}).items() if k.endswith("image/png")), None)
                if name and png:
                    target = folder / f"{name}.png"
                    target.write_bytes(base64.b64decode(png))
                    files.append(target)
        written[nb_path.stem] = files
    return written
