"""Trackers against the reference outputs on MOT15 (SORT: sort.py; ByteTrack: the official
BYTETracker), and tracker invariants on random streams."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import MOT15_SEQUENCES, shared_path
from conftest import require
import scratchvision as sv
from scratchvision import (ByteTrack, DeepSort, OCSort, Sort, color_histogram_embeddings, matched_detections, read_mot,
                           synthetic_sequence)
from scratchvision.boxes import convert
from scratchvision.kalman import xysr_model
from scratchvision.tracking._base import check_detections

WITH_REFERENCE = [s for s in MOT15_SEQUENCES if s not in ("ETH-Pedcross2", "KITTI-13", "Venice-2")]


def _frames(seq):
    det = read_mot(shared_path("mot15", seq, "det", "det.txt"))
    n = int(det[:, 0].max()) + 1
    for t in range(n):
        f = det[det[:, 0] == t]
        yield np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])


def compare_to_reference(outputs, ref):
    """Same boxes (to the reference's 0.01 rounding) in every frame, ids equal up to a bijection."""
    mapping = {}
    assert sum(len(o) for o in outputs) == len(ref)
    for t, out in enumerate(outputs):
        expected = ref[ref[:, 0] == t]
        assert len(out) == len(expected), f"frame {t}"
        xywh = np.column_stack([out[:, 0], out[:, 1], out[:, 2] - out[:, 0], out[:, 3] - out[:, 1]])
        for row, box in zip(out, xywh):
            diff = np.abs(expected[:, 2:6] - box).max(axis=1)
            k = int(diff.argmin())
            assert diff[k] <= 0.005 + 1e-6, f"frame {t}: box {box} vs {expected[k, 2:6]}"
            assert mapping.setdefault(int(row[4]), int(expected[k, 1])) == int(expected[k, 1])
    assert len(set(mapping.values())) == len(mapping)


REFERENCES = {"sort": lambda: Sort(max_age=1, min_hits=3, iou_threshold=0.3),
              "bytetrack": lambda: ByteTrack(track_thresh=0.6, match_thresh=0.9, track_buffer=30, frame_rate=30),
              "ocsort": lambda: OCSort(det_thresh=0.6, max_age=30, min_hits=3, iou_threshold=0.3, delta_t=3,
                                       inertia=0.2)}
TRACKERS = {"sort": lambda: Sort(min_hits=0), "bytetrack": lambda: ByteTrack(track_thresh=0.3),
            "ocsort": lambda: OCSort(det_thresh=0.3, min_hits=0), "botsort": lambda: sv.BoTSORT(with_reid=False)}


@pytest.mark.parametrize("name", sorted(REFERENCES))
@pytest.mark.parametrize("seq", WITH_REFERENCE)
def test_equals_reference(name, seq):
    tracker = REFERENCES[name]()
    outputs = [tracker.update(d) for d in _frames(seq)]
    compare_to_reference(outputs, read_mot(shared_path("mot15", seq, "reference", f"{name}.txt")))


boxes = st.tuples(st.floats(0, 300), st.floats(0, 300), st.floats(1, 80), st.floats(1, 80), st.floats(0, 1))


@st.composite
def streams(draw):
    n_frames = draw(st.integers(1, 25))
    frames = []
    for _ in range(n_frames):
        kind = draw(st.sampled_from(["random", "empty", "burst", "duplicates", "overlapping"]))
        if kind == "empty":
            frames.append(np.zeros((0, 5)))
            continue
        rows = draw(st.lists(boxes, min_size=1, max_size=12 if kind != "burst" else 40))
        a = np.array([[x, y, x + w, y + h, s] for x, y, w, h, s in rows])
        if kind == "duplicates":
            a = np.concatenate([a, a])
        if kind == "overlapping":
            a[:, :4] = a[0, :4] + np.linspace(0, 1, len(a))[:, None]
        frames.append(a)
    return frames


@given(frames=streams(), name=st.sampled_from(sorted(TRACKERS)))
@settings(max_examples=60)
def test_invariants_on_random_streams(frames, name):
    tracker = TRACKERS[name]()
    seen_ever, retired = set(), set()
    for dets in frames:
        out = tracker.update(dets)
        assert out.shape[1] == 8 and np.isfinite(out).all()
        ids = out[:, 4].astype(int).tolist()
        assert len(ids) == len(set(ids))
        assert not (set(ids) & retired)
        det_idx = out[:, 7].astype(int)
        used = det_idx[det_idx >= 0]
        assert ((det_idx >= -1) & (det_idx < len(dets))).all()
        assert len(set(used.tolist())) == len(used)
        retired |= set(tracker.last_step.removed.tolist())
        seen_ever |= set(ids)
    assert min(seen_ever, default=1) >= 1


@pytest.mark.parametrize("name", ["Sort", "ByteTrack", "OCSort", "DeepSort", "BoTSORT"])
def test_step_costs_are_detections_by_tracks(name):
    """TrackerStep.costs has one orientation for every tracker: two tracks, then a frame of three
    detections, whose first association stage is a (3, 2) matrix; the IoU-based stages hold the
    IoU (or 1 - IoU) of each detection with its track's prediction, so the matched pairs sit on
    the diagonal of the first two rows."""
    two = np.array([[10.0, 10, 50, 90, 0.9], [200, 10, 240, 90, 0.9]])
    three = np.vstack([two + 2.0, [[400, 10, 440, 90, 0.9]]])
    embeddings = np.eye(3, 8, dtype=np.float32) + 0.1
    tracker = getattr(sv, name)()
    extra = (lambda d: (embeddings[:len(d)],)) if name == "DeepSort" else (lambda d: ())
    for t in range(4):
        tracker.update(two + t * 0.5, *extra(two))
    tracker.update(three, *extra(three))
    costs = tracker.last_step.costs
    first = next(iter(costs.values()))
    assert first.shape == (3, 2), (name, {k: v.shape for k, v in costs.items()})
    iou = sv.iou_matrix(three[:2, :4], two[:, :4] + 1.5)
    good = np.argmax(iou, axis=1)
    assert good.tolist() == [0, 1]
    if name in ("Sort", "OCSort"):
        assert np.argmax(first[:2], axis=1).tolist() == [0, 1]
    elif name in ("ByteTrack", "BoTSORT"):
        assert np.argmin(first[:2], axis=1).tolist() == [0, 1]


def test_ids_per_instance_reset_and_step_record():
    a, b = Sort(), Sort()
    det = np.array([[10, 10, 50, 80, 0.9], [100, 10, 140, 90, 0.8]])
    assert a.update(det)[:, 4].tolist() == [2, 1]  # newest first, like sort.py
    assert b.update(det)[:, 4].tolist() == [2, 1]  # no shared counter
    a.update(det + 1)
    step = a.last_step
    assert step.frame == 2 and step.costs["iou"].shape == (2, 2)
    assert sorted(step.matches[:, 1].tolist()) == [1, 2]
    assert len(step.unmatched_detections) == 0
    a.reset()
    assert a.update(det)[:, 4].tolist() == [2, 1]
    assert a.update(None).shape == (0, 8)  # empty frames advance time


@pytest.mark.parametrize("make", [lambda **kw: Sort(min_hits=0, **kw), lambda **kw: ByteTrack(**kw),
                                  lambda **kw: OCSort(min_hits=0, **kw)])
def test_class_aware_matching(make):
    plain, aware = make(), make(class_aware=True)
    first = np.array([[10, 10, 50, 80, 0.9, 1]])
    second = np.array([[11, 10, 51, 80, 0.9, 2]])
    for tracker in (plain, aware):
        tracker.update(first)
        tracker.update(second)
    assert plain.last_step.matches.tolist() == [[0, 1]]  # same track despite the class change
    assert aware.last_step.matches.tolist() == []  # the other class starts its own track


@pytest.mark.parametrize("bad, exc, match", [
    (np.array([[0, 0, np.nan, 1, 0.5]]), ValueError, "dets must be finite"),
    (np.zeros((2, 3)), ValueError, r"dets must have shape \(N, 4\), \(N, 5\) or \(N, 6\)"),
    (np.array([[0, 0, 1, 1, 0.5, 1.5]]), ValueError, "class ids"),
    ([["a", "b", "c", "d"]], TypeError, "dets must be a numeric array"),
])
def test_bad_detections(bad, exc, match):
    with pytest.raises(exc, match=match):
        Sort().update(bad)


@given(bad=st.sampled_from([None, 3.5, "abc"]) | hnp.arrays(
    dtype=st.sampled_from([np.bool_, np.uint8, np.int64, np.float16, np.float32, np.float64]),
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=7)))
@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_fuzzed_detections_never_corrupt_the_tracker(name, bad):
    tracker = TRACKERS[name]()
    tracker.update(np.array([[10, 10, 50, 80, 0.9]]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = tracker.update(bad)
        assert np.isfinite(out).all()
    except (ValueError, TypeError) as exc:
        assert "dets" in str(exc)
    out = tracker.update(np.array([[10, 10, 50, 80, 0.9]]))  # still works afterwards
    assert np.isfinite(out).all() and len(out) >= 1


def test_degenerate_boxes_dropped_with_warning_and_no_scores():
    tracker = Sort(min_hits=0)
    with pytest.warns(RuntimeWarning, match="dropped 1 degenerate boxes"):
        out = tracker.update(np.array([[10, 10, 5, 50, 0.9], [20, 20, 60, 90, 0.8]]))
    assert out[:, 7].tolist() == [1]
    boxes, scores, classes, rows = check_detections(np.array([[0, 0, 2, 3]]))
    assert scores.tolist() == [1.0] and classes.tolist() == [-1]
    # a degenerate box is reported before a class id that is not an integer is refused
    with pytest.warns(RuntimeWarning, match="dropped 1 degenerate boxes"), pytest.raises(ValueError, match="class ids"):
        check_detections(np.array([[0, 0, 2, 3, 0.9, 1.0], [5, 5, 1, 9, 0.8, 2.0], [0, 0, 4, 4, 0.7, 2.5]]))
    with pytest.raises(ValueError, match="iou_threshold must be <= 1"):
        Sort(iou_threshold=2.0)


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_matched_detection_boxes_beside_the_filtered_ones(name):
    tracker = TRACKERS[name]()
    first = np.array([[10.0, 10.0, 50.0, 80.0, 0.9], [100.0, 10.0, 140.0, 90.0, 0.8]])
    tracker.update(first)
    dets = np.array([[300.0, 300.0, 340.0, 380.0, 0.9], [103.0, 12.0, 144.0, 93.0, 0.9]])
    out = tracker.update(dets)
    boxes = matched_detections(out, dets)
    for row, box in zip(out, boxes):
        if row[7] >= 0:
            np.testing.assert_array_equal(box, dets[int(row[7]), :4])
        else:
            assert np.isnan(box).all()
    assert 1 in out[:, 7].tolist()
    with pytest.raises(ValueError, match="det_idx"):
        matched_detections(out, dets[:1])
    with pytest.raises(ValueError, match="out must have shape"):
        matched_detections(out[:, :5], dets)


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_boxes_too_thin_for_the_motion_model_are_dropped(name):
    """A positive height 1e-310 under a 1e6 width makes the aspect ratio overflow: such a box is
    dropped with the degenerate ones, and the tracks stay finite."""
    tracker = TRACKERS[name]()
    dets = np.array([[0, 0, 1e6, 1e-310, 0.9], [10, 10, 50, 50, 0.95], [0, 0, 5e-324, 40, 0.9]])
    for _ in range(4):
        with pytest.warns(RuntimeWarning, match="dropped 2 degenerate boxes"):
            out = tracker.update(dets)
        assert np.isfinite(out).all() and set(out[:, 7].tolist()) <= {1.0}
    assert out[:, 7].tolist() == [1.0]


def test_bytetrack_states_and_thresholds():
    tracker = ByteTrack()
    out = tracker.update(np.array([[10, 10, 50, 80, 0.9], [100, 10, 140, 90, 0.65]]))
    assert out[:, 4].tolist() == [1]  # 0.65 < track_thresh + 0.1: no new track
    tracker.update(np.array([[11, 10, 51, 80, 0.3]]))  # a low box keeps the track
    assert tracker.last_step.matches[:, 1].tolist() == [1]
    for _ in range(35):
        tracker.update(None)
    assert 1 in tracker.last_step.removed.tolist() or 1 not in tracker.last_step.track_ids.tolist()
    with pytest.raises(ValueError, match="track_buffer must be >= 0"):
        ByteTrack(track_buffer=-1)


def test_ocsort_reports_observed_boxes_and_re_updates_after_a_gap():
    """ORU against filterpy's KalmanFilter driven by hand as the official KalmanBoxTracker does:
    the filter frozen at the first miss is restored and run over virtual boxes."""
    filterpy = require("filterpy.kalman")
    tracker = OCSort(min_hits=0, det_thresh=0.1)
    seen = {0: [10.0, 10.0, 50.0, 80.0], 1: [14.0, 10.0, 54.0, 80.0], 4: [30.0, 14.0, 74.0, 90.0]}
    for t in range(5):
        out = tracker.update(np.array([seen[t] + [0.9]]) if t in seen else None)
        if t == 1:
            np.testing.assert_allclose(out[0, :4], seen[1])  # the observed box, not the filter's
    assert out[:, 4].tolist() == [1]

    def z(box):
        w, h = box[2] - box[0], box[3] - box[1]
        return np.array([box[0] + w / 2, box[1] + h / 2, w * h, w / (h + 1e-6)])

    model = xysr_model()
    kf = filterpy.KalmanFilter(dim_x=7, dim_z=4)
    kf.F, kf.H, kf.Q, kf.R, kf.P = model.F, model.H, model.Q.copy(), model.R.copy(), model.P0.copy()
    kf.x[:4, 0] = z(seen[0])
    kf.predict()
    kf.update(z(seen[1]))
    kf.predict()
    frozen = kf.x.copy(), kf.P.copy()
    kf.predict()
    kf.predict()
    plain = kf.x.copy()
    kf.x, kf.P = frozen
    (cx1, cy1, s1, r1), (cx2, cy2, s2, r2) = z(seen[1]), z(seen[4])
    w1, h1, w2, h2 = np.sqrt(s1 * r1), np.sqrt(s1 / r1), np.sqrt(s2 * r2), np.sqrt(s2 / r2)
    for i in range(1, 4):
        w, h = w1 + i * (w2 - w1) / 3, h1 + i * (h2 - h1) / 3
        kf.update(np.array([cx1 + i * (cx2 - cx1) / 3, cy1 + i * (cy2 - cy1) / 3, w * h, w / h]))
        if i < 3:
            kf.predict()
    kf.update(z(seen[4]))
    expected = convert(kf.x[:4, 0][None], "xysr", "xyxy")[0]
    np.testing.assert_allclose(tracker.boxes[0], expected, rtol=1e-9, atol=1e-9)
    kf.x = plain
    kf.update(z(seen[4]))
    assert np.abs(convert(kf.x[:4, 0][None], "xysr", "xyxy")[0] - expected).max() > 0.1  # ORU mattered


def _deepsort_stream(seed, n_frames=60, n_objects=8, dim=16):
    """Detections from the synthetic ground truth (jittered, 15 % missed) with embeddings near
    one random vector per identity."""
    seq = synthetic_sequence(n_frames=n_frames, size=(240, 320), n_objects=n_objects, seed=seed)
    rng = np.random.default_rng(seed)
    identity = rng.normal(size=(n_objects + 1, dim))
    for t in range(n_frames):
        gt = seq.gt[(seq.gt[:, 0] == t) & (seq.gt[:, 8] > 0.2)]
        gt = gt[rng.random(len(gt)) > 0.15]
        xywh = gt[:, 2:6] + rng.normal(0, 1.0, (len(gt), 4))
        xywh[:, 2:] = np.maximum(xywh[:, 2:], 2)
        emb = (identity[gt[:, 1].astype(int)] + rng.normal(0, 0.3, (len(gt), dim))).astype(np.float32)
        yield xywh, emb


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("budget", [100, None, 2])
def test_deepsort_equals_deep_sort_realtime(seed, budget):
    """Same confirmed trajectories as deep-sort-realtime fed the same boxes and embeddings (to
    1e-3 px: that package keeps detections in float32), ids equal up to a bijection."""
    ref_module = require("deep_sort_realtime.deepsort_tracker")
    ours = DeepSort(max_cosine_distance=0.2, nn_budget=budget, max_iou_distance=0.7, max_age=30, n_init=3)
    ref = ref_module.DeepSort(max_age=30, n_init=3, nms_max_overlap=1.0, max_cosine_distance=0.2,
                              nn_budget=budget, embedder=None)
    mapping = {}
    for xywh, emb in _deepsort_stream(seed):
        dets = np.column_stack([xywh[:, :2], xywh[:, :2] + xywh[:, 2:], np.full(len(xywh), 0.9)])
        out = ours.update(dets, emb)
        tracks = ref.update_tracks([(list(b), 0.9, "x") for b in xywh], embeds=list(emb))
        expected = [(int(t.track_id), t.to_ltrb()) for t in tracks if t.is_confirmed() and t.time_since_update <= 1]
        assert len(out) == len(expected)
        for tid, box in expected:
            diff = np.abs(out[:, :4] - box).max(axis=1)
            k = int(diff.argmin())
            assert diff[k] <= 1e-3
            assert mapping.setdefault(int(out[k, 4]), tid) == tid
    assert len(set(mapping.values())) == len(mapping)


def test_deepsort_inputs_and_colour_histograms():
    frame = np.zeros((40, 60, 3), np.uint8)
    frame[:, 30:] = (200, 10, 10)
    boxes = np.array([[0, 0, 20, 20], [35, 5, 55, 30], [70, 70, 80, 80]], float)
    emb = color_histogram_embeddings(frame, boxes)
    assert emb.shape == (3, 512) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb[:2], axis=1), 1.0, rtol=1e-6)
    assert (emb[2] == 0).all() and float(emb[0] @ emb[1]) == 0.0  # outside box; different colours
    tracker = DeepSort(n_init=1)
    dets = np.column_stack([boxes[:2], [0.9, 0.8]])
    with pytest.raises(ValueError, match="embeddings are required"):
        tracker.update(dets)
    with pytest.raises(ValueError, match=r"embeddings must have shape \(2, D\)"):
        tracker.update(dets, emb)
    with pytest.raises(ValueError, match="embeddings must be finite and non-zero"):
        tracker.update(dets, np.zeros((2, 4)))
    assert tracker.update(dets, emb[:2]).shape == (0, 8)  # new tracks start tentative, as the reference
    out = tracker.update(dets, emb[:2])
    assert sorted(out[:, 4].tolist()) == [1, 2] and tracker.update(None).shape[1] == 8


@given(frames=streams())
@settings(max_examples=40)
def test_deepsort_invariants_on_random_streams(frames):
    tracker = DeepSort(n_init=1)
    rng = np.random.default_rng(0)
    retired = set()
    for dets in frames:
        out = tracker.update(dets, rng.normal(size=(len(dets), 8)) + 3.0)
        ids = out[:, 4].astype(int).tolist()
        assert np.isfinite(out).all() and len(ids) == len(set(ids)) and not (set(ids) & retired)
        used = out[out[:, 7] >= 0, 7].astype(int)
        assert len(set(used.tolist())) == len(used) and (used < len(dets)).all()
        retired |= set(tracker.last_step.removed.tolist())


@pytest.mark.parametrize("name", ["Sort", "OCSort"])
@pytest.mark.parametrize("cost", ["giou", "diou", "ciou"])
def test_association_cost_option(name, cost):
    """With still objects the predicted boxes are last frame's boxes, so the recorded cost matrix
    is the chosen overlap of this frame's detections with them (detections by tracks)."""
    first = np.array([[10, 10, 50, 90], [100, 20, 130, 60], [200, 200, 260, 230]], float)
    second = np.vstack([first, first[:2] + [0, 150, 0, 150]])  # two more, far from every track
    tracker = getattr(sv, name)(cost=cost, min_hits=0)
    for _ in range(3):
        tracker.update(np.column_stack([first, np.full(3, 0.9)]))
    tracker.update(np.column_stack([second, np.full(5, 0.9)]))
    matrix = {"giou": sv.giou_matrix, "diou": sv.diou_matrix, "ciou": sv.ciou_matrix}[cost](second, first)
    np.testing.assert_allclose(tracker.last_step.costs["iou"], matrix, atol=1e-9)
    assert (matrix < 0).any()  # pairs that do not overlap are ranked too


def test_cost_option_is_checked():
    for cls in (sv.Sort, sv.ByteTrack, sv.OCSort, sv.DeepSort, sv.BoTSORT):
        with pytest.raises(ValueError, match="cost"):
            cls(cost="l2")
