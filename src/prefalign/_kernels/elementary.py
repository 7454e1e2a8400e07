"""Compiled elementary functions shared by the compiled kernels (the DPO solver, the dynamics engine).

Numba compiles the package's inner loops (:mod:`prefalign.dpo`'s Newton solver,
:mod:`prefalign.dynamics`' rounds) to machine code, cached on disk (:mod:`prefalign._kernels`
says where and when the cache is renewed), so a process compiles a kernel once per change of the
kernels' sources, not once per run. :data:`JIT` are the options every kernel uses: the on-disk
cache, IEEE arithmetic without reassociation or fused multiply-add (``fastmath`` off: every sum is
evaluated in the written order, which keeps results independent of the batch a problem is
computed in), and numpy's error model (a division by zero gives ``inf``, never a Python exception
inside a kernel).

:func:`exp` is ``e^x`` written in plain arithmetic so that the compiler vectorises loops that
call it (libm's ``exp`` is an opaque scalar call, 3-4 times slower per element here). It is
fdlibm's algorithm (``e_exp.c``, Sun Microsystems, 1993): ``x = k ln2 + r`` with ``|r| <= ln2/2``
(Cody–Waite reduction with ``ln2`` split in two parts), ``e^r`` by a degree-5 minimax rational
form, then a scaling by ``2^k`` through the exponent bits. The error is below 1 ulp over the
whole range (fdlibm's bound; ``tests/test_kernels.py`` compares it with the correctly rounded value).
Results below the smallest normal number (``x < log 2^-1022 ≈ -708.4``) are 0, and ``x > log(max
float) ≈ 709.78`` gives ``inf``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

JIT = {"cache": True, "error_model": "numpy", "fastmath": False, "nogil": True}
"""Options of every compiled kernel of the package (see the module docstring)."""

_LN2_HI = 6.93147180369123816490e-01  # ln 2 with its 21 lowest significand bits zero: k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e00
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
_SMALLEST = -708.3964185322641  # log(2^-1022): below it e^x is not a normal number
_LARGEST = 709.782712893384  # log(largest float)


@intrinsic
def _from_bits(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@njit(inline="always", **JIT)
def exp(x: float) -> float:
    """``e^x`` to within 1 ulp; 0 below ``log 2^-1022``, ``inf`` above ``log(max float)`` (see the module docstring)."""
    xc = min(max(x, _SMALLEST), _LARGEST)
    k = int(xc * _INV_LN2 + (0.5 if xc >= 0.0 else -0.5))  # nearest integer to x / ln 2
    hi = xc - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # 2^k in two factors, each a normal number, for k in [-1022, 1024]
    half = k >> 1
    scaled = y * _from_bits((half + 1023) << 52) * _from_bits((k - half + 1023) << 52)
    return 0.0 if x < _SMALLEST else (scaled if x <= _LARGEST else float("inf"))
