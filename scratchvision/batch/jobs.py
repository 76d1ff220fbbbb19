"""The dataset jobs: optical flow for two-stream training, tracking and evaluating a benchmark's
sequences, classifying a folder of videos (see :mod:`.runner` for how they run)."""

from __future__ import annotations

import csv
import hashlib
import io as _io
import json
import time
from pathlib import Path

import numpy as np

from .._validate import as_array, check_choice, check_float, check_int, check_int_pair
from .runner import JobReport, Scheduler, collect_inputs, commit_output, output_dir

__all__ = ["extract_flow", "track_dataset", "classify_videos", "quantise_flow", "dequantise_flow",
           "read_flow_folder", "FLOW_METHODS", "FLOW_FORMATS"]

FLOW_METHODS = ("tvl1", "farneback", "horn_schunck", "raft")
FLOW_FORMATS = ("jpg", "png", "flo", "npz")
JPEG_QUALITY = 95  # OpenCV's imwrite default, which denseflow uses
_RAFT = {}  # weights path -> model, loaded once per worker process


def quantise_flow(flow, bound: float = 20.0) -> np.ndarray:
    """Flow (..., 2) as denseflow stores it: each component clipped to [-bound, bound] and mapped
    to 0..255, ``round(255 (v + bound) / (2 bound))`` in float64 with ties to even (OpenCV's
    cvRound), uint8 (..., 2).

    Parameters
    ----------
    flow : array-like (..., 2)
    bound : float
        The magnitude mapped to 0 and 255.

    Returns
    -------
    ndarray (..., 2) uint8

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.batch import quantise_flow
    >>> quantise_flow(np.array([[-25.0, 0.0], [0.5, 20.0]]), bound=20).tolist()
    [[0, 128], [131, 255]]
    """
    f = as_array(flow, "flow")
    if f.dtype.kind != "f" or f.ndim < 1 or f.shape[-1] != 2:
        raise ValueError(f"flow must be float (..., 2), got {f.dtype} {f.shape}")
    bound = check_float(bound, "bound", low=0.0, low_open=True)
    v = f.astype(np.float64)
    q = np.rint(255.0 * (v + bound) / (2.0 * bound))
    return np.where(v > bound, 255, np.where(v < -bound, 0, q)).astype(np.uint8)


def dequantise_flow(q, bound: float = 20.0) -> np.ndarray:
    """The flow a quantised image stands for, ``q 2 bound / 255 - bound``, float32 (within
    ``bound / 255`` of the flow that was quantised, where it was inside the bound).

    Parameters
    ----------
    q : array-like of uint8 (any shape)
    bound : float
        The bound the flow was quantised with.

    Returns
    -------
    ndarray, float32, the shape of ``q``

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.batch import dequantise_flow
    >>> [round(float(v), 3) for v in dequantise_flow(np.array([0, 128, 255], np.uint8), bound=20)]
    [-20.0, 0.078, 20.0]
    """
    q = as_array(q, "q")
    if q.dtype != np.uint8:
        raise ValueError(f"q must be uint8, got {q.dtype}")
    bound = check_float(bound, "bound", low=0.0, low_open=True)
    return (q.astype(np.float64) * (2.0 * bound / 255.0) - bound).astype(np.float32)


def _flow_function(method, raft_weights):
    """``f(prev, next) -> (H, W, 2)``: on gray frames (H, W) uint8, or RGB (H, W, 3) for RAFT."""
    from .. import calc_optical_flow_farneback, calc_optical_flow_horn_schunck, calc_optical_flow_raft, \
        calc_optical_flow_tvl1

    if callable(method):
        return method
    if method == "tvl1":
        return calc_optical_flow_tvl1
    if method == "farneback":  # its defaults: OpenCV's sample settings
        return calc_optical_flow_farneback
    if method == "horn_schunck":
        return calc_optical_flow_horn_schunck
    if raft_weights not in _RAFT:
        from ..nn import load_raft

        _RAFT[raft_weights] = load_raft(raft_weights)
    model = _RAFT[raft_weights]
    return lambda a, b: calc_optical_flow_raft(a, b, model)


def _video_name(video: Path) -> str:
    """A video's name in the outputs: a file's stem, a frame folder's name."""
    return video.stem if video.is_file() else video.name


def _csv(header, rows) -> str:
    """CSV text, one header line then ``rows``."""
    text = _io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def _write_image(path: Path, image) -> None:
    import imageio.v3 as iio

    if path.suffix == ".jpg":
        iio.imwrite(path, image, extension=".jpg", quality=JPEG_QUALITY)
    else:
        iio.imwrite(path, image, extension=path.suffix)


def _flow_one(video: Path, out_dir: Path, params: dict, overwrite: bool, method, raft_weights):
    """One video's frames and flows into ``out_dir/<name>/`` (see :func:`extract_flow`)."""
    from .. import read_video, resize, resize_uint8, rgb_to_gray, write_flo

    def build(tmp: Path):
        frames = read_video(video)
        if len(frames) <= params["step"]:
            raise ValueError(f"{len(frames)} frame(s): fewer than step + 1 = {params['step'] + 1}")
        if frames.ndim == 3:  # a gray video: three equal channels
            frames = np.repeat(frames[..., None], 3, axis=3)
        size = params["new_size"]
        if method != "raft":  # the classical methods' frames: gray, then resized (as nn.two_stream_inputs)
            flow_frames = [rgb_to_gray(f) if size is None else resize(rgb_to_gray(f), size) for f in frames]
        if size is not None:
            frames = np.stack([resize_uint8(f, size) for f in frames])
        if method == "raft":
            flow_frames = frames
        flow_of = _flow_function(method, raft_weights)
        step, fmt, bound = params["step"], params["write"], params["bound"]
        tmp.mkdir()
        if params["frames"]:
            for i, frame in enumerate(frames, 1):
                _write_image(tmp / f"img_{i:05d}.{'png' if fmt == 'png' else 'jpg'}", frame)
        flows = []
        for i in range(len(frames) - step):
            flow = np.asarray(flow_of(flow_frames[i], flow_frames[i + step]), np.float32)
            if fmt in ("jpg", "png"):
                q = quantise_flow(flow, bound)
                _write_image(tmp / f"flow_x_{i + 1:05d}.{fmt}", q[..., 0])
                _write_image(tmp / f"flow_y_{i + 1:05d}.{fmt}", q[..., 1])
            elif fmt == "flo":
                write_flo(tmp / f"flow_{i + 1:05d}.flo", flow)
            else:
                flows.append(flow)
        if fmt == "npz":
            np.savez(tmp / "flow.npz", flow=np.stack(flows))

    name = _video_name(video)
    return commit_output("extract_flow", name, video, out_dir, name, params, build, overwrite,
                         extra_inputs=[raft_weights] if raft_weights else ())


def extract_flow(videos, out_dir, method="tvl1", *, bound: float = 20.0, step: int = 1, new_size=None,
                 write: str = "jpg", frames: bool = True, raft_weights=None, scheduler=None, workers=None,
                 overwrite: bool = False) -> JobReport:
    """Optical flow of every video, written as two-stream / TSN / I3D training reads it.

    One folder per video, ``out_dir/<video name>/``, in open-mmlab denseflow's layout (which
    MMAction2's raw-frame loaders read): ``img_00001.jpg`` ... (the frames, with ``frames=True``),
    and for each pair of frames ``i`` and ``i + step`` the flow's x and y components quantised to
    8 bits (:func:`quantise_flow`: clipped to +-``bound``) as ``flow_x_00001.jpg`` and
    ``flow_y_00001.jpg`` (JPEG quality 95, as OpenCV's default), or losslessly as ``.png``; or the
    raw float flow as ``flow_00001.flo`` (Middlebury) or one ``flow.npz`` (array ``flow``,
    (T - step, H, W, 2)). :func:`read_flow_folder` reads a folder back.

    Parameters
    ----------
    videos : folder, glob pattern, or list of paths
        Video files (mp4, avi, gif, ...) or folders of frame images.
    out_dir : path
    method : {"tvl1", "farneback", "horn_schunck", "raft"} or callable
        The flow (each function's defaults; Farneback with OpenCV's sample settings); ``"raft"``
        needs ``raft_weights`` (a torchvision raft_small or raft_large checkpoint); a callable
        ``f(prev, next) -> (H, W, 2)`` on gray frames (H, W) uint8 computes any other.
    bound : float
        Clipping bound of the quantisation, in pixels (denseflow's default 20).
    step : int
        Frames between the two of a pair.
    new_size : (width, height), optional
        Resize the frames first (the flow of classical methods on the resized gray frames).
    write : {"jpg", "png", "flo", "npz"}
    frames : bool
        Also write the (resized) frames.
    raft_weights : path, optional
    scheduler, workers, overwrite
        See :mod:`scratchvision.batch`.

    Returns
    -------
    JobReport
        One item per video (done, skipped, failed with its error); ``len(report.failed)`` is the
        job's count of failures.

    References
    ----------
    Simonyan & Zisserman, "Two-stream convolutional networks for action recognition in videos",
    NeurIPS 2014, doi:10.48550/arXiv.1406.2199; denseflow, https://github.com/open-mmlab/denseflow.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import scratchvision as sv
    >>> from scratchvision.batch import extract_flow
    >>> tmp = Path(tempfile.mkdtemp())
    >>> path = sv.write_video(tmp / "clip.gif", sv.synthetic_sequence(4, (32, 48), 1, color=True).frames)
    >>> report = extract_flow(tmp / "clip.gif", tmp / "flow", "farneback", scheduler="serial")
    >>> len(report.done), sorted(p.name for p in (tmp / "flow" / "clip").iterdir())[:3]
    (1, ['flow_x_00001.jpg', 'flow_x_00002.jpg', 'flow_x_00003.jpg'])
    """
    items = collect_inputs(videos, "videos")
    out = output_dir(out_dir)
    if not callable(method):
        method = check_choice(method, "method", FLOW_METHODS)
    if method == "raft":
        if raft_weights is None or not Path(raft_weights).is_file():
            raise ValueError(f"raft_weights must name a torchvision RAFT checkpoint file for method='raft', "
                             f"got {raft_weights!r}")
        raft_weights = str(Path(raft_weights).resolve())
    params = {"method": method if isinstance(method, str) else f"{method.__module__}.{method.__qualname__}",
              "bound": check_float(bound, "bound", low=0.0, low_open=True), "step": check_int(step, "step", low=1),
              "new_size": None if new_size is None else list(check_int_pair(new_size, "new_size", low=1)),
              "write": check_choice(write, "write", FLOW_FORMATS),
              "frames": bool(frames)}
    start = time.perf_counter()
    with Scheduler(scheduler, workers) as s:
        results = s.map(_flow_one, items, desc="extract-flow", out_dir=out, params=params, overwrite=overwrite,
                        method=method, raft_weights=raft_weights)
        return JobReport("extract_flow", str(out), s.description, results, time.perf_counter() - start)


def read_flow_folder(folder, bound=None):
    """The frames and flows :func:`extract_flow` wrote for one video.

    Parameters
    ----------
    folder : path
        ``out_dir/<video name>``.
    bound : float, optional
        The quantisation bound (default: the one in the job's manifest next to the folder).

    Returns
    -------
    frames : ndarray (T, H, W, 3) uint8, or None when the frames were not written
    flows : ndarray (T - step, H, W, 2) float32
        Dequantised (:func:`dequantise_flow`) for jpg / png, as computed for flo / npz; the input
        :func:`~scratchvision.nn.two_stream_inputs` takes as ``flows`` (at the network's size).
    """
    import imageio.v3 as iio

    from ..io import read_flo

    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"folder {str(folder)!r} is not a folder")
    images = sorted(folder.glob("img_*"))
    frames = np.stack([iio.imread(p) for p in images]) if images else None
    if (folder / "flow.npz").exists():
        with np.load(folder / "flow.npz") as f:
            return frames, f["flow"]
    flo = sorted(folder.glob("flow_*.flo"))
    if flo:
        return frames, np.stack([read_flo(p) for p in flo])
    xs, ys = sorted(folder.glob("flow_x_*")), sorted(folder.glob("flow_y_*"))
    if not xs or len(xs) != len(ys):
        raise ValueError(f"folder {str(folder)!r} holds no flow written by extract_flow")
    if bound is None:
        record = folder.parent / ".manifests" / f"{folder.name}.json"
        try:
            bound = json.loads(record.read_text())["params"]["bound"]
        except (OSError, ValueError, KeyError):
            raise ValueError(f"bound: no manifest {record} to read it from; give bound=") from None
    q = np.stack([np.stack([iio.imread(x), iio.imread(y)], axis=-1) for x, y in zip(xs, ys)])
    return frames, dequantise_flow(q, bound)


def _is_sequence(path: Path) -> bool:
    return (path.is_dir() and (path / "det" / "det.txt").is_file()) or (path.is_file() and path.suffix == ".txt")


def _track_one(source: Path, out_dir: Path, params: dict, overwrite: bool):
    """One sequence's tracks into ``out_dir/<sequence>.txt``."""
    from ..io import read_mot, read_seqinfo, write_mot
    from ..tracking import make_tracker, track_detections

    det_file = source / "det" / "det.txt" if source.is_dir() else source
    name = source.name if source.is_dir() else (det_file.parent.parent.name if det_file.parent.name == "det"
                                                  else det_file.stem)

    def build(tmp: Path):
        det = read_mot(det_file)
        if params["min_score"] is not None:
            det = det[det[:, 6] >= params["min_score"]]
        info = det_file.parent.parent / "seqinfo.ini"
        num_frames = read_seqinfo(info).get("seqLength") if info.is_file() else None
        rows = track_detections(make_tracker(params["tracker"], params["params"]), det, num_frames=num_frames)
        write_mot(tmp, rows, precision=7)

    return commit_output("track_dataset", name, det_file, out_dir, f"{name}.txt", params, build, overwrite)


def track_dataset(sequences, out_dir, tracker: str = "bytetrack", params=None, *, min_score=None,
                  iou_threshold: float = 0.5, scheduler=None, workers=None, overwrite: bool = False) -> JobReport:
    """Run a tracker over every sequence of a MOTChallenge-style benchmark and evaluate it.

    Each sequence's tracks go to ``out_dir/<sequence>.txt`` (MOTChallenge rows, 1-based frames,
    the layout :func:`~scratchvision.evaluate_mot_folder` and the official evaluators read); then
    the sequences that have ``gt/gt.txt`` are scored together.

    Parameters
    ----------
    sequences : folder, glob pattern, or list of paths
        Sequence folders (``<seq>/det/det.txt``, with ``seqinfo.ini`` giving the length when
        present), a folder of them, or detection files.
    out_dir : path
    tracker : {"sort", "bytetrack", "ocsort", "botsort"}
        DeepSORT needs each sequence's frames for its embeddings: use ``scratchvision track`` per
        sequence.
    params : dict, optional
        The tracker's keyword arguments (e.g. ``{"track_thresh": 0.6}``).
    min_score : float, optional
        Drop detections scoring below it.
    iou_threshold : float
        Of the evaluation.
    scheduler, workers, overwrite
        See :mod:`scratchvision.batch`.

    Returns
    -------
    JobReport
        ``metrics``: :func:`~scratchvision.evaluate_mot_folder`'s result (per sequence and
        ``"OVERALL"``) over the sequences with ground truth, finished now or before.
    """
    from ..metrics import evaluate_mot_folder
    from ..tracking import make_tracker

    items = collect_inputs(sequences, "sequences", _is_sequence, "sequence folders (<seq>/det/det.txt) or "
                           "detection files")
    out = output_dir(out_dir)
    if tracker == "deepsort":
        raise ValueError("tracker: deepsort needs each sequence's frames for its embeddings; "
                         "use 'scratchvision track --tracker deepsort --video ...' per sequence")
    config = {"tracker": tracker, "params": dict(params or {}),
              "min_score": None if min_score is None else check_float(min_score, "min_score")}
    make_tracker(tracker, config["params"])  # a bad name or parameter fails here, not in every task
    start = time.perf_counter()
    with Scheduler(scheduler, workers) as s:
        results = s.map(_track_one, items, desc="track-dataset", out_dir=out, params=config, overwrite=overwrite)
        report = JobReport("track_dataset", str(out), s.description, results, time.perf_counter() - start)
    scored = [Path(r.source).parent.parent for r in results
              if r.status != "failed" and (Path(r.source).parent.parent / "gt" / "gt.txt").is_file()]
    roots = {p.parent for p in scored}
    if len(roots) == 1:
        report.metrics = evaluate_mot_folder(roots.pop(), out, sequences=[p.name for p in scored],
                                             iou_threshold=iou_threshold)
    elif roots:
        for root in sorted(roots):
            part = evaluate_mot_folder(root, out, sequences=[p.name for p in scored if p.parent == root],
                                       iou_threshold=iou_threshold)
            report.metrics.update({k: v for k, v in part.items() if k != "OVERALL"})
    report.seconds = time.perf_counter() - start
    return report


def _classify_one(video: Path, out_dir: Path, params: dict, overwrite: bool, model, class_names, preprocessing):
    """One video's top-k into ``out_dir/<name>.csv``."""
    from .. import nn

    name = _video_name(video)

    def build(tmp: Path):
        if isinstance(model, nn.TwoStream):
            top = nn.classify_video_two_stream(video, model, num_clips=params["num_clips"], top_k=params["top_k"])
        else:
            top = nn.classify_video(video, model, clip_len=params["clip_len"], stride=params["stride"],
                                    num_clips=params["num_clips"], top_k=params["top_k"], class_names=class_names,
                                    preprocessing=preprocessing)
        tmp.write_text(_csv(["rank", "label", "score"],
                            ((rank, label, f"{score:.6f}") for rank, (label, score) in enumerate(top, 1))),
                       encoding="utf-8")

    return commit_output("classify_videos", name, video, out_dir, f"{name}.csv", params, build, overwrite)


def classify_videos(videos, model, out_dir, *, clip_len: int = 16, stride: int = 1, num_clips: int = 1,
                    top_k: int = 5, class_names=None, preprocessing=None, scheduler=None, workers=None,
                    overwrite: bool = False) -> JobReport:
    """Classify every video of a folder: one CSV of its top-k per video, ``out_dir/<name>.csv``
    (``rank, label, score``), and all of them in ``out_dir/predictions.csv`` (``video, rank, label,
    score``).

    Parameters
    ----------
    videos : folder, glob pattern, or list of paths
    model : Module
        A video classifier of :mod:`scratchvision.nn` with its weights (R3D / MC3 / R(2+1)D,
        TwoStream, or a Hugging Face model from :func:`~scratchvision.nn.from_pretrained`); sent
        to each worker once.
    out_dir : path
    clip_len, stride, num_clips, top_k, class_names, preprocessing
        As :func:`~scratchvision.nn.classify_video` (``from_pretrained``'s ``info.labels`` and
        ``info.preprocessing`` for a Hugging Face model).
    scheduler, workers, overwrite
        See :mod:`scratchvision.batch`.

    Returns
    -------
    JobReport
    """
    from ..nn import Module

    items = collect_inputs(videos, "videos")
    out = output_dir(out_dir)
    if not isinstance(model, Module):
        raise TypeError(f"model must be a scratchvision.nn network, got {type(model).__name__}")
    digest = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    params = {"model": type(model).__name__, "weights_sha256": digest.hexdigest(),
              "clip_len": check_int(clip_len, "clip_len", low=1), "stride": check_int(stride, "stride", low=1),
              "num_clips": check_int(num_clips, "num_clips", low=1), "top_k": check_int(top_k, "top_k", low=1),
              "class_names": None if class_names is None else list(class_names),
              "preprocessing": None if preprocessing is None else repr(preprocessing)}
    start = time.perf_counter()
    with Scheduler(scheduler, workers) as s:
        results = s.map(_classify_one, items, desc="classify-dataset", out_dir=out, params=params,
                        overwrite=overwrite, model=model, class_names=class_names, preprocessing=preprocessing)
        report = JobReport("classify_videos", str(out), s.description, results, time.perf_counter() - start)
    rows = []
    for r in results:
        if r.status != "failed":
            with open(r.output, encoding="utf-8", newline="") as f:
                rows += [[r.name] + line for line in list(csv.reader(f))[1:]]
    partial = out / ".partial" / "predictions.csv.tmp"
    partial.parent.mkdir(exist_ok=True)
    partial.write_text(_csv(["video", "rank", "label", "score"], rows), encoding="utf-8")
    partial.replace(out / "predictions.csv")
    return report
