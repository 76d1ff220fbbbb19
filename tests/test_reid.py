"""ReID networks (OSNet, DeepSORT's network), crops and embeddings: against torchreid 0.2.5 and a
torch transcription of DeepSORT's TensorFlow network through golden fixtures
(tests/fixtures/make_reid_fixtures.py), and against deep_sort's patch extraction with cv2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scratchvision import nn
from scratchvision.imgproc import crop_patches

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = FIXTURES / "torch_golden"
sys.path.insert(0, str(FIXTURES))
from seeded_weights import deepsort_tf_layout, reid_crops, seeded_state_dict, seeded_tf_variables  # noqa: E402

MANIFEST = json.loads((GOLDEN / "reid_manifest.json").read_text())
REF = np.load(GOLDEN / "reid.npz")
#: embeddings within 1e-4 of their largest magnitude (random-weight OSNets reach 1e6 here)
RTOL = 1e-4


def _close(ours, ref):
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=RTOL * np.abs(ref).max())


def _osnet(name):
    entry = MANIFEST["osnet"][name]
    model = getattr(nn, name)(num_classes=entry["num_classes"])
    assert [(k, list(v.shape)) for k, v in model.state_dict().items()] == [tuple(x) for x in entry["layout"]]
    model.load_state_dict(seeded_state_dict(entry["layout"], entry["seed"]))
    return model


@pytest.mark.parametrize("name", ["osnet_x0_25", "osnet_x1_0"])
def test_osnet_equals_torchreid(name):
    crops, _ = reid_crops()
    _close(_osnet(name)(crops), REF[name])


@pytest.mark.parametrize("name", ["osnet_x0_25", "deepsort"])
def test_a_batch_shared_among_threads_embeds_as_on_one(name):
    """With two threads each embeds a half of the batch, on one BLAS thread: the rows equal the
    one-thread ones, and BLAS's thread count is set back afterwards."""
    import numba

    from scratchvision.nn import _blas

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("one core: nothing to share")
    osnet_crops, deepsort_crops = reid_crops()
    if name == "deepsort":
        model, crops = nn.deepsort_reid(), deepsort_crops
        model.load_state_dict(seeded_tf_variables(53))
    else:
        model, crops = _osnet(name), osnet_crops
    parts, embed = [], model._embed
    model._embed = lambda x: parts.append(len(x)) or embed(x)
    controls, threads = _blas._thread_controls(), numba.get_num_threads()
    blas_before = controls[0]() if controls else None
    try:
        numba.set_num_threads(1)
        one = model(crops)
        numba.set_num_threads(2)
        two = model(crops)
    finally:
        numba.set_num_threads(threads)
    assert parts[0] == len(crops) and sorted(parts[1:]) == [len(crops) // 2, len(crops) - len(crops) // 2]
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-6 * np.abs(one).max())
    assert (controls[0]() if controls else None) == blas_before


def test_osnet_normalised_embeddings_are_unit_vectors():
    crops, _ = reid_crops()
    model = nn.osnet_x0_25(num_classes=MANIFEST["osnet"]["osnet_x0_25"]["num_classes"], normalize=True)
    model.load_state_dict(seeded_state_dict(MANIFEST["osnet"]["osnet_x0_25"]["layout"], 51))
    v = model(crops)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, rtol=1e-6)
    ref = REF["osnet_x0_25"] / np.linalg.norm(REF["osnet_x0_25"], axis=1, keepdims=True)
    np.testing.assert_allclose(v, ref, atol=1e-5)


def test_osnet_loads_torchreid_checkpoint_wrappers():
    """torchreid's {"state_dict": {"module." + key: ...}, "epoch": ...} and the bare dict both load."""
    entry = MANIFEST["osnet"]["osnet_x0_25"]
    state = seeded_state_dict(entry["layout"], entry["seed"])
    wrapped = {"state_dict": {"module." + k: v for k, v in state.items()}, "epoch": 60, "rank1": 0.5}
    model = nn.osnet_x0_25(num_classes=entry["num_classes"])
    model.load_state_dict(nn.unwrap_state_dict(wrapped))
    crops, _ = reid_crops()
    _close(model(crops), REF["osnet_x0_25"])
    other = nn.osnet_x0_5(num_classes=entry["num_classes"])
    with pytest.raises(ValueError, match="size mismatch for conv1.conv.weight"):
        other.load_state_dict(state)


def test_deepsort_network_equals_its_definition():
    model = nn.deepsort_reid()
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == deepsort_tf_layout()
    model.load_state_dict(seeded_tf_variables(MANIFEST["deepsort_seed"]))
    _, patches = reid_crops()
    out = model(patches)
    _close(out, REF["deepsort"])
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, rtol=1e-5)


def _deep_sort_patch(image, tlwh, patch_shape):
    """deep_sort's extract_image_patch (tools/generate_detections.py), transcribed."""
    import cv2

    bbox = np.array(tlwh, np.float64)
    target_aspect = float(patch_shape[1]) / patch_shape[0]
    new_width = target_aspect * bbox[3]
    bbox[0] -= (new_width - bbox[2]) / 2
    bbox[2] = new_width
    bbox[2:] += bbox[:2]
    bbox = bbox.astype(int)
    bbox[:2] = np.maximum(0, bbox[:2])
    bbox[2:] = np.minimum(np.asarray(image.shape[:2][::-1]) - 1, bbox[2:])
    if np.any(bbox[:2] >= bbox[2:]):
        return None
    sx, sy, ex, ey = bbox
    return cv2.resize(image[sy:ey, sx:ex], tuple(patch_shape[::-1]))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-80, 200), st.floats(-80, 160), st.floats(1, 150), st.floats(1, 150)),
                min_size=1, max_size=6), st.sampled_from([(128, 64), (256, 128)]))
def test_crop_patches_equal_deep_sort_extraction(boxes, size):
    frame = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    xyxy = np.array([(x, y, x + w, y + h) for x, y, w, h in boxes])
    ours = crop_patches(frame, xyxy, size)
    for (x, y, w, h), patch in zip(boxes, ours):
        ref = _deep_sort_patch(frame, (x, y, w, h), size)
        if ref is None:
            assert not patch.any()  # no pixels inside the frame: an all-zero patch
        else:  # OpenCV resizes uint8 in fixed point and rounds: within one grey level
            assert np.abs(patch - ref).max() <= 1.0


def test_embed_prepares_crops_as_each_network_expects():
    frame = np.random.default_rng(1).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    boxes = np.array([[10, 20, 50, 110, 0.9], [100, 5, 150, 80, 0.8], [-90, -90, -10, -10, 0.5]])
    ds = nn.deepsort_reid()
    ds.load_state_dict(seeded_tf_variables(MANIFEST["deepsort_seed"]))
    manual = ds(np.ascontiguousarray((crop_patches(frame, boxes, (128, 64))[..., ::-1] / 255).transpose(0, 3, 1, 2),
                                     np.float32))
    # batches of 2 and of 3 go through GEMMs blocked differently by the machine's BLAS: float32 rounding
    # (seen: 1.8e-7 on entries of 0.05 on one CPU); RGB given for BGR moves entries by 0.09
    np.testing.assert_allclose(nn.embed(ds, frame, boxes, batch_size=2), manual, rtol=1e-5,
                               atol=1e-5 * np.abs(manual).max())
    os_model = _osnet("osnet_x0_25")
    crops = (crop_patches(frame, boxes, (256, 128)) / 255 - np.array(nn.IMAGENET_MEAN)) / np.array(nn.IMAGENET_STD)
    manual = os_model(np.ascontiguousarray(crops.transpose(0, 3, 1, 2), np.float32))
    np.testing.assert_allclose(nn.embed(os_model, frame, boxes), manual, rtol=1e-5, atol=1e-5 * np.abs(manual).max())
    assert nn.embed(ds, frame, np.zeros((0, 4))).shape == (0, 128)
    with pytest.raises(ValueError, match="frame must be an RGB image"):
        nn.embed(ds, frame[:, :, 0], boxes)
    with pytest.raises(TypeError, match="model must be an OSNet or DeepSortReID"):
        nn.embed(nn.r3d_18(3), frame, boxes)


def test_track_command_with_a_reid_network(tmp_path, capsys):
    """`track --tracker deepsort --reid deepsort --weights F.npz` gives the tracks of DeepSort fed
    nn.embed's embeddings; a checkpoint of another network is refused in one line."""
    from scratchvision import DeepSort, read_mot, synthetic_sequence
    from scratchvision.cli import main

    from conftest import write_detections_and_frames

    seq = synthetic_sequence(n_frames=6, size=(96, 128), n_objects=3, seed=4, color=True)
    dets, _, frames_dir = write_detections_and_frames(tmp_path, seq)
    variables = seeded_tf_variables(MANIFEST["deepsort_seed"])
    np.savez(tmp_path / "mars.npz", **variables)
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "deepsort", "--param", "n_init=1", "--video",
                 str(frames_dir), "--reid", "deepsort", "--weights", str(tmp_path / "mars.npz"), "--out",
                 str(tmp_path / "res.txt")]) == 0
    model = nn.deepsort_reid()
    model.load_state_dict(variables)
    tracker, rows = DeepSort(n_init=1), []
    for t in range(6):
        f = dets[dets[:, 0] == t]
        boxes = np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])
        rows += [(t, r[4], r[0], r[1]) for r in tracker.update(boxes, nn.embed(model, seq.frames[t], boxes) + 1e-6)]
    result = read_mot(tmp_path / "res.txt")
    np.testing.assert_allclose(result[:, :4], np.array(rows), atol=1e-4)
    capsys.readouterr()
    nn.save_safetensors(tmp_path / "osnet.safetensors", {"conv1.conv.weight": np.zeros((16, 3, 7, 7), np.float32)})
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "deepsort", "--video", str(frames_dir), "--reid",
                 "deepsort", "--weights", str(tmp_path / "osnet.safetensors")]) == 2
    assert "is not a deepsort checkpoint" in capsys.readouterr().err
    assert main(["track", str(tmp_path / "det.txt"), "--reid", "deepsort", "--weights", "x.npz"]) == 2


def test_track_command_botsort_with_reid_and_camera_motion(tmp_path, capsys):
    """`track --tracker botsort --reid deepsort --weights F --cmc sparse` equals BoTSORT(with_reid=True)
    fed nn.embed's embeddings and CameraMotion's warps; --reid with sort is refused."""
    from scratchvision import BoTSORT, read_mot, read_video, synthetic_sequence
    from scratchvision.cli import main
    from scratchvision.tracking import CameraMotion

    from conftest import write_detections_and_frames

    seq = synthetic_sequence(n_frames=6, size=(96, 128), n_objects=3, seed=4, color=True, background_speed=2.0)
    dets, _, frames_dir = write_detections_and_frames(tmp_path, seq)
    variables = seeded_tf_variables(MANIFEST["deepsort_seed"])
    np.savez(tmp_path / "mars.npz", **variables)
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "botsort", "--param", "appearance_thresh=0.5",
                 "--video", str(frames_dir), "--reid", "deepsort", "--weights", str(tmp_path / "mars.npz"), "--cmc",
                 "sparse", "--out", str(tmp_path / "res.txt")]) == 0
    model = nn.deepsort_reid()
    model.load_state_dict(variables)
    tracker, cmc, rows = BoTSORT(appearance_thresh=0.5, with_reid=True), CameraMotion("sparse"), []
    frames = read_video(frames_dir)  # as the command reads them
    for t in range(6):
        f = dets[dets[:, 0] == t]
        boxes = np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5], f[:, 6]])
        out = tracker.update(boxes, nn.embed(model, frames[t], boxes) + 1e-6, warp=cmc(frames[t], boxes))
        rows += [(t, r[4], r[0], r[1]) for r in out]
    result = read_mot(tmp_path / "res.txt")
    assert len(rows) > 6
    np.testing.assert_allclose(result[:, :4], np.array(rows), atol=1e-4)
    capsys.readouterr()
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "sort", "--video", str(frames_dir), "--reid",
                 "deepsort", "--weights", str(tmp_path / "mars.npz")]) == 2
    assert "--reid is for --tracker deepsort or botsort" in capsys.readouterr().err


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 3), st.integers(1, 5), st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_depthwise_3x3_convolution_equals_its_definition(n, c, h, w, seed):
    """OSNet's depthwise layers take their own kernel (groups = channels, 3x3, stride 1, padding 1)."""
    rs = np.random.RandomState(seed)
    x = rs.standard_normal((n, c, h, w)).astype(np.float32)
    weight = rs.standard_normal((c, 1, 3, 3)).astype(np.float32)
    bias = rs.standard_normal(c).astype(np.float32)
    ours = nn.conv2d(x, weight, bias, 1, 1, groups=c)
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    ref = sum(padded[:, :, j:j + h, k:k + w] * weight[None, :, 0, j, k, None, None] for j in range(3) for k in range(3))
    np.testing.assert_allclose(ours, ref + bias[None, :, None, None], rtol=1e-5, atol=1e-5)
