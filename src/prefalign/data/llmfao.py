"""LLMFAO (Dmitry Ustalov; prompts and responses from llmonitor.com; CC BY 4.0): per-prompt votes between responses.

For 13 prompts, each answered by 52–59 models, pairs of responses to the same prompt were judged
by crowd workers (1–5 votes per pair), by GPT-4 and by GPT-3.5-turbo-instruct (one vote per pair,
the same pairs). A vote says which response (``left`` = ``model_x`` or ``right`` = ``model_y``)
is better, or ``tie``. Responses are identified by ``(prompt, model)``.

Only about 10% of the pairs of each prompt were judged, so there is no complete tournament on
all responses; :meth:`LLMFAO.complete_subtournaments` finds every set of ``k`` responses to one
prompt whose pairs were all judged.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prefalign import preferences, validation
from prefalign.data.resources import _read_csv, _read_jsonl_file, _where, source_file

JUDGES = {"crowd": "crowd-comparisons.csv", "gpt4": "gpt4-crowd-comparisons.csv", "gpt3": "gpt3-crowd-comparisons.csv"}
"""Judge → shipped file. ``gpt4``/``gpt3`` are the LLM judges on the crowd's 13 prompts and pairs."""

SHIPPED_VOTES = {"crowd": 8931, "gpt4": 2139, "gpt3": 2139}
"""Rows of each shipped votes file (checked when the file is loaded): the crowd's 8,931 votes as
PROVENANCE.md records them, and one verdict of each LLM judge per crowd item (PROVENANCE.md: 2,139
distinct (prompt, pair) items)."""

JUDGE_NAMES = {"crowd": "crowd workers", "gpt4": "GPT-4", "gpt3": "GPT-3.5-turbo-instruct"}

VOTE_COLUMNS = ("prompt", "model_x", "model_y", "winner")
WINNERS = ("left", "right", "tie")


def _read_jsonl(name: str, columns: list[str]) -> pd.DataFrame:
    """A shipped JSON-lines table with the ``columns`` it must have (``ValueError`` naming the file otherwise)."""
    with source_file("llmfao", name).open("r", encoding="utf-8") as fh:
        frame = _read_jsonl_file(fh, name)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} must have the keys {columns}; missing {missing}")
    return frame[columns]


def _validate_votes(frame: pd.DataFrame, prompt_ids: set[int], model_ids: set[int]) -> pd.DataFrame:
    missing = [c for c in VOTE_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"votes must have the columns {list(VOTE_COLUMNS)}; missing {missing}")
    if frame.empty:
        raise ValueError("votes must have at least one row")
    out = frame.copy()
    for col in ("prompt", "model_x", "model_y"):
        values = pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"votes[{col!r}] must hold non-negative integer ids; {_where(frame, row)} has "
                             f"{validation.fmt_value(frame[col].iloc[row])}")
        out[col] = values.astype(np.int64)
    for col, known, listed in (("prompt", prompt_ids, "prompts.jsonl"), ("model_x", model_ids, "models.jsonl"),
                               ("model_y", model_ids, "models.jsonl")):
        bad = ~out[col].isin(known).to_numpy()
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"votes[{col!r}] must hold ids listed in {listed}; {_where(frame, row)} has "
                             f"the unknown id {int(out[col].iloc[row])}")
    bad = ~out["winner"].isin(WINNERS).to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise ValueError(f"votes['winner'] must be one of {list(WINNERS)}; {_where(frame, row)} has {validation.fmt_value(frame['winner'].iloc[row])}")
    same = (out["model_x"] == out["model_y"]).to_numpy()
    if same.any():
        row = int(np.argmax(same))
        raise ValueError(f"votes must compare two different responses; {_where(frame, row)} compares model "
                         f"{out['model_x'].iloc[row]} with itself")
    # One vote per voter and item: the same worker (or, without workers, the same judge) twice on one
    # prompt and unordered pair is a duplicated row.
    key = pd.DataFrame({"prompt": out["prompt"], "a": np.minimum(out["model_x"], out["model_y"]),
                        "b": np.maximum(out["model_x"], out["model_y"])})
    if "worker" in out.columns:
        key["worker"] = out["worker"]
    dup = key.duplicated().to_numpy()
    if dup.any():
        row = int(np.argmax(dup))
        voter = f"worker {validation.fmt_value(out['worker'].iloc[row])}" if "worker" in out.columns else "the judge"
        raise ValueError(f"votes must hold one vote per voter and item; {_where(frame, row)} repeats the vote of {voter} "
                         f"on prompt {key['prompt'].iloc[row]}, pair ({key['a'].iloc[row]}, {key['b'].iloc[row]})")
    out.attrs = {}
    return out.reset_index(drop=True)


def _pair_counts(votes: pd.DataFrame) -> pd.DataFrame:
    """One row per (prompt, unordered pair), ``model_a < model_b``: wins of each side, ties, votes."""
    a = np.minimum(votes["model_x"], votes["model_y"])
    b = np.maximum(votes["model_x"], votes["model_y"])
    winner_model = np.where(votes["winner"] == "left", votes["model_x"],
                            np.where(votes["winner"] == "right", votes["model_y"], -1))
    table = pd.DataFrame({
        "prompt": votes["prompt"], "model_a": a, "model_b": b,
        "wins_a": winner_model == a, "wins_b": winner_model == b, "ties": votes["winner"] == "tie",
    })
    counts = table.groupby(["prompt", "model_a", "model_b"], sort=True)[["wins_a", "wins_b", "ties"]].sum().astype(np.int64)
    counts["votes"] = counts.sum(axis=1)
    return counts.reset_index()


@dataclass(frozen=True)
class Subtournaments:
    """Every complete sub-tournament of size ``k``: ``n`` sets of ``k`` responses to one prompt, all pairs judged.

    ``P`` (``n, k, k``) counts ties as half (:func:`prefalign.preferences.from_counts`); ``wins``
    and ``ties`` are the counts; ``prompt`` (``n``) the prompt id, ``models`` (``n, k``) the model
    ids in increasing order; ``labels`` reads "slug: model name, model name, ...".
    """

    k: int
    P: np.ndarray
    wins: np.ndarray
    ties: np.ndarray
    prompt: np.ndarray
    models: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def structure(self) -> np.ndarray:
        """``"cyclic"``, ``"strongly transitive"`` or ``"neither"`` for each (:func:`prefalign.preferences.structure`)."""
        return preferences.structure(self.P) if len(self) else np.array([], dtype=str)


@dataclass(frozen=True)
class LLMFAO:
    """One judge's votes on LLMFAO's crowd prompts.

    ``votes``: one row per vote (``prompt, model_x, model_y, winner`` and, for the crowd,
    ``worker``); ``pairs``: one row per judged (prompt, unordered pair) with ``model_a < model_b``,
    ``wins_a, wins_b, ties, votes``; ``prompts`` (``id, slug, text, type``) and ``models``
    (``id, name, org``) name them.
    """

    judge: str
    votes: pd.DataFrame
    pairs: pd.DataFrame
    prompts: pd.DataFrame
    models: pd.DataFrame

    def coverage(self) -> pd.DataFrame:
        """Per prompt: ``responses`` (answers in at least one judged pair), ``judged`` pairs, and
        ``share`` = judged / C(responses, 2), the fraction of all pairs of answers that were judged."""
        rows = []
        for prompt, group in self.pairs.groupby("prompt", sort=True):
            n = len(set(group["model_a"]) | set(group["model_b"]))
            rows.append({"prompt": prompt, "responses": n, "judged": len(group), "share": len(group) / (n * (n - 1) / 2)})
        return pd.DataFrame(rows).set_index("prompt")

    def complete_subtournaments(self, k: int = 3) -> Subtournaments:
        """Every set of ``k`` responses to one prompt whose ``k(k-1)/2`` pairs were all judged.

        Found as the ``k``-cliques of each prompt's graph of judged pairs (exhaustive search).
        Ordered by prompt id, then lexicographically by model ids.
        """
        k = validation.count(k, "k", minimum=2)
        slug = dict(zip(self.prompts["id"], self.prompts["slug"]))
        name = dict(zip(self.models["id"], self.models["name"]))
        Ps, Ws, Ts, prompts, members, labels = [], [], [], [], [], []
        for prompt, group in self.pairs.groupby("prompt", sort=True):
            counts = {(a, b): (wa, wb, t) for a, b, wa, wb, t in
                      group[["model_a", "model_b", "wins_a", "wins_b", "ties"]].itertuples(index=False)}
            for clique in _cliques(counts, k):
                W = np.zeros((k, k), dtype=np.int64)
                T = np.zeros((k, k), dtype=np.int64)
                for (i, a), (j, b) in itertools.combinations(enumerate(clique), 2):
                    W[i, j], W[j, i], T[i, j] = counts[(a, b)]
                    T[j, i] = T[i, j]
                Ps.append(preferences.from_counts(W, T))
                Ws.append(W)
                Ts.append(T)
                prompts.append(prompt)
                members.append(clique)
                labels.append(f"{slug.get(prompt, prompt)}: " + ", ".join(str(name.get(m, m)) for m in clique))
        empty = np.zeros((0, k, k))
        return Subtournaments(
            k=k, P=np.array(Ps) if Ps else empty, wins=np.array(Ws) if Ws else empty.astype(np.int64),
            ties=np.array(Ts) if Ts else empty.astype(np.int64), prompt=np.array(prompts, dtype=np.int64),
            models=np.array(members, dtype=np.int64).reshape(-1, k), labels=labels,
        )


def _cliques(pairs: dict[tuple[int, int], object], k: int) -> list[tuple[int, ...]]:
    """All ``k``-cliques of the graph whose edges are the keys ``(a, b)``, ``a < b``, as sorted tuples."""
    neighbours: dict[int, set[int]] = {}
    for a, b in pairs:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    found: list[tuple[int, ...]] = []

    def extend(clique: tuple[int, ...], candidates: set[int]) -> None:
        if len(clique) == k:
            found.append(clique)
            return
        for v in sorted(candidates):
            extend(clique + (v,), {u for u in candidates & neighbours[v] if u > v})

    for v in sorted(neighbours):
        extend((v,), {u for u in neighbours[v] if u > v})
    return found


def llmfao(judge: str = "crowd", votes: str | os.PathLike | pd.DataFrame | None = None) -> LLMFAO:
    """Load one judge's LLMFAO votes (``judge`` in :data:`JUDGES`: ``"crowd"``, ``"gpt4"``, ``"gpt3"``).

    ``votes``: ``None`` (the shipped file of that judge), a path to a CSV, or a DataFrame with
    columns ``prompt, model_x, model_y, winner``. Every vote is kept; a malformed one (unknown
    ``winner``, non-integer id, a response compared with itself) raises ``ValueError`` naming the row.
    """
    validation.choice(judge, "judge", list(JUDGES))
    if votes is None:
        with source_file("llmfao", JUDGES[judge]).open("r", encoding="utf-8") as fh:
            frame = _read_csv(fh, JUDGES[judge])
    elif isinstance(votes, pd.DataFrame):
        frame = votes.copy()
        frame.attrs = {}
    else:
        validation.path(votes, "votes")
        if not os.path.isfile(votes):
            raise FileNotFoundError(f"votes: no such file {os.fspath(votes)!r}")
        frame = _read_csv(votes, f"votes file {os.fspath(votes)!r}")
    prompts = _read_jsonl("prompts.jsonl", ["id", "slug", "text", "type"])
    models = _read_jsonl("models.jsonl", ["id", "name", "org"])
    clean = _validate_votes(frame, set(prompts["id"]), set(models["id"]))
    if votes is None and len(clean) != SHIPPED_VOTES[judge]:
        raise ValueError(f"{JUDGES[judge]} does not match its provenance: {len(clean)} votes, expected "
                         f"{SHIPPED_VOTES[judge]} (PROVENANCE.md)")
    return LLMFAO(judge=judge, votes=clean, pairs=_pair_counts(clean), prompts=prompts, models=models)


def position_only_cyclic_share(tie_share: float) -> float:
    """Share of cyclic triangles from a judge that ignores the answers: ``(1 − p_T)³ / 4``.

    The judge declares a tie with probability ``p_T = tie_share`` and otherwise picks a side by
    position alone; which answer is shown on the left is a fair coin, independently per pair. Then
    each pair is decided either way with probability ``(1 − p_T)/2``, and a triangle is cyclic iff
    its three pairs are decided and point round one of the two cycles: ``2 ((1 − p_T)/2)³``.
    """
    p = validation.scalar(tie_share, "tie_share", validation.unit_interval)
    return (1.0 - p) ** 3 / 4.0
