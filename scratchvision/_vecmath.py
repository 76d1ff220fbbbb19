"""Elementary functions that Numba loops can vectorise.

A call to ``np.log`` inside a Numba loop becomes a call to the C library's ``log`` for every
element: LLVM has no vector version of it to use, so the loop stays scalar (about 20 cycles an
element). :func:`vector_log` computes the logarithm from the float's bits with additions,
multiplications, one division and selects only, which LLVM vectorises like any other arithmetic.

The method (as in the classic C libraries): write ``x = 2^e m`` with ``m`` in
``[sqrt(2)/2, sqrt(2))``; then ``log x = e log 2 + log m`` and, with ``s = (m - 1) / (m + 1)``,
``log m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...)``. Here ``|s| <= 0.1716``, so the series to
``s^17`` leaves a relative error below 1e-13: in float64, well inside what a float32 result can
show (rounded to float32 it is the correctly rounded logarithm except within 1e-13 of a rounding
boundary).

``float64_bits`` and ``bits_float64`` reinterpret a float64 as its int64 bit pattern and back
(no conversion), for Numba code.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import kernel

__all__ = ["float64_bits", "bits_float64", "vector_log"]


@intrinsic
def float64_bits(typingctx, x):
    """The IEEE-754 bit pattern of the float64 ``x`` as an int64."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        raise TypeError(f"x must be a float64, got {x}")

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))
    return types.int64(types.float64), codegen


@intrinsic
def bits_float64(typingctx, bits):
    """The float64 whose IEEE-754 bit pattern is the int64 ``bits``."""
    if not isinstance(bits, types.Integer) or bits.bitwidth != 64:
        raise TypeError(f"bits must be a 64-bit integer, got {bits}")

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


_MANTISSA = (1 << 52) - 1
_ONE_EXPONENT = 1023 << 52  # the exponent bits of 1.0
_SQRT2 = np.sqrt(2.0)
_LN2 = np.log(2.0)


@kernel(inline=True)
def vector_log(x):
    """Natural logarithm of the float64 ``x`` (see the module's notes), without branches or
    library calls: ``-inf`` at 0, NaN below 0 or at NaN, ``inf`` at ``inf``. Subnormal inputs
    are not handled (they are treated as 0); every float32 value is normal as a float64."""
    bits = float64_bits(x)
    e = (bits >> 52) - 1023
    m = bits_float64((bits & _MANTISSA) | _ONE_EXPONENT)  # in [1, 2)
    high = m > _SQRT2
    m = m * 0.5 if high else m
    e = e + 1 if high else e
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    series = 1.0 / 17.0
    for k in range(7, -1, -1):  # 1/15, 1/13, ..., 1/3, 1: Horner's scheme in z
        series = series * z + 1.0 / (2 * k + 1)
    result = e * _LN2 + 2.0 * s * series
    result = -np.inf if x == 0.0 else result
    result = np.inf if x == np.inf else result
    return result if x >= 0.0 else np.nan
