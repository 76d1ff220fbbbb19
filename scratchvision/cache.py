"""Ahead-of-time warm-up and inspection of Numba's on-disk cache.

Kernels are compiled on first call and cached on disk (``cache=True``). Numba writes the cache
next to each module (``__pycache__``) when that folder is writable, else in a per-user folder; the
environment variable ``NUMBA_CACHE_DIR`` moves it anywhere (set it before Python starts).
:func:`warmup` compiles the standard signatures of every kernel, so later processes load machine
code from the cache instead of compiling.
"""

from __future__ import annotations

import contextlib
import glob
import importlib
import os
import pkgutil
import sys
import time

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["warmup", "cache_info", "clear_cache"]
__all__ += ["first_run", "mark_warm"]


def _import_all():
    import scratchvision

    for mod in pkgutil.walk_packages(scratchvision.__path__, "scratchvision."):
        importlib.import_module(mod.name)


def warmup(*, verbose: bool = False) -> dict[str, float]:
    """Compile (or load from the cache) every kernel for its standard signatures.

    Imports every module of the package, then runs each registered warm-up hook, which calls the
    module's public functions on tiny inputs of the standard dtypes.

    Parameters
    ----------
    verbose : bool
        Print each hook's time.

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
    """Where the cache is and what it holds: ``{"cache_dir", "files", "bytes"}``.

    Returns
    -------
    dict
        ``"cache_dir"`` (str), ``"files"`` (int), ``"bytes"`` (int).

    Examples
    --------
    >>> from scratchvision import cache_info
    >>> sorted(cache_info())
    ['bytes', 'cache_dir', 'files']
    """
    files = _cache_files()
    return {
        "cache_dir": os.environ.get("NUMBA_CACHE_DIR") or "(next to each module, in __pycache__)",
        "files": len(files),
        "bytes": sum(os.path.getsize(f) for f in files),
    }


def clear_cache() -> int:
    """Delete scratchvision's cached kernels (and the first-run marks of :func:`first_run`);
    returns the number of kernel files removed.

    Returns
    -------
    int
        Kernel files removed.
    """
    files = _cache_files()
    for f in files:
        os.remove(f)
    for f in glob.glob(os.path.join(_marker_dir(), "scratchvision-ran-*")):
        os.remove(f)
    return len(files)


def _marker_dir() -> str:
    """Where :func:`first_run` keeps its marks: beside the kernels (``NUMBA_CACHE_DIR``, else the
    package's ``__pycache__`` when writable, else Numba's per-user cache folder)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return os.environ["NUMBA_CACHE_DIR"]
    import scratchvision

    here = os.path.join(os.path.dirname(scratchvision.__file__), "__pycache__")
    if os.access(os.path.dirname(here), os.W_OK):
        return here
    from numba.misc.appdirs import AppDirs

    return AppDirs(appname="numba", appauthor=False).user_cache_dir


@contextlib.contextmanager
def first_run(command: str, seconds: float, stream=None):
    """Around a command's work: when it has not yet completed with this version of the package's
    code (kernels are cached per version), say once that kernels compile first (``about
    seconds``), and remember when it completes. Yields True on a first run.

    Parameters
    ----------
    command : str
        The command's name, as the marks record it.
    seconds : float
        About how long the first run compiles, said in the notice.
    stream : file-like, optional
        Where the notice goes (stderr).

    Yields
    ------
    bool
        True on a first run.

    Examples
    --------
    >>> with first_run("my-job", 10) as cold:  # doctest: +SKIP
    ...     run_the_job()
    """
    marker = _marker(command)
    cold = not os.path.exists(marker)
    if cold:
        print(f"scratchvision {command}: compiling kernels on first use, about {seconds:.0f} s on 2 cores; "
              f"cached afterwards ('scratchvision warmup' compiles them all at once)", file=stream or sys.stderr,
              flush=True)
    yield cold
    if cold:
        mark_warm([command])


def _marker(command):
    from ._jit import package_source_hash

    return os.path.join(_marker_dir(), f"scratchvision-ran-{package_source_hash().hex()[:16]}-{command}")


def mark_warm(commands) -> None:
    """Record that ``commands`` have their kernels cached (after :func:`warmup`), so that
    :func:`first_run` does not announce a compilation for them.

    Parameters
    ----------
    commands : iterable of str
        The commands' names.
    """
    for command in commands:
        with contextlib.suppress(OSError):
            os.makedirs(_marker_dir(), exist_ok=True)
            open(_marker(command), "w").close()
