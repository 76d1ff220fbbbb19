"""Pyramidal Lucas-Kanade, its pyramid and derivatives, against OpenCV and the ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FLOW_PAIRS, shared_path
from scratchvision import (build_optical_flow_pyramid, calc_optical_flow_pyr_lk, forward_backward_error,
                           good_features_to_track, pyr_down, read_flo, remap, scharr_derivatives,
                           synthetic_sequence)
from scratchvision.data import texture


def _compare(cv2, prev, nxt, pts, **kw):
    """Ours against cv2 with the same arguments; returns (ours, ref) after the issue's checks."""
    cv_kw = dict(winSize=kw.get("win_size", (21, 21)), maxLevel=kw.get("max_level", 3),
                 criteria=(cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, kw.get("max_iter", 30),
                           kw.get("epsilon", 0.01)),
                 minEigThreshold=kw.get("min_eig_threshold", 1e-4), flags=0)
    next_guess = None
    if kw.get("use_initial_flow"):
        cv_kw["flags"] |= cv2.OPTFLOW_USE_INITIAL_FLOW
        next_guess = kw["next_pts"].astype(np.float32).copy()
    if kw.get("get_min_eigenvals"):
        cv_kw["flags"] |= cv2.OPTFLOW_LK_GET_MIN_EIGENVALS
    ref_pts, ref_st, ref_err = cv2.calcOpticalFlowPyrLK(prev, nxt, pts.reshape(-1, 1, 2).astype(np.float32),
                                                        None if next_guess is None else next_guess.reshape(-1, 1, 2),
                                                        **cv_kw)
    ours_pts, ours_st, ours_err = calc_optical_flow_pyr_lk(prev, nxt, pts, **kw)
    ref_pts, ref_st, ref_err = ref_pts.reshape(-1, 2), ref_st.ravel(), ref_err.ravel()
    assert ours_pts.shape == pts.shape and ours_st.dtype == np.uint8 and ours_err.dtype == np.float32
    assert (ours_st == ref_st).mean() >= 0.99
    both = (ours_st == 1) & (ref_st == 1)
    if both.any():
        d = np.hypot(*(ours_pts.reshape(-1, 2)[both] - ref_pts[both]).T)
        assert (d <= 0.01).mean() >= 0.99, d.max()
        assert d.max() <= 0.1, d.max()
        np.testing.assert_allclose(ours_err[both], ref_err[both], rtol=1e-4, atol=1e-4)
    return (ours_pts.reshape(-1, 2), ours_st), (ref_pts, ref_st)


motions = st.tuples(st.floats(-6, 6), st.floats(-6, 6), st.floats(-0.05, 0.05), st.floats(0.95, 1.05))


@given(seed=st.integers(0, 10_000), motion=motions,
       win=st.sampled_from([(21, 21), (15, 15), (9, 7), (5, 5), (33, 17), (17, 31)]),
       max_level=st.integers(0, 4))
def test_equals_cv2_on_generated_textures(cv2, seed, motion, win, max_level):
    h, w = 96, 128
    img = (texture((h, w), seed) * 255).astype(np.uint8)
    dx, dy, angle, scale = motion
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ca, sa = np.cos(angle) / scale, np.sin(angle) / scale
    cx, cy = w / 2, h / 2
    mx = ca * (xx - cx - dx) + sa * (yy - cy - dy) + cx
    my = -sa * (xx - cx - dx) + ca * (yy - cy - dy) + cy
    nxt = np.clip(np.rint(remap(img, mx, my, border_mode="replicate")), 0, 255).astype(np.uint8)
    corners = good_features_to_track(img, 80, 0.01, 4)
    rng = np.random.default_rng(seed)
    extra = rng.uniform(-15, [w + 15, h + 15], (20, 2)).astype(np.float32)  # some near/outside borders
    pts = np.concatenate([corners, extra])
    _compare(cv2, img, nxt, pts, win_size=win, max_level=max_level)


@pytest.mark.parametrize("pair", FLOW_PAIRS)
def test_equals_cv2_on_real_pairs_and_ground_truth(cv2, pair):
    prev = cv2.imread(str(shared_path("flow", pair, "frame10.png")), cv2.IMREAD_GRAYSCALE)
    nxt = cv2.imread(str(shared_path("flow", pair, "frame11.png")), cv2.IMREAD_GRAYSCALE)
    gt = read_flo(shared_path("flow", pair, "flow10.flo"))
    corners = good_features_to_track(prev, 500, 0.01, 7)
    (ours, ours_st), (ref, ref_st) = _compare(cv2, prev, nxt, corners)
    ys, xs = corners[:, 1].astype(int), corners[:, 0].astype(int)
    target = corners + gt[ys, xs]
    known = np.abs(gt[ys, xs]).max(axis=1) < 1e9
    ours_epe = np.median(np.hypot(*(ours - target).T)[known & (ours_st == 1)])
    ref_epe = np.median(np.hypot(*(ref - target).T)[known & (ref_st == 1)])
    assert ours_epe == pytest.approx(ref_epe, rel=0.01, abs=1e-3)
    ys, xs = np.mgrid[8:prev.shape[0] - 8:9, 8:prev.shape[1] - 8:9]
    grid = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float32)
    _compare(cv2, prev, nxt, grid)


def test_equals_cv2_on_the_synthetic_sequence_and_tracks_the_ground_truth(cv2):
    seq = synthetic_sequence(n_frames=6, size=(160, 224), n_objects=5, seed=2)
    for t in range(5):
        corners = good_features_to_track(seq.frames[t], 200, 0.01, 5)
        (ours, st_), _ = _compare(cv2, seq.frames[t], seq.frames[t + 1], corners)
        ys, xs = corners[:, 1].astype(int), corners[:, 0].astype(int)
        err = np.hypot(*(ours - (corners + seq.flow[t][ys, xs])).T)[st_ == 1]
        assert np.median(err) < 0.1


@pytest.mark.parametrize("kw", [
    dict(max_iter=3, epsilon=0.5), dict(max_iter=100, epsilon=0.0), dict(min_eig_threshold=1e-2),
    dict(get_min_eigenvals=True), dict(max_level=10), dict(win_size=(3, 3), max_level=1),
])
def test_options_equal_cv2(cv2, kw):
    prev = cv2.imread(str(shared_path("flow", "RubberWhale", "frame10.png")), cv2.IMREAD_GRAYSCALE)
    nxt = cv2.imread(str(shared_path("flow", "RubberWhale", "frame11.png")), cv2.IMREAD_GRAYSCALE)
    _compare(cv2, prev, nxt, good_features_to_track(prev, 300, 0.01, 7), **kw)


def test_initial_flow_equals_cv2(cv2):
    prev = cv2.imread(str(shared_path("flow", "Hydrangea", "frame10.png")), cv2.IMREAD_GRAYSCALE)
    nxt = cv2.imread(str(shared_path("flow", "Hydrangea", "frame11.png")), cv2.IMREAD_GRAYSCALE)
    pts = good_features_to_track(prev, 300, 0.01, 7)
    guess = pts + np.float32([2.0, -1.0])
    _compare(cv2, prev, nxt, pts, use_initial_flow=True, next_pts=guess)


@given(seed=st.integers(0, 10_000), h=st.integers(1, 60), w=st.integers(1, 60))
def test_pyramid_and_derivatives_bit_exact(cv2, seed, h, w):
    img = (np.random.default_rng(seed).random((h, w)) * 255).astype(np.uint8)
    np.testing.assert_array_equal(pyr_down(img), cv2.pyrDown(img))
    if min(h, w) >= 4:
        levels = build_optical_flow_pyramid(img, (3, 3), 4)
        n, ref = cv2.buildOpticalFlowPyramid(img, (3, 3), 4, withDerivatives=True)
        assert len(levels) == n + 1
        for k, level in enumerate(levels):
            np.testing.assert_array_equal(level, ref[2 * k])
            np.testing.assert_array_equal(scharr_derivatives(level), ref[2 * k + 1])


def test_shapes_nan_outside_and_empty():
    seq = synthetic_sequence(n_frames=2, size=(64, 80), n_objects=1, seed=0)
    a, b = seq.frames
    pts = np.array([[[30.0, 30.0]], [[np.nan, 5.0]], [[-500.0, 10.0]], [[40.0, 1e6]], [[3e38, -3e38]]],
                   np.float32)
    nxt, status, err = calc_optical_flow_pyr_lk(a, b, pts)
    assert nxt.shape == (5, 1, 2)
    assert status.tolist()[1:] == [0, 0, 0, 0]
    empty, st0, e0 = calc_optical_flow_pyr_lk(a, b, np.zeros((0, 2), np.float32))
    assert empty.shape == (0, 2) and st0.shape == (0,) and e0.shape == (0,)
    as_float, st_f, _ = calc_optical_flow_pyr_lk(a.astype(np.float32), b.astype(np.float32), pts)
    np.testing.assert_array_equal(as_float, nxt)
    with pytest.raises(ValueError, match="prev_pts .*must be finite"):
        calc_optical_flow_pyr_lk(a, b, [[np.inf, 0.0]])
    with pytest.raises(TypeError, match="prev_img must have dtype"):
        calc_optical_flow_pyr_lk(a.astype(np.int32), b, pts)


def test_trace_and_forward_backward(cv2):
    seq = synthetic_sequence(n_frames=2, size=(96, 128), n_objects=2, seed=4)
    a, b = seq.frames
    pts = good_features_to_track(a, 50, 0.01, 5)
    nxt, st_, err, trace = calc_optical_flow_pyr_lk(a, b, pts, trace=True)
    assert len(trace.prev_pyramid) == trace.iterations.shape[1]
    assert trace.iterations.shape == (len(pts), len(trace.prev_pyramid))
    assert (trace.iterations[st_ == 1, 0] >= 1).all()
    np.testing.assert_allclose(trace.residual[st_ == 1, 0], err[st_ == 1], rtol=1e-6)
    fwd, fb_status, fb_err = forward_backward_error(a, b, pts)
    back, st2, _ = cv2.calcOpticalFlowPyrLK(b, a, fwd, None)
    ok = (fb_status == 1)
    np.testing.assert_allclose(fb_err[ok], np.hypot(*(back.reshape(-1, 2) - pts).T)[ok], rtol=1e-5, atol=1e-5)
    assert np.isinf(fb_err[~ok]).all()
    assert np.median(fb_err[ok]) < 0.1


def test_track_features_follows_the_synthetic_scene():
    from scratchvision import track_features

    seq = synthetic_sequence(n_frames=12, size=(120, 160), n_objects=3, seed=1)
    steps, seen = [], set()
    previous = None
    for tp in track_features(seq.frames, quality_level=0.01, max_corners=100, detect_interval=4):
        assert tp.points.shape == (len(tp.ids), 2) and tp.ids.dtype == np.int64
        assert len(set(tp.ids.tolist())) == len(tp.ids)
        assert not (set(tp.ids[tp.new].tolist()) & seen)  # new ids are never reused
        seen |= set(tp.ids.tolist())
        if previous is not None:
            before = dict(zip(previous.ids.tolist(), previous.points))
            for i, p in zip(tp.ids[~tp.new].tolist(), tp.points[~tp.new]):
                x, y = before[i]
                steps.append(np.hypot(*(p - (before[i] + seq.flow[tp.frame - 1][int(round(y)), int(round(x))]))))
        previous = tp
    assert tp.frame == 11 and min(seen) == 1
    assert np.median(steps) < 0.2
    with pytest.raises(ValueError, match="detect_interval must be >= 1"):
        next(track_features(seq.frames, detect_interval=0))
