"""Input checks shared by every public function.

Kernels never see unchecked input: the public Python function calls these helpers first, and they
raise ``TypeError`` (wrong type), :class:`DTypeError` (wrong dtype: both a TypeError and a
ValueError) or ``ValueError`` (wrong shape, size, value or range) with a message naming the
argument, what was expected and what was given.
"""

from __future__ import annotations

import numbers

import numpy as np

IMAGE_DTYPES = (np.uint8, np.float32, np.float64)


class DTypeError(TypeError, ValueError):
    """An array of an unsupported dtype: a TypeError, and a ValueError too, so code written
    against either convention (NumPy raises TypeError; the MOTChallenge and flow tools ValueError)
    catches it."""
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_MAX_EXACT_INT = 2.0**53  # integers stored in float64 are exact up to here


def _describe(a: np.ndarray) -> str:
    return f"shape {a.shape} and dtype {a.dtype}"


def as_array(value, name: str, *, complex_ok: bool = False) -> np.ndarray:
    """Convert ``value`` to an ndarray, refusing objects that are not real numeric arrays (or,
    with ``complex_ok``, complex ones)."""
    try:
        a = np.asarray(value)
    except Exception as exc:  # e.g. ragged sequences
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}: {exc}") from None
    if a.dtype == object or a.dtype.kind not in ("biufc" if complex_ok else "biuf"):
        raise DTypeError(f"{name} must be a numeric array, got dtype {a.dtype}")
    return a


def check_finite(a: np.ndarray, name: str) -> None:
    """Raise ValueError when a float array holds NaN or inf."""
    if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite; it contains NaN or inf")


def check_image(image, name: str = "image", *, allow_color: bool = True, any_channels: bool = False,
                dtypes=IMAGE_DTYPES, min_size: int = 1, half: bool = False) -> np.ndarray:
    """Check a single image: (H, W) gray or (H, W, 3) RGB, of one of ``dtypes``, finite.

    With ``any_channels``, (H, W, C) for any C >= 1 is accepted as well; with ``half``, a
    float16 image is accepted and returned as float32 (as scikit-image computes on it).
    Returns the image as an ndarray (not copied, except from float16).
    """
    a = as_array(image, name)
    if half and a.dtype == np.float16:
        a = a.astype(np.float32)
    shapes = "(H, W) or (H, W, C)" if any_channels else "(H, W) or (H, W, 3)" if allow_color else "(H, W)"
    color_ok = a.ndim == 3 and a.shape[2] >= 1 and (any_channels or (allow_color and a.shape[2] == 3))
    if not (a.ndim == 2 or color_ok):
        raise ValueError(f"{name} must have shape {shapes}, got {_describe(a)}")
    if a.dtype.type not in dtypes:
        allowed = ", ".join(np.dtype(d).name for d in dtypes)
        raise DTypeError(f"{name} must have dtype in ({allowed}), got {a.dtype}")
    if a.shape[0] < min_size or a.shape[1] < min_size:
        raise ValueError(f"{name} must be at least {min_size}x{min_size} pixels, got {_describe(a)}")
    check_finite(a, name)
    check_float32_range(a, name)  # images are processed in float32
    return a


def check_float32_range(a: np.ndarray, name: str) -> None:
    """Refuse values a cast to float32 would turn into inf."""
    if a.dtype.kind == "f" and a.dtype.itemsize > 4 and a.size and np.abs(a).max() > _FLOAT32_MAX:
        raise ValueError(f"{name} values must lie within float32's range (|v| <= {_FLOAT32_MAX:.3g})")


def to_float32(a: np.ndarray, name: str) -> np.ndarray:
    """Cast finite values to float32, refusing values beyond float32's range."""
    check_float32_range(a, name)
    return a.astype(np.float32, copy=False)


def check_flow(flow, name: str = "flow", *, allow_unknown: bool = False) -> np.ndarray:
    """Check a dense flow field (H, W, 2) of floats. Returns it as float32.

    With ``allow_unknown`` the Middlebury "unknown" marker (|u| or |v| > 1e9, or NaN) is accepted.
    """
    a = as_array(flow, name)
    if a.ndim != 3 or a.shape[2] != 2:
        raise ValueError(f"{name} must have shape (H, W, 2), got {_describe(a)}")
    if a.dtype.kind != "f":
        raise DTypeError(f"{name} must be a float array, got {a.dtype}")
    if allow_unknown:
        with np.errstate(over="ignore"):  # huge unknown markers may become inf; still unknown
            return a.astype(np.float32, copy=False)
    check_finite(a, name)
    return to_float32(a, name)


def check_points(points, name: str = "points", *, allow_nan: bool = False) -> tuple[np.ndarray, tuple]:
    """Check a point set (N, 2) or OpenCV's (N, 1, 2) of x, y; an empty set may be any (0, ...)
    or (0,) array.

    Returns ``(points as (N, 2) float32, original shape)`` so callers can return the shape that
    came in. With ``allow_nan``, NaN coordinates pass (trackers mark such points lost); inf and
    values beyond float32 never do.
    """
    a = as_array(points, name)
    if a.size == 0 and a.ndim in (1, 2, 3):
        return np.zeros((0, 2), np.float32), (0, 1, 2) if a.ndim == 3 else (0, 2)
    if not ((a.ndim == 2 and a.shape[1] == 2) or (a.ndim == 3 and a.shape[1:] == (1, 2))):
        raise ValueError(f"{name} must have shape (N, 2) or (N, 1, 2), got {_describe(a)}")
    if allow_nan and a.dtype.kind == "f":
        finite = a[~np.isnan(a)]
        check_finite(finite, name + " (apart from NaN)")
        check_float32_range(finite, name)
        return a.reshape(-1, 2).astype(np.float32, copy=False), a.shape
    check_finite(a, name)
    return to_float32(a.reshape(-1, 2), name), a.shape


def check_boxes(boxes, name: str = "boxes", *, columns: int = 4) -> np.ndarray:
    """Check an (N, columns) float box array whose first four columns are x1, y1, x2, y2."""
    a = as_array(boxes, name)
    if a.size == 0 and a.ndim in (1, 2):
        return np.zeros((0, columns), np.float64)
    if a.ndim != 2 or a.shape[1] != columns:
        raise ValueError(f"{name} must have shape (N, {columns}), got {_describe(a)}")
    check_finite(a, name)
    return a.astype(np.float64, copy=False)


def check_mot_rows(rows, name: str = "rows", *, min_columns: int = 6) -> np.ndarray:
    """Check MOTChallenge-style rows ``frame, id, ...`` (K, C >= min_columns), frames 0-based.

    Frame and id must be integers (frame >= 0) and every column finite. Returns float64 rows;
    an empty input gives shape (0, min_columns).
    """
    a = as_array(rows, name)
    if a.size == 0 and a.ndim in (1, 2):
        return np.zeros((0, max(min_columns, a.shape[-1] if a.ndim == 2 else 0)), np.float64)
    if a.ndim != 2 or a.shape[1] < min_columns:
        raise ValueError(f"{name} must have shape (K, >= {min_columns}), got {_describe(a)}")
    a = a.astype(np.float64, copy=False)
    check_finite(a, name)
    if ((a[:, 0] < 0).any() or (a[:, :2] != np.round(a[:, :2])).any()
            or (np.abs(a[:, :2]) > _MAX_EXACT_INT).any()):
        raise ValueError(f"{name}: frames (column 0, 0-based) must be integers >= 0 and ids (column 1) "
                         "integers, both of magnitude <= 2**53")
    return a


def check_ids(ids, name: str = "ids") -> np.ndarray:
    """Check integer ids given as any numeric array; returns them flattened as int64."""
    a = as_array(ids, name).ravel().astype(np.float64)
    check_finite(a, name)
    if (a != np.round(a)).any() or (np.abs(a) > _MAX_EXACT_INT).any():
        raise ValueError(f"{name} must be integers of magnitude <= 2**53")
    return a.astype(np.int64)


def check_int(value, name: str, *, low=None, high=None) -> int:
    """Check an integer parameter within [low, high] (either bound may be None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    value = int(value)
    _check_range(value, name, low, high)
    return value


def check_int_pair(value, name: str, *, low=None, labels=("width", "height")) -> tuple:
    """Check a pair of integers such as a ``(width, height)`` size; TypeError when ``value`` is
    not a pair, the element checks of :func:`check_int` (named ``name[0] (width)``, ...) otherwise."""
    try:
        first, second = value
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a pair ({labels[0]}, {labels[1]}), got {value!r}") from None
    return (check_int(first, f"{name}[0] ({labels[0]})", low=low),
            check_int(second, f"{name}[1] ({labels[1]})", low=low))


def check_float(value, name: str, *, low=None, high=None, low_open: bool = False) -> float:
    """Check a finite real parameter within [low, high] (or (low, high] with ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low_open and low is not None and value <= low:
        raise ValueError(f"{name} must be > {low}, got {value}")
    _check_range(value, name, low, high)
    return value


def check_bool(value, name: str) -> bool:
    """Check a flag: a Python or NumPy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)


def check_choice(value, name: str, choices) -> object:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)!r}, got {value!r}")
    return value


def _check_range(value, name, low, high):
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
