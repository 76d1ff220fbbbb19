"""scratchvision: video and temporal vision algorithms from scratch in NumPy + Numba.

Every algorithm is checked against a trusted reference (OpenCV, SciPy, filterpy, the original
trackers, motmetrics/TrackEval, PyTorch). The public API is re-exported here lazily (PEP 562):
``import scratchvision`` imports no submodule, compiles no kernel and imports none of matplotlib,
imageio or cv2; each name is imported on first access, and each kernel compiles on first call
(then comes from Numba's on-disk cache). ``scratchvision.warmup()`` compiles everything ahead.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> submodule that defines it
_EXPORTS = {
    # data
    "synthetic_sequence": "data", "SyntheticSequence": "data", "texture": "data",
    # image operations
    "remap": "imgproc", "rgb_to_gray": "imgproc", "rgb_to_hsv": "imgproc", "gaussian_kernel": "imgproc", "gaussian_blur": "imgproc",
    "resize": "imgproc",
    # features and sparse flow
    "good_features_to_track": "features", "corner_min_eigen_val": "features",
    "corner_harris": "features", "calc_optical_flow_pyr_lk": "flow",
    "forward_backward_error": "flow", "build_optical_flow_pyramid": "flow", "pyr_down": "imgproc",
    "scharr_derivatives": "imgproc", "LKTrace": "flow", "track_features": "flow", "TrackedPoints": "flow",
    # dense flow
    "calc_optical_flow_farneback": "flow", "poly_expansion": "flow", "poly_expansion_basis": "flow",
    "dense_pyramid": "flow", "dense_pyramid_sizes": "flow", "FarnebackTrace": "flow", "OPTFLOW_USE_INITIAL_FLOW": "flow",
    "OPTFLOW_FARNEBACK_GAUSSIAN": "flow", "calc_optical_flow_horn_schunck": "flow",
    "calc_optical_flow_tvl1": "flow", "median_blur": "imgproc", "DenseFlowTrace": "flow", "calc_optical_flow_raft": "nn",
    # flow toolkit
    "warp": "flow", "resize_flow": "flow", "flow_consistency": "flow", "endpoint_error": "flow", "angular_error": "flow", "valid_flow_mask": "flow",
    # I/O
    "read_flo": "io", "write_flo": "io", "read_mot": "io", "write_mot": "io",
    "read_seqinfo": "io", "iter_frames": "io", "read_video": "io", "write_video": "io",
    # visualisation
    "colorwheel": "viz", "flow_to_color": "viz", "flow_to_hsv": "viz", "id_colors": "viz",
    "draw_lines": "viz", "draw_points": "viz", "draw_boxes": "viz", "draw_tracks": "viz",
    "draw_flow_arrows": "viz", "plot_track_timeline": "viz", "plot_flow_quiver": "viz", "plot_colour_names": "viz",
    # assignment
    "linear_sum_assignment": "assignment", "lapjv": "assignment", "greedy_assignment": "assignment",
    # Kalman filters
    "KalmanFilter": "kalman", "batch_predict": "kalman", "batch_update": "kalman",
    "batch_project": "kalman", "batch_mahalanobis_sq": "kalman", "CHI2INV95": "kalman",
    "xysr_model": "kalman", "xysr_initiate": "kalman", "xyah_model": "kalman",
    "xyah_initiate": "kalman", "xyah_process_noise": "kalman", "xyah_measurement_noise": "kalman",
    # box geometry
    "iou_matrix": "boxes", "giou_matrix": "boxes", "diou_matrix": "boxes", "ciou_matrix": "boxes", "box_area": "boxes",
    "clip_boxes": "boxes",
    # multi-object tracking
    "Sort": "tracking", "ByteTrack": "tracking", "OCSort": "tracking", "DeepSort": "tracking", "BoTSORT": "tracking",
    "color_histogram_embeddings": "tracking", "TrackerStep": "tracking", "matched_detections": "tracking",
    # single-object tracking
    "TrackerMOSSE": "sot", "TrackerKCF": "sot", "TrackerCSRT": "sot", "colour_names": "sot", "colour_name_image": "sot",
    # evaluation
    "evaluate_mot": "metrics", "evaluate_mot_folder": "metrics",
    # JIT cache
    "warmup": "cache", "cache_info": "cache", "clear_cache": "cache",
}
_SUBMODULES = ("data", "imgproc", "features", "flow", "io", "viz", "assignment", "kalman", "boxes", "tracking", "sot", "metrics", "nn", "batch", "cache", "cli")

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'scratchvision' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | set(_SUBMODULES))
