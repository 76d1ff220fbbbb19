"""Camera-motion compensation: time per frame of ours against BoT-SORT's OpenCV paths (sparse
optical flow, ECC), and each one's error against the synthetic video's exact camera motion."""

from __future__ import annotations

import time

import numpy as np
from common import set_threads

TITLE = "Camera-motion compensation: time per frame and error against the exact camera motion"

SIZES = {"1920x1080": (1080, 1920), "640x480": (480, 640)}


def _cv2_sparse(cv2, a, b, downscale=2):
    """BoT-SORT's GMC 'sparseOptFlow' (ultralytics' gmc.py), both frames prepared here."""
    g0 = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    g1 = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    h, w = g0.shape
    g0 = cv2.resize(g0, (w // downscale, h // downscale))
    g1 = cv2.resize(g1, (w // downscale, h // downscale))
    points = cv2.goodFeaturesToTrack(g0, mask=None, maxCorners=1000, qualityLevel=0.01, minDistance=1, blockSize=3,
                                     useHarrisDetector=False, k=0.04)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(g0, g1, points, None)
    keep = status.ravel() == 1
    m, _ = cv2.estimateAffinePartial2D(points[keep], moved[keep], method=cv2.RANSAC)
    m[:, 2] *= downscale
    return m


def _cv2_ecc(cv2, a, b, downscale=2):
    """BoT-SORT's GMC 'ecc': blurred, shrunk, Euclidean ECC (5000 iterations, eps 1e-6)."""
    g0 = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)
    g1 = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY)
    h, w = g0.shape
    g0 = cv2.resize(cv2.GaussianBlur(g0, (3, 3), 1.5), (w // downscale, h // downscale))
    g1 = cv2.resize(cv2.GaussianBlur(g1, (3, 3), 1.5), (w // downscale, h // downscale))
    m = np.eye(2, 3, dtype=np.float32)
    _, m = cv2.findTransformECC(g0, g1, m, cv2.MOTION_EUCLIDEAN,
                                (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 5000, 1e-6), None, 1)
    m = m.astype(np.float64)
    m[:, 2] *= downscale
    return m


def _ecc_parity(cv2, pairs, downscale=2):
    """Largest difference of any matrix entry between find_transform_ecc and cv2.findTransformECC
    given the same shrunk gray frames and BoT-SORT's ECC settings."""
    from scratchvision.flow import find_transform_ecc
    from scratchvision.flow.camera import _prepare

    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 5000, 1e-6)
    worst = 0.0
    for a, b in pairs:
        g0, g1 = _prepare(a, "a", downscale), _prepare(b, "b", downscale)
        _, ref = cv2.findTransformECC(g0, g1, np.eye(2, 3, dtype=np.float32), cv2.MOTION_EUCLIDEAN, criteria, None, 1)
        _, ours = find_transform_ecc(g0, g1, None, "euclidean", criteria, None, 1)
        worst = max(worst, float(np.abs(ours - ref).max()))
    return worst


def _corner_error(m, exact, h, w):
    corners = np.array([[0, 0], [w - 1, 0], [0, h - 1], [w - 1, h - 1]], float)
    return float(np.abs(corners @ m[:2, :2].T + m[:2, 2] - (corners + exact)).max())


def run(threads, repeat):
    import cv2

    import scratchvision as sv
    from scratchvision.flow import estimate_camera_motion

    rows = []
    for threads_n in threads:
        set_threads(threads_n)
        for label, size in SIZES.items():
            seq = sv.synthetic_sequence(6, size, n_objects=10, seed=7, background_speed=2.5, color=True)
            pairs = list(zip(seq.frames[:-1], seq.frames[1:]))
            exact = [seq.flow[t][seq.labels[t] == 0][0].astype(np.float64) for t in range(len(pairs))]
            methods = {
                "ours, sparse (similarity, 1 px)": lambda a, b: estimate_camera_motion(a, b),
                "ours, sparse, BoT-SORT's settings (3 px, no forward-backward check)":
                    lambda a, b: estimate_camera_motion(a, b, fb_threshold=None, ransac_reproj_threshold=3.0),
                "OpenCV, BoT-SORT's sparse path": lambda a, b: _cv2_sparse(cv2, a, b),
                "OpenCV, BoT-SORT's ECC path": lambda a, b: _cv2_ecc(cv2, a, b),
                "ours, ECC (Euclidean, BoT-SORT's 5000 iterations, eps 1e-6)":
                    lambda a, b: estimate_camera_motion(a, b, "ecc", "euclidean", criteria=(3, 5000, 1e-6)),
            }
            methods = {name: f for name, f in methods.items()
                       if not ("ECC" in name and (threads_n > 1 or label == "1920x1080" and repeat < 3))}
            times = {name: [] for name in methods}
            errors_of = {name: [] for name in methods}
            for f in methods.values():
                f(*pairs[0])  # compile / warm
            for _ in range(max(1, repeat // 3)):  # rounds: every method on every pair in turn, so a slow spell hits all
                for (a, b), e in zip(pairs, exact):
                    for name, f in methods.items():
                        start = time.perf_counter()
                        m = f(a, b)
                        times[name].append(time.perf_counter() - start)
                        errors_of[name].append(_corner_error(m, e, *size))
            for name in methods:
                errors = errors_of[name]
                row = {"frame": label, "threads": threads_n, "method": name,
                       "ms per frame": 1e3 * float(np.median(times[name])),
                       "max error at the corners (px)": max(errors),
                       "mean error at the corners (px)": float(np.mean(errors))}
                if name.startswith("ours, ECC"):
                    row["max |ours - cv2| in the matrix, same input"] = _ecc_parity(cv2, pairs)
                rows.append(row)
    notes = ("The synthetic video (10 textured objects moving over a background that translates 2.5 px a frame, the "
             "exact camera motion), 5 frame pairs per size, frames RGB uint8, downscale 2 everywhere; each call does "
             "the whole job from the two RGB frames (gray, shrink, corners, tracking, fit). Error: the largest "
             "distance between where the matrix and the exact translation send the image corners. OpenCV's paths are "
             "those of BoT-SORT's GMC (ultralytics gmc.py: estimateAffinePartial2D with its default 3 px threshold; "
             "Euclidean ECC on Gaussian-blurred frames, 5000 iterations, eps 1e-6; ECC measured with one thread only;"
             " ours shrinks without BoT-SORT's 3x3 blur first, and equals cv2.findTransformECC on the same shrunk "
             "frames, tests/test_ecc.py). Median of the calls, made in rounds that take every method on every pair in"
             " turn. Reproduce: python benchmarks/run.py camera_motion")
    return rows, notes
