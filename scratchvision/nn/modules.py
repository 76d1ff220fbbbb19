"""A small module system for inference: layers as objects holding named float32 parameters that
mirror torch's ``state_dict`` keys, composed like ``torch.nn`` so a network reads like its table.

``Module.state_dict()`` / ``load_state_dict()`` use torch's names (``layer1.0.conv1.0.weight``,
``bn.running_mean``, ``bn.num_batches_tracked`` ...). After loading, each batch norm that follows a
convolution is folded into it (``w' = w * gamma / sqrt(var + eps)``, ``b' = beta - mean * gamma /
sqrt(var + eps)``, computed in float64), so inference runs one convolution where training ran two
operations; the stored parameters are kept unchanged for ``state_dict()``.
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from .._validate import check_float, check_int
from . import functional as F
from .winograd import winograd_weights

__all__ = ["Module", "Sequential", "Conv2d", "Conv3d", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "ReLU", "MaxPool2d",
           "MaxPool3d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "Linear", "Identity", "Dropout", "Flatten",
           "IncompatibleKeys"]

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class: parameters and buffers (arrays) and child modules, registered by attribute."""

    def __init__(self):
        object.__setattr__(self, "_params", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())

    def __setattr__(self, name, value):
        if isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, np.ndarray) and name in self._params:
            self._params[name] = value
        object.__setattr__(self, name, value)

    def register(self, name: str, value: np.ndarray) -> None:
        """Declare a parameter or buffer under ``name`` (its state_dict key)."""
        self._params[name] = value
        object.__setattr__(self, name, value)

    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}{name}.")

    def state_dict(self) -> OrderedDict:
        """Every parameter and buffer by torch's dotted name (arrays are not copied)."""
        out = OrderedDict()
        for prefix, m in self.named_modules():
            for name, v in m._params.items():
                out[prefix + name] = v
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from ``state_dict`` (name -> array-like) into the parameters.

        With ``strict``, missing or unexpected keys raise ValueError listing them as torch does;
        otherwise they are returned. A shape mismatch always raises ValueError naming the
        parameter. Values are cast to the parameter's dtype (float32; int64 counters).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
            if unexpected:
                parts.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(parts))
        owners = {}
        for prefix, m in self.named_modules():
            for name in m._params:
                owners[prefix + name] = (m, name)
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = np.asarray(state_dict[key])
            if value.shape != target.shape:
                raise ValueError(f"size mismatch for {key}: the checkpoint has shape {value.shape}, "
                                 f"the model {target.shape}")
            if value.dtype.kind not in "biuf":
                raise ValueError(f"{key}: not a numeric array (dtype {value.dtype})")
            converted = value.astype(target.dtype)
            if converted.dtype.kind == "f" and not np.isfinite(converted).all():
                raise ValueError(f"{key}: contains NaN or inf")
            m, name = owners[key]
            m.register(name, np.array(converted, order="C"))
        self.prepare()
        return IncompatibleKeys(missing, unexpected)

    #: (convolution, batch norm) child names whose norm is folded into the convolution.
    fold_pairs: tuple = ()

    def prepare(self) -> None:
        """Precompute inference-time quantities (folded batch norms); run after loading."""
        for m in self._modules.values():
            m.prepare()
        for conv, bn in self.fold_pairs:
            self._modules[conv].fold(self._modules[bn])

    def forward(self, x):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for name, m in self._modules.items():
            lines += [f"  ({name}): " + line for line in repr(m).splitlines()]
        return "\n".join(lines) + ")" if self._modules else f"{type(self).__name__}({self.extra_repr()})"

    def extra_repr(self) -> str:
        return ""


class Sequential(Module):
    """Children applied in order, named ``0``, ``1``, ... A convolution directly followed by a
    batch norm has the norm folded into it by :meth:`prepare`; a layer that can apply a ReLU as it
    writes its output (``fuses_relu``: convolutions, RAFT's instance norm) does so for a ReLU
    that follows it (after a folded norm), and the ReLU is not called.

    Parameters
    ----------
    *layers : Module
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            setattr(self, str(i), layer)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        return list(self._modules.values())[i]

    def prepare(self) -> None:
        super().prepare()
        layers = list(self._modules.values())
        for a, b in zip(layers, layers[1:]):
            if isinstance(a, Sequential) and len(a._modules) and isinstance(a[-1], _ConvNd):
                a = a[-1]  # e.g. a (2+1)-D block ending in its temporal convolution
            if isinstance(a, _ConvNd) and isinstance(b, _BatchNorm):
                a.fold(b)

    def forward(self, x):
        layers = list(self._modules.values())
        i = 0
        while i < len(layers):
            after = i + 1
            while after < len(layers) and getattr(layers[after], "folded", False):
                after += 1  # a norm folded into the convolution before it: nothing left to do
            if getattr(layers[i], "fuses_relu", False) and after < len(layers) and isinstance(layers[after], ReLU):
                x, i = layers[i](x, relu=True), after + 1  # the ReLU in the same pass as the layer
            else:
                x, i = layers[i](x), after
        return x


_PENDING = object()  # a convolution's weights are to be laid out at its next forward


class _ConvNd(Module):
    dims = 3

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True):
        super().__init__()
        d = self.dims
        in_channels, out_channels = check_int(in_channels, "in_channels", low=1), check_int(out_channels,
                                                                                            "out_channels", low=1)
        groups = check_int(groups, "groups", low=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"in_channels {in_channels} and out_channels {out_channels} must be divisible "
                             f"by groups {groups}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size, self.stride = F.int_tuple(kernel_size, "kernel_size", d, 1), F.int_tuple(stride, "stride", d,
                                                                                                   1)
        self.padding, self.dilation = F.int_tuple(padding, "padding", d, 0), F.int_tuple(dilation, "dilation", d, 1)
        self.register("weight", np.zeros((out_channels, in_channels // groups) + self.kernel_size, np.float32))
        if bias:
            self.register("bias", np.zeros(out_channels, np.float32))
        self._inference = None

    def fold(self, bn) -> None:
        """Fold the batch norm ``bn`` that follows into this convolution's weights."""
        scale = bn.weight.astype(np.float64) / np.sqrt(bn.running_var.astype(np.float64) + bn.eps)
        bias = self.bias.astype(np.float64) if "bias" in self._params else 0.0
        w = self.weight.astype(np.float64) * scale.reshape((-1,) + (1,) * (self.weight.ndim - 1))
        b = bn.bias.astype(np.float64) + (bias - bn.running_mean.astype(np.float64)) * scale
        self._inference = self._layouts(w.astype(np.float32), b.astype(np.float32))
        bn.folded = True

    def prepare(self) -> None:
        """Lay the stored weights out as the products read them, once, at the next forward (a batch
        norm folded in after this call replaces them first, so nothing is laid out twice)."""
        self._inference = _PENDING

    def _layouts(self, weight, bias):
        """(weights, bias, Winograd-domain weights or None), in the form the convolution's lowering
        reads; a Winograd convolution keeps only its transformed weights (the first item is then a
        zero-size stand-in giving the shape)."""
        shape = weight.shape if self.dims == 3 else weight.shape[:2] + (1,) + weight.shape[2:]
        stride, padding, dilation = ((1,) * (3 - self.dims) + v for v in (self.stride, self.padding, self.dilation))
        if F.conv_lowering(shape, stride, padding, dilation) == "winograd":
            return np.broadcast_to(np.float32(0), weight.shape), bias, winograd_weights(weight)
        return F.offset_major(weight), bias, None

    def _check(self, x):
        if x.ndim != self.dims + 2:
            raise ValueError(f"{type(self).__name__} expects input of rank {self.dims + 2}, got shape {x.shape}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__} expects {self.in_channels} input channels, got {x.shape[1]}")

    fuses_relu = True

    def forward(self, x, relu: bool = False):
        """The convolution of ``x``; with ``relu``, max(0, output) (fused into the convolution's loops
        where its lowering has its own, :func:`~scratchvision.nn.functional.conv3d`)."""
        self._check(x)
        if self._inference is _PENDING:
            self._inference = self._layouts(self.weight, self._params.get("bias"))
        w, b, u = self._inference if self._inference is not None else (self.weight, self._params.get("bias"), None)
        conv = F.conv3d if self.dims == 3 else F.conv2d
        return conv(x, w, b, self.stride, self.padding, self.dilation, self.groups, u, relu=relu)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}")


class Conv3d(_ConvNd):
    """torch.nn.Conv3d (inference): weight (O, C/groups, kT, kH, kW), optional bias.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or tuple
        As torch's.
    groups : int
        Input and output channels split into this many groups.
    bias : bool
    """

    dims = 3


class Conv2d(_ConvNd):
    """torch.nn.Conv2d (inference): weight (O, C/groups, kH, kW), optional bias.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, padding, dilation : int or tuple
        As torch's.
    groups : int
        Input and output channels split into this many groups.
    bias : bool
    """

    dims = 2


class _BatchNorm(Module):
    def __init__(self, num_features, eps=1e-5):
        super().__init__()
        num_features = check_int(num_features, "num_features", low=1)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.register("weight", np.ones(num_features, np.float32))
        self.register("bias", np.zeros(num_features, np.float32))
        self.register("running_mean", np.zeros(num_features, np.float32))
        self.register("running_var", np.ones(num_features, np.float32))
        self.register("num_batches_tracked", np.zeros((), np.int64))
        self.folded = False

    def prepare(self) -> None:
        self.folded = False

    def forward(self, x):
        if self.folded:
            return x
        scale = self.weight / np.sqrt(self.running_var + np.float32(self.eps))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return x * scale.reshape(shape) + (self.bias - self.running_mean * scale).reshape(shape)


class BatchNorm3d(_BatchNorm):
    """torch.nn.BatchNorm3d in eval mode (running statistics).

    Parameters
    ----------
    num_features : int
        Channels C.
    eps : float
        Added to the running variance.
    """


class BatchNorm2d(_BatchNorm):
    """torch.nn.BatchNorm2d in eval mode (running statistics).

    Parameters
    ----------
    num_features : int
        Channels C.
    eps : float
        Added to the running variance.
    """


class BatchNorm1d(_BatchNorm):
    """torch.nn.BatchNorm1d in eval mode (running statistics), on (N, C) or (N, C, L).

    Parameters
    ----------
    num_features : int
        Channels C.
    eps : float
        Added to the running variance.
    """


class ReLU(Module):
    def forward(self, x):
        return F.relu(x)


class MaxPool3d(Module):
    """torch.nn.MaxPool3d (padding never wins).

    Parameters
    ----------
    kernel_size, stride, padding : int or (int, int, int)
        As torch's (``stride`` defaults to ``kernel_size``).
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.args = (F.int_tuple(kernel_size, "kernel_size", 3, 1),
                     None if stride is None else F.int_tuple(stride, "stride", 3, 1),
                     F.int_tuple(padding, "padding", 3, 0))

    def forward(self, x):
        return F.max_pool3d(x, *self.args)


class MaxPool2d(Module):
    """torch.nn.MaxPool2d (padding never wins).

    Parameters
    ----------
    kernel_size, stride, padding : int or (int, int)
        As torch's (``stride`` defaults to ``kernel_size``).
    """

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.args = (F.int_tuple(kernel_size, "kernel_size", 2, 1),
                     None if stride is None else F.int_tuple(stride, "stride", 2, 1),
                     F.int_tuple(padding, "padding", 2, 0))

    def forward(self, x):
        return F.max_pool2d(x, *self.args)


class AdaptiveAvgPool3d(Module):
    """torch.nn.AdaptiveAvgPool3d.

    Parameters
    ----------
    output_size : int or (int, int, int)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = F.int_tuple(output_size, "output_size", 3, 1)

    def forward(self, x):
        return F.adaptive_avg_pool3d(x, self.output_size)


class AdaptiveAvgPool2d(Module):
    """torch.nn.AdaptiveAvgPool2d.

    Parameters
    ----------
    output_size : int or (int, int)
    """

    def __init__(self, output_size):
        super().__init__()
        self.output_size = F.int_tuple(output_size, "output_size", 2, 1)

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class Linear(Module):
    """torch.nn.Linear: weight (out, in), bias (out,).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        in_features, out_features = check_int(in_features, "in_features", low=1), check_int(out_features,
                                                                                            "out_features", low=1)
        self.register("weight", np.zeros((out_features, in_features), np.float32))
        if bias:
            self.register("bias", np.zeros(out_features, np.float32))

    def forward(self, x, out=None, accumulate: bool = False):
        """``x @ weight.T + bias``; into ``out``, or added to it with ``accumulate`` (:func:`F.linear`)."""
        return F.linear(x, self.weight, self._params.get("bias"), out, accumulate)


class Identity(Module):
    """Returns its input (torch's ``nn.Identity``: e.g. in place of a backbone's classifier)."""

    def forward(self, x):
        return x


class Dropout(Module):
    """Identity at inference.

    Parameters
    ----------
    p : float in [0, 1]
        Kept for torch's signature; unused at inference.
    """

    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_float(p, "p", low=0.0, high=1.0)

    def forward(self, x):
        return x


class Flatten(Module):
    def forward(self, x):
        return x.reshape(x.shape[0], -1)
