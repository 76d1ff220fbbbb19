"""Colour helpers shared by the drawing and flow-colouring functions."""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_finite, check_ids

__all__ = ["hsv_to_rgb", "id_colors"]

_GOLDEN = 0.6180339887498949


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """Convert hue, saturation, value arrays in [0, 1] to RGB floats in [0, 1] (shape + (3,));
    hues outside [0, 1) wrap around.

    Parameters
    ----------
    h, s, v : array-like of one shape
        Hue, saturation and value in [0, 1].

    Returns
    -------
    ndarray (..., 3) float64 in [0, 1]
    """
    arrays = []
    for a, name in ((h, "h"), (s, "s"), (v, "v")):
        a = as_array(a, name).astype(np.float64)
        check_finite(a, name)
        arrays.append(a)
    try:
        h, s, v = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ValueError(f"h, s and v must broadcast together, got shapes {[a.shape for a in arrays]}") from None
    h = h % 1.0  # the hue is periodic (and any finite value then has a sector)
    sector = np.floor(h * 6.0)
    f = h * 6.0 - sector
    i = sector.astype(np.int64) % 6
    p, q, t = v * (1 - s), v * (1 - s * f), v * (1 - s * (1 - f))
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def id_colors(ids) -> np.ndarray:
    """A stable, well-spread RGB colour (uint8) for each integer track id (golden-ratio hues).

    Parameters
    ----------
    ids : array-like of int (N,)

    Returns
    -------
    ndarray (N, 3) uint8 RGB
    """
    ids = check_ids(ids)
    hue = (ids * _GOLDEN) % 1.0
    return np.floor(255 * hsv_to_rgb(hue, 0.85, 0.95) + 0.5).astype(np.uint8)
