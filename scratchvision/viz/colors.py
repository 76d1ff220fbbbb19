"""Colour helpers shared by the drawing and flow-colouring functions."""

from __future__ import annotations

import numpy as np

from .._validate import check_ids

__all__ = ["hsv_to_rgb", "id_colors"]

_GOLDEN = 0.6180339887498949


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """Convert hue, saturation, value arrays in [0, 1] to RGB floats in [0, 1] (shape + (3,))."""
    h, s, v = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in (h, s, v)))
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    i = sector.astype(np.int64) % 6
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def id_colors(ids) -> np.ndarray:
    """A stable, well-spread RGB colour (uint8) for each integer track id (golden-ratio hues)."""
    ids = check_ids(ids)
    hue = (ids * _GOLDEN) % 1.0
    return np.floor(255 * hsv_to_rgb(hue, 0.85, 0.95) + 0.5).astype(np.uint8)
