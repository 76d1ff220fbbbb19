"""Single-object trackers: success AUC, precision at 20 px and frames/s, ours beside OpenCV's, on
the OTB Crossing sequence and synthetic scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from common import set_threads

TITLE = "Single-object tracking: AUC, precision@20 and frames/s vs OpenCV (cv2.legacy)"

VIDEO = Path(__file__).resolve().parents[2] / "shared" / "data" / "video" / "Crossing"


def _sequences():
    import scratchvision as sv
    from scratchvision.sot import object_track

    if VIDEO.exists():
        import imageio.v3 as iio

        frames = [iio.imread(p) for p in sorted((VIDEO / "img").glob("*.jpg"))]
        gt = np.array([[float(v) for v in ln.replace(",", "\t").split()]
                       for ln in (VIDEO / "groundtruth_rect.txt").read_text().splitlines() if ln.strip()])
        gt[:, :2] -= 1
        yield "OTB Crossing (120 frames)", frames, gt
    for seed in range(5):
        seq = sv.synthetic_sequence(60, size=(240, 320), n_objects=3, seed=seed, color=True, max_speed=3.0)
        frames, boxes = object_track(seq)
        yield f"synthetic seed {seed} ({len(frames)} frames)", frames, boxes
    for name, motion in (("fast motion", dict(max_speed=8.0)), ("scale change", dict(max_scale_rate=0.03))):
        seq = sv.synthetic_sequence(60, size=(240, 320), n_objects=3, seed=1, color=True, **motion)
        frames, boxes = object_track(seq, whole_first_box=True)
        yield f"synthetic {name}, seed 1 ({len(frames)} frames)", frames, boxes


class _CV2:
    """An OpenCV tracker (given BGR frames, converted before the timing starts)."""

    def __init__(self, make):
        self.t = make()

    def init(self, frame, box):
        self.t.init(frame, tuple(box))

    def update(self, frame):
        return self.t.update(frame)


def _csrt_same_features(cv2):
    """OpenCV's CSRT given our CSRT's default channels (colour names and RGB cells), its
    parameters read from an in-memory FileStorage (the legacy factory takes none)."""
    t = cv2.legacy.TrackerCSRT_create()
    storage = cv2.FileStorage("%YAML:1.0\nuse_rgb: 1\n",
                              cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
    t.read(storage.root())
    return t


def run(threads, repeat):
    import cv2

    from scratchvision.sot import TrackerCSRT, TrackerKCF, TrackerMOSSE, otb_scores, run_tracker

    trackers = {"MOSSE (ours)": TrackerMOSSE, "MOSSE (cv2)": lambda: _CV2(cv2.legacy.TrackerMOSSE_create),
                "KCF (ours)": TrackerKCF,
                "KCF (ours, gray+CN)": lambda: TrackerKCF(desc_npca=TrackerKCF.GRAY, desc_pca=TrackerKCF.CN),
                "KCF (cv2)": lambda: _CV2(cv2.legacy.TrackerKCF_create),
                "CSRT (ours)": TrackerCSRT, "CSRT (ours, no CN)": lambda: TrackerCSRT(use_color_names=False),
                "CSRT (cv2)": lambda: _CV2(cv2.legacy.TrackerCSRT_create),
                "CSRT (cv2, our features)": lambda: _CV2(lambda: _csrt_same_features(cv2))}
    rows = []
    for label, rgb, gt in _sequences():
        bgr = [cv2.cvtColor(f, cv2.COLOR_RGB2BGR) for f in rgb]
        for name, make in trackers.items():
            row = {"sequence": label, "tracker": name}
            frames = bgr if "(cv2" in name else rgb
            for n in threads:
                set_threads(n)
                run_tracker(make(), frames[:5], gt[0])  # warm-up (JIT, caches)
                fps, tracked, lost = [], [], []
                for _ in range(3):
                    times = []
                    boxes, ok, _ = run_tracker(make(), frames, gt[0], times=times)
                    fps.append(len(times) / sum(times))
                    tracked += [t for t, k in zip(times, ok[1:]) if k]
                    lost += [t for t, k in zip(times, ok[1:]) if not k]
                unit = f"{n} thread{'s' if n > 1 else ''}"
                if "AUC" not in row:
                    s = otb_scores(boxes, gt)
                    row.update({"AUC": s["AUC"], "precision@20": s["precision@20"], "tracked frames": float(ok.mean())})
                    row[f"us/frame tracked ({unit})"] = float(np.median(tracked)) * 1e6 if tracked else float("nan")
                    row[f"us/frame lost ({unit})"] = float(np.median(lost)) * 1e6 if lost else float("nan")
                row[f"frames/s ({unit})"] = float(np.median(fps))
            rows.append(row)
    notes = ("frames/s covers update() only (median of 3 runs) with the thread count set for both (Numba and "
             "cv2.setNumThreads; our FFTs, single-threaded, are SciPy's in single precision for MOSSE and KCF and "
             "NumPy's for CSRT), RGB frames in (cv2 gets them as BGR, converted before the timing). OpenCV's MOSSE "
             "trains its first filter on 8 copies of one random warp (its RNG is re-seeded on each call) and stops "
             "updating at its first PSR failure; ours uses 8 different warps. Our KCF uses gray + colour FHOG by "
             "default, 'gray+CN' OpenCV's features (gray + colour names compressed by PCA to 2 channels, on 4x4-pixel"
             " cells where OpenCV's uses pixels), both with a 3-scale search and detect_thresh 0.2. Our CSRT has "
             "colour names and RGB cells (use_rgb, off in OpenCV); 'no CN' leaves the colour names out; 'CSRT (cv2, "
             "our features)' is OpenCV's CSRT given the same channels (use_rgb 1). 'us/frame tracked' and 'us/frame "
             "lost' are the median times of the updates that returned ok and of those that did not: OpenCV's trackers"
             " skip learning after a failure (its MOSSE stops learning for good) and its KCF searches one scale where"
             " ours searches three, so a tracker that loses the target early runs more frames/s. Reproduce: env -u "
             "OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/run.py sot")
    return rows, notes
