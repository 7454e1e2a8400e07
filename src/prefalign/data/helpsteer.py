"""The paper's HelpSteer construction: K x K preference matrices from per-attribute scores of responses.

NVIDIA HelpSteer (v1) scores each response to a prompt on five attributes, integers 0–4
(:data:`ATTRIBUTES`). The paper (Chen, He, Jordan, Yao 2026, arXiv:2602.12180) builds, for each prompt,
a matrix over ``k = 4`` of its responses: for each pair ``{i, j}`` one attribute ``a`` is drawn
uniformly at random, and ``P[i, j] = σ(s_i,a − s_j,a)`` (a Bradley–Terry entry on that attribute,
:func:`prefalign.preferences.bradley_terry`). Different attributes for different pairs can close
majority cycles. Each matrix is then classified under two rules (:data:`prefalign.preferences.TIE_RULES`):
the book's strict rule (:func:`prefalign.preferences.structure`, where a tie ``P[i, j] = ½`` breaks strong
transitivity) and the paper's rule with ties allowed (:func:`prefalign.preferences.structure_under`).

HelpSteer itself is not shipped (and cannot be downloaded at build time): :func:`read_helpsteer`
reads the file a user obtained from the dataset's public page; :func:`synthetic_helpsteer`
generates scores of the same shape for the default run of the book. Synthetic results are not
HelpSteer results.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prefalign import preferences, validation
from prefalign.data.resources import SOURCE_ATTR, _read_csv, _read_jsonl_file, _where

ATTRIBUTES = ("helpfulness", "correctness", "coherence", "complexity", "verbosity")
COLUMNS = ("prompt", "response", *ATTRIBUTES)
SCORE_MIN, SCORE_MAX = 0, 4

PAPER_HELPSTEER_COUNTS = {"cyclic": 118, "strongly transitive": 4924}
"""The numbers of cyclic and strongly transitive K = 4 matrices the paper reports for HelpSteer
(Chen, He, Jordan, Yao 2026, arXiv:2602.12180; as given in the project's THEORY.md §7). These are
the paper's numbers, for reference only; nothing in this package reproduces them."""

SYNTHETIC_MEANS = (2.8, 2.8, 3.3, 1.5, 1.5)
"""Attribute means of :func:`synthetic_helpsteer` (our choice, HelpSteer-like, not fitted to HelpSteer)."""
SYNTHETIC_LOADINGS = (1.0, 1.0, 0.6, 0.4, 0.4)
"""How strongly each attribute follows the shared quality of a response (our choice)."""


def _generator(seed: int | np.random.Generator) -> np.random.Generator:
    return validation.generator(seed, "seed")


def read_helpsteer(path: str | os.PathLike) -> pd.DataFrame:
    """Read a HelpSteer (v1) split from ``path`` and validate it (:func:`validate_helpsteer`).

    Formats by suffix: ``.jsonl`` / ``.json`` (JSON lines, optionally ``.gz``, as published),
    ``.parquet`` (needs ``pyarrow``), ``.csv``. A missing file raises ``FileNotFoundError``; an
    unknown suffix or an unreadable file ``ValueError``.
    """
    p = validation.path(path, "path")
    if not p.is_file():
        raise FileNotFoundError(f"path: no HelpSteer file at {os.fspath(path)!r}")
    suffixes = [s.lower() for s in p.suffixes]
    if suffixes[-1:] == [".gz"]:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind not in (".jsonl", ".json", ".parquet", ".csv"):
        raise ValueError(f"path must end in .jsonl, .json, .parquet or .csv (optionally .gz), got {p.name!r}")
    label = f"path: could not read {p.name} as {kind[1:]}; {p.name}"
    if kind in (".jsonl", ".json"):
        frame = _read_jsonl_file(p, label)
    elif kind == ".csv":
        frame = _read_csv(p, label)
    else:
        try:
            frame = pd.read_parquet(p)
        except ImportError as exc:
            raise ImportError(f"reading {p.name} needs an optional library ({exc}); install pyarrow or convert the file to .jsonl") from None
        except Exception as exc:  # noqa: BLE001 (pyarrow's errors have no common base: report them all as unreadable)
            raise ValueError(f"{label} is not a readable parquet file ({type(exc).__name__}: {exc})") from None
    frame.attrs[SOURCE_ATTR] = p.name
    return validate_helpsteer(frame)


def validate_helpsteer(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a HelpSteer-format table and return a copy with integer scores.

    Required columns: :data:`COLUMNS` (extra columns are kept). Every score must be a whole number
    in 0–4 (no missing values, no booleans: ``true`` is not a score); ``prompt`` and ``response``
    must be non-missing text; a response appears once per prompt. Violations raise ``ValueError``
    naming the column, the row (for a file: the file and line) and the value.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame (data) must be a pandas DataFrame or a path, got {type(frame).__name__}")
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"data must have the HelpSteer columns {list(COLUMNS)}; missing {missing}")
    if frame.empty:
        raise ValueError("data must have at least one row")
    out = frame.reset_index(drop=True).copy()
    header = out.attrs.get(SOURCE_ATTR, "").endswith(".csv")
    for col in ("prompt", "response"):
        bad = [not isinstance(v, str) for v in out[col]]
        if any(bad):
            row = bad.index(True)
            raise ValueError(f"data[{col!r}] must be text (not missing); {_where(out, row, header=header)} has "
                             f"{validation.fmt_value(out[col].iloc[row])}")
    for col in ATTRIBUTES:
        is_bool = np.array([isinstance(v, (bool, np.bool_)) for v in out[col]], dtype=bool)
        values = pd.to_numeric(out[col].where(~is_bool, np.nan), errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < SCORE_MIN) | (values > SCORE_MAX)
        if bad.any():
            row = int(np.argmax(bad))
            raise ValueError(f"data[{col!r}] must hold whole scores in {SCORE_MIN}–{SCORE_MAX}; "
                             f"{_where(out, row, header=header)} has {validation.fmt_value(out[col].iloc[row])}")
        out[col] = values.astype(np.int64)
    dup = out.duplicated(["prompt", "response"]).to_numpy()
    if dup.any():
        row = int(np.argmax(dup))
        raise ValueError(f"data must list each response of a prompt once; {_where(out, row, header=header)} repeats "
                         f"a response to the prompt {out['prompt'].iloc[row][:60]!r}")
    out.attrs = {k: v for k, v in out.attrs.items() if k != SOURCE_ATTR}
    return out


def synthetic_helpsteer(n_prompts: int, seed: int | np.random.Generator, *, responses: int = 4) -> pd.DataFrame:
    """HelpSteer-like synthetic scores: ``n_prompts`` prompts with ``responses`` responses each.

    Score of attribute ``a`` of response ``r`` to prompt ``p`` (all draws independent standard
    normals ``Z``)::

        s = clip(round(m_a + ℓ_a (0.6 Z_p + 0.7 Z_pr) + 0.6 Z_pra), 0, 4)

    a per-prompt quality ``Z_p`` shared by all responses, a per-response quality ``Z_pr`` shared
    by its attributes (so attributes are correlated) and per-attribute noise ``Z_pra``; means
    :data:`SYNTHETIC_MEANS`, loadings :data:`SYNTHETIC_LOADINGS`. The constants are ours, chosen to
    look like HelpSteer's scores, not fitted to them. Returns a table with :data:`COLUMNS`
    (``prompt``/``response`` are placeholder texts) and ``attrs["synthetic"] = True``, which
    :func:`helpsteer_matrices` carries into its result.
    """
    n_prompts = validation.count(n_prompts, "n_prompts")
    responses = validation.count(responses, "responses")
    rng = _generator(seed)
    prompt_quality = 0.6 * rng.standard_normal((n_prompts, 1, 1))
    response_quality = 0.7 * rng.standard_normal((n_prompts, responses, 1))
    noise = 0.6 * rng.standard_normal((n_prompts, responses, len(ATTRIBUTES)))
    raw = np.asarray(SYNTHETIC_MEANS) + np.asarray(SYNTHETIC_LOADINGS) * (prompt_quality + response_quality) + noise
    scores = np.clip(np.round(raw), SCORE_MIN, SCORE_MAX).astype(np.int64).reshape(-1, len(ATTRIBUTES))
    p = np.repeat(np.arange(n_prompts), responses)
    r = np.tile(np.arange(responses), n_prompts)
    frame = pd.DataFrame({"prompt": [f"synthetic prompt {i}" for i in p],
                          "response": [f"synthetic response {j} to prompt {i}" for i, j in zip(p, r)]})
    for a, col in enumerate(ATTRIBUTES):
        frame[col] = scores[:, a]
    frame.attrs["synthetic"] = True
    return frame


def pair_matrices(scores: np.ndarray, attribute: np.ndarray) -> np.ndarray:
    """``P[n, i, j] = σ(scores[n, i, a] − scores[n, j, a])`` with ``a = attribute[n, i, j]``.

    ``scores``: ``(n, k, m)`` scores of ``k`` responses on ``m`` attributes; ``attribute``:
    ``(n, k, k)`` integer attribute index per pair, symmetric (the diagonal is ignored). Each entry
    is a Bradley–Terry entry (:func:`prefalign.preferences.bradley_terry`) on its own attribute.
    """
    s = validation.finite_array(scores, "scores", ndim_min=3)
    att = np.asarray(attribute)
    if att.shape != s.shape[:2] + (s.shape[1],) or not np.issubdtype(att.dtype, np.integer):
        raise ValueError(f"attribute must be an integer array of shape {s.shape[:2] + (s.shape[1],)}, got {att.dtype} {att.shape}")
    if att.min() < 0 or att.max() >= s.shape[-1]:
        raise ValueError(f"attribute must hold indices in [0, {s.shape[-1] - 1}], found {att.min()}..{att.max()}")
    if np.any(att != np.swapaxes(att, -1, -2)):
        raise ValueError("attribute must be symmetric: a pair is compared on one attribute in both directions")
    per_attribute = preferences.bradley_terry(np.moveaxis(s, -1, 1))  # (n, m, k, k)
    return np.take_along_axis(per_attribute, att[:, None, :, :], axis=1)[:, 0]


@dataclass(frozen=True)
class HelpSteerMatrices:
    """The matrices of the HelpSteer construction and an account of every row of the input.

    Arrays over the ``n`` matrices: ``P`` (``n, k, k``); ``scores`` (``n, k, 5``) the scores of
    the chosen responses; ``attribute`` (``n, k, k``) the index into :data:`ATTRIBUTES` drawn for
    each pair (``-1`` on the diagonal); ``rows`` (``n, k``) the input row of each response;
    ``prompt`` (``n``) the prompt text; ``structure`` (``n``) "cyclic" / "strongly transitive" /
    "neither". ``report``: rows read, prompts, prompts used, prompts skipped because they have fewer
    than ``k`` responses (and their rows), prompts with more than ``k`` responses (``k`` drawn at
    random; the other rows are counted as unused), ``synthetic``.
    """

    k: int
    P: np.ndarray
    scores: np.ndarray
    attribute: np.ndarray
    rows: np.ndarray
    prompt: np.ndarray
    structure: np.ndarray
    structure_ties: np.ndarray
    synthetic: bool
    report: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.P.shape[0])

    def _labels(self, rule: str) -> np.ndarray:
        validation.choice(rule, "rule", preferences.TIE_RULES)
        return self.structure if rule == "strict" else self.structure_ties

    def counts(self, rule: str = "strict") -> dict[str, int]:
        """Number of matrices in each class of :data:`prefalign.preferences.STRUCTURES` under ``rule``
        (``"strict"`` or ``"ties allowed"``)."""
        labels = self._labels(rule)
        return {s: int(np.sum(labels == s)) for s in preferences.STRUCTURES}

    def select(self, kind: str, rule: str = "strict") -> np.ndarray:
        """The matrices of one class (``"cyclic"``, ``"strongly transitive"`` or ``"neither"``) under
        ``rule`` (``"strict"`` or ``"ties allowed"``), ``(m, k, k)``."""
        validation.choice(kind, "kind", list(preferences.STRUCTURES))
        return self.P[self._labels(rule) == kind]


def helpsteer_matrices(data: str | os.PathLike | pd.DataFrame, k: int = 4, *,
                       seed: int | np.random.Generator) -> HelpSteerMatrices:
    """The paper's construction on HelpSteer-format data (a path, read with :func:`read_helpsteer`, or a table).

    Per prompt (in order of first appearance): prompts with fewer than ``k`` responses are skipped
    and counted; from prompts with more, ``k`` responses are drawn uniformly without replacement
    (kept in input order); with exactly ``k``, all are used. Per pair one attribute is drawn
    uniformly from the five; ``P`` by :func:`pair_matrices`. All draws come from one
    ``numpy.random.Generator`` built from ``seed`` (or ``seed`` itself if it is one). The result
    is labelled ``synthetic`` iff the table came from :func:`synthetic_helpsteer` (its
    ``attrs["synthetic"]``); a file read from ``data`` never is.
    """
    if not isinstance(data, pd.DataFrame) and not validation.path(data, "data").is_file():
        raise FileNotFoundError(f"data: no HelpSteer file at {os.fspath(data)!r}")
    frame = validate_helpsteer(data) if isinstance(data, pd.DataFrame) else read_helpsteer(data)
    synthetic = bool(isinstance(data, pd.DataFrame) and data.attrs.get("synthetic", False))
    k = validation.count(k, "k", minimum=2)
    rng = _generator(seed)
    groups = frame.groupby("prompt", sort=False).indices
    chosen, skipped_rows, skipped, larger, unused_rows = [], 0, 0, 0, 0
    for rows in groups.values():
        if len(rows) < k:
            skipped += 1
            skipped_rows += len(rows)
            continue
        if len(rows) > k:
            larger += 1
            unused_rows += len(rows) - k
            rows = np.sort(rng.choice(rows, size=k, replace=False))
        chosen.append(rows)
    rows = np.array(chosen, dtype=np.int64).reshape(-1, k)
    n = len(rows)
    scores = frame[list(ATTRIBUTES)].to_numpy(dtype=np.int64)[rows]  # (n, k, 5)
    iu = np.triu_indices(k, k=1)
    attribute = np.full((n, k, k), -1, dtype=np.int64)
    draws = rng.integers(0, len(ATTRIBUTES), size=(n, len(iu[0])))
    attribute[:, iu[0], iu[1]] = draws
    attribute[:, iu[1], iu[0]] = draws
    P = pair_matrices(scores.astype(float), np.where(attribute < 0, 0, attribute)) if n else np.zeros((0, k, k))
    structure = preferences.structure(P) if n else np.array([], dtype=str)
    structure_ties = preferences.structure_under(P, "ties allowed") if n else np.array([], dtype=str)
    prompts = frame["prompt"].to_numpy()[rows[:, 0]] if n else np.array([], dtype=object)
    report = {
        "rows": len(frame), "prompts": len(groups), "matrices": n,
        "skipped_prompts_fewer_than_k": skipped, "skipped_rows": skipped_rows,
        "prompts_with_more_than_k": larger, "unused_rows": unused_rows,
    }
    if report["rows"] != n * k + skipped_rows + unused_rows:
        raise AssertionError("row accounting failed: every input row must be used, skipped or unused")
    return HelpSteerMatrices(k=k, P=P, scores=scores, attribute=attribute, rows=rows, prompt=prompts,
                             structure=structure, structure_ties=structure_ties, synthetic=synthetic, report=report)
