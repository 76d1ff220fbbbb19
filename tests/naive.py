"""The test oracles: slow versions, obviously correct, written from the definitions (or, where
named, transcribed from the reference implementation), that tests compare the library against.
One place for them, as stumpy keeps its ``naive.py``."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["flow_errors", "iou", "iou_xywh", "bilinear_grid", "conv", "bilinear_zero_padded", "lane_sums", "fhog",
           "tube_mask"]


def iou(a, b, one=0.0):
    """IoU of every xyxy box of ``a`` with every one of ``b``, pair by pair (``one``: 1 for
    pixel-inclusive sides)."""
    out = np.zeros((len(a), len(b)))
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            area_p = max(p[2] - p[0] + one, 0) * max(p[3] - p[1] + one, 0)
            area_q = max(q[2] - q[0] + one, 0) * max(q[3] - q[1] + one, 0)
            iw = min(p[2], q[2]) - max(p[0], q[0]) + one
            ih = min(p[3], q[3]) - max(p[1], q[1]) + one
            inter = iw * ih if iw > 0 and ih > 0 else 0.0
            union = area_p + area_q - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def iou_xywh(a, b):
    """IoU of (x, y, w, h) boxes, written out here for the references' accumulators."""
    ax2, ay2, bx2, by2 = a[:, 0] + a[:, 2], a[:, 1] + a[:, 3], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.maximum(np.minimum(ax2[:, None], bx2[None]) - np.maximum(a[:, 0][:, None], b[:, 0][None]), 0)
    ih = np.maximum(np.minimum(ay2[:, None], by2[None]) - np.maximum(a[:, 1][:, None], b[:, 1][None]), 0)
    inter = iw * ih
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(inter > 0, inter / union, 0.0)


def bilinear_grid(img, x0, ax, y0, ay):
    """Samples (K, oh, ow, C) of ``img`` (H, W, C) on K grids of taps, by the definition: the
    float32 blend of the four taps (edges repeated), along x, then along y (OpenCV's order)."""
    f = img.astype(np.float32)
    h, w = f.shape[:2]
    one = np.float32(1)
    out = []
    for k in range(len(x0)):
        r0, r1 = f[y0[k]], f[np.minimum(y0[k] + 1, h - 1)]
        c0, c1 = x0[k], np.minimum(x0[k] + 1, w - 1)
        a, b = ax[k][None, :, None], ay[k][:, None, None]
        upper = r0[:, c0] * (one - a) + r0[:, c1] * a
        lower = r1[:, c0] * (one - a) + r1[:, c1] * a
        out.append(upper * (one - b) + lower * b)
    return np.stack(out)


def conv(x, w, b, stride, pad, dil, groups):
    """Direct definition: sum over input channels of the group and kernel offsets (float64)."""
    x = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(p, p) for p in pad])
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    k = w.shape[2:]
    out_sz = [(x.shape[2 + i] - dil[i] * (k[i] - 1) - 1) // stride[i] + 1 for i in range(3)]
    out = np.zeros((n, o) + tuple(out_sz))
    og = o // groups
    for oc in range(o):
        g = oc // og
        for kt in range(k[0]):
            for kh in range(k[1]):
                for kw in range(k[2]):
                    sl = x[:, g * cg:(g + 1) * cg,
                           kt * dil[0]:kt * dil[0] + stride[0] * out_sz[0]:stride[0],
                           kh * dil[1]:kh * dil[1] + stride[1] * out_sz[1]:stride[1],
                           kw * dil[2]:kw * dil[2] + stride[2] * out_sz[2]:stride[2]]
                    out[:, oc] += np.tensordot(w[oc, :, kt, kh, kw].astype(np.float64), sl, axes=([0], [1]))
        if b is not None:
            out[:, oc] += b[oc]
    return out


def bilinear_zero_padded(image, x, y):
    """grid_sample's definition: the four taps around (x, y), each left out when outside."""
    h, w = image.shape
    x0, y0 = int(np.floor(x)), int(np.floor(y))
    total = 0.0
    for yy, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
        for xx, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
            if 0 <= yy < h and 0 <= xx < w:
                total += image[yy, xx] * wx * wy
    return total


def lane_sums(src, step, pairs):
    lanes = np.zeros(4, np.float32)
    for i in range(0, len(src) - 7, step):
        for k in range(4):
            term = int(src[i + k]) + (int(src[i + 4 + k]) if pairs else 0)
            lanes[k] = np.float32(lanes[k] + np.float32(term))  # one float32 rounding per add
    return lanes, np.float32((lanes[0] + lanes[2]) + (lanes[1] + lanes[3]))


def fhog(image, cell):
    """FHOG transcribed from Felzenszwalb et al. in NumPy, independently of the kernels: the
    direction by arctan2 and rounding (the kernel counts boundary crossings), the votes by
    np.add.at, the four block normalisations by array shifts."""
    img = np.asarray(image, np.float64)
    img = img[..., None] if img.ndim == 2 else img
    pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    dx = (pad[1:-1, 2:] - pad[1:-1, :-2]) / 2
    dy = (pad[2:, 1:-1] - pad[:-2, 1:-1]) / 2
    best = np.argmax(dx**2 + dy**2, axis=2)[..., None]  # the first strongest channel
    gx, gy = np.take_along_axis(dx, best, 2)[..., 0], np.take_along_axis(dy, best, 2)[..., 0]
    orient = np.rint(np.mod(np.arctan2(gy, gx), 2 * np.pi) / (np.pi / 9)).astype(int) % 18
    mag = np.hypot(gx, gy)
    ch, cw = img.shape[0] // cell, img.shape[1] // cell
    hist = np.zeros((ch + 2, cw + 2, 18))
    ys, xs = np.mgrid[0:ch * cell, 0:cw * cell]
    yp, xp = (ys + 0.5) / cell - 0.5, (xs + 0.5) / cell - 0.5
    iy, ix = np.floor(yp).astype(int), np.floor(xp).astype(int)
    fy, fx = yp - iy, xp - ix
    m, o = mag[:ch * cell, :cw * cell], orient[:ch * cell, :cw * cell]
    for oy, wy in ((0, 1 - fy), (1, fy)):
        for ox, wx in ((0, 1 - fx), (1, fx)):
            np.add.at(hist, (iy + 1 + oy, ix + 1 + ox, o), wy * wx * m)
    h = hist[1:-1, 1:-1]
    energy = np.pad(((h[..., :9] + h[..., 9:]) ** 2).sum(axis=2), 1, mode="edge")
    blocks = energy[:-1, :-1] + energy[1:, :-1] + energy[:-1, 1:] + energy[1:, 1:]  # (ch + 1, cw + 1)
    norms = [1 / np.sqrt(blocks[a:a + ch, b:b + cw] + 1e-4)[..., None] for a, b in ((0, 0), (0, 1), (1, 0), (1, 1))]
    sensitive = [np.minimum(h * n, 0.2) for n in norms]
    insensitive = [np.minimum((h[..., :9] + h[..., 9:]) * n, 0.2) for n in norms]
    texture = [0.2357 * s.sum(axis=2, keepdims=True) for s in sensitive]
    return np.concatenate([0.5 * sum(sensitive), 0.5 * sum(insensitive)] + texture, axis=2)


def tube_mask(frames, height, width, mask_ratio, seed):
    """VideoMAE's TubeMaskingGenerator (MCG-NJU/VideoMAE masking_generator.py) as written there,
    on NumPy's global generator."""
    per_frame_patches = height * width
    per_frame_masks = int(mask_ratio * per_frame_patches)
    mask_per_frame = np.hstack([np.zeros(per_frame_patches - per_frame_masks), np.ones(per_frame_masks)])
    np.random.seed(seed)
    np.random.shuffle(mask_per_frame)
    return np.tile(mask_per_frame, (frames, 1)).flatten()


def flow_errors(flow, gt):
    """Mean endpoint error and mean angular error (degrees, between (u, v, 1) and (u_gt, v_gt, 1))
    by a loop over the pixels, skipping those whose ground truth is unknown (beyond 1e9)."""
    epe, ae = [], []
    for i in range(flow.shape[0]):
        for j in range(flow.shape[1]):
            if abs(gt[i, j, 0]) > 1e9 or abs(gt[i, j, 1]) > 1e9:
                continue
            u, v = float(flow[i, j, 0]), float(flow[i, j, 1])
            gu, gv = float(gt[i, j, 0]), float(gt[i, j, 1])
            epe.append(math.sqrt((u - gu) ** 2 + (v - gv) ** 2))
            c = (1 + u * gu + v * gv) / math.sqrt((1 + u * u + v * v) * (1 + gu * gu + gv * gv))
            ae.append(math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    return float(np.mean(epe)), float(np.mean(ae))
