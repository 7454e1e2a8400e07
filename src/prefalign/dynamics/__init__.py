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

Modules, one concept each:

* :mod:`~prefalign.dynamics.problem` — the validated parameters of a batch;
* :mod:`~prefalign.dynamics.engine` — the batched simulator :func:`simulate` and single rounds
  (:func:`mrs_ipo_step`, :func:`mrs_dpo_step`, :func:`round_inputs`, :func:`dpo_bradley_terry`);
* :mod:`~prefalign.dynamics.fixed_points` — the unique fixed point for α < 1 (:func:`fixed_point`, :func:`kappa`);
* :mod:`~prefalign.dynamics.linearisation` — Jacobians and their spectra on ``1^⊥``;
* :mod:`~prefalign.dynamics.criteria` — closed-form thresholds and bounds;
* :mod:`~prefalign.dynamics.metrics` — distances, cycle strength, rotation and period;
* :mod:`~prefalign.dynamics.periodic` — periodic orbits by Newton on an iterate, their multipliers
  (:func:`periodic_orbit`);
* :mod:`~prefalign.dynamics.bifurcation` — the round's second and third derivatives and the first
  Lyapunov coefficient of its Neimark–Sacker bifurcation (imported as a module:
  ``from prefalign.dynamics import bifurcation``).

Everything public is re-exported here, so ``dynamics.simulate`` and ``dynamics.jacobian`` are the
names the chapters use.
"""

from prefalign.dynamics.criteria import (
    collapse_bound, contraction_bound, entropy_monotone_ratio, oscillation_boundary, oscillation_threshold,
    uniform_rotation_angle, uniform_spectral_radius,
)
from prefalign.dynamics.engine import (
    Record, Trajectory, dpo_bradley_terry, mrs_dpo_step, mrs_ipo_step, round_inputs, simulate,
)
from prefalign.dynamics.fixed_points import fixed_point, kappa
from prefalign.dynamics.linearisation import jacobian, perp_basis, quotient_jacobian, skew_spectrum, spectral_radius
from prefalign.dynamics.metrics import cycle_strength, logit_distance, period, rotation_angle
from prefalign.dynamics.periodic import PeriodicOrbit, periodic_orbit
from prefalign.dynamics.problem import Method

__all__ = [
    "Method", "Record", "Trajectory", "collapse_bound", "contraction_bound", "cycle_strength", "dpo_bradley_terry",
    "entropy_monotone_ratio", "fixed_point", "jacobian", "kappa", "logit_distance", "mrs_dpo_step", "mrs_ipo_step",
    "oscillation_boundary", "oscillation_threshold", "period", "PeriodicOrbit", "periodic_orbit", "perp_basis", "quotient_jacobian", "rotation_angle",
    "round_inputs", "simulate", "skew_spectrum", "spectral_radius", "uniform_rotation_angle", "uniform_spectral_radius",
]
