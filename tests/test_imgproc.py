"""The bilinear sampler and the RGB->gray conversion, against SciPy and OpenCV."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import ndimage

from conftest import shared_path
import naive
from scratchvision.imgproc import (gaussian_blur, gaussian_kernel, pad_reflect101, remap, resize, resize_uint8,
                                   rgb_to_gray, rgb_to_hsv)

sizes = st.tuples(st.integers(2, 40), st.integers(2, 40))


@given(size=sizes, seed=st.integers(0, 2**32 - 1), dtype=st.sampled_from([np.uint8, np.float32]))
def test_remap_equals_scipy_map_coordinates(size, seed, dtype):
    """Exact bilinear interpolation: equal to map_coordinates(order=1) to float32 rounding."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = (rng.random((h, w)) * 255).astype(dtype)
    mx = rng.uniform(-3, w + 2, (17, 23)).astype(np.float32)
    my = rng.uniform(-3, h + 2, (17, 23)).astype(np.float32)
    ours = remap(img, mx, my, border_mode="constant", border_value=7.0)
    # map_coordinates' constant mode blends in cval like cv2's BORDER_CONSTANT when grid_mode=False
    # only inside; compare on points whose four neighbours are inside, and separately the border.
    ref = ndimage.map_coordinates(img.astype(np.float64), [my, mx], order=1, mode="nearest")
    inside = (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
    np.testing.assert_allclose(ours[inside], ref[inside], rtol=1e-6, atol=1e-4)
    replicate = remap(img, mx, my, border_mode="replicate")
    np.testing.assert_allclose(replicate, ref, rtol=1e-6, atol=1e-4)


@given(size=sizes, seed=st.integers(0, 2**32 - 1))
def test_remap_equals_cv2_to_its_coordinate_rounding(cv2, size, seed):
    """cv2.remap rounds positions to 1/32 px: the difference is bounded by gradient/64."""
    rng = np.random.default_rng(seed)
    h, w = size
    img = rng.random((h, w)).astype(np.float32) * 255
    mx = rng.uniform(-2, w + 1, (9, 11)).astype(np.float32)
    my = rng.uniform(-2, h + 1, (9, 11)).astype(np.float32)
    for mode, cv_mode in (("constant", cv2.BORDER_CONSTANT), ("replicate", cv2.BORDER_REPLICATE)):
        ref = cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv_mode, borderValue=3.0)
        ours = remap(img, mx, my, border_mode=mode, border_value=3.0)
        bound = 255.0 / 32 + 1e-3  # |grad| <= 255 per px, position error <= 1/64 px per axis
        assert np.abs(ours - ref).max() <= bound


def test_remap_integer_positions_are_exact_and_nan_mode():
    img = np.arange(20, dtype=np.float32).reshape(4, 5)
    yy, xx = np.mgrid[0:4, 0:5].astype(np.float32)
    np.testing.assert_array_equal(remap(img, xx, yy), img)
    out = remap(img, xx + 0.5, yy, border_mode="nan")
    assert np.isnan(out[:, -1]).all() and np.isfinite(out[:, :-1]).all()
    np.testing.assert_allclose(out[:, :-1], img[:, :-1] + 0.5)
    nan_map = xx.copy()
    nan_map[0, 0] = np.nan
    with pytest.raises(ValueError, match="map_x and map_y must be finite"):
        remap(img, nan_map, yy)
    far = remap(img, xx + 1e30, yy, border_mode="replicate")  # far outside: the edge pixel
    np.testing.assert_array_equal(far, np.repeat(img[:, -1:], 5, axis=1))


def test_remap_colour_channels_independent(rng):
    img = rng.random((8, 9, 3)).astype(np.float32)
    mx, my = rng.uniform(0, 8, (2, 5, 5)).astype(np.float32)
    out = remap(img, mx, my)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], remap(img[..., c], mx, my))


def test_rgb_to_gray_uint8_equals_cv2_on_every_colour(cv2):
    """All 2**24 RGB colours give cv2's exact gray level."""
    r, g, b = np.meshgrid(np.arange(256), np.arange(256), np.arange(256), indexing="ij")
    img = np.stack([r, g, b], -1).astype(np.uint8).reshape(4096, 4096, 3)
    np.testing.assert_array_equal(rgb_to_gray(img), cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))


def test_rgb_to_hsv_equals_cv2_full_range(cv2):
    """cv2.COLOR_RGB2HSV_FULL's exact bytes on a lattice of 2**18 colours (every 4th level of each
    channel, with 255) and on random colours; gray images read as R = G = B."""
    levels = np.r_[np.arange(0, 256, 4), 255]
    r, g, b = np.meshgrid(levels, levels, levels, indexing="ij")
    img = np.stack([r, g, b], -1).astype(np.uint8).reshape(len(levels), -1, 3)
    np.testing.assert_array_equal(rgb_to_hsv(img), cv2.cvtColor(img, cv2.COLOR_RGB2HSV_FULL))
    rand = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    np.testing.assert_array_equal(rgb_to_hsv(rand), cv2.cvtColor(rand, cv2.COLOR_RGB2HSV_FULL))
    gray = rand[..., 0]
    np.testing.assert_array_equal(rgb_to_hsv(gray), cv2.cvtColor(cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB),
                                                                 cv2.COLOR_RGB2HSV_FULL))


@given(seed=st.integers(0, 2**32 - 1))
def test_rgb_to_gray_float_equals_cv2(cv2, seed):
    img = np.random.default_rng(seed).random((13, 17, 3)).astype(np.float32) * 255
    np.testing.assert_allclose(rgb_to_gray(img), cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), rtol=1e-6, atol=1e-4)


@pytest.mark.parametrize("pair", ["RubberWhale", "Sintel_alley_1_clean"])
def test_rgb_to_gray_on_real_frames_equals_cv2(cv2, pair):
    """The flow pairs' PNGs read by imageio and converted by us equal cv2.imread + cvtColor.

    (cv2.IMREAD_GRAYSCALE is a different conversion, inside the PNG decoder: it differs by one
    gray level on some pixels, so parity tests load both sides the same way.)
    """
    import imageio.v3 as iio

    path = shared_path("flow", pair, "frame10.png")
    rgb = iio.imread(path)[..., :3]
    ref = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2GRAY)
    np.testing.assert_array_equal(rgb_to_gray(rgb), ref)


@given(h=st.integers(1, 9), w=st.integers(1, 9), widths=st.tuples(*[st.integers(0, 25)] * 4),
       dtype=st.sampled_from([np.uint8, np.float32]), seed=st.integers(0, 2**32 - 1))
def test_pad_reflect101_equals_cv2_copy_make_border(cv2, h, w, widths, dtype, seed):
    """Borders wider than the image included (both keep folding); exact."""
    img = (np.random.default_rng(seed).random((h, w)) * 255).astype(dtype)
    top, bottom, left, right = widths
    ref = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_REFLECT_101)
    np.testing.assert_array_equal(pad_reflect101(img, top, bottom, left, right), ref)


@pytest.mark.parametrize(("kwargs", "exc", "fragment"), [
    (dict(image=np.zeros((4, 4, 3), np.uint8)), ValueError, "image"),
    (dict(image=np.zeros((0, 4), np.uint8)), ValueError, "image"),
    (dict(left=-1), ValueError, "left"),
    (dict(bottom=1.5), TypeError, "bottom"),
])
def test_pad_reflect101_rejects_bad_input(kwargs, exc, fragment):
    args = dict(image=np.zeros((4, 4), np.uint8), top=1, bottom=1, left=1, right=1) | kwargs
    with pytest.raises(exc, match=fragment):
        pad_reflect101(**args)


@pytest.mark.parametrize("ksize", [1, 3, 5, 7, 9, 11, 19, 31])
@pytest.mark.parametrize("sigma", [0.0, 0.5, 1.1, 3.5])
def test_gaussian_kernel_equals_cv2(cv2, ksize, sigma):
    """float64 to 1e-15; float32 bit-identical (OpenCV rounds the exponentials first)."""
    np.testing.assert_allclose(gaussian_kernel(ksize, sigma), cv2.getGaussianKernel(ksize, sigma).ravel(),
                               rtol=0, atol=1e-15)
    np.testing.assert_array_equal(gaussian_kernel(ksize, sigma, np.float32),
                                  cv2.getGaussianKernel(ksize, sigma, ktype=cv2.CV_32F).ravel())


@given(h=st.integers(1, 40), w=st.integers(1, 40), k=st.sampled_from([1, 3, 5, 9, 19]),
       sigma=st.floats(0.0, 4.0), seed=st.integers(0, 2**32 - 1))
def test_gaussian_blur_equals_cv2(cv2, h, w, k, sigma, seed):
    """Within float32 rounding of values up to 255, any size (tiny images included)."""
    img = (np.random.default_rng(seed).random((h, w)) * 255).astype(np.float32)
    np.testing.assert_allclose(gaussian_blur(img, (k, k), sigma, sigma), cv2.GaussianBlur(img, (k, k), sigma, sigma),
                               rtol=0, atol=1e-4)


@pytest.mark.parametrize("shape", [(60, 80), (388, 584)])
def test_gaussian_blur_3_taps_bit_exact(cv2, shape):
    """The pre-smoothing of Farneback's finest layer ([1/4, 1/2, 1/4]) is bit-exact: OpenCV's
    order of operations (rows first, symmetric pairs) is followed."""
    img = (np.random.default_rng(7).random(shape) * 255).astype(np.float32)
    np.testing.assert_array_equal(gaussian_blur(img, (3, 3), 0.0), cv2.GaussianBlur(img, (3, 3), 0.0))


@given(h=st.integers(2, 60), w=st.integers(2, 60), dh=st.integers(1, 90), dw=st.integers(1, 90),
       c=st.sampled_from([1, 2]), seed=st.integers(0, 2**32 - 1))
def test_resize_equals_cv2(cv2, h, w, dh, dw, c, seed):
    """INTER_LINEAR (any size) and INTER_AREA (shrinking) to float32 rounding of values up to 255
    (cv2's two-channel path rounds a little differently: 1e-3 absolute)."""
    img = (np.random.default_rng(seed).random((h, w, c)) * 255).astype(np.float32).squeeze()
    np.testing.assert_allclose(resize(img, (dw, dh)), cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR),
                               rtol=2e-6, atol=1e-4 if c == 1 else 1e-3)
    if dh <= h and dw <= w:
        np.testing.assert_allclose(resize(img, (dw, dh), interpolation="area"),
                                   cv2.resize(img, (dw, dh), interpolation=cv2.INTER_AREA), rtol=0, atol=1e-3)
    else:
        with pytest.raises(ValueError, match="area"):
            resize(img, (dw, dh), interpolation="area")


@given(h=st.integers(1, 40), w=st.integers(1, 40), dh=st.integers(1, 50), dw=st.integers(1, 50),
       c=st.sampled_from([1, 3]), half=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_resize_uint8_equals_cv2(cv2, h, w, dh, dw, c, half, seed):
    """Bit-identical where both sides are halved exactly (OpenCV's fast area path, rounded half
    up); within one gray level at any other size."""
    if half:
        h, w, dh, dw = 2 * h, 2 * w, h, w
    img = np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8).squeeze(axis=2 if c == 1 else ())
    ours, ref = resize_uint8(img, (dw, dh)), cv2.resize(img, (dw, dh))
    assert ours.dtype == np.uint8 and ours.shape == ref.shape
    np.testing.assert_allclose(ours.astype(int), ref.astype(int), rtol=0, atol=0 if half else 1)


@pytest.mark.parametrize(("call", "exc", "fragment"), [
    (lambda: gaussian_kernel(4, 1.0), ValueError, "ksize"),
    (lambda: gaussian_kernel(3, 1.0, np.int32), TypeError, "dtype"),
    (lambda: gaussian_blur(np.zeros((4, 4), np.float32), (3, 4), 1.0), ValueError, "ksize"),
    (lambda: gaussian_blur(np.zeros((4, 4), np.float32), 3, 1.0), TypeError, "ksize"),
    (lambda: gaussian_blur(np.full((4, 4), np.nan, np.float32), (3, 3), 1.0), ValueError, "image"),
    (lambda: resize(np.zeros((4, 4), np.float32), (0, 2)), ValueError, "dsize"),
    (lambda: resize(np.zeros((4, 4), np.float32), (2, 2), interpolation="cubic"), ValueError, "interpolation"),
    (lambda: resize_uint8(np.zeros((4, 4), np.float32), (2, 2)), TypeError, "uint8"),
])
def test_blur_and_resize_reject_bad_input(call, exc, fragment):
    with pytest.raises(exc, match=fragment):
        call()


@given(seed=st.integers(0, 2**32 - 1), grids=st.integers(1, 3), ow=st.integers(1, 9), oh=st.integers(1, 40),
       channels=st.sampled_from([1, 2, 3]))
def test_sample_separable_with_taps_in_any_order(seed, grids, ow, oh, channels):
    """Taps in any order, repeated or not (the sampler interpolates each source row along x
    once, into a buffer indexed by row, whatever order the rows come in), serial and parallel:
    each sample is the bilinear definition, element for element."""
    from scratchvision.imgproc import linear_taps, sample_separable

    rng = np.random.default_rng(seed)
    img = (rng.random((17, 13, channels)) * 255).astype(np.float32)
    x0, ax = linear_taps(rng.uniform(-2, 15, (grids, ow)), 13)
    y0, ay = linear_taps(rng.uniform(-2, 19, (grids, oh)), 17)
    if rng.random() < 0.5:  # a long grid for the parallel kernel (runs of rows straddling grids)
        y0, ay = np.repeat(y0, 300, axis=1), np.repeat(ay, 300, axis=1)
    np.testing.assert_array_equal(sample_separable(img, (x0, ax), (y0, ay)), naive.bilinear_grid(img, x0, ax, y0, ay))


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
@pytest.mark.parametrize("channels", [1, 3, 2])
def test_sample_windows_equals_bilinear_definition(dtype, channels):
    """K windows at several scales (including scale 1, where the sampler reads contiguous runs,
    and windows over the edges) in one call, serial and parallel: each sample is the float32
    bilinear blend of its four taps in OpenCV's order (rows, then columns), element for
    element."""
    from scratchvision.imgproc import sample_separable, window_taps

    rng = np.random.default_rng(channels)
    img = (rng.random((40, 50, channels)) * 255).astype(dtype)
    centers = np.array([[20.3, 15.7], [20.3, 15.7], [3.2, 37.9], [47.5, 2.1], [25.0, 20.0]])
    sizes = np.array([[16.0, 12.0], [16.0 * 1.05, 12.0 * 1.05], [16.0 / 1.05, 12.0], [30.0, 9.0], [16.0, 12.0]])
    for ow, oh in ((16, 12), (64, 203)):  # the second runs in parallel, in runs of rows that straddle grids
        x0, ax, y0, ay = window_taps(centers, sizes, ow, oh, 50, 40)
        np.testing.assert_array_equal(sample_separable(img, (x0, ax), (y0, ay)),
                                      naive.bilinear_grid(img, x0, ax, y0, ay))
