"""Person re-identification networks: appearance embeddings for the trackers.

* **OSNet** (Zhou et al. 2019, omni-scale network; the default ReID model of torchreid and boxmot):
  :func:`osnet_x1_0`, :func:`osnet_x0_5`, :func:`osnet_x0_25` as torchreid builds them. Each
  omni-scale block runs four streams of 1, 2, 3 and 4 "lite" 3x3 convolutions (a 1x1 convolution
  then a depthwise 3x3 one), so its receptive fields are 3, 5, 7 and 9 pixels; a channel gate
  shared by the streams (global average, 1x1 convolution, ReLU, 1x1 convolution, sigmoid) weighs
  each stream's channels before they are summed, so the block chooses its scale per channel.
  The output is the 512-d (x0_25: also 512) vector after the ``fc`` layer (Linear, BatchNorm1d,
  ReLU), torchreid's feature in eval mode.
* **DeepSORT's network** (:func:`deepsort_reid`, Wojke & Bewley 2018): see its docstring.

Input: crops (N, 3, 256, 128) for OSNet, RGB, scaled to [0, 1] and ImageNet-normalised
(:func:`~scratchvision.tracking.crop_patches` makes them); (N, 3, 128, 64) in [0, 1] for the
DeepSORT network.

Checkpoints: torchreid saves ``{"state_dict": ..., "epoch": ..., "rank1": ..., "optimizer": ...}``
and the published ``osnet_x0_25_msmt17.pth``-style files are either that or the bare state dict,
sometimes with a ``module.`` prefix (trained with DataParallel);
:func:`~scratchvision.nn.load_checkpoint` unwraps all three. Their ``classifier`` has the
training set's identity count (4101 for MSMT17, 751 for Market-1501): give it as ``num_classes``,
or load with ``strict=False`` (only the classifier is left out; it is not used for embeddings).

References
----------
Zhou, K., Yang, Y., Cavallaro, A. & Xiang, T. "Omni-Scale Feature Learning for Person
Re-Identification." ICCV 2019. doi:10.1109/ICCV.2019.00380
Wojke, N. & Bewley, A. "Deep Cosine Metric Learning for Person Re-identification." WACV 2018.
doi:10.1109/WACV.2018.00087
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import DTypeError, as_array, check_bool, check_int
from ..imgproc.vecmath import vector_exp32
from .modules import (AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU,
                      Sequential)
from ._split import over_batch
from .functional import add_relu, avg_pool2d, conv2d, linear, max_pool2d, relu

__all__ = ["OSNet", "osnet_x1_0", "osnet_x0_5", "osnet_x0_25", "DeepSortReID", "deepsort_reid", "embed"]


class ConvLayer(Module):
    """Convolution, batch norm, ReLU (torchreid's ``ConvLayer`` / ``Conv1x1``)."""

    fold_pairs = (("conv", "bn"),)

    def __init__(self, in_channels, out_channels, kernel_size=1, stride=1, padding=0, relu=True):
        super().__init__()
        self.conv = Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = BatchNorm2d(out_channels)
        self.relu = relu

    def forward(self, x):
        if self.bn.folded:  # the norm is in the convolution's weights: the ReLU goes there too
            return self.conv(x, relu=self.relu)
        x = self.bn(self.conv(x))
        return np.maximum(x, 0, out=x) if self.relu else x


class LightConv3x3(Module):
    """1x1 convolution, depthwise 3x3 convolution, batch norm, ReLU."""

    fold_pairs = (("conv2", "bn"),)

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.conv1 = Conv2d(in_channels, out_channels, 1, bias=False)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, groups=out_channels, bias=False)
        self.bn = BatchNorm2d(out_channels)

    def forward(self, x):
        if self.bn.folded:  # the norm is in the depthwise convolution's weights: the ReLU goes there too
            return self.conv2(self.conv1(x), relu=True)
        x = self.bn(self.conv2(self.conv1(x)))
        return np.maximum(x, 0, out=x)


class ChannelGate(Module):
    """x * sigmoid(fc2(relu(fc1(mean over space of x)))): a weight in (0, 1) per channel."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        self.fc1 = Conv2d(channels, channels // reduction, 1)
        self.fc2 = Conv2d(channels // reduction, channels, 1)

    def forward(self, x):
        pooled = x.mean(axis=(2, 3))
        hidden = relu(linear(pooled, self.fc1.weight[:, :, 0, 0], self.fc1.bias))  # 1x1 convolutions of 1x1 maps
        logits = linear(hidden, self.fc2.weight[:, :, 0, 0], self.fc2.bias)
        gate = (0.5 + 0.5 * np.tanh(0.5 * logits)).astype(np.float32)  # the sigmoid, without overflow
        return x * gate[:, :, None, None]


class OSBlock(Module):
    """Omni-scale bottleneck: 1x1 down to a quarter of the channels, four streams of 1-4 lite 3x3
    convolutions through one shared gate, summed, 1x1 up, plus the (projected) input, ReLU."""

    def __init__(self, in_channels, out_channels, bottleneck_reduction=4):
        super().__init__()
        mid = out_channels // bottleneck_reduction
        self.conv1 = ConvLayer(in_channels, mid)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = Sequential(*(LightConv3x3(mid, mid) for _ in range(2)))
        self.conv2c = Sequential(*(LightConv3x3(mid, mid) for _ in range(3)))
        self.conv2d = Sequential(*(LightConv3x3(mid, mid) for _ in range(4)))
        self.gate = ChannelGate(mid)
        self.conv3 = ConvLayer(mid, out_channels, relu=False)
        if in_channels != out_channels:
            self.downsample = ConvLayer(in_channels, out_channels, relu=False)

    def forward(self, x):
        x1 = self.conv1(x)
        streams = self.gate(self.conv2a(x1))
        for stream in (self.conv2b, self.conv2c, self.conv2d):
            streams += self.gate(stream(x1))
        out = self.conv3(streams)
        return add_relu(out, self.downsample(x) if "downsample" in self._modules else x)


class _Transition(Sequential):
    """1x1 convolution block then 2x2 average pooling (between OSNet's stages)."""

    def __init__(self, channels):
        super().__init__(ConvLayer(channels, channels))

    def forward(self, x):
        return avg_pool2d(super().forward(x), 2, 2)


class OSNet(Module):
    """torchreid's ``OSNet`` (inference): conv1 7x7/2, 3x3/2 max pool, three stages of two omni-scale
    blocks (the first two followed by a 1x1 convolution and 2x2 average pooling), conv5 1x1, global
    average, fc (Linear, BatchNorm1d, ReLU); ``classifier`` kept for the state dict.

    Parameters
    ----------
    channels : (int, int, int, int)
        conv1's and the three stages' widths (x1.0: 64, 256, 384, 512).
    num_classes : int
        Rows of the identity classifier (kept for the state dict; not applied).
    feature_dim : int
        The embedding's length.
    normalize : bool
        Return unit-length embeddings.
    """

    def __init__(self, channels, num_classes=1000, feature_dim=512, normalize=False):
        super().__init__()
        num_classes = check_int(num_classes, "num_classes", low=1)
        feature_dim = check_int(feature_dim, "feature_dim", low=1)
        self.normalize = check_bool(normalize, "normalize")
        self.conv1 = ConvLayer(3, channels[0], 7, 2, 3)
        self.maxpool = MaxPool2d(3, 2, 1)
        for i, reduce in enumerate((True, True, False)):
            blocks = [OSBlock(channels[i], channels[i + 1]), OSBlock(channels[i + 1], channels[i + 1])]
            if reduce:
                blocks.append(_Transition(channels[i + 1]))
            setattr(self, f"conv{i + 2}", Sequential(*blocks))
        self.conv5 = ConvLayer(channels[3], channels[3])
        self.global_avgpool = AdaptiveAvgPool2d(1)
        self.fc = Sequential(Linear(channels[3], feature_dim), BatchNorm1d(feature_dim), ReLU())
        self.classifier = Linear(feature_dim, num_classes)

    def forward(self, x):
        """Embeddings (N, feature_dim) of crops (N, 3, H, W) float32 (256 x 128, ImageNet-normalised
        RGB, for the published weights); L2-normalised rows when built with ``normalize=True``."""
        x = as_array(x, "x")
        if x.dtype != np.float32:
            raise DTypeError(f"x must be float32, got {x.dtype}")
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"x must have shape (N, 3, H, W), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, self.classifier.weight.shape[1]), np.float32)
        return over_batch(self._embed, x)  # a part of the batch per thread

    def _embed(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.conv5(self.conv4(self.conv3(self.conv2(x))))
        v = self.fc(x.mean(axis=(2, 3), dtype=np.float32))
        if self.normalize:
            v /= np.maximum(np.linalg.norm(v, axis=1, keepdims=True), np.float32(1e-12))
        return v


def _osnet(channels, num_classes, normalize):
    return OSNet(channels, num_classes=num_classes, normalize=normalize)


def osnet_x1_0(num_classes: int = 1000, normalize: bool = False) -> OSNet:
    """OSNet x1.0 (channels 64, 256, 384, 512; 2.2 M parameters without the classifier), torchreid's
    ``osnet_x1_0`` with its state-dict keys.

    Parameters
    ----------
    num_classes : int
        Rows of ``classifier`` (the training identities of the checkpoint; unused by the
        embedding).
    normalize : bool
        L2-normalise the 512-d embeddings.

    Returns
    -------
    OSNet

    References
    ----------
    Zhou, K. et al. "Omni-Scale Feature Learning for Person Re-Identification." ICCV 2019.
    doi:10.1109/ICCV.2019.00380

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import osnet_x1_0
    >>> osnet_x1_0(normalize=True)(np.zeros((2, 3, 64, 32), np.float32)).shape
    (2, 512)
    """
    return _osnet((64, 256, 384, 512), num_classes, normalize)


def osnet_x0_5(num_classes: int = 1000, normalize: bool = False) -> OSNet:
    """OSNet x0.5 (channels 32, 128, 192, 256), torchreid's ``osnet_x0_5``; parameters and returns
    as :func:`osnet_x1_0`.

    Parameters
    ----------
    num_classes : int
        Rows of the identity classifier (kept for the state dict; not applied).
    normalize : bool
        Return unit-length embeddings.

    Returns
    -------
    OSNet
        Weights zero until :meth:`~scratchvision.nn.Module.load_state_dict` (torchreid's keys).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import osnet_x0_5
    >>> osnet_x0_5()(np.zeros((1, 3, 64, 32), np.float32)).shape
    (1, 512)
    """
    return _osnet((32, 128, 192, 256), num_classes, normalize)


def osnet_x0_25(num_classes: int = 1000, normalize: bool = False) -> OSNet:
    """OSNet x0.25 (channels 16, 64, 96, 128), torchreid's ``osnet_x0_25``; parameters and returns
    as :func:`osnet_x1_0`.

    Parameters
    ----------
    num_classes : int
        Rows of the identity classifier (kept for the state dict; not applied).
    normalize : bool
        Return unit-length embeddings.

    Returns
    -------
    OSNet
        Weights zero until :meth:`~scratchvision.nn.Module.load_state_dict` (torchreid's keys).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import osnet_x0_25
    >>> osnet_x0_25()(np.zeros((1, 3, 64, 32), np.float32)).shape
    (1, 512)
    """
    return _osnet((16, 64, 96, 128), num_classes, normalize)


def _deepsort_layout():
    """(name, shape) of every variable of DeepSORT's network, TensorFlow's names and layouts (HWIO
    kernels, (in, out) dense weights), in the network's order."""
    layout = []

    def bn(scope, n):
        layout.extend((f"{scope}/{v}", (n,)) for v in ("beta", "moving_mean", "moving_variance"))

    def conv(scope, k, cin, cout, normalised):
        layout.append((f"{scope}/weights", (k, k, cin, cout)))
        if normalised:
            bn(f"{scope}/{scope}/bn", cout)
        else:
            layout.append((f"{scope}/biases", (cout,)))

    conv("conv1_1", 3, 3, 32, True)
    conv("conv1_2", 3, 32, 32, True)
    for scope, cin, cout, first in _DEEPSORT_BLOCKS:
        if not first:
            bn(f"{scope}/bn", cin)
        conv(f"{scope}/1", 3, cin, cout, True)
        conv(f"{scope}/2", 3, cout, cout, False)
        if cin != cout:
            layout.append((f"{scope}/projection/weights", (1, 1, cin, cout)))
    layout.append(("fc1/weights", (16 * 8 * 128, 128)))
    bn("fc1/fc1/bn", 128)
    bn("ball", 128)
    return layout


#: (scope, input channels, output channels, first block) of the six residual blocks
_DEEPSORT_BLOCKS = (("conv2_1", 32, 32, True), ("conv2_3", 32, 32, False), ("conv3_1", 32, 64, False),
                    ("conv3_3", 64, 64, False), ("conv4_1", 64, 128, False), ("conv4_3", 128, 128, False))
_BN_EPS = 1e-3  # TF-Slim's batch_norm default


@kernel(fastmath=True)
def _elu_flat(x):
    """ELU in place on a flat float32 array: x where x > 0, exp(x) - 1 elsewhere."""
    for i in range(x.size):
        v = x[i]
        x[i] = v if v > 0 else vector_exp32(v) - np.float32(1.0)


def _elu(x):
    """ELU of a float32 array (a new array when ``x`` is not C-contiguous, else ``x`` itself)."""
    x = np.ascontiguousarray(x, np.float32)
    _elu_flat(x.reshape(-1))
    return x


def _same_pad(x, k, stride):
    """x (N, C, H, W) zero-padded as TensorFlow's "SAME" does for a k x k window: the output has
    ceil(size / stride) positions and an odd total padding puts the extra row / column at the end."""
    pads = []
    for size in x.shape[2:]:
        total = max((-(-size // stride) - 1) * stride + k - size, 0)
        pads.append((total // 2, total - total // 2))
    return pads


class DeepSortReID(Module):
    """DeepSORT's appearance network (inference): see :func:`deepsort_reid`."""

    def __init__(self):
        super().__init__()
        for name, shape in _deepsort_layout():
            value = np.ones(shape, np.float32) if name.endswith("moving_variance") else np.zeros(shape, np.float32)
            self.register(name, value)
        self._folded = None

    def prepare(self):
        super().prepare()
        self._folded = None

    def _fold(self):
        """Kernels as (O, I, kh, kw) with the batch norm that follows folded in (slim's batch norm
        has no scale: y = (x - mean) / sqrt(var + eps) + beta), in float64 then float32."""
        p = {k: v.astype(np.float64) for k, v in self.state_dict().items()}

        def norm(scope):
            scale = 1.0 / np.sqrt(p[f"{scope}/moving_variance"] + _BN_EPS)
            return scale, p[f"{scope}/beta"] - p[f"{scope}/moving_mean"] * scale

        def conv(scope, normalised=True):
            w = p[f"{scope}/weights"].transpose(3, 2, 0, 1)
            if not normalised:
                return w.astype(np.float32), p[f"{scope}/biases"].astype(np.float32)
            scale, shift = norm(f"{scope}/{scope}/bn")
            return (w * scale[:, None, None, None]).astype(np.float32), shift.astype(np.float32)

        folded = {"conv1_1": conv("conv1_1"), "conv1_2": conv("conv1_2")}
        for scope, _, _, first in _DEEPSORT_BLOCKS:
            folded[f"{scope}/1"], folded[f"{scope}/2"] = conv(f"{scope}/1"), conv(f"{scope}/2", False)
            if not first:
                folded[f"{scope}/bn"] = tuple(v.astype(np.float32) for v in norm(f"{scope}/bn"))
            if f"{scope}/projection/weights" in p:
                folded[f"{scope}/projection"] = (p[f"{scope}/projection/weights"].transpose(3, 2, 0,
                                                                                            1).astype(np.float32),
                                                 None)
        scale, shift = norm("fc1/fc1/bn")
        folded["fc1"] = ((p["fc1/weights"] * scale).T.astype(np.float32), shift.astype(np.float32))
        folded["ball"] = tuple(v.astype(np.float32) for v in norm("ball"))
        return folded

    @staticmethod
    def _conv(x, weight_bias, stride=1):
        weight, bias = weight_bias
        (top, bottom), (left, right) = _same_pad(x, weight.shape[2], stride)
        if top != bottom or left != right:  # asymmetric: pad here, the convolution pads nothing
            x = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
            top = left = 0
        return conv2d(x, weight, bias, stride, (top, left))

    def forward(self, x):
        """128-d L2-normalised embeddings of crops (N, 3, 128, 64) float32 in [0, 1]."""
        x = as_array(x, "x")
        if x.dtype != np.float32:
            raise DTypeError(f"x must be float32, got {x.dtype}")
        if x.ndim != 4 or x.shape[1:] != (3, 128, 64):
            raise ValueError(f"x must have shape (N, 3, 128, 64), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, 128), np.float32)
        if self._folded is None:
            self._folded = self._fold()
        return over_batch(self._embed, x)  # a part of the batch per thread

    def _embed(self, x):
        f = self._folded
        x = _elu(self._conv(_elu(self._conv(x, f["conv1_1"])), f["conv1_2"]))
        (top, bottom), (left, right) = _same_pad(x, 3, 2)  # "SAME" max pooling: the pad never wins
        x = max_pool2d(np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)), constant_values=-np.inf), 3, 2)
        for scope, cin, cout, first in _DEEPSORT_BLOCKS:
            stride = 1 if cin == cout else 2
            if first:
                pre = x
            else:
                scale, shift = f[f"{scope}/bn"]
                pre = _elu(x * scale[:, None, None] + shift[:, None, None])
            inner = self._conv(_elu(self._conv(pre, f[f"{scope}/1"], stride)), f[f"{scope}/2"])
            x = inner + (self._conv(x, f[f"{scope}/projection"], 2) if cin != cout else x)
        flat = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(len(x), -1)  # TensorFlow's NHWC order
        weight, shift = f["fc1"]
        features = _elu(linear(flat, weight, shift))
        scale, shift = f["ball"]
        features = features * scale + shift
        return features / np.sqrt(np.float32(1e-8) + (features * features).sum(axis=1, keepdims=True))


def deepsort_reid() -> DeepSortReID:
    """The appearance network of DeepSORT (Wojke & Bewley 2018, the ``mars-small128`` model of
    deep_sort), with its TensorFlow variables as the state-dict keys.

    The network (TF-Slim, NHWC, "SAME" padding: odd padding totals put the extra row and column
    at the bottom and right, as for the stride-2 layers here): two 3x3 convolutions of 32 channels
    (batch norm, ELU), 3x3 max pooling with stride 2, six residual blocks (32, 32, 64 with stride
    2, 64, 128 with stride 2, 128 channels; each after the first pre-activated by batch norm and
    ELU; inside, a 3x3 convolution with batch norm and ELU and a 3x3 convolution with a bias; a
    1x1 stride-2 projection of the block's input where the width doubles), the 16 x 8 x 128 map
    flattened in NHWC order, a dense layer to 128 with batch norm and ELU, a last batch norm
    ("ball") and L2 normalisation ``x / sqrt(1e-8 + |x|^2)``. Slim's batch norm has no scale and
    eps 1e-3; a convolution followed by batch norm has no bias. Dropout is the identity here.

    Keys (``.npz`` or ``.safetensors`` of the checkpoint's variables, the frozen graph's
    constants): ``conv1_1/weights`` (3, 3, 3, 32) and ``conv1_1/conv1_1/bn/{beta, moving_mean,
    moving_variance}``, likewise ``conv1_2``; per block ``conv2_1``, ``conv2_3``, ``conv3_1``,
    ``conv3_3``, ``conv4_1``, ``conv4_3``: ``{block}/bn/...`` (not for conv2_1),
    ``{block}/1/weights``, ``{block}/1/{block}/1/bn/...``, ``{block}/2/weights``,
    ``{block}/2/biases`` and, for conv3_1 and conv4_1, ``{block}/projection/weights`` (1, 1, in,
    out); ``fc1/weights`` (16384, 128), ``fc1/fc1/bn/...``; ``ball/...``. Reading the frozen
    ``.pb`` needs protobuf and is left out.

    Returns
    -------
    DeepSortReID
        ``model(x)`` with crops (N, 3, 128, 64) float32 in [0, 1] (the colour order of the
        training crops: deep_sort feeds OpenCV's BGR patches) -> (N, 128) unit vectors.

    References
    ----------
    Wojke, N. & Bewley, A. "Deep Cosine Metric Learning for Person Re-identification." WACV 2018.
    doi:10.1109/WACV.2018.00087

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import deepsort_reid
    >>> model = deepsort_reid()
    >>> model(np.full((2, 3, 128, 64), 0.5, np.float32)).shape
    (2, 128)
    """
    return DeepSortReID()


def embed(model, frame, boxes, batch_size: int = 32) -> np.ndarray:
    """Appearance embeddings of the boxes of one frame, for ``DeepSort.update(dets, embeddings)``.

    The crops are cut by :func:`~scratchvision.imgproc.crop_patches` at the network's size and
    prepared as its weights expect: for OSNet 256 x 128, RGB scaled to [0, 1] and normalised with
    the ImageNet mean and std (torchreid's transforms); for DeepSORT's network 128 x 64, scaled to
    [0, 1] in BGR order (deep_sort and its training read images with OpenCV, as BGR).

    Parameters
    ----------
    model : OSNet or DeepSortReID
    frame : ndarray (H, W, 3)
        RGB, uint8 or float in [0, 255].
    boxes : array (N, 4+)
        x1, y1, x2, y2 (further columns ignored).
    batch_size : int
        Crops per forward pass.

    Returns
    -------
    ndarray of float32 (N, D)
        One row per box (a box wholly outside the frame embeds an all-zero crop).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import nn
    >>> frame = np.zeros((120, 160, 3), np.uint8)
    >>> nn.embed(nn.deepsort_reid(), frame, [[10, 10, 40, 90]]).shape
    (1, 128)
    """
    from ..imgproc import crop_patches
    from .clips import IMAGENET_MEAN, IMAGENET_STD

    if isinstance(model, DeepSortReID):
        size, mean, std, bgr = (128, 64), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), True
    elif isinstance(model, OSNet):
        size, mean, std, bgr = (256, 128), IMAGENET_MEAN, IMAGENET_STD, False
    else:
        raise TypeError(f"model must be an OSNet or DeepSortReID, got {type(model).__name__}")
    batch_size = check_int(batch_size, "batch_size", low=1)
    f = as_array(frame, "frame")
    if f.ndim != 3 or f.shape[2] != 3:
        raise ValueError(f"frame must be an RGB image (H, W, 3), got shape {f.shape}")
    crops = crop_patches(f, boxes, size)
    if bgr:
        crops = crops[..., ::-1]
    x = (crops / np.float32(255.0) - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2), np.float32)
    parts = [model(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
    return np.concatenate(parts) if parts else model(x)


@warmup_hook
def _warmup():
    deepsort_reid()(np.zeros((1, 3, 128, 64), np.float32))
    osnet_x0_25()(np.zeros((1, 3, 32, 16), np.float32))
