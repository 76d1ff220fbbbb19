"""MOTChallenge text files: detections (``det.txt``), ground truth (``gt.txt``), tracker
results, and ``seqinfo.ini``.

Each line is ``frame, id, x, y, w, h, conf, ...`` separated by commas, with frames counted from
1 and boxes as top-left corner plus size. In memory scratchvision counts frames from 0, so
:func:`read_mot` subtracts 1 from the frame column and :func:`write_mot` adds it back; every
other column is kept as written. Detections carry id -1.

Column meanings after the sixth differ between benchmarks: MOT15 ``conf, x, y, z`` (world
coordinates, -1), MOT16/17/20 gt ``conf, class, visibility``.
"""

from __future__ import annotations

import configparser
import io
import os

import numpy as np

from .._validate import check_mot_rows

__all__ = ["read_mot", "write_mot", "read_seqinfo"]


def read_mot(path) -> np.ndarray:
    """Read a MOTChallenge file into a float64 array (K, C), C >= 6, frames 0-based.

    Parameters
    ----------
    path : str or os.PathLike or file-like
        The ``.txt`` file. An empty file gives an array of shape (0, 10).

    Returns
    -------
    ndarray, (K, C), float64
        Rows in file order; column 0 is ``frame - 1``.
    """
    if hasattr(path, "read"):
        text = path.read()
        name = getattr(path, "name", "<stream>")
    else:
        name = os.fspath(path)
        with open(name, encoding="utf-8") as f:
            text = f.read()
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return np.zeros((0, 10), np.float64)
    try:
        rows = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as exc:
        raise ValueError(f"{name}: not a MOTChallenge file ({exc})") from None
    if rows.shape[1] < 6:
        raise ValueError(f"{name}: MOTChallenge rows need >= 6 columns, found {rows.shape[1]}")
    if not np.isfinite(rows[:, :6]).all():
        raise ValueError(f"{name}: frame, id and box columns must be finite")
    if (rows[:, 0] < 1).any() or (rows[:, 0] != np.round(rows[:, 0])).any():
        raise ValueError(f"{name}: frame numbers must be integers >= 1")
    rows[:, 0] -= 1
    return rows


def write_mot(path, rows, *, precision: int = 10) -> None:
    """Write MOTChallenge rows (frames 0-based in memory, written 1-based).

    Parameters
    ----------
    path : str or os.PathLike or file-like
    rows : array-like, (K, C), C >= 6
        ``frame, id, x, y, w, h, ...``. Frame and id are written as integers, the other
        columns with ``precision`` significant digits (so a read gives them back to that many
        digits).
    precision : int
        Significant digits of the float columns.
    """
    a = check_mot_rows(rows)
    fmt = f"%.{int(precision)}g"
    lines = [f"{int(r[0]) + 1},{int(r[1])}," + ",".join(fmt % v for v in r[2:]) for r in a]
    text = "".join(line + "\n" for line in lines)
    if hasattr(path, "write"):
        path.write(text)
    else:
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write(text)


def read_seqinfo(path) -> dict:
    """Read a MOTChallenge ``seqinfo.ini`` (or the folder holding it) into a dict.

    Known numeric keys (``seqLength``, ``frameRate``, ``imWidth``, ``imHeight``) become ints.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "seqinfo.ini")
    parser = configparser.ConfigParser()
    parser.optionxform = str
    if not parser.read(path, encoding="utf-8") or "Sequence" not in parser:
        raise ValueError(f"{path}: not a seqinfo.ini with a [Sequence] section")
    info = dict(parser["Sequence"])
    for key in ("seqLength", "frameRate", "imWidth", "imHeight"):
        if key in info:
            info[key] = int(info[key])
    return info
