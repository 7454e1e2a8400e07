"""Trained rounds with a tabular softmax policy per prompt: MRS rounds that take a few gradient steps.

The exact MRS round (:mod:`prefalign.dynamics`) jumps to the round's population optimum. A trained
round does what an implementation does. From the current logits ``θ_t`` (``π_t = softmax(θ_t)``):

1. reference ``log π_ref^(t) = α log π_t + (1-α) log π_ref`` (up to a constant) and sampler
   ``μ_t = λ π_t + (1-λ) π_0``;
2. data: ``pairs`` labelled pairs drawn from ``μ_t ⊗ μ_t`` and labelled by ``P``, summarised by their
   (winner, loser) shares ``W_t`` (:mod:`prefalign.trained.pairs`); ``pairs=None`` uses the expected
   shares ``W̄(μ_t)``, i.e. the population loss;
3. ``grad_steps`` gradient steps of size ``lr`` on the mean per-pair loss ``ℓ_t(θ - log π_ref^(t))``
   (:mod:`prefalign.trained.losses`, IPO or DPO), **starting from** ``θ_t``; each step uses all of
   ``W_t`` (``batch=None``: full-batch gradient descent) or a minibatch of ``batch`` pairs drawn
   with replacement from it (``N ~ Multinomial(batch, W_t)``, fresh for every step);
4. ``θ_{t+1}`` = the logits after the last step.

For IPO on the population loss the round is affine: ``θ_{t+1} = T(θ_t) + M_t (θ_t - T(θ_t))`` with
``T`` the exact round and ``M_t = (I - 4 lr C(μ_t))^grad_steps`` (the relaxation theorem of the
chapter "From population rounds to trained rounds"; :mod:`prefalign.relaxation`).

Everything is batched like :func:`prefalign.dynamics.simulate`: ``P`` (..., K, K), α, β, λ,
``lr``, ``ref``, ``pi0`` and ``init`` broadcast to one batch shape, and every operation of a round
is elementwise across the batch. Random draws come from the one ``numpy.random.Generator`` passed
in, in a fixed order, so the same inputs give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dynamics, preferences, simplex, validation
from prefalign.trained import losses, pairs as pair_data

def max_lr(loss: losses.Loss, beta: ArrayLike, sampled: bool) -> np.ndarray:
    """The largest step size for which gradient descent on a round's loss cannot expand, whatever the data.

    ``∇²ℓ`` is a Laplacian ``diag(V1) - V`` whose eigenvalues are at most twice its largest degree.
    IPO: ``f'' = 2`` and every degree of ``W + Wᵀ`` is at most 1, so ``∇²ℓ ≤ 4`` for any sample and
    ``∇²ℓ = 4C(μ) ≤ 2`` for the population (``‖C‖ ≤ ½``): steps contract for ``lr < 1/2``, resp.
    ``lr < 1``. DPO: ``f'' ≤ 1/(4β²)``, giving ``∇²ℓ ≤ 1/(2β²)`` and ``≤ 1/(4β²)``: ``lr < 4β²``, resp.
    ``8β²``. ``sampled`` says whether the round uses sampled pairs or minibatches.
    """
    b = validation.positive(beta, "beta")
    if losses.check_loss(loss) == "ipo":
        return np.broadcast_to(0.5 if validation.flag(sampled, "sampled") else 1.0, b.shape).astype(float)
    return (4.0 if validation.flag(sampled, "sampled") else 8.0) * b**2


@dataclass(frozen=True)
class _Batch:
    """Validated inputs for ``n`` trajectories, response-first: ``(n,)``, ``(K, n)``, ``(K, K, n)``
    (a trailing axis of length 1 where the input is the same for the whole batch)."""

    shape: tuple[int, ...]
    P: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    lam: np.ndarray
    lr: np.ndarray
    anchor: np.ndarray  # (1-α) log π_ref
    pi0: np.ndarray
    log_init: np.ndarray

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


def _first(x: np.ndarray, core: int, shape: tuple[int, ...]) -> np.ndarray:
    """``x`` (batch axes, then ``core`` axes) as ``core axes + (n,)``; ``(..., 1)`` if it has no batch axes."""
    core_shape = x.shape[x.ndim - core:]
    if x.ndim == core:
        return x.reshape(core_shape + (1,))
    full = np.broadcast_to(x, shape + core_shape).reshape((-1,) + core_shape)
    return np.ascontiguousarray(np.moveaxis(full, 0, -1))


def _validate(P, alpha, beta, lam, lr, ref, pi0, log_init: np.ndarray | None, loss: str, sampled: bool) -> _Batch:
    """Validate and lay out response-first; ``log_init`` (validated log-probabilities) or ``None`` for ``log pi0``."""
    Q = preferences.validate(P)
    K = Q.shape[-1]
    a = validation.unit_interval(alpha, "alpha")
    b = validation.positive(beta, "beta")
    lm = validation.unit_interval(lam, "lam")
    eta = validation.positive(lr, "lr")
    losses.check_loss(loss)
    log_ref = np.full(K, -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    validation.same_size(K, log_ref, "ref")
    p0 = simplex.uniform(K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    validation.same_size(K, p0, "pi0")
    if log_init is None:
        if np.any(p0 <= 0):
            raise ValueError("init defaults to pi0, which has zero entries; pass an interior init")
        log_init = np.log(p0)
    validation.same_size(K, log_init, "init")
    try:
        shape = np.broadcast_shapes(Q.shape[:-2], a.shape, b.shape, lm.shape, eta.shape, log_ref.shape[:-1],
                                    p0.shape[:-1], log_init.shape[:-1])
    except ValueError:
        raise ValueError(
            f"P (batch shape {Q.shape[:-2]}), alpha {a.shape}, beta {b.shape}, lam {lm.shape}, lr {eta.shape}, ref "
            f"(batch shape {log_ref.shape[:-1]}), pi0 (batch shape {p0.shape[:-1]}) and init (batch shape "
            f"{log_init.shape[:-1]}) must broadcast against each other") from None
    limit = np.broadcast_to(max_lr(loss, b, sampled), shape)
    too_big = np.broadcast_to(eta, shape) >= limit
    if np.any(too_big):
        where = np.unravel_index(np.argmax(too_big), shape) if shape else ()
        raise ValueError(f"lr must be < {float(limit[where]):g} for {loss} ({'sampled' if sampled else 'population'} "
                         f"rounds: larger steps can expand, see max_lr); got {float(np.broadcast_to(eta, shape)[where]):g}"
                         + (f" at batch index {validation.fmt_index(where)}" if shape else ""))
    def scalar(x: np.ndarray) -> np.ndarray | float:
        return np.ascontiguousarray(np.broadcast_to(x, shape).reshape(-1)) if x.ndim else float(x)

    log_start = np.broadcast_to(log_init, shape + (K,)).reshape(-1, K).T
    return _Batch(shape, _first(Q, 2, shape), scalar(a), scalar(b), scalar(lm), scalar(eta),
                  _first((1.0 - a[..., None]) * log_ref, 1, shape), _first(p0, 1, shape), np.ascontiguousarray(log_start))


def _check_sampling(pairs: int | None, batch: int | None,
                    rng: np.random.Generator | int | None) -> tuple[int | None, int | None, np.random.Generator | None]:
    n = None if pairs is None else validation.count(pairs, "pairs")
    m = None if batch is None else validation.count(batch, "batch")
    sampled = n is not None or m is not None
    if sampled and rng is None:
        raise ValueError("rng must be a numpy.random.Generator or an integer seed when pairs or batch are given, got None")
    if not sampled and rng is not None:
        raise ValueError("rng is unused without pairs or batch (population rounds are deterministic); pass rng=None")
    return n, m, (validation.generator(rng) if sampled else None)


def _log_normalise(theta: np.ndarray) -> np.ndarray:
    """``θ - logsumexp(θ)`` along axis 0 (response-first logits ``(K, n)``)."""
    z = theta - theta.max(axis=0)
    return z - np.log(np.exp(z).sum(axis=0))


def _round(b: _Batch, theta: np.ndarray, grad_steps: int, n: int | None, m: int | None, loss: losses.Loss,
           rng: np.random.Generator | None) -> np.ndarray:
    """One trained round for the whole batch: logits ``θ_t`` (K, n) → ``θ_{t+1}`` (K, n), max entry 0."""
    log_pi = _log_normalise(theta)
    mu = b.lam * np.exp(log_pi) + (1.0 - b.lam) * b.pi0
    log_reference = b.alpha * log_pi + b.anchor
    W = pair_data._weights(b.P, mu)
    if n is not None:
        W = pair_data._draw(W, n, rng)
    x = log_pi.copy()
    if loss == "ipo" and m is None:  # the gradient is affine in x with the same coefficients at every step
        S, degree, offset = losses._ipo_parts(W, b.beta)
        offset = offset + 2.0 * (degree * log_reference - losses._matvec(S, log_reference))
        for _ in range(grad_steps):
            x -= b.lr * (2.0 * (degree * x - losses._matvec(S, x)) - offset)
    else:
        for _ in range(grad_steps):
            Wj = W if m is None else pair_data._draw(W, m, rng)
            x -= b.lr * losses._gradient(x - log_reference, Wj, b.beta, loss)
    return x - x.max(axis=0)


def trained_round(log_pi: ArrayLike, P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, lr: ArrayLike,
                  grad_steps: int, pairs: int | None = None, batch: int | None = None, loss: losses.Loss = "ipo",
                  ref: ArrayLike | None = None, pi0: ArrayLike | None = None,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """One trained round (module docstring): ``log π_{t+1}`` from ``log π_t``, shape ``(..., K)``.

    ``log_pi`` (..., K) holds log-probabilities; the other arguments are those of
    :func:`simulate_trained` and broadcast the same way.
    """
    lp = validation.log_probability_vector(log_pi, "log_pi")
    n, m, rng = _check_sampling(pairs, batch, rng)
    k = validation.count(grad_steps, "grad_steps")
    b = _validate(P, alpha, beta, lam, lr, ref, pi0, lp, loss, n is not None or m is not None)
    theta = _round(b, b.log_init, k, n, m, loss, rng)
    return _log_normalise(theta).T.reshape(b.shape + (theta.shape[0],))


def simulate_trained(P: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike, lr: ArrayLike, grad_steps: int,
                     rounds: int, pairs: int | None = None, batch: int | None = None, loss: losses.Loss = "ipo",
                     ref: ArrayLike | None = None, pi0: ArrayLike | None = None, init: ArrayLike | None = None,
                     rng: np.random.Generator | None = None, record: str | int = "all",
                     burn_in: int | None = None) -> dynamics.Trajectory:
    """Run ``rounds`` trained rounds on a whole batch of trajectories at once.

    Parameters
    ----------
    P : (..., K, K) preference matrix or batch of them.
    alpha, beta, lam : as in :func:`prefalign.dynamics.simulate` (α ∈ [0, 1], β > 0, λ ∈ [0, 1]).
    lr : step size of the gradient steps (> 0, below :func:`max_lr`); may vary across the batch.
    grad_steps : gradient steps per round (>= 1), each started from the previous one, the first
        from the current policy.
    rounds : number of rounds (>= 1).
    pairs : labelled pairs drawn per round (``None``: the population loss, i.e. expected shares).
    batch : pairs per gradient step, drawn with replacement from the round's pairs (``None``: all).
    loss : ``"ipo"`` or ``"dpo"`` (module docstring of :mod:`prefalign.trained.losses`).
    ref, pi0, init : fixed reference (interior), offline sampler, round-0 policy (interior;
        default ``pi0``); ``None`` = uniform.
    rng : a ``numpy.random.Generator`` or an integer seed, required when ``pairs`` or ``batch`` is given, refused otherwise.
    record, burn_in : as in :func:`prefalign.dynamics.simulate`.

    Returns a :class:`prefalign.dynamics.Trajectory` (recorded log-policies, cycle strength from
    ``burn_in``, final entropy, last move), so trained and exact runs are read the same way.
    ``RuntimeError`` names the round if the logits stop being finite.
    """
    n, m, rng = _check_sampling(pairs, batch, rng)
    k = validation.count(grad_steps, "grad_steps")
    R = validation.count(rounds, "rounds")
    log_init = None if init is None else np.log(validation.probability_vector(init, "init", positive=True))
    b = _validate(P, alpha, beta, lam, lr, ref, pi0, log_init, loss, n is not None or m is not None)
    times = _record_times(R, record)
    burn = R // 2 if burn_in is None else validation.count(burn_in, "burn_in", minimum=0)
    if burn > R:
        raise ValueError(f"burn_in must be <= rounds = {R}, got {burn}")
    theta = b.log_init - b.log_init.max(axis=0)
    K, size = theta.shape
    out = np.empty((size, len(times), K))
    mean, m2 = np.zeros((K, size)), np.zeros((K, size))
    previous = theta
    r = 0
    for t in range(R + 1):
        if t > 0:
            previous = theta
            theta = _round(b, theta, k, n, m, loss, rng)
            if not np.all(np.isfinite(theta)):
                raise RuntimeError(f"trained round {t}: the logits are no longer finite")
        log_pi = _log_normalise(theta)
        if t == times[r]:
            out[:, r, :] = log_pi.T
            r += 1
        if t >= burn:  # Welford's running mean and sum of squared deviations of π_t
            pi = np.exp(log_pi)
            d = pi - mean
            mean += d / (t - burn + 1)
            m2 += d * (pi - mean)
    return dynamics.Trajectory(out.reshape(b.shape + (len(times), K)), times,
                               (m2.mean(axis=0) / (R - burn + 1)).reshape(b.shape),
                               _log_normalise(previous).T.reshape(b.shape + (K,)), burn)


def _record_times(rounds: int, record: str | int) -> np.ndarray:
    if isinstance(record, str):
        if record == "all":
            return np.arange(rounds + 1)
        if record == "last":
            return np.array([rounds])
        raise ValueError(f"record must be 'all', 'last' or a positive integer k (every k-th round), got {record!r}")
    k = validation.count(record, "record")
    return np.unique(np.r_[np.arange(0, rounds + 1, k), rounds])
