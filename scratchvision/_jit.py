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
"""

from __future__ import annotations

import numba

__all__ = ["FASTMATH_SAFE", "kernel", "warmup_hook", "registered_warmups"]

#: LLVM fast-math flags that never change NaN/inf behaviour.
FASTMATH_SAFE = frozenset({"nsz", "arcp", "contract", "afn", "reassoc"})

_WARMUPS: dict[str, object] = {}


def kernel(func=None, *, parallel: bool = False, fastmath: bool = False):
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
    )
    if func is None:
        return lambda f: numba.njit(**options)(f)
    return numba.njit(**options)(func)


def warmup_hook(func):
    """Register ``func`` (no arguments) as the warm-up of its module's kernels."""
    _WARMUPS[f"{func.__module__}.{func.__qualname__}"] = func
    return func


def registered_warmups() -> dict[str, object]:
    """Return the registered warm-up functions, by qualified name."""
    return dict(_WARMUPS)
