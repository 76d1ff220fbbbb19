"""BoT-SORT against ultralytics' BOTSORT (golden outputs recorded by
tests/fixtures/make_botsort_fixtures.py on six MOT15 sequences, with the seeded warps and
embeddings of tests/fixtures/botsort_inputs.py), and its own contract: appearance, the warp of
width and height, bad input."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import scratchvision as sv
from scratchvision.tracking.camera import warp_states

from conftest import shared_path

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(FIXTURES))
from botsort_inputs import CONFIGS, SEQUENCES, sequence_inputs  # noqa: E402

GOLDEN = np.load(FIXTURES / "torch_golden" / "botsort.npz")


def run(seq, kwargs, with_warp, with_emb):
    """Our rows ``frame, x1, y1, x2, y2, id, score, class, det_idx`` on the fixture's inputs."""
    tracker = sv.BoTSORT(**kwargs)
    rows = []
    for f, (dets, warp, emb) in enumerate(sequence_inputs(shared_path("mot15"), seq), start=1):
        out = tracker.update(np.column_stack([dets, np.zeros(len(dets))]), emb if with_emb else None,
                             warp=warp if with_warp else None)
        rows.append(np.column_stack([np.full(len(out), f), out]))
    return np.concatenate(rows)


@pytest.mark.parametrize("seq", SEQUENCES)
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_equals_ultralytics_botsort(config, seq):
    """Same rows, ids and detection indices in the same order; boxes to 5e-4 px (ultralytics
    keeps boxes and IoUs in float32 and returns float32: its rounding is ~1e-4 px at x ~ 1900)."""
    ours, ref = run(seq, *CONFIGS[config]), GOLDEN[f"{config}/{seq}"].astype(np.float64)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours[:, [0, 5, 7, 8]], ref[:, [0, 5, 7, 8]])
    np.testing.assert_allclose(ours[:, 1:5], ref[:, 1:5], rtol=0, atol=5e-4)
    np.testing.assert_allclose(ours[:, 6], ref[:, 6], rtol=1e-6)


def test_appearance_changes_identities_on_the_fixture():
    """The ``reid`` fixture exercises appearance: without it the same inputs give other ids on
    some sequence (so the comparison above would catch appearance being ignored)."""
    kwargs, with_warp, _ = CONFIGS["reid"]
    plain = {k: v for k, v in kwargs.items() if k != "with_reid"}
    differs = [seq for seq in ("ETH-Sunnyday", "KITTI-13")
               if not np.array_equal(run(seq, plain, with_warp, False)[:, 5], GOLDEN[f"reid/{seq}"][:, 5])]
    assert differs


def test_appearance_rescues_a_swap_and_the_proximity_gate():
    """Two boxes that trade places between frames while keeping their appearance: IoU alone
    follows the boxes, appearance follows the objects, but only while the pair still overlaps
    (proximity_thresh)."""
    a, b = [100.0, 100, 140, 200, 0.9], [110.0, 100, 150, 200, 0.9]
    emb = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    for with_reid, expected in ((False, [1, 2]), (True, [2, 1])):
        tracker = sv.BoTSORT(with_reid=with_reid, appearance_thresh=0.5, proximity_thresh=0.3)
        for dets in ([a, b], [a, b], [a, b]):
            tracker.update(np.array(dets), emb)
        out = tracker.update(np.array([a, b]), emb[::-1])  # the objects swapped places
        assert out[np.argsort(out[:, 7]), 4].tolist() == expected
    far = sv.BoTSORT(with_reid=True, appearance_thresh=0.5, proximity_thresh=0.99)
    for _ in range(3):
        far.update(np.array([a, b]), emb)
    out = far.update(np.array([a, b]), emb[::-1])  # no pair overlaps enough: IoU decides
    assert out[np.argsort(out[:, 7]), 4].tolist() == [1, 2]


def test_zero_embeddings_count_as_none_and_empty_frames_work():
    tracker = sv.BoTSORT(with_reid=True)
    det = np.array([[10.0, 10, 50, 90, 0.9]])
    assert tracker.update(det, np.zeros((1, 4)))[:, 4].tolist() == [1]
    assert tracker.update(det, [[0.0, 1, 0, 0]])[:, 4].tolist() == [1]
    assert tracker.update(None).shape == (0, 8)
    assert tracker.update(np.zeros((0, 5)), None).shape == (0, 8)
    assert sv.BoTSORT().update(det, None).shape == (1, 8)  # without with_reid embeddings are ignored


def test_warp_maps_width_and_height_through_abs_a():
    """BoT-SORT's layout: centre and centre velocity through A (the homography's Jacobian at the
    centre), width/height and their velocities through |A| (the enclosing box)."""
    h = np.array([[1.02, -0.05, 12.0], [0.04, 0.97, -7.0], [2e-4, -1e-4, 1.0]])
    x = np.array([[200.0, 150.0, 40.0, 90.0, 1.0, -2.0, 0.5, 0.3]])
    p = np.eye(8)[None].copy()
    x2, p2 = x.copy(), p.copy()
    warp_states(x2, p2, 1, "xywh", h)
    c = np.array([200.0, 150.0, 1.0]) @ h.T
    w = c[2]
    jac = (h[:2, :2] - np.outer(c[:2] / w, h[2, :2])) / w
    np.testing.assert_allclose(x2[0, :2], c[:2] / w, rtol=1e-12)
    np.testing.assert_allclose(x2[0, 4:6], jac @ x[0, 4:6], rtol=1e-12)
    np.testing.assert_allclose(x2[0, 2:4], np.abs(jac) @ x[0, 2:4], rtol=1e-12)
    np.testing.assert_allclose(x2[0, 6:8], np.abs(jac) @ x[0, 6:8], rtol=1e-12)
    full = np.eye(8)
    full[:2, :2] = full[4:6, 4:6] = jac
    full[2:4, 2:4] = full[6:8, 6:8] = np.abs(jac)
    np.testing.assert_allclose(p2[0], full @ full.T, rtol=1e-12)


def test_bad_input():
    tracker = sv.BoTSORT(with_reid=True)
    det = np.array([[10.0, 10, 50, 90, 0.9]])
    with pytest.raises(ValueError, match="embeddings are required"):
        tracker.update(det)
    with pytest.raises(ValueError, match="embeddings must have shape"):
        tracker.update(det, np.ones((2, 4)))
    with pytest.raises(ValueError, match="embeddings must be finite"):
        tracker.update(det, [[np.nan, 1, 0, 0]])
    tracker.update(det, np.ones((1, 4)))
    with pytest.raises(ValueError, match="D = 4"):
        tracker.update(det, np.ones((1, 5)))
    with pytest.raises(ValueError, match="warp"):
        tracker.update(det, np.ones((1, 4)), warp=np.eye(2))
    for name, value in (("appearance_thresh", 1.5), ("proximity_thresh", -0.1), ("track_buffer", -1),
                        ("cost", "l1")):
        with pytest.raises(ValueError, match=name):
            sv.BoTSORT(**{name: value})
