"""DPO's optimum: Newton (`prefalign.dpo.dpo_optimum`) against a generic optimiser
(`prefalign.dpo.numerical_optimum`, scipy BFGS), side by side on the same random problems.

Prints, per (K, β): median wall time of each, their ratio (generic / Newton), and the accuracy of
each as the largest first-order residual max_i |Σ_j μ_j σ((r_i − r_j)/β) − (Pμ)_i| at the returned
policy. Both solve for the scores x = r/β, on which the loss depends alone, so β only rescales the
answer: the rows for different β differ by timing noise and by the rounding of r = βx.
Usage: `.venv/bin/python benchmarks/dpo_newton.py` from the repository root.
"""

from __future__ import annotations

import time

import numpy as np

from prefalign import dpo, preferences


def median_time(fn, repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main() -> None:
    rng = np.random.default_rng(20260212)
    print(f"{'K':>3} {'beta':>6} {'newton s':>10} {'generic s':>10} {'ratio':>8} {'newton |FOC|':>13} {'generic |FOC|':>14}")
    for K in (3, 10, 30, 50):
        P = 0.02 + 0.96 * preferences.random_preference_matrix(K, rng)
        mu = rng.dirichlet(np.ones(K))
        ref = rng.dirichlet(np.ones(K))
        for beta in (0.01, 1.0, 100.0):
            t_newton, pi_newton = median_time(lambda: dpo.dpo_optimum(P, mu, ref, beta), 5)
            t_generic, pi_generic = median_time(lambda: dpo.numerical_optimum(P, mu, ref, beta), 1 if K > 10 else 3)
            res_n = np.max(np.abs(dpo.foc_residual(pi_newton, P, mu, ref, beta)))
            res_g = np.max(np.abs(dpo.foc_residual(pi_generic, P, mu, ref, beta)))
            print(f"{K:3d} {beta:6g} {t_newton:10.4f} {t_generic:10.4f} {t_generic / t_newton:8.1f} {res_n:13.2e} {res_g:14.2e}")


if __name__ == "__main__":
    main()
