"""Kalman filters against filterpy (single filter) and deep-sort-realtime (DeepSORT's xyah model)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import require
from scratchvision.kalman import (CHI2INV95, KalmanFilter, batch_mahalanobis_sq, batch_predict,
                                  batch_project, batch_update, xyah_initiate, xyah_measurement_noise,
                                  xyah_model, xyah_process_noise, xysr_initiate, xysr_model)


def _random_model(rng, dim_x, dim_z, dim_u):
    F = np.eye(dim_x) + 0.1 * rng.normal(size=(dim_x, dim_x))
    F *= 0.98 / max(1.0, np.abs(np.linalg.eigvals(F)).max())  # stable: states stay O(1)
    H = rng.normal(size=(dim_z, dim_x))
    A = rng.normal(size=(dim_x, dim_x))
    Q = 0.1 * A @ A.T + 0.01 * np.eye(dim_x)
    C = rng.normal(size=(dim_z, dim_z))
    R = C @ C.T + 0.5 * np.eye(dim_z)
    B = rng.normal(size=(dim_x, dim_u)) if dim_u else None
    return F, H, Q, R, B


class TextbookShortForm:
    """Oracle for ``P = P - K S K'`` (filterpy always uses the Joseph form): the textbook
    equations in plain NumPy."""

    def __init__(self, dim_x, dim_z, dim_u):
        self.x, self.P = np.zeros(dim_x), np.eye(dim_x)
        self.B = None

    def predict(self, u=None):
        self.x = self.F @ self.x + (self.B @ u.ravel() if u is not None and self.B is not None else 0)
        self.P = self.F @ self.P @ self.F.T + self.Q

    def update(self, z, R=None):
        if z is None:
            return
        R = self.R if R is None else R
        y = z.ravel() - self.H @ self.x
        S = self.H @ self.P @ self.H.T + R
        K = self.P @ self.H.T @ np.linalg.inv(S)
        self.x = self.x + K @ y
        self.P = self.P - K @ S @ K.T


@given(seed=st.integers(0, 2**32 - 1), dim_x=st.integers(1, 6), dim_z=st.integers(1, 4),
       dim_u=st.integers(0, 2), joseph=st.booleans())
def test_equals_filterpy_over_long_runs(seed, dim_x, dim_z, dim_u, joseph):
    """200 steps with skipped updates, control input, per-step R; within 1e-9 of filterpy
    (Joseph form) or of the textbook short form."""
    filterpy = require("filterpy.kalman")
    rng = np.random.default_rng(seed)
    F, H, Q, R, B = _random_model(rng, dim_x, dim_z, dim_u)
    ours = KalmanFilter(dim_x, dim_z, dim_u)
    ref = filterpy.KalmanFilter(dim_x, dim_z, dim_u) if joseph else TextbookShortForm(dim_x, dim_z, dim_u)
    for kf in (ours, ref):
        kf.F, kf.H, kf.Q, kf.R = F.copy(), H.copy(), Q.copy(), R.copy()
        if dim_u:
            kf.B = B.copy()
    x0 = rng.normal(size=dim_x)
    assert ours.x.shape == (dim_x, 1) and (not joseph or ref.x.shape == (dim_x, 1))  # filterpy's column
    ours.x = x0.reshape(-1, 1)
    ref.x = x0.reshape(-1, 1).copy() if joseph else x0.copy()
    ours.joseph = joseph
    for t in range(200):
        u = rng.normal(size=dim_u) if dim_u else None
        ours.predict(u=u)
        ref.predict(u=None if u is None else u.reshape(-1, 1))
        if t % 5 == 2:
            ours.update(None)
            ref.update(None)
        else:
            z = H @ ours.x[:, 0] + rng.normal(size=dim_z)
            r_step = R * 2.0 if t % 7 == 0 else None
            ours.update(z, R=r_step)
            ref.update(z.reshape(-1, 1), R=r_step)
        np.testing.assert_allclose(ours.x, ref.x.reshape(-1, 1), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(ours.P, ref.P, rtol=1e-9, atol=1e-9)
        if joseph:
            np.testing.assert_allclose(ours.x_prior, ref.x_prior, rtol=1e-9, atol=1e-9)
            assert ours.y.shape == ref.y.shape and ours.z.shape == np.shape(ref.z)
            np.testing.assert_allclose(ours.P_post, ref.P_post, rtol=1e-9, atol=1e-9)
            if t % 5 != 2:
                np.testing.assert_allclose(ours.K, ref.K, rtol=1e-9, atol=1e-9)
                np.testing.assert_allclose(ours.S, ref.S, rtol=1e-9, atol=1e-9)
                np.testing.assert_allclose(ours.SI, ref.SI, rtol=1e-7, atol=1e-9)
                assert ours.log_likelihood == pytest.approx(ref.log_likelihood, rel=1e-9, abs=1e-9)
                assert ours.mahalanobis == pytest.approx(ref.mahalanobis, rel=1e-7, abs=1e-9)
                assert ours.likelihood == pytest.approx(ref.likelihood, rel=1e-7)


@given(seed=st.integers(0, 2**32 - 1), joseph=st.booleans())
def test_covariance_stays_symmetric_psd_and_predict_grows_it(seed, joseph):
    rng = np.random.default_rng(seed)
    F, H, Q, R, _ = _random_model(rng, 4, 2, 0)
    kf = KalmanFilter(4, 2)
    kf.F, kf.H, kf.Q, kf.R = F, H, Q, R
    kf.joseph = joseph
    for t in range(100):
        before = kf.P.copy()
        kf.predict()
        # P grows: F P F' + Q - P is PSD when F is the identity; in general F P F' + Q >= Q.
        assert np.linalg.eigvalsh(kf.P - Q).min() > -1e-9 * np.abs(kf.P).max()
        if t % 3:
            kf.update(H @ kf.x[:, 0] + rng.normal(size=2))
            assert np.linalg.eigvalsh(before).min() > -1e-9
        np.testing.assert_allclose(kf.P, kf.P.T, rtol=1e-9, atol=1e-9 * np.abs(kf.P).max())
        assert np.linalg.eigvalsh(kf.P).min() > -1e-9 * np.abs(kf.P).max()
    still = KalmanFilter(3, 1)
    still.H = [[1.0, 0, 0]]
    trace = np.trace(still.P)
    for _ in range(5):
        still.predict()
        assert np.trace(still.P) > trace
        trace = np.trace(still.P)


def test_sort_configuration_equals_filterpy_configured_like_sort():
    """SORT's published settings, built the way sort.py builds them (scaling filterpy's
    identities), equal our xysr_model; and one SORT track runs identically."""
    filterpy = require("filterpy.kalman")
    ref = filterpy.KalmanFilter(dim_x=7, dim_z=4)
    ref.F = np.array([[1, 0, 0, 0, 1, 0, 0], [0, 1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 0, 0, 1],
                      [0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 1, 0],
                      [0, 0, 0, 0, 0, 0, 1]], float)
    ref.H = np.array([[1, 0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0, 0],
                      [0, 0, 0, 1, 0, 0, 0]], float)
    ref.R[2:, 2:] *= 10.0
    ref.P[4:, 4:] *= 1000.0
    ref.P *= 10.0
    ref.Q[-1, -1] *= 0.01
    ref.Q[4:, 4:] *= 0.01
    m = xysr_model()
    for name in ("F", "H", "R", "Q"):
        np.testing.assert_array_equal(getattr(m, name), getattr(ref, name), err_msg=name)
    np.testing.assert_array_equal(m.P0, ref.P)
    X, P = xysr_initiate([[50.0, 60.0, 400.0, 0.5]])
    ref.x[:4] = np.array([[50.0], [60.0], [400.0], [0.5]])
    rng = np.random.default_rng(0)
    for t in range(50):
        batch_predict(X, P, m.F, m.Q)
        ref.predict()
        z = np.array([[50 + 2 * t, 60 + t, 400 + 3 * t, 0.5]]) + rng.normal(0, 0.5, (1, 4))
        if t % 4 != 1:
            batch_update(X, P, z, m.H, m.R, joseph=True, F=m.F)  # the per-axis path
            ref.update(z.reshape(-1, 1))
        np.testing.assert_allclose(X[0], ref.x.ravel(), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(P[0], ref.P, rtol=1e-10, atol=1e-10)


def test_xyah_model_equals_deepsort_kalman_filter():
    """DeepSORT's KalmanFilter (deep-sort-realtime, the same filter ByteTrack copied)."""
    dsr = require("deep_sort_realtime.deep_sort.kalman_filter")
    ref = dsr.KalmanFilter()
    rng = np.random.default_rng(1)
    z0 = np.array([[300.0, 200.0, 0.45, 120.0], [50.0, 80.0, 0.6, 40.0]])
    X, P = xyah_initiate(z0)
    means, covs = zip(*(ref.initiate(z) for z in z0))
    means, covs = list(means), list(covs)
    model = xyah_model()
    for t in range(60):
        Q = xyah_process_noise(X)
        batch_predict(X, P, model.F, Q)
        for k in range(2):
            means[k], covs[k] = ref.predict(means[k], covs[k])
        Z = z0 + t * np.array([2.0, -1.0, 0.0, 0.3]) + rng.normal(0, 1, (2, 4)) * [1, 1, 0.01, 1]
        if t % 6 == 5:
            Z[1] = np.nan  # track 1 unmatched this frame
        dists = batch_mahalanobis_sq(X, P, model.H, xyah_measurement_noise(X), np.nan_to_num(Z))
        for k in range(2):
            ref_d = ref.gating_distance(means[k], covs[k], np.nan_to_num(Z))
            np.testing.assert_allclose(dists[k], ref_d, rtol=1e-9)
        Zp, S = batch_project(X, P, model.H, xyah_measurement_noise(X))
        for k in range(2):
            ref_mean, ref_cov = ref.project(means[k], covs[k])
            np.testing.assert_allclose(Zp[k], ref_mean, rtol=1e-12)
            np.testing.assert_allclose(S[k], ref_cov, rtol=1e-12)
        batch_update(X, P, Z, model.H, xyah_measurement_noise(X), joseph=False, F=model.F)
        for k in range(2):
            if not np.isnan(Z[k]).any():
                means[k], covs[k] = ref.update(means[k], covs[k], Z[k])
            np.testing.assert_allclose(X[k], means[k], rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(P[k], covs[k], rtol=1e-9, atol=1e-9)
    assert CHI2INV95[4] == pytest.approx(9.4877)
    assert dsr.chi2inv95 == CHI2INV95


@pytest.mark.parametrize("model, joseph", [("xysr", True), ("xyah", False), ("xyah", True)])
def test_per_axis_path_equals_dense_path(model, joseph):
    """With F given, box-model tracks take the per-axis kernels; without it, the dense ones."""
    rng = np.random.default_rng(3)
    if model == "xysr":
        m = xysr_model()
        X, P = xysr_initiate(rng.uniform(10, 500, (20, 4)))
        Q, R = m.Q, m.R
    else:
        m = xyah_model()
        X, P = xyah_initiate(rng.uniform(10, 500, (20, 4)))
    X2, P2 = X.copy(), P.copy()
    P2[5, 0, 1] = P2[5, 1, 0] = 1e-3  # one track coupled across axes: dense path for it
    P[5] = P2[5]
    for t in range(30):
        if model == "xyah":
            Q, R = xyah_process_noise(X), None
        batch_predict(X, P, m.F, Q)
        batch_predict(X2, P2, m.F, Q)
        if model == "xyah":
            R = xyah_measurement_noise(X)
        Z = X[:, :4] + rng.normal(0, 2, (20, 4)) * [1, 1, 0.01 if model == "xyah" else 1, 1]
        Z[t % 20] = np.nan
        batch_update(X, P, Z, m.H, R, joseph=joseph, F=m.F)
        batch_update(X2, P2, Z, m.H, R, joseph=joseph)
        np.testing.assert_allclose(X, X2, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(P, P2, rtol=1e-12, atol=1e-9)


def test_batch_equals_single_filter():
    rng = np.random.default_rng(2)
    F, H, Q, R, _ = _random_model(rng, 5, 3, 0)
    singles = [KalmanFilter(5, 3) for _ in range(4)]
    X = rng.normal(size=(4, 5))
    P = np.repeat(np.eye(5)[None], 4, axis=0)
    for k, kf in enumerate(singles):
        kf.F, kf.H, kf.Q, kf.R, kf.x = F, H, Q, R, X[k]
    for _ in range(20):
        batch_predict(X, P, F, Q)
        Z = rng.normal(size=(4, 3))
        batch_update(X, P, Z, H, R, joseph=True)
        for k, kf in enumerate(singles):
            kf.predict()
            kf.update(Z[k])
            np.testing.assert_allclose(X[k], kf.x, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(P[k], kf.P, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, value, match", [
    ("P", np.eye(3), r"P must have shape \(2, 2\), got \(3, 3\)"),
    ("F", np.eye(3), r"F must have shape \(2, 2\), got \(3, 3\)"),
    ("H", np.zeros((2, 2)), r"H must have shape \(1, 2\), got \(2, 2\)"),
    ("R", np.eye(2), r"R must have shape \(1, 1\), got \(2, 2\)"),
    ("Q", [[np.nan, 0], [0, 1]], "Q must be finite"),
    ("x", np.zeros(3), r"x must have shape \(2,\) or \(2, 1\), got \(3,\)"),
    ("H", 2.0, r"a scalar H needs dim_z == dim_x"),
])
def test_wrong_matrices_name_both_shapes(name, value, match):
    kf = KalmanFilter(2, 1)
    with pytest.raises(ValueError, match=match):
        setattr(kf, name, value)


def _filterpy_tutorial(module, x0):
    """filterpy's tutorial filter written as its users write it: scalar R and Q, P scaled in
    place, the state given as ``x0`` (a column or a 1-D vector)."""
    f = module.KalmanFilter(dim_x=2, dim_z=1)
    f.x = x0.copy()
    f.F = np.array([[1.0, 1.0], [0.0, 1.0]])
    f.H = np.array([[1.0, 0.0]])
    f.P *= 1000.0
    f.R = 5
    f.Q = 0.0001
    return f


@pytest.mark.parametrize("x0", [np.array([[2.0], [0.0]]), np.array([2.0, 0.0])], ids=["column", "vector"])
def test_filterpy_code_runs_unchanged(x0):
    """The idioms of filterpy's own tests and tutorial with only the import changed: scalar R and
    Q, the state indexed as a column (``f.x[0, 0]``) or a vector, ``y``/``z`` in the state's
    shape, batch_filter with update_first and rts_smoother; every number equal to filterpy's."""
    filterpy = require("filterpy.kalman")
    ours, ref = _filterpy_tutorial(sys.modules[__name__], x0), _filterpy_tutorial(filterpy, x0)
    zs = [t + np.random.default_rng(t).normal() * 20 for t in range(40)]
    for z in zs:
        for f in (ours, ref):
            f.update(z)
            f.predict()
        assert ours.x.shape == ref.x.shape and ours.y.shape == ref.y.shape
        np.testing.assert_allclose(ours.x, ref.x, rtol=1e-12)
        np.testing.assert_allclose(ours.P, ref.P, rtol=1e-12)
        assert ours.mahalanobis == pytest.approx(ref.mahalanobis, rel=1e-9)
    if x0.ndim == 2:
        assert ours.x[0, 0] == pytest.approx(ref.x[0, 0], rel=1e-12) and ours.x.T[0].shape == ref.x.T[0].shape
    for f in (ours, ref):
        f.x, f.P = x0.copy(), np.eye(2) * 100.0
    for update_first in (False, True):
        got, want = ours.batch_filter(zs, update_first=update_first), ref.batch_filter(zs, update_first=update_first)
        for a, b in zip(got, want):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    means, covariances = want[:2]
    for a, b in zip(ours.rts_smoother(means, covariances), ref.rts_smoother(means, covariances)):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_scalar_attributes_mean_what_they_mean_in_filterpy():
    """A scalar P is that multiple of the identity (it only enters products); a scalar Q or R is
    added to every entry (they only enter sums), as filterpy's formulas make of them."""
    filterpy = require("filterpy.kalman")
    ours, ref = KalmanFilter(3, 3), filterpy.KalmanFilter(3, 3)
    rng = np.random.default_rng(4)
    H = np.eye(3) + 0.1 * rng.random((3, 3))
    for f in (ours, ref):
        f.P, f.F, f.Q, f.H = 4.0, 1.5 * np.eye(3), 0.02, H
        f.predict()
    np.testing.assert_allclose(ours.P, ref.P, rtol=1e-12)
    assert ours.Q.shape == (3, 3) and (ours.Q == 0.02).all()


def test_bad_updates_and_arguments():
    kf = KalmanFilter(2, 1)
    kf.H = [[1.0, 0.0]]
    with pytest.raises(ValueError, match="z must have 1 values"):
        kf.update([1.0, 2.0])
    with pytest.raises(ValueError, match="z must be finite"):
        kf.update([np.nan])
    with pytest.raises(TypeError, match="z must be a numeric array"):
        kf.update(["a"])
    kf.P = np.zeros((2, 2))
    with pytest.raises(ValueError, match="not positive definite"):
        kf.update([1.0], R=0.0)
    with pytest.raises(ValueError, match="dim_x must be >= 1"):
        KalmanFilter(0, 1)
    X, P = np.zeros((2, 3)), np.zeros((2, 3, 3))
    with pytest.raises(ValueError, match=r"F must have shape \(3, 3\), got \(2, 2\)"):
        batch_predict(X, P, np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match=r"P must have shape \(2, 3, 3\)"):
        batch_predict(X, np.zeros((2, 2, 2)), np.eye(3), np.eye(3))
    with pytest.raises(TypeError, match="X must be a C-contiguous float64"):
        batch_predict([[0.0]], P, np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match=r"Q must have shape \(3, 3\) or \(2, 3, 3\)"):
        batch_predict(X, P, np.eye(3), np.eye(2))
    with pytest.raises(ValueError, match="tracks \\[0, 1\\]: H P H' \\+ R is not positive definite"):
        batch_update(X, P, np.zeros((2, 1)), [[1.0, 0, 0]], np.zeros((1, 1)))


def test_empty_batches():
    X, P = np.zeros((0, 8)), np.zeros((0, 8, 8))
    m = xyah_model()
    batch_predict(X, P, m.F, xyah_process_noise(X))
    batch_update(X, P, np.zeros((0, 4)), m.H, xyah_measurement_noise(X))
    assert batch_mahalanobis_sq(X, P, m.H, np.eye(4), np.zeros((3, 4))).shape == (0, 3)
    X2, P2 = xyah_initiate(np.zeros((0, 4)))
    assert X2.shape == (0, 8) and P2.shape == (0, 8, 8)
