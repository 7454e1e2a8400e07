"""Every link of the built site: internal links resolve (file and anchor), external links go only
to an allow-list, and no button points at the placeholder repository."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT
from prefalign import repository

ALLOWED_HOSTS = {
    "arxiv.org",                       # the paper
    "doi.org",                         # references
    "creativecommons.org",             # licences of the book's content and of the data
    "benchmarks.llmonitor.com",        # LLMFAO's source page
    "huggingface.co",                  # LLMFAO's data set page
    "lmarena.ai", "chat.lmsys.org",    # Chatbot Arena
}
"""Hosts the book may link to besides the configured repository."""
ALLOWED_PREFIXES = (
    "https://github.com/dustalov/llmfao",      # LLMFAO's repository (data source)
    "https://github.com/yuhe-zzy/LLM_Sampling",  # the paper's code (cited in the bibliography)
)


@pytest.fixture(scope="module")
def student_book():
    from conftest import build_test_book

    return build_test_book("student")


def _links(site: Path):
    # the theme's Jinja templates copied under _static/ are not pages
    for page in sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for tag, attr in (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")):
            for node in soup.find_all(tag):
                if node.get(attr):
                    yield page, node[attr]


def _anchors(page: Path, cache: dict[Path, set[str]]) -> set[str]:
    if page not in cache:
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        cache[page] = {n["id"] for n in soup.find_all(id=True)} | {n["name"] for n in soup.find_all("a", attrs={"name": True})}
    return cache[page]


def _check_site(site: Path) -> None:
    repo = repository.url(ROOT)
    dead, foreign, anchors = [], [], {}
    for page, link in _links(site):
        parts = urlsplit(link)
        if parts.scheme in ("http", "https"):
            if repository.PLACEHOLDER in link and repo == repository.PLACEHOLDER:
                foreign.append((page.name, link))
            elif not (parts.hostname in ALLOWED_HOSTS or link.startswith(ALLOWED_PREFIXES)
                      or (repo != repository.PLACEHOLDER and link.startswith(repo))):
                foreign.append((page.name, link))
            continue
        if parts.scheme in ("mailto", "javascript", "data"):
            continue
        if parts.scheme:
            foreign.append((page.name, link))
            continue
        target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            dead.append((page.relative_to(site).as_posix(), link))
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _anchors(target, anchors):
            dead.append((page.relative_to(site).as_posix(), link))
    assert not dead, f"dead internal links: {dead[:20]}"
    assert not foreign, f"links outside the allow-list (or to the placeholder repository): {sorted(set(foreign))[:20]}"


def test_book_links(built_book):
    _check_site(built_book)


def test_student_links(student_book):
    _check_site(student_book)


def test_no_button_while_the_address_is_a_placeholder(built_book):
    if repository.url(ROOT) != repository.PLACEHOLDER:
        pytest.skip("the repository address is set")
    html = (built_book / "book" / "setting.html").read_text(encoding="utf-8")
    for marker in ("mybinder.org", "colab.research.google.com", "repository-button", "issues-button"):
        assert marker not in html


def test_buttons_point_at_the_configured_repository():
    config = {"html": {"use_repository_button": True, "use_issues_button": True},
              "launch_buttons": {"binderhub_url": "https://mybinder.org"}, "repository": {"branch": "main"}}
    hidden = repository.book_config(config, repository.PLACEHOLDER, "book")
    assert "launch_buttons" not in hidden and "repository" not in hidden
    assert not hidden["html"]["use_repository_button"] and not hidden["html"]["use_issues_button"]
    real = "https://github.com/someone/prefalign"
    assert repository.book_config(config, real, "book")["repository"] == {"url": real, "path_to_book": "", "branch": "main"}
    assert repository.book_config(config, real, "student")["repository"]["branch"] == repository.STUDENT_BRANCH
    assert config["repository"] == {"branch": "main"}, "the input is not modified"
    with pytest.raises(ValueError, match="url must look like"):
        repository.validate_url("github.com/someone")


def test_set_url_rewrites_every_copy(tmp_path):
    import shutil

    for name in (*repository.COPIES, "_toc.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "book", tmp_path / "book", ignore=shutil.ignore_patterns("_generated", ".*"))
    new = "https://github.com/someone/prefalign"
    changed = repository.set_url(tmp_path, new)
    assert repository.url(tmp_path) == new
    assert {p.name for p in changed} >= {"pyproject.toml", "CITATION.cff", "setting.ipynb"}
    for path in [*(tmp_path / n for n in repository.COPIES), *(tmp_path / "book").glob("*.ipynb")]:
        assert repository.PLACEHOLDER not in path.read_text(), path


def test_install_cells_use_the_configured_address():
    import nbformat

    from prefalign import build

    for path in build.Layout(ROOT).chapters():
        cell = repository.install_cell(nbformat.read(path, as_version=4))
        assert cell is not None and cell.source == repository.install_source(repository.url(ROOT)), path.name
