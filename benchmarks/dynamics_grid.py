"""The batched MRS engine (``prefalign.dynamics.simulate``) against a minimal blocked compiled kernel.

Side by side in one run, for each workload (K, batch size n, rounds T): ``simulate`` (λ = 1, one
random P, per-trajectory α in [0, 1], β log-uniform in [0.5, 20] and initial policy, summaries
only) and the faster of the two reference kernels of ``reference_kernel.py`` on the same inputs,
in ns per trajectory-round (best of ``--repeats``), their ratio, and the largest difference of the
final log-policies (the two compute the same map). Then a single trajectory of 10,000 rounds
(wall time of the call), and with ``--protocol`` the paper's full protocol: 5,042 matrices
(the HelpSteer construction on synthetic scores, K = 4) x 11 α x 12 βλ x 3,000 rounds, MRS-IPO and
MRS-DPO (``--protocol-matrices N`` runs the first N matrices and extrapolates). Peak memory is the
process's maximum resident set size.

    .venv/bin/python benchmarks/dynamics_grid.py [--quick] [--protocol] [--protocol-matrices N]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import numpy as np

from prefalign import data, dynamics, preferences

import reference_kernel

ROWS = [(3, 100, 1_000), (3, 100, 10_000), (3, 10_000, 1_000), (3, 10_000, 10_000), (3, 1_000_000, 1_000),
        (4, 100, 10_000), (4, 10_000, 1_000), (4, 100_000, 1_000), (8, 100, 10_000), (8, 10_000, 1_000),
        (8, 100_000, 1_000), (22, 100, 10_000), (22, 10_000, 1_000), (55, 100, 1_000), (55, 100, 10_000),
        (55, 10_000, 1_000)]
QUICK = [(3, 100, 1_000), (3, 10_000, 1_000), (4, 10_000, 1_000), (8, 10_000, 300), (22, 1_000, 300), (55, 1_000, 100)]
BLOCK_ENTRIES = 2**12


def workload(K: int, n: int, rng: np.random.Generator):
    P = preferences.random_preference_matrix(K, rng)
    alpha = rng.uniform(0.0, 1.0, n)
    beta = np.exp(rng.uniform(np.log(0.5), np.log(20.0), n))
    init = rng.dirichlet(np.ones(K), size=n)
    return P, alpha, beta, init


def best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def table(rows, repeats: int) -> None:
    """Each row's three contenders are timed in turn, ``repeats`` rounds of turns (more for small workloads, so
    that each is timed for at least about a second), and the best time of each is kept: the load of a shared
    machine changes between turns but hits the three alike."""
    rng = np.random.default_rng(20260212)
    print(f"{'K':>3} {'n':>9} {'rounds':>7} {'simulate ns':>12} {'reference ns':>13} {'(layout)':>15} {'ratio':>6} "
          f"{'max |Δ log π|':>14}")
    for K, n, steps in rows:
        P, alpha, beta, init = workload(K, n, rng)
        log_init, block = np.log(init), max(1, BLOCK_ENTRIES // K)
        finals = {name: np.empty((n, K)) for name in ("response_first", "fused")}

        def contender(name):
            if name == "simulate":
                return lambda: dynamics.simulate(P, alpha=alpha, beta=beta, lam=1.0, init=init, steps=steps,
                                                 record="last")
            kernel = getattr(reference_kernel, name)
            return lambda: kernel(P, alpha, beta, log_init, steps, steps // 2, block, finals[name], np.empty(n))

        runs = {name: contender(name) for name in ("response_first", "fused", "simulate")}
        timings = {name: np.inf for name in runs}
        outputs = {name: run() for name, run in runs.items()}  # compile (or load from the cache) outside the timing
        turns = max(repeats, min(50, int(1.0 / max(best(runs["simulate"], 1)[0], 1e-3))))
        for _ in range(turns):
            for name, run in runs.items():
                seconds, out = best(run, 1)
                timings[name] = min(timings[name], seconds)
                outputs[name] = out
        layout = min(("response_first", "fused"), key=timings.get)
        per = 1e9 / (n * steps)
        diff = float(np.max(np.abs(outputs["simulate"].final_log_pi - finals[layout])))
        print(f"{K:3d} {n:9,d} {steps:7,d} {timings['simulate'] * per:12.2f} {timings[layout] * per:13.2f} {layout:>15} "
              f"{timings['simulate'] / timings[layout]:6.2f} {diff:14.2e}", flush=True)


def single_trajectory() -> None:
    P = preferences.cyclic(0.4)
    print(f"load average {os.getloadavg()[0]:.2f} after the table")
    dynamics.simulate(P, alpha=0.5, beta=5.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=10)
    t, _ = best(lambda: dynamics.simulate(P, alpha=0.5, beta=5.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=10_000), 5)
    t_all, _ = best(lambda: dynamics.simulate(P, alpha=0.5, beta=5.0, lam=1.0, init=[0.5, 0.3, 0.2], steps=10_000,
                                              record="all"), 5)
    print(f"single trajectory, K = 3, 10,000 rounds: {1e3 * t:.2f} ms (summaries only), {1e3 * t_all:.2f} ms "
          f"(every round recorded)")


def protocol(matrices: int | None) -> None:
    rng = np.random.default_rng(20240313)
    H = data.helpsteer_matrices(data.synthetic_helpsteer(5042, rng), k=4, seed=rng)
    P = H.P if matrices is None else H.P[:matrices]
    alphas = np.linspace(0.0, 1.0, 11)
    betalam = np.geomspace(0.5, 50.0, 12)
    grid = dict(alpha=alphas[None, :, None], beta=betalam[None, None, :], lam=1.0, steps=3000, record="last")
    scale = len(H.P) / len(P)
    rounds = len(P) * alphas.size * betalam.size * 3000
    dynamics.simulate(P[:1, None, None], method="dpo", **dict(grid, steps=2))  # compile (or load) outside the timing
    seconds = {}
    for method in ("ipo", "dpo"):
        start = time.perf_counter()
        dynamics.simulate(P[:, None, None], method=method, **grid)
        seconds[method] = time.perf_counter() - start
        print(f"protocol {method.upper()}: {len(P)} matrices x 11 x 12 x 3,000 rounds in {seconds[method]:.1f} s "
              f"({1e9 * seconds[method] / rounds:.1f} ns per trajectory-round)"
              + (f"; full protocol ({len(H.P)} matrices) extrapolated: {seconds[method] * scale:.0f} s" if scale > 1 else ""),
              flush=True)
    print(f"protocol DPO / IPO: {seconds['dpo'] / seconds['ipo']:.1f}; load average {os.getloadavg()[0]:.2f} at the end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a minute)")
    parser.add_argument("--repeats", type=int, default=3, help="timings per workload; the best is reported")
    parser.add_argument("--protocol", action="store_true", help="also time the paper's full protocol, IPO and DPO")
    parser.add_argument("--protocol-matrices", type=int, default=None, help="run the protocol on the first N matrices")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    table(QUICK if args.quick else ROWS, args.repeats)
    single_trajectory()
    if args.protocol or args.protocol_matrices:
        protocol(args.protocol_matrices)
    print(f"peak memory (max resident set size of the process): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10:.0f} MiB")


if __name__ == "__main__":
    main()
