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
from .warping import flow_consistency, resize_flow, warp

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["calc_optical_flow_pyr_lk", "forward_backward_error", "build_optical_flow_pyramid", "LKTrace",
           "track_features", "TrackedPoints", "calc_optical_flow_farneback", "poly_expansion", "dense_pyramid",
           "FarnebackTrace", "OPTFLOW_USE_INITIAL_FLOW", "OPTFLOW_FARNEBACK_GAUSSIAN",
           "calc_optical_flow_horn_schunck", "calc_optical_flow_tvl1", "DenseFlowTrace", "warp", "resize_flow",
           "flow_consistency", "endpoint_error", "angular_error", "valid_flow_mask", "estimate_camera_motion",
           "find_transform_ecc", "ECCError", "find_homography", "estimate_affine_2d",
           "estimate_affine_partial_2d"]
__all__ += ["poly_expansion_basis", "dense_pyramid_sizes", "fit_motion", "CameraMotionTrace",
            "MOTION_MODELS", "ECCTrace"]
