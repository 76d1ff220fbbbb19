"""Optical flow as colour: the Middlebury colour wheel (Baker et al. 2011) and OpenCV's HSV view.

References
----------
S. Baker, D. Scharstein, J. P. Lewis, S. Roth, M. J. Black, R. Szeliski. "A Database and
Evaluation Methodology for Optical Flow." IJCV 92(1), 2011. doi:10.1007/s11263-010-0390-2
"""

from __future__ import annotations

import numpy as np

from .._validate import check_flow, check_float
from ..flow.errors import valid_flow_mask
from .colors import hsv_to_rgb

__all__ = ["colorwheel", "flow_to_color", "flow_to_hsv"]

# Hue segments of the Middlebury wheel: red->yellow, yellow->green, green->cyan, cyan->blue,
# blue->magenta, magenta->red, with these many steps each (55 colours in all).
_SEGMENTS = (15, 6, 4, 11, 13, 6)


def colorwheel() -> np.ndarray:
    """The 55 colours of the Middlebury flow colour wheel, (55, 3) uint8 RGB.

    Each segment ramps one channel linearly between two of the six primary/secondary colours:
    red, yellow, green, cyan, blue, magenta and back to red.

    Returns
    -------
    ndarray (55, 3) uint8
    """
    corners = np.array([[255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255],
                        [255, 0, 255], [255, 0, 0]], np.float64)
    rows = []
    for s, n in enumerate(_SEGMENTS):
        ramp = np.arange(n)[:, None] / n
        rows.append(np.floor(corners[s] + ramp * (corners[s + 1] - corners[s])))
    return np.concatenate(rows).astype(np.uint8)


def flow_to_color(flow, *, max_flow: float | None = None, unknown_color=(0, 0, 0)) -> np.ndarray:
    """Colour-code a flow field with the Middlebury wheel.

    Hue gives the direction (right = red, down = yellow-orange, left = cyan-blue, up = violet in
    image coordinates, y pointing down) and saturation the magnitude relative to ``max_flow``
    (white = no motion). Magnitudes above ``max_flow`` are drawn darker, as in the Middlebury
    code.

    Parameters
    ----------
    flow : ndarray, (H, W, 2)
        (dx, dy). Middlebury unknown markers (> 1e9) and NaN are painted ``unknown_color``.
    max_flow : float, optional
        Magnitude mapped to full saturation. Default: the largest known magnitude.
    unknown_color : (int, int, int)
        RGB for unknown pixels.

    Returns
    -------
    ndarray, (H, W, 3), uint8 RGB
    """
    flow = check_flow(flow, allow_unknown=True).astype(np.float64)
    known = valid_flow_mask(flow)
    u = np.where(known, flow[..., 0], 0.0)
    v = np.where(known, flow[..., 1], 0.0)
    radius = np.hypot(u, v)
    if max_flow is None:
        max_flow = float(radius.max()) if radius.size else 0.0
    else:
        max_flow = check_float(max_flow, "max_flow", low=0.0, low_open=True)
    scale = max_flow if max_flow > 0 else 1.0
    u, v, radius = u / scale, v / scale, radius / scale

    wheel = colorwheel().astype(np.float64) / 255.0
    n = len(wheel)
    position = (np.arctan2(-v, -u) / np.pi + 1.0) / 2.0 * (n - 1)
    k0 = np.floor(position).astype(np.int64)
    k1 = (k0 + 1) % n
    frac = (position - k0)[..., None]
    color = (1 - frac) * wheel[k0] + frac * wheel[k1]
    inside = (radius <= 1)[..., None]
    color = np.where(inside, 1 - radius[..., None] * (1 - color), color * 0.75)
    out = np.floor(255.0 * color).astype(np.uint8)
    out[~known] = np.asarray(unknown_color, np.uint8)
    return out


def flow_to_hsv(flow, *, magnitude_scale: float = 4.0) -> np.ndarray:
    """OpenCV sample's HSV view of a flow: hue = direction, value = magnitude x ``magnitude_scale``.

    The same mapping as opencv/samples/python/opt_flow.py ``draw_hsv`` (full saturation, value
    ``min(4 |f|, 255)``), returned as RGB uint8.

    Parameters
    ----------
    flow : ndarray (H, W, 2)
    magnitude_scale : float
        Value per pixel of motion (clipped at 255).

    Returns
    -------
    ndarray (H, W, 3) uint8 RGB
    """
    flow = check_flow(flow).astype(np.float64)
    scale = check_float(magnitude_scale, "magnitude_scale", low=0.0)
    angle = np.arctan2(flow[..., 1], flow[..., 0]) + np.pi  # [0, 2 pi]
    hue = (angle / (2 * np.pi)) % 1.0
    value = np.minimum(np.hypot(flow[..., 0], flow[..., 1]) * scale, 255.0) / 255.0
    return np.floor(255.0 * hsv_to_rgb(hue, 1.0, value) + 0.5).astype(np.uint8)
