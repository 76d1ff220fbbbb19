"""A minimal progress bar on stderr, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


def progress(iterable, *, total: int | None = None, desc: str = "", enabled: bool | None = None):
    """Yield from ``iterable`` while drawing ``desc [#####.....] i/total  elapsed`` on stderr.

    ``enabled=None`` shows the bar only when stderr is a terminal, so logs and CI stay clean.
    """
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield from iterable
        return
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    start = time.perf_counter()
    for i, item in enumerate(iterable, 1):
        yield item
        elapsed = time.perf_counter() - start
        if total:
            filled = int(30 * i / total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {i}/{total}"
        else:
            bar = f"{i}"
        sys.stderr.write(f"\r{desc} {bar} {elapsed:6.1f} s")
        sys.stderr.flush()
    sys.stderr.write("\n")
