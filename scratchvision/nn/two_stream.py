"""Two-Stream networks (Simonyan and Zisserman 2014): appearance and motion, recognised apart and
fused late.

The spatial stream is an image network on one RGB frame; the temporal stream is the same
architecture on a stack of L optical-flow fields, their (dx, dy) channels interleaved into 2L
input channels. Each stream gives class scores; the two softmax distributions are averaged
(``fusion="average"``) or combined by a learned linear layer on the concatenated logits
(``fusion="linear"``). A temporal stream is commonly started from ImageNet weights by
cross-modality initialisation (Wang et al. 2016): its first convolution is the RGB one averaged
over the three colour channels and repeated over the 2L flow channels
(:func:`cross_modality_conv1`).

References
----------
K. Simonyan, A. Zisserman. "Two-Stream Convolutional Networks for Action Recognition in Videos."
NeurIPS 2014.

L. Wang, Y. Xiong, Z. Wang, Y. Qiao, D. Lin, X. Tang, L. Van Gool. "Temporal Segment Networks:
Towards Good Practices for Deep Action Recognition." ECCV 2016. doi:10.1007/978-3-319-46484-8_2
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from .._validate import as_array, check_finite, check_int, to_float32
from . import functional as F
from .modules import Linear, Module
from .resnet import resnet18, resnet50

__all__ = ["TwoStream", "cross_modality_conv1", "flow_stack"]


def cross_modality_conv1(state_dict, flow_channels: int) -> OrderedDict:
    """A copy of an RGB network's state_dict with ``conv1.weight`` (O, 3, k, k) replaced by its
    mean over the colour channels repeated ``flow_channels`` times: (O, flow_channels, k, k).

    Parameters
    ----------
    state_dict : dict
        An RGB network's weights.
    flow_channels : int
        Input channels of the temporal stream (2 L).

    Returns
    -------
    OrderedDict
    """
    if not hasattr(state_dict, "keys") or "conv1.weight" not in state_dict:
        raise ValueError("state_dict must be a mapping with a 'conv1.weight' entry (an RGB ResNet's)")
    flow_channels = check_int(flow_channels, "flow_channels", low=1)
    out = OrderedDict(state_dict)
    w = as_array(out["conv1.weight"], "state_dict['conv1.weight']").astype(np.float32)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"conv1.weight must have shape (O, 3, k, k), got {w.shape}")
    out["conv1.weight"] = np.repeat(w.mean(axis=1, keepdims=True), flow_channels, axis=1)
    return out


def flow_stack(flows) -> np.ndarray:
    """L flow fields (L, H, W, 2) as the temporal stream's input channels (2L, H, W), ordered
    dx_1, dy_1, dx_2, dy_2, ...

    Parameters
    ----------
    flows : array-like (L, H, W, 2)

    Returns
    -------
    ndarray (2 L, H, W) float32
    """
    f = as_array(flows, "flows")
    if f.ndim != 4 or f.shape[3] != 2:
        raise ValueError(f"flows must have shape (L, H, W, 2), got {f.shape}")
    check_finite(f, "flows")
    f = to_float32(f, "flows")
    return np.ascontiguousarray(f.transpose(0, 3, 1, 2).reshape(2 * f.shape[0], f.shape[1], f.shape[2]))


class TwoStream(Module):
    """Spatial and temporal ResNets fused late.

    Parameters
    ----------
    num_classes : int
    flow_length : int
        L, the number of stacked flow fields (the temporal stream takes 2L channels).
    arch : {"resnet18", "resnet50"}
    fusion : {"average", "linear"}
        Average the two softmax distributions, or a learned ``Linear(2 num_classes, num_classes)``
        on the concatenated logits (parameters ``fusion.weight``, ``fusion.bias``).
    """

    def __init__(self, num_classes: int = 101, flow_length: int = 10, arch: str = "resnet18",
                 fusion: str = "average"):
        super().__init__()
        build = {"resnet18": resnet18, "resnet50": resnet50}[arch]
        if fusion not in ("average", "linear"):
            raise ValueError(f"fusion must be 'average' or 'linear', got {fusion!r}")
        self.flow_length, self.fusion_mode = flow_length, fusion
        self.spatial = build(num_classes)
        self.temporal = build(num_classes, in_channels=2 * flow_length)
        if fusion == "linear":
            self.fusion = Linear(2 * num_classes, num_classes)

    def forward(self, inputs):
        """``(rgb (N, 3, H, W), flow (N, 2L, H, W))`` -> class scores (N, num_classes): fused
        probabilities (``average``) or fused logits (``linear``)."""
        rgb, flow = inputs
        ls, lt = self.spatial(rgb), self.temporal(flow)
        if self.fusion_mode == "average":
            return (F.softmax(ls, 1) + F.softmax(lt, 1)) / 2
        return self.fusion(np.concatenate([ls, lt], axis=1))
