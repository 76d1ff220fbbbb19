"""RAFT optical flow (Teed & Deng 2020) in NumPy + Numba, equal to torchvision's ``raft_small`` and
``raft_large`` for the same weights.

The network, as torchvision builds it:

1. **Feature encoder** (both images as one batch of two, 1/8 resolution): a 7x7 stride-2 stem, three
   stages of two residual blocks (``raft_large``; bottleneck blocks for ``raft_small``) with
   instance normalisation, a 1x1 output convolution.
2. **Context encoder** (the first image only): the same layout, batch norm (large) or no
   normalisation (small); its output splits into the GRU's initial hidden state (tanh) and the
   context features (ReLU).
3. **All-pairs correlation**: ``C[p, q] = f1(p) . f2(q) / sqrt(channels)`` for every pair of
   pixels, average-pooled over ``q`` three times: a 4-level pyramid.
4. **Iterations** (12 by default): look up the pyramid around where each pixel is believed to go
   (:func:`lookup_correlation`: bilinear, a (2r+1)^2 window per level), encode that with the
   current flow (motion encoder), update the ConvGRU's hidden state, predict a flow step.
5. **Upsampling** to full resolution: a learned convex combination of each cell's 3x3 neighbours
   (``raft_large``, weights from the mask head) or bilinear x8 (``raft_small``).

Parameters and state-dict keys are torchvision's, so its published checkpoints load with
:func:`~scratchvision.nn.load_checkpoint`: ``raft_large_C_T_SKHT_V2-ff5fadd5.pth`` (and the other
``raft_large_*`` files) into :func:`raft_large`, ``raft_small_C_T_V2-01064c6d.pth`` into
:func:`raft_small`. Inputs are torchvision's: two (N, 3, H, W) float32 batches in [-1, 1]
(``2 * rgb / 255 - 1``), H and W multiples of 8 and at least 128; :func:`calc_optical_flow_raft`
takes two RGB frames of any size (padded to multiples of 8) and returns the flow in this library's
(H, W, 2) convention.

References
----------
Z. Teed, J. Deng. "RAFT: Recurrent All-Pairs Field Transforms for Optical Flow." ECCV 2020.
doi:10.1007/978-3-030-58536-5_24

Examples
--------
>>> import numpy as np
>>> from scratchvision.nn import raft_small
>>> model = raft_small()  # untrained weights: zeros
>>> a = np.zeros((1, 3, 128, 128), np.float32)
>>> [f.shape for f in model(a, a, num_flow_updates=2)]
[(1, 2, 128, 128), (1, 2, 128, 128)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_choice, check_image, check_int
from ..imgproc.vecmath import vector_exp32, vector_tanh32
from . import functional as F
from ._blas import matmul
from ._split import over_batch, shared_products, split
from ._tally import tally
from .modules import BatchNorm2d, Conv2d, Module, ReLU, Sequential

__all__ = ["RAFT", "RAFTTrace", "raft_small", "raft_large", "load_raft", "calc_optical_flow_raft", "InstanceNorm2d",
           "lookup_correlation",
           "correlation_pyramid", "pooled_features", "lookup_correlation_on_demand"]


class InstanceNorm2d(Module):
    """torch.nn.InstanceNorm2d without affine parameters or running statistics (RAFT's feature
    encoder): each sample's channel is shifted and scaled to zero mean and unit (biased)
    variance over its pixels, ``(x - mean) / sqrt(var + eps)``; no state-dict keys.

    Parameters
    ----------
    num_features : int
        Channels (kept for torch's signature).
    eps : float
    """

    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        self.num_features = check_int(num_features, "num_features", low=1)
        self.eps = float(eps)

    fuses_relu = True  # forward(x, relu=True): a following ReLU applied in the same pass (Sequential)

    def forward(self, x, relu: bool = False):
        out = np.empty_like(x)
        planes = np.ascontiguousarray(x).reshape(-1, x.shape[2] * x.shape[3])
        normed = out.reshape(planes.shape)
        split(len(planes), lambda i0, i1: _instance_norm(planes[i0:i1], self.eps, relu, normed[i0:i1]))
        return out


@kernel(fastmath=True)
def _instance_norm(planes, eps, relu, out):
    """Each row of ``planes`` (N C, H W) shifted and scaled to zero mean and unit biased
    variance (sums in float64, in the order the compiler vectorises them: the mean first, then
    the squared deviations from it), then max(0, .) with ``relu``."""
    n = planes.shape[1]
    floor = np.float32(0.0 if relu else -np.inf)  # the ReLU as a select that vectorises (NaN passes, as in torch)
    for i in range(planes.shape[0]):
        row, dst = planes[i], out[i]
        total = 0.0
        for k in range(n):
            total += row[k]
        mean = np.float32(total / n)
        squares = 0.0
        for k in range(n):
            d = np.float64(row[k] - mean)
            squares += d * d
        scale = np.float32(1.0 / np.sqrt(squares / n + eps))
        for k in range(n):
            v = (row[k] - mean) * scale
            dst[k] = floor if v < floor else v


def _conv_norm_relu(cin, cout, kernel_size, stride=1, norm=None, relu=True):
    """torchvision's ``Conv2dNormActivation``: conv (bias on), optional norm, optional ReLU, as a
    Sequential numbered like torch's (``0`` the conv, ``1`` the norm)."""
    layers = [Conv2d(cin, cout, kernel_size, stride, (kernel_size - 1) // 2)]
    if norm is not None:
        layers.append(norm(cout))
    if relu:
        layers.append(ReLU())
    return Sequential(*layers)


class ResidualBlock(Module):
    """Two 3x3 conv-norm-ReLU, the input added back (through a strided 1x1 conv-norm when the
    block downsamples), then ReLU."""

    def __init__(self, cin, cout, norm, stride=1):
        super().__init__()
        self.convnormrelu1 = _conv_norm_relu(cin, cout, 3, stride, norm)
        self.convnormrelu2 = _conv_norm_relu(cout, cout, 3, 1, norm)
        if stride != 1:
            self.downsample = _conv_norm_relu(cin, cout, 1, stride, norm, relu=False)

    def forward(self, x):
        y = self.convnormrelu2(self.convnormrelu1(x))
        return F.add_relu(y, self.downsample(x) if "downsample" in self._modules else x)


class BottleneckBlock(Module):
    """1x1 to a quarter of the channels, 3x3 (strided), 1x1 back, each conv-norm-ReLU; the input
    added back as in :class:`ResidualBlock`."""

    def __init__(self, cin, cout, norm, stride=1):
        super().__init__()
        self.convnormrelu1 = _conv_norm_relu(cin, cout // 4, 1, 1, norm)
        self.convnormrelu2 = _conv_norm_relu(cout // 4, cout // 4, 3, stride, norm)
        self.convnormrelu3 = _conv_norm_relu(cout // 4, cout, 1, 1, norm)
        if stride != 1:
            self.downsample = _conv_norm_relu(cin, cout, 1, stride, norm, relu=False)

    def forward(self, x):
        y = self.convnormrelu3(self.convnormrelu2(self.convnormrelu1(x)))
        return F.add_relu(y, self.downsample(x) if "downsample" in self._modules else x)


class FeatureEncoder(Module):
    """Stem (7x7, stride 2), three stages of two blocks (strides 1, 2, 2), 1x1 output conv: 1/8
    resolution, ``layers[4]`` channels."""

    def __init__(self, block, layers, norm):
        super().__init__()
        self.convnormrelu = _conv_norm_relu(3, layers[0], 7, 2, norm)
        for i, stride in zip((1, 2, 3), (1, 2, 2)):
            setattr(self, f"layer{i}", Sequential(block(layers[i - 1], layers[i], norm, stride),
                                                  block(layers[i], layers[i], norm, 1)))
        self.conv = Conv2d(layers[3], layers[4], 1)

    def forward(self, x):
        return self.conv(self.layer3(self.layer2(self.layer1(self.convnormrelu(x)))))


class MotionEncoder(Module):
    """Correlation features (1x1, then a 3x3 in ``raft_large``) and the flow (7x7, 3x3) encoded,
    merged by a 3x3 conv, and the raw flow appended: ``out_channels`` channels."""

    def __init__(self, corr_channels, corr_layers, flow_layers, out_channels):
        super().__init__()
        self.convcorr1 = _conv_norm_relu(corr_channels, corr_layers[0], 1)
        if len(corr_layers) == 2:
            self.convcorr2 = _conv_norm_relu(corr_layers[0], corr_layers[1], 3)
        self.convflow1 = _conv_norm_relu(2, flow_layers[0], 7)
        self.convflow2 = _conv_norm_relu(flow_layers[0], flow_layers[1], 3)
        self.conv = _conv_norm_relu(corr_layers[-1] + flow_layers[-1], out_channels - 2, 3)

    def forward(self, flow, corr):
        corr = self.convcorr1(corr)
        if "convcorr2" in self._modules:
            corr = self.convcorr2(corr)
        motion = self.conv(np.concatenate([corr, self.convflow2(self.convflow1(flow))], axis=1))
        return np.concatenate([motion, flow], axis=1)


@kernel(fastmath=True)
def _sigmoid(x):
    """1 / (1 + e^-x) in place on a 1-D float32 array, from e = exp(-|x|) (an argument <= 0, as
    :func:`~scratchvision.imgproc.vecmath.vector_exp32` takes, so the loop vectorises): 1 / (1 +
    e) where x >= 0, e / (1 + e) below."""
    one = np.float32(1.0)
    for i in range(x.size):
        v = x[i]
        e = vector_exp32(-abs(v))
        s = one / (one + e)
        x[i] = s if v >= 0 else e * s


@kernel(fastmath=True)
def _gru_state(h, z, q, out):
    """The GRU's new state ``h + z (tanh(q) - h)`` on 1-D float32 arrays, ``q`` before its tanh."""
    for i in range(h.size):
        out[i] = h[i] + z[i] * (vector_tanh32(q[i]) - h[i])


def _flat_pieces(run, *arrays):
    """``run`` on the flattened (C-contiguous) ``arrays``, their elements shared among threads."""
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    split(flat[0].size, lambda i0, i1: run(*(a[i0:i1] for a in flat)), 1 << 14)


class ConvGRU(Module):
    """Convolutional GRU: ``z = sigmoid(conv_z[h, x])``, ``r = sigmoid(conv_r[h, x])``,
    ``q = tanh(conv_q[r h, x])``, ``h' = (1 - z) h + z q``.

    ``conv_z`` and ``conv_r`` read the same input: they run as one convolution with both weights
    stacked (twice the output channels), which transforms and reads the input once and gives BLAS
    products twice as large (raft_small's 242 -> 96 channel pair on 46 x 62: 12.3 ms as two, 9.4
    ms as one on two threads)."""

    def __init__(self, input_size, hidden_size, kernel_size, padding):
        super().__init__()
        for name in ("convz", "convr", "convq"):
            setattr(self, name, Conv2d(hidden_size + input_size, hidden_size, kernel_size, 1, padding))
        self._gates = None  # conv_z's and conv_r's weights stacked, laid out for the convolution

    def prepare(self) -> None:
        super().prepare()
        self._gates = None

    def forward(self, h, x):
        hx = np.concatenate([h, x], axis=1)
        if self._gates is None:
            z, r = self.convz, self.convr
            self._gates = z._layouts(np.concatenate([z.weight, r.weight]), np.concatenate([z.bias, r.bias]))
        weight, bias, winograd = self._gates
        gates = F.conv2d(hx, weight, bias, 1, self.convz.padding, winograd=winograd)
        _flat_pieces(_sigmoid, gates)
        z, r = gates[:, :h.shape[1]], gates[:, h.shape[1]:]
        q = self.convq(np.concatenate([r * h, x], axis=1))
        out = np.empty_like(h)
        _flat_pieces(_gru_state, h, z, q, out)
        return out


class RecurrentBlock(Module):
    """One ConvGRU (3x3, ``raft_small``) or two (1x5 then 5x1, ``raft_large``) on the same input."""

    def __init__(self, input_size, hidden_size, kernel_sizes, paddings):
        super().__init__()
        self.hidden_size = hidden_size
        for i, (k, p) in enumerate(zip(kernel_sizes, paddings), 1):
            setattr(self, f"convgru{i}", ConvGRU(input_size, hidden_size, k, p))

    def forward(self, h, x):
        for gru in self._modules.values():
            h = gru(h, x)
        return h


class FlowHead(Module):
    """3x3 conv, ReLU, 3x3 conv to the two channels of the flow step."""

    def __init__(self, in_channels, hidden_size):
        super().__init__()
        self.conv1 = Conv2d(in_channels, hidden_size, 3, 1, 1)
        self.conv2 = Conv2d(hidden_size, 2, 3, 1, 1)

    def forward(self, x):
        return self.conv2(F.relu(self.conv1(x)))


class UpdateBlock(Module):
    """Motion encoder, recurrent block and flow head: ``(hidden state, flow step)``."""

    def __init__(self, motion_encoder, recurrent_block, flow_head):
        super().__init__()
        self.motion_encoder = motion_encoder
        self.recurrent_block = recurrent_block
        self.flow_head = flow_head

    def forward(self, hidden, context, corr, flow):
        x = np.concatenate([context, self.motion_encoder(flow, corr)], axis=1)
        hidden = self.recurrent_block(hidden, x)
        return hidden, self.flow_head(hidden)


class MaskPredictor(Module):
    """3x3 conv-ReLU, 1x1 conv to the 9 x 8 x 8 convex-combination weights, times 0.25."""

    def __init__(self, in_channels, hidden_size=256, multiplier=0.25):
        super().__init__()
        self.convrelu = _conv_norm_relu(in_channels, hidden_size, 3)
        self.conv = Conv2d(hidden_size, 8 * 8 * 9, 1)
        self.multiplier = multiplier

    def forward(self, x):
        return np.float32(self.multiplier) * self.conv(self.convrelu(x))


def correlation_pyramid(fmap1, fmap2, num_levels: int = 4) -> list:
    """The all-pairs correlation of two feature maps and its average-pooled levels.

    Parameters
    ----------
    fmap1, fmap2 : ndarray, (C, h, w) float32
        The two images' features (RAFT's feature encoder output).
    num_levels : int
        Levels of the pyramid (RAFT: 4).

    Returns
    -------
    list of ndarray
        ``num_levels`` arrays (h w, h_l, w_l) float32: level 0 is ``f1(p) . f2(q) / sqrt(C)``
        with pixel ``p`` first and ``q`` on the last two axes; each next level averages 2x2
        blocks over ``q`` (an odd last row or column dropped, as torch's avg_pool2d).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.ones((4, 6, 8), np.float32)
    >>> [v.shape for v in correlation_pyramid(f, f, 3)], float(correlation_pyramid(f, f, 1)[0][0, 0, 0])
    ([(48, 6, 8), (48, 3, 4), (48, 1, 2)], 2.0)
    """
    fmap1, fmap2 = _feature_map(fmap1, "fmap1"), _feature_map(fmap2, "fmap2")
    if fmap1.shape != fmap2.shape:
        raise ValueError(f"fmap1 and fmap2 must have one shape, got {fmap1.shape} and {fmap2.shape}")
    num_levels = check_int(num_levels, "num_levels", low=1)
    c, h, w = fmap1.shape
    volume = np.empty((h * w, h, w), np.float32)
    matmul(np.ascontiguousarray(fmap1.reshape(c, h * w)).T, np.ascontiguousarray(fmap2.reshape(c, h * w)),
           volume.reshape(h * w, h * w))
    volume /= np.float32(np.sqrt(np.float32(c)))
    tally(volume.size * c)
    levels = [volume]
    for _ in range(num_levels - 1):
        levels.append(_average_2x2(levels[-1]))
    return levels


def _average_2x2(maps):
    """``maps`` (N, h, w) averaged over 2x2 blocks, an odd last row or column dropped (torch's
    avg_pool2d with kernel and stride 2): (N, h // 2, w // 2)."""
    n, hh, ww = maps.shape[0], maps.shape[1] // 2, maps.shape[2] // 2
    v = maps[:, :2 * hh, :2 * ww].reshape(n, hh, 2, ww, 2)
    return ((v[:, :, 0, :, 0] + v[:, :, 0, :, 1]) + (v[:, :, 1, :, 0] + v[:, :, 1, :, 1])) * np.float32(0.25)


def _feature_map(x, name):
    a = as_array(x, name)
    if a.ndim != 3 or a.dtype != np.float32 or 0 in a.shape:
        raise ValueError(f"{name} must be a float32 feature map (C, h, w), got {a.dtype} {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return a


def lookup_correlation(pyramid, coords, radius: int) -> np.ndarray:
    """RAFT's correlation features: each pixel's correlation maps sampled around where the pixel
    is believed to go.

    Parameters
    ----------
    pyramid : list of ndarray
        :func:`correlation_pyramid`'s levels.
    coords : ndarray, (2, h, w) float
        Where each pixel is believed to go, (x, y) in 1/8-resolution pixels.
    radius : int
        The window is (2 radius + 1)^2 samples, one pixel apart (RAFT: 4 large, 3 small).

    Returns
    -------
    ndarray, (levels (2r+1)^2, h, w) float32
        For level ``l`` and offsets ``(dx, dy)``, pixel ``p``'s level-``l`` map sampled
        bilinearly at ``coords_p / 2^l + (dx, dy)``; channels level-major, then ``dx``, then
        ``dy`` (torchvision's x-major order); samples outside a map count zero, tap by tap, as
        grid_sample with align_corners=True and zero padding (whose float32 round trip through
        [-1, 1] is reproduced).

    Examples
    --------
    >>> import numpy as np
    >>> f = np.ones((4, 6, 8), np.float32)
    >>> grid = np.stack(np.meshgrid(np.arange(8, dtype=np.float32), np.arange(6, dtype=np.float32)))
    >>> lookup_correlation(correlation_pyramid(f, f, 2), grid, 1).shape
    (18, 6, 8)
    """
    c = as_array(coords, "coords")
    if c.ndim != 3 or c.shape[0] != 2 or c.dtype.kind != "f" or not np.isfinite(c).all():
        raise ValueError(f"coords must be finite float (2, h, w) positions, got {c.dtype} {c.shape}")
    h, w = c.shape[1:]
    if not isinstance(pyramid, (list, tuple)) or not all(
            isinstance(v, np.ndarray) and v.dtype == np.float32 and v.ndim == 3 and v.shape[0] == pyramid[0].shape[0]
            for v in pyramid):
        raise ValueError("pyramid must be a list of float32 (h w, h_l, w_l) levels, as correlation_pyramid returns")
    if pyramid and pyramid[0].shape[0] != h * w:
        raise ValueError(f"coords must hold a position for each of the pyramid's {pyramid[0].shape[0]} pixels, "
                         f"got shape {c.shape}")
    radius = check_int(radius, "radius", low=0)
    coords = c.astype(np.float32)
    n = 2 * radius + 1
    out = np.empty((len(pyramid) * n * n, h, w), np.float32)
    flat = np.ascontiguousarray(coords.reshape(2, h * w))
    for level, volume in enumerate(pyramid):
        taps = out[level * n * n:(level + 1) * n * n].reshape(n * n, h * w)
        split(h * w, lambda p0, p1: _lookup_level(volume, flat, np.float32(0.5**level), radius, taps, p0, p1), 256)
    return out


@kernel
def _lookup_level(volume, coords, scale, radius, out, p0, p1):
    """One level of :func:`lookup_correlation`: ``out[a n + b, p]`` = ``volume[p]`` sampled at
    ``(x_p scale + a - r, y_p scale + b - r)``, with torch's align_corners=True grid_sample
    arithmetic (normalised to [-1, 1] and back, in float32) and zero padding per tap, for the
    pixels ``p0 <= p < p1``."""
    hl, wl = volume.shape[1:]
    n = 2 * radius + 1
    one, two = np.float32(1.0), np.float32(2.0)
    sx, sy = np.float32(wl - 1), np.float32(hl - 1)
    half_x, half_y = sx / two, sy / two
    iys = np.empty(n, np.int64)  # each y offset's row and fraction, for the current pixel
    fys = np.empty(n, np.float32)
    for p in range(p0, p1):
        cx, cy = coords[0, p] * scale, coords[1, p] * scale
        corr = volume[p]
        for b in range(n):
            y = cy + np.float32(b - radius)
            if hl > 1:  # torch's round trip through [-1, 1] (a map one pixel high has none)
                y = (two * y / sy - one + one) * half_y
            y0 = np.floor(y)
            fys[b] = y - y0
            iys[b] = np.int64(y0)
        for a in range(n):
            x = cx + np.float32(a - radius)
            if wl > 1:
                x = (two * x / sx - one + one) * half_x
            x0 = np.floor(x)
            fx = x - x0
            ix = np.int64(x0)
            for b in range(n):
                fy, iy = fys[b], iys[b]
                value = np.float32(0.0)
                if 0 <= iy < hl:
                    if 0 <= ix < wl:
                        value += corr[iy, ix] * ((one - fx) * (one - fy))
                    if 0 <= ix + 1 < wl:
                        value += corr[iy, ix + 1] * (fx * (one - fy))
                if 0 <= iy + 1 < hl:
                    if 0 <= ix < wl:
                        value += corr[iy + 1, ix] * ((one - fx) * fy)
                    if 0 <= ix + 1 < wl:
                        value += corr[iy + 1, ix + 1] * (fx * fy)
                out[a * n + b, p] = value


def pooled_features(fmap2, num_levels: int = 4) -> list:
    """The second feature map's pyramid, for :func:`lookup_correlation_on_demand`.

    By linearity, level ``l`` of :func:`correlation_pyramid` is ``f1(p) . pooled[l](q) /
    sqrt(C)``, which the on-demand lookup computes only where it samples.

    Parameters
    ----------
    fmap2 : ndarray, (C, h, w) float32
    num_levels : int

    Returns
    -------
    list of ndarray
        ``num_levels`` arrays (h_l, w_l, C) float32, pixel-major: ``fmap2`` and its 2x2
        averages (an odd last row or column dropped).

    Examples
    --------
    >>> import numpy as np
    >>> [v.shape for v in pooled_features(np.ones((4, 6, 8), np.float32), 3)]
    [(6, 8, 4), (3, 4, 4), (1, 2, 4)]
    """
    levels = [_feature_map(fmap2, "fmap2")]
    for _ in range(check_int(num_levels, "num_levels", low=1) - 1):
        levels.append(_average_2x2(levels[-1]))
    return [np.ascontiguousarray(v.transpose(1, 2, 0)) for v in levels]


def lookup_correlation_on_demand(fmap1, pooled, coords, radius: int) -> np.ndarray:
    """:func:`lookup_correlation` without the correlation volume.

    Each level's correlation is computed only at the (2r+2)^2 integer positions around each
    pixel's sampling window: memory O(levels r^2 h w) instead of O((h w)^2), equal to the
    volume lookup to float rounding (the window's bilinear weights come from one fractional
    position per pixel and level).

    Parameters
    ----------
    fmap1 : ndarray, (C, h, w) float32
        The first image's features.
    pooled : list of ndarray
        :func:`pooled_features` of the second image's features.
    coords : ndarray, (2, h, w) float
        Where each pixel is believed to go, (x, y) in 1/8-resolution pixels.
    radius : int

    Returns
    -------
    ndarray, (levels (2r+1)^2, h, w) float32
        As :func:`lookup_correlation`.

    Examples
    --------
    >>> import numpy as np
    >>> f = np.ones((4, 6, 8), np.float32)
    >>> grid = np.stack(np.meshgrid(np.arange(8, dtype=np.float32), np.arange(6, dtype=np.float32)))
    >>> a = lookup_correlation_on_demand(f, pooled_features(f, 2), grid, 1)
    >>> bool(np.allclose(a, lookup_correlation(correlation_pyramid(f, f, 2), grid, 1), atol=1e-6))
    True
    """
    f1 = _feature_map(fmap1, "fmap1")
    c, h, w = f1.shape
    cc = as_array(coords, "coords")
    if cc.shape != (2, h, w) or cc.dtype.kind != "f" or not np.isfinite(cc).all():
        raise ValueError(f"coords must be finite float (2, {h}, {w}) positions, got {cc.dtype} {cc.shape}")
    if not isinstance(pooled, (list, tuple)) or not all(
            isinstance(v, np.ndarray) and v.dtype == np.float32 and v.ndim == 3 and v.shape[2] == c for v in pooled):
        raise ValueError(f"pooled must be a list of float32 (h_l, w_l, {c}) levels, as pooled_features returns")
    radius = check_int(radius, "radius", low=0)
    n = 2 * radius + 1
    out = np.empty((len(pooled) * n * n, h * w), np.float32)
    pixels = np.ascontiguousarray(f1.reshape(c, h * w).T)
    flat = np.ascontiguousarray(cc.reshape(2, h * w), np.float32)
    scale = np.float32(1.0 / np.sqrt(np.float32(c)))
    for level, f2 in enumerate(pooled):
        taps = out[level * n * n:(level + 1) * n * n]
        split(h * w, lambda p0, p1: _lookup_level_on_demand(pixels, f2, flat, np.float32(0.5**level), radius, scale,
                                                            taps, p0, p1), 64)
    tally(len(pooled) * (n + 1) ** 2 * h * w * c)  # the dot products with each window's integer positions
    return out.reshape(len(pooled) * n * n, h, w)


@kernel(fastmath=True)
def _lookup_level_on_demand(f1, f2, coords, scale, radius, norm, out, p0, p1):
    """One level of :func:`lookup_correlation_on_demand` for the pixels ``p0 <= p < p1``: per
    pixel, the dot products with the (2r+2)^2 pooled features around the window (zero outside
    the map), then the bilinear blends of the window's (2r+1)^2 samples from them."""
    c = f1.shape[1]
    hl, wl = f2.shape[0], f2.shape[1]
    n = 2 * radius + 1
    one = np.float32(1.0)
    dots = np.empty((n + 1, n + 1), np.float32)
    for p in range(p0, p1):
        x, y = coords[0, p] * scale, coords[1, p] * scale
        x0, y0 = np.floor(x), np.floor(y)
        fx, fy = x - x0, y - y0
        left, top = np.int64(x0) - radius, np.int64(y0) - radius
        dots[:, :] = 0.0
        for u in range(n + 1):
            iy = top + u
            if iy < 0 or iy >= hl:
                continue
            for v in range(n + 1):
                ix = left + v
                if ix < 0 or ix >= wl:
                    continue
                total = np.float32(0.0)
                for k in range(c):
                    total += f1[p, k] * f2[iy, ix, k]
                dots[u, v] = total * norm
        for a in range(n):
            for b in range(n):
                out[a * n + b, p] = (dots[b, a] * ((one - fx) * (one - fy)) + dots[b, a + 1] * (fx * (one - fy))
                                     + dots[b + 1, a] * ((one - fx) * fy) + dots[b + 1, a + 1] * (fx * fy))


def _upsample_bilinear(flow, factor=8):
    """``factor`` x the flow (N, 2, h, w) resized to (factor h, factor w) bilinearly with
    align_corners=True (torch's interpolate)."""
    n, c, h, w = flow.shape

    def taps(size, new):
        pos = np.arange(new, dtype=np.float32) * np.float32((size - 1) / (new - 1) if new > 1 else 0.0)
        i0 = np.minimum(np.floor(pos).astype(np.int64), size - 1)
        return i0, np.minimum(i0 + 1, size - 1), (pos - i0).astype(np.float32)

    y0, y1, fy = taps(h, factor * h)
    x0, x1, fx = taps(w, factor * w)
    rows = flow[:, :, y0] * (1 - fy)[:, None] + flow[:, :, y1] * fy[:, None]
    return np.float32(factor) * (rows[..., x0] * (1 - fx) + rows[..., x1] * fx)


def _upsample_convex(flow, mask, factor=8):
    """Convex upsampling: output pixel (8i + a, 8j + b) is the softmax(mask)-weighted sum of
    ``8 flow`` over the 3x3 cells around (i, j) (zero outside), mask channel ``k 64 + a 8 + b``."""
    n, c, h, w = flow.shape
    padded = np.pad(np.float32(factor) * flow, ((0, 0), (0, 0), (1, 1), (1, 1)))
    logits = np.ascontiguousarray(mask, np.float32).reshape(n, 9, factor * factor, h, w)
    up = np.empty((n, c, factor * h, factor * w), np.float32)
    for i in range(n):
        split(h, lambda r0, r1: _convex_rows(padded[i], logits[i], factor, up[i], r0, r1))
    return up


@kernel(fastmath=True)
def _convex_rows(padded, logits, factor, out, r0, r1):
    """Rows ``r0 <= i < r1`` of the low-resolution grid of :func:`_upsample_convex`: for each
    sub-pixel (a, b) of the cells of row i, the softmax over the nine neighbours of the logits
    (the largest subtracted, so the exponent's argument is <= 0, as vector_exp32 takes), then the
    weighted sum of the neighbours' flow; loops along the row vectorise."""
    c, w = padded.shape[0], padded.shape[2] - 2
    weights = np.empty((9, w), np.float32)
    total = np.empty(w, np.float32)
    for i in range(r0, r1):
        for a in range(factor):
            for b in range(factor):
                rows = logits[:, a * factor + b, i]  # (9, w)
                total[:] = rows[0]
                for k in range(1, 9):  # the largest logit per pixel
                    for j in range(w):
                        total[j] = max(total[j], rows[k, j])
                for k in range(9):
                    for j in range(w):
                        weights[k, j] = vector_exp32(rows[k, j] - total[j])
                total[:] = weights[0]
                for k in range(1, 9):
                    for j in range(w):
                        total[j] += weights[k, j]
                for ch in range(c):
                    dst = out[ch, factor * i + a]
                    for j in range(w):
                        value = np.float32(0.0)
                        for k in range(9):
                            value += weights[k, j] * padded[ch, i + k // 3, j + k % 3]
                        dst[factor * j + b] = value / total[j]


class RAFT(Module):
    """The RAFT network (see the module notes); build it with :func:`raft_small` or
    :func:`raft_large`.

    Calling ``model(image1, image2, num_flow_updates=12)`` returns the list of the upsampled flows
    after each update, (N, 2, H, W) float32 each, channel 0 the x motion, as torchvision's RAFT;
    the last is the answer. After a call, :attr:`last_step` holds the internals of the last
    sample: ``fmap1``, ``fmap2``, ``context``, ``hidden`` (final), ``flows_low`` (the 1/8
    resolution flow after each update), ``corr_channels``, ``corr_mode``.

    ``corr_mode``: ``"volume"`` builds the all-pairs pyramid (torchvision's way: (H/8 W/8)^2
    float32 entries, 32 MB at 368x496, 4.3 GB at 1080x1920), ``"on_demand"`` computes each
    level's correlation only where it is sampled (:func:`lookup_correlation_on_demand`; slower
    per update, memory linear in the pixels), ``"auto"`` (default) the volume while its pyramid
    fits in :attr:`corr_memory_limit` bytes (1 GiB), else on demand.

    Parameters
    ----------
    feature_encoder, context_encoder, update_block, mask_predictor : Module
        The parts (:func:`raft_small` and :func:`raft_large` build them); ``mask_predictor`` None
        for bilinear upsampling.
    radius : int
        Correlation lookup radius.
    num_levels : int
        Correlation pyramid levels.
    corr_mode : {"auto", "volume", "on_demand"}
        The all-pairs volume, or each level's correlation computed for the lookup's neighbours
        only; ``"auto"`` picks on-demand above a size (the module notes).
    """

    #: Correlation pyramids larger than this many bytes are not built in ``corr_mode="auto"``.
    corr_memory_limit = 1 << 30

    def __init__(self, feature_encoder, context_encoder, update_block, mask_predictor, radius, num_levels=4,
                 corr_mode="auto"):
        super().__init__()
        self.feature_encoder = feature_encoder
        self.context_encoder = context_encoder
        self.update_block = update_block
        if mask_predictor is not None:
            self.mask_predictor = mask_predictor
        self.radius, self.num_levels = radius, num_levels
        if corr_mode not in ("auto", "volume", "on_demand"):
            raise ValueError(f"corr_mode must be 'auto', 'volume' or 'on_demand', got {corr_mode!r}")
        self.corr_mode = corr_mode
        self.last_step = None

    def _correlation(self, fmap1, fmap2):
        """A lookup ``coords -> features`` for one image pair: from the precomputed pyramid
        (``volume``: (h w)^2 entries and their pooled levels), or computed where sampled
        (``on_demand``); ``auto`` takes the volume while it is under :attr:`corr_memory_limit`
        bytes (about 640x800 images: 1 GiB at (h w) = 14,000 cells)."""
        cells = fmap1.shape[1] * fmap1.shape[2]
        mode = self.corr_mode
        if mode == "auto":
            mode = "volume" if 4 * cells * cells * 4 / 3 <= self.corr_memory_limit else "on_demand"
        if mode == "volume":
            pyramid = correlation_pyramid(fmap1, fmap2, self.num_levels)
            return mode, lambda coords: lookup_correlation(pyramid, coords, self.radius)
        pooled = pooled_features(fmap2, self.num_levels)
        return mode, lambda coords: lookup_correlation_on_demand(fmap1, pooled, coords, self.radius)

    def forward(self, image1, image2, num_flow_updates: int = 12):
        a = _images(image1, "image1")
        b = _images(image2, "image2")
        if a.shape != b.shape:
            raise ValueError(f"image1 and image2 must have one shape, got {a.shape} and {b.shape}")
        n, _, hh, ww = a.shape
        if hh % 8 or ww % 8 or hh < 128 or ww < 128:
            raise ValueError(f"image1 and image2 must be at least 128x128 with sides divisible by 8 (torchvision's "
                             f"limits), got {ww}x{hh}")
        updates = check_int(num_flow_updates, "num_flow_updates", low=1)
        with shared_products():  # small maps: BLAS products side by side, one BLAS thread each
            return self._flows(a, b, updates)

    def _flows(self, a, b, updates):
        n, _, hh, ww = a.shape
        fmaps = over_batch(self.feature_encoder, np.concatenate([a, b]))  # an image per thread
        context_out = self.context_encoder(a)
        hidden_size = self.update_block.recurrent_block.hidden_size
        h, w = hh // 8, ww // 8
        grid = np.stack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))  # (x, y)
        outputs = [np.empty((n, 2, hh, ww), np.float32) for _ in range(updates)]
        for i in range(n):
            mode, lookup = self._correlation(fmaps[i], fmaps[n + i])
            hidden = np.tanh(context_out[i:i + 1, :hidden_size])
            context = np.maximum(context_out[i:i + 1, hidden_size:], 0)
            coords = grid.copy()
            flows_low = []
            for k in range(updates):
                corr = lookup(coords)[None]
                flow = (coords - grid)[None]
                hidden, delta = self.update_block(hidden, context, corr, flow)
                coords = coords + delta[0]
                flow = (coords - grid)[None]
                flows_low.append(flow[0])
                if "mask_predictor" in self._modules:
                    outputs[k][i] = _upsample_convex(flow, self.mask_predictor(hidden))[0]
                else:
                    outputs[k][i] = _upsample_bilinear(flow)[0]
            self.last_step = dict(fmap1=fmaps[i], fmap2=fmaps[n + i], context=context[0], hidden=hidden[0],
                                  flows_low=flows_low, corr_channels=corr.shape[1], corr_mode=mode)
        return outputs


def _images(x, name):
    a = as_array(x, name)
    if a.ndim != 4 or a.shape[1] != 3 or a.dtype != np.float32:
        raise ValueError(f"{name} must be float32 (N, 3, H, W) in [-1, 1], got {a.dtype} {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(a)


def raft_large(corr_mode: str = "auto") -> RAFT:
    """torchvision's ``raft_large`` layout (5.26 M parameters): residual encoders (64, 64, 96, 128,
    256), instance norm / batch norm, radius 4, two separable ConvGRUs (hidden 128), convex
    upsampling. Weights are zeros until :meth:`~scratchvision.nn.Module.load_state_dict`.
    ``corr_mode``: "volume", "on_demand" or "auto" (see :class:`RAFT`).

    Parameters
    ----------
    corr_mode : {"auto", "volume", "on_demand"}
        See :class:`RAFT`.

    Returns
    -------
    RAFT
    """
    layers = (64, 64, 96, 128, 256)
    update = UpdateBlock(MotionEncoder(4 * 81, (256, 192), (128, 64), 128),
                         RecurrentBlock(128 + 128, 128, ((1, 5), (5, 1)), ((0, 2), (2, 0))),
                         FlowHead(128, 256))
    return RAFT(FeatureEncoder(ResidualBlock, layers, InstanceNorm2d),
                FeatureEncoder(ResidualBlock, layers, BatchNorm2d), update, MaskPredictor(128), radius=4,
                corr_mode=corr_mode)


def raft_small(corr_mode: str = "auto") -> RAFT:
    """torchvision's ``raft_small`` layout (0.99 M parameters): bottleneck encoders (32, 32, 64, 96,
    128 with instance norm; context 32, 32, 64, 96, 160 without normalisation), radius 3, one 3x3
    ConvGRU (hidden 96), bilinear upsampling.

    Parameters
    ----------
    corr_mode : {"auto", "volume", "on_demand"}
        See :class:`RAFT`.

    Returns
    -------
    RAFT
    """
    update = UpdateBlock(MotionEncoder(4 * 49, (96,), (64, 32), 82),
                         RecurrentBlock(82 + 64, 96, ((3, 3),), ((1, 1),)),
                         FlowHead(96, 128))
    return RAFT(FeatureEncoder(BottleneckBlock, (32, 32, 64, 96, 128), InstanceNorm2d),
                FeatureEncoder(BottleneckBlock, (32, 32, 64, 96, 160), None), update, None, radius=3,
                corr_mode=corr_mode)


def load_raft(weights, size=None) -> RAFT:
    """A RAFT network with the weights of a torchvision checkpoint (``raft_small_C_T_V2-01064c6d.pth``,
    ``raft_large_C_T_SKHT_V2-ff5fadd5.pth``, ... or a ``.safetensors`` of the same keys).

    Parameters
    ----------
    weights : path
        The checkpoint (read by :func:`~scratchvision.nn.load_checkpoint`).
    size : {"small", "large"}, optional
        The network; by default read from the keys (raft_large has the convex-upsampling head
        ``mask_predictor.*``, raft_small has none).

    Returns
    -------
    RAFT

    Examples
    --------
    >>> import tempfile, os
    >>> from scratchvision import nn
    >>> path = os.path.join(tempfile.mkdtemp(), "raft.safetensors")
    >>> nn.save_safetensors(path, nn.raft_small().state_dict())
    >>> nn.load_raft(path).radius
    3
    """
    from .checkpoint import load_checkpoint

    state = load_checkpoint(weights)
    if size is None:
        size = "large" if any(k.startswith("mask_predictor.") for k in state) else "small"
    size = check_choice(size, "size", ("small", "large"))
    model = raft_large() if size == "large" else raft_small()
    model.load_state_dict(state)
    return model


@dataclass
class RAFTTrace:
    """What :func:`calc_optical_flow_raft` saw on the way (``trace=True``).

    Attributes
    ----------
    flows : list of ndarray
        The full-resolution flow (H, W, 2) after each update: how the estimate refines.
    flows_low : list of ndarray
        The same at the network's 1/8 resolution, (2, H/8, W/8) as the GRU sees it.
    pyramid_shapes : list of tuple
        The correlation levels' shapes (cells, h_l, w_l) (in either correlation mode).
    corr_mode : str
        "volume" or "on_demand".
    padding : tuple
        Rows and columns added (top, bottom, left, right) to reach multiples of 8.
    """

    flows: list = field(default_factory=list)
    flows_low: list = field(default_factory=list)
    pyramid_shapes: list = field(default_factory=list)
    corr_mode: str = ""
    padding: tuple = (0, 0, 0, 0)


def calc_optical_flow_raft(prev, next, model: RAFT, *, num_flow_updates: int = 12,  # noqa: A002
                           trace: bool = False):
    """Dense flow from ``prev`` to ``next`` by a RAFT network, in this library's convention.

    The frames are scaled to [-1, 1] (``2 v / 255 - 1``, torchvision's ``OpticalFlow`` preset),
    padded to multiples of 8 by repeating their edges, split between the two sides (as the
    original RAFT's ``InputPadder`` does), run through ``model``, and the flow is cropped back.

    Parameters
    ----------
    prev, next : ndarray, (H, W, 3)
        RGB frames, uint8 or float in [0, 255]. A gray frame is refused (RAFT's encoders take
        colour; replicate it into three channels to run one anyway). Both at least 128x128
        after padding (the coarsest correlation level needs 2 cells): smaller is refused.
    model : RAFT
        :func:`raft_small` or :func:`raft_large` with weights loaded (torchvision's files:
        ``raft_large_C_T_SKHT_V2-ff5fadd5.pth``, ``raft_small_C_T_V2-01064c6d.pth`` ...).
    num_flow_updates : int
        Recurrent updates (torchvision's default 12).
    trace : bool
        Also return a :class:`RAFTTrace`.

    Returns
    -------
    flow : ndarray, (H, W, 2) float32
        ``(dx, dy)``: ``prev(p)`` matches ``next(p + flow(p))``.
    trace : RAFTTrace, with ``trace=True``

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import calc_optical_flow_raft, raft_small
    >>> frame = np.zeros((130, 150, 3), np.uint8)
    >>> flow, tr = calc_optical_flow_raft(frame, frame, raft_small(), num_flow_updates=2, trace=True)
    >>> flow.shape, len(tr.flows), tr.padding
    ((130, 150, 2), 2, (3, 3, 1, 1))
    """
    if not isinstance(model, RAFT):
        raise TypeError("model must be a RAFT network (nn.raft_small() or nn.raft_large()), "
                        f"got {type(model).__name__}")
    images = []
    for name, f in (("prev", prev), ("next", next)):
        a = as_array(f, name)
        if a.ndim == 2 or (a.ndim == 3 and a.shape[2] == 1):
            raise ValueError(f"{name} is a gray image; RAFT takes RGB (H, W, 3) frames (repeat the gray "
                             "level into three channels to run it on one)")
        images.append(check_image(a, name))
    if images[0].shape != images[1].shape:
        raise ValueError(f"prev and next must have one shape, got {images[0].shape} and {images[1].shape}")
    h, w = images[0].shape[:2]
    ph, pw = -h % 8, -w % 8
    padding = (ph // 2, ph - ph // 2, pw // 2, pw - pw // 2)
    if h + ph < 128 or w + pw < 128:
        raise ValueError(f"prev and next must be at least 128x128 (after padding to multiples of 8), got {w}x{h}: "
                         "RAFT's coarsest correlation level needs 2 cells")
    scaled = [np.pad(a.astype(np.float32) * np.float32(2 / 255) - 1, (padding[:2], padding[2:], (0, 0)), mode="edge")
              .transpose(2, 0, 1)[None].copy() for a in images]
    flows = model(scaled[0], scaled[1], num_flow_updates)
    top, left = padding[0], padding[2]

    def crop(f):
        return f[0, :, top:top + h, left:left + w].transpose(1, 2, 0).copy()

    flow = crop(flows[-1])
    if not trace:
        return flow
    step = model.last_step
    cells = step["fmap1"].shape[1] * step["fmap1"].shape[2]
    shapes, (ch, cw) = [], step["fmap1"].shape[1:]
    for _ in range(model.num_levels):
        shapes.append((cells, ch, cw))
        ch, cw = ch // 2, cw // 2
    return flow, RAFTTrace([crop(f) for f in flows], step["flows_low"], shapes, step["corr_mode"], padding)


@warmup_hook
def _warmup():
    fmap = np.zeros((3, 2, 2), np.float32)
    coords = np.zeros((2, 2, 2), np.float32)
    lookup_correlation(correlation_pyramid(fmap, fmap, 1), coords, 1)
    lookup_correlation_on_demand(fmap, pooled_features(fmap, 1), coords, 1)
