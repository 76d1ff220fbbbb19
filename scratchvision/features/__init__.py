"""Feature detection: corner responses and Shi-Tomasi / Harris good features to track."""

from .corners import corner_harris, corner_min_eigen_val, good_features_to_track

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["good_features_to_track", "corner_min_eigen_val", "corner_harris"]
