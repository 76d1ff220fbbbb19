"""Colour names: the shipped table against the published one in ../shared/data, the lookup and the
cell pooling against their definitions, the 10-channel basis, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import shared_path
from scratchvision.sot import (COLOUR_NAME_RGB, COLOUR_NAMES, TrackerKCF, colour_name_image, colour_name_projection,
                               colour_names, colour_names_table)
from scratchvision.viz import plot_colour_names


def _rows(img):
    """The table rows of 8-bit RGB values, by the authors' formula (red fastest)."""
    q = img.astype(np.int64) // 8
    return q[..., 0] + 32 * q[..., 1] + 1024 * q[..., 2]


@pytest.mark.shared_data
def test_shipped_table_is_the_published_one():
    """Losslessly stored: every entry equal to ../shared/data/colour_names/w2c.npy."""
    published = np.load(shared_path("colour_names", "w2c.npy"))
    table = colour_names_table()
    assert table.dtype == np.float32 and table.shape == (32768, 11)
    np.testing.assert_array_equal(table, published)


def test_table_rows_are_probabilities_and_the_primaries_get_their_names():
    table = colour_names_table()
    assert (table >= 0).all()
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-6)
    primaries = {"red": (255, 0, 0), "blue": (0, 0, 255), "white": (255, 255, 255), "black": (0, 0, 0),
                 "yellow": (255, 255, 0), "green": (0, 255, 0)}
    img = np.array([list(primaries.values())], np.uint8)
    assert [COLOUR_NAMES[i] for i in colour_name_image(img)[0]] == list(primaries)


@settings(deadline=None, max_examples=30)
@given(img=hnp.arrays(np.uint8, st.tuples(st.integers(0, 9), st.integers(0, 13), st.just(3))),
       cell=st.integers(1, 4))
def test_colour_names_equal_the_lookup_and_the_cell_mean(img, cell):
    table = colour_names_table().astype(np.float64)
    full = table[_rows(img)]
    np.testing.assert_array_equal(colour_names(img), full.astype(np.float32))
    ch, cw = img.shape[0] // cell, img.shape[1] // cell
    cells = full[:ch * cell, :cw * cell].reshape(ch, cell, cw, cell, 11).mean(axis=(1, 3))
    np.testing.assert_allclose(colour_names(img, cell), cells, rtol=0, atol=1e-6)
    reduced = cells @ colour_name_projection()
    np.testing.assert_allclose(colour_names(img, cell, reduced=True), reduced, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(colour_name_image(img), np.argmax(full, axis=2) if img.size else
                                  np.zeros(img.shape[:2], np.uint8))


@settings(deadline=None, max_examples=20)
@given(img=hnp.arrays(np.float32, st.tuples(st.integers(1, 6), st.integers(1, 6), st.just(3)),
                      elements=st.floats(0, 255, width=32)))
def test_float_images_are_quantised_as_their_8_bit_truncation(img):
    np.testing.assert_array_equal(colour_names(img), colour_names(img.astype(np.uint8)))
    np.testing.assert_array_equal(colour_names(img.astype(np.float64)), colour_names(img.astype(np.uint8)))


def test_projection_is_an_orthonormal_basis_of_the_zero_sum_plane():
    """The 10 channels keep all the information (the 11 probabilities sum to 1): orthonormal,
    orthogonal to (1, ..., 1), and the Haar vectors of the names' tree (OpenCV's ColorNames
    channels: their first row, for RGB (0, 0, 0), to its printed 5 digits)."""
    p = colour_name_projection()
    np.testing.assert_allclose(p.T @ p, np.eye(10), atol=1e-12)
    np.testing.assert_allclose(p.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(p @ p.T, np.eye(11) - 1 / 11, atol=1e-12)
    black = colour_names(np.zeros((1, 1, 3), np.uint8), reduced=True)[0, 0]
    opencv_first_row = [0.45975, 0.014802, 0.044289, -0.028193, 0.001151, -0.0050145, 0.34522, 0.018362,
                        0.23994, 0.1689]
    np.testing.assert_allclose(black, opencv_first_row, rtol=1e-4, atol=1e-6)


def test_bad_images_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="gray image has no colour names"):
        colour_names(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        colour_names(np.full((2, 2, 3), 300.0))
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        colour_name_image(np.full((2, 2, 3), -0.5, np.float32))
    with pytest.raises(ValueError, match="cell_size"):
        colour_names(np.zeros((4, 4, 3), np.uint8), 0)
    tracker = TrackerKCF(desc_npca=TrackerKCF.GRAY, desc_pca=TrackerKCF.CN)
    with pytest.raises(ValueError, match="colour names"):
        tracker.init(np.zeros((40, 40), np.uint8), (10, 10, 10, 10))


def test_plot_paints_each_pixel_in_its_name_colour():
    img = np.zeros((6, 12, 3), np.uint8)
    img[:, 4:8] = (0, 0, 255)
    img[:, 8:] = (255, 255, 0)
    fig = plot_colour_names(img)
    painted = fig.axes[1].images[0].get_array()
    np.testing.assert_array_equal(painted, COLOUR_NAME_RGB[colour_name_image(img)])
    assert [t.get_text().split()[0] for t in fig.legends[0].get_texts()] == list(COLOUR_NAMES)
