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

until ``|rho - last rho| < epsilon`` or ``max_count`` iterations, all in one compiled loop
(:func:`_iterate`). Step 1 is one pass over the template's pixels (:func:`_warp`, from the image
and gradients interleaved per pixel by :func:`_planes`), step 2 a second (:func:`_moments`), step
3 a third (:func:`_accumulate`: the Jacobian images are built a row at a time, summed by
vectorised float64 dot products and kept), and the step's projection a fourth once ``lambda`` is
known (:func:`_project_error`, from the kept images). Everything is float32 as in OpenCV (the Hessian's inverse too:
:func:`_inverse` eliminates as OpenCV's inv() does), the sums over pixels accumulate in float64,
and the warp samples as OpenCV 5's warpAffine / warpPerspective do (source positions in float64,
bilinear weights in float32), so the matrices agree with cv2's to float32 rounding.

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
from ..imgproc import blend_bilinear, gaussian_blur, reflect101

__all__ = ["find_transform_ecc", "ECCTrace", "ECCError", "MOTION_TYPES"]

#: motion model -> OpenCV's MOTION_* value (findTransformECC's motionType)
MOTION_TYPES = {"translation": 0, "euclidean": 1, "affine": 2, "homography": 3}
_PARAMETERS = (2, 3, 6, 8)  # per motion type
#: OpenCV's TermCriteria type flags
COUNT, EPS = 1, 2


class ECCError(ValueError):
    """ECC stopped: the correlation would decrease (images uncorrelated or not overlapping), or
    it became NaN. OpenCV raises cv2.error here."""


@dataclass
class ECCTrace:
    """The iterations of :func:`find_transform_ecc`: ``rho`` after each and the warp before it.

    Attributes
    ----------
    rho : list of float
        The correlation coefficient after each iteration.
    warps : list of ndarray
        The warp each iteration started from.
    """

    rho: list
    warps: list


@kernel
def _planes(image, valid):
    """The four planes :func:`_warp` samples, interleaved per pixel ((H, W, 4) float32, so one
    pixel's are one load): the image, its central-difference gradients in x and y (OpenCV's
    Sobel with scale 1/2, reflect-101 border) zeroed outside ``valid``, and ``valid`` (0 or 1)."""
    h, w = image.shape
    planes = np.empty((h, w, 4), np.float32)
    half = np.float32(0.5)
    left, right = np.empty(w, np.int64), np.empty(w, np.int64)  # each column's neighbours
    for x in range(w):
        left[x], right[x] = reflect101(x - 1, w), reflect101(x + 1, w)
    for y in range(h):
        up, down = reflect101(y - 1, h), reflect101(y + 1, h)
        for x in range(w):
            v = np.float32(valid[y, x])
            planes[y, x, 0] = image[y, x]
            planes[y, x, 1] = (image[y, right[x]] * half - image[y, left[x]] * half) * v
            planes[y, x, 2] = (image[down, x] * half - image[up, x] * half) * v
            planes[y, x, 3] = v
    return planes


@kernel(inline=True)
def _bilinear(planes, c, ix, iy, a, b):
    """OpenCV 5's bilinear sample of plane ``c`` at integer corner ``(ix, iy)`` and float32
    fractions ``a``, ``b`` (:func:`~scratchvision.imgproc.blend_bilinear`), neighbours outside
    the image zero."""
    h, w = planes.shape[0], planes.shape[1]
    zero = np.float32(0.0)
    p00 = planes[iy, ix, c] if 0 <= ix < w and 0 <= iy < h else zero
    p01 = planes[iy, ix + 1, c] if 0 <= ix + 1 < w and 0 <= iy < h else zero
    p10 = planes[iy + 1, ix, c] if 0 <= ix < w and 0 <= iy + 1 < h else zero
    p11 = planes[iy + 1, ix + 1, c] if 0 <= ix + 1 < w and 0 <= iy + 1 < h else zero
    return blend_bilinear(p00, p01, p10, p11, a, b)


@kernel(inline=True)
def _cell(s, n):
    """The integer cell of source coordinate ``s`` on an axis of ``n`` pixels, clamped to
    ``[-2, n]`` (so that far or NaN positions stay outside and convert to int32 safely)."""
    return np.int32(s) if -2.0 <= s <= n else np.int32(-2)


@kernel
def _warp(planes, m, homography, masked, warped, gxw, gyw, mask):
    """The image and its two gradients (bilinear) and the validity mask (nearest, position
    rounded half to even) of :func:`_planes` at ``W(x, y)`` for every template pixel, ``W``
    the 3x3 ``m`` (template -> image, OpenCV's WARP_INVERSE_MAP); zero outside the image. The
    source position is float64, the bilinear weights float32, as OpenCV 5's warpAffine /
    warpPerspective compute them; without ``masked`` (no input mask) the validity plane is all
    ones and is not read. Each row in two loops: the positions, then the samples (inside, read
    from the flattened planes with unsigned indices, which Numba does not wrap)."""
    h, w = planes.shape[0], planes.shape[1]
    flat, four = planes.ravel(), np.uint64(4)
    row = four * np.uint64(w)  # one image row in the flattened planes
    cols = warped.shape[1]
    ix, iy = np.empty(cols, np.int32), np.empty(cols, np.int32)  # bilinear cells
    nx, ny = np.empty(cols, np.int32), np.empty(cols, np.int32)  # nearest pixels
    a, b = np.empty(cols, np.float32), np.empty(cols, np.float32)
    for y in range(warped.shape[0]):
        for x in range(cols):
            sx = m[0, 0] * x + m[0, 1] * y + m[0, 2]
            sy = m[1, 0] * x + m[1, 1] * y + m[1, 2]
            if homography:
                d = m[2, 0] * x + m[2, 1] * y + m[2, 2]
                sx, sy = sx / d, sy / d
            fx, fy = np.floor(sx), np.floor(sy)
            ix[x], iy[x] = _cell(fx, w), _cell(fy, h)
            nx[x], ny[x] = _cell(np.rint(sx), w), _cell(np.rint(sy), h)
            a[x], b[x] = np.float32(sx - fx), np.float32(sy - fy)
        for x in range(cols):
            i, j = ix[x], iy[x]
            if 0 <= i < w - 1 and 0 <= j < h - 1:  # all four neighbours inside: no border tests
                top = np.uint64(j) * row + np.uint64(i) * four  # plane 0 of (j, i)
                bottom = top + row
                warped[y, x] = blend_bilinear(flat[top], flat[top + four], flat[bottom], flat[bottom + four],
                                              a[x], b[x])
                top, bottom = top + np.uint64(1), bottom + np.uint64(1)
                gxw[y, x] = blend_bilinear(flat[top], flat[top + four], flat[bottom], flat[bottom + four], a[x], b[x])
                top, bottom = top + np.uint64(1), bottom + np.uint64(1)
                gyw[y, x] = blend_bilinear(flat[top], flat[top + four], flat[bottom], flat[bottom + four], a[x], b[x])
            elif -1 <= i < w and -1 <= j < h:
                warped[y, x] = _bilinear(planes, 0, i, j, a[x], b[x])
                gxw[y, x] = _bilinear(planes, 1, i, j, a[x], b[x])
                gyw[y, x] = _bilinear(planes, 2, i, j, a[x], b[x])
            else:
                warped[y, x] = gxw[y, x] = gyw[y, x] = 0.0
            inside = 0 <= nx[x] < w and 0 <= ny[x] < h
            mask[y, x] = inside and (not masked or planes[ny[x], nx[x], 3] != 0)


@kernel(fastmath=True)
def _row_moments(i, t, mask, sums):
    """Add one row's count, sum and sum of squares of ``i`` and of ``t`` over ``mask`` to
    ``sums`` (float64, in any order, so it vectorises)."""
    n, si, sii, st, stt = 0.0, 0.0, 0.0, 0.0, 0.0
    for x in range(len(i)):
        inside = mask[x] != 0
        vi, vt = np.float64(i[x]) if inside else 0.0, np.float64(t[x]) if inside else 0.0
        n += 1.0 if inside else 0.0
        si += vi
        sii += vi * vi
        st += vt
        stt += vt * vt
    sums[0] += n
    sums[1] += si
    sums[2] += sii
    sums[3] += st
    sums[4] += stt


@kernel
def _moments(warped, template, mask):
    """Pixels inside ``mask``, and the mean and (population) standard deviation of the warped
    image and of the template over them, in float64 (cv2.meanStdDev)."""
    sums = np.zeros(5)
    for y in range(mask.shape[0]):
        _row_moments(warped[y], template[y], mask[y], sums)
    n = int(sums[0])
    if n == 0:
        return 0, 0.0, 0.0, 0.0, 0.0
    mi, mt = sums[1] / n, sums[3] / n
    return n, mi, np.sqrt(max(sums[2] / n - mi * mi, 0.0)), mt, np.sqrt(max(sums[4] / n - mt * mt, 0.0))


@kernel
def _image_row(kind, m, gxw, gyw, warped, template, mask, y, image_mean, template_mean, jacobian, i, t):
    """Row ``y`` of the zero-mean warped image ``i`` and template ``t`` (float32; the mean
    removed inside the mask only, as OpenCV's masked subtract, and ``t`` zero outside it) and of
    the Jacobian images: ``jacobian[p]`` the derivative of the warped image w.r.t. parameter
    ``p`` (float32, in OpenCV's parameter order and rounding): 2 (translation), 3 (angle,
    translation), 6 (affine) or 8 (homography) rows. One loop per case, so each vectorises."""
    for x in range(warped.shape[1]):
        inside = mask[y, x] != 0
        i[x] = warped[y, x] - image_mean if inside else warped[y, x]
        t[x] = template[y, x] - template_mean if inside else np.float32(0.0)
    gx, gy, fy = gxw[y], gyw[y], np.float32(y)
    for x in range(warped.shape[1]):
        fx = np.float32(x)
        if kind == 0:
            jacobian[0, x], jacobian[1, x] = gx[x], gy[x]
        elif kind == 1:
            cos, sin = m[0, 0], m[1, 0]
            hat_x = -(fx * sin) - (fy * cos)
            hat_y = (fx * cos) - (fy * sin)
            jacobian[0, x], jacobian[1, x], jacobian[2, x] = gx[x] * hat_x + gy[x] * hat_y, gx[x], gy[x]
        elif kind == 2:
            jacobian[0, x], jacobian[1, x], jacobian[2, x] = gx[x] * fx, gy[x] * fx, gx[x] * fy
            jacobian[3, x], jacobian[4, x], jacobian[5, x] = gy[x] * fy, gx[x], gy[x]
        else:
            den = fx * m[2, 0] + fy * m[2, 1] + np.float32(1.0)
            hat_x = (-(fx * m[0, 0]) - fy * m[0, 1] - m[0, 2]) / den
            hat_y = (-(fx * m[1, 0]) - fy * m[1, 1] - m[1, 2]) / den
            gxd, gyd = gx[x] / den, gy[x] / den
            both = hat_x * gxd + hat_y * gyd
            jacobian[0, x], jacobian[1, x], jacobian[2, x], jacobian[3, x] = gxd * fx, gyd * fx, both * fx, gxd * fy
            jacobian[4, x], jacobian[5, x], jacobian[6, x], jacobian[7, x] = gyd * fy, both * fy, gxd, gyd


@kernel(fastmath=True)
def _dot(a, b):
    """``sum(a * b)`` of two float32 rows in float64 (in any order, so it vectorises)."""
    total = 0.0
    for x in range(len(a)):
        total += np.float64(a[x]) * np.float64(b[x])
    return total


@kernel
def _accumulate(kind, m, gxw, gyw, warped, template, mask, image_mean, template_mean, jacobian, i, t, hessian,
                projections):
    """One pass over the template's rows (:func:`_image_row`: ``i``, ``t`` (H, W) and the Jacobian
    images ``jacobian`` (H, k, W), kept for :func:`_project_error`): sums in float64 of ``J J'``
    into ``hessian`` and of ``J i`` and ``J t`` into the two columns of ``projections`` (stored as
    float32, as OpenCV's project_onto_jacobian). Returns ``<t, i>``."""
    k = hessian.shape[0]
    sums, proj = np.zeros((k, k)), np.zeros((k, 2))
    correlation = 0.0
    mi, mt = np.float32(image_mean), np.float32(template_mean)
    for y in range(warped.shape[0]):
        rows = jacobian[y]
        _image_row(kind, m, gxw, gyw, warped, template, mask, y, mi, mt, rows, i[y], t[y])
        for a in range(k):
            proj[a, 0] += _dot(rows[a], i[y])
            proj[a, 1] += _dot(rows[a], t[y])
            for b in range(a, k):
                sums[a, b] += _dot(rows[a], rows[b])
        correlation += _dot(t[y], i[y])
    for a in range(k):
        for b in range(a, k):
            hessian[a, b] = hessian[b, a] = np.float32(sums[a, b])
        projections[a, 0], projections[a, 1] = np.float32(proj[a, 0]), np.float32(proj[a, 1])
    return correlation


@kernel
def _project_error(jacobian, i, t, lam):
    """``J^T e`` for the error image ``e = float32(lam t - i)``, from the images
    :func:`_accumulate` kept (float64 sums, float32 result)."""
    k = jacobian.shape[1]
    error = np.empty(i.shape[1], np.float32)
    proj = np.zeros(k)
    lam32 = np.float32(lam)
    for y in range(i.shape[0]):
        for x in range(len(error)):
            error[x] = lam32 * t[y, x] - i[y, x]
        for a in range(k):
            proj[a] += _dot(jacobian[y, a], error)
    return proj.astype(np.float32)


@kernel(inline=True)
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
        for p in range(8):  # column by column: (0, 0), (1, 0), (2, 0), (0, 1), ...
            m[p % 3, p // 3] += dp[p]
    else:
        theta = np.float64(dp[0]) + np.arctan2(np.float64(m[1, 0]), np.float64(m[0, 0]))  # OpenCV 5's angle update
        m[0, 2] += dp[1]
        m[1, 2] += dp[2]
        m[0, 0] = m[1, 1] = np.float32(np.cos(theta))
        m[1, 0] = np.float32(np.sin(theta))
        m[0, 1] = -m[1, 0]


@kernel
def _inverse(a):
    """The inverse of the small float32 matrix ``a`` as OpenCV's inv() finds it: Gaussian
    elimination with partial pivoting on ``[a | I]`` in float32, then back substitution;
    zeros when ``a`` is singular."""
    k = a.shape[0]
    lu, out = a.copy(), np.eye(k, dtype=np.float32)
    for c in range(k):
        pivot = c
        for r in range(c + 1, k):
            if abs(lu[r, c]) > abs(lu[pivot, c]):
                pivot = r
        if lu[pivot, c] == 0.0:
            return np.zeros((k, k), np.float32)
        for j in range(k):
            lu[c, j], lu[pivot, j] = lu[pivot, j], lu[c, j]
            out[c, j], out[pivot, j] = out[pivot, j], out[c, j]
        scale = np.float32(-1.0) / lu[c, c]
        for r in range(c + 1, k):
            factor = lu[r, c] * scale
            for j in range(c + 1, k):
                lu[r, j] += factor * lu[c, j]
            for j in range(k):
                out[r, j] += factor * out[c, j]
    for c in range(k - 1, -1, -1):
        for j in range(k):
            total = out[c, j]
            for r in range(c + 1, k):
                total -= lu[c, r] * out[r, j]
            out[c, j] = total / lu[c, c]
    return out


@kernel(inline=True)
def _times(a, v):
    """``a @ v`` in float32 (a float32 matrix and vector)."""
    out = np.zeros(a.shape[0], np.float32)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i] += a[i, j] * v[j]
    return out


#: why :func:`_iterate` stopped early: it did not, the images do not overlap, rho is NaN, rho would decrease
_RUNNING, _NO_OVERLAP, _NAN, _DECREASING = 0, 1, 2, 3


@kernel
def _iterate(kind, planes, template, m, iterations, epsilon, masked, rhos, warps):
    """The ECC iterations (the module notes' steps 1-4) from the float32 warp ``m``, updated in
    place, until ``rho`` changes by less than ``epsilon`` or after ``iterations``; ``rho`` and the
    warp before each iteration go to ``rhos`` and ``warps`` while they have room (for the
    trace). Returns ``(status, iterations run, rho)``, status one of ``_RUNNING`` (finished) or
    the reason it stopped."""
    h, w = template.shape
    rows = m.shape[0]
    warped, gxw, gyw = np.empty((h, w), np.float32), np.empty((h, w), np.float32), np.empty((h, w), np.float32)
    mask = np.empty((h, w), np.uint8)
    k = _PARAMETERS[kind]
    hessian, projections = np.empty((k, k), np.float32), np.empty((k, 2), np.float32)
    jacobian = np.empty((h, k, w), np.float32)  # the Jacobian images, row by row
    centred, template_centred = np.empty((h, w), np.float32), np.empty((h, w), np.float32)
    m64 = np.eye(3)
    rho, last_rho = -1.0, -epsilon
    for it in range(iterations):
        if not abs(rho - last_rho) >= epsilon:
            return _RUNNING, it, rho
        m64[:rows] = m
        _warp(planes, m64, kind == 3, masked, warped, gxw, gyw, mask)
        count, image_mean, image_std, template_mean, template_std = _moments(warped, template, mask)
        if count == 0:
            return _NO_OVERLAP, it, rho
        template_norm = np.sqrt(count * template_std * template_std)
        image_norm = np.sqrt(count * image_std * image_std)
        correlation = _accumulate(kind, m, gxw, gyw, warped, template, mask, image_mean, template_mean, jacobian,
                                  centred, template_centred, hessian, projections)
        hessian_inv = _inverse(hessian)
        last_rho, rho = rho, correlation / (image_norm * template_norm)
        if it < len(rhos):
            rhos[it] = rho
            warps[it] = m
        if np.isnan(rho):
            return _NAN, it + 1, rho
        image_projection, template_projection = projections[:, 0].copy(), projections[:, 1].copy()
        projected = _times(hessian_inv, image_projection)
        lambda_n = image_norm * image_norm
        lambda_d = correlation
        for p in range(k):
            lambda_n -= np.float64(image_projection[p]) * projected[p]
            lambda_d -= np.float64(template_projection[p]) * projected[p]
        if lambda_d <= 0.0:
            return _DECREASING, it + 1, rho
        # the error image e = lambda t - i, projected in a second pass (lambda is known only now)
        error_projection = _project_error(jacobian, centred, template_centred, lambda_n / lambda_d)
        _update(kind, m, _times(hessian_inv, error_projection))
    return _RUNNING, iterations, rho


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

    def blur(a):
        return gaussian_blur(a, (size, size), 0.0) if size > 1 else a

    valid = np.ones(image.shape, np.uint8)  # a mask of ones stays ones under the blur
    if input_mask is not None:
        mask = as_array(input_mask, "input_mask")
        if mask.shape != image.shape:
            raise ValueError(f"input_mask must have input_image's shape {image.shape}, got {mask.shape}")
        # shrunk where the blur reached outside it (OpenCV: blurred mask * 0.5 / 0.95, rounded)
        valid = np.rint(blur((mask > 0).astype(np.float32)) * np.float32(0.5 / 0.95)).astype(np.uint8)
    template, image = blur(template), blur(image)
    planes = _planes(image, valid)
    room = iterations if trace else 0
    rhos, warps = np.empty(room), np.empty((room, rows, 3), np.float32)
    status, done, rho = _iterate(kind, planes, template, m, iterations, epsilon, input_mask is not None, rhos, warps)
    if status == _NO_OVERLAP:
        raise ECCError("ECC: input_image does not overlap template_image under the warp")
    if status == _NAN:
        raise ECCError("ECC: the correlation is NaN (template_image or input_image constant over their overlap)")
    if status == _DECREASING:
        raise ECCError("ECC stopped before converging: the correlation would decrease (template_image and "
                       "input_image uncorrelated or not overlapping)")
    history = ECCTrace(rhos[:done].tolist(), list(warps[:done]))
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
