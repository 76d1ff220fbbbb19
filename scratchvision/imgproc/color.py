"""Colour conversions with exactly OpenCV's arithmetic: :func:`rgb_to_gray`
(``cv2.COLOR_RGB2GRAY``), :func:`rgb_to_hsv` (``cv2.COLOR_RGB2HSV_FULL``) and :func:`to_uint8`
(``saturate_cast<uchar>``)."""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import DTypeError, as_array, check_image

__all__ = ["rgb_to_gray", "rgb_to_hsv", "to_uint8"]


def rgb_to_gray(image) -> np.ndarray:
    """Convert an RGB image to gray exactly as ``cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)``.

    ``Y = 0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601). For uint8, OpenCV 5's fixed-point form is
    used: ``(9798 R + 19235 G + 3735 B + 2**14) >> 15``, which gives the same bits as cv2 5.x on
    all 2**24 colours (tested). OpenCV 4.x rounded with 14 fractional bits instead and differs by
    one gray level on about 0.3 % of colours. Float input is computed in float32. A gray (H, W)
    image is returned unchanged.

    Parameters
    ----------
    image : ndarray, (H, W, 3) RGB or (H, W), uint8/float32/float64

    Returns
    -------
    ndarray, (H, W), uint8 for uint8 input, float32 otherwise

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import rgb_to_gray
    >>> rgb_to_gray(np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255]]], np.uint8)).tolist()
    [[76, 150, 29]]
    """
    img = check_image(image)
    if img.ndim == 2:
        return img
    out = np.empty(img.shape[:2], np.uint8 if img.dtype == np.uint8 else np.float32)
    _gray_kernel(np.ascontiguousarray(img), out, img.dtype == np.uint8)
    return out


@kernel(parallel=True)
def _gray_kernel(rgb, out, fixed_point):
    """Rows in parallel; each row walks the flattened image with unsigned indices (and, for uint8,
    32-bit integer arithmetic) in a loop LLVM vectorises: 3-D indexing and int64 products had
    kept it scalar, 4.7x slower. The index constants are written inside the loops: a value
    defined outside a ``prange`` loop reaches its body as a run-time argument, and a stride
    LLVM cannot see stops the vectorisation."""
    h, w = out.shape
    flat, flat_out = rgb.reshape(-1), out.reshape(-1)
    if fixed_point:
        for i in numba.prange(h):
            first = np.uint64(i * w)
            for j in range(np.uint64(w)):
                q = (first + j) * np.uint64(3)
                y = (np.int32(flat[q]) * np.int32(9798) + np.int32(flat[q + np.uint64(1)]) * np.int32(19235)
                     + np.int32(flat[q + np.uint64(2)]) * np.int32(3735) + np.int32(16384)) >> np.int32(15)
                flat_out[first + j] = np.uint8(y)
    else:
        for i in numba.prange(h):
            first = np.uint64(i * w)
            for j in range(np.uint64(w)):
                q = (first + j) * np.uint64(3)
                flat_out[first + j] = (np.float32(flat[q]) * np.float32(0.299)
                                       + np.float32(flat[q + np.uint64(1)]) * np.float32(0.587)
                                       + np.float32(flat[q + np.uint64(2)]) * np.float32(0.114))


def to_uint8(a) -> np.ndarray:
    """``a`` as bytes the way OpenCV's ``saturate_cast<uchar>`` makes them: rounded to the
    nearest integer (halves to even) and clipped to 0..255; uint8 input is returned unchanged.

    Parameters
    ----------
    a : array-like
        Any numbers; NaN is refused.

    Returns
    -------
    ndarray of uint8, the shape of ``a``
    """
    a = as_array(a, "a")
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind == "f" and a.size and np.isnan(a).any():
        raise ValueError("a must not contain NaN (it has no byte value)")
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


def rgb_to_hsv(image) -> np.ndarray:
    """Convert a uint8 RGB image to HSV with the hue over the full byte, as
    ``cv2.cvtColor(image, cv2.COLOR_RGB2HSV_FULL)``.

    ``V = max(R, G, B)``, ``S = 255 (V - min) / V`` and the hue sector formula scaled so a full
    turn is 256, all in OpenCV's 12-bit fixed point (divisions by the tabulated
    ``round(2**12 * 255 / V)`` and ``round(2**12 * 256 / (6 (V - min)))``), which makes it
    bit-equal to cv2 (tested). A gray (H, W) image is read as R = G = B.

    Parameters
    ----------
    image : ndarray, (H, W, 3) RGB or (H, W), uint8

    Returns
    -------
    ndarray, (H, W, 3), uint8: hue 0..255, saturation, value
    """
    img = check_image(image)
    if img.dtype != np.uint8:
        raise DTypeError(f"image must be uint8, got {img.dtype}")
    rgb = np.repeat(img[..., None], 3, axis=2) if img.ndim == 2 else img
    r, g, b = (rgb[..., k].astype(np.int32) for k in range(3))
    v = np.maximum(np.maximum(r, g), b)
    diff = v - np.minimum(np.minimum(r, g), b)
    s = (diff * _HSV_SDIV[v] + 2048) >> 12
    h = np.where(v == r, g - b, np.where(v == g, b - r + 2 * diff, r - g + 4 * diff))
    h = (h * _HSV_HDIV[diff] + 2048) >> 12
    h = np.where(h < 0, h + 256, h)
    return np.stack([np.minimum(h, 255), s, v], axis=-1).astype(np.uint8)


#: OpenCV's fixed-point reciprocals for rgb_to_hsv (index 0 unused: V = 0 or V = min gives 0).
_HSV_SDIV = np.array([0] + [int(np.rint((255 << 12) / i)) for i in range(1, 256)], np.int32)
_HSV_HDIV = np.array([0] + [int(np.rint((256 << 12) / (6.0 * i))) for i in range(1, 256)], np.int32)


@warmup_hook
def _warmup():
    for dtype in (np.uint8, np.float32):
        rgb_to_gray(np.zeros((2, 2, 3), dtype))
