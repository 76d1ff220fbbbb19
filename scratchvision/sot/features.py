"""Features of the correlation-filter trackers: Felzenszwalb's 31-channel HOG (FHOG) on a cell
grid, and the normalised gray level pooled on the same grid.

FHOG (Felzenszwalb et al. 2010, the variant KCF and CSRT use): per pixel, the gradient by central
differences (in colour, that of the channel where it is strongest), snapped to the nearest of 18
contrast-sensitive directions (0..360 degrees); its magnitude is shared bilinearly between the
four cells around the pixel; each cell's histogram is normalised by the gradient energy of the
four 2x2 blocks of cells around it, each normalisation clipped at 0.2, giving 18 sensitive + 9
insensitive (opposite directions summed) orientation features averaged over the four
normalisations, plus 4 "texture" features (the sum over orientations under each normalisation).

References
----------
P. F. Felzenszwalb, R. B. Girshick, D. McAllester, D. Ramanan. "Object Detection with
Discriminatively Trained Part-Based Models." IEEE TPAMI 32(9), 2010. doi:10.1109/TPAMI.2009.167
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel, warmup_hook

__all__ = ["fhog", "fhog_stack", "gray_cells"]

_EPS = 1e-4


@kernel
def _orientation_histograms(img, cell, hist):
    """Each pixel's gradient (central differences, edges replicated; in a colour image, the
    channel whose gradient is strongest) is snapped to the nearest of 18 directions 20 degrees
    apart, and its magnitude is shared
    bilinearly between the four cells whose centres surround the pixel. ``hist`` has a margin of
    one cell on every side to catch the votes that fall outside."""
    h, w, channels = img.shape
    ch, cw = hist.shape[0] - 2, hist.shape[1] - 2
    bx = np.cos((np.arange(9) + 0.5) * (np.pi / 9))  # boundaries between the 18 directions
    by = np.sin((np.arange(9) + 0.5) * (np.pi / 9))
    # each column's left cell (in the margin's frame) and its weight
    col_cell = np.empty(cw * cell, np.int64)
    col_w = np.empty(cw * cell)
    for x in range(cw * cell):
        xp = (x + 0.5) / cell - 0.5
        col_cell[x] = int(np.floor(xp)) + 1
        col_w[x] = xp + 1 - col_cell[x]
    for y in range(ch * cell):
        up, down = max(y - 1, 0), min(y + 1, h - 1)
        yp = (y + 0.5) / cell - 0.5
        iy = int(np.floor(yp)) + 1
        fy = yp + 1 - iy
        for x in range(cw * cell):
            left, right = max(x - 1, 0), min(x + 1, w - 1)
            gx = gy = energy = 0.0
            for c in range(channels):
                dx = (img[y, right, c] - img[y, left, c]) * 0.5
                dy = (img[down, x, c] - img[up, x, c]) * 0.5
                e = dx * dx + dy * dy
                if c == 0 or e > energy:
                    gx, gy, energy = dx, dy, e
            # fold into the upper half-plane, then count the boundaries (10, 30, ..., 170
            # degrees) the direction lies beyond: the nearest of 0, 20, ..., 180 degrees
            flip = gy < 0
            fx_, fy_ = (-gx, -gy) if flip else (gx, gy)
            b = 0
            for o in range(9):
                b += fy_ * bx[o] - fx_ * by[o] > 0
            b = (b + 9) % 18 if flip else b % 18
            mag = np.sqrt(energy)
            ix, fx = col_cell[x], col_w[x]
            hist[iy, ix, b] += (1.0 - fx) * (1.0 - fy) * mag
            hist[iy, ix + 1, b] += fx * (1.0 - fy) * mag
            hist[iy + 1, ix, b] += (1.0 - fx) * fy * mag
            hist[iy + 1, ix + 1, b] += fx * fy * mag


def fhog(image, cell_size: int = 4) -> np.ndarray:
    """31-channel HOG of a gray (H, W) or colour (H, W, C) image on cells of ``cell_size``
    pixels: (H // cell_size, W // cell_size, 31) float32. In colour, each pixel's gradient is
    that of its strongest channel (as Felzenszwalb et al. do)."""
    img = np.asarray(image)
    return fhog_stack(img[None] if img.ndim == 3 else img[None, ..., None], cell_size)[0]


def fhog_stack(images, cell_size: int = 4) -> np.ndarray:
    """:func:`fhog` of K images of one size (K, H, W, C) in one call: (K, H // cell_size,
    W // cell_size, 31) float32."""
    imgs = np.asarray(images, np.float64)
    k, h, w = imgs.shape[:3]
    ch, cw = h // cell_size, w // cell_size
    if ch < 1 or cw < 1:
        raise ValueError(f"image {imgs.shape[1:]} is smaller than one {cell_size}x{cell_size} cell")
    hist = np.zeros((k, ch + 2, cw + 2, 18))
    out = np.empty((k, ch, cw, 31), np.float32)
    _fhog_kernel(imgs, cell_size, hist, out)
    return out


@kernel
def _fhog_kernel(imgs, cell, hist, out):
    for k in range(imgs.shape[0]):
        _orientation_histograms(imgs[k], cell, hist[k])
        _normalise(hist[k, 1:-1, 1:-1], out[k])


@kernel
def _normalise(hist, out):
    """The 31 FHOG features of each cell from the orientation histograms: 18 sensitive and 9
    insensitive orientations, each the mean over the 4 block normalisations of min(h / n, 0.2),
    and 4 texture features (0.2357 times the sum of the sensitive ones under each normalisation)."""
    ch, cw = hist.shape[0], hist.shape[1]
    energy = np.empty((ch + 2, cw + 2))
    for y in range(ch + 2):
        for x in range(cw + 2):
            cell = hist[min(max(y - 1, 0), ch - 1), min(max(x - 1, 0), cw - 1)]
            e = 0.0
            for b in range(9):
                v = cell[b] + cell[b + 9]
                e += v * v
            energy[y, x] = e
    for y in range(ch):
        for x in range(cw):
            # 1 / the gradient energy of the four 2x2 blocks of cells that contain this cell
            i0 = 1.0 / np.sqrt(energy[y, x] + energy[y + 1, x] + energy[y, x + 1] + energy[y + 1, x + 1] + _EPS)
            i1 = 1.0 / np.sqrt(energy[y, x + 1] + energy[y + 1, x + 1] + energy[y, x + 2] + energy[y + 1, x + 2]
                               + _EPS)
            i2 = 1.0 / np.sqrt(energy[y + 1, x] + energy[y + 2, x] + energy[y + 1, x + 1] + energy[y + 2, x + 1]
                               + _EPS)
            i3 = 1.0 / np.sqrt(energy[y + 1, x + 1] + energy[y + 2, x + 1] + energy[y + 1, x + 2]
                               + energy[y + 2, x + 2] + _EPS)
            t0 = t1 = t2 = t3 = 0.0
            for b in range(18):
                v = hist[y, x, b]
                h0, h1, h2, h3 = min(v * i0, 0.2), min(v * i1, 0.2), min(v * i2, 0.2), min(v * i3, 0.2)
                out[y, x, b] = 0.5 * (h0 + h1 + h2 + h3)
                t0 += h0
                t1 += h1
                t2 += h2
                t3 += h3
            for b in range(9):
                v = hist[y, x, b] + hist[y, x, b + 9]
                out[y, x, 18 + b] = 0.5 * (min(v * i0, 0.2) + min(v * i1, 0.2) + min(v * i2, 0.2) + min(v * i3, 0.2))
            out[y, x, 27] = 0.2357 * t0
            out[y, x, 28] = 0.2357 * t1
            out[y, x, 29] = 0.2357 * t2
            out[y, x, 30] = 0.2357 * t3


def gray_cells(image, cell_size: int = 4) -> np.ndarray:
    """The gray level in [-0.5, 0.5] averaged over each cell: (H // cell_size, W // cell_size, 1)
    for a gray (H, W) image, (K, H // cell_size, W // cell_size, 1) for a stack (K, H, W)."""
    img = np.asarray(image)
    stack = img.reshape((-1,) + img.shape[-2:])
    h, w = stack.shape[1:]
    out = np.empty((len(stack), h // cell_size, w // cell_size, 1), np.float32)
    _cell_means(stack, cell_size, out)
    return out.reshape(img.shape[:-2] + out.shape[1:])


@kernel
def _cell_means(stack, cell, out):
    """Mean of ``v / 255 - 0.5`` over each cell, in float64, summed row by row from the cell's
    top-left pixel (NumPy's order for this reduction), then rounded to float32."""
    for k in range(out.shape[0]):
        for cy in range(out.shape[1]):
            for cx in range(out.shape[2]):
                total = 0.0
                for y in range(cy * cell, (cy + 1) * cell):
                    for x in range(cx * cell, (cx + 1) * cell):
                        total += np.float64(stack[k, y, x]) / 255.0 - 0.5
                out[k, cy, cx, 0] = np.float32(total / (cell * cell))


@warmup_hook
def _warmup():
    fhog(np.zeros((8, 8), np.float32), 4)
