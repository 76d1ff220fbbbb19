"""Drawing on frames in pure NumPy: lines, boxes with id numbers, track trails, points, flow arrows.

Every function takes a frame (gray or RGB, uint8 or float in [0, 255]) and returns a new RGB uint8
image; the input is never modified. Coordinates are OpenCV's (x = column, y = row, pixel centres
at integers).
"""

from __future__ import annotations

import numpy as np

from .._validate import (as_array, check_boxes, check_finite, check_flow, check_ids, check_image, check_int,
                         check_mot_rows, check_points)
from ..imgproc import to_uint8
from .colors import id_colors

__all__ = ["to_rgb8", "draw_lines", "draw_points", "draw_boxes", "draw_tracks", "draw_flow_arrows"]

# A 3x5 bitmap font for the digits 0-9 (rows top to bottom, 3 bits each, left bit first).
_DIGITS = {
    "0": (7, 5, 5, 5, 7), "1": (2, 6, 2, 2, 7), "2": (7, 1, 7, 4, 7), "3": (7, 1, 7, 1, 7),
    "4": (5, 5, 7, 1, 1), "5": (7, 4, 7, 1, 7), "6": (7, 4, 7, 5, 7), "7": (7, 1, 2, 2, 2),
    "8": (7, 5, 7, 5, 7), "9": (7, 5, 7, 1, 7), "-": (0, 0, 7, 0, 0),
}


def to_rgb8(image) -> np.ndarray:
    """A new RGB uint8 copy of a gray or RGB frame (float input is rounded and clipped to [0, 255]).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, 3)

    Returns
    -------
    ndarray (H, W, 3) uint8
    """
    img = to_uint8(check_image(image))
    if img.ndim == 2:
        return np.repeat(img[:, :, None], 3, axis=2)
    return img.copy()


def _color_rows(color, n) -> np.ndarray:
    c = as_array(color, "color")
    check_finite(c, "color")
    if c.shape == (3,):
        c = np.broadcast_to(c, (n, 3))
    if c.shape != (n, 3):
        raise ValueError(f"color must be (3,) or ({n}, 3), got shape {c.shape}")
    return np.clip(c, 0, 255).astype(np.uint8)


def _round(v):
    """Nearest pixel, halves rounded up (np.rint's round-half-even would skip pixels on lines)."""
    return np.floor(np.clip(np.asarray(v, np.float64), -2.0**40, 2.0**40) + 0.5).astype(np.int64)


def _paint(canvas, x, y, colors, thickness):
    """Paint square dots of side ``thickness`` centred at integer pixels (x, y)."""
    h, w = canvas.shape[:2]
    r0 = -(thickness // 2)
    for dy in range(r0, r0 + thickness):
        for dx in range(r0, r0 + thickness):
            xx, yy = x + dx, y + dy
            inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            canvas[yy[inside], xx[inside]] = colors[inside]


def draw_lines(image, segments, color=(255, 0, 0), *, thickness: int = 1) -> np.ndarray:
    """Draw line segments ``(x0, y0, x1, y1)``, (M, 4), each sampled at one point per pixel step.

    ``color`` is one RGB triple or one per segment (M, 3).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, 3)
    segments : array-like (M, 4)
        ``x0, y0, x1, y1``.
    color : RGB triple or array-like (M, 3)
    thickness : int
        Side of the square dot drawn at each sample, in pixels.

    Returns
    -------
    ndarray (H, W, 3) uint8
        A copy of the image with the lines.
    """
    canvas = to_rgb8(image)
    seg = as_array(segments, "segments").astype(np.float64)
    if seg.size == 0:
        return canvas
    if seg.ndim != 2 or seg.shape[1] != 4:
        raise ValueError(f"segments must have shape (M, 4), got {seg.shape}")
    if not np.isfinite(seg).all():
        raise ValueError("segments must be finite")
    thickness = check_int(thickness, "thickness", low=1, high=64)
    colors = _color_rows(color, len(seg))
    # Clip absurdly long segments to a box around the image so the sample count stays bounded.
    h, w = canvas.shape[:2]
    limit = 4.0 * max(h, w)
    seg = np.clip(seg, -limit, limit)
    steps = np.ceil(np.maximum(np.abs(seg[:, 2] - seg[:, 0]), np.abs(seg[:, 3] - seg[:, 1]))).astype(np.int64) + 1
    owner = np.repeat(np.arange(len(seg)), steps)
    t = (np.arange(steps.sum()) - np.repeat(np.cumsum(steps) - steps, steps)) / np.maximum(steps[owner] - 1, 1)
    x = _round(seg[owner, 0] + t * (seg[owner, 2] - seg[owner, 0]))
    y = _round(seg[owner, 1] + t * (seg[owner, 3] - seg[owner, 1]))
    _paint(canvas, x, y, colors[owner], thickness)
    return canvas


def draw_points(image, points, color=(255, 0, 0), *, radius: int = 2) -> np.ndarray:
    """Draw filled discs of ``radius`` at points (N, 2) x, y (``color``: one triple or (N, 3)).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, 3)
    points : array-like (N, 2)
        ``x, y``.
    color : RGB triple or array-like (N, 3)
    radius : int

    Returns
    -------
    ndarray (H, W, 3) uint8
        A copy of the image with the discs.
    """
    canvas = to_rgb8(image)
    pts, _ = check_points(points)
    radius = check_int(radius, "radius", low=0, high=64)
    colors = _color_rows(color, len(pts))
    h, w = canvas.shape[:2]
    cx, cy = _round(pts[:, 0]), _round(pts[:, 1])
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dx * dx + dy * dy > radius * radius + radius:
                continue
            xx, yy = cx + dx, cy + dy
            inside = (xx >= 0) & (xx < w) & (yy >= 0) & (yy < h)
            canvas[yy[inside], xx[inside]] = colors[inside]
    return canvas


def _draw_text(canvas, x, y, text, color, scale):
    h, w = canvas.shape[:2]
    for n, ch in enumerate(text):
        for r, bits in enumerate(_DIGITS[ch]):
            for q in range(3):
                if bits >> (2 - q) & 1:
                    y0, x0 = y + r * scale, x + (4 * n + q) * scale
                    canvas[max(y0, 0):max(min(y0 + scale, h), 0), max(x0, 0):max(min(x0 + scale, w), 0)] = color


def draw_boxes(image, boxes, ids=None, *, color=None, thickness: int = 2, label: bool = True) -> np.ndarray:
    """Draw boxes (N, 4) x1, y1, x2, y2, coloured by id, with the id written above each box.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3)
    boxes : array-like, (N, 4)
    ids : array-like of int, (N,), optional
        Track ids: each id gets a stable colour (:func:`id_colors`) and is written in digits.
    color : RGB triple, optional
        One colour for all boxes (default: by id, or red without ids).
    thickness : int
    label : bool
        Write the ids.

    Returns
    -------
    ndarray (H, W, 3) uint8
        A copy of the image with the boxes (and ids).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import draw_boxes
    >>> out = draw_boxes(np.zeros((40, 60), np.uint8), [[5, 5, 30, 25]], [7])
    >>> out.shape, out.dtype.name, bool(out.any())
    ((40, 60, 3), 'uint8', True)
    """
    b = check_boxes(boxes)
    if len(b) == 0:
        return to_rgb8(image)
    if ids is not None:
        ids = check_ids(ids)
        if len(ids) != len(b):
            raise ValueError(f"ids must have {len(b)} entries to match boxes, got {len(ids)}")
    if color is not None:
        colors = _color_rows(color, len(b))
    elif ids is not None:
        colors = id_colors(ids)
    else:
        colors = _color_rows((255, 0, 0), len(b))
    x1, y1, x2, y2 = b.T
    segments = np.concatenate([np.column_stack(s) for s in
                               ((x1, y1, x2, y1), (x2, y1, x2, y2), (x2, y2, x1, y2), (x1, y2, x1, y1))])
    canvas = draw_lines(image, segments, np.tile(colors, (4, 1)), thickness=thickness)
    if label and ids is not None:
        for k in range(len(b)):
            _draw_label(canvas, int(round(x1[k])), int(round(y1[k])), str(ids[k]), colors[k])
    return canvas


def _draw_label(canvas, x, y, text, color):
    """``text`` in 2x digits on a filled tag of ``color`` just above ``(x, y)`` (inside the box
    when there is no room above), dark or light by the tag's brightness: solid colours that stay
    legible through a GIF's palette."""
    tag_w, tag_h = 8 * len(text) + 2, 14
    top = y - tag_h if y - tag_h >= 0 else y
    h, w = canvas.shape[:2]
    canvas[max(top, 0):max(min(top + tag_h, h), 0), max(x, 0):max(min(x + tag_w, w), 0)] = color
    ink = (0, 0, 0) if 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2] > 128 else (255, 255, 255)
    _draw_text(canvas, x + 2, top + 2, text, ink, 2)


def draw_tracks(image, rows, frame: int, *, trail: int = 20, thickness: int = 2) -> np.ndarray:
    """Draw the tracks of one frame from MOTChallenge-style rows, with trails of their past centres.

    Parameters
    ----------
    image : ndarray
        The frame ``frame``.
    rows : array-like, (K, >= 6)
        ``frame, id, x, y, w, h, ...`` with 0-based frames (as :func:`scratchvision.io.read_mot`
        returns them, and as the trackers' outputs convert to).
    frame : int
        Which frame's boxes to draw.
    trail : int
        How many past frames of box-bottom centres to join into a trail.
    thickness : int
        Line width of the boxes and trails, in pixels.

    Returns
    -------
    ndarray (H, W, 3) uint8
        A copy of the frame with the boxes, their ids and the trails drawn.
    """
    r = check_mot_rows(rows)
    canvas = to_rgb8(image)
    frame = check_int(frame, "frame")
    trail = check_int(trail, "trail", low=0)
    now = r[r[:, 0] == frame]
    past = r[(r[:, 0] <= frame) & (r[:, 0] >= frame - trail) & np.isin(r[:, 1], now[:, 1])]
    segments, seg_ids = [], []
    for tid in np.unique(past[:, 1]):
        p = past[past[:, 1] == tid]
        p = p[np.argsort(p[:, 0])]
        foot = np.column_stack([p[:, 2] + p[:, 4] / 2, p[:, 3] + p[:, 5]])
        if len(foot) > 1:
            segments.append(np.column_stack([foot[:-1], foot[1:]]))
            seg_ids.append(np.full(len(foot) - 1, tid))
    if segments:
        canvas = draw_lines(canvas, np.concatenate(segments), id_colors(np.concatenate(seg_ids)),
                            thickness=max(1, thickness - 1))
    xyxy = np.column_stack([now[:, 2], now[:, 3], now[:, 2] + now[:, 4], now[:, 3] + now[:, 5]])
    return draw_boxes(canvas, xyxy, now[:, 1].astype(np.int64), thickness=thickness)


def draw_flow_arrows(image, flow, *, step: int = 16, scale: float = 1.0,
                     color=(0, 255, 0)) -> np.ndarray:
    """Draw the flow every ``step`` pixels as a line from each grid point to where it moves.

    The view of OpenCV's opt_flow.py ``draw_flow``: grid points start at ``step // 2``, each
    line goes from ``(x, y)`` to ``(x + scale dx, y + scale dy)`` with a dot at its start.

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, 3)
    flow : ndarray (H, W, 2)
    step : int
        Grid spacing in pixels.
    scale : float
        Arrow length per pixel of motion.
    color : RGB triple

    Returns
    -------
    ndarray (H, W, 3) uint8
        A copy of the image with the arrows.
    """
    flow = check_flow(flow)
    img = check_image(image)
    if img.shape[:2] != flow.shape[:2]:
        raise ValueError(f"flow must have shape {img.shape[:2] + (2,)} to match image, got {flow.shape}")
    step = check_int(step, "step", low=1)
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step].reshape(2, -1)
    f = flow[ys, xs].astype(np.float64) * float(scale)
    segments = np.column_stack([xs, ys, xs + f[:, 0], ys + f[:, 1]])
    canvas = draw_lines(img, segments, color)
    return draw_points(canvas, np.column_stack([xs, ys]), color, radius=1)
