"""Benchmark of MRS-DPO in the batched engine (``prefalign.dynamics.simulate(..., method="dpo")``).

The phase-diagram grid of the DPO chapter: 40 x 40 values of (α, βλ) on the 3-cycle P_a (a = 0.4,
K = 3), α in [0, 1], βλ geometric in [0.1, 20], 600 rounds, summaries only. Every round solves one
Newton problem per trajectory, warm-started. Side by side in the same run: MRS-IPO on the same grid
(closed-form rounds), and a plain Python loop of ``mrs_dpo_step`` (cold Newton start every round)
over a random subsample, extrapolated to the grid. Prints the times, time per trajectory-round,
the DPO/IPO ratio, the speed-up over the loop, and the agreement of the loop with the engine.

    .venv/bin/python benchmarks/mrs_dpo_grid.py [--grid 40] [--steps 600] [--naive 4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prefalign import dynamics, preferences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=40, help="grid points per axis (default 40)")
    parser.add_argument("--steps", type=int, default=600, help="rounds per trajectory (default 600)")
    parser.add_argument("--naive", type=int, default=4, help="trajectories run with the naive loop (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the naive subsample")
    args = parser.parse_args()

    P = preferences.cyclic(0.4)
    alpha = np.linspace(0.0, 1.0, args.grid)
    bl = np.geomspace(0.1, 20.0, args.grid)
    init = np.array([0.5, 0.3, 0.2])
    n = args.grid**2
    kw = {"alpha": alpha[:, None], "beta": bl[None, :], "lam": 1.0, "init": init, "steps": args.steps, "record": "last"}

    start = time.perf_counter()
    run = dynamics.simulate(P, method="dpo", **kw)
    dpo_time = time.perf_counter() - start
    start = time.perf_counter()
    dynamics.simulate(P, method="ipo", **kw)
    ipo_time = time.perf_counter() - start

    rng = np.random.default_rng(args.seed)
    picks = rng.choice(n, size=args.naive, replace=False)
    start = time.perf_counter()
    worst = 0.0
    for flat in picks:
        i, j = divmod(int(flat), args.grid)
        lp = np.log(init)
        for _ in range(args.steps):
            lp = dynamics.mrs_dpo_step(lp, P, alpha=alpha[i], beta=bl[j], lam=1.0)
        worst = max(worst, float(np.max(np.abs(lp - run.final_log_pi[i, j]))))
    naive_each = (time.perf_counter() - start) / args.naive

    rounds = n * args.steps
    print(f"grid: {args.grid} x {args.grid} = {n} trajectories on P_0.4, K = 3, {args.steps} rounds, summaries only")
    print(f"batched MRS-DPO:          {dpo_time:8.2f} s  ({1e6 * dpo_time / rounds:.2f} µs per trajectory-round)")
    print(f"batched MRS-IPO:          {ipo_time:8.2f} s  ({1e6 * ipo_time / rounds:.3f} µs per trajectory-round)")
    print(f"ratio DPO / IPO:          {dpo_time / ipo_time:8.1f} x")
    print(f"naive mrs_dpo_step loop:  {naive_each:8.2f} s per trajectory ({args.naive} sampled), "
          f"{naive_each * n:8.0f} s extrapolated to the grid")
    print(f"speed-up of the engine:   {naive_each * n / dpo_time:8.0f} x")
    print(f"agreement engine vs loop (max |Δ log π| after {args.steps} rounds): {worst:.2e}")


if __name__ == "__main__":
    main()
