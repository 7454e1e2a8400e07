"""The papermill → Jupyter Book pipeline: cache keys, skipping, failures that name chapter and cell."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from prefalign import build

ROOT = Path(__file__).resolve().parents[1]


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, path)


@pytest.fixture
def project(tmp_path) -> build.Layout:
    """A miniature project: a toc with two notebooks, a package tree, requirements."""
    (tmp_path / "book").mkdir()
    (tmp_path / "src" / "prefalign" / "data").mkdir(parents=True)
    (tmp_path / "src" / "prefalign" / "ipo.py").write_text("X = 1\n")
    (tmp_path / "src" / "prefalign" / "data" / "votes.csv").write_text("a,b\n1,2\n")
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/good\n  - file: book/bad\n")
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    _notebook(tmp_path / "book" / "good.ipynb", "x = 1", "print(x + 1)")
    _notebook(tmp_path / "book" / "bad.ipynb", "y = 2", "raise ValueError('boom in chapter')")
    return build.Layout(tmp_path)


def test_chapters_follow_the_toc(project):
    assert [p.name for p in project.chapters()] == ["good.ipynb", "bad.ipynb"]


@pytest.mark.parametrize("changed", ["src/prefalign/ipo.py", "src/prefalign/data/votes.csv", "requirements.txt", "book/good.ipynb"])
def test_key_covers_every_input(project, changed):
    nb = project.root / "book" / "good.ipynb"
    before = build.inputs_key(project, nb, {})
    assert build.inputs_key(project, nb, {}) == before
    path = project.root / changed
    path.write_bytes(path.read_bytes() + b"\n")
    assert build.inputs_key(project, nb, {}) != before


def test_key_covers_parameters(project):
    nb = project.root / "book" / "good.ipynb"
    assert build.inputs_key(project, nb, {"fast": True}) != build.inputs_key(project, nb, {})


def test_failure_names_chapter_and_cell_then_skips_what_succeeded(project):
    logs: list[str] = []
    with pytest.raises(build.ChapterFailed) as err:
        build.execute(project, jobs=2, log=logs.append)
    message = str(err.value)
    assert "book/bad.ipynb: cell 1 (In [2]): ValueError: boom in chapter" in message
    assert "book/good.ipynb" not in message
    assert (project.failed / "bad.ipynb").exists()
    assert (project.stage / "book" / "good.ipynb").exists()
    assert not (project.stage / "book" / "bad.ipynb").exists()
    # fix the bad chapter: only it runs again
    _notebook(project.root / "book" / "bad.ipynb", "y = 2", "print(y)")
    logs.clear()
    build.execute(project, jobs=2, log=logs.append)
    assert any("up to date  book/good.ipynb" in line for line in logs)
    assert any("executed    book/bad.ipynb" in line for line in logs)
    assert not (project.failed / "bad.ipynb").exists()  # the old failed copy goes once the chapter passes
    timings = json.loads(project.timings.read_text())
    assert set(timings) == {"good", "bad"}
    executed = nbformat.read(project.stage / "book" / "good.ipynb", as_version=4)
    assert executed.cells[1].outputs[0]["text"] == "2\n"


def test_key_hashes_the_content_of_files_parameters_name(project):
    nb = project.root / "book" / "good.ipynb"
    data = project.root / "book" / "data.jsonl"
    data.write_text("{}\n")
    before = build.inputs_key(project, nb, {"helpsteer_path": "data.jsonl"})
    data.write_text("{}\n{}\n")
    assert build.inputs_key(project, nb, {"helpsteer_path": "data.jsonl"}) != before


def test_stderr_fails_the_chapter_at_the_source_cell_with_parameters(project):
    """A warning in a chapter fails it; the cell index is the source notebook's, not the one
    shifted by papermill's injected parameters cell; executed notebooks carry no timestamps."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("seed = 1"), nbformat.v4.new_code_cell("x = seed + 1"),
                nbformat.v4.new_code_cell("import numpy as np\nnp.log(0.0)")]
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, project.root / "book" / "bad.ipynb")
    with pytest.raises(build.ChapterFailed) as err:
        build.execute(project, jobs=1, params={"seed": 2}, log=lambda _: None)
    message = str(err.value)
    assert "book/bad.ipynb: cell 2 (In [" in message and "standard error" in message and "divide by zero" in message
    good = nbformat.read(project.stage / "book" / "good.ipynb", as_version=4)
    assert all("papermill" not in c.metadata and "execution" not in c.metadata for c in good.cells)
    assert not {"start_time", "end_time", "duration", "input_path", "output_path"} & set(good.metadata.get("papermill", {}))


def test_stage_mirrors_pages_and_drops_stale_files(project):
    (project.root / "_config.yml").write_text("title: t\n")
    build.stage(project)
    assert (project.stage / "book" / "intro.md").read_text() == "# Intro\n"
    stale = project.stage / "book" / "old.md"
    stale.write_text("gone")
    build.stage(project)
    assert not stale.exists()


def test_committed_notebooks_carry_no_outputs():
    listed = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    on_disk = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "book").glob("*.ipynb"))
    assert on_disk, "no chapter notebooks found"
    for rel in sorted(set(listed) | set(on_disk)):
        nb = nbformat.read(ROOT / rel, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                assert not cell.outputs, f"{rel} cell {i} has outputs"
                assert cell.execution_count is None, f"{rel} cell {i} has an execution count"
        assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{rel}: kernelspec must be python3"


def test_every_chapter_has_a_parameters_cell():
    for nb_path in build.Layout(ROOT).chapters():
        nb = nbformat.read(nb_path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{nb_path.name}: exactly one cell must be tagged 'parameters'"
        assert "seed" in tagged[0].source and "fast" in tagged[0].source


def test_styler_tables_get_the_same_ids_in_every_build():
    """pandas gives each Styler a random id (T_744f7); the pipeline replaces it by the table's position,
    and the checks table carries a fixed one, so two builds write the same bytes."""
    import pandas as pd

    from prefalign import checks

    def executed() -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("table")
        cell.outputs = [nbformat.v4.new_output("execute_result", {"text/html": pd.DataFrame({"a": [1]}).style.to_html()})]
        nb.cells = [cell]
        return nb

    first, second = build.make_reproducible(executed()), build.make_reproducible(executed())
    html = first.cells[0].outputs[0]["data"]["text/html"]
    assert html == second.cells[0].outputs[0]["data"]["text/html"]
    assert 'id="T_cell0_out0"' in html and not re.search(r"T_[0-9a-f]{5}\b", html)
    report = checks.Report([("x.check", checks.CheckResult("x", "thm", "what", 1.0, 1.0, 0.1, "approx", against="hand value"))])
    assert report.show()._repr_html_() == report.show()._repr_html_()
    assert report.show()._repr_markdown_() == report.show()._repr_markdown_()
    assert not re.search(r"T_[0-9a-f]{5}\b", report.show()._repr_html_())


def test_kernel_death_names_the_last_cell_started(project):
    _notebook(project.root / "book" / "bad.ipynb", "y = 2", "import os\nos._exit(1)", "z = 3")
    with pytest.raises(build.ChapterFailed) as err:
        build.execute(project, jobs=1, log=lambda _: None)
    assert "book/bad.ipynb: cell 1 (the last cell started): DeadKernelError" in str(err.value)


def test_two_cold_runs_write_the_same_bytes(tmp_path):
    """A chapter with a seeded draw and a pandas Styler table, executed cold twice: identical files."""
    source = tmp_path / "table.ipynb"  # written once: nbformat gives new cells random ids
    _notebook(source, "seed = 3", "import numpy as np, pandas as pd",
              "x = np.random.default_rng(seed).normal(size=3)\nprint(x)", "pd.DataFrame({'x': x}).style.format('{:.3f}')")
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].metadata["tags"] = ["parameters"]
    nbformat.write(nb, source)
    outputs = []
    for run in ("a", "b"):
        root = tmp_path / run
        (root / "book").mkdir(parents=True)
        (root / "src" / "prefalign").mkdir(parents=True)
        (root / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/table\n")
        (root / "book" / "intro.md").write_text("# Intro\n")
        shutil.copyfile(source, root / "book" / "table.ipynb")
        layout = build.Layout(root)
        build.execute(layout, jobs=1, params={"seed": 4}, log=lambda _: None)
        outputs.append((layout.stage / "book" / "table.ipynb").read_bytes())
    assert outputs[0] == outputs[1]
