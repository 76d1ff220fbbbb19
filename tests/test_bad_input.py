"""Every public function meets bad input with a ValueError/TypeError naming the argument, or with a
correct empty result: never a crash, a numba typing error, or another exception type.

Each public function is listed in PUBLIC with a valid call; hypothesis substitutes each array
argument in turn with arbitrary arrays (any dtype, 0-4 dimensions, empty sizes, NaN/inf) and
non-arrays. A test checks that the table covers the whole public API: the top-level names, those of
every subpackage and public module (``sot.fhog``, ``nn.conv3d``), and the methods that take data
(``TrackerMOSSE.init``, ``Sort.update``, ``KalmanFilter.predict``); kernel-level functions, which by design take checked
input, are listed apart (KERNEL_LEVEL).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import scratchvision as sv

IMG = np.zeros((8, 10), np.uint8)
FLOW = np.zeros((8, 10, 2), np.float32)
ROWS = np.array([[0, 1, 1, 1, 3, 3]], np.float64)
GRID = np.zeros((4, 4), np.float32)
BOXES = np.array([[0.0, 0.0, 4.0, 4.0], [1.0, 1.0, 5.0, 6.0]])
RGB = np.random.default_rng(0).integers(0, 256, (24, 30, 3), dtype=np.uint8)
CLIP = np.random.default_rng(2).integers(0, 256, (3, 12, 14, 3), dtype=np.uint8)
X4 = np.random.default_rng(3).standard_normal((1, 2, 6, 7)).astype(np.float32)
MOT_GT = np.array([[0, 1, 0, 0, 4, 4, 1], [1, 1, 1, 0, 4, 4, 1]], float)
BBOX = (8.0, 6.0, 10.0, 9.0)
XYWH = np.array([[1.0, 2.0, 5.0, 6.0], [2.0, 2.0, 5.0, 5.0]])
SPECTRA = np.fft.rfft2(np.random.default_rng(1).standard_normal((8, 10, 2)), axes=(0, 1))


def _initialised(name):
    tracker = getattr(sv, name)()
    tracker.init(RGB, BBOX)
    return tracker


def _scale_estimator():
    from scratchvision.sot import ScaleEstimator

    estimator = ScaleEstimator(number_of_scales=5)
    estimator.init(RGB, (13.0, 10.0), (10.0, 9.0), 20.0)
    return estimator


TINY_R3D = importlib.import_module("scratchvision.nn").r3d_18(3)
TINY_RAFT = importlib.import_module("scratchvision.nn").raft_small()
RGB128 = np.random.default_rng(4).integers(0, 256, (128, 128, 3), dtype=np.uint8)
TINY_TWO_STREAM = importlib.import_module("scratchvision.nn").TwoStream(num_classes=3, flow_length=2)
MOT_RESULT = importlib.import_module("scratchvision.metrics.mot")._evaluate(MOT_GT, MOT_GT, 0.5, None, "auto")


# Methods, called on a fresh object (init) or on one initialised on RGB (update, estimate).
NN = importlib.import_module("scratchvision.nn")
TINY_TRANSFORMER = dict(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16, image_size=32,
                        num_frames=4)
TINY_VIDEOMAE = NN.videomae(TINY_TRANSFORMER)
TINY_MAE = NN.videomae_pretraining(TINY_TRANSFORMER, decoder_hidden_size=8, decoder_num_hidden_layers=1,
                                   decoder_num_attention_heads=2, decoder_intermediate_size=16, use_mean_pooling=False)
TINY_FACTORISED = dict(image_size=32, image_patch_size=16, frames=4, frame_patch_size=2, num_classes=3, dim=8,
                       spatial_depth=1, temporal_depth=1, heads=2, mlp_dim=16, dim_head=4)
TINY_OSNET = NN.osnet_x0_25(num_classes=3)
TINY_CNNLSTM = NN.CNNLSTM(num_classes=3, hidden_size=4)
TINY_TSN = NN.TSN(num_classes=3, num_segments=2)
CLIP32 = np.random.default_rng(5).standard_normal((1, 4, 3, 32, 32)).astype(np.float32)
MASK32 = NN.tube_mask(4, 32, rng=0, flat=True)

METHODS = {
    "VideoMAEForVideoClassification.forward": lambda **kw: TINY_VIDEOMAE(**kw),
    "VideoMAEForPreTraining.forward": lambda **kw: TINY_MAE(**kw),
    "ViViTFactorised.forward": lambda **kw: NN.vivit_factorised(**TINY_FACTORISED)(**kw),
    "OSNet.forward": lambda **kw: TINY_OSNET(**kw),
    "LSTM.forward": lambda **kw: NN.LSTM(3, 2)(**kw),
    "CNNLSTM.forward": lambda **kw: TINY_CNNLSTM(**kw),
    "TSN.forward": lambda **kw: TINY_TSN(**kw),
    "GRU.forward": lambda **kw: NN.GRU(3, 2)(**kw),
    "DeepSortReID.forward": lambda **kw: NN.deepsort_reid()(**kw),
    **{f"{t}.init": (lambda t: lambda **kw: getattr(sv, t)().init(**kw))(t) for t in ("TrackerMOSSE", "TrackerKCF",
                                                                                      "TrackerCSRT")},
    **{f"{t}.update": (lambda t: lambda **kw: _initialised(t).update(**kw))(t) for t in ("TrackerMOSSE", "TrackerKCF",
                                                                                         "TrackerCSRT")},
    "sot.ScaleEstimator.init": lambda **kw: importlib.import_module("scratchvision.sot").ScaleEstimator(
        number_of_scales=5).init(**kw),
    "sot.ScaleEstimator.update": lambda **kw: _scale_estimator().update(**kw),
    "sot.ScaleEstimator.estimate": lambda **kw: _scale_estimator().estimate(**kw),
    **{f"{t}.update": (lambda t: lambda **kw: _mot_step(t, kw))(t) for t in ("Sort", "ByteTrack", "OCSort", "DeepSort",
                                                                             "BoTSORT")},
    "KalmanFilter.predict": lambda **kw: _kalman().predict(**kw),
    "KalmanFilter.update": lambda **kw: _kalman().update(**kw),
}
DETS = np.array([[0.0, 0.0, 10.0, 10.0, 0.9], [20.0, 20.0, 30.0, 35.0, 0.8]])
EMBEDDINGS = np.random.default_rng(4).random((2, 8)).astype(np.float32)


def _mot_step(name, kwargs):
    """A multi-object tracker's third update (two updates on DETS first); the warning about
    degenerate boxes (dropped, by design) is not a failure here."""
    tracker = getattr(sv, name)()
    for _ in range(2):
        tracker.update(DETS, EMBEDDINGS) if name == "DeepSort" else tracker.update(DETS)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="dets: dropped", category=RuntimeWarning)
        return tracker.update(**kwargs)


def _kalman():
    kf = sv.KalmanFilter(dim_x=4, dim_z=2)
    kf.F = np.eye(4) + np.eye(4, k=2)
    kf.H = np.eye(2, 4)
    return kf

PTS20 = np.random.default_rng(7).uniform(0, 50, (20, 2))
TEXTURE = (np.random.default_rng(8).random((48, 64)) * 255).astype(np.uint8)

# name -> (valid keyword arguments, array arguments to fuzz); "PATH" is replaced by a temp file.
PUBLIC = {
    "remap": (dict(image=IMG, map_x=GRID, map_y=GRID), ["image", "map_x", "map_y"]),
    "rgb_to_gray": (dict(image=IMG), ["image"]),
    "rgb_to_hsv": (dict(image=IMG), ["image"]),
    "warp": (dict(image=IMG, flow=FLOW), ["image", "flow"]),
    "endpoint_error": (dict(flow=FLOW, gt=FLOW), ["flow", "gt", "mask"]),
    "angular_error": (dict(flow=FLOW, gt=FLOW), ["flow", "gt", "mask"]),
    "valid_flow_mask": (dict(flow=FLOW), ["flow"]),
    "flow_to_color": (dict(flow=FLOW), ["flow"]),
    "flow_to_hsv": (dict(flow=FLOW), ["flow"]),
    "id_colors": (dict(ids=[1, 2]), ["ids"]),
    "draw_lines": (dict(image=IMG, segments=[[0, 0, 3, 3]]), ["image", "segments"]),
    "draw_points": (dict(image=IMG, points=[[1, 1]]), ["image", "points"]),
    "draw_boxes": (dict(image=IMG, boxes=[[0, 0, 3, 3]]), ["image", "boxes"]),
    "draw_tracks": (dict(image=IMG, rows=ROWS, frame=0), ["image", "rows"]),
    "draw_flow_arrows": (dict(image=IMG, flow=FLOW), ["image", "flow"]),
    "plot_track_timeline": (dict(rows=ROWS), ["rows"]),
    "plot_flow_quiver": (dict(image=IMG, flow=FLOW), ["image", "flow"]),
    "write_flo": (dict(path="PATH", flow=FLOW), ["flow"]),
    "write_mot": (dict(path="PATH", rows=ROWS), ["rows"]),
    "write_video": (dict(path="PATH.gif", frames=np.zeros((2, 8, 10), np.uint8)), ["frames"]),
    "read_video": (dict(source=np.zeros((2, 8, 10), np.uint8)), ["source"]),
    "linear_sum_assignment": (dict(cost_matrix=np.eye(3)), ["cost_matrix"]),
    "lapjv": (dict(cost=np.eye(3), extend_cost=True, cost_limit=0.5), ["cost"]),
    "greedy_assignment": (dict(cost=np.eye(3)), ["cost"]),
    "iou_matrix": (dict(a=BOXES, b=BOXES), ["a", "b"]),
    "giou_matrix": (dict(a=BOXES, b=BOXES), ["a", "b"]),
    "ciou_matrix": (dict(a=BOXES, b=BOXES), ["a", "b"]),
    "diou_matrix": (dict(a=BOXES, b=BOXES), ["a", "b"]),
    "box_area": (dict(boxes=BOXES), ["boxes"]),
    "clip_boxes": (dict(boxes=BOXES, size=(10, 10)), ["boxes"]),
    "kalman.xysr_initiate": (dict(measurements=[[1.0, 2.0, 30.0, 0.5]]), ["measurements"]),
    "kalman.xyah_initiate": (dict(measurements=[[1.0, 2.0, 0.5, 30.0]]), ["measurements"]),
    "kalman.xyah_process_noise": (dict(X=np.ones((2, 8))), ["X"]),
    "kalman.xyah_measurement_noise": (dict(X=np.ones((2, 8))), ["X"]),
    "batch_predict": (dict(X=np.zeros((2, 2)), P=np.ones((2, 2, 2)), F=np.eye(2), Q=np.eye(2)), ["X", "P", "F", "Q"]),
    "batch_update": (dict(X=np.zeros((2, 2)), P=np.tile(np.eye(2), (2, 1, 1)), Z=np.ones((2, 1)),
                          H=[[1.0, 0.0]], R=[[1.0]]), ["X", "P", "Z", "H", "R"]),
    "batch_project": (dict(X=np.zeros((2, 2)), P=np.tile(np.eye(2), (2, 1, 1)), H=[[1.0, 0.0]], R=[[1.0]]),
                      ["X", "P", "H", "R"]),
    "good_features_to_track": (dict(image=IMG, max_corners=10, quality_level=0.01, min_distance=2), ["image", "mask"]),
    "corner_min_eigen_val": (dict(image=IMG), ["image"]),
    "corner_harris": (dict(image=IMG, block_size=3, ksize=3, k=0.04), ["image"]),
    "pyr_down": (dict(image=IMG), ["image"]),
    "build_optical_flow_pyramid": (dict(image=IMG, win_size=(3, 3), max_level=2), ["image"]),
    "scharr_derivatives": (dict(image=IMG), ["image"]),
    "calc_optical_flow_pyr_lk": (dict(prev_img=IMG, next_img=IMG, prev_pts=[[2.0, 3.0]], win_size=(3, 3)),
                                 ["prev_img", "next_img", "prev_pts"]),
    "forward_backward_error": (dict(prev_img=IMG, next_img=IMG, prev_pts=[[2.0, 3.0]], win_size=(3, 3)),
                               ["prev_img", "next_img", "prev_pts"]),
    "track_features": (dict(frames=np.zeros((3, 10, 12), np.uint8)), ["frames"]),
    "color_histogram_embeddings": (dict(frame=np.zeros((8, 10, 3), np.uint8), boxes=[[0, 0, 4, 4]]),
                                   ["frame", "boxes"]),
    "matched_detections": (dict(out=np.array([[0, 0, 4, 4, 1, 0.9, -1, 0]]), dets=BOXES), ["out", "dets"]),
    "gaussian_blur": (dict(image=IMG, ksize=(3, 3), sigma_x=1.0), ["image"]),
    "resize": (dict(image=IMG, dsize=(5, 4)), ["image"]),
    "resize_uint8": (dict(image=IMG, dsize=(5, 4)), ["image"]),
    "calc_optical_flow_farneback": (dict(prev=IMG, next=IMG, flow=None, pyr_scale=0.5, levels=1, winsize=3,
                                         iterations=1, poly_n=5, poly_sigma=1.1, flags=0), ["prev", "next", "flow"]),
    "poly_expansion": (dict(image=IMG), ["image"]),
    "calc_optical_flow_horn_schunck": (dict(prev=IMG, next=IMG, iterations=2, warps=1),
                                       ["prev", "next"]),
    "calc_optical_flow_tvl1": (dict(prev=IMG, next=IMG, n_scales=1, warps=1, inner_iterations=2,
                                    outer_iterations=1), ["prev", "next"]),
    "median_blur": (dict(image=IMG, ksize=3), ["image"]),
    "dense_pyramid": (dict(image=IMG, scale_step=0.5, levels=1, min_size=4), ["image"]),
    "resize_flow": (dict(flow=FLOW, dsize=(5, 4)), ["flow"]),
    "flow_consistency": (dict(forward=FLOW, backward=FLOW), ["forward", "backward"]),
    "evaluate_mot": (dict(gt=np.array([[0, 1, 0, 0, 4, 4, 1]], float), hyp=np.array([[0, 1, 1, 0, 4, 4, 1]], float)),
                     ["gt", "hyp"]),
    "batch_mahalanobis_sq": (dict(X=np.zeros((2, 2)), P=np.tile(np.eye(2), (2, 1, 1)), H=[[1.0, 0.0]],
                                  R=[[1.0]], Z=np.ones((3, 1))), ["X", "P", "H", "R", "Z"]),
    **{f"{t}.init": (dict(frame=RGB, bbox=BBOX), ["frame", "bbox"]) for t in ("TrackerMOSSE", "TrackerKCF",
                                                                              "TrackerCSRT")},
    **{f"{t}.update": (dict(frame=RGB), ["frame"]) for t in ("TrackerMOSSE", "TrackerKCF", "TrackerCSRT")},
    "sot.ScaleEstimator.init": (dict(frame=RGB, center=(13.0, 10.0), target_size=(10.0, 9.0), template_side=20.0),
                                ["frame", "center", "target_size"]),
    "sot.ScaleEstimator.update": (dict(frame=RGB, center=(13.0, 10.0)), ["frame", "center"]),
    "sot.ScaleEstimator.estimate": (dict(frame=RGB, center=(13.0, 10.0)), ["frame", "center"]),
    **{f"{t}.update": (dict(dets=DETS, warp=np.eye(2, 3)), ["dets", "warp"]) for t in ("Sort", "ByteTrack", "OCSort",
                                                                                       "BoTSORT")},
    "DeepSort.update": (dict(dets=DETS, embeddings=EMBEDDINGS, warp=np.eye(3)), ["dets", "embeddings", "warp"]),
    "KalmanFilter.predict": (dict(u=None, F=np.eye(4), Q=np.eye(4)), ["F", "Q"]),
    "KalmanFilter.update": (dict(z=[1.0, 2.0], R=np.eye(2), H=np.eye(2, 4)), ["z", "R", "H"]),
    "sot.csr_filter": (dict(xf=SPECTRA, yf=SPECTRA[..., 0], mask=np.ones((8, 10))), ["xf", "yf", "mask"]),
    "sot.fhog": (dict(image=RGB), ["image"]),
    "sot.gray_cells": (dict(image=RGB), ["image"]),
    "colour_names": (dict(image=RGB, cell_size=2), ["image"]),
    "colour_name_image": (dict(image=RGB), ["image"]),
    "plot_colour_names": (dict(image=RGB), ["image"]),
    "caption": (dict(image=RGB, text="frame 1", legend=[("a", (255, 0, 0))]), ["image"]),
    **{f"sot.{f}": (dict(pred=XYWH, gt=XYWH[::-1]), ["pred", "gt"])
       for f in ("overlap_ratios", "center_errors", "success_curve", "precision_curve")},
    "otb_scores": (dict(pred=XYWH, gt=XYWH[::-1]), ["pred", "gt"]),
    "run_tracker": (dict(tracker=sv.TrackerMOSSE(), frames=np.stack([RGB, RGB]), bbox=BBOX), ["frames", "bbox"]),
    "plot_otb": (dict(results={"a": (XYWH, XYWH)}), ["results"]),
    "io.to_frame": (dict(frame=RGB), ["frame"]),
    "boxes.convert": (dict(boxes=BOXES, src="xyxy", dst="xywh"), ["boxes"]),
    "central_gradient": (dict(image=IMG), ["image"]),
    "imgproc.linear_taps": (dict(pos=[1.5, 2.5], src=10), ["pos"]),
    "imgproc.pad_reflect101": (dict(image=IMG, top=1, bottom=2, left=1, right=0), ["image"]),
    "imgproc.sample_separable": (dict(image=IMG, x_taps=(np.array([1, 2]), np.array([0.5, 0.25], np.float32)),
                                      y_taps=(np.array([3]), np.array([0.5], np.float32))),
                                      ["image", "x_taps", "y_taps"]),
    "imgproc.to_uint8": (dict(a=GRID), ["a"]),
    "hsv_to_rgb": (dict(h=GRID, s=GRID, v=GRID), ["h", "s", "v"]),
    "viz.to_rgb8": (dict(image=IMG), ["image"]),
    "metrics.combine_results": (dict(results=[MOT_RESULT, MOT_RESULT]), ["results"]),
    "metrics.format_table": (dict(results={"seq": sv.evaluate_mot(MOT_GT, MOT_GT)}), ["results"]),
    "nn.conv2d": (dict(x=X4, weight=np.ones((3, 2, 3, 3), np.float32), bias=np.ones(3, np.float32)),
                  ["x", "weight", "bias"]),
    "nn.conv3d": (dict(x=X4[:, :, None].repeat(3, axis=2), weight=np.ones((3, 2, 3, 3, 3), np.float32),
                       bias=np.ones(3, np.float32)), ["x", "weight", "bias", "winograd"]),
    "nn.linear": (dict(x=np.ones((2, 4), np.float32), weight=np.ones((3, 4), np.float32), bias=np.ones(3, np.float32)),
                  ["x", "weight", "bias"]),
    "nn.relu": (dict(x=X4), ["x"]),
    "nn.add_relu": (dict(x=X4, residual=X4), ["x", "residual"]),
    "nn.correlation_pyramid": (dict(fmap1=X4[0], fmap2=X4[0]), ["fmap1", "fmap2"]),
    "nn.lookup_correlation": (dict(pyramid=[np.zeros((42, 6, 7), np.float32)], coords=np.zeros((2, 6, 7), np.float32),
                                   radius=1), ["pyramid", "coords"]),
    "calc_optical_flow_raft": (dict(prev=RGB128, next=RGB128, model=TINY_RAFT, num_flow_updates=1), ["prev", "next"]),
    "nn.pooled_features": (dict(fmap2=X4[0], num_levels=2), ["fmap2"]),
    "nn.lookup_correlation_on_demand": (dict(fmap1=X4[0], pooled=[np.zeros((6, 7, 2), np.float32)],
                                             coords=np.zeros((2, 6, 7), np.float32), radius=1),
                                        ["fmap1", "pooled", "coords"]),
    "nn.softmax": (dict(x=X4), ["x"]),
    "nn.gelu": (dict(x=X4), ["x"]),
    "nn.layer_norm": (dict(x=X4, weight=np.ones(7, np.float32), bias=np.zeros(7, np.float32)), ["x", "weight", "bias"]),
    "nn.self_attention": (dict(qkv=np.ones((4, 6), np.float32), n_seq=2, heads=1), ["qkv"]),
    "nn.video_patches": (dict(pixel_values=CLIP32, patch_size=16, tubelet_size=2), ["pixel_values"]),
    "nn.preprocess_video": (dict(frames=CLIP, shortest_edge=8, crop=(8, 8)), ["frames"]),
    "nn.videomae_reconstruction": (dict(model=TINY_MAE, pixel_values=CLIP32, bool_masked_pos=MASK32),
                                   ["pixel_values", "bool_masked_pos"]),
    "VideoMAEForVideoClassification.forward": (dict(pixel_values=CLIP32), ["pixel_values"]),
    "VideoMAEForPreTraining.forward": (dict(pixel_values=CLIP32, bool_masked_pos=MASK32),
                                       ["pixel_values", "bool_masked_pos"]),
    "ViViTFactorised.forward": (dict(video=CLIP32.transpose(0, 2, 1, 3, 4).copy()), ["video"]),
    "crop_patches": (dict(frame=RGB, boxes=BOXES, size=(16, 8)), ["frame", "boxes"]),
    "tracking.crop_patches": (dict(frame=RGB, boxes=BOXES, size=(16, 8)), ["frame", "boxes"]),
    "nn.embed": (dict(model=TINY_OSNET, frame=RGB, boxes=BOXES), ["frame", "boxes"]),
    "OSNet.forward": (dict(x=np.zeros((1, 3, 32, 16), np.float32)), ["x"]),
    "LSTM.forward": (dict(input=np.zeros((4, 1, 3), np.float32)), ["input"]),
    "CNNLSTM.forward": (dict(x=np.zeros((1, 2, 3, 32, 32), np.float32)), ["x"]),
    "TSN.forward": (dict(x=np.zeros((1, 2, 3, 32, 32), np.float32)), ["x"]),
    "GRU.forward": (dict(input=np.zeros((4, 1, 3), np.float32), hx=np.zeros((1, 1, 2), np.float32)), ["input", "hx"]),
    "DeepSortReID.forward": (dict(x=np.zeros((1, 3, 128, 64), np.float32)), ["x"]),
    "mask_tubes": (dict(frames=np.zeros((4, 32, 32, 3), np.uint8), mask=MASK32), ["frames", "mask"]),
    "plot_tube_mask": (dict(frames=np.zeros((4, 32, 32, 3), np.uint8), mask=MASK32), ["frames", "mask",
                                                                                        "reconstruction"]),
    **{f"nn.{f}_pool2d": (dict(x=X4, kernel_size=2), ["x"]) for f in ("max", "avg")},
    **{f"nn.{f}_pool3d": (dict(x=X4[:, :, None], kernel_size=(1, 2, 2)), ["x"]) for f in ("max", "avg")},
    "nn.adaptive_avg_pool2d": (dict(x=X4, output_size=(2, 1)), ["x"]),
    "nn.adaptive_avg_pool3d": (dict(x=X4[:, :, None], output_size=(1, 2, 1)), ["x"]),
    "nn.flow_stack": (dict(flows=np.zeros((2, 4, 5, 2), np.float32)), ["flows"]),
    "nn.preprocess_frames": (dict(frames=CLIP, size=(10, 12), crop=8), ["frames"]),
    "nn.two_stream_inputs": (dict(frames=CLIP, flow_length=2, size=8), ["frames", "flows"]),
    "nn.cross_modality_conv1": (dict(state_dict={"conv1.weight": np.ones((4, 3, 3, 3), np.float32)}, flow_channels=4),
                                ["state_dict"]),
    "nn.unwrap_state_dict": (dict(obj={"w": np.ones(2)}), ["obj"]),
    "nn.classify_video": (dict(video=CLIP[[0, 1, 2, 0]], model=TINY_R3D, clip_len=4, top_k=2), ["video"]),
    "nn.classify_video_two_stream": (dict(video=CLIP, model=TINY_TWO_STREAM, size=8, top_k=2), ["video"]),
    "batch.quantise_flow": (dict(flow=FLOW), ["flow"]),
    **{f: (dict(from_pts=PTS20, to_pts=PTS20 + 1.0), ["from_pts", "to_pts"])
       for f in ("estimate_affine_partial_2d", "estimate_affine_2d", "flow.fit_motion")},
    "find_homography": (dict(src_points=PTS20, dst_points=PTS20 + 1.0), ["src_points", "dst_points"]),
    "estimate_camera_motion": (dict(prev=TEXTURE, next=TEXTURE), ["prev", "next", "mask"]),
    "find_transform_ecc": (dict(template_image=TEXTURE, input_image=TEXTURE, motion_type="translation"),
                                ["template_image", "input_image", "warp_matrix"]),
    "batch.dequantise_flow": (dict(q=np.zeros((3, 4, 2), np.uint8)), ["q"]),
    "track_detections": (dict(tracker=sv.Sort(), det=np.array([[0, -1, 1, 2, 5, 6, 0.9]])), ["det"]),
}

# name -> [(keyword, bad value, exception, message fragment)] for scalar parameters.
SCALARS = {
    "synthetic_sequence": [("n_frames", 0, ValueError, "n_frames"), ("n_frames", "3", TypeError, "n_frames"),
                           ("size", (16,), TypeError, "size"), ("n_objects", 1.5, TypeError, "n_objects"),
                           ("max_speed", float("inf"), ValueError, "max_speed"),
                           ("background_speed", -1.0, ValueError, "background_speed")],
    "texture": [("size", (0, 5), ValueError, "size"), ("channels", 2.0, TypeError, "channels"),
                ("seed", -1, ValueError, "seed")],
    "iter_frames": [("stride", 0, ValueError, "stride"), ("start", -1, ValueError, "start")],
    "remap": [("border_mode", "wrap", ValueError, "border_mode"),
              ("border_value", float("nan"), ValueError, "border_value")],
    "flow_to_color": [("max_flow", -1.0, ValueError, "max_flow")],
    "draw_flow_arrows": [("step", 0, ValueError, "step")],
    "draw_lines": [("thickness", 0, ValueError, "thickness")],
    "write_video": [("fps", 0.0, ValueError, "fps")],
    "lapjv": [("cost_limit", float("nan"), ValueError, "cost_limit")],
    "KalmanFilter": [("dim_x", 0, ValueError, "dim_x"), ("dim_z", 1.5, TypeError, "dim_z"),
                     ("dim_u", -1, ValueError, "dim_u")],
    "clip_boxes": [("size", (0, 5), ValueError, "size"), ("size", 5, TypeError, "size")],
    "ByteTrack": [("track_buffer", -1, ValueError, "track_buffer"), ("frame_rate", 0, ValueError, "frame_rate"),
                  ("match_thresh", float("inf"), ValueError, "match_thresh")],
    **{f"{t}.update": [("timestamp", float("nan"), ValueError, "timestamp"),
                       ("timestamp", "1.0", TypeError, "timestamp")]
       for t in ("Sort", "ByteTrack", "OCSort", "DeepSort", "BoTSORT")},
    "tracking.FrameClock": [("frame_rate", 0.0, ValueError, "frame_rate"),
                            ("frame_rate", "30", TypeError, "frame_rate")],
    "BoTSORT": [("track_buffer", -1, ValueError, "track_buffer"), ("frame_rate", 0, ValueError, "frame_rate"),
                ("appearance_thresh", float("nan"), ValueError, "appearance_thresh"),
                ("proximity_thresh", 1.5, ValueError, "proximity_thresh")],
    "DeepSort": [("nn_budget", 0, ValueError, "nn_budget"), ("n_init", 0, ValueError, "n_init"),
                 ("max_cosine_distance", float("nan"), ValueError, "max_cosine_distance")],
    "OCSort": [("delta_t", 0, ValueError, "delta_t"), ("inertia", -1.0, ValueError, "inertia"),
               ("det_thresh", float("nan"), ValueError, "det_thresh")],
    "Sort": [("max_age", -1, ValueError, "max_age"), ("min_hits", 1.5, TypeError, "min_hits"),
             ("iou_threshold", float("nan"), ValueError, "iou_threshold")],
    "batch_update": [("Z", np.full((2, 1), np.inf), ValueError, "Z")],
    "good_features_to_track": [("quality_level", 0.0, ValueError, "quality_level"),
                               ("min_distance", -1.0, ValueError, "min_distance"),
                               ("max_corners", 2.5, TypeError, "max_corners"),
                               ("gradient_size", 5, ValueError, "ksize"),
                               ("block_size", 0, ValueError, "block_size")],
    "track_features": [("detect_interval", 0, ValueError, "detect_interval"),
                       ("fb_threshold", -1.0, ValueError, "fb_threshold")],
    "build_optical_flow_pyramid": [("win_size", (4, 5), ValueError, "win_size"),
                                   ("win_size", (1, 5), ValueError, "win_size"),
                                   ("max_level", -1, ValueError, "max_level")],
    "TrackerMOSSE": [("rate", 0.0, ValueError, "rate"), ("psr_threshold", float("nan"), ValueError, "psr_threshold"),
                     ("n_warps", -1, ValueError, "n_warps")],
    "TrackerKCF": [("sigma", 0.0, ValueError, "sigma"), ("lambda_", -1.0, ValueError, "lambda_"),
                   ("cell_size", 0, ValueError, "cell_size"), ("scale_step", 0.9, ValueError, "scale_step"),
                   ("desc_pca", 16, ValueError, "desc_pca"), ("desc_npca", 0, ValueError, "desc_npca"),
                   ("desc_pca", 1, ValueError, "desc_pca"), ("compressed_size", 0, ValueError, "compressed_size"),
                   ("pca_learning_rate", 0.0, ValueError, "pca_learning_rate"),
                   ("compress_feature", 1, TypeError, "compress_feature")],
    "TrackerCSRT": [("number_of_scales", 32, ValueError, "number_of_scales"), ("use_hog", 1, TypeError, "use_hog"),
                    ("use_color_names", 1, TypeError, "use_color_names"),
                    ("filter_lr", 1.5, ValueError, "filter_lr"), ("scale_step", 1.0, ValueError, "scale_step"),
                    ("histogram_bins", 0, ValueError, "histogram_bins"), ("padding", float("inf"), ValueError,
                                                                           "padding")],
    "nn.conv_lowering": [("weight_shape", (3, 2, 3), ValueError, "weight_shape")],
    **{f"nn.conv{d}d": [("relu", "yes", TypeError, "relu")] for d in (2, 3)},
    "nn.sample_clips": [("n_frames", 2.5, TypeError, "n_frames"), ("clip_len", 0, ValueError, "clip_len")],
    **{f"nn.{f}": [("num_classes", 0, ValueError, "num_classes")] for f in ("r3d_18", "mc3_18", "r2plus1d_18")},
    **{f"nn.{f}": [("num_classes", 1.5, TypeError, "num_classes"), ("in_channels", 0, ValueError, "in_channels")]
       for f in ("resnet18", "resnet50")},
    **{f"nn.Conv{d}d": [("kernel_size", 0, ValueError, "kernel_size"), ("groups", 3, ValueError, "groups"),
                        ("padding", -1, ValueError, "padding"), ("stride", (1,) * (d + 1), ValueError, "stride")]
       for d in (2, 3)},
    **{f"nn.MaxPool{d}d": [("kernel_size", 0, ValueError, "kernel_size"), ("padding", 1.5, TypeError, "padding")]
       for d in (2, 3)},
    **{f"nn.AdaptiveAvgPool{d}d": [("output_size", 0, ValueError, "output_size")] for d in (2, 3)},
    **{f"nn.BatchNorm{d}d": [("num_features", 0, ValueError, "num_features"), ("eps", 0.0, ValueError, "eps")]
       for d in (2, 3)},
    "nn.Linear": [("in_features", 0, ValueError, "in_features"), ("out_features", "3", TypeError, "out_features")],
    "nn.Dropout": [("p", 1.5, ValueError, "p")],
    "nn.TwoStream": [("fusion", "max", ValueError, "fusion")],
    "nn.InstanceNorm2d": [("num_features", 0, ValueError, "num_features")],
    "nn.LayerNorm": [("normalized_shape", 0, ValueError, "normalized_shape"), ("eps", 0.0, ValueError, "eps")],
    "nn.sinusoid_table": [("n_position", -1, ValueError, "n_position"), ("dim", 0, ValueError, "dim")],
    **{f"nn.{f}": [("num_frames", 3, ValueError, "num_frames"), ("mask_ratio", 1.5, ValueError, "mask_ratio"),
                   ("image_size", 0, ValueError, "image_size")] for f in ("tube_mask", "random_mask")},
    **{f"nn.{f}": [("hidden_size", 0, ValueError, "hidden_size"),
                   ("num_attention_heads", 3, ValueError, "num_attention_heads"),
                   ("config", [1], TypeError, "config")]
       for f in ("videomae", "videomae_pretraining", "timesformer", "vivit")},
    **{f"nn.{f}": [("num_classes", 0, ValueError, "num_classes"), ("normalize", "yes", TypeError, "normalize")]
       for f in ("osnet_x0_25", "osnet_x0_5", "osnet_x1_0")},
    "nn.BatchNorm1d": [("num_features", 0, ValueError, "num_features"), ("eps", 0.0, ValueError, "eps")],
    "batch.quantise_flow": [("bound", 0.0, ValueError, "bound")],
    "estimate_camera_motion": [("model", "rigid", ValueError, "model"), ("method", "orb", ValueError, "method"),
                                    ("downscale", 0, ValueError, "downscale"),
                                    ("fb_threshold", -1.0, ValueError, "fb_threshold")],
    "CameraMotion": [("model", "rigid", ValueError, "model"), ("method", "orb", ValueError, "method"),
                              ("every", 0, ValueError, "every")],
    "find_transform_ecc": [("motion_type", "similarity", ValueError, "motion_type"),
                                ("motion_type", 7, ValueError, "motion_type"),
                                ("gauss_filt_size", 4, ValueError, "gauss_filt_size"),
                                ("criteria", (3, 0, 1e-3), ValueError, "criteria")],
    "flow.fit_motion": [("model", "rigid", ValueError, "model"), ("confidence", 2.0, ValueError, "confidence"),
                        ("ransac_reproj_threshold", -1.0, ValueError, "ransac_reproj_threshold"),
                        ("max_iters", 0, ValueError, "max_iters")],
    "batch.dequantise_flow": [("bound", -1.0, ValueError, "bound")],
    "tracking.make_tracker": [("name", "kalman", ValueError, "tracker"), ("params", {"speed": 1}, ValueError, "params"),
                              ("params", 3, TypeError, "params")],
    "track_detections": [("num_frames", -1, ValueError, "num_frames")],
    "nn.profile": [("repeat", 0, ValueError, "repeat"), ("input_shape", (4, 0, 3), ValueError, "input_shape"),
                   ("input_shape", "abc", ValueError, "input_shape"), ("model", "abc", TypeError, "model")],
    "nn.sample_indices": [("num_frames", 0, ValueError, "num_frames"), ("mode", "dense2", ValueError, "mode"),
                          ("clip_len", 1.5, TypeError, "clip_len")],
    "nn.CNNLSTM": [("num_classes", 0, ValueError, "num_classes"), ("pooling", "max", ValueError, "pooling"),
                   ("backbone", "vgg", ValueError, "backbone")],
    "nn.TSN": [("num_segments", 0, ValueError, "num_segments"), ("modality", "depth", ValueError, "modality"),
               ("new_length", 0, ValueError, "new_length")],
    **{f"nn.{f}": [("input_size", 0, ValueError, "input_size"), ("num_layers", 1.5, TypeError, "num_layers"),
                   ("bidirectional", "no", TypeError, "bidirectional")] for f in ("LSTM", "GRU")},
    "nn.vivit_factorised": [("dim", 0, ValueError, "dim"), ("pool", "max", ValueError, "pool"),
                            ("frames", 3, ValueError, "frames")],
    "gaussian_kernel": [("ksize", 2, ValueError, "ksize"), ("sigma", float("nan"), ValueError, "sigma"),
                        ("dtype", np.int8, TypeError, "dtype")],
    "flow.poly_expansion_basis": [("poly_n", 0, ValueError, "poly_n"), ("poly_sigma", -1.0, ValueError, "poly_sigma")],
    "flow.dense_pyramid_sizes": [("scale_step", 1.5, ValueError, "scale_step"), ("levels", -2, ValueError, "levels"),
                            ("min_size", 0, ValueError, "min_size")],
    "calc_optical_flow_pyr_lk": [("win_size", (20, 21), ValueError, "win_size"),
                                 ("max_level", -1, ValueError, "max_level"),
                                 ("max_iter", 0, ValueError, "max_iter"),
                                 ("epsilon", -1.0, ValueError, "epsilon"),
                                 ("next_img", np.zeros((9, 10), np.uint8), ValueError, "next_img"),
                                 ("use_initial_flow", True, ValueError, "next_pts")],
}
SCALAR_VALID = {
    "synthetic_sequence": dict(n_frames=2, size=(16, 16), n_objects=1),
    "texture": dict(size=(8, 8)),
    "iter_frames": dict(source=np.zeros((2, 4, 4))),
    "KalmanFilter": dict(dim_x=2, dim_z=1),
    "Sort": dict(),
    "ByteTrack": dict(),
    "OCSort": dict(),
    "DeepSort": dict(),
    "BoTSORT": dict(),
    "tracking.FrameClock": dict(frame_rate=30.0),
    "gaussian_kernel": dict(ksize=3, sigma=1.0),
    "TrackerMOSSE": dict(),
    "TrackerKCF": dict(),
    "TrackerCSRT": dict(),
    "flow.poly_expansion_basis": dict(poly_n=5, poly_sigma=1.1),
    "flow.dense_pyramid_sizes": dict(shape=(40, 40)),
    "nn.conv_lowering": dict(weight_shape=(3, 2, 3, 3, 3)),
    "nn.sample_clips": dict(n_frames=20, clip_len=4),
    **{f"nn.{f}": dict(num_classes=3) for f in ("r3d_18", "mc3_18", "r2plus1d_18", "resnet18", "resnet50")},
    **{f"nn.Conv{d}d": dict(in_channels=2, out_channels=4, kernel_size=3) for d in (2, 3)},
    **{f"nn.MaxPool{d}d": dict(kernel_size=2) for d in (2, 3)},
    **{f"nn.AdaptiveAvgPool{d}d": dict(output_size=1) for d in (2, 3)},
    **{f"nn.BatchNorm{d}d": dict(num_features=4) for d in (2, 3)},
    "nn.Linear": dict(in_features=4, out_features=3),
    "nn.LayerNorm": dict(normalized_shape=4),
    "nn.sinusoid_table": dict(n_position=3, dim=4),
    **{f"nn.{f}": dict(num_frames=4, image_size=32) for f in ("tube_mask", "random_mask")},
    **{f"nn.{f}": dict(TINY_TRANSFORMER) for f in ("videomae", "timesformer", "vivit")},
    "nn.videomae_pretraining": dict(TINY_TRANSFORMER, decoder_hidden_size=8, decoder_num_attention_heads=2),
    "nn.vivit_factorised": dict(TINY_FACTORISED),
    **{f"nn.{f}": dict(num_classes=3) for f in ("osnet_x0_25", "osnet_x0_5", "osnet_x1_0")},
    "nn.BatchNorm1d": dict(num_features=4),
    **{f"nn.{f}": dict(input_size=3, hidden_size=2) for f in ("LSTM", "GRU")},
    "nn.sample_indices": dict(num_frames=10, clip_len=4),
    "nn.profile": dict(model=NN.LSTM(3, 2), input_shape=(4, 1, 3), repeat=1),
    "tracking.make_tracker": dict(name="sort"),
    "CameraMotion": dict(),
    "nn.CNNLSTM": dict(num_classes=3, hidden_size=4),
    "nn.TSN": dict(num_classes=3),
    "nn.Dropout": dict(),
    "nn.TwoStream": dict(num_classes=3),
    "nn.InstanceNorm2d": dict(num_features=4),
}

# Public names that take no data (nothing to validate) or are classes.
NO_INPUT = {"colorwheel", "warmup", "cache_info", "clear_cache", "cache.first_run", "cache.mark_warm",
            "SyntheticSequence", "kalman.xysr_model",
            "kalman.xyah_model", "kalman.CHI2INV95", "LKTrace", "TrackedPoints", "TrackerStep", "FarnebackTrace",
            "DenseFlowTrace", "OPTFLOW_USE_INITIAL_FLOW", "OPTFLOW_FARNEBACK_GAUSSIAN",
            "sot.ScaleEstimator",  # its constructor's scalars are tested in test_sot.py
            "sot.COLOUR_NAMES", "sot.COLOUR_NAME_RGB", "sot.colour_name_projection", "sot.colour_names_table"}
# Take a synthetic sequence object; fuzzed with wrong objects in test_sot.py.
NO_ARRAY = {"sot.object_track"}
# Constants, classes whose constructors take no data (modules: their forward is the functional API
# above), and run_demo (scalars only; tested in test_cli.py).
NO_INPUT |= {"boxes.FORMATS", "imgproc.BORDER_MODES", "metrics.HOTA_ALPHAS", "metrics.SUMMARY_KEYS",
             "metrics.TABLE_COLUMNS", "metrics.MOTResult", "demo.STAGES", "demo.FILES", "demo.run_demo",
             "OUTPUT_COLUMNS",
             "nn.KINETICS_MEAN", "nn.KINETICS_STD", "nn.IMAGENET_MEAN", "nn.IMAGENET_STD", "nn.kinetics400_classes",
             "nn.Module", "nn.Sequential", "nn.ReLU", "nn.Flatten", "nn.ResNet", "nn.VideoResNet", "nn.winograd",
             "nn.RAFT", "nn.RAFTTrace", "nn.raft_small", "nn.raft_large", "nn.VideoMAEForVideoClassification",
             "nn.VideoMAEForPreTraining", "nn.TimesformerForVideoClassification", "nn.VivitForVideoClassification",
             "nn.ViViTFactorised", "nn.OSNet", "nn.DeepSortReID", "nn.deepsort_reid",
             "nn.Identity", "nn.Profile", "nn.LayerProfile", "tracking.TRACKER_CLASSES", "batch.JobReport",
             "batch.ItemResult", "batch.Scheduler", "batch.FLOW_METHODS", "batch.FLOW_FORMATS",
             "flow.CameraMotionTrace", "flow.MOTION_MODELS", "boxes.COST_MODES", "flow.ECCTrace", "ECCError"}
# Kernel-level functions: by design they take input a checked function has validated (their
# docstrings say so), to spare the per-frame checks.
KERNEL_LEVEL = {"boxes.convert_checked", "boxes.convert_kernel", "boxes.iou_checked", "boxes.iou_kernel",
                "imgproc.blend_bilinear", "imgproc.fill_border_reflect101", "imgproc.interpolate_rows",
                "imgproc.linear_tap",
                "imgproc.reflect101", "imgproc.sample_bilinear", "imgproc.sample_separable_checked",
                "imgproc.window_taps", "imgproc.scharr_kernel"}
# Readers take paths; they are fuzzed with bad files in test_io.py.
PATH_ONLY = {"read_flo", "read_mot", "read_seqinfo", "evaluate_mot_folder", "nn.load_checkpoint", "nn.save_safetensors",
             "nn.from_pretrained"}
# Dataset jobs take paths and folders; their bad input is tested in test_batch.py.
PATH_ONLY |= {"batch.extract_flow", "batch.track_dataset", "batch.classify_videos", "batch.read_flow_folder",
              "nn.load_raft"}

bad_arrays = st.one_of(
    hnp.arrays(
        dtype=st.sampled_from([np.bool_, np.uint8, np.int16, np.int64, np.float16, np.float32,
                               np.float64, np.complex64]),
        shape=hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5),
        elements=None,
    ),
    st.sampled_from([None, "abc", 3.5, [[1, 2], [3]], {"a": 1}, np.array(["x", "y"]),
                     np.array([object()], dtype=object)]),
)


def test_public_api_is_covered():
    import pkgutil

    names = {n for n in sv.__all__ if n != "__version__"}
    for module in pkgutil.iter_modules(sv.__path__):
        if module.name.startswith("_") or module.name in ("cli",):  # cli: tested in test_cli.py
            continue
        public = importlib.import_module(f"scratchvision.{module.name}").__all__
        names |= {f"{module.name}.{n}" for n in public if n not in sv.__all__}
    names |= {f"{n}.update" for n in ("Sort", "ByteTrack", "OCSort", "DeepSort", "BoTSORT",
                                      "KalmanFilter")} | {"KalmanFilter.predict"}
    sot = importlib.import_module("scratchvision.sot")
    for n in sot.__all__:
        prefix = n if n in sv.__all__ else f"sot.{n}"
        names |= {f"{prefix}.{m}" for m in ("init", "update", "estimate") if hasattr(getattr(sot, n), m)}
    missing = names - set(PUBLIC) - set(SCALARS) - NO_INPUT - NO_ARRAY - PATH_ONLY - KERNEL_LEVEL
    assert missing == set()


def _function(name):
    """The callable a table name stands for: a method in METHODS, else a top-level name or one of
    a subpackage (``sot.fhog``)."""
    if name in METHODS:
        return METHODS[name]
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(f"scratchvision.{module}") if module else sv, attr)


def _call(name, kwargs, tmp_path):
    # Fresh copies: some functions update their arrays in place (batch_predict's X and P), and
    # the table's arrays are shared by every test.
    kw = {k: (str(tmp_path / ("out" + v[4:])) if isinstance(v, str) and v.startswith("PATH")
              else v.copy() if isinstance(v, np.ndarray) else v)
          for k, v in kwargs.items()}
    result = _function(name)(**kw)
    if inspect.isgenerator(result):
        result = list(result)
    if hasattr(result, "savefig"):  # a matplotlib figure: close it, keep it answering checks
        import matplotlib.pyplot as plt

        plt.close(result)
    return result


@pytest.mark.parametrize("name, arg", [(n, a) for n, (_, args) in PUBLIC.items() for a in args])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bad=bad_arrays)
def test_fuzzed_array_arguments(name, arg, bad, tmp_path):
    valid, _ = PUBLIC[name]
    kwargs = dict(valid, **{arg: bad})
    try:
        _call(name, kwargs, tmp_path)
    except (ValueError, TypeError) as exc:
        named = re.search(rf"\b{arg}\b", str(exc))  # as a word: "x" is not named by "maximum"
        assert named or (name == "read_video" and "source" in str(exc)), \
            f"{name}({arg}=...) raised without naming {arg!r}: {exc}"
    except FileNotFoundError:
        assert arg in ("source", "gt", "hyp", "video")  # a string there is a path, which does not exist


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_valid_calls_succeed(name, tmp_path):
    _call(name, PUBLIC[name][0], tmp_path)


@pytest.mark.parametrize("name, keyword, value, exc, fragment",
                         [(n, *case) for n, cases in SCALARS.items() for case in cases])
def test_bad_scalar_parameters(name, keyword, value, exc, fragment, tmp_path):
    valid = dict(PUBLIC[name][0]) if name in PUBLIC else dict(SCALAR_VALID[name])
    valid[keyword] = value
    with pytest.raises(exc, match=fragment):
        _call(name, valid, tmp_path)


@pytest.mark.parametrize("name, kwargs, check", [
    ("draw_points", dict(image=IMG, points=np.zeros((0, 2))), lambda r: r.shape == (8, 10, 3)),
    ("draw_boxes", dict(image=IMG, boxes=np.zeros((0, 4))), lambda r: r.sum() == 0),
    ("draw_lines", dict(image=IMG, segments=np.zeros((0, 4))), lambda r: r.sum() == 0),
    ("draw_tracks", dict(image=IMG, rows=np.zeros((0, 6)), frame=0), lambda r: r.sum() == 0),
    ("id_colors", dict(ids=[]), lambda r: r.shape == (0, 3)),
    ("remap", dict(image=IMG, map_x=np.zeros((0, 3)), map_y=np.zeros((0, 3))), lambda r: r.shape == (0, 3)),
    ("plot_track_timeline", dict(rows=np.zeros((0, 6))), lambda r: r is not None),
    ("write_mot", dict(path="PATH", rows=np.zeros((0, 6))), lambda r: r is None),
    ("run_tracker", dict(tracker=sv.TrackerCSRT(), frames=[], bbox=BBOX),
     lambda r: r[0].shape == (0, 4) and r[1].shape == (0,) and np.isnan(r[2])),
    ("sot.overlap_ratios", dict(pred=np.zeros((0, 4)), gt=np.zeros((0, 4))), lambda r: r.shape == (0,)),
    ("plot_otb", dict(results={}), lambda r: r is not None),
])
def test_empty_inputs_give_empty_results(name, kwargs, check, tmp_path):
    assert check(_call(name, kwargs, tmp_path))


def test_dtype_errors_are_both_type_and_value_errors():
    """A wrong dtype raises DTypeError, which both ``except TypeError`` and ``except ValueError``
    catch (the issue texts of the flow and MOT tools ask for ValueError; NumPy's convention is
    TypeError)."""
    from scratchvision._validate import DTypeError

    assert issubclass(DTypeError, TypeError) and issubclass(DTypeError, ValueError)
    for call in (lambda: sv.calc_optical_flow_farneback(np.zeros((8, 8), np.int16), np.zeros((8, 8), np.int16)),
                 lambda: sv.warp(IMG, np.zeros((8, 10, 2), np.int32)),
                 lambda: sv.remap(np.array([["a"]]), GRID, GRID)):
        with pytest.raises(ValueError):
            call()
        with pytest.raises(TypeError):
            call()
