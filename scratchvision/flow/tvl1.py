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
from .._validate import check_float, check_image, check_int
from .coarse_to_fine import central_gradient, check_pair, coarse_to_fine
from .warp import warp

__all__ = ["calc_optical_flow_tvl1", "median_blur"]


@kernel
def _median_of(buf, n):
    """Median (the element of rank n // 2) of ``buf[:n]`` by quickselect; ``buf`` is reordered."""
    k = n // 2
    lo, hi = 0, n - 1
    while lo < hi:
        pivot = buf[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    return buf[k]


@kernel(parallel=True)
def _median_kernel(src, r, out):
    h, w = src.shape
    for y in numba.prange(h):
        buf = np.empty((2 * r + 1) ** 2, src.dtype)
        for x in range(w):
            n = 0
            for dy in range(-r, r + 1):
                row = src[min(max(y + dy, 0), h - 1)]
                for dx in range(-r, r + 1):
                    buf[n] = row[min(max(x + dx, 0), w - 1)]
                    n += 1
            out[y, x] = _median_of(buf, n)


def median_blur(image, ksize: int) -> np.ndarray:
    """Median of each ``ksize x ksize`` neighbourhood, edge pixels replicated
    (``cv2.medianBlur``'s border), for float32 images.

    Parameters
    ----------
    image : ndarray (H, W), float32/float64/uint8
    ksize : int, odd, >= 1

    Returns
    -------
    ndarray (H, W), float32
    """
    img = np.ascontiguousarray(check_image(image, allow_color=False), np.float32)
    ksize = check_int(ksize, "ksize", low=1)
    if ksize % 2 == 0:
        raise ValueError(f"ksize must be odd, got {ksize}")
    out = np.empty_like(img)
    _median_kernel(img, ksize // 2, out)
    return out


@kernel(parallel=True)
def _primal_step(i1wx, i1wy, grad, rho_c, lt, theta, p, u):
    """Thresholding for ``v``, then ``u = v + theta div p``; returns sum of squared changes."""
    h, w = u.shape[0], u.shape[1]
    err = 0.0
    for y in numba.prange(h):
        for x in range(w):
            gx = i1wx[y, x]
            gy = i1wy[y, x]
            u1 = u[y, x, 0]
            u2 = u[y, x, 1]
            rho = rho_c[y, x] + gx * u1 + gy * u2
            g2 = grad[y, x]
            if rho < -lt * g2:
                d1 = lt * gx
                d2 = lt * gy
            elif rho > lt * g2:
                d1 = -lt * gx
                d2 = -lt * gy
            elif g2 > np.float32(1e-10):
                f = -rho / g2
                d1 = f * gx
                d2 = f * gy
            else:
                d1 = np.float32(0.0)
                d2 = np.float32(0.0)
            for c in range(2):
                # divergence of p = (p_x, p_y) by backward differences (IPOL's boundary rules)
                px = p[y, x, c, 0]
                py = p[y, x, c, 1]
                dvx = px if x == 0 else (-p[y, x - 1, c, 0] if x == w - 1 else px - p[y, x - 1, c, 0])
                dvy = py if y == 0 else (-p[y - 1, x, c, 1] if y == h - 1 else py - p[y - 1, x, c, 1])
                old = u[y, x, c]
                v = (u1 + d1) if c == 0 else (u2 + d2)
                new = v + theta * (dvx + dvy)
                u[y, x, c] = new
                err += (new - old) * (new - old)
    return err


@kernel(parallel=True)
def _dual_step(u, taut, p):
    """``p <- (p + taut grad u) / (1 + taut |grad u|)`` with forward differences (0 at the
    last column / row)."""
    h, w = u.shape[0], u.shape[1]
    for y in numba.prange(h):
        for x in range(w):
            for c in range(2):
                gx = u[y, x + 1, c] - u[y, x, c] if x < w - 1 else np.float32(0.0)
                gy = u[y + 1, x, c] - u[y, x, c] if y < h - 1 else np.float32(0.0)
                ng = np.float32(1.0) + taut * np.sqrt(gx * gx + gy * gy)
                p[y, x, c, 0] = (p[y, x, c, 0] + taut * gx) / ng
                p[y, x, c, 1] = (p[y, x, c, 1] + taut * gy) / ng


def calc_optical_flow_tvl1(prev, next, flow=None, *, tau: float = 0.25, lambda_: float = 0.15,  # noqa: A002
                           theta: float = 0.3, n_scales: int = 5, warps: int = 5, epsilon: float = 0.01,
                           inner_iterations: int = 30, outer_iterations: int = 10, scale_step: float = 0.8,
                           median_filtering: int = 5, use_initial_flow: bool = False, trace: bool = False):
    """Dense optical flow from ``prev`` to ``next`` by TV-L1 (duality-based), coarse to fine.

    Parameters (OpenCV's DualTVL1 names and defaults, in snake case)
    ----------
    prev, next : ndarray (H, W), uint8/float32/float64
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

    def solve_layer(i0, i1, u):
        gx1, gy1 = central_gradient(i1)
        p = np.zeros(u.shape + (2,), np.float32)
        stop = epsilon * epsilon * u.shape[0] * u.shape[1]
        residuals, counts = [], []
        for _ in range(warps):
            i1w = warp(i1, u, border_mode="replicate")
            i1wx = warp(gx1, u, border_mode="replicate")
            i1wy = warp(gy1, u, border_mode="replicate")
            grad = i1wx * i1wx + i1wy * i1wy
            rho_c = i1w - i1wx * u[..., 0] - i1wy * u[..., 1] - i0
            residuals.append(float(np.abs(i1w - i0).mean()))
            err, n = np.inf, 0
            for _ in range(outer_iterations):
                if err <= stop:
                    break
                if median_filtering > 1:
                    u = np.stack([median_blur(u[..., c], median_filtering) for c in range(2)], axis=2)
                for _ in range(inner_iterations):
                    if err <= stop:
                        break
                    err = _primal_step(i1wx, i1wy, grad, rho_c, lt, np.float32(theta), p, u)
                    _dual_step(u, taut, p)
                    n += 1
            counts.append(n)
        return u, residuals, counts

    return coarse_to_fine(img0, img1, init, scale_step, n_scales - 1, 16, solve_layer, trace)


@warmup_hook
def _warmup():
    img = np.zeros((20, 20), np.float32)
    calc_optical_flow_tvl1(img, img, n_scales=1, warps=1, inner_iterations=1, outer_iterations=1)
