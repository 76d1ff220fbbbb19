"""Optical flow: the toolkit every flow method shares (warping, error measures)."""

from .metrics import angular_error, endpoint_error, valid_flow_mask
from .warp import warp

__all__ = ["warp", "endpoint_error", "angular_error", "valid_flow_mask"]
