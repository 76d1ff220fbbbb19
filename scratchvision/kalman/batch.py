"""The Kalman filter over many tracks at once: states stacked in arrays, one kernel call per step.

``X`` holds one state per row (N, dim_x) and ``P`` one covariance per track (N, dim_x, dim_x);
the functions update them in place (and return them). This is what the trackers use: a frame's
predict and update are one call each, whatever the number of tracks.
"""

from __future__ import annotations

import numpy as np

from .._jit import warmup_hook
from .._validate import as_array
from .kernels import (OK, batch_predict_kernel, batch_project_kernel, batch_update_kernel,
                       mahalanobis_sq_kernel)

__all__ = ["batch_predict", "batch_update", "batch_project", "batch_mahalanobis_sq"]


def _state(X, P):
    if not (isinstance(X, np.ndarray) and X.dtype == np.float64 and X.ndim == 2 and X.flags.c_contiguous):
        raise TypeError(f"X must be a C-contiguous float64 array (N, dim_x) updated in place, got "
                        f"{type(X).__name__} {getattr(X, 'shape', '')} {getattr(X, 'dtype', '')}")
    n, dx = X.shape
    if not (isinstance(P, np.ndarray) and P.dtype == np.float64 and P.flags.c_contiguous):
        raise TypeError("P must be a C-contiguous float64 array (N, dim_x, dim_x) updated in place")
    if P.shape != (n, dx, dx):
        raise ValueError(f"P must have shape {(n, dx, dx)} to match X {X.shape}, got {P.shape}")
    if not (np.isfinite(X).all() and np.isfinite(P).all()):
        raise ValueError("X and P must be finite")
    return n, dx


def _fixed(value, name, shape):
    if isinstance(value, np.ndarray) and value.dtype == np.float64 and value.flags.c_contiguous:
        a = value  # the common case: no conversion
    else:
        a = np.ascontiguousarray(as_array(value, name), dtype=np.float64)
    if a.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return a


def _measurement_matrix(H, dim_x):
    h = as_array(H, "H")
    if h.ndim != 2 or h.shape[0] < 1 or h.shape[1] != dim_x:
        raise ValueError(f"H must have shape (dim_z >= 1, {dim_x}), got {h.shape}")
    return _fixed(h, "H", h.shape)


def _per_track(value, name, n, d):
    """A (d, d) matrix shared by every track, given to the kernels as (1, d, d), or one
    (N, d, d) per track."""
    a = as_array(value, name)
    if a.shape == (d, d):
        return _fixed(a, name, (d, d))[None]
    if a.shape != (n, d, d):
        raise ValueError(f"{name} must have shape {(d, d)} or {(n, d, d)} to match X and H, got {a.shape}")
    return _fixed(a, name, (n, d, d))


def batch_predict(X, P, F, Q):
    """Predict every track in place: ``X[n] = F X[n]``, ``P[n] = F P[n] F' + Q[n]``.

    Parameters
    ----------
    X, P : ndarray (N, dim_x) and (N, dim_x, dim_x), float64
        States and covariances, modified in place.
    F : array-like (dim_x, dim_x)
    Q : array-like (dim_x, dim_x) or (N, dim_x, dim_x)
        Process noise, shared or per track (ByteTrack's scales with each box's height).

    Returns
    -------
    X, P

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import batch_predict
    >>> X = np.array([[0.0, 1.0], [5.0, -1.0]])  # two tracks: position, velocity
    >>> P = np.stack([np.eye(2)] * 2)
    >>> F = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> X, P = batch_predict(X, P, F, 0.1 * np.eye(2))
    >>> X.tolist()
    [[1.0, 1.0], [4.0, -1.0]]
    """
    n, dx = _state(X, P)
    batch_predict_kernel(X, P, _fixed(F, "F", (dx, dx)), _per_track(Q, "Q", n, dx))
    return X, P


def batch_update(X, P, Z, H, R, *, joseph: bool = False, F=None):
    """Update every track in place with its measurement ``Z[n]`` (a row holding NaN: no update).

    Parameters
    ----------
    X, P : ndarray
        States (N, dim_x) and covariances (N, dim_x, dim_x), float64, modified in place.
    Z : array-like (N, dim_z)
        One measurement per track; NaN rows skip the update for that track.
    H : array-like (dim_z, dim_x)
    R : array-like (dim_z, dim_z) or (N, dim_z, dim_z)
    joseph : bool
        Joseph-form covariance (filterpy, SORT) instead of ``P - K S K'`` (DeepSORT, ByteTrack).
    F : array-like (dim_x, dim_x), optional
        The model's transition matrix. It does not enter the update; it tells which states move
        together, so that tracks whose covariance keeps the axes independent (the box models do)
        take a per-axis path, several times faster, with the same results to rounding.

    Returns
    -------
    X, P

    Raises
    ------
    ValueError
        If some track's ``H P H' + R`` is not positive definite (those tracks are not updated).
    """
    n, dx = _state(X, P)
    H = _measurement_matrix(H, dx)
    dz = H.shape[0]
    z = as_array(Z, "Z")
    if z.shape != (n, dz):
        raise ValueError(f"Z must have shape {(n, dz)} to match X {X.shape} and H {H.shape}, got {z.shape}")
    z = np.ascontiguousarray(z, dtype=np.float64)
    if np.isinf(z).any():
        raise ValueError("Z must not hold inf (NaN rows mean: no measurement)")
    status = np.empty(n, np.int64)
    F = np.ones((dx, dx)) if F is None else _fixed(F, "F", (dx, dx))  # all linked: dense path
    batch_update_kernel(X, P, z, H, _per_track(R, "R", n, dz), bool(joseph), F, status)
    bad = np.flatnonzero(status != OK)
    if bad.size:
        raise ValueError(f"tracks {bad.tolist()}: H P H' + R is not positive definite")
    return X, P


def batch_project(X, P, H, R):
    """Each track's predicted measurement ``H x`` (N, dim_z) and its covariance ``H P H' + R``.

    Parameters
    ----------
    X, P : ndarray (N, dim_x) and (N, dim_x, dim_x)
        States and covariances.
    H : array-like (dim_z, dim_x)
    R : array-like (dim_z, dim_z) or (N, dim_z, dim_z)

    Returns
    -------
    mean : ndarray (N, dim_z)
    cov : ndarray (N, dim_z, dim_z)
    """
    n, dx = _state(X, P)
    H = _measurement_matrix(H, dx)
    dz = H.shape[0]
    Zp = np.empty((n, dz))
    S = np.empty((n, dz, dz))
    batch_project_kernel(X, P, H, _per_track(R, "R", n, dz), Zp, S)
    return Zp, S


def batch_mahalanobis_sq(X, P, H, R, Z):
    """Squared Mahalanobis distance (N, M) of every measurement ``Z[m]`` to every track's
    projected distribution ``N(H x, H P H' + R)``; compare with :data:`CHI2INV95` to gate.
    A track with a covariance that is not positive definite gets +inf.

    Parameters
    ----------
    X, P : ndarray (N, dim_x) and (N, dim_x, dim_x)
        States and covariances.
    H : array-like (dim_z, dim_x)
    R : array-like (dim_z, dim_z) or (N, dim_z, dim_z)
    Z : array-like (M, dim_z)
        Measurements.

    Returns
    -------
    ndarray (N, M) float64
    """
    n, dx = _state(X, P)
    H = _measurement_matrix(H, dx)
    dz = H.shape[0]
    z = as_array(Z, "Z")
    if z.size == 0 and z.ndim in (1, 2):
        z = z.reshape(0, dz)
    if z.ndim != 2 or z.shape[1] != dz:
        raise ValueError(f"Z must have shape (M, {dz}) to match H {H.shape}, got {z.shape}")
    z = _fixed(z, "Z", z.shape)
    out = np.empty((n, len(z)))
    mahalanobis_sq_kernel(X, P, H, _per_track(R, "R", n, dz), z, out)
    return out


@warmup_hook
def _warmup():
    X = np.zeros((2, 2))
    P = np.tile(np.eye(2), (2, 1, 1))
    F = np.array([[1.0, 1.0], [0.0, 1.0]])
    H = np.array([[1.0, 0.0]])
    batch_predict(X, P, F, np.eye(2))
    for joseph in (False, True):
        batch_update(X, P, np.ones((2, 1)), H, np.eye(1), joseph=joseph)
    batch_project(X, P, H, np.eye(1))
    batch_mahalanobis_sq(X, P, H, np.eye(1), np.zeros((3, 1)))
