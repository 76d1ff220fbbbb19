"""The layers of the video transformers (VideoMAE, TimeSformer, ViViT): layer norm, GELU, multi-head
self-attention and the pre-norm block, on tokens stored as a 2-D float32 array (sequences x
tokens, channels).

A pre-norm block (Vaswani et al. 2017; the "pre-LN" order of ViT, Dosovitskiy et al. 2021) is

    x = x + Wo · Attention(LN1(x))          Attention: softmax(Q K^T / sqrt(d)) V per head
    x = x + W2 · GELU(W1 · LN2(x) + b1)

How it runs here:

* **one product for q, k and v**: the three projections are stacked into one (3 inner, D) weight
  when the weights load (a missing bias, like VideoMAE's key, is a zero), with the 1/sqrt(d)
  scale folded into the query rows, so ``x @ Wqkv^T`` is one BLAS call;
* **attention block-wise** (:func:`self_attention`): for each sequence and head, a block of query
  rows at a time (at most :data:`SCORE_BLOCK_BYTES` of scores, which stay in the last-level
  cache) multiplies the keys, takes the row maximum, exponentiates, multiplies the values and
  divides by the row sums. The (tokens x tokens) score matrices never exist whole: 1568 VideoMAE
  tokens x 12 heads would be 118 MB; the blocks use 4 MB (smaller ones made the products thinner
  and slower: 1 MB cost 12 % more per layer). Short sequences (TimeSformer's 8-frame
  temporal attention, :data:`SHORT_SEQUENCE` tokens or fewer) run in one Numba kernel instead,
  where a BLAS call per 8 x 8 product would cost more than the product;
* **residuals accumulated by BLAS**: ``x += Wo · a`` and ``x += W2 · h`` are products with
  ``beta = 1`` into the token array itself (:func:`scratchvision.nn._blas.matmul`);
* **GELU as one pass with the bias**: the exact GELU ``x Phi(x) = x (1 + erf(x / sqrt 2)) / 2`` and
  its tanh approximation (HF's ``gelu_new`` / ``gelu_fast`` / ``gelu_pytorch_tanh``) use rational
  approximations of erf and tanh written for float32 (:mod:`scratchvision.imgproc.vecmath`), 3.3e-7
  from the true functions at most, so the loop vectorises (a call to libm's ``erf`` per value
  cost 8 ns, the whole forward's GELUs 0.5 s).

References
----------
Vaswani, A. et al. "Attention Is All You Need." NeurIPS 2017. doi:10.48550/arXiv.1706.03762
Dosovitskiy, A. et al. "An Image is Worth 16x16 Words." ICLR 2021. doi:10.48550/arXiv.2010.11929
Ba, J. L., Kiros, J. R. & Hinton, G. E. "Layer Normalization." 2016. doi:10.48550/arXiv.1607.06450
Hendrycks, D. & Gimpel, K. "Gaussian Error Linear Units (GELUs)." 2016. doi:10.48550/arXiv.1606.08415
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jit import kernel, warmup_hook
from ..imgproc.vecmath import vector_erf32, vector_exp32, vector_tanh32
from .._validate import DTypeError, as_array, check_choice, check_float, check_int, to_float32
from ._blas import matmul
from ._scratch import scratch
from ._tally import tally
from .modules import Linear, Module

__all__ = ["LayerNorm", "gelu", "layer_norm", "self_attention", "sinusoid_table", "BlockWeights", "block_forward",
           "ACTIVATIONS", "SCORE_BLOCK_BYTES", "SHORT_SEQUENCE"]

#: scores computed at once per head (bytes): a block of query rows that stays in the last-level cache
SCORE_BLOCK_BYTES = 4 << 20
#: sequences of at most this many tokens run their attention in one Numba kernel
SHORT_SEQUENCE = 32

#: HF's ``hidden_act`` names -> GELU variant ("none": exact erf form, "tanh": the tanh approximation)
ACTIVATIONS = {"gelu": "none", "gelu_python": "none", "gelu_new": "tanh", "gelu_fast": "tanh",
               "gelu_pytorch_tanh": "tanh"}

_F32 = np.float32
_HALF, _ONE = _F32(0.5), _F32(1.0)
_SQRT_HALF, _SQRT_2_OVER_PI, _GELU_CUBIC = _F32(0.7071067811865476), _F32(0.7978845608028654), _F32(0.044715)


@kernel(fastmath=True)
def _bias_gelu(x, bias, tanh_form):
    """x[i, j] = GELU(x[i, j] + bias[j]) in place (the exact form, or the tanh one)."""
    n, d = x.shape
    for i in range(n):
        row = x[i]
        if tanh_form:
            for j in range(d):
                v = row[j] + bias[j]
                row[j] = _HALF * v * (_ONE + vector_tanh32(_SQRT_2_OVER_PI * (v + _GELU_CUBIC * v * v * v)))
        else:
            for j in range(d):
                v = row[j] + bias[j]
                row[j] = _HALF * v * (_ONE + vector_erf32(v * _SQRT_HALF))


def gelu(x, approximate: str = "none") -> np.ndarray:
    """Gaussian error linear unit, as ``torch.nn.functional.gelu(x, approximate=...)``.

    Parameters
    ----------
    x : ndarray of float32
    approximate : {"none", "tanh"}
        "none": ``x (1 + erf(x / sqrt 2)) / 2``; "tanh": ``x (1 + tanh(sqrt(2/pi) (x + 0.044715
        x^3))) / 2``.

    Returns
    -------
    ndarray of float32
        A new array of the shape of ``x``.

    References
    ----------
    Hendrycks, D. & Gimpel, K. "Gaussian Error Linear Units (GELUs)." 2016.
    doi:10.48550/arXiv.1606.08415

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import gelu
    >>> np.round(gelu(np.array([-1.0, 0.0, 1.0], np.float32)), 4)
    array([-0.1587,  0.    ,  0.8413], dtype=float32)
    """
    a = as_array(x, "x")
    if a.dtype != np.float32:
        raise DTypeError(f"x must be float32, got {a.dtype}")
    approximate = check_choice(approximate, "approximate", ("none", "tanh"))
    out = np.array(a, order="C").reshape(1, -1)
    _bias_gelu(out, np.zeros(out.shape[1], np.float32), approximate == "tanh")
    return out.reshape(a.shape)


@kernel(fastmath=True)
def _layer_norm_rows(x, weight, bias, eps, out):
    """out[i] = (x[i] - mean) / sqrt(var + eps) * weight + bias, statistics in float64."""
    n, d = x.shape
    for i in range(n):
        total = 0.0
        for j in range(d):
            total += x[i, j]
        mean = total / d
        squares = 0.0
        for j in range(d):
            c = x[i, j] - mean
            squares += c * c
        rstd = 1.0 / np.sqrt(squares / d + eps)
        m32, r32 = np.float32(mean), np.float32(rstd)
        for j in range(d):
            out[i, j] = (x[i, j] - m32) * r32 * weight[j] + bias[j]


def layer_norm(x, weight, bias, eps: float = 1e-5, out=None) -> np.ndarray:
    """Layer normalisation over the last axis, as ``torch.nn.functional.layer_norm(x, (D,), weight,
    bias, eps)``: ``(x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance.

    Parameters
    ----------
    x : ndarray of float32 (..., D)
    weight, bias : ndarray of float32 (D,)
    eps : float
    out : ndarray of float32 (..., D), optional
        Written in place when given (C-contiguous, the shape of ``x``).

    Returns
    -------
    ndarray of float32 (..., D)

    References
    ----------
    Ba, J. L., Kiros, J. R. & Hinton, G. E. "Layer Normalization." 2016.
    doi:10.48550/arXiv.1607.06450

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import layer_norm
    >>> layer_norm(np.array([[1.0, 3.0]], np.float32), np.ones(2, np.float32), np.zeros(2, np.float32))
    array([[-0.999995,  0.999995]], dtype=float32)
    """
    a = as_array(x, "x")
    if a.dtype != np.float32:
        raise DTypeError(f"x must be float32, got {a.dtype}")
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"x must have a non-empty last axis, got shape {a.shape}")
    d = a.shape[-1]
    params = []
    for name, p in (("weight", weight), ("bias", bias)):
        p = as_array(p, name)
        if p.shape != (d,) or p.dtype.kind not in "fiu":
            raise ValueError(f"{name} must be a real vector of shape ({d},) to match x {a.shape}, "
                             f"got {p.dtype} {p.shape}")
        params.append(to_float32(p, name))
    eps = check_float(eps, "eps", low=0.0, low_open=True)
    if out is None:
        out = np.empty(a.shape, np.float32)
    elif out.shape != a.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float32 array of shape {a.shape}")
    if a.size:
        _layer_norm_rows(a.reshape(-1, d), params[0], params[1], eps, out.reshape(-1, d))
    return out


class LayerNorm(Module):
    """torch.nn.LayerNorm over the last axis: weight (D,), bias (D,), ``eps``.

    Parameters
    ----------
    normalized_shape : int
        D.
    eps : float
    """

    def __init__(self, normalized_shape, eps: float = 1e-5):
        super().__init__()
        d = check_int(normalized_shape[0] if isinstance(normalized_shape, (tuple, list)) else normalized_shape,
                      "normalized_shape", low=1)
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.register("weight", np.ones(d, np.float32))
        self.register("bias", np.zeros(d, np.float32))

    def forward(self, x, out=None):
        return layer_norm(x, self.weight, self.bias, self.eps, out)

    def extra_repr(self):
        return f"({len(self.weight)},), eps={self.eps}"


@kernel(fastmath=True)
def _attention_short(qkv, heads, head_dim, out):
    """Attention of every (sequence, head) of a batch of short sequences: qkv (S, L, 3 inner) with
    q pre-scaled, out (S, L, inner)."""
    n_seq, length, _ = qkv.shape
    inner = heads * head_dim
    scores = np.empty(length, np.float32)
    for s in range(n_seq):
        for h in range(heads):
            q0, k0, v0 = h * head_dim, inner + h * head_dim, 2 * inner + h * head_dim
            for i in range(length):
                best = -np.inf
                for j in range(length):
                    acc = np.float32(0.0)
                    for c in range(head_dim):
                        acc += qkv[s, i, q0 + c] * qkv[s, j, k0 + c]
                    scores[j] = acc
                    best = max(best, acc)
                total = np.float32(0.0)
                for j in range(length):
                    scores[j] = np.exp(scores[j] - best)
                    total += scores[j]
                for c in range(head_dim):
                    out[s, i, q0 + c] = 0.0
                for j in range(length):
                    w = scores[j] / total
                    for c in range(head_dim):
                        out[s, i, q0 + c] += w * qkv[s, j, v0 + c]


@kernel(fastmath=True)
def _exp_rows(block, tops, sums):
    """Each row of ``block`` replaced by ``exp(row - top)`` (``tops[i]`` its maximum) and its sum
    written to ``sums``: a softmax without its division."""
    for i in range(block.shape[0]):
        row, top = block[i], tops[i]
        total = np.float32(0.0)
        for j in range(block.shape[1]):
            e = vector_exp32(row[j] - top)
            row[j] = e
            total += e
        sums[i, 0] = total


def self_attention(qkv, n_seq: int, heads: int, out=None) -> np.ndarray:
    """Multi-head scaled dot-product self-attention from stacked projections.

    Parameters
    ----------
    qkv : ndarray of float32 (n_seq * L, 3 inner)
        Per token: the query (already multiplied by ``1 / sqrt(head_dim)``), key and value, each
        ``inner = heads * head_dim`` wide with the heads side by side (torch's ``(h d)`` order).
        Tokens of one sequence are consecutive rows.
    n_seq : int
        Number of sequences (batch x groups); each has ``L = rows / n_seq`` tokens.
    heads : int
    out : ndarray of float32 (n_seq * L, inner), optional

    Returns
    -------
    ndarray of float32 (n_seq * L, inner)
        ``softmax(q k^T) v`` per sequence and head, heads side by side.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import self_attention
    >>> qkv = np.random.default_rng(0).standard_normal((2 * 5, 3 * 4)).astype(np.float32)
    >>> self_attention(qkv, n_seq=2, heads=2).shape
    (10, 4)
    """
    qkv = as_array(qkv, "qkv")
    n_seq, heads = check_int(n_seq, "n_seq", low=1), check_int(heads, "heads", low=1)
    if qkv.dtype != np.float32 or qkv.ndim != 2 or qkv.shape[1] % (3 * heads) or qkv.shape[0] % n_seq:
        raise ValueError(f"qkv must be float32 (n_seq * L, 3 * heads * head_dim) with n_seq {n_seq} and heads "
                         f"{heads}, got {qkv.dtype} {qkv.shape}")
    inner, length = qkv.shape[1] // 3, qkv.shape[0] // n_seq
    head_dim = inner // heads
    if out is None:
        out = np.empty((qkv.shape[0], inner), np.float32)
    tally(2 * qkv.shape[0] * length * inner)  # scores q k^T and context p v
    if length <= SHORT_SEQUENCE:
        _attention_short(np.ascontiguousarray(qkv).reshape(n_seq, length, 3 * inner), heads, head_dim,
                         out.reshape(n_seq, length, inner))
        return out
    rows = max(1, min(length, SCORE_BLOCK_BYTES // (4 * length)))
    scores = scratch("attention_scores", (rows, length))
    sums, tops = scratch("attention_sums", (rows, 1)), scratch("attention_tops", (rows,))
    for s in range(n_seq):
        seq = qkv[s * length:(s + 1) * length]
        for h in range(heads):
            cols = slice(h * head_dim, (h + 1) * head_dim)
            keys_t = seq[:, inner + cols.start:inner + cols.stop].T
            values = seq[:, 2 * inner + cols.start:2 * inner + cols.stop]
            for r0 in range(0, length, rows):
                r1 = min(r0 + rows, length)
                block = scores[:r1 - r0]
                matmul(seq[r0:r1, cols], keys_t, block)
                np.max(block, axis=1, out=tops[:r1 - r0])  # NumPy's reduction is vectorised, Numba's max is not
                _exp_rows(block, tops, sums)
                target = out[s * length + r0:s * length + r1, cols]
                matmul(block, values, target)
                target /= sums[:r1 - r0]
    return out


def sinusoid_table(n_position: int, dim: int) -> np.ndarray:
    """The fixed sinusoidal position table of VideoMAE (Vaswani et al. 2017, as HF computes it):
    for position p and channel j the angle is ``p / 10000^(2 floor(j / 2) / dim)``; even channels
    take its sine, odd ones its cosine (interleaved), in float64, returned as float32 (n_position,
    dim).

    Parameters
    ----------
    n_position : int
    dim : int

    Returns
    -------
    ndarray (n_position, dim) float32

    References
    ----------
    A. Vaswani et al. "Attention Is All You Need." NeurIPS 2017. doi:10.48550/arXiv.1706.03762

    Examples
    --------
    >>> from scratchvision.nn import sinusoid_table
    >>> sinusoid_table(3, 4)[1].round(4)
    array([0.8415, 0.5403, 0.01  , 1.    ], dtype=float32)
    """
    n_position, dim = check_int(n_position, "n_position", low=0), check_int(dim, "dim", low=1)
    j = np.arange(dim)
    angles = np.arange(n_position, dtype=np.float64)[:, None] / np.power(10000.0, 2 * (j // 2) / dim)[None, :]
    table = np.where(j % 2 == 0, np.sin(angles), np.cos(angles))
    return table.astype(np.float32)


class BlockWeights(NamedTuple):
    """One pre-norm transformer block in the form :func:`block_forward` reads: the two layer
    norms, the stacked and pre-scaled q/k/v projection, the output projection (None where the
    model has none: vit-pytorch with one head as wide as the tokens) and the MLP."""

    norm1: LayerNorm
    qkv_weight: np.ndarray  # (3 inner, D), query rows scaled by 1/sqrt(head_dim)
    qkv_bias: np.ndarray  # (3 inner,)
    heads: int
    out: Linear | None
    norm2: LayerNorm
    fc1: Linear
    fc2: Linear
    approximate: str  # GELU: "none" or "tanh"


def stack_qkv(query: Linear, key: Linear, value: Linear, heads: int):
    """(weight, bias) of the three projections stacked, the query's scaled by 1/sqrt(head_dim)."""
    scale = np.float32((query.weight.shape[0] // heads) ** -0.5)
    bias = [p._params.get("bias", np.zeros(p.weight.shape[0], np.float32)) for p in (query, key, value)]
    weight = np.concatenate([query.weight * scale, key.weight, value.weight])
    return weight, np.concatenate([bias[0] * scale, bias[1], bias[2]])


def split_qkv(qkv: Linear, heads: int):
    """(weight, bias) of a stacked projection (TimeSformer's ``qkv``, vit-pytorch's ``to_qkv``) with
    the query rows scaled by 1/sqrt(head_dim)."""
    inner = qkv.weight.shape[0] // 3
    scale = np.ones(3 * inner, np.float32)
    scale[:inner] = np.float32((inner // heads) ** -0.5)
    bias = qkv._params.get("bias", np.zeros(3 * inner, np.float32))
    return qkv.weight * scale[:, None], bias * scale


def attention_branch(x, n_seq: int, block: BlockWeights, out, accumulate: bool = False) -> np.ndarray:
    """``out = Wo · Attention(LN1(x))`` (or ``out +=`` it with ``accumulate``): the attention branch
    of a block on tokens ``x`` (n_seq * L, D)."""
    h = block.norm1(x, scratch("block_norm", x.shape))
    qkv = scratch("block_qkv", (x.shape[0], block.qkv_weight.shape[0]))
    matmul(h, block.qkv_weight.T, qkv)
    tally(qkv.size * h.shape[1])
    qkv += block.qkv_bias
    ctx = self_attention(qkv, n_seq, block.heads, scratch("block_context", (x.shape[0], qkv.shape[1] // 3)))
    if block.out is not None:
        return block.out(ctx, out, accumulate)
    if accumulate:
        out += ctx
    else:
        out[...] = ctx
    return out


def mlp_residual(x, block: BlockWeights) -> np.ndarray:
    """``x += W2 · GELU(W1 · LN2(x) + b1) + b2`` in place, on tokens ``x`` (rows, D)."""
    h = block.norm2(x, scratch("block_norm", x.shape))
    hidden = scratch("block_hidden", (x.shape[0], block.fc1.weight.shape[0]))
    matmul(h, block.fc1.weight.T, hidden)
    tally(hidden.size * h.shape[1])
    _bias_gelu(hidden, block.fc1._params.get("bias", np.zeros(hidden.shape[1], np.float32)),
               block.approximate == "tanh")
    return block.fc2(hidden, x, accumulate=True)


def block_forward(x, n_seq: int, block: BlockWeights) -> np.ndarray:
    """One pre-norm block on tokens ``x`` (n_seq * L, D), C-contiguous float32, updated in place:
    ``x += Wo · Attention(LN1(x))``, then ``x += MLP(LN2(x))``."""
    attention_branch(x, n_seq, block, x, accumulate=True)
    return mlp_residual(x, block)


@warmup_hook
def _warmup():
    x = np.zeros((4, 6), np.float32)
    gelu(x), gelu(x, "tanh"), layer_norm(x, np.ones(6, np.float32), np.zeros(6, np.float32))
    self_attention(np.zeros((4, 6), np.float32), 2, 1)  # short sequences: one kernel
    self_attention(np.zeros((2 * (SHORT_SEQUENCE + 1), 6), np.float32), 2, 1)  # long ones: BLAS blocks


class Container(Module):
    """A module that only names its children (``Container(dense=Linear(...))`` holds the key
    ``dense.weight``): the nesting of a reference's state-dict keys without a class per level."""

    def __init__(self, **children):
        super().__init__()
        for name, child in children.items():
            setattr(self, name, child)

    def __getitem__(self, key):
        return self._modules[str(key)]

    def __iter__(self):
        return iter(self._modules.values())


def patchify(video, tubelet) -> np.ndarray:
    """Non-overlapping tubelets of a (B, T, C, H, W) video as rows (B * T' * H' * W', C * kt * kh *
    kw), tubelets in (t', h', w') order and values in (c, kt, kh, kw) order: a Conv3d with kernel
    = stride = ``tubelet`` is then one product with its weights reshaped to (D, C kt kh kw)."""
    b, t, c, h, w = video.shape
    kt, kh, kw = tubelet
    v = video.reshape(b, t // kt, kt, c, h // kh, kh, w // kw, kw).transpose(0, 1, 4, 6, 3, 2, 5, 7)
    return np.ascontiguousarray(v).reshape(-1, c * kt * kh * kw)


def embed_tubelets(video, projection, keep=None) -> np.ndarray:
    """Tokens (B * T' * H' * W', D) of a Conv3d/Conv2d ``projection`` whose kernel equals its stride,
    as one product (a Conv2d is a tubelet one frame long); with ``keep`` (bool, one per token), only
    the kept tokens, in order (VideoMAE's encoder embeds only the visible tenth)."""
    weight = projection.weight
    tubelet = weight.shape[2:] if weight.ndim == 5 else (1,) + weight.shape[2:]
    rows = patchify(video, tubelet)
    if keep is not None:
        rows = rows[keep]
    out = np.empty((rows.shape[0], weight.shape[0]), np.float32)
    matmul(rows, weight.reshape(weight.shape[0], -1).T, out)
    tally(out.size * rows.shape[1])
    out += projection.bias
    return out
