"""Hugging Face model folders without torch or transformers: the configurations of the video
transformers (HF's defaults, overridden by a folder's ``config.json``), the weights (``model.safetensors``,
``pytorch_model.bin``, or shards listed in an ``*.index.json``), the older key names the hub's
files still use, and each model's video preprocessing (``preprocessor_config.json``).

Keys: the models here name their parameters as transformers 5 does. Checkpoints on the hub that
were converted with older releases use other names for the same arrays, renamed on loading as
transformers itself does: VideoMAE's ``attention.attention.q_bias`` / ``v_bias`` become
``query.bias`` / ``value.bias``; ViViT's ``encoder.layer.N.attention.attention.query`` /
``key`` / ``value``, ``attention.output.dense``, ``intermediate.dense`` and ``output.dense`` become
``layers.N.attention.q_proj`` / ``k_proj`` / ``v_proj`` / ``o_proj``, ``mlp.fc1`` and ``mlp.fc2``.
"""

from __future__ import annotations

import json
import os
import re
from types import SimpleNamespace

import numpy as np

from .._validate import check_int
from .checkpoint import load_checkpoint

__all__ = ["DEFAULTS", "model_config", "from_pretrained", "Pretrained", "preprocess_video", "load_folder_weights",
           "rename_legacy_keys"]

_COMMON = dict(image_size=224, patch_size=16, num_channels=3, hidden_size=768, num_hidden_layers=12,
               num_attention_heads=12, intermediate_size=3072, hidden_act="gelu", hidden_dropout_prob=0.0,
               attention_probs_dropout_prob=0.0, initializer_range=0.02, num_labels=2, id2label=None,
               label2id=None, architectures=None, model_type=None)

#: HF's defaults per ``model_type`` (transformers 5.25 configuration classes)
DEFAULTS = {
    "videomae": dict(_COMMON, num_frames=16, tubelet_size=2, layer_norm_eps=1e-12, qv_bias=True, use_mean_pooling=True,
                     decoder_num_attention_heads=6, decoder_hidden_size=384, decoder_num_hidden_layers=4,
                     decoder_intermediate_size=1536, norm_pix_loss=True),
    "timesformer": dict(_COMMON, num_frames=8, layer_norm_eps=1e-6, qkv_bias=True, attention_type="divided_space_time",
                        drop_path_rate=0.0),
    "vivit": dict(_COMMON, num_frames=32, tubelet_size=[2, 16, 16], hidden_act="gelu_fast", layer_norm_eps=1e-6,
                  qkv_bias=True, pooler_output_size=None, pooler_act="tanh"),
}


def model_config(model_type: str, config=None, **overrides) -> SimpleNamespace:
    """A configuration as attributes: HF's defaults for ``model_type``, then the entries of
    ``config`` (a dict such as a parsed config.json, or an object with ``to_dict()``, or None), then
    ``overrides``. Keys the defaults do not know are kept; ``num_labels`` follows ``id2label``.

    Examples
    --------
    >>> from scratchvision.nn.hub import model_config
    >>> model_config("videomae", {"num_frames": 8}, hidden_size=96).num_frames
    8
    """
    if model_type not in DEFAULTS:
        raise ValueError(f"model_type must be one of {sorted(DEFAULTS)}, got {model_type!r}")
    values = dict(DEFAULTS[model_type])
    if config is not None:
        config = config.to_dict() if hasattr(config, "to_dict") else config
        if not isinstance(config, dict):
            raise TypeError(f"config must be a dict (a parsed config.json) or None, got {type(config).__name__}")
        if config.get("model_type", model_type) != model_type:
            raise ValueError(f"config is for model_type {config['model_type']!r}, not {model_type!r}")
        values.update(config)
    values.update(overrides)
    if "qkv_bias" in values and model_type == "videomae":  # HF's older name of qv_bias
        values["qv_bias"] = values.pop("qkv_bias")
    if values.get("id2label"):
        values["id2label"] = {int(k): v for k, v in values["id2label"].items()}
        values["num_labels"] = len(values["id2label"])
    values["model_type"] = model_type
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "num_channels",
                "num_frames", "num_labels"):
        check_int(values[key], f"config {key}", low=0 if key == "num_labels" else 1)
    if values["hidden_size"] % values["num_attention_heads"]:
        raise ValueError(f"config hidden_size {values['hidden_size']} is not a multiple of num_attention_heads "
                         f"{values['num_attention_heads']}")
    return SimpleNamespace(**values)


_LEGACY_KEYS = {
    "videomae": [(r"attention\.attention\.q_bias$", "attention.attention.query.bias"),
                 (r"attention\.attention\.v_bias$", "attention.attention.value.bias")],
    "vivit": [(r"encoder\.layer\.", "layers."), (r"attention\.attention\.query", "attention.q_proj"),
              (r"attention\.attention\.key", "attention.k_proj"), (r"attention\.attention\.value", "attention.v_proj"),
              (r"attention\.output\.dense", "attention.o_proj"), (r"intermediate\.dense", "mlp.fc1"),
              (r"(?<!attention\.)output\.dense", "mlp.fc2")],
}


def rename_legacy_keys(model_type: str, state: dict) -> dict:
    """``state`` with the hub's older key names of ``model_type`` replaced by transformers 5's (see
    the module docstring); other keys unchanged."""
    rules = _LEGACY_KEYS.get(model_type, [])
    out = {}
    for key, value in state.items():
        for pattern, replacement in rules:
            key = re.sub(pattern, replacement, key)
        out[key] = value
    return out


def load_folder_weights(folder) -> dict:
    """Every array of a model folder: ``model.safetensors`` or ``pytorch_model.bin``, or the shards
    an ``model.safetensors.index.json`` / ``pytorch_model.bin.index.json`` lists in its
    ``weight_map``."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        path = os.path.join(folder, index)
        if os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    weight_map = json.load(f).get("weight_map")
            except (OSError, json.JSONDecodeError, AttributeError) as e:
                raise ValueError(f"{path}: not a readable shard index ({e})") from None
            if not isinstance(weight_map, dict):
                raise ValueError(f"{path}: no weight_map")
            state = {}
            for shard in sorted(set(weight_map.values())):
                state.update(load_checkpoint(os.path.join(folder, shard)))
            return state
    for name in ("model.safetensors", "pytorch_model.bin"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return dict(load_checkpoint(path))
    raise ValueError(f"{folder}: no model.safetensors, pytorch_model.bin or shard index")


class Pretrained(SimpleNamespace):
    """What :func:`from_pretrained` returns besides the model: ``config``, ``labels`` (index ->
    name) and ``preprocessing`` (:func:`preprocess_video`'s arguments)."""


_BUILDERS = {  # (model_type, is pre-training) -> builder name in scratchvision.nn
    ("videomae", False): "videomae", ("videomae", True): "videomae_pretraining",
    ("timesformer", False): "timesformer", ("vivit", False): "vivit",
}


def from_pretrained(folder):
    """Build and load a video transformer from a Hugging Face model folder.

    Parameters
    ----------
    folder : path
        A folder as ``save_pretrained`` writes it or the hub serves it: ``config.json`` (its
        ``model_type`` is videomae, timesformer or vivit; ``architectures`` naming
        ``VideoMAEForPreTraining`` selects the pre-training model) and the weights
        (:func:`load_folder_weights`). ``preprocessor_config.json`` is read when present.

    Returns
    -------
    model : Module
        Loaded strictly (missing or unexpected keys raise ValueError naming them and the folder).
        It takes clips of the configured frame count and size only: HF's optional interpolation
        of position embeddings to other sizes is not offered.
    info : Pretrained
        ``config``, ``labels`` (list of names in output order, or None) and ``preprocessing``.

    Examples
    --------
    >>> import tempfile, json, os
    >>> from scratchvision import nn
    >>> folder = tempfile.mkdtemp()
    >>> config = {"model_type": "videomae", "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
    ...           "intermediate_size": 16, "image_size": 32, "num_frames": 4}
    >>> model = nn.videomae(config)
    >>> with open(os.path.join(folder, "config.json"), "w") as f:
    ...     json.dump(config, f)
    >>> nn.save_safetensors(os.path.join(folder, "model.safetensors"), model.state_dict())
    >>> model, info = nn.from_pretrained(folder)
    >>> type(model).__name__, info.config.num_frames
    ('VideoMAEForVideoClassification', 4)
    """
    from .. import nn

    folder = os.fspath(folder)
    path = os.path.join(folder, "config.json")
    if not os.path.isfile(path):
        raise ValueError(f"{folder}: no config.json (a Hugging Face model folder has one)")
    try:
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not readable JSON ({e})") from None
    model_type = raw.get("model_type")
    pretraining = any("PreTraining" in a for a in raw.get("architectures") or [])
    if (model_type, pretraining) not in _BUILDERS:
        raise ValueError(f"{path}: model_type {model_type!r} is not one of videomae, timesformer, vivit"
                         + (" (pre-training is VideoMAE's only)" if pretraining else ""))
    model = getattr(nn, _BUILDERS[model_type, pretraining])(raw)
    state = rename_legacy_keys(model_type, load_folder_weights(folder))
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except ValueError as e:
        raise ValueError(f"{folder}: the weights do not match config.json: {e}") from None
    if missing or unexpected:
        parts = [f"{len(keys)} {what} key(s) ({', '.join(keys[:3])}{', ...' if len(keys) > 3 else ''})"
                 for what, keys in (("missing", missing), ("unexpected", unexpected)) if keys]
        raise ValueError(f"{folder}: the weights do not match config.json: {'; '.join(parts)}")
    config = model.config
    labels = [config.id2label[i] for i in range(len(config.id2label))] if config.id2label else None
    return model, Pretrained(config=config, labels=labels, preprocessing=_preprocessing(folder, config))


#: transformers 5.25's video processors' defaults per model type: (shortest edge, mean, std, rescale
#: factor, offset), the crop being the model's image size (VideoMAE's processor normalises with 0.5 /
#: 0.5, the hub's VideoMAE folders state the ImageNet values in their preprocessor_config.json)
_PREPROCESSING_DEFAULTS = {
    "videomae": (224, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 255, False),
    "timesformer": (224, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 1 / 255, False),
    "vivit": (256, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5), 1 / 127.5, True),
}


def _preprocessing(folder, config) -> dict:
    """:func:`preprocess_video`'s arguments: ``preprocessor_config.json``'s values where it has them,
    transformers' defaults for the model type otherwise (:data:`_PREPROCESSING_DEFAULTS`)."""
    size = config.image_size if isinstance(config.image_size, int) else config.image_size[0]
    edge, mean, std, factor, offset = _PREPROCESSING_DEFAULTS[config.model_type]
    out = dict(num_frames=config.num_frames, shortest_edge=max(edge, size), crop=(size, size), mean=mean, std=std,
               rescale_factor=factor, offset=offset)
    path = os.path.join(folder, "preprocessor_config.json")
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            p = json.load(f)
        s, c = p.get("size") or {}, p.get("crop_size") or {}
        if isinstance(s, dict) and "shortest_edge" in s:
            out["shortest_edge"] = int(s["shortest_edge"])
        if isinstance(c, dict) and "height" in c:
            out["crop"] = (int(c["height"]), int(c["width"]))
        for ours, theirs in (("mean", "image_mean"), ("std", "image_std"), ("rescale_factor", "rescale_factor"),
                             ("offset", "offset")):
            if p.get(theirs) is not None:
                out[ours] = p[theirs]
        if p.get("do_normalize") is False:
            out["mean"], out["std"] = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return out


def preprocess_video(frames, *, num_frames=None, shortest_edge: int = 224, crop=(224, 224), mean=(0.485, 0.456, 0.406),
                     std=(0.229, 0.224, 0.225), rescale_factor: float = 1 / 255, offset: bool = False) -> np.ndarray:
    """RGB frames (T, H, W, 3) uint8 -> pixel values (T, 3, crop_h, crop_w) float32 as HF's video
    processors make them: bilinear resize of the shorter side to ``shortest_edge``, centre crop,
    ``x * rescale_factor`` (minus 1 with ``offset``, ViViT's [-1, 1]), then ``(x - mean) / std``.

    ``num_frames`` is only checked (the frames given must be that many when set).

    Parameters
    ----------
    frames : ndarray (T, H, W, 3) uint8
    num_frames : int, optional
        The frame count the model expects (checked).
    shortest_edge : int
    crop : (int, int)
    mean, std : (float, float, float)
    rescale_factor : float
    offset : bool
        Subtract 1 after rescaling (ViViT's [-1, 1] input).

    Returns
    -------
    ndarray (T, 3, crop_h, crop_w) float32

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import preprocess_video
    >>> preprocess_video(np.zeros((2, 40, 60, 3), np.uint8), shortest_edge=32, crop=(32, 32)).shape
    (2, 3, 32, 32)
    """
    from .clips import check_frames, resize_crop_normalise

    f = check_frames(frames, dtypes=(np.uint8,))
    if num_frames is not None and len(f) != num_frames:
        raise ValueError(f"frames: the model takes {num_frames} frames, got {len(f)}")
    edge = check_int(shortest_edge, "shortest_edge", low=1)
    crop = tuple(check_int(v, "crop", low=1) for v in crop)
    h, w = f.shape[1:3]
    resized = (edge, max(1, int(edge * w / h))) if h <= w else (max(1, int(edge * h / w)), edge)
    return resize_crop_normalise(f, resized, crop, rescale_factor, 1.0 if offset else 0.0, mean, std)
