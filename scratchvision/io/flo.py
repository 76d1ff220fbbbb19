"""Middlebury ``.flo`` optical-flow files (Baker et al. 2011), as read and written by
``cv2.readOpticalFlow`` / ``cv2.writeOpticalFlow``.

Layout, little-endian: the float32 tag 202021.25 (the bytes ``PIEH``), int32 width, int32 height,
then ``height * width`` interleaved float32 pairs ``(u, v)`` in row-major order. Middlebury marks
pixels with unknown flow by values above 1e9; they are read as they are (see
:func:`scratchvision.flow.errors.valid_flow_mask`).
"""

from __future__ import annotations

import os

import numpy as np

from .._validate import check_flow

__all__ = ["read_flo", "write_flo", "FLO_TAG"]

FLO_TAG = np.float32(202021.25)
_MAX_SIDE = 1 << 20


def read_flo(path) -> np.ndarray:
    """Read a ``.flo`` file into an (H, W, 2) float32 array of (dx, dy).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    ndarray (H, W, 2) float32
        ``(dx, dy)``; Middlebury's unknown markers (1e10) are kept.

    Raises
    ------
    ValueError
        If the tag, the dimensions or the file size are not those of a ``.flo`` file.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from scratchvision import read_flo, write_flo
    >>> flow = np.random.default_rng(0).normal(size=(4, 5, 2)).astype(np.float32)
    >>> path = os.path.join(tempfile.mkdtemp(), "f.flo")
    >>> write_flo(path, flow)
    >>> bool(np.array_equal(read_flo(path), flow))
    True
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12:
            raise ValueError(f"{path}: too short to be a .flo file ({len(header)} bytes)")
        tag = np.frombuffer(header, "<f4", 1, 0)[0]
        width, height = (int(v) for v in np.frombuffer(header, "<i4", 2, 4))
        if tag != FLO_TAG:
            raise ValueError(f"{path}: not a .flo file (tag {tag!r}, expected {FLO_TAG!r})")
        if not (0 < width < _MAX_SIDE and 0 < height < _MAX_SIDE):
            raise ValueError(f"{path}: implausible .flo size width={width}, height={height}")
        data = np.fromfile(f, "<f4")
    if data.size != width * height * 2:
        raise ValueError(f"{path}: expected {width * height * 2} floats for {width}x{height}, "
                         f"found {data.size}")
    return data.reshape(height, width, 2).astype(np.float32)


def write_flo(path, flow) -> None:
    """Write an (H, W, 2) flow (dx, dy) as a ``.flo`` file. Unknown markers (> 1e9) are kept.

    Parameters
    ----------
    path : str or os.PathLike
    flow : array-like (H, W, 2)
        ``(dx, dy)``, written as float32.
    """
    flow = check_flow(flow, allow_unknown=True)
    if flow.shape[0] == 0 or flow.shape[1] == 0:
        raise ValueError(f"flow must not be empty, got shape {flow.shape}")
    with open(os.fspath(path), "wb") as f:
        f.write(np.asarray(FLO_TAG, "<f4").tobytes())
        f.write(np.asarray([flow.shape[1], flow.shape[0]], "<i4").tobytes())
        f.write(np.ascontiguousarray(flow, "<f4").tobytes())
