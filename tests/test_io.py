"""I/O: .flo against cv2, MOTChallenge files, video frames."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import FLOW_PAIRS, MOT15_SEQUENCES, shared_path
from scratchvision.io import (iter_frames, read_flo, read_mot, read_seqinfo, read_video, write_flo,
                              write_mot, write_video)

flows = hnp.arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12), st.just(2)),
                   elements=st.floats(-1e4, 1e4, width=32))


@given(flow=flows)
def test_flo_round_trip_and_cv2_both_ways(cv2, tmp_path_factory, flow):
    d = tmp_path_factory.mktemp("flo")
    ours, theirs = d / "ours.flo", d / "theirs.flo"
    write_flo(ours, flow)
    np.testing.assert_array_equal(read_flo(ours), flow)
    np.testing.assert_array_equal(cv2.readOpticalFlow(str(ours)), flow)
    assert cv2.writeOpticalFlow(str(theirs), flow)
    np.testing.assert_array_equal(read_flo(theirs), flow)
    assert ours.read_bytes() == theirs.read_bytes()


@pytest.mark.parametrize("pair", FLOW_PAIRS)
def test_read_real_flo_equals_cv2(cv2, pair):
    path = shared_path("flow", pair, "flow10.flo")
    ours = read_flo(path)
    ref = cv2.readOpticalFlow(str(path))
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(ours, ref)


def test_read_flo_rejects_bad_files(tmp_path):
    p = tmp_path / "bad.flo"
    p.write_bytes(b"PIEH")
    with pytest.raises(ValueError, match="too short"):
        read_flo(p)
    p.write_bytes(np.array([1.0], "<f4").tobytes() + np.array([2, 2], "<i4").tobytes())
    with pytest.raises(ValueError, match="not a .flo file"):
        read_flo(p)
    p.write_bytes(np.array([202021.25], "<f4").tobytes() + np.array([2, 2], "<i4").tobytes() + b"\0" * 8)
    with pytest.raises(ValueError, match="expected 8 floats"):
        read_flo(p)
    with pytest.raises(ValueError, match=r"flow must have shape \(H, W, 2\)"):
        write_flo(tmp_path / "x.flo", np.zeros((3, 3)))


rows_strategy = st.integers(0, 30).flatmap(lambda n: st.tuples(
    hnp.arrays(np.int64, (n,), elements=st.integers(0, 999)),
    hnp.arrays(np.int64, (n,), elements=st.integers(-1, 500)),
    hnp.arrays(np.float64, (n, 8), elements=st.floats(-1e4, 1e4, allow_subnormal=False)),
))


@given(parts=rows_strategy)
def test_mot_round_trip(parts):
    frames, ids, rest = parts
    rows = np.column_stack([frames, ids, rest]).astype(np.float64)
    buf = io.StringIO()
    write_mot(buf, rows)
    text = buf.getvalue()
    if len(rows):
        assert text.splitlines()[0].split(",")[0] == str(frames[0] + 1)  # 1-based on disk
    back = read_mot(io.StringIO(text))
    if len(rows) == 0:
        assert back.shape[0] == 0
    else:
        np.testing.assert_allclose(back, rows, rtol=1e-9, atol=1e-9)


def test_read_mot_rejects_bad_files():
    with pytest.raises(ValueError, match=">= 6 columns"):
        read_mot(io.StringIO("1,2,3\n"))
    with pytest.raises(ValueError, match="integers >= 1"):
        read_mot(io.StringIO("0,1,1,1,1,1\n"))
    with pytest.raises(ValueError, match="<stream>:1: field 'a' is not a number"):
        read_mot(io.StringIO("a,b,c,d,e,f\n"))
    with pytest.raises(ValueError, match=":3: field 'x' is not a number"):
        read_mot(io.StringIO("1,1,1,1,1,1\n\n2,1,x,1,1,1\n"))
    with pytest.raises(ValueError, match=":2: 5 columns where the first line has 6"):
        read_mot(io.StringIO("1,1,1,1,1,1\n2,1,1,1,1\n"))
    with pytest.raises(ValueError, match=":2: frame numbers must be integers >= 1, got 1.5"):
        read_mot(io.StringIO("1,1,1,1,1,1\n1.5,1,1,1,1,1\n"))
    with pytest.raises(ValueError, match=":1: frame, id and box columns must be finite"):
        read_mot(io.StringIO("1,1,nan,1,1,1\n"))
    with pytest.raises(ValueError, match="frames \\(column 0, 0-based\\) must be integers >= 0"):
        write_mot(io.StringIO(), [[-1, 1, 0, 0, 1, 1]])


@pytest.mark.parametrize("seq", MOT15_SEQUENCES)
def test_read_mot15_files(seq):
    gt = read_mot(shared_path("mot15", seq, "gt", "gt.txt"))
    det = read_mot(shared_path("mot15", seq, "det", "det.txt"))
    info = read_seqinfo(shared_path("mot15", seq))
    assert gt.shape[1] >= 9 and det.shape[1] >= 7
    assert gt[:, 0].min() >= 0 and gt[:, 0].max() <= info["seqLength"] - 1
    assert det[:, 0].max() <= info["seqLength"] - 1
    assert (gt[:, 4] > 0).all() and (det[:, 4] > 0).all()
    # Round trip through our writer gives the file's numbers back.
    buf = io.StringIO()
    write_mot(buf, gt)
    np.testing.assert_allclose(read_mot(io.StringIO(buf.getvalue())), gt, rtol=1e-12)
    # The raw text's first frame is 1-based.
    first = shared_path("mot15", seq, "gt", "gt.txt").read_text().splitlines()[0]
    assert int(float(first.split(",")[0])) == gt[0, 0] + 1


@pytest.fixture
def clip(rng):
    return (rng.random((6, 24, 32, 3)) * 255).astype(np.uint8)


def test_gif_round_trip_and_stride(tmp_path, clip):
    path = write_video(tmp_path / "a.gif", clip, fps=5)
    frames = read_video(path)
    assert frames.shape == clip.shape
    assert np.abs(frames.astype(int) - clip).mean() < 40  # GIF palette quantisation
    assert read_video(path, stride=2, start=1).shape[0] == 3
    assert read_video(path, end=2).shape[0] == 2


def test_mp4_round_trip(tmp_path):
    smooth = np.zeros((5, 32, 48, 3), np.uint8)
    smooth[:, :, :, 0] = np.linspace(0, 255, 48).astype(np.uint8)
    smooth[:, :, :, 1] = 128
    path = write_video(tmp_path / "a.mp4", smooth, fps=10)
    frames = read_video(path)
    assert frames.shape == smooth.shape
    assert np.abs(frames.astype(int) - smooth).mean() < 4


def test_image_folder_array_and_gray(cv2, tmp_path, clip):
    import imageio.v3 as iio

    for i, f in enumerate(clip):
        iio.imwrite(tmp_path / f"{i:03d}.png", f)
    (tmp_path / "notes.txt").write_text("ignored")
    np.testing.assert_array_equal(read_video(tmp_path), clip)
    gray = read_video(clip, gray=True)
    np.testing.assert_array_equal(gray[2], cv2.cvtColor(clip[2], cv2.COLOR_RGB2GRAY))
    assert list(iter_frames(clip[:, :, :, 0]))[0].shape == (24, 32)


def test_video_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(ValueError, match="holds no images"):
        read_video(tmp_path)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        next(iter_frames(np.zeros((2, 4, 4)), stride=0))
    with pytest.raises(TypeError, match="source must be a path or an array"):
        next(iter_frames(3))
    with pytest.raises(ValueError, match="unsupported extension"):
        write_video(tmp_path / "a.xyz", np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="frames must be"):
        write_video(tmp_path / "a.gif", np.zeros((4, 4)))
    with pytest.raises(ValueError, match="fps must be > 0"):
        write_video(tmp_path / "a.gif", np.zeros((2, 4, 4)), fps=0)


@pytest.mark.parametrize("seq", ["Crossing"])
def test_read_otb_image_folder(seq):
    folder = shared_path("video", seq, "img")
    frames = read_video(folder, end=3)
    assert frames.shape[0] == 3 and frames.ndim in (3, 4)
