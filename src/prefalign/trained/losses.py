"""The per-pair IPO and DPO losses of a trained round, their gradients and Hessians in the logits.

A round trains the logits ``θ`` (``π = softmax(θ)``) against its reference ``π_ref^(t)``. Write
``x = θ - log π_ref^(t)`` (the log-ratio up to a constant, which no loss sees) and
``d_wl = x_w - x_l`` for the margin of a pair won by ``w`` against ``l``. With the (winner, loser)
shares ``W`` of :mod:`prefalign.trained.pairs` (a sample's, or their expectation ``W̄``), the
round's loss is the mean per-pair loss

    ℓ(x) = Σ_{w,l} W[w, l] f(d_wl),    f_IPO(d) = (d - β/2)²,    f_DPO(d) = -log σ(d/β)

(package β: IPO's ``τ = 1/β``, DPO's ``β_TRL = 1/β``). Its gradient and Hessian are

    ∇ℓ = Σ_{w,l} W[w, l] f'(d_wl) (e_w - e_l),    ∇²ℓ = diag(V1) - V,  V = (W + Wᵀ) ⊙ f''(d),

a weighted graph Laplacian (``f''`` is even: 2 for IPO, ``σ(d/β)σ(-d/β)/β²`` for DPO). Both are
orthogonal to ``1``, so steps on ``θ`` and on ``log π = θ - logsumexp(θ)`` give the same policies.
For IPO, ``∇ℓ = 2(S1 ⊙ x - Sx) - β(W - Wᵀ)1`` with ``S = W + Wᵀ``: affine in ``x``. With the
expected shares, ``ℓ_IPO`` equals :func:`prefalign.ipo.expected_sampled_loss` and ``ℓ_DPO`` is twice
:func:`prefalign.dpo.population_loss`; ``∇²ℓ_IPO = 4 C(μ)``, ``C(μ) = diag(μ) - μμᵀ``.

Public functions take ``x`` (..., K), ``W`` (..., K, K), ``beta`` (...), broadcast against each
other. The engines call the response-first kernels (``x`` of shape ``(K, n)``, ``W`` of shape
``(K, K, n)``), whose loops run over responses and whose operations run over the batch.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from prefalign import validation

Loss = Literal["ipo", "dpo"]


def check_loss(loss: str) -> Loss:
    """``loss`` if it is ``"ipo"`` or ``"dpo"``, else ``ValueError``."""
    return validation.choice(loss, "loss", ("ipo", "dpo"))  # type: ignore[return-value]


# --------------------------------------------------------------------------- response-first kernels


def _ipo_parts(W: np.ndarray, beta: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(S, S1, β(W - Wᵀ)1)`` for response-first ``W`` (K, K, n), with ``S = W + Wᵀ``.

    IPO's gradient is ``2(S1 ⊙ x - Sx) - β(W - Wᵀ)1``, from ``f'(d) = 2d - β``:
    ``Σ_l W_kl f'(d_kl) - W_lk f'(d_lk) = 2Σ_l S_kl (x_k - x_l) - βΣ_l (W_kl - W_lk)``.
    """
    Wt = W.swapaxes(0, 1)
    S = W + Wt
    return S, S.sum(axis=1), beta * (W - Wt).sum(axis=1)


def _matvec(S: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``(Sx)_k = Σ_l S_kl x_l`` for response-first ``S`` (K, K, n) and ``x`` (K, n)."""
    out = S[:, 0] * x[0]
    for j in range(1, x.shape[0]):
        out += S[:, j] * x[j]
    return out


def _gradient(x: np.ndarray, W: np.ndarray, beta: np.ndarray | float, loss: Loss) -> np.ndarray:
    """``∇ℓ`` for response-first ``x`` (K, n) and ``W`` (K, K, n); ``beta`` a float or ``(n,)``."""
    if loss == "ipo":
        S, degree, offset = _ipo_parts(W, beta)
        return 2.0 * (degree * x - _matvec(S, x)) - offset
    G = W * (-expit((x[None, :] - x[:, None]) / beta) / beta)  # W_kl f'(d_kl), f' = -σ(-d/β)/β
    return G.sum(axis=1) - G.sum(axis=0)


def _hessian(x: np.ndarray, W: np.ndarray, beta: np.ndarray | float, loss: Loss) -> np.ndarray:
    """``∇²ℓ = diag(V1) - V`` for response-first ``x`` (K, n) and ``W`` (K, K, n); shape ``(K, K, n)``."""
    if loss == "ipo":
        second = 2.0
    else:
        z = (x[:, None] - x[None, :]) / beta
        second = expit(z) * expit(-z) / beta**2
    V = (W + W.swapaxes(0, 1)) * second
    H = -V
    K = x.shape[0]
    H[np.arange(K), np.arange(K)] += V.sum(axis=1)
    return H


# --------------------------------------------------------------------------- public, batch-last


def _inputs(x: ArrayLike, weights: ArrayLike, beta: ArrayLike, loss: str):
    """Validate; return ``x`` (K, n), ``W`` (K, K, n), β (n,) response-first, and the batch shape."""
    check_loss(loss)
    xs = validation.finite_array(x, "x", ndim_min=1)
    W = validation.finite_array(weights, "weights", ndim_min=2)
    K = xs.shape[-1]
    if W.shape[-2:] != (K, K):
        raise ValueError(f"weights must have shape (..., K, K) with K = {K} (the length of x), got {W.shape}")
    if np.any(W < 0):
        raise ValueError(f"weights must be non-negative, got min {float(W.min()):g}")
    b = validation.positive(beta, "beta")
    try:
        shape = np.broadcast_shapes(xs.shape[:-1], W.shape[:-2], b.shape)
    except ValueError:
        raise ValueError(f"x (batch shape {xs.shape[:-1]}), weights (batch shape {W.shape[:-2]}) and beta "
                         f"{b.shape} must broadcast against each other") from None
    xf = np.broadcast_to(xs, shape + (K,)).reshape(-1, K).T
    Wf = np.moveaxis(np.broadcast_to(W, shape + (K, K)).reshape(-1, K, K), 0, -1)
    return xf, Wf, np.broadcast_to(b, shape).reshape(-1), shape


def pair_loss(x: ArrayLike, weights: ArrayLike, beta: ArrayLike, loss: Loss = "ipo") -> np.ndarray:
    """``ℓ(x) = Σ_{w,l} W[w, l] f(x_w - x_l)`` (module docstring), shape ``(...)``."""
    xf, W, b, shape = _inputs(x, weights, beta, loss)
    d = xf[:, None] - xf[None, :]
    f = (d - b / 2) ** 2 if loss == "ipo" else np.logaddexp(0.0, -d / b)
    return np.sum(W * f, axis=(0, 1)).reshape(shape)


def pair_gradient(x: ArrayLike, weights: ArrayLike, beta: ArrayLike, loss: Loss = "ipo") -> np.ndarray:
    """``∇ℓ(x) = Σ_{w,l} W[w, l] f'(x_w - x_l)(e_w - e_l)``, shape ``(..., K)``; orthogonal to ``1``."""
    xf, W, b, shape = _inputs(x, weights, beta, loss)
    return _gradient(xf, W, b, loss).T.reshape(shape + (xf.shape[0],))


def pair_hessian(x: ArrayLike, weights: ArrayLike, beta: ArrayLike, loss: Loss = "ipo") -> np.ndarray:
    """``∇²ℓ(x) = diag(V1) - V`` with ``V = (W + Wᵀ) ⊙ f''(d)``, shape ``(..., K, K)``; ``∇²ℓ 1 = 0``.

    IPO: ``f'' = 2`` (the Hessian does not depend on ``x``); DPO: ``f''(d) = σ(d/β)σ(-d/β)/β²``.
    """
    xf, W, b, shape = _inputs(x, weights, beta, loss)
    K = xf.shape[0]
    return np.moveaxis(_hessian(xf, W, b, loss), -1, 0).reshape(shape + (K, K))
