"""From a video to class scores: clip sampling, resizing and centre cropping, normalisation, the
Kinetics-400 names, and the two-stream inputs (RGB frame + stacked Farneback flow).

The preprocessing follows torchvision's video classification reference for R3D / MC3 / R(2+1)D:
frames resized to 128x171, centre-cropped to 112x112, scaled to [0, 1] and normalised with the
Kinetics mean (0.43216, 0.394666, 0.37645) and std (0.22803, 0.22145, 0.216989); a video's score is
the mean softmax over ``num_clips`` clips of ``clip_len`` frames spread evenly over it.
"""

from __future__ import annotations

import os
from importlib import resources
from typing import NamedTuple

import numpy as np

from .._validate import IMAGE_DTYPES, as_array, check_choice, check_image, check_int, check_int_pair
from . import functional as F

__all__ = ["KINETICS_MEAN", "KINETICS_STD", "IMAGENET_MEAN", "IMAGENET_STD", "kinetics400_classes", "sample_clips",
           "sample_indices", "Sampling", "SAMPLING_MODES",
           "preprocess_frames", "two_stream_inputs", "classify_video", "classify_video_two_stream"]

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def kinetics400_classes() -> list:
    """The 400 Kinetics class names in the order of the models' outputs (torchvision's list).

    Returns
    -------
    list of str (400)
    """
    text = resources.files(__package__).joinpath("kinetics400.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line]


class Sampling(NamedTuple):
    """Frame indices of clips and the span each covers (last index - first + 1)."""

    indices: np.ndarray  # (num_clips, clip_len) int64
    spans: np.ndarray  # (num_clips,) int64


SAMPLING_MODES = ("uniform", "random", "dense", "segments")


def sample_indices(num_frames: int, clip_len: int, stride: int = 1, mode: str = "uniform", num_clips: int = 1,
                   rng=None, *, pad: bool = True) -> Sampling:
    """Which frames a video model reads: the one place clips are sampled.

    Parameters
    ----------
    num_frames : int
        Frames in the video.
    clip_len : int
        Frames per clip (for ``"segments"``: the number of segments K, one frame each).
    stride : int
        Step between a clip's frames (ignored by ``"segments"``).
    mode : {"uniform", "random", "dense", "segments"}
        - ``"uniform"``: the clips' starts spread evenly from the first to the last possible start
          (the usual test-time multi-clip sampling);
        - ``"random"``: each start drawn uniformly among the possible ones (training);
        - ``"dense"``: clips back to back from the first frame, each starting where the previous
          one's span ends;
        - ``"segments"`` (TSN): the video cut into ``clip_len`` equal segments, one frame from
          each: its middle frame, or a random one when ``rng`` is given.
    num_clips : int
    rng : None, int or numpy.random.Generator
        For ``"random"`` and ``"segments"``.
    pad : bool
        Where a clip runs past the last frame (a short video), repeat the last frame, as common
        loaders do (every mode pads; ``"segments"`` repeats frames when there are fewer frames
        than segments); with ``pad=False`` that is a ValueError instead.

    Returns
    -------
    Sampling
        ``indices`` (num_clips, clip_len) and ``spans`` (num_clips,): for an unpadded clip
        ``(clip_len - 1) * stride + 1``.

    Examples
    --------
    >>> from scratchvision.nn import sample_indices
    >>> sample_indices(40, 4, stride=2, num_clips=2).indices.tolist()
    [[0, 2, 4, 6], [33, 35, 37, 39]]
    >>> sample_indices(30, 3, mode="segments").indices.tolist()
    [[5, 15, 25]]
    """
    num_frames = check_int(num_frames, "num_frames", low=1)
    clip_len = check_int(clip_len, "clip_len", low=1)
    stride = check_int(stride, "stride", low=1)
    num_clips = check_int(num_clips, "num_clips", low=1)
    mode = check_choice(mode, "mode", SAMPLING_MODES)
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    if mode == "segments":
        edges = np.arange(clip_len + 1) * (num_frames / clip_len)
        if rng is None:
            offsets = np.broadcast_to((edges[:-1] + edges[1:]) / 2, (num_clips, clip_len))
        else:
            offsets = edges[:-1] + generator.random((num_clips, clip_len)) * (edges[1:] - edges[:-1])
        if not pad and clip_len > num_frames:
            raise ValueError(f"num_frames {num_frames} is fewer than the {clip_len} segments (pad=True repeats frames)")
        indices = np.minimum(np.floor(offsets).astype(np.int64), num_frames - 1)
    else:
        span = (clip_len - 1) * stride + 1
        if not pad and span > num_frames:
            raise ValueError(f"the video has {num_frames} frames; a clip of {clip_len} frames every {stride} needs "
                             f"{span} (pad=True repeats the last frame)")
        last_start = max(num_frames - span, 0)
        if mode == "uniform":
            starts = np.rint(np.linspace(0, last_start, num_clips)).astype(np.int64)
        elif mode == "random":
            starts = generator.integers(0, last_start + 1, num_clips)
        else:
            starts = np.arange(num_clips, dtype=np.int64) * span
        indices = np.minimum(starts[:, None] + stride * np.arange(clip_len)[None, :], num_frames - 1)
    indices = np.ascontiguousarray(indices, np.int64)
    return Sampling(indices, indices[:, -1] - indices[:, 0] + 1)


def sample_clips(n_frames: int, clip_len: int = 16, stride: int = 1, num_clips: int = 1) -> np.ndarray:
    """Frame indices (num_clips, clip_len): clips of ``clip_len`` frames taken every ``stride``-th
    frame, their starts spread evenly from the first to the last possible one
    (:func:`sample_indices` with ``mode="uniform"``, ``pad=False``).

    Raises ValueError when the video is shorter than one clip's span ``(clip_len - 1) stride + 1``.

    Parameters
    ----------
    n_frames : int
        Frames in the video.
    clip_len : int
    stride : int
    num_clips : int

    Returns
    -------
    ndarray (num_clips, clip_len) int64
    """
    n_frames = check_int(n_frames, "n_frames", low=0)
    if n_frames == 0:
        raise ValueError(f"the video has 0 frames; a clip of {clip_len} frames every {stride} needs at least one")
    return sample_indices(n_frames, clip_len, stride, "uniform", num_clips, pad=False).indices


def check_frames(frames, name: str = "frames", dtypes=IMAGE_DTYPES) -> np.ndarray:
    """``frames`` as an RGB array (T, H, W, 3) of one of ``dtypes``, else ValueError/TypeError
    naming ``name``."""
    f = as_array(frames, name)
    if f.ndim != 4 or f.shape[3] != 3:
        raise ValueError(f"{name} must have shape (T, H, W, 3), got {f.shape}")
    check_image(f.reshape((f.shape[0] * f.shape[1],) + f.shape[2:]), name, dtypes=dtypes)
    return f


def resize_crop_normalise(frames, resized, crop, scale, shift, mean, std) -> np.ndarray:
    """Checked frames (T, H, W, 3) -> (T, 3, crop_h, crop_w) float32: bilinear resize to ``resized =
    (height, width)``, centre crop, ``x * scale - shift``, then ``(x - mean) / std`` per channel:
    what every video model's preprocessing does, with its own sizes and constants."""
    from ..imgproc import resize

    (h, w), (ch, cw) = resized, crop
    if ch > h or cw > w:
        raise ValueError(f"crop {tuple(crop)} is larger than the resized frame {(h, w)}")
    top, left = (h - ch) // 2, (w - cw) // 2
    out = np.empty((len(frames), 3, ch, cw), np.float32)
    for t, frame in enumerate(frames):
        scaled = resize(frame, (w, h))[top:top + ch, left:left + cw] * np.float32(scale)
        out[t] = (scaled - np.float32(shift)).transpose(2, 0, 1)
    out -= np.asarray(mean, np.float32).reshape(1, 3, 1, 1)
    out /= np.asarray(std, np.float32).reshape(1, 3, 1, 1)
    return out


def preprocess_frames(frames, size=(128, 171), crop: int = 112, mean=KINETICS_MEAN, std=KINETICS_STD) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 -> a clip (3, T, crop, crop) float32: bilinear resize to
    ``size = (height, width)``, centre crop, [0, 1] scaling, per-channel normalisation.

    Parameters
    ----------
    frames : ndarray (T, H, W, 3) uint8
    size : (int, int)
        Resize to (height, width).
    crop : int
        Centre crop side.
    mean, std : (float, float, float)
        Per-channel normalisation (Kinetics' by default).

    Returns
    -------
    ndarray (3, T, crop, crop) float32
    """
    f = check_frames(frames)
    h, w = check_int_pair(size, "size", low=1, labels=("height", "width"))
    crop = check_int(crop, "crop", low=1)
    scale = 1 / 255 if f.dtype == np.uint8 else 1.0
    out = resize_crop_normalise(f, (h, w), (crop, crop), scale, 0.0, mean, std)
    return np.ascontiguousarray(out.transpose(1, 0, 2, 3))


def two_stream_inputs(frames, flow_length: int = 10, size: int = 224, flows=None):
    """Inputs of a :class:`~scratchvision.nn.TwoStream` from ``flow_length + 1`` RGB frames
    (T, H, W, 3) uint8: the middle frame resized to ``size`` and ImageNet-normalised (3, size,
    size), and the stack of the flows between consecutive frames (2L, size, size), computed with
    :func:`~scratchvision.calc_optical_flow_farneback` (OpenCV's sample settings) on the resized
    gray frames unless ``flows`` (L, size, size, 2) is given.

    Parameters
    ----------
    frames : ndarray (L + 1, H, W, 3) uint8
    flow_length : int
        L.
    size : int
    flows : ndarray (L, size, size, 2), optional
        Flows to use instead of Farneback's.

    Returns
    -------
    rgb : ndarray (3, size, size) float32
    flow : ndarray (2 L, size, size) float32
    """
    from ..flow import calc_optical_flow_farneback
    from ..imgproc import resize, rgb_to_gray
    from .two_stream import flow_stack

    flow_length, size = check_int(flow_length, "flow_length", low=1), check_int(size, "size", low=1)
    f = as_array(frames, "frames")
    if f.ndim != 4 or f.shape[3] != 3 or len(f) < flow_length + 1:
        raise ValueError(f"frames must have shape (T >= {flow_length + 1}, H, W, 3), got {f.shape}")
    f = f[:flow_length + 1]
    check_image(f.reshape((f.shape[0] * f.shape[1],) + f.shape[2:]), "frames", dtypes=(np.uint8,))
    if flows is not None:
        flows = as_array(flows, "flows")
        if flows.shape != (flow_length, size, size, 2):
            raise ValueError(f"flows must have shape {(flow_length, size, size, 2)} (flow_length, size, size, 2), "
                             f"got {flows.shape}")
    rgb = resize(f[len(f) // 2], (size, size)) * np.float32(1 / 255)
    rgb = (rgb - np.asarray(IMAGENET_MEAN, np.float32)) / np.asarray(IMAGENET_STD, np.float32)
    if flows is None:
        gray = [resize(rgb_to_gray(frame), (size, size)) for frame in f]
        flows = [calc_optical_flow_farneback(a, b) for a, b in zip(gray, gray[1:])]
    return np.ascontiguousarray(rgb.transpose(2, 0, 1)), flow_stack(flows)


def classify_video(video, model, *, clip_len: int = 16, stride: int = 1, num_clips: int = 1, top_k: int = 5,
                   class_names=None, preprocessing=None):
    """Top-k classes of a video for a clip network: the 3-D ResNets (R3D-18, MC3-18, R(2+1)D-18),
    or a video transformer from :func:`~scratchvision.nn.from_pretrained` with its
    ``preprocessing``.

    Parameters
    ----------
    video : path or ndarray (T, H, W, 3) uint8
        A file :func:`~scratchvision.read_video` reads, or the frames.
    model : VideoResNet or a video transformer
    clip_len, stride, num_clips
        Clip sampling (:func:`sample_clips`); the softmax is averaged over the clips. With
        ``preprocessing``, ``clip_len`` is the model's ``num_frames``.
    top_k : int
    class_names : list of str, optional
        Default: the Kinetics-400 names when the model has 400 outputs, else the indices.
    preprocessing : dict, optional
        :func:`~scratchvision.nn.preprocess_video`'s arguments (``info.preprocessing`` of
        :func:`~scratchvision.nn.from_pretrained`): clips are then (B, T, C, H, W) and the model's
        ``logits`` are used (one row per frame, TimeSformer's ``space_only``, averaged).
        Default: torchvision's 3-D ResNet preprocessing (:func:`preprocess_frames`).

    Returns
    -------
    list of (str, float)
        ``(class, probability)``, most probable first.
    """
    frames = _video_frames(video)
    if preprocessing is None:
        idx = sample_clips(len(frames), clip_len, stride, num_clips)
        probs = F.softmax(model(np.stack([preprocess_frames(frames[i]) for i in idx])), 1)
    else:
        from ..imgproc import to_uint8
        from .hub import preprocess_video

        frames = to_uint8(frames)
        idx = sample_clips(len(frames), preprocessing["num_frames"], stride, num_clips)
        out = model(np.stack([preprocess_video(frames[i], **preprocessing) for i in idx]))
        logits = getattr(out, "logits", out)
        probs = F.softmax(logits.reshape(len(idx), -1, logits.shape[-1]), 2).mean(axis=1)
    return _top_k(probs.mean(axis=0), top_k, class_names)


def _video_frames(video, dtypes=IMAGE_DTYPES):
    """The frames (T, H, W, 3) of ``video``: a path read by :func:`~scratchvision.read_video`,
    or frames, checked (one of ``dtypes``, finite)."""
    if isinstance(video, (str, os.PathLike)):
        from ..io import read_video

        return read_video(video)
    frames = as_array(video, "video")
    if frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"video must be a path or frames (T, H, W, 3), got shape {frames.shape}")
    check_image(frames.reshape((frames.shape[0] * frames.shape[1],) + frames.shape[2:]), "video", dtypes=dtypes)
    return frames


def _top_k(probs, top_k, class_names):
    if class_names is None:
        class_names = kinetics400_classes() if len(probs) == 400 else [str(i) for i in range(len(probs))]
    order = np.argsort(-probs)[:check_int(top_k, "top_k", low=1)]
    return [(class_names[i], float(probs[i])) for i in order]


def classify_video_two_stream(video, model, *, num_clips: int = 1, size: int = 224, top_k: int = 5,
                              class_names=None):
    """Top-k classes of a video for a :class:`~scratchvision.nn.TwoStream` network: for each of
    ``num_clips`` windows of ``L + 1`` frames spread over the video, the middle RGB frame and the
    stack of its L Farneback flows (:func:`two_stream_inputs`); the fused scores are averaged.

    Parameters
    ----------
    video : str, os.PathLike or ndarray (T, H, W, 3) uint8
        A video file, an image folder or the frames.
    model : TwoStream
    num_clips : int
        Windows spread over the video.
    size : int
        Input side (pixels).
    top_k : int
    class_names : list of str, optional
        Names of the classes (default: Kinetics-400 for 400 outputs, else indices).

    Returns
    -------
    list of (str, float)
        ``(class, score)``, best first (probabilities with ``fusion="average"``).
    """
    frames = _video_frames(video, (np.uint8,))
    length = model.flow_length
    starts = sample_clips(len(frames), length + 1, 1, num_clips)[:, 0]
    inputs = [two_stream_inputs(frames[s:s + length + 1], length, size) for s in starts]
    rgb = np.stack([a for a, _ in inputs])
    flow = np.stack([b for _, b in inputs])
    scores = model((rgb, flow)).mean(axis=0)
    return _top_k(scores, top_k, class_names)
