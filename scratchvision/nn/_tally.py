"""The multiply-add count that :func:`~scratchvision.nn.profile` reads.

Each layer that multiplies (convolutions, linear layers, attention, recurrences, RAFT's
correlation) calls :func:`tally` with the multiply-adds its shapes imply: the textbook count of
the operation, not of the algorithm that computes it (a Winograd convolution counts as the direct
one), as torch's ``FlopCounterMode`` counts (its FLOPs are twice these). Outside a profile the
call does nothing but one test.
"""

from __future__ import annotations

__all__ = ["tally", "counting"]

_COUNT = [0]  # multiply-adds so far
_ACTIVE = [False]


def tally(macs: int) -> None:
    """Add ``macs`` multiply-adds to the running count while a profile runs."""
    if _ACTIVE[0]:
        _COUNT[0] += int(macs)


class counting:
    """Context in which :func:`tally` counts; ``total()`` reads the running count."""

    def __enter__(self):
        _ACTIVE[0] = True
        return self

    def __exit__(self, *exc):
        _ACTIVE[0] = False

    @staticmethod
    def total() -> int:
        return _COUNT[0]
