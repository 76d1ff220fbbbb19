"""The operations of the video networks, on float32 arrays laid out like torch's (N, C, [T,] H, W).

Convolution lowers to BLAS matrix products in one of four ways (:func:`conv_lowering` says which):

* **pointwise** (1x1x1 kernel, no padding): one product of the weights (out, C) with the input
  (C, positions), strided for a strided convolution;
* **winograd** (3x3 in space, stride 1, at least :data:`MIN_CHANNELS` input channels per group):
  Winograd's F(2x2, 3x3), 16 products per temporal tap on transformed 4x4 tiles, 2.25x fewer
  multiply-adds (:mod:`scratchvision.nn.winograd`);
* **shifted windows** (other kernels with at least :data:`MIN_CHANNELS` input channels per group,
  strided ones among them): the input is zero-padded and split into its polyphase components (one
  for stride 1, ``sT sH sW`` of them otherwise). Each kernel offset then reads one component
  shifted by a whole number of samples, so its contribution to every output is one product of
  that offset's weights (out, C) with a window of the flattened component, read in place (no
  copy), accumulated into the output by BLAS (``beta = 1``, :func:`scratchvision.nn._blas.sgemm`).
  Outputs are computed on the component's whole grid, whose rows share their padding, and the
  valid corner is kept: extra work on the border (4 % on 56x56 maps, 31 % on 7x7 ones), instead of
  building a patch matrix ``kT kH kW`` times the input, which costs more;
* **im2col** (few input channels, like a network's first layer, where a product per offset would
  be too thin): the inputs each output position of a frame reads (``C/groups x kH x kW`` of them)
  are copied into the columns of a patch matrix (a Numba kernel, zero where the kernel overhangs
  the border), and each temporal tap is one product of its weights with the patch columns of the
  frames it reads. A convolution of this kind with one temporal tap (every 2-D one) runs as a
  direct loop instead (:func:`_conv_few_channels`): the patch matrix costs more to fill than its
  product (OSNet's 7x7/2 stem on 32 crops: 77 ms as im2col, 34 ms direct).

A **depthwise** 3x3 convolution (one filter per channel, ``groups`` = channels, stride 1, padding
1: OSNet's lite layers) runs as a direct Numba loop instead: a product per channel would be 1 x 9
by 9 x HW. So does a **pointwise convolution with few channels** (at most :data:`_FEW_CHANNELS`
in and out, OSNet's bottlenecks): BLAS runs such thin products at a fraction of its speed.

2-D operations are the 3-D ones with a time axis of length 1, and a batch of images is taken as
the frames of one clip (a 2-D kernel reads no neighbouring frame), so each product covers the
whole batch: 32 crops of a ReID network are one product per kernel offset, not 32. A pointwise
convolution of large images is the exception: it is one product per image, in place, where the
frames would cost two transposes (:data:`_PER_IMAGE_POSITIONS`). :func:`offset_major` stores
weights in the order the shifted-window products read them, and
:func:`~scratchvision.nn.winograd.winograd_weights` transforms them for Winograd's products; the
modules do both once when they load.

Threads: the matrix products run on the BLAS library's threads (``OPENBLAS_NUM_THREADS``, or
threadpoolctl, sets their number); everything else is single-threaded. Filling the next patch
matrix on a helper thread while BLAS multiplied the current one made a 3x7x7 stem 1.5x slower on
two cores (three busy threads), and Numba's parallel loops beside BLAS's spinning threads made a
2-thread R3D-18 forward 6x slower than a 1-thread one.
"""

from __future__ import annotations

import itertools

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import DTypeError, as_array, check_bool, check_finite, check_int, to_float32
from ._blas import matmul
from ._split import split
from ._tally import tally
from .winograd import conv_winograd, winograd_weights

__all__ = ["conv3d", "conv2d", "offset_major", "conv_lowering", "MIN_CHANNELS", "max_pool3d", "max_pool2d",
           "avg_pool3d", "avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_avg_pool2d", "relu", "add_relu", "linear", "softmax", "output_size"]

_CHUNK_BYTES = 8 << 20  # patch-matrix budget per chunk (im2col)
_OUT_CHUNK_BYTES = 4 << 20  # output budget per chunk (shifted windows): stays in cache across the offsets

#: input channels per group from which a convolution runs as shifted-window or Winograd products
#: instead of im2col (with fewer, each product is too thin: a 3x7x7 stem on RGB clips is faster as
#: im2col)
MIN_CHANNELS = 16

#: positions per image from which a pointwise convolution of a batch of images is one product per
#: image rather than one over the batch taken as frames: the two transposes that the latter costs
#: outweigh the per-call overhead of the former (a 16 -> 64 channel 1x1 convolution of 32 maps of
#: 64 x 32 took 14.5 ms as frames, 3.9 ms per image; at 16 x 8 the frames win by 20 %)
_PER_IMAGE_POSITIONS = 512

#: input and output channels up to which a pointwise convolution runs as a compiled loop
#: (:func:`_pointwise_few`) instead of BLAS products: 16 -> 16 channels on 32 maps of 64 x 32 took
#: 0.73x BLAS's time, 32 -> 32 on 16 x 8 maps 0.4x; from 64 channels BLAS is faster
_FEW_CHANNELS = 32


def _tensor(x, name: str, layout: str) -> np.ndarray:
    """``x`` as a float32 array with one axis per letter of ``layout`` (e.g. "NCTHW"), else
    ValueError/DTypeError naming ``name``. Values are not checked: NaN propagates, as in torch."""
    a = as_array(x, name)
    if a.ndim != len(layout):
        raise ValueError(f"{name} must have shape ({', '.join(layout)}), got shape {a.shape}")
    if a.dtype != np.float32:
        raise DTypeError(f"{name} must be float32, got {a.dtype}")
    if layout.startswith("NC") and min(a.shape[2:]) < 1:
        raise ValueError(f"{name} must have non-empty {', '.join(layout[2:])} axes, got shape {a.shape}")
    return a


def int_tuple(value, name: str, n: int, low: int) -> tuple:
    """An int or a sequence of ``n`` ints, each >= ``low``, as a tuple of ``n`` ints (torch's
    convention: a single int stands for every axis)."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * n
    if len(values) != n:
        raise ValueError(f"{name} must be an int or {n} ints, got {value!r}")
    return tuple(check_int(v, name, low=low) for v in values)


def output_size(size: int, k: int, stride: int, pad: int, dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis (torch's floor rule)."""
    return (size + 2 * pad - dilation * (k - 1) - 1) // stride + 1


@kernel
def _im2col(x, ks, stride, pad, dil, out_hw, frame0, frame1, cols):
    """Fill ``cols`` (C kH kW, positions) with the inputs each output position of the frames
    ``frame0..frame1`` of ``x`` (C, T, H, W) reads: row ``(c, dh, dw)``, column ``(frame, oh, ow)``,
    zero where the kernel overhangs the border. ``ks, stride, pad, dil`` are (H, W) pairs."""
    c_in, _, h_in, w_in = x.shape
    kh, kw = ks[0], ks[1]
    ho, wo = out_hw[0], out_hw[1]
    sw = stride[1]
    for r in range(c_in * kh * kw):
        c = r // (kh * kw)
        dh_ = (r // kw) % kh
        dw_ = r % kw
        dst = cols[r]
        off_w = dw_ * dil[1] - pad[1]
        for q in range((frame1 - frame0) * ho):
            f, oh = frame0 + q // ho, q % ho
            hi = oh * stride[0] - pad[0] + dh_ * dil[0]
            base = q * wo
            if hi < 0 or hi >= h_in:
                for o in range(wo):
                    dst[base + o] = 0.0
                continue
            src = x[c, f, hi]
            for o in range(wo):
                wi = o * sw + off_w
                dst[base + o] = src[wi] if 0 <= wi < w_in else np.float32(0.0)


def offset_major(weight):
    """The same weights (O, C/groups, kT, kH, kW) (or 2-D), stored in memory as (kT, kH, kW, O, C/groups).

    The shifted-window products read one (O, C/groups) matrix per kernel offset; in this order each
    is contiguous, and :func:`conv3d` uses the weights without a copy.
    """
    order = (*range(2, weight.ndim), 0, 1)
    return np.moveaxis(np.ascontiguousarray(weight.transpose(order)), (-2, -1), (0, 1))


def _polyphase(x, stride, padding, reach):
    """Zero-pad ``x`` (C, T, H, W) and split it into its ``sT sH sW`` polyphase components.

    Component ``(a, b, c)`` holds the padded samples at ``(a + i sT, b + j sH, c + k sW)`` on a grid
    ``(Tq, Hq, Wq)`` = padded size / stride, rounded up. Rows and planes share their padding where
    the stride is 1: a row is its ``p`` leading zeros and its ``n`` samples, and a window that runs
    past a row's end reads the next row's leading zeros, so ``Wq = n + p`` (``Hq`` likewise) instead
    of ``n + 2p``; this needs ``p <= reach``, the kernel's reach ``(k - 1) d``, so that the outputs
    fit in the row. Returns the components flattened, (components, C, (Tq + spare) Hq Wq) (spare
    planes of zeros at the end keep every shifted window inside), and the grid.
    """
    c = x.shape[0]
    grid = [n + p if axis > 0 and s == 1 and p <= r else -(-(n + 2 * p) // s)
            for axis, (n, p, s, r) in enumerate(zip(x.shape[1:], padding, stride, reach))]
    spare = 1 + (reach[1] * grid[2] + reach[2]) // (grid[1] * grid[2])  # planes a window can run past the last
    parts = np.zeros((int(np.prod(stride)), c, grid[0] + spare, grid[1], grid[2]), np.float32)
    for i, phase in enumerate(itertools.product(*(range(s) for s in stride))):
        dst, src = [i, slice(None)], [slice(None)]
        for r, s, p, n in zip(phase, stride, padding, x.shape[1:]):
            first = max(0, -(-(p - r) // s))  # first grid index whose sample lies inside the input
            start = r + first * s - p
            count = max(0, -(-(n - start) // s))
            dst.append(slice(first, first + count))
            src.append(slice(start, n, s))
        parts[tuple(dst)] = x[tuple(src)]
    return parts.reshape(len(parts), c, -1), grid


def _conv_shifted(x, wk, stride, padding, dilation, out_dims, dst):
    """``dst`` (O, T', H', W') = the convolution of ``x`` (C, T, H, W) with offset-major weights
    ``wk`` (kT, kH, kW, O, C), one accumulated product per kernel offset."""
    kt, kh, kw, o, c = wk.shape
    parts, (_, hq, wq) = _polyphase(x, stride, padding, [d * (k - 1) for d, k in zip(dilation, (kt, kh, kw))])
    m = out_dims[0] * hq * wq  # outputs on the whole (T', Hq, Wq) grid
    full = np.empty((o, m), np.float32)
    reads = []  # (component, shift along its flattened grid, weights) for each kernel offset
    for offset in itertools.product(range(kt), range(kh), range(kw)):
        reach = [d * k for d, k in zip(dilation, offset)]
        part = np.ravel_multi_index([r % s for r, s in zip(reach, stride)], stride)
        q = [r // s for r, s in zip(reach, stride)]
        reads.append((parts[part], (q[0] * hq + q[1]) * wq + q[2], wk[offset]))
    chunk = max(1, _OUT_CHUNK_BYTES // (4 * o))

    def columns(q0, q1):
        for m0 in range(q0, q1, chunk):
            m1 = min(q1, m0 + chunk)
            for i, (part, shift, w) in enumerate(reads):
                matmul(w, part[:, shift + m0:shift + m1], full[:, m0:m1], accumulate=i > 0)

    split(m, columns, 512, products=True)  # output columns shared among threads in shared_products
    np.copyto(dst, full.reshape(o, out_dims[0], hq, wq)[:, :, :out_dims[1], :out_dims[2]])


def _conv_im2col(x, weight, stride, padding, dilation, out_dims, dst):
    """``dst`` (O, T', H', W') = the convolution of ``x`` (C, T, H, W) with ``weight`` (O, C, kT, kH, kW).

    im2col in space, shifted windows in time: the patch matrix holds, for each frame of the
    time-padded input, the inputs each output position of the frame reads (``C kH kW`` rows), and
    output frame ``t`` sums, over the temporal taps ``dt``, that tap's weights (O, C kH kW) times the
    patch columns of input frame ``t sT + dt dT``. The patch matrix is built for a few output
    frames at a time (about :data:`_CHUNK_BYTES`), so it is ``kH kW`` (not ``kT kH kW``) times the
    input and stays in cache.
    """
    c = x.shape[0]
    o, _, kt, kh, kw = weight.shape
    to, ho, wo = out_dims
    plane = ho * wo
    k = c * kh * kw
    frames = np.zeros((c, x.shape[1] + 2 * padding[0]) + x.shape[2:], np.float32)
    frames[:, padding[0]:padding[0] + x.shape[1]] = x
    taps = [np.ascontiguousarray(weight[:, :, dt].reshape(o, k)) for dt in range(kt)]
    reach = (kt - 1) * dilation[0]
    per_chunk = max(1, (_CHUNK_BYTES // (4 * k * plane) - reach - 1) // stride[0] + 1)
    buf = np.empty((k, ((per_chunk - 1) * stride[0] + reach + 1) * plane), np.float32)
    args = [np.array(v, np.int64) for v in ((kh, kw), stride[1:], padding[1:], dilation[1:], (ho, wo))]
    out = dst.reshape(o, to * plane)
    for t0 in range(0, to, per_chunk):
        t1 = min(to, t0 + per_chunk)
        f0, f1 = t0 * stride[0], (t1 - 1) * stride[0] + reach + 1  # input frames the chunk reads
        cols = buf[:, :(f1 - f0) * plane]
        _im2col(frames, *args, f0, f1, cols)
        for dt in range(kt):
            first = dt * dilation[0]  # input frame of output frame t0 for this tap, from f0
            if stride[0] == 1:
                matmul(taps[dt], cols[:, first * plane:(first + t1 - t0) * plane], out[:, t0 * plane:t1 * plane],
                       accumulate=dt > 0)
                continue
            for t in range(t0, t1):
                f = (t - t0) * stride[0] + first
                matmul(taps[dt], cols[:, f * plane:(f + 1) * plane], out[:, t * plane:(t + 1) * plane],
                       accumulate=dt > 0)


@kernel(fastmath=True)
def _depthwise_3x3(x, weight, bias, relu, out, c0, c1):
    """out[n, c, t] = x[n, c, t] correlated with weight[c] (3 x 3, stride 1, zero padding 1) plus
    bias[c], then max(0, .) with ``relu``, for the channels ``c0 <= c < c1``: the depthwise
    convolution of OSNet's lite layers,
    direct, frame by frame. Each frame is first copied into a zero-bordered plane, so an output
    row is one loop of nine multiply-adds per pixel, without branches, that the compiler
    vectorises, written once (adding tap by tap into short rows cost 3x as much)."""
    n_batch, _, frames, height, width = x.shape
    padded = np.zeros((height + 2, width + 2), np.float32)
    floor = np.float32(0.0 if relu else -np.inf)  # the ReLU as a select that vectorises (NaN passes, as in torch)
    for b in range(n_batch):
        for c in range(c0, c1):
            w = weight[c]
            for t in range(frames):
                plane, target = x[b, c, t], out[b, c, t]
                for y in range(height):
                    padded[y + 1, 1:width + 1] = plane[y]
                for y in range(height):
                    above, row, below = padded[y], padded[y + 1], padded[y + 2]
                    dst = target[y]
                    for i in range(width):
                        v = (bias[c] + w[0, 0] * above[i] + w[0, 1] * above[i + 1] + w[0, 2] * above[i + 2]
                             + w[1, 0] * row[i] + w[1, 1] * row[i + 1] + w[1, 2] * row[i + 2]
                             + w[2, 0] * below[i] + w[2, 1] * below[i + 1] + w[2, 2] * below[i + 2])
                        dst[i] = floor if v < floor else v


@kernel(fastmath=True)
def _pointwise_few(x, weight, bias, relu, out, b0, b1):
    """out[b, o] = sum over c of weight[o, c] x[b, c], plus bias[o], then max(0, .) with ``relu``,
    for the images ``b0 <= b < b1`` of x (N, C, positions): a pointwise convolution with few
    channels, where BLAS's products are too thin to run at speed. Positions go in blocks that stay
    in cache, summed in a buffer, four input channels per pass, then written out once."""
    c, positions = x.shape[1], x.shape[2]
    block = 2048
    acc = np.empty(block, np.float32)
    floor = np.float32(0.0 if relu else -np.inf)  # the ReLU as a select that vectorises (NaN passes, as in torch)
    for b in range(b0, b1):
        for p0 in range(0, positions, block):
            n = min(positions, p0 + block) - p0
            for j in range(weight.shape[0]):
                acc[:n] = bias[j]
                k = 0
                while k < c:
                    if k + 4 <= c:
                        w0, w1, w2, w3 = weight[j, k], weight[j, k + 1], weight[j, k + 2], weight[j, k + 3]
                        x0, x1, x2, x3 = x[b, k, p0:], x[b, k + 1, p0:], x[b, k + 2, p0:], x[b, k + 3, p0:]
                        for i in range(n):
                            acc[i] += w0 * x0[i] + w1 * x1[i] + w2 * x2[i] + w3 * x3[i]
                        k += 4
                    else:
                        w0, x0 = weight[j, k], x[b, k, p0:]
                        for i in range(n):
                            acc[i] += w0 * x0[i]
                        k += 1
                dst = out[b, j, p0:]
                for i in range(n):
                    v = acc[i]
                    dst[i] = floor if v < floor else v


@kernel(fastmath=True)
def _conv_few_channels(x, weight, bias, stride, pad, relu, out, u0, u1):
    """out = the 2-D convolution of the frames of x (N, C, T, H, W) (frame f is
    ``x[f // T, :, f % T]``) with weight (O, C, kH, kW), stride and zero padding (H, W), plus
    bias, then max(0, .) with ``relu``, for the (frame, output channel) pairs ``u0 <= f O + o <
    u1``: the first layer of a network, on few input channels.

    Each frame is zero-padded and split into its polyphase components, flattened. An output
    channel is computed on a component's whole grid (its rows share their padding, and the
    columns past the output's width are dropped at the end): each kernel tap then adds a shifted
    run of one flattened component to the whole accumulator, four taps per pass, in loops as long
    as the plane."""
    t = x.shape[2]
    c, h, w = x.shape[1], x.shape[3], x.shape[4]
    o, _, kh, kw = weight.shape
    sh, sw, ph, pw = stride[0], stride[1], pad[0], pad[1]
    ho, wo = out.shape[3], out.shape[4]
    hq, wq = ho + (kh - 1) // sh + 1, wo + (kw - 1) // sw  # a spare row keeps the last shifted runs inside
    parts = np.empty((sh * sw * c, hq * wq), np.float32)
    m = ho * wq
    acc = np.empty(m, np.float32)
    block = 2048
    taps = kh * kw
    part = np.empty(c * taps, np.int64)  # component and shift each tap reads, (channel, dy, dx) order
    shift = np.empty(c * taps, np.int64)
    for ch in range(c):
        for dy in range(kh):
            for dx in range(kw):
                part[ch * taps + dy * kw + dx] = ((dy % sh) * sw + dx % sw) * c + ch
                shift[ch * taps + dy * kw + dx] = (dy // sh) * wq + dx // sw
    floor = np.float32(0.0 if relu else -np.inf)  # the ReLU as a select that vectorises (NaN passes, as in torch)
    for f in range(u0 // o, (u1 - 1) // o + 1):
        n, frame = f // t, f % t
        for a in range(sh):  # component (a, b) holds the padded frame at (a + i sh, b + j sw)
            for b in range(sw):
                for ch in range(c):
                    dst = parts[(a * sw + b) * c + ch]
                    for i in range(hq):
                        yi = a + i * sh - ph
                        for j in range(wq):
                            xi = b + j * sw - pw
                            inside = 0 <= yi < h and 0 <= xi < w
                            dst[i * wq + j] = x[n, ch, frame, yi, xi] if inside else np.float32(0.0)
        for k in range(max(u0 - f * o, 0), min(u1 - f * o, o)):
            flat = weight[k].ravel()
            for q0 in range(0, m, block):  # a block of the accumulator stays in cache over the taps
                n_q = min(m, q0 + block) - q0
                out_q = acc[q0:q0 + n_q]
                out_q[:] = bias[k]
                r = 0
                while r < c * taps:
                    if r + 4 <= c * taps:
                        w0, w1, w2, w3 = flat[r], flat[r + 1], flat[r + 2], flat[r + 3]
                        s0, s1 = parts[part[r], q0 + shift[r]:], parts[part[r + 1], q0 + shift[r + 1]:]
                        s2, s3 = parts[part[r + 2], q0 + shift[r + 2]:], parts[part[r + 3], q0 + shift[r + 3]:]
                        for i in range(n_q):
                            out_q[i] += w0 * s0[i] + w1 * s1[i] + w2 * s2[i] + w3 * s3[i]
                        r += 4
                    else:
                        w0, s0 = flat[r], parts[part[r], q0 + shift[r]:]
                        for i in range(n_q):
                            out_q[i] += w0 * s0[i]
                        r += 1
            for y in range(ho):
                dst, row = out[n, k, frame, y], acc[y * wq:]
                for i in range(wo):
                    v = row[i]
                    dst[i] = floor if v < floor else v


@kernel(fastmath=True)
def _add_bias(x, bias, relu, b0, b1):
    """x[b, o] += bias[o], then max(0, .) with ``relu``, in place, for ``b0 <= b < b1`` of x (N, O,
    positions): one pass where NumPy's broadcast add and ``maximum`` take two, each slower."""
    floor = np.float32(0.0 if relu else -np.inf)  # the ReLU as a select that vectorises (NaN passes, as in torch)
    for b in range(b0, b1):
        for j in range(x.shape[1]):
            row, shift = x[b, j], bias[j]
            for i in range(row.size):
                v = row[i] + shift
                row[i] = floor if v < floor else v


def conv_lowering(weight_shape, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1)) -> str:
    """How :func:`conv3d` computes a convolution with weights of ``weight_shape`` (O, C/groups, kT,
    kH, kW): ``"pointwise"``, ``"winograd"``, ``"shifted"`` or ``"im2col"`` (see the module notes).

    Parameters
    ----------
    weight_shape : tuple
        (O, C/groups, kT, kH, kW).
    stride, padding, dilation : (int, int, int)

    Returns
    -------
    str
    """
    if len(weight_shape) != 5:
        raise ValueError(f"weight_shape must be (O, C/groups, kT, kH, kW), got {tuple(weight_shape)}")
    _, cg, kt, kh, kw = weight_shape
    if (kt, kh, kw) == (1, 1, 1) and tuple(padding) == (0, 0, 0):
        return "pointwise"
    if cg < MIN_CHANNELS:
        return "im2col"
    if (kh, kw) == (3, 3) and tuple(stride) == (1, 1, 1) and tuple(dilation[1:]) == (1, 1):
        return "winograd"
    return "shifted"


def conv3d(x, weight, bias=None, stride=(1, 1, 1), padding=(0, 0, 0), dilation=(1, 1, 1), groups: int = 1,
           winograd=None, *, relu: bool = False):
    """3-D convolution (cross-correlation, as torch): x (N, C, T, H, W), weight
    (O, C / groups, kT, kH, kW), bias (O,) -> (N, O, T', H', W'), float32.

    ``winograd``: the weights already in the Winograd domain
    (:func:`~scratchvision.nn.winograd.winograd_weights`), for a convolution that runs that way
    (:func:`conv_lowering`); ``weight`` then only gives the shape. Without them, the weights are
    transformed on every call.

    Parameters
    ----------
    x : ndarray (N, C, T, H, W) float32
    weight : ndarray (O, C / groups, kT, kH, kW) float32
    bias : ndarray (O,), optional
    stride, padding, dilation : int or (int, int, int)
    groups : int
    winograd : ndarray, optional
        The weights in the Winograd domain.
    relu : bool
        Return max(0, output), the ReLU that follows most convolutions (not a torch argument),
        computed inside the depthwise and few-channel loops as each output is written, after
        the products elsewhere.

    Returns
    -------
    ndarray (N, O, T', H', W') float32
    """
    x, weight = _tensor(x, "x", "NCTHW"), _tensor(weight, "weight", "OCTHW")
    stride, dilation = int_tuple(stride, "stride", 3, 1), int_tuple(dilation, "dilation", 3, 1)
    padding = int_tuple(padding, "padding", 3, 0)
    groups = check_int(groups, "groups", low=1)
    relu = check_bool(relu, "relu")
    n, c, t, h, w = x.shape
    o, cg, kt, kh, kw = weight.shape
    if min(weight.shape) < 1 or c != cg * groups or o % groups:
        raise ValueError(f"weight {weight.shape} does not fit x with {c} channels in {groups} group(s): "
                         f"(O, C / groups, kT, kH, kW) with O a multiple of groups")
    if bias is not None:
        bias = as_array(bias, "bias")
        if bias.shape != (o,):
            raise ValueError(f"bias must have shape ({o},) to match weight {weight.shape}, got {bias.shape}")
        bias = to_float32(bias, "bias")
    shift = np.zeros(o, np.float32) if bias is None else bias  # the bias as the loops add it
    if winograd is not None:
        winograd = _tensor(winograd, "winograd", "UTOC")
        if winograd.shape != (16, kt, o, cg):
            raise ValueError(f"winograd must have shape {(16, kt, o, cg)} (winograd_weights(weight)), "
                             f"got {winograd.shape}")
    out_dims = tuple(output_size(s, k, st, p, d) for s, k, st, p, d in
                     zip((t, h, w), (kt, kh, kw), stride, padding, dilation))
    if min(out_dims) < 1:
        raise ValueError(f"x {x.shape} is too small for kernel {weight.shape[2:]} with padding {padding}")
    og = o // groups
    if (cg == 1 and og == 1 and groups > 1 and weight.shape[2:] == (1, 3, 3) and stride == (1, 1, 1)
            and padding == (0, 1, 1) and dilation == (1, 1, 1)):  # depthwise 3 x 3: one filter per channel
        out = np.empty((n, o) + out_dims, np.float32)
        xc, taps = np.ascontiguousarray(x), np.ascontiguousarray(weight[:, 0, 0])
        split(o, lambda c0, c1: _depthwise_3x3(xc, taps, shift, relu, out, c0, c1))  # channels shared among threads
        tally(out.size * 9)
        return out
    how = conv_lowering(weight.shape, stride, padding, dilation)
    if winograd is not None and how != "winograd":
        raise ValueError(f"winograd weights were given for a convolution computed as {how}")
    if how == "pointwise" and groups == 1 and stride == (1, 1, 1) and max(c, o) <= _FEW_CHANNELS:
        out = np.empty((n, o) + out_dims, np.float32)
        xc, flat = np.ascontiguousarray(x).reshape(n, c, -1), out.reshape(n, o, -1)
        w2 = np.ascontiguousarray(weight.reshape(o, c))
        split(n, lambda b0, b1: _pointwise_few(xc, w2, shift, relu, flat, b0, b1))  # images shared among threads
        tally(out.size * c)
        return out
    if (how == "im2col" and kt == 1 and groups == 1 and stride[0] == 1 and padding[0] == 0
            and dilation[1:] == (1, 1)):  # a first layer in space: its own loop, frame by frame
        out = np.empty((n, o) + out_dims, np.float32)
        taps = np.ascontiguousarray(weight[:, :, 0])
        steps, pads = np.array(stride[1:], np.int64), np.array(padding[1:], np.int64)
        split(n * t * o, lambda u0, u1: _conv_few_channels(x, taps, shift, steps, pads, relu, out, u0, u1))
        tally(out.size * cg * kh * kw)
        return out
    per_image = how == "pointwise" and t * h * w >= _PER_IMAGE_POSITIONS
    if n > 1 and t == 1 and kt == 1 and padding[0] == 0 and stride[0] == 1 and not per_image:
        # 2-D images: the batch as frames
        frames = conv3d(np.ascontiguousarray(x.transpose(2, 1, 0, 3, 4)), weight, bias, stride, padding, dilation,
                        groups, winograd, relu=relu)
        return np.ascontiguousarray(frames.transpose(2, 1, 0, 3, 4))
    out = np.empty((n, o) + out_dims, np.float32)
    if how == "shifted":
        wk = np.ascontiguousarray(weight.transpose(2, 3, 4, 0, 1))  # free for offset_major weights
    elif how == "winograd":
        winograd = winograd_weights(weight) if winograd is None else winograd
        bias_g = shift.reshape(groups, og)  # added by the output transform
    for b in range(n):
        for g in range(groups):
            xg = x[b, g * cg:(g + 1) * cg]
            dst = out[b, g * og:(g + 1) * og]
            if how == "pointwise":
                src = np.ascontiguousarray(xg[:, ::stride[0], ::stride[1], ::stride[2]]).reshape(cg, -1)
                matmul(np.ascontiguousarray(weight[g * og:(g + 1) * og].reshape(og, cg)), src, dst.reshape(og, -1))
            elif how == "winograd":
                conv_winograd(xg, winograd[:, :, g * og:(g + 1) * og], bias_g[g], padding, dilation[0], out_dims, dst)
            elif how == "shifted":
                _conv_shifted(xg, wk[..., g * og:(g + 1) * og, :], stride, padding, dilation, out_dims, dst)
            else:
                _conv_im2col(xg, weight[g * og:(g + 1) * og], stride, padding, dilation, out_dims, dst)
    if relu or (bias is not None and how != "winograd"):  # (Winograd's output transform added the bias)
        added = np.zeros(o, np.float32) if how == "winograd" else shift
        flat = out.reshape(n, o, -1)
        split(n, lambda b0, b1: _add_bias(flat, added, relu, b0, b1))
    tally(out.size * cg * kt * kh * kw)
    return out


def conv2d(x, weight, bias=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups: int = 1, winograd=None, *,
           relu: bool = False):
    """2-D convolution: x (N, C, H, W), weight (O, C / groups, kH, kW) -> (N, O, H', W').

    Parameters
    ----------
    x : ndarray (N, C, H, W) float32
    weight : ndarray (O, C / groups, kH, kW) float32
    bias : ndarray (O,), optional
    stride, padding, dilation : int or (int, int)
    groups : int
    winograd : ndarray, optional
        The weights in the Winograd domain (:func:`conv3d`).
    relu : bool
        Return max(0, output) (:func:`conv3d`).

    Returns
    -------
    ndarray (N, O, H', W') float32
    """
    x, weight = _tensor(x, "x", "NCHW"), _tensor(weight, "weight", "OCHW")
    stride, padding = int_tuple(stride, "stride", 2, 1), int_tuple(padding, "padding", 2, 0)
    dilation = int_tuple(dilation, "dilation", 2, 1)
    out = conv3d(x[:, :, None], weight[:, :, None], bias, (1, *stride), (0, *padding), (1, *dilation), groups,
                 winograd, relu=relu)
    return out[:, :, 0]


@kernel(fastmath=True)
def _pool3d(x, ks, stride, pad, mode, out, p0, p1):
    """Max (mode 0) or average (mode 1, padding counted, as torch's default) pooling of the planes
    ``p0 <= p < p1`` of the N x C (batch, channel) planes. Separably: for each output row, the
    window's input rows are first reduced column by column (a loop along the row that the compiler
    vectorises), then each output takes its window of that reduced row; windows are cut to the
    input's extent before the loops, so they test no bounds."""
    c = x.shape[1]
    t, h, w = x.shape[2:]
    to, ho, wo = out.shape[2:]
    columns = np.empty(w)
    start = -np.inf if mode == 0 else 0.0
    for p in range(p0, p1):
        src, dst = x[p // c, p % c], out[p // c, p % c]
        for i in range(to):
            t0 = i * stride[0] - pad[0]
            t1 = min(t, t0 + ks[0])
            t0 = max(t0, 0)
            for j in range(ho):
                h0 = j * stride[1] - pad[1]
                h1 = min(h, h0 + ks[1])
                h0 = max(h0, 0)
                columns[:] = start
                for ti in range(t0, t1):
                    for hi in range(h0, h1):
                        row = src[ti, hi]
                        if mode == 0:
                            for q in range(w):
                                columns[q] = max(columns[q], row[q])
                        else:
                            for q in range(w):
                                columns[q] += row[q]
                for k in range(wo):
                    w0 = k * stride[2] - pad[2]
                    w1 = min(w, w0 + ks[2])
                    acc = start
                    for q in range(max(w0, 0), w1):
                        acc = max(acc, columns[q]) if mode == 0 else acc + columns[q]
                    dst[i, j, k] = acc if mode == 0 else acc / (ks[0] * ks[1] * ks[2])


def _pool(x, kernel_size, stride, padding, mode):
    x = _tensor(x, "x", "NCTHW")
    kernel_size = int_tuple(kernel_size, "kernel_size", 3, 1)
    stride = kernel_size if stride is None else int_tuple(stride, "stride", 3, 1)
    padding = int_tuple(padding, "padding", 3, 0)
    if any(2 * p > k for p, k in zip(padding, kernel_size)):
        raise ValueError(f"padding {padding} must be at most half of kernel_size {kernel_size}")
    dims = [output_size(s, k, st, p) for s, k, st, p in zip(x.shape[2:], kernel_size, stride, padding)]
    if min(dims) < 1:
        raise ValueError(f"x {x.shape} is too small for pooling window {kernel_size} with padding {padding}")
    out = np.empty(x.shape[:2] + tuple(dims), np.float32)
    args = (np.ascontiguousarray(x), *(np.array(v, np.int64) for v in (kernel_size, stride, padding)), mode, out)
    split(x.shape[0] * x.shape[1], lambda p0, p1: _pool3d(*args, p0, p1))  # planes shared among threads
    return out


def max_pool3d(x, kernel_size, stride=None, padding=(0, 0, 0)):
    """Max pooling over (T, H, W) windows; padding never wins (treated as -inf).

    Parameters
    ----------
    x : ndarray (N, C, T, H, W) float32
    kernel_size : int or (int, int, int)
    stride : int or (int, int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int, int)

    Returns
    -------
    ndarray (N, C, T', H', W') float32
    """
    return _pool(x, kernel_size, stride, padding, 0)


def max_pool2d(x, kernel_size, stride=None, padding=(0, 0)):
    """Max pooling over (H, W) windows; padding never wins (treated as -inf).

    Parameters
    ----------
    x : ndarray (N, C, H, W) float32
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int)

    Returns
    -------
    ndarray (N, C, H', W') float32
    """
    x, kernel_size = _tensor(x, "x", "NCHW"), int_tuple(kernel_size, "kernel_size", 2, 1)
    stride = None if stride is None else (1, *int_tuple(stride, "stride", 2, 1))
    return max_pool3d(x[:, :, None], (1, *kernel_size), stride, (0, *int_tuple(padding, "padding", 2, 0)))[:, :, 0]


def avg_pool3d(x, kernel_size, stride=None, padding=(0, 0, 0)):
    """Average pooling, zero padding included in the count (torch's ``count_include_pad=True``).

    Parameters
    ----------
    x : ndarray (N, C, T, H, W) float32
    kernel_size : int or (int, int, int)
    stride : int or (int, int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int, int)

    Returns
    -------
    ndarray (N, C, T', H', W') float32
    """
    return _pool(x, kernel_size, stride, padding, 1)


def avg_pool2d(x, kernel_size, stride=None, padding=(0, 0)):
    """Average pooling, zero padding included in the count (torch's ``count_include_pad=True``).

    Parameters
    ----------
    x : ndarray (N, C, H, W) float32
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        ``kernel_size`` when None.
    padding : int or (int, int)

    Returns
    -------
    ndarray (N, C, H', W') float32
    """
    x, kernel_size = _tensor(x, "x", "NCHW"), int_tuple(kernel_size, "kernel_size", 2, 1)
    stride = None if stride is None else (1, *int_tuple(stride, "stride", 2, 1))
    return avg_pool3d(x[:, :, None], (1, *kernel_size), stride, (0, *int_tuple(padding, "padding", 2, 0)))[:, :, 0]


def _adaptive_bounds(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool3d(x, output_size):
    """torch's adaptive average pooling: cell ``i`` of ``out`` averages input indices
    ``floor(i * in / out)`` to ``ceil((i + 1) * in / out)``.

    Parameters
    ----------
    x : ndarray (N, C, T, H, W) float32
    output_size : int or (int, int, int)

    Returns
    -------
    ndarray (N, C, *output_size) float32
    """
    x, output_size = _tensor(x, "x", "NCTHW"), int_tuple(output_size, "output_size", 3, 1)
    if output_size == (1, 1, 1):
        return x.mean(axis=(2, 3, 4), keepdims=True, dtype=np.float32)
    out = np.empty(x.shape[:2] + tuple(output_size), np.float32)
    for i, (t0, t1) in enumerate(_adaptive_bounds(x.shape[2], output_size[0])):
        for j, (h0, h1) in enumerate(_adaptive_bounds(x.shape[3], output_size[1])):
            for k, (w0, w1) in enumerate(_adaptive_bounds(x.shape[4], output_size[2])):
                out[:, :, i, j, k] = x[:, :, t0:t1, h0:h1, w0:w1].mean(axis=(2, 3, 4))
    return out


def adaptive_avg_pool2d(x, output_size):
    """torch's adaptive average pooling over (H, W) (:func:`adaptive_avg_pool3d`).

    Parameters
    ----------
    x : ndarray (N, C, H, W) float32
    output_size : int or (int, int)

    Returns
    -------
    ndarray (N, C, *output_size) float32
    """
    x, output_size = _tensor(x, "x", "NCHW"), int_tuple(output_size, "output_size", 2, 1)
    return adaptive_avg_pool3d(x[:, :, None], (1, *output_size))[:, :, 0]


def relu(x):
    """max(x, 0), in place (x a float array).

    Parameters
    ----------
    x : ndarray of float
        Changed in place.

    Returns
    -------
    ndarray
        ``x``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float ndarray (relu works in place), got {type(x).__name__} "
                        f"{getattr(x, 'dtype', '')}")
    return np.maximum(x, 0, out=x)


def add_relu(x, residual):
    """max(x + residual, 0), in place in ``x``: a residual block's last step, one pass over the
    maps where NumPy's add and ``maximum`` take two, each slower (64 maps of 184 x 248: 2.3 ms in
    NumPy, 0.9 ms here). NaN passes, as in torch.

    Parameters
    ----------
    x : ndarray of float32
        C-contiguous; changed in place.
    residual : ndarray
        Of ``x``'s shape.

    Returns
    -------
    ndarray
        ``x``.
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float32 or not x.flags.c_contiguous:
        raise TypeError(f"x must be a C-contiguous float32 ndarray (add_relu works in place), got "
                        f"{type(x).__name__} {getattr(x, 'dtype', '')}")
    residual = to_float32(as_array(residual, "residual"), "residual")
    if residual.shape != x.shape:
        raise ValueError(f"residual must have x's shape {x.shape}, got {residual.shape}")
    flat, other = x.reshape(-1), np.ascontiguousarray(residual).reshape(-1)
    split(flat.size, lambda i0, i1: _add_relu(flat[i0:i1], other[i0:i1]), 1 << 16)
    return x


@kernel(fastmath=True)
def _add_relu(x, residual):
    """x = max(x + residual, 0) on 1-D float32 arrays, the ReLU as a select that vectorises."""
    for i in range(x.size):
        v = x[i] + residual[i]
        x[i] = np.float32(0.0) if v < 0 else v


def linear(x, weight, bias=None, out=None, accumulate: bool = False):
    """``x @ weight.T + bias`` (torch's Linear), over the last axis of ``x``; written to ``out``
    (C-contiguous float32 of the result's shape) when given, or added to it with ``accumulate``
    (a residual summed by BLAS in place).

    Parameters
    ----------
    x : ndarray (..., in) float32
    weight : ndarray (out, in) float32
    bias : ndarray (out,), optional
    out : ndarray (..., out) float32, optional
        Written in place.
    accumulate : bool
        Add to ``out`` instead of overwriting it.

    Returns
    -------
    ndarray (..., out) float32
    """
    x, weight = as_array(x, "x"), _tensor(weight, "weight", "OI")
    if x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(f"x must have shape (..., {weight.shape[1]}) to match weight {weight.shape}, got {x.shape}")
    if x.dtype != np.float32:
        raise DTypeError(f"x must be float32, got {x.dtype}")
    if bias is not None:
        bias = as_array(bias, "bias")
        if bias.shape != (weight.shape[0],):
            raise ValueError(f"bias must have shape ({weight.shape[0]},) to match weight {weight.shape}, "
                             f"got {bias.shape}")
        bias = to_float32(bias, "bias")
    shape = x.shape[:-1] + (weight.shape[0],)
    if out is None:
        if accumulate:
            raise ValueError("accumulate needs out, the array to add to")
        out = np.empty(shape, np.float32)
    elif not isinstance(out, np.ndarray) or out.shape != shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {shape}, got "
                         f"{getattr(out, 'dtype', type(out).__name__)} {np.shape(out)}")
    rows = x.reshape(-1, x.shape[-1])
    matmul(rows, weight.T, out.reshape(rows.shape[0], weight.shape[0]), accumulate=accumulate)
    tally(out.size * weight.shape[1])
    if bias is not None:
        out += bias
    return out


def softmax(x, axis: int = -1):
    """Numerically stable softmax along ``axis`` (of finite scores).

    Parameters
    ----------
    x : ndarray of float
    axis : int

    Returns
    -------
    ndarray, the shape of ``x``
    """
    x = as_array(x, "x")
    if x.ndim < 1 or x.dtype.kind != "f":
        raise ValueError(f"x must be a float array with at least one axis, got shape {x.shape} and dtype {x.dtype}")
    axis = check_int(axis, "axis", low=-x.ndim, high=x.ndim - 1)
    if x.size == 0:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    check_finite(x, "x")
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@warmup_hook
def _warmup():
    x = np.zeros((1, 2, 3, 4, 4), np.float32)
    conv3d(x, np.zeros((2, 2, 3, 3, 3), np.float32), padding=(1, 1, 1))  # im2col
    conv3d(np.zeros((1, MIN_CHANNELS, 2, 4, 4), np.float32), np.zeros((2, MIN_CHANNELS, 1, 3, 3), np.float32),
           padding=(0, 1, 1))  # Winograd
    max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))
    avg_pool3d(x, (1, 2, 2))
