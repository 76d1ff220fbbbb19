"""MOT evaluation: CLEAR + identity + HOTA over the 11 MOT15 training sequences, against
motmetrics and TrackEval (each including its file loading)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from common import compile_times, measure, set_threads

TITLE = "MOT evaluation: CLEAR MOT + IDF1 + HOTA of SORT on the 11 MOT15 sequences vs motmetrics and TrackEval"

MOT15 = Path(__file__).resolve().parents[2] / "shared" / "data" / "mot15"


def _layout(root: Path):
    """gt/MOT15-train/<seq> (symlinks), trackers/MOT15-train/sort/data/<seq>.txt (our SORT on det.txt,
    which equals the reference sort.py output), seqmaps: TrackEval's layout, also read by ours."""
    import scratchvision as sv

    seqs = sorted(p.name for p in MOT15.iterdir() if (p / "gt" / "gt.txt").exists())
    gt_root = root / "gt" / "MOT15-train"
    res_root = root / "trackers" / "MOT15-train" / "sort" / "data"
    res_root.mkdir(parents=True)
    for seq in seqs:
        (gt_root / seq / "gt").mkdir(parents=True)
        os.symlink(MOT15 / seq / "gt" / "gt.txt", gt_root / seq / "gt" / "gt.txt")
        os.symlink(MOT15 / seq / "seqinfo.ini", gt_root / seq / "seqinfo.ini")
        det = sv.read_mot(MOT15 / seq / "det" / "det.txt")
        tracker, rows = sv.Sort(), []
        for t in range(int(det[:, 0].max()) + 1):
            d = det[det[:, 0] == t]
            out = tracker.update(np.column_stack([d[:, 2], d[:, 3], d[:, 2] + d[:, 4], d[:, 3] + d[:, 5], d[:, 6]]))
            rows += [[t, r[4], r[0], r[1], r[2] - r[0], r[3] - r[1], 1, -1, -1, -1] for r in out]
        sv.write_mot(res_root / f"{seq}.txt", np.array(rows).reshape(-1, 10))
    (root / "gt" / "seqmaps").mkdir()
    (root / "gt" / "seqmaps" / "MOT15-train.txt").write_text("name\n" + "\n".join(seqs) + "\n")
    return seqs, gt_root, res_root


def _median_seconds(fn, repeat):
    """``common.measure`` (one warm-up call, then the median of ``repeat``), in seconds."""
    return measure(fn, repeat=repeat, warmup=1)["median_ms"] / 1e3


def run(threads, repeat):
    import scratchvision as sv

    if not MOT15.exists():
        return [], f"skipped: {MOT15} is absent"
    set_threads(1)
    tmp = Path(tempfile.mkdtemp())
    seqs, gt_root, res_root = _layout(tmp)
    ours = _median_seconds(lambda: sv.evaluate_mot_folder(gt_root, res_root), repeat)
    rows = [{"evaluator": "scratchvision evaluate_mot_folder", "seconds": ours, "ratio to ours": 1.0}]
    notes = [f"{len(seqs)} sequences, one thread, median of {repeat} after a warm-up, file reading included."]
    try:
        np.asfarray = getattr(np, "asfarray", lambda a, dtype=np.float64: np.asarray(a, dtype=dtype))
        import motmetrics as mm

        def motmetrics_all():
            mh = mm.metrics.create()
            accs = []
            for seq in seqs:
                gt = mm.io.loadtxt(str(gt_root / seq / "gt" / "gt.txt"), fmt="mot15-2D", min_confidence=1)
                hyp = mm.io.loadtxt(str(res_root / f"{seq}.txt"), fmt="mot15-2D")
                accs.append(mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5))
            return mh.compute_many(accs, names=seqs, metrics=mm.metrics.motchallenge_metrics, generate_overall=True)

        t = _median_seconds(motmetrics_all, max(3, repeat // 3))
        rows.append({"evaluator": f"motmetrics {mm.__version__} (CLEAR + identity)", "seconds": t,
                     "ratio to ours": t / ours})
    except ImportError:
        notes.append("motmetrics not installed.")
    try:
        import contextlib
        import io

        import trackeval

        ecfg = trackeval.Evaluator.get_default_eval_config()
        ecfg.update(PRINT_RESULTS=False, PRINT_CONFIG=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                    PLOT_CURVES=False, TIME_PROGRESS=False, USE_PARALLEL=False)
        dcfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
        dcfg.update(GT_FOLDER=str(tmp / "gt"), TRACKERS_FOLDER=str(tmp / "trackers"), BENCHMARK="MOT15",
                    SPLIT_TO_EVAL="train", TRACKERS_TO_EVAL=["sort"], PRINT_CONFIG=False,
                    SEQMAP_FOLDER=str(tmp / "gt" / "seqmaps"))

        def trackeval_all():
            with contextlib.redirect_stdout(io.StringIO()):
                return trackeval.Evaluator(ecfg).evaluate(
                    [trackeval.datasets.MotChallenge2DBox(dcfg)],
                    [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR(), trackeval.metrics.Identity()])

        t = _median_seconds(trackeval_all, max(3, repeat // 3))
        rows.append({"evaluator": "TrackEval 1.3 (HOTA + CLEAR + identity)", "seconds": t, "ratio to ours": t / ours})
    except ImportError:
        notes.append("trackeval not installed (pip install --no-deps -r benchmarks/requirements-nodeps.txt).")
    c = compile_times("import numpy as np, scratchvision as sv\ngt = np.array([[0, 1, 0, 0, 9, 9, 1]], float)",
                      "sv.evaluate_mot(gt, gt)")
    notes.append(f"First evaluate_mot call in a fresh interpreter: {c['cold_s']:.2f} s cold (JIT), "
                 f"{c['cached_s']:.3f} s cached. Every count equals motmetrics' and every HOTA value "
                 "TrackEval's (tests/test_metrics.py).")
    return rows, " ".join(notes)
