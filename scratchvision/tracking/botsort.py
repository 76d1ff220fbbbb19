"""BoT-SORT: ByteTrack with a width-height Kalman state, camera-motion compensation and
appearance (Aharon et al. 2022).

One frame:

1. Split the detections (degenerate boxes are dropped on input): high (score >=
   ``track_high_thresh``) and low (``track_low_thresh`` < score < ``track_high_thresh``).
2. Predict the confirmed tracked tracks and the lost ones (the pool) with the
   ``[x, y, w, h]`` Kalman filter (noise scaled by width and height; the size velocities of
   tracks not Tracked zeroed), then apply the camera's motion ``warp`` to every track: the
   pool and the unconfirmed tracks. Unlike the other trackers here, BoT-SORT warps the
   *predicted* states (the process noise is taken from the unwarped size).
3. Match the pool to the high boxes. The motion cost is ByteTrack's ``1 - IoU * score``
   (``fuse_score``). With ``with_reid`` the cost is the smaller of it and the appearance cost:
   half the cosine distance between the track's smoothed embedding and the detection's, set to
   1 where it exceeds ``1 - appearance_thresh`` or where the pair's IoU is below
   ``proximity_thresh`` (appearance only decides between boxes that overlap). Pairs costing more
   than ``match_thresh`` stay unmatched.
4. Match the pool's Tracked tracks left to the low boxes (``1 - IoU``, limit 0.5; no
   appearance); those still unmatched become Lost.
5. Match the unconfirmed tracks (started last frame) to the high boxes left (step 3's cost,
   limit 0.7); the unmatched ones are removed.
6. Start a track for each high box left scoring at least ``new_track_thresh``, and close the
   frame as ByteTrack does (:func:`~scratchvision.tracking.bytetrack.close_frame`: lost tracks
   older than ``track_buffer`` frames removed, tracked/lost duplicates dropped).

A matched track's embedding is the moving average ``0.9 e + 0.1 f`` of its own and the
detection's L2-normalised embedding ``f``, normalised again (a zero embedding counts as none:
its pairs cost 1 on appearance and it changes nothing).

This reproduces ultralytics' ``BOTSORT`` (8.4; the port of the official code most users run),
whose names and defaults the parameters take. Where ultralytics differs from the official
code: ``appearance_thresh`` is a similarity (the official code's 0.25 is a distance: 0.75
here), high boxes include the threshold (official: ``>``), the lost-track buffer is
``track_buffer`` frames at 30 frames/s (both), and a warp maps width and height through
``|A|`` (the box enclosing the warped box; official: through ``A``, which can mix them with
signs). Ultralytics computes the IoU, the box it stores and the embeddings in float32 and this
class in float64, so boxes agree to about 1e-4 px.

References
----------
N. Aharon, R. Orfaig, B.-Z. Bobrovsky. "BoT-SORT: Robust Associations Multi-Pedestrian
Tracking." arXiv:2206.14651, 2022. doi:10.48550/arXiv.2206.14651
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_choice, check_float, check_int
from ..boxes import COST_MODES, CXCYWH, XYXY, convert_kernel, iou_kernel
from ..kalman.kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import (xyah_model, xywh_initiate_kernel, xywh_measurement_noise_kernel,
                             xywh_process_noise_kernel)
from ._base import (MultiObjectTracker, StepRecord, check_detections, check_embeddings, gather_rows, pack_step,
                    scatter_rows, timed_transition)
from .bytetrack import (DET_IDX, ID, STATE, TRACKED, add_pairs, assign, close_frame, is_identity, mark_matched,
                        pools, settle_states, start_track, subset, track_boxes)
from .camera import LAYOUTS, check_warp, warp_states_kernel

__all__ = ["BoTSORT", "BoTSORTTable", "BoTSORTParams"]

#: Weight of a track's embedding in its moving average (the official ``alpha``).
FEATURE_MOMENTUM = 0.9
_IDENTITY = np.eye(3)
#: The ``feats`` argument of :func:`botsort_frame` without ``with_reid``.
_NO_EMBEDDINGS = np.zeros((0, 1), np.float32)
_XYWH = LAYOUTS["xywh"]


class BoTSORTTable(NamedTuple):
    """BoT-SORT's track table: :class:`~scratchvision.tracking.bytetrack.ByteTrackTable`'s fields
    over the state ``[x, y, w, h, vx, vy, vw, vh]``, and the smoothed embeddings."""

    #: (T, 8) Kalman means (centre, width, height and their velocities)
    X: np.ndarray
    #: (T, 8, 8) Kalman covariances
    P: np.ndarray
    #: (T, 9) int64, the columns of :class:`~scratchvision.tracking.bytetrack.ByteTrackTable`
    info: np.ndarray
    #: (T,) score of the last matched detection
    last_score: np.ndarray
    #: (T, D) unit embedding, the moving average of the matched detections' (zero: none yet)
    E: np.ndarray


class BoTSORTParams(NamedTuple):
    """The thresholds one :func:`botsort_frame` reads (see :class:`BoTSORT`)."""

    track_high_thresh: float
    track_low_thresh: float
    new_track_thresh: float
    match_thresh: float
    fuse_score: bool
    proximity_thresh: float
    appearance_thresh: float
    with_reid: bool
    max_time_lost: int
    cost_mode: int


class BoTSORT(MultiObjectTracker):
    """BoT-SORT multi-object tracker.

    Parameters
    ----------
    track_high_thresh : float in [0, 1]
        Score from which a detection is high (first association).
    track_low_thresh : float in [0, 1]
        Score above which a detection below ``track_high_thresh`` is low (second association).
    new_track_thresh : float in [0, 1]
        Score a high detection left unmatched needs to start a track.
    track_buffer : int
        Frames a lost track is kept (at 30 frames/s).
    match_thresh : float in [0, 1]
        Cost limit of the first association.
    fuse_score : bool
        Cost ``1 - IoU * score`` rather than ``1 - IoU`` in the first and unconfirmed
        associations.
    proximity_thresh : float in [0, 1]
        IoU below which appearance cannot match a pair.
    appearance_thresh : float in [0, 1]
        Similarity ``1 - cosine distance / 2`` below which appearance cannot match a pair.
    with_reid : bool
        Use appearance: ``update()`` then needs one embedding per detection.
    frame_rate : int
        Scales ``track_buffer`` (``int(frame_rate / 30 * track_buffer)`` frames); with
        timestamps, the length of a frame (:class:`~scratchvision.tracking.FrameClock`).
    cost : {"iou", "giou", "diou", "ciou"}
        The overlap the associations score pairs by (default: IoU, the paper's); the thresholds
        apply to it unchanged.

    Notes
    -----
    The tracked and lost lists are one table of rows, as in :class:`ByteTrack`: the Kalman
    state ``[x, y, w, h, vx, vy, vw, vh]`` and covariance, the integer columns of
    :mod:`~scratchvision.tracking.bytetrack` (:data:`~scratchvision.tracking.bytetrack.ID`, ...),
    the score and the smoothed embedding.

    Ultralytics' ``BOTSORT(args).update(results, img)`` takes a detector's results and the
    frame, and runs its own ReID network and camera-motion estimate on them. Here the detections
    are an array, the embeddings (``nn.embed``) and the warp
    (:class:`~scratchvision.tracking.CameraMotion`) are arguments of :meth:`update`.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import BoTSORT
    >>> tracker = BoTSORT()
    >>> for dx in range(3):
    ...     out = tracker.update(np.array([[10.0 + dx, 10, 50 + dx, 90, 0.9]]), warp=np.eye(2, 3))
    >>> out[:, 4:6]  # id, score
    array([[1. , 0.9]])
    """

    def __init__(self, track_high_thresh: float = 0.25, track_low_thresh: float = 0.1,
                 new_track_thresh: float = 0.25, track_buffer: int = 30, match_thresh: float = 0.8,
                 fuse_score: bool = True, proximity_thresh: float = 0.5, appearance_thresh: float = 0.8,
                 with_reid: bool = False, frame_rate: int = 30, *, cost: str = "iou"):
        self.track_high_thresh = check_float(track_high_thresh, "track_high_thresh", low=0.0, high=1.0)
        self.track_low_thresh = check_float(track_low_thresh, "track_low_thresh", low=0.0, high=1.0)
        self.new_track_thresh = check_float(new_track_thresh, "new_track_thresh", low=0.0, high=1.0)
        self.track_buffer = check_int(track_buffer, "track_buffer", low=0)
        self.match_thresh = check_float(match_thresh, "match_thresh", low=0.0, high=1.0)
        self.fuse_score = bool(fuse_score)
        self.proximity_thresh = check_float(proximity_thresh, "proximity_thresh", low=0.0, high=1.0)
        self.appearance_thresh = check_float(appearance_thresh, "appearance_thresh", low=0.0, high=1.0)
        self.with_reid = bool(with_reid)
        self.frame_rate = check_int(frame_rate, "frame_rate", low=1)
        self.cost = check_choice(cost, "cost", tuple(COST_MODES))
        self.max_time_lost = int(self.frame_rate / 30.0 * self.track_buffer)
        # a plain tuple: Numba types it ten times faster than the NamedTuple (botsort_frame names it)
        self._params = tuple(BoTSORTParams(
            self.track_high_thresh, self.track_low_thresh, self.new_track_thresh, self.match_thresh,
            self.fuse_score, self.proximity_thresh, self.appearance_thresh, self.with_reid, self.max_time_lost,
            COST_MODES[self.cost]))
        self._model = xyah_model()  # the same constant-velocity F and H over [x, y, w, h]
        super().__init__(self.frame_rate)

    STATE_FORMAT = "cxcywh"
    #: the first association (high boxes), the second (low boxes), the unconfirmed tracks'
    COST_STAGES = ("first", "second", "unconfirmed")

    def _empty_table(self):
        return BoTSORTTable(np.zeros((0, 8)), np.zeros((0, 8, 8)), np.zeros((0, 9), np.int64), np.zeros(0),
                            np.zeros((0, 1)))

    def reset(self):
        """Forget every track and restart ids at 1."""
        super().reset()
        self._n_tracked = 0  # the live rows: the tracked list (rows < _n_tracked), then the lost list
        self._dim = None

    @property
    def frame_id(self):
        """The frame counter under the official code's name (``frame_count``)."""
        return self.frame_count

    def update(self, dets=None, embeddings=None, warp=None, timestamp=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or empty for a frame without
            detections.
        embeddings : array-like (N, D), optional
            With ``with_reid``: one appearance embedding per row of ``dets`` (any D, the same on
            every frame; normalised here; a zero row means none). Ignored without ``with_reid``.
        warp : array-like (2, 3) or (3, 3), optional
            The camera's motion since the last frame, applied to the tracks' predicted states.
        timestamp : float, optional
            The frame's time in seconds, for a variable frame rate
            (:class:`~scratchvision.tracking.FrameClock`).

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the activated tracked tracks (box
            from the filter, score of the matched detection).
        """
        raw = None if dets is None else as_array(dets, "dets")
        dets = check_detections(raw)
        table = self._table
        if self.with_reid:
            n_rows = raw.shape[0] if raw is not None and raw.ndim == 2 else 0
            feats, self._dim = check_embeddings(embeddings, n_rows, dets[3], self._dim, allow_zero=True)
            if table.E.shape[1] != feats.shape[1]:  # the first embeddings: no track has one yet
                self._table = table._replace(E=np.zeros((len(table.E), feats.shape[1])))
        else:
            feats = _NO_EMBEDDINGS  # botsort_frame gives each detection a zero one
        h = check_warp(warp)
        steps, dt = self._start_frame(None, timestamp, len(dets[0]))  # the warp applies after the predict
        motion = (timed_transition(self._model.F, dt), dt, self._model.H)  # F, q_scale, H
        warp = (_IDENTITY if h is None else h, h is not None)
        self._n_tracked, n_lost, self._next_id, out, first, second, unconfirmed, log = botsort_frame(
            tuple(self._table), self._n_tracked, self._n, self._next_id, self.frame_count, dets, feats, warp, motion,
            self._params)
        self._n = self._n_tracked + n_lost
        self._record = StepRecord(self.frame_count, lambda: {"first": first.T, "second": second.T,
                                                              "unconfirmed": unconfirmed.T}, log)
        return out


@kernel
def _predict(X, P, info, pool, F, q_scale):
    """Kalman-predict table rows ``pool`` (process noise times ``q_scale``), the width and height
    velocities of tracks not Tracked zeroed first."""
    for t in pool:
        if info[t, STATE] != TRACKED:
            X[t, 6] = X[t, 7] = 0.0
    Xg, Pg = gather_rows(X, P, pool)
    Q = np.empty((len(pool), 8, 8))
    xywh_process_noise_kernel(Xg, Q)
    if q_scale != 1.0:
        Q *= q_scale
    batch_predict_kernel(Xg, Pg, F, Q)
    scatter_rows(X, P, pool, Xg, Pg)


@kernel(fastmath=True)
def _squared_norm(v):
    """``sum(v ** 2)`` in float64, in any order (so it vectorises)."""
    total = 0.0
    for value in v:
        total += np.float64(value) * np.float64(value)
    return total


@kernel
def _unit_rows(f):
    """Rows of ``f`` divided by their L2 norm, in float64 (zero rows stay zero: no embedding)."""
    out = np.zeros(f.shape)
    for i in range(f.shape[0]):
        norm = np.sqrt(_squared_norm(f[i]))
        if norm > 0.0:
            for k in range(f.shape[1]):
                out[i, k] = f[i, k] / norm
    return out


@kernel(inline=True)
def _any_nonzero(v):
    """True when the vector ``v`` has an entry other than zero (an embedding is present)."""
    for value in v:
        if value != 0.0:
            return True
    return False


@kernel
def _appearance(E, tracks, feats):
    """Half the cosine distance of each track's and each detection's unit embedding (tracks by
    detections); 1 where either has none (a zero row)."""
    mine = np.empty((len(tracks), E.shape[1]))
    for i in range(len(tracks)):
        mine[i] = E[tracks[i]]
    out = (1.0 - mine @ feats.T) / 2.0  # one BLAS product
    det_has = np.empty(len(feats), np.bool_)
    for j in range(len(feats)):
        det_has[j] = _any_nonzero(feats[j])
    for i in range(len(tracks)):
        has = _any_nonzero(mine[i])
        for j in range(len(feats)):
            if not has or not det_has[j]:
                out[i, j] = 1.0
            elif out[i, j] < 0.0:
                out[i, j] = 0.0
    return out


@kernel
def _cost(X, E, tracks, boxes, scores, feats, fuse_score, with_reid, params):
    """The association cost of tracks by detections (steps 3 and 5 of the module notes; with
    ``fuse_score`` and ``with_reid`` False, step 4's ``1 - IoU``)."""
    cost = np.empty((len(tracks), len(boxes)))
    iou_kernel(track_boxes(X, tracks, CXCYWH), boxes, False, params.cost_mode, cost)
    appearance = _appearance(E, tracks, feats) if with_reid else cost
    for i in range(len(tracks)):
        for j in range(len(boxes)):
            overlap = cost[i, j]
            c = 1.0 - overlap * scores[j] if fuse_score else 1.0 - overlap
            if with_reid:
                a = appearance[i, j]
                if a > 1.0 - params.appearance_thresh or overlap < params.proximity_thresh:
                    a = 1.0
                c = min(c, a)
            cost[i, j] = c
    return cost


@kernel
def _take(table, tracks, dets, feats, frame, F, H):
    """Update (or re-activate) table rows ``tracks[j]`` with detection ``j`` of ``dets`` (boxes,
    scores, classes, rows) and embedding ``feats[j]``: the filter, the bookkeeping and the
    embedding's moving average."""
    X, P, info, last_score, E = table
    boxes, scores, classes, rows = dets
    Xg, Pg = gather_rows(X, P, tracks)
    Z = np.empty((len(tracks), 4))
    convert_kernel(boxes, XYXY, CXCYWH, Z)
    R = np.empty((len(tracks), 4, 4))
    xywh_measurement_noise_kernel(Xg, R)
    status = np.empty(len(tracks), np.int64)
    batch_update_kernel(Xg, Pg, Z, H, R, False, F, status)
    scatter_rows(X, P, tracks, Xg, Pg)
    mark_matched(info, last_score, tracks, scores, classes, rows, frame)
    for j in range(len(tracks)):
        e, f = E[tracks[j]], feats[j]
        if not _any_nonzero(f):
            continue
        if not _any_nonzero(e):
            e[:] = f
            continue
        for k in range(len(e)):
            e[k] = FEATURE_MOMENTUM * e[k] + (1.0 - FEATURE_MOMENTUM) * f[k]
        norm = np.sqrt(_squared_norm(e))
        for k in range(len(e)):
            e[k] /= norm


@kernel
def botsort_frame(table, n_tracked, n_old, next_id, frame, dets, feats, warp, motion, params):
    """One BoT-SORT frame (the module notes' steps) on the track table: rows ``< n_tracked`` the
    tracked list, then the lost list up to ``n_old``, room for ``len(boxes)`` more.

    ``table`` is a :class:`BoTSORTTable`, ``dets`` the frame's (boxes, scores, classes, rows)
    (:func:`~scratchvision.tracking._base.check_detections`), ``feats`` (N, D) their embeddings
    (zero rows: none; read only with ``with_reid``, without which no detection has one),
    ``warp`` the pair (3x3 matrix, whether to apply it), ``motion`` the Kalman model (F over the
    elapsed time, ``q_scale`` = the frames elapsed, H) and ``params`` a
    :class:`BoTSORTParams`, all plain tuples (Numba types a NamedTuple argument ten times more
    slowly, a microsecond a call); ``frame`` is the frame number, ``next_id`` the next new id.

    Returns
    -------
    n_tracked, n_lost, next_id, out (M, 8), the three cost matrices, and the packed record
    (:func:`~scratchvision.tracking._base.pack_step`), as :func:`~scratchvision.tracking.bytetrack.bytetrack_frame`
    """
    X, P, info, last_score, E = table
    boxes, scores, classes, rows = dets
    h, with_warp = warp
    F, q_scale, H = motion
    params = BoTSORTParams(*params)
    info[:n_old, DET_IDX] = -1
    feats = _unit_rows(feats) if params.with_reid else np.zeros((len(boxes), E.shape[1]))
    high = np.flatnonzero(scores >= params.track_high_thresh)
    low = np.flatnonzero((scores > params.track_low_thresh) & (scores < params.track_high_thresh))
    unconfirmed, pool = pools(info, n_tracked, n_old)
    _predict(X, P, info, pool, F, q_scale)
    if with_warp:
        warp_states_kernel(X, P, n_old, _XYWH, h, True)
    taken = np.empty(len(boxes), np.int64)
    matched = np.empty(len(boxes), np.int64)
    first = _cost(X, E, pool, boxes[high], scores[high], feats[high], params.fuse_score, params.with_reid, params)
    m1, u_pool, u_high = assign(first, params.match_thresh)
    n_matches = add_pairs(pool, high, m1, taken, matched, 0)
    refound = subset(taken[:n_matches], info[taken[:n_matches], STATE] != TRACKED)

    rest = subset(pool[u_pool], info[pool[u_pool], STATE] == TRACKED)
    second = _cost(X, E, rest, boxes[low], scores[low], feats[low], False, False, params)
    m2, u_rest, _ = assign(second, 0.5)
    n_matches = add_pairs(rest, low, m2, taken, matched, n_matches)
    newly_lost = rest[u_rest]

    high2 = high[u_high]
    unconf = _cost(X, E, unconfirmed, boxes[high2], scores[high2], feats[high2], params.fuse_score,
                   params.with_reid, params)
    m3, u_unconf, u_new = assign(unconf, 0.7)
    n_matches = add_pairs(unconfirmed, high2, m3, taken, matched, n_matches)
    taken, matched = taken[:n_matches], matched[:n_matches]
    _take(table, taken, (boxes[matched], scores[matched], classes[matched], rows[matched]), feats[matched], frame, F, H)
    matches, removed_now = settle_states(info, taken, rows[matched], newly_lost, unconfirmed[u_unconf], len(X))

    n = n_old
    new_rows = np.empty(len(u_new), np.int64)
    n_new = 0
    for j in high2[u_new]:
        if scores[j] < params.new_track_thresh:
            continue
        z = np.empty((1, 4))
        convert_kernel(boxes[j:j + 1], XYXY, CXCYWH, z)
        xywh_initiate_kernel(z, X[n:n + 1], P[n:n + 1])
        E[n] = feats[j]
        start_track(info, last_score, n, next_id, frame, scores[j], classes[j], rows[j])
        new_rows[n_new] = rows[j]
        next_id += 1
        n_new += 1
        n += 1

    newly_lost_ids = info[newly_lost, ID]
    order, n_tracked, out, removed, states = close_frame(table, n_tracked, n_old, n, refound, newly_lost, removed_now,
                                                         frame, params.max_time_lost, CXCYWH, False)
    if not is_identity(order):  # the rows move only when a track changes list or leaves
        X[:len(order)], P[:len(order)], info[:len(order)] = X[order], P[order], info[order]
        last_score[:len(order)], E[:len(order)] = last_score[order], E[order]
    return (n_tracked, len(order) - n_tracked, next_id, out, first, second, unconf,
            pack_step(matches, new_rows[:n_new], newly_lost_ids, removed, info[:len(order), ID], states))


@warmup_hook
def _warmup():
    for with_reid in (False, True):
        tracker = BoTSORT(with_reid=with_reid)
        det = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.2]])
        emb = np.array([[1.0, 0.0], [0.0, 1.0]])
        for _ in range(3):
            tracker.update(det, emb, warp=np.eye(2, 3))
        tracker.update(None)
