"""ECC alignment against the live cv2.findTransformECC (OpenCV 5: same matrices to 1e-4, the
issue's bound; observed <= 4e-5, euclidean, whose angle goes through acos/cos) on real pairs
(OpenCV's graf1 under known warps, Middlebury, Sintel, the OTB sequence) and hypothesis-made warps;
estimate_camera_motion(method="ecc") on the synthetic video's exact camera motion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scratchvision as sv
from scratchvision.flow import ECCError, find_transform_ecc

from conftest import shared_path

MODELS = ("translation", "euclidean", "affine", "homography")
TOLERANCE = 1e-4  # in every matrix entry


def _gray(path, size=(320, 240)):
    import cv2

    return cv2.resize(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), size, interpolation=cv2.INTER_AREA)


def _compare(cv2, template, image, model, criteria=(3, 50, 1e-5), mask=None, size=5, start=None):
    rows = 3 if model == "homography" else 2
    w0 = np.eye(rows, 3, dtype=np.float32) if start is None else start
    try:
        rho_cv, m_cv = cv2.findTransformECC(template, image, w0.copy(), MODELS.index(model), criteria, mask, size)
    except cv2.error:
        with pytest.raises(ECCError):
            find_transform_ecc(template, image, w0.copy(), model, criteria, mask, size)
        return None
    rho, m = find_transform_ecc(template, image, w0.copy(), model, criteria, mask, size)
    assert m.dtype == np.float32 and m.shape == (rows, 3)
    np.testing.assert_allclose(m, m_cv, rtol=0, atol=TOLERANCE)
    assert abs(rho - rho_cv) < 1e-4
    return m


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("size", [1, 5])
@pytest.mark.parametrize("masked", [False, True])
def test_equals_cv2_on_known_warps_of_graf1(cv2, model, size, masked):
    img = _gray(shared_path("opencv-samples", "samples", "data", "graf1.png"))
    warp = np.array([[1.01, 0.02, 3.3], [-0.015, 0.99, -2.1], [2e-5, -1e-5, 1.0]], np.float32)
    flags = cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP
    moved = (cv2.warpPerspective(img, warp, img.shape[::-1], flags=flags) if model == "homography"
             else cv2.warpAffine(img, warp[:2], img.shape[::-1], flags=flags))
    mask = None
    if masked:
        mask = np.ones_like(img)
        mask[100:150, 100:200] = 0
    m = _compare(cv2, img, moved, model, mask=mask, size=size)
    if model in ("affine", "homography"):  # the models that can express the warp find it: moved(x) =
        inverse = np.linalg.inv(warp if model == "homography" else np.vstack([warp[:2], [0, 0, 1]]))  # img(W x)
        np.testing.assert_allclose(m[:2], (inverse / inverse[2, 2])[:2], atol=0.3)


@pytest.mark.parametrize("pair", ["RubberWhale", "Sintel_alley_1_clean", "otb"])
@pytest.mark.parametrize("model", MODELS)
def test_equals_cv2_on_real_pairs(cv2, pair, model):
    if pair == "otb":
        folder = shared_path("video", "Crossing", "img")
        a, b = _gray(folder / "0001.jpg", (180, 180)), _gray(folder / "0003.jpg", (180, 180))
    else:
        a, b = (_gray(shared_path("flow", pair, f"frame1{i}.png")) for i in (0, 1))
    _compare(cv2, a, b, model)
    _compare(cv2, a.astype(np.float32), b.astype(np.float32), model, criteria=(1, 5, 0.0), size=3)


@settings(max_examples=12, deadline=None)
@given(tx=st.floats(-4, 4), ty=st.floats(-4, 4), angle=st.floats(-0.03, 0.03), scale=st.floats(0.97, 1.03),
       model=st.sampled_from(MODELS), seed=st.integers(0, 50))
def test_equals_cv2_on_generated_warps(tx, ty, angle, scale, model, seed):
    import cv2

    img = (sv.texture((96, 128), seed) * 255).astype(np.uint8)
    c, s = scale * np.cos(angle), scale * np.sin(angle)
    warp = np.array([[c, -s, tx], [s, c, ty]], np.float32)
    moved = cv2.warpAffine(img, warp, (128, 96), flags=cv2.INTER_LINEAR + cv2.WARP_INVERSE_MAP)
    # a fixed count: where |rho - last rho| lands within float rounding of epsilon, the two stop one
    # iteration apart, and an unconverged homography's translation then differs by ~2e-4 (seed 3)
    _compare(cv2, img, moved, model, criteria=(1, 30, 0.0))


def test_camera_motion_by_ecc_on_the_synthetic_video():
    seq = sv.synthetic_sequence(4, (180, 240), n_objects=0, seed=4, background_speed=2.0)
    for t in range(3):
        exact = seq.flow[t][0, 0]
        m, info = sv.flow.estimate_camera_motion(seq.frames[t], seq.frames[t + 1], "ecc", "translation",
                                                 downscale=1, trace=True)
        assert info.ok and np.abs(m[:, 2] - exact).max() < 0.05
        m2 = sv.flow.estimate_camera_motion(seq.frames[t], seq.frames[t + 1], "ecc", "euclidean", downscale=2)
        assert np.abs(m2[:, 2] - exact).max() < 0.2
    flat = np.full((40, 60), 128, np.uint8)
    m, info = sv.flow.estimate_camera_motion(flat, flat, "ecc", "euclidean", trace=True)
    np.testing.assert_array_equal(m, np.eye(2, 3))
    assert not info.ok and "ECC" in info.reason
    cmc = sv.tracking.CameraMotion("ecc", "euclidean", downscale=1)
    cmc(seq.frames[0])
    assert np.abs(cmc(seq.frames[1])[:, 2] - seq.flow[0][0, 0]).max() < 0.05


def test_bad_input():
    a = np.zeros((20, 30), np.uint8)
    with pytest.raises(ValueError, match="single-channel"):
        find_transform_ecc(np.zeros((20, 30, 3), np.uint8), a)
    with pytest.raises(ValueError, match="same dtype"):
        find_transform_ecc(a, a.astype(np.float32))
    with pytest.raises(ValueError, match="motion_type"):
        find_transform_ecc(a, a, motion_type="similarity")
    with pytest.raises(ValueError, match="gauss_filt_size"):
        find_transform_ecc(a, a, gauss_filt_size=4)
    with pytest.raises(ValueError, match="criteria"):
        find_transform_ecc(a, a, criteria=(3, 10))
    with pytest.raises(ValueError, match="warp_matrix"):
        find_transform_ecc(a, a, np.eye(3), "affine")
    with pytest.raises(ValueError, match="input_mask"):
        find_transform_ecc(a, a, input_mask=np.ones((5, 5)))
    with pytest.raises(ECCError):
        find_transform_ecc(a, a)  # a constant image: no correlation to maximise
    with pytest.raises(ValueError, match="model"):
        sv.flow.estimate_camera_motion(a, a, "ecc", "similarity")
    with pytest.raises(ValueError, match="model"):
        sv.tracking.CameraMotion("ecc", "similarity")
