"""Optimal assignment: the linear sum assignment problem by shortest augmenting paths.

Given a cost matrix C (n rows, m columns), find the one-to-one pairing of min(n, m) rows and
columns with the smallest total cost. The solver is the shortest augmenting path method of
Jonker and Volgenant (1987) in the rectangular form of Crouse (2016), the algorithm SciPy's
``linear_sum_assignment`` implements:

* keep dual prices ``u`` (rows) and ``v`` (columns) such that every reduced cost
  ``C[i, j] - u[i] - v[j]`` is >= 0 and is 0 on the assigned pairs;
* add the rows one at a time: from the new row, grow a Dijkstra shortest-path tree over the
  reduced costs, alternating unassigned and assigned edges, until it reaches a free column (the
  sink);
* raise the prices along the tree so reduced costs stay >= 0, then flip the assignments along
  the path: one more row is assigned, and the assignment stays optimal for the rows so far.

For square matrices of finite costs the shortest-path phase is preceded by Jonker and
Volgenant's initialisation (column reduction, reduction transfer, augmenting row reduction),
which assigns most rows cheaply; the shortest paths then only finish the job. The total cost is
always the optimum; where several assignments share it (ties), the pairs may differ from
SciPy's. ``+inf`` marks forbidden pairs.

References
----------
R. Jonker, A. Volgenant. "A shortest augmenting path algorithm for dense and sparse linear
assignment problems." Computing 38, 1987. doi:10.1007/BF02278710
D. F. Crouse. "On implementing 2D rectangular assignment algorithms." IEEE Trans. Aerospace and
Electronic Systems 52(4), 2016. doi:10.1109/TAES.2016.140952
"""

from __future__ import annotations

import numpy as np

from .._jit import kernel, warmup_hook
from .._validate import as_array

__all__ = ["linear_sum_assignment", "lapjv", "greedy_assignment", "lsa_kernel", "lapjv_kernel",
           "greedy_kernel"]

OK, INVALID, INFEASIBLE = 0, 1, 2


@kernel
def _jv_initialise(cost, col4row, row4col, u, v, free_rows):
    """Jonker-Volgenant's cheap start for a square matrix of finite costs.

    Column reduction (each column's price is its smallest cost; its cheapest row takes it if
    still free), reduction transfer (a row holding one column passes its slack to that column's
    price) and two rounds of augmenting row reduction (a free row takes its cheapest column,
    lowering that column's price to its second-cheapest, and evicts the column's holder, which
    is retried at once). Every assigned row ends on a column of least reduced cost
    ``cost[i, j] - v[j]``, so the prices are valid duals for the shortest-path phase.

    Returns the number of rows left free (listed first in ``free_rows``).
    """
    n = cost.shape[0]
    times_min = np.zeros(n, np.int64)
    for j in range(n - 1, -1, -1):
        i_min = 0
        c_min = cost[0, j]
        for i in range(1, n):
            if cost[i, j] < c_min:
                c_min = cost[i, j]
                i_min = i
        v[j] = c_min
        times_min[i_min] += 1
        if times_min[i_min] == 1:
            col4row[i_min] = j
            row4col[j] = i_min
    n_free = 0
    for i in range(n):
        if times_min[i] == 0:
            free_rows[n_free] = i
            n_free += 1
        elif times_min[i] == 1:
            j1 = col4row[i]
            slack = np.inf
            for j in range(n):
                if j != j1 and cost[i, j] - v[j] < slack:
                    slack = cost[i, j] - v[j]
            if slack < np.inf:
                v[j1] -= slack
    for _ in range(2):
        k = 0
        todo = n_free
        n_free = 0
        # Each eviction lowers a price, which bounds the rounds in exact arithmetic; in floating
        # point the lowering can vanish or crawl, so evictions are also capped (the shortest-path
        # phase finishes whatever is left).
        evictions = 0
        while k < todo:
            i = free_rows[k]
            k += 1
            if evictions >= n * todo:  # leave the rest to the shortest-path phase
                free_rows[n_free] = i
                n_free += 1
                continue
            u1 = cost[i, 0] - v[0]
            j1 = 0
            u2 = np.inf
            j2 = -1
            for j in range(1, n):
                h = cost[i, j] - v[j]
                if h < u2:
                    if h >= u1:
                        u2 = h
                        j2 = j
                    else:
                        u2 = u1
                        u1 = h
                        j2 = j1
                        j1 = j
            i0 = row4col[j1]
            lowered = v[j1] - (u2 - u1)
            lowers = lowered < v[j1]  # False on a tie, and when rounding swallows the step
            if lowers:
                v[j1] = lowered
            elif u1 == u2 and i0 >= 0 and j2 >= 0:
                j1 = j2  # an equally cheap column: take that one instead
                i0 = row4col[j1]
            if i0 >= 0:
                col4row[i0] = -1
                evictions += 1
                if lowers:  # retry the evicted row at once
                    k -= 1
                    free_rows[k] = i0
                else:
                    free_rows[n_free] = i0
                    n_free += 1
            col4row[i] = j1
            row4col[j1] = i
    for i in range(n):
        if col4row[i] >= 0:
            u[i] = cost[i, col4row[i]] - v[col4row[i]]
    return n_free


@kernel
def _augment_rows(cost, col4row, row4col, u, v, rows_to_add):
    """Assign each row of ``rows_to_add`` by one shortest augmenting path (Crouse 2016).

    ``u``, ``v`` must be valid duals for the rows already assigned. Returns OK or INFEASIBLE.
    """
    nr, nc = cost.shape
    shortest = np.empty(nc)
    path = np.full(nc, -1, np.int64)
    in_rows = np.zeros(nr, np.bool_)
    in_cols = np.zeros(nc, np.bool_)
    for cur_row in rows_to_add:
        # Dijkstra over reduced costs from cur_row until a free column is reached.
        min_val = 0.0
        i = cur_row
        in_rows[:] = False
        in_cols[:] = False
        shortest[:] = np.inf
        sink = -1
        while sink == -1:
            j_low = -1
            lowest = np.inf
            in_rows[i] = True
            base = min_val - u[i]
            for j in range(nc):
                if in_cols[j]:
                    continue
                r = base + cost[i, j] - v[j]
                if r < shortest[j]:
                    path[j] = i
                    shortest[j] = r
                # Ties: prefer a free column, which ends the search sooner.
                if shortest[j] < lowest or (shortest[j] == lowest and row4col[j] == -1):
                    lowest = shortest[j]
                    j_low = j
            min_val = lowest
            if min_val == np.inf:  # every remaining column is forbidden from the tree
                return INFEASIBLE
            j = j_low
            if row4col[j] == -1:
                sink = j
            else:
                i = row4col[j]
            in_cols[j] = True
        # Update the dual prices of the rows and columns in the tree.
        u[cur_row] += min_val
        for i in range(nr):
            if in_rows[i] and i != cur_row:
                u[i] += min_val - shortest[col4row[i]]
        for j in range(nc):
            if in_cols[j]:
                v[j] -= min_val - shortest[j]
        # Flip the assignments along the path back from the sink.
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            j, col4row[i] = col4row[i], j
            if i == cur_row:
                break
    return OK


@kernel
def lsa_kernel(cost, maximize, rows, cols):
    """Kernel-level linear sum assignment, callable from other kernels.

    Parameters
    ----------
    cost : float64[:, :]
    maximize : bool
    rows, cols : int64[:], length min(n, m)
        Filled with the pairs, rows sorted.

    Returns
    -------
    int
        0 (OK), 1 (NaN or -inf entries; +inf with ``maximize``) or 2 (infeasible).
    """
    nr, nc = cost.shape
    finite = True
    for i in range(nr):
        for j in range(nc):
            c = cost[i, j]
            if np.isnan(c) or (c == -np.inf if not maximize else c == np.inf):
                return INVALID
            if not np.isfinite(c):
                finite = False
    transpose = nc < nr
    if transpose or maximize:
        work = cost.T.copy() if transpose else cost.copy()
        if maximize:
            work = -work
    else:
        work = cost
    n, m = work.shape
    col4row = np.full(n, -1, np.int64)
    row4col = np.full(m, -1, np.int64)
    u = np.zeros(n)
    v = np.zeros(m)
    pending = np.arange(n)
    if n == m and finite and n > 1:
        pending = pending[:_jv_initialise(work, col4row, row4col, u, v, pending)]
    status = _augment_rows(work, col4row, row4col, u, v, pending)
    if status != OK:
        return status
    if not transpose:
        for i in range(n):
            rows[i] = i
            cols[i] = col4row[i]
    else:
        # Rows of the solved problem are the original columns: sort the pairs by original row.
        order = np.argsort(col4row)
        for k in range(n):
            rows[k] = col4row[order[k]]
            cols[k] = order[k]
    return OK


def _as_cost(cost_matrix, name="cost_matrix"):
    if (type(cost_matrix) is np.ndarray and cost_matrix.ndim == 2 and cost_matrix.dtype == np.float64
            and cost_matrix.flags.c_contiguous):
        return cost_matrix  # the common case, checked in a few hundred nanoseconds
    c = as_array(cost_matrix, name)
    if c.ndim != 2:  # SciPy's words first, so code that matches them keeps working
        raise ValueError(f"expected a matrix (2-D array), got a {c.ndim} array ({name} has shape {c.shape})")
    return np.ascontiguousarray(c, dtype=np.float64)


def linear_sum_assignment(cost_matrix, maximize: bool = False):
    """Solve the linear sum assignment problem, as ``scipy.optimize.linear_sum_assignment``.

    Parameters
    ----------
    cost_matrix : array-like, (n, m)
        Costs; ``+inf`` (``-inf`` with ``maximize``) marks a forbidden pair.
    maximize : bool
        Maximise the total instead.

    Returns
    -------
    row_ind, col_ind : ndarray of int64, (min(n, m),)
        The chosen pairs, ``row_ind`` sorted; ``cost_matrix[row_ind, col_ind].sum()`` is optimal.

    Raises
    ------
    ValueError
        For a matrix that is not 2-D, holds NaN or -inf (+inf with ``maximize``), or has no
        complete assignment avoiding the forbidden pairs; the messages start with SciPy's
        ("expected a matrix (2-D array)", "matrix contains invalid numeric entries", "cost matrix
        is infeasible").

    Examples
    --------
    >>> linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    (array([0, 1, 2]), array([1, 0, 2]))
    """
    c = _as_cost(cost_matrix)
    k = min(c.shape)
    rows = np.empty(k, np.int64)
    cols = np.empty(k, np.int64)
    status = lsa_kernel(c, bool(maximize), rows, cols)
    if status == INVALID:
        raise ValueError("matrix contains invalid numeric entries (cost_matrix holds NaN, or -inf when "
                         "minimising, +inf when maximising)")
    if status == INFEASIBLE:
        raise ValueError("cost matrix is infeasible (cost_matrix: no complete assignment avoids the forbidden "
                         "(inf) pairs)")
    return rows, cols


@kernel
def lapjv_kernel(cost, extend_cost, cost_limit):
    """Kernel-level :func:`lapjv`: returns ``(total, x, y, status)``."""
    n, m = cost.shape
    x = np.full(n, -1, np.int64)
    y = np.full(m, -1, np.int64)
    if cost_limit < np.inf:
        # Slack rows and columns at cost_limit / 2: leaving a row and a column unmatched costs
        # cost_limit, so a pair is matched only when it costs less than that.
        size = n + m
        work = np.full((size, size), cost_limit / 2.0)
        work[n:, m:] = 0.0
        work[:n, :m] = cost
    elif n != m and extend_cost:
        size = max(n, m)
        work = np.zeros((size, size))
        work[:n, :m] = cost
    else:
        work = cost.copy()
    rows = np.empty(min(work.shape), np.int64)
    cols = np.empty(min(work.shape), np.int64)
    status = lsa_kernel(work, False, rows, cols)
    if status != OK:
        return 0.0, x, y, status
    total = 0.0
    for k in range(len(rows)):
        i, j = rows[k], cols[k]
        if i < n and j < m:
            x[i] = j
            y[j] = i
            total += cost[i, j]
    return total, x, y, OK


def lapjv(cost, extend_cost: bool = False, cost_limit: float = np.inf, return_cost: bool = True):
    """Thresholded assignment with the interface of ``lap.lapjv``, as ByteTrack calls it.

    Parameters
    ----------
    cost : array-like, (n, m)
    extend_cost : bool
        Allow a rectangular matrix (it is padded with zero-cost dummy rows or columns). Without
        it, like lap, a non-square matrix is refused unless ``cost_limit`` is finite.
    cost_limit : float
        A pair costing more than ``cost_limit`` is never matched: the matrix is augmented to
        (n + m) x (n + m) with slack entries of ``cost_limit / 2`` (and zeros between slacks),
        exactly as lap does, and solved optimally.
    return_cost : bool
        Return ``total`` first (lap's default), or only ``x, y``.

    Returns
    -------
    total : float
        The summed cost of the matched pairs; ``inf`` when no complete assignment avoids the
        forbidden (``inf``) pairs, as lap returns. ``x`` and ``y`` are then a complete assignment
        with as few forbidden pairs as possible (lap returns one of its own choosing among the
        infeasible ones, so those may differ). NaN or ``-inf`` entries are refused (lap returns
        an arbitrary result for them).
    x : ndarray of int64, (n,)
        The column matched to each row, -1 if none.
    y : ndarray of int64, (m,)
        The row matched to each column, -1 if none.

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision import lapjv
    >>> cost = np.array([[0.1, 0.9], [0.8, 0.95]])
    >>> total, x, y = lapjv(cost, extend_cost=True, cost_limit=0.5)  # lap's call, as ByteTrack makes it
    >>> x.tolist(), y.tolist()  # row 1 stays unassigned: every pair of it costs more than the limit
    ([0, -1], [0, -1])
    """
    c = _as_cost(cost, "cost")
    if not (isinstance(cost_limit, (int, float, np.floating, np.integer)) and cost_limit == cost_limit):
        raise ValueError(f"cost_limit must be a number, got {cost_limit!r}")
    if c.shape[0] != c.shape[1] and not extend_cost and cost_limit == np.inf:
        raise ValueError(f"cost must be square unless extend_cost=True or cost_limit is finite, got {c.shape}")
    total, x, y, status = lapjv_kernel(c, bool(extend_cost), float(cost_limit))
    if status == INVALID:
        raise ValueError("cost contains invalid numeric entries (NaN or -inf)")
    if status == INFEASIBLE:
        # the fewest forbidden pairs: each costs more than any assignment of finite entries
        finite = np.abs(c[np.isfinite(c)])
        penalty = (finite.max() if finite.size else 0.0) * (sum(c.shape) + 1) + 1.0
        _, x, y, _ = lapjv_kernel(np.where(np.isinf(c), penalty, c), bool(extend_cost), float(cost_limit))
        total = np.inf
    return (total, x, y) if return_cost else (x, y)


@kernel
def greedy_kernel(cost, cost_limit):
    """Kernel-level :func:`greedy_assignment`: returns ``(rows, cols)``."""
    n, m = cost.shape
    flat = cost.ravel()
    order = np.argsort(flat, kind="mergesort")
    row_used = np.zeros(n, np.bool_)
    col_used = np.zeros(m, np.bool_)
    rows = np.empty(min(n, m), np.int64)
    cols = np.empty(min(n, m), np.int64)
    k = 0
    for idx in order:
        c = flat[idx]
        if not c <= cost_limit:  # also stops at NaN and +inf
            break
        i, j = idx // m, idx % m
        if not row_used[i] and not col_used[j]:
            row_used[i] = True
            col_used[j] = True
            rows[k] = i
            cols[k] = j
            k += 1
    order_rows = np.argsort(rows[:k])
    return rows[:k][order_rows], cols[:k][order_rows]


def greedy_assignment(cost, cost_limit: float = np.inf):
    """Greedy matching: repeatedly take the cheapest pair whose row and column are both free.

    Not optimal (compare with :func:`linear_sum_assignment`), but what several trackers and
    detectors use for speed. Pairs costing more than ``cost_limit`` (and +inf pairs) are never
    taken; equal costs are taken in row-major order.

    Parameters
    ----------
    cost : array-like (N, M)
    cost_limit : float
        Pairs costing more are never taken.

    Returns
    -------
    rows, cols : ndarray of int64
        The pairs, sorted by row.
    """
    c = _as_cost(cost, "cost")
    if np.isnan(c).any() or (c == -np.inf).any():
        raise ValueError("cost contains invalid numeric entries (NaN or -inf)")
    return greedy_kernel(c, float(cost_limit))


@warmup_hook
def _warmup():
    c = np.array([[1.0, 2.0], [2.0, 1.0], [0.5, 3.0]])
    linear_sum_assignment(c)
    lapjv(c, extend_cost=True, cost_limit=1.5)
    greedy_assignment(c)
