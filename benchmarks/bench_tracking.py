"""Multi-object trackers: frames per second over the MOT15 training sequences."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from common import set_threads

TITLE = "Multi-object tracking: tracker-only frames/s on MOT15 (5,500 frames)"

MOT15 = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15"


def _sequences():
    from scratchvision import read_mot

    for folder in sorted(p for p in MOT15.iterdir() if (p / "det" / "det.txt").exists()):
        det = read_mot(folder / "det" / "det.txt")
        n = int(det[:, 0].max()) + 1
        frames = []
        for t in range(n):
            f = det[det[:, 0] == t]
            frames.append(np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]]))
        yield folder.name, frames


def _time(make, frames, call, repeat):
    times = []
    for _ in range(repeat):
        tracker = make()
        t0 = time.perf_counter()
        for d in frames:
            call(tracker, d)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


class _TensorLike(np.ndarray):
    """An array with torch's ``.numpy()``: the packaged ByteTrack and OC-SORT call it on their input."""

    def numpy(self):
        return np.asarray(self)


def _references():
    """The installable reference trackers, each ``(label, factory, update)``; missing ones are
    named in the second value. Install them with
    ``pip install --no-deps -r benchmarks/requirements-nodeps.txt``."""
    import sys
    import types

    found, missing = {}, []
    try:
        from sort.tracker import SortTracker  # PyPI sort-track: sort.py + filterpy

        found["sort"] = ("PyPI sort-track 0.0.8 (sort.py + filterpy)", SortTracker, lambda tr, d: tr.update(d, None))
    except ImportError:
        missing.append("sort-track")
    if "torch" not in sys.modules:
        try:
            import torch  # noqa: F401
        except ImportError:
            # bytetracker imports torch only to test isinstance(x, torch.Tensor); it gets ndarrays
            sys.modules["torch"] = types.SimpleNamespace(Tensor=type("Tensor", (), {}))
    try:
        from bytetracker import BYTETracker  # PyPI bytetracker: the official BYTETracker, packaged

        found["bytetrack"] = ("PyPI bytetracker 0.3.2 (official BYTETracker + lap)",
                              lambda: BYTETracker(track_thresh=0.6, track_buffer=30, match_thresh=0.9, frame_rate=30),
                              lambda tr, d: tr.update(d, None))
    except ImportError:
        missing.append("bytetracker")
    try:
        import ocsort.kalmanfilter
        from ocsort.ocsort import OCSort  # PyPI ocsort: the official OC-SORT, packaged

        # Its re-update calls float() on one-element arrays, which NumPy 2.4 refuses.
        ocsort.kalmanfilter.float = lambda v: float(np.asarray(v).reshape(-1)[0])
        found["ocsort"] = ("PyPI ocsort 0.0.2 (official OC-SORT + filterpy)",
                           lambda: OCSort(det_thresh=0.6, max_age=30, min_hits=3, iou_threshold=0.3, delta_t=3,
                                          inertia=0.2),
                           lambda tr, d: tr.update(d, None))
    except ImportError:
        missing.append("ocsort")
    try:
        from deep_sort_realtime.deepsort_tracker import DeepSort  # PyPI deep-sort-realtime

        found["deepsort"] = ("PyPI deep-sort-realtime 1.3.2",
                             lambda: DeepSort(max_age=30, n_init=3, nms_max_overlap=1.0, max_cosine_distance=0.2,
                                              nn_budget=100, embedder=None),
                             lambda tr, d: tr.update_tracks(
                                 [([x1, y1, x2 - x1, y2 - y1], s, "x") for x1, y1, x2, y2, s, _ in d[0].tolist()],
                                 embeds=list(d[1])))
    except ImportError:
        missing.append("deep-sort-realtime")
    return found, missing


def run(threads, repeat):
    import scratchvision as sv

    if not MOT15.exists():
        return [], f"skipped: {MOT15} is absent"
    set_threads(1)
    seqs = list(_sequences())
    n_frames = sum(len(f) for _, f in seqs)
    # The references take (N, 6) rows with a class column (and the packaged ones call .numpy()).
    with_class = [(name, [np.column_stack([d, np.zeros(len(d))]).view(_TensorLike) for d in f]) for name, f in seqs]
    # DeepSORT's appearance input: one random 128-d float32 embedding per detection, the same for both.
    rng = np.random.default_rng(0)
    with_embeddings = [(name, [(d, rng.normal(size=(len(d), 128)).astype(np.float32)) for d in f])
                       for name, f in with_class]
    references, missing = _references()
    ours = {"sort": ("SORT (max_age=1, min_hits=3, iou=0.3)", sv.Sort, seqs, lambda tr, d: tr.update(d)),
            "bytetrack": ("ByteTrack (0.6, 0.9, 30, 30)", sv.ByteTrack, seqs, lambda tr, d: tr.update(d)),
            "ocsort": ("OC-SORT (0.6, 30, 3, 0.3, 3, 0.2)", sv.OCSort, seqs, lambda tr, d: tr.update(d)),
            "deepsort": ("DeepSORT (0.2, 100, 0.7, 30, 3), random 128-d embeddings", sv.DeepSort, with_embeddings,
                         lambda tr, d: tr.update(np.asarray(d[0][:, :5]), d[1]))}
    rows = []
    n_rep = max(3, repeat // 3)
    for key, (label, make, inputs, call) in ours.items():
        warm = make()
        for d in inputs[0][1][:50]:
            call(warm, d)
        t_ours = sum(_time(make, f, call, n_rep) for _, f in inputs)
        row = {"tracker": label, "ours (frames/s)": n_frames / t_ours}
        if key in references:
            name, make_ref, call_ref = references[key]
            ref_inputs = with_embeddings if key == "deepsort" else with_class
            t_ref = sum(_time(make_ref, f, call_ref, n_rep) for _, f in ref_inputs)
            row.update({"reference": name, "reference (frames/s)": n_frames / t_ref, "speed-up": t_ref / t_ours})
        rows.append(row)
    notes = ("Tracker update() calls only, one thread, median of repeated passes over every sequence, ours and "
             "the reference on the same detections (the references get a zero class column; DeepSORT and "
             "deep-sort-realtime the same random embeddings, so its association falls back on IoU). bytetracker imports "
             "torch only for an isinstance test and runs on a stand-in module when torch is absent; ocsort's "
             "re-update gets a float() that accepts one-element arrays (NumPy 2.4 refuses them).")
    if missing:
        notes += (f" Not installed: {', '.join(missing)} "
                  "(pip install --no-deps -r benchmarks/requirements-nodeps.txt).")
    return rows, notes
