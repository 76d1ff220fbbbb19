"""The operations of the video networks, on float32 arrays laid out like torch's (N, C, [T,] H, W).

Convolution lowers to matrix products: for a chunk of output positions, the input values each
output reads (``C/groups x kT x kH x kW`` of them per position) are copied into the columns of a
patch matrix (im2col, a Numba kernel, zero where the kernel overhangs the padded border), and one
BLAS product with the weights ``(out, C/groups x kT x kH x kW)`` gives the outputs. Chunks keep
the patch matrix a few MiB, so memory stays near the size of the activations. 2-D operations are
the 3-D ones with a time axis of length 1.

Threads: the matrix products run on the BLAS library's threads (``OPENBLAS_NUM_THREADS``, or
threadpoolctl, sets their number). The patch building is a single-threaded kernel; when
``numba.get_num_threads() > 1``, one helper thread fills the next chunk's patch matrix while BLAS
multiplies the current one (the kernel and BLAS both release the GIL). Not Numba's OpenMP pool: its
threads spin after each parallel loop, beside BLAS's, which made a 2-thread R3D-18 forward 6x
slower than a 1-thread one on a 2-core machine.
"""

from __future__ import annotations

import numba
import numpy as np

from .._jit import kernel, warmup_hook

__all__ = ["conv3d", "conv2d", "max_pool3d", "max_pool2d", "avg_pool3d", "avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_avg_pool2d", "relu", "linear", "softmax", "output_size"]

_CHUNK_BYTES = 8 << 20  # patch-matrix budget per chunk


def output_size(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis (torch's floor rule)."""
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


@kernel
def _im2col(x, ks, stride, pad, dil, out_hw, row0, row1, cols):
    """Fill ``cols`` (C kT kH kW, positions) with the inputs read by the output rows
    ``row0..row1`` (a row = one (t, h) pair of the output, all its w positions)."""
    c_in, t_in, h_in, w_in = x.shape
    kt, kh, kw = ks[0], ks[1], ks[2]
    ho, wo = out_hw[0], out_hw[1]
    n_rows = row1 - row0
    for r in range(c_in * kt * kh * kw):
        c = r // (kt * kh * kw)
        rem = r % (kt * kh * kw)
        dt_ = rem // (kh * kw)
        dh_ = (rem // kw) % kh
        dw_ = rem % kw
        dst = cols[r]
        off_w = dw_ * dil[2] - pad[2]
        for q in range(n_rows):
            row = row0 + q
            to, oh = row // ho, row % ho
            ti = to * stride[0] - pad[0] + dt_ * dil[0]
            hi = oh * stride[1] - pad[1] + dh_ * dil[1]
            base = q * wo
            if ti < 0 or ti >= t_in or hi < 0 or hi >= h_in:
                for o in range(wo):
                    dst[base + o] = 0.0
                continue
            src = x[c, ti, hi]
            sw = stride[2]
            for o in range(wo):
                wi = o * sw + off_w
                dst[base + o] = src[wi] if 0 <= wi < w_in else np.float32(0.0)


_POOL = None


def _filler():
    """One helper thread that fills the next patch matrix while BLAS multiplies the current one."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scratchvision-im2col")
    return _POOL


def conv3d(x, weight, bias=None, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups: int = 1):
    """3-D convolution (cross-correlation, as torch): x (N, C, T, H, W), weight
    (O, C / groups, kT, kH, kW), bias (O,) -> (N, O, T', H', W'), float32."""
    n, c, t, h, w = x.shape
    o, cg, kt, kh, kw = weight.shape
    to, ho, wo = (output_size(s, k, st, p, d) for s, k, st, p, d in
                  zip((t, h, w), (kt, kh, kw), stride, padding, dilation))
    if min(to, ho, wo) < 1:
        raise ValueError(f"input {x.shape[2:]} is too small for kernel {weight.shape[2:]} with padding {padding}")
    og = o // groups
    out = np.empty((n, o, to, ho, wo), np.float32)
    k = cg * kt * kh * kw
    w2 = weight.reshape(groups, og, k)
    pointwise = (kt, kh, kw) == (1, 1, 1) and tuple(padding) == (0, 0, 0)
    rows_per_chunk = max(1, _CHUNK_BYTES // (4 * k * wo))
    ks = np.array((kt, kh, kw), np.int64)
    st_, pd_, dl_ = (np.array(v, np.int64) for v in (stride, padding, dilation))
    hw = np.array((ho, wo), np.int64)
    bufs = None
    overlap = numba.get_num_threads() > 1
    for b in range(n):
        for g in range(groups):
            xg = x[b, g * cg:(g + 1) * cg]
            dst = out[b, g * og:(g + 1) * og].reshape(og, -1)
            if pointwise:
                src = xg[:, ::stride[0], ::stride[1], ::stride[2]].reshape(cg, -1)
                np.matmul(w2[g], src, out=dst)
                continue
            xg = np.ascontiguousarray(xg)
            chunks = [(r0, min(r0 + rows_per_chunk, to * ho)) for r0 in range(0, to * ho, rows_per_chunk)]
            if bufs is None:  # two patch buffers per call: one is filled while BLAS reads the other
                size = k * min(rows_per_chunk, to * ho) * wo
                bufs = (np.empty(size, np.float32), np.empty(size, np.float32))

            def fill(i, xg=xg):
                r0, r1 = chunks[i]
                cols = bufs[i % 2][:k * (r1 - r0) * wo].reshape(k, (r1 - r0) * wo)
                _im2col(xg, ks, st_, pd_, dl_, hw, r0, r1, cols)
                return cols

            pending = fill(0)
            for i, (r0, r1) in enumerate(chunks):
                cols, last = pending, i + 1 == len(chunks)
                ahead = _filler().submit(fill, i + 1) if overlap and not last else None
                dst[:, r0 * wo:r1 * wo] = w2[g] @ cols  # BLAS releases the GIL: a fill ahead overlaps it
                if not last:  # with one thread, fill and multiply take turns
                    pending = ahead.result() if ahead is not None else fill(i + 1)
    if bias is not None:
        out += bias.reshape(1, -1, 1, 1, 1)
    return out


def conv2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups: int = 1):
    """2-D convolution: x (N, C, H, W), weight (O, C / groups, kH, kW) -> (N, O, H', W')."""
    out = conv3d(x[:, :, None], weight[:, :, None], bias, (1, *stride), (0, *padding), (1, *dilation), groups)
    return out[:, :, 0]


@kernel
def _pool3d(x, ks, stride, pad, mode, out):
    """Max (mode 0) or average (mode 1, padding counted, as torch's default) pooling."""
    n, c, t, h, w = x.shape
    _, _, to, ho, wo = out.shape
    for nc in range(n * c):
        b, ch = nc // c, nc % c
        for i in range(to):
            for j in range(ho):
                for k in range(wo):
                    acc = -np.inf if mode == 0 else 0.0
                    for a in range(ks[0]):
                        ti = i * stride[0] - pad[0] + a
                        if ti < 0 or ti >= t:
                            continue
                        for bb in range(ks[1]):
                            hi = j * stride[1] - pad[1] + bb
                            if hi < 0 or hi >= h:
                                continue
                            for cc in range(ks[2]):
                                wi = k * stride[2] - pad[2] + cc
                                if wi < 0 or wi >= w:
                                    continue
                                v = x[b, ch, ti, hi, wi]
                                if mode == 0:
                                    acc = max(acc, v)
                                else:
                                    acc += v
                    out[b, ch, i, j, k] = acc if mode == 0 else acc / (ks[0] * ks[1] * ks[2])


def _pool(x, kernel_size, stride, padding, mode):
    stride = kernel_size if stride is None else stride
    dims = [output_size(s, k, st, p) for s, k, st, p in zip(x.shape[2:], kernel_size, stride, padding)]
    if min(dims) < 1:
        raise ValueError(f"input {x.shape[2:]} is too small for pooling window {kernel_size}")
    out = np.empty(x.shape[:2] + tuple(dims), np.float32)
    _pool3d(np.ascontiguousarray(x), np.array(kernel_size, np.int64), np.array(stride, np.int64),
            np.array(padding, np.int64), mode, out)
    return out


def max_pool3d(x, kernel_size, stride=None, padding=(0, 0, 0)):
    """Max pooling over (T, H, W) windows; padding never wins (treated as -inf)."""
    return _pool(x, kernel_size, stride, padding, 0)


def max_pool2d(x, kernel_size, stride=None, padding=(0, 0)):
    return max_pool3d(x[:, :, None], (1, *kernel_size), None if stride is None else (1, *stride),
                      (0, *padding))[:, :, 0]


def avg_pool3d(x, kernel_size, stride=None, padding=(0, 0, 0)):
    """Average pooling, zero padding included in the count (torch's ``count_include_pad=True``)."""
    return _pool(x, kernel_size, stride, padding, 1)


def avg_pool2d(x, kernel_size, stride=None, padding=(0, 0)):
    return avg_pool3d(x[:, :, None], (1, *kernel_size), None if stride is None else (1, *stride),
                      (0, *padding))[:, :, 0]


def _adaptive_bounds(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool3d(x, output_size):
    """torch's adaptive average pooling: cell ``i`` of ``out`` averages input indices
    ``floor(i * in / out)`` to ``ceil((i + 1) * in / out)``."""
    if tuple(output_size) == (1, 1, 1):
        return x.mean(axis=(2, 3, 4), keepdims=True, dtype=np.float32)
    out = np.empty(x.shape[:2] + tuple(output_size), np.float32)
    for i, (t0, t1) in enumerate(_adaptive_bounds(x.shape[2], output_size[0])):
        for j, (h0, h1) in enumerate(_adaptive_bounds(x.shape[3], output_size[1])):
            for k, (w0, w1) in enumerate(_adaptive_bounds(x.shape[4], output_size[2])):
                out[:, :, i, j, k] = x[:, :, t0:t1, h0:h1, w0:w1].mean(axis=(2, 3, 4))
    return out


def adaptive_avg_pool2d(x, output_size):
    return adaptive_avg_pool3d(x[:, :, None], (1, *output_size))[:, :, 0]


def relu(x):
    """max(x, 0), in place."""
    return np.maximum(x, 0, out=x)


def linear(x, weight, bias=None):
    """``x @ weight.T + bias`` (torch's Linear)."""
    out = x @ weight.T
    if bias is not None:
        out += bias
    return out


def softmax(x, axis: int = -1):
    """Numerically stable softmax along ``axis``."""
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@warmup_hook
def _warmup():
    x = np.zeros((1, 2, 3, 4, 4), np.float32)
    conv3d(x, np.zeros((2, 2, 3, 3, 3), np.float32), padding=(1, 1, 1))
    max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    avg_pool3d(x, (1, 2, 2))
