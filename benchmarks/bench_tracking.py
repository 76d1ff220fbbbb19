"""Multi-object trackers: frames per second over the MOT15 training sequences."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
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


def _alternating(passes, rounds):
    """Median seconds of each of ``passes`` (callables that time one measurement), measured in
    alternating rounds, ours then the reference's, so that a slow spell of a shared host falls
    on both sides instead of on whichever ran during it."""
    times = [[] for _ in passes]
    for _ in range(rounds):
        for k, measure in enumerate(passes):
            times[k].append(measure())
    return [float(np.median(t)) for t in times]


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


def botsort_inputs(seqs, dim=128):
    """BoT-SORT's inputs per sequence: (dets (N, 6) with a zero class, a seeded similarity warp,
    seeded dim-d embeddings) per frame, the same in this process and in ultralytics'."""
    rng = np.random.default_rng(7)
    out = []
    for name, frames in seqs:
        frame_inputs = []
        for d in frames:
            angle, scale = rng.normal(0, 0.003), 1 + rng.normal(0, 0.003)
            c, s = scale * np.cos(angle), scale * np.sin(angle)
            warp = np.array([[c, -s, rng.normal(0, 2)], [s, c, rng.normal(0, 2)]])
            frame_inputs.append((np.column_stack([d, np.zeros(len(d))]), warp,
                                 rng.normal(size=(len(d), dim)).astype(np.float32)))
        out.append((name, frame_inputs))
    return out


_ULTRALYTICS = r"""
import json, statistics, sys, time
from types import SimpleNamespace
import numpy as np
import ultralytics
from ultralytics.trackers.bot_sort import BOTSORT

sys.path.insert(0, sys.argv[4])
from make_botsort_fixtures import Detections  # the part of ultralytics' Boxes its trackers read

with np.load(sys.argv[1]) as f:
    keys = sorted(f.files)
    seqs = [(i, [f[k] for k in keys if k.startswith(i + "/")]) for i in sorted({k.split("/")[0] for k in keys})]
with_reid, repeat = sys.argv[2] == "1", int(sys.argv[3])
inputs = [(n, [(Detections(d), w, e) for d, w, e in f]) for n, f in botsort_inputs(seqs)]
args = SimpleNamespace(track_high_thresh=0.25, track_low_thresh=0.1, new_track_thresh=0.25, track_buffer=30,
                       match_thresh=0.8, fuse_score=True, gmc_method=None, proximity_thresh=0.5,
                       appearance_thresh=0.8, with_reid=with_reid, model="auto")
image = np.zeros((8, 8, 3), np.uint8)
total = 0.0
for _, frames in inputs:
    times = []
    for _ in range(repeat):
        tracker = BOTSORT(args)
        tracker.gmc.method = "given"
        current = {}
        tracker.gmc.apply = lambda img, dets: current["warp"]
        t0 = time.perf_counter()
        for d, w, e in frames:
            current["warp"] = w
            tracker.update(d, image, feats=e if with_reid else None)
        times.append(time.perf_counter() - t0)
    total += statistics.median(times)
print(json.dumps({"seconds": total, "version": ultralytics.__version__}))
"""


def _ultralytics_botsort(seqs, with_reid, repeat):
    """Seconds of ultralytics' BOTSORT over ``seqs`` in the TORCH_PYTHON interpreter (ultralytics
    imports torch), or None when there is none or ultralytics is not installed in it."""
    python = os.environ.get("TORCH_PYTHON")
    if not python:
        return None
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_botsort_detections.npz"
    np.savez(path, **{f"{i:02d}/{t:05d}": d for i, (_, frames) in enumerate(seqs) for t, d in enumerate(frames)})
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    script = "import numpy as np\n" + inspect.getsource(botsort_inputs) + _ULTRALYTICS
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
    out = subprocess.run([python, "-c", script, str(path), "1" if with_reid else "0", str(repeat), str(fixtures)],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def botsort_parity():
    """BoTSORT against ultralytics' BOTSORT outputs recorded by tests/fixtures/make_botsort_fixtures.py:
    (runs with the same ids, rows and det_idx, runs, largest box difference in px)."""
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
    sys.path.insert(0, str(fixtures))
    from botsort_inputs import CONFIGS, SEQUENCES, sequence_inputs

    import scratchvision as sv

    golden = np.load(fixtures / "torch_golden" / "botsort.npz")
    same, worst = 0, 0.0
    for config, (kwargs, with_warp, with_emb) in CONFIGS.items():
        for seq in SEQUENCES:
            tracker, rows = sv.BoTSORT(**kwargs), []
            for f, (dets, warp, emb) in enumerate(sequence_inputs(MOT15, seq), start=1):
                dets = np.column_stack([dets, np.zeros(len(dets))])  # class 0, as the fixture's
                out = tracker.update(dets, emb if with_emb else None, warp=warp if with_warp else None)
                rows.append(np.column_stack([np.full(len(out), f), out]))
            ours, ref = np.concatenate(rows), golden[f"{config}/{seq}"].astype(np.float64)
            if ours.shape == ref.shape and np.array_equal(ours[:, [0, 5, 7, 8]], ref[:, [0, 5, 7, 8]]):
                same += 1
                worst = max(worst, float(np.abs(ours[:, 1:5] - ref[:, 1:5]).max()))
    return same, len(CONFIGS) * len(SEQUENCES), worst


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
        passes = [lambda: sum(_time(make, f, call, 1) for _, f in inputs)]
        if key in references:
            name, make_ref, call_ref = references[key]
            ref_inputs = with_embeddings if key == "deepsort" else with_class
            passes.append(lambda: sum(_time(make_ref, f, call_ref, 1) for _, f in ref_inputs))
        t_ours, *t_ref = _alternating(passes, n_rep)
        row = {"tracker": label, "ours (frames/s)": n_frames / t_ours}
        if t_ref:
            row.update({"reference": name, "reference (frames/s)": n_frames / t_ref[0],
                        "speed-up": t_ref[0] / t_ours})
        rows.append(row)
    bot_inputs = botsort_inputs(seqs)
    for with_reid in (False, True):
        label = ("BoT-SORT (ultralytics defaults), seeded warps" +
                 (", appearance on random 128-d embeddings" if with_reid else ""))

        def make(with_reid=with_reid):
            return sv.BoTSORT(with_reid=with_reid)

        def call(tr, d):
            return tr.update(d[0], d[2], warp=d[1])

        warm = make()
        for d in bot_inputs[0][1][:50]:
            call(warm, d)
        ref = _ultralytics_botsort(seqs, with_reid, 1)  # whether it is installed, and its version (not timed)
        passes = [lambda: sum(_time(make, f, call, 3) for _, f in bot_inputs)]
        if ref is not None:
            passes.append(lambda with_reid=with_reid: _ultralytics_botsort(seqs, with_reid, 3)["seconds"])
        t_ours, *t_ref = _alternating(passes, n_rep)
        row = {"tracker": label, "ours (frames/s)": n_frames / t_ours}
        if t_ref:
            row.update({"reference": f"ultralytics {ref['version']} BOTSORT (warps given, ReID features given)",
                        "reference (frames/s)": n_frames / t_ref[0], "speed-up": t_ref[0] / t_ours})
        else:
            missing.append("ultralytics (set TORCH_PYTHON to a Python with torch and ultralytics)")
        rows.append(row)
    notes = ("Tracker update() calls only, one thread, median of alternating rounds (a pass of ours over every "
             "sequence, then one of the reference's; BoT-SORT: each side's median of 3 passes per round, ultralytics "
             "in its own process), ours and the "
             "reference on the same detections (the references get a zero class column; DeepSORT and "
             "deep-sort-realtime the same random embeddings, so its association falls back on IoU). bytetracker "
             "imports torch only for an isinstance test and runs on a stand-in module when torch is absent; ocsort's "
             "re-update gets a float() that accepts one-element arrays (NumPy 2.4 refuses them). BoT-SORT: both get "
             "the same seeded similarity warp per frame (ultralytics' GMC.apply replaced by one that returns it, so "
             "no frame is read) and, with appearance, the same 128-d embeddings (its model='auto' pass-through "
             "encoder); ultralytics runs in the TORCH_PYTHON interpreter (it imports torch), one thread. Reproduce: "
             "TORCH_PYTHON=/path/to/python python benchmarks/run.py tracking")
    same, runs, worst = botsort_parity()
    notes += (f" BoT-SORT against ultralytics' BOTSORT outputs (golden fixture, 6 MOT15 sequences x 3 "
              f"configurations): same rows, ids and det_idx in {same} of {runs} runs, boxes within {worst:.1e} px "
              "(ultralytics keeps boxes in float32).")
    if missing:
        notes += (f" Not installed: {', '.join(missing)} "
                  "(pip install --no-deps -r benchmarks/requirements-nodeps.txt).")
    return rows, notes
