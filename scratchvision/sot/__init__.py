"""Single-object trackers (correlation filters: MOSSE, KCF, CSRT) and their OTB-protocol evaluation."""

from .evaluation import (
           center_errors,
           object_track,
           otb_scores,
           overlap_ratios,
           precision_curve,
           run_tracker,
           success_curve,
)
from .colour_naming import (COLOUR_NAME_RGB, COLOUR_NAMES, colour_name_image, colour_name_projection, colour_names,
                           colour_names_table)
from .csrt import TrackerCSRT, csr_filter
from .dsst import ScaleEstimator
from .cell_features import fhog, gray_cells
from .kcf import TrackerKCF
from .mosse import TrackerMOSSE

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["TrackerMOSSE", "TrackerKCF", "TrackerCSRT", "colour_names", "colour_name_image", "run_tracker",
           "otb_scores"]
__all__ += ["ScaleEstimator", "csr_filter", "fhog", "gray_cells", "COLOUR_NAMES", "COLOUR_NAME_RGB",
            "colour_name_projection", "colour_names_table", "overlap_ratios", "center_errors", "success_curve",
            "precision_curve", "object_track"]
