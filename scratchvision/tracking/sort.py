"""SORT: Simple Online and Realtime Tracking (Bewley et al. 2016).

Each track is a constant-velocity Kalman filter over ``[x, y, s, r]`` (box centre, area, aspect
ratio). Per frame: predict every track; match detections to predictions by IoU with an optimal
assignment (when the pairs above the IoU threshold are already one-to-one, they are taken
directly); reject matches below the threshold; update matched tracks; start a track for every
unmatched detection; report tracks updated this frame that have been hit ``min_hits`` frames in a
row (or every track during the first ``min_hits`` frames); delete tracks unmatched for more than
``max_age`` frames. This reproduces the reference sort.py step by step (same state, noise,
tie rules and output order), with one id counter per tracker instance.

References
----------
A. Bewley, Z. Ge, L. Ott, F. Ramos, B. Upcroft. "Simple Online and Realtime Tracking." ICIP
2016. doi:10.1109/ICIP.2016.7533003
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_choice, check_float, check_int
from ..boxes import COST_MODES, XYSR, XYXY, convert_kernel, iou_kernel
from ..kalman.kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import xysr_model
from ._base import (STATE_CONFIRMED, STATE_LOST, STATE_TENTATIVE, MultiObjectTracker, StepRecord, check_detections,
                    gated_association, pack_step, remove_rows, timed_noise, timed_transition)

__all__ = ["Sort", "SortTable", "SortMotion", "SortParams"]

#: Columns of the integer track table ``info`` (OC-SORT's table starts with the same six).
ID, TIME_SINCE_UPDATE, HITS, HIT_STREAK, AGE, CLASS = range(6)


class SortTable(NamedTuple):
    """SORT's track table: row ``t`` is one track (rows ``< n`` live)."""

    #: (T, 7) Kalman means ``[x, y, s, r, vx, vy, vs]`` (centre, area, aspect ratio, velocities)
    X: np.ndarray
    #: (T, 7, 7) Kalman covariances
    P: np.ndarray
    #: (T, 6) int64: :data:`ID`, :data:`TIME_SINCE_UPDATE`, :data:`HITS`, :data:`HIT_STREAK`,
    #: :data:`AGE`, :data:`CLASS`
    info: np.ndarray
    #: (T,) score of the last matched detection
    last_score: np.ndarray


class SortMotion(NamedTuple):
    """The Kalman model of one SORT frame."""

    #: (7, 7) transition over the frame's elapsed time
    F: np.ndarray
    #: (1, 7, 7) process noise over it
    Q: np.ndarray
    #: frame periods elapsed (ages and misses advance by this)
    steps: int
    #: (4, 7) measurement matrix
    H: np.ndarray
    #: (1, 4, 4) measurement noise
    R: np.ndarray
    #: (7, 7) covariance of a new track
    P0: np.ndarray


class SortParams(NamedTuple):
    """SORT's thresholds, as :func:`sort_frame` reads them."""

    max_age: int
    min_hits: int
    iou_threshold: float
    class_aware: bool
    #: the association cost's code (:data:`~scratchvision.boxes.COST_MODES`)
    cost_mode: int


class Sort(MultiObjectTracker):
    """SORT multi-object tracker.

    Parameters
    ----------
    max_age : int
        Frames a track may go unmatched before it is deleted.
    min_hits : int
        Consecutive hits before a track is reported (all tracks are reported while
        ``frame <= min_hits``).
    iou_threshold : float
        Minimum IoU of a match.
    class_aware : bool
        Only match detections and tracks of the same class (off: the reference behaviour).
    cost : {"iou", "giou", "diou", "ciou"}
        The overlap the association scores pairs by (default: IoU, the paper's; the generalised,
        distance and complete IoU of :mod:`scratchvision.boxes` also rank boxes that do not
        overlap); the thresholds apply to it unchanged.
    frame_rate : float
        With timestamps (``update(..., timestamp=)``), the frames per second the frame counts
        (``max_age``, ``min_hits``' first frames) refer to (:class:`FrameClock`).

    Notes
    -----
    The tracks live in a :class:`SortTable` of rows, one per track: the Kalman states ``X``
    (T, 7) and covariances ``P`` (T, 7, 7), the integer columns ``info`` (T, 6) named by
    :data:`ID`, :data:`TIME_SINCE_UPDATE`, :data:`HITS`, :data:`HIT_STREAK`, :data:`AGE`,
    :data:`CLASS`, and the last matched score ``last_score``. One call of the compiled
    :func:`sort_frame` runs a whole frame on it.

    Examples
    --------
    >>> import numpy as np
    >>> tracker = Sort()
    >>> out = tracker.update(np.array([[10, 10, 50, 80, 0.9]]))
    >>> out[:, 4]  # ids start at 1
    array([1.])
    """

    STATE_FORMAT = "xysr"
    COST_STAGES = ("iou",)

    def __init__(self, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3, *,
                 class_aware: bool = False, cost: str = "iou", frame_rate: float = 30.0):
        self.max_age = check_int(max_age, "max_age", low=0)
        self.min_hits = check_int(min_hits, "min_hits", low=0)
        self.iou_threshold = check_float(iou_threshold, "iou_threshold", low=0.0, high=1.0)
        self.class_aware = bool(class_aware)
        self.cost = check_choice(cost, "cost", tuple(COST_MODES))
        self._model = xysr_model()
        self._Q = self._model.Q[None].copy()
        self._R = self._model.R[None].copy()
        super().__init__(frame_rate)

    def _empty_table(self):
        return SortTable(np.zeros((0, 7)), np.zeros((0, 7, 7)), np.zeros((0, 6), np.int64), np.zeros(0))

    def update(self, dets=None, warp=None, timestamp=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or an empty array for a frame without
            detections (call ``update`` on every frame).
        warp : array-like (2, 3) or (3, 3), optional
            The camera's motion since the last frame (:class:`~scratchvision.tracking.CameraMotion`),
            applied to the tracks' states first (:mod:`~scratchvision.tracking.camera`).
        timestamp : float, optional
            The frame's time in seconds, for a variable frame rate (:class:`FrameClock`: the
            filters predict over the elapsed time; ``max_age`` and ``min_hits``' first frames
            count frames of ``1 / frame_rate`` s).

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the reported tracks, in the
            reference's order (newest track first); ``det_idx`` is the row of ``dets`` each track
            was matched to this frame.
        """
        dets = check_detections(dets)
        steps, dt = self._start_frame(warp, timestamp, len(dets[0]))
        m = self._model
        motion = (timed_transition(m.F, dt), timed_noise(self._Q, dt), steps, m.H, self._R, m.P0)  # SortMotion
        params = (self.max_age, self.min_hits, self.iou_threshold, self.class_aware, COST_MODES[self.cost])
        self._n, self._next_id, out, iou, log = sort_frame(tuple(self._table), self._n, self._next_id,
                                                            self.frame_count, dets, motion, params)  # SortParams
        self._record = StepRecord(self.frame_count, {"iou": iou}, log)
        return out


@kernel
def sort_frame(table, n, next_id, frame, dets, motion, params):
    """One SORT frame on the track table (rows ``< n`` live; room for ``n + len(boxes)``).

    1. Predict every track (zeroing the area velocity when it would make the area
       non-positive, as sort.py does); age it, reset the hit streak of tracks that missed the
       last frame; delete tracks whose predicted box is not finite.
    2. IoU of detections and predicted boxes; :func:`gated_association`.
    3. Kalman update (Joseph form) of matched tracks with their detection in ``[x, y, s, r]``.
    4. A new track (zero velocity, covariance ``P0``) for each unmatched detection, in the
       reference's order.
    5. Report, newest track first, the tracks updated this frame with a hit streak of
       ``min_hits`` (all of them while ``frame <= min_hits``); delete tracks unmatched for more
       than ``max_age`` frames.

    Parameters
    ----------
    table : :class:`SortTable` as a plain tuple (X, P, info, last_score), updated in place
    n : int
        Live rows.
    next_id : int
        The id the next new track gets.
    frame : int
        The frame number (``Sort.frame_count``).
    dets : tuple (boxes, scores, classes, rows)
        The frame's detections (:func:`~scratchvision.tracking._base.check_detections`).
    motion : :class:`SortMotion` as a plain tuple
    params : :class:`SortParams` as a plain tuple
        (Numba types a plain tuple argument ten times faster than a NamedTuple, a microsecond a
        call, so the NamedTuples are unpacked here.)

    Returns
    -------
    n, next_id, out (M, 8), iou (D, T), and the packed record (:func:`pack_step`): matches
    (detection row, track id), unmatched detection rows, unmatched track ids, removed ids, ids
    of the live tracks, their states
    """
    X, P, info, last_score = table
    boxes, scores, classes, rows = dets
    F, Q, steps, H, R, P0 = motion
    max_age, min_hits, iou_threshold, class_aware, cost_mode = params
    n_det = boxes.shape[0]
    removed = np.empty(n + n_det, np.int64)
    predicted, dead = predict_tracks(X, P, info, n, F, Q, steps)
    n, n_removed = remove_rows(info, ID, (X, P, last_score), n, dead, removed, 0)

    iou = np.empty((n_det, n))
    iou_kernel(boxes, predicted, False, cost_mode, iou)
    if class_aware:
        for d in range(n_det):
            for t in range(n):
                if classes[d] != info[t, CLASS]:
                    iou[d, t] = 0.0
    matches, unmatched_d, unmatched_t = gated_association(iou, iou_threshold, iou)
    matched = np.empty((len(matches), 2), np.int64)
    unmatched_ids = info[unmatched_t, ID]

    Z = np.full((n, 4), np.nan)
    det_of_track = np.full(n + len(unmatched_d), -1, np.int64)
    for j in range(len(matches)):
        d, t = matches[j, 0], matches[j, 1]
        matched[j, 0], matched[j, 1] = rows[d], info[t, ID]
        convert_kernel(boxes[d:d + 1], XYXY, XYSR, Z[t:t + 1])
        info[t, TIME_SINCE_UPDATE] = 0
        info[t, HITS] += 1
        info[t, HIT_STREAK] += 1
        last_score[t] = scores[d]
        info[t, CLASS] = classes[d]
        det_of_track[t] = rows[d]
    status = np.empty(n, np.int64)
    batch_update_kernel(X[:n], P[:n], Z, H, R, True, F, status)

    for d in unmatched_d:
        X[n] = 0.0
        convert_kernel(boxes[d:d + 1], XYXY, XYSR, X[n:n + 1, :4])
        P[n] = P0
        info[n] = 0
        info[n, ID], info[n, CLASS] = next_id, classes[d]
        last_score[n] = scores[d]
        det_of_track[n] = rows[d]
        next_id += 1
        n += 1

    reported = reported_tracks(info, n, frame, min_hits)
    out = np.empty((len(reported), 8))
    for j in range(len(reported)):
        k = reported[j]
        convert_kernel(X[k:k + 1, :4], XYSR, XYXY, out[j:j + 1, :4])
        out[j, 4], out[j, 5], out[j, 6], out[j, 7] = info[k, ID], last_score[k], info[k, CLASS], det_of_track[k]

    n, n_removed = remove_rows(info, ID, (X, P, last_score), n, info[:n, TIME_SINCE_UPDATE] > max_age, removed,
                               n_removed)
    return n, next_id, out, iou, pack_step(matched, rows[unmatched_d], unmatched_ids, removed[:n_removed], info[:n, ID],
                                           track_states(info, n, min_hits))


@kernel
def predict_tracks(X, P, info, n, F, Q, steps):
    """SORT's predict of the track rows ``< n`` (OC-SORT's too) over the ``F[2, 6]`` frames
    ``F`` spans: the area velocity is zeroed where it would make the area non-positive, the
    filter predicts, each track ages by ``steps`` and the hit streak of a track that missed the
    last frame restarts. Returns the predicted boxes of the tracks whose prediction is finite,
    in order, and the mask of the others (to be deleted)."""
    for k in range(n):
        if X[k, 2] + F[2, 6] * X[k, 6] <= 0:
            X[k, 6] = 0.0
    batch_predict_kernel(X[:n], P[:n], F, Q)
    for k in range(n):
        info[k, AGE] += steps
        if info[k, TIME_SINCE_UPDATE] > 0:
            info[k, HIT_STREAK] = 0
        info[k, TIME_SINCE_UPDATE] += steps
    predicted = np.empty((n, 4))
    convert_kernel(X[:n, :4], XYSR, XYXY, predicted)
    dead = np.zeros(n, np.bool_)
    alive = 0
    for k in range(n):
        dead[k] = not np.isfinite(predicted[k]).all()
        if not dead[k]:
            predicted[alive] = predicted[k]
            alive += 1
    return predicted[:alive], dead


@kernel
def reported_tracks(info, n, frame, min_hits):
    """Rows of the tracks SORT (and OC-SORT) report, newest first: updated this frame, with a
    hit streak of ``min_hits`` or during the first ``min_hits`` frames."""
    out = np.empty(n, np.int64)
    j = 0
    for k in range(n - 1, -1, -1):
        if info[k, TIME_SINCE_UPDATE] < 1 and (info[k, HIT_STREAK] >= min_hits or frame <= min_hits):
            out[j] = k
            j += 1
    return out[:j]


@kernel
def track_states(info, n, min_hits):
    """State codes of the track rows ``< n``: confirmed once the hit streak reaches
    ``min_hits``, else lost when missed this frame, else tentative."""
    states = np.empty(n, np.int8)
    for k in range(n):
        if info[k, HIT_STREAK] >= min_hits:
            states[k] = STATE_CONFIRMED
        elif info[k, TIME_SINCE_UPDATE] > 0:
            states[k] = STATE_LOST
        else:
            states[k] = STATE_TENTATIVE
    return states


@warmup_hook
def _warmup():
    tracker = Sort(min_hits=0)
    det = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.8]])
    tracker.update(det)
    tracker.update(det + 1.0)
    tracker.update(None)
