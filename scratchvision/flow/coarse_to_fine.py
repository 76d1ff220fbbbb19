"""The coarse-to-fine warping scheme shared by the variational flow methods (Horn-Schunck, TV-L1).

Both frames are put in a :func:`~scratchvision.flow.pyramid.dense_pyramid` (the full-resolution
layer unsmoothed). Starting from the
coarsest layer with a zero (or the user's, shrunk) flow, each layer refines the flow it is given
by ``warps`` rounds of: warp the second frame towards the first with the current flow
(:func:`~scratchvision.flow.warping.warp`), linearise the brightness constancy around it, and solve
the method's problem for the new flow. The result is resized to the next finer layer
(:func:`~scratchvision.flow.warping.resize_flow`), up to full resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import check_float, check_flow, check_image, check_int
from .pyramid import dense_pyramid
from .warping import resize_flow

__all__ = ["DenseFlowTrace", "check_pair", "coarse_to_fine"]


@dataclass
class DenseFlowTrace:
    """What a coarse-to-fine method did per layer (``trace=True``), coarsest first.

    Attributes
    ----------
    scales : list of float
        Layer scale relative to the input.
    images : list of (ndarray, ndarray)
        The two frames' layers (float32).
    flows : list of ndarray
        The flow each layer ended with (in that layer's pixels).
    residuals : list of ndarray
        Per layer, after each warp: mean ``|I1(x + u) - I0(x)|`` over the layer, in gray levels.
    iterations : list of ndarray
        Per layer, the solver iterations run in each warp.
    """

    scales: list = field(default_factory=list)
    images: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    residuals: list = field(default_factory=list)
    iterations: list = field(default_factory=list)


def check_pair(prev, next_, flow, use_initial_flow):
    """Validate two gray frames of one shape and, with ``use_initial_flow``, a matching flow."""
    img0 = check_image(prev, "prev", allow_color=False, half=True)
    img1 = check_image(next_, "next", allow_color=False, half=True)
    if img0.shape != img1.shape:
        raise ValueError(f"prev and next must have one shape, got {img0.shape} and {img1.shape}")
    init = None
    if use_initial_flow:
        if flow is None:
            raise ValueError("flow is required with use_initial_flow=True")
        init = check_flow(flow)
        if init.shape != img0.shape + (2,):
            raise ValueError(f"flow must have shape {img0.shape + (2,)} to match prev, got {init.shape}")
    return img0, img1, init


def coarse_to_fine(prev, next_, init, scale_step, levels, min_size, solve_layer, trace):
    """Run ``solve_layer(I0, I1, flow) -> (flow, residuals, iterations)`` on every layer,
    coarsest first, carrying the flow down. Returns ``flow`` or ``(flow, DenseFlowTrace)``."""
    scale_step = check_float(scale_step, "scale_step", low=0.0, high=1.0, low_open=True)
    if scale_step >= 1.0:
        raise ValueError(f"scale_step must lie in (0, 1), got {scale_step}")
    levels = check_int(levels, "levels", low=0)
    pyr0 = dense_pyramid(prev, scale_step, levels, min_size=min_size, smooth_finest=False)
    pyr1 = dense_pyramid(next_, scale_step, levels, min_size=min_size, smooth_finest=False)
    info = DenseFlowTrace() if trace else None
    flow = None
    for (scale, i0), (_, i1) in zip(pyr0, pyr1):
        lh, lw = i0.shape
        if flow is not None:
            flow = resize_flow(flow, (lw, lh))
        elif init is not None:
            flow = resize_flow(init, (lw, lh))
        else:
            flow = np.zeros((lh, lw, 2), np.float32)
        flow, residuals, iterations = solve_layer(i0, i1, flow)
        if info is not None:
            info.scales.append(scale)
            info.images.append((i0, i1))
            info.flows.append(flow.copy())
            info.residuals.append(np.asarray(residuals, np.float64))
            info.iterations.append(np.asarray(iterations, np.int64))
    return (flow, info) if trace else flow
