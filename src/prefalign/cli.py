"""Command line: ``python -m prefalign book`` (execute the chapters and build the HTML book)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _book(args: argparse.Namespace) -> int:
    from prefalign import build

    try:
        index = build.build_book(args.root, jobs=args.jobs, force=args.force)
    except (build.ChapterFailed, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"The book is at {index.relative_to(Path(args.root).resolve())} ({index.as_uri()})")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m prefalign", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    book = sub.add_parser("book", help="execute every chapter with papermill (cached) and build _build/html")
    book.add_argument("--root", default=".", help="repository root (default: current directory)")
    book.add_argument("--jobs", type=int, default=None, help="parallel chapter executions (default: number of cores)")
    book.add_argument("--force", action="store_true", help="re-execute every chapter even if its inputs did not change")
    book.set_defaults(run=_book)
    args = parser.parse_args(argv)
    return args.run(args)
