"""Feature detection: corner responses and Shi-Tomasi / Harris good features to track."""

from .corners import corner_harris, corner_min_eigen_val, good_features_to_track

__all__ = ["corner_min_eigen_val", "corner_harris", "good_features_to_track"]
