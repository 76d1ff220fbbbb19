"""The benchmark harness: timing, thread control, cold-compile measurement, metadata, results.

Method (after kornia's benchmark contract): ours and the reference run in one process on the same
inputs with the same thread count (``numba.set_num_threads`` and ``cv2.setNumThreads`` both set);
each measurement is the median (and IQR) of ``repeat`` timed runs after warm-up calls, so JIT
compilation is never timed with the kernel; the compile time is measured separately, in fresh
interpreters with an empty ``NUMBA_CACHE_DIR`` (cold) and then with that cache filled (cached).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
RESULTS_MD = HERE / "RESULTS.md"


def pin_malloc() -> bool:
    """Fix glibc's malloc thresholds (mmap 32 MiB, trim 128 MiB) for the whole process.

    By default glibc adapts its mmap threshold at run time, so the same cv2 call (or NumPy
    temporary) is sometimes served by fresh mmaps that page-fault on every call and sometimes by
    recycled heap: up to 3x on ``goodFeaturesToTrack`` and 10 % on Farneback
    (../shared/docs/opencv-flow-internals.md). Pinning makes both sides run under one setting.
    Returns False where glibc is not available.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        return bool(libc.mallopt(m_mmap_threshold, 32 << 20) and libc.mallopt(m_trim_threshold, 128 << 20))
    except (OSError, AttributeError):
        return False


def set_threads(n: int) -> None:
    """Give ours (Numba) and OpenCV the same thread count."""
    import numba

    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:
        pass


def measure(fn, *, repeat: int = 9, warmup: int = 2) -> dict:
    """Median and interquartile range of ``repeat`` timed calls of ``fn()``, in milliseconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    q1, med, q3 = np.percentile(times, [25, 50, 75])
    return {"median_ms": float(med), "iqr_ms": float(q3 - q1), "repeat": repeat}


def compile_times(setup: str, call: str) -> dict:
    """Seconds of the first ``call`` in a fresh interpreter, with an empty and then a warm cache.

    ``setup`` (imports, inputs) is run before the clock starts; the difference between the two
    numbers is the JIT compile time that ``scratchvision warmup`` (or the on-disk cache) saves.
    """
    code = (f"{setup}\nimport time\nt0 = time.perf_counter()\n{call}\n"
            "print(time.perf_counter() - t0)\n")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        runs = [float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                     text=True, check=True).stdout.split()[-1]) for _ in range(2)]
    return {"cold_s": runs[0], "cached_s": runs[1]}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def metadata() -> dict:
    """Machine, library versions, date."""
    import numba
    import scipy

    import scratchvision

    versions = {"python": platform.python_version(), "numpy": np.__version__, "numba": numba.__version__,
                "scipy": scipy.__version__, "scratchvision": scratchvision.__version__}
    try:
        import cv2

        versions["opencv"] = cv2.__version__
    except ImportError:
        pass
    return {
        "date": datetime.date.today().isoformat(),
        "machine": f"{_cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} {platform.machine()}",
        "versions": versions,
        "openblas_env": {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")},
    }


def save(name: str, title: str, rows: list[dict], notes: str = "") -> Path:
    """Write one benchmark's rows (with metadata) to results/<name>.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({"name": name, "title": title, "notes": notes, "meta": metadata(),
                                "rows": rows}, indent=1) + "\n")
    return path


def _fmt(v):
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def render_results() -> str:
    """RESULTS.md from every results/*.json: one table per benchmark, with its machine and date."""
    parts = ["# Benchmark results\n",
             "Written by `scratchvision bench` (benchmarks/run.py); see benchmarks/README.md for the method. "
             "Times in ms unless a column says otherwise; `ratio` = ours / reference "
             "(< 1 means ours is faster).\n"]
    for path in sorted(RESULTS_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        meta = data["meta"]
        versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        parts.append(f"\n## {data['title']}\n")
        parts.append(f"{meta['date']}; {meta['machine']}; {versions}.\n")
        if data.get("notes"):
            parts.append(data["notes"] + "\n")
        columns = list(dict.fromkeys(k for row in data["rows"] for k in row))
        parts.append("\n| " + " | ".join(columns) + " |")
        parts.append("|" + "---|" * len(columns))
        for row in data["rows"]:
            parts.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
        parts.append("")
    return "\n".join(parts) + "\n"
