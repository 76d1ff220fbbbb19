"""MOSSE: the Minimum Output Sum of Squared Error correlation filter (Bolme et al. 2010).

A filter H is learnt in the Fourier domain so that correlating it with the target's patch gives a
sharp Gaussian peak at the target's centre: with ``F`` the DFT of the pre-processed patch (log,
zero mean, unit norm, cosine window) and ``G`` the DFT of the desired Gaussian response,
``H* = A / B``, ``A = sum G conj(F)``, ``B = sum F conj(F)`` over training patches (at the start,
the first patch under 8 small random affine warps), and the filter ``H = conj(A / B)`` is
correlated with each new patch: ``response = IFFT(F_new conj(H))`` peaks where the target is
(located to a fraction of a pixel by a parabola through the peak and its neighbours; OpenCV moves
by whole pixels).
Each frame, the patch at the last position is
correlated with the filter; the response peak gives the displacement; the peak-to-sidelobe
ratio (PSR) says whether the target is still there; ``A`` and ``B`` are updated as running
averages with learning rate ``rate``. Parameters and conventions follow OpenCV's
``cv2.legacy.TrackerMOSSE`` (psr threshold 5.7, rate 0.2, patch padded to DFT-friendly sizes,
fixed box size). The PSR is the paper's: its sidelobe leaves out the 11 x 11 window around the
peak (OpenCV's takes the whole response, which puts a well-tracked textured square on a flat
background at 5.3-5.8, around the threshold; with the paper's PSR the mean success AUC over
Crossing and eight synthetic scenes rose from 0.40 to 0.42, Crossing from 0.05 to 0.28).

References
----------
D. S. Bolme, J. R. Beveridge, B. A. Draper, Y. M. Lui. "Visual Object Tracking using Adaptive
Correlation Filters." CVPR 2010. doi:10.1109/CVPR.2010.5539960
"""

from __future__ import annotations

import numpy as np

from ..imgproc import fft
from .._jit import kernel, warmup_hook
from ..imgproc.vecmath import vector_log
from .._validate import check_float, check_image, check_int
from ..imgproc import gaussian_blur, remap
from .evaluation import exercise_tracker
from .common import (
    check_bbox,
    get_rect_sub_pix,
    gray_windows,
    hanning_window,
    optimal_dft_size,
    peak_to_sidelobe,
    subpixel_peak,
    to_gray,
)

__all__ = ["TrackerMOSSE"]


class TrackerMOSSE:
    """MOSSE correlation-filter tracker with the cv2 tracker interface.

    Parameters
    ----------
    rate : float in (0, 1]
        Learning rate of the running averages.
    psr_threshold : float
        ``update`` reports failure (and keeps the box) when the PSR is below this.
    eps : float
        Regulariser of the normalisation and of the PSR.
    n_warps : int
        Randomly warped copies of the first patch used to train the first filter.
    seed : int
        Seed of those warps (reproducible runs).

    Attributes
    ----------
    psr : float
        The last update's peak-to-sidelobe ratio.
    response : ndarray
        The last correlation response (for inspection).

    Examples
    --------
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(4, size=(96, 128), n_objects=1, seed=3)
    >>> frames, boxes = sv.sot.object_track(seq, 1)
    >>> tracker = sv.TrackerMOSSE()
    >>> tracker.init(frames[0], tuple(boxes[0]))
    >>> ok, box = tracker.update(frames[1])
    >>> bool(ok), len(box)
    (True, 4)
    """

    def __init__(self, rate: float = 0.2, psr_threshold: float = 5.7, eps: float = 1e-5, n_warps: int = 8,
                 seed: int = 0):
        self.rate = check_float(rate, "rate", low=0.0, high=1.0, low_open=True)
        self.psr_threshold = check_float(psr_threshold, "psr_threshold")
        self.eps = check_float(eps, "eps", low=0.0, low_open=True)
        self.n_warps = check_int(n_warps, "n_warps", low=0)
        self.seed = check_int(seed, "seed", low=0)
        self._shape = None
        self.psr = float("nan")
        self.response = None

    def _preprocess(self, patch):
        out = np.empty(patch.shape, np.float32)
        preprocess_patch(np.ascontiguousarray(patch, np.float32), self._window, self.eps, out)
        return out

    def _input(self, frame):
        """The pre-processed gray patch at the current centre of ``frame`` (H, W, 1 or 3), in one
        kernel call (into a buffer reused by the next call: transform it before that)."""
        preprocessed_window(frame, self._center.reshape(1, 2), self._window_size, self._window, self.eps,
                            self._raw, self._patch)
        return self._patch

    def _rand_warp(self, patch, rng):
        c = 0.1
        ang = rng.uniform(-c, c)
        a = np.array([[np.cos(ang) + rng.uniform(-c, c), -np.sin(ang) + rng.uniform(-c, c)],
                      [np.sin(ang) + rng.uniform(-c, c), np.cos(ang) + rng.uniform(-c, c)]])
        h, w = patch.shape
        centre = np.array([w / 2, h / 2])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
        # inverse map of the warp x' = A (x - c) + c, sampled with reflected borders
        inv = np.linalg.inv(a)
        dx, dy = xx - centre[0], yy - centre[1]
        sx = inv[0, 0] * dx + inv[0, 1] * dy + centre[0]
        sy = inv[1, 0] * dx + inv[1, 1] * dy + centre[1]
        sx = np.abs(np.mod(sx + w, 2 * w) - w)  # reflect into [0, w]
        sy = np.abs(np.mod(sy + h, 2 * h) - h)
        return remap(patch, np.minimum(sx, w - 1), np.minimum(sy, h - 1), border_mode="replicate")

    def init(self, frame, bbox) -> None:
        """Start tracking the box ``bbox = (x, y, w, h)`` in ``frame`` (gray or RGB)."""
        gray = to_gray(frame)
        box = check_bbox(bbox, gray.shape)
        w, h = optimal_dft_size(int(box[2])), optimal_dft_size(int(box[3]))
        x1 = np.floor((2 * box[0] + box[2] - w) / 2)
        y1 = np.floor((2 * box[1] + box[3] - h) / 2)
        self._center = np.array([x1 + w // 2, y1 + h // 2], np.float64)
        self._size = (w, h)
        self._window_size = np.array([[w, h]], np.float64)
        self._raw, self._patch = np.empty((1, h, w), np.float32), np.empty((h, w), np.float32)
        self._target = (float(box[2]), float(box[3]))
        self._offset = (box[0] + box[2] / 2 - self._center[0], box[1] + box[3] / 2 - self._center[1])
        self._shape = gray.shape[:2]
        self._window = hanning_window((w, h))
        g = np.zeros((h, w), np.float32)
        g[h // 2, w // 2] = 1.0
        g = gaussian_blur(g, (int(np.rint(2.0 * 4 * 2 + 1)) | 1,) * 2, 2.0)
        g /= g.max()
        self._G = fft.rfft2(g)  # real signals: half spectra throughout
        patch = get_rect_sub_pix(gray, self._size, self._center)
        rng = np.random.default_rng(self.seed)
        self._A = np.zeros_like(self._G)
        self._B = np.zeros(self._G.shape, np.float32)
        self._H = np.zeros_like(self._G)
        for k in range(max(self.n_warps, 1)):
            p = self._rand_warp(patch, rng) if self.n_warps else patch
            learn_filter(self._A, self._B, self._H, self._G, fft.rfft2(self._preprocess(p)), 1.0, 1.0, self.eps)

    def update(self, frame):
        """Track into ``frame``: ``(ok, (x, y, w, h))``; ``ok`` is False (box unchanged) when the
        PSR falls below the threshold or the target has left the frame."""
        if self._shape is None:
            raise ValueError("update() called before init()")
        img = check_image(frame, "frame")
        if img.shape[:2] != self._shape:
            raise ValueError(f"frame has shape {img.shape[:2]}, the tracker was initialised on {self._shape}")
        img = np.ascontiguousarray(img.reshape(img.shape[0], img.shape[1], -1))  # (H, W, 1 or 3)
        patch = self._input(img)
        self.response = fft.irfft2(fft.rfft2(patch) * self._H, patch.shape)
        _, (px, py), self.psr = peak_to_sidelobe(self.response, self.eps)
        if not self.psr >= self.psr_threshold:
            return False, self.box
        w, h = self._size
        dx, dy = subpixel_peak(self.response, px, py)
        self._center += (px + dx - w // 2, py + dy - h // 2)
        cx, cy = self._center
        if not (0 <= cx < img.shape[1] and 0 <= cy < img.shape[0]):
            return False, self.box
        F = fft.rfft2(self._input(img))
        learn_filter(self._A, self._B, self._H, self._G, F, 1.0 - self.rate, self.rate, self.eps)
        return True, self.box

    @property
    def box(self):
        """The current box (x, y, w, h): the initial box's size, moved with the filter's centre
        (cv2's MOSSE reports the filter's padded DFT size instead)."""
        w, h = self._target
        cx = self._center[0] + self._offset[0]
        cy = self._center[1] + self._offset[1]
        return (float(cx - 0.5 * w), float(cy - 0.5 * h), w, h)


@kernel
def preprocess_patch(patch, window, eps, out):
    """MOSSE's pre-processing into ``out``: ``log(p + 1)`` (float32, correctly rounded:
    :func:`~scratchvision.imgproc.vecmath.vector_log`), zero mean and unit standard deviation (``+ eps``;
    statistics in float64), times the cosine ``window``; float32."""
    h, w = patch.shape
    for i in range(h):
        for j in range(w):
            out[i, j] = np.float32(vector_log(np.float64(patch[i, j] + np.float32(1.0))))
    mean, std = _mean_std(out)
    m = np.float32(mean)
    scale = np.float32(std) + np.float32(eps)
    for i in range(h):
        for j in range(w):
            out[i, j] = (out[i, j] - m) / scale * window[i, j]


@kernel
def preprocessed_window(frame, centers, sizes, window, eps, raw, out):
    """MOSSE's input in one call: the gray window (:func:`~scratchvision.sot.common.gray_windows`
    into ``raw`` (1, h, w)), pre-processed (:func:`preprocess_patch`) into ``out``."""
    gray_windows(frame, centers, sizes, raw)
    preprocess_patch(raw[0], window, eps, out)


@kernel(fastmath=True)
def _mean_std(values):
    """Mean and (population) standard deviation of a 2-D array, summed in float64; fast-math lets
    LLVM keep several partial sums at once (the order of the additions is its choice)."""
    h, w = values.shape
    total = 0.0
    for i in range(h):
        for j in range(w):
            total += values[i, j]
    mean = total / (h * w)
    squares = 0.0
    for i in range(h):
        for j in range(w):
            d = values[i, j] - mean
            squares += d * d
    return mean, np.sqrt(squares / (h * w))


@kernel
def learn_filter(A, B, H, G, F, keep, rate, eps):
    """The running averages ``A = keep A + rate G conj(F)`` and ``B = keep B + rate |F|^2`` (half
    spectra), and ``H = A / (B + eps)``: the paper's ``H*``, which the correlation multiplies by
    (``response = IFFT(F_new H*)``). The division by the real ``B + eps`` divides both parts (the
    value complex division gives, without its branches)."""
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            f = F[i, j]
            A[i, j] = keep * A[i, j] + rate * (G[i, j] * np.conj(f))
            a = A[i, j]
            B[i, j] = keep * B[i, j] + rate * (f.real * f.real + f.imag * f.imag)
            d = B[i, j] + eps
            H[i, j] = complex(a.real / d, a.imag / d)


@warmup_hook
def _warmup():
    """TrackerMOSSE on tiny uint8 RGB and gray videos: every kernel its updates call."""
    exercise_tracker(TrackerMOSSE)
