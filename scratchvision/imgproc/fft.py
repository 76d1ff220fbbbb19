"""The real 2-D FFTs of the correlation-filter trackers: SciPy's pocketfft, called directly.

``scipy.fft.rfft2`` spends about 4.5 us of Python in checking and normalising its arguments
(shape, axes, dtype, norm, workers) before pocketfft starts. A tracker's windows are small: a
50 x 18 float32 transform takes 3 us, so the checks more than double it, and MOSSE makes three
such calls a frame. :func:`rfft2` and :func:`irfft2` give the same results as the scipy.fft
functions of those names (same extension, same arguments) for the arrays the trackers pass
(float32/float64 in, complex64/complex128 in, the default "backward" normalisation, one thread),
calling SciPy's extension module ``scipy.fft._pocketfft.pypocketfft`` straight away. Where that
private module is missing, or does not answer a probe transform as scipy.fft does, they call the
public functions instead.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

__all__ = ["rfft2", "irfft2"]


def _direct_module():
    """SciPy's pocketfft extension if it is there and answers a probe as scipy.fft does, else
    None (another SciPy layout or signature: the public functions, with their overhead)."""
    try:
        from scipy.fft._pocketfft import pypocketfft as module

        probe = np.arange(12.0).reshape(3, 4)
        spectrum = scipy.fft.rfft2(probe)
        if (np.array_equal(module.r2c(probe, (0, 1), True, 0, None, 1), spectrum)
                and np.array_equal(module.c2r(spectrum, (0, 1), 4, False, 2, None, 1),
                                   scipy.fft.irfft2(spectrum, s=(3, 4)))):
            return module
    except Exception:  # any failure of the private module means: use the public functions
        pass
    return None


_pocketfft = _direct_module()

_REAL = (np.float32, np.float64)
_COMPLEX = (np.complex64, np.complex128)


def _axes(a, axes):
    return tuple(int(ax) % a.ndim for ax in axes)


def rfft2(a, axes=(-2, -1)) -> np.ndarray:
    """``scipy.fft.rfft2(a, axes=axes)`` of a float32 or float64 array (complex64 or complex128
    half spectrum along the last of ``axes``)."""
    if _pocketfft is None or a.dtype.type not in _REAL:
        return scipy.fft.rfft2(a, axes=axes)
    return _pocketfft.r2c(a, _axes(a, axes), True, 0, None, 1)


def irfft2(a, s, axes=(-2, -1)) -> np.ndarray:
    """``scipy.fft.irfft2(a, s=s, axes=axes)`` of a complex64 or complex128 half spectrum whose
    axes already have the sizes ``s`` describes (``s[-1] // 2 + 1`` along the last)."""
    axes = _axes(a, axes)
    natural = all(a.shape[ax] == n for ax, n in zip(axes[:-1], s[:-1])) and a.shape[axes[-1]] == s[-1] // 2 + 1
    if _pocketfft is None or a.dtype.type not in _COMPLEX or not natural:
        return scipy.fft.irfft2(a, s=s, axes=axes)
    return _pocketfft.c2r(a, axes, int(s[-1]), False, 2, None, 1)
