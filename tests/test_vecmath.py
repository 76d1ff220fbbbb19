"""The vectorisable logarithm against NumPy's float64 one (an independent implementation), and
the bit reinterpretations against NumPy's views."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchvision._jit import kernel
from scratchvision.imgproc.vecmath import bits_float64, float64_bits, vector_log


@kernel
def _logs(x, out):
    for i in range(len(x)):
        out[i] = vector_log(x[i])


@kernel
def _bits(x, out):
    for i in range(len(x)):
        out[i] = float64_bits(x[i])


@kernel
def _floats(bits, out):
    for i in range(len(bits)):
        out[i] = bits_float64(bits[i])


def test_log_rounds_to_the_float32_logarithm():
    """Rounded to float32, the logarithm equals NumPy's float64 logarithm rounded to float32, on
    two million float32 values: the MOSSE range 1..256 and the whole exponent range."""
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(1, 257, 1_000_000), np.exp(rng.uniform(-87, 88, 1_000_000)),
                        [1.0, 2.0, 0.5, np.sqrt(2.0),
                         np.nextafter(np.sqrt(2.0), 2)]]).astype(np.float32).astype(np.float64)
    out = np.empty_like(x)
    _logs(x, out)
    np.testing.assert_array_equal(out.astype(np.float32), np.log(x).astype(np.float32))
    assert np.abs(out - np.log(x)).max() <= 1e-13 * np.abs(np.log(x)).max()


def test_log_special_values():
    x = np.array([0.0, -0.0, -1.0, -np.inf, np.nan, np.inf, 1.0])
    out = np.empty_like(x)
    _logs(x, out)
    np.testing.assert_array_equal(out, [-np.inf, -np.inf, np.nan, np.nan, np.nan, np.inf, 0.0])


@settings(deadline=None, max_examples=200)
@given(st.floats(min_value=1e-300, max_value=1e300))
def test_log_of_any_normal_float64(x):
    out = np.empty(1)
    _logs(np.array([x]), out)
    assert abs(out[0] - np.log(x)) <= 1e-13 * max(abs(np.log(x)), 1e-3)


def test_bit_reinterpretation_matches_numpy_views():
    x = np.array([0.0, -0.0, 1.0, -2.5, np.inf, 1e-310, 3.0e300])
    bits = np.empty(len(x), np.int64)
    _bits(x, bits)
    np.testing.assert_array_equal(bits, x.view(np.int64))
    back = np.empty_like(x)
    _floats(bits, back)
    np.testing.assert_array_equal(back.view(np.int64), x.view(np.int64))


def test_bit_reinterpretation_refuses_other_types():
    with pytest.raises(TypeError, match="float64"):
        _bits(np.zeros(2, np.float32), np.empty(2, np.int64))
