"""Kalman filters: a filterpy-compatible single filter, a batched form for trackers, and the
box motion models of SORT and DeepSORT/ByteTrack."""

from .batch import batch_mahalanobis_sq, batch_predict, batch_project, batch_update
from .filter import KalmanFilter
from .models import (CHI2INV95, xyah_initiate, xyah_measurement_noise, xyah_model,
                     xyah_process_noise, xysr_initiate, xysr_model)

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["KalmanFilter", "batch_predict", "batch_update", "batch_project", "batch_mahalanobis_sq"]
__all__ += ["CHI2INV95", "xysr_model", "xysr_initiate", "xyah_model", "xyah_initiate",
            "xyah_process_noise", "xyah_measurement_noise"]
