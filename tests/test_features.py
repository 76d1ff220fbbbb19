"""Corner responses and good features to track, against OpenCV."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FLOW_PAIRS, shared_path
from scratchvision import corner_harris, corner_min_eigen_val, good_features_to_track, synthetic_sequence
from scratchvision.data import texture


def _gray(path, cv2):
    return cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)


def _same_corners(ours, ref):
    """Fraction of cv2's corners reproduced within 1e-3 px at the same position in the list."""
    ref = np.zeros((0, 2), np.float32) if ref is None else ref.reshape(-1, 2)
    n = min(len(ours), len(ref))
    if len(ref) == 0:
        return 1.0 if len(ours) == 0 else 0.0
    same = (np.abs(ours[:n] - ref[:n]) <= 1e-3).all(axis=1).sum()
    return same / max(len(ref), len(ours))


# Contrast from 32 gray levels up: below that, float32 responses tie exactly so often that the
# order of equal responses decides the list, and OpenCV's order among them follows its SIMD
# summation (lane width and loop tails, machine-dependent), which this code does not reproduce.
textures = st.builds(lambda seed, h, w, contrast: (texture((h, w), seed) * contrast).astype(np.uint8),
                     st.integers(0, 10_000), st.integers(16, 96), st.integers(16, 96), st.integers(32, 255))


@given(img=textures, block=st.integers(2, 7))
def test_min_eigen_val_and_harris_equal_cv2(cv2, img, block):
    """To float32 rounding: (a + c) - sqrt(...) cancels, so the tolerance is relative to the
    largest response (1e-5 of it) as well as to each value."""
    ref = cv2.cornerMinEigenVal(img, block, 3)
    np.testing.assert_allclose(corner_min_eigen_val(img, block, 3), ref, rtol=1e-5,
                               atol=1e-5 * max(np.abs(ref).max(), 1e-12))
    ref_h = cv2.cornerHarris(img, block, 3, 0.04)
    np.testing.assert_allclose(corner_harris(img, block, 3, 0.04), ref_h, rtol=1e-5,
                               atol=1e-5 * max(np.abs(ref_h).max(), 1e-20))
    as_float = img.astype(np.float32)
    ref_f = cv2.cornerMinEigenVal(as_float, block, 3)
    np.testing.assert_allclose(corner_min_eigen_val(as_float, block), ref_f, rtol=1e-5,
                               atol=1e-5 * max(np.abs(ref_f).max(), 1e-12))


@given(img=textures, max_corners=st.integers(0, 300), quality=st.floats(0.001, 0.5),
       min_distance=st.floats(0, 12), harris=st.booleans())
def test_good_features_equal_cv2_on_textures(cv2, img, max_corners, quality, min_distance, harris):
    ours = good_features_to_track(img, max_corners, quality, min_distance, use_harris=harris)
    ref = cv2.goodFeaturesToTrack(img, max_corners, quality, min_distance, useHarrisDetector=harris)
    assert ours.dtype == np.float32 and ours.ndim == 2
    assert _same_corners(ours, ref) >= 0.99


@pytest.mark.parametrize("pair", FLOW_PAIRS)
@pytest.mark.parametrize("params", [(500, 0.01, 7), (0, 0.05, 3), (1000, 0.001, 10)])
def test_good_features_equal_cv2_on_real_frames(cv2, pair, params):
    img = _gray(shared_path("flow", pair, "frame10.png"), cv2)
    ours = good_features_to_track(img, *params)
    ref = cv2.goodFeaturesToTrack(img, *params)
    assert _same_corners(ours, ref) >= 0.99


def test_good_features_with_mask_and_synthetic(cv2):
    seq = synthetic_sequence(n_frames=2, size=(120, 160), n_objects=3, seed=5)
    img = seq.frames[0]
    mask = np.zeros_like(img)
    mask[20:100, 30:120] = 1
    ours = good_features_to_track(img, 200, 0.01, 5, mask=mask)
    ref = cv2.goodFeaturesToTrack(img, 200, 0.01, 5, mask=mask)
    assert _same_corners(ours, ref) >= 0.99
    assert (mask[ours[:, 1].astype(int), ours[:, 0].astype(int)] == 1).all()


def test_flat_image_and_tiny_image():
    assert good_features_to_track(np.full((20, 20), 7, np.uint8), 10, 0.01, 3).shape == (0, 2)
    assert good_features_to_track(np.zeros((2, 2), np.uint8), 10, 0.01, 3).shape == (0, 2)
    assert good_features_to_track(np.zeros((5, 5), np.uint8), 10, 0.01, 3, mask=np.zeros((5, 5))).shape == (0, 2)
    with pytest.raises(ValueError, match="mask must have the image's shape"):
        good_features_to_track(np.zeros((5, 5), np.uint8), 10, 0.01, 3, mask=np.zeros((4, 5)))
    with pytest.raises(ValueError, match="must have shape \\(H, W\\)"):
        good_features_to_track(np.zeros((5, 5, 3), np.uint8), 10, 0.01, 3)
