"""scratchvision.batch: the dataset jobs on a 2-worker Dask LocalCluster give byte-identical
outputs to the serial run; quantised flow equals the quantisation of the flow computed directly;
a worker killed mid-job, an interrupted job and a corrupt video lose nothing; a cluster reached by
address gives the same results; bad input gets a one-line error."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

import scratchvision as sv
from scratchvision import batch, nn
from scratchvision.batch import runner

from conftest import require, shared_path

N_VIDEOS = 3


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    """Three small synthetic colour videos as GIFs, a folder-of-frames video, and a real one."""
    root = tmp_path_factory.mktemp("videos")
    for i in range(N_VIDEOS):
        sv.write_video(root / f"clip{i}.gif", sv.synthetic_sequence(6, (48, 64), 2, seed=i, color=True).frames)
    frames = root / "frames"
    frames.mkdir()
    for t, f in enumerate(sv.synthetic_sequence(5, (40, 56), 1, seed=9, color=True).frames):
        iio.imwrite(frames / f"{t:04d}.png", f)
    crossing = root / "crossing"  # a real video: OTB Crossing's first 6 frames, JPEG files as shipped
    crossing.mkdir()
    for path in sorted(shared_path("video", "Crossing", "img").iterdir())[:6]:
        (crossing / path.name).write_bytes(path.read_bytes())
    return root


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes (one thread each), shared by the tests of this module."""
    distributed = require("distributed")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers cannot import this test module
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def same_tree(a: Path, b: Path):
    """Every output file of ``a`` equal byte for byte in ``b`` (manifests aside: they hold paths)."""
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file() and ".manifests" not in p.parts)
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file() and ".manifests" not in p.parts)
    for f in files:
        assert filecmp.cmp(a / f, b / f, shallow=False), f
    return files


def test_flow_on_the_cluster_equals_serial(videos, client, tmp_path):
    serial = batch.extract_flow(videos, tmp_path / "serial", "farneback", scheduler="serial")
    parallel = batch.extract_flow(videos, tmp_path / "dask", "farneback", scheduler=client)
    assert len(serial.done) == len(parallel.done) == N_VIDEOS + 2 and not parallel.failed
    files = same_tree(tmp_path / "serial", tmp_path / "dask")
    assert sum(f.name.startswith("flow_x_") for f in files) == N_VIDEOS * 5 + 4 + 5  # T - 1 pairs per video
    assert sum(f.name.startswith("img_") for f in files) == N_VIDEOS * 6 + 5 + 6
    assert not list((tmp_path / "dask" / ".partial").iterdir())
    manifest = json.loads((tmp_path / "dask" / ".manifests" / "clip0.json").read_text())
    assert manifest["job"] == "extract_flow" and manifest["params"]["bound"] == 20.0
    assert manifest["inputs"][0]["size"] == (videos / "clip0.gif").stat().st_size and manifest["version"]


def test_quantised_flow_equals_quantising_the_flow(videos, tmp_path):
    report = batch.extract_flow(videos / "clip1.gif", tmp_path, "tvl1", bound=3.0, step=2, write="png",
                                scheduler="serial")
    assert len(report.done) == 1
    frames = sv.read_video(videos / "clip1.gif")
    gray = [sv.rgb_to_gray(f) for f in frames]
    direct = np.stack([sv.calc_optical_flow_tvl1(gray[t], gray[t + 2]) for t in range(len(gray) - 2)])
    q = np.stack([np.stack([iio.imread(tmp_path / "clip1" / f"flow_{c}_{t + 1:05d}.png") for c in "xy"], axis=-1)
                  for t in range(len(direct))])
    np.testing.assert_array_equal(q, batch.quantise_flow(direct, 3.0))  # exact: PNG is lossless
    assert (q == 0).any() and (q == 255).any()  # the bound clips
    read_frames, flows = batch.read_flow_folder(tmp_path / "clip1")
    np.testing.assert_array_equal(read_frames, frames)
    inside = np.abs(direct) < 3.0
    assert np.abs(flows - direct)[inside].max() <= 3.0 / 255 + 1e-6  # half a quantisation step


def test_quantisation_is_denseflows_cast():
    v = np.array([-20.5, -20.0, -19.96, 0.0, 0.0392156862745098, 19.99, 20.0, 20.01, np.float32(2.5)])
    # 255 (v + 20) / 40 rounded half to even, clipped: the CAST macro of denseflow's common.cpp
    expected = [0, 0, 0, 128, 128, 255, 255, 255, 143]
    assert batch.quantise_flow(np.stack([v, v], -1), 20.0)[:, 0].tolist() == expected
    assert batch.quantise_flow(np.array([[0.0784313725490196 - 20, 0.0]]), 20.0).tolist() == [[0, 128]]


def test_raft_flow_equals_calc_optical_flow_raft(tmp_path):
    """method="raft" loads the checkpoint once per worker (nn.load_raft) and writes the flow
    calc_optical_flow_raft gives on the same frames."""
    sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
    from seeded_weights import seeded_state_dict

    info = json.loads((Path(__file__).parent / "fixtures" / "torch_golden" / "raft_manifest.json").read_text())
    info = info["models"]["raft_small"]  # the seeded weights the RAFT parity tests use
    model = nn.raft_small()
    model.load_state_dict(seeded_state_dict(info["layout"], info["seed"]))
    nn.save_safetensors(tmp_path / "raft.safetensors", model.state_dict())
    frames = sv.synthetic_sequence(2, (128, 136), 2, seed=6, color=True).frames
    sv.write_video(tmp_path / "pair.gif", frames)
    report = batch.extract_flow(tmp_path / "pair.gif", tmp_path / "out", "raft", write="npz",
                                raft_weights=tmp_path / "raft.safetensors", scheduler="serial")
    assert len(report.done) == 1
    _, flows = batch.read_flow_folder(tmp_path / "out" / "pair")
    frames = sv.read_video(tmp_path / "pair.gif")  # as the job read them (GIF quantises colours)
    np.testing.assert_array_equal(flows[0], sv.calc_optical_flow_raft(frames[0], frames[1], model))


def test_read_back_feeds_two_stream(videos, tmp_path):
    """Flows written at the network's size and read back are what two_stream_inputs computes,
    to the quantisation step."""
    frames = sv.read_video(videos / "clip2.gif")
    batch.extract_flow(videos / "clip2.gif", tmp_path, "farneback", new_size=(32, 32), write="png",
                       scheduler="serial")
    _, flows = batch.read_flow_folder(tmp_path / "clip2")
    rgb_a, stack_a = nn.two_stream_inputs(frames, flow_length=5, size=32)
    rgb_b, stack_b = nn.two_stream_inputs(frames, flow_length=5, size=32, flows=flows)
    np.testing.assert_array_equal(rgb_a, rgb_b)
    inside = np.abs(stack_a) < 20
    assert np.abs(stack_a - stack_b)[inside].max() <= 20 / 255 + 1e-5


def _kill_once(marker):
    """A flow method that kills the worker process running it the first time it is called."""
    def flow(a, b):
        if not os.path.exists(marker):
            open(marker, "w").close()
            os._exit(1)
        return np.zeros(a.shape[:2] + (2,), np.float32)
    return flow


def test_a_killed_worker_loses_nothing(videos, client, tmp_path):
    method = _kill_once(str(tmp_path / "killed"))
    report = batch.extract_flow(videos, tmp_path / "out", method, scheduler=client)
    assert (tmp_path / "killed").exists()  # a worker did die
    assert len(report.done) == N_VIDEOS + 2 and not report.failed
    reference = batch.extract_flow(videos, tmp_path / "ref", lambda a, b: np.zeros(a.shape[:2] + (2,), np.float32),
                                   scheduler="serial")
    assert len(reference.done) == N_VIDEOS + 2
    same_tree(tmp_path / "ref", tmp_path / "out")
    client.wait_for_workers(2, timeout=30)


def test_interrupted_job_resumes(videos, tmp_path):
    out = tmp_path / "out"
    first = batch.extract_flow(videos / "clip0.gif", out, "farneback", scheduler="serial")
    assert len(first.done) == 1
    stamp = (out / "clip0" / "flow_x_00001.jpg").stat().st_mtime_ns
    # an interrupted run of the others: a half-written folder left behind
    junk = out / ".partial" / f"clip1.{'0123abcd' * 4}"
    junk.mkdir(parents=True)
    (junk / "flow_x_00001.jpg").write_bytes(b"half")
    other = out / ".partial" / f"clip1.v2.{'0' * 32}"  # another video's (named clip1.v2) work in progress
    other.mkdir()
    again = batch.extract_flow(videos, out, "farneback", scheduler="serial")
    assert other.exists()  # not clip1's to remove
    other.rmdir()
    assert [r.name for r in again.skipped] == ["clip0"]
    assert sorted(r.name for r in again.done) == ["clip1", "clip2", "crossing", "frames"]
    assert not list((out / ".partial").iterdir())
    assert (out / "clip0" / "flow_x_00001.jpg").stat().st_mtime_ns == stamp  # not rewritten
    assert len(list((out / "clip1").glob("flow_x_*"))) == 5


def test_other_parameters_never_replace_without_overwrite(videos, tmp_path):
    batch.extract_flow(videos / "clip0.gif", tmp_path, "farneback", scheduler="serial")
    before = (tmp_path / "clip0" / "flow_x_00001.jpg").read_bytes()
    other = batch.extract_flow(videos / "clip0.gif", tmp_path, "farneback", bound=5.0, scheduler="serial")
    assert len(other.failed) == 1 and "overwrite=True" in other.failed[0].error
    assert (tmp_path / "clip0" / "flow_x_00001.jpg").read_bytes() == before
    (tmp_path / "mine").mkdir()  # a folder of the user's own where an output would go
    (tmp_path / "mine" / "keep.txt").write_text("mine")
    mine = tmp_path / "mine.gif"
    mine.write_bytes((videos / "clip1.gif").read_bytes())
    clash = batch.extract_flow(mine, tmp_path, "farneback", scheduler="serial")
    assert len(clash.failed) == 1 and (tmp_path / "mine" / "keep.txt").read_text() == "mine"
    replaced = batch.extract_flow(videos / "clip0.gif", tmp_path, "farneback", bound=5.0, overwrite=True,
                                  scheduler="serial")
    assert len(replaced.done) == 1 and (tmp_path / "clip0" / "flow_x_00001.jpg").read_bytes() != before
    assert json.loads((tmp_path / ".manifests" / "clip0.json").read_text())["params"]["bound"] == 5.0


def test_corrupt_video_is_reported_and_the_others_written(videos, client, tmp_path):
    bad = tmp_path / "in"
    bad.mkdir()
    for i in range(2):
        (bad / f"clip{i}.gif").write_bytes((videos / f"clip{i}.gif").read_bytes())
    (bad / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 not a real video")
    report = batch.extract_flow(bad, tmp_path / "out", "farneback", scheduler=client)
    assert [r.name for r in report.failed] == ["broken"] and report.failed[0].error
    assert sorted(r.name for r in report.done) == ["clip0", "clip1"]
    assert not (tmp_path / "out" / "broken").exists() and not list((tmp_path / "out" / ".partial").iterdir())
    assert "broken" in str(report) and "1 failed" in str(report)


def test_track_dataset_on_mot15(client, tmp_path):
    root = shared_path("mot15")
    seqs = [root / "TUD-Campus", root / "KITTI-17", root / "ETH-Sunnyday"]
    serial = batch.track_dataset(seqs, tmp_path / "serial", "bytetrack", scheduler="serial")
    parallel = batch.track_dataset(seqs, tmp_path / "dask", "bytetrack", scheduler=client)
    assert len(parallel.done) == 3
    same_tree(tmp_path / "serial", tmp_path / "dask")
    for seq in seqs:  # each file is what the tracker gives on its own, written as `scratchvision track` does
        det = sv.read_mot(seq / "det" / "det.txt")
        rows = sv.tracking.track_detections(sv.ByteTrack(), det, num_frames=sv.read_seqinfo(seq)["seqLength"])
        sv.write_mot(tmp_path / "direct.txt", rows, precision=7)
        assert (tmp_path / "direct.txt").read_bytes() == (tmp_path / "dask" / f"{seq.name}.txt").read_bytes()
    expected = sv.evaluate_mot_folder(root, tmp_path / "dask", sequences=[s.name for s in seqs])
    assert parallel.metrics["OVERALL"]["MOTA"] == expected["OVERALL"]["MOTA"]
    assert parallel.metrics["TUD-Campus"]["IDF1"] == serial.metrics["TUD-Campus"]["IDF1"]


def test_classify_videos(videos, client, tmp_path):
    model = nn.r3d_18(num_classes=4)
    rng = np.random.default_rng(0)
    model.load_state_dict({k: (rng.standard_normal(v.shape) * 0.05).astype(v.dtype) if v.dtype.kind == "f"
                           and not k.endswith("running_var") else np.abs(v) + 1 if k.endswith("running_var") else v
                           for k, v in model.state_dict().items()})
    names = ["a", "b", "c", "d"]
    report = batch.classify_videos(videos, model, tmp_path, clip_len=4, top_k=2, class_names=names,
                                   scheduler=client)
    assert len(report.done) == N_VIDEOS + 2
    lines = (tmp_path / "predictions.csv").read_text().splitlines()
    assert lines[0] == "video,rank,label,score" and len(lines) == 1 + 2 * (N_VIDEOS + 2)
    top = nn.classify_video(videos / "clip0.gif", model, clip_len=4, top_k=2, class_names=names)
    assert (tmp_path / "clip0.csv").read_text().splitlines()[1:] == [f"{r},{label},{p:.6f}" for r, (label, p)
                                                                      in enumerate(top, 1)]
    again = batch.classify_videos(videos, model, tmp_path, clip_len=4, top_k=2, class_names=names,
                                  scheduler="serial")
    assert len(again.skipped) == N_VIDEOS + 2
    assert (tmp_path / "predictions.csv").read_text().splitlines() == lines


def test_a_cluster_reached_by_address(videos, tmp_path):
    require("distributed")
    scheduler_file = tmp_path / "scheduler.json"
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                               "--port", "0", "--no-dashboard", "--scheduler-file", str(scheduler_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]
    try:
        for _ in range(300):
            if scheduler_file.exists() and scheduler_file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        procs += [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                                    "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
                  for _ in range(2)]
        remote = batch.extract_flow(videos, tmp_path / "remote", "farneback", scheduler=address)
        assert "tcp://127.0.0.1" in remote.scheduler and len(remote.done) == N_VIDEOS + 2
        batch.extract_flow(videos, tmp_path / "serial", "farneback", scheduler="serial")
        same_tree(tmp_path / "serial", tmp_path / "remote")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def test_without_dask_the_default_runs_serially(videos, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    monkeypatch.setattr(runner, "_TOLD_NO_DASK", [])
    report = batch.extract_flow(videos / "clip0.gif", tmp_path, "farneback")
    assert report.scheduler.startswith("serial") and len(report.done) == 1
    assert "pip install 'scratchvision[dask]'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="scheduler: Dask is not installed"):
        batch.extract_flow(videos / "clip0.gif", tmp_path, "farneback", scheduler="tcp://127.0.0.1:8786")


def test_bad_input(videos, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="videos: no video"):
        batch.extract_flow(tmp_path / "empty", tmp_path / "out", scheduler="serial")
    with pytest.raises(ValueError, match="videos: no video"):
        batch.extract_flow(str(tmp_path / "*.mp4"), tmp_path / "out", scheduler="serial")
    with pytest.raises(ValueError, match="videos: .* does not exist"):
        batch.extract_flow([tmp_path / "missing.mp4"], tmp_path / "out", scheduler="serial")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="out_dir .* is a file"):
        batch.extract_flow(videos, tmp_path / "file", scheduler="serial")
    with pytest.raises(ValueError, match="method"):
        batch.extract_flow(videos, tmp_path / "out", "lucas", scheduler="serial")
    with pytest.raises(ValueError, match="raft_weights"):
        batch.extract_flow(videos, tmp_path / "out", "raft", scheduler="serial")
    with pytest.raises(ValueError, match="tracker"):
        batch.track_dataset(shared_path("mot15", "TUD-Campus"), tmp_path / "t", "kalman", scheduler="serial")
    with pytest.raises(ValueError, match="params"):
        batch.track_dataset(shared_path("mot15", "TUD-Campus"), tmp_path / "t", "sort", {"speed": 1},
                            scheduler="serial")
    with pytest.raises(TypeError, match="scheduler"):
        batch.extract_flow(videos, tmp_path / "out", scheduler=3)
    require("distributed")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="could not reach it within 5 s"):
        batch.extract_flow(videos, tmp_path / "out", scheduler="tcp://127.0.0.1:9")
    assert time.perf_counter() - start < 15
