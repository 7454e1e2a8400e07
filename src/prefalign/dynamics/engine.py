"""The batched engine: :func:`simulate` runs MRS-IPO or MRS-DPO rounds on a whole batch of
trajectories at once (see the package docstring of :mod:`prefalign.dynamics` for the map).

``P`` may be a batch ``(..., K, K)`` and ``alpha``, ``beta``, ``lam`` arrays; all broadcast against
each other. This module validates, flattens the batch (distinct parameter values plus an index per
trajectory, nothing copied per trajectory but α, β, λ) and assembles the :class:`Trajectory`; the
rounds and the loop over rounds are compiled (:mod:`prefalign._kernels.rounds`, whose comments document
the round/loop split and the arithmetic). Where the time goes, and how it compares with a minimal
compiled kernel, is measured by ``benchmarks/dynamics_grid.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from prefalign import _kernels, dpo, simplex, validation
from prefalign import problem as alignment_problem
from prefalign.dynamics.metrics import logit_distance
from prefalign.dynamics.problem import Method, Problem, validate

Record = Literal["all", "last"] | int

_CHUNK_ENTRIES = 2**12
"""Trajectories are advanced in blocks of about this many state entries (block x K), small enough
that a block's working arrays stay in the processor's cache through all its rounds."""

_DPO_CHUNK_ENTRIES = 2**9
"""The same for MRS-DPO, whose Newton solver keeps ``K x K`` arrays per trajectory of the block."""

_DPO_TOL = 1e-12
"""First-order residual to which every MRS-DPO round's Newton solve is taken."""


# --------------------------------------------------------------------------- the loop


@dataclass(frozen=True)
class Trajectory:
    """The result of :func:`simulate` for a batch of trajectories with batch shape ``(...)``.

    Attributes
    ----------
    log_pi : (..., n_recorded, K) the recorded log-policies ``log π_t`` for the rounds in ``t``.
    t : (n_recorded,) the recorded rounds (always ending with the last round, ``steps``).
    cycle_strength : (...) mean over responses of the variance over rounds ``burn_in..steps`` of
        ``π_t,i``, computed online (equal to :func:`cycle_strength` of the full trajectory).
    previous_log_pi : (..., K) the log-policy of round ``steps - 1``, the one before the last.
    burn_in : the first round counted in ``cycle_strength``.

    ``entropy`` and ``last_move`` are computed from the last two policies when first read.
    """

    log_pi: np.ndarray
    t: np.ndarray
    cycle_strength: np.ndarray
    previous_log_pi: np.ndarray
    burn_in: int

    @cached_property
    def entropy(self) -> np.ndarray:
        """(...) entropy of the last policy, in nats (:func:`prefalign.simplex.entropy_from_log`)."""
        return simplex.entropy_from_log(self.final_log_pi)

    @cached_property
    def last_move(self) -> np.ndarray:
        """(...) :func:`logit_distance` between the last two policies (0 at a fixed point)."""
        return logit_distance(self.final_log_pi, self.previous_log_pi)

    @property
    def pi(self) -> np.ndarray:
        """The recorded policies ``exp(log_pi)`` (entries below ~1e-308 become 0)."""
        return np.exp(self.log_pi)

    @property
    def final_log_pi(self) -> np.ndarray:
        """``log π_steps``, shape ``(..., K)``."""
        return self.log_pi[..., -1, :]


def _record_times(steps: int, record: Record) -> np.ndarray:
    if isinstance(record, str):
        if record == "all":
            return np.arange(steps + 1)
        if record == "last":
            return np.array([steps])
        raise ValueError(f"record must be 'all', 'last' or a positive integer k (every k-th round), got {record!r}")
    k = validation.count(record, "record")
    return np.unique(np.r_[np.arange(0, steps + 1, k), steps])


def simulate(P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None = None,
             pi0: ArrayLike | None = None, init: ArrayLike | None = None, steps: int, record: Record = "all",
             burn_in: int | None = None, method: Method = "ipo") -> Trajectory:
    """Run MRS-IPO (or MRS-DPO) for ``steps`` rounds on a whole batch of trajectories at once.

    Parameters
    ----------
    P : (..., K, K) preference matrix or batch of them.
    alpha, beta, lam : reference refresh α ∈ [0, 1], signal strength β > 0, on-policy share
        λ ∈ [0, 1]; scalars or arrays. ``P``'s batch shape, these, and the batch shapes of
        ``ref``, ``pi0``, ``init`` broadcast to the batch shape ``(...)`` of the result.
    ref : (..., K) fixed reference ``π_ref`` (interior); ``None`` = uniform.
    pi0 : (..., K) offline sampler ``π_0``; ``None`` = uniform.
    init : (..., K) the round-0 policy (interior); ``None`` = ``pi0`` (the offline sampler is the
        policy that generated the offline data).
    steps : number of rounds (>= 1).
    record : ``"all"`` (every round: output ``(..., steps+1, K)``), ``"last"`` (only round
        ``steps``) or an integer ``k`` (rounds ``0, k, 2k, ...`` and ``steps``). Memory is
        ``O(batch x recorded rounds x K)`` plus the summaries; nothing else grows with ``steps``.
    burn_in : first round counted in the online ``cycle_strength`` (default ``steps // 2``).
    method : ``"ipo"`` (closed-form rounds) or ``"dpo"`` (one Newton solve per round, to a
        first-order residual of 1e-12; every ``P`` must have a finite DPO optimum,
        :func:`prefalign.dpo.has_optimum`, else ``ValueError``; ``RuntimeError`` names the round
        where a solve fails).

    Returns a :class:`Trajectory`. Rounds are computed with the same arithmetic whatever the batch:
    a trajectory computed inside a batch equals, bit for bit, the same trajectory computed alone.
    """
    steps = validation.count(steps, "steps")
    if init is None:
        log_init = None
        extra: tuple[tuple[int, ...], ...] = ()
    else:
        p = validation.probability_vector(init, "init", positive=True)
        log_init = np.log(p)
        extra = (p.shape[:-1],)
    prob = validate(P, alpha, beta, lam, ref, pi0, *extra)
    if log_init is None:
        if np.any(prob.pi0 <= 0):
            raise ValueError("init defaults to pi0, which has zero entries; pass an interior init")
        log_init = np.log(prob.pi0)
    validation.same_size(prob.K, log_init, "init")
    return _simulate(prob, log_init, steps, record, burn_in, _kind(method, prob))


def _kind(method: Method, prob: Problem) -> int:
    """The compiled round of ``method`` (validated); for DPO, after checking that every P has a finite optimum."""
    method = validation.choice(method, "method", ("ipo", "dpo"))
    if method == "ipo":
        return _kernels.IPO
    if method == "dpo":
        dpo.check_optimum_exists(prob.P)
        return _kernels.DPO
    raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")


def _indexed(x: np.ndarray, core: int, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The distinct entries of ``x`` (batch axes, then ``core`` trailing axes) as ``(m,) + core shape``,
    and for each of the ``prod(shape)`` trajectories (``x``'s batch broadcast to ``shape``) the index of its entry."""
    core_shape = x.shape[x.ndim - core:]
    values = np.ascontiguousarray(x.reshape((-1,) + core_shape), dtype=float)
    if values.shape[0] == 1:  # one entry for the whole batch (the common case): no broadcasting needed
        return values, np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    index = np.broadcast_to(np.arange(values.shape[0]).reshape(x.shape[:x.ndim - core]), shape)
    return values, np.ascontiguousarray(index.reshape(-1), dtype=np.int64)


def _run(prob: Problem, log_init: np.ndarray, steps: int, times: np.ndarray, burn: int,
         kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every trajectory of ``prob`` from ``log_init`` through ``steps`` rounds of ``kind``: the recorded
    log-policies (n, len(times), K), the log-policies of round ``steps - 1`` (n, K) and the cycle
    strengths (n,). ``RuntimeError`` names the round and trajectory where a DPO solve fails."""
    K, shape = prob.K, prob.shape
    n = int(np.prod(shape, dtype=np.int64))

    def per_trajectory(x: np.ndarray) -> np.ndarray:
        if x.shape == shape:
            return np.ascontiguousarray(x, dtype=float).reshape(n)
        return np.array(np.broadcast_to(x, shape), dtype=float, order="C").reshape(n)

    out, previous, strength = np.empty((n, len(times), K)), np.empty((n, K)), np.empty(n)
    failure = _kernels.run(kind, *_indexed(prob.P, 2, shape), per_trajectory(prob.alpha), per_trajectory(prob.beta),
                          per_trajectory(prob.lam), *_indexed(prob.log_ref, 1, shape), *_indexed(prob.pi0, 1, shape),
                          *_indexed(log_init, 1, shape), steps, np.array(times, dtype=np.int64), burn,
                          max(1, (_CHUNK_ENTRIES if kind == _kernels.IPO else _DPO_CHUNK_ENTRIES) // K), _DPO_TOL, dpo.MAX_ITER, out, previous, strength)
    if failure[0]:
        t, index, code, residual = failure
        where = validation.fmt_index(np.unravel_index(index, shape)) if shape else "[]"
        why = f"did not converge in {dpo.MAX_ITER} steps" if code == -1 else "stalled (no step decreases the loss)"
        raise RuntimeError(f"MRS-DPO round {t}: DPO Newton {why}: max |FOC residual| = {residual:.3g} > "
                           f"tol = {_DPO_TOL:g} (batch index {where})")
    return out, previous, strength


def _simulate(prob: Problem, log_init: np.ndarray, steps: int, record: Record, burn_in: int | None,
              kind: int) -> Trajectory:
    burn = steps // 2 if burn_in is None else validation.count(burn_in, "burn_in", minimum=0)
    if burn > steps:
        raise ValueError(f"burn_in must be <= steps = {steps}, got {burn}")
    times = _record_times(steps, record)
    out, previous, strength = _run(prob, log_init, steps, times, burn, kind)
    shape, K = prob.shape, prob.K
    return Trajectory(out.reshape(shape + (len(times), K)), times, strength.reshape(shape), previous.reshape(shape + (K,)),
                      burn)


def _step(log_pi: ArrayLike, P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None,
          pi0: ArrayLike | None, method: Method) -> np.ndarray:
    lp = validation.log_probability_vector(log_pi, "log_pi")
    prob = validate(P, alpha, beta, lam, ref, pi0, lp.shape[:-1])
    validation.same_size(prob.K, lp, "log_pi")
    out, _, _ = _run(prob, lp, 1, np.array([1]), 1, _kind(method, prob))
    return out[:, 0, :].reshape(prob.shape + (prob.K,))


def round_inputs(log_pi: ArrayLike, *, alpha: ArrayLike, lam: ArrayLike, ref: ArrayLike | None = None,
                 pi0: ArrayLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The reference and sampler that one MRS round trains with, as probabilities ``(..., K)``.

    ``π_ref^(t) ∝ π_t^α π_ref^(1-α)`` (computed in log space) and ``μ_t = λ π_t + (1-λ) π_0``;
    the round's policy is the one-shot optimum (IPO or DPO) for these. This is the definition the
    batched engine implements in place; the checks compare the two.
    """
    lp = validation.log_probability_vector(log_pi, "log_pi")
    K = lp.shape[-1]
    a = validation.unit_interval(alpha, "alpha")[..., None]
    lm = validation.unit_interval(lam, "lam")[..., None]
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    validation.same_size(K, log_ref, "ref", against="log_pi")
    p0 = np.full(K, 1.0 / K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    validation.same_size(K, p0, "pi0", against="log_pi")
    z = a * lp + (1.0 - a) * log_ref
    reference = np.exp(z - logsumexp(z, axis=-1, keepdims=True))
    return reference, lm * np.exp(lp) + (1.0 - lm) * p0


def mrs_ipo_step(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                 ref: ArrayLike | None = None, pi0: ArrayLike | None = None) -> np.ndarray:
    """One MRS-IPO round: ``log π_{t+1}`` from ``log π_t``, in log space.

    ``log π_{t+1} = α log π_t + (1-α) log π_ref + β P (λ π_t + (1-λ) π_0) - logsumexp(·)``: the
    IPO optimum with reference ``∝ π_t^α π_ref^(1-α)`` and sampler ``λ π_t + (1-λ) π_0``.
    ``log_pi`` (..., K) holds log-probabilities; the other arguments are as in :func:`simulate`
    and broadcast the same way. Returns the next log-policies, shape ``(..., K)``.
    """
    return _step(log_pi, P, alpha, beta, lam, ref, pi0, "ipo")


def mrs_dpo_step(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                 ref: ArrayLike | None = None, pi0: ArrayLike | None = None) -> np.ndarray:
    """One MRS-DPO round: ``log π_{t+1}`` from ``log π_t``, in log space.

    ``log π_{t+1} = α log π_t + (1-α) log π_ref + β x*(λ π_t + (1-λ) π_0) - logsumexp(·)``, with
    ``x*(μ)`` DPO's fitted scores (:func:`prefalign.dpo.fit_scores`, from the IPO (4β) start): the
    DPO optimum with reference ``∝ π_t^α π_ref^(1-α)`` and sampler ``λ π_t + (1-λ) π_0``. Arguments
    and shapes as :func:`mrs_ipo_step`; errors as :func:`simulate` with ``method="dpo"``.
    """
    return _step(log_pi, P, alpha, beta, lam, ref, pi0, "dpo")


def dpo_bradley_terry(scores: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, steps: int | None = None,
                      ref: ArrayLike | None = None, init: ArrayLike | None = None) -> np.ndarray:
    """MRS-DPO on a Bradley–Terry matrix ``P = BT(s)`` in closed form, ``log π_t`` of shape ``(..., K)``.

    Every round's implicit reward is ``βs`` whatever the sampler (the DPO chapter), so the round is
    affine in the logits and ``log π_t = α^t log π_init + S_t ((1-α) log π_ref + βs) + c`` with
    ``S_t = Σ_{k<t} α^k`` (``= t`` at α = 1); λ and ``π_0`` play no role. ``steps=None`` gives the
    limit for α < 1, ``log π_∞ = log π_ref + βs/(1-α) + c``. ``scores`` ``(..., K)``, ``ref`` and
    ``init`` (interior; default uniform and ``ref``) broadcast with α and β.
    """
    s = validation.finite_array(scores, "scores", ndim_min=1)
    K = s.shape[-1]
    if K == 0:
        raise ValueError(f"scores must have at least one entry along the last axis, got shape {s.shape}")
    a = validation.unit_interval(alpha, "alpha")[..., None]
    b = validation.positive(beta, "beta")[..., None]
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    validation.same_size(K, log_ref, "ref", against="scores")
    alignment_problem.broadcast(("scores", s.shape[:-1]), ("alpha", a.shape[:-1]), ("beta", b.shape[:-1]), ("ref", log_ref.shape[:-1]),
                      *(() if init is None else (("init", np.shape(init)[:-1]),)))
    drive = (1.0 - a) * log_ref + b * s
    if steps is None:
        if np.any(a >= 1):
            raise ValueError("alpha must be < 1 for the limit (steps=None); at alpha = 1 the policy collapses")
        z = drive / (1.0 - a)
    else:
        t = validation.count(steps, "steps", minimum=0)
        log_init = log_ref if init is None else np.log(validation.probability_vector(init, "init", positive=True))
        validation.same_size(K, log_init, "init", against="scores")
        total = np.where(a == 1.0, float(t), (1.0 - a**t) / np.where(a == 1.0, 0.5, 1.0 - a))
        z = a**t * log_init + total * drive
    return z - logsumexp(z, axis=-1, keepdims=True)
