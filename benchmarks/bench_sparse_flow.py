"""Shi-Tomasi corners and pyramidal Lucas-Kanade against OpenCV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from common import compile_times, measure, set_threads

TITLE = "Sparse flow: good_features_to_track and calc_optical_flow_pyr_lk vs OpenCV"

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "flow"


def _pairs(cv2):
    import scratchvision as sv

    seq = sv.synthetic_sequence(n_frames=2, size=(480, 640), n_objects=6, seed=0)
    yield "synthetic 640x480", seq.frames[0], seq.frames[1]
    for name in ("RubberWhale", "Sintel_alley_1_clean"):
        folder = SHARED / name
        if folder.exists():
            a = cv2.imread(str(folder / "frame10.png"), cv2.IMREAD_GRAYSCALE)
            b = cv2.imread(str(folder / "frame11.png"), cv2.IMREAD_GRAYSCALE)
            yield f"{name} {a.shape[1]}x{a.shape[0]}", a, b


def run(threads, repeat):
    import cv2

    import scratchvision as sv

    rows = []
    for label, a, b in _pairs(cv2):
        corners = cv2.goodFeaturesToTrack(a, 500, 0.01, 7).reshape(-1, 2)
        ys, xs = np.mgrid[8:a.shape[0] - 8:4, 8:a.shape[1] - 8:4]
        grid = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float32)[:10000]
        for n in threads:
            set_threads(n)
            cases = [
                ("good_features_to_track 500", lambda: sv.good_features_to_track(a, 500, 0.01, 7),
                 lambda: cv2.goodFeaturesToTrack(a, 500, 0.01, 7)),
                ("pyr_lk 500 corners", lambda: sv.calc_optical_flow_pyr_lk(a, b, corners),
                 lambda: cv2.calcOpticalFlowPyrLK(a, b, corners, None)),
                (f"pyr_lk {len(grid)} grid points", lambda: sv.calc_optical_flow_pyr_lk(a, b, grid),
                 lambda: cv2.calcOpticalFlowPyrLK(a, b, grid, None)),
            ]
            for case, ours_fn, ref_fn in cases:
                ours = measure(ours_fn, repeat=repeat)
                ref = measure(ref_fn, repeat=repeat)
                rows.append({"frames": label, "case": case, "threads": n, "ours (ms)": ours["median_ms"],
                             "cv2 (ms)": ref["median_ms"], "ratio": ours["median_ms"] / ref["median_ms"]})
    c = compile_times("import numpy as np, scratchvision as sv\nimg = (np.random.rand(64, 64) * 255).astype(np.uint8)",
                      "p = sv.good_features_to_track(img, 50, 0.01, 3); sv.calc_optical_flow_pyr_lk(img, img, p)")
    notes = (f"Outputs are bit-identical to cv2 (positions, status; err where status is 1). First call of "
             f"corners + LK in a fresh interpreter: {c['cold_s']:.2f} s cold (JIT), {c['cached_s']:.3f} s cached.")
    return rows, notes
