"""Box geometry: format conversions, areas, IoU / GIoU / DIoU matrices.

Boxes are ``x1, y1, x2, y2`` (``"xyxy"``) in the API. The other formats trackers and files use:

=========  ==========================================================================
``xywh``   top-left corner and size (MOTChallenge files, OpenCV trackers)
``cxcywh`` centre and size
``xysr``   centre, area ``s = w h`` and aspect ``r = w / h`` (SORT's Kalman state)
``xyah``   centre, aspect ``a = w / h`` and height (DeepSORT's and ByteTrack's state)
=========  ==========================================================================

A box with ``x2 < x1`` or ``y2 < y1`` has zero area: its IoU with anything is 0, never
negative. The *pixel-inclusive* IoU counts pixels at both ends (``w = x2 - x1 + 1``), as the
``cython_bbox`` code ByteTrack uses does.
"""

from __future__ import annotations

import numba
import numpy as np

from ._jit import kernel, warmup_hook
from ._validate import as_array, check_choice, check_finite

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["iou_matrix", "giou_matrix", "diou_matrix", "ciou_matrix", "box_area", "clip_boxes"]
__all__ += ["FORMATS", "convert", "convert_checked", "convert_kernel", "iou_checked", "iou_kernel",
            "COST_MODES"]

FORMATS = ("xyxy", "xywh", "cxcywh", "xysr", "xyah")
#: Indices of :data:`FORMATS`, the ``src`` / ``dst`` codes of :func:`convert_kernel`.
XYXY, XYWH, CXCYWH, XYSR, XYAH = range(len(FORMATS))


def _check(boxes, name):
    a = as_array(boxes, name)
    if a.size == 0 and a.ndim in (1, 2):
        return np.zeros((0, 4), np.float64)
    if a.ndim != 2 or a.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4), got shape {a.shape}")
    a = np.ascontiguousarray(a, np.float64)  # one layout: one compiled specialisation of each kernel
    check_finite(a, name)
    return a


def convert(boxes, src: str, dst: str) -> np.ndarray:
    """Convert (N, 4) boxes from format ``src`` to ``dst`` (see the module docstring).

    Converting from ``xysr`` follows SORT: ``w = sqrt(s r)``, ``h = s / w``, so a negative area
    gives NaN (SORT drops such predictions). A zero height gives an infinite aspect.

    Parameters
    ----------
    boxes : array-like (N, 4)
    src, dst : {"xyxy", "xywh", "cxcywh", "xysr", "xyah"}
        The formats (:data:`FORMATS`).

    Returns
    -------
    ndarray, (N, 4), float64
    """
    check_choice(src, "src", FORMATS)
    check_choice(dst, "dst", FORMATS)
    return convert_checked(_check(boxes, "boxes"), src, dst)


def convert_checked(b, src: str, dst: str) -> np.ndarray:
    """:func:`convert` for input already validated (float64 (N, 4), known formats): the trackers
    call it every frame, where the checks would cost a third of the time.

    Parameters
    ----------
    b : ndarray (N, 4) float64
    src, dst : str
        Formats of :data:`FORMATS`.

    Returns
    -------
    ndarray (N, 4) float64
    """
    if src == dst:
        return b.copy()
    out = np.empty((b.shape[0], 4), np.float64)
    convert_kernel(b, FORMATS.index(src), FORMATS.index(dst), out)
    return out


@kernel
def convert_kernel(b, src, dst, out):
    """Kernel-level :func:`convert_checked` into ``out``: row by row through centre and size;
    ``src`` and ``dst`` index :data:`FORMATS` (:data:`XYXY` ... :data:`XYAH`).

    Parameters
    ----------
    b : ndarray (N, 4) float64
    src, dst : int
        Format codes.
    out : ndarray (N, 4) float64
        Written in place.

    Returns
    -------
    None
    """
    for i in range(b.shape[0]):
        p, q, r, s = b[i, 0], b[i, 1], b[i, 2], b[i, 3]
        if src == 0:  # xyxy
            cx, cy, w, h = (p + r) / 2, (q + s) / 2, r - p, s - q
        elif src == 1:  # xywh
            cx, cy, w, h = p + r / 2, q + s / 2, r, s
        elif src == 2:  # cxcywh
            cx, cy, w, h = p, q, r, s
        elif src == 3:  # xysr
            w = np.sqrt(r * s)
            cx, cy, h = p, q, r / w
        else:  # xyah
            cx, cy, w, h = p, q, r * s, s
        if dst == 0:
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        elif dst == 1:
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cx - w / 2, cy - h / 2, w, h
        elif dst == 2:
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cx, cy, w, h
        elif dst == 3:
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cx, cy, w * h, w / h
        else:
            out[i, 0], out[i, 1], out[i, 2], out[i, 3] = cx, cy, w / h, h


def box_area(boxes, *, pixel_inclusive: bool = False) -> np.ndarray:
    """Areas of (N, 4) xyxy boxes; 0 for inverted boxes. ``pixel_inclusive`` adds 1 to each side.

    Parameters
    ----------
    boxes : array-like (N, 4)
        Boxes ``x1, y1, x2, y2``.
    pixel_inclusive : bool
        Count both end pixels of each side.

    Returns
    -------
    ndarray (N,), float64
    """
    b = _check(boxes, "boxes")
    one = 1.0 if pixel_inclusive else 0.0
    with np.errstate(over="ignore"):  # sides beyond 1e154 have an area of inf in float64
        return np.maximum(b[:, 2] - b[:, 0] + one, 0) * np.maximum(b[:, 3] - b[:, 1] + one, 0)


MODE_IOU, MODE_GIOU, MODE_DIOU, MODE_CIOU = 0, 1, 2, 3
#: association costs by name (the trackers' ``cost=``) -> mode of :func:`iou_kernel`
COST_MODES = {"iou": MODE_IOU, "giou": MODE_GIOU, "diou": MODE_DIOU, "ciou": MODE_CIOU}


@kernel
def iou_kernel(a, b, pixel_inclusive, mode, out):
    """Kernel-level overlap matrix ``out[i, j]`` of xyxy boxes ``a[i]`` and ``b[j]``.

    ``mode`` 0: IoU, 1: GIoU, 2: DIoU, 3: CIoU. Callable from other kernels (the trackers).

    Parameters
    ----------
    a, b : ndarray (N, 4) and (M, 4) float64
    pixel_inclusive : bool
    mode : int
        The overlap (:data:`COST_MODES`).
    out : ndarray (N, M) float64
        Written in place.

    Returns
    -------
    None
    """
    one = 1.0 if pixel_inclusive else 0.0
    for i in range(a.shape[0]):
        ax1, ay1, ax2, ay2 = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
        area_a = max(ax2 - ax1 + one, 0.0) * max(ay2 - ay1 + one, 0.0)
        for j in range(b.shape[0]):
            bx1, by1, bx2, by2 = b[j, 0], b[j, 1], b[j, 2], b[j, 3]
            area_b = max(bx2 - bx1 + one, 0.0) * max(by2 - by1 + one, 0.0)
            iw = min(ax2, bx2) - max(ax1, bx1) + one
            ih = min(ay2, by2) - max(ay1, by1) + one
            inter = iw * ih if iw > 0.0 and ih > 0.0 else 0.0
            union = area_a + area_b - inter
            iou = inter / union if union > 0.0 else 0.0
            if mode == 1:
                enclosing = ((max(ax2, bx2) - min(ax1, bx1) + one)
                             * (max(ay2, by2) - min(ay1, by1) + one))
                if enclosing > 0.0:
                    iou -= (enclosing - union) / enclosing
            elif mode >= 2:
                dx = (ax1 + ax2 - bx1 - bx2) / 2.0
                dy = (ay1 + ay2 - by1 - by2) / 2.0
                cw = max(ax2, bx2) - min(ax1, bx1)
                ch = max(ay2, by2) - min(ay1, by1)
                diagonal = cw * cw + ch * ch
                overlap = iou
                if diagonal > 0.0:
                    iou -= (dx * dx + dy * dy) / diagonal
                if mode == 3:  # and the aspect-ratio term, weighted by alpha = v / (1 - IoU + v)
                    wa, ha, wb, hb = ax2 - ax1, ay2 - ay1, bx2 - bx1, by2 - by1
                    if ha > 0.0 and hb > 0.0:
                        v = (4.0 / np.pi ** 2) * (np.arctan(wb / hb) - np.arctan(wa / ha)) ** 2
                        if 1.0 - overlap + v > 0.0:
                            iou -= v * v / (1.0 - overlap + v)
            out[i, j] = iou


@kernel(parallel=True)
def _iou_parallel(a, b, pixel_inclusive, mode, out, n_chunks):
    step = (a.shape[0] + n_chunks - 1) // n_chunks
    for c in numba.prange(n_chunks):
        lo = c * step
        hi = min(lo + step, a.shape[0])
        if lo < hi:
            iou_kernel(a[lo:hi], b, pixel_inclusive, mode, out[lo:hi])


def _matrix(a, b, pixel_inclusive, mode):
    return _overlaps(_check(a, "a"), _check(b, "b"), pixel_inclusive, mode)


def _overlaps(a, b, pixel_inclusive, mode):
    out = np.empty((len(a), len(b)))
    if len(a) * len(b) >= 250_000:
        _iou_parallel(a, b, bool(pixel_inclusive), mode, out, numba.get_num_threads())
    else:
        iou_kernel(a, b, bool(pixel_inclusive), mode, out)
    return out


def iou_checked(a, b, pixel_inclusive: bool = False) -> np.ndarray:
    """:func:`iou_matrix` for boxes already validated (float64 (N, 4), finite), as
    :func:`convert_checked` is for :func:`convert`: the trackers' per-frame call.

    Parameters
    ----------
    a, b : ndarray (N, 4) and (M, 4) float64
    pixel_inclusive : bool

    Returns
    -------
    ndarray (N, M) float64
    """
    return _overlaps(a, b, pixel_inclusive, MODE_IOU)


def iou_matrix(a, b, *, pixel_inclusive: bool = False) -> np.ndarray:
    """Intersection over union of every box of ``a`` (N, 4) with every box of ``b`` (M, 4).

    ``IoU = |A ∩ B| / |A ∪ B|`` for xyxy boxes: SORT's formula, without epsilon. With
    ``pixel_inclusive`` the sides count both end pixels (``w = x2 - x1 + 1``), as ByteTrack's
    ``cython_bbox.bbox_overlaps`` does.

    Parameters
    ----------
    a, b : array-like (N, 4) and (M, 4)
        Boxes ``x1, y1, x2, y2``.
    pixel_inclusive : bool
        Count both end pixels of each side.

    Returns
    -------
    ndarray, (N, M), float64, in [0, 1]

    Examples
    --------
    >>> from scratchvision import iou_matrix
    >>> iou_matrix([[0, 0, 10, 10]], [[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]).round(3).tolist()
    [[1.0, 0.333, 0.0]]
    """
    return _matrix(a, b, pixel_inclusive, MODE_IOU)


def giou_matrix(a, b) -> np.ndarray:
    """Generalised IoU (Rezatofighi et al. 2019): ``IoU - |C \\ (A ∪ B)| / |C|``, C the
    smallest box enclosing both; in [-1, 1]. doi:10.1109/CVPR.2019.00075

    Parameters
    ----------
    a, b : array-like (N, 4) and (M, 4)
        Boxes ``x1, y1, x2, y2``.

    Returns
    -------
    ndarray (N, M), float64, in [-1, 1]
    """
    return _matrix(a, b, False, MODE_GIOU)


def diou_matrix(a, b) -> np.ndarray:
    """Distance IoU (Zheng et al. 2020): ``IoU - d^2 / c^2``, d the distance between the
    centres and c the diagonal of the enclosing box; in [-1, 1]. doi:10.1609/aaai.v34i07.6999

    Parameters
    ----------
    a, b : array-like (N, 4) and (M, 4)
        Boxes ``x1, y1, x2, y2``.

    Returns
    -------
    ndarray (N, M), float64, in [-1, 1]
    """
    return _matrix(a, b, False, MODE_DIOU)


def ciou_matrix(a, b) -> np.ndarray:
    """Complete IoU (Zheng et al. 2021): the DIoU minus ``alpha v``, where ``v = 4 / pi^2
    (atan(w_b / h_b) - atan(w_a / h_a))^2`` measures the aspect ratios' disagreement and ``alpha =
    v / (1 - IoU + v)``; in [-1, 1]. doi:10.1109/TCYB.2021.3095305

    Parameters
    ----------
    a, b : array-like (N, 4) and (M, 4)
        Boxes ``x1, y1, x2, y2``.

    Returns
    -------
    ndarray (N, M), float64, in [-1, 1]
    """
    return _matrix(a, b, False, MODE_CIOU)


def clip_boxes(boxes, size) -> np.ndarray:
    """Clip xyxy boxes to an image of ``size = (height, width)`` (coordinates in [0, W], [0, H]).

    Parameters
    ----------
    boxes : array-like (N, 4)
        Boxes ``x1, y1, x2, y2``.
    size : (int, int)
        The image's (height, width).

    Returns
    -------
    ndarray (N, 4), float64
    """
    b = _check(boxes, "boxes").copy()
    try:
        h, w = (float(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"size must be a pair (height, width), got {size!r}") from None
    if not (h > 0 and w > 0 and np.isfinite(h) and np.isfinite(w)):
        raise ValueError(f"size must be positive and finite, got {size!r}")
    b[:, [0, 2]] = np.clip(b[:, [0, 2]], 0, w)
    b[:, [1, 3]] = np.clip(b[:, [1, 3]], 0, h)
    return b


@warmup_hook
def _warmup():
    a = np.array([[0.0, 0.0, 2.0, 2.0]])
    for fn in (iou_matrix, giou_matrix, diou_matrix):
        fn(a, a)
    iou_matrix(a, a, pixel_inclusive=True)
    convert_checked(a, "xyxy", "xysr")
