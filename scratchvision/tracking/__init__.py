"""Multi-object trackers with one output contract: rows x1, y1, x2, y2, id, score, class, det_idx."""

from ._base import OUTPUT_COLUMNS, TrackerStep
from .sort import Sort

__all__ = ["Sort", "TrackerStep", "OUTPUT_COLUMNS"]
