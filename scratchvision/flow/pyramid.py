"""Image pyramids: the one OpenCV's pyramidal Lucas-Kanade builds, and the one its dense
methods build (shared by Farneback, Horn-Schunck and TV-L1 here).

**Sparse (Lucas-Kanade).** Each level halves the previous one with ``pyrDown``
(:func:`~scratchvision.imgproc.pyr_down`): a 5x5 Gaussian ``[1 4 6 4 1]^T [1 4 6 4 1] / 256``
with reflect-101 borders, sampled at even pixels, output size ``((w + 1) // 2, (h + 1) // 2)``,
integer arithmetic rounded half up (bit-exact with ``cv2.pyrDown``). The pyramid
stops early once the next level would be no larger than the tracking window, as
``cv2.buildOpticalFlowPyramid`` does.

**Dense.** Layer ``k`` has scale ``scale_step**k`` and is computed from the full-resolution
image, as ``cv2.calcOpticalFlowFarneback`` does: a Gaussian blur of sigma ``(1/scale - 1) / 2``
(the anti-aliasing a reduction by ``scale`` needs; kernel size ``max(round(5 sigma) | 1, 3)``,
so layer 0 gets ``[1/4, 1/2, 1/4]``), then a bilinear resize to ``round(side * scale)``
(half to even). Layers narrower or lower than ``min_size`` are not built.
"""

from __future__ import annotations

import numpy as np

from .._jit import warmup_hook
from .._validate import check_float, check_image, check_int, check_int_pair
from ..imgproc import gaussian_blur, pyr_down, resize

__all__ = ["build_optical_flow_pyramid", "check_win_size", "dense_pyramid_sizes", "dense_pyramid",
           "pyramid_layer"]

def check_win_size(win_size):
    """Validate a (width, height) window: odd integers >= 3. Returns a tuple of ints."""
    ww, wh = check_int_pair(win_size, "win_size", low=3)
    if ww % 2 == 0 or wh % 2 == 0:
        raise ValueError(f"win_size must be odd, got {(ww, wh)}")
    return ww, wh


def build_optical_flow_pyramid(image, win_size=(21, 21), max_level: int = 3) -> list:
    """The image pyramid ``cv2.buildOpticalFlowPyramid`` builds for Lucas-Kanade.

    Level 0 is the image; level k is :func:`pyr_down` of level k-1. Building stops before a level
    whose width or height would be no larger than the window (so ``max_level`` may be clamped).

    Parameters
    ----------
    image : ndarray (H, W), uint8
    win_size : (int, int)
        Tracking window (width, height), odd, >= 3.
    max_level : int >= 0

    Returns
    -------
    list of ndarray
        The levels, finest first (``len == effective max_level + 1``).
    """
    img = check_image(image, allow_color=False, dtypes=(np.uint8,))
    ww, wh = check_win_size(win_size)
    max_level = check_int(max_level, "max_level", low=0)
    levels = [np.ascontiguousarray(img)]
    for _ in range(max_level):
        h, w = levels[-1].shape
        if (w + 1) // 2 <= ww or (h + 1) // 2 <= wh:
            break
        levels.append(pyr_down(levels[-1]))
    return levels


def dense_pyramid_sizes(shape, scale_step: float = 0.5, levels: int = 3, *, min_size: int = 32) -> list:
    """The layers of the dense pyramid, coarsest first, as ``(scale, (height, width))``.

    Layers are added while both sides stay >= ``min_size`` pixels (the full-resolution layer is
    always there), so ``levels = N`` gives up to ``N + 1`` layers; sizes are
    ``round(side * scale)`` rounded half to even (OpenCV's cvRound).

    Parameters
    ----------
    shape : tuple
        Image shape (H, W, ...).
    scale_step : float in (0, 1)
        Size ratio between consecutive layers.
    levels : int >= 0
        Layers beyond the full-resolution one, at most.
    min_size : int >= 1

    Returns
    -------
    list of (float, (int, int))
        ``(scale, (height, width))`` per layer, coarsest first.
    """
    h, w = shape[:2]
    scale_step = check_float(scale_step, "scale_step", low=0.0, high=1.0, low_open=True)
    if scale_step >= 1.0:
        raise ValueError(f"scale_step must lie in (0, 1), got {scale_step}")
    levels = check_int(levels, "levels", low=0)
    min_size = check_int(min_size, "min_size", low=1)
    count, scale = 0, 1.0
    while count < levels:
        scale *= scale_step
        if w * scale < min_size or h * scale < min_size:
            break
        count += 1
    layers = []
    for k in range(count, -1, -1):
        scale = 1.0
        for _ in range(k):  # repeated products, as OpenCV computes the scale
            scale *= scale_step
        layers.append((scale, (int(np.rint(h * scale)), int(np.rint(w * scale)))))
    return layers


def pyramid_layer(image, scale: float, size) -> np.ndarray:
    """One dense-pyramid layer of ``image``: Gaussian blur of sigma ``(1/scale - 1) / 2`` at
    full size, then bilinear resize to ``size = (height, width)``; float32."""
    sigma = (1.0 / scale - 1.0) * 0.5
    ksize = max(int(np.rint(sigma * 5)) | 1, 3)
    return resize(gaussian_blur(image, (ksize, ksize), sigma, sigma), (size[1], size[0]))


def dense_pyramid(image, scale_step: float = 0.5, levels: int = 3, *, min_size: int = 32,
                  smooth_finest: bool = True) -> list:
    """The dense pyramid of a gray image (see the module notes), coarsest first.

    Parameters
    ----------
    image : ndarray (H, W), uint8/float32/float64
        Taken as float32 without scaling.
    scale_step, levels, min_size
        As in :func:`dense_pyramid_sizes`.
    smooth_finest : bool
        Pre-smooth the full-resolution layer with ``[1/4, 1/2, 1/4]`` as Farneback (OpenCV)
        does; the variational methods keep the input there (which lowers their error against
        ground truth by 15-20 % on Middlebury).

    Returns
    -------
    list of (float, ndarray)
        ``(scale, float32 layer)`` pairs, coarsest first, the last one the (pre-smoothed) image
        at full size.
    """
    img = check_image(image, allow_color=False)
    img32 = np.ascontiguousarray(img, np.float32)
    return [(scale, img32.copy() if scale == 1.0 and not smooth_finest else pyramid_layer(img32, scale, size))
            for scale, size in dense_pyramid_sizes(img.shape, scale_step, levels, min_size=min_size)]


@warmup_hook
def _warmup():
    build_optical_flow_pyramid(np.zeros((16, 16), np.uint8), (3, 3), 1)
