"""3x3 convolutions with Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2016).

A 2x2 block of outputs of a 3x3 convolution reads a 4x4 tile ``d`` of the input. Winograd's
algorithm computes it as

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with an elementwise product of two 4x4 matrices: 16 multiplications instead of the 36 of the
direct sum. Summed over input channels, the 16 elementwise products become 16 matrix products,
one per position ``xi`` of the 4x4 Winograd domain:

    M[xi] (out, tiles) = U[xi] (out, C) @ V[xi] (C, tiles),   U = G g G^T,  V = B^T d B,

so a convolution is an input transform (:func:`input_tiles`, additions only), 16 products with
the weights transformed once (:func:`winograd_weights`), and an output transform
(:func:`output_tiles`, additions only): 2.25x fewer multiply-adds than any direct lowering. A
temporal extent ``kT`` (3x3x3 kernels) stays direct: input frame ``t + dt`` of the transformed
tiles is a window of ``V[xi]``, read in place, and the ``kT`` products accumulate in BLAS.

With F(2x2, 3x3) the transforms hold only 0, +-1 and 1/2, and the result differs from the direct
sum by float32 rounding (relative 1e-6 on unit-scale data; larger tiles such as F(4x4, 3x3) lose
more precision).

Reference: A. Lavin, S. Gray. "Fast Algorithms for Convolutional Neural Networks." CVPR 2016.
doi:10.1109/CVPR.2016.435
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel
from ._blas import matmul
from ._scratch import scratch
from ._split import split

__all__ = ["BT", "G", "AT", "winograd_weights", "input_tiles", "output_tiles", "conv_winograd"]

#: input transform: V = B^T d B
BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], np.float32)
#: weight transform: U = G g G^T
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)
#: output transform: Y = A^T M A
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], np.float32)

_BUDGET = 64 << 20  # transformed input and output of one chunk of frames


def winograd_weights(weight: np.ndarray) -> np.ndarray:
    """3x3 kernels in the Winograd domain: ``weight`` (O, C, kT, 3, 3) or (O, C, 3, 3) ->
    ``U`` (16, kT, O, C) float32, ``U[4a + b, dt] = (G g G^T)[a, b]`` for each kernel ``g``.

    ``G`` holds 0, 1/2 and 1, so each entry is a sum of at most nine weights, halved (float32; one
    output channel at a time, so the temporaries stay small).
    """
    w = np.asarray(weight, np.float32)
    if w.ndim == 4:
        w = w[:, :, None]
    if w.ndim != 5 or w.shape[3:] != (3, 3):
        raise ValueError(f"weight must be (O, C, [kT,] 3, 3), got shape {np.shape(weight)}")
    o, c, kt = w.shape[:3]
    u = np.empty((4, 4, kt, o, c), np.float32)
    for i in range(o):
        gi = np.tensordot(G, np.tensordot(w[i], G, axes=([3], [1])), axes=([1], [2]))  # (a, C, kT, b)
        u[:, :, :, i] = gi.transpose(0, 3, 2, 1)
    return u.reshape(16, kt, o, c)


@kernel(fastmath=True)
def _input_tiles(x, pad, f0, f1, nth, ntw, v, c0, c1):
    """``v[4 i + j, c, f - f0, th * ntw + tw]`` = (B^T d B)[i, j] for the 4x4 tile ``d`` at rows
    ``2 th..``, columns ``2 tw..`` of frame ``f`` of ``x`` (C, T, H, W) zero-padded by ``pad``
    (frames, rows and columns before; zeros after as far as the tiles reach), for the channels
    ``c0 <= c < c1``."""
    n_t, h, w = x.shape[1:]
    width = 2 * ntw + 2
    rows = np.zeros((4, width), np.float32)  # the tile band's four padded input rows
    u = np.empty((4, width), np.float32)
    for c in range(c0, c1):
        for f in range(f0, f1):
            fi = f - pad[0]
            if fi < 0 or fi >= n_t:
                v[:, c, f - f0] = 0.0
                continue
            for th in range(nth):
                for i in range(4):
                    hi = 2 * th + i - pad[1]
                    if 0 <= hi < h:
                        for j in range(w):
                            rows[i, pad[2] + j] = x[c, fi, hi, j]
                    else:
                        rows[i, pad[2]:pad[2] + w] = 0.0
                r0, r1, r2, r3 = rows[0], rows[1], rows[2], rows[3]
                for j in range(width):  # B^T d: the rows of every tile in the band at once
                    u[0, j] = r0[j] - r2[j]
                    u[1, j] = r1[j] + r2[j]
                    u[2, j] = r2[j] - r1[j]
                    u[3, j] = r1[j] - r3[j]
                k0 = th * ntw
                k = f - f0
                for i in range(4):  # (B^T d) B: columns, tile by tile
                    ui = u[i]
                    v0, v1, v2, v3 = v[4 * i, c, k], v[4 * i + 1, c, k], v[4 * i + 2, c, k], v[4 * i + 3, c, k]
                    for tw in range(ntw):
                        a, b, cc, d = ui[2 * tw], ui[2 * tw + 1], ui[2 * tw + 2], ui[2 * tw + 3]
                        v0[k0 + tw] = a - cc
                        v1[k0 + tw] = b + cc
                        v2[k0 + tw] = cc - b
                        v3[k0 + tw] = b - d


@kernel(fastmath=True)
def _output_tiles(m, frames, nth, ntw, bias, out, t0, o0, o1):
    """Frames ``t0..t0 + frames`` of ``out`` (O, T', H', W') from the Winograd-domain products ``m``
    (16, O, >= frames * nth * ntw): the 2x2 block ``A^T M A`` of each tile, cut at odd edges, plus
    ``bias`` (O,), for the output channels ``o0 <= o < o1``."""
    ho, wo = out.shape[2:]
    s = np.empty((4, ntw), np.float32)
    d = np.empty((4, ntw), np.float32)
    for o in range(o0, o1):
        for t in range(frames):
            for th in range(nth):
                k0 = (t * nth + th) * ntw
                for j in range(4):  # A^T M: the two output rows of every tile in the band
                    q0, q1, q2, q3 = m[j, o], m[4 + j, o], m[8 + j, o], m[12 + j, o]
                    for tw in range(ntw):
                        b, c = q1[k0 + tw], q2[k0 + tw]
                        s[j, tw] = q0[k0 + tw] + b + c
                        d[j, tw] = b - c - q3[k0 + tw]
                bo = bias[o]
                for r in range(min(2, ho - 2 * th)):  # (A^T M) A: the two columns
                    row = out[o, t0 + t, 2 * th + r]
                    e = s if r == 0 else d
                    for tw in range(wo // 2):
                        row[2 * tw] = e[0, tw] + e[1, tw] + e[2, tw] + bo
                        row[2 * tw + 1] = e[1, tw] - e[2, tw] - e[3, tw] + bo
                    if wo % 2:
                        tw = ntw - 1
                        row[2 * tw] = e[0, tw] + e[1, tw] + e[2, tw] + bo


def input_tiles(x: np.ndarray, padding=(1, 1)) -> np.ndarray:
    """The input transform of a 3x3 convolution with ``padding`` (pH, pW), for study:
    ``x`` (C, H, W) -> ``V`` (16, C, tiles), the tiles in row-major order."""
    x = np.ascontiguousarray(x, np.float32)
    if x.ndim != 3:
        raise ValueError(f"x must be (C, H, W), got shape {x.shape}")
    c, h, w = x.shape
    if min(h + 2 * padding[0], w + 2 * padding[1]) < 3:
        raise ValueError(f"x {x.shape[1:]} with padding {tuple(padding)} is smaller than a 3x3 kernel")
    nth, ntw = -(-(h + 2 * padding[0] - 2) // 2), -(-(w + 2 * padding[1] - 2) // 2)
    v = np.empty((16, c, 1, nth * ntw), np.float32)
    _input_tiles(x[:, None], np.array((0, *padding), np.int64), 0, 1, nth, ntw, v, 0, c)
    return v[:, :, 0]


def output_tiles(m: np.ndarray, out_hw) -> np.ndarray:
    """The output transform, for study: ``M`` (16, O, tiles) -> (O, H', W')."""
    ho, wo = out_hw
    nth, ntw = -(-ho // 2), -(-wo // 2)
    if np.ndim(m) != 3 or np.shape(m)[0] != 16 or np.shape(m)[2] != nth * ntw or min(ho, wo) < 1:
        raise ValueError(f"m must be (16, O, {nth * ntw}) for outputs {tuple(out_hw)}, got shape {np.shape(m)}")
    out = np.empty((m.shape[1], 1, ho, wo), np.float32)
    _output_tiles(np.ascontiguousarray(m, np.float32), 1, nth, ntw, np.zeros(m.shape[1], np.float32), out, 0, 0,
                  m.shape[1])
    return out[:, 0]


def conv_winograd(x, u, bias, padding, dilation_t, out_dims, dst) -> None:
    """``dst`` (O, T', H', W') = the convolution of ``x`` (C, T, H, W) with Winograd-domain weights
    ``u`` (16, kT, O, C) (3x3 in space with stride 1; stride 1 in time, dilation ``dilation_t``),
    plus ``bias`` (O,).

    Frames are taken in chunks (the transformed input and products of a chunk are about 64 MiB, in
    buffers reused between calls); for each chunk: transform the input frames it reads (channels
    shared among threads, :func:`~scratchvision.nn._split.split`), 16 x kT products accumulated per
    Winograd position (within :class:`~scratchvision.nn._split.shared_products`, as RAFT runs,
    the positions shared among threads, each product on one BLAS thread: on a 46 x 62 map, a
    242 -> 96 channel convolution on two threads took 11.3 ms with BLAS's two threads in every
    product, 6-7 ms this way), transform back (output channels shared).
    """
    c = x.shape[0]
    _, kt, o, _ = u.shape
    to, ho, wo = out_dims
    nth, ntw = -(-ho // 2), -(-wo // 2)
    tiles = nth * ntw
    x = np.ascontiguousarray(x)
    pad = np.array(padding, np.int64)
    reach = (kt - 1) * dilation_t
    frames = int(min(to, max(1, (_BUDGET // (64 * tiles) - reach * c) // (c + o))))
    v = scratch("winograd_v", (16, c, frames + reach, tiles))
    m = scratch("winograd_m", (16, o, frames * tiles))
    rows = v.reshape(16, c, -1)
    for t0 in range(0, to, frames):
        n = min(frames, to - t0)
        split(c, lambda c0, c1: _input_tiles(x, pad, t0, t0 + n + reach, nth, ntw, v, c0, c1))

        def products(xi0, xi1):
            for xi in range(xi0, xi1):
                for dt in range(kt):
                    first = dt * dilation_t * tiles
                    matmul(u[xi, dt], rows[xi][:, first:first + n * tiles], m[xi][:, :n * tiles], accumulate=dt > 0)

        split(16, products, products=True)  # the 16 positions' products side by side in shared_products
        split(o, lambda o0, o1: _output_tiles(m, n, nth, ntw, bias, dst, t0, o0, o1))
