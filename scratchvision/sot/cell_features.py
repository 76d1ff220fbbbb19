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
from .._validate import as_array, check_image, check_int

__all__ = ["fhog", "fhog_stack", "fhog_planes", "fhog_planes_kernel", "gray_cells", "gray_planes", "gray_planes_kernel"]

_EPS = 1e-4


@kernel
def _orientation_histograms(img, cell, hist):
    """Each pixel's gradient (central differences, edges replicated; in a colour image, the
    channel whose gradient is strongest) is snapped to the nearest of 18 directions 20 degrees
    apart, and its magnitude is shared bilinearly between the four cells whose centres surround
    the pixel. ``hist`` (18, cells_h + 2, cells_w + 2) has a margin of one cell on every side to
    catch the votes that fall outside. A few rows at a time: the gradients, then row by row the
    directions and magnitudes (loops the compiler vectorises), then the votes, pixel by pixel."""
    ch, cw = hist.shape[1] - 2, hist.shape[2] - 2
    width = cw * cell
    bx = np.cos((np.arange(9) + 0.5) * (np.pi / 9))  # boundaries between the 18 directions
    by = np.sin((np.arange(9) + 0.5) * (np.pi / 9))
    # each column's left cell (in the margin's frame) and its weight
    col_cell = np.empty(width, np.int64)
    col_w = np.empty(width)
    for x in range(width):
        xp = (x + 0.5) / cell - 0.5
        col_cell[x] = int(np.floor(xp)) + 1
        col_w[x] = xp + 1 - col_cell[x]
    w = img.shape[1]
    block = max(1, -(-1024 // w))  # rows per block: enough pixels for the vectorised loops
    gx = np.empty((block, w))
    gy = np.empty((block, w))
    mag = np.empty((block, w))
    bins = np.empty(width, np.int64)
    for y0 in range(0, ch * cell, block):
        rows = min(block, ch * cell - y0)
        _gradient_rows(img, y0, rows, gx, gy, mag)
        for r in range(rows):
            y = y0 + r
            for x in range(width):
                # fold into the upper half-plane, then count the boundaries (10, 30, ..., 170
                # degrees) the direction lies beyond: the nearest of 0, 20, ..., 180 degrees
                # (arithmetic, not branches: the signs are noise to a branch predictor)
                flip = gy[r, x] < 0
                fx_ = gx[r, x] * (1.0 - 2.0 * flip)
                fy_ = np.abs(gy[r, x])
                b = 9 * flip
                for o in range(9):
                    b += fy_ * bx[o] - fx_ * by[o] > 0
                bins[x] = b - 18 * (b == 18)
                mag[r, x] = np.sqrt(mag[r, x])
            yp = (y + 0.5) / cell - 0.5
            iy = int(np.floor(yp)) + 1
            fy = yp + 1 - iy
            for x in range(width):
                b, m = bins[x], mag[r, x]
                ix, fx = col_cell[x], col_w[x]
                hist[b, iy, ix] += (1.0 - fx) * (1.0 - fy) * m
                hist[b, iy, ix + 1] += fx * (1.0 - fy) * m
                hist[b, iy + 1, ix] += (1.0 - fx) * fy * m
                hist[b, iy + 1, ix + 1] += fx * fy * m


@kernel
def _gradient_rows(img, y0, rows, gx, gy, energy):
    """Central differences of image rows ``y0 .. y0 + rows - 1`` (edges replicated) into rows
    ``0 .. rows - 1`` of ``gx, gy, energy`` (C-contiguous, as wide as the image), in the channel
    where the gradient energy ``gx^2 + gy^2`` is largest (the first such channel).

    The rows that have a row above and below run as one stretch of the flattened image, in a
    loop without branches that LLVM vectorises even when rows are narrow (which channel wins is
    noise to a branch predictor; unsigned indices spare Numba's negative-index checks). There
    the first and last column of each row get their neighbours from the next and previous rows,
    so the edge columns, and the first and last image rows, are computed again with replicated
    edges afterwards, by the same arithmetic."""
    h, w, channels = img.shape
    flat = img.reshape(-1)
    gxf, gyf, ef = gx.reshape(-1), gy.reshape(-1), energy.reshape(-1)
    lo, hi = max(y0, 1), min(y0 + rows, h - 1)  # the rows with both vertical neighbours
    if channels not in (1, 3) or w < 3:
        hi = lo
    first, start, stop = np.uint64(y0 * w), np.uint64(lo * w), np.uint64(max(hi, lo) * w)
    if channels == 3:  # the channel count spelled out, so that the loads' strides are constants
        line = np.uint64(3 * w)
        step = np.uint64(3)
        for p in range(start, stop):
            q = p * step
            gxf[p - first], gyf[p - first], ef[p - first] = _strongest_of_three(flat, q - step, q + step,
                                                                                q - line, q + line)
    else:
        line = np.uint64(w)
        for p in range(start, stop):
            gxf[p - first], gyf[p - first], ef[p - first] = _difference(flat, p - np.uint64(1), p + np.uint64(1),
                                                                        p - line, p + line)
    for r in range(rows):
        y = y0 + r
        up, down = max(y - 1, 0) * w, min(y + 1, h - 1) * w
        for x_from, x_to in ((0, 1), (w - 1, w)) if lo <= y < hi else ((0, w), (w, w)):
            for x in range(x_from, x_to):
                left, right = y * w + max(x - 1, 0), y * w + min(x + 1, w - 1)
                if channels == 3:
                    gx[r, x], gy[r, x], energy[r, x] = _strongest_of_three(
                        flat, np.uint64(3 * left), np.uint64(3 * right), np.uint64(3 * (up + x)),
                        np.uint64(3 * (down + x)))
                    continue
                for c in range(channels):
                    dx, dy, e = _difference(flat, np.uint64(left * channels + c), np.uint64(right * channels + c),
                                            np.uint64((up + x) * channels + c), np.uint64((down + x) * channels + c))
                    if c == 0 or e > energy[r, x]:
                        gx[r, x], gy[r, x], energy[r, x] = dx, dy, e


@kernel(inline=True)
def _strongest_of_three(flat, left, right, up, down):
    """(dx, dy, dx^2 + dy^2) of the channel of an RGB pixel whose gradient energy is largest
    (the first such), from the flattened image's (unsigned) indices of its left, right, upper
    and lower neighbours' first channel; chosen by selects, not branches."""
    one, two = np.uint64(1), np.uint64(2)
    dx, dy, e = _difference(flat, left, right, up, down)
    dx1, dy1, e1 = _difference(flat, left + one, right + one, up + one, down + one)
    dx2, dy2, e2 = _difference(flat, left + two, right + two, up + two, down + two)
    take = e1 > e
    dx, dy, e = (dx1 if take else dx), (dy1 if take else dy), (e1 if take else e)
    take = e2 > e
    return (dx2 if take else dx), (dy2 if take else dy), (e2 if take else e)


@kernel(inline=True)
def _difference(flat, left, right, up, down):
    """(dx, dy, dx^2 + dy^2) in float64 from the flattened image's elements at the (unsigned)
    indices of a pixel's left, right, upper and lower neighbours: the central differences."""
    dx = (np.float64(flat[right]) - flat[left]) * 0.5
    dy = (np.float64(flat[down]) - flat[up]) * 0.5
    return dx, dy, dx * dx + dy * dy


def fhog(image, cell_size: int = 4) -> np.ndarray:
    """31-channel HOG of a gray (H, W) or colour (H, W, C) image on cells of ``cell_size``
    pixels: (H // cell_size, W // cell_size, 31) float32. In colour, each pixel's gradient is
    that of its strongest channel (as Felzenszwalb et al. do).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, C)
    cell_size : int

    Returns
    -------
    ndarray (H // cell_size, W // cell_size, 31) float32

    References
    ----------
    P. F. Felzenszwalb, R. B. Girshick, D. McAllester, D. Ramanan. "Object Detection with
    Discriminatively Trained Part-Based Models." TPAMI 32(9), 2010. doi:10.1109/TPAMI.2009.167
    """
    img = check_image(image, "image", any_channels=True)
    planes = _fhog_planes(img[None] if img.ndim == 3 else img[None, ..., None], _cell(cell_size), "image")
    return planes[0].transpose(1, 2, 0)


def fhog_stack(images, cell_size: int = 4) -> np.ndarray:
    """:func:`fhog` of K images of one size (K, H, W, C) in one call: (K, H // cell_size,
    W // cell_size, 31) float32 (a view of :func:`fhog_planes`' channel-first array)."""
    return fhog_planes(images, cell_size).transpose(0, 2, 3, 1)


def fhog_planes(images, cell_size: int = 4) -> np.ndarray:
    """:func:`fhog_stack` with the channels first: (K, 31, H // cell_size, W // cell_size)
    float32, the layout the per-channel FFTs of the trackers read."""
    return _fhog_planes(_checked_stack(images, "images", 4), _cell(cell_size), "images")


def _fhog_planes(imgs, cell, name):
    k, h, w = imgs.shape[:3]
    ch, cw = h // cell, w // cell
    if ch < 1 or cw < 1:
        raise ValueError(f"{name} of {h}x{w} pixels are smaller than one {cell}x{cell} cell")
    out = np.empty((k, 31, ch, cw), np.float32)
    fhog_planes_kernel(np.ascontiguousarray(imgs), cell, out, 0)
    return out


def _cell(cell_size):
    return check_int(cell_size, "cell_size", low=1)


def _checked_stack(images, name, ndim):
    """``images`` as an array of ``ndim`` dimensions, (K, H, W, C) or (K, H, W), of an image
    dtype with finite values (an empty stack passes)."""
    a = as_array(images, name)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have shape {'(K, H, W, C)' if ndim == 4 else '(K, H, W)'}, got {a.shape}")
    check_image(a.reshape((a.shape[0] * a.shape[1],) + a.shape[2:]), name, any_channels=True, min_size=0)
    return a


@kernel
def fhog_planes_kernel(imgs, cell, out, channel):
    """Kernel-level :func:`fhog_planes` (no checks): the FHOG of each image (K, H, W, C) into
    channels ``channel .. channel + 30`` of ``out`` (K, C', H // cell, W // cell)."""
    ch, cw = out.shape[2], out.shape[3]
    hist = np.empty((18, ch + 2, cw + 2))
    for k in range(imgs.shape[0]):
        hist[:] = 0.0
        _orientation_histograms(imgs[k], cell, hist)
        _normalise(hist, out[k], channel)


@kernel
def _normalise(hist, out, channel):
    """The 31 FHOG features of each cell from the orientation histograms ``hist`` (18, cells_h +
    2, cells_w + 2: :func:`_orientation_histograms`' margin is left out) into the channels
    ``channel .. channel + 30`` of ``out`` (C, cells_h, cells_w): 18 sensitive and 9
    insensitive orientations, each the mean over the 4 block normalisations of min(h / n, 0.2),
    and 4 texture features (0.2357 times the sum of the sensitive ones under each
    normalisation). Each step runs over the whole grid with its margin, flattened (loops long
    enough to vectorise even on narrow grids; the margin's values are not used)."""
    wp = hist.shape[2]
    ch, cw = hist.shape[1] - 2, wp - 2
    n = hist.shape[1] * wp
    h = hist.reshape((18, n))
    energy = np.zeros(n)  # each cell's gradient energy
    for b in range(9):
        for p in range(n):
            v = h[b, p] + h[b + 9, p]
            energy[p] += v * v
    grid = energy.reshape((ch + 2, wp))
    for y in range(ch + 2):  # the margin takes the nearest cell's energy (edges replicated)
        step = 1 if y == 0 or y == ch + 1 else wp - 1
        for x in range(0, wp, step):
            grid[y, x] = grid[min(max(y, 1), ch), min(max(x, 1), cw)]
    # 1 / the gradient energy of the four 2x2 blocks of cells that contain each cell
    norms = np.empty((4, n))
    first, last, line = np.uint64(wp + 1), np.uint64(n - wp - 1), np.uint64(wp)
    one = np.uint64(1)
    for p in range(first, last):
        above, below = p - line, p + line
        norms[0, p] = 1.0 / np.sqrt(energy[above - one] + energy[p - one] + energy[above] + energy[p] + _EPS)
        norms[1, p] = 1.0 / np.sqrt(energy[above] + energy[p] + energy[above + one] + energy[p + one] + _EPS)
        norms[2, p] = 1.0 / np.sqrt(energy[p - one] + energy[below - one] + energy[p] + energy[below] + _EPS)
        norms[3, p] = 1.0 / np.sqrt(energy[p] + energy[below] + energy[p + one] + energy[below + one] + _EPS)
    features = np.empty((31, n), np.float32)
    texture = np.zeros((4, n))
    for b in range(27):
        for p in range(first, last):
            v = h[b, p] if b < 18 else h[b - 18, p] + h[b - 9, p]
            h0, h1 = min(v * norms[0, p], 0.2), min(v * norms[1, p], 0.2)
            h2, h3 = min(v * norms[2, p], 0.2), min(v * norms[3, p], 0.2)
            features[b, p] = 0.5 * (h0 + h1 + h2 + h3)
            if b < 18:
                texture[0, p] += h0
                texture[1, p] += h1
                texture[2, p] += h2
                texture[3, p] += h3
    for t in range(4):
        for p in range(first, last):
            features[27 + t, p] = 0.2357 * texture[t, p]
    cells = features.reshape((31, ch + 2, wp))
    for f in range(31):
        for y in range(ch):
            for x in range(cw):
                out[channel + f, y, x] = cells[f, y + 1, x + 1]


def gray_cells(image, cell_size: int = 4) -> np.ndarray:
    """The gray level in [-0.5, 0.5] averaged over each cell: (H // cell_size, W // cell_size, 1)
    for a gray (H, W) image, (K, H // cell_size, W // cell_size, 1) for a stack (K, H, W).

    Parameters
    ----------
    image : ndarray (H, W) or (K, H, W)
    cell_size : int

    Returns
    -------
    ndarray (H // cell_size, W // cell_size, 1) or (K, H // cell_size, W // cell_size, 1) float32
    """
    img = as_array(image, "image")
    stack = check_image(img, "image", allow_color=False)[None] if img.ndim == 2 else _checked_stack(img, "image", 3)
    out = _gray_planes(stack, _cell(cell_size))
    return out.reshape(img.shape[:-2] + out.shape[2:] + (1,))


def gray_planes(images, cell_size: int = 4) -> np.ndarray:
    """:func:`gray_cells` of a stack (K, H, W) as one channel-first plane: (K, 1, H // cell_size,
    W // cell_size) float32."""
    return _gray_planes(_checked_stack(images, "images", 3), _cell(cell_size))


def _gray_planes(stack, cell):
    k, h, w = stack.shape
    out = np.empty((k, 1, h // cell, w // cell), np.float32)
    gray_planes_kernel(stack, cell, out, 0)
    return out


@kernel
def gray_planes_kernel(stack, cell, out, channel):
    """Kernel-level :func:`gray_planes` (no checks), into channel ``channel`` of ``out`` (K, C,
    H // cell, W // cell): the mean of ``v / 255 - 0.5`` over each cell, in float64, summed row
    by row from the cell's top-left pixel (NumPy's order for this reduction), then rounded to
    float32. A row of cells is summed side by side (each cell's own sum keeps that order), so
    the additions of neighbouring cells overlap instead of waiting on each other."""
    cw = out.shape[3]
    values = np.empty(cw * cell)
    totals = np.empty(cw)
    for k in range(out.shape[0]):
        for cy in range(out.shape[2]):
            totals[:] = 0.0
            for y in range(cy * cell, (cy + 1) * cell):
                for x in range(cw * cell):
                    values[x] = np.float64(stack[k, y, x]) / 255.0 - 0.5
                for dx in range(cell):
                    for cx in range(cw):
                        totals[cx] += values[cx * cell + dx]
            for cx in range(cw):
                out[k, channel, cy, cx] = np.float32(totals[cx] / (cell * cell))


@warmup_hook
def _warmup():
    fhog(np.zeros((8, 8), np.float32), 4)
