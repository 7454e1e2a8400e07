"""Trained rounds with one log-linear policy shared across prompts: ``π(y|x) ∝ exp(wᵀφ(x, y))``.

``X`` prompts with ``K`` responses each and fixed features ``φ(x, y) ∈ R^d`` (``features``, shape
``(X, K, d)``). The parameters ``w ∈ R^d`` are shared, so the logits of all prompts,
``θ_x = Φ_x w``, move together. A round is the tabular round (:mod:`prefalign.trained.tabular`)
applied to every prompt at once: prompt ``x`` has its own preference matrix ``P_x``, reference
``log π_ref^(t)(·|x) = α log π_t(·|x) + (1-α) log π_ref(·|x)`` and sampler
``μ_{t,x} = λ π_t(·|x) + (1-λ) π_0(·|x)``, and draws ``pairs`` labelled pairs (``None``: the
population loss). The round's loss is the prompt average of the per-prompt mean per-pair losses,

    L_t(w) = (1/X) Σ_x ℓ_{t,x}(Φ_x w - log π_ref^(t)(·|x)),    ∇L_t = (1/X) Σ_x Φ_xᵀ ∇ℓ_{t,x},

and ``grad_steps`` steps ``w ← w - lr ∇L_t(w)`` (full batch, or minibatches of ``batch`` pairs per
prompt drawn with replacement) start from the current ``w_t``. With one-hot features
(``d = XK``, ``φ(x, y) = e_{(x, y)}``) the prompts decouple and each follows the tabular round with
step ``lr/X``; with fewer features than that, a gradient step on one prompt moves the others.

Batched over α, β, λ, ``lr`` (and the starting ``w``), which broadcast to one batch shape; prompts
and features are shared by the whole batch. Draws come from the one generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from prefalign import dynamics, preferences, simplex, validation
from prefalign.trained import losses, pairs as pair_data
from prefalign.trained.tabular import _check_sampling, _record_times, _log_normalise, max_lr


@dataclass(frozen=True)
class SharedTrajectory:
    """The result of :func:`simulate_shared` for a batch of shape ``(...)``, ``X`` prompts, ``K`` responses.

    Attributes
    ----------
    log_pi : (..., n_recorded, X, K) recorded log-policies of every prompt.
    t : (n_recorded,) the recorded rounds (ending with the last).
    cycle_strength : (..., X) per prompt, mean over responses of the variance of ``π_t(y|x)`` over
        rounds ``burn_in..rounds`` (as :func:`prefalign.dynamics.cycle_strength`).
    entropy : (..., X) entropy of each prompt's last policy (nats).
    last_move : (..., X) per prompt, :func:`prefalign.dynamics.logit_distance` between the last two policies.
    weights : (..., d) the last parameters ``w``.
    burn_in : first round counted in ``cycle_strength``.
    """

    log_pi: np.ndarray
    t: np.ndarray
    cycle_strength: np.ndarray
    entropy: np.ndarray
    last_move: np.ndarray
    weights: np.ndarray
    burn_in: int


def gaussian_features(prompts: int, K: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Fixed random features ``φ(x, y) ~ N(0, I_d/d)`` i.i.d., shape ``(prompts, K, d)``."""
    rng = validation.generator(rng)
    X, K, d = validation.count(prompts, "prompts"), validation.count(K, "K", minimum=2), validation.count(d, "d")
    return rng.normal(0.0, 1.0 / np.sqrt(d), size=(X, K, d))


def simulate_shared(P: ArrayLike, features: ArrayLike, *, alpha: ArrayLike, beta: ArrayLike, lam: ArrayLike,
                    lr: ArrayLike, grad_steps: int, rounds: int, pairs: int | None = None, batch: int | None = None,
                    loss: losses.Loss = "ipo", ref: ArrayLike | None = None, pi0: ArrayLike | None = None,
                    init: ArrayLike | None = None, rng: np.random.Generator | None = None, record: str | int = "all",
                    burn_in: int | None = None) -> SharedTrajectory:
    """Run ``rounds`` trained rounds of the shared log-linear policy (module docstring).

    Parameters
    ----------
    P : (X, K, K) one preference matrix per prompt.
    features : (X, K, d) fixed finite features ``φ(x, y)``.
    alpha, beta, lam, lr : as in :func:`prefalign.trained.simulate_trained`; they broadcast to the
        batch shape. ``lr`` must be below :func:`prefalign.trained.max_lr` divided by
        ``max_x ‖Φ_x‖₂²`` (the largest curvature a prompt's loss can have along ``w``).
    grad_steps, rounds, pairs, batch, loss, rng, record, burn_in : as in
        :func:`prefalign.trained.simulate_trained` (``pairs`` and ``batch`` per prompt).
    ref, pi0 : (X, K) per-prompt reference (interior) and offline sampler; ``None`` = uniform.
    init : (..., d) starting parameters; ``None`` = zeros (the uniform policy for every prompt).

    Returns a :class:`SharedTrajectory`.
    """
    n_pairs, m, rng = _check_sampling(pairs, batch, rng)
    k = validation.count(grad_steps, "grad_steps")
    R = validation.count(rounds, "rounds")
    losses.check_loss(loss)
    Q = preferences.validate(P)
    if Q.ndim != 3:
        raise ValueError(f"P must hold one K x K matrix per prompt, shape (X, K, K), got {Q.shape}")
    X, K = Q.shape[0], Q.shape[-1]
    Phi = validation.finite_array(features, "features")
    if Phi.ndim != 3 or Phi.shape[:2] != (X, K):
        raise ValueError(f"features must have shape (X, K, d) = ({X}, {K}, d), got {Phi.shape}")
    d = Phi.shape[2]
    log_ref = np.full((X, K), -np.log(K)) if ref is None else np.log(validation.probability_vector(ref, "ref", positive=True))
    p0 = np.full((X, K), 1.0 / K) if pi0 is None else validation.probability_vector(pi0, "pi0")
    for name, arr in (("ref", log_ref), ("pi0", p0)):
        if arr.shape != (X, K):
            raise ValueError(f"{name} must have shape (X, K) = ({X}, {K}), got {arr.shape}")
    a = validation.unit_interval(alpha, "alpha")
    b = validation.positive(beta, "beta")
    lm = validation.unit_interval(lam, "lam")
    eta = validation.positive(lr, "lr")
    w0 = np.zeros(d) if init is None else validation.finite_array(init, "init", ndim_min=1)
    if w0.shape[-1] != d:
        raise ValueError(f"init must have d = {d} entries (one per feature), got shape {w0.shape}")
    try:
        shape = np.broadcast_shapes(a.shape, b.shape, lm.shape, eta.shape, w0.shape[:-1])
    except ValueError:
        raise ValueError(f"alpha {a.shape}, beta {b.shape}, lam {lm.shape}, lr {eta.shape} and init (batch shape "
                         f"{w0.shape[:-1]}) must broadcast against each other") from None
    spread = float(np.max(np.linalg.norm(Phi, 2, axis=(-2, -1)))) ** 2
    limit = np.broadcast_to(max_lr(loss, b, n_pairs is not None or m is not None) / max(spread, 1e-300), shape)
    if np.any(np.broadcast_to(eta, shape) >= limit):
        raise ValueError(f"lr must be < max_lr / max_x ||Phi_x||^2 = {float(np.min(limit)):g} here (larger steps can "
                         f"expand), got {float(np.max(eta)):g}")

    def per_run(x: np.ndarray) -> np.ndarray | float:
        return np.broadcast_to(x, shape).reshape(-1) if x.ndim else float(x)

    alpha_r, beta_r, lam_r, lr_r = per_run(a), per_run(b), per_run(lm), per_run(eta)
    n = int(np.prod(shape, dtype=np.int64))
    w = np.ascontiguousarray(np.broadcast_to(w0, shape + (d,)).reshape(n, d).T)  # (d, n)
    P_rf = np.moveaxis(Q, 0, -1)[..., None]  # (K, K, X, 1)
    anchor = (1.0 - np.asarray(alpha_r)) * log_ref.T[..., None]  # (K, X, n) or (K, X, 1)
    pi0_rf = p0.T[..., None]  # (K, X, 1)
    weight = Phi / X  # prompt average

    def logits(w: np.ndarray) -> np.ndarray:
        return np.einsum("xkd,dn->kxn", Phi, w)

    def round_(w: np.ndarray) -> np.ndarray:
        log_pi = _log_normalise(logits(w))
        mu = lam_r * np.exp(log_pi) + (1.0 - lam_r) * pi0_rf
        log_reference = alpha_r * log_pi + anchor
        W = pair_data._weights(P_rf, mu)
        if n_pairs is not None:
            W = pair_data._draw(W, n_pairs, rng)
        w = w.copy()
        for _ in range(k):
            Wj = W if m is None else pair_data._draw(W, m, rng)
            g = losses._gradient(logits(w) - log_reference, Wj, beta_r, loss)  # (K, X, n)
            w -= lr_r * np.einsum("xkd,kxn->dn", weight, g)
        return w

    times = _record_times(R, record)
    burn = R // 2 if burn_in is None else validation.count(burn_in, "burn_in", minimum=0)
    if burn > R:
        raise ValueError(f"burn_in must be <= rounds = {R}, got {burn}")
    out = np.empty((n, len(times), X, K))
    mean, m2 = np.zeros((K, X, n)), np.zeros((K, X, n))
    previous = w
    r = 0
    for t in range(R + 1):
        if t > 0:
            previous = w
            w = round_(w)
            if not np.all(np.isfinite(w)):
                raise RuntimeError(f"shared round {t}: the parameters are no longer finite")
        log_pi = _log_normalise(logits(w))
        if t == times[r]:
            out[:, r] = log_pi.transpose(2, 1, 0)
            r += 1
        if t >= burn:
            pi = np.exp(log_pi)
            delta = pi - mean
            mean += delta / (t - burn + 1)
            m2 += delta * (pi - mean)
    final = out[:, -1]
    before = _log_normalise(logits(previous)).transpose(2, 1, 0)
    return SharedTrajectory(
        log_pi=out.reshape(shape + (len(times), X, K)), t=times,
        cycle_strength=(m2.mean(axis=0) / (R - burn + 1)).T.reshape(shape + (X,)),
        entropy=simplex.entropy_from_log(final).reshape(shape + (X,)),
        last_move=dynamics.logit_distance(final, before).reshape(shape + (X,)),
        weights=w.T.reshape(shape + (d,)), burn_in=burn)
