"""Colour names: the probability of each of the 11 basic colour terms of English for an RGB value
(van de Weijer et al. 2009), the colour feature of OpenCV's KCF and CSRT.

The table was learnt from images returned by an image search for each name: a 32x32x32 grid of
RGB bins (8 levels a bin), each with 11 probabilities that sum to 1. A pixel's colour-name
vector is its bin's row, found from its 8-bit value as ``R // 8 + 32 (G // 8) + 1024 (B // 8)``
(red varies fastest). The table ships inside the package (``data/w2c.npz``: the authors' 2007
``w2c`` table as float32, stored losslessly compressed, so the features are those of the
float64 original to 3e-8).

Because the 11 probabilities sum to one, the trackers use 10 numbers per pixel: the coordinates
of the probability vector in an orthonormal basis of the plane orthogonal to ``(1, ..., 1)``
(:func:`colour_name_projection`). The basis is the Haar basis of a binary tree over the names
(each vector contrasts two groups: pairs, then pairs of pairs, ...), the one the Colour
Attributes tracker (Danelljan et al. 2014) used and OpenCV's trackers inherited, so our 10
channels are OpenCV's ``ColorNames`` table to its 5 printed digits.

References
----------
J. van de Weijer, C. Schmid, J. Verbeek, D. Larlus. "Learning Color Names for Real-World
Applications." IEEE Transactions on Image Processing 18(7), 2009. doi:10.1109/TIP.2009.2019809

M. Danelljan, F. S. Khan, M. Felsberg, J. van de Weijer. "Adaptive Color Attributes for
Real-Time Visual Tracking." CVPR 2014. doi:10.1109/CVPR.2014.143

Examples
--------
>>> import numpy as np
>>> from scratchvision.sot import COLOUR_NAMES, colour_names, colour_name_image
>>> img = np.array([[[255, 0, 0], [0, 0, 255], [255, 255, 0]]], np.uint8)
>>> [COLOUR_NAMES[i] for i in colour_name_image(img)[0]]
['red', 'blue', 'yellow']
>>> colour_names(img).shape, float(colour_names(img).sum(axis=2).max().round(4))
((1, 3, 11), 1.0)
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array, check_image, check_int

__all__ = ["COLOUR_NAMES", "COLOUR_NAME_RGB", "colour_names", "colour_name_image", "colour_names_table",
           "colour_name_projection", "colour_name_planes_kernel"]

#: The 11 names, in the order of the table's columns.
COLOUR_NAMES = ("black", "blue", "brown", "grey", "green", "orange", "pink", "purple", "red", "white", "yellow")

#: An sRGB colour to paint each name with (uint8, (11, 3)), in :data:`COLOUR_NAMES`' order.
COLOUR_NAME_RGB = np.array([[0, 0, 0], [0, 0, 255], [136, 84, 36], [128, 128, 128], [0, 200, 0], [255, 140, 0],
                            [255, 150, 200], [140, 40, 180], [220, 0, 0], [255, 255, 255], [255, 240, 0]], np.uint8)
COLOUR_NAME_RGB.flags.writeable = False

#: The two groups of names each of the 10 basis vectors contrasts (the first group positive), in
#: the order of the trackers' channels: five pairs of neighbouring names, red-white against
#: yellow, two pairs of pairs, the two quadruples, and the first eight names against the last three.
_CONTRASTS = (((0,), (1,)), ((2,), (3,)), ((4,), (5,)), ((6,), (7,)), ((8,), (9,)), ((8, 9), (10,)),
              ((0, 1), (2, 3)), ((4, 5), (6, 7)), ((0, 1, 2, 3), (4, 5, 6, 7)),
              ((0, 1, 2, 3, 4, 5, 6, 7), (8, 9, 10)))

_TABLE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "w2c.npz")


@functools.lru_cache(maxsize=1)
def colour_names_table() -> np.ndarray:
    """The colour-names table: (32768, 11) float32, row ``R // 8 + 32 (G // 8) + 1024 (B // 8)``,
    columns in :data:`COLOUR_NAMES`' order (read-only; loaded once)."""
    with np.load(_TABLE_FILE) as f:
        table = np.ascontiguousarray(f["w2c"], np.float32)
    table.flags.writeable = False
    return table


@functools.lru_cache(maxsize=1)
def colour_name_projection() -> np.ndarray:
    """The orthonormal basis (11, 10) float64 of the vectors orthogonal to ``(1, ..., 1)`` that
    the trackers project colour-name probabilities on.

    Column ``j`` contrasts two groups of names ``A`` and ``B`` (``_CONTRASTS[j]``): ``|B| / s`` on
    ``A``, ``-|A| / s`` on ``B``, 0 elsewhere, with ``s = sqrt(|A| |B| (|A| + |B|))`` so that it
    has unit length and sums to zero. The groups nest like a binary tree (two names, then two
    pairs, then two quadruples; the last vector sets the first eight against the other three), so
    the columns are orthogonal: the Haar basis of that tree."""
    basis = np.zeros((len(COLOUR_NAMES), len(_CONTRASTS)))
    for j, (a, b) in enumerate(_CONTRASTS):
        s = np.sqrt(len(a) * len(b) * (len(a) + len(b)))
        basis[list(a), j] = len(b) / s
        basis[list(b), j] = -len(a) / s
    basis.flags.writeable = False
    return basis


@functools.lru_cache(maxsize=1)
def reduced_table() -> np.ndarray:
    """The table projected on :func:`colour_name_projection`: (32768, 10) float32, the trackers'
    colour-name channels (computed in float64, rounded once)."""
    table = (colour_names_table().astype(np.float64) @ colour_name_projection()).astype(np.float32)
    table.flags.writeable = False
    return table


def _rgb(image, name="image"):
    """An RGB image as the float32 array the lookup reads: 8-bit images as they are; float images
    must lie in [0, 255] (a value ``v`` falls in the bin of ``floor(v)``, as its 8-bit truncation
    would)."""
    a = as_array(image, name)
    if a.ndim != 3 or a.shape[2] != 3:
        raise ValueError(f"{name} must be an RGB image (H, W, 3) for colour names, got shape {a.shape}"
                         + ("; a gray image has no colour names" if a.ndim == 2 else ""))
    img = check_image(a, name, min_size=0)
    if img.dtype.kind == "f" and img.size and (img.min() < 0 or img.max() > 255):
        raise ValueError(f"{name} values must lie in [0, 255] (scale a [0, 1] image by 255 first), "
                         f"got {float(img.min()):g} to {float(img.max()):g}")
    return np.ascontiguousarray(img, np.float32)


def colour_names(image, cell_size: int = 1, *, reduced: bool = False) -> np.ndarray:
    """Colour-name probabilities of each pixel, or their mean over each cell.

    Parameters
    ----------
    image : ndarray, (H, W, 3)
        RGB, uint8, or float32/float64 with values in [0, 255] (quantised by truncation, as the
        8-bit value would be; scale a [0, 1] image by 255 first). A gray image is refused.
    cell_size : int, default 1
        Average the vectors over cells of ``cell_size`` x ``cell_size`` pixels (the trackers'
        form); the last ``H % cell_size`` rows and columns are left out.
    reduced : bool, default False
        Return the 10 coordinates of the vectors in :func:`colour_name_projection`'s basis (the
        trackers' channels, OpenCV's ``ColorNames``) instead of the 11 probabilities.

    Returns
    -------
    ndarray, (H // cell_size, W // cell_size, 11 or 10) float32
    """
    img = _rgb(image)
    cell = check_int(cell_size, "cell_size", low=1)
    table = reduced_table() if reduced else colour_names_table()
    out = np.empty((1, table.shape[1], img.shape[0] // cell, img.shape[1] // cell), np.float32)
    colour_name_planes_kernel(img[None], cell, table, out, 0)
    return out[0].transpose(1, 2, 0)


def colour_name_image(image) -> np.ndarray:
    """The most probable colour name of each pixel: (H, W) uint8 indices into
    :data:`COLOUR_NAMES` (the first on ties). ``COLOUR_NAME_RGB[colour_name_image(img)]`` paints
    the image in its name colours (:func:`scratchvision.viz.plot_colour_names` shows both).

    Parameters
    ----------
    image : ndarray (H, W, 3) RGB, uint8 or float in [0, 255]

    Returns
    -------
    ndarray (H, W) uint8
    """
    img = _rgb(image)
    out = np.empty(img.shape[:2], np.uint8)
    _name_labels(img, _most_probable_names(), out)
    return out


@functools.lru_cache(maxsize=1)
def _most_probable_names() -> np.ndarray:
    """Each table row's most probable name (32768,) uint8, the first on ties; computed once."""
    labels = np.argmax(colour_names_table(), axis=1).astype(np.uint8)
    labels.flags.writeable = False
    return labels


@kernel(inline=True)
def _bin(r, g, b):
    """The table row of an RGB value in [0, 255] (floats truncated, as their 8-bit values; values
    outside are clamped to the nearest bin)."""
    return _level(r) + (_level(g) << 5) + (_level(b) << 10)


@kernel(inline=True)
def _level(v):
    """The bin (0..31) of one channel's value."""
    return min(max(np.int64(v), 0) >> 3, 31)


@kernel
def _name_labels(img, labels, out):
    """``labels[bin]`` of every pixel of ``img`` (H, W, 3) into ``out`` (H, W)."""
    for y in range(img.shape[0]):
        for x in range(img.shape[1]):
            out[y, x] = labels[_bin(img[y, x, 0], img[y, x, 1], img[y, x, 2])]


@kernel
def colour_name_planes_kernel(patches, cell, table, out, channel):
    """Kernel-level :func:`colour_names` (no checks): for each RGB patch of ``patches`` (K, H, W,
    3) float32 in [0, 255], the mean over each ``cell`` x ``cell`` cell of the table's rows
    (``table`` (32768, C): the probabilities or the reduced channels) into channels ``channel ..
    channel + C - 1`` of ``out`` (K, C', H // cell, W // cell); sums in float64, rounded once."""
    nc = table.shape[1]
    ch, cw = out.shape[2], out.shape[3]
    totals = np.empty((cw, nc))
    scale = 1.0 / (cell * cell)
    for k in range(patches.shape[0]):
        for cy in range(ch):
            totals[:] = 0.0
            for y in range(cy * cell, (cy + 1) * cell):
                for x in range(cw * cell):
                    row = table[_bin(patches[k, y, x, 0], patches[k, y, x, 1], patches[k, y, x, 2])]
                    t = totals[x // cell]
                    for c in range(nc):
                        t[c] += row[c]
            for cx in range(cw):
                for c in range(nc):
                    out[k, channel + c, cy, cx] = np.float32(totals[cx, c] * scale)


@warmup_hook
def _warmup():
    img = np.zeros((4, 4, 3), np.uint8)
    colour_names(img, 2, reduced=True)
    colour_name_image(img)
