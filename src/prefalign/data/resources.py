"""The data files shipped inside the package, one sub-folder per source, read with importlib.resources."""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

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
    validation.choice(source, "source", sorted(SOURCES))
    validation.choice(name, "name", list(SOURCES[source]))
    path = resources.files("prefalign.data").joinpath(source, name)
    if not path.is_file():
        raise FileNotFoundError(f"the packaged data file {source}/{name} is missing from this installation of prefalign")
    return path
