"""DeepSORT: SORT with a deep association metric (Wojke et al. 2017).

Tracks live in the DeepSORT/ByteTrack Kalman filter (``[x, y, a, h]``). Confirmed tracks are
matched by a *matching cascade*: tracks seen one frame ago first, then two frames ago, and so on;
at each level the cost is the smallest cosine distance between the detection's appearance
embedding and the track's gallery of recent embeddings (``nn_budget`` per track), with pairs whose
squared Mahalanobis distance exceeds the chi-square 0.95 quantile (4 degrees of freedom) gated
out and costs above ``max_cosine_distance`` rejected. Tentative tracks and tracks missed only this
frame are then matched by IoU (``1 - IoU <= max_iou_distance``). A track is confirmed after
``n_init`` consecutive hits, deleted on any miss while tentative, and deleted after ``max_age``
misses. This follows the reference deep_sort (and the deep-sort-realtime package) step by step;
embeddings come from the caller, or from :func:`color_histogram_embeddings` for a network-free
descriptor.

References
----------
N. Wojke, A. Bewley, D. Paulus. "Simple Online and Realtime Tracking with a Deep Association
Metric." ICIP 2017. doi:10.1109/ICIP.2017.8296962
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_boxes, check_choice, check_float, check_image, check_int
from ..assignment.lsa import lsa_kernel
from ..boxes import COST_MODES, XYAH, XYXY, convert_kernel, iou_kernel
from ..kalman.kernels import mahalanobis_sq_kernel
from ..kalman.models import CHI2INV95, xyah_initiate_kernel, xyah_measurement_noise_kernel, xyah_model
from ._base import (STATE_CONFIRMED, STATE_TENTATIVE, MultiObjectTracker, StepRecord, check_detections,
                    check_embeddings, gather_rows, pack_step, remove_rows, scatter_rows, timed_transition, xyah_predict,
                    xyah_update)

__all__ = ["DeepSort", "DeepSortTable", "DeepSortParams", "color_histogram_embeddings"]

INFTY_COST = 1e5
TENTATIVE, CONFIRMED, DELETED = 1, 2, 3
#: Columns of the integer track table ``info``. ``SLOT`` is the track's row in the embedding pools:
#: its pending embeddings (``N_PENDING`` of them, since the gallery last took them) and its gallery
#: (the last ``nn_budget`` embeddings, ``GALLERY_LEN`` of them, a ring written at ``GALLERY_NEXT``).
(ID, HITS, AGE, TIME_SINCE_UPDATE, STATE, CLASS, DET_IDX, SLOT, N_PENDING, GALLERY_LEN,
 GALLERY_NEXT) = range(11)


class DeepSortTable(NamedTuple):
    """DeepSORT's track table (rows in creation order, ``< n`` live) and its embedding pools
    (indexed by a track's :data:`SLOT`)."""

    #: (T, 8) Kalman means ``[x, y, a, h, vx, vy, va, vh]``
    X: np.ndarray
    #: (T, 8, 8) Kalman covariances
    P: np.ndarray
    #: (T, 11) int64: :data:`ID`, :data:`HITS`, :data:`AGE`, :data:`TIME_SINCE_UPDATE`, :data:`STATE`,
    #: :data:`CLASS`, :data:`DET_IDX`, :data:`SLOT`, :data:`N_PENDING`, :data:`GALLERY_LEN`, :data:`GALLERY_NEXT`
    info: np.ndarray
    #: (T,) score of the last matched detection
    last_score: np.ndarray
    #: (slots, depth, D) float32 unit embeddings matched since the gallery last took them
    pending: np.ndarray
    #: (slots, budget, D) float32 the gallery ring: the last ``nn_budget`` embeddings
    gallery: np.ndarray
    #: (slots,) bool: slot in use
    slot_used: np.ndarray


class DeepSortParams(NamedTuple):
    """DeepSORT's thresholds, as :func:`deepsort_frame` reads them."""

    max_cosine_distance: float
    #: the squared Mahalanobis gate (chi-square 95 % quantile, 4 degrees of freedom)
    gate_threshold: float
    #: ``nn_budget`` (0: unlimited)
    budget: int
    max_iou_distance: float
    max_age: int
    n_init: int
    class_aware: bool
    #: the association cost's code (:data:`~scratchvision.boxes.COST_MODES`)
    cost_mode: int


def color_histogram_embeddings(frame, boxes, *, bins: int = 8) -> np.ndarray:
    """A network-free appearance descriptor: the normalised colour histogram of each box.

    Parameters
    ----------
    frame : ndarray (H, W, 3) or (H, W), uint8 or float in [0, 255]
    boxes : array-like (N, 4), x1, y1, x2, y2
        Clipped to the frame; an empty box gives a zero vector.
    bins : int
        Bins per channel (``bins**3`` features for colour, ``bins`` for gray).

    Returns
    -------
    ndarray (N, bins**3) or (N, bins), float32, rows of unit L2 norm
    """
    img = check_image(frame, "frame")
    bins = check_int(bins, "bins", low=1, high=64)
    h, w = img.shape[:2]
    b = check_boxes(boxes)
    b = np.clip(b, 0, [w, h, w, h])  # also keeps the integer conversion below in range
    channels = 3 if img.ndim == 3 else 1
    data = np.clip(img.astype(np.float64), 0, 255).reshape(h, w, channels)
    out = np.zeros((len(b), bins ** channels), np.float32)
    for k, (x1, y1, x2, y2) in enumerate(b):
        c1, r1, c2, r2 = int(np.floor(x1)), int(np.floor(y1)), int(np.ceil(x2)), int(np.ceil(y2))
        if c2 <= c1 or r2 <= r1:
            continue
        q = np.minimum((data[r1:r2, c1:c2] * bins / 256.0).astype(np.int64), bins - 1).reshape(-1, channels)
        index = np.zeros(len(q), np.int64)
        for c in range(channels):
            index = index * bins + q[:, c]
        hist = np.bincount(index, minlength=bins ** channels).astype(np.float32)
        out[k] = hist / max(np.linalg.norm(hist), 1e-12)
    return out


class DeepSort(MultiObjectTracker):
    """DeepSORT multi-object tracker; ``update(dets, embeddings)``.

    Parameters
    ----------
    max_cosine_distance : float in [0, 2]
        Largest appearance cost of a match.
    nn_budget : int or None
        Embeddings kept per track (None: all of them).
    max_iou_distance : float in [0, 1]
        Largest ``1 - IoU`` of a match in the IoU stage.
    max_age : int
        Misses before a confirmed track is deleted.
    n_init : int
        Consecutive hits that confirm a track.
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
    The tracks live in a :class:`DeepSortTable` of rows in creation order: the Kalman state
    ``X`` (8) and covariance ``P`` (8, 8), the integer columns ``info`` (:data:`ID` ... :data:`GALLERY_NEXT`) and
    the score; their embeddings, L2-normalised on arrival, live in pools indexed by the
    :data:`SLOT` column (pending ones, and the gallery ring). One call of the compiled
    :func:`deepsort_frame` runs a whole frame. Tracks unmatched after the cascade are listed in
    ascending table order (the reference builds that list from a Python set).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import DeepSort
    >>> tracker = DeepSort(n_init=1)
    >>> det = np.array([[10, 10, 50, 80, 0.9], [100, 10, 140, 90, 0.8]])
    >>> emb = np.eye(2, 16, dtype=np.float32)  # one appearance embedding per detection
    >>> _ = tracker.update(det, emb)
    >>> tracker.update(det + 1, emb)[:, 4].tolist()
    [1.0, 2.0]
    """

    def __init__(self, max_cosine_distance: float = 0.2, nn_budget=100, max_iou_distance: float = 0.7,
                 max_age: int = 30, n_init: int = 3, *, class_aware: bool = False,
                 cost: str = "iou", frame_rate: float = 30.0):
        self.max_cosine_distance = check_float(max_cosine_distance, "max_cosine_distance", low=0.0, high=2.0)
        self.nn_budget = None if nn_budget is None else check_int(nn_budget, "nn_budget", low=1)
        self.max_iou_distance = check_float(max_iou_distance, "max_iou_distance", low=0.0, high=1.0)
        self.max_age = check_int(max_age, "max_age", low=0)
        self.n_init = check_int(n_init, "n_init", low=1)
        self.class_aware = bool(class_aware)
        self.cost = check_choice(cost, "cost", tuple(COST_MODES))
        self._model = xyah_model()
        self._pending_depth = max(self.n_init, 2)
        super().__init__(frame_rate)

    STATE_FORMAT = "xyah"
    #: ``"appearance_level_<k>"`` for each cascade level ``k`` that had tracks, then ``"iou"``
    COST_STAGES = ("appearance_level_<k>", "iou")

    def reset(self):
        """Forget every track, its gallery, and restart ids at 1."""
        self._dim = None
        super().reset()

    def _empty_table(self):
        return self._allocated(16, 1, self.nn_budget or 8, 0)

    def _allocated(self, cap, dim, depth, n):
        """A table for ``cap`` tracks with embedding pools for ``dim``-dimensional embeddings and
        galleries of ``depth``, holding the first ``n`` tracks of the current one."""
        X, P = np.zeros((cap, 8)), np.zeros((cap, 8, 8))
        info, last_score = np.zeros((cap, 11), np.int64), np.zeros(cap)
        pending = np.zeros((cap, self._pending_depth, dim), np.float32)
        gallery = np.zeros((cap, depth, dim), np.float32)
        used = np.zeros(cap, np.bool_)
        if n:
            old = self._table
            X[:n], P[:n], info[:n], last_score[:n] = old.X[:n], old.P[:n], old.info[:n], old.last_score[:n]
            slots = old.pending.shape[0]
            pending[:slots], used[:slots] = old.pending, old.slot_used
            gallery[:slots, :old.gallery.shape[1]] = old.gallery
        return DeepSortTable(X, P, info, last_score, pending, gallery, used)

    def _grow(self, n_dets):
        """Room for ``n_dets`` new tracks, embeddings of this frame's dimension, and (without a
        budget) galleries that may grow by this frame's pending embeddings."""
        dim, table = self._dim or 1, self._table
        cap, depth = len(table.X), table.gallery.shape[1]
        if self._n == 0 and dim != table.gallery.shape[2]:
            self._table = table = self._allocated(cap, dim, depth, self._n)
        if self.nn_budget is None and self._n:
            longest = int(table.info[:self._n, GALLERY_LEN].max()) + self._pending_depth + 1
            if longest > depth:
                depth = max(2 * depth, longest)
        if self._n + n_dets > cap or depth != table.gallery.shape[1]:
            self._table = self._allocated(max(self._n + n_dets, 2 * cap if self._n + n_dets > cap else cap), dim,
                                          depth, self._n)

    def update(self, dets=None, embeddings=None, warp=None, timestamp=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``.
        embeddings : array-like (N, D)
            One appearance embedding per row of ``dets`` (any dimension D, the same on every
            frame; normalised here).
        warp : array-like (2, 3) or (3, 3), optional
            The camera's motion since the last frame, applied to the tracks' states first (as
            :meth:`Sort.update`).
        timestamp : float, optional
            The frame's time in seconds, for a variable frame rate (:class:`FrameClock`: the
            filters predict over the elapsed time; ``max_age`` counts frames of ``1 / frame_rate``
            s, the cascade takes the tracks matched at the last update first).

        Returns
        -------
        ndarray (M, 8)
            Confirmed tracks updated this frame or missed only this frame: ``x1, y1, x2, y2``
            from the filter, ``id``, ``score``, ``class``, ``det_idx`` (-1 when missed).
        """
        raw = None if dets is None else as_array(dets, "dets")
        n_rows = raw.shape[0] if raw is not None and raw.ndim == 2 else 0
        dets = check_detections(raw)
        feats, self._dim = check_embeddings(embeddings, n_rows, dets[3], self._dim)
        steps, dt = self._start_frame(warp, timestamp, len(dets[0]))
        motion = (timed_transition(self._model.F, dt), dt, steps, self._model.H)  # F, q_scale, steps, H
        params = (self.max_cosine_distance, CHI2INV95[4], self.nn_budget or 0, self.max_iou_distance, self.max_age,
                  self.n_init, self.class_aware, COST_MODES[self.cost])  # DeepSortParams
        self._n, self._next_id, out, costs, blocks, log = deepsort_frame(
            tuple(self._table), self._n, self._next_id, dets, feats, motion, params)
        self._record = StepRecord(self.frame_count, lambda: _cost_dict(costs, blocks), log)
        return out


def _cost_dict(costs, blocks):
    """The step's cost matrices, detections by tracks, from :func:`deepsort_frame`'s flat ``costs``
    and its ``blocks`` (level, rows, columns of the reference's tracks-by-detections matrix; level -1
    for the IoU stage)."""
    out, at = {}, 0
    for level, r, c in blocks.tolist():
        out["iou" if level < 0 else f"appearance_level_{level}"] = costs[at:at + r * c].reshape(r, c).T
        at += r * c
    return out


@kernel
def _min_cost(cost, max_distance, tracks, dets):
    """The reference min_cost_matching on a prepared cost (tracks by detections): costs above
    ``max_distance`` are raised to ``max_distance + 1e-5``, the assignment is solved, and pairs
    above ``max_distance`` are rejected. Returns the matched tracks and detections, and the
    unmatched ones (those left out of the assignment in order, then the rejected)."""
    nt, nd = len(tracks), len(dets)
    if nt == 0 or nd == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), tracks.copy(), dets.copy()
    c = cost.copy()
    for i in range(nt):
        for j in range(nd):
            if c[i, j] > max_distance:
                c[i, j] = max_distance + 1e-5
    k = min(nt, nd)
    r, col = np.empty(k, np.int64), np.empty(k, np.int64)
    lsa_kernel(c, False, r, col)
    det_used, trk_used = np.zeros(nd, np.bool_), np.zeros(nt, np.bool_)
    det_used[col] = True
    trk_used[r] = True
    u_t, u_d = np.empty(nt, np.int64), np.empty(nd, np.int64)
    n_ut = n_ud = 0
    for j in range(nd):
        if not det_used[j]:
            u_d[n_ud] = dets[j]
            n_ud += 1
    for i in range(nt):
        if not trk_used[i]:
            u_t[n_ut] = tracks[i]
            n_ut += 1
    m_t, m_d = np.empty(k, np.int64), np.empty(k, np.int64)
    n_m = 0
    for q in range(k):
        if c[r[q], col[q]] > max_distance:
            u_t[n_ut], u_d[n_ud] = tracks[r[q]], dets[col[q]]
            n_ut += 1
            n_ud += 1
        else:
            m_t[n_m], m_d[n_m] = tracks[r[q]], dets[col[q]]
            n_m += 1
    return m_t[:n_m], m_d[:n_m], u_t[:n_ut], u_d[:n_ud]


@kernel
def _appearance_cost(X, P, info, gallery, tracks, dets, fn, xyah, classes, H, gate_threshold, class_aware):
    """Smallest cosine distance of each detection's embedding to each track's gallery (float32,
    as the reference), +INFTY_COST where the squared Mahalanobis distance of the detection to the
    track's predicted box exceeds ``gate_threshold`` (or the classes differ)."""
    cost = np.empty((len(tracks), len(dets)))
    f = np.empty((len(dets), fn.shape[1]), np.float32)
    for j in range(len(dets)):
        f[j] = fn[dets[j]]
    for i in range(len(tracks)):
        g = gallery[info[tracks[i], SLOT], :info[tracks[i], GALLERY_LEN]]
        similarity = np.dot(g, f.T)
        for j in range(len(dets)):
            best = np.float32(np.inf)
            for q in range(g.shape[0]):
                best = min(best, np.float32(1.0) - similarity[q, j])
            cost[i, j] = best
    Xg, Pg = gather_rows(X, P, tracks)
    R = np.empty((len(tracks), 4, 4))
    xyah_measurement_noise_kernel(Xg, R)
    z = np.empty((len(dets), 4))
    for j in range(len(dets)):
        z[j] = xyah[dets[j]]
    gate = np.empty((len(tracks), len(dets)))
    mahalanobis_sq_kernel(Xg, Pg, H, R, z, gate)
    for i in range(len(tracks)):
        for j in range(len(dets)):
            if gate[i, j] > gate_threshold or (class_aware and info[tracks[i], CLASS] != classes[dets[j]]):
                cost[i, j] = INFTY_COST
    return cost


@kernel
def _normalised(feats):
    """Rows divided by their L2 norm (float32)."""
    out = np.empty_like(feats)
    for j in range(feats.shape[0]):
        total = np.float32(0.0)
        for q in range(feats.shape[1]):
            total += feats[j, q] * feats[j, q]
        out[j] = feats[j] / np.sqrt(total)
    return out


@kernel
def _free_slot(used):
    for s in range(len(used)):
        if not used[s]:
            used[s] = True
            return s
    return -1


@kernel
def deepsort_frame(table, n, next_id, dets, feats, motion, params):
    """One DeepSORT frame on the track table (rows ``< n`` live; room for ``len(boxes)`` more).

    ``table`` is a :class:`DeepSortTable`, ``dets`` the frame's (boxes, scores, classes, rows)
    (:func:`~scratchvision.tracking._base.check_detections`), ``feats`` (N, D) their embeddings,
    ``motion`` the Kalman model (F over the elapsed time, ``q_scale`` and ``steps`` = the frames
    elapsed, H) and ``params`` a :class:`DeepSortParams`, all plain tuples (Numba types a
    NamedTuple argument ten times more slowly, a microsecond a call); ``next_id`` is the next new id.

    1. Predict every track (noise scaled by its height); age it.
    2. Matching cascade: confirmed tracks by time since their last update (1, 2, ... ``max_age``
       frames), each level against the detections still unmatched, on the gated appearance cost.
    3. IoU stage: tentative tracks and confirmed ones missed only this frame, ``1 - IoU``.
    4. Kalman update of the matched tracks; their embeddings join the pending ones; a tentative
       track with ``n_init`` hits is confirmed. Unmatched tentative tracks, and tracks missed
       more than ``max_age`` frames, are deleted; each unmatched detection starts a tentative
       track.
    5. Confirmed tracks move their pending embeddings into their gallery (the last ``budget``
       kept; all with ``budget`` 0), keeping the last one pending. Report the confirmed tracks
       updated this frame or missed only this frame.

    Returns
    -------
    n, next_id, out (M, 8), the cost matrices flat and their blocks (level, rows, columns; level
    -1 the IoU stage), and the packed record (:func:`pack_step`)
    """
    X, P, info, last_score, pending, gallery, slot_used = table
    boxes, scores, classes, rows = dets
    F, q_scale, steps, H = motion
    max_cosine_distance, gate_threshold, budget, max_iou_distance, max_age, n_init, class_aware, cost_mode = params
    n_det = boxes.shape[0]
    fn = _normalised(feats)
    xyah_predict(X[:n], P[:n], F, q_scale)
    for k in range(n):
        info[k, AGE] += steps
        info[k, TIME_SINCE_UPDATE] += steps
        info[k, DET_IDX] = -1
    xyah = np.empty((n_det, 4))
    convert_kernel(boxes, XYXY, XYAH, xyah)
    costs = np.empty(2 * max(n, 1) * n_det)
    blocks = np.empty((max_age + 1, 3), np.int64)
    n_costs = n_blocks = 0

    confirmed = np.flatnonzero(info[:n, STATE] == CONFIRMED)
    unconfirmed = np.flatnonzero(info[:n, STATE] != CONFIRMED)
    unmatched_dets = np.arange(n_det)
    match_t, match_d = np.empty(n_det, np.int64), np.empty(n_det, np.int64)
    n_m = 0
    matched = np.zeros(n, np.bool_)
    for level in range(max_age):
        if len(unmatched_dets) == 0:
            break
        level_tracks = confirmed[info[confirmed, TIME_SINCE_UPDATE] == steps + level]
        if len(level_tracks) == 0:
            continue
        cost = _appearance_cost(X, P, info, gallery, level_tracks, unmatched_dets, fn, xyah, classes, H,
                                gate_threshold, class_aware)
        costs[n_costs:n_costs + cost.size] = cost.ravel()
        n_costs += cost.size
        blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = level, cost.shape[0], cost.shape[1]
        n_blocks += 1
        m_t, m_d, _, unmatched_dets = _min_cost(cost, max_cosine_distance, level_tracks, unmatched_dets)
        for q in range(len(m_t)):
            match_t[n_m], match_d[n_m] = m_t[q], m_d[q]
            matched[m_t[q]] = True
            n_m += 1
    missed = confirmed[~matched[confirmed]]
    candidates = np.concatenate((unconfirmed, missed[info[missed, TIME_SINCE_UPDATE] == steps]))
    unmatched_a = missed[info[missed, TIME_SINCE_UPDATE] != steps]
    cost = np.zeros((len(candidates), len(unmatched_dets)))
    if len(candidates) and len(unmatched_dets):
        predicted = np.empty((len(candidates), 4))
        for i in range(len(candidates)):
            convert_kernel(X[candidates[i]:candidates[i] + 1, :4], XYAH, XYXY, predicted[i:i + 1])
        iou_kernel(predicted, boxes[unmatched_dets], False, cost_mode, cost)
        for i in range(len(candidates)):
            for j in range(len(unmatched_dets)):
                cost[i, j] = 1.0 - cost[i, j]
                if info[candidates[i], TIME_SINCE_UPDATE] > steps or (
                        class_aware and info[candidates[i], CLASS] != classes[unmatched_dets[j]]):
                    cost[i, j] = INFTY_COST
    costs[n_costs:n_costs + cost.size] = cost.ravel()
    n_costs += cost.size
    blocks[n_blocks, 0], blocks[n_blocks, 1], blocks[n_blocks, 2] = -1, cost.shape[0], cost.shape[1]
    n_blocks += 1
    m_t, m_d, unmatched_b, unmatched_dets = _min_cost(cost, max_iou_distance, candidates, unmatched_dets)
    for q in range(len(m_t)):
        match_t[n_m], match_d[n_m] = m_t[q], m_d[q]
        n_m += 1
    match_t, match_d = match_t[:n_m], match_d[:n_m]
    unmatched = np.zeros(n, np.bool_)
    unmatched[unmatched_a] = True
    unmatched[unmatched_b] = True
    unmatched_tracks = np.flatnonzero(unmatched)

    Xg, Pg = gather_rows(X, P, match_t)
    xyah_update(Xg, Pg, xyah[match_d], F, H)
    scatter_rows(X, P, match_t, Xg, Pg)
    matches = np.empty((n_m, 2), np.int64)
    for q in range(n_m):
        k, j = match_t[q], match_d[q]
        pending[info[k, SLOT], info[k, N_PENDING]] = fn[j]
        info[k, N_PENDING] += 1
        info[k, HITS] += 1
        info[k, TIME_SINCE_UPDATE] = 0
        last_score[k], info[k, CLASS], info[k, DET_IDX] = scores[j], classes[j], rows[j]
        if info[k, STATE] == TENTATIVE and info[k, HITS] >= n_init:
            info[k, STATE] = CONFIRMED
        matches[q, 0], matches[q, 1] = rows[j], info[k, ID]
    unmatched_ids = info[unmatched_tracks, ID]
    for k in unmatched_tracks:
        if info[k, STATE] == TENTATIVE or info[k, TIME_SINCE_UPDATE] > max_age:
            info[k, STATE] = DELETED
    for j in unmatched_dets:
        xyah_initiate_kernel(xyah[j:j + 1], X[n:n + 1], P[n:n + 1])
        info[n] = 0
        info[n, ID], info[n, HITS], info[n, AGE], info[n, STATE] = next_id, 1, 1, TENTATIVE
        info[n, CLASS], info[n, DET_IDX], info[n, SLOT], info[n,
                                                              N_PENDING] = classes[j], rows[j], _free_slot(slot_used), 1
        last_score[n] = scores[j]
        pending[info[n, SLOT], 0] = fn[j]
        next_id += 1
        n += 1

    deleted = info[:n, STATE] == DELETED
    for k in range(n):
        if deleted[k]:
            slot_used[info[k, SLOT]] = False
    removed = np.empty(n, np.int64)
    n, n_removed = remove_rows(info, ID, (X, P, last_score), n, deleted, removed, 0)
    depth = gallery.shape[1]
    for k in range(n):
        if info[k, STATE] != CONFIRMED:
            continue
        slot = info[k, SLOT]
        for q in range(info[k, N_PENDING]):
            gallery[slot, info[k, GALLERY_NEXT]] = pending[slot, q]
            info[k, GALLERY_NEXT] += 1
            if budget > 0:
                info[k, GALLERY_NEXT] %= min(budget, depth)
                info[k, GALLERY_LEN] = min(info[k, GALLERY_LEN] + 1, budget)
            else:
                info[k, GALLERY_LEN] += 1
        pending[slot, 0] = pending[slot, info[k, N_PENDING] - 1]
        info[k, N_PENDING] = 1

    reported = np.flatnonzero((info[:n, STATE] == CONFIRMED) & (info[:n, TIME_SINCE_UPDATE] <= steps))
    out = np.empty((len(reported), 8))
    for q in range(len(reported)):
        k = reported[q]
        convert_kernel(X[k:k + 1, :4], XYAH, XYXY, out[q:q + 1, :4])
        out[q, 4], out[q, 5], out[q, 6], out[q, 7] = info[k, ID], last_score[k], info[k, CLASS], info[k, DET_IDX]
    states = np.full(n, STATE_TENTATIVE, np.int8)
    for k in range(n):
        if info[k, STATE] == CONFIRMED:
            states[k] = STATE_CONFIRMED
    log = pack_step(matches, rows[unmatched_dets], unmatched_ids, removed[:n_removed], info[:n, ID], states)
    return n, next_id, out, costs[:n_costs], blocks[:n_blocks], log


@warmup_hook
def _warmup():
    tracker = DeepSort(n_init=1)
    det = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.8]])
    emb = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]], np.float32)
    for _ in range(3):
        tracker.update(det, emb)
    tracker.update(None)
