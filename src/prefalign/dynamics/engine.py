"""The batched engine: :func:`simulate` runs MRS-IPO or MRS-DPO rounds on a whole batch of
trajectories at once (see the package docstring of :mod:`prefalign.dynamics` for the map).

``P`` may be a batch ``(..., K, K)`` and ``alpha``, ``beta``, ``lam`` arrays; all broadcast against
each other. One round is one function of the state and the parameters (``_IpoRound``,
``_DpoRound``); the loop (``_iterate``) does not know which alignment method produced the round.
Internally the state is stored response-first (``(K, n)``) and updated in place, so that an IPO
round costs a few dozen vector operations whatever the batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from prefalign import dpo, simplex, validation
from prefalign.dynamics.metrics import logit_distance
from prefalign.dynamics.problem import Method, Problem, validate

Record = Literal["all", "last"] | int

_EXP_ZERO = -745.2
"""``exp(x)`` rounds to 0.0 in float64 for every ``x <= _EXP_ZERO`` (libm is very slow there)."""

_CHUNK_ENTRIES = 2**18
"""Trajectories are advanced in chunks of about this many state entries (chunk x K)."""



# --------------------------------------------------------------------------- one round


def _take(x: np.ndarray, core: int, shape: tuple[int, ...], index: tuple[np.ndarray, ...] | None) -> np.ndarray:
    """The entries of ``x`` (batch axes, then ``core`` trailing axes) at the flat batch positions
    ``index``, shape ``(n,) + core shape``; without a batch (``shape == ()``), ``x`` as one entry."""
    core_shape = x.shape[x.ndim - core:]
    if index is None:
        return x.reshape((1,) + core_shape)
    return np.broadcast_to(x, shape + core_shape)[index]


@dataclass
class _State:
    """A chunk of ``n`` policies, response-first: ``L`` (K, n) logits shifted so that their maximum
    is 0, ``pi`` (K, n) = softmax(L), ``total`` (n,) = Σ_k exp L_k (so ``log π = L - log total``)."""

    L: np.ndarray
    pi: np.ndarray
    total: np.ndarray

    @classmethod
    def empty(cls, K: int, n: int) -> "_State":
        return cls(np.empty((K, n)), np.empty((K, n)), np.empty(n))

    @classmethod
    def start(cls, log_pi: np.ndarray) -> "_State":
        """The state of the log-policies ``log_pi`` (K, n) (any additive constant per column)."""
        state = cls.empty(*log_pi.shape)
        np.subtract(log_pi, log_pi.max(axis=0), out=state.L)
        state.normalise(np.empty(log_pi.shape, dtype=bool))
        return state

    def normalise(self, nonzero: np.ndarray) -> None:
        """Set ``pi`` and ``total`` from ``L``; ``exp`` is skipped where it is exactly 0 anyway."""
        np.greater(self.L, _EXP_ZERO, out=nonzero)
        self.pi.fill(0.0)
        np.exp(self.L, out=self.pi, where=nonzero)
        _sum_rows(self.pi, self.total)
        self.pi /= self.total

    def log_pi(self) -> np.ndarray:
        """The normalised log-policies, shape ``(n, K)``."""
        return (self.L - np.log(self.total)).T


def _sum_rows(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``Σ_k x[k]`` into ``out`` by sequential row additions (the same order for every batch size)."""
    np.copyto(out, x[0])
    for k in range(1, x.shape[0]):
        out += x[k]
    return out


class _Round:
    """The parameters of one round for a chunk of ``n`` trajectories, response-first: α, β, λ per
    trajectory (or one float), ``(1-α) log π_ref`` and ``(1-λ) π_0`` as ``(K, n)``, and ``P``."""

    def __init__(self, prob: Problem, index: tuple[np.ndarray, ...] | None, n: int):
        K, shape = prob.K, prob.shape

        def per_trajectory(x: np.ndarray) -> float | np.ndarray:
            return float(x) if x.ndim == 0 else np.ascontiguousarray(_take(x, 0, shape, index))

        def per_response(x: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(_take(x, 1, shape, index).T, (K, n)))

        self.K = K
        self.alpha = per_trajectory(prob.alpha)
        self.beta = per_trajectory(prob.beta)
        self.lam = per_trajectory(prob.lam)
        self.anchor = per_response((1.0 - prob.alpha[..., None]) * prob.log_ref)
        self.offline = per_response((1.0 - prob.lam[..., None]) * prob.pi0)
        self.on_policy = isinstance(self.lam, float) and self.lam == 1.0
        if prob.P.ndim == 2:
            self.P = prob.P.tolist()
        else:
            self.P = np.ascontiguousarray(np.broadcast_to(_take(prob.P, 2, shape, index), (n, K, K)).transpose(1, 2, 0))
        self._mu = np.empty((K, n))
        self._tmp = np.empty(n)
        self._nonzero = np.empty((K, n), dtype=bool)

    def sampler(self, state: _State) -> np.ndarray:
        """``μ = λπ + (1-λ)π_0`` (K, n) for the state's policies."""
        if self.on_policy:
            return state.pi
        mu = np.multiply(self.lam, state.pi, out=self._mu)
        mu += self.offline
        return mu

    def finish(self, state: _State, out: _State, reward: np.ndarray) -> None:
        """``out.L = z - max z`` with ``z = α L + (1-α) log π_ref + reward``; then ``out.pi = softmax``."""
        K, z, tmp = self.K, out.L, self._tmp
        np.multiply(self.alpha, state.L, out=z)
        z += self.anchor
        z += reward
        np.copyto(tmp, z[0])
        for k in range(1, K):
            np.maximum(tmp, z[k], out=tmp)
        z -= tmp
        out.normalise(self._nonzero)


class _IpoRound(_Round):
    """One MRS-IPO round for a chunk of ``n`` trajectories, response-first, in place.

    From the state ``(L, π)`` it computes ``z = α L + (1-α) log π_ref + β P (λ π + (1-λ) π_0)``,
    then ``L' = z - max z`` and ``π' = softmax(L')``: IPO's closed form with reference
    ``∝ π^α π_ref^(1-α)`` and sampler ``λπ + (1-λ)π_0`` (logits only matter up to a constant).
    Every operation is elementwise across trajectories, so a trajectory's numbers do not depend
    on the batch it is computed in.
    """

    def __call__(self, state: _State, out: _State) -> None:
        K, s, tmp = self.K, out.pi, self._tmp  # out.pi holds β P μ until the normalisation
        mu = self.sampler(state)
        for i in range(K):
            np.multiply(self.P[i][0], mu[0], out=s[i])
            for j in range(1, K):
                np.multiply(self.P[i][j], mu[j], out=tmp)
                s[i] += tmp
        s *= self.beta
        self.finish(state, out, s)


class _DpoRound(_Round):
    """One MRS-DPO round for a chunk of ``n`` trajectories, response-first, in place.

    From the state ``(L, π)``: the sampler ``μ = λπ + (1-λ)π_0``, DPO's fitted scores ``x*(μ)``
    (:func:`prefalign.dpo.fit_scores`, started at the previous round's scores or at
    :func:`prefalign.dpo.start_scores`, whichever has the smaller residual), then
    ``z = α L + (1-α) log π_ref + β x*(μ)``, ``L' = z - max z``, ``π' = softmax(L')``: DPO's optimum
    with reference ``∝ π^α π_ref^(1-α)``. Each trajectory's Newton solve is independent of the
    others, so a trajectory's numbers do not depend on the batch it is computed in.
    """

    def __init__(self, prob: Problem, index: tuple[np.ndarray, ...] | None, n: int):
        super().__init__(prob, index, n)
        self.Prf = np.asarray(self.P, dtype=float)[:, :, None] if prob.P.ndim == 2 else self.P
        self.scores: np.ndarray | None = None
        self.rounds = 0

    def __call__(self, state: _State, out: _State) -> None:
        mu = self.sampler(state)
        self.rounds += 1
        if self.scores is None:
            start = dpo.start_scores(self.Prf, mu)
        else:
            P = self.Prf
            start = [self.scores, lambda idx: dpo.start_scores(P[:, :, idx] if P.shape[2] > 1 else P, mu[:, idx])]
        try:
            self.scores, _ = dpo.fit_scores(self.Prf, mu, start)
        except RuntimeError as error:
            raise RuntimeError(f"MRS-DPO round {self.rounds}: {error}") from None
        self.finish(state, out, self.beta * self.scores)


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
    entropy : (...) entropy of the last policy, in nats (:func:`prefalign.simplex.entropy_from_log`).
    last_move : (...) :func:`logit_distance` between the last two policies (0 at a fixed point).
    burn_in : the first round counted in ``cycle_strength``.
    """

    log_pi: np.ndarray
    t: np.ndarray
    cycle_strength: np.ndarray
    entropy: np.ndarray
    last_move: np.ndarray
    burn_in: int

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


def _iterate(round_: _Round, L0: np.ndarray, steps: int, times: np.ndarray, burn_in: int,
             out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Advance one chunk ``steps`` rounds from the log-policies ``L0`` (K, n).

    ``round_(state, out)`` is the only place where the alignment method enters. Writes the
    recorded log-policies into ``out`` (n, len(times), K) and returns the online summaries
    (cycle strength, final entropy, last move), each of shape ``(n,)``.
    """
    K, n = L0.shape
    state, spare = _State.start(L0), _State.empty(K, n)
    mean, m2, d, d2 = (np.zeros((K, n)) for _ in range(4))
    previous = np.empty((n, K))
    r = 0
    for t in range(steps + 1):
        if t > 0:
            round_(state, spare)
            state, spare = spare, state
        if t == times[r]:
            out[:, r, :] = state.log_pi()
            r += 1
        if t >= burn_in:  # Welford's running mean and sum of squared deviations of π_t
            np.subtract(state.pi, mean, out=d)
            np.multiply(d, 1.0 / (t - burn_in + 1), out=d2)
            mean += d2
            np.subtract(state.pi, mean, out=d2)
            d *= d2
            m2 += d
        if t == steps - 1:
            previous[:] = state.log_pi()
    final = out[:, -1, :]
    strength = m2.mean(axis=0) / (steps - burn_in + 1)
    return strength, simplex.entropy_from_log(final), logit_distance(final, previous)


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
    return _simulate(prob, log_init, steps, record, burn_in, _round_class(method, prob))


def _round_class(method: Method, prob: Problem) -> type[_Round]:
    """The round of ``method`` (validated); for DPO, after checking that every P has a finite optimum."""
    if method == "ipo":
        return _IpoRound
    if method == "dpo":
        dpo.check_optimum_exists(prob.P)
        return _DpoRound
    raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")


def _simulate(prob: Problem, log_init: np.ndarray, steps: int, record: Record, burn_in: int | None,
              round_class: type[_Round]) -> Trajectory:
    burn = steps // 2 if burn_in is None else validation.count(burn_in, "burn_in", minimum=0)
    if burn > steps:
        raise ValueError(f"burn_in must be <= steps = {steps}, got {burn}")
    times = _record_times(steps, record)
    K, shape = prob.K, prob.shape
    total = int(np.prod(shape, dtype=np.int64))
    chunk = max(1, _CHUNK_ENTRIES // K)
    out = np.empty((total, len(times), K))
    strength, entropy, move = np.empty(total), np.empty(total), np.empty(total)
    for c0 in range(0, total, chunk):
        c1 = min(total, c0 + chunk)
        index = np.unravel_index(np.arange(c0, c1), shape) if shape else None
        L0 = np.ascontiguousarray(np.broadcast_to(_take(log_init, 1, shape, index).T, (K, c1 - c0)))
        round_ = round_class(prob, index, c1 - c0)
        strength[c0:c1], entropy[c0:c1], move[c0:c1] = _iterate(round_, L0, steps, times, burn, out[c0:c1])
    return Trajectory(out.reshape(shape + (len(times), K)), times, strength.reshape(shape), entropy.reshape(shape),
                      move.reshape(shape), burn)


def _step(log_pi: ArrayLike, P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None,
          pi0: ArrayLike | None, method: Method) -> np.ndarray:
    lp = validation.log_probability_vector(log_pi, "log_pi")
    prob = validate(P, alpha, beta, lam, ref, pi0, lp.shape[:-1])
    validation.same_size(prob.K, lp, "log_pi")
    round_class = _round_class(method, prob)
    K, shape = prob.K, prob.shape
    n = int(np.prod(shape, dtype=np.int64))
    index = np.unravel_index(np.arange(n), shape) if shape else None
    state, out = _State.start(np.ascontiguousarray(np.broadcast_to(_take(lp, 1, shape, index).T, (K, n)))), _State.empty(K, n)
    round_class(prob, index, n)(state, out)
    return out.log_pi().reshape(shape + (K,))


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
    a = validation.unit_interval(alpha, "alpha")[..., None]
    b = validation.positive(beta, "beta")[..., None]
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    validation.same_size(K, log_ref, "ref", against="scores")
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
