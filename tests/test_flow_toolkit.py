"""Flow toolkit: warping and the Middlebury error measures, against plain loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scratchvision.flow import angular_error, endpoint_error, valid_flow_mask, warp

small_flows = hnp.arrays(np.float32, (5, 6, 2), elements=st.floats(-20, 20, width=32))


@given(flow=small_flows, gt=small_flows)
def test_errors_equal_per_pixel_loops(flow, gt):
    gt = gt.copy()
    gt[0, 0] = 1e10  # unknown
    epe, ae = [], []
    for i in range(5):
        for j in range(6):
            if abs(gt[i, j, 0]) > 1e9 or abs(gt[i, j, 1]) > 1e9:
                continue
            u, v = float(flow[i, j, 0]), float(flow[i, j, 1])
            gu, gv = float(gt[i, j, 0]), float(gt[i, j, 1])
            epe.append(math.sqrt((u - gu) ** 2 + (v - gv) ** 2))
            c = (1 + u * gu + v * gv) / math.sqrt((1 + u * u + v * v) * (1 + gu * gu + gv * gv))
            ae.append(math.degrees(math.acos(max(-1.0, min(1.0, c)))))
    assert endpoint_error(flow, gt) == pytest.approx(np.mean(epe), rel=1e-9, abs=1e-9)
    assert angular_error(flow, gt) == pytest.approx(np.mean(ae), rel=1e-6, abs=1e-6)
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
