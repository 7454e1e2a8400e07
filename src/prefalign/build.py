"""The book pipeline: papermill executes the chapters, Jupyter Book renders them without executing.

1. :func:`execute` runs every chapter notebook listed in ``_toc.yml`` with papermill, in parallel
   (one process per core), into ``_build/stage/book/``. A chapter is skipped when its *key* — a
   SHA-256 of the notebook, every file of the ``prefalign`` package, ``requirements.txt``,
   ``pyproject.toml``, the parameters (and the content of every file a parameter names) and the
   Python version — equals the key stored with its last successful run. A failing chapter fails
   the whole step with its name and the failing cell of the source notebook; so does a chapter
   that writes to standard error (a warning, a stray ``print(file=sys.stderr)``), except for the
   lines of :data:`STDERR_ALLOWED`. The executed notebooks carry no timestamps or paths, so two
   builds give the same bytes.
2. :func:`stage` mirrors ``_toc.yml`` and the non-notebook pages of ``book/`` into ``_build/stage``
   (rewriting only what changed, so Sphinx's incremental build stays incremental), with
   ``_config.yml`` completed by the repository address (:mod:`prefalign.repository`).
3. :func:`write_provenance` writes the figure manifest and the status and reproducibility fragments.
4. :func:`build_html` renders the stage with Jupyter Book's Sphinx build (execution off, warnings are
   errors, nitpicky) into ``_build/html``, or the student edition into ``_build/student/html`` from
   its own copy of the stage with every solution removed (:mod:`prefalign.editions`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import nbformat
import yaml

from prefalign import abstract, claims, editions, provenance, repository, results_index

CELL_TIMEOUT = 900
"""Seconds one cell may run before papermill aborts the chapter."""

STDERR_ALLOWED: tuple[str, ...] = ()
"""Substrings of standard-error lines a chapter may print without failing (a dependency's known
harmless warning would go here, with its reason). Empty: no chapter of the book writes to stderr."""


@dataclass(frozen=True)
class Layout:
    """Where everything lives: sources under ``root``, outputs under ``build`` (default ``root/_build``).

    A separate ``build`` folder keeps a differently parametrised book (the test suite's ``fast``
    book) from overwriting the real one.
    """

    root: Path
    build_dir: Path | None = None

    @property
    def build(self) -> Path:
        return self.build_dir if self.build_dir is not None else self.root / "_build"

    @property
    def stage(self) -> Path:
        return self.build / "stage"

    @property
    def keys(self) -> Path:
        return self.build / "keys"

    @property
    def logs(self) -> Path:
        return self.build / "logs"

    @property
    def failed(self) -> Path:
        return self.build / "failed"

    def source(self, edition: str = "book") -> Path:
        """What Sphinx renders: the stage (the book) or the student edition's solution-free copy of it."""
        return self.stage if edition == "book" else self.build / edition / "stage"

    def html(self, edition: str = "book") -> Path:
        """Output folder of an edition: ``_build/html`` (the book) or ``_build/student/html``."""
        return self.build / "html" if edition == "book" else self.build / edition / "html"

    @property
    def generated(self) -> Path:
        return self.stage / "book" / "_generated"

    @property
    def manifest(self) -> Path:
        return self.build / "figure-manifest.json"

    @property
    def timings(self) -> Path:
        return self.build / "execution.json"

    def chapters(self) -> list[Path]:
        """Chapter notebooks (``.ipynb`` files named in ``_toc.yml``), in table-of-contents order."""
        toc = yaml.safe_load((self.root / "_toc.yml").read_text())
        files: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                for key in ("root", "file"):
                    if isinstance(node.get(key), str):
                        files.append(node[key])
                for value in node.values():
                    if isinstance(value, (list, dict)):
                        walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(toc)
        return [self.root / f"{f}.ipynb" for f in files if (self.root / f"{f}.ipynb").exists()]


def _hash_tree(h: "hashlib._Hash", base: Path, root: Path) -> None:
    for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")


def _named_files(value: Any, cwd: Path) -> list[Path]:
    """The existing files a parameter value names (a path string, or lists/dicts of them), relative to
    the chapter's folder, where papermill runs it."""
    if isinstance(value, (list, tuple)):
        return [p for v in value for p in _named_files(v, cwd)]
    if isinstance(value, dict):
        return [p for v in value.values() for p in _named_files(v, cwd)]
    if isinstance(value, (str, os.PathLike)) and str(value) and len(str(value)) < 4096:
        try:
            path = cwd / Path(value)
            return [path] if path.is_file() else []
        except (OSError, ValueError):
            return []
    return []


def inputs_key(layout: Layout, notebook: Path, params: dict[str, Any]) -> str:
    """SHA-256 over everything a chapter's output depends on (see the module docstring)."""
    h = hashlib.sha256()
    h.update(notebook.read_bytes() + b"\0")
    _hash_tree(h, layout.root / "src" / "prefalign", layout.root)
    for name in ("requirements.txt", "pyproject.toml"):
        path = layout.root / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b"") + b"\0")
    h.update(json.dumps(params, sort_keys=True, default=str).encode() + b"\0" + sys.version.encode())
    for path in _named_files(params, notebook.parent):  # the content of the files parameters name
        h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def _source_cell(nb: nbformat.NotebookNode, index: int) -> int:
    """The index in the source notebook of cell ``index`` of the executed one (papermill inserts an
    ``injected-parameters`` cell, which shifts every later cell by one)."""
    injected = [i for i, c in enumerate(nb.cells) if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    return index - sum(1 for i in injected if i < index)


def _last_started(nb: nbformat.NotebookNode) -> int | None:
    """The executed notebook's last cell papermill started (the last with a ``start_time``)."""
    started = [i for i, c in enumerate(nb.cells) if c.get("metadata", {}).get("papermill", {}).get("start_time")]
    return started[-1] if started else None


def _stderr_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(cell index, text)`` of every standard-error output not allowed by :data:`STDERR_ALLOWED`."""
    found = []
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                lines = [line for line in out.get("text", "").splitlines()
                         if line.strip() and not any(a in line for a in STDERR_ALLOWED)]
                if lines:
                    found.append((i, "\n".join(lines)))
    return found


_STYLER_ID = re.compile(r'<table id="T_([0-9a-f]+)"')
_ADDRESS = re.compile(r"<([\w.]+) (?:object )?at 0x[0-9a-f]+>")


def make_reproducible(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what differs between two runs of the same chapter: papermill's and nbclient's timestamps,
    durations and absolute paths (the timings are kept in ``_build/execution.json``), the random
    ids pandas' ``Styler`` gives each table (``T_744f7``), replaced by the cell and output position,
    the random id of papermill's injected-parameters cell,
    and memory addresses in plain-text reprs (``<...Styler at 0x7f8a...>`` becomes ``<...Styler>``)."""
    for c, cell in enumerate(nb.cells):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives the cell it inserts a random id
        cell.get("metadata", {}).pop("papermill", None)
        cell.get("metadata", {}).pop("execution", None)
        for o, out in enumerate(cell.get("outputs", [])):
            html = out.get("data", {}).get("text/html")
            if isinstance(html, list):
                html = "".join(html)
            if isinstance(html, str):
                for uuid in dict.fromkeys(_STYLER_ID.findall(html)):
                    html = html.replace(f"T_{uuid}", f"T_cell{c}_out{o}")
                out["data"]["text/html"] = html
            plain = out.get("data", {}).get("text/plain")
            if isinstance(plain, list):
                plain = "".join(plain)
            if isinstance(plain, str):
                out["data"]["text/plain"] = _ADDRESS.sub(r"<\1>", plain)
    meta = nb.metadata.get("papermill")
    if meta is not None:
        nb.metadata["papermill"] = {k: v for k, v in meta.items() if k in ("parameters", "default_parameters", "version")}
    return nb


def _execute_one(src: str, dst: str, cwd: str, params: dict[str, Any], stderr_log: str) -> dict[str, Any]:
    """Run one notebook with papermill (in a worker process); report success or the failing cell.

    The kernel's standard error (start-up chatter, tracebacks of a crash) goes to ``stderr_log``.
    Papermill saves the output notebook as each cell starts, so after a kernel death it names the
    cell that was running.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    os.environ["PYTHONHASHSEED"] = "0"
    start = time.perf_counter()
    saved_stderr = os.dup(2)
    with open(stderr_log, "w") as log_file:
        os.dup2(log_file.fileno(), 2)
        try:
            papermill.execute_notebook(
                src, dst, parameters=params, kernel_name="python3", cwd=cwd, progress_bar=False,
                log_output=False, request_save_on_cell_execute=True, execution_timeout=CELL_TIMEOUT,
            )
        except PapermillExecutionError as exc:
            cell = exc.cell_index
            try:
                cell = _source_cell(nbformat.read(dst, as_version=4), exc.cell_index)
            except Exception:  # noqa: BLE001 (no readable output: report papermill's index)
                pass
            return {"ok": False, "cell": cell, "count": exc.exec_count,
                    "error": f"{exc.ename}: {exc.evalue}", "seconds": time.perf_counter() - start}
        except Exception as exc:  # kernel death, timeout, unreadable notebook: still name the chapter
            cell = None
            try:
                executed = nbformat.read(dst, as_version=4)
                last = _last_started(executed)
                cell = None if last is None else _source_cell(executed, last)
            except Exception:  # noqa: BLE001 (papermill wrote nothing)
                pass
            return {"ok": False, "cell": cell, "count": None, "started": True,
                    "error": f"{type(exc).__name__}: {exc}", "seconds": time.perf_counter() - start}
        finally:
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
    executed = nbformat.read(dst, as_version=4)
    stderr = _stderr_outputs(executed)
    if stderr:
        cell, text = stderr[0]
        return {"ok": False, "cell": _source_cell(executed, cell), "count": executed.cells[cell].get("execution_count"),
                "error": f"the chapter wrote to standard error ({len(stderr)} cell(s)); first: {text[:500]}",
                "seconds": time.perf_counter() - start}
    nbformat.write(make_reproducible(executed), dst)
    return {"ok": True, "seconds": time.perf_counter() - start, "environment": provenance.environment()}


class ChapterFailed(RuntimeError):
    """One or more chapters raised; the message names each chapter and failing cell."""


def execute(layout: Layout, *, jobs: int | None = None, params: dict[str, Any] | None = None,
            chapter_params: dict[str, dict[str, Any]] | None = None, force: bool = False,
            log=print) -> dict[str, dict[str, Any]]:
    """Execute the stale chapters with papermill in parallel; return ``{chapter: timing record}``.

    ``params`` go to every chapter, ``chapter_params[name]`` (overriding them) to chapter ``name``.
    The slowest chapters of the previous run start first. Raises :class:`ChapterFailed` if any
    chapter fails; its failed output is kept in ``_build/failed/`` for inspection and its key is
    removed, so it runs again next time.
    """
    chapter_params = chapter_params or {}
    unknown = sorted(set(chapter_params) - {nb.stem for nb in layout.chapters()})
    if unknown:
        raise ValueError(f"chapter_params names chapters that are not in _toc.yml: {unknown}")
    out_dir = layout.stage / "book"
    for d in (out_dir, layout.keys, layout.failed, layout.logs):
        d.mkdir(parents=True, exist_ok=True)
    timings = json.loads(layout.timings.read_text()) if layout.timings.exists() else {}
    todo = []
    for nb in layout.chapters():
        nb_params = {**(params or {}), **chapter_params.get(nb.stem, {})}
        key = inputs_key(layout, nb, nb_params)
        key_file = layout.keys / f"{nb.stem}.sha256"
        if not force and (out_dir / nb.name).exists() and key_file.exists() and key_file.read_text() == key:
            log(f"  up to date  {nb.relative_to(layout.root)}")
            continue
        todo.append((nb, key, key_file, nb_params))
    if not todo:
        return timings
    todo.sort(key=lambda item: -timings.get(item[0].stem, {}).get("seconds", float("inf")))
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    at_commit = provenance.commit(layout.root)
    log(f"executing {len(todo)} chapter(s) with papermill on {jobs} process(es)")
    failures = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn")) as pool:
        futures = {
            nb: pool.submit(_execute_one, str(nb), str(layout.build / f"{nb.stem}.running.ipynb"), str(nb.parent),
                            nb_params, str(layout.logs / f"{nb.stem}.stderr.log"))
            for nb, _, _, nb_params in todo
        }
        for nb, key, key_file, nb_params in todo:
            result = futures[nb].result()
            running = layout.build / f"{nb.stem}.running.ipynb"
            rel = nb.relative_to(layout.root)
            if result["ok"]:
                os.replace(running, out_dir / nb.name)
                key_file.write_text(key)
                (layout.failed / nb.name).unlink(missing_ok=True)  # an old failure no longer applies
                timings[nb.stem] = {"seconds": round(result["seconds"], 2), "params": nb_params,
                                    "commit": at_commit, "environment": result["environment"]}
                log(f"  executed    {rel} in {result['seconds']:.1f} s")
            else:
                key_file.unlink(missing_ok=True)
                (out_dir / nb.name).unlink(missing_ok=True)
                kept = layout.failed / nb.name
                if running.exists():
                    os.replace(running, kept)
                if result["cell"] is None:
                    where = "before the first cell"
                elif result["count"] is None:
                    where = f"cell {result['cell']} (the last cell started)"
                else:
                    where = f"cell {result['cell']} (In [{result['count']}])"
                failures.append(f"{rel}: {where}: {result['error']} (executed notebook: {kept}; kernel stderr: "
                                f"{layout.logs / (nb.stem + '.stderr.log')})")
                log(f"  FAILED      {rel} at {where}")
    layout.timings.write_text(json.dumps(timings, indent=1, sort_keys=True))
    if failures:
        raise ChapterFailed("chapter(s) failed:\n  " + "\n  ".join(failures))
    return timings


def _sync(src: Path, dst: Path) -> None:
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


def edition_config(layout: Layout, edition: str) -> str:
    """``_config.yml`` of ``edition``: its launch, repository and issue buttons set from the repository
    address, or left out while it is the placeholder (see :func:`prefalign.repository.book_config`)."""
    config = yaml.safe_load((layout.root / "_config.yml").read_text())
    config = repository.book_config(config, repository.url(layout.root), edition)
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def stage(layout: Layout) -> None:
    """Mirror the book's configuration and non-notebook pages into the stage (only what changed)."""
    _sync(layout.root / "_toc.yml", layout.stage / "_toc.yml")
    _write_if_changed(layout.stage / "_config.yml", edition_config(layout, "book"))
    book = layout.root / "book"
    wanted = {p.relative_to(book) for p in book.rglob("*")
              if p.is_file() and p.suffix != ".ipynb" and not any(part.startswith(".") for part in p.relative_to(book).parts)}
    wanted |= {nb.relative_to(book) for nb in layout.chapters()}
    for rel in wanted:
        if (book / rel).suffix != ".ipynb":
            _sync(book / rel, layout.stage / "book" / rel)
    for path in (layout.stage / "book").rglob("*"):
        if path.is_file() and path.relative_to(layout.stage / "book") not in wanted and layout.generated not in path.parents:
            path.unlink()


def _write_if_changed(path: Path, content: str | bytes) -> None:
    data = content.encode() if isinstance(content, str) else content
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_provenance(layout: Layout) -> list[dict[str, Any]]:
    """Write ``_build/figure-manifest.json`` and the fragments the status and reproducibility pages
    include (``_generated/status.md``, ``_generated/figures.md``, ``_generated/claims.md``, ``_generated/results.md``, the landing page's ``_generated/abstract.png`` and its phone edition ``abstract-phone.png``); return the manifest entries.

    Files are rewritten only when their content changes, so an unchanged build stays incremental.
    """
    timings = json.loads(layout.timings.read_text()) if layout.timings.exists() else {}
    executed = [layout.stage / "book" / nb.name for nb in layout.chapters()]
    entries = [e for nb in executed for e in provenance.figures(nb, timings.get(nb.stem, {}))]
    titles = [(nb.stem, provenance.chapter_title(nbformat.read(nb, as_version=4))) for nb in executed]
    _write_if_changed(layout.manifest, json.dumps(entries, indent=1, sort_keys=True) + "\n")
    _write_if_changed(layout.generated / "status.md", provenance.status_fragment(titles, timings))
    _write_if_changed(layout.generated / "figures.md", provenance.manifest_fragment(entries))
    _write_if_changed(layout.generated / "claims.md", claims.fragment(executed))
    _write_if_changed(layout.generated / "results.md", results_index.fragment(executed))
    rows = abstract.parts(layout.root / "_toc.yml", layout.chapters())
    _write_if_changed(layout.generated / "abstract.png", abstract.png(rows))
    _write_if_changed(layout.generated / "abstract-phone.png", abstract.png(rows, phone=True))
    return entries


_SPHINX_RUNNER = """
import json, sys
from jupyter_book.sphinx import build_sphinx
a = json.loads(sys.argv[1])
result = build_sphinx(a["source"], a["out"], noconfig=True, path_config=a["config"], confoverrides=a["overrides"],
                      doctreedir=a["doctrees"], builder=a.get("builder", "html"), warningiserror=True, keep_going=True, force_all=a["all"])
if isinstance(result, Exception):
    raise result
sys.exit(result)
"""

EDITIONS = {
    "book": {"nitpicky": True},
    "student": {"nitpicky": True, "hide_solutions": True},
}
"""Sphinx configuration overrides of each edition (on top of ``_config.yml``)."""


def prepare_source(layout: Layout, edition: str) -> Path:
    """The folder Sphinx renders for ``edition``: the stage, or (student) its solution-free copy."""
    source = layout.source(edition)
    if edition != "book":
        editions.write_student_tree(layout.stage, source, replace={"_config.yml": edition_config(layout, edition).encode()})
    return source


def build_html(layout: Layout, *, edition: str = "book", log=print) -> Path:
    """Render the stage with Jupyter Book's Sphinx build into :meth:`Layout.html`; return ``index.html``.

    Execution is off (the stage holds executed notebooks); any warning fails the build. After a
    failed build the next one re-reads every page, so Sphinx's incremental build never hides a
    warning. Runs in a subprocess, so Sphinx's global state never leaks into the caller.
    """
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {sorted(EDITIONS)}, got {edition!r}")
    source = prepare_source(layout, edition)
    out = layout.html(edition)
    ok_marker = out.parent / f".{edition}-ok"
    overrides = {**EDITIONS[edition], "external_toc_path": str(source / "_toc.yml"), "latex_individualpages": False}
    args = {"source": str(source), "out": str(out), "config": str(source / "_config.yml"),
            "doctrees": str(out.parent / f".doctrees-{edition}"), "overrides": overrides,
            "all": not ok_marker.exists()}
    ok_marker.unlink(missing_ok=True)
    log(f"building the {edition} edition with Jupyter Book (execution off, warnings are errors)")
    proc = subprocess.run([sys.executable, "-c", _SPHINX_RUNNER, json.dumps(args)], cwd=layout.root,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the Sphinx build failed (exit {proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    ok_marker.touch()
    return out / "index.html"


def build_book(root: Path | str = ".", *, edition: str = "book", jobs: int | None = None, force: bool = False,
               params: dict[str, Any] | None = None, chapter_params: dict[str, dict[str, Any]] | None = None,
               build_dir: Path | None = None, log=print) -> Path:
    """The whole pipeline: execute (cached, parallel), stage, provenance, render. Returns ``index.html``.

    ``params`` are passed to every chapter's ``parameters`` cell (e.g. ``{"fast": True}``),
    ``chapter_params[name]`` to chapter ``name`` only; ``build_dir`` replaces ``root/_build`` as
    the output folder.
    """
    layout = Layout(Path(root).resolve(), None if build_dir is None else Path(build_dir).resolve())
    execute(layout, jobs=jobs, force=force, params=params, chapter_params=chapter_params, log=log)
    stage(layout)
    write_provenance(layout)
    return build_html(layout, edition=edition, log=log)
