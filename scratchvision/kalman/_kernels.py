"""Kalman filter kernels shared by the single filter and the batched form.

Matrices are small (a box filter has 7 or 8 states and 4 measurements), so products are written
as plain loops: a BLAS call costs more than the arithmetic at these sizes. The innovation
covariance ``S`` is symmetric positive definite, so the gain is solved through its Cholesky
factor. All arrays are float64; kernels write their results in place and never raise: a status
code reports a covariance that is not positive definite.
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel

OK, NOT_POSITIVE_DEFINITE, NOT_FINITE = 0, 1, 2


@kernel
def matmul(A, B):
    """``A @ B`` by loops."""
    n, k = A.shape
    m = B.shape[1]
    out = np.zeros((n, m))
    for i in range(n):
        for p in range(k):
            a = A[i, p]
            if a != 0.0:
                for j in range(m):
                    out[i, j] += a * B[p, j]
    return out


@kernel
def matmul_t(A, B):
    """``A @ B.T`` by loops."""
    n, k = A.shape
    m = B.shape[0]
    out = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            acc = 0.0
            for p in range(k):
                acc += A[i, p] * B[j, p]
            out[i, j] = acc
    return out


@kernel
def matvec(A, x):
    """``A @ x`` by loops."""
    out = np.zeros(A.shape[0])
    for i in range(A.shape[0]):
        acc = 0.0
        for p in range(A.shape[1]):
            acc += A[i, p] * x[p]
        out[i] = acc
    return out


@kernel
def cholesky(S, L):
    """Lower Cholesky factor ``S = L L'`` into ``L``; returns False if S is not positive definite."""
    d = S.shape[0]
    for i in range(d):
        for j in range(i + 1):
            acc = S[i, j]
            for k in range(j):
                acc -= L[i, k] * L[j, k]
            if i == j:
                if not acc > 0.0:
                    return False
                L[i, i] = np.sqrt(acc)
            else:
                L[i, j] = acc / L[j, j]
        for j in range(i + 1, d):
            L[i, j] = 0.0
    return True


@kernel
def cho_solve_rows(L, B, X):
    """Solve ``X S = B`` (S = L L') into X, i.e. ``X = B S^-1``, row by row of B."""
    n, d = B.shape
    w = np.empty(d)
    for r in range(n):
        # S x' = b'  ->  L w = b', then L' x' = w
        for i in range(d):
            acc = B[r, i]
            for k in range(i):
                acc -= L[i, k] * w[k]
            w[i] = acc / L[i, i]
        for i in range(d - 1, -1, -1):
            acc = w[i]
            for k in range(i + 1, d):
                acc -= L[k, i] * X[r, k]
            X[r, i] = acc / L[i, i]


@kernel
def predict_one(x, P, F, Q, alpha_sq, Bu):
    """``x <- F x + Bu``, ``P <- alpha_sq F P F' + Q`` (``Bu`` may be all zeros)."""
    x[:] = matvec(F, x) + Bu
    P[:, :] = alpha_sq * matmul_t(matmul(F, P), F) + Q


@kernel
def update_one(x, P, z, H, R, joseph, y, S, L, K):
    """One measurement update, in place.

    Fills the innovation ``y = z - H x``, its covariance ``S = H P H' + R``, the Cholesky factor
    ``L`` of S and the gain ``K = P H' S^-1``, then ``x <- x + K y`` and either the Joseph form
    ``P <- (I - K H) P (I - K H)' + K R K'`` (filterpy, SORT) or ``P <- P - K S K'`` (DeepSORT,
    ByteTrack). Returns NOT_FINITE (changing nothing) if z holds NaN or inf, and
    NOT_POSITIVE_DEFINITE (changing nothing but y and S) if S is not positive definite.
    """
    for i in range(z.shape[0]):
        if not np.isfinite(z[i]):
            return NOT_FINITE
    dz, dx = H.shape
    for i in range(dz):
        acc = z[i]
        for k in range(dx):
            acc -= H[i, k] * x[k]
        y[i] = acc
    PHT = matmul_t(P, H)
    for i in range(dz):
        for j in range(dz):
            acc = R[i, j]
            for k in range(dx):
                acc += H[i, k] * PHT[k, j]
            S[i, j] = acc
    if not cholesky(S, L):
        return NOT_POSITIVE_DEFINITE
    cho_solve_rows(L, PHT, K)
    for a in range(dx):
        acc = 0.0
        for i in range(dz):
            acc += K[a, i] * y[i]
        x[a] += acc
    if joseph:
        A = -matmul(K, H)
        for a in range(dx):
            A[a, a] += 1.0
        KR = matmul(K, R)
        P[:, :] = matmul_t(matmul(A, P), A) + matmul_t(KR, K)
    else:
        P[:, :] = P - matmul_t(matmul(K, S), K)
    return OK


@kernel
def batch_predict_kernel(X, P, F, Q):
    """Predict every track: ``X[n] <- F X[n]``, ``P[n] <- F P[n] F' + Q[n]``."""
    zero = np.zeros(X.shape[1])
    for n in range(X.shape[0]):
        predict_one(X[n], P[n], F, Q[n], 1.0, zero)


@kernel
def batch_update_kernel(X, P, Z, H, R, joseph, status):
    """Update every track ``n`` with ``Z[n]``; rows of Z holding a NaN are skipped (no update)."""
    dz, dx = H.shape
    y = np.empty(dz)
    S = np.empty((dz, dz))
    L = np.empty((dz, dz))
    K = np.empty((dx, dz))
    for n in range(X.shape[0]):
        if np.isnan(Z[n]).any():
            status[n] = OK
            continue
        status[n] = update_one(X[n], P[n], Z[n], H, R[n], joseph, y, S, L, K)


@kernel
def batch_project_kernel(X, P, H, R, Zp, S):
    """Measurement-space mean ``H x`` and covariance ``H P H' + R`` of every track."""
    for n in range(X.shape[0]):
        Zp[n] = matvec(H, X[n])
        S[n] = matmul_t(matmul(H, P[n]), H) + R[n]


@kernel
def mahalanobis_sq_kernel(X, P, H, R, Z, out):
    """Squared Mahalanobis distance of every measurement ``Z[m]`` to every track ``n``,
    through the Cholesky factor of the projected covariance (as DeepSORT's gating computes it).
    A track whose projected covariance is not positive definite gets +inf."""
    dz = H.shape[0]
    L = np.empty((dz, dz))
    w = np.empty(dz)
    for n in range(X.shape[0]):
        mean = matvec(H, X[n])
        ok = cholesky(matmul_t(matmul(H, P[n]), H) + R[n], L)
        for m in range(Z.shape[0]):
            if not ok:
                out[n, m] = np.inf
                continue
            total = 0.0
            for i in range(dz):  # forward substitution L w = z - mean; distance |w|^2
                acc = Z[m, i] - mean[i]
                for k in range(i):
                    acc -= L[i, k] * w[k]
                w[i] = acc / L[i, i]
                total += w[i] * w[i]
            out[n, m] = total
