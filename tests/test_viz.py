"""Visualisation: the Middlebury colour wheel, OpenCV's HSV view, drawing, plots."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest

from scratchvision.viz import (colorwheel, draw_boxes, draw_flow_arrows, draw_lines, draw_points,
                               draw_tracks, flow_to_color, flow_to_hsv, id_colors,
                               plot_flow_quiver, plot_track_timeline)


def _hue_deg(rgb):
    return 360.0 * colorsys.rgb_to_hsv(*(np.asarray(rgb) / 255.0))[0]


def test_colorwheel_structure():
    wheel = colorwheel()
    assert wheel.shape == (55, 3) and wheel.dtype == np.uint8
    # Segment starts are the pure primaries/secondaries in Baker et al.'s order.
    starts = np.cumsum([0, 15, 6, 4, 11, 13])
    expected = [[255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255], [255, 0, 255]]
    np.testing.assert_array_equal(wheel[starts], expected)
    hues = [_hue_deg(c) for c in wheel]
    assert all(b >= a for a, b in zip(hues[:-1], hues[1:]) if b > 1)  # hue increases round the wheel


@pytest.mark.parametrize("direction, hue_range", [
    ((1, 0), (345, 360.1)),     # right: red
    ((0, 1), (25, 60)),         # down (image y): orange-yellow
    ((-1, 0), (180, 215)),      # left: cyan-blue
    ((0, -1), (255, 290)),      # up: violet
])
def test_flow_to_color_fixed_directions(direction, hue_range):
    flow = np.zeros((3, 3, 2), np.float32)
    flow[1, 1] = direction
    color = flow_to_color(flow, max_flow=1.0)
    hue = _hue_deg(color[1, 1]) or 360.0
    assert hue_range[0] <= hue <= hue_range[1], (direction, color[1, 1], hue)
    assert colorsys.rgb_to_hsv(*(color[1, 1] / 255.0))[1] > 0.95  # full saturation at max_flow
    np.testing.assert_array_equal(color[0, 0], [255, 255, 255])    # no motion: white


def test_flow_to_color_saturation_and_unknown():
    flow = np.zeros((1, 4, 2), np.float32)
    flow[0, :, 0] = [0.25, 0.5, 2.0, 2e9]
    color = flow_to_color(flow, max_flow=1.0, unknown_color=(1, 2, 3))
    sats = [colorsys.rgb_to_hsv(*(c / 255.0))[1] for c in color[0, :3]]
    assert sats[0] < sats[1] < 1.0 + 1e-9
    assert color[0, 2].max() < 255 * 0.8  # beyond max_flow: darker
    np.testing.assert_array_equal(color[0, 3], [1, 2, 3])
    # Default max_flow = largest known magnitude: the largest vector is fully saturated.
    auto = flow_to_color(flow[:, :3])
    assert colorsys.rgb_to_hsv(*(auto[0, 2] / 255.0))[1] > 0.95


def test_flow_to_hsv_equals_opencv_sample(cv2, rng):
    """Same picture as opencv/samples/python/opt_flow.py draw_hsv (cv2 rounds hue to 2 deg)."""
    flow = rng.normal(0, 20, (40, 50, 2)).astype(np.float32)
    fx, fy = flow[..., 0], flow[..., 1]
    hsv = np.zeros((40, 50, 3), np.uint8)
    hsv[..., 0] = (np.arctan2(fy, fx) + np.pi) * (180 / np.pi / 2)
    hsv[..., 1] = 255
    hsv[..., 2] = np.minimum(np.sqrt(fx * fx + fy * fy) * 4, 255)
    ref = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(int)
    ours = flow_to_hsv(flow).astype(int)
    assert np.abs(ours - ref).max() <= 10
    assert np.abs(ours - ref).mean() < 2.5


def test_draw_lines_and_boxes_paint_exact_pixels():
    img = np.zeros((20, 30), np.uint8)
    out = draw_lines(img, [[2, 5, 12, 5]], (255, 0, 0))
    assert out.shape == (20, 30, 3)
    assert (out[5, 2:13] == [255, 0, 0]).all() and out[5, 13].sum() == 0 and out[4].sum() == 0
    assert img.sum() == 0  # input untouched
    boxed = draw_boxes(img, [[5, 6, 15, 12]], color=(0, 255, 0), thickness=1)
    edge = np.zeros((20, 30), bool)
    edge[6, 5:16] = edge[12, 5:16] = edge[6:13, 5] = edge[6:13, 15] = True
    np.testing.assert_array_equal(boxed[..., 1] == 255, edge)


def test_draw_boxes_with_ids_and_points():
    img = np.zeros((40, 60, 3), np.uint8)
    out = draw_boxes(img, [[10, 20, 30, 35]], ids=[7], thickness=1)
    color = id_colors([7])[0]
    assert (out[20, 10:31] == color).all()
    assert (out[6:20, 10:20] == color).all(axis=2).mean() > 0.5  # the tag above the box, in its colour
    ink = out[8:18, 12:18]
    assert ((ink == 0).all(axis=2) | (ink == 255).all(axis=2)).any()  # the digit on it, dark or light
    top = draw_boxes(img, [[10, 2, 30, 35]], ids=[7], thickness=1)
    assert (top[2:16, 10:20] == color).all(axis=2).mean() > 0.5  # no room above: the tag goes inside
    dots = draw_points(img, [[5, 5], [50, 30]], (9, 9, 9), radius=0)
    assert (dots[5, 5] == 9).all() and (dots[30, 50] == 9).all() and dots.sum() == 2 * 27


def test_id_colors_stable_and_distinct():
    a = id_colors(np.arange(1, 50))
    np.testing.assert_array_equal(a, id_colors(np.arange(1, 50)))
    assert len({tuple(c) for c in a}) == 49


def test_draw_tracks_and_arrows():
    rows = np.array([[0, 3, 10, 10, 5, 8], [1, 3, 12, 10, 5, 8], [2, 3, 14, 10, 5, 8]], float)
    out = draw_tracks(np.zeros((30, 40), np.uint8), rows, 2, thickness=1)
    color = id_colors([3])[0]
    assert (out[10, 14:20] == color).all()
    assert (out[18, 13] == color).all()  # trail through the bottom centres (12.5, 18)->(16.5, 18)
    flow = np.zeros((32, 32, 2), np.float32)
    flow[..., 0] = 5
    arrows = draw_flow_arrows(np.zeros((32, 32), np.uint8), flow, step=16)
    assert (arrows[8, 8:14, 1] == 255).all() and arrows[20, 2, 1] == 0


def test_plots_write_files(tmp_path):
    rows = np.array([[0, 1], [1, 1], [3, 1], [0, 2]], float)
    fig = plot_track_timeline(rows, path=tmp_path / "t.png")
    assert (tmp_path / "t.png").stat().st_size > 1000
    assert len(fig.axes[0].get_yticks()) == 2
    flow = np.ones((32, 48, 2), np.float32)
    plot_flow_quiver(np.zeros((32, 48)), flow, path=tmp_path / "q.png")
    assert (tmp_path / "q.png").stat().st_size > 1000
    quiver = plot_flow_quiver(np.zeros((32, 48)), flow, scale=4.0).axes[0].collections[0]
    assert quiver.scale == 0.25 and quiver.scale_units == "xy"  # each arrow 4 times its 1 px motion
    with pytest.raises(ValueError, match="scale"):
        plot_flow_quiver(np.zeros((32, 48)), flow, scale=0.0)


@pytest.mark.parametrize("call, exc, match", [
    (lambda: flow_to_color(np.zeros((4, 4))), ValueError, r"flow must have shape \(H, W, 2\)"),
    (lambda: flow_to_color(np.zeros((4, 4, 2)), max_flow=0), ValueError, "max_flow must be > 0"),
    (lambda: draw_lines(np.zeros((4, 4)), [[0, 0, 1]]), ValueError, r"segments must have shape \(M, 4\)"),
    (lambda: draw_boxes(np.zeros((4, 4)), [[0, 0, 1, 1]], ids=[1, 2]), ValueError, "ids must have 1"),
    (lambda: draw_points(np.zeros((4, 4)), [[0, np.nan]]), ValueError, "points must be finite"),
    (lambda: draw_flow_arrows(np.zeros((4, 4)), np.zeros((5, 4, 2))), ValueError, "to match image"),
    (lambda: draw_tracks(np.zeros((4, 4)), np.zeros((2, 3)), 0), ValueError, r"rows must have shape"),
    (lambda: plot_track_timeline(np.zeros(5)), ValueError, r"rows must have shape"),
])
def test_viz_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
