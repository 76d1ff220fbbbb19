"""Visualisation: flow colours, drawing on frames (NumPy), and matplotlib figures."""

from .colors import hsv_to_rgb, id_colors
from .draw import draw_boxes, draw_flow_arrows, draw_lines, draw_points, draw_tracks, to_rgb8
from .flow import colorwheel, flow_to_color, flow_to_hsv
from .plots import (caption, mask_tubes, plot_colour_names, plot_flow_quiver, plot_otb, plot_track_timeline,
                    plot_tube_mask)

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["colorwheel", "flow_to_color", "flow_to_hsv", "hsv_to_rgb", "id_colors", "draw_lines", "draw_points",
           "draw_boxes", "draw_tracks", "draw_flow_arrows", "plot_track_timeline", "plot_flow_quiver",
           "plot_colour_names", "plot_otb", "caption", "mask_tubes", "plot_tube_mask"]
__all__ += ["to_rgb8"]
