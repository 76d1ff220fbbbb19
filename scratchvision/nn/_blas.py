"""Single-precision matrix products called straight from BLAS (the ``sgemm`` SciPy exports).

``numpy.matmul`` writes a fresh product; the shifted-window convolution needs what BLAS itself
offers: ``C = A @ B + beta * C`` accumulated in place (``beta = 1``), with ``A`` read as a window of
a larger array through its leading dimension, without copies. SciPy exports its BLAS to compiled
code (``scipy.linalg.cython_blas``); Numba's ``get_cython_function_address`` finds the ``sgemm``
entry point and ``ctypes`` calls it. It runs on the BLAS library's own threads
(``OPENBLAS_NUM_THREADS``). Every product of the networks goes through it, so one BLAS thread
pool does all the work: two pools (NumPy's and SciPy's each bundle an OpenBLAS) spinning side by
side on two cores made a 2-thread forward slower than a 1-thread one. Its idle threads are told to
sleep at once (:data:`_THREAD_TIMEOUT`) when this module is the first to load SciPy's BLAS.

BLAS is column-major: a C-ordered (rows, cols) block with row stride ``ld`` is, to BLAS, the
(cols, rows) matrix with leading dimension ``ld``. :func:`sgemm` keeps BLAS's column-major
arguments; :func:`matmul` takes NumPy views and works them out.
"""

from __future__ import annotations

import ctypes
import os
import sys

import numpy as np

__all__ = ["sgemm", "matmul", "single_threaded"]

_SGEMM = None
_ADDRESS = None  # sgemm's entry point
_THREADS = None  # (get, set) of the number of threads of the library sgemm lives in; () when it has none known


#: OpenBLAS's idle workers spin for 2^THREAD_TIMEOUT cycles (2^28, about 0.1 s, by default) before
#: they sleep; spinning, they take the cores from the threads of the loops between the products
#: (:mod:`~scratchvision.nn._split`: a 2-thread RAFT forward took 0.94 s with the default, 0.59 s
#: with 4). Set for SciPy's OpenBLAS when this module loads it, unless the user has set it.
_THREAD_TIMEOUT = "4"


def _load():
    global _SGEMM
    if _SGEMM is None:
        from numba.extending import get_cython_function_address

        if "scipy.linalg" not in sys.modules:  # read once, when SciPy's OpenBLAS loads
            os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", _THREAD_TIMEOUT)

        int_p, float_p, ptr = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float), ctypes.c_void_p
        prototype = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, int_p, int_p, int_p, float_p, ptr,
                                     int_p, ptr, int_p, float_p, ptr, int_p)
        global _ADDRESS
        _ADDRESS = get_cython_function_address("scipy.linalg.cython_blas", "sgemm")
        _SGEMM = prototype(_ADDRESS)
    return _SGEMM


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p),
                ("dli_saddr", ctypes.c_void_p)]


def _thread_controls():
    """OpenBLAS's (get_num_threads, set_num_threads) in the library that holds sgemm (``dladdr``
    names the file its address lies in; SciPy's wheels prefix the names with ``scipy_``), or ()
    where that library is not an OpenBLAS or the platform has no ``dladdr``."""
    global _THREADS
    if _THREADS is None:
        _load()
        _THREADS = ()
        try:
            dladdr = ctypes.CDLL(None).dladdr
        except (AttributeError, OSError):
            return _THREADS
        info = _DlInfo()
        if dladdr(ctypes.c_void_p(_ADDRESS), ctypes.byref(info)) and info.dli_fname:
            library = ctypes.CDLL(info.dli_fname.decode())
            for prefix in ("scipy_openblas", "openblas"):
                get, put = (getattr(library, f"{prefix}_{verb}_num_threads", None) for verb in ("get", "set"))
                if get is not None and put is not None:
                    get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                    _THREADS = (get, put)
                    break
    return _THREADS


class single_threaded:
    """Context in which :func:`sgemm` runs on the calling thread alone: for products issued from
    several threads at once (:func:`~scratchvision.nn._split.over_batch`), each on its own core.
    OpenBLAS's thread count is one setting for the whole process; it is restored on exit. Where the
    BLAS library is not an OpenBLAS it does nothing."""

    def __enter__(self):
        controls = _thread_controls()
        self._before = controls[0]() if controls else None
        if self._before is not None and self._before != 1:
            controls[1](1)
        return self

    def __exit__(self, *exc):
        if self._before is not None and self._before != 1:
            _thread_controls()[1](self._before)


def sgemm(transa: bytes, transb: bytes, m: int, n: int, k: int, a: int, lda: int, b: int, ldb: int, beta: float,
          c: int, ldc: int) -> None:
    """BLAS's ``C = op(A) @ op(B) + beta * C``, column-major, with raw addresses.

    Parameters
    ----------
    transa, transb : bytes
        ``b"N"`` or ``b"T"`` (op is the identity or the transpose).
    m, n, k : int
        ``op(A)`` is (m, k), ``op(B)`` is (k, n), ``C`` is (m, n).
    a, b, c : int
        Addresses of the first elements of float32 data (``array.ctypes.data`` plus a byte offset).
    lda, ldb, ldc : int
        Leading dimensions: the distance, in elements, between consecutive columns.
    beta : float
        0 overwrites ``C``, 1 accumulates into it.
    """
    i = ctypes.c_int
    _load()(transa, transb, ctypes.byref(i(m)), ctypes.byref(i(n)), ctypes.byref(i(k)),
            ctypes.byref(ctypes.c_float(1.0)), a, ctypes.byref(i(lda)), b, ctypes.byref(i(ldb)),
            ctypes.byref(ctypes.c_float(beta)), c, ctypes.byref(i(ldc)))


def _operand(x, name):
    """(op, leading dimension) describing the row-major 2-D float32 view ``x`` to column-major BLAS,
    as the transpose it stores: rows with unit stride are BLAS's columns (no op)."""
    rows, cols = x.shape
    if min(x.strides) < 0:
        raise ValueError(f"{name} has negative strides {x.strides}")
    step0, step1 = x.strides[0] // 4, x.strides[1] // 4
    if step1 == 1 or cols == 1:
        return b"N", max(step0 if rows > 1 else cols, cols, 1)
    if step0 == 1 or rows == 1:
        return b"T", max(step1 if cols > 1 else rows, rows, 1)
    raise ValueError(f"{name} needs unit stride along one axis, got strides {x.strides}")


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray, accumulate: bool = False) -> np.ndarray:
    """``out = a @ b``, or ``out += a @ b`` with ``accumulate``, for float32 2-D arrays and views.

    Each operand needs unit stride along one of its axes; the other stride is free, so windows of
    larger arrays (a block of columns, a shifted run of a flattened image) are read and written in
    place. ``out`` must have unit stride along its rows.
    """
    for name, x in (("a", a), ("b", b), ("out", out)):
        if not isinstance(x, np.ndarray) or x.dtype != np.float32 or x.ndim != 2:
            raise TypeError(f"{name} must be a 2-D float32 array, got {getattr(x, 'dtype', type(x))} "
                            f"with shape {np.shape(x)}")
    (m, k), (k2, n) = a.shape, b.shape
    if k2 != k or out.shape != (m, n):
        raise ValueError(f"matmul shapes do not agree: {a.shape} @ {b.shape} -> {out.shape}")
    if m == 0 or n == 0:
        return out
    if k == 0:
        if not accumulate:
            out[...] = 0.0
        return out
    op_out, ldc = _operand(out, "out")
    if op_out != b"N":
        raise ValueError(f"out needs unit stride along its rows, got strides {out.strides}")
    op_b, ldb = _operand(b, "b")
    op_a, lda = _operand(a, "a")
    if max(m, n, k, lda, ldb, ldc) >= 2**31:  # BLAS takes 32-bit integers
        raise ValueError(f"matmul dimensions or strides beyond 2^31 elements: {a.shape} @ {b.shape}")
    # row-major out = a @ b is column-major out^T = b^T @ a^T, and BLAS sees each row-major array as its transpose
    sgemm(op_b, op_a, n, m, k, b.ctypes.data, ldb, a.ctypes.data, lda, float(accumulate), out.ctypes.data, ldc)
    return out
