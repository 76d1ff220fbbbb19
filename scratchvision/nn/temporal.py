"""Video models built from a 2-D image network: a CNN + LSTM (LRCN, Donahue et al. 2015) and the
Temporal Segment Network (TSN, Wang et al. 2016).

* :class:`CNNLSTM`: the 2-D ResNet runs on every frame, its pooled features (512 for ResNet-18,
  2048 for ResNet-50) form a sequence the LSTM reads, and the class comes from the last hidden
  state (``pooling="last"``) or the mean over time (``"mean"``). The frames are independent for
  the CNN (one batch of B T images) and sequential for the LSTM, whose cost grows step by step.
* :class:`TSN`: K segments of the video, one snippet each (an RGB frame, or ``new_length``
  stacked x/y flow fields for the flow stream), one shared 2-D network classifies every snippet,
  and the consensus is the average of the K scores. Sparse sampling over the whole video
  (:func:`~scratchvision.nn.sample_indices` with ``mode="segments"``) is the point: long-range
  structure at the cost of K images.

State-dict keys: ``backbone.*`` (torchvision's ResNet without ``fc``), ``lstm.*`` (torch's LSTM),
``fc.*`` for CNNLSTM; ``base_model.*`` (a torchvision ResNet whose ``fc`` is the classifier and
whose first convolution takes ``2 new_length`` channels for flow) for TSN, the name the TSN
reference implementations use.

References
----------
Donahue, J. et al. "Long-term Recurrent Convolutional Networks for Visual Recognition and
Description." CVPR 2015. doi:10.1109/CVPR.2015.7298878
Wang, L. et al. "Temporal Segment Networks: Towards Good Practices for Deep Action Recognition."
ECCV 2016. doi:10.1007/978-3-319-46484-8_2
"""

from __future__ import annotations

import numpy as np

from .._validate import DTypeError, as_array, check_choice, check_int
from .modules import Identity, Linear, Module
from .recurrent import LSTM
from .resnet import resnet18, resnet50

__all__ = ["CNNLSTM", "TSN"]

_BACKBONES = {"resnet18": (resnet18, 512), "resnet50": (resnet50, 2048)}


def _clips(x, name, channels):
    """(B, T, C, H, W) float32 with C = ``channels``."""
    a = as_array(x, name)
    if a.dtype != np.float32:
        raise DTypeError(f"{name} must be float32, got {a.dtype}")
    if a.ndim != 5 or a.shape[2] != channels or min(a.shape[:2]) < 1:
        raise ValueError(f"{name} must have shape (B, T, {channels}, H, W), got {a.shape}")
    return a


class CNNLSTM(Module):
    """LRCN: a 2-D ResNet per frame, an LSTM over the frames' features, a linear classifier.

    Parameters
    ----------
    num_classes : int
    hidden_size : int
        The LSTM's width.
    num_layers : int
        LSTM layers.
    backbone : {"resnet18", "resnet50"}
    pooling : {"last", "mean"}
        Classify the last hidden state, or the mean of the hidden states over time.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import CNNLSTM
    >>> CNNLSTM(num_classes=5, hidden_size=16)(np.zeros((2, 3, 3, 32, 32), np.float32)).shape
    (2, 5)
    """

    def __init__(self, num_classes: int, hidden_size: int = 256, num_layers: int = 1, backbone: str = "resnet18",
                 pooling: str = "last"):
        super().__init__()
        build, width = _BACKBONES[check_choice(backbone, "backbone", tuple(_BACKBONES))]
        self.pooling = check_choice(pooling, "pooling", ("last", "mean"))
        self.backbone = build(1)
        self.backbone.fc = Identity()  # as torch's LRCN: the pooled features, no parameters
        self.lstm = LSTM(width, hidden_size, num_layers, batch_first=True)
        self.fc = Linear(hidden_size, check_int(num_classes, "num_classes", low=1))

    def forward(self, x) -> np.ndarray:
        """Logits (B, num_classes) of clips (B, T, 3, H, W) float32 (ImageNet-normalised frames)."""
        x = _clips(x, "x", 3)
        b, t = x.shape[:2]
        features = self.backbone(x.reshape((b * t,) + x.shape[2:])).reshape(b, t, -1)
        out, _ = self.lstm(features)
        summary = out[:, -1] if self.pooling == "last" else out.mean(axis=1)
        return self.fc(np.ascontiguousarray(summary))


class TSN(Module):
    """Temporal Segment Network: a shared 2-D ResNet on K snippets, scores averaged.

    Parameters
    ----------
    num_classes : int
    num_segments : int
        K, the snippets per video.
    modality : {"RGB", "Flow"}
        A snippet is one RGB frame, or ``new_length`` flow fields stacked as 2 ``new_length``
        channels (x and y of each field in turn).
    new_length : int
        Flow fields per snippet (TSN: 5).
    backbone : {"resnet18", "resnet50"}

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import TSN
    >>> TSN(num_classes=4, num_segments=3)(np.zeros((1, 3, 3, 32, 32), np.float32)).shape
    (1, 4)
    """

    def __init__(self, num_classes: int, num_segments: int = 3, modality: str = "RGB", new_length: int = 5,
                 backbone: str = "resnet18"):
        super().__init__()
        build, _ = _BACKBONES[check_choice(backbone, "backbone", tuple(_BACKBONES))]
        self.num_segments = check_int(num_segments, "num_segments", low=1)
        self.modality = check_choice(modality, "modality", ("RGB", "Flow"))
        new_length = check_int(new_length, "new_length", low=1)
        self.channels = 3 if self.modality == "RGB" else 2 * new_length
        self.base_model = build(check_int(num_classes, "num_classes", low=1), self.channels)

    def forward(self, x) -> np.ndarray:
        """Average consensus of the snippets' scores (B, num_classes) for snippets (B, K, C, H, W)
        float32."""
        x = _clips(x, "x", self.channels)
        b, k = x.shape[:2]
        if k != self.num_segments:
            raise ValueError(f"x must hold num_segments = {self.num_segments} snippets per video, got {k}")
        scores = self.base_model(x.reshape((b * k,) + x.shape[2:]))
        return scores.reshape(b, k, -1).mean(axis=1)
