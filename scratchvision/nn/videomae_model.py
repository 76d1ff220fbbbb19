"""VideoMAE (Tong et al. 2022): a plain ViT over space-time tubelets, pre-trained by reconstructing
the pixels of 90 % of them from the other 10 %, as Hugging Face's ``VideoMAEForVideoClassification``
and ``VideoMAEForPreTraining``, with the tube masking that makes the pre-training work.

The encoder:

1. **tubelet embedding**: a Conv3d with kernel = stride = (2, 16, 16) turns a (16, 3, 224, 224)
   clip into 8 x 14 x 14 = 1568 tokens of 768 channels, ordered (t', h', w') - one product here
   (:func:`~scratchvision.nn.transformer.embed_tubelets`);
2. **fixed sinusoidal positions** over the flattened token index (not a 3-D factorisation;
   :func:`~scratchvision.nn.transformer.sinusoid_table`), not a parameter;
3. 12 pre-norm blocks (:func:`~scratchvision.nn.transformer.block_forward`) whose attention has
   query and value biases but no key bias, layer-norm eps ``layer_norm_eps`` (HF's 1e-12);
4. the classifier: the mean over tokens, ``fc_norm`` (a LayerNorm with eps 1e-5) and a linear
   layer (``use_mean_pooling``, the fine-tuned checkpoints), or a final LayerNorm and the first
   token (the pre-trained-only ones).

**Tube masking** (:func:`tube_mask`): the same random 90 % of the 14 x 14 positions is hidden in
every temporal slot, so a hidden patch cannot be copied from the same place in the next frame -
video is so redundant in time that per-token random masking (:func:`random_mask`, image MAE's)
leaves the task trivially solvable. The pre-training model runs the encoder on the visible 10 %
only (160 of 1568 tokens: the reason pre-training is cheap), maps them to the decoder's width,
appends a learned mask token (plus its position) for every hidden tubelet, runs 4 narrower
blocks, and predicts the 2 x 16 x 16 x 3 = 1536 pixel values of each hidden tubelet (per-patch
normalised when ``norm_pix_loss``).

References
----------
Tong, Z., Song, Y., Wang, J. & Wang, L. "VideoMAE: Masked Autoencoders are Data-Efficient Learners
for Self-Supervised Video Pre-Training." NeurIPS 2022. doi:10.48550/arXiv.2203.12602
He, K. et al. "Masked Autoencoders Are Scalable Vision Learners." CVPR 2022.
doi:10.1109/CVPR52688.2022.01553
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import DTypeError, as_array, check_float, check_int
from .hub import model_config
from .modules import Conv3d, Linear, Module
from .transformer import (ACTIVATIONS, BlockWeights, Container, LayerNorm, block_forward, embed_tubelets,
                          sinusoid_table, stack_qkv)

__all__ = ["videomae", "videomae_pretraining", "VideoMAEForVideoClassification", "VideoMAEForPreTraining",
           "tube_mask", "random_mask", "ClassifierOutput", "PreTrainingOutput", "video_patches",
           "videomae_reconstruction"]


class ClassifierOutput(NamedTuple):
    """A classifier's result, read like HF's ``ImageClassifierOutput``: ``out.logits`` or ``out[0]``."""

    logits: np.ndarray


class PreTrainingOutput(NamedTuple):
    """VideoMAE pre-training's result: ``logits`` (B, n_masked, tubelet pixels) in the order of the
    masked tokens, as HF's ``VideoMAEForPreTrainingOutput.logits``."""

    logits: np.ndarray


def _grid(num_frames, image_size, patch_size, tubelet_size):
    """(T', H', W') of a clip: temporal slots and patch rows and columns."""
    num_frames = check_int(num_frames, "num_frames", low=1)
    h, w = (image_size, image_size) if np.isscalar(image_size) else tuple(image_size)
    h, w = check_int(h, "image_size", low=1), check_int(w, "image_size", low=1)
    patch_size, tubelet_size = check_int(patch_size, "patch_size", low=1), check_int(tubelet_size, "tubelet_size",
                                                                                     low=1)
    if num_frames % tubelet_size or h % patch_size or w % patch_size:
        raise ValueError(f"num_frames {num_frames} must be a multiple of tubelet_size {tubelet_size} and image_size "
                         f"{(h, w)} of patch_size {patch_size}")
    return num_frames // tubelet_size, h // patch_size, w // patch_size


def _rng(rng):
    return rng if isinstance(rng, (np.random.Generator, np.random.RandomState)) else np.random.default_rng(rng)


def tube_mask(num_frames: int, image_size, patch_size: int = 16, tubelet_size: int = 2, mask_ratio: float = 0.9,
              rng=None, *, flat: bool = False) -> np.ndarray:
    """VideoMAE's tube mask: the same random ``floor(mask_ratio * H'W')`` patch positions hidden in
    every temporal slot.

    It draws as VideoMAE's ``TubeMaskingGenerator`` does: a vector of ``H'W'`` flags, the last
    ``floor(mask_ratio * H'W')`` of them set, shuffled once by ``rng.shuffle`` and repeated for
    each of the ``T'`` slots; the same ``RandomState`` state gives the same mask.

    Parameters
    ----------
    num_frames : int
        Frames of the clip (T = T' * tubelet_size).
    image_size : int or (int, int)
    patch_size, tubelet_size : int
    mask_ratio : float in [0, 1]
    rng : None, int, numpy.random.Generator or numpy.random.RandomState
    flat : bool
        Return the flattened (T' H' W',) mask in token order, HF's ``bool_masked_pos`` for one clip.

    Returns
    -------
    ndarray of bool (T', H' W') or (T' H' W',)
        True = masked (hidden from the encoder).

    References
    ----------
    Tong, Z. et al. "VideoMAE." NeurIPS 2022. doi:10.48550/arXiv.2203.12602

    Examples
    --------
    >>> from scratchvision.nn import tube_mask
    >>> m = tube_mask(16, 224, rng=0)
    >>> m.shape, int(m.sum(axis=1)[0]), bool((m == m[0]).all())
    ((8, 196), 176, True)
    """
    slots, rows, cols = _grid(num_frames, image_size, patch_size, tubelet_size)
    mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0)
    n = rows * cols
    hidden = int(mask_ratio * n)
    per_frame = np.concatenate([np.zeros(n - hidden, bool), np.ones(hidden, bool)])
    _rng(rng).shuffle(per_frame)
    mask = np.tile(per_frame, (slots, 1))
    return mask.reshape(-1) if flat else mask


def random_mask(num_frames: int, image_size, patch_size: int = 16, tubelet_size: int = 2, mask_ratio: float = 0.9,
                rng=None, *, flat: bool = False) -> np.ndarray:
    """Per-token random masking (image MAE's, VideoMAE's ``RandomMaskingGenerator``) for comparison
    with :func:`tube_mask`: ``floor(mask_ratio * T'H'W')`` tokens hidden anywhere, so a hidden patch
    is usually visible in a neighbouring slot.

    The parameters and the result are :func:`tube_mask`'s.

    Parameters
    ----------
    num_frames : int
    image_size : int or (int, int)
    patch_size, tubelet_size : int
    mask_ratio : float in [0, 1)
    rng : int or numpy.random.Generator, optional
    flat : bool
        One row of T'H'W' tokens instead of (T', H'W').

    Returns
    -------
    ndarray of bool
        True where a token is hidden.

    Examples
    --------
    >>> from scratchvision.nn import random_mask
    >>> int(random_mask(16, 224, rng=0).sum())
    1411
    """
    slots, rows, cols = _grid(num_frames, image_size, patch_size, tubelet_size)
    mask_ratio = check_float(mask_ratio, "mask_ratio", low=0.0, high=1.0)
    n = slots * rows * cols
    hidden = int(mask_ratio * n)
    mask = np.concatenate([np.zeros(n - hidden, bool), np.ones(hidden, bool)])
    _rng(rng).shuffle(mask)
    return mask if flat else mask.reshape(slots, rows * cols)


def video_patches(pixel_values, patch_size: int, tubelet_size: int) -> np.ndarray:
    """The pixels of each tubelet of (B, T, C, H, W) clips as rows (B, T'H'W', kt * p * p * C), in
    VideoMAE's target order (time in the tubelet, row, column, channel): what the pre-training
    model's logits predict for the masked rows (before per-patch normalisation).

    Parameters
    ----------
    pixel_values : ndarray (B, T, C, H, W) float32
    patch_size, tubelet_size : int

    Returns
    -------
    ndarray (B, T'H'W', tubelet_size patch_size^2 C) float32

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import video_patches
    >>> video_patches(np.zeros((1, 4, 3, 32, 32), np.float32), 16, 2).shape
    (1, 8, 1536)
    """
    pixel_values = as_array(pixel_values, "pixel_values")
    patch_size, tubelet_size = check_int(patch_size, "patch_size", low=1), check_int(tubelet_size, "tubelet_size",
                                                                                     low=1)
    if pixel_values.ndim != 5 or pixel_values.dtype.kind not in "fiu":
        raise ValueError(f"pixel_values must be real (B, T, C, H, W), got {pixel_values.dtype} {pixel_values.shape}")
    b, t, c, h, w = pixel_values.shape
    if t % tubelet_size or h % patch_size or w % patch_size:
        raise ValueError(f"pixel_values (T, H, W) = {(t, h, w)} must be multiples of tubelet_size {tubelet_size} and "
                         f"patch_size {patch_size}")
    v = pixel_values.reshape(b, t // tubelet_size, tubelet_size, c, h // patch_size, patch_size, w // patch_size,
                             patch_size).transpose(0, 1, 4, 6, 2, 5, 7, 3)
    return np.ascontiguousarray(v).reshape(b, -1, tubelet_size * patch_size * patch_size * c)


def _layer(width, heads, intermediate, eps, qv_bias):
    """One HF VideoMAELayer's parameters under their names."""
    attention = Container(query=Linear(width, width, bias=qv_bias), key=Linear(width, width, bias=False),
                          value=Linear(width, width, bias=qv_bias))
    return Container(attention=Container(attention=attention, output=Container(dense=Linear(width, width))),
                     intermediate=Container(dense=Linear(width, intermediate)),
                     output=Container(dense=Linear(intermediate, width)),
                     layernorm_before=LayerNorm(width, eps), layernorm_after=LayerNorm(width, eps))


def _block(layer, heads, act) -> BlockWeights:
    a = layer.attention.attention
    weight, bias = stack_qkv(a.query, a.key, a.value, heads)
    return BlockWeights(layer.layernorm_before, weight, bias, heads, layer.attention.output.dense,
                        layer.layernorm_after, layer.intermediate.dense, layer.output.dense, act)


def _activation(config):
    if config.hidden_act not in ACTIVATIONS:
        raise ValueError(f"config hidden_act {config.hidden_act!r} is not one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[config.hidden_act]


def check_clip(pixel_values, config, name="pixel_values") -> np.ndarray:
    """``pixel_values`` as float32 (B, T, C, H, W) with T, C, H, W those of ``config``."""
    x = as_array(pixel_values, name)
    if x.ndim == 4:
        x = x[None]
    if x.ndim != 5:
        raise ValueError(f"{name} must have shape (B, T, C, H, W), got {x.shape}")
    if x.dtype != np.float32:
        raise DTypeError(f"{name} must be float32, got {x.dtype}")
    h, w = (config.image_size,) * 2 if np.isscalar(config.image_size) else tuple(config.image_size)
    expected = (config.num_frames, config.num_channels, h, w)
    if x.shape[1:] != expected:
        raise ValueError(f"{name} must have (T, C, H, W) = {expected} for this model's position table, got "
                         f"{x.shape[1:]}")
    return x


class _Encoder(Module):
    """HF VideoMAEModel: tubelet embedding, fixed positions, blocks, optional final LayerNorm."""

    def __init__(self, config):
        super().__init__()
        c = config
        self.config = c
        self.grid = _grid(c.num_frames, c.image_size, c.patch_size, c.tubelet_size)
        projection = Conv3d(c.num_channels, c.hidden_size, (c.tubelet_size, c.patch_size, c.patch_size),
                            (c.tubelet_size, c.patch_size, c.patch_size))
        self.embeddings = Container(patch_embeddings=Container(projection=projection))
        self.encoder = Container(layer=Container(**{str(i): _layer(c.hidden_size, c.num_attention_heads,
                                                                   c.intermediate_size, c.layer_norm_eps, c.qv_bias)
                                                    for i in range(c.num_hidden_layers)}))
        if not c.use_mean_pooling:
            self.layernorm = LayerNorm(c.hidden_size, c.layer_norm_eps)
        self.position_table = sinusoid_table(int(np.prod(self.grid)), c.hidden_size)
        self.blocks = None

    def prepare(self):
        super().prepare()
        self.blocks = None

    def forward(self, x, bool_masked_pos=None):
        """Tokens (B, N_visible, D) of clips (B, T, C, H, W)."""
        if self.blocks is None:
            act = _activation(self.config)
            self.blocks = [_block(layer, self.config.num_attention_heads, act) for layer in self.encoder.layer]
        b, projection = x.shape[0], self.embeddings.patch_embeddings.projection
        if bool_masked_pos is None:
            tokens = embed_tubelets(x, projection).reshape(b, -1, self.config.hidden_size)
            tokens += self.position_table
        else:  # only the visible tubelets: the same tokens as embedding all of them and selecting
            visible = ~bool_masked_pos
            tokens = embed_tubelets(x, projection, visible.reshape(-1)).reshape(b, -1, self.config.hidden_size)
            tokens += self.position_table[np.nonzero(visible)[1]].reshape(tokens.shape)
        n = tokens.shape[1]
        flat = tokens.reshape(b * n, -1)
        for block in self.blocks:
            block_forward(flat, b, block)
        if "layernorm" in self._modules:
            flat = self.layernorm(flat)
        return flat.reshape(b, n, -1)


def _masks(bool_masked_pos, batch, n_tokens):
    """HF's ``bool_masked_pos`` as (B, N) bool, every row masking the same count."""
    m = as_array(bool_masked_pos, "bool_masked_pos")
    if m.dtype != bool:
        raise DTypeError(f"bool_masked_pos must be boolean, got {m.dtype}")
    if m.size == n_tokens:
        m = np.broadcast_to(m.reshape(1, n_tokens), (batch, n_tokens))
    if m.shape != (batch, n_tokens):
        raise ValueError(f"bool_masked_pos must have {n_tokens} entries per clip ((B, {n_tokens}) or one clip's "
                         f"mask), got shape {m.shape}")
    counts = m.sum(axis=1)
    if (counts != counts[0]).any():
        raise ValueError(f"bool_masked_pos must mask the same number of tokens in every clip, got {counts.tolist()}")
    return m


class VideoMAEForVideoClassification(Module):
    """HF ``VideoMAEForVideoClassification`` (inference): see :func:`videomae`.

    Parameters
    ----------
    config : SimpleNamespace or dict
        The Hugging Face config's fields (:func:`~scratchvision.nn.from_pretrained` reads them from
        ``config.json``).
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.videomae = _Encoder(config)
        if config.use_mean_pooling:
            self.fc_norm = LayerNorm(config.hidden_size)
        self.classifier = Linear(config.hidden_size, config.num_labels)

    def forward(self, pixel_values, bool_masked_pos=None) -> ClassifierOutput:
        """Logits (B, num_labels) of clips (B, T, C, H, W) (HF's layout; one clip (T, C, H, W) is a
        batch of one); ``bool_masked_pos`` (B, N) runs the encoder on the unmasked tokens only."""
        x = check_clip(pixel_values, self.config)
        masks = None if bool_masked_pos is None else _masks(bool_masked_pos, len(x), int(np.prod(self.videomae.grid)))
        tokens = self.videomae(x, masks)
        pooled = self.fc_norm(tokens.mean(axis=1)) if "fc_norm" in self._modules else tokens[:, 0]
        return ClassifierOutput(self.classifier(pooled))


class VideoMAEForPreTraining(Module):
    """HF ``VideoMAEForPreTraining`` (inference): see :func:`videomae_pretraining`.

    Parameters
    ----------
    config : SimpleNamespace or dict
        The Hugging Face config's fields (:func:`~scratchvision.nn.from_pretrained` reads them from
        ``config.json``).
    """

    def __init__(self, config):
        super().__init__()
        c = self.config = config
        self.videomae = _Encoder(config)
        self.encoder_to_decoder = Linear(c.hidden_size, c.decoder_hidden_size, bias=False)
        self.register("mask_token", np.zeros((1, 1, c.decoder_hidden_size), np.float32))
        layers = {str(i): _layer(c.decoder_hidden_size, c.decoder_num_attention_heads, c.decoder_intermediate_size,
                                 c.layer_norm_eps, c.qv_bias) for i in range(c.decoder_num_hidden_layers)}
        pixels = c.num_channels * c.tubelet_size * c.patch_size ** 2
        self.decoder = Container(decoder_layers=Container(**layers), norm=LayerNorm(c.decoder_hidden_size),
                                 head=Linear(c.decoder_hidden_size, pixels))
        self.position_table = sinusoid_table(int(np.prod(self.videomae.grid)), c.decoder_hidden_size)
        self.blocks = None

    def prepare(self):
        super().prepare()
        self.blocks = None

    def forward(self, pixel_values, bool_masked_pos) -> PreTrainingOutput:
        """The predicted pixels of the masked tubelets, (B, n_masked, kt * p * p * C), for clips (B,
        T, C, H, W) and their mask (B, N) (or one clip's mask for all)."""
        x = check_clip(pixel_values, self.config)
        c = self.config
        masks = _masks(bool_masked_pos, len(x), int(np.prod(self.videomae.grid)))
        if self.blocks is None:
            act = _activation(c)
            self.blocks = [_block(layer, c.decoder_num_attention_heads, act) for layer in self.decoder.decoder_layers]
        visible = self.videomae(x, masks)
        b, n_visible, _ = visible.shape
        n_masked = masks.shape[1] - n_visible
        tokens = np.empty((b, masks.shape[1], c.decoder_hidden_size), np.float32)
        tokens[:, :n_visible] = self.encoder_to_decoder(visible.reshape(b * n_visible, -1)).reshape(b, n_visible, -1)
        tokens[:, :n_visible] += self.position_table[np.nonzero(~masks)[1]].reshape(b, n_visible, -1)
        tokens[:, n_visible:] = self.mask_token + self.position_table[np.nonzero(masks)[1]].reshape(b, n_masked, -1)
        flat = tokens.reshape(-1, c.decoder_hidden_size)
        for block in self.blocks:
            block_forward(flat, b, block)
        hidden = self.decoder.norm(np.ascontiguousarray(tokens[:, n_visible:]).reshape(b * n_masked, -1))
        return PreTrainingOutput(self.decoder.head(hidden).reshape(b, n_masked, -1))


def videomae(config=None, **overrides) -> VideoMAEForVideoClassification:
    """VideoMAE video classifier, equal to HF ``VideoMAEForVideoClassification`` for the same
    weights (keys as ``model.state_dict()`` there: ``videomae.embeddings...``,
    ``videomae.encoder.layer.N.attention.attention.query.weight``, ``fc_norm``, ``classifier``).

    Parameters
    ----------
    config : dict, optional
        A parsed ``config.json`` (HF's ``VideoMAEConfig`` fields); missing fields take HF's
        defaults (ViT-B, 16 frames of 224 x 224, tubelets 2 x 16 x 16, 2 labels).
    **overrides
        Fields set over ``config``.

    Returns
    -------
    VideoMAEForVideoClassification
        ``model(pixel_values)`` with clips (B, T, C, H, W) float32 gives a :class:`ClassifierOutput`
        whose ``logits`` is (B, num_labels). Load weights with ``load_state_dict`` or build from a
        folder with :func:`~scratchvision.nn.from_pretrained`.

    References
    ----------
    Tong, Z. et al. "VideoMAE." NeurIPS 2022. doi:10.48550/arXiv.2203.12602

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import videomae
    >>> model = videomae(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
    ...                  image_size=32, num_frames=4, num_labels=3)
    >>> model(np.zeros((1, 4, 3, 32, 32), np.float32)).logits.shape
    (1, 3)
    """
    return VideoMAEForVideoClassification(model_config("videomae", config, **overrides))


def videomae_pretraining(config=None, **overrides) -> VideoMAEForPreTraining:
    """VideoMAE pre-training model, equal to HF ``VideoMAEForPreTraining``: the encoder on the visible
    tubelets, ``encoder_to_decoder``, the mask token, the decoder and its pixel head.

    Parameters
    ----------
    config : dict, optional
        A parsed ``config.json``; HF's defaults otherwise (decoder 384 wide, 4 layers, 6 heads).
    **overrides
        Fields set over ``config``.

    Returns
    -------
    VideoMAEForPreTraining
        ``model(pixel_values, bool_masked_pos).logits``: (B, n_masked, tubelet pixels), the
        reconstruction of the masked tubelets in token order (:func:`video_patches` gives the
        targets' layout).

    References
    ----------
    Tong, Z. et al. "VideoMAE." NeurIPS 2022. doi:10.48550/arXiv.2203.12602

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import videomae_pretraining, tube_mask
    >>> model = videomae_pretraining(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
    ...     intermediate_size=64, image_size=32, num_frames=4, decoder_hidden_size=16,
    ...     decoder_num_hidden_layers=1, decoder_num_attention_heads=2, decoder_intermediate_size=32,
    ...     use_mean_pooling=False)
    >>> mask = tube_mask(4, 32, rng=0, flat=True)
    >>> model(np.zeros((1, 4, 3, 32, 32), np.float32), mask).logits.shape
    (1, 6, 1536)
    """
    return VideoMAEForPreTraining(model_config("videomae", config, **overrides))


def videomae_reconstruction(model: VideoMAEForPreTraining, pixel_values, bool_masked_pos) -> np.ndarray:
    """The clips as the pre-trained model sees them: visible tubelets as given, masked ones
    replaced by the model's prediction, in image values.

    With ``norm_pix_loss`` (VideoMAE's setting) the model predicts each masked tubelet normalised
    by its own mean and standard deviation per channel, which are not known at test time; as
    VideoMAE's visualisation script does, they are taken from the true tubelet, so the picture
    shows the predicted structure at the true brightness and contrast.

    Parameters
    ----------
    model : VideoMAEForPreTraining
    pixel_values : ndarray of float32 (B, T, C, H, W)
        Normalised with the ImageNet mean and std (HF's VideoMAE preprocessing) when C = 3.
    bool_masked_pos : ndarray of bool (B, N) or one clip's (N,)

    Returns
    -------
    ndarray of float32 (B, T, C, H, W)
        Values in [0, 1] for RGB clips (the normalisation undone), clipped.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import videomae_pretraining, videomae_reconstruction, tube_mask
    >>> model = videomae_pretraining(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
    ...     intermediate_size=64, image_size=32, num_frames=4, decoder_hidden_size=16,
    ...     decoder_num_hidden_layers=1, decoder_num_attention_heads=2, decoder_intermediate_size=32,
    ...     use_mean_pooling=False)
    >>> clip = np.zeros((1, 4, 3, 32, 32), np.float32)
    >>> videomae_reconstruction(model, clip, tube_mask(4, 32, rng=0, flat=True)).shape
    (1, 4, 3, 32, 32)
    """
    from .clips import IMAGENET_MEAN, IMAGENET_STD

    c = model.config
    x = check_clip(pixel_values, c)
    masks = _masks(bool_masked_pos, len(x), int(np.prod(model.videomae.grid)))
    predicted = model(x, masks).logits.astype(np.float64)
    frames = x.astype(np.float64)
    if c.num_channels == 3:
        frames = frames * np.asarray(IMAGENET_STD).reshape(1, 1, 3, 1, 1) + np.asarray(IMAGENET_MEAN).reshape(1, 1, 3,
                                                                                                              1, 1)
    b, t, ch, h, w = frames.shape
    k, p = c.tubelet_size, c.patch_size
    patches = video_patches(frames, p, k)  # (B, N, k p p C), channel last
    if c.norm_pix_loss:
        true = patches[masks].reshape(b, -1, k * p * p, ch)
        mean, std = true.mean(axis=2, keepdims=True), true.std(axis=2, ddof=1, keepdims=True) + 1e-6
        predicted = (predicted.reshape(true.shape) * std + mean).reshape(b, -1, k * p * p * ch)
    patches[masks] = predicted.reshape(-1, patches.shape[2])
    slots, rows, cols = model.videomae.grid
    out = patches.reshape(b, slots, rows, cols, k, p, p, ch).transpose(0, 1, 4, 7, 2, 5, 3, 6).reshape(b, t, ch, h, w)
    return np.clip(out, 0.0, 1.0).astype(np.float32) if c.num_channels == 3 else out.astype(np.float32)
