"""MOT evaluation against motmetrics (CLEAR MOT, identity) and TrackEval (HOTA), live."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import require, shared_path
import naive
from scratchvision import evaluate_mot, evaluate_mot_folder, read_mot, write_mot
from scratchvision.metrics import HOTA_ALPHAS

REFERENCE_SEQUENCES = ["ADL-Rundle-6", "ADL-Rundle-8", "ETH-Bahnhof", "ETH-Sunnyday", "KITTI-17", "PETS09-S2L1",
                       "TUD-Campus", "TUD-Stadtmitte"]  # the MOT15 sequences with reference tracker outputs
TRACKERS = ["sort", "bytetrack", "ocsort"]
CLEAR_COUNTS = [("num_frames", "num_frames"), ("FP", "num_false_positives"), ("FN", "num_misses"),
                ("IDSW", "num_switches"), ("Frag", "num_fragmentations"), ("MT", "mostly_tracked"),
                ("PT", "partially_tracked"), ("ML", "mostly_lost"), ("num_objects", "num_objects"),
                ("num_predictions", "num_predictions"), ("num_matches", "num_detections"),
                ("num_unique_objects", "num_unique_objects"), ("IDTP", "idtp"), ("IDFP", "idfp"), ("IDFN", "idfn")]
CLEAR_RATES = [("MOTA", "mota"), ("MOTP_distance", "motp"), ("IDF1", "idf1"), ("IDP", "idp"), ("IDR", "idr")]
HOTA_KEYS = ["HOTA", "DetA", "AssA", "LocA", "DetRe", "DetPr", "AssRe", "AssPr"]


@pytest.fixture(scope="session")
def mm():
    np.asfarray = getattr(np, "asfarray", lambda a, dtype=np.float64: np.asarray(a, dtype=dtype))  # NumPy 2
    return require("motmetrics")


@pytest.fixture(scope="session")
def trackeval():
    return require("trackeval")


def _motmetrics(mm, gt, hyp):
    """motmetrics' CLEAR MOT / identity values for rows (gt conf >= 1 kept), distances built here."""
    gt = gt[gt[:, 6] >= 1]
    acc = mm.MOTAccumulator()
    for f in np.union1d(gt[:, 0], hyp[:, 0]):
        g, h = gt[gt[:, 0] == f], hyp[hyp[:, 0] == f]
        d = 1 - naive.iou_xywh(g[:, 2:6], h[:, 2:6])
        acc.update(g[:, 1].astype(int), h[:, 1].astype(int), np.where(d > 0.5, np.nan, d), frameid=int(f))
    names = [b for _, b in CLEAR_COUNTS + CLEAR_RATES]
    return mm.metrics.create().compute(acc, metrics=names, name="x").iloc[0]


def _trackeval_hota(trackeval, gt, hyp):
    """TrackEval's HOTA on rows, through its metric class (gt conf >= 1 kept, ids made contiguous)."""
    gt = gt[gt[:, 6] >= 1]
    frames = np.union1d(gt[:, 0], hyp[:, 0])
    gmap = {v: k for k, v in enumerate(np.unique(gt[:, 1]))}
    hmap = {v: k for k, v in enumerate(np.unique(hyp[:, 1]))}
    data = {"gt_ids": [], "tracker_ids": [], "similarity_scores": [], "num_timesteps": len(frames),
            "num_gt_ids": len(gmap), "num_tracker_ids": len(hmap), "num_gt_dets": len(gt), "num_tracker_dets": len(hyp)}
    for f in frames:
        g, h = gt[gt[:, 0] == f], hyp[hyp[:, 0] == f]
        data["gt_ids"].append(np.array([gmap[v] for v in g[:, 1]], int))
        data["tracker_ids"].append(np.array([hmap[v] for v in h[:, 1]], int))
        data["similarity_scores"].append(trackeval.datasets._base_dataset._BaseDataset._calculate_box_ious(
            g[:, 2:6], h[:, 2:6], box_format="xywh"))
    res = trackeval.metrics.HOTA().eval_sequence(data)
    return {k: float(np.mean(res[k])) for k in HOTA_KEYS}


def _assert_equal_to_references(ours, ref_clear=None, ref_hota=None):
    if ref_clear is not None:
        for a, b in CLEAR_COUNTS:
            assert ours[a] == ref_clear[b], (a, ours[a], ref_clear[b])
        for a, b in CLEAR_RATES:
            assert ours[a] == pytest.approx(ref_clear[b], abs=1e-9, nan_ok=True), (a, ours[a], ref_clear[b])
        assert ours["MOTP"] == pytest.approx(1 - ref_clear["motp"], abs=1e-9, nan_ok=True)
    if ref_hota is not None:
        for k in HOTA_KEYS:
            assert ours[k] == pytest.approx(ref_hota[k], abs=1e-9), (k, ours[k], ref_hota[k])


@pytest.mark.parametrize("tracker", TRACKERS)
@pytest.mark.parametrize("seq", REFERENCE_SEQUENCES)
def test_equals_motmetrics_on_mot15(mm, seq, tracker):
    """motmetrics as the MOTChallenge scripts run it (files loaded by motmetrics, gt conf >= 1)."""
    gt_path = shared_path("mot15", seq, "gt", "gt.txt")
    hyp_path = shared_path("mot15", seq, "reference", f"{tracker}.txt")
    gt = mm.io.loadtxt(str(gt_path), fmt="mot15-2D", min_confidence=1)
    hyp = mm.io.loadtxt(str(hyp_path), fmt="mot15-2D")
    acc = mm.utils.compare_to_groundtruth(gt, hyp, "iou", distth=0.5)
    ref = mm.metrics.create().compute(acc, metrics=[b for _, b in CLEAR_COUNTS + CLEAR_RATES], name="x").iloc[0]
    _assert_equal_to_references(evaluate_mot(gt_path, hyp_path), ref_clear=ref)


def _trackeval_folder(trackeval, tmp_path, tracker, sequences, benchmark="MOT15", files=None):
    """Run TrackEval's own MOTChallenge pipeline (reader, preprocessing, HOTA/CLEAR/Identity) on a
    folder layout of symlinks or written files; returns its per-sequence results and the roots."""
    gt_root = tmp_path / "gt" / f"{benchmark}-train"
    tr_root = tmp_path / "trackers" / f"{benchmark}-train" / tracker / "data"
    tr_root.mkdir(parents=True)
    for seq in sequences:
        (gt_root / seq / "gt").mkdir(parents=True)
        if files is None:
            os.symlink(shared_path("mot15", seq, "gt", "gt.txt"), gt_root / seq / "gt" / "gt.txt")
            os.symlink(shared_path("mot15", seq, "seqinfo.ini"), gt_root / seq / "seqinfo.ini")
            os.symlink(shared_path("mot15", seq, "reference", f"{tracker}.txt"), tr_root / f"{seq}.txt")
        else:
            gt_text, hyp_text, length = files[seq]
            (gt_root / seq / "gt" / "gt.txt").write_text(gt_text)
            (gt_root / seq / "seqinfo.ini").write_text(f"[Sequence]\nname={seq}\nseqLength={length}\n")
            (tr_root / f"{seq}.txt").write_text(hyp_text)
    seqmaps = tmp_path / "gt" / "seqmaps"
    seqmaps.mkdir()
    (seqmaps / f"{benchmark}-train.txt").write_text("name\n" + "\n".join(sequences) + "\n")
    ecfg = trackeval.Evaluator.get_default_eval_config()
    ecfg.update(PRINT_RESULTS=False, PRINT_CONFIG=False, OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False,
                PLOT_CURVES=False, TIME_PROGRESS=False, USE_PARALLEL=False)
    dcfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
    dcfg.update(GT_FOLDER=str(tmp_path / "gt"), TRACKERS_FOLDER=str(tmp_path / "trackers"), BENCHMARK=benchmark,
                SPLIT_TO_EVAL="train", TRACKERS_TO_EVAL=[tracker], PRINT_CONFIG=False, SEQMAP_FOLDER=str(seqmaps))
    res, _ = trackeval.Evaluator(ecfg).evaluate([trackeval.datasets.MotChallenge2DBox(dcfg)],
                                                [trackeval.metrics.HOTA(), trackeval.metrics.Identity()])
    return res["MotChallenge2DBox"][tracker], gt_root, tr_root


@pytest.mark.parametrize("tracker", TRACKERS)
def test_hota_equals_trackeval_on_mot15(trackeval, tmp_path, tracker, capsys):
    """Every sequence and the combined row, through TrackEval's own reader and evaluator; the
    identity metrics agree with TrackEval's as well."""
    te, gt_root, tr_root = _trackeval_folder(trackeval, tmp_path, tracker, REFERENCE_SEQUENCES)
    ours = evaluate_mot_folder(gt_root, tr_root)
    for seq in REFERENCE_SEQUENCES + ["COMBINED_SEQ"]:
        row = ours["OVERALL" if seq == "COMBINED_SEQ" else seq]
        ref = {k: float(np.mean(te[seq]["pedestrian"]["HOTA"][k])) for k in HOTA_KEYS}
        _assert_equal_to_references(row, ref_hota=ref)
        assert row["IDF1"] == pytest.approx(te[seq]["pedestrian"]["Identity"]["IDF1"], abs=1e-9)
        assert row["IDTP"] == te[seq]["pedestrian"]["Identity"]["IDTP"]


def _generated(draw):
    """A ground truth of random walks (with gaps and conf-0 rows) and a tracker output derived
    from it: jittered boxes, dropped rows, swapped and re-used ids, false positives, empty frames."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_frames = draw(st.integers(1, 30))
    n_tracks = draw(st.integers(0, 7))
    jitter = draw(st.sampled_from([0.0, 1.0, 4.0, 12.0]))
    gt, hyp = [], []
    for tid in range(1, n_tracks + 1):
        start, end = sorted(rng.integers(0, n_frames, 2))
        pos = rng.uniform(0, 200, 2)
        size = rng.uniform(10, 60, 2)
        for f in range(start, end + 1):
            pos = pos + rng.normal(0, 3, 2)
            if rng.random() < 0.1:
                continue  # a gap in the ground truth
            conf = 0 if rng.random() < 0.05 else 1
            gt.append([f, tid, *np.round(pos), *np.round(size), conf])
            if rng.random() < 0.15:
                continue  # missed by the tracker
            hid = tid + 100 if rng.random() < 0.9 else rng.integers(1, n_tracks + 1) + 200  # id noise
            hyp.append([f, hid, *(pos + rng.normal(0, jitter, 2)), *(size * rng.uniform(0.8, 1.25, 2)), 1])
    for _ in range(rng.integers(0, 3 * n_frames + 1)):  # false positives
        hyp.append([rng.integers(0, n_frames), rng.integers(300, 310), *rng.uniform(0, 200, 2),
                    *rng.uniform(10, 60, 2), 1])
    gt = np.array(gt, float).reshape(-1, 7)
    hyp = np.array(hyp, float).reshape(-1, 7)
    if len(hyp):  # drop duplicate (frame, id) pairs the id noise may create, and a few whole frames
        _, first = np.unique(hyp[:, :2], axis=0, return_index=True)
        hyp = hyp[np.sort(first)]
        hyp = hyp[~np.isin(hyp[:, 0], rng.choice(n_frames, size=n_frames // 5, replace=False))]
    return gt, hyp


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=60)
@given(data=st.data())
def test_equals_references_on_generated_sequences(mm, trackeval, data):
    gt, hyp = _generated(data.draw)
    ours = evaluate_mot(gt, hyp)
    if (gt[:, 6] >= 1).any():
        _assert_equal_to_references(ours, ref_clear=_motmetrics(mm, gt, hyp))
    _assert_equal_to_references(ours, ref_hota=_trackeval_hota(trackeval, gt, hyp))


def test_num_frames_counts_frames_without_boxes_as_motmetrics(mm):
    """An accumulator updated on every frame of a sequence, empty ones included, counts them all:
    so does evaluate_mot(..., num_frames=N); the other counts are those of the frames with boxes."""
    gt = np.array([[1, 1, 10, 10, 20, 20, 1], [3, 1, 12, 10, 20, 20, 1], [3, 2, 50, 50, 10, 10, 1]], float)
    hyp = np.array([[1, 7, 11, 10, 20, 20, 1], [4, 7, 60, 60, 10, 10, 1]], float)
    acc = mm.MOTAccumulator()
    for f in range(8):  # frames 0..7, only 1, 3 and 4 have boxes
        g, h = gt[gt[:, 0] == f], hyp[hyp[:, 0] == f]
        d = 1 - naive.iou_xywh(g[:, 2:6], h[:, 2:6])
        acc.update(g[:, 1].astype(int), h[:, 1].astype(int), np.where(d > 0.5, np.nan, d), frameid=f)
    ref = mm.metrics.create().compute(acc, metrics=[b for _, b in CLEAR_COUNTS + CLEAR_RATES], name="x").iloc[0]
    ours = evaluate_mot(gt, hyp, num_frames=8)
    assert ours["num_frames"] == 8
    _assert_equal_to_references(ours, ref_clear=ref)
    assert evaluate_mot(gt, hyp)["num_frames"] == 3  # without it: the frames that have rows


def test_empty_ground_truth_or_hypotheses():
    gt = np.array([[0, 1, 10, 10, 20, 20, 1], [1, 1, 12, 10, 20, 20, 1], [1, 2, 50, 50, 20, 20, 1]], float)
    none = np.zeros((0, 7))
    r = evaluate_mot(gt, none)  # every object missed: MOTA = 1 - FN / GT = 0
    assert (r["FN"], r["FP"], r["IDSW"], r["ML"], r["MT"]) == (3, 0, 0, 2, 0)
    assert r["MOTA"] == 0.0 and r["IDF1"] == 0.0 and r["IDR"] == 0.0 and r["HOTA"] == 0.0 and r["LocA"] == 1.0
    assert np.isnan(r["MOTP"]) and np.isnan(r["IDP"])
    r = evaluate_mot(none, gt)  # no ground truth: everything is a false positive
    assert (r["FN"], r["FP"], r["num_objects"]) == (0, 3, 0)
    assert r["MOTA"] == -np.inf and r["HOTA"] == 0.0 and r["DetPr"] == 0.0
    r = evaluate_mot(none, none)
    assert r["num_frames"] == 0 and np.isnan(r["MOTA"])
    r = evaluate_mot(gt, gt)  # perfect
    assert r["MOTA"] == 1.0 and r["MOTP"] == 1.0 and r["IDF1"] == 1.0 and r["HOTA"] == pytest.approx(1.0)


def test_conf_zero_rows_are_ignored_and_iou_threshold_applies():
    gt = np.array([[0, 1, 0, 0, 10, 10, 1], [0, 2, 50, 50, 10, 10, 0]], float)
    hyp = np.array([[0, 7, 3, 0, 10, 10, 1]], float)  # IoU 70/130 = 0.538
    assert evaluate_mot(gt, hyp)["num_objects"] == 1
    assert evaluate_mot(gt, hyp)["FP"] == 0
    assert evaluate_mot(gt, hyp, iou_threshold=0.6)["FP"] == 1


def test_distractor_preprocessing_equals_trackeval(trackeval, tmp_path):
    """MOT17 layout (conf, class, visibility): hypotheses on distractors and static persons are
    removed before scoring, non-pedestrian and conf-0 rows dropped; TrackEval's own pipeline."""
    from scratchvision import synthetic_sequence

    seq = synthetic_sequence(25, size=(120, 160), n_objects=5, seed=4)
    gt = seq.gt.copy()  # frame, id, x, y, w, h, conf, class, visibility
    rng = np.random.default_rng(0)
    cls = np.where(gt[:, 1] == 2, 7, np.where(gt[:, 1] == 3, 8, 1))  # object 2 static person, 3 distractor
    gt[:, 7] = cls
    gt[gt[:, 1] == 4, 6] = 0  # object 4 ignored
    hyp = gt[:, :7].copy()
    hyp[:, 1] += 10
    hyp[:, 2:4] += rng.normal(0, 1.5, (len(hyp), 2))
    hyp[:, 6] = 1
    gt_buf, hyp_buf = io.StringIO(), io.StringIO()
    write_mot(gt_buf, gt)
    write_mot(hyp_buf, np.column_stack([hyp, -np.ones((len(hyp), 3))]))
    files = {"SYN-01": (gt_buf.getvalue(), hyp_buf.getvalue(), 25)}
    te, gt_root, tr_root = _trackeval_folder(trackeval, tmp_path, "mine", ["SYN-01"], benchmark="MOT17", files=files)
    ours = evaluate_mot_folder(gt_root, tr_root)["SYN-01"]
    ref = {k: float(np.mean(te["SYN-01"]["pedestrian"]["HOTA"][k])) for k in HOTA_KEYS}
    _assert_equal_to_references(ours, ref_hota=ref)
    assert ours["IDTP"] == te["SYN-01"]["pedestrian"]["Identity"]["IDTP"]
    assert ours["num_objects"] == int(((gt[:, 6] >= 1) & (gt[:, 7] == 1)).sum())
    assert ours["num_predictions"] < len(hyp)  # the distractor-matched hypotheses are gone
    without = evaluate_mot(gt, hyp, distractors="none")
    assert without["num_predictions"] == len(hyp)


def test_folder_overall_combines_like_the_references(tmp_path):
    gt1 = np.array([[0, 1, 0, 0, 10, 10, 1, -1, -1, -1], [1, 1, 1, 0, 10, 10, 1, -1, -1, -1]], float)
    gt2 = np.array([[0, 5, 40, 40, 20, 20, 1, -1, -1, -1]], float)
    for seq, gt in (("A", gt1), ("B", gt2)):
        (tmp_path / "gt" / seq / "gt").mkdir(parents=True)
        write_mot(tmp_path / "gt" / seq / "gt" / "gt.txt", gt)
    (tmp_path / "res").mkdir()
    write_mot(tmp_path / "res" / "A.txt", gt1)
    with pytest.warns(UserWarning, match="B.txt is missing"):
        out = evaluate_mot_folder(tmp_path / "gt", tmp_path / "res")
    assert set(out) == {"A", "B", "OVERALL"}
    assert out["OVERALL"]["FN"] == 1 and out["OVERALL"]["num_objects"] == 3
    assert out["OVERALL"]["MOTA"] == pytest.approx(1 - 1 / 3)
    assert out["OVERALL"]["IDF1"] == pytest.approx(2 * 2 / (3 + 2))


@pytest.mark.parametrize(("text", "fragment"), [
    ("1,1,0,0,10,10,1\n1,1,5,5,10,10,1\n", ":2: id 1 appears twice in frame 1"),
    ("1,1,0,0,10,10,1\n2,1,0,0,-3,10,1\n", ":2: negative box size"),
    ("1,1,0,0,10,10,1\n2,1,0,zero,3,10,1\n", ":2: field 'zero' is not a number"),
    ("1,1,0,0,10,10,1\n2,1,0,0,3\n", ":2: 5 columns where the first line has 7"),
    ("1,1,0,0,10,10,1\n\n9,1,0,0,3,10,1\n", ":3: frame 9 is beyond the sequence's 5 frames"),
])
def test_bad_files_name_the_file_and_line(tmp_path, text, fragment):
    bad = tmp_path / "res.txt"
    bad.write_text(text)
    good = np.array([[0, 1, 0, 0, 10, 10, 1]], float)
    with pytest.raises(ValueError, match=f"res.txt{fragment}"):
        evaluate_mot(good, bad, num_frames=5)


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    (dict(iou_threshold=0.0), ValueError, "iou_threshold"),
    (dict(iou_threshold=1.5), ValueError, "iou_threshold"),
    (dict(num_frames=0), ValueError, "num_frames"),
    (dict(distractors="MOT99"), ValueError, "distractors"),
    (dict(gt=np.zeros((2, 5))), ValueError, "gt"),
    (dict(hyp=[[0, 1.5, 0, 0, 1, 1, 1]]), ValueError, "hyp"),
    (dict(hyp=[[0, 1, 0, 0, np.nan, 1, 1]]), ValueError, "hyp"),
    (dict(hyp=[[0, 1, 0, 0, 1, 1, 1], [0, 1, 5, 5, 1, 1, 1]]), ValueError, "hyp row 1: id 1 appears twice"),
])
def test_rejects_bad_arrays(kwargs, exc, fragment):
    args = dict(gt=[[0, 1, 0, 0, 10, 10, 1]], hyp=[[0, 1, 0, 0, 10, 10, 1]]) | kwargs
    with pytest.raises(exc, match=fragment):
        evaluate_mot(args.pop("gt"), args.pop("hyp"), **args)


def test_hota_alphas_and_curves():
    assert np.array_equal(HOTA_ALPHAS, np.arange(0.05, 0.99, 0.05)) and len(HOTA_ALPHAS) == 19
    gt = read_mot(shared_path("mot15", "TUD-Campus", "gt", "gt.txt"))
    r = evaluate_mot(gt, read_mot(shared_path("mot15", "TUD-Campus", "reference", "sort.txt")))
    curve = r["HOTA_alpha"]["HOTA"]
    assert curve.shape == (19,) and np.all(np.diff(curve) <= 1e-12) and r["HOTA"] == pytest.approx(curve.mean())


@pytest.mark.parametrize(("benchmark", "seq"), [("MOT17", "MOT17-05"), ("MOT17", "MOT17-09"), ("MOT20", "MOT20-01")])
def test_real_mot17_mot20_ground_truth_with_distractors_equals_trackeval(trackeval, tmp_path, benchmark, seq):
    """The real MOT17/MOT20 gt (classes, conf-0 rows, distractors, MOT20's non-motorised vehicles)
    against a tracker output made from every gt row, jittered, with ids shuffled and 10 % dropped:
    TrackEval's own MOT17/MOT20 pipeline and ours agree on every HOTA score and on IDF1."""
    folder = shared_path(benchmark.lower(), seq)
    gt_text = (folder / "gt" / "gt.txt").read_text()
    length = int([ln.split("=")[1] for ln in (folder / "seqinfo.ini").read_text().splitlines()
                  if ln.startswith("seqLength")][0])
    gt = read_mot(folder / "gt" / "gt.txt")
    rng = np.random.default_rng(7)
    hyp = gt[rng.random(len(gt)) > 0.1][:, :6].copy()
    hyp[:, 1] = rng.permutation(int(gt[:, 1].max()) + 1)[hyp[:, 1].astype(int)] + 1
    hyp[:, 2:4] += rng.normal(0, 2.0, (len(hyp), 2))
    hyp = np.column_stack([hyp, np.ones(len(hyp)), -np.ones((len(hyp), 3))])
    buf = io.StringIO()
    write_mot(buf, hyp)
    te, gt_root, tr_root = _trackeval_folder(trackeval, tmp_path, "jitter", [seq], benchmark=benchmark,
                                             files={seq: (gt_text, buf.getvalue(), length)})
    ours = evaluate_mot_folder(gt_root, tr_root, distractors=benchmark)[seq]
    ref = {k: float(np.mean(te[seq]["pedestrian"]["HOTA"][k])) for k in HOTA_KEYS}
    _assert_equal_to_references(ours, ref_hota=ref)
    assert ours["IDTP"] == te[seq]["pedestrian"]["Identity"]["IDTP"]
    assert ours["IDF1"] == pytest.approx(te[seq]["pedestrian"]["Identity"]["IDF1"], abs=1e-9)
    auto = evaluate_mot_folder(gt_root, tr_root)[seq]  # "auto" detects the class layout
    assert auto["IDTP"] == ours["IDTP"] and (auto["HOTA"] == ours["HOTA"] or benchmark == "MOT20")
