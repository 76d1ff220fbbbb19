"""Optical flow: sparse (pyramidal Lucas-Kanade), the pyramid, and the toolkit every flow
method shares (warping, error measures)."""

from .farneback import (OPTFLOW_FARNEBACK_GAUSSIAN, OPTFLOW_USE_INITIAL_FLOW, FarnebackTrace,
                        calc_optical_flow_farneback, poly_expansion,
                        poly_expansion_basis)
from .camera import (MOTION_MODELS, CameraMotionTrace, estimate_affine_2d, estimate_affine_partial_2d,
                     estimate_camera_motion, find_homography, fit_motion)
from .coarse_to_fine import DenseFlowTrace
from .ecc import ECCError, ECCTrace, find_transform_ecc
from .horn_schunck import calc_optical_flow_horn_schunck
from .tvl1 import calc_optical_flow_tvl1
from .lucas_kanade import LKTrace, calc_optical_flow_pyr_lk, forward_backward_error
from .errors import angular_error, endpoint_error, valid_flow_mask
from .pyramid import build_optical_flow_pyramid, dense_pyramid, dense_pyramid_sizes
from .tracks import TrackedPoints, track_features
from .warp import flow_consistency, resize_flow, warp

__all__ = ["calc_optical_flow_farneback", "calc_optical_flow_horn_schunck", "calc_optical_flow_tvl1", "DenseFlowTrace", "poly_expansion", "poly_expansion_basis", "dense_pyramid", "dense_pyramid_sizes",
           "FarnebackTrace", "OPTFLOW_USE_INITIAL_FLOW", "OPTFLOW_FARNEBACK_GAUSSIAN",
           "calc_optical_flow_pyr_lk", "forward_backward_error", "track_features", "TrackedPoints", "LKTrace",
           "build_optical_flow_pyramid", "warp", "resize_flow", "flow_consistency", "endpoint_error", "angular_error",
           "valid_flow_mask", "estimate_camera_motion", "estimate_affine_partial_2d", "estimate_affine_2d",
           "find_homography", "fit_motion", "CameraMotionTrace", "MOTION_MODELS", "find_transform_ecc", "ECCTrace",
           "ECCError"]
