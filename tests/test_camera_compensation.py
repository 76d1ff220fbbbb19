"""Camera-motion compensation in the trackers: ``warp=None`` and the identity change nothing (the
MOT15 outputs stay bit-identical), the exact warp keeps every identity through camera jumps that
break them without it, the state transform is the warp's Jacobian, and CameraMotion recovers the
synthetic video's camera motion."""

from __future__ import annotations

import numpy as np
import pytest

import scratchvision as sv
from scratchvision.tracking import CameraMotion
from scratchvision.tracking.camera import check_warp, warp_boxes, warp_states

from conftest import shared_path

TRACKERS = {"sort": sv.Sort, "bytetrack": sv.ByteTrack, "ocsort": sv.OCSort, "deepsort": sv.DeepSort,
            "botsort": sv.BoTSORT}


def run(name, frames, warps=None, embeddings=None):
    tracker = TRACKERS[name]()
    out = []
    for t, dets in enumerate(frames):
        kwargs = {} if warps is None else {"warp": warps[t]}
        if name == "deepsort":
            out.append(tracker.update(dets, embeddings[t], **kwargs))
        else:
            out.append(tracker.update(dets, **kwargs))
    return out


def mot15_frames(seq="TUD-Campus"):
    det = sv.read_mot(shared_path("mot15", seq, "det", "det.txt"))
    n = int(det[:, 0].max()) + 1
    return [np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])
            for f in (det[det[:, 0] == t] for t in range(n))]


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_no_warp_and_identity_change_nothing(name):
    frames = mot15_frames()
    rng = np.random.default_rng(0)
    embeddings = [rng.normal(size=(len(f), 16)).astype(np.float32) for f in frames]
    plain = run(name, frames, embeddings=embeddings)
    for warp in (np.eye(2, 3), np.eye(3)):
        warped = run(name, frames, [warp] * len(frames), embeddings)
        assert all(np.array_equal(a, b) for a, b in zip(plain, warped))


def panning_scene(seed, n_frames=40, jumps=True):
    """Objects standing still in the world, seen by a camera that pans: each frame shifts by a
    known translation (and jumps of 20-40 px every few frames), so the detections move only
    because the camera does."""
    rng = np.random.default_rng(seed)
    world = np.column_stack([rng.uniform(0, 900, 8), rng.uniform(0, 500, 8)])
    world = np.column_stack([world, world + rng.uniform(30, 60, (8, 2))])
    offset, frames, warps = np.zeros(2), [], []
    for t in range(n_frames):
        step = rng.normal(0, 1.0, 2)
        if jumps and t % 5 == 4:
            step += rng.choice([-1, 1], 2) * rng.uniform(20, 40, 2)
        offset += step
        warp = np.eye(2, 3)
        warp[:, 2] = -step  # image content moves opposite to the camera
        warps.append(warp if t else np.eye(2, 3))
        boxes = world - np.tile(offset, 2) + rng.normal(0, 0.3, world.shape)
        frames.append(np.column_stack([boxes, np.full(8, 0.9)]))
    return frames, warps


@pytest.mark.parametrize("name", sorted(TRACKERS))
def test_exact_warp_keeps_identities_through_camera_jumps(name):
    frames, warps = panning_scene(1)
    rng = np.random.default_rng(2)
    appearance = rng.normal(size=(8, 16)).astype(np.float32)  # one embedding per object, for DeepSORT
    embeddings = [appearance + rng.normal(0, 0.01, appearance.shape).astype(np.float32) for _ in frames]

    def switches(outputs):
        """Objects whose matched track id changed after the tracks were confirmed."""
        seen, count = {}, 0
        for out in outputs[5:]:
            for row in out[out[:, 7] >= 0]:
                obj, tid = int(row[7]), int(row[4])
                count += obj in seen and seen[obj] != tid
                seen[obj] = tid
        return count, len(seen)

    with_warp = switches(run(name, frames, warps, embeddings))
    without = switches(run(name, frames, None, embeddings))
    assert with_warp == (0, 8)  # every object kept its id
    assert without[0] > 0 or without[1] < 8  # the jumps break tracks without compensation


@pytest.mark.parametrize("layout", ["xysr", "xyah"])
@pytest.mark.parametrize("kind", ["affine", "homography"])
def test_state_transform_is_the_warps_jacobian(layout, kind):
    """Mean: the centre goes where the warp sends it, the size scales by sqrt(|det A|); the
    covariance transform is the numerical Jacobian of that state map at the mean."""
    rng = np.random.default_rng(3)
    h = np.array([[1.05, -0.08, 12.0], [0.06, 0.97, -7.0], [0.0, 0.0, 1.0]])
    if kind == "homography":
        h[2, :2] = [2e-4, -1e-4]
    dim = 7 if layout == "xysr" else 8
    x = np.zeros((3, dim))
    x[:, :2] = rng.uniform(50, 300, (3, 2))
    x[:, 2:4] = [900.0, 0.6] if layout == "xysr" else [0.6, 40.0]
    x[:, 4:] = rng.normal(0, 2, (3, dim - 4))
    a = rng.normal(size=(3, dim, dim))
    p = a @ a.transpose(0, 2, 1)
    x2, p2 = x.copy(), p.copy()
    warp_states(x2, p2, 3, layout, h)
    for i in range(3):
        c = np.append(x[i, :2], 1.0) @ h.T
        np.testing.assert_allclose(x2[i, :2], c[:2] / c[2], rtol=1e-12)
        size = 2 if layout == "xysr" else 3
        ratio = x2[i, size] / x[i, size]
        eps = 1e-4
        jac = np.zeros((2, 2))
        for k in range(2):
            d = np.zeros(2)
            d[k] = eps
            plus, minus = np.append(x[i, :2] + d, 1) @ h.T, np.append(x[i, :2] - d, 1) @ h.T
            jac[:, k] = (plus[:2] / plus[2] - minus[:2] / minus[2]) / (2 * eps)
        k_scale = np.sqrt(abs(np.linalg.det(jac)))
        np.testing.assert_allclose(ratio, k_scale ** (2 if layout == "xysr" else 1), rtol=1e-7)
        np.testing.assert_allclose(x2[i, 4:6], jac @ x[i, 4:6], rtol=1e-7)
        full = np.eye(dim)
        full[:2, :2] = full[4:6, 4:6] = jac
        for index, power in ({2: 2, 6: 2} if layout == "xysr" else {3: 1, 7: 1}).items():
            full[index, index] = k_scale ** power
        np.testing.assert_allclose(p2[i], full @ p[i] @ full.T, rtol=1e-6, atol=1e-9)
    box = warp_boxes([[10.0, 20.0, 50.0, 80.0]], h)[0]  # centre (30, 50) mapped, 40 x 60 scaled
    c = np.array([30.0, 50.0, 1.0]) @ h.T
    np.testing.assert_allclose((box[:2] + box[2:]) / 2, c[:2] / c[2], rtol=1e-12)
    np.testing.assert_allclose((box[2:] - box[:2]) / [40.0, 60.0], [box[2] - box[0]] * 2 / np.array([40.0] * 2),
                               rtol=1e-12)  # one scale for both sides


def test_camera_motion_helper_on_the_synthetic_video():
    seq = sv.synthetic_sequence(7, (180, 240), n_objects=4, seed=4, background_speed=2.0, color=True)
    cmc = CameraMotion(model="translation", downscale=1)
    every2 = CameraMotion(model="translation", downscale=1, every=2)
    for t, frame in enumerate(seq.frames):
        boxes, _ = seq.boxes(t)
        warp, skipping = cmc(frame, boxes), every2(frame, boxes)
        if t == 0:
            np.testing.assert_array_equal(warp, np.eye(2, 3))
            continue
        exact = seq.flow[t - 1][seq.labels[t - 1] == 0][0]
        assert np.abs(warp[:, 2] - exact).max() < 0.1 and cmc.last_trace.ok
        if t % 2:
            np.testing.assert_array_equal(skipping, np.eye(2, 3))
        else:  # the motion of the two frames since the last estimate
            two = exact + seq.flow[t - 2][seq.labels[t - 2] == 0][0]
            assert np.abs(skipping[:, 2] - two).max() < 0.15


def test_bad_input():
    with pytest.raises(ValueError, match="warp"):
        sv.Sort().update(np.zeros((0, 5)), warp=np.eye(2))
    with pytest.raises(ValueError, match="warp"):
        sv.ByteTrack().update(None, warp=np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="warp"):
        check_warp(np.zeros((3, 3)))
    cmc = CameraMotion()
    cmc(np.zeros((40, 60), np.uint8))
    with pytest.raises(ValueError, match="frame"):
        cmc(np.zeros((30, 60), np.uint8))
    with pytest.raises(ValueError, match="model"):
        CameraMotion(model="rigid")
