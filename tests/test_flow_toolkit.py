"""Flow toolkit: warping and the Middlebury error measures, against plain loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratchvision.flow import angular_error, endpoint_error, flow_consistency, resize_flow, valid_flow_mask, warp

import naive

small_flows = hnp.arrays(np.float32, (5, 6, 2), elements=st.floats(-20, 20, width=32))


@given(flow=small_flows, gt=small_flows)
def test_errors_equal_per_pixel_loops(flow, gt):
    gt = gt.copy()
    gt[0, 0] = 1e10  # unknown
    epe, ae = naive.flow_errors(flow, gt)
    assert endpoint_error(flow, gt) == pytest.approx(epe, rel=1e-9, abs=1e-9)
    assert angular_error(flow, gt) == pytest.approx(ae, rel=1e-6, abs=1e-6)
    per_pixel = endpoint_error(flow, gt, reduce=False)
    assert np.isnan(per_pixel[0, 0]) and np.isfinite(per_pixel[1:]).all()


def test_mask_and_all_invalid():
    flow = np.zeros((2, 2, 2), np.float32)
    gt = np.ones((2, 2, 2), np.float32)
    mask = np.array([[True, False], [False, False]])
    assert endpoint_error(flow, gt, mask=mask) == pytest.approx(math.sqrt(2))
    assert math.isnan(endpoint_error(flow, np.full_like(gt, np.nan)))
    np.testing.assert_array_equal(valid_flow_mask(np.array([[[0, 2e9], [np.nan, 0], [1, 1]]], np.float32)),
                                  [[False, False, True]])


@given(dx=st.integers(-3, 3), dy=st.integers(-3, 3))
def test_warp_integer_shift_is_a_crop(dx, dy):
    img = np.arange(10 * 12, dtype=np.float32).reshape(10, 12)
    flow = np.zeros((10, 12, 2), np.float32)
    flow[..., 0], flow[..., 1] = dx, dy
    out = warp(img, flow, border_mode="nan")
    ys, xs = np.mgrid[0:10, 0:12]
    inside = (xs + dx >= 0) & (xs + dx < 12) & (ys + dy >= 0) & (ys + dy < 10)
    np.testing.assert_array_equal(out[inside], img[(ys + dy)[inside], (xs + dx)[inside]])
    assert np.isnan(out[~inside]).all()


def test_warp_checks_shapes():
    with pytest.raises(ValueError, match="to match image"):
        warp(np.zeros((4, 4)), np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="flow and gt must have one shape"):
        endpoint_error(np.zeros((4, 4, 2)), np.zeros((4, 5, 2)))
    with pytest.raises(ValueError, match="mask must have shape"):
        endpoint_error(np.zeros((4, 4, 2)), np.zeros((4, 4, 2)), mask=np.ones(3, bool))


def test_resize_flow_scales_vectors_with_the_image(cv2):
    rng = np.random.default_rng(0)
    flow = rng.normal(0, 3, (20, 30, 2)).astype(np.float32)
    out = resize_flow(flow, (60, 10))
    ref = cv2.resize(flow, (60, 10)) * np.array([2.0, 0.5], np.float32)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
    const = np.broadcast_to(np.array([3.0, -2.0], np.float32), (20, 30, 2))
    np.testing.assert_allclose(resize_flow(const, (60, 10)), np.broadcast_to([6.0, -1.0], (10, 60, 2)))


def test_flow_consistency_of_a_translation_and_of_a_wrong_backward_flow():
    h, w = 24, 32
    fwd = np.broadcast_to(np.array([3.0, 1.0], np.float32), (h, w, 2)).copy()
    err, occ = flow_consistency(fwd, -fwd)
    inside = np.zeros((h, w), bool)
    inside[:h - 1, :w - 3] = True  # x + 3 <= w - 1 and y + 1 <= h - 1
    np.testing.assert_allclose(err[inside], 0, atol=1e-6)
    assert not occ[inside].any() and occ[~inside].all() and np.isnan(err[~inside]).all()
    err, occ = flow_consistency(fwd, np.zeros_like(fwd))  # a backward flow that does not return
    np.testing.assert_allclose(err[inside], math.hypot(3, 1), rtol=1e-6)
    assert occ.all()
    # the relative tolerance: |f + b|^2 = 0.04 against 0.01 * (10 + 9.64) + 0 -> consistent
    _, occ = flow_consistency(fwd, -0.94 * fwd, alpha2=0.0)
    assert not occ[inside].any()


def test_flow_consistency_flags_unreliable_flow_in_the_synthetic_scene():
    """Forward and backward Farneback flows on the synthetic sequence: a small fraction of the
    pixels is flagged (mostly those leaving the panning view), and the flow there is worse
    against the ground truth than elsewhere."""
    from scratchvision import calc_optical_flow_farneback, synthetic_sequence
    seq = synthetic_sequence(2, size=(120, 160), n_objects=3, seed=2)
    f = calc_optical_flow_farneback(seq.frames[0], seq.frames[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)
    b = calc_optical_flow_farneback(seq.frames[1], seq.frames[0], None, 0.5, 3, 15, 3, 5, 1.2, 0)
    _, occ = flow_consistency(f, b)
    assert 0 < occ.mean() < 0.2
    epe = endpoint_error(f, seq.flow[0], reduce=False)
    assert np.nanmean(epe[occ]) > 1.3 * np.nanmean(epe[~occ])


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda: resize_flow(np.zeros((4, 4, 3), np.float32), (2, 2)), "flow"),
    (lambda: resize_flow(np.zeros((4, 4, 2), np.float32), (0, 2)), "dsize"),
    (lambda: flow_consistency(np.zeros((4, 4, 2)), np.zeros((4, 5, 2))), "one shape"),
    (lambda: flow_consistency(np.zeros((4, 4, 2)), np.zeros((4, 4, 2)), alpha1=-1), "alpha1"),
    (lambda: flow_consistency(np.full((4, 4, 2), np.nan), np.zeros((4, 4, 2))), "forward"),
])
def test_toolkit_rejects_bad_input(call, fragment):
    with pytest.raises(ValueError, match=fragment):
        call()
