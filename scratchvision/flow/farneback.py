"""Dense optical flow by polynomial expansion (Farneback 2003), as ``cv2.calcOpticalFlowFarneback``.

The algorithm in a few sentences. Around every pixel, the image is approximated by a quadratic
polynomial ``f(x) ~ x^T A x + b^T x + c``, fitted by Gaussian-weighted least squares
(:func:`poly_expansion`). If the second frame is the first shifted by ``d``, its polynomial has
the same ``A`` and ``b2 = b1 - 2 A d``, so ``A d = (b1 - b2) / 2``. With a current estimate of
``d``, the second frame's coefficients are read at ``x + d``, the averaged ``A`` and the
right-hand side ``A d + (b1 - b2) / 2`` are formed per pixel, and ``d`` is solved from their
normal equations averaged over a window (a box or a Gaussian): ``sum(A^T A) d = sum(A^T h)``.
This is repeated ``iterations`` times per layer of a coarse-to-fine pyramid.

Reproduced from OpenCV (``modules/video/src/optflowgf.cpp``) so that results match cv2: layer ``k``
of ``levels + 1`` is built from the full-resolution frame (:func:`~scratchvision.flow.pyramid.dense_pyramid`:
Gaussian blur with sigma ``(1/scale - 1) / 2`` then bilinear resize, layer 0 blurred with
``[1/4, 1/2, 1/4]``, layers under 32 pixels dropped), polynomial
coefficients use replicate borders and the sparse inverse of the 6x6 Gram matrix, the
second frame's linear terms count as zero where the displaced pixel leaves the image, a 5-pixel
frame tapers the equations with weights (0.14, 0.14, 0.4472, 0.4472, 0.4472), the determinant
gets ``+ 1e-3`` and the box window is ``2 (winsize // 2) + 1`` wide but normalised by
``winsize**2``.

References
----------
G. Farneback. "Two-Frame Motion Estimation Based on Polynomial Expansion." SCIA 2003,
LNCS 2749, pp. 363-370. doi:10.1007/3-540-45103-X_50
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_float, check_flow, check_image, check_int
from ..imgproc import gaussian_kernel, resize
from .pyramid import dense_pyramid_sizes, pyramid_layer

__all__ = ["OPTFLOW_USE_INITIAL_FLOW", "OPTFLOW_FARNEBACK_GAUSSIAN", "poly_expansion",
           "poly_expansion_basis", "calc_optical_flow_farneback", "FarnebackTrace"]

#: Flag: start from the ``flow`` argument instead of zero (``cv2.OPTFLOW_USE_INITIAL_FLOW``).
OPTFLOW_USE_INITIAL_FLOW = 4
#: Flag: average the equations with a Gaussian window instead of a box
#: (``cv2.OPTFLOW_FARNEBACK_GAUSSIAN``).
OPTFLOW_FARNEBACK_GAUSSIAN = 256

_BORDER_TAPER = np.array([0.14, 0.14, 0.4472, 0.4472, 0.4472], np.float32)
_ROW_BLOCK = 32  # rows per parallel task of the box filter (fixed: results do not depend on threads)


def poly_expansion_basis(poly_n: int, poly_sigma: float):
    """The filters and inverse-Gram entries of the polynomial expansion.

    The applicability is the 1-D Gaussian ``g(t)``, ``t = -poly_n..poly_n``, of standard
    deviation ``poly_sigma`` (``0.3 poly_n`` when ``poly_sigma`` is about 0), normalised to sum 1.
    Correlating the image with ``g``, ``t g`` and ``t^2 g`` along each axis gives the moments
    ``b = (<1,f>, <x,f>, <y,f>, <x^2,f>, <y^2,f>, <xy,f>)``; the least-squares coefficients are
    ``G^-1 b`` with ``G`` the Gram matrix of the basis ``(1, x, y, x^2, y^2, xy)`` under
    ``g(x) g(y)``, which has only the entries returned here.

    Parameters
    ----------
    poly_n : int
        Half-width of the neighbourhood (the filters have ``2 poly_n + 1`` taps).
    poly_sigma : float
        Standard deviation of the Gaussian applicability.

    Returns
    -------
    g, xg, xxg : ndarray (poly_n + 1,), float32
        ``g(t)``, ``t g(t)``, ``t^2 g(t)`` for ``t = 0..poly_n`` (the filters are symmetric or
        antisymmetric).
    inv_gram : ndarray (5,), float64
        ``(G^-1)[0,0], [0,3], [1,1], [3,3], [5,5]``.
    """
    n = check_int(poly_n, "poly_n", low=1)
    sigma = check_float(poly_sigma, "poly_sigma", low=0.0)
    if sigma < np.finfo(np.float32).eps:
        sigma = 0.3 * n
    g = gaussian_kernel(2 * n + 1, sigma, np.float32, float32_terms=True)
    t = np.arange(-n, n + 1, dtype=np.float32)
    xg = (t * g).astype(np.float32)
    xxg = (t * t * g).astype(np.float32)
    gg = np.outer(g, g).astype(np.float64)
    xx = np.broadcast_to(t.astype(np.float64), gg.shape)
    yy = xx.T
    basis = np.stack([np.ones_like(xx), xx, yy, xx * xx, yy * yy, xx * yy])
    gram = np.einsum("aij,bij,ij->ab", basis, basis, gg)
    inv = np.linalg.inv(gram)
    inv_gram = np.array([inv[0, 0], inv[0, 3], inv[1, 1], inv[3, 3], inv[5, 5]])
    return g[n:].copy(), xg[n:].copy(), xxg[n:].copy(), inv_gram


@kernel(parallel=True)
def _poly_kernel(img, g, xg, xxg, ig, out):
    """Six coefficient planes ``out[c]`` (order 1, x, y, x^2, y^2, xy) of ``img``: the
    vertical filters into three float32 rows with replicate borders, then the horizontal ones
    accumulated in float64 (OpenCV's precision)."""
    h, w = img.shape
    n = g.shape[0] - 1
    for y in numba.prange(h):
        r0 = np.empty(w + 2 * n, np.float32)  # sum g f, sum t g f, sum t^2 g f, down the column
        r1 = np.empty(w + 2 * n, np.float32)
        r2 = np.empty(w + 2 * n, np.float32)
        src = img[y]
        c0, c1, c2 = r0[n:n + w], r1[n:n + w], r2[n:n + w]  # the rows without their borders
        for x in range(w):
            c0[x] = src[x] * g[0]
            c1[x] = 0.0
            c2[x] = 0.0
        for k in range(1, n + 1):
            above = img[max(y - k, 0)]
            below = img[min(y + k, h - 1)]
            gk, xgk, xxgk = g[k], xg[k], xxg[k]
            for x in range(w):
                p = above[x] + below[x]
                c0[x] += gk * p
                c2[x] += xxgk * p
            for x in range(w):
                c1[x] += xgk * (below[x] - above[x])
        for x in range(n):
            r0[x] = r0[n]
            r1[x] = r1[n]
            r2[x] = r2[n]
            r0[w + n + x] = r0[w + n - 1]
            r1[w + n + x] = r1[w + n - 1]
            r2[w + n + x] = r2[w + n - 1]
        # horizontal filters: pairs added in float32, products accumulated in float64 (as
        # OpenCV), one tap at a time over the whole row so the loops vectorise
        b1 = np.empty(w)
        b2 = np.zeros(w)
        b3 = np.empty(w)
        b4 = np.zeros(w)
        b5 = np.empty(w)
        b6 = np.zeros(w)
        for x in range(w):
            b1[x] = r0[x + n] * g[0]
            b3[x] = r1[x + n] * g[0]
            b5[x] = r2[x + n] * g[0]
        # one tap at a time over the whole row, on shifted views of the rows, in three loops
        # of few arrays each: the shape LLVM vectorises
        for k in range(1, n + 1):
            gk, xgk, xxgk = np.float64(g[k]), np.float64(xg[k]), np.float64(xxg[k])
            right0, left0 = r0[n + k:n + k + w], r0[n - k:n - k + w]
            right1, left1 = r1[n + k:n + k + w], r1[n - k:n - k + w]
            right2, left2 = r2[n + k:n + k + w], r2[n - k:n - k + w]
            for x in range(w):
                s0 = np.float64(right0[x] + left0[x])
                b1[x] += s0 * gk
                b4[x] += s0 * xxgk
                b2[x] += np.float64(right0[x] - left0[x]) * xgk
            for x in range(w):
                b3[x] += np.float64(right1[x] + left1[x]) * gk
                b6[x] += np.float64(right1[x] - left1[x]) * xgk
            for x in range(w):
                b5[x] += np.float64(right2[x] + left2[x]) * gk
        for x in range(w):
            out[y, x, 0] = b1[x] * ig[0] + (b4[x] + b5[x]) * ig[1]
            out[y, x, 1] = b2[x] * ig[2]
            out[y, x, 2] = b3[x] * ig[2]
            out[y, x, 3] = b1[x] * ig[1] + b4[x] * ig[3]
            out[y, x, 4] = b1[x] * ig[1] + b5[x] * ig[3]
            out[y, x, 5] = b6[x] * ig[4]


def _check_poly(poly_n, poly_sigma):
    poly_n = check_int(poly_n, "poly_n")
    if poly_n not in (5, 7):
        raise ValueError(f"poly_n must be 5 or 7 (OpenCV's supported sizes), got {poly_n}")
    return poly_n, check_float(poly_sigma, "poly_sigma", low=0.0)


def _poly_planes(img32, poly_n, poly_sigma):
    g, xg, xxg, ig = poly_expansion_basis(poly_n, poly_sigma)
    out = np.empty(img32.shape + (6,), np.float32)
    _poly_kernel(img32, g, xg, xxg, ig, out)
    return out


def poly_expansion(image, poly_n: int = 5, poly_sigma: float = 1.2) -> np.ndarray:
    """Per-pixel quadratic polynomial fit of ``image`` (Farneback's polynomial expansion).

    Around each pixel, ``f(x, y) ~ c + r_x x + r_y y + r_xx x^2 + r_yy y^2 + r_xy x y`` in the
    least-squares sense with Gaussian weights ``g(x) g(y)`` over a ``(2 poly_n + 1)^2``
    neighbourhood (see :func:`poly_expansion_basis`), image borders replicated: the coefficients
    ``calcOpticalFlowFarneback`` computes internally (it stores the last five, in the order
    ``r_y, r_x, r_yy, r_xx, r_xy``).

    Parameters
    ----------
    image : ndarray (H, W), uint8/float32/float64
        Gray image (converted to float32 without scaling, as OpenCV does).
    poly_n : {5, 7}
        Neighbourhood radius.
    poly_sigma : float >= 0
        Standard deviation of the Gaussian weights (OpenCV's advice: 1.1 for poly_n 5, 1.5
        for 7).

    Returns
    -------
    ndarray (H, W, 6), float32
        ``[..., 0:6] = c, r_x, r_y, r_xx, r_yy, r_xy``.
    """
    img = check_image(image, allow_color=False)
    poly_n, poly_sigma = _check_poly(poly_n, poly_sigma)
    planes = _poly_planes(np.ascontiguousarray(img, np.float32), poly_n, poly_sigma)
    return planes


@kernel
def _in_frame(x, n):
    """Whether row/column ``x`` of ``n`` lies in the 5-pixel tapered frame, with OpenCV's
    unsigned comparison (which for ``n < 10`` leaves some edge pixels untapered)."""
    return ((x - 5) & 0xFFFFFFFF) >= ((n - 10) & 0xFFFFFFFF)


@kernel
def _tapered(x, n):
    """Border weight of column/row ``x`` of ``n`` (1 inside the 5-pixel frame)."""
    s = np.float32(1.0)
    if x < 5:
        s *= _BORDER_TAPER[x]
    if x >= n - 5:
        s *= _BORDER_TAPER[n - x - 1]
    return s


@kernel(parallel=True)
def _update_matrices_kernel(R0, R1, flow, M):
    """The five averaged normal-equation terms ``M`` (G11, G12, G22, h1, h2 in OpenCV's y-first
    naming) of every pixel for the current ``flow`` (float32 throughout, as OpenCV)."""
    h, w = flow.shape[0], flow.shape[1]
    half = np.float32(0.5)
    for y in numba.prange(h):
        for x in range(w):
            dx = flow[y, x, 0]
            dy = flow[y, x, 1]
            fx = np.float32(x) + dx
            fy = np.float32(y) + dy
            fx0 = np.floor(fx)
            fy0 = np.floor(fy)
            if fx0 >= 0 and fx0 < w - 1 and fy0 >= 0 and fy0 < h - 1:
                j = np.int64(fx0)
                i = np.int64(fy0)
                ax = fx - fx0
                ay = fy - fy0
                a00 = (np.float32(1.0) - ax) * (np.float32(1.0) - ay)
                a01 = ax * (np.float32(1.0) - ay)
                a10 = (np.float32(1.0) - ax) * ay
                a11 = ax * ay
                # frame 2's (r_x, r_y, r_xx, r_yy, r_xy) at the displaced position
                s1 = a00 * R1[i, j, 1] + a01 * R1[i, j + 1, 1] + a10 * R1[i + 1, j, 1] + a11 * R1[i + 1, j + 1, 1]
                s2 = a00 * R1[i, j, 2] + a01 * R1[i, j + 1, 2] + a10 * R1[i + 1, j, 2] + a11 * R1[i + 1, j + 1, 2]
                s3 = a00 * R1[i, j, 3] + a01 * R1[i, j + 1, 3] + a10 * R1[i + 1, j, 3] + a11 * R1[i + 1, j + 1, 3]
                s4 = a00 * R1[i, j, 4] + a01 * R1[i, j + 1, 4] + a10 * R1[i + 1, j, 4] + a11 * R1[i + 1, j + 1, 4]
                s5 = a00 * R1[i, j, 5] + a01 * R1[i, j + 1, 5] + a10 * R1[i + 1, j, 5] + a11 * R1[i + 1, j + 1, 5]
                # A averaged over both frames
                bx, by = s1, s2
                axx = (R0[y, x, 3] + s3) * half
                ayy = (R0[y, x, 4] + s4) * half
                axy = (R0[y, x, 5] + s5) * np.float32(0.25)
            else:
                bx = np.float32(0.0)
                by = np.float32(0.0)
                axx = R0[y, x, 3]
                ayy = R0[y, x, 4]
                axy = R0[y, x, 5] * half
            hy = (R0[y, x, 2] - by) * half + ayy * dy + axy * dx
            hx = (R0[y, x, 1] - bx) * half + axy * dy + axx * dx
            if _in_frame(x, w) or _in_frame(y, h):
                scale = _tapered(x, w) * _tapered(y, h)
                hy *= scale
                hx *= scale
                ayy *= scale
                axx *= scale
                axy *= scale
            M[0, y, x] = ayy * ayy + axy * axy
            M[1, y, x] = (ayy + axx) * axy
            M[2, y, x] = axx * axx + axy * axy
            M[3, y, x] = ayy * hy + axy * hx
            M[4, y, x] = axy * hy + axx * hx


@kernel
def _solve(g11, g12, g22, h1, h2, scale):
    """``(dx, dy) = G^-1 h`` of one pixel's averaged 2x2 system (sums times ``scale``,
    ``det + 1e-3`` regularised), in float64 as OpenCV."""
    a = g11 * scale
    b = g12 * scale
    c = g22 * scale
    u = h1 * scale
    v = h2 * scale
    idet = 1.0 / (a * c - b * b + 1e-3)
    return (a * v - b * u) * idet, (c * u - b * v) * idet


@kernel(parallel=True)
def _box_solve_kernel(M, m, scale, flow):
    """Box-average the five planes over ``(2m+1)^2`` (replicate borders, float64 running sums)
    and solve every pixel's flow."""
    h, w = M.shape[1], M.shape[2]
    n_blocks = (h + _ROW_BLOCK - 1) // _ROW_BLOCK
    for blk in numba.prange(n_blocks):
        y0 = blk * _ROW_BLOCK
        y1 = min(y0 + _ROW_BLOCK, h)
        vsum = np.zeros((5, w), np.float64)
        for r in range(y0 - m, y0 + m + 1):
            src = min(max(r, 0), h - 1)
            for c in range(5):
                acc, row = vsum[c], M[c, src]
                for x in range(w):
                    acc[x] += row[x]
        v0, v1, v2, v3, v4 = vsum[0], vsum[1], vsum[2], vsum[3], vsum[4]
        for y in range(y0, y1):
            if y > y0:  # slide the column sums down one row
                add = min(y + m, h - 1)
                sub = max(y - m - 1, 0)
                for c in range(5):
                    acc, new, old = vsum[c], M[c, add], M[c, sub]
                    for x in range(w):
                        acc[x] += np.float64(new[x]) - np.float64(old[x])
            # slide the five row sums along x together (five independent chains), solving as
            # they go
            s0 = v0[0] * (m + 1)
            s1 = v1[0] * (m + 1)
            s2 = v2[0] * (m + 1)
            s3 = v3[0] * (m + 1)
            s4 = v4[0] * (m + 1)
            for k in range(1, m + 1):
                j = min(k, w - 1)
                s0 += v0[j]
                s1 += v1[j]
                s2 += v2[j]
                s3 += v3[j]
                s4 += v4[j]
            out = flow[y]
            out[0, 0], out[0, 1] = _solve(s0, s1, s2, s3, s4, scale)
            for x in range(1, w):
                ja = min(x + m, w - 1)
                js = max(x - m - 1, 0)
                s0 += v0[ja] - v0[js]
                s1 += v1[ja] - v1[js]
                s2 += v2[ja] - v2[js]
                s3 += v3[ja] - v3[js]
                s4 += v4[ja] - v4[js]
                out[x, 0], out[x, 1] = _solve(s0, s1, s2, s3, s4, scale)


@kernel(parallel=True)
def _gauss_solve_kernel(M, kern, flow):
    """Gaussian-average the five planes (separable float32, replicate borders) and solve."""
    h, w = M.shape[1], M.shape[2]
    m = kern.shape[0] - 1
    for y in numba.prange(h):
        vsum = np.empty((5, w + 2 * m), np.float32)
        hsum = np.empty((5, w), np.float64)
        for c in range(5):
            row = vsum[c]
            centre = M[c, y]
            for x in range(w):
                row[x + m] = centre[x] * kern[0]
            for k in range(1, m + 1):
                a = M[c, max(y - k, 0)]
                b = M[c, min(y + k, h - 1)]
                for x in range(w):
                    row[x + m] += (a[x] + b[x]) * kern[k]
            for x in range(m):
                row[x] = row[m]
                row[w + m + x] = row[w + m - 1]
            acc = row[m:m + w] * kern[0]  # float32, one tap at a time over the row
            for k in range(1, m + 1):
                left = row[m - k:m - k + w]
                right = row[m + k:m + k + w]
                for x in range(w):
                    acc[x] += kern[k] * (left[x] + right[x])
            hsum[c] = acc
        out = flow[y]
        for x in range(w):
            out[x, 0], out[x, 1] = _solve(hsum[0, x], hsum[1, x], hsum[2, x], hsum[3, x], hsum[4, x], 1.0)


@dataclass
class FarnebackTrace:
    """What :func:`calc_optical_flow_farneback` computed per layer (``trace=True``), coarsest
    layer first.

    Attributes
    ----------
    scales : list of float
        Layer scale relative to the input.
    images : list of (ndarray, ndarray)
        The blurred and resized float32 frames of each layer.
    poly : list of (ndarray, ndarray)
        Their polynomial coefficients, (h, w, 6) each, as :func:`poly_expansion` returns them.
    initial_flows : list of ndarray
        The flow each layer started from (upsampled from the layer above, or zero / the user's).
    flows : list of ndarray
        Each layer's flow after every iteration: ``flows[layer][i]`` is (h, w, 2) after
        iteration ``i``.
    """

    scales: list = field(default_factory=list)
    images: list = field(default_factory=list)
    poly: list = field(default_factory=list)
    initial_flows: list = field(default_factory=list)
    flows: list = field(default_factory=list)


def calc_optical_flow_farneback(prev, next, flow=None, pyr_scale: float = 0.5, levels: int = 3,  # noqa: A002
                                winsize: int = 15, iterations: int = 3, poly_n: int = 5,
                                poly_sigma: float = 1.2, flags: int = 0, *, trace: bool = False):
    """Dense optical flow from ``prev`` to ``next``, as ``cv2.calcOpticalFlowFarneback``.

    The parameters have cv2's names and order. The defaults are OpenCV's sample settings from
    ``opt_flow.py`` (``0.5, 3, 15, 3, 5, 1.2, 0``); the demo, the CLI, the Two-Stream inputs and
    the batch jobs use them.

    Parameters
    ----------
    prev, next : ndarray (H, W), uint8/float32/float64 (float16 is computed in float32)
        Gray frames of one size.
    flow : ndarray (H, W, 2) float, optional
        Initial flow, read only with ``flags & OPTFLOW_USE_INITIAL_FLOW`` (it is not written to).
    pyr_scale : float in (0, 1)
        Size ratio between consecutive layers (0.5: each layer half the previous).
    levels : int >= 0
        Extra pyramid layers; layers smaller than 32 pixels are dropped, as in OpenCV.
    winsize : int >= 1
        Averaging window; larger is more robust to noise and blurrier.
    iterations : int >= 0
        Iterations per layer.
    poly_n : {5, 7}
        Polynomial expansion radius.
    poly_sigma : float >= 0
        Its Gaussian's standard deviation (1.1 with poly_n 5, 1.5 with 7 is OpenCV's advice).
    flags : int
        Combination of :data:`OPTFLOW_USE_INITIAL_FLOW` and :data:`OPTFLOW_FARNEBACK_GAUSSIAN`.
    trace : bool
        Also return a :class:`FarnebackTrace` with each layer's images, polynomial coefficients
        and per-iteration flows.

    Returns
    -------
    flow : ndarray (H, W, 2), float32
        ``(dx, dy)`` with ``prev(x, y) ~ next(x + dx, y + dy)``.
    trace : FarnebackTrace
        Only with ``trace=True``.

    Notes
    -----
    Equal to cv2 within float32 rounding (mean difference ~1e-6 px on the Middlebury and Sintel
    pairs), except ``winsize=1`` with the box window: OpenCV's running box sums assume a
    radius of at least 1 and, for radius 0, add the first row's and column's equations to every
    pixel; here the window is then the pixel itself. Where the 2x2 systems are nearly singular
    (fog, flat sky, motion beyond the pyramid's reach), float32 rounding differences grow over
    iterations, as OpenCV's own output does under a 1e-3 gray-level perturbation of the input.

    Examples
    --------
    >>> import numpy as np, scratchvision as sv
    >>> seq = sv.synthetic_sequence(2, size=(96, 128), n_objects=2, seed=1)
    >>> f = sv.calc_optical_flow_farneback(seq.frames[0], seq.frames[1])  # = ..., None, 0.5, 3, 15, 3, 5, 1.2, 0
    >>> f.shape, bool(sv.endpoint_error(f, seq.flow[0]) < 1.0)
    ((96, 128, 2), True)
    """
    img0 = check_image(prev, "prev", allow_color=False, half=True)
    img1 = check_image(next, "next", allow_color=False, half=True)
    if img0.shape != img1.shape:
        raise ValueError(f"prev and next must have one shape, got {img0.shape} and {img1.shape}")
    pyr_scale = check_float(pyr_scale, "pyr_scale", low=0.0, high=1.0, low_open=True)
    if pyr_scale >= 1.0:
        raise ValueError(f"pyr_scale must lie in (0, 1), got {pyr_scale}")
    levels = check_int(levels, "levels", low=0)
    layers = dense_pyramid_sizes(img0.shape, pyr_scale, levels, min_size=32)
    winsize = check_int(winsize, "winsize", low=1)
    iterations = check_int(iterations, "iterations", low=0)
    poly_n, poly_sigma = _check_poly(poly_n, poly_sigma)
    flags = check_int(flags, "flags")
    unknown = flags & ~(OPTFLOW_USE_INITIAL_FLOW | OPTFLOW_FARNEBACK_GAUSSIAN)
    if unknown:
        raise ValueError(f"flags has unknown bits {unknown:#x}; use OPTFLOW_USE_INITIAL_FLOW "
                         "and/or OPTFLOW_FARNEBACK_GAUSSIAN")
    h, w = img0.shape
    init = None
    if flags & OPTFLOW_USE_INITIAL_FLOW:
        if flow is None:
            raise ValueError("flow is required with OPTFLOW_USE_INITIAL_FLOW")
        init = check_flow(flow)
        if init.shape != (h, w, 2):
            raise ValueError(f"flow must have shape {(h, w, 2)} to match prev, got {init.shape}")
    elif flow is not None:
        f = as_array(flow, "flow")
        if f.shape != (h, w, 2) or f.dtype.kind != "f":
            raise ValueError(f"flow must be a float array of shape {(h, w, 2)}, got {f.shape} {f.dtype}")

    frames = [np.ascontiguousarray(img, np.float32) for img in (img0, img1)]
    m = winsize // 2
    gauss = gaussian_kernel(2 * m + 1, 0.3 * m, np.float32, float32_terms=True)[m:] if m else np.ones(1, np.float32)
    info = FarnebackTrace() if trace else None
    cur = None
    for scale, (lh, lw) in layers:
        if cur is not None:
            cur = resize(cur, (lw, lh)) * np.float32(1.0 / pyr_scale)
        elif init is not None:
            cur = resize(init, (lw, lh), interpolation="area") * np.float32(scale)
        else:
            cur = np.zeros((lh, lw, 2), np.float32)
        ims = [pyramid_layer(f, scale, (lh, lw)) for f in frames]
        R0, R1 = (_poly_planes(im, poly_n, poly_sigma) for im in ims)
        if info is not None:
            info.scales.append(scale)
            info.images.append(tuple(ims))
            info.poly.append((R0, R1))
            info.initial_flows.append(cur.copy())
            info.flows.append([])
        M = np.empty((5, lh, lw), np.float32)
        _update_matrices_kernel(R0, R1, cur, M)
        for it in range(iterations):
            if flags & OPTFLOW_FARNEBACK_GAUSSIAN:
                _gauss_solve_kernel(M, gauss, cur)
            else:
                _box_solve_kernel(M, m, 1.0 / (winsize * winsize), cur)
            if it < iterations - 1:
                _update_matrices_kernel(R0, R1, cur, M)
            if info is not None:
                info.flows[-1].append(cur.copy())
    return (cur, info) if trace else cur


@warmup_hook
def _warmup():
    img = np.zeros((8, 8), np.float32)
    for flags in (0, OPTFLOW_FARNEBACK_GAUSSIAN):
        calc_optical_flow_farneback(img, img, None, 0.5, 0, 3, 1, 5, 1.1, flags)
