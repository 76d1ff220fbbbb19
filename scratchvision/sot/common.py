"""Pieces shared by the correlation-filter trackers: box and frame checks, sub-pixel patches,
cosine windows, the DFT sizes OpenCV pads to, and the peak-to-sidelobe ratio."""

from __future__ import annotations

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_image, check_int
from ..imgproc import interpolate_rows, rgb_to_gray, sample_separable_checked, window_taps

__all__ = ["check_bbox", "to_gray", "gray_value", "gray_windows", "gray_pixels", "rgb_patch_to_gray",
           "get_rect_sub_pix", "sample_windows", "hanning_window", "optimal_dft_size", "nearest_dft_size",
           "peak_to_sidelobe",
           "subpixel_peak"]


def check_bbox(bbox, frame_shape, name: str = "bbox") -> np.ndarray:
    """A box ``(x, y, w, h)`` at least one pixel wide and high that overlaps the frame, as float64.

    A side longer than twice the frame's is refused too: such a box holds the whole frame with
    room to spare, so it is a mistake (of units or of order), and a tracker's window that size
    could exhaust memory."""
    b = as_array(bbox, name).astype(np.float64).ravel()
    if b.shape != (4,) or not np.isfinite(b).all():
        raise ValueError(f"{name} must be four finite numbers (x, y, w, h), got {bbox!r}")
    x, y, bw, bh = (float(v) for v in b)
    if bw <= 0 or bh <= 0:
        raise ValueError(f"{name} must have a positive width and height, got {(x, y, bw, bh)}")
    if bw < 1 or bh < 1:
        raise ValueError(f"{name} must be at least one pixel wide and high, got {(x, y, bw, bh)}")
    h, w = frame_shape[:2]
    if x >= w or y >= h or x + bw <= 0 or y + bh <= 0:
        raise ValueError(f"{name} {(x, y, bw, bh)} lies outside the {w}x{h} frame")
    if bw > 2 * w or bh > 2 * h:
        raise ValueError(f"{name} {(x, y, bw, bh)} is more than twice the size of the {w}x{h} frame")
    return b


def to_gray(frame, name: str = "frame") -> np.ndarray:
    """A frame (H, W) or (H, W, 3) RGB as float32 gray, 0..255."""
    img = check_image(frame, name)
    return np.asarray(rgb_to_gray(img), np.float32)


@kernel
def gray_value(r, g, b):
    """``0.299 R + 0.587 G + 0.114 B`` in float32, summed left to right."""
    return r * np.float32(0.299) + g * np.float32(0.587) + b * np.float32(0.114)


@kernel
def gray_windows(img, centers, sizes, out):
    """Kernel-level :func:`sample_windows` of a gray or RGB frame (H, W, 1 or 3) on the grid of
    ``out`` (K, oh, ow), in gray (:func:`gray_pixels`)."""
    n, oh, ow = out.shape
    x0, ax, y0, ay = window_taps(centers, sizes, ow, oh, img.shape[1], img.shape[0])
    if img.shape[2] == 1:
        interpolate_rows(img, x0, ax, y0, ay, out.reshape((n, oh, ow, 1)), 0, n * oh)
        return
    rgb = np.empty((n, oh, ow, img.shape[2]), np.float32)
    interpolate_rows(img, x0, ax, y0, ay, rgb, 0, n * oh)
    gray_pixels(rgb.reshape((-1, img.shape[2])), out.reshape(-1))


def rgb_patch_to_gray(patch, rgb: bool) -> np.ndarray:
    """:func:`gray_value` of float32 patches (..., 3) sampled from an RGB frame (``rgb`` True);
    patches of a gray frame are returned as they are."""
    if not rgb:
        return patch
    p = np.ascontiguousarray(patch, np.float32)
    out = np.empty(p.shape[:-1], np.float32)
    gray_pixels(p.reshape(-1, p.shape[-1]), out.reshape(-1))
    return out


@kernel
def gray_pixels(pixels, out):
    """:func:`gray_value` of each RGB pixel (N, 3) into ``out`` (N,)."""
    for i in range(pixels.shape[0]):
        out[i] = gray_value(pixels[i, 0], pixels[i, 1], pixels[i, 2])


def get_rect_sub_pix(image, size, center, out_size=None) -> np.ndarray:
    """The ``size = (w, h)`` patch centred at ``center = (cx, cy)``, bilinear, edges replicated
    (``cv2.getRectSubPix``: the top-left pixel sits at ``center - (size - 1) / 2``).

    With ``out_size = (ow, oh)``, the same window is sampled on an ``ow x oh`` grid instead
    (samples ``w / ow`` pixels apart, the middle one at the centre), in one pass: a resized patch
    without the full-size one."""
    w, h = size
    if out_size is None or tuple(out_size) == (w, h):
        x0, y0 = center[0] - (w - 1) * 0.5, center[1] - (h - 1) * 0.5
        if x0 == np.floor(x0) and y0 == np.floor(y0) and w == int(w) and h == int(h):  # a clipped slice
            rows = np.clip(np.arange(int(h)) + int(y0), 0, image.shape[0] - 1)
            cols = np.clip(np.arange(int(w)) + int(x0), 0, image.shape[1] - 1)
            return np.asarray(image[rows[:, None], cols[None, :]], np.float32)
        out_size = (w, h)
    return sample_windows(image, [center], [size], out_size)[0]


def sample_windows(image, centers, sizes, out_size) -> np.ndarray:
    """Windows of ``sizes[k] = (w, h)`` centred at ``centers[k]``, each sampled on one
    ``out_size = (ow, oh)`` grid (bilinear, edges replicated), in one pass:
    (K, oh, ow) or (K, oh, ow, C) float32. Grid point ``j`` of window ``k`` lies at
    ``cx + (j - (ow - 1) / 2) w / ow``, so an ``ow = w`` grid is ``cv2.getRectSubPix``'s."""
    ow, oh = (int(v) for v in out_size)
    c = np.asarray(centers, np.float64).reshape(-1, 2)
    s = np.asarray(sizes, np.float64).reshape(-1, 2)
    h, w = image.shape[:2]
    x0, ax, y0, ay = window_taps(c, s, ow, oh, w, h)
    return sample_separable_checked(image, (x0, ax), (y0, ay))


def hanning_window(size) -> np.ndarray:
    """``cv2.createHanningWindow``: the outer product of ``0.5 (1 - cos(2 pi i / (n - 1)))``
    (all ones along an axis of length 1)."""
    def taper(n):
        return 0.5 * (1 - np.cos(2 * np.pi * np.arange(n) / (n - 1))) if n > 1 else np.ones(1)

    w, h = size
    return np.outer(taper(h), taper(w)).astype(np.float32)


def optimal_dft_size(n: int) -> int:
    """The smallest ``2^a 3^b 5^c >= n`` (``cv2.getOptimalDFTSize``), for an integer ``n >= 1``."""
    n = check_int(n, "n", low=1)
    best = None
    p2 = 1
    while p2 < 2 * n + 2:
        p3 = p2
        while p3 < 2 * n + 2:
            p5 = p3
            while p5 < n:
                p5 *= 5
            if best is None or p5 < best:
                best = p5
            p3 *= 3
        p2 *= 2
    return int(best)


def nearest_dft_size(n: int) -> int:
    """The ``2^a 3^b 5^c`` nearest to ``n >= 1`` (the larger one on a tie): a length the FFTs
    take fast, for a grid whose size is free to move a little (a prime length such as 31 takes
    pocketfft about twice as long as 30 or 32)."""
    n = check_int(n, "n", low=1)
    up = optimal_dft_size(n)
    down = n
    while optimal_dft_size(down) != down:
        down -= 1
    return up if up - n <= n - down else down


@kernel
def peak_to_sidelobe(response, eps=1e-5, exclude=5):
    """(peak value, its (x, y), PSR) of a correlation response (the first maximum in row order).

    PSR = (peak - mean) / (std + eps) of the sidelobe: Bolme et al. take the response without
    the ``(2 exclude + 1)``-square window around the peak (11 x 11 by default, wrapping around as
    the correlation does; rows or columns it would cover twice count once); ``exclude=0`` takes
    the whole response, as OpenCV's MOSSE does. Sums in float64."""
    h, w = response.shape
    y, x = 0, 0
    peak = response[0, 0]
    total = squares = 0.0
    for i in range(h):
        for j in range(w):
            v = response[i, j]
            if v > peak:
                peak, y, x = v, i, j
            total += v
            squares += np.float64(v) * v
    n = h * w
    if exclude > 0 and (2 * exclude + 1) ** 2 < h * w:  # the sidelobe: all sums minus the window's
        rows, cols = min(2 * exclude + 1, h), min(2 * exclude + 1, w)
        for di in range(rows):
            i = (y - exclude + di) % h if rows < h else di
            for dj in range(cols):
                v = response[i, (x - exclude + dj) % w if cols < w else dj]
                total -= v
                squares -= np.float64(v) * v
        n -= rows * cols
    mean = total / n
    std = np.sqrt(max(squares / n - mean * mean, 0.0))
    return peak, (x, y), (peak - mean) / (std + eps)


@kernel
def subpixel_peak(response, px, py):
    """Offsets of the response's maximum from pixel (px, py) by a parabola through it and its two
    neighbours along each axis (wrapping around, as the correlation is circular), in the
    response's precision."""
    h, w = response.shape
    mid = response[py, px]
    return (_parabola_vertex(response[py, (px - 1) % w], mid, response[py, (px + 1) % w]),
            _parabola_vertex(response[(py - 1) % h, px], mid, response[(py + 1) % h, px]))


@kernel
def _parabola_vertex(left, mid, right):
    """Offset in [-0.5, 0.5] of the vertex of the parabola through (-1, left), (0, mid),
    (1, right); 0 unless it opens downwards. Computed in the values' own precision (``mid + mid``
    and the halving are exact)."""
    curvature = left - (mid + mid) + right
    if not curvature < 0:
        return 0.0
    return min(max(0.5 * ((left - right) / curvature), -0.5), 0.5)


@warmup_hook
def _warmup():
    for dtype in (np.float32, np.float64):  # KCF's and MOSSE's responses, CSRT's
        response = np.zeros((6, 6), dtype)
        response[2, 3] = 1.0
        subpixel_peak(response, 3, 2)
        peak_to_sidelobe(response)
