"""Command line of the companion (``python -m prefalign ...``).

* ``book``    — execute the chapters with papermill (cached) and build the HTML book
  (``--edition student`` builds the edition without solutions).
* ``pdf``     — the same, rendered as a PDF with XeLaTeX (``--edition student`` without solutions).
* ``checks``  — run every registered numerical check and print a table; exit status 1 if any fails.
* ``figures`` — regenerate the figures of one or more chapters with other parameters.
* ``repository`` — print the book's repository address, or set it everywhere it is written.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
from pathlib import Path
from typing import Any

import pandas as pd


def _book(args: argparse.Namespace) -> int:
    from prefalign import build

    try:
        index = build.build_book(args.root, edition=args.edition, jobs=args.jobs, force=args.force)
    except (build.ChapterFailed, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"The {args.edition} edition is at {index.relative_to(Path(args.root).resolve())} ({index.as_uri()})")
    return 0


def _pdf(args: argparse.Namespace) -> int:
    from prefalign import build, printing

    try:
        pdf = printing.build_pdf(args.root, edition=args.edition)
    except (build.ChapterFailed, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"The {args.edition} edition's PDF is at {pdf.relative_to(Path(args.root).resolve())}")
    return 0


def _checks(args: argparse.Namespace) -> int:
    from prefalign import checks

    params: dict[str, Any] = {}
    if args.seed is not None:
        params["seed"] = args.seed
    if args.fast:
        params["fast"] = True
    try:
        report = checks.run(args.chapter, progress=not args.json, jobs=args.jobs, **params)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    table = report.table()
    if args.json:
        print(json.dumps(table.reset_index().to_dict(orient="records"), indent=1))
    else:
        shown = table.assign(
            measured=table["measured"].map("{:.3g}".format), expected=table["expected"].map("{:.3g}".format),
            tolerance=table["tolerance"].map("{:.3g}".format), passed=table["passed"].map({True: "pass", False: "FAIL"}),
        )[["chapter", "theorem", "compared", "against", "measured", "expected", "tolerance", "relation", "passed"]]
        with pd.option_context("display.max_colwidth", 70, "display.width", 250):
            print(shown.to_string(index=False))
        failed = int((~table["passed"]).sum())
        print(f"\n{len(table) - failed} of {len(table)} checks passed" + (f"; {failed} FAILED" if failed else ""))
    return 0 if report.passed else 1


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _figures(args: argparse.Namespace) -> int:
    from prefalign import figures

    params = {name: _parse_value(value) for name, value in args.param}
    try:
        written = figures.regenerate(Path(args.root), Path(args.out), chapters=args.chapter or None, params=params)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out).resolve()
    print(f"\n{sum(len(v) for v in written.values())} figure(s) written under {out}:")
    for chapter, files in written.items():
        print(f"  {chapter}: {len(files)} figure(s), executed notebook {out / chapter / (chapter + '.ipynb')}")
        for f in files:
            print(f"    {f}")
    return 0


def _repository(args: argparse.Namespace) -> int:
    from prefalign import repository

    root = Path(args.root).resolve()
    if args.url is None:
        current = repository.url(root)
        print(current + (" (placeholder: launch, repository and issue buttons are left out)"
                         if current == repository.PLACEHOLDER else ""))
        return 0
    try:
        changed = repository.set_url(root, args.url)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in changed:
        print(f"  updated {path.relative_to(root)}")
    print(f"repository address set to {args.url} ({len(changed)} file(s) changed); rebuild with `make book`")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prefalign", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    book = sub.add_parser("book", help="execute every chapter with papermill (cached) and build the HTML book")
    book.add_argument("--root", default=".", help="repository root (default: current directory)")
    book.add_argument("--edition", choices=["book", "student"], default="book",
                      help="book: _build/html; student: without solutions, _build/student/html")
    book.add_argument("--jobs", type=int, default=None, help="parallel chapter executions (default: number of cores)")
    book.add_argument("--force", action="store_true", help="re-execute every chapter even if its inputs did not change")
    book.set_defaults(run=_book)

    pdf = sub.add_parser("pdf", help="execute what changed and build the book as a PDF (LaTeX, XeLaTeX)")
    pdf.add_argument("--root", default=".", help="repository root (default: current directory)")
    pdf.add_argument("--edition", choices=["book", "student"], default="book",
                     help="book: _build/pdf/book.pdf; student: without solutions, _build/pdf/student.pdf")
    pdf.set_defaults(run=_pdf)

    chk = sub.add_parser("checks", help="run the numerical checks of every chapter (or one) and print a table")
    chk.add_argument("--chapter", default=None, help="only this chapter's checks")
    chk.add_argument("--seed", type=int, default=None, help="override every check's seed")
    chk.add_argument("--fast", action="store_true", help="small sizes (as in the test suite)")
    chk.add_argument("--json", action="store_true", help="print the results as JSON (no progress bar)")
    chk.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: number of cores)")
    chk.set_defaults(run=_checks)

    fig = sub.add_parser("figures", help="regenerate figures through papermill with other parameters")
    fig.add_argument("--out", required=True, help="folder to write into (created if missing)")
    fig.add_argument("--chapter", action="append", help="chapter name (repeatable; default: all chapters)")
    fig.add_argument("-p", "--param", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                     help="parameter for the chapters' parameters cell (repeatable); VALUE is a Python literal")
    fig.add_argument("--root", default=".", help="repository root (default: current directory)")
    fig.set_defaults(run=_figures)

    rep = sub.add_parser("repository", help="print the book's repository address, or set it (URL) everywhere it is written")
    rep.add_argument("url", nargs="?", default=None, help="https://github.com/OWNER/NAME")
    rep.add_argument("--root", default=".", help="repository root (default: current directory)")
    rep.set_defaults(run=_repository)

    args = parser.parse_args(argv)
    return args.run(args)
