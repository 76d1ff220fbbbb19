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

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_choice, check_float, check_int
from ..assignment.lsa import lapjv_kernel
from ..boxes import COST_MODES, MODE_IOU, XYAH, XYXY, convert_kernel, iou_kernel
from ..kalman.models import xyah_initiate_kernel, xyah_model
from ._base import (STATE_CONFIRMED, STATE_LOST, STATE_TENTATIVE, MultiObjectTracker, StepRecord, check_detections,
                    gather_rows, pack_step, scatter_rows, timed_transition, xyah_predict, xyah_update)

__all__ = ["ByteTrack", "ByteTrackTable", "ByteTrackParams"]

#: Track states of the official code.
TRACKED, LOST, REMOVED = 1, 2, 3
#: Columns of the integer track table ``info`` (the official STrack's fields; ``WAS_REMOVED``: the id
#: is in the removed set of an earlier frame).
ID, STATE, ACTIVATED, START_FRAME, FRAME_ID, TRACKLET_LEN, CLASS, DET_IDX, WAS_REMOVED = range(9)


class ByteTrackTable(NamedTuple):
    """ByteTrack's track table: the tracked list's rows, then the lost list's (BoT-SORT's table
    starts with the same four fields)."""

    #: (T, 8) Kalman means ``[x, y, a, h, vx, vy, va, vh]`` (centre, aspect ratio, height)
    X: np.ndarray
    #: (T, 8, 8) Kalman covariances
    P: np.ndarray
    #: (T, 9) int64: :data:`ID`, :data:`STATE`, :data:`ACTIVATED`, :data:`START_FRAME`,
    #: :data:`FRAME_ID`, :data:`TRACKLET_LEN`, :data:`CLASS`, :data:`DET_IDX`, :data:`WAS_REMOVED`
    info: np.ndarray
    #: (T,) score of the last matched detection
    last_score: np.ndarray


class ByteTrackParams(NamedTuple):
    """ByteTrack's thresholds, as :func:`bytetrack_frame` reads them."""

    track_thresh: float
    det_thresh: float
    match_thresh: float
    max_time_lost: int
    mot20: bool
    class_aware: bool
    #: the association cost's code (:data:`~scratchvision.boxes.COST_MODES`)
    cost_mode: int


class ByteTrack(MultiObjectTracker):
    """ByteTrack multi-object tracker.

    Parameters
    ----------
    track_thresh : float in [0, 1]
        High/low score split; new tracks need ``track_thresh + 0.1``.
    match_thresh : float in [0, 1]
        Cost limit of the first association.
    track_buffer : int
        Frames a lost track is kept (at 30 frames/s).
    frame_rate : int
        Scales ``track_buffer``; with timestamps, the length of a frame (:class:`FrameClock`).
    mot20 : bool
        Skip the score fusion of the official code's MOT20 setting.
    class_aware : bool
        Only match detections and tracks of the same class.
    cost : {"iou", "giou", "diou", "ciou"}
        The overlap the association scores pairs by (default: IoU, the paper's; the generalised,
        distance and complete IoU of :mod:`scratchvision.boxes` also rank boxes that do not
        overlap); the thresholds apply to it unchanged.

    Notes
    -----
    The official tracked and lost lists are one :class:`ByteTrackTable` of rows: the tracked
    tracks in their list order, then the lost ones. Each row holds the Kalman state ``X`` (8) and
    covariance ``P`` (8, 8), the integer columns ``info`` named by :data:`ID`, :data:`STATE`, :data:`ACTIVATED`,
    :data:`START_FRAME`, :data:`FRAME_ID`, :data:`TRACKLET_LEN`, :data:`CLASS`, :data:`DET_IDX`,
    :data:`WAS_REMOVED`, and the score. One call of the compiled :func:`bytetrack_frame` runs a
    whole frame on it.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import ByteTrack
    >>> tracker = ByteTrack()
    >>> det = np.array([[10, 10, 50, 80, 0.9], [100, 10, 140, 90, 0.3]])  # the second is a low score
    >>> tracker.update(det)[:, 4].tolist()  # the high box starts a track, reported at once on frame 1
    [1.0]
    >>> tracker.update(det + 1)[:, [4, 7]].tolist()  # id, det_idx
    [[1.0, 0.0]]
    """

    def __init__(self, track_thresh: float = 0.6, match_thresh: float = 0.9, track_buffer: int = 30,
                 frame_rate: int = 30, *, mot20: bool = False, class_aware: bool = False,
                 cost: str = "iou"):
        self.track_thresh = check_float(track_thresh, "track_thresh", low=0.0, high=1.0)
        self.match_thresh = check_float(match_thresh, "match_thresh", low=0.0, high=1.0)
        self.track_buffer = check_int(track_buffer, "track_buffer", low=0)
        self.frame_rate = check_int(frame_rate, "frame_rate", low=1)
        self.det_thresh = self.track_thresh + 0.1
        self.max_time_lost = int(self.frame_rate / 30.0 * self.track_buffer)
        self.mot20 = bool(mot20)
        self.class_aware = bool(class_aware)
        self.cost = check_choice(cost, "cost", tuple(COST_MODES))
        self._model = xyah_model()
        super().__init__(self.frame_rate)

    STATE_FORMAT = "xyah"
    #: the first association (high boxes), the second (low boxes), the unconfirmed tracks'
    COST_STAGES = ("first", "second", "unconfirmed")

    def _empty_table(self):
        return ByteTrackTable(np.zeros((0, 8)), np.zeros((0, 8, 8)), np.zeros((0, 9), np.int64), np.zeros(0))

    def reset(self):
        """Forget every track and restart ids at 1."""
        super().reset()
        self._n_tracked = 0  # the live rows: the tracked list (rows < _n_tracked), then the lost list

    @property
    def frame_id(self):
        """The frame counter under the official code's name (``frame_count``)."""
        return self.frame_count

    def update(self, dets=None, warp=None, timestamp=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or empty for a frame without
            detections.
        warp : array-like (2, 3) or (3, 3), optional
            The camera's motion since the last frame, applied to the tracked and lost tracks'
            states first (as :meth:`Sort.update`).
        timestamp : float, optional
            The frame's time in seconds, for a variable frame rate (:class:`FrameClock`: the
            filters predict over the elapsed time, ``track_buffer`` counts frames of
            ``1 / frame_rate`` s).

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the activated tracked tracks (box
            from the filter, score of the last matched detection; ``det_idx`` -1 for a track
            not matched this frame).
        """
        dets = check_detections(dets)
        steps, dt = self._start_frame(warp, timestamp, len(dets[0]))
        motion = (timed_transition(self._model.F, dt), dt, self._model.H)  # F, q_scale, H
        params = (self.track_thresh, self.det_thresh, self.match_thresh, self.max_time_lost, self.mot20,
                  self.class_aware, COST_MODES[self.cost])  # ByteTrackParams
        self._n_tracked, n_lost, self._next_id, out, first, second, unconfirmed, log = bytetrack_frame(
            tuple(self._table), self._n_tracked, self._n - self._n_tracked, self._next_id, self.frame_count, dets,
            motion, params)
        self._n = self._n_tracked + n_lost
        self._record = StepRecord(self.frame_count, lambda: {"first": first.T, "second": second.T,
                                                              "unconfirmed": unconfirmed.T}, log)
        return out


@kernel
def track_boxes(X, tracks, state_format):
    """Boxes ``x1, y1, x2, y2`` of the filter means of table rows ``tracks``, whose first four
    entries are a box in ``state_format`` (:data:`~scratchvision.boxes.XYAH` here,
    :data:`~scratchvision.boxes.CXCYWH` in BoT-SORT)."""
    out = np.empty((len(tracks), 4))
    for j in range(len(tracks)):
        convert_kernel(X[tracks[j]:tracks[j] + 1, :4], state_format, XYXY, out[j:j + 1])
    return out


@kernel
def _cost(X, info, tracks, boxes, scores, classes, fuse_score, class_aware, cost_mode):
    """``1 - IoU`` (ByteTrack's pixel-inclusive IoU) of tracks by detections; with
    ``fuse_score``, ``1 - IoU * score`` (the official fuse_score); +inf between classes when
    ``class_aware``."""
    cost = np.empty((len(tracks), len(boxes)))
    iou_kernel(track_boxes(X, tracks, XYAH), boxes, True, cost_mode, cost)
    for i in range(len(tracks)):
        for j in range(len(boxes)):
            c = 1.0 - cost[i, j]
            if fuse_score:
                c = 1.0 - (1.0 - c) * scores[j]
            if class_aware and info[tracks[i], CLASS] != classes[j]:
                c = np.inf
            cost[i, j] = c
    return cost


@kernel
def assign(cost, thresh):
    """The official ``linear_assignment``: lap-style thresholded assignment; returns matches
    (K, 2) of (row, column) and the unmatched rows and columns."""
    n, m = cost.shape
    if n == 0 or m == 0:
        return np.zeros((0, 2), np.int64), np.arange(n), np.arange(m)
    _, x, y, _ = lapjv_kernel(cost, True, thresh)
    matches = np.empty((min(n, m), 2), np.int64)
    k = 0
    for i in range(n):
        if x[i] >= 0:
            matches[k, 0], matches[k, 1] = i, x[i]
            k += 1
    return matches[:k], np.flatnonzero(x < 0), np.flatnonzero(y < 0)


@kernel
def _predict(X, P, info, tracks, F, q_scale):
    """Kalman-predict table rows ``tracks`` (height velocity zeroed for tracks not Tracked)."""
    for t in tracks:
        if info[t, STATE] != TRACKED:
            X[t, 7] = 0.0
    Xg, Pg = gather_rows(X, P, tracks)
    xyah_predict(Xg, Pg, F, q_scale)
    scatter_rows(X, P, tracks, Xg, Pg)


@kernel
def _take(table, tracks, dets, frame, F, H):
    """Update (or re-activate, for tracks not Tracked) table rows ``tracks[j]`` with detection
    ``j`` of ``dets`` (boxes, scores, classes, rows)."""
    X, P, info, last_score = table
    boxes, scores, classes, rows = dets
    Xg, Pg = gather_rows(X, P, tracks)
    Z = np.empty((len(tracks), 4))
    convert_kernel(boxes, XYXY, XYAH, Z)
    xyah_update(Xg, Pg, Z, F, H)
    scatter_rows(X, P, tracks, Xg, Pg)
    mark_matched(info, last_score, tracks, scores, classes, rows, frame)


@kernel
def mark_matched(info, last_score, tracks, scores, classes, rows, frame):
    """The bookkeeping of a match (the official ``update`` / ``re_activate``): table rows
    ``tracks[j]`` become Tracked and activated with detection ``j``'s score, class and row."""
    for j in range(len(tracks)):
        t = tracks[j]
        info[t, TRACKLET_LEN] = 0 if info[t, STATE] != TRACKED else info[t, TRACKLET_LEN] + 1
        info[t, STATE], info[t, ACTIVATED], info[t, FRAME_ID] = TRACKED, 1, frame
        last_score[t], info[t, CLASS], info[t, DET_IDX] = scores[j], classes[j], rows[j]


@kernel
def start_track(info, last_score, n, track_id, frame, score, cls, row):
    """Table row ``n`` becomes new track ``track_id`` (the official ``activate``: activated at
    once only on the first frame)."""
    info[n] = 0
    info[n, ID], info[n, STATE], info[n, ACTIVATED] = track_id, TRACKED, 1 if frame == 1 else 0
    info[n, START_FRAME], info[n, FRAME_ID] = frame, frame
    last_score[n], info[n, CLASS], info[n, DET_IDX] = score, cls, row


@kernel
def pools(info, n_tracked, n_old):
    """The official code's two track sets of a frame: the unconfirmed tracks (tracked, not yet
    activated) and the pool (activated tracked tracks, then the lost ones), as table rows."""
    tracked_rows = np.arange(n_tracked)
    unconfirmed = subset(tracked_rows, info[:n_tracked, ACTIVATED] == 0)
    pool = np.concatenate((subset(tracked_rows, info[:n_tracked, ACTIVATED] == 1), np.arange(n_tracked, n_old)))
    return unconfirmed, pool


@kernel
def add_pairs(tracks, dets, pairs, taken, matched, n):
    """Append the matched ``(tracks[i], dets[j])`` of ``pairs`` to ``taken`` and ``matched`` from
    position ``n``; returns the new count."""
    for k in range(len(pairs)):
        taken[n], matched[n] = tracks[pairs[k, 0]], dets[pairs[k, 1]]
        n += 1
    return n


@kernel(inline=True)
def is_identity(order):
    """True when ``order`` is ``0, 1, ..., len(order) - 1``: the table keeps its rows."""
    for k in range(len(order)):
        if order[k] != k:
            return False
    return True


@kernel
def subset(tracks, keep):
    """``tracks[j]`` for which ``keep[j]``, in order."""
    out = np.empty(len(tracks), np.int64)
    k = 0
    for j in range(len(tracks)):
        if keep[j]:
            out[k] = tracks[j]
            k += 1
    return out[:k]


@kernel
def bytetrack_frame(table, n_tracked, n_lost, next_id, frame, dets, motion, params):
    """One ByteTrack frame on the track table (rows ``< n_tracked``: the tracked list, then
    ``n_lost`` rows of the lost list; room for ``len(boxes)`` more).

    ``table`` is a :class:`ByteTrackTable`, ``dets`` the frame's (boxes, scores, classes, rows)
    (:func:`~scratchvision.tracking._base.check_detections`), ``motion`` the Kalman model
    (F over the elapsed time, ``q_scale`` = the frames elapsed, H) and ``params`` a
    :class:`ByteTrackParams`, all plain tuples (Numba types a NamedTuple argument ten times more
    slowly, a microsecond a call); ``frame`` is the frame number, ``next_id`` the next new id.

    1. Split detections: high (score > ``track_thresh``), low (0.1 < score < ``track_thresh``).
    2. Predict the confirmed tracked tracks and the lost ones (the pool); match them to the high
       boxes (cost ``1 - IoU * score``, limit ``match_thresh``).
    3. Match the pool's Tracked tracks left over to the low boxes (``1 - IoU``, limit 0.5); those
       still unmatched become Lost.
    4. Match the unconfirmed tracks (not predicted, as in the official code) to the high boxes
       left (limit 0.7); the unmatched ones are removed.
    5. Start a track for each high box left scoring at least ``det_thresh``.
    6. :func:`close_frame`: remove lost tracks older than ``max_time_lost`` frames, rebuild the
       lists, drop tracked/lost duplicates, report the activated tracked tracks.

    Returns
    -------
    n_tracked, n_lost, next_id, out (M, 8), the three cost matrices, and the packed record
    (:func:`pack_step`): matches (detection row, track id), rows of detections that started
    tracks, ids of tracks lost this frame, removed ids (sorted), ids of the tracked then lost
    tracks, their states
    """
    X, P, info, last_score = table
    boxes, scores, classes, rows = dets
    F, q_scale, H = motion
    track_thresh, det_thresh, match_thresh, max_time_lost, mot20, class_aware, cost_mode = params
    n_old = n_tracked + n_lost
    info[:n_old, DET_IDX] = -1
    high = np.flatnonzero(scores > track_thresh)
    low = np.flatnonzero((scores > 0.1) & (scores < track_thresh))
    hb, hs, hc, hr = boxes[high], scores[high], classes[high], rows[high]
    lb, ls, lc = boxes[low], scores[low], classes[low]
    unconfirmed, pool = pools(info, n_tracked, n_old)
    _predict(X, P, info, pool, F, q_scale)

    # The three associations read disjoint tracks, so the matched tracks are updated together
    # after them: ``taken[j]`` with detection ``matched[j]`` (an index into ``boxes``).
    taken = np.empty(len(boxes), np.int64)
    matched = np.empty(len(boxes), np.int64)
    first = _cost(X, info, pool, hb, hs, hc, not mot20, class_aware, cost_mode)
    m1, u_pool, u_high = assign(first, match_thresh)
    n_matches = add_pairs(pool, high, m1, taken, matched, 0)
    refound = subset(taken[:n_matches], info[taken[:n_matches], STATE] != TRACKED)

    rest = subset(pool[u_pool], info[pool[u_pool], STATE] == TRACKED)
    second = _cost(X, info, rest, lb, ls, lc, False, class_aware, cost_mode)
    m2, u_rest, _ = assign(second, 0.5)
    n_matches = add_pairs(rest, low, m2, taken, matched, n_matches)
    newly_lost = rest[u_rest]

    high2 = high[u_high]
    hb2, hs2, hc2, hr2 = hb[u_high], hs[u_high], hc[u_high], hr[u_high]
    unconf = _cost(X, info, unconfirmed, hb2, hs2, hc2, not mot20, class_aware, cost_mode)
    m3, u_unconf, u_new = assign(unconf, 0.7)
    n_matches = add_pairs(unconfirmed, high2, m3, taken, matched, n_matches)
    taken, matched = taken[:n_matches], matched[:n_matches]
    _take(table, taken, (boxes[matched], scores[matched], classes[matched], rows[matched]), frame, F, H)
    matches, removed_now = settle_states(info, taken, rows[matched], newly_lost, unconfirmed[u_unconf], len(X))

    n = n_old
    new_rows = np.empty(len(u_new), np.int64)
    n_new = 0
    for j in u_new:
        if hs2[j] < det_thresh:
            continue
        z = np.empty((1, 4))
        convert_kernel(hb2[j:j + 1], XYXY, XYAH, z)
        xyah_initiate_kernel(z, X[n:n + 1], P[n:n + 1])
        start_track(info, last_score, n, next_id, frame, hs2[j], hc2[j], hr2[j])
        new_rows[n_new] = hr2[j]
        next_id += 1
        n_new += 1
        n += 1

    newly_lost_ids = info[newly_lost, ID]
    order, n_tracked, out, removed, states = close_frame(table, n_tracked, n_old, n, refound, newly_lost, removed_now,
                                                         frame, max_time_lost, XYAH, True)
    if not is_identity(order):  # the rows move only when a track changes list or leaves
        k = len(order)
        X[:k], P[:k], info[:k], last_score[:k] = X[order], P[order], info[order], last_score[order]
    return (n_tracked, len(order) - n_tracked, next_id, out, first, second, unconf,
            pack_step(matches, new_rows[:n_new], newly_lost_ids, removed, info[:len(order), ID], states))


@kernel
def settle_states(info, taken, taken_rows, newly_lost, dropped, n_rows):
    """After the three associations: tracks ``newly_lost`` become Lost and the unconfirmed tracks
    left unmatched (``dropped``) Removed. Returns the matches (detection row ``taken_rows[j]``,
    id of track ``taken[j]``) and the mask of rows removed (of ``n_rows``)."""
    for t in newly_lost:
        info[t, STATE] = LOST
    matches = np.empty((len(taken), 2), np.int64)
    for j in range(len(taken)):
        matches[j, 0], matches[j, 1] = taken_rows[j], info[taken[j], ID]
    removed_now = np.zeros(n_rows, np.bool_)
    for t in dropped:
        info[t, STATE] = REMOVED
        removed_now[t] = True
    return matches, removed_now


@kernel
def close_frame(table, n_tracked, n_old, n, refound, newly_lost, removed_now, frame, max_time_lost, state_format,
                pixel_inclusive):
    """The end of a ByteTrack (and BoT-SORT) frame on its ``table`` (either tracker's: their first
    four fields are the same), after the matches and new tracks (rows ``n_old:n``): remove lost
    tracks older than ``max_time_lost`` frames, rebuild the tracked and lost lists (the official
    joint / sub rules and timing), drop tracked/lost duplicates (IoU distance < 0.15: the younger
    goes) and report the activated tracked tracks.

    Returns
    -------
    order : the table rows of the new tracked list, then of the new lost list
    n_tracked : the tracked list's length
    out : (M, 8) output rows
    removed : ids removed this frame (sorted)
    states : state codes of ``order`` (:data:`STATE_CONFIRMED` ...)
    """
    X, info, last_score = table[0], table[2], table[3]
    for k in range(n_tracked, n_old):
        if frame - info[k, FRAME_ID] > max_time_lost:
            info[k, STATE] = REMOVED
            removed_now[k] = True
    tracked_rows = np.arange(n_tracked)
    tracked = np.concatenate((subset(tracked_rows, info[:n_tracked, STATE] == TRACKED), np.arange(n_old, n), refound))
    in_tracked = np.zeros(len(X), np.bool_)
    in_tracked[tracked] = True
    lost = np.concatenate((subset(np.arange(n_tracked, n_old), ~in_tracked[n_tracked:n_old]), newly_lost))
    lost = subset(lost, info[lost, WAS_REMOVED] == 0)
    removed = np.unique(info[:n, ID][removed_now[:n]])
    for k in range(n):
        if removed_now[k]:
            info[k, WAS_REMOVED] = 1

    if len(tracked) and len(lost):
        iou = np.empty((len(tracked), len(lost)))
        iou_kernel(track_boxes(X, tracked, state_format), track_boxes(X, lost, state_format), pixel_inclusive,
                   MODE_IOU, iou)
        keep_t, keep_l = np.ones(len(tracked), np.bool_), np.ones(len(lost), np.bool_)
        for p in range(len(tracked)):
            for q in range(len(lost)):
                if 1.0 - iou[p, q] < 0.15:
                    age_p = info[tracked[p], FRAME_ID] - info[tracked[p], START_FRAME]
                    age_q = info[lost[q], FRAME_ID] - info[lost[q], START_FRAME]
                    if age_p > age_q:
                        keep_l[q] = False
                    else:
                        keep_t[p] = False
        tracked, lost = subset(tracked, keep_t), subset(lost, keep_l)

    reported = subset(tracked, info[tracked, ACTIVATED] == 1)
    out = np.empty((len(reported), 8))
    out[:, :4] = track_boxes(X, reported, state_format)
    for j in range(len(reported)):
        k = reported[j]
        out[j, 4], out[j, 5], out[j, 6], out[j, 7] = info[k, ID], last_score[k], info[k, CLASS], info[k, DET_IDX]
    states = np.full(len(tracked) + len(lost), STATE_LOST, np.int8)
    for j in range(len(tracked)):
        states[j] = STATE_CONFIRMED if info[tracked[j], ACTIVATED] == 1 else STATE_TENTATIVE
    return np.concatenate((tracked, lost)), len(tracked), out, removed, states


@warmup_hook
def _warmup():
    tracker = ByteTrack()
    det = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.5]])
    for _ in range(3):
        tracker.update(det)
    tracker.update(None)
