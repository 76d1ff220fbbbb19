"""TimeSformer (Bertasius et al. 2021): a ViT whose blocks attend over time and over space in turn
("divided space-time attention"), as Hugging Face's ``TimesformerForVideoClassification``.

Tokens: each frame is cut into 16 x 16 patches (a Conv2d with kernel = stride = 16, one product
for all frames), a spatial position embedding is added per patch and a time embedding per frame,
and the patch tokens are laid out **space-major, time-minor** (token p * T + t) after a single
class token.

A divided block does three residual steps:

1. **time**: each patch position's T tokens attend to each other (LayerNorm ``temporal_layernorm``,
   attention ``temporal_attention``, then the extra linear ``temporal_dense``); the class token
   stays out;
2. **space**: each frame's P tokens, with a copy of the class token in front, attend to each
   other (``layernorm_before``, ``attention``); the T class-token outputs are averaged;
3. **MLP** (``layernorm_after``, exact GELU).

Two cheaper-to-understand variants HF also runs: ``joint_space_time`` (one attention over all
1 + P T tokens, quadratic in both) and ``space_only`` (frames classified independently: HF then
returns one row of logits per frame, (B T, labels), which this module reproduces).

References
----------
Bertasius, G., Wang, H. & Torresani, L. "Is Space-Time Attention All You Need for Video
Understanding?" ICML 2021. doi:10.48550/arXiv.2102.05095
"""

from __future__ import annotations

import numpy as np

from .hub import model_config
from .modules import Conv2d, Linear, Module
from .transformer import (BlockWeights, Container, LayerNorm, attention_branch, block_forward, embed_tubelets,
                          mlp_residual, split_qkv)
from .videomae_model import ClassifierOutput, _activation, check_clip

__all__ = ["timesformer", "TimesformerForVideoClassification"]

ATTENTION_TYPES = ("divided_space_time", "joint_space_time", "space_only")


def _attention(width, qkv_bias):
    return Container(attention=Container(qkv=Linear(width, 3 * width, bias=qkv_bias)),
                     output=Container(dense=Linear(width, width)))


def _layer(c):
    d = c.hidden_size
    parts = dict(attention=_attention(d, c.qkv_bias), intermediate=Container(dense=Linear(d, c.intermediate_size)),
                 output=Container(dense=Linear(c.intermediate_size, d)),
                 layernorm_before=LayerNorm(d, c.layer_norm_eps),
                 layernorm_after=LayerNorm(d, c.layer_norm_eps))
    if c.attention_type == "divided_space_time":
        parts.update(temporal_layernorm=LayerNorm(d, c.layer_norm_eps), temporal_attention=_attention(d, c.qkv_bias),
                     temporal_dense=Linear(d, d))
    return Container(**parts)


def _blocks(layer, heads, act):
    """(space or joint block, time block or None) of one layer."""
    weight, bias = split_qkv(layer.attention.attention.qkv, heads)
    space = BlockWeights(layer.layernorm_before, weight, bias, heads, layer.attention.output.dense,
                         layer.layernorm_after, layer.intermediate.dense, layer.output.dense, act)
    if "temporal_attention" not in layer._modules:
        return space, None
    weight, bias = split_qkv(layer.temporal_attention.attention.qkv, heads)
    time = BlockWeights(layer.temporal_layernorm, weight, bias, heads, layer.temporal_attention.output.dense,
                        None, None, None, act)
    return space, time


class TimesformerForVideoClassification(Module):
    """HF ``TimesformerForVideoClassification`` (inference): see :func:`timesformer`.

    Parameters
    ----------
    config : SimpleNamespace or dict
        The Hugging Face config's fields (:func:`~scratchvision.nn.from_pretrained` reads them from
        ``config.json``).
    """

    def __init__(self, config):
        super().__init__()
        c = self.config = config
        if c.attention_type not in ATTENTION_TYPES:
            raise ValueError(f"config attention_type must be one of {ATTENTION_TYPES}, got {c.attention_type!r}")
        d = c.hidden_size
        side = c.image_size if np.isscalar(c.image_size) else c.image_size[0]
        self.patches = (side // c.patch_size) ** 2
        embeddings = Container(patch_embeddings=Container(projection=Conv2d(c.num_channels, d, c.patch_size,
                                                                             c.patch_size)))
        embeddings.register("cls_token", np.zeros((1, 1, d), np.float32))
        embeddings.register("position_embeddings", np.zeros((1, self.patches + 1, d), np.float32))
        if c.attention_type != "space_only":
            embeddings.register("time_embeddings", np.zeros((1, c.num_frames, d), np.float32))
        self.timesformer = Container(embeddings=embeddings,
                                     encoder=Container(layer=Container(**{str(i): _layer(c)
                                                                           for i in range(c.num_hidden_layers)})),
                                     layernorm=LayerNorm(d, c.layer_norm_eps))
        self.classifier = Linear(d, c.num_labels)
        self.blocks = None

    def prepare(self):
        super().prepare()
        self.blocks = None

    def forward(self, pixel_values) -> ClassifierOutput:
        """Logits of clips (B, T, C, H, W): (B, num_labels), or (B T, num_labels) for
        ``space_only`` (one row per frame, as HF)."""
        x = check_clip(pixel_values, self.config)
        c, e = self.config, self.timesformer.embeddings
        if self.blocks is None:
            act = _activation(c)
            self.blocks = [_blocks(layer, c.num_attention_heads, act) for layer in self.timesformer.encoder.layer]
        b, t, p, d = len(x), c.num_frames, self.patches, c.hidden_size
        patches = embed_tubelets(x, e.patch_embeddings.projection).reshape(b, t, p, d)
        patches += e.position_embeddings[0, 1:]
        cls = e.cls_token[0] + e.position_embeddings[0, :1]  # (1, D)
        if c.attention_type == "space_only":
            tokens = np.concatenate([np.broadcast_to(cls, (b * t, 1, d)), patches.reshape(b * t, p, d)], axis=1)
            flat = tokens.reshape(-1, d)
            for space, _ in self.blocks:
                block_forward(flat, b * t, space)
            first = self.timesformer.layernorm(np.ascontiguousarray(tokens[:, 0]))
            return ClassifierOutput(self.classifier(first))
        patches = np.ascontiguousarray(patches.transpose(0, 2, 1, 3))  # (B, P, T, D): token p * T + t
        patches += e.time_embeddings[0]
        if c.attention_type == "joint_space_time":
            tokens = np.concatenate([np.broadcast_to(cls, (b, 1, d)), patches.reshape(b, p * t, d)], axis=1)
            flat = tokens.reshape(-1, d)
            for space, _ in self.blocks:
                block_forward(flat, b, space)
            first = self.timesformer.layernorm(np.ascontiguousarray(tokens[:, 0]))
            return ClassifierOutput(self.classifier(first))
        cls = np.repeat(cls, b, axis=0)  # (B, D)
        patches = patches.reshape(b * p * t, d)
        for (space, time), layer in zip(self.blocks, self.timesformer.encoder.layer):
            # 1. time: sequences of T tokens per patch position, then temporal_dense, added
            residual = attention_branch(patches, b * p, time, np.empty_like(patches))
            layer.temporal_dense(residual, patches, accumulate=True)
            # 2. space: per frame, [class token copy; its P tokens]; frame class outputs averaged
            frames = np.empty((b, t, 1 + p, d), np.float32)
            frames[:, :, 0] = cls[:, None]
            frames[:, :, 1:] = patches.reshape(b, p, t, d).transpose(0, 2, 1, 3)
            out = attention_branch(frames.reshape(-1, d), b * t, space, np.empty((b * t * (1 + p), d), np.float32))
            out = out.reshape(b, t, 1 + p, d)
            cls += out[:, :, 0].mean(axis=1)
            patches += out[:, :, 1:].transpose(0, 2, 1, 3).reshape(b * p * t, d)
            # 3. MLP on every token (row-wise, so the class tokens and patches can go apart)
            mlp_residual(patches, space)
            mlp_residual(cls, space)
        return ClassifierOutput(self.classifier(self.timesformer.layernorm(cls)))


def timesformer(config=None, **overrides) -> TimesformerForVideoClassification:
    """TimeSformer video classifier, equal to HF ``TimesformerForVideoClassification`` for the same
    weights (keys as there: ``timesformer.embeddings.cls_token``,
    ``timesformer.encoder.layer.N.temporal_attention.attention.qkv.weight``, ``classifier`` ...).

    Parameters
    ----------
    config : dict, optional
        A parsed ``config.json`` (HF's ``TimesformerConfig`` fields; ``attention_type`` one of
        ``divided_space_time`` (default), ``joint_space_time``, ``space_only``); HF's defaults
        otherwise (ViT-B, 8 frames of 224 x 224).
    **overrides
        Fields set over ``config``.

    Returns
    -------
    TimesformerForVideoClassification
        ``model(pixel_values).logits`` for clips (B, T, C, H, W) float32.

    References
    ----------
    Bertasius, G., Wang, H. & Torresani, L. "Is Space-Time Attention All You Need for Video
    Understanding?" ICML 2021. doi:10.48550/arXiv.2102.05095

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import timesformer
    >>> model = timesformer(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
    ...                     image_size=32, num_frames=4, num_labels=3)
    >>> model(np.zeros((2, 4, 3, 32, 32), np.float32)).logits.shape
    (2, 3)
    """
    return TimesformerForVideoClassification(model_config("timesformer", config, **overrides))
