"""MRS-IPO and MRS-DPO: alignment rounds whose policy feeds back into the next reference and sampler.

Round ``t`` trains IPO (or DPO) with the reference ``π_ref^(t) ∝ π_t^α π_ref^(1-α)`` (weight α on
the current policy) and the sampler ``μ_t = λ π_t + (1-λ) π_0`` (on-policy share λ, offline
sampler ``π_0``); the next policy is that round's population optimum. For IPO it is the closed
form of :func:`prefalign.ipo.log_optimum`, written here as an in-place batched round (the check
``lem-osc-round`` compares the two):

    log π_{t+1} = α log π_t + (1-α) log π_ref + β P μ_t - logsumexp(·).

For DPO (``method="dpo"``) the term ``β P μ_t`` becomes ``β x*(μ_t)``, the Bradley–Terry scores that
DPO fits to the μ_t-weighted comparisons (:func:`prefalign.dpo.fit_scores`, one Newton solve per
round, started from the previous round's scores or from IPO's scores at 4β with a cubic
correction, whichever is closer).

Conventions. β is the strength of the preference signal relative to the KL anchor (the
package's one meaning; DPO's ``β_TRL`` is ``1/β``). α ∈ [0, 1], λ ∈ [0, 1], β > 0. ``π_ref`` lies in
the interior of the simplex; ``π_0`` is any distribution (it must have full support where λ = 0,
or the optimum is not determined). Policies are carried as **log-probabilities** (shape
``(..., K)``): entries far below 1e-300 stay exact and finite, so collapsed policies never produce
NaN, ``-inf`` or warnings.

The engine. :func:`simulate` runs a whole batch of trajectories at once: ``P`` may be a batch
``(..., K, K)`` and ``alpha``, ``beta``, ``lam`` arrays; all broadcast against each other. One
round is one function of the state and the parameters (``_IpoRound``, ``_DpoRound``); the loop
(``_iterate``) does not know which alignment method produced the round. Internally the state is
stored response-first (``(K, n)``) and updated in place, so that an IPO round costs a few dozen
vector operations whatever the batch.

Linearisation. In logit space the IPO round has the Jacobian ``J = αI + βλ A C(π)`` with
``A = P - ½11ᵀ`` and ``C(π) = diag(π) - ππᵀ``; the DPO round has ``J = αI + λ X(μ) C(π)`` with
``X = ∂r*/∂μ`` (:func:`prefalign.dpo.reward_derivative`). In both, ``J1 = α1``: constant shifts of
the logits do not change the policy, so the dynamics live on the quotient by ``1``; its spectrum is
that of ``QᵀJQ`` for an orthonormal basis ``Q`` of ``1^⊥`` (:func:`quotient_jacobian`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import logsumexp

from prefalign import dpo, preferences, simplex, validation

Record = Literal["all", "last"] | int
Method = Literal["ipo", "dpo"]

_EXP_ZERO = -745.2
"""``exp(x)`` rounds to 0.0 in float64 for every ``x <= _EXP_ZERO`` (libm is very slow there)."""

_CHUNK_ENTRIES = 2**18
"""Trajectories are advanced in chunks of about this many state entries (chunk x K)."""


# --------------------------------------------------------------------------- problem set-up


@dataclass(frozen=True)
class _Problem:
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


def _problem(P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None,
             pi0: ArrayLike | None, *extra: tuple[int, ...]) -> _Problem:
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
    return _Problem(Q, a, b, lm, log_ref, p0, shape)


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

    def __init__(self, prob: _Problem, index: tuple[np.ndarray, ...] | None, n: int):
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

    def __init__(self, prob: _Problem, index: tuple[np.ndarray, ...] | None, n: int):
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
    prob = _problem(P, alpha, beta, lam, ref, pi0, *extra)
    if log_init is None:
        if np.any(prob.pi0 <= 0):
            raise ValueError("init defaults to pi0, which has zero entries; pass an interior init")
        log_init = np.log(prob.pi0)
    validation.same_size(prob.K, log_init, "init")
    return _simulate(prob, log_init, steps, record, burn_in, _round_class(method, prob))


def _round_class(method: Method, prob: _Problem) -> type[_Round]:
    """The round of ``method`` (validated); for DPO, after checking that every P has a finite optimum."""
    if method == "ipo":
        return _IpoRound
    if method == "dpo":
        dpo.check_optimum_exists(prob.P)
        return _DpoRound
    raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")


def _simulate(prob: _Problem, log_init: np.ndarray, steps: int, record: Record, burn_in: int | None,
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
    prob = _problem(P, alpha, beta, lam, ref, pi0, lp.shape[:-1])
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


# --------------------------------------------------------------------------- fixed points


def kappa(alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike) -> np.ndarray:
    """``κ = βλ/(1-α)``, the one parameter that fixes the fixed point when λ = 1 (α < 1)."""
    a = validation.unit_interval(alpha, "alpha")
    if np.any(a >= 1):
        raise ValueError("alpha must be < 1 for kappa = beta * lam / (1 - alpha), got 1")
    return validation.positive(beta, "beta") * validation.unit_interval(lam, "lam") / (1.0 - a)


def fixed_point(P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, ref: ArrayLike | None = None,
                pi0: ArrayLike | None = None, init: ArrayLike | None = None, tol: float = 1e-12,
                max_iter: int = 40) -> np.ndarray:
    """The fixed point ``log π*`` of the MRS-IPO map for α < 1, solved (not iterated), batched.

    A fixed point solves ``log π = log π_ref + γ P (λπ + (1-λ)π_0) + c`` with ``γ = β/(1-α)``,
    i.e. ``z = b + κ P softmax(z)`` with ``κ = βλ/(1-α)`` and ``b = log π_ref + γ(1-λ) P π_0``.
    It is **unique** for every P, α < 1, β > 0, λ ∈ [0, 1], interior ``π_ref`` and any ``π_0``:
    ``(π*, π*)`` is the saddle point of the strictly concave-convex game
    ``xᵀAy - KL(x‖ρ)/κ + KL(y‖ρ)/κ`` with ``ρ ∝ e^b`` (proof in the oscillation chapter). At
    λ = 1 it depends on (α, β, λ) only through κ; at α = 0, λ = 1 it is the self-consistent
    on-policy optimum ``π = softmax(log π_ref + β P π)``.

    Method: damped Newton on ``F(z) = z - b - κ P softmax(z)``. Its Jacobian ``I - κ A C(π)`` is
    never singular (``A C`` has purely imaginary eigenvalues); each step is halved until ``‖F‖²``
    decreases (Armijo). The region where Newton converges fast shrinks like 1/γ, so the solution
    is followed by continuation in the scale ``s`` of γ (``b`` and κ scale with it) from ``s = 0``
    (where ``z = log π_ref``) to ``s = 1``, doubling ``s`` while Newton succeeds and retrying
    smaller increases where it fails. Newton stops when a full step changes the logits by at most
    ``tol · (1 + max|z|)`` (the step estimates the remaining error), or by at most 1000 times that
    once the steps stop shrinking (rounding noise, reached for κ ≳ 1e3). ``RuntimeError`` names the
    batch entry where even 0.1% increases of ``s`` fail within ``max_iter`` Newton steps.

    With ``init`` (log-probabilities ``(..., K)``), Newton starts there at full scale instead of
    following the continuation, and ``RuntimeError`` is raised where it does not converge: solving
    from several starts is how the book checks uniqueness numerically.

    Returns ``(..., K)`` log-probabilities. α = 1 is refused: a fixed point would need ``P μ``
    constant, which most P do not allow.
    """
    extra = () if init is None else (validation.log_probability_vector(init, "init").shape[:-1],)
    prob = _problem(P, alpha, beta, lam, ref, pi0, *extra)
    if np.any(prob.alpha >= 1):
        raise ValueError("alpha must be < 1 for fixed_point (at alpha = 1 a fixed point needs P mu constant, "
                         "which most P do not allow); got alpha = 1")
    tol = float(validation.positive(tol, "tol"))
    max_iter = validation.count(max_iter, "max_iter")
    shape, K = prob.shape, prob.K
    gamma = np.broadcast_to(prob.beta / (1.0 - prob.alpha), shape)
    kap = np.broadcast_to(gamma * prob.lam, shape)
    Pb = np.broadcast_to(prob.P, shape + (K, K))
    log_ref = np.broadcast_to(prob.log_ref, shape + (K,))
    offline = np.broadcast_to(((1.0 - prob.lam) * gamma)[..., None] * np.einsum("...ij,...j->...i", prob.P, prob.pi0),
                              shape + (K,))
    if init is not None:
        start = np.broadcast_to(np.asarray(init, dtype=float), shape + (K,))
        z, ok = _newton(start.copy(), log_ref + offline, kap, Pb, tol, max_iter)
        if not np.all(ok):
            worst = np.unravel_index(np.argmin(ok), shape) if shape else ()
            raise RuntimeError(f"fixed_point did not converge from init at batch index {validation.fmt_index(worst)} "
                               f"within {max_iter} Newton steps; omit init to use continuation")
        return z - logsumexp(z, axis=-1, keepdims=True)
    z = log_ref.copy()
    current = np.zeros(shape)
    first = np.minimum(1.0, 1.0 / gamma)  # the first increase of s: one unit of γ
    ratio = np.full(shape, 2.0)
    while np.any(current < 1.0):
        active = current < 1.0
        trial = np.where(current == 0.0, first, np.minimum(1.0, current * ratio))
        trial = np.where(active, trial, current)
        guess = log_ref + trial[..., None] * (offline + kap[..., None] * np.einsum("...ij,...j->...i", Pb, _softmax(z)))
        z_new, ok = _newton(np.where(active[..., None], guess, z), log_ref + trial[..., None] * offline, trial * kap,
                            Pb, tol, max_iter)
        accept = active & ok
        failed = active & ~ok
        z = np.where(accept[..., None], z_new, z)
        current = np.where(accept, trial, current)
        first = np.where(failed & (current == 0.0), 0.5 * first, first)
        ratio = np.where(failed & (current > 0.0), np.sqrt(ratio), np.where(accept, np.minimum(2.0, ratio**2), ratio))
        stuck = failed & ((ratio < 1.0 + 1e-3) | (first < 1e-3 / np.maximum(gamma, 1.0)))
        if np.any(stuck):
            worst = np.unravel_index(np.argmax(stuck), shape) if shape else ()
            raise RuntimeError(
                f"fixed_point did not converge: Newton fails at batch index {validation.fmt_index(worst)} "
                f"(kappa = {float(kap[worst]):.4g}) even with continuation steps of 0.1%; raise max_iter or tol"
            )
    return z - logsumexp(z, axis=-1, keepdims=True)


def _softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(z - logsumexp(z, axis=-1, keepdims=True))


_ROUNDING_FLOOR = 1e3
"""Newton may stop at ``_ROUNDING_FLOOR · tol`` when its steps no longer shrink (rounding noise)."""


def _newton(z: np.ndarray, b: np.ndarray, kap: np.ndarray, P: np.ndarray, tol: float,
            max_iter: int) -> tuple[np.ndarray, np.ndarray]:
    """Damped Newton on ``F(z) = z - b - κ P softmax(z)`` for a batch.

    Stops an entry when its relative Newton step (an estimate of the error in the logits) is at
    most ``tol``, or stagnates below ``_ROUNDING_FLOOR · tol``. Returns the logits and the mask of
    entries that stopped within ``max_iter`` steps.
    """
    shape = z.shape[:-1]
    eye = np.eye(z.shape[-1])

    def residual(x: np.ndarray) -> np.ndarray:
        return x - b - kap[..., None] * np.einsum("...ij,...j->...i", P, _softmax(x))

    F = residual(z)
    todo = np.ones(shape, dtype=bool)
    previous = np.full(shape, np.inf)
    for _ in range(max_iter):
        J = eye - kap[..., None, None] * (P - 0.5) @ _covariance(_softmax(z))
        step = -np.linalg.solve(J, F[..., None])[..., 0]
        size = np.abs(step).max(axis=-1) / (1.0 + np.abs(z).max(axis=-1))
        final = todo & ((size <= tol) | ((size <= _ROUNDING_FLOOR * tol) & (size > 0.5 * previous)))
        previous = size
        z = np.where(final[..., None], z + step, z)
        todo &= ~final
        if not np.any(todo):
            break
        merit = (F**2).sum(axis=-1)
        t = np.ones(shape)
        for _ in range(60):
            trial = z + t[..., None] * step
            F_trial = residual(trial)
            ok = ~todo | ((F_trial**2).sum(axis=-1) <= (1.0 - 1e-4 * t) * merit) | (t < 1e-15)
            if np.all(ok):
                break
            t = np.where(ok, t, 0.5 * t)
        z = np.where(todo[..., None], trial, z)
        F = residual(z)
    return z, ~todo


# --------------------------------------------------------------------------- linearisation


def _covariance(pi: np.ndarray) -> np.ndarray:
    """``C(π) = diag(π) - ππᵀ``, shape ``(..., K, K)``."""
    return pi[..., :, None] * np.eye(pi.shape[-1]) - pi[..., :, None] * pi[..., None, :]


def perp_basis(K: int) -> np.ndarray:
    """An orthonormal basis of ``1^⊥ ⊂ R^K`` as the columns of a ``(K, K-1)`` matrix (fixed, deterministic)."""
    K = validation.count(K, "K", minimum=2)
    q, _ = np.linalg.qr(np.eye(K)[:, : K - 1] - 1.0 / K)
    return q


def jacobian(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
             method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """The derivative of the round's logits ``z_{t+1}`` with respect to ``log π_t``, shape ``(..., K, K)``.

    IPO: ``J = αI + βλ A C(π)`` with ``A = P - ½11ᵀ``, ``C(π) = diag(π) - ππᵀ``; only ``π``, P, α,
    βλ enter (the reference and the offline sampler shift the logits by constants of the state).
    DPO: ``J = αI + λ X(μ) C(π)`` with ``μ = λπ + (1-λ)π_0`` (``pi0``: ``None`` = uniform) and
    ``X = ∂r*/∂μ`` (:func:`prefalign.dpo.reward_derivative`); μ must have full support and P a
    finite DPO optimum. Everything broadcasts; ``J1 = α1``.
    """
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    K = A.shape[-1]
    validation.same_size(K, lp, "log_pi")
    a = validation.unit_interval(alpha, "alpha")
    b = validation.positive(beta, "beta")
    lm = validation.unit_interval(lam, "lam")
    pi = np.exp(lp)
    C = _covariance(pi)
    if method == "ipo":
        return a[..., None, None] * np.eye(K) + (b * lm)[..., None, None] * (A @ C)
    if method != "dpo":
        raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")
    p0 = np.full(K, 1.0 / K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    validation.same_size(K, p0, "pi0")
    mu = lm[..., None] * pi + (1.0 - lm[..., None]) * p0
    X = dpo.reward_derivative(A + 0.5, mu / mu.sum(axis=-1, keepdims=True), b)
    return a[..., None, None] * np.eye(K) + lm[..., None, None] * (X @ C)


def quotient_jacobian(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                      method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """``QᵀJQ`` (shape ``(..., K-1, K-1)``): the Jacobian on logits modulo constants, in the basis
    :func:`perp_basis`. Because ``J1 = α1``, the spectrum of ``J`` is ``{α}`` plus this one's."""
    J = jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, method=method, pi0=pi0)
    Q = perp_basis(J.shape[-1])
    return Q.T @ J @ Q


def spectral_radius(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                    method: Method = "ipo", pi0: ArrayLike | None = None) -> np.ndarray:
    """Largest modulus of the eigenvalues of :func:`quotient_jacobian` (shape ``(...)``).

    At a fixed point, ``< 1`` means locally asymptotically stable, ``> 1`` unstable.
    """
    Qj = quotient_jacobian(log_pi, P, alpha=alpha, beta=beta, lam=lam, method=method, pi0=pi0)
    return np.abs(np.linalg.eigvals(Qj)).max(axis=-1)


def skew_spectrum(log_pi: ArrayLike, P: ArrayLike) -> np.ndarray:
    """The real ``θ`` (shape ``(..., K)``, decreasing) with ``iθ`` the eigenvalues of the skew-symmetric
    matrix ``C^{1/2} A C^{1/2}``; they come in pairs ``±ω`` plus zeros. The eigenvalues of
    :func:`jacobian` are ``α + iβλθ`` (the theorem of the oscillation chapter); this function
    computes ``θ`` independently, as the eigenvalues of the Hermitian matrix ``-i C^{1/2} A C^{1/2}``."""
    lp = validation.log_probability_vector(log_pi, "log_pi")
    A = preferences.skew(P)
    validation.same_size(A.shape[-1], lp, "log_pi")
    w, V = np.linalg.eigh(_covariance(np.exp(lp)))
    # C is positive semi-definite; eigh may return -1e-17 for its zero eigenvalue.
    root = (V * np.sqrt(np.maximum(w, 0.0))[..., None, :]) @ np.swapaxes(V, -1, -2)
    return np.linalg.eigvalsh(-1j * (root @ A @ root))[..., ::-1]


# --------------------------------------------------------------------------- criteria


def _cycle_a(a: ArrayLike) -> np.ndarray:
    arr = validation.finite_array(a, "a")
    if np.any((arr < 0) | (arr > 0.5)):
        raise ValueError(f"a must lie in [0, 0.5], got {arr.flat[np.argmax((arr < 0) | (arr > 0.5))]:g}")
    return arr


def _uniform_signal(beta: ArrayLike, lam: ArrayLike, method: Method) -> np.ndarray:
    """The signal that the round's derivative at uniform on ``P_a`` multiplies ``A/3`` by: ``βλ`` for
    IPO, ``4βλ`` for DPO (:func:`prefalign.dpo.linearised_ipo_beta`)."""
    lm = validation.unit_interval(lam, "lam")
    if method == "ipo":
        return validation.positive(beta, "beta") * lm
    if method == "dpo":
        return dpo.linearised_ipo_beta(beta) * lm
    raise ValueError(f"method must be 'ipo' or 'dpo', got {method!r}")


def oscillation_threshold(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                          method: Method = "ipo") -> np.ndarray:
    """``α² + a²β²λ²/3`` (IPO) or ``α² + 16a²β²λ²/3`` (DPO): the squared spectral radius of the round
    at the uniform fixed point of the 3-cycle ``P_a`` (uniform π_ref and π_0). Uniform is unstable
    iff this exceeds 1."""
    g = _uniform_signal(beta, lam, method)
    return validation.unit_interval(alpha, "alpha") ** 2 + _cycle_a(a) ** 2 * g**2 / 3.0


def uniform_spectral_radius(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                            method: Method = "ipo") -> np.ndarray:
    """``ρ = √(α² + a²β²λ²/3)`` (IPO) or ``√(α² + 16a²β²λ²/3)`` (DPO): the spectral radius of the round
    at the uniform fixed point of the 3-cycle ``P_a`` (the square root of :func:`oscillation_threshold`)."""
    return np.sqrt(oscillation_threshold(a, alpha, beta, lam, method))


def oscillation_boundary(a: ArrayLike, alpha: ArrayLike, method: Method = "ipo") -> np.ndarray:
    """The signal strength ``βλ`` at which :func:`oscillation_threshold` equals 1 on ``P_a`` (a > 0):
    ``√(3(1-α²))/a`` for IPO, a quarter of it for DPO. Uniform is stable below it, unstable above."""
    arr = _cycle_a(a)
    if np.any(arr <= 0):
        raise ValueError("a must be > 0 for a boundary (P_0 is all ties and never oscillates), got 0")
    return np.sqrt(3.0 * (1.0 - validation.unit_interval(alpha, "alpha") ** 2)) / (arr * _uniform_signal(1.0, 1.0, method))


def uniform_rotation_angle(a: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                           method: Method = "ipo") -> np.ndarray:
    """Rotation per round of the linearised map at uniform on ``P_a``: ``φ = arctan(gλa / (√3 α))`` in
    radians (``π/2`` at α = 0), ``g = β`` (IPO) or ``4β`` (DPO): the argument of the eigenvalue
    ``α + igλa/√3``."""
    g = _uniform_signal(beta, lam, method)
    return np.arctan2(g * _cycle_a(a) / np.sqrt(3.0), validation.unit_interval(alpha, "alpha"))


def contraction_bound(P: ArrayLike, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike) -> np.ndarray:
    """``α + (βλ/2) ‖P - ½11ᵀ‖₂``: a Lipschitz constant of the round on logits modulo constants
    (Euclidean norm). Below 1 the round is a contraction: unique interior fixed point, global
    convergence. Shape: the broadcast of P's batch shape and the parameters'."""
    norm = np.linalg.norm(preferences.skew(P), 2, axis=(-2, -1))
    g = validation.positive(beta, "beta") * validation.unit_interval(lam, "lam")
    return validation.unit_interval(alpha, "alpha") + 0.5 * g * norm


def collapse_bound(P: ArrayLike, top: int, strength: ArrayLike, base: ArrayLike | None = None) -> np.ndarray:
    """``Σ_{j ≠ top} (base_j / base_top) e^{-strength · δ_j}`` with ``δ`` = :func:`prefalign.preferences.dominance_margins`.

    An upper bound on ``1 - π_top`` for every policy with
    ``log(π_top/π_j) >= log(base_top/base_j) + strength · δ_j``: the MRS-IPO fixed point
    (``strength = β/(1-α)``, ``base = π_ref``) and the round-``t`` policy at α = 1
    (``strength = βt``, ``base`` = the starting policy), whatever the sampler. ``strength``
    (>= 0) may be an array; ``base`` (interior, default uniform) has shape ``(K,)``.
    """
    delta = preferences.dominance_margins(P, top)
    K = delta.shape[0]
    b = simplex.uniform(K) if base is None else validation.probability_vector(base, "base", positive=True)
    validation.same_size(K, b, "base")
    if b.ndim != 1:
        raise ValueError(f"base must be a single policy of shape (K,), got shape {b.shape}")
    s = validation.finite_array(strength, "strength")
    if np.any(s < 0):
        raise ValueError(f"strength must be >= 0, got {float(s.min()):g}")
    others = np.arange(K) != top
    return np.sum((b[others] / b[top]) * np.exp(-s[..., None] * delta[others]), axis=-1)


def entropy_monotone_ratio(K: int) -> float:
    """``ε_K = ½ min(1/e, 1/(K-1))``: once every ``π_j/π_top <= ε_K``, the entropy strictly increases
    in each ratio ``π_j/π_top`` (stability chapter), so shrinking all ratios strictly lowers it."""
    K = validation.count(K, "K", minimum=2)
    return 0.5 * min(np.exp(-1.0), 1.0 / (K - 1))


# --------------------------------------------------------------------------- metrics


def logit_distance(log_p: ArrayLike, log_q: ArrayLike) -> np.ndarray:
    """``‖Π(log p - log q)‖₂`` with ``Π = I - 11ᵀ/K``: the distance between policies in the norm of the
    contraction theorem (logits modulo constants). Finite for collapsed policies given as logs."""
    a = validation.finite_array(log_p, "log_p", ndim_min=1)
    b = validation.finite_array(log_q, "log_q", ndim_min=1)
    validation.same_size(a.shape[-1], b, "log_q", against="log_p")
    d = a - b
    d = d - d.mean(axis=-1, keepdims=True)
    return np.sqrt((d**2).sum(axis=-1))


def cycle_strength(pi: ArrayLike, burn_in: int = 0) -> np.ndarray:
    """Time-averaged variance of the policy coordinates after burn-in, averaged over coordinates.

    ``pi`` (..., T, K) is a trajectory of policies (rounds along axis -2). Returns
    ``(1/K) Σ_i Var_{t >= burn_in}(π_t,i)`` (population variance), shape ``(...)``. Zero for a
    trajectory that sits at a fixed point; positive for a persistent cycle.
    """
    p = validation.probability_vector(pi, "pi")
    if p.ndim < 2:
        raise ValueError(f"pi must be a trajectory of shape (..., T, K), got shape {p.shape}")
    burn_in = validation.count(burn_in, "burn_in", minimum=0)
    if burn_in >= p.shape[-2]:
        raise ValueError(f"burn_in must be < the number of rounds {p.shape[-2]}, got {burn_in}")
    return p[..., burn_in:, :].var(axis=-2).mean(axis=-1)


def rotation_angle(log_pi: ArrayLike, log_center: ArrayLike) -> np.ndarray:
    """Mean angle (radians) between successive deviations from a centre, in logits modulo constants.

    ``log_pi`` (..., T, K) is a trajectory of log-policies, ``log_center`` (..., K) the point it
    turns around (e.g. the fixed point). With ``d_t = Π(log π_t - log center)``, returns the mean
    over ``t`` of ``∠(d_t, d_{t+1})`` (Kahan's formula, accurate for small angles). For a linear
    map that is a scaled rotation, as at the uniform point of ``P_a``, this is the rotation per
    round; ``2π`` over it is the period in rounds (:func:`period`).
    """
    lp = validation.finite_array(log_pi, "log_pi", ndim_min=2)
    c = validation.finite_array(log_center, "log_center", ndim_min=1)
    validation.same_size(lp.shape[-1], c, "log_center", against="log_pi")
    if lp.shape[-2] < 2:
        raise ValueError(f"log_pi must hold at least 2 rounds, got shape {lp.shape}")
    d = lp - c[..., None, :]
    d = d - d.mean(axis=-1, keepdims=True)
    u, v = d[..., :-1, :], d[..., 1:, :]
    nu = np.sqrt((u**2).sum(axis=-1, keepdims=True))
    nv = np.sqrt((v**2).sum(axis=-1, keepdims=True))
    if np.any(nu == 0) or np.any(nv == 0):
        raise ValueError("log_pi must not pass exactly through log_center (the angle is undefined there)")
    a, b = u * nv, v * nu
    angle = 2.0 * np.arctan2(np.sqrt(((a - b) ** 2).sum(axis=-1)), np.sqrt(((a + b) ** 2).sum(axis=-1)))
    return angle.mean(axis=-1)


def period(angle: ArrayLike) -> np.ndarray:
    """Rounds per full turn, ``2π / angle``, for a rotation of ``angle`` radians per round (> 0)."""
    return 2.0 * np.pi / validation.positive(angle, "angle")

