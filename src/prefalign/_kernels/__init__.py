"""Every compiled kernel of the package: :mod:`.elementary` (``exp``, the compiler options),
:mod:`.newton` (DPO's Newton solver, used by :mod:`prefalign.dpo`) and :mod:`.rounds` (the rounds
and loop of the dynamics engine, used by :mod:`prefalign.dynamics.engine`).

They are compiled once and cached on disk under a key that hashes every source file of this folder
(:mod:`._cache`): a compiled function that calls helpers from another file of the folder is
recompiled when any of them changes. Every compiled function of the package belongs here.
"""

from prefalign._kernels import _cache

CACHE = _cache.install()
"""The cache locator of this folder (``CACHE.key``: the hash of its sources), installed before any kernel is compiled."""

from prefalign._kernels.elementary import JIT, exp  # noqa: E402
from prefalign._kernels.newton import _cubic_batch, _fit_batch, _solve, _solve_block, _start_batch  # noqa: E402
from prefalign._kernels.rounds import DPO, IPO, run  # noqa: E402

__all__ = ["CACHE", "DPO", "IPO", "JIT", "exp", "run", "_cubic_batch", "_fit_batch", "_solve", "_solve_block",
           "_start_batch"]
