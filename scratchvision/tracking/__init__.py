"""Multi-object trackers with one output contract: rows x1, y1, x2, y2, id, score, class, det_idx."""

from ..imgproc import crop_patches
from ._base import OUTPUT_COLUMNS, FrameClock, TrackerStep, matched_detections
from .botsort import BoTSORT
from .bytetrack import ByteTrack
from .camera import CameraMotion
from .deepsort import DeepSort, color_histogram_embeddings
from .ocsort import OCSort
from .run import TRACKER_CLASSES, make_tracker, track_detections
from .sort import Sort

__all__ = ["Sort", "ByteTrack", "OCSort", "DeepSort", "BoTSORT", "color_histogram_embeddings", "crop_patches", "TrackerStep",
           "OUTPUT_COLUMNS", "matched_detections", "track_detections", "make_tracker",
           "TRACKER_CLASSES", "CameraMotion", "FrameClock"]
