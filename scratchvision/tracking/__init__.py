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

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["Sort", "ByteTrack", "OCSort", "DeepSort", "BoTSORT", "CameraMotion", "color_histogram_embeddings",
           "TrackerStep", "OUTPUT_COLUMNS", "matched_detections", "track_detections"]
__all__ += ["crop_patches", "make_tracker", "TRACKER_CLASSES", "FrameClock"]
