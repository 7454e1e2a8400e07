"""Benchmark of the batched trained-round engine (prefalign.trained.simulate_trained).

A grid of (α, βλ) on the 3-cycle P_a (a = 0.3, K = 3), each point trained for ``rounds`` rounds of
``steps`` gradient steps on the IPO population loss (and, separately, on ``pairs`` sampled pairs per
round). Side by side: the same engine called once per trajectory in a Python loop, on a random
subsample, extrapolated to the whole grid. Prints the grid time, the per-trajectory time, their
ratio and the agreement of the two (population rounds are computed with the same arithmetic
whatever the batch, so the final policies must be identical).

    .venv/bin/python benchmarks/trained_rounds.py [--grid 60] [--rounds 1000] [--steps 4] [--naive 6]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from prefalign import preferences, trained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=60, help="grid points per axis (default 60)")
    parser.add_argument("--rounds", type=int, default=1000, help="rounds per trajectory (default 1000)")
    parser.add_argument("--steps", type=int, default=4, help="gradient steps per round (default 4)")
    parser.add_argument("--pairs", type=int, default=100, help="sampled pairs per round in the second run (default 100)")
    parser.add_argument("--naive", type=int, default=6, help="trajectories run one at a time (default 6)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the subsample and of the sampled pairs")
    args = parser.parse_args()

    P = preferences.cyclic(0.3)
    alpha = np.linspace(0.0, 1.0, args.grid)
    bl = np.linspace(16.0 / args.grid, 16.0, args.grid)
    init = np.array([0.5, 0.3, 0.2])
    common = {"lam": 1.0, "lr": 0.1, "grad_steps": args.steps, "rounds": args.rounds, "init": init, "record": "last"}
    n = args.grid**2

    start = time.perf_counter()
    run = trained.simulate_trained(P, alpha=alpha[:, None], beta=bl[None, :], **common)
    grid_time = time.perf_counter() - start
    start = time.perf_counter()
    trained.simulate_trained(P, alpha=alpha[:, None], beta=bl[None, :], pairs=args.pairs,
                             rng=np.random.default_rng(args.seed), **common)
    sampled_time = time.perf_counter() - start

    rng = np.random.default_rng(args.seed)
    picks = rng.choice(n, size=args.naive, replace=False)
    worst = 0.0
    start = time.perf_counter()
    for flat in picks:
        i, j = divmod(int(flat), args.grid)
        one = trained.simulate_trained(P, alpha=alpha[i], beta=bl[j], **common)
        worst = max(worst, float(np.max(np.abs(one.final_log_pi - run.final_log_pi[i, j]))))
    naive_each = (time.perf_counter() - start) / args.naive

    print(f"grid: {args.grid} x {args.grid} = {n} trajectories, K = 3, {args.rounds} rounds x {args.steps} gradient steps")
    print(f"batched, population rounds:       {grid_time:8.2f} s   ({1e6 * grid_time / (n * args.rounds):.2f} µs per trajectory-round)")
    print(f"batched, {args.pairs} sampled pairs/round: {sampled_time:8.2f} s")
    print(f"one trajectory at a time:         {naive_each * n:8.2f} s   (extrapolated from {args.naive} trajectories, "
          f"{naive_each:.3f} s each)")
    print(f"speed-up of the batch:            {naive_each * n / grid_time:8.1f} x")
    print(f"largest difference batch vs alone: {worst:.1e} (0 expected: same arithmetic whatever the batch)")


if __name__ == "__main__":
    main()
