"""Frames in and out: video files, image folders and arrays, through imageio.

imageio is imported inside the functions (``import scratchvision`` stays light). Reading and
writing MP4/AVI/MKV uses imageio's ``pyav`` plugin, installed by the ``video`` extra
(``pip install scratchvision[video]``); GIF and still images need nothing more.
"""

from __future__ import annotations

import os

import numpy as np

from .._validate import as_array, check_float, check_int
from ..imgproc import rgb_to_gray, to_uint8

__all__ = ["iter_frames", "read_video", "write_video", "to_frame", "IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".pgm", ".ppm")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".mov", ".webm")


def _pyav_plugin():
    try:
        import av  # noqa: F401
    except ImportError:
        raise ImportError("reading or writing video files needs PyAV: "
                          "pip install 'scratchvision[video]'") from None
    return "pyav"


def _decode(path):
    """RGB frames of a video file, decoded by PyAV: the frames imageio's pyav plugin gives, without
    its per-file garbage collections (a fifth of a short video's decoding time)."""
    _pyav_plugin()
    import av

    with av.open(path) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def to_frame(frame, gray: bool = False) -> np.ndarray:
    """One decoded image as this library's frame: alpha dropped, one channel squeezed, and with
    ``gray`` converted to gray (:func:`~scratchvision.imgproc.rgb_to_gray`).

    Parameters
    ----------
    frame : array-like (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
        As imageio reads an image file.
    gray : bool

    Returns
    -------
    ndarray (H, W) or (H, W, 3)
    """
    a = as_array(frame, "frame")
    if a.ndim == 3 and a.shape[2] == 4:  # drop alpha
        a = a[:, :, :3]
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    return rgb_to_gray(a) if gray else a


def iter_frames(source, *, stride: int = 1, start: int = 0, end: int | None = None,
                gray: bool = False):
    """Yield the frames of a video file, an image folder or an array, one at a time.

    Parameters
    ----------
    source : str, os.PathLike or ndarray
        A video file (``.mp4``, ``.avi``, ... : needs the ``video`` extra), an animated GIF, a
        folder of images (read in sorted file-name order), or an array (T, H, W) / (T, H, W, 3).
    stride : int
        Yield every ``stride``-th frame.
    start, end : int
        First frame index and one past the last (0-based; ``end=None`` reads to the end).
    gray : bool
        Convert RGB frames to gray with :func:`scratchvision.imgproc.rgb_to_gray` (the same bits
        as ``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)``).

    Yields
    ------
    ndarray
        (H, W) or (H, W, 3) frames; alpha channels are dropped.
    """
    stride = check_int(stride, "stride", low=1)
    start = check_int(start, "start", low=0)
    if end is not None:
        end = check_int(end, "end", low=start)
    for index, frame in enumerate(_raw_frames(source)):
        if end is not None and index >= end:
            return
        if index >= start and (index - start) % stride == 0:
            yield to_frame(frame, gray)


def _raw_frames(source):
    if isinstance(source, np.ndarray) or isinstance(source, (list, tuple)):
        frames = as_array(source, "source")
        if frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[3] not in (1, 3, 4)):
            raise ValueError(f"source array must be (T, H, W) or (T, H, W, 3), got shape {frames.shape}")
        yield from frames
        return
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be a path or an array, got {type(source).__name__}")
    import imageio.v3 as iio

    path = os.fspath(source)
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise ValueError(f"source folder {path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
        for name in names:
            yield iio.imread(os.path.join(path, name))
        return
    if not os.path.exists(path):
        raise FileNotFoundError(f"source {path} does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext in VIDEO_EXTENSIONS:
        yield from _decode(path)
    elif ext == ".gif":
        yield from iio.imiter(path)
    elif ext in IMAGE_EXTENSIONS:
        yield iio.imread(path)
    else:
        raise ValueError(f"source {path}: unknown file type {ext!r}")


def read_video(source, **kwargs) -> np.ndarray:
    """Read all frames of ``source`` into one array (T, H, W[, 3]); see :func:`iter_frames`.

    Parameters
    ----------
    source : str, os.PathLike or ndarray
        As :func:`iter_frames`.
    **kwargs
        :func:`iter_frames`' ``stride``, ``start``, ``end``, ``gray``.

    Returns
    -------
    ndarray (T, H, W) or (T, H, W, 3) uint8
    """
    frames = list(iter_frames(source, **kwargs))
    if not frames:
        raise ValueError(f"source {source!r} yielded no frames")
    return np.stack(frames)


# 4x4 Bayer matrix: thresholds for ordered dithering, in (0, 1).
_BAYER4 = (np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) + 0.5) / 16


def _gif_colors(frames: np.ndarray) -> np.ndarray:
    """Reduce RGB frames to the 216 colours of a 6x6x6 cube with ordered (Bayer) dithering.

    A GIF holds at most 256 colours per frame. Leaving the choice to Pillow's adaptive palette
    costs about 50 ms per 320x240 frame; a fixed cube with dithering is 20 times faster and
    looks as smooth at viewing distance.
    """
    step = 255.0 / 5.0
    h, w = frames.shape[1:3]
    threshold = np.tile(_BAYER4, (h // 4 + 1, w // 4 + 1))[:h, :w, None]
    levels = np.floor(frames / step + threshold)
    return np.clip(levels * step + 0.5, 0, 255).astype(np.uint8)


def write_video(path, frames, *, fps: float = 10.0) -> str:
    """Write frames to a GIF (any install) or an MP4/AVI/MKV (needs the ``video`` extra).

    Parameters
    ----------
    path : str or os.PathLike
        Output file; its extension picks the format.
    frames : array-like, (T, H, W) or (T, H, W, 3)
        uint8, or float in [0, 255] (rounded and clipped).
    fps : float
        Frames per second.

    Returns
    -------
    str
        The path written.
    """
    import imageio.v3 as iio

    path = os.fspath(path)
    fps = check_float(fps, "fps", low=0.0, low_open=True)
    a = as_array(frames, "frames")
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[3] != 3) or min(a.shape[:3]) == 0:
        raise ValueError(f"frames must be (T, H, W) or (T, H, W, 3) with T, H, W >= 1, got shape {a.shape}")
    if a.dtype != np.uint8:
        if not np.isfinite(a).all():
            raise ValueError("frames must be finite")
        a = to_uint8(a)
    if a.ndim == 3:  # gray -> RGB: writers would take (T, H, W) with a small W for channels
        a = np.repeat(a[..., None], 3, axis=3)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".gif":
        iio.imwrite(path, _gif_colors(a), duration=1000.0 / fps, loop=0, is_batch=True)
    elif ext in VIDEO_EXTENSIONS:
        # libx264 with yuv420p needs even sizes.
        a = a[:, : a.shape[1] // 2 * 2, : a.shape[2] // 2 * 2]
        iio.imwrite(path, a, plugin=_pyav_plugin(), codec="libx264", fps=fps)
    else:
        raise ValueError(f"path {path}: unsupported extension {ext!r} (use .gif or one of {VIDEO_EXTENSIONS})")
    return path
