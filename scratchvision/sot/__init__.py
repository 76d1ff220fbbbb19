"""Single-object trackers (correlation filters) and their OTB-protocol evaluation."""

from .evaluation import center_errors, otb_scores, overlap_ratios, plot_otb, precision_curve, run_tracker, success_curve
from .mosse import TrackerMOSSE

__all__ = ["TrackerMOSSE", "overlap_ratios", "center_errors", "success_curve", "precision_curve", "otb_scores",
           "run_tracker", "plot_otb"]
