import math

import numpy as np
from numba import njit

from prefalign._kernels import JIT, exp


@njit(**JIT)
def _exp_all(x, out):
    for i in range(x.size):
        out[i] = exp(x[i])


def test_exp_is_within_one_ulp_of_libm_and_handles_the_ends():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708.39, 709.78, 20_000), rng.uniform(-1, 1, 20_000), rng.uniform(-1e-9, 1e-9, 2_000),
                        [0.0, -0.0, 1.0, -1.0, 0.5 * math.log(2), -0.5 * math.log(2), 700.0, -700.0]])
    out = np.empty_like(x)
    _exp_all(x, out)
    ref = np.array([math.exp(v) for v in x])
    assert np.max(np.abs(out - ref) / np.spacing(ref)) <= 1.0
    ends = np.array([-1000.0, -708.4, 709.79, 1000.0])
    _exp_all(ends, out[:4])
    assert out[:4].tolist() == [0.0, 0.0, math.inf, math.inf]
