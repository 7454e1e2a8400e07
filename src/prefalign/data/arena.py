"""Chatbot Arena (LMSYS), snapshot 2024-03-13: human votes between pairs of models, as preference matrices.

Source: ``chatbot_arena/arena_20240313_top22_pairwise.csv`` (see its ``PROVENANCE.md``), exact
counts ``wins_a, wins_b, ties, n_total`` for the 231 unordered pairs of 22 models; 7 pairs never met.

**What "top k" means here.** The models are ranked by their Bradley–Terry strength fitted by
maximum likelihood (:func:`prefalign.preferences.fit_bradley_terry`) to the *decisive* votes
(ties left out) of all 22 models, and the ``k`` strongest are kept. With ``k = 10`` the set has
exactly the counts the PROVENANCE file states for the top 10 (18,235 ties against 36,886 decisive
battles). Places 10 and 11 (mistral-medium and claude-1) are less than one Elo point apart, and
counting ties as half a win would swap them: the boundary of any "top 10" is a convention, not a
finding.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from prefalign import preferences, validation
from prefalign.data.resources import _read_csv, _where, source_file

PAIRS_FILE = "arena_20240313_top22_pairwise.csv"
COLUMNS = ("model_a", "model_b", "wins_a", "wins_b", "ties", "n_total")
SHIPPED_TOTALS = (22, 231, 7)
"""(models, pairs, pairs with ``n_total = 0``) of the shipped snapshot, from its PROVENANCE.md."""
MAX_COUNT = 2.0**53
"""Largest count accepted: integers above it are not exact in float64 (and overflow int64 near 9.2e18)."""


def arena_pairs(pairs: str | os.PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """The validated table of pair counts, one row per unordered pair of models.

    ``pairs``: ``None`` (the shipped CSV), a path to a CSV, or a DataFrame, with columns
    ``model_a, model_b, wins_a, wins_b, ties, n_total``. Checks, each with a ``ValueError`` naming
    the row: counts are non-negative whole numbers, ``wins_a + wins_b + ties = n_total``, the two
    models differ, and no unordered pair appears twice. Pairs with ``n_total = 0`` (never met) are
    kept. Returns a copy with integer count columns.
    """
    if pairs is None:
        with source_file("chatbot_arena", PAIRS_FILE).open("r", encoding="utf-8") as fh:
            frame = _read_csv(fh, PAIRS_FILE)
    elif isinstance(pairs, pd.DataFrame):
        frame = pairs.copy()
        frame.attrs = {}  # a table passed in is described by its rows, not by the file it may come from
    else:
        validation.path(pairs, "pairs")
        if not os.path.isfile(pairs):
            raise FileNotFoundError(f"pairs: no such file {os.fspath(pairs)!r}")
        frame = _read_csv(pairs, f"pairs file {os.fspath(pairs)!r}")
    name = "pairs"
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} must have the columns {list(COLUMNS)}; missing {missing}")
    if frame.empty:
        raise ValueError(f"{name} must have at least one row")
    for col in ("model_a", "model_b"):
        bad = [not isinstance(v, str) or not v or v != v.strip() for v in frame[col]]
        if any(bad):
            row = bad.index(True)
            raise ValueError(f"{name}[{col!r}] must be a non-empty model name without surrounding spaces; "
                             f"{_where(frame, row)} has {validation.fmt_value(frame[col].iloc[row])}")
    for col in COLUMNS[2:]:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values)) | (values > MAX_COUNT)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"{name}[{col!r}] must hold non-negative whole counts <= {MAX_COUNT:.0f}; "
                             f"{_where(frame, row)} has {validation.fmt_value(frame[col].iloc[row])}")
        frame[col] = values.astype(np.int64)
    total = frame["wins_a"] + frame["wins_b"] + frame["ties"]
    if (total != frame["n_total"]).any():
        row = int(np.argmax((total != frame["n_total"]).to_numpy()))
        raise ValueError(f"{name} must satisfy wins_a + wins_b + ties = n_total; {_where(frame, row)} has "
                         f"{total.iloc[row]} != {frame['n_total'].iloc[row]}")
    same = (frame["model_a"] == frame["model_b"]).to_numpy()
    if same.any():
        row = int(np.argmax(same))
        raise ValueError(f"{name} must compare two different models; {_where(frame, row)} has "
                         f"{validation.fmt_value(frame['model_a'].iloc[row])} twice")
    key = [tuple(sorted(p)) for p in zip(frame["model_a"], frame["model_b"])]
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        row = int(np.argmax(dup))
        raise ValueError(f"{name} must list each pair of models once; {_where(frame, row)} repeats {key[row]}")
    _require_complete(frame, name)
    if pairs is None:
        _require_provenance(frame)
    out = frame.reset_index(drop=True)
    out.attrs = {}
    return out


def _require_complete(frame: pd.DataFrame, name: str) -> None:
    """Every unordered pair of the table's models must have its row (``n_total = 0`` if they never
    met): a misspelt or truncated table then fails here instead of adding a model or losing pairs."""
    models = list(dict.fromkeys([*frame["model_a"], *frame["model_b"]]))
    seen = pd.concat([frame["model_a"], frame["model_b"]]).value_counts()
    short = [m for m in models if seen[m] != len(models) - 1]
    if short:
        m = min(short, key=lambda x: seen[x])
        row = int(np.argmax(((frame["model_a"] == m) | (frame["model_b"] == m)).to_numpy()))
        raise ValueError(
            f"{name} must list every pair of its {len(models)} models ({len(models) * (len(models) - 1) // 2} rows), "
            f"got {len(frame)}; model {m!r} (first at {_where(frame, row)}) is in {seen[m]} pair(s), not "
            f"{len(models) - 1}: a misspelt model name or a truncated file?")


def _require_provenance(frame: pd.DataFrame) -> None:
    """The shipped snapshot must match its PROVENANCE.md: 22 models, 231 pairs, 7 of them never met."""
    models = len(set(frame["model_a"]) | set(frame["model_b"]))
    never = int((frame["n_total"] == 0).sum())
    if (models, len(frame), never) != SHIPPED_TOTALS:
        raise ValueError(f"{PAIRS_FILE} does not match its provenance: (models, pairs, pairs never met) = "
                         f"{(models, len(frame), never)}, expected {SHIPPED_TOTALS}")


def _count_matrices(frame: pd.DataFrame, models: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``wins[i, j]`` (i beat j) and symmetric ``ties[i, j]`` among ``models``, in that order."""
    index = {m: i for i, m in enumerate(models)}
    K = len(models)
    wins = np.zeros((K, K), dtype=np.int64)
    ties = np.zeros((K, K), dtype=np.int64)
    for a, b, wa, wb, t in frame[["model_a", "model_b", "wins_a", "wins_b", "ties"]].itertuples(index=False):
        if a in index and b in index:
            i, j = index[a], index[b]
            wins[i, j], wins[j, i], ties[i, j], ties[j, i] = wa, wb, t, t
    return wins, ties


@dataclass(frozen=True)
class Arena:
    """The top models of the Arena with their counts and preference matrices (order: strongest first).

    ``P`` counts ties as half a win for each side (:func:`prefalign.preferences.from_counts`);
    ``P_no_ties`` leaves ties out (``P[i, j]`` = share of decisive votes won). ``wins[i, j]`` = votes
    for ``models[i]`` against ``models[j]``; ``ties`` is symmetric; ``battles = wins + wins.T + ties``.
    ``strength`` are the Bradley–Terry scores (natural-log units) used for the ranking, fitted on
    the decisive votes of all models in the table; ``ranking`` lists every model of the table,
    strongest first, with its score.
    """

    models: list[str]
    P: np.ndarray
    P_no_ties: np.ndarray
    wins: np.ndarray
    ties: np.ndarray
    strength: np.ndarray
    ranking: pd.DataFrame

    @property
    def battles(self) -> np.ndarray:
        return self.wins + self.wins.T + self.ties

    def votes_per_model(self) -> np.ndarray:
        """Votes each model took part in, against the other selected models, shape ``(K,)``."""
        return self.battles.sum(axis=1)

    def vote_sampler(self) -> np.ndarray:
        """The Arena's own sampler among these models: ``μ_i`` = share of the votes model i took part in.

        ``μ_i = v_i / Σ_j v_j`` with ``v`` = :meth:`votes_per_model` (each vote counts for both of its
        models, so ``Σ_j v_j`` is twice the number of votes). Full support, since the matrix is complete.
        """
        v = self.votes_per_model().astype(float)
        return v / v.sum()


def arena(top: int = 10, pairs: str | os.PathLike | pd.DataFrame | None = None) -> Arena:
    """The ``top`` strongest models of the Arena and their preference matrices (see the module docstring).

    ``pairs`` as in :func:`arena_pairs` (default: the shipped snapshot). Raises ``ValueError`` if
    ``top`` exceeds the number of models, or if two of the selected models never met (then
    ``P[i, j]`` is unknown; the message names the pair).
    """
    frame = arena_pairs(pairs)
    names = list(dict.fromkeys([*frame["model_a"], *frame["model_b"]]))
    top = validation.count(top, "top", minimum=2)
    if top > len(names):
        raise ValueError(f"top must be <= {len(names)} (the number of models in pairs), got {top}")
    wins_all, _ = _count_matrices(frame, names)
    scores = preferences.fit_bradley_terry(wins_all)
    order = np.argsort(-scores, kind="stable")
    ranking = pd.DataFrame({"model": [names[i] for i in order], "bt_score": scores[order]})
    ranking.index = pd.RangeIndex(1, len(names) + 1, name="rank")
    models = [names[i] for i in order[:top]]
    wins, ties = _count_matrices(frame, models)
    battles = wins + wins.T + ties
    never = np.argwhere(np.triu(battles == 0, k=1))
    if len(never):
        i, j = never[0]
        raise ValueError(f"top must select models that all met each other; {models[i]} and {models[j]} never met "
                         f"(top = {top})")
    decisive = wins + wins.T
    if np.any(np.triu(decisive == 0, k=1)):
        i, j = np.argwhere(np.triu(decisive == 0, k=1))[0]
        raise ValueError(f"P_no_ties is undefined: {models[i]} and {models[j]} only ever tied")
    return Arena(
        models=models, P=preferences.from_counts(wins, ties), P_no_ties=preferences.from_counts(wins),
        wins=wins, ties=ties, strength=scores[order[:top]], ranking=ranking,
    )
