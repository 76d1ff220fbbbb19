"""3-D ResNets for action recognition (Tran et al. 2018), as torchvision.models.video builds them.

All three are 18-layer ResNets on clips (N, 3, T, H, W) with the same four stages of two basic
blocks (64, 128, 256, 512 channels; stages 2-4 halve the resolution), global average pooling and a
linear classifier; they differ in their convolutions:

* ``r3d_18``: full 3x3x3 convolutions everywhere, stem 3x7x7 with spatial stride 2;
* ``mc3_18`` (mixed convolutions): 3x3x3 in the first stage, 1x3x3 (no temporal extent) after;
* ``r2plus1d_18``: every 3x3x3 convolution factorised into a 1x3x3 spatial one, batch norm,
  ReLU, and a 3x1x1 temporal one, with ``M = floor(t d^2 N_{i-1} N_i / (d^2 N_{i-1} + t N_i))``
  middle channels so the parameter count matches the 3-D block; its stem is 1x7x7 to 45
  channels then 3x1x1 to 64.

Parameter names equal torchvision's, so its checkpoints (``r3d_18-b3b3357e.pth``,
``mc3_18-a90a0ba3.pth``, ``r2plus1d_18-91a641e6.pth``, Kinetics-400) load with
:func:`~scratchvision.nn.load_checkpoint` and ``load_state_dict``. Inputs are normalised with the
Kinetics mean/std (:data:`~scratchvision.nn.clips.KINETICS_MEAN`), clips of 16 frames at 112x112.

References
----------
D. Tran, H. Wang, L. Torresani, J. Ray, Y. LeCun, M. Paluri. "A Closer Look at Spatiotemporal
Convolutions for Action Recognition." CVPR 2018. doi:10.1109/CVPR.2018.00675
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int
from . import functional as F
from .modules import AdaptiveAvgPool3d, BatchNorm3d, Conv3d, Linear, Module, ReLU, Sequential

__all__ = ["VideoResNet", "r3d_18", "mc3_18", "r2plus1d_18"]


def conv_3d_simple(in_planes, out_planes, midplanes, stride=1):
    """3x3x3 convolution (stride in time and space)."""
    return Conv3d(in_planes, out_planes, 3, stride, 1, bias=False)


def conv_no_temporal(in_planes, out_planes, midplanes, stride=1):
    """1x3x3 convolution (stride in space only)."""
    return Conv3d(in_planes, out_planes, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False)


def conv_2plus1d(in_planes, out_planes, midplanes, stride=1):
    """(2+1)-D: 1x3x3 to ``midplanes``, batch norm, ReLU, 3x1x1 to ``out_planes``."""
    return Sequential(Conv3d(in_planes, midplanes, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
                      BatchNorm3d(midplanes), ReLU(),
                      Conv3d(midplanes, out_planes, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False))


#: stride of the 1x1x1 shortcut convolution for each block convolution type
_DOWNSAMPLE_STRIDE = {conv_3d_simple: lambda s: (s, s, s), conv_no_temporal: lambda s: (1, s, s),
                      conv_2plus1d: lambda s: (s, s, s)}


class BasicBlock(Module):
    """Two convolutions with batch norm (ReLU between and after the residual sum)."""

    def __init__(self, inplanes, planes, conv_builder, stride=1, downsample=None):
        super().__init__()
        midplanes = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        self.conv1 = Sequential(conv_builder(inplanes, planes, midplanes, stride), BatchNorm3d(planes), ReLU())
        self.conv2 = Sequential(conv_builder(planes, planes, midplanes), BatchNorm3d(planes))
        if downsample is not None:
            self.downsample = downsample

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        shortcut = self.downsample(x) if "downsample" in self._modules else x
        return F.add_relu(out, shortcut)


class VideoResNet(Module):
    """stem -> layer1..layer4 (two BasicBlocks each) -> global average pool -> fc.

    Parameters
    ----------
    conv_makers : sequence of callables
        Per stage, the builder of its convolutions (3-D, 2-D or (2+1)-D).
    stem : Module
    num_classes : int
    """

    def __init__(self, conv_makers, stem, num_classes=400):
        super().__init__()
        num_classes = check_int(num_classes, "num_classes", low=1)
        self.inplanes = 64
        self.stem = stem
        for i, (planes, stride) in enumerate(zip((64, 128, 256, 512), (1, 2, 2, 2))):
            setattr(self, f"layer{i + 1}", self._make_layer(conv_makers[i], planes, stride))
        self.avgpool = AdaptiveAvgPool3d(1)
        self.fc = Linear(512, num_classes)

    def _make_layer(self, conv_builder, planes, stride, blocks=2):
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = Sequential(Conv3d(self.inplanes, planes, 1, _DOWNSAMPLE_STRIDE[conv_builder](stride),
                                           bias=False), BatchNorm3d(planes))
        layers = [BasicBlock(self.inplanes, planes, conv_builder, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes, conv_builder) for _ in range(1, blocks)]
        return Sequential(*layers)

    def forward(self, x):
        x = np.asarray(x)
        if x.ndim != 5 or x.shape[1] != 3:
            raise ValueError(f"{type(self).__name__} expects clips (N, 3, T, H, W), got shape {x.shape}")
        if x.dtype != np.float32:
            raise TypeError(f"clips must be float32, got {x.dtype}")
        x = self.stem(np.ascontiguousarray(x))
        for i in range(1, 5):
            x = self._modules[f"layer{i}"](x)
        return self.fc(self.avgpool(x).reshape(x.shape[0], -1))


def _basic_stem():
    return Sequential(Conv3d(3, 64, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), BatchNorm3d(64), ReLU())


def _r2plus1d_stem():
    return Sequential(Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), BatchNorm3d(45), ReLU(),
                      Conv3d(45, 64, (3, 1, 1), (1, 1, 1), (1, 0, 0), bias=False), BatchNorm3d(64), ReLU())


def r3d_18(num_classes: int = 400) -> VideoResNet:
    """R3D-18: 3-D convolutions throughout (torchvision ``r3d_18``).

    Parameters
    ----------
    num_classes : int

    Returns
    -------
    VideoResNet
        Weights zero until :meth:`~scratchvision.nn.Module.load_state_dict` (torchvision's keys).
    """
    return VideoResNet([conv_3d_simple] * 4, _basic_stem(), num_classes)


def mc3_18(num_classes: int = 400) -> VideoResNet:
    """MC3-18: 3-D convolutions in the first stage, 2-D (1x3x3) in the others (torchvision ``mc3_18``).

    Parameters
    ----------
    num_classes : int

    Returns
    -------
    VideoResNet
        Weights zero until :meth:`~scratchvision.nn.Module.load_state_dict` (torchvision's keys).
    """
    return VideoResNet([conv_3d_simple] + [conv_no_temporal] * 3, _basic_stem(), num_classes)


def r2plus1d_18(num_classes: int = 400) -> VideoResNet:
    """R(2+1)D-18: every 3x3x3 convolution factorised into spatial and temporal parts
    (torchvision ``r2plus1d_18``).

    Parameters
    ----------
    num_classes : int

    Returns
    -------
    VideoResNet
        Weights zero until :meth:`~scratchvision.nn.Module.load_state_dict` (torchvision's keys).
    """
    return VideoResNet([conv_2plus1d] * 4, _r2plus1d_stem(), num_classes)
