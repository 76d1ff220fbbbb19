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


@kernel(inline=True)
def matmul(A, B, out):
    """``out = A @ B`` by loops, skipping zeros of A (F, H and K are mostly zeros)."""
    n, k = A.shape
    m = B.shape[1]
    out[:, :] = 0.0
    for i in range(n):
        for p in range(k):
            a = A[i, p]
            if a != 0.0:
                for j in range(m):
                    out[i, j] += a * B[p, j]


@kernel(inline=True)
def matmul_t(A, B, out):
    """``out = A @ B.T`` by loops, skipping zeros of B."""
    n, k = A.shape
    m = B.shape[0]
    out[:, :] = 0.0
    for j in range(m):
        for p in range(k):
            b = B[j, p]
            if b != 0.0:
                for i in range(n):
                    out[i, j] += A[i, p] * b


@kernel(inline=True)
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


@kernel(inline=True)
def cho_solve_rows(L, B, X):
    """Solve ``X S = B`` (S = L L') into X, i.e. ``X = B S^-1``: ``L w = b'`` by forward then
    ``L' x' = w`` by back substitution for every row ``b`` of B, the forward values kept in X.
    The loop over rows is innermost, so the rows' divisions are independent and overlap (each
    row's operations and their order are those of solving it alone)."""
    n, d = B.shape
    for i in range(d):
        for r in range(n):
            acc = B[r, i]
            for k in range(i):
                acc -= L[i, k] * X[r, k]
            X[r, i] = acc / L[i, i]
    for i in range(d - 1, -1, -1):
        for r in range(n):
            acc = X[r, i]
            for k in range(i + 1, d):
                acc -= L[k, i] * X[r, k]
            X[r, i] = acc / L[i, i]


@kernel
def workspace_size(dim_x, dim_z):
    """Length of the flat scratch buffer :func:`_views` carves for one filter step (one array
    to hand over from Python instead of six)."""
    return dim_x + 3 * dim_x * dim_x + 2 * dim_x * dim_z


@kernel
def _views(ws, dx, dz):
    a = dx
    b = a + dx * dx
    c = b + dx * dx
    d = c + dx * dx
    e = d + dx * dz
    f = e + dx * dz
    return (ws[:a], ws[a:b].reshape(dx, dx), ws[b:c].reshape(dx, dx), ws[c:d].reshape(dx, dx),
            ws[d:e].reshape(dx, dz), ws[e:f].reshape(dx, dz))


@kernel(inline=True)
def predict_one(x, P, F, Q, alpha_sq, Bu, v, FP, FPF):
    """``x <- F x + Bu``, ``P <- alpha_sq F P F' + Q`` (``Bu`` may be all zeros); ``v``, ``FP``
    and ``FPF`` are scratch."""
    dx = x.shape[0]
    for i in range(dx):
        acc = Bu[i]
        for k in range(dx):
            if F[i, k] != 0.0:
                acc += F[i, k] * x[k]
        v[i] = acc
    x[:] = v
    matmul(F, P, FP)
    matmul_t(FP, F, FPF)
    for i in range(dx):
        for j in range(dx):
            P[i, j] = alpha_sq * FPF[i, j] + Q[i, j]


@kernel(inline=True)
def update_one(x, P, z, H, R, joseph, y, S, L, K, A, AP, APA, PHT, KR):
    """One measurement update, in place.

    Fills the innovation ``y = z - H x``, its covariance ``S = H P H' + R``, the Cholesky factor
    ``L`` of S and the gain ``K = P H' S^-1``, then ``x <- x + K y`` and either the Joseph form
    ``P <- (I - K H) P (I - K H)' + K R K'`` (filterpy, SORT) or ``P <- P - K S K'`` (DeepSORT,
    ByteTrack). Returns NOT_FINITE (changing nothing) if z holds NaN or inf, and
    NOT_POSITIVE_DEFINITE (changing nothing but y and S) if S is not positive definite.
    ``A``, ``AP``, ``APA`` (dim_x, dim_x), ``PHT`` and ``KR`` (dim_x, dim_z) are scratch.
    """
    for i in range(z.shape[0]):
        if not np.isfinite(z[i]):
            return NOT_FINITE
    dz, dx = H.shape
    for i in range(dz):
        acc = z[i]
        for k in range(dx):
            if H[i, k] != 0.0:
                acc -= H[i, k] * x[k]
        y[i] = acc
    matmul_t(P, H, PHT)
    matmul(H, PHT, S)
    for i in range(dz):
        for j in range(dz):
            S[i, j] += R[i, j]
    if not cholesky(S, L):
        return NOT_POSITIVE_DEFINITE
    cho_solve_rows(L, PHT, K)
    for a in range(dx):
        acc = 0.0
        for i in range(dz):
            acc += K[a, i] * y[i]
        x[a] += acc
    if joseph:
        matmul(K, H, A)  # A = I - K H
        for a in range(dx):
            for b in range(dx):
                A[a, b] = -A[a, b]
            A[a, a] += 1.0
        matmul(A, P, AP)
        matmul_t(AP, A, APA)
        matmul(K, R, KR)
        matmul_t(KR, K, AP)  # reuse AP for K R K'
        for a in range(dx):
            for b in range(dx):
                P[a, b] = APA[a, b] + AP[a, b]
    else:
        matmul(K, S, KR)  # K S
        matmul_t(KR, K, AP)
        for a in range(dx):
            for b in range(dx):
                P[a, b] -= AP[a, b]
    return OK


@kernel
def state_groups(F):
    """Group the states that F links (connected components of F's nonzero pattern).

    Box models move each coordinate with its own velocity and nothing else, so every group has
    one or two states. Returns ``(owner, n_groups)``: ``owner[i]`` is the group of state ``i``
    (numbered by first state); ``n_groups`` is 0 when a group has more than two states, which
    sends every track down the dense path.
    """
    dx = F.shape[0]
    owner = np.full(dx, -1, np.int64)
    n_groups = 0
    stack = np.empty(dx, np.int64)
    for start in range(dx):
        if owner[start] >= 0:
            continue
        owner[start] = n_groups
        size = 1
        top = 0
        stack[top] = start
        top += 1
        while top > 0:
            top -= 1
            i = stack[top]
            for j in range(dx):
                if owner[j] < 0 and (F[i, j] != 0.0 or F[j, i] != 0.0):
                    owner[j] = n_groups
                    size += 1
                    stack[top] = j
                    top += 1
        if size > 2:
            return owner, 0
        n_groups += 1
    return owner, n_groups


@kernel
def measured_state(owner, n_groups, H):
    """For each group, the single state an H row reads (or -1) and that row (or -1).

    Returns ``(state, row, ok)``; ``ok`` is False unless every H row reads exactly one state and
    no group is read by two rows (then the measurement is per group too).
    """
    dz, dx = H.shape
    state = np.full(n_groups, -1, np.int64)
    row = np.full(n_groups, -1, np.int64)
    for r in range(dz):
        k_found = -1
        for k in range(dx):
            if H[r, k] != 0.0:
                if k_found >= 0:
                    return state, row, False
                k_found = k
        if k_found < 0 or row[owner[k_found]] >= 0:
            return state, row, False
        state[owner[k_found]] = k_found
        row[owner[k_found]] = r
    return state, row, True


@kernel
def _respects(M, owner):
    """True when ``M`` has no entry between states of different groups."""
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[i, j] != 0.0 and owner[i] != owner[j]:
                return False
    return True


@kernel
def _diagonal(M):
    for i in range(M.shape[0]):
        for j in range(M.shape[1]):
            if i != j and M[i, j] != 0.0:
                return False
    return True


@kernel
def group_members(owner, n_groups):
    """``members[g, :count[g]]``: the states of group ``g`` in increasing order."""
    members = np.full((n_groups, 2), -1, np.int64)
    count = np.zeros(n_groups, np.int64)
    for i in range(owner.shape[0]):
        g = owner[i]
        if 0 <= g < n_groups:
            members[g, count[g]] = i
            count[g] += 1
    return members, count


@kernel
def predict_axes(x, P, F, Q, members, count):
    """:func:`predict_one` when P and Q respect the groups: the same products on each group's
    1 x 1 or 2 x 2 block, written out; the rest of P is zero before and after."""
    for g in range(members.shape[0]):
        i = members[g, 0]
        if count[g] == 1:
            f = F[i, i]
            x[i] = f * x[i]
            P[i, i] = (f * P[i, i]) * f + Q[i, i]
            continue
        j = members[g, 1]
        f00, f01, f10, f11 = F[i, i], F[i, j], F[j, i], F[j, j]
        x0, x1 = x[i], x[j]
        x[i] = f00 * x0 + f01 * x1
        x[j] = f10 * x0 + f11 * x1
        p00, p01, p10, p11 = P[i, i], P[i, j], P[j, i], P[j, j]
        a00 = f00 * p00 + f01 * p10
        a01 = f00 * p01 + f01 * p11
        a10 = f10 * p00 + f11 * p10
        a11 = f10 * p01 + f11 * p11
        P[i, i] = a00 * f00 + a01 * f01 + Q[i, i]
        P[i, j] = a00 * f10 + a01 * f11 + Q[i, j]
        P[j, i] = a10 * f00 + a11 * f01 + Q[j, i]
        P[j, j] = a10 * f10 + a11 * f11 + Q[j, j]


@kernel
def update_axes(x, P, z, H, R, joseph, members, count, state, row):
    """:func:`update_one` when P respects the groups and R is diagonal: each group sees one
    scalar measurement ``z[r] = h x[p]``, so ``S`` is a number and the gain a column of one or
    two values; the products are written out."""
    for g in range(members.shape[0]):
        r = row[g]
        if r < 0:
            continue  # not measured: unchanged
        p = state[g]
        o = members[g, 1] if members[g, 0] == p else members[g, 0]  # the other state, if any
        h = H[r, p]
        rr = R[r, r]
        y = z[r] - h * x[p]
        S = h * P[p, p] * h + rr
        if not S > 0.0:
            return NOT_POSITIVE_DEFINITE
        kp = P[p, p] * h / S
        x[p] += kp * y
        if count[g] == 1:
            if joseph:
                a = 1.0 - kp * h
                P[p, p] = a * P[p, p] * a + kp * rr * kp
            else:
                P[p, p] -= kp * S * kp
            continue
        ko = P[o, p] * h / S
        x[o] += ko * y
        ppp, ppo, pop, poo = P[p, p], P[p, o], P[o, p], P[o, o]
        if joseph:
            # A = I - K h e_p': rows (1 - kp h, 0) and (-ko h, 1); P = A P A' + K r K'
            a = 1.0 - kp * h
            b = -ko * h
            ap_pp, ap_po = a * ppp, a * ppo
            ap_op, ap_oo = b * ppp + pop, b * ppo + poo
            P[p, p] = ap_pp * a + kp * rr * kp
            P[p, o] = ap_pp * b + ap_po + kp * rr * ko
            P[o, p] = ap_op * a + ko * rr * kp
            P[o, o] = ap_op * b + ap_oo + ko * rr * ko
        else:
            P[p, p] = ppp - kp * S * kp
            P[p, o] = ppo - kp * S * ko
            P[o, p] = pop - ko * S * kp
            P[o, o] = poo - ko * S * ko
    return OK


@kernel
def batch_predict_kernel(X, P, F, Q):
    """Predict every track: ``X[n] <- F X[n]``, ``P[n] <- F P[n] F' + Q[n]`` (Q (1, dx, dx)
    shared, or one per track).

    Tracks whose P and Q respect F's groups (:func:`state_groups`; true of the box models with
    their published noise) take the per-axis path, the others the dense one.
    """
    if X.shape[0] == 0:
        return
    dx = X.shape[1]
    owner, n_groups = state_groups(F)
    members, count = group_members(owner, n_groups)
    zero = np.zeros(dx)
    v, FP, FPF, _, _, _ = _views(np.empty(workspace_size(dx, 0)), dx, 0)
    shared = Q.shape[0] == 1
    for n in range(X.shape[0]):
        Qn = Q[0] if shared else Q[n]
        if n_groups > 0 and _respects(P[n], owner) and _respects(Qn, owner):
            predict_axes(X[n], P[n], F, Qn, members, count)
        else:
            predict_one(X[n], P[n], F, Qn, 1.0, zero, v, FP, FPF)


@kernel
def batch_update_kernel(X, P, Z, H, R, joseph, F, status):
    """Update every track ``n`` with ``Z[n]``; rows of Z holding a NaN are skipped (no update).

    Tracks whose P respects F's groups, with a diagonal R and an H reading one state per group,
    take the per-axis path, the others the dense one.
    """
    if X.shape[0] == 0:
        return
    dz, dx = H.shape
    owner, n_groups = state_groups(F)
    state, row, per_group = measured_state(owner, n_groups, H)
    if not per_group:
        n_groups = 0
    members, count = group_members(owner, n_groups)
    y = np.empty(dz)
    S = np.empty((dz, dz))
    L = np.empty((dz, dz))
    K = np.empty((dx, dz))
    _, A, AP, APA, PHT, KR = _views(np.empty(workspace_size(dx, dz)), dx, dz)
    shared = R.shape[0] == 1
    for n in range(X.shape[0]):
        Rn = R[0] if shared else R[n]
        skip = False
        for i in range(dz):
            if np.isnan(Z[n, i]):
                skip = True
        if skip:
            status[n] = OK
        elif n_groups > 0 and _respects(P[n], owner) and _diagonal(Rn):
            status[n] = update_axes(X[n], P[n], Z[n], H, Rn, joseph, members, count, state, row)
        else:
            status[n] = update_one(X[n], P[n], Z[n], H, Rn, joseph, y, S, L, K, A, AP, APA, PHT, KR)


@kernel
def predict_single(x, P, F, Q, alpha_sq, Bu, ws):
    """:func:`predict_one` with its scratch carved from the flat buffer ``ws``."""
    dx = x.shape[0]
    v, FP, FPF, _, _, _ = _views(ws, dx, 0)
    predict_one(x, P, F, Q, alpha_sq, Bu, v, FP, FPF)


@kernel
def update_single(x, P, z, H, R, joseph, y, S, L, K, ws):
    """:func:`update_one` with its scratch carved from the flat buffer ``ws``."""
    dz, dx = H.shape
    _, A, AP, APA, PHT, KR = _views(ws, dx, dz)
    return update_one(x, P, z, H, R, joseph, y, S, L, K, A, AP, APA, PHT, KR)


@kernel
def batch_project_kernel(X, P, H, R, Zp, S):
    """Measurement-space mean ``H x`` and covariance ``H P H' + R`` of every track (R (1, dz, dz)
    shared, or one per track)."""
    dz, dx = H.shape
    PHT = np.empty((dx, dz))
    shared = R.shape[0] == 1
    for n in range(X.shape[0]):
        for i in range(dz):
            acc = 0.0
            for k in range(dx):
                acc += H[i, k] * X[n, k]
            Zp[n, i] = acc
        matmul_t(P[n], H, PHT)
        matmul(H, PHT, S[n])
        S[n] += R[0] if shared else R[n]


@kernel
def mahalanobis_sq_kernel(X, P, H, R, Z, out):
    """Squared Mahalanobis distance of every measurement ``Z[m]`` to every track ``n``,
    through the Cholesky factor of the projected covariance (as DeepSORT's gating computes it).
    A track whose projected covariance is not positive definite gets +inf."""
    dz = H.shape[0]
    n_tracks = X.shape[0]
    mean = np.empty((n_tracks, dz))
    S = np.empty((n_tracks, dz, dz))
    batch_project_kernel(X, P, H, R, mean, S)
    L = np.empty((dz, dz))
    w = np.empty(dz)
    for n in range(n_tracks):
        ok = cholesky(S[n], L)
        for m in range(Z.shape[0]):
            if not ok:
                out[n, m] = np.inf
                continue
            total = 0.0
            for i in range(dz):  # forward substitution L w = z - mean; distance |w|^2
                acc = Z[m, i] - mean[n, i]
                for k in range(i):
                    acc -= L[i, k] * w[k]
                w[i] = acc / L[i, i]
                total += w[i] * w[i]
            out[n, m] = total
