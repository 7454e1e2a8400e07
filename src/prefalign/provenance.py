"""Provenance of the executed book: the environment a chapter ran in, its parameters, and the
manifest tying every figure to its chapter, cell, parameters, seed, package version and commit.

The build writes these as JSON (``_build/figure-manifest.json``, ``_build/execution.json``) and as
MyST fragments included by the status and reproducibility pages.
"""

from __future__ import annotations

import ast
import html
import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import nbformat

PACKAGES = ("prefalign", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "papermill", "jupyter-book", "myst-nb")
"""The distributions whose versions the status page reports."""


def environment() -> dict[str, str]:
    """Python version, platform and the versions of :data:`PACKAGES` in this interpreter."""
    env = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    for name in PACKAGES:
        try:
            env[name] = version(name)
        except PackageNotFoundError:
            env[name] = "not installed"
    return env


def commit(root: Path) -> str:
    """``git`` commit of ``root`` (12 hex digits), with ``+uncommitted`` if tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=root).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + ("+uncommitted" if dirty else "")


def _assignments(source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return values


def notebook_parameters(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The parameters a chapter ran with: its ``parameters`` cell, updated by papermill's injected cell.

    Parameter values must be literals (numbers, strings, booleans, tuples, lists, dicts).
    """
    params: dict[str, Any] = {}
    for tag in ("parameters", "injected-parameters"):
        for cell in nb.cells:
            if cell.cell_type == "code" and tag in cell.metadata.get("tags", []):
                params.update(_assignments(cell.source))
    return params


def chapter_title(nb: nbformat.NotebookNode) -> str:
    """The first level-1 heading of the notebook's markdown."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "(untitled)"


def _figure_labels(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Map glue key → ``:name:`` label of the ``{glue:figure}`` directive that shows it."""
    labels: dict[str, str] = {}
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            if line.strip().startswith("```{glue:figure}"):
                key = line.strip().split("}", 1)[1].strip()
                for option in lines[i + 1:]:
                    if not option.startswith(":"):
                        break
                    if option.startswith(":name:"):
                        labels[key] = option.split(":name:", 1)[1].strip().strip('"')
    return labels


def figures(nb_path: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """One manifest entry per glued figure of an executed chapter.

    ``record`` is the chapter's execution record (``commit``, ``environment``) from the build.
    """
    nb = nbformat.read(nb_path, as_version=4)
    params = notebook_parameters(nb)
    labels = _figure_labels(nb)
    entries = []
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name and any(k.endswith("image/png") for k in out.get("data", {})):
                entries.append({
                    "chapter": nb_path.stem, "figure": name, "label": labels.get(name),
                    "cell": index, "execution_count": cell.get("execution_count"),
                    "parameters": params, "seed": params.get("seed"),
                    "prefalign": record.get("environment", {}).get("prefalign"),
                    "commit": record.get("commit"),
                })
    return entries


def _table(header: list[str], rows: list[list[str]], row_ids: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        rid = f' id="{row_ids[i]}"' if row_ids else ""
        body.append(f"<tr{rid}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f'<table class="table prefalign-provenance">\n<thead><tr>{head}</tr></thead>\n<tbody>\n' + "\n".join(body) + "\n</tbody>\n</table>\n"


def status_fragment(chapters: list[tuple[str, str]], timings: dict[str, dict[str, Any]]) -> str:
    """MyST (raw HTML) for the status page: per chapter its run time, commit and parameters; the environment."""
    rows = []
    for stem, title in chapters:
        rec = timings.get(stem, {})
        rows.append([f'<a href="{stem}.html">{html.escape(title)}</a>', f"{rec.get('seconds', float('nan')):.1f}",
                     f"<code>{html.escape(str(rec.get('commit', '?')))}</code>",
                     f"<code>{html.escape(json.dumps(rec.get('params', {}), sort_keys=True))}</code>"])
    total = sum(timings.get(stem, {}).get("seconds", 0.0) for stem, _ in chapters)
    out = _table(["chapter", "execution time (s)", "executed at commit", "parameters passed"], rows)
    out += f"\n<p>Total execution time of the chapters: {total:.1f} s (they run in parallel, one per core).</p>\n"
    envs = [rec.get("environment", {}) for rec in timings.values() if rec.get("environment")]
    if envs:
        env = envs[0]
        same = all(e == env for e in envs)
        out += "\n" + _table(["component", "version"], [[html.escape(k), f"<code>{html.escape(v)}</code>"] for k, v in env.items()])
        if not same:
            out += "\n<p><strong>Note:</strong> not every chapter ran in this environment; see <code>_build/execution.json</code>.</p>\n"
    return out


def manifest_fragment(entries: list[dict[str, Any]]) -> str:
    """MyST (raw HTML) for the reproducibility page: one row per figure, anchored ``prov-<label>``."""
    rows, ids = [], []
    for e in entries:
        label = e["label"] or e["figure"]
        ids.append(f"prov-{label}")
        params = ", ".join(f"{k}={v!r}" for k, v in sorted(e["parameters"].items()))
        rows.append([f'<a href="{e["chapter"]}.html#{label}">{html.escape(label)}</a>', html.escape(e["chapter"]),
                     str(e["cell"]), html.escape(str(e["seed"])), f"<code>{html.escape(params)}</code>",
                     html.escape(str(e["prefalign"])), f"<code>{html.escape(str(e['commit']))}</code>"])
    return _table(["figure", "chapter", "cell", "seed", "parameters", "prefalign", "commit"], rows, ids)
