"""ByteTrack: multi-object tracking by associating every detection box (Zhang et al. 2022).

Detections are split by score: high (> ``track_thresh``) and low (between 0.1 and it). Tracked and
recently lost tracks are predicted with the DeepSORT/ByteTrack Kalman filter (``[x, y, a, h]``,
noise scaled by box height) and matched to the high-score boxes first (cost ``1 - IoU * score``,
an assignment that leaves pairs costing more than ``match_thresh`` unmatched); tracks still
unmatched are then matched to the low-score boxes (plain ``1 - IoU``, limit 0.5), which keeps
occluded objects whose detector score dropped. Tracks seen once (unconfirmed) get a third chance
with the remaining high boxes; remaining high boxes scoring at least ``track_thresh + 0.1`` start
tracks; lost tracks are dropped after ``track_buffer`` frames (scaled by ``frame_rate / 30``);
tracked/lost duplicates (IoU > 0.85) are resolved in favour of the older track. IoU is the
pixel-inclusive one (``w = x2 - x1 + 1``) of the official code, whose step order, tie rules and
output this class reproduces (without its demo's pedestrian-only box filter).

References
----------
Y. Zhang, P. Sun, Y. Jiang, D. Yu, F. Weng, Z. Yuan, P. Luo, W. Liu, X. Wang. "ByteTrack:
Multi-Object Tracking by Associating Every Detection Box." ECCV 2022.
doi:10.1007/978-3-031-20047-2_1
"""

from __future__ import annotations

import numpy as np

from .._validate import check_float, check_int
from ..assignment import lapjv
from ..boxes import convert_checked, iou_checked
from ..kalman._kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import xyah_initiate, xyah_measurement_noise, xyah_model, xyah_process_noise
from ._base import TrackerStep, check_detections, output_rows

__all__ = ["ByteTrack"]

TRACKED, LOST, REMOVED = 1, 2, 3


class _Track:
    """One track's filter state and bookkeeping (the official STrack's fields)."""

    __slots__ = ("id", "mean", "cov", "state", "activated", "score", "cls", "start_frame",
                 "frame_id", "tracklet_len", "det_idx")


def _cost(tracks_boxes, det_boxes):
    """``1 - IoU`` with ByteTrack's pixel-inclusive IoU (tracks by detections)."""
    return 1.0 - iou_checked(tracks_boxes, det_boxes, pixel_inclusive=True)


def _assign(cost, thresh):
    """The official ``linear_assignment``: lap-style thresholded assignment; returns matches
    (K, 2) of (row, column) and the unmatched rows and columns."""
    if cost.size == 0:
        return np.zeros((0, 2), np.int64), np.arange(cost.shape[0]), np.arange(cost.shape[1])
    _, x, y = lapjv(cost, extend_cost=True, cost_limit=thresh)
    matches = np.array([[i, j] for i, j in enumerate(x) if j >= 0], np.int64).reshape(-1, 2)
    return matches, np.flatnonzero(x < 0), np.flatnonzero(y < 0)


class ByteTrack:
    """ByteTrack multi-object tracker.

    Parameters
    ----------
    track_thresh : float
        High/low score split; new tracks need ``track_thresh + 0.1``.
    match_thresh : float
        Cost limit of the first association.
    track_buffer : int
        Frames a lost track is kept (at 30 frames/s).
    frame_rate : int
        Scales ``track_buffer``.
    mot20 : bool
        Skip the score fusion of the official code's MOT20 setting.
    class_aware : bool
        Only match detections and tracks of the same class.
    """

    def __init__(self, track_thresh: float = 0.6, match_thresh: float = 0.9, track_buffer: int = 30,
                 frame_rate: int = 30, *, mot20: bool = False, class_aware: bool = False):
        self.track_thresh = check_float(track_thresh, "track_thresh")
        self.match_thresh = check_float(match_thresh, "match_thresh", low=0.0)
        self.track_buffer = check_int(track_buffer, "track_buffer", low=0)
        self.frame_rate = check_int(frame_rate, "frame_rate", low=1)
        self.det_thresh = self.track_thresh + 0.1
        self.max_time_lost = int(self.frame_rate / 30.0 * self.track_buffer)
        self.mot20 = bool(mot20)
        self.class_aware = bool(class_aware)
        self._model = xyah_model()
        self.reset()

    def reset(self):
        """Forget every track and restart ids at 1."""
        self.frame_id = 0
        self._next_id = 1
        self._tracked, self._lost, self._removed_ids = [], [], set()
        self.last_step = TrackerStep(frame=0)

    # -- Kalman steps on lists of tracks ---------------------------------------------------------
    def _predict(self, tracks):
        if not tracks:
            return
        X = np.array([t.mean for t in tracks])
        P = np.array([t.cov for t in tracks])
        X[[i for i, t in enumerate(tracks) if t.state != TRACKED], 7] = 0.0
        batch_predict_kernel(X, P, self._model.F, xyah_process_noise(X))
        for t, x, p in zip(tracks, X, P):
            t.mean, t.cov = x, p

    def _correct(self, tracks, boxes):
        X = np.array([t.mean for t in tracks])
        P = np.array([t.cov for t in tracks])
        Z = convert_checked(boxes, "xyxy", "xyah")
        status = np.empty(len(tracks), np.int64)
        batch_update_kernel(X, P, Z, self._model.H, xyah_measurement_noise(X), False, self._model.F, status)
        for t, x, p in zip(tracks, X, P):
            t.mean, t.cov = x, p

    @staticmethod
    def _boxes(tracks):
        """Current boxes (filter means) of ``tracks``, (T, 4) x1, y1, x2, y2."""
        return convert_checked(np.array([t.mean[:4] for t in tracks]).reshape(-1, 4), "xyah", "xyxy")

    def _forbid_other_classes(self, cost, tracks, classes):
        if self.class_aware and cost.size:
            cost[np.array([t.cls for t in tracks])[:, None] != classes[None, :]] = np.inf
        return cost

    def _take(self, tracks, boxes, scores, classes, rows):
        """Update (or re-activate, for tracks not in the Tracked state) matched tracks."""
        if not tracks:
            return
        self._correct(tracks, boxes)
        for t, score, cls, row in zip(tracks, scores, classes, rows):
            t.tracklet_len = 0 if t.state != TRACKED else t.tracklet_len + 1
            t.state = TRACKED
            t.activated = True
            t.frame_id = self.frame_id
            t.score, t.cls, t.det_idx = score, cls, row

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
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the activated tracked tracks (box
            from the filter, score of the last matched detection; ``det_idx`` -1 for a track
            not matched this frame).
        """
        boxes, scores, classes, rows = check_detections(dets)
        self.frame_id += 1
        step = TrackerStep(frame=self.frame_id)
        for t in self._tracked + self._lost:
            t.det_idx = -1
        high = scores > self.track_thresh
        low = (scores > 0.1) & (scores < self.track_thresh)
        hb, hs, hc, hr = boxes[high], scores[high], classes[high], rows[high]
        lb, ls, lc, lr = boxes[low], scores[low], classes[low], rows[low]

        unconfirmed = [t for t in self._tracked if not t.activated]
        confirmed = [t for t in self._tracked if t.activated]
        pool = confirmed + [t for t in self._lost if t.id not in {c.id for c in confirmed}]
        self._predict(pool)
        activated, refound, newly_lost, removed = [], [], [], []

        # 1. pool vs high-score boxes
        cost = _cost(self._boxes(pool), hb)
        if not self.mot20 and cost.size:
            cost = 1.0 - (1.0 - cost) * hs[None, :]
        cost = self._forbid_other_classes(cost, pool, hc)
        step.costs["first"] = cost
        matches, u_track, u_high = _assign(cost, self.match_thresh)
        taken = [pool[i] for i in matches[:, 0]]
        for t in taken:
            (activated if t.state == TRACKED else refound).append(t)
        j = matches[:, 1]
        self._take(taken, hb[j], hs[j], hc[j], hr[j])
        step_matches = [(hr[j], pool[i].id) for i, j in matches]

        # 2. tracked tracks left over vs low-score boxes
        rest = [pool[i] for i in u_track if pool[i].state == TRACKED]
        cost = self._forbid_other_classes(_cost(self._boxes(rest), lb), rest, lc)
        step.costs["second"] = cost
        matches, u_rest, _ = _assign(cost, 0.5)
        taken = [rest[i] for i in matches[:, 0]]
        for t in taken:
            (activated if t.state == TRACKED else refound).append(t)
        j = matches[:, 1]
        self._take(taken, lb[j], ls[j], lc[j], lr[j])
        step_matches += [(lr[j], rest[i].id) for i, j in matches]
        for i in u_rest:
            t = rest[i]
            if t.state != LOST:
                t.state = LOST
                newly_lost.append(t)

        # 3. unconfirmed tracks vs the high boxes still unmatched
        hb2, hs2, hc2, hr2 = hb[u_high], hs[u_high], hc[u_high], hr[u_high]
        cost = _cost(self._boxes(unconfirmed), hb2)
        if not self.mot20 and cost.size:
            cost = 1.0 - (1.0 - cost) * hs2[None, :]
        cost = self._forbid_other_classes(cost, unconfirmed, hc2)
        step.costs["unconfirmed"] = cost
        matches, u_unconf, u_new = _assign(cost, 0.7)
        taken = [unconfirmed[i] for i in matches[:, 0]]
        j = matches[:, 1]
        self._take(taken, hb2[j], hs2[j], hc2[j], hr2[j])
        activated += taken
        step_matches += [(hr2[j], unconfirmed[i].id) for i, j in matches]
        for i in u_unconf:
            unconfirmed[i].state = REMOVED
            removed.append(unconfirmed[i])

        # 4. new tracks
        new_rows = []
        for j in u_new:
            if hs2[j] < self.det_thresh:
                continue
            t = _Track()
            t.id = self._next_id
            self._next_id += 1
            X, P = xyah_initiate(convert_checked(hb2[j][None], "xyxy", "xyah"))
            t.mean, t.cov = X[0], P[0]
            t.state, t.activated = TRACKED, self.frame_id == 1
            t.score, t.cls, t.det_idx = hs2[j], hc2[j], hr2[j]
            t.start_frame = t.frame_id = self.frame_id
            t.tracklet_len = 0
            activated.append(t)
            new_rows.append(hr2[j])

        # 5. lists, with the official code's timing: a lost track removed now leaves the lost
        # list only at the end of the next frame, so it can still be re-found then.
        for t in self._lost:
            if self.frame_id - t.frame_id > self.max_time_lost:
                t.state = REMOVED
                removed.append(t)
        tracked = _join([t for t in self._tracked if t.state == TRACKED], activated)
        tracked = _join(tracked, refound)
        tracked_ids = {t.id for t in tracked}
        lost = [t for t in self._lost if t.id not in tracked_ids] + newly_lost
        lost = [t for t in lost if t.id not in self._removed_ids]
        removed_ids = {t.id for t in removed}
        self._removed_ids |= removed_ids
        self._tracked, self._lost = self._remove_duplicates(tracked, lost)

        out_tracks = [t for t in self._tracked if t.activated]
        out = output_rows(self._boxes(out_tracks), [t.id for t in out_tracks],
                          [t.score for t in out_tracks], [t.cls for t in out_tracks],
                          [t.det_idx for t in out_tracks])
        step.matches = np.array(step_matches, np.int64).reshape(-1, 2)
        step.unmatched_detections = np.array(new_rows, np.int64)
        step.unmatched_tracks = np.array([t.id for t in newly_lost], np.int64)
        step.removed = np.array(sorted(removed_ids), np.int64)
        step.track_ids = np.array([t.id for t in self._tracked + self._lost], np.int64)
        step.track_states = np.array(["confirmed" if t.activated else "tentative" for t in self._tracked]
                                     + ["lost"] * len(self._lost))
        self.last_step = step
        return out

    def _remove_duplicates(self, tracked, lost):
        """Tracked/lost pairs with IoU distance < 0.15: drop the younger (the tracked on a tie)."""
        if not tracked or not lost:
            return tracked, lost
        dist = _cost(self._boxes(tracked), self._boxes(lost))
        drop_t, drop_l = set(), set()
        for p, q in zip(*np.nonzero(dist < 0.15)):
            age_p = tracked[p].frame_id - tracked[p].start_frame
            age_q = lost[q].frame_id - lost[q].start_frame
            if age_p > age_q:
                drop_l.add(q)
            else:
                drop_t.add(p)
        return ([t for i, t in enumerate(tracked) if i not in drop_t],
                [t for i, t in enumerate(lost) if i not in drop_l])


def _join(a, b):
    """``a`` then the tracks of ``b`` whose ids are not in ``a`` (the official joint_stracks)."""
    ids = {t.id for t in a}
    return a + [t for t in b if t.id not in ids]
