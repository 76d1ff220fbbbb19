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

until ``|rho - last rho| < epsilon`` or ``max_count`` iterations. Steps 1 and 2 are one compiled
pass over the template's pixels (:func:`_warp`, then :func:`_moments`), step 3 another
(:func:`_accumulate`: the Jacobian is computed per pixel, never stored), and the step's projection
a third once ``lambda`` is known (:func:`_project_error`). Everything is float32 as in
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


@kernel(inline=True)
def _bilinear(image, ix, iy, a, b):
    """OpenCV 5's bilinear sample at integer corner ``(ix, iy)`` and float32 fractions ``a``,
    ``b`` (:func:`_lerp2`), neighbours outside ``image`` zero."""
    h, w = image.shape
    zero = np.float32(0.0)
    p00 = image[iy, ix] if 0 <= ix < w and 0 <= iy < h else zero
    p01 = image[iy, ix + 1] if 0 <= ix + 1 < w and 0 <= iy < h else zero
    p10 = image[iy + 1, ix] if 0 <= ix < w and 0 <= iy + 1 < h else zero
    p11 = image[iy + 1, ix + 1] if 0 <= ix + 1 < w and 0 <= iy + 1 < h else zero
    return _lerp2(p00, p01, p10, p11, a, b)


@kernel(inline=True)
def _lerp2(p00, p01, p10, p11, a, b):
    """Two horizontal lerps by ``a``, then a vertical one by ``b`` (float32)."""
    top = p00 + a * (p01 - p00)
    bottom = p10 + a * (p11 - p10)
    return top + b * (bottom - top)


@kernel
def _warp(image, gx, gy, valid, m, homography, warped, gxw, gyw, mask):
    """The image, its two gradients (bilinear) and the validity mask (nearest, position rounded
    half to even) at ``W(x, y)`` for every template pixel, ``W`` the 3x3 ``m`` (template ->
    image, OpenCV's WARP_INVERSE_MAP); zero outside the image. The source position is float64,
    the bilinear weights float32, as OpenCV 5's warpAffine / warpPerspective compute them."""
    h, w = image.shape
    for y in range(warped.shape[0]):
        for x in range(warped.shape[1]):
            sx = m[0, 0] * x + m[0, 1] * y + m[0, 2]
            sy = m[1, 0] * x + m[1, 1] * y + m[1, 2]
            if homography:
                d = m[2, 0] * x + m[2, 1] * y + m[2, 2]
                sx, sy = sx / d, sy / d
            nx, ny = np.rint(sx), np.rint(sy)
            mask[y, x] = valid[int(ny), int(nx)] if 0.0 <= nx < w and 0.0 <= ny < h else 0
            fx, fy = np.floor(sx), np.floor(sy)
            if not (-1.0 <= fx < w and -1.0 <= fy < h):
                warped[y, x] = gxw[y, x] = gyw[y, x] = 0.0
                continue
            ix, iy = int(fx), int(fy)
            a, b = np.float32(sx - fx), np.float32(sy - fy)
            if 0 <= ix < w - 1 and 0 <= iy < h - 1:  # all four neighbours inside: no border tests
                warped[y, x] = _lerp2(image[iy, ix], image[iy, ix + 1], image[iy + 1, ix], image[iy + 1, ix + 1], a, b)
                gxw[y, x] = _lerp2(gx[iy, ix], gx[iy, ix + 1], gx[iy + 1, ix], gx[iy + 1, ix + 1], a, b)
                gyw[y, x] = _lerp2(gy[iy, ix], gy[iy, ix + 1], gy[iy + 1, ix], gy[iy + 1, ix + 1], a, b)
            else:
                warped[y, x] = _bilinear(image, ix, iy, a, b)
                gxw[y, x] = _bilinear(gx, ix, iy, a, b)
                gyw[y, x] = _bilinear(gy, ix, iy, a, b)


@kernel
def _moments(warped, template, mask):
    """Pixels inside ``mask``, and the mean and (population) standard deviation of the warped
    image and of the template over them, in float64 (cv2.meanStdDev)."""
    n, si, sii, st, stt = 0, 0.0, 0.0, 0.0, 0.0
    for y in range(mask.shape[0]):
        for x in range(mask.shape[1]):
            if mask[y, x]:
                vi, vt = np.float64(warped[y, x]), np.float64(template[y, x])
                n += 1
                si += vi
                sii += vi * vi
                st += vt
                stt += vt * vt
    if n == 0:
        return 0, 0.0, 0.0, 0.0, 0.0
    mi, mt = si / n, st / n
    return n, mi, np.sqrt(max(sii / n - mi * mi, 0.0)), mt, np.sqrt(max(stt / n - mt * mt, 0.0))


@kernel(inline=True)
def _jacobian_row(kind, gx, gy, x, y, m, out):
    """The Jacobian of the warped image w.r.t. the warp's parameters at one pixel (float32, in
    OpenCV's parameter order and rounding): 2 (translation), 3 (angle, translation), 6 (affine)
    or 8 (homography) values."""
    if kind == 0:
        out[0], out[1] = gx, gy
    elif kind == 1:
        c, s = m[0, 0], m[1, 0]
        hat_x = -(x * s) - (y * c)
        hat_y = (x * c) - (y * s)
        out[0], out[1], out[2] = gx * hat_x + gy * hat_y, gx, gy
    elif kind == 2:
        out[0], out[1], out[2], out[3], out[4], out[5] = gx * x, gy * x, gx * y, gy * y, gx, gy
    else:
        den = x * m[2, 0] + y * m[2, 1] + np.float32(1.0)
        hat_x = (-(x * m[0, 0]) - y * m[0, 1] - m[0, 2]) / den
        hat_y = (-(x * m[1, 0]) - y * m[1, 1] - m[1, 2]) / den
        gxd, gyd = gx / den, gy / den
        both = hat_x * gxd + hat_y * gyd
        out[0], out[1], out[2], out[3] = gxd * x, gyd * x, both * x, gxd * y
        out[4], out[5], out[6], out[7] = gyd * y, both * y, gxd, gyd


@kernel(inline=True)
def _centred(warped, template, mask, y, x, mi, mt):
    """The zero-mean warped image ``i`` (mean removed inside the mask only, as OpenCV's masked
    subtract) and template ``t`` (zero outside the mask) at one pixel, float32."""
    if mask[y, x]:
        return warped[y, x] - mi, template[y, x] - mt
    return warped[y, x], np.float32(0.0)


@kernel
def _accumulate(kind, m, gxw, gyw, warped, template, mask, image_mean, template_mean, hessian, projections):
    """One pass over the template's pixels (:func:`_centred` ``i`` and ``t``, the Jacobian row
    ``J``): sums in float64 of ``J J'`` into ``hessian`` and of ``J i`` and ``J t`` into the two
    columns of ``projections`` (stored as float32, as OpenCV's project_onto_jacobian). Returns
    ``<t, i>``."""
    k = hessian.shape[0]
    row = np.empty(k, np.float32)
    sums = np.zeros((k, k))
    proj = np.zeros((k, 2))
    correlation = 0.0
    mi, mt = np.float32(image_mean), np.float32(template_mean)
    for y in range(warped.shape[0]):
        fy = np.float32(y)
        for x in range(warped.shape[1]):
            i, t = _centred(warped, template, mask, y, x, mi, mt)
            _jacobian_row(kind, gxw[y, x], gyw[y, x], np.float32(x), fy, m, row)
            for a in range(k):
                ra = np.float64(row[a])
                proj[a, 0] += ra * i
                proj[a, 1] += ra * t
                for b in range(a, k):
                    sums[a, b] += ra * row[b]
            correlation += np.float64(t) * i
    for a in range(k):
        for b in range(a, k):
            hessian[a, b] = hessian[b, a] = np.float32(sums[a, b])
        projections[a, 0], projections[a, 1] = np.float32(proj[a, 0]), np.float32(proj[a, 1])
    return correlation


@kernel
def _project_error(kind, m, gxw, gyw, warped, template, mask, image_mean, template_mean, lam, k):
    """``J^T e`` for the error image ``e = float32(lam t - i)`` (float64 sums, float32 result)."""
    row = np.empty(k, np.float32)
    proj = np.zeros(k)
    mi, mt, lam32 = np.float32(image_mean), np.float32(template_mean), np.float32(lam)
    for y in range(warped.shape[0]):
        fy = np.float32(y)
        for x in range(warped.shape[1]):
            i, t = _centred(warped, template, mask, y, x, mi, mt)
            _jacobian_row(kind, gxw[y, x], gyw[y, x], np.float32(x), fy, m, row)
            e = np.float64(lam32 * t - i)
            for a in range(k):
                proj[a] += np.float64(row[a]) * e
    return proj.astype(np.float32)


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
    warped, gxw, gyw = (np.empty((h, w), np.float32) for _ in range(3))
    mask_w = np.empty((h, w), np.uint8)
    rho, last_rho = -1.0, -epsilon
    history = ECCTrace([], [])
    k = _PARAMETERS[kind]
    hessian, projections = np.empty((k, k), np.float32), np.empty((k, 2), np.float32)
    for _ in range(iterations):
        if not abs(rho - last_rho) >= epsilon:
            break
        m64 = np.eye(3)
        m64[:rows] = m
        _warp(image, gx, gy, valid, m64, kind == 3, warped, gxw, gyw, mask_w)
        count, image_mean, image_std, template_mean, template_std = _moments(warped, template, mask_w)
        if count == 0:
            raise ECCError("ECC: input_image does not overlap template_image under the warp")
        template_norm = np.sqrt(count * template_std * template_std)
        image_norm = np.sqrt(count * image_std * image_std)
        correlation = _accumulate(kind, m, gxw, gyw, warped, template, mask_w, image_mean, template_mean, hessian,
                                  projections)
        try:
            hessian_inv = np.linalg.inv(hessian).astype(np.float32)
        except np.linalg.LinAlgError:  # OpenCV's inv() gives zeros for a singular matrix
            hessian_inv = np.zeros_like(hessian)
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant image: 0 / 0, reported below
            last_rho, rho = rho, correlation / (image_norm * template_norm)
        history.rho.append(rho)
        history.warps.append(m.copy())
        if np.isnan(rho):
            raise ECCError("ECC: the correlation is NaN (template_image or input_image constant over their "
                           "overlap)")
        image_projection, template_projection = projections[:, 0].copy(), projections[:, 1].copy()
        projected = (hessian_inv @ image_projection).astype(np.float32)
        lambda_n = image_norm * image_norm - float(np.dot(image_projection.astype(np.float64), projected))
        lambda_d = correlation - float(np.dot(template_projection.astype(np.float64), projected))
        if lambda_d <= 0.0:
            raise ECCError("ECC stopped before converging: the correlation would decrease (template_image and "
                           "input_image uncorrelated or not overlapping)")
        # the error image e = lambda t - i, projected in a second pass (lambda is known only now)
        error_projection = _project_error(kind, m, gxw, gyw, warped, template, mask_w, image_mean, template_mean,
                                          lambda_n / lambda_d, k)
        _update(kind, m, (hessian_inv @ error_projection).astype(np.float32))
    return (float(rho), m, history) if trace else (float(rho), m)


@warmup_hook
def _warmup():
    rng = np.random.default_rng(0)
    a = (rng.random((24, 32)) * 255).astype(np.uint8)
    for kind in MOTION_TYPES:
        try:
            find_transform_ecc(a, a, motion_type=kind, criteria=(COUNT, 1, 0.0))
        except ECCError:
            pass
