"""Linear sum assignment against SciPy and lap, from Python and from inside Numba."""

from __future__ import annotations

import numpy as np
from common import compile_times, measure, set_threads

TITLE = "Assignment: linear_sum_assignment vs scipy.optimize and lap.lapjv"
SIZES = [5, 10, 20, 50, 100, 500, 1000, 2000]


def _inner_loop():
    from scratchvision._jit import kernel
    from scratchvision.assignment.lsa import lsa_kernel

    @kernel
    def solve_many(cost, repeats):
        k = min(cost.shape)
        rows = np.empty(k, np.int64)
        cols = np.empty(k, np.int64)
        status = 0
        for _ in range(repeats):
            status += lsa_kernel(cost, False, rows, cols)
        return status

    return solve_many


def run(threads, repeat):
    import lap
    from scipy.optimize import linear_sum_assignment as scipy_lsa

    from scratchvision import linear_sum_assignment

    solve_many = _inner_loop()
    rows = []
    rng = np.random.default_rng(0)
    set_threads(1)  # the solvers are single-threaded
    for n in SIZES:
        cost = rng.random((n, n))
        inner = max(1, int(2e5 / n**2))  # batch tiny problems so the clock resolves them
        reps = repeat if n <= 500 else max(3, repeat // 3)

        def batched(fn):
            return lambda: [fn() for _ in range(inner)]

        ours = measure(batched(lambda: linear_sum_assignment(cost)), repeat=reps)
        kernel = measure(lambda: solve_many(cost, inner), repeat=reps)
        sp = measure(batched(lambda: scipy_lsa(cost)), repeat=reps)
        lp = measure(batched(lambda: lap.lapjv(cost)), repeat=reps)
        to_us = 1e3 / inner
        o, k, s, la = (m["median_ms"] * to_us for m in (ours, kernel, sp, lp))
        assert np.isclose(cost[linear_sum_assignment(cost)].sum(), cost[scipy_lsa(cost)].sum())
        rows.append({"n": f"{n}x{n}", "ours (us)": o, "ours in numba (us)": k, "scipy (us)": s,
                     "lap (us)": la, "ours/scipy": o / s, "ours/lap": o / la,
                     "numba/best": k / min(s, la)})
    c = compile_times("import numpy as np, scratchvision as sv\nc = np.random.rand(4, 4)",
                      "sv.linear_sum_assignment(c)")
    notes = (f"Uniform random costs in [0, 1); every solver reached the same optimum. 'ours in numba' "
             f"calls the kernel in a loop inside a Numba function (how the trackers call it). First "
             f"call: {c['cold_s']:.2f} s cold (JIT), {c['cached_s']:.3f} s from the cache. "
             f"Threads: {threads} requested; all three solvers are single-threaded.")
    return rows, notes
