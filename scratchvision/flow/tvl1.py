"""TV-L1 optical flow (Zach, Pock and Bischof 2007), as OpenCV's DualTVL1OpticalFlow computes it.

The flow minimises ``sum |grad u1| + |grad u2| + lambda |rho(u)|``, with ``rho(u) = I1(x + u) -
I0(x)`` linearised about the current warp: a total-variation regulariser (edges stay sharp) and
an L1 data term (robust to outliers). Introducing an auxiliary flow ``v`` coupled to ``u`` by
``(u - v)^2 / (2 theta)`` splits it into two easy problems, alternated:

* ``v`` given ``u``: a pointwise thresholding step (``v = u + lambda theta grad I1`` or
  ``- lambda theta grad I1``, or the projection onto ``rho = 0``, depending on ``rho(u)``);
* ``u`` given ``v``: ROF denoising of ``v``, solved with Chambolle's dual projection:
  ``u = v + theta div p`` and ``p <- (p + tau/theta grad u) / (1 + tau/theta |grad u|)``.

The iterations stop when the mean squared change of ``u`` falls under ``epsilon^2``; between
rounds of inner iterations, ``u`` is median filtered (Wedel et al. 2009), and the whole is run
``warps`` times per pyramid layer (:mod:`~scratchvision.flow.coarse_to_fine`). Parameters and
their defaults are OpenCV's (``cv2.optflow.DualTVL1OpticalFlow_create``); the structure follows
Sanchez, Meinhardt-Llopis and Facciolo's IPOL description, with bilinear warping (OpenCV and IPOL
use bicubic) and the shared dense pyramid (Gaussian pre-filtered, as IPOL; OpenCV resizes
without pre-filtering).

References
----------
C. Zach, T. Pock and H. Bischof. "A Duality Based Approach for Realtime TV-L1 Optical Flow."
DAGM 2007, LNCS 4713, pp. 214-223. doi:10.1007/978-3-540-74936-3_22

A. Wedel, T. Pock, C. Zach, H. Bischof and D. Cremers. "An Improved Algorithm for TV-L1 Optical
Flow." Statistical and Geometrical Approaches to Visual Motion Analysis, LNCS 5604, 2009.

J. Sanchez, E. Meinhardt-Llopis and G. Facciolo. "TV-L1 Optical Flow Estimation." Image
Processing On Line 3, 2013, pp. 137-150. doi:10.5201/ipol.2013.26
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import check_float, check_int
from ..imgproc import central_gradient, median_blur
from .coarse_to_fine import check_pair, coarse_to_fine
from .warping import warp

__all__ = ["calc_optical_flow_tvl1"]


@kernel(parallel=True, fastmath=True)
def _primal_step(i1wx, i1wy, grad, rho_c, lt, theta, p, u, div, change, row_err):
    """Thresholding for ``v``, then ``u = v + theta div p``, in place; ``row_err[y]`` gets the
    sum of squared changes of ``u`` on row ``y`` (a per-row array, not a scalar reduction: Numba's
    parallel reductions cost ~0.2 ms per call on 2 threads). Planar arrays: ``u`` (2, H, W) =
    (u1, u2), ``p`` (4, H, W) = (p11, p12, p21, p22), scratch ``div`` (2, H, W) and ``change``
    (H, W). Loops run over whole rows."""
    h, w = u.shape[1], u.shape[2]
    for y in numba.prange(h):
        for c in range(2):
            # divergence of (p_c1, p_c2): backward differences, p taken as 0 outside (IPOL)
            px = p[2 * c, y]
            dv = div[c, y]
            dv[0] = px[0]
            for x in range(1, w):
                dv[x] = px[x] - px[x - 1]
            if w > 1:
                dv[w - 1] = -px[w - 2]
            py = p[2 * c + 1]
            if h == 1:
                pass
            elif y == 0:
                for x in range(w):
                    dv[x] += py[0, x]
            elif y == h - 1:
                for x in range(w):
                    dv[x] -= py[h - 2, x]
            else:
                for x in range(w):
                    dv[x] += py[y, x] - py[y - 1, x]
        a1, a2 = u[0, y], u[1, y]
        d1, d2 = div[0, y], div[1, y]
        gx, gy, g2, rc, ch = i1wx[y], i1wy[y], grad[y], rho_c[y], change[y]
        for x in range(w):
            rho = rc[x] + gx[x] * a1[x] + gy[x] * a2[x]
            t = lt * g2[x]
            # v - u is a step along the warped image's gradient: lt of it, or onto rho = 0
            f = np.float32(0.0)
            if rho < -t:
                f = lt
            elif rho > t:
                f = -lt
            elif g2[x] > np.float32(1e-10):
                f = -rho / g2[x]
            n1 = a1[x] + f * gx[x] + theta * d1[x]
            n2 = a2[x] + f * gy[x] + theta * d2[x]
            ch[x] = (n1 - a1[x]) * (n1 - a1[x]) + (n2 - a2[x]) * (n2 - a2[x])
            a1[x] = n1
            a2[x] = n2
        total = 0.0
        for x in range(w):
            total += ch[x]
        row_err[y] = total


@kernel(parallel=True, fastmath=True)
def _dual_step(u, taut, p, grad_u):
    """``p <- (p + taut grad u) / (1 + taut |grad u|)`` per flow component; ``grad u`` by forward
    differences, 0 across the last column / row (scratch ``grad_u`` (2, H, W))."""
    h, w = u.shape[1], u.shape[2]
    for y in numba.prange(h):
        for c in range(2):
            row = u[c, y]
            gx, gy = grad_u[0, y], grad_u[1, y]
            for x in range(w - 1):
                gx[x] = row[x + 1] - row[x]
            gx[w - 1] = 0.0
            if y < h - 1:
                below = u[c, y + 1]
                for x in range(w):
                    gy[x] = below[x] - row[x]
            else:
                gy[:] = 0.0
            px, py = p[2 * c, y], p[2 * c + 1, y]
            for x in range(w):
                ng = np.float32(1.0) + taut * np.sqrt(gx[x] * gx[x] + gy[x] * gy[x])
                px[x] = (px[x] + taut * gx[x]) / ng
                py[x] = (py[x] + taut * gy[x]) / ng


def calc_optical_flow_tvl1(prev, next, flow=None, *, tau: float = 0.25, lambda_: float = 0.15,  # noqa: A002
                           theta: float = 0.3, n_scales: int = 5, warps: int = 5, epsilon: float = 0.01,
                           inner_iterations: int = 30, outer_iterations: int = 10, scale_step: float = 0.8,
                           median_filtering: int = 5, use_initial_flow: bool = False, trace: bool = False):
    """Dense optical flow from ``prev`` to ``next`` by TV-L1 (duality-based), coarse to fine.

    The parameters have OpenCV's DualTVL1 names (in snake case) and defaults.

    Parameters
    ----------
    prev, next : ndarray (H, W), uint8/float32/float64 (float16 is computed in float32)
        Gray frames of one size, intensities in gray levels (0..255; OpenCV instead scales float
        input by 255).
    flow : ndarray (H, W, 2), optional
        Initial flow, used with ``use_initial_flow=True``.
    tau : float in (0, 0.25]
        Time step of the dual update (stable up to 1/4).
    lambda_ : float > 0
        Weight of the data term (smaller: smoother flow).
    theta : float > 0
        Coupling between ``u`` and ``v`` (small: tight).
    n_scales : int >= 1
        Pyramid layers (layers under 16 pixels are dropped).
    warps : int >= 1
        Re-linearisations per layer.
    epsilon : float > 0
        Stop when the mean squared flow change of an iteration is under ``epsilon^2``.
    inner_iterations, outer_iterations : int >= 1
        Iterations between median filterings, and rounds of them, per warp.
    scale_step : float in (0, 1)
        Layer size ratio.
    median_filtering : int
        Median window applied to the flow between rounds (1: none; odd).
    use_initial_flow : bool
    trace : bool
        Also return a :class:`~scratchvision.flow.coarse_to_fine.DenseFlowTrace`.

    Returns
    -------
    flow : ndarray (H, W, 2), float32
    trace : DenseFlowTrace
        Only with ``trace=True``.

    Examples
    --------
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(2, size=(96, 128), n_objects=2, seed=1)
    >>> f = sv.calc_optical_flow_tvl1(seq.frames[0], seq.frames[1])
    >>> f.shape, bool(sv.endpoint_error(f, seq.flow[0]) < 1.0)
    ((96, 128, 2), True)
    """
    img0, img1, init = check_pair(prev, next, flow, use_initial_flow)
    tau = check_float(tau, "tau", low=0.0, high=0.25, low_open=True)
    lambda_ = check_float(lambda_, "lambda_", low=0.0, low_open=True)
    theta = check_float(theta, "theta", low=0.0, low_open=True)
    n_scales = check_int(n_scales, "n_scales", low=1)
    warps = check_int(warps, "warps", low=1)
    epsilon = check_float(epsilon, "epsilon", low=0.0, low_open=True)
    inner_iterations = check_int(inner_iterations, "inner_iterations", low=1)
    outer_iterations = check_int(outer_iterations, "outer_iterations", low=1)
    median_filtering = check_int(median_filtering, "median_filtering", low=1)
    if median_filtering % 2 == 0:
        raise ValueError(f"median_filtering must be odd, got {median_filtering}")
    lt = np.float32(lambda_ * theta)
    taut = np.float32(tau / theta)

    def solve_layer(i0, i1, flow):
        gx1, gy1 = central_gradient(i1)
        h, w = i0.shape
        u = np.ascontiguousarray(np.moveaxis(flow, 2, 0))  # planar (2, H, W) while iterating
        p = np.zeros((4, h, w), np.float32)
        scratch = np.empty((2, h, w), np.float32)
        change = np.empty((h, w), np.float32)
        row_err = np.empty(h)
        stop = epsilon * epsilon * h * w
        residuals, counts = [], []
        for _ in range(warps):
            flow = np.ascontiguousarray(np.moveaxis(u, 0, 2))
            i1w = warp(i1, flow, border_mode="replicate")
            i1wx = warp(gx1, flow, border_mode="replicate")
            i1wy = warp(gy1, flow, border_mode="replicate")
            grad = i1wx * i1wx + i1wy * i1wy
            rho_c = i1w - i1wx * u[0] - i1wy * u[1] - i0
            residuals.append(float(np.abs(i1w - i0).mean()))
            err, n = np.inf, 0
            for _ in range(outer_iterations):
                if err <= stop:
                    break
                if median_filtering > 1:
                    u = np.stack([median_blur(u[c], median_filtering) for c in range(2)])
                for _ in range(inner_iterations):
                    if err <= stop:
                        break
                    _primal_step(i1wx, i1wy, grad, rho_c, lt, np.float32(theta), p, u, scratch, change, row_err)
                    err = row_err.sum()
                    _dual_step(u, taut, p, scratch)
                    n += 1
            counts.append(n)
        u = np.ascontiguousarray(np.moveaxis(u, 0, 2))
        return u, residuals, counts

    return coarse_to_fine(img0, img1, init, scale_step, n_scales - 1, 16, solve_layer, trace)


@warmup_hook
def _warmup():
    img = np.zeros((20, 20), np.float32)
    calc_optical_flow_tvl1(img, img, n_scales=1, warps=1, inner_iterations=1, outer_iterations=1)
