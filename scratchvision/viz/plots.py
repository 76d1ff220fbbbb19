"""Matplotlib figures (matplotlib is imported inside the functions, never at package import).

Figures are built with ``matplotlib.figure.Figure`` directly, so they work without a display and
without touching pyplot's global state.
"""

from __future__ import annotations

import functools
import os

import numpy as np

from .._validate import as_array, check_flow, check_float, check_image, check_int, check_mot_rows
from .colors import id_colors
from .draw import to_rgb8

__all__ = ["plot_track_timeline", "plot_flow_quiver", "plot_colour_names", "caption", "mask_tubes", "plot_tube_mask",
           "plot_otb"]


def _finish(fig, path):
    if path is not None:
        fig.savefig(os.fspath(path), dpi=100, bbox_inches="tight")
    return fig


def plot_track_timeline(rows, *, path=None, title: str = "track timeline", ax=None):
    """One horizontal bar per track id over the frames where it is present.

    Parameters
    ----------
    rows : array-like, (K, >= 2)
        MOTChallenge-style rows ``frame, id, ...`` (0-based frames).
    path : str or os.PathLike, optional
        Save the figure there (PNG, SVG, PDF by extension).
    title : str
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    r = check_mot_rows(rows, min_columns=2)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 0.3 * max(len(np.unique(r[:, 1])), 4) + 1))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ids = np.unique(r[:, 1]).astype(np.int64)
    colors = id_colors(ids) / 255.0
    for row, (tid, color) in enumerate(zip(ids, colors)):
        frames = np.sort(r[r[:, 1] == tid, 0])
        # Split into runs of consecutive frames so gaps (occlusions, misses) show.
        breaks = np.flatnonzero(np.diff(frames) > 1)
        starts = np.r_[frames[0], frames[breaks + 1]]
        ends = np.r_[frames[breaks], frames[-1]]
        ax.broken_barh(list(zip(starts - 0.5, ends - starts + 1)), (row - 0.4, 0.8), color=color)
    ax.set_yticks(range(len(ids)), [str(i) for i in ids])
    ax.set_xlabel("frame (0-based)")
    ax.set_ylabel("id")
    ax.set_title(title)
    return _finish(fig, path)


def plot_flow_quiver(image, flow, *, step: int = 16, path=None, title: str = "flow", ax=None,
                     scale: float = 1.0):
    """The frame with the flow drawn as arrows every ``step`` pixels (matplotlib quiver), each
    arrow ``scale`` times the motion it shows (say so in ``title`` when it is not 1: sub-pixel
    motion is invisible at scale 1).

    Parameters
    ----------
    image : ndarray (H, W) or (H, W, 3)
    flow : ndarray (H, W, 2)
    step : int
        Grid spacing in pixels.
    path : str or os.PathLike, optional
        Save the figure there.
    title : str
    ax : matplotlib Axes, optional
        Draw into this axes instead of a new figure.
    scale : float
        Arrow length per pixel of motion.

    Returns
    -------
    matplotlib.figure.Figure
    """
    img = check_image(image)
    flow = check_flow(flow)
    if img.shape[:2] != flow.shape[:2]:
        raise ValueError(f"flow must have shape {img.shape[:2] + (2,)} to match image, got {flow.shape}")
    step = check_int(step, "step", low=1)
    scale = check_float(scale, "scale", low=0.0, low_open=True)
    if ax is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 8 * img.shape[0] / img.shape[1]))
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[step // 2:h:step, step // 2:w:step]
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.quiver(xs, ys, flow[ys, xs, 0], flow[ys, xs, 1], color="lime", angles="xy",
              scale_units="xy", scale=1.0 / scale, width=0.003)
    ax.set_title(title)
    ax.set_axis_off()
    return _finish(fig, path)


def plot_colour_names(image, *, path=None, title: str = "colour names"):
    """The image beside itself painted in the colour of its most probable colour name per pixel
    (:func:`~scratchvision.sot.colour_name_image`), with a legend of the names and the share of
    the pixels each takes: what the colour-name feature of KCF and CSRT sees.

    Parameters
    ----------
    image : ndarray, (H, W, 3)
        RGB, uint8 or float in [0, 255].
    path : str or os.PathLike, optional
        Save the figure there (PNG, SVG, PDF by extension).
    title : str

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.viz import plot_colour_names
    >>> img = np.zeros((8, 16, 3), np.uint8); img[:, 8:] = (255, 255, 0)
    >>> fig = plot_colour_names(img)
    >>> fig.axes[1].get_title()
    'most probable name'
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from ..sot.colour_naming import COLOUR_NAME_RGB, COLOUR_NAMES, colour_name_image

    labels = colour_name_image(image)
    img = np.asarray(image)
    fig = Figure(figsize=(10, 5 * img.shape[0] / max(img.shape[1], 1) + 1))
    left, right = fig.subplots(1, 2)
    if labels.size:  # an empty image gives empty axes
        left.imshow(img if img.dtype == np.uint8 else img.astype(np.float64) / 255.0)
        right.imshow(COLOUR_NAME_RGB[labels])
    left.set_title("image")
    right.set_title("most probable name")
    for ax in (left, right):
        ax.set_axis_off()
    share = np.bincount(labels.ravel(), minlength=len(COLOUR_NAMES)) / max(labels.size, 1)
    handles = [Patch(facecolor=COLOUR_NAME_RGB[i] / 255.0, edgecolor="0.5", label=f"{name} {share[i]:.0%}")
               for i, name in enumerate(COLOUR_NAMES)]
    fig.legend(handles=handles, loc="lower center", ncol=6, frameon=False)
    fig.suptitle(title)
    return _finish(fig, path)


def _clip_rgb8(frames, name):
    """(T, H, W, 3) uint8 from uint8 frames or floats in [0, 1]."""
    f = as_array(frames, name)
    if f.ndim != 4 or f.shape[3] != 3:
        raise ValueError(f"{name} must have shape (T, H, W, 3), got {f.shape}")
    if f.dtype == np.uint8:
        return f
    if f.dtype.kind != "f":
        raise ValueError(f"{name} must be uint8 or float in [0, 1], got {f.dtype}")
    if not np.isfinite(f).all():
        raise ValueError(f"{name} must be finite")
    return np.rint(np.clip(f, 0.0, 1.0) * 255).astype(np.uint8)


def mask_tubes(frames, mask, *, patch_size: int = 16, tubelet_size: int = 2, grey: int = 128) -> np.ndarray:
    """Frames with the masked tubelets painted ``grey``: what VideoMAE's encoder sees of a clip.

    Parameters
    ----------
    frames : ndarray (T, H, W, 3)
        uint8, or float in [0, 1].
    mask : ndarray of bool (T', H' W') or (T' H' W',)
        True = masked, as :func:`~scratchvision.nn.tube_mask` returns.
    patch_size, tubelet_size : int
    grey : int in [0, 255]

    Returns
    -------
    ndarray of uint8 (T, H, W, 3)
        A new array (write it as a GIF with :func:`~scratchvision.write_video`).

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import tube_mask
    >>> from scratchvision.viz import mask_tubes
    >>> out = mask_tubes(np.zeros((4, 32, 32, 3), np.uint8), tube_mask(4, 32, mask_ratio=0.5, rng=0))
    >>> int((out[:, :, :, 0] == 128).mean() * 4)
    2
    """
    out = _clip_rgb8(frames, "frames").copy()
    t, h, w = out.shape[:3]
    patch_size = check_int(patch_size, "patch_size", low=1)
    tubelet_size = check_int(tubelet_size, "tubelet_size", low=1)
    grey = check_int(grey, "grey", low=0, high=255)
    slots, rows, cols = t // tubelet_size, h // patch_size, w // patch_size
    m = as_array(mask, "mask")
    if m.dtype != bool or m.size != slots * rows * cols:
        raise ValueError(f"mask must be boolean with {slots} x {rows * cols} entries for {t} frames of {h} x {w} "
                         f"(patch {patch_size}, tubelet {tubelet_size}), got {m.dtype} {m.shape}")
    cells = np.repeat(np.repeat(np.repeat(m.reshape(slots, rows, cols), tubelet_size, 0), patch_size, 1), patch_size, 2)
    out[:slots * tubelet_size, :rows * patch_size, :cols * patch_size][cells] = grey
    return out


def plot_tube_mask(frames, mask, *, patch_size: int = 16, tubelet_size: int = 2, reconstruction=None, path=None,
                   title: str = "VideoMAE tube masking"):
    """A clip's first frame of every tubelet, the same frames with the masked tubes greyed out
    (:func:`mask_tubes`) and, when given, the model's reconstruction
    (:func:`~scratchvision.nn.videomae_reconstruction`), one row each.

    Parameters
    ----------
    frames : ndarray (T, H, W, 3)
        uint8, or float in [0, 1].
    mask : ndarray of bool (T', H' W') or (T' H' W',)
    patch_size, tubelet_size : int
    reconstruction : ndarray (T, H, W, 3), optional
        Float in [0, 1] or uint8.
    path : str or os.PathLike, optional
        Save the figure there.
    title : str

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.nn import tube_mask
    >>> from scratchvision.viz import plot_tube_mask
    >>> fig = plot_tube_mask(np.zeros((4, 32, 32, 3), np.uint8), tube_mask(4, 32, rng=0))
    >>> len(fig.axes)
    4
    """
    from matplotlib.figure import Figure

    clip = _clip_rgb8(frames, "frames")
    rows = [("clip", clip), ("masked: what the encoder sees",
                             mask_tubes(clip, mask, patch_size=patch_size, tubelet_size=tubelet_size))]
    if reconstruction is not None:
        recon = _clip_rgb8(reconstruction, "reconstruction")
        if recon.shape != clip.shape:
            raise ValueError(f"reconstruction must have the frames' shape {clip.shape}, got {recon.shape}")
        rows.append(("reconstruction", recon))
    shown = list(range(0, len(clip), tubelet_size))
    fig = Figure(figsize=(1.6 * len(shown) + 0.5, 1.8 * len(rows) + 0.4))
    axes = np.asarray(fig.subplots(len(rows), len(shown), squeeze=False))
    for (label, images), row in zip(rows, axes):
        for t, ax in zip(shown, row):
            ax.imshow(images[t])
            ax.set_xticks([])
            ax.set_yticks([])
        row[0].set_ylabel(label, fontsize=8)
    for t, ax in zip(shown, axes[0]):
        ax.set_title(f"frame {t}", fontsize=8)
    fig.suptitle(title)
    return _finish(fig, path)


def caption(image, text: str, *, size: float = 11.0, legend=()) -> np.ndarray:
    """The image under a black strip with ``text`` in white (and coloured legend entries): titles,
    frame numbers and legends for GIF frames, rendered once by matplotlib's Agg canvas.

    Parameters
    ----------
    image : ndarray, (H, W) or (H, W, 3)
    text : str
        One or more lines.
    size : float
        Text height in pixels.
    legend : sequence of (label, RGB colour)
        Entries written on a line of their own under the text, each in its colour.

    Returns
    -------
    ndarray, (H + strip, W, 3) uint8

    Examples
    --------
    >>> import numpy as np
    >>> from scratchvision.viz import caption
    >>> caption(np.zeros((40, 120), np.uint8), "frame 3").shape[1:]
    (120, 3)
    """
    img = to_rgb8(check_image(image))
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}")
    size = check_float(size, "size", low=4.0, high=100.0)
    strip = _caption_strip(text, img.shape[1], size, tuple((str(k), tuple(int(c) for c in v)) for k, v in legend))
    return np.concatenate([strip, img], axis=0)


@functools.lru_cache(maxsize=256)
def _caption_strip(text, width, size, legend):
    """The black strip of :func:`caption`: the text's lines, then a line of legend entries."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lines = text.split("\n")
    line_height = 1.35 * size
    height = int(round(line_height * (len(lines) + bool(legend)))) + 4
    fig = Figure(figsize=(width / 100, height / 100), dpi=100, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    style = dict(fontsize=size * 72 / 100, va="top", ha="left", family="DejaVu Sans")  # px at 100 dpi -> pt
    for row, line in enumerate(lines):
        fig.text(3 / width, 1 - (2 + row * line_height) / height, line, color="white", **style)
    x, top = 3.0, 1 - (2 + len(lines) * line_height) / height
    for label, color in legend:
        entry = fig.text(x / width, top, "\u25a0 " + label, color=np.array(color) / 255, fontweight="bold", **style)
        canvas.draw()
        x = entry.get_window_extent().x1 + 10
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def plot_otb(results: dict, path=None):
    """Success and precision plots of single-object trackers (OTB, Wu et al. 2013), AUC and
    precision at 20 px in the legends.

    Parameters
    ----------
    results : dict
        ``{name: (pred, gt)}``, each an (N, 4) array of ``x, y, w, h`` boxes per frame
        (:func:`~scratchvision.sot.otb_scores`).
    path : str or os.PathLike, optional
        Save the figure there.

    Returns
    -------
    matplotlib.figure.Figure
        A figure not registered with pyplot (no backend is chosen or changed).

    References
    ----------
    Y. Wu, J. Lim, M.-H. Yang. "Online Object Tracking: A Benchmark." CVPR 2013.
    doi:10.1109/CVPR.2013.312
    """
    if not isinstance(results, dict):
        raise TypeError(f"results must be a dict {{name: (pred, gt)}}, got {type(results).__name__}")
    from ..sot.evaluation import PRECISION_THRESHOLDS, SUCCESS_THRESHOLDS, otb_scores, precision_curve, success_curve

    scores = {}
    for name, pair in results.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise ValueError(f"results[{name!r}] must be a pair (pred, gt)")
        try:
            scores[name] = otb_scores(*pair)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"results[{name!r}]: {exc}") from exc
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4))
    ax1, ax2 = fig.subplots(1, 2)
    for name, (pred, gt) in results.items():
        s = scores[name]
        ax1.plot(SUCCESS_THRESHOLDS, success_curve(pred, gt), label=f"{name} [{s['AUC']:.3f}]")
        ax2.plot(PRECISION_THRESHOLDS, precision_curve(pred, gt), label=f"{name} [{s['precision@20']:.3f}]")
    ax1.set(xlabel="overlap threshold", ylabel="success rate", title="Success plot (AUC)")
    ax2.set(xlabel="location error threshold (px)", ylabel="precision", title="Precision plot (20 px)")
    for ax in (ax1, ax2):
        if results:
            ax.legend(loc="lower left" if ax is ax1 else "lower right")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _finish(fig, path)
