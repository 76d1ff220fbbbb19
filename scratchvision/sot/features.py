"""Features of the correlation-filter trackers: Felzenszwalb's 31-channel HOG (FHOG) on a cell
grid, and the normalised gray level pooled on the same grid.

FHOG (Felzenszwalb et al. 2010, the variant KCF and CSRT use): per pixel, the gradient by central
differences; its magnitude votes into one of 18 contrast-sensitive orientation bins (0..360
degrees) of the pixel's cell; each cell's histogram is normalised by the gradient energy of the
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

__all__ = ["fhog", "gray_cells"]

_EPS = 1e-4


@kernel
def _orientation_histograms(img, cell, hist):
    """Each pixel's gradient (central differences, edges replicated; in a colour image, the
    channel whose gradient is strongest) adds its magnitude to its cell's bin among 18
    orientations over 0..360 degrees."""
    h, w, channels = img.shape
    ch, cw = hist.shape[0], hist.shape[1]
    two_pi = 2.0 * np.pi
    for y in range(ch * cell):
        up, down = img[max(y - 1, 0)], img[min(y + 1, h - 1)]
        row = img[y]
        yp = (y + 0.5) / cell - 0.5
        iy = int(np.floor(yp))
        fy = yp - iy
        for x in range(cw * cell):
            left, right = row[max(x - 1, 0)], row[min(x + 1, w - 1)]
            gx = gy = energy = 0.0
            for c in range(channels):
                dx = (right[c] - left[c]) * 0.5
                dy = (down[x, c] - up[x, c]) * 0.5
                e = dx * dx + dy * dy
                if c == 0 or e > energy:
                    gx, gy, energy = dx, dy, e
            ang = np.arctan2(gy, gx) % two_pi
            b = min(int(ang / two_pi * 18), 17)
            mag = np.sqrt(energy)
            # bilinear vote into the four cells whose centres surround the pixel
            xp = (x + 0.5) / cell - 0.5
            ix = int(np.floor(xp))
            fx = xp - ix
            for cx, wx in ((ix, 1.0 - fx), (ix + 1, fx)):
                if 0 <= cx < cw:
                    for cy2, wy in ((iy, 1.0 - fy), (iy + 1, fy)):
                        if 0 <= cy2 < ch:
                            hist[cy2, cx, b] += wx * wy * mag


def fhog(image, cell_size: int = 4) -> np.ndarray:
    """31-channel HOG of a gray (H, W) or colour (H, W, C) image on cells of ``cell_size``
    pixels: (H // cell_size, W // cell_size, 31) float32. In colour, each pixel's gradient is
    that of its strongest channel (as Felzenszwalb et al. do)."""
    img = np.asarray(image, np.float64)
    if img.ndim == 2:
        img = img[..., None]
    h, w = img.shape[:2]
    ch, cw = h // cell_size, w // cell_size
    if ch < 1 or cw < 1:
        raise ValueError(f"image {img.shape} is smaller than one {cell_size}x{cell_size} cell")
    hist = np.zeros((ch, cw, 18))
    _orientation_histograms(img, cell_size, hist)
    out = np.empty((ch, cw, 31), np.float32)
    _normalise(hist, out)
    return out


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
            cell = hist[y, x]
            o = out[y, x]
            o[:] = 0.0
            k = 0
            for dy in (0, 1):
                for dx in (0, 1):
                    n = (energy[y + dy, x + dx] + energy[y + dy + 1, x + dx] + energy[y + dy, x + dx + 1]
                         + energy[y + dy + 1, x + dx + 1])
                    inv = 1.0 / np.sqrt(n + _EPS)
                    texture = 0.0
                    for b in range(18):
                        v = min(cell[b] * inv, 0.2)
                        o[b] += 0.5 * v
                        texture += v
                    for b in range(9):
                        o[18 + b] += 0.5 * min((cell[b] + cell[b + 9]) * inv, 0.2)
                    o[27 + k] = 0.2357 * texture
                    k += 1


def gray_cells(image, cell_size: int = 4) -> np.ndarray:
    """The gray level in [-0.5, 0.5] averaged over each cell: (H // cell_size, W // cell_size, 1)."""
    img = np.asarray(image, np.float64) / 255.0 - 0.5
    h, w = img.shape
    ch, cw = h // cell_size, w // cell_size
    cells = img[:ch * cell_size, :cw * cell_size].reshape(ch, cell_size, cw, cell_size).mean(axis=(1, 3))
    return cells[..., None].astype(np.float32)


@warmup_hook
def _warmup():
    fhog(np.zeros((8, 8), np.float32), 4)
