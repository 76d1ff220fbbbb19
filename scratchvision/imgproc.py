"""Low-level image operations shared by the whole package.

* :func:`remap` / the kernel-level :func:`sample_bilinear`: the bilinear sampler at arbitrary
  positions. Every module that reads an image at scattered sub-pixel positions (the synthetic
  renderer, flow warping, dense flow) calls it.
* :func:`linear_taps` (kernel-level :func:`linear_tap`, and :func:`window_taps` for windows
  resampled on one grid) / :func:`sample_separable`: bilinear sampling on rectangular grids, where
  each column's and each row's taps are computed once and each source row is interpolated along
  x once; :func:`resize` and the single-object trackers' windows use it, through
  :func:`sample_separable_checked`, which skips the input checks (one thread below 32k samples,
  where starting Numba's pool costs more than the work).
* :func:`rgb_to_gray`, :func:`rgb_to_hsv`: colour conversions with exactly OpenCV's arithmetic
  (``cv2.COLOR_RGB2GRAY``, ``cv2.COLOR_RGB2HSV_FULL``).
* :func:`reflect101` / :func:`fill_border_reflect101` / :func:`pad_reflect101`: OpenCV's
  default border, for one index or one padded row inside a kernel, or as a padded copy of a
  whole image.
* :func:`gaussian_kernel`: the one Gaussian kernel (``cv2.getGaussianKernel``), used by
  :func:`gaussian_blur`, the polynomial expansion and the Gaussian window of Farneback's flow.
* :func:`resize`: ``cv2.resize`` with ``INTER_LINEAR`` or (downscaling) ``INTER_AREA``.

Coordinates follow OpenCV: pixel ``(row i, column j)`` has its centre at ``x = j, y = i``.
"""

from __future__ import annotations

import functools
import math

import numba
import numpy as np

from ._jit import kernel, warmup_hook
from ._validate import (DTypeError, as_array, check_bool, check_boxes, check_choice, check_finite, check_float, check_image,
                        check_int, check_int_pair)

__all__ = ["BORDER_MODES", "remap", "rgb_to_gray", "rgb_to_hsv", "to_uint8", "sample_bilinear", "reflect101", "fill_border_reflect101",
           "pad_reflect101", "gaussian_kernel", "gaussian_blur", "resize", "linear_taps", "linear_tap", "window_taps", "interpolate_rows",
           "sample_separable", "sample_separable_checked", "crop_patches", "blend_bilinear"]

#: Border modes of :func:`remap`, by name -> code used inside kernels.
BORDER_MODES = {"constant": 0, "replicate": 1, "nan": 2}


@kernel
def reflect101(i, n):
    """Index ``i`` folded into [0, n) with OpenCV's BORDER_REFLECT_101 (``-1 -> 1``, ``n -> n-2``)."""
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
    entries before it and all entries after it become its reflect-101 extension."""
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


@kernel
def _sample_near_border(img, i0, j0, ax, ay, c, border_mode, border_value):
    """The slow path of :func:`sample_bilinear`, for neighbours that may lie outside."""
    h, w = img.shape[0], img.shape[1]
    # A neighbour of weight zero is not read, so a position exactly on the last row or column
    # counts as inside.
    j1 = j0 + 1 if ax > 0.0 else j0
    i1 = i0 + 1 if ay > 0.0 else i0
    # Read at clamped indices (replicate), then replace outside neighbours for the other modes.
    jc0, jc1 = min(max(j0, 0), w - 1), min(max(j1, 0), w - 1)
    ic0, ic1 = min(max(i0, 0), h - 1), min(max(i1, 0), h - 1)
    v00 = np.float64(img[ic0, jc0, c])
    v01 = np.float64(img[ic0, jc1, c])
    v10 = np.float64(img[ic1, jc0, c])
    v11 = np.float64(img[ic1, jc1, c])
    if border_mode != 1:
        fill = np.nan if border_mode == 2 else border_value
        if i0 != ic0 or j0 != jc0:
            v00 = fill
        if i0 != ic0 or j1 != jc1:
            v01 = fill
        if i1 != ic1 or j0 != jc0:
            v10 = fill
        if i1 != ic1 or j1 != jc1:
            v11 = fill
    return blend_bilinear(v00, v01, v10, v11, ax, ay)


@kernel
def sample_bilinear(img, x, y, c, border_mode, border_value):
    """Bilinear value of channel ``c`` of ``img`` (H, W, C) at ``(x, y)`` (kernel-level).

    The neighbours ``j0 = floor(x), j0 + 1`` by ``i0 = floor(y), i0 + 1`` are blended with
    weights ``(1-ax)(1-ay), ax(1-ay), (1-ax)ay, ax ay`` where ``ax, ay`` are the fractional parts.
    A neighbour outside the image takes ``border_value`` (mode 0, like ``cv2.BORDER_CONSTANT``),
    the nearest edge pixel (mode 1, ``cv2.BORDER_REPLICATE``), or NaN (mode 2); a neighbour of
    weight zero is not read, so a position exactly on the last row or column is inside.
    """
    h, w = img.shape[0], img.shape[1]
    i, j, ax, ay = _bilinear_position(x, y, h, w)
    if _neighbours_inside(i, j, h, w):  # the common case
        return blend_bilinear(np.float64(img[i, j, c]), np.float64(img[i, j + 1, c]), np.float64(img[i + 1, j, c]),
                      np.float64(img[i + 1, j + 1, c]), ax, ay)
    return _sample_near_border(img, i, j, ax, ay, c, border_mode, border_value)


@kernel(inline=True)
def _bilinear_position(x, y, h, w):
    """The top-left neighbour ``(i, j)`` of position ``(x, y)`` in an ``h x w`` image and the
    fractions ``(ax, ay)``. Beyond one pixel outside, only the border contributes: clamping
    there changes nothing and keeps the integer conversion in range for any finite position."""
    x = min(max(x, -2.0), w + 1.0)
    y = min(max(y, -2.0), h + 1.0)
    x0 = np.floor(x)
    y0 = np.floor(y)
    return np.int64(y0), np.int64(x0), x - x0, y - y0


@kernel(inline=True)
def _neighbours_inside(i, j, h, w):
    """Whether all four neighbours ``(i, j) .. (i + 1, j + 1)`` lie in an ``h x w`` image."""
    return 0 <= i and i + 1 < h and 0 <= j and j + 1 < w


@kernel(inline=True)
def blend_bilinear(v00, v01, v10, v11, ax, ay):
    """The bilinear blend of four neighbours: along x by ``ax``, then along y by ``ay``, in the
    inputs' precision (float64 here; float32 in ECC's warp, as OpenCV 5 blends)."""
    top = v00 + ax * (v01 - v00)
    bottom = v10 + ax * (v11 - v10)
    return top + ay * (bottom - top)


@kernel(parallel=True)
def _remap_kernel(img, map_x, map_y, border_mode, border_value, out):
    """Fill ``out`` (positions checked finite by the caller; no reduction in the parallel loop,
    whose per-call setup cost 0.6 ms on 2 threads), row by row: first every position's
    neighbour and fractions (:func:`sample_bilinear`'s arithmetic, in a loop without
    branches), then the blends, reading the flattened image with unsigned indices where all
    four neighbours are inside and through the border path elsewhere. 1.6x faster than a call
    of :func:`sample_bilinear` per sample on one channel, 3x on three."""
    h, w, nc = img.shape
    flat = img.reshape(-1)
    n = map_x.shape[1]
    for r in numba.prange(map_x.shape[0]):
        i0, j0 = np.empty(n, np.int64), np.empty(n, np.int64)
        ax, ay = np.empty(n), np.empty(n)
        for q in range(n):
            i0[q], j0[q], ax[q], ay[q] = _bilinear_position(np.float64(map_x[r, q]), np.float64(map_y[r, q]), h, w)
        row = out[r].reshape(-1)
        for q in range(n):
            i, j = i0[q], j0[q]
            if _neighbours_inside(i, j, h, w):
                p = np.uint64((i * w + j) * nc)
                right, below = np.uint64(nc), np.uint64(w * nc)
                for c in range(np.uint64(nc)):
                    row[np.uint64(q * nc) + c] = blend_bilinear(
                        np.float64(flat[p + c]), np.float64(flat[p + c + right]), np.float64(flat[p + c + below]),
                        np.float64(flat[p + c + below + right]), ax[q], ay[q])
            else:
                for c in range(nc):
                    row[q * nc + c] = _sample_near_border(img, i, j, ax[q], ay[q], c, border_mode, border_value)


def remap(image, map_x, map_y, *, border_mode: str = "constant", border_value: float = 0.0):
    """Sample ``image`` at ``(map_x, map_y)`` with bilinear interpolation.

    ``out[i, j] = image(map_x[i, j], map_y[i, j])``, the counterpart of
    ``cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=...)``. Unlike cv2, which
    rounds the map to 1/32 pixel, the fractional position is used exactly (float64 arithmetic),
    so the result equals ``scipy.ndimage.map_coordinates(..., order=1)``. Positions must be
    finite.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, C), uint8/float32/float64
    map_x, map_y : ndarray, (H', W'), float
        Where to sample, in pixel coordinates (x = column, y = row).
    border_mode : {"constant", "replicate", "nan"}
        What neighbours outside the image contribute: ``border_value``, the nearest edge pixel,
        or NaN.
    border_value : float
        The constant for ``border_mode="constant"``.

    Returns
    -------
    ndarray, (H', W') or (H', W', C), float32
    """
    img = check_image(image, any_channels=True)
    mx = as_array(map_x, "map_x")
    my = as_array(map_y, "map_y")
    if mx.ndim != 2 or my.shape != mx.shape:
        raise ValueError(f"map_x and map_y must be 2-D arrays of one shape, got {mx.shape} and {my.shape}")
    mode = BORDER_MODES[check_choice(border_mode, "border_mode", BORDER_MODES)]
    value = check_float(border_value, "border_value")
    img3 = np.ascontiguousarray(img.reshape(img.shape[0], img.shape[1], -1), np.float32)
    out = np.empty((mx.shape[0], mx.shape[1], img3.shape[2]), np.float32)
    # float32 maps stay float32 (the common case, no copy); anything else is read as float64; both
    # C-contiguous, so the kernel has one compiled form per map type, whatever views come in.
    dtype = np.float32 if mx.dtype == my.dtype == np.float32 else np.float64
    mx = np.ascontiguousarray(mx, dtype)
    my = np.ascontiguousarray(my, dtype)
    if not (np.isfinite(mx).all() and np.isfinite(my).all()):
        raise ValueError("map_x and map_y must be finite")
    _remap_kernel(img3, mx, my, mode, value, out)
    return out if img.ndim == 3 else out[:, :, 0]


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
    nearest integer (halves to even) and clipped to 0..255; uint8 input is returned unchanged."""
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


#: cv2.getGaussianKernel's fixed kernels for sigma <= 0 and these sizes (binomial coefficients).
_SMALL_GAUSSIANS = {1: [1.0], 3: [0.25, 0.5, 0.25], 5: [0.0625, 0.25, 0.375, 0.25, 0.0625],
                    7: [0.03125, 0.109375, 0.21875, 0.28125, 0.21875, 0.109375, 0.03125],
                    9: [v / 256 for v in (4, 13, 30, 51, 60, 51, 30, 13, 4)]}


def gaussian_kernel(ksize: int, sigma: float, dtype=np.float64, *, float32_terms: bool = False) -> np.ndarray:
    """The 1-D Gaussian ``g[i] ~ exp(-(i - (ksize-1)/2)**2 / (2 sigma**2))``, summing to 1, as
    ``cv2.getGaussianKernel(ksize, sigma, ktype)``.

    With ``sigma <= 0``, sizes 1, 3, 5, 7 and 9 give OpenCV's fixed kernels and other sizes
    use ``sigma = 0.3 ((ksize - 1) / 2 - 1) + 0.8``. The weights are computed in float64 and then
    cast to ``dtype`` (OpenCV's float32 kernels are its float64 ones rounded).

    Parameters
    ----------
    ksize : int, odd, >= 1
    sigma : float
    dtype : {float64, float32}
    float32_terms : bool
        Round each exponential to float32 before summing and scaling: how OpenCV's Farneback
        code builds its polynomial-expansion and window kernels (``sigma`` must be > 0).

    Returns
    -------
    ndarray (ksize,), ``dtype``
    """
    ksize = check_int(ksize, "ksize", low=1)
    if ksize % 2 == 0:
        raise ValueError(f"ksize must be odd, got {ksize}")
    sigma = check_float(sigma, "sigma")
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"dtype must be float32 or float64, got {dtype}")
    if sigma <= 0 and ksize in _SMALL_GAUSSIANS:
        return np.array(_SMALL_GAUSSIANS[ksize], dtype)
    if sigma <= 0:
        sigma = 0.3 * ((ksize - 1) * 0.5 - 1) + 0.8
    if sigma < 1e-100:  # off-centre weights are exp(-1e200) = 0 (and sigma^2 would underflow)
        return np.eye(1, ksize, ksize // 2, dtype).ravel()
    scale2 = -0.5 / (sigma * sigma)
    # the C library's exp, element by element, summed in order, as OpenCV does
    g = np.array([math.exp(scale2 * t * t) for t in np.arange(ksize) - (ksize - 1) * 0.5])
    if float32_terms:
        g = g.astype(np.float32).astype(np.float64)
    total = 0.0
    for v in g.tolist():
        total += v
    return (g * (1.0 / total)).astype(dtype)


@kernel(parallel=True)
def _separable_reflect101_kernel(img, kx, ky, tmp, out):
    """Correlate with ``kx`` along the rows into ``tmp``, then with ``ky`` down the columns
    (float32, symmetric kernels applied as ``k[0] c + k[i] (a + b)``, reflect-101 borders):
    OpenCV's order of operations, bit-exact with it for 3-tap kernels."""
    h, w = img.shape
    ry = ky.shape[0] // 2
    rx = kx.shape[0] // 2
    for y in numba.prange(h):
        row = np.empty(w + 2 * rx, np.float32)
        row[rx:rx + w] = img[y]
        fill_border_reflect101(row, rx, w)
        dst = tmp[y]
        centre = row[rx:rx + w]
        for x in range(w):
            dst[x] = centre[x] * kx[rx]
        for k in range(1, rx + 1):
            kk = kx[rx + k]
            left = row[rx - k:rx - k + w]  # shifted views: the loop vectorises
            right = row[rx + k:rx + k + w]
            for x in range(w):
                dst[x] += (left[x] + right[x]) * kk
    for y in numba.prange(h):
        dst = out[y]
        centre = tmp[y]
        for x in range(w):
            dst[x] = centre[x] * ky[ry]
        for k in range(1, ry + 1):
            a = tmp[reflect101(y - k, h)]
            b = tmp[reflect101(y + k, h)]
            kk = ky[ry + k]
            for x in range(w):
                dst[x] += (a[x] + b[x]) * kk


def gaussian_blur(image, ksize, sigma_x: float, sigma_y: float = 0.0) -> np.ndarray:
    """Blur a gray image with a separable Gaussian, as ``cv2.GaussianBlur(image, ksize, sigma_x,
    sigma_y)`` with its default border (reflect-101), in float32.

    Parameters
    ----------
    image : ndarray (H, W), uint8/float32/float64
    ksize : (int, int)
        Kernel (width, height), odd.
    sigma_x, sigma_y : float
        Standard deviations; ``sigma_y = 0`` means ``sigma_x``; a value <= 0 is derived from the
        size as :func:`gaussian_kernel` does.

    Returns
    -------
    ndarray (H, W), float32
    """
    img = check_image(image, allow_color=False)
    kw, kh = check_int_pair(ksize, "ksize", low=1)
    sigma_x = check_float(sigma_x, "sigma_x")
    sigma_y = check_float(sigma_y, "sigma_y")
    kx = gaussian_kernel(kw, sigma_x, np.float32)
    ky = gaussian_kernel(kh, sigma_y if sigma_y > 0 else sigma_x, np.float32)
    out = np.empty(img.shape, np.float32)
    _separable_reflect101_kernel(np.ascontiguousarray(img, np.float32), kx, ky, np.empty_like(out), out)
    return out


@functools.lru_cache(maxsize=32)
def _linear_table(src: int, dst: int):
    """cv2.resize INTER_LINEAR taps along one axis: half-pixel centres (:func:`linear_taps`);
    kept for the next frame of the same size (callers only read them)."""
    return linear_taps((np.arange(dst) + 0.5) * (src / dst) - 0.5, src)


def linear_taps(pos, src: int):
    """Bilinear taps of positions ``pos`` along an axis of ``src`` pixels: each position's left
    pixel and the weight of its right neighbour (float32, as OpenCV's), clamped at both ends so
    positions outside repeat the edge pixel (:func:`linear_tap` for one position). Feed them to
    :func:`sample_separable`."""
    pos = as_array(pos, "pos").astype(np.float64)
    check_finite(pos, "pos")
    src = check_int(src, "src", low=1)
    i0 = np.empty(pos.shape, np.int64)
    frac = np.empty(pos.shape, np.float32)
    _linear_taps_kernel(pos.reshape(-1), src, i0.reshape(-1), frac.reshape(-1))
    return i0, frac


@kernel
def linear_tap(pos, src):
    """Kernel-level bilinear tap of one position: ``(left pixel, float32 weight of its right
    neighbour)``, clamped to the ``src`` pixels of the axis."""
    i0 = np.int64(np.floor(pos))
    if i0 < 0:
        return 0, np.float32(0.0)
    if i0 >= src - 1:
        return src - 1, np.float32(0.0)
    return i0, np.float32(pos - i0)


@kernel
def _linear_taps_kernel(pos, src, i0, frac):
    for k in range(pos.shape[0]):
        i0[k], frac[k] = linear_tap(pos[k], src)


@kernel
def window_taps(centers, sizes, ow, oh, w, h):
    """Kernel-level taps of K windows sampled on one ``ow x oh`` grid: window ``k`` of size
    ``sizes[k]`` centred at ``centers[k]`` has grid point ``j`` at
    ``cx + (j - (ow - 1) / 2) sw / ow`` (and likewise in y), in an image of ``w x h`` pixels.
    Returns ``x0, ax`` (K, ow) and ``y0, ay`` (K, oh) for :func:`sample_separable`."""
    n = centers.shape[0]
    x0, ax = np.empty((n, ow), np.int64), np.empty((n, ow), np.float32)
    y0, ay = np.empty((n, oh), np.int64), np.empty((n, oh), np.float32)
    for k in range(n):
        step_x, step_y = sizes[k, 0] / ow, sizes[k, 1] / oh
        for j in range(ow):
            x0[k, j], ax[k, j] = linear_tap(centers[k, 0] + (j - (ow - 1) * 0.5) * step_x, w)
        for i in range(oh):
            y0[k, i], ay[k, i] = linear_tap(centers[k, 1] + (i - (oh - 1) * 0.5) * step_y, h)
    return x0, ax, y0, ay


#: Output rows per task of the parallel sampler.
_RUN_ROWS = 32

#: Below this many output values, :func:`sample_separable` samples on one thread (starting
#: Numba's thread pool costs more than the work).
_SERIAL_SAMPLES = 1 << 15


def sample_separable(image, x_taps, y_taps) -> np.ndarray:
    """Bilinear samples of ``image`` on K rectangular grids at once: grid k's columns and rows
    are given by taps ``x_taps = (x0, ax)`` of shape (K, ow) and ``y_taps = (y0, ay)`` of shape
    (K, oh) (or (ow,) and (oh,) for one grid) from :func:`linear_taps`. Rows are interpolated
    first, then columns (OpenCV's order).

    ``image`` (H, W) or (H, W, C), uint8, float32 or float64, is read as it is (no float copy of
    the whole frame).

    Returns
    -------
    ndarray (K, oh, ow) or (K, oh, ow, C), float32
    """
    img = check_image(image, "image", any_channels=True)
    x0, ax = _checked_taps(x_taps, "x_taps", img.shape[1])
    y0, ay = _checked_taps(y_taps, "y_taps", img.shape[0])
    if len(x0) != len(y0):
        raise ValueError(f"x_taps and y_taps must describe as many grids, got {len(x0)} and {len(y0)}")
    return sample_separable_checked(img, (x0, ax), (y0, ay))


def _checked_taps(taps, name, size):
    """``taps = (i0, frac)`` of :func:`linear_taps` along an axis of ``size`` pixels, as (K, n)
    int64 and float32 arrays."""
    try:
        i0, frac = taps
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair (i0, frac) from linear_taps, got {type(taps).__name__}") from None
    i0, frac = as_array(i0, f"{name}[0]"), as_array(frac, f"{name}[1]")
    if i0.shape != frac.shape or i0.ndim not in (1, 2):
        raise ValueError(f"{name}: i0 and frac must have one shape, (n,) or (K, n), got {i0.shape} and {frac.shape}")
    if i0.dtype.kind not in "iu":
        raise DTypeError(f"{name}[0] (i0) must be integers, got {i0.dtype}")
    if i0.size and (i0.min() < 0 or i0.max() > size - 1):
        raise ValueError(f"{name}[0] (i0) must lie in [0, {size - 1}] (the image's pixels along the axis)")
    frac = frac.astype(np.float32)
    if frac.size and not (np.isfinite(frac).all() and frac.min() >= 0 and frac.max() <= 1):
        raise ValueError(f"{name}[1] (frac) must lie in [0, 1]")
    return np.atleast_2d(i0.astype(np.int64)), np.atleast_2d(frac)


def sample_separable_checked(image, x_taps, y_taps) -> np.ndarray:
    """:func:`sample_separable` without the checks, for callers whose image and taps are known
    to be valid (:func:`resize`, the trackers' windows): the image an ndarray of an image dtype,
    taps (K, n) int64 / float32 within the image."""
    h, w = image.shape[:2]
    img3 = np.ascontiguousarray(image.reshape(h, w, -1))
    x0, ax = (np.atleast_2d(t) for t in x_taps)
    y0, ay = (np.atleast_2d(t) for t in y_taps)
    out = np.empty((y0.shape[0], y0.shape[1], x0.shape[1], img3.shape[2]), np.float32)
    if out.size < _SERIAL_SAMPLES:
        interpolate_rows(img3, x0, ax, y0, ay, out, 0, out.shape[0] * out.shape[1])
    else:
        _separable_linear_kernel(img3, x0, ax, y0, ay, out)
    return out if image.ndim == 3 else out[..., 0]


def _area_table(src: int, dst: int):
    """cv2.resize INTER_AREA taps along one downscaled axis as (dst index, src index, weight):
    each output averages the input cells its footprint covers, partial cells by their share."""
    scale = src / dst
    rows = []
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        s1 = min(int(np.ceil(f1)), src)
        s2 = min(int(np.floor(f2)), src)
        cell = min(scale, src - f1)
        if s1 - f1 > 1e-3:
            rows.append((d, s1 - 1, (s1 - f1) / cell))
        for s in range(s1, s2):
            rows.append((d, s, 1.0 / cell))
        if f2 - s2 > 1e-3 and s2 < src:
            rows.append((d, s2, min(f2 - s2, 1.0, cell) / cell))
    t = np.array(rows)
    return t[:, 0].astype(np.int64), t[:, 1].astype(np.int64), t[:, 2].astype(np.float32)


@kernel(parallel=True)
def _separable_linear_kernel(img, x0, ax, y0, ay, out):
    """:func:`interpolate_rows` over every output row, one parallel task per run of
    :data:`_RUN_ROWS` consecutive rows (each run interpolates the source rows it needs along x
    itself, so runs much shorter would repeat that work at their borders)."""
    rows = out.shape[0] * out.shape[1]
    for t in numba.prange((rows + _RUN_ROWS - 1) // _RUN_ROWS):
        interpolate_rows(img, x0, ax, y0, ay, out, _RUN_ROWS * t, min(_RUN_ROWS * t + _RUN_ROWS, rows))


@kernel
def interpolate_rows(img, x0, ax, y0, ay, out, start, stop):
    """Output rows ``start <= r < stop`` (row ``r`` is row ``r % oh`` of grid ``r // oh``):
    horizontal interpolation of the two source rows of tap ``y0``, then vertical (OpenCV's
    order), grid by grid. A grid whose columns are consecutive pixels at one fraction (a window
    at scale 1, clear of the right edge) reads its rows as contiguous runs of the flattened
    image (:func:`_interpolate_runs`); any other grid interpolates each source row it needs
    horizontally once (:func:`_interpolate_lines`). The arithmetic is the same either way."""
    oh = out.shape[1]
    r = start
    while r < stop:
        k = r // oh
        end = min(stop, (k + 1) * oh)  # the rows of grid k in the range
        if _shifted_taps(x0[k], ax[k], img.shape[1]):
            _interpolate_runs(img, x0[k, 0], ax[k, 0], y0[k], ay[k], out, r, end)
        else:
            _interpolate_lines(img, x0[k], ax[k], y0[k], ay[k], out, r, end)
        r = end


@kernel
def _interpolate_runs(img, left, a, y0, ay, out, start, stop):
    """Rows ``start .. stop - 1`` of ``out`` (row ``r`` is grid row ``r % oh``) for a grid whose
    columns start at pixel ``left`` and step by one pixel, all at fraction ``a``: each source
    row is read as one contiguous run of the flattened image, in a loop LLVM vectorises (the
    indices are unsigned, so Numba adds no negative-index wrap-around that would stop it)."""
    oh, ow = out.shape[1], out.shape[2]
    h, w, channels = img.shape
    flat, flat_out = img.reshape(-1), out.reshape(-1)
    size = np.uint64(ow * channels)
    step = np.uint64(channels)
    for r in range(start, stop):
        y = r % oh
        b = ay[y]
        first = np.uint64(r) * size
        top = np.uint64((y0[y] * w + left) * channels)
        bottom = np.uint64((min(y0[y] + 1, h - 1) * w + left) * channels)
        for i in range(size):
            upper = _lerp(flat[top + i], flat[top + i + step], a)
            lower = _lerp(flat[bottom + i], flat[bottom + i + step], a)
            flat_out[first + i] = _lerp(upper, lower, b)


@kernel
def _interpolate_lines(img, x0, ax, y0, ay, out, start, stop):
    """Rows ``start .. stop - 1`` of ``out`` (row ``r`` is grid row ``r % oh``) for any column
    taps ``x0, ax``: each source row the rows need is interpolated horizontally once, into a
    buffer indexed by source row (as many lines as the rows' taps span, each as wide as the
    output), and each output row blends its two lines."""
    oh, ow = out.shape[1], out.shape[2]
    h, w, channels = img.shape
    flat, flat_out = img.reshape(-1), out.reshape(-1)
    size = ow * channels
    lo, hi = h, 0
    for r in range(start, stop):
        lo = min(lo, y0[r % oh])
        hi = max(hi, min(y0[r % oh] + 1, h - 1))
    lines = np.empty((max(hi - lo + 1, 0), size), np.float32)
    done = np.zeros(lines.shape[0], np.bool_)
    for r in range(start, stop):
        y = r % oh
        top, bottom = y0[y], min(y0[y] + 1, h - 1)
        for row in (top, bottom):
            if not done[row - lo]:
                _horizontal_line(flat, row * w, x0, ax, w, channels, lines[row - lo])
                done[row - lo] = True
        upper, lower, b = lines[top - lo], lines[bottom - lo], ay[y]
        first = np.uint64(r * size)
        for i in range(np.uint64(size)):
            flat_out[first + i] = _lerp(upper[i], lower[i], b)


@kernel(inline=True)
def _lerp(p, q, a):
    """``p (1 - a) + q a`` in float32 (``a`` float32): OpenCV's bilinear step, along x or y."""
    return p * (np.float32(1.0) - a) + q * a


@kernel
def _horizontal_line(flat, row_start, x0, ax, w, channels, line):
    """Horizontal interpolation at column taps ``x0, ax`` of the image row whose first pixel is
    pixel ``row_start`` of the flattened image ``flat`` (``channels`` values per pixel)."""
    base = np.uint64(row_start * channels)
    if channels == 1:  # spelled out for gray and for RGB, so that the loops have no inner loop
        for x in range(len(x0)):
            a = ax[x]
            line[x] = _lerp(flat[base + np.uint64(x0[x])], flat[base + np.uint64(min(x0[x] + 1, w - 1))], a)
        return
    if channels == 3:
        for x in range(len(x0)):
            j = base + np.uint64(x0[x] * 3)
            j1 = base + np.uint64(min(x0[x] + 1, w - 1) * 3)
            a = ax[x]
            line[3 * x] = _lerp(flat[j], flat[j1], a)
            line[3 * x + 1] = _lerp(flat[j + np.uint64(1)], flat[j1 + np.uint64(1)], a)
            line[3 * x + 2] = _lerp(flat[j + np.uint64(2)], flat[j1 + np.uint64(2)], a)
        return
    for x in range(len(x0)):
        j = base + np.uint64(x0[x] * channels)
        j1 = base + np.uint64(min(x0[x] + 1, w - 1) * channels)
        a = ax[x]
        for c in range(np.uint64(channels)):
            line[np.uint64(x) * np.uint64(channels) + c] = _lerp(flat[j + c], flat[j1 + c], a)


@kernel
def _shifted_taps(x0, ax, w):
    """Whether column taps ``x0, ax`` are consecutive pixels at one fraction, with the right
    neighbour of the last one inside the row (no clamping)."""
    if x0[0] + len(x0) >= w:
        return False
    for x in range(len(x0)):
        if x0[x] != x0[0] + x or ax[x] != ax[0]:
            return False
    return True


@kernel(parallel=True)
def _resize_area_kernel(img, xd, xs, xw, y_start, ys, yw, out):
    """For each output row, weighted sum of its source rows, each summed along x by the table."""
    ow, nc = out.shape[1], out.shape[2]
    for y in numba.prange(out.shape[0]):
        acc = np.zeros((ow, nc), np.float32)
        buf = np.empty((ow, nc), np.float32)
        for t in range(y_start[y], y_start[y + 1]):
            buf[:] = 0.0
            src = img[ys[t]]
            for k in range(xd.shape[0]):
                for c in range(nc):
                    buf[xd[k], c] += src[xs[k], c] * xw[k]
            for x in range(ow):
                for c in range(nc):
                    acc[x, c] += buf[x, c] * yw[t]
        out[y] = acc


def resize(image, dsize, *, interpolation: str = "linear") -> np.ndarray:
    """Resize an image as ``cv2.resize(image, dsize, interpolation=...)`` in float32.

    ``"linear"`` is ``INTER_LINEAR``: output pixel centres map to ``(d + 0.5) * src / dst -
    0.5`` in the input, blended bilinearly with the edge pixel repeated beyond the border.
    ``"area"`` is ``INTER_AREA`` for shrinking: each output pixel is the mean of the input area
    its footprint covers (partial pixels weighted by the part covered).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, C), uint8/float32/float64
    dsize : (int, int)
        Output (width, height), OpenCV's order.
    interpolation : {"linear", "area"}
        ``"area"`` needs an output no larger than the input in both directions.

    Returns
    -------
    ndarray (height, width) or (height, width, C), float32
    """
    img = check_image(image, any_channels=True)
    dw, dh = check_int_pair(dsize, "dsize", low=1)
    check_choice(interpolation, "interpolation", ("linear", "area"))
    h, w = img.shape[:2]
    img3 = img.reshape(h, w, -1)
    if (dw, dh) == (w, h):
        out = img3.astype(np.float32)
    elif interpolation == "linear":  # uint8 is read as it is (exact in float32); float64 as float32
        src = np.ascontiguousarray(img3, None if img3.dtype == np.uint8 else np.float32)
        out = sample_separable_checked(src, _linear_table(w, dw), _linear_table(h, dh))[0]
    else:
        if dw > w or dh > h:
            raise ValueError(f"interpolation='area' only shrinks; dsize {(dw, dh)} exceeds the image {(w, h)}")
        img3 = np.ascontiguousarray(img3, np.float32)
        out = np.empty((dh, dw, img3.shape[2]), np.float32)
        xd, xs, xw = _area_table(w, dw)
        yd, ys, yw = _area_table(h, dh)
        y_start = np.searchsorted(yd, np.arange(dh + 1))
        _resize_area_kernel(img3, xd, xs, xw, y_start, ys, yw, out)
    return out if img.ndim == 3 else out[:, :, 0]


def crop_patches(frame, boxes, size=(128, 64), keep_aspect: bool = True) -> np.ndarray:
    """Image patches of boxes, resized to one size: the inputs of a ReID network, extracted as
    deep_sort's ``extract_image_patch`` does.

    For each box: with ``keep_aspect`` its width becomes ``height * w / h`` of ``size`` about its
    centre (so the patch is not stretched); the corners are truncated to integers, clipped to
    ``[0, width - 1]`` and ``[0, height - 1]`` (deep_sort's bound: the last row and column of the
    frame are never included), the region cut out and resized with :func:`resize` (bilinear, as
    ``cv2.resize``; float32, where OpenCV rounds uint8 results: within one grey level of it).

    Parameters
    ----------
    frame : ndarray (H, W) or (H, W, C)
        uint8, or float.
    boxes : array (N, 4+)
        x1, y1, x2, y2 (further columns, such as scores, are ignored).
    size : (int, int)
        Patch (height, width): (128, 64) for DeepSORT's network, (256, 128) for OSNet.
    keep_aspect : bool

    Returns
    -------
    ndarray of float32 (N, height, width[, C])
        A box left with no pixels inside the frame (deep_sort then draws random noise) gives an
        all-zero patch, so every row keeps its box.

    References
    ----------
    Wojke, N., Bewley, A. & Paulus, D. "Simple Online and Realtime Tracking with a Deep
    Association Metric." ICIP 2017. doi:10.1109/ICIP.2017.8296962

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.imgproc import crop_patches
    >>> frame = np.arange(100 * 80 * 3, dtype=np.uint8).reshape(100, 80, 3)
    >>> crop_patches(frame, [[10, 10, 30, 60], [-50, -50, -10, -10]]).shape
    (2, 128, 64, 3)
    """
    img = check_image(frame, "frame", any_channels=True)
    a = as_array(boxes, "boxes")
    b = check_boxes(a[:, :4] if a.ndim == 2 and a.shape[1] > 4 else a, "boxes")
    ph, pw = check_int_pair(size, "size", low=1, labels=("height", "width"))
    keep_aspect = check_bool(keep_aspect, "keep_aspect")
    h, w = img.shape[:2]
    out = np.zeros((len(b), ph, pw) + img.shape[2:], np.float32)
    for i, (x1, y1, x2, y2) in enumerate(b):
        left, width, height = x1, x2 - x1, y2 - y1
        if keep_aspect:
            new_width = pw / ph * height
            left -= (new_width - width) / 2
            width = new_width
        corners = np.array([left, y1, left + width, y1 + height]).astype(np.int64)  # truncation, as astype(int)
        sx, sy = max(corners[0], 0), max(corners[1], 0)
        ex, ey = min(corners[2], w - 1), min(corners[3], h - 1)
        if sx < ex and sy < ey:
            out[i] = resize(img[sy:ey, sx:ex], (pw, ph))
    return out


@warmup_hook
def _warmup():
    grid = np.zeros((2, 2), np.float32)
    remap(np.zeros((4, 4), np.float32), grid, grid)
    for dtype in (np.uint8, np.float32):
        rgb_to_gray(np.zeros((2, 2, 3), dtype))
    gaussian_blur(np.zeros((4, 4), np.float32), (3, 3), 0.0)
    for interpolation in ("linear", "area"):
        resize(np.zeros((4, 4), np.float32), (2, 2), interpolation=interpolation)
        resize(np.zeros((4, 4, 2), np.float32), (3, 3), interpolation=interpolation)
    for dtype in (np.uint8, np.float32, np.float64):  # the frames', the pyramids' and the masks' types,
        for shape in ((8, 8), (8, 8, 3)):  # small outputs sampled serially, large ones in parallel
            for size in ((4, 4), (200, 200)):
                resize(np.zeros(shape, dtype), size)
