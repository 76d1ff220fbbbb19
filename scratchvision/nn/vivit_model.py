"""ViViT (Arnab et al. 2021), two of the paper's models:

* **Model 1, joint space-time attention** (:func:`vivit`), as Hugging Face's
  ``VivitForVideoClassification``: tubelets of 2 x 16 x 16 (a Conv3d, one product here), a class
  token and a learned position embedding over all 1 + T'H'W' tokens (3137 for 32 frames of 224 x
  224), pre-norm blocks with the tanh GELU (``gelu_fast``), a final LayerNorm, the class token
  classified. Every token attends to every other: the cost grows with (T'H'W')^2.
* **Model 2, factorised encoder** (:func:`vivit_factorised`), as vit-pytorch's
  ``ViViT(variant="factorized_encoder")`` (PyPI vit-pytorch 1.26, the PyTorch implementation
  people use; the paper's own code is JAX, google-research/scenic): a **spatial** transformer runs
  on each temporal slot's tokens separately (with its own class token), then a **temporal**
  transformer runs over the slots' class outputs (with another class token) - attention cost
  (H'W')^2 T' + T'^2 instead of (T'H'W')^2. Where vit-pytorch departs from the paper, this
  follows vit-pytorch: the tubelet embedding is LayerNorm, Linear, LayerNorm over the
  (frame, row, column, channel)-ordered tubelet pixels; the position embedding (1, T', H'W', dim)
  is added to the patches only (the class tokens get none, the temporal transformer has none);
  the attention's q/k/v projection has no bias; LayerNorm eps is torch's 1e-5 and GELU exact;
  the head is one Linear.

References
----------
Arnab, A. et al. "ViViT: A Video Vision Transformer." ICCV 2021. doi:10.1109/ICCV48922.2021.00676
"""

from __future__ import annotations

import numpy as np

from .._validate import DTypeError, as_array, check_choice, check_int
from .hub import model_config
from .modules import Conv3d, Linear, Module
from .transformer import (BlockWeights, Container, LayerNorm, block_forward, embed_tubelets, split_qkv,
                          stack_qkv)
from .videomae_model import ClassifierOutput, _activation, check_clip

__all__ = ["vivit", "vivit_factorised", "VivitForVideoClassification", "ViViTFactorised"]


def _layer(c):
    d, inner = c.hidden_size, c.num_attention_heads * getattr(c, "head_dim", c.hidden_size // c.num_attention_heads)
    attention = Container(q_proj=Linear(d, inner, bias=c.qkv_bias), k_proj=Linear(d, inner, bias=c.qkv_bias),
                          v_proj=Linear(d, inner, bias=c.qkv_bias), o_proj=Linear(inner, d))
    return Container(attention=attention, layernorm_before=LayerNorm(d, c.layer_norm_eps),
                     layernorm_after=LayerNorm(d, c.layer_norm_eps),
                     mlp=Container(fc1=Linear(d, c.intermediate_size), fc2=Linear(c.intermediate_size, d)))


class VivitForVideoClassification(Module):
    """HF ``VivitForVideoClassification`` (inference): see :func:`vivit`.

    Parameters
    ----------
    config : SimpleNamespace or dict
        The Hugging Face config's fields (:func:`~scratchvision.nn.from_pretrained` reads them from
        ``config.json``).
    """

    def __init__(self, config):
        super().__init__()
        c = self.config = config
        kt, kh, kw = (check_int(v, "config tubelet_size", low=1) for v in c.tubelet_size)
        h, w = (c.image_size,) * 2 if np.isscalar(c.image_size) else tuple(c.image_size)
        n = (c.num_frames // kt) * (h // kh) * (w // kw)
        embeddings = Container(patch_embeddings=Container(projection=Conv3d(c.num_channels, c.hidden_size, (kt, kh, kw),
                                                                             (kt, kh, kw))))
        embeddings.register("cls_token", np.zeros((1, 1, c.hidden_size), np.float32))
        embeddings.register("position_embeddings", np.zeros((1, n + 1, c.hidden_size), np.float32))
        self.vivit = Container(embeddings=embeddings, layers=Container(**{str(i): _layer(c)
                                                                          for i in range(c.num_hidden_layers)}),
                               layernorm=LayerNorm(c.hidden_size, c.layer_norm_eps))
        self.classifier = Linear(c.hidden_size, c.num_labels)
        self.blocks = None

    def prepare(self):
        super().prepare()
        self.blocks = None

    def forward(self, pixel_values) -> ClassifierOutput:
        """Logits (B, num_labels) of clips (B, T, C, H, W) float32 of the configured size."""
        x = check_clip(pixel_values, self.config)
        c, e = self.config, self.vivit.embeddings
        if self.blocks is None:
            act, heads = _activation(c), c.num_attention_heads
            self.blocks = [BlockWeights(m.layernorm_before, *stack_qkv(m.attention.q_proj, m.attention.k_proj,
                                                                        m.attention.v_proj, heads),
                                        heads, m.attention.o_proj, m.layernorm_after, m.mlp.fc1, m.mlp.fc2, act)
                           for m in self.vivit.layers]
        b, d = len(x), c.hidden_size
        patches = embed_tubelets(x, e.patch_embeddings.projection).reshape(b, -1, d)
        tokens = np.concatenate([np.broadcast_to(e.cls_token, (b, 1, d)), patches], axis=1)
        tokens += e.position_embeddings
        flat = tokens.reshape(-1, d)
        for block in self.blocks:
            block_forward(flat, b, block)
        first = self.vivit.layernorm(np.ascontiguousarray(tokens[:, 0]))
        return ClassifierOutput(self.classifier(first))


def vivit(config=None, **overrides) -> VivitForVideoClassification:
    """ViViT Model 1 (joint space-time attention), equal to HF ``VivitForVideoClassification`` for
    the same weights (keys as transformers 5 names them: ``vivit.embeddings.cls_token``,
    ``vivit.layers.N.attention.q_proj.weight``, ``vivit.layers.N.mlp.fc1.weight``, ``classifier``;
    :func:`~scratchvision.nn.from_pretrained` also reads the hub's older ``encoder.layer.N...``
    names).

    Parameters
    ----------
    config : dict, optional
        A parsed ``config.json`` (HF's ``VivitConfig`` fields); HF's defaults otherwise (ViT-B,
        32 frames of 224 x 224, tubelets (2, 16, 16), ``gelu_fast``).
    **overrides
        Fields set over ``config``.

    Returns
    -------
    VivitForVideoClassification
        ``model(pixel_values).logits`` for clips (B, T, C, H, W) float32.

    References
    ----------
    Arnab, A. et al. "ViViT: A Video Vision Transformer." ICCV 2021. doi:10.1109/ICCV48922.2021.00676

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import vivit
    >>> model = vivit(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
    ...               image_size=32, num_frames=4, num_labels=3)
    >>> model(np.zeros((1, 4, 3, 32, 32), np.float32)).logits.shape
    (1, 3)
    """
    return VivitForVideoClassification(model_config("vivit", config, **overrides))


def _transformer(dim, depth, heads, dim_head, mlp_dim):
    """vit-pytorch's ``Transformer``: ``layers.N.0`` attention (its own ``norm``, ``to_qkv`` without
    bias, ``to_out.0``), ``layers.N.1.net`` feed-forward (LayerNorm, Linear, GELU, Linear), ``norm``."""
    inner = heads * dim_head
    layers = {}
    for i in range(depth):
        attention = Container(norm=LayerNorm(dim), to_qkv=Linear(dim, 3 * inner, bias=False))
        if not (heads == 1 and dim_head == dim):
            attention.to_out = Container(**{"0": Linear(inner, dim)})
        feed_forward = Container(net=Container(**{"0": LayerNorm(dim), "1": Linear(dim, mlp_dim),
                                                  "4": Linear(mlp_dim, dim)}))
        layers[str(i)] = Container(**{"0": attention, "1": feed_forward})
    return Container(norm=LayerNorm(dim), layers=Container(**layers))


def _transformer_blocks(transformer, heads):
    blocks = []
    for layer in transformer.layers:
        attention, net = layer[0], layer[1].net
        out = attention.to_out[0] if "to_out" in attention._modules else None
        blocks.append(BlockWeights(attention.norm, *split_qkv(attention.to_qkv, heads), heads, out, net[0], net[1],
                                   net[4], "none"))
    return blocks


class ViViTFactorised(Module):
    """vit-pytorch ``ViViT(variant="factorized_encoder")`` (inference): see :func:`vivit_factorised`.

    Parameters
    ----------
    image_size, image_patch_size : int or (int, int)
    frames, frame_patch_size : int
    num_classes, dim : int
    spatial_depth, temporal_depth : int
    heads, dim_head, mlp_dim : int
    pool : {"cls", "mean"}
    channels : int
    """

    def __init__(self, *, image_size, image_patch_size, frames, frame_patch_size, num_classes, dim, spatial_depth,
                 temporal_depth, heads, mlp_dim, pool="cls", channels=3, dim_head=64):
        super().__init__()
        (h, w), (ph, pw) = (tuple(v) if isinstance(v, (tuple, list)) else (v, v)
                            for v in (image_size, image_patch_size))
        ints = dict(height=h, width=w, patch_height=ph, patch_width=pw, frames=frames,
                    frame_patch_size=frame_patch_size,
                    num_classes=num_classes, dim=dim, spatial_depth=spatial_depth, temporal_depth=temporal_depth,
                    heads=heads, mlp_dim=mlp_dim, channels=channels, dim_head=dim_head)
        for name, value in ints.items():
            check_int(value, name, low=1)
        if h % ph or w % pw or frames % frame_patch_size:
            raise ValueError(f"image_size {image_size} must be divisible by image_patch_size {image_patch_size} and "
                             f"frames {frames} by frame_patch_size {frame_patch_size}")
        self.pool = check_choice(pool, "pool", ("cls", "mean"))
        self.shape = (channels, frames, h, w)
        self.patch = (frame_patch_size, ph, pw)
        self.heads = heads
        slots, n = frames // frame_patch_size, (h // ph) * (w // pw)
        patch_dim = channels * ph * pw * frame_patch_size
        self.to_patch_embedding = Container(**{"1": LayerNorm(patch_dim), "2": Linear(patch_dim, dim),
                                               "3": LayerNorm(dim)})
        self.register("pos_embedding", np.zeros((1, slots, n, dim), np.float32))
        if pool == "cls":
            self.register("spatial_cls_token", np.zeros((1, 1, dim), np.float32))
            self.register("temporal_cls_token", np.zeros((1, 1, dim), np.float32))
        self.spatial_transformer = _transformer(dim, spatial_depth, heads, dim_head, mlp_dim)
        self.temporal_transformer = _transformer(dim, temporal_depth, heads, dim_head, mlp_dim)
        self.mlp_head = Linear(dim, num_classes)
        self.blocks = None

    def prepare(self):
        super().prepare()
        self.blocks = None

    def _encode(self, tokens, blocks, norm):
        """A vit-pytorch Transformer on (S, L, dim) tokens (a copy is updated): the blocks, then its
        final LayerNorm."""
        s, length, d = tokens.shape
        flat = np.array(tokens, np.float32, order="C").reshape(s * length, d)
        for block in blocks:
            block_forward(flat, s, block)
        return norm(flat).reshape(s, length, d)

    def _summary(self, tokens):
        """The class token's output, or the mean over tokens (``pool="mean"``)."""
        return tokens[:, 0] if self.pool == "cls" else tokens.mean(axis=1)

    def forward(self, video) -> np.ndarray:
        """Logits (B, num_classes) of videos (B, C, F, H, W) float32 (vit-pytorch's layout)."""
        x = as_array(video, "video")
        if x.dtype != np.float32:
            raise DTypeError(f"video must be float32, got {x.dtype}")
        if x.ndim != 5 or x.shape[1:] != self.shape:
            raise ValueError(f"video must have shape (B, C, F, H, W) with (C, F, H, W) = {self.shape}, got {x.shape}")
        if self.blocks is None:
            self.blocks = (_transformer_blocks(self.spatial_transformer, self.heads),
                           _transformer_blocks(self.temporal_transformer, self.heads))
        b, c, f, h, w = x.shape
        pf, ph, pw = self.patch
        slots, n = f // pf, (h // ph) * (w // pw)
        rows = x.reshape(b, c, slots, pf, h // ph, ph, w // pw, pw).transpose(0, 2, 4, 6, 3, 5, 7, 1)
        rows = np.ascontiguousarray(rows).reshape(b * slots * n, -1)
        e = self.to_patch_embedding
        tokens = e[3](e[2](e[1](rows))).reshape(b, slots, n, -1)
        tokens += self.pos_embedding[0]
        dim = tokens.shape[-1]
        spatial_blocks, temporal_blocks = self.blocks
        if self.pool == "cls":
            cls = np.broadcast_to(self.spatial_cls_token, (b * slots, 1, dim))
            tokens = np.concatenate([cls, tokens.reshape(b * slots, n, dim)], axis=1)
        spatial = self._encode(tokens.reshape(b * slots, -1, dim), spatial_blocks, self.spatial_transformer.norm)
        frames = self._summary(spatial).reshape(b, slots, dim)
        if self.pool == "cls":
            frames = np.concatenate([np.broadcast_to(self.temporal_cls_token, (b, 1, dim)), frames], axis=1)
        temporal = self._encode(frames, temporal_blocks, self.temporal_transformer.norm)
        return self.mlp_head(self._summary(temporal))


def vivit_factorised(*, image_size, image_patch_size, frames, frame_patch_size, num_classes, dim, spatial_depth,
                     temporal_depth, heads, mlp_dim, pool="cls", channels=3, dim_head=64) -> ViViTFactorised:
    """ViViT Model 2 (factorised encoder), equal to vit-pytorch 1.26's
    ``ViViT(variant="factorized_encoder")`` given the same weights, with its constructor arguments,
    state-dict keys (``to_patch_embedding.1/2/3``, ``pos_embedding``, ``spatial_cls_token``,
    ``temporal_cls_token``, ``spatial_transformer.layers.N.0.to_qkv.weight``,
    ``...layers.N.1.net.1.weight``, ``mlp_head``) and input layout (B, C, F, H, W).

    Parameters
    ----------
    image_size, image_patch_size : int or (int, int)
    frames, frame_patch_size : int
        Frames per clip and per tubelet.
    num_classes, dim : int
    spatial_depth, temporal_depth : int
        Blocks of the spatial and of the temporal transformer.
    heads, dim_head, mlp_dim : int
    pool : {"cls", "mean"}
        Summarise each transformer's output by its class token or by the mean of its tokens.
    channels : int

    Returns
    -------
    ViViTFactorised
        ``model(video)`` -> logits (B, num_classes).

    References
    ----------
    Arnab, A. et al. "ViViT: A Video Vision Transformer." ICCV 2021. doi:10.1109/ICCV48922.2021.00676

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import vivit_factorised
    >>> model = vivit_factorised(image_size=32, image_patch_size=16, frames=4, frame_patch_size=2, num_classes=3,
    ...                          dim=32, spatial_depth=1, temporal_depth=1, heads=2, mlp_dim=64, dim_head=16)
    >>> model(np.zeros((1, 3, 4, 32, 32), np.float32)).shape
    (1, 3)
    """
    return ViViTFactorised(image_size=image_size, image_patch_size=image_patch_size, frames=frames,
                           frame_patch_size=frame_patch_size, num_classes=num_classes, dim=dim,
                           spatial_depth=spatial_depth, temporal_depth=temporal_depth, heads=heads, mlp_dim=mlp_dim,
                           pool=pool, channels=channels, dim_head=dim_head)
