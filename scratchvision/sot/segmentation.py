"""CSRT's spatial reliability map: which pixels of the search window belong to the target.

Colour histograms (HSV, ``bins`` per channel) are kept for the target box, with Epanechnikov
weights that trust its centre more than its edges, and for a ring of background around it. A
window's pixels are back-projected into both, weighted by a location prior (high near the window's
centre, at least 0.5 and at most 0.9), and turned into the posterior probability of "target" by
Bayes' rule with the prior ``p_b`` of background. Those noisy per-pixel posteriors are then
smoothed by the Markov random field of Kristan et al. (2014), which pulls each pixel's
probability and prior towards its neighbours' (a Gaussian neighbourhood) until the
log-likelihood settles. CSRT thresholds the result at half its maximum to get a binary mask.

The steps follow OpenCV's ``TrackerCSRT`` (``trackerCSRTSegmentation.cpp``): the same kernels,
priors, Bayes rule, MRF update and stopping rule (change of the mean negative log-likelihood
below 0.1, at most 50 iterations, borders reflected).

References
----------
A. Lukezic, T. Vojir, L. Cehovin Zajc, J. Matas, M. Kristan. "Discriminative Correlation Filter
Tracker with Channel and Spatial Reliability." IJCV 126, 2018 (CVPR 2017).
doi:10.1007/s11263-017-1061-3

M. Kristan, J. Pers, V. Sulic, S. Kovacic. "A Graphical Model for Rapid Obstacle Image-Map
Estimation from Unmanned Surface Vehicles." ACCV 2014. doi:10.1007/978-3-319-16814-2_26
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_float, check_image, check_int
from ..imgproc import rgb_to_hsv, to_uint8
from .common import check_bbox

__all__ = ["bin_index", "color_histograms", "epanechnikov", "location_prior", "target_posterior",
           "mrf_smooth"]


def bin_index(hsv, bins: int) -> np.ndarray:
    """Each pixel's histogram bin: channel values ``v`` fall in bin ``floor(v bins / 256)``, and
    the three channel bins combine as ``(b0 bins + b1) bins + b2``."""
    b = (hsv.astype(np.int32) * bins) >> 8
    return (b[..., 0] * bins + b[..., 1]) * bins + b[..., 2]


def epanechnikov(dx, dy, half_w, half_h):
    """The Epanechnikov profile ``max(0, 1 - r^2)`` at offsets (dx, dy) from a centre, with
    ``r^2 = (dx / (half_w sqrt 2 + 1))^2 + (dy / (half_h sqrt 2 + 1))^2`` (OpenCV's bandwidths):
    1 at the centre, about 0.5 on the box's edge midpoints."""
    r2 = (dx / (half_w * 1.4142 + 1)) ** 2 + (dy / (half_h * 1.4142 + 1)) ** 2
    return np.maximum(1.0 - r2, 0.0)


def color_histograms(frame, box, bins: int = 16, background_ratio: int = 2):
    """Normalised HSV colour histograms of a box and of the background ring around it.

    Parameters
    ----------
    frame : ndarray, (H, W, 3) RGB or (H, W)
        The frame; only the box and its ring are converted to HSV.
    box : (x, y, w, h)
        The target; it is clipped to the frame.
    bins : int
        Bins per channel (``bins**3`` in all).
    background_ratio : int
        The ring extends ``box size / background_ratio`` beyond the box on each side.

    Returns
    -------
    foreground, background : ndarray, (bins**3,) float64, each summing to 1
        The box's histogram (Epanechnikov-weighted) and the ring's (uniform).
    p_b : float
        The background prior: 1 - box area / ring-and-box area.
    """
    frame = check_image(frame, "frame")
    box = check_bbox(box, frame.shape, "box")
    bins = check_int(bins, "bins", low=1, high=64)
    background_ratio = check_int(background_ratio, "background_ratio", low=1)
    hgt, wid = frame.shape[:2]
    x1 = min(max(0, int(box[0])), wid - 1)
    y1 = min(max(0, int(box[1])), hgt - 1)
    x2 = min(max(0, int(box[0] + box[2])), wid - 1)
    y2 = min(max(0, int(box[1] + box[3])), hgt - 1)
    off_x, off_y = (x2 - x1 + 1) // background_ratio, (y2 - y1 + 1) // background_ratio
    ox1, oy1 = max(0, x1 - off_x), max(0, y1 - off_y)
    ox2, oy2 = min(wid, x2 + off_x + 1), min(hgt, y2 + off_y + 1)
    p_b = 1.0 - (x2 - x1 + 1) * (y2 - y1 + 1) / ((ox2 - ox1 + 1) * (oy2 - oy1 + 1))

    outer = bin_index(rgb_to_hsv(to_uint8(frame[oy1:oy2, ox1:ox2])), bins)
    inner = np.zeros(outer.shape, bool)
    inner[y1 - oy1:y2 - oy1 + 1, x1 - ox1:x2 - ox1 + 1] = True
    ys, xs = np.mgrid[y1:y2 + 1, x1:x2 + 1]
    weights = epanechnikov(xs - (x1 + (x2 - x1) / 2), ys - (y1 + (y2 - y1) / 2), (x2 - x1) / 2, (y2 - y1) / 2)
    fg = np.bincount(outer[inner], weights.ravel(), minlength=bins**3)
    bg = np.bincount(outer[~inner], minlength=bins**3).astype(np.float64)
    return fg / max(fg.sum(), 1e-12), bg / max(bg.sum(), 1.0), p_b


def location_prior(shape, centre, target_side: float, scale: float = 1.0) -> np.ndarray:
    """Prior probability of "target" on a grid: an Epanechnikov bump of radius about
    ``target_side / sqrt 2`` around ``centre``, normalised to peak 1 and clipped to [0.5, 0.9].

    ``shape`` is the grid's (rows, cols); grid point (i, j) lies at ``(j, i) / scale`` in the
    units of ``centre`` and ``target_side`` (a grid resampled by ``scale``)."""
    rows, cols = shape
    ys = (np.arange(rows) + 0.5) / scale - 0.5
    xs = (np.arange(cols) + 0.5) / scale - 0.5
    half = 0.5 * target_side
    prior = epanechnikov(xs[None, :] - centre[0], ys[:, None] - centre[1], half, half)
    top = prior.max()
    return np.clip(prior / top if top > 0 else prior, 0.5, 0.9)


def target_posterior(index, foreground, background, p_b: float, prior) -> np.ndarray:
    """P(target | colour, location) of each pixel by Bayes' rule: ``p_o f / (p_o f + p_b b)``
    with ``f = foreground[index] prior``, ``b = background[index] (1 - prior)``, ``p_o = 1 - p_b``.
    Colours seen in neither histogram get 0.5 (OpenCV divides 0 by 0 there)."""
    f = (1.0 - p_b) * foreground[index] * prior
    b = p_b * background[index] * (1.0 - prior)
    return (f + 1e-12) / (f + b + 2e-12)


def mrf_smooth(posterior, prior, max_iter: int = 50, tol: float = 0.1):
    """Regularise a foreground posterior with Kristan et al.'s Markov random field.

    Each iteration mixes every pixel's prior and posterior (times its prior) with its
    neighbours' through a normalised Gaussian neighbourhood ``lambda`` of half-size
    ``max(1, round(3 cols / 50))`` (centre weight 0), renormalises foreground against
    background, and re-estimates the prior as the mean of the two smoothed maps. It stops when the
    mean negative log-likelihood of the smoothed maps changes by less than ``tol``.

    Parameters
    ----------
    posterior, prior : ndarray, (H, W) float64
        Per-pixel P(target | colour) and the location prior of "target".
    max_iter : int
    tol : float

    Returns
    -------
    smoothed : ndarray, (H, W) float64
        The regularised foreground probability.
    iterations : int
        Iterations run.
    """
    post, pri = (np.ascontiguousarray(as_array(a, name), np.float64) for a, name in
                 ((posterior, "posterior"), (prior, "prior")))
    for a, name in ((post, "posterior"), (pri, "prior")):
        if a.ndim != 2 or a.shape != post.shape or a.size == 0 or not ((a >= 0) & (a <= 1)).all():
            raise ValueError(f"{name} must be a non-empty 2-D array of probabilities in [0, 1] shaped like "
                             f"posterior {post.shape}, got shape {a.shape}")
    max_iter = check_int(max_iter, "max_iter", low=1)
    tol = check_float(tol, "tol", low=0.0)
    h = max(1, int(np.floor(post.shape[1] * 3.0 / 50.0 + 0.5)))
    k = np.arange(-h, h + 1)
    lam = np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) / (2 * (h / 3.0) ** 2))
    lam[h, h] = 0.0
    lam /= lam.sum()
    out = np.empty_like(post)
    iterations = _mrf_kernel(post, pri, lam, max_iter, tol, out)
    return out, int(iterations)


@kernel
def _reflect(i, n):
    """Index ``i`` mirrored into [0, n) with the edge repeated (cv2.BORDER_REFLECT: -1 -> 0)."""
    while i < 0 or i >= n:
        i = -i - 1 if i < 0 else 2 * n - i - 1
    return i


@kernel
def _correlate_reflect(src, lam, pad, out):
    """``out = src (x) lam`` (correlation, odd square kernel), borders mirrored with the edge
    repeated; ``pad`` is scratch space of the padded size."""
    rows, cols = src.shape
    r = lam.shape[0] // 2
    for i in range(rows + 2 * r):
        row = src[_reflect(i - r, rows)]
        for j in range(cols + 2 * r):
            pad[i, j] = row[_reflect(j - r, cols)]
    for i in range(rows):
        for j in range(cols):
            acc = 0.0
            for a in range(2 * r + 1):
                for b in range(2 * r + 1):
                    acc += lam[a, b] * pad[i + a, j + b]
            out[i, j] = acc


@kernel
def _smoothed_pair(p_o, p_b, lam, pad, tmp_o, tmp_b, sum_o, sum_b):
    """One half-step of the field: ``t = (p (x) lam) p`` for both labels, normalised to sum to 1
    per pixel, then ``sum = t (x) lam + t`` (the neighbourhood with centre weight 1)."""
    _correlate_reflect(p_o, lam, pad, tmp_o)
    _correlate_reflect(p_b, lam, pad, tmp_b)
    for i in range(p_o.shape[0]):
        for j in range(p_o.shape[1]):
            a = tmp_o[i, j] * p_o[i, j]
            b = tmp_b[i, j] * p_b[i, j]
            tmp_o[i, j] = a / (a + b)
            tmp_b[i, j] = b / (a + b)
    _correlate_reflect(tmp_o, lam, pad, sum_o)
    _correlate_reflect(tmp_b, lam, pad, sum_b)
    for i in range(p_o.shape[0]):
        for j in range(p_o.shape[1]):
            sum_o[i, j] += tmp_o[i, j]
            sum_b[i, j] += tmp_b[i, j]


@kernel
def _mrf_kernel(post, prior, lam, max_iter, tol, out):
    """The iteration of :func:`mrf_smooth`; writes the smoothed foreground map into ``out`` and
    returns the number of iterations."""
    rows, cols = post.shape
    eps = 2.220446049250313e-16
    prior_o = prior.copy()
    prior_b = 1.0 - prior
    like_o = np.empty_like(post)
    like_b = np.empty_like(post)
    tmp_o = np.empty_like(post)
    tmp_b = np.empty_like(post)
    s_o = np.empty_like(post)
    s_b = np.empty_like(post)
    q_b = np.empty_like(post)
    r = lam.shape[0] // 2
    pad = np.empty((rows + 2 * r, cols + 2 * r))
    log_like = np.inf
    it = 0
    while it < max_iter:
        it += 1
        for i in range(rows):
            for j in range(cols):
                like_o[i, j] = prior_o[i, j] * post[i, j] + eps
                like_b[i, j] = prior_b[i, j] * (1.0 - post[i, j]) + eps
        _smoothed_pair(prior_o, prior_b, lam, pad, tmp_o, tmp_b, s_o, s_b)
        _smoothed_pair(like_o, like_b, lam, pad, tmp_o, tmp_b, out, q_b)
        total = 0.0
        for i in range(rows):
            for j in range(cols):
                a = (out[i, j] + s_o[i, j]) * 0.25
                b = (q_b[i, j] + s_b[i, j]) * 0.25
                prior_o[i, j] = a / (a + b)
                prior_b[i, j] = b / (a + b)
                total += np.log(out[i, j]) + np.log(q_b[i, j])
        new = -total / (2.0 * rows * cols)
        if abs(log_like - new) < tol:
            break
        log_like = new
    return it


@warmup_hook
def _warmup():
    mrf_smooth(np.full((6, 6), 0.5), np.full((6, 6), 0.7))
