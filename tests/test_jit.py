"""One JIT configuration for every kernel; warm-up; NUMBA_CACHE_DIR."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from numba.core.registry import CPUDispatcher

import scratchvision

PACKAGE = Path(scratchvision.__file__).parent


def _kernels():
    for m in pkgutil.walk_packages(scratchvision.__path__, "scratchvision."):
        mod = importlib.import_module(m.name)
        for name, obj in vars(mod).items():
            if isinstance(obj, CPUDispatcher) and obj.py_func.__module__ == m.name:
                yield f"{m.name}.{name}", obj


def test_every_kernel_uses_the_factory_options():
    kernels = dict(_kernels())
    assert kernels
    for name, k in kernels.items():
        assert type(k._cache).__name__ == "FunctionCache", name  # cache=True
        assert k.targetoptions["nogil"] is True, name
        assert k.targetoptions["error_model"] == "numpy", name


def test_every_cached_kernel_is_stamped_with_the_whole_package(tmp_path, monkeypatch):
    """A kernel inlines the kernels it calls from other modules, so its cache entry must go stale
    when any module changes, not only its own file."""
    from scratchvision import _jit

    stamp = _jit.package_source_hash()
    for name, k in _kernels():
        assert isinstance(k._cache._impl.locator, _jit._PackageStamp), name
        assert k._cache._impl.locator.get_source_stamp() == stamp, name
    copy = tmp_path / "scratchvision"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())

    def stamp_of(folder):
        monkeypatch.setattr(_jit, "_PACKAGE_DIR", str(folder))
        _jit.package_source_hash.cache_clear()
        try:
            return _jit.package_source_hash()
        finally:
            _jit.package_source_hash.cache_clear()

    assert stamp_of(copy) == stamp
    (copy / "boxes.py").write_text((copy / "boxes.py").read_text() + "\n# an edit\n")
    assert stamp_of(copy) != stamp


def test_no_direct_njit_or_fastmath_outside_the_factory():
    pattern = re.compile(r"numba\.(njit|jit)\b|@njit|fastmath\s*=\s*[{\[]")
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p.name != "_jit.py" and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.skipif(os.environ.get("CI") != "true",
                    reason="compiles every kernel from an empty cache (about 3 minutes): run once, in CI")
def test_warmup_compiles_everything_the_demo_runs(tmp_path):
    """A cold ``scratchvision warmup`` writes its machine code under NUMBA_CACHE_DIR, and a demo
    run in another process afterwards compiles nothing: it writes no cache file, so warmup
    covered every kernel and signature the demo calls (the trackers', the samplers'...)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-m", "scratchvision", "warmup"], env=env, capture_output=True, text=True,
                   check=True)
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.nb*")}
    assert any(p.suffix == ".nbi" for p in before), "no cache index written under NUMBA_CACHE_DIR"
    info = subprocess.run([sys.executable, "-c", "import scratchvision; print(scratchvision.cache_info()['files'])"],
                          env=env, capture_output=True, text=True, check=True)
    assert int(info.stdout) == len(before)
    demo = subprocess.run([sys.executable, "-m", "scratchvision", "demo", "--out", str(tmp_path / "demo"),
                           "--frames", "8"], env=env, capture_output=True, text=True, check=True)
    after = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").rglob("*.nb*")}
    written = sorted(str(p.relative_to(tmp_path)) for p in after if before.get(p) != after[p])
    assert written == [], f"kernels compiled by the demo after warmup: {written}"
    assert "compiling kernels" not in demo.stderr  # warmup marked the commands as compiled
