"""Dense optical flow: Farneback against OpenCV, TV-L1 against OpenCV and scikit-image, and the
accuracy (EPE / AE against ground truth) of every dense method beside the references."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from common import compile_times, measure, set_threads

TITLE = "Dense flow: Farneback, Horn-Schunck, TV-L1 vs OpenCV (and scikit-image)"

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "flow"
FARNEBACK = (0.5, 3, 15, 3, 5, 1.2, 0)  # OpenCV's sample settings


def _frames(cv2, names):
    import scratchvision as sv

    if "synthetic" in names:
        seq = sv.synthetic_sequence(n_frames=2, size=(480, 640), n_objects=6, seed=0)
        yield "synthetic 640x480", seq.frames[0], seq.frames[1], seq.flow[0]
    for name in names:
        folder = SHARED / name
        if name != "synthetic" and folder.exists():
            a = cv2.imread(str(folder / "frame10.png"), cv2.IMREAD_GRAYSCALE)
            b = cv2.imread(str(folder / "frame11.png"), cv2.IMREAD_GRAYSCALE)
            yield f"{name} {a.shape[1]}x{a.shape[0]}", a, b, sv.read_flo(folder / "flow10.flo")


def _skimage():
    try:
        from skimage.registration import optical_flow_ilk, optical_flow_tvl1
    except ImportError:
        return None
    # skimage returns (row, col) = (dy, dx) stacks of float images in [0, 1]
    def as_flow(vu):
        return np.stack([vu[1], vu[0]], axis=2).astype(np.float32)
    return {"tvl1": lambda a, b: as_flow(optical_flow_tvl1(a / 255.0, b / 255.0)),
            "ilk": lambda a, b: as_flow(optical_flow_ilk(a / 255.0, b / 255.0))}


def run(threads, repeat):
    import cv2

    import scratchvision as sv

    sk = _skimage()
    rows = []
    # speed: Farneback at 640x480, 584x388 and 1024x436; TV-L1 on RubberWhale (seconds per call)
    for label, a, b, _ in _frames(cv2, ["synthetic", "RubberWhale", "Sintel_alley_1_clean"]):
        for n in threads:
            set_threads(n)
            ours = measure(lambda: sv.calc_optical_flow_farneback(a, b, None, *FARNEBACK), repeat=repeat)
            ref = measure(lambda: cv2.calcOpticalFlowFarneback(a, b, None, *FARNEBACK), repeat=repeat)
            rows.append({"frames": label, "case": "farneback (0.5,3,15,3,5,1.2)", "threads": n,
                         "ours (ms)": ours["median_ms"], "reference": "cv2", "ref (ms)": ref["median_ms"],
                         "ratio": ours["median_ms"] / ref["median_ms"]})
    for label, a, b, _ in _frames(cv2, ["RubberWhale"]):
        tv = cv2.optflow.DualTVL1OpticalFlow_create()
        for n in threads:
            set_threads(n)
            ours = measure(lambda: sv.calc_optical_flow_tvl1(a, b), repeat=3, warmup=1)
            ref = measure(lambda: tv.calc(a, b, None), repeat=3, warmup=1)
            rows.append({"frames": label, "case": "tvl1 (defaults)", "threads": n, "ours (ms)": ours["median_ms"],
                         "reference": "cv2 DualTVL1", "ref (ms)": ref["median_ms"],
                         "ratio": ours["median_ms"] / ref["median_ms"]})
            hs = measure(lambda: sv.calc_optical_flow_horn_schunck(a, b), repeat=repeat)
            rows.append({"frames": label, "case": "horn_schunck (defaults)", "threads": n,
                         "ours (ms)": hs["median_ms"], "reference": "-", "ref (ms)": float("nan"),
                         "ratio": float("nan")})
        if sk is not None:  # scikit-image is single-threaded
            set_threads(1)
            ours = measure(lambda: sv.calc_optical_flow_tvl1(a, b), repeat=3, warmup=1)
            ref = measure(lambda: sk["tvl1"](a, b), repeat=3, warmup=1)
            rows.append({"frames": label, "case": "tvl1 (defaults)", "threads": 1, "ours (ms)": ours["median_ms"],
                         "reference": "skimage optical_flow_tvl1", "ref (ms)": ref["median_ms"],
                         "ratio": ours["median_ms"] / ref["median_ms"]})
    set_threads(max(threads))
    # accuracy: every method on every pair with ground truth (cv2 TV-L1 only where it takes seconds)
    methods = {
        "farneback (ours)": lambda a, b: sv.calc_optical_flow_farneback(a, b, None, *FARNEBACK),
        "farneback (cv2)": lambda a, b: cv2.calcOpticalFlowFarneback(a, b, None, *FARNEBACK),
        "horn_schunck (ours)": lambda a, b: sv.calc_optical_flow_horn_schunck(a, b),
        "tvl1 (ours)": lambda a, b: sv.calc_optical_flow_tvl1(a, b),
        "DualTVL1 (cv2)": lambda a, b: cv2.optflow.DualTVL1OpticalFlow_create().calc(a, b, None),
        "DIS medium (cv2)": lambda a, b: cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM).calc(a, b, None),
    }
    if sk is not None:
        methods["tvl1 (skimage)"] = sk["tvl1"]
        methods["ilk (skimage)"] = sk["ilk"]
    pairs = ["synthetic", "RubberWhale", "Hydrangea", "Sintel_alley_1_clean", "Sintel_cave_2_clean",
             "Sintel_market_5_clean", "Sintel_market_5_final"]
    for label, a, b, gt in _frames(cv2, pairs):
        for name, fn in methods.items():
            if name == "DualTVL1 (cv2)" and "Sintel" in label and "alley" not in label:
                continue  # 20-60 s per pair
            flow = fn(a, b)
            rows.append({"frames": label, "case": f"accuracy: {name}", "threads": max(threads),
                         "EPE (px)": sv.endpoint_error(flow, gt), "AE (deg)": sv.angular_error(flow, gt)})
    c = compile_times("import numpy as np, scratchvision as sv\nimg = (np.random.rand(64, 64) * 255).astype(np.uint8)",
                      "sv.calc_optical_flow_farneback(img, img, None, 0.5, 1, 9, 2, 5, 1.1, 0)")
    notes = ("Farneback equals cv2 to float32 rounding (mean |diff| ~1e-6 px on the real pairs, see "
             "tests/test_farneback.py). cv2's Farneback has no parallel loop (only its blur and resize "
             "are threaded); ours runs its row loops on Numba's threads. Horn-Schunck has no reference "
             "implementation in OpenCV 5 or scikit-image; TV-L1 is compared with cv2 DualTVL1 (same "
             "parameters) and scikit-image's optical_flow_tvl1 (its own defaults), whose EPE differ from "
             "ours because of warping interpolation (bicubic there) and pyramid details. malloc "
             "thresholds pinned for both sides (run.py --malloc). First Farneback call in a fresh "
             f"interpreter: {c['cold_s']:.2f} s cold (JIT), {c['cached_s']:.3f} s cached.")
    return rows, notes
