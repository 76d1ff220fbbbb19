"""KCF: kernelized correlation filters (Henriques et al. 2015), with FHOG + gray features and a
three-scale search.

A ridge regression on all cyclic shifts of the target's feature patch ``x`` (a window
``1 + padding`` times the target, on a grid of 4x4-pixel cells whose counts are moved to the
nearest FFT-friendly size, tapered by a cosine window)
towards a Gaussian-shaped label ``y`` is solved in the Fourier domain thanks to the circulant
structure: with the Gaussian kernel correlation ``k^{xx'} = exp(-(|x|^2 + |x'|^2 - 2 F^-1(sum_c
x_c^ conj(x'_c^))) / (sigma^2 N))``, the dual coefficients are ``alpha^ = y^ / (k^{xx}^ +
lambda)``, and the response on a new patch ``z`` is ``F^-1(k^{xz}^ alpha^)``. Its peak gives the
translation (wrapping around; a parabola through the peak refines it within a cell); the patch
is also tried at 0.95 and 1.05 times the scale and the best peak, slightly penalised away from
scale 1, sets the new scale. ``alpha^`` and the template ``x^`` are running averages with
``interp_factor``. ``ok`` is False when the best peak is below ``detect_thresh``.

Features are chosen by OpenCV's flags: ``desc_npca`` are used as they are, ``desc_pca`` are
compressed by PCA to ``compressed_size`` channels (OpenCV's scheme: the projection is the
leading eigenvectors of the features' covariance over the running template, itself a running
average with ``pca_learning_rate``; template and new patch go through the same projection). The
descriptors are :attr:`TrackerKCF.GRAY` (the gray level in [-0.5, 0.5]), :attr:`TrackerKCF.CN`
(the 10 colour-name channels, :mod:`~scratchvision.sot.colour_naming`) and :attr:`TrackerKCF.HOG`
(31-channel FHOG, :mod:`~scratchvision.sot.cell_features`; on a colour frame each pixel's strongest
channel), all averaged over cells of ``cell_size`` pixels.

The defaults are gray + FHOG uncompressed, the paper's best features (on a colour frame they
lifted the mean success AUC over Crossing and ten synthetic scenes from 0.41 to 0.57 against
gray FHOG), with the paper's HOG settings (``sigma`` 0.5, ``interp_factor`` 0.02,
``output_sigma_factor`` 0.1). OpenCV's TrackerKCF uses gray + colour names compressed to 2
channels, on single pixels: ``TrackerKCF(desc_npca=TrackerKCF.GRAY, desc_pca=TrackerKCF.CN)``
gives that feature set on our cells, window and scale search (mean success AUC over Crossing and
nine synthetic scenes 0.37 against gray + FHOG's 0.50 and OpenCV's 0.16). Gray + FHOG
response peaks run lower than OpenCV's, so ``detect_thresh`` defaults to 0.2 instead of
OpenCV's 0.5 (at 0.5 it gave up on the OTB Crossing pedestrian after 2 frames; at 0.2 it
follows it to the end, success AUC 0.76). The FFTs are SciPy's pocketfft, called directly
(:mod:`scratchvision.imgproc.fft`): they keep the float32 features in single precision (NumPy's always
compute in double), which made ``update`` 1.1-1.4x faster.

References
----------
J. F. Henriques, R. Caseiro, P. Martins, J. Batista. "High-Speed Tracking with Kernelized
Correlation Filters." IEEE TPAMI 37(3), 2015. doi:10.1109/TPAMI.2014.2345390
"""

from __future__ import annotations

import numpy as np

from ..imgproc import fft
from .._jit import kernel, warmup_hook
from .._validate import check_bool, check_float, check_image, check_int
from ..imgproc import interpolate_rows, window_taps
from .colour_naming import colour_name_planes_kernel, reduced_table
from .evaluation import exercise_tracker
from .common import check_bbox, gray_pixels, hanning_window, nearest_dft_size, subpixel_peak
from .cell_features import fhog_planes_kernel, gray_planes_kernel

__all__ = ["TrackerKCF"]


class TrackerKCF:
    """Kernelized correlation filter tracker with the cv2 tracker interface.

    Parameters
    ----------
    detect_thresh : float
        Minimum response peak for ``update`` to report success.
    sigma : float > 0
        Bandwidth of the Gaussian kernel.
    lambda_ : float > 0
        Ridge regularisation.
    interp_factor : float in (0, 1]
        Learning rate of the model.
    output_sigma_factor : float > 0
        Label width relative to the target size.
    padding : float >= 0
        Context around the target: the window is ``1 + padding`` times its size (give or take
        the few percent that bring its cell counts to the nearest ``2^a 3^b 5^c``: a prime
        count such as 31 makes the FFTs twice as slow).
    cell_size : int
        Side in pixels of the cells the features are averaged over (HOG's cells).
    scale_step : float >= 1
        Scales ``1/scale_step, 1, scale_step`` are tried each frame (1 disables scale search).
    max_patch_size : int
        Largest window area in pixels before the window is resampled smaller.
    desc_pca, desc_npca : int
        The descriptors compressed by PCA and those used as they are: sums of :attr:`GRAY`,
        :attr:`CN` and :attr:`HOG` (OpenCV's flags; ``HOG`` is ours). Colour names need RGB
        frames: a gray frame is refused, as OpenCV does.
    compress_feature : bool
        Compress ``desc_pca`` (False: use them uncompressed; OpenCV reads this flag but always
        compresses).
    compressed_size : int
        Channels the ``desc_pca`` descriptors are compressed to.
    pca_learning_rate : float in (0, 1]
        Learning rate of the covariance the projection is taken from.

    Attributes
    ----------
    peak : float
        The last update's best response value.
    response : ndarray
        The last response map (cells).
    projection : ndarray or None
        The current PCA projection (channels of ``desc_pca``, ``compressed_size``), float64.

    Examples
    --------
    >>> import scratchvision as sv
    >>> seq = sv.synthetic_sequence(4, size=(96, 128), n_objects=1, seed=3, color=True)
    >>> frames, boxes = sv.sot.object_track(seq, 1, whole_first_box=True)
    >>> tracker = sv.TrackerKCF()
    >>> tracker.init(frames[0], tuple(boxes[0]))
    >>> ok, box = tracker.update(frames[1])
    >>> bool(ok), len(box)
    (True, 4)
    """

    #: Descriptor flags, OpenCV's values for the first two.
    GRAY, CN, HOG = 1, 2, 8

    def __init__(self, detect_thresh: float = 0.2, sigma: float = 0.5, lambda_: float = 1e-4,
                 interp_factor: float = 0.02, output_sigma_factor: float = 0.1, padding: float = 1.5,
                 cell_size: int = 4, scale_step: float = 1.05, max_patch_size: int = 25600, *,
                 desc_pca: int = 0, desc_npca: int = GRAY | HOG, compress_feature: bool = True,
                 compressed_size: int = 2, pca_learning_rate: float = 0.15):
        self.detect_thresh = check_float(detect_thresh, "detect_thresh")
        self.sigma = check_float(sigma, "sigma", low=0.0, low_open=True)
        self.lambda_ = check_float(lambda_, "lambda_", low=0.0, low_open=True)
        self.interp_factor = check_float(interp_factor, "interp_factor", low=0.0, high=1.0, low_open=True)
        self.output_sigma_factor = check_float(output_sigma_factor, "output_sigma_factor", low=0.0, low_open=True)
        self.padding = check_float(padding, "padding", low=0.0)
        self.cell_size = check_int(cell_size, "cell_size", low=1)
        self.scale_step = check_float(scale_step, "scale_step", low=1.0)
        self.max_patch_size = check_int(max_patch_size, "max_patch_size", low=64)
        everything = self.GRAY | self.CN | self.HOG
        self.desc_pca = check_int(desc_pca, "desc_pca", low=0, high=everything)
        self.desc_npca = check_int(desc_npca, "desc_npca", low=0, high=everything)
        self.compress_feature = check_bool(compress_feature, "compress_feature")
        self.pca_learning_rate = check_float(pca_learning_rate, "pca_learning_rate", low=0.0, high=1.0, low_open=True)
        self._used = self.desc_pca | self.desc_npca
        if self._used & ~everything or self._used == 0:
            raise ValueError(f"desc_pca | desc_npca must combine TrackerKCF.GRAY, CN and HOG (1, 2, 8), got "
                             f"{self.desc_pca} and {self.desc_npca}")
        if self.desc_pca & self.desc_npca:
            raise ValueError(f"desc_pca ({self.desc_pca}) and desc_npca ({self.desc_npca}) share a descriptor")
        # channels of the feature stack, in the order window_features writes them
        flags = np.repeat([f for f in (self.GRAY, self.HOG, self.CN) if self._used & f],
                          [_CHANNELS[f] for f in (self.GRAY, self.HOG, self.CN) if self._used & f])
        compress = self.desc_pca if self.compress_feature else 0
        self._pca_channels = np.flatnonzero(flags & compress)
        self._npca_channels = np.flatnonzero((flags & compress) == 0) if len(self._pca_channels) else None
        self.compressed_size = check_int(compressed_size, "compressed_size", low=1,
                                         high=len(self._pca_channels) or None)
        self._shape = None
        self.peak = float("nan")
        self.response = None
        self.projection = None

    def _features(self, frame, center, scales):
        """The tapered feature stacks (K, channels, cells_h, cells_w: gray, FHOG, colour names,
        those in use) of the windows at ``center`` and each of ``scales``, sampled in one pass:
        the half spectra of the uncompressed channels, and the compressed ones in space (None
        without compression)."""
        sizes = np.array([(self._window[0] * s, self._window[1] * s) for s in scales])
        channels = sum(_CHANNELS[f] for f in _CHANNELS if self._used & f)
        feats = np.empty((len(scales), channels) + self._cos.shape, np.float32)
        img = np.ascontiguousarray(frame if frame.ndim == 3 else frame[..., None])
        table = reduced_table() if self._used & self.CN else _NO_TABLE
        window_features(img, np.tile(center, (len(scales), 1)), sizes, self.cell_size, self._cos,
                        bool(self._used & self.GRAY), bool(self._used & self.HOG), table, feats)
        if self._npca_channels is None:
            return fft.rfft2(feats, axes=(2, 3)), None  # real signals: half spectra
        return fft.rfft2(feats[:, self._npca_channels], axes=(2, 3)), feats[:, self._pca_channels]

    def _compressed(self, pca):
        """Half spectra of the channels ``pca`` (K, P, h, w) projected on :attr:`projection`."""
        projected = np.einsum("kpyx,pm->kmyx", pca, self.projection.astype(np.float32), optimize=True)
        return fft.rfft2(projected, axes=(2, 3))

    def _update_projection(self):
        """OpenCV's PCA step: the covariance of the template's compressed channels (centred,
        over all cells), blended into the running covariance; the projection is its
        ``compressed_size`` leading eigenvectors, and the running covariance keeps only their
        part."""
        z = self._template_pca.reshape(len(self._pca_channels), -1).astype(np.float64)
        z = z - z.mean(axis=1, keepdims=True)
        covariance = z @ z.T / (z.shape[1] - 1)
        if self._covariance is None:
            self._covariance = covariance
        rate = self.pca_learning_rate
        values, vectors = np.linalg.eigh((1 - rate) * self._covariance + rate * covariance)
        keep = np.argsort(values)[::-1][:self.compressed_size]
        self.projection = vectors[:, keep]
        self._covariance = ((1 - rate) * self._covariance
                            + rate * (self.projection * values[keep]) @ self.projection.T)

    def _template(self):
        """The model's half spectra: the uncompressed channels' running average, then the
        compressed channels of the running template."""
        if self._template_pca is None:
            return self._xf
        return np.concatenate([self._xf, self._compressed(self._template_pca[None])[0]])

    def _learn(self, npca, pca, first):
        """Blend the features of the window at the target (``npca`` half spectra, ``pca`` in
        space) into the template, then the dual coefficients they give into ``alphaf``."""
        self._blend("_xf", npca, first)
        xf = npca
        if pca is not None:
            self._blend("_template_pca", pca, first)
            self._update_projection()
            xf = np.concatenate([npca, self._compressed(pca[None])[0]])
        self._blend("_alphaf", self._yf / (self._kernel(xf, xf[None])[0] + self.lambda_), first)

    def _blend(self, name, new, first):
        """The model array ``name`` becomes ``new`` on the first frame, then its running average
        with rate ``interp_factor`` (in place)."""
        if first:
            setattr(self, name, new.copy())
            return
        model = getattr(self, name)
        model *= 1 - self.interp_factor
        model += self.interp_factor * new

    def _kernel(self, xf, zf):
        """Gaussian kernel correlation of all cyclic shifts of ``xf`` (C, cells_h, cells_w) with
        each of the stacks ``zf`` (K, C, ...), in the Fourier domain: (K, cells_h, cells_w)."""
        cross = np.empty(zf.shape[:1] + zf.shape[2:], zf.dtype)
        energies = np.empty(len(zf), np.float32)
        correlation_terms(xf, zf, self._twin_weights, self._cells, cross, energies)
        d = fft.irfft2(cross, self._cos.shape, axes=(1, 2))  # x . z per shift, then in place:
        d *= -2
        d += energies[:, None, None]  # |x|^2 + |z|^2 - 2 x . z
        np.maximum(d, 0, out=d)
        d /= -(self.sigma**2 * self._cells * xf.shape[0])
        return fft.rfft2(np.exp(d, out=d), axes=(1, 2))

    def _check_frame(self, frame):
        img = check_image(frame, "frame")
        if self._used & self.CN and img.ndim == 2:
            raise ValueError("frame is gray, but the tracker's descriptors include colour names (TrackerKCF.CN), "
                             "which need RGB frames (H, W, 3)")
        return img

    def init(self, frame, bbox) -> None:
        """Start tracking the box ``bbox = (x, y, w, h)`` in ``frame`` (gray or RGB)."""
        img = self._check_frame(frame)
        box = check_bbox(bbox, img.shape)
        self._shape = img.shape[:2]
        self._target = (float(box[2]), float(box[3]))
        self._center = np.array([box[0] + box[2] / 2, box[1] + box[3] / 2])
        self._scale = 1.0
        ww, wh = (max(v * (1 + self.padding), 2.0 * self.cell_size) for v in self._target)
        shrink = max(1.0, np.sqrt(ww * wh / self.max_patch_size))
        c = self.cell_size
        template = tuple(nearest_dft_size(max(int(v / shrink) // c, 2)) * c for v in (ww, wh))
        self._window = (template[0] * shrink, template[1] * shrink)
        self._pixel_per_cell = c * shrink
        cw, ch = template[0] // c, template[1] // c
        self._cos = hanning_window((cw, ch))
        self._cells = cw * ch
        columns = np.arange(cw // 2 + 1)  # of the half spectrum; all but the first (and Nyquist) stand for two
        self._twin_weights = np.tile(np.where((columns == 0) | (2 * columns == cw), 1.0, 2.0),
                                     ch)  # per cell, flattened
        s = np.sqrt(self._target[0] * self._target[1]) / self._pixel_per_cell * self.output_sigma_factor
        ys = np.arange(ch) - ch // 2
        xs = np.arange(cw) - cw // 2
        y = np.exp(-0.5 * (ys[:, None] ** 2 + xs[None, :] ** 2) / s**2)
        self._yf = fft.rfft2(np.fft.ifftshift(y))  # peak at the origin (no shift)
        self._template_pca = self._covariance = self.projection = None
        npca, pca = self._features(img, self._center, [1.0])
        self._learn(npca[0], None if pca is None else pca[0], first=True)

    def update(self, frame):
        """Track into ``frame``: ``(ok, (x, y, w, h))``; when the best response is below
        ``detect_thresh`` the box is kept and ``ok`` is False."""
        if self._shape is None:
            raise ValueError("update() called before init()")
        img = self._check_frame(frame)
        if img.shape[:2] != self._shape:
            raise ValueError(f"frame has shape {img.shape[:2]}, the tracker was initialised on {self._shape}")
        factors = (1.0,) if self.scale_step == 1.0 else (1.0, 1 / self.scale_step, self.scale_step)
        zf, pca = self._features(img, self._center, [self._scale * f for f in factors])
        if pca is not None:
            zf = np.concatenate([zf, self._compressed(pca)], axis=1)
        responses = fft.irfft2(self._alphaf * self._kernel(self._template(), zf), self._cos.shape, axes=(1, 2))
        best, self.peak, py, px = best_response(responses, _SCALE_PENALTIES[:len(factors)])
        scale, self.response = self._scale * factors[best], responses[best]
        if not self.peak >= self.detect_thresh:
            return False, self.box
        h, w = self.response.shape
        fx, fy = subpixel_peak(self.response, px, py)  # a fraction of a cell
        dy = (py - h if py > h // 2 else py) + fy
        dx = (px - w if px > w // 2 else px) + fx
        self._center = self._center + np.array([dx, dy]) * self._pixel_per_cell * scale
        self._scale = scale
        if not (0 <= self._center[0] < img.shape[1] and 0 <= self._center[1] < img.shape[0]):
            return False, self.box
        npca, pca = self._features(img, self._center, [scale])
        self._learn(npca[0], None if pca is None else pca[0], first=False)
        return True, self.box

    @property
    def box(self):
        """The current box (x, y, w, h): the initial size times the current scale."""
        w, h = self._target[0] * self._scale, self._target[1] * self._scale
        return (float(self._center[0] - w / 2), float(self._center[1] - h / 2), float(w), float(h))


#: Channels of each descriptor.
_CHANNELS = {TrackerKCF.GRAY: 1, TrackerKCF.HOG: 31, TrackerKCF.CN: 10}

#: The table argument of :func:`window_features` when colour names are not used.
_NO_TABLE = np.zeros((1, 10), np.float32)


#: Weights of the responses' peaks at scales 1, 1 / scale_step and scale_step: a change of scale
#: must beat staying by 5 %.
_SCALE_PENALTIES = np.array([1.0, 0.95, 0.95])


@kernel
def best_response(responses, penalties):
    """The response (K, h, w) whose maximum times ``penalties[k]`` (in float64) is largest, the
    first such: ``(k, that product, row, column of the maximum)`` (its first occurrence)."""
    h, w = responses.shape[1], responses.shape[2]
    best, best_value, best_index = 0, -np.inf, 0
    for k in range(responses.shape[0]):
        flat = responses[k].reshape(h * w)
        index = 0
        for i in range(1, h * w):
            if flat[i] > flat[index]:
                index = i
        value = np.float64(flat[index]) * penalties[k]
        if value > best_value:
            best, best_value, best_index = k, value, index
    return best, best_value, best_index // w, best_index % w


@kernel
def window_features(frame, centers, sizes, cell, taper, gray, hog, table, feats):
    """KCF's feature stacks in one call: the windows of ``sizes[k]`` centred at ``centers[k]`` in
    ``frame`` (H, W, C: gray or RGB), sampled on the grid of ``feats`` (K, channels, cells_h,
    cells_w) times ``cell`` (:func:`~scratchvision.imgproc.interpolate_rows`); in the channels,
    in this order: the gray level per cell (``gray``), the FHOG (``hog``), and the colour names
    (when ``feats`` has channels left: the rows of ``table`` averaged per cell, RGB frames only);
    everything times the cosine ``taper``."""
    k, nc, ch, cw = feats.shape
    oh, ow = ch * cell, cw * cell
    x0, ax, y0, ay = window_taps(centers, sizes, ow, oh, frame.shape[1], frame.shape[0])
    patches = np.empty((k, oh, ow, frame.shape[2]), np.float32)
    interpolate_rows(frame, x0, ax, y0, ay, patches, 0, k * oh)
    channel = 0
    if gray:
        values = np.empty((k, oh, ow), np.float32)
        if frame.shape[2] == 3:
            gray_pixels(patches.reshape((-1, 3)), values.reshape(-1))
        else:
            values[:] = patches[..., 0]
        gray_planes_kernel(values, cell, feats, channel)
        channel += 1
    if hog:
        fhog_planes_kernel(patches, cell, feats, channel)
        channel += 31
    if channel < nc:
        colour_name_planes_kernel(patches, cell, table, feats, channel)
    for i in range(k):
        for c in range(nc):
            for y in range(ch):
                for x in range(cw):
                    feats[i, c, y, x] *= taper[y, x]


@kernel
def correlation_terms(xf, zf, weights, cells, cross, energies):
    """The Fourier-domain terms of KCF's Gaussian kernel correlation of ``x`` with each stack
    ``z_k`` (half spectra over cells, first axis the channels): the channel-summed cross power
    ``cross[k] = sum_c z_k^ conj(x^)`` (in double precision, channel after channel) and
    ``energies[k] = (|x|^2 + |z_k|^2) / cells`` (:func:`spectrum_energy`, with its per-cell
    ``weights``). The spectra are walked flattened, so the loops are long enough to vectorise."""
    nc, ch, cw = xf.shape
    n = ch * cw
    x = xf.reshape((nc, n))
    ex = spectrum_energy(x, weights)
    acc = np.empty(n, np.complex128)
    for k in range(zf.shape[0]):
        z = zf[k].reshape((nc, n))
        acc[:] = 0.0
        for c in range(nc):
            for p in range(n):
                acc[p] += np.complex128(z[c, p]) * np.conj(np.complex128(x[c, p]))
        flat = cross[k].reshape(n)
        for p in range(n):
            flat[p] = acc[p]
        energies[k] = (ex + spectrum_energy(z, weights)) / cells


@kernel(fastmath=True)
def spectrum_energy(spectra, weights):
    """``sum |f|^2`` of half spectra (channels, flattened cells), by Parseval: ``weights`` is 2
    for the columns that stand for a conjugate twin, else 1. In double precision; fast-math lets
    LLVM keep several partial sums."""
    total = 0.0
    for c in range(spectra.shape[0]):
        for p in range(spectra.shape[1]):
            v = spectra[c, p]
            total += weights[p] * (np.float64(v.real) * v.real + np.float64(v.imag) * v.imag)
    return total


@warmup_hook
def _warmup():
    """TrackerKCF on tiny uint8 RGB and gray videos: every kernel its updates call."""
    exercise_tracker(TrackerKCF)
    exercise_tracker(lambda: TrackerKCF(desc_npca=TrackerKCF.GRAY, desc_pca=TrackerKCF.CN), gray=False)
