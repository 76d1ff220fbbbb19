"""Corner responses and Shi-Tomasi "good features to track", as OpenCV computes them.

For every pixel, the structure tensor ``M = sum_w [Ix^2, Ix Iy; Ix Iy, Iy^2]`` is summed over a
``block_size`` window of Sobel derivatives. Shi and Tomasi (1994) keep points whose *smaller*
eigenvalue is large (:func:`corner_min_eigen_val`); Harris and Stephens (1988) use
``det M - k trace(M)^2`` (:func:`corner_harris`). :func:`good_features_to_track` thresholds the
response relative to its maximum, keeps 3x3 local maxima, sorts them by response and drops any
corner closer than ``min_distance`` to a stronger one.

Arithmetic follows OpenCV's CPU path: Sobel derivatives scaled by
``1 / (2^(ksize-1) * block_size * 255)`` for 8-bit images, with OpenCV's symmetric-kernel
summation order, reflect-101 borders, unnormalised box sums in double precision, float32 results.

References
----------
J. Shi, C. Tomasi. "Good Features to Track." CVPR 1994. doi:10.1109/CVPR.1994.323794
C. Harris, M. Stephens. "A Combined Corner and Edge Detector." Alvey Vision Conference 1988.
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_float, check_image, check_int
from ..imgproc import fill_border_reflect101, reflect101

__all__ = ["corner_min_eigen_val", "corner_harris", "good_features_to_track"]


#: OpenCV's 3x3 Sobel taps: smoothing and difference.
SOBEL_SMOOTH = np.array([1.0, 2.0, 1.0])
SOBEL_DIFF = np.array([-1.0, 0.0, 1.0])


@kernel
def _filter_row(src, taps, padded, out):
    """The row (horizontal) pass of OpenCV's vectorised 3x3 Sobel on one image row: the three
    taps accumulated in order with fused multiply-adds into float32 ``out``, reflect-101 border.
    ``padded`` (w + 2,) is scratch. A fused multiply-add is computed exactly in float64 and
    rounded once (the product of two float32 values is exact in float64)."""
    w = src.shape[0]
    one = np.uint64(1)
    for j in range(w):  # unsigned indices: no negative-index test, vectorised
        padded[np.uint64(j) + one] = np.float32(src[np.uint64(j)])
    fill_border_reflect101(padded, 1, w)
    k0 = np.float64(taps[0])
    k1 = np.float64(taps[1])
    k2 = np.float64(taps[2])
    for j in range(w):  # the three taps in order, each a fused multiply-add onto the last
        u = np.uint64(j)
        acc = np.float32(np.float64(padded[u]) * k0 + 0.0)  # + 0.0 as OpenCV's zeroed sum: -0 -> 0
        acc = np.float32(np.float64(padded[u + one]) * k1 + np.float64(acc))
        out[u] = np.float32(np.float64(padded[u + one + one]) * k2 + np.float64(acc))


@kernel
def _filter_column(above, centre, below, taps, out):
    """The column (vertical) pass of OpenCV's 3x3 Sobel from three row-filtered rows:
    ``fma(a + b, k_side, centre * k_centre)`` for symmetric taps, ``(b - a) k_side`` for
    antisymmetric ones."""
    kside = np.float64(taps[2])
    for j in range(out.shape[0]):
        u = np.uint64(j)
        if taps[0] == taps[2]:
            out[u] = np.float32(np.float64(above[u] + below[u]) * kside + np.float64(centre[u] * taps[1]))
        else:
            out[u] = (below[u] - above[u]) * taps[2]


@kernel
def _filtered_rows(img, m, smooth, diff, padded, rows, tags):
    """Row-filtered image row ``m`` (Sobel difference taps for Dx, smoothing taps for Dy) in
    slot ``m % 3`` of ``rows`` (3, 2, w), computed unless ``tags`` says it is already there."""
    slot = m % 3
    if tags[slot] != m:
        _filter_row(img[m], diff, padded, rows[slot, 0])
        _filter_row(img[m], smooth, padded, rows[slot, 1])
        tags[slot] = m
    return slot


@kernel
def _product_row_sums(x, y, block, padded, out):
    """Horizontal ``block``-sums (reflect-101, float64) of one row's float32 products Dx^2,
    Dx Dy, Dy^2 into ``out[0]``, ``out[1]``, ``out[2]``. ``padded`` (3, w + block - 1) is
    scratch; the sums run tap by tap over the whole row (one order for every pixel, vectorised)."""
    w = x.shape[0]
    r = block // 2
    off = np.uint64(r)
    for j in range(w):
        u = np.uint64(j)
        padded[0, u + off] = np.float64(x[u] * x[u])
        padded[1, u + off] = np.float64(x[u] * y[u])
        padded[2, u + off] = np.float64(y[u] * y[u])
    for p in range(3):
        src = padded[p]
        fill_border_reflect101(src, r, w)
        dst = out[p]
        dst[:] = 0.0
        for t in range(block):
            shift = np.uint64(t)
            for j in range(w):
                u = np.uint64(j)
                dst[u] += src[u + shift]


@kernel
def _min_eig(a, b, c, out):
    """Smaller eigenvalue of [a, b; b, c] / 2 per pixel of a row (OpenCV's formula)."""
    half = np.float32(0.5)
    for j in range(out.shape[0]):
        p = a[j] * half
        q = b[j]
        t = c[j] * half
        out[j] = (p + t) - np.sqrt((p - t) * (p - t) + q * q)


@kernel
def _harris(a, b, c, k, out):
    """Harris response ``a c - b^2 - k (a + c)^2`` per pixel of a row."""
    kf = np.float32(k)
    for j in range(out.shape[0]):
        p = a[j]
        q = b[j]
        t = c[j]
        out[j] = p * t - q * q - kf * (p + t) * (p + t)


@kernel(parallel=True)
def _corner_response(img, smooth, diff, block, use_harris, harris_k, out, n_chunks):
    """Corner response of every pixel, streamed row by row.

    For output row i: the Sobel derivatives Dx, Dy of the source rows around it (a row pass
    over each image row, then a column pass over three), their products Dx^2, Dx Dy, Dy^2 summed
    horizontally over ``block`` columns, then ``block`` of those row sums added vertically
    (OpenCV's ``boxFilter`` order, in float64) into the tensor (a, b, c) as float32, and the
    response of (a, b, c). Rows are split into ``n_chunks`` chunks run in parallel; each keeps
    the last three row-filtered image rows and the last ``block`` product row sums in rings, so
    nothing larger than a row is written between the stages.
    """
    h, w = img.shape
    r = block // 2
    for chunk in numba.prange(n_chunks):
        lo = chunk * h // n_chunks
        hi = (chunk + 1) * h // n_chunks
        padded = np.empty(w + 2, np.float32)
        rows = np.empty((3, 2, w), np.float32)  # row-filtered image rows, slot m % 3
        tags = np.full(3, -1, np.int64)  # which image row each slot holds
        dx = np.empty(w, np.float32)
        dy = np.empty(w, np.float32)
        products = np.empty((3, w + block - 1))
        ring = np.empty((block, 3, w))  # product row sums of source row s, slot (s + block) % block
        acc = np.empty(w)
        tensor = np.empty((3, w), np.float32)
        for src_row in range(lo - r, hi + block - 1 - r):
            m = reflect101(src_row, h)  # the products plane is reflected: source row src_row is image row m's
            above = _filtered_rows(img, reflect101(m - 1, h), smooth, diff, padded, rows, tags)
            centre = _filtered_rows(img, m, smooth, diff, padded, rows, tags)
            below = _filtered_rows(img, reflect101(m + 1, h), smooth, diff, padded, rows, tags)
            _filter_column(rows[above, 0], rows[centre, 0], rows[below, 0], smooth, dx)
            _filter_column(rows[above, 1], rows[centre, 1], rows[below, 1], diff, dy)
            _product_row_sums(dx, dy, block, products, ring[(src_row + block) % block])
            i = src_row - (block - 1 - r)  # the output row whose window this source row completes
            if i < lo:
                continue
            for p in range(3):
                acc[:] = ring[(i - r + block) % block, p]
                for v in range(1, block):  # top row first
                    src = ring[(i - r + v + block) % block, p]
                    for j in range(w):
                        u = np.uint64(j)
                        acc[u] += src[u]
                dst = tensor[p]
                for j in range(w):
                    dst[np.uint64(j)] = np.float32(acc[np.uint64(j)])
            if use_harris:
                _harris(tensor[0], tensor[1], tensor[2], harris_k, out[i])
            else:
                _min_eig(tensor[0], tensor[1], tensor[2], out[i])


def _response(image, block_size, ksize, use_harris, k):
    img = check_image(image, allow_color=False)
    block_size = check_int(block_size, "block_size", low=1, high=255)
    ksize = check_int(ksize, "ksize")
    if ksize != 3:
        # cv2 5.x gives other apertures a response that does not follow its own Sobel pipeline;
        # rather than a silent mismatch, only the default aperture is offered.
        raise ValueError(f"ksize must be 3 (OpenCV's default Sobel aperture), got {ksize}")
    scale = 1.0 / ((1 << (ksize - 1)) * block_size)
    if img.dtype == np.uint8:
        scale /= 255.0
    src = img if img.dtype == np.uint8 else img.astype(np.float32)
    h, w = img.shape
    out = np.empty((h, w), np.float32)
    # OpenCV scales the smoothing taps (the row taps for Dy, the column taps for Dx).
    _corner_response(np.ascontiguousarray(src), (SOBEL_SMOOTH * scale).astype(np.float32),
                     SOBEL_DIFF.astype(np.float32), block_size, use_harris, k, out,
                     min(h, 4 * numba.get_num_threads()))
    return out


def corner_min_eigen_val(image, block_size: int = 3, ksize: int = 3) -> np.ndarray:
    """Smaller eigenvalue of the structure tensor at every pixel, as ``cv2.cornerMinEigenVal``.

    Parameters
    ----------
    image : ndarray (H, W), uint8 or float32/float64
    block_size : int
        Side of the window the tensor is summed over.
    ksize : int
        Sobel aperture; 3 (OpenCV's default) is the one offered.

    Returns
    -------
    ndarray (H, W), float32
        ``(a + c) - sqrt((a - c)^2 + b^2)`` with ``a = sum Ix^2 / 2``, ``b = sum Ix Iy``,
        ``c = sum Iy^2 / 2`` (derivatives scaled as OpenCV scales them).
    """
    return _response(image, block_size, ksize, False, 0.0)


def corner_harris(image, block_size: int, ksize: int, k: float) -> np.ndarray:
    """Harris response ``det(M) - k trace(M)^2`` at every pixel, as ``cv2.cornerHarris``.

    Parameters
    ----------
    image : ndarray (H, W), uint8 or float32/float64
    block_size : int
        Side of the window the structure tensor is summed over.
    ksize : int
        Sobel aperture; 3 (OpenCV's default) is the one offered.
    k : float
        Harris' free parameter (0.04 to 0.06 usually).

    Returns
    -------
    ndarray (H, W), float32
    """
    return _response(image, block_size, ksize, True, check_float(k, "k"))


@kernel
def _hmax3(row, out):
    """Horizontal 3-maximum of ``row`` into ``out`` (interior columns)."""
    one = np.uint64(1)
    for x in range(1, row.shape[0] - 1):  # unsigned indices: vectorised
        u = np.uint64(x)
        out[u] = max(max(row[u - one], row[u]), row[u + one])


@kernel
def _local_maxima(eig, mask, use_mask, threshold):
    """Candidates: eig > threshold, equal to its 3x3 maximum, off the 1-pixel frame, in mask.

    The 3x3 maximum is a horizontal 3-max of each row (three rows kept), then a vertical 3-max
    of those (OpenCV dilates the response the same way). A first pass flags the candidates, a
    second collects them, so the outputs have their exact sizes. Returns (values, ys, xs) in
    row-major order.
    """
    h, w = eig.shape
    if h < 3 or w < 3:
        return np.empty(0, np.float32), np.empty(0, np.int64), np.empty(0, np.int64)
    hmax = np.empty((3, w), eig.dtype)  # rows y - 1, y, y + 1 at slots (row % 3)
    vmax = np.empty(w, eig.dtype)
    flags = np.zeros((h, w), np.bool_)
    _hmax3(eig[0], hmax[0])
    _hmax3(eig[1], hmax[1])
    n = 0
    for y in range(1, h - 1):
        _hmax3(eig[y + 1], hmax[(y + 1) % 3])
        above, centre, below = hmax[(y - 1) % 3], hmax[y % 3], hmax[(y + 1) % 3]
        for x in range(1, w - 1):
            u = np.uint64(x)
            vmax[u] = max(max(above[u], centre[u]), below[u])
        row = eig[y]
        for x in range(1, w - 1):
            v = row[x]
            if v > threshold and v >= vmax[x] and not (use_mask and mask[y, x] == 0):
                flags[y, x] = True
                n += 1
    ys = np.empty(n, np.int64)
    xs = np.empty(n, np.int64)
    vals = np.empty(n, np.float32)
    n = 0
    for y in range(1, h - 1):
        for x in range(1, w - 1):
            if flags[y, x]:
                ys[n] = y
                xs[n] = x
                vals[n] = eig[y, x]
                n += 1
    return vals[:n], ys[:n], xs[:n]


@kernel
def _min_distance_cull(order, ys, xs, max_corners, min_distance, w, h):
    """Accept candidates in ``order``, skipping any closer than ``min_distance`` to an accepted
    one (a grid of cvRound(min_distance) cells finds the neighbours), up to ``max_corners``."""
    cell = max(int(np.rint(min_distance)), 1)
    gw = (w + cell - 1) // cell
    gh = (h + cell - 1) // cell
    head = np.full(gw * gh, -1, np.int64)  # per cell: last accepted corner (linked list)
    nxt = np.full(order.shape[0], -1, np.int64)
    accepted = np.empty(order.shape[0], np.int64)
    n = 0
    d2 = min_distance * min_distance
    for k in order:
        x, y = xs[k], ys[k]
        cx, cy = x // cell, y // cell
        good = True
        for gy in range(max(cy - 1, 0), min(cy + 2, gh)):
            for gx in range(max(cx - 1, 0), min(cx + 2, gw)):
                m = head[gy * gw + gx]
                while m >= 0 and good:
                    ddx = np.float64(x - xs[m])
                    ddy = np.float64(y - ys[m])
                    if ddx * ddx + ddy * ddy < d2:
                        good = False
                    m = nxt[m]
        if good:
            c = cy * gw + cx
            nxt[k] = head[c]
            head[c] = k
            accepted[n] = k
            n += 1
            if max_corners > 0 and n >= max_corners:
                break
    return accepted[:n]


def good_features_to_track(image, max_corners: int, quality_level: float, min_distance: float, *,
                           mask=None, block_size: int = 3, gradient_size: int = 3,
                           use_harris: bool = False, k: float = 0.04) -> np.ndarray:
    """Strongest corners of an image, as ``cv2.goodFeaturesToTrack`` (Shi-Tomasi by default).

    1. Response: :func:`corner_min_eigen_val` (or :func:`corner_harris` with ``use_harris``).
    2. Keep pixels whose response is above ``quality_level`` times the best response (strictly),
       that equal the maximum of their 3x3 neighbourhood (plateaus all survive), off the
       1-pixel image frame and inside ``mask``.
    3. Sort by response, strongest first; equal responses: the later pixel in row-major order
       first (OpenCV breaks ties by address).
    4. Walk that list and accept a corner unless an accepted one lies closer than
       ``min_distance`` (exactly ``min_distance`` apart is accepted); stop at ``max_corners``
       (<= 0: no limit).

    Parameters
    ----------
    image : ndarray (H, W), uint8 or float
    max_corners : int
    quality_level : float in (0, 1]
    min_distance : float >= 0
    mask : ndarray (H, W), optional
        Corners only where ``mask != 0``.
    block_size, gradient_size : int
        Tensor window and Sobel aperture.
    use_harris : bool
    k : float
        Harris' free parameter.

    Returns
    -------
    ndarray (N, 2), float32
        Corner positions (x, y), integer-valued (no sub-pixel refinement, as OpenCV).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import good_features_to_track
    >>> img = np.zeros((64, 64), np.uint8)
    >>> img[20:44, 20:44] = 255  # a bright square: four corners
    >>> good_features_to_track(img, 10, 0.1, 5).shape
    (4, 2)
    """
    img = check_image(image, allow_color=False)
    max_corners = check_int(max_corners, "max_corners")
    quality_level = check_float(quality_level, "quality_level", low=0.0, high=1.0, low_open=True)
    min_distance = check_float(min_distance, "min_distance", low=0.0)
    if mask is not None:
        m = as_array(mask, "mask")
        if m.shape != img.shape:
            raise ValueError(f"mask must have the image's shape {img.shape}, got {m.shape}")
        mask_arr = np.ascontiguousarray(m != 0, dtype=np.uint8)
    else:
        mask_arr = np.ones((1, 1), np.uint8)
    if use_harris:
        eig = corner_harris(img, block_size, gradient_size, k)
    else:
        eig = corner_min_eigen_val(img, block_size, gradient_size)
    masked = eig[mask_arr != 0] if mask is not None else eig
    if masked.size == 0:
        return np.zeros((0, 2), np.float32)
    threshold = np.float32(float(masked.max()) * quality_level)
    vals, ys, xs = _local_maxima(eig, mask_arr, mask is not None, threshold)
    # strongest first; ties: larger address (row-major index) first. One sort of a 64-bit key:
    # the response's float32 bits made to order as unsigned integers (flip all bits of a
    # negative value, set the sign bit of a positive one; + 0 turns -0 into 0) above the address.
    bits = (vals + np.float32(0.0)).view(np.uint32)
    ordered = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(1 << 31)).astype(np.uint64)
    order = np.argsort((ordered << np.uint64(32)) | (ys * img.shape[1] + xs).astype(np.uint64))[::-1]
    if min_distance < 1:
        chosen = order if max_corners <= 0 else order[:max_corners]
    else:
        chosen = _min_distance_cull(order, ys, xs, max_corners, min_distance, img.shape[1], img.shape[0])
    return np.column_stack([xs[chosen], ys[chosen]]).astype(np.float32)


@warmup_hook
def _warmup():
    img = np.zeros((8, 8), np.uint8)
    img[3:5, 3:5] = 255
    for image in (img, img.astype(np.float32)):
        good_features_to_track(image, 10, 0.01, 2)
        corner_harris(image, 3, 3, 0.04)
