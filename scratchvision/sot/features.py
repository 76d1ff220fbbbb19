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

__all__ = ["fhog", "gray_cells"]

_EPS = 1e-4


def fhog(image, cell_size: int = 4) -> np.ndarray:
    """31-channel HOG of a gray float image (H, W) on cells of ``cell_size`` pixels:
    (H // cell_size, W // cell_size, 31) float32."""
    img = np.asarray(image, np.float64)
    h, w = img.shape
    ch, cw = h // cell_size, w // cell_size
    if ch < 1 or cw < 1:
        raise ValueError(f"image {img.shape} is smaller than one {cell_size}x{cell_size} cell")
    p = np.pad(img, 1, mode="edge")
    gx = (p[1:-1, 2:] - p[1:-1, :-2]) * 0.5
    gy = (p[2:, 1:-1] - p[:-2, 1:-1]) * 0.5
    mag = np.hypot(gx, gy)[:ch * cell_size, :cw * cell_size]
    ang = np.arctan2(gy, gx)[:ch * cell_size, :cw * cell_size] % (2 * np.pi)
    bins = np.minimum((ang / (2 * np.pi) * 18).astype(np.int64), 17)
    # hard-assign each pixel's magnitude to its cell and orientation bin
    cy = np.arange(ch * cell_size) // cell_size
    cx = np.arange(cw * cell_size) // cell_size
    flat = (cy[:, None] * cw + cx[None, :]) * 18 + bins
    hist = np.bincount(flat.ravel(), weights=mag.ravel(), minlength=ch * cw * 18).reshape(ch, cw, 18)
    insensitive = hist[..., :9] + hist[..., 9:]
    energy = np.pad((insensitive**2).sum(axis=2), 1, mode="edge")
    # the four 2x2 block energies around each cell
    blocks = energy[:-1, :-1] + energy[1:, :-1] + energy[:-1, 1:] + energy[1:, 1:]  # (ch + 1, cw + 1)
    norms = [blocks[dy:dy + ch, dx:dx + cw] for dy in (0, 1) for dx in (0, 1)]
    out = np.zeros((ch, cw, 31))
    for k, n in enumerate(norms):
        inv = 1.0 / np.sqrt(n + _EPS)[..., None]
        s = np.minimum(hist * inv, 0.2)
        u = np.minimum(insensitive * inv, 0.2)
        out[..., :18] += 0.5 * s
        out[..., 18:27] += 0.5 * u
        out[..., 27 + k] = 0.2357 * s.sum(axis=2)
    return out.astype(np.float32)


def gray_cells(image, cell_size: int = 4) -> np.ndarray:
    """The gray level in [-0.5, 0.5] averaged over each cell: (H // cell_size, W // cell_size, 1)."""
    img = np.asarray(image, np.float64) / 255.0 - 0.5
    h, w = img.shape
    ch, cw = h // cell_size, w // cell_size
    cells = img[:ch * cell_size, :cw * cell_size].reshape(ch, cell_size, cw, cell_size).mean(axis=(1, 3))
    return cells[..., None].astype(np.float32)
