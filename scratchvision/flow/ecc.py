"""Image alignment by enhanced correlation coefficient maximisation (ECC; Evangelidis & Psarakis
2008): the warp that makes one image look most like another, as OpenCV's findTransformECC finds it.

The criterion is the correlation coefficient of the template ``T`` and the input image ``I``
warped back onto the template's pixels, ``rho(p) = <T - mean T, I(W(x; p)) - mean> / norms``,
which ignores brightness and contrast changes. Each iteration linearises the warped image around
the current parameters ``p`` (its gradient times the warp's Jacobian: one image per parameter,
2 for a translation, 3 for a rigid motion, 6 for an affine map, 8 for a homography), and takes
the step that maximises the linearised coefficient in closed form:

1. warp the (Gaussian-smoothed) image, its two gradients and a validity mask back onto the
   template's grid (bilinear; nearest for the mask);
2. make the template and warped image zero-mean over the valid pixels;
3. the Hessian ``G = J^T J`` of the Jacobian images ``J``, the projections ``J^T i`` and
   ``J^T t`` of the warped image and template;
4. ``lambda`` rescales the template to the image's contrast; the step is
   ``dp = G^-1 J^T (lambda t - i)``;

until ``|rho - last rho| < epsilon`` or ``max_count`` iterations. Everything is float32 as in
OpenCV, the sums over pixels accumulate in float64, and the warp samples as OpenCV 5's
warpAffine / warpPerspective do (source positions in float64, bilinear weights in float32), so the
matrices agree with cv2's to float32 rounding.

References
----------
G. D. Evangelidis, E. Z. Psarakis. "Parametric Image Alignment Using Enhanced Correlation
Coefficient Maximization." IEEE TPAMI 30(10), 2008. doi:10.1109/TPAMI.2008.113
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_choice, check_float, check_image, check_int

__all__ = ["find_transform_ecc", "ECCTrace", "ECCError", "MOTION_TYPES"]

#: motion model -> OpenCV's MOTION_* value (findTransformECC's motionType)
MOTION_TYPES = {"translation": 0, "euclidean": 1, "affine": 2, "homography": 3}
_PARAMETERS = (2, 3, 6, 8)
#: OpenCV's TermCriteria type flags
COUNT, EPS = 1, 2


class ECCError(ValueError):
    """ECC stopped: the correlation would decrease (images uncorrelated or not overlapping), or
    it became NaN. OpenCV raises cv2.error here."""


@dataclass
class ECCTrace:
    """The iterations of :func:`find_transform_ecc`: ``rho`` after each and the warp before it."""

    rho: list
    warps: list


@kernel
def _warp(image, m, homography, nearest, out):
    """``out[y, x] = image(W(x, y))`` with ``W`` the 3x3 ``m`` (dst -> src, OpenCV's
    WARP_INVERSE_MAP), zero outside ``image``: bilinear (the source position in float64, the
    weights in float32, OpenCV 5's lerp order) or nearest (position rounded half to even)."""
    h, w = image.shape
    for y in range(out.shape[0]):
        for x in range(out.shape[1]):
            sx = m[0, 0] * x + m[0, 1] * y + m[0, 2]
            sy = m[1, 0] * x + m[1, 1] * y + m[1, 2]
            if homography:
                d = m[2, 0] * x + m[2, 1] * y + m[2, 2]
                sx, sy = sx / d, sy / d
            if nearest:
                ix, iy = np.rint(sx), np.rint(sy)
                inside = 0.0 <= ix < w and 0.0 <= iy < h
                out[y, x] = image[int(iy), int(ix)] if inside else 0
                continue
            fx, fy = np.floor(sx), np.floor(sy)
            if not (-1.0 <= fx < w and -1.0 <= fy < h):
                out[y, x] = 0.0
                continue
            ix, iy = int(fx), int(fy)
            a, b = np.float32(sx - fx), np.float32(sy - fy)
            p00 = np.float32(image[iy, ix]) if ix >= 0 and iy >= 0 else np.float32(0.0)
            p01 = np.float32(image[iy, ix + 1]) if ix + 1 < w and iy >= 0 else np.float32(0.0)
            p10 = np.float32(image[iy + 1, ix]) if ix >= 0 and iy + 1 < h else np.float32(0.0)
            p11 = np.float32(image[iy + 1, ix + 1]) if ix + 1 < w and iy + 1 < h else np.float32(0.0)
            top = p00 + a * (p01 - p00)
            bottom = p10 + a * (p11 - p10)
            out[y, x] = top + b * (bottom - top)


@kernel
def _hessian(blocks, out):
    """``out[a, b] = <blocks[a], blocks[b]>`` over all pixels: float32 terms summed in float64,
    stored as float32 (OpenCV's project_onto_jacobian)."""
    for a in range(blocks.shape[0]):
        for b in range(a, blocks.shape[0]):
            acc = 0.0
            for i in range(blocks.shape[1]):
                acc += np.float64(blocks[a, i]) * np.float64(blocks[b, i])
            out[a, b] = out[b, a] = np.float32(acc)


@kernel
def _project(blocks, vector):
    """``<blocks[a], vector>`` for each Jacobian image ``a``, as :func:`_hessian` sums."""
    out = np.empty(blocks.shape[0], np.float32)
    for a in range(blocks.shape[0]):
        acc = 0.0
        for i in range(blocks.shape[1]):
            acc += np.float64(blocks[a, i]) * np.float64(vector[i])
        out[a] = np.float32(acc)
    return out


def _jacobian(kind, gx, gy, grid_x, grid_y, m):
    """The Jacobian images (one per parameter, float32) of the warped image w.r.t. the warp's
    parameters, in OpenCV's parameter order."""
    if kind == 0:
        return [gx, gy]
    if kind == 1:  # rotation angle, tx, ty: d/dtheta of (c x - s y, s x + c y)
        c, s = m[0, 0], m[1, 0]
        hat_x = -(grid_x * s) - (grid_y * c)
        hat_y = (grid_x * c) - (grid_y * s)
        return [gx * hat_x + gy * hat_y, gx, gy]
    if kind == 2:
        return [gx * grid_x, gy * grid_x, gx * grid_y, gy * grid_y, gx, gy]
    den = grid_x * m[2, 0] + grid_y * m[2, 1] + np.float32(1.0)
    hat_x = (-(grid_x * m[0, 0]) - grid_y * m[0, 1] - m[0, 2]) / den
    hat_y = (-(grid_x * m[1, 0]) - grid_y * m[1, 1] - m[1, 2]) / den
    gxd, gyd = gx / den, gy / den
    both = hat_x * gxd + hat_y * gyd
    return [gxd * grid_x, gyd * grid_x, both * grid_x, gxd * grid_y, gyd * grid_y, both * grid_y, gxd, gyd]


def _update(kind, m, dp):
    """Add the step ``dp`` to the float32 warp ``m`` in OpenCV's parameter order."""
    if kind == 0:
        m[0, 2] += dp[0]
        m[1, 2] += dp[1]
    elif kind == 2:
        m[0, 0] += dp[0]
        m[1, 0] += dp[1]
        m[0, 1] += dp[2]
        m[1, 1] += dp[3]
        m[0, 2] += dp[4]
        m[1, 2] += dp[5]
    elif kind == 3:
        for (i, j), step in zip(((0, 0), (1, 0), (2, 0), (0, 1), (1, 1), (2, 1), (0, 2), (1, 2)), dp):
            m[i, j] += step
    else:
        theta = float(dp[0]) + np.arctan2(float(m[1, 0]), float(m[0, 0]))  # OpenCV 5's angle update
        m[0, 2] += dp[1]
        m[1, 2] += dp[2]
        m[0, 0] = m[1, 1] = np.float32(np.cos(theta))
        m[1, 0] = np.float32(np.sin(theta))
        m[0, 1] = -m[1, 0]


def _criteria(criteria):
    """``(type, max_count, epsilon)`` as cv2's TermCriteria -> (iterations, epsilon)."""
    try:
        kind, count, eps = criteria
    except (TypeError, ValueError):
        raise ValueError(f"criteria must be (type, max_count, epsilon) as cv2's TermCriteria, got {criteria!r}") \
            from None
    kind = check_int(kind, "criteria type", low=1, high=3)
    iterations = check_int(count, "criteria max_count", low=1) if kind & COUNT else 200
    epsilon = check_float(eps, "criteria epsilon") if kind & EPS else -1.0
    return iterations, epsilon


def _as_float_image(image, name):
    a = check_image(image, name, dtypes=(np.uint8, np.float32))
    if a.ndim != 2:
        raise ValueError(f"{name} must be a single-channel (H, W) image (convert colour frames to gray), "
                         f"got shape {a.shape}")
    return a.astype(np.float32)


def find_transform_ecc(template_image, input_image, warp_matrix=None, motion_type="affine",
                       criteria=(COUNT | EPS, 50, 0.001), input_mask=None, gauss_filt_size: int = 5, *,
                       trace: bool = False):
    """The warp that aligns ``input_image`` to ``template_image`` (cv2.findTransformECC).

    Parameters
    ----------
    template_image, input_image : ndarray (H, W) uint8 or float32
        Gray images of the same type (sizes may differ).
    warp_matrix : array-like (2, 3) or (3, 3), optional
        The starting warp (default: the identity), mapping template pixels to input pixels.
    motion_type : {"translation", "euclidean", "affine", "homography"} or int
        The model (or OpenCV's MOTION_TRANSLATION ... MOTION_HOMOGRAPHY value): 2, 3 (rotation
        and translation), 6 or 8 parameters.
    criteria : (type, max_count, epsilon)
        OpenCV's TermCriteria tuple: stop after ``max_count`` iterations (type & 1) or when the
        coefficient changes by less than ``epsilon`` (type & 2).
    input_mask : ndarray (H, W), optional
        Pixels of ``input_image`` to use (non-zero).
    gauss_filt_size : int
        Side of the Gaussian pre-filter (odd; 1 smooths nothing).
    trace : bool
        Also return an :class:`ECCTrace`.

    Returns
    -------
    rho : float
        The final correlation coefficient.
    warp_matrix : ndarray (2, 3) or (3, 3) float32
    trace : ECCTrace, only with ``trace=True``

    Raises
    ------
    ECCError (a ValueError)
        When the iteration cannot increase the coefficient (cv2 raises cv2.error).

    Examples
    --------
    >>> import numpy as np
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(2, (120, 160), n_objects=0, background_speed=2.0, seed=3)
    >>> rho, m = sv.flow.find_transform_ecc(seq.frames[0], seq.frames[1], motion_type="translation")
    >>> bool(np.allclose(m[:, 2], seq.flow[0, 60, 80], atol=0.05)), rho > 0.99
    (True, True)
    """
    from ..imgproc import gaussian_blur

    template = _as_float_image(template_image, "template_image")
    image = _as_float_image(input_image, "input_image")
    if np.asarray(template_image).dtype != np.asarray(input_image).dtype:
        raise ValueError("template_image and input_image must have the same dtype")
    if isinstance(motion_type, str):
        kind = MOTION_TYPES[check_choice(motion_type, "motion_type", tuple(MOTION_TYPES))]
    else:
        kind = check_int(motion_type, "motion_type", low=0, high=3)
    iterations, epsilon = _criteria(criteria)
    size = check_int(gauss_filt_size, "gauss_filt_size", low=1)
    if size % 2 == 0:
        raise ValueError(f"gauss_filt_size must be odd, got {size}")
    rows = 3 if kind == 3 else 2
    if warp_matrix is None:
        m = np.eye(3, dtype=np.float32)[:rows].copy()
    else:
        w = as_array(warp_matrix, "warp_matrix")
        if w.shape != (rows, 3) or not np.isfinite(w).all():
            raise ValueError(f"warp_matrix must be a finite ({rows}, 3) matrix for {motion_type!r}, got {w.shape}")
        m = w.astype(np.float32)
    valid = np.ones(image.shape, np.uint8)
    if input_mask is not None:
        mask = as_array(input_mask, "input_mask")
        if mask.shape != image.shape:
            raise ValueError(f"input_mask must have input_image's shape {image.shape}, got {mask.shape}")
        valid = (mask > 0).astype(np.uint8)

    def blur(a):
        return gaussian_blur(a, (size, size), 0.0) if size > 1 else a

    template, image = blur(template), blur(image)
    # the valid region shrunk where the blur reached outside it (OpenCV: blurred mask * 0.5 / 0.95, rounded)
    valid = np.rint(blur(valid.astype(np.float32)) * np.float32(0.5 / 0.95)).astype(np.uint8)
    valid_f = valid.astype(np.float32)
    padded = np.pad(image, 1, mode="reflect")  # OpenCV's default border (reflect 101)
    half = np.float32(0.5)
    gx = (padded[1:-1, 2:] * half - padded[1:-1, :-2] * half) * valid_f
    gy = (padded[2:, 1:-1] * half - padded[:-2, 1:-1] * half) * valid_f
    h, w = template.shape
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    warped, gxw, gyw = (np.empty((h, w), np.float32) for _ in range(3))
    mask_w = np.empty((h, w), np.uint8)
    rho, last_rho = -1.0, -epsilon
    history = ECCTrace([], [])
    k = _PARAMETERS[kind]
    hessian = np.empty((k, k), np.float32)
    for _ in range(iterations):
        if not abs(rho - last_rho) >= epsilon:
            break
        m64 = np.eye(3)
        m64[:rows] = m
        for src, dst in ((image, warped), (gx, gxw), (gy, gyw)):
            _warp(src, m64, kind == 3, False, dst)
        _warp(valid, m64, kind == 3, True, mask_w)
        inside = mask_w != 0
        count = int(inside.sum())
        if count == 0:
            raise ECCError("ECC: input_image does not overlap template_image under the warp")
        image_mean, image_std = _mean_std(warped, inside)
        template_mean, template_std = _mean_std(template, inside)
        image_zm = np.where(inside, warped - np.float32(image_mean), warped).astype(np.float32)
        template_zm = np.where(inside, template - np.float32(template_mean), np.float32(0.0)).astype(np.float32)
        template_norm = np.sqrt(count * template_std * template_std)
        image_norm = np.sqrt(count * image_std * image_std)
        blocks = np.stack(_jacobian(kind, gxw, gyw, grid_x, grid_y, m)).reshape(k, -1)
        _hessian(blocks, hessian)
        try:
            hessian_inv = np.linalg.inv(hessian).astype(np.float32)
        except np.linalg.LinAlgError:  # OpenCV's inv() gives zeros for a singular matrix
            hessian_inv = np.zeros_like(hessian)
        correlation = float(np.dot(template_zm.ravel().astype(np.float64), image_zm.ravel().astype(np.float64)))
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant image: 0 / 0, reported below
            last_rho, rho = rho, correlation / (image_norm * template_norm)
        history.rho.append(rho)
        history.warps.append(m.copy())
        if np.isnan(rho):
            raise ECCError("ECC: the correlation is NaN (template_image or input_image constant over their "
                           "overlap)")
        image_projection, template_projection = _project(blocks, image_zm.ravel()), _project(blocks, template_zm.ravel())
        projected = (hessian_inv @ image_projection).astype(np.float32)
        lambda_n = image_norm * image_norm - float(np.dot(image_projection.astype(np.float64), projected))
        lambda_d = correlation - float(np.dot(template_projection.astype(np.float64), projected))
        if lambda_d <= 0.0:
            raise ECCError("ECC stopped before converging: the correlation would decrease (template_image and "
                           "input_image uncorrelated or not overlapping)")
        error = (np.float32(lambda_n / lambda_d) * template_zm - image_zm).astype(np.float32)
        _update(kind, m, (hessian_inv @ _project(blocks, error.ravel())).astype(np.float32))
    return (float(rho), m, history) if trace else (float(rho), m)


def _mean_std(a, inside):
    """Mean and (population) standard deviation of ``a`` over ``inside``, in float64 (cv2.meanStdDev)."""
    v = a[inside].astype(np.float64)
    mean = v.mean()
    return mean, np.sqrt(max(np.mean(v * v) - mean * mean, 0.0))


@warmup_hook
def _warmup():
    rng = np.random.default_rng(0)
    a = (rng.random((24, 32)) * 255).astype(np.uint8)
    for kind in MOTION_TYPES:
        try:
            find_transform_ecc(a, a, motion_type=kind, criteria=(COUNT, 1, 0.0))
        except ECCError:
            pass
