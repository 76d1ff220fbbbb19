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

__all__ = ["read_mot", "read_mot_lines", "write_mot", "read_seqinfo"]


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

    Raises
    ------
    ValueError
        Naming the file and the line: a non-numeric field, a line with another number of
        columns than the first, fewer than 6 columns, a non-finite frame/id/box, a frame that is
        not an integer >= 1.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from scratchvision import read_mot, write_mot
    >>> path = os.path.join(tempfile.mkdtemp(), "gt.txt")
    >>> write_mot(path, np.array([[0, 1, 10.0, 20.0, 30.0, 40.0, 1, 1, 1.0]]))  # frame 0 in memory
    >>> open(path).read().split(",")[:2]  # frame 1 in the file
    ['1', '1']
    >>> read_mot(path)[0, :6].tolist()
    [0.0, 1.0, 10.0, 20.0, 30.0, 40.0]
    """
    return read_mot_lines(path)[0]


def read_mot_lines(path):
    """:func:`read_mot`, also returning each row's 1-based line number in the file and the
    file's name (for messages that point at a line)."""
    if hasattr(path, "read"):
        text = path.read()
        name = getattr(path, "name", "<stream>")
    else:
        name = os.fspath(path)
        with open(name, encoding="utf-8") as f:
            text = f.read()
    numbered = [(k + 1, ln) for k, ln in enumerate(text.splitlines()) if ln.strip()]
    if not numbered:
        return np.zeros((0, 10), np.float64), np.zeros(0, np.int64), name
    line_numbers = np.array([k for k, _ in numbered], np.int64)
    try:
        rows = np.loadtxt(io.StringIO("\n".join(ln for _, ln in numbered)), delimiter=",", ndmin=2,
                          dtype=np.float64)
    except ValueError as exc:
        raise ValueError(_first_bad_line(numbered, name) or f"{name}: not a MOTChallenge file ({exc})") from None
    if rows.shape[1] < 6:
        raise ValueError(f"{name}:{line_numbers[0]}: MOTChallenge rows need >= 6 columns, found {rows.shape[1]}")
    bad = ~np.isfinite(rows[:, :6]).all(axis=1)
    if bad.any():
        raise ValueError(f"{name}:{line_numbers[bad.argmax()]}: frame, id and box columns must be finite")
    bad = (rows[:, 0] < 1) | (rows[:, 0] != np.round(rows[:, 0]))
    if bad.any():
        raise ValueError(f"{name}:{line_numbers[bad.argmax()]}: frame numbers must be integers >= 1, "
                         f"got {rows[bad.argmax(), 0]:g}")
    rows[:, 0] -= 1
    return rows, line_numbers, name


def _first_bad_line(numbered, name):
    """The message for the first line that is not all numbers or has another column count."""
    width = None
    for k, line in numbered:
        fields = line.split(",")
        for field in fields:
            try:
                float(field)
            except ValueError:
                return f"{name}:{k}: field {field.strip()!r} is not a number"
        if width is None:
            width = len(fields)
        elif len(fields) != width:
            return f"{name}:{k}: {len(fields)} columns where the first line has {width}"
    return None


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

    Parameters
    ----------
    path : str or os.PathLike
        The ``seqinfo.ini`` file or its folder.

    Returns
    -------
    dict
        The ``[Sequence]`` section's keys and values.
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
