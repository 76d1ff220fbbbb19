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

import numpy as np

from .._validate import as_array, check_boxes, check_float, check_image, check_int
from ..assignment import linear_sum_assignment
from ..boxes import convert_checked, iou_checked
from ..kalman._kernels import batch_predict_kernel, batch_update_kernel, mahalanobis_sq_kernel
from ..kalman.models import CHI2INV95, xyah_initiate, xyah_measurement_noise, xyah_model, xyah_process_noise
from ._base import TrackerStep, check_detections, output_rows

__all__ = ["DeepSort", "color_histogram_embeddings"]

INFTY_COST = 1e5
TENTATIVE, CONFIRMED, DELETED = 1, 2, 3


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


class _Track:
    __slots__ = ("id", "mean", "cov", "hits", "age", "time_since_update", "state", "features",
                 "score", "cls", "det_idx")


def _cosine(gallery, features):
    """Smallest cosine distance of each feature to a gallery (float32 like the reference)."""
    a = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    b = features / np.linalg.norm(features, axis=1, keepdims=True)
    return (1.0 - a @ b.T).min(axis=0)


class DeepSort:
    """DeepSORT multi-object tracker; ``update(dets, embeddings)``.

    Parameters
    ----------
    max_cosine_distance : float
        Largest appearance cost of a match.
    nn_budget : int or None
        Embeddings kept per track (None: all since the last update of the gallery).
    max_iou_distance : float
        Largest ``1 - IoU`` of a match in the IoU stage.
    max_age : int
        Misses before a confirmed track is deleted.
    n_init : int
        Consecutive hits that confirm a track.
    class_aware : bool
        Only match detections and tracks of the same class.
    """

    def __init__(self, max_cosine_distance: float = 0.2, nn_budget=100, max_iou_distance: float = 0.7,
                 max_age: int = 30, n_init: int = 3, *, class_aware: bool = False):
        self.max_cosine_distance = check_float(max_cosine_distance, "max_cosine_distance", low=0.0)
        self.nn_budget = None if nn_budget is None else check_int(nn_budget, "nn_budget", low=1)
        self.max_iou_distance = check_float(max_iou_distance, "max_iou_distance", low=0.0)
        self.max_age = check_int(max_age, "max_age", low=0)
        self.n_init = check_int(n_init, "n_init", low=1)
        self.class_aware = bool(class_aware)
        self._model = xyah_model()
        self.reset()

    def reset(self):
        """Forget every track, its gallery, and restart ids at 1."""
        self._tracks = []
        self._gallery = {}
        self._next_id = 1
        self.frame_count = 0
        self.last_step = TrackerStep(frame=0)

    def _filter_arrays(self, tracks):
        return np.array([t.mean for t in tracks]).reshape(-1, 8), np.array([t.cov for t in tracks]).reshape(-1, 8, 8)

    def _store(self, tracks, X, P):
        for t, x, p in zip(tracks, X, P):
            t.mean, t.cov = x, p

    def update(self, dets=None, embeddings=None):
        """Advance one frame.

        Parameters
        ----------
        dets : array-like (N, 4), (N, 5) or (N, 6), optional
            ``x1, y1, x2, y2[, score[, class]]``.
        embeddings : array-like (N, D)
            One appearance embedding per row of ``dets`` (any dimension D; normalised here).

        Returns
        -------
        ndarray (M, 8)
            Confirmed tracks updated this frame or missed only this frame: ``x1, y1, x2, y2``
            from the filter, ``id``, ``score``, ``class``, ``det_idx`` (-1 when missed).
        """
        raw = None if dets is None else as_array(dets, "dets")
        n_rows = raw.shape[0] if raw is not None and raw.ndim == 2 else 0
        boxes, scores, classes, rows = check_detections(raw)
        if n_rows and embeddings is None:
            raise ValueError("embeddings are required with detections (see color_histogram_embeddings)")
        feats = np.zeros((0, 1), np.float32)
        if n_rows:
            e = as_array(embeddings, "embeddings")
            if e.ndim != 2 or e.shape[0] != n_rows:
                raise ValueError(f"embeddings must have shape ({n_rows}, D) to match dets, got {e.shape}")
            feats = e.astype(np.float32)[rows]
            if not np.isfinite(feats).all() or (np.linalg.norm(feats, axis=1) == 0).any():
                raise ValueError("embeddings must be finite and non-zero")
        self.frame_count += 1
        step = TrackerStep(frame=self.frame_count)
        m = self._model
        # predict every track
        X, P = self._filter_arrays(self._tracks)
        if len(X):
            batch_predict_kernel(X, P, m.F, xyah_process_noise(X))
            self._store(self._tracks, X, P)
        for t in self._tracks:
            t.age += 1
            t.time_since_update += 1
            t.det_idx = -1
        xyah = convert_checked(boxes, "xyxy", "xyah")
        matches, unmatched_tracks, unmatched_dets = self._match(boxes, xyah, feats, classes, step)
        matched_tracks = [self._tracks[i] for i, _ in matches]
        if matches:
            X, P = self._filter_arrays(matched_tracks)
            Z = xyah[[j for _, j in matches]]
            status = np.empty(len(X), np.int64)
            batch_update_kernel(X, P, Z, m.H, xyah_measurement_noise(X), False, m.F, status)
            self._store(matched_tracks, X, P)
            for (i, j), t in zip(matches, matched_tracks):
                t.features.append(feats[j])
                t.hits += 1
                t.time_since_update = 0
                t.score, t.cls, t.det_idx = scores[j], classes[j], rows[j]
                if t.state == TENTATIVE and t.hits >= self.n_init:
                    t.state = CONFIRMED
        for i in unmatched_tracks:
            t = self._tracks[i]
            if t.state == TENTATIVE or t.time_since_update > self.max_age:
                t.state = DELETED
        for j in unmatched_dets:
            X0, P0 = xyah_initiate(xyah[j][None])
            t = _Track()
            t.id, t.mean, t.cov = self._next_id, X0[0], P0[0]
            self._next_id += 1
            t.hits, t.age, t.time_since_update, t.state = 1, 1, 0, TENTATIVE
            t.features = [feats[j]]
            t.score, t.cls, t.det_idx = scores[j], classes[j], rows[j]
            self._tracks.append(t)
        step.removed = np.array([t.id for t in self._tracks if t.state == DELETED], np.int64)
        self._tracks = [t for t in self._tracks if t.state != DELETED]
        # the gallery: confirmed tracks' new embeddings, at most nn_budget each
        active = [t.id for t in self._tracks if t.state == CONFIRMED]
        for t in self._tracks:
            if t.state != CONFIRMED:
                continue
            kept = self._gallery.setdefault(t.id, []) + t.features
            self._gallery[t.id] = kept if self.nn_budget is None else kept[-self.nn_budget:]
            t.features = [t.features[-1]]
        self._gallery = {k: self._gallery[k] for k in active if k in self._gallery}
        out_tracks = [t for t in self._tracks if t.state == CONFIRMED and t.time_since_update <= 1]
        Xo, _ = self._filter_arrays(out_tracks)
        out = output_rows(convert_checked(Xo[:, :4], "xyah", "xyxy"), [t.id for t in out_tracks],
                          [t.score for t in out_tracks], [t.cls for t in out_tracks],
                          [t.det_idx for t in out_tracks])
        step.matches = np.array([(rows[j], t.id) for (_, j), t in zip(matches, matched_tracks)],
                                np.int64).reshape(-1, 2)
        step.unmatched_detections = rows[np.array(unmatched_dets, np.int64)]
        step.track_ids = np.array([t.id for t in self._tracks], np.int64)
        step.track_states = np.array(["confirmed" if t.state == CONFIRMED else "tentative" for t in self._tracks])
        self.last_step = step
        return out

    def _min_cost(self, cost, max_distance, track_indices, det_indices):
        """The reference min_cost_matching on a prepared cost (tracks by detections)."""
        if len(track_indices) == 0 or len(det_indices) == 0:
            return [], list(track_indices), list(det_indices)
        cost = cost.copy()
        cost[cost > max_distance] = max_distance + 1e-5
        r, c = linear_sum_assignment(cost)
        matches, u_t, u_d = [], [], []
        for col, d in enumerate(det_indices):
            if col not in c:
                u_d.append(d)
        for row, t in enumerate(track_indices):
            if row not in r:
                u_t.append(t)
        for row, col in zip(r, c):
            if cost[row, col] > max_distance:
                u_t.append(track_indices[row])
                u_d.append(det_indices[col])
            else:
                matches.append((track_indices[row], det_indices[col]))
        return matches, u_t, u_d

    def _appearance_cost(self, track_indices, det_indices, xyah, feats, classes):
        tracks = [self._tracks[i] for i in track_indices]
        cost = np.zeros((len(tracks), len(det_indices)))
        f = feats[det_indices]
        for row, t in enumerate(tracks):
            cost[row] = _cosine(np.array(self._gallery[t.id]), f)
        X, P = self._filter_arrays(tracks)
        gate = np.empty((len(tracks), len(det_indices)))
        mahalanobis_sq_kernel(X, P, self._model.H, xyah_measurement_noise(X), xyah[det_indices], gate)
        cost[gate > CHI2INV95[4]] = INFTY_COST
        if self.class_aware:
            cost[np.array([t.cls for t in tracks])[:, None] != classes[det_indices][None, :]] = INFTY_COST
        return cost

    def _match(self, boxes, xyah, feats, classes, step):
        confirmed = [i for i, t in enumerate(self._tracks) if t.state == CONFIRMED]
        unconfirmed = [i for i, t in enumerate(self._tracks) if t.state != CONFIRMED]
        # matching cascade over the confirmed tracks, by time since update
        unmatched_dets = list(range(len(boxes)))
        matches_a = []
        for level in range(self.max_age):
            if not unmatched_dets:
                break
            level_tracks = [k for k in confirmed if self._tracks[k].time_since_update == 1 + level]
            if not level_tracks:
                continue
            cost = self._appearance_cost(level_tracks, unmatched_dets, xyah, feats, classes)
            step.costs[f"appearance_level_{level}"] = cost
            found, _, unmatched_dets = self._min_cost(cost, self.max_cosine_distance, level_tracks,
                                                      unmatched_dets)
            matches_a += found
        unmatched_a = list(set(confirmed) - set(k for k, _ in matches_a))
        # IoU stage: tentative tracks and those missed just this frame
        candidates = unconfirmed + [k for k in unmatched_a if self._tracks[k].time_since_update == 1]
        unmatched_a = [k for k in unmatched_a if self._tracks[k].time_since_update != 1]
        cost = np.zeros((len(candidates), len(unmatched_dets)))
        if candidates and unmatched_dets:
            X, _ = self._filter_arrays([self._tracks[k] for k in candidates])
            iou = iou_checked(convert_checked(X[:, :4], "xyah", "xyxy"), boxes[unmatched_dets])
            cost = 1.0 - iou
            cost[[r for r, k in enumerate(candidates) if self._tracks[k].time_since_update > 1]] = INFTY_COST
            if self.class_aware:
                cls = np.array([self._tracks[k].cls for k in candidates])
                cost[cls[:, None] != classes[unmatched_dets][None, :]] = INFTY_COST
        step.costs["iou"] = cost
        matches_b, unmatched_b, unmatched_dets = self._min_cost(cost, self.max_iou_distance, candidates,
                                                               unmatched_dets)
        unmatched_tracks = list(set(unmatched_a + unmatched_b))
        step.unmatched_tracks = np.array([self._tracks[k].id for k in unmatched_tracks], np.int64)
        return matches_a + matches_b, unmatched_tracks, unmatched_dets
