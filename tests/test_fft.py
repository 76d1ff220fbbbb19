"""The trackers' direct pocketfft calls give scipy.fft's results exactly, and fall back to the
public functions where SciPy's private module is not there."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.fft

from scratchvision.imgproc import fft as _fft

CASES = [((50, 18), (-2, -1)), ((72, 75), (0, 1)), ((3, 32, 31, 10), (2, 3)), ((3, 31, 10), (1, 2)),
         ((4, 6, 5), (0, 2)), ((1, 1), (0, 1))]


@pytest.mark.parametrize("direct", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axes", CASES)
def test_equal_to_scipy_fft(shape, axes, dtype, direct, monkeypatch):
    if not direct:
        monkeypatch.setattr(_fft, "_pocketfft", None)
    elif _fft._pocketfft is None:
        pytest.skip("this SciPy has no scipy.fft._pocketfft.pypocketfft")
    a = np.random.default_rng(len(shape)).standard_normal(shape).astype(dtype)
    spectrum = _fft.rfft2(a, axes=axes)
    expected = scipy.fft.rfft2(a, axes=axes)
    assert spectrum.dtype == expected.dtype
    np.testing.assert_array_equal(spectrum, expected)
    s = tuple(shape[ax] for ax in axes)
    back = _fft.irfft2(spectrum, s, axes=axes)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, scipy.fft.irfft2(expected, s=s, axes=axes))


def test_other_sizes_and_dtypes_go_through_scipy():
    """A spectrum cropped or padded by ``s``, and integer input, are what scipy.fft makes of them."""
    a = np.arange(48.0).reshape(6, 8)
    f = scipy.fft.rfft2(a)
    np.testing.assert_array_equal(_fft.irfft2(f, (4, 8)), scipy.fft.irfft2(f, s=(4, 8)))
    np.testing.assert_array_equal(_fft.irfft2(f, (6, 6)), scipy.fft.irfft2(f, s=(6, 6)))
    np.testing.assert_array_equal(_fft.rfft2(a.astype(np.int32)), scipy.fft.rfft2(a.astype(np.int32)))


def test_a_private_module_that_answers_otherwise_is_not_used(monkeypatch):
    """A SciPy whose private extension takes other arguments falls back to the public functions
    at import, not with an error at the first transform."""
    pocketfft = pytest.importorskip("scipy.fft._pocketfft.pypocketfft")

    def new_signature(*args):
        raise TypeError("r2c() takes other arguments")

    monkeypatch.setattr(pocketfft, "r2c", new_signature)
    assert _fft._direct_module() is None
