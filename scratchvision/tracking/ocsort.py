"""OC-SORT: observation-centric SORT (Cao et al. 2023).

SORT's Kalman filter and IoU matching, with three additions that lean on the detector's
observations rather than on the filter's extrapolation:

* **OCM** (observation-centric momentum): the first association adds to the IoU a term rewarding
  detections that continue a track's direction of motion, measured between observations
  ``delta_t`` frames apart (``inertia`` weights it, scaled by the detection score);
* **OCR** (observation-centric recovery): detections still unmatched are matched to the *last
  observed boxes* of tracks still unmatched;
* **ORU** (observation-centric re-update): when a track that missed frames is observed again, its
  filter is rolled back to the first missed frame and re-run over virtual observations
  interpolated linearly (in centre, width, height) between the last and the new observation, then
  updated with the new observation.

Reported boxes are the last observed detection boxes. This reproduces the official code's step
order, tie rules and output (without its evaluator's head padding and box filter).

References
----------
J. Cao, J. Pang, X. Weng, R. Khirodkar, K. Kitani. "Observation-Centric SORT: Rethinking SORT
for Robust Multi-Object Tracking." CVPR 2023. doi:10.1109/CVPR52729.2023.00934
"""

from __future__ import annotations

import numpy as np

from .._validate import check_float, check_int
from ..boxes import convert_checked, iou_checked
from ..kalman.filter import KalmanFilter
from ..kalman.models import xysr_model
from ._base import TrackerStep, check_detections, gated_association, max_score_pairs, output_rows

__all__ = ["OCSort"]

_NO_OBSERVATION = np.array([-1.0, -1.0, -1.0, -1.0, -1.0])


def _z(box):
    """Box ``x1, y1, x2, y2`` -> OC-SORT's measurement ``[x, y, s, r]`` (``r = w / (h + 1e-6)``)."""
    w = box[2] - box[0]
    h = box[3] - box[1]
    return np.array([box[0] + w / 2.0, box[1] + h / 2.0, w * h, w / (h + 1e-6)])


def _direction(a, b):
    """Unit vector (dy, dx) from the centre of box ``a`` to that of box ``b`` (norm + 1e-6)."""
    ax, ay = (a[0] + a[2]) / 2.0, (a[1] + a[3]) / 2.0
    bx, by = (b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0
    norm = np.sqrt((by - ay) ** 2 + (bx - ax) ** 2) + 1e-6
    return np.array([by - ay, bx - ax]) / norm


class _Track:
    """One OC-SORT track: SORT's filter plus the observation history ORU and OCM use."""

    def __init__(self, box, score, cls, track_id, delta_t):
        m = xysr_model()
        self.kf = KalmanFilter(7, 4)
        self.kf.F, self.kf.H, self.kf.Q, self.kf.R, self.kf.P = m.F, m.H, m.Q, m.R, m.P0
        self.kf.x[:4] = _z(box)
        self.id = track_id
        self.delta_t = delta_t
        self.time_since_update = 0
        self.hits = self.hit_streak = self.age = 0
        self.last_observation = _NO_OBSERVATION
        self.observations = {}
        self.velocity = None
        self.history = []  # measurement per update call (None when missed), for ORU
        self.observed = False
        self.frozen = None
        self.score, self.cls, self.det_idx = score, cls, -1

    def predict(self):
        if self.kf.x[6] + self.kf.x[2] <= 0:
            self.kf.x[6] = 0.0
        self.kf.predict()
        self.age += 1
        if self.time_since_update > 0:
            self.hit_streak = 0
        self.time_since_update += 1

    def previous_observation(self):
        """The observation ``delta_t`` ages back (else the closest younger one, else the last)."""
        if not self.observations:
            return _NO_OBSERVATION
        for dt in range(self.delta_t, 0, -1):
            if self.age - dt in self.observations:
                return self.observations[self.age - dt]
        return self.observations[max(self.observations)]

    def update(self, obs):
        """Update with an observation ``x1, y1, x2, y2, score`` or with None (a miss)."""
        if obs is None:
            self.history.append(None)
            if self.observed:  # first miss: keep the filter as it is now, for ORU
                self.frozen = (self.kf.x.copy(), self.kf.P.copy(), len(self.history) - 1)
            self.observed = False
            self.kf.update(None)
            return
        if self.last_observation.sum() >= 0:
            previous = None
            for dt in range(self.delta_t, 0, -1):
                if self.age - dt in self.observations:
                    previous = self.observations[self.age - dt]
                    break
            self.velocity = _direction(self.last_observation if previous is None else previous, obs)
        self.last_observation = obs
        self.observations[self.age] = obs
        self.time_since_update = 0
        self.hits += 1
        self.hit_streak += 1
        z = _z(obs)
        self.history.append(z)
        if not self.observed and self.frozen is not None:
            self._re_update()
        self.observed = True
        self.kf.update(z)

    def _re_update(self):
        """ORU: roll back to the first miss and replay linearly interpolated observations."""
        full = self.history
        x, P, kept = self.frozen
        self.kf.x, self.kf.P = x, P
        real = [i for i, z in enumerate(full) if z is not None]
        i1, i2 = real[-2], real[-1]
        self.history = full[:kept]
        (cx1, cy1, s1, r1), (cx2, cy2, s2, r2) = full[i1], full[i2]
        w1, h1 = np.sqrt(s1 * r1), np.sqrt(s1 / r1)
        w2, h2 = np.sqrt(s2 * r2), np.sqrt(s2 / r2)
        gap = i2 - i1
        dx, dy, dw, dh = (cx2 - cx1) / gap, (cy2 - cy1) / gap, (w2 - w1) / gap, (h2 - h1) / gap
        for i in range(gap):
            w, h = w1 + (i + 1) * dw, h1 + (i + 1) * dh
            virtual = np.array([cx1 + (i + 1) * dx, cy1 + (i + 1) * dy, w * h, w / h])
            self.history.append(virtual)
            self.kf.update(virtual)
            if i != gap - 1:
                self.kf.predict()

    def box(self):
        if self.last_observation.sum() < 0:
            return convert_checked(self.kf.x[None, :4], "xysr", "xyxy")[0]
        return self.last_observation[:4]


class OCSort:
    """OC-SORT multi-object tracker.

    Parameters
    ----------
    det_thresh : float
        Detections scoring at or below this are ignored.
    max_age : int
        Frames a track may go unmatched before it is deleted.
    min_hits : int
        Consecutive hits before a track is reported.
    iou_threshold : float
        Minimum IoU of a match.
    delta_t : int
        Frames between the observations that give a track's direction (OCM).
    inertia : float
        Weight of the direction term in the first association.
    class_aware : bool
        Only match detections and tracks of the same class.
    """

    def __init__(self, det_thresh: float = 0.6, max_age: int = 30, min_hits: int = 3,
                 iou_threshold: float = 0.3, delta_t: int = 3, inertia: float = 0.2, *,
                 class_aware: bool = False):
        self.det_thresh = check_float(det_thresh, "det_thresh")
        self.max_age = check_int(max_age, "max_age", low=0)
        self.min_hits = check_int(min_hits, "min_hits", low=0)
        self.iou_threshold = check_float(iou_threshold, "iou_threshold", low=0.0, high=1.0)
        self.delta_t = check_int(delta_t, "delta_t", low=1)
        self.inertia = check_float(inertia, "inertia", low=0.0)
        self.class_aware = bool(class_aware)
        self.reset()

    def reset(self):
        """Forget every track and restart ids at 1."""
        self.frame_count = 0
        self._next_id = 1
        self._tracks = []
        self.last_step = TrackerStep(frame=0)

    def update(self, dets=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or empty for a frame without
            detections.

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the reported tracks (newest first,
            as the official code), boxes being the last observed detection boxes.
        """
        boxes, scores, classes, rows = check_detections(dets)
        self.frame_count += 1
        step = TrackerStep(frame=self.frame_count)
        keep = scores > self.det_thresh
        obs = np.column_stack([boxes[keep], scores[keep]])
        d_cls, d_rows = classes[keep], rows[keep]
        for t in self._tracks:
            t.det_idx = -1
        for t in self._tracks:
            t.predict()
        with np.errstate(invalid="ignore"):
            predicted = convert_checked(np.array([t.kf.x[:4] for t in self._tracks]).reshape(-1, 4), "xysr", "xyxy")
        alive = np.isfinite(predicted).all(axis=1)
        if not alive.all():
            step.removed = np.array([t.id for t, a in zip(self._tracks, alive) if not a], np.int64)
            self._tracks = [t for t, a in zip(self._tracks, alive) if a]
            predicted = predicted[alive]
        tracks = self._tracks
        velocities = np.array([t.velocity if t.velocity is not None else np.zeros(2) for t in tracks]).reshape(-1, 2)
        last_boxes = np.array([t.last_observation for t in tracks]).reshape(-1, 5)
        previous = np.array([t.previous_observation() for t in tracks]).reshape(-1, 5)

        # First association: IoU plus the direction term (OCM).
        matches, u_det, u_trk = self._associate(obs, d_cls, predicted, velocities, previous, step)
        for d, k in matches:
            self._observe(tracks[k], obs[d], d_cls[d], d_rows[d])
        step_matches = [(d_rows[d], tracks[k].id) for d, k in matches]

        # Second association against the last observed boxes (OCR).
        if len(u_det) and len(u_trk):
            iou = iou_checked(obs[u_det, :4], last_boxes[u_trk, :4])
            if self.class_aware:
                iou[d_cls[u_det][:, None] != np.array([tracks[k].cls for k in u_trk])[None, :]] = 0.0
            step.costs["recovery_iou"] = iou
            if iou.max() > self.iou_threshold:
                used_d, used_t = [], []
                for i, j in max_score_pairs(iou):
                    if iou[i, j] < self.iou_threshold:
                        continue
                    d, k = u_det[i], u_trk[j]
                    self._observe(tracks[k], obs[d], d_cls[d], d_rows[d])
                    step_matches.append((d_rows[d], tracks[k].id))
                    used_d.append(d)
                    used_t.append(k)
                u_det = np.setdiff1d(u_det, np.array(used_d, np.int64))
                u_trk = np.setdiff1d(u_trk, np.array(used_t, np.int64))
        for k in u_trk:
            tracks[k].update(None)
        for d in u_det:
            t = _Track(obs[d, :4], obs[d, 4], d_cls[d], self._next_id, self.delta_t)
            t.det_idx = d_rows[d]
            self._next_id += 1
            tracks.append(t)

        # Report (newest first), then delete stale tracks.
        reported = [t for t in reversed(tracks) if t.time_since_update < 1
                    and (t.hit_streak >= self.min_hits or self.frame_count <= self.min_hits)]
        out = output_rows(np.array([t.box() for t in reported]).reshape(-1, 4), [t.id for t in reported],
                          [t.score for t in reported], [t.cls for t in reported],
                          [t.det_idx for t in reported])
        stale = [t for t in tracks if t.time_since_update > self.max_age]
        self._tracks = [t for t in tracks if t.time_since_update <= self.max_age]
        step.removed = np.concatenate([step.removed, np.array([t.id for t in stale], np.int64)])
        step.matches = np.array(step_matches, np.int64).reshape(-1, 2)
        step.unmatched_detections = d_rows[np.asarray(u_det, np.int64)]
        step.unmatched_tracks = np.array([tracks[k].id for k in u_trk], np.int64)
        step.track_ids = np.array([t.id for t in self._tracks], np.int64)
        step.track_states = np.array(["confirmed" if t.hit_streak >= self.min_hits else
                                      "lost" if t.time_since_update > 0 else "tentative"
                                      for t in self._tracks])
        self.last_step = step
        return out

    @staticmethod
    def _observe(track, obs, cls, row):
        track.update(obs)
        track.score, track.cls, track.det_idx = obs[4], cls, row

    def _associate(self, obs, d_cls, predicted, velocities, previous, step):
        """The official ``associate``: IoU + direction-consistency term, SORT's fast path."""
        n_det, n_trk = len(obs), len(predicted)
        if n_trk == 0:
            return np.zeros((0, 2), np.int64), np.arange(n_det), np.zeros(0, np.int64)
        iou = iou_checked(obs[:, :4], predicted)
        if self.class_aware and n_det:
            iou[d_cls[:, None] != np.array([t.cls for t in self._tracks])[None, :]] = 0.0
        # direction from each track's previous observation to each detection (tracks by dets)
        cx_d, cy_d = (obs[:, 0] + obs[:, 2]) / 2.0, (obs[:, 1] + obs[:, 3]) / 2.0
        cx_t, cy_t = (previous[:, 0] + previous[:, 2]) / 2.0, (previous[:, 1] + previous[:, 3]) / 2.0
        dx = cx_d[None, :] - cx_t[:, None]
        dy = cy_d[None, :] - cy_t[:, None]
        norm = np.sqrt(dx ** 2 + dy ** 2) + 1e-6
        cos = np.clip(velocities[:, 1:2] * (dx / norm) + velocities[:, 0:1] * (dy / norm), -1, 1)
        angle = (np.pi / 2.0 - np.abs(np.arccos(cos))) / np.pi
        valid = (previous[:, 4] >= 0).astype(float)[:, None]
        term = (valid * angle * self.inertia).T * obs[:, 4:5]
        step.costs["iou"] = iou
        step.costs["direction"] = term
        return gated_association(iou, self.iou_threshold, iou + term)
