"""Resampling on rectangular grids.

* :func:`linear_taps` (kernel-level :func:`linear_tap`, and :func:`window_taps` for windows
  resampled on one grid) / :func:`sample_separable`: bilinear sampling on rectangular grids, where
  each column's and each row's taps are computed once and each source row is interpolated along
  x once; :func:`resize` and the single-object trackers' windows use it, through
  :func:`sample_separable_checked`, which skips the input checks (one thread below 32k samples,
  where starting Numba's pool costs more than the work).
* :func:`resize`: ``cv2.resize`` with ``INTER_LINEAR`` or (downscaling) ``INTER_AREA``, in float32;
  :func:`resize_uint8` to bytes, bit-identical where OpenCV halves.
* :func:`pyr_down`: ``cv2.pyrDown``, bit-exact.
* :func:`crop_patches`: the boxes of a frame resized to one size, as deep_sort extracts a ReID
  network's inputs.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import (DTypeError, as_array, check_bool, check_boxes, check_choice, check_finite, check_image,
                         check_int,
                         check_int_pair)
from .border import fill_border_reflect101, reflect101
from .color import to_uint8

__all__ = ["resize", "resize_uint8", "linear_taps", "linear_tap", "window_taps", "interpolate_rows", "sample_separable",
           "sample_separable_checked", "pyr_down", "crop_patches"]


@functools.lru_cache(maxsize=32)
def _linear_table(src: int, dst: int):
    """cv2.resize INTER_LINEAR taps along one axis: half-pixel centres (:func:`linear_taps`);
    kept for the next frame of the same size (callers only read them)."""
    return linear_taps((np.arange(dst) + 0.5) * (src / dst) - 0.5, src)


def linear_taps(pos, src: int):
    """Bilinear taps of positions ``pos`` along an axis of ``src`` pixels: each position's left
    pixel and the weight of its right neighbour (float32, as OpenCV's), clamped at both ends so
    positions outside repeat the edge pixel (:func:`linear_tap` for one position). Feed them to
    :func:`sample_separable`.

    Parameters
    ----------
    pos : array-like of float
    src : int
        Pixels along the axis.

    Returns
    -------
    x0 : ndarray int64, the shape of ``pos``
        Left pixels.
    ax : ndarray float32
        Weights of the right neighbours.
    """
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
    neighbour)``, clamped to the ``src`` pixels of the axis.

    Parameters
    ----------
    pos : float
    src : int
        Pixels along the axis.

    Returns
    -------
    (int, float32)
    """
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
    Returns ``x0, ax`` (K, ow) and ``y0, ay`` (K, oh) for :func:`sample_separable`.

    Parameters
    ----------
    centers, sizes : ndarray (K, 2)
        Window centres and sizes (x, y).
    ow, oh : int
        Grid size.
    w, h : int
        Image size.

    Returns
    -------
    x0, ax : ndarray (K, ow)
    y0, ay : ndarray (K, oh)
    """
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

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, C)
    x_taps, y_taps : (ndarray, ndarray)
        ``(x0, ax)`` and ``(y0, ay)`` from :func:`linear_taps`.

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
    taps (K, n) int64 / float32 within the image.

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, C)
    x_taps, y_taps : (ndarray, ndarray)
        ``(x0, ax)`` and ``(y0, ay)``, (K, n) each.

    Returns
    -------
    ndarray (K, oh, ow[, C]) float32
    """
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
    horizontally once (:func:`_interpolate_lines`). The arithmetic is the same either way.

    Parameters
    ----------
    img : ndarray (H, W, C)
    x0, ax : ndarray (K, ow)
        Column taps per grid (:func:`linear_taps`).
    y0, ay : ndarray (K, oh)
        Row taps per grid.
    out : ndarray (K, oh, ow, C) float32
        Written in place.
    start, stop : int
        The flattened output rows to compute.

    Returns
    -------
    None
    """
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

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import resize
    >>> img = np.arange(16, dtype=np.float32).reshape(4, 4)
    >>> resize(img, (2, 2)).tolist()  # dsize is (width, height), as cv2's
    [[2.5, 4.5], [10.5, 12.5]]
    >>> resize(img, (2, 2), interpolation="area").tolist()
    [[2.5, 4.5], [10.5, 12.5]]
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


def resize_uint8(image, dsize) -> np.ndarray:
    """Resize a uint8 image as ``cv2.resize(image, dsize)`` (``INTER_LINEAR``) does, to uint8.

    Halving both sides exactly (even width and height, ``dsize`` half of them) is bit-identical
    to OpenCV, which takes its fast area path there: each output pixel is the mean of its 2x2
    block, rounded half up, ``(a + b + c + d + 2) >> 2``. Other sizes are :func:`resize` rounded
    to the nearest byte (halves to even), within one gray level of OpenCV's fixed-point blend.

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, C), uint8
    dsize : (int, int)
        Output (width, height), OpenCV's order.

    Returns
    -------
    ndarray (height, width) or (height, width, C), uint8

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import resize_uint8
    >>> resize_uint8(np.array([[0, 1, 4, 4], [1, 0, 4, 5]], np.uint8), (2, 1)).tolist()
    [[1, 4]]
    """
    img = check_image(image, dtypes=(np.uint8,), any_channels=True)
    dw, dh = check_int_pair(dsize, "dsize", low=1)
    h, w = img.shape[:2]
    if (2 * dw, 2 * dh) != (w, h):
        return to_uint8(resize(img, (dw, dh)))
    out = np.empty((dh, dw) + img.shape[2:], np.uint8)
    if img.ndim == 2:
        _halve_kernel(img, out)
    for c in range(img.shape[2] if img.ndim == 3 else 0):  # plane by plane, so the gray loop vectorises
        _halve_kernel(img[:, :, c], out[:, :, c])
    return out


@kernel
def _halve_kernel(src, out):
    """Each pixel of ``out`` the mean of its 2x2 block of ``src`` (2-D uint8), rounded half up,
    in integers."""
    two = np.uint16(2)
    for y in range(out.shape[0]):
        top, bottom = src[2 * y], src[2 * y + 1]
        for x in range(out.shape[1]):
            total = np.uint16(top[2 * x]) + np.uint16(top[2 * x + 1]) + np.uint16(bottom[2 * x])
            out[y, x] = np.uint8((total + np.uint16(bottom[2 * x + 1]) + two) >> two)


@kernel(parallel=True)
def _pyr_down_kernel(src, out):
    """Vertical 5-tap pass into a row buffer padded by two columns (reflect-101), then the
    horizontal 5-tap pass at even columns; all in integers, so the order does not matter."""
    h, w = src.shape
    oh, ow = out.shape
    for y in numba.prange(oh):
        r0 = reflect101(2 * y - 2, h)
        r1 = reflect101(2 * y - 1, h)
        r2 = reflect101(2 * y, h)
        r3 = reflect101(2 * y + 1, h)
        r4 = reflect101(2 * y + 2, h)
        col = np.empty(w + 4, np.int32)
        for x in range(w):
            col[x + 2] = (np.int32(src[r0, x]) + np.int32(src[r4, x])
                          + 4 * (np.int32(src[r1, x]) + np.int32(src[r3, x])) + 6 * np.int32(src[r2, x]))
        fill_border_reflect101(col, 2, w)
        for x in range(ow):
            c = 2 * x
            out[y, x] = (col[c] + col[c + 4] + 4 * (col[c + 1] + col[c + 3]) + 6 * col[c + 2] + 128) >> 8


def pyr_down(image) -> np.ndarray:
    """Blur and halve an 8-bit image, bit-exact with ``cv2.pyrDown`` (default size and border).

    Parameters
    ----------
    image : ndarray (H, W), uint8

    Returns
    -------
    ndarray ((H + 1) // 2, (W + 1) // 2), uint8
    """
    img = check_image(image, allow_color=False, dtypes=(np.uint8,))
    out = np.empty(((img.shape[0] + 1) // 2, (img.shape[1] + 1) // 2), np.uint8)
    _pyr_down_kernel(np.ascontiguousarray(img), out)
    return out


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
    for interpolation in ("linear", "area"):
        resize(np.zeros((4, 4), np.float32), (2, 2), interpolation=interpolation)
        resize(np.zeros((4, 4, 2), np.float32), (3, 3), interpolation=interpolation)
    for dtype in (np.uint8, np.float32, np.float64):  # the frames', the pyramids' and the masks' types,
        for shape in ((8, 8), (8, 8, 3)):  # small outputs sampled serially, large ones in parallel
            for size in ((4, 4), (200, 200)):
                resize(np.zeros(shape, dtype), size)
    pyr_down(np.zeros((4, 4), np.uint8))
    for shape in ((4, 4), (4, 4, 3), (5, 5)):
        resize_uint8(np.zeros(shape, np.uint8), (2, 2))
