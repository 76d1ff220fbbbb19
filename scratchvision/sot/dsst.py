"""DSST scale estimation: a one-dimensional correlation filter over a pyramid of scales.

Around the target's centre, ``number_of_scales`` windows of the target's size times
``scale_step**k`` (k from +n/2 down to -n/2) are each resampled to one small grid (at most
``scale_model_max_area`` pixels), described by FHOG on 4-pixel cells (without the outer ring of
cells, whose normalising blocks reach outside the window, as in Felzenszwalb's and OpenCV's
HOG) and flattened into one column; a Hann
window across the scales tapers the columns. A filter along the scale axis is learnt, like MOSSE,
so that correlating these columns gives a Gaussian peak at the current scale:
``num = Y^ conj(X^)`` per feature row, ``den = sum_rows |X^|^2``, both running averages with
``scale_lr``. On a new frame the response ``IFFT(sum_rows num Z^ / (den + 0.01))`` peaks at the
scale change, which multiplies the current scale, clamped to what the frame and a 5-pixel
minimum allow.

This is the scale search of CSRT as OpenCV builds it (``trackerCSRTScaleEstimation.cpp``).

References
----------
M. Danelljan, G. Hager, F. S. Khan, M. Felsberg. "Accurate Scale Estimation for Robust Visual
Tracking." BMVC 2014. doi:10.5244/C.28.65
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_float, check_image, check_int
from .common import hanning_window, sample_windows
from .cell_features import fhog_stack

__all__ = ["ScaleEstimator"]


def _check_center(center):
    c = as_array(center, "center").astype(np.float64).ravel()
    if c.shape != (2,) or not np.isfinite(c).all():
        raise ValueError(f"center must be two finite numbers (x, y), got {center!r}")
    return c


class ScaleEstimator:
    """The DSST scale filter (parameters under OpenCV's TrackerCSRT names).

    Parameters
    ----------
    number_of_scales : int, odd
    scale_step : float > 1
        Ratio between neighbouring scales.
    scale_sigma_factor : float
        Width of the Gaussian label: ``sqrt(number_of_scales) scale_sigma_factor`` scales.
    scale_lr : float
        Learning rate of the running averages.
    scale_model_max_area : float
        Largest area in pixels of the grid every scale's window is resampled to.

    Attributes
    ----------
    scale : float
        The current scale relative to the initial target size.
    factors : ndarray
        The scale changes tried each frame (largest first).
    response : ndarray or None
        The last scale response, one value per factor.
    """

    def __init__(self, number_of_scales: int = 33, scale_step: float = 1.02, scale_sigma_factor: float = 0.25,
                 scale_lr: float = 0.025, scale_model_max_area: float = 512.0):
        self.number_of_scales = check_int(number_of_scales, "number_of_scales", low=1)
        if self.number_of_scales % 2 == 0:
            raise ValueError(f"number_of_scales must be odd, got {number_of_scales}")
        self.scale_step = check_float(scale_step, "scale_step", low=1.0, low_open=True)
        self.scale_sigma_factor = check_float(scale_sigma_factor, "scale_sigma_factor", low=0.0, low_open=True)
        self.scale_lr = check_float(scale_lr, "scale_lr", low=0.0, high=1.0)
        self.scale_model_max_area = check_float(scale_model_max_area, "scale_model_max_area", low=64.0)
        self.response = None

    def init(self, frame, center, target_size, template_side: float) -> None:
        """Learn the first filter at ``center`` for a target of ``target_size = (w, h)``;
        ``template_side`` (the padded search window's side) sets the grid size."""
        frame = check_image(frame, "frame")
        center = _check_center(center)
        target_size = as_array(target_size, "target_size").astype(np.float64).ravel()
        if target_size.shape != (2,) or not (np.isfinite(target_size).all() and (target_size > 0).all()):
            raise ValueError(f"target_size must be a positive finite (w, h), got {target_size}")
        template_side = check_float(template_side, "template_side", low=0.0, low_open=True)
        n = self.number_of_scales
        half = int(np.ceil(n / 2))
        self.factors = self.scale_step ** (half - np.arange(1, n + 1, dtype=np.float64))
        sigma = np.sqrt(n) * self.scale_sigma_factor
        self._yf = np.fft.rfft(np.exp(-0.5 * (np.arange(1, n + 1) - half) ** 2 / sigma**2))
        self._window = hanning_window((n, 1))[0].astype(np.float64)
        shrink = min(1.0, np.sqrt(self.scale_model_max_area / template_side**2))
        self._grid = (max(int(template_side * shrink), 12),) * 2
        self._target = (float(target_size[0]), float(target_size[1]))
        log_step = np.log(self.scale_step)
        self.min_scale = self.scale_step ** np.ceil(np.log(5.0 / template_side) / log_step)
        self.max_scale = self.scale_step ** np.floor(
            np.log(min(frame.shape[1] / self._target[0], frame.shape[0] / self._target[1])) / log_step)
        self.scale = 1.0
        xf = self._features(frame, center)
        self._num = self._yf * np.conj(xf)
        self._den = (np.abs(xf) ** 2).sum(axis=0)

    def _features(self, frame, center) -> np.ndarray:
        """The spectra along the scale axis of the windows' FHOG columns: (features, n // 2 + 1)."""
        sizes = np.floor(self.scale * self.factors[:, None] * np.array(self._target))
        windows = sample_windows(frame, [center] * len(sizes), np.maximum(sizes, 1), self._grid)
        inner = fhog_stack(windows.reshape(windows.shape[:3] + (-1,)), 4)[:, 1:-1, 1:-1]
        columns = inner.reshape(len(sizes), -1).T
        return np.fft.rfft(columns * self._window, axis=1)

    def _check_call(self, frame, center):
        if not hasattr(self, "_num"):
            raise ValueError("ScaleEstimator used before init()")
        return check_image(frame, "frame"), _check_center(center)

    def estimate(self, frame, center) -> float:
        """The new scale: the current one times the factor where the response peaks (clamped)."""
        frame, center = self._check_call(frame, center)
        zf = self._features(frame, center)
        self.response = np.fft.irfft((self._num * zf).sum(axis=0) / (self._den + 0.01), n=self.number_of_scales)
        self.scale = float(np.clip(self.scale * self.factors[int(np.argmax(self.response))],
                                   self.min_scale, self.max_scale))
        return self.scale

    def update(self, frame, center) -> None:
        """Blend the filter learnt at ``center`` and the current scale into the model."""
        frame, center = self._check_call(frame, center)
        xf = self._features(frame, center)
        lr = self.scale_lr
        self._num = (1 - lr) * self._num + lr * self._yf * np.conj(xf)
        self._den = (1 - lr) * self._den + lr * (np.abs(xf) ** 2).sum(axis=0)
