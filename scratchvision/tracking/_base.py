"""What every multi-object tracker shares: the base class :class:`MultiObjectTracker` (clock, frame
and id counters, track table, ``boxes``, ``last_step``), detection checks, the output rows, and
the per-frame record of what the tracker did."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from numba import literal_unroll

from .._jit import kernel
from .._validate import as_array, check_float
from ..assignment.lsa import lapjv_kernel
from ..boxes import convert_checked
from ..kalman.kernels import batch_predict_kernel, batch_update_kernel
from ..kalman.models import MAX_COORDINATE, xyah_measurement_noise_kernel, xyah_process_noise_kernel
from .camera import check_warp, warp_states

__all__ = ["MultiObjectTracker", "OUTPUT_COLUMNS", "TrackerStep", "matched_detections", "StepRecord", "pack_step",
           "check_detections", "grow_rows", "remove_rows", "gather_rows", "scatter_rows", "xyah_predict", "xyah_update",
           "max_score_pairs", "gated_association", "STATE_TENTATIVE", "STATE_CONFIRMED", "STATE_LOST"]

#: Columns of every tracker's output rows.
OUTPUT_COLUMNS = ("x1", "y1", "x2", "y2", "id", "score", "class", "det_idx")


def check_detections(dets, name: str = "dets"):
    """Validate one frame's detections.

    Accepts (N, 4) ``x1, y1, x2, y2`` (score taken as 1), (N, 5) with a score, or (N, 6) with a
    score and a class id; ``None`` or an empty array means no detections. Rows with NaN/inf raise
    ValueError, as do coordinates beyond 1e12. Degenerate rows are dropped with a RuntimeWarning (their
    row numbers are never reported as ``det_idx``): a non-positive width or height, or one so much
    smaller than the other that the aspect ratio leaves the float range (the motion models divide
    by it). Scores are used as given (any finite value).

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
        warnings.warn(f"{name}: dropped {n - kept} degenerate boxes (non-positive width or height, or an "
                      "aspect ratio beyond float range)", RuntimeWarning,
                      stacklevel=3)
    if status == _CLASS_NOT_INTEGER:
        raise ValueError(f"{name}: class ids (column 5) must be integers")
    return boxes[:kept], scores[:kept], classes[:kept], rows[:kept]


_OK, _NOT_FINITE, _TOO_FAR, _CLASS_NOT_INTEGER = 0, 1, 2, 3


def check_embeddings(embeddings, n_rows: int, rows, dim, *, allow_zero: bool = False):
    """One frame's appearance embeddings beside its ``n_rows`` detection rows.

    Returns the embeddings of the kept rows ``rows`` (:func:`check_detections`) as float32 (K, D)
    and D; ``dim`` is the D of the earlier frames (None before the first). A ValueError names
    ``embeddings`` when they are missing with detections, of another shape or D, not finite, or
    (unless ``allow_zero``) all zero on a row.
    """
    if not n_rows:
        return np.zeros((0, dim or 1), np.float32), dim
    if embeddings is None:
        raise ValueError("embeddings are required with detections (see color_histogram_embeddings)")
    e = as_array(embeddings, "embeddings")
    if e.ndim != 2 or e.shape[0] != n_rows:
        raise ValueError(f"embeddings must have shape ({n_rows}, D) to match dets, got {e.shape}")
    if dim is not None and e.shape[1] != dim:
        raise ValueError(f"embeddings must have D = {dim} values per row like the earlier frames, got {e.shape[1]}")
    feats = np.ascontiguousarray(e if len(rows) == n_rows else e[rows], np.float32)
    if not _all_finite(feats) or (not allow_zero and (np.linalg.norm(feats, axis=1) == 0).any()):
        raise ValueError("embeddings must be finite" + ("" if allow_zero else " and non-zero"))
    return feats, e.shape[1]


@kernel
def _all_finite(a):
    """True when the float32 (K, D) array ``a`` holds no NaN or inf (compiled: NumPy's
    ``isfinite(a).all()`` cost a tracker 1.5 us a frame)."""
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if not np.isfinite(a[i, j]):
                return False
    return True


@kernel
def _scan_detections(a, max_coordinate, boxes, scores, classes, rows):
    """One frame's detection rows checked (in :func:`check_detections`' order of errors) and the
    rows that are not degenerate copied out: returns ``(status, how many were kept)``."""
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
        w, h = a[i, 2] - a[i, 0], a[i, 3] - a[i, 1]
        if w > 0 and h > 0 and np.isfinite(w / h) and np.isfinite(h / w):
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


@kernel
def max_score_pairs(score):
    """Pairs (row, column), in row order, of the assignment maximising ``score`` (lap-style, any
    shape), as sort.py's ``linear_assignment(-score)``. Callable from Python and from kernels."""
    _, x, _, _ = lapjv_kernel(-score, True, np.inf)
    count = 0
    for c in x:
        if c >= 0:
            count += 1
    pairs = np.empty((count, 2), np.int64)
    k = 0
    for r in range(len(x)):
        if x[r] >= 0:
            pairs[k, 0], pairs[k, 1] = r, x[r]
            k += 1
    return pairs


@kernel
def _one_to_one_above(iou, threshold):
    """Whether the pairs with IoU above ``threshold`` exist and form a one-to-one matching."""
    n_det, n_trk = iou.shape
    per_track = np.zeros(n_trk, np.int64)
    found = False
    for d in range(n_det):
        in_row = 0
        for t in range(n_trk):
            if iou[d, t] > threshold:
                in_row += 1
                per_track[t] += 1
                if in_row > 1 or per_track[t] > 1:
                    return False
                found = True
    return found


@kernel
def gated_association(iou, threshold, score):
    """The association of SORT and OC-SORT (detections by tracks).

    If the pairs with IoU above ``threshold`` are already one-to-one they are taken; otherwise
    the assignment maximising ``score`` (SORT passes the IoU itself) is solved. Pairs with IoU
    below the threshold are then rejected. Callable from Python and from kernels.

    Returns
    -------
    matches (K, 2), unmatched detections, unmatched tracks : int64 arrays
        The unmatched detections come in the reference order: those absent from the
        assignment in ascending order, then the rejected ones in assignment order (this order
        decides the order in which new tracks, and so new ids, are created).
    """
    n_det, n_trk = iou.shape
    if n_det == 0 or n_trk == 0:
        pairs = np.zeros((0, 2), np.int64)
    elif _one_to_one_above(iou, threshold):
        pairs = np.empty((min(n_det, n_trk), 2), np.int64)
        k = 0
        for d in range(n_det):
            for t in range(n_trk):
                if iou[d, t] > threshold:
                    pairs[k, 0], pairs[k, 1] = d, t
                    k += 1
        pairs = pairs[:k]
    else:
        pairs = max_score_pairs(score)
    det_paired = np.zeros(n_det, np.bool_)
    trk_paired = np.zeros(n_trk, np.bool_)
    for k in range(len(pairs)):
        det_paired[pairs[k, 0]] = True
        trk_paired[pairs[k, 1]] = True
    unmatched_d = np.empty(n_det, np.int64)
    unmatched_t = np.empty(n_trk, np.int64)
    n_ud = n_ut = 0
    for d in range(n_det):
        if not det_paired[d]:
            unmatched_d[n_ud] = d
            n_ud += 1
    for t in range(n_trk):
        if not trk_paired[t]:
            unmatched_t[n_ut] = t
            n_ut += 1
    matches = np.empty((len(pairs), 2), np.int64)
    n_m = 0
    for k in range(len(pairs)):
        d, t = pairs[k, 0], pairs[k, 1]
        if iou[d, t] < threshold:
            unmatched_d[n_ud] = d
            unmatched_t[n_ut] = t
            n_ud += 1
            n_ut += 1
        else:
            matches[n_m, 0], matches[n_m, 1] = d, t
            n_m += 1
    return matches[:n_m], unmatched_d[:n_ud], unmatched_t[:n_ut]


def matched_detections(out, dets):
    """The detection box each output row was matched to this frame, beside the tracker's own box.

    Parameters
    ----------
    out : ndarray (M, 8)
        A tracker's output for a frame (``det_idx`` in the last column).
    dets : array-like (N, 4+)
        The detections given to that ``update()`` call.

    Returns
    -------
    ndarray (M, 4)
        ``x1, y1, x2, y2`` of ``dets[det_idx]``; NaN for rows not matched this frame
        (``det_idx`` -1).
    """
    o = as_array(out, "out")
    if o.ndim != 2 or o.shape[1] != len(OUTPUT_COLUMNS):
        raise ValueError(f"out must have shape (M, {len(OUTPUT_COLUMNS)}), got {o.shape}")
    d = np.zeros((0, 4)) if dets is None else as_array(dets, "dets")
    if d.size == 0:
        d = np.zeros((0, 4))
    if d.ndim != 2 or d.shape[1] < 4:
        raise ValueError(f"dets must have shape (N, 4), (N, 5) or (N, 6), got {d.shape}")
    idx = o[:, 7]
    if not np.all((idx == np.round(idx)) & (idx >= -1) & (idx < len(d))):
        raise ValueError(f"out's det_idx column must hold rows of dets (0..{len(d) - 1}) or -1")
    boxes = np.full((len(o), 4), np.nan)
    hit = idx >= 0
    boxes[hit] = d[idx[hit].astype(np.int64), :4]
    return boxes


def grow_rows(arrays, n, rows):
    """A track table (arrays whose first axis is the track row) with room for ``rows`` tracks:
    the same arrays when they have it, else zeroed ones of twice the capacity (at least ``rows``
    and 16) holding the first ``n`` rows."""
    cap = len(arrays[0])
    if rows <= cap:
        return arrays
    cap = max(rows, 2 * cap, 16)
    grown = tuple(np.zeros((cap,) + a.shape[1:], a.dtype) for a in arrays)
    for new, old in zip(grown, arrays):
        new[:n] = old[:n]
    return grown


@kernel
def remove_rows(info, id_col, others, n, drop, removed, n_removed):
    """Delete the tracks ``k < n`` with ``drop[k]`` from a track table, keeping the others in
    order: the integer array ``info`` and every array of the tuple ``others`` lose those rows. The
    ids (column ``id_col`` of ``info``) of the deleted tracks are appended to ``removed`` from
    ``n_removed``. Returns the new ``(n, n_removed)``."""
    kept = 0
    for k in range(n):
        if drop[k]:
            removed[n_removed] = info[k, id_col]
            n_removed += 1
            continue
        if kept != k:
            info[kept] = info[k]
            for a in literal_unroll(others):
                a[kept] = a[k]
        kept += 1
    return kept, n_removed


@kernel
def gather_rows(X, P, rows):
    """Copies of the filter states and covariances of table rows ``rows``."""
    Xg, Pg = np.empty((len(rows), X.shape[1])), np.empty((len(rows), X.shape[1], X.shape[1]))
    for j in range(len(rows)):
        Xg[j], Pg[j] = X[rows[j]], P[rows[j]]
    return Xg, Pg


@kernel
def scatter_rows(X, P, rows, Xg, Pg):
    """Write :func:`gather_rows`' copies back to table rows ``rows``."""
    for j in range(len(rows)):
        X[rows[j]], P[rows[j]] = Xg[j], Pg[j]


@kernel
def xyah_predict(X, P, F, q_scale):
    """Predict the DeepSORT/ByteTrack filters ``X`` (N, 8), ``P`` with process noise from each
    state's height, taken before the predict, times ``q_scale`` (the frames elapsed,
    :class:`FrameClock`)."""
    Q = np.empty((X.shape[0], 8, 8))
    xyah_process_noise_kernel(X, Q)
    if q_scale != 1.0:
        Q *= q_scale
    batch_predict_kernel(X, P, F, Q)


class FrameClock:
    """How far each ``update()`` moves a tracker's clock, in frames of ``1 / frame_rate`` s.

    Without timestamps every update is one frame. With them (seconds, increasing; given on
    every update or on none), an update ``dt = (timestamp - last) * frame_rate`` frames after
    the last one predicts the Kalman filters over ``dt`` frames (transition ``I + dt (F - I)``,
    process noise ``dt Q``: the per-frame variance accrues linearly with time) and advances the
    frame counts (ages, frames since the last match, the frame number) by ``round(dt)``, at
    least 1. So every parameter counted in frames (``max_age``, ``track_buffer``, ``min_hits``'
    first frames, ``delta_t``) counts frames of ``1 / frame_rate`` s: ``max_age=30`` at
    ``frame_rate=30`` is one second. An interval within 1e-6 of a whole number of frames is
    that number exactly, so regular timestamps give the outputs of no timestamps bit for bit.

    Parameters
    ----------
    frame_rate : float
        Frames per second.
    """

    def __init__(self, frame_rate: float):
        self.frame_rate = check_float(frame_rate, "frame_rate", low=0.0)
        if not self.frame_rate > 0:
            raise ValueError(f"frame_rate must be positive, got {frame_rate}")
        self.reset()

    def reset(self):
        self._last, self._timed = None, None

    def advance(self, timestamp):
        """``(steps, dt)`` of an update at ``timestamp`` (None: no timestamps)."""
        if timestamp is None:
            if self._timed:
                raise ValueError("timestamp is required on every update once given (got None)")
            self._timed = False
            return 1, 1.0
        t = check_float(timestamp, "timestamp")
        if self._timed is False:
            raise ValueError("timestamp: give timestamps from the first update on, or never")
        steps, dt = 1, 1.0
        if self._last is not None:
            if not t > self._last:
                raise ValueError(f"timestamp must increase from update to update, got {t} after {self._last}")
            dt = (t - self._last) * self.frame_rate
            if abs(dt - round(dt)) < 1e-6 and round(dt) >= 1:
                dt = float(round(dt))
            steps = max(1, int(round(dt)))
        self._last, self._timed = t, True
        return steps, dt


def timed_transition(F, dt):
    """``F`` of a constant-velocity model over ``dt`` frames: ``I + dt (F - I)`` (``F`` itself
    when ``dt == 1``)."""
    return F if dt == 1.0 else np.eye(len(F)) + dt * (F - np.eye(len(F)))


def timed_noise(Q, dt):
    """A fixed process noise ``Q`` over ``dt`` frames: ``dt Q`` (``Q`` itself when ``dt == 1``;
    the state-dependent noises of ByteTrack, DeepSORT and BoT-SORT are scaled in their kernels)."""
    return Q if dt == 1.0 else Q * dt


@kernel
def xyah_update(X, P, Z, F, H):
    """Update the DeepSORT/ByteTrack filters ``X`` (N, 8), ``P`` with measurements ``Z`` (N, 4)
    ``[x, y, a, h]``: measurement noise from each predicted height, the short form ``P - K S K'``."""
    R = np.empty((X.shape[0], 4, 4))
    xyah_measurement_noise_kernel(X, R)
    status = np.empty(X.shape[0], np.int64)
    batch_update_kernel(X, P, Z, H, R, False, F, status)


@dataclass
class TrackerStep:
    """What a tracker did on its last ``update()`` (``tracker.last_step``).

    Attributes
    ----------
    frame : int
        Number of updates so far (1 on the first frame).
    costs : dict of str -> ndarray
        The cost (or IoU) matrices of each association stage, detections by tracks (row ``i``
        is the stage's ``i``-th detection, column ``j`` its ``j``-th track), for every tracker.
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


#: Track state codes of a :class:`StepRecord`, and their names in :attr:`TrackerStep.track_states`.
STATE_TENTATIVE, STATE_CONFIRMED, STATE_LOST = 0, 1, 2
STATE_NAMES = np.array(["tentative", "confirmed", "lost"])


@kernel
def pack_step(matches, unmatched_detections, unmatched_tracks, removed, track_ids, states):
    """The integer parts of a frame's record in one int64 array (handing one array back to Python
    costs a sixth of handing six): the lengths K, U, V, R, T, then the K (detection row, track id)
    pairs, the U unmatched detection rows, the V unmatched track ids, the R removed ids, the T live
    track ids and their T state codes. :class:`StepRecord` unpacks it."""
    k, u, v, r, t = len(matches), len(unmatched_detections), len(unmatched_tracks), len(removed), len(track_ids)
    log = np.empty(5 + 2 * k + u + v + r + 2 * t, np.int64)
    log[0], log[1], log[2], log[3], log[4] = k, u, v, r, t
    at = 5
    for j in range(k):
        log[at], log[at + 1] = matches[j, 0], matches[j, 1]
        at += 2
    at = _copy_into(log, at, unmatched_detections)
    at = _copy_into(log, at, unmatched_tracks)
    at = _copy_into(log, at, removed)
    at = _copy_into(log, at, track_ids)
    _copy_into(log, at, states)
    return log


@kernel
def _copy_into(out, at, values):
    """``out[at:at + len(values)] = values``; returns the position after them."""
    for j in range(len(values)):
        out[at + j] = values[j]
    return at + len(values)


class StepRecord:
    """A compiled tracker frame's costs (a dict, or a function that builds it) and packed integer
    record (:func:`pack_step`), turned into a :class:`TrackerStep` only when someone reads
    ``last_step`` (building it every frame would cost as much as the frame).

    State codes are :data:`STATE_TENTATIVE`, :data:`STATE_CONFIRMED` and :data:`STATE_LOST`.
    """

    __slots__ = ("_frame", "_costs", "_log", "_step")

    def __init__(self, frame, costs=None, log=None):
        self._frame, self._costs, self._log, self._step = frame, costs, log, None

    def step(self) -> TrackerStep:
        if self._step is None:
            if self._log is None:
                self._step = TrackerStep(frame=self._frame)
            else:
                log = self._log
                costs = self._costs() if callable(self._costs) else self._costs
                k, u, v, r, t = (int(x) for x in log[:5])
                parts = np.split(log[5 + 2 * k:], np.cumsum([u, v, r, t]))
                self._step = TrackerStep(
                    frame=self._frame, costs=costs, matches=log[5:5 + 2 * k].reshape(k, 2),
                    unmatched_detections=parts[0], unmatched_tracks=parts[1], removed=parts[2],
                    track_ids=parts[3], track_states=STATE_NAMES[parts[4]])
        return self._step


class MultiObjectTracker:
    """What the five multi-object trackers share.

    * ``frame_count``: the frame counter (advanced by :class:`FrameClock` on every ``update``);
    * the id counter: per instance, the next id starts at 1 (``reset`` restarts it);
    * the track table ``_table``: a NamedTuple of arrays (the subclass's ``Table``) whose rows
      ``< _n`` are the live tracks; its first two fields are the Kalman means ``X`` (a box in
      :attr:`STATE_FORMAT` first) and covariances ``P``. It grows by doubling
      (:func:`grow_rows`), so the frame kernels write new tracks in place;
    * ``boxes`` (the live tracks' filter boxes) and ``last_step`` (the :class:`TrackerStep` of the
      last update, its costs named by the class's :attr:`COST_STAGES`).

    A subclass defines ``Table``, :meth:`_empty_table` and ``update``, which starts with
    :meth:`_start_frame` and ends by setting ``_record``.
    """

    #: The box layout of the Kalman state's first four entries (:data:`~scratchvision.boxes.FORMATS`).
    STATE_FORMAT = "xysr"
    #: The keys of ``last_step.costs``: one cost matrix per association stage, detections by tracks.
    COST_STAGES: tuple = ()

    def __init__(self, frame_rate: float):
        self._clock = FrameClock(frame_rate)
        self.reset()

    def _empty_table(self):
        """The track table with no rows."""
        raise NotImplementedError

    def reset(self):
        """Forget every track and restart ids at 1."""
        self._clock.reset()
        self.frame_count = 0
        self._next_id = 1
        self._n = 0
        self._table = self._empty_table()
        self._record = StepRecord(0)

    @property
    def boxes(self):
        """Current box (filter mean) of every live track in table order (ByteTrack and BoT-SORT:
        the tracked list, then the lost one), (T, 4) x1, y1, x2, y2."""
        return convert_checked(self._table.X[:self._n, :4], self.STATE_FORMAT, "xyxy")

    @property
    def last_step(self) -> TrackerStep:
        """The :class:`TrackerStep` of the last ``update()`` (costs named by :attr:`COST_STAGES`,
        detections by tracks)."""
        return self._record.step()

    def _warp(self, h):
        """Apply the camera's motion ``h`` (3, 3) to the live tracks' filters."""
        warp_states(self._table.X, self._table.P, self._n, self.STATE_FORMAT, h)

    def _start_frame(self, warp, timestamp, new_rows: int):
        """The start of every ``update``: the clock advances, ``warp`` (if given) moves the live
        tracks, ``frame_count`` advances and the table gets room for ``new_rows`` new tracks.
        Returns ``(steps, dt)`` (:meth:`FrameClock.advance`)."""
        steps, dt = self._clock.advance(timestamp)
        if warp is not None:
            self._warp(check_warp(warp))
        self.frame_count += steps
        self._grow(new_rows)
        return steps, dt

    def _grow(self, new_rows: int):
        """Room in the table for ``new_rows`` tracks after the live ones (:func:`grow_rows`)."""
        if self._n + new_rows > len(self._table.X):
            self._table = type(self._table)(*grow_rows(self._table, self._n, self._n + new_rows))
