"""Horn-Schunck optical flow (1981), coarse to fine with warping.

The flow minimises ``sum (I_x u + I_y v + I_t)^2 + alpha^2 (|grad u|^2 + |grad v|^2)``: brightness
constancy, linearised, plus a quadratic smoothness term. Its Euler-Lagrange equations are solved
by Horn and Schunck's Jacobi iteration: with ``u_avg, v_avg`` the weighted mean of the 8
neighbours (1/6 for the 4 nearest, 1/12 for the diagonals),

    u = u_avg - I_x (I_x u_avg + I_y v_avg + I_t) / (alpha^2 + I_x^2 + I_y^2)

and the same for ``v`` with ``I_y``. To reach motions beyond a pixel or two, this runs on each
layer of a pyramid (:mod:`~scratchvision.flow.coarse_to_fine`); within a layer, the second frame
is warped by the current flow ``u0`` and the linearisation is about it (``I_t = I1(x + u0) -
I0(x)``, derivatives averaged over ``I0`` and the warped ``I1``), while the smoothness term acts on
the whole flow ``u0 + du``.

References
----------
B. K. P. Horn and B. G. Schunck. "Determining Optical Flow." Artificial Intelligence 17, 1981,
pp. 185-203. doi:10.1016/0004-3702(81)90024-2
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_float, check_int
from ..imgproc import central_gradient
from .coarse_to_fine import check_pair, coarse_to_fine
from .warping import warp

__all__ = ["calc_optical_flow_horn_schunck"]


@kernel
def _neighbour_mean_row(up, mid, down, out):
    """Horn and Schunck's weighted 8-neighbour mean along one row (1/6 for the 4 nearest, 1/12
    for the diagonals), edge pixels replicated; the interior loop vectorises."""
    w = mid.shape[0]
    sixth, twelfth = np.float32(1.0 / 6.0), np.float32(1.0 / 12.0)
    for x in range(1, w - 1):
        out[x] = ((up[x] + down[x] + mid[x - 1] + mid[x + 1]) * sixth
                  + (up[x - 1] + up[x + 1] + down[x - 1] + down[x + 1]) * twelfth)
    for x in (0, w - 1):
        xm, xp = max(x - 1, 0), min(x + 1, w - 1)
        out[x] = ((up[x] + down[x] + mid[xm] + mid[xp]) * sixth
                  + (up[xm] + up[xp] + down[xm] + down[xp]) * twelfth)


@kernel(parallel=True)
def _hs_iterations(ix, iy, it, flow0, alpha2, iterations, flow, scratch):
    """``iterations`` Jacobi sweeps on planar flows (2, H, W); ``flow`` holds the result."""
    h, w = ix.shape
    src, dst = flow, scratch
    for _ in range(iterations):
        for y in numba.prange(h):
            ym, yp = max(y - 1, 0), min(y + 1, h - 1)
            ua = np.empty(w, np.float32)
            va = np.empty(w, np.float32)
            _neighbour_mean_row(src[0, ym], src[0, y], src[0, yp], ua)
            _neighbour_mean_row(src[1, ym], src[1, y], src[1, yp], va)
            gx, gy, gt = ix[y], iy[y], it[y]
            u0, v0 = flow0[0, y], flow0[1, y]
            du, dv = dst[0, y], dst[1, y]
            for x in range(w):
                r = ((gx[x] * (ua[x] - u0[x]) + gy[x] * (va[x] - v0[x]) + gt[x])
                     / (alpha2 + gx[x] * gx[x] + gy[x] * gy[x]))
                du[x] = ua[x] - gx[x] * r
                dv[x] = va[x] - gy[x] * r
        src, dst = dst, src
    if iterations % 2 == 1:
        flow[:] = scratch
    return iterations


def calc_optical_flow_horn_schunck(prev, next, flow=None, *, alpha: float = 25.0,  # noqa: A002
                                   iterations: int = 100, warps: int = 3, scale_step: float = 0.5,
                                   levels: int = 4, use_initial_flow: bool = False, trace: bool = False):
    """Dense optical flow from ``prev`` to ``next`` by Horn-Schunck, coarse to fine.

    Parameters
    ----------
    prev, next : ndarray (H, W), uint8/float32/float64 (float16 is computed in float32)
        Gray frames of one size, intensities in gray levels (0..255).
    flow : ndarray (H, W, 2), optional
        Initial flow, used with ``use_initial_flow=True``.
    alpha : float > 0
        Smoothness weight, in gray levels per pixel (the paper's alpha; its square weighs the
        smoothness term against the squared brightness error).
    iterations : int >= 0
        Jacobi sweeps per warp.
    warps : int >= 1
        Re-linearisations per layer.
    scale_step : float in (0, 1)
        Layer size ratio.
    levels : int >= 0
        Extra pyramid layers (layers under 16 pixels are dropped).
    use_initial_flow : bool
    trace : bool
        Also return a :class:`~scratchvision.flow.coarse_to_fine.DenseFlowTrace`.

    Returns
    -------
    flow : ndarray (H, W, 2), float32
        ``(dx, dy)`` with ``prev(x, y) ~ next(x + dx, y + dy)``.
    trace : DenseFlowTrace
        Only with ``trace=True``.

    Examples
    --------
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(2, size=(96, 128), n_objects=2, seed=1)
    >>> f = sv.calc_optical_flow_horn_schunck(seq.frames[0], seq.frames[1])
    >>> f.shape, bool(sv.endpoint_error(f, seq.flow[0]) < 1.0)
    ((96, 128, 2), True)
    """
    img0, img1, init = check_pair(prev, next, flow, use_initial_flow)
    alpha = check_float(alpha, "alpha", low=0.0, low_open=True)
    iterations = check_int(iterations, "iterations", low=0)
    warps = check_int(warps, "warps", low=1)

    def solve_layer(i0, i1, u):
        g0x, g0y = central_gradient(i0)
        planar = np.ascontiguousarray(np.moveaxis(u, 2, 0))  # (2, H, W) while iterating
        scratch = np.empty_like(planar)
        residuals = []
        for _ in range(warps):
            i1w = warp(i1, u, border_mode="replicate")
            g1x, g1y = central_gradient(i1w)
            ix = np.float32(0.5) * (g0x + g1x)
            iy = np.float32(0.5) * (g0y + g1y)
            it = i1w - i0
            residuals.append(float(np.abs(it).mean()))
            _hs_iterations(ix, iy, it, planar.copy(), np.float32(alpha * alpha), iterations, planar, scratch)
            u = np.ascontiguousarray(np.moveaxis(planar, 0, 2))
        return u, residuals, [iterations] * warps

    return coarse_to_fine(img0, img1, init, scale_step, levels, 16, solve_layer, trace)


@warmup_hook
def _warmup():
    img = np.zeros((20, 20), np.float32)
    calc_optical_flow_horn_schunck(img, img, iterations=1, warps=1, levels=0)
