"""The book's public repository address: one home (``pyproject.toml``, ``[project.urls] Repository``).

The build derives from it the launch (Binder, Colab), repository and issue buttons of each
edition (:func:`book_config`); while it is :data:`PLACEHOLDER` those buttons are left out, so the
published site has no dead link. The chapters' first code cell installs the package from it when
the package is not importable (Colab, a downloaded notebook); a notebook cannot read
``pyproject.toml``, so :func:`set_url` (``python -m prefalign repository URL``) rewrites that line
in every chapter, and a test checks they agree.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path
from typing import Any

import nbformat

PLACEHOLDER = "https://github.com/prefalign/prefalign"
"""The address until the book has a public repository."""

STUDENT_BRANCH = "student"
"""Branch holding the solution-free chapters, which the student edition's launch buttons open."""

INSTALL_TAG = "install-if-missing"
"""Cell tag of each chapter's first code cell (installs ``prefalign`` from the repository if missing)."""

_URL = re.compile(r"https://github\.com/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def url(root: Path) -> str:
    """The repository address in ``root/pyproject.toml`` (:data:`PLACEHOLDER` for a tree without one)."""
    path = root / "pyproject.toml"
    if not path.exists():
        return PLACEHOLDER
    with open(path, "rb") as f:
        project = tomllib.load(f).get("project", {})
    if "Repository" not in project.get("urls", {}):
        raise ValueError(f"{path} must set the book's address in [project.urls] Repository")
    return project["urls"]["Repository"]


def validate_url(value: str) -> str:
    """``value`` if it is ``https://github.com/OWNER/NAME`` (what Binder and Colab can launch from)."""
    if not _URL.fullmatch(value):
        raise ValueError(f"url must look like https://github.com/OWNER/NAME, got {value!r}")
    return value


def install_source(repo: str) -> str:
    """The first code cell of every chapter: install the package from ``repo`` when it is missing."""
    return ("# Opened outside the repository (Colab, a download)? Install the package first.\n"
            "try:\n"
            "    import prefalign\n"
            "except ModuleNotFoundError:\n"
            f'    %pip install --quiet "prefalign @ git+{repo}"')


def book_config(config: dict[str, Any], repo: str, edition: str) -> dict[str, Any]:
    """``_config.yml`` of an edition with its buttons: pointing at ``repo`` (the student edition at
    :data:`STUDENT_BRANCH`), or without launch, repository and issue buttons if ``repo`` is the
    placeholder."""
    config = copy.deepcopy(config)
    html = config.setdefault("html", {})
    if repo == PLACEHOLDER:
        config.pop("launch_buttons", None)
        config.pop("repository", None)
        html["use_repository_button"] = html["use_issues_button"] = False
        return config
    repository = config.setdefault("repository", {})
    repository["url"] = repo
    repository.setdefault("path_to_book", "")
    repository["branch"] = STUDENT_BRANCH if edition == "student" else repository.get("branch", "main")
    return config


COPIES = ("pyproject.toml", "CITATION.cff", "README.md")
"""Files that state the address in full besides the chapters' install cells."""


def set_url(root: Path, repo: str) -> list[Path]:
    """Replace the current address by ``repo`` in :data:`COPIES` and every chapter's install cell;
    return the files changed."""
    from prefalign.build import Layout

    validate_url(repo)
    old = url(root)
    changed = []
    for name in COPIES:
        path = root / name
        text = path.read_text(encoding="utf-8")
        if old in text and old != repo:
            path.write_text(text.replace(old, repo), encoding="utf-8")
            changed.append(path)
    for path in Layout(root).chapters():
        nb = nbformat.read(path, as_version=4)
        cell = install_cell(nb)
        if cell is None:
            raise ValueError(f"chapter {path.name} has no code cell tagged {INSTALL_TAG!r}")
        if cell.source != install_source(repo):
            cell.source = install_source(repo)
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def install_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode | None:
    """The chapter's install cell (tagged :data:`INSTALL_TAG`), or ``None``."""
    return next((c for c in nb.cells if c.cell_type == "code" and INSTALL_TAG in c.metadata.get("tags", [])), None)
