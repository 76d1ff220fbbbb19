"""OTB-protocol evaluation of single-object trackers (Wu, Lim and Yang 2013): the success plot
(fraction of frames whose IoU with the ground truth exceeds each threshold in 0..1; its area
under the curve, AUC) and the precision plot (fraction of frames whose centre error is within
each distance; the value at 20 px)."""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_array

__all__ = ["overlap_ratios", "center_errors", "success_curve", "precision_curve", "otb_scores", "run_tracker",
           "object_track"]

SUCCESS_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PRECISION_THRESHOLDS = np.arange(0, 51, dtype=np.float64)


def _boxes(a, name):
    b = as_array(a, name).astype(np.float64)
    if b.ndim != 2 or b.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) of x, y, w, h, got {b.shape}")
    return b


def _pair(pred, gt):
    p, g = _boxes(pred, "pred"), _boxes(gt, "gt")
    if len(p) != len(g):
        raise ValueError(f"pred and gt must have one row per frame, got {len(p)} and {len(g)}")
    valid = np.isfinite(g).all(axis=1) & (g[:, 2] > 0) & (g[:, 3] > 0)  # frames with a target
    return p, g, valid


def overlap_ratios(pred, gt) -> np.ndarray:
    """IoU per frame of (x, y, w, h) boxes; 0 where the prediction is missing (NaN), NaN where
    the ground truth has no target.

    Parameters
    ----------
    pred, gt : array-like (N, 4)
        ``x, y, w, h`` per frame.

    Returns
    -------
    ndarray (N,) float64
    """
    p, g, valid = _pair(pred, gt)
    ix = np.minimum(p[:, 0] + p[:, 2], g[:, 0] + g[:, 2]) - np.maximum(p[:, 0], g[:, 0])
    iy = np.minimum(p[:, 1] + p[:, 3], g[:, 1] + g[:, 3]) - np.maximum(p[:, 1], g[:, 1])
    inter = np.clip(ix, 0, None) * np.clip(iy, 0, None)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = inter / (p[:, 2] * p[:, 3] + g[:, 2] * g[:, 3] - inter)
    iou = np.where(np.isfinite(iou), iou, 0.0)
    return np.where(valid, iou, np.nan)


def center_errors(pred, gt) -> np.ndarray:
    """Distance between box centres per frame (inf where the prediction is missing, NaN where
    the ground truth has no target).

    Parameters
    ----------
    pred, gt : array-like (N, 4)
        ``x, y, w, h`` per frame.

    Returns
    -------
    ndarray (N,) float64
    """
    p, g, valid = _pair(pred, gt)
    d = np.hypot(p[:, 0] + p[:, 2] / 2 - g[:, 0] - g[:, 2] / 2, p[:, 1] + p[:, 3] / 2 - g[:, 1] - g[:, 3] / 2)
    d = np.where(np.isfinite(d), d, np.inf)
    return np.where(valid, d, np.nan)


def success_curve(pred, gt, thresholds=SUCCESS_THRESHOLDS) -> np.ndarray:
    """Fraction of frames (with a target) whose IoU is above each threshold.

    Parameters
    ----------
    pred, gt : array-like (N, 4)
        ``x, y, w, h`` per frame.
    thresholds : array-like
        IoU thresholds.

    Returns
    -------
    ndarray, one fraction per threshold
    """
    iou = overlap_ratios(pred, gt)
    iou = iou[np.isfinite(iou)]
    return np.array([(iou > t).mean() if iou.size else np.nan for t in thresholds])


def precision_curve(pred, gt, thresholds=PRECISION_THRESHOLDS) -> np.ndarray:
    """Fraction of frames (with a target) whose centre error is within each distance (px).

    Parameters
    ----------
    pred, gt : array-like (N, 4)
        ``x, y, w, h`` per frame.
    thresholds : array-like
        Distances in pixels.

    Returns
    -------
    ndarray, one fraction per threshold
    """
    err = center_errors(pred, gt)
    err = err[~np.isnan(err)]
    return np.array([(err <= t).mean() if err.size else np.nan for t in thresholds])


def otb_scores(pred, gt) -> dict:
    """``{"AUC": mean of the success curve, "precision@20": precision at 20 px}``.

    Parameters
    ----------
    pred, gt : array-like (N, 4)
        Predicted and ground-truth ``x, y, w, h`` per frame (NaN rows of gt are not scored).

    Returns
    -------
    dict
        ``"AUC"`` and ``"precision@20"``.
    """
    return {"AUC": float(np.mean(success_curve(pred, gt))),
            "precision@20": float(precision_curve(pred, gt, [20.0])[0])}


def run_tracker(tracker, frames, bbox, times=None):
    """Run a tracker (``init`` / ``update``) over frames: ``(boxes (N, 4), ok (N,), fps)``; the
    first row is ``bbox``; failed updates keep the tracker's last box. With a list ``times``,
    each ``update``'s duration in seconds is appended to it (frame 1 on).

    No frames give empty results (and fps NaN). A frame the tracker refuses raises its error with
    the frame's index in front (``frames[i]: ...``).

    Parameters
    ----------
    tracker : object with ``init(frame, bbox)`` and ``update(frame) -> (ok, bbox)``
        A single-object tracker (:class:`TrackerMOSSE`, :class:`TrackerKCF`, :class:`TrackerCSRT` or
        OpenCV's).
    frames : sequence of ndarray
    bbox : (x, y, w, h)
        The target in the first frame.
    times : list, optional
        Receives each update's duration in seconds.

    Returns
    -------
    boxes : ndarray (N, 4)
        ``x, y, w, h`` per frame.
    ok : ndarray (N,) of bool
    fps : float
        Updates per second (the first frame's init excluded).
    """
    if times is not None and not isinstance(times, list):
        raise TypeError(f"times must be a list (or None), got {type(times).__name__}")
    if isinstance(frames, np.ndarray) and frames.ndim < 3:
        raise ValueError(f"frames must be a sequence of images (N, H, W[, 3]), got an array of shape {frames.shape}")
    try:
        frames = list(frames)
    except TypeError:
        raise TypeError(f"frames must be a sequence of images, got {type(frames).__name__}") from None
    box0 = as_array(bbox, "bbox").astype(np.float64).ravel()
    if box0.shape != (4,):
        raise ValueError(f"bbox must be four numbers (x, y, w, h), got shape {np.shape(bbox)}")
    boxes = np.zeros((len(frames), 4))
    ok = np.ones(len(frames), bool)
    if not frames:
        return boxes, ok, float("nan")
    boxes[0] = box0
    i = 0
    try:
        tracker.init(frames[0], tuple(float(v) for v in box0))
        t0 = time.perf_counter()
        for i, frame in enumerate(frames[1:], 1):
            start = time.perf_counter()
            ok[i], box = tracker.update(frame)
            if times is not None:
                times.append(time.perf_counter() - start)
            boxes[i] = box
        dt = time.perf_counter() - t0
    except (ValueError, TypeError) as exc:  # the same type, with the frame's index in front
        raise type(exc)(f"frames[{i}]: {exc}") from exc
    return boxes, ok, (len(frames) - 1) / dt if dt > 0 else float("inf")


def object_track(seq, object_id: int = 1, *, whole_first_box: bool = False):
    """One object of a synthetic sequence as a single-object tracking task: its frames and its
    (x, y, w, h) ground-truth boxes, from its first frame in view (or, with ``whole_first_box``,
    the first where its box lies wholly inside the frame, as OpenCV's KCF and CSRT require) on,
    every later frame where it is in view.

    Parameters
    ----------
    seq : SyntheticSequence
        From :func:`scratchvision.synthetic_sequence` (colour or gray).
    object_id : int
        The object's id in the ground truth (ids start at 1).
    whole_first_box : bool
        Start at the first frame where the box lies wholly inside the frame.

    Returns
    -------
    frames : list of ndarray
    boxes : ndarray (len(frames), 4)
    """
    if not (hasattr(seq, "gt") and hasattr(seq, "frames")):
        raise TypeError(f"seq must be a SyntheticSequence (frames and gt), got {type(seq).__name__}")
    gt = np.asarray(seq.gt)
    n, (h, w) = len(seq.frames), seq.frames[0].shape[:2]
    rows = gt[gt[:, 1] == object_id]
    if not len(rows):
        raise ValueError(f"object_id {object_id} is not in the sequence's ground truth")
    boxes = np.full((n, 4), np.nan)
    boxes[rows[:, 0].astype(int)] = rows[:, 2:6]
    seen = np.isfinite(boxes).all(axis=1)
    inside = seen & (boxes[:, 0] >= 0) & (boxes[:, 1] >= 0) & (boxes[:, 0] + boxes[:, 2] <= w) \
        & (boxes[:, 1] + boxes[:, 3] <= h)
    starts = np.flatnonzero(inside if whole_first_box else seen)
    if not len(starts):
        return [], np.zeros((0, 4))
    span = [t for t in range(int(starts[0]), n) if seen[t]]
    return [seq.frames[t] for t in span], boxes[span]


def exercise_tracker(make, gray: bool = True) -> None:
    """Run the tracker ``make()`` on a tiny uint8 RGB video (4 frames of 48x64 moving noise) and,
    with ``gray``, on its gray version: the trackers' warm-up hooks, so that
    ``scratchvision.warmup`` compiles what tracking a real video calls."""
    from ..imgproc import rgb_to_gray

    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    rgb = np.stack([big[t:t + 48, 2 * t:2 * t + 64] for t in range(4)])
    for frames in (rgb, np.stack([rgb_to_gray(f) for f in rgb])) if gray else (rgb,):
        run_tracker(make(), frames, (20.0, 16.0, 16.0, 12.0))
