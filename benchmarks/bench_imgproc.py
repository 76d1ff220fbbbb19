"""Bilinear remap, bilinear resize and RGB->gray against OpenCV (and SciPy's map_coordinates for
the remap)."""

from __future__ import annotations

import numpy as np
from common import compile_times, measure, set_threads

TITLE = "Image operations: bilinear remap, resize and RGB->gray vs OpenCV / SciPy"

SIZES = [(480, 640), (436, 1024)]


def run(threads, repeat):
    import cv2
    from scipy import ndimage

    from scratchvision import remap, resize, rgb_to_gray

    rows = []
    rng = np.random.default_rng(0)
    for h, w in SIZES:
        img = (rng.random((h, w)) * 255).astype(np.float32)
        rgb = (rng.random((h, w, 3)) * 255).astype(np.uint8)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        mx = xx + rng.uniform(-3, 3, (h, w)).astype(np.float32)
        my = yy + rng.uniform(-3, 3, (h, w)).astype(np.float32)
        for n in threads:
            set_threads(n)
            ours = measure(lambda: remap(img, mx, my), repeat=repeat)
            ref = measure(lambda: cv2.remap(img, mx, my, cv2.INTER_LINEAR), repeat=repeat)
            rows.append({"case": f"remap float32 {w}x{h}", "threads": n, "ours": ours["median_ms"],
                         "ours_iqr": ours["iqr_ms"], "reference": "cv2.remap INTER_LINEAR",
                         "ref": ref["median_ms"], "ratio": ours["median_ms"] / ref["median_ms"]})
            if n == 1:
                sp = measure(lambda: ndimage.map_coordinates(img, [my, mx], order=1, mode="nearest"),
                             repeat=max(3, repeat // 3))
                rows.append({"case": f"remap float32 {w}x{h}", "threads": n, "ours": ours["median_ms"],
                             "ours_iqr": ours["iqr_ms"], "reference": "scipy map_coordinates order=1",
                             "ref": sp["median_ms"], "ratio": ours["median_ms"] / sp["median_ms"]})
            for label, src, dsize in ((f"resize uint8 RGB {w}x{h} -> half", rgb, (w // 2, h // 2)),
                                      (f"resize float32 {w}x{h} -> 0.8x", img, (w * 4 // 5, h * 4 // 5)),
                                      (f"resize float32 {w}x{h} -> 2x", img, (2 * w, 2 * h))):
                ours = measure(lambda: resize(src, dsize), repeat=repeat)
                ref = measure(lambda: cv2.resize(src, dsize, interpolation=cv2.INTER_LINEAR), repeat=repeat)
                rows.append({"case": label, "threads": n, "ours": ours["median_ms"], "ours_iqr": ours["iqr_ms"],
                             "reference": "cv2.resize INTER_LINEAR", "ref": ref["median_ms"],
                             "ratio": ours["median_ms"] / ref["median_ms"]})
            ours = measure(lambda: rgb_to_gray(rgb), repeat=repeat)
            ref = measure(lambda: cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), repeat=repeat)
            rows.append({"case": f"rgb_to_gray uint8 {w}x{h}", "threads": n, "ours": ours["median_ms"],
                         "ours_iqr": ours["iqr_ms"], "reference": "cv2.cvtColor RGB2GRAY",
                         "ref": ref["median_ms"], "ratio": ours["median_ms"] / ref["median_ms"]})
    c = compile_times("import numpy as np, scratchvision as sv\nimg = np.zeros((64, 64), np.float32)\n"
                      "m = np.zeros((8, 8), np.float32)", "sv.remap(img, m, m)")
    notes = (f"First call of `remap` in a fresh interpreter: {c['cold_s']:.2f} s with an empty "
             f"NUMBA_CACHE_DIR (JIT compile), {c['cached_s']:.3f} s from the cache. cv2.remap rounds "
             "positions to 1/32 px (fixed-point tables); ours interpolates exactly (equal to SciPy). "
             "Our resize returns float32, exact bilinear blends; OpenCV's keeps uint8 for uint8 input (rounded, "
             "a quarter of the bytes written) and also rounds its weights to fixed point there.")
    return rows, notes
