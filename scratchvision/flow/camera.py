"""Camera motion between two frames: robust fits of point matches, and the sparse pipeline that
feeds them.

**The fits** (drop-ins for OpenCV's): a motion model maps a point ``p`` of the first frame to
``q`` in the second. RANSAC (Fischler & Bolles 1981) draws minimal samples (1 match for a
translation, 2 for a similarity, 3 for an affine map, 4 for a homography) from a seeded
generator, keeps the model with the most matches within ``ransac_reproj_threshold`` pixels, and
stops early once ``confidence`` says no better model is likely: after a model with inlier
fraction ``w``, ``log(1 - confidence) / log(1 - w^m)`` draws suffice. The answer is then refined
on the best model's inliers as OpenCV does: by least squares, which for the linear models is the
exact minimum of the squared reprojection error, and for a homography a direct linear transform
followed by Levenberg-Marquardt on the reprojection error, repeated on the refined homography's
inliers until they settle (at most 5 refits; OpenCV 5's mask holds the final homography's inliers, not the best
sample's). OpenCV's RANSAC draws with its own
generator, so the two can keep different inliers; given the same inliers they agree.

**The pipeline** (:func:`estimate_camera_motion`, BoT-SORT's sparse camera-motion compensation):
both frames to gray and shrunk by ``downscale``; Shi-Tomasi corners of the first; pyramidal
Lucas-Kanade to the second, with a forward-backward check; the robust fit; the matrix expressed
in full-resolution pixels. ``method="ecc"`` aligns the whole shrunk frames instead
(:func:`~scratchvision.flow.find_transform_ecc`, BoT-SORT's ECC option).

References
----------
M. A. Fischler, R. C. Bolles. "Random sample consensus." Comm. ACM 24(6), 1981.
doi:10.1145/358669.358692
N. Aharon, R. Orfaig, B.-Z. Bobrovsky. "BoT-SORT: Robust associations multi-pedestrian tracking."
2022. doi:10.48550/arXiv.2206.14651
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_choice, check_float, check_image, check_int

__all__ = ["estimate_affine_partial_2d", "estimate_affine_2d", "find_homography", "fit_motion",
           "estimate_camera_motion", "CameraMotionTrace", "MOTION_MODELS"]

#: model name -> points in a minimal sample
MOTION_MODELS = {"translation": 1, "similarity": 2, "affine": 3, "homography": 4}
_MODEL_CODE = {name: i for i, name in enumerate(MOTION_MODELS)}


@kernel
def _minimal_model(p, q, idx, code, out):
    """The model (3x3, last row 0 0 1 but for a homography) through the matches ``idx``; False
    for a degenerate sample (coincident or collinear points)."""
    out[:] = 0.0
    out[2, 2] = 1.0
    if code == 0:  # translation
        out[0, 0] = out[1, 1] = 1.0
        out[0, 2] = q[idx[0], 0] - p[idx[0], 0]
        out[1, 2] = q[idx[0], 1] - p[idx[0], 1]
        return True
    if code == 1:  # similarity: a + ib = (q1 - q0) / (p1 - p0) as complex numbers
        dpx, dpy = p[idx[1], 0] - p[idx[0], 0], p[idx[1], 1] - p[idx[0], 1]
        dqx, dqy = q[idx[1], 0] - q[idx[0], 0], q[idx[1], 1] - q[idx[0], 1]
        n = dpx * dpx + dpy * dpy
        if n < 1e-12:
            return False
        a, b = (dqx * dpx + dqy * dpy) / n, (dqy * dpx - dqx * dpy) / n
        out[0, 0], out[0, 1], out[1, 0], out[1, 1] = a, -b, b, a
        out[0, 2] = q[idx[0], 0] - (a * p[idx[0], 0] - b * p[idx[0], 1])
        out[1, 2] = q[idx[0], 1] - (b * p[idx[0], 0] + a * p[idx[0], 1])
        return True
    if code == 2:  # affine: two 3x3 systems with the same matrix
        m = np.empty((3, 3))
        for r in range(3):
            m[r, 0], m[r, 1], m[r, 2] = p[idx[r], 0], p[idx[r], 1], 1.0
        det = (m[0, 0] * (m[1, 1] * m[2, 2] - m[1, 2] * m[2, 1]) - m[0, 1] * (m[1, 0] * m[2, 2] - m[1, 2] * m[2, 0])
               + m[0, 2] * (m[1, 0] * m[2, 1] - m[1, 1] * m[2, 0]))
        if abs(det) < 1e-9:
            return False
        inv = np.linalg.inv(m)
        for row in range(2):
            for c in range(3):
                s = 0.0
                for r in range(3):
                    s += inv[c, r] * q[idx[r], row]
                out[row, c] = s
        return True
    # homography: the 8x8 system of the direct linear transform with h33 = 1
    a = np.zeros((8, 8))
    rhs = np.zeros(8)
    for r in range(4):
        x, y, u, v = p[idx[r], 0], p[idx[r], 1], q[idx[r], 0], q[idx[r], 1]
        a[2 * r, 0], a[2 * r, 1], a[2 * r, 2], a[2 * r, 6], a[2 * r, 7] = x, y, 1.0, -u * x, -u * y
        a[2 * r + 1, 3], a[2 * r + 1, 4], a[2 * r + 1, 5], a[2 * r + 1, 6], a[2 * r + 1, 7] = x, y, 1.0, -v * x, -v * y
        rhs[2 * r], rhs[2 * r + 1] = u, v
    if abs(np.linalg.det(a)) < 1e-12:
        return False
    h = np.linalg.solve(a, rhs)
    for k in range(8):
        out[k // 3, k % 3] = h[k]
    return True


@kernel
def _squared_errors(p, q, m, out):
    """Squared reprojection error of every match under ``m`` (3x3)."""
    for i in range(p.shape[0]):
        x, y = p[i, 0], p[i, 1]
        w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
        w = 1.0 / w if w != 0.0 else 0.0
        dx = (m[0, 0] * x + m[0, 1] * y + m[0, 2]) * w - q[i, 0]
        dy = (m[1, 0] * x + m[1, 1] * y + m[1, 2]) * w - q[i, 1]
        out[i] = dx * dx + dy * dy


@kernel
def _ransac(p, q, code, samples, threshold_sq, confidence, best, mask):
    """RANSAC over the pre-drawn ``samples`` (iterations x m indices): the best model into
    ``best``, its inliers into ``mask``; returns the inlier count."""
    n, m = p.shape[0], samples.shape[1]
    model = np.empty((3, 3))
    errors = np.empty(n)
    best_count, niters, it = 0, samples.shape[0], 0
    while it < niters:
        if _minimal_model(p, q, samples[it], code, model):
            _squared_errors(p, q, model, errors)
            count = 0
            for i in range(n):
                if errors[i] <= threshold_sq:
                    count += 1
            if count > best_count:
                best_count = count
                best[:, :] = model
                for i in range(n):
                    mask[i] = errors[i] <= threshold_sq
                # OpenCV's RANSACUpdateNumIters
                ep = (n - count) / n
                num = np.log(max(1.0 - confidence, 2.2250738585072014e-308))
                denom = 1.0 - (1.0 - ep) ** m
                if denom < 2.2250738585072014e-308:
                    niters = 0
                else:
                    denom = np.log(denom)
                    if not (denom >= 0 or -num >= samples.shape[0] * (-denom)):
                        niters = min(niters, int(np.round(num / denom)))
        it += 1
    return best_count


def _least_squares(p, q, model: str) -> np.ndarray:
    """The model minimising the squared reprojection error of all the matches (for a
    homography: the normalised direct linear transform, refined by :func:`_refine_homography`)."""
    out = np.eye(3)
    if model == "translation":
        out[:2, 2] = (q - p).mean(axis=0)
    elif model == "similarity":  # unknowns a, b, tx, ty
        a = np.zeros((2 * len(p), 4))
        a[0::2] = np.column_stack([p[:, 0], -p[:, 1], np.ones(len(p)), np.zeros(len(p))])
        a[1::2] = np.column_stack([p[:, 1], p[:, 0], np.zeros(len(p)), np.ones(len(p))])
        x = np.linalg.lstsq(a, q.reshape(-1), rcond=None)[0]
        out[:2] = [[x[0], -x[1], x[2]], [x[1], x[0], x[3]]]
    elif model == "affine":
        design = np.column_stack([p, np.ones(len(p))])
        out[:2] = np.linalg.lstsq(design, q, rcond=None)[0].T
    else:
        out = _dlt(p, q)
    return out


def _normalising(points):
    """Hartley's normalisation: centroid to the origin, mean distance sqrt(2)."""
    c = points.mean(axis=0)
    d = np.sqrt(((points - c) ** 2).sum(axis=1)).mean()
    s = np.sqrt(2.0) / d if d > 0 else 1.0
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1.0]])


def _dlt(p, q) -> np.ndarray:
    """The homography of all matches by the normalised direct linear transform (least squares
    of the algebraic error, the smallest right singular vector)."""
    tp, tq = _normalising(p), _normalising(q)
    pn = p @ tp[:2, :2].T + tp[:2, 2]
    qn = q @ tq[:2, :2].T + tq[:2, 2]
    n = len(p)
    a = np.zeros((2 * n, 9))
    a[0::2, 0:2], a[0::2, 2] = pn, 1.0
    a[0::2, 6:8], a[0::2, 8] = -qn[:, :1] * pn, -qn[:, 0]
    a[1::2, 3:5], a[1::2, 5] = pn, 1.0
    a[1::2, 6:8], a[1::2, 8] = -qn[:, 1:] * pn, -qn[:, 1]
    h = np.linalg.svd(a)[2][-1].reshape(3, 3)
    h = np.linalg.inv(tq) @ h @ tp
    return h / h[2, 2]


def _refine_homography(h, p, q, iterations: int) -> np.ndarray:
    """Levenberg-Marquardt on the reprojection error over the 8 entries of ``h`` (h33 = 1)."""
    x = (h / h[2, 2]).reshape(-1)[:8].copy()

    def residuals(x):
        m = np.append(x, 1.0).reshape(3, 3)
        w = p @ m[2, :2] + m[2, 2]
        proj = (p @ m[:2, :2].T + m[:2, 2]) / w[:, None]
        return (proj - q).reshape(-1), w, proj

    r, w, proj = residuals(x)
    lam = 1e-3
    for _ in range(iterations):
        j = np.zeros((2 * len(p), 8))
        j[0::2, 0:2], j[0::2, 2] = p / w[:, None], 1.0 / w
        j[1::2, 3:5], j[1::2, 5] = p / w[:, None], 1.0 / w
        j[0::2, 6:8] = -proj[:, :1] * p / w[:, None]
        j[1::2, 6:8] = -proj[:, 1:] * p / w[:, None]
        jtj, jtr = j.T @ j, j.T @ r
        while True:
            step = np.linalg.solve(jtj + lam * np.diag(np.diag(jtj)), -jtr)
            trial, tw, tproj = residuals(x + step)
            if trial @ trial < r @ r:
                x, r, w, proj, lam = x + step, trial, tw, tproj, lam / 10
                break
            lam *= 10
            if lam > 1e10:
                return np.append(x, 1.0).reshape(3, 3)
        if np.abs(step).max() < 1e-12:
            break
    return np.append(x, 1.0).reshape(3, 3)


def _matches(from_pts, to_pts, names=("from_pts", "to_pts")):
    """Two (N, 2) float64 point arrays of one length (OpenCV's (N, 1, 2) accepted)."""
    out = []
    for pts, name in zip((from_pts, to_pts), names):
        a = as_array(pts, name)
        if a.dtype.kind not in "iuf" or a.ndim not in (2, 3) or a.shape[-1] != 2 or (a.ndim == 3 and a.shape[1] != 1):
            raise ValueError(f"{name} must be real (N, 2) (or OpenCV's (N, 1, 2)) points, got {a.dtype} {a.shape}")
        a = a.reshape(-1, 2).astype(np.float64)
        if not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite")
        out.append(a)
    if len(out[0]) != len(out[1]):
        raise ValueError(f"{names[0]} and {names[1]} must hold as many points, got {len(out[0])} and {len(out[1])}")
    return out


def fit_motion(from_pts, to_pts, model: str = "similarity", *, ransac_reproj_threshold: float = 3.0,
               max_iters: int = 2000, confidence: float = 0.99, refine_iters: int = 10, rng=0):
    """A motion model between matched points, robustly: RANSAC, then OpenCV's refinement on the
    inliers (see the module notes); what :func:`estimate_affine_partial_2d`,
    :func:`estimate_affine_2d` and :func:`find_homography` return in OpenCV's form.

    Parameters
    ----------
    from_pts, to_pts : array-like (N, 2) or (N, 1, 2)
        Matched points of the first and the second frame.
    model : {"translation", "similarity", "affine", "homography"}
    ransac_reproj_threshold : float
        Pixels within which a match is an inlier.
    max_iters : int
        Most RANSAC draws (fewer once ``confidence`` is reached).
    confidence : float in [0, 1]
    refine_iters : int
        Levenberg-Marquardt iterations of the homography's refinement (0: the direct linear
        transform on the inliers only).
    rng : None, int or numpy.random.Generator
        Seeds the draws.

    Returns
    -------
    matrix : ndarray (3, 3) float64, or None
        None with fewer matches than the model's minimal sample, or no valid sample.
    inliers : ndarray (N,) bool

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.flow import fit_motion
    >>> p = np.random.default_rng(0).uniform(0, 100, (20, 2))
    >>> m, inliers = fit_motion(p, p + [3.0, -2.0], "translation")
    >>> m[:2, 2].round(6).tolist(), int(inliers.sum())
    ([3.0, -2.0], 20)
    """
    return _fit(from_pts, to_pts, model, ransac_reproj_threshold, max_iters, confidence, refine_iters, rng,
                ("from_pts", "to_pts"))


def _fit(from_pts, to_pts, model, ransac_reproj_threshold, max_iters, confidence, refine_iters, rng, names):
    """:func:`fit_motion`, its point arrays named ``names`` in errors."""
    model = check_choice(model, "model", tuple(MOTION_MODELS))
    p, q = _matches(from_pts, to_pts, names)
    threshold, max_iters, confidence, refine_iters = _fit_options(ransac_reproj_threshold, max_iters, confidence,
                                                                  refine_iters)
    m, n = MOTION_MODELS[model], len(p)
    mask = np.zeros(n, np.bool_)
    if n < m:
        return None, mask
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    samples = _samples(generator, n, m, max_iters) if n > m else np.arange(m)[None]
    best = np.eye(3)
    count = _ransac(p, q, _MODEL_CODE[model], np.ascontiguousarray(samples), threshold * threshold, confidence,
                    best, mask)
    if count < m:
        return None, mask
    if count > m or model == "homography":
        best = _refit(p, q, mask, model, refine_iters)
    if model == "homography":  # OpenCV 5 reports the inliers of the refined homography: refit until they settle
        errors = np.empty(n)
        for _ in range(_SETTLE_ROUNDS):
            _squared_errors(p, q, best, errors)
            settled = errors <= threshold * threshold
            if (settled == mask).all() or settled.sum() < m:
                break
            mask = settled
            best = _refit(p, q, mask, model, refine_iters)
    return best, mask


#: most refits of a homography on the inliers of the last one
_SETTLE_ROUNDS = 5


def _refit(p, q, mask, model, refine_iters):
    """The model fitted to the matches in ``mask``: least squares, and Levenberg-Marquardt for a
    homography."""
    best = _least_squares(p[mask], q[mask], model)
    if model == "homography" and refine_iters:
        best = _refine_homography(best, p[mask], q[mask], refine_iters)
    return best


def _fit_options(ransac_reproj_threshold, max_iters, confidence, refine_iters):
    """The robust fit's options, checked."""
    return (check_float(ransac_reproj_threshold, "ransac_reproj_threshold", low=0.0),
            check_int(max_iters, "max_iters", low=1), check_float(confidence, "confidence", low=0.0, high=1.0),
            check_int(refine_iters, "refine_iters", low=0))


def _samples(generator, n: int, m: int, count: int) -> np.ndarray:
    """``count`` draws of ``m`` distinct indices below ``n`` (rows with a repeat drawn again)."""
    samples = generator.integers(0, n, (count, m))
    while True:
        ordered = np.sort(samples, axis=1)
        repeated = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not repeated.any():
            return samples
        samples[repeated] = generator.integers(0, n, (int(repeated.sum()), m))


def _opencv_answer(matrix, mask, rows: int):
    if matrix is None:
        return None, mask.astype(np.uint8).reshape(-1, 1)
    return matrix[:rows].copy(), mask.astype(np.uint8).reshape(-1, 1)


def estimate_affine_partial_2d(from_pts, to_pts, *, ransac_reproj_threshold: float = 3.0, max_iters: int = 2000,
                               confidence: float = 0.99, refine_iters: int = 10, rng=0):
    """A similarity (rotation, uniform scale, translation) between point sets, robustly: OpenCV's
    ``cv2.estimateAffinePartial2D(from, to, method=cv2.RANSAC, ...)`` (its parameter names in
    snake case; ``rng`` seeds the sampling).

    Parameters
    ----------
    from_pts, to_pts : array-like (N, 2) or (N, 1, 2)
    ransac_reproj_threshold : float
        Pixels within which a match is an inlier.
    max_iters : int
    confidence : float in [0, 1]
    refine_iters : int
        0 skips the refinement on the inliers.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    matrix : ndarray (2, 3) float64, or None when there are fewer than 2 matches
    inliers : ndarray (N, 1) uint8

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.flow import estimate_affine_partial_2d
    >>> p = np.random.default_rng(0).uniform(0, 100, (50, 2))
    >>> q = p @ np.array([[0.0, -1.0], [1.0, 0.0]]).T + [5.0, 7.0]  # rotated 90 degrees, moved
    >>> q[:5] += 40  # five outliers
    >>> m, inliers = estimate_affine_partial_2d(p, q)
    >>> np.round(m, 6).tolist(), int(inliers.sum())
    ([[0.0, -1.0, 5.0], [1.0, 0.0, 7.0]], 45)
    """
    return _opencv_answer(*_fit(from_pts, to_pts, "similarity", ransac_reproj_threshold, max_iters, confidence,
                                refine_iters, rng, ("from_pts", "to_pts")), 2)


def estimate_affine_2d(from_pts, to_pts, *, ransac_reproj_threshold: float = 3.0, max_iters: int = 2000,
                       confidence: float = 0.99, refine_iters: int = 10, rng=0):
    """An affine map between point sets, robustly: OpenCV's ``cv2.estimateAffine2D(from, to,
    method=cv2.RANSAC, ...)``; parameters and returns as :func:`estimate_affine_partial_2d`
    (None with fewer than 3 matches).

    Parameters
    ----------
    from_pts, to_pts : array-like (N, 2)
        Matched points.
    ransac_reproj_threshold : float
        Largest reprojection error (px) of an inlier.
    max_iters : int
        RANSAC iterations at most.
    confidence : float in (0, 1)
        Stop when a sample without outliers has been drawn with this probability.
    refine_iters : int
        Levenberg-Marquardt iterations of the refinement.
    rng : int or numpy.random.Generator
        Seeds the RANSAC sampling.

    Returns
    -------
    matrix : ndarray (2, 3) float64, or None with fewer than 3 matches
    mask : ndarray (N, 1) uint8
        1 for the inliers.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.flow import estimate_affine_2d
    >>> p = np.random.default_rng(1).uniform(0, 100, (30, 2))
    >>> m, _ = estimate_affine_2d(p, p @ np.array([[1.1, 0.2], [0.0, 0.9]]).T + [1.0, 2.0])
    >>> np.round(m, 6).tolist()
    [[1.1, 0.2, 1.0], [0.0, 0.9, 2.0]]
    """
    return _opencv_answer(*_fit(from_pts, to_pts, "affine", ransac_reproj_threshold, max_iters, confidence,
                                refine_iters, rng, ("from_pts", "to_pts")), 2)


def find_homography(src_points, dst_points, *, ransac_reproj_threshold: float = 3.0, max_iters: int = 2000,
                    confidence: float = 0.995, refine_iters: int = 10, rng=0):
    """A homography between point sets, robustly: OpenCV's ``cv2.findHomography(src, dst,
    cv2.RANSAC, ransacReprojThreshold, maxIters=..., confidence=...)`` (RANSAC, then the direct
    linear transform on the inliers refined by Levenberg-Marquardt); ``rng`` seeds the sampling.

    Parameters
    ----------
    src_points, dst_points : array-like (N, 2)
        Matched points.
    ransac_reproj_threshold : float
        Largest reprojection error (px) of an inlier.
    max_iters : int
        RANSAC iterations at most.
    confidence : float in (0, 1)
        Stop when a sample without outliers has been drawn with this probability.
    refine_iters : int
        Levenberg-Marquardt iterations of the refinement.
    rng : int or numpy.random.Generator
        Seeds the RANSAC sampling.

    Returns
    -------
    matrix : ndarray (3, 3) float64 with ``[2, 2] = 1``, or None with fewer than 4 matches
    mask : ndarray (N, 1) uint8

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.flow import find_homography
    >>> h = np.array([[1.0, 0.1, 3.0], [0.05, 0.95, -2.0], [1e-4, 2e-4, 1.0]])
    >>> p = np.random.default_rng(2).uniform(0, 200, (40, 2))
    >>> q = (p @ h[:2, :2].T + h[:2, 2]) / (p @ h[2, :2] + 1.0)[:, None]
    >>> m, mask = find_homography(p, q)
    >>> bool(np.allclose(m, h, atol=1e-9)), int(mask.sum())
    (True, 40)
    """
    return _opencv_answer(*_fit(src_points, dst_points, "homography", ransac_reproj_threshold, max_iters, confidence,
                                refine_iters, rng, ("src_points", "dst_points")), 3)


@dataclass
class CameraMotionTrace:
    """What :func:`estimate_camera_motion` did: the corners found in the first frame (in
    full-resolution pixels), where they were tracked to, which matches the fit kept, and
    ``ok`` (False when too few matches were left; the matrix is then the identity, and
    ``reason`` says why).

    Attributes
    ----------
    corners : ndarray (N, 2)
    tracked : ndarray (N, 2)
    inliers : ndarray (N,) of bool
    ok : bool
    reason : str
    """

    corners: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    tracked: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    inliers: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    ok: bool = True
    reason: str = ""


def _prepare(frame, name, downscale):
    """Gray uint8, shrunk by ``downscale`` (``cv2.resize(gray, (w // d, h // d))``, with its bits
    for ``downscale=2`` on even sizes: :func:`~scratchvision.imgproc.resize_uint8`)."""
    from ..imgproc import resize_uint8, rgb_to_gray

    image = check_image(frame, name, dtypes=(np.uint8,))
    gray = rgb_to_gray(image) if image.ndim == 3 else image
    if downscale > 1:
        h, w = gray.shape
        if min(h, w) < downscale:
            raise ValueError(f"{name} ({h}x{w} pixels) is smaller than downscale={downscale}")
        gray = resize_uint8(gray, (w // downscale, h // downscale))
    return gray


def _prepare_pair(prev, next, mask, downscale):  # noqa: A002
    """Both frames gray and shrunk (:func:`_prepare`), and the mask sampled at the shrunk pixels
    (boolean, or None)."""
    a, b = _prepare(prev, "prev", downscale), _prepare(next, "next", downscale)
    if a.shape != b.shape:
        raise ValueError(f"prev and next must have one size, got {np.shape(prev)} and {np.shape(next)}")
    if mask is None:
        return a, b, None
    m = as_array(mask, "mask")
    if m.shape != np.shape(prev)[:2]:
        raise ValueError(f"mask must have the frames' shape {np.shape(prev)[:2]}, got {m.shape}")
    return a, b, m[downscale // 2::downscale, downscale // 2::downscale][:a.shape[0], :a.shape[1]] != 0


def estimate_camera_motion(prev, next, method: str = "sparse", model: str = "similarity", *,  # noqa: A002
                           downscale: int = 2, mask=None, max_corners: int = 1000, quality_level: float = 0.01,
                           min_distance: float = 1.0, block_size: int = 3, fb_threshold=1.0,
                           ransac_reproj_threshold: float = 1.0, max_iters: int = 2000, confidence: float = 0.99,
                           rng=0, criteria=(3, 100, 1e-5), gauss_filt_size: int = 1, trace: bool = False):
    """The camera's motion from ``prev`` to ``next`` as a matrix mapping a pixel of ``prev`` to
    where that part of the scene is in ``next`` (see the module notes).

    Parameters
    ----------
    prev, next : ndarray (H, W) or (H, W, 3) uint8
        Consecutive frames of one size.
    method : {"sparse", "ecc"}
        Corners, Lucas-Kanade and a robust fit; or ECC alignment of the whole frames
        (:func:`~scratchvision.flow.find_transform_ecc`).
    model : {"translation", "similarity", "affine", "homography"}, or "euclidean" with ECC
        BoT-SORT uses ``"similarity"`` (OpenCV's estimateAffinePartial2D) with sparse flow and
        ``"euclidean"`` (rotation and translation) with ECC, which has no similarity model.
    downscale : int
        Work on frames shrunk by this factor (BoT-SORT: 2); the matrix is in full-resolution
        pixels (pixel centres mapped exactly: ``x_small = (x + 0.5) / d - 0.5``; BoT-SORT only
        multiplies the translation by ``d``, which differs by ``(I - A)(d - 1) / 2``, a fraction
        of a pixel).
    mask : ndarray (H, W), optional
        Corners (ECC: pixels of ``next``) only where ``mask != 0`` (e.g. zero inside the
        detections, so that moving objects do not vote).
    max_corners, quality_level, min_distance, block_size
        Of :func:`~scratchvision.good_features_to_track` (BoT-SORT's 1000, 0.01, 1, 3).
    fb_threshold : float or None
        Keep matches whose forward-backward round trip ends within this many (downscaled) pixels;
        None keeps every match Lucas-Kanade tracked (BoT-SORT's choice).
    ransac_reproj_threshold : float
        Matches within this many (downscaled) pixels of the model are inliers. BoT-SORT keeps
        OpenCV's 3; at 3, points on objects moving slower than 3 px a frame relative to the
        background vote too, and biased the synthetic video's camera motion by 0.1-0.6 px,
        against 0.01-0.07 px at 1 (benchmarks/RESULTS.md).
    max_iters, confidence, rng
        Of the robust fit (:func:`fit_motion`).
    criteria, gauss_filt_size
        Of ECC (:func:`~scratchvision.flow.find_transform_ecc`; BoT-SORT's ECC: 5000
        iterations, epsilon 1e-6, no pre-filter).
    trace : bool
        Also return a :class:`CameraMotionTrace`.

    Returns
    -------
    matrix : ndarray (2, 3) float64, or (3, 3) for a homography
        The identity when fewer matches than the model needs are found (a textureless or
        uniform frame): never an exception mid-video; the trace says so.
    trace : CameraMotionTrace, only with ``trace=True`` (ECC: no corners; ``ok`` False and the
        identity when ECC could not converge)

    Examples
    --------
    >>> import numpy as np
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(2, (120, 160), n_objects=0, background_speed=2.0, seed=3)
    >>> m = sv.flow.estimate_camera_motion(seq.frames[0], seq.frames[1], model="translation")
    >>> bool(np.allclose(m[:, 2], seq.flow[0, 60, 80], atol=0.1))  # the background's exact motion
    True
    """
    from ..features import good_features_to_track
    from .lucas_kanade import calc_optical_flow_pyr_lk, forward_backward_error

    method = check_choice(method, "method", ("sparse", "ecc"))
    if method == "ecc":
        return _ecc_motion(prev, next, model, downscale, mask, criteria, gauss_filt_size, trace)
    model = check_choice(model, "model", tuple(MOTION_MODELS))
    downscale = check_int(downscale, "downscale", low=1)
    if fb_threshold is not None:
        fb_threshold = check_float(fb_threshold, "fb_threshold", low=0.0)
    _fit_options(ransac_reproj_threshold, max_iters, confidence, 0)  # checked on every frame, textured or not
    a, b, small_mask = _prepare_pair(prev, next, mask, downscale)
    rows = 3 if model == "homography" else 2
    info = CameraMotionTrace()
    identity = np.eye(3)[:rows].copy()
    corners = good_features_to_track(a, max_corners, quality_level, min_distance, mask=small_mask,
                                     block_size=block_size) if min(a.shape) >= 3 else np.zeros((0, 2), np.float32)
    matrix, matches = None, 0
    if len(corners) >= MOTION_MODELS[model]:
        if fb_threshold is None:
            tracked, status, _ = calc_optical_flow_pyr_lk(a, b, corners)
            keep = status == 1
        else:
            tracked, status, fb = forward_backward_error(a, b, corners)
            keep = (status == 1) & (fb < fb_threshold)
        p, q = corners[keep].astype(np.float64), tracked[keep].astype(np.float64)
        matrix, inliers = fit_motion(p, q, model, ransac_reproj_threshold=ransac_reproj_threshold,
                                     max_iters=max_iters, confidence=confidence, rng=rng)
        scale = lambda pts: (pts + 0.5) * downscale - 0.5  # noqa: E731 - small-frame pixel -> full frame
        info, matches = CameraMotionTrace(scale(p), scale(q), inliers), len(p)
    if matrix is None:
        info.ok = False
        info.reason = (f"{len(corners)} corners, {matches} tracked matches; the {model} model needs "
                       f"{MOTION_MODELS[model]} consistent ones: identity returned")
        return (identity, info) if trace else identity
    full = _full_resolution(matrix, downscale)[:rows].copy()
    return (full, info) if trace else full


def _full_resolution(matrix, downscale):
    """A 3x3 (or 2x3) motion between frames shrunk by ``downscale``, in full-resolution pixels:
    ``x_small = S x_full``, ``S = [[1/d, 0, (1/d - 1)/2], [0, 1/d, (1/d - 1)/2], [0, 0, 1]]``."""
    m = np.eye(3)
    m[:len(matrix)] = matrix
    c = 0.5 / downscale - 0.5
    s = np.array([[1 / downscale, 0, c], [0, 1 / downscale, c], [0, 0, 1]])
    s_inv = np.array([[downscale, 0, -downscale * c], [0, downscale, -downscale * c], [0, 0, 1]])
    full = s_inv @ m @ s
    return full / full[2, 2]


def _ecc_motion(prev, next, model, downscale, mask, criteria, gauss_filt_size, trace):  # noqa: A002
    """:func:`estimate_camera_motion` with ``method="ecc"``."""
    from .ecc import MOTION_TYPES, ECCError, find_transform_ecc

    model = check_choice(model, "model", tuple(MOTION_TYPES))
    downscale = check_int(downscale, "downscale", low=1)
    a, b, small_mask = _prepare_pair(prev, next, mask, downscale)
    rows = 3 if model == "homography" else 2
    info = CameraMotionTrace()
    try:
        _, matrix = find_transform_ecc(a, b, None, model, criteria, small_mask, gauss_filt_size)
        full = _full_resolution(matrix.astype(np.float64), downscale)[:rows].copy()
    except ECCError as exc:
        info.ok, info.reason = False, f"ECC did not converge ({exc}): identity returned"
        full = np.eye(3)[:rows].copy()
    return (full, info) if trace else full


@warmup_hook
def _warmup():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 50, (12, 2))
    for model in MOTION_MODELS:
        fit_motion(p, p + 1.0, model, max_iters=5)
