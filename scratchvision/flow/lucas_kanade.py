"""Sparse optical flow: iterative pyramidal Lucas-Kanade (Bouguet 2001), as OpenCV runs it.

For each point, coarse to fine over an image pyramid: take a window around the point in the
first image, its intensities ``I`` and Scharr gradients ``(Ix, Iy)``; the spatial gradient
matrix ``G = sum [Ix^2, Ix Iy; Ix Iy, Iy^2]`` is fixed for the level. Then iterate: sample the
second image ``J`` in the window at the current guess, form the mismatch vector
``b = sum (J - I) [Ix, Iy]`` and step by ``-G^-1 b``, until the step is below ``epsilon`` or
``max_iter`` steps were taken. The result, doubled, starts the next finer level.

Arithmetic follows ``cv2.calcOpticalFlowPyrLK``: 8-bit pyramids from ``pyrDown``, unnormalised
Scharr derivatives of the first image, 14-bit fixed-point bilinear weights (the four sum to
exactly 2^14), intensities kept with 5 fractional bits, sums scaled by 2^-20; a point is dropped
(status 0) when the smaller eigenvalue of ``G`` divided by the window area falls below
``min_eig_threshold``, or when its window leaves the padded image; a step that undoes the previous
one (both components within 0.01) ends the iteration halfway. ``err`` is the mean absolute
difference between the two windows in 8-bit units (or the minimum eigenvalue with
``get_min_eigenvals``).

References
----------
J.-Y. Bouguet. "Pyramidal Implementation of the Lucas Kanade Feature Tracker: Description of the
Algorithm." Intel Corporation, 2001.
B. D. Lucas, T. Kanade. "An Iterative Image Registration Technique with an Application to Stereo
Vision." IJCAI 1981.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_float, check_image, check_int, check_points
from ..imgproc import pad_reflect101, scharr_kernel, to_uint8
from ..imgproc.simd import f32x4_add_i32, f32x4_add_i32_pairs, f32x4_sum, f32x4_zeros
from .pyramid import build_optical_flow_pyramid, check_win_size

__all__ = ["calc_optical_flow_pyr_lk", "LKTrace", "forward_backward_error"]

W_BITS = 14
FLT_SCALE = np.float32(1.0 / (1 << 20))
FLT_EPSILON = np.float32(np.finfo(np.float32).eps)


@kernel
def _weights(a, b):
    """14-bit fixed-point bilinear weights for fractional offsets (a, b), summing to 2^14."""
    one = np.float32(1.0)
    scale = np.float32(1 << W_BITS)
    w00 = np.int32(np.rint((one - a) * (one - b) * scale))
    w01 = np.int32(np.rint(a * (one - b) * scale))
    w10 = np.int32(np.rint((one - a) * b * scale))
    return w00, w01, w10, np.int32((1 << W_BITS) - w00 - w01 - w10)


@kernel
def _sample_fixed(img, a, c, w00, w01, w10, w11, shift):
    """OpenCV LK's bilinear read: the four neighbours at flat offsets ``a``, ``a + 1`` (this row)
    and ``c``, ``c + 1`` (the row below) weighted by the 14-bit weights, descaled by ``shift``
    bits rounding halves up.

    Every value fits in int32 (|gradient| < 2^12, weights sum to 2^14); each step is cast back
    to int32 because Numba computes integer arithmetic in 64 bits, and 32-bit lanes let LLVM
    vectorise twice as wide."""
    one = np.uint64(1)
    s = np.int32(np.int32(img[a]) * np.int32(w00))
    s = np.int32(s + np.int32(np.int32(img[a + one]) * np.int32(w01)))
    s = np.int32(s + np.int32(np.int32(img[c]) * np.int32(w10)))
    s = np.int32(s + np.int32(np.int32(img[c + one]) * np.int32(w11)))
    return np.int32(np.int32(s + np.int32(1 << (shift - 1))) >> np.int32(shift))


@kernel
def _place(x, y, win_w, win_h, w, h):
    """Integer corner and fixed-point weights of a window whose top-left corner is at (x, y).

    Returns ``(inside, ix, iy, w00, w01, w10, w11)``; ``inside`` is OpenCV's range test (the
    window may reach up to its own size into the padding).
    """
    if not (abs(x) < 1e9 and abs(y) < 1e9):  # far outside (and safe to convert to integers)
        zero = np.int32(0)  # int32 weights on every path keep the sampling loops 32-bit
        return False, 0, 0, zero, zero, zero, zero
    ix = np.int64(np.floor(x))
    iy = np.int64(np.floor(y))
    inside = not (ix < -win_w or ix >= w or iy < -win_h or iy >= h)
    w00, w01, w10, w11 = _weights(x - np.float32(ix), y - np.float32(iy))
    return inside, ix, iy, w00, w01, w10, w11


# The padded levels are read through flat views with unsigned offsets: with a signed index Numba
# adds a negative-index test to every read, which keeps LLVM from vectorising the window loops.
# The sampling loops run over ``span`` columns, the window width rounded up to a whole number of
# ROW_LANES-pixel vectors: the extra columns (read from the wider right border) are computed and
# never summed, which costs less than the narrower vector and scalar loops a ragged row needs.
ROW_LANES = 16


def row_span(win_w: int) -> int:
    """Columns the sampling loops cover for a window ``win_w`` pixels wide."""
    return -(-win_w // ROW_LANES) * ROW_LANES


@kernel
def _window(img, dIx, dIy, stride, iy, ix, weights, win_w, template, products):
    """Sample the template window whose top-left corner is (iy, ix) in a padded level (``img``,
    ``dIx``, ``dIy`` flat, ``stride`` pixels per row) with the fixed-point bilinear ``weights``
    (w00, w01, w10, w11): intensities with 5 fractional bits and Scharr gradients, into the
    ``template`` arrays (Iw, Ixw, Iyw), each (win_h, span). Returns the gradient matrix sums
    (a11, a12, a22), accumulated in OpenCV's lane order: the 8-pixel chunks of each row in four
    float32 lanes (pixel x into lane x % 4), the leftover pixels in a scalar, then
    (lane0 + lane2) + (lane1 + lane3). ``products`` (pxx, pxy, pyy), each (span,), are scratch."""
    w00, w01, w10, w11 = weights
    Iw, Ixw, Iyw = template
    pxx, pxy, pyy = products
    win_h, span = Iw.shape
    simd = (win_w // 8) * 8
    qxx = f32x4_zeros()  # the four lanes of sum Ix^2
    qxy = f32x4_zeros()  # ... of sum Ix Iy
    qyy = f32x4_zeros()  # ... of sum Iy^2
    a11 = np.float32(0.0)
    a12 = np.float32(0.0)
    a22 = np.float32(0.0)
    for y in range(win_h):
        base = np.uint64((iy + y + win_h) * stride + ix + win_w)
        below = base + np.uint64(stride)
        gx = Ixw[y]
        gy = Iyw[y]
        for x in range(span):
            u = np.uint64(x)
            a = base + u
            c = below + u
            Iw[y, x] = _sample_fixed(img, a, c, w00, w01, w10, w11, W_BITS - 5)
            gx[x] = _sample_fixed(dIx, a, c, w00, w01, w10, w11, W_BITS)
            gy[x] = _sample_fixed(dIy, a, c, w00, w01, w10, w11, W_BITS)
        for x in range(span):  # the products (exact in int32), then their lane sums
            pxx[x] = gx[x] * gx[x]
            pxy[x] = gx[x] * gy[x]
            pyy[x] = gy[x] * gy[x]
        for x0 in range(0, simd, 4):
            u = np.uint64(x0)
            qxx = f32x4_add_i32(qxx, pxx, u)
            qxy = f32x4_add_i32(qxy, pxy, u)
            qyy = f32x4_add_i32(qyy, pyy, u)
        for x in range(simd, win_w):
            a11 += np.float32(pxx[x])
            a12 += np.float32(pxy[x])
            a22 += np.float32(pyy[x])
    return a11 + f32x4_sum(qxx), a12 + f32x4_sum(qxy), a22 + f32x4_sum(qyy)


@kernel
def _mean_abs_diff(J, stride, jy, jx, weights, win_w, Iw, diff):
    """OpenCV's ``err``: mean |J_w - I_w| over the window (J sampled at (jy, jx) with the bilinear
    ``weights``), in 8-bit units; ``diff`` (span,) is scratch.

    OpenCV adds the differences into a float32 one pixel at a time, in row order. Each is an
    integer below 2^13 (8 bits with 5 fractional), so while the window has fewer than
    2^24 / 2^13 = 2048 pixels every partial sum is an integer float32 holds exactly: the integer
    total, summed in vector lanes, then converted once, is the same float32. Larger windows add
    one pixel at a time as OpenCV does."""
    v00, v01, v10, v11 = weights
    win_h, span = Iw.shape
    exact = win_w * win_h < (1 << 24) // (1 << 13)
    total = np.float32(0.0)
    count = 0
    for y in range(win_h):
        base = np.uint64((jy + y + win_h) * stride + jx + win_w)
        below = base + np.uint64(stride)
        for x in range(span):
            u = np.uint64(x)
            diff[u] = abs(_sample_fixed(J, base + u, below + u, v00, v01, v10, v11, W_BITS - 5) - Iw[y, u])
        if exact:
            for x in range(win_w):
                count += diff[x]
        else:
            for x in range(win_w):
                total += np.float32(diff[x])
    if exact:
        total = np.float32(count)
    return total / np.float32(32 * win_w * win_h)  # OpenCV: errval * 1.f / (32 W H)


@kernel
def _mismatch(J, stride, jy, jx, weights, win_w, template, px, py):
    """The mismatch vector ``b = sum (J_w - I_w) (Ix, Iy)`` of J sampled at (jy, jx) with the
    bilinear ``weights`` against the ``template`` (Iw, Ixw, Iyw), in OpenCV's order: in each
    8-pixel chunk of a row, pixels x and x + 4 are summed as integers, converted to float32 and
    added into lane x % 4; leftover pixels go to scalars; then (lane0 + lane2) + (lane1 + lane3).
    ``px``, ``py`` (span,) are scratch."""
    v00, v01, v10, v11 = weights
    Iw, Ixw, Iyw = template
    win_h, span = Iw.shape
    simd = (win_w // 8) * 8
    qx = f32x4_zeros()
    qy = f32x4_zeros()
    b1 = np.float32(0.0)
    b2 = np.float32(0.0)
    for y in range(win_h):
        base = np.uint64((jy + y + win_h) * stride + jx + win_w)
        below = base + np.uint64(stride)
        for x in range(span):
            u = np.uint64(x)
            a = base + u
            c = below + u
            d = _sample_fixed(J, a, c, v00, v01, v10, v11, W_BITS - 5) - Iw[y, x]
            px[x] = d * Ixw[y, x]
            py[x] = d * Iyw[y, x]
        for x0 in range(0, simd, 8):
            u = np.uint64(x0)
            qx = f32x4_add_i32_pairs(qx, px, u)
            qy = f32x4_add_i32_pairs(qy, py, u)
        for x in range(simd, win_w):
            b1 += np.float32(px[x])
            b2 += np.float32(py[x])
    return b1 + f32x4_sum(qx), b2 + f32x4_sum(qy)


@kernel
def _lk_point(k, layer, points, params, trace, scratch):
    """Track point ``k`` through one level (see :func:`_lk_level` for the arguments);
    ``scratch`` is (Iw, Ixw, Iyw) of (win_h, span) and ``row`` (3, span)."""
    img, dIx, dIy, J, h, w, level, top_level = layer
    prev_pts, next_pts, status, err = points
    win_w, win_h, max_count, eps2, min_eig_threshold, get_min_eig, use_initial = params
    trace_iters, trace_step, trace_residual = trace
    Iw, Ixw, Iyw, row = scratch
    stride = w + win_w + Iw.shape[1]
    half_w = np.float32((win_w - 1) * 0.5)
    half_h = np.float32((win_h - 1) * 0.5)
    scale = np.float32(1.0 / (1 << level))
    px = prev_pts[k, 0] * scale
    py = prev_pts[k, 1] * scale
    if level == top_level:
        if use_initial:
            nx = next_pts[k, 0] * scale
            ny = next_pts[k, 1] * scale
        else:
            nx = px
            ny = py
    else:
        nx = next_pts[k, 0] * np.float32(2.0)
        ny = next_pts[k, 1] * np.float32(2.0)
    next_pts[k, 0] = nx
    next_pts[k, 1] = ny
    if not (np.isfinite(px) and np.isfinite(py) and np.isfinite(nx) and np.isfinite(ny)):
        status[k] = 0
        err[k] = 0.0
        return
    inside, ix, iy, w00, w01, w10, w11 = _place(px - half_w, py - half_h, win_w, win_h, w, h)
    if not inside:
        if level == 0:
            status[k] = 0
            err[k] = 0.0
        return
    a11, a12, a22 = _window(img, dIx, dIy, stride, iy, ix, (w00, w01, w10, w11), win_w, (Iw, Ixw, Iyw),
                            (row[0], row[1], row[2]))
    a11 *= FLT_SCALE
    a12 *= FLT_SCALE
    a22 *= FLT_SCALE
    det = a11 * a22 - a12 * a12
    min_eig = (a22 + a11 - np.sqrt((a11 - a22) * (a11 - a22) + np.float32(4.0) * a12 * a12)) \
        / np.float32(2 * win_w * win_h)
    if get_min_eig:
        err[k] = min_eig
    if min_eig < min_eig_threshold or det < FLT_EPSILON:
        if level == 0:
            status[k] = 0
        return
    inv_det = np.float32(1.0) / det
    nx -= half_w
    ny -= half_h
    prev_dx = np.float32(0.0)
    prev_dy = np.float32(0.0)
    iters = 0
    step = np.float32(0.0)
    for j in range(max_count):
        inside, jx, jy, v00, v01, v10, v11 = _place(nx, ny, win_w, win_h, w, h)
        if not inside:
            if level == 0:
                status[k] = 0
            break
        b1, b2 = _mismatch(J, stride, jy, jx, (v00, v01, v10, v11), win_w, (Iw, Ixw, Iyw), row[1], row[2])
        b1 *= FLT_SCALE
        b2 *= FLT_SCALE
        dx = (a12 * b2 - a22 * b1) * inv_det
        dy = (a12 * b1 - a11 * b2) * inv_det
        nx += dx
        ny += dy
        next_pts[k, 0] = nx + half_w
        next_pts[k, 1] = ny + half_h
        iters = j + 1
        step = np.float32(np.sqrt(np.float64(dx) * dx + np.float64(dy) * dy))
        if np.float64(dx) * dx + np.float64(dy) * dy <= eps2:
            break
        if j > 0 and abs(dx + prev_dx) < 0.01 and abs(dy + prev_dy) < 0.01:
            next_pts[k, 0] -= dx * np.float32(0.5)
            next_pts[k, 1] -= dy * np.float32(0.5)
            break
        prev_dx = dx
        prev_dy = dy
    trace_iters[k, level] = iters
    trace_step[k, level] = step
    need_residual = trace_residual.shape[1] > 1 or (level == 0 and not get_min_eig)
    if not need_residual or (level == 0 and status[k] == 0):
        return
    # Mean |J - I| over the window at the final position, in 8-bit units.
    inside, jx, jy, v00, v01, v10, v11 = _place(next_pts[k, 0] - half_w, next_pts[k, 1] - half_h,
                                                win_w, win_h, w, h)
    if not inside:
        if level == 0:
            status[k] = 0
        return
    residual = _mean_abs_diff(J, stride, jy, jx, (v00, v01, v10, v11), win_w, Iw, row[0])
    if trace_residual.shape[1] > 1:
        trace_residual[k, level] = residual
    if level == 0 and not get_min_eig:
        err[k] = residual


@kernel(parallel=True)
def _lk_level(layer, points, params, trace, span, n_chunks):
    """One pyramid level for every point.

    Parameters
    ----------
    layer : tuple (img, dIx, dIy, J, h, w, level, top_level)
        The level: the two images (uint8) and the first one's gradient planes (int16), padded by
        the window on every side (by ``span`` on the right) and flat; the level's own size
        (h, w); its index and the coarsest level's.
    points : tuple (prev_pts, next_pts, status, err)
        The points (N, 2) float32 and where they are found (updated in place), their status and
        error.
    params : tuple (win_w, win_h, max_count, eps2, min_eig_threshold, get_min_eig, use_initial)
        :func:`calc_optical_flow_pyr_lk`'s settings (``eps2`` = epsilon squared).
    trace : tuple (iterations, steps, residuals)
        Per point and level, written in place (residuals only with ``trace=True``: else (N, 1)).
    span, n_chunks : int
        Window columns the sampling loops cover (:func:`row_span`); points are split into
        ``n_chunks`` chunks run in parallel, each with its own scratch windows.
    """
    prev_pts = points[0]
    win_h = params[1]
    n = prev_pts.shape[0]
    for c in numba.prange(n_chunks):
        Iw = np.empty((win_h, span), np.int32)
        Ixw = np.empty((win_h, span), np.int32)
        Iyw = np.empty((win_h, span), np.int32)
        row = np.empty((3, span), np.int32)
        for k in range(c * n // n_chunks, (c + 1) * n // n_chunks):
            _lk_point(k, layer, points, params, trace, (Iw, Ixw, Iyw, row))


@dataclass(frozen=True)
class LKTrace:
    """What :func:`calc_optical_flow_pyr_lk` did per point and per level (``trace=True``).

    Attributes
    ----------
    prev_pyramid, next_pyramid : list of ndarray
        The 8-bit pyramids, finest first.
    iterations : ndarray (N, L+1), int32
        Steps taken at each level (0: the point was skipped there).
    final_step : ndarray (N, L+1), float32
        Length of the last step at each level, in that level's pixels.
    residual : ndarray (N, L+1), float32
        Mean absolute intensity difference between the windows at the level's final position.
    """

    prev_pyramid: list
    next_pyramid: list
    iterations: np.ndarray
    final_step: np.ndarray
    residual: np.ndarray


def _as_uint8(image, name):
    # OpenCV's tracker works on 8-bit pyramids
    return to_uint8(check_image(image, name, allow_color=False, dtypes=(np.uint8, np.float32)))


def calc_optical_flow_pyr_lk(prev_img, next_img, prev_pts, next_pts=None, *, win_size=(21, 21),
                             max_level: int = 3, max_iter: int = 30, epsilon: float = 0.01,
                             use_initial_flow: bool = False, get_min_eigenvals: bool = False,
                             min_eig_threshold: float = 1e-4, trace: bool = False):
    """Track points from ``prev_img`` to ``next_img``, as ``cv2.calcOpticalFlowPyrLK``.

    Parameters
    ----------
    prev_img, next_img : ndarray (H, W), uint8 or float32
        Gray frames of one size (float32 is taken as 0..255 and rounded to 8 bits, the depth
        OpenCV's tracker works in).
    prev_pts : array-like (N, 2) or (N, 1, 2), float
        Points (x, y) to track.
    next_pts : array-like, optional
        Initial guesses, used with ``use_initial_flow``.
    win_size : (int, int)
        Window (width, height), odd, >= 3.
    max_level : int >= 0
        Pyramid levels above the image (clamped as OpenCV clamps it for small images).
    max_iter : int >= 1
        Iterations per level (clamped to 100 as OpenCV does).
    epsilon : float >= 0
        Stop when a step is shorter than this (clamped to 10).
    use_initial_flow : bool
        Start from ``next_pts`` instead of ``prev_pts``.
    get_min_eigenvals : bool
        Return the minimum eigenvalue of G per point in ``err``.
    min_eig_threshold : float
        Drop points whose minimum eigenvalue (per pixel of window) is below this.
    trace : bool
        Also return an :class:`LKTrace` with the pyramids and per-level iteration counts, last
        steps and residuals.

    Returns
    -------
    next_pts : ndarray (N, 2) float32 (the shape of ``prev_pts``)
    status : ndarray (N,) uint8
        1 where the point was tracked.
    err : ndarray (N,) float32
    trace : LKTrace, only with ``trace=True``

    Examples
    --------
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(n_frames=2, size=(120, 160), n_objects=2, seed=0)
    >>> pts = sv.good_features_to_track(seq.frames[0], 50, 0.01, 5)
    >>> nxt, status, err = sv.calc_optical_flow_pyr_lk(seq.frames[0], seq.frames[1], pts)
    >>> nxt.shape == pts.shape
    True
    """
    prev = _as_uint8(prev_img, "prev_img")
    nxt = _as_uint8(next_img, "next_img")
    if prev.shape != nxt.shape:
        raise ValueError(f"next_img must have prev_img's shape {prev.shape}, got {nxt.shape}")
    pts, in_shape = check_points(prev_pts, "prev_pts", allow_nan=True)
    win_w, win_h = check_win_size(win_size)
    max_level = check_int(max_level, "max_level", low=0)
    max_iter = min(check_int(max_iter, "max_iter", low=1), 100)
    epsilon = min(check_float(epsilon, "epsilon", low=0.0), 10.0)
    min_eig_threshold = check_float(min_eig_threshold, "min_eig_threshold")
    n = len(pts)
    if use_initial_flow:
        if next_pts is None:
            raise ValueError("next_pts is required with use_initial_flow=True")
        guess, _ = check_points(next_pts, "next_pts", allow_nan=True)
        if len(guess) != n:
            raise ValueError(f"next_pts must have {n} points like prev_pts, got {len(guess)}")
        out = guess.copy()
    else:
        out = pts.copy()
    status = np.ones(n, np.uint8)
    err = np.zeros(n, np.float32)
    prev_pyr = build_optical_flow_pyramid(prev, (win_w, win_h), max_level)
    next_pyr = build_optical_flow_pyramid(nxt, (win_w, win_h), max_level)
    top = min(len(prev_pyr), len(next_pyr)) - 1
    levels = top + 1
    iters = np.zeros((n, levels), np.int32)
    steps = np.zeros((n, levels), np.float32)
    residual = np.zeros((n, levels if trace else 1), np.float32)
    span = row_span(win_w)
    if n:
        for level in range(top, -1, -1):
            img, J = prev_pyr[level], next_pyr[level]
            h, w = img.shape
            # the levels padded by the window (by the row span on the right), reflect-101; the
            # gradient planes padded with zeros (OpenCV's BORDER_CONSTANT for the derivatives)
            I_pad = pad_reflect101(img, win_h, win_h, win_w, span)
            J_pad = pad_reflect101(J, win_h, win_h, win_w, span)
            gx = np.zeros(I_pad.shape, np.int16)
            gy = np.zeros_like(gx)
            scharr_kernel(img, gx, gy, win_h, win_w)
            _lk_level((I_pad.ravel(), gx.ravel(), gy.ravel(), J_pad.ravel(), h, w, level, top), (pts, out, status, err),
                      (win_w, win_h, max_iter, epsilon * epsilon, np.float32(min_eig_threshold),
                       bool(get_min_eigenvals), bool(use_initial_flow)), (iters, steps, residual), span,
                      min(n, 8 * numba.get_num_threads()))
    result = (out.reshape(in_shape), status, err)
    if trace:
        return result + (LKTrace(prev_pyr, next_pyr, iters, steps, residual),)
    return result


def forward_backward_error(prev_img, next_img, prev_pts, **lk_args):
    """Track forward, then back, and measure the round trip (Kalal et al. 2010).

    Parameters
    ----------
    prev_img, next_img : ndarray (H, W) uint8
        The two frames.
    prev_pts : array-like (N, 2) float32
        The points to track from ``prev_img``.
    **lk_args
        Passed to both :func:`calc_optical_flow_pyr_lk` calls (``win_size``, ``max_level``, ...).

    Returns
    -------
    next_pts : ndarray (N, 2) float32
    status : ndarray (N,) uint8
        1 where both directions tracked.
    fb_error : ndarray (N,) float32
        Distance between each point and where the backward track lands (inf where lost); the
        OpenCV lk_track sample keeps points with ``fb_error < 1``.

    References
    ----------
    Z. Kalal, K. Mikolajczyk, J. Matas. "Forward-Backward Error: Automatic Detection of Tracking
    Failures." ICPR 2010. doi:10.1109/ICPR.2010.675
    """
    fwd, st1, _ = calc_optical_flow_pyr_lk(prev_img, next_img, prev_pts, **lk_args)
    back, st2, _ = calc_optical_flow_pyr_lk(next_img, prev_img, fwd, **lk_args)
    p0, _ = check_points(prev_pts, "prev_pts", allow_nan=True)
    status = (st1 & st2).astype(np.uint8)
    d = np.hypot(*(back.reshape(-1, 2) - p0).T).astype(np.float32)
    d[status == 0] = np.inf
    return fwd.reshape(-1, 2), status, d


@warmup_hook
def _warmup():
    img = np.zeros((32, 32), np.uint8)
    img[10:20, 10:20] = 200
    calc_optical_flow_pyr_lk(img, img, np.array([[15.0, 15.0]], np.float32), win_size=(5, 5), max_level=1)
