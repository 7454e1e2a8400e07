"""The data files shipped inside the package, one sub-folder per source, read with importlib.resources."""

from __future__ import annotations

import gzip
import io
import os
import zlib
from importlib import resources
from importlib.resources.abc import Traversable
from typing import IO

import pandas as pd

from prefalign import validation

SOURCES = {
    "chatbot_arena": ("PROVENANCE.md", "arena_20240313_top22_pairwise.csv", "arena_20240313_heatmaps.json"),
    "llmfao": ("PROVENANCE.md", "LICENSE.CC-BY", "NOTICE.md", "README.upstream.md", "crowd-comparisons.csv",
               "gpt4-crowd-comparisons.csv", "gpt3-crowd-comparisons.csv", "prompts.jsonl", "models.jsonl",
               "crowd-instruction.md", "gpt-instruction.txt"),
}
"""Every shipped file, by source folder."""


def source_file(source: str, name: str) -> Traversable:
    """The shipped file ``name`` of ``source`` (a key of :data:`SOURCES`), e.g. ``source_file("llmfao", "LICENSE.CC-BY")``.

    Works from an installed package as well as from the source tree; open it with ``.open()`` or
    ``.read_text()``.
    """
    if not isinstance(source, str) or source not in SOURCES:
        raise ValueError(f"source must be one of {sorted(SOURCES)}, got {source!r}")
    if not isinstance(name, str) or name not in SOURCES[source]:
        raise ValueError(f"name must be one of the files shipped for {source}: {list(SOURCES[source])}, got {name!r}")
    path = resources.files("prefalign.data").joinpath(source, name)
    if not path.is_file():
        raise FileNotFoundError(f"the packaged data file {source}/{name} is missing from this installation of prefalign")
    return path


SOURCE_ATTR = "source"
"""``frame.attrs`` key naming the file a table was read from (for error messages with line numbers)."""


def _read_csv(source: str | os.PathLike | IO[str], label: str) -> pd.DataFrame:
    """Read a CSV as strings and numbers, with every failure a ``ValueError`` naming ``label`` (the
    file): empty file, malformed rows, bytes that are not UTF-8. The frame remembers ``label`` so
    later errors can name the file and line (:func:`where`)."""
    try:
        frame = pd.read_csv(source, encoding="utf-8", keep_default_na=False, na_values=[""])
    except pd.errors.EmptyDataError:
        raise ValueError(f"{label} is empty (no header, no rows)") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{label} is not a readable UTF-8 CSV file ({type(exc).__name__}: {exc})") from None
    frame.attrs[SOURCE_ATTR] = label
    return frame


def _read_jsonl_file(source: str | os.PathLike | IO[str], label: str) -> pd.DataFrame:
    """Read JSON lines (``.gz`` decompressed by suffix) with every failure a ``ValueError`` naming
    ``label``: empty, truncated or corrupt compressed data, a line that is not JSON."""
    try:
        frame = pd.read_json(source, lines=True, compression="infer", dtype=False)
    except (ValueError, EOFError, gzip.BadGzipFile, zlib.error, UnicodeDecodeError, OSError, io.UnsupportedOperation) as exc:
        raise ValueError(f"{label} is not a readable JSON-lines file ({type(exc).__name__}: {exc})") from None
    if frame.empty:
        raise ValueError(f"{label} has no rows")
    frame.attrs[SOURCE_ATTR] = label
    return frame


def _where(frame: pd.DataFrame, row: int, *, header: bool = True) -> str:
    """``"<file>, line N"`` for data row ``row`` of a table read from a file (line 1 is the header
    of a CSV), else ``"row N"``."""
    label = frame.attrs.get(SOURCE_ATTR)
    if label is None:
        return f"row {row}"
    return f"{label}, line {row + (2 if header else 1)}"
