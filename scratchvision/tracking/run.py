"""A tracker over a whole MOTChallenge detection file: the loop every tracking script writes."""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_int
from .._progress import progress
from .botsort import BoTSORT
from .deepsort import DeepSort

__all__ = ["track_detections", "make_tracker", "TRACKER_CLASSES"]

#: tracker names (the CLI's ``--tracker``) -> classes of this package
TRACKER_CLASSES = {"sort": "Sort", "bytetrack": "ByteTrack", "ocsort": "OCSort", "deepsort": "DeepSort",
                   "botsort": "BoTSORT"}


def track_detections(tracker, det, *, num_frames=None, embed=None, warp=None, desc: str = "") -> np.ndarray:
    """Run ``tracker`` frame by frame over MOTChallenge detection rows and return its tracks as
    MOTChallenge rows.

    Parameters
    ----------
    tracker : Sort, ByteTrack, OCSort, DeepSort or BoTSORT
        A fresh tracker (its ``update`` is called once per frame, frames without detections too).
    det : ndarray (K, >= 7)
        Rows ``frame, id, x, y, w, h, score, ...`` with 0-based frames, as
        :func:`~scratchvision.read_mot` gives them.
    num_frames : int, optional
        Frames to run (default: up to the last frame with a detection).
    embed : callable, optional
        ``embed(t, boxes) -> (N, D)`` appearance embeddings of frame ``t``'s boxes (N, 5) x1, y1,
        x2, y2, score; required by DeepSort and by BoTSORT with ``with_reid``, which take
        embeddings (and passed only to them).
    warp : callable, optional
        ``warp(t, boxes) -> (2, 3) or (3, 3)``: the camera's motion into frame ``t``
        (e.g. ``lambda t, b: cmc(frames[t], b)`` with a :class:`~scratchvision.tracking.CameraMotion`).
    desc : str
        Label of the progress bar (shown when stderr is a terminal).

    Returns
    -------
    ndarray (M, 10) float64
        ``frame, id, x, y, w, h, 1, -1, -1, -1`` for every box the tracker output, frames 0-based.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import Sort
    >>> from scratchvision.tracking import track_detections
    >>> det = np.array([[t, -1, 10 + 2 * t, 20, 30, 40, 0.9] for t in range(5)], float)
    >>> rows = track_detections(Sort(), det)
    >>> rows[:, 0].tolist(), rows[:, 1].tolist()  # frames, ids: one track through the five frames
    ([0.0, 1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0, 1.0])
    """
    det = as_array(det, "det")
    if det.ndim == 2 and len(det) == 0:
        det = np.zeros((0, 7))  # no detections (any number of columns)
    if (det.dtype.kind not in "iuf" or det.ndim != 2 or (len(det) and det.shape[1] < 7)
            or not np.isfinite(det[:, :7]).all()):
        raise ValueError(f"det must be finite MOTChallenge rows (K, >= 7), got {det.dtype} {det.shape}")
    last = int(det[:, 0].max()) + 1 if len(det) else 0
    num_frames = last if num_frames is None else max(check_int(num_frames, "num_frames", low=0), last)
    takes_embeddings = isinstance(tracker, DeepSort) or (isinstance(tracker, BoTSORT) and tracker.with_reid)
    if embed is None and takes_embeddings:
        raise ValueError(f"embed is required for {type(tracker).__name__}: embed(t, boxes) -> one embedding per box")
    det = det[np.argsort(det[:, 0], kind="stable")]
    starts = np.searchsorted(det[:, 0], np.arange(num_frames + 1))
    rows = []
    for t in progress(range(num_frames), desc=desc):
        f = det[starts[t]:starts[t + 1]]
        boxes = np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])
        extra = {} if warp is None else {"warp": warp(t, boxes)}
        tracks = tracker.update(boxes, embed(t, boxes), **extra) if takes_embeddings else tracker.update(boxes, **extra)
        rows += [(t, tid, x1, y1, x2 - x1, y2 - y1, 1, -1, -1, -1) for x1, y1, x2, y2, tid, *_ in tracks]
    return np.array(rows, np.float64).reshape(-1, 10)


def make_tracker(name: str, params=None):
    """A fresh tracker by name (``"sort"``, ``"bytetrack"``, ``"ocsort"``, ``"deepsort"``, ``"botsort"``) with
    keyword arguments ``params``; a ValueError naming a wrong name or parameter.

    Parameters
    ----------
    name : {"sort", "bytetrack", "ocsort", "deepsort", "botsort"}
    params : dict, optional
        Keyword arguments of the tracker's class.

    Returns
    -------
    Sort, ByteTrack, OCSort, DeepSort or BoTSORT
    """
    from .. import tracking

    if name not in TRACKER_CLASSES:
        raise ValueError(f"tracker must be one of {sorted(TRACKER_CLASSES)}, got {name!r}")
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params must be a dict of the tracker's keyword arguments, got {type(params).__name__}")
    try:
        return getattr(tracking, TRACKER_CLASSES[name])(**(params or {}))
    except TypeError as exc:
        raise ValueError(f"params: {exc}") from None
