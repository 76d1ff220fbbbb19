"""Image operations shared by the whole package, one module per topic.

* :mod:`~scratchvision.imgproc.border`: OpenCV's default border (reflect-101), for one index, one
  padded row or a padded copy of an image.
* :mod:`~scratchvision.imgproc.bilinear`: bilinear sampling at arbitrary positions (``cv2.remap``).
* :mod:`~scratchvision.imgproc.color`: RGB to gray and to HSV with OpenCV's exact arithmetic.
* :mod:`~scratchvision.imgproc.filters`: the Gaussian kernel, Gaussian and median blur.
* :mod:`~scratchvision.imgproc.derivatives`: Scharr and central-difference gradients.
* :mod:`~scratchvision.imgproc.resample`: separable bilinear sampling on grids, ``cv2.resize``,
  ``cv2.pyrDown`` and the ReID networks' patches.

The kernel-level helpers beside them are the building blocks of other subpackages' kernels:
:mod:`~scratchvision.imgproc.simd` (a four-lane float32 register, for OpenCV's SIMD sums),
:mod:`~scratchvision.imgproc.vecmath` (exp, log, erf and tanh that Numba loops vectorise) and
:mod:`~scratchvision.imgproc.fft` (SciPy's real 2-D FFTs without their argument checks).

Coordinates follow OpenCV: pixel ``(row i, column j)`` has its centre at ``x = j, y = i``.
"""

from .border import fill_border_reflect101, pad_reflect101, reflect101
from .color import rgb_to_gray, rgb_to_hsv, to_uint8
from .derivatives import central_gradient, scharr_derivatives, scharr_kernel
from .filters import gaussian_blur, gaussian_kernel, median_blur
from .bilinear import BORDER_MODES, blend_bilinear, remap, sample_bilinear
from .resample import (crop_patches, interpolate_rows, linear_tap, linear_taps, pyr_down, resize, resize_uint8,
                       sample_separable, sample_separable_checked, window_taps)

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["remap", "rgb_to_gray", "rgb_to_hsv", "gaussian_kernel", "gaussian_blur", "median_blur",
           "scharr_derivatives", "central_gradient", "resize", "resize_uint8", "pyr_down", "crop_patches"]
__all__ += ["to_uint8", "pad_reflect101", "BORDER_MODES", "reflect101", "fill_border_reflect101",
            "sample_bilinear", "blend_bilinear", "scharr_kernel", "linear_taps", "linear_tap", "window_taps",
            "interpolate_rows", "sample_separable", "sample_separable_checked"]
