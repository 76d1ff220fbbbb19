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

import numpy as np

from .._validate import check_float, check_int
from ..boxes import convert_checked, iou_checked
from ..kalman._kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import xysr_initiate, xysr_model
from ._base import TrackerStep, check_detections, gated_association, output_rows

__all__ = ["Sort"]


class Sort:
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

    Examples
    --------
    >>> import numpy as np
    >>> tracker = Sort()
    >>> out = tracker.update(np.array([[10, 10, 50, 80, 0.9]]))
    >>> out[:, 4]  # ids start at 1
    array([1.])
    """

    def __init__(self, max_age: int = 1, min_hits: int = 3, iou_threshold: float = 0.3, *,
                 class_aware: bool = False):
        self.max_age = check_int(max_age, "max_age", low=0)
        self.min_hits = check_int(min_hits, "min_hits", low=0)
        self.iou_threshold = check_float(iou_threshold, "iou_threshold", low=0.0, high=1.0)
        self.class_aware = bool(class_aware)
        self._model = xysr_model()
        self._Q = self._model.Q[None].copy()
        self._R = self._model.R[None].copy()
        self.reset()

    def reset(self):
        """Forget every track and restart ids at 1."""
        self.frame_count = 0
        self._next_id = 1
        self._X = np.zeros((0, 7))
        self._P = np.zeros((0, 7, 7))
        self._ids = np.zeros(0, np.int64)
        self._time_since_update = np.zeros(0, np.int64)
        self._hits = np.zeros(0, np.int64)
        self._hit_streak = np.zeros(0, np.int64)
        self._age = np.zeros(0, np.int64)
        self._score = np.zeros(0)
        self._class = np.zeros(0, np.int64)
        self.last_step = TrackerStep(frame=0)

    def _keep(self, mask):
        for name in ("_X", "_P", "_ids", "_time_since_update", "_hits", "_hit_streak", "_age",
                     "_score", "_class"):
            setattr(self, name, np.ascontiguousarray(getattr(self, name)[mask]))

    @property
    def boxes(self):
        """Current (posterior) box of every live track, (T, 4) x1, y1, x2, y2."""
        return convert_checked(self._X[:, :4], "xysr", "xyxy")

    def update(self, dets=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or an empty array for a frame without
            detections (call ``update`` on every frame).

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the reported tracks, in the
            reference's order (newest track first); ``det_idx`` is the row of ``dets`` each track
            was matched to this frame.
        """
        boxes, scores, classes, rows = check_detections(dets)
        self.frame_count += 1
        step = TrackerStep(frame=self.frame_count)
        m = self._model
        # Predict: SORT zeroes the area velocity when it would make the area non-positive.
        if len(self._ids):
            shrink = self._X[:, 6] + self._X[:, 2] <= 0
            self._X[shrink, 6] = 0.0
            batch_predict_kernel(self._X, self._P, m.F, self._Q)
            self._age += 1
            self._hit_streak[self._time_since_update > 0] = 0
            self._time_since_update += 1
            with np.errstate(invalid="ignore"):
                predicted = convert_checked(self._X[:, :4], "xysr", "xyxy")
            alive = np.isfinite(predicted).all(axis=1)
            if not alive.all():
                step.removed = self._ids[~alive]
                self._keep(alive)
                predicted = predicted[alive]
        else:
            predicted = np.zeros((0, 4))
        matches, unmatched_dets = self._associate(boxes, classes, predicted, step)
        step.matches = np.column_stack([rows[matches[:, 0]], self._ids[matches[:, 1]]])
        # Update the matched tracks.
        if len(matches):
            d, t = matches[:, 0], matches[:, 1]
            Z = np.full((len(self._ids), 4), np.nan)
            Z[t] = convert_checked(boxes[d], "xyxy", "xysr")
            status = np.empty(len(self._ids), np.int64)
            batch_update_kernel(self._X, self._P, Z, m.H, self._R, True, m.F, status)
            self._time_since_update[t] = 0
            self._hits[t] += 1
            self._hit_streak[t] += 1
            self._score[t] = scores[d]
            self._class[t] = classes[d]
        det_of_track = np.full(len(self._ids), -1, np.int64)
        if len(matches):
            det_of_track[matches[:, 1]] = rows[matches[:, 0]]
        # New tracks for the unmatched detections, in the reference's order.
        if len(unmatched_dets):
            X0, P0 = xysr_initiate(convert_checked(boxes[unmatched_dets], "xyxy", "xysr"))
            n_new = len(unmatched_dets)
            self._X = np.concatenate([self._X, X0])
            self._P = np.concatenate([self._P, P0])
            self._ids = np.concatenate([self._ids, np.arange(self._next_id, self._next_id + n_new)])
            self._next_id += n_new
            zeros = np.zeros(n_new, np.int64)
            self._time_since_update = np.concatenate([self._time_since_update, zeros])
            self._hits = np.concatenate([self._hits, zeros])
            self._hit_streak = np.concatenate([self._hit_streak, zeros])
            self._age = np.concatenate([self._age, zeros])
            self._score = np.concatenate([self._score, scores[unmatched_dets]])
            self._class = np.concatenate([self._class, classes[unmatched_dets]])
            det_of_track = np.concatenate([det_of_track, rows[unmatched_dets]])
        # Report (newest first, as sort.py walks its list backwards), then delete stale tracks.
        report = (self._time_since_update < 1) & (
            (self._hit_streak >= self.min_hits) | (self.frame_count <= self.min_hits))
        order = np.flatnonzero(report)[::-1]
        out = output_rows(self.boxes[order], self._ids[order], self._score[order], self._class[order],
                          det_of_track[order])
        stale = self._time_since_update > self.max_age
        step.removed = np.concatenate([step.removed, self._ids[stale]])
        self._keep(~stale)
        step.unmatched_detections = rows[unmatched_dets]
        step.track_ids = self._ids.copy()
        step.track_states = np.where(self._hit_streak >= self.min_hits, "confirmed",
                                     np.where(self._time_since_update > 0, "lost", "tentative"))
        self.last_step = step
        return out

    def _associate(self, boxes, classes, predicted, step):
        """sort.py's associate_detections_to_trackers: returns matches (K, 2) of (detection,
        track) indices and the unmatched detections in the reference's order."""
        n_det, n_trk = len(boxes), len(predicted)
        iou = iou_checked(boxes, predicted)
        if self.class_aware and n_det and n_trk:
            iou[classes[:, None] != self._class[None, :]] = 0.0
        step.costs = {"iou": iou}
        matches, unmatched_d, unmatched_t = gated_association(iou, self.iou_threshold)
        step.unmatched_tracks = self._ids[unmatched_t]
        return matches, unmatched_d
