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

The float32 functions of the transformers' inner loops (softmax and GELU):

* :func:`vector_exp32` for arguments <= 0 (a softmax's ``x - max``): ``exp x = 2^n e^r`` with
  ``n = round(x / log 2)`` and ``r = x - n log 2`` (log 2 in two parts, so ``r`` is exact), ``|r|
  <= log(2) / 2``; ``e^r`` by its Taylor series to ``r^7`` (truncation below 2e-8 relative) and
  ``2^n`` built from its exponent bits: within 2 float32 ulps of ``exp``;
* :func:`vector_erf32` and :func:`vector_tanh32`: odd rational functions ``x P(x^2) / Q(x^2)`` fitted
  by weighted least squares to erf on ``[0, 3.9]`` and tanh on ``[0, 9]`` (the script is
  tests/fixtures/fit_activations.py), +-1 beyond (where the float32 functions are +-1): at most
  3.3e-7 and 3.2e-7 from the true functions in float32 arithmetic.

``float64_bits`` and ``bits_float64`` reinterpret a float64 as its int64 bit pattern and back
(no conversion), and ``bits_float32`` an int32 as a float32, for Numba code.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from .._jit import kernel

__all__ = ["float64_bits", "bits_float64", "bits_float32", "vector_log", "vector_exp32", "vector_erf32",
           "vector_tanh32", "ERF_P", "ERF_Q", "TANH_P", "TANH_Q"]


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


@intrinsic
def bits_float32(typingctx, bits):
    """The float32 whose IEEE-754 bit pattern is the int32 ``bits``."""
    if not isinstance(bits, types.Integer) or bits.bitwidth != 32:
        raise TypeError(f"bits must be a 32-bit integer, got {bits}")

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(bits), codegen


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


_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693145751953125), _F(1.4286068203094172e-06)
_EXP_MIN = _F(-87.0)  # 2^-125.5: the smallest argument whose 2^n is a normal float32
_TAYLOR = tuple(_F(1.0 / f) for f in (1, 1, 2, 6, 24, 120, 720, 5040))


@kernel(inline=True)
def vector_exp32(x):
    """``exp`` of a float32 ``x <= 0`` (see the module's notes); arguments below -87 give
    ``exp(-87)`` (4e-38) instead of smaller values, ``-inf`` included."""
    x = max(x, _EXP_MIN)
    n = np.floor(x * _LOG2E + _F(0.5))
    r = (x - n * _LN2_HI) - n * _LN2_LO
    p = _TAYLOR[7]
    for k in range(6, -1, -1):
        p = p * r + _TAYLOR[k]
    return p * bits_float32(np.int32((np.int32(n) + 127) << 23))


# erf(x) ~ x P(x^2) / Q(x^2) on |x| < 3.9 and tanh(x) ~ x P(x^2) / Q(x^2) on |x| < 9, +-1 beyond
# (coefficients in increasing powers of x^2, from tests/fixtures/fit_activations.py)
ERF_P = (1.1283790841659564, 0.18850971740854114, 0.052563292658849674, 0.0037025816997691336,
         0.00028671197070412595, 2.1074576158563285e-06)
ERF_Q = (1.0, 0.50039472375227567, 0.11338510278561895, 0.014839632324597994, 0.0011533281512077415,
         3.8780757677702315e-05)
TANH_P = (0.99999992307967989, 0.13384777259662925, 0.0035002799048702688, 2.0695193228841349e-05,
          1.3490046130295933e-08)
TANH_Q = (1.0, 0.46718080261400263, 0.025894230461225850, 0.00032936972551934901, 7.8286020085525001e-07)
_EP, _EQ = tuple(_F(c) for c in ERF_P), tuple(_F(c) for c in ERF_Q)
_TP, _TQ = tuple(_F(c) for c in TANH_P), tuple(_F(c) for c in TANH_Q)
_ERF_LIMIT, _TANH_LIMIT, _ONE = _F(3.9), _F(9.0), _F(1.0)


@kernel(inline=True)
def _odd_rational(x, limit, p_coefficients, q_coefficients):
    """``x P(x^2) / Q(x^2)`` (coefficients in increasing powers) for ``|x| < limit``, +-1 beyond."""
    c = min(max(x, -limit), limit)
    t = c * c
    p = p_coefficients[len(p_coefficients) - 1]
    for k in range(len(p_coefficients) - 2, -1, -1):
        p = p * t + p_coefficients[k]
    q = q_coefficients[len(q_coefficients) - 1]
    for k in range(len(q_coefficients) - 2, -1, -1):
        q = q * t + q_coefficients[k]
    saturated = _ONE if x > 0 else -_ONE
    return c * p / q if abs(x) < limit else saturated


@kernel(inline=True)
def vector_erf32(x):
    """erf of a float32 (see the module's notes): +-1 from |x| = 3.9, where erf rounds to +-1."""
    return _odd_rational(x, _ERF_LIMIT, _EP, _EQ)


@kernel(inline=True)
def vector_tanh32(x):
    """tanh of a float32 (see the module's notes): +-1 from |x| = 9, where tanh rounds to +-1."""
    return _odd_rational(x, _TANH_LIMIT, _TP, _TQ)
