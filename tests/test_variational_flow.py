"""Horn-Schunck and TV-L1: against SciPy / OpenCV references and the ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import scratchvision as sv
from conftest import shared_path
from scratchvision import (calc_optical_flow_farneback, calc_optical_flow_horn_schunck, calc_optical_flow_tvl1,
                           endpoint_error, median_blur, read_flo, remap, synthetic_sequence)
from scratchvision.data import texture


def _shifted(h, w, dx, dy, seed=0):
    img = (texture((h, w), seed) * 255).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return img, remap(img, xx - dx, yy - dy, border_mode="replicate")


def _pair(cv2, name):
    prev = cv2.imread(str(shared_path("flow", name, "frame10.png")), cv2.IMREAD_GRAYSCALE)
    nxt = cv2.imread(str(shared_path("flow", name, "frame11.png")), cv2.IMREAD_GRAYSCALE)
    return prev, nxt, read_flo(shared_path("flow", name, "flow10.flo"))


def test_horn_schunck_converges_to_the_solution_of_its_linear_system():
    """Many Jacobi sweeps on one layer, one warp: the flow solves Horn and Schunck's equations
    alpha^2 (u - u_avg) + I_x (I_x u + I_y v + I_t) = 0 (and the same for v), assembled here with
    SciPy's sparse matrices from the layer images the trace exposes, and solved directly."""
    sparse = pytest.importorskip("scipy.sparse")
    from scipy.sparse.linalg import spsolve
    h, w = 14, 17
    i0, i1 = _shifted(h, w, 0.6, -0.4, seed=4)
    alpha = 20.0
    flow, tr = calc_optical_flow_horn_schunck(i0, i1, alpha=alpha, iterations=4000, warps=1, levels=0, trace=True)
    a, b = (x.astype(np.float64) for x in tr.images[0])

    def grad(f):  # central differences, edge pixels replicated
        p = np.pad(f, 1, mode="edge")
        return (p[1:-1, 2:] - p[1:-1, :-2]) / 2, (p[2:, 1:-1] - p[:-2, 1:-1]) / 2

    ax, ay = grad(a)
    bx, by = grad(b)
    ix, iy, it = ((ax + bx) / 2).ravel(), ((ay + by) / 2).ravel(), (b - a).ravel()
    n = h * w
    idx = np.arange(n).reshape(h, w)
    rows, cols, vals = [], [], []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy == dx == 0:
                continue
            wgt = 1 / 6 if dy == 0 or dx == 0 else 1 / 12
            nb = idx[np.clip(np.arange(h) + dy, 0, h - 1)][:, np.clip(np.arange(w) + dx, 0, w - 1)]
            rows.append(idx.ravel())
            cols.append(nb.ravel())
            vals.append(np.full(n, wgt))
    avg = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    eye = sparse.identity(n)
    a2 = alpha**2
    system = sparse.bmat([[a2 * (eye - avg) + sparse.diags(ix * ix), sparse.diags(ix * iy)],
                          [sparse.diags(ix * iy), a2 * (eye - avg) + sparse.diags(iy * iy)]]).tocsc()
    uv = spsolve(system, -np.concatenate([ix * it, iy * it]))
    np.testing.assert_allclose(flow[..., 0].ravel(), uv[:n], atol=2e-3)
    np.testing.assert_allclose(flow[..., 1].ravel(), uv[n:], atol=2e-3)


@pytest.mark.parametrize("method", [calc_optical_flow_horn_schunck, calc_optical_flow_tvl1])
@given(dx=st.floats(-4, 4), dy=st.floats(-4, 4), seed=st.integers(0, 1000))
def test_recovers_a_translation(method, dx, dy, seed):
    """Mean error in the interior under 0.1 px (TV-L1) / 0.15 px (Horn-Schunck, whose quadratic
    smoothness spreads the border's errors further in: 0.107 px at (-4, 1.5), seed 41)."""
    i0, i1 = _shifted(64, 80, dx, dy, seed)
    flow = method(i0, i1)
    inner = flow[12:-12, 12:-12]
    bound = 0.1 if method is calc_optical_flow_tvl1 else 0.15
    assert np.abs(inner[..., 0] - dx).mean() < bound and np.abs(inner[..., 1] - dy).mean() < bound


@pytest.mark.parametrize("pair", ["RubberWhale", "Hydrangea", "Sintel_alley_1_clean", "Sintel_cave_2_clean"])
def test_horn_schunck_on_real_pairs_beside_farneback(cv2, pair):
    """Horn-Schunck's EPE stays within 1.25x of cv2's Farneback (it is lower on all four:
    0.26, 0.33, 0.44, 2.12 px against 0.36, 0.59, 0.93, 3.91) and far below no motion."""
    prev, nxt, gt = _pair(cv2, pair)
    ours = endpoint_error(calc_optical_flow_horn_schunck(prev, nxt), gt)
    fb = endpoint_error(cv2.calcOpticalFlowFarneback(prev, nxt, None, 0.5, 3, 15, 3, 5, 1.2, 0), gt)
    assert ours < 1.25 * fb
    assert ours < 0.5 * endpoint_error(np.zeros_like(gt), gt)


def test_tvl1_beside_opencv_dual_tvl1(cv2):
    """EPE within 1.5x of cv2.optflow.DualTVL1OpticalFlow (same parameters) on RubberWhale and
    on the synthetic scene; better than Farneback on RubberWhale."""
    prev, nxt, gt = _pair(cv2, "RubberWhale")
    ref = cv2.optflow.DualTVL1OpticalFlow_create().calc(prev, nxt, None)
    ours = calc_optical_flow_tvl1(prev, nxt)
    e_ours, e_ref = endpoint_error(ours, gt), endpoint_error(ref, gt)
    assert e_ours < 1.5 * e_ref, (e_ours, e_ref)
    assert e_ours < endpoint_error(calc_optical_flow_farneback(prev, nxt, None, 0.5, 3, 15, 3, 5, 1.2, 0), gt)
    seq = synthetic_sequence(2, size=(120, 160), n_objects=3, seed=1)
    ref = cv2.optflow.DualTVL1OpticalFlow_create().calc(seq.frames[0], seq.frames[1], None)
    ours = calc_optical_flow_tvl1(seq.frames[0], seq.frames[1])
    assert endpoint_error(ours, seq.flow[0]) < 1.5 * endpoint_error(ref, seq.flow[0])


def test_trace_and_initial_flow():
    i0, i1 = _shifted(64, 80, 2.5, -1.0)
    for method in (calc_optical_flow_horn_schunck, calc_optical_flow_tvl1):
        flow, tr = method(i0, i1, trace=True)
        assert len(tr.scales) == len(tr.flows) == len(tr.residuals) == len(tr.iterations) >= 2
        np.testing.assert_array_equal(tr.flows[-1], flow)
        assert tr.residuals[-1][-1] < tr.residuals[0][0]  # warping explains the motion
        # starting from the answer, one layer suffices
        start = np.broadcast_to(np.array([2.5, -1.0], np.float32), flow.shape).copy()
        kw = dict(levels=0) if method is calc_optical_flow_horn_schunck else dict(n_scales=1)
        again = method(i0, i1, start, use_initial_flow=True, **kw)
        assert np.abs(again[12:-12, 12:-12] - start[12:-12, 12:-12]).mean() < 0.1


@given(h=st.integers(1, 30), w=st.integers(1, 30), k=st.sampled_from([3, 5]), seed=st.integers(0, 2**32 - 1))
def test_median_blur_equals_cv2(cv2, h, w, k, seed):
    img = (np.random.default_rng(seed).random((h, w)) * 255).astype(np.float32)
    np.testing.assert_array_equal(median_blur(img, k), cv2.medianBlur(img, k))


@pytest.mark.parametrize(("call", "exc", "fragment"), [
    (lambda f: f(np.zeros((20, 20)), np.zeros((20, 21))), ValueError, "one shape"),
    (lambda f: f(np.zeros((20, 20, 3), np.uint8), np.zeros((20, 20, 3), np.uint8)), ValueError, "prev"),
    (lambda f: f(np.zeros((20, 20), np.int16), np.zeros((20, 20), np.int16)), TypeError, "prev"),
    (lambda f: f(np.zeros((20, 20)), np.full((20, 20), np.nan)), ValueError, "next"),
    (lambda f: f(np.zeros((20, 20)), np.zeros((20, 20)), use_initial_flow=True), ValueError, "flow"),
    (lambda f: f(np.zeros((20, 20)), np.zeros((20, 20)), np.zeros((20, 20, 3)), use_initial_flow=True),
     ValueError, "flow"),
    (lambda f: f(np.zeros((20, 20)), np.zeros((20, 20)), scale_step=1.0), ValueError, "scale_step"),
    (lambda f: f(np.zeros((20, 20)), np.zeros((20, 20)), warps=0), ValueError, "warps"),
])
@pytest.mark.parametrize("method", [calc_optical_flow_horn_schunck, calc_optical_flow_tvl1])
def test_rejects_bad_input(method, call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call(method)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    (dict(alpha=0.0), "alpha"), (dict(iterations=-1), "iterations"), (dict(levels=-1), "levels")])
def test_horn_schunck_rejects_bad_parameters(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        calc_optical_flow_horn_schunck(np.zeros((20, 20)), np.zeros((20, 20)), **kwargs)


@pytest.mark.parametrize(("kwargs", "fragment"), [
    (dict(tau=0.3), "tau"), (dict(lambda_=0.0), "lambda_"), (dict(theta=-1.0), "theta"),
    (dict(n_scales=0), "n_scales"), (dict(epsilon=0.0), "epsilon"), (dict(inner_iterations=0), "inner"),
    (dict(median_filtering=4), "median_filtering")])
def test_tvl1_rejects_bad_parameters(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        calc_optical_flow_tvl1(np.zeros((20, 20)), np.zeros((20, 20)), **kwargs)


@pytest.mark.parametrize("method", ["farneback", "horn_schunck", "tvl1"])
def test_float16_frames_are_computed_in_float32(method):
    """As scikit-image's optical flow does: float16 frames give the flow of their float32 values."""
    seq = sv.synthetic_sequence(2, size=(48, 64), n_objects=1, seed=3)
    f0, f1 = (f.astype(np.float16) for f in seq.frames)
    run = {"farneback": lambda a, b: sv.calc_optical_flow_farneback(a, b, None, 0.5, 2, 9, 2, 5, 1.1, 0),
           "horn_schunck": lambda a, b: sv.calc_optical_flow_horn_schunck(a, b, iterations=20, warps=1),
           "tvl1": lambda a, b: sv.calc_optical_flow_tvl1(a, b, warps=1, outer_iterations=2)}[method]
    np.testing.assert_array_equal(run(f0, f1), run(f0.astype(np.float32), f1.astype(np.float32)))
