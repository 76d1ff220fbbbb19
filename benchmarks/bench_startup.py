"""Start-up costs: import time, JIT compile of every kernel (cold) and loading them from the cache."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

TITLE = "Start-up: import, cold JIT compile and cached first call"


def _python(code, env=None):
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def run(threads, repeat):
    imports = [_python("import time; t0 = time.perf_counter(); import numpy, numba; t1 = time.perf_counter()\n"
                       "import scratchvision, scratchvision.data, scratchvision.flow, scratchvision.io, "
                       "scratchvision.viz\nprint(t1 - t0, time.perf_counter() - t1)") for _ in range(5)]
    base = min(float(a) for a, _ in imports)
    extra = min(float(b) for _, b in imports)
    rows = [{"case": "import numpy + numba (s)", "seconds": base},
            {"case": "import scratchvision and its subpackages, beyond that (s)", "seconds": extra}]
    warm = "import time, scratchvision as sv; t0 = time.perf_counter(); sv.warmup(); print(time.perf_counter() - t0)"
    demo = ("import time, tempfile, scratchvision.demo as d; t0 = time.perf_counter(); "
            "d.run_demo(tempfile.mkdtemp()); print(time.perf_counter() - t0)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        cold = float(_python(warm, env)[-1])
        cached = float(_python(warm, env)[-1])
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        demo_cold = float(_python(demo, env)[-1])
        demo_cached = float(_python(demo, env)[-1])
    rows += [{"case": "scratchvision.warmup(), empty cache: compiles every kernel (s)", "seconds": cold},
             {"case": "scratchvision.warmup(), cache filled: loads every kernel (s)", "seconds": cached},
             {"case": "scratchvision demo, empty cache (s)", "seconds": demo_cold},
             {"case": "scratchvision demo, cache filled (s)", "seconds": demo_cached}]
    return rows, "Best of 5 fresh interpreters for imports; one fresh interpreter per cache state otherwise."
