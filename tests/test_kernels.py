import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from numba import njit
from numba.core.registry import CPUDispatcher

from prefalign import _kernels
from prefalign._kernels import JIT, _cache, exp


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


def test_the_cache_key_covers_every_kernel_source(tmp_path):
    folder = Path(_kernels.__file__).parent
    for path in folder.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    assert _cache.source_key(tmp_path) == _kernels.CACHE.key  # the key depends on the sources, not on where they are
    helper = tmp_path / "elementary.py"  # exp, a helper of every kernel, defined in another file than theirs
    helper.write_text(helper.read_text().replace("_P5 = 4.13813679705723846039e-08", "_P5 = 4.1381367970572385e-08"))
    assert _cache.source_key(tmp_path) != _kernels.CACHE.key


def test_every_compiled_function_of_the_package_is_cached_under_the_key():
    modules = [_kernels.elementary, _kernels.newton, _kernels.rounds]
    dispatchers = [f for m in modules for f in vars(m).values() if isinstance(f, CPUDispatcher)]
    assert len(dispatchers) > 20
    for f in dispatchers:
        locator = f._cache._impl._locator
        assert locator.get_source_stamp() == _kernels.CACHE.key
        assert Path(locator.get_cache_path()).name == f"numba-{_kernels.CACHE.key}"


_RUN = """
import sys
sys.path.insert(0, {folder!r})
if {keyed}:
    from prefalign._kernels import _cache
    _cache.install({folder!r})
import kernel
print(kernel.k(1.0))
"""


def test_a_changed_helper_is_recompiled_with_the_key_and_stale_without(tmp_path):
    # numba's own cache stamps a kernel with its own file only: the mutant the key exists to kill
    def run(keyed: bool) -> float:
        script = _RUN.format(folder=str(tmp_path / ("keyed" if keyed else "plain")), keyed=keyed)
        return float(subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout)

    for name in ("keyed", "plain"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "helper.py").write_text("from numba import njit\n\n\n@njit(cache=True)\ndef h(x):\n    return x + 1.0\n")
        (tmp_path / name / "kernel.py").write_text("from numba import njit\nfrom helper import h\n\n\n@njit(cache=True)\ndef k(x):\n    return h(x)\n")
    assert run(keyed=True) == 2.0 and run(keyed=False) == 2.0
    for name in ("keyed", "plain"):
        helper = tmp_path / name / "helper.py"
        helper.write_text(helper.read_text().replace("x + 1.0", "x + 2.0"))
    assert run(keyed=True) == 3.0
    assert run(keyed=False) == 2.0  # stale machine code loaded from numba's own cache
