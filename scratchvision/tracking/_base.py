"""What every multi-object tracker shares: detection checks, the output rows, the per-frame record
of what the tracker did, and the per-instance id counter."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .._jit import kernel
from .._validate import as_array
from ..assignment import lapjv
from ..kalman.models import MAX_COORDINATE

__all__ = ["OUTPUT_COLUMNS", "TrackerStep", "check_detections", "output_rows", "max_score_pairs",
           "gated_association"]

#: Columns of every tracker's output rows.
OUTPUT_COLUMNS = ("x1", "y1", "x2", "y2", "id", "score", "class", "det_idx")


def check_detections(dets, name: str = "dets"):
    """Validate one frame's detections.

    Accepts (N, 4) ``x1, y1, x2, y2`` (score taken as 1), (N, 5) with a score, or (N, 6) with a
    score and a class id; ``None`` or an empty array means no detections. Rows with NaN/inf raise
    ValueError, as do coordinates beyond 1e12; rows with non-positive width or height are dropped with a RuntimeWarning (their
    row numbers are never reported as ``det_idx``). Scores are used as given (any finite value).

    Returns
    -------
    boxes (K, 4) float64, scores (K,) float64, classes (K,) int64 (-1: none), rows (K,) int64
        ``rows`` are the kept rows' indices in ``dets``.
    """
    a = np.zeros((0, 5)) if dets is None else as_array(dets, name)
    if a.size == 0:
        a = np.zeros((0, 5))
    if a.ndim != 2 or a.shape[1] not in (4, 5, 6):
        raise ValueError(f"{name} must have shape (N, 4), (N, 5) or (N, 6), got {a.shape}")
    a = a.astype(np.float64, copy=False)
    n = len(a)
    boxes, scores, classes, rows = np.empty((n, 4)), np.empty(n), np.empty(n, np.int64), np.empty(n, np.int64)
    status, kept = _scan_detections(a, MAX_COORDINATE, boxes, scores, classes, rows)
    if status == _NOT_FINITE:
        raise ValueError(f"{name} must be finite")
    if status == _TOO_FAR:
        raise ValueError(f"{name}: box coordinates must be within +-{MAX_COORDINATE:g}")
    if kept < n:
        warnings.warn(f"{name}: dropped {n - kept} boxes with non-positive width or height", RuntimeWarning,
                      stacklevel=3)
    if status == _CLASS_NOT_INTEGER:
        raise ValueError(f"{name}: class ids (column 5) must be integers")
    return boxes[:kept], scores[:kept], classes[:kept], rows[:kept]


_OK, _NOT_FINITE, _TOO_FAR, _CLASS_NOT_INTEGER = 0, 1, 2, 3


@kernel
def _scan_detections(a, max_coordinate, boxes, scores, classes, rows):
    """One frame's detection rows checked (in :func:`check_detections`' order of errors) and the
    rows with positive width and height copied out: returns ``(status, how many were kept)``."""
    n, m = a.shape
    for i in range(n):
        for j in range(m):
            if not np.isfinite(a[i, j]):
                return _NOT_FINITE, 0
    for i in range(n):
        for j in range(4):
            if abs(a[i, j]) > max_coordinate:
                return _TOO_FAR, 0
    kept = 0
    for i in range(n):
        if a[i, 2] > a[i, 0] and a[i, 3] > a[i, 1]:
            boxes[kept, 0], boxes[kept, 1], boxes[kept, 2], boxes[kept, 3] = a[i, 0], a[i, 1], a[i, 2], a[i, 3]
            scores[kept] = a[i, 4] if m >= 5 else 1.0
            classes[kept] = np.int64(a[i, 5]) if m == 6 else -1
            rows[kept] = i
            kept += 1
    if m == 6:
        for i in range(n):
            if a[i, 5] != np.round(a[i, 5]):
                return _CLASS_NOT_INTEGER, kept
    return _OK, kept


def max_score_pairs(score):
    """Pairs (row, column), in row order, of the assignment maximising ``score`` (lap-style, any
    shape), as sort.py's ``linear_assignment(-score)``."""
    _, x, _ = lapjv(-score, extend_cost=True)
    return np.array([[r, c] for r, c in enumerate(x) if c >= 0], np.int64).reshape(-1, 2)


def gated_association(iou, threshold, score=None):
    """The association of SORT and OC-SORT (detections by tracks).

    If the pairs with IoU above ``threshold`` are already one-to-one they are taken; otherwise
    the assignment maximising ``score`` (default: the IoU) is solved. Pairs with IoU below the
    threshold are then rejected.

    Returns
    -------
    matches (K, 2), unmatched detections, unmatched tracks : int64 arrays
        The unmatched detections come in the reference order: those absent from the
        assignment in ascending order, then the rejected ones in assignment order (this order
        decides the order in which new tracks, and so new ids, are created).
    """
    n_det, n_trk = iou.shape
    if min(n_det, n_trk) > 0:
        above = iou > threshold
        if above.sum(axis=1).max() == 1 and above.sum(axis=0).max() == 1:
            pairs = np.argwhere(above)
        else:
            pairs = max_score_pairs(iou if score is None else score)
    else:
        pairs = np.zeros((0, 2), np.int64)
    matched_d, matched_t = set(pairs[:, 0].tolist()), set(pairs[:, 1].tolist())
    unmatched_d = [d for d in range(n_det) if d not in matched_d]
    unmatched_t = [t for t in range(n_trk) if t not in matched_t]
    keep = []
    for d, t in pairs:
        if iou[d, t] < threshold:
            unmatched_d.append(d)
            unmatched_t.append(t)
        else:
            keep.append((d, t))
    return (np.array(keep, np.int64).reshape(-1, 2), np.array(unmatched_d, np.int64),
            np.array(unmatched_t, np.int64))


def output_rows(boxes, ids, scores, classes, det_idx):
    """Stack the output columns ``x1, y1, x2, y2, id, score, class, det_idx`` into (M, 8)."""
    out = np.empty((len(ids), 8))
    out[:, :4] = boxes
    out[:, 4] = ids
    out[:, 5] = scores
    out[:, 6] = classes
    out[:, 7] = det_idx
    return out


@dataclass
class TrackerStep:
    """What a tracker did on its last ``update()`` (``tracker.last_step``).

    Attributes
    ----------
    frame : int
        Number of updates so far (1 on the first frame).
    costs : dict of str -> ndarray
        The cost (or IoU) matrices of each association stage, detections by tracks.
    matches : ndarray (K, 2), int64
        ``(detection row, track id)`` pairs matched this frame.
    unmatched_detections : ndarray, int64
        Detection rows that started no track or started a new one.
    unmatched_tracks : ndarray, int64
        Ids of tracks that found no detection.
    track_ids, track_states : ndarray
        Every track alive after the update and its state (``"tentative"``, ``"confirmed"``,
        ``"lost"``), and the ids removed this frame in ``removed``.
    """

    frame: int
    costs: dict = field(default_factory=dict)
    matches: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    unmatched_detections: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    unmatched_tracks: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    track_states: np.ndarray = field(default_factory=lambda: np.zeros(0, "<U9"))
    removed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
