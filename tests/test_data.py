"""The synthetic sequence: deterministic, and its ground truth agrees with its pixels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchvision.data import synthetic_sequence, texture
from scratchvision.flow import warp


@pytest.fixture(scope="module")
def seq():
    return synthetic_sequence(n_frames=24, size=(120, 160), n_objects=6, seed=3)


def test_shapes_and_dtypes(seq):
    assert seq.frames.shape == (24, 120, 160) and seq.frames.dtype == np.uint8
    assert seq.flow.shape == (23, 120, 160, 2) and seq.flow.dtype == np.float32
    assert seq.labels.shape == (24, 120, 160)
    assert seq.gt.shape[1] == 9
    colour = synthetic_sequence(n_frames=3, size=(32, 40), n_objects=1, seed=0, color=True)
    assert colour.frames.shape == (3, 32, 40, 3)


def test_deterministic_by_seed(seq):
    again = synthetic_sequence(n_frames=24, size=(120, 160), n_objects=6, seed=3)
    for a, b in ((seq.frames, again.frames), (seq.flow, again.flow), (seq.gt, again.gt)):
        np.testing.assert_array_equal(a, b)
    other = synthetic_sequence(n_frames=24, size=(120, 160), n_objects=6, seed=4)
    assert not np.array_equal(seq.frames, other.frames)


def _covisible(seq, t):
    h, w = seq.labels.shape[1:]
    yy, xx = np.mgrid[0:h, 0:w]
    tx = np.rint(xx + seq.flow[t][..., 0]).astype(int)
    ty = np.rint(yy + seq.flow[t][..., 1]).astype(int)
    inside = (tx >= 1) & (tx < w - 1) & (ty >= 1) & (ty < h - 1)
    same = inside.copy()
    same[inside] = seq.labels[t + 1][ty[inside], tx[inside]] == seq.labels[t][inside]
    # Stay two pixels away from any object boundary: bilinear sampling mixes surfaces there.
    from scipy.ndimage import binary_erosion

    return binary_erosion(same, iterations=2)


@given(seed=st.integers(0, 10_000), color=st.booleans())
@settings(max_examples=8)
def test_ground_truth_flow_explains_the_frames(seed, color):
    """Warping frame t+1 back by the exact flow reproduces frame t on co-visible pixels.

    The residual comes only from uint8 rounding and from resampling an already resampled
    texture (bilinear twice); without the warp it is several times larger.
    """
    s = synthetic_sequence(n_frames=4, size=(64, 80), n_objects=3, seed=seed, color=color,
                           max_speed=3.0, background_speed=1.5)
    for t in range(3):
        mask = _covisible(s, t)
        assert mask.mean() > 0.5
        a = s.frames[t].astype(np.float32)
        b = s.frames[t + 1].astype(np.float32)
        warped = warp(b, s.flow[t])
        residual = np.abs(warped - a)[mask].mean()
        unwarped = np.abs(b - a)[mask].mean()
        assert residual < 1.2, residual
        assert residual < 0.5 * unwarped


def test_background_flow_is_the_pan(seq):
    bg = seq.labels[0] == 0
    v = seq.flow[0][bg]
    np.testing.assert_allclose(v, np.broadcast_to(v[0], v.shape), atol=1e-6)
    assert 0.4 < np.hypot(*v[0]) <= 1.0 + 1e-6  # background_speed=1 in a random direction


def test_boxes_enclose_the_visible_pixels(seq):
    """Every labelled pixel of object k lies inside k's ground-truth box (+1/2 px of rounding)."""
    for t in range(len(seq.frames)):
        rows = seq.gt[seq.gt[:, 0] == t]
        for r in rows:
            ys, xs = np.nonzero(seq.labels[t] == r[1])
            if r[6] == 0:
                assert len(xs) == 0
                continue
            assert len(xs) > 0
            assert xs.min() >= r[2] - 0.5 and xs.max() <= r[2] + r[4] + 0.5
            assert ys.min() >= r[3] - 0.5 and ys.max() <= r[3] + r[5] + 0.5
            assert 0 < r[8] <= 1


def test_sequence_has_entries_exits_and_occlusions(seq):
    gt = seq.gt[seq.gt[:, 6] > 0]
    first = {i: gt[gt[:, 1] == i, 0].min() for i in np.unique(gt[:, 1])}
    last = {i: gt[gt[:, 1] == i, 0].max() for i in np.unique(gt[:, 1])}
    assert any(f > 0 for f in first.values()), "no object enters"
    assert any(v < len(seq.frames) - 1 for v in last.values()), "no object leaves"
    # An occlusion: an object fully inside the image yet less than 70 % visible.
    h, w = seq.labels.shape[1:]
    inside = (gt[:, 2] > 0) & (gt[:, 3] > 0) & (gt[:, 2] + gt[:, 4] < w - 1) & (gt[:, 3] + gt[:, 5] < h - 1)
    assert (gt[inside, 8] < 0.7).any(), "no occlusion"
    assert set(np.unique(seq.gt[:, 1]).astype(int)) == set(range(1, 7))


def test_boxes_helper(seq):
    xyxy, ids = seq.boxes(5)
    rows = seq.gt[(seq.gt[:, 0] == 5) & (seq.gt[:, 6] > 0)]
    np.testing.assert_array_equal(ids, rows[:, 1])
    np.testing.assert_allclose(xyxy[:, 2] - xyxy[:, 0], rows[:, 4])
    with pytest.raises(ValueError, match="t must be <="):
        seq.boxes(99)


def test_no_objects_and_texture():
    s = synthetic_sequence(n_frames=2, size=(16, 16), n_objects=0, seed=0)
    assert s.gt.shape == (0, 9) and (s.labels == 0).all()
    t = texture((20, 30), seed=1, channels=3)
    assert t.shape == (20, 30, 3) and t.min() >= 0 and t.max() <= 1
    np.testing.assert_array_equal(t, texture((20, 30), seed=1, channels=3))


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(n_frames=1), ValueError, "n_frames must be >= 2"),
    (dict(n_frames=2.5), TypeError, "n_frames must be an integer"),
    (dict(size=(8, 100)), ValueError, r"size\[0\] \(height\) must be >= 16"),
    (dict(size=100), TypeError, "size must be a pair"),
    (dict(n_objects=-1), ValueError, "n_objects must be >= 0"),
    (dict(seed=-3), ValueError, "seed must be >= 0"),
    (dict(max_speed=float("nan")), ValueError, "max_speed must be finite"),
    (dict(noise=-1.0), ValueError, "noise must be >= 0"),
    (dict(max_scale_rate=0.5), ValueError, "max_scale_rate must be <= 0.2"),
])
def test_bad_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        synthetic_sequence(**kwargs)
