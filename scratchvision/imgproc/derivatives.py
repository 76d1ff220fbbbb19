"""Image derivatives: :func:`scharr_derivatives` (the unnormalised Scharr gradient of OpenCV's
Lucas-Kanade, ``calcScharrDeriv``; :func:`scharr_kernel` inside kernels) and
:func:`central_gradient` (central differences, the variational flow methods' gradient)."""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_image
from .border import reflect101

__all__ = ["scharr_derivatives", "scharr_kernel", "central_gradient"]


@kernel
def _scharr_at(r0, r1, r2, xl, x, xr):
    """Scharr (Ix, Iy) at column ``x`` from rows above/at/below, ``xl``/``xr`` the columns
    left/right of ``x`` (already reflected at the borders)."""
    gx = 3 * (np.int32(r0[xr]) - np.int32(r0[xl])) + 10 * (np.int32(r1[xr]) - np.int32(r1[xl])) \
        + 3 * (np.int32(r2[xr]) - np.int32(r2[xl]))
    gy = 3 * (np.int32(r2[xl]) - np.int32(r0[xl])) + 10 * (np.int32(r2[x]) - np.int32(r0[x])) \
        + 3 * (np.int32(r2[xr]) - np.int32(r0[xr]))
    return gx, gy


@kernel(parallel=True)
def scharr_kernel(img, gx, gy, pad_h, pad_w):
    """Ix into ``gx`` and Iy into ``gy`` at offset (pad_h, pad_w): [-1 0 1] x [3 10 3] and its
    transpose, reflect-101 borders (as OpenCV's calcScharrDeriv), in one pass over the three
    rows around each output row.

    Parameters
    ----------
    img : ndarray (H, W) uint8
    gx, gy : ndarray int16
        At least (H + pad_h, W + pad_w); written in place.
    pad_h, pad_w : int
        Offset of the output.

    Returns
    -------
    None
    """
    h, w = img.shape
    for y in numba.prange(h):
        r0 = img[reflect101(y - 1, h)]
        r1 = img[y]
        r2 = img[reflect101(y + 1, h)]
        ox = gx[y + pad_h, pad_w:pad_w + w]
        oy = gy[y + pad_h, pad_w:pad_w + w]
        for x in range(1, w - 1):  # unsigned indices: no negative-index test, so LLVM vectorises
            u = np.uint64(x)
            ox[u], oy[u] = _scharr_at(r0, r1, r2, u - np.uint64(1), u, u + np.uint64(1))
        for x in (0, w - 1):  # the border columns (one column when w == 1)
            ox[x], oy[x] = _scharr_at(r0, r1, r2, reflect101(x - 1, w), x, reflect101(x + 1, w))


def scharr_derivatives(image) -> np.ndarray:
    """The gradient Lucas-Kanade uses: unnormalised Scharr ``(Ix, Iy)`` of an 8-bit image.

    Parameters
    ----------
    image : ndarray (H, W) uint8

    Returns
    -------
    ndarray (H, W, 2), int16
        A unit-slope ramp gives 32.
    """
    img = check_image(image, allow_color=False, dtypes=(np.uint8,))
    gx = np.empty(img.shape, np.int16)
    gy = np.empty(img.shape, np.int16)
    scharr_kernel(np.ascontiguousarray(img), gx, gy, 0, 0)
    return np.stack([gx, gy], axis=-1)


@kernel(parallel=True)
def _central_gradient_kernel(img, gx, gy):
    h, w = img.shape
    for y in numba.prange(h):
        up = img[max(y - 1, 0)]
        down = img[min(y + 1, h - 1)]
        row = img[y]
        for x in range(w):
            gx[y, x] = np.float32(0.5) * (row[min(x + 1, w - 1)] - row[max(x - 1, 0)])
            gy[y, x] = np.float32(0.5) * (down[x] - up[x])


def central_gradient(image):
    """``(dI/dx, dI/dy)`` by central differences ``(I[x+1] - I[x-1]) / 2``, edge pixels
    replicated (a one-sided half difference at the border), in float32.

    Parameters
    ----------
    image : ndarray (H, W)

    Returns
    -------
    gx, gy : ndarray (H, W) float32
    """
    img = np.ascontiguousarray(check_image(image, allow_color=False), np.float32)
    gx = np.empty_like(img)
    gy = np.empty_like(img)
    _central_gradient_kernel(img, gx, gy)
    return gx, gy


@warmup_hook
def _warmup():
    scharr_derivatives(np.zeros((4, 4), np.uint8))
    central_gradient(np.zeros((4, 4), np.float32))
