"""Camera-motion compensation for the trackers: a warp matrix (the camera's motion from the last
frame to this one, :func:`~scratchvision.flow.estimate_camera_motion`) applied to the tracks'
Kalman states before they are matched, as BoT-SORT does.

A track's state holds image quantities: its centre (x, y) and centre velocity, and a size (area
``s`` for SORT and OC-SORT, height ``h`` beside the aspect ``a`` for ByteTrack and DeepSORT, width
and height for BoT-SORT). Near
the track's centre ``c`` the warp acts as an affine map ``p -> A p + t`` (for a homography, its
Jacobian at ``c``, with ``t`` chosen so that ``c`` goes exactly where the homography sends it), so
the centre becomes ``A c + t``, the velocity ``A v``, lengths scale by ``k = sqrt(|det A|)``
(areas by ``k^2``; aspect ratios stay), and the covariance ``P`` becomes ``J P J^T`` for that
linear map ``J``. BoT-SORT's width and height (and their velocities) become those of the box
enclosing the warped box, ``|A| (w, h)``, as ultralytics' port of it does. For a pure translation
only the centres move.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from .._validate import as_array, check_choice, check_int

__all__ = ["CameraMotion", "check_warp", "warp_states", "warp_boxes", "local_affine", "local_affine_kernel",
           "warp_states_kernel"]

#: state layouts (the ``layout`` of :func:`warp_states`) -> code of :func:`warp_states_kernel`
LAYOUTS = {"xysr": 0, "xyah": 1, "xywh": 2}


def check_warp(warp, name: str = "warp"):
    """``warp`` as a 3x3 float64 matrix (from 2x3 or 3x3, scaled so that ``[2, 2] = 1``), or
    None; a ValueError naming ``name`` when it is neither or not finite."""
    if warp is None:
        return None
    w = as_array(warp, name)
    if w.dtype.kind not in "iuf" or w.shape not in _WARP_SHAPES:
        raise ValueError(f"{name} must be a finite 2x3 (affine) or 3x3 (homography) matrix, got "
                         f"{w.dtype} {w.shape}")
    out = np.empty((3, 3))
    status = _homography_kernel(w, out)  # every tracker update checks one: compiled, ~10x a NumPy version
    if status == _NOT_FINITE:
        raise ValueError(f"{name} must be a finite 2x3 (affine) or 3x3 (homography) matrix")
    if status == _NO_SCALE:
        raise ValueError(f"{name}: a homography needs [2, 2] != 0")
    return out


_WARP_SHAPES = ((2, 3), (3, 3))
_VALID, _NOT_FINITE, _NO_SCALE = 0, 1, 2


@kernel
def _homography_kernel(w, out):
    """:func:`check_warp`'s matrix into ``out``: ``w``'s rows, ``0, 0, 1`` below a 2x3, divided
    by ``[2, 2]``. Returns ``_VALID``, ``_NOT_FINITE`` or ``_NO_SCALE``."""
    out[2, 0], out[2, 1], out[2, 2] = 0.0, 0.0, 1.0
    for i in range(w.shape[0]):
        for j in range(3):
            out[i, j] = w[i, j]
            if not np.isfinite(out[i, j]):
                return _NOT_FINITE
    if out[2, 2] == 0.0:
        return _NO_SCALE
    scale = out[2, 2]
    if scale != 1.0:
        out /= scale
    return _VALID


def local_affine(h, centres):
    """``(A (n, 2, 2), t (n, 2))``: the warp near each centre as ``p -> A p + t``."""
    centres = np.ascontiguousarray(centres, np.float64)
    a, t = np.empty((len(centres), 2, 2)), np.empty((len(centres), 2))
    local_affine_kernel(h, centres, a, t)
    return a, t


@kernel
def local_affine_kernel(h, centres, a, t):
    """Kernel-level :func:`local_affine` into ``a`` and ``t`` (:func:`_local_affine_at` at each
    centre)."""
    for i in range(len(centres)):
        a[i, 0, 0], a[i, 0, 1], a[i, 1, 0], a[i, 1, 1], t[i, 0], t[i, 1] = _local_affine_at(h, centres[i, 0],
                                                                                          centres[i, 1])


@kernel(inline=True)
def _local_affine_at(h, x, y):
    """``(a00, a01, a10, a11, t0, t1)``: the warp near ``(x, y)`` as ``p -> A p + t``. An affine
    ``h`` (last row 0, 0, 1) is the same map everywhere; a homography's ``A`` is its Jacobian at
    ``(x, y)`` and ``t`` sends ``(x, y)`` exactly where the homography does."""
    if h[2, 0] == 0.0 and h[2, 1] == 0.0:
        return h[0, 0], h[0, 1], h[1, 0], h[1, 1], h[0, 2], h[1, 2]
    w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    mx = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w
    my = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w
    a00, a01 = (h[0, 0] - mx * h[2, 0]) / w, (h[0, 1] - mx * h[2, 1]) / w
    a10, a11 = (h[1, 0] - my * h[2, 0]) / w, (h[1, 1] - my * h[2, 1]) / w
    return a00, a01, a10, a11, mx - (a00 * x + a01 * y), my - (a10 * x + a11 * y)


def warp_states(x, p, rows: int, layout: str, h) -> None:
    """Apply the 3x3 warp ``h`` to the first ``rows`` Kalman means ``x`` and covariances ``p``
    (None: means only), in place (see the module notes)."""
    if rows:
        covariances = np.zeros((rows, 1, 1)) if p is None else p
        warp_states_kernel(x, covariances, rows, LAYOUTS[layout], h, p is not None)


@kernel
def warp_states_kernel(x, p, rows, layout, h, with_covariance):
    """Kernel-level :func:`warp_states`; ``layout`` is a :data:`LAYOUTS` code. Each row's linear
    map ``J`` (``A`` on the centre and on its velocity, the size entries as the module notes
    say) gives ``x <- J x`` (plus ``t`` on the centre) and ``p <- J p J^T``; ``J`` acts on
    disjoint pairs of entries, so it is applied pair by pair (:func:`_map_pair`, each 2x2 map
    given as its entries ``(m00, m01, m10, m11)``)."""
    for r in range(rows):
        a00, a01, a10, a11, t0, t1 = _local_affine_at(h, x[r, 0], x[r, 1])
        if a00 != 1.0 or a11 != 1.0 or a01 != 0.0 or a10 != 0.0:  # else a translation
            k = np.sqrt(abs(a00 * a11 - a01 * a10))
            xr, pr = x[r], p[r]
            _map_pair(xr, pr, with_covariance, 0, 1, (a00, a01, a10, a11))
            _map_pair(xr, pr, with_covariance, 4, 5, (a00, a01, a10, a11))
            if layout == 0:  # xysr: area and its velocity scale by k^2
                _map_pair(xr, pr, with_covariance, 2, 6, (k * k, 0.0, 0.0, k * k))
            elif layout == 1:  # xyah: height and its velocity by k
                _map_pair(xr, pr, with_covariance, 3, 7, (k, 0.0, 0.0, k))
            else:  # xywh: width and height through |A|
                enclosing = (abs(a00), abs(a01), abs(a10), abs(a11))
                _map_pair(xr, pr, with_covariance, 2, 3, enclosing)
                _map_pair(xr, pr, with_covariance, 6, 7, enclosing)
        x[r, 0] += t0
        x[r, 1] += t1


@kernel(inline=True)
def _map_pair(x, p, with_covariance, i, j, m):
    """Apply the 2x2 map ``m = (m00, m01, m10, m11)`` to entries ``i``, ``j`` of the mean ``x``
    and, with ``with_covariance``, to rows then columns ``i``, ``j`` of ``p`` (``J p J^T`` for a
    ``J`` that is the identity elsewhere)."""
    m00, m01, m10, m11 = m
    xi, xj = x[i], x[j]
    x[i], x[j] = m00 * xi + m01 * xj, m10 * xi + m11 * xj
    if not with_covariance:
        return
    for c in range(p.shape[1]):
        pi, pj = p[i, c], p[j, c]
        p[i, c], p[j, c] = m00 * pi + m01 * pj, m10 * pi + m11 * pj
    for c in range(p.shape[0]):
        pi, pj = p[c, i], p[c, j]
        p[c, i], p[c, j] = m00 * pi + m01 * pj, m10 * pi + m11 * pj


def warp_boxes(boxes, h) -> np.ndarray:
    """Boxes ``x1, y1, x2, y2`` (N, 4) under the warp: centre mapped, width and height scaled by
    the local ``k``."""
    b = np.asarray(boxes, np.float64)
    if len(b) == 0:
        return b.copy()
    centres = (b[:, :2] + b[:, 2:4]) / 2
    a, t = local_affine(h, centres)
    k = np.sqrt(np.abs(np.linalg.det(a)))[:, None]
    c = np.einsum("nij,nj->ni", a, centres) + t
    half = k * (b[:, 2:4] - b[:, :2]) / 2
    return np.column_stack([c - half, c + half])


class CameraMotion:
    """The warp of each new frame for ``tracker.update(dets, warp=cmc(frame))``.

    Parameters
    ----------
    method : {"sparse", "ecc"}
        :func:`~scratchvision.flow.estimate_camera_motion`'s.
    model : {"translation", "similarity", "affine", "homography"}, or "euclidean" with ECC
        (ECC has no similarity model: give ``model="euclidean"``, BoT-SORT's choice, with it)
    every : int
        Estimate on every ``every``-th frame only (between it and the previous estimated frame,
        so that no motion is lost); the frames between get the identity.
    mask_detections : bool
        Ignore corners inside the boxes passed with the frame (moving objects).
    **options
        Further keyword arguments of :func:`~scratchvision.flow.estimate_camera_motion`
        (``downscale``, ``fb_threshold``, ...).

    Attributes
    ----------
    last_trace : CameraMotionTrace or None
        What the last estimate saw (corners, matches, whether it succeeded).

    Examples
    --------
    >>> import scratchvision as sv
    >>> from scratchvision.tracking import CameraMotion
    >>> seq = sv.synthetic_sequence(3, (120, 160), n_objects=2, seed=1, background_speed=2.0)
    >>> cmc, tracker = CameraMotion(model="translation"), sv.Sort()
    >>> for t, frame in enumerate(seq.frames):
    ...     boxes, _ = seq.boxes(t)
    ...     tracks = tracker.update(boxes, warp=cmc(frame, boxes))
    >>> cmc(seq.frames[0]).shape  # the camera moved back by frames 2 -> 0
    (2, 3)
    """

    def __init__(self, method: str = "sparse", model: str = "similarity", every: int = 1,
                 mask_detections: bool = True, **options):
        from ..flow.camera import MOTION_MODELS
        from ..flow.ecc import MOTION_TYPES

        self.method = check_choice(method, "method", ("sparse", "ecc"))
        models = tuple(MOTION_TYPES if method == "ecc" else MOTION_MODELS)
        self.model = check_choice(model, "model", models)
        self.every = check_int(every, "every", low=1)
        self.mask_detections = bool(mask_detections)
        self.options = options
        self.last_trace = None
        self._previous, self._mask, self._count = None, None, 0

    def __call__(self, frame, dets=None) -> np.ndarray:
        """The warp from the last estimated frame to ``frame`` (the identity on the first frame
        and on frames skipped by ``every``); ``dets`` (N, >= 4): this frame's boxes, whose
        corners the next estimate ignores."""
        from ..flow.camera import estimate_camera_motion

        identity = np.eye(3)[:3 if self.model == "homography" else 2].copy()
        self._count += 1
        if self._previous is not None and np.shape(frame)[:2] != np.shape(self._previous)[:2]:
            raise ValueError(f"frame: every frame must have one size, got {np.shape(frame)[:2]} after "
                             f"{np.shape(self._previous)[:2]}")
        if self._previous is None or (self._count - 1) % self.every == 0:
            warp = identity
            if self._previous is not None:
                warp, self.last_trace = estimate_camera_motion(self._previous, frame, self.method, self.model,
                                                               mask=self._mask, trace=True, **self.options)
            self._previous, self._mask = np.array(frame, copy=True), self._detection_mask(frame, dets)
            return warp
        return identity

    def _detection_mask(self, frame, dets):
        """Zero inside ``dets``: the corners of the next estimate come from this frame."""
        if not self.mask_detections or dets is None or not len(dets):
            return None
        mask = np.ones(np.shape(frame)[:2], np.uint8)
        for x1, y1, x2, y2 in as_array(dets, "dets").astype(np.float64)[:, :4]:
            mask[max(int(y1), 0):max(int(np.ceil(y2)), 0), max(int(x1), 0):max(int(np.ceil(x2)), 0)] = 0
        return mask
