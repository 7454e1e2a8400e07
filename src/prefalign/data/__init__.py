"""Real preference data: loaders that return validated preference matrices with their labels.

Shipped with the package (read with :mod:`importlib.resources`, nothing is downloaded):

* ``chatbot_arena/``: Chatbot Arena (LMSYS) human votes between models, aggregated counts of the
  2024-03-13 snapshot — :func:`arena`, :func:`arena_pairs`;
* ``llmfao/``: LLMFAO per-prompt crowd and LLM-judge votes between responses (CC BY 4.0) —
  :func:`llmfao`.

Each folder keeps its ``PROVENANCE.md`` (and licence) verbatim; :func:`source_file` opens any of
them. Not shipped: NVIDIA HelpSteer, which the paper uses. :func:`helpsteer_matrices` builds the
paper's matrices from a HelpSteer file the user supplies, or from :func:`synthetic_helpsteer`.
"""

from prefalign.data.arena import Arena, arena, arena_pairs
from prefalign.data.helpsteer import (
    ATTRIBUTES,
    PAPER_HELPSTEER_COUNTS,
    HelpSteerMatrices,
    helpsteer_matrices,
    read_helpsteer,
    synthetic_helpsteer,
    validate_helpsteer,
)
from prefalign.data.llmfao import JUDGES, LLMFAO, Subtournaments, llmfao, position_only_cyclic_share
from prefalign.data.resources import SOURCES, source_file

__all__ = [
    "ATTRIBUTES", "JUDGES", "PAPER_HELPSTEER_COUNTS", "SOURCES",
    "Arena", "HelpSteerMatrices", "LLMFAO", "Subtournaments",
    "arena", "arena_pairs", "helpsteer_matrices", "llmfao", "position_only_cyclic_share", "read_helpsteer", "source_file",
    "synthetic_helpsteer", "validate_helpsteer",
]
