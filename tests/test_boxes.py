"""Box geometry against brute-force Python loops."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pathlib import Path

from scratchvision.boxes import (FORMATS, box_area, ciou_matrix, clip_boxes, convert, diou_matrix, giou_matrix,
                                 iou_matrix)

import naive

coords = st.floats(-100, 100, allow_subnormal=False)


@st.composite
def box_sets(draw, max_n=6, allow_inverted=True):
    n = draw(st.integers(0, max_n))
    b = draw(hnp.arrays(np.float64, (n, 4), elements=coords))
    if not allow_inverted:
        b = np.column_stack([np.minimum(b[:, 0], b[:, 2]), np.minimum(b[:, 1], b[:, 3]),
                             np.maximum(b[:, 0], b[:, 2]), np.maximum(b[:, 1], b[:, 3])])
    return b


@given(a=box_sets(), b=box_sets())
def test_iou_equals_loop_and_is_bounded(a, b):
    ours = iou_matrix(a, b)
    np.testing.assert_allclose(ours, naive.iou(a, b), rtol=1e-12, atol=1e-12)
    assert ours.shape == (len(a), len(b))
    assert (ours >= 0).all() and (ours <= 1 + 1e-12).all()
    np.testing.assert_allclose(iou_matrix(b, a), ours.T, rtol=1e-12, atol=1e-15)


@given(a=box_sets(allow_inverted=False), b=box_sets(allow_inverted=False))
def test_iou_equals_sorts_formula_on_proper_boxes(a, b):
    """SORT's iou_batch (no +1, no epsilon) where the union is positive."""
    xx1 = np.maximum(a[:, None, 0], b[None, :, 0])
    yy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    xx2 = np.minimum(a[:, None, 2], b[None, :, 2])
    yy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    wh = np.maximum(0.0, xx2 - xx1) * np.maximum(0.0, yy2 - yy1)
    union = ((a[:, None, 2] - a[:, None, 0]) * (a[:, None, 3] - a[:, None, 1])
             + (b[None, :, 2] - b[None, :, 0]) * (b[None, :, 3] - b[None, :, 1]) - wh)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = wh / union
    ok = union > 0
    np.testing.assert_allclose(iou_matrix(a, b)[ok], ref[ok], rtol=1e-12, atol=1e-15)


def _cython_bbox(boxes, query):
    """bbox_overlaps of the cython_bbox package ByteTrack uses, as plain loops."""
    out = np.zeros((len(boxes), len(query)))
    for k, q in enumerate(query):
        q_area = (q[2] - q[0] + 1) * (q[3] - q[1] + 1)
        for n, p in enumerate(boxes):
            iw = min(p[2], q[2]) - max(p[0], q[0]) + 1
            if iw > 0:
                ih = min(p[3], q[3]) - max(p[1], q[1]) + 1
                if ih > 0:
                    ua = (p[2] - p[0] + 1) * (p[3] - p[1] + 1) + q_area - iw * ih
                    out[n, k] = iw * ih / ua
    return out


@given(a=box_sets(allow_inverted=False), b=box_sets(allow_inverted=False))
def test_pixel_inclusive_iou_equals_cython_bbox(a, b):
    np.testing.assert_allclose(iou_matrix(a, b, pixel_inclusive=True), _cython_bbox(a, b), rtol=1e-12, atol=1e-15)


@given(a=box_sets(allow_inverted=False), b=box_sets(allow_inverted=False))
def test_giou_and_diou_equal_loops(a, b):
    iou = naive.iou(a, b)
    giou = np.zeros_like(iou)
    diou = np.zeros_like(iou)
    for i, p in enumerate(a):
        for j, q in enumerate(b):
            area_p, area_q = (p[2] - p[0]) * (p[3] - p[1]), (q[2] - q[0]) * (q[3] - q[1])
            iw, ih = min(p[2], q[2]) - max(p[0], q[0]), min(p[3], q[3]) - max(p[1], q[1])
            union = area_p + area_q - (iw * ih if iw > 0 and ih > 0 else 0)
            cw, ch = max(p[2], q[2]) - min(p[0], q[0]), max(p[3], q[3]) - min(p[1], q[1])
            enclosing = cw * ch
            giou[i, j] = iou[i, j] - ((enclosing - union) / enclosing if enclosing > 0 else 0)
            centre = ((p[0] + p[2]) / 2 - (q[0] + q[2]) / 2) ** 2 + ((p[1] + p[3]) / 2 - (q[1] + q[3]) / 2) ** 2
            diag = cw * cw + ch * ch
            diou[i, j] = iou[i, j] - (centre / diag if diag > 0 else 0)
    np.testing.assert_allclose(giou_matrix(a, b), giou, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(diou_matrix(a, b), diou, rtol=1e-9, atol=1e-12)
    assert (giou_matrix(a, b) >= -1 - 1e-12).all() and (diou_matrix(a, b) >= -1 - 1e-12).all()


def test_degenerate_boxes_have_zero_iou():
    inverted = np.array([[10.0, 10.0, 5.0, 5.0]])
    proper = np.array([[0.0, 0.0, 20.0, 20.0]])
    assert iou_matrix(inverted, proper)[0, 0] == 0
    assert iou_matrix(inverted, inverted)[0, 0] == 0
    assert box_area(inverted)[0] == 0
    with pytest.raises(ValueError, match="a must be finite"):
        iou_matrix([[0, 0, np.nan, 1]], proper)
    with pytest.raises(ValueError, match=r"b must have shape \(N, 4\)"):
        iou_matrix(proper, np.zeros((2, 5)))
    assert iou_matrix(np.zeros((0, 4)), proper).shape == (0, 1)


@given(b=box_sets(allow_inverted=False), src=st.sampled_from(FORMATS), dst=st.sampled_from(FORMATS))
def test_conversions_round_trip(b, src, dst):
    b = b[(b[:, 2] - b[:, 0] > 1e-3) & (b[:, 3] - b[:, 1] > 1e-3)]
    there = convert(convert(b, "xyxy", src), src, dst)
    back = convert(there, dst, "xyxy")
    np.testing.assert_allclose(back, b, rtol=1e-9, atol=1e-9)


def test_conversions_by_hand():
    b = np.array([[10.0, 20.0, 50.0, 100.0]])  # w 40, h 80, centre (30, 60)
    np.testing.assert_allclose(convert(b, "xyxy", "xywh"), [[10, 20, 40, 80]])
    np.testing.assert_allclose(convert(b, "xyxy", "cxcywh"), [[30, 60, 40, 80]])
    np.testing.assert_allclose(convert(b, "xyxy", "xysr"), [[30, 60, 3200, 0.5]])
    np.testing.assert_allclose(convert(b, "xyxy", "xyah"), [[30, 60, 0.5, 80]])
    assert math.isnan(convert([[0, 0, -4, 1]], "xysr", "xyxy")[0, 2])  # negative area: NaN, as SORT
    with pytest.raises(ValueError, match="src must be one of"):
        convert(b, "ltrb", "xyxy")
    np.testing.assert_allclose(clip_boxes([[-5, 3, 700, 500]], (480, 640)), [[0, 3, 640, 480]])


def test_giou_diou_ciou_equal_torchvision():
    """torchvision.ops' generalized / distance / complete box IoU of the same seeded boxes (fixture
    by tests/fixtures/make_box_fixtures.py; torchvision adds eps = 1e-7 to its denominators)."""
    f = np.load(Path(__file__).parent / "fixtures" / "torch_golden" / "box_ious.npz")
    for ours, key in ((giou_matrix, "giou"), (diou_matrix, "diou"), (ciou_matrix, "ciou")):
        np.testing.assert_allclose(ours(f["a"], f["b"]), f[key], rtol=0, atol=1e-6, err_msg=key)
    assert (f["ciou"] < f["diou"] - 1e-3).any() and (iou_matrix(f["a"], f["b"]) > 0.1).any()
