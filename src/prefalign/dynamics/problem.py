"""The validated parameters of an MRS-IPO / MRS-DPO batch: ``P``, α, β, λ, ``π_ref``, ``π_0``, not yet broadcast."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from prefalign import preferences, validation

Method = Literal["ipo", "dpo"]


@dataclass(frozen=True)
class Problem:
    """Validated MRS-IPO parameters, not yet broadcast. ``shape`` is the batch shape."""

    P: np.ndarray  # (..., K, K)
    alpha: np.ndarray  # (...)
    beta: np.ndarray  # (...)
    lam: np.ndarray  # (...)
    log_ref: np.ndarray  # (..., K)
    pi0: np.ndarray  # (..., K)
    shape: tuple[int, ...]

    @property
    def K(self) -> int:
        return self.P.shape[-1]


def validate(P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None,
             pi0: ArrayLike | None, *extra: tuple[int, ...]) -> Problem:
    Q = preferences.validate(P)
    K = Q.shape[-1]
    a = validation.unit_interval(alpha, "alpha")
    b = validation.positive(beta, "beta")
    lm = validation.unit_interval(lam, "lam")
    if ref is None:
        log_ref = np.full(K, -np.log(K))
    else:
        r = validation.probability_vector(ref, "ref", positive=True)
        validation.same_size(K, r, "ref")
        log_ref = np.log(r)
    if pi0 is None:
        p0 = np.full(K, 1.0 / K)
    else:
        p0 = validation.probability_vector(pi0, "pi0")
        validation.same_size(K, p0, "pi0")
    try:
        shape = np.broadcast_shapes(Q.shape[:-2], a.shape, b.shape, lm.shape, log_ref.shape[:-1], p0.shape[:-1], *extra)
    except ValueError:
        raise ValueError(
            "P (batch shape {}), alpha {}, beta {}, lam {}, ref (batch shape {}), pi0 (batch shape {}) and the initial "
            "policies {} must broadcast against each other".format(
                Q.shape[:-2], a.shape, b.shape, lm.shape, log_ref.shape[:-1], p0.shape[:-1], extra)
        ) from None
    offline_only = np.broadcast_to(lm == 0, shape) & np.broadcast_to((p0 <= 0).any(axis=-1), shape)
    if np.any(offline_only):
        bad = validation.fmt_index(np.unravel_index(np.argmax(offline_only), shape)) if shape else ""
        raise ValueError(
            f"pi0 must have full support where lam = 0 (the sampler is then pi0 alone and the optimum is "
            f"undetermined off its support); violated at batch index {bad or '[]'}"
        )
    return Problem(Q, a, b, lm, log_ref, p0, shape)
