"""Farneback dense flow and its polynomial expansion, against OpenCV and the ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import FLOW_PAIRS, shared_path
from scratchvision import (OPTFLOW_FARNEBACK_GAUSSIAN, OPTFLOW_USE_INITIAL_FLOW, calc_optical_flow_farneback,
                           dense_pyramid, endpoint_error, poly_expansion, read_flo, remap, synthetic_sequence)
from scratchvision.flow import dense_pyramid_sizes
from scratchvision.data import texture

G = OPTFLOW_FARNEBACK_GAUSSIAN
#: (pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags): box and Gaussian windows,
#: poly_n 5 and 7, OpenCV's sample settings first.
CONFIGS = [(0.5, 3, 15, 3, 5, 1.2, 0), (0.5, 1, 13, 2, 7, 1.5, 0), (0.5, 3, 15, 3, 5, 1.1, G),
           (0.5, 3, 15, 3, 7, 1.5, G)]


def _assert_close(ours, ref, mean=0.01, p99=0.05):
    """The issue's bound: per-pixel |ours - cv2| (largest of the two components) has mean < 0.01
    px and 99th percentile < 0.05 px."""
    assert ours.shape == ref.shape and ours.dtype == np.float32
    d = np.abs(ours - ref).max(axis=2)
    assert d.mean() < mean and np.percentile(d, 99) < p99, (d.mean(), np.percentile(d, 99), d.max())


def _pair(cv2, name):
    prev = cv2.imread(str(shared_path("flow", name, "frame10.png")), cv2.IMREAD_GRAYSCALE)
    nxt = cv2.imread(str(shared_path("flow", name, "frame11.png")), cv2.IMREAD_GRAYSCALE)
    return prev, nxt, read_flo(shared_path("flow", name, "flow10.flo"))


@pytest.mark.parametrize("pair", FLOW_PAIRS)
def test_equals_cv2_on_real_pairs_and_ground_truth(cv2, pair):
    """Every configuration, every pair; EPE against ground truth within 1 % of cv2's."""
    prev, nxt, gt = _pair(cv2, pair)
    for cfg in CONFIGS:
        ours = calc_optical_flow_farneback(prev, nxt, None, *cfg)
        ref = cv2.calcOpticalFlowFarneback(prev, nxt, None, *cfg)
        _assert_close(ours, ref)
        e_ours, e_ref = endpoint_error(ours, gt), endpoint_error(ref, gt)
        assert abs(e_ours - e_ref) <= 0.01 * e_ref, (cfg, e_ours, e_ref)


@pytest.mark.parametrize("pair", ["RubberWhale", "Sintel_cave_2_clean"])
@pytest.mark.parametrize("flags", [0, G])
def test_initial_flow_equals_cv2(cv2, pair, flags):
    """OPTFLOW_USE_INITIAL_FLOW: the user's flow, shrunk with INTER_AREA, seeds the coarsest layer."""
    prev, nxt, gt = _pair(cv2, pair)
    init = np.where(np.abs(gt) < 1e9, gt, 0).astype(np.float32) * np.float32(0.8)
    for levels in (2, 0):
        args = (0.5, levels, 15, 2, 5, 1.2, flags | OPTFLOW_USE_INITIAL_FLOW)
        ours = calc_optical_flow_farneback(prev, nxt, init, *args)
        ref = cv2.calcOpticalFlowFarneback(prev, nxt, init.copy(), *args)
        _assert_close(ours, ref)
    # the initial flow matters: on one layer, starting from it differs from starting from zero
    assert np.abs(ours - calc_optical_flow_farneback(prev, nxt, None, 0.5, 0, 15, 2, 5, 1.2, flags)).max() > 0.1


motions = st.tuples(st.floats(-5, 5), st.floats(-5, 5), st.floats(-0.05, 0.05), st.floats(0.95, 1.05))


@given(seed=st.integers(0, 10_000), motion=motions, cfg=st.sampled_from(CONFIGS),
       size=st.sampled_from([(64, 96), (97, 131), (120, 90)]), as_float=st.booleans())
def test_equals_cv2_on_generated_textures(cv2, seed, motion, cfg, size, as_float):
    """Textures under translation, rotation and scaling; uint8 and float32 frames."""
    h, w = size
    img = (texture((h, w), seed) * 255).astype(np.uint8)
    dx, dy, angle, scale = motion
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ca, sa = np.cos(angle) / scale, np.sin(angle) / scale
    mx = ca * (xx - w / 2 - dx) + sa * (yy - h / 2 - dy) + w / 2
    my = -sa * (xx - w / 2 - dx) + ca * (yy - h / 2 - dy) + h / 2
    nxt = np.clip(np.rint(remap(img, mx, my, border_mode="replicate")), 0, 255).astype(np.uint8)
    if as_float:
        img, nxt = img.astype(np.float32), nxt.astype(np.float32)
    _assert_close(calc_optical_flow_farneback(img, nxt, None, *cfg), cv2.calcOpticalFlowFarneback(img, nxt, None, *cfg))


def test_equals_cv2_on_the_synthetic_sequence_and_follows_its_ground_truth(cv2):
    seq = synthetic_sequence(6, size=(120, 160), n_objects=4, seed=3)
    for t in range(5):
        for cfg in CONFIGS[::2]:
            ours = calc_optical_flow_farneback(seq.frames[t], seq.frames[t + 1], None, *cfg)
            ref = cv2.calcOpticalFlowFarneback(seq.frames[t], seq.frames[t + 1], None, *cfg)
            _assert_close(ours, ref)
        zero = np.zeros_like(seq.flow[t])
        assert endpoint_error(ours, seq.flow[t]) < 0.5 * endpoint_error(zero, seq.flow[t])


@pytest.mark.parametrize("shape", [(388, 584), (436, 1024), (40, 40), (31, 200), (8, 8), (3, 5)])
@pytest.mark.parametrize("levels", [0, 1, 5])
def test_layer_count_and_small_images_equal_cv2(cv2, shape, levels):
    """Layers under 32 px are dropped as in OpenCV (so small images get fewer levels), and
    images smaller than the 5-pixel tapered frame still work."""
    img = (texture(shape, 1) * 255).astype(np.uint8)
    nxt = np.roll(img, 1, axis=1)
    cfg = (0.5, levels, 5, 2, 5, 1.1, 0)
    _assert_close(calc_optical_flow_farneback(img, nxt, None, *cfg), cv2.calcOpticalFlowFarneback(img, nxt, None, *cfg))


def test_layer_sizes_follow_opencv_rounding():
    """cvRound is half-to-even: 388 * 0.125 = 48.5 -> 48 and 436 * 0.125 = 54.5 -> 54."""
    assert [s for _, s in dense_pyramid_sizes((388, 584), 0.5, 3)] == [(48, 73), (97, 146), (194, 292), (388, 584)]
    assert dense_pyramid_sizes((436, 1024), 0.5, 3)[0][1] == (54, 128)
    assert len(dense_pyramid_sizes((40, 40), 0.5, 5)) == 1  # 20 px would be under 32
    assert [s for _, s in dense_pyramid_sizes((100, 200), 0.8, 9, min_size=16)][:2] == [(17, 34), (21, 42)]


def test_dense_pyramid_layers_are_the_blurred_resized_frame(cv2):
    """Each layer is cv2.GaussianBlur of the full frame with sigma (1/scale - 1)/2, then
    cv2.resize, as Farneback builds them."""
    img = (texture((97, 131), 3) * 255).astype(np.uint8)
    layers = dense_pyramid(img, 0.5, 2)
    for scale, layer in layers:
        sigma = (1 / scale - 1) / 2
        k = max(int(np.rint(sigma * 5)) | 1, 3)
        ref = cv2.resize(cv2.GaussianBlur(img.astype(np.float32), (k, k), sigma, sigma), layer.shape[::-1])
        np.testing.assert_allclose(layer, ref, rtol=0, atol=1e-3)


def test_poly_expansion_recovers_a_quadratic_and_equals_least_squares():
    """Exact on a quadratic surface away from the border; equal to a weighted least-squares fit
    solved independently with numpy (float64) at random pixels of a texture."""
    h, w = 40, 50
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    x0, y0 = 20.0, 25.0
    c = np.array([3.0, 0.5, -0.25, 0.02, -0.03, 0.015])

    def surface(x, y):
        return c[0] + c[1] * x + c[2] * y + c[3] * x * x + c[4] * y * y + c[5] * x * y

    img = surface(xx, yy).astype(np.float32)
    r = poly_expansion(img, 5, 1.2)
    assert r.shape == (h, w, 6) and r.dtype == np.float32
    # coefficients at pixel (row 25, col 20) in local coordinates (x - 20, y - 25)
    local = [surface(x0, y0), c[1] + 2 * c[3] * x0 + c[5] * y0, c[2] + 2 * c[4] * y0 + c[5] * x0, c[3], c[4], c[5]]
    np.testing.assert_allclose(r[25, 20], local, rtol=1e-4, atol=1e-4)

    tex = texture((h, w), 4) * 255
    for n, sigma in ((5, 1.1), (7, 1.5)):
        r = poly_expansion(tex, n, sigma)
        t = np.arange(-n, n + 1)
        wts = np.exp(-t**2 / (2 * sigma**2))
        wts = np.outer(wts, wts).ravel()
        ty, tx = np.meshgrid(t, t, indexing="ij")
        basis = np.stack([np.ones(tx.size), tx.ravel(), ty.ravel(), tx.ravel()**2, ty.ravel()**2,
                          (tx * ty).ravel()], 1)
        for y, x in [(n, n), (20, 25), (h - n - 1, w - n - 1)]:
            patch = tex[y - n:y + n + 1, x - n:x + n + 1].ravel()
            coef = np.linalg.lstsq(basis * np.sqrt(wts)[:, None], patch * np.sqrt(wts), rcond=None)[0]
            np.testing.assert_allclose(r[y, x], coef, rtol=1e-4, atol=1e-3)


def test_trace_exposes_layers_and_iterations():
    seq = synthetic_sequence(2, size=(128, 160), n_objects=2, seed=5)
    flow, tr = calc_optical_flow_farneback(seq.frames[0], seq.frames[1], None, 0.5, 2, 9, 4, 5, 1.1, 0, trace=True)
    assert len(tr.scales) == len(tr.images) == len(tr.poly) == len(tr.flows) == 3
    assert tr.scales == [0.25, 0.5, 1.0]
    assert [f[0].shape[:2] for f in tr.flows] == [(32, 40), (64, 80), (128, 160)]
    assert all(len(f) == 4 for f in tr.flows)
    np.testing.assert_array_equal(tr.flows[-1][-1], flow)
    np.testing.assert_array_equal(tr.poly[-1][0], poly_expansion(tr.images[-1][0], 5, 1.1))
    np.testing.assert_array_equal(tr.initial_flows[0], 0)
    # iterations refine: the last iteration of the finest layer is closer to the truth than its start
    gt = seq.flow[0]
    assert endpoint_error(tr.flows[-1][-1], gt) < endpoint_error(tr.initial_flows[-1], gt)


def test_zero_iterations_and_identical_frames(cv2):
    """Zero iterations return the initial (zero) flow. Identical frames give zero flow except
    where the last row and column of a layer reach: there OpenCV drops the second frame's linear
    terms (its bilinear read would leave the image), and so does this implementation."""
    img = (texture((64, 64), 2) * 255).astype(np.uint8)
    np.testing.assert_array_equal(calc_optical_flow_farneback(img, img, None, 0.5, 2, 9, 0, 5, 1.1, 0), 0)
    ours = calc_optical_flow_farneback(img, img, None, 0.5, 2, 9, 3, 5, 1.1, 0)
    _assert_close(ours, cv2.calcOpticalFlowFarneback(img, img, None, 0.5, 2, 9, 3, 5, 1.1, 0))
    assert np.median(np.abs(ours)) < 1e-6


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    (dict(next=np.zeros((40, 41), np.uint8)), ValueError, "one shape"),
    (dict(prev=np.zeros((40, 40, 3), np.uint8)), ValueError, "prev"),
    (dict(next=np.zeros((40, 40), np.int16)), ValueError, "next"),  # a DTypeError: TypeError and ValueError
    (dict(prev=np.full((40, 40), np.nan, np.float32)), ValueError, "prev"),
    (dict(next=np.full((40, 40), np.inf)), ValueError, "next"),
    (dict(pyr_scale=1.0), ValueError, "pyr_scale"),
    (dict(pyr_scale=0.0), ValueError, "pyr_scale"),
    (dict(winsize=0), ValueError, "winsize"),
    (dict(poly_n=6), ValueError, "poly_n"),
    (dict(levels=-1), ValueError, "levels"),
    (dict(iterations=-1), ValueError, "iterations"),
    (dict(poly_sigma=-1.0), ValueError, "poly_sigma"),
    (dict(flags=1), ValueError, "flags"),
    (dict(flags=OPTFLOW_USE_INITIAL_FLOW), ValueError, "flow"),
    (dict(flags=OPTFLOW_USE_INITIAL_FLOW, flow=np.zeros((40, 40, 3), np.float32)), ValueError, "flow"),
    (dict(flags=OPTFLOW_USE_INITIAL_FLOW, flow=np.zeros((20, 40, 2), np.float32)), ValueError, "flow"),
    (dict(flags=OPTFLOW_USE_INITIAL_FLOW, flow=np.zeros((40, 40, 2), np.int32)), ValueError, "flow"),
    (dict(flow=np.zeros((40, 40, 2), np.int32)), ValueError, "flow"),
])
def test_rejects_bad_input(kwargs, exc, fragment):
    args = dict(prev=np.zeros((40, 40), np.uint8), next=np.zeros((40, 40), np.uint8), flow=None) | kwargs
    with pytest.raises(exc, match=fragment):
        calc_optical_flow_farneback(**args)
