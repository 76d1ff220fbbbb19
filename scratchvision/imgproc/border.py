"""OpenCV's default border, BORDER_REFLECT_101 (``dcb|abcd|cba``): :func:`reflect101` for one
index inside a kernel, :func:`fill_border_reflect101` for one padded row, :func:`pad_reflect101`
for a padded copy of a whole image."""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel
from .._validate import check_image, check_int

__all__ = ["reflect101", "fill_border_reflect101", "pad_reflect101"]


@kernel
def reflect101(i, n):
    """Index ``i`` folded into [0, n) with OpenCV's BORDER_REFLECT_101 (``-1 -> 1``, ``n -> n-2``).

    Parameters
    ----------
    i : int
    n : int >= 1

    Returns
    -------
    int
    """
    if n == 1:
        return 0
    while i < 0 or i >= n:
        if i < 0:
            i = -i
        if i >= n:
            i = 2 * n - 2 - i
    return i


@kernel
def fill_border_reflect101(row, left, w):
    """Fill a padded row's border in place: ``row[left:left + w]`` holds the data, the ``left``
    entries before it and all entries after it become its reflect-101 extension.

    Parameters
    ----------
    row : ndarray (1-D)
        Written in place.
    left : int
        Border width before the data.
    w : int
        Data length.

    Returns
    -------
    None
    """
    for j in range(left):
        row[j] = row[left + reflect101(j - left, w)]
    for j in range(left + w, row.shape[0]):
        row[j] = row[left + reflect101(j - left, w)]


@kernel(parallel=True)
def _pad_kernel(img, out, top, left):
    """Fill ``out`` with ``img`` at (top, left) and its reflect-101 border around it."""
    h, w = img.shape
    for i in numba.prange(out.shape[0]):
        src = img[reflect101(i - top, h)]
        dst = out[i]
        shift = np.uint64(left)
        for j in range(w):  # unsigned indices: a plain vectorised copy
            dst[np.uint64(j) + shift] = src[np.uint64(j)]
        fill_border_reflect101(dst, left, w)


def pad_reflect101(image, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """A 2-D image with a border of the given widths, reflect-101 (OpenCV's
    ``cv2.BORDER_REFLECT_101``, numpy's ``mode="reflect"``): ``dcb|abcd|cba``.

    Parameters
    ----------
    image : ndarray (H, W), uint8, float32 or float64
    top, bottom, left, right : int >= 0
        Border widths; widths beyond the image keep folding back and forth.

    Returns
    -------
    ndarray (H + top + bottom, W + left + right), the dtype of ``image``
    """
    img = check_image(image, allow_color=False)
    widths = [check_int(v, name, low=0) for v, name in
              ((top, "top"), (bottom, "bottom"), (left, "left"), (right, "right"))]
    out = np.empty((img.shape[0] + widths[0] + widths[1], img.shape[1] + widths[2] + widths[3]),
                   img.dtype)
    _pad_kernel(np.ascontiguousarray(img), out, widths[0], widths[2])
    return out
