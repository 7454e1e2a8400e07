"""Trained rounds: MRS rounds in which the policy takes a few (stochastic) gradient steps on sampled pairs.

* :mod:`~prefalign.trained.pairs` — the (winner, loser) shares of a round's labelled pairs, expected or sampled;
* :mod:`~prefalign.trained.losses` — the per-pair IPO and DPO losses, their gradients and Hessians in the logits;
* :mod:`~prefalign.trained.tabular` — a tabular softmax policy per prompt, batched over parameter grids
  (:func:`simulate_trained`, :func:`trained_round`);
* :mod:`~prefalign.trained.shared` — a log-linear policy ``π(y|x) ∝ exp(wᵀφ(x, y))`` shared across prompts
  (:func:`simulate_shared`).

What these rounds do near a fixed point is the subject of :mod:`prefalign.relaxation`.
"""

from prefalign.trained.losses import Loss, pair_gradient, pair_hessian, pair_loss
from prefalign.trained.pairs import expected_weights, sample_weights
from prefalign.trained.shared import SharedTrajectory, gaussian_features, simulate_shared
from prefalign.trained.tabular import max_lr, simulate_trained, trained_round

__all__ = ["Loss", "SharedTrajectory", "expected_weights", "gaussian_features", "max_lr", "pair_gradient", "pair_hessian",
           "pair_loss", "sample_weights", "simulate_shared", "simulate_trained", "trained_round"]
