"""The linear Kalman filter with filterpy's vocabulary, state shape and scalar conventions.

Predict: ``x = F x + B u``, ``P = alpha^2 F P F' + Q``. Update with a measurement ``z``:
innovation ``y = z - H x`` with covariance ``S = H P H' + R``, gain ``K = P H' S^-1``,
``x = x + K y``, and the covariance by the Joseph form
``P = (I - K H) P (I - K H)' + K R K'`` (filterpy's choice, which keeps P symmetric positive
semi-definite under rounding) or the short form ``P = P - K S K'``.

References
----------
R. E. Kalman. "A New Approach to Linear Filtering and Prediction Problems." Journal of Basic
Engineering 82(1), 1960. doi:10.1115/1.3662552
R. Labbe. "Kalman and Bayesian Filters in Python" (filterpy), 2015-2020.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import warmup_hook
from .._validate import as_array, check_float, check_int
from .kernels import NOT_FINITE, OK, predict_single, update_single, workspace_size

__all__ = ["KalmanFilter"]

_LOG_2PI = math.log(2.0 * math.pi)


def _matrix(value, name, shape, *, allow_column=False):
    """Validate ``value`` as a float64 C-contiguous array of ``shape`` (with ``allow_column``, a
    vector may also be the (n, 1) column filterpy uses; it keeps that shape)."""
    a = as_array(value, name)
    if a.shape != shape and not (allow_column and a.shape == (shape[0], 1)):
        raise ValueError(f"{name} must have shape {shape}" + (f" or {(shape[0], 1)}" if allow_column else "")
                         + f", got {a.shape}")
    a = np.ascontiguousarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite")
    return a.copy() if a is value else a


def _validated(name):
    """A property over ``_name`` whose assignment checks shape and finiteness; in-place edits
    (``kf.R[2:, 2:] *= 10``, as SORT does) act on the stored array."""
    return property(lambda self: getattr(self, "_" + name),
                    lambda self, value: self._set(name, value),
                    doc=f"``{name}``, validated on assignment")


class KalmanFilter:
    """Linear Kalman filter; attribute names, defaults, shapes and call rhythm of
    ``filterpy.kalman.KalmanFilter``.

    Code written for filterpy runs with only the import changed: the state is a column
    (dim_x, 1) by default, and keeps the shape it is given (a 1-D vector works as in filterpy,
    and ``y``, ``z`` and the batch results follow it); a scalar assigned to ``P`` or ``F``
    (or to ``H`` when ``dim_z == dim_x``) acts as that multiple of the identity, as in filterpy's
    matrix products, and a scalar assigned to ``Q`` or ``R`` is added to every entry, as in its
    sums (``kf.R = 5``, ``kf.Q = .02``); the attribute then reads back as that matrix. One
    difference: with ``dim_z > 1``, filterpy's Joseph update treats a scalar ``R`` as ``R I``
    in ``K R K'`` while its ``S`` adds it to every entry; here ``R`` is one matrix in both.
    Not provided: ``M`` and ``update_correlated``, ``update_sequential``,
    ``test_matrix_dimensions``, the steady-state and procedural forms. filterpy's own
    ``test_kf.py`` with the import changed: 9 of its 14 tests pass; four call those methods and
    one asks for 1e-12 absolute agreement with filterpy's procedural form over 2000 steps with
    positions up to 2e5 (ours differs by 1.8e-12: the kernels' order of operations).

    Parameters
    ----------
    dim_x : int
        Number of state variables.
    dim_z : int
        Number of measured variables.
    dim_u : int
        Number of control inputs (0: no control).

    Attributes
    ----------
    x : ndarray (dim_x, 1) or (dim_x,)
        State estimate: a column at construction (filterpy's), then the shape assigned.
    P : ndarray (dim_x, dim_x)
        State covariance, identity at construction.
    F : ndarray (dim_x, dim_x)
        State transition, identity at construction.
    Q : ndarray (dim_x, dim_x)
        Process noise, identity at construction.
    H : ndarray (dim_z, dim_x)
        Measurement function, zeros at construction.
    R : ndarray (dim_z, dim_z)
        Measurement noise, identity at construction.
    B : ndarray (dim_x, dim_u) or None
        Control transition (None when dim_u == 0).
    alpha : float
        Fading-memory factor (1: the standard filter); P is scaled by ``alpha**2`` at predict.
    joseph : bool
        Joseph-form covariance update (default, as filterpy) instead of ``P - K S K'``.
    y, S, SI, K : ndarray
        Innovation, its covariance and inverse, and the gain of the last update.
    z : ndarray (dim_z,)
        Last measurement (NaN after an update skipped with ``z=None``).
    x_prior, P_prior, x_post, P_post : ndarray
        Estimates after the last predict and after the last update.

    Examples
    --------
    >>> kf = KalmanFilter(dim_x=2, dim_z=1)
    >>> kf.F = [[1.0, 1.0], [0.0, 1.0]]
    >>> kf.H = [[1.0, 0.0]]
    >>> for z in [1.0, 2.0, 3.0]:
    ...     kf.predict()
    ...     kf.update(z)
    >>> kf.x.shape, round(float(kf.x[0, 0]), 3)
    ((2, 1), 2.901)
    """

    x, P, F, Q, H, R, B = (_validated(n) for n in ("x", "P", "F", "Q", "H", "R", "B"))

    def __init__(self, dim_x: int, dim_z: int, dim_u: int = 0):
        self.dim_x = check_int(dim_x, "dim_x", low=1)
        self.dim_z = check_int(dim_z, "dim_z", low=1)
        self.dim_u = check_int(dim_u, "dim_u", low=0)
        self._scalar = {}  # the scalars assigned to Q and R (see batch_filter)
        self._x = np.zeros((dim_x, 1))
        self._P = np.eye(dim_x)
        self._F = np.eye(dim_x)
        self._Q = np.eye(dim_x)
        self._H = np.zeros((dim_z, dim_x))
        self._R = np.eye(dim_z)
        self._B = np.zeros((dim_x, dim_u)) if dim_u else None
        self.alpha = 1.0
        self.joseph = True
        self._y = np.zeros(dim_z)  # the kernel's innovation; ``y`` is it in the state's shape
        self.y = self._vector(self._y)
        self.S = np.zeros((dim_z, dim_z))
        self.K = np.zeros((dim_x, dim_z))
        self._L = np.zeros((dim_z, dim_z))
        self.z = self._vector(np.full(dim_z, np.nan))
        self._zero_u = np.zeros(dim_x)
        self._ws = None  # kernel scratch, made on first use
        self.x_prior, self.P_prior = self._x.copy(), self._P.copy()
        self.x_post, self.P_post = self._x.copy(), self._P.copy()

    def _shape(self, name):
        dx, dz, du = self.dim_x, self.dim_z, self.dim_u
        return {"x": (dx,), "P": (dx, dx), "F": (dx, dx), "Q": (dx, dx), "H": (dz, dx),
                "R": (dz, dz), "B": (dx, du)}[name]

    def _vector(self, v):
        """``v`` (n,) in the state's shape: a column (a view) when the state is one."""
        return v.reshape(-1, 1) if self._x.ndim == 2 else v

    def _set(self, name, value):
        if name == "B" and value is None:
            self._B = None
            return
        self._scalar.pop(name, None)
        if name in ("P", "F", "Q", "R", "H") and np.ndim(value) == 0 and not isinstance(value, (str, bytes)):
            value = self._from_scalar(name, value)
            if name in ("Q", "R"):
                self._scalar[name] = float(value[0, 0])
        setattr(self, "_" + name, _matrix(value, name, self._shape(name), allow_column=name == "x"))

    def _from_scalar(self, name, value):
        """A scalar attribute as the matrix filterpy's formulas make of it: ``value I`` for the
        factors of products (P, F, H), ``value`` on every entry for the terms of sums (Q, R)."""
        shape = self._shape(name)
        value = check_float(value, name)
        if name in ("Q", "R"):
            return np.full(shape, value)
        if shape[0] != shape[1]:
            raise ValueError(f"{name} must have shape {shape}; a scalar {name} needs dim_z == dim_x")
        return np.eye(shape[0]) * value

    def _scratch(self):
        if self._ws is None:
            self._ws = np.empty(workspace_size(self.dim_x, self.dim_z))
        return self._ws

    @property
    def alpha(self):
        """Fading-memory factor (>= 1)."""
        return math.sqrt(self._alpha_sq)

    @alpha.setter
    def alpha(self, value):
        value = check_float(value, "alpha", low=0.0, low_open=True)
        self._alpha_sq = value * value

    def _matrix_arg(self, value, name, default):
        if value is None:
            return default
        if np.isscalar(value) and name in ("Q", "R"):
            n = self.dim_x if name == "Q" else self.dim_z
            return np.eye(n) * check_float(value, name)
        return _matrix(value, name, self._shape(name))

    def predict(self, u=None, B=None, F=None, Q=None):
        """Predict the next state: ``x = F x + B u``, ``P = alpha^2 F P F' + Q``.

        ``B``, ``F``, ``Q`` override the attributes for this step only; a scalar ``Q`` means
        ``Q * I``. ``u`` is the control input (ignored when no B is set).
        """
        if F is None and Q is None and B is None and u is None:  # the common call, kept cheap
            predict_single(self._x.reshape(-1), self._P, self._F, self._Q, self._alpha_sq, self._zero_u,
                           self._scratch())
            self.x_prior = self._x.copy()
            self.P_prior = self._P.copy()
            return
        F = self._matrix_arg(F, "F", self._F)
        Q = self._matrix_arg(Q, "Q", self._Q)
        B = self._B if B is None else _matrix(B, "B", (self.dim_x, as_array(B, "B").shape[-1]))
        Bu = self._zero_u
        if u is not None and B is not None:
            u = as_array(u, "u").astype(np.float64)
            u = np.full(B.shape[1], float(u)) if u.ndim == 0 else u.reshape(-1)
            if u.shape != (B.shape[1],) or not np.isfinite(u).all():
                raise ValueError(f"u must be finite with shape ({B.shape[1]},), got {u.shape}")
            Bu = B @ u
        predict_single(self._x.reshape(-1), self._P, F, Q, self._alpha_sq, Bu, self._scratch())
        self.x_prior = self._x.copy()
        self.P_prior = self._P.copy()

    def update(self, z, R=None, H=None):
        """Correct the state with measurement ``z`` (``z=None``: no measurement, only the
        posterior copies are refreshed). ``R`` (scalar: ``R * I``) and ``H`` override the
        attributes for this step only.

        Raises
        ------
        ValueError
            If ``z`` has the wrong size or is not finite, or ``S = H P H' + R`` is not
            positive definite.
        """
        if z is None:
            self.z = self._vector(np.full(self.dim_z, np.nan))
            self._y = np.zeros(self.dim_z)
            self.y = self._vector(self._y)
            self.x_post = self._x.copy()
            self.P_post = self._P.copy()
            return
        R = self._R if R is None else self._matrix_arg(R, "R", self._R)
        H = self._H if H is None else self._matrix_arg(H, "H", self._H)
        z = as_array(z, "z").astype(np.float64).reshape(-1)
        if z.shape != (self.dim_z,):
            raise ValueError(f"z must have {self.dim_z} values (or shape ({self.dim_z}, 1)), got shape {z.shape}")
        self._y = np.zeros(self.dim_z)
        self.y = self._vector(self._y)
        status = update_single(self._x.reshape(-1), self._P, z, H, R, self.joseph, self._y, self.S, self._L, self.K,
                               self._scratch())
        if status == NOT_FINITE:
            raise ValueError("z must be finite")
        if status != OK:
            raise ValueError("the innovation covariance S = H P H' + R is not positive definite; "
                             "check P and R")
        self.z = self._vector(z.copy())
        self.x_post = self._x.copy()
        self.P_post = self._P.copy()

    @property
    def SI(self):
        """Inverse of the innovation covariance ``S`` of the last update."""
        return np.linalg.inv(self.S) if self.S.any() else np.zeros_like(self.S)

    @property
    def mahalanobis(self) -> float:
        """Mahalanobis distance of the last innovation: ``sqrt(y' S^-1 y)``."""
        return float(math.sqrt(max(self._y @ self.SI @ self._y, 0.0)))

    @property
    def log_likelihood(self) -> float:
        """Log of the Gaussian density of the last innovation ``y`` under ``N(0, S)``."""
        sign, logdet = np.linalg.slogdet(self.S)
        if sign <= 0:
            return -math.inf
        return float(-0.5 * (self.dim_z * _LOG_2PI + logdet + self._y @ self.SI @ self._y))

    @property
    def likelihood(self) -> float:
        """``exp(log_likelihood)``, floored at the smallest positive float as filterpy does."""
        value = math.exp(self.log_likelihood)
        return value if value > 0 else np.finfo(float).tiny

    def batch_filter(self, zs, Fs=None, Qs=None, Hs=None, Rs=None, Bs=None, us=None, update_first=False,
                     saver=None):
        """Filter a whole sequence of measurements, as filterpy's ``batch_filter``.

        Parameters
        ----------
        zs : sequence
            One measurement per step (None: no measurement that step).
        Fs, Qs, Hs, Rs, Bs, us : sequence, optional
            Per-step matrices and controls (default: the attributes, no control; a scalar
            assigned to ``Q`` or ``R`` acts here as that multiple of the identity, as in
            filterpy's batch_filter, which passes it as a per-step argument).
        update_first : bool
            Update before predicting within each step (default: predict, then update).
        saver : object with a ``save()`` method, optional
            Called after each step (filterpy's ``Saver``).

        Returns
        -------
        means, covariances, means_p, covariances_p : ndarray
            The posterior and prior states (n, dim_x[, 1], in the state's shape) and
            covariances (n, dim_x, dim_x) of each step.
        """
        n = len(zs)
        # as filterpy, whose batch_filter passes the attributes as per-step arguments: a scalar Q
        # or R then means that multiple of the identity there
        Qs = [self._scalar.get("Q")] * n if Qs is None else Qs
        Rs = [self._scalar.get("R")] * n if Rs is None else Rs
        per_step = [[None] * n if v is None else v for v in (Fs, Qs, Hs, Rs, Bs, us)]
        means, means_p = (np.zeros((n,) + self._x.shape) for _ in range(2))
        covariances, covariances_p = (np.zeros((n, self.dim_x, self.dim_x)) for _ in range(2))
        for i, (z, F, Q, H, R, B, u) in enumerate(zip(zs, *per_step)):
            if update_first:
                self.update(z, R=R, H=H)
                means[i], covariances[i] = self._x, self._P
            self.predict(u=u, B=B, F=F, Q=Q)
            means_p[i], covariances_p[i] = self._x, self._P
            if not update_first:
                self.update(z, R=R, H=H)
                means[i], covariances[i] = self._x, self._P
            if saver is not None:
                saver.save()
        return means, covariances, means_p, covariances_p

    def rts_smoother(self, Xs, Ps, Fs=None, Qs=None):
        """Rauch-Tung-Striebel smoothing of a filtered sequence, as filterpy's ``rts_smoother``.

        Backwards from the last step: the prediction ``Pp = F P F' + Q`` of step k + 1 from step
        k, the gain ``K = P F' Pp^-1``, then ``x += K (x[k+1] - F x)``, ``P += K (P[k+1] - Pp)
        K'``.

        Parameters
        ----------
        Xs, Ps : ndarray
            The filtered means (n, dim_x[, 1]) and covariances (n, dim_x, dim_x), as
            :meth:`batch_filter` returns them.
        Fs, Qs : sequence, optional
            Per-step transition and process noise (default: the attributes).

        Returns
        -------
        x, P, K, Pp : ndarray
            Smoothed means and covariances, the smoother gains and the predicted covariances.

        References
        ----------
        H. E. Rauch, F. Tung, C. T. Striebel. "Maximum likelihood estimates of linear dynamic
        systems." AIAA Journal 3(8), 1965. doi:10.2514/3.3166
        """
        x, P = np.array(Xs, np.float64), np.array(Ps, np.float64)
        if len(x) != len(P):
            raise ValueError(f"Xs and Ps must have one length, got {len(x)} and {len(P)}")
        n = len(x)
        Fs = [self._F] * n if Fs is None else Fs
        Qs = [self._Q] * n if Qs is None else Qs
        K, Pp = np.zeros((n, self.dim_x, self.dim_x)), P.copy()
        for k in range(n - 2, -1, -1):
            F = np.asarray(Fs[k + 1], np.float64)
            Pp[k] = F @ P[k] @ F.T + Qs[k + 1]
            K[k] = P[k] @ F.T @ np.linalg.inv(Pp[k])
            x[k] += K[k] @ (x[k + 1] - F @ x[k])
            P[k] += K[k] @ (P[k + 1] - Pp[k]) @ K[k].T
        return x, P, K, Pp

    def __repr__(self):
        return f"KalmanFilter(dim_x={self.dim_x}, dim_z={self.dim_z}, dim_u={self.dim_u})"


@warmup_hook
def _warmup():
    kf = KalmanFilter(2, 1)
    kf.H = [[1.0, 0.0]]
    kf.predict()
    kf.update([1.0])
    kf.joseph = False
    kf.update([1.0])
