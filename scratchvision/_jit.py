"""The single place where scratchvision's Numba kernels are configured.

Every kernel in the package is decorated with :func:`kernel`, so the compilation options are the
same everywhere:

* ``cache=True``: machine code is written to Numba's on-disk cache (``__pycache__`` next to the
  module, or ``NUMBA_CACHE_DIR`` when that environment variable is set), so only the very first call
  on a machine pays the compile time;
* ``nogil=True``: kernels release the GIL, so Python threads can run them side by side;
* ``error_model="numpy"``: a division by zero gives inf/nan as in NumPy instead of raising (inputs
  are validated in Python before a kernel is called, so kernels never raise);
* no eager signatures: nothing is compiled at import time; a kernel compiles on its first call
  (or in :func:`scratchvision.warmup`).

``fastmath`` is off unless a kernel asks for it, because the parity tests compare against OpenCV
to the last bit in places; when on, it is the *safe subset* :data:`FASTMATH_SAFE`, which keeps
NaN and inf semantics intact (no ``nnan`` / ``ninf``).

Warm-up hooks: a module registers a small function with :func:`warmup_hook` that calls its public
functions on tiny inputs of the standard dtypes; :func:`scratchvision.warmup` runs them all.

The cache is stamped with the whole package's source: Numba stamps each kernel with the hash of
its own file, but a kernel carries the machine code of the kernels it calls from other modules,
so after an edit to ``boxes.py`` a tracker kernel from the cache would run the old IoU (or crash
on a layout that moved). :class:`_PackageStamp` makes any change to any module of the package
invalidate every cached kernel.
"""

from __future__ import annotations

import functools
import hashlib
import os

import numba
from numba.core import caching

__all__ = ["FASTMATH_SAFE", "kernel", "warmup_hook", "registered_warmups"]

#: LLVM fast-math flags that never change NaN/inf behaviour.
FASTMATH_SAFE = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

_WARMUPS: dict[str, object] = {}


def kernel(func=None, *, parallel: bool = False, fastmath: bool = False, inline: bool = False):
    """Decorate a Numba kernel with the package-wide options.

    Parameters
    ----------
    func : callable, optional
        The Python function to compile. When omitted, a decorator is returned.
    parallel : bool, default False
        Compile with ``parallel=True`` so ``numba.prange`` loops run on Numba's thread pool
        (``numba.set_num_threads`` controls its size).
    fastmath : bool, default False
        Use the safe fast-math subset :data:`FASTMATH_SAFE`.
    inline : bool, default False
        Inline the kernel into its callers in Numba's IR (``inline="always"``), for a small
        helper called from an inner loop: LLVM does not inline a call to another kernel, and
        the call keeps the loop from being vectorised.

    Returns
    -------
    numba.core.registry.CPUDispatcher or callable
    """
    options = dict(
        cache=True,
        nogil=True,
        error_model="numpy",
        parallel=parallel,
        fastmath=set(FASTMATH_SAFE) if fastmath else False,
        inline="always" if inline else "never",
    )
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def package_source_hash() -> bytes:
    """SHA-256 of every Python module of the package (paths and contents), read once per process."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(_PACKAGE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(root, name)
            digest.update(os.path.relpath(path, _PACKAGE_DIR).encode())
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.digest()


class _PackageStamp:
    """A Numba cache locator mixin for this package's kernels: the stamp that validates a cached
    kernel is the hash of the whole package's source (:func:`package_source_hash`), not of the
    kernel's own file; other functions are left to Numba's own locators."""

    def get_source_stamp(self):
        return package_source_hash()

    @classmethod
    def from_function(cls, py_func, py_file):
        if not os.path.abspath(py_file).startswith(_PACKAGE_DIR + os.sep):
            return None
        return super().from_function(py_func, py_file)


def _numba_name(name):
    """A class of ``numba.core.caching`` by its public name, or by the private one older Numba
    releases used."""
    return getattr(caching, name, None) or getattr(caching, "_" + name)


def _install_package_locators():
    """Put Numba's locators for a user cache folder, the source tree and the per-user folder (in
    its order of preference), each stamped by :class:`_PackageStamp`, ahead of Numba's own."""
    bases = [_numba_name(n) for n in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]
    locators = [type(f"Package{base.__name__.lstrip('_')}", (_PackageStamp, base), {}) for base in bases]
    _numba_name("CacheImpl")._locator_classes[:0] = locators


_install_package_locators()


def warmup_hook(func):
    """Register ``func`` (no arguments) as the warm-up of its module's kernels."""
    _WARMUPS[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def registered_warmups() -> dict[str, object]:
    """Return the registered warm-up functions, by qualified name."""
    return dict(_WARMUPS)
