"""2-D ResNets (He et al. 2016) as torchvision.models builds them: ``resnet18`` (basic blocks)
and ``resnet50`` (bottlenecks with the stride on the 3x3 convolution, "ResNet v1.5").

Parameter names equal torchvision's, so ``resnet18-f37072fd.pth`` / ``resnet50-0676ba61.pth``
(ImageNet) load with :func:`~scratchvision.nn.load_checkpoint`; inputs (N, 3, H, W) normalised with
the ImageNet mean/std.

References
----------
K. He, X. Zhang, S. Ren, J. Sun. "Deep Residual Learning for Image Recognition." CVPR 2016.
doi:10.1109/CVPR.2016.90
"""

from __future__ import annotations

import numpy as np

from .._validate import check_int
from . import functional as F
from .modules import AdaptiveAvgPool2d, BatchNorm2d, Conv2d, Linear, MaxPool2d, Module, ReLU, Sequential

__all__ = ["ResNet", "resnet18", "resnet50"]


class BasicBlock(Module):
    expansion = 1
    fold_pairs = (("conv1", "bn1"), ("conv2", "bn2"))

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.relu = ReLU()
        self.conv2 = Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        if downsample is not None:
            self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.add_relu(out, self.downsample(x) if "downsample" in self._modules else x)


class Bottleneck(Module):
    expansion = 4
    fold_pairs = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = BatchNorm2d(planes)
        self.conv2 = Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = BatchNorm2d(planes)
        self.conv3 = Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = BatchNorm2d(planes * 4)
        self.relu = ReLU()
        if downsample is not None:
            self.downsample = downsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.add_relu(out, self.downsample(x) if "downsample" in self._modules else x)


class ResNet(Module):
    """conv1 7x7/2 -> bn1 -> ReLU -> 3x3/2 max pool -> layer1..layer4 -> average pool -> fc.

    Parameters
    ----------
    block : type
        BasicBlock or Bottleneck.
    layers : (int, int, int, int)
        Blocks per stage.
    num_classes : int
    in_channels : int
    """

    fold_pairs = (("conv1", "bn1"),)

    def __init__(self, block, layers, num_classes=1000, in_channels=3):
        super().__init__()
        num_classes, in_channels = check_int(num_classes, "num_classes", low=1), check_int(in_channels, "in_channels",
                                                                                           low=1)
        self.inplanes = 64
        self.conv1 = Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = BatchNorm2d(64)
        self.relu = ReLU()
        self.maxpool = MaxPool2d(3, 2, 1)
        for i, (planes, n, stride) in enumerate(zip((64, 128, 256, 512), layers, (1, 2, 2, 2))):
            setattr(self, f"layer{i + 1}", self._make_layer(block, planes, n, stride))
        self.avgpool = AdaptiveAvgPool2d(1)
        self.fc = Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = Sequential(Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                    BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return Sequential(*layers)

    def features(self, x):
        """Everything up to the pooled 512 (or 2048) features, (N, C)."""
        x = np.asarray(x)
        c = self.conv1.in_channels
        if x.ndim != 4 or x.shape[1] != c:
            raise ValueError(f"{type(self).__name__} expects images (N, {c}, H, W), got shape {x.shape}")
        if x.dtype != np.float32:
            raise TypeError(f"images must be float32, got {x.dtype}")
        x = self.maxpool(self.relu(self.bn1(self.conv1(np.ascontiguousarray(x)))))
        for i in range(1, 5):
            x = self._modules[f"layer{i}"](x)
        return self.avgpool(x).reshape(x.shape[0], -1)

    def forward(self, x):
        return self.fc(self.features(x))


def resnet18(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-18 (torchvision ``resnet18``); ``in_channels`` other than 3 for e.g. stacked flow.

    Parameters
    ----------
    num_classes : int
    in_channels : int

    Returns
    -------
    ResNet
    """
    return ResNet(BasicBlock, (2, 2, 2, 2), num_classes, in_channels)


def resnet50(num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    """ResNet-50 (torchvision ``resnet50``, stride on the 3x3 convolution of each bottleneck).

    Parameters
    ----------
    num_classes : int
    in_channels : int

    Returns
    -------
    ResNet
    """
    return ResNet(Bottleneck, (3, 4, 6, 3), num_classes, in_channels)
