"""Smoothing filters: the one Gaussian kernel (:func:`gaussian_kernel`, ``cv2.getGaussianKernel``,
also used by Farneback's polynomial expansion and window), :func:`gaussian_blur`
(``cv2.GaussianBlur``, reflect-101 border) and :func:`median_blur` (``cv2.medianBlur``, TV-L1's
flow filter)."""

from __future__ import annotations

import math

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_float, check_image, check_int, check_int_pair
from .border import fill_border_reflect101, reflect101

__all__ = ["gaussian_kernel", "gaussian_blur", "median_blur"]


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



def _median_network(n: int) -> np.ndarray:
    """Comparators ``(i, j)`` that leave the median (rank ``n // 2``) of ``n`` values in place.

    Batcher's merge-exchange sorting network for ``n`` inputs (Knuth, TAOCP 3, algorithm
    5.2.2M), pruned backwards to the comparators the middle output depends on.
    """
    t = max(1, (n - 1).bit_length())
    pairs = []
    p = 1 << (t - 1)
    while p > 0:
        q, r, d = 1 << (t - 1), 0, p
        while True:
            pairs.extend((i, i + d) for i in range(n - d) if i & p == r)
            if q == p:
                break
            d, q, r = q - p, q // 2, p
        p //= 2
    needed, kept = {n // 2}, []
    for i, j in reversed(pairs):
        if i in needed or j in needed:
            kept.append((i, j))
            needed |= {i, j}
    return np.array(kept[::-1], np.int64).reshape(-1, 2)


@kernel(parallel=True)
def _median_kernel(src, r, network, out):
    """Each output row: the (2r+1)^2 shifted copies of the neighbouring rows (edges replicated)
    as rows of a table, the comparator network applied row against row (min/max over the
    whole image row, which vectorises), the middle row out."""
    h, w = src.shape
    k = 2 * r + 1
    for y in numba.prange(h):
        table = np.empty((k * k, w), src.dtype)
        padded = np.empty(w + 2 * r, src.dtype)
        n = 0
        for dy in range(-r, r + 1):
            row = src[min(max(y + dy, 0), h - 1)]
            padded[r:r + w] = row
            padded[:r] = row[0]
            padded[r + w:] = row[w - 1]
            for dx in range(k):
                table[n] = padded[dx:dx + w]
                n += 1
        for c in range(network.shape[0]):
            lo = table[network[c, 0]]
            hi = table[network[c, 1]]
            for x in range(w):
                a = lo[x]
                b = hi[x]
                lo[x] = min(a, b)
                hi[x] = max(a, b)
        out[y] = table[(k * k) // 2]


def median_blur(image, ksize: int) -> np.ndarray:
    """Median of each ``ksize x ksize`` neighbourhood, edge pixels replicated
    (``cv2.medianBlur``'s border), for float32 images: a sorting network pruned to the median
    (:func:`_median_network`), run across whole rows at once.

    Parameters
    ----------
    image : ndarray (H, W), float32/float64/uint8
    ksize : int, odd, >= 1

    Returns
    -------
    ndarray (H, W), float32
    """
    img = np.ascontiguousarray(check_image(image, allow_color=False), np.float32)
    ksize = check_int(ksize, "ksize", low=1)
    if ksize % 2 == 0:
        raise ValueError(f"ksize must be odd, got {ksize}")
    out = np.empty_like(img)
    _median_kernel(img, ksize // 2, _median_network(ksize * ksize), out)
    return out


@warmup_hook
def _warmup():
    gaussian_blur(np.zeros((4, 4), np.float32), (3, 3), 0.0)
    median_blur(np.zeros((4, 4), np.float32), 3)
