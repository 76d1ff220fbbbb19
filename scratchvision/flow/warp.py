"""Warping an image by a dense flow field (backward warping)."""

from __future__ import annotations

import numpy as np

from .._validate import check_flow, check_image
from ..imgproc import remap

__all__ = ["warp"]


def warp(image, flow, *, border_mode: str = "constant", border_value: float = 0.0) -> np.ndarray:
    """Backward-warp ``image`` by ``flow``: ``out[y, x] = image(x + dx[y, x], y + dy[y, x])``.

    With ``image`` the second frame and ``flow`` the forward flow from the first frame to the
    second, the result approximates the first frame wherever the surface stays visible; this is
    the usual way to check a flow (and what variational methods linearise around). Sampling is
    bilinear (:func:`scratchvision.imgproc.remap`).

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, C)
    flow : ndarray, (H, W, 2), (dx, dy)
    border_mode : {"constant", "replicate", "nan"}
    border_value : float

    Returns
    -------
    ndarray, float32, the shape of ``image``
    """
    img = check_image(image, any_channels=True)
    flow = check_flow(flow)
    if flow.shape[:2] != img.shape[:2]:
        raise ValueError(f"flow must have shape {img.shape[:2] + (2,)} to match image, got {flow.shape}")
    h, w = flow.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return remap(img, xx + flow[..., 0], yy + flow[..., 1], border_mode=border_mode,
                 border_value=border_value)
