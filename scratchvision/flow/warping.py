"""Dense-flow operations every flow method shares: backward warping, resizing a flow field,
and forward-backward consistency (occlusion detection)."""

from __future__ import annotations

import numpy as np

from .._validate import check_float, check_flow, check_image
from ..imgproc import remap, resize

__all__ = ["warp", "resize_flow", "flow_consistency"]


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


def resize_flow(flow, dsize) -> np.ndarray:
    """Resize a flow field to ``dsize = (width, height)``, scaling the vectors with the image.

    Bilinear (``cv2.resize`` ``INTER_LINEAR`` semantics); ``dx`` is multiplied by
    ``width / W`` and ``dy`` by ``height / H``, so the result is a flow of the resized images.

    Parameters
    ----------
    flow : ndarray (H, W, 2)
    dsize : (int, int)

    Returns
    -------
    ndarray (height, width, 2), float32
    """
    flow = check_flow(flow)
    if flow.shape[0] < 1 or flow.shape[1] < 1:
        raise ValueError(f"flow must be at least 1x1, got shape {flow.shape}")
    out = resize(flow, dsize)
    out[..., 0] *= np.float32(out.shape[1] / flow.shape[1])
    out[..., 1] *= np.float32(out.shape[0] / flow.shape[0])
    return out


def flow_consistency(forward, backward, *, alpha1: float = 0.01, alpha2: float = 0.5):
    """Forward-backward consistency of a pair of flows, and the occlusion mask it implies.

    For each pixel ``x`` of the first frame, the backward flow is read where the forward flow
    lands, ``b = backward(x + forward(x))`` (bilinear), and the round trip ``forward(x) + b``
    should vanish. Following Sundaram, Brox and Keutzer (ECCV 2010), a pixel is flagged
    inconsistent (occluded, or badly estimated) when
    ``|f + b|^2 > alpha1 (|f|^2 + |b|^2) + alpha2``, or when ``x + f`` leaves the image.

    Parameters
    ----------
    forward : ndarray (H, W, 2)
        Flow from frame 1 to frame 2.
    backward : ndarray (H, W, 2)
        Flow from frame 2 to frame 1.
    alpha1, alpha2 : float >= 0
        Relative and absolute tolerance (squared pixels).

    Returns
    -------
    error : ndarray (H, W), float32
        Round-trip distance ``|f + b|`` in pixels (NaN where ``x + f`` leaves the image).
    occluded : ndarray (H, W), bool
        Pixels failing the test.

    References
    ----------
    N. Sundaram, T. Brox, K. Keutzer. "Dense Point Trajectories by GPU-Accelerated Large
    Displacement Optical Flow." ECCV 2010. doi:10.1007/978-3-642-15549-9_32
    """
    fwd = check_flow(forward, "forward")
    bwd = check_flow(backward, "backward")
    if fwd.shape != bwd.shape:
        raise ValueError(f"forward and backward must have one shape, got {fwd.shape} and {bwd.shape}")
    if fwd.shape[0] < 1 or fwd.shape[1] < 1:
        raise ValueError(f"forward and backward must be at least 1x1, got shape {fwd.shape}")
    alpha1 = check_float(alpha1, "alpha1", low=0.0)
    alpha2 = check_float(alpha2, "alpha2", low=0.0)
    b = warp(bwd, fwd, border_mode="nan")
    loop = fwd + b
    sq = (loop**2).sum(axis=2)
    with np.errstate(invalid="ignore"):
        bound = alpha1 * ((fwd**2).sum(axis=2) + (b**2).sum(axis=2)) + alpha2
        occluded = ~(sq <= bound)  # NaN (left the image) counts as occluded
    return np.sqrt(sq).astype(np.float32), occluded
