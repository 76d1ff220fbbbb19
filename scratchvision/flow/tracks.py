"""Following corners through a video: the loop of OpenCV's lk_track sample, as a generator.

Each frame: track the live points from the previous frame with pyramidal Lucas-Kanade, track
them back, and keep only those whose round trip returns within ``fb_threshold`` pixels (Kalal et
al. 2010); every ``detect_interval`` frames, detect new Shi-Tomasi corners away from the live
points (a mask blanks a disc around each) and start new tracks with new ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import check_float, check_image, check_int
from ..features import good_features_to_track
from .lucas_kanade import forward_backward_error

__all__ = ["TrackedPoints", "track_features"]


@dataclass(frozen=True)
class TrackedPoints:
    """The live tracks of one frame.

    Attributes
    ----------
    frame : int
        Frame index (0-based).
    ids : ndarray (M,), int64
        Track ids, from 1, never reused.
    points : ndarray (M, 2), float32
        Positions (x, y) in this frame.
    new : ndarray (M,), bool
        True for tracks started on this frame.
    """

    frame: int
    ids: np.ndarray
    points: np.ndarray
    new: np.ndarray


def _away_from(points, shape, radius):
    """A mask that is 1 except in discs of ``radius`` around ``points``."""
    mask = np.ones(shape, np.uint8)
    h, w = shape
    dy, dx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disc = dx * dx + dy * dy <= radius * radius
    offy, offx = dy[disc], dx[disc]
    for x, y in np.rint(points).astype(np.int64):
        yy, xx = y + offy, x + offx
        ok = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        mask[yy[ok], xx[ok]] = 0
    return mask


def track_features(frames, *, max_corners: int = 500, quality_level: float = 0.3,
                   min_distance: float = 7, block_size: int = 7, detect_interval: int = 5,
                   fb_threshold: float = 1.0, win_size=(15, 15), max_level: int = 2):
    """Track corners through ``frames``, re-detecting as tracks die (OpenCV's lk_track loop).

    Parameters
    ----------
    frames : iterable of ndarray (H, W) uint8
        Gray frames (``scratchvision.iter_frames(source, gray=True)`` makes them from a video).
    max_corners, quality_level, min_distance, block_size
        :func:`scratchvision.good_features_to_track` settings for (re-)detection; the defaults
        are those of the OpenCV sample.
    detect_interval : int
        Detect new corners on frame 0 and every ``detect_interval`` frames.
    fb_threshold : float
        Largest forward-backward round-trip error (pixels) of a track that is kept.
    win_size, max_level
        :func:`scratchvision.calc_optical_flow_pyr_lk` settings (the sample's defaults).

    Yields
    ------
    TrackedPoints
        One per frame, in order.
    """
    max_corners = check_int(max_corners, "max_corners")
    detect_interval = check_int(detect_interval, "detect_interval", low=1)
    fb_threshold = check_float(fb_threshold, "fb_threshold", low=0.0)
    min_distance = check_float(min_distance, "min_distance", low=0.0)
    ids = np.zeros(0, np.int64)
    points = np.zeros((0, 2), np.float32)
    next_id = 1
    prev = None
    if isinstance(frames, np.ndarray) and frames.ndim < 3:
        raise ValueError(f"frames must be a sequence of (H, W) images, got an array of shape {frames.shape}")
    if isinstance(frames, (str, bytes, dict)) or not hasattr(frames, "__iter__"):
        raise TypeError(f"frames must be an iterable of images, got {type(frames).__name__}")
    for t, frame in enumerate(frames):
        frame = check_image(frame, f"frames[{t}]", allow_color=False, dtypes=(np.uint8, np.float32))
        if prev is not None and frame.shape != prev.shape:
            raise ValueError(f"frame {t} has shape {frame.shape}, the previous one {prev.shape}")
        if prev is not None and len(points):
            moved, status, fb = forward_backward_error(prev, frame, points, win_size=win_size,
                                                       max_level=max_level)
            keep = (status == 1) & (fb < fb_threshold)
            ids, points = ids[keep], moved[keep]
        new = np.zeros(len(ids), bool)
        if t % detect_interval == 0:
            mask = _away_from(points, frame.shape[:2], 5)
            found = good_features_to_track(frame, max_corners, quality_level, min_distance, mask=mask,
                                           block_size=block_size)
            if max_corners > 0:
                found = found[:max(max_corners - len(points), 0)]
            ids = np.concatenate([ids, np.arange(next_id, next_id + len(found))])
            points = np.concatenate([points, found]).astype(np.float32)
            new = np.concatenate([new, np.ones(len(found), bool)])
            next_id += len(found)
        prev = frame
        yield TrackedPoints(frame=t, ids=ids.copy(), points=points.copy(), new=new)
