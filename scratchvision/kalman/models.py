"""The box motion models multi-object trackers use, with their published noise settings.

Both are constant-velocity models with ``dt = 1`` frame over a box description:

* **SORT** (Bewley et al. 2016): state ``[x, y, s, r, vx, vy, vs]``, centre, area ``s = w h``
  and aspect ``r = w / h`` (which has no velocity); fixed noise.
* **DeepSORT / ByteTrack** (Wojke et al. 2017; Zhang et al. 2022): state
  ``[x, y, a, h, vx, vy, va, vh]``, centre, aspect ``a = w / h`` and height; noise standard
  deviations proportional to the box height (1/20 of it for positions, 1/160 for velocities), so
  the filter is scale-aware.
* **BoT-SORT** (Aharon et al. 2022): state ``[x, y, w, h, vx, vy, vw, vh]``, centre, width and
  height, with the same weights applied to the width for x and w and to the height for y and h
  (the kernels ``xywh_*``).

References
----------
A. Bewley, Z. Ge, L. Ott, F. Ramos, B. Upcroft. "Simple Online and Realtime Tracking." ICIP
2016. doi:10.1109/ICIP.2016.7533003
N. Wojke, A. Bewley, D. Paulus. "Simple Online and Realtime Tracking with a Deep Association
Metric." ICIP 2017. doi:10.1109/ICIP.2017.8296962
Y. Zhang et al. "ByteTrack: Multi-Object Tracking by Associating Every Detection Box." ECCV
2022. doi:10.1007/978-3-031-20047-2_1
N. Aharon, R. Orfaig, B.-Z. Bobrovsky. "BoT-SORT: Robust Associations Multi-Pedestrian
Tracking." arXiv:2206.14651, 2022. doi:10.48550/arXiv.2206.14651
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .._jit import kernel
from .._validate import as_array, check_finite

__all__ = ["CHI2INV95", "xysr_model", "xysr_initiate", "xyah_model", "xyah_initiate",
           "xyah_process_noise", "xyah_measurement_noise", "xyah_initiate_kernel", "xyah_process_noise_kernel",
           "xyah_measurement_noise_kernel", "xywh_initiate_kernel", "xywh_process_noise_kernel",
           "xywh_measurement_noise_kernel", "STD_WEIGHT_POSITION",
           "STD_WEIGHT_VELOCITY"]

#: 0.95 quantile of the chi-square distribution by degrees of freedom (gating thresholds for
#: squared Mahalanobis distances; DeepSORT gates on 4: 9.4877).
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877, 5: 11.070, 6: 12.592, 7: 14.067,
             8: 15.507, 9: 16.919}

#: DeepSORT/ByteTrack: position and velocity noise standard deviations per pixel of height.
STD_WEIGHT_POSITION = 1.0 / 20.0
STD_WEIGHT_VELOCITY = 1.0 / 160.0


def _constant_velocity(n_measured, n_velocities):
    """F (dt = 1) and H for a state of ``n_measured`` values and velocities of the first
    ``n_velocities`` of them."""
    dim_x = n_measured + n_velocities
    F = np.eye(dim_x)
    for i in range(n_velocities):
        F[i, n_measured + i] = 1.0
    H = np.eye(n_measured, dim_x)
    return F, H


def xysr_model() -> SimpleNamespace:
    """SORT's filter: ``F``, ``H``, ``Q``, ``R`` and the initial covariance ``P0``.

    SORT starts from filterpy's identities and scales them: ``R[2:, 2:] *= 10``;
    ``P[4:, 4:] *= 1000`` then ``P *= 10``; ``Q[-1, -1] *= 0.01`` then ``Q[4:, 4:] *= 0.01``.
    So ``R = diag(1, 1, 10, 10)``, ``P0 = diag(10, 10, 10, 10, 1e4, 1e4, 1e4)`` and
    ``Q = diag(1, 1, 1, 1, 0.01, 0.01, 1e-4)``. SORT updates with the Joseph form.

    Returns
    -------
    SimpleNamespace
        ``F``, ``H``, ``Q``, ``R``, ``P0`` and ``joseph`` (True: the Joseph-form update).
    """
    F, H = _constant_velocity(4, 3)
    return SimpleNamespace(F=F, H=H, Q=np.diag([1, 1, 1, 1, 0.01, 0.01, 1e-4]),
                           R=np.diag([1.0, 1.0, 10.0, 10.0]),
                           P0=np.diag([10.0, 10.0, 10.0, 10.0, 1e4, 1e4, 1e4]), joseph=True)


#: Box coordinates beyond this many pixels are refused: squaring them for covariances would
#: overflow long before, and no image is that large.
MAX_COORDINATE = 1e12


def _check_magnitude(a, name):
    if a.size and np.abs(a).max() > MAX_COORDINATE:
        raise ValueError(f"{name} values must be within +-{MAX_COORDINATE:g}")


def _measurements(Z, name="measurements"):
    z = as_array(Z, name)
    if z.size == 0:
        return np.zeros((0, 4))
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != 4:
        raise ValueError(f"{name} must have shape (N, 4) or (4,), got {z.shape}")
    z = z.astype(np.float64)
    check_finite(z, name)
    _check_magnitude(z, name)
    return z


def xysr_initiate(measurements):
    """New SORT tracks from (N, 4) ``[x, y, s, r]`` measurements: zero velocities and ``P0``.

    Parameters
    ----------
    measurements : array-like (N, 4)

    Returns
    -------
    X : ndarray (N, 7), P : ndarray (N, 7, 7)
    """
    z = _measurements(measurements)
    X = np.zeros((len(z), 7))
    X[:, :4] = z
    return X, np.repeat(xysr_model().P0[None], len(z), axis=0)


def xyah_model() -> SimpleNamespace:
    """DeepSORT's / ByteTrack's constant-velocity ``F`` (8x8) and ``H`` (4x8), and the update
    form (``P - K S K'``, not Joseph). The noise depends on the state: see
    :func:`xyah_process_noise` and :func:`xyah_measurement_noise`.

    Returns
    -------
    SimpleNamespace
        ``F``, ``H`` and ``joseph`` (False: the short update form).
    """
    F, H = _constant_velocity(4, 4)
    return SimpleNamespace(F=F, H=H, joseph=False)


def xyah_initiate(measurements):
    """New DeepSORT/ByteTrack tracks from (N, 4) ``[x, y, a, h]`` measurements.

    Zero velocities; standard deviations ``2 h / 20`` (x, y, h), ``1e-2`` (a), ``10 h / 160``
    (vx, vy, vh) and ``1e-5`` (va).

    Parameters
    ----------
    measurements : array-like (N, 4)

    Returns
    -------
    X : ndarray (N, 8), P : ndarray (N, 8, 8)
    """
    z = _measurements(measurements)
    X, P = np.empty((len(z), 8)), np.empty((len(z), 8, 8))
    xyah_initiate_kernel(z, X, P)
    return X, P


@kernel
def xyah_initiate_kernel(Z, X, P):
    """Kernel-level :func:`xyah_initiate` into ``X`` (N, 8) and ``P`` (N, 8, 8)."""
    for n in range(Z.shape[0]):
        h = Z[n, 3]
        X[n, :4] = Z[n]
        X[n, 4:] = 0.0
        pos, vel = 2 * STD_WEIGHT_POSITION * h, 10 * STD_WEIGHT_VELOCITY * h
        _diagonal_variances(P[n], (pos, pos, 1e-2, pos, vel, vel, 1e-5, vel))


@kernel
def _diagonal_variances(out, std):
    """``out`` <- the diagonal covariance with standard deviations ``std`` (a tuple)."""
    out[:] = 0.0
    for i in range(len(std)):
        out[i, i] = std[i] * std[i]


def _states(X):
    x = as_array(X, "X")
    if x.ndim != 2 or x.shape[1] != 8:
        raise ValueError(f"X must have shape (N, 8), got {x.shape}")
    x = x.astype(np.float64, copy=False)
    check_finite(x, "X")
    _check_magnitude(x, "X")
    return x


def xyah_process_noise(X):
    """Process noise ``Q`` (N, 8, 8) of DeepSORT/ByteTrack for states ``X`` (N, 8), taken before
    the predict: standard deviations ``h / 20`` (x, y, h), ``1e-2`` (a), ``h / 160`` (vx, vy, vh)
    and ``1e-5`` (va).

    Parameters
    ----------
    X : array-like (N, 8)
        States before the predict.

    Returns
    -------
    ndarray (N, 8, 8)
    """
    x = _states(X)
    out = np.empty((len(x), 8, 8))
    xyah_process_noise_kernel(x, out)
    return out


@kernel
def xyah_process_noise_kernel(X, out):
    """Kernel-level :func:`xyah_process_noise` into ``out`` (N, 8, 8)."""
    for n in range(X.shape[0]):
        h = X[n, 3]
        pos, vel = STD_WEIGHT_POSITION * h, STD_WEIGHT_VELOCITY * h
        _diagonal_variances(out[n], (pos, pos, 1e-2, pos, vel, vel, 1e-5, vel))


def xyah_measurement_noise(X):
    """Measurement noise ``R`` (N, 4, 4) of DeepSORT/ByteTrack for predicted states ``X``:
    standard deviations ``h / 20`` (x, y, h) and ``1e-1`` (a).

    Parameters
    ----------
    X : array-like (N, 8)
        Predicted states.

    Returns
    -------
    ndarray (N, 4, 4)
    """
    x = _states(X)
    out = np.empty((len(x), 4, 4))
    xyah_measurement_noise_kernel(x, out)
    return out


@kernel
def xyah_measurement_noise_kernel(X, out):
    """Kernel-level :func:`xyah_measurement_noise` into ``out`` (N, 4, 4)."""
    for n in range(X.shape[0]):
        pos = STD_WEIGHT_POSITION * X[n, 3]
        _diagonal_variances(out[n], (pos, pos, 1e-1, pos))


@kernel
def xywh_initiate_kernel(Z, X, P):
    """New BoT-SORT tracks from ``Z`` (N, 4) ``[x, y, w, h]`` into ``X`` (N, 8) and ``P``: zero
    velocities; standard deviations ``2 w / 20``, ``2 h / 20`` (x and w, y and h), ``10 w / 160``,
    ``10 h / 160`` (their velocities)."""
    for n in range(Z.shape[0]):
        w, h = Z[n, 2], Z[n, 3]
        X[n, :4] = Z[n]
        X[n, 4:] = 0.0
        pw, ph = 2 * STD_WEIGHT_POSITION * w, 2 * STD_WEIGHT_POSITION * h
        vw, vh = 10 * STD_WEIGHT_VELOCITY * w, 10 * STD_WEIGHT_VELOCITY * h
        _diagonal_variances(P[n], (pw, ph, pw, ph, vw, vh, vw, vh))


@kernel
def xywh_process_noise_kernel(X, out):
    """BoT-SORT's process noise for states ``X`` (N, 8) into ``out`` (N, 8, 8), taken before the
    predict: standard deviations ``w / 20``, ``h / 20`` (x and w, y and h), ``w / 160``,
    ``h / 160`` (their velocities)."""
    for n in range(X.shape[0]):
        w, h = X[n, 2], X[n, 3]
        pw, ph = STD_WEIGHT_POSITION * w, STD_WEIGHT_POSITION * h
        vw, vh = STD_WEIGHT_VELOCITY * w, STD_WEIGHT_VELOCITY * h
        _diagonal_variances(out[n], (pw, ph, pw, ph, vw, vh, vw, vh))


@kernel
def xywh_measurement_noise_kernel(X, out):
    """BoT-SORT's measurement noise for predicted states ``X`` into ``out`` (N, 4, 4): standard
    deviations ``w / 20`` (x, w) and ``h / 20`` (y, h)."""
    for n in range(X.shape[0]):
        pw, ph = STD_WEIGHT_POSITION * X[n, 2], STD_WEIGHT_POSITION * X[n, 3]
        _diagonal_variances(out[n], (pw, ph, pw, ph))
