"""Ahead-of-time warm-up and inspection of Numba's on-disk cache.

Kernels are compiled on first call and cached on disk (``cache=True``). Numba writes the cache
next to each module (``__pycache__``) when that folder is writable, else in a per-user folder; the
environment variable ``NUMBA_CACHE_DIR`` moves it anywhere (set it before Python starts).
:func:`warmup` compiles the standard signatures of every kernel, so later processes load machine
code from the cache instead of compiling.
"""

from __future__ import annotations

import glob
import importlib
import os
import pkgutil
import time

__all__ = ["warmup", "cache_info", "clear_cache"]


def _import_all():
    import scratchvision

    for mod in pkgutil.walk_packages(scratchvision.__path__, "scratchvision."):
        importlib.import_module(mod.name)


def warmup(*, verbose: bool = False) -> dict[str, float]:
    """Compile (or load from the cache) every kernel for its standard signatures.

    Imports every module of the package, then runs each registered warm-up hook, which calls the
    module's public functions on tiny inputs of the standard dtypes.

    Returns
    -------
    dict
        Seconds spent per hook, by hook name.
    """
    from ._jit import registered_warmups

    _import_all()
    times = {}
    for name, hook in registered_warmups().items():
        t0 = time.perf_counter()
        hook()
        times[name] = time.perf_counter() - t0
        if verbose:
            print(f"{times[name]:8.2f} s  {name}")
    return times


def _cache_files():
    import scratchvision

    if os.environ.get("NUMBA_CACHE_DIR"):
        roots = [os.environ["NUMBA_CACHE_DIR"]]
    else:
        from numba.misc.appdirs import AppDirs

        roots = [os.path.dirname(scratchvision.__file__),
                 AppDirs(appname="numba", appauthor=False).user_cache_dir]
    files = set()
    for root in roots:
        for ext in ("nbi", "nbc"):
            files.update(f for f in glob.glob(os.path.join(root, "**", f"*.{ext}"), recursive=True)
                         if os.path.basename(f).split(".")[0] in _module_stems())
    return sorted(files)


def _module_stems():
    import scratchvision

    stems = set()
    for mod in pkgutil.walk_packages(scratchvision.__path__, "scratchvision."):
        stems.add(mod.name.rsplit(".", 1)[-1])
    return stems


def cache_info() -> dict:
    """Where the cache is and what it holds: ``{"cache_dir", "files", "bytes"}``."""
    files = _cache_files()
    return {
        "cache_dir": os.environ.get("NUMBA_CACHE_DIR") or "(next to each module, in __pycache__)",
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
    }


def clear_cache() -> int:
    """Delete scratchvision's cached kernels; returns the number of files removed."""
    files = _cache_files()
    for f in files:
        os.remove(f)
    return len(files)
