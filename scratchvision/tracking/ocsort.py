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

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_choice, check_float, check_int
from ..boxes import COST_MODES, XYSR, XYXY, convert_kernel, iou_kernel
from ..kalman.kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import xysr_model
from ._base import (MultiObjectTracker, StepRecord, check_detections, gated_association, max_score_pairs, pack_step,
                    remove_rows, timed_noise, timed_transition)
from .camera import local_affine, warp_boxes, warp_states
from .sort import AGE, CLASS, HIT_STREAK, HITS, ID, TIME_SINCE_UPDATE, predict_tracks, reported_tracks, track_states

__all__ = ["OCSort", "OCSortTable", "OCSortMotion", "OCSortParams"]

#: Columns of the integer track table ``info`` after SORT's six (:data:`~.sort.ID` ...
#: :data:`~.sort.CLASS`, which SORT's shared kernels read): ``N_UPDATES`` counts the filter's
#: update calls (misses included), ``LAST_Z_AT`` is the update call of the last (real or virtual)
#: measurement, ``OBSERVED`` whether the last call had one, ``FROZEN`` whether a filter copy was
#: frozen at a first miss (for ORU).
DET_IDX, OBSERVED, FROZEN, N_UPDATES, LAST_Z_AT = range(6, 11)
#: Column blocks of the float track table ``V``: the last matched score, the last observation
#: ``x1, y1, x2, y2, score`` (-1s before the first), the direction of motion ``(dy, dx)``, and the
#: last measurement ``[x, y, s, r]`` the filter took.
SCORE, LAST_OBS, VELOCITY, LAST_Z = 0, 1, 6, 8
_V_COLUMNS = 12
#: An age no observation has.
_NO_AGE = np.iinfo(np.int64).min


class OCSortTable(NamedTuple):
    """OC-SORT's track table: row ``t`` is one track, in creation order (rows ``< n`` live)."""

    #: (T, 7) Kalman means ``[x, y, s, r, vx, vy, vs]`` (SORT's state)
    X: np.ndarray
    #: (T, 7, 7) Kalman covariances
    P: np.ndarray
    #: (T, 7) the mean frozen at the first miss (ORU restores it)
    FX: np.ndarray
    #: (T, 7, 7) the covariance frozen with it
    FP: np.ndarray
    #: (T, 11) int64: SORT's six columns (:data:`ID` ... :data:`CLASS`), then :data:`DET_IDX`,
    #: :data:`OBSERVED`, :data:`FROZEN`, :data:`N_UPDATES`, :data:`LAST_Z_AT`
    info: np.ndarray
    #: (T, 12) float columns: :data:`SCORE`, :data:`LAST_OBS` (5), :data:`VELOCITY` (2), :data:`LAST_Z` (4)
    V: np.ndarray
    #: (T, delta_t + 1, 5) the last observations ``x1, y1, x2, y2, score``, indexed by age modulo the ring
    ring: np.ndarray
    #: (T, delta_t + 1) int64 the age of each ring slot's observation (:data:`_NO_AGE`: none)
    ring_age: np.ndarray


class OCSortMotion(NamedTuple):
    """The Kalman model of one OC-SORT frame: the one-frame ``F`` and ``Q`` (ORU's virtual steps),
    the same over the frame's elapsed time (the predict), the frames elapsed, ``H``, ``R``, ``P0``."""

    F: np.ndarray
    Q: np.ndarray
    F_elapsed: np.ndarray
    Q_elapsed: np.ndarray
    steps: int
    H: np.ndarray
    R: np.ndarray
    P0: np.ndarray


class OCSortParams(NamedTuple):
    """OC-SORT's thresholds, as :func:`ocsort_frame` reads them."""

    det_thresh: float
    max_age: int
    min_hits: int
    iou_threshold: float
    delta_t: int
    inertia: float
    class_aware: bool
    #: the association cost's code (:data:`~scratchvision.boxes.COST_MODES`)
    cost_mode: int


class OCSort(MultiObjectTracker):
    """OC-SORT multi-object tracker.

    Parameters
    ----------
    det_thresh : float in [0, 1]
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
    cost : {"iou", "giou", "diou", "ciou"}
        The overlap the association scores pairs by (default: IoU, the paper's; the generalised,
        distance and complete IoU of :mod:`scratchvision.boxes` also rank boxes that do not
        overlap); the thresholds apply to it unchanged.
    frame_rate : float
        With timestamps (``update(..., timestamp=)``), the frames per second the frame counts
        refer to (:class:`~scratchvision.tracking.FrameClock`).

    Notes
    -----
    The tracks live in an :class:`OCSortTable` of rows, one per track, in creation order: the filter's ``X``
    (T, 7) and ``P`` (T, 7, 7), the copy frozen at the first miss, the integer columns ``info``
    (:data:`ID` ... :data:`LAST_Z_AT`), the float columns ``V`` (:data:`SCORE`, :data:`LAST_OBS`,
    :data:`VELOCITY`, :data:`LAST_Z`), and the observations of the last ``delta_t + 1`` ages (a
    ring indexed by age). One call of the compiled :func:`ocsort_frame` runs a whole frame on it.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import OCSort
    >>> tracker = OCSort(min_hits=1)
    >>> det = np.array([[10, 10, 50, 80, 0.9]])
    >>> tracker.update(det)[:, 4].tolist()
    [1.0]
    >>> tracker.update(det + 2)[:, 4].tolist()
    [1.0]
    """

    def __init__(self, det_thresh: float = 0.6, max_age: int = 30, min_hits: int = 3,
                 iou_threshold: float = 0.3, delta_t: int = 3, inertia: float = 0.2, *,
                 class_aware: bool = False, cost: str = "iou", frame_rate: float = 30.0):
        self.det_thresh = check_float(det_thresh, "det_thresh", low=0.0, high=1.0)
        self.max_age = check_int(max_age, "max_age", low=0)
        self.min_hits = check_int(min_hits, "min_hits", low=0)
        self.iou_threshold = check_float(iou_threshold, "iou_threshold", low=0.0, high=1.0)
        self.delta_t = check_int(delta_t, "delta_t", low=1)
        self.inertia = check_float(inertia, "inertia", low=0.0)
        self.class_aware = bool(class_aware)
        self.cost = check_choice(cost, "cost", tuple(COST_MODES))
        self._model = xysr_model()
        self._Q = self._model.Q[None].copy()
        self._R = self._model.R[None].copy()
        super().__init__(frame_rate)

    STATE_FORMAT = "xysr"
    #: ``"iou"`` and ``"direction"`` of the first association (when there were tracks), ``"recovery_iou"``
    #: of OCR (when it ran)
    COST_STAGES = ("iou", "direction", "recovery_iou")

    def _empty_table(self):
        ring = self.delta_t + 1
        return OCSortTable(np.zeros((0, 7)), np.zeros((0, 7, 7)), np.zeros((0, 7)), np.zeros((0, 7, 7)),
                           np.zeros((0, 11), np.int64), np.zeros((0, _V_COLUMNS)), np.zeros((0, ring, 5)),
                           np.zeros((0, ring), np.int64))

    def update(self, dets=None, warp=None, timestamp=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``; ``None`` or empty for a frame without
            detections.
        warp : array-like (2, 3) or (3, 3), optional
            The camera's motion since the last frame, applied first (as :meth:`Sort.update`) to
            the filters (and the copies frozen for ORU) and to the stored observations, last
            measurements and directions of motion, all of which are image positions.
        timestamp : float, optional
            The frame's time in seconds, for a variable frame rate (:class:`FrameClock`: the
            filters predict over the elapsed time; ``max_age``, ``min_hits``' first frames,
            ``delta_t`` and ORU's gaps count frames of ``1 / frame_rate`` s).

        Returns
        -------
        ndarray (M, 8)
            ``x1, y1, x2, y2, id, score, class, det_idx`` of the reported tracks (newest first,
            as the official code), boxes being the last observed detection boxes.
        """
        dets = check_detections(dets)
        steps, dt = self._start_frame(warp, timestamp, len(dets[0]))
        m = self._model
        motion = (m.F, self._Q, timed_transition(m.F, dt), timed_noise(self._Q, dt), steps, m.H, self._R,
                  m.P0)  # OCSortMotion
        params = (self.det_thresh, self.max_age, self.min_hits, self.iou_threshold, self.delta_t, self.inertia,
                  self.class_aware, COST_MODES[self.cost])  # OCSortParams
        self._n, self._next_id, out, iou, direction, recovery, ran, log = ocsort_frame(
            tuple(self._table), self._n, self._next_id, self.frame_count, dets, motion, params)
        costs = {}
        if ran[0]:
            costs["iou"], costs["direction"] = iou, direction
        if ran[1]:
            costs["recovery_iou"] = recovery
        self._record = StepRecord(self.frame_count, costs, log)
        return out

    def _warp(self, h):
        """The camera's motion ``h`` applied to every image quantity of the live tracks."""
        x, p, x_frozen, p_frozen, _, v, ring, ages = self._table
        n = self._n
        if n == 0:
            return
        warp_states(x, p, n, "xysr", h)
        warp_states(x_frozen, p_frozen, n, "xysr", h)
        observed = v[:n, LAST_OBS:LAST_OBS + 5].sum(axis=1) >= 0  # the official test (-1s before any)
        v[:n, LAST_OBS:LAST_OBS + 4][observed] = warp_boxes(v[:n, LAST_OBS:LAST_OBS + 4][observed], h)
        z = np.zeros((n, 7))  # the measurement [x, y, s, r] as a state without velocity
        z[:, :4] = v[:n, LAST_Z:LAST_Z + 4]
        warp_states(z, None, n, "xysr", h)
        v[:n, LAST_Z:LAST_Z + 4] = z[:, :4]
        seen = ages[:n] != _NO_AGE
        ring[:n, :, :4][seen] = warp_boxes(ring[:n, :, :4][seen], h)
        # directions (dy, dx): turned by the warp's linear part at each track, unit length again
        linear, _ = local_affine(h, x[:n, :2])
        d = np.einsum("nij,nj->ni", linear, v[:n, VELOCITY:VELOCITY + 2][:, ::-1])[:, ::-1]
        norm = np.linalg.norm(d, axis=1)
        moving = norm > 0
        v[:n, VELOCITY:VELOCITY + 2][moving] = d[moving] / (norm[moving, None] + 1e-6)


@kernel
def _z(box, out):
    """Box ``x1, y1, x2, y2`` -> OC-SORT's measurement ``[x, y, s, r]`` (``r = w / (h + 1e-6)``)."""
    w = box[2] - box[0]
    h = box[3] - box[1]
    out[0], out[1], out[2], out[3] = box[0] + w / 2.0, box[1] + h / 2.0, w * h, w / (h + 1e-6)


@kernel
def _observed(last_obs):
    """Whether a track has an observation: the official ``last_observation.sum() >= 0`` (which
    misfires for boxes whose values sum below zero)."""
    total = 0.0
    for v in last_obs:
        total += v
    return total >= 0


@kernel
def _direction(a, b):
    """Unit vector ``(dy, dx)`` from the centre of box ``a`` to that of box ``b`` (norm + 1e-6)."""
    dx = (b[0] + b[2]) / 2.0 - (a[0] + a[2]) / 2.0
    dy = (b[1] + b[3]) / 2.0 - (a[1] + a[3]) / 2.0
    norm = np.sqrt(dx ** 2 + dy ** 2) + 1e-6
    return dy / norm, dx / norm


@kernel
def _previous_observation(V, ring, ring_age, k, age, delta_t):
    """The observation of track ``k`` ``delta_t`` ages back, else the closest younger one within
    ``delta_t``, else its last one (-1s when it has none)."""
    for dt in range(delta_t, 0, -1):
        slot = (age - dt) % ring.shape[1]
        if ring_age[k, slot] == age - dt:
            return ring[k, slot]
    return V[k, LAST_OBS:LAST_OBS + 5]


@kernel
def _observe(table, k, obs, motion, delta_t):
    """Track ``k`` of ``table`` observed with ``obs`` (``x1, y1, x2, y2, score``): direction of
    motion, the observation history, and the filter update, preceded by ORU after a gap: the
    filter frozen at the first miss is restored and run over virtual measurements interpolated
    linearly in centre, width and height from the last measurement to this one, one per frame of
    the gap (``motion``'s ``steps`` frames passed since the last update)."""
    X, P, FX, FP, info, V, ring, ring_age = table
    F, Q, _, _, steps, H, R, _ = motion
    age = info[k, AGE]
    if _observed(V[k, LAST_OBS:LAST_OBS + 5]):
        previous = _previous_observation(V, ring, ring_age, k, age, delta_t)
        V[k, VELOCITY], V[k, VELOCITY + 1] = _direction(previous, obs)
    V[k, LAST_OBS:LAST_OBS + 5] = obs
    ring[k, age % ring.shape[1]] = obs
    ring_age[k, age % ring.shape[1]] = age
    info[k, TIME_SINCE_UPDATE] = 0
    info[k, HITS] += 1
    info[k, HIT_STREAK] += 1
    z = np.empty((1, 4))
    _z(obs, z[0])
    info[k, N_UPDATES] += steps
    status = np.empty(1, np.int64)
    if info[k, OBSERVED] == 0 and info[k, FROZEN] == 1:
        X[k], P[k] = FX[k], FP[k]
        cx1, cy1, s1, r1 = V[k, LAST_Z], V[k, LAST_Z + 1], V[k, LAST_Z + 2], V[k, LAST_Z + 3]
        w1, h1 = np.sqrt(s1 * r1), np.sqrt(s1 / r1)
        cx2, cy2, s2, r2 = z[0, 0], z[0, 1], z[0, 2], z[0, 3]
        w2, h2 = np.sqrt(s2 * r2), np.sqrt(s2 / r2)
        gap = info[k, N_UPDATES] - 1 - info[k, LAST_Z_AT]
        dx, dy = (cx2 - cx1) / gap, (cy2 - cy1) / gap
        dw, dh = (w2 - w1) / gap, (h2 - h1) / gap
        virtual = np.empty((1, 4))
        for i in range(gap):
            w, h = w1 + (i + 1) * dw, h1 + (i + 1) * dh
            virtual[0, 0], virtual[0, 1] = cx1 + (i + 1) * dx, cy1 + (i + 1) * dy
            virtual[0, 2], virtual[0, 3] = w * h, w / h
            batch_update_kernel(X[k:k + 1], P[k:k + 1], virtual, H, R, True, F, status)
            if i != gap - 1:
                batch_predict_kernel(X[k:k + 1], P[k:k + 1], F, Q)
        V[k, LAST_Z:LAST_Z + 4] = virtual[0]
    else:
        V[k, LAST_Z:LAST_Z + 4] = z[0]
    info[k, LAST_Z_AT] = info[k, N_UPDATES] - 1
    info[k, OBSERVED] = 1
    batch_update_kernel(X[k:k + 1], P[k:k + 1], z, H, R, True, F, status)


@kernel
def _miss(table, k, steps):
    """Track ``k`` of ``table`` not observed this frame (``steps`` frames after the last update):
    its filter is left as predicted, and frozen if the last frame had an observation."""
    X, P, FX, FP, info = table[0], table[1], table[2], table[3], table[4]
    info[k, N_UPDATES] += steps
    if info[k, OBSERVED] == 1:
        FX[k], FP[k] = X[k], P[k]
        info[k, FROZEN] = 1
    info[k, OBSERVED] = 0


@kernel
def ocsort_frame(table, n, next_id, frame, dets, motion, params):
    """One OC-SORT frame on the track table (rows ``< n`` live; room for ``n + len(boxes)``).

    ``table`` is an :class:`OCSortTable`, ``dets`` the frame's (boxes, scores, classes, rows)
    (:func:`~scratchvision.tracking._base.check_detections`), ``motion`` an
    :class:`OCSortMotion` and ``params`` an :class:`OCSortParams`, all plain tuples (Numba types a
    NamedTuple argument ten times more slowly, a microsecond a call); ``frame`` is the frame
    number, ``next_id`` the next new id.

    1. Keep detections scoring above ``det_thresh``; predict every track as SORT does, deleting
       tracks whose predicted box is not finite.
    2. OCM: IoU plus the direction term ``(pi/2 - |angle|) / pi * inertia * score``, the angle
       between a track's direction of motion and the direction from its observation ``delta_t``
       ages back to the detection; :func:`gated_association` on it.
    3. OCR: detections left against the last observed boxes of tracks left, when the best IoU
       passes the threshold.
    4. Observe the matched tracks (:func:`_observe`, with ORU), miss the others, start a track
       for each detection left.
    5. Report, newest first, tracks observed this frame with a hit streak of ``min_hits`` (all
       of them while ``frame <= min_hits``) at their last observed box; delete tracks unmatched
       for more than ``max_age`` frames.

    Returns
    -------
    n, next_id, out (M, 8), the OCM IoU and direction matrices, the OCR IoU matrix, whether
    OCM and OCR ran (2,), and the packed record (:func:`pack_step`): matches (detection row,
    track id), unmatched detection rows, unmatched track ids, removed ids, ids of the live
    tracks, their states
    """
    X, P, FX, FP, info, V, ring, ring_age = table
    boxes, scores, classes, rows = dets
    F_elapsed, Q_elapsed, steps, P0 = motion[2], motion[3], motion[4], motion[7]
    det_thresh, max_age, min_hits, iou_threshold, delta_t, inertia, class_aware, cost_mode = params
    keep = np.flatnonzero(scores > det_thresh)
    n_det = len(keep)
    obs = np.empty((n_det, 5))
    obs[:, :4] = boxes[keep]
    obs[:, 4] = scores[keep]
    d_cls, d_rows = classes[keep], rows[keep]
    removed = np.empty(n + n_det, np.int64)
    ran = np.zeros(2, np.bool_)

    info[:n, DET_IDX] = -1
    predicted, dead = predict_tracks(X, P, info, n, F_elapsed, Q_elapsed, steps)
    n, n_removed = remove_rows(info, ID, (X, P, FX, FP, V, ring, ring_age), n, dead, removed, 0)
    last_boxes = V[:n, LAST_OBS:LAST_OBS + 4].copy()

    iou = np.empty((n_det, n))
    direction = np.empty((n_det, n))
    if n == 0:
        matches, u_det, u_trk = np.zeros((0, 2), np.int64), np.arange(n_det), np.zeros(0, np.int64)
    else:
        ran[0] = True
        iou_kernel(obs[:, :4], predicted, False, cost_mode, iou)
        for t in range(n):
            previous = _previous_observation(V, ring, ring_age, t, info[t, AGE], delta_t)
            valid = 1.0 if previous[4] >= 0 else 0.0
            for d in range(n_det):
                if class_aware and d_cls[d] != info[t, CLASS]:
                    iou[d, t] = 0.0
                dy, dx = _direction(previous, obs[d])
                cos = V[t, VELOCITY + 1] * dx + V[t, VELOCITY] * dy
                cos = min(max(cos, -1.0), 1.0)
                angle = (np.pi / 2.0 - abs(np.arccos(cos))) / np.pi
                direction[d, t] = valid * angle * inertia * obs[d, 4]
        matches, u_det, u_trk = gated_association(iou, iou_threshold, iou + direction)
    matched = np.empty((n_det, 2), np.int64)
    n_matched = 0
    for j in range(len(matches)):
        d, k = matches[j, 0], matches[j, 1]
        _observe(table, k, obs[d], motion, delta_t)
        V[k, SCORE], info[k, CLASS], info[k, DET_IDX] = obs[d, 4], d_cls[d], d_rows[d]
        matched[n_matched, 0], matched[n_matched, 1] = d_rows[d], info[k, ID]
        n_matched += 1

    recovery = np.empty((len(u_det), len(u_trk)))
    if len(u_det) and len(u_trk):
        ran[1] = True
        iou_kernel(obs[u_det, :4], last_boxes[u_trk], False, cost_mode, recovery)
        if class_aware:
            for i in range(len(u_det)):
                for j in range(len(u_trk)):
                    if d_cls[u_det[i]] != info[u_trk[j], CLASS]:
                        recovery[i, j] = 0.0
        if recovery.max() > iou_threshold:
            used_d, used_t = np.zeros(n_det, np.bool_), np.zeros(n, np.bool_)
            for pair in max_score_pairs(recovery):
                i, j = pair[0], pair[1]
                if recovery[i, j] < iou_threshold:
                    continue
                d, k = u_det[i], u_trk[j]
                _observe(table, k, obs[d], motion, delta_t)
                V[k, SCORE], info[k, CLASS], info[k, DET_IDX] = obs[d, 4], d_cls[d], d_rows[d]
                matched[n_matched, 0], matched[n_matched, 1] = d_rows[d], info[k, ID]
                n_matched += 1
                used_d[d], used_t[k] = True, True
            u_det = np.unique(u_det[~used_d[u_det]])
            u_trk = np.unique(u_trk[~used_t[u_trk]])
    unmatched_ids = np.empty(len(u_trk), np.int64)
    for j in range(len(u_trk)):
        _miss(table, u_trk[j], steps)
        unmatched_ids[j] = info[u_trk[j], ID]
    for d in u_det:
        X[n], P[n] = 0.0, P0
        _z(obs[d], X[n, :4])
        info[n] = 0
        info[n, ID], info[n, CLASS], info[n, DET_IDX], info[n, LAST_Z_AT] = next_id, d_cls[d], d_rows[d], -1
        V[n] = 0.0
        V[n, SCORE] = obs[d, 4]
        V[n, LAST_OBS:LAST_OBS + 5] = -1.0
        ring_age[n] = _NO_AGE
        next_id += 1
        n += 1

    reported = reported_tracks(info, n, frame, min_hits)
    out = np.empty((len(reported), 8))
    for j in range(len(reported)):
        k = reported[j]
        if _observed(V[k, LAST_OBS:LAST_OBS + 5]):
            out[j, :4] = V[k, LAST_OBS:LAST_OBS + 4]
        else:
            convert_kernel(X[k:k + 1, :4], XYSR, XYXY, out[j:j + 1, :4])
        out[j, 4], out[j, 5], out[j, 6], out[j, 7] = info[k, ID], V[k, SCORE], info[k, CLASS], info[k, DET_IDX]

    stale = info[:n, TIME_SINCE_UPDATE] > max_age
    n, n_removed = remove_rows(info, ID, (X, P, FX, FP, V, ring, ring_age), n, stale, removed, n_removed)
    return (n, next_id, out, iou, direction, recovery, ran,
            pack_step(matched[:n_matched], d_rows[u_det], unmatched_ids, removed[:n_removed], info[:n, ID],
                      track_states(info, n, min_hits)))


@warmup_hook
def _warmup():
    tracker = OCSort(min_hits=0)
    det = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.8]])
    tracker.update(det)
    tracker.update(None)
    tracker.update(det + 2.0)
