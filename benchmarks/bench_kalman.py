"""Kalman filter steps against filterpy and cv2.KalmanFilter; IoU matrices against NumPy."""

from __future__ import annotations

import numpy as np
from common import measure, set_threads

TITLE = "Kalman filter and IoU: vs filterpy, cv2.KalmanFilter and vectorised NumPy"


def _numpy_iou(a, b):
    """SORT's iou_batch formula, vectorised with broadcasting."""
    xx1 = np.maximum(a[:, None, 0], b[None, :, 0])
    yy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    xx2 = np.minimum(a[:, None, 2], b[None, :, 2])
    yy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    wh = np.maximum(0.0, xx2 - xx1) * np.maximum(0.0, yy2 - yy1)
    return wh / ((a[:, None, 2] - a[:, None, 0]) * (a[:, None, 3] - a[:, None, 1])
                 + (b[None, :, 2] - b[None, :, 0]) * (b[None, :, 3] - b[None, :, 1]) - wh)


def run(threads, repeat):
    import cv2
    import filterpy.kalman

    import scratchvision as sv

    set_threads(1)
    m = sv.kalman.xysr_model()
    z = np.array([100.0, 50.0, 400.0, 0.5])
    ours = sv.KalmanFilter(7, 4)
    ref = filterpy.kalman.KalmanFilter(7, 4)
    for kf in (ours, ref):
        kf.F, kf.H, kf.Q, kf.R, kf.P = m.F.copy(), m.H.copy(), m.Q.copy(), m.R.copy(), m.P0.copy()
    ocv = cv2.KalmanFilter(7, 4, 0, cv2.CV_64F)
    ocv.transitionMatrix, ocv.measurementMatrix = m.F.copy(), m.H.copy()
    ocv.processNoiseCov, ocv.measurementNoiseCov = m.Q.copy(), m.R.copy()
    ocv.errorCovPost = m.P0.copy()
    zc = z.reshape(4, 1).copy()
    inner = 2000

    def loop(step):
        return lambda: [step() for _ in range(inner)]

    rows = []
    o = measure(loop(lambda: (ours.predict(), ours.update(z))), repeat=repeat)["median_ms"] * 1e3 / inner
    f = measure(loop(lambda: (ref.predict(), ref.update(z))), repeat=repeat)["median_ms"] * 1e3 / inner
    c = measure(loop(lambda: (ocv.predict(), ocv.correct(zc))), repeat=repeat)["median_ms"] * 1e3 / inner
    rows.append({"case": "one filter, SORT model (7x4): predict + update", "ours (us)": o,
                 "reference": "filterpy KalmanFilter", "ref (us)": f, "ratio": o / f})
    rows.append({"case": "one filter, SORT model (7x4): predict + update", "ours (us)": o,
                 "reference": "cv2.KalmanFilter CV_64F", "ref (us)": c, "ratio": o / c})

    # 100 tracks in one array (the trackers' form) against 100 filterpy filters.
    n = 100
    X, P = sv.kalman.xysr_initiate(np.tile([[100.0, 50.0, 400.0, 0.5]], (n, 1)))
    Z = np.tile(z, (n, 1))
    filters = []
    for _ in range(n):
        kf = filterpy.kalman.KalmanFilter(7, 4)
        kf.F, kf.H, kf.Q, kf.R, kf.P = m.F.copy(), m.H.copy(), m.Q.copy(), m.R.copy(), m.P0.copy()
        filters.append(kf)

    def batch_step():
        sv.batch_predict(X, P, m.F, m.Q)
        sv.batch_update(X, P, Z, m.H, m.R, joseph=True, F=m.F)

    def filterpy_step():
        for kf in filters:
            kf.predict()
            kf.update(z)

    from scratchvision.kalman.kernels import batch_predict_kernel, batch_update_kernel

    Q1, R1, status = m.Q[None].copy(), m.R[None].copy(), np.empty(n, np.int64)

    def kernel_step():  # what a tracker's own kernel does, without the Python-side checks
        batch_predict_kernel(X, P, m.F, Q1)
        batch_update_kernel(X, P, Z, m.H, R1, True, m.F, status)

    b = measure(batch_step, repeat=repeat)["median_ms"] * 1e3
    k = measure(kernel_step, repeat=repeat)["median_ms"] * 1e3
    fb = measure(filterpy_step, repeat=max(3, repeat // 3))["median_ms"] * 1e3
    rows.append({"case": f"{n} tracks batched: predict + update per frame, from Python", "ours (us)": b,
                 "reference": f"{n} filterpy filters", "ref (us)": fb, "ratio": b / fb})
    rows.append({"case": f"{n} tracks batched: predict + update per frame, kernels only", "ours (us)": k,
                 "reference": f"{n} filterpy filters", "ref (us)": fb, "ratio": k / fb})

    rng = np.random.default_rng(0)
    xy = rng.random((100, 2)) * 500
    boxes = np.column_stack([xy, xy + rng.random((100, 2)) * 100 + 5])
    a, bb = boxes[:50], boxes[50:]
    iou_inner = 200
    oi = measure(lambda: [sv.iou_matrix(a, bb) for _ in range(iou_inner)], repeat=repeat)["median_ms"] * 1e3 / iou_inner
    ni = measure(lambda: [_numpy_iou(a, bb) for _ in range(iou_inner)], repeat=repeat)["median_ms"] * 1e3 / iou_inner
    rows.append({"case": "IoU matrix 50x50", "ours (us)": oi, "reference": "NumPy broadcast (SORT's formula)",
                 "ref (us)": ni, "ratio": oi / ni})
    return rows, "Single-threaded (numba and cv2 set to 1 thread); times per call, medians of batched loops."
